/*
 * dkim_key.c: key creation and the public key for DNS, with OpenSSL 3
 * (libcrypto, which libopendkim loads in any case).
 */
#include "mta-hooks/dkim_key.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

/* The reason OpenSSL queued for the last failure, or what was being done;
 * empties the thread's error queue. */
static const char *dkim_key_ssl_error(char *buf, size_t size, const char *what)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0) {
		g_strlcpy(buf, what, size);
	} else {
		ERR_error_string_n(e, buf, size);
	}
	ERR_clear_error();
	return buf;
}

/* An encrypted key is not usable by the signer: no passphrase is asked
 * for (OpenSSL would otherwise prompt on the terminal). */
static int dkim_key_no_passphrase(char *buf, int size, int rwflag, void *unused)
{
	return -1;
}

int dkim_key_create(const char *path, char **error_r)
{
	EVP_PKEY *key = NULL;
	BIO *mem = NULL;
	char *pem = NULL, why[256];
	long len;
	int ret;

	if (g_file_test(path, G_FILE_TEST_EXISTS))
		return imi_fail(error_r, IMI_EXISTS, "%s exists already", path);
	/* PKCS#1 ("BEGIN RSA PRIVATE KEY"), as keys made by earlier versions
	 * and by "openssl genrsa -traditional" are written. */
	if ((key = EVP_RSA_gen(DKIM_KEY_BITS)) == NULL || (mem = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_PrivateKey_traditional(mem, key, NULL, NULL, 0, NULL, NULL) ||
	    (len = BIO_get_mem_data(mem, &pem)) <= 0) {
		ret = imi_fail(error_r, IMI_ERROR, "creating the DKIM key: %s",
			       dkim_key_ssl_error(why, sizeof(why), "no key"));
		goto out;
	}
	ret = imi_write_file_atomic(path, pem, (size_t)len, 0600, error_r);
out:
	BIO_free(mem); /* secure memory: cleared on free */
	EVP_PKEY_free(key);
	return ret;
}

int dkim_key_dns_record(const char *path, char **record_r, char **error_r)
{
	EVP_PKEY *key = NULL;
	BIO *in = NULL;
	GError *gerr = NULL;
	gchar *text = NULL, *b64;
	unsigned char *der = NULL;
	char why[256];
	gsize len;
	int ret = IMI_OK, der_len;

	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		ret = imi_fail(error_r, IMI_INVALID, "%s", gerr->message);
		g_error_free(gerr);
		return ret;
	}
	/* PKCS#1 or PKCS#8 PEM; the record publishes the SubjectPublicKeyInfo
	 * (RFC 6376, 3.6.1). */
	if (len > G_MAXINT || (in = BIO_new_mem_buf(text, (int)len)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(in, NULL, dkim_key_no_passphrase, NULL)) == NULL ||
	    (der_len = i2d_PUBKEY(key, &der)) <= 0) {
		ret = imi_fail(error_r, IMI_INVALID, "%s: not a usable private key (%s)", path,
			       dkim_key_ssl_error(why, sizeof(why), "no PEM key"));
		goto out;
	}
	if (!EVP_PKEY_is_a(key, "RSA")) {
		ret = imi_fail(error_r, IMI_INVALID, "%s: not an RSA key", path);
		goto out;
	}
	b64 = g_base64_encode(der, (gsize)der_len);
	*record_r = g_strdup_printf("v=DKIM1; k=rsa; p=%s", b64);
	g_free(b64);
out:
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	BIO_free(in);
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		g_free(text);
	}
	return ret;
}

/*
 * dkim_key.c: key creation and the public key for DNS, with GnuTLS.
 */
#include "mta-hooks/dkim_key.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

int dkim_key_create(const char *path, char **error_r)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t pem = {NULL, 0};
	int ret, gret;

	if (g_file_test(path, G_FILE_TEST_EXISTS))
		return imi_fail(error_r, IMI_EXISTS, "%s exists already", path);
	if ((gret = gnutls_x509_privkey_init(&key)) < 0 ||
	    (gret = gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, DKIM_KEY_BITS, 0)) < 0 ||
	    (gret = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem)) < 0) {
		ret = imi_fail(error_r, IMI_ERROR, "creating the DKIM key: %s",
			       gnutls_strerror(gret));
		goto out;
	}
	ret = imi_write_file_atomic(path, pem.data, pem.size, 0600, error_r);
out:
	if (pem.data != NULL) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
	}
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return ret;
}

int dkim_key_dns_record(const char *path, char **record_r, char **error_r)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_privkey_t abstract = NULL;
	gnutls_datum_t pem = {NULL, 0}, der = {NULL, 0};
	GError *gerr = NULL;
	gchar *text = NULL, *b64;
	gsize len;
	int ret = IMI_OK, gret;

	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		ret = imi_fail(error_r, IMI_INVALID, "%s", gerr->message);
		g_error_free(gerr);
		return ret;
	}
	pem.data = (unsigned char *)text;
	pem.size = (unsigned)len;
	if ((gret = gnutls_x509_privkey_init(&key)) < 0 ||
	    (gret = gnutls_x509_privkey_import(key, &pem, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (gret = gnutls_privkey_init(&abstract)) < 0 ||
	    (gret = gnutls_privkey_import_x509(abstract, key, 0)) < 0 ||
	    (gret = gnutls_pubkey_init(&pub)) < 0 ||
	    (gret = gnutls_pubkey_import_privkey(pub, abstract, 0, 0)) < 0 ||
	    (gret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der)) < 0) {
		ret = imi_fail(error_r, IMI_INVALID, "%s: not a usable private key (%s)", path,
			       gnutls_strerror(gret));
		goto out;
	}
	if (gnutls_x509_privkey_get_pk_algorithm(key) != GNUTLS_PK_RSA) {
		ret = imi_fail(error_r, IMI_INVALID, "%s: not an RSA key", path);
		goto out;
	}
	b64 = g_base64_encode(der.data, der.size);
	*record_r = g_strdup_printf("v=DKIM1; k=rsa; p=%s", b64);
	g_free(b64);
out:
	if (der.data != NULL)
		gnutls_free(der.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (abstract != NULL)
		gnutls_privkey_deinit(abstract); /* imported without AUTO_RELEASE */
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (text != NULL) {
		memset(text, 0, len);
		g_free(text);
	}
	return ret;
}

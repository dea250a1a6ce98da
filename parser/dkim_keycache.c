/*
 * dkim_keycache: decoded DKIM public keys kept per process.
 *
 * What it does: libopendkim turns the p= of a key record into an OpenSSL
 * key with d2i_PUBKEY_bio for every signature it verifies.  With OpenSSL 3.0
 * that call builds a new decoder context each time, walking every decoder
 * of every provider: about a million instructions, five times the RSA
 * verification itself.  A long-running verifier (the milter) sees the same
 * few keys again and again, so this file defines d2i_PUBKEY_bio in the
 * program, ahead of libcrypto in the dynamic linker's order: a key whose DER
 * bytes were decoded before is given again (one more reference to the same
 * EVP_PKEY), any other call goes to libcrypto's own function.
 *
 * How it fails: never differently from libcrypto: a key it cannot decode is
 * not kept and libcrypto's answer (NULL) is returned.  Only memory BIOs read
 * from their start with no object to reuse (how libopendkim calls it) are
 * looked up; every other call passes through unchanged.
 *
 * What it trusts: that an EVP_PKEY is safe to share between threads for
 * verification (OpenSSL 3: keys are read-only once made; libopendkim frees
 * its reference with EVP_PKEY_free), and that equal DER bytes decode to
 * equal keys.  At most DKIM_KEYCACHE_MAX keys of at most DKIM_KEYCACHE_DER_MAX
 * bytes are kept; when full the cache is emptied.
 */
#include <dlfcn.h>
#include <glib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "parser/dkim.h"

#define DKIM_KEYCACHE_MAX 256
#define DKIM_KEYCACHE_DER_MAX 8192 /* an RSA-8192 SubjectPublicKeyInfo is ~1 KB */

typedef EVP_PKEY *d2i_pubkey_bio_fn(BIO *bp, EVP_PKEY **a);

static GMutex keycache_lock;
static GHashTable *keycache; /* GBytes (DER) -> EVP_PKEY (one reference) */

static d2i_pubkey_bio_fn *keycache_real(void)
{
	static gsize once;
	static d2i_pubkey_bio_fn *real;

	if (g_once_init_enter(&once)) {
		real = (d2i_pubkey_bio_fn *)dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
		g_once_init_leave(&once, 1);
	}
	return real;
}

static void keycache_key_free(gpointer p)
{
	EVP_PKEY_free(p);
}

EVP_PKEY *d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	d2i_pubkey_bio_fn *real = keycache_real();
	EVP_PKEY *key;
	GBytes *der;
	char *data = NULL;
	long n;

	if (real == NULL)
		return NULL; /* libcrypto is not loaded: nothing could decode it */
	if (a != NULL || bp == NULL || BIO_method_type(bp) != BIO_TYPE_MEM ||
	    (n = BIO_get_mem_data(bp, &data)) <= 0 || n > DKIM_KEYCACHE_DER_MAX)
		return real(bp, a);
	der = g_bytes_new(data, (gsize)n);
	g_mutex_lock(&keycache_lock);
	key = keycache != NULL ? g_hash_table_lookup(keycache, der) : NULL;
	if (key != NULL && EVP_PKEY_up_ref(key) == 1) {
		g_mutex_unlock(&keycache_lock);
		g_bytes_unref(der);
		return key;
	}
	g_mutex_unlock(&keycache_lock);
	if ((key = real(bp, NULL)) == NULL || EVP_PKEY_up_ref(key) != 1) {
		g_bytes_unref(der);
		return key;
	}
	g_mutex_lock(&keycache_lock);
	if (keycache == NULL)
		keycache = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
						 (GDestroyNotify)g_bytes_unref,
						 keycache_key_free);
	else if (g_hash_table_size(keycache) >= DKIM_KEYCACHE_MAX)
		g_hash_table_remove_all(keycache);
	g_hash_table_replace(keycache, der, key);
	g_mutex_unlock(&keycache_lock);
	return key;
}

unsigned dkim_keycache_count(void)
{
	unsigned n;

	g_mutex_lock(&keycache_lock);
	n = keycache != NULL ? g_hash_table_size(keycache) : 0;
	g_mutex_unlock(&keycache_lock);
	return n;
}

void dkim_keycache_clear(void)
{
	g_mutex_lock(&keycache_lock);
	g_clear_pointer(&keycache, g_hash_table_unref);
	g_mutex_unlock(&keycache_lock);
}

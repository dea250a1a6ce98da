/*
 * seal.c: personal data encrypted at rest with a key per case.
 *
 * A case key is 32 random bytes, stored in keys.db wrapped (XChaCha20-
 * Poly1305) by the master key, with the key id as associated data so a
 * wrapped key cannot be moved to another case.  Sealed data is base64 of
 * nonce + ciphertext, again with the key id as associated data.
 *
 * Destruction: the wrapped key is first overwritten in place with zeros of
 * the same length (so the database page no longer holds it), then deleted.
 * The log records of its creation and of the overwrite still hold it until
 * store_purge_logs has moved the log to a new file, checkpointed, and
 * removed every file recovery no longer needs.
 */
#include "store/store_int.h"

#include <string.h>

#define SEAL_KEY crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define SEAL_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_WRAPPED (SEAL_NONCE + SEAL_KEY + SEAL_TAG)

int store_key_create(struct store_txn *txn, const char *key_id,
		     char **error_r)
{
	unsigned char key[SEAL_KEY], wrapped[SEAL_WRAPPED];
	int ret;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(wrapped, SEAL_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		wrapped + SEAL_NONCE, NULL, key, sizeof(key),
		(const unsigned char *)key_id, strlen(key_id), NULL, wrapped,
		txn->store->master);
	sodium_memzero(key, sizeof(key));
	ret = store_put(txn, STORE_KEYS, key_id, strlen(key_id), wrapped,
			sizeof(wrapped), STORE_PUT_NEW, error_r);
	return ret;
}

static int seal_key_get(struct store_txn *txn, const char *key_id,
			unsigned char key[SEAL_KEY], char **error_r)
{
	void *wrapped = NULL;
	size_t len;
	int ret;

	ret = store_get(txn, STORE_KEYS, key_id, strlen(key_id), 0, &wrapped,
			&len, error_r);
	if (ret == IMI_NOTFOUND)
		return imi_fail(error_r, IMI_NOTFOUND,
				"no key for %s: its personal data was deleted",
				key_id);
	if (ret != IMI_OK)
		return ret;
	if (len != SEAL_WRAPPED ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(
		    key, NULL, NULL, (unsigned char *)wrapped + SEAL_NONCE,
		    SEAL_KEY + SEAL_TAG, (const unsigned char *)key_id,
		    strlen(key_id), wrapped, txn->store->master) != 0) {
		g_free(wrapped);
		return imi_fail(error_r, IMI_ERROR,
				"the key of %s does not open with the master key",
				key_id);
	}
	g_free(wrapped);
	return IMI_OK;
}

int store_seal(struct store_txn *txn, const char *key_id, const void *plain,
	       size_t len, char **sealed_r, char **error_r)
{
	unsigned char key[SEAL_KEY];
	unsigned char *box;
	int ret;

	if ((ret = seal_key_get(txn, key_id, key, error_r)) != IMI_OK)
		return ret;
	box = g_malloc(SEAL_NONCE + len + SEAL_TAG);
	randombytes_buf(box, SEAL_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		box + SEAL_NONCE, NULL, plain, len, (const unsigned char *)key_id,
		strlen(key_id), NULL, box, key);
	sodium_memzero(key, sizeof(key));
	*sealed_r = g_base64_encode(box, SEAL_NONCE + len + SEAL_TAG);
	g_free(box);
	return IMI_OK;
}

int store_unseal(struct store_txn *txn, const char *key_id,
		 const char *sealed, void **plain_r, size_t *len_r,
		 char **error_r)
{
	unsigned char key[SEAL_KEY];
	unsigned char *box, *plain;
	gsize box_len;
	int ret;

	if ((ret = seal_key_get(txn, key_id, key, error_r)) != IMI_OK)
		return ret;
	box = g_base64_decode(sealed, &box_len);
	if (box_len < SEAL_NONCE + SEAL_TAG) {
		sodium_memzero(key, sizeof(key));
		g_free(box);
		return imi_fail(error_r, IMI_ERROR, "damaged sealed data of %s",
				key_id);
	}
	/* One spare byte so text comes back NUL-terminated. */
	plain = g_malloc(box_len - SEAL_NONCE - SEAL_TAG + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    plain, NULL, NULL, box + SEAL_NONCE, box_len - SEAL_NONCE,
		    (const unsigned char *)key_id, strlen(key_id), box, key) != 0) {
		sodium_memzero(key, sizeof(key));
		g_free(box);
		g_free(plain);
		return imi_fail(error_r, IMI_ERROR,
				"sealed data of %s does not open with its key",
				key_id);
	}
	sodium_memzero(key, sizeof(key));
	plain[box_len - SEAL_NONCE - SEAL_TAG] = '\0';
	*plain_r = plain;
	if (len_r != NULL)
		*len_r = box_len - SEAL_NONCE - SEAL_TAG;
	g_free(box);
	return IMI_OK;
}

int store_key_destroy(struct store_txn *txn, const char *key_id,
		      char **error_r)
{
	unsigned char zeros[SEAL_WRAPPED] = {0};
	void *old = NULL;
	size_t len;
	int ret;

	ret = store_get(txn, STORE_KEYS, key_id, strlen(key_id), STORE_GET_RMW,
			&old, &len, error_r);
	if (ret != IMI_OK)
		return ret;
	g_free(old);
	/* Same length: Berkeley DB replaces the item in place on its page. */
	ret = store_put(txn, STORE_KEYS, key_id, strlen(key_id), zeros,
			sizeof(zeros), 0, error_r);
	if (ret == IMI_OK)
		ret = store_del(txn, STORE_KEYS, key_id, strlen(key_id), error_r);
	return ret;
}

int store_purge_logs(struct store *store, char **error_r)
{
	DB_ENV *env = store->env;
	DB_LOG_STAT *st = NULL;
	DB_LSN lsn;
	DBT pad;
	u_int32_t file_before, size, offset;
	char **list = NULL;
	int err, ret = IMI_OK;

	if ((err = env->log_flush(env, NULL)) != 0 ||
	    (err = env->log_stat(env, &st, 0)) != 0)
		return store_db_fail(NULL, err, error_r, "log");
	file_before = st->st_cur_file;
	size = st->st_lg_size;
	offset = st->st_cur_offset;
	free(st);
	/* A record larger than what is left of the current file starts a new
	 * one.  It is zeros: nothing of the old data. */
	memset(&pad, 0, sizeof(pad));
	pad.size = size > offset ? size - offset + 1 : 1;
	pad.data = g_malloc0(pad.size);
	err = env->log_put(env, &lsn, &pad, DB_FLUSH);
	g_free(pad.data);
	if (err != 0)
		return store_db_fail(NULL, err, error_r, "log switch");
	/* Two checkpoints: the second one's LSN lies in the new file. */
	if ((err = env->txn_checkpoint(env, 0, 0, DB_FORCE)) != 0 ||
	    (err = env->txn_checkpoint(env, 0, 0, DB_FORCE)) != 0)
		return store_db_fail(NULL, err, error_r, "checkpoint");
	if ((err = env->log_archive(env, NULL, DB_ARCH_REMOVE)) != 0)
		return store_db_fail(NULL, err, error_r, "log removal");
	/* What is still there must be newer than the file that held the key. */
	if ((err = env->log_archive(env, &list, DB_ARCH_LOG)) != 0)
		return store_db_fail(NULL, err, error_r, "log list");
	for (char **p = list; p != NULL && *p != NULL; p++) {
		const char *dot = strrchr(*p, '.');
		unsigned long n = dot != NULL ? strtoul(dot + 1, NULL, 10) : 0;
		if (n <= file_before) {
			ret = imi_fail(error_r, IMI_TEMPFAIL,
				       "log file %s is still needed by a running "
				       "transaction; deletion completes at the next tick",
				       *p);
			break;
		}
	}
	free(list);
	return ret;
}

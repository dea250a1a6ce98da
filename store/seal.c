/*
 * seal.c: personal data encrypted at rest with a key per case.
 *
 * A case key is 32 random bytes, wrapped (XChaCha20-Poly1305) by the master
 * key with the key id as associated data, so a wrapped key cannot be moved
 * to another case.  Sealed data is base64 of nonce + ciphertext, again with
 * the key id as associated data.
 *
 * Where the wrapped key lies: in a slot of keyslots.db, a Queue database of
 * fixed-length records, and keys.db maps the key id to the slot number.
 * A Queue record stays at its place on its page for ever.  A B-tree does
 * not: deleting or adding an item moves its neighbours on the page and
 * leaves the old bytes in the page's free space, so a key kept in a B-tree
 * could outlive its destruction as a stale copy made when another key was
 * deleted next to it.  keys.db now holds only slot numbers, which are no
 * secret.  (Homes made before key slots hold wrapped keys in keys.db
 * itself; they are read and destroyed as before.)
 *
 * Destruction: the slot is overwritten in place with zeros and stays (a
 * slot is never reused), and the key id goes from keys.db.  The log
 * records of the key's creation and of the overwrite still hold it until
 * store_purge_logs has moved the log to a new file, checkpointed, and
 * removed every file recovery no longer needs.
 */
#include "store/store_int.h"

#include <string.h>

#define SEAL_KEY crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define SEAL_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_WRAPPED STORE_WRAPPED_KEY_BYTES
#define SEAL_SLOT_BYTES 4 /* a slot number in keys.db, big-endian */

static int seal_slot_put(struct store_txn *txn, db_recno_t *slot,
			 const unsigned char wrapped[SEAL_WRAPPED], int append,
			 char **error_r)
{
	DB *db = txn->store->dbs[STORE_KEYSLOTS];
	DBT k, v;
	int err;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = slot;
	k.size = sizeof(*slot);
	k.ulen = sizeof(*slot);
	k.flags = DB_DBT_USERMEM;
	v.data = (void *)wrapped;
	v.size = SEAL_WRAPPED;
	err = db->put(db, txn->txn, &k, &v, append ? DB_APPEND : 0);
	return err == 0 ? IMI_OK : store_db_fail(txn, err, error_r, "keyslots.db");
}

static int seal_slot_get(struct store_txn *txn, db_recno_t slot,
			 unsigned char wrapped[SEAL_WRAPPED], char **error_r)
{
	DB *db = txn->store->dbs[STORE_KEYSLOTS];
	DBT k, v;
	int err;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = &slot;
	k.size = sizeof(slot);
	v.data = wrapped;
	v.ulen = SEAL_WRAPPED;
	v.flags = DB_DBT_USERMEM;
	err = db->get(db, txn->txn, &k, &v, 0);
	if (err == 0 && v.size != SEAL_WRAPPED)
		return imi_fail(error_r, IMI_ERROR, "key slot %u is damaged", (unsigned)slot);
	return err == 0 ? IMI_OK : store_db_fail(txn, err, error_r, "keyslots.db");
}

static db_recno_t seal_slot_number(const unsigned char *p)
{
	return (db_recno_t)p[0] << 24 | (db_recno_t)p[1] << 16 | (db_recno_t)p[2] << 8 | p[3];
}

int store_key_create(struct store_txn *txn, const char *key_id,
		     char **error_r)
{
	unsigned char key[SEAL_KEY], wrapped[SEAL_WRAPPED], number[SEAL_SLOT_BYTES];
	db_recno_t slot = 0;
	int ret;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(wrapped, SEAL_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		wrapped + SEAL_NONCE, NULL, key, sizeof(key),
		(const unsigned char *)key_id, strlen(key_id), NULL, wrapped,
		txn->store->master);
	sodium_memzero(key, sizeof(key));
	ret = seal_slot_put(txn, &slot, wrapped, 1, error_r);
	sodium_memzero(wrapped, sizeof(wrapped));
	if (ret != IMI_OK)
		return ret;
	number[0] = (unsigned char)(slot >> 24);
	number[1] = (unsigned char)(slot >> 16);
	number[2] = (unsigned char)(slot >> 8);
	number[3] = (unsigned char)slot;
	return store_put(txn, STORE_KEYS, key_id, strlen(key_id), number,
			 sizeof(number), STORE_PUT_NEW, error_r);
}

/* The wrapped key of key_id, from its slot (or, in an old home, keys.db). */
static int seal_wrapped_get(struct store_txn *txn, const char *key_id,
			    unsigned flags, unsigned char wrapped[SEAL_WRAPPED],
			    db_recno_t *slot_r, char **error_r)
{
	static const unsigned char zeros[SEAL_WRAPPED];
	void *value = NULL;
	size_t len;
	int ret;

	*slot_r = 0;
	ret = store_get(txn, STORE_KEYS, key_id, strlen(key_id), flags, &value,
			&len, error_r);
	if (ret == IMI_NOTFOUND)
		return imi_fail(error_r, IMI_NOTFOUND,
				"no key for %s: its personal data was deleted",
				key_id);
	if (ret != IMI_OK)
		return ret;
	if (len == SEAL_SLOT_BYTES) {
		*slot_r = seal_slot_number(value);
		ret = seal_slot_get(txn, *slot_r, wrapped, error_r);
		if (ret == IMI_OK && sodium_memcmp(wrapped, zeros, SEAL_WRAPPED) == 0)
			ret = imi_fail(error_r, IMI_NOTFOUND,
				       "no key for %s: its personal data was deleted", key_id);
	} else if (len == SEAL_WRAPPED)
		memcpy(wrapped, value, SEAL_WRAPPED);
	else
		ret = imi_fail(error_r, IMI_ERROR, "the key record of %s is damaged", key_id);
	g_free(value);
	return ret;
}

int store_seal_key(struct store_txn *txn, const char *key_id,
		   unsigned char key[SEAL_KEY], char **error_r)
{
	unsigned char wrapped[SEAL_WRAPPED];
	db_recno_t slot;
	int ret;

	if ((ret = seal_wrapped_get(txn, key_id, 0, wrapped, &slot, error_r)) != IMI_OK)
		return ret;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    key, NULL, NULL, wrapped + SEAL_NONCE, SEAL_KEY + SEAL_TAG,
		    (const unsigned char *)key_id, strlen(key_id), wrapped,
		    txn->store->master) != 0)
		ret = imi_fail(error_r, IMI_ERROR,
			       "the key of %s does not open with the master key", key_id);
	sodium_memzero(wrapped, sizeof(wrapped));
	return ret;
}

int store_seal(struct store_txn *txn, const char *key_id, const void *plain,
	       size_t len, char **sealed_r, char **error_r)
{
	unsigned char key[SEAL_KEY];
	unsigned char *box;
	int ret;

	if ((ret = store_seal_key(txn, key_id, key, error_r)) != IMI_OK)
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

	if ((ret = store_seal_key(txn, key_id, key, error_r)) != IMI_OK)
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
	unsigned char zeros[SEAL_WRAPPED] = {0}, wrapped[SEAL_WRAPPED];
	db_recno_t slot;
	int ret;

	ret = seal_wrapped_get(txn, key_id, STORE_GET_RMW, wrapped, &slot, error_r);
	sodium_memzero(wrapped, sizeof(wrapped));
	if (ret == IMI_NOTFOUND && slot != 0) {
		/* Slot already zeroed: only the index entry is left. */
		g_free(*error_r);
		*error_r = NULL;
		ret = IMI_OK;
	}
	if (ret != IMI_OK)
		return ret;
	if (slot != 0)
		/* A Queue record is overwritten where it lies. */
		ret = seal_slot_put(txn, &slot, zeros, 0, error_r);
	else
		/* A key of an old home, in keys.db itself: same length, so
		 * Berkeley DB replaces the item in place on its page. */
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

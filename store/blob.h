/*
 * store/blob: a large sealed value (the raw bytes of a stored message) kept
 * as records of its own in blobs.db, one chunk at a time, never as one
 * piece of ciphertext or base64 text in memory or inside a JSON record.
 *
 * What it does: blob_put seals the bytes under a case key (the key id of
 * store_seal) with libsodium's secretstream (XChaCha20-Poly1305), in chunks
 * of BLOB_CHUNK_BYTES, and writes a header record and one record per chunk
 * in the caller's transaction, so a blob is either all there or not at all;
 * the caller names the blob (its id) in its own record.  blob_get opens it
 * whole; blob_delete removes every record of it.  Destroying the case key
 * (store_key_destroy) makes every chunk unreadable wherever it still lies.
 *
 * Records (docs/store.md): key = blob id (8 bytes, big-endian) + chunk
 * number (4 bytes, big-endian).  Chunk 0 is the header: format version (1
 * byte, 1), chunk size (4 bytes BE), length of the bytes (8 bytes BE),
 * number of chunks (4 bytes BE), secretstream header (24 bytes).  Chunks 1..n
 * are the secretstream messages, each the chunk's bytes plus 17 bytes; the
 * last one, and only it, carries the final tag.  The associated data of
 * every chunk is the key id, a NUL and the blob id, so a chunk cannot be
 * moved to another blob or case.  The stream key is derived from the case
 * key (crypto_kdf, context "imi-blob"), never the case key itself.
 *
 * How it fails: store errors as the store's (IMI_TEMPFAIL, IMI_NOTFOUND);
 * a missing, damaged, reordered, cut or foreign chunk is IMI_ERROR ("damaged
 * blob"), and nothing of it is handed out.  A destroyed key is IMI_NOTFOUND.
 *
 * What it trusts: nothing in blobs.db beyond what opens with the key; the
 * header's numbers are bounded (BLOB_MAX_CHUNKS) before anything is
 * allocated from them.
 */
#ifndef IMI_STORE_BLOB_H
#define IMI_STORE_BLOB_H

#include "store/store.h"

#define BLOB_CHUNK_BYTES (1024 * 1024) /* bytes sealed per chunk record */
#define BLOB_MAX_CHUNKS 16384          /* chunks of one blob read or deleted, at most
					* (16 GB at the chunk size above) */

/* Seals len bytes under key_id as a new blob; *id_r names it. */
int blob_put(struct store_txn *txn, const char *key_id, const void *data, size_t len,
	     uint64_t *id_r, char **error_r);
/* The bytes of blob id, opened with key_id's key: *data_r (g_malloc'd, one
 * spare NUL byte after them; wipe and g_free) and *len_r. */
int blob_get(struct store_txn *txn, const char *key_id, uint64_t id, void **data_r,
	     size_t *len_r, char **error_r);
/* Removes every record of blob id; IMI_NOTFOUND when it has none. */
int blob_delete(struct store_txn *txn, uint64_t id, char **error_r);

/* Records that keep sealed raw bytes (messages): the member that names
 * their blob, and the one with their length. */
#define BLOB_MEMBER "raw_blob"
#define BLOB_MEMBER_BYTES "raw_bytes"
/* The raw bytes a record keeps sealed under its "key": from the blob that
 * BLOB_MEMBER names, or, in a record written before blobs, from its
 * "sealed_raw" text.  Same result as blob_get. */
int blob_record_raw(struct store_txn *txn, JsonObject *record, void **raw_r, size_t *len_r,
		    char **error_r);
/* The same, for a reader that needs only the start (a message's header):
 * at least the first head_bytes bytes (whole chunks, so up to
 * BLOB_CHUNK_BYTES more; all when there are fewer), each chunk checked as
 * blob_get checks it, the rest not read.  A record of the older form is
 * opened whole. */
int blob_record_head(struct store_txn *txn, JsonObject *record, size_t head_bytes,
		     void **raw_r, size_t *len_r, char **error_r);
/* Removes the blob a record names, if any (IMI_OK when it names none or it
 * is already gone). */
int blob_record_forget(struct store_txn *txn, JsonObject *record, char **error_r);

/* For store_check: every blob whole (a header, chunks 1..n and nothing
 * else) and named by exactly one message, and every blob a message names
 * present.  Appends what it finds to report, adds to *problems_r. */
int blob_check(struct store_txn *txn, GString *report, unsigned *problems_r, char **error_r);

#endif

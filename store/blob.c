/*
 * blob.c: large sealed values in chunk records of blobs.db (blob.h).
 *
 * Memory: writing holds one chunk of ciphertext (BLOB_CHUNK_BYTES + 17)
 * besides the caller's bytes; reading holds the opened bytes and one chunk
 * of ciphertext.  Berkeley DB copies each chunk into its cache pages (an
 * overflow item) and the log, both bounded by the environment's settings.
 */
#include "store/blob.h"
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define BLOB_VERSION 1
#define BLOB_KEY_BYTES 12                /* blob id (8) + chunk number (4) */
#define BLOB_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define BLOB_STREAM_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define BLOB_HEADER_BYTES (1 + 4 + 8 + 4 + BLOB_STREAM_HEADER)
#define BLOB_MAX_CHUNK_BYTES (16 * 1024 * 1024) /* largest chunk size a header may name */
#define BLOB_KDF_CONTEXT "imi-blob"      /* crypto_kdf_CONTEXTBYTES (8) characters */
#define BLOB_KDF_ID 1

G_STATIC_ASSERT(sizeof(BLOB_KDF_CONTEXT) - 1 == crypto_kdf_CONTEXTBYTES);
G_STATIC_ASSERT(crypto_secretstream_xchacha20poly1305_KEYBYTES ==
		crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

struct blob_header {
	uint32_t chunk_bytes;  /* bytes per chunk but the last */
	uint64_t length;       /* bytes of the whole */
	uint32_t chunks;       /* chunk records, 1..BLOB_MAX_CHUNKS */
	unsigned char stream[BLOB_STREAM_HEADER];
	int cut;               /* only the first chunks are read (blob_get_head) */
};

static void blob_put_u32(unsigned char *p, uint32_t n)
{
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
}

static uint32_t blob_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void blob_key(uint64_t id, uint32_t chunk, unsigned char key[BLOB_KEY_BYTES])
{
	store_key_u64(id, key);
	blob_put_u32(key + 8, chunk);
}

static void blob_header_encode(const struct blob_header *h, unsigned char out[BLOB_HEADER_BYTES])
{
	out[0] = BLOB_VERSION;
	blob_put_u32(out + 1, h->chunk_bytes);
	store_key_u64(h->length, out + 5);
	blob_put_u32(out + 13, h->chunks);
	memcpy(out + 17, h->stream, BLOB_STREAM_HEADER);
}

/* Reads and bounds a header; IMI_ERROR when it cannot be one. */
static int blob_header_decode(const unsigned char *in, size_t len, uint64_t id,
			      struct blob_header *h, char **error_r)
{
	uint64_t most;

	if (len != BLOB_HEADER_BYTES || in[0] != BLOB_VERSION)
		return imi_fail(error_r, IMI_ERROR, "damaged blob %" G_GUINT64_FORMAT
				": its header has %zu bytes or an unknown version", id, len);
	h->chunk_bytes = blob_get_u32(in + 1);
	h->length = store_key_u64_get(in + 5);
	h->chunks = blob_get_u32(in + 13);
	memcpy(h->stream, in + 17, BLOB_STREAM_HEADER);
	h->cut = 0;
	if (h->chunk_bytes == 0 || h->chunk_bytes > BLOB_MAX_CHUNK_BYTES || h->chunks == 0 ||
	    h->chunks > BLOB_MAX_CHUNKS)
		return imi_fail(error_r, IMI_ERROR, "damaged blob %" G_GUINT64_FORMAT
				": %u chunks of %u bytes is out of bounds", id, h->chunks,
				h->chunk_bytes);
	most = (uint64_t)h->chunks * h->chunk_bytes;
	if (h->length > most || (h->chunks > 1 && h->length <= most - h->chunk_bytes) ||
	    h->length > SIZE_MAX - 1)
		return imi_fail(error_r, IMI_ERROR, "damaged blob %" G_GUINT64_FORMAT
				": %" G_GUINT64_FORMAT " bytes do not fill %u chunks of %u",
				id, h->length, h->chunks, h->chunk_bytes);
	return IMI_OK;
}

/* The stream key of a blob sealed under key_id: derived from the case key,
 * so the case key itself only ever seals with store_seal's construction. */
static int blob_stream_key(struct store_txn *txn, const char *key_id,
			   unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES],
			   char **error_r)
{
	unsigned char master[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	int ret;

	if ((ret = store_seal_key(txn, key_id, master, error_r)) != IMI_OK)
		return ret;
	crypto_kdf_derive_from_key(key, crypto_secretstream_xchacha20poly1305_KEYBYTES,
				   BLOB_KDF_ID, BLOB_KDF_CONTEXT, master);
	sodium_memzero(master, sizeof(master));
	return IMI_OK;
}

/* Memory: every chunk passes through Berkeley DB's cache, whose pages
 * lie in the shared region file db/__db.NNN that each process maps.  A
 * blob larger than the cache touches all of it, and each page this process
 * touched counts in its resident set although the cache is one for all
 * processes and bounded (STORE_CACHE_BYTES).  So after each chunk of a
 * blob of several, this process drops its own mappings of the region
 * pages (MADV_DONTNEED): for a shared file mapping that changes nothing
 * of the data (the pages stay in the page cache and the next touch maps
 * them again), only what this process holds mapped.  The region's
 * addresses come from /proc/self/maps, read and used under reopen_lock,
 * so no reopen (store.c), the only thing that unmaps a region while the
 * store is open, runs between the reading and the madvise. */
#define BLOB_MAX_MAP_LINES 100000 /* lines of /proc/self/maps read */

static void blob_cache_release(struct store *store)
{
	char *prefix = g_build_filename(store->dbdir, "__db.", NULL);
	char line[4096];
	FILE *maps;

	g_mutex_lock(&store->reopen_lock);
	if ((maps = fopen("/proc/self/maps", "re")) != NULL) {
		for (unsigned n = 0; n < BLOB_MAX_MAP_LINES && fgets(line, sizeof(line), maps);
		     n++) {
			unsigned long start, end;
			char perms[8];
			char *path = strchr(line, '/');

			if (path == NULL || !g_str_has_prefix(path, prefix) ||
			    sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 ||
			    end <= start || perms[3] != 's')
				continue;
			(void)madvise((void *)start, end - start, MADV_DONTNEED);
		}
		fclose(maps);
	}
	g_mutex_unlock(&store->reopen_lock);
	g_free(prefix);
}

/* The associated data of every chunk: key id, NUL, blob id. */
static unsigned char *blob_ad(const char *key_id, uint64_t id, size_t *len_r)
{
	size_t kl = strlen(key_id);
	unsigned char *ad = g_malloc(kl + 1 + 8);

	memcpy(ad, key_id, kl + 1);
	store_key_u64(id, ad + kl + 1);
	*len_r = kl + 1 + 8;
	return ad;
}

/* One record into a buffer of the caller: *size_r bytes of it.  A record
 * larger than cap is damaged (IMI_ERROR). */
static int blob_record_read(struct store_txn *txn, uint64_t id, uint32_t chunk, void *buf,
			    size_t cap, size_t *size_r, char **error_r)
{
	DB *db = txn->store->dbs[STORE_BLOBS];
	unsigned char kb[BLOB_KEY_BYTES];
	DBT k, v;
	int err;

	blob_key(id, chunk, kb);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = kb;
	k.size = sizeof(kb);
	v.data = buf;
	v.ulen = (u_int32_t)cap;
	v.flags = DB_DBT_USERMEM;
	err = db->get(db, txn->txn, &k, &v, 0);
	if (err == DB_BUFFER_SMALL)
		return imi_fail(error_r, IMI_ERROR, "damaged blob %" G_GUINT64_FORMAT
				": record %u has %u bytes, more than %zu", id, chunk, v.size, cap);
	if (err == DB_NOTFOUND && chunk > 0)
		return imi_fail(error_r, IMI_ERROR, "damaged blob %" G_GUINT64_FORMAT
				": chunk %u is missing", id, chunk);
	if (err == DB_NOTFOUND)
		return imi_fail(error_r, IMI_NOTFOUND, "no blob %" G_GUINT64_FORMAT, id);
	if (err != 0)
		return store_db_fail(txn, err, error_r, "blobs.db");
	*size_r = v.size;
	return IMI_OK;
}

int blob_put(struct store_txn *txn, const char *key_id, const void *data, size_t len,
	     uint64_t *id_r, char **error_r)
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char head[BLOB_HEADER_BYTES], kb[BLOB_KEY_BYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	struct blob_header h = {BLOB_CHUNK_BYTES, len, 0, {0}, 0};
	unsigned char *box = NULL, *ad = NULL;
	size_t ad_len = 0, off = 0;
	uint64_t id;
	int ret;

	h.chunks = len == 0 ? 1 : (uint32_t)MIN((len - 1) / BLOB_CHUNK_BYTES + 1,
						  (size_t)BLOB_MAX_CHUNKS + 1);
	if (h.chunks > BLOB_MAX_CHUNKS)
		return imi_fail(error_r, IMI_TOOBIG, "%zu bytes are more than a blob holds "
				"(%d chunks of %d bytes)", len, BLOB_MAX_CHUNKS, BLOB_CHUNK_BYTES);
	if ((ret = store_next(txn, "blobs", &id, error_r)) != IMI_OK)
		return ret;
	if ((ret = blob_stream_key(txn, key_id, key, error_r)) != IMI_OK)
		return ret;
	crypto_secretstream_xchacha20poly1305_init_push(&st, h.stream, key);
	sodium_memzero(key, sizeof(key));
	blob_header_encode(&h, head);
	blob_key(id, 0, kb);
	ret = store_put(txn, STORE_BLOBS, kb, sizeof(kb), head, sizeof(head), STORE_PUT_NEW,
			error_r);
	ad = blob_ad(key_id, id, &ad_len);
	box = g_malloc(MIN(len, (size_t)BLOB_CHUNK_BYTES) + BLOB_ABYTES);
	/* One record per chunk; the final tag marks the last, so a cut blob
	 * never opens. */
	for (uint32_t i = 1; ret == IMI_OK && i <= h.chunks; i++) {
		size_t n = MIN(len - off, (size_t)BLOB_CHUNK_BYTES);
		unsigned long long clen = 0;

		crypto_secretstream_xchacha20poly1305_push(
			&st, box, &clen, n > 0 ? (const unsigned char *)data + off : box, n, ad,
			ad_len,
			i == h.chunks ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
				      : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
		blob_key(id, i, kb);
		ret = store_put(txn, STORE_BLOBS, kb, sizeof(kb), box, (size_t)clen,
				STORE_PUT_NEW, error_r);
		off += n;
		if (h.chunks > 1)
			blob_cache_release(txn->store);
	}
	sodium_memzero(&st, sizeof(st));
	g_free(box);
	g_free(ad);
	if (ret == IMI_OK)
		*id_r = id;
	return ret;
}

/* The first chunks of blob id covering at least head bytes (SIZE_MAX: the
 * whole blob, its final tag checked). */
static int blob_get_head(struct store_txn *txn, const char *key_id, uint64_t id, size_t head_bytes,
			 void **data_r, size_t *len_r, char **error_r)
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char head[BLOB_HEADER_BYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	struct blob_header h;
	unsigned char *out = NULL, *box = NULL, *ad = NULL;
	size_t size = 0, ad_len = 0, off = 0;
	int ret;

	if ((ret = blob_record_read(txn, id, 0, head, sizeof(head), &size, error_r)) != IMI_OK ||
	    (ret = blob_header_decode(head, size, id, &h, error_r)) != IMI_OK)
		return ret;
	if ((ret = blob_stream_key(txn, key_id, key, error_r)) != IMI_OK)
		return ret;
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, h.stream, key) != 0) {
		sodium_memzero(key, sizeof(key));
		return imi_fail(error_r, IMI_ERROR, "damaged blob %" G_GUINT64_FORMAT
				": its stream header is refused", id);
	}
	sodium_memzero(key, sizeof(key));
	if (head_bytes < h.length) {
		/* Whole chunks up to head_bytes: the stream opens in order. */
		size_t chunks = head_bytes == 0 ? 1 : (head_bytes - 1) / h.chunk_bytes + 1;

		if (chunks < h.chunks) {
			h.chunks = (uint32_t)chunks;
			h.length = (uint64_t)chunks * h.chunk_bytes;
			h.cut = 1;
		}
	}
	out = g_malloc((size_t)h.length + 1);
	box = g_malloc(MIN((size_t)h.length, (size_t)h.chunk_bytes) + BLOB_ABYTES);
	ad = blob_ad(key_id, id, &ad_len);
	for (uint32_t i = 1; ret == IMI_OK && i <= h.chunks; i++) {
		size_t want = MIN((size_t)h.length - off, (size_t)h.chunk_bytes);
		unsigned long long mlen = 0;
		unsigned char tag = 0;

		ret = blob_record_read(txn, id, i, box, want + BLOB_ABYTES, &size, error_r);
		if (ret != IMI_OK)
			break;
		if (size != want + BLOB_ABYTES ||
		    crypto_secretstream_xchacha20poly1305_pull(&st, out + off, &mlen, &tag, box,
							       size, ad, ad_len) != 0 ||
		    mlen != want ||
		    (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) !=
			    (i == h.chunks && !h.cut))
			ret = imi_fail(error_r, IMI_ERROR, "damaged blob %" G_GUINT64_FORMAT
				       ": chunk %u of %u does not open with the key of %s",
				       id, i, h.chunks, key_id);
		off += want;
		if (h.chunks > 1)
			blob_cache_release(txn->store);
	}
	sodium_memzero(&st, sizeof(st));
	g_free(box);
	g_free(ad);
	if (ret != IMI_OK) {
		sodium_memzero(out, (size_t)h.length);
		g_free(out);
		return ret;
	}
	out[h.length] = '\0';
	*data_r = out;
	if (len_r != NULL)
		*len_r = (size_t)h.length;
	return IMI_OK;
}

int blob_get(struct store_txn *txn, const char *key_id, uint64_t id, void **data_r,
	     size_t *len_r, char **error_r)
{
	return blob_get_head(txn, key_id, id, SIZE_MAX, data_r, len_r, error_r);
}

int blob_delete(struct store_txn *txn, uint64_t id, char **error_r)
{
	DB *db = txn->store->dbs[STORE_BLOBS];
	DBC *cursor;
	unsigned char kb[64];
	DBT k, v;
	unsigned n = 0;
	int err, ret = IMI_OK;

	if ((err = db->cursor(db, txn->txn, &cursor, 0)) != 0)
		return store_db_fail(txn, err, error_r, "blobs.db");
	txn->wrote |= 1 << STORE_BLOBS;
	blob_key(id, 0, kb);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = kb;
	k.size = BLOB_KEY_BYTES;
	k.ulen = sizeof(kb);
	k.flags = DB_DBT_USERMEM;
	/* Keys only: a chunk's megabyte is not read to be deleted. */
	v.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	for (err = cursor->get(cursor, &k, &v, DB_SET_RANGE); err == 0;
	     err = cursor->get(cursor, &k, &v, DB_NEXT)) {
		if (k.size != BLOB_KEY_BYTES || store_key_u64_get(kb) != id)
			break;
		if (++n > BLOB_MAX_CHUNKS + 1) {
			ret = imi_fail(error_r, IMI_ERROR, "blob %" G_GUINT64_FORMAT
				       " has more than %d records", id, BLOB_MAX_CHUNKS + 1);
			break;
		}
		if ((err = cursor->del(cursor, 0)) != 0)
			break;
	}
	if (ret == IMI_OK && err == DB_BUFFER_SMALL)
		ret = imi_fail(error_r, IMI_ERROR, "blobs.db holds a key of %u bytes", k.size);
	else if (ret == IMI_OK && err != 0 && err != DB_NOTFOUND)
		ret = store_db_fail(txn, err, error_r, "blobs.db");
	else if (ret == IMI_OK && n == 0)
		ret = imi_fail(error_r, IMI_NOTFOUND, "no blob %" G_GUINT64_FORMAT, id);
	cursor->close(cursor);
	return ret;
}

/* The blob id a record names: 1 and *id_r, or 0 when it names none. */
static int blob_record_id(JsonObject *record, uint64_t *id_r)
{
	if (!json_object_has_member(record, BLOB_MEMBER))
		return 0;
	*id_r = (uint64_t)json_object_get_int_member(record, BLOB_MEMBER);
	return 1;
}

int blob_record_head(struct store_txn *txn, JsonObject *record, size_t head_bytes,
		     void **raw_r, size_t *len_r, char **error_r)
{
	const char *key_id = json_object_get_string_member_with_default(record, "key", "");
	uint64_t id;
	size_t len = 0;
	int ret;

	if (!blob_record_id(record, &id))
		return store_unseal(txn, key_id,
				    json_object_get_string_member_with_default(record, "sealed_raw",
									       ""),
				    raw_r, len_r, error_r);
	ret = blob_get_head(txn, key_id, id, head_bytes, raw_r, &len, error_r);
	if (ret == IMI_OK && head_bytes == SIZE_MAX &&
	    json_object_has_member(record, BLOB_MEMBER_BYTES) &&
	    (uint64_t)json_object_get_int_member(record, BLOB_MEMBER_BYTES) != len) {
		sodium_memzero(*raw_r, len);
		g_clear_pointer(raw_r, g_free);
		return imi_fail(error_r, IMI_ERROR, "blob %" G_GUINT64_FORMAT " has %zu bytes, "
				"its record says %" G_GINT64_FORMAT, id, len,
				json_object_get_int_member(record, BLOB_MEMBER_BYTES));
	}
	if (ret == IMI_OK && len_r != NULL)
		*len_r = len;
	return ret;
}

int blob_record_raw(struct store_txn *txn, JsonObject *record, void **raw_r, size_t *len_r,
		    char **error_r)
{
	return blob_record_head(txn, record, SIZE_MAX, raw_r, len_r, error_r);
}

int blob_record_forget(struct store_txn *txn, JsonObject *record, char **error_r)
{
	uint64_t id;
	int ret;

	if (!blob_record_id(record, &id))
		return IMI_OK;
	ret = blob_delete(txn, id, error_r);
	if (ret == IMI_NOTFOUND) {
		g_clear_pointer(error_r, g_free);
		ret = IMI_OK;
	}
	return ret;
}

/* ---- the check ---- */

struct blob_check_walk {
	GHashTable *named;   /* blob id -> message sequence (both gint64 in pointers) */
	GString *report;
	unsigned problems;
	unsigned count;      /* blobs seen */
};

static int blob_check_message(const void *key, size_t len, const void *value, size_t vlen,
			      void *ctx)
{
	struct blob_check_walk *w = ctx;
	JsonObject *obj = NULL;
	uint64_t id, seq = len == 8 ? store_key_u64_get(key) : 0;

	/* A damaged record is reported by the message check itself. */
	if (len != 8 || store_record_parse(value, vlen, &obj, NULL) != IMI_OK)
		return 0;
	if (blob_record_id(obj, &id)) {
		gpointer other;

		if (g_hash_table_lookup_extended(w->named, GSIZE_TO_POINTER(id), NULL, &other)) {
			g_string_append_printf(w->report, "blob %" G_GUINT64_FORMAT
					       ": named by messages %" G_GSIZE_FORMAT " and %"
					       G_GUINT64_FORMAT "\n", id, GPOINTER_TO_SIZE(other),
					       seq);
			w->problems++;
		} else {
			g_hash_table_insert(w->named, GSIZE_TO_POINTER(id), GSIZE_TO_POINTER(seq));
		}
	}
	json_object_unref(obj);
	return 0;
}

/* What is wrong with one blob's records, seen in key order. */
struct blob_seen {
	uint64_t id;
	int any;             /* a record of id was seen */
	int header;          /* its header was sound */
	uint32_t chunks;     /* chunks its header names */
	uint32_t last;       /* the last chunk number seen */
	int gap;             /* a chunk number was skipped or repeated */
};

static void blob_check_close(struct blob_check_walk *w, struct blob_seen *s)
{
	gpointer seq;

	if (!s->any)
		return;
	w->count++;
	if (!s->header) {
		g_string_append_printf(w->report, "blob %" G_GUINT64_FORMAT
				       ": header missing or damaged\n", s->id);
		w->problems++;
	} else if (s->gap || s->last != s->chunks) {
		g_string_append_printf(w->report, "blob %" G_GUINT64_FORMAT
				       ": chunks missing (its header names %u, the last present "
				       "is %u%s)\n", s->id, s->chunks, s->last,
				       s->gap ? ", with a gap" : "");
		w->problems++;
	}
	if (!g_hash_table_lookup_extended(w->named, GSIZE_TO_POINTER(s->id), NULL, &seq)) {
		g_string_append_printf(w->report, "blob %" G_GUINT64_FORMAT
				       ": no message names it (orphan)\n", s->id);
		w->problems++;
	} else {
		g_hash_table_remove(w->named, GSIZE_TO_POINTER(s->id));
	}
	memset(s, 0, sizeof(*s));
}

static int blob_check_records(struct store_txn *txn, struct blob_check_walk *w,
			      char **error_r)
{
	DB *db = txn->store->dbs[STORE_BLOBS];
	unsigned char kb[64], vb[BLOB_HEADER_BYTES + 1];
	struct blob_seen s = {0};
	DBC *cursor;
	DBT k, v;
	int err;

	if ((err = db->cursor(db, txn->txn, &cursor, 0)) != 0)
		return store_db_fail(txn, err, error_r, "blobs.db");
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = kb;
	k.ulen = sizeof(kb);
	k.flags = DB_DBT_USERMEM;
	/* At most a header's worth of each value: chunks are not read. */
	v.data = vb;
	v.ulen = sizeof(vb);
	v.dlen = sizeof(vb);
	v.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	while ((err = cursor->get(cursor, &k, &v, DB_NEXT)) == 0) {
		uint64_t id;
		uint32_t chunk;

		if (k.size != BLOB_KEY_BYTES) {
			g_string_append_printf(w->report, "blobs.db: a key of %u bytes\n", k.size);
			w->problems++;
			continue;
		}
		id = store_key_u64_get(kb);
		chunk = blob_get_u32(kb + 8);
		if (s.any && id != s.id)
			blob_check_close(w, &s);
		if (!s.any) {
			s.any = 1;
			s.id = id;
		}
		if (chunk == 0) {
			struct blob_header h;

			s.header = blob_header_decode(vb, v.size, id, &h, NULL) == IMI_OK;
			s.chunks = s.header ? h.chunks : 0;
		} else {
			if (chunk != s.last + 1)
				s.gap = 1;
			s.last = chunk;
		}
	}
	blob_check_close(w, &s);
	cursor->close(cursor);
	if (err == DB_BUFFER_SMALL) {
		g_string_append(w->report, "blobs.db: a key longer than any blob key\n");
		w->problems++;
		return IMI_OK;
	}
	return err == DB_NOTFOUND ? IMI_OK : store_db_fail(txn, err, error_r, "blobs.db");
}

int blob_check(struct store_txn *txn, GString *report, unsigned *problems_r, char **error_r)
{
	struct blob_check_walk w = {g_hash_table_new(g_direct_hash, g_direct_equal), report, 0,
				    0};
	GHashTableIter it;
	gpointer id, seq;
	int ret;

	G_STATIC_ASSERT(sizeof(gsize) >= sizeof(uint64_t));
	ret = store_each(txn, STORE_MESSAGES, NULL, 0, blob_check_message, &w, error_r);
	if (ret == IMI_OK)
		ret = blob_check_records(txn, &w, error_r);
	if (ret == IMI_OK) {
		/* What is left was named but never seen. */
		g_hash_table_iter_init(&it, w.named);
		while (g_hash_table_iter_next(&it, &id, &seq)) {
			g_string_append_printf(report, "message %" G_GSIZE_FORMAT ": its blob %"
					       G_GSIZE_FORMAT " is missing\n",
					       GPOINTER_TO_SIZE(seq), GPOINTER_TO_SIZE(id));
			w.problems++;
		}
		g_string_append_printf(report, "blobs: %u checked\n", w.count);
	}
	*problems_r += w.problems;
	g_hash_table_destroy(w.named);
	return ret;
}

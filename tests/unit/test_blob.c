/*
 * test_blob.c: sealed blobs in chunk records (store/blob.h) on a real
 * environment on disk: written and read back byte for byte, deleted to the
 * last record, refused when a chunk is damaged, cut, reordered or foreign,
 * unreadable once the key is destroyed, and checked by store_check.
 */
#include "testutil.h"

#include <sodium.h>

#include "store/blob.h"
#include "store/store.h"

#define KEY_ID "case:IMI-2026-000001"
#define OTHER_KEY_ID "case:IMI-2026-000002"

static struct store *open_store(const char *home)
{
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(home, STORE_OPEN_CREATE, &store, &error) != IMI_OK)
		fail_msg("store_open: %s", error);
	return store;
}

static int keys_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	int ret = store_key_create(txn, KEY_ID, error_r);

	(void)ctx;
	if (ret == IMI_OK)
		ret = store_key_create(txn, OTHER_KEY_ID, error_r);
	return ret;
}

static struct store *open_store_with_keys(const char *home)
{
	struct store *store = open_store(home);
	char *error = NULL;

	if (store_transact(store, keys_txn, NULL, &error) != IMI_OK)
		fail_msg("key create: %s", error);
	return store;
}

struct put_ctx {
	const char *key_id;
	const unsigned char *data;
	size_t len;
	uint64_t id;
};

static int put_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct put_ctx *p = ctx;

	return blob_put(txn, p->key_id, p->data, p->len, &p->id, error_r);
}

struct get_ctx {
	const char *key_id;
	uint64_t id;
	void *data;
	size_t len;
};

static int get_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct get_ctx *g = ctx;

	g_clear_pointer(&g->data, g_free);
	return blob_get(txn, g->key_id, g->id, &g->data, &g->len, error_r);
}

static uint64_t put_blob(struct store *store, const char *key_id, const unsigned char *data,
			 size_t len)
{
	struct put_ctx p = {key_id, data, len, 0};
	char *error = NULL;

	if (store_transact(store, put_txn, &p, &error) != IMI_OK)
		fail_msg("blob_put of %zu bytes: %s", len, error);
	return p.id;
}

/* The status of reading blob id; *error_r gets the text. */
static int get_blob(struct store *store, const char *key_id, uint64_t id, void **data_r,
		    size_t *len_r, char **error_r)
{
	struct get_ctx g = {key_id, id, NULL, 0};
	int ret = store_transact(store, get_txn, &g, error_r);

	*data_r = g.data;
	*len_r = g.len;
	return ret;
}

struct count_ctx {
	uint64_t id;
	unsigned records;
};

static int count_step(const void *key, size_t key_len, const void *value, size_t len, void *ctx)
{
	struct count_ctx *c = ctx;

	(void)value;
	(void)len;
	if (key_len == 12 && store_key_u64_get(key) == c->id)
		c->records++;
	return 0;
}

static int count_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	((struct count_ctx *)ctx)->records = 0;
	return store_each(txn, STORE_BLOBS, NULL, 0, count_step, ctx, error_r);
}

/* Records of blob id in blobs.db (header and chunks). */
static unsigned count_records(struct store *store, uint64_t id)
{
	struct count_ctx c = {id, 0};
	char *error = NULL;

	if (store_transact(store, count_txn, &c, &error) != IMI_OK)
		fail_msg("walk of blobs.db: %s", error);
	return c.records;
}

static unsigned char *random_bytes(size_t len)
{
	unsigned char *p = g_malloc(len > 0 ? len : 1);

	randombytes_buf(p, len);
	return p;
}

/* ---- written, read back, deleted ---- */

static void test_blob_round_trip(void **state)
{
	static const struct {
		const char *name;
		size_t len;
		unsigned records; /* header + chunks */
	} cases[] = {
		{"empty", 0, 2},
		{"one byte", 1, 2},
		{"a chunk less one", BLOB_CHUNK_BYTES - 1, 2},
		{"one chunk exactly", BLOB_CHUNK_BYTES, 2},
		{"a chunk and a byte", BLOB_CHUNK_BYTES + 1, 3},
		{"two and a half chunks", BLOB_CHUNK_BYTES * 5 / 2, 4},
	};
	char *home = testutil_tmpdir("blob-roundtrip");
	struct store *store = open_store_with_keys(home);
	uint64_t ids[G_N_ELEMENTS(cases)];
	unsigned char *datas[G_N_ELEMENTS(cases)];

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		datas[i] = random_bytes(cases[i].len);
		ids[i] = put_blob(store, KEY_ID, datas[i], cases[i].len);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		void *got = NULL;
		size_t len = 0;
		char *error = NULL, *field = g_strdup_printf("%s: records", cases[i].name);

		check_int(field, count_records(store, ids[i]), cases[i].records);
		g_free(field);
		field = g_strdup_printf("%s: read", cases[i].name);
		if (get_blob(store, KEY_ID, ids[i], &got, &len, &error) != IMI_OK)
			fail_msg("%s: %s", field, error);
		g_free(field);
		field = g_strdup_printf("%s: length", cases[i].name);
		check_int(field, len, cases[i].len);
		g_free(field);
		if (memcmp(got, datas[i], len) != 0)
			fail_msg("%s: the bytes read back differ from those written", cases[i].name);
		field = g_strdup_printf("%s: NUL after the bytes", cases[i].name);
		check_int(field, ((unsigned char *)got)[len], 0);
		g_free(field);
		g_free(got);
	}
	store_close(&store);
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++)
		g_free(datas[i]);
	testutil_rmdir(home);
}

struct del_ctx {
	uint64_t id;
};

static int del_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return blob_delete(txn, ((struct del_ctx *)ctx)->id, error_r);
}

static void test_blob_delete(void **state)
{
	char *home = testutil_tmpdir("blob-delete");
	struct store *store = open_store_with_keys(home);
	size_t len = BLOB_CHUNK_BYTES * 3 + 17;
	unsigned char *data = random_bytes(len);
	uint64_t gone = put_blob(store, KEY_ID, data, len);
	uint64_t kept = put_blob(store, KEY_ID, data, len);
	struct del_ctx d = {gone};
	char *error = NULL;
	void *got = NULL;
	size_t got_len = 0;

	(void)state;
	check_int("records before", count_records(store, gone), 5);
	check_int("delete", store_transact(store, del_txn, &d, &error), IMI_OK);
	check_int("records of the deleted blob", count_records(store, gone), 0);
	check_int("records of the other blob", count_records(store, kept), 5);
	check_int("read of the deleted blob", get_blob(store, KEY_ID, gone, &got, &got_len, &error),
		  IMI_NOTFOUND);
	check_int("nothing handed out", got == NULL, 1);
	g_clear_pointer(&error, g_free);
	check_int("second delete", store_transact(store, del_txn, &d, &error), IMI_NOTFOUND);
	g_clear_pointer(&error, g_free);
	check_int("read of the other blob", get_blob(store, KEY_ID, kept, &got, &got_len, &error),
		  IMI_OK);
	check_int("other blob intact", got_len == len && memcmp(got, data, len) == 0, 1);
	g_free(got);
	store_close(&store);
	g_free(data);
	testutil_rmdir(home);
}

struct raw_ctx {
	JsonObject *obj;
	void *raw;
	size_t len;
	int forget;
	size_t head;         /* 0: blob_record_raw, else blob_record_head */
};

static int record_raw_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct raw_ctx *r = ctx;

	g_clear_pointer(&r->raw, g_free);
	if (r->forget)
		return blob_record_forget(txn, r->obj, error_r);
	if (r->head != 0)
		return blob_record_head(txn, r->obj, r->head, &r->raw, &r->len, error_r);
	return blob_record_raw(txn, r->obj, &r->raw, &r->len, error_r);
}

/* ---- damage ---- */

enum damage { FLIP_BYTE, DROP_LAST, DROP_LAST_AND_RECOUNT, SWAP, FOREIGN, SHORT_HEADER };

struct damage_ctx {
	enum damage how;
	uint64_t id, other;
};

static void chunk_key(uint64_t id, uint32_t chunk, unsigned char key[12])
{
	store_key_u64(id, key);
	key[8] = (unsigned char)(chunk >> 24);
	key[9] = (unsigned char)(chunk >> 16);
	key[10] = (unsigned char)(chunk >> 8);
	key[11] = (unsigned char)chunk;
}

static int damage_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct damage_ctx *d = ctx;
	unsigned char k1[12], k2[12], k3[12], k0[12];
	void *v1 = NULL, *v2 = NULL;
	size_t l1 = 0, l2 = 0;
	int ret;

	chunk_key(d->id, 0, k0);
	chunk_key(d->id, 1, k1);
	chunk_key(d->id, 2, k2);
	chunk_key(d->id, 3, k3);
	switch (d->how) {
	case FLIP_BYTE:
		if ((ret = store_get(txn, STORE_BLOBS, k2, 12, 0, &v2, &l2, error_r)) != IMI_OK)
			return ret;
		((unsigned char *)v2)[l2 / 2] ^= 0x01;
		ret = store_put(txn, STORE_BLOBS, k2, 12, v2, l2, 0, error_r);
		break;
	case DROP_LAST:
		ret = store_del(txn, STORE_BLOBS, k3, 12, error_r);
		break;
	case DROP_LAST_AND_RECOUNT:
		/* A cut that also rewrites the header's count: the final tag
		 * is missing from what is left. */
		if ((ret = store_del(txn, STORE_BLOBS, k3, 12, error_r)) != IMI_OK ||
		    (ret = store_get(txn, STORE_BLOBS, k0, 12, 0, &v1, &l1, error_r)) != IMI_OK)
			return ret;
		((unsigned char *)v1)[16] = 2; /* chunks, low byte */
		/* the length, so it fits two whole chunks */
		store_key_u64(2 * (uint64_t)BLOB_CHUNK_BYTES, (unsigned char *)v1 + 5);
		ret = store_put(txn, STORE_BLOBS, k0, 12, v1, l1, 0, error_r);
		break;
	case SWAP:
		if ((ret = store_get(txn, STORE_BLOBS, k1, 12, 0, &v1, &l1, error_r)) != IMI_OK ||
		    (ret = store_get(txn, STORE_BLOBS, k2, 12, 0, &v2, &l2, error_r)) != IMI_OK)
			break;
		if ((ret = store_put(txn, STORE_BLOBS, k1, 12, v2, l2, 0, error_r)) == IMI_OK)
			ret = store_put(txn, STORE_BLOBS, k2, 12, v1, l1, 0, error_r);
		break;
	case FOREIGN: {
		/* chunk 2 of another blob of the same key and size */
		unsigned char o2[12];

		chunk_key(d->other, 2, o2);
		if ((ret = store_get(txn, STORE_BLOBS, o2, 12, 0, &v2, &l2, error_r)) == IMI_OK)
			ret = store_put(txn, STORE_BLOBS, k2, 12, v2, l2, 0, error_r);
		break;
	}
	case SHORT_HEADER:
		ret = store_put(txn, STORE_BLOBS, k0, 12, "\x01", 1, 0, error_r);
		break;
	default:
		ret = IMI_ERROR;
	}
	g_free(v1);
	g_free(v2);
	return ret;
}

static void test_blob_damage_refused(void **state)
{
	static const struct {
		const char *name;
		enum damage how;
		const char *says; /* in the error text */
	} cases[] = {
		{"a flipped bit in chunk 2", FLIP_BYTE, "chunk 2"},
		{"the last chunk gone", DROP_LAST, "chunk 3 is missing"},
		{"cut, header rewritten", DROP_LAST_AND_RECOUNT, "chunk 2"},
		{"chunks 1 and 2 swapped", SWAP, "chunk 1"},
		{"chunk 2 of another blob", FOREIGN, "chunk 2"},
		{"a short header", SHORT_HEADER, "header"},
	};
	char *home = testutil_tmpdir("blob-damage");
	struct store *store = open_store_with_keys(home);
	size_t len = BLOB_CHUNK_BYTES * 2 + 1000;
	unsigned char *data = random_bytes(len);

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct damage_ctx d = {cases[i].how, put_blob(store, KEY_ID, data, len),
				       put_blob(store, KEY_ID, data, len)};
		char *error = NULL, *field;
		void *got = NULL;
		size_t got_len = 0;
		int ret;

		if (store_transact(store, damage_txn, &d, &error) != IMI_OK)
			fail_msg("%s: damaging: %s", cases[i].name, error);
		ret = get_blob(store, KEY_ID, d.id, &got, &got_len, &error);
		field = g_strdup_printf("%s: status", cases[i].name);
		check_int(field, ret, IMI_ERROR);
		g_free(field);
		field = g_strdup_printf("%s: nothing handed out", cases[i].name);
		check_int(field, got == NULL, 1);
		g_free(field);
		if (error == NULL || strstr(error, cases[i].says) == NULL)
			fail_msg("%s: error text: got \"%s\", want it to name \"%s\"", cases[i].name,
				 error ? error : "(null)", cases[i].says);
		g_free(error);
		error = NULL;
		/* Its first chunk alone still opens when it is sound. */
		if (cases[i].how == FLIP_BYTE || cases[i].how == DROP_LAST) {
			JsonObject *rec = json_object_new();
			struct raw_ctx r = {rec, NULL, 0, 0, 10};

			json_object_set_string_member(rec, "key", KEY_ID);
			json_object_set_int_member(rec, BLOB_MEMBER, (gint64)d.id);
			field = g_strdup_printf("%s: its first chunk", cases[i].name);
			check_int(field, store_transact(store, record_raw_txn, &r, &error), IMI_OK);
			g_free(field);
			field = g_strdup_printf("%s: first chunk length", cases[i].name);
			check_int(field, r.len, BLOB_CHUNK_BYTES);
			g_free(field);
			g_free(r.raw);
			json_object_unref(rec);
		}
		/* The undamaged one still opens. */
		field = g_strdup_printf("%s: the other blob", cases[i].name);
		check_int(field, get_blob(store, KEY_ID, d.other, &got, &got_len, &error), IMI_OK);
		g_free(field);
		g_free(got);
	}
	store_close(&store);
	g_free(data);
	testutil_rmdir(home);
}

struct destroy_ctx {
	const char *key_id;
};

static int destroy_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return store_key_destroy(txn, ((struct destroy_ctx *)ctx)->key_id, error_r);
}

static void test_blob_key(void **state)
{
	char *home = testutil_tmpdir("blob-key");
	struct store *store = open_store_with_keys(home);
	size_t len = BLOB_CHUNK_BYTES + 5;
	unsigned char *data = random_bytes(len);
	uint64_t id = put_blob(store, KEY_ID, data, len);
	struct destroy_ctx d = {KEY_ID};
	char *error = NULL;
	void *got = NULL;
	size_t got_len = 0;

	(void)state;
	check_int("read under another case's key",
		  get_blob(store, OTHER_KEY_ID, id, &got, &got_len, &error), IMI_ERROR);
	g_clear_pointer(&error, g_free);
	check_int("destroy the key", store_transact(store, destroy_txn, &d, &error), IMI_OK);
	check_int("read after the key is destroyed",
		  get_blob(store, KEY_ID, id, &got, &got_len, &error), IMI_NOTFOUND);
	check_int("nothing handed out", got == NULL, 1);
	g_free(error);
	store_close(&store);
	g_free(data);
	testutil_rmdir(home);
}

/* ---- records that name blobs, old and new ---- */

struct record_ctx {
	uint64_t seq;        /* message key */
	JsonObject *obj;     /* put as the message record */
	const char *msgid;
};

static int record_put_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct record_ctx *r = ctx;
	unsigned char key[8];
	size_t len;
	char *text = store_record_text(r->obj, &len);
	char *entry = g_strdup_printf("{\"v\":1,\"message\":%" G_GUINT64_FORMAT "}", r->seq);
	int ret;

	store_key_u64(r->seq, key);
	ret = store_put(txn, STORE_MESSAGES, key, 8, text, len, 0, error_r);
	if (ret == IMI_OK)
		ret = store_put(txn, STORE_MSGIDS, r->msgid, strlen(r->msgid), entry,
				strlen(entry), 0, error_r);
	g_free(text);
	g_free(entry);
	return ret;
}

struct seal_ctx {
	const char *text;
	char *sealed;
};

static int seal_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct seal_ctx *s = ctx;

	g_clear_pointer(&s->sealed, g_free);
	return store_seal(txn, KEY_ID, s->text, strlen(s->text), &s->sealed, error_r);
}

static void test_blob_records(void **state)
{
	char *home = testutil_tmpdir("blob-records");
	struct store *store = open_store_with_keys(home);
	size_t len = BLOB_CHUNK_BYTES + 99;
	unsigned char *data = random_bytes(len);
	uint64_t id = put_blob(store, KEY_ID, data, len);
	JsonObject *new_form = json_object_new(), *old_form = json_object_new();
	struct seal_ctx s = {"From: a@b.example\n\nold form\n", NULL};
	struct raw_ctx r = {new_form, NULL, 0, 0, 0};
	char *error = NULL;

	(void)state;
	json_object_set_string_member(new_form, "key", KEY_ID);
	json_object_set_int_member(new_form, BLOB_MEMBER, (gint64)id);
	json_object_set_int_member(new_form, BLOB_MEMBER_BYTES, (gint64)len);
	check_int("new form read", store_transact(store, record_raw_txn, &r, &error), IMI_OK);
	check_int("new form bytes", r.len == len && memcmp(r.raw, data, len) == 0, 1);

	/* Only the start: whole chunks covering it. */
	{
		static const struct {
			const char *name;
			size_t head, want;
		} heads[] = {
			{"head of 10 bytes", 10, BLOB_CHUNK_BYTES},
			{"head of a chunk", BLOB_CHUNK_BYTES, BLOB_CHUNK_BYTES},
			{"head of a chunk and a byte", BLOB_CHUNK_BYTES + 1, BLOB_CHUNK_BYTES + 99},
			{"head past the end", 10 * BLOB_CHUNK_BYTES, BLOB_CHUNK_BYTES + 99},
		};

		for (unsigned i = 0; i < G_N_ELEMENTS(heads); i++) {
			char *field = g_strdup_printf("%s: length", heads[i].name);

			r.head = heads[i].head;
			if (store_transact(store, record_raw_txn, &r, &error) != IMI_OK)
				fail_msg("%s: %s", heads[i].name, error);
			check_int(field, r.len, heads[i].want);
			if (memcmp(r.raw, data, r.len) != 0)
				fail_msg("%s: the bytes differ from the blob's start", heads[i].name);
			g_free(field);
		}
		r.head = 0;
	}

	/* A record written before blobs: base64 text in "sealed_raw". */
	check_int("seal", store_transact(store, seal_txn, &s, &error), IMI_OK);
	json_object_set_string_member(old_form, "key", KEY_ID);
	json_object_set_string_member(old_form, "sealed_raw", s.sealed);
	r.obj = old_form;
	check_int("old form read", store_transact(store, record_raw_txn, &r, &error), IMI_OK);
	check_str("old form bytes", r.raw, s.text);
	r.forget = 1;
	check_int("old form forget (no blob)", store_transact(store, record_raw_txn, &r, &error),
		  IMI_OK);

	/* A length that disagrees with the blob is refused. */
	json_object_set_int_member(new_form, BLOB_MEMBER_BYTES, (gint64)len - 1);
	r.obj = new_form;
	r.forget = 0;
	check_int("wrong length", store_transact(store, record_raw_txn, &r, &error), IMI_ERROR);
	check_int("nothing handed out", r.raw == NULL, 1);
	g_clear_pointer(&error, g_free);

	r.forget = 1;
	check_int("forget", store_transact(store, record_raw_txn, &r, &error), IMI_OK);
	check_int("records after forget", count_records(store, id), 0);
	check_int("forget again", store_transact(store, record_raw_txn, &r, &error), IMI_OK);

	g_free(r.raw);
	g_free(s.sealed);
	json_object_unref(new_form);
	json_object_unref(old_form);
	store_close(&store);
	g_free(data);
	testutil_rmdir(home);
}

/* ---- store_check ---- */

static int check_report(struct store *store, char **report_r)
{
	GString *report = g_string_new(NULL);
	char *error = NULL;
	int ret = store_check(store, report, &error);

	g_free(error);
	*report_r = g_string_free(report, FALSE);
	return ret;
}

static JsonObject *message_record(uint64_t blob, size_t len, const char *msgid)
{
	JsonObject *obj = json_object_new();

	json_object_set_string_member(obj, "key", KEY_ID);
	json_object_set_string_member(obj, "message_id", msgid);
	json_object_set_int_member(obj, BLOB_MEMBER, (gint64)blob);
	json_object_set_int_member(obj, BLOB_MEMBER_BYTES, (gint64)len);
	return obj;
}

static void test_blob_check(void **state)
{
	char *home = testutil_tmpdir("blob-check");
	struct store *store = open_store_with_keys(home);
	size_t len = BLOB_CHUNK_BYTES * 2 + 3;
	unsigned char *data = random_bytes(len);
	uint64_t named = put_blob(store, KEY_ID, data, len);
	struct record_ctx rec = {1, message_record(named, len, "a@example.org"), "a@example.org"};
	char *report = NULL, *error = NULL;
	uint64_t orphan;

	(void)state;
	check_int("put message", store_transact(store, record_put_txn, &rec, &error), IMI_OK);
	json_object_unref(rec.obj);
	check_int("sound store", check_report(store, &report), IMI_OK);
	if (strstr(report, "blobs: 1 checked") == NULL)
		fail_msg("report: got \"%s\", want \"blobs: 1 checked\"", report);
	g_free(report);

	/* An orphan: no message names it. */
	orphan = put_blob(store, KEY_ID, data, len);
	check_int("orphan", check_report(store, &report), IMI_ERROR);
	{
		char *want = g_strdup_printf("blob %" G_GUINT64_FORMAT ": no message names it",
					     orphan);
		if (strstr(report, want) == NULL)
			fail_msg("report: got \"%s\", want \"%s\"", report, want);
		g_free(want);
	}
	g_free(report);

	/* Its last chunk goes: incomplete, and still an orphan. */
	{
		struct damage_ctx d = {DROP_LAST, orphan, 0};
		char *want = g_strdup_printf("blob %" G_GUINT64_FORMAT ": chunks missing", orphan);

		check_int("drop", store_transact(store, damage_txn, &d, &error), IMI_OK);
		check_int("incomplete", check_report(store, &report), IMI_ERROR);
		if (strstr(report, want) == NULL)
			fail_msg("report: got \"%s\", want \"%s\"", report, want);
		g_free(want);
		g_free(report);
	}

	/* A message that names a blob that is not there. */
	rec.seq = 2;
	rec.obj = message_record(9999, 5, "b@example.org");
	rec.msgid = "b@example.org";
	check_int("put message", store_transact(store, record_put_txn, &rec, &error), IMI_OK);
	json_object_unref(rec.obj);
	check_int("missing", check_report(store, &report), IMI_ERROR);
	if (strstr(report, "message 2: its blob 9999 is missing") == NULL)
		fail_msg("report: got \"%s\", want \"message 2: its blob 9999 is missing\"", report);
	g_free(report);

	store_close(&store);
	g_free(data);
	testutil_rmdir(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_round_trip),
		cmocka_unit_test(test_blob_delete),
		cmocka_unit_test(test_blob_damage_refused),
		cmocka_unit_test(test_blob_key),
		cmocka_unit_test(test_blob_records),
		cmocka_unit_test(test_blob_check),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

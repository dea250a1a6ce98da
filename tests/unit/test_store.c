/*
 * test_store.c: the Berkeley DB store on a real environment on disk.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_int.h" /* the master key, to write a key as old homes did */

static struct store *open_store(const char *home)
{
	struct store *store = NULL;
	char *error = NULL;
	int ret = store_open(home, STORE_OPEN_CREATE, &store, &error);

	if (ret != IMI_OK)
		fail_msg("store_open: %s", error);
	return store;
}

struct kv {
	enum store_db db;
	const char *key, *value;
	unsigned flags;
};

static int put_kv(struct store_txn *txn, void *ctx, char **error_r)
{
	struct kv *kv = ctx;
	return store_put(txn, kv->db, kv->key, strlen(kv->key), kv->value,
			 strlen(kv->value), kv->flags, error_r);
}

static int get_kv(struct store_txn *txn, void *ctx, char **error_r)
{
	struct kv *kv = ctx;
	void *v = NULL;
	size_t len;
	int ret = store_get(txn, kv->db, kv->key, strlen(kv->key), 0, &v, &len,
			    error_r);
	if (ret == IMI_OK) {
		kv->value = g_strndup(v, len);
		g_free(v);
	}
	return ret;
}

/* The value stored under key must be want. */
static void check_value(struct store *store, enum store_db db, const char *key,
			const char *want)
{
	struct kv kv = {db, key, NULL, 0};
	char *error = NULL;

	check_int("get", store_transact(store, get_kv, &kv, &error), IMI_OK);
	check_str(key, kv.value, want);
	g_free((char *)kv.value);
}

/* Records parsed for readers (store_record_get_shared): shared and sealed
 * while the stored bytes stay the same, parsed again once they change, and
 * store_record_get gives a mutable copy that changes nothing shared. */
struct shared_step {
	const char *text;       /* record to put first, or NULL */
	JsonObject *shared, *copy;
};

static int shared_run(struct store_txn *txn, void *ctx, char **error_r)
{
	struct shared_step *st = ctx;
	int ret;

	if (st->text != NULL &&
	    (ret = store_put(txn, STORE_CASES, "IMI-2030-000001", 15, st->text,
			     strlen(st->text), 0, error_r)) != IMI_OK)
		return ret;
	if ((ret = store_record_get_shared(txn, STORE_CASES, "IMI-2030-000001", 0,
					   &st->shared, error_r)) != IMI_OK)
		return ret;
	return store_record_get(txn, STORE_CASES, "IMI-2030-000001", 0, &st->copy, error_r);
}

static char *record_text(JsonObject *obj)
{
	size_t len;
	char *text = store_record_text(obj, &len);

	return text;
}

static void test_record_shared(void **state)
{
	char *home = testutil_tmpdir("store-shared");
	struct store *store = open_store(home);
	struct shared_step one = {"{\"v\":1,\"kind\":\"alert\",\"n\":[1,2.5,true,null,{\"a\":\"b\"}]}",
				  NULL, NULL};
	struct shared_step again = {NULL, NULL, NULL};
	struct shared_step changed = {"{\"v\":1,\"kind\":\"request\"}", NULL, NULL};
	char *error = NULL, *a, *b;

	check_int("first read", store_transact(store, shared_run, &one, &error), IMI_OK);
	check_int("shared record sealed", json_object_is_immutable(one.shared) != 0, 1);
	check_int("copy mutable", json_object_is_immutable(one.copy) != 0, 0);
	a = record_text(one.shared);
	b = record_text(one.copy);
	check_str("copy has the record's members, in order", b, a);
	g_free(b);
	json_object_set_string_member(one.copy, "kind", "changed");
	b = record_text(one.shared);
	check_str("changing the copy changes nothing shared", b, a);
	g_free(b);
	g_free(a);
	check_int("second read", store_transact(store, shared_run, &again, &error), IMI_OK);
	check_int("same bytes: the same parsed record", again.shared == one.shared, 1);
	check_int("changed record", store_transact(store, shared_run, &changed, &error), IMI_OK);
	check_int("new bytes: parsed again", changed.shared != one.shared, 1);
	check_str("new bytes: the new value", json_object_get_string_member(changed.shared, "kind"),
		  "request");
	check_str("copy of the new value", json_object_get_string_member(changed.copy, "kind"),
		  "request");
	json_object_unref(one.shared);
	json_object_unref(one.copy);
	json_object_unref(again.shared);
	json_object_unref(again.copy);
	json_object_unref(changed.shared);
	json_object_unref(changed.copy);
	store_close(&store);
	testutil_rmdir(home);
}

/* A record written through store_record_put while a parse of it is kept
 * for readers: what store_record_get_shared gives next is the parse of the
 * stored bytes (the same text, json_node_equal to parsing them), or the
 * same refusal as parsing them; never the record as it was before. */
struct written_case {
	const char *name;
	void (*fill)(JsonObject *obj); /* the record written */
	int want;                      /* status of reading it back */
};

static void fill_values(JsonObject *o)
{
	JsonArray *a = json_array_new();
	JsonObject *in = json_object_new();

	json_object_set_int_member(o, "v", 1);
	json_object_set_int_member(o, "max", G_MAXINT64);
	json_object_set_int_member(o, "min", G_MININT64);
	json_object_set_boolean_member(o, "yes", TRUE);
	json_object_set_null_member(o, "none");
	json_object_set_double_member(o, "d1", 2.5);
	json_object_set_double_member(o, "d2", 3.0);
	json_object_set_double_member(o, "d3", 0.1);
	json_object_set_double_member(o, "d4", -1e300);
	json_array_add_int_element(a, 7);
	json_array_add_string_element(a, "x");
	json_array_add_null_element(a);
	json_object_set_string_member(in, "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80 ok");
	json_array_add_object_element(a, in);
	json_array_add_array_element(a, json_array_new());
	json_object_set_array_member(o, "list", a);
	json_object_set_object_member(o, "empty", json_object_new());
	json_object_set_string_member(o, "", "empty name");
}

static void fill_controls(JsonObject *o)
{
	char s[160];
	size_t n = 0;

	for (int c = 1; c < 0x80; c++)
		s[n++] = (char)c;
	s[n] = '\0';
	json_object_set_string_member(o, "ascii", s);
	json_object_set_string_member(o, "quote\"back\\slash\ttab", "\"\\/\b\f\n\r\t");
}

static void fill_no_version(JsonObject *o)
{
	json_object_set_string_member(o, "kind", "request"); /* "v" added on writing */
}

static void fill_bad_value(JsonObject *o)
{
	json_object_set_int_member(o, "v", 1);
	json_object_set_string_member(o, "s", "a\xff\xfe b");
}

static void fill_bad_name(JsonObject *o)
{
	json_object_set_int_member(o, "v", 1);
	json_object_set_string_member(o, "n\xc3", "x");
}

static void fill_new_version(JsonObject *o)
{
	json_object_set_int_member(o, "v", 9999);
}

static void fill_big(JsonObject *o)
{
	char *big = g_strnfill(70000, 'b');

	json_object_set_int_member(o, "v", 1);
	json_object_set_string_member(o, "big", big);
	g_free(big);
}

struct written_step {
	const struct written_case *c;
	int put_raw;     /* then write other bytes with store_put */
	int fail;        /* then fail, so the transaction is aborted */
	int release;     /* written with store_record_put_release */
	int got;         /* status of store_record_get_shared */
	JsonObject *obj; /* what it gave */
	char *stored;    /* the stored bytes */
};

#define WRITTEN_KEY "IMI-2030-000777"

static int written_prime(struct store_txn *txn, void *ctx, char **error_r)
{
	const char *text = "{\"v\":1,\"kind\":\"before\"}";
	JsonObject *obj = NULL;
	int ret;

	(void)ctx;
	if ((ret = store_put(txn, STORE_CASES, WRITTEN_KEY, strlen(WRITTEN_KEY), text,
			     strlen(text), 0, error_r)) != IMI_OK)
		return ret;
	ret = store_record_get_shared(txn, STORE_CASES, WRITTEN_KEY, 0, &obj, error_r);
	if (obj != NULL)
		json_object_unref(obj);
	return ret;
}

/* Reads the record back as a reader does, and its stored bytes. */
static int written_read(struct store_txn *txn, void *ctx, char **error_r)
{
	struct written_step *st = ctx;
	char *error = NULL;
	void *v = NULL;
	size_t len = 0;
	int ret;

	st->got = store_record_get_shared(txn, STORE_CASES, WRITTEN_KEY, 0, &st->obj, &error);
	g_free(error);
	if ((ret = store_get(txn, STORE_CASES, WRITTEN_KEY, strlen(WRITTEN_KEY), 0, &v, &len,
			     error_r)) != IMI_OK)
		return ret;
	st->stored = g_strndup(v, len);
	g_free(v);
	return IMI_OK;
}

static int written_run(struct store_txn *txn, void *ctx, char **error_r)
{
	struct written_step *st = ctx;
	JsonObject *obj = json_object_new();
	int ret;

	st->c->fill(obj);
	if (st->release) {
		ret = store_record_put_release(txn, STORE_CASES, WRITTEN_KEY, &obj, 0, error_r);
		check_int("the caller's reference taken", obj == NULL, 1);
	} else {
		ret = store_record_put(txn, STORE_CASES, WRITTEN_KEY, obj, 0, error_r);
		json_object_unref(obj);
	}
	if (ret != IMI_OK)
		return ret;
	if (st->put_raw &&
	    (ret = store_put(txn, STORE_CASES, WRITTEN_KEY, strlen(WRITTEN_KEY),
			     "{\"v\":1,\"kind\":\"raw\"}", 20, 0, error_r)) != IMI_OK)
		return ret;
	if (st->fail)
		return imi_fail(error_r, IMI_ERROR, "failed on purpose");
	return written_read(txn, ctx, error_r);
}

/* The parse of the stored bytes, as store_record_get_shared must give it. */
static void written_check(const char *name, struct written_step *st, int want)
{
	JsonObject *parsed = NULL;
	char *error = NULL;
	int status = store_record_parse(st->stored, strlen(st->stored), &parsed, &error);

	g_free(error);
	if (st->got != want || st->got != status)
		fail_msg("%s: status: got %d, want %d (parsing the stored bytes: %d)", name,
			 st->got, want, status);
	if (st->got == IMI_OK) {
		JsonNode *a = json_node_init_object(json_node_alloc(), st->obj);
		JsonNode *b = json_node_init_object(json_node_alloc(), parsed);
		char *text = record_text(st->obj);

		if (!json_node_equal(a, b))
			fail_msg("%s: record got differs from the parse of \"%s\"", name,
				 st->stored);
		if (strcmp(text, st->stored) != 0)
			fail_msg("%s: text: got \"%s\", want \"%s\"", name, text, st->stored);
		check_int("kept parse sealed", json_object_is_immutable(st->obj) != 0, 1);
		g_free(text);
		json_node_unref(a);
		json_node_unref(b);
		json_object_unref(st->obj);
		json_object_unref(parsed);
	}
	g_free(st->stored);
}

static void test_record_shared_written(void **state)
{
	static const struct written_case cases[] = {
		{"values", fill_values, IMI_OK},
		{"control and quoted characters", fill_controls, IMI_OK},
		{"no version member", fill_no_version, IMI_OK},
		{"string not UTF-8", fill_bad_value, IMI_ERROR},
		{"member name not UTF-8", fill_bad_name, IMI_ERROR},
		{"newer schema version", fill_new_version, IMI_ERROR},
		{"over the size kept", fill_big, IMI_OK},
	};
	char *home = testutil_tmpdir("store-shared-written");
	struct store *store = open_store(home);
	char *error = NULL;

	for (size_t n = 0; n < 2 * G_N_ELEMENTS(cases); n++) {
		size_t i = n % G_N_ELEMENTS(cases);
		int release = n >= G_N_ELEMENTS(cases); /* handed over, then copied */
		struct written_step st = {&cases[i], 0, 0, release, -1, NULL, NULL};
		struct written_step next = {&cases[i], 0, 0, release, -1, NULL, NULL};

		check_int("prime", store_transact(store, written_prime, NULL, &error), IMI_OK);
		/* Read in the writing transaction, then in the next one. */
		check_int(cases[i].name, store_transact(store, written_run, &st, &error), IMI_OK);
		written_check(cases[i].name, &st, cases[i].want);
		check_int(cases[i].name, store_transact(store, written_read, &next, &error), IMI_OK);
		written_check(cases[i].name, &next, cases[i].want);
	}
	/* Never stale: other bytes written after the record, in the same
	 * transaction; a writing transaction aborted. */
	{
		struct written_step st = {&cases[0], 1, 0, 1, -1, NULL, NULL};
		struct written_step aborted = {&cases[0], 0, 1, 1, -1, NULL, NULL};
		struct written_step after = {&cases[0], 0, 0, 0, -1, NULL, NULL};

		check_int("prime", store_transact(store, written_prime, NULL, &error), IMI_OK);
		check_int("raw bytes after", store_transact(store, written_run, &st, &error), IMI_OK);
		check_str("raw bytes after: stored", st.stored, "{\"v\":1,\"kind\":\"raw\"}");
		check_str("raw bytes after: the record read",
			  json_object_get_string_member(st.obj, "kind"), "raw");
		written_check("raw bytes after", &st, IMI_OK);
		check_int("prime", store_transact(store, written_prime, NULL, &error), IMI_OK);
		check_int("aborted", store_transact(store, written_run, &aborted, &error), IMI_ERROR);
		g_clear_pointer(&error, g_free);
		check_int("after the abort", store_transact(store, written_read, &after, &error),
			  IMI_OK);
		check_str("after the abort: the record read",
			  json_object_get_string_member(after.obj, "kind"), "before");
		written_check("after the abort", &after, IMI_OK);
	}
	store_close(&store);
	testutil_rmdir(home);
}

/* store_record_text writes a record's text itself: the bytes must be
 * json_to_string's, for every byte and character in strings and member
 * names, for integers at their limits, and for records of every shape
 * (and json-glib's own text where it leaves the record to json-glib). */
static void text_check(const char *what, JsonObject *obj)
{
	size_t len;
	char *got = store_record_text(obj, &len);
	JsonNode *node = json_node_init_object(json_node_alloc(), obj);
	char *want = json_to_string(node, FALSE);

	if (strcmp(got, want) != 0)
		fail_msg("%s: text: got %s, want %s", what, got, want);
	if (len != strlen(want))
		fail_msg("%s: length: got %zu, want %zu", what, len, strlen(want));
	g_free(got);
	g_free(want);
	json_node_unref(node);
}

static void text_random_fill(GRand *rand, JsonObject *obj, int depth);

static char *text_random_string(GRand *rand)
{
	int n = g_rand_int_range(rand, 0, 12);
	char *s = g_malloc(n + 1);

	for (int i = 0; i < n; i++)
		s[i] = (char)g_rand_int_range(rand, 1, 256);
	s[n] = '\0';
	return s;
}

static JsonNode *text_random_node(GRand *rand, int depth)
{
	static const gint64 ints[] = {0, 1, -1, 9, 10, -10, 1234567890123, G_MAXINT64, G_MININT64,
				      G_MININT64 + 1};
	JsonNode *node = json_node_alloc();
	char *s;

	switch (g_rand_int_range(rand, 0, depth < 3 ? 8 : 6)) {
	case 0:
		json_node_init_int(node, ints[g_rand_int_range(rand, 0, G_N_ELEMENTS(ints))]);
		break;
	case 1:
		json_node_init_int(node, (gint64)g_rand_int(rand) - G_MAXINT32);
		break;
	case 2:
		json_node_init_boolean(node, g_rand_boolean(rand));
		break;
	case 3:
		json_node_init_null(node);
		break;
	case 4:
	case 5:
		s = text_random_string(rand);
		json_node_init_string(node, s);
		g_free(s);
		break;
	case 6: {
		JsonArray *a = json_array_new();
		int n = g_rand_int_range(rand, 0, 5);

		for (int i = 0; i < n; i++)
			json_array_add_element(a, text_random_node(rand, depth + 1));
		json_node_init_array(node, a);
		json_array_unref(a);
		break;
	}
	default: {
		JsonObject *o = json_object_new();

		text_random_fill(rand, o, depth + 1);
		json_node_init_object(node, o);
		json_object_unref(o);
		break;
	}
	}
	return node;
}

static void text_random_fill(GRand *rand, JsonObject *obj, int depth)
{
	int n = g_rand_int_range(rand, 0, 7);

	for (int i = 0; i < n; i++) {
		char *name = text_random_string(rand);

		json_object_set_member(obj, name, text_random_node(rand, depth));
		g_free(name);
	}
	/* A member set again keeps its place. */
	if (n > 0 && g_rand_boolean(rand))
		json_object_set_int_member(obj, "v", 1);
}

static void test_record_text(void **state)
{
	GRand *rand = g_rand_new_with_seed(20261207);
	char what[64];

	/* Every byte, in a value and in a member name. */
	for (int c = 1; c < 256; c++) {
		char s[4] = {'a', (char)c, 'b', '\0'};
		JsonObject *obj = json_object_new();

		json_object_set_string_member(obj, s, s);
		json_object_set_string_member(obj, s + 1, s + 1);
		g_snprintf(what, sizeof(what), "byte 0x%02x", c);
		text_check(what, obj);
		json_object_unref(obj);
	}
	/* Every character, as UTF-8. */
	for (gunichar u = 1; u <= 0x10ffff; u += (u < 0x3000 ? 1 : 97)) {
		char s[8] = {0};
		JsonObject *obj;

		if (u >= 0xd800 && u < 0xe000)
			continue;
		obj = json_object_new();
		g_unichar_to_utf8(u, s);
		json_object_set_int_member(obj, "v", 1);
		json_object_set_string_member(obj, "s", s);
		g_snprintf(what, sizeof(what), "U+%04X", u);
		text_check(what, obj);
		json_object_unref(obj);
	}
	/* Records of every shape. */
	for (int i = 0; i < 3000; i++) {
		JsonObject *obj = json_object_new();

		text_random_fill(rand, obj, 0);
		g_snprintf(what, sizeof(what), "random record %d", i);
		text_check(what, obj);
		json_object_unref(obj);
	}
	/* Doubles (json-glib writes those), an empty record ("v" is added). */
	{
		JsonObject *obj = json_object_new();

		text_check("empty", obj);
		json_object_set_double_member(obj, "d", 2.5);
		json_object_set_double_member(obj, "e", 3.0);
		text_check("doubles", obj);
		json_object_unref(obj);
	}
	g_rand_free(rand);
}

static void test_open_without_init(void **state)
{
	char *home = testutil_tmpdir("store-noinit");
	struct store *store = NULL;
	char *error = NULL;

	check_int("status", store_open(home, 0, &store, &error), IMI_NOTFOUND);
	if (error == NULL || strstr(error, "init") == NULL)
		fail_msg("error text: got \"%s\", want a hint to run imi init", error);
	g_free(error);
	testutil_rmdir(home);
}

static void test_put_get_exists(void **state)
{
	char *home = testutil_tmpdir("store-kv");
	struct store *store = open_store(home);
	struct kv kv = {STORE_META, "k1", "one", STORE_PUT_NEW};
	char *error = NULL;

	check_int("first put", store_transact(store, put_kv, &kv, &error), IMI_OK);
	kv.value = "two";
	check_int("second put with PUT_NEW", store_transact(store, put_kv, &kv, &error),
		  IMI_EXISTS);
	g_clear_pointer(&error, g_free);
	check_value(store, STORE_META, "k1", "one");
	kv.key = "missing";
	check_int("get missing", store_transact(store, get_kv, &kv, &error),
		  IMI_NOTFOUND);
	store_close(&store);
	check_int("closed pointer cleared", store == NULL, 1);
	testutil_rmdir(home);
}

static int add_users(struct store_txn *txn, void *ctx, char **error_r)
{
	const char **emails = ctx;
	int ret = IMI_OK;

	for (int i = 0; emails[i] != NULL && ret == IMI_OK; i++) {
		char *roles[] = {"handler", NULL};
		struct user u = {0};
		u.id = g_strdup_printf("u%d", i);
		u.email = (char *)emails[i];
		u.authority = "a1";
		u.roles = roles;
		ret = store_user_put(txn, &u, STORE_PUT_NEW, error_r);
		g_free(u.id);
	}
	return ret;
}

struct lookup {
	const char *email;
	struct user *user;
};

static int lookup_user(struct store_txn *txn, void *ctx, char **error_r)
{
	struct lookup *l = ctx;
	return store_user_get_by_email(txn, l->email, &l->user, error_r);
}

static void test_users_email_index(void **state)
{
	char *home = testutil_tmpdir("store-users");
	struct store *store = open_store(home);
	const char *emails[] = {"a@x.eu", "b@x.eu", NULL};
	const char *dup[] = {"c@x.eu", "a@x.eu", NULL};
	struct lookup l = {"B@X.EU", NULL};
	GString *report = g_string_new(NULL);
	char *error = NULL;

	check_int("add users", store_transact(store, add_users, emails, &error), IMI_OK);
	check_int("lookup by address", store_transact(store, lookup_user, &l, &error), IMI_OK);
	check_str("user id", l.user->id, "u1");
	check_int("has role", user_has_role(l.user, "handler"), 1);
	check_int("lacks role", user_has_role(l.user, "coordinator"), 0);
	user_free(&l.user);
	/* A second user with the same address: refused, and the whole
	 * transaction with it (c@x.eu is not there either). */
	check_int("duplicate address", store_transact(store, add_users, dup, &error),
		  IMI_EXISTS);
	g_clear_pointer(&error, g_free);
	l.email = "c@x.eu";
	check_int("rolled back", store_transact(store, lookup_user, &l, &error),
		  IMI_NOTFOUND);
	g_clear_pointer(&error, g_free);
	check_int("check", store_check(store, report, &error), IMI_OK);
	if (strstr(report->str, "e-mail index: 2 entries") == NULL)
		fail_msg("check report: got \"%s\", want 2 e-mail index entries", report->str);
	g_string_free(report, TRUE);
	store_close(&store);
	testutil_rmdir(home);
}

/* The Message-ID index against the messages, both ways: each row puts a
 * message (sequence, its Message-ID) and an index entry (Message-ID, the
 * sequence it names); the check must find exactly the broken ones. */
struct msgid_row {
	uint64_t seq;
	const char *message_id; /* in the message record */
	const char *entry;      /* index key; NULL: no entry */
	uint64_t names;         /* the entry's "message" */
};

static int put_msgid_rows(struct store_txn *txn, void *ctx, char **error_r)
{
	const struct msgid_row *r = ctx;
	int ret = IMI_OK;

	for (; ret == IMI_OK && r->seq != 0; r++) {
		unsigned char key[8];
		char *m = g_strdup_printf("{\"v\":1,\"message_id\":\"%s\"}", r->message_id);

		store_key_u64(r->seq, key);
		ret = store_put(txn, STORE_MESSAGES, key, 8, m, strlen(m), 0, error_r);
		g_free(m);
		if (ret == IMI_OK && r->entry != NULL) {
			char *e = g_strdup_printf("{\"v\":1,\"message\":%" G_GUINT64_FORMAT "}", r->names);
			ret = store_put(txn, STORE_MSGIDS, r->entry, strlen(r->entry), e, strlen(e), 0,
					error_r);
			g_free(e);
		}
	}
	return ret;
}

static void test_check_msgid_index(void **state)
{
	static const struct {
		const char *name;
		struct msgid_row rows[3];
		const char *want; /* in the report; NULL: consistent */
	} cases[] = {
		{"agree", {{1, "a@x", "a@x", 1}, {2, "b@x", "b@x", 2}}, NULL},
		{"message without entry", {{1, "a@x", "a@x", 1}, {2, "b@x", NULL, 0}},
		 "message 2 (b@x): not in the Message-ID index"},
		{"entry names another message", {{1, "a@x", "a@x", 2}, {2, "b@x", "b@x", 2}},
		 "Message-ID a@x: names a message of Message-ID b@x"},
		{"entry names a missing message", {{1, "a@x", "a@x", 7}},
		 "Message-ID a@x: its message is missing"},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *home = testutil_tmpdir("store-check");
		struct store *store = open_store(home);
		GString *report = g_string_new(NULL);
		char *error = NULL;
		int ret;

		check_int(cases[i].name, store_transact(store, put_msgid_rows,
							(void *)cases[i].rows, &error), IMI_OK);
		ret = store_check(store, report, &error);
		if (cases[i].want == NULL && ret != IMI_OK)
			fail_msg("%s: check got %d (%s), want consistent", cases[i].name, ret,
				 report->str);
		if (cases[i].want != NULL &&
		    (ret == IMI_OK || strstr(report->str, cases[i].want) == NULL))
			fail_msg("%s: check got %d, report \"%s\", want \"%s\"", cases[i].name,
				 ret, report->str, cases[i].want);
		g_free(error);
		g_string_free(report, TRUE);
		store_close(&store);
		testutil_rmdir(home);
	}
}

struct timers {
	GString *seen;
};

static int set_timers(struct store_txn *txn, void *ctx, char **error_r)
{
	static const struct {
		int64_t when;
		const char *case_id, *kind;
	} t[] = {
		{300, "C3", "remind"}, {100, "C1", "remind"}, {200, "C2", "delete"},
		{100, "C0", "close"}, {5000, "C9", "remind"},
	};
	int ret = IMI_OK;

	for (unsigned i = 0; i < G_N_ELEMENTS(t) && ret == IMI_OK; i++)
		ret = store_timer_set(txn, t[i].when, t[i].case_id, t[i].kind, error_r);
	return ret;
}

static int timer_seen(int64_t when, const char *case_id, const char *kind,
		      void *ctx)
{
	g_string_append_printf(ctx, "%lld:%s:%s ", (long long)when, case_id, kind);
	return 0;
}

static int due_timers(struct store_txn *txn, void *ctx, char **error_r)
{
	g_string_truncate(ctx, 0);
	return store_timer_each_due(txn, 300, timer_seen, ctx, error_r);
}

static int clear_one(struct store_txn *txn, void *ctx, char **error_r)
{
	return store_timer_clear(txn, 200, "C2", "delete", error_r);
}

static void test_timers_due(void **state)
{
	char *home = testutil_tmpdir("store-timers");
	struct store *store = open_store(home);
	GString *seen = g_string_new(NULL);
	char *error = NULL;

	check_int("set", store_transact(store, set_timers, NULL, &error), IMI_OK);
	check_int("due", store_transact(store, due_timers, seen, &error), IMI_OK);
	check_str("due at 300, in time order", seen->str,
		  "100:C0:close 100:C1:remind 200:C2:delete 300:C3:remind ");
	check_int("clear", store_transact(store, clear_one, NULL, &error), IMI_OK);
	check_int("due again", store_transact(store, due_timers, seen, &error), IMI_OK);
	check_str("after clear", seen->str, "100:C0:close 100:C1:remind 300:C3:remind ");
	g_string_free(seen, TRUE);
	store_close(&store);
	testutil_rmdir(home);
}

struct sealing {
	const char *key_id, *plain;
	char *sealed;
	void *opened;
	void *wrapped;
	size_t wrapped_len;
};

/* The wrapped key as it lies on disk: keys.db names its slot (4 bytes,
 * big-endian), keyslots.db holds it. */
static int wrapped_get(struct store_txn *txn, struct sealing *s, char **error_r)
{
	unsigned char *number = NULL;
	size_t len = 0;
	uint32_t slot;
	int ret = store_get(txn, STORE_KEYS, s->key_id, strlen(s->key_id), 0,
			    (void **)&number, &len, error_r);

	if (ret != IMI_OK)
		return ret;
	check_int("slot number length", (int)len, 4);
	slot = (uint32_t)number[0] << 24 | (uint32_t)number[1] << 16 |
	       (uint32_t)number[2] << 8 | number[3];
	g_free(number);
	return store_get(txn, STORE_KEYSLOTS, &slot, sizeof(slot), 0, &s->wrapped,
			 &s->wrapped_len, error_r);
}

static int seal_it(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sealing *s = ctx;
	int ret = store_key_create(txn, s->key_id, error_r);

	if (ret == IMI_OK)
		ret = store_seal(txn, s->key_id, s->plain, strlen(s->plain),
				 &s->sealed, error_r);
	if (ret == IMI_OK)
		ret = wrapped_get(txn, s, error_r);
	return ret;
}

static int open_it(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sealing *s = ctx;
	return store_unseal(txn, s->key_id, s->sealed, &s->opened, NULL, error_r);
}

static int destroy_it(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sealing *s = ctx;
	return store_key_destroy(txn, s->key_id, error_r);
}

/* Does any file under dir contain the bytes? */
static char *find_bytes(const char *dir, const void *needle, size_t len)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	char *found = NULL;

	while (d != NULL && found == NULL && (name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);
		char *data;
		gsize dlen;
		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			found = find_bytes(path, needle, len);
		else if (g_file_get_contents(path, &data, &dlen, NULL)) {
			if (memmem(data, dlen, needle, len) != NULL)
				found = g_strdup(path);
			g_free(data);
		}
		g_free(path);
	}
	if (d != NULL)
		g_dir_close(d);
	return found;
}

/* Two keys side by side, destroyed one after the other: neither may survive
 * anywhere (a B-tree would keep a stale copy of the second, moved on its
 * page when the first was deleted). */
static void test_seal_destroy_purge(void **state)
{
	char *home = testutil_tmpdir("store-seal");
	struct store *store = open_store(home);
	struct sealing s[] = {
		{"case:IMI-2026-000001", "Dr. Canary Zq7Vw, born 1970-01-02", NULL, NULL, NULL, 0},
		{"held:7", "Held Canary Xk2Pq", NULL, NULL, NULL, 0},
	};
	char *error = NULL, *where;

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(s); i++) {
		check_int("seal", store_transact(store, seal_it, &s[i], &error), IMI_OK);
		if (strstr(s[i].sealed, "Canary") != NULL)
			fail_msg("sealed text of %s holds the plaintext", s[i].key_id);
		check_int("unseal", store_transact(store, open_it, &s[i], &error), IMI_OK);
		check_str("round trip", s[i].opened, s[i].plain);
		g_clear_pointer(&s[i].opened, g_free);
		check_int("wrapped key length", (int)s[i].wrapped_len, 72);
		where = find_bytes(home, s[i].wrapped, s[i].wrapped_len);
		if (where == NULL)
			fail_msg("the wrapped key of %s should be on disk before deletion",
				 s[i].key_id);
		g_free(where);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(s); i++) {
		check_int("destroy", store_transact(store, destroy_it, &s[i], &error), IMI_OK);
		check_int("destroy again", store_transact(store, destroy_it, &s[i], &error),
			  IMI_NOTFOUND);
		g_clear_pointer(&error, g_free);
	}
	check_int("purge logs", store_purge_logs(store, &error), IMI_OK);
	for (unsigned i = 0; i < G_N_ELEMENTS(s); i++) {
		check_int("unseal after destroy", store_transact(store, open_it, &s[i], &error),
			  IMI_NOTFOUND);
		g_clear_pointer(&error, g_free);
	}
	store_close(&store);
	for (unsigned i = 0; i < G_N_ELEMENTS(s); i++) {
		where = find_bytes(home, s[i].wrapped, s[i].wrapped_len);
		if (where != NULL)
			fail_msg("destroyed key %s still in %s", s[i].key_id, where);
		g_free(s[i].sealed);
		g_free(s[i].wrapped);
	}
	testutil_rmdir(home);
}

/* A home made before key slots holds its wrapped keys in keys.db itself:
 * they still open, and are destroyed without a trace. */
static int old_key_put(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sealing *s = ctx;
	unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char *wrapped = g_malloc(STORE_WRAPPED_KEY_BYTES);
	size_t nonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(wrapped, nonce);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		wrapped + nonce, NULL, key, sizeof(key), (const unsigned char *)s->key_id,
		strlen(s->key_id), NULL, wrapped, txn->store->master);
	s->wrapped = wrapped;
	s->wrapped_len = STORE_WRAPPED_KEY_BYTES;
	return store_put(txn, STORE_KEYS, s->key_id, strlen(s->key_id), wrapped,
			 STORE_WRAPPED_KEY_BYTES, STORE_PUT_NEW, error_r);
}

static int old_key_seal(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sealing *s = ctx;
	return store_seal(txn, s->key_id, s->plain, strlen(s->plain), &s->sealed, error_r);
}

static void test_seal_old_home_key(void **state)
{
	char *home = testutil_tmpdir("store-oldkey");
	struct store *store = open_store(home);
	struct sealing s = {"case:IMI-2025-000009", "Old Canary Mv3Rt", NULL, NULL, NULL, 0};
	char *error = NULL, *where;

	(void)state;
	check_int("old key", store_transact(store, old_key_put, &s, &error), IMI_OK);
	check_int("seal with it", store_transact(store, old_key_seal, &s, &error), IMI_OK);
	check_int("unseal", store_transact(store, open_it, &s, &error), IMI_OK);
	check_str("round trip", s.opened, s.plain);
	g_clear_pointer(&s.opened, g_free);
	check_int("destroy", store_transact(store, destroy_it, &s, &error), IMI_OK);
	check_int("purge logs", store_purge_logs(store, &error), IMI_OK);
	check_int("unseal after destroy", store_transact(store, open_it, &s, &error), IMI_NOTFOUND);
	g_clear_pointer(&error, g_free);
	store_close(&store);
	where = find_bytes(home, s.wrapped, s.wrapped_len);
	if (where != NULL)
		fail_msg("destroyed old key still in %s", where);
	g_free(s.sealed);
	g_free(s.wrapped);
	testutil_rmdir(home);
}

/* Several writer processes, one killed with SIGKILL mid-run. */
#define WRITERS 4
#define WRITER_COMMITS 150

static int write_pair(struct store_txn *txn, void *ctx, char **error_r)
{
	const char *key = ctx;
	char *a = g_strconcat(key, "/a", NULL), *b = g_strconcat(key, "/b", NULL);
	uint64_t n;
	int ret = store_put(txn, STORE_CASES, a, strlen(a), key, strlen(key), 0, error_r);

	/* A shared counter makes the writers contend for the same page. */
	if (ret == IMI_OK)
		ret = store_next(txn, "crash-test", &n, error_r);
	if (ret == IMI_OK)
		ret = store_put(txn, STORE_CASES, b, strlen(b), key, strlen(key), 0, error_r);
	g_free(a);
	g_free(b);
	return ret;
}

static void writer(const char *home, int id, int fd)
{
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(home, 0, &store, &error) != IMI_OK) {
		fprintf(stderr, "writer %d: %s\n", id, error);
		_exit(2);
	}
	for (int n = 0; n < WRITER_COMMITS; n++) {
		char key[64] = {0};
		snprintf(key, sizeof(key), "w%d-%04d", id, n);
		if (store_transact(store, write_pair, key, &error) != IMI_OK) {
			fprintf(stderr, "writer %d: %s\n", id, error);
			_exit(3);
		}
		/* Reported only after the commit returned. */
		if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key))
			_exit(4);
	}
	store_close(&store);
	_exit(0);
}

static int count_pairs(const void *key, size_t len, const void *value,
		       size_t vlen, void *ctx)
{
	GHashTable *seen = ctx;
	char *k = g_strndup(key, len);
	char *slash = strrchr(k, '/');

	if (slash != NULL) {
		*slash = '\0';
		g_hash_table_insert(seen, k, GINT_TO_POINTER(
			GPOINTER_TO_INT(g_hash_table_lookup(seen, k)) + 1));
	} else {
		g_free(k);
	}
	return 0;
}

static int read_pairs(struct store_txn *txn, void *ctx, char **error_r)
{
	g_hash_table_remove_all(ctx);
	return store_each(txn, STORE_CASES, NULL, 0, count_pairs, ctx, error_r);
}

static void test_crash_writers(void **state)
{
	char *home = testutil_tmpdir("store-crash");
	struct store *store = open_store(home);
	int fds[WRITERS][2];
	pid_t pids[WRITERS];
	GPtrArray *reported;
	GHashTable *seen;
	char key[64], first[WRITERS][64] = {{0}}, *error = NULL;
	int victim = 1, victim_commits = 0;

	store_close(&store);
	/* The other writers first, each running (it has committed once, so
	 * it has the store open) before the victim starts: the test is of
	 * writers that go on past a death, not of a process that opens the
	 * store at that moment. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < WRITERS; i++) {
			if ((i == victim) != (round == 1))
				continue;
			if (pipe(fds[i]) != 0)
				fail_msg("pipe");
			if ((pids[i] = fork()) == 0) {
				close(fds[i][0]);
				writer(home, i, fds[i][1]);
			}
			close(fds[i][1]);
			if (i != victim &&
			    read(fds[i][0], first[i], sizeof(first[i])) != sizeof(first[i]))
				first[i][0] = '\0';
		}
	}
	/* Allocated after the forks, so the writers inherit nothing to free
	 * (valgrind checks the leaks of each at its _exit). */
	reported = g_ptr_array_new_with_free_func(g_free);
	seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (int i = 0; i < WRITERS; i++)
		if (i != victim && first[i][0] != '\0')
			g_ptr_array_add(reported, g_strndup(first[i], sizeof(first[i])));
	/* Let the victim commit a little, then kill it mid-run. */
	while (victim_commits < 20 && read(fds[victim][0], key, sizeof(key)) == sizeof(key)) {
		g_ptr_array_add(reported, g_strdup(key));
		victim_commits++;
	}
	kill(pids[victim], SIGKILL);
	for (int i = 0; i < WRITERS; i++) {
		int status;
		while (read(fds[i][0], key, sizeof(key)) == sizeof(key))
			g_ptr_array_add(reported, g_strdup(key));
		close(fds[i][0]);
		waitpid(pids[i], &status, 0);
		if (i == victim) {
			check_int("victim killed", WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, 1);
		} else {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				fail_msg("survivor %d: got status %d, want a clean exit", i, status);
		}
	}
	/* Each survivor reported all its commits. */
	check_int("reported", reported->len >= (WRITERS - 1) * WRITER_COMMITS + 20, 1);

	store = open_store(home);
	check_int("read back", store_transact(store, read_pairs, seen, &error), IMI_OK);
	for (guint i = 0; i < reported->len; i++) {
		int halves = GPOINTER_TO_INT(g_hash_table_lookup(seen, reported->pdata[i]));
		if (halves != 2)
			fail_msg("commit %s: got %d halves, want 2", (char *)reported->pdata[i], halves);
	}
	{
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, seen);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (GPOINTER_TO_INT(v) != 2)
				fail_msg("half-written transaction visible: %s has %d of 2",
					 (char *)k, GPOINTER_TO_INT(v));
	}
	store_close(&store);
	/* The files pass Berkeley DB's own verifier. */
	{
		char *cmd = g_strdup_printf("cd '%s/db' && for f in *.db; do db5.3_verify -q \"$f\" || exit 1; done", home);
		check_int("db_verify", system(cmd), 0);
		g_free(cmd);
	}
	g_ptr_array_free(reported, TRUE);
	g_hash_table_destroy(seen);
	testutil_rmdir(home);
}

/* A wait on a process-shared condition that nobody will signal, as the
 * waiters of a group commit whose leader was killed: with a dead process
 * in the registry it fails with EOWNERDEAD after the wedge period, and the
 * store recovers at its next transaction; behind a living process a
 * signalled wait ends normally, however long its slices were. */
struct shared_wait {
	pthread_mutex_t m;
	pthread_cond_t c;
	pthread_rwlock_t rw; /* a shared latch, as Berkeley DB's */
	int flag;
	unsigned delay_ms; /* signal_later waits this long */
};

static void *signal_later(void *p)
{
	struct shared_wait *w = p;

	g_usleep(w->delay_ms * 1000);
	pthread_mutex_lock(&w->m);
	w->flag = 1;
	pthread_cond_signal(&w->c);
	pthread_mutex_unlock(&w->m);
	return NULL;
}

/* A process-shared mutex, condition and rwlock in memory that forked
 * children share (munmap to free). */
static struct shared_wait *shared_wait_new(void)
{
	struct shared_wait *w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_rwlockattr_t ra;

	assert_true(w != MAP_FAILED);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&w->m, &ma);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&w->c, &ca);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	pthread_rwlock_init(&w->rw, &ra);
	w->flag = 0;
	w->delay_ms = 2500;
	return w;
}

static void shared_wait_free(struct shared_wait *w)
{
	pthread_rwlock_destroy(&w->rw);
	pthread_cond_destroy(&w->c);
	pthread_mutex_destroy(&w->m);
	munmap(w, sizeof(*w));
}

/* Waits as Berkeley DB does: until the flag is set or the wait fails. */
static int wait_flag(struct shared_wait *w)
{
	int ret = 0;

	pthread_mutex_lock(&w->m);
	while (!w->flag && ret == 0)
		ret = pthread_cond_wait(&w->c, &w->m);
	pthread_mutex_unlock(&w->m);
	return ret;
}

static void test_wedged_wait(void **state)
{
	char *home = testutil_tmpdir("store-wedge");
	struct store *store = open_store(home);
	struct shared_wait *w = shared_wait_new();
	struct kv kv = {STORE_META, "after", "recovered", 0};
	pthread_t t;
	gint64 start;
	char *error = NULL;
	pid_t pid;
	int ret, st;

	(void)state;
	/* Nobody dead: a signal after 4.5 s, past the wedge period, ends
	 * the wait (this process's own line in the registry is no dead
	 * process). */
	w->delay_ms = 4500;
	pthread_create(&t, NULL, signal_later, w);
	check_int("wait behind a living process", wait_flag(w), 0);
	pthread_join(t, NULL);
	check_int("flag seen", w->flag, 1);

	/* A process dies with the store open: its registry line stays. */
	pid = fork();
	if (pid == 0) {
		struct store *s2 = NULL;

		if (store_open(home, 0, &s2, NULL) == IMI_OK) {
			g_free(home);
			kill(getpid(), SIGKILL);
		}
		_exit(1);
	}
	waitpid(pid, &st, 0);
	check_int("child killed", WIFSIGNALED(st) ? WTERMSIG(st) : -1, SIGKILL);
	w->flag = 0;
	start = g_get_monotonic_time();
	ret = wait_flag(w);
	check_int("wedged wait fails", ret, EOWNERDEAD);
	if (g_get_monotonic_time() - start < 2 * G_USEC_PER_SEC)
		fail_msg("the wait failed after %" G_GINT64_FORMAT " us, before the wedge period",
			 g_get_monotonic_time() - start);
	/* The environment was panicked: the next transaction recovers. */
	check_int("a transaction after the panic", store_transact(store, put_kv, &kv, &error),
		  IMI_OK);
	g_free(error);
	store_close(&store);
	shared_wait_free(w);
	testutil_rmdir(home);
}

/* A wait in an environment that is panicked (what a process that reopens
 * after a death, or recovers, does to the regions the others still map)
 * while its registry names nobody dead: the wait fails after the wedge
 * period all the same, and the next transaction reopens.  A wait that went
 * on would end only by the signal 8 s later. */
static void test_panicked_wait(void **state)
{
	char *home = testutil_tmpdir("store-panicked");
	struct store *store = open_store(home);
	struct shared_wait *w = shared_wait_new();
	struct kv kv = {STORE_META, "after", "reopened", 0};
	char *error = NULL;
	pthread_t t;
	int ret;

	(void)state;
	check_int("a write", store_transact(store, put_kv, &kv, &error), IMI_OK);
	store->env->set_flags(store->env, DB_PANIC_ENVIRONMENT, 1);
	w->delay_ms = 8000;
	pthread_create(&t, NULL, signal_later, w);
	ret = wait_flag(w);
	check_int("the wait in the panicked environment fails", ret, EOWNERDEAD);
	check_int("before the signal", w->flag, 0);
	pthread_join(t, NULL);
	kv.value = "again";
	check_int("a transaction after it", store_transact(store, put_kv, &kv, &error), IMI_OK);
	g_free(error);
	store_close(&store);
	shared_wait_free(w);
	testutil_rmdir(home);
}

/* A call that may block for ever, run in a thread: 1 when it returned
 * within the given time.  A call still blocked is left to its thread
 * (whose argument then must stay valid). */
struct bounded {
	int (*fn)(void *arg);
	void *arg;
	int ret;
	int done;
};

static void *bounded_run(void *p)
{
	struct bounded *b = p;

	b->ret = b->fn(b->arg);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int run_bounded(struct bounded *b, unsigned seconds)
{
	pthread_t t;

	b->done = 0;
	pthread_create(&t, NULL, bounded_run, b);
	for (unsigned i = 0; i < seconds * 100 && !__atomic_load_n(&b->done, __ATOMIC_ACQUIRE); i++)
		g_usleep(10000);
	if (!__atomic_load_n(&b->done, __ATOMIC_ACQUIRE)) {
		pthread_detach(t);
		return 0;
	}
	pthread_join(t, NULL);
	return 1;
}

static int destroy_cond(void *arg)
{
	return pthread_cond_destroy(arg);
}

/* A condition whose waiter was killed inside the wait, as failchk meets
 * it when it frees a dead process's mutexes: destroying it returns
 * instead of waiting for ever for a waiter that never leaves. */
static void test_dead_waiter_destroy(void **state)
{
	struct shared_wait *w = shared_wait_new();
	struct bounded b = {destroy_cond, &w->c, -1, 0};
	pid_t pid;
	int st, waiting = 0;

	(void)state;
	pid = fork();
	if (pid == 0) {
		wait_flag(w);
		_exit(0);
	}
	/* Until the child is counted among the condition's waiters
	 * (glibc counts them in __wrefs from bit 3 up). */
	for (int i = 0; i < 500 && !waiting; i++) {
		waiting = (__atomic_load_n(&w->c.__data.__wrefs, __ATOMIC_ACQUIRE) >> 3) != 0;
		if (!waiting)
			g_usleep(10000);
	}
	check_int("the child waits", waiting, 1);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	check_int("the destroy returns", run_bounded(&b, 5), 1);
	if (!b.done)
		return; /* its thread still uses w */
	check_int("and succeeds", b.ret, 0);
	pthread_cond_init(&w->c, NULL);
	shared_wait_free(w);
}

static int latch_read(void *arg)
{
	return pthread_rwlock_rdlock(arg);
}

static int latch_write(void *arg)
{
	return pthread_rwlock_wrlock(arg);
}

/* A process that opens the store at home, takes something with
 * hold(store, arg, fd), says so by writing a byte on fd and waits to be
 * killed; it is SIGKILLed once the byte arrives.  Returns 1 when the byte
 * came; *status_r is the child's wait status. */
typedef void hold_fn(struct store *store, void *arg, int fd);

static int hold_and_kill(const char *home, hold_fn *hold, void *arg, int *status_r)
{
	int fds[2];
	ssize_t got;
	char c;
	pid_t pid;

	if (pipe(fds) != 0)
		fail_msg("pipe");
	pid = fork();
	if (pid == 0) {
		struct store *s2 = NULL;

		close(fds[0]);
		if (store_open(home, 0, &s2, NULL) == IMI_OK)
			hold(s2, arg, fds[1]);
		_exit(1);
	}
	close(fds[1]);
	got = read(fds[0], &c, 1);
	close(fds[0]);
	kill(pid, SIGKILL);
	waitpid(pid, status_r, 0);
	return got == 1;
}

static void hold_latch(struct store *store, void *arg, int fd)
{
	(void)store;
	if (pthread_rwlock_wrlock(arg) == 0 && write(fd, "l", 1) == 1)
		for (;;)
			pause();
}

/* A shared latch (a process-shared rwlock, which cannot be robust) held
 * by a process killed with the store open: a wait for it, to read or to
 * write, fails with EOWNERDEAD after the wedge period instead of lasting
 * for ever, and the store recovers at its next transaction. */
static void test_dead_latch_holder(void **state)
{
	char *home = testutil_tmpdir("store-latch");
	struct store *store = open_store(home);
	struct shared_wait *w = shared_wait_new();
	struct kv kv = {STORE_META, "latch", "first", 0};
	struct bounded rd = {latch_read, &w->rw, -1, 0}, wr = {latch_write, &w->rw, -1, 0};
	char *error = NULL;
	int st;

	(void)state;
	check_int("a write", store_transact(store, put_kv, &kv, &error), IMI_OK);
	check_int("the child holds the latch", hold_and_kill(home, hold_latch, &w->rw, &st), 1);
	/* The wedge period is 3 s here (main). */
	check_int("a wait to read ends", run_bounded(&rd, 8), 1);
	check_int("a wait to write ends", rd.done && run_bounded(&wr, 8), 1);
	if (!rd.done || !wr.done)
		return; /* a thread still waits on w */
	check_int("the wait to read fails", rd.ret, EOWNERDEAD);
	check_int("the wait to write fails", wr.ret, EOWNERDEAD);
	kv.value = "after";
	check_int("a transaction after them", store_transact(store, put_kv, &kv, &error), IMI_OK);
	g_free(error);
	store_close(&store);
	pthread_rwlock_init(&w->rw, NULL);
	shared_wait_free(w);
	testutil_rmdir(home);
}

/* Writes its key, says so on the pipe and waits to be killed: a process
 * that dies holding a transaction's write lock. */
struct holder {
	struct kv kv;
	int fd;
};

static int put_and_hang(struct store_txn *txn, void *ctx, char **error_r)
{
	struct holder *h = ctx;
	int ret = put_kv(txn, &h->kv, error_r);

	if (ret == IMI_OK && write(h->fd, "w", 1) != 1)
		_exit(2);
	for (;;)
		pause();
	return ret;
}

static void hold_lock(struct store *store, void *arg, int fd)
{
	struct holder h = {*(struct kv *)arg, fd};

	store_transact(store, put_and_hang, &h, NULL);
}

/* A transaction held by a process killed outside Berkeley DB: the
 * survivor's conflicts last, its watchdog runs failchk, which aborts the
 * dead transaction, and the survivor's write goes through. */
static void test_dead_holder(void **state)
{
	char *home = testutil_tmpdir("store-holder");
	struct store *store = open_store(home);
	struct kv kv = {STORE_META, "held", "first", 0};
	struct kv child = {STORE_META, "held", "child", 0};
	char *error = NULL;
	int st;

	(void)state;
	check_int("a write", store_transact(store, put_kv, &kv, &error), IMI_OK);
	check_int("the child holds the lock", hold_and_kill(home, hold_lock, &child, &st), 1);
	check_int("child killed", WIFSIGNALED(st) ? WTERMSIG(st) : -1, SIGKILL);
	kv.value = "second";
	check_int("a write behind the dead holder", store_transact(store, put_kv, &kv, &error),
		  IMI_OK);
	g_clear_pointer(&error, g_free);
	check_value(store, STORE_META, "held", "second");
	store_close(&store);
	testutil_rmdir(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_without_init),
		cmocka_unit_test(test_put_get_exists),
		cmocka_unit_test(test_record_shared),
		cmocka_unit_test(test_record_shared_written),
		cmocka_unit_test(test_record_text),
		cmocka_unit_test(test_users_email_index),
		cmocka_unit_test(test_check_msgid_index),
		cmocka_unit_test(test_timers_due),
		cmocka_unit_test(test_seal_destroy_purge),
		cmocka_unit_test(test_seal_old_home_key),
		cmocka_unit_test(test_crash_writers),
		cmocka_unit_test(test_wedged_wait),
		cmocka_unit_test(test_panicked_wait),
		cmocka_unit_test(test_dead_holder),
		cmocka_unit_test(test_dead_waiter_destroy),
		cmocka_unit_test(test_dead_latch_holder),
	};
	setenv("IMI_STORE_WEDGE_SECONDS", "3", 1);
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

/*
 * cmd_subject_access.c: imi subject-access — what is still held about a
 * data subject.
 *
 * Opens the personal data of every case not yet deleted (the sealed
 * members, blocked ones included: blocked data are still held), the stored
 * messages (of cases, and the held ones with keys of their own; bytes,
 * decoded subject and text), the outbox (waiting or failed) and the
 * directory's users, and prints those in which the query occurs (letter
 * case ignored): the case with the matching fields, the messages with
 * their Message-ID and date.  The answer to an access request is built
 * from this; nothing is changed.  The audit log records that a search was
 * made and by whom, never the query or what was found (that would put the
 * personal data into the log).
 *
 * Bounds: SUBJECT_MIN_QUERY characters at least (a shorter query would
 * match nearly everything); SUBJECT_MAX_RESULTS cases and messages listed.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "parser/message.h"
#include "policies/case_record.h"
#include "store/blob.h"

#define SUBJECT_MIN_QUERY 3       /* characters of a query */
#define SUBJECT_MAX_RESULTS 10000 /* cases, messages and users listed */

struct subject_search {
	struct store_txn *txn;
	char *needle;        /* the query, case-folded */
	JsonArray *cases;    /* what was found */
	JsonArray *held;     /* messages of no case */
	JsonArray *users;
	JsonArray *outbox;   /* messages waiting to be sent, or failed */
	GHashTable *by_case; /* case id -> JsonObject in cases (borrowed) */
	unsigned found;
};

static int subject_match(const struct subject_search *s, const char *text, size_t len);

/* A stored message holds the query in its bytes, or in its decoded
 * subject or text (a base64 or quoted-printable body hides it from the
 * bytes). */
static int subject_match_message(const struct subject_search *s, const char *raw, size_t len)
{
	struct parsed_message *msg = NULL;
	const char *subject, *text;
	size_t tlen = 0;
	int hit = 0;

	if (raw == NULL)
		return 0;
	if (subject_match(s, raw, len))
		return 1;
	if (parsed_message_read(raw, len, NULL, &msg, NULL) != IMI_OK)
		return 0;
	subject = parsed_message_subject(msg);
	text = parsed_message_text(msg, &tlen);
	hit = (subject != NULL && subject_match(s, subject, strlen(subject))) ||
	      (text != NULL && subject_match(s, text, tlen));
	parsed_message_free(&msg);
	return hit;
}

static int subject_match(const struct subject_search *s, const char *text, size_t len)
{
	char *folded;
	int hit;

	if (text == NULL || !g_utf8_validate(text, len, NULL))
		return 0;
	folded = g_utf8_casefold(text, len);
	hit = strstr(folded, s->needle) != NULL;
	g_free(folded);
	return hit;
}

/* The opened text of a sealed value, or NULL (key gone, not readable). */
static char *subject_unseal(struct store_txn *txn, const char *key_id, const char *sealed,
			    size_t *len_r)
{
	void *plain = NULL;
	size_t len = 0;
	char *text;

	if (sealed == NULL || store_unseal(txn, key_id, sealed, &plain, &len, NULL) != IMI_OK)
		return NULL;
	text = g_strndup(plain, len);
	memset(plain, 0, len);
	g_free(plain);
	*len_r = len;
	return text;
}

/* The record of a case in the result, made on first use. */
static JsonObject *subject_case(struct subject_search *s, JsonObject *c)
{
	const char *id = case_str(c, "id");
	JsonObject *r = g_hash_table_lookup(s->by_case, id);

	if (r != NULL)
		return r;
	r = json_object_new();
	json_object_set_string_member(r, "id", id);
	json_object_set_string_member(r, "kind", case_str(c, "kind") ? case_str(c, "kind") : "");
	json_object_set_string_member(r, "state", case_str(c, "state") ? case_str(c, "state") : "");
	json_object_set_string_member(r, "retention",
				      case_str(c, "retention") && *case_str(c, "retention")
				      ? case_str(c, "retention") : "held");
	json_object_set_object_member(r, "fields", json_object_new());
	json_object_set_array_member(r, "messages", json_array_new());
	json_array_add_object_element(s->cases, r);
	g_hash_table_insert(s->by_case, g_strdup(id), r);
	return r;
}

static int subject_case_step(const void *key, size_t key_len, const void *value, size_t len,
			     void *ctx)
{
	struct subject_search *s = ctx;
	JsonObject *c = NULL;
	GList *members;
	char *key_id;

	(void)key;
	(void)key_len;
	if (s->found >= SUBJECT_MAX_RESULTS)
		return 1;
	if (store_record_parse(value, len, &c, NULL) != IMI_OK)
		return 0;
	if (g_strcmp0(case_str(c, "retention"), "deleted") == 0 || case_str(c, "id") == NULL) {
		json_object_unref(c);
		return 0;
	}
	key_id = case_key_id(case_str(c, "id"));
	members = json_object_get_members(c);
	for (GList *m = members; m != NULL; m = m->next) {
		const char *name = m->data;
		char *text;
		size_t tlen = 0;

		if (!g_str_has_prefix(name, "sealed_"))
			continue;
		text = subject_unseal(s->txn, key_id, case_str(c, name), &tlen);
		if (text != NULL && subject_match(s, text, tlen)) {
			JsonObject *fields = json_object_get_object_member(subject_case(s, c),
									   "fields");
			json_object_set_string_member(fields, name + 7, text);
			s->found++;
		}
		if (text != NULL)
			memset(text, 0, tlen);
		g_free(text);
	}
	g_list_free(members);
	g_free(key_id);
	json_object_unref(c);
	return 0;
}

static int subject_message_step(const void *key, size_t key_len, const void *value,
				size_t len, void *ctx)
{
	struct subject_search *s = ctx;
	JsonObject *m = NULL;
	const char *case_id, *key_id;
	char *text;
	size_t tlen = 0;

	(void)key;
	if (key_len != 8 || s->found >= SUBJECT_MAX_RESULTS)
		return s->found >= SUBJECT_MAX_RESULTS ? 1 : 0;
	if (store_record_parse(value, len, &m, NULL) != IMI_OK)
		return 0;
	case_id = case_str(m, "case");
	key_id = case_str(m, "key");
	if (key_id == NULL || blob_record_raw(s->txn, m, (void **)&text, &tlen, NULL) != IMI_OK)
		text = NULL;
	if (subject_match_message(s, text, tlen)) {
		JsonObject *r = json_object_new();
		char *received = case_day(case_int(m, "received"));

		json_object_set_int_member(r, "seq", (gint64)store_key_u64_get(key));
		json_object_set_string_member(r, "message_id",
					      case_str(m, "message_id") ? case_str(m, "message_id") : "");
		json_object_set_string_member(r, "received", received);
		json_object_set_string_member(r, "outcome", case_str(m, "state") ? case_str(m, "state") : "");
		g_free(received);
		if (case_id != NULL && *case_id != '\0') {
			JsonObject *c = NULL;

			json_object_set_string_member(r, "case", case_id);
			if (store_record_get(s->txn, STORE_CASES, case_id, 0, &c, NULL) == IMI_OK) {
				json_array_add_object_element(
					json_object_get_array_member(subject_case(s, c), "messages"),
					json_object_ref(r));
				json_object_unref(c);
			}
		} else {
			json_array_add_object_element(s->held, json_object_ref(r));
		}
		json_object_unref(r);
		s->found++;
	}
	if (text != NULL)
		memset(text, 0, tlen);
	g_free(text);
	json_object_unref(m);
	return 0;
}

static int subject_outbox_seq(const void *key, size_t key_len, const void *value,
			      size_t len, void *ctx)
{
	GArray *seqs = ctx;

	(void)value;
	(void)len;
	if (key_len == 8) {
		uint64_t seq = store_key_u64_get(key);
		g_array_append_val(seqs, seq);
	}
	return seqs->len >= SUBJECT_MAX_RESULTS * 100 ? 1 : 0;
}

/* What waits in the outbox (or failed there), opened. */
static int subject_outbox(struct subject_search *s, char **error_r)
{
	GArray *seqs = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	int ret = store_each(s->txn, STORE_OUTBOX, NULL, 0, subject_outbox_seq, seqs, error_r);

	for (guint i = 0; ret >= 0 && i < seqs->len && s->found < SUBJECT_MAX_RESULTS; i++) {
		struct outbox_item *item = NULL;
		void *raw = NULL;
		size_t len = 0;

		if (outbox_read(s->txn, g_array_index(seqs, uint64_t, i), &item, &raw, &len,
				NULL) != IMI_OK)
			continue;
		if (subject_match_message(s, raw, len)) {
			JsonObject *r = json_object_new();
			char *to = g_strjoinv(",", item->to);

			json_object_set_string_member(r, "message_id", item->message_id);
			json_object_set_string_member(r, "to", to);
			json_object_set_string_member(r, "case", item->case_id ? item->case_id : "");
			json_object_set_string_member(r, "state", item->state ? item->state : "");
			json_array_add_object_element(s->outbox, r);
			s->found++;
			g_free(to);
		}
		memset(raw, 0, len);
		g_free(raw);
		outbox_item_free(&item);
	}
	g_array_free(seqs, TRUE);
	return ret < 0 ? ret : IMI_OK;
}

static int subject_user_step(const void *key, size_t key_len, const void *value, size_t len,
			     void *ctx)
{
	struct subject_search *s = ctx;
	JsonObject *obj = NULL;
	struct user *u = NULL;

	(void)key;
	(void)key_len;
	if (s->found >= SUBJECT_MAX_RESULTS)
		return 1;
	if (store_record_parse(value, len, &obj, NULL) != IMI_OK)
		return 0;
	if (user_from_json(obj, &u, NULL) == IMI_OK &&
	    ((u->email != NULL && subject_match(s, u->email, strlen(u->email))) ||
	     (u->name != NULL && subject_match(s, u->name, strlen(u->name))))) {
		JsonObject *r = json_object_new();

		json_object_set_string_member(r, "id", u->id);
		json_object_set_string_member(r, "email", u->email ? u->email : "");
		json_object_set_string_member(r, "name", u->name ? u->name : "");
		json_object_set_string_member(r, "authority", u->authority ? u->authority : "");
		json_array_add_object_element(s->users, r);
		s->found++;
	}
	user_free(&u);
	json_object_unref(obj);
	return 0;
}

static int subject_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct subject_search *s = ctx;
	int ret;

	/* A retried transaction starts from nothing. */
	if (s->cases != NULL) {
		json_array_unref(s->cases);
		json_array_unref(s->held);
		json_array_unref(s->users);
		json_array_unref(s->outbox);
		g_hash_table_remove_all(s->by_case);
	}
	s->cases = json_array_new();
	s->held = json_array_new();
	s->users = json_array_new();
	s->outbox = json_array_new();
	s->found = 0;
	s->txn = txn;
	ret = store_each(txn, STORE_CASES, NULL, 0, subject_case_step, s, error_r);
	if (ret >= 0)
		ret = store_each(txn, STORE_MESSAGES, NULL, 0, subject_message_step, s, error_r);
	if (ret >= 0)
		ret = subject_outbox(s, error_r);
	if (ret >= 0)
		ret = store_each(txn, STORE_USERS, NULL, 0, subject_user_step, s, error_r);
	return ret < 0 ? ret : IMI_OK;
}

struct subject_audit {
	const char *by; /* who asked: the record, never the query */
};

static int subject_audit_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct subject_audit *a = ctx;

	return store_audit(txn, "operator", NULL, "subject-access", a->by, error_r);
}

static void subject_print_text(const struct subject_search *s)
{
	for (guint i = 0; i < json_array_get_length(s->cases); i++) {
		JsonObject *c = json_array_get_object_element(s->cases, i);
		JsonObject *fields = json_object_get_object_member(c, "fields");
		JsonArray *msgs = json_object_get_array_member(c, "messages");
		GList *names = json_object_get_members(fields);

		printf("case %s (%s, %s, personal data %s)\n", case_str(c, "id"),
		       case_str(c, "kind"), case_str(c, "state"), case_str(c, "retention"));
		for (GList *n = names; n != NULL; n = n->next)
			printf("  %s: %s\n", (char *)n->data,
			       json_object_get_string_member(fields, n->data));
		g_list_free(names);
		for (guint k = 0; k < json_array_get_length(msgs); k++) {
			JsonObject *m = json_array_get_object_element(msgs, k);
			printf("  message <%s> received %s (%s)\n", case_str(m, "message_id"),
			       case_str(m, "received"), case_str(m, "outcome"));
		}
	}
	for (guint i = 0; i < json_array_get_length(s->held); i++) {
		JsonObject *m = json_array_get_object_element(s->held, i);
		printf("message of no case <%s> received %s (%s)\n", case_str(m, "message_id"),
		       case_str(m, "received"), case_str(m, "outcome"));
	}
	for (guint i = 0; i < json_array_get_length(s->outbox); i++) {
		JsonObject *m = json_array_get_object_element(s->outbox, i);
		printf("outgoing message <%s> to %s (%s%s%s)\n", case_str(m, "message_id"),
		       case_str(m, "to"), case_str(m, "state"), *case_str(m, "case") ? ", case " : "",
		       case_str(m, "case"));
	}
	for (guint i = 0; i < json_array_get_length(s->users); i++) {
		JsonObject *u = json_array_get_object_element(s->users, i);
		printf("user %s <%s> of %s\n", case_str(u, "name"), case_str(u, "email"),
		       case_str(u, "authority"));
	}
	if (s->found == 0)
		printf("nothing held\n");
}

static void subject_print_json(const struct subject_search *s)
{
	JsonObject *root = json_object_new();
	JsonNode *node;
	char *text;

	json_object_set_array_member(root, "cases", json_array_ref(s->cases));
	json_object_set_array_member(root, "messages_of_no_case", json_array_ref(s->held));
	json_object_set_array_member(root, "outbox", json_array_ref(s->outbox));
	json_object_set_array_member(root, "users", json_array_ref(s->users));
	node = json_node_init_object(json_node_alloc(), root);
	text = json_to_string(node, TRUE);
	printf("%s\n", text);
	g_free(text);
	json_node_unref(node);
	json_object_unref(root);
}

int cmd_subject_access(struct cli *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	char *by = NULL, *error = NULL;
	GOptionEntry e[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON instead of text", NULL},
		{"by", 0, 0, G_OPTION_ARG_STRING, &by,
		 "who asks (an operator or file reference; audited; default: the login name)",
		 "WHO"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("QUERY - what is still held about a data subject");
	struct subject_search s = {0};
	struct subject_audit a = {0};
	int ret;

	g_option_context_set_description(ctx,
		"Searches the personal data still held (every case not yet deleted,\n"
		"blocked ones included; the stored messages; the outbox; the\n"
		"directory's users)\n"
		"for QUERY, a name, an id number or an e-mail address, letter case\n"
		"ignored, and prints the cases with the matching fields and the\n"
		"messages held.  The audit log records who searched (--by), never the\n"
		"query or what was found.  Exit 0 also when nothing is held.\n");
	g_option_context_add_main_entries(ctx, e, NULL);
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc != 2 || g_utf8_strlen(g_strstrip(argv[1]), -1) < SUBJECT_MIN_QUERY ||
	    !g_utf8_validate(argv[1], -1, NULL)) {
		fprintf(stderr, "imi: subject-access needs one QUERY of at least %d characters "
				"(imi subject-access --help)\n", SUBJECT_MIN_QUERY);
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	s.needle = g_utf8_casefold(argv[1], -1);
	s.by_case = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if ((ret = store_transact(cli->store, subject_txn, &s, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	/* Audited before anything is printed: no answer without its record. */
	a.by = by != NULL ? by : g_get_user_name();
	if ((ret = store_transact(cli->store, subject_audit_txn, &a, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	if (json)
		subject_print_json(&s);
	else
		subject_print_text(&s);
	ret = 0;
out:
	if (s.cases != NULL) {
		json_array_unref(s.cases);
		json_array_unref(s.held);
		json_array_unref(s.users);
		json_array_unref(s.outbox);
	}
	if (s.by_case != NULL)
		g_hash_table_destroy(s.by_case);
	g_free(s.needle);
	g_free(by);
	return ret;
}

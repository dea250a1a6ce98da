/*
 * alert.c: alerts by e-mail (alert.h).
 */
#include "policies/alert.h"
#include "policies/case_record.h"

#include <gmime/gmime.h>
#include <string.h>

#include "parser/trim.h"
#include "templates/qset_store.h"

#define ALERT_MAX_SUBJECT_PREFIXES 10
#define ALERT_MAX_CASES 10000000 /* case records looked at for a digest */

enum {
	PARTY_INITIATOR = 1,
	PARTY_COORDINATOR = 2,
	PARTY_RECIPIENT = 4,
	PARTY_ESTABLISHMENT = 8,
};

static const struct {
	const char *name;
	unsigned bit;
} party_names[] = {
	{"initiator", PARTY_INITIATOR},
	{"coordinator", PARTY_COORDINATOR},
	{"recipient", PARTY_RECIPIENT},
	{"establishment", PARTY_ESTABLISHMENT},
};

/* English names of the countries, for a form that names the country of
 * establishment instead of giving its code. */
static const struct {
	const char *code, *name;
} country_names[] = {
	{"AT", "austria"}, {"BE", "belgium"}, {"BG", "bulgaria"}, {"HR", "croatia"},
	{"CY", "cyprus"}, {"CZ", "czechia"}, {"CZ", "czech republic"}, {"DK", "denmark"},
	{"EE", "estonia"}, {"FI", "finland"}, {"FR", "france"}, {"DE", "germany"},
	{"GR", "greece"}, {"HU", "hungary"}, {"IE", "ireland"}, {"IT", "italy"},
	{"LV", "latvia"}, {"LT", "lithuania"}, {"LU", "luxembourg"}, {"MT", "malta"},
	{"NL", "netherlands"}, {"NL", "the netherlands"}, {"PL", "poland"},
	{"PT", "portugal"}, {"RO", "romania"}, {"SK", "slovakia"}, {"SI", "slovenia"},
	{"ES", "spain"}, {"SE", "sweden"}, {"IS", "iceland"}, {"LI", "liechtenstein"},
	{"NO", "norway"},
};

static int digest_schedule(struct store_txn *txn, GKeyFile *kf, int64_t since,
			   int64_t after, int force, char **error_r);

/* ---- small helpers ---- */

static int array_has(JsonArray *a, const char *s)
{
	for (guint i = 0; a != NULL && i < json_array_get_length(a); i++)
		if (g_strcmp0(json_array_get_string_element(a, i), s) == 0)
			return 1;
	return 0;
}

static int seal_json(struct store_txn *txn, JsonObject *c, const char *member,
		     JsonObject *value, char **error_r)
{
	JsonNode *node = json_node_init_object(json_node_alloc(), value);
	char *text = json_to_string(node, FALSE);
	char *key_id = case_key_id(case_str(c, "id"));
	char *sealed = NULL;
	int ret = store_seal(txn, key_id, text, strlen(text), &sealed, error_r);

	if (ret == IMI_OK)
		json_object_set_string_member(c, member, sealed);
	memset(text, 0, strlen(text));
	g_free(text);
	g_free(sealed);
	g_free(key_id);
	json_node_unref(node);
	return ret;
}

/* The sealed answers (code -> value), or an empty object. */
static JsonObject *unseal_answers(struct store_txn *txn, JsonObject *c)
{
	const char *sealed = case_str(c, "sealed_answers");
	JsonObject *all = NULL;
	void *plain = NULL;
	size_t len;

	if (sealed != NULL) {
		char *key_id = case_key_id(case_str(c, "id"));

		if (store_unseal(txn, key_id, sealed, &plain, &len, NULL) == IMI_OK) {
			JsonParser *p = json_parser_new();

			if (json_parser_load_from_data(p, plain, (gssize)len, NULL) &&
			    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
				all = json_object_ref(json_node_get_object(json_parser_get_root(p)));
			g_object_unref(p);
			memset(plain, 0, len);
			g_free(plain);
		}
		g_free(key_id);
	}
	return all != NULL ? all : json_object_new();
}

/* ---- documents ---- */

/* The documents of an alert in memory: a GArray of struct alert_document
 * whose names, types and bytes it owns. */
static void document_clear(gpointer p)
{
	struct alert_document *d = p;

	g_free((char *)d->name);
	g_free((char *)d->content_type);
	if (d->data != NULL)
		memset((void *)d->data, 0, d->size);
	g_free((void *)d->data);
}

static GArray *documents_new(void)
{
	GArray *docs = g_array_new(FALSE, TRUE, sizeof(struct alert_document));

	g_array_set_clear_func(docs, document_clear);
	return docs;
}

static void documents_free(GArray *docs)
{
	if (docs != NULL)
		g_array_free(docs, TRUE);
}

/* Adds a copy of one document; the bounds are checked here, once. */
static int documents_add(GArray *docs, const char *name, const char *content_type,
			 const void *data, size_t size, char **error_r)
{
	struct alert_document d = {0};
	size_t total = size;
	const char *slash = content_type != NULL ? strchr(content_type, '/') : NULL;

	for (guint i = 0; i < docs->len; i++)
		total += g_array_index(docs, struct alert_document, i).size;
	if (docs->len >= ALERT_MAX_DOCUMENTS || total > ALERT_MAX_DOCUMENT_BYTES)
		return imi_fail(error_r, IMI_TOOBIG,
				"an alert carries at most %d documents of %d MB together",
				ALERT_MAX_DOCUMENTS, ALERT_MAX_DOCUMENT_BYTES / (1024 * 1024));
	d.name = parse_safe_filename(name, "document");
	/* Only a plain "type/subtype" goes into a header. */
	if (slash != NULL && slash != content_type && slash[1] != '\0' &&
	    strlen(content_type) < 128 &&
	    strspn(content_type, "abcdefghijklmnopqrstuvwxyz0123456789+-./") ==
		    strlen(content_type) && strchr(slash + 1, '/') == NULL)
		d.content_type = g_strdup(content_type);
	else
		d.content_type = g_strdup("application/octet-stream");
	d.data = g_memdup2(data, size);
	d.size = size;
	g_array_append_val(docs, d);
	return IMI_OK;
}

/* The documents a sender attached to a message (not the resources of its
 * HTML body, such as a signature logo). */
static int documents_from_message(const struct parsed_message *msg, GArray *docs,
				  char **error_r)
{
	int ret = IMI_OK;

	for (unsigned i = 0; ret == IMI_OK && i < parsed_message_attachment_count(msg); i++) {
		const struct parsed_attachment *a = parsed_message_attachment(msg, i);

		if (!a->html_resource)
			ret = documents_add(docs, a->name, a->content_type, a->data, a->size,
					    error_r);
	}
	return ret;
}

/* Seals the documents with the case key as "sealed_documents" (JSON
 * [{"name","type","data":base64}]); none: the member is removed. */
static int documents_seal(struct store_txn *txn, JsonObject *c, GArray *docs,
			  char **error_r)
{
	JsonArray *arr;
	JsonNode *node;
	char *text, *key_id, *sealed = NULL;
	int ret;

	if (docs == NULL || docs->len == 0) {
		if (json_object_has_member(c, "sealed_documents"))
			json_object_remove_member(c, "sealed_documents");
		return IMI_OK;
	}
	arr = json_array_new();
	for (guint i = 0; i < docs->len; i++) {
		const struct alert_document *d = &g_array_index(docs, struct alert_document, i);
		JsonObject *o = json_object_new();
		char *b64 = g_base64_encode(d->data, d->size);

		json_object_set_string_member(o, "name", d->name);
		json_object_set_string_member(o, "type", d->content_type);
		json_object_set_string_member(o, "data", b64);
		json_array_add_object_element(arr, o);
		g_free(b64);
	}
	node = json_node_init_array(json_node_alloc(), arr);
	text = json_to_string(node, FALSE);
	key_id = case_key_id(case_str(c, "id"));
	ret = store_seal(txn, key_id, text, strlen(text), &sealed, error_r);
	if (ret == IMI_OK)
		json_object_set_string_member(c, "sealed_documents", sealed);
	memset(text, 0, strlen(text));
	g_free(text);
	g_free(sealed);
	g_free(key_id);
	json_node_unref(node);
	json_array_unref(arr);
	return ret;
}

/* The sealed documents of the case (an empty array when there are none
 * or their key is gone). */
static GArray *documents_unseal(struct store_txn *txn, JsonObject *c)
{
	GArray *docs = documents_new();
	const char *sealed = case_str(c, "sealed_documents");
	char *key_id;
	void *plain = NULL;
	size_t len = 0;
	JsonParser *p;

	if (sealed == NULL)
		return docs;
	key_id = case_key_id(case_str(c, "id"));
	if (store_unseal(txn, key_id, sealed, &plain, &len, NULL) != IMI_OK) {
		g_free(key_id);
		return docs;
	}
	p = json_parser_new();
	if (json_parser_load_from_data(p, plain, (gssize)len, NULL) &&
	    JSON_NODE_HOLDS_ARRAY(json_parser_get_root(p))) {
		JsonArray *arr = json_node_get_array(json_parser_get_root(p));

		for (guint i = 0; i < json_array_get_length(arr) && i < ALERT_MAX_DOCUMENTS; i++) {
			JsonObject *o = json_array_get_object_element(arr, i);
			const char *b64 = o != NULL ? case_str(o, "data") : NULL;
			gsize size = 0;
			guchar *data;

			if (b64 == NULL)
				continue;
			data = g_base64_decode(b64, &size);
			documents_add(docs, case_str(o, "name"), case_str(o, "type"), data, size,
				      NULL);
			memset(data, 0, size);
			g_free(data);
		}
	}
	g_object_unref(p);
	memset(plain, 0, len);
	g_free(plain);
	g_free(key_id);
	return docs;
}

int alert_documents_personal(const struct qset *qset)
{
	int found = 0;

	for (unsigned i = 0; i < qset_count(qset); i++) {
		const struct qset_question *q = qset_question(qset, i);

		if (qset_question_type(q) != QSET_ATTACHMENT)
			continue;
		if (qset_question_personal(q))
			return 1;
		found = 1;
	}
	return !found;
}

/* The rendered message *raw (len bytes) becomes multipart/mixed with its
 * body first and one base64 part per document; *raw is replaced. */
static int documents_attach(char **raw, size_t *len, const struct alert_document *docs,
			    unsigned n, char **error_r)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeMultipart *mixed;
	GMimeFormatOptions *opts;
	char *text;

	if (n == 0)
		return IMI_OK;
	stream = g_mime_stream_mem_new_with_buffer(*raw, *len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL)
		return imi_fail(error_r, IMI_INVALID, "a rendered alert could not be read back "
				"to attach its documents");
	mixed = g_mime_multipart_new_with_subtype("mixed");
	g_mime_multipart_add(mixed, g_mime_message_get_mime_part(msg));
	for (unsigned i = 0; i < n; i++) {
		char **type = g_strsplit(docs[i].content_type, "/", 2);
		GMimePart *part = g_mime_part_new_with_type(type[0], type[1] != NULL ? type[1]
									      : "octet-stream");
		GMimeStream *ds = g_mime_stream_mem_new_with_buffer((const char *)docs[i].data,
								    docs[i].size);
		GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(
			ds, GMIME_CONTENT_ENCODING_DEFAULT);

		g_mime_part_set_content(part, w);
		g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
		g_mime_object_set_disposition(GMIME_OBJECT(part), "attachment");
		g_mime_part_set_filename(part, docs[i].name);
		g_mime_multipart_add(mixed, GMIME_OBJECT(part));
		g_object_unref(w);
		g_object_unref(ds);
		g_object_unref(part);
		g_strfreev(type);
	}
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed));
	g_object_unref(mixed);
	opts = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_UNIX);
	text = g_mime_object_to_string(GMIME_OBJECT(msg), opts);
	g_mime_format_options_free(opts);
	g_object_unref(msg);
	memset(*raw, 0, *len);
	g_free(*raw);
	*raw = text;
	*len = strlen(text);
	return IMI_OK;
}

/* ---- the rules ---- */

static int rules_load(const struct imi_conf *conf, GKeyFile **kf_r, char **error_r)
{
	char *path = g_build_filename(conf->datadir, "policies", "rules", "alerts.ini", NULL);
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;

	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		g_free(path);
		path = g_build_filename(conf->datadir, "rules", "alerts.ini", NULL);
	}
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
		int ret = imi_fail(error_r, IMI_INVALID, "%s: %s (the alert rules)", path,
				   gerr->message);
		g_error_free(gerr);
		g_key_file_free(kf);
		g_free(path);
		return ret;
	}
	g_free(path);
	*kf_r = kf;
	return IMI_OK;
}

struct decision {
	int allowed;
	const char *refusal; /* "unparseable", "not-party", "wrong-role", "wrong-state" */
	char *next;          /* g_free; "" keeps the state */
};

static void decide(GKeyFile *kf, const char *action, const char *state,
		   unsigned parties, const struct user *u, struct decision *d)
{
	char *group = g_strconcat("Action ", action, NULL);
	char **states = NULL, *party = NULL, *role = NULL;
	unsigned need = 0;

	memset(d, 0, sizeof(*d));
	if (!g_key_file_has_group(kf, group)) {
		d->refusal = "unparseable";
		goto out;
	}
	states = g_key_file_get_string_list(kf, group, "States", NULL, NULL);
	party = g_key_file_get_string(kf, group, "Party", NULL);
	role = g_key_file_get_string(kf, group, "Role", NULL);
	d->next = g_key_file_get_string(kf, group, "Next", NULL);
	if (d->next == NULL)
		d->next = g_strdup("");
	for (unsigned i = 0; i < G_N_ELEMENTS(party_names); i++)
		if (g_strcmp0(party, party_names[i].name) == 0)
			need = party_names[i].bit;
	if (need == 0 || (parties & need) == 0)
		d->refusal = parties == 0 ? "not-party" : "wrong-role";
	else if (role != NULL && *role != '\0' && !user_has_role(u, role))
		d->refusal = "wrong-role";
	else if (states == NULL || !g_strv_contains((const char *const *)states, state))
		d->refusal = "wrong-state";
	else
		d->allowed = 1;
out:
	g_strfreev(states);
	g_free(party);
	g_free(role);
	g_free(group);
}

/* ---- directory look-ups ---- */

struct postbox_find {
	const char *country;
	GPtrArray *ids;
};

static int postbox_match(struct authority *a, void *ctx)
{
	struct postbox_find *f = ctx;

	if (a->disabled || !a->alerts || g_strcmp0(a->country, f->country) != 0 ||
	    a->postbox == NULL)
		return 0;
	/* The Commission has no post-box flag of its own: its alert access
	 * is enough. */
	if (a->alert_postbox || strcmp(f->country, "EU") == 0)
		g_ptr_array_add(f->ids, g_strdup(a->id));
	return 0;
}

/* Ids of the alert post-boxes of a country. */
static int postboxes_of(struct store_txn *txn, const char *country, GPtrArray *ids,
			char **error_r)
{
	struct postbox_find f = {country, ids};
	int ret = directory_each(txn, postbox_match, &f, error_r);

	return ret < 0 ? ret : IMI_OK;
}

/* The alert coordinators of a country (struct user *). */
static int coordinators_of(struct store_txn *txn, const char *country,
			   GPtrArray **users_r, char **error_r)
{
	return directory_users_with_role(txn, country, "alert_coordinator", 1, users_r,
					 error_r);
}

/* ---- outgoing mail ---- */

static int token_addr(struct request_env *env, const char *case_id,
		      const char *authority_id, const char *action, char **addr_r,
		      char **error_r)
{
	char *ref = g_ascii_strdown(case_id, -1);
	int64_t expiry = token_day(imi_now()) + env->conf->token_lifetime_days;
	int ret = token_address(env->token_key, env->conf->service_local, '+',
				env->conf->service_domain, ref, authority_id, action,
				expiry, addr_r, error_r);

	g_free(ref);
	return ret;
}

static char *next_msgid(struct request_env *env, JsonObject *c, const char *kind)
{
	int64_t n = case_int(c, "mail_seq") + 1;

	json_object_set_int_member(c, "mail_seq", n);
	return g_strdup_printf("%s.%" G_GINT64_FORMAT ".%s@%s", case_str(c, "id"), n, kind,
			       env->conf->service_domain);
}

static char *service_from(struct request_env *env)
{
	return g_strdup_printf("%s@%s", env->conf->service_local, env->conf->service_domain);
}

static void envelope_set(struct request_env *env, struct render_envelope *e,
			 const char *from, const char *to, const char *reply_to,
			 const char *msgid, const char *in_reply_to)
{
	memset(e, 0, sizeof(*e));
	e->from_address = from;
	e->from_name = env->conf->service_name;
	e->to_address = to;
	e->reply_to = reply_to;
	e->message_id = msgid;
	e->in_reply_to = in_reply_to;
	e->service_domain = env->conf->service_domain;
}

static int put_mail(struct store_txn *txn, struct request_env *env, const char *case_id,
		    const char *to, const char *msgid, char *raw, size_t len,
		    char **error_r)
{
	const char *rcpts[] = {to, NULL};
	char *from = service_from(env);
	int ret = outbox_put(txn, case_id, from, rcpts, msgid, raw, len, NULL, error_r);

	memset(raw, 0, len);
	g_free(from);
	return ret;
}

/* A notice about the case to `to`, an address of `authority` (its
 * language; the reply address carries a token of the authority), with
 * the documents attached (docs NULL: none).  c NULL: nothing of the case
 * (a stranger), no token. */
static int notice_with(struct store_txn *txn, struct request_env *env, JsonObject *c,
		       const char *case_id, const struct authority *authority,
		       const char *to, const char *kind, const char *subject_key,
		       const char *const *body_keys, const struct catalog_arg *args,
		       const char *body_text, const char *in_reply_to, GArray *docs,
		       char **error_r)
{
	char *from = service_from(env), *reply = NULL, *msgid, *raw = NULL;
	struct render_notice rn;
	size_t len = 0;
	int ret = IMI_OK;

	if (c != NULL) {
		msgid = next_msgid(env, c, kind);
		if (authority != NULL)
			ret = token_addr(env, case_id, authority->id, "reply", &reply, error_r);
	} else {
		char *rnd = g_uuid_string_random();

		msgid = g_strdup_printf("%s.%s@%s", kind, rnd, env->conf->service_domain);
		g_free(rnd);
	}
	if (ret == IMI_OK) {
		memset(&rn, 0, sizeof(rn));
		envelope_set(env, &rn.env, from, to, reply, msgid, in_reply_to);
		rn.catalog = env->catalog;
		rn.language = case_language(env, authority);
		rn.case_id = request_case_id_valid(case_id) ? case_id : NULL;
		rn.subject_key = subject_key;
		rn.body_keys = body_keys;
		rn.args = args;
		rn.body_text = body_text;
		ret = render_notice(&rn, &raw, &len, error_r);
	}
	if (ret == IMI_OK && docs != NULL)
		ret = documents_attach(&raw, &len, (const struct alert_document *)(void *)docs->data,
				       docs->len, error_r);
	if (ret == IMI_OK)
		ret = put_mail(txn, env, c != NULL ? case_id : NULL, to, msgid, raw, len, error_r);
	g_free(raw);
	g_free(reply);
	g_free(msgid);
	g_free(from);
	return ret;
}

static int notice(struct store_txn *txn, struct request_env *env, JsonObject *c,
		  const char *case_id, const struct authority *authority,
		  const char *to, const char *kind, const char *subject_key,
		  const char *const *body_keys, const struct catalog_arg *args,
		  const char *body_text, const char *in_reply_to, char **error_r)
{
	return notice_with(txn, env, c, case_id, authority, to, kind, subject_key, body_keys,
			   args, body_text, in_reply_to, NULL, error_r);
}

/* ---- copies of the alert ---- */

static char *value_shown(const struct catalog *cat, const struct qset_question *q,
			 const char *value, const char *lang)
{
	enum qset_type t = qset_question_type(q);

	if ((t == QSET_YESNO || t == QSET_CHECK) &&
	    (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) && cat != NULL) {
		const char *const *words = catalog_words_raw(cat, lang, value);

		if (words == NULL || words[0] == NULL)
			words = catalog_words_raw(cat, "en", value);
		if (words != NULL && words[0] != NULL)
			return g_strdup(words[0]);
	}
	if (t == QSET_CHOICE)
		for (unsigned i = 0; i < qset_choice_count(q); i++)
			if (strcmp(qset_choice_code(q, i), value) == 0)
				return g_strdup(qset_choice_label(q, i, lang));
	return g_strdup(value);
}

char *alert_fields_text(const struct catalog *catalog, const struct qset *qset,
			JsonObject *answers, const char *language, int redact)
{
	GString *s = g_string_new("");

	for (unsigned i = 0; i < qset_count(qset); i++) {
		const struct qset_question *q = qset_question(qset, i);
		const char *code = qset_question_code(q);
		const char *value = case_str(answers, code);

		/* The set's marks decide what is personal: such a field is
		 * left out whole, not blanked, of a redacted copy. */
		if (value == NULL || (redact && qset_question_personal(q)))
			continue;
		{
			char *shown = value_shown(catalog, q, value, language);
			char **lines = g_strsplit(shown, "\n", -1);

			g_string_append_printf(s, "%s. %s\n", code,
					       qset_question_text(q, language));
			for (unsigned l = 0; lines[l] != NULL; l++)
				g_string_append_printf(s, "    %s\n", lines[l]);
			g_string_append_c(s, '\n');
			g_strfreev(lines);
			g_free(shown);
		}
	}
	return g_string_free(s, FALSE);
}

int alert_render_copy(const struct alert_copy *in, char **message_r,
		      size_t *len_r, char **error_r)
{
	struct render_notice rn;
	const char *body[3];
	unsigned nb = 0;
	char *fields = alert_fields_text(in->catalog, in->qset, in->answers, in->language, in->redact);
	struct catalog_arg args[] = {
		{"case", in->case_id},
		{"title", qset_title(in->qset, in->language)},
		{"authority", in->authority},
		{"country", in->country},
		{"date", in->date},
		/* A reason is the sender's free text: not in a redacted copy. */
		{"reason", in->redact ? "" : in->reason},
		{NULL, NULL},
	};
	int ret;

	if (in->redact)
		body[nb++] = "alert.commission-copy";
	if (in->intro_key != NULL &&
	    !(in->redact && strcmp(in->intro_key, "alert.broadcast-intro") == 0))
		body[nb++] = in->intro_key;
	else if (!in->redact)
		body[nb++] = "alert.intro";
	body[nb] = NULL;
	memset(&rn, 0, sizeof(rn));
	rn.env = in->env;
	rn.catalog = in->catalog;
	rn.language = in->language;
	rn.case_id = in->case_id;
	rn.subject_key = "alert.subject";
	rn.body_keys = body;
	rn.args = args;
	rn.body_text = fields;
	ret = render_notice(&rn, message_r, len_r, error_r);
	/* Documents are personal unless the set's attachment questions all
	 * say Personal=false. */
	if (ret == IMI_OK && in->n_documents > 0 &&
	    !(in->redact && alert_documents_personal(in->qset)))
		ret = documents_attach(message_r, len_r, in->documents, in->n_documents, error_r);
	memset(fields, 0, strlen(fields));
	g_free(fields);
	return ret;
}

/* The alert to one recipient authority's post-box. */
static int send_copy(struct store_txn *txn, struct request_env *env, JsonObject *c,
		     const struct qset *qset, JsonObject *answers, GArray *docs,
		     const struct authority *initiator, const struct authority *to,
		     const char *intro_key, const char *reason, char **error_r)
{
	struct alert_copy cp;
	char *from = service_from(env), *reply = NULL, *msgid = NULL, *raw = NULL;
	char *today = case_day(imi_now());
	const char *case_id = case_str(c, "id");
	size_t len = 0;
	int ret;

	if ((ret = token_addr(env, case_id, to->id, "reply", &reply, error_r)) != IMI_OK)
		goto out;
	msgid = next_msgid(env, c, "alert");
	memset(&cp, 0, sizeof(cp));
	envelope_set(env, &cp.env, from, to->postbox, reply, msgid, NULL);
	cp.catalog = env->catalog;
	cp.qset = qset;
	cp.answers = answers;
	cp.language = case_language(env, to);
	cp.case_id = case_id;
	cp.authority = case_authority_name(initiator, cp.language);
	cp.country = initiator->country;
	cp.date = today;
	cp.intro_key = intro_key;
	cp.reason = reason;
	cp.redact = strcmp(to->country, "EU") == 0;
	if (docs != NULL) {
		cp.documents = (const struct alert_document *)(void *)docs->data;
		cp.n_documents = docs->len;
	}
	if ((ret = alert_render_copy(&cp, &raw, &len, error_r)) == IMI_OK)
		ret = put_mail(txn, env, case_id, to->postbox, msgid, raw, len, error_r);
out:
	g_free(raw);
	g_free(today);
	g_free(msgid);
	g_free(reply);
	g_free(from);
	return ret;
}

/* Every recipient authority gets a copy (intro_key) or, with fields 0, a
 * notice of body_key. */
static int to_recipients(struct store_txn *txn, struct request_env *env, JsonObject *c,
			 const struct qset *qset, JsonObject *answers, GArray *docs,
			 const struct authority *initiator, const char *key,
			 int with_fields, const char *reason, const struct authority *by,
			 char **error_r)
{
	JsonArray *rcpt = case_array(c, "recipient_authorities");
	char *today = case_day(imi_now());
	int ret = IMI_OK;

	for (guint i = 0; ret == IMI_OK && i < json_array_get_length(rcpt); i++) {
		struct authority *a = NULL;

		if (store_authority_get(txn, json_array_get_string_element(rcpt, i), &a,
					NULL) != IMI_OK)
			continue;
		if (with_fields) {
			ret = send_copy(txn, env, c, qset, answers, docs, initiator, a, key,
					reason, error_r);
		} else {
			const char *body[] = {key, NULL};
			int redact = strcmp(a->country, "EU") == 0;
			struct catalog_arg args[] = {
				{"case", case_str(c, "id")},
				{"title", qset_title(qset, case_language(env, a))},
				{"authority", by != NULL ? case_authority_name(by, case_language(env, a)) : NULL},
				{"country", by != NULL ? by->country : NULL},
				{"date", today},
				{"reason", redact ? "" : reason},
				{NULL, NULL},
			};
			ret = notice(txn, env, c, case_str(c, "id"), a, a->postbox, "notice",
				     "alert.subject", body, args, NULL, NULL, error_r);
		}
		authority_free(&a);
	}
	g_free(today);
	return ret;
}

/* ---- creation ---- */

static int alert_qset_ensure(struct store_txn *txn, struct request_env *env,
			     const char *id, struct qset **qset_r, char **error_r)
{
	char *path;
	int ret;

	if (id == NULL || !qset_id_valid(id))
		return imi_fail(error_r, IMI_INVALID, "'%s' is not a question set id",
				id ? id : "");
	ret = qset_store_get(txn, id, qset_r, NULL);
	if (ret == IMI_NOTFOUND) {
		path = qset_file_path(env->conf, id);
		if (path == NULL)
			return imi_fail(error_r, IMI_NOTFOUND,
					"no question set '%s' (imi qset list shows them)", id);
		ret = qset_load_file(path, qset_r, error_r);
		g_free(path);
		if (ret == IMI_OK)
			ret = qset_store_put(txn, *qset_r, error_r);
	} else if (ret != IMI_OK) {
		return qset_store_get(txn, id, qset_r, error_r);
	}
	if (ret == IMI_OK && qset_kind(*qset_r) != QSET_KIND_ALERT) {
		qset_free(qset_r);
		ret = imi_fail(error_r, IMI_INVALID, "question set '%s' is not an alert form", id);
	}
	return ret;
}

/* Initiator and user may send alerts. */
static int may_send(const struct authority *a, const struct user *u, char **error_r)
{
	if (a->disabled || !a->alerts)
		return imi_fail(error_r, IMI_DENIED,
				"authority %s has no alert access (imi authority update %s --alerts)",
				a->id, a->id);
	if (u != NULL && (u->disabled || g_strcmp0(u->authority, a->id) != 0 ||
			  !user_has_role(u, "alert_sender")))
		return imi_fail(error_r, IMI_DENIED, "user %s is not an active alert_sender of %s",
				u->email, a->id);
	return IMI_OK;
}

static int case_new(struct store_txn *txn, struct request_env *env,
		    const struct authority *initiator, const char *qset_id,
		    const char *state, JsonObject **c_r, char **error_r)
{
	int64_t now = imi_now();
	JsonObject *c;
	char *case_id, *key_id;
	uint64_t n;
	int ret;

	if ((ret = store_next(txn, "cases", &n, error_r)) != IMI_OK)
		return ret;
	{
		GDateTime *dt = g_date_time_new_from_unix_utc(now);
		case_id = g_strdup_printf("IMI-%04d-%06" G_GUINT64_FORMAT,
					  g_date_time_get_year(dt), n);
		g_date_time_unref(dt);
	}
	key_id = case_key_id(case_id);
	ret = store_key_create(txn, key_id, error_r);
	g_free(key_id);
	if (ret != IMI_OK) {
		g_free(case_id);
		return ret;
	}
	c = json_object_new();
	json_object_set_int_member(c, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(c, "id", case_id);
	json_object_set_string_member(c, "kind", "alert");
	json_object_set_string_member(c, "qset", qset_id);
	/* "requester": so that the request module's notices see the
	 * initiator as a party of the case. */
	json_object_set_string_member(c, "requester", initiator->id);
	json_object_set_string_member(c, "initiator", initiator->id);
	json_object_set_string_member(c, "country", initiator->country);
	json_object_set_string_member(c, "state", state);
	json_object_set_int_member(c, "state_since", now);
	json_object_set_int_member(c, "created", now);
	json_object_set_int_member(c, "mail_seq", 0);
	json_object_set_int_member(c, "version", 0);
	json_object_set_string_member(c, "retention", "");
	json_object_set_array_member(c, "timers", json_array_new());
	json_object_set_array_member(c, "history", json_array_new());
	json_object_set_array_member(c, "recipients", json_array_new());
	json_object_set_array_member(c, "recipient_authorities", json_array_new());
	g_free(case_id);
	*c_r = c;
	return IMI_OK;
}

static void history_add(JsonObject *c, const char *action, const char *by)
{
	JsonArray *h = case_array(c, "history");
	JsonObject *e = json_object_new();

	if (json_array_get_length(h) >= REQUEST_MAX_HISTORY)
		json_array_remove_element(h, 0);
	json_object_set_int_member(e, "at", imi_now());
	json_object_set_string_member(e, "action", action);
	json_object_set_string_member(e, "by", by);
	json_object_set_string_member(e, "state", case_str(c, "state"));
	json_array_add_object_element(h, e);
}

static void state_set(JsonObject *c, const char *state)
{
	json_object_set_string_member(c, "state", state);
	json_object_set_int_member(c, "state_since", imi_now());
	if (strcmp(state, "closed") == 0 || strcmp(state, "withdrawn") == 0 ||
	    strcmp(state, "rejected") == 0)
		json_object_set_int_member(c, "closed_at", imi_now());
}

/* Answers of a form as code -> value (understood answers only). */
static JsonObject *answers_object(const struct answers *answers, JsonObject *base)
{
	JsonObject *all = base != NULL ? json_object_ref(base) : json_object_new();

	for (unsigned i = 0; i < answers_count(answers); i++) {
		const struct answer *a = answers_get(answers, i);

		if (a->value != NULL)
			json_object_set_string_member(all, qset_question_code(a->question),
						      a->value);
	}
	return all;
}

/* Criteria not ticked, one "Qn. text" per line ("" when all are). */
static char *criteria_missing(const struct qset *qset, JsonObject *all, const char *lang)
{
	GString *s = g_string_new("");

	for (unsigned i = 0; i < qset_count(qset); i++) {
		const struct qset_question *q = qset_question(qset, i);

		if (qset_question_type(q) == QSET_CHECK &&
		    g_strcmp0(case_str(all, qset_question_code(q)), "yes") != 0)
			g_string_append_printf(s, "%s. %s\n", qset_question_code(q),
					       qset_question_text(q, lang));
	}
	return g_string_free(s, FALSE);
}

/* Required fields (not criteria) without a value: "Q6, Q8" ("" if none). */
static char *fields_missing(const struct qset *qset, JsonObject *all)
{
	GString *s = g_string_new("");

	for (unsigned i = 0; i < qset_count(qset); i++) {
		const struct qset_question *q = qset_question(qset, i);

		if (qset_question_type(q) != QSET_CHECK && qset_question_required(q) &&
		    case_str(all, qset_question_code(q)) == NULL)
			g_string_append_printf(s, "%s%s", s->len ? ", " : "",
					       qset_question_code(q));
	}
	return g_string_free(s, FALSE);
}

/* The country of establishment: the set's field (code or English name),
 * or the initiator's country.  NULL when the field says nothing known. */
static char *establishment_of(GKeyFile *kf, const struct qset *qset, JsonObject *all,
			      const char *fallback)
{
	char *group = g_strconcat("Set ", qset_id(qset), NULL);
	char *field = g_key_file_get_string(kf, group, "Establishment", NULL);
	const char *value;
	char *v, *found = NULL;

	g_free(group);
	if (field == NULL)
		return g_strdup(fallback);
	value = case_str(all, field);
	g_free(field);
	if (value == NULL)
		return NULL;
	v = g_utf8_strdown(value, -1);
	g_strstrip(v);
	if (strlen(v) == 2) {
		char *up = g_ascii_strup(v, -1);

		if (directory_country_valid(up) && strcmp(up, "EU") != 0)
			found = up;
		else
			g_free(up);
	}
	for (unsigned i = 0; found == NULL && i < G_N_ELEMENTS(country_names); i++)
		if (strcmp(v, country_names[i].name) == 0)
			found = g_strdup(country_names[i].code);
	g_free(v);
	return found;
}

/* The initiator's sender (or post-box) and its authority. */
static int initiator_address(struct store_txn *txn, JsonObject *c, const struct authority *ini,
			     char **to_r)
{
	struct user *u = NULL;

	if (case_str(c, "sender_user") != NULL &&
	    store_user_get(txn, case_str(c, "sender_user"), &u, NULL) == IMI_OK && !u->disabled) {
		*to_r = g_strdup(u->email);
		user_free(&u);
		return IMI_OK;
	}
	user_free(&u);
	*to_r = g_strdup(ini->postbox);
	return IMI_OK;
}

/* Every alert coordinator in coords gets the whole alert (documents
 * attached) with a one-click approve address. */
static int ask_approval(struct store_txn *txn, struct request_env *env, JsonObject *c,
			const struct qset *qset, JsonObject *all, GArray *docs,
			const struct authority *initiator, GPtrArray *coords, char **error_r)
{
	char *today = case_day(imi_now());
	int ret = IMI_OK;

	for (guint i = 0; ret == IMI_OK && i < coords->len; i++) {
		struct user *u = g_ptr_array_index(coords, i);
		struct authority *ca = NULL;
		char *approve = NULL, *fields_text = NULL;

		if ((ret = store_authority_get(txn, u->authority, &ca, error_r)) != IMI_OK)
			break;
		if ((ret = token_addr(env, case_str(c, "id"), ca->id, "approve", &approve,
				      error_r)) == IMI_OK) {
			const char *body[] = {"alert.approval-request", NULL};
			const char *clang = case_language(env, ca);
			struct catalog_arg args[] = {
				{"case", case_str(c, "id")},
				{"title", qset_title(qset, clang)},
				{"authority", case_authority_name(initiator, clang)},
				{"country", initiator->country},
				{"action", approve},
				{"date", today},
				{NULL, NULL},
			};

			fields_text = alert_fields_text(env->catalog, qset, all, clang, 0);
			ret = notice_with(txn, env, c, case_str(c, "id"), ca, u->email, "approval",
					  "alert.subject", body, args, fields_text, NULL, docs,
					  error_r);
			memset(fields_text, 0, strlen(fields_text));
		}
		g_free(fields_text);
		g_free(approve);
		authority_free(&ca);
	}
	g_free(today);
	return ret;
}

/* Checks the form and, when complete, makes the case wait for approval,
 * asks the coordinators and acknowledges to the initiator (with the
 * reply address by which it may withdraw or rectify the alert until it
 * is approved).  docs: the documents sent with it (sealed with the
 * answers).  *missing_r: the criteria not ticked; *problem_r: another
 * reason it cannot go (g_free). */
static int submit(struct store_txn *txn, struct request_env *env, GKeyFile *kf,
		  JsonObject *c, const struct qset *qset, JsonObject *all, GArray *docs,
		  const struct authority *initiator, const char *lang,
		  const char *in_reply_to, char **missing_r, char **problem_r,
		  char **error_r)
{
	GPtrArray *coords = NULL;
	char *missing = criteria_missing(qset, all, lang);
	char *fields = NULL, *estab = NULL, *to = NULL;
	int ret = IMI_OK;

	*missing_r = NULL;
	*problem_r = NULL;
	if (*missing) {
		*missing_r = missing;
		return IMI_OK;
	}
	g_free(missing);
	fields = fields_missing(qset, all);
	if (*fields) {
		*problem_r = g_strdup_printf("required fields not filled in: %s", fields);
		goto out;
	}
	estab = establishment_of(kf, qset, all, initiator->country);
	if (estab == NULL) {
		*problem_r = g_strdup("the Member State of establishment is not a known "
				      "country name or two-letter code");
		goto out;
	}
	if ((ret = coordinators_of(txn, initiator->country, &coords, error_r)) != IMI_OK)
		goto out;
	if (coords->len == 0) {
		*problem_r = g_strdup_printf("no alert coordinator is registered in %s",
					     initiator->country);
		goto out;
	}
	json_object_set_string_member(c, "establishment", estab);
	if ((ret = seal_json(txn, c, "sealed_answers", all, error_r)) != IMI_OK ||
	    (ret = documents_seal(txn, c, docs, error_r)) != IMI_OK)
		goto out;
	json_object_set_int_member(c, "version", 1);
	state_set(c, "awaiting-approval");
	history_add(c, "submit", initiator->id);
	if ((ret = ask_approval(txn, env, c, qset, all, docs, initiator, coords, error_r)) !=
	    IMI_OK)
		goto out;
	/* The acknowledgement: its reply address carries a token of the
	 * initiator's authority, for WITHDRAW or RECTIFY before approval. */
	if ((ret = initiator_address(txn, c, initiator, &to)) == IMI_OK) {
		const char *body[] = {"alert.submitted", NULL};
		const char *ilang = case_language(env, initiator);
		struct catalog_arg args[] = {
			{"case", case_str(c, "id")},
			{"title", qset_title(qset, ilang)},
			{"country", initiator->country},
			{NULL, NULL},
		};

		ret = notice(txn, env, c, case_str(c, "id"), initiator, to, "submitted",
			     "alert.subject", body, args, NULL, in_reply_to, error_r);
	}
	if (ret == IMI_OK) {
		char *detail = g_strdup_printf("qset=%s establishment=%s coordinators=%u "
					       "documents=%u",
					       qset_id(qset), estab, coords->len,
					       docs != NULL ? docs->len : 0);
		ret = store_audit(txn, initiator->id, case_str(c, "id"), "alert.submit",
				  detail, error_r);
		g_free(detail);
	}
out:
	if (coords != NULL)
		g_ptr_array_free(coords, TRUE);
	g_free(fields);
	g_free(estab);
	g_free(to);
	return ret;
}

static int form_answers(struct request_env *env, const struct qset *qset,
			const char *text, const char *full, const char *lang,
			unsigned attachments, struct answers **answers_r,
			char **error_r)
{
	struct answers_input in = {
		.qset = qset,
		.catalog = env->catalog,
		.new_text = text != NULL ? text : "",
		.full_text = full,
		.language = lang,
		.attachments = attachments,
	};

	return answers_extract(&in, answers_r, error_r);
}

int alert_create(struct store_txn *txn, struct request_env *env,
		 const struct alert_new *in, char **case_id_r, char **missing_r,
		 char **error_r)
{
	struct authority *a = NULL;
	struct user *u = NULL;
	struct qset *qset = NULL;
	struct answers *answers = NULL;
	JsonObject *c = NULL, *all = NULL;
	GKeyFile *kf = NULL;
	GArray *docs = documents_new();
	char *missing = NULL, *problem = NULL;
	int ret = IMI_OK;

	*missing_r = NULL;
	for (unsigned i = 0; ret == IMI_OK && i < in->n_documents; i++)
		ret = documents_add(docs, in->documents[i].name, in->documents[i].content_type,
				    in->documents[i].data, in->documents[i].size, error_r);
	if (ret == IMI_TOOBIG)
		ret = IMI_INVALID;
	if (ret != IMI_OK ||
	    (ret = store_authority_get(txn, in->initiator, &a, error_r)) != IMI_OK)
		goto out;
	if (in->user != NULL) {
		char *email = imi_email_normalize(in->user);

		ret = store_user_get_by_email(txn, email, &u, error_r);
		g_free(email);
		if (ret != IMI_OK)
			goto out;
	}
	if ((ret = may_send(a, u, error_r)) != IMI_OK ||
	    (ret = rules_load(env->conf, &kf, error_r)) != IMI_OK ||
	    (ret = alert_qset_ensure(txn, env, in->qset_id, &qset, error_r)) != IMI_OK ||
	    (ret = form_answers(env, qset, in->form_text, NULL, case_language(env, a),
				docs->len, &answers, error_r)) != IMI_OK)
		goto out;
	all = answers_object(answers, NULL);
	if ((ret = case_new(txn, env, a, in->qset_id, "draft", &c, error_r)) != IMI_OK)
		goto out;
	if (in->user != NULL)
		json_object_set_string_member(c, "sender_user", u->id);
	if ((ret = submit(txn, env, kf, c, qset, all, docs, a, case_language(env, a), NULL,
			  &missing, &problem, error_r)) != IMI_OK)
		goto out;
	if (missing != NULL) {
		*missing_r = missing;
		missing = NULL;
		ret = imi_fail(error_r, IMI_INVALID,
			       "the alert cannot be sent: not all criteria of the check list "
			       "are confirmed");
		goto out;
	}
	if (problem != NULL) {
		ret = imi_fail(error_r, IMI_INVALID, "the alert cannot be sent: %s", problem);
		goto out;
	}
	ret = store_record_put(txn, STORE_CASES, case_str(c, "id"), c, STORE_PUT_NEW, error_r);
	if (ret == IMI_OK)
		*case_id_r = g_strdup(case_str(c, "id"));
out:
	if (c != NULL)
		json_object_unref(c);
	if (all != NULL)
		json_object_unref(all);
	if (kf != NULL)
		g_key_file_free(kf);
	answers_free(&answers);
	documents_free(docs);
	qset_free(&qset);
	authority_free(&a);
	user_free(&u);
	g_free(missing);
	g_free(problem);
	return ret;
}

int alert_form_send(struct store_txn *txn, struct request_env *env,
		    const char *initiator, const char *qset_id, const char *user,
		    char **case_id_r, char **error_r)
{
	struct authority *a = NULL;
	struct user *u = NULL;
	struct qset *qset = NULL;
	JsonObject *c = NULL;
	char *email = imi_email_normalize(user != NULL ? user : "");
	char *from = service_from(env), *reply = NULL, *msgid = NULL, *raw = NULL;
	struct render_request rr;
	size_t len = 0;
	int ret;

	if ((ret = store_authority_get(txn, initiator, &a, error_r)) != IMI_OK ||
	    (ret = store_user_get_by_email(txn, email, &u, error_r)) != IMI_OK ||
	    (ret = may_send(a, u, error_r)) != IMI_OK ||
	    (ret = alert_qset_ensure(txn, env, qset_id, &qset, error_r)) != IMI_OK ||
	    (ret = case_new(txn, env, a, qset_id, "draft", &c, error_r)) != IMI_OK)
		goto out;
	json_object_set_string_member(c, "sender_user", u->id);
	if ((ret = token_addr(env, case_str(c, "id"), a->id, "reply", &reply, error_r)) != IMI_OK)
		goto out;
	msgid = next_msgid(env, c, "form");
	memset(&rr, 0, sizeof(rr));
	envelope_set(env, &rr.env, from, u->email, reply, msgid, NULL);
	rr.qset = qset;
	rr.catalog = env->catalog;
	rr.language = case_language(env, a);
	rr.case_id = case_str(c, "id");
	rr.authority = case_authority_name(a, rr.language);
	rr.country = a->country;
	if ((ret = render_request(&rr, &raw, &len, error_r)) != IMI_OK ||
	    (ret = put_mail(txn, env, case_str(c, "id"), u->email, msgid, raw, len,
			    error_r)) != IMI_OK)
		goto out;
	history_add(c, "form", a->id);
	if ((ret = store_audit(txn, u->id, case_str(c, "id"), "alert.form", qset_id,
			       error_r)) != IMI_OK)
		goto out;
	ret = store_record_put(txn, STORE_CASES, case_str(c, "id"), c, STORE_PUT_NEW, error_r);
	if (ret == IMI_OK)
		*case_id_r = g_strdup(case_str(c, "id"));
out:
	if (c != NULL)
		json_object_unref(c);
	g_free(raw);
	g_free(msgid);
	g_free(reply);
	g_free(from);
	g_free(email);
	qset_free(&qset);
	authority_free(&a);
	user_free(&u);
	return ret;
}

int alert_case_is(struct store_txn *txn, const char *case_id)
{
	JsonObject *c = NULL;
	int is = 0;

	if (!request_case_id_valid(case_id) ||
	    store_record_get_shared(txn, STORE_CASES, case_id, 0, &c, NULL) != IMI_OK)
		return 0;
	is = g_strcmp0(case_str(c, "kind"), "alert") == 0;
	json_object_unref(c);
	return is;
}

void alert_outcome_clear(struct alert_outcome *out)
{
	g_free(out->reason);
	memset(out, 0, sizeof(*out));
}

/* ---- steps by e-mail ---- */

static const struct {
	const char *word, *action;
} alert_commands[] = {
	{"APPROVE", "approve"}, {"REJECT", "reject"},   {"RECTIFY", "rectify"},
	{"WITHDRAW", "withdraw"}, {"FLAG", "flag"},     {"CLOSE", "close"},
	{"FORWARD", "forward"},
};

static const char *command_of(const char *subject, const char **rest_r)
{
	const char *p = subject != NULL ? subject : "";

	/* Reply and forward prefixes ("Re:", "AW:", "Fwd:"). */
	for (unsigned n = 0; n < ALERT_MAX_SUBJECT_PREFIXES; n++) {
		const char *q = p, *colon;
		int prefix = 1;

		while (*q == ' ' || *q == '\t')
			q++;
		p = q;
		colon = strchr(q, ':');
		if (colon == NULL || colon == q || colon - q > 4)
			break;
		for (const char *x = q; x < colon; x++)
			if (!g_ascii_isalpha(*x))
				prefix = 0;
		if (!prefix)
			break;
		p = colon + 1;
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(alert_commands); i++) {
		size_t n = strlen(alert_commands[i].word);

		if (g_ascii_strncasecmp(p, alert_commands[i].word, n) == 0 &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '[')) {
			*rest_r = p + n;
			return alert_commands[i].action;
		}
	}
	*rest_r = p;
	return NULL;
}

static unsigned parties_of(struct store_txn *txn, JsonObject *c, const struct authority *a)
{
	unsigned p = 0;

	if (g_strcmp0(case_str(c, "initiator"), a->id) == 0)
		p |= PARTY_INITIATOR;
	if (g_strcmp0(case_str(c, "country"), a->country) == 0 && a->alerts)
		p |= PARTY_COORDINATOR;
	if (array_has(case_array(c, "recipient_authorities"), a->id)) {
		p |= PARTY_RECIPIENT;
		if (g_strcmp0(case_str(c, "establishment"), a->country) == 0)
			p |= PARTY_ESTABLISHMENT;
	}
	(void)txn;
	return p;
}

/* Country codes written in upper case in a text ("APPROVE AT BE"). */
static void countries_in(const char *text, JsonArray *into)
{
	char **words = g_strsplit_set(text != NULL ? text : "", " \t\r\n,;.:[]()", -1);

	for (unsigned i = 0; words[i] != NULL && i < ALERT_MAX_WORDS &&
			     json_array_get_length(into) < ALERT_MAX_RECIPIENTS; i++) {
		const char *w = words[i];

		if (strlen(w) == 2 && g_ascii_isupper(w[0]) && g_ascii_isupper(w[1]) &&
		    directory_country_valid(w) && !array_has(into, w))
			json_array_add_string_element(into, w);
	}
	g_strfreev(words);
}

static char *forward_target(struct store_txn *txn, const char *text)
{
	char **words = g_strsplit_set(text != NULL ? text : "", " \t\r\n,;<>()\"'[]", -1);
	char *found = NULL;

	for (unsigned i = 0; words[i] != NULL && found == NULL && i < ALERT_MAX_WORDS; i++) {
		char *w = g_ascii_strdown(words[i], -1);
		struct authority *a = NULL;

		if (*w != '\0' && directory_id_valid(w) &&
		    store_authority_get(txn, w, &a, NULL) == IMI_OK) {
			found = g_strdup(a->id);
			authority_free(&a);
		}
		g_free(w);
	}
	g_strfreev(words);
	return found;
}

static int timer_add(struct store_txn *txn, JsonObject *c, int64_t when,
		     const char *kind, char **error_r)
{
	JsonObject *t = json_object_new();

	json_object_set_int_member(t, "when", when);
	json_object_set_string_member(t, "kind", kind);
	json_array_add_object_element(case_array(c, "timers"), t);
	return store_timer_set(txn, when, case_str(c, "id"), kind, error_r);
}

static int timers_clear(struct store_txn *txn, JsonObject *c, char **error_r)
{
	JsonArray *timers = case_array(c, "timers");
	int ret = IMI_OK;

	for (guint i = json_array_get_length(timers); i-- > 0 && ret == IMI_OK;) {
		JsonObject *t = json_array_get_object_element(timers, i);

		ret = store_timer_clear(txn, case_int(t, "when"), case_str(c, "id"),
					case_str(t, "kind"), error_r);
		if (ret == IMI_NOTFOUND) {
			g_free(*error_r);
			*error_r = NULL;
			ret = IMI_OK;
		}
		json_array_remove_element(timers, i);
	}
	return ret;
}

static int close_reminder_set(struct store_txn *txn, GKeyFile *kf, JsonObject *c,
			      int64_t after, char **error_r)
{
	char *period = g_key_file_get_string(kf, "Alerts", "CloseReminder", NULL);
	int64_t when;
	int ret;

	if (period == NULL || *period == '\0') {
		g_free(period);
		return IMI_OK;
	}
	ret = policy_period_add(period, after, &when, error_r);
	g_free(period);
	if (ret == IMI_OK)
		ret = timer_add(txn, c, when, "alert-close-reminder", error_r);
	return ret;
}

/* Removes the alert's data: it is no longer visible to anyone. */
static void hide(JsonObject *c)
{
	if (json_object_has_member(c, "sealed_answers"))
		json_object_remove_member(c, "sealed_answers");
	if (json_object_has_member(c, "sealed_documents"))
		json_object_remove_member(c, "sealed_documents");
	json_object_set_boolean_member(c, "visible", FALSE);
}

/* At the end of an alert: its data go out of sight now, and the
 * retention policy's timers (run by request_timer_run, as for a request)
 * delete what is left under its key: stored replies, outbox copies. */
static int end_case(struct store_txn *txn, struct request_env *env, JsonObject *c,
		    char **error_r)
{
	int64_t block, notice, del;
	int ret;

	hide(c);
	policy_retention_times(env->policy, case_int(c, "closed_at"), &block, &notice, &del);
	if (block > 0 && (ret = timer_add(txn, c, block, "retention-block", error_r)) != IMI_OK)
		return ret;
	if (notice > 0 && (ret = timer_add(txn, c, notice, "retention-notice", error_r)) != IMI_OK)
		return ret;
	return timer_add(txn, c, del, "retention-delete", error_r);
}

static int broadcast(struct store_txn *txn, struct request_env *env, GKeyFile *kf,
		     JsonObject *c, const struct qset *qset, const struct authority *initiator,
		     const char *extra_text, char **error_r)
{
	JsonArray *countries = case_array(c, "recipients");
	JsonArray *auths = case_array(c, "recipient_authorities");
	JsonObject *all = unseal_answers(txn, c);
	GArray *docs = documents_unseal(txn, c);
	char **defaults = g_key_file_get_string_list(kf, "Alerts", "DefaultRecipients", NULL, NULL);
	GString *unreached = g_string_new("");
	int ret = IMI_OK;

	for (unsigned i = 0; defaults != NULL && defaults[i] != NULL; i++) {
		const char *cc = strcmp(defaults[i], "establishment") == 0
			? case_str(c, "establishment") : defaults[i];

		if (cc != NULL && !array_has(countries, cc) &&
		    json_array_get_length(countries) < ALERT_MAX_RECIPIENTS)
			json_array_add_string_element(countries, cc);
	}
	countries_in(extra_text, countries);
	for (guint i = 0; ret == IMI_OK && i < json_array_get_length(countries); i++) {
		const char *cc = json_array_get_string_element(countries, i);
		GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

		ret = postboxes_of(txn, cc, ids, error_r);
		if (ret == IMI_OK && ids->len == 0)
			g_string_append_printf(unreached, " %s", cc);
		for (guint k = 0; ret == IMI_OK && k < ids->len; k++) {
			const char *id = g_ptr_array_index(ids, k);
			struct authority *a = NULL;

			if (array_has(auths, id) ||
			    (ret = store_authority_get(txn, id, &a, error_r)) != IMI_OK)
				continue;
			json_array_add_string_element(auths, id);
			ret = send_copy(txn, env, c, qset, all, docs, initiator, a,
					"alert.broadcast-intro", NULL, error_r);
			authority_free(&a);
		}
		g_ptr_array_free(ids, TRUE);
	}
	if (ret == IMI_OK)
		ret = close_reminder_set(txn, kf, c, imi_now(), error_r);
	if (ret == IMI_OK)
		ret = digest_schedule(txn, kf, imi_now() - 1, imi_now(), 0, error_r);
	if (ret == IMI_OK && unreached->len)
		ret = store_audit(txn, "alert", case_str(c, "id"), "alert.no-postbox",
				  unreached->str + 1, error_r);
	g_string_free(unreached, TRUE);
	g_strfreev(defaults);
	json_object_unref(all);
	documents_free(docs);
	return ret;
}

/* A notice of body_key to every alert coordinator of the initiator's
 * country (an alert withdrawn before their approval). */
static int tell_coordinators(struct store_txn *txn, struct request_env *env, JsonObject *c,
			     const struct qset *qset, const struct authority *ini,
			     const char *body_key, const char *reason, char **error_r)
{
	GPtrArray *coords = NULL;
	char *today = case_day(imi_now());
	int ret = coordinators_of(txn, ini->country, &coords, error_r);

	for (guint i = 0; ret == IMI_OK && i < coords->len; i++) {
		struct user *u = g_ptr_array_index(coords, i);
		struct authority *ca = NULL;

		if (store_authority_get(txn, u->authority, &ca, NULL) == IMI_OK) {
			const char *lang = case_language(env, ca);
			const char *body[] = {body_key, NULL};
			struct catalog_arg args[] = {
				{"case", case_str(c, "id")},
				{"title", qset_title(qset, lang)},
				{"authority", case_authority_name(ini, lang)},
				{"country", ini->country},
				{"date", today},
				{"reason", reason},
				{NULL, NULL},
			};

			ret = notice(txn, env, c, case_str(c, "id"), ca, u->email, "notice",
				     "alert.subject", body, args, NULL, NULL, error_r);
		}
		authority_free(&ca);
	}
	if (coords != NULL)
		g_ptr_array_free(coords, TRUE);
	g_free(today);
	return ret;
}

static int refuse(struct store_txn *txn, struct request_env *env, JsonObject *c,
		  const struct alert_step *step, const struct authority *sender,
		  const char *refusal, const char *reason, struct alert_outcome *out,
		  char **error_r)
{
	static const struct {
		const char *refusal, *key;
	} keys[] = {
		{"not-party", "error.not-party"},
		{"wrong-role", "error.wrong-role"},
		{"wrong-state", "error.wrong-role"},
		{"closed", "error.closed-case"},
		{"unparseable", "error.unparseable"},
	};
	const char *key = "error.unparseable";
	const char *body[2];
	struct catalog_arg args[] = {
		{"case", step->case_id}, {"reason", reason}, {"date", NULL}, {NULL, NULL},
	};
	int party = c != NULL && parties_of(txn, c, sender) != 0;
	char *detail;
	int ret;

	for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
		if (strcmp(keys[i].refusal, refusal) == 0)
			key = keys[i].key;
	body[0] = key;
	body[1] = NULL;
	ret = notice(txn, env, party ? c : NULL, step->case_id, sender, step->user->email,
		     "error", "error.subject", body, args, NULL, step->in_reply_to, error_r);
	if (ret != IMI_OK)
		return ret;
	detail = g_strdup_printf("refusal=%s by=%s", refusal, sender->id);
	ret = store_audit(txn, step->user->id, party ? step->case_id : NULL, "alert.refused",
			  detail, error_r);
	g_free(detail);
	out->applied = 0;
	out->reason = g_strdup_printf("alert step refused: %s", refusal);
	return ret;
}

int alert_inbound(struct store_txn *txn, struct request_env *env,
		  const struct alert_step *step, struct alert_outcome *out,
		  char **error_r)
{
	struct authority *sender = NULL, *ini = NULL;
	struct qset *qset = NULL;
	struct answers *answers = NULL;
	JsonObject *c = NULL, *all = NULL;
	GKeyFile *kf = NULL;
	GArray *docs = NULL;   /* submit, rectify: the documents of the message */
	struct decision d = {0};
	const char *subject = parsed_message_subject(step->msg);
	const char *rest = NULL, *action;
	char *text = NULL, *note = NULL, *today = case_day(imi_now());
	const char *state;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = store_authority_get(txn, step->user->authority, &sender, error_r)) != IMI_OK ||
	    (ret = store_record_get(txn, STORE_CASES, step->case_id, STORE_GET_RMW, &c,
				    error_r)) != IMI_OK ||
	    (ret = rules_load(env->conf, &kf, error_r)) != IMI_OK ||
	    (ret = store_authority_get(txn, case_str(c, "initiator"), &ini, error_r)) != IMI_OK ||
	    (ret = alert_qset_ensure(txn, env, case_str(c, "qset"), &qset, error_r)) != IMI_OK)
		goto out;
	if ((ret = reply_trim_message(step->msg, REPLY_TRIM_FULL, &text, error_r)) != IMI_OK) {
		if (ret != IMI_TOOBIG)
			goto out;
		g_free(*error_r);
		*error_r = NULL;
		text = g_strdup("");
	}
	action = command_of(subject, &rest);
	if (strcmp(step->token_action, "approve") == 0 || strcmp(step->token_action, "close") == 0)
		action = step->token_action;
	state = case_str(c, "state");
	if (action == NULL && g_strcmp0(state, "draft") == 0)
		action = "submit";
	if (action == NULL) {
		ret = refuse(txn, env, c, step, sender, "unparseable",
			     "APPROVE, REJECT, RECTIFY, WITHDRAW, FLAG, CLOSE or FORWARD",
			     out, error_r);
		goto out;
	}
	/* The sender's own words with the command: a reason, countries. */
	note = g_strconcat(rest != NULL ? rest : "", "\n", text, NULL);
	g_strstrip(note);
	decide(kf, action, state, parties_of(txn, c, sender), step->user, &d);
	if (!d.allowed) {
		ret = refuse(txn, env, c, step, sender, d.refusal, action, out, error_r);
		goto out;
	}
	if (strcmp(action, "submit") == 0 || strcmp(action, "rectify") == 0) {
		JsonObject *old = unseal_answers(txn, c);

		docs = documents_new();
		ret = documents_from_message(step->msg, docs, error_r);
		if (ret == IMI_TOOBIG) {
			char *why = *error_r;

			*error_r = NULL;
			ret = refuse(txn, env, c, step, sender, "unparseable", why, out, error_r);
			g_free(why);
			json_object_unref(old);
			goto out;
		}
		if (ret == IMI_OK)
			ret = form_answers(env, qset, text, parsed_message_text(step->msg, NULL),
					   case_language(env, sender), docs->len, &answers,
					   error_r);
		if (ret == IMI_TOOBIG) {
			g_free(*error_r);
			*error_r = NULL;
			ret = refuse(txn, env, c, step, sender, "unparseable", "too long", out,
				     error_r);
		}
		if (ret != IMI_OK || out->reason != NULL) {
			json_object_unref(old);
			goto out;
		}
		all = answers_object(answers, old);
		json_object_unref(old);
	}

	if (strcmp(action, "submit") == 0) {
		char *missing = NULL, *problem = NULL;

		ret = submit(txn, env, kf, c, qset, all, docs, ini, case_language(env, sender),
			     step->in_reply_to, &missing, &problem, error_r);
		if (ret == IMI_OK && missing != NULL) {
			const char *body[] = {"alert.checklist-missing", NULL};
			struct catalog_arg args[] = {
				{"case", step->case_id}, {"missing", missing}, {NULL, NULL},
			};
			ret = notice(txn, env, c, step->case_id, sender, step->user->email,
				     "checklist", "error.subject", body, args, NULL,
				     step->in_reply_to, error_r);
			if (ret == IMI_OK)
				ret = store_audit(txn, step->user->id, step->case_id,
						  "alert.checklist-missing", NULL, error_r);
			if (ret == IMI_OK)
				ret = store_record_put(txn, STORE_CASES, step->case_id, c, 0,
						       error_r);
			out->reason = g_strdup("alert refused: check list incomplete");
		} else if (ret == IMI_OK && problem != NULL) {
			ret = refuse(txn, env, c, step, sender, "unparseable", problem, out,
				     error_r);
		}
		g_free(missing);
		g_free(problem);
		if (ret != IMI_OK || out->reason != NULL)
			goto out;
	} else if (strcmp(action, "approve") == 0) {
		char *to = NULL;

		state_set(c, d.next);
		json_object_set_int_member(c, "approved_at", imi_now());
		json_object_set_string_member(c, "approved_by", step->user->id);
		ret = broadcast(txn, env, kf, c, qset, ini, note, error_r);
		if (ret == IMI_OK && (ret = initiator_address(txn, c, ini, &to)) == IMI_OK) {
			const char *body[] = {"alert.approved", NULL};
			struct catalog_arg args[] = {
				{"case", step->case_id}, {"country", sender->country},
				{"date", today}, {"title", qset_title(qset, case_language(env, ini))},
				{NULL, NULL},
			};
			ret = notice(txn, env, c, step->case_id, ini, to, "approved",
				     "alert.subject", body, args, NULL, NULL, error_r);
		}
		g_free(to);
	} else if (strcmp(action, "reject") == 0) {
		char *to = NULL;

		state_set(c, d.next);
		if ((ret = end_case(txn, env, c, error_r)) == IMI_OK &&
		    (ret = initiator_address(txn, c, ini, &to)) == IMI_OK) {
			const char *body[] = {"alert.rejected", NULL};
			struct catalog_arg args[] = {
				{"case", step->case_id}, {"country", sender->country},
				{"reason", note}, {"title", qset_title(qset, case_language(env, ini))},
				{NULL, NULL},
			};
			ret = notice(txn, env, c, step->case_id, ini, to, "rejected",
				     "alert.subject", body, args, NULL, NULL, error_r);
		}
		g_free(to);
	} else if (strcmp(action, "rectify") == 0) {
		json_object_set_int_member(c, "version", case_int(c, "version") + 1);
		ret = seal_json(txn, c, "sealed_answers", all, error_r);
		/* Documents with the rectification replace the earlier ones;
		 * none: the earlier ones stay. */
		if (ret == IMI_OK && docs->len > 0)
			ret = documents_seal(txn, c, docs, error_r);
		if (ret == IMI_OK && docs->len == 0) {
			documents_free(docs);
			docs = documents_unseal(txn, c);
		}
		if (ret == IMI_OK && strcmp(state, "awaiting-approval") == 0) {
			/* Not yet sent: the coordinators get the new version. */
			GPtrArray *coords = NULL;

			ret = coordinators_of(txn, ini->country, &coords, error_r);
			if (ret == IMI_OK)
				ret = ask_approval(txn, env, c, qset, all, docs, ini, coords,
						   error_r);
			if (coords != NULL)
				g_ptr_array_free(coords, TRUE);
		} else if (ret == IMI_OK) {
			ret = to_recipients(txn, env, c, qset, all, docs, ini, "alert.rectified",
					    1, NULL, NULL, error_r);
		}
	} else if (strcmp(action, "withdraw") == 0) {
		int was_awaiting = strcmp(state, "awaiting-approval") == 0;

		ret = timers_clear(txn, c, error_r);
		state_set(c, d.next);
		if (ret == IMI_OK)
			ret = end_case(txn, env, c, error_r);
		if (ret == IMI_OK)
			ret = to_recipients(txn, env, c, qset, NULL, NULL, ini, "alert.withdrawn",
					    0, note, ini, error_r);
		if (ret == IMI_OK && was_awaiting)
			ret = tell_coordinators(txn, env, c, qset, ini, "alert.withdrawn", note,
						error_r);
	} else if (strcmp(action, "flag") == 0) {
		const char *body[] = {"alert.flagged", NULL};
		struct catalog_arg args[] = {
			{"case", step->case_id}, {"authority", case_authority_name(sender, case_language(env, ini))},
			{"country", sender->country}, {"reason", note},
			{"title", qset_title(qset, case_language(env, ini))}, {NULL, NULL},
		};
		ret = notice(txn, env, c, step->case_id, ini, ini->postbox, "flagged",
			     "alert.subject", body, args, NULL, NULL, error_r);
	} else if (strcmp(action, "close") == 0) {
		ret = timers_clear(txn, c, error_r);
		state_set(c, d.next);
		if (ret == IMI_OK)
			ret = to_recipients(txn, env, c, qset, NULL, NULL, ini, "alert.closed", 0,
					    NULL, sender, error_r);
		if (ret == IMI_OK) {
			const char *body[] = {"alert.closed", NULL};
			struct catalog_arg args[] = {
				{"case", step->case_id},
				{"authority", case_authority_name(sender, case_language(env, ini))},
				{"country", sender->country}, {"date", today},
				{"title", qset_title(qset, case_language(env, ini))}, {NULL, NULL},
			};
			ret = notice(txn, env, c, step->case_id, ini, ini->postbox, "closed",
				     "alert.subject", body, args, NULL, NULL, error_r);
		}
		if (ret == IMI_OK)
			ret = end_case(txn, env, c, error_r);
	} else if (strcmp(action, "forward") == 0) {
		char *target = forward_target(txn, note);
		struct authority *fa = NULL;

		if (target == NULL || store_authority_get(txn, target, &fa, NULL) != IMI_OK ||
		    fa->disabled || g_strcmp0(fa->country, sender->country) != 0 ||
		    strcmp(fa->id, sender->id) == 0 ||
		    json_array_get_length(case_array(c, "recipient_authorities")) >=
			    ALERT_MAX_RECIPIENTS + ALERT_MAX_FORWARDS) {
			ret = refuse(txn, env, c, step, sender, "unparseable",
				     "FORWARD needs the id of another authority of your country",
				     out, error_r);
		} else if (!array_has(case_array(c, "recipient_authorities"), fa->id)) {
			JsonObject *cur = unseal_answers(txn, c);
			GArray *held = documents_unseal(txn, c);

			json_array_add_string_element(case_array(c, "recipient_authorities"), fa->id);
			ret = send_copy(txn, env, c, qset, cur, held, ini, fa, "alert.intro", NULL,
					error_r);
			json_object_unref(cur);
			documents_free(held);
		}
		authority_free(&fa);
		g_free(target);
		if (ret != IMI_OK || out->reason != NULL)
			goto out;
	}
	if (ret != IMI_OK)
		goto out;
	history_add(c, action, sender->id);
	{
		char *detail = g_strdup_printf("action=%s state=%s", action, case_str(c, "state"));

		ret = store_audit(txn, step->user->id, step->case_id, "alert.step", detail,
				  error_r);
		g_free(detail);
	}
	if (ret == IMI_OK)
		ret = store_record_put(txn, STORE_CASES, step->case_id, c, 0, error_r);
	if (ret == IMI_OK) {
		out->applied = 1;
		out->reason = g_strdup_printf("alert %s applied, state %s", action,
					      case_str(c, "state"));
	}
out:
	g_free(d.next);
	if (all != NULL)
		json_object_unref(all);
	if (c != NULL)
		json_object_unref(c);
	if (kf != NULL)
		g_key_file_free(kf);
	answers_free(&answers);
	documents_free(docs);
	qset_free(&qset);
	authority_free(&sender);
	authority_free(&ini);
	if (text != NULL)
		memset(text, 0, strlen(text));
	g_free(text);
	g_free(note);
	g_free(today);
	return ret;
}


/* ---- digests ---- */

#define DIGEST_KEY "alert-digest"   /* STORE_META record: {"v","next"} */
#define DIGEST_CASE "digest"        /* the timer's case part */
#define DIGEST_MAX_LINES 10000      /* alerts listed in one digest */

static const char *const digest_sections[] = {
	"digest.new", "digest.rectified", "digest.flagged", "digest.withdrawn",
	"digest.closed", "digest.awaiting",
};
enum { DIGEST_NEW, DIGEST_RECTIFIED, DIGEST_FLAGGED, DIGEST_WITHDRAWN, DIGEST_CLOSED,
       DIGEST_AWAITING, DIGEST_N };

/* One alert in a section of a country's digest. */
struct digest_entry {
	unsigned section;
	char *case_id;
	char *qset;
};

struct digest_walk {
	int64_t since, until;
	GHashTable *by_country; /* country -> GPtrArray of struct digest_entry * */
	unsigned seen;
};

static void digest_entry_free(gpointer p)
{
	struct digest_entry *e = p;

	g_free(e->case_id);
	g_free(e->qset);
	g_free(e);
}

static void digest_add(struct digest_walk *w, const char *country, unsigned section,
		       JsonObject *c)
{
	GPtrArray *v = g_hash_table_lookup(w->by_country, country);
	struct digest_entry *e;

	if (v == NULL) {
		v = g_ptr_array_new_with_free_func(digest_entry_free);
		g_hash_table_insert(w->by_country, g_strdup(country), v);
	}
	for (guint i = 0; i < v->len; i++) {
		e = g_ptr_array_index(v, i);
		if (e->section == section && strcmp(e->case_id, case_str(c, "id")) == 0)
			return;
	}
	if (v->len >= DIGEST_MAX_LINES)
		return;
	e = g_new0(struct digest_entry, 1);
	e->section = section;
	e->case_id = g_strdup(case_str(c, "id"));
	e->qset = g_strdup(case_str(c, "qset"));
	g_ptr_array_add(v, e);
}

static int digest_case(const void *key, size_t key_len, const void *value, size_t len,
		       void *ctx)
{
	static const struct {
		const char *action;
		unsigned section;
	} map[] = {
		{"approve", DIGEST_NEW}, {"rectify", DIGEST_RECTIFIED}, {"flag", DIGEST_FLAGGED},
		{"withdraw", DIGEST_WITHDRAWN}, {"close", DIGEST_CLOSED},
	};
	struct digest_walk *w = ctx;
	JsonObject *c = NULL;
	JsonArray *h, *countries;

	(void)key;
	(void)key_len;
	if (++w->seen > ALERT_MAX_CASES)
		return 1;
	if (store_record_parse(value, len, &c, NULL) != IMI_OK)
		return 0;
	if (g_strcmp0(case_str(c, "kind"), "alert") != 0) {
		json_object_unref(c);
		return 0;
	}
	if (g_strcmp0(case_str(c, "state"), "awaiting-approval") == 0)
		digest_add(w, case_str(c, "country"), DIGEST_AWAITING, c);
	h = case_array(c, "history");
	countries = case_array(c, "recipients");
	for (guint i = 0; i < json_array_get_length(h) && i < REQUEST_MAX_HISTORY; i++) {
		JsonObject *e = json_array_get_object_element(h, i);
		int64_t at = case_int(e, "at");

		if (at <= w->since || at > w->until)
			continue;
		for (unsigned m = 0; m < G_N_ELEMENTS(map); m++) {
			if (g_strcmp0(case_str(e, "action"), map[m].action) != 0)
				continue;
			/* The initiator's country and every recipient country. */
			digest_add(w, case_str(c, "country"), map[m].section, c);
			for (guint k = 0; k < json_array_get_length(countries); k++)
				digest_add(w, json_array_get_string_element(countries, k),
					   map[m].section, c);
		}
	}
	json_object_unref(c);
	return 0;
}

/* The digest text of a country in lang; coordinators also see what
 * awaits their approval.  *count_r: alerts listed. */
static char *digest_text(struct store_txn *txn, struct request_env *env, GPtrArray *v,
			 const char *lang, int coordinator, unsigned *count_r)
{
	GString *s = g_string_new("");
	unsigned total = 0;

	for (unsigned sec = 0; sec < DIGEST_N; sec++) {
		unsigned n = 0;
		char *count, *head;

		if (sec == DIGEST_AWAITING && !coordinator)
			continue;
		for (guint i = 0; i < v->len; i++)
			if (((struct digest_entry *)g_ptr_array_index(v, i))->section == sec)
				n++;
		if (n == 0)
			continue;
		count = g_strdup_printf("%u", n);
		{
			struct catalog_arg args[] = {{"count", count}, {NULL, NULL}};
			head = catalog_format(env->catalog, lang, digest_sections[sec], args);
		}
		g_string_append_printf(s, "%s\n", head);
		for (guint i = 0; i < v->len; i++) {
			struct digest_entry *e = g_ptr_array_index(v, i);
			struct qset *q = NULL;

			if (e->section != sec)
				continue;
			if (qset_store_get(txn, e->qset, &q, NULL) == IMI_OK)
				g_string_append_printf(s, "  %s: %s\n", e->case_id, qset_title(q, lang));
			else
				g_string_append_printf(s, "  %s\n", e->case_id);
			qset_free(&q);
		}
		g_string_append_c(s, '\n');
		total += n;
		g_free(head);
		g_free(count);
	}
	*count_r = total;
	return g_string_free(s, FALSE);
}

static int digest_send(struct store_txn *txn, struct request_env *env, const char *country,
		       GPtrArray *v, const struct authority *a, const char *to,
		       int coordinator, const char *since_day, unsigned *sent_r,
		       char **error_r)
{
	const char *lang = case_language(env, a);
	unsigned n = 0;
	char *text = digest_text(txn, env, v, lang, coordinator, &n);
	int ret = IMI_OK;

	if (n > 0) {
		char *count = g_strdup_printf("%u", n);
		const char *body[] = {"digest.intro", NULL};
		struct catalog_arg args[] = {
			{"country", country}, {"date", since_day}, {"count", count}, {NULL, NULL},
		};

		ret = notice(txn, env, NULL, "", a, to, "digest", "digest.subject", body, args,
			     text, NULL, error_r);
		if (ret == IMI_OK)
			(*sent_r)++;
		g_free(count);
	}
	g_free(text);
	return ret;
}

int alert_digest_run(struct store_txn *txn, struct request_env *env, int64_t since,
		     int64_t until, unsigned *sent_r, char **error_r)
{
	struct digest_walk w = {since, until,
				g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						      (GDestroyNotify)g_ptr_array_unref), 0};
	char *since_day = case_day(since);
	GHashTableIter it;
	gpointer k, val;
	int ret;

	*sent_r = 0;
	ret = store_each(txn, STORE_CASES, NULL, 0, digest_case, &w, error_r);
	ret = ret < 0 ? ret : IMI_OK;
	g_hash_table_iter_init(&it, w.by_country);
	while (ret == IMI_OK && g_hash_table_iter_next(&it, &k, &val)) {
		const char *country = k;
		GPtrArray *ids = g_ptr_array_new_with_free_func(g_free), *coords = NULL;

		ret = postboxes_of(txn, country, ids, error_r);
		for (guint i = 0; ret == IMI_OK && i < ids->len; i++) {
			struct authority *a = NULL;

			if (store_authority_get(txn, g_ptr_array_index(ids, i), &a, NULL) == IMI_OK)
				ret = digest_send(txn, env, country, val, a, a->postbox, 0,
						  since_day, sent_r, error_r);
			authority_free(&a);
		}
		if (ret == IMI_OK)
			ret = coordinators_of(txn, country, &coords, error_r);
		for (guint i = 0; ret == IMI_OK && coords != NULL && i < coords->len; i++) {
			struct user *u = g_ptr_array_index(coords, i);
			struct authority *a = NULL;

			if (store_authority_get(txn, u->authority, &a, NULL) == IMI_OK)
				ret = digest_send(txn, env, country, val, a, u->email, 1,
						  since_day, sent_r, error_r);
			authority_free(&a);
		}
		if (coords != NULL)
			g_ptr_array_free(coords, TRUE);
		g_ptr_array_free(ids, TRUE);
	}
	if (ret == IMI_OK) {
		char *detail = g_strdup_printf("since=%s sent=%u", since_day, *sent_r);
		ret = store_audit(txn, "tick", NULL, "alert.digest", detail, error_r);
		g_free(detail);
	}
	g_hash_table_destroy(w.by_country);
	g_free(since_day);
	return ret;
}

/* The digest timer exists once: its next time, a period after `after`,
 * and the start of the period it covers (exclusive) are kept in
 * STORE_META. */
static int digest_schedule(struct store_txn *txn, GKeyFile *kf, int64_t since,
			   int64_t after, int force, char **error_r)
{
	char *period = g_key_file_get_string(kf, "Alerts", "DigestPeriod", NULL);
	JsonObject *rec = NULL;
	int64_t next;
	int ret;

	if (period == NULL || *period == '\0') {
		g_free(period);
		return IMI_OK;
	}
	ret = store_record_get(txn, STORE_META, DIGEST_KEY, STORE_GET_RMW, &rec, NULL);
	if (ret == IMI_OK && !force) {
		json_object_unref(rec);
		g_free(period);
		return IMI_OK;
	}
	if (rec != NULL)
		json_object_unref(rec);
	if (ret != IMI_OK && ret != IMI_NOTFOUND) {
		g_free(period);
		return store_record_get(txn, STORE_META, DIGEST_KEY, STORE_GET_RMW, &rec, error_r);
	}
	ret = policy_period_add(period, after, &next, error_r);
	g_free(period);
	if (ret != IMI_OK)
		return ret;
	rec = json_object_new();
	json_object_set_int_member(rec, "v", STORE_SCHEMA_VERSION);
	json_object_set_int_member(rec, "since", since);
	json_object_set_int_member(rec, "next", next);
	ret = store_record_put(txn, STORE_META, DIGEST_KEY, rec, 0, error_r);
	json_object_unref(rec);
	if (ret == IMI_OK)
		ret = store_timer_set(txn, next, DIGEST_CASE, "alert-digest", error_r);
	return ret;
}

static int digest_timer(struct store_txn *txn, struct request_env *env, int64_t when,
			char **error_r)
{
	JsonObject *rec = NULL;
	GKeyFile *kf = NULL;
	unsigned sent = 0;
	int64_t since;
	int ret;

	ret = store_record_get(txn, STORE_META, DIGEST_KEY, STORE_GET_RMW, &rec, NULL);
	if (ret == IMI_NOTFOUND)
		return IMI_OK;
	if (ret != IMI_OK)
		return store_record_get(txn, STORE_META, DIGEST_KEY, STORE_GET_RMW, &rec, error_r);
	/* Only the timer the record names runs: a stale one does nothing. */
	if (case_int(rec, "next") != when) {
		json_object_unref(rec);
		return IMI_OK;
	}
	since = case_int(rec, "since");
	json_object_unref(rec);
	if ((ret = rules_load(env->conf, &kf, error_r)) != IMI_OK)
		return ret;
	ret = alert_digest_run(txn, env, since, when, &sent, error_r);
	/* The next period starts now: a tick that was late does not owe
	 * several digests. */
	if (ret == IMI_OK)
		ret = digest_schedule(txn, kf, when, MAX(when, imi_now()), 1, error_r);
	g_key_file_free(kf);
	return ret;
}

/* ---- timers ---- */

static int timer_take(JsonObject *c, int64_t when, const char *kind)
{
	JsonArray *timers = case_array(c, "timers");

	for (guint i = 0; i < json_array_get_length(timers); i++) {
		JsonObject *t = json_array_get_object_element(timers, i);

		if (case_int(t, "when") == when && g_strcmp0(case_str(t, "kind"), kind) == 0) {
			json_array_remove_element(timers, i);
			return 1;
		}
	}
	return 0;
}

int alert_timer_run(struct store_txn *txn, struct request_env *env,
		    int64_t when, const char *case_id, const char *kind,
		    char **error_r)
{
	JsonObject *c = NULL;
	GKeyFile *kf = NULL;
	JsonArray *rcpt;
	int ret;

	if ((ret = store_timer_clear(txn, when, case_id, kind, error_r)) != IMI_OK)
		return ret;
	if (strcmp(kind, "alert-digest") == 0)
		return digest_timer(txn, env, when, error_r);
	ret = store_record_get(txn, STORE_CASES, case_id, STORE_GET_RMW, &c, NULL);
	if (ret == IMI_NOTFOUND)
		return IMI_OK;
	if (ret != IMI_OK)
		return store_record_get(txn, STORE_CASES, case_id, STORE_GET_RMW, &c, error_r);
	if (!timer_take(c, when, kind) || strcmp(kind, "alert-close-reminder") != 0 ||
	    g_strcmp0(case_str(c, "state"), "sent") != 0) {
		ret = store_record_put(txn, STORE_CASES, case_id, c, 0, error_r);
		json_object_unref(c);
		return ret;
	}
	if ((ret = rules_load(env->conf, &kf, error_r)) != IMI_OK)
		goto out;
	rcpt = case_array(c, "recipient_authorities");
	for (guint i = 0; ret == IMI_OK && i < json_array_get_length(rcpt); i++) {
		struct authority *a = NULL;
		char *close = NULL;

		if (store_authority_get(txn, json_array_get_string_element(rcpt, i), &a,
					NULL) != IMI_OK)
			continue;
		if (g_strcmp0(a->country, case_str(c, "establishment")) == 0 &&
		    (ret = token_addr(env, case_id, a->id, "close", &close, error_r)) == IMI_OK) {
			const char *body[] = {"alert.close-reminder", NULL};
			struct catalog_arg args[] = {
				{"case", case_id}, {"action", close}, {"title", ""}, {NULL, NULL},
			};
			ret = notice(txn, env, c, case_id, a, a->postbox, "reminder",
				     "reminder.subject", body, args, NULL, NULL, error_r);
		}
		g_free(close);
		authority_free(&a);
	}
	if (ret == IMI_OK)
		ret = store_audit(txn, "tick", case_id, "alert.close-reminder", NULL, error_r);
	if (ret == IMI_OK)
		ret = close_reminder_set(txn, kf, c, when, error_r);
	if (ret == IMI_OK)
		ret = store_record_put(txn, STORE_CASES, case_id, c, 0, error_r);
out:
	if (kf != NULL)
		g_key_file_free(kf);
	json_object_unref(c);
	return ret;
}

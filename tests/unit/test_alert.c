/*
 * test_alert.c: the alert engine on a real store in a temporary home, and
 * the redaction of the Commission's copy.
 *
 * Redaction: an alert of each alert set whose personal fields (as the set
 * marks them) hold canary values, with a document whose name and bytes
 * are canaries too, is rendered as the Commission gets it, in several
 * languages; every MIME part is decoded with GMime (so base64 or
 * quoted-printable cannot hide a value) and searched, with the headers and
 * the parts' file names.  The same alert rendered for a post-box must show
 * the canaries, so the search itself is shown to work.  A variant of a set
 * whose attachment question says Personal=false gives the Commission the
 * document.
 *
 * Engine: a form with a criterion not ticked is refused with that
 * criterion listed and nothing stored or mailed; a complete one waits for
 * approval, and the approval request goes to the alert coordinator of the
 * initiator's country only, never to one abroad, with the documents; the
 * sender gets an acknowledgement with a reply address of its authority;
 * the documents are sealed; access and the documents' bounds are checked.
 */
#include "testutil.h"

#include <gmime/gmime.h>

#include "parser/token.h"
#include "policies/alert.h"
#include "templates/qset_store.h"

static char *src_path(const char *rel)
{
	const char *top = g_getenv("IMI_SRC");
	return g_build_filename(top != NULL ? top : ".", rel, NULL);
}

/* ---- redaction ---- */

/* Appends the decoded text of every leaf part. */
static void collect_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	GString *all = data;
	GMimeDataWrapper *content;
	GMimeStream *mem;
	GByteArray *bytes;

	(void)parent;
	if (!GMIME_IS_PART(part))
		return;
	if (g_mime_part_get_filename(GMIME_PART(part)) != NULL)
		g_string_append_printf(all, "%s\n", g_mime_part_get_filename(GMIME_PART(part)));
	content = g_mime_part_get_content(GMIME_PART(part));
	if (content == NULL)
		return;
	mem = g_mime_stream_mem_new();
	/* Decodes the transfer encoding (base64, quoted-printable). */
	g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_string_append_len(all, (const char *)bytes->data, bytes->len);
	g_string_append_c(all, '\n');
	g_object_unref(mem);
}

/* Decoded headers and parts of a rendered message. */
static char *decoded_text(const char *raw, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	GString *all = g_string_new("");

	if (msg == NULL)
		fail_msg("GMime cannot parse the rendered alert");
	g_string_append_printf(all, "%s\n", g_mime_message_get_subject(msg));
	g_mime_message_foreach(msg, collect_part, all);
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	return g_string_free(all, FALSE);
}

/* A document whose name and bytes are canaries (the bytes as a PDF
 * would have them, with non-text bytes so base64 is needed). */
static const unsigned char doc_bytes[] = "%PDF-1.4\n\x01\x02\xff Canarydocbody77\n%%EOF\n";
static const struct alert_document doc_canary = {
	"Canarydocname55.pdf", "application/pdf", doc_bytes, sizeof(doc_bytes) - 1,
};

static void render_one(const struct catalog *cat, const struct qset *qset,
		       JsonObject *answers, const char *lang, int redact,
		       char **raw_r, size_t *len_r)
{
	struct alert_copy cp;
	char *error = NULL;

	memset(&cp, 0, sizeof(cp));
	cp.env.from_address = "imi@imi.example.eu";
	cp.env.to_address = "alerts@ec.example.eu";
	cp.env.reply_to = "imi+tok@imi.example.eu";
	cp.env.message_id = "IMI-2026-000007.3.alert@imi.example.eu";
	cp.env.service_domain = "imi.example.eu";
	cp.catalog = cat;
	cp.qset = qset;
	cp.answers = answers;
	cp.language = lang;
	cp.case_id = "IMI-2026-000007";
	cp.authority = "DGCCRF";
	cp.country = "FR";
	cp.date = "2026-11-25";
	cp.intro_key = "alert.broadcast-intro";
	cp.reason = "Reason Canaryreason11";
	cp.redact = redact;
	cp.documents = &doc_canary;
	cp.n_documents = 1;
	if (alert_render_copy(&cp, raw_r, len_r, &error) != IMI_OK)
		fail_msg("alert_render_copy: %s", error);
}

static void test_commission_copy_redacted(void **state)
{
	/* "open": sd-alert with its attachment question Personal=false. */
	static const char *const sets[] = {"sd-alert", "pq-alert", "open"};
	static const char *const langs[] = {"en", "de", "fr", "el", "bg"};
	struct catalog *cat = NULL;
	char *error = NULL, *path;

	(void)state;
	path = src_path("templates/catalogs");
	if (catalog_open(path, &cat, &error) != IMI_OK)
		fail_msg("catalog: %s", error);
	g_free(path);
	for (unsigned s = 0; s < G_N_ELEMENTS(sets); s++) {
		struct qset *qset = NULL;
		JsonObject *answers = json_object_new();
		GPtrArray *canaries = g_ptr_array_new_with_free_func(g_free);
		GPtrArray *public = g_ptr_array_new_with_free_func(g_free);
		int open_set = strcmp(sets[s], "open") == 0;
		char *file = g_strdup_printf("templates/sets/%s.ini", open_set ? "sd-alert" : sets[s]);
		char *source = NULL;
		int docs_public;

		path = src_path(file);
		if (!g_file_get_contents(path, &source, NULL, NULL))
			fail_msg("cannot read %s", path);
		if (open_set) {
			/* Q14 is the attachment question of sd-alert. */
			char *q14 = strstr(source, "[Q14]");
			char *mark = q14 != NULL ? strstr(q14, "Personal=true") : NULL;

			if (mark == NULL)
				fail_msg("sd-alert: no [Q14] Personal=true to change");
			{
				char *changed = g_strdup_printf("%.*sPersonal=false%s",
								(int)(mark - source), source,
								mark + strlen("Personal=true"));

				g_free(source);
				source = changed;
			}
		}
		if (qset_load_data(source, strlen(source), file, &qset, &error) != IMI_OK)
			fail_msg("qset %s: %s", sets[s], error);
		g_free(source);
		g_free(path);
		g_free(file);
		docs_public = !alert_documents_personal(qset);
		if (docs_public != open_set)
			fail_msg("%s: documents public got %d, want %d", sets[s], docs_public,
				 open_set);
		/* A canary in every personal field; a marker in the others
		 * (criteria are ticked as they would be). */
		for (unsigned i = 0; i < qset_count(qset); i++) {
			const struct qset_question *q = qset_question(qset, i);
			char *v;

			if (qset_question_type(q) == QSET_CHECK) {
				json_object_set_string_member(answers, qset_question_code(q), "yes");
				continue;
			}
			if (qset_question_personal(q)) {
				/* Non-ASCII, so the renderer must encode it. */
				v = g_strdup_printf("Canärÿ%s%sZ", sets[s], qset_question_code(q));
				g_ptr_array_add(canaries, g_strdup(v));
			} else {
				v = g_strdup_printf("Public%s%sZ", sets[s], qset_question_code(q));
				g_ptr_array_add(public, g_strdup(v));
			}
			json_object_set_string_member(answers, qset_question_code(q), v);
			g_free(v);
		}
		if (canaries->len < 3)
			fail_msg("%s: only %u personal fields to test", sets[s], canaries->len);
		for (unsigned l = 0; l < G_N_ELEMENTS(langs); l++) {
			for (int redact = 1; redact >= 0; redact--) {
				char *raw = NULL, *text;
				size_t len = 0;

				render_one(cat, qset, answers, langs[l], redact, &raw, &len);
				text = decoded_text(raw, len);
				for (unsigned c = 0; c < canaries->len; c++) {
					const char *canary = g_ptr_array_index(canaries, c);
					int in_text = strstr(text, canary) != NULL;

					if (redact && in_text)
						fail_msg("%s/%s: Commission copy shows personal field "
							 "value %s", sets[s], langs[l], canary);
					if (redact && strstr(raw, canary) != NULL)
						fail_msg("%s/%s: raw Commission copy holds %s",
							 sets[s], langs[l], canary);
					if (!redact && !in_text)
						fail_msg("%s/%s: post-box copy lacks %s (the search "
							 "would miss it)", sets[s], langs[l], canary);
				}
				/* The document: its name and bytes, decoded. */
				for (unsigned d = 0; d < 2; d++) {
					const char *canary = d == 0 ? "Canarydocname55"
								    : "Canarydocbody77";
					int want = !redact || docs_public;

					if ((strstr(text, canary) != NULL) != want)
						fail_msg("%s/%s redact=%d: document %s got %d, "
							 "want %d", sets[s], langs[l], redact,
							 canary, !want, want);
					if (redact && !want && strstr(raw, canary) != NULL)
						fail_msg("%s/%s: raw Commission copy holds %s",
							 sets[s], langs[l], canary);
				}
				if (redact && strstr(text, "Canaryreason11") != NULL)
					fail_msg("%s/%s: Commission copy shows the free-text reason",
						 sets[s], langs[l]);
				for (unsigned p = 0; p < public->len; p++) {
					const char *value = g_ptr_array_index(public, p);

					if (strstr(text, value) == NULL)
						fail_msg("%s/%s redact=%d: non-personal value %s "
							 "missing", sets[s], langs[l], redact, value);
				}
				g_free(text);
				g_free(raw);
			}
		}
		g_ptr_array_free(canaries, TRUE);
		g_ptr_array_free(public, TRUE);
		json_object_unref(answers);
		qset_free(&qset);
	}
	catalog_close(&cat);
}

/* ---- the engine on a store ---- */

struct fixture {
	char *home;
	struct imi_conf *conf;
	struct store *store;
	struct request_env *env;
};

static void put(struct store *store, const char *id, const char *country, const char *lang,
		const char *postbox, int alerts, int alert_postbox, const char *user,
		const char *role)
{
	struct authority a = {0};
	struct user u = {0};
	char *areas[] = {"services", NULL};
	char *roles[] = {(char *)role, NULL};
	char *domains[] = {(char *)imi_email_domain(postbox), NULL};
	struct store_txn *txn = NULL;
	char *error = NULL;

	a.id = (char *)id;
	a.country = (char *)country;
	a.language = (char *)lang;
	a.names = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(a.names, (char *)lang, (char *)id);
	a.areas = areas;
	a.postbox = (char *)postbox;
	a.domains = domains;
	a.alerts = alerts;
	a.alert_postbox = alert_postbox;
	u.id = (char *)user;
	u.email = (char *)user;
	u.authority = (char *)id;
	u.roles = roles;
	if (store_txn_begin(store, &txn, &error) != IMI_OK ||
	    store_authority_put(txn, &a, STORE_PUT_NEW, &error) != IMI_OK ||
	    store_user_put(txn, &u, STORE_PUT_NEW, &error) != IMI_OK ||
	    store_txn_commit(&txn, &error) != IMI_OK)
		fail_msg("registering %s: %s", id, error);
	g_hash_table_destroy(a.names);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char *error = NULL, *keys, *path;

	f->home = testutil_tmpdir("alert");
	keys = g_build_filename(f->home, "keys", NULL);
	g_mkdir_with_parents(keys, 0700);
	path = g_build_filename(keys, "token.key", NULL);
	if (token_key_create(path, &error) != IMI_OK)
		fail_msg("token key: %s", error);
	if (conf_load(f->home, &f->conf, &error) != IMI_OK ||
	    store_open(f->home, STORE_OPEN_CREATE, &f->store, &error) != IMI_OK ||
	    request_env_open(f->conf, &f->env, &error) != IMI_OK)
		fail_msg("setup: %s", error);
	g_free(path);
	g_free(keys);
	put(f->store, "fr-send", "FR", "fr", "imi@send.fr", 1, 0, "anne@send.fr", "alert_sender");
	put(f->store, "fr-coord", "FR", "fr", "imi@coord.fr", 1, 0, "cora@coord.fr",
	    "alert_coordinator");
	put(f->store, "de-coord", "DE", "de", "imi@coord.de", 1, 1, "dora@coord.de",
	    "alert_coordinator");
	put(f->store, "fr-noalert", "FR", "fr", "imi@no.fr", 0, 0, "nina@no.fr", "alert_sender");
	put(f->store, "fr-hand", "FR", "fr", "imi@hand.fr", 1, 0, "hans@hand.fr", "handler");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	request_env_close(&f->env);
	store_close(&f->store);
	conf_free(&f->conf);
	testutil_rmdir(f->home);
	g_free(f);
	return 0;
}

struct create_ctx {
	struct request_env *env;
	struct alert_new in;
	char *case_id, *missing;
};

static int create_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct create_ctx *c = ctx;

	g_free(c->case_id);
	g_free(c->missing);
	c->case_id = c->missing = NULL;
	return alert_create(txn, c->env, &c->in, &c->case_id, &c->missing, error_r);
}

struct rcpts {
	GString *to;
	unsigned n;
};

static int outbox_collect(const struct outbox_item *item, void *ctx)
{
	struct rcpts *r = ctx;

	for (unsigned i = 0; item->to[i] != NULL; i++)
		g_string_append_printf(r->to, "%s%s", r->to->len ? "," : "", item->to[i]);
	r->n++;
	return 0;
}

static char *outbox_recipients(struct fixture *f, unsigned *n_r)
{
	struct store_txn *txn = NULL;
	struct rcpts r = {g_string_new(""), 0};
	char *error = NULL;

	if (store_txn_begin(f->store, &txn, &error) != IMI_OK ||
	    outbox_each_due(txn, INT64_MAX, outbox_collect, &r, &error) < 0)
		fail_msg("outbox: %s", error);
	store_txn_abort(&txn);
	*n_r = r.n;
	return g_string_free(r.to, FALSE);
}

struct mails {
	GPtrArray *raw;   /* char *: every message in the outbox, opened */
	GPtrArray *to;    /* char *: its first recipient */
	struct store_txn *txn;
};

static int outbox_open_each(const struct outbox_item *item, void *ctx)
{
	struct mails *m = ctx;
	struct outbox_item *it = NULL;
	void *raw = NULL;
	size_t len = 0;
	char *error = NULL;

	if (outbox_read(m->txn, item->seq, &it, &raw, &len, &error) != IMI_OK)
		fail_msg("outbox_read: %s", error);
	g_ptr_array_add(m->raw, g_strndup(raw, len));
	g_ptr_array_add(m->to, g_strdup(item->to[0]));
	g_free(raw);
	outbox_item_free(&it);
	return 0;
}

/* The newest message in the outbox to `to`, decoded (g_free), or NULL. */
static char *outbox_decoded(struct fixture *f, const char *to)
{
	struct mails m = {g_ptr_array_new_with_free_func(g_free),
			  g_ptr_array_new_with_free_func(g_free), NULL};
	char *error = NULL, *text = NULL;

	if (store_txn_begin(f->store, &m.txn, &error) != IMI_OK ||
	    outbox_each_due(m.txn, INT64_MAX, outbox_open_each, &m, &error) < 0)
		fail_msg("outbox: %s", error);
	store_txn_abort(&m.txn);
	for (guint i = m.raw->len; i-- > 0 && text == NULL;)
		if (strcmp(g_ptr_array_index(m.to, i), to) == 0) {
			const char *raw = g_ptr_array_index(m.raw, i);
			char *body = decoded_text(raw, strlen(raw));
			const char *rt = strstr(raw, "\nReply-To: ");

			/* The Reply-To line first, then the decoded text. */
			text = g_strdup_printf("%.*s\n%s", rt != NULL ? (int)strcspn(rt + 1, "\n") : 0,
					       rt != NULL ? rt + 1 : "", body);
			g_free(body);
		}
	g_ptr_array_free(m.raw, TRUE);
	g_ptr_array_free(m.to, TRUE);
	return text;
}

#define FORM_HEAD "Q1: yes\nQ2: yes\nQ3: yes\n"
#define FORM_TAIL "Q5: yes\nQ6: Kanarien GmbH\nQ8: Germany\nQ9: building\nQ10: health\n" \
		  "Q11: facts\nQ12: 2026-10-01\n"

/* The coordinator's request carries the document; the sender's
 * acknowledgement is in its language, names the case and has a reply
 * address whose token is its authority's. */
static void check_ack(struct fixture *f, const char *name, const char *case_id)
{
	char *req = outbox_decoded(f, "cora@coord.fr");
	char *ack = outbox_decoded(f, "anne@send.fr");
	char *addr, *tok = NULL, *error = NULL;
	struct token t;
	enum token_state ts;

	if (req == NULL || strstr(req, "Canarydocbody77") == NULL ||
	    strstr(req, "Canarydocname55.pdf") == NULL)
		fail_msg("%s: the approval request lacks the document", name);
	if (ack == NULL || strstr(ack, case_id) == NULL || strstr(ack, "WITHDRAW") == NULL ||
	    strstr(ack, "coordinateur des alertes") == NULL)
		fail_msg("%s: acknowledgement got \"%s\", want it in French with the case and "
			 "WITHDRAW", name, ack ? ack : "(none)");
	if (strstr(ack, "Canarydoc") != NULL || strstr(ack, "Kanarien") != NULL)
		fail_msg("%s: the acknowledgement repeats the alert's data", name);
	if (!g_str_has_prefix(ack, "Reply-To: "))
		fail_msg("%s: the acknowledgement has no Reply-To", name);
	addr = g_strndup(ack + strlen("Reply-To: "), strcspn(ack + strlen("Reply-To: "), "\n"));
	if (token_parse_address(addr, f->conf->service_local, "+", &tok, &error) != IMI_OK ||
	    token_verify(f->env->token_key, tok, "fr-send", imi_now(), &t, &ts, &error) != IMI_OK)
		fail_msg("%s: reply address %s is no token of fr-send: %s", name, addr,
			 error ? error : "");
	{
		char *ref = g_ascii_strdown(case_id, -1);

		check_str("ack token case", t.ref, ref);
		check_str("ack token action", t.action, "reply");
		g_free(ref);
	}
	g_free(tok);
	g_free(addr);
	g_free(req);
	g_free(ack);
}

static void test_create(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *name, *authority, *user, *qset, *form;
		int status;         /* of alert_create */
		const char *missing; /* a line of *missing_r, or NULL for none */
		const char *to;     /* the outbox afterwards */
		unsigned docs;      /* copies of doc_canary sent with it */
	} cases[] = {
		{"criterion Q4 not ticked", "fr-send", "anne@send.fr", "sd-alert",
		 FORM_HEAD "Q4: no\n" FORM_TAIL, IMI_INVALID, "Q4. ", "", 0},
		{"criterion Q4 left out", "fr-send", "anne@send.fr", "sd-alert",
		 FORM_HEAD FORM_TAIL, IMI_INVALID, "Q4. ", "", 0},
		{"no alert access", "fr-noalert", "nina@no.fr", "sd-alert",
		 FORM_HEAD "Q4: yes\n" FORM_TAIL, IMI_DENIED, NULL, "", 0},
		{"user not an alert sender", "fr-hand", "hans@hand.fr", "sd-alert",
		 FORM_HEAD "Q4: yes\n" FORM_TAIL, IMI_DENIED, NULL, "", 0},
		{"request form", "fr-send", "anne@send.fr", "sd-general",
		 FORM_HEAD "Q4: yes\n" FORM_TAIL, IMI_INVALID, NULL, "", 0},
		{"more documents than allowed", "fr-send", "anne@send.fr", "sd-alert",
		 FORM_HEAD "Q4: yes\n" FORM_TAIL, IMI_INVALID, NULL, "", ALERT_MAX_DOCUMENTS + 1},
		{"complete: own country's coordinator only, the sender acknowledged",
		 "fr-send", "anne@send.fr", "sd-alert", FORM_HEAD "Q4: x\n" FORM_TAIL, IMI_OK,
		 NULL, "cora@coord.fr,anne@send.fr", 1},
	};
	struct alert_document many[ALERT_MAX_DOCUMENTS + 1];

	for (unsigned d = 0; d < G_N_ELEMENTS(many); d++)
		many[d] = doc_canary;

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct create_ctx c = {f->env, {cases[i].authority, cases[i].user, cases[i].qset,
						 cases[i].form, many, cases[i].docs}, NULL, NULL};
		char *error = NULL, *to;
		unsigned n;
		int ret = store_transact(f->store, create_txn, &c, &error);

		if (ret != cases[i].status)
			fail_msg("%s: status got %d, want %d (%s)", cases[i].name, ret,
				 cases[i].status, error ? error : "");
		if (cases[i].missing != NULL) {
			if (c.missing == NULL || !g_str_has_prefix(c.missing, cases[i].missing) ||
			    strstr(c.missing, "Q1.") != NULL)
				fail_msg("%s: missing got \"%s\", want only %s", cases[i].name,
					 c.missing ? c.missing : "(null)", cases[i].missing);
		} else if (c.missing != NULL) {
			fail_msg("%s: missing got \"%s\", want none", cases[i].name, c.missing);
		}
		to = outbox_recipients(f, &n);
		check_str(cases[i].name, to, cases[i].to);
		if (cases[i].status == IMI_OK) {
			struct store_txn *txn = NULL;
			JsonObject *obj = NULL;

			if (store_txn_begin(f->store, &txn, &error) != IMI_OK ||
			    store_record_get(txn, STORE_CASES, c.case_id, 0, &obj, &error) != IMI_OK)
				fail_msg("%s: case: %s", cases[i].name, error);
			check_str("kind", json_object_get_string_member(obj, "kind"), "alert");
			check_str("state", json_object_get_string_member(obj, "state"),
				  "awaiting-approval");
			check_str("establishment (Germany)",
				  json_object_get_string_member(obj, "establishment"), "DE");
			if (!json_object_has_member(obj, "sealed_answers"))
				fail_msg("%s: answers not sealed", cases[i].name);
			if (!json_object_has_member(obj, "sealed_documents"))
				fail_msg("%s: documents not sealed", cases[i].name);
			{
				char *rec = store_record_text(obj, NULL);
				if (strstr(rec, "Kanarien") != NULL ||
				    strstr(rec, "Canarydoc") != NULL)
					fail_msg("%s: a field or document is in the case record "
						 "in clear", cases[i].name);
				g_free(rec);
			}
			json_object_unref(obj);
			store_txn_abort(&txn);
			check_ack(f, cases[i].name, c.case_id);
		}
		g_free(to);
		g_free(error);
		g_free(c.case_id);
		g_free(c.missing);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commission_copy_redacted),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

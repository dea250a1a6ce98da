/*
 * test_request.c: the request lifecycle on a real store in a temporary
 * home: creation (case record, sealed subject, timers, the request e-mail
 * in the responder's language in the outbox), steps through the engine
 * (allowed and refused, with the e-mails they cause), reminders, and
 * retention (after deletion the case key is gone and nothing unseals).
 */
#include "testutil.h"

#include "parser/token.h"
#include "policies/request.h"

#define SUBJECT "Dr. Ada Kanarienvogel"

struct fixture {
	char *home;
	struct imi_conf *conf;
	struct store *store;
	struct request_env *env;
};

static void put_authority(struct store *store, const char *id, const char *country,
			  const char *lang, const char *postbox)
{
	struct authority a = {0};
	struct user u = {0};
	char *areas[] = {"professional-qualifications", NULL};
	char *roles[] = {"handler", NULL};
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
	u.id = g_strdup_printf("h@%s", domains[0]);
	u.email = u.id;
	u.authority = (char *)id;
	u.roles = roles;
	if (store_txn_begin(store, &txn, &error) != IMI_OK ||
	    store_authority_put(txn, &a, STORE_PUT_NEW, &error) != IMI_OK ||
	    store_user_put(txn, &u, STORE_PUT_NEW, &error) != IMI_OK ||
	    store_txn_commit(&txn, &error) != IMI_OK)
		fail_msg("registering %s: %s", id, error);
	g_hash_table_destroy(a.names);
	g_free(u.id);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char *error = NULL, *keys, *path;

	f->home = testutil_tmpdir("request");
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
	put_authority(f->store, "fr-a", "FR", "fr", "imi@a.fr");
	put_authority(f->store, "de-b", "DE", "de", "imi@b.de");
	put_authority(f->store, "de-c", "DE", "it", "imi@c.de");
	put_authority(f->store, "pl-d", "PL", "pl", "imi@d.pl");
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

/* ---- helpers ---- */

struct create_ctx {
	struct request_env *env;
	struct request_new in;
	char *case_id;
};

static int create_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct create_ctx *c = ctx;

	g_free(c->case_id);
	c->case_id = NULL;
	return request_create(txn, c->env, &c->in, &c->case_id, error_r);
}

static char *create(struct fixture *f)
{
	struct create_ctx c = {f->env, {"fr-a", "de-b", "pq-general", SUBJECT, "2099-12-31",
					NULL}, NULL};
	char *error = NULL;

	if (store_transact(f->store, create_txn, &c, &error) != IMI_OK)
		fail_msg("request_create: %s", error);
	return c.case_id;
}

struct step_ctx {
	struct request_env *env;
	struct request_step step;
	struct request_outcome out;
};

static int step_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct step_ctx *s = ctx;

	request_outcome_clear(&s->out);
	return request_apply(txn, s->env, &s->step, &s->out, error_r);
}

/* Applies action as the handler of authority; returns the outcome. */
static void step(struct fixture *f, const char *case_id, const char *authority,
		 const char *action, const char *forward_to, struct request_outcome *out)
{
	char *roles[] = {"handler", NULL};
	char *email = g_strdup_printf("h@%s", authority[0] == 'f' ? "a.fr"
					      : authority[3] == 'b' ? "b.de"
					      : authority[3] == 'c' ? "c.de" : "d.pl");
	struct user u = {.id = email, .email = email, .authority = (char *)authority,
			 .roles = roles};
	struct step_ctx s = {f->env, {case_id, action, &u, forward_to, NULL, "x@y", NULL}, {0}};
	char *error = NULL;

	if (store_transact(f->store, step_txn, &s, &error) != IMI_OK)
		fail_msg("request_apply %s: %s", action, error);
	*out = s.out;
	g_free(email);
}

struct outbox_found {
	struct store *store;
	GPtrArray *items; /* "to\nraw" */
};

static int outbox_collect(const struct outbox_item *item, void *ctx)
{
	GPtrArray *v = ctx;

	g_ptr_array_add(v, g_strdup_printf("%" G_GUINT64_FORMAT, item->seq));
	return 0;
}

struct outbox_all {
	GPtrArray *seqs;
	GPtrArray *texts; /* "TO\n" + raw */
};

static int outbox_all_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct outbox_all *o = ctx;
	int ret;

	g_ptr_array_set_size(o->seqs, 0);
	g_ptr_array_set_size(o->texts, 0);
	ret = outbox_each_due(txn, INT64_MAX, outbox_collect, o->seqs, error_r);
	for (guint i = 0; ret == IMI_OK && i < o->seqs->len; i++) {
		struct outbox_item *item = NULL;
		void *raw = NULL;
		size_t len;

		ret = outbox_read(txn, g_ascii_strtoull(g_ptr_array_index(o->seqs, i), NULL, 10),
				  &item, &raw, &len, error_r);
		if (ret == IMI_OK)
			g_ptr_array_add(o->texts, g_strdup_printf("%s\n%.*s", item->to[0],
								  (int)len, (char *)raw));
		outbox_item_free(&item);
		g_free(raw);
	}
	return ret;
}

/* The outbox as "TO\nRAW" texts, in order. */
static GPtrArray *outbox_all(struct fixture *f)
{
	struct outbox_all o = {g_ptr_array_new_with_free_func(g_free),
			       g_ptr_array_new_with_free_func(g_free)};
	char *error = NULL;

	if (store_transact(f->store, outbox_all_txn, &o, &error) != IMI_OK)
		fail_msg("outbox: %s", error);
	g_ptr_array_free(o.seqs, TRUE);
	return o.texts;
}

struct case_ctx {
	const char *id;
	JsonObject *obj;
	char *subject;     /* unsealed, or NULL */
	int unseal_status;
};

static int case_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct case_ctx *c = ctx;
	char *key_id = g_strconcat("case:", c->id, NULL);
	void *plain = NULL;
	size_t len;
	const char *sealed;
	int ret;

	if (c->obj != NULL)
		json_object_unref(c->obj);
	c->obj = NULL;
	if ((ret = request_get(txn, c->id, 0, &c->obj, error_r)) != IMI_OK)
		return ret;
	sealed = json_object_get_string_member_with_default(c->obj, "sealed_subject", NULL);
	/* After deletion the member is gone: try a copy taken before. */
	if (sealed == NULL)
		sealed = c->subject;
	g_free(c->subject == sealed ? NULL : c->subject);
	c->unseal_status = sealed != NULL
		? store_unseal(txn, key_id, sealed, &plain, &len, NULL) : IMI_NOTFOUND;
	if (c->unseal_status == IMI_OK) {
		c->subject = g_strndup(plain, len);
		g_free(plain);
	}
	g_free(key_id);
	return IMI_OK;
}

static const char *case_state(JsonObject *obj)
{
	return json_object_get_string_member_with_default(obj, "state", "");
}

static void test_create(void **state)
{
	struct fixture *f = *state;
	char *id = create(f);
	struct case_ctx c = {id, NULL, NULL, 0};
	GPtrArray *out;
	char *error = NULL;
	const char *raw;

	if (!request_case_id_valid(id))
		fail_msg("case id: got \"%s\", want IMI-YYYY-NNNNNN", id);
	if (store_transact(f->store, case_txn, &c, &error) != IMI_OK)
		fail_msg("case: %s", error);
	check_str("state", case_state(c.obj), "sent");
	check_str("responder", json_object_get_string_member(c.obj, "responder"), "de-b");
	check_str("responder_lang", json_object_get_string_member(c.obj, "responder_lang"), "de");
	check_str("unsealed subject", c.subject, SUBJECT);
	{
		JsonNode *node = json_node_init_object(json_node_alloc(), c.obj);
		char *text = json_to_string(node, FALSE);

		json_node_unref(node);
		if (strstr(text, "Kanarienvogel") != NULL)
			fail_msg("case record: the subject is stored in clear");
		if (strstr(text, "reminder:not-accepted") == NULL)
			fail_msg("case record: got no not-accepted reminder timer in %s", text);
		g_free(text);
	}
	out = outbox_all(f);
	check_int("outbox items", out->len, 2);
	if (!g_str_has_prefix(g_ptr_array_index(out, 1), "imi@a.fr\n") ||
	    strstr(g_ptr_array_index(out, 1), "Reply-To: imi+") == NULL)
		fail_msg("requester's copy: want a notice to imi@a.fr with a reply address, got\n%s",
			 (char *)g_ptr_array_index(out, 1));
	raw = g_ptr_array_index(out, 0);
	if (!g_str_has_prefix(raw, "imi@b.de\n"))
		fail_msg("request recipient: got \"%.20s\", want imi@b.de", raw);
	if (strstr(raw, "Subject: Auskunftsersuchen [") == NULL)
		fail_msg("request subject: want the German \"Auskunftsersuchen [\" in\n%s", raw);
	if (strstr(raw, "Reply-To: imi+") == NULL || strstr(raw, "Auto-Submitted: auto-generated") == NULL)
		fail_msg("request headers: want a token Reply-To and Auto-Submitted in\n%s", raw);
	g_ptr_array_free(out, TRUE);
	json_object_unref(c.obj);
	g_free(c.subject);
	g_free(id);
}

static void test_create_invalid(void **state)
{
	static const struct {
		const char *requester, *responder, *qset, *subject, *deadline;
		int status;
	} cases[] = {
		{"fr-a", "xx-none", "pq-general", SUBJECT, NULL, IMI_NOTFOUND},
		{"fr-a", "fr-a", "pq-general", SUBJECT, NULL, IMI_INVALID},
		{"fr-a", "de-b", "no-such-set", SUBJECT, NULL, IMI_NOTFOUND},
		{"fr-a", "de-b", "pq-alert", SUBJECT, NULL, IMI_INVALID},
		{"fr-a", "de-b", "pq-general", "", NULL, IMI_INVALID},
		{"fr-a", "de-b", "pq-general", SUBJECT, "31.12.2099", IMI_INVALID},
		{"fr-a", "de-b", "pq-general", SUBJECT, "2001-01-01", IMI_INVALID},
	};
	struct fixture *f = *state;

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct create_ctx c = {f->env, {cases[i].requester, cases[i].responder,
						cases[i].qset, cases[i].subject,
						cases[i].deadline, NULL}, NULL};
		char *error = NULL, *field = g_strdup_printf("create case %u", i);

		check_int(field, store_transact(f->store, create_txn, &c, &error), cases[i].status);
		check_int(field, c.case_id == NULL, 1);
		g_free(error);
		g_free(field);
	}
	/* Nothing of the failed attempts reached the outbox. */
	GPtrArray *out = outbox_all(f);
	check_int("outbox items after failures", out->len, 0);
	g_ptr_array_free(out, TRUE);
}

static void test_steps(void **state)
{
	static const struct {
		const char *authority, *action, *forward_to;
		int applied;
		const char *want;      /* state after, or the refusal */
		const char *mail_to;   /* first new outbox recipient */
		const char *mail_text; /* text in that mail */
	} cases[] = {
		{"pl-d", "accept", NULL, 0, "not-party", "h@d.pl", "Subject: "},
		{"fr-a", "accept", NULL, 0, "wrong-role", "h@a.fr", "IMI-"},
		{"de-b", "accept-answer", NULL, 0, "wrong-role", "h@b.de", "IMI-"},
		{"de-b", "forward", "pl-d", 0, "unknown-forward", "h@b.de", "IMI-"},
		{"de-b", "forward", "de-c", 1, "forwarded", "imi@c.de", "Richiesta di informazioni"},
		{"de-b", "accept", NULL, 0, "not-party", "h@b.de", "Subject: "},
		{"de-c", "accept", NULL, 1, "accepted", "h@c.de", "IMI-"},
		{"fr-a", "close", NULL, 0, "wrong-state", "h@a.fr", "IMI-"},
		{"fr-a", "withdraw", NULL, 1, "withdrawn", "h@a.fr", "IMI-"},
		{"de-c", "answer", NULL, 0, "closed", "h@c.de", "IMI-"},
	};
	struct fixture *f = *state;
	char *id = create(f);
	struct case_ctx c = {id, NULL, NULL, 0};
	char *error = NULL;
	guint before;
	GPtrArray *out = outbox_all(f);

	before = out->len;
	g_ptr_array_free(out, TRUE);
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct request_outcome o = {0};
		char *field = g_strdup_printf("%s by %s", cases[i].action, cases[i].authority);
		const char *mail;

		step(f, id, cases[i].authority, cases[i].action, cases[i].forward_to, &o);
		check_int(field, o.applied, cases[i].applied);
		check_str(field, o.applied ? o.state : o.refusal, cases[i].want);
		out = outbox_all(f);
		if (out->len <= before)
			fail_msg("%s: got no new outbox item", field);
		mail = g_ptr_array_index(out, before);
		if (!g_str_has_prefix(mail, cases[i].mail_to) ||
		    mail[strlen(cases[i].mail_to)] != '\n')
			fail_msg("%s: mail to: got \"%.30s\", want %s", field, mail, cases[i].mail_to);
		if (strstr(mail, cases[i].mail_text) == NULL)
			fail_msg("%s: want \"%s\" in\n%s", field, cases[i].mail_text, mail);
		/* Need-to-know: a stranger's refusal names no state of the case. */
		if (strcmp(cases[i].want, "not-party") == 0 && strstr(mail, "imi+") != NULL)
			fail_msg("%s: a refusal to a non-party carries a token of the case", field);
		before = out->len;
		g_ptr_array_free(out, TRUE);
		request_outcome_clear(&o);
		g_free(field);
	}
	if (store_transact(f->store, case_txn, &c, &error) != IMI_OK)
		fail_msg("case: %s", error);
	check_str("final state", case_state(c.obj), "withdrawn");
	check_str("responder after forward", json_object_get_string_member(c.obj, "responder"), "de-c");
	json_object_unref(c.obj);
	g_free(c.subject);
	g_free(id);
}

/* Runs every timer due at now through request_timer_run. */
struct tick_ctx {
	struct request_env *env;
	int64_t now;
	GPtrArray *due; /* "when\tcase\tkind" */
	int purge;
	unsigned run;
};

static int tick_collect(int64_t when, const char *case_id, const char *kind, void *ctx)
{
	g_ptr_array_add(ctx, g_strdup_printf("%" G_GINT64_FORMAT "\t%s\t%s", when, case_id, kind));
	return 0;
}

static int tick_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct tick_ctx *t = ctx;
	int ret;

	g_ptr_array_set_size(t->due, 0);
	ret = store_timer_each_due(txn, t->now, tick_collect, t->due, error_r);
	for (guint i = 0; ret == IMI_OK && i < t->due->len; i++) {
		char **p = g_strsplit(g_ptr_array_index(t->due, i), "\t", 3);

		ret = request_timer_run(txn, t->env, g_ascii_strtoll(p[0], NULL, 10), p[1], p[2],
					&t->purge, error_r);
		g_strfreev(p);
	}
	t->run = t->due->len;
	return ret;
}

static unsigned tick(struct fixture *f, int64_t now, int *purge_r)
{
	struct tick_ctx t = {f->env, now, g_ptr_array_new_with_free_func(g_free), 0, 0};
	char *error = NULL;

	imi_time_set_now(now);
	if (store_transact(f->store, tick_txn, &t, &error) != IMI_OK)
		fail_msg("tick: %s", error);
	imi_time_set_now(-1);
	g_ptr_array_free(t.due, TRUE);
	if (purge_r != NULL)
		*purge_r = t.purge;
	return t.run;
}

static void test_reminder(void **state)
{
	struct fixture *f = *state;
	char *id = create(f);
	int64_t now = imi_now();
	GPtrArray *out;
	const char *last;

	check_int("timers due now", tick(f, now, NULL), 0);
	check_int("timers due in 8 days", tick(f, now + 8 * 86400, NULL), 1);
	out = outbox_all(f);
	check_int("outbox items", out->len, 3);
	last = g_ptr_array_index(out, 2);
	if (!g_str_has_prefix(last, "imi@b.de\n") || strstr(last, "Subject: Erinnerung") == NULL)
		fail_msg("reminder: want a German reminder to imi@b.de, got\n%s", last);
	g_ptr_array_free(out, TRUE);
	/* Run again at the same time: the reminder is not sent twice. */
	check_int("timers due again in 8 days", tick(f, now + 8 * 86400, NULL), 0);
	out = outbox_all(f);
	check_int("outbox items after the second tick", out->len, 3);
	g_ptr_array_free(out, TRUE);
	g_free(id);
}

static void test_retention(void **state)
{
	struct fixture *f = *state;
	char *id = create(f);
	struct case_ctx c = {id, NULL, NULL, 0};
	struct request_outcome o = {0};
	char *error = NULL, *sealed;
	int64_t now = imi_now();
	int purge = 0;
	GPtrArray *out;

	step(f, id, "fr-a", "withdraw", NULL, &o);
	check_str("state", o.state, "withdrawn");
	request_outcome_clear(&o);
	if (store_transact(f->store, case_txn, &c, &error) != IMI_OK)
		fail_msg("case: %s", error);
	check_int("unseal before deletion", c.unseal_status, IMI_OK);
	sealed = g_strdup(json_object_get_string_member(c.obj, "sealed_subject"));

	/* Five months: still there. */
	tick(f, now + 150 * 86400, &purge);
	check_int("purge after 5 months", purge, 0);
	/* Six months and a few days: deleted. */
	tick(f, now + 190 * 86400, &purge);
	check_int("purge after 6 months", purge, 1);
	if (store_purge_logs(f->store, &error) != IMI_OK)
		fail_msg("store_purge_logs: %s", error);
	g_free(c.subject);
	c.subject = sealed; /* the copy taken before: must no longer open */
	if (store_transact(f->store, case_txn, &c, &error) != IMI_OK)
		fail_msg("case: %s", error);
	check_int("unseal after deletion", c.unseal_status, IMI_NOTFOUND);
	check_str("retention", json_object_get_string_member(c.obj, "retention"), "deleted");
	if (json_object_has_member(c.obj, "sealed_subject"))
		fail_msg("case record still has sealed_subject after deletion");
	/* What remains: the notices before and after deletion to both
	 * parties, which name the case and nothing personal.  The notices
	 * before offer early deletion (a token of action "delete" only); the
	 * notices after carry no token. */
	out = outbox_all(f);
	check_int("outbox items after deletion (deletion notices)", out->len, 4);
	for (guint i = 0; i < out->len; i++) {
		const char *m = g_ptr_array_index(out, i);
		const char *tok = strstr(m, "imi+");

		if (strstr(m, "Kanarienvogel") != NULL)
			fail_msg("deletion notice %u carries personal data:\n%s", i, m);
		if (i >= 2 && tok != NULL)
			fail_msg("deletion-done notice %u carries a token:\n%s", i, m);
		if (i < 2 && (tok == NULL || strstr(tok, ".delete.") == NULL))
			fail_msg("notice %u before deletion: want the early-deletion "
				 "address (token action delete), got:\n%s", i, m);
	}
	if (strstr(g_ptr_array_index(out, 3), "Subject: ") == NULL ||
	    !g_str_has_prefix(g_ptr_array_index(out, 3), "imi@b.de\n"))
		fail_msg("last notice: want the deletion notice to imi@b.de, got\n%s",
			 (char *)g_ptr_array_index(out, 3));
	g_ptr_array_free(out, TRUE);
	/* A step on a case whose data are gone is refused. */
	step(f, id, "de-b", "accept", NULL, &o);
	check_str("step after deletion", o.refusal, "closed");
	request_outcome_clear(&o);
	json_object_unref(c.obj);
	g_free(c.subject);
	g_free(id);
}

static void test_case_refs(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text;
		int msgid;
		const char *want;
	} cases[] = {
		{"IMI-2026-000123.4.request@imi.localhost", 1, "IMI-2026-000123"},
		{"imi-2026-000123.4.request@IMI.LOCALHOST", 1, "IMI-2026-000123"},
		{"IMI-2026-000123.4.request@elsewhere.example", 1, NULL},
		{"IMI-2026-12.4.request@imi.localhost", 1, NULL},
		{"AW: Auskunftsersuchen [IMI-2026-000123]: x", 0, "IMI-2026-000123"},
		{"Re: [imi-2026-000007]", 0, "IMI-2026-000007"},
		{"[IMI-2026-00012] [x]", 0, NULL},
		{"no tag", 0, NULL},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *got = cases[i].msgid ? request_case_from_message_id(f->conf, cases[i].text)
					   : request_case_from_subject(cases[i].text);
		check_str(cases[i].text, got, cases[i].want);
		g_free(got);
	}
}

/* Early deletion: refused while open and for a stranger; one party asks,
 * asking twice is still one wish; the other party's DELETE deletes. */
static void test_early_delete(void **state)
{
	struct fixture *f = *state;
	char *id = create(f);
	struct request_outcome o;
	struct case_ctx c = {id, NULL, NULL, 0};
	char *error = NULL;
	static const struct {
		const char *authority, *action; /* the step */
		const char *refusal;            /* wanted refusal, NULL: applied */
		int purge;                      /* wanted purge flag */
	} steps[] = {
		{"fr-a", "delete", "wrong-state", 0}, /* still open */
		{"fr-a", "withdraw", NULL, 0},
		{"pl-d", "delete", "not-party", 0},
		{"de-b", "agree", NULL, 0},           /* nobody asked: this asks */
		{"de-b", "delete", NULL, 0},          /* the same party again */
		{"fr-a", "delete", NULL, 1},          /* the other party agrees */
		{"fr-a", "delete", "closed", 0},      /* nothing left to delete */
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(steps); i++) {
		char *what = g_strdup_printf("step %u %s by %s", i, steps[i].action,
					     steps[i].authority);

		step(f, id, steps[i].authority, steps[i].action, NULL, &o);
		if (steps[i].refusal == NULL)
			check_int(what, o.applied, 1);
		check_str(what, o.refusal, steps[i].refusal);
		check_int(what, o.purge, steps[i].purge);
		request_outcome_clear(&o);
		g_free(what);
	}
	if (store_transact(f->store, case_txn, &c, &error) != IMI_OK)
		fail_msg("case: %s", error);
	check_str("retention after agreement", json_object_get_string_member(c.obj, "retention"),
		  "deleted");
	check_int("unseal after early deletion", c.unseal_status, IMI_NOTFOUND);
	if (json_array_get_length(json_object_get_array_member(c.obj, "timers")) != 0)
		fail_msg("timers left after early deletion");
	json_object_unref(c.obj);
	g_free(c.subject);
	g_free(id);
}

struct rate_ctx {
	struct request_env *env;
	const char *address;
	int allowed;
};

static int rate_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct rate_ctx *r = ctx;

	return request_reply_allowed(txn, r->env, r->address, &r->allowed, error_r);
}

/* The reply cap of requests.ini ([Limits] RepliesPerHour=30): per address
 * (any case of its letters), in a window of an hour. */
static void test_reply_rate(void **state)
{
	struct fixture *f = *state;
	int64_t t0 = imi_now();
	static const struct {
		int64_t at;          /* seconds after t0 */
		const char *address;
		unsigned times;      /* asked this often */
		unsigned allowed;    /* of which allowed */
	} rows[] = {
		{0, "a@x.eu", 29, 29},
		{10, "A@X.EU", 3, 1},     /* the 30th, then over */
		{20, "b@x.eu", 2, 2},     /* another address has its own count */
		{3599, "a@x.eu", 1, 0},   /* same window */
		{3600, "a@x.eu", 31, 30}, /* a new window */
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		unsigned got = 0;

		imi_time_set_now(t0 + rows[i].at);
		for (unsigned k = 0; k < rows[i].times; k++) {
			struct rate_ctx r = {f->env, rows[i].address, 0};
			char *error = NULL;

			if (store_transact(f->store, rate_txn, &r, &error) != IMI_OK)
				fail_msg("request_reply_allowed: %s", error);
			got += r.allowed;
		}
		char *what = g_strdup_printf("row %u: replies allowed to %s", i, rows[i].address);
		check_int(what, got, rows[i].allowed);
		g_free(what);
	}
	imi_time_set_now(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reminder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_case_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_early_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_rate, setup, teardown),
	};
	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}

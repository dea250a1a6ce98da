/*
 * test_mailcmd.c: commands by e-mail (mta-hooks/mailcmd.h).
 *
 * Parsing: each command from the subject (prefixes, any case) or the
 * body's first line, its words and "key: value" arguments, up to a
 * signature.  Running, on a real store in a temporary home: each command
 * by a sender of each kind (coordinator of the right country, of another
 * country, a handler) is carried out or refused as the table says; a
 * refusal changes nothing but one reply to the sender and one audit entry.
 * STATUS lists only the cases the sender's authority is party to.
 */
#include "testutil.h"

#include "mta-hooks/mailcmd.h"
#include "parser/token.h"
#include "store/directory_change.h"

/* ---- parsing ---- */

static void test_parse(void **state)
{
	static const struct {
		const char *subject, *body;
		enum mailcmd_verb verb;
		const char *name;    /* canonical words */
		const char *words;   /* arguments, joined by "|" */
		const char *key, *value; /* one argument line, or NULL */
	} cases[] = {
		{"HELP", NULL, MAILCMD_HELP, "HELP", "", NULL, NULL},
		{"Re: AW: help", "", MAILCMD_HELP, "HELP", "", NULL, NULL},
		{"help request pq-general de-aek", NULL, MAILCMD_HELP, "HELP",
		 "request|pq-general|de-aek", NULL, NULL},
		{"HELP ALERT pq-alert", NULL, MAILCMD_HELP, "HELP", "ALERT|pq-alert", NULL, NULL},
		{"Status", NULL, MAILCMD_STATUS, "STATUS", "", NULL, NULL},
		{"FIND Ärztekammer  Nord", NULL, MAILCMD_FIND, "FIND", "Ärztekammer|Nord", NULL, NULL},
		{"AUTHORITY ADD", "id: fr-x\nName: fr=X\n\n-- \nTel: 1", MAILCMD_AUTHORITY_ADD,
		 "AUTHORITY ADD", "", "name", "fr=X"},
		{"AUTHORITY ADD", "id: fr-x\n-- \nTel: 1", MAILCMD_AUTHORITY_ADD, "AUTHORITY ADD",
		 "", "tel", NULL},
		{"authority update fr-x", "postbox:  a@x.fr ", MAILCMD_AUTHORITY_UPDATE,
		 "AUTHORITY UPDATE", "fr-x", "postbox", "a@x.fr"},
		{"AUTHORITY DISABLE fr-x", NULL, MAILCMD_AUTHORITY_DISABLE, "AUTHORITY DISABLE",
		 "fr-x", NULL, NULL},
		{"USER ADD", "email: a@x.fr\r\nrole: handler\r\n", MAILCMD_USER_ADD, "USER ADD", "",
		 "role", "handler"},
		{"USER DISABLE a@x.fr", NULL, MAILCMD_USER_DISABLE, "USER DISABLE", "a@x.fr", NULL,
		 NULL},
		{"ALERTS GRANT fr-x", NULL, MAILCMD_ALERTS_GRANT, "ALERTS GRANT", "fr-x", NULL, NULL},
		{"ALERTS REVOKE fr-x", NULL, MAILCMD_ALERTS_REVOKE, "ALERTS REVOKE", "fr-x", NULL,
		 NULL},
		{"SPF-ALIGNED fr-x on", NULL, MAILCMD_SPF_ALIGNED, "SPF-ALIGNED", "fr-x|on", NULL,
		 NULL},
		{"HELD LIST", NULL, MAILCMD_HELD_LIST, "HELD LIST", "", NULL, NULL},
		{"HELD RELEASE 12", NULL, MAILCMD_HELD_RELEASE, "HELD RELEASE", "12", NULL, NULL},
		{"held discard 3", NULL, MAILCMD_HELD_DISCARD, "HELD DISCARD", "3", NULL, NULL},
		/* A group word alone, or with an unknown second word. */
		{"AUTHORITY", NULL, MAILCMD_MALFORMED, "AUTHORITY", "", NULL, NULL},
		{"USER REMOVE a@x.fr", NULL, MAILCMD_MALFORMED, "USER", "REMOVE|a@x.fr", NULL, NULL},
		/* Forced subject: the body's first non-empty line. */
		{"[EXTERNAL] Message", "\n\n  STATUS\n", MAILCMD_STATUS, "STATUS", "", NULL, NULL},
		{"[EXTERNAL]", "USER ADD\nemail: b@x.fr\n", MAILCMD_USER_ADD, "USER ADD", "",
		 "email", "b@x.fr"},
		/* Not commands. */
		{"Re: [IMI-2026-000001] answers", "Q1: yes", MAILCMD_NONE, "", "", NULL, NULL},
		{"Helpdesk", "Hello", MAILCMD_NONE, "", "", NULL, NULL},
		{NULL, NULL, MAILCMD_NONE, "", "", NULL, NULL},
		/* Quoted history is no argument. */
		{"USER ADD", "email: c@x.fr\n> role: coordinator", MAILCMD_USER_ADD, "USER ADD", "",
		 "role", NULL},
	};

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct mailcmd *cmd = NULL;
		char *words;

		mailcmd_parse(cases[i].subject, cases[i].body, &cmd);
		if (mailcmd_verb(cmd) != cases[i].verb)
			fail_msg("case %u (%s): verb got %d, wanted %d", i,
				 cases[i].subject ? cases[i].subject : "(null)", mailcmd_verb(cmd),
				 cases[i].verb);
		if (strcmp(mailcmd_name(cmd), cases[i].name) != 0)
			fail_msg("case %u: name got '%s', wanted '%s'", i, mailcmd_name(cmd),
				 cases[i].name);
		words = g_strjoinv("|", (char **)mailcmd_words(cmd));
		if (strcmp(words, cases[i].words) != 0)
			fail_msg("case %u: words got '%s', wanted '%s'", i, words, cases[i].words);
		g_free(words);
		if (cases[i].key != NULL && g_strcmp0(mailcmd_value(cmd, cases[i].key),
						      cases[i].value) != 0)
			fail_msg("case %u: argument %s got '%s', wanted '%s'", i, cases[i].key,
				 mailcmd_value(cmd, cases[i].key) ? mailcmd_value(cmd, cases[i].key)
								  : "(none)",
				 cases[i].value ? cases[i].value : "(none)");
		if (cases[i].verb != MAILCMD_NONE && *mailcmd_usage(cmd) == '\0')
			fail_msg("case %u: no usage text", i);
		mailcmd_free(&cmd);
	}
}

/* Bounds: a body of many argument lines keeps at most MAILCMD_MAX_ARGS. */
static void test_parse_bounds(void **state)
{
	GString *body = g_string_new("");
	struct mailcmd *cmd = NULL;
	const char **all;
	unsigned n = 0;

	(void)state;
	for (unsigned i = 0; i < 10 * MAILCMD_MAX_ARGS; i++)
		g_string_append_printf(body, "name: fr=N%u\n", i);
	mailcmd_parse("AUTHORITY ADD", body->str, &cmd);
	all = mailcmd_values(cmd, "name");
	while (all[n] != NULL)
		n++;
	if (n != MAILCMD_MAX_ARGS)
		fail_msg("arguments kept: got %u, wanted %u", n, MAILCMD_MAX_ARGS);
	g_free(all);
	mailcmd_free(&cmd);
	g_string_free(body, TRUE);
}

/* ---- running, on a store ---- */

struct fixture {
	char *home;
	struct imi_conf *conf;
	struct store *store;
	struct request_env *env;
};

static void put(struct store *store, const char *id, const char *country, const char *lang,
		const char *postbox, const char *user, const char *roles)
{
	struct authority a = {0};
	struct user u = {0};
	char *areas[] = {"services", NULL};
	char **role_list = g_strsplit(roles, ",", -1);
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
	u.id = (char *)user;
	u.email = (char *)user;
	u.authority = (char *)id;
	u.roles = role_list;
	if (store_txn_begin(store, &txn, &error) != IMI_OK ||
	    store_authority_put(txn, &a, STORE_PUT_NEW, &error) != IMI_OK ||
	    store_user_put(txn, &u, STORE_PUT_NEW, &error) != IMI_OK ||
	    store_txn_commit(&txn, &error) != IMI_OK)
		fail_msg("registering %s: %s", id, error);
	g_hash_table_destroy(a.names);
	g_strfreev(role_list);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char *error = NULL, *keys, *path;

	f->home = testutil_tmpdir("mailcmd");
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
	put(f->store, "fr-a", "FR", "fr", "imi@a.fr", "cora@a.fr", "handler,coordinator");
	put(f->store, "fr-b", "FR", "fr", "imi@b.fr", "hugo@b.fr", "handler");
	put(f->store, "de-a", "DE", "de", "imi@a.de", "dora@a.de", "handler,coordinator");
	put(f->store, "it-a", "IT", "it", "imi@a.it", "ida@a.it", "handler");
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

struct run_ctx {
	struct request_env *env;
	const char *sender;
	struct mailcmd *cmd;
	struct mailcmd_outcome out;
};

static int run_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct run_ctx *c = ctx;
	struct user *u = NULL;
	int ret;

	mailcmd_outcome_clear(&c->out);
	if ((ret = store_user_get_by_email(txn, c->sender, &u, error_r)) != IMI_OK)
		return ret;
	ret = mailcmd_run(txn, c->env, c->cmd, u, NULL, &c->out, error_r);
	user_free(&u);
	return ret;
}

struct outbox_count {
	unsigned n;
	char *last_to;
};

static int outbox_step(const struct outbox_item *item, void *ctx)
{
	struct outbox_count *o = ctx;

	o->n++;
	g_free(o->last_to);
	o->last_to = g_strjoinv(",", item->to);
	return 0;
}

static unsigned outbox_count(struct fixture *f, char **last_to_r)
{
	struct store_txn *txn = NULL;
	struct outbox_count o = {0, NULL};
	char *error = NULL;

	if (store_txn_begin(f->store, &txn, &error) != IMI_OK ||
	    outbox_each_due(txn, INT64_MAX, outbox_step, &o, &error) < 0)
		fail_msg("outbox: %s", error);
	store_txn_abort(&txn);
	if (last_to_r != NULL)
		*last_to_r = o.last_to;
	else
		g_free(o.last_to);
	return o.n;
}

struct audit_count {
	unsigned n;
};

static int audit_step(const void *key, size_t key_len, const void *value, size_t len,
		      void *ctx)
{
	((struct audit_count *)ctx)->n++;
	return 0;
}

static unsigned audit_count(struct fixture *f)
{
	struct store_txn *txn = NULL;
	struct audit_count a = {0};
	char *error = NULL;

	if (store_txn_begin(f->store, &txn, &error) != IMI_OK ||
	    store_each(txn, STORE_AUDIT, NULL, 0, audit_step, &a, &error) < 0)
		fail_msg("audit: %s", error);
	store_txn_abort(&txn);
	return a.n;
}

/* "id:field" of the directory as it stands: disabled, alerts, spf, or
 * "missing". */
static char *authority_state(struct fixture *f, const char *id)
{
	struct store_txn *txn = NULL;
	struct authority *a = NULL;
	char *error = NULL, *s;

	if (store_txn_begin(f->store, &txn, &error) != IMI_OK)
		fail_msg("txn: %s", error);
	if (store_authority_get(txn, id, &a, NULL) != IMI_OK)
		s = g_strdup("missing");
	else
		s = g_strdup_printf("%s%s%s", a->disabled ? "disabled" : "active",
				    a->alerts ? ",alerts" : "", a->spf_aligned ? ",spf" : "");
	authority_free(&a);
	store_txn_abort(&txn);
	return s;
}

static char *user_state(struct fixture *f, const char *email)
{
	struct store_txn *txn = NULL;
	struct user *u = NULL;
	char *error = NULL, *s;

	if (store_txn_begin(f->store, &txn, &error) != IMI_OK)
		fail_msg("txn: %s", error);
	if (store_user_get_by_email(txn, email, &u, NULL) != IMI_OK)
		s = g_strdup("missing");
	else
		s = g_strdup(u->disabled ? "disabled" : "active");
	user_free(&u);
	store_txn_abort(&txn);
	return s;
}

static void test_run(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *sender, *subject, *body;
		const char *reason;   /* the outcome's reason starts with this */
		int applied;
		const char *check;    /* "authority:ID" or "user:ADDR" */
		const char *want;     /* its state afterwards */
	} cases[] = {
		/* A handler is no coordinator. */
		{"hugo@b.fr", "AUTHORITY DISABLE fr-a", NULL, "AUTHORITY DISABLE refused: role", 0,
		 "authority:fr-a", "active"},
		{"hugo@b.fr", "ALERTS GRANT fr-b", NULL, "ALERTS GRANT refused: role", 0,
		 "authority:fr-b", "active"},
		/* Another country's coordinator. */
		{"dora@a.de", "AUTHORITY DISABLE fr-b", NULL, "AUTHORITY DISABLE refused: country", 0,
		 "authority:fr-b", "active"},
		{"dora@a.de", "SPF-ALIGNED fr-b on", NULL, "SPF-ALIGNED refused: country", 0,
		 "authority:fr-b", "active"},
		{"dora@a.de", "USER DISABLE hugo@b.fr", NULL, "USER DISABLE refused: country", 0,
		 "user:hugo@b.fr", "active"},
		{"dora@a.de", "USER ADD", "email: eve@b.fr\nauthority: fr-b\nrole: handler",
		 "USER ADD refused: country", 0, "user:eve@b.fr", "missing"},
		{"cora@a.fr", "AUTHORITY ADD",
		 "id: de-new\ncountry: DE\nname: de=Neu\narea: services\npostbox: imi@neu.de",
		 "AUTHORITY ADD refused: country", 0, "authority:de-new", "missing"},
		/* Unknown or malformed targets. */
		{"cora@a.fr", "ALERTS GRANT fr-nope", NULL, "ALERTS GRANT refused: unknown", 0,
		 "authority:fr-nope", "missing"},
		{"cora@a.fr", "AUTHORITY ADD", "id: fr-new\nname: fr=Neuf\npostbox: imi@neuf.fr",
		 "AUTHORITY ADD refused: malformed", 0, "authority:fr-new", "missing"},
		{"cora@a.fr", "USER ADD", "email: eve@elsewhere.org\nauthority: fr-b\nrole: handler",
		 "USER ADD refused: malformed", 0, "user:eve@elsewhere.org", "missing"},
		{"cora@a.fr", "USER ADD", "email: eve@b.fr\nauthority: fr-b\nrole: king",
		 "USER ADD refused: malformed", 0, "user:eve@b.fr", "missing"},
		{"cora@a.fr", "HELD RELEASE x", NULL, "HELD RELEASE refused: malformed", 0, NULL, NULL},
		{"cora@a.fr", "HELD DISCARD 999", NULL, "HELD DISCARD refused: unknown", 0, NULL, NULL},
		{"cora@a.fr", "AUTHORITY DISABLE fr-a", NULL, "AUTHORITY DISABLE refused: malformed",
		 0, "authority:fr-a", "active"},
		/* Carried out, in the coordinator's country. */
		{"cora@a.fr", "AUTHORITY ADD",
		 "id: fr-new\nname: fr=Neuf\narea: services\npostbox: imi@neuf.fr",
		 "AUTHORITY ADD done", 1, "authority:fr-new", "active"},
		{"cora@a.fr", "AUTHORITY ADD",
		 "id: fr-new\nname: fr=Neuf\narea: services\npostbox: imi@neuf.fr",
		 "AUTHORITY ADD refused: malformed", 0, "authority:fr-new", "active"},
		{"cora@a.fr", "USER ADD", "email: eve@neuf.fr\nauthority: fr-new\nrole: handler",
		 "USER ADD done", 1, "user:eve@neuf.fr", "active"},
		{"cora@a.fr", "ALERTS GRANT fr-new", NULL, "ALERTS GRANT done", 1, "authority:fr-new",
		 "active,alerts"},
		{"cora@a.fr", "SPF-ALIGNED fr-new on", NULL, "SPF-ALIGNED done", 1,
		 "authority:fr-new", "active,alerts,spf"},
		{"cora@a.fr", "ALERTS REVOKE fr-new", NULL, "ALERTS REVOKE done", 1,
		 "authority:fr-new", "active,spf"},
		{"cora@a.fr", "USER DISABLE eve@neuf.fr", NULL, "USER DISABLE done", 1,
		 "user:eve@neuf.fr", "disabled"},
		{"cora@a.fr", "AUTHORITY DISABLE fr-new", NULL, "AUTHORITY DISABLE done", 1,
		 "authority:fr-new", "disabled,spf"},
		/* Anyone. */
		{"ida@a.it", "FIND neuf", NULL, "FIND answered (0)", 0, NULL, NULL},
		{"ida@a.it", "FIND a", NULL, "FIND answered", 0, NULL, NULL},
		{"ida@a.it", "HELP", NULL, "HELP answered", 0, NULL, NULL},
		{"ida@a.it", "HELP ALERT pq-alert", NULL, "HELP refused: alerts", 0, NULL, NULL},
		{"ida@a.it", "HELP REQUEST nope", NULL, "HELP refused: unknown", 0, NULL, NULL},
		{"ida@a.it", "HELP REQUEST pq-general", NULL, "request form pq-general sent", 0, NULL,
		 NULL},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct run_ctx c = {f->env, cases[i].sender, NULL, {0}};
		unsigned mails = outbox_count(f, NULL), audits = audit_count(f), mails_after;
		char *error = NULL, *last_to = NULL;

		mailcmd_parse(cases[i].subject, cases[i].body, &c.cmd);
		if (store_transact(f->store, run_txn, &c, &error) != IMI_OK)
			fail_msg("case %u (%s): %s", i, cases[i].subject, error);
		if (c.out.reason == NULL || !g_str_has_prefix(c.out.reason, cases[i].reason))
			fail_msg("case %u (%s): reason got '%s', wanted '%s...'", i, cases[i].subject,
				 c.out.reason ? c.out.reason : "(none)", cases[i].reason);
		if (c.out.applied != cases[i].applied)
			fail_msg("case %u (%s): applied got %d, wanted %d", i, cases[i].subject,
				 c.out.applied, cases[i].applied);
		/* One reply, to the sender; at least one audit entry. */
		mails_after = outbox_count(f, &last_to);
		if (mails_after != mails + 1 || g_strcmp0(last_to, cases[i].sender) != 0)
			fail_msg("case %u (%s): mails got %u to %s, wanted %u to %s", i,
				 cases[i].subject, mails_after - mails, last_to ? last_to : "-", 1,
				 cases[i].sender);
		if (audit_count(f) <= audits)
			fail_msg("case %u (%s): no audit entry", i, cases[i].subject);
		if (cases[i].check != NULL) {
			char *got = g_str_has_prefix(cases[i].check, "user:")
					    ? user_state(f, cases[i].check + 5)
					    : authority_state(f, cases[i].check + 10);
			if (strcmp(got, cases[i].want) != 0)
				fail_msg("case %u (%s): %s got '%s', wanted '%s'", i, cases[i].subject,
					 cases[i].check, got, cases[i].want);
			g_free(got);
		}
		g_free(last_to);
		mailcmd_outcome_clear(&c.out);
		mailcmd_free(&c.cmd);
	}
}

/* ---- STATUS: need-to-know ---- */

struct status_ctx {
	struct request_env *env;
	const char *authority;
	char *lines;
	unsigned count;
	char *case_id;
};

static int create_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct status_ctx *c = ctx;
	struct request_new in = {"fr-a", "de-a", "pq-general", "Dr. Canary", NULL, NULL};

	g_free(c->case_id);
	c->case_id = NULL;
	return request_create(txn, c->env, &in, &c->case_id, error_r);
}

static int status_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct status_ctx *c = ctx;
	struct authority *a = NULL;
	int ret;

	g_free(c->lines);
	c->lines = NULL;
	if ((ret = store_authority_get(txn, c->authority, &a, error_r)) != IMI_OK)
		return ret;
	ret = mailcmd_status_lines(txn, c->env, a, "en", &c->lines, &c->count, error_r);
	authority_free(&a);
	return ret;
}

static void test_status(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *authority;
		unsigned count;
		int listed;
	} cases[] = {
		{"fr-a", 1, 1}, /* requester */
		{"de-a", 1, 1}, /* responder */
		{"fr-b", 0, 0}, /* same country, no party */
		{"it-a", 0, 0},
	};
	struct status_ctx c = {f->env, NULL, NULL, 0, NULL};
	char *error = NULL;

	if (store_transact(f->store, create_txn, &c, &error) != IMI_OK)
		fail_msg("request_create: %s", error);
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		c.authority = cases[i].authority;
		if (store_transact(f->store, status_txn, &c, &error) != IMI_OK)
			fail_msg("status of %s: %s", c.authority, error);
		if (c.count != cases[i].count)
			fail_msg("%s: count got %u, wanted %u", c.authority, c.count, cases[i].count);
		if ((strstr(c.lines, c.case_id) != NULL) != cases[i].listed)
			fail_msg("%s: case %s listed got %d, wanted %d", c.authority, c.case_id,
				 strstr(c.lines, c.case_id) != NULL, cases[i].listed);
		if (strstr(c.lines, "Canary") != NULL)
			fail_msg("%s: personal data in the status lines", c.authority);
	}
	g_free(c.lines);
	g_free(c.case_id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test_setup_teardown(test_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

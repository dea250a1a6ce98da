/*
 * test_inbound.c: inbound_process on a real store in a temporary home, with
 * DKIM keys from a key file (IMI_DKIM_KEYFILE; keys made by openssl(1)).
 * One table of messages in order, each with the path it comes by and the
 * verdict wanted: noise ignored, unauthenticated mail held (deliver) or
 * rejected (milter), a redelivery a duplicate, a message over the size
 * bound refused, signed replies applied to the case, and a dead DNS server
 * a temporary failure.
 */
#include "testutil.h"

#include "mta-hooks/inbound.h"
#include "parser/dkim.h"
#include "parser/token.h"
#include "policies/request.h"

struct fixture {
	char *home;
	struct imi_conf *conf;
	struct store *store;
	struct request_env *env;
	char *case_id;
	char *reply_to;  /* the responder's token address */
	char *key;       /* PEM of the signing key */
};

static void put_authority(struct store *store, const char *id, const char *country,
			  const char *lang, const char *domain)
{
	struct authority a = {0};
	struct user u = {0};
	char *areas[] = {"professional-qualifications", NULL};
	char *roles[] = {"handler", NULL};
	char *domains[] = {(char *)domain, NULL};
	struct store_txn *txn = NULL;
	char *error = NULL;

	a.id = (char *)id;
	a.country = (char *)country;
	a.language = (char *)lang;
	a.areas = areas;
	a.postbox = g_strdup_printf("imi@%s", domain);
	a.domains = domains;
	u.id = g_strdup_printf("h@%s", domain);
	u.email = u.id;
	u.authority = (char *)id;
	u.roles = roles;
	if (store_txn_begin(store, &txn, &error) != IMI_OK ||
	    store_authority_put(txn, &a, STORE_PUT_NEW, &error) != IMI_OK ||
	    store_user_put(txn, &u, STORE_PUT_NEW, &error) != IMI_OK ||
	    store_txn_commit(&txn, &error) != IMI_OK)
		fail_msg("registering %s: %s", id, error);
	g_free(a.postbox);
	g_free(u.id);
}

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

static int first_item(const struct outbox_item *item, void *ctx)
{
	*(uint64_t *)ctx = item->seq;
	return 1;
}

struct reply_to_ctx {
	char *reply_to;
};

static int reply_to_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct reply_to_ctx *r = ctx;
	struct outbox_item *item = NULL;
	uint64_t seq = 0;
	void *raw = NULL;
	size_t len;
	int ret = outbox_each_due(txn, INT64_MAX, first_item, &seq, error_r);

	if (ret != IMI_OK && ret != 1)
		return ret;
	if ((ret = outbox_read(txn, seq, &item, &raw, &len, error_r)) != IMI_OK)
		return ret;
	{
		char *text = g_strndup(raw, len), *p = strstr(text, "\nReply-To: ");
		if (p != NULL)
			r->reply_to = g_strndup(p + 11, strcspn(p + 11, "\n"));
		g_free(text);
	}
	outbox_item_free(&item);
	g_free(raw);
	return IMI_OK;
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct create_ctx c;
	struct reply_to_ctx r = {NULL};
	char *error = NULL, *cmd, *keys, *keyfile;

	f->home = testutil_tmpdir("inbound");
	keys = g_build_filename(f->home, "keys", NULL);
	g_mkdir_with_parents(keys, 0700);
	cmd = g_strdup_printf("cd %s && openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null && "
			      "p=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0) && "
			      "for d in a.fr b.de; do echo \"s1._domainkey.$d v=DKIM1; k=rsa; p=$p\"; "
			      "done > dkim.keys", keys);
	if (system(cmd) != 0)
		fail_msg("openssl could not make a key: %s", cmd);
	g_free(cmd);
	f->key = g_build_filename(keys, "dkim.pem", NULL);
	keyfile = g_build_filename(keys, "dkim.keys", NULL);
	g_setenv("IMI_DKIM_KEYFILE", keyfile, TRUE);
	g_free(keyfile);
	cmd = g_build_filename(keys, "token.key", NULL);
	if (token_key_create(cmd, &error) != IMI_OK)
		fail_msg("token key: %s", error);
	g_free(cmd);
	g_free(keys);
	if (conf_load(f->home, &f->conf, &error) != IMI_OK ||
	    store_open(f->home, STORE_OPEN_CREATE, &f->store, &error) != IMI_OK ||
	    request_env_open(f->conf, &f->env, &error) != IMI_OK)
		fail_msg("setup: %s", error);
	put_authority(f->store, "fr-a", "FR", "fr", "a.fr");
	put_authority(f->store, "de-b", "DE", "de", "b.de");
	memset(&c, 0, sizeof(c));
	c.env = f->env;
	c.in.requester = "fr-a";
	c.in.responder = "de-b";
	c.in.qset_id = "pq-general";
	c.in.subject = "Dr. Test";
	if (store_transact(f->store, create_txn, &c, &error) != IMI_OK)
		fail_msg("request_create: %s", error);
	f->case_id = c.case_id;
	if (store_transact(f->store, reply_to_txn, &r, &error) != IMI_OK || r.reply_to == NULL)
		fail_msg("reply address of the request: %s", error ? error : "none");
	f->reply_to = r.reply_to;
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
	g_free(f->case_id);
	g_free(f->reply_to);
	g_free(f->key);
	g_free(f);
	g_unsetenv("IMI_DKIM_KEYFILE");
	return 0;
}

static char *message(const struct fixture *f, const char *from, const char *subject,
		     const char *msgid, const char *extra, const char *body, int sign)
{
	char *msg = g_strdup_printf("From: %s\nTo: %s\nSubject: %s [%s]\nMessage-ID: <%s>\n"
				    "Date: Wed, 25 Nov 2026 10:00:00 +0000\n%s"
				    "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s",
				    from, f->reply_to, subject, f->case_id, msgid, extra, body);
	char *header = NULL, *error = NULL, *signed_msg;

	if (!sign)
		return msg;
	if (dkim_sign_message("s1", imi_email_domain(from), f->key, msg, strlen(msg), NULL,
			      &header, &error) != IMI_OK)
		fail_msg("dkim_sign_message: %s", error);
	signed_msg = g_strdup_printf("%s\n%s", header, msg);
	g_free(header);
	g_free(msg);
	return signed_msg;
}

struct state_ctx {
	const char *id;
	char *state;
};

static int state_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct state_ctx *s = ctx;
	JsonObject *obj = NULL;
	int ret = request_get(txn, s->id, 0, &obj, error_r);

	if (ret == IMI_OK) {
		g_free(s->state);
		s->state = g_strdup(json_object_get_string_member(obj, "state"));
		json_object_unref(obj);
	}
	return ret;
}

static void test_paths(void **state)
{
	static const struct {
		const char *name;
		enum inbound_path path;
		const char *sender;   /* envelope */
		const char *from, *subject, *msgid, *extra, *body;
		int sign;
		enum inbound_verdict want;
		const char *case_state; /* afterwards */
	} cases[] = {
		{"own mail looping back", INBOUND_DELIVER, "x@b.de", "h@b.de", "AW:", "l1@b.de",
		 "X-IMI-Loop: imi.localhost\n", "Q2: 1\n", 1, INBOUND_IGNORED, "sent"},
		{"auto-reply", INBOUND_DELIVER, "x@b.de", "h@b.de", "Abwesend:", "l2@b.de",
		 "Auto-Submitted: auto-replied\n", "away\n", 1, INBOUND_IGNORED, "sent"},
		{"bounce", INBOUND_DELIVER, "", "mailer-daemon@b.de", "Undeliverable", "l3@b.de",
		 "", "failed\n", 0, INBOUND_IGNORED, "sent"},
		{"unsigned, after the MTA accepted", INBOUND_DELIVER, "h@b.de", "h@b.de", "ACCEPT",
		 "u1@b.de", "", "\n", 0, INBOUND_HELD, "sent"},
		{"the same again", INBOUND_DELIVER, "h@b.de", "h@b.de", "ACCEPT", "u1@b.de", "",
		 "\n", 0, INBOUND_DUPLICATE, "sent"},
		{"unsigned, in the SMTP session", INBOUND_MILTER, "h@b.de", "h@b.de", "ACCEPT",
		 "u2@b.de", "", "\n", 0, INBOUND_REJECT, "sent"},
		{"signed by another registered domain", INBOUND_DELIVER, "h@b.de", "h@b.de",
		 "ACCEPT", "u3@b.de", "", "\n", 2, INBOUND_HELD, "sent"},
		{"signed ACCEPT", INBOUND_DELIVER, "h@b.de", "h@b.de", "ACCEPT", "s1@b.de", "",
		 "\n", 1, INBOUND_APPLIED, "accepted"},
		{"signed ACCEPT again: refused, answered", INBOUND_DELIVER, "h@b.de", "h@b.de",
		 "ACCEPT", "s2@b.de", "", "\n", 1, INBOUND_ANSWERED, "accepted"},
		{"signed answers", INBOUND_MILTER, "h@b.de", "h@b.de", "AW:", "s3@b.de", "",
		 "Q2: 4711\nQ4: ja\n", 1, INBOUND_APPLIED, "answered"},
		{"signed reply without answers", INBOUND_DELIVER, "h@b.de", "h@b.de", "AW:",
		 "s4@b.de", "", "Danke.\n", 1, INBOUND_ANSWERED, "answered"},
	};
	struct fixture *f = *state;

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *rcpts[] = {f->reply_to, NULL};
		struct inbound_envelope env = {.path = cases[i].path,
					       .sender = cases[i].sender,
					       .recipients = rcpts};
		struct inbound_result res = {0};
		struct state_ctx st = {f->case_id, NULL};
		char *error = NULL, *msg;
		int ret;

		/* sign 2: signed as a.fr, a domain registered for another
		 * authority, From b.de: unaligned. */
		if (cases[i].sign == 2) {
			char *m = message(f, "h@a.fr", cases[i].subject, cases[i].msgid,
					  cases[i].extra, cases[i].body, 1);
			char *p = strstr(m, "From: h@a.fr");
			memcpy(p, "From: h@b.de", 12);
			msg = m;
		} else {
			msg = message(f, cases[i].from, cases[i].subject, cases[i].msgid,
				      cases[i].extra, cases[i].body, cases[i].sign);
		}
		ret = inbound_process(f->store, f->conf, msg, strlen(msg), &env, &res, &error);
		check_int(cases[i].name, ret, IMI_OK);
		if (res.verdict != cases[i].want)
			fail_msg("%s: verdict: got %d (%s), want %d", cases[i].name, res.verdict,
				 res.reason ? res.reason : "", cases[i].want);
		if (res.auth_results == NULL && cases[i].want != INBOUND_IGNORED &&
		    cases[i].want != INBOUND_DUPLICATE && cases[i].want != INBOUND_TOOBIG)
			fail_msg("%s: no Authentication-Results", cases[i].name);
		if (store_transact(f->store, state_txn, &st, &error) != IMI_OK)
			fail_msg("case: %s", error);
		check_str(cases[i].name, st.state, cases[i].case_state);
		g_free(st.state);
		inbound_result_clear(&res);
		g_free(msg);
	}
}

struct held_ctx {
	unsigned held, opened;
};

static int held_step(const void *key, size_t key_len, const void *value, size_t len,
		     void *ctx)
{
	JsonObject *obj = NULL;
	struct held_ctx *h = ctx;

	(void)key;
	(void)key_len;
	if (store_record_parse(value, len, &obj, NULL) == IMI_OK) {
		if (g_strcmp0(json_object_get_string_member_with_default(obj, "state", ""),
			      "held") == 0 &&
		    g_str_has_prefix(json_object_get_string_member_with_default(obj, "key", ""),
				     "held:"))
			h->held++;
		json_object_unref(obj);
	}
	return 0;
}

static int held_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return store_each(txn, STORE_MESSAGES, NULL, 0, held_step, ctx, error_r);
}

/* The held messages are kept, each sealed with a key of its own. */
static void test_held_kept(void **state)
{
	struct fixture *f = *state;
	struct inbound_envelope env = {.path = INBOUND_DELIVER, .sender = "h@b.de"};
	struct inbound_result res = {0};
	struct held_ctx h = {0, 0};
	char *error = NULL, *msg = message(f, "h@b.de", "ACCEPT", "h1@b.de", "", "\n", 0);

	check_int("status", inbound_process(f->store, f->conf, msg, strlen(msg), &env, &res,
					    &error), IMI_OK);
	check_int("verdict", res.verdict, INBOUND_HELD);
	if (store_transact(f->store, held_txn, &h, &error) != IMI_OK)
		fail_msg("messages: %s", error);
	check_int("held messages with a held: key", h.held, 1);
	inbound_result_clear(&res);
	g_free(msg);
}

static void test_too_big(void **state)
{
	struct fixture *f = *state;
	struct inbound_envelope env = {.path = INBOUND_DELIVER, .sender = "h@b.de"};
	struct inbound_result res = {0};
	char *error = NULL, *msg = message(f, "h@b.de", "AW:", "big@b.de", "", "Q2: 1\n", 0);
	int64_t saved = f->conf->max_message_bytes;

	f->conf->max_message_bytes = 100;
	check_int("status", inbound_process(f->store, f->conf, msg, strlen(msg), &env, &res,
					    &error), IMI_OK);
	check_int("verdict", res.verdict, INBOUND_TOOBIG);
	if (res.reason == NULL || strstr(res.reason, "max_message_bytes") == NULL)
		fail_msg("reason: got \"%s\", want it to name max_message_bytes", res.reason);
	f->conf->max_message_bytes = saved;
	inbound_result_clear(&res);
	g_free(msg);
}

/* Within the size limit, over a structural bound: the milter refuses it in
 * the session; after the MTA accepted it, it is held unread under its
 * Message-ID, and a second delivery is a duplicate. */
static void test_structure_over_bounds(void **state)
{
	static const struct {
		enum inbound_path path;
		enum inbound_verdict want;
	} rows[] = {
		{INBOUND_MILTER, INBOUND_TOOBIG},
		{INBOUND_DELIVER, INBOUND_HELD},
		{INBOUND_DELIVER, INBOUND_DUPLICATE},
	};
	struct fixture *f = *state;
	int64_t saved = f->conf->max_header_bytes;

	f->conf->max_header_bytes = 64;
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct inbound_envelope env = {.path = rows[i].path, .sender = "h@b.de"};
		struct inbound_result res = {0};
		char *error = NULL, *msg = message(f, "h@b.de", "AW:", "deep@b.de", "", "Q2: 1\n", 0);

		check_int("status", inbound_process(f->store, f->conf, msg, strlen(msg), &env,
						    &res, &error), IMI_OK);
		if (res.verdict != rows[i].want)
			fail_msg("row %zu: verdict got %d, wanted %d (%s)", i, res.verdict,
				 rows[i].want, res.reason != NULL ? res.reason : "");
		if (rows[i].want == INBOUND_HELD &&
		    (res.reason == NULL || strstr(res.reason, "max_header_bytes") == NULL))
			fail_msg("row %zu: reason got \"%s\", want it to name max_header_bytes", i,
				 res.reason);
		inbound_result_clear(&res);
		g_free(msg);
	}
	f->conf->max_header_bytes = saved;
}

static void test_dns_down(void **state)
{
	struct fixture *f = *state;
	struct inbound_envelope env = {.path = INBOUND_FETCH};
	struct inbound_result res = {0};
	char *error = NULL, *msg = message(f, "h@b.de", "AW:", "dns@b.de", "", "Q2: 1\n", 1);
	char *saved = f->conf->dns_server;

	/* Keys from DNS, and the server does not answer. */
	g_unsetenv("IMI_DKIM_KEYFILE");
	f->conf->dns_server = (char *)"127.0.0.1:9";
	check_int("status", inbound_process(f->store, f->conf, msg, strlen(msg), &env, &res,
					    &error), IMI_TEMPFAIL);
	check_int("verdict", res.verdict, INBOUND_TEMPFAIL);
	f->conf->dns_server = saved;
	g_free(error);
	inbound_result_clear(&res);
	g_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_structure_over_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_down, setup, teardown),
	};
	return cmocka_run_group_tests_name("inbound", tests, NULL, NULL);
}

/*
 * test_dkim.c: DKIM signing and verification with keys from a key file
 * (no DNS).  Keys are made fresh by openssl(1) in the test's directory.
 */
#include "testutil.h"

#include "parser/dkim.h"

#define DOMAIN "authority.example.org"
#define MAX_AGE_DAYS 30

static const char *base_message =
	"From: Anna Berg <anna@authority.example.org>\n"
	"To: imi+42.ans.abc@imi.example.eu\n"
	"Subject: Re: Request IMI-2026-000042\n"
	"Date: Wed, 25 Nov 2026 10:00:00 +0100\n"
	"Message-ID: <reply-1@authority.example.org>\n"
	"\n"
	"Q1: yes\n"
	"Q2: the licence was withdrawn on 3 March 2026.\n"
	"\n"
	"Regards,\n"
	"Anna\n";

struct keys {
	char *dir;
	char *keyfile;
};

static struct keys keys;

static void run(const char *cmd)
{
	gchar *err = NULL;
	gint status = 0;
	char *full = g_strdup_printf("sh -c '%s'", cmd);

	if (!g_spawn_command_line_sync(full, NULL, &err, &status, NULL) || status != 0)
		fail_msg("command failed: %s: %s", cmd, err != NULL ? err : "");
	g_free(err);
	g_free(full);
}

static char *key_path(const char *selector)
{
	return g_strdup_printf("%s/%s.pem", keys.dir, selector);
}

/* Makes selector.pem and adds its public key to the key file. */
static void make_key(const char *selector, const char *kind, int bits)
{
	char *cmd;

	if (strcmp(kind, "ed25519") == 0)
		cmd = g_strdup_printf(
			"cd %s && openssl genpkey -algorithm ed25519 -out %s.pem 2>/dev/null && "
			"printf \"%%s._domainkey.%s v=DKIM1; k=ed25519; p=%%s\\n\" %s "
			"\"$(openssl pkey -in %s.pem -pubout -outform DER | tail -c 32 | base64 -w0)\" >> keys",
			keys.dir, selector, DOMAIN, selector, selector);
	else
		cmd = g_strdup_printf(
			"cd %s && openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:%d -out %s.pem 2>/dev/null && "
			"printf \"%%s._domainkey.%s v=DKIM1; k=rsa; p=%%s\\n\" %s "
			"\"$(openssl pkey -in %s.pem -pubout -outform DER | base64 -w0)\" >> keys",
			keys.dir, bits, selector, DOMAIN, selector, selector);
	run(cmd);
	g_free(cmd);
}

static int setup_keys(void **state)
{
	keys.dir = testutil_tmpdir("dkim");
	keys.keyfile = g_strdup_printf("%s/keys", keys.dir);
	make_key("r2048", "rsa", 2048);
	make_key("r1024", "rsa", 1024);
	make_key("r768", "rsa", 768);
	make_key("r512", "rsa", 512);
	make_key("ed", "ed25519", 0);
	return 0;
}

static int teardown_keys(void **state)
{
	g_free(keys.keyfile);
	testutil_rmdir(keys.dir);
	return 0;
}

/* Signs `message` and returns signature + message. */
static char *sign(const char *selector, const char *message,
		  const struct dkim_sign_options *options)
{
	char *path = key_path(selector), *header = NULL, *error = NULL, *out;
	int ret = dkim_sign_message(selector, DOMAIN, path, message, strlen(message),
				    options, &header, &error);

	if (ret != IMI_OK)
		fail_msg("signing with %s: %s", selector, error);
	if (strchr(header, '\r') != NULL)
		fail_msg("signature header contains CR: %s", header);
	out = g_strconcat(header, "\n", message, NULL);
	g_free(header);
	g_free(path);
	return out;
}

static struct dkim_result *verify_with(const char *keyfile, const char *message,
				       int64_t now, int max_age_days)
{
	struct dkim_verifier *v = NULL;
	struct dkim_result *result = NULL;
	char *error = NULL;

	if (dkim_verifier_open(NULL, keyfile, 0, &v, &error) != IMI_OK)
		fail_msg("verifier: %s", error);
	if (dkim_verify_message(v, message, strlen(message), now, max_age_days,
				&result, &error) != IMI_OK)
		fail_msg("verify: %s", error);
	dkim_verifier_close(&v);
	return result;
}

static struct dkim_result *verify(const char *message)
{
	return verify_with(keys.keyfile, message, imi_now(), MAX_AGE_DAYS);
}

/* Replaces the first occurrence of from with to. */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);

	if (at == NULL)
		fail_msg("\"%s\" not in the message", from);
	return g_strdup_printf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

struct verdict_case {
	const char *name;
	const char *selector;
	struct dkim_sign_options options;
	const char *change_from;   /* NULL: the signed message as it is */
	const char *change_to;
	const char *append;        /* appended to the signed message */
	enum dkim_verdict want;
	const char *want_reason;   /* substring of the reason */
};

static const struct verdict_case verdict_cases[] = {
	{"rsa relaxed", "r2048", {0}, NULL, NULL, NULL, DKIM_VERDICT_PASS, "verified"},
	{"rsa simple", "r2048", {.simple = 1}, NULL, NULL, NULL, DKIM_VERDICT_PASS, "verified"},
	{"rsa 1024 bits", "r1024", {0}, NULL, NULL, NULL, DKIM_VERDICT_PASS, "verified"},
	{"ed25519", "ed", {0}, NULL, NULL, NULL, DKIM_VERDICT_PASS, "verified"},
	{"ed25519 simple", "ed", {.simple = 1}, NULL, NULL, NULL, DKIM_VERDICT_PASS, "verified"},
	{"body changed", "r2048", {0}, "Q1: yes", "Q1: no", NULL, DKIM_VERDICT_FAIL, "body"},
	{"body changed ed25519", "ed", {0}, "Q1: yes", "Q1: no", NULL, DKIM_VERDICT_FAIL, "body"},
	{"signed header changed", "r2048", {0}, "Subject: Re:", "Subject: Fwd:", NULL,
	 DKIM_VERDICT_FAIL, "header"},
	{"from changed", "r2048", {0}, "anna@", "boss@", NULL, DKIM_VERDICT_FAIL, "header"},
	{"relaxed survives whitespace", "r2048", {0}, "Q1: yes", "Q1:   yes  ", NULL,
	 DKIM_VERDICT_PASS, "verified"},
	{"simple breaks on whitespace", "r2048", {.simple = 1}, "Q1: yes", "Q1:   yes", NULL,
	 DKIM_VERDICT_FAIL, "body"},
	{"l= whole body", "r2048", {.body_length = 1}, NULL, NULL, NULL, DKIM_VERDICT_PASS, "verified"},
	{"l= with appended text", "r2048", {.body_length = 1}, NULL, NULL,
	 "Q1: no, ignore the above\n", DKIM_VERDICT_POLICY, "l="},
	{"l= simple with appended text", "r2048", {.body_length = 1, .simple = 1}, NULL, NULL,
	 "Q1: no\n", DKIM_VERDICT_POLICY, "l="},
	{"l= with appended empty lines", "r2048", {.body_length = 1}, NULL, NULL,
	 "\n\n\n", DKIM_VERDICT_PASS, "verified"},
	{"expired x=", "r2048", {.time = 1, .lifetime = 86400}, NULL, NULL, NULL,
	 DKIM_VERDICT_POLICY, "expired"},
	{"rsa-sha1", "r2048", {.rsa_sha1 = 1}, NULL, NULL, NULL, DKIM_VERDICT_POLICY, "rsa-sha1"},
	{"rsa 768 bits", "r768", {.min_key_bits = 512}, NULL, NULL, NULL, DKIM_VERDICT_POLICY, "768 bits"},
	{"rsa 512 bits", "r512", {.min_key_bits = 512}, NULL, NULL, NULL, DKIM_VERDICT_POLICY, "512 bits"},
	{"replayed: t= 40 days old", "r2048", {.time = 2}, NULL, NULL, NULL, DKIM_VERDICT_POLICY, "days old"},
	{"second From added", "r2048", {0}, "To: ", "From: boss@authority.example.org\nTo: ", NULL,
	 DKIM_VERDICT_POLICY, "more than one From"},
	{"second From below", "r2048", {0}, "Subject: ", "From: boss@elsewhere.example\nSubject: ", NULL,
	 DKIM_VERDICT_POLICY, "more than one From"},
	{"unknown selector", "r2048", {0}, "s=r2048", "s=nokey", NULL, DKIM_VERDICT_PERMERROR, ""},
};

/* Decoded keys are kept per process (dkim_keycache.c): the same key is
 * decoded once, each key record has its own entry, and a kept key never
 * makes a signature by another key or a changed body pass. */
static void test_keycache(void **state)
{
	static const struct {
		const char *name, *selector, *sign_selector;
		int change_body;
		enum dkim_verdict want;
		unsigned keys_after;
	} rows[] = {
		{"first r2048", "r2048", "r2048", 0, DKIM_VERDICT_PASS, 1},
		{"again r2048", "r2048", "r2048", 0, DKIM_VERDICT_PASS, 1},
		{"r2048 body changed", "r2048", "r2048", 1, DKIM_VERDICT_FAIL, 1},
		{"r1024", "r1024", "r1024", 0, DKIM_VERDICT_PASS, 2},
		{"signed by r1024, names r2048", "r2048", "r1024", 0, DKIM_VERDICT_FAIL, 2},
		{"again r1024", "r1024", "r1024", 0, DKIM_VERDICT_PASS, 2},
	};

	dkim_keycache_clear();
	check_int("keys kept at start", (int)dkim_keycache_count(), 0);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct dkim_sign_options options = {0};
		struct dkim_result *result;
		char *signed_msg = sign(rows[i].sign_selector, base_message, &options);
		char *msg = signed_msg, *field;

		if (strcmp(rows[i].selector, rows[i].sign_selector) != 0) {
			char *from = g_strdup_printf("s=%s;", rows[i].sign_selector);
			char *to = g_strdup_printf("s=%s;", rows[i].selector);

			msg = replace(signed_msg, from, to);
			g_free(from);
			g_free(to);
		} else if (rows[i].change_body) {
			msg = g_strconcat(signed_msg, "one more line\n", NULL);
		}
		result = verify(msg);
		field = g_strdup_printf("%s: verdict (reason: %s)", rows[i].name,
					result->signatures[0].reason);
		check_str(field, dkim_verdict_name(result->signatures[0].verdict),
			  dkim_verdict_name(rows[i].want));
		g_free(field);
		field = g_strdup_printf("%s: keys kept", rows[i].name);
		check_int(field, (int)dkim_keycache_count(), (int)rows[i].keys_after);
		g_free(field);
		dkim_result_free(&result);
		if (msg != signed_msg)
			g_free(msg);
		g_free(signed_msg);
	}
	dkim_keycache_clear();
}

static void test_verdicts(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(verdict_cases); i++) {
		const struct verdict_case *c = &verdict_cases[i];
		struct dkim_sign_options options = c->options;
		struct dkim_result *result;
		char *signed_msg, *changed, *field;

		/* time 1: ten days ago (with a 1-day lifetime: expired);
		 * time 2: forty days ago (replay window). */
		if (options.time == 1)
			options.time = imi_now() - 10 * 86400;
		else if (options.time == 2)
			options.time = imi_now() - 40 * 86400;
		signed_msg = sign(c->selector, base_message, &options);
		changed = c->change_from != NULL ? replace(signed_msg, c->change_from, c->change_to)
						 : g_strdup(signed_msg);
		if (c->append != NULL) {
			char *tmp = g_strconcat(changed, c->append, NULL);
			g_free(changed);
			changed = tmp;
		}
		result = verify(changed);
		field = g_strdup_printf("%s: number of signatures", c->name);
		check_int(field, result->n_signatures, 1);
		g_free(field);
		field = g_strdup_printf("%s: verdict (reason: %s)", c->name,
					result->signatures[0].reason);
		check_str(field, dkim_verdict_name(result->signatures[0].verdict),
			  dkim_verdict_name(c->want));
		g_free(field);
		if (strstr(result->signatures[0].reason, c->want_reason) == NULL)
			fail_msg("%s: reason: got \"%s\", want it to contain \"%s\"", c->name,
				 result->signatures[0].reason, c->want_reason);
		if (c->want == DKIM_VERDICT_PASS) {
			check_str(c->name, result->signatures[0].domain, DOMAIN);
			check_str(c->name, result->signatures[0].selector, c->selector);
			check_str(c->name, result->signatures[0].algorithm,
				  strcmp(c->selector, "ed") == 0 ? "ed25519-sha256" : "rsa-sha256");
		}
		dkim_result_free(&result);
		g_free(changed);
		g_free(signed_msg);
	}
}

/* The replay window is the caller's: 0 turns it off. */
static void test_replay_window_off(void **state)
{
	struct dkim_sign_options options = {.time = imi_now() - 40 * 86400};
	char *msg = sign("r2048", base_message, &options);
	struct dkim_result *result = verify_with(keys.keyfile, msg, imi_now(), 0);

	check_str("verdict", dkim_verdict_name(result->signatures[0].verdict), "pass");
	check_int("timestamp", result->signatures[0].timestamp, options.time);
	dkim_result_free(&result);
	g_free(msg);
}

static void test_signature_fresh(void **state)
{
	static const struct {
		const char *name;
		int64_t signed_at, now;
		int max_age_days, want;
	} cases[] = {
		{"just signed", 1000000, 1000000, 30, 1},
		{"30 days old", 1000000, 1000000 + 30 * 86400, 30, 1},
		{"30 days and a second", 1000000, 1000000 + 30 * 86400 + 1, 30, 0},
		{"no t=", -1, 1000000, 30, 1},
		{"no window", 1000000, 1000000 + 400 * 86400, 0, 1},
		{"signed in the future", 2000000, 1000000, 30, 1},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		check_int(cases[i].name, dkim_signature_fresh(cases[i].signed_at, cases[i].now,
							      cases[i].max_age_days), cases[i].want);
}

/* What a passing signature covers: From, Subject; not a header added on top
 * after signing. */
static void test_covered_headers(void **state)
{
	char *msg = sign("r2048", base_message, NULL);
	char *added = g_strconcat("X-Note: added later\n", msg, NULL);
	char *dup = replace(msg, "From: ", "Subject: spoofed\nFrom: ");
	struct dkim_result *result = verify(added);
	const struct dkim_signature *s = &result->signatures[0];

	check_str("verdict", dkim_verdict_name(s->verdict), "pass");
	check_int("covers from", dkim_signature_covers(s, "From"), 1);
	check_int("covers subject", dkim_signature_covers(s, "subject"), 1);
	check_int("covers x-note", dkim_signature_covers(s, "X-Note"), 0);
	check_int("from count", result->from_count, 1);
	dkim_result_free(&result);

	/* An added Subject breaks the signature, since Subject is oversigned. */
	result = verify(dup);
	check_str("verdict with a second Subject", dkim_verdict_name(result->signatures[0].verdict), "fail");
	dkim_result_free(&result);
	g_free(dup);
	g_free(added);
	g_free(msg);
}

static void test_two_from_counted(void **state)
{
	char *msg = sign("r2048", base_message, NULL);
	char *two = replace(msg, "To: ", "From: x@authority.example.org\nTo: ");
	struct dkim_result *result = verify(two);

	check_int("from count", result->from_count, 2);
	check_str("verdict", dkim_verdict_name(result->signatures[0].verdict), "policy");
	dkim_result_free(&result);
	g_free(two);
	g_free(msg);
}

/* Several signatures: each gets its own verdict. */
static void test_several_signatures(void **state)
{
	char *one = sign("ed", base_message, NULL);
	char *two = sign("r2048", one, NULL);
	struct dkim_result *result = verify(two);
	char *broken = replace(two, "Q2: the licence", "Q2: no licence");

	check_int("signatures", result->n_signatures, 2);
	for (unsigned i = 0; i < result->n_signatures; i++)
		check_str("verdict", dkim_verdict_name(result->signatures[i].verdict), "pass");
	dkim_result_free(&result);
	result = verify(broken);
	check_int("signatures", result->n_signatures, 2);
	for (unsigned i = 0; i < result->n_signatures; i++)
		check_str("verdict after body change", dkim_verdict_name(result->signatures[i].verdict), "fail");
	dkim_result_free(&result);
	g_free(broken);
	g_free(two);
	g_free(one);
}

static void test_unsigned(void **state)
{
	struct dkim_result *result = verify(base_message);

	check_int("signatures", result->n_signatures, 0);
	check_int("from count", result->from_count, 1);
	dkim_result_free(&result);
}

/* Bounds and junk: refused with a clear error or judged, never a crash. */
static void test_bounds_and_junk(void **state)
{
	struct dkim_verifier *v = NULL;
	struct dkim_result *result = NULL;
	char *error = NULL;
	GString *many = g_string_new(NULL);
	static const struct {
		const char *name, *message;
		unsigned want_sigs;
		const char *want_verdict;
	} junk[] = {
		{"empty message", "", 0, NULL},
		{"no body separator", "From: a@b.example\nSubject: x", 0, NULL},
		{"signature without tags", "DKIM-Signature: x\nFrom: a@b.example\n\nhi\n", 1, "permerror"},
		{"signature with junk tags",
		 "DKIM-Signature: v=1; a=rsa-sha256; d=; s=; b=!!!; bh=???\nFrom: a@b.example\n\nhi\n", 1,
		 "permerror"},
		{"continuation line first", " folded\nFrom: a@b.example\n\nhi\n", 0, NULL},
		{"binary", "\x01\x02\xff\xfe: \x80\n\n\x00", 0, NULL},
	};

	if (dkim_verifier_open(NULL, keys.keyfile, 0, &v, &error) != IMI_OK)
		fail_msg("verifier: %s", error);
	for (size_t i = 0; i < G_N_ELEMENTS(junk); i++) {
		size_t len = strcmp(junk[i].name, "binary") == 0 ? 11 : strlen(junk[i].message);
		char *field = g_strdup_printf("%s: status", junk[i].name);
		check_int(field, dkim_verify_message(v, junk[i].message, len, imi_now(), 30, &result, &error),
			  IMI_OK);
		g_free(field);
		field = g_strdup_printf("%s: signatures", junk[i].name);
		check_int(field, result->n_signatures, junk[i].want_sigs);
		g_free(field);
		if (junk[i].want_verdict != NULL)
			check_str(junk[i].name, dkim_verdict_name(result->signatures[0].verdict),
				  junk[i].want_verdict);
		dkim_result_free(&result);
	}

	/* Over the bounds: an error saying so, not a silent cut. */
	for (int i = 0; i < DKIM_MAX_HEADER_FIELDS + 1; i++)
		g_string_append_printf(many, "X-H%d: v\n", i);
	g_string_append(many, "\nbody\n");
	check_int("too many header fields",
		  dkim_verify_message(v, many->str, many->len, imi_now(), 30, &result, &error), IMI_TOOBIG);
	if (error == NULL || strstr(error, "header fields") == NULL)
		fail_msg("too many header fields: error \"%s\"", error);
	g_free(error);
	error = NULL;
	g_string_truncate(many, 0);
	for (int i = 0; i < DKIM_MAX_SIGNATURES + 1; i++)
		g_string_append(many, "DKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=; b=\n");
	g_string_append(many, "From: a@x.example\n\nbody\n");
	check_int("too many signatures",
		  dkim_verify_message(v, many->str, many->len, imi_now(), 30, &result, &error), IMI_TOOBIG);
	g_free(error);
	g_string_free(many, TRUE);
	dkim_verifier_close(&v);
}

static void test_bad_key_file(void **state)
{
	char *path = g_strdup_printf("%s/not-a-key.pem", keys.dir);
	char *header = NULL, *error = NULL;

	g_file_set_contents(path, "hello\n", -1, NULL);
	check_int("status", dkim_sign_message("s", DOMAIN, path, base_message,
					      strlen(base_message), NULL, &header, &error),
		  IMI_INVALID);
	if (error == NULL || strstr(error, "not a PEM") == NULL)
		fail_msg("error: got \"%s\"", error);
	g_free(error);
	g_free(path);
}

/* RFC 8463 Appendix A: the published message signed with Ed25519 and RSA. */
static const char *rfc8463_message =
	"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
	" d=football.example.com; i=@football.example.com;\r\n"
	" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
	" subject : date : message-id : from : subject : date;\r\n"
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
	" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
	" d=football.example.com; i=@football.example.com;\r\n"
	" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
	" date : message-id : from : subject : date;\r\n"
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
	" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
	" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
	" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
	"From: Joe SixPack <joe@football.example.com>\r\n"
	"To: Suzie Q <suzie@shopping.example.net>\r\n"
	"Subject: Is dinner ready?\r\n"
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
	"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
	"\r\n"
	"Hi.\r\n"
	"\r\n"
	"We lost the game.  Are you hungry yet?\r\n"
	"\r\n"
	"Joe.\r\n";

static const char *rfc8463_keys =
	"brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; "
	"p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
	"test._domainkey.football.example.com v=DKIM1; k=rsa; "
	"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5q"
	"hdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+"
	"PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n";

static void test_rfc8463(void **state)
{
	char *path = g_strdup_printf("%s/rfc8463-keys", keys.dir);
	struct dkim_result *result;

	g_file_set_contents(path, rfc8463_keys, -1, NULL);
	result = verify_with(path, rfc8463_message, imi_now(), 0);
	check_int("signatures", result->n_signatures, 2);
	for (unsigned i = 0; i < 2; i++) {
		const struct dkim_signature *s = &result->signatures[i];
		char *field = g_strdup_printf("%s verdict (%s)", s->algorithm, s->reason);
		check_str(field, dkim_verdict_name(s->verdict), "pass");
		check_str("domain", s->domain, "football.example.com");
		g_free(field);
	}
	check_str("first algorithm", result->signatures[0].algorithm, "ed25519-sha256");
	check_str("second algorithm", result->signatures[1].algorithm, "rsa-sha256");
	check_int("first covers subject", dkim_signature_covers(&result->signatures[0], "subject"), 1);
	dkim_result_free(&result);
	g_free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keycache),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_replay_window_off),
		cmocka_unit_test(test_signature_fresh),
		cmocka_unit_test(test_covered_headers),
		cmocka_unit_test(test_two_from_counted),
		cmocka_unit_test(test_several_signatures),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_bounds_and_junk),
		cmocka_unit_test(test_bad_key_file),
		cmocka_unit_test(test_rfc8463),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}

/*
 * test_hooks.c: the MTA answers of every inbound outcome, and which
 * recipients are service addresses.
 */
#include "testutil.h"

#include <libmilter/mfapi.h>
#include <sysexits.h>

#include "mta-hooks/answer.h"
#include "mta-hooks/recipient.h"
#include "mta-hooks/sender.h"

struct answer_case {
	const char *name;
	int status;                 /* inbound_process's return */
	enum inbound_verdict verdict;
	const char *reason;
	enum answer_kind kind;
	int smfis;
	const char *rcode, *xcode;
	int exit_code;
	const char *text_has;       /* a part the reply text must contain */
};

static const struct answer_case answer_cases[] = {
	{"applied", IMI_OK, INBOUND_APPLIED, NULL, ANSWER_ACCEPT, SMFIS_ACCEPT, NULL, NULL, EX_OK, ""},
	{"answered", IMI_OK, INBOUND_ANSWERED, "missing Q3", ANSWER_ACCEPT, SMFIS_ACCEPT, NULL, NULL, EX_OK, ""},
	{"held", IMI_OK, INBOUND_HELD, "no signature", ANSWER_ACCEPT, SMFIS_ACCEPT, NULL, NULL, EX_OK, ""},
	{"duplicate", IMI_OK, INBOUND_DUPLICATE, NULL, ANSWER_ACCEPT, SMFIS_ACCEPT, NULL, NULL, EX_OK, ""},
	{"ignored", IMI_OK, INBOUND_IGNORED, "auto-reply", ANSWER_ACCEPT, SMFIS_ACCEPT, NULL, NULL, EX_OK, ""},
	{"reject", IMI_OK, INBOUND_REJECT, "DKIM signature of example.org does not verify",
	 ANSWER_REJECT, SMFIS_REJECT, "550", "5.7.1", EX_TEMPFAIL, "DKIM signature of example.org does not verify"},
	{"verdict tempfail", IMI_OK, INBOUND_TEMPFAIL, "DNS down", ANSWER_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.3.0", EX_TEMPFAIL, "try again later"},
	{"verdict toobig", IMI_OK, INBOUND_TOOBIG, NULL, ANSWER_TOOBIG, SMFIS_REJECT, "552", "5.3.4", EX_DATAERR, "too big"},
	{"status tempfail", IMI_TEMPFAIL, INBOUND_APPLIED, NULL, ANSWER_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.3.0", EX_TEMPFAIL, "try again later"},
	{"status toobig", IMI_TOOBIG, INBOUND_APPLIED, NULL, ANSWER_TOOBIG, SMFIS_REJECT, "552", "5.3.4", EX_DATAERR, "too big"},
	/* Every other failure of the call is temporary, even one that says
	 * "invalid": the MTA keeps the message. */
	{"status invalid", IMI_INVALID, INBOUND_APPLIED, NULL, ANSWER_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.3.0", EX_TEMPFAIL, "try again later"},
	{"status error", IMI_ERROR, INBOUND_APPLIED, NULL, ANSWER_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.3.0", EX_TEMPFAIL, "try again later"},
	{"unknown verdict", IMI_OK, (enum inbound_verdict)99, NULL, ANSWER_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.3.0", EX_TEMPFAIL, "try again later"},
	/* A reason never breaks the SMTP line or smuggles a format. */
	{"reason sanitized", IMI_OK, INBOUND_REJECT, "bad\r\n250 ok", ANSWER_REJECT, SMFIS_REJECT, "550", "5.7.1", EX_TEMPFAIL, "Message refused: bad"},
	{"percent", IMI_OK, INBOUND_REJECT, "100% forged", ANSWER_REJECT, SMFIS_REJECT, "550", "5.7.1", EX_TEMPFAIL, "100? forged"},
};

static void test_answers(void **state)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(answer_cases); i++) {
		const struct answer_case *c = &answer_cases[i];
		struct inbound_result result = {.verdict = c->verdict, .reason = (char *)c->reason};
		struct answer a;
		char field[128];

		answer_from_inbound(c->status, &result, &a);
		g_snprintf(field, sizeof(field), "%s: kind", c->name);
		check_str(field, answer_kind_name(a.kind), answer_kind_name(c->kind));
		g_snprintf(field, sizeof(field), "%s: smfis", c->name);
		check_int(field, a.smfis, c->smfis);
		g_snprintf(field, sizeof(field), "%s: rcode", c->name);
		check_str(field, a.rcode, c->rcode);
		g_snprintf(field, sizeof(field), "%s: xcode", c->name);
		check_str(field, a.xcode, c->xcode);
		g_snprintf(field, sizeof(field), "%s: exit code", c->name);
		check_int(field, a.exit_code, c->exit_code);
		if (strstr(a.text, c->text_has) == NULL)
			fail_msg("%s: text: got \"%s\", want it to contain \"%s\"", c->name, a.text, c->text_has);
		if (strpbrk(a.text, "\r\n%") != NULL)
			fail_msg("%s: text: got \"%s\", want no CR, LF or %%", c->name, a.text);
	}
}

static void test_answer_long_reason(void **state)
{
	char *reason = g_strnfill(5000, 'x');
	struct inbound_result result = {.verdict = INBOUND_REJECT, .reason = reason};
	struct answer a;

	answer_from_inbound(IMI_OK, &result, &a);
	check_int("text length", strlen(a.text), ANSWER_MAX_TEXT);
	g_free(reason);
}

static void test_nouser(void **state)
{
	struct answer a;

	answer_make(ANSWER_NOUSER, NULL, &a);
	check_str("rcode", a.rcode, "550");
	check_str("xcode", a.xcode, "5.1.1");
	check_int("smfis", a.smfis, SMFIS_REJECT);
}

struct rcpt_case {
	const char *address;
	enum recipient_kind want;
};

static const struct rcpt_case rcpt_cases[] = {
	{"<imi@imi.example.eu>", RECIPIENT_SERVICE},
	{"IMI@IMI.Example.EU", RECIPIENT_SERVICE},
	{"<imi+2026-42.ans.20780.k3v9abcdefghijkl@imi.example.eu>", RECIPIENT_SERVICE},
	{"<IMI+2026-42.ANS.20780.K3V9ABCDEFGHIJKL@imi.example.eu>", RECIPIENT_SERVICE},
	{" <imi@imi.example.eu> ", RECIPIENT_SERVICE},
	{"<bogus@imi.example.eu>", RECIPIENT_UNKNOWN},
	{"<imi+@imi.example.eu>", RECIPIENT_UNKNOWN},
	{"<imi+hello@imi.example.eu>", RECIPIENT_UNKNOWN},
	{"<imi+a..b.c@imi.example.eu>", RECIPIENT_UNKNOWN},
	{"<imi+a.b.c.d.e@imi.example.eu>", RECIPIENT_UNKNOWN},
	{"<imi-x@imi.example.eu>", RECIPIENT_UNKNOWN},
	{"<imix@imi.example.eu>", RECIPIENT_UNKNOWN},
	{"<imi+a.b.c.d!@imi.example.eu>", RECIPIENT_UNKNOWN},
	/* 65 octets of local part */
	{"<imi+aaaaaaaaaaaaaaaaaaaa.bbbbbbbb.20780.cccccccccccccccc.ddddddddddd@imi.example.eu>", RECIPIENT_UNKNOWN},
	{"<postmaster@imi.example.eu>", RECIPIENT_OTHER},
	{"<Abuse@imi.example.eu>", RECIPIENT_OTHER},
	{"<postmaster>", RECIPIENT_OTHER},
	{"<imi@other.example.org>", RECIPIENT_OTHER},
	{"<bogus@sub.imi.example.eu>", RECIPIENT_OTHER},
	{"<user@example.org>", RECIPIENT_OTHER},
};

static void test_recipients(void **state)
{
	struct imi_conf conf = {.service_domain = (char *)"imi.example.eu", .service_local = (char *)"imi"};
	static const char *const names[] = {"other", "service", "unknown"};

	for (unsigned i = 0; i < G_N_ELEMENTS(rcpt_cases); i++) {
		enum recipient_kind got = recipient_classify(&conf, rcpt_cases[i].address);
		char field[200];
		g_snprintf(field, sizeof(field), "kind of %s", rcpt_cases[i].address);
		check_str(field, names[got], names[rcpt_cases[i].want]);
	}
}

static void test_backoff(void **state)
{
	static const struct { int attempts; int64_t want; } cases[] = {
		{0, 300}, {1, 600}, {2, 1200}, {3, 2400}, {6, 19200},
		{7, SENDER_RETRY_MAX}, {30, SENDER_RETRY_MAX}, {1000, SENDER_RETRY_MAX},
	};
	int64_t total = 0;

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char field[64];
		g_snprintf(field, sizeof(field), "backoff after %d attempts", cases[i].attempts);
		check_int(field, sender_backoff(cases[i].attempts), cases[i].want);
	}
	/* The attempts a message gets span days, not hours: a relay down over
	 * a weekend must not fail the message. */
	for (int a = 0; a < SENDER_MAX_ATTEMPTS; a++)
		total += sender_backoff(a);
	if (total < 5 * 86400)
		fail_msg("retry span: got %lld s, want at least 5 days", (long long)total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_answer_long_reason),
		cmocka_unit_test(test_nouser),
		cmocka_unit_test(test_recipients),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

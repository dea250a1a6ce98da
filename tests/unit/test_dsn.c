/*
 * test_dsn.c: what dsn_read finds in bounces of several shapes: an RFC 3464
 * report returning the whole message or only its headers, CRLF lines and
 * folded fields, a delay (no failure), several recipients, Exim's
 * X-Failed-Recipients, and mail that is no bounce.
 */
#include "testutil.h"

#include "parser/dsn.h"
#include "util/util.h"

#define REPORT_HEAD                                                            \
	"From: MAILER-DAEMON@mx.example (Mail Delivery System)\n"              \
	"To: imi@imi.localhost\n"                                              \
	"Subject: Undelivered Mail Returned to Sender\n"                       \
	"Message-ID: <bounce.1@mx.example>\n"                                  \
	"MIME-Version: 1.0\n"                                                  \
	"Content-Type: multipart/report; report-type=delivery-status;\n"       \
	"\tboundary=\"B\"\n\n"                                                 \
	"--B\nContent-Type: text/plain\n\nI'm sorry to have to inform you.\n\n" \
	"--B\nContent-Type: message/delivery-status\n\n"                       \
	"Reporting-MTA: dns; mx.example\n\n"

static const struct {
	const char *name;
	const char *raw;
	int status;            /* wanted dsn_read status */
	const char *msgid;     /* wanted original Message-ID */
	const char *addresses; /* failed addresses, space separated */
	const char *first_status;
} cases[] = {
	{"report with the message returned",
	 REPORT_HEAD
	 "Final-Recipient: rfc822; Anne@Gone.Example\nOriginal-Recipient: rfc822;anne@gone.example\n"
	 "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <anne@gone.example>:\n"
	 "    mailbox gone\n\n"
	 "--B\nContent-Type: message/rfc822\n\n"
	 "From: imi@imi.localhost\nTo: anne@gone.example\nSubject: x\n"
	 "Message-ID: <IMI-2026-000001.2.status@imi.localhost>\n\nbody\n\n--B--\n",
	 IMI_OK, "IMI-2026-000001.2.status@imi.localhost", "anne@gone.example", "5.1.1"},
	{"report with headers only, CRLF",
	 "From: postmaster@mx.example\r\nTo: imi@imi.localhost\r\nSubject: DSN\r\n"
	 "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"C\"\r\n\r\n"
	 "--C\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
	 "--C\r\nContent-Type: message/delivery-status\r\n\r\n"
	 "Reporting-MTA: dns; mx.example\r\n\r\n"
	 "Final-Recipient: rfc822; a@x.example\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n"
	 "Final-Recipient: rfc822; b@x.example\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n"
	 "Final-Recipient: rfc822; <c@x.example>\r\nAction: failed\r\nStatus: 5.0.0\r\n\r\n"
	 "--C\r\nContent-Type: text/rfc822-headers\r\n\r\n"
	 "From: imi@imi.localhost\r\nMessage-ID: <IMI-2026-000007.3.request@imi.localhost>\r\n\r\n"
	 "--C--\r\n",
	 IMI_OK, "IMI-2026-000007.3.request@imi.localhost", "a@x.example c@x.example", "5.2.2"},
	{"delay only",
	 REPORT_HEAD
	 "Final-Recipient: rfc822; a@x.example\nAction: delayed\nStatus: 4.4.7\n\n--B--\n",
	 IMI_INVALID, NULL, "", NULL},
	{"Exim's header",
	 "From: Mail Delivery System <Mailer-Daemon@exim.example>\nTo: imi@imi.localhost\n"
	 "Subject: Mail delivery failed\nX-Failed-Recipients: gone@y.example, other@y.example\n\n"
	 "This message was created automatically by mail delivery software.\n",
	 IMI_OK, NULL, "gone@y.example other@y.example", ""},
	{"an ordinary message",
	 "From: a@x.example\nTo: imi@imi.localhost\nSubject: hello\n\nFinal-Recipient: rfc822; z@z.example\n",
	 IMI_INVALID, NULL, "", NULL},
};

static void test_read(void **state)
{
	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct dsn *d = NULL;
		char *error = NULL;
		int ret = dsn_read(cases[i].raw, strlen(cases[i].raw), &d, &error);
		GString *got = g_string_new(NULL);

		check_int(cases[i].name, ret, cases[i].status);
		if (ret == IMI_OK) {
			for (unsigned k = 0; k < d->failed_count; k++)
				g_string_append_printf(got, "%s%s", k ? " " : "", d->failed[k].address);
			check_str(cases[i].name, got->str, cases[i].addresses);
			check_str(cases[i].name, d->original_message_id, cases[i].msgid);
			check_str(cases[i].name, d->failed[0].status, cases[i].first_status);
		} else if (d != NULL) {
			fail_msg("%s: a failed read gave a result", cases[i].name);
		}
		g_string_free(got, TRUE);
		g_free(error);
		dsn_free(&d);
	}
}

/* The diagnostic keeps its folded continuation. */
static void test_diagnostic(void **state)
{
	struct dsn *d = NULL;
	char *error = NULL;

	(void)state;
	if (dsn_read(cases[0].raw, strlen(cases[0].raw), &d, &error) != IMI_OK)
		fail_msg("dsn_read: %s", error);
	if (strstr(d->failed[0].diagnostic, "550 5.1.1") == NULL ||
	    strstr(d->failed[0].diagnostic, "mailbox gone") == NULL)
		fail_msg("diagnostic: got \"%s\", want the 550 line with its continuation",
			 d->failed[0].diagnostic);
	dsn_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_diagnostic),
	};
	return cmocka_run_group_tests_name("dsn", tests, NULL, NULL);
}

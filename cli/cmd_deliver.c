/*
 * cmd_deliver.c: imi deliver — one message on stdin, for Postfix pipe(8),
 * procmail or .forward.
 *
 *   imi deliver [--sender ADDR] [--client-ip IP] [--helo NAME]
 *               [--recipient ADDR]...
 *
 * Exit codes (via mta-hooks/answer.c): 0 committed (applied, answered, held,
 * duplicate, ignored), 75 try again later, 65 only for a message over
 * max_message_bytes.  A message that fails authentication is held, never
 * bounced: the MTA already accepted it and a bounce would go to a possibly
 * forged sender.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "mta-hooks/answer.h"
#include "mta-hooks/inbound.h"

#define DELIVER_READ_CHUNK 65536

/* Reads fd to its end or to max+1 bytes: IMI_TOOBIG when there is more
 * than max. */
static int deliver_read(int fd, int64_t max, GString *buf, char **error_r)
{
	char chunk[DELIVER_READ_CHUNK];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return imi_fail(error_r, IMI_TEMPFAIL, "reading the message: %s",
					g_strerror(errno));
		if (n == 0)
			return IMI_OK;
		g_string_append_len(buf, chunk, n);
		if (max > 0 && (int64_t)buf->len > max)
			return imi_fail(error_r, IMI_TOOBIG,
					"the message is larger than max_message_bytes (%lld)",
					(long long)max);
	}
}

/* The outcome as --report prints it. */
static const char *deliver_verdict(enum inbound_verdict v)
{
	static const char *const names[] = {
		[INBOUND_APPLIED] = "applied", [INBOUND_ANSWERED] = "answered",
		[INBOUND_HELD] = "held", [INBOUND_DUPLICATE] = "duplicate",
		[INBOUND_IGNORED] = "ignored", [INBOUND_REJECT] = "reject",
		[INBOUND_TEMPFAIL] = "tempfail", [INBOUND_TOOBIG] = "toobig",
	};
	return (unsigned)v < G_N_ELEMENTS(names) ? names[v] : "unknown";
}

int cmd_deliver(struct cli *cli, int argc, char **argv)
{
	char *sender = NULL, *client_ip = NULL, *helo = NULL, **recipients = NULL,
	     *error = NULL;
	gboolean report = FALSE;
	GOptionEntry entries[] = {
		{"sender", 0, 0, G_OPTION_ARG_STRING, &sender, "envelope sender (MAIL FROM); \"\" for a bounce", "ADDR"},
		{"client-ip", 0, 0, G_OPTION_ARG_STRING, &client_ip, "address of the SMTP client (SPF)", "IP"},
		{"helo", 0, 0, G_OPTION_ARG_STRING, &helo, "HELO/EHLO name of the SMTP client", "NAME"},
		{"recipient", 0, 0, G_OPTION_ARG_STRING_ARRAY, &recipients, "envelope recipient (repeatable)", "ADDR"},
		{"report", 0, 0, G_OPTION_ARG_NONE, &report, "print the outcome: verdict, case, reason (one line)", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("- take one message on stdin into the store");
	struct inbound_envelope envelope = {0};
	struct inbound_result result = {0};
	struct answer answer;
	GString *raw = g_string_new(NULL);
	int ret, status;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Reads one RFC 5322 message on stdin and runs the whole inbound path\n"
		"(authentication, parsing, one store transaction).  Exit 0 when the\n"
		"message was committed (applied, answered, held, duplicate or ignored),\n"
		"75 (EX_TEMPFAIL) when the MTA must try again later, 65 (EX_DATAERR) only\n"
		"when the message is over max_message_bytes and cannot be stored.\n"
		"Postfix master.cf: see docs/postfix.md.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc != 1) {
		fprintf(stderr, "imi: deliver takes no arguments, the message comes on stdin (see --help)\n");
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 0)) != 0)
		goto out;
	/* The store may be busy or absent: every failure to open it is a
	 * temporary one for the MTA (it keeps the message). */
	if ((status = store_open(cli->conf->home, 0, &cli->store, &error)) != IMI_OK) {
		log_error(NULL, "deliver: %s", error);
		answer_from_inbound(status == IMI_TOOBIG ? IMI_ERROR : status, NULL, &answer);
		ret = answer.exit_code;
		goto out;
	}
	status = deliver_read(STDIN_FILENO, cli->conf->max_message_bytes, raw, &error);
	if (status == IMI_OK) {
		envelope.path = INBOUND_DELIVER;
		envelope.sender = sender;
		envelope.client_ip = client_ip;
		envelope.helo = helo;
		envelope.recipients = (const char *const *)recipients;
		status = inbound_process(cli->store, cli->conf, raw->str, raw->len,
					 &envelope, &result, &error);
	}
	answer_from_inbound(status, &result, &answer);
	if (status != IMI_OK)
		log_event(answer.kind == ANSWER_TOOBIG ? LOG_NOTICE : LOG_ERR, NULL,
			  "deliver: %s: %s", answer_kind_name(answer.kind),
			  error != NULL ? error : imi_status_name(status));
	else
		log_info(result.case_id, "deliver: %s (%s)", answer_kind_name(answer.kind),
			 result.reason != NULL ? result.reason : "");
	if (report && status == IMI_OK)
		printf("%s\t%s\t%s\n", deliver_verdict(result.verdict),
		       result.case_id != NULL ? result.case_id : "-",
		       result.reason != NULL ? result.reason : "");
	if (answer.kind != ANSWER_ACCEPT)
		fprintf(stderr, "imi: %s %s %s\n", answer.rcode, answer.xcode, answer.text);
	ret = answer.exit_code;
out:
	inbound_result_clear(&result);
	g_string_free(raw, TRUE);
	g_free(error);
	g_free(sender);
	g_free(client_ip);
	g_free(helo);
	g_strfreev(recipients);
	return ret;
}

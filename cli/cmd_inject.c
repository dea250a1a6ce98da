/*
 * cmd_inject.c: imi inject — one message file through the inbound path.
 *
 * The same path as imi deliver (failed authentication is held, not
 * rejected), reading a file instead of stdin; for tests and for feeding
 * saved messages by hand.  Prints the verdict, the case and the reason.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "mta-hooks/inbound.h"

static const char *inject_verdict(enum inbound_verdict v)
{
	static const char *const names[] = {
		"applied", "answered", "held", "duplicate", "ignored", "reject",
		"tempfail", "toobig",
	};
	return (unsigned)v < G_N_ELEMENTS(names) ? names[v] : "unknown";
}

int cmd_inject(struct cli *cli, int argc, char **argv)
{
	char *sender = NULL, *client_ip = NULL, *helo = NULL, **rcpts = NULL;
	char *path = NULL, *error = NULL, *data = NULL;
	gboolean fetch = FALSE;
	GOptionEntry e[] = {
		{"sender", 0, 0, G_OPTION_ARG_STRING, &sender, "envelope sender (MAIL FROM)", "ADDR"},
		{"client-ip", 0, 0, G_OPTION_ARG_STRING, &client_ip, "the SMTP client's address (for SPF)", "IP"},
		{"helo", 0, 0, G_OPTION_ARG_STRING, &helo, "the SMTP client's HELO name", "NAME"},
		{"recipient", 0, 0, G_OPTION_ARG_STRING_ARRAY, &rcpts, "envelope recipient (repeat)", "ADDR"},
		{"fetch", 0, 0, G_OPTION_ARG_NONE, &fetch, "as if fetched from a mailbox (no SPF)", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("FILE - process one message file");
	struct inbound_envelope env = {0};
	struct inbound_result res = {0};
	GError *gerr = NULL;
	gsize len = 0;
	int ret;

	g_option_context_set_description(ctx,
		"Runs FILE (an RFC 5322 message) through the inbound path of imi deliver:\n"
		"authentication, deduplication, the workflow step and its e-mails, in one\n"
		"transaction.  Prints: verdict, case, reason.  Exit 0 when committed\n"
		"(applied, answered, held, duplicate, ignored), 75 to retry, 65 too big.\n"
		"IMI_DKIM_KEYFILE=FILE reads DKIM keys from FILE instead of DNS.\n");
	g_option_context_add_main_entries(ctx, e, NULL);
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc != 2) {
		fprintf(stderr, "imi: inject needs one FILE\n");
		ret = EX_USAGE;
		goto out;
	}
	path = argv[1];
	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		ret = cli_fail(IMI_NOTFOUND, g_strdup(gerr->message));
		g_error_free(gerr);
		goto out;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	env.path = fetch ? INBOUND_FETCH : INBOUND_DELIVER;
	env.sender = sender;
	env.client_ip = client_ip;
	env.helo = helo;
	env.recipients = (const char *const *)rcpts;
	ret = inbound_process(cli->store, cli->conf, data, len, &env, &res, &error);
	printf("%s\t%s\t%s\n", inject_verdict(res.verdict),
	       res.case_id != NULL ? res.case_id : "-",
	       res.reason != NULL ? res.reason : "");
	log_info(res.case_id, "inject: %s: %s", inject_verdict(res.verdict),
		 res.reason != NULL ? res.reason : "");
	if (ret != IMI_OK || res.verdict == INBOUND_TEMPFAIL) {
		if (error != NULL)
			fprintf(stderr, "imi: %s\n", error);
		ret = EX_TEMPFAIL;
	} else if (res.verdict == INBOUND_TOOBIG) {
		ret = EX_DATAERR;
	} else {
		ret = 0;
	}
	g_free(error);
out:
	inbound_result_clear(&res);
	g_free(data);
	g_free(sender);
	g_free(client_ip);
	g_free(helo);
	g_strfreev(rcpts);
	return ret;
}

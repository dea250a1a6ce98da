/*
 * cmd_fetch.c: imi fetch URL — take in the messages of a mailbox.
 */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>

#include "mta-hooks/fetch.h"

int cmd_fetch(struct cli *cli, int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("URL - take in the messages of a mailbox");
	struct fetch_stats stats;
	char *error = NULL;
	int ret;

	g_option_context_set_description(ctx,
		"URL is imap://USER[:PASS]@HOST[:PORT]/MAILBOX, imaps://..., pop3://USER[:PASS]@HOST[:PORT],\n"
		"pop3s://..., or maildir:PATH (maildir: alone is the home's inbox Maildir).\n"
		"Without PASS, $IMI_FETCH_PASSWORD is used.  Every message goes through\n"
		"the inbound path; it is marked done on the server (IMAP \\Seen \\Deleted\n"
		"and EXPUNGE, POP3 DELE, Maildir: removed) only after the store\n"
		"committed it, so a crash in between makes the next run see it again as\n"
		"a duplicate.  Prints one line of counts.  Exit 0 done, 75 when the\n"
		"server or the store must be tried again later.\n"
		"Test hook: IMI_FETCH_CRASH_AT=fetched|committed|marked exits with\n"
		"status 9 at that step of the first message.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		return ret;
	if (argc != 2) {
		fprintf(stderr, "imi: fetch needs one URL (see --help)\n");
		return EX_USAGE;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		return ret;
	/* A server that hangs up must be an error return, not a SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	ret = fetch_run(cli->store, cli->conf, argv[1], &stats, &error);
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	printf("taken %u, duplicates %u, skipped %u\n", stats.taken, stats.duplicates,
	       stats.skipped);
	return 0;
}

/*
 * tick_idle.c: imi tick with nothing due, in the imi program itself.
 *
 * imi tick runs from a timer, every few minutes, and most runs find
 * nothing due.  This looks first (policies/due.h: the due-time index and
 * the time of the next urgency lists, one read-only transaction) and, with
 * nothing due, answers as the whole tick would, without loading the mail
 * module (cli/mail_load.c).  Anything else (a timer due, an option other
 * than --now, a store it cannot read) goes to the module's cmd_tick, which
 * looks again under its own transactions and does the work or reports.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "policies/due.h"

struct tick_idle {
	int64_t now;
	int pending;
};

static int tick_idle_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct tick_idle *t = ctx;

	t->pending = due_pending(txn, t->now);
	return IMI_OK;
}

/* The time of `tick`, `tick --now TIME` or `tick --now=TIME`; 0 when the
 * command line is anything else. */
static int tick_idle_time(int argc, char **argv, int64_t *now_r)
{
	const char *text = NULL;

	if (argc == 1) {
		*now_r = imi_now();
		return 1;
	}
	if (argc == 3 && strcmp(argv[1], "--now") == 0)
		text = argv[2];
	else if (argc == 2 && strncmp(argv[1], "--now=", 6) == 0)
		text = argv[1] + 6;
	return text != NULL && imi_time_parse(text, now_r) == IMI_OK;
}

int tick_idle(struct cli *cli, int argc, char **argv)
{
	struct tick_idle t = {0};
	char *error = NULL;
	int ret;

	if (!tick_idle_time(argc, argv, &t.now))
		return cli_mail_command(cli, argc, argv);
	/* What cmd_tick would say and answer when the home or the store
	 * cannot be opened. */
	if ((ret = cli_open(cli, 1)) != 0)
		return ret;
	if (store_transact(cli->store, tick_idle_txn, &t, &error) != IMI_OK || t.pending) {
		g_free(error);
		return cli_mail_command(cli, argc, argv);
	}
	printf("imi: 0 timer(s) run, 0 failed\n");
	return 0;
}

/*
 * cli.c: what every subcommand shares.
 */
#include "cli/cli.h"

#include <stdio.h>

int cli_exit_code(int status)
{
	switch (status) {
	case IMI_OK: return EX_OK;
	case IMI_NOTFOUND: return EX_NOINPUT;
	case IMI_EXISTS: return EX_CANTCREAT;
	case IMI_INVALID: return EX_DATAERR;
	case IMI_DENIED: return EX_NOPERM;
	case IMI_TEMPFAIL: return EX_TEMPFAIL;
	case IMI_TOOBIG: return EX_DATAERR;
	default: return EX_SOFTWARE;
	}
}

int cli_fail(int status, char *text)
{
	fprintf(stderr, "imi: %s\n", text != NULL ? text : imi_status_name(status));
	g_free(text);
	return cli_exit_code(status);
}

int cli_open(struct cli *cli, int need_store)
{
	char *error = NULL;
	int ret;

	if (cli->conf == NULL &&
	    (ret = conf_load(cli->home, &cli->conf, &error)) != IMI_OK) {
		cli_fail(ret, error);
		return EX_CONFIG;
	}
	if (need_store && cli->store == NULL &&
	    (ret = store_open(cli->conf->home, 0, &cli->store, &error)) != IMI_OK)
		return cli_fail(ret, error);
	return 0;
}

int cli_parse(GOptionContext *ctx, int *argc, char ***argv)
{
	GError *gerr = NULL;

	if (!g_option_context_parse(ctx, argc, argv, &gerr)) {
		fprintf(stderr, "imi: %s (see --help)\n", gerr->message);
		g_error_free(gerr);
		return EX_USAGE;
	}
	return 0;
}

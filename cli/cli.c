/*
 * cli.c: what every subcommand shares.
 */
#include "cli/cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

int cli_start(struct cli *cli, int argc, char **argv)
{
	int i;

	/* Arguments, names and replies are UTF-8: read them as such even
	 * when the environment names no locale. */
	if (setlocale(LC_ALL, "") == NULL || !g_get_charset(NULL))
		setlocale(LC_CTYPE, "C.UTF-8");
	cli->argc = argc;
	cli->argv = argv;
	cli->home = g_getenv("IMI_HOME");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
			cli->home = argv[++i];
		else if (strncmp(argv[i], "--home=", 7) == 0)
			cli->home = argv[i] + 7;
		else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			cli->verbose = 1;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return CLI_START_HELP;
		else {
			fprintf(stderr, "imi: unknown option %s\n", argv[i]);
			return CLI_START_BAD;
		}
	}
	if (cli->home == NULL || *cli->home == '\0')
		cli->home = "var";
	return i;
}

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

/* Argument vectors handed out by cli_parse, freed by cli_cleanup. */
static GPtrArray *cli_vectors;

int cli_parse(GOptionContext *ctx, int *argc, char ***argv)
{
	GError *gerr = NULL;
	char **strv = g_new0(char *, (gsize)*argc + 1);

	/* Arguments are UTF-8 whatever the locale (this host runs C.UTF-8 or
	 * plain C): parse_strv takes them as they are. */
	for (int i = 0; i < *argc; i++)
		strv[i] = g_strdup((*argv)[i]);
	if (cli_vectors == NULL)
		cli_vectors = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	if (!g_option_context_parse_strv(ctx, &strv, &gerr)) {
		fprintf(stderr, "imi: %s (see --help)\n", gerr->message);
		g_error_free(gerr);
		g_strfreev(strv);
		return EX_USAGE;
	}
	g_ptr_array_add(cli_vectors, strv);
	*argc = (int)g_strv_length(strv);
	*argv = strv;
	return 0;
}

void cli_cleanup(struct cli *cli)
{
	if (cli->store != NULL)
		store_close(&cli->store);
	conf_free(&cli->conf);
	if (cli_vectors != NULL)
		g_ptr_array_free(cli_vectors, TRUE);
	cli_vectors = NULL;
}

/*
 * cmd_tls_policy.c: imi tls-policy — print a Postfix TLS policy map.
 */
#include "cli/cli.h"

#include <stdio.h>

#include "mta-hooks/tls_policy.h"

int cmd_tls_policy(struct cli *cli, int argc, char **argv)
{
	char *level = NULL, *error = NULL;
	GOptionEntry entries[] = {
		{"level", 0, 0, G_OPTION_ARG_STRING, &level,
		 "Postfix TLS security level (default encrypt)", "LEVEL"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("- print a Postfix TLS policy map");
	GString *out = g_string_new(NULL);
	int ret;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Prints \"DOMAIN LEVEL\" for every mail domain of the authorities in the\n"
		"directory, for Postfix smtp_tls_policy_maps:\n"
		"    imi tls-policy > /etc/postfix/tls_policy && postmap /etc/postfix/tls_policy\n"
		"The default level is encrypt: mandatory TLS for every domain.  dane is\n"
		"not the default because Postfix falls back to opportunistic TLS (clear\n"
		"text possible) for domains without DNSSEC-signed TLSA records.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc != 1) {
		fprintf(stderr, "imi: tls-policy takes no arguments (see --help)\n");
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	ret = tls_policy_write(cli->store, level != NULL ? level : TLS_POLICY_DEFAULT_LEVEL, out,
			       &error);
	if (ret != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	fputs(out->str, stdout);
out:
	g_string_free(out, TRUE);
	g_free(level);
	return ret;
}

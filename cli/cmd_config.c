/*
 * cmd_config.c: imi config — the settings in force, with their meaning.
 */
#include "cli/cli.h"

#include <stdio.h>

int cmd_config(struct cli *cli, int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("- show the settings in force");
	const struct conf_setting *s;
	unsigned n;
	int ret;

	g_option_context_set_description(ctx,
		"Prints every setting of imi.conf(5) with its value from HOME/imi.conf\n"
		"or its default, and what it means.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		return ret;
	if ((ret = cli_open(cli, 0)) != 0)
		return ret;
	s = conf_settings(&n);
	printf("# home %s\n# data %s\n", cli->conf->home, cli->conf->datadir);
	for (unsigned i = 0; i < n; i++)
		printf("[%s] %s (default \"%s\"): %s\n", s[i].group, s[i].key,
		       s[i].default_value, s[i].meaning);
	return 0;
}

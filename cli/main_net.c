/*
 * main_net.c: imi-net, the program that runs imi send, imi fetch and imi
 * milter (cli/net_exec.c says why it is a program of its own).  It reads the same
 * command line as imi, global options included, and answers with the same
 * output and exit codes.
 */
#include "cli/cli.h"
#include "parser/dkim.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	cli_command_fn *run;
} net_commands[] = {
	{"send", cmd_send},
	{"fetch", cmd_fetch},
	{"milter", cmd_milter},
};

static void net_usage(FILE *out)
{
	fprintf(out,
		"Usage: imi-net [--home DIR] [-v] send|fetch|milter [ARGS...]\n"
		"\n"
		"The network side of imi: imi send, imi fetch and imi milter run\n"
		"this program with their command line.  See imi --help and imi(8).\n");
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	int i, ret;

	i = cli_start(&cli, argc, argv);
	if (i == CLI_START_HELP) {
		net_usage(stdout);
		return 0;
	}
	if (i == CLI_START_BAD || i >= argc) {
		net_usage(stderr);
		return EX_USAGE;
	}
	log_init("imi", cli.verbose);
	for (size_t c = 0; c < G_N_ELEMENTS(net_commands); c++) {
		if (strcmp(argv[i], net_commands[c].name) == 0) {
			ret = net_commands[c].run(&cli, argc - i, argv + i);
			cli_cleanup(&cli);
			dkim_keycache_clear();
			return ret;
		}
	}
	fprintf(stderr, "imi-net: '%s' is not one of its commands: run it as imi %s\n", argv[i],
		argv[i]);
	net_usage(stderr);
	return EX_USAGE;
}

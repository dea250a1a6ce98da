/*
 * net_exec.c: imi send, imi fetch and imi milter run imi-net.
 *
 * imi-net is the network side of the imi command: the same global options,
 * subcommands and exit codes, linked with libetpan (SMTP out, IMAP and POP3
 * in, and through it GnuTLS, SASL, nettle, gmp...) and libmilter, which no
 * other command needs.  A shared library that is linked is loaded and
 * bound at start-up by every process (Debian builds them with -z now): out
 * of imi, they no longer cost each imi tick or imi deliver about 7 M
 * instructions (libmilter 0.3 M of them).  As Postfix does with its
 * programs, the command a user types stays one: imi hands its whole
 * command line on, unchanged, and the process keeps its id (exec).
 *
 * Where: cli_libexec_paths (cli/mail_load.c), as for imi-mail.so.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define CLI_NET_PROGRAM "imi-net"

int cli_net_exec(struct cli *cli, int argc, char **argv)
{
	char *candidates[CLI_LIBEXEC_PATHS];
	char **args = g_new0(char *, (gsize)cli->argc + 1);
	GString *tried = g_string_new(NULL);

	cli_libexec_paths(CLI_NET_PROGRAM, candidates);
	for (int i = 1; i < cli->argc; i++)
		args[i] = cli->argv[i];
	fflush(NULL);
	for (unsigned c = 0; c < CLI_LIBEXEC_PATHS; c++) {
		if (candidates[c] == NULL)
			continue;
		args[0] = candidates[c];
		execv(candidates[c], args);
		g_string_append_printf(tried, "%s%s (%s)", tried->len > 0 ? ", " : "",
				       candidates[c], g_strerror(errno));
	}
	fprintf(stderr, "imi: %s needs the program %s, which cannot be run: tried %s; "
			"make install puts it in %s\n",
		argv[0], CLI_NET_PROGRAM, tried->str, IMI_LIBEXECDIR);
	g_string_free(tried, TRUE);
	for (unsigned c = 0; c < CLI_LIBEXEC_PATHS; c++)
		g_free(candidates[c]);
	g_free(args);
	return EX_UNAVAILABLE;
}

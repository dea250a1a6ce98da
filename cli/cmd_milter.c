/*
 * cmd_milter.c: imi milter — the milter daemon (runs in the foreground;
 * systemd or the operator's supervisor keeps it running).
 */
#include "cli/cli.h"

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <unistd.h>

#include "mta-hooks/milter.h"

int cmd_milter(struct cli *cli, int argc, char **argv)
{
	char *spec = NULL, *group = NULL, *mode_text = NULL, *error = NULL, *end;
	GOptionEntry entries[] = {
		{"socket", 0, 0, G_OPTION_ARG_STRING, &spec,
		 "libmilter socket: unix:PATH or inet:PORT@127.0.0.1 (default unix:HOME/milter.sock)", "SPEC"},
		{"socket-group", 0, 0, G_OPTION_ARG_STRING, &group,
		 "group allowed to connect to a unix socket (default postfix, when it exists)", "GROUP"},
		{"socket-mode", 0, 0, G_OPTION_ARG_STRING, &mode_text,
		 "permission bits of a unix socket (default 0660)", "OCTAL"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("- run the milter for Postfix or Sendmail");
	struct milter_socket socket = {0};
	char *default_spec = NULL;
	long mode = 0660;
	int ret;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Listens on SPEC for the MTA (Postfix smtpd_milters, Sendmail\n"
		"INPUT_MAIL_FILTER) and runs every message for a service address\n"
		"through the inbound path: 250 only after the store committed it,\n"
		"451 when it must be retried, 550 5.7.1 when authentication failed,\n"
		"550 5.1.1 at RCPT for an unknown address of the service domain.\n"
		"A message the store kept ends there: the MTA discards it (the\n"
		"client still gets 250) or drops only its service recipients\n"
		"([inbound] milter_pass_on in imi.conf(5)).\n"
		"Runs in the foreground; SIGTERM stops it.  Postfix's smtpd runs as\n"
		"user postfix: the socket gets group postfix and mode 0660, and every\n"
		"directory above it must let that user through (docs/postfix.md).\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc != 1) {
		fprintf(stderr, "imi: milter takes no arguments (see --help)\n");
		ret = EX_USAGE;
		goto out;
	}
	if (mode_text != NULL) {
		mode = strtol(mode_text, &end, 8);
		if (*mode_text == '\0' || *end != '\0' || mode < 0 || mode > 0777) {
			fprintf(stderr, "imi: --socket-mode %s: not an octal mode\n", mode_text);
			ret = EX_USAGE;
			goto out;
		}
	}
	if ((ret = cli_open(cli, 0)) != 0)
		goto out;
	/* No store at all is a setup error; a store that cannot be opened
	 * now (read-only or full file system) is not: the milter answers
	 * 451 until it can, so the MTA keeps every message meanwhile. */
	ret = store_open(cli->conf->home, 0, &cli->store, &error);
	if (ret == IMI_NOTFOUND) {
		ret = cli_fail(ret, error);
		goto out;
	}
	if (ret != IMI_OK) {
		log_warn(NULL, "milter: store not open yet, answering 451 until it is: %s", error);
		g_clear_pointer(&error, g_free);
	}
	if (spec == NULL)
		spec = default_spec = g_strdup_printf("unix:%s/milter.sock", cli->conf->home);
	socket.spec = spec;
	socket.group = group != NULL ? group : (getgrnam("postfix") != NULL ? "postfix" : NULL);
	socket.mode = (int)mode;
	/* The daemon has no result to print: its standard output goes to
	 * /dev/null, so that a library that prints there (libytnef about a
	 * damaged winmail.dat) writes into no log and no terminal.  What the
	 * milter has to say goes to syslog and standard error. */
	{
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

		fflush(stdout);
		if (devnull >= 0) {
			(void)dup2(devnull, STDOUT_FILENO);
			close(devnull);
		}
	}
	ret = milter_run(cli->store, cli->conf, &socket, &error);
	ret = ret == IMI_OK ? 0 : cli_fail(ret, error);
out:
	if (spec != default_spec)
		g_free(spec);
	g_free(default_spec);
	g_free(group);
	g_free(mode_text);
	return ret;
}

/*
 * main.c: global options and the table of subcommands.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	cli_command_fn *run;
	const char *summary;
};

static const struct command commands[] = {
	{"init", cmd_init, "create the home directory, keys and store"},
	{"config", cmd_config, "show the settings in force and their meaning"},
	{"authority", cmd_authority, "add|list|show|update|disable authorities"},
	{"user", cmd_user, "add|list|disable users of an authority"},
	{"directory", cmd_directory, "search|export the directory of authorities"},
	{"case", cmd_case, "list|show cases"},
	{"audit", cmd_audit, "print the audit log"},
	{"check", cmd_check, "verify that every index agrees with its database"},
	{"auth", cmd_auth, "check|sign: DKIM, SPF and alignment of one message"},
	{"parse", cmd_parse, "trim a reply and read its answers, without the store"},
	{"qset", cmd_qset, "load|list|show question sets"},
	{"deliver", cmd_deliver, "take one message on stdin (Postfix pipe, procmail)"},
	{"milter", cli_net_exec, "run the milter for Postfix or Sendmail"},
	{"send", cli_net_exec, "drain the outbox to the SMTP relay or the outbox Maildir"},
	{"tls-policy", cmd_tls_policy, "print a Postfix TLS policy map for the authority domains"},
	{"fetch", cli_net_exec, "take in the messages of an IMAP or POP3 mailbox or a Maildir"},
	{"request", cmd_request, "new: send an information request"},
	{"tick", cmd_tick, "run reminders and retention that are due"},
	{"outbox", cmd_outbox, "list|show messages waiting to be sent"},
	{"held", cmd_held, "list|show|release|discard the review queue"},
	{"alert", cmd_alert, "new|form: send an alert (check list, approval, broadcast)"},
	{"stats", cmd_stats, "requests per quarter and area, time to accept and answer"},
	{"subject-access", cmd_subject_access, "what is still held about a data subject"},
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: imi [--home DIR] [-v] COMMAND [ARGS...]\n"
		"\n"
		"Cross-border administrative cooperation over e-mail.\n"
		"State lives in one home directory: --home DIR, or $IMI_HOME, or ./var.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'imi COMMAND --help' describes a command; see also imi(8) and imi.conf(5).\n");
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	int i, ret;

	i = cli_start(&cli, argc, argv);
	if (i == CLI_START_HELP) {
		usage(stdout);
		return 0;
	}
	if (i == CLI_START_BAD || i >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	log_init("imi", cli.verbose);
	for (size_t c = 0; c < G_N_ELEMENTS(commands); c++) {
		if (strcmp(argv[i], commands[c].name) == 0) {
			ret = commands[c].run(&cli, argc - i, argv + i);
			cli_cleanup(&cli);
			return ret;
		}
	}
	fprintf(stderr, "imi: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return EX_USAGE;
}

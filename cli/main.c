/*
 * main.c: the imi program: global options and the table of subcommands.
 * Most commands are in the mail module (cli/mail_load.c says why); imi
 * send, fetch and milter are imi-net (cli/net_exec.c).
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
	{"init", cli_mail_command, "create the home directory, keys and store"},
	{"config", cli_mail_command, "show the settings in force and their meaning"},
	{"authority", cli_mail_command, "add|list|show|update|disable authorities"},
	{"user", cli_mail_command, "add|list|disable users of an authority"},
	{"directory", cli_mail_command, "search|export the directory of authorities"},
	{"case", cli_mail_command, "list|show cases"},
	{"audit", cli_mail_command, "print the audit log"},
	{"check", cli_mail_command, "verify that every index agrees with its database"},
	{"auth", cli_mail_command, "check|sign: DKIM, SPF and alignment of one message"},
	{"parse", cli_mail_command, "trim a reply and read its answers, without the store"},
	{"qset", cli_mail_command, "load|list|show question sets"},
	{"deliver", cli_mail_command, "take one message on stdin (Postfix pipe, procmail)"},
	{"milter", cli_net_exec, "run the milter for Postfix or Sendmail"},
	{"send", cli_net_exec, "drain the outbox to the SMTP relay or the outbox Maildir"},
	{"tls-policy", cli_mail_command, "print a Postfix TLS policy map for the authority domains"},
	{"fetch", cli_net_exec, "take in the messages of an IMAP or POP3 mailbox or a Maildir"},
	{"request", cli_mail_command, "new: send an information request"},
	{"tick", tick_idle, "run reminders and retention that are due"},
	{"outbox", cli_mail_command, "list|show messages waiting to be sent"},
	{"held", cli_mail_command, "list|show|release|discard the review queue"},
	{"alert", cli_mail_command, "new|form: send an alert (check list, approval, broadcast)"},
	{"stats", cli_mail_command, "requests per quarter and area, time to accept and answer"},
	{"subject-access", cli_mail_command, "what is still held about a data subject"},
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

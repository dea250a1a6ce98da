/*
 * mail_module.c: the entry of imi-mail.so (cli/mail_load.c says why imi
 * has a module): its table of commands, which the imi program looks up by
 * name, and what it frees when a command is done.  Linking the module
 * from this table pulls in exactly the objects its commands need.
 */
#include "cli/cli.h"
#include "parser/dkim.h"

const struct cli_command cli_mail_commands[] = {
	{"init", cmd_init},
	{"config", cmd_config},
	{"authority", cmd_authority},
	{"user", cmd_user},
	{"directory", cmd_directory},
	{"case", cmd_case},
	{"audit", cmd_audit},
	{"check", cmd_check},
	{"auth", cmd_auth},
	{"parse", cmd_parse},
	{"qset", cmd_qset},
	{"deliver", cmd_deliver},
	{"tls-policy", cmd_tls_policy},
	{"request", cmd_request},
	{"tick", cmd_tick},
	{"outbox", cmd_outbox},
	{"held", cmd_held},
	{"alert", cmd_alert},
	{"stats", cmd_stats},
	{"subject-access", cmd_subject_access},
	{NULL, NULL},
};

void cli_mail_cleanup(void)
{
	dkim_keycache_clear();
}

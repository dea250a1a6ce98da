/*
 * cli: the imi command.  main.c holds the table of subcommands; each
 * subcommand lives in cmd_<name>.c and parses its own options with
 * GOptionContext (which gives it --help).
 *
 * Exit codes follow sysexits(3): 0 done, 64 usage, 65 bad data, 66 no such
 * thing, 69 unavailable, 73 cannot create, 75 try again later, 77 denied,
 * 78 configuration.
 */
#ifndef IMI_CLI_H
#define IMI_CLI_H

#include <sysexits.h>

#include "conf/conf.h"
#include "store/store.h"
#include "util/util.h"

struct cli {
	const char *home;        /* --home, IMI_HOME, or ./var */
	int verbose;             /* -v: log to stderr too */
	struct imi_conf *conf;   /* loaded by cli_open */
	struct store *store;     /* opened by cli_open when asked for */
	int argc;                /* the whole command line, global options */
	char **argv;             /* included (handed on to imi-net) */
};

typedef int cli_command_fn(struct cli *cli, int argc, char **argv);

struct cli_command {
	const char *name;    /* as typed after the global options */
	cli_command_fn *run; /* gets argv from the command name on */
};

/* Where imi looks for a program or module of its own (imi-net,
 * imi-mail.so): next to the running imi, then IMI_LIBEXECDIR.  Fills
 * paths_r (an entry may be NULL; g_free each). */
#ifndef IMI_LIBEXECDIR
#define IMI_LIBEXECDIR "/usr/local/lib/imi"
#endif
#define CLI_LIBEXEC_PATHS 2
void cli_libexec_paths(const char *name, char *paths_r[CLI_LIBEXEC_PATHS]);

/* Runs the command argv[0] of the mail module imi-mail.so (cli/mail_load.c),
 * opening the module on first use; EX_UNAVAILABLE when it cannot be. */
int cli_mail_command(struct cli *cli, int argc, char **argv);
/* In the module (cli/mail_module.c): its commands, ended by a NULL name,
 * and what it frees after one. */
extern const struct cli_command cli_mail_commands[];
void cli_mail_cleanup(void);
/* imi tick in the imi program: answers itself when nothing is due, else
 * runs the module's cmd_tick (cli/tick_idle.c). */
int tick_idle(struct cli *cli, int argc, char **argv);

/* What imi and imi-net do first: the locale, then the global options
 * before the command name (--home DIR, -v).  Returns the index of the
 * command name in argv (argc when there is none), CLI_START_HELP for
 * -h/--help, CLI_START_BAD after printing the unknown option. */
#define CLI_START_HELP (-1)
#define CLI_START_BAD (-2)
int cli_start(struct cli *cli, int argc, char **argv);

/* Loads the configuration and, with need_store, opens the store.  On
 * failure prints the reason and returns the exit code (non-zero). */
int cli_open(struct cli *cli, int need_store);
/* The exit code for an internal status. */
int cli_exit_code(int status);
/* Prints "imi: TEXT" to stderr, frees text, returns cli_exit_code(status). */
int cli_fail(int status, char *text);
/* Parses options; on error prints it with the usage hint and returns
 * EX_USAGE, else 0.  --help prints and exits 0 (GOption's behaviour). */
int cli_parse(GOptionContext *ctx, int *argc, char ***argv);
/* Closes the store, frees the configuration and parsed arguments. */
void cli_cleanup(struct cli *cli);

/* Subcommands. */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_authority(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_directory(struct cli *cli, int argc, char **argv);
int cmd_case(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_auth(struct cli *cli, int argc, char **argv);
int cmd_parse(struct cli *cli, int argc, char **argv);
int cmd_parse_answers(struct cli *cli, int argc, char **argv); /* from cmd_parse, argv[0] "answers" */
int cmd_qset(struct cli *cli, int argc, char **argv);
int cmd_deliver(struct cli *cli, int argc, char **argv);
int cmd_milter(struct cli *cli, int argc, char **argv);    /* in imi-net */
int cmd_send(struct cli *cli, int argc, char **argv);      /* in imi-net */
int cmd_tls_policy(struct cli *cli, int argc, char **argv);
int cmd_fetch(struct cli *cli, int argc, char **argv);     /* in imi-net */
/* imi send, fetch and milter: the command line, unchanged, to imi-net
 * (the program linked with libetpan and libmilter, which they need and no
 * other command does), found next to the running imi, else in
 * IMI_LIBEXECDIR.  Returns only when it cannot be run (EX_UNAVAILABLE). */
int cli_net_exec(struct cli *cli, int argc, char **argv);
int cmd_request(struct cli *cli, int argc, char **argv);
int cmd_tick(struct cli *cli, int argc, char **argv);
int cmd_outbox(struct cli *cli, int argc, char **argv);
int cmd_held(struct cli *cli, int argc, char **argv);
int cmd_alert(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_subject_access(struct cli *cli, int argc, char **argv);

#endif

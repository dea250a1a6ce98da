/*
 * cmd_parse.c: imi parse — what the parser makes of one message, without
 * the store (no imi init needed).  Each sub-subcommand is one line of the
 * table below and a function taking the arguments after its name.
 */
#include "cli/cli.h"
#include "parser/message.h"
#include "parser/trim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct parse_command {
	const char *name;
	cli_command_fn *run;
	const char *summary;
};

static int parse_trim(struct cli *cli, int argc, char **argv);

static const struct parse_command parse_commands[] = {
	{"trim", parse_trim, "print the new text of a reply, quoted history and signature removed"},
	{"answers", cmd_parse_answers, "print the answers found in a reply to a question set, as JSON"},
};

/* Reads FILE ("-": standard input) whole, refusing more than max bytes. */
static int parse_read_input(const char *path, int64_t max, GByteArray **data_r, char **error_r)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	GByteArray *data;
	unsigned char buf[65536];
	size_t n;

	if (f == NULL)
		return imi_fail(error_r, errno == ENOENT ? IMI_NOTFOUND : IMI_INVALID,
				"cannot open %s: %s", path, g_strerror(errno));
	data = g_byte_array_new();
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (max > 0 && (int64_t)(data->len + n) > max) {
			if (f != stdin)
				fclose(f);
			g_byte_array_free(data, TRUE);
			return imi_fail(error_r, IMI_TOOBIG,
					"%s is larger than %lld bytes (max_message_bytes)", path,
					(long long)max);
		}
		g_byte_array_append(data, buf, (guint)n);
	}
	if (ferror(f)) {
		if (f != stdin)
			fclose(f);
		g_byte_array_free(data, TRUE);
		return imi_fail(error_r, IMI_INVALID, "cannot read %s", path);
	}
	if (f != stdin)
		fclose(f);
	*data_r = data;
	return IMI_OK;
}

/* The message in FILE, read within the configured bounds. */
static int parse_open_message(struct cli *cli, const char *path, struct parsed_message **msg_r)
{
	struct parse_limits limits;
	GByteArray *data = NULL;
	char *error = NULL;
	int ret, saved, devnull;

	if ((ret = cli_open(cli, 0)) != 0)
		return ret;
	limits.max_mime_depth = cli->conf->max_mime_depth;
	limits.max_mime_parts = cli->conf->max_mime_parts;
	limits.max_header_bytes = (size_t)cli->conf->max_header_bytes;
	if ((ret = parse_read_input(path, cli->conf->max_message_bytes, &data, &error)) != IMI_OK)
		return cli_fail(ret, error);
	/* libytnef, under parser/, prints on stdout about a damaged
	 * winmail.dat; our stdout is the result, so it points at /dev/null
	 * while the message is read. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	devnull = open("/dev/null", O_WRONLY);
	if (saved >= 0 && devnull >= 0)
		dup2(devnull, STDOUT_FILENO);
	ret = parsed_message_read((const char *)data->data, data->len, &limits, msg_r, &error);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (devnull >= 0)
		close(devnull);
	g_byte_array_free(data, TRUE);
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	return 0;
}

static int parse_trim(struct cli *cli, int argc, char **argv)
{
	gboolean quotes_only = FALSE;
	GOptionEntry entries[] = {
		{"quotes-only", 'q', 0, G_OPTION_ARG_NONE, &quotes_only,
		 "remove only the quoted history, keep the signature", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("FILE - print the new text of a reply");
	struct parsed_message *msg = NULL;
	char *text = NULL, *error = NULL;
	int ret;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"FILE is an RFC 5322 message or a bare body (plain text or HTML); '-' reads\n"
		"standard input.  Prints the text the sender wrote, as UTF-8: quoted history\n"
		"(\"> \" quotes, \"On ... wrote:\" in any EU language, Outlook headers) and the\n"
		"signature removed.  Needs no store: imi init is not required.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		return ret;
	if (argc != 2) {
		fprintf(stderr, "imi: parse trim takes one FILE (see --help)\n");
		return EX_USAGE;
	}
	if ((ret = parse_open_message(cli, argv[1], &msg)) != 0)
		return ret;
	ret = reply_trim_message(msg, quotes_only ? REPLY_TRIM_QUOTES_ONLY : REPLY_TRIM_FULL,
				 &text, &error);
	parsed_message_free(&msg);
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	if (*text != '\0')
		printf("%s\n", text);
	g_free(text);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

static void parse_usage(FILE *out)
{
	fprintf(out, "Usage: imi parse COMMAND [OPTIONS] FILE\n\nCommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(parse_commands); i++)
		fprintf(out, "  %-10s %s\n", parse_commands[i].name, parse_commands[i].summary);
	fprintf(out, "\n'imi parse COMMAND --help' describes a command.\n");
}

int cmd_parse(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		parse_usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		parse_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(parse_commands); i++)
		if (strcmp(argv[1], parse_commands[i].name) == 0)
			return parse_commands[i].run(cli, argc - 1, argv + 1);
	fprintf(stderr, "imi: unknown parse command '%s'\n", argv[1]);
	parse_usage(stderr);
	return EX_USAGE;
}

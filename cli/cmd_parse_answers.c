/*
 * cmd_parse_answers.c: imi parse answers --qset ID FILE — the answers in a
 * reply, as JSON.
 *
 * Called by the "parse" command with argv[0] = "answers".  FILE is an RFC
 * 5322 message or a bare body ("-": standard input).  A message is read by
 * parser/message (every charset and transfer encoding, HTML-only bodies,
 * winmail.dat) and its attachments, the HTML's own resources (a signature
 * logo) left out, are counted for attachment questions (--attachments
 * overrides).  The text is then trimmed (parser/trim): the
 * trimmed text is the reply's new text, the whole text the full text, so
 * that answers written under quoted questions are found as well
 * (parser/answers.h).
 *
 * The set ID is read from the store when the home has one and holds it
 * (imi qset load), else from the data directory.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parser/answers.h"
#include "parser/message.h"
#include "parser/trim.h"
#include "templates/catalog.h"
#include "templates/qset_store.h"

/* Reads FILE or stdin, refusing more than max bytes. */
static int read_input(const char *file, int64_t max, char **text_r,
		      size_t *len_r, char **error_r)
{
	GString *buf = g_string_new(NULL);
	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	char chunk[65536];
	size_t n;

	if (in == NULL) {
		g_string_free(buf, TRUE);
		return imi_fail(error_r, IMI_NOTFOUND, "cannot open %s: %s", file,
				g_strerror(errno));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		g_string_append_len(buf, chunk, (gssize)n);
		if ((int64_t)buf->len > max) {
			if (in != stdin)
				fclose(in);
			g_string_free(buf, TRUE);
			return imi_fail(error_r, IMI_TOOBIG,
					"%s is over max_message_bytes (%lld)", file,
					(long long)max);
		}
	}
	if (in != stdin)
		fclose(in);
	*len_r = buf->len;
	*text_r = g_string_free(buf, FALSE);
	return IMI_OK;
}

/* Whether text starts like a message: a block of header fields, one of
 * them a field every message has.  A bare body such as "Q1: yes" has
 * lines that look like fields, but none of these. */
static int looks_like_message(const char *text)
{
	static const char *const fields[] = {
		"from", "to", "subject", "date", "message-id", "mime-version",
		"received", "return-path", "content-type", "delivered-to",
		"reply-to", "cc",
	};
	const char *line = text;
	int known = 0;

	for (unsigned n = 0; *line != '\0' && *line != '\n' && n < 1000; n++) {
		const char *end = strchr(line, '\n');
		size_t i = 0;

		if (*line == '\r' && line[1] == '\n')
			break;
		if (*line != ' ' && *line != '\t') {
			while (g_ascii_isalnum(line[i]) || line[i] == '-')
				i++;
			if (i == 0 || line[i] != ':')
				return 0;
			for (unsigned f = 0; f < G_N_ELEMENTS(fields); f++)
				if (strlen(fields[f]) == i &&
				    g_ascii_strncasecmp(line, fields[f], i) == 0)
					known = 1;
		}
		if (end == NULL)
			break;
		line = end + 1;
	}
	return known;
}

/* The set: the store first (when the home has one), then the files. */
static int load_qset(struct cli *cli, const char *id, struct qset **qset_r,
		     char **error_r)
{
	struct store *store = NULL;
	char *path;
	int ret;

	if (!qset_id_valid(id))
		return imi_fail(error_r, IMI_INVALID,
				"'%s' is not a question set id ([a-z0-9-])", id);
	ret = store_open(cli->conf->home, 0, &store, error_r);
	if (ret == IMI_OK) {
		struct store_txn *txn = NULL;

		ret = store_txn_begin(store, &txn, error_r);
		if (ret == IMI_OK) {
			ret = qset_store_get(txn, id, qset_r, error_r);
			store_txn_abort(&txn);
		}
		store_close(&store);
		if (ret != IMI_NOTFOUND)
			return ret;
	} else if (ret != IMI_NOTFOUND) {
		return ret;
	}
	g_free(*error_r);
	*error_r = NULL;
	path = qset_file_path(cli->conf, id);
	if (path == NULL)
		return imi_fail(error_r, IMI_NOTFOUND,
				"no question set %s: not in the store, no %s.ini under %s",
				id, id, cli->conf->datadir);
	ret = qset_load_file(path, qset_r, error_r);
	g_free(path);
	return ret;
}

int cmd_parse_answers(struct cli *cli, int argc, char **argv)
{
	char *qset_id_opt = NULL, *lang = NULL, *error = NULL, *text = NULL,
	     *body = NULL, *new_text = NULL, *dir, *json;
	int attachments = -1, ret;
	struct parsed_message *msg = NULL;
	GOptionEntry entries[] = {
		{"qset", 0, 0, G_OPTION_ARG_STRING, &qset_id_opt,
		 "question set of the case (required)", "ID"},
		{"lang", 0, 0, G_OPTION_ARG_STRING, &lang,
		 "language of the replier: settles words that differ by language", "LL"},
		{"attachments", 0, 0, G_OPTION_ARG_INT, &attachments,
		 "attachments to count (default: those of the message)", "N"},
		{NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	GOptionContext *ctx = g_option_context_new("FILE - the answers in a reply, as JSON");
	struct qset *qset = NULL;
	struct catalog *catalog = NULL;
	struct answers *answers = NULL;
	size_t len;
	JsonNode *node;
	JsonGenerator *gen;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"FILE is a message or a bare body ('-': standard input).  Answers are\n"
		"found by code (\"Q3: yes\", \"3) no\") and under quoted questions, in any\n"
		"of the 24 languages.  Prints {\"qset\",\"complete\",\"answers\",\"missing\",\n"
		"\"problems\"}; exit 0 whenever the reply could be read.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (qset_id_opt == NULL || argc != 2) {
		fprintf(stderr, "imi: usage: imi parse answers --qset ID FILE\n");
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 0)) != 0)
		goto out;
	if ((ret = load_qset(cli, qset_id_opt, &qset, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	dir = qset_catalog_dir(cli->conf);
	ret = catalog_open(dir, &catalog, &error);
	g_free(dir);
	if (ret != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	if ((ret = read_input(argv[1], cli->conf->max_message_bytes, &text, &len,
			      &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	if (looks_like_message(text)) {
		struct parse_limits limits = {
			.max_mime_depth = cli->conf->max_mime_depth,
			.max_mime_parts = cli->conf->max_mime_parts,
			.max_header_bytes = (size_t)cli->conf->max_header_bytes,
		};

		if ((ret = parsed_message_read(text, len, &limits, &msg, &error)) != IMI_OK ||
		    (ret = reply_trim_message(msg, REPLY_TRIM_FULL, &new_text, &error)) != IMI_OK) {
			ret = cli_fail(ret, error);
			goto out;
		}
		body = g_strdup(parsed_message_text(msg, NULL));
		if (attachments < 0) {
			/* Documents only: a signature logo answers nothing. */
			attachments = 0;
			for (unsigned i = 0; i < parsed_message_attachment_count(msg); i++)
				if (!parsed_message_attachment(msg, i)->html_resource)
					attachments++;
		}
	} else {
		body = parse_text_to_utf8(text, len, NULL);
		if ((ret = reply_trim(body, strlen(body), strlen(body), 0, REPLY_TRIM_FULL,
				      &new_text, &error)) != IMI_OK) {
			ret = cli_fail(ret, error);
			goto out;
		}
	}
	{
		struct answers_input in = {
			.qset = qset, .catalog = catalog, .new_text = new_text,
			.full_text = body, .language = lang,
			.attachments = (unsigned)MAX(attachments, 0),
		};
		if ((ret = answers_extract(&in, &answers, &error)) != IMI_OK) {
			ret = cli_fail(ret, error);
			goto out;
		}
	}
	node = answers_to_json(answers);
	json_object_set_int_member(json_node_get_object(node), "attachments",
				   MAX(attachments, 0));
	gen = json_generator_new();
	json_generator_set_pretty(gen, TRUE);
	json_generator_set_root(gen, node);
	json = json_generator_to_data(gen, NULL);
	printf("%s\n", json);
	g_free(json);
	g_object_unref(gen);
	json_node_unref(node);
	ret = 0;
out:
	answers_free(&answers);
	parsed_message_free(&msg);
	catalog_close(&catalog);
	qset_free(&qset);
	g_free(text);
	g_free(body);
	g_free(new_text);
	g_free(qset_id_opt);
	g_free(lang);
	return ret;
}

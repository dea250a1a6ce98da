/*
 * cmd_qset.c: imi qset load FILE | list | show ID — question sets.
 *
 *   load FILE   validates the set and stores its source text in the store
 *               (STORE_QSETS), so that cases read the version they were
 *               sent with; a changed text needs a higher Version.
 *   list        the stored sets, then the sets shipped in the data
 *               directory that are not stored.
 *   show ID     the questions of a set (stored, else shipped) in a
 *               language (--lang, default English).
 *   render ID   the information request e-mail of a set as imi sends it
 *               (templates/render.h), in --lang, for --case, to --to with
 *               --reply-to; printed with LF line ends.  Tests and the
 *               reply fixtures (tools/make-reply-fixtures) start from it.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "templates/qset_store.h"
#include "templates/render.h"

static int qset_put_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	const struct qset *qset = ctx;
	int ret = qset_store_put(txn, qset, error_r);

	if (ret == IMI_OK) {
		char *detail = g_strdup_printf("version %d", qset_version(qset));
		ret = store_audit(txn, "cli", NULL, "qset.load", detail, error_r);
		g_free(detail);
	}
	return ret;
}

static int qset_cmd_load(struct cli *cli, const char *file)
{
	struct qset *qset = NULL;
	char *error = NULL;
	int ret;

	if ((ret = qset_load_file(file, &qset, &error)) != IMI_OK)
		return cli_fail(ret, error);
	if ((ret = cli_open(cli, 1)) != 0) {
		qset_free(&qset);
		return ret;
	}
	ret = store_transact(cli->store, qset_put_txn, qset, &error);
	if (ret != IMI_OK) {
		qset_free(&qset);
		return cli_fail(ret, error);
	}
	printf("stored %s version %d (%u questions)\n", qset_id(qset),
	       qset_version(qset), qset_count(qset));
	qset_free(&qset);
	return 0;
}

struct list_ctx {
	GHashTable *seen; /* ids printed */
};

static int qset_list_one(const void *key, size_t key_len, const void *value,
			 size_t len, void *ctx)
{
	struct list_ctx *lc = ctx;
	JsonObject *obj = NULL;
	struct qset *qset = NULL;
	char *error = NULL, *id = g_strndup(key, key_len);
	const char *source;

	if (store_record_parse(value, len, &obj, &error) != IMI_OK ||
	    (source = json_object_get_string_member(obj, "source")) == NULL ||
	    qset_load_data(source, strlen(source), id, &qset, &error) != IMI_OK) {
		printf("%-28s (unreadable: %s)\n", id, error != NULL ? error : "no source");
	} else {
		printf("%-28s v%-3d %-8s %-30s stored   %s\n", id, qset_version(qset),
		       qset_kind_name(qset_kind(qset)), qset_area(qset),
		       qset_title(qset, "en"));
	}
	g_hash_table_add(lc->seen, id);
	if (obj != NULL)
		json_object_unref(obj);
	qset_free(&qset);
	g_free(error);
	return 0;
}

static int qset_list_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return store_each(txn, STORE_QSETS, NULL, 0, qset_list_one, ctx, error_r);
}

static int qset_cmd_list(struct cli *cli)
{
	struct list_ctx lc = {.seen = g_hash_table_new_full(g_str_hash, g_str_equal,
							    g_free, NULL)};
	char *error = NULL, *dir, *probe;
	GDir *d;
	int ret;

	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	if ((ret = store_transact(cli->store, qset_list_txn, &lc, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	/* Shipped sets not stored. */
	probe = g_build_filename(cli->conf->datadir, "templates", "sets", NULL);
	dir = g_file_test(probe, G_FILE_TEST_IS_DIR)
		      ? g_strdup(probe)
		      : g_build_filename(cli->conf->datadir, "sets", NULL);
	g_free(probe);
	d = g_dir_open(dir, 0, NULL);
	for (const char *name; d != NULL && (name = g_dir_read_name(d)) != NULL;) {
		struct qset *qset = NULL;
		char *path, *id;

		if (!g_str_has_suffix(name, ".ini"))
			continue;
		id = g_strndup(name, strlen(name) - 4);
		if (!g_hash_table_contains(lc.seen, id)) {
			path = g_build_filename(dir, name, NULL);
			if (qset_load_file(path, &qset, &error) == IMI_OK)
				printf("%-28s v%-3d %-8s %-30s shipped  %s\n", id,
				       qset_version(qset), qset_kind_name(qset_kind(qset)),
				       qset_area(qset), qset_title(qset, "en"));
			else
				printf("%-28s (invalid: %s)\n", id, error);
			g_free(error);
			error = NULL;
			qset_free(&qset);
			g_free(path);
		}
		g_free(id);
	}
	if (d != NULL)
		g_dir_close(d);
	g_free(dir);
	ret = 0;
out:
	g_hash_table_destroy(lc.seen);
	return ret;
}

struct show_ctx {
	const char *id;
	struct qset *qset;
};

static int qset_show_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct show_ctx *sc = ctx;

	return qset_store_get(txn, sc->id, &sc->qset, error_r);
}

/* The set ID: stored, else shipped.  Without need_store a home without a
 * store reads the shipped set.  Returns an exit code (0: *qset_r set). */
static int qset_cmd_get(struct cli *cli, const char *id, int need_store,
			struct qset **qset_r)
{
	struct show_ctx sc = {.id = id};
	char *error = NULL, *path;
	int ret;

	if (!qset_id_valid(id))
		return cli_fail(IMI_INVALID,
				g_strdup_printf("'%s' is not a question set id ([a-z0-9-])", id));
	if ((ret = cli_open(cli, need_store)) != 0)
		return ret;
	if (need_store) {
		ret = store_transact(cli->store, qset_show_txn, &sc, &error);
	} else {
		struct store *store = NULL;

		ret = store_open(cli->conf->home, 0, &store, &error);
		if (ret == IMI_OK) {
			ret = store_transact(store, qset_show_txn, &sc, &error);
			store_close(&store);
		}
	}
	if (ret == IMI_NOTFOUND) {
		g_free(error);
		error = NULL;
		path = qset_file_path(cli->conf, id);
		if (path == NULL)
			return cli_fail(IMI_NOTFOUND,
					g_strdup_printf("no question set %s", id));
		ret = qset_load_file(path, &sc.qset, &error);
		g_free(path);
	}
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	*qset_r = sc.qset;
	return 0;
}

struct render_opts {
	const char *lang, *case_id, *to, *reply_to, *authority, *country, *deadline;
	int64_t date;
};

static int qset_cmd_render(struct cli *cli, const char *id, const struct render_opts *o)
{
	static const char *const actions[] = {"accept", "withdraw", "forward", NULL};
	struct qset *qset = NULL;
	struct catalog *catalog = NULL;
	char *error = NULL, *dir, *from, *msgid, *message = NULL;
	size_t len = 0;
	int ret;

	if (o->case_id == NULL || o->to == NULL) {
		fprintf(stderr, "imi: qset render needs --case and --to (see --help)\n");
		return EX_USAGE;
	}
	if ((ret = qset_cmd_get(cli, id, 0, &qset)) != 0)
		return ret;
	dir = qset_catalog_dir(cli->conf);
	ret = catalog_open(dir, &catalog, &error);
	g_free(dir);
	if (ret != IMI_OK) {
		qset_free(&qset);
		return cli_fail(ret, error);
	}
	from = g_strdup_printf("%s@%s", cli->conf->service_local, cli->conf->service_domain);
	msgid = g_strdup_printf("req.%s.1@%s", o->case_id, cli->conf->service_domain);
	{
		struct render_request in = {
			.env = {.from_address = from, .from_name = cli->conf->service_name,
				.to_address = o->to, .reply_to = o->reply_to,
				.message_id = msgid, .service_domain = cli->conf->service_domain,
				.date = o->date},
			.qset = qset, .catalog = catalog, .language = o->lang,
			.case_id = o->case_id, .authority = o->authority,
			.country = o->country, .deadline = o->deadline, .actions = actions,
		};
		ret = render_request(&in, &message, &len, &error);
	}
	g_free(from);
	g_free(msgid);
	catalog_close(&catalog);
	qset_free(&qset);
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	fwrite(message, 1, len, stdout);
	g_free(message);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

static int qset_cmd_show(struct cli *cli, const char *id, const char *lang)
{
	struct show_ctx sc = {.id = id};
	int ret;

	if ((ret = qset_cmd_get(cli, id, 1, &sc.qset)) != 0)
		return ret;
	printf("%s version %d (%s, %s)\n%s\n\n", qset_id(sc.qset),
	       qset_version(sc.qset), qset_kind_name(qset_kind(sc.qset)),
	       qset_area(sc.qset), qset_title(sc.qset, lang));
	for (unsigned i = 0; i < qset_count(sc.qset); i++) {
		const struct qset_question *q = qset_question(sc.qset, i);
		const char *help = qset_question_help(q, lang);

		printf("%s. %s\n    [%s%s%s]\n", qset_question_code(q),
		       qset_question_text(q, lang), qset_type_name(qset_question_type(q)),
		       qset_question_required(q) ? ", required" : "",
		       qset_question_personal(q) ? ", personal" : "");
		if (help != NULL)
			printf("    (%s)\n", help);
		for (unsigned c = 0; c < qset_choice_count(q); c++)
			printf("    - %s: %s\n", qset_choice_code(q, c),
			       qset_choice_label(q, c, lang));
	}
	qset_free(&sc.qset);
	return 0;
}

int cmd_qset(struct cli *cli, int argc, char **argv)
{
	char *lang = NULL, *case_id = NULL, *to = NULL, *reply_to = NULL,
	     *authority = NULL, *country = NULL, *deadline = NULL;
	gint64 date = 0;
	GOptionEntry entries[] = {
		{"lang", 0, 0, G_OPTION_ARG_STRING, &lang,
		 "language of the texts shown (default en)", "LL"},
		{"case", 0, 0, G_OPTION_ARG_STRING, &case_id,
		 "render: the case id (IMI-2026-000001)", "ID"},
		{"to", 0, 0, G_OPTION_ARG_STRING, &to, "render: the recipient", "ADDR"},
		{"reply-to", 0, 0, G_OPTION_ARG_STRING, &reply_to,
		 "render: the reply address", "ADDR"},
		{"authority", 0, 0, G_OPTION_ARG_STRING, &authority,
		 "render: the requesting authority", "NAME"},
		{"country", 0, 0, G_OPTION_ARG_STRING, &country,
		 "render: its country", "CC"},
		{"deadline", 0, 0, G_OPTION_ARG_STRING, &deadline,
		 "render: the deadline", "YYYY-MM-DD"},
		{"date", 0, 0, G_OPTION_ARG_INT64, &date,
		 "render: the Date: header, seconds since 1970 (default now)", "SECS"},
		{NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	GOptionContext *ctx = g_option_context_new(
		"load FILE | list | show ID | render ID - question sets");
	int ret;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"load FILE  validate a question set and store it (a changed text\n"
		"           needs a higher Version)\n"
		"list       stored sets, then shipped sets not stored\n"
		"show ID    the questions of a set (--lang LL)\n"
		"render ID  the request e-mail of a set (--lang LL --case ID --to ADDR\n"
		"           [--reply-to ADDR --authority NAME --country CC --deadline D])\n"
		"The file format is described in docs/templates.md.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc == 3 && strcmp(argv[1], "load") == 0)
		ret = qset_cmd_load(cli, argv[2]);
	else if (argc == 2 && strcmp(argv[1], "list") == 0)
		ret = qset_cmd_list(cli);
	else if (argc == 3 && strcmp(argv[1], "show") == 0)
		ret = qset_cmd_show(cli, argv[2], lang != NULL ? lang : "en");
	else if (argc == 3 && strcmp(argv[1], "render") == 0) {
		struct render_opts o = {
			.lang = lang != NULL ? lang : "en", .case_id = case_id, .to = to,
			.reply_to = reply_to, .authority = authority, .country = country,
			.deadline = deadline, .date = date,
		};
		ret = qset_cmd_render(cli, argv[2], &o);
	}
	else {
		fprintf(stderr, "imi: usage: imi qset load FILE | list | show ID | render ID (see --help)\n");
		ret = EX_USAGE;
	}
out:
	g_free(lang);
	g_free(case_id);
	g_free(to);
	g_free(reply_to);
	g_free(authority);
	g_free(country);
	g_free(deadline);
	return ret;
}

/*
 * cmd_audit.c: imi audit, imi check, imi case list|show.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

struct audit_query {
	const char *case_id;
	int64_t since;
	unsigned count;
};

static int audit_step(const void *key, size_t len, const void *value,
		      size_t vlen, void *ctx)
{
	struct audit_query *q = ctx;
	JsonObject *obj;
	char when[32];

	if (store_record_parse(value, vlen, &obj, NULL) != IMI_OK)
		return 0;
	if ((q->case_id == NULL ||
	     strcmp(q->case_id, json_object_get_string_member_with_default(obj, "case", "")) == 0) &&
	    json_object_get_int_member_with_default(obj, "time", 0) >= q->since) {
		printf("%" G_GUINT64_FORMAT "\t%s\t%s\t%s\t%s\t%s\n",
		       store_key_u64_get(key),
		       imi_time_format(json_object_get_int_member_with_default(obj, "time", 0),
				       when, sizeof(when)),
		       json_object_get_string_member_with_default(obj, "actor", ""),
		       json_object_get_string_member_with_default(obj, "case", ""),
		       json_object_get_string_member_with_default(obj, "event", ""),
		       json_object_get_string_member_with_default(obj, "detail", ""));
		q->count++;
	}
	json_object_unref(obj);
	return 0;
}

static int audit_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	((struct audit_query *)ctx)->count = 0;
	return store_each(txn, STORE_AUDIT, NULL, 0, audit_step, ctx, error_r);
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	char *case_id = NULL, *since = NULL, *error = NULL;
	GOptionEntry e[] = {
		{"case", 0, 0, G_OPTION_ARG_STRING, &case_id, "only this case", "ID"},
		{"since", 0, 0, G_OPTION_ARG_STRING, &since, "only entries from this time on", "ISO-8601"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	struct audit_query q = {0};
	GOptionContext *ctx = g_option_context_new("- print the audit log");
	int ret;

	g_option_context_set_description(ctx,
		"One line per entry: number, time (UTC), actor, case, event, detail.\n"
		"The log is append-only and holds no personal data.\n");
	g_option_context_add_main_entries(ctx, e, NULL);
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (since != NULL && imi_time_parse(since, &q.since) != IMI_OK) {
		ret = cli_fail(IMI_INVALID, g_strdup_printf("--since %s: not an ISO-8601 time", since));
		goto out;
	}
	q.case_id = case_id;
	if ((ret = cli_open(cli, 1)) == 0 &&
	    (ret = store_transact(cli->store, audit_txn, &q, &error)) != IMI_OK)
		ret = cli_fail(ret, error);
out:
	g_free(case_id);
	g_free(since);
	return ret;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("- verify the store's indexes");
	GString *report;
	char *error = NULL;
	int ret;

	g_option_context_set_description(ctx,
		"Checks that every index agrees with its primary database: the e-mail\n"
		"index with the users, the Message-ID index with the messages, the\n"
		"due-time index with the cases.  Exit 0 when all agree.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0 || (ret = cli_open(cli, 1)) != 0)
		return ret;
	report = g_string_new(NULL);
	ret = store_check(cli->store, report, &error);
	fputs(report->str, stdout);
	g_string_free(report, TRUE);
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	printf("store is consistent\n");
	return 0;
}

/* Cases: the fields every case has; sealed (personal) members are shown as
 * such, never opened here. */
struct case_query {
	const char *id;
	unsigned count;
};

static void case_print_member(JsonObject *obj, const char *name, JsonNode *node,
			      gpointer data)
{
	if (strcmp(name, "v") == 0)
		return;
	if (g_str_has_prefix(name, "sealed")) {
		printf("  %s: (personal data, encrypted)\n", name);
		return;
	}
	if (JSON_NODE_HOLDS_VALUE(node)) {
		if (json_node_get_value_type(node) == G_TYPE_STRING)
			printf("  %s: %s\n", name, json_node_get_string(node));
		else if (json_node_get_value_type(node) == G_TYPE_BOOLEAN)
			printf("  %s: %s\n", name, json_node_get_boolean(node) ? "yes" : "no");
		else
			printf("  %s: %" G_GINT64_FORMAT "\n", name, json_node_get_int(node));
	} else {
		char *text = json_to_string(node, FALSE);
		printf("  %s: %s\n", name, text);
		g_free(text);
	}
}

static int case_step(const void *key, size_t len, const void *value,
		     size_t vlen, void *ctx)
{
	struct case_query *q = ctx;
	JsonObject *obj;

	if (store_record_parse(value, vlen, &obj, NULL) != IMI_OK)
		return 0;
	printf("%.*s\t%s\t%s\n", (int)len, (const char *)key,
	       json_object_get_string_member_with_default(obj, "kind", ""),
	       json_object_get_string_member_with_default(obj, "state", ""));
	q->count++;
	json_object_unref(obj);
	return 0;
}

static int case_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct case_query *q = ctx;
	JsonObject *obj;
	int ret;

	q->count = 0;
	if (q->id == NULL)
		return store_each(txn, STORE_CASES, NULL, 0, case_step, q, error_r);
	ret = store_record_get(txn, STORE_CASES, q->id, 0, &obj, error_r);
	if (ret == IMI_NOTFOUND)
		return imi_fail(error_r, IMI_NOTFOUND, "no case %s", q->id);
	if (ret != IMI_OK)
		return ret;
	printf("%s\n", q->id);
	json_object_foreach_member(obj, case_print_member, NULL);
	json_object_unref(obj);
	return IMI_OK;
}

int cmd_case(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct case_query q = {0};
	GOptionContext *ctx;
	char *error = NULL;
	int ret;

	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0) {
		if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
			printf("Usage: imi case list\n       imi case show ID\n");
			return 0;
		}
		fprintf(stderr, "imi: case list|show (see imi case --help)\n");
		return EX_USAGE;
	}
	ctx = g_option_context_new(strcmp(sub, "show") == 0
		? "ID - show a case (personal data stays encrypted)"
		: "- list cases: id, kind, state");
	argc--, argv++;
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		return ret;
	if (strcmp(sub, "show") == 0) {
		if (argc < 2) {
			fprintf(stderr, "imi: which case? imi case show ID\n");
			return EX_USAGE;
		}
		q.id = argv[1];
	}
	if ((ret = cli_open(cli, 1)) == 0 &&
	    (ret = store_transact(cli->store, case_txn, &q, &error)) != IMI_OK)
		ret = cli_fail(ret, error);
	return ret;
}

/*
 * cmd_outbox.c: imi outbox list|show SEQ — what is waiting to be sent.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct outbox_cmd {
	uint64_t seq;
	unsigned count;
};

static int outbox_list_item(const struct outbox_item *item, void *ctx)
{
	struct outbox_cmd *oc = ctx;
	char *to = g_strjoinv(",", item->to);

	printf("%" G_GUINT64_FORMAT "\t%s\t%s\t%s\t%s\n", item->seq, item->case_id,
	       item->state, to, item->message_id);
	g_free(to);
	oc->count++;
	return 0;
}

static int outbox_list_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	((struct outbox_cmd *)ctx)->count = 0;
	return outbox_each_due(txn, INT64_MAX, outbox_list_item, ctx, error_r);
}

static int outbox_show_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct outbox_cmd *oc = ctx;
	struct outbox_item *item = NULL;
	void *raw = NULL;
	size_t len = 0;
	int ret = outbox_read(txn, oc->seq, &item, &raw, &len, error_r);

	if (ret == IMI_OK) {
		fwrite(raw, 1, len, stdout);
		outbox_item_free(&item);
		g_free(raw);
	}
	return ret;
}

int cmd_outbox(struct cli *cli, int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("list | show SEQ");
	struct outbox_cmd oc = {0};
	char *error = NULL, *end;
	int ret;

	g_option_context_set_description(ctx,
		"list: one line per queued or failed message: sequence, case, state,\n"
		"      recipients, Message-ID.\n"
		"show: the raw message of one item, as it will be sent.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		return ret;
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		if ((ret = cli_open(cli, 1)) != 0)
			return ret;
		ret = store_transact(cli->store, outbox_list_txn, &oc, &error);
		return ret == IMI_OK ? 0 : cli_fail(ret, error);
	}
	if (argc >= 3 && strcmp(argv[1], "show") == 0) {
		oc.seq = g_ascii_strtoull(argv[2], &end, 10);
		if (*end != '\0' || oc.seq == 0)
			return cli_fail(IMI_INVALID, g_strdup_printf("'%s' is not an outbox sequence number", argv[2]));
		if ((ret = cli_open(cli, 1)) != 0)
			return ret;
		ret = store_transact(cli->store, outbox_show_txn, &oc, &error);
		return ret == IMI_OK ? 0 : cli_fail(ret, error);
	}
	fprintf(stderr, "Usage: imi outbox list | show SEQ\n");
	return EX_USAGE;
}

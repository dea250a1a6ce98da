/*
 * cmd_held.c: imi held list|show|release|discard — the review queue.
 *
 * Messages whose sender could not be authenticated after the MTA accepted
 * them (imi deliver, imi fetch) are kept in STORE_MESSAGES with state
 * "held", sealed with a key of their own ("held:N").  An operator looks at
 * them and either releases one (it runs through the inbound path again,
 * e.g. after the authority's DKIM record or registration was fixed: if it
 * still fails it is held again) or discards it (its key is destroyed, so
 * the sealed copy is unreadable wherever it lies).
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "mta-hooks/held.h"

struct held_cmd {
	uint64_t seq;
	void *raw;
	size_t len;
};

static int held_list_one(struct store_txn *txn, const struct held_info *h, void *ctx)
{
	char when[32];

	printf("%" G_GUINT64_FORMAT "\t%s\t%s\t%s\n", h->seq,
	       imi_time_format(h->received, when, sizeof(when)), h->message_id, h->reason);
	return 0;
}

static int held_list_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return held_each(txn, held_list_one, ctx, error_r);
}

static int held_show_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct held_cmd *h = ctx;

	g_free(h->raw);
	h->raw = NULL;
	return held_read(txn, h->seq, NULL, &h->raw, &h->len, error_r);
}

static int held_discard_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return held_discard(txn, ((struct held_cmd *)ctx)->seq, "operator", error_r);
}

int cmd_held(struct cli *cli, int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("list | show N | release N | discard N");
	struct held_cmd h = {0};
	const char *sub;
	char *error = NULL, *end;
	int ret;

	g_option_context_set_description(ctx,
		"The review queue: messages kept because their sender could not be\n"
		"authenticated.  list: number, received, Message-ID, reason.  show: the\n"
		"message as received.  release: run it through the inbound path again\n"
		"(it is held again if it still fails).  discard: delete it for good.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		return ret;
	sub = argc >= 2 ? argv[1] : "";
	if (strcmp(sub, "list") == 0) {
		if ((ret = cli_open(cli, 1)) != 0)
			return ret;
		ret = store_transact(cli->store, held_list_txn, &h, &error);
		return ret == IMI_OK ? 0 : cli_fail(ret, error);
	}
	if (argc < 3 || (strcmp(sub, "show") != 0 && strcmp(sub, "release") != 0 &&
			 strcmp(sub, "discard") != 0)) {
		fprintf(stderr, "Usage: imi held list | show N | release N | discard N\n");
		return EX_USAGE;
	}
	h.seq = g_ascii_strtoull(argv[2], &end, 10);
	if (*end != '\0' || h.seq == 0)
		return cli_fail(IMI_INVALID, g_strdup_printf("'%s' is not a message number", argv[2]));
	if ((ret = cli_open(cli, 1)) != 0)
		return ret;
	if (strcmp(sub, "show") == 0) {
		ret = store_transact(cli->store, held_show_txn, &h, &error);
		if (ret == IMI_OK)
			fwrite(h.raw, 1, h.len, stdout);
	} else if (strcmp(sub, "discard") == 0) {
		ret = store_transact(cli->store, held_discard_txn, &h, &error);
		if (ret == IMI_OK && (ret = store_purge_logs(cli->store, &error)) == IMI_OK)
			printf("discarded %" G_GUINT64_FORMAT "\n", h.seq);
	} else {
		struct inbound_result res = {0};

		ret = held_release(cli->store, cli->conf, h.seq, "operator", &res, &error);
		if (ret == IMI_OK) {
			static const char *const names[] = {
				"applied", "answered", "held", "duplicate", "ignored",
				"reject", "tempfail", "toobig",
			};
			printf("%s\t%s\t%s\n",
			       (unsigned)res.verdict < G_N_ELEMENTS(names) ? names[res.verdict] : "?",
			       res.case_id != NULL ? res.case_id : "-",
			       res.reason != NULL ? res.reason : "");
			if (store_purge_logs(cli->store, &error) != IMI_OK) {
				log_warn(NULL, "purging logs after release: %s", error);
				g_free(error);
				error = NULL;
			}
		}
		inbound_result_clear(&res);
	}
	g_free(h.raw);
	return ret == IMI_OK ? 0 : cli_fail(ret, error);
}

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

#include "mta-hooks/inbound.h"

#define HELD_MAX_LIST 100000 /* lines printed by list */

struct held_cmd {
	uint64_t seq;
	JsonObject *obj;   /* the message record */
	void *raw;
	size_t len;
	unsigned count;
};

static int held_list_step(const void *key, size_t key_len, const void *value,
			  size_t len, void *ctx)
{
	struct held_cmd *h = ctx;
	JsonObject *obj = NULL;
	char when[32];

	if (key_len != 8 || store_record_parse(value, len, &obj, NULL) != IMI_OK)
		return 0;
	if (strcmp(json_object_get_string_member_with_default(obj, "state", ""), "held") == 0) {
		printf("%" G_GUINT64_FORMAT "\t%s\t%s\t%s\n", store_key_u64_get(key),
		       imi_time_format(json_object_get_int_member_with_default(obj, "received", 0),
				       when, sizeof(when)),
		       json_object_get_string_member_with_default(obj, "message_id", ""),
		       json_object_get_string_member_with_default(obj, "reason", ""));
		h->count++;
	}
	json_object_unref(obj);
	return h->count >= HELD_MAX_LIST ? 1 : 0;
}

static int held_list_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	int ret;

	((struct held_cmd *)ctx)->count = 0;
	ret = store_each(txn, STORE_MESSAGES, NULL, 0, held_list_step, ctx, error_r);
	return ret == 1 ? IMI_OK : ret;
}

/* The held record and its opened bytes. */
static int held_read_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct held_cmd *h = ctx;
	unsigned char key[8];
	void *value = NULL;
	size_t len;
	int ret;

	if (h->obj != NULL)
		json_object_unref(h->obj);
	h->obj = NULL;
	g_free(h->raw);
	h->raw = NULL;
	store_key_u64(h->seq, key);
	ret = store_get(txn, STORE_MESSAGES, key, sizeof(key), STORE_GET_RMW, &value, &len, error_r);
	if (ret == IMI_OK)
		ret = store_record_parse(value, len, &h->obj, error_r);
	g_free(value);
	if (ret != IMI_OK)
		return ret;
	if (strcmp(json_object_get_string_member_with_default(h->obj, "state", ""), "held") != 0)
		return imi_fail(error_r, IMI_NOTFOUND, "message %" G_GUINT64_FORMAT " is not held",
				h->seq);
	return store_unseal(txn, json_object_get_string_member_with_default(h->obj, "key", ""),
			    json_object_get_string_member_with_default(h->obj, "sealed_raw", ""),
			    &h->raw, &h->len, error_r);
}

/* Removes the held copy: record, key, and (with_msgid) its Message-ID
 * entry. */
static int held_remove(struct store_txn *txn, struct held_cmd *h, const char *event,
		       int with_msgid, char **error_r)
{
	unsigned char key[8];
	const char *msgid;
	int ret;

	if ((ret = held_read_txn(txn, h, error_r)) != IMI_OK)
		return ret;
	msgid = json_object_get_string_member_with_default(h->obj, "message_id", "");
	store_key_u64(h->seq, key);
	if ((ret = store_del(txn, STORE_MESSAGES, key, sizeof(key), error_r)) != IMI_OK)
		return ret;
	ret = store_key_destroy(txn, json_object_get_string_member_with_default(h->obj, "key", ""),
				error_r);
	if (ret == IMI_OK && with_msgid && *msgid != '\0') {
		ret = store_del(txn, STORE_MSGIDS, msgid, strlen(msgid), error_r);
		if (ret == IMI_NOTFOUND) {
			g_free(*error_r);
			*error_r = NULL;
			ret = IMI_OK;
		}
	}
	if (ret == IMI_OK)
		ret = store_audit(txn, "operator", NULL, event, msgid, error_r);
	return ret;
}

static int held_discard_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return held_remove(txn, ctx, "held.discard", 1, error_r);
}

/* After the message ran again: the old copy goes, the new outcome's
 * Message-ID entry stays. */
static int held_release_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return held_remove(txn, ctx, "held.release", 0, error_r);
}

/* Before it runs again: forget that its Message-ID was seen. */
static int held_unindex_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct held_cmd *h = ctx;
	const char *msgid;
	int ret;

	if ((ret = held_read_txn(txn, h, error_r)) != IMI_OK)
		return ret;
	msgid = json_object_get_string_member_with_default(h->obj, "message_id", "");
	if (*msgid == '\0')
		return IMI_OK;
	ret = store_del(txn, STORE_MSGIDS, msgid, strlen(msgid), error_r);
	if (ret == IMI_NOTFOUND) {
		g_free(*error_r);
		*error_r = NULL;
		ret = IMI_OK;
	}
	return ret;
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
		ret = store_transact(cli->store, held_read_txn, &h, &error);
		if (ret == IMI_OK)
			fwrite(h.raw, 1, h.len, stdout);
	} else if (strcmp(sub, "discard") == 0) {
		ret = store_transact(cli->store, held_discard_txn, &h, &error);
		if (ret == IMI_OK && (ret = store_purge_logs(cli->store, &error)) == IMI_OK)
			printf("discarded %" G_GUINT64_FORMAT "\n", h.seq);
	} else {
		struct inbound_envelope env = {INBOUND_DELIVER, NULL, NULL, NULL, NULL};
		struct inbound_result res = {0};

		/* The held copy stays until the new run committed: a
		 * temporary failure loses nothing. */
		ret = store_transact(cli->store, held_unindex_txn, &h, &error);
		if (ret == IMI_OK)
			ret = inbound_process(cli->store, cli->conf, h.raw, h.len, &env, &res, &error);
		if (ret == IMI_OK)
			ret = store_transact(cli->store, held_release_txn, &h, &error);
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
	if (h.obj != NULL)
		json_object_unref(h.obj);
	g_free(h.raw);
	return ret == IMI_OK ? 0 : cli_fail(ret, error);
}

/*
 * cmd_send.c: imi send — drain the outbox; imi send --put — queue one
 * message of the operator's (a notice to an authority, a test message).
 */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "mta-hooks/sender.h"

#define SEND_MAX_PUT_BYTES (64 * 1024 * 1024) /* when no conf bound applies */

struct send_put {
	const char *from;
	const char *const *to;
	const char *message_id;
	const char *raw;
	size_t len;
	uint64_t seq;
};

static int send_put_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct send_put *p = ctx;

	return outbox_put(txn, "", p->from, p->to, p->message_id, p->raw, p->len, &p->seq,
			  error_r);
}

/* The Message-ID header of the message (g_free), or NULL. */
static char *send_message_id(const char *raw, size_t len)
{
	const char *p = raw, *end = raw + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t l = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
		if (l == 0 || (l == 1 && p[0] == '\r'))
			break;
		if (l > 11 && g_ascii_strncasecmp(p, "Message-ID:", 11) == 0)
			return g_strstrip(g_strndup(p + 11, l - 11));
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return NULL;
}

static int send_put(struct cli *cli, const char *file, const char *from, char **to)
{
	struct send_put p = {.from = from, .to = (const char *const *)to};
	char *raw = NULL, *error = NULL;
	GError *gerr = NULL;
	gsize len;
	int ret;

	if (from == NULL || to == NULL || to[0] == NULL) {
		fprintf(stderr, "imi: send --put needs --from and at least one --to (see --help)\n");
		return EX_USAGE;
	}
	if (!g_file_get_contents(file, &raw, &len, &gerr)) {
		fprintf(stderr, "imi: %s\n", gerr->message);
		g_error_free(gerr);
		return EX_NOINPUT;
	}
	if (len > SEND_MAX_PUT_BYTES) {
		g_free(raw);
		return cli_fail(IMI_TOOBIG, g_strdup_printf("%s is larger than %d bytes", file,
							    SEND_MAX_PUT_BYTES));
	}
	p.message_id = send_message_id(raw, len);
	if (p.message_id == NULL) {
		g_free(raw);
		return cli_fail(IMI_INVALID, g_strdup_printf(
			"%s has no Message-ID: a stable one is what keeps a retry from becoming a second message",
			file));
	}
	p.raw = raw;
	p.len = len;
	ret = store_transact(cli->store, send_put_txn, &p, &error);
	if (ret == IMI_OK)
		printf("%" G_GUINT64_FORMAT "\n", p.seq);
	else
		ret = cli_fail(ret, error);
	g_free((char *)p.message_id);
	g_free(raw);
	return ret;
}

int cmd_send(struct cli *cli, int argc, char **argv)
{
	char *put = NULL, *from = NULL, **to = NULL, *now_text = NULL, *error = NULL;
	GOptionEntry entries[] = {
		{"put", 0, 0, G_OPTION_ARG_FILENAME, &put,
		 "queue the message in FILE instead of draining (needs --from, --to)", "FILE"},
		{"from", 0, 0, G_OPTION_ARG_STRING, &from, "envelope sender for --put", "ADDR"},
		{"to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &to, "envelope recipient for --put (repeatable)", "ADDR"},
		{"now", 0, 0, G_OPTION_ARG_STRING, &now_text, "send what is due at this time (tests)", "ISO-8601"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("- drain the outbox");
	struct sender_stats stats;
	int64_t now;
	int ret;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Sends every due message of the outbox, DKIM-signed with [outbound]\n"
		"dkim_key, to [outbound] smtp_relay, or, with no relay set, writes it\n"
		"into the outbox Maildir.  A 4xx answer or an unreachable relay is\n"
		"retried later with growing delays; a 5xx answer marks the message\n"
		"failed.  Prints one line: sent, retried and failed counts.\n"
		"Exit 0 when the drain ran (failures are recorded, see imi audit),\n"
		"75 when the store or the lock was busy, 65 when no DKIM key exists.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc != 1) {
		fprintf(stderr, "imi: send takes no arguments (see --help)\n");
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	if (put != NULL) {
		ret = send_put(cli, put, from, to);
		goto out;
	}
	/* A relay that hangs up is an error return, not SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	now = imi_now();
	if (now_text != NULL && imi_time_parse(now_text, &now) != IMI_OK) {
		fprintf(stderr, "imi: --now %s: not an ISO-8601 time\n", now_text);
		ret = EX_USAGE;
		goto out;
	}
	ret = sender_drain(cli->store, cli->conf, now, &stats, &error);
	if (ret != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	printf("sent %u, retry %u, failed %u\n", stats.sent, stats.retried, stats.failed);
out:
	g_free(put);
	g_free(from);
	g_strfreev(to);
	g_free(now_text);
	return ret;
}

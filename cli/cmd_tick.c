/*
 * cmd_tick.c: imi tick — runs every timer that is due.
 *
 * Each timer runs in its own transaction together with the e-mails it
 * causes.  The list of due timers is read first; each is then run by
 * request_timer_run, which takes it out of the case record under a write
 * lock, so two ticks at once (or one run twice) never run a timer twice.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "mta-hooks/held.h"
#include "mta-hooks/sender.h"
#include "policies/alert.h"
#include "policies/due.h"
#include "policies/request.h"

#define TICK_MAX_TIMERS 10000 /* timers read per round */

struct tick_timer {
	int64_t when;
	char *case_id;
	char *kind;
};

struct tick {
	struct request_env *env;
	GArray *due;        /* struct tick_timer */
	int64_t now;
	const struct tick_timer *current;
	int purge;
	unsigned urgency_sent; /* urgency lists queued */
	int urgency_pending;   /* the urgency lists may be due */
};

static void tick_timer_clear(gpointer p)
{
	struct tick_timer *t = p;

	g_free(t->case_id);
	g_free(t->kind);
}

static int tick_collect(int64_t when, const char *case_id, const char *kind,
			void *ctx)
{
	struct tick *tk = ctx;
	struct tick_timer t = {when, g_strdup(case_id), g_strdup(kind)};

	g_array_append_val(tk->due, t);
	return tk->due->len >= TICK_MAX_TIMERS ? 1 : 0;
}

static int tick_list_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct tick *tk = ctx;
	int ret;

	g_array_set_size(tk->due, 0);
	ret = store_timer_each_due(txn, tk->now, tick_collect, tk, error_r);
	if (ret != IMI_OK && ret != 1)
		return ret;
	tk->urgency_pending = due_urgency_pending(txn, tk->now);
	return IMI_OK;
}

static int tick_urgency_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct tick *tk = ctx;

	return request_urgency_run(txn, tk->env, tk->now, &tk->urgency_sent, error_r);
}

static int tick_run_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct tick *tk = ctx;

	tk->purge = 0;
	if (g_str_has_prefix(tk->current->kind, HELD_EXPIRE_PREFIX))
		return held_expire_due(txn, tk->current->when, tk->current->kind,
				       &tk->purge, error_r);
	if (g_str_has_prefix(tk->current->kind, "alert-"))
		return alert_timer_run(txn, tk->env, tk->current->when,
				       tk->current->case_id, tk->current->kind, error_r);
	return request_timer_run(txn, tk->env, tk->current->when,
				 tk->current->case_id, tk->current->kind,
				 &tk->purge, error_r);
}

int cmd_tick(struct cli *cli, int argc, char **argv)
{
	char *now_text = NULL, *error = NULL;
	GOptionEntry e[] = {
		{"now", 0, 0, G_OPTION_ARG_STRING, &now_text, "the time to act as if it were (tests)", "ISO-8601"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	struct tick tk = {0};
	GOptionContext *ctx = g_option_context_new("- run everything that is due");
	unsigned done = 0, failed = 0;
	GPtrArray *deleted = g_ptr_array_new_with_free_func(g_free);
	int ret, purge = 0;

	g_option_context_set_description(ctx,
		"Sends the reminders that are due, the coordinators' urgency lists\n"
		"when their period has come, and blocks or deletes the personal\n"
		"data of closed cases whose retention period is over (policies/rules).\n"
		"Safe to run twice or at once: each timer runs once.\n");
	g_option_context_add_main_entries(ctx, e, NULL);
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (now_text != NULL) {
		if (imi_time_parse(now_text, &tk.now) != IMI_OK) {
			ret = cli_fail(IMI_INVALID, g_strdup_printf("--now %s: not an ISO-8601 time", now_text));
			goto out;
		}
		imi_time_set_now(tk.now);
	}
	tk.now = imi_now();
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	tk.due = g_array_new(FALSE, TRUE, sizeof(struct tick_timer));
	g_array_set_clear_func(tk.due, tick_timer_clear);
	if ((ret = store_transact(cli->store, tick_list_txn, &tk, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	/* Policies, question sets and catalogs only when something is due:
	 * with nothing due (most runs of a cron job) they are not read. */
	if ((tk.due->len > 0 || tk.urgency_pending) &&
	    (ret = request_env_open(cli->conf, &tk.env, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	/* The coordinators' urgency lists, when their period has come. */
	if (tk.urgency_pending &&
	    (ret = store_transact(cli->store, tick_urgency_txn, &tk, &error)) != IMI_OK) {
		log_error(NULL, "urgency lists: %s", error ? error : imi_status_name(ret));
		g_free(error);
		error = NULL;
		failed++;
	} else if (tk.urgency_sent > 0) {
		printf("imi: %u urgency list(s) sent\n", tk.urgency_sent);
	}
	for (guint i = 0; i < tk.due->len; i++) {
		tk.current = &g_array_index(tk.due, struct tick_timer, i);
		if (g_str_has_prefix(tk.current->kind, HELD_TIMER_PREFIX)) { /* mailcmd.h */
			struct inbound_result res = {0};

			tk.purge = 1;
			ret = held_release_due(cli->store, cli->conf, tk.current->when,
					       tk.current->kind, &res, &error);
			inbound_result_clear(&res);
		} else {
			ret = store_transact(cli->store, tick_run_txn, &tk, &error);
		}
		if (ret != IMI_OK) {
			log_error(tk.current->case_id, "timer %s: %s", tk.current->kind,
				  error ? error : imi_status_name(ret));
			g_free(error);
			error = NULL;
			failed++;
			continue;
		}
		log_info(tk.current->case_id, "timer %s done", tk.current->kind);
		purge |= tk.purge;
		if (tk.purge && *tk.current->case_id != '\0')
			g_ptr_array_add(deleted, g_strdup(tk.current->case_id));
		done++;
	}
	/* Copies of the deleted cases' mail that imi send wrote into the
	 * outbox Maildir go too. */
	for (guint i = 0; i < deleted->len; i++) {
		unsigned removed = 0;

		if (sender_maildir_forget(cli->conf, deleted->pdata[i], &removed, &error) != IMI_OK) {
			log_error(deleted->pdata[i], "outbox Maildir: %s", error);
			g_free(error);
			error = NULL;
			failed++;
		} else if (removed > 0)
			log_info(deleted->pdata[i], "%u message(s) removed from the outbox Maildir",
				 removed);
	}
	/* A destroyed case key may still lie in a log file. */
	if (purge && (ret = store_purge_logs(cli->store, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	printf("imi: %u timer(s) run, %u failed\n", done, failed);
	ret = failed ? EX_TEMPFAIL : 0;
out:
	if (tk.due != NULL)
		g_array_free(tk.due, TRUE);
	g_ptr_array_free(deleted, TRUE);
	request_env_close(&tk.env);
	g_free(now_text);
	return ret;
}

/*
 * sender.c: outbox → DKIM → SMTP relay or Maildir, outcome recorded after
 * the answer.
 */
#include "mta-hooks/sender.h"

#include <errno.h>
#include <fcntl.h>
#include <libetpan/libetpan.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parser/dkim.h"
#include "policies/request.h"

enum sender_outcome {
	SENDER_SENT,
	SENDER_RETRY,
	SENDER_FAILED,
};

struct sender {
	struct store *store;
	const struct imi_conf *conf;
	int64_t now;
	char *key_path;
	mailsmtp *smtp;       /* open relay session, or NULL */
	char *relay_down;     /* why the relay cannot be reached in this drain */
	struct request_env *env; /* to mark refused addresses failing, or NULL */
};

/* What happened to one item. */
struct sender_try {
	enum sender_outcome outcome;
	GString *detail;      /* the relay's answer, for the record */
	GString *refused;     /* "addr: 550 ..." per recipient refused for good */
	GPtrArray *refused_to; /* those addresses, then their replies: "addr", "550 ..." */
};

int64_t sender_backoff(int attempts)
{
	int64_t delay = SENDER_RETRY_BASE;

	for (int i = 0; i < attempts && delay < SENDER_RETRY_MAX; i++)
		delay *= 2;
	return delay < SENDER_RETRY_MAX ? delay : SENDER_RETRY_MAX;
}

/* ---- the store side ---------------------------------------------------- */

struct sender_due {
	int64_t now;
	GArray *seqs;
};

static int sender_due_step(const struct outbox_item *item, void *ctx)
{
	struct sender_due *d = ctx;

	g_array_append_val(d->seqs, item->seq);
	return d->seqs->len >= SENDER_MAX_BATCH ? 1 : 0;
}

static int sender_due_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sender_due *d = ctx;
	int ret;

	g_array_set_size(d->seqs, 0); /* a deadlock retry starts again */
	ret = outbox_each_due(txn, d->now, sender_due_step, d, error_r);
	return ret > 0 ? IMI_OK : ret;
}

struct sender_read {
	uint64_t seq;
	struct outbox_item *item;
	void *raw;
	size_t len;
};

static int sender_read_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sender_read *r = ctx;

	outbox_item_free(&r->item);
	g_clear_pointer(&r->raw, g_free);
	return outbox_read(txn, r->seq, &r->item, &r->raw, &r->len, error_r);
}

struct sender_mark {
	const struct outbox_item *item;
	const struct sender_try *try;
	int64_t now;
	struct request_env *env;
};

static int sender_mark_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sender_mark *m = ctx;
	const char *detail = m->try->detail->str;
	int ret;

	if (m->try->refused->len > 0 &&
	    (ret = store_audit(txn, "send", m->item->case_id, "outbox.refused",
			       m->try->refused->str, error_r)) != IMI_OK)
		return ret;
	/* An address refused for good is marked failing and its coordinator
	 * told (policies/request.h), whatever became of the other recipients. */
	for (guint i = 0; m->env != NULL && i + 1 < m->try->refused_to->len; i += 2) {
		unsigned marked = 0;

		if ((ret = request_address_failing(txn, m->env,
						   g_ptr_array_index(m->try->refused_to, i),
						   g_ptr_array_index(m->try->refused_to, i + 1),
						   "send", &marked, error_r)) != IMI_OK)
			return ret;
	}
	switch (m->try->outcome) {
	case SENDER_SENT:
		return outbox_mark_sent(txn, m->item->seq, detail, error_r);
	case SENDER_RETRY:
		if (m->item->attempts + 1 >= SENDER_MAX_ATTEMPTS) {
			char *why = g_strdup_printf("gave up after %d attempts: %s",
						    m->item->attempts + 1, detail);
			ret = outbox_mark_failed(txn, m->item->seq, why, error_r);
			if (ret == IMI_OK)
				ret = store_audit(txn, "send", m->item->case_id, "outbox.failed",
						  why, error_r);
			g_free(why);
			return ret;
		}
		return outbox_mark_retry(txn, m->item->seq,
					 m->now + sender_backoff(m->item->attempts), detail,
					 error_r);
	case SENDER_FAILED:
		ret = outbox_mark_failed(txn, m->item->seq, detail, error_r);
		if (ret == IMI_OK)
			ret = store_audit(txn, "send", m->item->case_id, "outbox.failed", detail,
					  error_r);
		return ret;
	}
	return IMI_ERROR;
}

/* ---- the message ------------------------------------------------------- */

/* The message with CRLF line ends, as SMTP and the signer want it. */
static GString *sender_crlf(const char *raw, size_t len)
{
	GString *out = g_string_sized_new(len + len / 32 + 2);

	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			g_string_append_c(out, '\r');
		g_string_append_c(out, raw[i]);
	}
	if (out->len < 2 || strcmp(out->str + out->len - 2, "\r\n") != 0)
		g_string_append(out, "\r\n");
	return out;
}

/* DKIM-Signature (its LF folds made CRLF) + the message, CRLF. */
static int sender_sign(struct sender *s, const char *raw, size_t len, GString **signed_r,
		       char **error_r)
{
	GString *msg = sender_crlf(raw, len), *out;
	char *header = NULL;
	int ret;

	ret = dkim_sign_message(s->conf->dkim_selector, s->conf->dkim_domain, s->key_path,
				msg->str, msg->len, NULL, &header, error_r);
	if (ret != IMI_OK) {
		g_string_free(msg, TRUE);
		return ret;
	}
	out = sender_crlf(header, strlen(header));
	g_string_append_len(out, msg->str, (gssize)msg->len);
	g_string_free(msg, TRUE);
	g_free(header);
	*signed_r = out;
	return IMI_OK;
}

/* ---- SMTP -------------------------------------------------------------- */

/* The relay's last reply, one line, for the record. */
static void sender_reply(mailsmtp *smtp, int code, GString *out)
{
	const char *text = smtp != NULL && smtp->response != NULL ? smtp->response : "";

	g_string_append_printf(out, "%d ", code);
	for (const char *p = text; *p != '\0' && *p != '\r' && *p != '\n'; p++)
		g_string_append_c(out, g_ascii_isprint(*p) ? *p : '?');
}

static void sender_smtp_close(struct sender *s)
{
	if (s->smtp != NULL) {
		if (s->smtp->stream != NULL)
			mailsmtp_quit(s->smtp);
		mailsmtp_free(s->smtp);
		s->smtp = NULL;
	}
}

static char *sender_password(struct sender *s)
{
	char *path, *text = NULL;

	if (*s->conf->smtp_password_file == '\0')
		return g_strdup("");
	path = g_path_is_absolute(s->conf->smtp_password_file)
		       ? g_strdup(s->conf->smtp_password_file)
		       : g_build_filename(s->conf->home, s->conf->smtp_password_file, NULL);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		text = NULL;
	g_free(path);
	return text != NULL ? g_strchomp(text) : NULL;
}

/* Opens the relay session; on failure sets s->relay_down. */
static void sender_smtp_open(struct sender *s)
{
	char *host = NULL, *colon, *password = NULL;
	unsigned long port = 25;
	int r;

	host = g_strdup(s->conf->smtp_relay);
	if (host[0] == '[' && (colon = strchr(host, ']')) != NULL) {
		/* [::1]:25 */
		*colon = '\0';
		memmove(host, host + 1, strlen(host + 1) + 1);
		colon = strchr(colon + 1, ':') != NULL ? colon : NULL;
		if (colon != NULL)
			port = strtoul(strrchr(s->conf->smtp_relay, ':') + 1, NULL, 10);
	} else if ((colon = strrchr(host, ':')) != NULL) {
		*colon = '\0';
		port = strtoul(colon + 1, NULL, 10);
	}
	s->smtp = mailsmtp_new(0, NULL);
	if (s->smtp == NULL) {
		s->relay_down = g_strdup("out of memory");
		goto out;
	}
	mailsmtp_set_timeout(s->smtp, SENDER_SMTP_TIMEOUT);
	if ((r = mailsmtp_socket_connect(s->smtp, host, (uint16_t)port)) != MAILSMTP_NO_ERROR) {
		s->relay_down = g_strdup_printf("relay %s unreachable: %s; check that it runs "
						"([outbound] smtp_relay)", s->conf->smtp_relay,
						mailsmtp_strerror(r));
		goto fail;
	}
	if ((r = mailesmtp_ehlo(s->smtp)) == MAILSMTP_ERROR_NOT_IMPLEMENTED)
		r = mailsmtp_helo(s->smtp);
	if (r != MAILSMTP_NO_ERROR) {
		s->relay_down = g_strdup_printf("relay %s refused EHLO: %s", s->conf->smtp_relay,
						mailsmtp_strerror(r));
		goto fail;
	}
	if (s->conf->smtp_starttls || (s->smtp->esmtp & MAILSMTP_ESMTP_STARTTLS)) {
		if (!(s->smtp->esmtp & MAILSMTP_ESMTP_STARTTLS)) {
			s->relay_down = g_strdup_printf("relay %s offers no STARTTLS and smtp_starttls is set",
							s->conf->smtp_relay);
			goto fail;
		}
		if ((r = mailsmtp_socket_starttls(s->smtp)) != MAILSMTP_NO_ERROR ||
		    (r = mailesmtp_ehlo(s->smtp)) != MAILSMTP_NO_ERROR) {
			s->relay_down = g_strdup_printf("STARTTLS with %s failed: %s",
							s->conf->smtp_relay, mailsmtp_strerror(r));
			goto fail;
		}
	}
	if (*s->conf->smtp_user != '\0') {
		if ((password = sender_password(s)) == NULL) {
			s->relay_down = g_strdup_printf("cannot read smtp_password_file %s",
							s->conf->smtp_password_file);
			goto fail;
		}
		r = mailesmtp_auth_sasl(s->smtp, "PLAIN", host, NULL, NULL, s->conf->smtp_user,
					s->conf->smtp_user, password, NULL);
		if (r != MAILSMTP_NO_ERROR) {
			s->relay_down = g_strdup_printf("AUTH as %s at %s failed: %s",
							s->conf->smtp_user, s->conf->smtp_relay,
							mailsmtp_strerror(r));
			goto fail;
		}
	}
	goto out;
fail:
	sender_smtp_close(s);
out:
	if (password != NULL) {
		memset(password, 0, strlen(password));
		g_free(password);
	}
	g_free(host);
}

/* The class of a failed command: 4 temporary, 5 permanent; a broken
 * connection counts as temporary and closes the session. */
static int sender_smtp_class(struct sender *s, int r)
{
	int code = s->smtp->response_code;

	if (r == MAILSMTP_ERROR_STREAM || code < 400 || code > 599) {
		sender_smtp_close(s);
		return 4;
	}
	return code / 100;
}

static void sender_smtp(struct sender *s, const struct outbox_item *item, const GString *msg,
			struct sender_try *t)
{
	unsigned accepted = 0, temporary = 0;
	int r, cls;

	if (s->smtp == NULL && s->relay_down == NULL)
		sender_smtp_open(s);
	if (s->smtp == NULL) {
		t->outcome = SENDER_RETRY;
		g_string_assign(t->detail, s->relay_down);
		return;
	}
	if ((r = mailsmtp_mail(s->smtp, item->from)) != MAILSMTP_NO_ERROR) {
		g_string_assign(t->detail, "MAIL FROM: ");
		sender_reply(s->smtp, s->smtp->response_code, t->detail);
		cls = sender_smtp_class(s, r);
		t->outcome = cls == 5 ? SENDER_FAILED : SENDER_RETRY;
		goto reset;
	}
	for (unsigned i = 0; item->to != NULL && item->to[i] != NULL; i++) {
		if ((r = mailsmtp_rcpt(s->smtp, item->to[i])) == MAILSMTP_NO_ERROR) {
			accepted++;
			continue;
		}
		cls = sender_smtp_class(s, r);
		if (s->smtp == NULL) {
			t->outcome = SENDER_RETRY;
			g_string_assign(t->detail, "connection lost at RCPT");
			return;
		}
		if (cls == 5) {
			GString *reply = g_string_new(NULL);

			sender_reply(s->smtp, s->smtp->response_code, reply);
			g_string_append_printf(t->refused, "%s%s: %s", t->refused->len ? "; " : "",
					       item->to[i], reply->str);
			g_ptr_array_add(t->refused_to, g_strdup(item->to[i]));
			g_ptr_array_add(t->refused_to, g_string_free(reply, FALSE));
		} else {
			temporary++;
			g_string_assign(t->detail, "RCPT: ");
			sender_reply(s->smtp, s->smtp->response_code, t->detail);
		}
	}
	if (temporary > 0) {
		/* Sending now would mean sending again later to those who took
		 * it: wait until every recipient can take it at once. */
		t->outcome = SENDER_RETRY;
		g_string_truncate(t->refused, 0);
		g_ptr_array_set_size(t->refused_to, 0);
		goto reset;
	}
	if (accepted == 0) {
		t->outcome = SENDER_FAILED;
		g_string_printf(t->detail, "every recipient refused: %s", t->refused->str);
		g_string_truncate(t->refused, 0);
		goto reset;
	}
	if ((r = mailsmtp_data(s->smtp)) != MAILSMTP_NO_ERROR ||
	    (r = mailsmtp_data_message(s->smtp, msg->str, msg->len)) != MAILSMTP_NO_ERROR) {
		int code = s->smtp->response_code;
		if (r == MAILSMTP_ERROR_STREAM || code < 400 || code > 599)
			/* Lost after the final dot, the relay may have the
			 * message: the resend carries the same Message-ID. */
			g_string_assign(t->detail, "connection lost at DATA, before the relay's "
				        "answer; sent again later with the same Message-ID");
		else {
			g_string_assign(t->detail, "DATA: ");
			sender_reply(s->smtp, code, t->detail);
		}
		cls = sender_smtp_class(s, r);
		t->outcome = cls == 5 ? SENDER_FAILED : SENDER_RETRY;
		if (t->outcome == SENDER_RETRY) {
			g_string_truncate(t->refused, 0);
			g_ptr_array_set_size(t->refused_to, 0);
		}
		goto reset;
	}
	t->outcome = SENDER_SENT;
	g_string_assign(t->detail, "relay: ");
	sender_reply(s->smtp, s->smtp->response_code, t->detail);
reset:
	if (s->smtp != NULL && mailsmtp_reset(s->smtp) != MAILSMTP_NO_ERROR)
		sender_smtp_close(s);
}

/* ---- the drain --------------------------------------------------------- */

static int sender_one(struct sender *s, uint64_t seq, struct sender_stats *stats,
		      char **error_r)
{
	struct sender_read r = {.seq = seq};
	struct sender_try t = {SENDER_RETRY, g_string_new(NULL), g_string_new(NULL),
			       g_ptr_array_new_with_free_func(g_free)};
	struct sender_mark m;
	GString *msg = NULL;
	char *error = NULL;
	int ret;

	ret = store_transact(s->store, sender_read_txn, &r, error_r);
	if (ret == IMI_NOTFOUND) {
		/* Gone since the list was taken (forgotten by retention). */
		g_free(*error_r);
		*error_r = NULL;
		ret = IMI_OK;
		goto out;
	}
	if (ret != IMI_OK)
		goto out;
	if ((ret = sender_sign(s, r.raw, r.len, &msg, error_r)) != IMI_OK)
		goto out;
	if (*s->conf->smtp_relay == '\0') {
		if (sender_maildir_write(s->conf, r.item, msg, t.detail, &error) == IMI_OK) {
			t.outcome = SENDER_SENT;
		} else {
			t.outcome = SENDER_RETRY;
			g_string_assign(t.detail, error);
		}
	} else
		sender_smtp(s, r.item, msg, &t);
	m.item = r.item;
	m.try = &t;
	m.now = s->now;
	m.env = s->env;
	if ((ret = store_transact(s->store, sender_mark_txn, &m, error_r)) != IMI_OK)
		goto out;
	switch (t.outcome) {
	case SENDER_SENT:
		stats->sent++;
		log_info(r.item->case_id, "send %s: sent (%s)", r.item->message_id, t.detail->str);
		break;
	case SENDER_RETRY:
		stats->retried++;
		log_warn(r.item->case_id, "send %s: retry later (%s)", r.item->message_id,
			 t.detail->str);
		break;
	case SENDER_FAILED:
		stats->failed++;
		log_error(r.item->case_id, "send %s: failed (%s)", r.item->message_id,
			  t.detail->str);
		break;
	}
out:
	if (msg != NULL)
		g_string_free(msg, TRUE);
	g_string_free(t.detail, TRUE);
	g_string_free(t.refused, TRUE);
	g_ptr_array_free(t.refused_to, TRUE);
	outbox_item_free(&r.item);
	g_free(r.raw);
	g_free(error);
	return ret;
}

int sender_drain(struct store *store, const struct imi_conf *conf, int64_t now,
		 struct sender_stats *stats, char **error_r)
{
	struct sender s = {.store = store, .conf = conf, .now = now};
	struct sender_due due = {.now = now, .seqs = g_array_new(FALSE, FALSE, sizeof(uint64_t))};
	char *lock_path = g_build_filename(conf->home, "send.lock", NULL);
	int lock = -1, ret;

	memset(stats, 0, sizeof(*stats));
	s.key_path = g_path_is_absolute(conf->dkim_key) ? g_strdup(conf->dkim_key)
							: g_build_filename(conf->home, conf->dkim_key, NULL);
	if (!g_file_test(s.key_path, G_FILE_TEST_IS_REGULAR)) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "no DKIM key at %s: run imi init to create one, or set [outbound] dkim_key",
			       s.key_path);
		goto out;
	}
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "%s: %s", lock_path,
			       lock < 0 ? g_strerror(errno) : "another imi send is running");
		goto out;
	}
	/* Rules, catalogs and token key for the notices about refused
	 * addresses; without them mail still goes out. */
	{
		char *env_error = NULL;

		if (request_env_open(conf, &s.env, &env_error) != IMI_OK) {
			log_warn(NULL, "send: refused addresses will not be marked failing: %s",
				 env_error != NULL ? env_error : "");
			g_free(env_error);
		}
	}
	if ((ret = store_transact(store, sender_due_txn, &due, error_r)) != IMI_OK)
		goto out;
	for (unsigned i = 0; i < due.seqs->len && ret == IMI_OK; i++)
		ret = sender_one(&s, g_array_index(due.seqs, uint64_t, i), stats, error_r);
out:
	sender_smtp_close(&s);
	request_env_close(&s.env);
	if (lock >= 0)
		close(lock);
	g_array_free(due.seqs, TRUE);
	g_free(lock_path);
	g_free(s.key_path);
	g_free(s.relay_down);
	return ret;
}

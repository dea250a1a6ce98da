/*
 * milter.c: the libmilter callbacks.  Each one records what the MTA tells it
 * and hands the decision to recipient.c, inbound.c and answer.c.
 */
#include "mta-hooks/milter.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <malloc.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mta-hooks/answer.h"
#include "mta-hooks/inbound.h"
#include "mta-hooks/recipient.h"


/* libmilter keeps one filter per process: these are its shared handles,
 * set once before smfi_main and only read afterwards. */
static struct store *milter_store;
static const struct imi_conf *milter_conf;
static GMutex milter_store_lock; /* guards opening milter_store late */

/* At most MILTER_INBOUND_PARALLEL messages at a time are in a store
 * transaction, whatever the number of SMTP connections: the store's
 * transactions never wait for a lock but retry, and twenty threads
 * committing at once lose much to their conflicts (to the point of
 * temporary failures).  Parsing and authentication run outside (all the
 * connections at once), and so does the wait for the commit to reach the
 * disk, shared by the threads that wait together. */
static GMutex milter_slot_lock;
static GCond milter_slot_cond;
static int milter_slots_busy;
static int milter_slots_big_waiting; /* waiters that want every slot */

/* The rules, catalogs and token key, read once per process and again when
 * one of their files changed (looked at at most every
 * MILTER_ENV_CHECK_US): messages read them under the reader lock; a reload
 * takes the writer lock, so it waits for the messages in progress.
 * milter_env_lock serializes the checks and reloads. */
static GMutex milter_env_lock;
static GRWLock milter_env_rw;
static struct request_env *milter_env;
static char *milter_env_stamp; /* names, sizes and mtimes of the files read */
static gint64 milter_env_checked; /* monotonic time of the last look */

#define MILTER_BIG_BYTES (1 << 20)  /* messages this large are read one at a time */
#define MILTER_CHUNK_BYTES 65536    /* a message is kept in chunks of this size */
#define MILTER_STAMP_MAX_FILES 4096 /* files looked at in one directory */
#define MILTER_ENV_CHECK_US G_USEC_PER_SEC /* rules and catalogs looked at this often */
#ifndef MILTER_INBOUND_PARALLEL
#define MILTER_INBOUND_PARALLEL 1 /* messages in a store transaction at once */
#endif

static gint milter_name_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends a file's or directory's size and mtime to stamp; for a
 * directory, also those of each entry (not recursive). */
static void milter_stamp_path(GString *stamp, const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;
	GPtrArray *names;

	if (stat(path, &st) != 0) {
		g_string_append_printf(stamp, "%s:-\n", path);
		return;
	}
	g_string_append_printf(stamp, "%s:%lld:%lld.%ld\n", path, (long long)st.st_size,
			       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if (!S_ISDIR(st.st_mode) || (dir = opendir(path)) == NULL)
		return;
	names = g_ptr_array_new_with_free_func(g_free);
	while ((e = readdir(dir)) != NULL && names->len < MILTER_STAMP_MAX_FILES)
		if (e->d_name[0] != '.')
			g_ptr_array_add(names, g_strdup(e->d_name));
	closedir(dir);
	g_ptr_array_sort(names, milter_name_cmp);
	for (guint i = 0; i < names->len; i++) {
		char *p = g_build_filename(path, g_ptr_array_index(names, i), NULL);

		if (stat(p, &st) == 0)
			g_string_append_printf(stamp, "%s:%lld:%lld.%ld\n", p,
					       (long long)st.st_size,
					       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		g_free(p);
	}
	g_ptr_array_free(names, TRUE);
}

/* What request_env_open reads (policies/policy.c, templates/catalog.c,
 * the token key), as one text that changes when any of it changes. */
static char *milter_env_stamp_make(void)
{
	static const char *const under_datadir[] = {"policies/rules", "rules",
						    "templates/catalogs", "catalogs"};
	GString *stamp = g_string_new(NULL);
	char *p;

	for (unsigned i = 0; i < G_N_ELEMENTS(under_datadir); i++) {
		p = g_build_filename(milter_conf->datadir, under_datadir[i], NULL);
		milter_stamp_path(stamp, p);
		g_free(p);
	}
	p = conf_home_path(milter_conf, "keys/token.key");
	milter_stamp_path(stamp, p);
	g_free(p);
	return g_string_free(stamp, FALSE);
}

/* The rules, catalogs and token key for one message, read again first
 * when a file changed; on success the reader lock is held until
 * milter_env_release.  A failed read keeps no stale copy: the message is a
 * temporary failure. */
static struct request_env *milter_env_acquire(char **error_r)
{
	struct request_env *env = NULL;
	gint64 now = g_get_monotonic_time();
	char *stamp;

	g_mutex_lock(&milter_env_lock);
	if (milter_env == NULL || now - milter_env_checked >= MILTER_ENV_CHECK_US) {
		stamp = milter_env_stamp_make();
		milter_env_checked = now;
		if (milter_env == NULL || g_strcmp0(stamp, milter_env_stamp) != 0) {
			g_rw_lock_writer_lock(&milter_env_rw);
			inbound_env_close(&milter_env);
			g_clear_pointer(&milter_env_stamp, g_free);
			if (inbound_env_open(milter_conf, &milter_env, error_r) == IMI_OK) {
				milter_env_stamp = stamp;
				stamp = NULL;
			}
			g_rw_lock_writer_unlock(&milter_env_rw);
		}
		g_free(stamp);
	}
	if (milter_env != NULL) {
		g_rw_lock_reader_lock(&milter_env_rw);
		env = milter_env;
	}
	g_mutex_unlock(&milter_env_lock);
	return env;
}

static void milter_env_release(void)
{
	g_rw_lock_reader_unlock(&milter_env_rw);
}

/* A message of MILTER_BIG_BYTES or more takes every slot: it is read
 * alone, so that two large messages' parsing copies are never in memory at
 * once. */
static int milter_slot_acquire(size_t len)
{
	int want = len >= MILTER_BIG_BYTES ? MILTER_INBOUND_PARALLEL : 1;

	g_mutex_lock(&milter_slot_lock);
	if (want > 1)
		milter_slots_big_waiting++;
	while (milter_slots_busy + want > MILTER_INBOUND_PARALLEL)
		g_cond_wait(&milter_slot_cond, &milter_slot_lock);
	if (want > 1)
		milter_slots_big_waiting--;
	milter_slots_busy += want;
	g_mutex_unlock(&milter_slot_lock);
	return want;
}

static void milter_slot_release(int taken)
{
	g_mutex_lock(&milter_slot_lock);
	milter_slots_busy -= taken;
	/* One slot freed and nobody waiting for several: one waiter can
	 * take it, waking the twenty would only put nineteen back to sleep. */
	if (taken == 1 && milter_slots_big_waiting == 0)
		g_cond_signal(&milter_slot_cond);
	else
		g_cond_broadcast(&milter_slot_cond);
	g_mutex_unlock(&milter_slot_lock);
}

/* A small message takes a slot only for its transaction: its parsing and
 * authentication run beside the others', and its commit's wait for the
 * disk is shared with theirs (inbound_gate). */
static void milter_gate_enter(void *ctx)
{
	*(int *)ctx = milter_slot_acquire(0);
}

static void milter_gate_leave(void *ctx)
{
	milter_slot_release(*(int *)ctx);
}

/* The store, opened now if it could not be opened at start (a read-only
 * or full file system, a store being recovered): until then every message
 * is a temporary failure, and the MTA keeps it. */
static struct store *milter_store_get(char **error_r)
{
	struct store *store;

	g_mutex_lock(&milter_store_lock);
	if (milter_store == NULL &&
	    store_open(milter_conf->home, 0, &milter_store, error_r) == IMI_OK)
		log_info(NULL, "milter: store %s open", milter_conf->home);
	store = milter_store;
	g_mutex_unlock(&milter_store_lock);
	return store;
}

struct milter_conn {
	char *client_ip;      /* from connect; NULL when not IP (local) */
	char *helo;
	/* the current transaction */
	char *sender;         /* MAIL FROM, bare; "" for the null sender */
	GPtrArray *service;   /* service recipients, bare; NULL-terminated at eom */
	int others;           /* recipients of other domains */
	/* Header and body as CRLF text: full chunks of exactly their size,
	 * then the one being filled; made one block at the end of message.
	 * (A GString grown to a large message holds up to twice its size.) */
	GPtrArray *chunks;    /* GBytes, each about MILTER_CHUNK_BYTES */
	GString *tail;
	size_t raw_len;       /* bytes in chunks and tail */
	char last;            /* the last byte kept, '\0' before the first */
	int too_big;          /* the message would exceed max_message_bytes */
	int leading_space;    /* the MTA keeps the space after "Name:" (SMFIP_HDR_LEADSPC) */
	unsigned long noreply; /* SMFIP_NR_* the MTA agreed to: those steps get no reply */
};

static struct milter_conn *milter_conn(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	if (c == NULL) {
		c = g_new0(struct milter_conn, 1);
		smfi_setpriv(ctx, c);
	}
	return c;
}

static void milter_message_reset(struct milter_conn *c)
{
	g_clear_pointer(&c->sender, g_free);
	if (c->service != NULL)
		g_ptr_array_free(c->service, TRUE);
	c->service = NULL;
	c->others = 0;
	if (c->chunks != NULL)
		g_ptr_array_free(c->chunks, TRUE);
	c->chunks = NULL;
	if (c->tail != NULL)
		g_string_free(c->tail, TRUE);
	c->tail = NULL;
	c->raw_len = 0;
	c->last = '\0';
	c->too_big = 0;
}

static const char *milter_queue_id(SMFICTX *ctx)
{
	const char *id = smfi_getsymval(ctx, (char *)"i");
	return id != NULL ? id : "-";
}

/* Sets the SMTP reply and returns the SMFIS code of an answer. */
static sfsistat milter_answer(SMFICTX *ctx, const struct answer *a)
{
	if (a->kind != ANSWER_ACCEPT &&
	    smfi_setreply(ctx, (char *)a->rcode, (char *)a->xcode, (char *)a->text) != MI_SUCCESS)
		log_warn(NULL, "milter %s: the MTA refused the reply text", milter_queue_id(ctx));
	return a->smfis;
}

/* Appends to the message, within max_message_bytes; line ends become CRLF
 * (Postfix hands folded header lines over with bare LF). */
static void milter_append(struct milter_conn *c, const char *data, size_t len)
{
	int64_t max = milter_conf->max_message_bytes;

	if (c->too_big)
		return;
	if (c->tail == NULL)
		c->tail = g_string_sized_new(1024);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && c->last != '\r') {
			g_string_append_c(c->tail, '\r');
			c->raw_len++;
		}
		g_string_append_c(c->tail, data[i]);
		c->raw_len++;
		c->last = data[i];
		if (c->tail->len >= MILTER_CHUNK_BYTES) {
			if (c->chunks == NULL)
				c->chunks = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
			g_ptr_array_add(c->chunks, g_bytes_new(c->tail->str, c->tail->len));
			g_string_truncate(c->tail, 0);
		}
	}
	if (max > 0 && (int64_t)c->raw_len > max)
		c->too_big = 1;
}

/* The message as one block of raw_len bytes (NUL-terminated); the chunks
 * are freed as they are copied.  The caller frees the block. */
static char *milter_raw_take(struct milter_conn *c)
{
	char *raw = g_malloc(c->raw_len + 1), *p = raw;

	for (guint i = 0; c->chunks != NULL && i < c->chunks->len; i++) {
		gsize n;
		const void *d = g_bytes_get_data(g_ptr_array_index(c->chunks, i), &n);

		memcpy(p, d, n);
		p += n;
		g_bytes_unref(g_ptr_array_index(c->chunks, i));
		g_ptr_array_index(c->chunks, i) = NULL;
	}
	if (c->tail != NULL) {
		memcpy(p, c->tail->str, c->tail->len);
		p += c->tail->len;
	}
	*p = '\0';
	if (c->chunks != NULL)
		g_ptr_array_free(c->chunks, TRUE);
	c->chunks = NULL;
	if (c->tail != NULL)
		g_string_free(c->tail, TRUE);
	c->tail = NULL;
	return raw;
}

/* CONTINUE for a step whose reply was negotiated away (SMFIP_NR_*):
 * then libmilter must send nothing. */
static sfsistat milter_continue(const struct milter_conn *c, unsigned long nr)
{
	return (c->noreply & nr) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
	struct milter_conn *c = milter_conn(ctx);
	char buf[INET6_ADDRSTRLEN];

	g_clear_pointer(&c->client_ip, g_free);
	if (addr != NULL && addr->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)addr)->sin_addr, buf, sizeof(buf)))
		c->client_ip = g_strdup(buf);
	else if (addr != NULL && addr->sa_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)addr)->sin6_addr, buf, sizeof(buf)))
		c->client_ip = g_strdup(buf);
	return milter_continue(c, SMFIP_NR_CONN);
}

static sfsistat milter_helo(SMFICTX *ctx, char *helo)
{
	struct milter_conn *c = milter_conn(ctx);

	g_free(c->helo);
	c->helo = g_strdup(helo);
	return milter_continue(c, SMFIP_NR_HELO);
}

static sfsistat milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = milter_conn(ctx);

	milter_message_reset(c);
	c->sender = recipient_bare(argv[0]);
	c->service = g_ptr_array_new_with_free_func(g_free);
	return milter_continue(c, SMFIP_NR_MAIL);
}

static sfsistat milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = milter_conn(ctx);
	struct answer a;

	switch (recipient_classify(milter_conf, argv[0])) {
	case RECIPIENT_OTHER:
		c->others++;
		return SMFIS_CONTINUE;
	case RECIPIENT_UNKNOWN:
		log_info(NULL, "milter %s: unknown service address refused at RCPT",
			 milter_queue_id(ctx));
		answer_make(ANSWER_NOUSER, NULL, &a);
		return milter_answer(ctx, &a);
	case RECIPIENT_SERVICE:
		break;
	}
	if (c->service == NULL)
		c->service = g_ptr_array_new_with_free_func(g_free);
	if (c->service->len >= MILTER_MAX_SERVICE_RECIPIENTS) {
		answer_make(ANSWER_TEMPFAIL, "too many service recipients in one message", &a);
		return milter_answer(ctx, &a);
	}
	g_ptr_array_add(c->service, recipient_bare(argv[0]));
	return SMFIS_CONTINUE;
}

static sfsistat milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_conn *c = milter_conn(ctx);

	/* Nothing for the service: the message is not ours to read (the
	 * end of the header accepts it, or here when the MTA wants a reply
	 * for each header). */
	if (c->service == NULL || c->service->len == 0)
		return (c->noreply & SMFIP_NR_HDR) != 0 ? SMFIS_NOREPLY : SMFIS_ACCEPT;
	/* With SMFIP_HDR_LEADSPC the value keeps the space after the colon,
	 * so the header is as the signer saw it (simple canonicalization);
	 * an MTA without it gets the usual single space back. */
	milter_append(c, name, strlen(name));
	milter_append(c, c->leading_space ? ":" : ": ", c->leading_space ? 1 : 2);
	milter_append(c, value, strlen(value));
	milter_append(c, "\r\n", 2);
	return milter_continue(c, SMFIP_NR_HDR);
}

static sfsistat milter_eoh(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn(ctx);

	if (c->service == NULL || c->service->len == 0)
		return SMFIS_ACCEPT;
	milter_append(c, "\r\n", 2);
	return SMFIS_CONTINUE;
}

static sfsistat milter_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct milter_conn *c = milter_conn(ctx);
	struct answer a;

	milter_append(c, (const char *)data, len);
	/* Without a reply for each chunk, a message too big is refused at
	 * its end (milter_append has stopped keeping it). */
	if (c->noreply & SMFIP_NR_BODY)
		return SMFIS_NOREPLY;
	if (c->too_big) {
		log_info(NULL, "milter %s: over max_message_bytes", milter_queue_id(ctx));
		answer_make(ANSWER_TOOBIG, NULL, &a);
		return milter_answer(ctx, &a);
	}
	return SMFIS_CONTINUE;
}

/* The service recipients of a stored message that also goes to others
 * (bare: the MTA takes an address with or without its angle brackets): a
 * recipient the MTA does not drop only costs a copy to the service
 * domain's transport. */
static void milter_drop_service_recipients(SMFICTX *ctx, struct milter_conn *c,
					   const char *case_id)
{
	for (guint i = 0; i < c->service->len && c->service->pdata[i] != NULL; i++)
		if (smfi_delrcpt(ctx, c->service->pdata[i]) != MI_SUCCESS)
			log_warn(case_id, "milter %s: the MTA did not drop a service recipient; "
				 "its copy goes on", milter_queue_id(ctx));
}

static sfsistat milter_eom(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn(ctx);
	struct inbound_envelope envelope = {0};
	struct inbound_result result = {0};
	struct answer a;
	struct store *store;
	struct request_env *env;
	char *error = NULL, *header, *raw;
	size_t raw_len;
	int status, slots, gate_slots = 0, kept, discard;
	sfsistat reply;
	const struct inbound_gate gate = {milter_gate_enter, milter_gate_leave, &gate_slots};

	if (c->service == NULL || c->service->len == 0)
		return SMFIS_ACCEPT;
	raw_len = c->raw_len;
	raw = milter_raw_take(c);
	g_ptr_array_add(c->service, NULL);
	envelope.path = INBOUND_MILTER;
	envelope.sender = c->sender;
	envelope.client_ip = c->client_ip;
	envelope.helo = c->helo;
	envelope.recipients = (const char *const *)c->service->pdata;
	if (c->too_big)
		status = IMI_TOOBIG;
	else if ((store = milter_store_get(&error)) == NULL)
		status = IMI_TEMPFAIL;
	else {
		/* A large message is read alone (every slot, the whole time). */
		slots = raw_len >= MILTER_BIG_BYTES ? milter_slot_acquire(raw_len) : 0;
		if (slots == 0)
			envelope.gate = &gate;
		if ((env = milter_env_acquire(&error)) == NULL)
			status = IMI_TEMPFAIL;
		else {
			status = inbound_process_env(store, milter_conf, env, raw, raw_len,
						     &envelope, &result, &error);
			milter_env_release();
		}
		if (slots > 0)
			milter_slot_release(slots);
	}
	answer_from_inbound(status, &result, &a);
	if (status != IMI_OK)
		log_event(a.kind == ANSWER_TOOBIG ? LOG_NOTICE : LOG_ERR, NULL,
			  "milter %s: %s: %s", milter_queue_id(ctx), answer_kind_name(a.kind),
			  error != NULL ? error : imi_status_name(status));
	else
		log_info(result.case_id, "milter %s: %s (%s)", milter_queue_id(ctx),
			 answer_kind_name(a.kind), result.reason != NULL ? result.reason : "");
	/* What the store kept ends there: Postfix does not queue the
	 * service's copy (DISCARD, still 250 to the client), or drops the
	 * service recipients of a message that has others too.  Noise is
	 * recorded, not kept: it goes on like any message. */
	kept = a.kind == ANSWER_ACCEPT && result.verdict != INBOUND_IGNORED &&
	       !milter_conf->milter_pass_on;
	discard = kept && c->others == 0;
	if (kept && !discard)
		milter_drop_service_recipients(ctx, c, result.case_id);
	if (a.kind == ANSWER_ACCEPT && result.auth_results != NULL && !discard) {
		/* Committed already: a failure here costs the header, not the
		 * message. */
		header = g_strconcat(c->leading_space ? " " : "", result.auth_results, NULL);
		if (smfi_insheader(ctx, 0, (char *)"Authentication-Results", header) != MI_SUCCESS)
			log_warn(result.case_id, "milter %s: Authentication-Results not added",
				 milter_queue_id(ctx));
		g_free(header);
	}
	reply = discard ? SMFIS_DISCARD : milter_answer(ctx, &a);
	inbound_result_clear(&result);
	g_free(error);
	g_free(raw);
	milter_message_reset(c);
	return reply;
}

static sfsistat milter_abort(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		milter_message_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat milter_close(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		milter_message_reset(c);
		g_free(c->client_ip);
		g_free(c->helo);
		g_free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static sfsistat milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
				 unsigned long f2, unsigned long f3, unsigned long *pf0,
				 unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/* Steps the filter never looks at, and replies it never needs: each
	 * one left out is a round trip fewer per message.  The connection
	 * (client address) and HELO feed SPF; RCPT refuses unknown service
	 * addresses; the end of the header accepts a message with no service
	 * recipient before its body; the end of message gives the verdict. */
	const unsigned long wanted = SMFIP_HDR_LEADSPC | SMFIP_NODATA | SMFIP_NOUNKNOWN |
				     SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
				     SMFIP_NR_HDR | SMFIP_NR_BODY;
	struct milter_conn *c = milter_conn(ctx);

	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_DELRCPT | SMFIF_SETSYMLIST);
	*pf1 = f1 & wanted;
	*pf2 = 0;
	*pf3 = 0;
	c->leading_space = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	c->noreply = *pf1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR |
			     SMFIP_NR_BODY);
	/* Only the queue id, where it is logged: fewer macros sent with
	 * each step.  An MTA that ignores the lists sends its default. */
	smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)"i");
	smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)"i");
	smfi_setsymlist(ctx, SMFIM_EOH, (char *)"i");
	smfi_setsymlist(ctx, SMFIM_EOM, (char *)"i");
	return SMFIS_CONTINUE;
}

/* The path of a unix socket spec, or NULL. */
static const char *milter_socket_path(const char *spec)
{
	if (g_str_has_prefix(spec, "unix:"))
		return spec + 5;
	if (g_str_has_prefix(spec, "local:"))
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

static int milter_socket_permit(const struct milter_socket *s, char **error_r)
{
	const char *path = milter_socket_path(s->spec);
	struct group *gr;

	if (path == NULL)
		return IMI_OK;
	if (s->group != NULL && *s->group != '\0') {
		if ((gr = getgrnam(s->group)) == NULL)
			return imi_fail(error_r, IMI_INVALID, "socket group %s does not exist",
					s->group);
		if (chown(path, (uid_t)-1, gr->gr_gid) != 0)
			return imi_fail(error_r, IMI_ERROR, "chown %s: %s", path,
					g_strerror(errno));
	}
	if (chmod(path, (mode_t)s->mode) != 0)
		return imi_fail(error_r, IMI_ERROR, "chmod %s: %s", path, g_strerror(errno));
	return IMI_OK;
}

int milter_run(struct store *store, const struct imi_conf *conf,
	       const struct milter_socket *socket, char **error_r)
{
	static struct smfiDesc desc = {
		.xxfi_name = (char *)"imi",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_DELRCPT | SMFIF_SETSYMLIST,
		.xxfi_connect = milter_connect,
		.xxfi_helo = milter_helo,
		.xxfi_envfrom = milter_envfrom,
		.xxfi_envrcpt = milter_envrcpt,
		.xxfi_header = milter_header,
		.xxfi_eoh = milter_eoh,
		.xxfi_body = milter_body,
		.xxfi_eom = milter_eom,
		.xxfi_abort = milter_abort,
		.xxfi_close = milter_close,
		.xxfi_negotiate = milter_negotiate,
	};
	char *spec = g_strdup(socket->spec);
	int ret;

	milter_store = store;
	milter_conf = conf;
	/* Large blocks (a message, its decoded parts) straight from and back
	 * to the system, and few malloc arenas for the many connection
	 * threads: otherwise glibc keeps what large messages used, per arena,
	 * long after they are gone. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_ARENA_MAX, 2);
	if (smfi_setconn(spec) != MI_SUCCESS) {
		g_free(spec);
		return imi_fail(error_r, IMI_INVALID, "socket %s: not a libmilter socket spec",
				socket->spec);
	}
	smfi_settimeout(MILTER_TIMEOUT_SECONDS);
	if (smfi_register(desc) != MI_SUCCESS) {
		g_free(spec);
		return imi_fail(error_r, IMI_ERROR, "libmilter refused the filter description");
	}
	if (smfi_opensocket(true) != MI_SUCCESS) {
		g_free(spec);
		return imi_fail(error_r, IMI_ERROR, "cannot open the milter socket %s",
				socket->spec);
	}
	if ((ret = milter_socket_permit(socket, error_r)) != IMI_OK) {
		g_free(spec);
		return ret;
	}
	log_info(NULL, "milter listening on %s", socket->spec);
	ret = smfi_main() == MI_SUCCESS ? IMI_OK
					 : imi_fail(error_r, IMI_ERROR, "libmilter stopped with an error");
	g_free(spec);
	g_mutex_lock(&milter_store_lock);
	if (milter_store != store && milter_store != NULL)
		store_close(&milter_store);
	milter_store = NULL;
	g_mutex_unlock(&milter_store_lock);
	g_mutex_lock(&milter_env_lock);
	g_rw_lock_writer_lock(&milter_env_rw);
	inbound_env_close(&milter_env);
	g_clear_pointer(&milter_env_stamp, g_free);
	g_rw_lock_writer_unlock(&milter_env_rw);
	g_mutex_unlock(&milter_env_lock);
	return ret;
}

/*
 * fetch.c: IMAP, POP3 and Maildir, each as "list, then per message: fetch,
 * inbound, mark done".
 */
#include "mta-hooks/fetch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libetpan/libetpan.h>
#include <string.h>
#include <unistd.h>

#include "mta-hooks/answer.h"
#include "mta-hooks/inbound.h"

enum fetch_step { FETCH_FETCHED, FETCH_COMMITTED, FETCH_MARKED };

/* The test hook: dies at the named step, as a crash would. */
static void fetch_crash_point(enum fetch_step step)
{
	static const char *const names[] = {"fetched", "committed", "marked"};
	const char *at = g_getenv("IMI_FETCH_CRASH_AT");

	if (at != NULL && strcmp(at, names[step]) == 0)
		_exit(9);
}

/* Runs one message through inbound.  IMI_OK with *done_r = 1 when it was
 * committed (or was a duplicate) and may be marked done; IMI_OK with
 * *done_r = 0 when it is to stay (too big); IMI_TEMPFAIL to stop. */
static int fetch_message(struct store *store, const struct imi_conf *conf, const char *raw,
			 size_t len, struct fetch_stats *stats, int *done_r, char **error_r)
{
	struct inbound_envelope envelope = {.path = INBOUND_FETCH};
	struct inbound_result result = {0};
	struct answer a;
	char *error = NULL;
	int status;

	*done_r = 0;
	fetch_crash_point(FETCH_FETCHED);
	status = conf->max_message_bytes > 0 && len > (size_t)conf->max_message_bytes
			 ? IMI_TOOBIG
			 : inbound_process(store, conf, raw, len, &envelope, &result, &error);
	answer_from_inbound(status, &result, &a);
	switch (a.kind) {
	case ANSWER_ACCEPT:
		if (result.verdict == INBOUND_DUPLICATE)
			stats->duplicates++;
		else
			stats->taken++;
		log_info(result.case_id, "fetch: %s", result.reason != NULL ? result.reason : "taken");
		*done_r = 1;
		fetch_crash_point(FETCH_COMMITTED);
		break;
	case ANSWER_TOOBIG:
		stats->skipped++;
		log_warn(NULL, "fetch: a message over max_message_bytes stays in the mailbox");
		break;
	default:
		/* REJECT cannot happen on this path; treat anything but a
		 * commit as "not now". */
		inbound_result_clear(&result);
		status = imi_fail(error_r, IMI_TEMPFAIL, "the store did not take a message: %s",
				  error != NULL ? error : a.text);
		g_free(error);
		return status;
	}
	inbound_result_clear(&result);
	g_free(error);
	return IMI_OK;
}

/* ---- URL ------------------------------------------------------------------ */

struct fetch_url {
	char *scheme;   /* imap, imaps, pop3, pop3s */
	char *host;
	uint16_t port;
	char *user;
	char *password;
	char *mailbox;  /* IMAP; INBOX by default */
};

static void fetch_url_free(struct fetch_url *u)
{
	g_free(u->scheme);
	g_free(u->host);
	g_free(u->user);
	if (u->password != NULL)
		memset(u->password, 0, strlen(u->password));
	g_free(u->password);
	g_free(u->mailbox);
}

static int fetch_url_parse(const char *text, struct fetch_url *u, char **error_r)
{
	static const struct { const char *scheme; uint16_t port; } schemes[] = {
		{"imap", 143}, {"imaps", 993}, {"pop3", 110}, {"pop3s", 995}};
	GError *gerr = NULL;
	GUri *uri = g_uri_parse(text, G_URI_FLAGS_HAS_PASSWORD, &gerr);
	const char *path;
	int ret = IMI_OK;

	memset(u, 0, sizeof(*u));
	if (uri == NULL) {
		ret = imi_fail(error_r, IMI_INVALID, "%s", gerr->message);
		g_error_free(gerr);
		return ret;
	}
	u->scheme = g_ascii_strdown(g_uri_get_scheme(uri), -1);
	for (unsigned i = 0; i < G_N_ELEMENTS(schemes); i++)
		if (strcmp(u->scheme, schemes[i].scheme) == 0)
			u->port = schemes[i].port;
	if (u->port == 0 || g_uri_get_host(uri) == NULL || g_uri_get_user(uri) == NULL) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "use imap://USER@HOST[:PORT]/MAILBOX, imaps://, pop3://, pop3s:// or maildir:PATH");
		goto out;
	}
	if (g_uri_get_port(uri) > 0)
		u->port = (uint16_t)g_uri_get_port(uri);
	u->host = g_strdup(g_uri_get_host(uri));
	u->user = g_strdup(g_uri_get_user(uri));
	u->password = g_strdup(g_uri_get_password(uri) != NULL ? g_uri_get_password(uri)
							       : g_getenv("IMI_FETCH_PASSWORD"));
	if (u->password == NULL) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "no password: put it in the URL or in IMI_FETCH_PASSWORD");
		goto out;
	}
	path = g_uri_get_path(uri);
	while (*path == '/')
		path++;
	u->mailbox = g_strdup(*path != '\0' ? path : "INBOX");
out:
	g_uri_unref(uri);
	return ret;
}

/* ---- IMAP ----------------------------------------------------------------- */

struct fetch_imap_msg {
	uint32_t uid;
	uint32_t size;
	int deleted;
};

static void fetch_imap_attrs(struct mailimap_msg_att *att, struct fetch_imap_msg *m,
			     char **body_r, size_t *len_r)
{
	for (clistiter *it = clist_begin(att->att_list); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC) {
			struct mailimap_msg_att_static *st = item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID && m != NULL)
				m->uid = st->att_data.att_uid;
			else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE && m != NULL)
				m->size = st->att_data.att_rfc822_size;
			else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && body_r != NULL &&
				 st->att_data.att_body_section->sec_body_part != NULL) {
				*len_r = st->att_data.att_body_section->sec_length;
				*body_r = g_memdup2(st->att_data.att_body_section->sec_body_part, *len_r);
			}
		} else if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC && m != NULL &&
			   item->att_data.att_dyn->att_list != NULL) {
			for (clistiter *f = clist_begin(item->att_data.att_dyn->att_list); f != NULL;
			     f = clist_next(f)) {
				struct mailimap_flag_fetch *ff = clist_content(f);
				if (ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER && ff->fl_flag != NULL &&
				    ff->fl_flag->fl_type == MAILIMAP_FLAG_DELETED)
					m->deleted = 1;
			}
		}
	}
}

static int fetch_imap_fail(mailimap *imap, const char *what, int r, char **error_r)
{
	const char *text = imap != NULL && imap->imap_response != NULL ? imap->imap_response : "";
	return imi_fail(error_r, IMI_TEMPFAIL, "IMAP %s failed (libetpan error %d) %s", what, r, text);
}

static int fetch_imap(struct store *store, const struct imi_conf *conf, const struct fetch_url *u,
		      struct fetch_stats *stats, char **error_r)
{
	mailimap *imap = mailimap_new(0, NULL);
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	clist *list = NULL;
	GArray *msgs = g_array_new(FALSE, TRUE, sizeof(struct fetch_imap_msg));
	int r, ret = IMI_OK, marked = 0, left_deleted = 0;

	mailimap_set_timeout(imap, FETCH_TIMEOUT_SECONDS);
	r = strcmp(u->scheme, "imaps") == 0 ? mailimap_ssl_connect(imap, u->host, u->port)
					    : mailimap_socket_connect(imap, u->host, u->port);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "cannot connect to %s:%u (libetpan error %d)",
			       u->host, u->port, r);
		goto out;
	}
	if (strcmp(u->scheme, "imap") == 0) {
		struct mailimap_capability_data *cap = NULL;
		if (mailimap_capability(imap, &cap) == MAILIMAP_NO_ERROR)
			mailimap_capability_data_free(cap);
		if (mailimap_has_extension(imap, (char *)"STARTTLS") &&
		    (r = mailimap_socket_starttls(imap)) != MAILIMAP_NO_ERROR) {
			ret = fetch_imap_fail(imap, "STARTTLS", r, error_r);
			goto out;
		}
	}
	if ((r = mailimap_login(imap, u->user, u->password)) != MAILIMAP_NO_ERROR) {
		ret = fetch_imap_fail(imap, "LOGIN", r, error_r);
		goto out;
	}
	if ((r = mailimap_select(imap, u->mailbox)) != MAILIMAP_NO_ERROR) {
		ret = fetch_imap_fail(imap, "SELECT", r, error_r);
		goto out;
	}
	/* The list: UID, size and flags of every message. */
	if (imap->imap_selection_info != NULL && imap->imap_selection_info->sel_exists > 0) {
		ft = mailimap_fetch_type_new_fetch_att_list_empty();
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
		set = mailimap_set_new_interval(1, 0);
		r = mailimap_fetch(imap, set, ft, &list);
		mailimap_set_free(set);
		mailimap_fetch_type_free(ft);
		if (r != MAILIMAP_NO_ERROR) {
			ret = fetch_imap_fail(imap, "FETCH", r, error_r);
			goto out;
		}
		for (clistiter *it = clist_begin(list); it != NULL && msgs->len < FETCH_MAX_MESSAGES;
		     it = clist_next(it)) {
			struct fetch_imap_msg m = {0};
			fetch_imap_attrs(clist_content(it), &m, NULL, NULL);
			if (m.uid != 0 && !m.deleted)
				g_array_append_val(msgs, m);
			/* Marked done by a run that died before its EXPUNGE. */
			left_deleted |= m.deleted;
		}
		mailimap_fetch_list_free(list);
		list = NULL;
	}
	for (unsigned i = 0; i < msgs->len && ret == IMI_OK; i++) {
		struct fetch_imap_msg *m = &g_array_index(msgs, struct fetch_imap_msg, i);
		char *body = NULL;
		size_t len = 0;
		int done;

		if (conf->max_message_bytes > 0 && m->size > conf->max_message_bytes) {
			stats->skipped++;
			log_warn(NULL, "fetch: IMAP UID %u is over max_message_bytes and stays", m->uid);
			continue;
		}
		ft = mailimap_fetch_type_new_fetch_att_list_empty();
		mailimap_fetch_type_new_fetch_att_list_add(
			ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
		set = mailimap_set_new_single(m->uid);
		r = mailimap_uid_fetch(imap, set, ft, &list);
		mailimap_set_free(set);
		mailimap_fetch_type_free(ft);
		if (r != MAILIMAP_NO_ERROR) {
			ret = fetch_imap_fail(imap, "UID FETCH", r, error_r);
			break;
		}
		if (clist_begin(list) != NULL)
			fetch_imap_attrs(clist_content(clist_begin(list)), NULL, &body, &len);
		mailimap_fetch_list_free(list);
		list = NULL;
		if (body == NULL)
			continue; /* expunged by another client meanwhile */
		ret = fetch_message(store, conf, body, len, stats, &done, error_r);
		g_free(body);
		if (ret != IMI_OK || !done)
			continue;
		{
			struct mailimap_flag_list *flags = mailimap_flag_list_new_empty();
			struct mailimap_store_att_flags *st;
			mailimap_flag_list_add(flags, mailimap_flag_new_seen());
			mailimap_flag_list_add(flags, mailimap_flag_new_deleted());
			st = mailimap_store_att_flags_new_add_flags_silent(flags);
			set = mailimap_set_new_single(m->uid);
			r = mailimap_uid_store(imap, set, st);
			mailimap_set_free(set);
			mailimap_store_att_flags_free(st);
			if (r != MAILIMAP_NO_ERROR) {
				ret = fetch_imap_fail(imap, "UID STORE", r, error_r);
				break;
			}
			marked++;
			fetch_crash_point(FETCH_MARKED);
		}
	}
	if ((marked > 0 || left_deleted) && (r = mailimap_expunge(imap)) != MAILIMAP_NO_ERROR && ret == IMI_OK)
		ret = fetch_imap_fail(imap, "EXPUNGE", r, error_r);
	mailimap_logout(imap);
out:
	if (list != NULL)
		mailimap_fetch_list_free(list);
	g_array_free(msgs, TRUE);
	mailimap_free(imap);
	return ret;
}

/* ---- POP3 ----------------------------------------------------------------- */

static int fetch_pop3(struct store *store, const struct imi_conf *conf, const struct fetch_url *u,
		      struct fetch_stats *stats, char **error_r)
{
	mailpop3 *pop = mailpop3_new(0, NULL);
	carray *list = NULL;
	int r, ret = IMI_OK;

	mailpop3_set_timeout(pop, FETCH_TIMEOUT_SECONDS);
	r = strcmp(u->scheme, "pop3s") == 0 ? mailpop3_ssl_connect(pop, u->host, u->port)
					    : mailpop3_socket_connect(pop, u->host, u->port);
	if (r != MAILPOP3_NO_ERROR) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "cannot connect to %s:%u (libetpan error %d)",
			       u->host, u->port, r);
		goto out;
	}
	if (strcmp(u->scheme, "pop3") == 0) {
		clist *capa = NULL;
		int stls = 0;
		if (mailpop3_capa(pop, &capa) == MAILPOP3_NO_ERROR) {
			for (clistiter *it = clist_begin(capa); it != NULL; it = clist_next(it)) {
				struct mailpop3_capa *c = clist_content(it);
				stls |= g_ascii_strcasecmp(c->cap_name, "STLS") == 0;
			}
			mailpop3_capa_resp_free(capa);
		}
		if (stls && (r = mailpop3_socket_starttls(pop)) != MAILPOP3_NO_ERROR) {
			ret = imi_fail(error_r, IMI_TEMPFAIL, "POP3 STLS failed (libetpan error %d)", r);
			goto out;
		}
	}
	if ((r = mailpop3_user(pop, u->user)) != MAILPOP3_NO_ERROR ||
	    (r = mailpop3_pass(pop, u->password)) != MAILPOP3_NO_ERROR) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "POP3 login as %s failed (libetpan error %d)",
			       u->user, r);
		goto out;
	}
	if ((r = mailpop3_list(pop, &list)) != MAILPOP3_NO_ERROR) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "POP3 LIST failed (libetpan error %d)", r);
		goto out;
	}
	for (unsigned i = 0; i < carray_count(list) && i < FETCH_MAX_MESSAGES && ret == IMI_OK; i++) {
		struct mailpop3_msg_info *info = carray_get(list, i);
		char *body = NULL;
		size_t len = 0;
		int done;

		if (info == NULL || info->msg_deleted)
			continue;
		if (conf->max_message_bytes > 0 && info->msg_size > conf->max_message_bytes) {
			stats->skipped++;
			continue;
		}
		if ((r = mailpop3_retr(pop, info->msg_index, &body, &len)) != MAILPOP3_NO_ERROR) {
			ret = imi_fail(error_r, IMI_TEMPFAIL, "POP3 RETR failed (libetpan error %d)", r);
			break;
		}
		ret = fetch_message(store, conf, body, len, stats, &done, error_r);
		mailpop3_retr_free(body);
		if (ret != IMI_OK || !done)
			continue;
		if ((r = mailpop3_dele(pop, info->msg_index)) != MAILPOP3_NO_ERROR) {
			ret = imi_fail(error_r, IMI_TEMPFAIL, "POP3 DELE failed (libetpan error %d)", r);
			break;
		}
		fetch_crash_point(FETCH_MARKED);
	}
	/* DELE takes effect at QUIT only: on a failure, the messages stay and
	 * come back as duplicates. */
	mailpop3_quit(pop);
out:
	mailpop3_free(pop);
	return ret;
}

/* ---- Maildir -------------------------------------------------------------- */

static int fetch_maildir(struct store *store, const struct imi_conf *conf, const char *path,
			 struct fetch_stats *stats, char **error_r)
{
	static const char *const subdirs[] = {"new", "cur"};
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	int ret = IMI_OK;

	for (unsigned s = 0; s < G_N_ELEMENTS(subdirs); s++) {
		char *dir = g_build_filename(path, subdirs[s], NULL);
		DIR *d = opendir(dir);
		struct dirent *e;
		if (d == NULL) {
			ret = imi_fail(error_r, errno == ENOENT ? IMI_NOTFOUND : IMI_TEMPFAIL,
				       "%s: %s (is it a Maildir?)", dir, g_strerror(errno));
			g_free(dir);
			goto out;
		}
		while ((e = readdir(d)) != NULL && files->len < FETCH_MAX_MESSAGES)
			if (e->d_name[0] != '.')
				g_ptr_array_add(files, g_build_filename(dir, e->d_name, NULL));
		closedir(d);
		g_free(dir);
	}
	/* Maildir names begin with the delivery time: sorted is in order. */
	g_ptr_array_sort(files, (GCompareFunc)(void (*)(void))g_strcmp0);
	for (unsigned i = 0; i < files->len && ret == IMI_OK; i++) {
		const char *file = g_ptr_array_index(files, i);
		char *body = NULL, *dir;
		gsize len = 0;
		int done, fd;

		if (!g_file_get_contents(file, &body, &len, NULL))
			continue; /* taken by someone else meanwhile */
		ret = fetch_message(store, conf, body, len, stats, &done, error_r);
		g_free(body);
		if (ret != IMI_OK || !done)
			continue;
		if (unlink(file) != 0 && errno != ENOENT) {
			ret = imi_fail(error_r, IMI_TEMPFAIL, "unlink %s: %s", file, g_strerror(errno));
			break;
		}
		dir = g_path_get_dirname(file);
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
			fsync(fd);
			close(fd);
		}
		g_free(dir);
		fetch_crash_point(FETCH_MARKED);
	}
out:
	g_ptr_array_free(files, TRUE);
	return ret;
}

int fetch_run(struct store *store, const struct imi_conf *conf, const char *url,
	      struct fetch_stats *stats, char **error_r)
{
	struct fetch_url u;
	int ret;

	memset(stats, 0, sizeof(*stats));
	if (g_str_has_prefix(url, "maildir:")) {
		const char *path = url + 8;
		char *full = *path == '\0' ? conf_home_path(conf, conf->inbox_maildir)
			     : g_path_is_absolute(path) ? g_strdup(path)
							: g_build_filename(conf->home, path, NULL);
		ret = fetch_maildir(store, conf, full, stats, error_r);
		g_free(full);
		return ret;
	}
	if ((ret = fetch_url_parse(url, &u, error_r)) != IMI_OK)
		return ret;
	if (g_str_has_prefix(u.scheme, "imap"))
		ret = fetch_imap(store, conf, &u, stats, error_r);
	else
		ret = fetch_pop3(store, conf, &u, stats, error_r);
	fetch_url_free(&u);
	return ret;
}

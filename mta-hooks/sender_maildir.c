/*
 * sender_maildir.c: the outbox Maildir of the embedded default (no relay):
 * the file that imi send writes for each message, and their removal when a
 * case is deleted (imi tick).  Nothing of SMTP here, so that imi, which
 * runs tick, links this file without libetpan (sender.c is in imi-net).
 */
#include "mta-hooks/sender.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int sender_fsync_dir(const char *dir, char **error_r)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int ok = fd >= 0 && fsync(fd) == 0;

	if (fd >= 0)
		close(fd);
	return ok ? IMI_OK
		  : imi_fail(error_r, IMI_TEMPFAIL, "fsync %s: %s", dir, g_strerror(errno));
}

static char *sender_maildir_path(const struct imi_conf *conf)
{
	return g_path_is_absolute(conf->outbox_maildir)
		       ? g_strdup(conf->outbox_maildir)
		       : g_build_filename(conf->home, conf->outbox_maildir, NULL);
}

/* A case id as it may end a Maildir file name: "IMI-2026-000001". */
static int sender_case_name_ok(const char *case_id)
{
	if (case_id == NULL || *case_id == '\0' || strlen(case_id) > 64)
		return 0;
	for (const char *p = case_id; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '-')
			return 0;
	return 1;
}

/* tmp/NAME written and synced, then renamed into new/.  The name is derived
 * from the item, so a drain that crashed after the rename finds its file in
 * new/ instead of delivering it twice.  It ends in the case id when the item
 * belongs to a case, so that the case's deletion finds its copies
 * (sender_maildir_forget). */
int sender_maildir_write(const struct imi_conf *conf, const struct outbox_item *item,
			 const GString *msg, GString *detail, char **error_r)
{
	char *dir = sender_maildir_path(conf);
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, item->message_id, -1);
	char *name = sender_case_name_ok(item->case_id)
			     ? g_strdup_printf("imi.%" G_GUINT64_FORMAT ".%.16s.%s", item->seq,
					       hash, item->case_id)
			     : g_strdup_printf("imi.%" G_GUINT64_FORMAT ".%.16s", item->seq, hash);
	char *tmp = g_build_filename(dir, "tmp", name, NULL);
	char *new_dir = g_build_filename(dir, "new", NULL);
	char *final = g_build_filename(new_dir, name, NULL);
	GString *text = g_string_sized_new(msg->len + 256);
	int fd = -1, ret = IMI_OK;

	if (g_file_test(final, G_FILE_TEST_EXISTS)) {
		g_string_assign(detail, "already in the outbox Maildir");
		goto out;
	}
	/* Envelope as a delivery agent records it; Maildir is LF text. */
	g_string_append_printf(text, "Return-Path: <%s>\n", item->from);
	for (unsigned i = 0; item->to != NULL && item->to[i] != NULL; i++)
		g_string_append_printf(text, "Delivered-To: %s\n", item->to[i]);
	for (size_t i = 0; i < msg->len; i++)
		if (!(msg->str[i] == '\r' && i + 1 < msg->len && msg->str[i + 1] == '\n'))
			g_string_append_c(text, msg->str[i]);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text->str, text->len) != (ssize_t)text->len || fsync(fd) != 0) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "writing %s: %s", tmp, g_strerror(errno));
		unlink(tmp);
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, final) != 0) {
		ret = imi_fail(error_r, IMI_TEMPFAIL, "rename into %s: %s", final, g_strerror(errno));
		unlink(tmp);
		goto out;
	}
	if ((ret = sender_fsync_dir(new_dir, error_r)) != IMI_OK)
		goto out;
	g_string_printf(detail, "written to the outbox Maildir as %s", name);
out:
	if (fd >= 0)
		close(fd);
	g_string_free(text, TRUE);
	g_free(dir);
	g_free(hash);
	g_free(name);
	g_free(tmp);
	g_free(new_dir);
	g_free(final);
	return ret;
}

/* Overwrites a file with zeros of its length, syncs, and removes it. */
static int sender_shred(const char *path, char **error_r)
{
	static const char zeros[4096];
	struct stat st;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int ok = fd >= 0 && fstat(fd, &st) == 0;

	for (off_t done = 0; ok && done < st.st_size;) {
		size_t n = st.st_size - done < (off_t)sizeof(zeros) ? (size_t)(st.st_size - done)
								  : sizeof(zeros);
		ssize_t w = write(fd, zeros, n);

		ok = w > 0;
		done += ok ? w : 0;
	}
	ok = ok && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok && errno == ENOENT)
		return IMI_OK; /* taken away meanwhile */
	if (!ok || (unlink(path) != 0 && errno != ENOENT))
		return imi_fail(error_r, IMI_TEMPFAIL, "removing %s: %s", path, g_strerror(errno));
	return IMI_OK;
}

int sender_maildir_forget(const struct imi_conf *conf, const char *case_id,
			  unsigned *removed_r, char **error_r)
{
	static const char *const subdirs[] = {"tmp", "new", "cur"};
	char *maildir = sender_maildir_path(conf);
	char *lock_path = g_build_filename(conf->home, "send.lock", NULL);
	char *suffix = g_strconcat(".", case_id, NULL);
	int lock = -1, ret = IMI_OK;

	*removed_r = 0;
	if (!sender_case_name_ok(case_id)) {
		ret = imi_fail(error_r, IMI_INVALID, "%s is not a case id", case_id);
		goto out;
	}
	/* Without a relay a drain may be writing a file of the case right
	 * now: wait for it (Maildir drains are short). */
	if (*conf->smtp_relay == '\0') {
		lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lock < 0 || flock(lock, LOCK_EX) != 0) {
			ret = imi_fail(error_r, IMI_TEMPFAIL, "%s: %s", lock_path, g_strerror(errno));
			goto out;
		}
	}
	for (unsigned s = 0; s < G_N_ELEMENTS(subdirs) && ret == IMI_OK; s++) {
		char *dir = g_build_filename(maildir, subdirs[s], NULL);
		GDir *d = g_dir_open(dir, 0, NULL);
		const char *e;
		unsigned seen = 0, removed = 0;

		while (d != NULL && ret == IMI_OK && (e = g_dir_read_name(d)) != NULL &&
		       seen++ < SENDER_MAX_MAILDIR_FILES) {
			/* A reader may have moved it to cur/ with ":2,S" flags. */
			char *base = g_strndup(e, strcspn(e, ":"));

			if (g_str_has_prefix(base, "imi.") && g_str_has_suffix(base, suffix)) {
				char *path = g_build_filename(dir, e, NULL);
				ret = sender_shred(path, error_r);
				removed += ret == IMI_OK;
				g_free(path);
			}
			g_free(base);
		}
		if (d != NULL)
			g_dir_close(d);
		if (ret == IMI_OK && removed > 0)
			ret = sender_fsync_dir(dir, error_r);
		*removed_r += removed;
		g_free(dir);
	}
out:
	if (lock >= 0)
		close(lock);
	g_free(maildir);
	g_free(lock_path);
	g_free(suffix);
	return ret;
}

/*
 * util: what every module needs and nothing that knows about mail.
 *
 * Status codes shared by the libraries (store/, parser/, templates/,
 * policies/): a library returns one of these and, on failure, an error text
 * in *error_r (allocated with g_malloc, freed by the caller with g_free).
 * Libraries never print and never exit; the imi command and mta-hooks decide
 * what to log and how to answer.
 *
 * Logging goes to syslog (facility mail, ident "imi") and, after
 * log_init(verbose=1), to stderr too.  One line per event; the case id, when
 * there is one, is the first field.  Personal data is never passed to the log.
 */
#ifndef IMI_UTIL_H
#define IMI_UTIL_H

#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

enum imi_status {
	IMI_OK = 0,
	IMI_NOTFOUND,  /* the thing asked for does not exist */
	IMI_EXISTS,    /* would overwrite something that must stay unique */
	IMI_INVALID,   /* bad input: the caller's fault, retrying will not help */
	IMI_DENIED,    /* authenticated, but not allowed */
	IMI_TEMPFAIL,  /* try again later: store busy, disk full, DNS down */
	IMI_TOOBIG,    /* over a configured bound */
	IMI_ERROR,     /* anything else; not worth retrying */
};

const char *imi_status_name(int status);

/* Sets *error_r (if error_r is not NULL and *error_r is still NULL) and
 * returns status, so that "return imi_fail(error_r, IMI_INVALID, ...)" reads
 * as one step. */
int imi_fail(char **error_r, int status, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* Logging. */
void log_init(const char *ident, int verbose);
void log_event(int priority, const char *case_id, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);
#define log_info(case_id, ...) log_event(LOG_INFO, case_id, __VA_ARGS__)
#define log_warn(case_id, ...) log_event(LOG_WARNING, case_id, __VA_ARGS__)
#define log_error(case_id, ...) log_event(LOG_ERR, case_id, __VA_ARGS__)

/* Time: seconds since the epoch, UTC.  imi_now() honours a clock set with
 * imi_time_set_now() (imi tick --now) so that tests can travel in time. */
int64_t imi_now(void);
void imi_time_set_now(int64_t t);
/* Accepts 2026-11-25, 2026-11-25T10:00, 2026-11-25T10:00:00[Z|+01:00]. */
int imi_time_parse(const char *text, int64_t *t_r);
/* "2026-11-25T10:00:00Z" into buf (at least 21 bytes). */
const char *imi_time_format(int64_t t, char *buf, size_t size);

/* Files. */
int imi_write_file_atomic(const char *path, const void *data, size_t len,
			  int mode, char **error_r);
int imi_mkdir_p(const char *path, int mode, char **error_r);

/* Strings. */
int imi_email_valid(const char *addr);
char *imi_email_normalize(const char *addr); /* lower-case, trimmed; g_free */
const char *imi_email_domain(const char *addr);

#endif

/*
 * util.c: status names, error texts, syslog, clock, files, addresses.
 */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <paths.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
/* The process's LeakSanitizer suppressions (sanitizer builds only).
 * LeakSanitizer asks the executable for them when it starts, before imi
 * opens its mail module, so they live here, in what every program links.
 * libopendkim 2.11.0~beta2 does not free an Ed25519 signing key in
 * dkim_free (dkim_privkey_load loads it; OpenSSL's decoder allocates the key
 * inside, whose stacks LeakSanitizer cannot unwind past libcrypto).  That
 * leak (about 1.3 KB per Ed25519 signature) is the library's; the same is
 * suppressed for valgrind in tests/valgrind.supp. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:dkim_privkey_load\nleak:libcrypto.so\n";
}

/* The process's AddressSanitizer options, read the same way.  GCC 12's
 * runtime (as up to GCC 13) intercepts __tls_get_addr and, when a dynamic
 * TLS block starts 16 bytes into a page, takes the two words before it for
 * the block's address and length, as glibc before 2.25 laid them out.
 * Since then no such header exists: a block malloc happens to place there
 * gets a nonsense range, and LeakSanitizer's tracer crashes scanning it at
 * exit ("Tracer caught signal 11"), the process dying before its output is
 * flushed.  Without the interceptor LeakSanitizer still scans those blocks:
 * it holds every chunk the dynamic linker allocates as reachable.
 * tests/integration/sanitizer.sh makes such a block and checks both. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "intercept_tls_get_addr=0";
}
#endif

static int log_to_stderr;
/* Whether the syslog socket exists, looked at most every
 * LOG_SOCKET_CHECK_US: without it the C library tries to connect again for
 * every line (a socket, a failed connect and a close each time) and drops
 * the line anyway. */
#define LOG_SOCKET_CHECK_US (10 * G_USEC_PER_SEC)
static gint log_socket_ok;
static gint64 log_socket_next_check; /* monotonic time of the next look */
static int64_t clock_override = -1; /* set by imi tick --now */

const char *imi_status_name(int status)
{
	switch (status) {
	case IMI_OK: return "ok";
	case IMI_NOTFOUND: return "not found";
	case IMI_EXISTS: return "exists";
	case IMI_INVALID: return "invalid";
	case IMI_DENIED: return "denied";
	case IMI_TEMPFAIL: return "temporary failure";
	case IMI_TOOBIG: return "too big";
	default: return "error";
	}
}

int imi_fail(char **error_r, int status, const char *fmt, ...)
{
	va_list ap;

	if (error_r != NULL && *error_r == NULL) {
		va_start(ap, fmt);
		*error_r = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	return status;
}

static int log_socket_present(void)
{
	gint64 now = g_get_monotonic_time();

	/* Threads may race here: the worst is one look more. */
	if (now >= log_socket_next_check) {
		g_atomic_int_set(&log_socket_ok, access(_PATH_LOG, F_OK) == 0);
		log_socket_next_check = now + LOG_SOCKET_CHECK_US;
	}
	return g_atomic_int_get(&log_socket_ok);
}

void log_init(const char *ident, int verbose)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_to_stderr = verbose;
}

void log_event(int priority, const char *case_id, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (case_id != NULL && *case_id != '\0') {
		if (log_socket_present())
			syslog(priority, "%s: %s", case_id, text);
		if (log_to_stderr)
			fprintf(stderr, "imi: %s: %s\n", case_id, text);
	} else {
		if (log_socket_present())
			syslog(priority, "%s", text);
		if (log_to_stderr)
			fprintf(stderr, "imi: %s\n", text);
	}
	g_free(text);
}

int64_t imi_now(void)
{
	return clock_override >= 0 ? clock_override : (int64_t)time(NULL);
}

void imi_time_set_now(int64_t t)
{
	clock_override = t;
}

int imi_time_parse(const char *text, int64_t *t_r)
{
	GDateTime *dt;
	char *full = NULL;
	size_t n = strlen(text);

	/* GDateTime wants a full date-time with a zone: complete what people
	 * commonly type. */
	if (n == 10)
		full = g_strdup_printf("%sT00:00:00Z", text);
	else if (n == 16)
		full = g_strdup_printf("%s:00Z", text);
	else if (n == 19)
		full = g_strdup_printf("%sZ", text);
	else
		full = g_strdup(text);
	dt = g_date_time_new_from_iso8601(full, NULL);
	g_free(full);
	if (dt == NULL)
		return IMI_INVALID;
	*t_r = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return IMI_OK;
}

const char *imi_time_format(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int imi_write_file_atomic(const char *path, const void *data, size_t len,
			  int mode, char **error_r)
{
	char *tmp = g_strdup_printf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const char *p = data;
	size_t left = len;

	if (fd < 0) {
		int e = errno;
		g_free(tmp);
		return imi_fail(error_r, e == ENOSPC ? IMI_TEMPFAIL : IMI_ERROR,
				"cannot create %s: %s", path, strerror(e));
	}
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			close(fd);
			unlink(tmp);
			g_free(tmp);
			return imi_fail(error_r, IMI_TEMPFAIL, "cannot write %s: %s",
					path, strerror(e));
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		g_free(tmp);
		return imi_fail(error_r, IMI_TEMPFAIL, "cannot write %s: %s", path,
				strerror(e));
	}
	g_free(tmp);
	return IMI_OK;
}

int imi_mkdir_p(const char *path, int mode, char **error_r)
{
	if (g_mkdir_with_parents(path, mode) < 0)
		return imi_fail(error_r, errno == ENOSPC ? IMI_TEMPFAIL : IMI_ERROR,
				"cannot create directory %s: %s", path,
				strerror(errno));
	return IMI_OK;
}

/* A deliberately plain check: local@domain, printable ASCII local part
 * without spaces or angle brackets, a domain with a dot and no empty labels.
 * Directory entries are typed by operators; anything stranger is a typo. */
int imi_email_valid(const char *addr)
{
	const char *at, *p;
	size_t local;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return 0;
	local = (size_t)(at - addr);
	if (local == 0 || local > 64 || strlen(at + 1) > 253)
		return 0;
	for (p = addr; p < at; p++)
		if (*p <= ' ' || *p >= 127 || strchr("<>()[],;:\\\"", *p) != NULL)
			return 0;
	p = at + 1;
	if (*p == '\0' || *p == '.' || strchr(p, '.') == NULL ||
	    strstr(p, "..") != NULL || p[strlen(p) - 1] == '.')
		return 0;
	for (; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
			return 0;
	return 1;
}

char *imi_email_normalize(const char *addr)
{
	char *s = g_strstrip(g_strdup(addr));
	char *l = g_ascii_strdown(s, -1);
	g_free(s);
	return l;
}

const char *imi_email_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at != NULL ? at + 1 : "";
}

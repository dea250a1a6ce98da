/*
 * testutil.h: what the cmocka unit tests share.  Each test owns a temporary
 * directory under tests/tmp (removed when it passes) and reports the field,
 * the value got and the value wanted when it fails.
 */
#ifndef IMI_TESTUTIL_H
#define IMI_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh directory for one test; testutil_rmdir removes it. */
static inline char *testutil_tmpdir(const char *name)
{
	char *cwd = g_get_current_dir();
	char *base = g_build_filename(cwd, "tests", "tmp", NULL);
	char *tmpl, *dir;

	g_free(cwd);

	g_mkdir_with_parents(base, 0700);
	tmpl = g_strdup_printf("%s/%s-XXXXXX", base, name);
	dir = g_mkdtemp(tmpl);
	g_free(base);
	if (dir == NULL)
		fail_msg("cannot create a temporary directory for %s", name);
	return dir;
}

static inline void testutil_rmdir(char *dir)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	g_free(cmd);
	g_free(dir);
}

#define check_str(field, got, want)                                          \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) \
			fail_msg("%s: got \"%s\", want \"%s\"", (field),     \
				 g_ ? g_ : "(null)", w_ ? w_ : "(null)");    \
	} while (0)

#define check_int(field, got, want)                                          \
	do {                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);     \
		if (g_ != w_)                                                \
			fail_msg("%s: got %lld, want %lld", (field), g_, w_); \
	} while (0)

#endif

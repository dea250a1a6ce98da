/*
 * fuzz/fuzz.h: what the fuzz targets share.
 *
 * What it does: each fuzz/fuzz_<area>.c defines LLVMFuzzerInitialize (load
 * what the target reads besides its input, once) and LLVMFuzzerTestOneInput
 * (feed one input to the code of its area the way imi does, then check
 * what that code promises about its result).  The same source links either
 * with libFuzzer (make fuzz, build-fuzz/) or with fuzz/replay.c (make check:
 * every saved input once, deterministic).
 *
 * How it fails: a broken promise calls fuzz_fail, which prints what was
 * wrong and aborts, so that libFuzzer saves the input as a crash and the
 * replay stops with a non-zero status.  Crashes, leaks and undefined
 * behaviour are the sanitizers' to report.
 *
 * What it trusts: nothing in the input.  The question sets and catalogs
 * come from the source tree: $IMI_SRC, else the directory the binary was
 * built from (FUZZ_SRCDIR).
 */
#ifndef IMI_FUZZ_H
#define IMI_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "parser/message.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path under the source tree (g_free). */
static inline char *fuzz_src_path(const char *rel)
{
	const char *top = g_getenv("IMI_SRC");

	return g_build_filename(top != NULL && *top != '\0' ? top : FUZZ_SRCDIR,
				rel, NULL);
}

#define fuzz_fail(...)                                                    \
	do {                                                              \
		fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);     \
		fprintf(stderr, __VA_ARGS__);                             \
		fputc('\n', stderr);                                      \
		abort();                                                  \
	} while (0)

/* The input as NUL-terminated UTF-8 text: as it is when it is valid UTF-8
 * without NUL (the trimmer and the answer reader get such text from
 * parser/message), else decoded the way parser/message decodes a body.
 * g_free the result. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	if (memchr(data, '\0', size) == NULL &&
	    g_utf8_validate((const char *)data, (gssize)size, NULL))
		return g_strndup((const char *)data, size);
	return parse_text_to_utf8((const char *)data, size, NULL);
}

/* Text promised to be UTF-8 must be. */
static inline void fuzz_check_utf8(const char *what, const char *text)
{
	if (text != NULL && !g_utf8_validate(text, -1, NULL))
		fuzz_fail("%s is not valid UTF-8", what);
}

#endif

/*
 * lib_load: a shared library opened on first use instead of linked.
 *
 * Every library in a program's DT_NEEDED is loaded and its symbols bound
 * at start-up (Debian builds them with -z now), whatever the command does.
 * A library that few messages need (libxml2 for HTML bodies, libytnef for
 * winmail.dat) is opened by its user the first time it is needed, its
 * functions resolved into a table of pointers; its headers still give the
 * types.
 *
 * What it does: dlopen(soname, RTLD_NOW | RTLD_LOCAL), then dlsym of each
 * name into the pointer the table names.  Never closed: the library stays
 * for the life of the process.  Not thread-safe by itself: callers run it
 * under g_once.
 *
 * How it fails: IMI_TEMPFAIL (an installation problem: the input is not at
 * fault and will be readable once the library is installed) with a text
 * naming the library and the reason; nothing is left half loaded.
 */
#ifndef IMI_LIB_LOAD_H
#define IMI_LIB_LOAD_H

#include "util/util.h"

struct lib_symbol {
	const char *name; /* as exported: a function, or a variable */
	void *slot;       /* address of the caller's pointer to fill */
};

/* soname: the caller's default, unless the environment variable env_name
 * (may be NULL) names another (tests use it to prove what a host without
 * the library does).  *handle_r: the dlopen handle. */
int lib_load(const char *soname, const char *env_name, const struct lib_symbol *symbols,
	     size_t n_symbols, void **handle_r, char **error_r);

#endif

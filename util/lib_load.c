/*
 * lib_load.c: dlopen and a table of dlsym.
 */
#include "util/lib_load.h"

#include <dlfcn.h>
#include <string.h>

int lib_load(const char *soname, const char *env_name, const struct lib_symbol *symbols,
	     size_t n_symbols, void **handle_r, char **error_r)
{
	const char *name = env_name != NULL ? g_getenv(env_name) : NULL;
	void *handle;

	*handle_r = NULL;
	if (name == NULL || *name == '\0')
		name = soname;
	if ((handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return imi_fail(error_r, IMI_TEMPFAIL, "cannot load %s (%s): install it", name,
				dlerror());
	for (size_t i = 0; i < n_symbols; i++) {
		void *sym = dlsym(handle, symbols[i].name);

		if (sym == NULL) {
			dlclose(handle);
			return imi_fail(error_r, IMI_TEMPFAIL, "%s has no %s: not the library expected",
					name, symbols[i].name);
		}
		/* POSIX: a function pointer has the size and representation
		 * of the void * that dlsym returns. */
		memcpy(symbols[i].slot, &sym, sizeof(sym));
	}
	*handle_r = handle;
	return IMI_OK;
}

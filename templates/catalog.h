/*
 * catalog: the system message catalogs, one GKeyFile per language in
 * <datadir>/templates/catalogs/<lang>.ini (format in docs/templates.md).
 *
 * What it does: loads English (the reference, required) and every other of
 * the 24 languages that has a file (catalog_open_lazy: each when first
 * used); looks texts up by key with fallback to
 * English; expands %{name} placeholders from a small list of values, plain
 * or HTML-escaped; and exposes the [Words] lists (yes/no words, the quote
 * header verb, Outlook's "Original Message" line and header field names) to
 * the reply parser, folded for comparison (see lang.h).
 *
 * How it fails: a missing or malformed en.ini, a file that is not valid
 * GKeyFile, or a [Catalog] Language that differs from the file name refuses
 * the load (IMI_INVALID, IMI_NOTFOUND for no en.ini) with the file named.
 * A missing translation file or key is not an error at load time (English
 * stands in); catalog_check lists such gaps.  An unknown placeholder is left
 * in the text as written, so a mistake shows instead of vanishing.
 *
 * What it trusts: the files come from the operator's installation.  Values
 * passed for placeholders are not trusted: the HTML variant escapes them.
 */
#ifndef IMI_CATALOG_H
#define IMI_CATALOG_H

#include <glib.h>

#include "conf/conf.h"
#include "util/util.h"

#define CATALOG_MAX_FILE_BYTES (1024 * 1024)

struct catalog;

/* One placeholder value; arrays of them end with {NULL, NULL}. */
struct catalog_arg {
	const char *name;  /* "case" for %{case} */
	const char *value; /* NULL counts as "" */
};

/* Loads dir/en.ini and each dir/<lang>.ini present. */
int catalog_open(const char *dir, struct catalog **cat_r, char **error_r);
/* One language from its text (a catalog file checked before it is
 * installed, or read from elsewhere than a directory): the checks of
 * catalog_open.  Without "en" there is no English fallback: catalog_get
 * gives NULL for what lang lacks, and catalog_check refuses. */
int catalog_open_data(const char *lang, const char *data, size_t len,
		      struct catalog **cat_r, char **error_r);
/* English now, every other language when first asked for (its [Words]
 * alone when only they are wanted): a process that handles one message
 * reads the two or three languages it uses instead of 24 files.  Only a
 * missing or bad en.ini fails here; a language file that turns out not
 * to load later is treated as missing (English stands in).  Safe to share
 * between threads. */
int catalog_open_lazy(const char *dir, struct catalog **cat_r, char **error_r);
/* catalog_open_lazy of <conf->datadir>/templates/catalogs (a source tree),
 * or <conf->datadir>/catalogs (installed) when that is what exists. */
int catalog_open_conf(const struct imi_conf *conf, struct catalog **cat_r,
		      char **error_r);
void catalog_close(struct catalog **cat);

/* Whether <lang>.ini was loaded. */
int catalog_has_language(const struct catalog *cat, const char *lang);

/* The [Messages] text of key in lang, else in English; NULL when not even
 * English has it. */
const char *catalog_get(const struct catalog *cat, const char *lang,
			const char *key);
/* [Catalog] LanguageName of lang ("français"); NULL if not loaded. */
const char *catalog_language_name(const struct catalog *cat, const char *lang);

/* Placeholder expansion of any text (g_free).  Values are inserted once,
 * never expanded again.  The _html variant escapes the text and every value
 * for HTML (&, <, >, ", '). */
char *catalog_expand(const char *text, const struct catalog_arg *args);
char *catalog_expand_html(const char *text, const struct catalog_arg *args);
/* catalog_get + expansion; a key not even in English gives the key itself
 * in brackets ("[request.intro]") so that the gap is visible. */
char *catalog_format(const struct catalog *cat, const char *lang,
		     const char *key, const struct catalog_arg *args);
char *catalog_format_html(const struct catalog *cat, const char *lang,
			  const char *key, const struct catalog_arg *args);

/* HTML escaping of one text (g_free). */
char *catalog_html_escape(const char *text);

/* [Words] of one language, folded (lang.h), NULL-terminated, never NULL
 * (an empty list when the language or the key is absent; no English
 * fallback: the parser asks each language in turn).  name is one of
 * "yes", "no", "wrote", "original-message", "from". */
const char *const *catalog_words(const struct catalog *cat, const char *lang,
				 const char *name);
/* The same list as written in the file (not folded): for display, e.g. the
 * first yes word of a language in a request's "(yes / no)" hint. */
const char *const *catalog_words_raw(const struct catalog *cat,
				     const char *lang, const char *name);

/* Completeness: every one of the 24 languages has a file, every key of
 * en.ini exists in each other catalog and is not empty, and each
 * translation uses no placeholder that English lacks.  Appends one line
 * per gap to report and returns IMI_OK when there is none, else
 * IMI_INVALID (with *error_r saying how many). */
int catalog_check(const struct catalog *cat, GString *report, char **error_r);

#endif

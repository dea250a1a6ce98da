/*
 * catalog.c: message catalogs, lookup with English fallback, placeholders.
 */
#include "templates/catalog.h"

#include <string.h>

#include "templates/lang.h"

static const char *const word_names[] = {
	"yes", "no", "wrote", "original-message", "from",
};
#define N_WORDS G_N_ELEMENTS(word_names)
#define PLACEHOLDER_MAX_NAME 64

struct catalog_lang {
	char *path;                /* file it came from */
	GKeyFile *keyfile;
	char *language_name;       /* [Catalog] LanguageName */
	GHashTable *messages;      /* [Messages] key -> text (stripped) */
	char **words[N_WORDS];     /* folded lists */
	char **words_raw[N_WORDS]; /* as written */
};

struct catalog {
	char *dir;
	struct catalog_lang *langs[LANG_COUNT]; /* NULL: no file */
	/* Lazy catalogs (catalog_open_conf) read a language when it is first
	 * asked for: its [Words] alone when only they are wanted, the whole
	 * file when a text or its name is.  Under lock (the milter's threads
	 * share one catalog); what a language holds is never freed or moved
	 * before catalog_close, so pointers handed out stay valid. */
	int lazy;
	GMutex lock;
	unsigned char tried[LANG_COUNT];  /* CATALOG_TRIED_* bits */
};

#define CATALOG_TRIED_WORDS 0x1 /* [Words] read (or the file was missing) */
#define CATALOG_TRIED_ALL 0x2   /* the whole file read (or missing, or bad) */
#define CATALOG_SCAN_MAX_LINES 100000 /* lines of one file looked at */

static const char *const empty_list[] = {NULL};

static void catalog_lang_free(struct catalog_lang *l)
{
	if (l == NULL)
		return;
	g_free(l->path);
	g_free(l->language_name);
	if (l->keyfile != NULL)
		g_key_file_free(l->keyfile);
	if (l->messages != NULL)
		g_hash_table_destroy(l->messages);
	for (unsigned i = 0; i < N_WORDS; i++) {
		g_strfreev(l->words[i]);
		g_strfreev(l->words_raw[i]);
	}
	g_free(l);
}

void catalog_close(struct catalog **catp)
{
	struct catalog *cat = *catp;

	if (cat == NULL)
		return;
	*catp = NULL;
	for (int i = 0; i < LANG_COUNT; i++)
		catalog_lang_free(cat->langs[i]);
	g_mutex_clear(&cat->lock);
	g_free(cat->dir);
	g_free(cat);
}

/* "oui; o ;OK" -> {"oui","o","ok"} folded, and the raw trimmed words. */
static void catalog_split_words(const char *text, char ***folded_r,
				char ***raw_r)
{
	char **parts = g_strsplit(text, ";", -1);
	GPtrArray *folded = g_ptr_array_new(), *raw = g_ptr_array_new();

	for (unsigned i = 0; parts[i] != NULL; i++) {
		char *w = g_strstrip(parts[i]);
		if (*w == '\0')
			continue;
		g_ptr_array_add(raw, g_strdup(w));
		g_ptr_array_add(folded, lang_fold(w));
	}
	g_strfreev(parts);
	g_ptr_array_add(folded, NULL);
	g_ptr_array_add(raw, NULL);
	*folded_r = (char **)g_ptr_array_free(folded, FALSE);
	*raw_r = (char **)g_ptr_array_free(raw, FALSE);
}

/* Parses one language's text; path is how errors name it. */
static int catalog_lang_parse(const char *path, const char *code,
			      const char *text, size_t len,
			      struct catalog_lang **l_r, char **error_r)
{
	struct catalog_lang *l;
	GError *gerr = NULL;
	char *language, **keys;
	int ret = IMI_OK;

	*l_r = NULL;
	l = g_new0(struct catalog_lang, 1);
	l->path = g_strdup(path);
	if (len > CATALOG_MAX_FILE_BYTES) {
		ret = imi_fail(error_r, IMI_TOOBIG, "%s: more than %d bytes",
			       l->path, CATALOG_MAX_FILE_BYTES);
		goto out;
	}
	l->keyfile = g_key_file_new();
	if (!g_key_file_load_from_data(l->keyfile, text, len, G_KEY_FILE_NONE,
				       &gerr)) {
		ret = imi_fail(error_r, IMI_INVALID, "%s: %s", l->path,
			       gerr->message);
		g_error_free(gerr);
		goto out;
	}
	language = g_key_file_get_string(l->keyfile, "Catalog", "Language", NULL);
	if (language == NULL || strcmp(g_strstrip(language), code) != 0) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "%s: [Catalog] Language: %s (must be %s, as the file name)",
			       l->path, language != NULL ? language : "missing", code);
		g_free(language);
		goto out;
	}
	g_free(language);
	l->language_name = g_key_file_get_string(l->keyfile, "Catalog",
						 "LanguageName", NULL);
	if (l->language_name == NULL)
		l->language_name = g_strdup(code);
	g_strstrip(l->language_name);
	l->messages = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    g_free);
	keys = g_key_file_get_keys(l->keyfile, "Messages", NULL, NULL);
	for (unsigned i = 0; keys != NULL && keys[i] != NULL && ret == IMI_OK; i++) {
		char *v = g_key_file_get_string(l->keyfile, "Messages", keys[i],
						&gerr);
		if (v == NULL) {
			ret = imi_fail(error_r, IMI_INVALID, "%s: [Messages] %s: %s",
				       l->path, keys[i], gerr->message);
			g_clear_error(&gerr);
			break;
		}
		g_hash_table_insert(l->messages, g_strdup(keys[i]), g_strstrip(v));
	}
	g_strfreev(keys);
	for (unsigned i = 0; i < N_WORDS && ret == IMI_OK; i++) {
		char *v = g_key_file_get_string(l->keyfile, "Words", word_names[i],
						NULL);
		catalog_split_words(v != NULL ? v : "", &l->words[i],
				    &l->words_raw[i]);
		g_free(v);
	}
out:
	if (ret != IMI_OK)
		catalog_lang_free(l);
	else
		*l_r = l;
	return ret;
}

static int catalog_lang_load(const char *dir, const char *code,
			     struct catalog_lang **l_r, char **error_r)
{
	GError *gerr = NULL;
	char *path = g_strdup_printf("%s/%s.ini", dir, code), *text = NULL;
	gsize len;
	int ret;

	*l_r = NULL;
	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		ret = imi_fail(error_r,
			       gerr->code == G_FILE_ERROR_NOENT ? IMI_NOTFOUND
								 : IMI_ERROR,
			       "cannot read catalog %s: %s", path, gerr->message);
		g_error_free(gerr);
	} else {
		ret = catalog_lang_parse(path, code, text, len, l_r, error_r);
	}
	g_free(text);
	g_free(path);
	return ret;
}

/* The [Words] of one file without GKeyFile: a scan of its lines for the
 * five keys, last one winning as in GKeyFile.  Anything the scan does not
 * read exactly as GKeyFile would (an escape, a carriage return) makes it
 * give up with IMI_INVALID, and the caller reads the whole file instead.
 * IMI_NOTFOUND when there is no file. */
static int catalog_lang_scan_words(const char *dir, const char *code,
				   struct catalog_lang **l_r)
{
	char *path = g_strdup_printf("%s/%s.ini", dir, code), *text = NULL;
	const char *values[N_WORDS] = {NULL};
	size_t lens[N_WORDS] = {0};
	gsize len;
	int in_words = 0, ret = IMI_OK;
	unsigned lines = 0;

	*l_r = NULL;
	if (!g_file_get_contents(path, &text, &len, NULL)) {
		ret = g_file_test(path, G_FILE_TEST_EXISTS) ? IMI_INVALID : IMI_NOTFOUND;
		g_free(path);
		return ret;
	}
	if (len > CATALOG_MAX_FILE_BYTES || memchr(text, '\r', len) != NULL)
		ret = IMI_INVALID;
	/* Lines before the first [Words] belong to other groups. */
	const char *start = text + len;
	if (len >= 7 && strncmp(text, "[Words]", 7) == 0) {
		start = text;
	} else {
		for (const char *q = text; (q = memchr(q, '[', (size_t)(text + len - q))) != NULL; q++)
			if (q[-1] == '\n' && (size_t)(text + len - q) >= 7 &&
			    strncmp(q, "[Words]", 7) == 0) {
				start = q;
				break;
			}
	}
	for (const char *p = start; ret == IMI_OK && p < text + len &&
	     lines < CATALOG_SCAN_MAX_LINES; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(text + len - p));
		const char *end = nl != NULL ? nl : text + len, *eq, *k, *ke, *v;

		if (*p == '[') {
			in_words = end - p >= 7 && strncmp(p, "[Words]", 7) == 0;
			for (const char *q = p + 7; in_words && q < end; q++)
				if (!g_ascii_isspace(*q))
					ret = IMI_INVALID; /* "[Words] x": not ours */
		} else if (in_words && *p != '#' &&
			   (eq = memchr(p, '=', (size_t)(end - p))) != NULL) {
			for (k = p; k < eq && g_ascii_isspace(*k); k++)
				;
			for (ke = eq; ke > k && g_ascii_isspace(ke[-1]); ke--)
				;
			for (v = eq + 1; v < end && g_ascii_isspace(*v); v++)
				;
			for (unsigned w = 0; w < N_WORDS; w++)
				if ((size_t)(ke - k) == strlen(word_names[w]) &&
				    strncmp(k, word_names[w], (size_t)(ke - k)) == 0) {
					values[w] = v;
					lens[w] = (size_t)(end - v);
					if (memchr(v, '\\', lens[w]) != NULL)
						ret = IMI_INVALID;
				}
		}
		p = nl != NULL ? nl + 1 : text + len;
	}
	if (lines >= CATALOG_SCAN_MAX_LINES)
		ret = IMI_INVALID;
	if (ret == IMI_OK) {
		struct catalog_lang *l = g_new0(struct catalog_lang, 1);
		l->path = path;
		path = NULL;
		for (unsigned w = 0; w < N_WORDS; w++) {
			char *v = g_strndup(values[w] != NULL ? values[w] : "", lens[w]);
			catalog_split_words(v, &l->words[w], &l->words_raw[w]);
			g_free(v);
		}
		*l_r = l;
	}
	g_free(path);
	g_free(text);
	return ret;
}

/* Language i of a lazy catalog, read as far as `need` asks (under lock). */
static void catalog_lang_fill(struct catalog *cat, int i, unsigned need)
{
	struct catalog_lang *full = NULL;
	char *error = NULL;

	if ((need & CATALOG_TRIED_WORDS) && !(cat->tried[i] & CATALOG_TRIED_WORDS)) {
		cat->tried[i] |= CATALOG_TRIED_WORDS;
		if (catalog_lang_scan_words(cat->dir, lang_codes[i], &cat->langs[i]) ==
		    IMI_NOTFOUND)
			cat->tried[i] |= CATALOG_TRIED_ALL;
		else if (cat->langs[i] == NULL)
			need |= CATALOG_TRIED_ALL; /* the scan gave up */
	}
	if (!(need & CATALOG_TRIED_ALL) || (cat->tried[i] & CATALOG_TRIED_ALL))
		return;
	cat->tried[i] |= CATALOG_TRIED_ALL | CATALOG_TRIED_WORDS;
	/* A file that does not load is as good as missing: English stands in
	 * (catalog_check, on an eager catalog, names it). */
	if (catalog_lang_load(cat->dir, lang_codes[i], &full, &error) != IMI_OK) {
		g_free(error);
		return;
	}
	if (cat->langs[i] == NULL) {
		cat->langs[i] = full;
		return;
	}
	/* Keep the words already handed out; take the rest. */
	cat->langs[i]->keyfile = full->keyfile;
	cat->langs[i]->language_name = full->language_name;
	cat->langs[i]->messages = full->messages;
	full->keyfile = NULL;
	full->language_name = NULL;
	full->messages = NULL;
	catalog_lang_free(full);
}

int catalog_open(const char *dir, struct catalog **cat_r, char **error_r)
{
	struct catalog *cat = g_new0(struct catalog, 1);
	int ret;

	*cat_r = NULL;
	cat->dir = g_strdup(dir);
	g_mutex_init(&cat->lock);
	for (int i = 0; i < LANG_COUNT; i++) {
		char *path = g_strdup_printf("%s/%s.ini", dir, lang_codes[i]);
		int exists = g_file_test(path, G_FILE_TEST_EXISTS);

		g_free(path);
		/* English is the reference and must be there. */
		if (!exists && strcmp(lang_codes[i], "en") != 0)
			continue;
		ret = catalog_lang_load(dir, lang_codes[i], &cat->langs[i], error_r);
		if (ret != IMI_OK) {
			catalog_close(&cat);
			return ret;
		}
	}
	*cat_r = cat;
	return IMI_OK;
}

int catalog_open_data(const char *lang, const char *data, size_t len,
		      struct catalog **cat_r, char **error_r)
{
	int i = lang_index(lang);
	struct catalog *cat;
	char *name;
	int ret;

	*cat_r = NULL;
	if (i < 0)
		return imi_fail(error_r, IMI_INVALID,
				"catalog language '%s' is not one of the 24", lang);
	cat = g_new0(struct catalog, 1);
	name = g_strdup_printf("%s.ini", lang_codes[i]);
	cat->dir = g_strdup(name);
	ret = catalog_lang_parse(name, lang_codes[i], data, len, &cat->langs[i],
				 error_r);
	g_free(name);
	if (ret != IMI_OK) {
		catalog_close(&cat);
		return ret;
	}
	*cat_r = cat;
	return IMI_OK;
}

int catalog_open_conf(const struct imi_conf *conf, struct catalog **cat_r,
		      char **error_r)
{
	/* A source tree has templates/catalogs; make install puts them in
	 * <datadir>/catalogs. */
	char *dir = g_build_filename(conf->datadir, "templates", "catalogs", NULL);
	int ret;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		char *installed = g_build_filename(conf->datadir, "catalogs", NULL);
		if (g_file_test(installed, G_FILE_TEST_IS_DIR)) {
			g_free(dir);
			dir = installed;
		} else {
			g_free(installed);
		}
	}
	ret = catalog_open_lazy(dir, cat_r, error_r);

	g_free(dir);
	return ret;
}

int catalog_open_lazy(const char *dir, struct catalog **cat_r, char **error_r)
{
	struct catalog *cat = g_new0(struct catalog, 1);
	int en = lang_index("en"), ret;

	*cat_r = NULL;
	cat->dir = g_strdup(dir);
	cat->lazy = 1;
	g_mutex_init(&cat->lock);
	/* English is the reference and must be there, whole. */
	ret = catalog_lang_load(dir, "en", &cat->langs[en], error_r);
	if (ret != IMI_OK) {
		catalog_close(&cat);
		return ret;
	}
	cat->tried[en] = CATALOG_TRIED_WORDS | CATALOG_TRIED_ALL;
	*cat_r = cat;
	return IMI_OK;
}

static const struct catalog_lang *catalog_lang_need(const struct catalog *cat,
						    const char *lang,
						    unsigned need)
{
	int i = lang_index(lang);
	const struct catalog_lang *l;

	if (i < 0)
		return NULL;
	if (!cat->lazy)
		return cat->langs[i];
	/* The catalog is const to its readers; filling it in is not a change
	 * they can see, other than in time. */
	g_mutex_lock((GMutex *)&cat->lock);
	if ((cat->tried[i] & need) != need)
		catalog_lang_fill((struct catalog *)cat, i, need);
	l = cat->langs[i];
	/* Words alone were read and the whole file does not load. */
	if (l != NULL && (need & CATALOG_TRIED_ALL) && l->messages == NULL)
		l = NULL;
	g_mutex_unlock((GMutex *)&cat->lock);
	return l;
}

static const struct catalog_lang *catalog_lang_get(const struct catalog *cat,
						   const char *lang)
{
	return catalog_lang_need(cat, lang, CATALOG_TRIED_WORDS | CATALOG_TRIED_ALL);
}

int catalog_has_language(const struct catalog *cat, const char *lang)
{
	return catalog_lang_get(cat, lang) != NULL;
}

const char *catalog_get(const struct catalog *cat, const char *lang,
			const char *key)
{
	const struct catalog_lang *l = catalog_lang_get(cat, lang);
	const struct catalog_lang *en = cat->langs[lang_index("en")];
	const char *text = NULL;

	if (l != NULL)
		text = g_hash_table_lookup(l->messages, key);
	if ((text == NULL || *text == '\0') && en != NULL)
		text = g_hash_table_lookup(en->messages, key);
	return text;
}

const char *catalog_language_name(const struct catalog *cat, const char *lang)
{
	const struct catalog_lang *l = catalog_lang_get(cat, lang);

	return l != NULL ? l->language_name : NULL;
}

char *catalog_html_escape(const char *text)
{
	GString *out = g_string_sized_new(strlen(text) + 16);

	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '&': g_string_append(out, "&amp;"); break;
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		case '"': g_string_append(out, "&quot;"); break;
		case '\'': g_string_append(out, "&#39;"); break;
		default: g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

static void catalog_append(GString *out, const char *text, size_t len,
			   int html)
{
	if (html) {
		char *part = g_strndup(text, len), *esc = catalog_html_escape(part);
		g_string_append(out, esc);
		g_free(part);
		g_free(esc);
	} else {
		g_string_append_len(out, text, (gssize)len);
	}
}

static int placeholder_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > PLACEHOLDER_MAX_NAME)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '-' && name[i] != '_')
			return 0;
	return 1;
}

static char *catalog_expand_mode(const char *text, const struct catalog_arg *args,
				 int html)
{
	GString *out = g_string_sized_new(strlen(text) + 64);
	const char *p = text;

	while (*p != '\0') {
		const char *start = strstr(p, "%{"), *end;
		size_t len;
		const struct catalog_arg *a = NULL;

		if (start == NULL) {
			catalog_append(out, p, strlen(p), html);
			break;
		}
		catalog_append(out, p, (size_t)(start - p), html);
		end = strchr(start + 2, '}');
		len = end != NULL ? (size_t)(end - start - 2) : 0;
		if (end == NULL || !placeholder_name_ok(start + 2, len)) {
			catalog_append(out, start, 2, html);
			p = start + 2;
			continue;
		}
		for (const struct catalog_arg *i = args; i != NULL && i->name != NULL; i++)
			if (strlen(i->name) == len &&
			    strncmp(i->name, start + 2, len) == 0) {
				a = i;
				break;
			}
		if (a != NULL)
			catalog_append(out, a->value != NULL ? a->value : "",
				       a->value != NULL ? strlen(a->value) : 0, html);
		else
			catalog_append(out, start, len + 3, html);
		p = end + 1;
	}
	return g_string_free(out, FALSE);
}

char *catalog_expand(const char *text, const struct catalog_arg *args)
{
	return catalog_expand_mode(text, args, 0);
}

char *catalog_expand_html(const char *text, const struct catalog_arg *args)
{
	return catalog_expand_mode(text, args, 1);
}

char *catalog_format(const struct catalog *cat, const char *lang,
		     const char *key, const struct catalog_arg *args)
{
	const char *text = catalog_get(cat, lang, key);

	if (text == NULL)
		return g_strdup_printf("[%s]", key);
	return catalog_expand(text, args);
}

char *catalog_format_html(const struct catalog *cat, const char *lang,
			  const char *key, const struct catalog_arg *args)
{
	const char *text = catalog_get(cat, lang, key);
	char *esc, *out;

	if (text == NULL) {
		esc = catalog_html_escape(key);
		out = g_strdup_printf("[%s]", esc);
		g_free(esc);
		return out;
	}
	return catalog_expand_html(text, args);
}

static int catalog_word_index(const char *name)
{
	for (unsigned i = 0; i < N_WORDS; i++)
		if (strcmp(word_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *const *catalog_words(const struct catalog *cat, const char *lang,
				 const char *name)
{
	const struct catalog_lang *l = catalog_lang_need(cat, lang, CATALOG_TRIED_WORDS);
	int w = catalog_word_index(name);

	if (l == NULL || w < 0)
		return empty_list;
	return (const char *const *)l->words[w];
}

const char *const *catalog_words_raw(const struct catalog *cat,
				     const char *lang, const char *name)
{
	const struct catalog_lang *l = catalog_lang_need(cat, lang, CATALOG_TRIED_WORDS);
	int w = catalog_word_index(name);

	if (l == NULL || w < 0)
		return empty_list;
	return (const char *const *)l->words_raw[w];
}

/* The set of %{name} in text. */
static GHashTable *catalog_placeholders(const char *text)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						NULL);
	const char *p = text;

	while ((p = strstr(p, "%{")) != NULL) {
		const char *end = strchr(p + 2, '}');
		size_t len = end != NULL ? (size_t)(end - p - 2) : 0;

		if (end != NULL && placeholder_name_ok(p + 2, len)) {
			g_hash_table_add(set, g_strndup(p + 2, len));
			p = end + 1;
		} else {
			p += 2;
		}
	}
	return set;
}

static unsigned catalog_check_text(const char *file, const char *group,
				   const char *key, const char *en,
				   const char *tr, GString *report)
{
	GHashTable *want = catalog_placeholders(en), *got = catalog_placeholders(tr);
	GHashTableIter it;
	gpointer name;
	unsigned gaps = 0;

	g_hash_table_iter_init(&it, got);
	while (g_hash_table_iter_next(&it, &name, NULL))
		if (!g_hash_table_contains(want, name)) {
			g_string_append_printf(report,
					       "%s: [%s] %s: uses %%{%s}, which English does not\n",
					       file, group, key, (char *)name);
			gaps++;
		}
	g_hash_table_iter_init(&it, want);
	while (g_hash_table_iter_next(&it, &name, NULL))
		if (!g_hash_table_contains(got, name)) {
			g_string_append_printf(report,
					       "%s: [%s] %s: lacks %%{%s}\n",
					       file, group, key, (char *)name);
			gaps++;
		}
	g_hash_table_destroy(want);
	g_hash_table_destroy(got);
	return gaps;
}

int catalog_check(const struct catalog *cat, GString *report, char **error_r)
{
	const struct catalog_lang *en = cat->langs[lang_index("en")];
	char **groups;

	for (int i = 0; i < LANG_COUNT; i++)
		(void)catalog_lang_get(cat, lang_codes[i]);
	unsigned gaps = 0;

	if (en == NULL)
		return imi_fail(error_r, IMI_INVALID,
				"no English catalog to check the others against");
	groups = g_key_file_get_groups(en->keyfile, NULL);

	for (int i = 0; i < LANG_COUNT; i++) {
		const struct catalog_lang *l = cat->langs[i];
		char *file = g_strdup_printf("%s.ini", lang_codes[i]);

		if (l == NULL) {
			g_string_append_printf(report, "%s: missing\n", file);
			gaps++;
		}
		for (unsigned g = 0; l != NULL && l != en && groups[g] != NULL; g++) {
			char **keys = g_key_file_get_keys(en->keyfile, groups[g],
							  NULL, NULL);
			for (unsigned k = 0; keys[k] != NULL; k++) {
				char *e = g_key_file_get_value(en->keyfile, groups[g],
							       keys[k], NULL);
				char *t = g_key_file_get_value(l->keyfile, groups[g],
							       keys[k], NULL);
				if (t == NULL) {
					g_string_append_printf(report,
							       "%s: [%s] %s: missing\n",
							       file, groups[g], keys[k]);
					gaps++;
				} else if (*g_strstrip(t) == '\0' &&
					   *g_strstrip(e) != '\0') {
					g_string_append_printf(report,
							       "%s: [%s] %s: empty\n",
							       file, groups[g], keys[k]);
					gaps++;
				} else if (strcmp(groups[g], "Messages") == 0) {
					gaps += catalog_check_text(file, groups[g],
								   keys[k], e, t,
								   report);
				}
				g_free(e);
				g_free(t);
			}
			g_strfreev(keys);
		}
		g_free(file);
	}
	g_strfreev(groups);
	if (gaps > 0)
		return imi_fail(error_r, IMI_INVALID,
				"%u gaps in the catalogs of %s", gaps, cat->dir);
	return IMI_OK;
}

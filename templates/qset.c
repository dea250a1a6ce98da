/*
 * qset.c: loading and validating question sets.
 *
 * Every localized text is resolved for all 24 languages at load time
 * (g_key_file_get_locale_string, which falls back to the untranslated
 * English key), so that lookups afterwards are constant and need no lock.
 */
#include "templates/qset.h"

#include <stdarg.h>
#include <string.h>

#include "templates/lang.h"

struct qset_text {
	char *lang[LANG_COUNT]; /* resolved text per language, never NULL */
};

struct qset_question {
	char *code;                /* stable id, e.g. "Q3" (also its group name) */
	unsigned index;            /* position in Questions= */
	enum qset_type type;
	int required;              /* an answer must be given */
	int personal;              /* the answer is personal data */
	struct qset_text text;     /* the question */
	struct qset_text *help;    /* optional hint, NULL if none */
	unsigned n_choices;
	char **choice_codes;       /* n_choices stable codes */
	struct qset_text *choice_labels; /* n_choices localized labels */
};

struct qset {
	int refs;                  /* atomic: holders, the cache included */
	char *name;                /* how errors name the source */
	char *source;              /* the text it was loaded from */
	size_t source_len;
	GKeyFile *keyfile;         /* kept for the translation check */
	char *id;
	int version;
	enum qset_kind kind;
	char *area;
	struct qset_text title;
	unsigned n_questions;
	struct qset_question *questions;
};

static const char *const type_names[] = {
	[QSET_YESNO] = "yesno",     [QSET_CHOICE] = "choice",
	[QSET_DATE] = "date",       [QSET_TEXT] = "text",
	[QSET_ATTACHMENT] = "attachment", [QSET_CHECK] = "check",
};

const char *qset_type_name(enum qset_type type)
{
	return (unsigned)type < G_N_ELEMENTS(type_names) ? type_names[type] : "?";
}

const char *qset_kind_name(enum qset_kind kind)
{
	return kind == QSET_KIND_ALERT ? "alert" : "request";
}

/* "NAME: [GROUP] KEY: what" */
static int G_GNUC_PRINTF(5, 6)
qset_fail(const struct qset *qset, char **error_r, const char *group,
	  const char *key, const char *fmt, ...)
{
	va_list ap;
	char *what;
	int ret;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (group != NULL && key != NULL)
		ret = imi_fail(error_r, IMI_INVALID, "%s: [%s] %s: %s",
			       qset->name, group, key, what);
	else if (group != NULL)
		ret = imi_fail(error_r, IMI_INVALID, "%s: [%s]: %s", qset->name,
			       group, what);
	else
		ret = imi_fail(error_r, IMI_INVALID, "%s: %s", qset->name, what);
	g_free(what);
	return ret;
}

static void qset_text_clear(struct qset_text *t)
{
	for (int i = 0; i < LANG_COUNT; i++)
		g_free(t->lang[i]);
}

static const char *qset_text_get(const struct qset_text *t, const char *lang)
{
	int i = lang_index(lang);

	return t->lang[i >= 0 ? i : lang_index("en")];
}

struct qset *qset_ref(struct qset *qset)
{
	g_atomic_int_inc(&qset->refs);
	return qset;
}

void qset_free(struct qset **qsetp)
{
	struct qset *qset = *qsetp;

	if (qset == NULL)
		return;
	*qsetp = NULL;
	if (!g_atomic_int_dec_and_test(&qset->refs))
		return;
	for (unsigned i = 0; i < qset->n_questions; i++) {
		struct qset_question *q = &qset->questions[i];

		g_free(q->code);
		qset_text_clear(&q->text);
		if (q->help != NULL) {
			qset_text_clear(q->help);
			g_free(q->help);
		}
		for (unsigned c = 0; c < q->n_choices; c++) {
			g_free(q->choice_codes[c]);
			qset_text_clear(&q->choice_labels[c]);
		}
		g_free(q->choice_codes);
		g_free(q->choice_labels);
	}
	g_free(qset->questions);
	qset_text_clear(&qset->title);
	if (qset->keyfile != NULL)
		g_key_file_free(qset->keyfile);
	g_free(qset->id);
	g_free(qset->area);
	g_free(qset->name);
	g_free(qset->source);
	g_free(qset);
}

/* GKeyFile merges a repeated group and keeps the last of a repeated key, so
 * a copy-paste slip would go unnoticed: look for both in the raw text. */
static int qset_check_duplicates(struct qset *qset, char **error_r)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);
	char **lines = g_strsplit(qset->source, "\n", -1);
	char *group = NULL;
	int ret = IMI_OK;

	for (unsigned i = 0; lines[i] != NULL && ret == IMI_OK; i++) {
		char *line = g_strstrip(lines[i]);
		char *eq, *id;

		if (*line == '\0' || *line == '#')
			continue;
		if (*line == '[') {
			char *end = strchr(line, ']');

			g_free(group);
			group = g_strndup(line + 1, end != NULL ? (size_t)(end - line - 1)
								: strlen(line + 1));
			id = g_strdup_printf("[%s]", group);
			if (!g_hash_table_add(seen, id))
				ret = qset_fail(qset, error_r, group, NULL,
						"the group appears twice (line %u)",
						i + 1);
			continue;
		}
		if ((eq = strchr(line, '=')) == NULL || group == NULL)
			continue; /* GKeyFile reports these itself */
		*eq = '\0';
		g_strchomp(line);
		id = g_strdup_printf("%s\n%s", group, line);
		if (!g_hash_table_add(seen, id))
			ret = qset_fail(qset, error_r, group, line,
					"the key appears twice (line %u)", i + 1);
	}
	g_free(group);
	g_strfreev(lines);
	g_hash_table_destroy(seen);
	return ret;
}

/* Splits "Text[fr]" into base "Text" and language "fr" (NULL if none). */
static char *qset_key_split(const char *key, char **lang_r)
{
	const char *open = strchr(key, '[');
	size_t n;

	*lang_r = NULL;
	if (open == NULL)
		return g_strdup(key);
	n = strlen(open);
	if (n >= 2 && open[n - 1] == ']')
		*lang_r = g_strndup(open + 1, n - 2);
	else
		*lang_r = g_strdup(open); /* reported as a bad language */
	return g_strndup(key, (size_t)(open - key));
}

/* Every key of a group must be known; localized keys must name one of the
 * 24 languages.  `allowed` lists the base keys, those ending in '*' may be
 * localized; a base key of the form "Choice-" admits any suffix. */
static int qset_check_keys(struct qset *qset, const char *group,
			   const char *const *allowed, char **error_r)
{
	char **keys = g_key_file_get_keys(qset->keyfile, group, NULL, NULL);
	int ret = IMI_OK;

	for (unsigned i = 0; keys != NULL && keys[i] != NULL && ret == IMI_OK; i++) {
		char *lang, *base = qset_key_split(keys[i], &lang);
		int known = 0, localizable = 0;

		for (unsigned a = 0; allowed[a] != NULL && !known; a++) {
			size_t n = strlen(allowed[a]);
			int loc = allowed[a][n - 1] == '*';
			size_t len = loc ? n - 1 : n;

			if (len > 0 && allowed[a][len - 1] == '-') {
				if (strncmp(base, allowed[a], len) == 0 &&
				    base[len] != '\0')
					known = 1;
			} else if (strlen(base) == len &&
				   strncmp(base, allowed[a], len) == 0) {
				known = 1;
			}
			if (known)
				localizable = loc;
		}
		if (!known)
			ret = qset_fail(qset, error_r, group, keys[i],
					"unknown key (see docs/templates.md)");
		else if (lang != NULL && !localizable)
			ret = qset_fail(qset, error_r, group, keys[i],
					"this key is not translated; remove [%s]",
					lang);
		else if (lang != NULL && strcmp(lang, "en") == 0)
			ret = qset_fail(qset, error_r, group, keys[i],
					"English is the untranslated key %s=", base);
		else if (lang != NULL && lang_index(lang) < 0)
			ret = qset_fail(qset, error_r, group, keys[i],
					"'%s' is not one of the 24 language codes",
					lang);
		g_free(base);
		g_free(lang);
	}
	g_strfreev(keys);
	return ret;
}

/* Resolves a localized key for every language; the English text (the
 * untranslated key) must exist and not be empty. */
static int qset_text_load(struct qset *qset, const char *group,
			  const char *key, struct qset_text *t, char **error_r)
{
	GError *gerr = NULL;
	char *en = g_key_file_get_string(qset->keyfile, group, key, &gerr);

	if (en == NULL) {
		int ret = qset_fail(qset, error_r, group, key, "%s",
				    gerr->code == G_KEY_FILE_ERROR_KEY_NOT_FOUND
					    ? "missing (the English text is required)"
					    : gerr->message);
		g_error_free(gerr);
		return ret;
	}
	g_strstrip(en);
	if (*en == '\0') {
		g_free(en);
		return qset_fail(qset, error_r, group, key, "empty");
	}
	for (int i = 0; i < LANG_COUNT; i++) {
		char *s;

		if (strcmp(lang_codes[i], "en") == 0) {
			t->lang[i] = g_strdup(en);
			continue;
		}
		/* What g_key_file_get_locale_string does for a two-letter
		 * code (KEY[xx], else the untranslated KEY, which is en),
		 * without working out locale variants 23 times a text. */
		char *localized = g_strdup_printf("%s[%s]", key, lang_codes[i]);

		s = g_key_file_get_string(qset->keyfile, group, localized, NULL);
		g_free(localized);
		if (s == NULL)
			s = g_strdup(en);
		g_strstrip(s);
		if (*s == '\0') {
			g_free(s);
			s = g_strdup(en);
		}
		t->lang[i] = s;
	}
	g_free(en);
	return IMI_OK;
}

static int qset_word_valid(const char *s, int allow_upper, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '-' ||
		      (allow_upper && g_ascii_isupper(c))))
			return 0;
	}
	return g_ascii_isalnum(s[0]);
}

/* Optional boolean with a default. */
static int qset_bool(struct qset *qset, const char *group, const char *key,
		     int dflt, int *value_r, char **error_r)
{
	GError *gerr = NULL;
	gboolean v;

	if (!g_key_file_has_key(qset->keyfile, group, key, NULL)) {
		*value_r = dflt;
		return IMI_OK;
	}
	v = g_key_file_get_boolean(qset->keyfile, group, key, &gerr);
	if (gerr != NULL) {
		g_error_free(gerr);
		return qset_fail(qset, error_r, group, key,
				 "must be true or false");
	}
	*value_r = v ? 1 : 0;
	return IMI_OK;
}

static int qset_load_set_group(struct qset *qset, char ***codes_r,
			       char **error_r)
{
	static const char *const allowed[] = {
		"Id", "Version", "Kind", "Area", "Title*", "Questions", NULL,
	};
	GKeyFile *kf = qset->keyfile;
	GError *gerr = NULL;
	char *kind;
	int ret;

	if (!g_key_file_has_group(kf, "Set"))
		return qset_fail(qset, error_r, "Set", NULL,
				 "missing: a set starts with a [Set] group");
	if ((ret = qset_check_keys(qset, "Set", allowed, error_r)) != IMI_OK)
		return ret;
	qset->id = g_key_file_get_string(kf, "Set", "Id", NULL);
	if (qset->id == NULL)
		return qset_fail(qset, error_r, "Set", "Id", "missing");
	g_strstrip(qset->id);
	if (!qset_word_valid(qset->id, 0, 64))
		return qset_fail(qset, error_r, "Set", "Id",
				 "'%s' is not a stable id ([a-z0-9-], at most 64)",
				 qset->id);
	qset->version = g_key_file_get_integer(kf, "Set", "Version", &gerr);
	if (gerr != NULL || qset->version < 1) {
		g_clear_error(&gerr);
		return qset_fail(qset, error_r, "Set", "Version",
				 "missing or not a positive integer");
	}
	kind = g_key_file_get_string(kf, "Set", "Kind", NULL);
	if (kind == NULL)
		return qset_fail(qset, error_r, "Set", "Kind",
				 "missing (request or alert)");
	g_strstrip(kind);
	if (strcmp(kind, "request") == 0)
		qset->kind = QSET_KIND_REQUEST;
	else if (strcmp(kind, "alert") == 0)
		qset->kind = QSET_KIND_ALERT;
	else {
		ret = qset_fail(qset, error_r, "Set", "Kind",
				"unknown kind '%s' (request or alert)", kind);
		g_free(kind);
		return ret;
	}
	g_free(kind);
	qset->area = g_key_file_get_string(kf, "Set", "Area", NULL);
	if (qset->area == NULL)
		return qset_fail(qset, error_r, "Set", "Area", "missing");
	g_strstrip(qset->area);
	if (!qset_word_valid(qset->area, 0, 64))
		return qset_fail(qset, error_r, "Set", "Area",
				 "'%s' is not an area id ([a-z0-9-])", qset->area);
	if ((ret = qset_text_load(qset, "Set", "Title", &qset->title,
				  error_r)) != IMI_OK)
		return ret;
	*codes_r = g_key_file_get_string_list(kf, "Set", "Questions", NULL, NULL);
	if (*codes_r == NULL || (*codes_r)[0] == NULL)
		return qset_fail(qset, error_r, "Set", "Questions",
				 "missing or empty (e.g. Questions=Q1;Q2)");
	return IMI_OK;
}

static int qset_load_choices(struct qset *qset, struct qset_question *q,
			     char **error_r)
{
	GKeyFile *kf = qset->keyfile;
	char **codes, **keys;
	gsize n;
	int ret = IMI_OK;

	if (!g_key_file_has_key(kf, q->code, "Choices", NULL)) {
		if (q->type == QSET_CHOICE)
			return qset_fail(qset, error_r, q->code, "Choices",
					 "missing: Type=choice needs its choice codes");
		keys = g_key_file_get_keys(kf, q->code, NULL, NULL);
		for (unsigned i = 0; keys[i] != NULL && ret == IMI_OK; i++)
			if (g_str_has_prefix(keys[i], "Choice-"))
				ret = qset_fail(qset, error_r, q->code, keys[i],
						"only Type=choice questions have choices");
		g_strfreev(keys);
		return ret;
	}
	if (q->type != QSET_CHOICE)
		return qset_fail(qset, error_r, q->code, "Choices",
				 "only Type=choice questions have choices (Type=%s)",
				 qset_type_name(q->type));
	codes = g_key_file_get_string_list(kf, q->code, "Choices", &n, NULL);
	if (codes == NULL || n == 0) {
		g_strfreev(codes);
		return qset_fail(qset, error_r, q->code, "Choices", "empty");
	}
	if (n > QSET_MAX_CHOICES) {
		g_strfreev(codes);
		return qset_fail(qset, error_r, q->code, "Choices",
				 "more than %d choices", QSET_MAX_CHOICES);
	}
	q->n_choices = (unsigned)n;
	q->choice_codes = codes;
	q->choice_labels = g_new0(struct qset_text, n);
	for (unsigned i = 0; i < n && ret == IMI_OK; i++) {
		char *key;

		g_strstrip(codes[i]);
		if (!qset_word_valid(codes[i], 0, QSET_MAX_CODE_LEN))
			return qset_fail(qset, error_r, q->code, "Choices",
					 "'%s' is not a choice code ([a-z0-9-])",
					 codes[i]);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(codes[i], codes[j]) == 0)
				return qset_fail(qset, error_r, q->code, "Choices",
						 "duplicate choice code '%s'",
						 codes[i]);
		key = g_strdup_printf("Choice-%s", codes[i]);
		ret = qset_text_load(qset, q->code, key, &q->choice_labels[i],
				     error_r);
		g_free(key);
	}
	if (ret != IMI_OK)
		return ret;
	/* A label whose code is not listed is a typo in one or the other. */
	keys = g_key_file_get_keys(kf, q->code, NULL, NULL);
	for (unsigned i = 0; keys[i] != NULL && ret == IMI_OK; i++) {
		char *lang, *base = qset_key_split(keys[i], &lang);

		if (g_str_has_prefix(base, "Choice-") &&
		    !g_strv_contains((const char *const *)codes, base + 7))
			ret = qset_fail(qset, error_r, q->code, keys[i],
					"'%s' is not listed in Choices", base + 7);
		g_free(base);
		g_free(lang);
	}
	g_strfreev(keys);
	return ret;
}

static int qset_load_question(struct qset *qset, struct qset_question *q,
			      char **error_r)
{
	static const char *const allowed[] = {
		"Type", "Required", "Personal", "Text*", "Help*", "Choices",
		"Choice-*", NULL,
	};
	GKeyFile *kf = qset->keyfile;
	char *type;
	int ret, found = 0, personal_default;

	if (!g_key_file_has_group(kf, q->code))
		return qset_fail(qset, error_r, "Set", "Questions",
				 "lists %s but there is no group [%s]", q->code,
				 q->code);
	if ((ret = qset_check_keys(qset, q->code, allowed, error_r)) != IMI_OK)
		return ret;
	type = g_key_file_get_string(kf, q->code, "Type", NULL);
	if (type == NULL)
		return qset_fail(qset, error_r, q->code, "Type",
				 "missing (yesno, choice, date, text, attachment or check)");
	g_strstrip(type);
	for (unsigned t = 0; t < G_N_ELEMENTS(type_names); t++)
		if (strcmp(type, type_names[t]) == 0) {
			q->type = (enum qset_type)t;
			found = 1;
		}
	if (!found) {
		ret = qset_fail(qset, error_r, q->code, "Type",
				"unknown type '%s' (known: yesno, choice, date, "
				"text, attachment, check)", type);
		g_free(type);
		return ret;
	}
	g_free(type);
	if (q->type == QSET_CHECK && qset->kind != QSET_KIND_ALERT)
		return qset_fail(qset, error_r, q->code, "Type",
				 "check-list criteria belong to alert sets (Kind=alert)");
	if ((ret = qset_bool(qset, q->code, "Required", 0, &q->required,
			     error_r)) != IMI_OK)
		return ret;
	/* Free text and documents are personal unless the set says not. */
	personal_default = q->type == QSET_TEXT || q->type == QSET_ATTACHMENT;
	if ((ret = qset_bool(qset, q->code, "Personal", personal_default,
			     &q->personal, error_r)) != IMI_OK)
		return ret;
	if ((ret = qset_text_load(qset, q->code, "Text", &q->text, error_r)) != IMI_OK)
		return ret;
	if (g_key_file_has_key(kf, q->code, "Help", NULL)) {
		q->help = g_new0(struct qset_text, 1);
		if ((ret = qset_text_load(qset, q->code, "Help", q->help,
					  error_r)) != IMI_OK)
			return ret;
	}
	return qset_load_choices(qset, q, error_r);
}

static int qset_parse(struct qset *qset, char **error_r)
{
	GError *gerr = NULL;
	char **codes = NULL, **groups;
	unsigned n;
	int ret;

	if (!g_utf8_validate(qset->source, (gssize)qset->source_len, NULL) ||
	    strlen(qset->source) != qset->source_len)
		return qset_fail(qset, error_r, NULL, NULL,
				 "not valid UTF-8 text");
	if ((ret = qset_check_duplicates(qset, error_r)) != IMI_OK)
		return ret;
	qset->keyfile = g_key_file_new();
	/* Without KEEP_TRANSLATIONS GKeyFile drops every translation that is
	 * not the process's own locale. */
	if (!g_key_file_load_from_data(qset->keyfile, qset->source,
				       qset->source_len,
				       G_KEY_FILE_KEEP_TRANSLATIONS, &gerr)) {
		ret = qset_fail(qset, error_r, NULL, NULL, "%s", gerr->message);
		g_error_free(gerr);
		return ret;
	}
	if ((ret = qset_load_set_group(qset, &codes, error_r)) != IMI_OK)
		goto out;
	n = g_strv_length(codes);
	if (n > QSET_MAX_QUESTIONS) {
		ret = qset_fail(qset, error_r, "Set", "Questions",
				"more than %d questions", QSET_MAX_QUESTIONS);
		goto out;
	}
	qset->questions = g_new0(struct qset_question, n);
	for (unsigned i = 0; i < n; i++) {
		struct qset_question *q = &qset->questions[i];

		g_strstrip(codes[i]);
		q->code = g_strdup(codes[i]);
		q->index = i;
		qset->n_questions = i + 1;
		if (!qset_word_valid(q->code, 1, QSET_MAX_CODE_LEN) ||
		    !g_ascii_isalpha(q->code[0]) || strcmp(q->code, "Set") == 0) {
			ret = qset_fail(qset, error_r, "Set", "Questions",
					"'%s' is not a question code (a letter, then "
					"letters, digits or '-')", q->code);
			goto out;
		}
		for (unsigned j = 0; j < i; j++)
			if (g_ascii_strcasecmp(q->code, qset->questions[j].code) == 0) {
				ret = qset_fail(qset, error_r, "Set", "Questions",
						"duplicate question code '%s'",
						q->code);
				goto out;
			}
		if ((ret = qset_load_question(qset, q, error_r)) != IMI_OK)
			goto out;
	}
	/* A group that no question lists would silently never be asked. */
	groups = g_key_file_get_groups(qset->keyfile, NULL);
	for (unsigned i = 0; groups[i] != NULL && ret == IMI_OK; i++)
		if (strcmp(groups[i], "Set") != 0 &&
		    !g_strv_contains((const char *const *)codes, groups[i]))
			ret = qset_fail(qset, error_r, groups[i], NULL,
					"not listed in [Set] Questions");
	g_strfreev(groups);
out:
	g_strfreev(codes);
	return ret;
}

/* Sets parsed by this process, by source text: a set is read-only once
 * loaded, so the same text (and name) gives the same set again.  Parsing
 * one costs ~8 M instructions (every text in 24 languages through
 * GKeyFile), and one inbound message asks for its case's set more than
 * once (once for the step, once to apply the answers).  A changed set is
 * a different text, never a stale entry.  Bounded: when full, emptied. */
#define QSET_CACHE_MAX 32
static GMutex qset_cache_lock;
static GHashTable *qset_cache; /* source text -> struct qset (one ref) */

static void qset_cache_unref(gpointer p)
{
	struct qset *qset = p;

	qset_free(&qset);
}

int qset_load_data(const char *source, size_t len, const char *name,
		   struct qset **qset_r, char **error_r)
{
	struct qset *qset;
	int ret;

	*qset_r = NULL;
	if (len > QSET_MAX_SOURCE_BYTES)
		return imi_fail(error_r, IMI_TOOBIG,
				"%s: %zu bytes, more than the %d a question set may have",
				name != NULL ? name : "qset", len,
				QSET_MAX_SOURCE_BYTES);
	qset = g_new0(struct qset, 1);
	qset->refs = 1;
	qset->name = g_strdup(name != NULL ? name : "qset");
	qset->source = g_strndup(source, len);
	qset->source_len = len;
	g_mutex_lock(&qset_cache_lock);
	if (qset_cache != NULL) {
		struct qset *hit = g_hash_table_lookup(qset_cache, qset->source);
		if (hit != NULL && hit->source_len == len &&
		    strcmp(hit->name, qset->name) == 0) {
			g_atomic_int_inc(&hit->refs);
			g_mutex_unlock(&qset_cache_lock);
			qset_free(&qset);
			*qset_r = hit;
			return IMI_OK;
		}
	}
	g_mutex_unlock(&qset_cache_lock);
	if ((ret = qset_parse(qset, error_r)) != IMI_OK) {
		qset_free(&qset);
		return ret;
	}
	/* A text with a NUL inside is not looked up by its whole length:
	 * keep such a set out of the cache. */
	if (strlen(qset->source) == len) {
		g_mutex_lock(&qset_cache_lock);
		if (qset_cache == NULL)
			qset_cache = g_hash_table_new_full(g_str_hash, g_str_equal,
							   NULL, qset_cache_unref);
		if (g_hash_table_size(qset_cache) >= QSET_CACHE_MAX)
			g_hash_table_remove_all(qset_cache);
		g_atomic_int_inc(&qset->refs);
		g_hash_table_replace(qset_cache, qset->source, qset);
		g_mutex_unlock(&qset_cache_lock);
	}
	*qset_r = qset;
	return IMI_OK;
}

int qset_load_file(const char *path, struct qset **qset_r, char **error_r)
{
	GError *gerr = NULL;
	char *text, *base;
	gsize len;
	int ret;

	*qset_r = NULL;
	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		ret = imi_fail(error_r,
			       gerr->code == G_FILE_ERROR_NOENT ? IMI_NOTFOUND
								 : IMI_ERROR,
			       "cannot read question set %s: %s", path,
			       gerr->message);
		g_error_free(gerr);
		return ret;
	}
	base = g_path_get_basename(path);
	ret = qset_load_data(text, len, base, qset_r, error_r);
	g_free(base);
	g_free(text);
	return ret;
}

const char *qset_id(const struct qset *qset) { return qset->id; }
int qset_version(const struct qset *qset) { return qset->version; }
enum qset_kind qset_kind(const struct qset *qset) { return qset->kind; }
const char *qset_area(const struct qset *qset) { return qset->area; }

const char *qset_title(const struct qset *qset, const char *lang)
{
	return qset_text_get(&qset->title, lang);
}

const char *qset_source(const struct qset *qset, size_t *len_r)
{
	if (len_r != NULL)
		*len_r = qset->source_len;
	return qset->source;
}

unsigned qset_count(const struct qset *qset) { return qset->n_questions; }

const struct qset_question *qset_question(const struct qset *qset,
					  unsigned index)
{
	return index < qset->n_questions ? &qset->questions[index] : NULL;
}

const struct qset_question *qset_find(const struct qset *qset,
				      const char *code)
{
	for (unsigned i = 0; i < qset->n_questions; i++)
		if (g_ascii_strcasecmp(qset->questions[i].code, code) == 0)
			return &qset->questions[i];
	return NULL;
}

const char *qset_question_code(const struct qset_question *q) { return q->code; }
unsigned qset_question_index(const struct qset_question *q) { return q->index; }
enum qset_type qset_question_type(const struct qset_question *q) { return q->type; }
int qset_question_required(const struct qset_question *q) { return q->required; }
int qset_question_personal(const struct qset_question *q) { return q->personal; }

const char *qset_question_text(const struct qset_question *q, const char *lang)
{
	return qset_text_get(&q->text, lang);
}

const char *qset_question_help(const struct qset_question *q, const char *lang)
{
	return q->help != NULL ? qset_text_get(q->help, lang) : NULL;
}

unsigned qset_choice_count(const struct qset_question *q) { return q->n_choices; }

const char *qset_choice_code(const struct qset_question *q, unsigned index)
{
	return index < q->n_choices ? q->choice_codes[index] : NULL;
}

const char *qset_choice_label(const struct qset_question *q, unsigned index,
			      const char *lang)
{
	return index < q->n_choices ? qset_text_get(&q->choice_labels[index], lang)
				    : NULL;
}

static unsigned qset_check_key(const struct qset *qset, const char *group,
			       const char *key, GString *report)
{
	unsigned gaps = 0;

	for (int i = 0; i < LANG_COUNT; i++) {
		char *k;

		if (strcmp(lang_codes[i], "en") == 0)
			continue;
		k = g_strdup_printf("%s[%s]", key, lang_codes[i]);
		if (!g_key_file_has_key(qset->keyfile, group, k, NULL)) {
			if (report != NULL)
				g_string_append_printf(report, "%s: [%s] %s: no %s\n",
						       qset->name, group, key,
						       lang_codes[i]);
			gaps++;
		}
		g_free(k);
	}
	return gaps;
}

unsigned qset_check_translations(const struct qset *qset, GString *report)
{
	unsigned gaps = qset_check_key(qset, "Set", "Title", report);

	for (unsigned i = 0; i < qset->n_questions; i++) {
		const struct qset_question *q = &qset->questions[i];

		gaps += qset_check_key(qset, q->code, "Text", report);
		if (q->help != NULL)
			gaps += qset_check_key(qset, q->code, "Help", report);
		for (unsigned c = 0; c < q->n_choices; c++) {
			char *key = g_strdup_printf("Choice-%s", q->choice_codes[c]);
			gaps += qset_check_key(qset, q->code, key, report);
			g_free(key);
		}
	}
	return gaps;
}

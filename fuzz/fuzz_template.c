/*
 * fuzz/fuzz_template.c: templates/ loading from bytes: a question set
 * (qset_load_data, as the store reloads a set a case was sent with) or one
 * language's message catalog (catalog_open_data), then every lookup the
 * renderer and the reply parser make of what was loaded.
 *
 * Input: one control byte, then the GKeyFile text.
 *   bit 0        a catalog, else a question set
 *   bits 1-7     the catalog's language: lang_codes[(byte0 >> 1) % 24]
 *
 * Promises checked (qset.h, catalog.h): a load either succeeds or fails
 * with IMI_INVALID or IMI_TOOBIG and an error text; a loaded set has at
 * most QSET_MAX_QUESTIONS questions, each found again by its code, with
 * texts in every language (English standing in) and at most
 * QSET_MAX_CHOICES choices; catalog texts, word lists and expansions are
 * valid UTF-8 when the file was.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "templates/catalog.h"
#include "templates/lang.h"
#include "templates/qset.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void fuzz_qset(const char *data, size_t size, int utf8)
{
	struct qset *qset = NULL;
	char *error = NULL;
	GString *report;
	size_t len;
	int ret;

	ret = qset_load_data(data, size, "fuzz", &qset, &error);
	if (ret != IMI_OK) {
		if ((ret != IMI_INVALID && ret != IMI_TOOBIG) || error == NULL)
			fuzz_fail("qset_load_data: status %d, error %s", ret,
				  error ? error : "(none)");
		g_clear_pointer(&error, g_free);
		return;
	}
	(void)qset_id(qset);
	(void)qset_version(qset);
	(void)qset_kind_name(qset_kind(qset));
	(void)qset_area(qset);
	(void)qset_source(qset, &len);
	if (qset_count(qset) > QSET_MAX_QUESTIONS)
		fuzz_fail("%u questions", qset_count(qset));
	for (unsigned l = 0; l <= LANG_COUNT; l++) {
		const char *lang = l < LANG_COUNT ? lang_codes[l] : NULL;

		if (qset_title(qset, lang) == NULL)
			fuzz_fail("no title in %s", lang ? lang : "(none)");
		if (utf8)
			fuzz_check_utf8("title", qset_title(qset, lang));
	}
	for (unsigned i = 0; i < qset_count(qset); i++) {
		const struct qset_question *q = qset_question(qset, i);
		const char *code = qset_question_code(q);

		if (code == NULL || qset_find(qset, code) != q)
			fuzz_fail("question %u not found by its code", i);
		if (qset_question_index(q) != i)
			fuzz_fail("question %u has index %u", i, qset_question_index(q));
		(void)qset_type_name(qset_question_type(q));
		(void)qset_question_required(q);
		(void)qset_question_personal(q);
		if (qset_choice_count(q) > QSET_MAX_CHOICES)
			fuzz_fail("%u choices", qset_choice_count(q));
		for (unsigned l = 0; l <= LANG_COUNT; l++) {
			const char *lang = l < LANG_COUNT ? lang_codes[l] : NULL;

			if (qset_question_text(q, lang) == NULL)
				fuzz_fail("%s has no text in %s", code, lang ? lang : "(none)");
			if (utf8) {
				fuzz_check_utf8("question text", qset_question_text(q, lang));
				fuzz_check_utf8("question help", qset_question_help(q, lang));
			}
			for (unsigned c = 0; c < qset_choice_count(q); c++) {
				if (qset_choice_code(q, c) == NULL ||
				    qset_choice_label(q, c, lang) == NULL)
					fuzz_fail("%s choice %u without code or label", code, c);
			}
		}
	}
	report = g_string_new(NULL);
	(void)qset_check_translations(qset, report);
	g_string_free(report, TRUE);
	qset_free(&qset);
}

static void fuzz_catalog(const char *lang, const char *data, size_t size,
			 int utf8)
{
	static const char *const keys[] = {
		"request.intro", "request.subject", "error.unknown-case",
		"error.token-expired", "no.such.key",
	};
	static const char *const words[] = {
		"yes", "no", "wrote", "original-message", "from", "nonsense",
	};
	const struct catalog_arg args[] = {
		{"case", "2026-42"}, {"name", "<b>A & \"B\"</b>"}, {"url", NULL},
		{NULL, NULL},
	};
	struct catalog *cat = NULL;
	char *error = NULL, *s;
	GString *report;
	int ret;

	ret = catalog_open_data(lang, data, size, &cat, &error);
	if (ret != IMI_OK) {
		if ((ret != IMI_INVALID && ret != IMI_TOOBIG) || error == NULL)
			fuzz_fail("catalog_open_data: status %d, error %s", ret,
				  error ? error : "(none)");
		g_clear_pointer(&error, g_free);
		return;
	}
	if (!catalog_has_language(cat, lang))
		fuzz_fail("loaded catalog lacks its language %s", lang);
	if (catalog_language_name(cat, lang) == NULL)
		fuzz_fail("no language name");
	for (unsigned k = 0; k < G_N_ELEMENTS(keys); k++) {
		if (utf8)
			fuzz_check_utf8("message", catalog_get(cat, lang, keys[k]));
		s = catalog_format(cat, lang, keys[k], args);
		if (utf8)
			fuzz_check_utf8("formatted message", s);
		g_free(s);
		s = catalog_format_html(cat, lang, keys[k], args);
		if (strchr(s, '<') != NULL && strstr(s, "<b>") != NULL)
			fuzz_fail("an HTML placeholder value went in unescaped: %s", s);
		g_free(s);
	}
	for (unsigned w = 0; w < G_N_ELEMENTS(words); w++) {
		const char *const *f = catalog_words(cat, lang, words[w]);
		const char *const *r = catalog_words_raw(cat, lang, words[w]);
		unsigned nf = 0, nr = 0;

		while (f[nf] != NULL)
			nf++;
		while (r[nr] != NULL)
			nr++;
		if (nf != nr)
			fuzz_fail("%u folded and %u raw %s words", nf, nr, words[w]);
	}
	/* The data as a text with placeholders. */
	s = g_strndup(data, size);
	g_free(catalog_expand(s, args));
	g_free(catalog_expand_html(s, args));
	g_free(s);
	report = g_string_new(NULL);
	ret = catalog_check(cat, report, &error);
	if (ret != IMI_OK)
		g_clear_pointer(&error, g_free);
	g_string_free(report, TRUE);
	catalog_close(&cat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text;
	int utf8;

	if (size < 1)
		return 0;
	text = (const char *)data + 1;
	utf8 = g_utf8_validate(text, (gssize)size - 1, NULL);
	if (data[0] & 1)
		fuzz_catalog(lang_codes[(data[0] >> 1) % LANG_COUNT], text, size - 1,
			     utf8);
	else
		fuzz_qset(text, size - 1, utf8);
	return 0;
}

/*
 * test_catalog_data: templates/catalog read from bytes (catalog_open_data),
 * the entry the template fuzz target uses: what loads, what is refused,
 * and lookups without an English fallback.
 */
#include "testutil.h"

#include "templates/catalog.h"
#include "util/util.h"

static const char fr_ini[] =
	"[Catalog]\nLanguage=fr\nLanguageName=français\n"
	"[Messages]\nrequest.intro=Bonjour %{name},\n"
	"[Words]\nyes=Oui; o ;OK\nno=non\n";

static void test_refusals(void **state)
{
	static const struct {
		const char *name, *lang, *text;
		int want;
	} cases[] = {
		{"not a key file", "fr", "[Catalog\nLanguage=fr\n", IMI_INVALID},
		{"language differs from the one asked", "de", fr_ini, IMI_INVALID},
		{"no [Catalog] Language", "fr", "[Messages]\na=b\n", IMI_INVALID},
		{"not one of the 24", "xx", fr_ini, IMI_INVALID},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct catalog *cat = NULL;
		char *error = NULL;
		int ret = catalog_open_data(cases[i].lang, cases[i].text,
					    strlen(cases[i].text), &cat, &error);

		if (ret != cases[i].want)
			fail_msg("%s: status got %d, want %d", cases[i].name, ret,
				 cases[i].want);
		if (cat != NULL || error == NULL)
			fail_msg("%s: catalog %p, error %s", cases[i].name,
				 (void *)cat, error ? error : "(none)");
		g_free(error);
	}
}

static void test_too_big(void **state)
{
	size_t len = CATALOG_MAX_FILE_BYTES + 1;
	char *big = g_malloc(len);
	struct catalog *cat = NULL;
	char *error = NULL;

	memset(big, '#', len);
	check_int("status of a catalog over the bound",
		  catalog_open_data("fr", big, len, &cat, &error), IMI_TOOBIG);
	g_free(error);
	g_free(big);
}

static void test_lookups_without_english(void **state)
{
	const struct catalog_arg args[] = {{"name", "<Anna>"}, {NULL, NULL}};
	struct catalog *cat = NULL;
	GString *report = g_string_new(NULL);
	char *error = NULL, *s;
	const char *const *yes;

	if (catalog_open_data("fr", fr_ini, strlen(fr_ini), &cat, &error) != IMI_OK)
		fail_msg("catalog_open_data: %s", error);
	check_int("has fr", catalog_has_language(cat, "fr"), 1);
	check_int("has en", catalog_has_language(cat, "en"), 0);
	check_str("language name", catalog_language_name(cat, "fr"), "français");
	check_str("fr text", catalog_get(cat, "fr", "request.intro"), "Bonjour %{name},");
	check_str("key fr lacks, no English to fall back on",
		  catalog_get(cat, "fr", "request.subject"), NULL);
	s = catalog_format_html(cat, "fr", "request.intro", args);
	check_str("html format", s, "Bonjour &lt;Anna&gt;,");
	g_free(s);
	s = catalog_format(cat, "de", "request.intro", args);
	check_str("language not loaded, no English", s, "[request.intro]");
	g_free(s);
	yes = catalog_words_raw(cat, "fr", "yes");
	check_str("first yes word", yes[0], "Oui");
	check_str("second yes word", yes[1], "o");
	check_str("third yes word", yes[2], "OK");
	check_str("end of the yes words", yes[3], NULL);
	check_str("folded", catalog_words(cat, "fr", "yes")[2], "ok");
	check_int("catalog_check without English",
		  catalog_check(cat, report, &error), IMI_INVALID);
	g_free(error);
	g_string_free(report, TRUE);
	catalog_close(&cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_lookups_without_english),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

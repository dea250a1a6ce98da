/*
 * test_qset.c: question sets load, localize and refuse malformed input with
 * an error naming file, group and key; message catalogs load, fall back,
 * expand placeholders and are checked for completeness.
 */
#include "testutil.h"

#include "templates/catalog.h"
#include "templates/lang.h"
#include "templates/qset.h"

static char *src_path(const char *rel)
{
	const char *top = g_getenv("IMI_SRC");
	return g_build_filename(top != NULL ? top : ".", rel, NULL);
}

static G_GNUC_NO_INLINE char *fixture_text(void)
{
	char *path = src_path("tests/fixtures/sets/pq-general.ini"), *text;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("cannot read %s", path);
	g_free(path);
	return text;
}

static void test_qset_valid(void **state)
{
	struct qset *qset = NULL, *again = NULL;
	const struct qset_question *q;
	char *error = NULL, *path = src_path("tests/fixtures/sets/pq-general.ini");
	const char *source;
	size_t len;
	GString *report = g_string_new(NULL);

	if (qset_load_file(path, &qset, &error) != IMI_OK)
		fail_msg("load: %s", error);
	check_str("id", qset_id(qset), "pq-general");
	check_int("version", qset_version(qset), 1);
	check_str("kind", qset_kind_name(qset_kind(qset)), "request");
	check_str("area", qset_area(qset), "professional-qualifications");
	check_str("title fr", qset_title(qset, "fr"),
		  "Qualifications professionnelles : questions générales");
	/* Italian is not translated in the fixture: English stands in. */
	check_str("title it", qset_title(qset, "it"),
		  "Professional qualifications: general questions");
	check_str("title NULL", qset_title(qset, NULL),
		  "Professional qualifications: general questions");
	check_int("count", qset_count(qset), 5);
	q = qset_question(qset, 2);
	check_str("Q3 code", qset_question_code(q), "Q3");
	check_str("Q3 type", qset_type_name(qset_question_type(q)), "choice");
	check_int("Q3 choices", qset_choice_count(q), 3);
	check_str("Q3 choice 2", qset_choice_code(q, 1), "suspended");
	check_str("Q3 label de", qset_choice_label(q, 1, "de"), "Ausgesetzt");
	check_str("Q3 label pl", qset_choice_label(q, 1, "pl"), "Suspended");
	check_int("Q3 required", qset_question_required(q), 1);
	check_int("Q3 personal", qset_question_personal(q), 0);
	q = qset_find(qset, "q5");
	if (q == NULL)
		fail_msg("qset_find(q5): got NULL");
	check_str("Q5 text de", qset_question_text(q, "de"), "Weitere Bemerkungen?");
	check_int("Q5 required", qset_question_required(q), 0);
	/* Free text is personal unless the set says otherwise. */
	check_int("Q5 personal", qset_question_personal(q), 1);
	check_int("Q5 help", qset_question_help(q, "en") == NULL, 1);
	check_str("Q4 help fr", qset_question_help(qset_find(qset, "Q4"), "fr"),
		  "Par exemple 30/06/2019");
	check_int("Q9", qset_find(qset, "Q9") == NULL, 1);
	/* 10 localized keys, each lacking 21 languages. */
	check_int("translation gaps", qset_check_translations(qset, report), 10 * 21);
	if (strstr(report->str, "pq-general.ini: [Q3] Choice-revoked: no it") == NULL)
		fail_msg("translation report lacks the Q3 line:\n%s", report->str);
	/* The source round-trips through the store. */
	source = qset_source(qset, &len);
	if (qset_load_data(source, len, "store:pq-general", &again, &error) != IMI_OK)
		fail_msg("reload: %s", error);
	check_int("reloaded count", qset_count(again), 5);
	qset_free(&again);
	qset_free(&qset);
	check_int("freed", qset == NULL, 1);
	g_string_free(report, TRUE);
	g_free(path);
}

/* Each case changes the valid fixture once and names what the error must
 * say. */
static const struct {
	const char *name;
	const char *from;  /* text replaced ... */
	const char *to;    /* ... by this */
	const char *error; /* substring of the error */
	int status;
} bad_cases[] = {
	{"unknown type", "[Q1]\nType=yesno", "[Q1]\nType=yes-no",
	 "pq-general.ini: [Q1] Type: unknown type 'yes-no'", IMI_INVALID},
	{"choice without Choices", "Choices=valid;suspended;revoked\n", "",
	 "pq-general.ini: [Q3] Choices: missing", IMI_INVALID},
	{"duplicate question code", "Questions=Q1;Q2;Q3;Q4;Q5", "Questions=Q1;Q2;Q2;Q4;Q5",
	 "[Set] Questions: duplicate question code 'Q2'", IMI_INVALID},
	{"duplicate choice code", "Choices=valid;suspended;revoked", "Choices=valid;suspended;valid",
	 "[Q3] Choices: duplicate choice code 'valid'", IMI_INVALID},
	{"missing Text", "Text=Any further remarks?\n", "",
	 "[Q5] Text: missing", IMI_INVALID},
	{"empty Text", "Text=Any further remarks?\n", "Text=  \n",
	 "[Q5] Text: empty", IMI_INVALID},
	{"unknown key", "[Q5]\n", "[Q5]\nTxet=Remarks\n",
	 "[Q5] Txet: unknown key", IMI_INVALID},
	{"unknown language", "[Q5]\n", "[Q5]\nText[xx]=Remarks\n",
	 "[Q5] Text[xx]: 'xx' is not one of the 24", IMI_INVALID},
	{"English as a translation", "[Q5]\n", "[Q5]\nText[en]=Remarks\n",
	 "[Q5] Text[en]: English is the untranslated key", IMI_INVALID},
	{"label missing", "Choice-revoked=Revoked\n", "",
	 "[Q3] Choice-revoked: missing", IMI_INVALID},
	{"label of no listed choice", "Choice-revoked=Revoked\n",
	 "Choice-revoked=Revoked\nChoice-expired=Expired\n",
	 "[Q3] Choice-expired: 'expired' is not listed in Choices", IMI_INVALID},
	{"choices on yesno", "[Q1]\nType=yesno\n", "[Q1]\nType=yesno\nChoices=a;b\n",
	 "[Q1] Choices: only Type=choice", IMI_INVALID},
	{"group not listed", "Questions=Q1;Q2;Q3;Q4;Q5", "Questions=Q1;Q2;Q3;Q4",
	 "[Q5]: not listed in [Set] Questions", IMI_INVALID},
	{"listed without group", "Questions=Q1;Q2;Q3;Q4;Q5", "Questions=Q1;Q2;Q3;Q4;Q5;Q6",
	 "[Set] Questions: lists Q6 but there is no group [Q6]", IMI_INVALID},
	{"check in a request set", "[Q1]\nType=yesno", "[Q1]\nType=check",
	 "[Q1] Type: check-list criteria belong to alert sets", IMI_INVALID},
	{"repeated key", "Text[fr]=Autres remarques ?\n",
	 "Text[fr]=Autres remarques ?\nText[fr]=Remarques ?\n",
	 "[Q5] Text[fr]: the key appears twice", IMI_INVALID},
	{"repeated group", "[Q5]\n", "[Q1]\nHelp=x\n[Q5]\n",
	 "[Q1]: the group appears twice", IMI_INVALID},
	{"unknown kind", "Kind=request", "Kind=inquiry",
	 "[Set] Kind: unknown kind 'inquiry'", IMI_INVALID},
	{"bad boolean", "[Q1]\nType=yesno\nRequired=true", "[Q1]\nType=yesno\nRequired=maybe",
	 "[Q1] Required: must be true or false", IMI_INVALID},
	{"bad id", "Id=pq-general", "Id=PQ General",
	 "[Set] Id: 'PQ General' is not a stable id", IMI_INVALID},
	{"bad version", "Version=1", "Version=one",
	 "[Set] Version: missing or not a positive integer", IMI_INVALID},
	{"no [Set]", "[Set]\n", "[Sets]\n",
	 "[Set]: missing", IMI_INVALID},
	{"bad question code", "Questions=Q1;Q2;Q3;Q4;Q5", "Questions=Q1;Q2;Q3;Q4;Q5;Q 6",
	 "[Set] Questions: 'Q 6' is not a question code", IMI_INVALID},
	{"not a key file", "[Q5]\n", "[Q5]\nthis line has no equals sign\n",
	 "pq-general.ini: ", IMI_INVALID},
};

static void test_qset_malformed(void **state)
{
	char *good = fixture_text();

	for (unsigned i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		struct qset *qset = NULL;
		char *error = NULL, *bad;
		const char *at = strstr(good, bad_cases[i].from);
		int ret;

		if (at == NULL)
			fail_msg("%s: the fixture lacks \"%s\"", bad_cases[i].name,
				 bad_cases[i].from);
		bad = g_strdup_printf("%.*s%s%s", (int)(at - good), good,
				      bad_cases[i].to, at + strlen(bad_cases[i].from));
		ret = qset_load_data(bad, strlen(bad), "pq-general.ini", &qset, &error);
		if (ret != bad_cases[i].status)
			fail_msg("%s: status: got %s, want %s (error \"%s\")",
				 bad_cases[i].name, imi_status_name(ret),
				 imi_status_name(bad_cases[i].status),
				 error ? error : "");
		if (qset != NULL)
			fail_msg("%s: a set came back with the error", bad_cases[i].name);
		if (error == NULL || strstr(error, bad_cases[i].error) == NULL)
			fail_msg("%s: error: got \"%s\", want it to contain \"%s\"",
				 bad_cases[i].name, error ? error : "(null)",
				 bad_cases[i].error);
		g_free(error);
		g_free(bad);
	}
	g_free(good);
}

static void test_qset_bounds(void **state)
{
	GString *big = g_string_new("[Set]\n");
	struct qset *qset = NULL;
	char *error = NULL;

	while (big->len <= QSET_MAX_SOURCE_BYTES)
		g_string_append(big, "# padding padding padding padding padding\n");
	check_int("too big", qset_load_data(big->str, big->len, "big.ini", &qset, &error),
		  IMI_TOOBIG);
	g_free(error);
	error = NULL;
	check_int("missing file", qset_load_file("/nonexistent/x.ini", &qset, &error),
		  IMI_NOTFOUND);
	g_free(error);
	g_string_free(big, TRUE);
}

/* Mutations of the valid set (bytes changed, lines dropped or doubled):
 * each load either succeeds or fails with an error naming the source. */
static void test_qset_mutations(void **state)
{
	char *good = fixture_text();
	GRand *rand = g_rand_new_with_seed(4242);
	static const char bytes[] = "[]=;\n#\\\xff\xc3QTa1 ";

	for (unsigned iter = 0; iter < 2000; iter++) {
		char **lines = g_strsplit(good, "\n", -1);
		unsigned n = g_strv_length(lines);
		GString *text = g_string_new(NULL);
		struct qset *qset = NULL;
		char *error = NULL;
		int ret;

		for (unsigned i = 0; i < n; i++) {
			int op = g_rand_int_range(rand, 0, 40);
			if (op == 0)
				continue; /* drop the line */
			if (op == 1 && *lines[i] != '\0')
				lines[i][g_rand_int_range(rand, 0, (gint32)strlen(lines[i]))] =
					bytes[g_rand_int_range(rand, 0, sizeof(bytes) - 1)];
			g_string_append_printf(text, "%s\n", lines[i]);
			if (op == 2)
				g_string_append_printf(text, "%s\n", lines[i]);
		}
		ret = qset_load_data(text->str, text->len, "mutant.ini", &qset, &error);
		if (ret == IMI_OK) {
			if (qset == NULL || error != NULL)
				fail_msg("iteration %u: OK without a set or with an error", iter);
			for (unsigned q = 0; q < qset_count(qset); q++)
				if (qset_question_text(qset_question(qset, q), "fr") == NULL)
					fail_msg("iteration %u: a question without text", iter);
		} else if (qset != NULL || error == NULL ||
			   !g_str_has_prefix(error, "mutant.ini")) {
			fail_msg("iteration %u: status %s, error \"%s\"", iter,
				 imi_status_name(ret), error ? error : "(null)");
		}
		qset_free(&qset);
		g_free(error);
		g_string_free(text, TRUE);
		g_strfreev(lines);
	}
	g_rand_free(rand);
	g_free(good);
}

/* Every set shipped in templates/sets must load.  The translated content
 * arrives separately; without it the test says so and passes. */
static void test_qset_shipped(void **state)
{
	char *dir = src_path("templates/sets");
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	unsigned n = 0;

	if (d == NULL) {
		printf("note: %s does not exist yet; shipped sets not checked\n", dir);
		g_free(dir);
		return;
	}
	while ((name = g_dir_read_name(d)) != NULL) {
		struct qset *qset = NULL;
		char *error = NULL, *path, *stem;
		GString *report = g_string_new(NULL);

		if (!g_str_has_suffix(name, ".ini"))
			continue;
		path = g_build_filename(dir, name, NULL);
		if (qset_load_file(path, &qset, &error) != IMI_OK)
			fail_msg("%s", error);
		stem = g_strndup(name, strlen(name) - 4);
		check_str("Id = file name", qset_id(qset), stem);
		if (qset_check_translations(qset, report) != 0)
			fail_msg("untranslated texts:\n%s", report->str);
		g_string_free(report, TRUE);
		g_free(stem);
		g_free(path);
		qset_free(&qset);
		n++;
	}
	g_dir_close(d);
	printf("note: %u shipped sets loaded\n", n);
	g_free(dir);
}

static void test_catalog_lookup(void **state)
{
	struct catalog *cat = NULL;
	char *error = NULL, *dir = src_path("tests/fixtures/catalogs"), *s;
	const struct catalog_arg args[] = {
		{"case", "IMI-2026-000123"}, {"title", "<b>A & B</b>"}, {NULL, NULL},
	};
	const char *const *w;

	if (catalog_open(dir, &cat, &error) != IMI_OK)
		fail_msg("open: %s", error);
	check_int("has fr", catalog_has_language(cat, "fr"), 1);
	check_int("has ga", catalog_has_language(cat, "ga"), 0);
	check_str("language name", catalog_language_name(cat, "fr"), "français");
	s = catalog_format(cat, "fr", "request.subject", args);
	check_str("fr subject", s, "Demande d'information IMI-2026-000123 : <b>A & B</b>");
	g_free(s);
	s = catalog_format_html(cat, "fr", "request.subject", args);
	check_str("fr subject html", s,
		  "Demande d&#39;information IMI-2026-000123 : &lt;b&gt;A &amp; B&lt;/b&gt;");
	g_free(s);
	/* Irish has no file, Spanish has no [Messages]: English stands in. */
	check_str("ga fallback", catalog_get(cat, "ga", "request.action.accept"),
		  "Accept the request");
	check_str("es fallback", catalog_get(cat, "es", "request.action.accept"),
		  "Accept the request");
	check_int("missing key", catalog_get(cat, "fr", "no.such.key") == NULL, 1);
	s = catalog_format(cat, "fr", "no.such.key", NULL);
	check_str("missing key formatted", s, "[no.such.key]");
	g_free(s);
	/* GKeyFile escapes: \n in the file is a line break. */
	s = catalog_format(cat, "en", "confirm.understood", NULL);
	check_str("escape and unknown placeholder", s,
		  "We have understood the following answers:\n%{questions}");
	g_free(s);
	/* Values are not expanded twice. */
	{
		const struct catalog_arg a2[] = {{"x", "%{y}"}, {"y", "no"}, {NULL, NULL}};
		s = catalog_expand("%{x} %{y} %{ z} %{", a2);
		check_str("expand once", s, "%{y} no %{ z} %{");
		g_free(s);
	}
	w = catalog_words(cat, "fr", "yes");
	check_str("fr yes[0]", w[0], "oui");
	check_str("fr yes folded", w[4], "confirme");
	check_str("de original-message folded",
		  catalog_words(cat, "de", "original-message")[0],
		  "ursprungliche nachricht");
	check_str("fr from raw", catalog_words_raw(cat, "fr", "from")[2], "À");
	check_int("ga words empty", catalog_words(cat, "ga", "yes")[0] == NULL, 1);
	check_int("unknown list empty", catalog_words(cat, "fr", "maybe")[0] == NULL, 1);
	catalog_close(&cat);
	g_free(dir);
}

static void test_catalog_errors(void **state)
{
	/* Not testutil_tmpdir: it leaks g_get_current_dir()'s string, which
	 * LeakSanitizer reports. */
	char *dir, *path, *error = NULL;
	struct catalog *cat = NULL;
	GString *report = g_string_new(NULL);

	g_mkdir_with_parents("tests/tmp", 0700);
	dir = g_mkdtemp(g_strdup("tests/tmp/catalog-XXXXXX"));
	if (dir == NULL)
		fail_msg("cannot create a temporary directory under tests/tmp");
	check_int("no en.ini", catalog_open(dir, &cat, &error), IMI_NOTFOUND);
	g_free(error);
	error = NULL;
	path = g_build_filename(dir, "en.ini", NULL);
	g_file_set_contents(path,
			    "[Catalog]\nLanguage=en\nLanguageName=English\n"
			    "[Messages]\na.subject=Case %{case}\nb.body=Hello\n"
			    "[Words]\nyes=yes\n", -1, NULL);
	g_free(path);
	path = g_build_filename(dir, "fr.ini", NULL);
	g_file_set_contents(path,
			    "[Catalog]\nLanguage=de\n[Messages]\n", -1, NULL);
	check_int("Language mismatch", catalog_open(dir, &cat, &error), IMI_INVALID);
	if (error == NULL || strstr(error, "fr.ini: [Catalog] Language: de") == NULL)
		fail_msg("mismatch error: got \"%s\"", error ? error : "(null)");
	g_free(error);
	error = NULL;
	g_file_set_contents(path,
			    "[Catalog]\nLanguage=fr\nLanguageName=français\n"
			    "[Messages]\na.subject=Dossier %{cas}\n"
			    "[Words]\nyes=oui\n", -1, NULL);
	g_free(path);
	if (catalog_open(dir, &cat, &error) != IMI_OK)
		fail_msg("open: %s", error);
	check_int("check", catalog_check(cat, report, &error), IMI_INVALID);
	if (strstr(report->str, "fr.ini: [Messages] b.body: missing") == NULL ||
	    strstr(report->str, "fr.ini: [Messages] a.subject: uses %{cas}") == NULL ||
	    strstr(report->str, "fr.ini: [Messages] a.subject: lacks %{case}") == NULL ||
	    strstr(report->str, "de.ini: missing") == NULL)
		fail_msg("check report:\n%s", report->str);
	g_free(error);
	catalog_close(&cat);
	g_string_free(report, TRUE);
	testutil_rmdir(dir);
}

/* The real catalogs: every key of en.ini in each of the 24.  They arrive
 * separately; without them the test says so and passes. */
static void test_catalog_shipped(void **state)
{
	char *dir = src_path("templates/catalogs"), *en, *error = NULL;
	struct catalog *cat = NULL;
	GString *report = g_string_new(NULL);

	en = g_build_filename(dir, "en.ini", NULL);
	if (!g_file_test(en, G_FILE_TEST_EXISTS)) {
		printf("note: %s does not exist yet; shipped catalogs not checked\n", en);
	} else {
		if (catalog_open(dir, &cat, &error) != IMI_OK)
			fail_msg("%s", error);
		if (catalog_check(cat, report, &error) != IMI_OK)
			fail_msg("%s:\n%s", error, report->str);
		for (int i = 0; i < LANG_COUNT; i++)
			if (catalog_words(cat, lang_codes[i], "yes")[0] == NULL ||
			    catalog_words(cat, lang_codes[i], "no")[0] == NULL)
				fail_msg("%s.ini: [Words] yes/no: empty", lang_codes[i]);
		catalog_close(&cat);
	}
	g_free(en);
	g_free(dir);
	g_string_free(report, TRUE);
}

/* A lazy catalog (what request_env_open uses) answers as the eager one,
 * language by language, whether the words or the texts are asked first. */
static void check_same_list(const char *what, const char *lang,
			    const char *const *got, const char *const *want)
{
	unsigned i;

	for (i = 0; got[i] != NULL && want[i] != NULL; i++)
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("%s.ini %s[%u]: got \"%s\", want \"%s\"", lang, what,
				 i, got[i], want[i]);
	if (got[i] != NULL || want[i] != NULL)
		fail_msg("%s.ini %s: lists of different length", lang, what);
}

static void test_catalog_lazy(void **state)
{
	static const char *const words[] = {"yes", "no", "wrote", "original-message", "from"};
	static const char *const keys[] = {"request.subject", "request.intro", "no.such.key"};
	char *dir = src_path("templates/catalogs"), *error = NULL;
	struct catalog *eager = NULL, *lazy = NULL;

	if (catalog_open(dir, &eager, &error) != IMI_OK)
		fail_msg("eager: %s", error);
	for (int order = 0; order < 2; order++) {
		if (catalog_open_lazy(dir, &lazy, &error) != IMI_OK)
			fail_msg("lazy: %s", error);
		for (int l = 0; l < LANG_COUNT; l++) {
			const char *lang = lang_codes[l];
			for (int pass = 0; pass < 2; pass++) {
				if ((pass == 0) == (order == 0)) {
					for (unsigned w = 0; w < G_N_ELEMENTS(words); w++) {
						check_same_list(words[w], lang,
								catalog_words(lazy, lang, words[w]),
								catalog_words(eager, lang, words[w]));
						check_same_list(words[w], lang,
								catalog_words_raw(lazy, lang, words[w]),
								catalog_words_raw(eager, lang, words[w]));
					}
				} else {
					const char *a, *b;
					for (unsigned k = 0; k < G_N_ELEMENTS(keys); k++) {
						a = catalog_get(lazy, lang, keys[k]);
						b = catalog_get(eager, lang, keys[k]);
						if (g_strcmp0(a, b) != 0)
							fail_msg("%s.ini %s: got \"%s\", want \"%s\"",
								 lang, keys[k], a ? a : "(null)", b ? b : "(null)");
					}
					a = catalog_language_name(lazy, lang);
					b = catalog_language_name(eager, lang);
					if (g_strcmp0(a, b) != 0)
						fail_msg("%s.ini LanguageName: got \"%s\", want \"%s\"",
							 lang, a ? a : "(null)", b ? b : "(null)");
					check_int("has language", catalog_has_language(lazy, lang),
						  catalog_has_language(eager, lang));
				}
			}
		}
		catalog_close(&lazy);
	}
	catalog_close(&eager);
	g_free(dir);
}

static void test_lang_fold(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"DÉCEMBRE", "decembre"}, {"März", "marz"}, {"Straße", "strasse"},
		{"Łódź", "lodz"}, {"Μαρτίου", "μαρτιου"}, {"ΟΧΙ", "οχι"},
		{"září", "zari"}, {"Ġunju", "gunju"}, {"ÅR", "ar"},
		{"Ναι", "ναι"}, {"ΠΌΛΙΣ", "πολισ"},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *got = lang_fold(cases[i].in);
		check_str(cases[i].in, got, cases[i].want);
		g_free(got);
	}
	{
		static const struct {
			const char *iso, *lang, *want;
		} dates[] = {
			{"2026-12-31", "en", "31 December 2026"},
			{"2026-03-01", "fr", "1er mars 2026"},
			{"2026-03-01", "de", "1. März 2026"},
			{"2026-12-31", "cs", "31. prosince 2026"},
			{"2026-12-31", "hu", "2026. december 31."},
			{"2026-12-31", "lt", "2026 m. gruodžio 31 d."},
			{"2026-12-31", "lv", "2026. gada 31. decembris"},
			{"2026-09-01", "ga", "1 Meán Fómhair 2026"},
			{"2026-12-31", "el", "31 Δεκεμβρίου 2026"},
			{"2026-12-31", "fi", "31. joulukuuta 2026"},
			{"2026-12-31", "es", "31 de diciembre de 2026"},
			{"2026-12-31", "xx", "31 December 2026"},
			{"2026-02-30", "en", NULL},
			{"31.12.2026", "en", NULL},
		};
		for (unsigned i = 0; i < G_N_ELEMENTS(dates); i++) {
			char *got = lang_format_date(dates[i].iso, dates[i].lang);
			char *field = g_strdup_printf("date %s in %s", dates[i].iso, dates[i].lang);
			check_str(field, got, dates[i].want);
			g_free(field);
			g_free(got);
		}
	}
	check_int("lang en", lang_index("en"), 5);
	check_int("lang xx", lang_index("xx"), -1);
	check_int("lang NULL", lang_index(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qset_valid),
		cmocka_unit_test(test_qset_malformed),
		cmocka_unit_test(test_qset_bounds),
		cmocka_unit_test(test_qset_mutations),
		cmocka_unit_test(test_qset_shipped),
		cmocka_unit_test(test_catalog_lookup),
		cmocka_unit_test(test_catalog_errors),
		cmocka_unit_test(test_catalog_shipped),
		cmocka_unit_test(test_catalog_lazy),
		cmocka_unit_test(test_lang_fold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

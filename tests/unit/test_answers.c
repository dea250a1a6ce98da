/*
 * test_answers.c: answers in replies of many languages, by code and under
 * quoted questions; dates in many forms; a rendered request answered the
 * way mail clients quote it, then read back.
 */
#include "testutil.h"

#include <gmime/gmime.h>

#include "parser/answers.h"
#include "parser/dates.h"
#include "templates/catalog.h"
#include "templates/lang.h"
#include "templates/qset.h"
#include "templates/render.h"

struct fixture {
	struct qset *qset;
	struct catalog *catalog;
};

static char *src_path(const char *rel)
{
	const char *top = g_getenv("IMI_SRC");
	return g_build_filename(top != NULL ? top : ".", rel, NULL);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char *error = NULL, *path;

	g_mime_init();
	path = src_path("tests/fixtures/sets/pq-general.ini");
	if (qset_load_file(path, &f->qset, &error) != IMI_OK)
		fail_msg("qset: %s", error);
	g_free(path);
	path = src_path("tests/fixtures/catalogs");
	if (catalog_open(path, &f->catalog, &error) != IMI_OK)
		fail_msg("catalog: %s", error);
	g_free(path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	qset_free(&f->qset);
	catalog_close(&f->catalog);
	g_free(f);
	return 0;
}

/* "Q1=yes Q2=no Q3=?" (? for not understood) and "kind:code ..." */
static void summarize(const struct answers *a, char **answers_r, char **problems_r)
{
	GString *s = g_string_new(NULL), *p = g_string_new(NULL);

	for (unsigned i = 0; i < answers_count(a); i++) {
		const struct answer *ans = answers_get(a, i);
		g_string_append_printf(s, "%s%s=%s", i ? " " : "",
				       qset_question_code(ans->question),
				       ans->value != NULL ? ans->value : "?");
	}
	for (unsigned i = 0; i < answers_problem_count(a); i++) {
		const struct answer_problem *pr = answers_problem(a, i);
		g_string_append_printf(p, "%s%s:%s", i ? " " : "", pr->kind,
				       pr->code ? pr->code : "-");
	}
	*answers_r = g_string_free(s, FALSE);
	*problems_r = g_string_free(p, FALSE);
}

static const struct {
	const char *name;
	const char *lang;
	const char *new_text;
	const char *full_text;
	const char *answers;  /* want */
	const char *problems; /* want */
} cases[] = {
	{"en top-posted", "en",
	 "Hello,\n\nQ1: yes\nQ2: no\nQ3: valid\nQ4: 2026-03-01\nQ5: Nothing to add.\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01 Q5=Nothing to add.", ""},
	{"fr Q1: oui", "fr",
	 "Bonjour,\nQ1: oui\nQ2 - non\nQ3: Suspendue\nQ4: 1er mars 2026\nCordialement",
	 NULL, "Q1=yes Q2=no Q3=suspended Q4=2026-03-01", ""},
	{"de numbered", "de",
	 "1) ja\n2) nein\n3) Widerrufen\n4) 1. März 2026\n",
	 NULL, "Q1=yes Q2=no Q3=revoked Q4=2026-03-01", ""},
	{"es", "es",
	 "Q1 sí\nQ2: No, no está inscrito.\nQ3: valid\nQ4: 1 de marzo de 2026\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"it numbered with dots", "it",
	 "1. Sì\n2. no\n3. Valid\n4. 01/03/2026\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"nl", "nl", "Q1: Ja\nQ2: nee\nQ3: revoked\nQ4: 1 maart 2026\n",
	 NULL, "Q1=yes Q2=no Q3=revoked Q4=2026-03-01", ""},
	{"pl", "pl", "Q1: Tak\nQ2: Nie\nQ3: valid\nQ4: 1 marca 2026 r.\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"pt", "pt", "Q1: Sim\nQ2: Não\nQ3: suspended\nQ4: 1 de março de 2026\n",
	 NULL, "Q1=yes Q2=no Q3=suspended Q4=2026-03-01", ""},
	{"sv", "sv", "Q1: ja\nQ2: nej\nQ3: valid\nQ4: 2026-03-01\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"el", "el", "Q1: Ναι\nQ2: ΌΧΙ\nQ3: valid\nQ4: 1 Μαρτίου 2026\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"cs", "cs", "Q1: Ano\nQ2: ne\nQ3: valid\nQ4: 1. března 2026\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"a reply in another language than the request", "fr",
	 "Q1: ja\nQ2: nein\nQ3: gültig\nQ4: 1.3.2026\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"separators and case", "en",
	 "q1 yes\nQ2) No\nQ3 = VALID\nQ4 – 1 March 2026\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"accents left out", "fr",
	 "Q1: OUI\nQ2: non\nQ3: retiree\nQ4: 01-03-2026\n",
	 NULL, "Q1=yes Q2=no Q3=revoked Q4=2026-03-01", ""},
	{"interleaved (full text)", "en",
	 "Please see my answers below.",
	 "Please see my answers below.\n\n"
	 "On Wed, 25 Nov 2026 at 10:00, IMI <imi@imi.example.eu> wrote:\n"
	 "> Q1. Is the attached diploma authentic? (yes / no)\n"
	 "> Q1: \n"
	 "Yes, it is.\n"
	 ">\n"
	 "> Q2. Is the professional registered with your authority? (yes / no)\n"
	 "> Q2: \n"
	 ">\n"
	 "Yes, since 2015\n"
	 "> Q3. What is the current status of the professional's authorisation to\n"
	 "> practise?\n"
	 ">     - Valid\n"
	 ">     - Suspended\n"
	 ">     - Revoked\n"
	 "> Q3: \n"
	 "Suspended (since January)\n"
	 "> Q4. On what date was the diploma issued?\n"
	 ">     (For example 2019-06-30)\n"
	 "> Q4: \n"
	 "30 June 2019\n"
	 "> Q5. Any further remarks?\n"
	 "> Q5: \n"
	 ">\n"
	 "> ------------------------------------------------------------\n"
	 "> Accept the request:\n"
	 ">   mailto:imi+tok@imi.example.eu?subject=ACCEPT%20%5BIMI-2026-000123%5D\n"
	 "\n"
	 "Kind regards,\nHans\n",
	 "Q1=yes Q2=yes Q3=suspended Q4=2019-06-30", ""},
	{"interleaved kept by the trimmer, question text only", "de",
	 "> Ist das beigefügte Diplom echt? (ja / nein)\n"
	 "Ja\n"
	 "> Ist die Berufsangehörige oder der Berufsangehörige bei Ihrer Behörde eingetragen?\n"
	 "Q2: nein\n"
	 "> Wie ist der derzeitige Stand der Berufszulassung?\n"
	 "gültig\n"
	 "> An welchem Datum wurde das Diplom ausgestellt?\n"
	 "am 30. Juni 2019\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2019-06-30", ""},
	{"quoted answer lines are not answers", "en",
	 "Q1: yes\n",
	 "Q1: yes\n\n> Q2: no\n> Q3: valid\n",
	 "Q1=yes", "missing:Q2 missing:Q3 missing:Q4"},
	{"missing required", "en", "Q1: yes\nQ3: valid\n", NULL,
	 "Q1=yes Q3=valid", "missing:Q2 missing:Q4"},
	{"not understood", "en", "Q1: perhaps\nQ2: no\nQ3: expired\nQ4: soon\n", NULL,
	 "Q1=? Q2=no Q3=? Q4=?",
	 "not-understood:Q1 not-understood:Q3 not-understood:Q4"},
	{"conflict", "en", "Q1: yes\nQ2: no\nQ3: valid\nQ4: 2026-03-01\nQ1: no\n", NULL,
	 "Q1=yes Q2=no Q3=valid Q4=2026-03-01", "conflict:Q1"},
	{"unknown question", "en", "Q1: yes\nQ2: no\nQ3: valid\nQ4: 2026-03-01\nQ9: yes\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", "unknown-question:Q9"},
	{"free text over several lines, numbered list kept", "en",
	 "Q5: First line\n1. a point of my own\n\nsecond paragraph\nQ1: yes\n"
	 "Q2: no\nQ3: valid\nQ4: 1/3/2026\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01 "
	       "Q5=First line\n1. a point of my own\n\nsecond paragraph", ""},
	{"answer on the line after the code", "en",
	 "Q1:\nyes\nQ2:\n\nno\nQ3: valid\nQ4: 2026-03-01\n", NULL,
	 "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"answer after the pasted question on its line", "fr",
	 "Le diplôme joint est-il authentique ? Oui\n"
	 "Q2. Is the professional registered with your authority? (yes / no) No\n"
	 "Q3: valid\nQ4: 2026-03-01\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"untrimmed: quote header, Outlook block and signature end free text", "en",
	 "Q1: yes\nQ2: no\nQ3: valid\nQ4: 2026-03-01\nQ5: Nothing to add.\n\n"
	 "On Wed, 25 Nov 2026 at 10:00, IMI <imi@imi.example.eu> wrote:\n"
	 "> Q1. Is the attached diploma authentic? (yes / no)\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01 Q5=Nothing to add.", ""},
	{"untrimmed: German Outlook header block", "de",
	 "Q5: Keine Bemerkungen.\nVon: IMI <imi@imi.example.eu>\nGesendet: Mittwoch\n"
	 "Q1: ja\nQ2: nein\nQ3: gültig\nQ4: 1.3.2026\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01 Q5=Keine Bemerkungen.", ""},
	{"untrimmed: French original message and signature", "fr",
	 "Q1: oui\nQ2: non\nQ3: valide\nQ4: 1/3/2026\nQ5: Rien.\n-- \nMarie\n"
	 "-------- Message d'origine --------\nDe : IMI <imi@imi.example.eu>\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01 Q5=Rien.", ""},
	{"short words of other languages", "fr",
	 "Q1: Si nécessaire, voir la pièce jointe\nQ2: Non, jamais\nQ3: valid\nQ4: 2026-03-01\n",
	 NULL, "Q1=? Q2=no Q3=valid Q4=2026-03-01", "not-understood:Q1"},
	{"short words of the replier's language", "de",
	 "Q1: Ja seit 2015\nQ2: No, never\nQ3: valid\nQ4: 2026-03-01\n",
	 NULL, "Q1=yes Q2=no Q3=valid Q4=2026-03-01", ""},
	{"empty reply", "en", "Thanks!\n", NULL, "",
	 "missing:Q1 missing:Q2 missing:Q3 missing:Q4"},
};

/* A set whose first question is free text: a reply numbered "1) ... 2)
 * ..." throughout must not swallow the later answers into the first,
 * while a list inside a text opened by its code stays the text's own. */
static void test_answers_numbered_text(void **state)
{
	static const char set[] =
		"[Set]\nId=t-numbered\nVersion=1\nKind=request\nArea=test\n"
		"Title=Numbered\nQuestions=Q1;Q2;Q3\n"
		"[Q1]\nType=text\nText=Name\n"
		"[Q2]\nType=yesno\nText=Registered?\n"
		"[Q3]\nType=text\nText=Remarks\n";
	static const struct {
		const char *name, *text, *answers;
	} numbered[] = {
		{"numbered throughout", "1) Jan Kowalski\n2) tak\n3) Brak uwag.\n",
		 "Q1=Jan Kowalski Q2=yes Q3=Brak uwag."},
		{"numbered with dots", "1. Jan Kowalski\n2. nie\n",
		 "Q1=Jan Kowalski Q2=no"},
		{"list inside a text opened by code", "Q1: Jan Kowalski\n2. Anna Nowak\nQ2: tak\n",
		 "Q1=Jan Kowalski\n2. Anna Nowak Q2=yes"},
		{"smaller number inside a numbered text", "3) Uwagi:\n1. pierwsza\n2. druga\n",
		 "Q3=Uwagi:\n1. pierwsza\n2. druga"},
	};
	struct fixture *f = *state;
	struct qset *qset = NULL;
	char *error = NULL;

	if (qset_load_data(set, strlen(set), "t-numbered", &qset, &error) != IMI_OK)
		fail_msg("set: %s", error);
	for (unsigned i = 0; i < G_N_ELEMENTS(numbered); i++) {
		struct answers_input in = {
			.qset = qset, .catalog = f->catalog,
			.new_text = numbered[i].text, .language = "pl",
		};
		struct answers *a = NULL;
		char *got_a, *got_p, *field;

		if (answers_extract(&in, &a, &error) != IMI_OK)
			fail_msg("%s: %s", numbered[i].name, error);
		summarize(a, &got_a, &got_p);
		field = g_strdup_printf("%s: answers", numbered[i].name);
		check_str(field, got_a, numbered[i].answers);
		g_free(field);
		g_free(got_a);
		g_free(got_p);
		answers_free(&a);
	}
	qset_free(&qset);
}

static void test_answers_table(void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct answers_input in = {
			.qset = f->qset,
			.catalog = f->catalog,
			.new_text = cases[i].new_text,
			.full_text = cases[i].full_text,
			.language = cases[i].lang,
		};
		struct answers *a = NULL;
		char *error = NULL, *got_a, *got_p, *field;

		if (answers_extract(&in, &a, &error) != IMI_OK)
			fail_msg("%s: %s", cases[i].name, error);
		summarize(a, &got_a, &got_p);
		field = g_strdup_printf("%s: answers", cases[i].name);
		check_str(field, got_a, cases[i].answers);
		g_free(field);
		field = g_strdup_printf("%s: problems", cases[i].name);
		check_str(field, got_p, cases[i].problems);
		g_free(field);
		g_free(got_a);
		g_free(got_p);
		answers_free(&a);
	}
}

static void test_answers_raw_and_json(void **state)
{
	struct fixture *f = *state;
	struct answers_input in = {
		.qset = f->qset, .catalog = f->catalog, .language = "fr",
		.new_text = "Q1: Oui, tout à fait\nQ2: peut-être\nQ4: 1er mars 2026\n"
			    "Q5: <b>remarque</b> & \"citation\"\n  deuxième ligne\n",
	};
	struct answers *a = NULL;
	char *error = NULL, *json;
	const struct answer *ans;
	JsonNode *node;
	JsonObject *root, *first;
	JsonArray *arr;

	if (answers_extract(&in, &a, &error) != IMI_OK)
		fail_msg("%s", error);
	ans = answers_find(a, "q1");
	check_str("Q1 raw", ans->raw, "Oui, tout à fait");
	check_str("Q1 value", ans->value, "yes");
	check_int("Q1 by code", ans->under_quote, 0);
	check_str("Q5 raw", answers_find(a, "Q5")->raw,
		  "<b>remarque</b> & \"citation\"\n  deuxième ligne");
	node = answers_to_json(a);
	json = json_to_string(node, FALSE);
	root = json_node_get_object(node);
	check_str("json qset", json_object_get_string_member(root, "qset"), "pq-general");
	check_int("json complete", json_object_get_boolean_member(root, "complete"), 0);
	arr = json_object_get_array_member(root, "answers");
	check_int("json answers", json_array_get_length(arr), 4);
	first = json_array_get_object_element(arr, 1);
	check_str("json Q2 code", json_object_get_string_member(first, "code"), "Q2");
	check_int("json Q2 value null", json_object_get_null_member(first, "value"), 1);
	check_str("json Q2 problem",
		  json_object_get_string_member(
			  json_array_get_object_element(
				  json_object_get_array_member(first, "problems"), 0),
			  "kind"),
		  "not-understood");
	arr = json_object_get_array_member(root, "missing");
	check_int("json missing", json_array_get_length(arr), 1);
	check_str("json missing[0]", json_array_get_string_element(arr, 0), "Q3");
	/* The text survives JSON encoding (the serializer escapes it). */
	if (strstr(json, "\\\"citation\\\"") == NULL)
		fail_msg("json: quotes not escaped in %s", json);
	g_free(json);
	json_node_unref(node);
	answers_free(&a);
	check_int("freed", a == NULL, 1);
}

static void test_dates(void **state)
{
	static const struct {
		const char *text, *lang, *want; /* want NULL: no date */
	} dates[] = {
		{"2026-03-01", NULL, "2026-03-01"},
		{"2026/3/1", NULL, "2026-03-01"},
		{"01/03/2026", NULL, "2026-03-01"},
		{"1.3.2026", NULL, "2026-03-01"},
		{"1. 3. 2026", NULL, "2026-03-01"},
		{"01-03-2026", NULL, "2026-03-01"},
		{"01/03/26", NULL, "2026-03-01"},
		{"1 March 2026", NULL, "2026-03-01"},
		{"March 1, 2026", NULL, "2026-03-01"},
		{"Mar. 1st, 2026", NULL, "2026-03-01"},
		{"1er mars 2026", NULL, "2026-03-01"},
		{"le 1 MARS 2026", NULL, "2026-03-01"},
		{"1. März 2026", NULL, "2026-03-01"},
		{"1. Maerz 2026", NULL, NULL},
		{"1. Jänner 2026", NULL, "2026-01-01"},
		{"2026. március 1.", NULL, "2026-03-01"},
		{"2026 m. kovo 1 d.", NULL, "2026-03-01"},
		{"2026. gada 1. martā", NULL, "2026-03-01"},
		{"1 Μαρτίου 2026", NULL, "2026-03-01"},
		{"1 de marzo de 2026", NULL, "2026-03-01"},
		{"1 marca 2026", NULL, "2026-03-01"},
		{"1. maaliskuuta 2026", NULL, "2026-03-01"},
		{"1 Meán Fómhair 2026", NULL, "2026-09-01"},
		{"1 септември 2026", NULL, "2026-09-01"},
		{"l-1 ta' Marzu 2026", NULL, "2026-03-01"},
		{"1 listopad 2026", NULL, NULL},
		{"1 listopad 2026", "hr", "2026-10-01"},
		{"1 listopad 2026", "pl", "2026-11-01"},
		{"I may answer on 5 June 2026", NULL, "2026-06-05"},
		{"issued 30.06.2019, renewed 2024-01-01", NULL, "2019-06-30"},
		{"31.02.2026", NULL, NULL},
		{"version 1.2.3", NULL, NULL},
		{"soon", NULL, NULL},
		{"5 May", NULL, NULL},
	};

	for (unsigned i = 0; i < G_N_ELEMENTS(dates); i++) {
		char iso[DATE_ISO_SIZE] = "";
		enum date_result r = date_find(dates[i].text, dates[i].lang, iso, NULL);

		check_str(dates[i].text, r == DATE_FOUND ? iso : NULL, dates[i].want);
	}
	check_int("month sept.", date_month_name("Sept.", NULL), 9);

	/* Every language's written date reads back, with and without the
	 * language as a hint. */
	for (int l = 0; l < LANG_COUNT; l++) {
		static const char *const isos[] = {"2026-12-31", "2026-03-01", "2027-11-05",
						   "2026-10-10", "2026-07-02"};
		for (unsigned k = 0; k < G_N_ELEMENTS(isos); k++) {
			char *written = lang_format_date(isos[k], lang_codes[l]);
			char iso[DATE_ISO_SIZE] = "", *field;
			const char *hints[] = {lang_codes[l], NULL};

			for (unsigned h = 0; h < 2; h++) {
				field = g_strdup_printf("%s \"%s\" (hint %s)", lang_codes[l],
							written, hints[h] ? hints[h] : "none");
				/* Croatian October and Polish/Czech November share
				 * "listopad": only the hint decides. */
				if (hints[h] == NULL && strstr(written, "listopad") != NULL) {
					g_free(field);
					continue;
				}
				check_str(field,
					  date_find(written, hints[h], iso, NULL) == DATE_FOUND
						  ? iso : NULL,
					  isos[k]);
				g_free(field);
			}
			g_free(written);
		}
	}
	check_int("month jui (juin/juillet)", date_month_name("jui", NULL), 0);
}

/* The plain part of a rendered request. */
static char *render_plain(struct fixture *f, const char *lang)
{
	static const char *const acts[] = {"accept", NULL};
	struct render_request in = {
		.env = {
			.from_address = "imi@imi.example.eu",
			.to_address = "registry@example.org",
			.reply_to = "imi+tok@imi.example.eu",
			.message_id = "rt.1@imi.example.eu",
			.service_domain = "imi.example.eu",
			.date = 1795000000,
		},
		.qset = f->qset, .catalog = f->catalog, .language = lang,
		.case_id = "IMI-2026-000123", .authority = "Registry", .country = "LU",
		.actions = acts,
	};
	char *msgtext = NULL, *error = NULL, *plain = NULL;
	size_t len;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GMimeMultipart *mp;

	if (render_request(&in, &msgtext, &len, &error) != IMI_OK)
		fail_msg("render: %s", error);
	stream = g_mime_stream_mem_new_with_buffer(msgtext, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	mp = GMIME_MULTIPART(g_mime_message_get_mime_part(msg));
	plain = g_mime_text_part_get_text(GMIME_TEXT_PART(g_mime_multipart_get_part(mp, 0)));
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	g_free(msgtext);
	return plain;
}

/* Quotes the request with "> " the way clients do, and writes the answers
 * for each question under its empty answer line. */
static char *reply_interleaved(const char *plain, const char *const *answers,
			       const char *const *codes)
{
	GString *reply = g_string_new("Bonjour,\n\nVoici nos réponses.\n\n"
				      "Le mer. 25 nov. 2026 à 10:00, IMI a écrit :\n");
	char **lines = g_strsplit(plain, "\n", -1);

	for (unsigned i = 0; lines[i] != NULL; i++) {
		g_string_append_printf(reply, ">%s%s\n", *lines[i] ? " " : "", lines[i]);
		for (unsigned c = 0; codes[c] != NULL; c++) {
			char *answer_line = g_strdup_printf("%s: ", codes[c]);
			if (strcmp(lines[i], answer_line) == 0)
				g_string_append_printf(reply, "%s\n", answers[c]);
			g_free(answer_line);
		}
	}
	g_string_append(reply, "\n-- \nMarie Dupont\nOrdre national\n");
	g_strfreev(lines);
	return g_string_free(reply, FALSE);
}

static void test_answers_round_trip(void **state)
{
	struct fixture *f = *state;
	static const char *const codes[] = {"Q1", "Q2", "Q3", "Q4", "Q5", NULL};
	static const struct {
		const char *lang;
		const char *answers[5];
		const char *want;
	} trips[] = {
		{"fr", {"Oui", "Non, radié en 2020", "Retirée", "30/06/2019",
			"Rien à signaler.\nLe dossier est clos."},
		 "Q1=yes Q2=no Q3=revoked Q4=2019-06-30 Q5=Rien à signaler.\nLe dossier est clos."},
		{"de", {"Ja.", "nein", "Ausgesetzt", "30. Juni 2019", "Keine"},
		 "Q1=yes Q2=no Q3=suspended Q4=2019-06-30 Q5=Keine"},
		{"en", {"yes", "Yes, since 2015", "Valid", "June 30, 2019", "None."},
		 "Q1=yes Q2=yes Q3=valid Q4=2019-06-30 Q5=None."},
	};

	for (unsigned t = 0; t < G_N_ELEMENTS(trips); t++) {
		char *plain = render_plain(f, trips[t].lang);
		char *full = reply_interleaved(plain, trips[t].answers, codes);
		struct answers_input in = {
			.qset = f->qset, .catalog = f->catalog,
			.language = trips[t].lang,
			.new_text = "Bonjour,\n\nVoici nos réponses.",
			.full_text = full,
		};
		struct answers *a = NULL;
		char *error = NULL, *got_a, *got_p, *field;

		if (answers_extract(&in, &a, &error) != IMI_OK)
			fail_msg("%s", error);
		summarize(a, &got_a, &got_p);
		field = g_strdup_printf("round trip %s: answers", trips[t].lang);
		check_str(field, got_a, trips[t].want);
		g_free(field);
		field = g_strdup_printf("round trip %s: problems", trips[t].lang);
		check_str(field, got_p, "");
		g_free(field);
		for (unsigned i = 0; i < answers_count(a); i++)
			check_int("under quote", answers_get(a, i)->under_quote, 1);
		g_free(got_a);
		g_free(got_p);
		answers_free(&a);

		/* The same request answered by top-posting: the quoted
		 * request below, with its empty "Qn:" lines, adds nothing. */
		{
			GString *top = g_string_new(NULL);
			char **lines = g_strsplit(plain, "\n", -1), *new_text;

			for (unsigned c = 0; codes[c] != NULL; c++)
				g_string_append_printf(top, "%s: %s\n", codes[c],
						       trips[t].answers[c]);
			new_text = g_strdup(top->str);
			in.new_text = new_text;
			g_string_append(top, "\n-----Original Message-----\n");
			for (unsigned i = 0; lines[i] != NULL; i++)
				g_string_append_printf(top, "> %s\n", lines[i]);
			in.full_text = top->str;
			if (answers_extract(&in, &a, &error) != IMI_OK)
				fail_msg("%s", error);
			summarize(a, &got_a, &got_p);
			/* Top-posted, Q5's second line stays with Q5. */
			field = g_strdup_printf("top-posted %s: answers", trips[t].lang);
			check_str(field, got_a, trips[t].want);
			g_free(field);
			g_free(got_a);
			g_free(got_p);
			answers_free(&a);
			g_strfreev(lines);
			g_string_free(top, TRUE);
			g_free(new_text);
		}
		/* Outlook answered inline: the history has no quote marks,
		 * answers are typed after each "Qn: ".  The trimmer cut the
		 * history at the header block, so they are only in the full
		 * text.  Without typed answers, the same history gives none:
		 * its choice lists and footer are no answers. */
		for (int typed = 1; typed >= 0; typed--) {
			GString *ol = g_string_new("Please find our answers inline.\n\n"
						   "From: IMI <imi@imi.example.eu>\n"
						   "Sent: Wednesday, 25 November 2026 10:00\n"
						   "To: registry@example.org\n"
						   "Subject: [IMI-2026-000123]\n\n");
			char **lines = g_strsplit(plain, "\n", -1);

			for (unsigned i = 0; lines[i] != NULL; i++) {
				unsigned c;
				for (c = 0; typed && codes[c] != NULL; c++) {
					char *al = g_strdup_printf("%s: ", codes[c]);
					int hit = strcmp(lines[i], al) == 0;
					g_free(al);
					if (hit)
						break;
				}
				if (typed && codes[c] != NULL)
					g_string_append_printf(ol, "%s: %s\n", codes[c],
							       trips[t].answers[c]);
				else
					g_string_append_printf(ol, "%s\n", lines[i]);
			}
			in.new_text = "Please find our answers inline.";
			in.full_text = ol->str;
			if (answers_extract(&in, &a, &error) != IMI_OK)
				fail_msg("%s", error);
			summarize(a, &got_a, &got_p);
			field = g_strdup_printf("outlook inline %s (typed %d): answers",
						trips[t].lang, typed);
			check_str(field, got_a, typed ? trips[t].want : "");
			g_free(field);
			field = g_strdup_printf("outlook inline %s (typed %d): problems",
						trips[t].lang, typed);
			check_str(field, got_p, typed ? ""
					      : "missing:Q1 missing:Q2 missing:Q3 missing:Q4");
			g_free(field);
			g_free(got_a);
			g_free(got_p);
			answers_free(&a);
			g_strfreev(lines);
			g_string_free(ol, TRUE);
		}
		g_free(full);
		g_free(plain);
	}
}

static void test_answers_bounds(void **state)
{
	struct fixture *f = *state;
	GString *big = g_string_new(NULL);
	struct answers_input in = {.qset = f->qset, .catalog = f->catalog};
	struct answers *a = NULL;
	char *error = NULL;

	while (big->len <= ANSWERS_MAX_TEXT_BYTES)
		g_string_append(big, "Q1: yes yes yes yes yes yes yes yes\n");
	in.new_text = big->str;
	check_int("too big", answers_extract(&in, &a, &error), IMI_TOOBIG);
	check_int("no result", a == NULL, 1);
	g_free(error);
	g_string_free(big, TRUE);
	/* Invalid UTF-8 is read, not refused. */
	in.new_text = "Q1: \xff\xfeyes\nQ2: no\n";
	error = NULL;
	check_int("invalid UTF-8", answers_extract(&in, &a, &error), IMI_OK);
	check_str("Q2", answers_find(a, "Q2")->value, "no");
	answers_free(&a);
}

/* Random replies built from the pieces the scanner reacts to: it must
 * return, stay within the set, and keep every raw answer valid UTF-8.
 * Under ASan/UBSan and valgrind this is a small fuzz run. */
static void test_answers_random(void **state)
{
	struct fixture *f = *state;
	static const char *const pieces[] = {
		"Q1", "Q2:", "Q3 ", "q4)", "5.", "3) ", "> ", ">>", "\n", "\n\n",
		"yes", "oui", "nein", "ναι", "Valide", "valid", "1. März 2026",
		"2026-03-01", "31/12/99", "----------", "Q1. Is the attached diploma authentic?",
		"(yes / no)", "    - Valid", "\xff", "\xc3", "é", ":", " - ", "Q999:",
		"listopad", "mar", "1", "2026", "\t", "Q5: text\nmore",
	};
	GRand *rand = g_rand_new_with_seed(20261125);

	for (unsigned iter = 0; iter < 3000; iter++) {
		GString *text = g_string_new(NULL);
		unsigned n = (unsigned)g_rand_int_range(rand, 0, 60);
		struct answers_input in = {.qset = f->qset, .catalog = f->catalog};
		struct answers *a = NULL;
		char *error = NULL, iso[DATE_ISO_SIZE];

		for (unsigned i = 0; i < n; i++)
			g_string_append(text, pieces[g_rand_int_range(rand, 0,
								    G_N_ELEMENTS(pieces))]);
		in.new_text = text->str;
		in.full_text = iter % 2 ? text->str : NULL;
		in.language = iter % 3 ? "fr" : NULL;
		if (answers_extract(&in, &a, &error) != IMI_OK)
			fail_msg("iteration %u: %s", iter, error);
		if (answers_count(a) > qset_count(f->qset))
			fail_msg("iteration %u: %u answers for %u questions", iter,
				 answers_count(a), qset_count(f->qset));
		for (unsigned i = 0; i < answers_count(a); i++)
			if (!g_utf8_validate(answers_get(a, i)->raw, -1, NULL))
				fail_msg("iteration %u: raw answer not UTF-8", iter);
		(void)date_find(text->str, in.language, iso, NULL);
		answers_free(&a);
		g_string_free(text, TRUE);
	}
	g_rand_free(rand);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_table),
		cmocka_unit_test(test_answers_raw_and_json),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_answers_round_trip),
		cmocka_unit_test(test_answers_bounds),
		cmocka_unit_test(test_answers_numbered_text),
		cmocka_unit_test(test_answers_random),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

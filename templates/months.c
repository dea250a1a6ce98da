/*
 * months.c: month names of the 24 languages, for reading dates in replies
 * (parser/dates.c) and for writing them in messages (lang_format_date).
 *
 * A fixed table: this machine has no locale data to take them from, and
 * they do not change.  Rows give the name (nominative), the form a written
 * date uses where it differs (genitive in Czech, Greek, Croatian,
 * Lithuanian, Polish, Slovak, Slovenian; partitive in Finnish) and common
 * variants (Austrian "Jänner", Latvian locative, Spanish "setiembre").
 */
#include "templates/lang.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

static const struct lang_month_row rows[] = {
	{"bg", LANG_MONTH_NAME,
	 {"януари", "февруари", "март", "април", "май", "юни", "юли",
		"август", "септември", "октомври", "ноември", "декември"}},
	{"cs", LANG_MONTH_NAME,
	 {"leden", "únor", "březen", "duben", "květen", "červen",
		"červenec", "srpen", "září", "říjen", "listopad", "prosinec"}},
	{"cs", LANG_MONTH_IN_DATE,
	 {"ledna", "února", "března", "dubna", "května", "června",
		"července", "srpna", "září", "října", "listopadu", "prosince"}},
	{"da", LANG_MONTH_NAME,
	 {"januar", "februar", "marts", "april", "maj", "juni", "juli",
		"august", "september", "oktober", "november", "december"}},
	{"de", LANG_MONTH_NAME,
	 {"januar", "februar", "märz", "april", "mai", "juni", "juli",
		"august", "september", "oktober", "november", "dezember"}},
	{"de", LANG_MONTH_VARIANT,
	 {"jänner", "feber", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL}},
	{"el", LANG_MONTH_NAME,
	 {"ιανουάριος", "φεβρουάριος", "μάρτιος", "απρίλιος", "μάιος",
		"ιούνιος", "ιούλιος", "αύγουστος", "σεπτέμβριος", "οκτώβριος",
		"νοέμβριος", "δεκέμβριος"}},
	{"el", LANG_MONTH_IN_DATE,
	 {"ιανουαρίου", "φεβρουαρίου", "μαρτίου", "απριλίου", "μαΐου",
		"ιουνίου", "ιουλίου", "αυγούστου", "σεπτεμβρίου", "οκτωβρίου",
		"νοεμβρίου", "δεκεμβρίου"}},
	{"en", LANG_MONTH_NAME,
	 {"january", "february", "march", "april", "may", "june", "july",
		"august", "september", "october", "november", "december"}},
	{"es", LANG_MONTH_NAME,
	 {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
		"agosto", "septiembre", "octubre", "noviembre", "diciembre"}},
	{"es", LANG_MONTH_VARIANT,
	 {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "setiembre",
		NULL, NULL, NULL}},
	{"et", LANG_MONTH_NAME,
	 {"jaanuar", "veebruar", "märts", "aprill", "mai", "juuni",
		"juuli", "august", "september", "oktoober", "november",
		"detsember"}},
	{"fi", LANG_MONTH_NAME,
	 {"tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu",
		"kesäkuu", "heinäkuu", "elokuu", "syyskuu", "lokakuu",
		"marraskuu", "joulukuu"}},
	{"fi", LANG_MONTH_IN_DATE,
	 {"tammikuuta", "helmikuuta", "maaliskuuta", "huhtikuuta",
		"toukokuuta", "kesäkuuta", "heinäkuuta", "elokuuta", "syyskuuta",
		"lokakuuta", "marraskuuta", "joulukuuta"}},
	{"fr", LANG_MONTH_NAME,
	 {"janvier", "février", "mars", "avril", "mai", "juin",
		"juillet", "août", "septembre", "octobre", "novembre",
		"décembre"}},
	{"ga", LANG_MONTH_NAME,
	 {"eanáir", "feabhra", "márta", "aibreán", "bealtaine",
		"meitheamh", "iúil", "lúnasa", "meán fómhair", "deireadh fómhair",
		"samhain", "nollaig"}},
	{"hr", LANG_MONTH_NAME,
	 {"siječanj", "veljača", "ožujak", "travanj", "svibanj",
		"lipanj", "srpanj", "kolovoz", "rujan", "listopad", "studeni",
		"prosinac"}},
	{"hr", LANG_MONTH_IN_DATE,
	 {"siječnja", "veljače", "ožujka", "travnja", "svibnja",
		"lipnja", "srpnja", "kolovoza", "rujna", "listopada", "studenoga",
		"prosinca"}},
	{"hu", LANG_MONTH_NAME,
	 {"január", "február", "március", "április", "május", "június",
		"július", "augusztus", "szeptember", "október", "november",
		"december"}},
	{"it", LANG_MONTH_NAME,
	 {"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
		"luglio", "agosto", "settembre", "ottobre", "novembre",
		"dicembre"}},
	{"lt", LANG_MONTH_NAME,
	 {"sausis", "vasaris", "kovas", "balandis", "gegužė", "birželis",
		"liepa", "rugpjūtis", "rugsėjis", "spalis", "lapkritis",
		"gruodis"}},
	{"lt", LANG_MONTH_IN_DATE,
	 {"sausio", "vasario", "kovo", "balandžio", "gegužės",
		"birželio", "liepos", "rugpjūčio", "rugsėjo", "spalio",
		"lapkričio", "gruodžio"}},
	{"lv", LANG_MONTH_NAME,
	 {"janvāris", "februāris", "marts", "aprīlis", "maijs", "jūnijs",
		"jūlijs", "augusts", "septembris", "oktobris", "novembris",
		"decembris"}},
	{"lv", LANG_MONTH_VARIANT,
	 {"janvārī", "februārī", "martā", "aprīlī", "maijā", "jūnijā",
		"jūlijā", "augustā", "septembrī", "oktobrī", "novembrī",
		"decembrī"}},
	{"mt", LANG_MONTH_NAME,
	 {"jannar", "frar", "marzu", "april", "mejju", "ġunju", "lulju",
		"awwissu", "settembru", "ottubru", "novembru", "diċembru"}},
	{"nl", LANG_MONTH_NAME,
	 {"januari", "februari", "maart", "april", "mei", "juni", "juli",
		"augustus", "september", "oktober", "november", "december"}},
	{"pl", LANG_MONTH_NAME,
	 {"styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec",
		"lipiec", "sierpień", "wrzesień", "październik", "listopad",
		"grudzień"}},
	{"pl", LANG_MONTH_IN_DATE,
	 {"stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
		"lipca", "sierpnia", "września", "października", "listopada",
		"grudnia"}},
	{"pt", LANG_MONTH_NAME,
	 {"janeiro", "fevereiro", "março", "abril", "maio", "junho",
		"julho", "agosto", "setembro", "outubro", "novembro",
		"dezembro"}},
	{"ro", LANG_MONTH_NAME,
	 {"ianuarie", "februarie", "martie", "aprilie", "mai", "iunie",
		"iulie", "august", "septembrie", "octombrie", "noiembrie",
		"decembrie"}},
	{"sk", LANG_MONTH_NAME,
	 {"január", "február", "marec", "apríl", "máj", "jún", "júl",
		"august", "september", "október", "november", "december"}},
	{"sk", LANG_MONTH_IN_DATE,
	 {"januára", "februára", "marca", "apríla", "mája", "júna",
		"júla", "augusta", "septembra", "októbra", "novembra",
		"decembra"}},
	{"sl", LANG_MONTH_NAME,
	 {"januar", "februar", "marec", "april", "maj", "junij", "julij",
		"avgust", "september", "oktober", "november", "december"}},
	{"sl", LANG_MONTH_IN_DATE,
	 {"januarja", "februarja", "marca", "aprila", "maja", "junija",
		"julija", "avgusta", "septembra", "oktobra", "novembra",
		"decembra"}},
	{"sv", LANG_MONTH_NAME,
	 {"januari", "februari", "mars", "april", "maj", "juni", "juli",
		"augusti", "september", "oktober", "november", "december"}},
};

const struct lang_month_row *lang_month_rows(unsigned *count_r)
{
	*count_r = G_N_ELEMENTS(rows);
	return rows;
}

/* How each language writes a date: %d day, %m month, %y year. */
static const struct {
	const char *lang;
	const char *pattern;
	int capital; /* month names take a capital letter */
} date_patterns[] = {
	{"bg", "%d %m %y г.", 0},     {"cs", "%d. %m %y", 0},
	{"da", "%d. %m %y", 0},       {"de", "%d. %m %y", 1},
	{"el", "%d %m %y", 1},        {"en", "%d %m %y", 1},
	{"es", "%d de %m de %y", 0},  {"et", "%d. %m %y", 0},
	{"fi", "%d. %m %y", 0},       {"fr", "%d %m %y", 0},
	{"ga", "%d %m %y", 1},        {"hr", "%d. %m %y.", 0},
	{"hu", "%y. %m %d.", 0},      {"it", "%d %m %y", 0},
	{"lt", "%y m. %m %d d.", 0},  {"lv", "%y. gada %d. %m", 0},
	{"mt", "%d ta' %m %y", 1},    {"nl", "%d %m %y", 0},
	{"pl", "%d %m %y", 0},        {"pt", "%d de %m de %y", 0},
	{"ro", "%d %m %y", 0},        {"sk", "%d. %m %y", 0},
	{"sl", "%d. %m %y", 0},       {"sv", "%d %m %y", 0},
};

static const char *month_in_date(const char *lang, int month)
{
	const char *name = NULL;

	for (unsigned r = 0; r < G_N_ELEMENTS(rows); r++) {
		if (strcmp(rows[r].lang, lang) != 0 || rows[r].names[month - 1] == NULL)
			continue;
		if (rows[r].form == LANG_MONTH_IN_DATE)
			return rows[r].names[month - 1];
		if (rows[r].form == LANG_MONTH_NAME && name == NULL)
			name = rows[r].names[month - 1];
	}
	return name;
}

/* Capital initial of each word ("meán fómhair" -> "Meán Fómhair"). */
static void append_capitalized(GString *out, const char *name)
{
	int start = 1;

	for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		g_string_append_unichar(out, start ? g_unichar_totitle(c) : c);
		start = c == ' ';
	}
}

char *lang_format_date(const char *iso, const char *lang)
{
	unsigned y, m, d;
	char tail;
	const char *pattern = NULL, *month;
	int capital = 0;
	GString *out;

	if (iso == NULL || strlen(iso) != 10 ||
	    sscanf(iso, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
	    !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
		return NULL;
	if (lang_index(lang) < 0)
		lang = "en";
	for (unsigned i = 0; i < G_N_ELEMENTS(date_patterns); i++)
		if (strcmp(date_patterns[i].lang, lang) == 0) {
			pattern = date_patterns[i].pattern;
			capital = date_patterns[i].capital;
		}
	month = month_in_date(lang, (int)m);
	if (pattern == NULL || month == NULL)
		return g_strdup(iso);
	out = g_string_new(NULL);
	for (const char *p = pattern; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			g_string_append_c(out, *p);
			continue;
		}
		switch (*++p) {
		case 'd':
			g_string_append_printf(out, "%u", d);
			if (d == 1 && strcmp(lang, "fr") == 0)
				g_string_append(out, "er");
			break;
		case 'm':
			if (capital)
				append_capitalized(out, month);
			else
				g_string_append(out, month);
			break;
		case 'y':
			g_string_append_printf(out, "%u", y);
			break;
		default:
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

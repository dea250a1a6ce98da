/*
 * dates.c: dates in replies, numeric or with month names in 24 languages.
 */
#include "parser/dates.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "templates/lang.h"

#define DATE_MAX_TOKENS 4096   /* bound on the words of one text */
#define DATE_DAY_REACH 1       /* day next to the month (noise words aside) */
#define DATE_YEAR_REACH 2      /* year at most one word further */
#define DATE_NOISE_LEN 4       /* words this short between parts are noise */
#define DATE_MIN_ABBREV 3      /* shortest month abbreviation */

struct month_entry {
	char *folded;      /* folded name */
	const char *lang;
	int month;         /* 1..12 */
};

static GPtrArray *month_table; /* of struct month_entry, built once */

static gpointer date_table_build(gpointer unused)
{
	GPtrArray *t = g_ptr_array_new();

	unsigned n_rows;
	const struct lang_month_row *month_rows = lang_month_rows(&n_rows);

	for (unsigned r = 0; r < n_rows; r++)
		for (int m = 0; m < 12; m++) {
			struct month_entry *e;

			if (month_rows[r].names[m] == NULL)
				continue;
			e = g_new0(struct month_entry, 1);
			e->folded = lang_fold(month_rows[r].names[m]);
			e->lang = month_rows[r].lang;
			e->month = m + 1;
			g_ptr_array_add(t, e);
		}
	month_table = t;
	return t;
}

static void date_table_init(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, date_table_build, NULL);
}

/* word is folded.  Exact names first, then abbreviations; a clash between
 * languages is settled by lang, and for an abbreviation also by a clear
 * majority of languages ("mar" is March in a dozen languages and November
 * only in Finnish "marraskuu"); otherwise the word is no month. */
static int date_month_folded(const char *word, const char *lang)
{
	size_t n = strlen(word);

	date_table_init();
	for (int pass = 0; pass < 2; pass++) {
		int month = 0, clash = 0, hinted = 0, hint_clash = 0;
		unsigned votes[13] = {0};
		const char *last_lang[13] = {0};

		if (pass == 1 && g_utf8_strlen(word, -1) < DATE_MIN_ABBREV)
			break;
		for (unsigned i = 0; i < month_table->len; i++) {
			const struct month_entry *e = month_table->pdata[i];
			int hit = pass == 0 ? strcmp(e->folded, word) == 0
					    : strncmp(e->folded, word, n) == 0;

			if (!hit)
				continue;
			if (lang != NULL && strcmp(e->lang, lang) == 0) {
				if (hinted && hinted != e->month)
					hint_clash = 1;
				hinted = e->month;
			}
			if (month != 0 && month != e->month)
				clash = 1;
			month = e->month;
			if (last_lang[e->month] == NULL ||
			    strcmp(last_lang[e->month], e->lang) != 0) {
				votes[e->month]++;
				last_lang[e->month] = e->lang;
			}
		}
		if (month == 0)
			continue;
		if (!clash)
			return month;
		if (hinted != 0 && !hint_clash)
			return hinted;
		if (pass == 1) {
			unsigned best = 0, second = 0;
			int best_month = 0;

			for (int m = 1; m <= 12; m++) {
				if (votes[m] > best) {
					second = best;
					best = votes[m];
					best_month = m;
				} else if (votes[m] > second) {
					second = votes[m];
				}
			}
			if (best >= 2 * second + 1)
				return best_month;
		}
		return 0;
	}
	return 0;
}

int date_month_name(const char *word, const char *lang)
{
	char *folded = lang_fold(word);
	int m;

	g_strstrip(folded);
	if (g_str_has_suffix(folded, "."))
		folded[strlen(folded) - 1] = '\0';
	m = date_month_folded(folded, lang);
	g_free(folded);
	return m;
}

static int date_valid(int y, int m, int d, char iso_r[DATE_ISO_SIZE])
{
	if (y < 100)
		y += 2000;
	if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > 31 ||
	    !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
		return 0;
	g_snprintf(iso_r, DATE_ISO_SIZE, "%04d-%02d-%02d", y, m, d);
	return 1;
}

/* Numeric forms: the earliest match, or none. */
static int date_find_numeric(const char *text, char iso_r[DATE_ISO_SIZE],
			     size_t *start_r)
{
	static const struct {
		const char *pattern;
		int y, m, d; /* group numbers */
	} forms[] = {
		{"(?<![\\d.])(\\d{4})\\s?([-/.])\\s?(\\d{1,2})\\s?\\2\\s?(\\d{1,2})(?![\\d])", 1, 3, 4},
		{"(?<![\\d.])(\\d{1,2})\\s?([-/.])\\s?(\\d{1,2})\\s?\\2\\s?(\\d{4}|\\d{2})(?![\\d])", 4, 3, 1},
	};
	int found = 0;

	for (unsigned f = 0; f < G_N_ELEMENTS(forms); f++) {
		GRegex *re = g_regex_new(forms[f].pattern, 0, 0, NULL);
		GMatchInfo *mi = NULL;

		g_regex_match(re, text, 0, &mi);
		while (g_match_info_matches(mi)) {
			char *y = g_match_info_fetch(mi, forms[f].y);
			char *m = g_match_info_fetch(mi, forms[f].m);
			char *d = g_match_info_fetch(mi, forms[f].d);
			char iso[DATE_ISO_SIZE];
			int start, end;

			g_match_info_fetch_pos(mi, 0, &start, &end);
			if (date_valid(atoi(y), atoi(m), atoi(d), iso) &&
			    (!found || (size_t)start < *start_r)) {
				memcpy(iso_r, iso, DATE_ISO_SIZE);
				*start_r = (size_t)start;
				found = 1;
			}
			g_free(y);
			g_free(m);
			g_free(d);
			if (found)
				break;
			g_match_info_next(mi, NULL);
		}
		g_match_info_free(mi);
		g_regex_unref(re);
	}
	return found;
}

struct date_token {
	size_t start;   /* byte offset in the text */
	int number;     /* -1 for words */
	int digits;     /* number of digits */
	char *folded;   /* words only */
};

static GArray *date_tokenize(const char *text)
{
	GArray *tokens = g_array_new(FALSE, TRUE, sizeof(struct date_token));
	const char *p = text;

	while (*p != '\0' && tokens->len < DATE_MAX_TOKENS) {
		gunichar c = g_utf8_get_char(p);
		const char *start = p;
		struct date_token t = {.start = (size_t)(p - text), .number = -1};

		if (c < 128 && g_ascii_isdigit((int)c)) {
			while (g_ascii_isdigit(*p) && p - start < 9)
				p++;
			t.digits = (int)(p - start);
			t.number = atoi(start);
			while (g_ascii_isdigit(*p))
				p++;
			g_array_append_val(tokens, t);
		} else if (g_unichar_isalpha(c)) {
			char *raw;
			while (*p != '\0' && (g_unichar_isalpha(g_utf8_get_char(p)) ||
					      g_unichar_ismark(g_utf8_get_char(p))))
				p = g_utf8_next_char(p);
			raw = g_strndup(start, (size_t)(p - start));
			t.folded = lang_fold(raw);
			g_free(raw);
			g_array_append_val(tokens, t);
		} else {
			p = g_utf8_next_char(p);
		}
	}
	return tokens;
}

static int date_noise(const struct date_token *t)
{
	return t->number < 0 && g_utf8_strlen(t->folded, -1) <= DATE_NOISE_LEN;
}

/* The number token nearest to month token i within reach, counting only
 * non-noise tokens; digits selects days (1..2) or years (4). */
static int date_near(GArray *tokens, unsigned i, unsigned span, int want_year,
		     int reach, int *value_r, size_t *start_r)
{
	for (int dist = 1; dist <= reach; dist++)
		for (int dir = -1; dir <= 1; dir += 2) {
			int j = dir < 0 ? (int)i : (int)(i + span - 1);
			int steps = 0;

			while (1) {
				const struct date_token *t;

				j += dir;
				if (j < 0 || j >= (int)tokens->len)
					break;
				t = &g_array_index(tokens, struct date_token, (unsigned)j);
				if (date_noise(t))
					continue;
				if (++steps < dist)
					continue;
				if (t->number >= 0 &&
				    (want_year ? t->digits == 4
					       : t->digits <= 2 && t->number >= 1 &&
							 t->number <= 31)) {
					*value_r = t->number;
					*start_r = t->start;
					return 1;
				}
				break;
			}
		}
	return 0;
}

static int date_find_words(const char *text, const char *lang,
			   char iso_r[DATE_ISO_SIZE], size_t *start_r)
{
	GArray *tokens = date_tokenize(text);
	int found = 0;

	for (unsigned i = 0; i < tokens->len && !found; i++) {
		struct date_token *t = &g_array_index(tokens, struct date_token, i);
		unsigned span = 1;
		int month = 0, day, year;
		size_t day_start, year_start, start;

		if (t->number >= 0)
			continue;
		/* Irish has two-word months ("Meán Fómhair"). */
		if (i + 1 < tokens->len) {
			struct date_token *n = &g_array_index(tokens, struct date_token, i + 1);
			if (n->number < 0) {
				char *two = g_strdup_printf("%s %s", t->folded, n->folded);
				month = date_month_folded(two, lang);
				g_free(two);
				if (month != 0)
					span = 2;
			}
		}
		if (month == 0 && g_utf8_strlen(t->folded, -1) >= DATE_MIN_ABBREV)
			month = date_month_folded(t->folded, lang);
		if (month == 0)
			continue;
		if (!date_near(tokens, i, span, 0, DATE_DAY_REACH, &day, &day_start) ||
		    !date_near(tokens, i, span, 1, DATE_YEAR_REACH, &year, &year_start))
			continue;
		if (!date_valid(year, month, day, iso_r))
			continue;
		start = MIN(MIN(day_start, year_start), t->start);
		*start_r = start;
		found = 1;
	}
	for (unsigned i = 0; i < tokens->len; i++)
		g_free(g_array_index(tokens, struct date_token, i).folded);
	g_array_free(tokens, TRUE);
	return found;
}

enum date_result date_find(const char *text, const char *lang,
			   char iso_r[DATE_ISO_SIZE], size_t *start_r)
{
	char iso_n[DATE_ISO_SIZE], iso_w[DATE_ISO_SIZE];
	size_t start_n = 0, start_w = 0;
	int n, w;

	if (text == NULL)
		return DATE_NONE;
	/* The tokenizer steps by UTF-8 characters: invalid bytes first become
	 * U+FFFD (offsets then refer to the repaired text). */
	if (!g_utf8_validate(text, -1, NULL)) {
		char *valid = g_utf8_make_valid(text, -1);
		enum date_result r = date_find(valid, lang, iso_r, start_r);
		g_free(valid);
		return r;
	}
	n = date_find_numeric(text, iso_n, &start_n);
	w = date_find_words(text, lang, iso_w, &start_w);
	if (!n && !w)
		return DATE_NONE;
	if (n && (!w || start_n <= start_w)) {
		memcpy(iso_r, iso_n, DATE_ISO_SIZE);
		if (start_r != NULL)
			*start_r = start_n;
	} else {
		memcpy(iso_r, iso_w, DATE_ISO_SIZE);
		if (start_r != NULL)
			*start_r = start_w;
	}
	return DATE_FOUND;
}

/*
 * dates: calendar dates as people write them in replies, in any of the 24
 * EU languages, normalized to ISO 8601 (YYYY-MM-DD).
 *
 * What it does: finds the first date in a text.  Numeric forms: 2026-03-01,
 * 2026/03/01, 01/03/2026, 1.3.2026, 1. 3. 2026, 01-03-2026, 01/03/26 (day
 * first always: the European order; a two-digit year is 20YY).  Forms with
 * a month name in any of the 24 languages, nominative or genitive, with or
 * without accents, and unambiguous abbreviations of at least three letters:
 * "1 March 2026", "March 1, 2026", "1er mars 2026", "1. März 2026",
 * "2026. március 1.", "2026 m. kovo 1 d.", "1 Μαρτίου 2026".
 *
 * How it fails: no date, an impossible date (31.02.2026), a year outside
 * 1900..2199, or a month name that means different months in different
 * languages (Croatian "listopad" is October, Polish and Czech November)
 * without a language hint that decides: DATE_NONE.
 *
 * Month names are a fixed table in dates.c: this machine has no locale data
 * to take them from, and they do not change.
 */
#ifndef IMI_DATES_H
#define IMI_DATES_H

#include <stddef.h>

#define DATE_ISO_SIZE 11 /* "YYYY-MM-DD" + NUL */

enum date_result {
	DATE_NONE = 0,
	DATE_FOUND = 1,
};

/* Finds the first date in text.  lang (may be NULL) decides between
 * languages whose month names clash.  On DATE_FOUND fills iso_r and, if
 * start_r is not NULL, the byte offset where the date begins. */
enum date_result date_find(const char *text, const char *lang,
			   char iso_r[DATE_ISO_SIZE], size_t *start_r);

/* Month (1..12) of a month name or abbreviation, 0 if none or ambiguous. */
int date_month_name(const char *word, const char *lang);

#endif

/*
 * lang: the 24 official EU languages and the text folding that lets replies
 * be compared without regard to case or accents.
 *
 * What it does: names the languages (ISO 639-1 codes, the only language
 * identifiers imi uses) and folds text for comparison: Unicode
 * decomposition, combining marks dropped, lower case, and the few letters
 * that do not decompose mapped by hand (ß→ss, ø→o, æ→ae, ł→l, đ→d, ħ→h,
 * ı→i, final ς→σ).  "Décembre", "DECEMBRE" and "decembre" fold alike.
 *
 * How it fails: it does not; invalid UTF-8 is folded after replacement of
 * the bad bytes.
 */
#ifndef IMI_LANG_H
#define IMI_LANG_H

#define LANG_COUNT 24
extern const char *const lang_codes[LANG_COUNT];

/* Index into lang_codes, or -1 for anything else (including NULL). */
int lang_index(const char *lang);

/* Folded copy of text (g_free). */
char *lang_fold(const char *text);

/* Month names (months.c): one row per language and form, in lower case
 * as written inside a sentence. */
enum lang_month_form {
	LANG_MONTH_NAME,    /* the name: "décembre", "prosinec" */
	LANG_MONTH_IN_DATE, /* the form a written date uses: "prosince" */
	LANG_MONTH_VARIANT, /* also seen: "jänner", "setiembre" */
};
struct lang_month_row {
	const char *lang;
	enum lang_month_form form;
	const char *names[12]; /* NULL where a variant row has no entry */
};
const struct lang_month_row *lang_month_rows(unsigned *count_r);

/* "2026-12-31" as a date is written in lang: "31 décembre 2026",
 * "31. prosince 2026", "2026. december 31.", "31 December 2026" (g_free).
 * NULL when iso is not a valid YYYY-MM-DD; English for an unknown lang. */
char *lang_format_date(const char *iso, const char *lang);

#endif

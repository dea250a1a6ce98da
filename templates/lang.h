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

#endif

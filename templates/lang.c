/*
 * lang.c: language codes and folding for comparison.
 */
#include "templates/lang.h"

#include <glib.h>
#include <string.h>

const char *const lang_codes[LANG_COUNT] = {
	"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
	"hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
};

int lang_index(const char *lang)
{
	if (lang == NULL)
		return -1;
	for (int i = 0; i < LANG_COUNT; i++)
		if (strcmp(lang_codes[i], lang) == 0)
			return i;
	return -1;
}

/* Letters that Unicode decomposition leaves alone but that people replace
 * with a plain letter when they type without accents. */
static const char *lang_fold_special(gunichar c)
{
	switch (c) {
	case 0x00DF: return "ss"; /* ß */
	case 0x00F8: return "o";  /* ø */
	case 0x00E6: return "ae"; /* æ */
	case 0x0142: return "l";  /* ł */
	case 0x0111: return "d";  /* đ */
	case 0x0127: return "h";  /* ħ */
	case 0x0131: return "i";  /* ı */
	case 0x03C2: return "\xCF\x83"; /* ς → σ */
	case 0x2019: return "'";  /* ’ */
	default: return NULL;
	}
}

char *lang_fold(const char *text)
{
	char *valid, *nfd, *lower;
	GString *out;
	const char *p;

	valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	lower = g_utf8_strdown(valid, -1);
	nfd = g_utf8_normalize(lower, -1, G_NORMALIZE_NFD);
	g_free(valid);
	g_free(lower);
	out = g_string_sized_new(strlen(nfd));
	for (p = nfd; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		const char *special;

		if (g_unichar_type(c) == G_UNICODE_NON_SPACING_MARK ||
		    g_unichar_type(c) == G_UNICODE_ENCLOSING_MARK)
			continue;
		special = lang_fold_special(c);
		if (special != NULL)
			g_string_append(out, special);
		else
			g_string_append_unichar(out, c);
	}
	g_free(nfd);
	return g_string_free(out, FALSE);
}

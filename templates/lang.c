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

/* The fold of one non-ASCII character, as UTF-8 (at most a few
 * characters: a decomposition without its marks, or a special). */
#define LANG_FOLD_CHAR_MAX 24

static size_t lang_fold_char(gunichar c, char *out)
{
	gunichar d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
	gsize nd;
	size_t n = 0;

	if (c == 0x0130) /* İ: "i" and a combining dot, which goes */
		c = 'i';
	else
		c = g_unichar_tolower(c);
	nd = g_unichar_fully_decompose(c, FALSE, d, G_N_ELEMENTS(d));
	for (gsize k = 0; k < nd; k++) {
		const char *special;
		GUnicodeType t = g_unichar_type(d[k]);

		if (t == G_UNICODE_NON_SPACING_MARK || t == G_UNICODE_ENCLOSING_MARK)
			continue;
		special = lang_fold_special(d[k]);
		if (special != NULL) {
			size_t sl = strlen(special);
			if (n + sl > LANG_FOLD_CHAR_MAX)
				break;
			memcpy(out + n, special, sl);
			n += sl;
		} else {
			if (n + 6 > LANG_FOLD_CHAR_MAX)
				break;
			n += (size_t)g_unichar_to_utf8(d[k], out + n);
		}
	}
	return n;
}

/* Folds of recent characters, per thread: the texts of one language
 * repeat a few dozen letters.  On the heap, not in thread-local storage:
 * 8 KB of it in a module that imi opens with dlopen does not fit glibc's
 * static reserve, so every thread that touched the module's TLS paid for
 * it; here only a thread that folds a character outside ASCII does. */
#define LANG_FOLD_CACHE 256
struct lang_fold_cached {
	gunichar c;          /* 0: empty */
	unsigned char len;
	char out[LANG_FOLD_CHAR_MAX];
};
static GPrivate lang_fold_key = G_PRIVATE_INIT(g_free);

static struct lang_fold_cached *lang_fold_cache(void)
{
	struct lang_fold_cached *cache = g_private_get(&lang_fold_key);

	if (cache == NULL) {
		cache = g_new0(struct lang_fold_cached, LANG_FOLD_CACHE);
		g_private_set(&lang_fold_key, cache);
	}
	return cache;
}

char *lang_fold(const char *text)
{
	struct lang_fold_cached *cache = NULL;
	GString *out;
	char *valid = NULL;
	const char *p;

	if (text == NULL)
		text = "";
	if (!g_utf8_validate(text, -1, NULL))
		text = valid = g_utf8_make_valid(text, -1);
	/* Character by character: lower case, canonical decomposition, marks
	 * dropped, then the few letters people type without accents.  The
	 * same as lower-casing, normalizing (NFD) and filtering the whole
	 * text, because the marks whose order normalization would change are
	 * the ones dropped; without the copies of the whole-text route it
	 * costs a fraction, which a fresh process pays for every text of a
	 * question set in 24 languages. */
	out = g_string_sized_new(strlen(text));
	for (p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c;
		struct lang_fold_cached *e;

		if ((unsigned char)*p < 0x80) {
			g_string_append_c(out, g_ascii_tolower(*p));
			continue;
		}
		c = g_utf8_get_char(p);
		if (cache == NULL)
			cache = lang_fold_cache();
		e = &cache[c % LANG_FOLD_CACHE];
		if (e->c != c) {
			e->len = (unsigned char)lang_fold_char(c, e->out);
			e->c = c;
		}
		g_string_append_len(out, e->out, e->len);
	}
	g_free(valid);
	return g_string_free(out, FALSE);
}

/*
 * message_text.c: the text helpers of parser/message: charset decoding,
 * format=flowed, HTML to text (libxml2), RTF to text (TNEF bodies), safe
 * attachment names.  Every helper is best effort: what cannot be decoded
 * becomes U+FFFD.  The one failure is HTML to text when libxml2 cannot be
 * loaded (IMI_TEMPFAIL: an installation problem, not the message's fault).
 *
 * libxml2 is not linked: it is opened on the first HTML body (util/lib_load).
 * Linked, it and what it pulls in (ICU, liblzma, libstdc++) cost every imi
 * process about 6 M instructions of symbol binding at start-up, HTML or not
 * (Debian builds them with -z now).  Its headers still give the types and
 * the layout of the tree that the walk below reads.
 */
#include "parser/message.h"
#include "parser/message_private.h"
#include "util/lib_load.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD"

/* ---- charsets ---- */

/* Appends data as UTF-8, each invalid sequence as U+FFFD; returns how
 * many invalid sequences there were. */
static size_t append_utf8_lossy(GString *out, const char *data, size_t len)
{
	size_t i = 0, bad = 0;

	while (i < len) {
		size_t run = i;
		gunichar c;

		while (run < len && (unsigned char)data[run] < 0x80 && data[run] != '\0')
			run++;
		if (run > i) {
			g_string_append_len(out, data + i, run - i);
			i = run;
			continue;
		}
		if (data[i] == '\0') {
			g_string_append(out, REPLACEMENT);
			i++;
			continue;
		}
		c = g_utf8_get_char_validated(data + i, len - i);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append(out, REPLACEMENT);
			bad++;
			i++;
			continue;
		}
		g_string_append_len(out, data + i, g_utf8_skip[(unsigned char)data[i]]);
		i += g_utf8_skip[(unsigned char)data[i]];
	}
	return bad;
}

/* Appends data converted from charset; -1 if iconv does not know it. */
static int append_iconv(GString *out, const char *data, size_t len, const char *charset)
{
	iconv_t cd = iconv_open("UTF-8", charset);
	char buf[4096], *in = (char *)data, *o;
	size_t inleft = len, oleft, unit = 1;
	char *upper;

	if (cd == (iconv_t)-1)
		return -1;
	upper = g_ascii_strup(charset, -1);
	if (strstr(upper, "16") != NULL || strstr(upper, "UCS-2") != NULL)
		unit = 2;
	else if (strstr(upper, "32") != NULL || strstr(upper, "UCS-4") != NULL)
		unit = 4;
	g_free(upper);
	while (inleft > 0) {
		size_t r;

		o = buf;
		oleft = sizeof(buf);
		r = iconv(cd, &in, &inleft, &o, &oleft);
		g_string_append_len(out, buf, o - buf);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		g_string_append(out, REPLACEMENT);
		if (errno != EILSEQ)
			break; /* EINVAL: cut short at the end */
		r = inleft < unit ? inleft : unit;
		in += r;
		inleft -= r;
	}
	o = buf;
	oleft = sizeof(buf);
	iconv(cd, NULL, NULL, &o, &oleft);
	g_string_append_len(out, buf, o - buf);
	iconv_close(cd);
	return 0;
}

/* CRLF and CR to LF, NUL to U+FFFD, a leading BOM dropped. */
static char *text_normalize(GString *in)
{
	GString *out = g_string_sized_new(in->len);
	size_t i = 0;

	if (in->len >= 3 && memcmp(in->str, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	for (; i < in->len; i++) {
		char c = in->str[i];

		if (c == '\r') {
			g_string_append_c(out, '\n');
			if (i + 1 < in->len && in->str[i + 1] == '\n')
				i++;
		} else if (c == '\0') {
			g_string_append(out, REPLACEMENT);
		} else {
			g_string_append_c(out, c);
		}
	}
	g_string_free(in, TRUE);
	return g_string_free(out, FALSE);
}

static int charset_is(const char *name, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (g_ascii_strcasecmp(name, list[i]) == 0)
			return 1;
	return 0;
}

char *parse_text_to_utf8(const char *data, size_t len, const char *charset)
{
	static const char *const utf8[] = {"utf-8", "utf8", NULL};
	static const char *const ascii[] = {"us-ascii", "ascii", "ansi_x3.4-1968",
					    "iso646-us", "us", NULL};
	GString *out = g_string_sized_new(len + 16);
	const char *name = NULL;

	message_gmime_ensure();
	if (charset != NULL && *charset != '\0')
		name = g_mime_charset_iconv_name(charset);
	if (name != NULL && charset_is(name, utf8)) {
		/* Labelled UTF-8: keep it, unless nothing in it is UTF-8 at all
		 * (a client that labels Latin-1 as UTF-8). */
		GString *probe = g_string_sized_new(len);
		size_t bad = append_utf8_lossy(probe, data, len);
		int multibyte = 0;

		for (size_t i = 0; i < len && !multibyte && bad > 0; i++)
			multibyte = ((unsigned char)data[i] & 0xC0) == 0xC0 &&
				    i + 1 < len && ((unsigned char)data[i + 1] & 0xC0) == 0x80;
		if (bad > 0 && !multibyte) {
			g_string_free(probe, TRUE);
			append_iconv(out, data, len, "WINDOWS-1252");
		} else {
			g_string_free(out, TRUE);
			out = probe;
		}
		return text_normalize(out);
	}
	if (name != NULL && !charset_is(name, ascii) &&
	    append_iconv(out, data, len, name) == 0)
		return text_normalize(out);
	/* Unlabelled, ASCII-labelled or unknown: UTF-8 if it is, else the
	 * Windows code page most mail of that kind was written in. */
	if (append_utf8_lossy(out, data, len) > 0) {
		g_string_truncate(out, 0);
		append_iconv(out, data, len, "WINDOWS-1252");
	}
	return text_normalize(out);
}

/* ---- format=flowed ---- */

char *parse_text_unflow(const char *text, int delsp)
{
	GString *out = g_string_sized_new(strlen(text));
	const char *p = text;
	int open = 0, open_depth = 0; /* a flowed line waits for its continuation */

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		int depth = 0, flowed;
		const char *content;
		size_t clen;

		while ((size_t)depth < len && p[depth] == '>')
			depth++;
		content = p + depth;
		clen = len - depth;
		if (clen > 0 && content[0] == ' ') { /* space-stuffing */
			content++;
			clen--;
		}
		flowed = clen > 0 && content[clen - 1] == ' ' &&
			 !(clen == 3 && memcmp(content, "-- ", 3) == 0);
		if (open && depth != open_depth)
			g_string_append_c(out, '\n');
		if (!open || depth != open_depth) {
			for (int d = 0; d < depth; d++)
				g_string_append_c(out, '>');
			if (depth > 0 && clen > 0)
				g_string_append_c(out, ' ');
		}
		if (flowed && delsp)
			clen--;
		g_string_append_len(out, content, clen);
		if (flowed) {
			open = 1;
			open_depth = depth;
		} else {
			open = 0;
			if (nl != NULL)
				g_string_append_c(out, '\n');
		}
		p = nl != NULL ? nl + 1 : p + len;
	}
	return g_string_free(out, FALSE);
}

/* ---- HTML to text ---- */

/* libxml2's functions, resolved once per process (html_lib_open); the
 * environment variable IMI_LIBXML2 names another library than
 * libxml2.so.2 (tests). */
static struct {
	void *handle;                             /* dlopen handle, or NULL */
	__typeof__(xmlInitParser) *init_parser;
	__typeof__(htmlReadMemory) *read_memory;
	__typeof__(xmlFreeDoc) *free_doc;
	__typeof__(xmlGetProp) *get_prop;
	xmlFreeFunc *free_var;                    /* the xmlFree variable */
	char *error;                              /* why it is not there, or NULL */
} html_lib;

/* Under g_once: the milter converts in several threads at once. */
static gpointer html_lib_open(gpointer unused)
{
	const struct lib_symbol symbols[] = {
		{"xmlInitParser", &html_lib.init_parser},
		{"htmlReadMemory", &html_lib.read_memory},
		{"xmlFreeDoc", &html_lib.free_doc},
		{"xmlGetProp", &html_lib.get_prop},
		/* a variable holding the deallocator of what xmlGetProp
		 * returns; read at each call, as the header's xmlFree does */
		{"xmlFree", &html_lib.free_var},
	};

	if (lib_load("libxml2.so.2", "IMI_LIBXML2", symbols, G_N_ELEMENTS(symbols),
		     &html_lib.handle, &html_lib.error) == IMI_OK)
		html_lib.init_parser();
	return NULL;
}

struct html_out {
	GString *out;
	int quote_depth;       /* blockquote nesting: "> " per level at line start */
	int at_line_start;     /* the next word opens a line */
	int pending_space;     /* a space is owed before the next word */
	int pending_breaks;    /* line ends owed before the next word (2: blank line) */
	int trailing_newlines; /* line ends written since the last word */
	int has_content;       /* a word has been written */
	int pre;               /* inside <pre>: whitespace kept */
	int list_depth;        /* nesting of ul/ol */
	int list_counter[32];  /* per list level: 0 bullets, else next number */
	size_t history;        /* SIZE_MAX until an unquoted history mark */
};

static void html_newline(struct html_out *h)
{
	if (h->at_line_start)
		for (int d = 0; d < h->quote_depth; d++)
			g_string_append_c(h->out, '>');
	g_string_append_c(h->out, '\n');
	h->at_line_start = 1;
	h->pending_space = 0;
	h->trailing_newlines++;
}

static void html_flush_breaks(struct html_out *h)
{
	if (!h->has_content) {
		h->pending_breaks = 0;
		return;
	}
	while (h->trailing_newlines < h->pending_breaks)
		html_newline(h);
	h->pending_breaks = 0;
}

static void html_word(struct html_out *h, const char *s, size_t n)
{
	html_flush_breaks(h);
	if (h->at_line_start) {
		for (int d = 0; d < h->quote_depth; d++)
			g_string_append_c(h->out, '>');
		if (h->quote_depth > 0)
			g_string_append_c(h->out, ' ');
	} else if (h->pending_space) {
		g_string_append_c(h->out, ' ');
	}
	g_string_append_len(h->out, s, n);
	h->at_line_start = 0;
	h->pending_space = 0;
	h->trailing_newlines = 0;
	h->has_content = 1;
}

static void html_block(struct html_out *h, int breaks)
{
	if (h->pending_breaks < breaks)
		h->pending_breaks = breaks;
	h->pending_space = 0;
}

static size_t html_space_len(const char *s)
{
	unsigned char c = (unsigned char)s[0];

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
		return 1;
	if (c == 0xC2 && (unsigned char)s[1] == 0xA0) /* no-break space */
		return 2;
	return 0;
}

static void html_text(struct html_out *h, const char *s)
{
	if (h->pre) {
		const char *p = s;

		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

			if (n > 0) {
				int save = h->pending_space;
				h->pending_space = 0;
				html_word(h, p, n);
				h->pending_space = save;
			}
			if (nl == NULL)
				break;
			html_flush_breaks(h);
			html_newline(h);
			p = nl + 1;
		}
		return;
	}
	while (*s != '\0') {
		size_t sp = html_space_len(s), n = 0;

		if (sp > 0) {
			if (!h->at_line_start)
				h->pending_space = 1;
			s += sp;
			continue;
		}
		while (s[n] != '\0' && html_space_len(s + n) == 0)
			n++;
		html_word(h, s, n);
		s += n;
	}
}

/* Attribute value contains needle, ignoring case (and, with nospace,
 * ignoring blanks in the value). */
static int html_attr_has(xmlNodePtr node, const char *attr, const char *needle, int nospace)
{
	xmlChar *value = html_lib.get_prop(node, (const xmlChar *)attr);
	char *lower, *w;
	int found;

	if (value == NULL)
		return 0;
	lower = g_ascii_strdown((const char *)value, -1);
	(*html_lib.free_var)(value);
	if (nospace) {
		w = lower;
		for (char *r = lower; *r != '\0'; r++)
			if (*r != ' ' && *r != '\t' && *r != '\n' && *r != '\r')
				*w++ = *r;
		*w = '\0';
	}
	found = strstr(lower, needle) != NULL;
	g_free(lower);
	return found;
}

static int html_id_is(xmlNodePtr node, const char *prefix)
{
	xmlChar *value = html_lib.get_prop(node, (const xmlChar *)"id");
	int found = value != NULL &&
		    g_ascii_strncasecmp((const char *)value, prefix, strlen(prefix)) == 0;

	if (value != NULL)
		(*html_lib.free_var)(value);
	return found;
}

/* Marks of clients that put the history after the reply without quoting
 * it: Outlook's bordered header division and its ids, Hotmail's rule. */
static int html_is_history_mark(xmlNodePtr node, const char *name)
{
	if (html_id_is(node, "divRplyFwdMsg") || html_id_is(node, "OLK_SRC_BODY_SECTION") ||
	    html_id_is(node, "appendonsend"))
		return 1;
	if (strcmp(name, "hr") == 0)
		return html_id_is(node, "stopSpelling");
	if (strcmp(name, "div") != 0)
		return 0;
	return html_attr_has(node, "style", "border-top:solid", 1) ||
	       html_attr_has(node, "style", "border-top-style:solid", 1);
}

static int html_is_quote(xmlNodePtr node, const char *name)
{
	if (strcmp(name, "blockquote") == 0)
		return 1;
	if (strcmp(name, "div") != 0 && strcmp(name, "span") != 0)
		return 0;
	return html_attr_has(node, "class", "yahoo_quoted", 0) ||
	       html_attr_has(node, "class", "moz-cite-prefix", 0) ||
	       html_attr_has(node, "class", "gmail_attr", 0);
}

/* Signature containers of webmails and clients: rendered after a "-- "
 * line, as a plain-text client writes a signature. */
static int html_is_signature(xmlNodePtr node, const char *name)
{
	if (strcmp(name, "div") != 0 && strcmp(name, "span") != 0 && strcmp(name, "table") != 0)
		return 0;
	return html_attr_has(node, "class", "gmail_signature", 0) ||
	       html_attr_has(node, "data-smartmail", "gmail_signature", 0) ||
	       html_id_is(node, "Signature") || html_attr_has(node, "class", "moz-signature", 0) ||
	       html_attr_has(node, "class", "apple-signature", 0);
}

/* The last line written is a "-- " delimiter already. */
static int html_after_delimiter(const struct html_out *h)
{
	const char *end = h->out->str + h->out->len;

	while (end > h->out->str && end[-1] == '\n')
		end--;
	return end - h->out->str >= 2 && end[-1] == '-' && end[-2] == '-' &&
	       (end - h->out->str == 2 || end[-3] == '\n');
}

static int name_in(const char *name, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

static void html_walk(struct html_out *h, xmlNodePtr node, int depth);

static void html_element(struct html_out *h, xmlNodePtr node, int depth)
{
	static const char *const skipped[] = {"head", "script", "style", "title", "noscript",
					      "template", "object", "iframe", "svg", "math",
					      "img", "xml", NULL};
	static const char *const blocks[] = {"div", "table", "tr", "address", "section",
					     "article", "header", "footer", "center", "dl",
					     "dt", "dd", "form", "fieldset", "nav", "aside",
					     "figure", "main", "caption", "body", "html", NULL};
	const char *name = (const char *)node->name;
	int breaks = 0, quote = 0, list = 0, save_pre = h->pre;

	if (name_in(name, skipped))
		return;
	if (h->history == SIZE_MAX && h->quote_depth == 0 && html_is_history_mark(node, name)) {
		html_flush_breaks(h);
		h->history = h->out->len;
	}
	if (strcmp(name, "br") == 0) {
		if (h->has_content) {
			html_flush_breaks(h);
			html_newline(h);
		}
		return;
	}
	if (strcmp(name, "hr") == 0) {
		html_block(h, 1);
		html_word(h, "________________________________", 32);
		html_block(h, 1);
		return;
	}
	if (strcmp(name, "p") == 0)
		breaks = html_attr_has(node, "class", "msonormal", 0) ? 1 : 2;
	else if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && name[2] == '\0')
		breaks = 2;
	else if (strcmp(name, "pre") == 0)
		breaks = 1, h->pre = 1;
	else if (strcmp(name, "ul") == 0 || strcmp(name, "ol") == 0)
		breaks = 1, list = 1;
	else if (strcmp(name, "li") == 0)
		breaks = 1;
	else if (name_in(name, blocks))
		breaks = 1;
	if (html_is_quote(node, name))
		quote = 1, breaks = breaks > 0 ? breaks : 1;
	if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
		if (!h->at_line_start)
			h->pending_space = 1;

	if (breaks > 0)
		html_block(h, breaks);
	if (h->quote_depth == 0 && !quote && html_is_signature(node, name) && h->has_content) {
		html_block(h, 1);
		if (!html_after_delimiter(h)) {
			html_word(h, "--", 2);
			g_string_append_c(h->out, ' ');
		}
		html_block(h, 1);
	}
	if (quote) {
		/* the line ends before a quote are not part of it */
		html_flush_breaks(h);
		h->quote_depth++;
	}
	if (list) {
		h->list_depth++;
		if (h->list_depth <= (int)G_N_ELEMENTS(h->list_counter))
			h->list_counter[h->list_depth - 1] = strcmp(name, "ol") == 0 ? 1 : 0;
	}
	if (strcmp(name, "li") == 0) {
		int level = h->list_depth;

		if (level > 0 && level <= (int)G_N_ELEMENTS(h->list_counter) &&
		    h->list_counter[level - 1] > 0) {
			char num[16];
			int n = g_snprintf(num, sizeof(num), "%d.", h->list_counter[level - 1]++);
			html_word(h, num, n);
		} else {
			html_word(h, "-", 1);
		}
		h->pending_space = 1;
	}
	html_walk(h, node->children, depth + 1);
	if (list)
		h->list_depth--;
	if (quote) {
		/* nor those after it */
		if (h->has_content && h->trailing_newlines == 0)
			html_newline(h);
		h->quote_depth--;
	}
	if (breaks > 0)
		html_block(h, breaks);
	h->pre = save_pre;
}

static void html_walk(struct html_out *h, xmlNodePtr node, int depth)
{
	if (depth > PARSE_HTML_MAX_DEPTH)
		return; /* unreachable in practice: libxml2 stops nesting at 256 */
	for (; node != NULL; node = node->next) {
		if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
			if (node->content != NULL)
				html_text(h, (const char *)node->content);
		} else if (node->type == XML_ELEMENT_NODE) {
			html_element(h, node, depth);
		}
	}
}

int parse_html_to_text(const char *html, size_t len, char **text_r, size_t *history_offset_r,
		       char **error_r)
{
	static GOnce once = G_ONCE_INIT;
	struct html_out h = {.at_line_start = 1, .history = SIZE_MAX};
	htmlDocPtr doc;

	*text_r = NULL;
	g_once(&once, html_lib_open, NULL);
	if (html_lib.handle == NULL)
		return imi_fail(error_r, IMI_TEMPFAIL, "HTML body: %s", html_lib.error);
	h.out = g_string_sized_new(len / 2 + 16);
	if (len > INT_MAX)
		len = INT_MAX; /* bounded long before by max_message_bytes */
	doc = html_lib.read_memory(html, (int)len, NULL, "UTF-8",
				   HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
					   HTML_PARSE_NONET);
	if (doc != NULL) {
		html_walk(&h, doc->children, 0);
		html_lib.free_doc(doc);
	}
	if (history_offset_r != NULL)
		*history_offset_r = h.history;
	*text_r = g_string_free(h.out, FALSE);
	return IMI_OK;
}

/* ---- RTF to text ---- */

struct rtf_group {
	int skip;    /* an ignorable destination: no text */
	int htmltag; /* \*\htmltag: HTML markup of an encapsulated HTML body */
	int htmlrtf; /* \htmlrtf: RTF-only text of an encapsulated HTML body */
	int uc;      /* characters to skip after \uN */
};

static const char *const rtf_skipped[] = {
	"fonttbl", "colortbl", "stylesheet", "info", "pict", "header", "footer",
	"headerl", "headerr", "footerl", "footerr", "object", "themedata",
	"colorschememapping", "datastore", "latentstyles", "listtable",
	"listoverridetable", "rsidtbl", "generator", "xmlnstbl", "mmathPr",
	"filetbl", "revtbl", "pgdsctbl", NULL};

static void rtf_byte(GString *out, unsigned char b, char table[128][8])
{
	if (b < 0x80)
		g_string_append_c(out, (char)b);
	else
		g_string_append(out, table[b - 0x80]);
}

static void rtf_table(char table[128][8], int codepage)
{
	char name[32];
	iconv_t cd;

	g_snprintf(name, sizeof(name), "CP%d", codepage > 0 ? codepage : 1252);
	cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		cd = iconv_open("UTF-8", "CP1252");
	for (int i = 0; i < 128; i++) {
		char in = (char)(0x80 + i), *ip = &in, *op = table[i];
		size_t il = 1, ol = 7;

		if (cd == (iconv_t)-1 || iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
			strcpy(table[i], REPLACEMENT);
			if (cd != (iconv_t)-1)
				iconv(cd, NULL, NULL, NULL, NULL);
		} else {
			*op = '\0';
		}
	}
	if (cd != (iconv_t)-1)
		iconv_close(cd);
}

char *parse_rtf_to_text(const char *rtf, size_t len)
{
	struct rtf_group stack[PARSE_RTF_MAX_DEPTH], cur = {.uc = 1};
	GString *out = g_string_sized_new(len / 2), *tag = g_string_new(NULL);
	char table[128][8];
	int depth = 0, skip_chars = 0, codepage = 1252, table_ready = 0;
	size_t i = 0;

	while (i < len) {
		char c = rtf[i];

		if (c == '{') {
			if (depth < PARSE_RTF_MAX_DEPTH)
				stack[depth] = cur;
			depth++;
			i++;
			continue;
		}
		if (c == '}') {
			if (cur.htmltag && !cur.skip) {
				char *lower = g_ascii_strdown(tag->str, tag->len);
				if (strstr(lower, "<br") || strstr(lower, "<p") || strstr(lower, "</p") ||
				    strstr(lower, "<div") || strstr(lower, "</div") ||
				    strstr(lower, "<li") || strstr(lower, "</tr"))
					g_string_append_c(out, '\n');
				g_free(lower);
				g_string_truncate(tag, 0);
			}
			if (depth > 0)
				depth--;
			if (depth < PARSE_RTF_MAX_DEPTH)
				cur = stack[depth];
			i++;
			continue;
		}
		if (c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c != '\\') {
			if (skip_chars > 0)
				skip_chars--;
			else if (cur.htmltag)
				g_string_append_c(tag, c);
			else if (!cur.skip && !cur.htmlrtf)
				g_string_append_c(out, c);
			i++;
			continue;
		}
		/* a control symbol or word */
		i++;
		if (i >= len)
			break;
		c = rtf[i];
		if (c == '\\' || c == '{' || c == '}') {
			if (cur.htmltag)
				g_string_append_c(tag, c);
			else if (!cur.skip && !cur.htmlrtf && skip_chars-- <= 0)
				g_string_append_c(out, c);
			i++;
		} else if (c == '\'') {
			unsigned v = 0;
			for (int k = 1; k <= 2 && i + k < len; k++)
				v = v * 16 + (g_ascii_isxdigit(rtf[i + k]) ? g_ascii_xdigit_value(rtf[i + k]) : 0);
			i += 3;
			if (skip_chars > 0) {
				skip_chars--;
			} else if (cur.htmltag) {
				g_string_append_c(tag, (char)v);
			} else if (!cur.skip && !cur.htmlrtf) {
				if (!table_ready) {
					rtf_table(table, codepage);
					table_ready = 1;
				}
				rtf_byte(out, (unsigned char)v, table);
			}
		} else if (c == '*') {
			i++;
			if (g_str_has_prefix(rtf + i, "\\htmltag") && i + 8 <= len)
				cur.htmltag = 1;
			else
				cur.skip = 1;
		} else if (g_ascii_isalpha(c)) {
			char word[32];
			size_t n = 0;
			long param = 0;
			int has_param = 0, neg = 0;

			while (i < len && g_ascii_isalpha(rtf[i])) {
				if (n + 1 < sizeof(word))
					word[n++] = rtf[i];
				i++;
			}
			word[n] = '\0';
			if (i < len && rtf[i] == '-')
				neg = 1, i++;
			while (i < len && g_ascii_isdigit(rtf[i])) {
				if (param < 1000000)
					param = param * 10 + (rtf[i] - '0');
				has_param = 1;
				i++;
			}
			if (neg)
				param = -param;
			if (i < len && rtf[i] == ' ')
				i++;
			if (name_in(word, rtf_skipped)) {
				cur.skip = 1;
			} else if (strcmp(word, "htmltag") == 0) {
				cur.htmltag = 1;
			} else if (strcmp(word, "htmlrtf") == 0) {
				cur.htmlrtf = !has_param || param != 0;
			} else if (strcmp(word, "ansicpg") == 0 && has_param) {
				codepage = (int)param;
				table_ready = 0;
			} else if (strcmp(word, "uc") == 0 && has_param) {
				cur.uc = (int)param;
			} else if (strcmp(word, "u") == 0 && has_param) {
				gunichar u = (gunichar)(param < 0 ? param + 65536 : param);
				if (!cur.skip && !cur.htmlrtf && !cur.htmltag && g_unichar_validate(u) && u != 0)
					g_string_append_unichar(out, u);
				skip_chars = cur.uc;
			} else if (cur.skip || cur.htmlrtf || cur.htmltag) {
				/* nothing to write */
			} else if (strcmp(word, "par") == 0 || strcmp(word, "line") == 0) {
				g_string_append_c(out, '\n');
			} else if (strcmp(word, "tab") == 0) {
				g_string_append_c(out, '\t');
			} else if (strcmp(word, "emdash") == 0) {
				g_string_append(out, "\xE2\x80\x94");
			} else if (strcmp(word, "endash") == 0) {
				g_string_append(out, "\xE2\x80\x93");
			} else if (strcmp(word, "bullet") == 0) {
				g_string_append(out, "\xE2\x80\xA2");
			} else if (strcmp(word, "lquote") == 0 || strcmp(word, "rquote") == 0) {
				g_string_append_c(out, '\'');
			} else if (strcmp(word, "ldblquote") == 0 || strcmp(word, "rdblquote") == 0) {
				g_string_append_c(out, '"');
			}
		} else {
			if (c == '~' && !cur.skip && !cur.htmlrtf && !cur.htmltag)
				g_string_append_c(out, ' ');
			i++;
		}
	}
	g_string_free(tag, TRUE);
	{
		char *raw = g_string_free(out, FALSE), *valid = g_utf8_make_valid(raw, -1);
		g_free(raw);
		return valid;
	}
}

/* ---- attachment names ---- */

static int filename_char_dropped(gunichar c)
{
	return c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || c == 0x200E ||
	       c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0xFEFF || c == 0xFFFD;
}

char *parse_safe_filename(const char *name, const char *fallback)
{
	GString *out;
	char *valid;
	const char *base, *p;
	size_t start, end;

	if (name == NULL || *name == '\0')
		return g_strdup(fallback);
	valid = g_utf8_make_valid(name, -1);
	base = valid;
	for (p = valid; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	out = g_string_new(NULL);
	for (p = base; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (filename_char_dropped(c))
			continue;
		if (c < 0x80 && strchr("<>:\"|?*", (int)c) != NULL)
			g_string_append_c(out, '_');
		else
			g_string_append_unichar(out, c);
	}
	g_free(valid);
	/* no leading dots or blanks (hidden files, "..") nor trailing ones */
	for (start = 0; start < out->len && (out->str[start] == '.' || out->str[start] == ' ');)
		start++;
	g_string_erase(out, 0, start);
	for (end = out->len; end > 0 && (out->str[end - 1] == '.' || out->str[end - 1] == ' ');)
		end--;
	g_string_truncate(out, end);
	if (out->len > PARSE_ATTACHMENT_NAME_MAX) {
		/* keep a short extension, cut the stem on a character boundary */
		const char *dot = strrchr(out->str, '.');
		size_t ext = dot != NULL && out->len - (dot - out->str) <= 16
				     ? out->len - (dot - out->str) : 0;
		size_t keep = PARSE_ATTACHMENT_NAME_MAX - ext;

		while (keep > 0 && ((unsigned char)out->str[keep] & 0xC0) == 0x80)
			keep--;
		if (ext > 0)
			g_string_erase(out, keep, (dot - out->str) - keep);
		else
			g_string_truncate(out, keep);
	}
	if (out->len == 0) {
		g_string_free(out, TRUE);
		return g_strdup(fallback);
	}
	return g_string_free(out, FALSE);
}

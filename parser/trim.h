/*
 * parser/trim: separates the new text of a reply from the quoted history
 * and the signature.
 *
 * What it does: reads the reply as lines and removes, from top to bottom,
 *   - "> " quoted blocks (an interleaved reply keeps the new text between
 *     them; the quoted question lines go),
 *   - an attribution line ("On <date>, <name> wrote:" in the 24 EU
 *     languages and a few neighbours, also when it wraps over up to four
 *     lines, or shares a line with the reply) with the quote it
 *     introduces, or with everything after it when the client did not
 *     quote,
 *   - everything from an Outlook-style history on: "-----Original
 *     Message-----" and its translations, a "From: / Sent: / To: /
 *     Subject:" header block with localized field names, and the history
 *     start an HTML body marked (parser/message),
 * and, in REPLY_TRIM_FULL mode, the signature at the end: "-- " and other
 * dash rules, "-Name", a closing formula ("Regards," "Mit freundlichen
 * Grüßen" ...) followed by a few short lines, and mobile signatures ("Sent
 * from my iPhone", "Von meinem iPhone gesendet", BlackBerry, "Get Outlook
 * for Android" ...); a signature never swallows an answer by question code
 * ("Q3: yes").  A forwarded message ("---------- Forwarded message
 * ----------") is content, not history: nothing after its marker is cut.
 * All word lists are tables at the top of trim.c.
 *
 * How it fails: a text of more than REPLY_TRIM_MAX_LINES lines is
 * IMI_TOOBIG.  Otherwise it always returns text (possibly empty); when in
 * doubt a line is kept.  Work is linear in the text; no regular
 * expressions.
 *
 * What it trusts: nothing; the text is the sender's.
 */
#ifndef IMI_PARSER_TRIM_H
#define IMI_PARSER_TRIM_H

#include <stddef.h>

#include "util/util.h"

struct parsed_message;

enum reply_trim_mode {
	REPLY_TRIM_FULL,        /* quoted history and signature removed */
	REPLY_TRIM_QUOTES_ONLY, /* quoted history removed, signature kept */
};

/* Most lines read from one text. */
#define REPLY_TRIM_MAX_LINES 1000000

/* Trims text (UTF-8, LF line ends; len bytes, need not be NUL-terminated).
 * history_offset: where a history marked by the HTML begins (everything
 * from there is dropped); len or more for none.  quotes_marked: the "> "
 * lines are known quotes (made from HTML <blockquote>), so even a single
 * one goes; in plain text a lone "> " line without an attribution is kept
 * (it is more often a banner or an arrow than a quote).  The result has no leading
 * empty lines and no trailing white space; g_free it.  In quotes-only mode
 * the kept lines are the sender's bytes (a "-- " keeps its space); in full
 * mode each line also loses its trailing blanks. */
int reply_trim(const char *text, size_t len, size_t history_offset,
	       int quotes_marked, enum reply_trim_mode mode, char **new_text_r,
	       char **error_r);

/* reply_trim on the text of a parsed message. */
int reply_trim_message(const struct parsed_message *msg, enum reply_trim_mode mode,
		       char **new_text_r, char **error_r);

#endif

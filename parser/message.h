/*
 * parser/message: reads one inbound message into what the rest of imi needs:
 * the sender's address, the threading headers, the decoded subject, the body
 * as UTF-8 text, the attachments, and whether it is automatic mail.
 *
 * What it does: parses an RFC 5322 message with GMime 3 (or, when the data
 * has no header block, takes it as a bare body, plain text or HTML), walks
 * the MIME tree, decodes every text part from its transfer encoding and its
 * charset to UTF-8, turns an HTML-only body into text (libxml2's HTML
 * parser), opens Outlook's TNEF winmail.dat (libytnef) so that neither its
 * body nor its attachments are lost, and lists attachments under safe file
 * names.  Quoted history that the HTML marks (<blockquote>, Gmail, Apple
 * Mail, Thunderbird and Yahoo quote containers) comes out as "> " lines, as
 * a plain-text client would write it; the start of a history that Outlook
 * marks without quoting (its bordered header division, divRplyFwdMsg,
 * OLK_SRC_BODY_SECTION, Hotmail's stopSpelling rule) is reported as an
 * offset into the text (parsed_message_history_offset) for parser/trim.
 * A signature the HTML marks (Gmail's gmail_signature, Outlook's
 * Signature division, Thunderbird's moz-signature) comes out after a "-- "
 * line.
 *
 * How it fails: a message over a bound (MIME depth, part count, header
 * bytes: struct parse_limits) is IMI_TOOBIG with the bound named in the
 * error text; nothing is silently truncated.  Anything else is read best
 * effort: an unknown or wrong charset decodes with U+FFFD replacements,
 * broken base64 decodes what it can, NUL bytes become U+FFFD, an unreadable
 * TNEF is kept as a plain attachment.  A message whose body is HTML, or
 * that holds a winmail.dat, when libxml2 or libytnef (loaded on first use)
 * cannot be loaded is IMI_TEMPFAIL: the MTA keeps it until the host is
 * repaired.  It never prints or exits.
 *
 * What it trusts: nothing in the message.  Attachment names are reduced to
 * a bare file name (no path separators, no control or bidirectional
 * characters, no leading dot, at most PARSE_ATTACHMENT_NAME_MAX bytes);
 * compressed attachments are kept as they came and never inflated.  The
 * headers are reported as the sender wrote them: authentication is
 * parser/'s DKIM and SPF checks' job, not this module's.
 */
#ifndef IMI_PARSER_MESSAGE_H
#define IMI_PARSER_MESSAGE_H

#include <stddef.h>

#include "util/util.h"

/* Bounds on one message; their configuration keys are [limits]
 * max_mime_depth, max_mime_parts, max_header_bytes (conf/conf.c). */
struct parse_limits {
	int max_mime_depth;      /* deepest nesting of multiparts and attached messages */
	int max_mime_parts;      /* most MIME parts in the whole tree */
	size_t max_header_bytes; /* largest header block of the message or of one part */
};
#define PARSE_DEFAULT_MIME_DEPTH 32
#define PARSE_DEFAULT_MIME_PARTS 500
#define PARSE_DEFAULT_HEADER_BYTES (256 * 1024)
/* Longest attachment file name handed out, in bytes of UTF-8. */
#define PARSE_ATTACHMENT_NAME_MAX 120

/* Fills *limits with the defaults above. */
void parse_limits_default(struct parse_limits *limits);

struct parsed_message;

struct parsed_attachment {
	const char *name;         /* safe file name, never empty */
	const char *content_type; /* "type/subtype", lower case */
	size_t size;              /* bytes of data after transfer decoding */
	const unsigned char *data; /* the decoded bytes, as sent (not inflated) */
	int from_tnef;            /* 1: taken out of a winmail.dat */
	int html_resource;        /* 1: a resource of the HTML body (a part of a
				   * multipart/related other than its root, with
				   * a Content-ID: a signature logo), not a
				   * document the sender attached */
};

/* Reads one message (data need not be NUL-terminated).  limits NULL means
 * the defaults.  On success *msg_r is freed with parsed_message_free.  The
 * message is read where it lies: data must stay as it is while msg is
 * used to read attachments, whose bytes are decoded from it when first
 * asked for (parsed_message_attachment); the rest of msg is its own. */
int parsed_message_read(const char *data, size_t len,
			const struct parse_limits *limits,
			struct parsed_message **msg_r, char **error_r);
void parsed_message_free(struct parsed_message **msg);

/* 1 if the data had a header block, 0 if it was read as a bare body. */
int parsed_message_has_headers(const struct parsed_message *msg);

/* The first From address (addr-spec as written), or NULL. */
const char *parsed_message_from(const struct parsed_message *msg);
/* Message-ID and In-Reply-To without angle brackets, or NULL. */
const char *parsed_message_id(const struct parsed_message *msg);
const char *parsed_message_in_reply_to(const struct parsed_message *msg);
/* The References ids, oldest first, without angle brackets; NULL
 * terminated (an empty list when there are none). */
const char *const *parsed_message_references(const struct parsed_message *msg);
/* The subject, RFC 2047 decoded to UTF-8, or NULL. */
const char *parsed_message_subject(const struct parsed_message *msg);
/* Any top-level header's unfolded value (first occurrence), or NULL. */
const char *parsed_message_header(const struct parsed_message *msg,
				  const char *name);

/* Automatic mail (RFC 3834 and its older habits): Auto-Submitted present
 * and not "no"; Precedence bulk, junk, list or auto_reply; a
 * multipart/report (delivery or disposition report) at the top level. */
int parsed_message_auto_submitted(const struct parsed_message *msg);
int parsed_message_precedence_bulk(const struct parsed_message *msg);
int parsed_message_is_report(const struct parsed_message *msg);

/* The body as UTF-8 text with LF line ends, never NULL.  *len_r, if not
 * NULL, gets its length.  The text of the first readable body: the
 * text/plain alternative when there is one, else the HTML one turned into
 * text, else the body found in a winmail.dat; further inline text parts of
 * a multipart/mixed are appended. */
const char *parsed_message_text(const struct parsed_message *msg, size_t *len_r);
/* 1 when the text was made from HTML. */
int parsed_message_text_from_html(const struct parsed_message *msg);
/* Offset into the text where a history that the HTML marked without
 * quoting begins; the text length when there is none. */
size_t parsed_message_history_offset(const struct parsed_message *msg);

/* The attachments: counting them decodes nothing; the first
 * parsed_message_attachment of one decodes its bytes (kept until msg is
 * freed). */
unsigned parsed_message_attachment_count(const struct parsed_message *msg);
const struct parsed_attachment *
parsed_message_attachment(const struct parsed_message *msg, unsigned idx);

/* Helpers shared with parser/ and its tests. */

/* Decodes bytes in charset (NULL: guess UTF-8, then windows-1252) to valid
 * UTF-8 with LF line ends; invalid input becomes U+FFFD, NUL too.  Never
 * fails.  g_free the result. */
char *parse_text_to_utf8(const char *data, size_t len, const char *charset);
/* HTML (UTF-8) to text as parsed_message_text does it, in *text_r
 * (g_free); *history_offset_r (may be NULL) as
 * parsed_message_history_offset.  libxml2 is loaded on the first call; when
 * it cannot be, IMI_TEMPFAIL and *text_r stays NULL. */
int parse_html_to_text(const char *html, size_t len, char **text_r, size_t *history_offset_r,
		       char **error_r);
/* A safe file name made of an untrusted one (NULL allowed); fallback is
 * used when nothing usable is left.  g_free the result. */
char *parse_safe_filename(const char *name, const char *fallback);

#endif

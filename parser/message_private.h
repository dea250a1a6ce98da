/*
 * message_private.h: what the files of parser/message share and nothing
 * outside parser/ may use (message.c, message_text.c, message_tnef.c).
 */
#ifndef IMI_PARSER_MESSAGE_PRIVATE_H
#define IMI_PARSER_MESSAGE_PRIVATE_H

#include <glib.h>
#include <stddef.h>

struct parsed_message;

/* g_mime_init once per process. */
void message_gmime_ensure(void);
/* Adds an attachment; takes bytes; name is made safe here. */
void message_add_attachment(struct parsed_message *msg, const char *name,
			    const char *content_type, GBytes *bytes, int from_tnef);
/* Opens a winmail.dat: its attachments are added to msg, its body (UTF-8
 * text, or NULL) is returned in *body_r with *body_html_r set when it was
 * HTML turned to text.  IMI_INVALID (no error text) when it is not readable
 * TNEF; IMI_TEMPFAIL when libytnef, or libxml2 for a body that is HTML
 * (parse_html_to_text), cannot be loaded. */
int message_tnef_read(struct parsed_message *msg, const unsigned char *data,
		      size_t len, char **body_r, int *body_html_r, char **error_r);
/* RFC 3676 format=flowed to fixed lines. */
char *parse_text_unflow(const char *text, int delsp);
/* A crude RTF to text (TNEF bodies): paragraphs, \'hh and \uN, and the
 * HTML that Outlook encapsulates (\fromhtml) as text. */
char *parse_rtf_to_text(const char *rtf, size_t len);

/* Bounds of the text helpers. */
#define PARSE_HTML_MAX_DEPTH 1000  /* element nesting followed when rendering */
#define PARSE_RTF_MAX_DEPTH 200    /* RTF group nesting followed */

#endif

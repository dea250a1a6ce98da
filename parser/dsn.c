/*
 * dsn.c: reading a delivery status notification (dsn.h).
 */
#include "parser/dsn.h"

#include <gmime/gmime.h>
#include <string.h>

#include "parser/message_private.h"
#include "util/util.h"

struct dsn_walk {
	unsigned parts;
	GString *status_text;  /* the message/delivery-status part(s) */
	GString *headers_text; /* the returned headers (text/rfc822-headers) */
	char *original_id;     /* Message-ID of a returned message/rfc822 */
};

/* The decoded content of a leaf part. */
static void dsn_part_text(GMimePart *part, GString *out)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *bytes;

	if (content == NULL)
		return;
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_string_append_len(out, (const char *)bytes->data, bytes->len);
	g_string_append_c(out, '\n');
	g_object_unref(mem);
}

static void dsn_visit(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct dsn_walk *w = data;
	GMimeContentType *ct = g_mime_object_get_content_type(part);

	(void)parent;
	if (++w->parts > DSN_MAX_PARTS || ct == NULL)
		return;
	if (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
	    g_mime_content_type_is_type(ct, "message", "global-delivery-status")) {
		if (GMIME_IS_PART(part))
			dsn_part_text(GMIME_PART(part), w->status_text);
		else if (GMIME_IS_MESSAGE_PART(part)) {
			/* Parsed as a message: its header block is the
			 * per-message fields, the rest per recipient. */
			GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
			if (m != NULL) {
				char *text = g_mime_object_to_string(GMIME_OBJECT(m), NULL);
				g_string_append(w->status_text, text);
				g_string_append_c(w->status_text, '\n');
				g_free(text);
			}
		}
	} else if (g_mime_content_type_is_type(ct, "text", "rfc822-headers") &&
		   GMIME_IS_PART(part)) {
		dsn_part_text(GMIME_PART(part), w->headers_text);
	} else if (GMIME_IS_MESSAGE_PART(part) && w->original_id == NULL) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
		const char *id = m != NULL ? g_mime_message_get_message_id(m) : NULL;

		if (id != NULL)
			w->original_id = g_strdup(id);
	}
}

/* The value of "Name:" in a block of header-like lines (continuations
 * joined), or NULL. */
static char *dsn_field(const char *block, const char *name)
{
	size_t n = strlen(name);
	const char *p = block;

	while (p != NULL && *p != '\0') {
		if (g_ascii_strncasecmp(p, name, n) == 0 && p[n] == ':') {
			GString *v = g_string_new(NULL);
			const char *q = p + n + 1;

			for (;;) {
				const char *eol = strchr(q, '\n');
				size_t len = eol != NULL ? (size_t)(eol - q) : strlen(q);

				if (v->len + len < DSN_MAX_FIELD_BYTES)
					g_string_append_len(v, q, len);
				if (eol == NULL || (eol[1] != ' ' && eol[1] != '\t'))
					break;
				q = eol + 1;
			}
			return g_strstrip(g_string_free(v, FALSE));
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* "rfc822; Someone@Example.org" -> "someone@example.org". */
static char *dsn_address(const char *value)
{
	const char *semi;
	char *a;

	if (value == NULL)
		return NULL;
	semi = strchr(value, ';');
	a = g_strstrip(g_strdup(semi != NULL ? semi + 1 : value));
	if (*a == '<') {
		memmove(a, a + 1, strlen(a));
		if (*a != '\0' && a[strlen(a) - 1] == '>')
			a[strlen(a) - 1] = '\0';
	}
	if (!imi_email_valid(a)) {
		g_free(a);
		return NULL;
	}
	{
		char *low = g_ascii_strdown(a, -1);
		g_free(a);
		return low;
	}
}

static void dsn_add(struct dsn *d, GPtrArray *v, char *address, const char *status,
		    const char *diagnostic)
{
	struct dsn_recipient *r;

	for (guint i = 0; i < v->len; i++)
		if (strcmp(((struct dsn_recipient *)g_ptr_array_index(v, i))->address, address) == 0) {
			g_free(address);
			return;
		}
	if (v->len >= DSN_MAX_RECIPIENTS) {
		g_free(address);
		return;
	}
	r = g_new0(struct dsn_recipient, 1);
	r->address = address;
	r->status = g_strdup(status != NULL ? status : "");
	r->diagnostic = g_strdup(diagnostic != NULL ? diagnostic : "");
	g_ptr_array_add(v, r);
	(void)d;
}

/* The per-recipient groups of a delivery-status text: blocks separated by
 * empty lines. */
static void dsn_groups(struct dsn *d, GPtrArray *v, const char *text)
{
	char *norm = g_strdup(text);
	char **blocks;

	/* CRLF to LF, so that a blank line is "\n\n". */
	{
		char *w = norm;
		for (const char *r = text; *r != '\0'; r++)
			if (*r != '\r')
				*w++ = *r;
		*w = '\0';
	}
	blocks = g_strsplit(norm, "\n\n", DSN_MAX_RECIPIENTS * 2 + 2);
	for (unsigned i = 0; blocks[i] != NULL; i++) {
		char *final = dsn_field(blocks[i], "Final-Recipient");
		char *orig = dsn_field(blocks[i], "Original-Recipient");
		char *action = dsn_field(blocks[i], "Action");
		char *status = dsn_field(blocks[i], "Status");
		char *diag = dsn_field(blocks[i], "Diagnostic-Code");
		char *addr = dsn_address(final != NULL ? final : orig);
		int failed = (action != NULL && g_ascii_strncasecmp(action, "failed", 6) == 0) ||
			     (status != NULL && status[0] == '5' &&
			      (action == NULL || g_ascii_strncasecmp(action, "delayed", 7) != 0));

		if (addr != NULL && failed)
			dsn_add(d, v, addr, status, diag);
		else
			g_free(addr);
		g_free(final);
		g_free(orig);
		g_free(action);
		g_free(status);
		g_free(diag);
	}
	g_strfreev(blocks);
	g_free(norm);
}

static char *dsn_strip_id(const char *id)
{
	char *s = g_strstrip(g_strdup(id));
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	return s;
}

int dsn_read(const void *raw, size_t len, struct dsn **dsn_r, char **error_r)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	struct dsn_walk w = {0, g_string_new(NULL), g_string_new(NULL), NULL};
	struct dsn *d = g_new0(struct dsn, 1);
	GPtrArray *v = g_ptr_array_new();
	const char *xfailed;
	int ret = IMI_OK;

	message_gmime_ensure();
	stream = g_mime_stream_mem_new_with_buffer(raw, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == NULL) {
		ret = imi_fail(error_r, IMI_INVALID, "not a message");
		goto out;
	}
	g_mime_message_foreach(msg, dsn_visit, &w);
	dsn_groups(d, v, w.status_text->str);
	/* Exim and others: the failed addresses in a header. */
	xfailed = g_mime_object_get_header(GMIME_OBJECT(msg), "X-Failed-Recipients");
	if (xfailed != NULL) {
		char **parts = g_strsplit_set(xfailed, ", \t", DSN_MAX_RECIPIENTS * 2);
		for (unsigned i = 0; parts[i] != NULL; i++) {
			char *a = dsn_address(parts[i]);
			if (a != NULL)
				dsn_add(d, v, a, "", "");
		}
		g_strfreev(parts);
	}
	if (w.original_id != NULL)
		d->original_message_id = dsn_strip_id(w.original_id);
	else {
		char *id = dsn_field(w.headers_text->str, "Message-ID");
		if (id != NULL) {
			d->original_message_id = dsn_strip_id(id);
			g_free(id);
		}
	}
	g_object_unref(msg);
	if (v->len == 0) {
		ret = imi_fail(error_r, IMI_INVALID, "no failed recipient in the report");
		goto out;
	}
	d->failed_count = v->len;
	d->failed = g_new0(struct dsn_recipient, v->len);
	for (guint i = 0; i < v->len; i++) {
		struct dsn_recipient *r = g_ptr_array_index(v, i);
		d->failed[i] = *r;
		g_free(r);
	}
	g_ptr_array_set_size(v, 0);
out:
	for (guint i = 0; i < v->len; i++) {
		struct dsn_recipient *r = g_ptr_array_index(v, i);
		g_free(r->address);
		g_free(r->status);
		g_free(r->diagnostic);
		g_free(r);
	}
	g_ptr_array_free(v, TRUE);
	g_string_free(w.status_text, TRUE);
	g_string_free(w.headers_text, TRUE);
	g_free(w.original_id);
	if (ret == IMI_OK)
		*dsn_r = d;
	else
		dsn_free(&d);
	return ret;
}

void dsn_free(struct dsn **dsn)
{
	struct dsn *d = *dsn;

	if (d == NULL)
		return;
	for (unsigned i = 0; i < d->failed_count; i++) {
		g_free(d->failed[i].address);
		g_free(d->failed[i].status);
		g_free(d->failed[i].diagnostic);
	}
	g_free(d->failed);
	g_free(d->original_message_id);
	g_free(d);
	*dsn = NULL;
}

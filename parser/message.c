/*
 * message.c: one inbound message read with GMime 3; see message.h.
 *
 * Phases of parsed_message_read:
 *   1. bounds that can be checked on the raw bytes (top header block, a
 *      rough count of multipart headers so GMime never recurses deeper than
 *      the part bound allows, and of part delimiters so it never builds
 *      more parts than that bound);
 *   2. header block or bare body;
 *   3. GMime parse, threading headers, automatic-mail flags;
 *   4. the MIME walk (message_walk): bounds per part, body selection,
 *      attachments, winmail.dat (parser/message_tnef.c).
 * The text helpers (charset decoding, format=flowed, HTML to text) live in
 * parser/message_text.c.
 */
#include "parser/message.h"
#include "parser/message_private.h"

#include <gmime/gmime.h>
#include <string.h>

struct attachment_rec {
	struct parsed_attachment pub; /* what accessors hand out */
	char *name;                   /* owned: pub.name */
	char *content_type;           /* owned: pub.content_type */
	GBytes *bytes;                /* owned: pub.data; NULL while part is set */
	GMimePart *part;              /* a reference: the part whose decoded bytes
				       * are made on the first
				       * parsed_message_attachment, then dropped */
};

struct parsed_message {
	GMimeMessage *mime;       /* NULL for a bare body */
	GByteArray *borrowed;     /* the caller's data under mime's stream:
				   * the array is ours, the data is not */
	int has_headers;          /* 0: bare body */
	char *from;               /* first From addr-spec */
	char *message_id;         /* without <> */
	char *in_reply_to;        /* first id of In-Reply-To, without <> */
	GPtrArray *references;    /* char *, NULL-terminated */
	char *subject;            /* decoded */
	GString *text;            /* body text, UTF-8, LF */
	size_t history_offset;    /* marked unquoted history, or text->len */
	int history_marked;       /* 1: history_offset was set by the HTML */
	int text_from_html;       /* body made from HTML */
	GPtrArray *attachments;   /* struct attachment_rec * */
	int auto_submitted;       /* Auto-Submitted present, not "no" */
	int precedence_bulk;      /* Precedence bulk|junk|list|auto_reply */
	int is_report;            /* top-level multipart/report */
};

struct walk {
	const struct parse_limits *limits;
	int inside_attached;      /* >0: in an attached message: bounds only */
	struct parsed_message *msg;
	int parts;                /* parts seen so far (bound: max_mime_parts) */
	int body_taken;           /* a body text part has been used */
	int related_resource;     /* >0: under a non-root part of a multipart/related */
	GString *tnef_body;       /* body found in a winmail.dat, for later */
	int tnef_body_html;       /* tnef_body came from HTML */
	char **error_r;
};

static GMimeParserOptions *parser_options;

static GBytes *part_content_bytes(GMimePart *part);

static gpointer message_gmime_init(gpointer unused)
{
	static const char *fallback[] = {"utf-8", "windows-1252", NULL};

	g_mime_init();
	parser_options = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(parser_options,
							  GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(parser_options,
							  GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(parser_options,
							    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(parser_options, fallback);
	return NULL;
}

void message_gmime_ensure(void)
{
	static GOnce once = G_ONCE_INIT;

	g_once(&once, message_gmime_init, NULL);
}

void parse_limits_default(struct parse_limits *limits)
{
	limits->max_mime_depth = PARSE_DEFAULT_MIME_DEPTH;
	limits->max_mime_parts = PARSE_DEFAULT_MIME_PARTS;
	limits->max_header_bytes = PARSE_DEFAULT_HEADER_BYTES;
}

/* ---- accessors ---- */

int parsed_message_has_headers(const struct parsed_message *msg) { return msg->has_headers; }
const char *parsed_message_from(const struct parsed_message *msg) { return msg->from; }
const char *parsed_message_id(const struct parsed_message *msg) { return msg->message_id; }
const char *parsed_message_in_reply_to(const struct parsed_message *msg) { return msg->in_reply_to; }
const char *parsed_message_subject(const struct parsed_message *msg) { return msg->subject; }
int parsed_message_auto_submitted(const struct parsed_message *msg) { return msg->auto_submitted; }
int parsed_message_precedence_bulk(const struct parsed_message *msg) { return msg->precedence_bulk; }
int parsed_message_is_report(const struct parsed_message *msg) { return msg->is_report; }
int parsed_message_text_from_html(const struct parsed_message *msg) { return msg->text_from_html; }

const char *const *parsed_message_references(const struct parsed_message *msg)
{
	static const char *const none[] = {NULL};

	/* GLib 2.74 leaves a null-terminated array's pdata NULL until its
	 * first element is added. */
	if (msg->references->pdata == NULL)
		return none;
	return (const char *const *)msg->references->pdata;
}

const char *parsed_message_header(const struct parsed_message *msg, const char *name)
{
	if (msg->mime == NULL)
		return NULL;
	return g_mime_object_get_header(GMIME_OBJECT(msg->mime), name);
}

const char *parsed_message_text(const struct parsed_message *msg, size_t *len_r)
{
	if (len_r != NULL)
		*len_r = msg->text->len;
	return msg->text->str;
}

size_t parsed_message_history_offset(const struct parsed_message *msg)
{
	return msg->history_marked ? msg->history_offset : msg->text->len;
}

unsigned parsed_message_attachment_count(const struct parsed_message *msg)
{
	return msg->attachments->len;
}

const struct parsed_attachment *
parsed_message_attachment(const struct parsed_message *msg, unsigned idx)
{
	struct attachment_rec *rec;

	if (idx >= msg->attachments->len)
		return NULL;
	rec = g_ptr_array_index(msg->attachments, idx);
	if (rec->part != NULL) {
		/* Decoded when first asked for: most readers only count
		 * attachments, and a 25 MB attachment decoded at once stayed in
		 * memory, unread, as long as the message. */
		gsize size;

		rec->bytes = part_content_bytes(rec->part);
		g_clear_object(&rec->part);
		rec->pub.data = g_bytes_get_data(rec->bytes, &size);
		rec->pub.size = size;
	}
	return &rec->pub;
}

static void attachment_rec_free(gpointer p)
{
	struct attachment_rec *rec = p;

	g_free(rec->name);
	g_free(rec->content_type);
	if (rec->bytes != NULL)
		g_bytes_unref(rec->bytes);
	g_clear_object(&rec->part);
	g_free(rec);
}

void parsed_message_free(struct parsed_message **msgp)
{
	struct parsed_message *msg = *msgp;

	if (msg == NULL)
		return;
	*msgp = NULL;
	if (msg->mime != NULL)
		g_object_unref(msg->mime);
	if (msg->borrowed != NULL) {
		(void)g_byte_array_steal(msg->borrowed, NULL); /* not ours to free */
		g_byte_array_unref(msg->borrowed);
	}
	g_free(msg->from);
	g_free(msg->message_id);
	g_free(msg->in_reply_to);
	g_free(msg->subject);
	g_ptr_array_free(msg->references, TRUE);
	g_string_free(msg->text, TRUE);
	g_ptr_array_free(msg->attachments, TRUE);
	g_free(msg);
}

static struct attachment_rec *attachment_rec_add(struct parsed_message *msg, const char *name,
					       const char *content_type, int from_tnef)
{
	struct attachment_rec *rec = g_new0(struct attachment_rec, 1);
	char fallback[32];

	g_snprintf(fallback, sizeof(fallback), "attachment-%u", msg->attachments->len + 1);
	rec->name = parse_safe_filename(name, fallback);
	rec->content_type = g_ascii_strdown(content_type != NULL ? content_type
					    : "application/octet-stream", -1);
	rec->pub.name = rec->name;
	rec->pub.content_type = rec->content_type;
	rec->pub.from_tnef = from_tnef;
	g_ptr_array_add(msg->attachments, rec);
	return rec;
}

void message_add_attachment(struct parsed_message *msg, const char *name,
			    const char *content_type, GBytes *bytes, int from_tnef)
{
	struct attachment_rec *rec = attachment_rec_add(msg, name, content_type, from_tnef);
	gsize size;

	rec->bytes = bytes;
	rec->pub.data = g_bytes_get_data(bytes, &size);
	rec->pub.size = size;
}

/* An attachment of the MIME tree, decoded when first asked for. */
static void message_add_attachment_part(struct parsed_message *msg, const char *name,
					const char *content_type, GMimePart *part)
{
	struct attachment_rec *rec = attachment_rec_add(msg, name, content_type, 0);

	rec->part = g_object_ref(part);
}

/* Appends a piece of body text; a separating line break between pieces.
 * history (SIZE_MAX: none) is an offset into piece. */
static void message_append_text(struct parsed_message *msg, const char *piece,
				size_t history, int from_html)
{
	if (msg->text->len > 0 && msg->text->str[msg->text->len - 1] != '\n')
		g_string_append_c(msg->text, '\n');
	if (msg->text->len > 0)
		g_string_append_c(msg->text, '\n');
	if (history != SIZE_MAX && !msg->history_marked) {
		msg->history_offset = msg->text->len + history;
		msg->history_marked = 1;
	}
	if (msg->text->len == 0)
		msg->text_from_html = from_html;
	g_string_append(msg->text, piece);
}

static int text_blank(const GString *text)
{
	for (size_t i = 0; i < text->len; i++)
		if (!g_ascii_isspace(text->str[i]))
			return 0;
	return 1;
}

/* ---- raw-byte checks ---- */

/* Length of the header block (up to the empty line), or len if none. */
static size_t raw_header_length(const char *data, size_t len, size_t bound)
{
	size_t limit = len < bound + 4 ? len : bound + 4;

	for (size_t i = 0; i + 1 < limit; i++) {
		if (data[i] != '\n')
			continue;
		if (data[i + 1] == '\n')
			return i + 1;
		if (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n')
			return i + 1;
	}
	return limit < len ? limit : len;
}

/* Case-insensitive count of "multipart/" in the data, stopping past max. */
static int raw_multipart_count(const char *data, size_t len, int max)
{
	static const char needle[] = "multipart/";
	int count = 0;

	for (size_t i = 0; i + sizeof(needle) - 1 <= len; i++) {
		if ((data[i] | 0x20) != 'm')
			continue;
		if (g_ascii_strncasecmp(data + i, needle, sizeof(needle) - 1) == 0 &&
		    ++count > max)
			break;
	}
	return count;
}

static int is_field_name_char(unsigned char c)
{
	return c > 32 && c < 127 && c != ':';
}

/* Longest boundary looked at (RFC 2046 allows 70 characters). */
#define RAW_BOUNDARY_MAX 200

/* Count of part delimiter lines ("--" and a boundary declared somewhere in
 * the data, not the closing "--boundary--"), stopping past max: GMime builds
 * every part before the walk can count them, so 100,000 tiny parts under
 * one multipart header would cost seconds and hundreds of megabytes.  The
 * boundaries are the values of "boundary=" parameters (quoted or token). */
static int raw_delimiter_count(const char *data, size_t len, int max)
{
	static const char needle[] = "boundary=";
	GHashTable *bounds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int count = 0;

	for (size_t i = 0; i + sizeof(needle) - 1 < len; i++) {
		size_t start, end;

		if ((data[i] | 0x20) != 'b' ||
		    g_ascii_strncasecmp(data + i, needle, sizeof(needle) - 1) != 0)
			continue;
		start = i + sizeof(needle) - 1;
		if (data[start] == '"') {
			start++;
			for (end = start; end < len && data[end] != '"' && data[end] != '\n'; end++)
				;
		} else {
			for (end = start; end < len && (unsigned char)data[end] > ' ' &&
					  data[end] != ';' && data[end] != '"'; end++)
				;
		}
		if (end > start && end - start <= RAW_BOUNDARY_MAX &&
		    g_hash_table_size(bounds) <= (guint)max)
			g_hash_table_add(bounds, g_strndup(data + start, end - start));
		i = end > i ? end - 1 : i;
	}
	for (size_t i = 0; i < len && count <= max && g_hash_table_size(bounds) > 0;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - data) : len, stop = end;

		if (end - i >= 3 && data[i] == '-' && data[i + 1] == '-' &&
		    end - i - 2 <= RAW_BOUNDARY_MAX + 2) {
			while (stop > i + 2 && g_ascii_isspace(data[stop - 1]))
				stop--;
			char *b = g_strndup(data + i + 2, stop - i - 2);
			if (g_hash_table_contains(bounds, b))
				count++;
			g_free(b);
		}
		i = end + 1;
	}
	g_hash_table_destroy(bounds);
	return count;
}

/* Does the data open with an RFC 5322 header block?  Every line up to the
 * empty line must be a field or a continuation, and the fields must be
 * ones a message has (two known ones, or one that only messages carry). */
static int raw_has_header_block(const char *data, size_t len, size_t bound)
{
	static const char *const known[] = {
		"from", "to", "cc", "subject", "date", "reply-to", "in-reply-to",
		"references", "sender", "x-mailer", "user-agent", "delivered-to",
		"content-transfer-encoding", "thread-topic", "thread-index", NULL};
	static const char *const strong[] = {
		"received", "mime-version", "content-type", "message-id",
		"return-path", "dkim-signature", "authentication-results", NULL};
	size_t pos = 0, limit = len < bound ? len : bound;
	int lines = 0, known_count = 0, strong_count = 0;

	if (limit >= 5 && memcmp(data, "From ", 5) == 0) { /* mbox separator */
		const char *nl = memchr(data, '\n', limit);
		if (nl == NULL)
			return 0;
		pos = nl - data + 1;
	}
	while (pos < limit) {
		const char *line = data + pos, *nl;
		size_t line_len, name_len = 0;

		nl = memchr(line, '\n', limit - pos);
		line_len = nl != NULL ? (size_t)(nl - line) : limit - pos;
		pos += line_len + 1;
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		if (line_len == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t') {
			if (lines == 0)
				return 0;
			continue;
		}
		while (name_len < line_len && is_field_name_char(line[name_len]))
			name_len++;
		if (name_len == 0 || name_len >= line_len || line[name_len] != ':')
			return 0;
		lines++;
		for (int k = 0; known[k] != NULL; k++)
			if (strlen(known[k]) == name_len &&
			    g_ascii_strncasecmp(line, known[k], name_len) == 0)
				known_count++;
		for (int k = 0; strong[k] != NULL; k++)
			if (strlen(strong[k]) == name_len &&
			    g_ascii_strncasecmp(line, strong[k], name_len) == 0)
				strong_count++;
	}
	return lines > 0 && (strong_count > 0 || known_count >= 2);
}

/* ---- the MIME walk ---- */

static GBytes *part_content_bytes(GMimePart *part)
{
	GMimeDataWrapper *wrapper = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *array;
	GBytes *bytes;

	if (wrapper == NULL)
		return g_bytes_new(NULL, 0);
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(wrapper, mem);
	/* The decoded bytes change hands, not copied: a copy doubled the
	 * memory an attachment takes while it is read. */
	array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_object_unref(mem);
	bytes = g_byte_array_free_to_bytes(array);
	return bytes;
}

static GBytes *object_serialized(GMimeObject *obj)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *array;
	GBytes *bytes;

	g_mime_object_write_to_stream(obj, NULL, mem);
	array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	bytes = g_bytes_new(array->data, array->len);
	g_object_unref(mem);
	return bytes;
}

static int walk_check_part(struct walk *w, GMimeObject *obj, int depth)
{
	GMimeHeaderList *headers = g_mime_object_get_header_list(obj);
	size_t bytes = 0;
	int count;

	if (depth > w->limits->max_mime_depth)
		return imi_fail(w->error_r, IMI_TOOBIG,
				"MIME nesting deeper than %d levels (max_mime_depth)",
				w->limits->max_mime_depth);
	if (++w->parts > w->limits->max_mime_parts)
		return imi_fail(w->error_r, IMI_TOOBIG,
				"more than %d MIME parts (max_mime_parts)",
				w->limits->max_mime_parts);
	count = headers != NULL ? g_mime_header_list_get_count(headers) : 0;
	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);

		bytes += (name ? strlen(name) : 0) + (raw ? strlen(raw) : 0) + 2;
	}
	if (bytes > w->limits->max_header_bytes)
		return imi_fail(w->error_r, IMI_TOOBIG,
				"a MIME part has %zu header bytes, more than %zu (max_header_bytes)",
				bytes, w->limits->max_header_bytes);
	return IMI_OK;
}

static char *object_mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *type, *lower;

	if (ct == NULL)
		return g_strdup("text/plain");
	type = g_mime_content_type_get_mime_type(ct);
	lower = g_ascii_strdown(type, -1);
	g_free(type);
	return lower;
}

static int is_tnef(const char *type, const char *filename)
{
	return strcmp(type, "application/ms-tnef") == 0 ||
	       strcmp(type, "application/vnd.ms-tnef") == 0 ||
	       (filename != NULL && g_ascii_strcasecmp(filename, "winmail.dat") == 0);
}

static int walk_leaf(struct walk *w, GMimePart *part, int body_allowed)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	char *type = object_mime_type(obj);
	const char *filename = g_mime_part_get_filename(part);
	int attachment = g_mime_part_is_attachment(part) || filename != NULL;
	GBytes *bytes;
	int ret = IMI_OK;

	if (w->inside_attached > 0) {
		/* the attached message is listed whole */
		g_free(type);
		return IMI_OK;
	}
	if (body_allowed && !attachment &&
	    (strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0)) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		const char *charset = g_mime_content_type_get_parameter(ct, "charset");
		gsize size;
		const char *data;
		char *text;

		bytes = part_content_bytes(part);
		data = g_bytes_get_data(bytes, &size);
		text = parse_text_to_utf8(data, size, charset);

		if (strcmp(type, "text/html") == 0) {
			size_t history = SIZE_MAX;
			char *plain = NULL;

			ret = parse_html_to_text(text, strlen(text), &plain, &history, w->error_r);
			if (ret == IMI_OK)
				message_append_text(w->msg, plain, history, 1);
			g_free(plain);
		} else {
			const char *format = g_mime_content_type_get_parameter(ct, "format");
			const char *delsp = g_mime_content_type_get_parameter(ct, "delsp");

			if (format != NULL && g_ascii_strcasecmp(format, "flowed") == 0) {
				char *unflowed = parse_text_unflow(
					text, delsp != NULL && g_ascii_strcasecmp(delsp, "yes") == 0);
				g_free(text);
				text = unflowed;
			}
			message_append_text(w->msg, text, SIZE_MAX, 0);
		}
		g_free(text);
		g_bytes_unref(bytes);
		w->body_taken = 1;
	} else if (is_tnef(type, filename)) {
		gsize size;
		const char *data;
		char *body = NULL;
		int body_html = 0;

		bytes = part_content_bytes(part);
		data = g_bytes_get_data(bytes, &size);

		ret = message_tnef_read(w->msg, (const unsigned char *)data, size, &body,
					&body_html, w->error_r);
		if (ret == IMI_OK) {
			if (body != NULL && w->tnef_body == NULL) {
				w->tnef_body = g_string_new(body);
				w->tnef_body_html = body_html;
			}
			g_free(body);
			g_bytes_unref(bytes);
		} else if (ret == IMI_TEMPFAIL) {
			g_bytes_unref(bytes);
		} else {
			ret = IMI_OK;
			message_add_attachment(w->msg, filename != NULL ? filename : "winmail.dat",
					       type, bytes, 0);
		}
	} else {
		message_add_attachment_part(w->msg, filename, type, part);
		if (w->related_resource > 0 && g_mime_object_get_content_id(obj) != NULL) {
			struct attachment_rec *rec = g_ptr_array_index(
				w->msg->attachments, w->msg->attachments->len - 1);
			rec->pub.html_resource = 1;
		}
	}
	g_free(type);
	return ret;
}

static int walk_object(struct walk *w, GMimeObject *obj, int depth, int body_allowed);

static int bytes_blank(GBytes *bytes)
{
	gsize size;
	const char *data = g_bytes_get_data(bytes, &size);

	for (gsize i = 0; i < size; i++)
		if (!g_ascii_isspace(data[i]))
			return 0;
	return 1;
}

/* The child of a multipart/alternative that carries the body: text/plain
 * first (unless it is empty and there is more), else text/html, else the
 * first multipart (related html). */
static int alternative_choice(GMimeMultipart *mp)
{
	int count = g_mime_multipart_get_count(mp), html = -1, other = -1, plain = -1;

	for (int i = 0; i < count; i++) {
		GMimeObject *part = g_mime_multipart_get_part(mp, i);
		char *type = object_mime_type(part);

		if (plain < 0 && strcmp(type, "text/plain") == 0 && GMIME_IS_PART(part)) {
			GBytes *bytes = part_content_bytes(GMIME_PART(part));
			if (!bytes_blank(bytes))
				plain = i;
			g_bytes_unref(bytes);
		}
		if (html < 0 && strcmp(type, "text/html") == 0)
			html = i;
		if (other < 0 && g_str_has_prefix(type, "multipart/"))
			other = i;
		g_free(type);
	}
	return plain >= 0 ? plain : html >= 0 ? html : other;
}

static int walk_multipart(struct walk *w, GMimeMultipart *mp, int depth, int body_allowed)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
	const char *subtype = ct != NULL ? g_mime_content_type_get_media_subtype(ct) : "mixed";
	int count = g_mime_multipart_get_count(mp), chosen = -1, ret;
	int alternative = g_ascii_strcasecmp(subtype, "alternative") == 0;
	int related = g_ascii_strcasecmp(subtype, "related") == 0;

	if (alternative)
		chosen = alternative_choice(mp);
	for (int i = 0; i < count; i++) {
		int allowed = body_allowed;

		if (alternative) {
			GMimeObject *part = g_mime_multipart_get_part(mp, i);

			allowed = body_allowed && i == chosen && !w->body_taken;
			/* Another rendering of the same text (the HTML next to
			 * the plain text) is neither body nor attachment. */
			if (i != chosen && GMIME_IS_PART(part) &&
			    !g_mime_part_is_attachment(GMIME_PART(part)) &&
			    g_mime_part_get_filename(GMIME_PART(part)) == NULL) {
				GMimeContentType *pct = g_mime_object_get_content_type(part);

				if (pct != NULL && g_mime_content_type_is_type(pct, "text", "*"))
					continue;
			}
		} else if (related)
			allowed = body_allowed && i == 0;
		if (related && i > 0)
			w->related_resource++;
		ret = walk_object(w, g_mime_multipart_get_part(mp, i), depth + 1, allowed);
		if (related && i > 0)
			w->related_resource--;
		if (ret != IMI_OK)
			return ret;
	}
	return IMI_OK;
}

static int walk_object(struct walk *w, GMimeObject *obj, int depth, int body_allowed)
{
	int ret = walk_check_part(w, obj, depth);

	if (ret != IMI_OK)
		return ret;
	if (GMIME_IS_MULTIPART(obj))
		return walk_multipart(w, GMIME_MULTIPART(obj), depth, body_allowed);
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		char *type = object_mime_type(obj);
		const char *subject = inner != NULL ? g_mime_message_get_subject(inner) : NULL;
		char *name = g_strdup_printf("%s.eml", subject != NULL && *subject ? subject
					     : "message");

		if (inner != NULL) {
			GMimeObject *root = g_mime_message_get_mime_part(inner);

			w->inside_attached++;
			if (root != NULL)
				ret = walk_object(w, root, depth + 1, 0);
			w->inside_attached--;
			if (ret != IMI_OK) {
				g_free(type);
				g_free(name);
				return ret;
			}
			if (w->inside_attached == 0)
				message_add_attachment(w->msg, name, type,
						       object_serialized(GMIME_OBJECT(inner)), 0);
		}
		g_free(type);
		g_free(name);
		return IMI_OK;
	}
	if (GMIME_IS_PART(obj))
		return walk_leaf(w, GMIME_PART(obj), body_allowed);
	return IMI_OK;
}

/* ---- headers ---- */

static char *references_first(const char *value)
{
	GMimeReferences *refs;
	char *id = NULL;

	if (value == NULL)
		return NULL;
	refs = g_mime_references_parse(parser_options, value);
	if (refs != NULL && g_mime_references_length(refs) > 0)
		id = g_strdup(g_mime_references_get_message_id(refs, 0));
	if (refs != NULL)
		g_mime_references_free(refs);
	return id;
}

static void message_read_headers(struct parsed_message *msg)
{
	GMimeObject *obj = GMIME_OBJECT(msg->mime);
	InternetAddressList *from = g_mime_message_get_from(msg->mime);
	const char *value;
	GMimeObject *root;

	if (from != NULL && internet_address_list_length(from) > 0) {
		InternetAddress *ia = internet_address_list_get_address(from, 0);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *members =
				internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
			ia = members != NULL && internet_address_list_length(members) > 0
				     ? internet_address_list_get_address(members, 0)
				     : NULL;
		}
		if (ia != NULL && INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(ia));
			if (addr != NULL && *addr != '\0')
				msg->from = g_strdup(addr);
		}
	}
	if ((value = g_mime_message_get_message_id(msg->mime)) != NULL && *value)
		msg->message_id = g_strdup(value);
	msg->in_reply_to = references_first(g_mime_object_get_header(obj, "In-Reply-To"));
	if ((value = g_mime_object_get_header(obj, "References")) != NULL) {
		GMimeReferences *refs = g_mime_references_parse(parser_options, value);
		int n = refs != NULL ? g_mime_references_length(refs) : 0;

		for (int i = 0; i < n; i++)
			g_ptr_array_add(msg->references,
					g_strdup(g_mime_references_get_message_id(refs, i)));
		if (refs != NULL)
			g_mime_references_free(refs);
	}
	if ((value = g_mime_message_get_subject(msg->mime)) != NULL)
		msg->subject = parse_text_to_utf8(value, strlen(value), "utf-8");
	if ((value = g_mime_object_get_header(obj, "Auto-Submitted")) != NULL) {
		char *v = g_strstrip(g_strdup(value));
		msg->auto_submitted = g_ascii_strncasecmp(v, "no", 2) != 0 ||
				      (v[2] != '\0' && v[2] != ';' && v[2] != ' ');
		g_free(v);
	}
	if ((value = g_mime_object_get_header(obj, "Precedence")) != NULL) {
		char *v = g_strstrip(g_ascii_strdown(value, -1));
		msg->precedence_bulk = strcmp(v, "bulk") == 0 || strcmp(v, "junk") == 0 ||
				       strcmp(v, "list") == 0 || strcmp(v, "auto_reply") == 0;
		g_free(v);
	}
	root = g_mime_message_get_mime_part(msg->mime);
	if (root != NULL) {
		char *type = object_mime_type(root);
		msg->is_report = strcmp(type, "multipart/report") == 0;
		g_free(type);
	}
}

/* ---- bare bodies ---- */

/* Does a bare body look like HTML?  Its first tag opens an HTML document
 * or block, or the first 4 KiB close a block the way only HTML does. */
static int bare_is_html(const char *data, size_t len)
{
	static const char *const tags[] = {"html", "!doctype", "?xml", "head", "body",
					   "div", "p", "span", "table", "br", "font",
					   "blockquote", "meta", "style", NULL};
	static const char *const closers[] = {"</div>", "</p>", "</blockquote>", "<br>",
					      "<br/>", "<br />", "</html>", "</body>", NULL};
	size_t i = 0, scan = len < 4096 ? len : 4096;
	int found = 0;

	if (len == 0)
		return 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && g_ascii_isspace(data[i]))
		i++;
	if (i < len && data[i] == '<') {
		i++;
		for (int k = 0; tags[k] != NULL; k++) {
			size_t n = strlen(tags[k]);

			if (i + n < len && g_ascii_strncasecmp(data + i, tags[k], n) == 0 &&
			    !g_ascii_isalnum(data[i + n]))
				return 1;
		}
	}
	for (const char *p = memchr(data, '<', scan); p != NULL && !found;
	     p = memchr(p + 1, '<', scan - (p + 1 - data))) {
		for (int k = 0; closers[k] != NULL && !found; k++) {
			size_t n = strlen(closers[k]);

			found = (size_t)(p - data) + n <= scan &&
				g_ascii_strncasecmp(p, closers[k], n) == 0;
		}
	}
	return found;
}

static int message_read_bare(struct parsed_message *msg, const char *data, size_t len,
			     char **error_r)
{
	char *text = parse_text_to_utf8(data, len, NULL);
	int ret = IMI_OK;

	if (bare_is_html(data, len)) {
		size_t history = SIZE_MAX;
		char *plain = NULL;

		ret = parse_html_to_text(text, strlen(text), &plain, &history, error_r);
		if (ret == IMI_OK)
			message_append_text(msg, plain, history, 1);
		g_free(plain);
	} else {
		message_append_text(msg, text, SIZE_MAX, 0);
	}
	g_free(text);
	return ret;
}

/* ---- entry ---- */

int parsed_message_read(const char *data, size_t len, const struct parse_limits *limits,
			struct parsed_message **msg_r, char **error_r)
{
	struct parse_limits defaults;
	struct parsed_message *msg;
	size_t header_len;
	int ret = IMI_OK;

	*msg_r = NULL;
	if (limits == NULL) {
		parse_limits_default(&defaults);
		limits = &defaults;
	}
	message_gmime_ensure();

	/* 1. bounds on the raw bytes */
	header_len = raw_header_length(data, len, limits->max_header_bytes);
	if (header_len > limits->max_header_bytes)
		return imi_fail(error_r, IMI_TOOBIG,
				"the header block is over %zu bytes (max_header_bytes)",
				limits->max_header_bytes);
	if (raw_multipart_count(data, len, limits->max_mime_parts) > limits->max_mime_parts)
		return imi_fail(error_r, IMI_TOOBIG,
				"more than %d multipart headers (max_mime_parts)",
				limits->max_mime_parts);
	if (raw_delimiter_count(data, len, limits->max_mime_parts) > limits->max_mime_parts)
		return imi_fail(error_r, IMI_TOOBIG,
				"more than %d MIME parts (max_mime_parts)",
				limits->max_mime_parts);

	msg = g_new0(struct parsed_message, 1);
	msg->references = g_ptr_array_new_null_terminated(0, g_free, TRUE);
	msg->text = g_string_new(NULL);
	msg->attachments = g_ptr_array_new_with_free_func(attachment_rec_free);

	/* 2. header block or bare body */
	if (!raw_has_header_block(data, len, limits->max_header_bytes)) {
		ret = message_read_bare(msg, data, len, error_r);
	} else {
		/* 3. GMime */
		/* GMime parses the caller's bytes where they are: a copy into
		 * its own stream was one more whole message in memory (35 MB
		 * for a 25 MB attachment).  The walk below reads the contents
		 * of body parts through that stream; an attachment's are read
		 * when it is first asked for (parsed_message_attachment), so
		 * the data must outlive msg for that (message.h).  Header
		 * fields GMime keeps in memory of its own.  The stream never
		 * writes. */
		GByteArray *borrowed = g_byte_array_new_take((guint8 *)(uintptr_t)data, len);
		GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(borrowed);
		GMimeParser *parser;

		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
		msg->borrowed = borrowed;
		parser = g_mime_parser_new_with_stream(stream);
		struct walk w = {.limits = limits, .msg = msg, .error_r = error_r};
		GMimeObject *root;

		g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
		if (len >= 5 && memcmp(data, "From ", 5) == 0)
			g_mime_parser_set_format(parser, GMIME_FORMAT_MBOX);
		msg->mime = g_mime_parser_construct_message(parser, parser_options);
		g_object_unref(parser);
		g_object_unref(stream);
		if (msg->mime == NULL) {
			/* Not readable as a message after all: keep it as text. */
			ret = message_read_bare(msg, data, len, error_r);
		} else {
			msg->has_headers = 1;
			message_read_headers(msg);
			/* 4. the walk */
			root = g_mime_message_get_mime_part(msg->mime);
			if (root != NULL)
				ret = walk_object(&w, root, 1, 1);
			if (ret == IMI_OK && w.tnef_body != NULL &&
			    (!w.body_taken || text_blank(msg->text))) {
				g_string_truncate(msg->text, 0);
				msg->history_marked = 0;
				message_append_text(msg, w.tnef_body->str, SIZE_MAX,
						    w.tnef_body_html);
			}
			if (w.tnef_body != NULL)
				g_string_free(w.tnef_body, TRUE);
		}
	}
	if (ret != IMI_OK) {
		parsed_message_free(&msg);
		return ret;
	}
	*msg_r = msg;
	return IMI_OK;
}

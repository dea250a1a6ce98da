/*
 * test_message.c: reading one message: MIME bounds, headers, automatic
 * mail, attachment names, a winmail.dat built here byte by byte after the
 * TNEF layout, NUL bytes and invalid UTF-8.
 */
#include "testutil.h"

#include "parser/message.h"

#include <unistd.h>

static int read_message(const char *data, size_t len, const struct parse_limits *limits,
			struct parsed_message **msg_r, char **error_r)
{
	*error_r = NULL;
	return parsed_message_read(data, len, limits, msg_r, error_r);
}

/* ---- bounds ---- */

static char *nested_message(int depth)
{
	GString *s = g_string_new("From: a@example.org\nSubject: deep\nMIME-Version: 1.0\n");

	for (int i = 0; i < depth; i++)
		g_string_append_printf(s, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	g_string_append(s, "Content-Type: text/plain\n\ndeep text\n");
	for (int i = depth - 1; i >= 0; i--)
		g_string_append_printf(s, "--b%d--\n", i);
	return g_string_free(s, FALSE);
}

static void test_message_depth_bound(void **state)
{
	struct parsed_message *msg = NULL;
	char *error = NULL, *data = nested_message(40);
	int ret = read_message(data, strlen(data), NULL, &msg, &error);

	check_int("depth 40 status", ret, IMI_TOOBIG);
	check_int("error names the bound", error != NULL && strstr(error, "max_mime_depth") != NULL, 1);
	check_int("no message on error", msg == NULL, 1);
	g_free(error);
	g_free(data);

	data = nested_message(10);
	ret = read_message(data, strlen(data), NULL, &msg, &error);
	check_int("depth 10 status", ret, IMI_OK);
	/* the line end before a boundary belongs to the boundary (RFC 2046) */
	check_str("depth 10 text", parsed_message_text(msg, NULL), "deep text");
	parsed_message_free(&msg);
	check_int("free clears the pointer", msg == NULL, 1);
	g_free(data);
}

static void test_message_parts_and_header_bounds(void **state)
{
	struct parse_limits limits;
	struct parsed_message *msg = NULL;
	GString *s = g_string_new("From: a@example.org\nMIME-Version: 1.0\n"
				  "Content-Type: multipart/mixed; boundary=b\n\n");
	char *error = NULL;
	int ret;

	for (int i = 0; i < 10; i++)
		g_string_append_printf(s, "--b\nContent-Type: application/octet-stream\n"
					  "Content-Disposition: attachment; filename=f%d.bin\n\nx\n", i);
	g_string_append(s, "--b--\n");
	parse_limits_default(&limits);
	limits.max_mime_parts = 5;
	ret = read_message(s->str, s->len, &limits, &msg, &error);
	check_int("11 parts over 5 status", ret, IMI_TOOBIG);
	check_int("error names max_mime_parts", error != NULL && strstr(error, "max_mime_parts") != NULL, 1);
	g_free(error);
	ret = read_message(s->str, s->len, NULL, &msg, &error);
	check_int("11 parts default status", ret, IMI_OK);
	check_int("attachments", parsed_message_attachment_count(msg), 10);
	parsed_message_free(&msg);

	/* a header block over the bound */
	g_string_assign(s, "From: a@example.org\nSubject: big\n");
	for (int i = 0; i < 4000; i++)
		g_string_append(s, "X-Filler: 0123456789012345678901234567890123456789012345678901234567890123456789\n");
	g_string_append(s, "\nbody\n");
	ret = read_message(s->str, s->len, NULL, &msg, &error);
	check_int("header bytes status", ret, IMI_TOOBIG);
	check_int("error names max_header_bytes", error != NULL && strstr(error, "max_header_bytes") != NULL, 1);
	g_free(error);

	/* a part's header over a small bound */
	g_string_assign(s, "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n");
	for (int i = 0; i < 20; i++)
		g_string_append(s, "X-Part-Filler: 01234567890123456789012345678901234567890123456789\n");
	g_string_append(s, "Content-Type: text/plain\n\nhi\n--b--\n");
	limits.max_mime_parts = 500;
	limits.max_header_bytes = 600;
	ret = read_message(s->str, s->len, &limits, &msg, &error);
	check_int("part header status", ret, IMI_TOOBIG);
	g_free(error);
	g_string_free(s, TRUE);
}

/* Many parts under one multipart header are refused before GMime builds
 * them: the delimiter lines of the declared boundary are counted on the
 * raw bytes (quoted or not, with transport padding); lines that only look
 * like delimiters are not. */
static void test_message_raw_delimiter_bound(void **state)
{
	struct parse_limits limits;
	struct parsed_message *msg = NULL;
	GString *s = g_string_new("From: a@example.org\nMIME-Version: 1.0\n"
				  "Content-Type: multipart/mixed; boundary=\"=_b 1\"\n\n");
	char *error = NULL;
	int ret;

	(void)state;
	g_string_append(s, "--=_b 1\n\nQ1: yes\n-- \n--=_b\n--=_b 12\n--other\n");
	for (int i = 0; i < 5; i++)
		g_string_append(s, "--=_b 1  \r\n\nx\n");
	g_string_append(s, "--=_b 1--\n");
	parse_limits_default(&limits);
	/* 6 parts and their container: 7; a look-alike counted would make 8 */
	limits.max_mime_parts = 7;
	ret = read_message(s->str, s->len, &limits, &msg, &error);
	check_int("6 parts, bound 7: status", ret, IMI_OK);
	check_int("6 parts, bound 7: text", strstr(parsed_message_text(msg, NULL), "Q1: yes") != NULL, 1);
	parsed_message_free(&msg);
	g_free(error);
	limits.max_mime_parts = 5;
	ret = read_message(s->str, s->len, &limits, &msg, &error);
	check_int("6 parts, bound 5: status", ret, IMI_TOOBIG);
	check_int("error names max_mime_parts", error != NULL && strstr(error, "max_mime_parts") != NULL, 1);
	g_free(error);
	g_string_free(s, TRUE);
}

/* ---- headers and automatic mail ---- */

static void test_message_headers(void **state)
{
	static const char data[] =
		"From: =?ISO-8859-1?Q?J=FCrgen?= <Juergen@Example.DE>\n"
		"To: imi@example.eu\n"
		"Subject: =?UTF-8?B?UmU6IEFuZnJhZ2Ugw7xiZXIgR3LDvMOfZQ==?=\n"
		"Message-ID: <reply-1@example.de>\n"
		"In-Reply-To: <req-7@imi.example.eu>\n"
		"References: <req-1@imi.example.eu>\n <req-7@imi.example.eu>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n\nJa.\n";
	struct parsed_message *msg = NULL;
	const char *const *refs;
	char *error = NULL;

	check_int("status", read_message(data, sizeof(data) - 1, NULL, &msg, &error), IMI_OK);
	check_int("has headers", parsed_message_has_headers(msg), 1);
	check_str("from", parsed_message_from(msg), "Juergen@Example.DE");
	check_str("subject", parsed_message_subject(msg), "Re: Anfrage über Grüße");
	check_str("message-id", parsed_message_id(msg), "reply-1@example.de");
	check_str("in-reply-to", parsed_message_in_reply_to(msg), "req-7@imi.example.eu");
	refs = parsed_message_references(msg);
	check_str("references[0]", refs[0], "req-1@imi.example.eu");
	check_str("references[1]", refs[1], "req-7@imi.example.eu");
	check_int("references end", refs[2] == NULL, 1);
	check_int("auto-submitted", parsed_message_auto_submitted(msg), 0);
	check_int("precedence", parsed_message_precedence_bulk(msg), 0);
	check_int("report", parsed_message_is_report(msg), 0);
	check_str("header", parsed_message_header(msg, "To"), "imi@example.eu");
	parsed_message_free(&msg);
}

struct auto_case {
	const char *name;
	const char *headers;
	int auto_submitted, bulk, report;
};

static const struct auto_case auto_cases[] = {
	{"auto-replied", "Auto-Submitted: auto-replied\n", 1, 0, 0},
	{"auto-submitted no", "Auto-Submitted: no\n", 0, 0, 0},
	{"precedence bulk", "Precedence: bulk\n", 0, 1, 0},
	{"precedence list", "Precedence: List\n", 0, 1, 0},
	{"precedence first-class", "Precedence: first-class\n", 0, 0, 0},
	{"dsn", "Content-Type: multipart/report; report-type=delivery-status; boundary=r\n", 0, 0, 1},
};

static void test_message_automatic(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(auto_cases); i++) {
		const struct auto_case *c = &auto_cases[i];
		char *data = g_strdup_printf("From: a@example.org\nSubject: x\nMIME-Version: 1.0\n%s\n%s",
					     c->headers, c->report ?
					     "--r\nContent-Type: text/plain\n\nfailed\n--r\n"
					     "Content-Type: message/delivery-status\n\nStatus: 5.1.1\n--r--\n"
					     : "hi\n");
		struct parsed_message *msg = NULL;
		char *error = NULL, *field = g_strdup_printf("%s: status", c->name);

		check_int(field, read_message(data, strlen(data), NULL, &msg, &error), IMI_OK);
		g_free(field);
		field = g_strdup_printf("%s: auto-submitted", c->name);
		check_int(field, parsed_message_auto_submitted(msg), c->auto_submitted);
		g_free(field);
		field = g_strdup_printf("%s: precedence bulk", c->name);
		check_int(field, parsed_message_precedence_bulk(msg), c->bulk);
		g_free(field);
		field = g_strdup_printf("%s: report", c->name);
		check_int(field, parsed_message_is_report(msg), c->report);
		g_free(field);
		parsed_message_free(&msg);
		g_free(data);
	}
}

/* ---- attachments ---- */

struct name_case {
	const char *given;
	const char *want;
};

static const struct name_case name_cases[] = {
	{"../../etc/passwd", "passwd"},
	{"..\\..\\windows\\system.ini", "system.ini"},
	{"\x01" "evil\x1b[31m.txt", "evil[31m.txt"},
	{".htaccess", "htaccess"},
	{"..", "fallback"},
	{"", "fallback"},
	{"invoice\xE2\x80\xAE" "fdp.exe", "invoicefdp.exe"},
	{"a:b|c?.doc", "a_b_c_.doc"},
	{"r\xC3\xA9sum\xC3\xA9 \xC3\xBC.pdf", "r\xC3\xA9sum\xC3\xA9 \xC3\xBC.pdf"},
	{"bad\xFF" "byte.txt", "badbyte.txt"},
};

static void test_message_safe_names(void **state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(name_cases); i++) {
		char *got = parse_safe_filename(name_cases[i].given, "fallback");
		char *field = g_strdup_printf("name %zu", i);

		check_str(field, got, name_cases[i].want);
		g_free(field);
		g_free(got);
	}
	{
		GString *longname = g_string_new(NULL);
		char *got;

		for (int i = 0; i < 100; i++)
			g_string_append(longname, "\xC3\xA9"); /* 200 bytes of é */
		g_string_append(longname, ".pdf");
		got = parse_safe_filename(longname->str, "fallback");
		check_int("long name bounded", strlen(got) <= PARSE_ATTACHMENT_NAME_MAX, 1);
		check_int("long name keeps extension", g_str_has_suffix(got, ".pdf"), 1);
		check_int("long name valid utf-8", g_utf8_validate(got, -1, NULL), 1);
		g_free(got);
		g_string_free(longname, TRUE);
	}
}

static void test_message_attachments(void **state)
{
	static const char data[] =
		"From: a@example.org\nSubject: files\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\nContent-Type: text/plain; charset=utf-8\n\nSee attached.\n"
		"--b\nContent-Type: application/zip; name=\"../../etc/passwd\"\n"
		"Content-Disposition: attachment; filename=\"../../etc/passwd\"\n"
		"Content-Transfer-Encoding: base64\n\nUEsDBGNvbXByZXNzZWQtYnl0ZXM=\n"
		"--b\nContent-Type: application/pdf\n"
		"Content-Disposition: attachment; filename*=UTF-8''Bericht%20%C3%BCber%0Ax.pdf\n\n%PDF-1.4\n"
		"--b\nContent-Type: message/rfc822\n\nFrom: old@example.org\nSubject: Old\n\nold body\n"
		"--b--\n";
	struct parsed_message *msg = NULL;
	const struct parsed_attachment *a;
	char *error = NULL;

	check_int("status", read_message(data, sizeof(data) - 1, NULL, &msg, &error), IMI_OK);
	check_str("body", parsed_message_text(msg, NULL), "See attached.");
	check_int("attachments", parsed_message_attachment_count(msg), 3);
	a = parsed_message_attachment(msg, 0);
	check_str("zip name", a->name, "passwd");
	check_str("zip type", a->content_type, "application/zip");
	check_int("zip size (stored, not inflated)", a->size, 20);
	check_int("zip bytes", memcmp(a->data, "PK\x03\x04" "compressed-bytes", 20), 0);
	a = parsed_message_attachment(msg, 1);
	check_str("rfc 2231 name, control char dropped", a->name, "Bericht überx.pdf");
	a = parsed_message_attachment(msg, 2);
	check_str("attached message name", a->name, "Old.eml");
	check_str("attached message type", a->content_type, "message/rfc822");
	check_int("past the end", parsed_message_attachment(msg, 3) == NULL, 1);
	parsed_message_free(&msg);
}

/* ---- TNEF ---- */

static void le16(GByteArray *b, unsigned v)
{
	guint8 x[2] = {v & 0xFF, (v >> 8) & 0xFF};
	g_byte_array_append(b, x, 2);
}

static void le32(GByteArray *b, guint32 v)
{
	guint8 x[4] = {v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF};
	g_byte_array_append(b, x, 4);
}

/* One TNEF attribute: level, id (type << 16 | tag), length, data, and the
 * 16-bit sum of the data bytes. */
static void tnef_attr(GByteArray *b, guint8 level, guint32 id, const void *data, guint32 len)
{
	unsigned sum = 0;

	g_byte_array_append(b, &level, 1);
	le32(b, id);
	le32(b, len);
	g_byte_array_append(b, data, len);
	for (guint32 i = 0; i < len; i++)
		sum += ((const guint8 *)data)[i];
	le16(b, sum & 0xFFFF);
}

/* A winmail.dat as Outlook lays it out: signature, key, the message
 * attributes (version, code page, class, body), then per attachment its
 * rendering, title and data. */
static GByteArray *tnef_build(void)
{
	static const guint8 version[] = {0x00, 0x00, 0x01, 0x00};
	static const guint8 codepage[] = {0xE4, 0x04, 0, 0, 0, 0, 0, 0}; /* 1252 */
	static const char class[] = "IPM.Microsoft Mail.Note";
	static const char body[] = "Ja, best\xE4tigt.\r\n\r\n-----Urspr\xFCngliche Nachricht-----\r\nVon: IMI\r\n";
	static const guint8 rend[] = {1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0};
	static const char title[] = "../Bericht.txt";
	static const char content[] = "attachment body";
	GByteArray *b = g_byte_array_new();

	le32(b, 0x223E9F78);
	le16(b, 0x0001);
	tnef_attr(b, 1, 0x00089006, version, sizeof(version));     /* attTnefVersion */
	tnef_attr(b, 1, 0x00069007, codepage, sizeof(codepage));   /* attOemCodepage */
	tnef_attr(b, 1, 0x00078008, class, sizeof(class));         /* attMessageClass */
	tnef_attr(b, 1, 0x0002800C, body, sizeof(body) - 1);       /* attBody */
	tnef_attr(b, 2, 0x00069002, rend, sizeof(rend));           /* attAttachRenddata */
	tnef_attr(b, 2, 0x00018010, title, sizeof(title));         /* attAttachTitle */
	tnef_attr(b, 2, 0x0006800F, content, sizeof(content) - 1); /* attAttachData */
	return b;
}

static void test_message_tnef(void **state)
{
	GByteArray *tnef = tnef_build();
	char *b64 = g_base64_encode(tnef->data, tnef->len);
	char *data = g_strdup_printf(
		"From: outlook@example.org\nSubject: RE: Anfrage\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n"
		"Content-Disposition: attachment; filename=\"winmail.dat\"\n"
		"Content-Transfer-Encoding: base64\n\n%s\n--b--\n", b64);
	struct parsed_message *msg = NULL;
	const struct parsed_attachment *a;
	char *error = NULL;

	check_int("status", read_message(data, strlen(data), NULL, &msg, &error), IMI_OK);
	check_str("body from the winmail.dat",
		  parsed_message_text(msg, NULL),
		  "Ja, bestätigt.\n\n-----Ursprüngliche Nachricht-----\nVon: IMI\n");
	check_int("attachments", parsed_message_attachment_count(msg), 1);
	a = parsed_message_attachment(msg, 0);
	check_str("tnef attachment name", a->name, "Bericht.txt");
	check_int("tnef attachment size", a->size, 15);
	check_int("tnef attachment bytes", memcmp(a->data, "attachment body", 15), 0);
	check_int("tnef flag", a->from_tnef, 1);
	parsed_message_free(&msg);
	g_free(data);

	/* a damaged checksum and a truncated tail: the sound part is read,
	 * and libytnef is given nothing to print about */
	{
		GByteArray *bad = tnef_build();
		char *out_path = g_strdup("tests/tmp/tnef-stdout-XXXXXX");
		char *bad64, *printed = NULL;
		int saved, fd;

		bad->data[bad->len - 1] ^= 0x55;      /* last checksum */
		g_byte_array_append(bad, (const guint8 *)"\x02\x0F", 2); /* a cut attribute */
		bad64 = g_base64_encode(bad->data, bad->len);
		data = g_strdup_printf(
			"From: outlook@example.org\nSubject: RE: Anfrage\nMIME-Version: 1.0\n"
			"Content-Type: multipart/mixed; boundary=b\n\n"
			"--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n"
			"Content-Transfer-Encoding: base64\n\n%s\n--b--\n", bad64);
		g_mkdir_with_parents("tests/tmp", 0700);
		fd = g_mkstemp(out_path);
		if (fd < 0)
			fail_msg("cannot create %s", out_path);
		fflush(stdout);
		saved = dup(1);
		dup2(fd, 1);
		check_int("damaged status", read_message(data, strlen(data), NULL, &msg, &error), IMI_OK);
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
		close(fd);
		g_file_get_contents(out_path, &printed, NULL, NULL);
		check_str("nothing printed", printed, "");
		check_int("damaged body read", g_str_has_prefix(parsed_message_text(msg, NULL), "Ja, bestätigt."), 1);
		check_str("damaged attachment read", parsed_message_attachment(msg, 0)->name, "Bericht.txt");
		parsed_message_free(&msg);
		g_free(printed);
		g_free(bad64);
		g_unlink(out_path);
		g_free(out_path);
		g_byte_array_free(bad, TRUE);
		g_free(data);
	}

	/* Outlook's usual pair: an empty text/plain beside the winmail.dat */
	data = g_strdup_printf(
		"From: outlook@example.org\nSubject: RE: Anfrage\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\nContent-Type: text/plain; charset=us-ascii\n\n\n"
		"--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n"
		"Content-Transfer-Encoding: base64\n\n%s\n--b--\n", b64);
	check_int("pair status", read_message(data, strlen(data), NULL, &msg, &error), IMI_OK);
	check_int("pair body from the winmail.dat",
		  g_str_has_prefix(parsed_message_text(msg, NULL), "Ja, bestätigt."), 1);
	parsed_message_free(&msg);
	g_free(data);

	/* not TNEF at all: kept as it came */
	data = g_strdup_printf(
		"From: outlook@example.org\nSubject: x\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n"
		"--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n\nnot tnef\n--b--\n");
	check_int("bad tnef status", read_message(data, strlen(data), NULL, &msg, &error), IMI_OK);
	check_int("bad tnef kept", parsed_message_attachment_count(msg), 1);
	check_str("bad tnef name", parsed_message_attachment(msg, 0)->name, "winmail.dat");
	check_int("bad tnef not from tnef", parsed_message_attachment(msg, 0)->from_tnef, 0);
	parsed_message_free(&msg);
	g_free(data);
	g_free(b64);
	g_byte_array_free(tnef, TRUE);
}

/* ---- bodies: bare, NUL bytes, invalid UTF-8, HTML ---- */

static void test_message_bare_and_bytes(void **state)
{
	static const char nul_body[] = "From: a@example.org\nSubject: x\n\nabc\0def\n";
	static const char bare[] = "Date: tomorrow would suit us\nplease confirm\n";
	struct parsed_message *msg = NULL;
	char *error = NULL;
	size_t len;
	const char *text;

	check_int("nul status", read_message(nul_body, sizeof(nul_body) - 1, NULL, &msg, &error), IMI_OK);
	text = parsed_message_text(msg, &len);
	check_str("nul replaced, nothing lost", text, "abc\xEF\xBF\xBD" "def\n");
	check_int("nul text length", len, strlen(text));
	parsed_message_free(&msg);

	check_int("bare status", read_message(bare, sizeof(bare) - 1, NULL, &msg, &error), IMI_OK);
	check_int("bare has no headers", parsed_message_has_headers(msg), 0);
	check_str("bare text", parsed_message_text(msg, NULL), bare);
	check_int("bare from", parsed_message_from(msg) == NULL, 1);
	parsed_message_free(&msg);

	check_int("crlf status", read_message("line one\r\nline two\r\n", 20, NULL, &msg, &error), IMI_OK);
	check_str("crlf text", parsed_message_text(msg, NULL), "line one\nline two\n");
	parsed_message_free(&msg);

	text = "caf\xC3\xA9 \xC3 \xE2\x82\xAC \xED\xA0\x80";
	{
		char *got = parse_text_to_utf8(text, strlen(text), "utf-8");

		check_int("invalid utf-8 made valid", g_utf8_validate(got, -1, NULL), 1);
		check_int("good characters kept", strstr(got, "caf\xC3\xA9") != NULL &&
			  strstr(got, "\xE2\x82\xAC") != NULL, 1);
		check_int("bad ones replaced", strstr(got, "\xEF\xBF\xBD") != NULL, 1);
		g_free(got);
	}
}

static void test_message_html(void **state)
{
	static const char data[] =
		"From: a@example.org\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
		"<html><head><style>p {color: red}</style><script>alert(1)</script></head><body>"
		"<p>First&nbsp;paragraph</p><p>Second<br>line</p><blockquote>quoted<br>two</blockquote>"
		"<div style=\"border:none;border-top:solid #B5C4DF 1.0pt\"><p><b>From:</b> x</p></div><p>old</p>"
		"</body></html>\n";
	struct parsed_message *msg = NULL;
	char *error = NULL;
	const char *text;
	size_t len;

	check_int("status", read_message(data, sizeof(data) - 1, NULL, &msg, &error), IMI_OK);
	text = parsed_message_text(msg, &len);
	check_int("from html", parsed_message_text_from_html(msg), 1);
	check_str("text", text, "First paragraph\n\nSecond\nline\n\n> quoted\n> two\n\nFrom: x\n\nold");
	len = parsed_message_history_offset(msg);
	while (text[len] == '\n')
		len++;
	check_int("history offset at the bordered division", len, strstr(text, "From: x") - text);
	parsed_message_free(&msg);
}

static void test_message_empty_plain_alternative(void **state)
{
	static const char data[] =
		"From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
		"Content-Type: multipart/alternative; boundary=b\n\n"
		"--b\nContent-Type: text/plain\n\n \n"
		"--b\nContent-Type: text/html\n\n<p>Only here</p>\n--b--\n";
	struct parsed_message *msg = NULL;
	char *error = NULL;

	check_int("status", read_message(data, sizeof(data) - 1, NULL, &msg, &error), IMI_OK);
	check_str("html used when the plain part is empty", parsed_message_text(msg, NULL),
		  "Only here");
	check_int("the empty alternative is no attachment",
		  parsed_message_attachment_count(msg), 0);
	parsed_message_free(&msg);
}

/* The alternative a client sends next to the text (the HTML of a Gmail or
 * Outlook reply) is not an attachment; a file beside them is, and an
 * alternative that is a named file stays one. */
static void test_message_alternative_not_attachment(void **state)
{
	static const char data[] =
		"From: a@example.org\nSubject: Re: x\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=m\n\n"
		"--m\nContent-Type: multipart/alternative; boundary=a\n\n"
		"--a\nContent-Type: text/plain; charset=utf-8\n\nQ1: yes\n"
		"--a\nContent-Type: text/html; charset=utf-8\n\n<p>Q1: yes</p>\n"
		"--a\nContent-Type: text/calendar; name=\"invite.ics\"\n\nBEGIN:VCALENDAR\n"
		"--a--\n"
		"--m\nContent-Type: application/pdf; name=\"cert.pdf\"\n"
		"Content-Disposition: attachment; filename=\"cert.pdf\"\n\n%PDF-1.4\n"
		"--m--\n";
	struct parsed_message *msg = NULL;
	char *error = NULL;

	check_int("status", read_message(data, sizeof(data) - 1, NULL, &msg, &error), IMI_OK);
	check_str("body", parsed_message_text(msg, NULL), "Q1: yes");
	check_int("attachments: the named alternative and the pdf",
		  parsed_message_attachment_count(msg), 2);
	check_str("first", parsed_message_attachment(msg, 0)->name, "invite.ics");
	check_str("second", parsed_message_attachment(msg, 1)->name, "cert.pdf");
	parsed_message_free(&msg);
}

/* Outlook's signature logo (multipart/related, a Content-ID) is listed,
 * marked as the HTML's resource; an image the sender attached is not. */
static void test_message_html_resource(void **state)
{
	static const char data[] =
		"From: a@example.org\nSubject: AW: x\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=m\n\n"
		"--m\nContent-Type: multipart/related; boundary=r; type=\"text/html\"\n\n"
		"--r\nContent-Type: text/html; charset=utf-8\n\n<p>Q1: ja</p><img src=\"cid:logo@x\">\n"
		"--r\nContent-Type: image/png; name=\"image001.png\"\n"
		"Content-Disposition: inline; filename=\"image001.png\"\nContent-ID: <logo@x>\n\nPNG\n"
		"--r--\n"
		"--m\nContent-Type: image/jpeg; name=\"scan.jpg\"\n"
		"Content-Disposition: attachment; filename=\"scan.jpg\"\nContent-ID: <scan@x>\n\nJPG\n"
		"--m--\n";
	struct parsed_message *msg = NULL;
	char *error = NULL;

	check_int("status", read_message(data, sizeof(data) - 1, NULL, &msg, &error), IMI_OK);
	check_int("attachments", parsed_message_attachment_count(msg), 2);
	check_str("logo name", parsed_message_attachment(msg, 0)->name, "image001.png");
	check_int("logo is a resource", parsed_message_attachment(msg, 0)->html_resource, 1);
	check_str("scan name", parsed_message_attachment(msg, 1)->name, "scan.jpg");
	check_int("scan is a document", parsed_message_attachment(msg, 1)->html_resource, 0);
	parsed_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_depth_bound),
		cmocka_unit_test(test_message_parts_and_header_bounds),
		cmocka_unit_test(test_message_raw_delimiter_bound),
		cmocka_unit_test(test_message_headers),
		cmocka_unit_test(test_message_automatic),
		cmocka_unit_test(test_message_safe_names),
		cmocka_unit_test(test_message_attachments),
		cmocka_unit_test(test_message_tnef),
		cmocka_unit_test(test_message_bare_and_bytes),
		cmocka_unit_test(test_message_html),
		cmocka_unit_test(test_message_empty_plain_alternative),
		cmocka_unit_test(test_message_alternative_not_attachment),
		cmocka_unit_test(test_message_html_resource),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

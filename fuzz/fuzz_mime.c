/*
 * fuzz/fuzz_mime.c: parser/message on any bytes, as imi deliver reads a
 * message: parsed_message_read under the configured bounds ([limits]
 * defaults, conf/conf.c), then everything mta-hooks/inbound.c and the
 * workflows take from it (addresses, threading headers, subject, automatic
 * mail flags, the text, every attachment), then the trimmer on it.
 *
 * Promises checked: a message either reads or fails with IMI_INVALID or
 * IMI_TOOBIG and an error text; the text is valid UTF-8 of the length
 * reported, with no NUL; the history offset lies within it; an attachment
 * name is non-empty, at most PARSE_ATTACHMENT_NAME_MAX bytes, valid UTF-8,
 * without '/', '\\', control characters or a leading dot, and its data is
 * readable for its whole size.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "parser/message.h"
#include "parser/trim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void check_name(const char *name)
{
	if (name == NULL || *name == '\0')
		fuzz_fail("attachment without a name");
	if (strlen(name) > PARSE_ATTACHMENT_NAME_MAX)
		fuzz_fail("attachment name of %zu bytes", strlen(name));
	fuzz_check_utf8("attachment name", name);
	if (name[0] == '.')
		fuzz_fail("attachment name '%s' starts with a dot", name);
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f)
			fuzz_fail("attachment name has byte 0x%02x", *p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const headers[] = {
		"To", "Cc", "Reply-To", "Sender", "Date", "Return-Path",
		"Authentication-Results", "DKIM-Signature", "Content-Language",
		"Auto-Submitted", "X-No-Such-Header",
	};
	struct parse_limits limits;
	struct parsed_message *msg = NULL;
	const char *const *refs;
	const char *text;
	char *error = NULL, *trimmed = NULL;
	size_t len = 0, history;
	int ret;

	parse_limits_default(&limits);
	ret = parsed_message_read((const char *)data, size, &limits, &msg, &error);
	if (ret != IMI_OK) {
		if (ret != IMI_TOOBIG && ret != IMI_INVALID)
			fuzz_fail("parsed_message_read: status %d", ret);
		if (error == NULL)
			fuzz_fail("parsed_message_read failed without an error text");
		g_clear_pointer(&error, g_free);
		return 0;
	}
	(void)parsed_message_has_headers(msg);
	fuzz_check_utf8("From", parsed_message_from(msg));
	(void)parsed_message_id(msg);
	(void)parsed_message_in_reply_to(msg);
	refs = parsed_message_references(msg);
	if (refs == NULL)
		fuzz_fail("references list is NULL");
	for (unsigned i = 0; refs[i] != NULL && i < 100000; i++)
		(void)strlen(refs[i]);
	fuzz_check_utf8("Subject", parsed_message_subject(msg));
	for (unsigned i = 0; i < G_N_ELEMENTS(headers); i++)
		(void)parsed_message_header(msg, headers[i]);
	(void)parsed_message_auto_submitted(msg);
	(void)parsed_message_precedence_bulk(msg);
	(void)parsed_message_is_report(msg);

	text = parsed_message_text(msg, &len);
	if (text == NULL)
		fuzz_fail("text is NULL");
	if (strlen(text) != len)
		fuzz_fail("text length %zu, reported %zu", strlen(text), len);
	fuzz_check_utf8("text", text);
	(void)parsed_message_text_from_html(msg);
	history = parsed_message_history_offset(msg);
	if (history > len)
		fuzz_fail("history offset %zu past the text's %zu bytes", history, len);

	for (unsigned i = 0; i < parsed_message_attachment_count(msg); i++) {
		const struct parsed_attachment *a = parsed_message_attachment(msg, i);
		unsigned sum = 0;

		if (a == NULL)
			fuzz_fail("attachment %u of %u is NULL", i,
				  parsed_message_attachment_count(msg));
		check_name(a->name);
		if (a->content_type == NULL || strchr(a->content_type, '/') == NULL)
			fuzz_fail("attachment content type '%s'",
				  a->content_type ? a->content_type : "(null)");
		for (size_t b = 0; b < a->size; b++)
			sum += a->data[b];
		(void)sum;
	}

	/* What the inbound path does next. */
	ret = reply_trim_message(msg, REPLY_TRIM_FULL, &trimmed, &error);
	if (ret == IMI_OK) {
		fuzz_check_utf8("trimmed text", trimmed);
		g_free(trimmed);
	} else {
		g_clear_pointer(&error, g_free);
	}
	parsed_message_free(&msg);
	return 0;
}

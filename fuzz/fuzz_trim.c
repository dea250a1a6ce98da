/*
 * fuzz/fuzz_trim.c: parser/trim on any text and on any message.
 *
 * Input: one control byte, then the data.
 *   bit 0   mode: REPLY_TRIM_QUOTES_ONLY, else REPLY_TRIM_FULL
 *   bit 1   quotes_marked
 *   bit 2   the data is a message: parsed_message_read, reply_trim_message
 *           (as mta-hooks/inbound.c and imi parse do); else the data is
 *           the text (fuzz_text: UTF-8 as parser/message hands it on)
 *   bit 3   a history offset from the next two bytes (little endian,
 *           modulo the text length + 1, moved back to the start of a
 *           character); else none
 *
 * Promises checked (trim.h): the result is valid UTF-8, not longer than
 * the text, without leading empty lines and without trailing blanks or
 * line ends; only IMI_TOOBIG may refuse a text.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "parser/message.h"
#include "parser/trim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void check_result(const char *in, size_t in_len, const char *out)
{
	size_t n = strlen(out);

	fuzz_check_utf8("trimmed text", out);
	if (n > in_len)
		fuzz_fail("trimmed text of %zu bytes from %zu", n, in_len);
	if (out[0] == '\n')
		fuzz_fail("trimmed text starts with an empty line");
	if (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t' || out[n - 1] == '\n'))
		fuzz_fail("trimmed text ends with blank 0x%02x", (unsigned char)out[n - 1]);
	(void)in;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum reply_trim_mode mode;
	char *out = NULL, *error = NULL;
	unsigned flags;
	int ret;

	if (size < 1)
		return 0;
	flags = data[0];
	data++, size--;
	mode = (flags & 1) ? REPLY_TRIM_QUOTES_ONLY : REPLY_TRIM_FULL;

	if (flags & 4) {
		struct parsed_message *msg = NULL;
		const char *text;
		size_t len;

		if (parsed_message_read((const char *)data, size, NULL, &msg,
					&error) != IMI_OK) {
			g_clear_pointer(&error, g_free);
			return 0;
		}
		text = parsed_message_text(msg, &len);
		ret = reply_trim_message(msg, mode, &out, &error);
		if (ret == IMI_OK)
			check_result(text, len, out);
		else if (ret != IMI_TOOBIG)
			fuzz_fail("reply_trim_message: status %d: %s", ret, error);
		parsed_message_free(&msg);
	} else {
		size_t history = SIZE_MAX, len;
		char *text;

		if ((flags & 8) && size >= 2) {
			history = (size_t)data[0] | (size_t)data[1] << 8;
			data += 2, size -= 2;
		}
		text = fuzz_text(data, size);
		len = strlen(text);
		if (history != SIZE_MAX) {
			/* parser/message gives the offset of a character, never
			 * of a byte inside one. */
			history %= len + 1;
			while (history > 0 && history < len &&
			       ((unsigned char)text[history] & 0xc0) == 0x80)
				history--;
		} else {
			history = len;
		}
		ret = reply_trim(text, len, history, (flags & 2) != 0, mode, &out,
				 &error);
		if (ret == IMI_OK)
			check_result(text, len, out);
		else if (ret != IMI_TOOBIG)
			fuzz_fail("reply_trim: status %d: %s", ret, error);
		g_free(text);
	}
	g_free(out);
	g_clear_pointer(&error, g_free);
	return 0;
}

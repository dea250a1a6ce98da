/*
 * fuzz/fuzz_token.c: parser/token on any recipient address and any token
 * text, as mta-hooks/recipient.c and mta-hooks/inbound.c read them:
 * token_parse_address with the service's local part "imi" and the
 * delimiters "+-", then token_verify for one authority with a fixed key
 * and clock; the input is also verified as a bare token.
 *
 * Promises checked (token.h): a token is found only behind "imi" and a
 * delimiter; a verification that fails sets a state other than valid; a
 * valid or expired token has a lower-case REF of 1-20 of a-z 0-9 - and an
 * ACTION of 1-8 of a-z, an expiry on the right side of today, and the
 * same fields as a fresh token made from them; only a MAC made with the
 * key verifies (the seeds carry such tokens, fuzz/corpus/token).
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "parser/token.h"

#define FUZZ_TOKEN_MAX_INPUT 4096
/* 2026-11-25 12:00 UTC: the clock the seed tokens were made for. */
#define FUZZ_NOW INT64_C(1795608000)
#define FUZZ_AUTHORITY "de-bnetza"

static const unsigned char key[TOKEN_KEY_BYTES] = "imi fuzz key, not a secret 0123";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void check_token(const char *text)
{
	struct token tok;
	enum token_state state = TOKEN_VALID;
	char *error = NULL, *again = NULL;
	int ret;

	memset(&tok, 0, sizeof(tok));
	ret = token_verify(key, text, FUZZ_AUTHORITY, FUZZ_NOW, &tok, &state, &error);
	if (ret != IMI_OK) {
		if (state == TOKEN_VALID)
			fuzz_fail("token_verify failed (%d) with state valid", ret);
		if (error == NULL)
			fuzz_fail("token_verify failed without an error text");
		g_clear_pointer(&error, g_free);
		if (state != TOKEN_EXPIRED)
			return;
		if (tok.expiry_day >= token_day(FUZZ_NOW))
			fuzz_fail("expired token with expiry %" G_GINT64_FORMAT,
				  (gint64)tok.expiry_day);
	} else if (tok.expiry_day < token_day(FUZZ_NOW)) {
		fuzz_fail("valid token with expiry %" G_GINT64_FORMAT " in the past",
			  (gint64)tok.expiry_day);
	}
	if (strlen(tok.ref) < 1 || strlen(tok.ref) > TOKEN_MAX_REF ||
	    strspn(tok.ref, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(tok.ref))
		fuzz_fail("accepted REF '%s'", tok.ref);
	if (strlen(tok.action) < 1 || strlen(tok.action) > TOKEN_MAX_ACTION ||
	    strspn(tok.action, "abcdefghijklmnopqrstuvwxyz") != strlen(tok.action))
		fuzz_fail("accepted ACTION '%s'", tok.action);
	/* A token made afresh from the fields verifies to the same fields. */
	if (token_make(key, tok.ref, FUZZ_AUTHORITY, tok.action, tok.expiry_day,
		       &again, &error) != IMI_OK)
		fuzz_fail("token_make refused accepted fields: %s", error);
	{
		struct token tok2;
		enum token_state state2;

		memset(&tok2, 0, sizeof(tok2));
		ret = token_verify(key, again, FUZZ_AUTHORITY, FUZZ_NOW, &tok2, &state2,
				   &error);
		if (state2 != state || strcmp(tok2.ref, tok.ref) != 0 ||
		    strcmp(tok2.action, tok.action) != 0 ||
		    tok2.expiry_day != tok.expiry_day)
			fuzz_fail("'%s' and its remake '%s' differ", text, again);
		if (ret != IMI_OK)
			g_clear_pointer(&error, g_free);
	}
	g_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input, *text = NULL, *error = NULL;
	int ret;

	if (size > FUZZ_TOKEN_MAX_INPUT)
		return 0;
	input = g_strndup((const char *)data, size); /* stops at a NUL */
	ret = token_parse_address(input, "imi", "+-", &text, &error);
	if (ret == IMI_OK) {
		const char *p = input[0] == '<' ? input + 1 : input;

		if (g_ascii_strncasecmp(p, "imi", 3) != 0 || p[3] == '\0' ||
		    strchr("+-", p[3]) == NULL)
			fuzz_fail("token found in '%s', not behind imi+ or imi-", input);
		check_token(text);
		g_free(text);
	} else {
		if (ret != IMI_NOTFOUND && ret != IMI_INVALID)
			fuzz_fail("token_parse_address: status %d", ret);
		g_clear_pointer(&error, g_free);
	}
	check_token(input);
	g_free(input);
	return 0;
}

/*
 * token.c: reply tokens.  See token.h.
 */
#include "parser/token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_VERSION "imi-token-v1"
#define TOKEN_MAX_EXPIRY_DIGITS 7
#define TOKEN_MAX_LENGTH (TOKEN_MAX_REF + 1 + TOKEN_MAX_ACTION + 1 + TOKEN_MAX_EXPIRY_DIGITS + 1 + TOKEN_MAC_CHARS)

static const char token_base32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* ---- key ---------------------------------------------------------------- */

int token_key_create(const char *path, char **error_r)
{
	unsigned char key[TOKEN_KEY_BYTES];
	int fd, e;

	if (sodium_init() < 0)
		return imi_fail(error_r, IMI_ERROR, "cannot initialize libsodium");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		return imi_fail(error_r, e == EEXIST ? IMI_EXISTS : IMI_ERROR,
				"cannot create the token key %s: %s", path, strerror(e));
	}
	randombytes_buf(key, sizeof(key));
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		sodium_memzero(key, sizeof(key));
		return imi_fail(error_r, IMI_TEMPFAIL, "cannot write the token key %s: %s",
				path, strerror(e));
	}
	sodium_memzero(key, sizeof(key));
	if (close(fd) < 0) {
		e = errno;
		unlink(path);
		return imi_fail(error_r, IMI_TEMPFAIL, "cannot write the token key %s: %s",
				path, strerror(e));
	}
	return IMI_OK;
}

int token_key_load(const char *path, unsigned char key[TOKEN_KEY_BYTES], char **error_r)
{
	struct stat st;
	ssize_t n;
	int fd, e;

	if (sodium_init() < 0)
		return imi_fail(error_r, IMI_ERROR, "cannot initialize libsodium");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		return imi_fail(error_r, e == ENOENT ? IMI_NOTFOUND : IMI_ERROR,
				"cannot open the token key %s: %s (imi init creates it)",
				path, strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return imi_fail(error_r, IMI_ERROR, "%s is not a regular file", path);
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		return imi_fail(error_r, IMI_DENIED,
				"the token key %s is readable by others (mode %o); chmod 600 it "
				"and consider replacing it", path, (unsigned)(st.st_mode & 0777));
	}
	if (st.st_size != TOKEN_KEY_BYTES) {
		close(fd);
		return imi_fail(error_r, IMI_INVALID, "the token key %s has %lld bytes, not %d",
				path, (long long)st.st_size, TOKEN_KEY_BYTES);
	}
	n = read(fd, key, TOKEN_KEY_BYTES);
	e = errno;
	close(fd);
	if (n != TOKEN_KEY_BYTES)
		return imi_fail(error_r, IMI_ERROR, "cannot read the token key %s: %s", path,
				n < 0 ? strerror(e) : "short read");
	return IMI_OK;
}

/* ---- making ------------------------------------------------------------- */

int64_t token_day(int64_t unix_time)
{
	return unix_time >= 0 ? unix_time / 86400 : -((-unix_time + 86399) / 86400);
}

static int token_word_ok(const char *word, size_t max, int allow_digits_dash)
{
	size_t len = strlen(word);

	if (len == 0 || len > max)
		return 0;
	for (const char *p = word; *p != '\0'; p++) {
		char c = g_ascii_tolower(*p);
		if (!(c >= 'a' && c <= 'z') &&
		    !(allow_digits_dash && ((c >= '0' && c <= '9') || c == '-')))
			return 0;
	}
	return 1;
}

/* The truncated MAC over the fields (ref and action lower case). */
static void token_mac(const unsigned char key[TOKEN_KEY_BYTES], const char *ref,
		      const char *authority_id, const char *action, int64_t expiry_day,
		      unsigned char mac[TOKEN_MAC_BITS / 8])
{
	unsigned char full[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state state;
	char *lower_ref = g_ascii_strdown(ref, -1);
	char *lower_action = g_ascii_strdown(action, -1);
	char expiry[32];

	/* NUL separators: no field can contain one, so the encoding is
	 * unambiguous. */
	g_snprintf(expiry, sizeof(expiry), "%lld", (long long)expiry_day);
	crypto_auth_hmacsha256_init(&state, key, TOKEN_KEY_BYTES);
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)TOKEN_VERSION, sizeof(TOKEN_VERSION));
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)lower_ref, strlen(lower_ref) + 1);
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)authority_id, strlen(authority_id) + 1);
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)lower_action, strlen(lower_action) + 1);
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)expiry, strlen(expiry));
	crypto_auth_hmacsha256_final(&state, full);
	memcpy(mac, full, TOKEN_MAC_BITS / 8);
	sodium_memzero(full, sizeof(full));
	sodium_memzero(&state, sizeof(state));
	g_free(lower_ref);
	g_free(lower_action);
}

/* 80 bits -> 16 base32 characters (5 bits each, exact). */
static void token_base32_encode(const unsigned char mac[TOKEN_MAC_BITS / 8],
				char out[TOKEN_MAC_CHARS + 1])
{
	for (int i = 0; i < TOKEN_MAC_CHARS; i++) {
		int bit = i * 5, value = 0;
		for (int b = 0; b < 5; b++, bit++)
			value = value << 1 | ((mac[bit / 8] >> (7 - bit % 8)) & 1);
		out[i] = token_base32[value];
	}
	out[TOKEN_MAC_CHARS] = '\0';
}

static int token_base32_decode(const char *text, unsigned char mac[TOKEN_MAC_BITS / 8])
{
	memset(mac, 0, TOKEN_MAC_BITS / 8);
	if (strlen(text) != TOKEN_MAC_CHARS)
		return 0;
	for (int i = 0; i < TOKEN_MAC_CHARS; i++) {
		const char *at = strchr(token_base32, g_ascii_tolower(text[i]));
		int value, bit = i * 5;
		if (text[i] == '\0' || at == NULL)
			return 0;
		value = (int)(at - token_base32);
		for (int b = 4; b >= 0; b--, bit++)
			if ((value >> b) & 1)
				mac[bit / 8] |= (unsigned char)(1 << (7 - bit % 8));
	}
	return 1;
}

int token_make(const unsigned char key[TOKEN_KEY_BYTES], const char *ref,
	       const char *authority_id, const char *action, int64_t expiry_day,
	       char **token_r, char **error_r)
{
	unsigned char mac[TOKEN_MAC_BITS / 8];
	char mac_text[TOKEN_MAC_CHARS + 1];
	char *lower_ref, *lower_action;

	if (!token_word_ok(ref, TOKEN_MAX_REF, 1))
		return imi_fail(error_r, IMI_INVALID,
				"case reference \"%s\" must be 1-%d characters of a-z, 0-9 and -",
				ref, TOKEN_MAX_REF);
	if (!token_word_ok(action, TOKEN_MAX_ACTION, 0))
		return imi_fail(error_r, IMI_INVALID, "action \"%s\" must be 1-%d letters",
				action, TOKEN_MAX_ACTION);
	if (authority_id == NULL || *authority_id == '\0')
		return imi_fail(error_r, IMI_INVALID, "a token needs the authority it is for");
	if (expiry_day < 0 || expiry_day > 9999999)
		return imi_fail(error_r, IMI_INVALID, "expiry day %lld is out of range",
				(long long)expiry_day);
	if (sodium_init() < 0)
		return imi_fail(error_r, IMI_ERROR, "cannot initialize libsodium");
	token_mac(key, ref, authority_id, action, expiry_day, mac);
	token_base32_encode(mac, mac_text);
	lower_ref = g_ascii_strdown(ref, -1);
	lower_action = g_ascii_strdown(action, -1);
	*token_r = g_strdup_printf("%s.%s.%lld.%s", lower_ref, lower_action,
				   (long long)expiry_day, mac_text);
	g_free(lower_ref);
	g_free(lower_action);
	return IMI_OK;
}

int token_address(const unsigned char key[TOKEN_KEY_BYTES], const char *local,
		  char delimiter, const char *domain, const char *ref,
		  const char *authority_id, const char *action, int64_t expiry_day,
		  char **address_r, char **error_r)
{
	char *token = NULL;
	size_t local_len;
	int ret;

	if ((ret = token_make(key, ref, authority_id, action, expiry_day, &token, error_r)) != IMI_OK)
		return ret;
	local_len = strlen(local) + 1 + strlen(token);
	if (local_len > TOKEN_MAX_LOCAL_PART) {
		g_free(token);
		return imi_fail(error_r, IMI_TOOBIG,
				"the reply address would have a local part of %zu octets, more than %d; "
				"use a shorter service local part or case reference",
				local_len, TOKEN_MAX_LOCAL_PART);
	}
	*address_r = g_strdup_printf("%s%c%s@%s", local, delimiter, token, domain);
	g_free(token);
	return IMI_OK;
}

/* ---- reading ------------------------------------------------------------ */

int token_parse_address(const char *address, const char *local,
			const char *delimiters, char **token_r, char **error_r)
{
	const char *at = strrchr(address, '@');
	size_t local_len = strlen(local), part_len;
	const char *start = address;

	if (delimiters == NULL || *delimiters == '\0')
		delimiters = "+";
	/* "<addr>" as it may come from an SMTP envelope. */
	if (*start == '<')
		start++;
	if (at == NULL || at < start)
		return imi_fail(error_r, IMI_NOTFOUND, "\"%s\" is not an e-mail address", address);
	part_len = (size_t)(at - start);
	if (part_len > TOKEN_MAX_LOCAL_PART)
		return imi_fail(error_r, IMI_NOTFOUND, "the local part of \"%s\" is too long", address);
	if (part_len <= local_len + 1 || g_ascii_strncasecmp(start, local, local_len) != 0 ||
	    strchr(delimiters, start[local_len]) == NULL)
		return imi_fail(error_r, IMI_NOTFOUND, "\"%s\" carries no reply token", address);
	*token_r = g_ascii_strdown(start + local_len + 1, (gssize)(part_len - local_len - 1));
	return IMI_OK;
}

int token_verify(const unsigned char key[TOKEN_KEY_BYTES], const char *token,
		 const char *authority_id, int64_t now, struct token *token_r,
		 enum token_state *state_r, char **error_r)
{
	unsigned char want[TOKEN_MAC_BITS / 8], got[TOKEN_MAC_BITS / 8];
	char **parts = NULL;
	char *end;
	int64_t expiry;
	int ret;

	memset(token_r, 0, sizeof(*token_r));
	*state_r = TOKEN_MALFORMED;
	if (strlen(token) > TOKEN_MAX_LENGTH)
		return imi_fail(error_r, IMI_INVALID, "the reply token is too long");
	parts = g_strsplit(token, ".", 5);
	if (g_strv_length(parts) != 4 || !token_word_ok(parts[0], TOKEN_MAX_REF, 1) ||
	    !token_word_ok(parts[1], TOKEN_MAX_ACTION, 0) || parts[2][0] == '\0' ||
	    strlen(parts[2]) > TOKEN_MAX_EXPIRY_DIGITS || !g_ascii_isdigit(parts[2][0]) ||
	    !token_base32_decode(parts[3], got)) {
		ret = imi_fail(error_r, IMI_INVALID, "the reply token is malformed");
		goto out;
	}
	expiry = g_ascii_strtoll(parts[2], &end, 10);
	if (*end != '\0') {
		ret = imi_fail(error_r, IMI_INVALID, "the reply token is malformed");
		goto out;
	}
	if (sodium_init() < 0) {
		ret = imi_fail(error_r, IMI_ERROR, "cannot initialize libsodium");
		goto out;
	}
	token_mac(key, parts[0], authority_id, parts[1], expiry, want);
	if (sodium_memcmp(want, got, sizeof(want)) != 0) {
		*state_r = TOKEN_FORGED;
		ret = imi_fail(error_r, IMI_DENIED,
			       "the reply token does not belong to this authority or was altered");
		goto out;
	}
	g_strlcpy(token_r->ref, parts[0], sizeof(token_r->ref));
	g_strlcpy(token_r->action, parts[1], sizeof(token_r->action));
	for (char *p = token_r->ref; *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	for (char *p = token_r->action; *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
	token_r->expiry_day = expiry;
	if (token_day(now) > expiry) {
		*state_r = TOKEN_EXPIRED;
		ret = imi_fail(error_r, IMI_DENIED, "the reply token expired");
		goto out;
	}
	*state_r = TOKEN_VALID;
	ret = IMI_OK;
out:
	g_strfreev(parts);
	return ret;
}

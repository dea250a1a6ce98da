/*
 * token: reply tokens, the proof that a reply belongs to a case.
 *
 * What it does: every message imi sends carries a reply address
 *
 *     LOCAL+REF.ACTION.EXPIRY.MAC@DOMAIN      e.g. imi+2026-42.ans.20780.k3v9...@imi.example.eu
 *
 * REF names the case (the caller's short case reference: 1-20 of a-z 0-9 -),
 * ACTION what a reply there does (1-8 of a-z, the caller's vocabulary),
 * EXPIRY the last valid day (days since 1970-01-01, decimal), and MAC an
 * HMAC-SHA-256 (libsodium crypto_auth_hmacsha256, 32-byte key) over
 * version, REF, the authority id the token was issued to, ACTION and
 * EXPIRY, truncated to 80 bits and written as 16 characters of lower-case
 * base32 without padding.
 *
 * Why this shape: mail clients and MTAs may change the case of a local
 * part, so everything is lower case and compared without regard to case
 * (base32, not base64).  The local part must stay within RFC 5321's 64
 * octets: the token is at most 20 + 1 + 8 + 1 + 5 + 1 + 16 = 52 octets, so
 * LOCAL may have 11 with the longest REF and ACTION (token_address checks
 * the actual length).  The
 * authority id is in the MAC but not in the address: a token is valid only
 * when verified for the authority it was issued to, so a forwarded reply
 * from another authority fails.
 *
 * Why 80 bits are enough: the key never leaves the home directory, so the
 * only attack is guessing online, one e-mail per guess, and every guess
 * must also come from a DKIM-authenticated address of the right authority.
 * At a million messages a second, finding one of 2^80 values takes about
 * 2^59 seconds.  A full 256-bit MAC would make the address longer than 64
 * octets without making any attack practical.
 *
 * How it fails: a malformed token is IMI_INVALID, a MAC that does not match
 * (altered, forged, or another authority) IMI_DENIED, an expired one
 * IMI_DENIED with state TOKEN_EXPIRED (its fields are still filled in so a
 * fresh token can be offered).  The MAC is compared in constant time.
 *
 * What it trusts: the key file (home/keys/token.key, 0600, created by imi
 * init); token_key_load refuses a key readable by group or others.
 */
#ifndef IMI_TOKEN_H
#define IMI_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define TOKEN_KEY_BYTES 32
#define TOKEN_MAC_BITS 80
#define TOKEN_MAC_CHARS (TOKEN_MAC_BITS / 5)
#define TOKEN_MAX_REF 20
#define TOKEN_MAX_ACTION 8
#define TOKEN_MAX_LOCAL_PART 64   /* RFC 5321 §4.5.3.1.1 */

/* Creates a fresh random key, mode 0600; refuses to overwrite one
 * (IMI_EXISTS). */
int token_key_create(const char *path, char **error_r);
int token_key_load(const char *path, unsigned char key[TOKEN_KEY_BYTES],
		   char **error_r);

/* Days since the epoch for a time in seconds (UTC). */
int64_t token_day(int64_t unix_time);

/* The token "REF.ACTION.EXPIRY.MAC" (g_free). */
int token_make(const unsigned char key[TOKEN_KEY_BYTES], const char *ref,
	       const char *authority_id, const char *action, int64_t expiry_day,
	       char **token_r, char **error_r);

/* The reply address LOCAL<delimiter>TOKEN@DOMAIN (g_free); IMI_TOOBIG when
 * the local part would exceed 64 octets. */
int token_address(const unsigned char key[TOKEN_KEY_BYTES], const char *local,
		  char delimiter, const char *domain, const char *ref,
		  const char *authority_id, const char *action, int64_t expiry_day,
		  char **address_r, char **error_r);

/* The token in a recipient address: the local part must be `local` (any
 * case) followed by one of the characters of `delimiters` (Postfix's
 * recipient_delimiter, "+" by default; several characters allowed).
 * IMI_NOTFOUND: not our address, or no extension. */
int token_parse_address(const char *address, const char *local,
			const char *delimiters, char **token_r, char **error_r);

enum token_state {
	TOKEN_VALID,
	TOKEN_MALFORMED,
	TOKEN_FORGED,   /* MAC mismatch: altered, guessed, or another authority */
	TOKEN_EXPIRED,
};

struct token {
	char ref[TOKEN_MAX_REF + 1];       /* lower case */
	char action[TOKEN_MAX_ACTION + 1]; /* lower case */
	int64_t expiry_day;
};

/* Checks token for authority_id at time now.  *state_r says why it failed;
 * *token_r is filled when the MAC matched (valid or expired). */
int token_verify(const unsigned char key[TOKEN_KEY_BYTES], const char *token,
		 const char *authority_id, int64_t now, struct token *token_r,
		 enum token_state *state_r, char **error_r);

#endif

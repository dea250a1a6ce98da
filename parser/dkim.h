/*
 * dkim: DKIM signatures of one message, verified and made (libopendkim).
 *
 * What it does: dkim_verify_message checks every DKIM-Signature of a message
 * (rsa-sha256 and ed25519-sha256, simple and relaxed canonicalization) and
 * gives one verdict per signature with a reason an operator can read.
 * dkim_sign_message makes the service's own signature (relaxed/relaxed,
 * rsa-sha256 or ed25519-sha256 by the type of the key).
 *
 * When a signature passes: libopendkim says the header hash verified
 * (DKIM_SIGFLAG_PASSED) *and* the body hash matched (dkim_sig_getbh ==
 * DKIM_SIGBH_MATCH: the library sets PASSED even when the body hash does not
 * match), and none of our refusals applies:
 *   - rsa-sha1 and RSA keys under 1024 bits (RFC 8301);
 *   - a message with more than one From header field (RFC 6376 §8.15: which
 *     From a reader sees is not which From was signed);
 *   - a signature whose h= does not cover From;
 *   - l= shorter than the body: RFC 6376 lets a signer cover only the first
 *     l= octets of the canonicalized body, so anyone may append text (a
 *     different answer, a link) after them and the signature still verifies.
 *     We compute the length of the whole canonicalized body ourselves and
 *     refuse the signature when l= is smaller: content past l= is not covered
 *     by anything, and a half-covered message is not an authenticated one;
 *   - an expired x= (the library's check) and a t= older than
 *     max_age_days (replay of an old signed message).
 * A refused signature gets the verdict DKIM_VERDICT_POLICY and its reason.
 *
 * Covered headers: h= says which header fields were signed; when a name
 * occurs in the message more often than in h=, the extra (topmost) instances
 * were added after signing.  covered_headers lists the names all of whose
 * instances are signed; a caller must take header values (Subject, Reply-To,
 * ...) only from covered names.
 *
 * How it fails: a DNS problem while fetching a key is a per-signature
 * DKIM_VERDICT_TEMPERROR (never a fail); a message that cannot be fed to the
 * library at all (over a bound, out of memory) is an error of the call.
 *
 * What it trusts: nothing in the message.  Keys come from DNS through the
 * resolver given (or, for tests, from a key file: one line per key,
 * "sel._domainkey.example.org v=DKIM1; k=rsa; p=...").
 */
#ifndef IMI_DKIM_H
#define IMI_DKIM_H

#include <stddef.h>
#include <stdint.h>

#include "parser/dns.h"
#include "util/util.h"

/* Bounds on what a message may make us do. */
#define DKIM_MAX_SIGNATURES 16      /* DKIM-Signature fields looked at */
#define DKIM_MAX_HEADER_FIELDS 1000 /* header fields fed to the verifier */
#define DKIM_MIN_RSA_BITS 1024      /* RFC 8301 */

enum dkim_verdict {
	DKIM_VERDICT_PASS,
	DKIM_VERDICT_FAIL,      /* signature or body hash does not match */
	DKIM_VERDICT_TEMPERROR, /* key could not be fetched now (DNS) */
	DKIM_VERDICT_PERMERROR, /* broken signature, no key, bad key */
	DKIM_VERDICT_POLICY,    /* verifies, but we refuse it (see above) */
};
const char *dkim_verdict_name(enum dkim_verdict verdict);

struct dkim_signature {
	char *domain;           /* d= */
	char *selector;         /* s= */
	char *algorithm;        /* "rsa-sha256", "ed25519-sha256", "rsa-sha1", ... */
	char *identity;         /* i=, or "@" d= */
	enum dkim_verdict verdict;
	char *reason;           /* one sentence for logs and the sender's admin */
	char **signed_headers;  /* h=, lower case, in order */
	char **covered_headers; /* names all instances of which are signed */
	int64_t timestamp;      /* t=, or -1 */
	int64_t body_length;    /* l=, or -1 */
	unsigned key_bits;      /* 0 when the key was not loaded */
};

struct dkim_result {
	struct dkim_signature *signatures;
	unsigned n_signatures;
	unsigned from_count;    /* From header fields in the message */
};

struct dkim_verifier;

/* dns: where keys come from; or key_file (tests): a file of keys.  fixed_time
 * (0: the clock) is the "now" libopendkim checks x= and t= against. */
int dkim_verifier_open(struct dns_resolver *dns, const char *key_file,
		       int64_t fixed_time, struct dkim_verifier **verifier_r,
		       char **error_r);
void dkim_verifier_close(struct dkim_verifier **verifier);
/* Public keys libopendkim decoded are kept per process and given again
 * for the same key record (dkim_keycache.c): count and forget them. */
unsigned dkim_keycache_count(void);
void dkim_keycache_clear(void);

/* Verifies every signature of the message (LF or CRLF line ends).
 * now: for the replay check; max_age_days <= 0: no replay check. */
int dkim_verify_message(struct dkim_verifier *verifier, const char *message,
			size_t len, int64_t now, int max_age_days,
			struct dkim_result **result_r, char **error_r);
void dkim_result_free(struct dkim_result **result);

/* The replay window: 0 when a signature made at signed_at (t=, seconds) is
 * more than max_age_days old at now; 1 otherwise, also without t=
 * (signed_at < 0) or without a window (max_age_days <= 0). */
int dkim_signature_fresh(int64_t signed_at, int64_t now, int max_age_days);

/* Whether every instance of header `name` was signed by sig. */
int dkim_signature_covers(const struct dkim_signature *sig, const char *name);

/* Signing.  Options for tests and special cases; NULL means the service's
 * defaults (relaxed/relaxed, whole body, now, no x=). */
struct dkim_sign_options {
	int64_t time;           /* t=; 0: now */
	int64_t lifetime;       /* x= = t= + lifetime; 0: no x= */
	int body_length;        /* 1: add l= (the whole body) */
	int simple;             /* 1: simple/simple canonicalization */
	int rsa_sha1;           /* 1: rsa-sha1 (only to test its refusal) */
	unsigned min_key_bits;  /* 0: DKIM_MIN_RSA_BITS */
};

/* Signs the message with the PEM key at key_path (RSA: rsa-sha256;
 * Ed25519: ed25519-sha256).  *header_r is the whole header field to
 * prepend, "DKIM-Signature: v=1; ...", folded with LF+TAB, no CR, no final
 * line end (g_free). */
int dkim_sign_message(const char *selector, const char *domain,
		      const char *key_path, const char *message, size_t len,
		      const struct dkim_sign_options *options, char **header_r,
		      char **error_r);

#endif

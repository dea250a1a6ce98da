/*
 * align: who really sent this?  Alignment of the From domain with what
 * DKIM and SPF proved, and the authority decision built on it.
 *
 * What it does:
 *   - align_domains: relaxed alignment (as in DMARC, RFC 7489 §3.1): two
 *     domains align when their organizational domains (the registrable
 *     domain by the public suffix list, libpsl's built-in copy) are equal.
 *   - align_decide: a pure function from facts (From address and count,
 *     DKIM and SPF results, poller path or not, the sender's user and
 *     authority records, the role the action needs) to a decision: accept,
 *     reject (with a reason code and a sentence an authority's mail
 *     administrator understands) or tempfail.  It reads no clock, no store
 *     and no network, so it is tested by tables.
 *   - align_authentication_results: the RFC 8601 Authentication-Results
 *     header value for what was checked.
 *
 * The rules (docs/authentication.md says them in plain words):
 *   - exactly one From field, with a valid address, of an active user of
 *     an active authority;
 *   - by default a passing DKIM signature (parser/dkim.h) whose d= aligns
 *     with the From domain *and* is one of the authority's registered
 *     domains (or below one): a valid signature of any other domain counts
 *     for nothing;
 *   - instead of DKIM, an SPF pass for a registered domain aligned with
 *     From, only for an authority whose coordinator set spf_aligned; never
 *     neither;
 *   - on the mailbox-poller path there is no client IP: SPF does not count;
 *     a passing aligned DKIM signature does, or the mailbox server's own
 *     Authentication-Results when its authserv-id is trusted (the caller
 *     extracts the dkim=pass header.d= of that header and passes it here);
 *   - then the user must hold the role the action needs;
 *   - a DNS problem that could have changed the outcome is a tempfail (the
 *     MTA retries), never a reject.
 *
 * What it trusts: the DKIM and SPF results, and the user and authority
 * records, as given.  The From address is only a claim until aligned.
 */
#ifndef IMI_ALIGN_H
#define IMI_ALIGN_H

#include "parser/dkim.h"
#include "parser/spf.h"
#include "store/store.h"

/* The organizational domain of domain (g_free); the domain itself, lower
 * case, when it has none (a public suffix). */
char *align_org_domain(const char *domain);
/* 1 when the two domains have the same organizational domain. */
int align_domains(const char *from_domain, const char *auth_domain);
/* 1 when domain is one of the authority's registered domains or below one. */
int align_registered(const struct authority *authority, const char *domain);

struct align_facts {
	const char *from;                  /* the From address (addr-spec) */
	unsigned from_count;               /* From header fields in the message */
	const struct dkim_result *dkim;    /* NULL: not checked */
	const struct spf_result *spf;      /* NULL: not checked (no client IP) */
	int poller;                        /* mailbox-poller path: no client IP */
	char **trusted_dkim_domains;       /* poller: header.d= of each dkim=pass in a
					    * trusted Authentication-Results
					    * (align_trusted_dkim_domains), or NULL */
	const struct user *user;           /* user with the From address, NULL: none */
	const struct authority *authority; /* the user's authority, NULL: none */
	const char *role;                  /* role the action needs, NULL: any user */
};

enum align_verdict {
	ALIGN_ACCEPT,
	ALIGN_REJECT,
	ALIGN_TEMPFAIL,
};
const char *align_verdict_name(enum align_verdict verdict);

struct align_decision {
	enum align_verdict verdict;
	const char *code;   /* machine-readable reason: "ok", "dkim-unaligned", ... */
	char *text;         /* one or two sentences for the sender's mail admin */
	const char *method; /* accepted by "dkim", "spf" or "trusted-ar"; else NULL */
	char *domain;       /* the domain that authenticated the message, or NULL */
};

/* Fills *decision (free with align_decision_clear).  Reason codes:
 * ok, from-missing, from-multiple, from-invalid, sender-unknown,
 * authority-unknown, authority-disabled, user-disabled, role-missing,
 * dkim-missing, dkim-failed, dkim-refused, dkim-unaligned,
 * dkim-unregistered, spf-failed, spf-unaligned, spf-unregistered,
 * dns-temperror. */
void align_decide(const struct align_facts *facts, struct align_decision *decision);
void align_decision_clear(struct align_decision *decision);

/* The header.d= values of the dkim=pass results in one Authentication-
 * Results header value, if its authserv-id is trusted_authserv_id; else an
 * empty vector.  (Trusting it is only right when the mailbox server removes
 * headers with its own authserv-id from incoming mail, RFC 8601 §5.)  At
 * most ALIGN_MAX_AR_RESULTS results are looked at. */
#define ALIGN_MAX_AR_RESULTS 32
#define ALIGN_MAX_AR_BYTES 16384
char **align_trusted_dkim_domains(const char *header_value,
				  const char *trusted_authserv_id);

/* RFC 8601 header value: "authserv-id; dkim=pass header.d=... header.s=...
 * header.a=...; spf=pass smtp.mailfrom=..." (g_free). */
char *align_authentication_results(const char *authserv_id,
				   const struct dkim_result *dkim,
				   const struct spf_result *spf);

#endif

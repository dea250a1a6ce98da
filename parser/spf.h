/*
 * spf: the SPF check of one SMTP transaction (libspf2, RFC 7208).
 *
 * What it does: checks whether the client IP may send for the envelope
 * sender's domain (MAIL FROM), or, when the envelope sender is empty (a
 * bounce), for the HELO name.  The result names the identity and the
 * domain that was checked, so that alignment can compare it with the From
 * domain.
 *
 * How it fails: every DNS problem (server down, SERVFAIL, timeout) is the
 * verdict SPF_VERDICT_TEMPERROR, never "fail" or "none": lookups go through
 * our resolver (parser/dns.h), which reports trouble as a temporary error.
 * A bad client IP is IMI_INVALID from spf_check.  libspf2's own messages
 * are silenced (a library does not print).
 *
 * What it trusts: the client IP as the MTA reports it.  Nothing else: the
 * HELO name and the envelope sender are the client's claims, which SPF is
 * there to check.
 */
#ifndef IMI_SPF_H
#define IMI_SPF_H

#include "parser/dns.h"
#include "util/util.h"

enum spf_verdict {
	SPF_VERDICT_NONE,       /* no SPF record, or no identity to check */
	SPF_VERDICT_NEUTRAL,
	SPF_VERDICT_PASS,
	SPF_VERDICT_FAIL,
	SPF_VERDICT_SOFTFAIL,
	SPF_VERDICT_TEMPERROR,  /* DNS trouble: try again later */
	SPF_VERDICT_PERMERROR,  /* broken record */
};
const char *spf_verdict_name(enum spf_verdict verdict);

struct spf_result {
	enum spf_verdict verdict;
	char *identity;         /* "mailfrom" or "helo" */
	char *domain;           /* the domain checked (lower case), "" if none */
	char *sender;           /* the address checked ("postmaster@HELO" for helo) */
	char *comment;          /* libspf2's explanation, for logs */
	char *received_spf;     /* value for a Received-SPF header */
};

struct spf_checker;

/* our_domain names us in Received-SPF. */
int spf_checker_open(struct dns_resolver *dns, const char *our_domain,
		     struct spf_checker **checker_r, char **error_r);
void spf_checker_close(struct spf_checker **checker);

/* client_ip: IPv4 or IPv6 text; helo and sender may be NULL or "". */
int spf_check(struct spf_checker *checker, const char *client_ip,
	      const char *helo, const char *sender, struct spf_result **result_r,
	      char **error_r);
void spf_result_free(struct spf_result **result);

#endif

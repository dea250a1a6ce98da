/*
 * tls_policy: a Postfix smtp_tls_policy_maps table for the authorities.
 *
 * What it does: one line "DOMAIN LEVEL" for every mail domain of every
 * authority in the directory (registered domains and the post-box domain),
 * sorted and without repeats, so that Postfix never hands a message that
 * carries personal data to an authority's mail host in clear text.
 *
 * The level is "encrypt" by default, not "dane": Postfix's dane level falls
 * back to opportunistic TLS ("may", i.e. clear text when STARTTLS is not
 * offered or is stripped) for a domain without DNSSEC-signed TLSA records,
 * which most authority domains do not publish today.  encrypt makes TLS
 * mandatory for every domain; the operator may choose "dane-only" (TLSA
 * required), "verify" or "secure" instead where the peers support it.
 *
 * How it fails: store errors as the store gives them; an unknown level is
 * IMI_INVALID.
 */
#ifndef IMI_TLS_POLICY_H
#define IMI_TLS_POLICY_H

#include "store/store.h"

#define TLS_POLICY_DEFAULT_LEVEL "encrypt"

int tls_policy_level_valid(const char *level);
/* Appends the table to out. */
int tls_policy_write(struct store *store, const char *level, GString *out,
		     char **error_r);

#endif

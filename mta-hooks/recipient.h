/*
 * recipient: is an envelope recipient one of the service's addresses?
 *
 * What it does: sorts an RCPT TO address into three kinds, so that the
 * milter can refuse an unknown service address inside the SMTP session
 * (before the client sends the data) and leave every other domain alone:
 *   RECIPIENT_SERVICE  LOCAL@DOMAIN or LOCAL+TOKEN@DOMAIN of the service;
 *   RECIPIENT_UNKNOWN  another local part in the service domain, or one
 *                      longer than RFC 5321's 64 octets, or LOCAL+ with an
 *                      extension that cannot be a reply token;
 *   RECIPIENT_OTHER    any other domain, and the role addresses postmaster
 *                      and abuse of the service domain (RFC 5321 §4.5.1,
 *                      RFC 2142): they are the MTA's business, not ours.
 * Local parts and domains compare without regard to case; the extension
 * delimiter is Postfix's recipient_delimiter ("+").  Whether a token is
 * genuine (its MAC, its authority) is decided later by inbound, which knows
 * the sender: here only its shape counts.
 *
 * How it fails: it does not; what cannot be read as an address is OTHER
 * when it has no '@' in the service domain, UNKNOWN when it does.
 * What it trusts: nothing in the address.
 */
#ifndef IMI_RECIPIENT_H
#define IMI_RECIPIENT_H

#include "conf/conf.h"

#define RECIPIENT_DELIMITERS "+"       /* Postfix recipient_delimiter */
#define RECIPIENT_MAX_ADDRESS 320     /* 64 + '@' + 255 */

enum recipient_kind {
	RECIPIENT_OTHER,
	RECIPIENT_SERVICE,
	RECIPIENT_UNKNOWN,
};

/* address as in RCPT TO, with or without <>. */
enum recipient_kind recipient_classify(const struct imi_conf *conf,
				       const char *address);
/* The bare address (no <>, no surrounding space), g_free. */
char *recipient_bare(const char *address);

#endif

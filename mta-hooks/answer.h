/*
 * answer: the one place where an inbound result becomes the MTA's answer.
 *
 * What it does: maps what inbound_process returned (its status and, when it
 * succeeded, its verdict) to the answer each hook gives: for the milter an
 * SMFIS_* code with the SMTP reply code, enhanced status code and text; for
 * imi deliver a sysexits(3) exit code.  Also the answers the milter gives on
 * its own (an unknown service address at RCPT, a message over the size
 * bound, an internal failure).
 *
 * The rules (DESIGN.md, data flow step 5 and 6):
 *   - "accepted" (milter 250, exit 0) only for a verdict that says the
 *     transaction committed: APPLIED, ANSWERED, HELD, DUPLICATE, IGNORED;
 *   - every failure of the call itself, whatever its status, is a temporary
 *     failure (451 4.3.0, exit 75): the MTA keeps the message and retries,
 *     nothing is lost;
 *   - REJECT (failed authentication, milter path only) is 550 5.7.1 with the
 *     reason, so the sender's own MTA tells its user; on the deliver path a
 *     REJECT verdict cannot occur (inbound holds instead) and is treated as a
 *     temporary failure rather than a bounce to a possibly forged sender;
 *   - TOOBIG is 552 5.3.4 and exit 65, the only permanent refusal of
 *     imi deliver.
 *
 * How it fails: it cannot; an unknown verdict is a temporary failure.
 * What it trusts: the reason text comes from inbound (never personal data);
 * it is cut at one line and to ANSWER_MAX_TEXT bytes before it reaches SMTP.
 */
#ifndef IMI_ANSWER_H
#define IMI_ANSWER_H

#include "mta-hooks/inbound.h"

#define ANSWER_MAX_TEXT 400 /* SMTP reply text bytes (RFC 5321 line: 512) */

enum answer_kind {
	ANSWER_ACCEPT,   /* committed: 250, exit 0 */
	ANSWER_TEMPFAIL, /* try again later: 451 4.3.0, exit 75 */
	ANSWER_REJECT,   /* refused for good: 550 5.7.1 */
	ANSWER_TOOBIG,   /* over max_message_bytes: 552 5.3.4, exit 65 */
	ANSWER_NOUSER,   /* RCPT of an unknown service address: 550 5.1.1 */
};

struct answer {
	enum answer_kind kind;
	const char *rcode;  /* SMTP reply code, "451"; NULL for accept */
	const char *xcode;  /* enhanced status code, "4.3.0"; NULL for accept */
	char text[ANSWER_MAX_TEXT + 1]; /* reply text, one line, printable ASCII */
	int exit_code;      /* sysexits code for imi deliver */
	int smfis;          /* SMFIS_* for the milter */
};

/* From inbound_process's return status and result (result is read only
 * when status is IMI_OK). */
void answer_from_inbound(int status, const struct inbound_result *result,
			 struct answer *answer_r);
/* The milter's own answers. */
void answer_make(enum answer_kind kind, const char *reason,
		 struct answer *answer_r);

const char *answer_kind_name(enum answer_kind kind);

#endif

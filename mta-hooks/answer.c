/*
 * answer.c: inbound verdicts to SMTP replies, SMFIS codes and exit codes.
 */
#include "mta-hooks/answer.h"

#include <libmilter/mfapi.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

struct answer_rule {
	enum answer_kind kind;
	const char *rcode;
	const char *xcode;
	const char *text;   /* default text; a reason is appended */
	int exit_code;
	int smfis;
};

static const struct answer_rule answer_rules[] = {
	[ANSWER_ACCEPT] = {ANSWER_ACCEPT, NULL, NULL, "", EX_OK, SMFIS_ACCEPT},
	[ANSWER_TEMPFAIL] = {ANSWER_TEMPFAIL, "451", "4.3.0",
			     "Temporary failure, message kept by your server: try again later",
			     EX_TEMPFAIL, SMFIS_TEMPFAIL},
	[ANSWER_REJECT] = {ANSWER_REJECT, "550", "5.7.1", "Message refused",
			   EX_TEMPFAIL, SMFIS_REJECT},
	[ANSWER_TOOBIG] = {ANSWER_TOOBIG, "552", "5.3.4",
			   "Message too big for this service", EX_DATAERR, SMFIS_REJECT},
	[ANSWER_NOUSER] = {ANSWER_NOUSER, "550", "5.1.1",
			   "No such address at this service", EX_NOUSER, SMFIS_REJECT},
};

const char *answer_kind_name(enum answer_kind kind)
{
	static const char *const names[] = {"accept", "tempfail", "reject", "toobig", "nouser"};
	return (unsigned)kind < G_N_ELEMENTS(names) ? names[kind] : "unknown";
}

/* One line of printable ASCII: SMTP replies carry nothing else, and a line
 * end inside would end the reply early.  '%' is left out because libmilter
 * passes the text through a format. */
static void answer_text(char *out, const char *base, const char *reason)
{
	size_t n = 0;
	const char *parts[] = {base, reason != NULL && *reason != '\0' ? ": " : NULL, reason};

	for (unsigned p = 0; p < G_N_ELEMENTS(parts); p++) {
		if (parts[p] == NULL)
			continue;
		for (const char *s = parts[p]; *s != '\0' && n < ANSWER_MAX_TEXT; s++) {
			unsigned char c = (unsigned char)*s;
			if (c == '\r' || c == '\n')
				break;
			out[n++] = (c < 0x20 || c > 0x7e || c == '%') ? '?' : (char)c;
		}
	}
	out[n] = '\0';
}

void answer_make(enum answer_kind kind, const char *reason,
		 struct answer *answer_r)
{
	const struct answer_rule *rule;

	if ((unsigned)kind >= G_N_ELEMENTS(answer_rules))
		kind = ANSWER_TEMPFAIL;
	rule = &answer_rules[kind];
	answer_r->kind = kind;
	answer_r->rcode = rule->rcode;
	answer_r->xcode = rule->xcode;
	answer_r->exit_code = rule->exit_code;
	answer_r->smfis = rule->smfis;
	answer_text(answer_r->text, rule->text, kind == ANSWER_ACCEPT ? NULL : reason);
}

void answer_from_inbound(int status, const struct inbound_result *result,
			 struct answer *answer_r)
{
	const char *reason = status == IMI_OK && result != NULL ? result->reason : NULL;

	if (status == IMI_TOOBIG) {
		answer_make(ANSWER_TOOBIG, NULL, answer_r);
		return;
	}
	if (status != IMI_OK || result == NULL) {
		/* A store or DNS failure, or anything unforeseen: nothing was
		 * committed, so the MTA must keep the message. */
		answer_make(ANSWER_TEMPFAIL, NULL, answer_r);
		return;
	}
	switch (result->verdict) {
	case INBOUND_APPLIED:
	case INBOUND_ANSWERED:
	case INBOUND_HELD:
	case INBOUND_DUPLICATE:
	case INBOUND_IGNORED:
		answer_make(ANSWER_ACCEPT, NULL, answer_r);
		return;
	case INBOUND_REJECT:
		answer_make(ANSWER_REJECT, reason, answer_r);
		return;
	case INBOUND_TOOBIG:
		answer_make(ANSWER_TOOBIG, reason, answer_r);
		return;
	case INBOUND_TEMPFAIL:
		break;
	}
	answer_make(ANSWER_TEMPFAIL, NULL, answer_r);
}

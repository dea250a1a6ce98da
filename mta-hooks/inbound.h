/*
 * inbound: the whole inbound path of one message (DESIGN.md, "Data flow of
 * one inbound message"), shared by the milter, imi deliver and imi fetch.
 *
 * What it does: authenticates the message (DKIM, SPF, alignment, registered
 * user and role, reply token), recognizes auto-replies and bounces, parses
 * the reply against the case's question set, and in ONE store transaction:
 * deduplicates by Message-ID, stores the raw message and the parsed result,
 * applies the workflow step, schedules timers and puts every resulting
 * e-mail into the outbox.  Only after that transaction committed does it
 * report APPLIED/ANSWERED/HELD/DUPLICATE.
 *
 * How it fails: IMI_TEMPFAIL when the store cannot commit or DNS is down
 * (the caller makes the MTA retry); never a silent drop.  It trusts nothing
 * in the message that a passing, aligned signature did not cover.
 */
#ifndef IMI_INBOUND_H
#define IMI_INBOUND_H

#include <stddef.h>

#include "conf/conf.h"
#include "store/store.h"

enum inbound_path {
	INBOUND_MILTER,  /* inside the SMTP session: failed authentication is rejected */
	INBOUND_DELIVER, /* after the MTA accepted: failed authentication is held */
	INBOUND_FETCH,   /* from a mailbox: no client IP, only DKIM (or trusted A-R) */
};

/* Around the transaction that records a message, for a caller with many
 * threads: enter may wait for a turn (the milter lets a few through at
 * once); the parsing and authentication before it run outside.  With a
 * gate the commit's wait for the disk comes after leave, shared with the
 * other threads' commits. */
struct inbound_gate {
	void (*enter)(void *ctx);
	void (*leave)(void *ctx);
	void *ctx;
};

struct inbound_envelope {
	enum inbound_path path;
	const char *sender;     /* MAIL FROM; "" for a bounce; NULL when unknown */
	const char *client_ip;  /* NULL when unknown */
	const char *helo;       /* NULL when unknown */
	const char *const *recipients; /* service addresses it was sent to; may be NULL */
	const struct inbound_gate *gate; /* NULL: none */
};

enum inbound_verdict {
	INBOUND_APPLIED,   /* the workflow step was applied and committed */
	INBOUND_ANSWERED,  /* not applied; the authenticated sender got a reply saying why */
	INBOUND_HELD,      /* kept in the review queue (imi held) */
	INBOUND_DUPLICATE, /* this Message-ID was processed before: same outcome */
	INBOUND_IGNORED,   /* auto-reply or bounce: recorded, never answered */
	INBOUND_REJECT,    /* milter only: authentication failed, refuse in SMTP */
	INBOUND_TEMPFAIL,  /* nothing committed; try again later */
	INBOUND_TOOBIG,    /* over max_message_bytes (cannot be stored at all), or, in the
			      milter, over a structural bound: refused */
};

struct inbound_result {
	enum inbound_verdict verdict;
	char *case_id;       /* the case concerned, when known */
	char *reason;        /* one line for the MTA/log; never personal data */
	char *auth_results;  /* Authentication-Results header value (RFC 8601) */
};

int inbound_process(struct store *store, const struct imi_conf *conf,
		    const void *raw, size_t len,
		    const struct inbound_envelope *envelope,
		    struct inbound_result *result, char **error_r);
/* The same, with the rules, catalogs and token key (policies/request.h)
 * given by a long-running caller (the milter keeps them per process)
 * instead of read for this message; env NULL: read them. */
struct request_env;
int inbound_process_env(struct store *store, const struct imi_conf *conf,
			struct request_env *env, const void *raw, size_t len,
			const struct inbound_envelope *envelope,
			struct inbound_result *result, char **error_r);
/* request_env_open and request_env_close, for callers that keep the
 * environment and cannot include policies/request.h. */
int inbound_env_open(const struct imi_conf *conf, struct request_env **env_r,
		     char **error_r);
void inbound_env_close(struct request_env **env);
void inbound_result_clear(struct inbound_result *result);

#endif

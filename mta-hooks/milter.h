/*
 * milter: the libmilter filter for Postfix/Sendmail smtpd_milters.
 *
 * What it does: keeps the envelope (sender, client address, HELO, service
 * recipients) and the message bytes of each SMTP transaction, and at end of
 * message hands them to inbound_process (path MILTER), then answers the MTA
 * through mta-hooks/answer.c: 250 only after the store committed, 451 on any
 * failure, 550 5.7.1 for failed authentication, 552 over max_message_bytes.
 * An accepted message gets an Authentication-Results header.  Unknown
 * addresses in the service domain are refused at RCPT (550 5.1.1); other
 * domains pass untouched, and a message with no service recipient is
 * accepted at once without being read.  A message for the service and for
 * others is processed for the service and passes on to the others (the
 * answer covers the whole transaction, so a rejected forged message is
 * refused for all of its recipients, and its sender is told).
 *
 * Threads: libmilter runs one thread per SMTP connection; the store and the
 * configuration are shared read-only handles (store_transact is
 * thread-safe).  Per-connection state lives in the libmilter context.
 *
 * How it fails: milter_run returns when libmilter stops (SIGTERM, SIGINT) or
 * cannot open its socket; every failure inside a transaction becomes a
 * temporary failure for that transaction only.
 * What it trusts: nothing the client sends; the envelope macros come from
 * the MTA.
 */
#ifndef IMI_MILTER_H
#define IMI_MILTER_H

#include "conf/conf.h"
#include "store/store.h"

#define MILTER_MAX_SERVICE_RECIPIENTS 100 /* service RCPTs in one transaction */
#define MILTER_TIMEOUT_SECONDS 300        /* MTA silent this long: give up */

struct milter_socket {
	const char *spec;    /* libmilter syntax: unix:PATH, local:PATH, inet:PORT@HOST */
	const char *group;   /* unix socket: group allowed to connect; NULL: none */
	int mode;            /* unix socket: permission bits, e.g. 0660 */
};

/* Runs the filter until libmilter stops; store and conf must outlive it.
 * store may be NULL when it could not be opened at start: it is opened at
 * the first message that finds it openable (and closed by milter_run). */
int milter_run(struct store *store, const struct imi_conf *conf,
	       const struct milter_socket *socket, char **error_r);

#endif

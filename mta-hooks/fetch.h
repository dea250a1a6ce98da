/*
 * fetch: the mailbox poller (imi fetch URL).
 *
 * What it does: takes every message out of a mailbox and runs it through
 * inbound_process (path FETCH: no client IP, so only DKIM or a trusted
 * Authentication-Results counts), and marks it done on the server only
 * after the store committed it:
 *   imap://USER:PASS@HOST:PORT/MAILBOX   STARTTLS when the server offers it
 *   imaps://...                          TLS from the start
 *       done = flags \Seen \Deleted, expunged at the end of the run;
 *       messages already flagged \Deleted are skipped
 *   pop3://USER:PASS@HOST:PORT, pop3s:// STARTTLS (STLS) when offered
 *       done = DELE (the server removes it at QUIT)
 *   maildir:PATH                         the embedded inbox Maildir
 *       done = the file is removed from new/ or cur/
 * Without a password in the URL, the environment variable IMI_FETCH_PASSWORD
 * gives it (command lines are visible to every local user).
 *
 * Exactly once: a crash between the commit and the marking leaves the
 * message on the server; the next run hands it to inbound_process again,
 * which answers DUPLICATE (the Message-ID index), and then it is marked.
 * Test hook: IMI_FETCH_CRASH_AT=fetched|committed|marked makes the process
 * _exit(9) at that step of the first message, so that tests can prove it.
 *
 * How it fails: a connection or login failure is IMI_TEMPFAIL; a message
 * the store cannot take now (TEMPFAIL) stops the run and stays on the
 * server; a message over max_message_bytes is left on the server and
 * counted as skipped (it is logged every run until an operator removes it).
 * What it trusts: nothing in the messages; the server's list of messages.
 * libetpan does not verify the server certificate: use TLS against
 * eavesdropping, and a server on the same host or network.
 */
#ifndef IMI_FETCH_H
#define IMI_FETCH_H

#include "conf/conf.h"
#include "store/store.h"

#define FETCH_MAX_MESSAGES 1000   /* messages taken per run */
#define FETCH_TIMEOUT_SECONDS 120 /* per server reply */

struct fetch_stats {
	unsigned taken;      /* committed (applied, answered, held, ignored) */
	unsigned duplicates; /* seen before, now marked */
	unsigned skipped;    /* over max_message_bytes, left on the server */
};

int fetch_run(struct store *store, const struct imi_conf *conf, const char *url,
	      struct fetch_stats *stats, char **error_r);

#endif

/*
 * sender: drains the outbox (imi send).
 *
 * What it does: takes the due items of the outbox in order, signs each with
 * the service's DKIM key (dkim_sign_message), and hands it either to the
 * SMTP relay of [outbound] smtp_relay (libetpan: EHLO, STARTTLS when the
 * relay offers it and always when smtp_starttls is set, AUTH when smtp_user
 * is set, MAIL/RCPT/DATA) or, with no relay (the embedded default), to the
 * outbox Maildir (tmp/, fsync, rename into new/, fsync of the directory).
 * Only after the relay's answer (or the rename) does it record the outcome,
 * in its own transaction: sent (the record goes, an audit entry stays),
 * retry (4xx, relay unreachable: exponential backoff from
 * SENDER_RETRY_BASE to SENDER_RETRY_MAX), or failed (5xx, or
 * SENDER_MAX_ATTEMPTS spent: kept with the relay's answer, never retried).
 * A recipient refused with 5xx while others took the message is recorded as
 * an audit entry "outbox.refused" naming the recipient and the answer.
 *
 * Each message keeps the Message-ID it was put with, so a message that the
 * relay took but whose outcome was not recorded (a crash in between) goes
 * out again with the same Message-ID: receivers see one message, and
 * imi's own inbound path deduplicates it.  One drain at a time: a lock file
 * (home/send.lock) keeps two drains from sending the same item.
 *
 * How it fails: a store failure stops the drain (IMI_TEMPFAIL; the items not
 * yet recorded go out again next time); a missing DKIM key is IMI_INVALID
 * before anything is sent: unsigned mail would fail the authorities'
 * DMARC checks.
 * What it trusts: the relay's reply codes.  libetpan does not verify the
 * relay's certificate: STARTTLS here protects against eavesdropping, and the
 * relay should be on the same host or network.
 */
#ifndef IMI_SENDER_H
#define IMI_SENDER_H

#include "conf/conf.h"
#include "store/store.h"

#define SENDER_MAX_BATCH 1000          /* items taken per drain */
#define SENDER_RETRY_BASE 300          /* first retry after 5 minutes */
#define SENDER_RETRY_MAX (6 * 3600)    /* never wait longer than 6 hours */
#define SENDER_MAX_ATTEMPTS 40         /* then failed: about 8 days of tries */
#define SENDER_SMTP_TIMEOUT 120        /* seconds for each relay reply */
#define SENDER_MAX_MAILDIR_FILES 1000000 /* entries looked at per Maildir folder */

struct sender_stats {
	unsigned sent;
	unsigned retried;
	unsigned failed;
};

/* Drains what is due at now. */
int sender_drain(struct store *store, const struct imi_conf *conf, int64_t now,
		 struct sender_stats *stats, char **error_r);

/* The outbox Maildir (sender_maildir.c, which knows nothing of SMTP: imi
 * tick uses it, and imi links it without libetpan). */

/* Writes msg (CRLF) as one Maildir file (LF) of the outbox Maildir, with
 * Return-Path and Delivered-To from item: into tmp/, synced, renamed into
 * new/.  IMI_OK when it is there (also when an earlier drain left it), with
 * what was done in detail; IMI_TEMPFAIL when the disk refused. */
int sender_maildir_write(const struct imi_conf *conf, const struct outbox_item *item,
			 const GString *msg, GString *detail, char **error_r);

/* The deletion of a case's personal data reaches the outbox Maildir: every
 * message written there for case_id (new/, cur/ or tmp/) is overwritten
 * with zeros and removed.  Waits for a running Maildir drain.  *removed_r:
 * how many.  A Maildir that does not exist holds nothing: IMI_OK. */
int sender_maildir_forget(const struct imi_conf *conf, const char *case_id,
			  unsigned *removed_r, char **error_r);

/* Delay before attempt number attempts+1. */
int64_t sender_backoff(int attempts);

#endif

/*
 * dsn: what a bounce says about our mail.
 *
 * What it does: reads a delivery status notification (RFC 3464: a
 * multipart/report; report-type=delivery-status) and returns the Message-ID
 * of the returned original (its message/rfc822 or text/rfc822-headers part)
 * and each recipient whose delivery failed for good (Action: failed, or a
 * Status 5.x.x) with its status and diagnostic.  A bounce that is not a
 * standard DSN but names its failed recipients in X-Failed-Recipients (Exim)
 * gives those, with the Message-ID found in its returned headers.
 *
 * How it fails: IMI_INVALID when the message is no bounce dsn_read can use
 * (no failed recipient found); bounds: DSN_MAX_PARTS parts looked at,
 * DSN_MAX_RECIPIENTS recipients, DSN_MAX_FIELD_BYTES of one field.
 *
 * What it trusts: nothing.  Anybody can write a DSN: the caller decides
 * what a failed recipient means (the inbound path believes it only for a
 * Message-ID of our own and a registered address).
 */
#ifndef IMI_DSN_H
#define IMI_DSN_H

#include <stddef.h>

#define DSN_MAX_PARTS 50        /* MIME parts looked at */
#define DSN_MAX_RECIPIENTS 100  /* failed recipients kept */
#define DSN_MAX_FIELD_BYTES 1000 /* one field value (a diagnostic) */

struct dsn_recipient {
	char *address;    /* Final-Recipient (else Original-Recipient), lower case */
	char *status;     /* "5.1.1", or "" */
	char *diagnostic; /* "smtp; 550 5.1.1 no such user", or "" */
};

struct dsn {
	char *original_message_id; /* without <>, or NULL when not returned */
	struct dsn_recipient *failed;
	unsigned failed_count;
};

int dsn_read(const void *raw, size_t len, struct dsn **dsn_r, char **error_r);
void dsn_free(struct dsn **dsn);

#endif

/*
 * due: whether anything is due at a time, read from the store alone.
 *
 * What it does: looks at the due-time index (store_timer_each_due) and at
 * the time of the next urgency lists (the STORE_META record "urgency-list",
 * written by request_urgency_run), without the policy, the catalogs or the
 * question sets.  imi tick asks it first: with nothing due (most runs of a
 * timer) nothing else is read, and the imi program does not load its mail
 * module (cli/mail_load.c).
 *
 * How it fails: it does not; a record it cannot read counts as due, so
 * that the whole tick runs and reports the error.
 */
#ifndef IMI_DUE_H
#define IMI_DUE_H

#include <stdint.h>

#include "store/store.h"

#define DUE_URGENCY_KEY "urgency-list" /* STORE_META record: {"v","next"} */

/* 1 when the urgency lists may be due at now (their next time has come,
 * or none is recorded yet), else 0. */
int due_urgency_pending(struct store_txn *txn, int64_t now);
/* 1 when a timer is due at now or the urgency lists may be, else 0. */
int due_pending(struct store_txn *txn, int64_t now);

#endif

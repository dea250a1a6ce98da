/*
 * held: the review queue of messages whose sender could not be
 * authenticated (inbound.h keeps them in STORE_MESSAGES with state "held",
 * sealed with a key of their own, "held:N"), shared by `imi held` and the
 * coordinators' mail commands (mailcmd.h).
 *
 * What it does: lists held messages, reads one, discards one (record, key
 * and Message-ID entry go; the key is destroyed so the sealed copy is
 * unreadable wherever it lies: the caller runs store_purge_logs after
 * commit), and releases one: its Message-ID is forgotten, it runs through
 * inbound_process again (held again if it still fails), and only then is
 * the old copy removed.  A release asked for by mail cannot run inside the
 * mail's own transaction; held_release_schedule sets a timer
 * "held-release:N" that `imi tick` runs through held_release_due.
 *
 * How it fails: IMI_NOTFOUND when no held message has that number; store
 * errors as the store gives them.  It trusts the store.
 */
#ifndef IMI_HELD_H
#define IMI_HELD_H

#include <stdint.h>

#include "conf/conf.h"
#include "mta-hooks/inbound.h"
#include "store/store.h"

#define HELD_MAX_LIST 100000         /* held messages listed at most */
#define HELD_TIMER_PREFIX "held-release:"
#define HELD_EXPIRE_PREFIX "held-expire:"

struct held_info {
	uint64_t seq;            /* the number imi held list shows */
	int64_t received;
	const char *message_id;
	const char *reason;
};
/* Calls fn for each held message in number order while it returns 0. */
typedef int held_each_fn(struct store_txn *txn, const struct held_info *h, void *ctx);
int held_each(struct store_txn *txn, held_each_fn *fn, void *ctx, char **error_r);

/* The record (json_object_unref) and the message as received (g_free). */
int held_read(struct store_txn *txn, uint64_t seq, JsonObject **obj_r, void **raw_r,
	      size_t *len_r, char **error_r);
/* The From address of a held message (g_free), or NULL. */
char *held_sender(struct store_txn *txn, uint64_t seq);

/* Audited as "held.discard" by actor. */
int held_discard(struct store_txn *txn, uint64_t seq, const char *actor, char **error_r);

/* Runs its own transactions (not inside one). */
int held_release(struct store *store, const struct imi_conf *conf, uint64_t seq,
		 const char *actor, struct inbound_result *result, char **error_r);

/* A release by `imi tick` (in the caller's transaction). */
int held_release_schedule(struct store_txn *txn, uint64_t seq, char **error_r);
/* For a due timer of kind "held-release:N": clears it and releases N. */
int held_release_due(struct store *store, const struct imi_conf *conf, int64_t when,
		     const char *kind, struct inbound_result *result, char **error_r);

/* The country of a held message's sender: its user's authority, else the
 * authority whose registered domain the address is in; NULL if none
 * (g_free). */
char *held_country(struct store_txn *txn, uint64_t seq);

struct request_env;
/* Tells the coordinators of the sender's country that message seq was
 * held and why (catalog held.notice, within the reply cap); a sender of no
 * country is only audited (held.untold).  In the caller's transaction. */
int held_tell_coordinators(struct store_txn *txn, struct request_env *env, uint64_t seq,
			   const char *reason, char **error_r);

/* The deletion of held message seq at when ([Retention] Held), as a timer
 * "held-expire:N" (in the caller's transaction). */
int held_expire_schedule(struct store_txn *txn, uint64_t seq, int64_t when,
			 char **error_r);
/* For a due timer of kind "held-expire:N" (in the caller's transaction):
 * clears it and deletes N, audited as "held.expired", when it is still
 * held.  *deleted_r: 1 when a key was destroyed (the caller purges logs). */
int held_expire_due(struct store_txn *txn, int64_t when, const char *kind,
		    int *deleted_r, char **error_r);

#endif

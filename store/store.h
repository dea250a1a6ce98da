/*
 * store: the one Berkeley DB transactional environment in the home directory.
 *
 * What it does: opens (creating on first use) the environment and its
 * databases, runs every write in a transaction with deadlock retry, and keeps
 * all durable state of imi: authorities, users (with a secondary index by
 * e-mail address), question sets, cases, messages (raw + parsed), the
 * Message-ID index, the due-time index of timers, the outbox, the audit log
 * and the wrapped per-case keys.  No side file holds case data, so Berkeley
 * DB replication can carry the whole state.
 *
 * Sharing: several processes use the environment at once (milter, deliver,
 * tick, send, the CLI).  It is opened with DB_REGISTER|DB_FAILCHK|DB_RECOVER,
 * so recovery runs only when a registered process died holding it, never
 * under live ones; failchk cleans up after a dead process when that is
 * enough.  A process killed mid-transaction does not block the others
 * (store.c explains how).
 *
 * Records: every value is a JSON object with a schema version "v"; a record
 * written by a newer schema than this program knows is refused, not guessed.
 * Personal data is sealed (XChaCha20-Poly1305, libsodium) with a key per case;
 * case keys are wrapped by the master key in home/keys/master.key (0600).
 * Destroying a case key (store_key_destroy) and then store_purge_logs makes
 * the sealed data unreadable wherever it lies.
 *
 * How it fails: every Berkeley DB or file-system failure is IMI_TEMPFAIL
 * (the caller retries: the MTA keeps the message), except "not found" and
 * "already exists".  Error texts say what to do.  It never prints or exits.
 */
#ifndef IMI_STORE_H
#define IMI_STORE_H

#include <json-glib/json-glib.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define STORE_SCHEMA_VERSION 2 /* 2: a message keeps its raw bytes in blobs.db */

struct store;
struct store_txn;

enum store_db {
	STORE_AUTHORITIES, /* id -> authority */
	STORE_USERS,       /* user id -> user */
	STORE_USERS_EMAIL, /* secondary: normalized e-mail -> user (read only) */
	STORE_QSETS,       /* question set id -> {"v","id","source":<keyfile text>} */
	STORE_CASES,       /* case id -> case */
	STORE_MESSAGES,    /* 8-byte big-endian sequence -> message */
	STORE_MSGIDS,      /* Message-ID -> {"message":seq,"case","outcome"} */
	STORE_DUE,         /* 8-byte BE time + case id + NUL + kind -> timer */
	STORE_OUTBOX,      /* 8-byte BE sequence -> outgoing message */
	STORE_AUDIT,       /* record number (append only) -> audit entry */
	STORE_KEYS,        /* key id ("case:ID", "held:N") -> slot in keyslots.db
			    * (4 bytes; a wrapped key of 72 bytes in homes
			    * made before key slots) */
	STORE_META,        /* counters, schema version */
	STORE_KEYSLOTS,    /* Queue: slot number -> wrapped key, fixed length,
			    * never moved by Berkeley DB (seal.c) */
	STORE_BLOBS,       /* 8-byte BE blob id + 4-byte BE chunk number ->
			    * header or sealed chunk (store/blob.h) */
	STORE_N_DBS
};

/* Open flags. */
#define STORE_OPEN_CREATE 0x1   /* imi init: create the environment */

/* Opens home/db.  Without STORE_OPEN_CREATE a missing store is IMI_NOTFOUND
 * with a text that says to run imi init. */
int store_open(const char *home, unsigned flags, struct store **store_r,
	       char **error_r);
void store_close(struct store **store);
const char *store_home(const struct store *store);

/* Transactions.  store_transact runs fn in a transaction, commits it, and
 * retries the whole function (up to a bound) when Berkeley DB picks it as a
 * deadlock victim; fn must have no effect outside the store.  Returns fn's
 * status, or the commit's. */
typedef int store_txn_fn(struct store_txn *txn, void *ctx, char **error_r);
int store_transact(struct store *store, store_txn_fn *fn, void *ctx,
		   char **error_r);
/* The same, but the commit does not wait for the log to reach the disk:
 * the caller must call store_sync, and tell nobody that the change is safe
 * before it returned IMI_OK.  A caller with many threads gets one log write
 * for the commits of all the threads that wait in store_sync at once
 * (group commit), instead of one each while holding the transaction. */
int store_transact_nosync(struct store *store, store_txn_fn *fn, void *ctx,
			  char **error_r);
/* Waits until every commit made so far is on the disk.  IMI_TEMPFAIL when
 * the log cannot be written (the commits may then be lost in a crash). */
int store_sync(struct store *store, char **error_r);
/* For the rare caller that must hold a transaction itself.  Transactions
 * never wait for locks: a conflict fails the operation at once with
 * IMI_TEMPFAIL ("store busy"); abort and start again (store_transact does
 * this, and reopens the store after a crashed process). */
int store_txn_begin(struct store *store, struct store_txn **txn_r,
		    char **error_r);
int store_txn_commit(struct store_txn **txn, char **error_r);
void store_txn_abort(struct store_txn **txn);
struct store *store_txn_store(struct store_txn *txn);

/* Raw values.  *value_r is g_malloc'd.  Flags: STORE_PUT_NEW refuses to
 * overwrite (IMI_EXISTS); STORE_GET_RMW takes a write lock on read. */
#define STORE_PUT_NEW 0x1
#define STORE_GET_RMW 0x2
int store_get(struct store_txn *txn, enum store_db db, const void *key,
	      size_t key_len, unsigned flags, void **value_r, size_t *len_r,
	      char **error_r);
int store_put(struct store_txn *txn, enum store_db db, const void *key,
	      size_t key_len, const void *value, size_t len, unsigned flags,
	      char **error_r);
int store_del(struct store_txn *txn, enum store_db db, const void *key,
	      size_t key_len, char **error_r);

/* Iteration in key order from `from` (NULL: the first key) while fn returns
 * 0; fn returning non-zero stops and that value is returned (a positive
 * value is the caller's; IMI_* statuses come from the store). */
typedef int store_each_fn(const void *key, size_t key_len, const void *value,
			  size_t len, void *ctx);
int store_each(struct store_txn *txn, enum store_db db, const void *from,
	       size_t from_len, store_each_fn *fn, void *ctx, char **error_r);

/* JSON records: a string key and a JSON object with "v".  The caller owns
 * *obj_r (json_object_unref). */
int store_record_get(struct store_txn *txn, enum store_db db,
		     const char *key, unsigned flags, JsonObject **obj_r,
		     char **error_r);
/* The same for a caller that only reads the record: *obj_r is sealed
 * (json_object_seal: setters refuse) and may be shared with other callers,
 * so a record read again and again (an authority, a case, by every message
 * of a long-running process) is parsed once for as long as its stored
 * bytes stay the same.  The bytes are still read in the transaction. */
int store_record_get_shared(struct store_txn *txn, enum store_db db,
			    const char *key, unsigned flags, JsonObject **obj_r,
			    char **error_r);
int store_record_put(struct store_txn *txn, enum store_db db,
		     const char *key, JsonObject *obj, unsigned flags,
		     char **error_r);
/* store_record_put for a writer done with the record: takes the caller's
 * reference (*objp is NULL after, whatever the result), so that the object
 * itself, sealed, can stand for what was written where a parse of the
 * record is kept for readers, instead of a copy of it. */
int store_record_put_release(struct store_txn *txn, enum store_db db,
			     const char *key, JsonObject **objp, unsigned flags,
			     char **error_r);
/* Parses a stored value; checks the schema version. */
int store_record_parse(const void *value, size_t len, JsonObject **obj_r,
		       char **error_r);
char *store_record_text(JsonObject *obj, size_t *len_r);

/* Counters in STORE_META: the next value of `name` (1, 2, ...). */
int store_next(struct store_txn *txn, const char *name, uint64_t *value_r,
	       char **error_r);
/* 8-byte big-endian key from a sequence number, so keys sort numerically. */
void store_key_u64(uint64_t n, unsigned char key[8]);
uint64_t store_key_u64_get(const void *key);

/* Personal data.  A key id names whose data it is ("case:IMI-2026-000001").
 * store_seal returns nonce+ciphertext as base64 text (g_free). */
int store_key_create(struct store_txn *txn, const char *key_id,
		     char **error_r);
int store_seal(struct store_txn *txn, const char *key_id, const void *plain,
	       size_t len, char **sealed_r, char **error_r);
int store_unseal(struct store_txn *txn, const char *key_id,
		 const char *sealed, void **plain_r, size_t *len_r,
		 char **error_r);
/* Overwrites the wrapped key in place, then deletes it: IMI_NOTFOUND
 * afterwards for every unseal. */
int store_key_destroy(struct store_txn *txn, const char *key_id,
		      char **error_r);
/* After a destroyed key was committed: flush, switch to a new log file,
 * checkpoint, and remove every log file recovery no longer needs, so that no
 * log file still holds the key. */
int store_purge_logs(struct store *store, char **error_r);

/* Audit: one append-only entry.  Never personal data in detail. */
int store_audit(struct store_txn *txn, const char *actor, const char *case_id,
		const char *event, const char *detail, char **error_r);

/* Timers in the due-time index.  Finding what is due costs in proportion to
 * what is due. */
int store_timer_set(struct store_txn *txn, int64_t when, const char *case_id,
		    const char *kind, char **error_r);
int store_timer_clear(struct store_txn *txn, int64_t when,
		      const char *case_id, const char *kind, char **error_r);
/* Calls fn for each timer with when <= now, in time order, while fn returns
 * 0. */
typedef int store_timer_fn(int64_t when, const char *case_id,
			   const char *kind, void *ctx);
int store_timer_each_due(struct store_txn *txn, int64_t now,
			 store_timer_fn *fn, void *ctx, char **error_r);

/* Consistency: every secondary and index agrees with its primary. */
int store_check(struct store *store, GString *report, char **error_r);

/* Typed records of the directory. */
struct authority {
	char *id;           /* short id chosen by the coordinator, e.g. "fr-ordre-medecins" */
	char *country;      /* ISO 3166-1 alpha-2, upper case; "EU" for the Commission */
	char *language;     /* two-letter code of the language it is written to in */
	GHashTable *names;  /* language -> name */
	char **areas;       /* legislative areas, NULL-terminated */
	char *postbox;      /* the authority's post-box address */
	char **domains;     /* mail domains registered for it */
	int alerts;         /* granted alert access */
	int alert_postbox;  /* its country's incoming alert post-box */
	int spf_aligned;    /* coordinator accepted SPF alignment instead of DKIM */
	int disabled;
	int64_t created;
	char *failing;      /* why mail to the post-box fails ("YYYY-MM-DD: 550 ...",
			     * a bounce or a permanent SMTP refusal), or NULL */
};
struct user {
	char *id;
	char *email;        /* normalized (lower case) */
	char *authority;    /* authority id */
	char *name;
	char **roles;       /* handler, coordinator, alert_coordinator, alert_sender */
	int disabled;
	int64_t created;
	char *failing;      /* why mail to the address fails, or NULL (as above) */
};

void authority_free(struct authority **a);
void user_free(struct user **u);
JsonObject *authority_to_json(const struct authority *a);
int authority_from_json(JsonObject *obj, struct authority **a_r, char **error_r);
JsonObject *user_to_json(const struct user *u);
int user_from_json(JsonObject *obj, struct user **u_r, char **error_r);
int user_has_role(const struct user *u, const char *role);

int store_authority_get(struct store_txn *txn, const char *id,
			struct authority **a_r, char **error_r);
int store_authority_put(struct store_txn *txn, const struct authority *a,
			unsigned flags, char **error_r);
int store_user_get(struct store_txn *txn, const char *id, struct user **u_r,
		   char **error_r);
int store_user_get_by_email(struct store_txn *txn, const char *email,
			    struct user **u_r, char **error_r);
int store_user_put(struct store_txn *txn, const struct user *u,
		   unsigned flags, char **error_r);

/* The directory's vocabulary: member states of the EU and EEA by ISO 3166-1
 * alpha-2 code (Greece is GR), "EU" for the Commission; the 24 official
 * languages by ISO 639-1 code; the roles of users. */
int directory_country_valid(const char *code);
int directory_language_valid(const char *code);
const char *const *directory_languages(void);
int directory_role_valid(const char *role);
int directory_id_valid(const char *id);
/* The address's domain is a registered domain of the authority or a
 * subdomain of one. */
int directory_domain_registered(const struct authority *a, const char *addr);
/* Search: country and area must match when given; the keyword, when given,
 * must occur in a name (any language), the id or the post-box, compared
 * without case or accents. */
int directory_match(const struct authority *a, const char *country,
		    const char *area, const char *keyword);
/* Calls fn for each authority in id order. */
typedef int directory_each_fn(struct authority *a, void *ctx);
int directory_each(struct store_txn *txn, directory_each_fn *fn, void *ctx,
		   char **error_r);
/* fn for each authority that directory_match accepts, in id order, found
 * through the search index (store/directory.c) when it can narrow the
 * search: the cost grows with the candidates, not the directory. */
int directory_search(struct store_txn *txn, const char *country, const char *area,
		     const char *keyword, directory_each_fn *fn, void *ctx, char **error_r);
/* The active users holding role at active authorities of country (with
 * alert access, when alerts is set): struct user * in *users_r
 * (g_ptr_array_free frees them).  At most DIRECTORY_MAX_USERS user records
 * are looked at. */
#define DIRECTORY_MAX_USERS 100000
int directory_users_with_role(struct store_txn *txn, const char *country, const char *role,
			      int alerts, GPtrArray **users_r, char **error_r);


/* The outbox.  Every outgoing e-mail is put here in the same transaction as
 * the state change that causes it; imi send drains it.  The message bytes
 * are sealed with the case's key when the case has one (they carry personal
 * data).  A sent message's record is removed (an audit entry remains), so
 * the outbox holds only what is still to send or failed for good. */
struct outbox_item {
	uint64_t seq;        /* key: order of putting */
	char *message_id;    /* stable across retries: a resend is not a new message */
	char *from;          /* envelope sender */
	char **to;           /* envelope recipients */
	char *case_id;       /* "" when the message belongs to no case */
	char *state;         /* "queued" or "failed" */
	int attempts;
	int64_t next_try;    /* do not send before */
	char *last_error;    /* the relay's last answer */
};
void outbox_item_free(struct outbox_item **item);
int outbox_put(struct store_txn *txn, const char *case_id, const char *from,
	       const char *const *to, const char *message_id, const void *raw,
	       size_t len, uint64_t *seq_r, char **error_r);
/* Calls fn for each queued item whose next_try <= now, in seq order, while
 * fn returns 0. */
typedef int outbox_each_fn(const struct outbox_item *item, void *ctx);
int outbox_each_due(struct store_txn *txn, int64_t now, outbox_each_fn *fn,
		    void *ctx, char **error_r);
/* The item and its message bytes (opened). */
int outbox_read(struct store_txn *txn, uint64_t seq, struct outbox_item **item_r,
		void **raw_r, size_t *len_r, char **error_r);
/* sent: removes the record (audit "outbox.sent"); retry: attempts+1 and
 * next_try; failed: kept with the error, never retried. */
int outbox_mark_sent(struct store_txn *txn, uint64_t seq, const char *detail,
		     char **error_r);
int outbox_mark_retry(struct store_txn *txn, uint64_t seq, int64_t next_try,
		      const char *detail, char **error_r);
int outbox_mark_failed(struct store_txn *txn, uint64_t seq, const char *detail,
		       char **error_r);
/* Retention: removes every outbox record of a case. */
int outbox_forget_case(struct store_txn *txn, const char *case_id,
		       char **error_r);

#endif

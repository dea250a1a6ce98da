/*
 * store_int.h: what the files of store/ share; not part of the interface.
 */
#ifndef IMI_STORE_INT_H
#define IMI_STORE_INT_H

#include <db.h>
#include <pthread.h>
#include <sodium.h>

#include "store/store.h"

/* A case key wrapped by the master key: nonce, key, tag (seal.c). */
#define STORE_WRAPPED_KEY_BYTES                                                \
	(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +                        \
	 crypto_aead_xchacha20poly1305_ietf_KEYBYTES +                         \
	 crypto_aead_xchacha20poly1305_ietf_ABYTES)

struct store {
	DB_ENV *env;
	DB *dbs[STORE_N_DBS];
	char *home;          /* the home directory */
	char *dbdir;         /* home/db: the environment */
	unsigned char master[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	int dead;            /* DB_RUNRECOVERY seen: reopen before the next use
			      * (atomic: the watchdog sets it) */
	unsigned generation; /* counts opens of env, for the watchdog */
	int wrote;           /* atomic: bit 1 << db for each database that a
			      * committed transaction wrote */
	int stuck;           /* atomic: a transaction meets lasting conflicts */
	GThread *watchdog;   /* failchk when stuck by a dead process */
	GMutex watch_lock;   /* guards watch_stop and env for the watchdog */
	GCond watch_cond;
	int watch_stop;
	pthread_rwlock_t use_lock; /* threads hold it to read from store_txn_begin
				    * to commit or abort; a reopen, to write */
	GMutex reopen_lock;  /* a reopen holds it: no transaction begins */
	int open_err;        /* Berkeley DB's error of the last failed open, or 0 */
};

struct store_txn {
	struct store *store;
	DB_TXN *txn;
	int deadlock;        /* an operation met a lock conflict: run again */
	int wrote;           /* bit 1 << db: a put or delete was made there */
	int nosync;          /* commit without waiting for the log to reach the disk */
};

/* Maps a Berkeley DB error to an IMI status, remembering deadlocks and
 * panics in the transaction and store. */
int store_db_fail(struct store_txn *txn, int dberr, char **error_r,
		  const char *what);

/* The case key of key_id, unwrapped (seal.c), for the sealing done
 * elsewhere in store/ (blob.c); the caller wipes it (sodium_memzero).
 * IMI_NOTFOUND once the key was destroyed. */
int store_seal_key(struct store_txn *txn, const char *key_id,
		   unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES],
		   char **error_r);

#endif

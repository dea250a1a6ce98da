/*
 * store_int.h: what the files of store/ share; not part of the interface.
 */
#ifndef IMI_STORE_INT_H
#define IMI_STORE_INT_H

#include <db.h>
#include <pthread.h>
#include <sodium.h>

#include "store/store.h"

struct store {
	DB_ENV *env;
	DB *dbs[STORE_N_DBS];
	char *home;          /* the home directory */
	char *dbdir;         /* home/db: the environment */
	unsigned char master[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	int dead;            /* DB_RUNRECOVERY seen: reopen before the next use
			      * (atomic: the watchdog sets it) */
	unsigned generation; /* counts opens of env, for the watchdog */
	int stuck;           /* atomic: a transaction meets lasting conflicts */
	GThread *watchdog;   /* failchk after open and when stuck */
	GMutex watch_lock;   /* guards watch_stop and env for the watchdog */
	GCond watch_cond;
	int watch_stop;
	pthread_rwlock_t use_lock; /* threads hold it to read from store_txn_begin
				    * to commit or abort; a reopen, to write */
	GMutex reopen_lock;  /* a reopen holds it: no transaction begins */
};

struct store_txn {
	struct store *store;
	DB_TXN *txn;
	int deadlock;        /* an operation met a lock conflict: run again */
};

/* Maps a Berkeley DB error to an IMI status, remembering deadlocks and
 * panics in the transaction and store. */
int store_db_fail(struct store_txn *txn, int dberr, char **error_r,
		  const char *what);

#endif

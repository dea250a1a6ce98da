/*
 * store.c: the environment, its databases, transactions and raw values.
 *
 * Several processes share the environment, and one may die (SIGKILL, the
 * OOM killer) at any instruction while the others keep running.  The kernel
 * ends a killed process at a system call or where it was preempted, i.e.
 * often inside Berkeley DB, holding logical locks, a transaction, or a
 * mutex of the shared regions.  Berkeley DB 5.3 as built here (POSIX
 * mutexes, process-shared) frees none of these by itself, so:
 *
 * - No thread ever waits for a logical lock.  Every transaction runs with
 *   DB_TXN_NOWAIT; a conflict comes back at once (DB_LOCK_NOTGRANTED or
 *   DB_LOCK_DEADLOCK) and store_transact aborts and runs the function again
 *   after a short random back-off.  Why: a lock wait is an untimed
 *   pthread_cond_wait on a process-shared condition variable.  Only the
 *   holder or the deadlock detector wakes it; a dead holder never does, a
 *   panicked environment refuses to run the detector, and a lock timeout
 *   comes back as DB_LOCK_DEADLOCK (indistinguishable from a plain
 *   deadlock).  Worse, freeing the waiting lock of a process killed while
 *   it waited (what failchk does) calls pthread_cond_destroy on a condition
 *   variable whose waiter count never drops: glibc (2.25 on) blocks there
 *   for ever.  Without lock waits none of these states arise.
 *
 * - Locks and transactions of a dead process: when a store_transact meets
 *   conflicts for STORE_STUCK_US and an active transaction belongs to a
 *   dead process, the store's watchdog thread runs DB_ENV->failchk (at
 *   most twice a second).
 *   The is_alive callback tells dead processes, zombies included.  If the
 *   dead process was outside the library, failchk aborts its transaction
 *   and releases its locks, and everyone goes on without recovery.  If it
 *   died inside the library, failchk returns DB_RUNRECOVERY: Berkeley DB
 *   itself demands recovery.  failchk is not run all the time because it
 *   walks the lockers under region mutexes: a process killed during it
 *   would leave them held.
 *
 * - Mutexes of a dead process: this file makes every process-shared pthread
 *   mutex robust (see store_owner_died below).  The next thread that asks
 *   for a mutex whose holder died panics the environment, releases the
 *   mutex so that nobody stays blocked behind it, and Berkeley DB fails the
 *   call with DB_RUNRECOVERY.  After a panic Berkeley DB writes nothing
 *   more to disk from that environment.
 *
 * - DB_RUNRECOVERY, from failchk or any call, marks the store dead;
 *   store_transact panics the old environment (so that closing it only
 *   detaches and every other process also sees DB_RUNRECOVERY), closes it
 *   and reopens with DB_REGISTER|DB_RECOVER, plus DB_FAILCHK when the
 *   registry names a dead process (store_env_open).  Berkeley DB's
 *   registry then runs failchk and, only if that fails, recovery, and
 *   only when a registered process died; the first process to reopen recovers, the
 *   others wait on the registry lock and attach to the new environment.
 *   The function is then run again.  A commit that failed this way may or
 *   may not have committed; that is why functions must be safe to repeat
 *   (no effect outside the store).  A commit that returned success is in
 *   the log on disk, which recovery replays: it is never lost.
 *
 * - Waits nobody will end: a process killed while it led a group commit
 *   leaves the other committers waiting on a condition only it signals.
 *   Long waits on process-shared conditions are cut into slices and fail
 *   when a registered process is dead (see store_wedge_us below).
 *
 * - Shared latches of a dead process (pthread rwlocks, which cannot be
 *   robust) and conditions a dead process waited on: waits for the one are
 *   cut into slices like the waits above, and destroying the other does
 *   not wait for a waiter that will never leave (see below).
 *
 * A panic without any dead registered process (e.g. an I/O error) needs
 * recovery run by hand with every imi process stopped; the error text
 * says so.
 */
#include "store/store_int.h"
#include "store/blob.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_TXN_RETRIES 4096        /* conflicts retried at most this often... */
#define STORE_BUSY_US (20 * G_USEC_PER_SEC) /* ...and for at most this long */
#define STORE_BACKOFF_MAX_US 20000     /* longest pause between two attempts */
#define STORE_REOPENS 8               /* reopens after DB_RUNRECOVERY per call */
#define STORE_STUCK_US 200000         /* conflicts this long: run failchk */
#define STORE_LOG_FILE_BYTES (1 << 20) /* small log files: deletion removes them sooner */
#define STORE_CACHE_BYTES (16 << 20)
#define STORE_THREADS 256             /* threads and processes sharing the env */
#define STORE_REOPEN_WAIT_S 5         /* a reopen waits this long for running transactions */
#define STORE_REG_TIMEOUT_US 200000   /* recovery waits this long for others to see the panic */

static const struct {
	const char *file;
	DBTYPE type;
	u_int32_t re_len; /* record length of a Queue */
} store_files[STORE_N_DBS] = {
	[STORE_AUTHORITIES] = {"authorities.db", DB_BTREE, 0},
	[STORE_USERS] = {"users.db", DB_BTREE, 0},
	[STORE_USERS_EMAIL] = {"users-email.db", DB_BTREE, 0},
	[STORE_QSETS] = {"qsets.db", DB_BTREE, 0},
	[STORE_CASES] = {"cases.db", DB_BTREE, 0},
	[STORE_MESSAGES] = {"messages.db", DB_BTREE, 0},
	[STORE_MSGIDS] = {"msgids.db", DB_BTREE, 0},
	[STORE_DUE] = {"due.db", DB_BTREE, 0},
	[STORE_OUTBOX] = {"outbox.db", DB_BTREE, 0},
	[STORE_AUDIT] = {"audit.db", DB_RECNO, 0},
	[STORE_KEYS] = {"keys.db", DB_BTREE, 0},
	[STORE_META] = {"meta.db", DB_BTREE, 0},
	[STORE_KEYSLOTS] = {"keyslots.db", DB_QUEUE, STORE_WRAPPED_KEY_BYTES},
	[STORE_BLOBS] = {"blobs.db", DB_BTREE, 0},
};

int store_db_fail(struct store_txn *txn, int dberr, char **error_r,
		  const char *what)
{
	switch (dberr) {
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return IMI_NOTFOUND;
	case DB_KEYEXIST:
		return imi_fail(error_r, IMI_EXISTS, "%s: already exists", what);
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		if (txn != NULL)
			txn->deadlock = 1;
		return imi_fail(error_r, IMI_TEMPFAIL,
				"%s: store busy, try again", what);
	case DB_RUNRECOVERY:
		if (txn != NULL)
			g_atomic_int_set(&txn->store->dead, 1);
		return imi_fail(error_r, IMI_TEMPFAIL,
				"%s: the store needs recovery; it runs by itself when "
				"a process died holding it, otherwise stop every imi "
				"process and run db5.3_recover -h on the store's db "
				"directory", what);
	case ENOSPC:
		return imi_fail(error_r, IMI_TEMPFAIL,
				"%s: disk full; free space under the home directory",
				what);
	case EROFS:
	case EACCES:
	case EPERM:
		return imi_fail(error_r, IMI_TEMPFAIL,
				"%s: the store is not writable (%s); check the home "
				"directory's mount and permissions",
				what, db_strerror(dberr));
	default:
		return imi_fail(error_r, IMI_TEMPFAIL, "%s: %s", what,
				db_strerror(dberr));
	}
}

/* Mutexes that survive their holder.  Berkeley DB 5.3 (built here for
 * POSIX mutexes) guards its shared regions with process-shared pthread
 * mutexes; when a process is killed holding one, every other process that
 * asks for it blocks for ever (seen: killed while writing the log under the
 * region mutex, which the lock and transaction regions share).
 * The library has no setting for this, so this process provides
 * pthread_mutexattr_setpshared itself: a process-shared mutex is also made
 * robust.  The next thread to lock a mutex whose holder died gets
 * EOWNERDEAD from glibc; it then panics every environment of this process
 * (the panic lives in the shared region: all processes see DB_RUNRECOVERY
 * at their next call, and no write reaches the disk after it), makes the
 * mutex consistent, unlocks it so that its other waiters are not stuck
 * behind it, and passes EOWNERDEAD to Berkeley DB, which fails the call
 * with DB_RUNRECOVERY.  Recovery then rebuilds the regions (see the header
 * comment).  Only process-shared mutexes are touched: other mutexes of the
 * process keep their type, and these functions only pass through when no
 * holder died. */
static GMutex store_envs_lock;
static GSList *store_envs;      /* open environments of this process */

static void store_envs_add(DB_ENV *env)
{
	g_mutex_lock(&store_envs_lock);
	store_envs = g_slist_prepend(store_envs, env);
	g_mutex_unlock(&store_envs_lock);
}

static void store_envs_remove(DB_ENV *env)
{
	g_mutex_lock(&store_envs_lock);
	store_envs = g_slist_remove(store_envs, env);
	g_mutex_unlock(&store_envs_lock);
}

/* The holder of m died: m is ours now. */
static void store_owner_died(pthread_mutex_t *m)
{
	g_mutex_lock(&store_envs_lock);
	for (GSList *l = store_envs; l != NULL; l = l->next) {
		DB_ENV *env = l->data;
		env->set_flags(env, DB_PANIC_ENVIRONMENT, 1);
	}
	g_mutex_unlock(&store_envs_lock);
	pthread_mutex_consistent(m);
}

/* The C library's own function, looked up on first use (threads may race
 * to it; they store the same value). */
#define STORE_REAL(type, name, args)                                       \
	static type(*real_) args;                                          \
	type(*real) args = __atomic_load_n(&real_, __ATOMIC_ACQUIRE);      \
	if (real == NULL) {                                                \
		real = (type(*) args)dlsym(RTLD_NEXT, name);               \
		__atomic_store_n(&real_, real, __ATOMIC_RELEASE);          \
	}

int pthread_mutexattr_setpshared(pthread_mutexattr_t *attr, int pshared)
{
	STORE_REAL(int, "pthread_mutexattr_setpshared",
		   (pthread_mutexattr_t *, int));
	int ret = real(attr, pshared);

	if (ret == 0 && pshared == PTHREAD_PROCESS_SHARED)
		ret = pthread_mutexattr_setrobust(attr, PTHREAD_MUTEX_ROBUST);
	return ret;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
	STORE_REAL(int, "pthread_mutex_lock", (pthread_mutex_t *));
	int ret = real(m);

	if (ret == EOWNERDEAD) {
		store_owner_died(m);
		pthread_mutex_unlock(m);
	}
	return ret;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
	STORE_REAL(int, "pthread_mutex_trylock", (pthread_mutex_t *));
	int ret = real(m);

	if (ret == EOWNERDEAD) {
		store_owner_died(m);
		pthread_mutex_unlock(m);
	}
	return ret;
}

/* A wait nobody will end.  A process killed while it held a Berkeley DB
 * mutex through its flag rather than through the pthread mutex (the leader
 * of a group commit: the others wait on the flush mutex's condition for it
 * to finish) leaves its waiters blocked for ever: the pthread mutex is
 * free, so robustness does not help, and failchk does not see the dead
 * holder.  So an untimed wait on a process-shared condition variable is
 * cut into slices of one second; a slice that ends without a signal
 * returns 0, which Berkeley DB takes as a spurious wake-up (it checks the
 * mutex's flag and waits again).  When one thread's wait on the same
 * condition has lasted STORE_WEDGE_S and one of this process's
 * environments is panicked already (another process recovered it) or its
 * registry shows a dead process, the environments are panicked and the
 * wait fails with EOWNERDEAD: Berkeley DB unlocks the mutex and fails the
 * call with DB_RUNRECOVERY, and the store recovers as after any death
 * inside the library.  A long wait behind a living
 * process goes on waiting.  IMI_STORE_WEDGE_SECONDS sets the period
 * (tests). */
#define STORE_WEDGE_S 10
#define STORE_OPEN_TRIES 10             /* opens tried after a conflict or a recovery */
#define STORE_OPEN_PAUSE_US 200000      /* pause between them, at most */
#define STORE_PSHARED_KIND 128 /* glibc: PTHREAD_MUTEX_PSHARED_BIT of __kind */

static int store_registry_dead(const char *dbdir);
static __thread pthread_cond_t *store_wait_cond; /* the condition waited on */
static __thread gint64 store_wait_since;         /* since when (monotonic, us) */
static __thread gint64 store_wait_slice;         /* end of its last slice */

static gint64 store_wedge_us(void)
{
	static gint64 us;
	gint64 v = __atomic_load_n(&us, __ATOMIC_ACQUIRE);

	if (v == 0) {
		const char *e = getenv("IMI_STORE_WEDGE_SECONDS");
		long s = e != NULL ? strtol(e, NULL, 10) : 0;

		v = (gint64)(s > 0 && s < 3600 ? s : STORE_WEDGE_S) * G_USEC_PER_SEC;
		__atomic_store_n(&us, v, __ATOMIC_RELEASE);
	}
	return v;
}

/* Whether an environment of this process is panicked already, or its
 * registry names a dead process; if so, every environment of this process
 * is panicked.  A panicked one is one that another process recovered
 * (after a third died, it panics the regions, removes them and makes them
 * anew): this process waits there on a mutex nobody will release, and the
 * registry, cleared by that recovery, names nobody dead any more. */
static int store_envs_dead_panic(void)
{
	int dead = 0;

	g_mutex_lock(&store_envs_lock);
	for (GSList *l = store_envs; l != NULL && !dead; l = l->next) {
		DB_ENV *env = l->data;
		const char *home = NULL;
		u_int32_t flags = 0;
		int ret = env->get_flags(env, &flags); /* DB_RUNRECOVERY when panicked */

		if (ret == DB_RUNRECOVERY || (flags & DB_PANIC_ENVIRONMENT))
			dead = 1;
		else if (env->get_home(env, &home) == 0 && home != NULL)
			dead = store_registry_dead(home);
	}
	for (GSList *l = store_envs; l != NULL && dead; l = l->next) {
		DB_ENV *env = l->data;
		env->set_flags(env, DB_PANIC_ENVIRONMENT, 1);
	}
	g_mutex_unlock(&store_envs_lock);
	return dead;
}

/* A condition wait relocks its mutex: the same may happen there.  Berkeley
 * DB unlocks the mutex itself when the wait fails. */
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	STORE_REAL(int, "pthread_cond_wait", (pthread_cond_t *, pthread_mutex_t *));
	int ret;

	if (!(m->__data.__kind & STORE_PSHARED_KIND)) {
		ret = real(c, m);
	} else {
		gint64 now = g_get_monotonic_time();
		struct timespec until;

		/* The same wait goes on when the caller comes back at once
		 * from a slice; anything else is a wait of its own. */
		if (store_wait_cond != c || now - store_wait_slice > G_USEC_PER_SEC / 2) {
			store_wait_cond = c;
			store_wait_since = now;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		ret = pthread_cond_timedwait(c, m, &until);
		if (ret == ETIMEDOUT) {
			store_wait_slice = g_get_monotonic_time();
			if (store_wait_slice - store_wait_since >= store_wedge_us() &&
			    store_envs_dead_panic()) {
				store_wait_cond = NULL;
				return EOWNERDEAD;
			}
			return 0; /* as a spurious wake-up: the caller looks again */
		}
		store_wait_cond = NULL;
		return ret; /* EOWNERDEAD handled by pthread_cond_timedwait */
	}
	if (ret == EOWNERDEAD)
		store_owner_died(m);
	return ret;
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
			   const struct timespec *abstime)
{
	STORE_REAL(int, "pthread_cond_timedwait",
		   (pthread_cond_t *, pthread_mutex_t *, const struct timespec *));
	int ret = real(c, m, abstime);

	if (ret == EOWNERDEAD)
		store_owner_died(m);
	return ret;
}

/* A shared latch a dead process held.  Berkeley DB's shared latches (the
 * cache's buffer latches, mostly) are process-shared pthread rwlocks,
 * which cannot be robust: a process killed while it held one left every
 * later taker blocked for ever (a writer splitting a page, waiting for the
 * root page's latch).  So a wait for a process-shared rwlock is cut into
 * slices of one second, and fails with EOWNERDEAD under the rule of the
 * condition waits above: once it has lasted STORE_WEDGE_S and an
 * environment of this process is panicked or its registry shows a dead
 * process.  Berkeley DB then panics the environment and fails the call
 * with DB_RUNRECOVERY, and the store recovers. */
static int store_rwlock_wait(pthread_rwlock_t *rw, int write)
{
	gint64 since = g_get_monotonic_time();
	struct timespec until;
	int ret;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		ret = write ? pthread_rwlock_clockwrlock(rw, CLOCK_MONOTONIC, &until)
			    : pthread_rwlock_clockrdlock(rw, CLOCK_MONOTONIC, &until);
		if (ret != ETIMEDOUT)
			return ret;
		if (g_get_monotonic_time() - since >= store_wedge_us() &&
		    store_envs_dead_panic())
			return EOWNERDEAD;
	}
}

int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
	STORE_REAL(int, "pthread_rwlock_wrlock", (pthread_rwlock_t *));

	if (rw->__data.__shared == 0)
		return real(rw);
	if (pthread_rwlock_trywrlock(rw) == 0)
		return 0;
	return store_rwlock_wait(rw, 1);
}

int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
	STORE_REAL(int, "pthread_rwlock_rdlock", (pthread_rwlock_t *));

	if (rw->__data.__shared == 0)
		return real(rw);
	if (pthread_rwlock_tryrdlock(rw) == 0)
		return 0;
	return store_rwlock_wait(rw, 0);
}

/* Destroying a condition a dead process waited on.  failchk frees the
 * mutexes of a dead process, and with each its condition variable; glibc
 * (2.25 on) makes pthread_cond_destroy wait until every waiter has left
 * the wait, and a waiter killed inside it never leaves: the destroyer
 * blocked for ever, holding the region's mutexes, and every process
 * behind it.  A process-shared condition lives in a region file, and
 * destroying one frees nothing: so when waiters are still counted, this
 * waits STORE_DESTROY_WAIT_US for them to leave (a living one does, once
 * woken) and then returns without them.  The count is glibc's: __wrefs
 * holds the waiters from bit 3 up, and bit 0 is set when the condition is
 * process-shared. */
#define STORE_DESTROY_WAIT_US 100000
#define STORE_COND_PSHARED 1u   /* glibc: __PTHREAD_COND_SHARED_MASK */
#define STORE_COND_WREFS_SHIFT 3 /* glibc: waiters counted from bit 3 */

int pthread_cond_destroy(pthread_cond_t *c)
{
	STORE_REAL(int, "pthread_cond_destroy", (pthread_cond_t *));
	unsigned w = __atomic_load_n(&c->__data.__wrefs, __ATOMIC_ACQUIRE);
	gint64 until;

	if (!(w & STORE_COND_PSHARED) || (w >> STORE_COND_WREFS_SHIFT) == 0)
		return real(c);
	until = g_get_monotonic_time() + STORE_DESTROY_WAIT_US;
	do {
		g_usleep(1000);
		w = __atomic_load_n(&c->__data.__wrefs, __ATOMIC_ACQUIRE);
		if ((w >> STORE_COND_WREFS_SHIFT) == 0)
			return real(c);
	} while (g_get_monotonic_time() < until);
	return 0;
}

/* Berkeley DB asks whether a thread of control is alive.  For a thread of
 * our own process we cannot tell and say yes; another process is alive while
 * kill(pid, 0) finds it. */
static int store_is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid,
			  u_int32_t flags)
{
	char path[64], *stat = NULL, *paren;
	int alive;

	if (pid == getpid())
		return 1;
	if (kill(pid, 0) != 0 && errno != EPERM)
		return 0;
	/* A killed process not yet reaped by its parent still answers
	 * kill(pid, 0); its state in /proc says it is a zombie. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!g_file_get_contents(path, &stat, NULL, NULL))
		return 1;
	paren = strrchr(stat, ')');
	alive = paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
	g_free(stat);
	return alive;
}

/* The secondary key of a user: its normalized e-mail address. */
static int store_user_email_key(DB *secondary, const DBT *key, const DBT *data,
				DBT *result)
{
	JsonObject *obj = NULL;
	const char *email;
	char *copy;

	if (store_record_parse(data->data, data->size, &obj, NULL) != IMI_OK)
		return DB_DONOTINDEX;
	email = json_object_get_string_member_with_default(obj, "email", NULL);
	if (email == NULL || *email == '\0') {
		json_object_unref(obj);
		return DB_DONOTINDEX;
	}
	copy = strdup(email);
	json_object_unref(obj);
	if (copy == NULL)
		return ENOMEM;
	memset(result, 0, sizeof(*result));
	result->data = copy;
	result->size = (u_int32_t)strlen(copy);
	result->flags = DB_DBT_APPMALLOC;
	return 0;
}

static int store_master_key(struct store *store, unsigned flags, char **error_r)
{
	char *dir = g_build_filename(store->home, "keys", NULL);
	char *path = g_build_filename(dir, "master.key", NULL);
	int ret = IMI_OK, fd;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && (flags & STORE_OPEN_CREATE)) {
		randombytes_buf(store->master, sizeof(store->master));
		if ((ret = imi_mkdir_p(dir, 0700, error_r)) == IMI_OK)
			ret = imi_write_file_atomic(path, store->master,
						    sizeof(store->master), 0600,
						    error_r);
		goto out;
	}
	if (fd < 0) {
		ret = imi_fail(error_r, errno == ENOENT ? IMI_NOTFOUND : IMI_TEMPFAIL,
			       "cannot read the master key %s: %s", path,
			       strerror(errno));
		goto out;
	}
	n = read(fd, store->master, sizeof(store->master));
	close(fd);
	if (n != (ssize_t)sizeof(store->master))
		ret = imi_fail(error_r, IMI_ERROR,
			       "the master key %s is damaged (%zd bytes)", path, n);
out:
	g_free(dir);
	g_free(path);
	return ret;
}

/* Berkeley DB's own error and progress messages: a library does not
 * print; they are there for debugging (G_MESSAGES_DEBUG=imi-store). */
static void store_db_errcall(const DB_ENV *env, const char *prefix,
			     const char *msg)
{
	g_log("imi-store", G_LOG_LEVEL_DEBUG, "%s: %s", prefix, msg);
}

static void store_db_msgcall(const DB_ENV *env, const char *msg)
{
	g_log("imi-store", G_LOG_LEVEL_DEBUG, "%s", msg);
}

/* Berkeley DB's registry (DB_REGISTER): the file __db.register holds one
 * line of STORE_REG_SLOT bytes per process that has the environment open,
 * and each such process holds an fcntl write lock on the first byte of its
 * line for as long as it has it open; a free line starts with 'X'.
 * A line that names a process but whose byte nobody locks was left by a
 * process that died with the environment open.  This only looks (F_GETLK
 * takes no lock, so none of this process's own locks on the file is
 * affected): before the environment is opened, and during a long wait. */
#define STORE_REG_FILE "__db.register"
#define STORE_REG_SLOT 25
#define STORE_REG_SLOTS_MAX 65536 /* lines looked at, at most */

static int store_registry_dead(const char *dbdir)
{
	char *path = g_build_filename(dbdir, STORE_REG_FILE, NULL);
	char line[STORE_REG_SLOT];
	int fd, dead = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	g_free(path);
	if (fd < 0)
		return 0; /* no registry yet: nobody ever registered */
	for (off_t n = 0; n < STORE_REG_SLOTS_MAX && !dead; n++) {
		off_t pos = n * STORE_REG_SLOT;
		ssize_t got = pread(fd, line, sizeof(line), pos);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
				   .l_start = pos, .l_len = 1};

		if (got == 0)
			break;
		if (got != (ssize_t)sizeof(line)) {
			dead = 1; /* a torn line: Berkeley DB recovers too */
			break;
		}
		if (line[0] == 'X')
			continue;
		/* This process's own line: F_GETLK reports no conflict with
		 * a lock of one's own, which would read as dead. */
		line[sizeof(line) - 1] = '\0';
		if (strtol(line, NULL, 10) == (long)getpid())
			continue;
		if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
			dead = 1;
	}
	close(fd);
	return dead;
}

/* Disk space for the shared regions, taken at open.  Berkeley DB maps each
 * region file (db/__db.NNN) at its maximum size but grows the file only as
 * the region fills (the cache, mostly), by writing its last byte: the pages
 * in between are holes.  When the file system is full, the first touch of
 * such a page kills the process with SIGBUS, holding the environment.  So
 * the whole mapped length of each region file is allocated here, without
 * changing its size (FALLOC_FL_KEEP_SIZE); a full disk is then ENOSPC at
 * open, a temporary failure, and never a crash later.  The mapped lengths
 * come from /proc/self/maps. */
#define STORE_MAX_MAP_LINES 100000 /* lines of /proc/self/maps read */

static int store_regions_reserve(struct store *store, char **error_r)
{
	char *prefix = g_build_filename(store->dbdir, "__db.", NULL);
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[4096];
	int ret = IMI_OK;

	if (maps == NULL) {
		g_free(prefix);
		return IMI_OK; /* no /proc: nothing to learn the lengths from */
	}
	for (unsigned n = 0; ret == IMI_OK && n < STORE_MAX_MAP_LINES &&
			     fgets(line, sizeof(line), maps) != NULL; n++) {
		unsigned long start, end;
		char *path = strchr(line, '/');
		int fd;

		if (path == NULL || !g_str_has_prefix(path, prefix) ||
		    sscanf(line, "%lx-%lx", &start, &end) != 2 || end <= start)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)(end - start)) != 0 &&
		    errno != EOPNOTSUPP && errno != ENOSYS)
			ret = imi_fail(error_r, IMI_TEMPFAIL,
				       "%s: %s: cannot take %lu bytes for the store's shared "
				       "memory (%s); free space under the home directory",
				       store->dbdir, errno == ENOSPC ? "disk full" : "file system",
				       end - start, g_strerror(errno));
		close(fd);
	}
	fclose(maps);
	g_free(prefix);
	return ret;
}

static int store_env_open(struct store *store, char **error_r)
{
	DB_ENV *env;
	DB_TXN *txn = NULL;
	int err, i;
	u_int32_t envflags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
			     DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD |
			     DB_REGISTER | DB_RECOVER;

	/* DB_FAILCHK with DB_REGISTER: when a registered process died, the
	 * opener first tries failchk and runs recovery only if that fails.
	 * But DB_FAILCHK also makes every open run failchk, dead process or
	 * not: a walk of every locker under the lock region's mutex, calling
	 * is_alive for each, while this process takes mutexes by polling
	 * trylock and is_alive in a loop.  With dozens of processes opening
	 * at once that convoy took minutes.  So the flag is given only when
	 * the registry shows a dead process; one that dies between this look
	 * and the open is recovered instead (DB_RECOVER), which is slower
	 * but as correct. */
	if (store_registry_dead(store->dbdir))
		envflags |= DB_FAILCHK;

	if ((err = db_env_create(&env, 0)) != 0)
		return store_db_fail(NULL, err, error_r, "db_env_create");
	env->set_errpfx(env, "imi store");
	env->set_errcall(env, store_db_errcall);
	env->set_msgcall(env, store_db_msgcall);
	env->set_thread_count(env, STORE_THREADS);
	env->set_isalive(env, store_is_alive);
	/* Our transactions never wait for locks (DB_TXN_NOWAIT); the
	 * detector is for other lockers, e.g. the db_* utilities. */
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_timeout(env, STORE_REG_TIMEOUT_US, DB_SET_REG_TIMEOUT);
	env->set_lg_max(env, STORE_LOG_FILE_BYTES);
	env->set_cachesize(env, 0, STORE_CACHE_BYTES, 1);
	env->set_lk_max_locks(env, 20000);
	env->set_lk_max_objects(env, 20000);
	env->set_lk_max_lockers(env, 4000);
	store->open_err = 0;
	if ((err = env->open(env, store->dbdir, envflags, 0600)) != 0) {
		env->close(env, 0);
		store->open_err = err;
		return store_db_fail(NULL, err, error_r, store->dbdir);
	}
	store->env = env;
	store->generation++;
	store_envs_add(env);
	if ((err = store_regions_reserve(store, error_r)) != IMI_OK) {
		store_envs_remove(env);
		env->close(env, 0);
		store->env = NULL;
		return err;
	}

	/* All databases in one transaction.  Its commit need not reach the
	 * disk (DB_TXN_NOSYNC): opening an existing database changes nothing
	 * recovery needs, and the records of a database being created are
	 * flushed with the first durable commit after them (one log flush
	 * covers everything before it), which is also the first commit that
	 * could refer to the new database.  Syncing here cost one log flush
	 * per database, twelve per process. */
	/* Like every transaction, it never waits for a lock (see the top of
	 * this file): a lock of a process that died while it opened the
	 * store would hold it for ever.  store_open tries again. */
	if ((err = env->txn_begin(env, NULL, &txn, DB_TXN_NOWAIT)) != 0) {
		i = 0;
		goto fail;
	}
	for (i = 0; i < STORE_N_DBS; i++) {
		DB *db;

		if ((err = db_create(&db, env, 0)) != 0)
			goto fail;
		store->dbs[i] = db;
		if (store_files[i].re_len != 0 &&
		    (err = db->set_re_len(db, store_files[i].re_len)) != 0)
			goto fail;
		err = db->open(db, txn, store_files[i].file, NULL,
			       store_files[i].type, DB_CREATE | DB_THREAD, 0600);
		if (err == 0 && i == STORE_USERS_EMAIL)
			err = store->dbs[STORE_USERS]->associate(
				store->dbs[STORE_USERS], txn, db,
				store_user_email_key, DB_CREATE);
		if (err != 0)
			goto fail;
	}
	i = STORE_N_DBS - 1;
	err = txn->commit(txn, DB_TXN_NOSYNC);
	txn = NULL;
	if (err != 0)
		goto fail;
	return IMI_OK;
fail:
	{
		int ret = store_db_fail(NULL, err, error_r, store_files[i].file);

		store->open_err = err;
		if (txn != NULL)
			txn->abort(txn);
		for (i = STORE_N_DBS - 1; i >= 0; i--)
			if (store->dbs[i] != NULL) {
				store->dbs[i]->close(store->dbs[i], 0);
				store->dbs[i] = NULL;
			}
		store_envs_remove(env);
		env->close(env, 0);
		store->env = NULL;
		return ret;
	}
}

/* The watchdog (see the header comment).  It acts only while a
 * store_transact of this process has met lock conflicts for STORE_STUCK_US,
 * and then runs failchk only when a transaction of a dead process is
 * active (txn_stat lists every active transaction with its process).
 * Contention alone is no reason: failchk walks every locker under the
 * lock region's mutex calling is_alive for each, and while it runs
 * Berkeley DB takes this process's mutexes by polling trylock and is_alive
 * in a loop instead of sleeping.  Run by every contending process, that
 * turned a burst of concurrent deliveries into a CPU-bound convoy on the
 * region mutexes (120 processes: 70 s, some giving up).  A process killed
 * outside a transaction holds only handle locks, which conflict with no
 * read or write, so the filter misses nothing that blocks others.  It holds
 * watch_lock while it uses the environment, so the handle is not closed
 * under it. */
#define STORE_WATCH_INTERVAL_US 100000
#define STORE_FAILCHK_GAP_US 500000
#define STORE_TXN_SCAN_MAX 4096 /* active transactions looked at, at most */

/* 1 when an active transaction belongs to a dead process (or the list
 * cannot be read: failchk then decides). */
static int store_dead_txn(DB_ENV *env)
{
	DB_TXN_STAT *st = NULL;
	pid_t last = 0;
	int dead = 0;

	if (env->txn_stat(env, &st, 0) != 0)
		return 1;
	for (u_int32_t i = 0; i < st->st_nactive && i < STORE_TXN_SCAN_MAX; i++) {
		DB_TXN_ACTIVE *a = &st->st_txnarray[i];
		if (a->pid == last)
			continue;
		last = a->pid;
		if (!store_is_alive(env, a->pid, a->tid, 0)) {
			dead = 1;
			break;
		}
	}
	free(st);
	return dead;
}

static gpointer store_watchdog(gpointer data)
{
	struct store *store = data;
	gint64 until, last = 0;

	g_mutex_lock(&store->watch_lock);
	while (!store->watch_stop) {
		until = g_get_monotonic_time() + STORE_WATCH_INTERVAL_US;
		if (g_cond_wait_until(&store->watch_cond, &store->watch_lock, until))
			continue;
		if (store->env == NULL || g_atomic_int_get(&store->dead))
			continue;
		if (!g_atomic_int_get(&store->stuck) ||
		    g_get_monotonic_time() - last < STORE_FAILCHK_GAP_US)
			continue;
		last = g_get_monotonic_time();
		if (!store_dead_txn(store->env))
			continue;
		if (store->env->failchk(store->env, 0) != 0)
			g_atomic_int_set(&store->dead, 1);
	}
	g_mutex_unlock(&store->watch_lock);
	return NULL;
}

/* The write at exit (store_env_close), in a thread of its own: DB->sync
 * waits for ever for a page that a process killed meanwhile left pinned,
 * and nothing interrupts that wait.  So the closing thread waits for it in
 * slices of one second and, once one of this process's environments is
 * panicked or its registry names a dead process (store_envs_dead_panic),
 * leaves it: the environment and its handles stay open and referenced
 * (the thread may still use them), nothing more is written, and the next
 * open recovers from the log, where every commit already is; recovery
 * runs because of that dead process. */
struct store_exit_sync {
	DB *dbs[STORE_N_DBS];
	GMutex lock;
	GCond cond;
	int done;
};

static gpointer store_exit_sync_run(gpointer data)
{
	struct store_exit_sync *job = data;

	for (int i = 0; i < STORE_N_DBS; i++)
		if (job->dbs[i] != NULL)
			job->dbs[i]->sync(job->dbs[i], 0);
	g_mutex_lock(&job->lock);
	job->done = 1;
	g_cond_signal(&job->cond);
	g_mutex_unlock(&job->lock);
	return NULL;
}

static GMutex store_abandoned_lock;
static GSList *store_abandoned; /* environments and jobs left behind */

static void store_abandon(gpointer p)
{
	g_mutex_lock(&store_abandoned_lock);
	store_abandoned = g_slist_prepend(store_abandoned, p);
	g_mutex_unlock(&store_abandoned_lock);
}

/* 1 when the databases were written, 0 when the write was left. */
static int store_exit_sync(struct store *store, unsigned wrote)
{
	struct store_exit_sync *job = g_new0(struct store_exit_sync, 1);
	GThread *thread;
	int done;

	for (int i = 0; i < STORE_N_DBS; i++)
		if (wrote & (1u << i))
			job->dbs[i] = store->dbs[i];
	g_mutex_init(&job->lock);
	g_cond_init(&job->cond);
	thread = g_thread_new("store-sync", store_exit_sync_run, job);
	g_mutex_lock(&job->lock);
	while (!job->done) {
		gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
		int dead;

		if (g_cond_wait_until(&job->cond, &job->lock, until))
			continue;
		g_mutex_unlock(&job->lock);
		dead = store_envs_dead_panic();
		g_mutex_lock(&job->lock);
		if (dead && !job->done)
			break;
	}
	done = job->done;
	g_mutex_unlock(&job->lock);
	if (!done) {
		g_thread_unref(thread);
		store_abandon(job);
		return 0;
	}
	g_thread_join(thread);
	g_mutex_clear(&job->lock);
	g_cond_clear(&job->cond);
	g_free(job);
	return 1;
}

static void store_env_close(struct store *store)
{
	/* The secondary closes before its primary. */
	static const int order[] = {STORE_USERS_EMAIL};
	int i;

	/* What this process committed is in the log on disk; the databases'
	 * own files get it when its pages are written.  Before a process
	 * leaves, each database it changed is written and synced once
	 * (DB->sync, store_exit_sync), and no handle syncs when it closes
	 * (DB_NOSYNC): closing twelve handles with a sync each cost a log
	 * flush and a file sync per database, whether this process had
	 * changed it or not (memp_sync would do the same: it syncs every
	 * file ever written in the environment).  The write at exit stays
	 * because recovery runs only when a registered process died: after
	 * a machine crash that follows a clean exit of every process, only
	 * the files themselves hold the data.  A process that wrote nothing
	 * syncs nothing.  On a panicked environment these calls only
	 * detach: nothing of the old cache or log buffer reaches the disk. */
	if (store->env != NULL && !g_atomic_int_get(&store->dead)) {
		unsigned wrote = (unsigned)g_atomic_int_get(&store->wrote);
		if (wrote & (1u << STORE_USERS))
			wrote |= 1u << STORE_USERS_EMAIL; /* written through users */
		if (wrote != 0 && !store_exit_sync(store, wrote)) {
			/* Left to recovery: the handles stay as they are. */
			store_envs_remove(store->env);
			store_abandon(store->env);
			for (i = 0; i < STORE_N_DBS; i++)
				store->dbs[i] = NULL;
			store->env = NULL;
		}
	}
	g_atomic_int_set(&store->wrote, 0);
	for (i = 0; i < (int)G_N_ELEMENTS(order); i++)
		if (store->dbs[order[i]] != NULL) {
			store->dbs[order[i]]->close(store->dbs[order[i]], DB_NOSYNC);
			store->dbs[order[i]] = NULL;
		}
	for (i = 0; i < STORE_N_DBS; i++)
		if (store->dbs[i] != NULL) {
			store->dbs[i]->close(store->dbs[i], DB_NOSYNC);
			store->dbs[i] = NULL;
		}
	if (store->env != NULL) {
		store_envs_remove(store->env);
		g_mutex_lock(&store->watch_lock);
		/* Berkeley DB cannot free the handles of a panicked
		 * environment (it only detaches); they stay referenced here
		 * for the life of the process, a few kilobytes per recovery. */
		if (store->env->close(store->env, 0) == DB_RUNRECOVERY)
			store_abandon(store->env);
		store->env = NULL;
		g_mutex_unlock(&store->watch_lock);
	}
}

int store_open(const char *home, unsigned flags, struct store **store_r,
	       char **error_r)
{
	struct store *store;
	char *marker;
	int ret;

	if (sodium_init() < 0)
		return imi_fail(error_r, IMI_ERROR, "libsodium cannot start");
	store = g_new0(struct store, 1);
	store->home = g_canonicalize_filename(home, NULL);
	store->dbdir = g_build_filename(store->home, "db", NULL);
	marker = g_build_filename(store->dbdir, "meta.db", NULL);
	if (!(flags & STORE_OPEN_CREATE) &&
	    !g_file_test(marker, G_FILE_TEST_EXISTS)) {
		ret = imi_fail(error_r, IMI_NOTFOUND,
			       "no store in %s: run 'imi --home %s init' first",
			       store->home, home);
		goto fail;
	}
	if ((flags & STORE_OPEN_CREATE) &&
	    (ret = imi_mkdir_p(store->dbdir, 0700, error_r)) != IMI_OK)
		goto fail;
	if ((ret = store_master_key(store, flags, error_r)) != IMI_OK)
		goto fail;
	g_mutex_init(&store->watch_lock);
	pthread_rwlock_init(&store->use_lock, NULL);
	g_mutex_init(&store->reopen_lock);
	g_cond_init(&store->watch_cond);
	/* An open fails for a while when it meets a lock (its transaction
	 * does not wait: a writer of the same database, or a process that
	 * died holding it until the next open's failchk frees it), or another
	 * process's recovery, run because a third died (DB_RUNRECOVERY): it
	 * is tried again. */
	for (int attempt = 0;; attempt++) {
		if ((ret = store_env_open(store, error_r)) == IMI_OK)
			break;
		if (attempt + 1 >= STORE_OPEN_TRIES ||
		    (store->open_err != DB_RUNRECOVERY &&
		     store->open_err != DB_LOCK_NOTGRANTED &&
		     store->open_err != DB_LOCK_DEADLOCK))
			goto fail;
		g_clear_pointer(error_r, g_free);
		g_usleep(g_random_int_range(STORE_OPEN_PAUSE_US / 2, STORE_OPEN_PAUSE_US));
	}
	store->watchdog = g_thread_new("store-watchdog", store_watchdog, store);
	g_free(marker);
	*store_r = store;
	return IMI_OK;
fail:
	g_free(marker);
	sodium_memzero(store->master, sizeof(store->master));
	g_free(store->home);
	g_free(store->dbdir);
	g_free(store);
	return ret;
}

/* The parsed records of store_record_get_shared, by database and key:
 * bounded in number and in the size of one record; emptied when full. */
#define STORE_SHARED_MAX 128            /* records; enough for the messages in flight */
#define STORE_SHARED_BYTES (1 << 20)     /* their stored bytes in all */
#define STORE_SHARED_RECORD_MAX 65536
struct store_shared {
	void *value;       /* the stored bytes it was parsed from */
	size_t len;
	JsonObject *obj;   /* sealed */
};

static GMutex store_shared_lock;
static GHashTable *store_shared; /* "<db>:<key>" -> struct store_shared */
static size_t store_shared_bytes;   /* sum of their len */

static void store_shared_free(gpointer p)
{
	struct store_shared *e = p;

	g_free(e->value);
	json_object_unref(e->obj);
	g_free(e);
}

/* The kept parse of the record named name ("<db>:<key>") if it was made
 * from exactly these bytes (a reference), else NULL. */
static JsonObject *store_shared_find(const char *name, const void *value, size_t len)
{
	struct store_shared *e;
	JsonObject *obj = NULL;

	g_mutex_lock(&store_shared_lock);
	e = store_shared != NULL ? g_hash_table_lookup(store_shared, name) : NULL;
	if (e != NULL && e->len == len && memcmp(e->value, value, len) == 0)
		obj = json_object_ref(e->obj);
	g_mutex_unlock(&store_shared_lock);
	return obj;
}

/* The name of a record in the kept parses (g_free). */
static char *store_shared_name(enum store_db db, const char *key)
{
	return g_strdup_printf("%d:%s", (int)db, key);
}

/* Keeps obj (a reference; sealed) as the parse of value, under name;
 * takes name and value.  A record over STORE_SHARED_RECORD_MAX is not kept. */
static void store_shared_keep(char *name, void *value, size_t len, JsonObject *obj)
{
	struct store_shared *e, *old;

	if (len > STORE_SHARED_RECORD_MAX) {
		g_free(name);
		g_free(value);
		return;
	}
	e = g_new0(struct store_shared, 1);
	e->value = value;
	e->len = len;
	e->obj = json_object_ref(obj);
	g_mutex_lock(&store_shared_lock);
	if (store_shared == NULL)
		store_shared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						     store_shared_free);
	else if (g_hash_table_size(store_shared) >= STORE_SHARED_MAX ||
		 store_shared_bytes + len > STORE_SHARED_BYTES) {
		g_hash_table_remove_all(store_shared);
		store_shared_bytes = 0;
	}
	if ((old = g_hash_table_lookup(store_shared, name)) != NULL)
		store_shared_bytes -= old->len;
	store_shared_bytes += len;
	g_hash_table_replace(store_shared, name, e);
	g_mutex_unlock(&store_shared_lock);
}

/* Forgets the kept parse of the record named name, if any. */
static void store_shared_drop(const char *name)
{
	struct store_shared *e;

	g_mutex_lock(&store_shared_lock);
	if (store_shared != NULL && (e = g_hash_table_lookup(store_shared, name)) != NULL) {
		store_shared_bytes -= e->len;
		g_hash_table_remove(store_shared, name);
	}
	g_mutex_unlock(&store_shared_lock);
}

void store_close(struct store **storep)
{
	struct store *store = *storep;

	if (store == NULL)
		return;
	/* Records parsed for store_record_get_shared: bytes compared on
	 * every use, so another store's never show, but not kept past the
	 * store either. */
	g_mutex_lock(&store_shared_lock);
	g_clear_pointer(&store_shared, g_hash_table_unref);
	store_shared_bytes = 0;
	g_mutex_unlock(&store_shared_lock);
	if (store->watchdog != NULL) {
		g_mutex_lock(&store->watch_lock);
		store->watch_stop = 1;
		g_cond_signal(&store->watch_cond);
		g_mutex_unlock(&store->watch_lock);
		g_thread_join(store->watchdog);
	}
	store_env_close(store);
	g_mutex_clear(&store->watch_lock);
	pthread_rwlock_destroy(&store->use_lock);
	g_mutex_clear(&store->reopen_lock);
	g_cond_clear(&store->watch_cond);
	sodium_memzero(store->master, sizeof(store->master));
	g_free(store->home);
	g_free(store->dbdir);
	g_free(store);
	*storep = NULL;
}

const char *store_home(const struct store *store)
{
	return store->home;
}

/* Threads and reopening: a thread of a multi-threaded process (the
 * milter) that finds the environment dead reopens it, which closes the
 * handles every other thread's transaction is using.  So each transaction
 * holds use_lock to read from begin to commit or abort, and the reopen,
 * holding reopen_lock so that no transaction begins meanwhile, waits for
 * them to end, holding use_lock to write.  A thread that never ends (stuck
 * on a group commit whose leader was killed, see the top) must not keep the
 * others from the recovered environment: after STORE_REOPEN_WAIT_S the
 * reopen goes on without it; that thread stays blocked in the old one.  A
 * transaction begun inside another of the same thread (store_txn_depth > 0)
 * takes the locks no second time: a waiting writer would block it. */
static __thread unsigned store_txn_depth;

static void store_txn_release(struct store *store)
{
	if (store_txn_depth > 0 && --store_txn_depth == 0)
		pthread_rwlock_unlock(&store->use_lock);
}

static int store_reopen(struct store *store, char **error_r)
{
	struct timespec until;
	int ret, held;

	g_mutex_lock(&store->reopen_lock);
	if (!g_atomic_int_get(&store->dead) && store->env != NULL) {
		/* Another thread reopened it meanwhile. */
		g_mutex_unlock(&store->reopen_lock);
		return IMI_OK;
	}
	/* DB_RUNRECOVERY: failchk found a process that died inside the
	 * library, or the environment is already panicked.  Panic it (again)
	 * so that closing it only detaches: a flush could wait for ever on a
	 * mutex the dead process held.  Every other process sees the panic
	 * at its next call and reopens as well; so do the other threads,
	 * which end their transactions. */
	if (store->env != NULL)
		store->env->set_flags(store->env, DB_PANIC_ENVIRONMENT, 1);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STORE_REOPEN_WAIT_S;
	held = pthread_rwlock_timedwrlock(&store->use_lock, &until) == 0;
	store_env_close(store);
	g_mutex_lock(&store->watch_lock);
	g_atomic_int_set(&store->dead, 0);
	ret = store_env_open(store, error_r);
	if (ret != IMI_OK)
		g_atomic_int_set(&store->dead, 1); /* try again next time */
	g_mutex_unlock(&store->watch_lock);
	if (held)
		pthread_rwlock_unlock(&store->use_lock);
	g_mutex_unlock(&store->reopen_lock);
	return ret;
}

/* Takes the store for a transaction or a log write (reopening it after a
 * crashed process); store_txn_release gives it back. */
static int store_txn_hold(struct store *store, char **error_r)
{
	int ret;

	if (store_txn_depth == 0) {
		if ((g_atomic_int_get(&store->dead) || store->env == NULL) &&
		    (ret = store_reopen(store, error_r)) != IMI_OK)
			return ret;
		g_mutex_lock(&store->reopen_lock);
		pthread_rwlock_rdlock(&store->use_lock);
		g_mutex_unlock(&store->reopen_lock);
	}
	store_txn_depth++;
	if (store->env == NULL) {
		store_txn_release(store);
		return imi_fail(error_r, IMI_TEMPFAIL, "%s: the store is being reopened; "
				"try again", store->dbdir);
	}
	return IMI_OK;
}

int store_txn_begin(struct store *store, struct store_txn **txn_r,
		    char **error_r)
{
	struct store_txn *txn;
	int err, ret;

	if ((ret = store_txn_hold(store, error_r)) != IMI_OK)
		return ret;
	txn = g_new0(struct store_txn, 1);
	txn->store = store;
	if ((err = store->env->txn_begin(store->env, NULL, &txn->txn,
					 DB_TXN_NOWAIT)) != 0) {
		ret = store_db_fail(txn, err, error_r, "begin transaction");
		g_free(txn);
		store_txn_release(store);
		return ret;
	}
	*txn_r = txn;
	return IMI_OK;
}

int store_txn_commit(struct store_txn **txnp, char **error_r)
{
	struct store_txn *txn = *txnp;
	int err, ret = IMI_OK;

	struct store *store = txn->store;

	*txnp = NULL;
	if ((err = txn->txn->commit(txn->txn, txn->nosync ? DB_TXN_WRITE_NOSYNC : 0)) != 0)
		ret = store_db_fail(txn, err, error_r, "commit");
	else if (txn->wrote)
		g_atomic_int_or((guint *)&txn->store->wrote, (guint)txn->wrote);
	g_free(txn);
	store_txn_release(store);
	return ret;
}

void store_txn_abort(struct store_txn **txnp)
{
	struct store_txn *txn = *txnp;
	struct store *store;

	if (txn == NULL)
		return;
	*txnp = NULL;
	txn->txn->abort(txn->txn);
	store = txn->store;
	g_free(txn);
	store_txn_release(store);
}

struct store *store_txn_store(struct store_txn *txn)
{
	return txn->store;
}

/* Pause before the next attempt: random, growing with the attempts, so
 * that contending processes spread out. */
static void store_backoff(int attempt)
{
	guint32 cap = 100u << MIN(attempt, 8);

	if (cap > STORE_BACKOFF_MAX_US)
		cap = STORE_BACKOFF_MAX_US;
	g_usleep(g_random_int_range(50, (gint32)cap + 1));
}

static int store_transact_flags(struct store *store, int nosync, store_txn_fn *fn,
				void *ctx, char **error_r);

int store_transact(struct store *store, store_txn_fn *fn, void *ctx,
		   char **error_r)
{
	return store_transact_flags(store, 0, fn, ctx, error_r);
}

int store_transact_nosync(struct store *store, store_txn_fn *fn, void *ctx,
			  char **error_r)
{
	return store_transact_flags(store, 1, fn, ctx, error_r);
}

int store_sync(struct store *store, char **error_r)
{
	int err, ret = IMI_OK;

	if ((ret = store_txn_hold(store, error_r)) != IMI_OK)
		return ret;
	/* Berkeley DB writes the log once for all the threads that wait here
	 * together, and returns at once when it is on the disk already. */
	if ((err = store->env->log_flush(store->env, NULL)) != 0) {
		if (err == DB_RUNRECOVERY)
			g_atomic_int_set(&store->dead, 1);
		ret = store_db_fail(NULL, err, error_r, "write the transaction log");
	}
	store_txn_release(store);
	return ret;
}

static int store_transact_flags(struct store *store, int nosync, store_txn_fn *fn,
				void *ctx, char **error_r)
{
	struct store_txn *txn;
	char *error = NULL;
	gint64 deadline = g_get_monotonic_time() + STORE_BUSY_US, since = 0;
	int attempt, reopens = 0, ret = IMI_TEMPFAIL, dead;

	for (attempt = 0; attempt < STORE_TXN_RETRIES; attempt++) {
		g_clear_pointer(&error, g_free);
		if (attempt > 0 && g_get_monotonic_time() > deadline)
			break;
		if ((ret = store_txn_begin(store, &txn, &error)) != IMI_OK) {
			/* A failed reopen is tried again, a few times. */
			if (g_atomic_int_get(&store->dead) &&
			    ++reopens < STORE_REOPENS) {
				store_backoff(attempt);
				continue;
			}
			break;
		}
		txn->nosync = nosync;
		ret = fn(txn, ctx, &error);
		dead = g_atomic_int_get(&store->dead);
		if (ret == IMI_OK && !txn->deadlock && !dead) {
			ret = store_txn_commit(&txn, &error);
			/* A commit refused for DB_RUNRECOVERY: reopen and
			 * run again. */
			if (ret == IMI_OK || !g_atomic_int_get(&store->dead))
				break;
			continue;
		}
		if (!txn->deadlock && !dead) {
			store_txn_abort(&txn);
			break; /* fn's own failure */
		}
		/* A lock conflict (no transaction waits for locks) or a dead
		 * environment: abort and run the whole function again.  On a
		 * dead environment the abort only releases the handle. */
		store_txn_abort(&txn);
		if (dead) {
			if (++reopens >= STORE_REOPENS)
				break;
			continue;
		}
		/* Conflicts that last may come from a dead process's locks:
		 * ask the watchdog to run failchk. */
		if (since == 0)
			since = g_get_monotonic_time();
		else if (g_get_monotonic_time() - since > STORE_STUCK_US)
			g_atomic_int_set(&store->stuck, 1);
		store_backoff(attempt);
	}
	if (since != 0)
		g_atomic_int_set(&store->stuck, 0);
	if (ret != IMI_OK && error_r != NULL && *error_r == NULL)
		*error_r = error;
	else
		g_free(error);
	return ret;
}

static void store_dbt(DBT *d, const void *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)data;
	d->size = (u_int32_t)len;
}

int store_get(struct store_txn *txn, enum store_db db, const void *key,
	      size_t key_len, unsigned flags, void **value_r, size_t *len_r,
	      char **error_r)
{
	DBT k, v;
	int err;
	db_recno_t recno;

	if (db == STORE_AUDIT) {
		recno = (db_recno_t)store_key_u64_get(key);
		store_dbt(&k, &recno, sizeof(recno));
	} else {
		store_dbt(&k, key, key_len);
	}
	memset(&v, 0, sizeof(v));
	v.flags = DB_DBT_MALLOC;
	err = txn->store->dbs[db]->get(txn->store->dbs[db], txn->txn, &k, &v,
				       (flags & STORE_GET_RMW) ? DB_RMW : 0);
	if (err != 0)
		return store_db_fail(txn, err, error_r, store_files[db].file);
	/* Berkeley DB's malloc'ed copy is the caller's: g_free is free (GLib
	 * allocates with the C library's malloc), and an empty record is NULL
	 * as g_memdup2 would give. */
	if (v.size == 0) {
		free(v.data);
		v.data = NULL;
	}
	*value_r = v.data;
	if (len_r != NULL)
		*len_r = v.size;
	return IMI_OK;
}

int store_put(struct store_txn *txn, enum store_db db, const void *key,
	      size_t key_len, const void *value, size_t len, unsigned flags,
	      char **error_r)
{
	DBT k, v;
	int err;

	if (db == STORE_USERS_EMAIL)
		return imi_fail(error_r, IMI_ERROR,
				"the e-mail index is written through users");
	store_dbt(&k, key, key_len);
	store_dbt(&v, value, len);
	txn->wrote |= 1 << db;
	err = txn->store->dbs[db]->put(txn->store->dbs[db], txn->txn, &k, &v,
				       (flags & STORE_PUT_NEW) ? DB_NOOVERWRITE : 0);
	if (err != 0)
		return store_db_fail(txn, err, error_r, store_files[db].file);
	return IMI_OK;
}

int store_del(struct store_txn *txn, enum store_db db, const void *key,
	      size_t key_len, char **error_r)
{
	DBT k;
	int err;

	store_dbt(&k, key, key_len);
	txn->wrote |= 1 << db;
	err = txn->store->dbs[db]->del(txn->store->dbs[db], txn->txn, &k, 0);
	if (err != 0)
		return store_db_fail(txn, err, error_r, store_files[db].file);
	return IMI_OK;
}

int store_each(struct store_txn *txn, enum store_db db, const void *from,
	       size_t from_len, store_each_fn *fn, void *ctx, char **error_r)
{
	DBC *cursor;
	DBT k, v;
	db_recno_t recno;
	int err, ret = 0;
	u_int32_t op;

	if ((err = txn->store->dbs[db]->cursor(txn->store->dbs[db], txn->txn,
					       &cursor, 0)) != 0)
		return store_db_fail(txn, err, error_r, store_files[db].file);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.flags = DB_DBT_REALLOC;
	v.flags = DB_DBT_REALLOC;
	op = DB_FIRST;
	if (from != NULL) {
		op = DB_SET_RANGE;
		if (db == STORE_AUDIT) {
			recno = (db_recno_t)store_key_u64_get(from);
			k.data = malloc(sizeof(recno));
			memcpy(k.data, &recno, sizeof(recno));
			k.size = sizeof(recno);
		} else {
			k.data = malloc(from_len > 0 ? from_len : 1);
			memcpy(k.data, from, from_len);
			k.size = (u_int32_t)from_len;
		}
	}
	while ((err = cursor->get(cursor, &k, &v, op)) == 0) {
		op = DB_NEXT;
		if (db == STORE_AUDIT) {
			unsigned char rk[8];
			memcpy(&recno, k.data, sizeof(recno));
			store_key_u64(recno, rk);
			ret = fn(rk, sizeof(rk), v.data, v.size, ctx);
		} else {
			ret = fn(k.data, k.size, v.data, v.size, ctx);
		}
		if (ret != 0)
			break;
	}
	if (err != 0 && err != DB_NOTFOUND)
		ret = store_db_fail(txn, err, error_r, store_files[db].file);
	free(k.data);
	free(v.data);
	cursor->close(cursor);
	return ret;
}

int store_record_parse(const void *value, size_t len, JsonObject **obj_r,
		       char **error_r)
{
	JsonParser *parser = json_parser_new_immutable();
	JsonNode *root;
	GError *gerr = NULL;
	gint64 v;

	if (!json_parser_load_from_data(parser, value, (gssize)len, &gerr)) {
		int ret = imi_fail(error_r, IMI_ERROR, "damaged record: %s",
				   gerr->message);
		g_error_free(gerr);
		g_object_unref(parser);
		return ret;
	}
	root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_object_unref(parser);
		return imi_fail(error_r, IMI_ERROR, "damaged record: not an object");
	}
	v = json_object_get_int_member_with_default(json_node_get_object(root),
						     "v", 0);
	if (v < 1 || v > STORE_SCHEMA_VERSION) {
		g_object_unref(parser);
		return imi_fail(error_r, IMI_ERROR,
				"record of schema version %" G_GINT64_FORMAT
				"; this imi reads up to %d: upgrade imi",
				v, STORE_SCHEMA_VERSION);
	}
	*obj_r = json_object_ref(json_node_get_object(root));
	g_object_unref(parser);
	return IMI_OK;
}

/* A string as json-glib's generator writes it (json_strescape in
 * json-glib 1.6): backslash and quote escaped, the control characters 0x01
 * to 0x1e and 0x7f as \b \f \n \r \t or \u00xx, every other byte as it is. */
static void store_json_write_string(GString *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	g_string_append_c(out, '"');
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c != '\\' && c != '"' && (c >= 0x1f && c != 0x7f))
			continue;
		g_string_append_len(out, run, p - run);
		run = p + 1;
		g_string_append_c(out, '\\');
		switch (c) {
		case '\\':
		case '"':
			g_string_append_c(out, (char)c);
			break;
		case '\b':
			g_string_append_c(out, 'b');
			break;
		case '\f':
			g_string_append_c(out, 'f');
			break;
		case '\n':
			g_string_append_c(out, 'n');
			break;
		case '\r':
			g_string_append_c(out, 'r');
			break;
		case '\t':
			g_string_append_c(out, 't');
			break;
		default:
			g_string_append(out, "u00");
			g_string_append_c(out, hex[c >> 4]);
			g_string_append_c(out, hex[c & 0xf]);
			break;
		}
	}
	g_string_append(out, run);
	g_string_append_c(out, '"');
}

/* node as json_to_string(node, FALSE) writes it, for what records hold:
 * objects, arrays, strings, integers, booleans and null.  0 if it met
 * anything else (a double: json-glib's own formatting is left to it). */
static int store_json_write(GString *out, JsonNode *node)
{
	switch (JSON_NODE_TYPE(node)) {
	case JSON_NODE_OBJECT: {
		JsonObjectIter iter;
		const char *name;
		JsonNode *member;
		int first = 1;

		g_string_append_c(out, '{');
		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &name, &member)) {
			if (!first)
				g_string_append_c(out, ',');
			first = 0;
			store_json_write_string(out, name);
			g_string_append_c(out, ':');
			if (!store_json_write(out, member))
				return 0;
		}
		g_string_append_c(out, '}');
		return 1;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array(node);
		guint n = json_array_get_length(array);

		g_string_append_c(out, '[');
		for (guint i = 0; i < n; i++) {
			if (i > 0)
				g_string_append_c(out, ',');
			if (!store_json_write(out, json_array_get_element(array, i)))
				return 0;
		}
		g_string_append_c(out, ']');
		return 1;
	}
	case JSON_NODE_NULL:
		g_string_append(out, "null");
		return 1;
	case JSON_NODE_VALUE:
		switch (json_node_get_value_type(node)) {
		case G_TYPE_INT64: {
			char buf[24], *p = buf + sizeof(buf);
			gint64 v = json_node_get_int(node);
			guint64 u = v < 0 ? (guint64)0 - (guint64)v : (guint64)v;

			do
				*--p = (char)('0' + u % 10);
			while ((u /= 10) != 0);
			if (v < 0)
				*--p = '-';
			g_string_append_len(out, p, buf + sizeof(buf) - p);
			return 1;
		}
		case G_TYPE_BOOLEAN:
			g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
			return 1;
		case G_TYPE_STRING:
			if (json_node_get_string(node) == NULL)
				return 0;
			store_json_write_string(out, json_node_get_string(node));
			return 1;
		default:
			return 0;
		}
	}
	return 0;
}

char *store_record_text(JsonObject *obj, size_t *len_r)
{
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);
	GString *out = g_string_sized_new(1024);
	char *text;
	gsize len;

	if (!json_object_has_member(obj, "v"))
		json_object_set_int_member(obj, "v", STORE_SCHEMA_VERSION);
	json_node_set_object(node, obj);
	/* The generator's bytes, written here at a fraction of its cost;
	 * json-glib itself for a record with what is not written here. */
	if (store_json_write(out, node)) {
		len = out->len;
		text = g_string_free(out, FALSE);
	} else {
		g_string_free(out, TRUE);
		text = json_to_string(node, FALSE);
		len = strlen(text);
	}
	json_node_unref(node);
	if (len_r != NULL)
		*len_r = len;
	return text;
}

/* A mutable copy of a parsed record, members in the same order: about a
 * third cheaper than parsing the text again (json-glib's parser has a
 * large cost of its own for every record).  With utf8_r, *utf8_r is set to
 * 0 if a member name or string is not UTF-8 (json-glib writes such a record
 * but cannot read it back, so no copy of it stands for its text). */
static JsonNode *store_json_copy(JsonNode *node, int *utf8_r)
{
	JsonNode *copy = json_node_alloc();

	switch (JSON_NODE_TYPE(node)) {
	case JSON_NODE_OBJECT: {
		JsonObject *from = json_node_get_object(node), *to = json_object_new();
		JsonObjectIter iter;
		const char *name;
		JsonNode *member;

		json_object_iter_init_ordered(&iter, from);
		while (json_object_iter_next_ordered(&iter, &name, &member)) {
			if (utf8_r != NULL && !g_utf8_validate(name, -1, NULL))
				*utf8_r = 0;
			json_object_set_member(to, name, store_json_copy(member, utf8_r));
		}
		json_node_init_object(copy, to);
		json_object_unref(to);
		break;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *from = json_node_get_array(node), *to = json_array_new();
		guint n = json_array_get_length(from);

		for (guint i = 0; i < n; i++)
			json_array_add_element(to, store_json_copy(json_array_get_element(from, i),
								   utf8_r));
		json_node_init_array(copy, to);
		json_array_unref(to);
		break;
	}
	case JSON_NODE_VALUE:
		switch (json_node_get_value_type(node)) {
		case G_TYPE_INT64:
			json_node_init_int(copy, json_node_get_int(node));
			break;
		case G_TYPE_DOUBLE:
			json_node_init_double(copy, json_node_get_double(node));
			break;
		case G_TYPE_BOOLEAN:
			json_node_init_boolean(copy, json_node_get_boolean(node));
			break;
		default:
			if (utf8_r != NULL && !g_utf8_validate(json_node_get_string(node), -1, NULL))
				*utf8_r = 0;
			json_node_init_string(copy, json_node_get_string(node));
			break;
		}
		break;
	case JSON_NODE_NULL:
	default:
		json_node_init_null(copy);
		break;
	}
	return copy;
}

int store_record_get(struct store_txn *txn, enum store_db db,
		     const char *key, unsigned flags, JsonObject **obj_r,
		     char **error_r)
{
	JsonObject *kept;
	char *name;
	void *value;
	size_t len;
	int ret;

	if (key == NULL) /* a record naming no such member: nothing to find */
		return imi_fail(error_r, IMI_NOTFOUND, "no key given");
	ret = store_get(txn, db, key, strlen(key), flags, &value, &len, error_r);
	if (ret != IMI_OK)
		return ret;
	/* Parsed already for a reader (store_record_get_shared), from these
	 * very bytes: a copy of that. */
	name = store_shared_name(db, key);
	kept = store_shared_find(name, value, len);
	g_free(name);
	if (kept != NULL) {
		JsonNode *node = json_node_init_object(json_node_alloc(), kept);
		JsonNode *copy = store_json_copy(node, NULL);

		*obj_r = json_object_ref(json_node_get_object(copy));
		json_node_unref(copy);
		json_node_unref(node);
		json_object_unref(kept);
		g_free(value);
		return IMI_OK;
	}
	ret = store_record_parse(value, len, obj_r, error_r);
	g_free(value);
	return ret;
}

int store_record_get_shared(struct store_txn *txn, enum store_db db,
			    const char *key, unsigned flags, JsonObject **obj_r,
			    char **error_r)
{
	char *name;
	void *value;
	size_t len;
	int ret;

	if (key == NULL)
		return imi_fail(error_r, IMI_NOTFOUND, "no key given");
	ret = store_get(txn, db, key, strlen(key), flags, &value, &len, error_r);
	if (ret != IMI_OK)
		return ret;
	name = store_shared_name(db, key);
	if ((*obj_r = store_shared_find(name, value, len)) != NULL) {
		g_free(name);
		g_free(value);
		return IMI_OK;
	}
	if ((ret = store_record_parse(value, len, obj_r, error_r)) != IMI_OK) {
		g_free(name);
		g_free(value);
		return ret;
	}
	json_object_seal(*obj_r);
	store_shared_keep(name, value, len, *obj_r);
	return IMI_OK;
}

/* 1 if every member name and string under node is UTF-8 (json-glib
 * writes a record with one that is not, but cannot read it back). */
static int store_json_utf8(JsonNode *node)
{
	switch (JSON_NODE_TYPE(node)) {
	case JSON_NODE_OBJECT: {
		JsonObjectIter iter;
		const char *name;
		JsonNode *member;

		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &name, &member))
			if (!g_utf8_validate(name, -1, NULL) || !store_json_utf8(member))
				return 0;
		return 1;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array(node);
		guint n = json_array_get_length(array);

		for (guint i = 0; i < n; i++)
			if (!store_json_utf8(json_array_get_element(array, i)))
				return 0;
		return 1;
	}
	case JSON_NODE_VALUE:
		return json_node_get_value_type(node) != G_TYPE_STRING ||
		       json_node_get_string(node) == NULL ||
		       g_utf8_validate(json_node_get_string(node), -1, NULL);
	default:
		return 1;
	}
}

/* A record written while a parse of it is kept for readers: the parse of
 * the new bytes is kept in its place, so that a reader in the same
 * transaction, or the next one, need not parse what this one wrote.  It is
 * a copy of what was written (a copy costs about half a parse), or, when
 * the writer is done with obj (adopt), obj itself, sealed.  A kept parse
 * still stands only for its bytes: if this transaction is aborted, or
 * another process writes the record, the stored bytes differ and the next
 * reader parses them.  Takes text, and with adopt the reference to obj. */
static void store_shared_written(enum store_db db, const char *key,
				 JsonObject *obj, int adopt, char *text, size_t len)
{
	char *name = store_shared_name(db, key);
	JsonNode *node;
	JsonObject *kept_obj = NULL;
	int kept, utf8 = 1;
	gint64 v;

	g_mutex_lock(&store_shared_lock);
	kept = store_shared != NULL && g_hash_table_contains(store_shared, name);
	g_mutex_unlock(&store_shared_lock);
	if (kept) {
		node = json_node_init_object(json_node_alloc(), obj);
		if (adopt) {
			utf8 = store_json_utf8(node);
			kept_obj = json_object_ref(obj);
		} else {
			JsonNode *copy = store_json_copy(node, &utf8);

			kept_obj = json_object_ref(json_node_get_object(copy));
			json_node_unref(copy);
		}
		json_node_unref(node);
		/* What store_record_parse would refuse is not kept. */
		v = json_object_get_int_member_with_default(obj, "v", 0);
		if (!utf8 || v < 1 || v > STORE_SCHEMA_VERSION || len > STORE_SHARED_RECORD_MAX) {
			store_shared_drop(name);
			g_clear_pointer(&kept_obj, json_object_unref);
		}
	}
	if (kept_obj != NULL) {
		json_object_seal(kept_obj);
		store_shared_keep(name, text, len, kept_obj);
		json_object_unref(kept_obj);
	} else {
		g_free(name);
		g_free(text);
	}
	if (adopt)
		json_object_unref(obj);
}

/* Writes obj's text; on success keeps a parse of it for readers
 * (store_shared_written), with adopt taking the caller's reference. */
static int store_record_write(struct store_txn *txn, enum store_db db, const char *key,
			      JsonObject *obj, int adopt, unsigned flags, char **error_r)
{
	size_t len;
	char *text = store_record_text(obj, &len);
	int ret = store_put(txn, db, key, strlen(key), text, len, flags, error_r);

	if (ret == IMI_OK) {
		store_shared_written(db, key, obj, adopt, text, len); /* takes text (and obj) */
	} else {
		g_free(text);
		if (adopt)
			json_object_unref(obj);
	}
	return ret;
}

int store_record_put(struct store_txn *txn, enum store_db db,
		     const char *key, JsonObject *obj, unsigned flags,
		     char **error_r)
{
	return store_record_write(txn, db, key, obj, 0, flags, error_r);
}

int store_record_put_release(struct store_txn *txn, enum store_db db,
			     const char *key, JsonObject **objp, unsigned flags,
			     char **error_r)
{
	JsonObject *obj = *objp;

	*objp = NULL;
	return store_record_write(txn, db, key, obj, 1, flags, error_r);
}

void store_key_u64(uint64_t n, unsigned char key[8])
{
	for (int i = 7; i >= 0; i--, n >>= 8)
		key[i] = (unsigned char)(n & 0xff);
}

uint64_t store_key_u64_get(const void *key)
{
	const unsigned char *k = key;
	uint64_t n = 0;

	for (int i = 0; i < 8; i++)
		n = (n << 8) | k[i];
	return n;
}

int store_next(struct store_txn *txn, const char *name, uint64_t *value_r,
	       char **error_r)
{
	char *key = g_strconcat("seq:", name, NULL);
	void *value = NULL;
	size_t len;
	unsigned char buf[8];
	uint64_t n = 0;
	int ret;

	ret = store_get(txn, STORE_META, key, strlen(key), STORE_GET_RMW,
			&value, &len, error_r);
	if (ret == IMI_OK && len == 8)
		n = store_key_u64_get(value);
	else if (ret != IMI_NOTFOUND && ret != IMI_OK)
		goto out;
	n++;
	store_key_u64(n, buf);
	ret = store_put(txn, STORE_META, key, strlen(key), buf, sizeof(buf), 0,
			error_r);
	if (ret == IMI_OK)
		*value_r = n;
out:
	g_free(value);
	g_free(key);
	return ret;
}

int store_audit(struct store_txn *txn, const char *actor, const char *case_id,
		const char *event, const char *detail, char **error_r)
{
	JsonObject *obj = json_object_new();
	DB *db = txn->store->dbs[STORE_AUDIT];
	DBT k, v;
	db_recno_t recno = 0;
	size_t len;
	char *text;
	int err;

	json_object_set_int_member(obj, "v", STORE_SCHEMA_VERSION);
	json_object_set_int_member(obj, "time", imi_now());
	json_object_set_string_member(obj, "actor", actor != NULL ? actor : "");
	json_object_set_string_member(obj, "case", case_id != NULL ? case_id : "");
	json_object_set_string_member(obj, "event", event);
	json_object_set_string_member(obj, "detail", detail != NULL ? detail : "");
	text = store_record_text(obj, &len);
	json_object_unref(obj);
	memset(&k, 0, sizeof(k));
	k.data = &recno;
	k.ulen = sizeof(recno);
	k.flags = DB_DBT_USERMEM;
	store_dbt(&v, text, len);
	txn->wrote |= 1 << STORE_AUDIT;
	err = db->put(db, txn->txn, &k, &v, DB_APPEND);
	g_free(text);
	if (err != 0)
		return store_db_fail(txn, err, error_r, "audit.db");
	return IMI_OK;
}

/* Timer keys: when (8 bytes, big-endian, so keys sort by time), case id,
 * NUL, kind. */
static char *store_timer_key(int64_t when, const char *case_id,
			     const char *kind, size_t *len_r)
{
	size_t cl = strlen(case_id), kl = strlen(kind);
	char *key = g_malloc(8 + cl + 1 + kl);

	store_key_u64((uint64_t)when, (unsigned char *)key);
	memcpy(key + 8, case_id, cl);
	key[8 + cl] = '\0';
	memcpy(key + 9 + cl, kind, kl);
	*len_r = 8 + cl + 1 + kl;
	return key;
}

int store_timer_set(struct store_txn *txn, int64_t when, const char *case_id,
		    const char *kind, char **error_r)
{
	size_t len;
	char *key = store_timer_key(when, case_id, kind, &len);
	int ret = store_put(txn, STORE_DUE, key, len, "", 0, 0, error_r);

	g_free(key);
	return ret;
}

int store_timer_clear(struct store_txn *txn, int64_t when,
		      const char *case_id, const char *kind, char **error_r)
{
	size_t len;
	char *key = store_timer_key(when, case_id, kind, &len);
	int ret = store_del(txn, STORE_DUE, key, len, error_r);

	g_free(key);
	return ret == IMI_NOTFOUND ? IMI_OK : ret;
}

struct timer_walk {
	int64_t now;
	store_timer_fn *fn;
	void *ctx;
};

static int store_timer_step(const void *key, size_t len, const void *value,
			    size_t vlen, void *ctx)
{
	struct timer_walk *walk = ctx;
	const char *k = key;
	int64_t when;
	char *case_id, *kind;
	int ret;

	if (len < 10)
		return 0; /* not a timer key: skip */
	when = (int64_t)store_key_u64_get(key);
	if (when > walk->now)
		return -1; /* past what is due: stop */
	case_id = g_strndup(k + 8, len - 8);
	kind = g_strndup(k + 8 + strlen(case_id) + 1,
			 len - 8 - strlen(case_id) - 1);
	ret = walk->fn(when, case_id, kind, walk->ctx);
	g_free(case_id);
	g_free(kind);
	return ret;
}

int store_timer_each_due(struct store_txn *txn, int64_t now,
			 store_timer_fn *fn, void *ctx, char **error_r)
{
	struct timer_walk walk = {now, fn, ctx};
	int ret = store_each(txn, STORE_DUE, NULL, 0, store_timer_step, &walk,
			     error_r);
	return ret == -1 ? IMI_OK : ret;
}

/* store_check: the e-mail index against users and back, the Message-ID
 * index against messages and back, every timer against a case. */
struct check_walk {
	struct store_txn *txn;
	GString *report;
	unsigned problems;
	unsigned count;
};

static int check_user(const void *key, size_t len, const void *value,
		      size_t vlen, void *ctx)
{
	struct check_walk *w = ctx;
	JsonObject *obj = NULL;
	struct user *u = NULL;
	char *id = g_strndup(key, len);

	w->count++;
	if (store_record_parse(value, vlen, &obj, NULL) != IMI_OK) {
		g_string_append_printf(w->report, "user %s: damaged record\n", id);
		w->problems++;
	} else {
		const char *email = json_object_get_string_member_with_default(
			obj, "email", "");
		if (store_user_get_by_email(w->txn, email, &u, NULL) != IMI_OK ||
		    strcmp(u->id, id) != 0) {
			g_string_append_printf(w->report,
					       "user %s: not found by its e-mail\n", id);
			w->problems++;
		}
		user_free(&u);
		json_object_unref(obj);
	}
	g_free(id);
	return 0;
}

static int check_email(const void *key, size_t len, const void *value,
		       size_t vlen, void *ctx)
{
	struct check_walk *w = ctx;
	JsonObject *obj = NULL;

	/* A secondary returns the primary's data: it must parse and name the
	 * same address. */
	w->count++;
	if (store_record_parse(value, vlen, &obj, NULL) != IMI_OK ||
	    strlen(json_object_get_string_member_with_default(obj, "email", "")) != len ||
	    memcmp(json_object_get_string_member_with_default(obj, "email", ""),
		   key, len) != 0) {
		g_string_append_printf(w->report, "e-mail index entry %.*s: no matching user\n",
				       (int)len, (const char *)key);
		w->problems++;
	}
	if (obj != NULL)
		json_object_unref(obj);
	return 0;
}

static int check_msgid(const void *key, size_t len, const void *value,
		       size_t vlen, void *ctx)
{
	struct check_walk *w = ctx;
	JsonObject *obj = NULL;
	unsigned char mk[8];
	void *m = NULL;

	w->count++;
	if (store_record_parse(value, vlen, &obj, NULL) != IMI_OK) {
		g_string_append_printf(w->report, "Message-ID %.*s: damaged entry\n",
				       (int)len, (const char *)key);
		w->problems++;
		return 0;
	}
	if (json_object_has_member(obj, "message")) {
		JsonObject *mobj = NULL;
		size_t mlen = 0;
		const char *named;

		store_key_u64((uint64_t)json_object_get_int_member(obj, "message"), mk);
		if (store_get(w->txn, STORE_MESSAGES, mk, 8, 0, &m, &mlen, NULL) != IMI_OK) {
			g_string_append_printf(w->report,
					       "Message-ID %.*s: its message is missing\n",
					       (int)len, (const char *)key);
			w->problems++;
		} else if (store_record_parse(m, mlen, &mobj, NULL) == IMI_OK &&
			   (named = json_object_get_string_member_with_default(
				    mobj, "message_id", "")) != NULL &&
			   *named != '\0' && (strlen(named) != len || memcmp(named, key, len) != 0)) {
			g_string_append_printf(w->report,
					       "Message-ID %.*s: names a message of Message-ID %s\n",
					       (int)len, (const char *)key, named);
			w->problems++;
		}
		if (mobj != NULL)
			json_object_unref(mobj);
		g_free(m);
	}
	json_object_unref(obj);
	return 0;
}

/* The other way: every stored message is found by its Message-ID (or a
 * redelivery would be taken again). */
static int check_message(const void *key, size_t len, const void *value,
			 size_t vlen, void *ctx)
{
	struct check_walk *w = ctx;
	JsonObject *obj = NULL;
	const char *msgid;
	void *entry = NULL;

	w->count++;
	if (len != 8 || store_record_parse(value, vlen, &obj, NULL) != IMI_OK) {
		g_string_append(w->report, "message with a damaged key or record\n");
		w->problems++;
		if (obj != NULL)
			json_object_unref(obj);
		return 0;
	}
	msgid = json_object_get_string_member_with_default(obj, "message_id", "");
	if (*msgid != '\0' &&
	    store_get(w->txn, STORE_MSGIDS, msgid, strlen(msgid), 0, &entry, NULL, NULL) != IMI_OK) {
		g_string_append_printf(w->report,
				       "message %" G_GUINT64_FORMAT " (%s): not in the Message-ID index\n",
				       store_key_u64_get(key), msgid);
		w->problems++;
	}
	g_free(entry);
	json_object_unref(obj);
	return 0;
}

static int check_timer(const void *key, size_t len, const void *value,
		       size_t vlen, void *ctx)
{
	struct check_walk *w = ctx;
	void *c = NULL;
	const char *case_id = (const char *)key + 8;

	w->count++;
	if (len < 10 || memchr(case_id, '\0', len - 8) == NULL) {
		g_string_append(w->report, "timer with a damaged key\n");
		w->problems++;
		return 0;
	}
	/* Timers of the service itself name no case: "" (held mail) or a
	 * word that is no case id ("digest", the alert digest). */
	if (g_str_has_prefix(case_id, "IMI-") &&
	    store_get(w->txn, STORE_CASES, case_id, strlen(case_id), 0, &c, NULL,
		      NULL) != IMI_OK) {
		g_string_append_printf(w->report, "timer for missing case %s\n",
				       case_id);
		w->problems++;
	}
	g_free(c);
	return 0;
}

static int store_check_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct check_walk *w = ctx;
	static const struct {
		enum store_db db;
		store_each_fn *fn;
		const char *what;
	} checks[] = {
		{STORE_USERS, check_user, "users"},
		{STORE_USERS_EMAIL, check_email, "e-mail index"},
		{STORE_MSGIDS, check_msgid, "Message-ID index"},
		{STORE_MESSAGES, check_message, "messages"},
		{STORE_DUE, check_timer, "due-time index"},
	};
	int ret;

	w->txn = txn;
	w->problems = 0;
	g_string_truncate(w->report, 0);
	for (unsigned i = 0; i < G_N_ELEMENTS(checks); i++) {
		w->count = 0;
		ret = store_each(txn, checks[i].db, NULL, 0, checks[i].fn, w, error_r);
		if (ret != 0)
			return ret;
		g_string_append_printf(w->report, "%s: %u entries checked\n",
				       checks[i].what, w->count);
	}
	return blob_check(txn, w->report, &w->problems, error_r);
}

int store_check(struct store *store, GString *report, char **error_r)
{
	struct check_walk w = {NULL, report, 0, 0};
	int ret = store_transact(store, store_check_txn, &w, error_r);

	if (ret != IMI_OK)
		return ret;
	if (w.problems > 0)
		return imi_fail(error_r, IMI_ERROR, "%u problems found", w.problems);
	return IMI_OK;
}

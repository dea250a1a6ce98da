/*
 * qset_store: where question sets come from — the store (STORE_QSETS, the
 * source text a case was sent with) or the installed files.
 *
 * What it does: validates a set id, finds a set's file in the data
 * directory (<datadir>/templates/sets/ID.ini in a source tree,
 * <datadir>/sets/ID.ini where `make install` put it), and reads and writes
 * stored sets as records {"v":1,"id","version","source"}.  Writing refuses
 * to replace a stored set by the same or an older Version with a different
 * text (IMI_EXISTS): cases keep reading the version they were sent with
 * only if versions are never rewritten.
 *
 * How it fails: IMI_INVALID for a malformed id or set, IMI_NOTFOUND when
 * neither store nor files have it, store errors as the store gives them.
 */
#ifndef IMI_QSET_STORE_H
#define IMI_QSET_STORE_H

#include "conf/conf.h"
#include "store/store.h"
#include "templates/qset.h"

/* [a-z0-9-], at most 64 characters. */
int qset_id_valid(const char *id);

/* The file of set id under conf->datadir, or NULL if there is none
 * (g_free). */
char *qset_file_path(const struct imi_conf *conf, const char *id);
/* The directory holding the catalogs (g_free). */
char *qset_catalog_dir(const struct imi_conf *conf);

int qset_store_get(struct store_txn *txn, const char *id, struct qset **qset_r,
		   char **error_r);
int qset_store_put(struct store_txn *txn, const struct qset *qset,
		   char **error_r);

#endif

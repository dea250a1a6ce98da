/*
 * directory_change: registering and changing authorities and users, the
 * one implementation behind `imi authority|user` and the coordinators'
 * mail commands (mta-hooks/mailcmd.h).
 *
 * What it does: applies a set of changes to an authority record, checking
 * every value (country, language, names, areas, post-box, domains, flags),
 * checks that an authority is complete before it is stored, and adds or
 * disables users (the address must lie in a domain registered for the
 * user's authority).  Each write is audited with the actor given.
 *
 * How it fails: IMI_INVALID with a text that names the bad value and the
 * form wanted; IMI_NOTFOUND for an unknown authority or user; IMI_EXISTS
 * when the id or address is taken; store errors as the store gives them.
 * Nothing is written when a check fails.
 *
 * What it trusts: nothing in the values (they may come from a mail body);
 * the caller has decided that the actor may make the change.
 */
#ifndef IMI_DIRECTORY_CHANGE_H
#define IMI_DIRECTORY_CHANGE_H

#include "store/store.h"

#define DIRECTORY_MAX_LIST 64 /* items of one list value (areas, domains, roles) */

/* What to change; NULL (or -1 for a flag) leaves a field as it is. */
struct directory_change {
	const char *country;        /* ISO 3166-1 alpha-2, any case; "EU" */
	const char *language;       /* ISO 639-1 */
	const char *postbox;
	const char *const *names;   /* "LANG=NAME" each, NULL-terminated */
	const char *const *areas;   /* ids; an item may be "a,b" */
	const char *const *domains; /* mail domains; an item may be "a,b" */
	int alerts;                 /* -1 unchanged, 0 withdraw, 1 grant */
	int alert_postbox;          /* -1, 0, 1 */
	int spf_aligned;            /* -1, 0, 1 */
};
#define DIRECTORY_CHANGE_INIT {NULL, NULL, NULL, NULL, NULL, NULL, -1, -1, -1}

/* "a,b" items and repeated items both give one list; empty items are
 * dropped (g_strfreev). */
char **directory_split_list(const char *const *v);

/* A new, empty authority record with id (language "en"). */
struct authority *directory_authority_new(const char *id);
int directory_change_apply(struct authority *a, const struct directory_change *c,
			   char **error_r);
/* Country, post-box, a name, an area, and the post-box in a registered
 * domain. */
int directory_authority_complete(const struct authority *a, char **error_r);

/* Adds (create) or changes an authority: apply, complete, store, audit
 * ("authority.add" / "authority.update", detail the id). */
int directory_authority_write(struct store_txn *txn, const char *id, int create,
			      const struct directory_change *c, const char *actor,
			      char **error_r);
int directory_authority_disable(struct store_txn *txn, const char *id,
				const char *actor, char **error_r);

struct directory_user_new {
	const char *email;
	const char *authority;
	const char *const *roles;  /* an item may be "a,b" */
	const char *name;          /* NULL: "" */
	const char *id;            /* NULL: the address */
};
/* Checks the address, the roles and the authority (active, address in one
 * of its domains), stores the user, audits "user.add". */
int directory_user_add(struct store_txn *txn, const struct directory_user_new *in,
		       const char *actor, char **error_r);
/* By address (contains '@') or id; audits "user.disable". */
int directory_user_disable(struct store_txn *txn, const char *who, const char *actor,
			   char **error_r);

#endif

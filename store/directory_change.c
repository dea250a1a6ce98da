/*
 * directory_change.c: registering and changing authorities and users
 * (directory_change.h).
 */
#include "store/directory_change.h"

#include <string.h>

char **directory_split_list(const char *const *v)
{
	GPtrArray *out = g_ptr_array_new();

	for (; v != NULL && *v != NULL && out->len < DIRECTORY_MAX_LIST; v++) {
		char **parts = g_strsplit(*v, ",", -1);

		for (char **p = parts; *p != NULL && out->len < DIRECTORY_MAX_LIST; p++) {
			char *s = g_strstrip(g_strdup(*p));

			if (*s != '\0')
				g_ptr_array_add(out, s);
			else
				g_free(s);
		}
		g_strfreev(parts);
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

struct authority *directory_authority_new(const char *id)
{
	struct authority *a = g_new0(struct authority, 1);

	a->id = g_strdup(id);
	a->language = g_strdup("en");
	a->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	a->created = imi_now();
	return a;
}

static int change_names(struct authority *a, const char *const *names, char **error_r)
{
	for (const char *const *n = names; n != NULL && *n != NULL; n++) {
		const char *eq = strchr(*n, '=');
		char *lang;

		if (eq == NULL || eq == *n || eq[1] == '\0')
			return imi_fail(error_r, IMI_INVALID,
					"a name is written LANG=NAME, e.g. 'fr=Ordre des "
					"médecins', not '%s'", *n);
		lang = g_strstrip(g_strndup(*n, (gsize)(eq - *n)));
		if (!directory_language_valid(lang)) {
			int r = imi_fail(error_r, IMI_INVALID,
					 "name %s: unknown language '%s'", *n, lang);
			g_free(lang);
			return r;
		}
		if (!g_utf8_validate(eq + 1, -1, NULL) || strpbrk(eq + 1, "\r\n") != NULL) {
			g_free(lang);
			return imi_fail(error_r, IMI_INVALID, "name %s: not one line of UTF-8 text",
					*n);
		}
		g_hash_table_replace(a->names, lang, g_strstrip(g_strdup(eq + 1)));
	}
	return IMI_OK;
}

static int change_lists(struct authority *a, const struct directory_change *c,
			char **error_r)
{
	if (c->areas != NULL) {
		char **areas = directory_split_list(c->areas);

		for (char **p = areas; *p != NULL; p++)
			if (!directory_id_valid(*p)) {
				int r = imi_fail(error_r, IMI_INVALID,
						 "legislative area '%s': use a lower-case id "
						 "such as professional-qualifications or services",
						 *p);
				g_strfreev(areas);
				return r;
			}
		g_strfreev(a->areas);
		a->areas = areas;
	}
	if (c->domains != NULL) {
		char **domains = directory_split_list(c->domains);

		for (char **p = domains; *p != NULL; p++) {
			char *probe = g_strconcat("x@", *p, NULL);
			int ok = imi_email_valid(probe);
			char *l;

			g_free(probe);
			if (!ok) {
				int r = imi_fail(error_r, IMI_INVALID, "malformed mail domain '%s'", *p);
				g_strfreev(domains);
				return r;
			}
			l = g_ascii_strdown(*p, -1);
			g_free(*p);
			*p = l;
		}
		g_strfreev(a->domains);
		a->domains = domains;
	}
	return IMI_OK;
}

int directory_change_apply(struct authority *a, const struct directory_change *c,
			   char **error_r)
{
	int ret;

	if (c->country != NULL) {
		char *cc = g_ascii_strup(c->country, -1);

		g_strstrip(cc);
		if (!directory_country_valid(cc)) {
			ret = imi_fail(error_r, IMI_INVALID,
				       "unknown country code '%s': use the two-letter "
				       "ISO 3166-1 code of an EU/EEA state (GR for "
				       "Greece), or EU for the Commission",
				       c->country);
			g_free(cc);
			return ret;
		}
		g_free(a->country);
		a->country = cc;
	}
	if (c->language != NULL) {
		if (!directory_language_valid(c->language))
			return imi_fail(error_r, IMI_INVALID,
					"unknown language '%s': use the two-letter code "
					"of an official EU language (bg cs da de el en es "
					"et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv)",
					c->language);
		g_free(a->language);
		a->language = g_strdup(c->language);
	}
	if ((ret = change_names(a, c->names, error_r)) != IMI_OK ||
	    (ret = change_lists(a, c, error_r)) != IMI_OK)
		return ret;
	if (c->postbox != NULL) {
		if (!imi_email_valid(c->postbox))
			return imi_fail(error_r, IMI_INVALID, "malformed post-box address '%s'",
					c->postbox);
		g_free(a->postbox);
		a->postbox = imi_email_normalize(c->postbox);
	}
	if (c->alerts >= 0)
		a->alerts = c->alerts;
	if (c->alert_postbox >= 0)
		a->alert_postbox = c->alert_postbox;
	if (c->spf_aligned >= 0)
		a->spf_aligned = c->spf_aligned;
	/* The post-box's own domain is registered unless others were named. */
	if ((a->domains == NULL || a->domains[0] == NULL) && a->postbox != NULL &&
	    *a->postbox != '\0') {
		g_strfreev(a->domains);
		a->domains = g_new0(char *, 2);
		a->domains[0] = g_strdup(imi_email_domain(a->postbox));
	}
	return IMI_OK;
}

int directory_authority_complete(const struct authority *a, char **error_r)
{
	if (a->country == NULL || *a->country == '\0')
		return imi_fail(error_r, IMI_INVALID, "the country is required");
	if (a->postbox == NULL || *a->postbox == '\0')
		return imi_fail(error_r, IMI_INVALID, "the post-box address is required");
	if (g_hash_table_size(a->names) == 0)
		return imi_fail(error_r, IMI_INVALID, "at least one name LANG=NAME is required");
	if (a->areas == NULL || a->areas[0] == NULL)
		return imi_fail(error_r, IMI_INVALID, "at least one legislative area is required");
	if (!directory_domain_registered(a, a->postbox))
		return imi_fail(error_r, IMI_INVALID,
				"the post-box %s is not in a registered domain (%s)",
				a->postbox, a->domains != NULL && a->domains[0] != NULL
				? a->domains[0] : "none");
	return IMI_OK;
}

int directory_authority_write(struct store_txn *txn, const char *id, int create,
			      const struct directory_change *c, const char *actor,
			      char **error_r)
{
	struct authority *a = NULL;
	int ret;

	if (id == NULL || !directory_id_valid(id))
		return imi_fail(error_r, IMI_INVALID,
				"malformed id '%s': 2-64 characters, lower-case letters, "
				"digits, '-', '.', '_'", id != NULL ? id : "");
	if (create)
		a = directory_authority_new(id);
	else if ((ret = store_authority_get(txn, id, &a, error_r)) != IMI_OK)
		return ret;
	/* A new post-box address has not failed yet. */
	if (!create && c->postbox != NULL)
		g_clear_pointer(&a->failing, g_free);
	if ((ret = directory_change_apply(a, c, error_r)) == IMI_OK &&
	    (ret = directory_authority_complete(a, error_r)) == IMI_OK &&
	    (ret = store_authority_put(txn, a, create ? STORE_PUT_NEW : 0, error_r)) == IMI_OK)
		ret = store_audit(txn, actor, NULL, create ? "authority.add" : "authority.update",
				  a->id, error_r);
	authority_free(&a);
	return ret;
}

int directory_authority_disable(struct store_txn *txn, const char *id,
				const char *actor, char **error_r)
{
	struct authority *a = NULL;
	int ret = store_authority_get(txn, id, &a, error_r);

	if (ret != IMI_OK)
		return ret;
	a->disabled = 1;
	if ((ret = store_authority_put(txn, a, 0, error_r)) == IMI_OK)
		ret = store_audit(txn, actor, NULL, "authority.disable", a->id, error_r);
	authority_free(&a);
	return ret;
}

int directory_user_add(struct store_txn *txn, const struct directory_user_new *in,
		       const char *actor, char **error_r)
{
	struct authority *a = NULL;
	struct user *u;
	char **roles;
	int ret;

	if (in->email == NULL || !imi_email_valid(in->email))
		return imi_fail(error_r, IMI_INVALID, "malformed address '%s'",
				in->email != NULL ? in->email : "");
	roles = directory_split_list(in->roles);
	if (roles[0] == NULL) {
		g_strfreev(roles);
		return imi_fail(error_r, IMI_INVALID,
				"at least one role is required: handler, coordinator, "
				"alert_coordinator or alert_sender");
	}
	for (char **r = roles; *r != NULL; r++)
		if (!directory_role_valid(*r)) {
			ret = imi_fail(error_r, IMI_INVALID,
				       "unknown role '%s': handler, coordinator, "
				       "alert_coordinator or alert_sender", *r);
			g_strfreev(roles);
			return ret;
		}
	if ((ret = store_authority_get(txn, in->authority != NULL ? in->authority : "", &a,
				       error_r)) != IMI_OK) {
		g_strfreev(roles);
		return ret;
	}
	if (a->disabled)
		ret = imi_fail(error_r, IMI_INVALID, "authority %s is disabled", a->id);
	else if (!directory_domain_registered(a, in->email))
		ret = imi_fail(error_r, IMI_INVALID,
			       "%s is not in a domain registered for %s; add the "
			       "domain to the authority first", in->email, a->id);
	authority_free(&a);
	if (ret != IMI_OK) {
		g_strfreev(roles);
		return ret;
	}
	u = g_new0(struct user, 1);
	u->email = imi_email_normalize(in->email);
	u->id = g_strdup(in->id != NULL ? in->id : u->email);
	u->authority = g_strdup(in->authority);
	u->name = g_strdup(in->name != NULL ? in->name : "");
	u->roles = roles;
	u->created = imi_now();
	ret = store_user_put(txn, u, STORE_PUT_NEW, error_r);
	if (ret == IMI_OK)
		ret = store_audit(txn, actor, NULL, "user.add", u->id, error_r);
	user_free(&u);
	return ret;
}

int directory_user_disable(struct store_txn *txn, const char *who, const char *actor,
			   char **error_r)
{
	struct user *u = NULL;
	int ret;

	if (strchr(who, '@') != NULL) {
		char *email = imi_email_normalize(who);

		ret = store_user_get_by_email(txn, email, &u, error_r);
		g_free(email);
	} else {
		ret = store_user_get(txn, who, &u, error_r);
	}
	if (ret != IMI_OK)
		return ret;
	u->disabled = 1;
	if ((ret = store_user_put(txn, u, 0, error_r)) == IMI_OK)
		ret = store_audit(txn, actor, NULL, "user.disable", u->id, error_r);
	user_free(&u);
	return ret;
}

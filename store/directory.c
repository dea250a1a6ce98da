/*
 * directory.c: authorities and users as typed records.
 */
#include "store/store.h"

#include <string.h>

static JsonArray *strv_to_json(char **v)
{
	JsonArray *a = json_array_new();
	for (; v != NULL && *v != NULL; v++)
		json_array_add_string_element(a, *v);
	return a;
}

static char **json_to_strv(JsonObject *obj, const char *member)
{
	JsonArray *a;
	char **v;
	guint n;

	if (!json_object_has_member(obj, member) ||
	    (a = json_object_get_array_member(obj, member)) == NULL)
		return g_new0(char *, 1);
	n = json_array_get_length(a);
	v = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++)
		v[i] = g_strdup(json_array_get_string_element(a, i));
	return v;
}

static char *json_str(JsonObject *obj, const char *member)
{
	return g_strdup(json_object_get_string_member_with_default(obj, member, ""));
}

void authority_free(struct authority **ap)
{
	struct authority *a = *ap;

	if (a == NULL)
		return;
	g_free(a->id);
	g_free(a->country);
	g_free(a->language);
	if (a->names != NULL)
		g_hash_table_unref(a->names);
	g_strfreev(a->areas);
	g_free(a->postbox);
	g_strfreev(a->domains);
	g_free(a->failing);
	g_free(a);
	*ap = NULL;
}

void user_free(struct user **up)
{
	struct user *u = *up;

	if (u == NULL)
		return;
	g_free(u->id);
	g_free(u->email);
	g_free(u->authority);
	g_free(u->name);
	g_free(u->failing);
	g_strfreev(u->roles);
	g_free(u);
	*up = NULL;
}

JsonObject *authority_to_json(const struct authority *a)
{
	JsonObject *obj = json_object_new(), *names = json_object_new();
	GHashTableIter it;
	gpointer k, v;

	json_object_set_int_member(obj, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(obj, "id", a->id);
	json_object_set_string_member(obj, "country", a->country);
	json_object_set_string_member(obj, "language", a->language);
	if (a->names != NULL) {
		g_hash_table_iter_init(&it, a->names);
		while (g_hash_table_iter_next(&it, &k, &v))
			json_object_set_string_member(names, k, v);
	}
	json_object_set_object_member(obj, "names", names);
	json_object_set_array_member(obj, "areas", strv_to_json(a->areas));
	json_object_set_string_member(obj, "postbox", a->postbox);
	json_object_set_array_member(obj, "domains", strv_to_json(a->domains));
	json_object_set_boolean_member(obj, "alerts", a->alerts);
	json_object_set_boolean_member(obj, "alert_postbox", a->alert_postbox);
	json_object_set_boolean_member(obj, "spf_aligned", a->spf_aligned);
	json_object_set_boolean_member(obj, "disabled", a->disabled);
	json_object_set_int_member(obj, "created", a->created);
	if (a->failing != NULL)
		json_object_set_string_member(obj, "failing", a->failing);
	return obj;
}

int authority_from_json(JsonObject *obj, struct authority **a_r,
			char **error_r)
{
	struct authority *a = g_new0(struct authority, 1);
	JsonObject *names;
	GList *members, *l;

	a->id = json_str(obj, "id");
	a->country = json_str(obj, "country");
	a->language = json_str(obj, "language");
	a->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	if (json_object_has_member(obj, "names") &&
	    (names = json_object_get_object_member(obj, "names")) != NULL) {
		members = json_object_get_members(names);
		for (l = members; l != NULL; l = l->next)
			g_hash_table_insert(a->names, g_strdup(l->data),
					    g_strdup(json_object_get_string_member(names, l->data)));
		g_list_free(members);
	}
	a->areas = json_to_strv(obj, "areas");
	a->postbox = json_str(obj, "postbox");
	a->domains = json_to_strv(obj, "domains");
	a->alerts = json_object_get_boolean_member_with_default(obj, "alerts", FALSE);
	a->alert_postbox = json_object_get_boolean_member_with_default(obj, "alert_postbox", FALSE);
	a->spf_aligned = json_object_get_boolean_member_with_default(obj, "spf_aligned", FALSE);
	a->disabled = json_object_get_boolean_member_with_default(obj, "disabled", FALSE);
	a->created = json_object_get_int_member_with_default(obj, "created", 0);
	a->failing = json_object_has_member(obj, "failing") ? json_str(obj, "failing") : NULL;
	if (*a->id == '\0') {
		authority_free(&a);
		return imi_fail(error_r, IMI_ERROR, "authority record without id");
	}
	*a_r = a;
	return IMI_OK;
}

JsonObject *user_to_json(const struct user *u)
{
	JsonObject *obj = json_object_new();

	json_object_set_int_member(obj, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(obj, "id", u->id);
	json_object_set_string_member(obj, "email", u->email);
	json_object_set_string_member(obj, "authority", u->authority);
	json_object_set_string_member(obj, "name", u->name != NULL ? u->name : "");
	json_object_set_array_member(obj, "roles", strv_to_json(u->roles));
	json_object_set_boolean_member(obj, "disabled", u->disabled);
	json_object_set_int_member(obj, "created", u->created);
	if (u->failing != NULL)
		json_object_set_string_member(obj, "failing", u->failing);
	return obj;
}

int user_from_json(JsonObject *obj, struct user **u_r, char **error_r)
{
	struct user *u = g_new0(struct user, 1);

	u->id = json_str(obj, "id");
	u->email = json_str(obj, "email");
	u->authority = json_str(obj, "authority");
	u->name = json_str(obj, "name");
	u->roles = json_to_strv(obj, "roles");
	u->disabled = json_object_get_boolean_member_with_default(obj, "disabled", FALSE);
	u->created = json_object_get_int_member_with_default(obj, "created", 0);
	u->failing = json_object_has_member(obj, "failing") ? json_str(obj, "failing") : NULL;
	if (*u->id == '\0' || *u->email == '\0') {
		user_free(&u);
		return imi_fail(error_r, IMI_ERROR, "user record without id or e-mail");
	}
	*u_r = u;
	return IMI_OK;
}

int user_has_role(const struct user *u, const char *role)
{
	return u->roles != NULL && g_strv_contains((const char *const *)u->roles, role);
}

int store_authority_get(struct store_txn *txn, const char *id,
			struct authority **a_r, char **error_r)
{
	JsonObject *obj;
	int ret = store_record_get(txn, STORE_AUTHORITIES, id, 0, &obj, error_r);

	if (ret == IMI_NOTFOUND)
		return imi_fail(error_r, IMI_NOTFOUND, "no authority '%s'", id);
	if (ret != IMI_OK)
		return ret;
	ret = authority_from_json(obj, a_r, error_r);
	json_object_unref(obj);
	return ret;
}

int store_authority_put(struct store_txn *txn, const struct authority *a,
			unsigned flags, char **error_r)
{
	JsonObject *obj = authority_to_json(a);
	int ret = store_record_put(txn, STORE_AUTHORITIES, a->id, obj, flags, error_r);

	json_object_unref(obj);
	if (ret == IMI_EXISTS && error_r != NULL) {
		g_free(*error_r);
		*error_r = g_strdup_printf("an authority with id '%s' already exists", a->id);
	}
	return ret;
}

static int store_user_read(struct store_txn *txn, enum store_db db,
			   const char *key, struct user **u_r, char **error_r)
{
	JsonObject *obj;
	int ret = store_record_get(txn, db, key, 0, &obj, error_r);

	if (ret != IMI_OK)
		return ret;
	ret = user_from_json(obj, u_r, error_r);
	json_object_unref(obj);
	return ret;
}

int store_user_get(struct store_txn *txn, const char *id, struct user **u_r,
		   char **error_r)
{
	int ret = store_user_read(txn, STORE_USERS, id, u_r, error_r);

	if (ret == IMI_NOTFOUND)
		return imi_fail(error_r, IMI_NOTFOUND, "no user '%s'", id);
	return ret;
}

int store_user_get_by_email(struct store_txn *txn, const char *email,
			    struct user **u_r, char **error_r)
{
	char *norm = imi_email_normalize(email);
	int ret = store_user_read(txn, STORE_USERS_EMAIL, norm, u_r, error_r);

	if (ret == IMI_NOTFOUND)
		ret = imi_fail(error_r, IMI_NOTFOUND, "no user with address %s", norm);
	g_free(norm);
	return ret;
}

int store_user_put(struct store_txn *txn, const struct user *u,
		   unsigned flags, char **error_r)
{
	JsonObject *obj = user_to_json(u);
	int ret = store_record_put(txn, STORE_USERS, u->id, obj, flags, error_r);

	json_object_unref(obj);
	if (ret == IMI_EXISTS && error_r != NULL) {
		g_free(*error_r);
		*error_r = g_strdup_printf("a user with id '%s' or address %s already exists",
					   u->id, u->email);
	}
	return ret;
}

static const char *const countries[] = {
	"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR",
	"HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK",
	"SI", "ES", "SE", "IS", "LI", "NO", "EU", NULL,
};
static const char *const languages[] = {
	"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
	"hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
	NULL,
};
static const char *const roles[] = {
	"handler", "coordinator", "alert_coordinator", "alert_sender", NULL,
};

int directory_country_valid(const char *code)
{
	return code != NULL && g_strv_contains(countries, code);
}

int directory_language_valid(const char *code)
{
	return code != NULL && g_strv_contains(languages, code);
}

const char *const *directory_languages(void)
{
	return languages;
}

int directory_role_valid(const char *role)
{
	return role != NULL && g_strv_contains(roles, role);
}

int directory_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n < 2 || n > 64 || !g_ascii_isalnum(id[0]))
		return 0;
	for (const char *p = id; *p != '\0'; p++)
		if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-' &&
		    *p != '.' && *p != '_')
			return 0;
	return 1;
}

int directory_domain_registered(const struct authority *a, const char *addr)
{
	const char *domain = imi_email_domain(addr);
	size_t dl = strlen(domain);

	for (char **d = a->domains; d != NULL && *d != NULL; d++) {
		size_t rl = strlen(*d);
		if (g_ascii_strcasecmp(domain, *d) == 0)
			return 1;
		if (dl > rl && domain[dl - rl - 1] == '.' &&
		    g_ascii_strcasecmp(domain + dl - rl, *d) == 0)
			return 1;
	}
	return 0;
}

/* Case-folded, accents removed: "Ärztekammer" and "arztekammer" match. */
static char *directory_fold(const char *s)
{
	char *nfd = g_utf8_normalize(s, -1, G_NORMALIZE_NFD);
	GString *out = g_string_new(NULL);
	char *folded;

	if (nfd == NULL)
		return g_string_free(out, FALSE);
	for (const char *p = nfd; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		GUnicodeType t = g_unichar_type(c);
		if (t == G_UNICODE_NON_SPACING_MARK || t == G_UNICODE_SPACING_MARK ||
		    t == G_UNICODE_ENCLOSING_MARK)
			continue;
		g_string_append_unichar(out, c);
	}
	g_free(nfd);
	folded = g_utf8_casefold(out->str, -1);
	g_string_free(out, TRUE);
	return folded;
}

static int directory_contains(const char *hay, const char *folded_needle)
{
	char *f = directory_fold(hay);
	int found = strstr(f, folded_needle) != NULL;

	g_free(f);
	return found;
}

int directory_match(const struct authority *a, const char *country,
		    const char *area, const char *keyword)
{
	GHashTableIter it;
	gpointer k, v;
	char *needle;
	int found = 0;

	if (country != NULL && *country != '\0' &&
	    g_ascii_strcasecmp(country, a->country) != 0)
		return 0;
	if (area != NULL && *area != '\0' &&
	    (a->areas == NULL || !g_strv_contains((const char *const *)a->areas, area)))
		return 0;
	if (keyword == NULL || *keyword == '\0')
		return 1;
	needle = directory_fold(keyword);
	found = directory_contains(a->id, needle) ||
		directory_contains(a->postbox, needle);
	if (!found && a->names != NULL) {
		g_hash_table_iter_init(&it, a->names);
		while (!found && g_hash_table_iter_next(&it, &k, &v))
			found = directory_contains(v, needle);
	}
	g_free(needle);
	return found;
}

struct directory_walk {
	directory_each_fn *fn;
	void *ctx;
};

static int directory_step(const void *key, size_t len, const void *value,
			  size_t vlen, void *ctx)
{
	struct directory_walk *w = ctx;
	JsonObject *obj;
	struct authority *a;
	int ret;

	if (store_record_parse(value, vlen, &obj, NULL) != IMI_OK)
		return 0;
	ret = authority_from_json(obj, &a, NULL);
	json_object_unref(obj);
	if (ret != IMI_OK)
		return 0;
	ret = w->fn(a, w->ctx);
	authority_free(&a);
	return ret;
}

int directory_each(struct store_txn *txn, directory_each_fn *fn, void *ctx,
		   char **error_r)
{
	struct directory_walk w = {fn, ctx};

	return store_each(txn, STORE_AUTHORITIES, NULL, 0, directory_step, &w,
			  error_r);
}

/*
 * directory.c: authorities and users as typed records.
 */
#include "store/store.h"

#include <string.h>

#define DIRECTORY_INDEX_MARK '\x01' /* first byte of the search index's keys */
#define DIRECTORY_SUFFIX_MIN 3      /* shortest word suffix indexed, in characters */
#define DIRECTORY_SUFFIX_MAX 8      /* suffixes are cut at this many characters */

static char *directory_fold(const char *s);

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
	int ret = store_record_get_shared(txn, STORE_AUTHORITIES, id, 0, &obj, error_r);

	if (ret == IMI_NOTFOUND)
		return imi_fail(error_r, IMI_NOTFOUND, "no authority '%s'", id);
	if (ret != IMI_OK)
		return ret;
	ret = authority_from_json(obj, a_r, error_r);
	json_object_unref(obj);
	return ret;
}

static int directory_index_update(struct store_txn *txn, const struct authority *old,
				  const struct authority *a, char **error_r);

int store_authority_put(struct store_txn *txn, const struct authority *a,
			unsigned flags, char **error_r)
{
	JsonObject *obj;
	struct authority *old = NULL;
	int ret;

	/* The search index needs what it indexed before (store_authority_get
	 * is NOTFOUND for a new authority). */
	ret = store_authority_get(txn, a->id, &old, error_r);
	if (ret == IMI_NOTFOUND) {
		g_clear_pointer(error_r, g_free);
		ret = IMI_OK;
	}
	if (ret != IMI_OK)
		return ret;
	obj = authority_to_json(a);
	ret = store_record_put(txn, STORE_AUTHORITIES, a->id, obj, flags, error_r);
	json_object_unref(obj);
	if (ret == IMI_EXISTS && error_r != NULL) {
		g_free(*error_r);
		*error_r = g_strdup_printf("an authority with id '%s' already exists", a->id);
	}
	if (ret == IMI_OK)
		ret = directory_index_update(txn, old, a, error_r);
	authority_free(&old);
	return ret;
}

static int store_user_read(struct store_txn *txn, enum store_db db,
			   const char *key, struct user **u_r, char **error_r)
{
	JsonObject *obj;
	int ret = store_record_get_shared(txn, db, key, 0, &obj, error_r);

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

static gint directory_id_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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

	if (len > 0 && *(const char *)key == DIRECTORY_INDEX_MARK)
		return 0; /* the search index, not an authority */
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

/* ---- the search index ----
 *
 * Kept in authorities.db itself, beside the records, under keys that start
 * with a byte no authority id can start with (DIRECTORY_INDEX_MARK), so
 * that it changes in the same transaction as the records it indexes:
 *   MARK 'v'                         the index exists (value "1")
 *   MARK 'c' country NUL id          one per authority
 *   MARK 'a' area NUL id             one per area of an authority
 *   MARK 's' suffix NUL id           each suffix of at least
 *                                    DIRECTORY_SUFFIX_MIN characters of each
 *                                    word (maximal run of letters and
 *                                    digits) of the folded id, post-box and
 *                                    names, cut at DIRECTORY_SUFFIX_MAX
 * A keyword's longest run of letters and digits lies inside one word of any
 * authority it matches, so the authorities whose suffix entries start with
 * that run are all the candidates: a range of keys that grows with the
 * answer.  directory_match then decides, as the full walk would.  A store
 * written before the index has no MARK 'v': its first authority_put builds
 * the index (one walk), and searches walk the records until then. */

static void directory_key(GString *k, char kind, const char *term, const char *id)
{
	g_string_truncate(k, 0);
	g_string_append_c(k, DIRECTORY_INDEX_MARK);
	g_string_append_c(k, kind);
	g_string_append(k, term);
	if (id != NULL) {
		g_string_append_c(k, '\0');
		g_string_append(k, id);
	}
}

/* Adds to terms each suffix entry ('s' + suffix) of folded text. */
static void directory_suffixes(GHashTable *terms, const char *text)
{
	char *f = directory_fold(text);
	const char *p = f, *w, *q;
	unsigned chars;

	while (*p != '\0') {
		while (*p != '\0' && !g_unichar_isalnum(g_utf8_get_char(p)))
			p = g_utf8_next_char(p);
		w = p;
		while (*p != '\0' && g_unichar_isalnum(g_utf8_get_char(p)))
			p = g_utf8_next_char(p);
		/* each suffix of the word [w, p) */
		for (const char *s = w; s < p; s = g_utf8_next_char(s)) {
			for (q = s, chars = 0; q < p && chars < DIRECTORY_SUFFIX_MAX; chars++)
				q = g_utf8_next_char(q);
			if (chars < DIRECTORY_SUFFIX_MIN)
				break;
			g_hash_table_add(terms, g_strdup_printf("s%.*s", (int)(q - s), s));
		}
	}
	g_free(f);
}

/* Every index term of an authority: 'c' country, 'a' area, 's' suffix. */
static GHashTable *directory_terms(const struct authority *a)
{
	GHashTable *terms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer k, v;

	if (a == NULL)
		return terms;
	if (a->country != NULL) {
		char *c = g_ascii_strdown(a->country, -1);
		g_hash_table_add(terms, g_strconcat("c", c, NULL));
		g_free(c);
	}
	for (char **ar = a->areas; ar != NULL && *ar != NULL; ar++)
		g_hash_table_add(terms, g_strconcat("a", *ar, NULL));
	directory_suffixes(terms, a->id);
	if (a->postbox != NULL)
		directory_suffixes(terms, a->postbox);
	if (a->names != NULL) {
		g_hash_table_iter_init(&it, a->names);
		while (g_hash_table_iter_next(&it, &k, &v))
			directory_suffixes(terms, v);
	}
	return terms;
}

static int directory_index_exists(struct store_txn *txn, int *exists_r, char **error_r)
{
	const char key[2] = {DIRECTORY_INDEX_MARK, 'v'};
	void *v = NULL;
	size_t len;
	int ret = store_get(txn, STORE_AUTHORITIES, key, sizeof(key), 0, &v, &len, error_r);

	g_free(v);
	*exists_r = ret == IMI_OK;
	if (ret == IMI_NOTFOUND) {
		g_clear_pointer(error_r, g_free);
		return IMI_OK;
	}
	return ret;
}

/* Puts (add) or deletes the entries of terms for id, except those in
 * keep. */
static int directory_index_apply(struct store_txn *txn, GHashTable *terms, GHashTable *keep,
				 const char *id, int add, char **error_r)
{
	GHashTableIter it;
	gpointer term;
	GString *k = g_string_new(NULL);
	int ret = IMI_OK;

	g_hash_table_iter_init(&it, terms);
	while (ret == IMI_OK && g_hash_table_iter_next(&it, &term, NULL)) {
		const char *t = term;

		if (keep != NULL && g_hash_table_contains(keep, t))
			continue;
		directory_key(k, t[0], t + 1, id);
		if (add)
			ret = store_put(txn, STORE_AUTHORITIES, k->str, k->len, "", 0, 0, error_r);
		else {
			ret = store_del(txn, STORE_AUTHORITIES, k->str, k->len, error_r);
			if (ret == IMI_NOTFOUND) {
				g_clear_pointer(error_r, g_free);
				ret = IMI_OK;
			}
		}
	}
	g_string_free(k, TRUE);
	return ret;
}

struct directory_build {
	struct store_txn *txn;
	int ret;
	char *error;
};

static int directory_build_one(struct authority *a, void *ctx)
{
	struct directory_build *b = ctx;
	GHashTable *terms = directory_terms(a);

	b->ret = directory_index_apply(b->txn, terms, NULL, a->id, 1, &b->error);
	g_hash_table_unref(terms);
	return b->ret != IMI_OK;
}

static int directory_index_update(struct store_txn *txn, const struct authority *old,
				  const struct authority *a, char **error_r)
{
	const char key[2] = {DIRECTORY_INDEX_MARK, 'v'};
	GHashTable *before, *after;
	int exists, ret;

	if ((ret = directory_index_exists(txn, &exists, error_r)) != IMI_OK)
		return ret;
	if (!exists) {
		/* The first write since the index came: index every authority,
		 * this one included (it is in the records already). */
		struct directory_build b = {txn, IMI_OK, NULL};

		if ((ret = directory_each(txn, directory_build_one, &b, error_r)) != IMI_OK)
			return ret;
		if (b.ret != IMI_OK) {
			if (error_r != NULL)
				*error_r = b.error;
			else
				g_free(b.error);
			return b.ret;
		}
		return store_put(txn, STORE_AUTHORITIES, key, sizeof(key), "1", 1, 0, error_r);
	}
	before = directory_terms(old);
	after = directory_terms(a);
	ret = directory_index_apply(txn, before, after, a->id, 0, error_r);
	if (ret == IMI_OK)
		ret = directory_index_apply(txn, after, before, a->id, 1, error_r);
	g_hash_table_unref(before);
	g_hash_table_unref(after);
	return ret;
}

struct directory_range {
	const char *prefix;
	size_t prefix_len;
	GPtrArray *ids;
	GHashTable *seen;
};

static int directory_range_step(const void *key, size_t len, const void *value, size_t vlen,
				void *ctx)
{
	struct directory_range *r = ctx;
	const char *k = key, *nul;

	(void)value;
	(void)vlen;
	if (len < r->prefix_len || memcmp(k, r->prefix, r->prefix_len) != 0)
		return -1; /* past the range (no IMI_* status is negative) */
	/* the term ends at the first NUL after the mark and the kind */
	if ((nul = memchr(k + 2, '\0', len - 2)) == NULL)
		return 0;
	{
		char *id = g_strndup(nul + 1, len - (size_t)(nul + 1 - k));

		if (g_hash_table_add(r->seen, id))
			g_ptr_array_add(r->ids, id);
	}
	return 0;
}

/* The longest run of letters and digits of a folded keyword, cut at
 * DIRECTORY_SUFFIX_MAX characters; NULL when shorter than
 * DIRECTORY_SUFFIX_MIN. */
static char *directory_probe(const char *keyword)
{
	char *f = directory_fold(keyword), *best = NULL;
	const char *p = f, *w;
	long best_chars = 0;

	while (*p != '\0') {
		while (*p != '\0' && !g_unichar_isalnum(g_utf8_get_char(p)))
			p = g_utf8_next_char(p);
		w = p;
		while (*p != '\0' && g_unichar_isalnum(g_utf8_get_char(p)))
			p = g_utf8_next_char(p);
		if (g_utf8_strlen(w, p - w) > best_chars) {
			best_chars = g_utf8_strlen(w, p - w);
			g_free(best);
			best = g_strndup(w, (gsize)(p - w));
		}
	}
	g_free(f);
	if (best_chars < DIRECTORY_SUFFIX_MIN) {
		g_free(best);
		return NULL;
	}
	if (best_chars > DIRECTORY_SUFFIX_MAX)
		*g_utf8_offset_to_pointer(best, DIRECTORY_SUFFIX_MAX) = '\0';
	return best;
}

struct directory_filter {
	const char *country, *area, *keyword;
	directory_each_fn *fn;
	void *ctx;
};

static int directory_filter_one(struct authority *a, void *ctx)
{
	struct directory_filter *f = ctx;

	return directory_match(a, f->country, f->area, f->keyword) ? f->fn(a, f->ctx) : 0;
}

int directory_search(struct store_txn *txn, const char *country, const char *area,
		     const char *keyword, directory_each_fn *fn, void *ctx, char **error_r)
{
	struct directory_filter filter = {country, area, keyword, fn, ctx};
	struct directory_range r = {0};
	GString *prefix = g_string_new(NULL);
	char *probe = NULL;
	int exists, ret, stop = 0;

	if ((ret = directory_index_exists(txn, &exists, error_r)) != IMI_OK)
		goto out;
	if (keyword != NULL && *keyword != '\0')
		probe = directory_probe(keyword);
	if (!exists || (probe == NULL && (area == NULL || *area == '\0') &&
			(country == NULL || *country == '\0'))) {
		/* No index yet, or nothing it could narrow: every record. */
		ret = directory_each(txn, directory_filter_one, &filter, error_r);
		goto out;
	}
	if (probe != NULL)
		directory_key(prefix, 's', probe, NULL);
	else if (area != NULL && *area != '\0') {
		directory_key(prefix, 'a', area, NULL);
		g_string_append_c(prefix, '\0');
	} else {
		char *c = g_ascii_strdown(country, -1);

		directory_key(prefix, 'c', c, NULL);
		g_string_append_c(prefix, '\0');
		g_free(c);
	}
	r.prefix = prefix->str;
	r.prefix_len = prefix->len;
	r.ids = g_ptr_array_new();
	r.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	ret = store_each(txn, STORE_AUTHORITIES, prefix->str, prefix->len, directory_range_step,
			 &r, error_r);
	if (ret == -1)
		ret = IMI_OK;
	if (ret != IMI_OK)
		goto out;
	/* The candidates in id order, as the walk gives them. */
	g_ptr_array_sort(r.ids, directory_id_cmp);
	for (guint i = 0; ret == IMI_OK && !stop && i < r.ids->len; i++) {
		struct authority *a = NULL;

		ret = store_authority_get(txn, g_ptr_array_index(r.ids, i), &a, error_r);
		if (ret == IMI_NOTFOUND) { /* an entry without its record: skip it */
			g_clear_pointer(error_r, g_free);
			ret = IMI_OK;
			continue;
		}
		if (ret == IMI_OK)
			stop = directory_filter_one(a, &filter);
		authority_free(&a);
	}
out:
	if (r.ids != NULL)
		g_ptr_array_free(r.ids, TRUE);
	if (r.seen != NULL)
		g_hash_table_unref(r.seen);
	g_string_free(prefix, TRUE);
	g_free(probe);
	return ret;
}

struct role_find {
	struct store_txn *txn;
	const char *country, *role;
	int alerts;
	GPtrArray *users;   /* struct user * */
	unsigned seen;
};

static int role_match(const void *key, size_t key_len, const void *value, size_t len,
		      void *ctx)
{
	struct role_find *f = ctx;
	JsonObject *obj = NULL;
	struct user *u = NULL;
	struct authority *a = NULL;

	(void)key;
	(void)key_len;
	if (++f->seen > DIRECTORY_MAX_USERS)
		return 1;
	if (store_record_parse(value, len, &obj, NULL) != IMI_OK)
		return 0;
	if (user_from_json(obj, &u, NULL) == IMI_OK && !u->disabled &&
	    user_has_role(u, f->role) &&
	    store_authority_get(f->txn, u->authority, &a, NULL) == IMI_OK &&
	    !a->disabled && (!f->alerts || a->alerts) &&
	    g_strcmp0(a->country, f->country) == 0) {
		g_ptr_array_add(f->users, u);
		u = NULL;
	}
	authority_free(&a);
	user_free(&u);
	json_object_unref(obj);
	return 0;
}

static void role_user_free(gpointer p)
{
	struct user *u = p;

	user_free(&u);
}

int directory_users_with_role(struct store_txn *txn, const char *country, const char *role,
			      int alerts, GPtrArray **users_r, char **error_r)
{
	struct role_find f = {txn, country, role, alerts,
			      g_ptr_array_new_with_free_func(role_user_free), 0};
	int ret = store_each(txn, STORE_USERS, NULL, 0, role_match, &f, error_r);

	if (ret < 0) {
		g_ptr_array_free(f.users, TRUE);
		return ret;
	}
	*users_r = f.users;
	return IMI_OK;
}

/*
 * test_directory_search.c: directory_search through the search index finds
 * exactly what a walk of every record with directory_match finds, after
 * adds and changes, and on a store whose authorities came before the index.
 */
#include "testutil.h"

#include "store/store.h"

#define N_AUTH 60

static const char *const countries[] = {"DE", "FR", "SE", "ES"};
static const char *const areas[] = {"services", "professional-qualifications", "patients-rights"};
static const char *const names[] = {"Ärztekammer Nordrhein", "Ordre des médecins",
				    "Socialstyrelsen", "Consejo General de Enfermería",
				    "Bundesamt für Justiz"};

struct put {
	int from, to;  /* authorities [from, to) */
	int variant;   /* changes names, country and area */
};

static int put_authorities(struct store_txn *txn, void *ctx, char **error_r)
{
	struct put *p = ctx;
	int ret = IMI_OK;

	for (int i = p->from; i < p->to && ret == IMI_OK; i++) {
		char id[32], name[96], postbox[64], domain[48];
		char *area_list[2] = {(char *)areas[(i + p->variant) % 3], NULL};
		char *domain_list[2] = {domain, NULL};
		struct authority a = {0};

		snprintf(id, sizeof(id), "auth-%03d", i);
		snprintf(name, sizeof(name), "%s %d", names[(i + p->variant) % 5], i);
		snprintf(domain, sizeof(domain), "d%03d.example", i);
		snprintf(postbox, sizeof(postbox), "imi@%s", domain);
		a.id = id;
		a.country = (char *)countries[(i + p->variant) % 4];
		a.language = "en";
		a.names = g_hash_table_new(g_str_hash, g_str_equal);
		g_hash_table_insert(a.names, "en", name);
		a.areas = area_list;
		a.postbox = postbox;
		a.domains = domain_list;
		ret = store_authority_put(txn, &a, 0, error_r);
		g_hash_table_destroy(a.names);
	}
	return ret;
}

/* A walk without the index: the ids directory_match accepts. */
struct query {
	const char *country, *area, *keyword;
	GString *ids;
};

static int collect(struct authority *a, void *ctx)
{
	struct query *q = ctx;

	g_string_append_printf(q->ids, "%s ", a->id);
	return 0;
}

static int walk_one(struct authority *a, void *ctx)
{
	struct query *q = ctx;

	return directory_match(a, q->country, q->area, q->keyword) ? collect(a, ctx) : 0;
}

static int walk_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	g_string_truncate(((struct query *)ctx)->ids, 0);
	return directory_each(txn, walk_one, ctx, error_r);
}

static int search_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct query *q = ctx;

	g_string_truncate(q->ids, 0);
	return directory_search(txn, q->country, q->area, q->keyword, collect, q, error_r);
}

static const struct {
	const char *country, *area, *keyword;
} queries[] = {
	{NULL, NULL, "auth-017"},      {NULL, NULL, "ARZTEKAMMER"}, {NULL, NULL, "rztekam"},
	{NULL, NULL, "médecins 1"},    {NULL, NULL, "ns 2"},        {NULL, NULL, "d04"},
	{NULL, NULL, "justiz 5"},      {"SE", NULL, NULL},          {"se", "services", NULL},
	{NULL, "patients-rights", NULL}, {"DE", NULL, "amt"},       {NULL, NULL, "no such thing"},
	{NULL, NULL, "a"},             {"FR", "services", "ordre"}, {NULL, NULL, "example"},
};

/* Every query: the index's answer is the walk's, and at least one query
 * finds something (so equal answers are not two empty ones). */
static void check_queries(struct store *store, const char *when)
{
	GString *want = g_string_new(NULL), *got = g_string_new(NULL);
	char *error = NULL;
	int nonempty = 0;

	for (unsigned i = 0; i < G_N_ELEMENTS(queries); i++) {
		struct query w = {queries[i].country, queries[i].area, queries[i].keyword, want};
		struct query s = {queries[i].country, queries[i].area, queries[i].keyword, got};
		char *field;

		check_int("walk", store_transact(store, walk_txn, &w, &error), IMI_OK);
		check_int("search", store_transact(store, search_txn, &s, &error), IMI_OK);
		field = g_strdup_printf("%s: country %s area %s keyword \"%s\"", when,
					queries[i].country ? queries[i].country : "-",
					queries[i].area ? queries[i].area : "-",
					queries[i].keyword ? queries[i].keyword : "");
		check_str(field, got->str, want->str);
		g_free(field);
		nonempty += want->len > 0;
	}
	if (nonempty < 10)
		fail_msg("%s: only %d queries found anything", when, nonempty);
	g_string_free(want, TRUE);
	g_string_free(got, TRUE);
}

static void test_search_matches_walk(void **state)
{
	char *home = testutil_tmpdir("directory-search");
	struct store *store = NULL;
	char *error = NULL;
	struct put first = {0, N_AUTH / 2, 0}, rest = {N_AUTH / 2, N_AUTH, 0};
	struct put change = {10, 40, 1};

	(void)state;
	check_int("open", store_open(home, STORE_OPEN_CREATE, &store, &error), IMI_OK);
	check_int("put", store_transact(store, put_authorities, &first, &error), IMI_OK);
	check_queries(store, "after the first adds");
	check_int("put", store_transact(store, put_authorities, &rest, &error), IMI_OK);
	check_queries(store, "after more adds");
	/* names, countries and areas change: the old entries must go */
	check_int("put", store_transact(store, put_authorities, &change, &error), IMI_OK);
	check_queries(store, "after changes");
	store_close(&store);
	testutil_rmdir(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_matches_walk),
	};
	return cmocka_run_group_tests_name("directory_search", tests, NULL, NULL);
}

/*
 * test_stats.c: request statistics from case records on a real store:
 * quarters by area (the question set's), the time bands at their edges,
 * alerts and other years left out, and the cumulative figures of the
 * command's table computed from the counts.
 */
#include "testutil.h"

#include "policies/stats.h"
#include "templates/qset.h"
#include "templates/qset_store.h"

#define DAY 86400

static int64_t utc(int y, int m, int d)
{
	GDateTime *dt = g_date_time_new_utc(y, m, d, 12, 0, 0);
	int64_t t = g_date_time_to_unix(dt);

	g_date_time_unref(dt);
	return t;
}

static void put_case(struct store_txn *txn, unsigned n, const char *kind, const char *qset,
		     int64_t created, int64_t accept_after, int64_t answer_after)
{
	JsonObject *c = json_object_new();
	JsonArray *h = json_array_new();
	char *id = g_strdup_printf("IMI-2009-%06u", n), *error = NULL;

	json_object_set_int_member(c, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(c, "id", id);
	json_object_set_string_member(c, "kind", kind);
	json_object_set_string_member(c, "qset", qset);
	json_object_set_int_member(c, "created", created);
	if (accept_after >= 0) {
		JsonObject *e = json_object_new();
		json_object_set_int_member(e, "at", created + accept_after);
		json_object_set_string_member(e, "action", "accept");
		json_array_add_object_element(h, e);
	}
	if (answer_after >= 0) {
		JsonObject *e = json_object_new();
		json_object_set_int_member(e, "at", created + answer_after);
		json_object_set_string_member(e, "action", "answer");
		json_array_add_object_element(h, e);
		/* A later answer does not count: the first one does. */
		e = json_object_new();
		json_object_set_int_member(e, "at", created + answer_after + 90 * DAY);
		json_object_set_string_member(e, "action", "answer");
		json_array_add_object_element(h, e);
	}
	json_object_set_array_member(c, "history", h);
	if (store_record_put(txn, STORE_CASES, id, c, STORE_PUT_NEW, &error) != IMI_OK)
		fail_msg("case %s: %s", id, error);
	json_object_unref(c);
	g_free(id);
}

static void test_stats(void **state)
{
	char *home = testutil_tmpdir("stats"), *error = NULL;
	const char *top = g_getenv("IMI_SRC");
	struct store *store = NULL;
	struct store_txn *txn = NULL;
	struct stats st;
	static const char *const sets[] = {"pq-general", "sd-general", "sd-alert"};

	(void)state;
	if (store_open(home, STORE_OPEN_CREATE, &store, &error) != IMI_OK ||
	    store_txn_begin(store, &txn, &error) != IMI_OK)
		fail_msg("store: %s", error);
	for (unsigned i = 0; i < G_N_ELEMENTS(sets); i++) {
		char *file = g_strdup_printf("%s/templates/sets/%s.ini", top ? top : ".", sets[i]);
		struct qset *q = NULL;

		if (qset_load_file(file, &q, &error) != IMI_OK ||
		    qset_store_put(txn, q, &error) != IMI_OK)
			fail_msg("qset %s: %s", sets[i], error);
		qset_free(&q);
		g_free(file);
	}
	/* Edges: exactly 3 days is within 3 days; a second more is not. */
	put_case(txn, 1, "request", "pq-general", utc(2009, 1, 10), 3 * DAY, 3 * DAY + 1);
	put_case(txn, 2, "request", "pq-general", utc(2009, 2, 10), 7 * DAY, 56 * DAY);
	put_case(txn, 3, "request", "pq-general", utc(2009, 5, 10), 14 * DAY + 1, 56 * DAY + 1);
	put_case(txn, 4, "request", "sd-general", utc(2009, 12, 31), 0, -1);
	put_case(txn, 5, "request", "sd-general", utc(2009, 8, 1), -1, -1);
	put_case(txn, 6, "alert", "sd-alert", utc(2009, 3, 1), 0, 0);        /* not a request */
	put_case(txn, 7, "request", "pq-general", utc(2010, 1, 1), 0, 0);   /* another year */
	if (stats_collect(txn, 2009, &st, &error) != IMI_OK)
		fail_msg("stats_collect: %s", error);
	store_txn_abort(&txn);

	check_int("requests", st.requests, 5);
	check_int("areas", st.n_areas, 2);
	for (unsigned a = 0; a < st.n_areas; a++) {
		const unsigned *q = st.areas[a].quarter;
		if (strcmp(st.areas[a].area, "professional-qualifications") == 0) {
			check_int("pq Q1", q[0], 2);
			check_int("pq Q2", q[1], 1);
			check_int("pq Q3", q[2], 0);
			check_int("pq Q4", q[3], 0);
		} else if (strcmp(st.areas[a].area, "services") == 0) {
			check_int("services Q3", q[2], 1);
			check_int("services Q4", q[3], 1);
			check_int("services Q1", q[0], 0);
		} else {
			fail_msg("area got \"%s\"", st.areas[a].area);
		}
	}
	{
		static const unsigned acc[STATS_BANDS] = {2, 1, 0, 1, 0, 0};
		static const unsigned ans[STATS_BANDS] = {0, 1, 0, 0, 1, 1};
		for (unsigned b = 0; b < STATS_BANDS; b++) {
			char *f1 = g_strdup_printf("accepted %s", stats_band_name[b]);
			char *f2 = g_strdup_printf("answered %s", stats_band_name[b]);
			check_int(f1, st.accepted[b], acc[b]);
			check_int(f2, st.answered[b], ans[b]);
			g_free(f1);
			g_free(f2);
		}
	}
	stats_clear(&st);
	store_close(&store);
	testutil_rmdir(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_stats)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

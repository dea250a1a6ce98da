/*
 * stats.c: yearly request figures (stats.h).
 */
#include "policies/stats.h"

#include <string.h>

#include "templates/qset_store.h"

const int64_t stats_band_limit[STATS_BANDS] = {
	3 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 56 * 86400, 0,
};
const char *const stats_band_name[STATS_BANDS] = {
	"Within 3 days", "Within 1 week", "Within 2 weeks",
	"Within 4 weeks", "Within 8 weeks", "More than 8 weeks",
};

unsigned stats_band(int64_t seconds)
{
	for (unsigned i = 0; i + 1 < STATS_BANDS; i++)
		if (seconds <= stats_band_limit[i])
			return i;
	return STATS_BANDS - 1;
}

struct walk {
	struct store_txn *txn;
	struct stats *st;
	GHashTable *qset_area; /* qset id -> area (cache) */
	unsigned seen;
};

static int64_t first_step(JsonObject *c, const char *action)
{
	JsonArray *h = json_object_has_member(c, "history")
		? json_object_get_array_member(c, "history") : NULL;

	for (guint i = 0; h != NULL && i < json_array_get_length(h) &&
			  i < STATS_MAX_HISTORY; i++) {
		JsonObject *e = json_array_get_object_element(h, i);

		if (e != NULL && g_strcmp0(json_object_get_string_member_with_default(
						   e, "action", ""), action) == 0)
			return json_object_get_int_member_with_default(e, "at", 0);
	}
	return 0;
}

static const char *area_of(struct walk *w, const char *qset_id)
{
	const char *area;
	struct qset *q = NULL;

	if (qset_id == NULL)
		return "unknown";
	if ((area = g_hash_table_lookup(w->qset_area, qset_id)) != NULL)
		return area;
	if (qset_store_get(w->txn, qset_id, &q, NULL) == IMI_OK) {
		g_hash_table_insert(w->qset_area, g_strdup(qset_id), g_strdup(qset_area(q)));
		qset_free(&q);
	} else {
		g_hash_table_insert(w->qset_area, g_strdup(qset_id), g_strdup("unknown"));
	}
	return g_hash_table_lookup(w->qset_area, qset_id);
}

static int each_case(const void *key, size_t key_len, const void *value, size_t len,
		     void *ctx)
{
	struct walk *w = ctx;
	struct stats *st = w->st;
	JsonObject *c = NULL;
	int64_t created, t;
	GDateTime *dt;
	const char *area;
	unsigned a, quarter;

	(void)key;
	(void)key_len;
	if (++w->seen > STATS_MAX_CASES)
		return 1;
	if (store_record_parse(value, len, &c, NULL) != IMI_OK) {
		st->skipped++;
		return 0;
	}
	if (g_strcmp0(json_object_get_string_member_with_default(c, "kind", ""), "request") != 0)
		goto out;
	created = json_object_get_int_member_with_default(c, "created", 0);
	dt = g_date_time_new_from_unix_utc(created);
	if (dt == NULL || created <= 0) {
		st->skipped++;
		if (dt != NULL)
			g_date_time_unref(dt);
		goto out;
	}
	if (g_date_time_get_year(dt) != st->year) {
		g_date_time_unref(dt);
		goto out;
	}
	quarter = (unsigned)(g_date_time_get_month(dt) - 1) / 3;
	g_date_time_unref(dt);
	area = area_of(w, json_object_get_string_member_with_default(c, "qset", NULL));
	for (a = 0; a < st->n_areas; a++)
		if (strcmp(st->areas[a].area, area) == 0)
			break;
	if (a == st->n_areas) {
		if (st->n_areas == STATS_MAX_AREAS) {
			st->skipped++;
			goto out;
		}
		st->areas[a].area = g_strdup(area);
		st->n_areas++;
	}
	st->areas[a].quarter[quarter]++;
	st->requests++;
	if ((t = first_step(c, "accept")) >= created)
		st->accepted[stats_band(t - created)]++;
	if ((t = first_step(c, "answer")) >= created)
		st->answered[stats_band(t - created)]++;
out:
	json_object_unref(c);
	return 0;
}

int stats_collect(struct store_txn *txn, int year, struct stats *st, char **error_r)
{
	struct walk w = {txn, st, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), 0};
	int ret;

	memset(st, 0, sizeof(*st));
	st->year = year;
	ret = store_each(txn, STORE_CASES, NULL, 0, each_case, &w, error_r);
	g_hash_table_destroy(w.qset_area);
	return ret < 0 ? ret : IMI_OK;
}

void stats_clear(struct stats *st)
{
	for (unsigned i = 0; i < st->n_areas; i++)
		g_free(st->areas[i].area);
	memset(st, 0, sizeof(*st));
}

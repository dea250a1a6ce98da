/*
 * due.c: is anything due?  (policies/due.h)
 */
#include "policies/due.h"

#include <json-glib/json-glib.h>

int due_urgency_pending(struct store_txn *txn, int64_t now)
{
	JsonObject *rec = NULL;
	int pending = 1;

	if (store_record_get(txn, STORE_META, DUE_URGENCY_KEY, 0, &rec, NULL) == IMI_OK) {
		pending = now >= json_object_get_int_member_with_default(rec, "next", 0);
		json_object_unref(rec);
	}
	return pending;
}

static int due_timer_found(int64_t when, const char *case_id, const char *kind, void *ctx)
{
	int *found = ctx;

	*found = 1;
	return 1; /* one is enough */
}

int due_pending(struct store_txn *txn, int64_t now)
{
	int found = 0, ret;

	ret = store_timer_each_due(txn, now, due_timer_found, &found, NULL);
	if (ret != IMI_OK && ret != 1)
		return 1;
	return found || due_urgency_pending(txn, now);
}

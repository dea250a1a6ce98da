/*
 * held.c: the review queue (held.h).
 */
#include "mta-hooks/held.h"

#include <string.h>

#include "parser/message.h"
#include "policies/request.h"
#include "store/blob.h"

struct held_walk {
	struct store_txn *txn;
	held_each_fn *fn;
	void *ctx;
	unsigned count;
};

static int held_step(const void *key, size_t key_len, const void *value, size_t len,
		     void *ctx)
{
	struct held_walk *w = ctx;
	JsonObject *obj = NULL;
	int stop = 0;

	if (key_len != 8 || store_record_parse(value, len, &obj, NULL) != IMI_OK)
		return 0;
	if (strcmp(json_object_get_string_member_with_default(obj, "state", ""), "held") == 0) {
		struct held_info h = {
			store_key_u64_get(key),
			json_object_get_int_member_with_default(obj, "received", 0),
			json_object_get_string_member_with_default(obj, "message_id", ""),
			json_object_get_string_member_with_default(obj, "reason", ""),
		};
		stop = w->fn(w->txn, &h, w->ctx);
		w->count++;
	}
	json_object_unref(obj);
	return stop != 0 || w->count >= HELD_MAX_LIST ? 1 : 0;
}

int held_each(struct store_txn *txn, held_each_fn *fn, void *ctx, char **error_r)
{
	struct held_walk w = {txn, fn, ctx, 0};
	int ret = store_each(txn, STORE_MESSAGES, NULL, 0, held_step, &w, error_r);

	return ret == 1 ? IMI_OK : ret;
}

/* The record of held message seq (IMI_NOTFOUND when there is none, or it
 * is not held). */
static int held_record(struct store_txn *txn, uint64_t seq, JsonObject **obj_r,
		       char **error_r)
{
	unsigned char key[8];
	JsonObject *obj = NULL;
	void *value = NULL;
	size_t len;
	int ret;

	store_key_u64(seq, key);
	ret = store_get(txn, STORE_MESSAGES, key, sizeof(key), STORE_GET_RMW, &value, &len,
			error_r);
	if (ret == IMI_NOTFOUND) {
		if (error_r != NULL) {
			g_free(*error_r);
			*error_r = NULL;
		}
		return imi_fail(error_r, IMI_NOTFOUND, "no held message %" G_GUINT64_FORMAT
				" (imi held list shows them)", seq);
	}
	if (ret == IMI_OK)
		ret = store_record_parse(value, len, &obj, error_r);
	g_free(value);
	if (ret != IMI_OK)
		return ret;
	if (strcmp(json_object_get_string_member_with_default(obj, "state", ""), "held") != 0) {
		json_object_unref(obj);
		return imi_fail(error_r, IMI_NOTFOUND, "message %" G_GUINT64_FORMAT " is not held",
				seq);
	}
	*obj_r = obj;
	return IMI_OK;
}

int held_read(struct store_txn *txn, uint64_t seq, JsonObject **obj_r, void **raw_r,
	      size_t *len_r, char **error_r)
{
	JsonObject *obj = NULL;
	int ret;

	if ((ret = held_record(txn, seq, &obj, error_r)) != IMI_OK)
		return ret;
	ret = blob_record_raw(txn, obj, raw_r, len_r, error_r);
	if (ret == IMI_OK && obj_r != NULL)
		*obj_r = obj;
	else
		json_object_unref(obj);
	return ret;
}

/* Bytes of a held message read for its sender: its header lies within the
 * default header bound (a longer one is not read in any case). */
#define HELD_SENDER_HEAD_BYTES (PARSE_DEFAULT_HEADER_BYTES + 1024)

char *held_sender(struct store_txn *txn, uint64_t seq)
{
	struct parse_limits limits;
	struct parsed_message *msg = NULL;
	JsonObject *obj = NULL;
	void *raw = NULL;
	size_t len = 0;
	char *from = NULL;

	/* The start of the message is enough: a big held message is not
	 * opened whole again just to find its From. */
	parse_limits_default(&limits);
	if (held_record(txn, seq, &obj, NULL) != IMI_OK)
		return NULL;
	if (blob_record_head(txn, obj, HELD_SENDER_HEAD_BYTES, &raw, &len, NULL) == IMI_OK &&
	    parsed_message_read(raw, len, &limits, &msg, NULL) == IMI_OK &&
	    parsed_message_from(msg) != NULL)
		from = imi_email_normalize(parsed_message_from(msg));
	parsed_message_free(&msg);
	json_object_unref(obj);
	if (raw != NULL)
		memset(raw, 0, len);
	g_free(raw);
	return from;
}

/* Removes the held copy: record, its blob, key, and (with_msgid) its
 * Message-ID entry. */
static int held_remove(struct store_txn *txn, uint64_t seq, const char *actor,
		       const char *event, int with_msgid, char **error_r)
{
	unsigned char key[8];
	JsonObject *obj = NULL;
	void *raw = NULL;
	size_t len = 0;
	const char *msgid;
	int ret;

	if ((ret = held_read(txn, seq, &obj, &raw, &len, error_r)) != IMI_OK)
		return ret;
	memset(raw, 0, len);
	g_free(raw);
	msgid = json_object_get_string_member_with_default(obj, "message_id", "");
	store_key_u64(seq, key);
	if ((ret = store_del(txn, STORE_MESSAGES, key, sizeof(key), error_r)) != IMI_OK ||
	    (ret = blob_record_forget(txn, obj, error_r)) != IMI_OK)
		goto out;
	ret = store_key_destroy(txn, json_object_get_string_member_with_default(obj, "key", ""),
				error_r);
	if (ret == IMI_OK && with_msgid && *msgid != '\0') {
		ret = store_del(txn, STORE_MSGIDS, msgid, strlen(msgid), error_r);
		if (ret == IMI_NOTFOUND) {
			g_free(*error_r);
			*error_r = NULL;
			ret = IMI_OK;
		}
	}
	if (ret == IMI_OK)
		ret = store_audit(txn, actor, NULL, event, msgid, error_r);
out:
	json_object_unref(obj);
	return ret;
}

int held_discard(struct store_txn *txn, uint64_t seq, const char *actor, char **error_r)
{
	return held_remove(txn, seq, actor, "held.discard", 1, error_r);
}

struct held_release_ctx {
	uint64_t seq;
	const char *actor;
	void *raw;
	size_t len;
};

/* Before it runs again: forget that its Message-ID was seen. */
static int held_unindex_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct held_release_ctx *h = ctx;
	JsonObject *obj = NULL;
	const char *msgid;
	int ret;

	g_free(h->raw);
	h->raw = NULL;
	if ((ret = held_read(txn, h->seq, &obj, &h->raw, &h->len, error_r)) != IMI_OK)
		return ret;
	msgid = json_object_get_string_member_with_default(obj, "message_id", "");
	if (*msgid != '\0') {
		ret = store_del(txn, STORE_MSGIDS, msgid, strlen(msgid), error_r);
		if (ret == IMI_NOTFOUND) {
			g_free(*error_r);
			*error_r = NULL;
			ret = IMI_OK;
		}
	}
	json_object_unref(obj);
	return ret;
}

/* After the message ran again: the old copy goes, the new outcome's
 * Message-ID entry stays. */
static int held_release_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct held_release_ctx *h = ctx;

	return held_remove(txn, h->seq, h->actor, "held.release", 0, error_r);
}

int held_release(struct store *store, const struct imi_conf *conf, uint64_t seq,
		 const char *actor, struct inbound_result *result, char **error_r)
{
	struct inbound_envelope env = {.path = INBOUND_DELIVER};
	struct held_release_ctx h = {seq, actor, NULL, 0};
	int ret;

	/* The held copy stays until the new run committed: a temporary
	 * failure loses nothing. */
	ret = store_transact(store, held_unindex_txn, &h, error_r);
	if (ret == IMI_OK)
		ret = inbound_process(store, conf, h.raw, h.len, &env, result, error_r);
	if (ret == IMI_OK)
		ret = store_transact(store, held_release_txn, &h, error_r);
	if (h.raw != NULL)
		memset(h.raw, 0, h.len);
	g_free(h.raw);
	return ret;
}

int held_release_schedule(struct store_txn *txn, uint64_t seq, char **error_r)
{
	char *kind = g_strdup_printf(HELD_TIMER_PREFIX "%" G_GUINT64_FORMAT, seq);
	int ret = store_timer_set(txn, imi_now(), "", kind, error_r);

	g_free(kind);
	return ret;
}

struct held_due {
	int64_t when;
	const char *kind;
};

static int held_due_clear_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct held_due *d = ctx;

	return store_timer_clear(txn, d->when, "", d->kind, error_r);
}

int held_release_due(struct store *store, const struct imi_conf *conf, int64_t when,
		     const char *kind, struct inbound_result *result, char **error_r)
{
	struct held_due d = {when, kind};
	char *end = NULL;
	uint64_t seq;
	int ret;

	if (!g_str_has_prefix(kind, HELD_TIMER_PREFIX))
		return imi_fail(error_r, IMI_INVALID, "timer %s is not a release", kind);
	seq = g_ascii_strtoull(kind + strlen(HELD_TIMER_PREFIX), &end, 10);
	if ((ret = store_transact(store, held_due_clear_txn, &d, error_r)) != IMI_OK)
		return ret;
	if (end == NULL || *end != '\0' || seq == 0)
		return IMI_OK; /* a damaged timer: gone */
	ret = held_release(store, conf, seq, "coordinator", result, error_r);
	if (ret == IMI_NOTFOUND) { /* discarded or released meanwhile */
		g_free(*error_r);
		*error_r = NULL;
		ret = IMI_OK;
	}
	return ret;
}

int held_expire_schedule(struct store_txn *txn, uint64_t seq, int64_t when,
			 char **error_r)
{
	char *kind = g_strdup_printf(HELD_EXPIRE_PREFIX "%" G_GUINT64_FORMAT, seq);
	int ret = store_timer_set(txn, when, "", kind, error_r);

	g_free(kind);
	return ret;
}

int held_expire_due(struct store_txn *txn, int64_t when, const char *kind,
		    int *deleted_r, char **error_r)
{
	char *end = NULL;
	uint64_t seq;
	int ret;

	*deleted_r = 0;
	if (!g_str_has_prefix(kind, HELD_EXPIRE_PREFIX))
		return imi_fail(error_r, IMI_INVALID, "timer %s is not a held message's expiry",
				kind);
	if ((ret = store_timer_clear(txn, when, "", kind, error_r)) != IMI_OK)
		return ret;
	seq = g_ascii_strtoull(kind + strlen(HELD_EXPIRE_PREFIX), &end, 10);
	if (end == NULL || *end != '\0' || seq == 0)
		return IMI_OK; /* a damaged timer: gone */
	ret = held_remove(txn, seq, "retention", "held.expired", 1, error_r);
	if (ret == IMI_NOTFOUND) { /* released or discarded meanwhile */
		g_free(*error_r);
		*error_r = NULL;
		return IMI_OK;
	}
	if (ret == IMI_OK)
		*deleted_r = 1;
	return ret;
}

/* The country of a held message's sender: its user's authority, else the
 * authority whose registered domain the address is in; NULL if none. */
struct domain_find {
	const char *address;
	char *country;
};

static int domain_of(struct authority *a, void *ctx)
{
	struct domain_find *f = ctx;

	if (directory_domain_registered(a, f->address)) {
		f->country = g_strdup(a->country);
		return 1;
	}
	return 0;
}

char *held_country(struct store_txn *txn, uint64_t seq)
{
	char *from = held_sender(txn, seq);
	struct domain_find f = {from, NULL};
	struct user *u = NULL;
	struct authority *a = NULL;

	if (from == NULL)
		return NULL;
	if (store_user_get_by_email(txn, from, &u, NULL) == IMI_OK &&
	    store_authority_get(txn, u->authority, &a, NULL) == IMI_OK)
		f.country = g_strdup(a->country);
	else
		directory_each(txn, domain_of, &f, NULL);
	user_free(&u);
	authority_free(&a);
	g_free(from);
	return f.country;
}

int held_tell_coordinators(struct store_txn *txn, struct request_env *env, uint64_t seq,
			   const char *reason, char **error_r)
{
	char *country = held_country(txn, seq);
	char *what = NULL, *names = NULL;
	JsonObject *obj = NULL;
	unsigned told = 0;
	int ret;

	/* The case it names, unverified, if any: from its record alone. */
	if (held_record(txn, seq, &obj, NULL) == IMI_OK) {
		const char *n = json_object_get_string_member_with_default(obj, "names_case", "");

		names = g_strdup(n);
		json_object_unref(obj);
	}

	if (country == NULL) { /* a stranger of no registered domain */
		g_free(names);
		return store_audit(txn, "inbound", NULL, "held.untold",
				   "sender of no registered authority", error_r);
	}
	what = g_strdup_printf("%s; imi held show %" G_GUINT64_FORMAT ", or HELD LIST by mail",
			       reason != NULL ? reason : "", seq);
	{
		const struct catalog_arg args[] = {
			{"reason", what},
			{NULL, NULL},
		};
		ret = request_tell_coordinators(txn, env, country, names, "held", "held.subject",
						names != NULL && *names != '\0'
							? "held.notice" : "held.notice-unnamed",
						args, &told, error_r);
	}
	g_free(what);
	g_free(names);
	g_free(country);
	return ret;
}

/*
 * outbox.c: outgoing e-mail, written in the transaction that causes it.
 */
#include "store/store.h"

#include <string.h>

void outbox_item_free(struct outbox_item **itemp)
{
	struct outbox_item *item = *itemp;

	if (item == NULL)
		return;
	g_free(item->message_id);
	g_free(item->from);
	g_strfreev(item->to);
	g_free(item->case_id);
	g_free(item->state);
	g_free(item->last_error);
	g_free(item);
	*itemp = NULL;
}

static char *outbox_key_id(const char *case_id)
{
	return g_strconcat("case:", case_id, NULL);
}

static struct outbox_item *outbox_item_from_json(uint64_t seq, JsonObject *obj)
{
	struct outbox_item *item = g_new0(struct outbox_item, 1);
	JsonArray *to = json_object_has_member(obj, "to")
				? json_object_get_array_member(obj, "to") : NULL;
	guint n = to != NULL ? json_array_get_length(to) : 0;

	item->seq = seq;
	item->message_id = g_strdup(json_object_get_string_member_with_default(obj, "message_id", ""));
	item->from = g_strdup(json_object_get_string_member_with_default(obj, "from", ""));
	item->case_id = g_strdup(json_object_get_string_member_with_default(obj, "case", ""));
	item->state = g_strdup(json_object_get_string_member_with_default(obj, "state", "queued"));
	item->attempts = (int)json_object_get_int_member_with_default(obj, "attempts", 0);
	item->next_try = json_object_get_int_member_with_default(obj, "next_try", 0);
	item->last_error = g_strdup(json_object_get_string_member_with_default(obj, "last_error", ""));
	item->to = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++)
		item->to[i] = g_strdup(json_array_get_string_element(to, i));
	return item;
}

int outbox_put(struct store_txn *txn, const char *case_id, const char *from,
	       const char *const *to, const char *message_id, const void *raw,
	       size_t len, uint64_t *seq_r, char **error_r)
{
	JsonObject *obj = json_object_new();
	JsonArray *rcpts = json_array_new();
	unsigned char key[8];
	uint64_t seq;
	char *text, *sealed = NULL, *key_id = NULL;
	size_t tlen;
	int ret;

	if (to == NULL || to[0] == NULL) {
		json_object_unref(obj);
		json_array_unref(rcpts);
		return imi_fail(error_r, IMI_INVALID, "outgoing message without recipient");
	}
	if ((ret = store_next(txn, "outbox", &seq, error_r)) != IMI_OK)
		goto out;
	json_object_set_int_member(obj, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(obj, "message_id", message_id);
	json_object_set_string_member(obj, "from", from);
	for (; *to != NULL; to++)
		json_array_add_string_element(rcpts, *to);
	json_object_set_array_member(obj, "to", rcpts);
	rcpts = NULL;
	json_object_set_string_member(obj, "case", case_id != NULL ? case_id : "");
	json_object_set_string_member(obj, "state", "queued");
	json_object_set_int_member(obj, "attempts", 0);
	json_object_set_int_member(obj, "next_try", 0);
	json_object_set_int_member(obj, "created", imi_now());
	if (case_id != NULL && *case_id != '\0') {
		key_id = outbox_key_id(case_id);
		ret = store_seal(txn, key_id, raw, len, &sealed, error_r);
		if (ret != IMI_OK)
			goto out;
		json_object_set_string_member(obj, "sealed_raw", sealed);
	} else {
		char *b64 = g_base64_encode(raw, len);
		json_object_set_string_member(obj, "raw", b64);
		g_free(b64);
	}
	store_key_u64(seq, key);
	text = store_record_text(obj, &tlen);
	ret = store_put(txn, STORE_OUTBOX, key, sizeof(key), text, tlen,
			STORE_PUT_NEW, error_r);
	g_free(text);
	if (ret == IMI_OK && seq_r != NULL)
		*seq_r = seq;
out:
	if (rcpts != NULL)
		json_array_unref(rcpts);
	json_object_unref(obj);
	g_free(sealed);
	g_free(key_id);
	return ret;
}

struct outbox_walk {
	int64_t now;
	outbox_each_fn *fn;
	void *ctx;
};

static int outbox_step(const void *key, size_t len, const void *value,
		       size_t vlen, void *ctx)
{
	struct outbox_walk *w = ctx;
	JsonObject *obj;
	struct outbox_item *item;
	int ret = 0;

	if (len != 8 || store_record_parse(value, vlen, &obj, NULL) != IMI_OK)
		return 0;
	item = outbox_item_from_json(store_key_u64_get(key), obj);
	json_object_unref(obj);
	if (strcmp(item->state, "queued") == 0 && item->next_try <= w->now)
		ret = w->fn(item, w->ctx);
	outbox_item_free(&item);
	return ret;
}

int outbox_each_due(struct store_txn *txn, int64_t now, outbox_each_fn *fn,
		    void *ctx, char **error_r)
{
	struct outbox_walk w = {now, fn, ctx};

	return store_each(txn, STORE_OUTBOX, NULL, 0, outbox_step, &w, error_r);
}

static int outbox_get(struct store_txn *txn, uint64_t seq, unsigned flags,
		      JsonObject **obj_r, char **error_r)
{
	unsigned char key[8];
	void *value;
	size_t len;
	int ret;

	store_key_u64(seq, key);
	ret = store_get(txn, STORE_OUTBOX, key, sizeof(key), flags, &value, &len,
			error_r);
	if (ret == IMI_NOTFOUND)
		return imi_fail(error_r, IMI_NOTFOUND,
				"outbox message %" G_GUINT64_FORMAT " is gone (sent already?)",
				seq);
	if (ret != IMI_OK)
		return ret;
	ret = store_record_parse(value, len, obj_r, error_r);
	g_free(value);
	return ret;
}

int outbox_read(struct store_txn *txn, uint64_t seq, struct outbox_item **item_r,
		void **raw_r, size_t *len_r, char **error_r)
{
	JsonObject *obj;
	int ret = outbox_get(txn, seq, 0, &obj, error_r);

	if (ret != IMI_OK)
		return ret;
	if (json_object_has_member(obj, "sealed_raw")) {
		const char *case_id = json_object_get_string_member(obj, "case");
		char *key_id = outbox_key_id(case_id);
		ret = store_unseal(txn, key_id,
				   json_object_get_string_member(obj, "sealed_raw"),
				   raw_r, len_r, error_r);
		g_free(key_id);
	} else {
		gsize n;
		*raw_r = g_base64_decode(json_object_get_string_member_with_default(obj, "raw", ""), &n);
		*len_r = n;
	}
	if (ret == IMI_OK)
		*item_r = outbox_item_from_json(seq, obj);
	json_object_unref(obj);
	return ret;
}

static int outbox_update(struct store_txn *txn, uint64_t seq, const char *state,
			 int64_t next_try, const char *detail, char **error_r)
{
	JsonObject *obj;
	unsigned char key[8];
	size_t len;
	char *text;
	int ret = outbox_get(txn, seq, STORE_GET_RMW, &obj, error_r);

	if (ret != IMI_OK)
		return ret;
	json_object_set_string_member(obj, "state", state);
	json_object_set_int_member(obj, "attempts",
				   json_object_get_int_member_with_default(obj, "attempts", 0) + 1);
	json_object_set_int_member(obj, "next_try", next_try);
	json_object_set_string_member(obj, "last_error", detail != NULL ? detail : "");
	store_key_u64(seq, key);
	text = store_record_text(obj, &len);
	ret = store_put(txn, STORE_OUTBOX, key, sizeof(key), text, len, 0, error_r);
	g_free(text);
	json_object_unref(obj);
	return ret;
}

int outbox_mark_sent(struct store_txn *txn, uint64_t seq, const char *detail,
		     char **error_r)
{
	JsonObject *obj;
	unsigned char key[8];
	char *what;
	int ret = outbox_get(txn, seq, STORE_GET_RMW, &obj, error_r);

	if (ret != IMI_OK)
		return ret;
	store_key_u64(seq, key);
	ret = store_del(txn, STORE_OUTBOX, key, sizeof(key), error_r);
	what = g_strdup_printf("%s %s",
			       json_object_get_string_member_with_default(obj, "message_id", ""),
			       detail != NULL ? detail : "");
	if (ret == IMI_OK)
		ret = store_audit(txn, "sender",
				  json_object_get_string_member_with_default(obj, "case", ""),
				  "outbox.sent", what, error_r);
	g_free(what);
	json_object_unref(obj);
	return ret;
}

int outbox_mark_retry(struct store_txn *txn, uint64_t seq, int64_t next_try,
		      const char *detail, char **error_r)
{
	return outbox_update(txn, seq, "queued", next_try, detail, error_r);
}

int outbox_mark_failed(struct store_txn *txn, uint64_t seq, const char *detail,
		       char **error_r)
{
	return outbox_update(txn, seq, "failed", 0, detail, error_r);
}

struct outbox_forget {
	const char *case_id;
	GPtrArray *keys;
};

static int outbox_forget_step(const void *key, size_t len, const void *value,
			      size_t vlen, void *ctx)
{
	struct outbox_forget *f = ctx;
	JsonObject *obj;

	if (len != 8 || store_record_parse(value, vlen, &obj, NULL) != IMI_OK)
		return 0;
	if (strcmp(json_object_get_string_member_with_default(obj, "case", ""),
		   f->case_id) == 0)
		g_ptr_array_add(f->keys, g_memdup2(key, 8));
	json_object_unref(obj);
	return 0;
}

int outbox_forget_case(struct store_txn *txn, const char *case_id,
		       char **error_r)
{
	struct outbox_forget f = {case_id, g_ptr_array_new_with_free_func(g_free)};
	int ret = store_each(txn, STORE_OUTBOX, NULL, 0, outbox_forget_step, &f, error_r);

	for (guint i = 0; ret == IMI_OK && i < f.keys->len; i++)
		ret = store_del(txn, STORE_OUTBOX, f.keys->pdata[i], 8, error_r);
	g_ptr_array_free(f.keys, TRUE);
	return ret;
}

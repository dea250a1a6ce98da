/*
 * request.c: information requests on the store (request.h).
 */
#include "policies/request.h"
#include "policies/case_record.h"
#include "policies/due.h"

#include <stdio.h>
#include <string.h>

#include "templates/lang.h"
#include "templates/qset_store.h"
#include "templates/render.h"
#include "store/blob.h"


/* ---- environment ---- */

int request_env_open(const struct imi_conf *conf, struct request_env **env_r,
		     char **error_r)
{
	struct request_env *env = g_new0(struct request_env, 1);
	char *path;
	int ret;

	env->conf = conf;
	if ((ret = policy_load_conf(conf, &env->policy, error_r)) != IMI_OK)
		goto fail;
	if ((ret = catalog_open_conf(conf, &env->catalog, error_r)) != IMI_OK)
		goto fail;
	path = conf_home_path(conf, "keys/token.key");
	ret = token_key_load(path, env->token_key, error_r);
	g_free(path);
	if (ret != IMI_OK)
		goto fail;
	*env_r = env;
	return IMI_OK;
fail:
	request_env_close(&env);
	return ret;
}

void request_env_close(struct request_env **env)
{
	if (*env == NULL)
		return;
	policy_free(&(*env)->policy);
	catalog_close(&(*env)->catalog);
	memset((*env)->token_key, 0, sizeof((*env)->token_key));
	g_free(*env);
	*env = NULL;
}

void request_outcome_clear(struct request_outcome *out)
{
	g_free(out->state);
	g_free(out->refusal);
	memset(out, 0, sizeof(*out));
}

/* ---- case ids ---- */

int request_case_id_valid(const char *id)
{
	/* IMI-YYYY-NNNNNN */
	if (id == NULL || strlen(id) != 15 || strncmp(id, "IMI-", 4) != 0 ||
	    id[8] != '-')
		return 0;
	for (unsigned i = 4; i < 15; i++)
		if (i != 8 && !g_ascii_isdigit(id[i]))
			return 0;
	return 1;
}

char *request_case_from_message_id(const struct imi_conf *conf, const char *msgid)
{
	const char *at, *dot;
	char *id;

	if (msgid == NULL || (at = strrchr(msgid, '@')) == NULL ||
	    g_ascii_strcasecmp(at + 1, conf->service_domain) != 0 ||
	    (dot = strchr(msgid, '.')) == NULL || dot > at)
		return NULL;
	id = g_ascii_strup(msgid, dot - msgid);
	if (!request_case_id_valid(id)) {
		g_free(id);
		return NULL;
	}
	return id;
}

char *request_case_from_subject(const char *subject)
{
	const char *p = subject;

	while (p != NULL && (p = strchr(p, '[')) != NULL) {
		char *id;

		p++;
		if (strlen(p) < 16 || p[15] != ']')
			continue;
		id = g_ascii_strup(p, 15);
		if (request_case_id_valid(id))
			return id;
		g_free(id);
	}
	return NULL;
}

/* ---- case records (helpers in case_record.h) ---- */

int request_get(struct store_txn *txn, const char *case_id, unsigned flags,
		JsonObject **case_r, char **error_r)
{
	if (!request_case_id_valid(case_id))
		return imi_fail(error_r, IMI_NOTFOUND, "no case '%s'", case_id ? case_id : "");
	return store_record_get(txn, STORE_CASES, case_id, flags, case_r, error_r);
}

int request_peek(struct store_txn *txn, const char *case_id, JsonObject **case_r,
		 char **error_r)
{
	if (!request_case_id_valid(case_id))
		return imi_fail(error_r, IMI_NOTFOUND, "no case '%s'", case_id ? case_id : "");
	return store_record_get_shared(txn, STORE_CASES, case_id, 0, case_r, error_r);
}

int request_qset(struct store_txn *txn, JsonObject *case_obj,
		 struct qset **qset_r, char **error_r)
{
	return qset_store_get(txn, case_str(case_obj, "qset"), qset_r, error_r);
}

enum policy_party request_party(JsonObject *case_obj, const char *authority_id)
{
	if (authority_id == NULL)
		return POLICY_PARTY_NONE;
	if (g_strcmp0(case_str(case_obj, "requester"), authority_id) == 0)
		return POLICY_PARTY_REQUESTER;
	if (g_strcmp0(case_str(case_obj, "responder"), authority_id) == 0)
		return POLICY_PARTY_RESPONDER;
	return POLICY_PARTY_NONE;
}

/* A state in words in lang ("state.answered" of the catalog), else its
 * name. */
const char *request_state_word(const struct request_env *env, const char *lang,
			       const char *state)
{
	char *key;
	const char *text;

	if (state == NULL)
		return "";
	key = g_strconcat("state.", state, NULL);
	text = catalog_get(env->catalog, lang, key);
	g_free(key);
	return text != NULL ? text : state;
}

static int seal_member(struct store_txn *txn, JsonObject *case_obj,
		       const char *member, const char *plain, char **error_r)
{
	char *key_id = case_key_id(case_str(case_obj, "id"));
	char *sealed = NULL;
	int ret = store_seal(txn, key_id, plain, strlen(plain), &sealed, error_r);

	if (ret == IMI_OK)
		json_object_set_string_member(case_obj, member, sealed);
	g_free(sealed);
	g_free(key_id);
	return ret;
}

/* The opened text of a sealed member, or NULL (absent, or deleted). */
static char *unseal_member(struct store_txn *txn, JsonObject *case_obj,
			   const char *member)
{
	const char *sealed = case_str(case_obj, member);
	char *key_id, *text = NULL;
	void *plain = NULL;
	size_t len;

	if (sealed == NULL)
		return NULL;
	key_id = case_key_id(case_str(case_obj, "id"));
	if (store_unseal(txn, key_id, sealed, &plain, &len, NULL) == IMI_OK) {
		text = g_strndup(plain, len);
		memset(plain, 0, len);
		g_free(plain);
	}
	g_free(key_id);
	return text;
}

/* ---- outgoing mail ---- */

struct mail_to {
	const struct authority *authority; /* the recipient's authority */
	const char *address;               /* NULL: its post-box */
};

static int reply_address(struct request_env *env, const char *case_id,
			 const char *authority_id, const char *action,
			 char **address_r, char **error_r)
{
	char *ref = g_ascii_strdown(case_id, -1);
	int64_t expiry = token_day(imi_now()) + env->conf->token_lifetime_days;
	int ret = token_address(env->token_key, env->conf->service_local, '+',
				env->conf->service_domain, ref, authority_id,
				action, expiry, address_r, error_r);

	g_free(ref);
	return ret;
}

static char *next_message_id(struct request_env *env, JsonObject *case_obj,
			     const char *kind)
{
	int64_t n = case_int(case_obj, "mail_seq") + 1;

	json_object_set_int_member(case_obj, "mail_seq", n);
	return g_strdup_printf("%s.%" G_GINT64_FORMAT ".%s@%s",
			       case_str(case_obj, "id"), n, kind,
			       env->conf->service_domain);
}

static int mail_put(struct store_txn *txn, struct request_env *env,
		    const char *case_id, const char *to, const char *message_id,
		    char *raw, size_t len, char **error_r)
{
	const char *rcpts[] = {to, NULL};
	char *from = g_strdup_printf("%s@%s", env->conf->service_local,
				     env->conf->service_domain);
	int ret = outbox_put(txn, case_id, from, rcpts, message_id, raw, len,
			     NULL, error_r);

	g_free(from);
	return ret;
}

static void envelope_fill(struct request_env *env, struct render_envelope *e,
			  char *from, const char *to, const char *reply_to,
			  const char *message_id, const char *in_reply_to)
{
	memset(e, 0, sizeof(*e));
	e->from_address = from;
	e->from_name = env->conf->service_name;
	e->to_address = to;
	e->reply_to = reply_to;
	e->message_id = message_id;
	e->in_reply_to = in_reply_to;
	e->service_domain = env->conf->service_domain;
}

/* The request e-mail to the responding authority. */
static int mail_request(struct store_txn *txn, struct request_env *env,
			JsonObject *case_obj, const struct authority *requester,
			const struct authority *responder, char **error_r)
{
	const char *case_id = case_str(case_obj, "id");
	const char *lang = case_language(env, responder);
	/* Withdrawing is the requester's step: the responder is offered
	 * accepting and forwarding only. */
	static const char *const offered[] = {"accept", "forward", NULL};
	char *addr[2] = {NULL, NULL}, *reply = NULL, *msgid = NULL;
	char *from = g_strdup_printf("%s@%s", env->conf->service_local,
				     env->conf->service_domain);
	char *subject = unseal_member(txn, case_obj, "sealed_subject");
	struct render_request rr;
	struct qset *qset = NULL;
	char *raw = NULL;
	size_t len;
	int ret;

	if ((ret = request_qset(txn, case_obj, &qset, error_r)) != IMI_OK)
		goto out;
	if ((ret = reply_address(env, case_id, responder->id, "reply", &reply, error_r)) != IMI_OK ||
	    (ret = reply_address(env, case_id, responder->id, "accept", &addr[0], error_r)) != IMI_OK ||
	    (ret = reply_address(env, case_id, responder->id, "forward", &addr[1], error_r)) != IMI_OK)
		goto out;
	const char *const offered_addr[] = {addr[0], addr[1], NULL};
	msgid = next_message_id(env, case_obj, "request");
	memset(&rr, 0, sizeof(rr));
	envelope_fill(env, &rr.env, from, responder->postbox, reply, msgid, NULL);
	rr.env.to_name = case_authority_name(responder, lang);
	rr.qset = qset;
	rr.catalog = env->catalog;
	rr.language = lang;
	rr.case_id = case_id;
	rr.authority = case_authority_name(requester, lang);
	rr.country = requester->country;
	rr.deadline = case_str(case_obj, "deadline");
	rr.note = subject;
	rr.actions = offered;
	rr.action_addresses = offered_addr;
	if ((ret = render_request(&rr, &raw, &len, error_r)) != IMI_OK)
		goto out;
	ret = mail_put(txn, env, case_id, responder->postbox, msgid, raw, len, error_r);
out:
	if (raw != NULL)
		memset(raw, 0, len);
	g_free(raw);
	if (subject != NULL)
		memset(subject, 0, strlen(subject));
	g_free(subject);
	qset_free(&qset);
	for (unsigned i = 0; i < G_N_ELEMENTS(addr); i++)
		g_free(addr[i]);
	g_free(reply);
	g_free(msgid);
	g_free(from);
	return ret;
}

#define REQUEST_RATE_WINDOW 3600 /* seconds of one reply-rate window */

int request_reply_allowed(struct store_txn *txn, struct request_env *env,
			  const char *address, int *allowed_r, char **error_r)
{
	int limit = policy_replies_per_hour(env->policy);
	char *email, *key;
	JsonObject *rec = NULL;
	int64_t now = imi_now(), start = 0, count = 0;
	int ret;

	*allowed_r = 1;
	if (limit <= 0 || address == NULL)
		return IMI_OK;
	email = imi_email_normalize(address);
	key = g_strconcat("reply-rate:", email != NULL ? email : address, NULL);
	g_free(email);
	ret = store_record_get(txn, STORE_META, key, STORE_GET_RMW, &rec, NULL);
	if (ret == IMI_OK) {
		start = case_int(rec, "start");
		count = case_int(rec, "count");
		json_object_unref(rec);
	} else if (ret != IMI_NOTFOUND) {
		ret = store_record_get(txn, STORE_META, key, STORE_GET_RMW, &rec, error_r);
		g_free(key);
		return ret;
	}
	/* A fixed window: it starts with the first reply after the last one
	 * ended. */
	if (now < start || now - start >= REQUEST_RATE_WINDOW) {
		start = now;
		count = 0;
	}
	if (count >= limit) {
		*allowed_r = 0;
		g_free(key);
		return IMI_OK;
	}
	rec = json_object_new();
	json_object_set_int_member(rec, "v", STORE_SCHEMA_VERSION);
	json_object_set_int_member(rec, "start", start);
	json_object_set_int_member(rec, "count", count + 1);
	ret = store_record_put(txn, STORE_META, key, rec, 0, error_r);
	json_object_unref(rec);
	g_free(key);
	return ret;
}

/* A notice to one address of an authority, in its language. */
static int mail_notice(struct store_txn *txn, struct request_env *env,
		       JsonObject *case_obj, const char *case_id,
		       const struct authority *authority, const char *to,
		       const char *kind, const char *subject_key,
		       const char *const *body_keys, const struct catalog_arg *args,
		       const char *body_text, const char *in_reply_to,
		       char **error_r)
{
	char *from = g_strdup_printf("%s@%s", env->conf->service_local,
				     env->conf->service_domain);
	char *reply = NULL, *msgid, *raw = NULL;
	struct render_notice rn;
	size_t len = 0;
	int ret = IMI_OK, allowed = 1;

	/* Replies to a sender (confirmations, error notices) are capped per
	 * address: over the cap the step stands, the reply is not sent. */
	if (strcmp(kind, "confirm") == 0 || strcmp(kind, "error") == 0 ||
	    strcmp(kind, "notice") == 0) {
		if ((ret = request_reply_allowed(txn, env, to, &allowed, error_r)) != IMI_OK) {
			g_free(from);
			return ret;
		}
		if (!allowed) {
			char *detail = g_strdup_printf("to=%s kind=%s limit=%d/h", to, kind,
						       policy_replies_per_hour(env->policy));
			ret = store_audit(txn, "request", case_obj != NULL ? case_id : NULL,
					  "request.rate-limited", detail, error_r);
			g_free(detail);
			g_free(from);
			return ret;
		}
	}
	if (case_obj != NULL) {
		msgid = next_message_id(env, case_obj, kind);
		if (authority != NULL)
			ret = reply_address(env, case_id, authority->id, "reply",
					    &reply, error_r);
	} else {
		/* No case to count in: the id names the moment and a
		 * random part, so it is still unique. */
		char *rnd = g_uuid_string_random();
		msgid = g_strdup_printf("%s.%s@%s", kind, rnd, env->conf->service_domain);
		g_free(rnd);
	}
	/* A %{date} is written as the recipient's language writes dates. */
	GArray *local_args = g_array_new(TRUE, TRUE, sizeof(struct catalog_arg));
	GPtrArray *dates = g_ptr_array_new_with_free_func(g_free);

	for (unsigned i = 0; args != NULL && args[i].name != NULL; i++) {
		struct catalog_arg a = args[i];

		if (strcmp(a.name, "date") == 0 && a.value != NULL) {
			char *w = lang_format_date(a.value, case_language(env, authority));
			if (w != NULL) {
				g_ptr_array_add(dates, w);
				a.value = w;
			}
		}
		g_array_append_val(local_args, a);
	}
	args = (const struct catalog_arg *)(void *)local_args->data;
	if (ret == IMI_OK) {
		memset(&rn, 0, sizeof(rn));
		envelope_fill(env, &rn.env, from, to, reply, msgid, in_reply_to);
		rn.catalog = env->catalog;
		rn.language = case_language(env, authority);
		/* The case id the sender named is echoed, also to a
		 * non-party (it is theirs); nothing else of the case is. */
		rn.case_id = case_obj != NULL || request_case_id_valid(case_id) ? case_id : NULL;
		rn.subject_key = subject_key;
		rn.body_keys = body_keys;
		rn.args = args;
		rn.body_text = body_text;
		ret = render_notice(&rn, &raw, &len, error_r);
	}
	if (ret == IMI_OK)
		ret = mail_put(txn, env, case_obj != NULL ? case_id : NULL, to,
			       msgid, raw, len, error_r);
	g_free(raw);
	g_free(reply);
	g_free(msgid);
	g_free(from);
	g_array_free(local_args, TRUE);
	g_ptr_array_free(dates, TRUE);
	return ret;
}

/* ---- timers ---- */

static int timer_add(struct store_txn *txn, JsonObject *case_obj, int64_t when,
		     const char *kind, char **error_r)
{
	JsonArray *timers = json_object_get_array_member(case_obj, "timers");
	JsonObject *t = json_object_new();

	json_object_set_int_member(t, "when", when);
	json_object_set_string_member(t, "kind", kind);
	json_array_add_object_element(timers, t);
	return store_timer_set(txn, when, case_str(case_obj, "id"), kind, error_r);
}

/* Removes timers whose kind starts with prefix (NULL: all) from the case
 * and the due index. */
static int timers_clear(struct store_txn *txn, JsonObject *case_obj,
			const char *prefix, char **error_r)
{
	JsonArray *timers = json_object_get_array_member(case_obj, "timers");
	int ret = IMI_OK;

	for (guint i = json_array_get_length(timers); i-- > 0 && ret == IMI_OK;) {
		JsonObject *t = json_array_get_object_element(timers, i);
		const char *kind = case_str(t, "kind");

		if (prefix != NULL && !g_str_has_prefix(kind, prefix))
			continue;
		ret = store_timer_clear(txn, case_int(t, "when"),
					case_str(case_obj, "id"), kind, error_r);
		json_array_remove_element(timers, i);
	}
	return ret;
}

/* Takes the timer out of the case: 1 if it was there. */
static int timer_take(JsonObject *case_obj, int64_t when, const char *kind)
{
	JsonArray *timers = json_object_get_array_member(case_obj, "timers");

	for (guint i = 0; timers != NULL && i < json_array_get_length(timers); i++) {
		JsonObject *t = json_array_get_object_element(timers, i);

		if (case_int(t, "when") == when && g_strcmp0(case_str(t, "kind"), kind) == 0) {
			json_array_remove_element(timers, i);
			return 1;
		}
	}
	return 0;
}

/* After a step: the reminder of the new state, or retention when closed. */
static int timers_schedule(struct store_txn *txn, struct request_env *env,
			   JsonObject *case_obj, int64_t after, char **error_r)
{
	const char *state = case_str(case_obj, "state");
	struct policy_reminder_due due;
	int ret;

	if ((ret = timers_clear(txn, case_obj, "reminder:", error_r)) != IMI_OK)
		return ret;
	if (policy_state_closed(env->policy, state)) {
		int64_t block, notice, del, closed = case_int(case_obj, "closed_at");

		policy_retention_times(env->policy, closed, &block, &notice, &del);
		if (block > 0 && (ret = timer_add(txn, case_obj, block,
						  "retention-block", error_r)) != IMI_OK)
			return ret;
		if (notice > 0 && (ret = timer_add(txn, case_obj, notice,
						   "retention-notice", error_r)) != IMI_OK)
			return ret;
		return timer_add(txn, case_obj, del, "retention-delete", error_r);
	}
	if (policy_reminder_next(env->policy, state, case_int(case_obj, "state_since"),
				 case_int(case_obj, "deadline_at"), after, &due)) {
		char *kind = g_strconcat("reminder:", due.name, NULL);
		ret = timer_add(txn, case_obj, due.when, kind, error_r);
		g_free(kind);
	}
	return ret;
}

static void history_add(JsonObject *case_obj, const char *action,
			const char *by, const char *state)
{
	JsonArray *h = json_object_get_array_member(case_obj, "history");
	JsonObject *e;

	if (json_array_get_length(h) >= REQUEST_MAX_HISTORY)
		json_array_remove_element(h, 0);
	e = json_object_new();
	json_object_set_int_member(e, "at", imi_now());
	json_object_set_string_member(e, "action", action);
	json_object_set_string_member(e, "by", by);
	json_object_set_string_member(e, "state", state);
	json_array_add_object_element(h, e);
}

static void state_set(struct request_env *env, JsonObject *case_obj,
		      const char *state)
{
	json_object_set_string_member(case_obj, "state", state);
	json_object_set_int_member(case_obj, "state_since", imi_now());
	if (policy_state_closed(env->policy, state))
		json_object_set_int_member(case_obj, "closed_at", imi_now());
}

/* ---- creation ---- */

static int deadline_parse(const char *text, int64_t *t_r)
{
	int y, m, d;
	GDateTime *dt;

	if (text == NULL || strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return 0;
	dt = g_date_time_new_utc(y, m, d, 0, 0, 0);
	if (dt == NULL)
		return 0;
	*t_r = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return 1;
}

static int qset_ensure(struct store_txn *txn, struct request_env *env,
		       const char *id, char **error_r)
{
	struct qset *qset = NULL;
	char *path;
	int ret;

	if (!qset_id_valid(id))
		return imi_fail(error_r, IMI_INVALID, "'%s' is not a question set id", id);
	ret = qset_store_get(txn, id, &qset, NULL);
	if (ret == IMI_OK)
		goto out;
	if (ret != IMI_NOTFOUND)
		return qset_store_get(txn, id, &qset, error_r);
	path = qset_file_path(env->conf, id);
	if (path == NULL)
		return imi_fail(error_r, IMI_NOTFOUND,
				"no question set '%s' (imi qset list shows them)", id);
	ret = qset_load_file(path, &qset, error_r);
	g_free(path);
	if (ret == IMI_OK)
		ret = qset_store_put(txn, qset, error_r);
out:
	if (ret == IMI_OK && qset_kind(qset) != QSET_KIND_REQUEST)
		ret = imi_fail(error_r, IMI_INVALID,
			       "question set '%s' is not a request form", id);
	qset_free(&qset);
	return ret;
}

int request_create(struct store_txn *txn, struct request_env *env,
		   const struct request_new *in, char **case_id_r,
		   char **error_r)
{
	struct authority *req = NULL, *resp = NULL;
	JsonObject *c = NULL;
	char *case_id = NULL, *key_id = NULL, *deadline = NULL, *detail;
	int64_t now = imi_now(), deadline_at;
	uint64_t n;
	int ret;

	if (in->subject == NULL || *in->subject == '\0')
		return imi_fail(error_r, IMI_INVALID,
				"a request needs a subject (whom it is about)");
	if ((ret = store_authority_get(txn, in->requester, &req, error_r)) != IMI_OK ||
	    (ret = store_authority_get(txn, in->responder, &resp, error_r)) != IMI_OK)
		goto out;
	if (req->disabled || resp->disabled) {
		ret = imi_fail(error_r, IMI_INVALID, "authority %s is disabled",
			       req->disabled ? req->id : resp->id);
		goto out;
	}
	if (strcmp(req->id, resp->id) == 0) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "an authority cannot send a request to itself");
		goto out;
	}
	if (resp->postbox == NULL || !imi_email_valid(resp->postbox)) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "authority %s has no valid post-box address", resp->id);
		goto out;
	}
	if (in->deadline != NULL) {
		if (!deadline_parse(in->deadline, &deadline_at)) {
			ret = imi_fail(error_r, IMI_INVALID,
				       "deadline '%s' is not a date YYYY-MM-DD", in->deadline);
			goto out;
		}
		if (deadline_at < now) {
			ret = imi_fail(error_r, IMI_INVALID,
				       "deadline %s is in the past", in->deadline);
			goto out;
		}
		deadline = g_strdup(in->deadline);
	} else {
		deadline_at = now + (int64_t)policy_deadline_days(env->policy) * 86400;
		deadline = case_day(deadline_at);
		deadline_parse(deadline, &deadline_at);
	}
	if ((ret = qset_ensure(txn, env, in->qset_id, error_r)) != IMI_OK)
		goto out;
	/* The id: year of creation and a counter of all cases. */
	if ((ret = store_next(txn, "cases", &n, error_r)) != IMI_OK)
		goto out;
	{
		GDateTime *dt = g_date_time_new_from_unix_utc(now);
		case_id = g_strdup_printf("IMI-%04d-%06" G_GUINT64_FORMAT,
					  g_date_time_get_year(dt), n);
		g_date_time_unref(dt);
	}
	key_id = case_key_id(case_id);
	if ((ret = store_key_create(txn, key_id, error_r)) != IMI_OK)
		goto out;
	c = json_object_new();
	json_object_set_int_member(c, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(c, "id", case_id);
	json_object_set_string_member(c, "kind", "request");
	json_object_set_string_member(c, "qset", in->qset_id);
	json_object_set_string_member(c, "requester", req->id);
	json_object_set_string_member(c, "responder", resp->id);
	json_object_set_string_member(c, "requester_lang", case_language(env, req));
	json_object_set_string_member(c, "responder_lang", case_language(env, resp));
	json_object_set_string_member(c, "deadline", deadline);
	json_object_set_int_member(c, "deadline_at", deadline_at);
	json_object_set_int_member(c, "created", now);
	json_object_set_int_member(c, "mail_seq", 0);
	json_object_set_string_member(c, "retention", "");
	json_object_set_array_member(c, "timers", json_array_new());
	json_object_set_array_member(c, "history", json_array_new());
	state_set(env, c, policy_initial_state(env->policy));
	if ((ret = seal_member(txn, c, "sealed_subject", in->subject, error_r)) != IMI_OK)
		goto out;
	if (in->user != NULL &&
	    (ret = seal_member(txn, c, "sealed_requester_user", in->user, error_r)) != IMI_OK)
		goto out;
	history_add(c, "create", req->id, case_str(c, "state"));
	if ((ret = mail_request(txn, env, c, req, resp, error_r)) != IMI_OK)
		goto out;
	/* The requester learns the case id and gets a reply address for its
	 * own steps (WITHDRAW). */
	if (req->postbox != NULL && imi_email_valid(req->postbox)) {
		struct qset *qset = NULL;
		char *today = case_day(now);
		const char *body[] = {"status.body", NULL};

		ret = request_qset(txn, c, &qset, error_r);
		if (ret == IMI_OK) {
			struct catalog_arg args[] = {
				{"case", case_id},
				{"title", qset_title(qset, case_language(env, req))},
				{"date", today},
				{"status", request_state_word(env, case_language(env, req),
							      case_str(c, "state"))},
				{NULL, NULL},
			};
			ret = mail_notice(txn, env, c, case_id, req,
					  in->user != NULL ? in->user : req->postbox, "status",
					  "status.subject", body, args, NULL, NULL, error_r);
		}
		qset_free(&qset);
		g_free(today);
		if (ret != IMI_OK)
			goto out;
	}
	if ((ret = timers_schedule(txn, env, c, now, error_r)) != IMI_OK)
		goto out;
	detail = g_strdup_printf("to=%s qset=%s deadline=%s", resp->id, in->qset_id, deadline);
	ret = store_audit(txn, req->id, case_id, "request.create", detail, error_r);
	g_free(detail);
	if (ret == IMI_OK)
		ret = store_record_put(txn, STORE_CASES, case_id, c, STORE_PUT_NEW, error_r);
	if (ret == IMI_OK) {
		*case_id_r = case_id;
		case_id = NULL;
	}
out:
	if (c != NULL)
		json_object_unref(c);
	authority_free(&req);
	authority_free(&resp);
	g_free(case_id);
	g_free(key_id);
	g_free(deadline);
	return ret;
}

/* ---- steps ---- */

/* A normalized value as a reader of lang writes it: yes/no in its words,
 * a choice by its label, anything else as it is (g_free). */
static char *value_display(struct request_env *env, const struct qset_question *q,
			   const char *value, const char *lang)
{
	if (qset_question_type(q) == QSET_YESNO &&
	    (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0)) {
		const char *const *words = catalog_words_raw(env->catalog, lang, value);

		if (words[0] == NULL)
			words = catalog_words_raw(env->catalog, "en", value);
		if (words[0] != NULL)
			return g_strdup(words[0]);
	}
	if (qset_question_type(q) == QSET_CHOICE) {
		for (unsigned i = 0; i < qset_choice_count(q); i++)
			if (strcmp(qset_choice_code(q, i), value) == 0)
				return g_strdup(qset_choice_label(q, i, lang));
	}
	return g_strdup(value);
}

/* Merges the answers into the case's sealed answers; fills the
 * confirmation texts. */
static int answers_merge(struct store_txn *txn, struct request_env *env,
			 JsonObject *case_obj, const struct qset *qset,
			 const struct answers *answers, const char *lang,
			 GString *understood, GString *invalid, GString *missing,
			 GString *for_requester, char **error_r)
{
	char *old = unseal_member(txn, case_obj, "sealed_answers");
	const char *req_lang = case_str(case_obj, "requester_lang");
	JsonParser *parser = json_parser_new();
	JsonObject *all = NULL;
	char *text;
	int ret;

	if (old != NULL && json_parser_load_from_data(parser, old, -1, NULL) &&
	    JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
		all = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
	if (all == NULL)
		all = json_object_new();
	for (unsigned i = 0; i < answers_count(answers); i++) {
		const struct answer *a = answers_get(answers, i);
		const char *code = qset_question_code(a->question);

		if (a->value != NULL) {
			char *shown = value_display(env, a->question, a->value, lang);

			json_object_set_string_member(all, code, a->value);
			g_string_append_printf(understood, "%s: %s\n", code, shown);
			g_free(shown);
		} else {
			g_string_append_printf(invalid, "%s: %s\n", code,
					       a->raw != NULL ? a->raw : "");
		}
	}
	for (unsigned i = 0; i < qset_count(qset); i++) {
		const struct qset_question *q = qset_question(qset, i);
		const char *code = qset_question_code(q);
		const char *value = json_object_has_member(all, code)
			? json_object_get_string_member(all, code) : NULL;

		if (value == NULL && qset_question_required(q))
			g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", code);
		if (value != NULL) {
			char *shown = value_display(env, q, value, req_lang);

			g_string_append_printf(for_requester, "%s. %s\n    %s\n\n", code,
					       qset_question_text(q, req_lang), shown);
			g_free(shown);
		}
	}
	{
		JsonNode *node = json_node_init_object(json_node_alloc(), all);
		text = json_to_string(node, FALSE);
		json_node_unref(node);
	}
	ret = seal_member(txn, case_obj, "sealed_answers", text, error_r);
	memset(text, 0, strlen(text));
	g_free(text);
	if (old != NULL)
		memset(old, 0, strlen(old));
	g_free(old);
	json_object_unref(all);
	g_object_unref(parser);
	return ret;
}

static int refuse(struct store_txn *txn, struct request_env *env,
		  JsonObject *case_obj, const struct request_step *step,
		  const struct authority *sender_auth, const char *refusal,
		  const char *reason, struct request_outcome *out, char **error_r)
{
	static const struct {
		const char *refusal, *key;
	} keys[] = {
		{"unknown-case", "error.unknown-case"},
		{"not-party", "error.not-party"},
		{"wrong-role", "error.wrong-role"},
		{"wrong-state", "error.wrong-role"},
		{"closed", "error.closed-case"},
		{"unparseable", "error.unparseable"},
		{"unknown-forward", "error.unparseable"},
	};
	const char *key = "error.unparseable";
	char *closed = NULL, *detail, *reason_text = NULL;
	int ret;

	for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
		if (strcmp(keys[i].refusal, refusal) == 0)
			key = keys[i].key;
	if (case_obj != NULL && case_int(case_obj, "closed_at") > 0)
		closed = case_day(case_int(case_obj, "closed_at"));
	/* A reason given as a catalog key ("reason.wrong-state") is written
	 * in the sender's language, the case's state in its words. */
	if (reason != NULL && g_str_has_prefix(reason, "reason.")) {
		const char *lang = case_language(env, sender_auth);
		struct catalog_arg rargs[] = {
			{"status", request_state_word(env, lang, case_obj != NULL
							  ? case_str(case_obj, "state") : NULL)},
			{NULL, NULL},
		};
		reason_text = catalog_format(env->catalog, lang, reason, rargs);
		reason = reason_text;
	}
	{
		const char *body[] = {key, NULL};
		struct catalog_arg args[] = {
			{"case", step->case_id},
			{"reason", reason},
			{"date", closed},
			{NULL, NULL},
		};
		/* Need-to-know: a stranger's reply names no case state and
		 * carries no token of the case. */
		int party = case_obj != NULL &&
			    request_party(case_obj, step->user->authority) != POLICY_PARTY_NONE &&
			    g_strcmp0(case_str(case_obj, "retention"), "") == 0;

		ret = mail_notice(txn, env, party ? case_obj : NULL, step->case_id,
				  sender_auth, step->user->email, "error",
				  "error.subject", body, args, NULL, step->in_reply_to,
				  error_r);
	}
	g_free(closed);
	g_free(reason_text);
	if (ret != IMI_OK)
		return ret;
	detail = g_strdup_printf("action=%s refusal=%s by=%s", step->action, refusal,
				 step->user->authority);
	ret = store_audit(txn, step->user->id,
			  case_obj != NULL ? step->case_id : NULL, "request.refused",
			  detail, error_r);
	g_free(detail);
	out->applied = 0;
	out->refusal = g_strdup(refusal);
	if (case_obj != NULL)
		out->state = g_strdup(case_str(case_obj, "state"));
	return ret;
}

int request_notify_sender(struct store_txn *txn, struct request_env *env,
			  const char *case_id, const struct user *user,
			  const char *body_key, const char *reason,
			  const char *in_reply_to, char **error_r)
{
	struct authority *auth = NULL;
	JsonObject *c = NULL;
	const char *body[] = {body_key, NULL};
	struct catalog_arg args[] = {
		{"case", case_id},
		{"reason", reason},
		{NULL, NULL},
	};
	int ret, party = 0;

	if ((ret = store_authority_get(txn, user->authority, &auth, error_r)) != IMI_OK)
		return ret;
	ret = request_get(txn, case_id, STORE_GET_RMW, &c, NULL);
	/* Blocked or deleted data: the notice carries nothing of the case. */
	if (ret == IMI_OK)
		party = request_party(c, user->authority) != POLICY_PARTY_NONE &&
			g_strcmp0(case_str(c, "retention"), "") == 0;
	else if (ret != IMI_NOTFOUND)
		ret = request_get(txn, case_id, STORE_GET_RMW, &c, error_r);
	if (ret == IMI_OK || ret == IMI_NOTFOUND)
		ret = mail_notice(txn, env, party ? c : NULL, case_id, auth, user->email,
				  "notice", "error.subject", body, args, NULL,
				  in_reply_to, error_r);
	if (ret == IMI_OK && party)
		ret = store_record_put(txn, STORE_CASES, case_id, c, 0, error_r);
	if (ret == IMI_OK)
		ret = store_audit(txn, user->id, party ? case_id : NULL, "request.notice",
				  body_key, error_r);
	if (c != NULL)
		json_object_unref(c);
	authority_free(&auth);
	return ret;
}

static int early_delete(struct store_txn *txn, struct request_env *env, JsonObject *c,
			const struct request_step *step, const struct authority *sender,
			struct request_outcome *out, char **error_r);

int request_apply(struct store_txn *txn, struct request_env *env,
		  const struct request_step *step, struct request_outcome *out,
		  char **error_r)
{
	struct authority *sender = NULL, *req = NULL, *resp = NULL, *fwd = NULL;
	struct qset *qset = NULL;
	JsonObject *c = NULL;
	struct policy_decision d;
	const char *case_id = step->case_id;
	GString *understood = g_string_new(""), *invalid = g_string_new("");
	GString *missing = g_string_new(""), *for_req = g_string_new("");
	char *detail;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = store_authority_get(txn, step->user->authority, &sender, error_r)) != IMI_OK)
		goto out;
	ret = request_get(txn, case_id, STORE_GET_RMW, &c, NULL);
	if (ret == IMI_NOTFOUND) {
		ret = refuse(txn, env, NULL, step, sender, "unknown-case", NULL, out, error_r);
		goto out;
	} else if (ret != IMI_OK) {
		ret = request_get(txn, case_id, STORE_GET_RMW, &c, error_r);
		goto out;
	}
	/* Early deletion is asked for (and agreed to) after closure, also
	 * while the data are blocked. */
	if (strcmp(step->action, "delete") == 0 || strcmp(step->action, "agree") == 0) {
		ret = early_delete(txn, env, c, step, sender, out, error_r);
		goto out;
	}
	if (g_strcmp0(case_str(c, "retention"), "") != 0) {
		ret = refuse(txn, env, c, step, sender, "closed", NULL, out, error_r);
		goto out;
	}
	ret = policy_decide(env->policy, case_str(c, "state"), step->action,
			    request_party(c, step->user->authority),
			    (const char *const *)step->user->roles, &d, NULL);
	if (ret == IMI_NOTFOUND) {
		ret = refuse(txn, env, c, step, sender, "unparseable", step->action, out, error_r);
		goto out;
	} else if (ret != IMI_OK) {
		ret = imi_fail(error_r, IMI_ERROR, "case %s has an unknown state", case_id);
		goto out;
	}
	if (!d.allowed) {
		const char *why = strcmp(d.refusal, "wrong-state") == 0 ? "reason.wrong-state"
			: g_strcmp0(d.party_needed,
				    policy_party_name(request_party(c, step->user->authority))) != 0
			? "reason.other-party" : "reason.role-needed";

		ret = refuse(txn, env, c, step, sender, d.refusal, why, out, error_r);
		goto out;
	}
	if ((ret = store_authority_get(txn, case_str(c, "requester"), &req, error_r)) != IMI_OK ||
	    (ret = store_authority_get(txn, case_str(c, "responder"), &resp, error_r)) != IMI_OK ||
	    (ret = request_qset(txn, c, &qset, error_r)) != IMI_OK)
		goto out;

	/* The step's own effect. */
	if (strcmp(step->action, "forward") == 0) {
		if (step->forward_to == NULL ||
		    store_authority_get(txn, step->forward_to, &fwd, NULL) != IMI_OK ||
		    fwd->disabled || g_strcmp0(fwd->country, resp->country) != 0 ||
		    strcmp(fwd->id, resp->id) == 0 || strcmp(fwd->id, req->id) == 0) {
			ret = refuse(txn, env, c, step, sender, "unknown-forward",
				     "reason.unknown-forward", out, error_r);
			goto out;
		}
		json_object_set_string_member(c, "responder", fwd->id);
		json_object_set_string_member(c, "responder_lang", case_language(env, fwd));
		if ((ret = mail_request(txn, env, c, req, fwd, error_r)) != IMI_OK)
			goto out;
	} else if (strcmp(step->action, "answer") == 0) {
		if (step->answers == NULL) {
			ret = refuse(txn, env, c, step, sender, "unparseable",
				     "reason.no-answer", out, error_r);
			goto out;
		}
		if ((ret = answers_merge(txn, env, c, qset, step->answers,
					 case_language(env, sender), understood,
					 invalid, missing, for_req, error_r)) != IMI_OK)
			goto out;
		if (understood->len == 0) {
			ret = refuse(txn, env, c, step, sender, "unparseable",
				     invalid->len ? "reason.no-answer-understood" : "reason.no-answer",
				     out, error_r);
			goto out;
		}
	}
	history_add(c, step->action, step->user->authority, d.next_state);
	state_set(env, c, d.next_state);
	if ((ret = timers_schedule(txn, env, c, imi_now(), error_r)) != IMI_OK)
		goto out;

	/* Confirmation to the sender: what was understood, what is missing. */
	{
		const char *body[5];
		unsigned nb = 0;
		char *today = case_day(imi_now());
		struct catalog_arg args[] = {
			{"case", case_id},
			{"questions", understood->str},
			{"missing", missing->str},
			{"title", qset_title(qset, case_language(env, sender))},
			{"date", today},
			{"status", request_state_word(env, case_language(env, sender),
						      d.next_state)},
			{NULL, NULL},
			{NULL, NULL},
		};
		char *delete_addr = NULL, *other_delete = NULL;
		GString *invalid_args = NULL;

		if (strcmp(step->action, "answer") == 0) {
			body[nb++] = "confirm.understood";
			if (missing->len)
				body[nb++] = "confirm.missing";
			if (invalid->len)
				body[nb++] = "confirm.fix";
		} else {
			body[nb++] = "status.body";
		}
		/* Once closed, either party may ask for early deletion. */
		if (policy_state_closed(env->policy, d.next_state) &&
		    (ret = reply_address(env, case_id, sender->id, "delete", &delete_addr,
					 error_r)) == IMI_OK)
			body[nb++] = "deletion.early-offer";
		body[nb] = NULL;
		if (delete_addr != NULL) {
			args[6].name = "action";
			args[6].value = delete_addr;
		}
		invalid_args = invalid;
		if (ret == IMI_OK)
			ret = mail_notice(txn, env, c, case_id, sender, step->user->email,
					  "confirm", "confirm.subject", body, args,
					  invalid_args->len ? invalid_args->str : NULL,
					  step->in_reply_to, error_r);
		/* The other party learns of the step: the requester gets the
		 * answers; the responder gets the requester's decisions. */
		if (ret == IMI_OK && strcmp(step->action, "forward") != 0) {
			const struct authority *other =
				request_party(c, sender->id) == POLICY_PARTY_REQUESTER ? resp : req;
			const char *sbody[] = {"status.body", NULL, NULL};
			struct catalog_arg oargs[] = {
				{"case", case_id},
				{"title", qset_title(qset, case_language(env, other))},
				{"date", today},
				{"status", request_state_word(env, case_language(env, other),
							      d.next_state)},
				{NULL, NULL},
				{NULL, NULL},
			};
			if (policy_state_closed(env->policy, d.next_state) &&
			    (ret = reply_address(env, case_id, other->id, "delete",
						 &other_delete, error_r)) == IMI_OK) {
				sbody[1] = "deletion.early-offer";
				oargs[4].name = "action";
				oargs[4].value = other_delete;
			}
			if (ret == IMI_OK)
				ret = mail_notice(txn, env, c, case_id, other, other->postbox,
						  "status", "status.subject", sbody, oargs,
						  for_req->len ? for_req->str
						  : step->note != NULL && *step->note ? step->note
						  : NULL,
						  NULL, error_r);
		}
		g_free(today);
		g_free(delete_addr);
		g_free(other_delete);
	}
	if (ret != IMI_OK)
		goto out;
	detail = g_strdup_printf("action=%s state=%s%s%s", step->action, d.next_state,
				 fwd != NULL ? " to=" : "", fwd != NULL ? fwd->id : "");
	ret = store_audit(txn, step->user->id, case_id, "request.step", detail, error_r);
	g_free(detail);
	/* The case is written last, and handed over: what the step wrote
	 * stands, sealed, for the record's next reader (store.h). */
	if (ret == IMI_OK) {
		out->state = g_strdup(d.next_state);
		ret = store_record_put_release(txn, STORE_CASES, case_id, &c, 0, error_r);
		if (ret == IMI_OK)
			out->applied = 1;
		else
			g_clear_pointer(&out->state, g_free);
	}
out:
	if (c != NULL)
		json_object_unref(c);
	qset_free(&qset);
	authority_free(&sender);
	authority_free(&req);
	authority_free(&resp);
	authority_free(&fwd);
	g_string_free(understood, TRUE);
	g_string_free(invalid, TRUE);
	g_string_free(missing, TRUE);
	g_string_free(for_req, TRUE);
	return ret;
}

/* ---- timers ---- */

static int run_reminder(struct store_txn *txn, struct request_env *env,
			JsonObject *c, int64_t when, const char *name,
			char **error_r)
{
	struct authority *req = NULL, *to = NULL;
	struct policy_reminder_due due;
	struct qset *qset = NULL;
	const char *text_key = NULL;
	enum policy_party party = POLICY_PARTY_RESPONDER;
	char *sent = NULL, *deadline;
	int ret;

	/* Which reminder of the state this is, from the rules in force. */
	if (policy_reminder_next(env->policy, case_str(c, "state"),
				 case_int(c, "state_since"), case_int(c, "deadline_at"),
				 when - 1, &due) && strcmp(due.name, name) == 0) {
		text_key = due.text_key;
		party = due.to;
	}
	if (text_key == NULL)
		return IMI_OK; /* the rules changed: nothing of that name now */
	if ((ret = store_authority_get(txn, case_str(c, "requester"), &req, error_r)) != IMI_OK ||
	    (ret = store_authority_get(txn, case_str(c, party == POLICY_PARTY_REQUESTER
						       ? "requester" : "responder"),
				       &to, error_r)) != IMI_OK ||
	    (ret = request_qset(txn, c, &qset, error_r)) != IMI_OK)
		goto out;
	sent = case_day(case_int(c, "created"));
	deadline = g_strdup(case_str(c, "deadline"));
	if (strcmp(name, "not-answered") == 0) {
		g_free(sent);
		sent = g_strdup(deadline);
	} else if (strcmp(name, "answer-not-accepted") == 0) {
		g_free(sent);
		sent = case_day(case_int(c, "state_since"));
	}
	{
		const char *lang = case_language(env, to);
		const char *body[] = {text_key, NULL};
		const struct authority *about = party == POLICY_PARTY_REQUESTER
			? NULL : req;
		struct authority *resp = NULL;
		struct catalog_arg args[] = {
			{"case", case_str(c, "id")},
			{"title", qset_title(qset, lang)},
			{"authority", NULL},
			{"country", NULL},
			{"date", sent},
			{NULL, NULL},
		};
		if (about == NULL &&
		    store_authority_get(txn, case_str(c, "responder"), &resp, NULL) == IMI_OK)
			about = resp;
		if (about != NULL) {
			args[2].value = case_authority_name(about, lang);
			args[3].value = about->country;
		}
		ret = mail_notice(txn, env, c, case_str(c, "id"), to, to->postbox,
				  "reminder", "reminder.subject", body, args, NULL, NULL,
				  error_r);
		authority_free(&resp);
	}
	g_free(deadline);
	if (ret == IMI_OK)
		ret = store_audit(txn, "tick", case_str(c, "id"), "request.reminder", name, error_r);
	/* The next one of the state, after this. */
	if (ret == IMI_OK &&
	    policy_reminder_next(env->policy, case_str(c, "state"), case_int(c, "state_since"),
				 case_int(c, "deadline_at"), when, &due)) {
		char *kind = g_strconcat("reminder:", due.name, NULL);
		ret = timer_add(txn, c, due.when, kind, error_r);
		g_free(kind);
	}
out:
	g_free(sent);
	qset_free(&qset);
	authority_free(&req);
	authority_free(&to);
	return ret;
}

struct forget_walk {
	const char *case_id;
	GArray *seqs;
	GPtrArray *keys;  /* a held message's own key ("held:N"), else NULL */
	GPtrArray *msgids; /* the Message-ID of each, "" when none */
	GPtrArray *records; /* the record of each (JsonObject *): its blob goes too */
};

/* A message of the case, or a held one that names it (unverified: deleting
 * a forger's message with the case loses nothing). */
static int forget_message(const void *key, size_t key_len, const void *value,
			  size_t len, void *ctx)
{
	struct forget_walk *w = ctx;
	JsonObject *obj = NULL;

	if (key_len == 8 && store_record_parse(value, len, &obj, NULL) == IMI_OK) {
		if (g_strcmp0(case_str(obj, "case"), w->case_id) == 0 ||
		    g_strcmp0(case_str(obj, "names_case"), w->case_id) == 0) {
			uint64_t seq = store_key_u64_get(key);
			const char *k = case_str(obj, "key");

			g_array_append_val(w->seqs, seq);
			g_ptr_array_add(w->keys, g_str_has_prefix(k != NULL ? k : "", "held:")
							 ? g_strdup(k) : NULL);
			g_ptr_array_add(w->msgids, g_strdup(case_str(obj, "message_id")));
			g_ptr_array_add(w->records, json_object_ref(obj));
		}
		json_object_unref(obj);
	}
	return 0;
}

/* The Message-ID index keeps a deleted message's Message-ID and first
 * outcome (a replay is still known) but no longer points to it. */
static int forget_msgid_link(struct store_txn *txn, const char *msgid, uint64_t seq,
			     char **error_r)
{
	JsonObject *obj = NULL;
	int ret;

	if (msgid == NULL || *msgid == '\0')
		return IMI_OK;
	ret = store_record_get(txn, STORE_MSGIDS, msgid, STORE_GET_RMW, &obj, error_r);
	if (ret == IMI_NOTFOUND) {
		g_clear_pointer(error_r, g_free);
		return IMI_OK;
	}
	if (ret != IMI_OK)
		return ret;
	if (json_object_has_member(obj, "message") &&
	    (uint64_t)json_object_get_int_member(obj, "message") == seq) {
		json_object_remove_member(obj, "message");
		ret = store_record_put(txn, STORE_MSGIDS, msgid, obj, 0, error_r);
	}
	json_object_unref(obj);
	return ret;
}

/* Deletes the personal data of a case: its key, its sealed members, its
 * stored messages (their blobs, the keys of held ones, and their links
 * from the Message-ID index) and its outbox items. */
static int retention_delete(struct store_txn *txn, JsonObject *c, char **error_r)
{
	const char *case_id = case_str(c, "id");
	char *key_id = case_key_id(case_id);
	struct forget_walk w = {case_id, g_array_new(FALSE, FALSE, sizeof(uint64_t)),
				g_ptr_array_new_with_free_func(g_free),
				g_ptr_array_new_with_free_func(g_free),
				g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref)};
	GList *members = json_object_get_members(c);
	int ret;

	ret = store_key_destroy(txn, key_id, error_r);
	if (ret == IMI_NOTFOUND)
		ret = IMI_OK;
	for (GList *m = members; m != NULL; m = m->next)
		if (g_str_has_prefix(m->data, "sealed_"))
			json_object_remove_member(c, m->data);
	g_list_free(members);
	if (ret == IMI_OK)
		ret = outbox_forget_case(txn, case_id, error_r);
	if (ret == IMI_OK)
		ret = store_each(txn, STORE_MESSAGES, NULL, 0, forget_message, &w, error_r);
	for (guint i = 0; ret == IMI_OK && i < w.seqs->len; i++) {
		unsigned char k[8];

		store_key_u64(g_array_index(w.seqs, uint64_t, i), k);
		ret = store_del(txn, STORE_MESSAGES, k, sizeof(k), error_r);
		if (ret == IMI_OK)
			ret = blob_record_forget(txn, g_ptr_array_index(w.records, i), error_r);
		if (ret == IMI_OK && w.keys->pdata[i] != NULL)
			ret = store_key_destroy(txn, w.keys->pdata[i], error_r);
		if (ret == IMI_NOTFOUND) {
			g_free(*error_r);
			*error_r = NULL;
			ret = IMI_OK;
		}
		if (ret == IMI_OK)
			ret = forget_msgid_link(txn, g_ptr_array_index(w.msgids, i),
						g_array_index(w.seqs, uint64_t, i), error_r);
	}
	g_array_free(w.seqs, TRUE);
	g_ptr_array_free(w.keys, TRUE);
	g_ptr_array_free(w.msgids, TRUE);
	g_ptr_array_free(w.records, TRUE);
	g_free(key_id);
	return ret;
}

/* Tells both parties of the coming (body deletion.notice-before, date of
 * deletion) or done deletion (deletion.done, today).  The notice names the
 * case and nothing personal; after deletion it cannot be sealed with the
 * case key any more, and does not need to be. */
static int retention_tell(struct store_txn *txn, struct request_env *env,
			  JsonObject *c, const char *body_key, int64_t date,
			  char **error_r)
{
	static const char *const parties[] = {"requester", "responder"};
	char *day = case_day(date);
	int ret = IMI_OK;

	for (unsigned i = 0; i < G_N_ELEMENTS(parties) && ret == IMI_OK; i++) {
		struct authority *a = NULL;
		const char *body[] = {body_key, NULL, NULL};
		char *delete_addr = NULL;
		struct catalog_arg args[] = {
			{"case", case_str(c, "id")},
			{"date", day},
			{NULL, NULL},
			{NULL, NULL},
		};

		if (case_str(c, parties[i]) == NULL)
			continue; /* an alert has an initiator and no responder */
		ret = store_authority_get(txn, case_str(c, parties[i]), &a, NULL);
		if (ret == IMI_NOTFOUND) {
			ret = IMI_OK; /* removed from the directory: nobody to tell */
			continue;
		}
		if (ret != IMI_OK)
			ret = store_authority_get(txn, case_str(c, parties[i]), &a, error_r);
		/* Before the deletion, either party may ask for it earlier. */
		if (ret == IMI_OK && strcmp(body_key, "deletion.notice-before") == 0 &&
		    (ret = reply_address(env, case_str(c, "id"), a->id, "delete",
					 &delete_addr, error_r)) == IMI_OK) {
			body[1] = "deletion.early-offer";
			args[2].name = "action";
			args[2].value = delete_addr;
		}
		if (ret == IMI_OK && a->postbox != NULL && !a->disabled)
			ret = mail_notice(txn, env, NULL, case_str(c, "id"), a, a->postbox,
					  "deletion", "deletion.subject", body, args, NULL,
					  NULL, error_r);
		g_free(delete_addr);
		authority_free(&a);
	}
	g_free(day);
	return ret;
}

/* Deletes the personal data now, tells both parties, and leaves no timer
 * of the case behind.  The caller runs store_purge_logs after commit. */
static int retention_finish(struct store_txn *txn, struct request_env *env,
			    JsonObject *c, const char *actor, const char *detail,
			    char **error_r)
{
	const char *case_id = case_str(c, "id");
	int ret = retention_delete(txn, c, error_r);

	if (ret == IMI_OK)
		ret = timers_clear(txn, c, NULL, error_r);
	if (ret == IMI_OK)
		ret = retention_tell(txn, env, c, "deletion.done", imi_now(), error_r);
	if (ret == IMI_OK) {
		json_object_set_string_member(c, "retention", "deleted");
		json_object_set_int_member(c, "deleted_at", imi_now());
		ret = store_audit(txn, actor, case_id, "retention.delete", detail, error_r);
	}
	return ret;
}

int request_timer_run(struct store_txn *txn, struct request_env *env,
		      int64_t when, const char *case_id, const char *kind,
		      int *purge_r, char **error_r)
{
	JsonObject *c = NULL;
	int ret;

	/* The index entry goes in any case: a timer runs at most once. */
	if ((ret = store_timer_clear(txn, when, case_id, kind, error_r)) != IMI_OK)
		return ret;
	ret = request_get(txn, case_id, STORE_GET_RMW, &c, error_r);
	if (ret == IMI_NOTFOUND) {
		g_free(*error_r);
		*error_r = NULL;
		return IMI_OK;
	}
	if (ret != IMI_OK)
		return ret;
	/* The case record says which timers are live: one taken by another
	 * tick, or voided by a step, is not run again. */
	if (!timer_take(c, when, kind)) {
		json_object_unref(c);
		return IMI_OK;
	}
	if (g_str_has_prefix(kind, "reminder:")) {
		if (!policy_state_closed(env->policy, case_str(c, "state")))
			ret = run_reminder(txn, env, c, when, kind + 9, error_r);
	} else if (strcmp(kind, "retention-block") == 0) {
		if (g_strcmp0(case_str(c, "retention"), "") == 0)
			json_object_set_string_member(c, "retention", "blocked");
		ret = store_audit(txn, "tick", case_id, "retention.block", NULL, error_r);
	} else if (strcmp(kind, "retention-notice") == 0) {
		JsonArray *timers = json_object_get_array_member(c, "timers");
		int64_t del = 0;

		for (guint i = 0; i < json_array_get_length(timers); i++) {
			JsonObject *t = json_array_get_object_element(timers, i);
			if (g_strcmp0(case_str(t, "kind"), "retention-delete") == 0)
				del = case_int(t, "when");
		}
		if (del > 0)
			ret = retention_tell(txn, env, c, "deletion.notice-before", del, error_r);
		if (ret == IMI_OK)
			ret = store_audit(txn, "tick", case_id, "retention.notice", NULL, error_r);
	} else if (strcmp(kind, "retention-delete") == 0) {
		ret = retention_finish(txn, env, c, "tick", NULL, error_r);
		if (ret == IMI_OK)
			*purge_r = 1;
	}
	if (ret == IMI_OK)
		ret = store_record_put(txn, STORE_CASES, case_id, c, 0, error_r);
	json_object_unref(c);
	return ret;
}

/* ---- early deletion ---- */

/* DELETE (or the one-click "delete" address of a closing or retention
 * notice) by one party of a closed case records the wish and asks the
 * other party, whose agreement (its own DELETE, or the "agree" address)
 * deletes the personal data at once, as retention does. */
static int early_delete(struct store_txn *txn, struct request_env *env, JsonObject *c,
			const struct request_step *step, const struct authority *sender,
			struct request_outcome *out, char **error_r)
{
	const char *case_id = case_str(c, "id");
	enum policy_party party = request_party(c, sender->id);
	const char *asked_by = case_str(c, "early_delete_by");
	struct authority *other = NULL;
	struct qset *qset = NULL;
	char *agree = NULL, *today = NULL, *detail;
	int ret;

	if (party == POLICY_PARTY_NONE)
		return refuse(txn, env, c, step, sender, "not-party", NULL, out, error_r);
	if (g_strcmp0(case_str(c, "retention"), "deleted") == 0)
		return refuse(txn, env, c, step, sender, "closed", NULL, out, error_r);
	if (!policy_state_closed(env->policy, case_str(c, "state")))
		return refuse(txn, env, c, step, sender, "wrong-state", "reason.not-closed",
			      out, error_r);
	if (!user_has_role(step->user, "handler"))
		return refuse(txn, env, c, step, sender, "wrong-role", "reason.role-needed",
			      out, error_r);

	/* The other party asked before: this is the agreement. */
	if (asked_by != NULL && strcmp(asked_by, sender->id) != 0) {
		detail = g_strdup_printf("early: asked by %s, agreed by %s", asked_by,
					 sender->id);
		history_add(c, "delete-agree", sender->id, case_str(c, "state"));
		ret = retention_finish(txn, env, c, step->user->id, detail, error_r);
		g_free(detail);
		if (ret == IMI_OK)
			ret = store_record_put(txn, STORE_CASES, case_id, c, 0, error_r);
		if (ret == IMI_OK) {
			out->applied = 1;
			out->purge = 1;
			out->state = g_strdup(case_str(c, "state"));
		}
		return ret;
	}

	/* The wish is recorded and the other party asked to agree. */
	if ((ret = store_authority_get(txn, case_str(c, party == POLICY_PARTY_REQUESTER
						       ? "responder" : "requester"),
				       &other, error_r)) != IMI_OK)
		return ret;
	json_object_set_string_member(c, "early_delete_by", sender->id);
	json_object_set_int_member(c, "early_delete_at", imi_now());
	history_add(c, "delete-request", sender->id, case_str(c, "state"));
	today = case_day(imi_now());
	if ((ret = request_qset(txn, c, &qset, error_r)) != IMI_OK ||
	    (ret = reply_address(env, case_id, other->id, "agree", &agree, error_r)) != IMI_OK)
		goto out;
	if (other->postbox != NULL && !other->disabled) {
		const char *lang = case_language(env, other);
		const char *body[] = {"deletion.early-request", NULL};
		struct catalog_arg args[] = {
			{"case", case_id},
			{"authority", case_authority_name(sender, lang)},
			{"country", sender->country},
			{"reason", "-"},
			{"action", agree},
			{NULL, NULL},
		};
		char *reason = step->note != NULL ? g_strstrip(g_strdup(step->note)) : NULL;

		args[3].value = reason != NULL && *reason ? reason : "-";
		ret = mail_notice(txn, env, c, case_id, other, other->postbox, "deletion",
				  "deletion.subject", body, args, NULL, NULL, error_r);
		g_free(reason);
		if (ret != IMI_OK)
			goto out;
	}
	{
		const char *lang = case_language(env, sender);
		const char *body[] = {"status.body", NULL};
		struct catalog_arg args[] = {
			{"case", case_id},
			{"title", qset_title(qset, lang)},
			{"date", today},
			{"status", request_state_word(env, lang, "deletion-requested")},
			{NULL, NULL},
		};
		ret = mail_notice(txn, env, c, case_id, sender, step->user->email, "confirm",
				  "confirm.subject", body, args, NULL, step->in_reply_to,
				  error_r);
	}
	if (ret == IMI_OK)
		ret = store_audit(txn, step->user->id, case_id, "request.delete-request",
				  other->id, error_r);
	if (ret == IMI_OK)
		ret = store_record_put(txn, STORE_CASES, case_id, c, 0, error_r);
	if (ret == IMI_OK) {
		out->applied = 1;
		out->state = g_strdup(case_str(c, "state"));
	}
out:
	g_free(agree);
	g_free(today);
	qset_free(&qset);
	authority_free(&other);
	return ret;
}

/* ---- coordinators ---- */

int request_coordinators(struct store_txn *txn, const char *country,
			 GPtrArray **users_r, char **error_r)
{
	return directory_users_with_role(txn, country, "coordinator", 0, users_r, error_r);
}

/* ---- urgency lists ---- */


struct urgency_walk {
	struct request_env *env;
	struct store_txn *txn;
	int64_t opened_before;  /* a request created before this is late */
	GHashTable *by_country; /* country -> GPtrArray of JsonObject * (cases) */
	unsigned seen;
	int ret;
	char **error_r;
};

static void urgency_add(struct urgency_walk *w, const char *country, JsonObject *c)
{
	GPtrArray *v = g_hash_table_lookup(w->by_country, country);

	if (v == NULL) {
		v = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
		g_hash_table_insert(w->by_country, g_strdup(country), v);
	}
	if (v->len < REQUEST_MAX_URGENT)
		g_ptr_array_add(v, json_object_ref(c));
}

static int urgency_case(const void *key, size_t key_len, const void *value, size_t len,
			void *ctx)
{
	struct urgency_walk *w = ctx;
	JsonObject *c = NULL;
	static const char *const parties[] = {"requester", "responder"};
	char *countries[2] = {NULL, NULL};

	(void)key;
	(void)key_len;
	if (++w->seen > REQUEST_MAX_CASES)
		return 1;
	if (store_record_parse(value, len, &c, NULL) != IMI_OK)
		return 0;
	if (g_strcmp0(case_str(c, "kind"), "request") != 0 ||
	    policy_state_closed(w->env->policy, case_str(c, "state")) ||
	    g_strcmp0(case_str(c, "retention"), "") != 0 ||
	    case_int(c, "created") > w->opened_before) {
		json_object_unref(c);
		return 0;
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(parties); i++) {
		struct authority *a = NULL;

		if (store_authority_get(w->txn, case_str(c, parties[i]), &a, NULL) == IMI_OK)
			countries[i] = g_strdup(a->country);
		authority_free(&a);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(parties); i++)
		if (countries[i] != NULL && (i == 0 || g_strcmp0(countries[0], countries[1]) != 0))
			urgency_add(w, countries[i], c);
	g_free(countries[0]);
	g_free(countries[1]);
	json_object_unref(c);
	return 0;
}

/* One line per late request, in lang. */
static int urgency_text(struct store_txn *txn, struct request_env *env, GPtrArray *cases,
			const char *lang, GString *text, char **error_r)
{
	for (guint i = 0; i < cases->len; i++) {
		JsonObject *c = g_ptr_array_index(cases, i);
		struct authority *req = NULL, *resp = NULL;
		struct qset *qset = NULL;
		char *day = case_day(case_int(c, "created")), *date, *names, *countries, *line;
		int ret;

		if ((ret = store_authority_get(txn, case_str(c, "requester"), &req, error_r)) != IMI_OK ||
		    (ret = store_authority_get(txn, case_str(c, "responder"), &resp, error_r)) != IMI_OK ||
		    (ret = request_qset(txn, c, &qset, error_r)) != IMI_OK) {
			authority_free(&req);
			authority_free(&resp);
			g_free(day);
			return ret;
		}
		date = lang_format_date(day, lang);
		names = g_strdup_printf("%s → %s", case_authority_name(req, lang),
					case_authority_name(resp, lang));
		countries = g_strdup_printf("%s → %s", req->country, resp->country);
		{
			struct catalog_arg args[] = {
				{"case", case_str(c, "id")},
				{"title", qset_title(qset, lang)},
				{"authority", names},
				{"country", countries},
				{"status", request_state_word(env, lang, case_str(c, "state"))},
				{"date", date != NULL ? date : day},
				{NULL, NULL},
			};
			line = catalog_format(env->catalog, lang, "urgency.line", args);
		}
		g_string_append_printf(text, "- %s\n", line);
		g_free(line);
		g_free(names);
		g_free(countries);
		g_free(date);
		g_free(day);
		qset_free(&qset);
		authority_free(&req);
		authority_free(&resp);
	}
	return IMI_OK;
}

int request_urgency_run(struct store_txn *txn, struct request_env *env, int64_t now,
			unsigned *sent_r, char **error_r)
{
	const char *period = policy_urgency_period(env->policy);
	const char *after = policy_urgency_after(env->policy);
	JsonObject *rec = NULL;
	struct urgency_walk w = {env, txn, 0, NULL, 0, IMI_OK, error_r};
	GHashTableIter it;
	gpointer k, v;
	int64_t next;
	int ret;

	*sent_r = 0;
	if (period == NULL || after == NULL)
		return IMI_OK;
	/* The record names the next list; under its write lock two ticks at
	 * once send one list. */
	ret = store_record_get(txn, STORE_META, DUE_URGENCY_KEY, STORE_GET_RMW, &rec, NULL);
	if (ret == IMI_OK) {
		next = case_int(rec, "next");
		json_object_unref(rec);
		if (now < next)
			return IMI_OK;
	} else if (ret != IMI_NOTFOUND) {
		return store_record_get(txn, STORE_META, DUE_URGENCY_KEY, STORE_GET_RMW, &rec, error_r);
	}
	if ((ret = policy_period_sub(after, now, &w.opened_before, error_r)) != IMI_OK)
		return ret;
	w.by_country = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     (GDestroyNotify)g_ptr_array_unref);
	ret = store_each(txn, STORE_CASES, NULL, 0, urgency_case, &w, error_r);
	ret = ret < 0 ? ret : IMI_OK;
	g_hash_table_iter_init(&it, w.by_country);
	while (ret == IMI_OK && g_hash_table_iter_next(&it, &k, &v)) {
		const char *country = k;
		GPtrArray *cases = v, *coords = NULL;
		char *count = g_strdup_printf("%u", cases->len);

		ret = request_coordinators(txn, country, &coords, error_r);
		for (guint i = 0; ret == IMI_OK && i < coords->len; i++) {
			struct user *u = g_ptr_array_index(coords, i);
			struct authority *a = NULL;
			GString *text = g_string_new("");
			const char *lang;

			if ((ret = store_authority_get(txn, u->authority, &a, error_r)) != IMI_OK) {
				g_string_free(text, TRUE);
				break;
			}
			lang = case_language(env, a);
			ret = urgency_text(txn, env, cases, lang, text, error_r);
			if (ret == IMI_OK) {
				const char *body[] = {"urgency.intro", NULL};
				struct catalog_arg args[] = {
					{"country", country},
					{"count", count},
					{NULL, NULL},
				};
				ret = mail_notice(txn, env, NULL, "", a, u->email, "urgency",
						  "urgency.subject", body, args, text->str, NULL,
						  error_r);
			}
			if (ret == IMI_OK) {
				char *detail = g_strdup_printf("country=%s requests=%u", country,
							       cases->len);
				ret = store_audit(txn, u->id, NULL, "request.urgency-list", detail,
						  error_r);
				g_free(detail);
				(*sent_r)++;
			}
			g_string_free(text, TRUE);
			authority_free(&a);
		}
		if (coords != NULL)
			g_ptr_array_free(coords, TRUE);
		g_free(count);
	}
	g_hash_table_destroy(w.by_country);
	if (ret != IMI_OK)
		return ret;
	/* The next list a period from now: a late tick owes no backlog. */
	if ((ret = policy_period_add(period, now, &next, error_r)) != IMI_OK)
		return ret;
	rec = json_object_new();
	json_object_set_int_member(rec, "v", STORE_SCHEMA_VERSION);
	json_object_set_int_member(rec, "next", next);
	ret = store_record_put(txn, STORE_META, DUE_URGENCY_KEY, rec, 0, error_r);
	json_object_unref(rec);
	return ret;
}

/* ---- failing addresses ---- */

struct postbox_find {
	const char *address;
	GPtrArray *ids; /* authority ids whose post-box it is */
};

static int postbox_match(struct authority *a, void *ctx)
{
	struct postbox_find *f = ctx;

	if (a->postbox != NULL && g_ascii_strcasecmp(a->postbox, f->address) == 0 &&
	    f->ids->len < REQUEST_MAX_POSTBOXES)
		g_ptr_array_add(f->ids, g_strdup(a->id));
	return 0;
}

int request_tell_coordinators(struct store_txn *txn, struct request_env *env,
			      const char *country, const char *case_id, const char *kind,
			      const char *subject_key, const char *body_key,
			      const struct catalog_arg *args, unsigned *told_r,
			      char **error_r)
{
	GPtrArray *coords = NULL;
	int ret = request_coordinators(txn, country, &coords, error_r);

	*told_r = 0;
	for (guint i = 0; ret == IMI_OK && i < coords->len; i++) {
		struct user *u = g_ptr_array_index(coords, i);
		struct authority *ca = NULL;
		const char *body[] = {body_key, NULL};
		int allowed = 0;

		if ((ret = request_reply_allowed(txn, env, u->email, &allowed, error_r)) != IMI_OK ||
		    !allowed)
			continue;
		if ((ret = store_authority_get(txn, u->authority, &ca, error_r)) == IMI_OK)
			ret = mail_notice(txn, env, NULL, case_id != NULL ? case_id : "", ca,
					  u->email, kind, subject_key, body, args, NULL, NULL,
					  error_r);
		if (ret == IMI_OK)
			(*told_r)++;
		authority_free(&ca);
	}
	if (coords != NULL)
		g_ptr_array_free(coords, TRUE);
	return ret;
}

/* Tells the coordinators of the authority's country, in their language. */
static int failing_tell(struct store_txn *txn, struct request_env *env,
			const struct authority *a, const char *address, const char *reason,
			char **error_r)
{
	GPtrArray *coords = NULL;
	int ret = request_coordinators(txn, a->country, &coords, error_r);

	for (guint i = 0; ret == IMI_OK && i < coords->len; i++) {
		struct user *u = g_ptr_array_index(coords, i);
		struct authority *ca = NULL;

		/* The failing address itself would only bounce again. */
		if (g_ascii_strcasecmp(u->email, address) == 0)
			continue;
		if ((ret = store_authority_get(txn, u->authority, &ca, error_r)) == IMI_OK) {
			const char *lang = case_language(env, ca);
			const char *body[] = {"bounce.notice", NULL};
			struct catalog_arg args[] = {
				{"authority", case_authority_name(a, lang)},
				{"country", a->country},
				{"reason", reason},
				{NULL, NULL},
			};
			ret = mail_notice(txn, env, NULL, "", ca, u->email, "bounce",
					  "bounce.subject", body, args, NULL, NULL, error_r);
		}
		authority_free(&ca);
	}
	if (coords != NULL)
		g_ptr_array_free(coords, TRUE);
	return ret;
}

int request_address_failing(struct store_txn *txn, struct request_env *env,
			    const char *address, const char *reason, const char *source,
			    unsigned *marked_r, char **error_r)
{
	char *email = imi_email_normalize(address);
	char *day = case_day(imi_now());
	char *mark = g_strdup_printf("%s: %s", day, reason != NULL && *reason ? reason : source);
	char *why = g_strdup_printf("%s: %s", email, reason != NULL && *reason ? reason : source);
	struct postbox_find f = {email, g_ptr_array_new_with_free_func(g_free)};
	struct user *u = NULL;
	int ret;

	*marked_r = 0;
	/* A user's own address. */
	ret = store_user_get_by_email(txn, email, &u, NULL);
	if (ret == IMI_OK && u->failing == NULL) {
		struct authority *a = NULL;

		u->failing = g_strdup(mark);
		ret = store_user_put(txn, u, 0, error_r);
		if (ret == IMI_OK)
			ret = store_audit(txn, source, NULL, "address.failing", why, error_r);
		if (ret == IMI_OK && store_authority_get(txn, u->authority, &a, NULL) == IMI_OK)
			ret = failing_tell(txn, env, a, email, why, error_r);
		authority_free(&a);
		if (ret == IMI_OK)
			(*marked_r)++;
	} else if (ret == IMI_NOTFOUND || ret == IMI_OK) {
		ret = IMI_OK;
	} else {
		ret = store_user_get_by_email(txn, email, &u, error_r);
	}
	/* An authority's post-box. */
	if (ret == IMI_OK) {
		int walked = directory_each(txn, postbox_match, &f, error_r);

		if (walked < 0)
			ret = walked;
	}
	for (guint i = 0; ret == IMI_OK && i < f.ids->len; i++) {
		struct authority *a = NULL;

		if ((ret = store_authority_get(txn, g_ptr_array_index(f.ids, i), &a, error_r)) != IMI_OK)
			break;
		if (a->failing == NULL) {
			a->failing = g_strdup(mark);
			ret = store_authority_put(txn, a, 0, error_r);
			if (ret == IMI_OK)
				ret = store_audit(txn, source, NULL, "address.failing", why, error_r);
			if (ret == IMI_OK)
				ret = failing_tell(txn, env, a, email, why, error_r);
			if (ret == IMI_OK)
				(*marked_r)++;
		}
		authority_free(&a);
	}
	g_ptr_array_free(f.ids, TRUE);
	user_free(&u);
	g_free(why);
	g_free(mark);
	g_free(day);
	g_free(email);
	return ret;
}

/*
 * inbound.c: the inbound path of one message (inbound.h).
 *
 * Phases: bounds and parsing; noise (auto-replies, reports, our own mail;
 * a bounce of our mail marks the failed address failing, parser/dsn.h and
 * request_address_failing, and is never answered);
 * authentication (DKIM, SPF, alignment, the sender's user record); then one
 * store transaction: deduplication by Message-ID, the reply token, the step
 * (a command by token or subject, or answers read against the case's
 * question set) applied through policies/request, the message kept sealed,
 * and the Message-ID recorded with its outcome.
 *
 * Offline and test knob: when the environment variable IMI_DKIM_KEYFILE
 * names a file, DKIM keys are read from it (one line per key,
 * "sel._domainkey.example.org v=DKIM1; k=rsa; p=...", the format of
 * parser/dkim.h) instead of DNS.  SPF still asks [inbound] dns_server.
 */
#include "mta-hooks/inbound.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mta-hooks/mailcmd.h"
#include "mta-hooks/held.h"
#include "parser/align.h"
#include "parser/answers.h"
#include "parser/dkim.h"
#include "parser/dns.h"
#include "parser/dsn.h"
#include "parser/message.h"
#include "parser/spf.h"
#include "parser/token.h"
#include "parser/trim.h"
#include "policies/alert.h"
#include "policies/request.h"
#include "store/blob.h"

#define INBOUND_MAX_ADDRESSES 100   /* addresses looked at for a token */
#define INBOUND_MAX_SUBJECT_PREFIXES 10 /* "Re: AW: Fwd:" stripped */
#define INBOUND_MAX_FORWARD_WORDS 2000 /* words searched for a forward target */

void inbound_result_clear(struct inbound_result *result)
{
	g_free(result->case_id);
	g_free(result->reason);
	g_free(result->auth_results);
	memset(result, 0, sizeof(*result));
}

/* ---- what the message asks for ---- */

static const struct {
	const char *word;   /* in the subject, any case */
	const char *action; /* [Action] of requests.ini */
} inbound_commands[] = {
	{"ACCEPT-ANSWER", "accept-answer"},
	{"FURTHER-QUESTIONS", "further-questions"},
	{"ACCEPT", "accept"},
	{"WITHDRAW", "withdraw"},
	{"FORWARD", "forward"},
	{"CLOSE", "close"},
	{"DELETE", "delete"},
};

/* The subject without reply and forward prefixes ("Re:", "AW:", "Fwd:"). */
static const char *subject_core(const char *subject)
{
	const char *p = subject != NULL ? subject : "";

	for (unsigned n = 0; n < INBOUND_MAX_SUBJECT_PREFIXES; n++) {
		const char *q = p, *colon;

		while (*q == ' ' || *q == '\t')
			q++;
		colon = strchr(q, ':');
		if (colon == NULL || colon - q > 4 || colon == q)
			return q;
		for (const char *c = q; c < colon; c++)
			if (!g_ascii_isalpha(*c))
				return q;
		p = colon + 1;
	}
	return p;
}

/* The command word at the start of the subject, or NULL. */
static const char *subject_command(const char *subject, const char **rest_r)
{
	const char *core = subject_core(subject);

	for (unsigned i = 0; i < G_N_ELEMENTS(inbound_commands); i++) {
		size_t n = strlen(inbound_commands[i].word);

		if (g_ascii_strncasecmp(core, inbound_commands[i].word, n) == 0 &&
		    (core[n] == '\0' || core[n] == ' ' || core[n] == '\t' || core[n] == '[')) {
			*rest_r = core + n;
			return inbound_commands[i].action;
		}
	}
	return NULL;
}

static const char *token_action(const char *action)
{
	if (strcmp(action, "accept") == 0 || strcmp(action, "withdraw") == 0 ||
	    strcmp(action, "forward") == 0 || strcmp(action, "delete") == 0 ||
	    strcmp(action, "agree") == 0)
		return action;
	return NULL; /* "reply": the subject or the body says */
}

/* Every candidate address of the recipients and the To and Cc headers. */
static GPtrArray *inbound_addresses(const struct parsed_message *msg,
				    const struct inbound_envelope *env)
{
	GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
	static const char *const headers[] = {"To", "Cc", "Delivered-To"};

	for (unsigned i = 0; env->recipients != NULL && env->recipients[i] != NULL &&
			     v->len < INBOUND_MAX_ADDRESSES; i++)
		g_ptr_array_add(v, g_strdup(env->recipients[i]));
	for (unsigned h = 0; h < G_N_ELEMENTS(headers); h++) {
		const char *value = parsed_message_header(msg, headers[h]);
		char **parts;

		if (value == NULL)
			continue;
		parts = g_strsplit_set(value, ",;<> \t\"()", -1);
		for (unsigned i = 0; parts[i] != NULL && v->len < INBOUND_MAX_ADDRESSES; i++)
			if (strchr(parts[i], '@') != NULL)
				g_ptr_array_add(v, g_strdup(parts[i]));
		g_strfreev(parts);
	}
	return v;
}

/* ---- authentication ---- */

struct inbound_auth {
	struct dkim_result *dkim;
	struct spf_result *spf;
	struct user *user;
	struct authority *authority;
	struct align_decision decision;
};

static void inbound_auth_clear(struct inbound_auth *a)
{
	dkim_result_free(&a->dkim);
	spf_result_free(&a->spf);
	user_free(&a->user);
	authority_free(&a->authority);
	align_decision_clear(&a->decision);
}

struct sender_lookup {
	const char *from;
	struct user *user;
	struct authority *authority;
};

static int sender_lookup_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct sender_lookup *s = ctx;
	char *email = imi_email_normalize(s->from);
	int ret;

	user_free(&s->user);
	authority_free(&s->authority);
	ret = store_user_get_by_email(txn, email, &s->user, error_r);
	g_free(email);
	if (ret == IMI_NOTFOUND) {
		g_free(*error_r);
		*error_r = NULL;
		return IMI_OK;
	}
	if (ret != IMI_OK)
		return ret;
	ret = store_authority_get(txn, s->user->authority, &s->authority, error_r);
	if (ret == IMI_NOTFOUND) {
		g_free(*error_r);
		*error_r = NULL;
		return IMI_OK;
	}
	return ret;
}

static int inbound_authenticate(struct store *store, const struct imi_conf *conf,
				const void *raw, size_t len,
				const struct parsed_message *msg,
				const struct inbound_envelope *envelope,
				struct inbound_auth *a, char **error_r)
{
	struct dns_resolver *dns = NULL;
	struct dkim_verifier *verifier = NULL;
	struct spf_checker *checker = NULL;
	struct sender_lookup s = {parsed_message_from(msg), NULL, NULL};
	struct align_facts facts;
	const char *key_file = g_getenv("IMI_DKIM_KEYFILE");
	char **trusted = NULL;
	int ret;

	if (key_file != NULL && *key_file == '\0')
		key_file = NULL;
	if ((ret = dns_resolver_new(conf->dns_server, 0, &dns, error_r)) != IMI_OK)
		goto out;
	if ((ret = dkim_verifier_open(key_file != NULL ? NULL : dns, key_file, 0,
				      &verifier, error_r)) != IMI_OK)
		goto out;
	if ((ret = dkim_verify_message(verifier, raw, len, imi_now(),
				       conf->signature_max_age_days, &a->dkim,
				       error_r)) != IMI_OK)
		goto out;
	if (envelope->path != INBOUND_FETCH && envelope->client_ip != NULL &&
	    *envelope->client_ip != '\0') {
		if ((ret = spf_checker_open(dns, conf->service_domain, &checker,
					    error_r)) != IMI_OK ||
		    (ret = spf_check(checker, envelope->client_ip, envelope->helo,
				     envelope->sender, &a->spf, error_r)) != IMI_OK)
			goto out;
	}
	if (s.from != NULL &&
	    (ret = store_transact(store, sender_lookup_txn, &s, error_r)) != IMI_OK)
		goto out;
	a->user = s.user;
	a->authority = s.authority;
	s.user = NULL;
	s.authority = NULL;
	if (envelope->path == INBOUND_FETCH && conf->trusted_authserv_id != NULL &&
	    *conf->trusted_authserv_id != '\0') {
		const char *ar = parsed_message_header(msg, "Authentication-Results");
		if (ar != NULL)
			trusted = align_trusted_dkim_domains(ar, conf->trusted_authserv_id);
	}
	memset(&facts, 0, sizeof(facts));
	facts.from = parsed_message_from(msg);
	facts.from_count = a->dkim->from_count;
	facts.dkim = a->dkim;
	facts.spf = a->spf;
	facts.poller = envelope->path == INBOUND_FETCH;
	facts.trusted_dkim_domains = trusted;
	facts.user = a->user;
	facts.authority = a->authority;
	facts.role = NULL; /* the workflow rules decide roles, and answer */
	align_decide(&facts, &a->decision);
out:
	g_strfreev(trusted);
	user_free(&s.user);
	authority_free(&s.authority);
	spf_checker_close(&checker);
	dkim_verifier_close(&verifier);
	dns_resolver_free(&dns);
	return ret;
}

/* ---- the transaction ---- */

struct inbound_run {
	const struct imi_conf *conf;
	struct request_env *env;
	const char *raw;
	size_t len;
	const struct parsed_message *msg;
	const struct inbound_envelope *envelope;
	struct inbound_auth *auth;
	const char *dedup_key;
	int hold;                 /* authentication failed: keep for review */
	const char *hold_reason;
	/* results */
	enum inbound_verdict verdict;
	char *case_id;
	char *reason;
	int purge;                /* a case key was destroyed: purge the logs */
	int bounce;               /* noise that may be a bounce of our mail */
	const char *noise;        /* why it is noise */
};

static void run_reset(struct inbound_run *r)
{
	g_free(r->case_id);
	g_free(r->reason);
	r->case_id = NULL;
	r->reason = NULL;
	r->purge = 0;
}

static const char *verdict_name(enum inbound_verdict v)
{
	switch (v) {
	case INBOUND_APPLIED:
		return "applied";
	case INBOUND_ANSWERED:
		return "answered";
	case INBOUND_HELD:
		return "held";
	case INBOUND_IGNORED:
		return "ignored";
	default:
		return "other";
	}
}

/* The case a held message names, unverified: the reference of a reply token
 * in its addresses, its thread, or its subject tag.  Recorded so that the
 * deletion of that case's personal data takes the held copy too. */
static char *held_names_case(const struct inbound_run *r)
{
	GPtrArray *addrs;
	const char *const *refs;
	char *found = NULL;

	if (r->msg == NULL) /* held unread: nothing of it was parsed */
		return NULL;
	addrs = inbound_addresses(r->msg, r->envelope);
	refs = parsed_message_references(r->msg);

	for (guint i = 0; i < addrs->len && found == NULL; i++) {
		char *text = NULL;

		if (token_parse_address(g_ptr_array_index(addrs, i), r->conf->service_local,
					"+", &text, NULL) == IMI_OK) {
			char *ref = g_ascii_strup(text, strcspn(text, "."));
			if (request_case_id_valid(ref))
				found = ref;
			else
				g_free(ref);
		}
		g_free(text);
	}
	g_ptr_array_free(addrs, TRUE);
	if (found == NULL)
		found = request_case_from_message_id(r->conf, parsed_message_in_reply_to(r->msg));
	for (unsigned i = 0; found == NULL && refs != NULL && refs[i] != NULL; i++)
		found = request_case_from_message_id(r->conf, refs[i]);
	if (found == NULL)
		found = request_case_from_subject(parsed_message_subject(r->msg));
	return found;
}

/* Keeps the raw message sealed: with the case's key when it has one, else
 * with a key of its own ("held:N").  The bytes go into a blob of their own
 * (store/blob.h), chunk by chunk in this transaction; the record names it. */
static int message_keep(struct store_txn *txn, struct inbound_run *r,
			const char *case_id, const char *state, uint64_t *seq_r,
			char **error_r)
{
	JsonObject *obj = json_object_new();
	unsigned char key[8];
	char *key_id = NULL;
	uint64_t seq, blob = 0;
	int ret;

	if ((ret = store_next(txn, "messages", &seq, error_r)) != IMI_OK)
		goto out;
	if (case_id != NULL)
		key_id = g_strconcat("case:", case_id, NULL);
	else {
		key_id = g_strdup_printf("held:%" G_GUINT64_FORMAT, seq);
		if ((ret = store_key_create(txn, key_id, error_r)) != IMI_OK)
			goto out;
	}
	if ((ret = blob_put(txn, key_id, r->raw, r->len, &blob, error_r)) != IMI_OK)
		goto out;
	json_object_set_int_member(obj, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(obj, "case", case_id != NULL ? case_id : "");
	json_object_set_string_member(obj, "state", state);
	json_object_set_string_member(obj, "key", key_id);
	json_object_set_int_member(obj, "received", imi_now());
	json_object_set_string_member(obj, "message_id", r->dedup_key);
	if (r->hold_reason != NULL)
		json_object_set_string_member(obj, "reason", r->hold_reason);
	if (case_id == NULL) {
		char *named = held_names_case(r);
		if (named != NULL)
			json_object_set_string_member(obj, "names_case", named);
		g_free(named);
	}
	json_object_set_int_member(obj, BLOB_MEMBER, (gint64)blob);
	json_object_set_int_member(obj, BLOB_MEMBER_BYTES, (gint64)r->len);
	store_key_u64(seq, key);
	{
		size_t tlen;
		char *text = store_record_text(obj, &tlen);

		ret = store_put(txn, STORE_MESSAGES, key, sizeof(key), text, tlen,
				STORE_PUT_NEW, error_r);
		g_free(text);
	}
	if (ret == IMI_OK)
		*seq_r = seq;
out:
	g_free(key_id);
	json_object_unref(obj);
	return ret;
}

static int msgid_record(struct store_txn *txn, struct inbound_run *r,
			uint64_t seq, char **error_r)
{
	JsonObject *obj = json_object_new();
	int ret;

	json_object_set_int_member(obj, "v", STORE_SCHEMA_VERSION);
	json_object_set_int_member(obj, "message", (gint64)seq);
	json_object_set_string_member(obj, "case", r->case_id != NULL ? r->case_id : "");
	json_object_set_string_member(obj, "outcome", verdict_name(r->verdict));
	json_object_set_string_member(obj, "reason", r->reason != NULL ? r->reason : "");
	ret = store_record_put(txn, STORE_MSGIDS, r->dedup_key, obj, STORE_PUT_NEW, error_r);
	json_object_unref(obj);
	return ret;
}

struct forward_find {
	const char *address;
	char *id;
};

static int forward_by_postbox(struct authority *a, void *ctx)
{
	struct forward_find *f = ctx;

	if (a->postbox != NULL && g_ascii_strcasecmp(a->postbox, f->address) == 0) {
		f->id = g_strdup(a->id);
		return 1;
	}
	return 0;
}

/* The authority a FORWARD names: an id or a post-box address, in the
 * subject after the command or in the new text. */
static char *forward_target(struct store_txn *txn, const char *subject_rest,
			    const char *new_text)
{
	char *all = g_strconcat(subject_rest ? subject_rest : "", "\n",
				new_text ? new_text : "", NULL);
	char **words = g_strsplit_set(all, " \t\r\n,;<>()\"'[]", -1);
	char *found = NULL;

	for (unsigned i = 0; words[i] != NULL && found == NULL &&
			     i < INBOUND_MAX_FORWARD_WORDS; i++) {
		char *w = g_ascii_strdown(words[i], -1);
		struct authority *a = NULL;

		g_strstrip(w);
		if (g_str_has_prefix(w, "mailto:"))
			memmove(w, w + 7, strlen(w + 7) + 1);
		if (strchr(w, '@') != NULL && imi_email_valid(w)) {
			struct forward_find f = {w, NULL};
			if (directory_each(txn, forward_by_postbox, &f, NULL) >= 0)
				found = f.id;
		} else if (*w != '\0' && directory_id_valid(w) &&
			   store_authority_get(txn, w, &a, NULL) == IMI_OK) {
			found = g_strdup(a->id);
			authority_free(&a);
		}
		g_free(w);
	}
	g_strfreev(words);
	g_free(all);
	return found;
}

static int inbound_step(struct store_txn *txn, struct inbound_run *r,
			char **error_r)
{
	const struct parsed_message *msg = r->msg;
	const struct user *user = r->auth->user;
	const char *subject = parsed_message_subject(msg);
	const char *action = NULL, *subject_rest = NULL;
	const char *msgid = parsed_message_id(msg);
	GPtrArray *addrs = inbound_addresses(msg, r->envelope);
	struct token tok;
	enum token_state tstate = TOKEN_MALFORMED;
	int have_token = 0, ret = IMI_OK;

	/* The reply token, for the sender's authority. */
	for (guint i = 0; i < addrs->len && !have_token; i++) {
		char *text = NULL;

		if (token_parse_address(g_ptr_array_index(addrs, i), r->conf->service_local,
					"+", &text, NULL) != IMI_OK)
			continue;
		if (token_verify(r->env->token_key, text, user->authority, imi_now(),
				 &tok, &tstate, NULL) == IMI_OK || tstate == TOKEN_EXPIRED)
			have_token = 1;
		g_free(text);
	}
	g_ptr_array_free(addrs, TRUE);
	if (have_token) {
		r->case_id = g_ascii_strup(tok.ref, -1);
		if (tstate == TOKEN_EXPIRED) {
			r->verdict = INBOUND_ANSWERED;
			r->reason = g_strdup("reply token expired; a fresh one was sent");
			return request_notify_sender(txn, r->env, r->case_id, user,
						     "error.token-expired", NULL, msgid,
						     error_r);
		}
		action = token_action(tok.action);
		if (mailcmd_form_is(txn, r->case_id)) { /* request forms: mailcmd.h */
			struct mailcmd_outcome mo = {0};

			ret = mailcmd_form_reply(txn, r->env, r->case_id, msg, user, &mo, error_r);
			r->verdict = mo.applied ? INBOUND_APPLIED : INBOUND_ANSWERED;
			if (mo.case_id != NULL) {
				g_free(r->case_id);
				r->case_id = mo.case_id;
			}
			r->reason = mo.reason;
			return ret;
		}
		if (alert_case_is(txn, r->case_id)) { /* alerts: policies/alert.h */
			struct alert_step as = {r->case_id, tok.action, user, msg, msgid};
			struct alert_outcome ao = {0};

			ret = alert_inbound(txn, r->env, &as, &ao, error_r);
			r->verdict = ao.applied ? INBOUND_APPLIED : INBOUND_ANSWERED;
			r->reason = ao.reason;
			return ret;
		}
	} else {
		/* No token: thread or subject tag names the case, and the
		 * sender must confirm before anything is applied. */
		const char *const *refs = parsed_message_references(msg);
		char *case_id = request_case_from_message_id(r->conf,
							     parsed_message_in_reply_to(msg));

		for (unsigned i = 0; case_id == NULL && refs != NULL && refs[i] != NULL; i++)
			case_id = request_case_from_message_id(r->conf, refs[i]);
		if (case_id == NULL)
			case_id = request_case_from_subject(subject);
		r->verdict = INBOUND_ANSWERED;
		if (case_id != NULL) {
			JsonObject *c = NULL;
			int party = 0;

			/* Need-to-know: only a party is offered to confirm. */
			ret = request_peek(txn, case_id, &c, NULL);
			if (ret == IMI_OK) {
				party = request_party(c, user->authority) != POLICY_PARTY_NONE;
				json_object_unref(c);
			} else if (ret != IMI_NOTFOUND) {
				ret = request_peek(txn, case_id, &c, error_r);
				g_free(case_id);
				return ret;
			}
			if (!party) {
				r->reason = g_strdup("sender is not a party of the case named");
				ret = request_notify_sender(txn, r->env, case_id, user,
							    ret == IMI_OK ? "error.not-party"
									  : "error.unknown-case",
							    NULL, msgid, error_r);
				g_free(case_id);
				return ret;
			}
			r->case_id = case_id;
			r->reason = g_strdup("no valid reply token: confirmation requested");
			return request_notify_sender(txn, r->env, case_id, user,
						     "error.needs-confirmation", NULL, msgid,
						     error_r);
		}
		{ /* A command by mail (mailcmd.h)? */
			struct mailcmd_outcome mo = {0};

			ret = mailcmd_inbound(txn, r->env, msg, user, &mo, error_r);
			if (ret != IMI_NOTFOUND) {
				r->verdict = mo.applied ? INBOUND_APPLIED : INBOUND_ANSWERED;
				r->case_id = mo.case_id;
				r->reason = mo.reason;
				return ret;
			}
		}
		r->reason = g_strdup("no case named: the sender was told");
		return request_notify_sender(txn, r->env, "", user, "error.unknown-case",
					     NULL, msgid, error_r);
	}

	/* What the reply does: the token's action, a command in the subject,
	 * or answers. */
	{
		const char *cmd = subject_command(subject, &subject_rest);
		struct request_step step = {0};
		struct request_outcome out = {0};
		struct answers *answers = NULL;
		struct qset *qset = NULL;
		char *new_text = NULL, *fwd = NULL;
		JsonObject *c = NULL;

		if (action == NULL)
			action = cmd;
		{
			if ((ret = reply_trim_message(msg, REPLY_TRIM_FULL, &new_text,
						      error_r)) != IMI_OK) {
				if (ret != IMI_TOOBIG)
					goto step_out;
				g_free(*error_r);
				*error_r = NULL;
				new_text = g_strdup("");
				ret = IMI_OK;
			}
		}
		if (action == NULL) {
			action = "answer";
			ret = request_peek(txn, r->case_id, &c, NULL);
			if (ret == IMI_OK &&
			    (ret = request_qset(txn, c, &qset, error_r)) == IMI_OK) {
				struct answers_input in = {
					.qset = qset,
					.catalog = r->env->catalog,
					.new_text = new_text,
					.full_text = parsed_message_text(msg, NULL),
					.language = r->auth->authority->language,
					.attachments = parsed_message_attachment_count(msg),
				};
				ret = answers_extract(&in, &answers, error_r);
				if (ret == IMI_TOOBIG) {
					g_free(*error_r);
					*error_r = NULL;
					ret = IMI_OK;
				}
			} else if (ret == IMI_NOTFOUND) {
				ret = IMI_OK; /* request_apply answers "unknown case" */
			}
			if (ret != IMI_OK)
				goto step_out;
		} else if (strcmp(action, "forward") == 0) {
			fwd = forward_target(txn, subject_rest, new_text);
		}
		step.case_id = r->case_id;
		step.action = action;
		step.user = user;
		step.forward_to = fwd;
		step.answers = answers;
		step.in_reply_to = msgid;
		step.note = strcmp(action, "answer") != 0 ? new_text : NULL;
		ret = request_apply(txn, r->env, &step, &out, error_r);
		if (ret == IMI_OK) {
			r->verdict = out.applied ? INBOUND_APPLIED : INBOUND_ANSWERED;
			r->reason = out.applied
				? g_strdup_printf("%s applied, state %s", action, out.state)
				: g_strdup_printf("%s refused: %s", action, out.refusal);
			r->purge = out.purge;
		}
		request_outcome_clear(&out);
	step_out:
		if (c != NULL)
			json_object_unref(c);
		answers_free(&answers);
		qset_free(&qset);
		g_free(new_text);
		g_free(fwd);
	}
	return ret;
}

static int inbound_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct inbound_run *r = ctx;
	JsonObject *seen = NULL, *c = NULL;
	char *detail;
	uint64_t seq = 0;
	int64_t expiry;
	int ret;

	run_reset(r);
	/* Deduplication: a second delivery gets the first outcome. */
	ret = store_record_get(txn, STORE_MSGIDS, r->dedup_key, STORE_GET_RMW, &seen,
			       error_r);
	if (ret == IMI_OK) {
		const char *cid = json_object_get_string_member_with_default(seen, "case", "");

		r->verdict = INBOUND_DUPLICATE;
		r->case_id = *cid ? g_strdup(cid) : NULL;
		r->reason = g_strdup_printf(
			"duplicate: first outcome %s",
			json_object_get_string_member_with_default(seen, "outcome", ""));
		json_object_unref(seen);
		return IMI_OK;
	}
	if (ret != IMI_NOTFOUND)
		return ret;
	g_free(*error_r);
	*error_r = NULL;

	if (r->hold) {
		r->verdict = INBOUND_HELD;
		r->reason = g_strdup(r->hold_reason);
		if ((ret = message_keep(txn, r, NULL, "held", &seq, error_r)) != IMI_OK)
			return ret;
		/* Nobody released or discarded it within the policy's period:
		 * it goes like case data. */
		if (r->env != NULL &&
		    (expiry = policy_held_expiry(r->env->policy, imi_now())) != 0 &&
		    (ret = held_expire_schedule(txn, seq, expiry, error_r)) != IMI_OK)
			return ret;
		/* The coordinators of the sender's country are told. */
		if (r->env != NULL &&
		    (ret = held_tell_coordinators(txn, r->env, seq, r->hold_reason, error_r)) != IMI_OK)
			return ret;
		detail = g_strdup_printf("<%s> %s", r->dedup_key, r->hold_reason);
		ret = store_audit(txn, "inbound", NULL, "inbound.held", detail, error_r);
		g_free(detail);
		if (ret != IMI_OK)
			return ret;
		return msgid_record(txn, r, seq, error_r);
	}
	if ((ret = inbound_step(txn, r, error_r)) != IMI_OK)
		return ret;
	/* Keep the message: under the case's key when the case exists and
	 * still has its personal data. */
	if (r->case_id != NULL &&
	    request_peek(txn, r->case_id, &c, NULL) == IMI_OK &&
	    g_strcmp0(json_object_get_string_member_with_default(c, "retention", ""), "") == 0)
		ret = message_keep(txn, r, r->case_id, verdict_name(r->verdict), &seq, error_r);
	else
		ret = message_keep(txn, r, NULL, verdict_name(r->verdict), &seq, error_r);
	if (c != NULL)
		json_object_unref(c);
	if (ret == IMI_OK) {
		detail = g_strdup_printf("<%s> %s", r->dedup_key, verdict_name(r->verdict));
		ret = store_audit(txn, r->auth->user->id,
				  r->verdict == INBOUND_APPLIED ? r->case_id : NULL,
				  "inbound.reply", detail, error_r);
		g_free(detail);
	}
	if (ret == IMI_OK)
		ret = msgid_record(txn, r, seq, error_r);
	return ret;
}

/* A bounce of one of our messages (its returned Message-ID is ours) marks
 * each failed recipient's address failing (policies/request.h); anybody
 * else's bounce, or one that names no failed recipient, only is recorded.
 * r->reason says what was done. */
static int inbound_bounce(struct store_txn *txn, struct inbound_run *r, char **error_r)
{
	struct dsn *dsn = NULL;
	const char *at;
	unsigned marked = 0;
	char *why;
	int ret = IMI_OK;

	if (dsn_read(r->raw, r->len, &dsn, NULL) != IMI_OK)
		return IMI_OK;
	at = dsn->original_message_id != NULL ? strrchr(dsn->original_message_id, '@') : NULL;
	if (at == NULL || g_ascii_strcasecmp(at + 1, r->conf->service_domain) != 0) {
		why = g_strdup_printf("%s; not a bounce of our mail", r->reason);
	} else {
		for (unsigned i = 0; i < dsn->failed_count && ret == IMI_OK; i++) {
			const struct dsn_recipient *f = &dsn->failed[i];
			char *reason = g_strdup_printf("%s%s%s", f->status,
						       *f->status && *f->diagnostic ? " " : "",
						       f->diagnostic);
			unsigned n = 0;

			ret = request_address_failing(txn, r->env, f->address, reason, "bounce",
						      &n, error_r);
			marked += n;
			g_free(reason);
		}
		why = g_strdup_printf("%s; bounce of <%s>: %u of %u failed address(es) newly "
				      "marked failing", r->reason, dsn->original_message_id,
				      marked, dsn->failed_count);
	}
	g_free(r->reason);
	r->reason = why;
	dsn_free(&dsn);
	return ret;
}

/* Noise is recorded, never answered. */
static int inbound_ignore_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct inbound_run *r = ctx;
	char *detail;
	int ret = IMI_OK;

	/* A retried transaction starts again from the noise reason. */
	g_free(r->reason);
	r->reason = g_strdup(r->noise);
	if (r->bounce && (ret = inbound_bounce(txn, r, error_r)) != IMI_OK)
		return ret;
	detail = g_strdup_printf("<%s> %s", r->dedup_key != NULL ? r->dedup_key : "",
				 r->reason);
	ret = store_audit(txn, "inbound", NULL, "inbound.ignored", detail, error_r);
	g_free(detail);
	return ret;
}

static const char *noise_reason(const struct imi_conf *conf,
				const struct parsed_message *msg,
				const struct inbound_envelope *envelope)
{
	const char *loop = parsed_message_header(msg, "X-IMI-Loop");

	if (loop != NULL) {
		char *l = g_strstrip(g_strdup(loop));
		int ours = g_ascii_strcasecmp(l, conf->service_domain) == 0;

		g_free(l);
		if (ours)
			return "our own message came back (X-IMI-Loop)";
	}
	if (envelope->sender != NULL && *envelope->sender == '\0')
		return "bounce (empty envelope sender)";
	if (parsed_message_is_report(msg))
		return "delivery or disposition report (multipart/report)";
	if (parsed_message_auto_submitted(msg))
		return "automatic reply (Auto-Submitted)";
	if (parsed_message_precedence_bulk(msg))
		return "bulk or automatic mail (Precedence)";
	return NULL;
}

/* The deduplication key of a message without a Message-ID: the bytes
 * themselves identify a redelivery ("hash:" and their hash; g_free). */
static char *dedup_by_bytes(const void *raw, size_t len)
{
	unsigned char h[crypto_generichash_BYTES];
	char hex[2 * sizeof(h) + 1];

	crypto_generichash(h, sizeof(h), raw, len, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return g_strconcat("hash:", hex, NULL);
}

/* The Message-ID of a message GMime would not read: the first
 * "Message-ID:" line of the header (one pass, up to the empty line), its
 * value without angle brackets, when it is printable ASCII of sane length. */
static char *raw_message_id(const char *raw, size_t len)
{
	static const char name[] = "message-id:";
	const char *p = raw, *end = raw + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end;

		if (le == p || (le - p == 1 && *p == '\r'))
			return NULL; /* the end of the header */
		if ((size_t)(le - p) > sizeof(name) - 1 &&
		    g_ascii_strncasecmp(p, name, sizeof(name) - 1) == 0) {
			const char *v = p + sizeof(name) - 1, *ve = le;

			while (v < ve && (*v == ' ' || *v == '\t' || *v == '<'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t' ||
					  ve[-1] == '>'))
				ve--;
			if (ve == v || ve - v > 250)
				return NULL;
			for (const char *c = v; c < ve; c++)
				if (*c <= ' ' || *c > '~')
					return NULL;
			return g_strndup(v, (gsize)(ve - v));
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return NULL;
}

/* A message within max_message_bytes whose structure is over a bound
 * (MIME depth, parts, header bytes), after the MTA accepted it (imi
 * deliver, imi fetch): it can be stored, so it is kept for review, unread
 * and unanswered, and identified by its bytes.  `imi held release` runs it
 * again, e.g. under raised [limits]. */
static int inbound_hold_unread(struct store *store, const struct imi_conf *conf,
			       const char *raw, size_t len, struct inbound_result *result,
			       char **error_r)
{
	struct inbound_run run;
	char *dedup, *why = *error_r;
	int ret;

	*error_r = NULL;
	dedup = raw_message_id(raw, len);
	if (dedup == NULL)
		dedup = dedup_by_bytes(raw, len);
	memset(&run, 0, sizeof(run));
	run.raw = raw;
	run.len = len;
	run.dedup_key = dedup;
	run.hold = 1;
	run.hold_reason = "structure-over-bounds";
	run.conf = conf;
	ret = request_env_open(conf, &run.env, error_r);
	if (ret == IMI_OK)
		ret = store_transact(store, inbound_txn, &run, error_r);
	if (ret != IMI_OK) {
		result->verdict = INBOUND_TEMPFAIL;
		result->reason = g_strdup(*error_r != NULL ? *error_r : "temporary failure");
		ret = IMI_TEMPFAIL;
	} else {
		result->verdict = run.verdict;
		result->reason = run.verdict == INBOUND_HELD
			? g_strdup_printf("held unread: %s", why) : g_strdup(run.reason);
	}
	run_reset(&run);
	request_env_close(&run.env);
	g_free(dedup);
	g_free(why);
	return ret;
}

/* Runs fn in a transaction through the envelope's gate, if any; returns
 * when the commit is on the disk. */
static int inbound_transact(struct store *store, const struct inbound_envelope *envelope,
			    store_txn_fn *fn, void *ctx, char **error_r)
{
	const struct inbound_gate *gate = envelope->gate;
	int ret;

	if (gate == NULL)
		return store_transact(store, fn, ctx, error_r);
	gate->enter(gate->ctx);
	ret = store_transact_nosync(store, fn, ctx, error_r);
	gate->leave(gate->ctx);
	if (ret == IMI_OK)
		ret = store_sync(store, error_r);
	return ret;
}

int inbound_env_open(const struct imi_conf *conf, struct request_env **env_r,
		     char **error_r)
{
	return request_env_open(conf, env_r, error_r);
}

void inbound_env_close(struct request_env **env)
{
	request_env_close(env);
}

int inbound_process(struct store *store, const struct imi_conf *conf,
		    const void *raw, size_t len,
		    const struct inbound_envelope *envelope,
		    struct inbound_result *result, char **error_r)
{
	return inbound_process_env(store, conf, NULL, raw, len, envelope, result, error_r);
}

int inbound_process_env(struct store *store, const struct imi_conf *conf,
			struct request_env *env, const void *raw, size_t len,
			const struct inbound_envelope *envelope,
			struct inbound_result *result, char **error_r)
{
	struct parsed_message *msg = NULL;
	struct parse_limits limits;
	struct inbound_auth auth;
	struct inbound_run run;
	char *dedup = NULL;
	const char *noise;
	int ret;

	memset(result, 0, sizeof(*result));
	memset(&auth, 0, sizeof(auth));
	memset(&run, 0, sizeof(run));

	/* Bounds first: what is too big is never parsed. */
	if (conf->max_message_bytes > 0 && (int64_t)len > conf->max_message_bytes) {
		result->verdict = INBOUND_TOOBIG;
		result->reason = g_strdup_printf("message of %zu bytes is over the limit of %"
						 G_GINT64_FORMAT " ([limits] max_message_bytes)",
						 len, conf->max_message_bytes);
		return IMI_OK;
	}
	limits.max_mime_depth = conf->max_mime_depth;
	limits.max_mime_parts = conf->max_mime_parts;
	limits.max_header_bytes = (size_t)conf->max_header_bytes;
	ret = parsed_message_read(raw, len, &limits, &msg, error_r);
	if (ret == IMI_TOOBIG && envelope->path == INBOUND_MILTER) {
		/* Inside the SMTP session: refused (552), the sender's own MTA
		 * tells its user. */
		result->verdict = INBOUND_TOOBIG;
		result->reason = *error_r;
		*error_r = NULL;
		return IMI_OK;
	}
	if (ret == IMI_TOOBIG)
		return inbound_hold_unread(store, conf, raw, len, result, error_r);
	if (ret != IMI_OK)
		return ret;

	run.conf = conf;
	run.raw = raw;
	run.len = len;
	run.msg = msg;
	run.envelope = envelope;
	run.auth = &auth;
	if (parsed_message_id(msg) != NULL && *parsed_message_id(msg) != '\0')
		dedup = g_strdup(parsed_message_id(msg));
	else
		dedup = dedup_by_bytes(raw, len);
	run.dedup_key = dedup;

	/* Noise: recorded, never answered, never applied. */
	if ((noise = noise_reason(conf, msg, envelope)) != NULL) {
		run.noise = noise;
		run.bounce = (envelope->sender != NULL && *envelope->sender == '\0') ||
			     parsed_message_is_report(msg);
		if (run.bounce && (ret = request_env_open(conf, &run.env, error_r)) != IMI_OK)
			goto tempfail;
		ret = inbound_transact(store, envelope, inbound_ignore_txn, &run, error_r);
		if (ret != IMI_OK)
			goto tempfail;
		result->verdict = INBOUND_IGNORED;
		result->reason = run.reason;
		run.reason = NULL;
		goto out;
	}

	/* Authentication. */
	ret = inbound_authenticate(store, conf, raw, len, msg, envelope, &auth, error_r);
	if (ret != IMI_OK)
		goto tempfail;
	result->auth_results = align_authentication_results(conf->service_domain,
							    auth.dkim, auth.spf);
	if (auth.decision.verdict == ALIGN_TEMPFAIL) {
		result->verdict = INBOUND_TEMPFAIL;
		result->reason = g_strdup(auth.decision.text);
		ret = IMI_TEMPFAIL;
		/* The operator's text: which resolver failed and where it is set;
		 * the sender sees only result->reason. */
		*error_r = g_strdup_printf(
			"DNS lookups for the sender's DKIM key or SPF record fail (resolver %s): "
			"check that it answers, or set [inbound] dns_server; the MTA keeps the "
			"message and retries",
			*conf->dns_server != '\0' ? conf->dns_server : "of /etc/resolv.conf");
		goto out;
	}
	if (auth.decision.verdict == ALIGN_REJECT) {
		if (envelope->path == INBOUND_MILTER) {
			result->verdict = INBOUND_REJECT;
			result->reason = g_strdup(auth.decision.text);
			goto out;
		}
		run.hold = 1;
		run.hold_reason = auth.decision.code;
	}
	/* The rules, catalogs and token key: the caller's, or read for this
	 * message (a few milliseconds), so an edited policy file counts from
	 * the next message on. */
	if (env != NULL)
		run.env = env;
	else if ((ret = request_env_open(conf, &run.env, error_r)) != IMI_OK)
		goto tempfail;

	/* One transaction: dedup, step, mail, message kept. */
	ret = inbound_transact(store, envelope, inbound_txn, &run, error_r);
	if (ret != IMI_OK)
		goto tempfail;
	/* An early deletion destroyed a case key that may still lie in a log
	 * file.  The step is committed: a failure here is reported, and the
	 * next purge (tick, another deletion) removes it. */
	if (run.purge) {
		char *perr = NULL;

		if (store_purge_logs(store, &perr) != IMI_OK) {
			char *why = g_strdup_printf("%s; log purge failed: %s", run.reason,
						    perr != NULL ? perr : "");
			g_free(run.reason);
			run.reason = why;
		}
		g_free(perr);
	}
	result->verdict = run.verdict;
	result->case_id = run.case_id;
	result->reason = run.reason;
	run.case_id = NULL;
	run.reason = NULL;
	if (result->verdict == INBOUND_HELD && auth.decision.text != NULL) {
		g_free(result->reason);
		result->reason = g_strdup_printf("held: %s", auth.decision.text);
	}
	goto out;
tempfail:
	/* Nothing committed: the MTA keeps the message and retries. */
	result->verdict = INBOUND_TEMPFAIL;
	if (result->reason == NULL)
		result->reason = g_strdup(*error_r != NULL ? *error_r : "temporary failure");
	ret = IMI_TEMPFAIL;
out:
	run_reset(&run);
	if (run.env != env)
		request_env_close(&run.env);
	inbound_auth_clear(&auth);
	parsed_message_free(&msg);
	g_free(dedup);
	return ret;
}

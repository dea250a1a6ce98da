/*
 * request: the life of an information request on the store.
 *
 * What it does: creates a request (a case in STORE_CASES with id
 * IMI-YYYY-NNNNNN, its own key "case:ID", its personal fields sealed under
 * members named "sealed_*", an audit entry, the reminder timer and the
 * request e-mail to the responding authority in its registered language),
 * applies the steps of policies/rules/requests.ini taken by e-mail (accept,
 * forward, answer, further-questions, accept-answer, close, withdraw; and,
 * once a case is closed, "delete": one party asks for early deletion of its
 * personal data, the other agrees by "delete" or "agree"), and
 * runs the timers of a case (reminders; retention: blocking, then deletion
 * of the personal data).  Every e-mail a step causes (the confirmation to
 * the sender saying what was understood and what is missing, the answer to
 * the requester, the forwarded request, a refusal) is rendered in the
 * recipient's language and put into the outbox in the caller's
 * transaction: a step and its mail commit together or not at all.
 *
 * Outgoing mail: Message-ID <ID.N.KIND@service_domain> (N counts the
 * case's messages, so a retry of the same transaction makes the same id);
 * the reply address imi+TOKEN@service_domain carries a token (parser/
 * token.h) for the recipient's authority naming the case and the action a
 * reply there takes ("reply": by subject or answers; "accept", "withdraw",
 * "forward" for the one-click links).
 *
 * How it fails: store errors as the store gives them (IMI_TEMPFAIL: the
 * caller retries the whole transaction); IMI_INVALID / IMI_NOTFOUND for
 * bad input to request_create (unknown authority, set, bad deadline).  A
 * step the rules refuse is not an error: it is reported in the outcome and
 * answered by e-mail, with an audit entry, and nothing else changes.
 *
 * What it trusts: the authenticated user given by the caller (inbound.c
 * has checked DKIM/SPF, alignment and the token).  Answers and notes are
 * the parties' text: they go into mail bodies only through render.h.
 */
#ifndef IMI_REQUEST_H
#define IMI_REQUEST_H

#include <stdint.h>

#include "conf/conf.h"
#include "parser/answers.h"
#include "parser/token.h"
#include "policies/policy.h"
#include "store/store.h"
#include "templates/catalog.h"

#define REQUEST_MAX_HISTORY 1000 /* steps kept in a case record */
#define REQUEST_MAX_CASES 10000000 /* case records looked at for a list */
#define REQUEST_MAX_URGENT 1000  /* requests on one country's urgency list */
#define REQUEST_MAX_POSTBOXES 100 /* authorities sharing one failing post-box */

/* What the engine needs, loaded once per process. */
struct request_env {
	const struct imi_conf *conf;
	struct policy *policy;
	struct catalog *catalog;
	unsigned char token_key[TOKEN_KEY_BYTES];
};

/* Loads the policy, the catalogs and home/keys/token.key. */
int request_env_open(const struct imi_conf *conf, struct request_env **env_r,
		     char **error_r);
void request_env_close(struct request_env **env);

struct request_new {
	const char *requester;  /* requesting authority id */
	const char *responder;  /* responding authority id */
	const char *qset_id;    /* question set (stored with the case on first use) */
	const char *subject;    /* whom the request is about: personal data */
	const char *deadline;   /* "YYYY-MM-DD"; NULL: the policy's default */
	const char *user;       /* the requesting user's address, or NULL */
};

/* *case_id_r: g_free. */
int request_create(struct store_txn *txn, struct request_env *env,
		   const struct request_new *in, char **case_id_r,
		   char **error_r);

/* One step taken by e-mail. */
struct request_step {
	const char *case_id;       /* as named by the token or the subject */
	const char *action;        /* a [Action] name of requests.ini */
	const struct user *user;   /* the authenticated sender */
	const char *forward_to;    /* forward: the new responding authority id */
	const struct answers *answers; /* answer: what the reply said */
	const char *in_reply_to;   /* the sender's Message-ID, or NULL */
	const char *note;          /* the sender's own words with a command (a
				    * reason, further questions), passed on to
				    * the other party; NULL: none */
};

struct request_outcome {
	int applied;        /* 1: the step changed the case */
	char *state;        /* the case's state afterwards, or NULL (unknown case) */
	/* Why not applied: "unknown-case", "not-party", "wrong-role",
	 * "closed", "wrong-state", "unparseable", "unknown-forward"; NULL
	 * when applied. */
	char *refusal;
	int purge;          /* 1: a case key was destroyed; after commit the
			     * caller runs store_purge_logs */
};
void request_outcome_clear(struct request_outcome *out);

/* Applies the step or refuses it; either way the sender gets an e-mail. */
int request_apply(struct store_txn *txn, struct request_env *env,
		  const struct request_step *step, struct request_outcome *out,
		  char **error_r);

/* Error notice to an authenticated sender about case_id (may be unknown):
 * body_key is a catalog key ("error.token-expired",
 * "error.needs-confirmation", ...), reason fills %{reason}.  The reply
 * address carries a fresh token when the sender is a party. */
int request_notify_sender(struct store_txn *txn, struct request_env *env,
			  const char *case_id, const struct user *user,
			  const char *body_key, const char *reason,
			  const char *in_reply_to, char **error_r);

/* A state in words in lang (catalog key "state.NAME"), else its name. */
const char *request_state_word(const struct request_env *env, const char *lang,
			       const char *state);

/* Whether one more automatic reply may go to address now under [Limits]
 * RepliesPerHour (a fixed one-hour window per address, counted in
 * STORE_META "reply-rate:ADDRESS"); counts it when it may.  Confirmations
 * and error notices of this module pass through it. */
int request_reply_allowed(struct store_txn *txn, struct request_env *env,
			  const char *address, int *allowed_r, char **error_r);

/* The case record (json_object_unref) and its question set (qset_free). */
int request_get(struct store_txn *txn, const char *case_id, unsigned flags,
		JsonObject **case_r, char **error_r);
/* The case record for reading only: sealed and shared with other readers
 * (store_record_get_shared), so a case read several times for one message
 * is parsed once. */
int request_peek(struct store_txn *txn, const char *case_id, JsonObject **case_r,
		 char **error_r);
int request_qset(struct store_txn *txn, JsonObject *case_obj,
		 struct qset **qset_r, char **error_r);
/* The party an authority is in the case. */
enum policy_party request_party(JsonObject *case_obj, const char *authority_id);
/* Case id from one of our Message-IDs ("IMI-2026-000001.3.request@dom"),
 * or from a "[IMI-2026-000001]" tag in a subject (g_free; NULL if none). */
char *request_case_from_message_id(const struct imi_conf *conf, const char *msgid);
char *request_case_from_subject(const char *subject);
int request_case_id_valid(const char *id);

/* Runs one due timer of a case (kind "reminder:NAME", "retention-block",
 * "retention-delete").  A timer no longer recorded in the case (run by
 * another tick, or made void by a step) does nothing.  *purge_r is set to 1
 * when a case key was destroyed: after commit the caller runs
 * store_purge_logs. */
int request_timer_run(struct store_txn *txn, struct request_env *env,
		      int64_t when, const char *case_id, const char *kind,
		      int *purge_r, char **error_r);

/* The national coordinators (role "coordinator", active user of an active
 * authority) of a country: a GPtrArray of struct user * (g_ptr_array_free). */
int request_coordinators(struct store_txn *txn, const char *country,
			 GPtrArray **users_r, char **error_r);
/* Mails subject_key/body_key (args expanded in each one's language; case_id,
 * when a valid case id, as %{case} and the subject's tag) to every
 * coordinator of country, within the per-address reply cap; *told_r: how
 * many were mailed. */
int request_tell_coordinators(struct store_txn *txn, struct request_env *env,
			      const char *country, const char *case_id, const char *kind,
			      const char *subject_key, const char *body_key,
			      const struct catalog_arg *args, unsigned *told_r,
			      char **error_r);

/* Mail to address fails for good (source "bounce": a DSN of one of our
 * messages; "send": the relay refused it with 5xx): the user with that
 * address and every authority whose post-box it is are marked failing
 * ("YYYY-MM-DD: reason", shown by imi user list / authority show), with an
 * audit entry "address.failing", and the coordinators of the authority's
 * country are told in their language (bounce.subject, bounce.notice).  An
 * address already marked is left as it is, and nobody is told again.
 * *marked_r: records newly marked (0: unknown or already failing). */
int request_address_failing(struct store_txn *txn, struct request_env *env,
			    const char *address, const char *reason, const char *source,
			    unsigned *marked_r, char **error_r);

/* The urgency lists ([Urgency] of requests.ini), when due: each country's
 * coordinators get, in their authority's language, the list of requests
 * with an authority of their country as requester or responder that are
 * still open OpenLongerThan after they were sent.  A country with none
 * gets no list.  The next list is due Period after now (STORE_META
 * DUE_URGENCY_KEY, policies/due.h); nothing happens before it.  *sent_r: lists queued. */
int request_urgency_run(struct store_txn *txn, struct request_env *env, int64_t now,
			unsigned *sent_r, char **error_r);

#endif

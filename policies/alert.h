/*
 * alert: the alert mechanism by e-mail (DESIGN.md, "Alert workflow"; seed
 * 001 §5.2.3.2).
 *
 * What it does: an alert is a case of kind "alert" in STORE_CASES (same id
 * form IMI-YYYY-NNNNNN, own key "case:ID").  Its life, with the rules of
 * policies/rules/alerts.ini:
 *   - creation: by `imi alert new` (a filled form) or by e-mail (`imi alert
 *     form` sends the empty form; the initiator replies with it filled in).
 *     Only an authority with alert access and a user with role
 *     alert_sender may send one; every Type=check criterion of the set must
 *     be ticked, else the alert is refused and the sender told, in their
 *     language, which criteria are missing (catalog alert.checklist-missing).
 *     All answers, and the documents sent with them, are sealed with the
 *     case's key; the sender is acknowledged (alert.submitted) with a reply
 *     address by which it may RECTIFY or WITHDRAW the alert before approval;
 *   - approval: the alert coordinators of the initiator's own country
 *     (users with role alert_coordinator of authorities of that country)
 *     get the approval request; never a coordinator abroad.  A reply
 *     "APPROVE [DE AT ...]" sends it, "REJECT reason" refuses it;
 *   - broadcast: to the alert post-box of each recipient country (the
 *     policy's default: country of establishment and the Commission).  The
 *     Commission's copy carries no field the set marks Personal, and no
 *     document unless the set's attachment questions are non-personal;
 *   - afterwards: RECTIFY (initiator: a new version to every recipient),
 *     WITHDRAW (initiator: the alert's data are removed at once, every
 *     recipient told), FLAG (a recipient: the initiator told), CLOSE (a
 *     recipient of the country of establishment), reminders to close
 *     through timers, and FORWARD by a post-box to an authority of its
 *     country.
 *
 * How it fails: store errors as the store gives them (IMI_TEMPFAIL: retry
 * the transaction); IMI_INVALID / IMI_NOTFOUND / IMI_DENIED for bad input
 * to alert_create and alert_form_send.  A step by e-mail that the rules
 * refuse is not an error: the sender is told why, nothing else changes.
 *
 * What it trusts: the authenticated user given by the caller (inbound.c
 * has checked the signature, alignment and token) and the operator's rule
 * file and question sets.  Field values are the parties' text: they reach
 * mail bodies only through render.h.
 */
#ifndef IMI_ALERT_H
#define IMI_ALERT_H

#include <stdint.h>

#include "parser/answers.h"
#include "parser/message.h"
#include "policies/request.h"
#include "store/store.h"
#include "templates/render.h"

#define ALERT_MAX_RECIPIENTS 40   /* countries an alert goes to */
#define ALERT_MAX_FORWARDS 100    /* authorities a post-box forwards to */
#define ALERT_MAX_WORDS 2000      /* words read for country codes or an id */
#define ALERT_MAX_DOCUMENTS 20    /* documents sent with one alert */
#define ALERT_MAX_DOCUMENT_BYTES (20 * 1024 * 1024) /* their bytes together */

/* A document sent with an alert (an attachment of the filled form's
 * reply, or a file given to `imi alert new --attach`).  The documents
 * answer the set's Type=attachment questions: they are sealed with the
 * case key beside the answers, go with every copy of the alert (approval
 * requests, post-boxes, forwarded authorities, rectified versions), and
 * reach the Commission only when the set has an attachment question and
 * marks every attachment question Personal=false
 * (alert_documents_personal).  A rectification that carries documents
 * replaces them; one without keeps them.  They are removed with the
 * alert's other data (withdrawal, closure, rejection, retention). */
struct alert_document {
	const char *name;               /* safe file name */
	const char *content_type;       /* "type/subtype" */
	const unsigned char *data;      /* the bytes */
	size_t size;
};

/* 1 when the set's documents count as personal: no Type=attachment
 * question, or one not marked Personal=false. */
int alert_documents_personal(const struct qset *qset);

/* Is case_id an alert?  0 for a request, an unknown case or an error. */
int alert_case_is(struct store_txn *txn, const char *case_id);

struct alert_new {
	const char *initiator;          /* authority id */
	const char *user;               /* the sender's address (an alert_sender), or NULL */
	const char *qset_id;            /* a set of Kind=alert */
	const char *form_text;          /* the filled form ("Q1: yes" ...) */
	const struct alert_document *documents; /* sent with it, or NULL */
	unsigned n_documents;           /* at most ALERT_MAX_DOCUMENTS */
};

/* Creates the alert and asks the coordinators for approval; the initiator
 * gets an acknowledgement with a reply address (its authority's token) by
 * which it may withdraw or rectify the alert while it awaits approval.
 * When criteria are not ticked: IMI_INVALID and *missing_r the list, one
 * "Qn. text" per line (g_free); nothing is stored.  More documents than
 * the bounds above: IMI_INVALID. */
int alert_create(struct store_txn *txn, struct request_env *env,
		 const struct alert_new *in, char **case_id_r, char **missing_r,
		 char **error_r);

/* A draft alert and the empty form mailed to user (an alert_sender of
 * initiator); the reply to it creates the alert. */
int alert_form_send(struct store_txn *txn, struct request_env *env,
		    const char *initiator, const char *qset_id,
		    const char *user, char **case_id_r, char **error_r);

/* One message about an alert, authenticated, with a valid token. */
struct alert_step {
	const char *case_id;
	const char *token_action;          /* "reply", "approve", ... */
	const struct user *user;
	const struct parsed_message *msg;
	const char *in_reply_to;           /* the message's own Message-ID */
};
struct alert_outcome {
	int applied;
	char *reason;  /* one line for the log; never personal data */
};
void alert_outcome_clear(struct alert_outcome *out);
int alert_inbound(struct store_txn *txn, struct request_env *env,
		  const struct alert_step *step, struct alert_outcome *out,
		  char **error_r);

/* Digests: to the alert post-boxes and coordinators of every country
 * concerned, in their language, the alerts sent, rectified, flagged,
 * withdrawn and closed in (since, until], and for coordinators those
 * awaiting approval; ids and form titles only.  *sent_r: digests mailed.
 * The first broadcast schedules the timer "alert-digest" every
 * DigestPeriod of alerts.ini. */
int alert_digest_run(struct store_txn *txn, struct request_env *env, int64_t since,
		     int64_t until, unsigned *sent_r, char **error_r);

/* A due timer of an alert ("alert-close-reminder") or the digest timer
 * ("alert-digest"). */
int alert_timer_run(struct store_txn *txn, struct request_env *env,
		    int64_t when, const char *case_id, const char *kind,
		    char **error_r);

/* One copy of an alert as mailed: the fields of `answers` (code -> value)
 * under their questions in `language`, and the documents as attachments;
 * redact: leave out every field the set marks Personal and the documents
 * when alert_documents_personal (the Commission's copy). */
struct alert_copy {
	struct render_envelope env;
	const struct catalog *catalog;
	const struct qset *qset;
	JsonObject *answers;
	const char *language;
	const char *case_id;
	const char *authority;   /* the initiator's name */
	const char *country;     /* the initiator's country */
	const char *date;        /* YYYY-MM-DD */
	const char *intro_key;   /* first paragraph (e.g. "alert.broadcast-intro") */
	const char *reason;      /* %{reason}, or NULL */
	int redact;
	const struct alert_document *documents; /* attached (NULL: none); a
						 * redacted copy leaves them out
						 * when they are personal */
	unsigned n_documents;
};
int alert_render_copy(const struct alert_copy *in, char **message_r,
		      size_t *len_r, char **error_r);
/* The field block of a copy (g_free). */
char *alert_fields_text(const struct catalog *catalog, const struct qset *qset,
			JsonObject *answers, const char *language, int redact);

#endif

/*
 * policy: the workflow rules as data, and the small engine that applies
 * them.
 *
 * What it does: loads, once, the request workflow (policies/rules/
 * requests.ini: states, steps, who may take each step, reminders, default
 * deadline) and the retention policy named by [policy] retention
 * (policies/rules/<name>.ini: blocking and deletion periods after closure),
 * and answers three questions without touching the store or the clock:
 *   - may party P, whose user holds roles R, take action A in state S, and
 *     what is the state after it (policy_decide);
 *   - when is the next reminder of a case in state S (policy_reminder_next);
 *   - when are its personal data blocked and deleted
 *     (policy_retention_times).
 * Periods are written Nd, Nw, Nm or Ny; months and years are calendar
 * months and years (UTC), so "6m" after 31 August is 28 February.
 *
 * How it fails: a malformed rule file refuses the load (IMI_INVALID, the
 * file, group and key named); an unknown action is IMI_NOTFOUND from
 * policy_decide.  A loaded policy is immutable.
 *
 * What it trusts: the rule files (the operator's installation).
 */
#ifndef IMI_POLICY_H
#define IMI_POLICY_H

#include <stdint.h>

#include "conf/conf.h"
#include "util/util.h"

#define POLICY_MAX_FILE_BYTES (256 * 1024)
#define POLICY_MAX_STATES 32
#define POLICY_MAX_ACTIONS 32
#define POLICY_MAX_REMINDERS 32
#define POLICY_MAX_REPEATS 1000 /* reminders looked at in one search */
#define POLICY_MAX_REPLIES_PER_HOUR 100000 /* bound of [Limits] RepliesPerHour */

enum policy_party {
	POLICY_PARTY_NONE,      /* not a party of the case */
	POLICY_PARTY_REQUESTER, /* the requesting authority */
	POLICY_PARTY_RESPONDER, /* the responding authority */
};
const char *policy_party_name(enum policy_party party);

struct policy;

/* rules_dir holds requests.ini and <retention>.ini. */
int policy_load(const char *rules_dir, const char *retention,
		struct policy **policy_r, char **error_r);
/* The same from <datadir>/policies/rules (a source tree) or
 * <datadir>/rules (installed), retention from conf->retention_policy. */
int policy_load_conf(const struct imi_conf *conf, struct policy **policy_r,
		     char **error_r);
void policy_free(struct policy **policy);

const char *policy_initial_state(const struct policy *policy);
int policy_state_valid(const struct policy *policy, const char *state);
int policy_state_closed(const struct policy *policy, const char *state);
int policy_action_known(const struct policy *policy, const char *action);
/* Default deadline in days after sending. */
int policy_deadline_days(const struct policy *policy);
/* [Limits] RepliesPerHour: automatic replies (confirmations, error
 * notices) to one address in one hour; 0: no limit. */
int policy_replies_per_hour(const struct policy *policy);
/* [Urgency] Period and OpenLongerThan (periods such as "7d"), or NULL when
 * coordinators get no urgency lists. */
const char *policy_urgency_period(const struct policy *policy);
const char *policy_urgency_after(const struct policy *policy);

struct policy_decision {
	int allowed;            /* 1: the step may be taken */
	const char *next_state; /* the state after it (allowed only); the
				 * policy's own string, for as long as the policy */
	/* Why not: "not-party", "wrong-role" (another party's step, or the
	 * user lacks the role), "closed" (the case is closed),
	 * "wrong-state" (not possible in this state).  NULL when allowed. */
	const char *refusal;
	const char *party_needed; /* "requester"/"responder" */
	const char *role_needed;  /* e.g. "handler" */
};

/* roles: the user's roles, NULL-terminated (NULL: none).  IMI_NOTFOUND for
 * an action the rules do not know; IMI_INVALID for an unknown state. */
int policy_decide(const struct policy *policy, const char *state,
		  const char *action, enum policy_party party,
		  const char *const *roles, struct policy_decision *decision_r,
		  char **error_r);

struct policy_reminder_due {
	const char *name;       /* "not-accepted" */
	const char *text_key;   /* catalog key of its paragraph */
	enum policy_party to;   /* who gets it */
	int64_t when;
};

/* The first reminder of a case in `state` due strictly after `after`;
 * entered: when the case entered the state; deadline: the answer deadline
 * (seconds; 0 for none).  Returns 1 and fills *due_r, or 0 when the state
 * has no (further) reminder. */
int policy_reminder_next(const struct policy *policy, const char *state,
			 int64_t entered, int64_t deadline, int64_t after,
			 struct policy_reminder_due *due_r);

/* Retention after closure at closed_at: *block_r (0 when the policy blocks
 * nothing separately), *notice_r (when the parties are told of the coming
 * deletion; 0: never) and *delete_r. */
void policy_retention_times(const struct policy *policy, int64_t closed_at,
			    int64_t *block_r, int64_t *notice_r, int64_t *delete_r);

/* When a message held for review at received is deleted unless released
 * or discarded before ([Retention] Held); 0: kept until then. */
int64_t policy_held_expiry(const struct policy *policy, int64_t received);

/* A period ("14d", "2w", "6m", "3y") added to t (UTC calendar).  IMI_INVALID
 * for a malformed period. */
int policy_period_add(const char *period, int64_t t, int64_t *result_r,
		      char **error_r);
/* The same period taken away from t. */
int policy_period_sub(const char *period, int64_t t, int64_t *result_r,
		      char **error_r);

#endif

/*
 * policy.c: loading the rule files and answering from them (policy.h).
 */
#include "policies/policy.h"

#include <string.h>

struct policy_action {
	char *name;
	char **from;      /* states in which it is possible */
	char *to;         /* the next state; "=" keeps the state */
	enum policy_party party;
	char *role;
};

struct policy_reminder {
	char *name;
	char **states;
	char *after;      /* period after entering the state, or NULL */
	char *deadline;   /* period after the deadline, or NULL */
	char *repeat;     /* NULL: once */
	enum policy_party to;
	char *text_key;
};

struct policy {
	char **states;
	char *initial;
	char **closed;
	int deadline_days;
	GPtrArray *actions;   /* struct policy_action * */
	GPtrArray *reminders; /* struct policy_reminder * */
	char *block;          /* period after closure, or NULL */
	char *delete;         /* period after closure */
	char *notice;         /* period before deletion for the notice, or NULL */
	char *held;           /* period a held message is kept, or NULL */
	int replies_per_hour; /* [Limits] RepliesPerHour: automatic replies to one
			       * address per hour (0: no limit) */
	char *urgency_period; /* [Urgency] Period: how often coordinators get
			       * the list (NULL: never) */
	char *urgency_after;  /* [Urgency] OpenLongerThan: age of a request
			       * that puts it on the list */
};

const char *policy_party_name(enum policy_party party)
{
	switch (party) {
	case POLICY_PARTY_REQUESTER:
		return "requester";
	case POLICY_PARTY_RESPONDER:
		return "responder";
	default:
		return "none";
	}
}

static void action_free(gpointer p)
{
	struct policy_action *a = p;

	g_free(a->name);
	g_strfreev(a->from);
	g_free(a->to);
	g_free(a->role);
	g_free(a);
}

static void reminder_free(gpointer p)
{
	struct policy_reminder *r = p;

	g_free(r->name);
	g_strfreev(r->states);
	g_free(r->after);
	g_free(r->deadline);
	g_free(r->repeat);
	g_free(r->text_key);
	g_free(r);
}

void policy_free(struct policy **policy)
{
	struct policy *p = *policy;

	if (p == NULL)
		return;
	g_strfreev(p->states);
	g_free(p->initial);
	g_strfreev(p->closed);
	g_ptr_array_free(p->actions, TRUE);
	g_ptr_array_free(p->reminders, TRUE);
	g_free(p->block);
	g_free(p->delete);
	g_free(p->notice);
	g_free(p->held);
	g_free(p->urgency_period);
	g_free(p->urgency_after);
	g_free(p);
	*policy = NULL;
}

/* The entry of v equal to s, or NULL. */
static const char *strv_find(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return *v;
	return NULL;
}

static int strv_has(char *const *v, const char *s)
{
	return strv_find(v, s) != NULL;
}

/* "14d", "2w", "6m", "3y": count and unit. */
static int period_parse(const char *period, int64_t *count_r, char *unit_r)
{
	char *end;
	long long n;

	if (period == NULL || !g_ascii_isdigit(period[0]))
		return 0;
	n = g_ascii_strtoll(period, &end, 10);
	if (n < 0 || n > 100000 || end[0] == '\0' || end[1] != '\0' ||
	    strchr("dwmy", end[0]) == NULL)
		return 0;
	*count_r = n;
	*unit_r = end[0];
	return 1;
}

static int period_move(const char *period, int64_t t, int sign, int64_t *result_r,
		       char **error_r)
{
	GDateTime *dt, *moved;
	int64_t n;
	char unit;

	if (!period_parse(period, &n, &unit))
		return imi_fail(error_r, IMI_INVALID,
				"policy: period '%s' is not N followed by d, w, m or y "
				"(e.g. 14d, 6m)", period ? period : "");
	dt = g_date_time_new_from_unix_utc(t);
	if (dt == NULL)
		return imi_fail(error_r, IMI_INVALID, "policy: time out of range");
	n *= sign;
	switch (unit) {
	case 'd':
		moved = g_date_time_add_days(dt, (gint)n);
		break;
	case 'w':
		moved = g_date_time_add_weeks(dt, (gint)n);
		break;
	case 'm':
		moved = g_date_time_add_months(dt, (gint)n);
		break;
	default:
		moved = g_date_time_add_years(dt, (gint)n);
		break;
	}
	g_date_time_unref(dt);
	if (moved == NULL)
		return imi_fail(error_r, IMI_INVALID, "policy: time out of range");
	*result_r = g_date_time_to_unix(moved);
	g_date_time_unref(moved);
	return IMI_OK;
}

int policy_period_add(const char *period, int64_t t, int64_t *result_r,
		      char **error_r)
{
	return period_move(period, t, 1, result_r, error_r);
}

int policy_period_sub(const char *period, int64_t t, int64_t *result_r,
		      char **error_r)
{
	return period_move(period, t, -1, result_r, error_r);
}

static GKeyFile *policy_read(const char *path, char **error_r)
{
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;
	gchar *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		imi_fail(error_r, IMI_NOTFOUND, "policy: cannot read %s: %s", path,
			 gerr->message);
		goto fail;
	}
	if (len > POLICY_MAX_FILE_BYTES) {
		imi_fail(error_r, IMI_TOOBIG, "policy: %s is larger than %d bytes",
			 path, POLICY_MAX_FILE_BYTES);
		goto fail;
	}
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
		imi_fail(error_r, IMI_INVALID, "policy: %s: %s", path, gerr->message);
		goto fail;
	}
	g_free(data);
	return kf;
fail:
	if (gerr != NULL)
		g_error_free(gerr);
	g_free(data);
	g_key_file_free(kf);
	return NULL;
}

static char *kf_string(GKeyFile *kf, const char *group, const char *key)
{
	char *v = g_key_file_get_string(kf, group, key, NULL);

	if (v != NULL)
		g_strstrip(v);
	if (v != NULL && *v == '\0') {
		g_free(v);
		v = NULL;
	}
	return v;
}

static char **kf_list(GKeyFile *kf, const char *group, const char *key)
{
	char **v = g_key_file_get_string_list(kf, group, key, NULL, NULL);

	for (unsigned i = 0; v != NULL && v[i] != NULL; i++)
		g_strstrip(v[i]);
	return v;
}

static int party_parse(const char *text, enum policy_party *party_r)
{
	if (text != NULL && strcmp(text, "requester") == 0)
		*party_r = POLICY_PARTY_REQUESTER;
	else if (text != NULL && strcmp(text, "responder") == 0)
		*party_r = POLICY_PARTY_RESPONDER;
	else
		return 0;
	return 1;
}

static int states_check(const struct policy *p, char *const *v,
			const char *where, char **error_r)
{
	if (v == NULL || v[0] == NULL)
		return imi_fail(error_r, IMI_INVALID, "policy: %s: no state given",
				where);
	for (; *v != NULL; v++)
		if (!strv_has(p->states, *v))
			return imi_fail(error_r, IMI_INVALID,
					"policy: %s: unknown state '%s'", where, *v);
	return IMI_OK;
}

static int period_check(const char *period, const char *where, char **error_r)
{
	int64_t n;
	char unit;

	if (period != NULL && !period_parse(period, &n, &unit))
		return imi_fail(error_r, IMI_INVALID,
				"policy: %s: period '%s' is not N followed by d, w, m "
				"or y", where, period);
	return IMI_OK;
}

static int policy_load_workflow(struct policy *p, GKeyFile *kf,
				const char *name, char **error_r)
{
	char **groups = g_key_file_get_groups(kf, NULL);
	char *where, *text;
	int ret = IMI_OK;

	p->states = kf_list(kf, "Workflow", "States");
	p->initial = kf_string(kf, "Workflow", "Initial");
	p->closed = kf_list(kf, "Workflow", "Closed");
	p->deadline_days = g_key_file_get_integer(kf, "Workflow", "DeadlineDays", NULL);
	if (p->states == NULL || g_strv_length(p->states) > POLICY_MAX_STATES) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "policy: %s: [Workflow] States missing or more than %d",
			       name, POLICY_MAX_STATES);
		goto out;
	}
	if (p->initial == NULL || !strv_has(p->states, p->initial)) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "policy: %s: [Workflow] Initial missing or not a state", name);
		goto out;
	}
	if ((ret = states_check(p, p->closed, "[Workflow] Closed", error_r)) != IMI_OK)
		goto out;
	if (p->deadline_days <= 0) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "policy: %s: [Workflow] DeadlineDays must be a positive "
			       "number of days", name);
		goto out;
	}
	if (g_key_file_has_key(kf, "Limits", "RepliesPerHour", NULL)) {
		GError *gerr = NULL;

		p->replies_per_hour = g_key_file_get_integer(kf, "Limits", "RepliesPerHour",
							     &gerr);
		if (gerr != NULL || p->replies_per_hour < 0 ||
		    p->replies_per_hour > POLICY_MAX_REPLIES_PER_HOUR) {
			g_clear_error(&gerr);
			ret = imi_fail(error_r, IMI_INVALID,
				       "policy: %s: [Limits] RepliesPerHour must be a number "
				       "from 0 (no limit) to %d", name,
				       POLICY_MAX_REPLIES_PER_HOUR);
			goto out;
		}
	}
	p->urgency_period = kf_string(kf, "Urgency", "Period");
	p->urgency_after = kf_string(kf, "Urgency", "OpenLongerThan");
	if ((p->urgency_period == NULL) != (p->urgency_after == NULL)) {
		ret = imi_fail(error_r, IMI_INVALID,
			       "policy: %s: [Urgency] needs both Period and OpenLongerThan",
			       name);
		goto out;
	}
	if ((ret = period_check(p->urgency_period, name, error_r)) != IMI_OK ||
	    (ret = period_check(p->urgency_after, name, error_r)) != IMI_OK)
		goto out;
	for (unsigned i = 0; groups[i] != NULL && ret == IMI_OK; i++) {
		if (g_str_has_prefix(groups[i], "Action ")) {
			struct policy_action *a = g_new0(struct policy_action, 1);

			g_ptr_array_add(p->actions, a);
			a->name = g_strdup(groups[i] + 7);
			a->from = kf_list(kf, groups[i], "From");
			a->to = kf_string(kf, groups[i], "To");
			a->role = kf_string(kf, groups[i], "Role");
			text = kf_string(kf, groups[i], "Party");
			where = g_strdup_printf("%s: [%s]", name, groups[i]);
			if (!party_parse(text, &a->party))
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s Party: '%s' is not requester "
					       "or responder", where, text ? text : "");
			else if ((ret = states_check(p, a->from, where, error_r)) != IMI_OK)
				;
			else if (a->to == NULL ||
				 (strcmp(a->to, "=") != 0 && !strv_has(p->states, a->to)))
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s To: missing or unknown state", where);
			else if (a->role == NULL)
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s Role: missing", where);
			else if (p->actions->len > POLICY_MAX_ACTIONS)
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s: more than %d actions", name,
					       POLICY_MAX_ACTIONS);
			g_free(text);
			g_free(where);
		} else if (g_str_has_prefix(groups[i], "Reminder ")) {
			struct policy_reminder *r = g_new0(struct policy_reminder, 1);

			g_ptr_array_add(p->reminders, r);
			r->name = g_strdup(groups[i] + 9);
			r->states = kf_list(kf, groups[i], "State");
			r->after = kf_string(kf, groups[i], "After");
			r->deadline = kf_string(kf, groups[i], "Deadline");
			r->repeat = kf_string(kf, groups[i], "Repeat");
			r->text_key = kf_string(kf, groups[i], "Text");
			text = kf_string(kf, groups[i], "To");
			where = g_strdup_printf("%s: [%s]", name, groups[i]);
			if (!party_parse(text, &r->to))
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s To: '%s' is not requester or "
					       "responder", where, text ? text : "");
			else if ((ret = states_check(p, r->states, where, error_r)) != IMI_OK)
				;
			else if ((r->after == NULL) == (r->deadline == NULL))
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s: give exactly one of After and "
					       "Deadline", where);
			else if ((ret = period_check(r->after, where, error_r)) != IMI_OK ||
				 (ret = period_check(r->deadline, where, error_r)) != IMI_OK ||
				 (ret = period_check(r->repeat, where, error_r)) != IMI_OK)
				;
			else if (r->repeat != NULL && r->repeat[0] == '0')
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s Repeat: must be longer than 0", where);
			else if (r->text_key == NULL)
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s Text: missing", where);
			else if (p->reminders->len > POLICY_MAX_REMINDERS)
				ret = imi_fail(error_r, IMI_INVALID,
					       "policy: %s: more than %d reminders", name,
					       POLICY_MAX_REMINDERS);
			g_free(text);
			g_free(where);
		}
	}
out:
	g_strfreev(groups);
	return ret;
}

int policy_load(const char *rules_dir, const char *retention,
		struct policy **policy_r, char **error_r)
{
	struct policy *p = g_new0(struct policy, 1);
	char *path, *file;
	GKeyFile *kf;
	int ret;

	p->actions = g_ptr_array_new_with_free_func(action_free);
	p->reminders = g_ptr_array_new_with_free_func(reminder_free);
	path = g_build_filename(rules_dir, "requests.ini", NULL);
	kf = policy_read(path, error_r);
	g_free(path);
	if (kf == NULL) {
		policy_free(&p);
		return IMI_INVALID;
	}
	ret = policy_load_workflow(p, kf, "requests.ini", error_r);
	g_key_file_free(kf);
	if (ret != IMI_OK) {
		policy_free(&p);
		return ret;
	}
	if (retention == NULL || *retention == '\0' || strchr(retention, '/') != NULL) {
		policy_free(&p);
		return imi_fail(error_r, IMI_INVALID,
				"policy: retention policy name '%s' is not a file name "
				"in %s", retention ? retention : "", rules_dir);
	}
	file = g_strdup_printf("%s.ini", retention);
	path = g_build_filename(rules_dir, file, NULL);
	kf = policy_read(path, error_r);
	g_free(path);
	if (kf == NULL) {
		g_free(file);
		policy_free(&p);
		return IMI_INVALID;
	}
	p->block = kf_string(kf, "Retention", "Block");
	p->delete = kf_string(kf, "Retention", "Delete");
	p->notice = kf_string(kf, "Retention", "Notice");
	p->held = kf_string(kf, "Retention", "Held");
	g_key_file_free(kf);
	if (p->delete == NULL)
		ret = imi_fail(error_r, IMI_INVALID,
			       "policy: %s: [Retention] Delete missing", file);
	else if ((ret = period_check(p->delete, file, error_r)) == IMI_OK &&
		 (ret = period_check(p->notice, file, error_r)) == IMI_OK &&
		 (ret = period_check(p->held, file, error_r)) == IMI_OK)
		ret = period_check(p->block, file, error_r);
	g_free(file);
	if (ret != IMI_OK) {
		policy_free(&p);
		return ret;
	}
	*policy_r = p;
	return IMI_OK;
}

int policy_load_conf(const struct imi_conf *conf, struct policy **policy_r,
		     char **error_r)
{
	char *dir = g_build_filename(conf->datadir, "policies", "rules", NULL);
	int ret;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		g_free(dir);
		dir = g_build_filename(conf->datadir, "rules", NULL);
	}
	ret = policy_load(dir, conf->retention_policy, policy_r, error_r);
	g_free(dir);
	return ret;
}

const char *policy_initial_state(const struct policy *policy)
{
	return policy->initial;
}

int policy_state_valid(const struct policy *policy, const char *state)
{
	return state != NULL && strv_has(policy->states, state);
}

int policy_state_closed(const struct policy *policy, const char *state)
{
	return state != NULL && strv_has(policy->closed, state);
}

int policy_deadline_days(const struct policy *policy)
{
	return policy->deadline_days;
}

int policy_replies_per_hour(const struct policy *policy)
{
	return policy->replies_per_hour;
}

const char *policy_urgency_period(const struct policy *policy)
{
	return policy->urgency_period;
}

const char *policy_urgency_after(const struct policy *policy)
{
	return policy->urgency_after;
}

static const struct policy_action *action_find(const struct policy *policy,
					       const char *name)
{
	for (unsigned i = 0; i < policy->actions->len; i++) {
		const struct policy_action *a = g_ptr_array_index(policy->actions, i);
		if (strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

int policy_action_known(const struct policy *policy, const char *action)
{
	return action != NULL && action_find(policy, action) != NULL;
}

int policy_decide(const struct policy *policy, const char *state,
		  const char *action, enum policy_party party,
		  const char *const *roles, struct policy_decision *decision_r,
		  char **error_r)
{
	const struct policy_action *a = action != NULL ? action_find(policy, action) : NULL;
	struct policy_decision *d = decision_r;

	memset(d, 0, sizeof(*d));
	if (a == NULL)
		return imi_fail(error_r, IMI_NOTFOUND, "policy: unknown action '%s'",
				action ? action : "");
	if (!policy_state_valid(policy, state))
		return imi_fail(error_r, IMI_INVALID, "policy: unknown state '%s'",
				state ? state : "");
	d->party_needed = policy_party_name(a->party);
	d->role_needed = a->role;
	/* Need-to-know first: a stranger learns nothing about the state. */
	if (party == POLICY_PARTY_NONE)
		d->refusal = "not-party";
	else if (party != a->party || !strv_has((char *const *)roles, a->role))
		d->refusal = "wrong-role";
	else if (policy_state_closed(policy, state))
		d->refusal = "closed";
	else if (!strv_has(a->from, state))
		d->refusal = "wrong-state";
	else {
		d->allowed = 1;
		/* "=": the state, as the policy spells it: the caller's
		 * string may be the case's own, which the step replaces. */
		d->next_state = strcmp(a->to, "=") == 0 ? strv_find(a->from, state) : a->to;
	}
	return IMI_OK;
}

int policy_reminder_next(const struct policy *policy, const char *state,
			 int64_t entered, int64_t deadline, int64_t after,
			 struct policy_reminder_due *due_r)
{
	int found = 0;

	for (unsigned i = 0; i < policy->reminders->len; i++) {
		const struct policy_reminder *r = g_ptr_array_index(policy->reminders, i);
		int64_t t;

		if (!strv_has(r->states, state))
			continue;
		if (r->after != NULL) {
			if (policy_period_add(r->after, entered, &t, NULL) != IMI_OK)
				continue;
		} else {
			if (deadline <= 0 ||
			    policy_period_add(r->deadline, deadline, &t, NULL) != IMI_OK)
				continue;
		}
		/* Repeats, bounded: the first one after `after`. */
		for (unsigned n = 0; t <= after && r->repeat != NULL &&
				     n < POLICY_MAX_REPEATS; n++)
			if (policy_period_add(r->repeat, t, &t, NULL) != IMI_OK)
				break;
		if (t <= after)
			continue;
		if (!found || t < due_r->when) {
			found = 1;
			due_r->name = r->name;
			due_r->text_key = r->text_key;
			due_r->to = r->to;
			due_r->when = t;
		}
	}
	return found;
}

void policy_retention_times(const struct policy *policy, int64_t closed_at,
			    int64_t *block_r, int64_t *notice_r, int64_t *delete_r)
{
	*block_r = 0;
	if (policy->block != NULL)
		policy_period_add(policy->block, closed_at, block_r, NULL);
	*delete_r = closed_at;
	policy_period_add(policy->delete, closed_at, delete_r, NULL);
	*notice_r = 0;
	/* A notice is worth sending only after closure. */
	if (policy->notice != NULL &&
	    policy_period_sub(policy->notice, *delete_r, notice_r, NULL) == IMI_OK &&
	    *notice_r <= closed_at)
		*notice_r = 0;
}

int64_t policy_held_expiry(const struct policy *policy, int64_t received)
{
	int64_t t = 0;

	if (policy->held == NULL ||
	    policy_period_add(policy->held, received, &t, NULL) != IMI_OK)
		return 0;
	return t;
}

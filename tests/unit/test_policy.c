/*
 * test_policy.c: the workflow rules as the engine reads them from
 * policies/rules: steps allowed and refused per party, role and state; the
 * reminder times; retention periods; refusal of malformed rule files.
 */
#include "testutil.h"

#include "policies/policy.h"

static struct policy *policy_open(const char *retention)
{
	const char *top = g_getenv("IMI_SRC");
	char *dir = g_build_filename(top != NULL ? top : ".", "policies", "rules", NULL);
	struct policy *p = NULL;
	char *error = NULL;

	if (policy_load(dir, retention, &p, &error) != IMI_OK)
		fail_msg("policy_load %s: %s", retention, error);
	g_free(dir);
	return p;
}

static int64_t utc(int y, int m, int d)
{
	GDateTime *dt = g_date_time_new_utc(y, m, d, 12, 0, 0);
	int64_t t = g_date_time_to_unix(dt);

	g_date_time_unref(dt);
	return t;
}

static const char *const handler[] = {"handler", NULL};
static const char *const coordinator[] = {"coordinator", NULL};

static void test_transitions(void **state)
{
	static const struct {
		const char *state, *action;
		enum policy_party party;
		const char *const *roles;
		int allowed;
		const char *want; /* next state, or the refusal */
	} cases[] = {
		{"sent", "accept", POLICY_PARTY_RESPONDER, handler, 1, "accepted"},
		{"forwarded", "accept", POLICY_PARTY_RESPONDER, handler, 1, "accepted"},
		{"sent", "forward", POLICY_PARTY_RESPONDER, handler, 1, "forwarded"},
		{"accepted", "answer", POLICY_PARTY_RESPONDER, handler, 1, "answered"},
		{"answered", "answer", POLICY_PARTY_RESPONDER, handler, 1, "answered"},
		{"answered", "further-questions", POLICY_PARTY_REQUESTER, handler, 1, "accepted"},
		{"answered", "accept-answer", POLICY_PARTY_REQUESTER, handler, 1, "answer-accepted"},
		{"answer-accepted", "close", POLICY_PARTY_REQUESTER, handler, 1, "closed"},
		{"sent", "withdraw", POLICY_PARTY_REQUESTER, handler, 1, "withdrawn"},
		{"answered", "withdraw", POLICY_PARTY_REQUESTER, handler, 1, "withdrawn"},
		/* refusals */
		{"sent", "accept", POLICY_PARTY_REQUESTER, handler, 0, "wrong-role"},
		{"sent", "accept", POLICY_PARTY_RESPONDER, coordinator, 0, "wrong-role"},
		{"sent", "accept", POLICY_PARTY_RESPONDER, NULL, 0, "wrong-role"},
		{"sent", "accept", POLICY_PARTY_NONE, handler, 0, "not-party"},
		{"closed", "accept", POLICY_PARTY_NONE, handler, 0, "not-party"},
		{"accepted", "accept", POLICY_PARTY_RESPONDER, handler, 0, "wrong-state"},
		{"sent", "accept-answer", POLICY_PARTY_REQUESTER, handler, 0, "wrong-state"},
		{"answer-accepted", "withdraw", POLICY_PARTY_REQUESTER, handler, 0, "wrong-state"},
		{"closed", "answer", POLICY_PARTY_RESPONDER, handler, 0, "closed"},
		{"withdrawn", "withdraw", POLICY_PARTY_REQUESTER, handler, 0, "closed"},
		{"sent", "withdraw", POLICY_PARTY_RESPONDER, handler, 0, "wrong-role"},
		{"answered", "close", POLICY_PARTY_REQUESTER, handler, 0, "wrong-state"},
	};
	struct policy *p = policy_open("retention-seeds");
	struct policy_decision d;
	char *error = NULL;

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *field = g_strdup_printf("%s in %s by %s", cases[i].action, cases[i].state,
					      policy_party_name(cases[i].party));

		check_int(field, policy_decide(p, cases[i].state, cases[i].action, cases[i].party,
					       cases[i].roles, &d, &error), IMI_OK);
		check_int(field, d.allowed, cases[i].allowed);
		check_str(field, cases[i].allowed ? d.next_state : d.refusal, cases[i].want);
		g_free(field);
	}
	check_int("unknown action", policy_decide(p, "sent", "dance", POLICY_PARTY_RESPONDER,
						  handler, &d, &error), IMI_NOTFOUND);
	g_free(error);
	error = NULL;
	check_int("unknown state", policy_decide(p, "lost", "accept", POLICY_PARTY_RESPONDER,
						 handler, &d, &error), IMI_INVALID);
	g_free(error);
	check_str("initial state", policy_initial_state(p), "sent");
	check_int("closed is closed", policy_state_closed(p, "closed"), 1);
	check_int("answered is open", policy_state_closed(p, "answered"), 0);
	check_int("deadline days", policy_deadline_days(p), 30);
	policy_free(&p);
	check_int("freed", p == NULL, 1);
}

static void test_reminders(void **state)
{
	static const struct {
		const char *state;
		int64_t after_days;   /* after = entered + this */
		int found;
		const char *name;
		enum policy_party to;
		int64_t when_days;    /* from entered (deadline-based: from the deadline) */
		int from_deadline;
	} cases[] = {
		{"sent", 0, 1, "not-accepted", POLICY_PARTY_RESPONDER, 7, 0},
		{"sent", 7, 1, "not-accepted", POLICY_PARTY_RESPONDER, 14, 0},
		{"sent", 20, 1, "not-accepted", POLICY_PARTY_RESPONDER, 21, 0},
		{"forwarded", 1, 1, "not-accepted", POLICY_PARTY_RESPONDER, 7, 0},
		{"accepted", 0, 1, "not-answered", POLICY_PARTY_RESPONDER, 0, 1},
		{"answered", 0, 1, "answer-not-accepted", POLICY_PARTY_REQUESTER, 14, 0},
		{"answered", 14, 1, "answer-not-accepted", POLICY_PARTY_REQUESTER, 28, 0},
		{"closed", 0, 0, NULL, POLICY_PARTY_NONE, 0, 0},
		{"withdrawn", 0, 0, NULL, POLICY_PARTY_NONE, 0, 0},
	};
	struct policy *p = policy_open("retention-seeds");
	int64_t entered = utc(2026, 11, 2), deadline = utc(2026, 12, 31);

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct policy_reminder_due due = {0};
		char *field = g_strdup_printf("reminder in %s after %lld days", cases[i].state,
					      (long long)cases[i].after_days);
		int found = policy_reminder_next(p, cases[i].state, entered, deadline,
						 entered + cases[i].after_days * 86400, &due);

		check_int(field, found, cases[i].found);
		if (found) {
			check_str(field, due.name, cases[i].name);
			check_int(field, due.to, cases[i].to);
			check_int(field, due.when,
				  (cases[i].from_deadline ? deadline : entered) +
					  cases[i].when_days * 86400);
		}
		g_free(field);
	}
	policy_free(&p);
}

static void test_retention(void **state)
{
	static const struct {
		const char *policy;
		int closed[3];
		int block[3];  /* {0,0,0}: none */
		int notice[3];
		int del[3];
	} cases[] = {
		{"retention-seeds", {2026, 3, 10}, {0, 0, 0}, {2026, 8, 27}, {2026, 9, 10}},
		/* calendar months: 31 August + 6 months is 28 February */
		{"retention-seeds", {2026, 8, 31}, {0, 0, 0}, {2027, 2, 14}, {2027, 2, 28}},
		{"retention-1024-2012", {2026, 3, 10}, {2026, 9, 10}, {2029, 2, 10}, {2029, 3, 10}},
	};

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct policy *p = policy_open(cases[i].policy);
		int64_t block, notice, del;

		policy_retention_times(p, utc(cases[i].closed[0], cases[i].closed[1],
					      cases[i].closed[2]), &block, &notice, &del);
		check_int(cases[i].policy, notice,
			  utc(cases[i].notice[0], cases[i].notice[1], cases[i].notice[2]));
		check_int(cases[i].policy, block,
			  cases[i].block[0] ? utc(cases[i].block[0], cases[i].block[1],
						  cases[i].block[2]) : 0);
		check_int(cases[i].policy, del,
			  utc(cases[i].del[0], cases[i].del[1], cases[i].del[2]));
		policy_free(&p);
	}
}

static void test_periods(void **state)
{
	static const struct {
		const char *period;
		int status;
		int64_t add;
	} cases[] = {
		{"0d", IMI_OK, 0},
		{"14d", IMI_OK, 14 * 86400},
		{"2w", IMI_OK, 14 * 86400},
		{"", IMI_INVALID, 0},
		{"d", IMI_INVALID, 0},
		{"14", IMI_INVALID, 0},
		{"14h", IMI_INVALID, 0},
		{"-3d", IMI_INVALID, 0},
		{"3dd", IMI_INVALID, 0},
	};
	int64_t t0 = utc(2026, 1, 1), t;

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *error = NULL;

		t = 0;
		check_int(cases[i].period, policy_period_add(cases[i].period, t0, &t, &error),
			  cases[i].status);
		if (cases[i].status == IMI_OK)
			check_int(cases[i].period, t - t0, cases[i].add);
		g_free(error);
	}
}

static void test_bad_rules(void **state)
{
	static const struct {
		const char *requests, *retention, *in_error;
	} cases[] = {
		{"[Workflow]\nStates=a;b\nInitial=c\nClosed=b\nDeadlineDays=3\n",
		 "[Retention]\nDelete=6m\n", "Initial"},
		{"[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n"
		 "[Action go]\nFrom=a\nTo=z\nParty=requester\nRole=handler\n",
		 "[Retention]\nDelete=6m\n", "[Action go] To"},
		{"[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n"
		 "[Action go]\nFrom=a\nTo=b\nParty=judge\nRole=handler\n",
		 "[Retention]\nDelete=6m\n", "Party"},
		{"[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n"
		 "[Reminder r]\nState=a\nAfter=7x\nTo=responder\nText=t\n",
		 "[Retention]\nDelete=6m\n", "7x"},
		{"[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n",
		 "[Retention]\nBlock=6m\n", "Delete missing"},
		{"[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n"
		 "[Limits]\nRepliesPerHour=-1\n",
		 "[Retention]\nDelete=6m\n", "RepliesPerHour"},
		{"[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n"
		 "[Limits]\nRepliesPerHour=many\n",
		 "[Retention]\nDelete=6m\n", "RepliesPerHour"},
		{"[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n"
		 "[Urgency]\nPeriod=7d\n",
		 "[Retention]\nDelete=6m\n", "OpenLongerThan"},
		{"[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n"
		 "[Urgency]\nPeriod=weekly\nOpenLongerThan=60d\n",
		 "[Retention]\nDelete=6m\n", "weekly"},
	};

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *dir = testutil_tmpdir("policy");
		char *req = g_build_filename(dir, "requests.ini", NULL);
		char *ret_path = g_build_filename(dir, "r.ini", NULL);
		struct policy *p = NULL;
		char *error = NULL;

		g_file_set_contents(req, cases[i].requests, -1, NULL);
		g_file_set_contents(ret_path, cases[i].retention, -1, NULL);
		check_int(cases[i].in_error, policy_load(dir, "r", &p, &error), IMI_INVALID);
		if (error == NULL || strstr(error, cases[i].in_error) == NULL)
			fail_msg("error text: got \"%s\", want it to name \"%s\"",
				 error ? error : "(null)", cases[i].in_error);
		check_int("no policy on failure", p == NULL, 1);
		g_free(error);
		g_free(req);
		g_free(ret_path);
		testutil_rmdir(dir);
	}
}

/* [Limits] and [Urgency]: absent means no limit and no lists; the shipped
 * file sets both. */
static void test_limits(void **state)
{
	static const struct {
		const char *extra;           /* appended to a minimal workflow */
		int replies;                 /* wanted RepliesPerHour */
		const char *period, *after;  /* wanted [Urgency] */
	} cases[] = {
		{"", 0, NULL, NULL},
		{"[Limits]\nRepliesPerHour=5\n", 5, NULL, NULL},
		{"[Urgency]\nPeriod=1w\nOpenLongerThan=2m\n", 0, "1w", "2m"},
	};
	char *error = NULL;
	struct policy *p = NULL;

	(void)state;
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *dir = testutil_tmpdir("policy");
		char *req = g_build_filename(dir, "requests.ini", NULL);
		char *ret_path = g_build_filename(dir, "r.ini", NULL);
		char *text = g_strconcat("[Workflow]\nStates=a;b\nInitial=a\nClosed=b\n"
					 "DeadlineDays=3\n", cases[i].extra, NULL);

		g_file_set_contents(req, text, -1, NULL);
		g_file_set_contents(ret_path, "[Retention]\nDelete=6m\n", -1, NULL);
		if (policy_load(dir, "r", &p, &error) != IMI_OK)
			fail_msg("case %u: %s", i, error);
		check_int(cases[i].extra, policy_replies_per_hour(p), cases[i].replies);
		check_str(cases[i].extra, policy_urgency_period(p), cases[i].period);
		check_str(cases[i].extra, policy_urgency_after(p), cases[i].after);
		policy_free(&p);
		g_free(text);
		g_free(req);
		g_free(ret_path);
		testutil_rmdir(dir);
	}
	p = policy_open("retention-seeds");
	check_int("shipped RepliesPerHour", policy_replies_per_hour(p), 30);
	check_str("shipped [Urgency] Period", policy_urgency_period(p), "7d");
	check_str("shipped [Urgency] OpenLongerThan", policy_urgency_after(p), "60d");
	policy_free(&p);
}

/* An action that keeps the state ("To==") names the state after it with
 * the policy's own string, not the caller's: request_apply passes the
 * case's "state" member, which the step then replaces (and frees). */
static void test_keep_state(void **state)
{
	char *dir = testutil_tmpdir("policy");
	char *req = g_build_filename(dir, "requests.ini", NULL);
	char *ret_path = g_build_filename(dir, "r.ini", NULL);
	const char *const roles[] = {"handler", NULL};
	struct policy_decision d;
	struct policy *p = NULL;
	char *error = NULL, *current = g_strdup("a");

	(void)state;
	g_file_set_contents(req, "[Workflow]\nStates=a;b\nInitial=a\nClosed=b\nDeadlineDays=3\n"
			    "[Action note]\nFrom=a\nTo==\nParty=requester\nRole=handler\n",
			    -1, NULL);
	g_file_set_contents(ret_path, "[Retention]\nDelete=6m\n", -1, NULL);
	if (policy_load(dir, "r", &p, &error) != IMI_OK)
		fail_msg("%s", error);
	check_int("policy_decide note", policy_decide(p, current, "note", POLICY_PARTY_REQUESTER,
						      roles, &d, NULL), IMI_OK);
	check_int("note allowed", d.allowed, 1);
	check_str("note keeps the state", d.next_state, "a");
	check_int("next_state is not the caller's string", d.next_state == current, 0);
	/* What request_apply does next: the case's state string goes. */
	g_free(current);
	check_str("next_state after the caller's string is gone", d.next_state, "a");
	policy_free(&p);
	g_free(req);
	g_free(ret_path);
	testutil_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_reminders),
		cmocka_unit_test(test_retention),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_bad_rules),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_keep_state),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}

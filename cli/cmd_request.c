/*
 * cmd_request.c: imi request new — an information request and its e-mail.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "policies/request.h"

struct request_cmd {
	struct request_env *env;
	struct request_new in;
	char *case_id;
};

static int request_cmd_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct request_cmd *rc = ctx;
	int ret;

	g_free(rc->case_id);
	rc->case_id = NULL;
	if (rc->in.user != NULL) {
		struct user *u = NULL;

		ret = store_user_get_by_email(txn, rc->in.user, &u, error_r);
		if (ret != IMI_OK)
			return ret;
		if (strcmp(u->authority, rc->in.requester) != 0 || u->disabled ||
		    !user_has_role(u, "handler"))
			ret = imi_fail(error_r, IMI_DENIED,
				       "user %s is not an active handler of %s",
				       rc->in.user, rc->in.requester);
		user_free(&u);
		if (ret != IMI_OK)
			return ret;
	}
	return request_create(txn, rc->env, &rc->in, &rc->case_id, error_r);
}

int cmd_request(struct cli *cli, int argc, char **argv)
{
	char *from = NULL, *to = NULL, *qset = NULL, *subject = NULL;
	char *deadline = NULL, *user = NULL, *error = NULL;
	GOptionEntry e[] = {
		{"from-authority", 0, 0, G_OPTION_ARG_STRING, &from, "requesting authority id", "ID"},
		{"to-authority", 0, 0, G_OPTION_ARG_STRING, &to, "responding authority id", "ID"},
		{"qset", 0, 0, G_OPTION_ARG_STRING, &qset, "question set id", "ID"},
		{"subject", 0, 0, G_OPTION_ARG_STRING, &subject, "whom the request is about (personal data)", "TEXT"},
		{"deadline", 0, 0, G_OPTION_ARG_STRING, &deadline, "answer deadline (default: the policy's)", "YYYY-MM-DD"},
		{"user", 0, 0, G_OPTION_ARG_STRING, &user, "requesting user (a handler of the requesting authority)", "ADDR"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	struct request_cmd rc = {0};
	GOptionContext *ctx;
	int ret;

	if (argc < 2 || strcmp(argv[1], "new") != 0) {
		fprintf(stderr, "Usage: imi request new --from-authority ID --to-authority ID "
			"--qset ID --subject TEXT [--deadline DATE] [--user ADDR]\n");
		return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
			       ? 0 : EX_USAGE;
	}
	ctx = g_option_context_new("- send an information request");
	g_option_context_set_description(ctx,
		"Creates case IMI-YYYY-NNNNNN, seals the subject with the case's key,\n"
		"and puts the request e-mail to the responding authority (in its\n"
		"language) into the outbox, all in one transaction.  Prints the case id.\n");
	g_option_context_add_main_entries(ctx, e, NULL);
	argc--;
	argv++;
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (from == NULL || to == NULL || qset == NULL || subject == NULL) {
		fprintf(stderr, "imi: request new needs --from-authority, --to-authority, "
			"--qset and --subject\n");
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	if ((ret = request_env_open(cli->conf, &rc.env, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	rc.in.requester = from;
	rc.in.responder = to;
	rc.in.qset_id = qset;
	rc.in.subject = subject;
	rc.in.deadline = deadline;
	rc.in.user = user;
	ret = store_transact(cli->store, request_cmd_txn, &rc, &error);
	if (ret != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	log_info(rc.case_id, "request created: %s -> %s", from, to);
	printf("%s\n", rc.case_id);
	ret = 0;
out:
	request_env_close(&rc.env);
	g_free(rc.case_id);
	g_free(from);
	g_free(to);
	g_free(qset);
	g_free(subject);
	g_free(deadline);
	g_free(user);
	return ret;
}

/*
 * cmd_alert.c: imi alert new|form — alerts from a filled form, or the empty
 * form mailed to an alert sender (policies/alert.h).
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "policies/alert.h"

#define ALERT_FORM_MAX_BYTES (1024 * 1024)

/* Content types of the usual documents, by file name extension; anything
 * else is sent as application/octet-stream. */
static const struct {
	const char *ext, *type;
} document_types[] = {
	{".pdf", "application/pdf"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
	{".jpeg", "image/jpeg"}, {".txt", "text/plain"}, {".xml", "application/xml"},
	{".odt", "application/vnd.oasis.opendocument.text"},
	{".doc", "application/msword"},
	{".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	{".zip", "application/zip"},
};

static const char *document_type(const char *path)
{
	char *lower = g_ascii_strdown(path, -1);
	const char *type = "application/octet-stream";

	for (unsigned i = 0; i < G_N_ELEMENTS(document_types); i++)
		if (g_str_has_suffix(lower, document_types[i].ext))
			type = document_types[i].type;
	g_free(lower);
	return type;
}

struct alert_cmd {
	struct request_env *env;
	struct alert_new in;
	const char *form_user;  /* form: the alert sender it goes to */
	char *case_id;
	char *missing;
};

static int alert_new_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct alert_cmd *ac = ctx;

	g_free(ac->case_id);
	g_free(ac->missing);
	ac->case_id = NULL;
	ac->missing = NULL;
	return alert_create(txn, ac->env, &ac->in, &ac->case_id, &ac->missing, error_r);
}

static int alert_form_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct alert_cmd *ac = ctx;

	g_free(ac->case_id);
	ac->case_id = NULL;
	return alert_form_send(txn, ac->env, ac->in.initiator, ac->in.qset_id,
			       ac->form_user, &ac->case_id, error_r);
}

int cmd_alert(struct cli *cli, int argc, char **argv)
{
	char *from = NULL, *qset = NULL, *form = NULL, *user = NULL, *error = NULL;
	char *text = NULL;
	char **attach = NULL;
	struct alert_document docs[ALERT_MAX_DOCUMENTS];
	char *doc_data[ALERT_MAX_DOCUMENTS] = {NULL}, *doc_name[ALERT_MAX_DOCUMENTS] = {NULL};
	unsigned n_docs = 0;
	GOptionEntry e[] = {
		{"from-authority", 0, 0, G_OPTION_ARG_STRING, &from, "initiating authority id (with alert access)", "ID"},
		{"qset", 0, 0, G_OPTION_ARG_STRING, &qset, "alert form: sd-alert or pq-alert", "ID"},
		{"form", 0, 0, G_OPTION_ARG_FILENAME, &form, "new: the filled form (\"Q1: yes\" lines)", "FILE"},
		{"user", 0, 0, G_OPTION_ARG_STRING, &user, "the alert sender (role alert_sender); form: where the form goes", "ADDR"},
		{"attach", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &attach, "new: a document sent with the alert (repeatable)", "FILE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	struct alert_cmd ac = {0};
	GOptionContext *ctx;
	const char *sub;
	int ret;

	if (argc < 2 || (strcmp(argv[1], "new") != 0 && strcmp(argv[1], "form") != 0)) {
		fprintf(stderr, "Usage: imi alert new --from-authority ID --qset ID --form FILE [--user ADDR] [--attach FILE]...\n"
			"       imi alert form --from-authority ID --qset ID --user ADDR\n");
		return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
			       ? 0 : EX_USAGE;
	}
	sub = argv[1];
	ctx = g_option_context_new(strcmp(sub, "new") == 0 ? "- send an alert from a filled form"
							   : "- mail the empty alert form to a sender");
	g_option_context_set_description(ctx,
		"new: every check-list criterion must be ticked (\"Q1: yes\"), else the\n"
		"missing ones are listed and nothing is stored (exit 65).  The alert then\n"
		"waits for the approval of the alert coordinators of the initiator's\n"
		"country, who get it by e-mail, and the sender (--user, else the\n"
		"authority's post-box) an acknowledgement whose reply address withdraws\n"
		"or rectifies it until then.  --attach: documents sent with the alert\n"
		"(to the Commission only if the set marks its attachment questions\n"
		"Personal=false).  Prints the case id.\n"
		"form: creates a draft alert and mails the empty form to --user; the\n"
		"sender's reply with the form filled in submits it.  Prints the case id.\n");
	g_option_context_add_main_entries(ctx, e, NULL);
	argc--;
	argv++;
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (from == NULL || qset == NULL ||
	    (strcmp(sub, "new") == 0 ? form == NULL : user == NULL)) {
		fprintf(stderr, "imi: alert %s needs --from-authority, --qset and %s\n", sub,
			strcmp(sub, "new") == 0 ? "--form" : "--user");
		ret = EX_USAGE;
		goto out;
	}
	if (strcmp(sub, "new") == 0) {
		gsize len = 0;
		GError *gerr = NULL;

		if (!g_file_get_contents(form, &text, &len, &gerr)) {
			fprintf(stderr, "imi: %s\n", gerr->message);
			g_error_free(gerr);
			ret = EX_NOINPUT;
			goto out;
		}
		if (len > ALERT_FORM_MAX_BYTES || !g_utf8_validate(text, (gssize)len, NULL)) {
			fprintf(stderr, "imi: %s is not UTF-8 text of at most %d bytes\n", form,
				ALERT_FORM_MAX_BYTES);
			ret = EX_DATAERR;
			goto out;
		}
		for (unsigned i = 0; attach != NULL && attach[i] != NULL; i++) {
			gsize dlen = 0;

			if (n_docs >= ALERT_MAX_DOCUMENTS) {
				fprintf(stderr, "imi: at most %d documents with an alert\n",
					ALERT_MAX_DOCUMENTS);
				ret = EX_DATAERR;
				goto out;
			}
			if (!g_file_get_contents(attach[i], &doc_data[n_docs], &dlen, &gerr)) {
				fprintf(stderr, "imi: %s\n", gerr->message);
				g_error_free(gerr);
				ret = EX_NOINPUT;
				goto out;
			}
			doc_name[n_docs] = g_path_get_basename(attach[i]);
			docs[n_docs].name = doc_name[n_docs];
			docs[n_docs].content_type = document_type(attach[i]);
			docs[n_docs].data = (const unsigned char *)doc_data[n_docs];
			docs[n_docs].size = dlen;
			n_docs++;
		}
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	if ((ret = request_env_open(cli->conf, &ac.env, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	ac.in.initiator = from;
	ac.in.qset_id = qset;
	ac.in.user = user;
	ac.in.form_text = text;
	ac.in.documents = n_docs > 0 ? docs : NULL;
	ac.in.n_documents = n_docs;
	ac.form_user = user;
	ret = store_transact(cli->store, strcmp(sub, "new") == 0 ? alert_new_txn : alert_form_txn,
			     &ac, &error);
	if (ret != IMI_OK) {
		if (ac.missing != NULL)
			fprintf(stderr, "Missing criteria:\n%s", ac.missing);
		ret = cli_fail(ret, error);
		goto out;
	}
	log_info(ac.case_id, "alert %s: %s", strcmp(sub, "new") == 0 ? "created" : "form sent",
		 from);
	printf("%s\n", ac.case_id);
	ret = 0;
out:
	request_env_close(&ac.env);
	g_free(ac.case_id);
	g_free(ac.missing);
	g_free(text);
	for (unsigned i = 0; i < n_docs; i++) {
		g_free(doc_data[i]);
		g_free(doc_name[i]);
	}
	g_strfreev(attach);
	g_free(from);
	g_free(qset);
	g_free(form);
	g_free(user);
	return ret;
}

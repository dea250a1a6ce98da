/*
 * cmd_auth.c: imi auth — the authentication checks of one message, for
 * operators (why was this reply refused?) and for tests.
 *
 *   imi auth check [--sender ADDR] [--client-ip IP] [--helo NAME]
 *                  [--dns-server IP[:PORT]] [--key-file FILE] FILE
 *   imi auth sign --selector S --domain D --key PEM FILE
 */
#include "cli/cli.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>

#include "parser/align.h"
#include "parser/dkim.h"
#include "parser/dns.h"
#include "parser/spf.h"

#define AUTH_MAX_MESSAGE_BYTES (64 * 1024 * 1024) /* when no conf bound applies */

/* The From addresses of the message (GMime), as a NULL-terminated vector. */
static char **auth_from_addresses(const char *message, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(message, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	GPtrArray *out = g_ptr_array_new();

	if (msg != NULL) {
		InternetAddressList *from = g_mime_message_get_from(msg);
		for (int i = 0; from != NULL && i < internet_address_list_length(from); i++) {
			InternetAddress *a = internet_address_list_get_address(from, i);
			if (INTERNET_ADDRESS_IS_MAILBOX(a))
				g_ptr_array_add(out, g_strdup(internet_address_mailbox_get_addr(
							     INTERNET_ADDRESS_MAILBOX(a))));
		}
		g_object_unref(msg);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static int auth_read(const char *path, size_t max, char **text_r, size_t *len_r)
{
	GError *gerr = NULL;
	gsize len;

	if (!g_file_get_contents(path, text_r, &len, &gerr)) {
		fprintf(stderr, "imi: %s\n", gerr->message);
		g_error_free(gerr);
		return EX_NOINPUT;
	}
	if (len > max) {
		fprintf(stderr, "imi: %s is larger than %zu bytes\n", path, max);
		g_free(*text_r);
		return EX_DATAERR;
	}
	*len_r = len;
	return 0;
}

static int auth_check(struct cli *cli, int argc, char **argv)
{
	char *sender = NULL, *client_ip = NULL, *helo = NULL, *dns_server = NULL,
	     *key_file = NULL, *message = NULL, *error = NULL;
	GOptionEntry entries[] = {
		{"sender", 0, 0, G_OPTION_ARG_STRING, &sender, "envelope sender (MAIL FROM)", "ADDR"},
		{"client-ip", 0, 0, G_OPTION_ARG_STRING, &client_ip, "SMTP client address (SPF)", "IP"},
		{"helo", 0, 0, G_OPTION_ARG_STRING, &helo, "HELO/EHLO name", "NAME"},
		{"dns-server", 0, 0, G_OPTION_ARG_STRING, &dns_server,
		 "DNS server (default: [inbound] dns_server, else /etc/resolv.conf)", "IP[:PORT]"},
		{"key-file", 0, 0, G_OPTION_ARG_FILENAME, &key_file,
		 "take DKIM keys from this file instead of DNS (testing)", "FILE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("FILE - check DKIM, SPF and alignment of a message");
	struct dns_resolver *dns = NULL;
	struct dkim_verifier *verifier = NULL;
	struct dkim_result *dkim = NULL;
	struct spf_checker *spf_checker = NULL;
	struct spf_result *spf = NULL;
	char **from = NULL;
	size_t len = 0;
	int ret, temp = 0;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Prints one line per DKIM signature (verdict, d=, s=, algorithm, reason,\n"
		"covered headers), the SPF result when --client-ip is given, which\n"
		"passing domains align with the From domain, and the Authentication-\n"
		"Results header imi would record.  Exit 0 when checked, 75 when a DNS\n"
		"problem left a result undecided (temperror).\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc != 2) {
		fprintf(stderr, "imi: auth check needs one FILE (see --help)\n");
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 0)) != 0)
		goto out;
	if ((ret = auth_read(argv[1], cli->conf->max_message_bytes > 0
					      ? (size_t)cli->conf->max_message_bytes
					      : AUTH_MAX_MESSAGE_BYTES,
			     &message, &len)) != 0)
		goto out;

	if ((ret = dns_resolver_new(dns_server != NULL ? dns_server : cli->conf->dns_server, 0,
				    &dns, &error)) != IMI_OK ||
	    (ret = dkim_verifier_open(key_file != NULL ? NULL : dns, key_file, 0,
				      &verifier, &error)) != IMI_OK ||
	    (ret = dkim_verify_message(verifier, message, len, imi_now(),
				       cli->conf->signature_max_age_days, &dkim, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	g_mime_init();
	from = auth_from_addresses(message, len);
	printf("from: %s (%u field%s)\n", from[0] != NULL ? from[0] : "(none)",
	       dkim->from_count, dkim->from_count == 1 ? "" : "s");
	if (dkim->n_signatures == 0)
		printf("dkim: none (no signature)\n");
	for (unsigned i = 0; i < dkim->n_signatures; i++) {
		const struct dkim_signature *s = &dkim->signatures[i];
		char *covered = g_strjoinv(":", s->covered_headers);
		printf("dkim: %s d=%s s=%s a=%s (%s) covered=%s\n", dkim_verdict_name(s->verdict),
		       s->domain, s->selector, s->algorithm, s->reason, covered);
		g_free(covered);
		temp |= s->verdict == DKIM_VERDICT_TEMPERROR;
	}
	if (client_ip != NULL) {
		if ((ret = spf_checker_open(dns, cli->conf->service_domain, &spf_checker, &error)) != IMI_OK ||
		    (ret = spf_check(spf_checker, client_ip, helo, sender, &spf, &error)) != IMI_OK) {
			ret = cli_fail(ret, error);
			goto out;
		}
		printf("spf: %s identity=%s domain=%s (%s)\n", spf_verdict_name(spf->verdict),
		       spf->identity, spf->domain, spf->comment);
		temp |= spf->verdict == SPF_VERDICT_TEMPERROR;
	}
	if (from[0] != NULL) {
		const char *domain = imi_email_domain(from[0]);
		for (unsigned i = 0; i < dkim->n_signatures; i++)
			if (dkim->signatures[i].verdict == DKIM_VERDICT_PASS)
				printf("aligned: dkim d=%s %s\n", dkim->signatures[i].domain,
				       align_domains(domain, dkim->signatures[i].domain) ? "yes" : "no");
		if (spf != NULL && spf->verdict == SPF_VERDICT_PASS)
			printf("aligned: spf %s %s\n", spf->domain,
			       align_domains(domain, spf->domain) ? "yes" : "no");
	}
	{
		char *ar = align_authentication_results(cli->conf->service_domain, dkim, spf);
		printf("Authentication-Results: %s\n", ar);
		g_free(ar);
	}
	ret = temp ? EX_TEMPFAIL : 0;
out:
	g_strfreev(from);
	spf_result_free(&spf);
	spf_checker_close(&spf_checker);
	dkim_result_free(&dkim);
	dkim_verifier_close(&verifier);
	dns_resolver_free(&dns);
	g_free(message);
	g_free(sender);
	g_free(client_ip);
	g_free(helo);
	g_free(dns_server);
	g_free(key_file);
	return ret;
}

static int auth_sign(struct cli *cli, int argc, char **argv)
{
	char *selector = NULL, *domain = NULL, *key = NULL, *message = NULL,
	     *header = NULL, *error = NULL;
	gboolean simple = FALSE;
	GOptionEntry entries[] = {
		{"selector", 0, 0, G_OPTION_ARG_STRING, &selector, "DKIM selector (default: [outbound] dkim_selector)", "S"},
		{"domain", 0, 0, G_OPTION_ARG_STRING, &domain, "d= (default: [outbound] dkim_domain)", "D"},
		{"key", 0, 0, G_OPTION_ARG_FILENAME, &key, "PEM private key (default: [outbound] dkim_key)", "PEM"},
		{"simple", 0, 0, G_OPTION_ARG_NONE, &simple, "simple/simple instead of relaxed/relaxed", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx = g_option_context_new("FILE - print FILE with a DKIM signature prepended");
	struct dkim_sign_options options = {0};
	char *key_path = NULL;
	size_t len = 0;
	int ret;

	g_option_context_add_main_entries(ctx, entries, NULL);
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (argc != 2) {
		fprintf(stderr, "imi: auth sign needs one FILE (see --help)\n");
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 0)) != 0)
		goto out;
	key_path = key != NULL ? g_strdup(key) : conf_home_path(cli->conf, cli->conf->dkim_key);
	if ((ret = auth_read(argv[1], AUTH_MAX_MESSAGE_BYTES, &message, &len)) != 0)
		goto out;
	options.simple = simple;
	ret = dkim_sign_message(selector != NULL ? selector : cli->conf->dkim_selector,
				domain != NULL ? domain : cli->conf->dkim_domain, key_path,
				message, len, &options, &header, &error);
	if (ret != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	printf("%s\n", header);
	fwrite(message, 1, len, stdout);
	ret = 0;
out:
	g_free(header);
	g_free(message);
	g_free(key_path);
	g_free(selector);
	g_free(domain);
	g_free(key);
	return ret;
}

int cmd_auth(struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return auth_check(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return auth_sign(cli, argc - 1, argv + 1);
	fprintf(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
		"Usage: imi auth check [--sender ADDR] [--client-ip IP] [--helo NAME]\n"
		"                      [--dns-server IP[:PORT]] [--key-file FILE] FILE\n"
		"       imi auth sign [--selector S] [--domain D] [--key PEM] [--simple] FILE\n"
		"\n"
		"check: verify the DKIM signatures and the SPF record of a message and\n"
		"       show which passing domains align with its From domain.\n"
		"sign:  print the message with the service's DKIM signature prepended.\n");
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : EX_USAGE;
}

/*
 * cmd_init.c: imi init — the home directory, its keys, Maildirs and store.
 */
#include "cli/cli.h"
#include "parser/token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mta-hooks/dkim_key.h"

static int init_maildir(const char *path, char **error_r)
{
	static const char *const sub[] = {"cur", "new", "tmp"};
	int ret = IMI_OK;

	for (unsigned i = 0; i < G_N_ELEMENTS(sub) && ret == IMI_OK; i++) {
		char *d = g_build_filename(path, sub[i], NULL);
		ret = imi_mkdir_p(d, 0700, error_r);
		g_free(d);
	}
	return ret;
}

/* The DKIM signing key of outgoing mail (created once), and the DNS record
 * that publishes it, printed for the operator. */
static int init_dkim_key(const struct imi_conf *conf, char **error_r)
{
	char *path = g_path_is_absolute(conf->dkim_key) ? g_strdup(conf->dkim_key)
							: conf_home_path(conf, conf->dkim_key);
	char *record = NULL;
	int ret = IMI_OK;

	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		ret = dkim_key_create(path, error_r);
	if (ret == IMI_OK)
		ret = dkim_key_dns_record(path, &record, error_r);
	if (ret == IMI_OK)
		printf("imi: publish the DKIM key in DNS:\n%s._domainkey.%s. IN TXT \"%s\"\n",
		       conf->dkim_selector, conf->dkim_domain, record);
	g_free(record);
	g_free(path);
	return ret;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("- create the home directory");
	char *error = NULL, *path;
	int ret;

	g_option_context_set_description(ctx,
		"Creates HOME (--home, $IMI_HOME or ./var) with its Berkeley DB store,\n"
		"the master key that wraps the per-case keys (keys/master.key, 0600),\n"
		"the reply-token key (keys/token.key, 0600), the DKIM signing key of\n"
		"outgoing mail (keys/dkim.key, RSA 2048, 0600; the TXT record to publish\n"
		"is printed), and the inbox and outbox\n"
		"Maildirs of the embedded default.  Running it again changes nothing\n"
		"that exists.\n");
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		return ret;
	if (sodium_init() < 0)
		return cli_fail(IMI_ERROR, g_strdup("libsodium cannot start"));
	if ((ret = imi_mkdir_p(cli->home, 0700, &error)) != IMI_OK)
		return cli_fail(ret, error);
	if ((ret = cli_open(cli, 0)) != 0)
		return ret;
	path = conf_home_path(cli->conf, "keys");
	ret = imi_mkdir_p(path, 0700, &error);
	g_free(path);
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	path = conf_home_path(cli->conf, "keys/token.key");
	ret = g_file_test(path, G_FILE_TEST_EXISTS) ? IMI_OK
						    : token_key_create(path, &error);
	g_free(path);
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	if ((ret = init_dkim_key(cli->conf, &error)) != IMI_OK)
		return cli_fail(ret, error);
	path = conf_home_path(cli->conf, cli->conf->outbox_maildir);
	ret = init_maildir(path, &error);
	g_free(path);
	if (ret == IMI_OK) {
		path = conf_home_path(cli->conf, cli->conf->inbox_maildir);
		ret = init_maildir(path, &error);
		g_free(path);
	}
	if (ret != IMI_OK)
		return cli_fail(ret, error);
	if ((ret = store_open(cli->conf->home, STORE_OPEN_CREATE, &cli->store,
			      &error)) != IMI_OK)
		return cli_fail(ret, error);
	log_info(NULL, "home %s initialised", cli->conf->home);
	printf("imi: home %s is ready\n", cli->conf->home);
	return 0;
}

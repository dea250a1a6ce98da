/*
 * conf.c: the settings table and the GKeyFile loader.
 */
#include "conf/conf.h"
#include "util/util.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

enum conf_type { CT_STRING, CT_INT, CT_INT64, CT_BOOL };

struct conf_entry {
	struct conf_setting s;
	enum conf_type type;
	size_t offset;
};

#define F(field) offsetof(struct imi_conf, field)
static const struct conf_entry table[] = {
	{{"service", "domain", "imi.localhost", "mail domain of the service; reply addresses are LOCAL+TOKEN@DOMAIN"}, CT_STRING, F(service_domain)},
	{{"service", "local_part", "imi", "local part of the service address"}, CT_STRING, F(service_local)},
	{{"service", "name", "IMI mail", "display name on outgoing mail"}, CT_STRING, F(service_name)},
	{{"service", "language", "en", "catalog used for a recipient with no registered language"}, CT_STRING, F(language_default)},
	{{"limits", "max_message_bytes", "26214400", "largest message accepted; larger ones are refused, not truncated"}, CT_INT64, F(max_message_bytes)},
	{{"limits", "max_mime_depth", "32", "deepest MIME nesting read"}, CT_INT, F(max_mime_depth)},
	{{"limits", "max_mime_parts", "500", "most MIME parts read in one message"}, CT_INT, F(max_mime_parts)},
	{{"limits", "max_header_bytes", "262144", "largest header block read"}, CT_INT64, F(max_header_bytes)},
	{{"limits", "max_recipients", "100", "most recipients on one outgoing message"}, CT_INT, F(max_recipients)},
	{{"outbound", "smtp_relay", "", "host:port of the SMTP relay; empty: imi send writes the outbox Maildir"}, CT_STRING, F(smtp_relay)},
	{{"outbound", "smtp_user", "", "user name for SMTP AUTH; empty: no AUTH"}, CT_STRING, F(smtp_user)},
	{{"outbound", "smtp_password_file", "", "file holding the SMTP AUTH password"}, CT_STRING, F(smtp_password_file)},
	{{"outbound", "smtp_starttls", "false", "require STARTTLS to the relay"}, CT_BOOL, F(smtp_starttls)},
	{{"outbound", "outbox_maildir", "outbox", "Maildir that imi send fills when no relay is set (relative to home)"}, CT_STRING, F(outbox_maildir)},
	{{"outbound", "dkim_selector", "imi", "DKIM selector of the service's signing key"}, CT_STRING, F(dkim_selector)},
	{{"outbound", "dkim_key", "keys/dkim.key", "DKIM private key (PEM), relative to home"}, CT_STRING, F(dkim_key)},
	{{"outbound", "dkim_domain", "", "d= of outgoing signatures; empty: the service domain"}, CT_STRING, F(dkim_domain)},
	{{"inbound", "inbox_maildir", "inbox", "Maildir that imi fetch reads on the embedded default (relative to home)"}, CT_STRING, F(inbox_maildir)},
	{{"inbound", "dns_server", "", "ip[:port] of the resolver for DKIM and SPF; empty: /etc/resolv.conf"}, CT_STRING, F(dns_server)},
	{{"inbound", "trusted_authserv_id", "", "authserv-id whose Authentication-Results the poller trusts"}, CT_STRING, F(trusted_authserv_id)},
	{{"inbound", "token_lifetime_days", "120", "days a reply token stays valid"}, CT_INT, F(token_lifetime_days)},
	{{"inbound", "milter_pass_on", "false", "true: a message the milter stored also goes on to the service domain's transport; false: it ends in the store"}, CT_BOOL, F(milter_pass_on)},
	{{"inbound", "signature_max_age_days", "30", "a DKIM signature whose t= is older is refused as a replay"}, CT_INT, F(signature_max_age_days)},
	{{"policy", "retention", "retention-seeds", "retention policy file in the policies directory"}, CT_STRING, F(retention_policy)},
};
#undef F

const struct conf_setting *conf_settings(unsigned *count_r)
{
	static struct conf_setting out[G_N_ELEMENTS(table)];
	for (unsigned i = 0; i < G_N_ELEMENTS(table); i++)
		out[i] = table[i].s;
	*count_r = G_N_ELEMENTS(table);
	return out;
}

static int conf_set(struct imi_conf *conf, const struct conf_entry *e,
		    const char *value, char **error_r)
{
	char *field = (char *)conf + e->offset;
	char *end;
	long long n;

	switch (e->type) {
	case CT_STRING:
		g_free(*(char **)field);
		*(char **)field = g_strdup(value);
		return IMI_OK;
	case CT_BOOL:
		if (g_ascii_strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
		    g_ascii_strcasecmp(value, "yes") == 0)
			*(int *)field = 1;
		else if (g_ascii_strcasecmp(value, "false") == 0 ||
			 strcmp(value, "0") == 0 || g_ascii_strcasecmp(value, "no") == 0)
			*(int *)field = 0;
		else
			return imi_fail(error_r, IMI_INVALID,
					"[%s] %s: \"%s\" is not true or false",
					e->s.group, e->s.key, value);
		return IMI_OK;
	case CT_INT:
	case CT_INT64:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno != 0 || *value == '\0' || *end != '\0' || n < 0 ||
		    (e->type == CT_INT && n > INT_MAX))
			return imi_fail(error_r, IMI_INVALID,
					"[%s] %s: \"%s\" is not a number in range",
					e->s.group, e->s.key, value);
		if (e->type == CT_INT)
			*(int *)field = (int)n;
		else
			*(int64_t *)field = n;
		return IMI_OK;
	}
	return IMI_ERROR;
}

static const struct conf_entry *conf_find(const char *group, const char *key)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(table); i++)
		if (strcmp(table[i].s.group, group) == 0 &&
		    strcmp(table[i].s.key, key) == 0)
			return &table[i];
	return NULL;
}

static char *conf_find_datadir(void)
{
	const char *env = g_getenv("IMI_DATADIR");
	char *exe, *dir, *top, *probe;

	if (env != NULL && *env != '\0')
		return g_strdup(env);
	/* Run from the source tree (build/imi): use the tree's own data. */
	exe = g_file_read_link("/proc/self/exe", NULL);
	if (exe != NULL) {
		dir = g_path_get_dirname(exe);
		top = g_path_get_dirname(dir);
		probe = g_build_filename(top, "templates", NULL);
		g_free(exe);
		g_free(dir);
		if (g_file_test(probe, G_FILE_TEST_IS_DIR)) {
			g_free(probe);
			return top;
		}
		g_free(probe);
		g_free(top);
	}
	return g_strdup(IMI_DATADIR);
}

int conf_load(const char *home, struct imi_conf **conf_r, char **error_r)
{
	struct imi_conf *conf = g_new0(struct imi_conf, 1);
	GKeyFile *kf;
	GError *gerr = NULL;
	char *path, **groups, **keys;
	int ret = IMI_OK;

	conf->home = g_canonicalize_filename(home, NULL);
	conf->datadir = conf_find_datadir();
	for (unsigned i = 0; i < G_N_ELEMENTS(table); i++)
		if ((ret = conf_set(conf, &table[i], table[i].s.default_value,
				    error_r)) != IMI_OK)
			goto fail;

	path = g_build_filename(conf->home, "imi.conf", NULL);
	kf = g_key_file_new();
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
		if (!g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			ret = imi_fail(error_r, IMI_INVALID, "%s: %s", path,
				       gerr->message);
		g_clear_error(&gerr);
		g_key_file_free(kf);
		g_free(path);
		if (ret != IMI_OK)
			goto fail;
		goto done;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (unsigned g = 0; groups[g] != NULL && ret == IMI_OK; g++) {
		keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
		for (unsigned k = 0; keys[k] != NULL && ret == IMI_OK; k++) {
			const struct conf_entry *e = conf_find(groups[g], keys[k]);
			char *v;
			if (e == NULL) {
				ret = imi_fail(error_r, IMI_INVALID,
					       "%s: unknown setting [%s] %s", path,
					       groups[g], keys[k]);
				break;
			}
			v = g_key_file_get_string(kf, groups[g], keys[k], NULL);
			ret = conf_set(conf, e, v != NULL ? v : "", error_r);
			g_free(v);
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
	g_key_file_free(kf);
	g_free(path);
	if (ret != IMI_OK)
		goto fail;
done:
	if (*conf->dkim_domain == '\0') {
		g_free(conf->dkim_domain);
		conf->dkim_domain = g_strdup(conf->service_domain);
	}
	*conf_r = conf;
	return IMI_OK;
fail:
	conf_free(&conf);
	return ret;
}

void conf_free(struct imi_conf **confp)
{
	struct imi_conf *conf = *confp;

	if (conf == NULL)
		return;
	for (unsigned i = 0; i < G_N_ELEMENTS(table); i++)
		if (table[i].type == CT_STRING)
			g_free(*(char **)((char *)conf + table[i].offset));
	g_free(conf->home);
	g_free(conf->datadir);
	g_free(conf);
	*confp = NULL;
}

char *conf_home_path(const struct imi_conf *conf, const char *name)
{
	if (g_path_is_absolute(name))
		return g_strdup(name);
	return g_build_filename(conf->home, name, NULL);
}

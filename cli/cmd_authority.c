/*
 * cmd_authority.c: imi authority add|list|show|update|disable
 *                  imi user add|list|disable
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "store/directory_change.h"

/* Options shared by authority add and update. */
struct authority_opts {
	char *id, *country, *language, *postbox;
	char **names, **areas, **domains;
	gboolean alerts, no_alerts, alert_postbox, no_alert_postbox;
	gboolean spf_aligned, no_spf_aligned;
};

static void authority_opts_free(struct authority_opts *o)
{
	g_free(o->id);
	g_free(o->country);
	g_free(o->language);
	g_free(o->postbox);
	g_strfreev(o->names);
	g_strfreev(o->areas);
	g_strfreev(o->domains);
}

/* The options as a change of the directory (directory_change.h). */
static struct directory_change authority_change(const struct authority_opts *o)
{
	struct directory_change c = DIRECTORY_CHANGE_INIT;

	c.country = o->country;
	c.language = o->language;
	c.postbox = o->postbox;
	c.names = (const char *const *)o->names;
	c.areas = (const char *const *)o->areas;
	c.domains = (const char *const *)o->domains;
	if (o->alerts || o->no_alerts)
		c.alerts = o->alerts;
	if (o->alert_postbox || o->no_alert_postbox)
		c.alert_postbox = o->alert_postbox;
	if (o->spf_aligned || o->no_spf_aligned)
		c.spf_aligned = o->spf_aligned;
	return c;
}

static void authority_add_options(GOptionContext *ctx, struct authority_opts *o,
				  int with_id)
{
	GOptionEntry entries[] = {
		{"id", 0, 0, G_OPTION_ARG_STRING, &o->id, "short id (lower case, digits, -)", "ID"},
		{"country", 0, 0, G_OPTION_ARG_STRING, &o->country, "ISO 3166-1 code (EU for the Commission)", "CC"},
		{"language", 0, 0, G_OPTION_ARG_STRING, &o->language, "language it is written to in (default en)", "LANG"},
		{"name", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->names, "name in a language (repeat)", "LANG=NAME"},
		{"area", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->areas, "legislative area (repeat or a,b)", "AREA"},
		{"postbox", 0, 0, G_OPTION_ARG_STRING, &o->postbox, "the authority's post-box address", "ADDR"},
		{"domain", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->domains, "mail domain registered for it (repeat)", "DOMAIN"},
		{"alerts", 0, 0, G_OPTION_ARG_NONE, &o->alerts, "grant alert access", NULL},
		{"no-alerts", 0, 0, G_OPTION_ARG_NONE, &o->no_alerts, "withdraw alert access", NULL},
		{"alert-postbox", 0, 0, G_OPTION_ARG_NONE, &o->alert_postbox, "its country's incoming alert post-box", NULL},
		{"no-alert-postbox", 0, 0, G_OPTION_ARG_NONE, &o->no_alert_postbox, "no longer the alert post-box", NULL},
		{"spf-aligned", 0, 0, G_OPTION_ARG_NONE, &o->spf_aligned, "accept SPF alignment instead of DKIM", NULL},
		{"no-spf-aligned", 0, 0, G_OPTION_ARG_NONE, &o->no_spf_aligned, "require DKIM again", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	g_option_context_add_main_entries(ctx, with_id ? entries : entries + 1, NULL);
}

struct authority_write {
	struct authority_opts *opts;
	const char *id;
	int create;
	char *summary;
};

static int authority_write_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct authority_write *w = ctx;
	struct directory_change c = authority_change(w->opts);

	return directory_authority_write(txn, w->id, w->create, &c, "operator", error_r);
}

static int authority_add_or_update(struct cli *cli, int argc, char **argv,
				   int create)
{
	struct authority_opts o = {0};
	struct authority_write w = {&o, NULL, create, NULL};
	GOptionContext *ctx;
	char *error = NULL;
	int ret;

	ctx = g_option_context_new(create ? "- register an authority"
					  : "ID - change an authority");
	g_option_context_set_description(ctx,
		create ? "Example:\n  imi authority add --id fr-cnom --country FR --language fr \\\n"
			 "    --name 'fr=Conseil national de l'\\''ordre des médecins' \\\n"
			 "    --name 'en=French Medical Council' --area professional-qualifications \\\n"
			 "    --postbox imi@cnom.fr --domain cnom.fr\n"
		       : "Only the options given change.  --alerts/--no-alerts grants or\n"
			 "withdraws alert access; --spf-aligned lets the authority's mail pass\n"
			 "on SPF alignment when its mail hosts cannot sign with DKIM.\n");
	authority_add_options(ctx, &o, create);
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	w.id = create ? o.id : (argc > 1 ? argv[1] : NULL);
	if (w.id == NULL) {
		ret = cli_fail(IMI_INVALID, g_strdup(create ? "--id is required"
							    : "which authority? imi authority update ID"));
		ret = EX_USAGE;
		goto out;
	}
	if (!directory_id_valid(w.id)) {
		ret = cli_fail(IMI_INVALID, g_strdup_printf(
			"malformed id '%s': 2-64 characters, lower-case letters, "
			"digits, '-', '.', '_'", w.id));
		goto out;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	if ((ret = store_transact(cli->store, authority_write_txn, &w, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	log_info(NULL, "authority %s %s", w.id, create ? "added" : "updated");
	printf("%s %s\n", create ? "added" : "updated", w.id);
out:
	authority_opts_free(&o);
	return ret;
}

static void authority_print(const struct authority *a, int verbose)
{
	GList *langs, *l;

	printf("%s\t%s\t%s\t%s%s%s%s\n", a->id, a->country, a->postbox,
	       a->disabled ? "disabled" : "active", a->alerts ? ",alerts" : "",
	       a->alert_postbox ? ",alert-postbox" : "", a->failing ? ",failing" : "");
	if (!verbose)
		return;
	if (a->failing != NULL)
		printf("  failing: %s\n", a->failing);
	printf("  language: %s\n", a->language);
	langs = g_list_sort(g_hash_table_get_keys(a->names), (GCompareFunc)strcmp);
	for (l = langs; l != NULL; l = l->next)
		printf("  name[%s]: %s\n", (char *)l->data,
		       (char *)g_hash_table_lookup(a->names, l->data));
	g_list_free(langs);
	printf("  areas:");
	for (char **p = a->areas; p != NULL && *p != NULL; p++)
		printf(" %s", *p);
	printf("\n  domains:");
	for (char **p = a->domains; p != NULL && *p != NULL; p++)
		printf(" %s", *p);
	printf("\n  authentication: %s\n", a->spf_aligned ? "DKIM or aligned SPF"
							: "aligned DKIM");
}

struct authority_list {
	const char *country;
	unsigned count;
};

static int authority_list_one(struct authority *a, void *ctx)
{
	struct authority_list *l = ctx;

	if (directory_match(a, l->country, NULL, NULL)) {
		authority_print(a, 0);
		l->count++;
	}
	return 0;
}

static int authority_list_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return directory_each(txn, authority_list_one, ctx, error_r);
}

struct authority_one {
	const char *id;
	int disable;
};

static int authority_show_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct authority_one *o = ctx;
	struct authority *a;
	int ret = store_authority_get(txn, o->id, &a, error_r);

	if (ret != IMI_OK)
		return ret;
	if (o->disable) {
		authority_free(&a);
		return directory_authority_disable(txn, o->id, "operator", error_r);
	} else {
		authority_print(a, 1);
	}
	authority_free(&a);
	return ret;
}

int cmd_authority(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	char *country = NULL, *error = NULL;
	GOptionContext *ctx;
	int ret;

	if (strcmp(sub, "add") == 0)
		return authority_add_or_update(cli, argc - 1, argv + 1, 1);
	if (strcmp(sub, "update") == 0)
		return authority_add_or_update(cli, argc - 1, argv + 1, 0);
	if (strcmp(sub, "list") == 0) {
		GOptionEntry e[] = {
			{"country", 0, 0, G_OPTION_ARG_STRING, &country, "only this country", "CC"},
			{NULL, 0, 0, 0, NULL, NULL, NULL}};
		struct authority_list l = {NULL, 0};
		ctx = g_option_context_new("- list authorities (id, country, post-box, state)");
		g_option_context_add_main_entries(ctx, e, NULL);
		argc--, argv++;
		ret = cli_parse(ctx, &argc, &argv);
		g_option_context_free(ctx);
		if (ret == 0 && (ret = cli_open(cli, 1)) == 0) {
			l.country = country;
			if ((ret = store_transact(cli->store, authority_list_txn, &l, &error)) != IMI_OK)
				ret = cli_fail(ret, error);
		}
		g_free(country);
		return ret;
	}
	if (strcmp(sub, "show") == 0 || strcmp(sub, "disable") == 0) {
		struct authority_one o = {NULL, strcmp(sub, "disable") == 0};
		ctx = g_option_context_new(o.disable ? "ID - disable an authority (it stays in the audit trail)"
						     : "ID - show an authority");
		argc--, argv++;
		ret = cli_parse(ctx, &argc, &argv);
		g_option_context_free(ctx);
		if (ret != 0)
			return ret;
		if (argc < 2) {
			fprintf(stderr, "imi: which authority? imi authority %s ID\n", sub);
			return EX_USAGE;
		}
		o.id = argv[1];
		if ((ret = cli_open(cli, 1)) != 0)
			return ret;
		if ((ret = store_transact(cli->store, authority_show_txn, &o, &error)) != IMI_OK)
			return cli_fail(ret, error);
		if (o.disable) {
			log_info(NULL, "authority %s disabled", o.id);
			printf("disabled %s\n", o.id);
		}
		return 0;
	}
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("Usage: imi authority add|list|show|update|disable [OPTIONS]\n"
		       "'imi authority add --help' and so on describe each.\n");
		return 0;
	}
	fprintf(stderr, "imi: authority add|list|show|update|disable (see imi authority --help)\n");
	return EX_USAGE;
}

/* Users. */
struct user_opts {
	char *id, *email, *authority, *name;
	char **roles;
	const char *filter;
	int disable;
};

static int user_add_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct user_opts *o = ctx;
	struct directory_user_new in = {o->email, o->authority,
					(const char *const *)o->roles, o->name, o->id};

	return directory_user_add(txn, &in, "operator", error_r);
}

static int user_list_step(const void *key, size_t len, const void *value,
			  size_t vlen, void *ctx)
{
	struct user_opts *o = ctx;
	JsonObject *obj;
	struct user *u;
	char *roles;

	if (store_record_parse(value, vlen, &obj, NULL) != IMI_OK)
		return 0;
	if (user_from_json(obj, &u, NULL) == IMI_OK) {
		if (o->filter == NULL || strcmp(o->filter, u->authority) == 0) {
			roles = g_strjoinv(",", u->roles);
			printf("%s\t%s\t%s\t%s%s%s\n", u->email, u->authority, roles,
			       u->disabled ? "disabled" : "active",
			       u->failing ? "\tfailing: " : "", u->failing ? u->failing : "");
			g_free(roles);
		}
		user_free(&u);
	}
	json_object_unref(obj);
	return 0;
}

static int user_list_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	return store_each(txn, STORE_USERS, NULL, 0, user_list_step, ctx, error_r);
}

static int user_disable_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct user_opts *o = ctx;

	return directory_user_disable(txn, o->id, "operator", error_r);
}

int cmd_user(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct user_opts o = {0};
	GOptionContext *ctx;
	char *error = NULL;
	int ret;

	if (strcmp(sub, "add") == 0) {
		GOptionEntry e[] = {
			{"email", 0, 0, G_OPTION_ARG_STRING, &o.email, "the user's address", "ADDR"},
			{"authority", 0, 0, G_OPTION_ARG_STRING, &o.authority, "authority id", "ID"},
			{"role", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.roles,
			 "handler, coordinator, alert_coordinator, alert_sender (repeat or a,b)", "ROLE"},
			{"name", 0, 0, G_OPTION_ARG_STRING, &o.name, "display name", "NAME"},
			{"id", 0, 0, G_OPTION_ARG_STRING, &o.id, "user id (default: the address)", "ID"},
			{NULL, 0, 0, 0, NULL, NULL, NULL}};
		ctx = g_option_context_new("- register a user of an authority");
		g_option_context_add_main_entries(ctx, e, NULL);
		argc--, argv++;
		ret = cli_parse(ctx, &argc, &argv);
		g_option_context_free(ctx);
		if (ret != 0)
			goto out;
		if (o.email == NULL || o.authority == NULL || o.roles == NULL) {
			fprintf(stderr, "imi: --email, --authority and --role are required\n");
			ret = EX_USAGE;
			goto out;
		}
		if (!imi_email_valid(o.email)) {
			ret = cli_fail(IMI_INVALID, g_strdup_printf("malformed address '%s'", o.email));
			goto out;
		}
		{
			char **roles = directory_split_list((const char *const *)o.roles);
			for (char **r = roles; *r != NULL; r++)
				if (!directory_role_valid(*r)) {
					ret = cli_fail(IMI_INVALID, g_strdup_printf(
						"unknown role '%s': handler, coordinator, "
						"alert_coordinator or alert_sender", *r));
					g_strfreev(roles);
					goto out;
				}
			g_strfreev(roles);
		}
		if ((ret = cli_open(cli, 1)) != 0)
			goto out;
		if ((ret = store_transact(cli->store, user_add_txn, &o, &error)) != IMI_OK) {
			ret = cli_fail(ret, error);
			goto out;
		}
		printf("added %s\n", o.email);
		goto out;
	}
	if (strcmp(sub, "list") == 0) {
		char *authority = NULL;
		GOptionEntry e[] = {
			{"authority", 0, 0, G_OPTION_ARG_STRING, &authority, "only this authority", "ID"},
			{NULL, 0, 0, 0, NULL, NULL, NULL}};
		ctx = g_option_context_new("- list users (address, authority, roles, state)");
		g_option_context_add_main_entries(ctx, e, NULL);
		argc--, argv++;
		ret = cli_parse(ctx, &argc, &argv);
		g_option_context_free(ctx);
		o.filter = authority;
		if (ret == 0 && (ret = cli_open(cli, 1)) == 0 &&
		    (ret = store_transact(cli->store, user_list_txn, &o, &error)) != IMI_OK)
			ret = cli_fail(ret, error);
		g_free(authority);
		return ret;
	}
	if (strcmp(sub, "disable") == 0) {
		ctx = g_option_context_new("ADDR|ID - disable a user");
		argc--, argv++;
		ret = cli_parse(ctx, &argc, &argv);
		g_option_context_free(ctx);
		if (ret != 0)
			return ret;
		if (argc < 2) {
			fprintf(stderr, "imi: which user? imi user disable ADDR\n");
			return EX_USAGE;
		}
		o.id = g_strdup(argv[1]);
		if ((ret = cli_open(cli, 1)) == 0 &&
		    (ret = store_transact(cli->store, user_disable_txn, &o, &error)) != IMI_OK)
			ret = cli_fail(ret, error);
		else if (ret == 0)
			printf("disabled %s\n", o.id);
		goto out;
	}
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("Usage: imi user add|list|disable [OPTIONS]\n"
		       "'imi user add --help' and so on describe each.\n");
		return 0;
	}
	fprintf(stderr, "imi: user add|list|disable (see imi user --help)\n");
	return EX_USAGE;
out:
	g_free(o.id);
	g_free(o.email);
	g_free(o.authority);
	g_free(o.name);
	g_strfreev(o.roles);
	return ret;
}

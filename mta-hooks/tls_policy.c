/*
 * tls_policy.c: the authority domains as a Postfix TLS policy table.
 */
#include "mta-hooks/tls_policy.h"

#include <string.h>

int tls_policy_level_valid(const char *level)
{
	static const char *const levels[] = {"encrypt", "dane", "dane-only", "verify", "secure"};

	for (unsigned i = 0; i < G_N_ELEMENTS(levels); i++)
		if (strcmp(level, levels[i]) == 0)
			return 1;
	return 0;
}

static void tls_policy_add(GTree *domains, const char *domain)
{
	if (domain == NULL || *domain == '\0')
		return;
	char *d = g_ascii_strdown(domain, -1);
	if (g_tree_lookup(domains, d) == NULL)
		g_tree_insert(domains, d, d);
	else
		g_free(d);
}

static int tls_policy_step(struct authority *a, void *ctx)
{
	GTree *domains = ctx;

	if (!a->disabled) {
		for (unsigned i = 0; a->domains != NULL && a->domains[i] != NULL; i++)
			tls_policy_add(domains, a->domains[i]);
		if (a->postbox != NULL)
			tls_policy_add(domains, imi_email_domain(a->postbox));
	}
	return 0;
}

struct tls_policy_walk {
	GTree *domains;
};

static int tls_policy_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct tls_policy_walk *w = ctx;

	/* A deadlock retry starts from an empty set. */
	g_tree_destroy(w->domains);
	w->domains = g_tree_new_full((GCompareDataFunc)(void (*)(void))strcmp, NULL, g_free, NULL);
	return directory_each(txn, tls_policy_step, w->domains, error_r);
}

struct tls_policy_out {
	const char *level;
	GString *out;
};

static gboolean tls_policy_line(gpointer key, gpointer value, gpointer ctx)
{
	struct tls_policy_out *o = ctx;

	g_string_append_printf(o->out, "%s %s\n", (const char *)key, o->level);
	return FALSE;
}

int tls_policy_write(struct store *store, const char *level, GString *out,
		     char **error_r)
{
	struct tls_policy_walk w = {g_tree_new((GCompareFunc)strcmp)};
	struct tls_policy_out o = {level, out};
	int ret;

	if (!tls_policy_level_valid(level)) {
		g_tree_destroy(w.domains);
		return imi_fail(error_r, IMI_INVALID,
				"TLS level %s: use encrypt, dane, dane-only, verify or secure", level);
	}
	ret = store_transact(store, tls_policy_txn, &w, error_r);
	if (ret == IMI_OK)
		g_tree_foreach(w.domains, tls_policy_line, &o);
	g_tree_destroy(w.domains);
	return ret;
}

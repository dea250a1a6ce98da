/*
 * cmd_directory.c: imi directory search|export
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

struct directory_query {
	const char *country, *area, *keyword, *format;
	GPtrArray *found; /* struct authority *, owned */
};

static int directory_collect(struct authority *a, void *ctx)
{
	struct directory_query *q = ctx;
	JsonObject *obj;

	if (a->disabled || !directory_match(a, q->country, q->area, q->keyword))
		return 0;
	/* directory_each frees a: keep a copy through JSON. */
	obj = authority_to_json(a);
	{
		struct authority *copy;
		if (authority_from_json(obj, &copy, NULL) == IMI_OK)
			g_ptr_array_add(q->found, copy);
	}
	json_object_unref(obj);
	return 0;
}

static int directory_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct directory_query *q = ctx;

	g_ptr_array_set_size(q->found, 0);
	return directory_search(txn, q->country, q->area, q->keyword, directory_collect, q,
				error_r);
}

static const char *directory_name(const struct authority *a)
{
	const char *n = g_hash_table_lookup(a->names, a->language);

	if (n == NULL)
		n = g_hash_table_lookup(a->names, "en");
	if (n == NULL) {
		GList *v = g_hash_table_get_values(a->names);
		n = v != NULL ? v->data : a->id;
		g_list_free(v);
	}
	return n;
}

static void csv_field(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *s);
	}
	g_string_append_c(out, '"');
}

/* vCard 4.0 (RFC 6350) text values: escape backslash, comma, semicolon,
 * newline. */
static void vcard_text(GString *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == ',' || *s == ';')
			g_string_append_c(out, '\\');
		if (*s == '\n') {
			g_string_append(out, "\\n");
			continue;
		}
		g_string_append_c(out, *s);
	}
}

static void directory_export(struct directory_query *q, GString *out)
{
	if (strcmp(q->format, "json") == 0) {
		JsonArray *arr = json_array_new();
		JsonNode *node = json_node_new(JSON_NODE_ARRAY);
		char *text;
		for (guint i = 0; i < q->found->len; i++) {
			JsonObject *o = authority_to_json(q->found->pdata[i]);
			json_object_remove_member(o, "v");
			json_array_add_object_element(arr, o);
		}
		json_node_take_array(node, arr);
		text = json_to_string(node, TRUE);
		g_string_append(out, text);
		g_string_append_c(out, '\n');
		g_free(text);
		json_node_unref(node);
	} else if (strcmp(q->format, "csv") == 0) {
		g_string_append(out, "id,country,language,name,postbox,areas,domains,alerts,alert_postbox\r\n");
		for (guint i = 0; i < q->found->len; i++) {
			struct authority *a = q->found->pdata[i];
			char *areas = g_strjoinv(";", a->areas);
			char *domains = g_strjoinv(";", a->domains);
			csv_field(out, a->id);
			g_string_append_c(out, ',');
			csv_field(out, a->country);
			g_string_append_c(out, ',');
			csv_field(out, a->language);
			g_string_append_c(out, ',');
			csv_field(out, directory_name(a));
			g_string_append_c(out, ',');
			csv_field(out, a->postbox);
			g_string_append_c(out, ',');
			csv_field(out, areas);
			g_string_append_c(out, ',');
			csv_field(out, domains);
			g_string_append_printf(out, ",%s,%s\r\n", a->alerts ? "yes" : "no",
					       a->alert_postbox ? "yes" : "no");
			g_free(areas);
			g_free(domains);
		}
	} else { /* vcard */
		for (guint i = 0; i < q->found->len; i++) {
			struct authority *a = q->found->pdata[i];
			GList *langs = g_list_sort(g_hash_table_get_keys(a->names),
						   (GCompareFunc)strcmp);
			g_string_append(out, "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:org\r\nFN:");
			vcard_text(out, directory_name(a));
			g_string_append(out, "\r\n");
			for (GList *l = langs; l != NULL; l = l->next) {
				g_string_append_printf(out, "ORG;LANGUAGE=%s:", (char *)l->data);
				vcard_text(out, g_hash_table_lookup(a->names, l->data));
				g_string_append(out, "\r\n");
			}
			g_list_free(langs);
			g_string_append_printf(out, "EMAIL;TYPE=work:%s\r\n", a->postbox);
			g_string_append_printf(out, "ADR;TYPE=work:;;;;;;%s\r\n", a->country);
			g_string_append_printf(out, "LANG:%s\r\nUID:urn:imi:authority:%s\r\n",
					       a->language, a->id);
			g_string_append(out, "CATEGORIES:");
			for (char **p = a->areas; p != NULL && *p != NULL; p++) {
				if (p != a->areas)
					g_string_append_c(out, ',');
				vcard_text(out, *p);
			}
			g_string_append(out, "\r\nEND:VCARD\r\n");
		}
	}
}

int cmd_directory(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct directory_query q = {0};
	char *country = NULL, *area = NULL, *format = NULL, *error = NULL;
	GOptionEntry e[] = {
		{"country", 0, 0, G_OPTION_ARG_STRING, &country, "only this country (ISO code)", "CC"},
		{"area", 0, 0, G_OPTION_ARG_STRING, &area, "only this legislative area", "AREA"},
		{"format", 0, 0, G_OPTION_ARG_STRING, &format, "export: json, csv or vcard", "FMT"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	GOptionContext *ctx;
	GString *out;
	int export, ret;

	if (strcmp(sub, "search") != 0 && strcmp(sub, "export") != 0) {
		if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
			printf("Usage: imi directory search [--country CC] [--area AREA] [KEYWORD...]\n"
			       "       imi directory export --format json|csv|vcard [--country CC] [--area AREA]\n");
			return 0;
		}
		fprintf(stderr, "imi: directory search|export (see imi directory --help)\n");
		return EX_USAGE;
	}
	export = strcmp(sub, "export") == 0;
	ctx = g_option_context_new(export ? "- export contact data of authorities"
					  : "[KEYWORD...] - search authorities");
	g_option_context_set_description(ctx, export
		? "Formats: json (every field), csv (RFC 4180, one line per authority),\n"
		  "vcard (vCard 4.0, one card per authority, names in every language).\n"
		: "KEYWORD matches names in any language, ids and post-box addresses,\n"
		  "without regard to case or accents ('arztekammer' finds 'Ärztekammer').\n");
	g_option_context_add_main_entries(ctx, e, NULL);
	argc--, argv++;
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (export && (format == NULL || (strcmp(format, "json") != 0 &&
					  strcmp(format, "csv") != 0 &&
					  strcmp(format, "vcard") != 0))) {
		fprintf(stderr, "imi: --format json, csv or vcard is required\n");
		ret = EX_USAGE;
		goto out;
	}
	if (country != NULL && !directory_country_valid(country)) {
		char *up = g_ascii_strup(country, -1);
		if (!directory_country_valid(up)) {
			ret = cli_fail(IMI_INVALID, g_strdup_printf("unknown country code '%s'", country));
			g_free(up);
			goto out;
		}
		g_free(country);
		country = up;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	q.country = country;
	q.area = area;
	q.keyword = argc > 1 ? g_strjoinv(" ", argv + 1) : NULL;
	q.format = format != NULL ? format : "json";
	q.found = g_ptr_array_new_with_free_func((GDestroyNotify)authority_free);
	/* authority_free takes T **; wrap through a small loop below instead. */
	g_ptr_array_set_free_func(q.found, NULL);
	ret = store_transact(cli->store, directory_txn, &q, &error);
	if (ret != IMI_OK) {
		ret = cli_fail(ret, error);
	} else {
		out = g_string_new(NULL);
		if (export) {
			directory_export(&q, out);
		} else {
			for (guint i = 0; i < q.found->len; i++) {
				struct authority *a = q.found->pdata[i];
				char *areas = g_strjoinv(",", a->areas);
				g_string_append_printf(out, "%s\t%s\t%s\t%s\t%s\n", a->id,
						       a->country, directory_name(a),
						       a->postbox, areas);
				g_free(areas);
			}
			if (q.found->len == 0)
				fprintf(stderr, "imi: no authority matches\n");
		}
		fwrite(out->str, 1, out->len, stdout);
		g_string_free(out, TRUE);
		ret = export || q.found->len > 0 ? 0 : 1;
	}
	for (guint i = 0; i < q.found->len; i++) {
		struct authority *a = q.found->pdata[i];
		authority_free(&a);
	}
	g_ptr_array_free(q.found, TRUE);
	g_free((char *)q.keyword);
out:
	g_free(country);
	g_free(area);
	g_free(format);
	return ret;
}

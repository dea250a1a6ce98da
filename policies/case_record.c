/*
 * case_record.c: helpers shared by request.c and alert.c.
 */
#include "policies/case_record.h"

#include "templates/catalog.h"

const char *case_str(JsonObject *obj, const char *member)
{
	return obj != NULL && json_object_has_member(obj, member)
		       ? json_object_get_string_member_with_default(obj, member, NULL)
		       : NULL;
}

int64_t case_int(JsonObject *obj, const char *member)
{
	return json_object_get_int_member_with_default(obj, member, 0);
}

JsonArray *case_array(JsonObject *obj, const char *member)
{
	if (!json_object_has_member(obj, member))
		json_object_set_array_member(obj, member, json_array_new());
	return json_object_get_array_member(obj, member);
}

char *case_key_id(const char *case_id)
{
	return g_strconcat("case:", case_id, NULL);
}

char *case_day(int64_t t)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(t);
	char *s = g_date_time_format(dt, "%Y-%m-%d");

	g_date_time_unref(dt);
	return s;
}

const char *case_language(const struct request_env *env, const struct authority *a)
{
	if (a != NULL && a->language != NULL &&
	    catalog_has_language(env->catalog, a->language))
		return a->language;
	return env->conf->language_default;
}

const char *case_authority_name(const struct authority *a, const char *lang)
{
	const char *name = NULL;

	if (a->names != NULL) {
		name = g_hash_table_lookup(a->names, lang);
		if (name == NULL)
			name = g_hash_table_lookup(a->names, "en");
		if (name == NULL && a->language != NULL)
			name = g_hash_table_lookup(a->names, a->language);
	}
	return name != NULL ? name : a->id;
}

/*
 * case_record: what the request and alert workflows share about a case
 * record (a JSON object in STORE_CASES) and the parties it names.
 *
 * Pure helpers: no store access, no allocation except where a function
 * says so (g_free the result).  A member that is absent reads as NULL or 0.
 */
#ifndef IMI_CASE_RECORD_H
#define IMI_CASE_RECORD_H

#include <json-glib/json-glib.h>
#include <stdint.h>

#include "policies/request.h"
#include "store/store.h"

const char *case_str(JsonObject *obj, const char *member);
int64_t case_int(JsonObject *obj, const char *member);
/* The array member, created empty when absent. */
JsonArray *case_array(JsonObject *obj, const char *member);
/* The key id that seals a case's personal data ("case:ID"; g_free). */
char *case_key_id(const char *case_id);
/* A day as YYYY-MM-DD, UTC (g_free). */
char *case_day(int64_t t);
/* The language an authority is written to in: its own when a catalog
 * exists for it, else the service default. */
const char *case_language(const struct request_env *env, const struct authority *a);
/* An authority's name in a language, else in English, else in its own
 * language, else its id. */
const char *case_authority_name(const struct authority *a, const char *lang);

#endif

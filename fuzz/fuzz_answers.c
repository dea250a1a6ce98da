/*
 * fuzz/fuzz_answers.c: parser/answers on any reply text, read against the
 * real question sets (the .ini files of templates/sets) with the [Words] of all 24
 * catalogs (templates/catalogs), as mta-hooks/inbound.c reads an answer.
 *
 * Input: two control bytes, then the text (fuzz_text: UTF-8 as
 * parser/message hands it on).
 *   byte 0  the set (modulo the number of sets); the replier's language
 *           (byte 0 / 4, modulo 25: one of the 24, or none)
 *   byte 1  bit 0: the text is "new text NUL full text" (both given as
 *           written); else the text is the full text and the new text is
 *           what reply_trim makes of it, as in imi deliver
 *           bits 1-2: attachments in the reply (0-3)
 *
 * Promises checked (answers.h): only IMI_TOOBIG may refuse; at most one
 * answer per question of the set, each naming a question of the set; raw
 * texts and values are valid UTF-8; a problem has a kind; the JSON form
 * can be written.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "parser/answers.h"
#include "parser/trim.h"
#include "templates/lang.h"

#define FUZZ_SETS 4
static const char *const set_files[FUZZ_SETS] = {
	"templates/sets/pq-general.ini", "templates/sets/pq-alert.ini",
	"templates/sets/sd-general.ini", "templates/sets/sd-alert.ini",
};
static struct qset *sets[FUZZ_SETS];
static struct catalog *catalog;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *error = NULL, *path;

	for (unsigned i = 0; i < FUZZ_SETS; i++) {
		path = fuzz_src_path(set_files[i]);
		if (qset_load_file(path, &sets[i], &error) != IMI_OK)
			fuzz_fail("cannot load %s: %s", path, error);
		g_free(path);
	}
	path = fuzz_src_path("templates/catalogs");
	if (catalog_open(path, &catalog, &error) != IMI_OK)
		fuzz_fail("cannot load the catalogs in %s: %s", path, error);
	g_free(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct answers_input in = {0};
	struct answers *answers = NULL;
	char *text, *new_text = NULL, *error = NULL, *json;
	const char *nul;
	unsigned lang;
	JsonNode *node;
	int ret;

	if (size < 2)
		return 0;
	in.qset = sets[data[0] % FUZZ_SETS];
	lang = (data[0] / 4) % (LANG_COUNT + 1);
	in.language = lang < LANG_COUNT ? lang_codes[lang] : NULL;
	in.attachments = (data[1] >> 1) & 3;
	in.catalog = catalog;
	if (data[1] & 1) {
		/* Two texts; each is decoded on its own. */
		nul = memchr(data + 2, '\0', size - 2);
		if (nul != NULL) {
			size_t n = (size_t)((const uint8_t *)nul - (data + 2));

			new_text = fuzz_text(data + 2, n);
			text = fuzz_text((const uint8_t *)nul + 1, size - 2 - n - 1);
		} else {
			new_text = fuzz_text(data + 2, size - 2);
			text = NULL;
		}
	} else {
		text = fuzz_text(data + 2, size - 2);
		if (reply_trim(text, strlen(text), strlen(text), 0, REPLY_TRIM_FULL,
			       &new_text, &error) != IMI_OK) {
			g_clear_pointer(&error, g_free);
			error = NULL;
			new_text = g_strdup("");
		}
	}
	in.new_text = new_text;
	in.full_text = text;

	ret = answers_extract(&in, &answers, &error);
	if (ret != IMI_OK) {
		if (ret != IMI_TOOBIG)
			fuzz_fail("answers_extract: status %d: %s", ret, error);
		g_clear_pointer(&error, g_free);
		goto out;
	}
	if (answers_count(answers) > qset_count(in.qset))
		fuzz_fail("%u answers to a set of %u questions",
			  answers_count(answers), qset_count(in.qset));
	for (unsigned i = 0; i < answers_count(answers); i++) {
		const struct answer *a = answers_get(answers, i);

		if (a == NULL || a->question == NULL)
			fuzz_fail("answer %u has no question", i);
		if (qset_find(in.qset, qset_question_code(a->question)) != a->question)
			fuzz_fail("answer %u is to a question not in the set", i);
		fuzz_check_utf8("raw answer", a->raw);
		fuzz_check_utf8("answer value", a->value);
	}
	for (unsigned i = 0; i < answers_problem_count(answers); i++) {
		const struct answer_problem *p = answers_problem(answers, i);

		if (p == NULL || p->kind == NULL || p->detail == NULL)
			fuzz_fail("problem %u without kind or detail", i);
		fuzz_check_utf8("problem detail", p->detail);
	}
	node = answers_to_json(answers);
	json = json_to_string(node, FALSE);
	if (json == NULL)
		fuzz_fail("answers_to_json wrote nothing");
	g_free(json);
	json_node_unref(node);
	answers_free(&answers);
out:
	g_free(text);
	g_free(new_text);
	return 0;
}

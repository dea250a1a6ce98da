/*
 * parse_bench: how fast imi reads replies, in one process.
 *
 * What it does: loads the given messages into memory, then repeats one
 * stage over all of them until the time given has passed (at least one
 * round), and prints one line: the stage, messages, rounds, seconds,
 * messages per second, MB per second (of message bytes) and the peak
 * resident set size of the process.  Stages:
 *   gmime    GMime's parser alone (g_mime_parser_construct_message): the
 *            floor the others are measured against
 *   parse    parser/message: parsed_message_read (MIME walk, charsets,
 *            HTML to text, attachments)
 *   trim     parse, then parser/trim on the text (reply_trim_message)
 *   answers  parser/answers alone, on texts parsed and trimmed beforehand,
 *            against the set of each message
 *   all      parse, trim and answers: what `imi parse answers` does
 *   each     trim, timed for each message on its own (SECONDS shared
 *            among the messages, each run at least once): one line a
 *            message, milliseconds a call and the file name, then the
 *            slowest; for inputs that could be pathological
 * For answers and all, each FILE.eml needs FILE.expected.json beside it
 * naming its "qset" and "lang" (tests/fixtures/replies); the sets are
 * read from SETDIR, the catalogs from CATDIR.
 *
 * Usage: parse_bench STAGE SECONDS [--sets SETDIR --catalogs CATDIR] FILE...
 *        a FILE "@LIST" reads file names from LIST, one a line.
 *
 * How it fails: prints the reason on stderr and exits 1 (an unreadable
 * file, a stage that fails on a message).
 */
#include <gmime/gmime.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "parser/answers.h"
#include "parser/message.h"
#include "parser/trim.h"
#include "templates/catalog.h"
#include "templates/qset.h"

#define BENCH_MAX_FILES 100000

struct item {
	char *name;
	char *data;
	size_t len;
	struct qset *qset;   /* answers, all */
	char *lang;
	char *new_text;      /* answers: prepared */
	char *full_text;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *error)
{
	fprintf(stderr, "parse_bench: %s: %s\n", what, error != NULL ? error : "failed");
	exit(1);
}

static void add_file(GArray *items, const char *path)
{
	struct item it = {0};
	GError *err = NULL;
	gsize len;

	if (items->len >= BENCH_MAX_FILES)
		die(path, "too many files");
	if (!g_file_get_contents(path, &it.data, &len, &err))
		die(path, err->message);
	it.len = len;
	it.name = g_strdup(path);
	g_array_append_val(items, it);
}

/* The set and language of FILE.eml from FILE.expected.json. */
static void add_expected(struct item *it, const char *path, const char *sets)
{
	char *base = g_str_has_suffix(path, ".eml") ? g_strndup(path, strlen(path) - 4)
						    : g_strdup(path);
	char *json = g_strconcat(base, ".expected.json", NULL), *set, *error = NULL;
	JsonParser *p = json_parser_new();
	GError *err = NULL;
	JsonObject *o;

	if (!json_parser_load_from_file(p, json, &err))
		die(json, err->message);
	o = json_node_get_object(json_parser_get_root(p));
	set = g_strdup_printf("%s/%s.ini", sets, json_object_get_string_member(o, "qset"));
	if (qset_load_file(set, &it->qset, &error) != IMI_OK)
		die(set, error);
	it->lang = g_strdup(json_object_get_string_member(o, "lang"));
	g_object_unref(p);
	g_free(set);
	g_free(json);
	g_free(base);
}

static void parse_trim(const struct item *it, int trim, char **new_r, char **full_r)
{
	struct parsed_message *msg = NULL;
	char *error = NULL, *text = NULL;

	if (parsed_message_read(it->data, it->len, NULL, &msg, &error) != IMI_OK)
		die("parse", error);
	if (trim && reply_trim_message(msg, REPLY_TRIM_FULL, &text, &error) != IMI_OK)
		die("trim", error);
	if (new_r != NULL)
		*new_r = text;
	else
		g_free(text);
	if (full_r != NULL)
		*full_r = g_strdup(parsed_message_text(msg, NULL));
	parsed_message_free(&msg);
}

static unsigned extract(const struct item *it, const struct catalog *catalog,
			const char *new_text, const char *full_text)
{
	struct answers_input in = {
		.qset = it->qset, .catalog = catalog, .new_text = new_text,
		.full_text = full_text, .language = it->lang,
	};
	struct answers *a = NULL;
	char *error = NULL;
	unsigned n;

	if (answers_extract(&in, &a, &error) != IMI_OK)
		die("answers", error);
	n = answers_count(a);
	answers_free(&a);
	return n;
}

int main(int argc, char **argv)
{
	const char *stage, *sets = NULL, *catdir = NULL;
	double seconds, start, elapsed;
	GArray *items = g_array_new(FALSE, TRUE, sizeof(struct item));
	struct catalog *catalog = NULL;
	char *error = NULL;
	unsigned long rounds = 0, answers = 0;
	size_t bytes = 0;
	struct rusage ru;
	int i = 3;

	if (argc < 4) {
		fprintf(stderr, "usage: parse_bench gmime|parse|trim|answers|all SECONDS "
				"[--sets DIR --catalogs DIR] FILE...\n");
		return 1;
	}
	stage = argv[1];
	seconds = atof(argv[2]);
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--sets") == 0)
			sets = argv[i + 1];
		else if (strcmp(argv[i], "--catalogs") == 0)
			catdir = argv[i + 1];
		else
			die(argv[i], "unknown option");
	}
	for (; i < argc; i++) {
		if (argv[i][0] == '@') {
			char *list, **names;
			GError *err = NULL;

			if (!g_file_get_contents(argv[i] + 1, &list, NULL, &err))
				die(argv[i] + 1, err->message);
			names = g_strsplit(list, "\n", -1);
			for (char **n = names; *n != NULL; n++)
				if (**n != '\0')
					add_file(items, *n);
			g_strfreev(names);
			g_free(list);
		} else {
			add_file(items, argv[i]);
			if (sets != NULL)
				add_expected(&g_array_index(items, struct item, items->len - 1),
					     argv[i], sets);
		}
	}
	if (items->len == 0)
		die("files", "none given");
	g_mime_init();
	if (strcmp(stage, "answers") == 0 || strcmp(stage, "all") == 0) {
		if (sets == NULL || catdir == NULL)
			die(stage, "needs --sets and --catalogs");
		if (catalog_open(catdir, &catalog, &error) != IMI_OK)
			die(catdir, error);
		if (strcmp(stage, "answers") == 0)
			for (guint k = 0; k < items->len; k++) {
				struct item *it = &g_array_index(items, struct item, k);
				parse_trim(it, 1, &it->new_text, &it->full_text);
			}
	} else if (strcmp(stage, "each") == 0) {
		double share = seconds / items->len, worst = 0, ms;
		const char *worst_name = "";

		for (guint k = 0; k < items->len; k++) {
			const struct item *it = &g_array_index(items, struct item, k);
			unsigned long n = 0;

			start = now();
			do {
				parse_trim(it, 1, NULL, NULL);
				n++;
			} while (now() - start < share);
			ms = (now() - start) * 1000.0 / n;
			printf("%.3f ms %s\n", ms, it->name);
			if (ms > worst) {
				worst = ms;
				worst_name = it->name;
			}
		}
		printf("slowest %.3f ms %s\n", worst, worst_name);
		return 0;
	} else if (strcmp(stage, "gmime") != 0 && strcmp(stage, "parse") != 0 &&
		   strcmp(stage, "trim") != 0) {
		die(stage, "unknown stage");
	}
	for (guint k = 0; k < items->len; k++)
		bytes += g_array_index(items, struct item, k).len;

	start = now();
	do {
		for (guint k = 0; k < items->len; k++) {
			const struct item *it = &g_array_index(items, struct item, k);

			if (strcmp(stage, "gmime") == 0) {
				GMimeStream *s = g_mime_stream_mem_new_with_buffer(it->data, it->len);
				GMimeParser *p = g_mime_parser_new_with_stream(s);
				GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

				if (m != NULL)
					g_object_unref(m);
				g_object_unref(p);
				g_object_unref(s);
			} else if (strcmp(stage, "parse") == 0) {
				parse_trim(it, 0, NULL, NULL);
			} else if (strcmp(stage, "trim") == 0) {
				parse_trim(it, 1, NULL, NULL);
			} else if (strcmp(stage, "answers") == 0) {
				answers += extract(it, catalog, it->new_text, it->full_text);
			} else {
				char *new_text = NULL, *full_text = NULL;

				parse_trim(it, 1, &new_text, &full_text);
				answers += extract(it, catalog, new_text, full_text);
				g_free(new_text);
				g_free(full_text);
			}
		}
		rounds++;
		elapsed = now() - start;
	} while (elapsed < seconds);

	getrusage(RUSAGE_SELF, &ru);
	printf("%-8s %6u msgs %6.1f KB avg %6lu rounds %6.2f s %9.0f msgs/s %7.1f MB/s",
	       stage, items->len, (double)bytes / items->len / 1024.0, rounds, elapsed,
	       (double)items->len * rounds / elapsed,
	       (double)bytes * rounds / elapsed / 1e6);
	if (answers > 0)
		printf(" %9.0f answers/s", (double)answers / elapsed);
	printf(" peak RSS %ld MB\n", ru.ru_maxrss / 1024);

	for (guint k = 0; k < items->len; k++) {
		struct item *it = &g_array_index(items, struct item, k);
		g_free(it->data);
		g_free(it->lang);
		g_free(it->new_text);
		g_free(it->full_text);
		qset_free(&it->qset);
	}
	g_array_free(items, TRUE);
	catalog_close(&catalog);
	g_mime_shutdown();
	return 0;
}

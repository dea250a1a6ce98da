/*
 * fuzz/replay.c: runs a fuzz target's LLVMFuzzerTestOneInput once on each
 * saved input, without libFuzzer, so that make check replays the seed
 * corpora and every past crash deterministically (and under the sanitizers
 * with SAN=1).
 *
 *   replay_<target> PATH...     files, or directories of files (not
 *                               recursive; names starting with '.' and
 *                               README* are skipped)
 *
 * Prints one line per path, "ok - <target> <path>: N inputs", or stops at
 * the first input that makes the target abort.  Exit 0 when every path was
 * read and at least one input replayed, 1 otherwise.
 */
#include <string.h>

#include "fuzz/fuzz.h"

#define REPLAY_MAX_INPUT_BYTES (64u * 1024 * 1024)
#define REPLAY_MAX_FILES 100000

static int replay_file(const char *path)
{
	GError *gerr = NULL;
	char *data;
	gsize len;

	if (!g_file_get_contents(path, &data, &len, &gerr)) {
		fprintf(stderr, "replay: %s\n", gerr->message);
		g_error_free(gerr);
		return -1;
	}
	if (len > REPLAY_MAX_INPUT_BYTES) {
		fprintf(stderr, "replay: %s: more than %u bytes\n", path,
			REPLAY_MAX_INPUT_BYTES);
		g_free(data);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	g_free(data);
	return 1;
}

static int name_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Inputs replayed from path, or -1. */
static int replay_path(const char *path)
{
	GPtrArray *names;
	GError *gerr = NULL;
	GDir *dir;
	const char *name;
	int n = 0;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return replay_file(path);
	if ((dir = g_dir_open(path, 0, &gerr)) == NULL) {
		fprintf(stderr, "replay: %s\n", gerr->message);
		g_error_free(gerr);
		return -1;
	}
	names = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(dir)) != NULL && names->len < REPLAY_MAX_FILES)
		if (name[0] != '.' && strncmp(name, "README", 6) != 0)
			g_ptr_array_add(names, g_build_filename(path, name, NULL));
	g_dir_close(dir);
	/* Sorted, so that a failure repeats in the same order. */
	g_ptr_array_sort(names, name_cmp);
	for (guint i = 0; i < names->len && n >= 0; i++) {
		const char *file = g_ptr_array_index(names, i);

		if (g_file_test(file, G_FILE_TEST_IS_DIR))
			continue;
		n = replay_file(file) < 0 ? -1 : n + 1;
	}
	g_ptr_array_free(names, TRUE);
	return n;
}

int main(int argc, char **argv)
{
	const char *target = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int total = 0, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		int n = replay_path(argv[i]);

		if (n < 0) {
			printf("not ok - %s %s: unreadable\n", target, argv[i]);
			bad++;
			continue;
		}
		printf("ok - %s %s: %d inputs\n", target, argv[i], n);
		total += n;
	}
	return bad == 0 && total > 0 ? 0 : 1;
}

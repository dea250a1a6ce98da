/*
 * qset_store.c: question sets in the store and in the data directory.
 */
#include "templates/qset_store.h"

#include <string.h>

int qset_id_valid(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > 64 || !g_ascii_isalnum(id[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_islower(id[i]) && !g_ascii_isdigit(id[i]) && id[i] != '-')
			return 0;
	return 1;
}

/* <datadir>/templates/<what> in a source tree, <datadir>/<what> installed. */
static char *qset_data_dir(const struct imi_conf *conf, const char *what)
{
	char *dir = g_build_filename(conf->datadir, "templates", what, NULL);

	if (g_file_test(dir, G_FILE_TEST_IS_DIR))
		return dir;
	g_free(dir);
	dir = g_build_filename(conf->datadir, what, NULL);
	if (g_file_test(dir, G_FILE_TEST_IS_DIR))
		return dir;
	g_free(dir);
	return g_build_filename(conf->datadir, "templates", what, NULL);
}

char *qset_file_path(const struct imi_conf *conf, const char *id)
{
	char *dir, *name, *path;

	if (!qset_id_valid(id))
		return NULL;
	dir = qset_data_dir(conf, "sets");
	name = g_strdup_printf("%s.ini", id);
	path = g_build_filename(dir, name, NULL);
	g_free(dir);
	g_free(name);
	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_free(path);
		return NULL;
	}
	return path;
}

char *qset_catalog_dir(const struct imi_conf *conf)
{
	return qset_data_dir(conf, "catalogs");
}

/* The last set read from the store, with its record as stored: asked for
 * again (one inbound message asks for its case's set twice), the same
 * record gives the same set without parsing its JSON and its text again. */
static GMutex qset_store_lock;
static char *qset_store_last_id;
static void *qset_store_last_value;
static size_t qset_store_last_len;
static struct qset *qset_store_last;

int qset_store_get(struct store_txn *txn, const char *id, struct qset **qset_r,
		   char **error_r)
{
	JsonObject *obj = NULL;
	const char *source;
	char *name;
	void *value = NULL;
	size_t len = 0;
	int ret;

	*qset_r = NULL;
	if (!qset_id_valid(id))
		return imi_fail(error_r, IMI_INVALID,
				"'%s' is not a question set id ([a-z0-9-])", id);
	ret = store_get(txn, STORE_QSETS, id, strlen(id), 0, &value, &len, error_r);
	if (ret != IMI_OK)
		return ret;
	g_mutex_lock(&qset_store_lock);
	if (qset_store_last != NULL && strcmp(qset_store_last_id, id) == 0 &&
	    qset_store_last_len == len &&
	    memcmp(qset_store_last_value, value, len) == 0) {
		*qset_r = qset_ref(qset_store_last);
		g_mutex_unlock(&qset_store_lock);
		g_free(value);
		return IMI_OK;
	}
	g_mutex_unlock(&qset_store_lock);
	ret = store_record_parse(value, len, &obj, error_r);
	if (ret != IMI_OK) {
		g_free(value);
		return ret;
	}
	source = json_object_has_member(obj, "source")
			 ? json_object_get_string_member(obj, "source") : NULL;
	if (source == NULL) {
		json_object_unref(obj);
		g_free(value);
		return imi_fail(error_r, IMI_INVALID,
				"stored question set %s has no source", id);
	}
	name = g_strdup_printf("store:%s", id);
	ret = qset_load_data(source, strlen(source), name, qset_r, error_r);
	g_free(name);
	json_object_unref(obj);
	if (ret != IMI_OK) {
		g_free(value);
		return ret;
	}
	g_mutex_lock(&qset_store_lock);
	qset_free(&qset_store_last);
	g_free(qset_store_last_id);
	g_free(qset_store_last_value);
	qset_store_last = qset_ref(*qset_r);
	qset_store_last_id = g_strdup(id);
	qset_store_last_value = value;
	qset_store_last_len = len;
	g_mutex_unlock(&qset_store_lock);
	return IMI_OK;
}

int qset_store_put(struct store_txn *txn, const struct qset *qset,
		   char **error_r)
{
	JsonObject *old = NULL, *obj;
	const char *id = qset_id(qset), *source = qset_source(qset, NULL);
	int ret;

	ret = store_record_get(txn, STORE_QSETS, id, STORE_GET_RMW, &old, error_r);
	if (ret == IMI_OK) {
		gint64 version = json_object_get_int_member(old, "version");
		const char *old_source = json_object_get_string_member(old, "source");
		int same = g_strcmp0(old_source, source) == 0;

		json_object_unref(old);
		if (same)
			return IMI_OK;
		if (version >= qset_version(qset))
			return imi_fail(error_r, IMI_EXISTS,
					"question set %s version %d is stored with "
					"other text; raise Version (stored: %lld)",
					id, qset_version(qset), (long long)version);
	} else if (ret != IMI_NOTFOUND) {
		return ret;
	}
	if (error_r != NULL) {
		g_free(*error_r);
		*error_r = NULL;
	}
	obj = json_object_new();
	json_object_set_int_member(obj, "v", STORE_SCHEMA_VERSION);
	json_object_set_string_member(obj, "id", id);
	json_object_set_int_member(obj, "version", qset_version(qset));
	json_object_set_string_member(obj, "source", source);
	ret = store_record_put(txn, STORE_QSETS, id, obj, 0, error_r);
	json_object_unref(obj);
	return ret;
}

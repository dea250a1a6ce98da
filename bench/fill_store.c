/*
 * fill_store.c: fills an imi home with many cases or authorities for the
 * scale benchmark (tools/bench/scale.sh, docs/performance.md).
 *
 *   fill_store HOME cases N WHEN [BATCH]
 *       creates N information requests between the authorities bench-a and
 *       bench-b (registered beforehand with imi authority add) through
 *       request_create, as `imi request new` does, with the clock set to
 *       WHEN (ISO-8601) so that their reminder timers fall due together;
 *       BATCH cases a transaction (default 500).  With the environment
 *       variable FILL_REPLY_TO naming a file, writes to it one line a case:
 *       the case id, a tab, and the reply address of bench-b for it (what
 *       its request e-mail carries in Reply-To).
 *   fill_store HOME authorities N [BATCH]
 *       registers N authorities (bench-000001 ...) through
 *       store_authority_put.
 *   fill_store HOME clones N WHEN [BATCH]
 *       the fast way to many cases: creates one case through request_create
 *       (as "cases" does), then N-1 more like it through the store API,
 *       each with what a case of its own needs: its next case number, its
 *       own key, its subject sealed with it, its case record, its request
 *       and status e-mails (the first case's, with the case id changed)
 *       sealed into the outbox, its timers and its audit entry.  What it
 *       leaves out is request_create's rendering and question-set work,
 *       which is the same for every case.  BATCH (default 5000) cases a
 *       transaction.
 *
 * cases, clones and authorities run with DB_TXN_NOSYNC (a DB_CONFIG file
 * in HOME/db for the time of the fill, removed at the end): commits do not
 * wait for the disk, and closing the store at the end writes everything.
 * Case ids are made in order, so keys go into the B-trees sorted.
 *
 * How it fails: prints the store's error text and exits 1.
 * What it trusts: HOME is a home made by imi init.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib/gstdio.h>

#include "conf/conf.h"
#include "parser/token.h"
#include "policies/case_record.h"
#include "policies/request.h"
#include "store/store.h"
#include "util/util.h"

#define FILL_MAX 10000000L /* bound on N */

#define FILL_MAX_MAILS 8 /* e-mails of the first case copied to each clone */

struct fill_mail {
	char *from, **to, *message_id;
	void *raw;
	size_t len;
};

struct fill {
	struct request_env *env;
	long from, to;      /* this transaction: [from, to) */
	const char *what;
	FILE *reply_to;     /* NULL: no list */
	/* clones: the first case, read back */
	char *first_id;
	char *first_record; /* its case record, JSON text */
	struct fill_mail mails[FILL_MAX_MAILS];
	unsigned n_mails;
	int64_t timer_when[FILL_MAX_MAILS];
	char *timer_kind[FILL_MAX_MAILS];
	unsigned n_timers;
};

/* A copy of text with every occurrence of from replaced by to. */
static char *fill_replace(const char *text, size_t len, const char *from, const char *to,
			  size_t *len_r)
{
	GString *out = g_string_sized_new(len + 64);
	size_t flen = strlen(from);
	const char *p = text, *end = text + len, *hit;

	while (p < end && (hit = memmem(p, (size_t)(end - p), from, flen)) != NULL) {
		g_string_append_len(out, p, hit - p);
		g_string_append(out, to);
		p = hit + flen;
	}
	g_string_append_len(out, p, end - p);
	if (len_r != NULL)
		*len_r = out->len;
	return g_string_free(out, FALSE);
}

/* One clone of the first case: id, key, sealed subject, record, mails,
 * timers, audit. */
static int fill_clone(struct store_txn *txn, struct fill *f, long i, char **error_r)
{
	char subject[64], *case_id = NULL, *key_id = NULL, *sealed = NULL, *record = NULL;
	char *detail = NULL;
	const char *p, *q;
	GString *rec;
	guint64 n;
	int ret;

	if ((ret = store_next(txn, "cases", &n, error_r)) != IMI_OK)
		return ret;
	if (n > 999999)
		return imi_fail(error_r, IMI_INVALID,
				"case number %" G_GUINT64_FORMAT " does not fit IMI-YYYY-NNNNNN", n);
	case_id = g_strdup_printf("%.9s%06" G_GUINT64_FORMAT, f->first_id, n);
	key_id = case_key_id(case_id);
	snprintf(subject, sizeof(subject), "Dr. Bench Person %ld", i);
	if ((ret = store_key_create(txn, key_id, error_r)) != IMI_OK ||
	    (ret = store_seal(txn, key_id, subject, strlen(subject), &sealed, error_r)) != IMI_OK)
		goto out;
	/* The record: the first case's, its id and sealed subject changed. */
	record = fill_replace(f->first_record, strlen(f->first_record), f->first_id, case_id, NULL);
	p = strstr(record, "\"sealed_subject\":\"");
	q = p != NULL ? strchr(p + 18, '"') : NULL;
	if (q == NULL) {
		ret = imi_fail(error_r, IMI_ERROR, "the first case has no sealed_subject");
		goto out;
	}
	rec = g_string_new_len(record, p + 18 - record);
	g_string_append(rec, sealed);
	g_string_append(rec, q);
	ret = store_put(txn, STORE_CASES, case_id, strlen(case_id), rec->str, rec->len,
			STORE_PUT_NEW, error_r);
	g_string_free(rec, TRUE);
	for (unsigned k = 0; ret == IMI_OK && k < f->n_mails; k++) {
		const struct fill_mail *m = &f->mails[k];
		size_t len;
		char *raw = fill_replace(m->raw, m->len, f->first_id, case_id, &len);
		char *mid = fill_replace(m->message_id, strlen(m->message_id), f->first_id, case_id,
					 NULL);

		ret = outbox_put(txn, case_id, m->from, (const char *const *)m->to, mid, raw, len,
				 NULL, error_r);
		g_free(raw);
		g_free(mid);
	}
	for (unsigned k = 0; ret == IMI_OK && k < f->n_timers; k++)
		ret = store_timer_set(txn, f->timer_when[k], case_id, f->timer_kind[k], error_r);
	if (ret == IMI_OK) {
		detail = g_strdup_printf("to=bench-b qset=pq-general clone-of=%s", f->first_id);
		ret = store_audit(txn, "bench-a", case_id, "request.create", detail, error_r);
	}
out:
	g_free(detail);
	g_free(record);
	g_free(sealed);
	g_free(key_id);
	g_free(case_id);
	return ret;
}

static int fill_outbox_read(struct store_txn *txn, struct fill *f, char **error_r)
{
	for (guint64 seq = 1; f->n_mails < FILL_MAX_MAILS; seq++) {
		struct outbox_item *item = NULL;
		struct fill_mail *m = &f->mails[f->n_mails];
		int ret = outbox_read(txn, seq, &item, &m->raw, &m->len, error_r);

		if (ret == IMI_NOTFOUND) {
			g_clear_pointer(error_r, g_free);
			return IMI_OK;
		}
		if (ret != IMI_OK)
			return ret;
		if (strcmp(item->case_id, f->first_id) == 0) {
			m->from = g_strdup(item->from);
			m->to = g_strdupv(item->to);
			m->message_id = g_strdup(item->message_id);
			f->n_mails++;
		} else
			g_free(m->raw);
		outbox_item_free(&item);
	}
	return IMI_OK;
}

/* Reads back the first case: its record, its e-mails, its timers. */
static int fill_first_read(struct store_txn *txn, void *ctx, char **error_r)
{
	struct fill *f = ctx;
	void *value = NULL;
	size_t len;
	JsonObject *obj = NULL;
	JsonArray *timers;
	int ret;

	if ((ret = store_get(txn, STORE_CASES, f->first_id, strlen(f->first_id), 0, &value, &len,
			     error_r)) != IMI_OK)
		return ret;
	f->first_record = g_strndup(value, len);
	ret = store_record_parse(value, len, &obj, error_r);
	g_free(value);
	if (ret != IMI_OK)
		return ret;
	timers = json_object_has_member(obj, "timers") ? json_object_get_array_member(obj, "timers")
						       : NULL;
	for (guint k = 0; timers != NULL && k < json_array_get_length(timers) &&
			  f->n_timers < FILL_MAX_MAILS; k++) {
		JsonObject *t = json_array_get_object_element(timers, k);

		f->timer_when[f->n_timers] = json_object_get_int_member(t, "when");
		f->timer_kind[f->n_timers] = g_strdup(json_object_get_string_member(t, "kind"));
		f->n_timers++;
	}
	json_object_unref(obj);
	return fill_outbox_read(txn, f, error_r);
}

static const char *const areas[] = {"professional-qualifications", "services",
				    "posting-of-workers", "patients-rights"};
static const char *const countries[] = {"AT", "BE", "DE", "ES", "FR", "IT",
					"NL", "PL", "PT", "SE"};

static int fill_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct fill *f = ctx;
	long i;
	int ret = IMI_OK;

	for (i = f->from; i < f->to && ret == IMI_OK; i++) {
		if (strcmp(f->what, "clones") == 0 && i > 0) {
			ret = fill_clone(txn, f, i, error_r);
		} else if (strcmp(f->what, "cases") == 0 || strcmp(f->what, "clones") == 0) {
			char subject[64], *case_id = NULL;
			struct request_new in = {
				.requester = "bench-a", .responder = "bench-b",
				.qset_id = "pq-general", .subject = subject,
				.user = NULL, .deadline = NULL};

			snprintf(subject, sizeof(subject), "Dr. Bench Person %ld", i);
			ret = request_create(txn, f->env, &in, &case_id, error_r);
			if (ret == IMI_OK && strcmp(f->what, "clones") == 0) {
				g_free(f->first_id);
				f->first_id = g_strdup(case_id);
			}
			if (ret == IMI_OK && f->reply_to != NULL) {
				char *ref = g_ascii_strdown(case_id, -1), *addr = NULL;

				ret = token_address(f->env->token_key, f->env->conf->service_local, '+',
						    f->env->conf->service_domain, ref, "bench-b", "reply",
						    token_day(imi_now()) + f->env->conf->token_lifetime_days,
						    &addr, error_r);
				if (ret == IMI_OK)
					fprintf(f->reply_to, "%s\t%s\n", case_id, addr);
				g_free(addr);
				g_free(ref);
			}
			g_free(case_id);
		} else {
			char id[32], name[64], postbox[64], domain[48];
			char *area_list[2] = {(char *)areas[i % 4], NULL};
			char *domain_list[2] = {domain, NULL};
			struct authority a = {0};

			snprintf(id, sizeof(id), "bench-%06ld", i);
			snprintf(name, sizeof(name), "Authority number %ld", i);
			snprintf(domain, sizeof(domain), "a%06ld.example", i);
			snprintf(postbox, sizeof(postbox), "imi@%s", domain);
			a.id = id;
			a.country = (char *)countries[i % 10];
			a.language = "en";
			a.names = g_hash_table_new(g_str_hash, g_str_equal);
			g_hash_table_insert(a.names, "en", name);
			a.areas = area_list;
			a.postbox = postbox;
			a.domains = domain_list;
			a.created = imi_now();
			ret = store_authority_put(txn, &a, STORE_PUT_NEW, error_r);
			g_hash_table_destroy(a.names);
		}
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct imi_conf *conf = NULL;
	struct store *store = NULL;
	struct fill f = {0};
	char *error = NULL;
	long n, batch = 500;
	int ret, cases, remove_config = 0;
	char *db_config;
	struct timespec t0, t1;

	if (argc < 4 || (strcmp(argv[2], "cases") != 0 && strcmp(argv[2], "clones") != 0 &&
			 strcmp(argv[2], "authorities") != 0)) {
		fprintf(stderr, "usage: fill_store HOME cases|clones N WHEN [BATCH] | "
			"fill_store HOME authorities N [BATCH]\n");
		return 2;
	}
	cases = strcmp(argv[2], "authorities") != 0;
	if (strcmp(argv[2], "clones") == 0)
		batch = 5000;
	if (cases && argc < 5) {
		fprintf(stderr, "fill_store: cases needs WHEN (ISO-8601)\n");
		return 2;
	}
	n = strtol(argv[3], NULL, 10);
	if (argc > 4 + cases)
		batch = strtol(argv[4 + cases], NULL, 10);
	if (n < 0 || n > FILL_MAX || batch < 1) {
		fprintf(stderr, "fill_store: N in 0..%ld, BATCH >= 1\n", FILL_MAX);
		return 2;
	}
	if (cases) {
		int64_t when;

		if (imi_time_parse(argv[4], &when) != IMI_OK) {
			fprintf(stderr, "fill_store: %s is not an ISO-8601 time\n", argv[4]);
			return 2;
		}
		imi_time_set_now(when);
	}
	f.what = argv[2];
	if (cases && g_getenv("FILL_REPLY_TO") != NULL &&
	    (f.reply_to = fopen(g_getenv("FILL_REPLY_TO"), "w")) == NULL) {
		fprintf(stderr, "fill_store: cannot write %s\n", g_getenv("FILL_REPLY_TO"));
		return 1;
	}
	/* No waiting for the disk at each commit, for this process only. */
	db_config = g_build_filename(argv[1], "db", "DB_CONFIG", NULL);
	if (!g_file_test(db_config, G_FILE_TEST_EXISTS) &&
	    g_file_set_contents(db_config, "set_flags DB_TXN_NOSYNC\n", -1, NULL))
		remove_config = 1;
	if ((ret = conf_load(argv[1], &conf, &error)) != IMI_OK ||
	    (ret = store_open(argv[1], 0, &store, &error)) != IMI_OK ||
	    (cases && (ret = request_env_open(conf, &f.env, &error)) != IMI_OK))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (strcmp(f.what, "clones") == 0 && n > 0) {
		/* The first case through request_create, read back. */
		f.from = 0;
		f.to = 1;
		if ((ret = store_transact(store, fill_txn, &f, &error)) != IMI_OK ||
		    (ret = store_transact(store, fill_first_read, &f, &error)) != IMI_OK)
			goto out;
	}
	for (f.from = f.to; f.from < n; f.from = f.to) {
		f.to = f.from + batch < n ? f.from + batch : n;
		if ((ret = store_transact(store, fill_txn, &f, &error)) != IMI_OK)
			goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%ld %s in %.1f s\n", n, f.what,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
	if (ret != IMI_OK)
		fprintf(stderr, "fill_store: %s\n", error != NULL ? error : "failed");
	g_free(error);
	if (f.reply_to != NULL && fclose(f.reply_to) != 0 && ret == IMI_OK) {
		fprintf(stderr, "fill_store: writing the reply addresses failed\n");
		ret = IMI_TEMPFAIL;
	}
	request_env_close(&f.env);
	store_close(&store);
	if (remove_config)
		g_unlink(db_config);
	g_free(db_config);
	conf_free(&conf);
	g_free(f.first_id);
	g_free(f.first_record);
	for (unsigned k = 0; k < f.n_mails; k++) {
		g_free(f.mails[k].from);
		g_strfreev(f.mails[k].to);
		g_free(f.mails[k].message_id);
		g_free(f.mails[k].raw);
	}
	for (unsigned k = 0; k < f.n_timers; k++)
		g_free(f.timer_kind[k]);
	return ret == IMI_OK ? 0 : 1;
}

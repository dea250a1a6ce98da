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
 *
 * How it fails: prints the store's error text and exits 1.
 * What it trusts: HOME is a home made by imi init.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "parser/token.h"
#include "policies/request.h"
#include "store/store.h"
#include "util/util.h"

#define FILL_MAX 10000000L /* bound on N */

struct fill {
	struct request_env *env;
	long from, to;      /* this transaction: [from, to) */
	const char *what;
	FILE *reply_to;     /* NULL: no list */
};

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
		if (strcmp(f->what, "cases") == 0) {
			char subject[64], *case_id = NULL;
			struct request_new in = {
				.requester = "bench-a", .responder = "bench-b",
				.qset_id = "pq-general", .subject = subject,
				.user = NULL, .deadline = NULL};

			snprintf(subject, sizeof(subject), "Dr. Bench Person %ld", i);
			ret = request_create(txn, f->env, &in, &case_id, error_r);
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
	int ret, cases;
	struct timespec t0, t1;

	if (argc < 4 || (strcmp(argv[2], "cases") != 0 && strcmp(argv[2], "authorities") != 0)) {
		fprintf(stderr, "usage: fill_store HOME cases N WHEN [BATCH] | "
			"fill_store HOME authorities N [BATCH]\n");
		return 2;
	}
	cases = strcmp(argv[2], "cases") == 0;
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
	if ((ret = conf_load(argv[1], &conf, &error)) != IMI_OK ||
	    (ret = store_open(argv[1], 0, &store, &error)) != IMI_OK ||
	    (cases && (ret = request_env_open(conf, &f.env, &error)) != IMI_OK))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (f.from = 0; f.from < n; f.from = f.to) {
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
	conf_free(&conf);
	return ret == IMI_OK ? 0 : 1;
}

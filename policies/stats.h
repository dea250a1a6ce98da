/*
 * stats: the yearly figures of the information requests (seed 001, tables
 * "requests sent per quarter and by legislative area" and "time needed to
 * deal with a request").
 *
 * What it does: walks the request cases (kind "request"; alerts are not
 * counted) and counts, for the requests created in one year (UTC):
 *   - per legislative area (the area of the case's question set) and
 *     quarter, the requests sent;
 *   - the time from sending to acceptance and to the first answer (the
 *     first "accept" and "answer" entries of the case's history), in the
 *     bands within 3 days, 1 week, 2 weeks, 4 weeks, 8 weeks, more.
 * It reads only the unsealed members of a case (ids, times, history), so
 * no personal data reaches the figures.
 *
 * How it fails: store errors as the store gives them; a case record it
 * cannot parse is skipped and counted in `skipped`.
 */
#ifndef IMI_STATS_H
#define IMI_STATS_H

#include <stdint.h>

#include "store/store.h"

#define STATS_BANDS 6            /* 3d, 1w, 2w, 4w, 8w, more */
#define STATS_MAX_AREAS 64       /* distinct areas counted */
#define STATS_MAX_CASES 10000000 /* case records looked at */
#define STATS_MAX_HISTORY 1000    /* history entries read per case */

struct stats_area {
	char *area;
	unsigned quarter[4];
};

struct stats {
	int year;
	struct stats_area areas[STATS_MAX_AREAS];
	unsigned n_areas;
	unsigned accepted[STATS_BANDS];
	unsigned answered[STATS_BANDS];
	unsigned requests;
	unsigned skipped;
};

/* Upper bounds of the bands in seconds (the last is unbounded: 0). */
extern const int64_t stats_band_limit[STATS_BANDS];
extern const char *const stats_band_name[STATS_BANDS];

/* The band of a duration in seconds. */
unsigned stats_band(int64_t seconds);

int stats_collect(struct store_txn *txn, int year, struct stats *st, char **error_r);
void stats_clear(struct stats *st);

#endif

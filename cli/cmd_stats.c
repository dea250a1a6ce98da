/*
 * cmd_stats.c: imi stats — requests per quarter by legislative area, and
 * the time to accept and to answer them (policies/stats.h), as text, CSV,
 * JSON or HTML.  No personal data: only counts.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "policies/stats.h"

struct stats_cmd {
	int year;
	struct stats st;
};

static int stats_txn(struct store_txn *txn, void *ctx, char **error_r)
{
	struct stats_cmd *sc = ctx;

	stats_clear(&sc->st);
	return stats_collect(txn, sc->year, &sc->st, error_r);
}

static double cumulative(const unsigned *counts, unsigned upto)
{
	unsigned total = 0, sum = 0;

	for (unsigned i = 0; i < STATS_BANDS; i++)
		total += counts[i];
	for (unsigned i = 0; i <= upto; i++)
		sum += counts[i];
	return total ? 100.0 * sum / total : 0.0;
}

static unsigned total_of(const unsigned *counts)
{
	unsigned t = 0;

	for (unsigned i = 0; i < STATS_BANDS; i++)
		t += counts[i];
	return t;
}

static char *html_escape(const char *s)
{
	return g_markup_escape_text(s, -1);
}

static void print_text(const struct stats *st)
{
	printf("Requests sent per quarter and by legislative area, %d\n", st->year);
	printf("%-32s %6s %6s %6s %6s %7s\n", "Area", "Q1", "Q2", "Q3", "Q4", "Total");
	for (unsigned a = 0; a < st->n_areas; a++) {
		const unsigned *q = st->areas[a].quarter;
		printf("%-32s %6u %6u %6u %6u %7u\n", st->areas[a].area, q[0], q[1], q[2], q[3],
		       q[0] + q[1] + q[2] + q[3]);
	}
	printf("\nTime needed to deal with a request, %d\n", st->year);
	printf("%-20s %10s %12s %10s %12s\n", "", "Accepted", "Cumulative %", "Answered",
	       "Cumulative %");
	for (unsigned b = 0; b < STATS_BANDS; b++)
		printf("%-20s %10u %11.1f%% %10u %11.1f%%\n", stats_band_name[b], st->accepted[b],
		       cumulative(st->accepted, b), st->answered[b], cumulative(st->answered, b));
	printf("%-20s %10u %12s %10u\n", "Total", total_of(st->accepted), "",
	       total_of(st->answered));
}

static void print_csv(const struct stats *st)
{
	printf("table,row,q1,q2,q3,q4,total\n");
	for (unsigned a = 0; a < st->n_areas; a++) {
		const unsigned *q = st->areas[a].quarter;
		printf("requests,\"%s\",%u,%u,%u,%u,%u\n", st->areas[a].area, q[0], q[1], q[2],
		       q[3], q[0] + q[1] + q[2] + q[3]);
	}
	printf("table,band,accepted,accepted_cumulative_pct,answered,answered_cumulative_pct\n");
	for (unsigned b = 0; b < STATS_BANDS; b++)
		printf("time,%s,%u,%.1f,%u,%.1f\n", stats_band_name[b], st->accepted[b],
		       cumulative(st->accepted, b), st->answered[b], cumulative(st->answered, b));
}

static void print_json(const struct stats *st)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *g = json_generator_new();
	JsonNode *root;
	char *text;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "year");
	json_builder_add_int_value(b, st->year);
	json_builder_set_member_name(b, "requests");
	json_builder_begin_array(b);
	for (unsigned a = 0; a < st->n_areas; a++) {
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "area");
		json_builder_add_string_value(b, st->areas[a].area);
		json_builder_set_member_name(b, "quarters");
		json_builder_begin_array(b);
		for (unsigned q = 0; q < 4; q++)
			json_builder_add_int_value(b, st->areas[a].quarter[q]);
		json_builder_end_array(b);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "time");
	json_builder_begin_array(b);
	for (unsigned i = 0; i < STATS_BANDS; i++) {
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "band");
		json_builder_add_string_value(b, stats_band_name[i]);
		json_builder_set_member_name(b, "accepted");
		json_builder_add_int_value(b, st->accepted[i]);
		json_builder_set_member_name(b, "accepted_cumulative_pct");
		json_builder_add_double_value(b, cumulative(st->accepted, i));
		json_builder_set_member_name(b, "answered");
		json_builder_add_int_value(b, st->answered[i]);
		json_builder_set_member_name(b, "answered_cumulative_pct");
		json_builder_add_double_value(b, cumulative(st->answered, i));
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	text = json_generator_to_data(g, NULL);
	printf("%s\n", text);
	g_free(text);
	json_node_unref(root);
	g_object_unref(g);
	g_object_unref(b);
}

/* The HTML report's charts: inline SVG, no script and nothing fetched,
 * so the file shows the same in any browser, offline, and prints.  Bars
 * are horizontal, CHART_BAR_MAX pixels for the largest value; each <rect
 * class="bar"> carries its figure in data-value.  The colours are the
 * ones tests/integration/stats-browser.sh looks for on the screen. */
#define CHART_LABEL_WIDTH 200 /* left column: the row's name */
#define CHART_BAR_MAX 360     /* pixels of the longest bar */
#define CHART_ROW 24          /* pixels per row of the area chart */
#define CHART_BAR 16          /* bar thickness */
#define CHART_COLOUR_AREA "#1f5fa8"
#define CHART_COLOUR_ACCEPTED "#2e8b57"
#define CHART_COLOUR_ANSWERED "#c0392b"

static void html_bar(const char *cls, const char *colour, unsigned y, unsigned width,
		     const char *value)
{
	printf("<rect class=\"bar %s\" x=\"%d\" y=\"%u\" width=\"%u\" height=\"%d\" "
	       "fill=\"%s\" data-value=\"%s\"/>"
	       "<text x=\"%u\" y=\"%u\" font-size=\"12\">%s</text>\n",
	       cls, CHART_LABEL_WIDTH, y, width, CHART_BAR, colour, value,
	       CHART_LABEL_WIDTH + width + 6, y + CHART_BAR - 4, value);
}

static void html_chart_areas(const struct stats *st)
{
	unsigned max = 0, height = (st->n_areas > 0 ? st->n_areas : 1) * CHART_ROW + 8;

	for (unsigned a = 0; a < st->n_areas; a++) {
		const unsigned *q = st->areas[a].quarter;
		max = MAX(max, q[0] + q[1] + q[2] + q[3]);
	}
	printf("<figure>\n<svg id=\"chart-areas\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
	       "width=\"%d\" height=\"%u\" role=\"img\"><title>Requests sent by legislative area, "
	       "%d</title>\n", CHART_LABEL_WIDTH + CHART_BAR_MAX + 60, height, st->year);
	for (unsigned a = 0; a < st->n_areas; a++) {
		const unsigned *q = st->areas[a].quarter;
		unsigned total = q[0] + q[1] + q[2] + q[3], y = 4 + a * CHART_ROW;
		char *area = html_escape(st->areas[a].area), *value = g_strdup_printf("%u", total);

		printf("<text x=\"0\" y=\"%u\" font-size=\"12\">%s</text>", y + CHART_BAR - 4, area);
		html_bar("area", CHART_COLOUR_AREA, y,
			 max ? (unsigned)((double)CHART_BAR_MAX * total / max + 0.5) : 0, value);
		g_free(value);
		g_free(area);
	}
	printf("</svg>\n<figcaption>Requests sent by legislative area in %d (bar: the year's "
	       "total).</figcaption>\n</figure>\n", st->year);
}

static void html_chart_time(const struct stats *st)
{
	unsigned row = 2 * CHART_BAR + 8;

	printf("<figure>\n<svg id=\"chart-time\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
	       "width=\"%d\" height=\"%u\" role=\"img\"><title>Requests accepted and answered "
	       "within each time, cumulative %%, %d</title>\n",
	       CHART_LABEL_WIDTH + CHART_BAR_MAX + 60, STATS_BANDS * row + 8, st->year);
	for (unsigned b = 0; b < STATS_BANDS; b++) {
		unsigned y = 4 + b * row;
		double acc = cumulative(st->accepted, b), ans = cumulative(st->answered, b);
		char *va = g_strdup_printf("%.1f%%", acc), *vn = g_strdup_printf("%.1f%%", ans);

		printf("<text x=\"0\" y=\"%u\" font-size=\"12\">%s</text>", y + CHART_BAR + 4,
		       stats_band_name[b]);
		html_bar("accepted", CHART_COLOUR_ACCEPTED, y,
			 (unsigned)(CHART_BAR_MAX * acc / 100.0 + 0.5), va);
		html_bar("answered", CHART_COLOUR_ANSWERED, y + CHART_BAR,
			 (unsigned)(CHART_BAR_MAX * ans / 100.0 + 0.5), vn);
		g_free(va);
		g_free(vn);
	}
	printf("</svg>\n<figcaption>Requests accepted (<span style=\"color:%s\">&#9632;</span>) "
	       "and answered (<span style=\"color:%s\">&#9632;</span>) within each time, "
	       "cumulative %%.</figcaption>\n</figure>\n",
	       CHART_COLOUR_ACCEPTED, CHART_COLOUR_ANSWERED);
}

static void print_html(const struct stats *st)
{
	printf("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>IMI statistics %d"
	       "</title>\n<style>body{font-family:sans-serif;background:#fff;color:#000}"
	       "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;"
	       "padding:2px 8px}figure{margin:1em 0}</style></head><body>\n", st->year);
	printf("<table>\n<caption>Requests sent per quarter and by legislative area, %d</caption>\n"
	       "<tr><th>Area</th><th>Q1</th><th>Q2</th><th>Q3</th><th>Q4</th><th>Total</th></tr>\n",
	       st->year);
	for (unsigned a = 0; a < st->n_areas; a++) {
		const unsigned *q = st->areas[a].quarter;
		char *area = html_escape(st->areas[a].area);
		printf("<tr><td>%s</td><td>%u</td><td>%u</td><td>%u</td><td>%u</td><td>%u</td></tr>\n",
		       area, q[0], q[1], q[2], q[3], q[0] + q[1] + q[2] + q[3]);
		g_free(area);
	}
	printf("</table>\n");
	html_chart_areas(st);
	printf("<table>\n<caption>Time needed to deal with a request, %d</caption>\n"
	       "<tr><th></th><th>Requests accepted</th><th>Cumulative %%</th>"
	       "<th>Requests answered</th><th>Cumulative %%</th></tr>\n", st->year);
	for (unsigned b = 0; b < STATS_BANDS; b++)
		printf("<tr><td>%s</td><td>%u</td><td>%.1f%%</td><td>%u</td><td>%.1f%%</td></tr>\n",
		       stats_band_name[b], st->accepted[b], cumulative(st->accepted, b),
		       st->answered[b], cumulative(st->answered, b));
	printf("<tr><td>Total</td><td>%u</td><td></td><td>%u</td><td></td></tr>\n</table>\n",
	       total_of(st->accepted), total_of(st->answered));
	html_chart_time(st);
	printf("</body></html>\n");
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	char *format = NULL, *error = NULL;
	int year = 0;
	GOptionEntry e[] = {
		{"year", 0, 0, G_OPTION_ARG_INT, &year, "the year (default: this year, UTC)", "Y"},
		{"format", 0, 0, G_OPTION_ARG_STRING, &format, "text (default), csv, json or html", "F"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	struct stats_cmd sc = {0};
	GOptionContext *ctx = g_option_context_new("- request statistics of a year");
	int ret;

	g_option_context_set_description(ctx,
		"Requests sent per quarter and by legislative area (the area of the\n"
		"request's question set), and the time from sending to acceptance and\n"
		"to the first answer, in the bands within 3 days, 1 week, 2 weeks,\n"
		"4 weeks, 8 weeks and more, with cumulative percentages.  Only counts:\n"
		"no personal data.\n");
	g_option_context_add_main_entries(ctx, e, NULL);
	ret = cli_parse(ctx, &argc, &argv);
	g_option_context_free(ctx);
	if (ret != 0)
		goto out;
	if (format != NULL && strcmp(format, "text") != 0 && strcmp(format, "csv") != 0 &&
	    strcmp(format, "json") != 0 && strcmp(format, "html") != 0) {
		fprintf(stderr, "imi: --format is text, csv, json or html\n");
		ret = EX_USAGE;
		goto out;
	}
	if (year == 0) {
		GDateTime *now = g_date_time_new_from_unix_utc(imi_now());
		year = g_date_time_get_year(now);
		g_date_time_unref(now);
	}
	if (year < 1970 || year > 9999) {
		fprintf(stderr, "imi: --year %d is not a year\n", year);
		ret = EX_USAGE;
		goto out;
	}
	if ((ret = cli_open(cli, 1)) != 0)
		goto out;
	sc.year = year;
	if ((ret = store_transact(cli->store, stats_txn, &sc, &error)) != IMI_OK) {
		ret = cli_fail(ret, error);
		goto out;
	}
	if (format == NULL || strcmp(format, "text") == 0)
		print_text(&sc.st);
	else if (strcmp(format, "csv") == 0)
		print_csv(&sc.st);
	else if (strcmp(format, "json") == 0)
		print_json(&sc.st);
	else
		print_html(&sc.st);
	ret = 0;
out:
	stats_clear(&sc.st);
	g_free(format);
	return ret;
}

/*
 * cmd_report.c - pcmds report: impact per place (or take-up per community
 * asset of a place), for place leads and evaluators, as aligned tables,
 * JSON, or CSV for R and spreadsheets.
 *
 * The figures come from the server with disclosure control applied;
 * evaluators may ask for them without (--unsuppressed, audited). JSON is
 * printed with every number in shortest round-trip form (CSV comes from
 * the server as it is); tables round for reading, and say at the top when
 * the figures are unsuppressed.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "codes.h"
#include "jout.h"
#include "net.h"
#include "ons4.h"

#define TCOLS	13
#define TROWS	250	/* a header, then up to 240 months or 249 assets */
#define TCELL	48	/* an asset id (40) fits */

struct table {
	const char	*title;
	char		 cell[TROWS][TCOLS][TCELL];
	int		 rows, cols;
	int		 text_cols;	/* leading columns of words, set left */
};

static void
t_set(struct table *t, int r, int c, const char *s)
{
	if (r >= TROWS || c >= TCOLS)
		return;
	snprintf(t->cell[r][c], sizeof(t->cell[r][c]), "%s", s);
	if (r + 1 > t->rows)
		t->rows = r + 1;
	if (c + 1 > t->cols)
		t->cols = c + 1;
}

/* A published figure as text: number, "suppressed", "withheld" or "-". */
static void
t_val(struct table *t, int r, int c, const cJSON *v, int decimals)
{
	char s[32];

	if (cJSON_IsNumber(v)) {
		if (decimals == 4 && v->valuedouble < 0.0001)
			snprintf(s, sizeof(s), "<0.0001");
		else
			snprintf(s, sizeof(s), "%.*f", decimals, v->valuedouble);
	} else if (cJSON_IsString(v))
		snprintf(s, sizeof(s), "%s", v->valuestring);
	else
		snprintf(s, sizeof(s), "-");
	t_set(t, r, c, s);
}

static void
t_print(const struct table *t)
{
	int w[TCOLS] = {0}, r, c;

	for (r = 0; r < t->rows; r++)
		for (c = 0; c < t->cols; c++)
			if ((int)strlen(t->cell[r][c]) > w[c])
				w[c] = (int)strlen(t->cell[r][c]);
	printf("%s\n", t->title);
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->cols; c++)
			/* a negative width sets the column left */
			printf("%s%*s", c ? "  " : "", c == 0 ||
			    c < t->text_cols ? -w[c] : w[c], t->cell[r][c]);
		printf("\n");
		if (r == 0) {
			for (c = 0; c < t->cols; c++)
				printf("%s%.*s", c ? "  " : "", w[c],
				    "------------------------------------------"
				    "------");
			printf("\n");
		}
	}
	printf("\n");
}

static const cJSON *
get(const cJSON *o, const char *a, const char *b)
{
	o = cJSON_GetObjectItem(o, a);
	return b ? cJSON_GetObjectItem(o, b) : o;
}

static const char *
place_name(const cJSON *h)
{
	const char *n = cJSON_GetStringValue(get(h, "scope", "name"));

	return n ? n : "?";
}

/* Decimals of means and medians in tables: under control, as published. */
static int mean_dec = 2, median_dec = 1;

static void
places_table(const cJSON *doc)
{
	static const char *const head[] = {"Place", "Population", "Referrals",
	    "People", "Per 1,000", "Declined %", "Median days", "Pairs",
	    "Pairs %", "Life sat.", "Worthwhile", "Happy", "Anxious"};
	struct table t;
	const cJSON *h, *all = cJSON_GetObjectItem(doc, "all");
	int r = 1, c, m, last = cJSON_GetArraySize(cJSON_GetObjectItem(doc,
	    "places"));

	memset(&t, 0, sizeof(t));
	t.title = "Impact per place (ONS4 columns: mean change from baseline; "
	    "anxiety falls when better)";
	for (c = 0; c < 13; c++)
		t_set(&t, 0, c, head[c]);
	for (; r <= last + 1; r++) {
		h = r <= last ? cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
		    "places"), r - 1) : all;
		t_set(&t, r, 0, r <= last ? place_name(h) : "All places");
		t_val(&t, r, 1, get(h, "scope", "population"), 0);
		t_val(&t, r, 2, get(h, "referrals", NULL), 0);
		t_val(&t, r, 3, get(h, "people", NULL), 0);
		t_val(&t, r, 4, get(h, "per_1000_residents", NULL), 2);
		t_val(&t, r, 5, get(h, "declined_pct", NULL), 1);
		t_val(&t, r, 6, get(h, "median_days_to_first_contact", NULL),
		    median_dec);
		t_val(&t, r, 7, get(h, "ons4", "pairs"), 0);
		t_val(&t, r, 8, get(h, "ons4", "pairs_pct_of_consented"), 1);
		for (m = 0; m < ONS4_N; m++)
			t_val(&t, r, 9 + m, cJSON_GetObjectItem(get(h, "ons4",
			    ons4_measures[m].field), "mean_change"), mean_dec);
	}
	t_print(&t);
}

static void
ons4_table(const cJSON *ons4, const char *scope)
{
	static const char *const head[] = {"Measure", "Pairs", "Baseline",
	    "Follow-up", "Change", "CI low", "CI high", "p (t)", "p (Wilcoxon)",
	    "Wilcoxon", "Cohen's dz", "Improved %", "Left worst %"};
	static const char *const keys[] = {"n", "mean_baseline",
	    "mean_followup", "mean_change", "ci95_low", "ci95_high",
	    "t_test_p", "wilcoxon_p", "wilcoxon_method", "cohens_dz",
	    "improved_pct", "left_worst_band_pct"};
	int dec[] = {0, mean_dec, mean_dec, mean_dec, mean_dec, mean_dec, 4, 4,
	    0, 2, 1, 1};
	char title[512], share[48];
	struct table t;
	int c, m;

	memset(&t, 0, sizeof(t));
	/* who is left out matters as much as the change: the pairs' share */
	t_val(&t, 0, 0, cJSON_GetObjectItem(ons4, "pairs_pct_of_consented"), 1);
	snprintf(share, sizeof(share), "%s", t.cell[0][0]);
	snprintf(title, sizeof(title), "ONS4 change, %s (paired: baseline -> "
	    "latest later review or final; 95%% CI; uncontrolled "
	    "before/after)\nPairs as %% of consented referrals: %s%s", scope,
	    share, cJSON_IsNumber(cJSON_GetObjectItem(ons4,
	    "pairs_pct_of_consented")) ? "%" : "");
	t.title = title;
	for (c = 0; c < 13; c++)
		t_set(&t, 0, c, head[c]);
	for (m = 0; m < ONS4_N; m++) {
		const cJSON *o = cJSON_GetObjectItem(ons4,
		    ons4_measures[m].field);

		t_set(&t, m + 1, 0, ons4_measures[m].label);
		for (c = 0; c < 12; c++)
			t_val(&t, m + 1, c + 1, cJSON_GetObjectItem(o, keys[c]),
			    dec[c]);
	}
	t_print(&t);
}

/* Labels, not codes: "White", "85 and over". */
static void
breakdown_table(const cJSON *reach, const char *key, const char *title,
    const struct codelist *l)
{
	const cJSON *o = cJSON_GetObjectItem(reach, key), *g;
	struct table t;
	const char *label;
	int r = 1;

	memset(&t, 0, sizeof(t));
	t.title = title;
	t_set(&t, 0, 0, "Group");
	t_set(&t, 0, 1, "Referrals");
	cJSON_ArrayForEach(g, o) {
		label = code_label(l, g->string);
		t_set(&t, r, 0, label ? label : g->string);
		t_val(&t, r++, 1, g, 0);
	}
	t_print(&t);
}

/* Referrals against residents: one table per breakdown, with source. */
static void
rates_tables(const cJSON *doc)
{
	static const char *const head[] = {"Group", "Residents", "Referrals",
	    "Per 1,000", "Rate ratio", "CI low", "CI high", "Against the place"};
	static const char *const keys[] = {"population", "referrals",
	    "rate_per_1000", "rate_ratio", "rate_ratio_ci95_low",
	    "rate_ratio_ci95_high"};
	static const int dec[] = {0, 0, 2, 2, 2, 2};
	const cJSON *b, *g;
	char title[512];
	struct table t;
	int r, c;

	cJSON_ArrayForEach(b, cJSON_GetObjectItem(doc, "population_rates")) {
		memset(&t, 0, sizeof(t));
		t_val(&t, 0, 0, cJSON_GetObjectItem(b, "unknown_referrals"), 0);
		t_val(&t, 0, 1, cJSON_GetObjectItem(b, "unknown_pct"), 1);
		snprintf(title, sizeof(title), "Reach against the population: %s "
		    "(rate ratio to the place's rate, exact 95%% interval)\n"
		    "Residents: %s\nReferrals with no population group (left "
		    "out of the place's rate): %s (%s%%)", b->string,
		    cJSON_GetStringValue(cJSON_GetObjectItem(b, "source")) ?
		    cJSON_GetStringValue(cJSON_GetObjectItem(b, "source")) : "?",
		    t.cell[0][0], t.cell[0][1]);
		memset(&t, 0, sizeof(t));
		t.title = title;
		for (c = 0; c < 8; c++)
			t_set(&t, 0, c, head[c]);
		r = 1;
		cJSON_ArrayForEach(g, cJSON_GetObjectItem(b, "groups")) {
			const cJSON *f = cJSON_GetObjectItem(g, "flag");

			t_set(&t, r, 0, cJSON_GetStringValue(cJSON_GetObjectItem(g,
			    "label")));
			for (c = 0; c < 6; c++)
				t_val(&t, r, c + 1, cJSON_GetObjectItem(g, keys[c]),
				    dec[c]);
			t_set(&t, r, 7, !cJSON_IsString(f) ? "-" :
			    strcmp(f->valuestring, "in_line") == 0 ? "in line" :
			    f->valuestring);
			r++;
		}
		t_print(&t);
	}
}

/* Month by month: a table of the series. */
static void
months_table(const cJSON *doc)
{
	static const char *const head[] = {"Month", "Referrals", "People",
	    "Declined", "Pairs", "Life sat.", "Worthwhile", "Happy",
	    "Anxious"};
	static const char *const keys[] = {"referrals", "people", "declined",
	    "pairs"};
	const cJSON *m;
	char title[256];
	struct table t;
	int r = 1, c, k;

	memset(&t, 0, sizeof(t));
	snprintf(title, sizeof(title), "Month by month: %s (ONS4 columns: "
	    "mean change from baseline)", place_name(doc));
	t.title = title;
	for (c = 0; c < 9; c++)
		t_set(&t, 0, c, head[c]);
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "months")) {
		if (r >= TROWS)
			break;
		t_set(&t, r, 0, cJSON_GetStringValue(cJSON_GetObjectItem(m,
		    "month")));
		for (c = 0; c < 4; c++)
			t_val(&t, r, c + 1, cJSON_GetObjectItem(m, keys[c]), 0);
		for (k = 0; k < ONS4_N; k++)
			t_val(&t, r, 5 + k, cJSON_GetObjectItem(get(m, "ons4",
			    ons4_measures[k].field), "mean_change"), mean_dec);
		r++;
	}
	t_print(&t);
}

static void
place_tables(const cJSON *doc)
{
	const cJSON *reach = cJSON_GetObjectItem(doc, "reach"), *g;
	char title[256];
	struct table t;
	int r = 1;

	memset(&t, 0, sizeof(t));
	snprintf(title, sizeof(title), "Reach: %s", place_name(doc));
	t.title = title;
	t_set(&t, 0, 0, "Measure");
	t_set(&t, 0, 1, "Value");
	t_set(&t, r, 0, "Referrals");
	t_val(&t, r++, 1, get(reach, "referrals", NULL), 0);
	t_set(&t, r, 0, "People");
	t_val(&t, r++, 1, get(reach, "people", NULL), 0);
	t_set(&t, r, 0, "Per 1,000 residents");
	t_val(&t, r++, 1, get(reach, "per_1000_residents", NULL), 2);
	t_set(&t, r, 0, "Closed");
	t_val(&t, r++, 1, get(reach, "closed", NULL), 0);
	t_set(&t, r, 0, "Declined %");
	t_val(&t, r++, 1, get(reach, "declined_pct", NULL), 1);
	t_set(&t, r, 0, "Median days to first contact");
	t_val(&t, r++, 1, get(reach, "median_days_to_first_contact", NULL),
	    median_dec);
	t_set(&t, r, 0, "Median contacts per closed referral");
	t_val(&t, r++, 1, get(reach, "median_contacts_per_closed_referral",
	    NULL), median_dec);
	t_print(&t);
	breakdown_table(reach, "by_ethnic_group", "Referrals by ethnic group",
	    &codes_ethnic_group);
	breakdown_table(reach, "by_imd_quintile", "Referrals by IMD quintile",
	    &codes_imd_quintile);
	breakdown_table(reach, "by_age_band", "Referrals by age band",
	    &codes_age_band);
	rates_tables(doc);
	ons4_table(cJSON_GetObjectItem(doc, "ons4"), place_name(doc));
	cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "groups")) {
		snprintf(title, sizeof(title), "%s = %s",
		    cJSON_GetStringValue(cJSON_GetObjectItem(doc, "group_by")),
		    cJSON_GetStringValue(cJSON_GetObjectItem(g, "label")));
		ons4_table(cJSON_GetObjectItem(g, "ons4"), title);
	}
}

/* Take-up per community asset: a row per entry, then the free text. */
static void
assets_table(const cJSON *doc)
{
	static const char *const head[] = {"Id", "Asset", "Category",
	    "Offered", "Took it up", "Take-up %"};
	static const char *const keys[] = {"offered", "taken_up",
	    "taken_up_pct"};
	const cJSON *a, *list = cJSON_GetObjectItem(doc, "assets");
	char title[512];
	struct table t;
	int r = 1, c, n = cJSON_GetArraySize(list);

	memset(&t, 0, sizeof(t));
	snprintf(title, sizeof(title), "Community assets: take-up, %s "
	    "(referrals offered each asset, and those that took it up)\n"
	    "Referrals in the period: %s", place_name(doc),
	    cJSON_IsNumber(get(doc, "reach", "referrals")) ? "" : "suppressed");
	if (cJSON_IsNumber(get(doc, "reach", "referrals")))
		snprintf(title + strlen(title), sizeof(title) - strlen(title),
		    "%.0f", get(doc, "reach", "referrals")->valuedouble);
	t.title = title;
	t.text_cols = 3;	/* id, name, category */
	for (c = 0; c < 6; c++)
		t_set(&t, 0, c, head[c]);
	cJSON_ArrayForEach(a, list) {
		const char *cat = cJSON_GetStringValue(cJSON_GetObjectItem(a,
		    "category")), *label = cat ? code_label(&codes_support, cat) :
		    NULL;

		if (r >= TROWS - 1)
			break;
		t_set(&t, r, 0, cJSON_GetStringValue(cJSON_GetObjectItem(a,
		    "id")));
		t_set(&t, r, 1, cJSON_GetStringValue(cJSON_GetObjectItem(a,
		    "name")));
		t_set(&t, r, 2, label ? label : cat ? cat : "");
		for (c = 0; c < 3; c++)
			t_val(&t, r, 3 + c, cJSON_GetObjectItem(a, keys[c]),
			    c == 2);
		r++;
	}
	t_set(&t, r, 0, "-");
	t_set(&t, r, 1, "Free text (no directory entry)");
	for (c = 0; c < 3; c++)
		t_val(&t, r, 3 + c, get(doc, "free_text", keys[c]), c == 2);
	t_print(&t);
	/* a table cut short says so: every row is in --format csv */
	if (n > r - 1)
		printf("%d more assets are not shown here; --format csv or json "
		    "has every one.\n\n", n - (r - 1));
}

static int
run_report(struct ctx *c, struct opt_result *o)
{
	const char *place = opt_get(o, "place"), *fmt = opt_get(o, "format");
	struct buf path;
	struct err_list errs;
	struct net n;
	struct net_resp r;
	cJSON *doc = NULL;
	pc_rc rc;
	int ex = EXIT_OK;

	if (fmt == NULL)
		fmt = "table";
	if (strcmp(fmt, "table") && strcmp(fmt, "json") && strcmp(fmt, "csv")) {
		fprintf(stderr, "pcmds: --format must be table, json or csv\n");
		return EXIT_USAGE;
	}
	if (opt_has(o, "assets") && (place == NULL || strcasecmp(place,
	    "ALL") == 0 || opt_has(o, "months") || opt_get(o, "by") != NULL)) {
		fprintf(stderr, "pcmds: --assets needs --place with a place's "
		    "code (each place has a directory of its own), without "
		    "--months or --by\n");
		return EXIT_USAGE;
	}
	if (c->cfg.token[0] == '\0') {
		fprintf(stderr, "pcmds: this device is not enrolled: run pcmds "
		    "setup --server URL --code CODE first\n");
		return EXIT_AUTH;
	}
	buf_init(&path, PATH_MAX_LEN);
	buf_adds(&path, "/v1/places");
	if (place != NULL || opt_has(o, "months")) {
		buf_addc(&path, '/');
		net_escape(&path, place ? place : "ALL");
		buf_adds(&path, opt_has(o, "months") ? "/months" :
		    opt_has(o, "assets") ? "/assets" : "/impact");
	}
	net_query_add(&path, "from", opt_get(o, "from"));
	net_query_add(&path, "to", opt_get(o, "to"));
	net_query_add(&path, "group_by", opt_get(o, "by"));
	net_query_add(&path, "format", strcmp(fmt, "csv") == 0 ? "csv" :
	    NULL);
	net_query_add(&path, "suppress", opt_has(o, "unsuppressed") ?
	    "false" : NULL);
	if (buf_failed(&path) != PC_OK) {
		fprintf(stderr, "pcmds: the options are too long to send\n");
		buf_free(&path);
		return EXIT_USAGE;
	}
	err_init(&errs);
	if ((rc = net_init(&n, c->cfg.server, c->cfg.pinned ? c->home.cacert :
	    NULL, &errs)) == PC_OK)
		rc = net_request(&n, "GET", buf_str(&path), c->cfg.token, NULL,
		    0, 0, &r, &errs);
	buf_free(&path);
	if (rc != PC_OK) {
		ctx_report(&errs, NULL);
		err_free(&errs);
		net_free(&n);
		return exit_for(rc);
	}
	if (r.status != 200) {
		char msg[512];

		fprintf(stderr, "pcmds: the server refused the report (HTTP %ld): "
		    "%s\n", r.status, net_message(&r, msg, sizeof(msg))[0] ?
		    msg : "no reason given");
		ex = r.status == 401 || r.status == 403 ? EXIT_AUTH :
		    EXIT_INVALID;
	} else if (strcmp(fmt, "csv") == 0)
		fwrite(r.body.p, 1, r.body.len, stdout);
	else if ((doc = cJSON_Parse(buf_str(&r.body))) == NULL) {
		fprintf(stderr, "pcmds: the server's answer was not understood\n");
		ex = EXIT_INVALID;
	} else if (strcmp(fmt, "json") == 0) {
		char *text = jout_print(doc, 1);

		if (text == NULL) {
			fprintf(stderr, "pcmds: out of memory\n");
			ex = EXIT_INVALID;
		} else
			printf("%s\n", text);
		free(text);
	} else {
		int controlled = cJSON_IsTrue(cJSON_GetObjectItem(doc,
		    "disclosure_control"));

		/* before anything else: these figures are not for publishing */
		if (!controlled) {
			const char *nt = cJSON_GetStringValue(
			    cJSON_GetObjectItem(doc, "notice"));

			printf("*** %s ***\n\n", nt ? nt : "UNSUPPRESSED "
			    "figures, without disclosure control");
		}
		mean_dec = controlled ? 1 : 2;
		median_dec = controlled ? 0 : 1;
		if (opt_has(o, "months"))
			months_table(doc);
		else if (opt_has(o, "assets"))
			assets_table(doc);
		else if (place == NULL) {
			places_table(doc);
			ons4_table(get(doc, "all", "ons4"), "all places");
		} else
			place_tables(doc);
	}
	if (ex == EXIT_OK && strcmp(fmt, "table") == 0 && doc != NULL &&
	    cJSON_IsTrue(cJSON_GetObjectItem(doc, "disclosure_control")))
		printf("Disclosure control: cell key noise (at most 3) on every "
		    "count, then 1-7 suppressed and the rest rounded to the "
		    "nearest 5; means to 0.1, p-values in bands; figures about "
		    "suppressed groups withheld. Periods: whole completed "
		    "months (to %s).\n", cJSON_GetStringValue(get(doc, "period",
		    "to")) ? cJSON_GetStringValue(get(doc, "period", "to")) :
		    "the last completed");
	if (fflush(stdout) != 0 && ex == EXIT_OK) {
		fprintf(stderr, "pcmds: cannot write the report: %s\n",
		    strerror(errno));
		ex = EXIT_STORE;
	}
	cJSON_Delete(doc);
	net_resp_free(&r);
	net_free(&n);
	err_free(&errs);
	return ex;
}

static const struct opt_spec report_opts[] = {
	{"place", OPT_VALUE, "CODE", "one place in detail (or ALL); default: "
	    "every place's headline"},
	{"from", OPT_VALUE, "MONTH", "referrals from this month (YYYY-MM; "
	    "with --unsuppressed also a date YYYY-MM-DD)"},
	{"to", OPT_VALUE, "MONTH", "referrals up to the end of this month "
	    "(default: the last completed month; with --unsuppressed also a "
	    "date)"},
	{"by", OPT_VALUE, "GROUP", "ONS4 change by group: source, reason, "
	    "service, ethnic_group, imd_quintile, age_band, gender, carer, "
	    "learning_disability, autism, homeless (with --place)"},
	{"months", OPT_FLAG, NULL, "month by month (referrals, people, "
	    "declined, pairs, ONS4 change), for --place or all places"},
	{"assets", OPT_FLAG, NULL, "take-up per community asset of the "
	    "--place's directory (referrals offered each, and taking it up)"},
	{"format", OPT_VALUE, "FMT", "table (default), json or csv"},
	{"unsuppressed", OPT_FLAG, NULL, "evaluators: figures without "
	    "disclosure control (audited)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_report = {
	"report", "", 0, 0, "impact per place (place leads and evaluators)",
	report_opts, run_report,
	"Examples:\n  pcmds report\n  pcmds report --place BD --from 2025-04 "
	"--to 2026-03 --by ethnic_group\n  pcmds report --place ALL --format "
	"csv > impact.csv\n  pcmds report --place NH --months --format csv\n"
	"  pcmds report --place NH --assets --from 2026-04 --to 2026-09\n",
};

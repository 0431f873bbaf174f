/*
 * dash.c - the dashboard as a place lead uses it: their own place first
 * (reach, reach against the population, month by month, detail, take-up
 * per community asset), then
 * every place (the strategy's commitments, reach, ONS4 change, who is
 * reached), then how the figures are made.
 *
 * Charts are rows of HTML text with a thin SVG strip each, stretched to
 * the width (preserveAspectRatio none, shapes only): labels and values
 * are page text at the page's size, so they stay readable on a phone and
 * reflow, and the content security policy (no inline style) holds. Every
 * chart has its figures in a table beside it; tables sit in a region
 * that scrolls on its own, so the page never scrolls sideways. Flags are
 * words with an icon, never colour alone. Everything shown is under
 * disclosure control, from the same documents as the API.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_places.h"
#include "date.h"
#include "takeup.h"
#include "version.h"
#include "web.h"

const char dash_css[] =
	"body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1b;"
	"background:#f4f5f7}\n"
	"header,main,footer,nav{max-width:1100px;margin:0 auto;padding:0 1rem}\n"
	"header{padding-top:1rem}h1{font-size:1.6rem;margin:.3rem 0}\n"
	"h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:3px solid #005eb8}\n"
	"h3{font-size:1.1rem;margin-top:1.6rem}\n"
	".skip{position:absolute;left:-999px;top:0;background:#fff;"
	"padding:.5rem;z-index:2}.skip:focus{left:.5rem}\n"
	"a{color:#004b93}a:focus,button:focus,input:focus,.tw:focus{outline:"
	"3px solid #ffb81c;outline-offset:2px}\n"
	".who{color:#3d4f5c}.who form{display:inline}\n"
	".note{background:#fff9c4;padding:.5rem .8rem;border-left:4px solid "
	"#8a6d00}\n"
	"nav ol{columns:2 16rem;margin:.3rem 0}\n"
	"dl.key{display:grid;grid-template-columns:repeat(auto-fit,minmax("
	"9rem,1fr));gap:.5rem;margin:.5rem 0}\n"
	"dl.key div{background:#fff;padding:.5rem;border-radius:4px}\n"
	"dl.key dt{font-size:.85rem;color:#3d4f5c}dl.key dd{margin:0;"
	"font-size:1.3rem;font-weight:600}\n"
	"figure{margin:1rem 0;background:#fff;padding:.7rem;border-radius:4px}"
	"\n"
	"figcaption{font-size:.95rem;color:#3d4f5c}\n"
	".chart .row{display:grid;grid-template-columns:minmax(8rem,13rem) 1fr "
	"minmax(7rem,15rem);gap:.2rem .6rem;align-items:center;margin:.15rem 0}"
	"\n"
	".chart .lab{font-size:.95rem}.chart .val{font-size:.9rem}\n"
	".chart svg.strip{width:100%;height:1.3rem;display:block}\n"
	".chart .axis{display:grid;grid-template-columns:minmax(8rem,13rem) "
	"1fr minmax(7rem,15rem);gap:.6rem;font-size:.85rem;color:#3d4f5c}\n"
	".ticks{display:flex;justify-content:space-between}\n"
	".dir{display:flex;justify-content:space-between;font-size:.85rem;"
	"color:#3d4f5c}\n"
	"@media (max-width:640px){.chart .row,.chart .axis{grid-template-"
	"columns:1fr auto}.chart .row svg.strip{grid-column:1/3;grid-row:2}"
	".chart .axis .sp{display:none}.chart .axis .ticks{grid-column:1/3}"
	"h1{font-size:1.35rem}}\n"
	".tw{overflow-x:auto;max-width:100%;margin:.4rem 0 1rem}\n"
	"table{border-collapse:collapse;background:#fff;font-size:.92rem}\n"
	"th,td{border:1px solid #c5ccd1;padding:.25rem .5rem;text-align:right}"
	"\n"
	"th:first-child,td:first-child{text-align:left}\n"
	"caption{text-align:left;font-weight:600;padding:.3rem 0}\n"
	"tr.all th,tr.all td{font-weight:600;background:#eef1f3}\n"
	".src{font-size:.85rem;color:#3d4f5c;margin:.2rem 0 .8rem}\n"
	".bar{fill:#005eb8}.bar.all{fill:#3d4f5c}.sup{fill:#c5ccd1}\n"
	".ref{stroke:#1d1d1b;stroke-width:.6}.ci{fill:#1d1d1b}"
	".pt{fill:#005eb8;stroke:#fff;stroke-width:.3}\n"
	".g0{fill:#1d3557}.g1{fill:#f4c542}.g2{fill:#9b2226}.g3{fill:#a8dadc}"
	".g4{fill:#2d6a4f}.g5{fill:#d9d9d9}.g6{fill:#5c3c92}.g7{fill:#f4a261}"
	"\n.seg{stroke:#fff;stroke-width:.4}\n"
	"ul.legend{list-style:none;padding:0;margin:.4rem 0;display:flex;"
	"flex-wrap:wrap;gap:.3rem 1rem}\n"
	"ul.legend li{display:inline-flex;align-items:center;gap:.35rem;"
	"white-space:nowrap}\n"
	"form.period{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:"
	"end}\n"
	"form.login{background:#fff;padding:.8rem;border-radius:4px;"
	"max-width:32rem;margin:1rem 0}\n"
	"button,input{font:inherit}input{max-width:100%}\n";

#define NGROUPS	8	/* colours for the groups of a stacked bar */

static double
num(const cJSON *v)
{
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A published value as text: number, "suppressed", "withheld" or "-". */
static void
val(struct buf *b, const cJSON *v, int decimals)
{
	if (cJSON_IsNumber(v) && decimals == 4 && v->valuedouble < 0.0001)
		buf_adds(b, "&lt;0.0001");	/* p-values */
	else if (cJSON_IsNumber(v))
		buf_addf(b, "%.*f", decimals, v->valuedouble);
	else if (cJSON_IsString(v))
		web_esc(b, v->valuestring);
	else
		buf_adds(b, "&ndash;");
}

static const cJSON *
get(const cJSON *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o != NULL && (dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = cJSON_GetObjectItem(o, key);
		path = dot + 1;
	}
	return o ? cJSON_GetObjectItem(o, path) : NULL;
}

static const char *
str(const cJSON *o, const char *path)
{
	const char *s = cJSON_GetStringValue(get(o, path));

	return s ? s : "";
}

static const char *
name_of(const cJSON *h)
{
	const char *n = cJSON_GetStringValue(get(h, "scope.name"));

	return n ? n : "?";
}

/* Row i of a by-place table or chart: each place, then all places. */
static const cJSON *
row_at(const cJSON *places, const cJSON *all, int i)
{
	return i < cJSON_GetArraySize(places) ? cJSON_GetArrayItem(places, i) :
	    all;
}

static const cJSON *
measure(const cJSON *h, const char *field, const char *stat)
{
	char path[96];

	snprintf(path, sizeof(path), "ons4.%s.%s", field, stat);
	return get(h, path);
}

/* A flag in words with an icon (never colour alone). */
static void
flag(struct buf *b, const char *f)
{
	if (f == NULL || *f == '\0')
		buf_adds(b, "&ndash;");
	else if (strcmp(f, "below") == 0)
		buf_adds(b, "&#9660; below");
	else if (strcmp(f, "above") == 0)
		buf_adds(b, "&#9650; above");
	else if (strcmp(f, "in_line") == 0)
		buf_adds(b, "&#9679; in line");
	else if (strcmp(f, "met") == 0)
		buf_adds(b, "&#10003; met");
	else if (strcmp(f, "not_met") == 0)
		buf_adds(b, "&#10007; not met");
	else
		web_esc(b, f);
}

/* A table in a region of its own that scrolls sideways if it must. */
static void
tw_open(struct buf *b, const char *id, const char *caption)
{
	buf_addf(b, "<div class=\"tw\" role=\"region\" tabindex=\"0\" "
	    "aria-labelledby=\"%s\"><table><caption id=\"%s\">", id, id);
	web_esc(b, caption);
	buf_adds(b, "</caption>");
}

static void
tw_close(struct buf *b)
{
	buf_adds(b, "</table></div>");
}

static void
th_cols(struct buf *b, const char *const *cols, size_t n)
{
	size_t i;

	buf_adds(b, "<thead><tr>");
	for (i = 0; i < n; i++) {
		buf_adds(b, "<th scope=\"col\">");
		web_esc(b, cols[i]);
		buf_adds(b, "</th>");
	}
	buf_adds(b, "</tr></thead><tbody>");
}

static void
row_head(struct buf *b, const char *name, int all)
{
	buf_adds(b, all ? "<tr class=\"all\"><th scope=\"row\">" :
	    "<tr><th scope=\"row\">");
	web_esc(b, name);
	buf_adds(b, "</th>");
}

static void
td(struct buf *b, const cJSON *v, int decimals)
{
	buf_adds(b, "<td>");
	val(b, v, decimals);
	buf_adds(b, "</td>");
}

#define STRIP	"<svg class=\"strip\" viewBox=\"0 0 100 10\" " \
	"preserveAspectRatio=\"none\" aria-hidden=\"true\" focusable=\"false\">"

/* -- charts ---------------------------------------------------------------- */

/* Bars: one row per item, widths against the largest. */
struct bar {
	const char	*label;
	const cJSON	*v;
	int		 all;		/* the all-places bar */
};

static void
chart_bars(struct buf *b, const char *title, const char *caption,
    const struct bar *rows, int n, int decimals)
{
	double max = 0, v;
	int i;

	for (i = 0; i < n; i++)
		if ((v = num(rows[i].v)) > max)
			max = v;
	if (max <= 0)
		max = 1;
	buf_adds(b, "<figure class=\"chart\"><figcaption><strong>");
	web_esc(b, title);
	buf_adds(b, "</strong>. ");
	web_esc(b, caption);
	buf_adds(b, "</figcaption>");
	for (i = 0; i < n; i++) {
		v = num(rows[i].v);
		buf_adds(b, "<div class=\"row\"><span class=\"lab\">");
		web_esc(b, rows[i].label);
		buf_adds(b, "</span>" STRIP);
		if (!isnan(v))
			buf_addf(b, "<rect class=\"bar%s\" x=\"0\" y=\"1\" "
			    "width=\"%.2f\" height=\"8\"/>", rows[i].all ?
			    " all" : "", 100 * v / max);
		buf_adds(b, "</svg><span class=\"val\">");
		val(b, rows[i].v, decimals);
		buf_adds(b, "</span></div>");
	}
	buf_adds(b, "</figure>");
}

/* Estimates with 95% intervals against a reference line. */
struct ci_row {
	const char	*label;
	double		 est, lo, hi;
	const char	*why;		/* when there is no estimate */
	const char	*flag;
};

struct ci_axis {
	int		 logscale;	/* rate ratios */
	double		 ref;		/* 1 (ratios) or 0 (change) */
	const char	*left, *right;	/* what each direction means */
	const char	*unit;
};

static double
ax_pos(const struct ci_axis *ax, double lo, double hi, double v)
{
	double p;

	if (ax->logscale)
		p = (log(v) - log(lo)) / (log(hi) - log(lo));
	else
		p = (v - lo) / (hi - lo);
	return 100 * (p < 0 ? 0 : p > 1 ? 1 : p);
}

/* The axis range: whole units (linear) or powers of two (ratios). */
static void
ax_range(const struct ci_axis *ax, const struct ci_row *r, int n,
    double *lo, double *hi)
{
	int i;

	*lo = ax->logscale ? 0.5 : -1;
	*hi = ax->logscale ? 2 : 1;
	for (i = 0; i < n; i++) {
		double a = isnan(r[i].lo) ? r[i].est : r[i].lo;
		double z = isnan(r[i].hi) ? r[i].est : r[i].hi;

		if (ax->logscale) {
			while (a > 0 && a < *lo && *lo > 1.0 / 64)
				*lo /= 2;
			while (z > *hi && *hi < 64)
				*hi *= 2;
		} else {
			if (a < *lo)
				*lo = floor(a);
			if (z > *hi)
				*hi = ceil(z);
		}
	}
}

static void
chart_ci(struct buf *b, const char *title, const char *caption,
    const struct ci_axis *ax, const struct ci_row *r, int n)
{
	double lo, hi, t, x0;
	int i;

	ax_range(ax, r, n, &lo, &hi);
	x0 = ax_pos(ax, lo, hi, ax->ref);
	buf_adds(b, "<figure class=\"chart\"><figcaption><strong>");
	web_esc(b, title);
	buf_adds(b, "</strong>. ");
	web_esc(b, caption);
	buf_adds(b, "</figcaption><div class=\"axis\"><span class=\"sp\">"
	    "</span><div class=\"dir\"><span>&larr; ");
	web_esc(b, ax->left);
	buf_adds(b, "</span><span>");
	web_esc(b, ax->right);
	buf_adds(b, " &rarr;</span></div><span class=\"sp\"></span></div>");
	for (i = 0; i < n; i++) {
		buf_adds(b, "<div class=\"row\"><span class=\"lab\">");
		web_esc(b, r[i].label);
		buf_addf(b, "</span>" STRIP "<line class=\"ref\" x1=\"%.2f\" "
		    "x2=\"%.2f\" y1=\"0\" y2=\"10\"/>", x0, x0);
		if (!isnan(r[i].est)) {
			double a = isnan(r[i].lo) ? r[i].est : r[i].lo;
			double z = isnan(r[i].hi) ? r[i].est : r[i].hi;
			double pa = ax_pos(ax, lo, hi, a), pz = ax_pos(ax, lo, hi,
			    z), pe = ax_pos(ax, lo, hi, r[i].est);

			buf_addf(b, "<rect class=\"ci\" x=\"%.2f\" y=\"4.3\" "
			    "width=\"%.2f\" height=\"1.4\"/><rect class=\"pt\" "
			    "x=\"%.2f\" y=\"1.5\" width=\"1.6\" height=\"7\"/>", pa,
			    pz - pa, pe - 0.8);
		}
		buf_adds(b, "</svg><span class=\"val\">");
		if (isnan(r[i].est))
			web_esc(b, r[i].why ? r[i].why : "none");
		else {
			buf_addf(b, "%.2f", r[i].est);
			if (!isnan(r[i].lo) && !isnan(r[i].hi))
				buf_addf(b, " (%.2f to %.2f)", r[i].lo, r[i].hi);
			if (r[i].flag != NULL) {
				buf_adds(b, " ");
				flag(b, r[i].flag);
			}
		}
		buf_adds(b, "</span></div>");
	}
	/* ticks, evenly spaced so that the text lines up with the strips */
	buf_adds(b, "<div class=\"axis\"><span class=\"sp\">");
	web_esc(b, ax->unit);
	buf_adds(b, "</span><div class=\"ticks\" aria-hidden=\"true\">");
	if (ax->logscale)
		for (t = lo; t <= hi * 1.0001; t *= 2)
			buf_addf(b, "<span>%g%s</span>", t, t == ax->ref ? " (=)" :
			    "");
	else
		for (t = lo; t <= hi + 1e-9; t += (hi - lo) > 8 ? 2 : 1)
			if (t == 0)
				buf_adds(b, "<span>0 (no change)</span>");
			else
				buf_addf(b, "<span>%+g</span>", t);
	buf_adds(b, "</div><span class=\"sp\"></span></div></figure>");
}

/*
 * Shares of each group, per place: widths against the published total,
 * so that a suppressed group keeps its place (shown as "suppressed")
 * and the others are never stretched to fill it.
 */
static void
chart_mix(struct buf *b, const cJSON *places, const cJSON *all,
    const char *key, const struct codelist *l, const char *title)
{
	int n = cJSON_GetArraySize(places) + 1, i;
	size_t g;

	buf_adds(b, "<figure class=\"chart\"><figcaption><strong>");
	web_esc(b, title);
	buf_adds(b, "</strong>: share of each place's referrals. Grey is "
	    "groups too few to show (suppressed); the table below gives the "
	    "counts.</figcaption><ul class=\"legend\">");
	for (g = 0; g < l->n; g++) {
		buf_addf(b, "<li><svg width=\"14\" height=\"14\" aria-hidden="
		    "\"true\" focusable=\"false\"><rect class=\"g%zu\" width="
		    "\"14\" height=\"14\"/></svg>", g % NGROUPS);
		web_esc(b, l->v[g].label);
		buf_adds(b, "</li>");
	}
	buf_adds(b, "<li><svg width=\"14\" height=\"14\" aria-hidden=\"true\" "
	    "focusable=\"false\"><rect class=\"sup\" width=\"14\" height=\"14\"/>"
	    "</svg>Suppressed</li></ul>");
	for (i = 0; i < n; i++) {
		const cJSON *p = row_at(places, all, i), *mix = get(p, key);
		double total = num(get(p, "referrals")), shown = 0, x = 0, v;
		int hidden = 0;

		for (g = 0; g < l->n; g++) {
			v = num(cJSON_GetObjectItem(mix, l->v[g].code));
			if (isnan(v))
				hidden++;
			else
				shown += v;
		}
		buf_adds(b, "<div class=\"row\"><span class=\"lab\">");
		web_esc(b, name_of(p));
		buf_adds(b, "</span>" STRIP);
		if (!(total > 0)) {
			buf_adds(b, "</svg><span class=\"val\">too few to show"
			    "</span></div>");
			continue;
		}
		/* perturbed counts need not add up: never past the bar */
		if (shown > total)
			total = shown;
		for (g = 0; g < l->n; g++) {
			v = num(cJSON_GetObjectItem(mix, l->v[g].code));
			if (isnan(v) || v <= 0)
				continue;
			buf_addf(b, "<rect class=\"seg g%zu\" x=\"%.2f\" y=\"0\" "
			    "width=\"%.2f\" height=\"10\"/>", g % NGROUPS, x,
			    100 * v / total);
			x += 100 * v / total;
		}
		if (hidden > 0 && x < 100)
			buf_addf(b, "<rect class=\"seg sup\" x=\"%.2f\" y=\"0\" "
			    "width=\"%.2f\" height=\"10\"/>", x, 100 - x);
		buf_adds(b, "</svg><span class=\"val\">");
		if (hidden > 0)
			buf_addf(b, "%d group%s suppressed", hidden, hidden > 1 ?
			    "s" : "");
		buf_adds(b, "</span></div>");
	}
	buf_adds(b, "</figure>");
}

static void
table_mix(struct buf *b, const cJSON *places, const cJSON *all,
    const char *key, const struct codelist *l, const char *title,
    const char *id)
{
	int n = cJSON_GetArraySize(places) + 1, i;
	size_t g;
	char cap[200];

	snprintf(cap, sizeof(cap), "%s: referrals", title);
	tw_open(b, id, cap);
	buf_adds(b, "<thead><tr><th scope=\"col\">Place</th>");
	for (g = 0; g < l->n; g++) {
		buf_adds(b, "<th scope=\"col\">");
		web_esc(b, l->v[g].label);
		buf_adds(b, "</th>");
	}
	buf_adds(b, "</tr></thead><tbody>");
	for (i = 0; i < n; i++) {
		const cJSON *h = row_at(places, all, i);

		row_head(b, name_of(h), i == n - 1);
		for (g = 0; g < l->n; g++)
			td(b, cJSON_GetObjectItem(get(h, key), l->v[g].code), 0);
		buf_adds(b, "</tr>");
	}
	buf_adds(b, "</tbody>");
	tw_close(b);
}

/* -- every place ----------------------------------------------------- */

static void
reach_places(struct buf *b, const cJSON *places, const cJSON *all)
{
	static const char *const cols[] = {"Place", "Population", "Referrals",
	    "People", "Per 1,000", "Declined %", "Median days to first contact"};
	struct bar rows[64];
	int n = cJSON_GetArraySize(places) + 1, i;

	for (i = 0; i < n && i < 64; i++) {
		rows[i].label = name_of(row_at(places, all, i));
		rows[i].v = get(row_at(places, all, i), "per_1000_residents");
		rows[i].all = i == n - 1;
	}
	chart_bars(b, "Referrals per 1,000 residents by place", "Referrals in "
	    "the period per 1,000 usual residents (Census 2021); the last bar "
	    "is all places together.", rows, n < 64 ? n : 64, 2);
	tw_open(b, "t-reach", "Reach by place");
	th_cols(b, cols, 7);
	for (i = 0; i < n; i++) {
		const cJSON *h = row_at(places, all, i);

		row_head(b, name_of(h), i == n - 1);
		td(b, get(h, "scope.population"), 0);
		td(b, get(h, "referrals"), 0);
		td(b, get(h, "people"), 0);
		td(b, get(h, "per_1000_residents"), 2);
		td(b, get(h, "declined_pct"), 1);
		td(b, get(h, "median_days_to_first_contact"), 0);
		buf_adds(b, "</tr>");
	}
	buf_adds(b, "</tbody>");
	tw_close(b);
}

static void
ons4_places(struct buf *b, const cJSON *places, const cJSON *all)
{
	static const char *const cols[] = {"n", "mean_baseline",
	    "mean_followup", "mean_change", "ci95_low", "ci95_high",
	    "t_test_p", "wilcoxon_p", "cohens_dz", "improved_pct",
	    "left_worst_band_pct"};
	static const char *const heads[] = {"Place", "Pairs",
	    "Pairs as % of consented", "Mean baseline", "Mean follow-up",
	    "Mean change", "95% CI low", "95% CI high", "p (t-test)",
	    "p (Wilcoxon)", "Cohen's dz", "Improved %", "Left worst band %"};
	static const int dec[] = {0, 1, 1, 1, 1, 1, 4, 4, 2, 1, 1};
	int n = cJSON_GetArraySize(places) + 1, i, m;
	struct ci_row rows[64];
	char title[160], id[16];
	size_t c;

	for (m = 0; m < ONS4_N; m++) {
		const char *f = ons4_measures[m].field;
		struct ci_axis ax = {0, 0, ons4_measures[m].lower_better ?
		    "better (less anxious)" : "worse", ons4_measures[m].
		    lower_better ? "worse" : "better", "Mean change, points"};

		for (i = 0; i < n && i < 64; i++) {
			const cJSON *p = row_at(places, all, i);

			rows[i].label = name_of(p);
			rows[i].est = num(measure(p, f, "mean_change"));
			rows[i].lo = num(measure(p, f, "ci95_low"));
			rows[i].hi = num(measure(p, f, "ci95_high"));
			rows[i].why = "withheld (too few pairs)";
			rows[i].flag = NULL;
		}
		snprintf(title, sizeof(title), "%s: mean change from baseline, "
		    "with 95%% confidence interval", ons4_measures[m].label);
		buf_adds(b, "<h4>");
		web_esc(b, ons4_measures[m].label);
		buf_adds(b, "</h4>");
		chart_ci(b, title, "One row per place and all places; the line "
		    "is no change (0 points on the 0-10 scale).", &ax, rows,
		    n < 64 ? n : 64);
		snprintf(title, sizeof(title), "%s: paired change, baseline to "
		    "latest review or final", ons4_measures[m].label);
		snprintf(id, sizeof(id), "t-ons4-%d", m);
		tw_open(b, id, title);
		th_cols(b, heads, 13);
		for (i = 0; i < n; i++) {
			const cJSON *h = row_at(places, all, i);

			row_head(b, name_of(h), i == n - 1);
			for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
				td(b, measure(h, f, cols[c]), dec[c]);
				if (c == 0)	/* the pairs' share, beside */
					td(b, get(h, "ons4.pairs_pct_of_consented"),
					    1);
			}
			buf_adds(b, "</tr>");
		}
		buf_adds(b, "</tbody>");
		tw_close(b);
	}
}

static const cJSON *
focus_of(const cJSON *c, const char *breakdown, const char *group)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, cJSON_GetObjectItem(c, "focus_groups"))
		if (strcmp(str(g, "breakdown"), breakdown) == 0 &&
		    strcmp(str(g, "group"), group) == 0)
			return g;
	return NULL;
}

static void
ratio_cell(struct buf *b, const cJSON *g)
{
	buf_adds(b, "<td>");
	if (g == NULL)
		buf_adds(b, "no denominator");
	else if (!cJSON_IsNumber(get(g, "rate_ratio")))
		val(b, get(g, "rate_ratio"), 2);
	else {
		val(b, get(g, "rate_ratio"), 2);
		buf_adds(b, " (");
		val(b, get(g, "rate_ratio_ci95_low"), 2);
		buf_adds(b, "&ndash;");
		val(b, get(g, "rate_ratio_ci95_high"), 2);
		buf_adds(b, ") ");
		flag(b, cJSON_GetStringValue(get(g, "flag")));
	}
	buf_adds(b, "</td>");
}

/* The strategy's commitments, a row per place. */
static void
commitments(struct buf *b, const cJSON *doc)
{
	static const char *const cols[] = {"Place",
	    "PCNs with a CYP referral", "Per 1,000 (all places)",
	    "Against all places", "IMD quintile 1", "Mixed", "Asian", "Black",
	    "Other ethnic group", "Under 15", "Learning disability %",
	    "Autism %", "Homeless %", "Carers %", "ONS4 pairs % of consented"};
	static const char *const eth[] = {"mixed", "asian", "black", "other"};
	const cJSON *places = cJSON_GetObjectItem(doc, "places");
	const cJSON *all = cJSON_GetObjectItem(doc, "all");
	int n = cJSON_GetArraySize(places) + 1, i;
	size_t k;

	buf_adds(b, "<p>From the data, for each place: whether at least one "
	    "PCN referred someone to a children and young people service "
	    "(&#10003; met, &#10007; not met); reach per 1,000 residents "
	    "against the rate of all places; the focus groups' rate ratios, "
	    "their referrals per resident against the place's (&#9660; below, "
	    "&#9679; in line, &#9650; above 1, by the 95% interval); the "
	    "shares of referrals of groups no population table counts; and "
	    "how often ONS4 outcomes are recorded.</p>");
	tw_open(b, "t-commit", "The strategy's commitments by place");
	th_cols(b, cols, 15);
	for (i = 0; i < n; i++) {
		const cJSON *c = row_at(places, all, i), *s;

		row_head(b, name_of(c), i == n - 1);
		buf_adds(b, "<td>");
		if (i == n - 1) {
			val(b, get(c, "cyp_service.places_met"), 0);
			buf_adds(b, " of ");
			val(b, get(c, "cyp_service.places"), 0);
			buf_adds(b, " places");
		} else {
			flag(b, str(c, "cyp_service.flag"));
			buf_adds(b, " (");
			val(b, get(c, "cyp_service.pcns_with_cyp_referrals"), 0);
			buf_adds(b, " of ");
			val(b, get(c, "cyp_service.pcns_with_referrals"), 0);
			buf_adds(b, ")");
		}
		buf_adds(b, "</td><td>");
		val(b, get(c, "reach.per_1000_residents"), 2);
		buf_adds(b, " (");
		val(b, get(c, "reach.all_places_per_1000"), 2);
		buf_adds(b, ")</td>");
		ratio_cell(b, get(c, "reach"));
		ratio_cell(b, focus_of(c, "imd_quintile", "1"));
		for (k = 0; k < 4; k++)
			ratio_cell(b, focus_of(c, "ethnic_group", eth[k]));
		ratio_cell(b, focus_of(c, "age_band_census", "0-14"));
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(c, "shares"))
			td(b, get(s, "pct_of_referrals"), 1);
		td(b, get(c, "ons4_recording.pairs_pct_of_consented"), 1);
		buf_adds(b, "</tr>");
	}
	buf_adds(b, "</tbody>");
	tw_close(b);
}

/* -- one place ---------------------------------------------------------- */

static void
key_figures(struct buf *b, const cJSON *doc)
{
	static const struct {
		const char *label, *path;
		int dec;
	} k[] = {
		{"Referrals", "reach.referrals", 0},
		{"People", "reach.people", 0},
		{"Per 1,000 residents", "reach.per_1000_residents", 2},
		{"Declined %", "reach.declined_pct", 1},
		{"ONS4 pairs % of consented", "ons4.pairs_pct_of_consented", 1},
	};
	size_t i;

	buf_adds(b, "<dl class=\"key\">");
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		buf_adds(b, "<div><dt>");
		web_esc(b, k[i].label);
		buf_adds(b, "</dt><dd>");
		val(b, get(doc, k[i].path), k[i].dec);
		buf_adds(b, "</dd></div>");
	}
	buf_adds(b, "</dl>");
}

/* One breakdown's rates against the population: chart, table, source. */
static void
rates(struct buf *b, const cJSON *r, const char *title, const char *id,
    int chart)
{
	static const char *const cols[] = {"Group", "Residents", "Referrals",
	    "Per 1,000 residents", "Rate ratio", "95% CI low", "95% CI high",
	    "Against the place's rate"};
	struct ci_axis ax = {1, 1, "referred less", "referred more",
	    "Rate ratio (log scale)"};
	struct ci_row rows[32];
	const cJSON *g;
	int n = 0;
	char cap[200];

	cJSON_ArrayForEach(g, cJSON_GetObjectItem(r, "groups")) {
		if (n == 32)
			break;
		rows[n].label = str(g, "label");
		rows[n].est = num(get(g, "rate_ratio"));
		rows[n].lo = num(get(g, "rate_ratio_ci95_low"));
		rows[n].hi = num(get(g, "rate_ratio_ci95_high"));
		rows[n].why = cJSON_IsString(get(g, "rate_ratio")) ?
		    "withheld (too few)" : "no residents";
		rows[n].flag = cJSON_GetStringValue(get(g, "flag"));
		n++;
	}
	if (chart) {
		snprintf(cap, sizeof(cap), "%s: rate ratio, with 95%% interval",
		    title);
		chart_ci(b, cap, "Each group's referrals per resident over the "
		    "place's; 1 (the line) is in proportion to the population.",
		    &ax, rows, n);
	}
	snprintf(cap, sizeof(cap), "%s: referrals against residents", title);
	tw_open(b, id, cap);
	th_cols(b, cols, 8);
	cJSON_ArrayForEach(g, cJSON_GetObjectItem(r, "groups")) {
		row_head(b, str(g, "label"), 0);
		td(b, get(g, "population"), 0);
		td(b, get(g, "referrals"), 0);
		td(b, get(g, "rate_per_1000"), 2);
		td(b, get(g, "rate_ratio"), 2);
		td(b, get(g, "rate_ratio_ci95_low"), 2);
		td(b, get(g, "rate_ratio_ci95_high"), 2);
		buf_adds(b, "<td>");
		flag(b, cJSON_GetStringValue(get(g, "flag")));
		buf_adds(b, "</td></tr>");
	}
	buf_adds(b, "</tbody>");
	tw_close(b);
	buf_adds(b, "<p class=\"src\">Referrals with no population group (not "
	    "stated, not known, not recorded): ");
	val(b, get(r, "unknown_referrals"), 0);
	buf_adds(b, " (");
	val(b, get(r, "unknown_pct"), 1);
	buf_adds(b, "%), left out of the place's rate. Place's rate among the "
	    "rest: ");
	val(b, get(r, "reference_rate_per_1000"), 2);
	buf_adds(b, " per 1,000. Residents: ");
	web_esc(b, str(r, "source"));
	buf_adds(b, ".</p>");
}

static void
equity(struct buf *b, const cJSON *doc)
{
	static const struct {
		const char *key, *title;
		int chart;
	} parts[] = {
		{"ethnic_group", "Ethnic group", 1},
		{"imd_quintile", "Deprivation (IMD 2019 quintile)", 1},
		{"age_band_census", "Age band", 1},
		{"gender", "Sex (female, male)", 1},
		{"ethnicity", "Ethnic category", 0},
		{"imd_decile", "IMD 2019 decile", 0},
	};
	const cJSON *pr = cJSON_GetObjectItem(doc, "population_rates");
	char id[32];
	size_t i;

	if (cJSON_GetArraySize(pr) == 0) {
		buf_adds(b, "<p>No population denominators are loaded for this "
		    "place (pcmdsd population import).</p>");
		return;
	}
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const cJSON *r = cJSON_GetObjectItem(pr, parts[i].key);

		if (r == NULL)
			continue;
		snprintf(id, sizeof(id), "t-rate-%zu", i);
		rates(b, r, parts[i].title, id, parts[i].chart);
	}
}

static void
trend(struct buf *b, const cJSON *mdoc)
{
	static const char *const cols[] = {"Month", "Referrals", "People",
	    "Declined", "Pairs", "Life satisfaction change",
	    "Worthwhile change", "Happiness change", "Anxiety change"};
	const cJSON *months = cJSON_GetObjectItem(mdoc, "months"), *m;
	struct bar bars[IMPACT_MONTHS_MAX];
	struct ci_row ci[IMPACT_MONTHS_MAX];
	struct ci_axis ax = {0, 0, "worse", "better", "Mean change, points"};
	int n = 0, k;

	if (cJSON_GetArraySize(months) == 0) {
		buf_adds(b, "<p>No months in the period.</p>");
		return;
	}
	cJSON_ArrayForEach(m, months) {
		if (n == IMPACT_MONTHS_MAX)
			break;
		bars[n].label = str(m, "month");
		bars[n].v = get(m, "referrals");
		bars[n].all = 0;
		ci[n].label = str(m, "month");
		ci[n].est = num(get(m, "ons4.life_satisfaction.mean_change"));
		ci[n].lo = num(get(m, "ons4.life_satisfaction.ci95_low"));
		ci[n].hi = num(get(m, "ons4.life_satisfaction.ci95_high"));
		ci[n].why = "withheld (too few pairs)";
		ci[n].flag = NULL;
		n++;
	}
	chart_bars(b, "Referrals per month", "Referrals by the month they were "
	    "made; is reach growing?", bars, n, 0);
	chart_ci(b, "Life satisfaction: mean change by month of referral",
	    "With 95% intervals; the line is no change. The table has every "
	    "measure.", &ax, ci, n);
	tw_open(b, "t-months", "Month by month");
	th_cols(b, cols, 9);
	cJSON_ArrayForEach(m, months) {
		row_head(b, str(m, "month"), 0);
		td(b, get(m, "referrals"), 0);
		td(b, get(m, "people"), 0);
		td(b, get(m, "declined"), 0);
		td(b, get(m, "pairs"), 0);
		for (k = 0; k < ONS4_N; k++) {
			const cJSON *o = get(get(m, "ons4"),
			    ons4_measures[k].field);

			buf_adds(b, "<td>");
			val(b, get(o, "mean_change"), 1);
			if (cJSON_IsNumber(get(o, "ci95_low"))) {
				buf_adds(b, " (");
				val(b, get(o, "ci95_low"), 1);
				buf_adds(b, " to ");
				val(b, get(o, "ci95_high"), 1);
				buf_adds(b, ")");
			}
			buf_adds(b, "</td>");
		}
		buf_adds(b, "</tr>");
	}
	buf_adds(b, "</tbody>");
	tw_close(b);
}

/* The detail of one place: breakdown tables. */
static void
detail(struct buf *b, const cJSON *doc)
{
	static const struct {
		const char		*key;
		const char		*title;
		const struct codelist	*l;
	} parts[] = {
		{"reach.by_source", "Source of referral", &codes_source},
		{"reach.by_reason", "Reasons for referral", &codes_reason},
		{"reach.by_service", "Service", &codes_service},
		{"reach.by_age_band", "Age band", &codes_age_band},
		{"reach.by_gender", "Gender", &codes_gender},
		{"reach.closed_by_reason", "Closure reason", &codes_closure},
		{"reach.support.offered", "Support offered", &codes_support},
		{"reach.support.taken_up", "Support taken up", &codes_support},
	};
	static const char *const cols[] = {"Group", "Referrals"};
	char id[24];
	size_t i, g;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const cJSON *o = get(doc, parts[i].key);

		snprintf(id, sizeof(id), "t-detail-%zu", i);
		tw_open(b, id, parts[i].title);
		th_cols(b, cols, 2);
		for (g = 0; g < parts[i].l->n; g++) {
			row_head(b, parts[i].l->v[g].label, 0);
			td(b, cJSON_GetObjectItem(o, parts[i].l->v[g].code), 0);
			buf_adds(b, "</tr>");
		}
		buf_adds(b, "</tbody>");
		tw_close(b);
	}
}

/* Take-up per community asset of one place (takeup.h). */
static void
assets_table(struct buf *b, const cJSON *doc, int k)
{
	static const char *const cols[] = {"Asset", "Category",
	    "Referrals offered it", "Took it up", "Take-up %"};
	const cJSON *a, *ft = cJSON_GetObjectItem(doc, "free_text");
	char id[24], cap[300];

	snprintf(id, sizeof(id), "t-assets-%d", k);
	snprintf(cap, sizeof(cap), "Take-up per community asset: %s",
	    name_of(doc));
	if (cJSON_GetArraySize(cJSON_GetObjectItem(doc, "assets")) == 0) {
		buf_adds(b, "<p>No directory of community assets is loaded for ");
		web_esc(b, name_of(doc));
		buf_adds(b, " (pcmdsd assets import); only support recorded as "
		    "free text is counted.</p>");
	}
	tw_open(b, id, cap);
	th_cols(b, cols, 5);
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(doc, "assets")) {
		const char *cat = code_label(&codes_support, str(a, "category"));

		row_head(b, str(a, "name"), 0);
		buf_adds(b, "<td>");
		web_esc(b, cat ? cat : str(a, "category"));
		if (!cJSON_IsTrue(get(a, "active")))
			buf_adds(b, " (withdrawn from the directory)");
		buf_adds(b, "</td>");
		td(b, get(a, "offered"), 0);
		td(b, get(a, "taken_up"), 0);
		td(b, get(a, "taken_up_pct"), 1);
		buf_adds(b, "</tr>");
	}
	row_head(b, "Free text (no directory entry)", 0);
	buf_adds(b, "<td>&ndash;</td>");
	td(b, get(ft, "offered"), 0);
	td(b, get(ft, "taken_up"), 0);
	td(b, get(ft, "taken_up_pct"), 1);
	buf_adds(b, "</tr></tbody>");
	tw_close(b);
}

static void
assets_section(struct buf *b, cJSON *const *docs, int n)
{
	int k;

	buf_adds(b, "<h3 id=\"own-assets\">Community assets: take-up</h3><p>"
	    "For each entry of the place's directory: the referrals offered it "
	    "(a support record naming it; a referral counts once however often "
	    "it was offered) and those that took it up (taken up or completed)."
	    " Support recorded without a directory entry is one row.</p>");
	for (k = 0; k < n; k++)
		assets_table(b, docs[k], k);
}

/* -- the page -------------------------------------------------------- */

static void
period_form(struct buf *b, struct http_req *hr)
{
	const char *from = http_query(hr, "from"), *to = http_query(hr, "to");
	char today[DATE_LEN], last[8];
	int y, m, d;

	/* whole months, none still running: nothing finer is published */
	date_to_ymd(date_today(time(NULL)), &y, &m, &d);
	date_format(date_from_ymd(y, m, 1) - 1, today);
	snprintf(last, sizeof(last), "%.7s", today);
	buf_addf(b, "<form class=\"period\" method=\"get\" action=\"/dashboard"
	    "\"><label>From month<br><input type=\"month\" name=\"from\" "
	    "max=\"%s\" value=\"", last);
	web_esc(b, from ? from : "");
	buf_addf(b, "\"></label><label>To month<br><input type=\"month\" "
	    "name=\"to\" max=\"%s\" value=\"", last);
	web_esc(b, to ? to : "");
	buf_adds(b, "\"></label><button type=\"submit\">Show</button> "
	    "<span class=\"who\">Whole months, up to the last completed one"
	    "</span></form>");
}

static void
contents(struct buf *b, const char *own)
{
	buf_adds(b, "<nav aria-label=\"Contents\"><h2 id=\"contents\">Contents"
	    "</h2><ol><li><a href=\"#own\">");
	web_esc(b, own);
	buf_adds(b, "</a><ol><li><a href=\"#own-equity\">Reach against the "
	    "population</a></li><li><a href=\"#own-trend\">Month by month</a>"
	    "</li><li><a href=\"#own-detail\">Detail</a></li><li><a href=\""
	    "#own-assets\">Community assets: take-up</a></li></ol></li>"
	    "<li><a href=\"#places\">Every place</a><ol><li><a href=\""
	    "#commitments\">The strategy's commitments</a></li><li><a href=\""
	    "#reach\">Reach</a></li><li><a href=\"#ons4\">ONS4 wellbeing "
	    "change</a></li><li><a href=\"#who\">Who is reached</a></li></ol>"
	    "</li><li><a href=\"#about\">About these figures</a></li></ol>"
	    "</nav>");
}

static void
about(struct buf *b)
{
	buf_adds(b, "<h2 id=\"about\">About these figures</h2><p class=\"note\">"
	    "Disclosure control: every count carries a small fixed noise (the "
	    "cell key method: at most 3, the same for the same people every "
	    "time), then counts of 1 to 7 show as &ldquo;suppressed&rdquo; and "
	    "the others are rounded to the nearest 5; percentages, rates and "
	    "rate ratios come from those counts; means are to 0.1 and p-values "
	    "in bands; figures about suppressed groups are &ldquo;withheld"
	    "&rdquo;. Periods are whole completed months.</p><p>Rate ratios "
	    "compare a group's referrals per resident with the place's, among "
	    "referrals whose group is recorded; their 95% intervals are exact "
	    "Poisson intervals (as R's poisson.test). Residents: Census 2021 "
	    "(ethnic group, five-year age bands, sex) and ONS mid-2020 "
	    "small-area estimates by IMD 2019 decile; the NHS 2001 ethnic "
	    "categories the data set records are mapped from Census 2021's 19 "
	    "(Chinese under Other). Census bands give no 0-17, so rates use "
	    "under 15 and 15-24. ONS4 change is before and after, without a "
	    "comparison group: it does not show what would have happened "
	    "without social prescribing.</p>");
}

/* The place shown first: a place lead's own, or all places. */
static void
own_place(struct buf *b, const cJSON *one, const cJSON *months,
    cJSON *const *assets, int nassets)
{
	buf_adds(b, "<h2 id=\"own\">");
	web_esc(b, name_of(one));
	buf_adds(b, "</h2>");
	key_figures(b, one);
	buf_adds(b, "<h3 id=\"own-equity\">Reach against the population</h3>");
	equity(b, one);
	buf_adds(b, "<h3 id=\"own-trend\">Month by month</h3>");
	trend(b, months);
	buf_adds(b, "<h3 id=\"own-detail\">Detail</h3>");
	detail(b, one);
	assets_section(b, assets, nassets);
}

static void
every_place(struct buf *b, const cJSON *doc, const cJSON *com)
{
	const cJSON *places = cJSON_GetObjectItem(doc, "places");
	const cJSON *all = cJSON_GetObjectItem(doc, "all");

	buf_adds(b, "<h2 id=\"places\">Every place</h2><h3 id=\"commitments\">"
	    "The strategy's commitments</h3>");
	commitments(b, com);
	buf_adds(b, "<h3 id=\"reach\">Reach</h3>");
	reach_places(b, places, all);
	buf_adds(b, "<h3 id=\"ons4\">ONS4 wellbeing change</h3><p>People who "
	    "consented to evaluation, with a baseline and a later review or "
	    "final assessment.</p>");
	ons4_places(b, places, all);
	buf_adds(b, "<h3 id=\"who\">Who is reached</h3>");
	chart_mix(b, places, all, "by_imd_quintile", &codes_imd_quintile,
	    "Deprivation (IMD quintile of home area)");
	table_mix(b, places, all, "by_imd_quintile", &codes_imd_quintile,
	    "Deprivation (IMD quintile)", "t-mix-imd");
	chart_mix(b, places, all, "by_ethnic_group", &codes_ethnic_group,
	    "Ethnic group");
	table_mix(b, places, all, "by_ethnic_group", &codes_ethnic_group,
	    "Ethnic group", "t-mix-eth");
}

void
web_problem(struct http_req *hr, int status, const char *why)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "<main id=\"main\"><h1>These figures cannot be shown"
	    "</h1><p class=\"note\" role=\"alert\">");
	web_esc(&b, why);
	buf_adds(&b, "</p><p><a href=\"/dashboard\">Back to the dashboard "
	    "(the last completed months)</a></p></main>");
	web_page(hr, status, "Figures not shown", &b);
	buf_free(&b);
}

static void
takeup_free(cJSON **docs, int n)
{
	while (n-- > 0)
		cJSON_Delete(docs[n]);
	free(docs);
}

/*
 * Take-up per asset of the place shown first (q->place), or of every
 * place when that is all places: each place has a directory of its own.
 * NULL when a place's could not be made (never some of them).
 */
static cJSON **
takeup_docs(struct http_req *hr, const struct impact_req *q, int *n)
{
	struct agg *a = hr->srv->agg;
	struct impact_req pq = *q;
	cJSON **docs;
	int want, k;
	pc_rc rc;

	agg_read_begin(a);
	want = q->place >= 0 ? 1 : (int)a->nplaces;
	agg_read_end(a);
	docs = calloc((size_t)want + 1, sizeof(*docs));
	*n = 0;
	for (k = 0; docs != NULL && k < want; k++) {
		pq.place = q->place >= 0 ? q->place : k;
		if ((docs[k] = takeup_json(a, hr->store, &pq, &rc)) ==
		    NULL) {
			takeup_free(docs, k);
			return NULL;
		}
	}
	*n = want;
	return docs;
}

void
web_dashboard(struct http_req *hr)
{
	struct impact_req q;
	struct buf b;
	cJSON *doc, *one, *months, *com, **assets = NULL;
	int csv, too_long = 0, nassets = 0;

	if (http_header(hr, "Cookie") == NULL &&
	    http_header(hr, "Authorization") == NULL) {
		web_redirect(hr, "/login");
		return;
	}
	if (!auth_require(hr, AUTH_PLACE_LEAD | AUTH_EVALUATOR | AUTH_SESSION) ||
	    api_figures_params(hr, &q, &csv, 1) != 0)
		return;	/* the dashboard is always under disclosure control */
	doc = impact_places_json(hr->srv->agg, &q);
	com = impact_commitments_json(hr->srv->agg, &q);
	/* a place lead's own place first; an evaluator's: all places */
	if (hr->auth.user.role == ROLE_PLACE_LEAD)
		q.place = agg_place_find(hr->srv->agg, hr->auth.user.place);
	one = impact_json(hr->srv->agg, &q);
	months = impact_months_json(hr->srv->agg, &q, &too_long);
	if (doc != NULL && com != NULL && one != NULL && months != NULL)
		assets = takeup_docs(hr, &q, &nassets);
	if (doc == NULL || com == NULL || one == NULL || months == NULL ||
	    assets == NULL) {
		cJSON_Delete(doc);
		cJSON_Delete(com);
		cJSON_Delete(one);
		cJSON_Delete(months);
		web_problem(hr, too_long ? 400 : 503, too_long ? "The period is "
		    "too long for a monthly series; choose fewer months." :
		    months != NULL ? "The server could not read the support "
		    "records or is short of memory; reload in a moment." :
		    "The server is short of memory; reload in a moment.");
		return;
	}
	buf_init(&b, 0);
	buf_adds(&b, "<a class=\"skip\" href=\"#main\">Skip to the figures</a>"
	    "<header><h1>Social prescribing: reach and impact</h1>"
	    "<p class=\"who\">Signed in as ");
	web_esc(&b, hr->auth.user.name);
	buf_adds(&b, " (");
	web_esc(&b, store_role_name(hr->auth.user.role));
	if (hr->auth.user.place[0]) {
		buf_adds(&b, ", ");
		web_esc(&b, hr->auth.user.place);
	}
	buf_adds(&b, ") <form method=\"post\" action=\"/logout\"><button "
	    "type=\"submit\">Sign out</button></form></p>");
	period_form(&b, hr);
	buf_adds(&b, "<p class=\"who\">Period: ");
	web_esc(&b, str(doc, "period.from")[0] ? str(doc, "period.from") :
	    "the first referral");
	buf_adds(&b, " to ");
	web_esc(&b, str(doc, "period.to"));
	buf_adds(&b, ". Every figure is under disclosure control (<a href=\""
	    "#about\">about these figures</a>).</p></header>");
	contents(&b, name_of(one));
	buf_adds(&b, "<main id=\"main\" tabindex=\"-1\">");
	own_place(&b, one, months, assets, nassets);
	every_place(&b, doc, com);
	about(&b);
	buf_adds(&b, "</main><footer><p class=\"who\">pcmds ");
	buf_adds(&b, PCMDS_VERSION);
	buf_adds(&b, " &middot; figures generated ");
	web_esc(&b, str(doc, "generated_at"));
	buf_adds(&b, "</p></footer>");
	web_page(hr, 200, "Reach and impact", &b);
	buf_free(&b);
	cJSON_Delete(doc);
	cJSON_Delete(com);
	cJSON_Delete(one);
	cJSON_Delete(months);
	takeup_free(assets, nassets);
}

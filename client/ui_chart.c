/*
 * ui_chart.c - a referral's ONS4 scores over time: one small SVG chart
 * per measure, shaded by the ONS bands, then the same figures as a table
 * (the charts' text alternative). No script, no style attribute: the
 * SVG's presentation attributes satisfy the strict CSP.
 */
#include <stdio.h>
#include <string.h>

#include "ons4.h"
#include "ui.h"

#define W	300	/* viewBox */
#define H	150
#define L	34	/* plot area */
#define R	290
#define T	10
#define B	130
#define POINTS	200

struct point {
	int32_t	 on;
	int	 stage;
	int	 score[ONS4_N];
};

static const char *const band_fill[ONS4_NBANDS] = {
	"#f6d5cf", "#fbe9c6", "#d9ecd9", "#c4e2c4",
};

static int
points_of(const struct timeline *tl, struct point *p)
{
	size_t i;
	int n = 0, m, k;

	for (i = 0; i < tl->n && n < POINTS; i++) {
		const cJSON *c = tl_content(&tl->v[i]);
		struct point x;

		if (tl->v[i].voided || tl->v[i].rec->kind != KIND_ASSESSMENT ||
		    rec_flag(c, "declined", 0) == 1)
			continue;
		x.on = rec_day(c, "assessed_on");
		x.stage = code_index(&codes_stage, rec_str(c, "stage"));
		for (m = 0; m < ONS4_N; m++)
			x.score[m] = rec_int(c, ons4_measures[m].field, 0);
		/* in date order */
		for (k = n; k > 0 && p[k - 1].on > x.on; k--)
			p[k] = p[k - 1];
		p[k] = x;
		n++;
	}
	return n;
}

static int
y_of(int score)
{
	return B - (B - T) * score / 10;
}

static int
x_of(const struct point *p, int n, int i)
{
	int32_t span = p[n - 1].on - p[0].on;

	if (span <= 0)
		return n == 1 ? (L + R) / 2 : L + (R - L) * i / (n - 1);
	return L + (int)((int64_t)(R - L) * (p[i].on - p[0].on) / span);
}

/* The bands behind the plot: each score's strip, half a step each side. */
static void
bands(struct html *h, enum ons4_measure m)
{
	int half = (B - T) / 20, lo = 0, hi, top, bottom;

	while (lo <= 10) {
		for (hi = lo; hi < 10 && ons4_band(m, hi + 1) ==
		    ons4_band(m, lo); hi++)
			;
		top = hi == 10 ? T : y_of(hi) - half;
		bottom = lo == 0 ? B : y_of(lo) + half;
		/* coloured by how good the band is (anxiety: the other way) */
		html_f(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		    "fill=\"%m\"><title>%s: %d to %d</title></rect>", L, top,
		    R - L, bottom - top,
		    band_fill[ons4_measures[m].lower_better ?
		    ONS4_NBANDS - 1 - ons4_band(m, lo) : ons4_band(m, lo)],
		    ons4_measures[m].bands[ons4_band(m, lo)], lo, hi);
		lo = hi + 1;
	}
}

static void
axes(struct html *h)
{
	int s;

	for (s = 0; s <= 10; s += 5)
		html_f(h, "<text x=\"%d\" y=\"%d\" font-size=\"11\" "
		    "text-anchor=\"end\" fill=\"#0b0c0c\">%d</text>", L - 6,
		    y_of(s) + 4, s);
	html_f(h, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#0b0c0c\"/>", L, B, R, B);
}

static void
one_chart(struct html *h, enum ons4_measure m, const struct point *p, int n)
{
	const struct ons4_info *o = &ons4_measures[m];
	char d[DATE_LEN];
	int i;

	html_f(h, "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"c%d\">"
	    "<title id=\"c%d\">%s, 0 to 10%m, at each assessment</title>", W, H,
	    W, H, (int)m, (int)m, o->label, o->lower_better ?
	    " (lower is better)" : "");
	bands(h, m);
	axes(h);
	html_m(h, "<polyline fill=\"none\" stroke=\"#1d4f91\" "
	    "stroke-width=\"2\" points=\"");
	for (i = 0; i < n; i++)
		html_f(h, "%d,%d ", x_of(p, n, i), y_of(p[i].score[m]));
	html_m(h, "\"/>");
	for (i = 0; i < n; i++) {
		date_format_uk(p[i].on, d);
		html_f(h, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" "
		    "fill=\"#1d4f91\">"
		    "<title>%s %s: %d</title></circle>", x_of(p, n, i),
		    y_of(p[i].score[m]), codes_stage.v[p[i].stage].label, d,
		    p[i].score[m]);
	}
	html_f(h, "</svg><figcaption>%s</figcaption></figure>", o->label);
}

static void
table(struct html *h, const struct point *p, int n)
{
	char d[DATE_LEN];
	int i, m;

	html_m(h, "<div class=\"table\"><table><caption>ONS4 scores (0 to 10; "
	    "for anxiety lower is better)</caption><thead><tr><th scope="
	    "\"col\">Date</th><th scope=\"col\">Stage</th>");
	for (m = 0; m < ONS4_N; m++)
		html_f(h, "<th scope=\"col\">%s</th>", ons4_measures[m].label);
	html_m(h, "</tr></thead><tbody>");
	for (i = 0; i < n; i++) {
		date_format_uk(p[i].on, d);
		html_f(h, "<tr><th scope=\"row\">%s</th><td>%s</td>", d,
		    codes_stage.v[p[i].stage].label);
		for (m = 0; m < ONS4_N; m++)
			html_f(h, "<td>%d (%s)</td>", p[i].score[m],
			    ons4_measures[m].bands[ons4_band(
			    (enum ons4_measure)m, p[i].score[m])]);
		html_m(h, "</tr>");
	}
	html_m(h, "</tbody></table></div>");
}

void
ui_chart(struct html *h, const struct timeline *tl)
{
	static struct point p[POINTS + 1];
	int n = points_of(tl, p), m;

	if (n == 0)
		return;
	html_m(h, "<p>The shading shows the ONS bands, from red (low; for "
	    "anxiety, high) to green (very high; for anxiety, very low).</p>"
	    "<div class=\"charts\">");
	for (m = 0; m < ONS4_N; m++)
		one_chart(h, (enum ons4_measure)m, p, n);
	html_m(h, "</div>");
	table(h, p, n);
}

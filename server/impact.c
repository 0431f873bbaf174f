/*
 * impact.c - figures documents from aggregate cells.
 *
 * With disclosure control off every figure is the exact double. With it
 * on, counts go through sdc.c, and every other figure is either worked
 * out from published figures (percentages, rates, intervals, the t-test,
 * Cohen's dz, the mean change) or rounded so coarsely that it cannot give
 * away the n it rests on: means and SDs to 0.1 (every n of 10 or more has
 * whole-number totals giving any mean to 0.1), medians to whole days,
 * p-values to bands.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "date.h"
#include "impact.h"
#include "jout.h"
#include "poisson.h"
#include "pop.h"
#include "stats.h"

double
impact_median(const long *h, size_t nb, long n)
{
	long lo = (n + 1) / 2, hi = n / 2 + 1, cum = 0;
	double a = NAN, b = NAN;
	size_t i;

	if (n <= 0)
		return NAN;
	for (i = 0; i < nb; i++) {
		cum += h[i];
		if (isnan(a) && cum >= lo)
			a = (double)i;
		if (isnan(b) && cum >= hi) {
			b = (double)i;
			break;
		}
	}
	return (a + b) / 2;
}

static const char **
codes_of(const struct codelist *l)
{
	static const char *v[32];
	size_t i;

	for (i = 0; i < l->n && i < 32; i++)
		v[i] = l->v[i].code;
	return v;
}

/*
 * How a scope (a place, all places, or one group of a breakdown) is
 * published. When its referrals are suppressed, every figure about its
 * people is suppressed or withheld, in every section (reach, closures,
 * support, ONS4); when they are published as 0, every count is 0, so that
 * no other figure tells that someone is there.
 */
enum show { SHOW, HIDE, EMPTY };

struct pub {
	const struct sdc	*s;
	enum show		 show;
};

/* A count of cell c with its cell key. */
#define N(c, field)	((struct sdc_n){(c)->field, (c)->key.field})

static enum show
show_of(const struct sdc *s, struct sdc_n referrals)
{
	long v = sdc_value(s, referrals);

	return v < 0 ? HIDE : v == 0 && s->on ? EMPTY : SHOW;
}

static cJSON *
withheld(void)
{
	return cJSON_CreateString("withheld");
}

static cJSON *
cnt(const struct pub *p, struct sdc_n n)
{
	if (p->show == HIDE)
		return cJSON_CreateString("suppressed");
	if (p->show == EMPTY)
		return cJSON_CreateNumber(0);
	return sdc_count(p->s, n);
}

static cJSON *
pct(const struct pub *p, struct sdc_n num, struct sdc_n den)
{
	if (p->show == HIDE)
		return withheld();
	if (p->show == EMPTY)
		return cJSON_CreateNull();
	return sdc_pct(p->s, num, den);
}

/*
 * A breakdown of total into groups (counts v, keys k): suppressed whole
 * when the scope or the total is.
 */
static void
add_breakdown(cJSON *o, const char *name, const struct pub *p,
    struct sdc_n total, const long *v, const long *k,
    const struct codelist *l)
{
	struct sdc_n n[32];
	size_t i;

	for (i = 0; i < l->n && i < 32; i++)
		n[i] = (struct sdc_n){v[i], k[i]};
	if (p->show != SHOW) {
		cJSON *b = cJSON_AddObjectToObject(o, name);

		for (i = 0; i < l->n; i++)
			cJSON_AddItemToObject(b, l->v[i].code, cnt(p, n[i]));
		return;
	}
	cJSON_AddItemToObject(o, name, sdc_breakdown_json(p->s, total, n,
	    codes_of(l), l->n));
}

/* A median resting on n: whole units under control, withheld unshown. */
static cJSON *
median(const struct pub *p, const long *hist, size_t nb, struct sdc_n n)
{
	long v = sdc_value(p->s, n);

	if (p->show == HIDE || v < 0)
		return withheld();
	if (p->show == EMPTY || v == 0)
		return cJSON_CreateNull();
	return sdc_stat(p->s, impact_median(hist, nb, n.n), 0);
}

static cJSON *
reach_json(const struct agg_cell *c, long population, const struct pub *p)
{
	static const char *const by_names[DIM_N] = {
		NULL, "by_source", "by_reason", "by_service", "by_ethnic_group",
		"by_imd_quintile", "by_age_band", "by_gender", "carer",
		"learning_disability", "autism", "homeless", "by_ethnicity",
		"by_imd_decile", "by_age_band_census",
	};
	const struct sdc *s = p->s;
	int dec = code_index(&codes_closure, "declined"), d;
	long shown = p->show == SHOW ? sdc_value(s, N(c, referrals)) : p->show ==
	    EMPTY ? 0 : -1;
	cJSON *o = cJSON_CreateObject(), *sup;

	cJSON_AddItemToObject(o, "referrals", cnt(p, N(c, referrals)));
	cJSON_AddItemToObject(o, "people", cnt(p, N(c, people)));
	/* from the published count: a rate gives nothing more away */
	if (shown < 0)
		cJSON_AddItemToObject(o, "per_1000_residents", withheld());
	else if (population > 0)
		cJSON_AddItemToObject(o, "per_1000_residents", sdc_stat(s,
		    1000.0 * (double)shown / (double)population, 2));
	else
		cJSON_AddNullToObject(o, "per_1000_residents");
	cJSON_AddItemToObject(o, "consented", cnt(p, N(c, consented)));
	cJSON_AddItemToObject(o, "closed", cnt(p, N(c, closed)));
	cJSON_AddItemToObject(o, "declined_pct", pct(p, (struct sdc_n){
	    c->closed_by[dec], c->key.closed_by[dec]}, N(c, referrals)));
	add_breakdown(o, "closed_by_reason", p, N(c, closed), c->closed_by,
	    c->key.closed_by, &codes_closure);
	cJSON_AddItemToObject(o, "median_days_to_first_contact", median(p,
	    c->days_hist, AGG_DAYS, N(c, days_n)));
	cJSON_AddItemToObject(o, "median_contacts_per_closed_referral",
	    median(p, c->closed_contacts, AGG_CONTACTS, N(c, closed)));
	cJSON_AddItemToObject(o, "contacts", cnt(p, N(c, contacts)));
	cJSON_AddItemToObject(o, "attended_contacts", cnt(p, N(c, attended)));
	sup = cJSON_AddObjectToObject(o, "support");
	add_breakdown(sup, "offered", p, N(c, referrals), c->offered,
	    c->key.offered, &codes_support);
	add_breakdown(sup, "taken_up", p, N(c, referrals), c->taken,
	    c->key.taken, &codes_support);
	for (d = 1; d < DIM_N; d++)
		add_breakdown(o, by_names[d], p, N(c, referrals), c->by[d],
		    c->key.by[d], agg_dims[d].codes);
	return o;
}

/* Exact figures of one measure: full precision, R's Wilcoxon default. */
static void
measure_exact(cJSON *j, const struct agg_ons4 *o, const struct sdc *s,
    const struct stats_summary *ps, const struct stats_wilcoxon *w)
{
	double n = (double)o->n;

	cJSON_AddItemToObject(j, "mean_baseline", sdc_stat(s,
	    (double)o->sum_base / n, 0));
	cJSON_AddItemToObject(j, "mean_followup", sdc_stat(s,
	    (double)o->sum_follow / n, 0));
	cJSON_AddItemToObject(j, "mean_change", sdc_stat(s, ps->mean, 0));
	cJSON_AddItemToObject(j, "sd_change", sdc_stat(s, ps->sd, 0));
	cJSON_AddItemToObject(j, "ci95_low", sdc_stat(s, ps->ci_low, 0));
	cJSON_AddItemToObject(j, "ci95_high", sdc_stat(s, ps->ci_high, 0));
	cJSON_AddItemToObject(j, "t_test_p", sdc_p(s, ps->p));
	cJSON_AddItemToObject(j, "wilcoxon_p", sdc_p(s, w->p));
	cJSON_AddStringToObject(j, "wilcoxon_method",
	    stats_method_name(w->method));
	cJSON_AddItemToObject(j, "cohens_dz", sdc_stat(s, ps->dz, 0));
}

/*
 * Figures of one measure under disclosure control, resting on the
 * published n (npub, 10 or more): means and SD to 0.1, the mean change as
 * the difference of the published means, the interval, t-test and dz
 * from the published mean change, SD and n; the Wilcoxon p (always the
 * normal approximation: naming the exact test would say n < 50 and no
 * ties) as a band.
 */
static void
measure_controlled(cJSON *j, const struct agg_ons4 *o, const struct sdc *s,
    long npub, const struct stats_summary *ps, const struct stats_wilcoxon *w)
{
	double n = (double)o->n, np = (double)npub, mb, mf, mc, sd, se, q;
	double t;

	mb = round((double)o->sum_base / n * 10) / 10;
	mf = round((double)o->sum_follow / n * 10) / 10;
	mc = round((mf - mb) * 10) / 10;
	sd = isnan(ps->sd) ? NAN : round(ps->sd * 10) / 10;
	se = sd / sqrt(np);
	q = stats_t_quantile(0.975, np - 1);
	t = se > 0 ? mc / se : NAN;
	cJSON_AddItemToObject(j, "mean_baseline", sdc_stat(s, mb, 1));
	cJSON_AddItemToObject(j, "mean_followup", sdc_stat(s, mf, 1));
	cJSON_AddItemToObject(j, "mean_change", sdc_stat(s, mc, 1));
	cJSON_AddItemToObject(j, "sd_change", sdc_stat(s, sd, 1));
	cJSON_AddItemToObject(j, "ci95_low", sdc_stat(s, mc - q * se, 1));
	cJSON_AddItemToObject(j, "ci95_high", sdc_stat(s, mc + q * se, 1));
	cJSON_AddItemToObject(j, "t_test_p", sdc_p(s, isnan(t) ? NAN :
	    2 * stats_t_sf(fabs(t), np - 1)));
	cJSON_AddItemToObject(j, "wilcoxon_p", sdc_p(s, w->p_normal));
	cJSON_AddStringToObject(j, "wilcoxon_method", isnan(w->p_normal) ?
	    "none" : stats_method_name(STATS_NORMAL));
	cJSON_AddItemToObject(j, "cohens_dz", sdc_stat(s, sd > 0 ? mc / sd :
	    NAN, 2));
}

/* Every statistic of a measure as v: "withheld", or null (n is 0). */
static void
add_all(cJSON *j, int null)
{
	static const char *const keys[] = {"mean_baseline", "mean_followup",
	    "mean_change", "sd_change", "ci95_low", "ci95_high", "t_test_p",
	    "wilcoxon_p", "wilcoxon_method", "cohens_dz"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cJSON_AddItemToObject(j, keys[i], null ? (i == 8 ?
		    cJSON_CreateString("none") : cJSON_CreateNull()) :
		    withheld());
}

static cJSON *
measure_json(const struct agg_cell *c, int m, const struct pub *p)
{
	const struct agg_ons4 *o = &c->ons4[m];
	struct sdc_n n = N(c, pairs);
	struct stats_rank_group g[10];
	struct stats_summary ps;
	struct stats_wilcoxon w;
	cJSON *j = cJSON_CreateObject();
	long npub = p->show == SHOW ? sdc_value(p->s, n) : p->show == EMPTY ?
	    0 : -1;
	int k;

	stats_from_sums(o->n, (double)o->sum_d, (double)o->sum_d2, &ps);
	for (k = 1; k <= 10; k++) {
		g[k - 1].absval = k;
		g[k - 1].pos = o->hist_d[10 + k];
		g[k - 1].neg = o->hist_d[10 - k];
	}
	stats_wilcoxon_groups(g, 10, o->hist_d[10], &w);
	cJSON_AddItemToObject(j, "n", cnt(p, n));
	if (npub <= 0)
		add_all(j, npub == 0);
	else if (!p->s->on)
		measure_exact(j, o, p->s, &ps, &w);
	else
		measure_controlled(j, o, p->s, npub, &ps, &w);
	cJSON_AddItemToObject(j, "improved_pct", pct(p, (struct sdc_n){
	    o->improved, c->key.improved[m]}, n));
	cJSON_AddItemToObject(j, "worst_band_at_baseline", cnt(p,
	    (struct sdc_n){o->worst_base, c->key.worst_base[m]}));
	cJSON_AddItemToObject(j, "left_worst_band_pct", pct(p, (struct sdc_n){
	    o->left_worst, c->key.left_worst[m]}, (struct sdc_n){o->worst_base,
	    c->key.worst_base[m]}));
	return j;
}

static cJSON *
ons4_json(const struct agg_cell *c, const struct pub *p)
{
	cJSON *o = cJSON_CreateObject();
	int m;

	cJSON_AddItemToObject(o, "consented_referrals", cnt(p,
	    N(c, consented)));
	cJSON_AddItemToObject(o, "pairs", cnt(p, N(c, pairs)));
	/* who is left out matters as much as the change: report the share */
	cJSON_AddItemToObject(o, "pairs_pct_of_consented", pct(p, N(c, pairs),
	    N(c, consented)));
	for (m = 0; m < ONS4_N; m++)
		cJSON_AddItemToObject(o, ons4_measures[m].field,
		    measure_json(c, m, p));
	return o;
}

/* -- reach against the population (pop.h says how) ------------------- */

/* The breakdowns with population denominators, in the order shown. */
static const enum agg_dim rate_dims[] = {DIM_ETHNIC_GROUP, DIM_ETHNICITY,
    DIM_AGE_BAND_CENSUS, DIM_GENDER, DIM_IMD_QUINTILE, DIM_IMD_DECILE};

/* A scope's denominators in one table: one place's, or every place's. */
static void
scope_pop(struct agg *a, const struct impact_req *q, enum pop_table t,
    struct pop_counts *out)
{
	const char *codes[64];
	size_t i, n = 0;

	if (q->place >= 0)
		codes[n++] = a->places[q->place].p.code;
	else
		for (i = 0; i < a->nplaces && n < 64; i++)
			codes[n++] = a->places[i].p.code;
	pop_sum(a->pop, codes, n, t, out);
}

/* The words of a ratio's interval: below, above or in line with 1. */
static const char *
ratio_flag(double lo, double hi)
{
	if (isnan(lo) || isnan(hi))
		return NULL;
	return hi < 1 ? "below" : lo > 1 ? "above" : "in_line";
}

/*
 * One group's rate and ratio from the published count x (or -1 when
 * hidden), its residents n, and the reference: xref referrals among t
 * residents.
 */
static void
add_rate(cJSON *o, const struct sdc *s, long x, long n, double xref,
    long t)
{
	struct poisson_ratio r;
	const char *flag;
	int dec = s->on ? 2 : 0;

	cJSON_AddNumberToObject(o, "population", (double)n);
	if (x < 0) {
		cJSON_AddItemToObject(o, "rate_per_1000", withheld());
		cJSON_AddItemToObject(o, "rate_ratio", withheld());
		cJSON_AddItemToObject(o, "rate_ratio_ci95_low", withheld());
		cJSON_AddItemToObject(o, "rate_ratio_ci95_high", withheld());
		cJSON_AddItemToObject(o, "flag", withheld());
		return;
	}
	if (n <= 0 || t <= 0) {
		r.ratio = r.low = r.high = NAN;
		cJSON_AddNullToObject(o, "rate_per_1000");
	} else {
		cJSON_AddItemToObject(o, "rate_per_1000", sdc_stat(s, 1000.0 *
		    (double)x / (double)n, dec));
		poisson_ratio((double)x, (double)n * xref / (double)t, &r);
	}
	cJSON_AddItemToObject(o, "rate_ratio", sdc_stat(s, r.ratio, dec));
	cJSON_AddItemToObject(o, "rate_ratio_ci95_low", sdc_stat(s, r.low,
	    dec));
	cJSON_AddItemToObject(o, "rate_ratio_ci95_high", sdc_stat(s, r.high,
	    dec));
	if ((flag = ratio_flag(r.low, r.high)) != NULL)
		cJSON_AddStringToObject(o, "flag", flag);
	else
		cJSON_AddNullToObject(o, "flag");
}

/*
 * Rates of one breakdown of cell c against the table's denominators: the
 * same hiding as the breakdown of referrals, every figure from published
 * counts.
 */
static cJSON *
rates_json(const struct agg_cell *c, enum agg_dim d,
    const struct pop_counts *pc, const struct pub *p)
{
	const struct codelist *l = agg_dims[d].codes;
	const struct sdc *s = p->s;
	struct sdc_n v[32];
	int hidden[32], zero[32];
	long xs[32], unknown = 0, total, xref;
	cJSON *o = cJSON_CreateObject(), *arr;
	size_t g;

	for (g = 0; g < l->n && g < 32; g++)
		v[g] = (struct sdc_n){c->by[d][g], c->key.by[d][g]};
	sdc_breakdown(s, N(c, referrals), v, l->n, hidden, zero);
	total = p->show == SHOW ? sdc_value(s, N(c, referrals)) : p->show ==
	    EMPTY ? 0 : -1;
	for (g = 0; g < l->n && g < 32; g++) {
		xs[g] = p->show == HIDE || hidden[g] ? -1 : p->show == EMPTY ||
		    zero[g] ? 0 : sdc_value(s, v[g]);
		/* a hidden unknown count (below the threshold) counts as 0 */
		if (pop_group(pc, d, (int)g) < 0 && xs[g] > 0)
			unknown += xs[g];
	}
	xref = total < 0 ? -1 : total - unknown;
	cJSON_AddStringToObject(o, "breakdown", agg_dims[d].name);
	cJSON_AddStringToObject(o, "table", pop_tables[pop_table_of(d)].name);
	cJSON_AddStringToObject(o, "source", pc->source);
	cJSON_AddNumberToObject(o, "population_total", (double)pc->total);
	if (total < 0) {
		cJSON_AddItemToObject(o, "referrals_known", withheld());
		cJSON_AddItemToObject(o, "unknown_referrals", withheld());
		cJSON_AddItemToObject(o, "unknown_pct", withheld());
		cJSON_AddItemToObject(o, "reference_rate_per_1000", withheld());
	} else {
		cJSON_AddNumberToObject(o, "referrals_known", (double)xref);
		cJSON_AddNumberToObject(o, "unknown_referrals", (double)unknown);
		if (total > 0)
			cJSON_AddItemToObject(o, "unknown_pct", sdc_stat(s, 100.0 *
			    (double)unknown / (double)total, 1));
		else
			cJSON_AddNullToObject(o, "unknown_pct");
		cJSON_AddItemToObject(o, "reference_rate_per_1000", pc->total >
		    0 ? sdc_stat(s, 1000.0 * (double)xref / (double)pc->total,
		    s->on ? 2 : 0) : cJSON_CreateNull());
	}
	arr = cJSON_AddArrayToObject(o, "groups");
	for (g = 0; g < l->n && g < 32; g++) {
		long n = pop_group(pc, d, (int)g);
		cJSON *gr;

		if (n < 0)
			continue;	/* no population: counted as unknown */
		gr = cJSON_CreateObject();
		cJSON_AddStringToObject(gr, "group", l->v[g].code);
		cJSON_AddStringToObject(gr, "label", l->v[g].label);
		cJSON_AddItemToObject(gr, "referrals", xs[g] < 0 ?
		    cJSON_CreateString("suppressed") : cJSON_CreateNumber(
		    (double)xs[g]));
		add_rate(gr, s, xs[g], n, (double)xref, pc->total);
		cJSON_AddItemToArray(arr, gr);
	}
	return o;
}

/* Every breakdown with denominators, for a scope whose cell is c. */
static cJSON *
population_json(struct agg *a, const struct impact_req *q,
    const struct agg_cell *c, const struct pub *p)
{
	cJSON *o = cJSON_CreateObject();
	struct pop_counts pc;
	size_t i;

	for (i = 0; i < sizeof(rate_dims) / sizeof(rate_dims[0]); i++) {
		scope_pop(a, q, pop_table_of(rate_dims[i]), &pc);
		if (pc.loaded)
			cJSON_AddItemToObject(o, agg_dims[rate_dims[i]].name,
			    rates_json(c, rate_dims[i], &pc, p));
	}
	return o;
}

static void
add_scope(cJSON *doc, struct agg *a, const struct impact_req *q,
    long population)
{
	cJSON *sc = cJSON_AddObjectToObject(doc, "scope"), *p;
	char d[DATE_LEN], now[TIME_LEN];

	if (q->place >= 0) {
		cJSON_AddStringToObject(sc, "place", a->places[q->place].p.code);
		cJSON_AddStringToObject(sc, "name", a->places[q->place].p.name);
	} else {
		cJSON_AddStringToObject(sc, "place", "ALL");
		cJSON_AddStringToObject(sc, "name", "All places");
	}
	cJSON_AddNumberToObject(sc, "population", (double)population);
	p = cJSON_AddObjectToObject(doc, "period");
	if (q->from > INT32_MIN) {
		date_format(q->from, d);
		cJSON_AddStringToObject(p, "from", d);
	} else
		cJSON_AddNullToObject(p, "from");
	if (q->to < INT32_MAX) {
		date_format(q->to, d);
		cJSON_AddStringToObject(p, "to", d);
	} else
		cJSON_AddNullToObject(p, "to");
	if (q->sdc.on)
		cJSON_AddStringToObject(p, "basis", q->to_defaulted ?
		    "whole completed months: to is the end of the last "
		    "completed month" : "whole completed months");
	else
		cJSON_AddStringToObject(p, "basis", "days, as asked");
	cJSON_AddBoolToObject(doc, "disclosure_control", q->sdc.on);
	if (q->sdc.on)
		cJSON_AddNumberToObject(doc, "suppression_threshold",
		    (double)q->sdc.threshold);
	else {
		/* a figure pasted elsewhere must not pass as publishable */
		cJSON_AddBoolToObject(doc, "unsuppressed", 1);
		cJSON_AddStringToObject(doc, "notice", IMPACT_UNSUPPRESSED);
	}
	time_format((int64_t)time(NULL), now);
	cJSON_AddStringToObject(doc, "generated_at", now);
}

void
impact_scope(cJSON *doc, struct agg *a, const struct impact_req *q,
    long population)
{
	add_scope(doc, a, q, population);
}

/* A group's rate fields, copied from its breakdown's rates (or null). */
static void
group_rates(cJSON *o, const cJSON *rates, const char *code, const cJSON **rg)
{
	static const char *const keys[] = {"population", "rate_per_1000",
	    "rate_ratio", "rate_ratio_ci95_low", "rate_ratio_ci95_high",
	    "flag"};
	const cJSON *g;
	size_t i;

	*rg = NULL;
	cJSON_ArrayForEach(g, cJSON_GetObjectItem(rates, "groups"))
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(g, "group")),
		    code) == 0)
			*rg = g;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cJSON_AddItemToObject(o, keys[i], *rg ? cJSON_Duplicate(
		    cJSON_GetObjectItem(*rg, keys[i]), 1) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "population_source", cJSON_GetStringValue(
	    cJSON_GetObjectItem(rates, "source")));
}

static cJSON *
groups_json(struct agg *a, const struct impact_req *q,
    const struct agg_result *r, enum agg_dim d, const struct pub *tp)
{
	const struct codelist *l = agg_dims[d].codes;
	const struct sdc *s = tp->s;
	int dec = code_index(&codes_closure, "declined"), g;
	cJSON *arr = cJSON_CreateArray(), *rates = NULL;
	const cJSON *rg = NULL;
	struct sdc_n refs[32];
	int hidden[32], zero[32];
	struct pop_counts pc;

	/* the same hiding as the reach section's breakdown of these people */
	for (g = 0; g < r->ngroups && g < 32; g++)
		refs[g] = N(&r->groups[g], referrals);
	sdc_breakdown(s, N(&r->total, referrals), refs, (size_t)r->ngroups,
	    hidden, zero);
	if (pop_table_of(d) != POP_N) {
		scope_pop(a, q, pop_table_of(d), &pc);
		if (pc.loaded)
			rates = rates_json(&r->total, d, &pc, tp);
	}
	for (g = 0; g < r->ngroups && g < 32; g++) {
		const struct agg_cell *c = &r->groups[g];
		struct pub p = {s, tp->show != SHOW ? tp->show : hidden[g] ?
		    HIDE : zero[g] ? EMPTY : SHOW};
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "group", l->v[g].code);
		cJSON_AddStringToObject(o, "label", l->v[g].label);
		cJSON_AddItemToObject(o, "referrals", cnt(&p, N(c, referrals)));
		cJSON_AddItemToObject(o, "people", cnt(&p, N(c, people)));
		cJSON_AddItemToObject(o, "consented", cnt(&p, N(c, consented)));
		cJSON_AddItemToObject(o, "declined_pct", pct(&p, (struct sdc_n){
		    c->closed_by[dec], c->key.closed_by[dec]}, N(c, referrals)));
		if (rates != NULL)
			group_rates(o, rates, l->v[g].code, &rg);
		cJSON_AddItemToObject(o, "ons4", ons4_json(c, &p));
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_Delete(rates);
	return arr;
}

/* The figures document of a query already run. */
static cJSON *
figures_json(struct agg *a, const struct impact_req *q,
    const struct agg_result *r)
{
	struct pub p = {&q->sdc, show_of(&q->sdc, N(&r->total, referrals))};
	cJSON *doc = cJSON_CreateObject();

	add_scope(doc, a, q, r->population);
	cJSON_AddItemToObject(doc, "reach", reach_json(&r->total, r->population,
	    &p));
	cJSON_AddItemToObject(doc, "ons4", ons4_json(&r->total, &p));
	if (q->group_by != DIM_NONE) {
		cJSON_AddStringToObject(doc, "group_by",
		    agg_dims[q->group_by].name);
		cJSON_AddItemToObject(doc, "groups", groups_json(a, q, r,
		    q->group_by, &p));
	}
	cJSON_AddItemToObject(doc, "population_rates", population_json(a, q,
	    &r->total, &p));
	return doc;
}

cJSON *
impact_json(struct agg *a, const struct impact_req *q)
{
	struct agg_query aq = {q->place, q->from, q->to, q->group_by};
	struct agg_result r;
	cJSON *doc = NULL;

	agg_read_begin(a);
	if (agg_run(a, &aq, &r) == PC_OK) {
		doc = figures_json(a, q, &r);
		agg_result_free(&r);
	}
	agg_read_end(a);
	return doc;
}

/* Headline of one scope: the reach figures and the ONS4 mean changes. */
static cJSON *
headline(struct agg *a, const struct impact_req *q,
    const struct agg_result *r)
{
	static const char *const keep[] = {"referrals", "people",
	    "per_1000_residents", "consented", "closed", "declined_pct",
	    "median_days_to_first_contact", "by_imd_quintile",
	    "by_ethnic_group"};
	cJSON *full = figures_json(a, q, r), *o, *reach, *ons4;
	size_t i;

	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "scope", cJSON_DetachItemFromObject(full,
	    "scope"));
	reach = cJSON_GetObjectItem(full, "reach");
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		cJSON_AddItemToObject(o, keep[i],
		    cJSON_DetachItemFromObject(reach, keep[i]));
	ons4 = cJSON_DetachItemFromObject(full, "ons4");
	cJSON_AddItemToObject(o, "ons4", ons4);
	cJSON_Delete(full);
	return o;
}

static cJSON *
places_json(struct agg *a, const struct impact_req *base)
{
	struct agg_query aq = {-1, base->from, base->to, DIM_NONE};
	struct impact_req q = *base;
	struct agg_result *each, all;
	cJSON *doc, *arr;
	size_t i;

	if ((each = calloc(a->nplaces ? a->nplaces : 1, sizeof(*each))) ==
	    NULL)
		return NULL;
	if (agg_run_places(a, &aq, each, &all) != PC_OK) {
		free(each);
		return NULL;
	}
	doc = cJSON_CreateObject();
	q.group_by = DIM_NONE;
	q.place = -1;
	add_scope(doc, a, &q, 0);
	cJSON_DeleteItemFromObject(doc, "scope");
	arr = cJSON_AddArrayToObject(doc, "places");
	for (i = 0; i < a->nplaces; i++) {
		q.place = (int)i;
		cJSON_AddItemToArray(arr, headline(a, &q, &each[i]));
	}
	q.place = -1;
	cJSON_AddItemToObject(doc, "all", headline(a, &q, &all));
	free(each);
	return doc;
}

cJSON *
impact_places_json(struct agg *a, const struct impact_req *base)
{
	cJSON *doc;

	agg_read_begin(a);
	doc = places_json(a, base);
	agg_read_end(a);
	return doc;
}

/* -- month by month ------------------------------------------------------- */

static cJSON *
day_json(int32_t d)
{
	char t[DATE_LEN];

	date_format(d, t);
	return cJSON_CreateString(t);
}

/* One month's figures (days from..to of it): reach and ONS4 change. */
static cJSON *
month_json(const struct agg_cell *c, const struct sdc *s, int32_t from,
    int32_t to)
{
	static const char *const keep[] = {"n", "mean_change", "ci95_low",
	    "ci95_high"};
	struct pub p = {s, show_of(s, N(c, referrals))};
	int dec = code_index(&codes_closure, "declined"), m;
	struct sdc_n declined = {c->closed_by[dec], c->key.closed_by[dec]};
	cJSON *o = cJSON_CreateObject(), *ons4;
	char t[DATE_LEN];
	size_t i;

	date_format(from, t);
	t[7] = '\0';
	cJSON_AddStringToObject(o, "month", t);
	cJSON_AddItemToObject(o, "from", day_json(from));
	cJSON_AddItemToObject(o, "to", day_json(to));
	cJSON_AddItemToObject(o, "referrals", cnt(&p, N(c, referrals)));
	cJSON_AddItemToObject(o, "people", cnt(&p, N(c, people)));
	cJSON_AddItemToObject(o, "consented", cnt(&p, N(c, consented)));
	cJSON_AddItemToObject(o, "declined", cnt(&p, declined));
	cJSON_AddItemToObject(o, "declined_pct", pct(&p, declined,
	    N(c, referrals)));
	cJSON_AddItemToObject(o, "pairs", cnt(&p, N(c, pairs)));
	cJSON_AddItemToObject(o, "pairs_pct_of_consented", pct(&p, N(c, pairs),
	    N(c, consented)));
	ons4 = cJSON_AddObjectToObject(o, "ons4");
	for (m = 0; m < ONS4_N; m++) {
		cJSON *full = measure_json(c, m, &p), *mo;

		mo = cJSON_AddObjectToObject(ons4, ons4_measures[m].field);
		for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			cJSON_AddItemToObject(mo, keep[i],
			    cJSON_DetachItemFromObject(full, keep[i]));
		cJSON_Delete(full);
	}
	return o;
}

static long
scope_population(const struct agg *a, int place)
{
	long n = 0;
	size_t i;

	for (i = 0; i < a->nplaces; i++)
		if (place < 0 || (size_t)place == i)
			n += a->places[i].p.population;
	return n;
}

static cJSON *
months_json(struct agg *a, const struct impact_req *base, int *too_long)
{
	struct impact_req q = *base;
	struct agg_query aq;
	struct agg_cell *cells;
	cJSON *doc, *arr;
	int n, k, y, m, d;
	int32_t first, from, to;
	pc_rc rc;

	*too_long = 0;
	if (q.to == INT32_MAX)
		q.to = date_today(time(NULL));
	if (q.from == INT32_MIN) {
		first = agg_first_day(a, q.place);
		date_to_ymd(first == INT32_MAX ? q.to : first, &y, &m, &d);
		q.from = date_from_ymd(y, m, 1);
	}
	aq = (struct agg_query){q.place, q.from, q.to, DIM_NONE};
	if ((rc = agg_run_months(a, &aq, &cells, &n, IMPACT_MONTHS_MAX)) !=
	    PC_OK) {
		*too_long = rc == PC_ELIMIT;
		return NULL;
	}
	doc = cJSON_CreateObject();
	add_scope(doc, a, &q, scope_population(a, q.place));
	arr = cJSON_AddArrayToObject(doc, "months");
	date_to_ymd(q.from, &y, &m, &d);
	for (k = 0; k < n; k++) {
		from = date_from_ymd(y, m, 1);
		m = m == 12 ? (y++, 1) : m + 1;
		to = date_from_ymd(y, m, 1) - 1;
		cJSON_AddItemToArray(arr, month_json(&cells[k], &q.sdc,
		    from < q.from ? q.from : from, to > q.to ? q.to : to));
	}
	free(cells);
	return doc;
}

/* -- the strategy's commitments ------------------------------------------ */

/* The published count of group g of a breakdown of c (-1 when hidden). */
static long
group_count(const struct agg_cell *c, enum agg_dim d, int g,
    const struct pub *p)
{
	const struct codelist *l = agg_dims[d].codes;
	struct sdc_n v[32];
	int hidden[32], zero[32];
	size_t i;

	if (p->show != SHOW)
		return p->show == EMPTY ? 0 : -1;
	for (i = 0; i < l->n && i < 32; i++)
		v[i] = (struct sdc_n){c->by[d][i], c->key.by[d][i]};
	sdc_breakdown(p->s, N(c, referrals), v, l->n, hidden, zero);
	return hidden[g] ? -1 : zero[g] ? 0 : sdc_value(p->s, v[g]);
}

/* Summed over places, for all places: only what each place published. */
struct cyp_sums {
	long	 met, any, cyp;
};

static void
add_cyp(cJSON *o, struct agg *a, const struct impact_req *q,
    const struct agg_cell *c, const struct pub *p, struct cyp_sums *sum)
{
	int cy = code_index(&codes_service, "children_young_people");
	long x = group_count(c, DIM_SERVICE, cy, p), any = 0, cyp = 0, k;
	struct agg_query aq = {q->place, q->from, q->to, DIM_NONE};
	cJSON *j = cJSON_AddObjectToObject(o, "cyp_service");

	if (q->place >= 0)
		(void)agg_run_pcns(a, &aq, &any, &cyp);
	else {
		any = sum->any;
		cyp = sum->cyp;
	}
	cJSON_AddItemToObject(j, "referrals", x < 0 ?
	    cJSON_CreateString("suppressed") : cJSON_CreateNumber((double)x));
	cJSON_AddNumberToObject(j, "pcns_with_referrals", (double)any);
	/* a count of PCNs tells of the referrals: hidden with them */
	k = x < 0 ? -1 : x == 0 ? 0 : cyp;
	if (k < 0) {
		cJSON_AddItemToObject(j, "pcns_with_cyp_referrals", withheld());
		cJSON_AddItemToObject(j, "flag", withheld());
	} else {
		cJSON_AddNumberToObject(j, "pcns_with_cyp_referrals", (double)k);
		cJSON_AddStringToObject(j, "flag", k > 0 ? "met" : "not_met");
	}
	if (q->place >= 0) {
		sum->any += any;
		sum->cyp += k > 0 ? k : 0;
		sum->met += k > 0;
	} else {
		cJSON_AddNumberToObject(j, "places_met", (double)sum->met);
		cJSON_AddNumberToObject(j, "places", (double)a->nplaces);
	}
}

/* The focus groups with denominators, and where to find them. */
static const struct {
	enum agg_dim	 d;
	const char	*group;
} focus[] = {
	{DIM_IMD_QUINTILE, "1"},
	{DIM_ETHNIC_GROUP, "mixed"}, {DIM_ETHNIC_GROUP, "asian"},
	{DIM_ETHNIC_GROUP, "black"}, {DIM_ETHNIC_GROUP, "other"},
	{DIM_AGE_BAND_CENSUS, "0-14"},
};

static void
add_focus(cJSON *o, const cJSON *rates)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "focus_groups");
	size_t i;

	for (i = 0; i < sizeof(focus) / sizeof(focus[0]); i++) {
		const cJSON *b = cJSON_GetObjectItem(rates, agg_dims[focus[i].d].
		    name), *g, *hit = NULL;
		cJSON *f;

		cJSON_ArrayForEach(g, cJSON_GetObjectItem(b, "groups"))
			if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(g,
			    "group")), focus[i].group) == 0)
				hit = g;
		if (hit == NULL)
			continue;	/* no denominator for it here */
		f = cJSON_Duplicate(hit, 1);
		cJSON_AddStringToObject(f, "breakdown", agg_dims[focus[i].d].name);
		cJSON_AddStringToObject(f, "source", cJSON_GetStringValue(
		    cJSON_GetObjectItem(b, "source")));
		cJSON_AddItemToArray(arr, f);
	}
}

static void
add_shares(cJSON *o, const struct agg_cell *c, const struct pub *p)
{
	static const enum agg_dim dims[] = {DIM_LEARNING_DISABILITY,
	    DIM_AUTISM, DIM_HOMELESS, DIM_CARER};
	int yes = code_index(&agg_flag_codes, "yes");
	long t = p->show == SHOW ? sdc_value(p->s, N(c, referrals)) : 0;
	cJSON *arr = cJSON_AddArrayToObject(o, "shares");
	size_t i;

	for (i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		long x = group_count(c, dims[i], yes, p);
		cJSON *g = cJSON_CreateObject();

		cJSON_AddStringToObject(g, "group", agg_dims[dims[i]].name);
		cJSON_AddStringToObject(g, "label", agg_dims[dims[i]].title);
		if (x < 0 || p->show == HIDE) {
			cJSON_AddStringToObject(g, "referrals", "suppressed");
			cJSON_AddItemToObject(g, "pct_of_referrals", withheld());
		} else {
			cJSON_AddNumberToObject(g, "referrals", (double)x);
			cJSON_AddItemToObject(g, "pct_of_referrals", t > 0 ?
			    sdc_stat(p->s, 100.0 * (double)x / (double)t, 1) :
			    cJSON_CreateNull());
		}
		cJSON_AddItemToArray(arr, g);
	}
}

/* Reach against the all-places rate, with the same exact interval. */
static void
add_reach(cJSON *o, const struct pub *p, long x, long pop, long xall,
    long popall)
{
	cJSON *j = cJSON_AddObjectToObject(o, "reach");
	const struct sdc *s = p->s;

	if (x < 0 || xall < 0) {
		cJSON_AddItemToObject(j, "per_1000_residents", withheld());
		cJSON_AddItemToObject(j, "all_places_per_1000", withheld());
		add_rate(j, s, -1, pop, 0, 0);
		return;
	}
	cJSON_AddItemToObject(j, "per_1000_residents", pop > 0 ? sdc_stat(s,
	    1000.0 * (double)x / (double)pop, s->on ? 2 : 0) :
	    cJSON_CreateNull());
	cJSON_AddItemToObject(j, "all_places_per_1000", popall > 0 ?
	    sdc_stat(s, 1000.0 * (double)xall / (double)popall, s->on ? 2 : 0) :
	    cJSON_CreateNull());
	add_rate(j, s, x, pop, (double)xall, popall);
	cJSON_DeleteItemFromObject(j, "rate_per_1000");
}

static cJSON *
commitment(struct agg *a, const struct impact_req *q,
    const struct agg_result *r, long xall, long popall, struct cyp_sums *sum)
{
	struct pub p = {&q->sdc, show_of(&q->sdc, N(&r->total, referrals))};
	cJSON *o = cJSON_CreateObject(), *sc, *rates, *on;
	long x = p.show == SHOW ? sdc_value(p.s, N(&r->total, referrals)) :
	    p.show == EMPTY ? 0 : -1;

	sc = cJSON_AddObjectToObject(o, "scope");
	cJSON_AddStringToObject(sc, "place", q->place >= 0 ?
	    a->places[q->place].p.code : "ALL");
	cJSON_AddStringToObject(sc, "name", q->place >= 0 ?
	    a->places[q->place].p.name : "All places");
	add_cyp(o, a, q, &r->total, &p, sum);
	add_reach(o, &p, x, r->population, xall, popall);
	rates = population_json(a, q, &r->total, &p);
	add_focus(o, rates);
	cJSON_Delete(rates);
	add_shares(o, &r->total, &p);
	on = cJSON_AddObjectToObject(o, "ons4_recording");
	cJSON_AddItemToObject(on, "consented", cnt(&p, N(&r->total,
	    consented)));
	cJSON_AddItemToObject(on, "pairs", cnt(&p, N(&r->total, pairs)));
	cJSON_AddItemToObject(on, "pairs_pct_of_consented", pct(&p,
	    N(&r->total, pairs), N(&r->total, consented)));
	return o;
}

static cJSON *
commitments_json(struct agg *a, const struct impact_req *base)
{
	struct impact_req q = *base;
	struct agg_query aq = {-1, base->from, base->to, DIM_NONE};
	struct agg_result all, one;
	struct pub pa;
	cJSON *doc, *arr, *ao;
	struct cyp_sums sum = {0, 0, 0};
	long xall;
	size_t i;

	if (agg_run(a, &aq, &all) != PC_OK)
		return NULL;
	pa = (struct pub){&q.sdc, show_of(&q.sdc, N(&all.total, referrals))};
	xall = pa.show == SHOW ? sdc_value(pa.s, N(&all.total, referrals)) :
	    pa.show == EMPTY ? 0 : -1;
	doc = cJSON_CreateObject();
	q.place = -1;
	add_scope(doc, a, &q, 0);
	cJSON_DeleteItemFromObject(doc, "scope");
	arr = cJSON_AddArrayToObject(doc, "places");
	for (i = 0; i < a->nplaces; i++) {
		q.place = (int)i;
		aq.place = (int)i;
		if (agg_run(a, &aq, &one) != PC_OK) {
			agg_result_free(&all);
			cJSON_Delete(doc);
			return NULL;
		}
		cJSON_AddItemToArray(arr, commitment(a, &q, &one, xall,
		    all.population, &sum));
		agg_result_free(&one);
	}
	q.place = -1;
	ao = commitment(a, &q, &all, xall, all.population, &sum);
	cJSON_AddItemToObject(doc, "all", ao);
	agg_result_free(&all);
	return doc;
}

cJSON *
impact_months_json(struct agg *a, const struct impact_req *base,
    int *too_long)
{
	cJSON *doc;

	agg_read_begin(a);
	doc = months_json(a, base, too_long);
	agg_read_end(a);
	return doc;
}

cJSON *
impact_commitments_json(struct agg *a, const struct impact_req *base)
{
	cJSON *doc;

	agg_read_begin(a);
	doc = commitments_json(a, base);
	agg_read_end(a);
	return doc;
}

/* CSV: one row per leaf value. */
struct flat {
	struct buf	*out;
	const char	*cols[5];	/* place, from, to, group_by, group */
	const char	*disclosure;	/* "controlled" or "unsuppressed" */
	pc_rc		 rc;		/* the first failure, kept */
};

static void
leaf_text(const cJSON *v, char *buf, size_t len)
{
	char num[JOUT_NUM_LEN];

	if (cJSON_IsNumber(v)) {
		jout_double(v->valuedouble, num);
		snprintf(buf, len, "%s", isfinite(v->valuedouble) ? num : "");
	} else if (cJSON_IsString(v))
		snprintf(buf, len, "%s", v->valuestring);
	else if (cJSON_IsBool(v))
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else
		buf[0] = '\0';
}

static void
flatten(struct flat *f, const char *section, const char *prefix,
    const cJSON *o)
{
	const cJSON *c;
	char name[256], val[JOUT_NUM_LEN + 32];

	cJSON_ArrayForEach(c, o) {
		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." :
		    "", c->string ? c->string : "");
		if (cJSON_IsObject(c)) {
			flatten(f, section, name, c);
			continue;
		}
		if (cJSON_IsArray(c)) {
			const cJSON *it;
			char sub[300];

			/* groups by their code: rates.ethnic_group.groups.white */
			cJSON_ArrayForEach(it, c) {
				const char *k = cJSON_GetStringValue(
				    cJSON_GetObjectItem(it, "group"));

				snprintf(sub, sizeof(sub), "%s.%s", name, k ? k :
				    "?");
				flatten(f, section, sub, it);
			}
			continue;
		}
		leaf_text(c, val, sizeof(val));
		{
			const char *row[9] = {f->cols[0], f->cols[1], f->cols[2],
			    f->cols[3], f->cols[4], section, name, val,
			    f->disclosure};

			if (f->rc == PC_OK)
				f->rc = csv_row(f->out, row, 9, 1);
		}
	}
}

static void
flatten_scope(struct flat *f, const cJSON *doc)
{
	const cJSON *sc = cJSON_GetObjectItem(doc, "scope");
	const cJSON *per = cJSON_GetObjectItem(doc, "period");
	const char *v;

	v = cJSON_GetStringValue(cJSON_GetObjectItem(sc, "place"));
	f->cols[0] = v ? v : "";
	v = cJSON_GetStringValue(cJSON_GetObjectItem(per, "from"));
	f->cols[1] = v ? v : "";
	v = cJSON_GetStringValue(cJSON_GetObjectItem(per, "to"));
	f->cols[2] = v ? v : "";
}

/* Take-up per asset: a row group per asset, the free text as group "". */
static void
flatten_assets(struct flat *f, const cJSON *doc)
{
	const cJSON *g;

	f->cols[3] = "asset";
	cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "assets")) {
		cJSON *copy = cJSON_Duplicate(g, 1);

		f->cols[4] = cJSON_GetStringValue(cJSON_GetObjectItem(g, "id"));
		cJSON_DeleteItemFromObject(copy, "id");
		flatten(f, "assets", "", copy);
		cJSON_Delete(copy);
	}
	f->cols[4] = "";
	flatten(f, "free_text", "", cJSON_GetObjectItem(doc, "free_text"));
	f->cols[3] = "";
}

static void
flatten_doc(struct flat *f, const cJSON *doc)
{
	const cJSON *g, *reach = cJSON_GetObjectItem(doc, "reach");

	if (cJSON_GetObjectItem(doc, "scope") != NULL)
		flatten_scope(f, doc);
	f->cols[3] = f->cols[4] = "";
	if (reach != NULL)
		flatten(f, "reach", "", reach);
	else {
		/* a headline: the figures sit at the top level */
		cJSON *copy = cJSON_Duplicate(doc, 1);

		cJSON_DeleteItemFromObject(copy, "scope");
		cJSON_DeleteItemFromObject(copy, "ons4");
		cJSON_DeleteItemFromObject(copy, "period");
		flatten(f, "reach", "", copy);
		cJSON_Delete(copy);
	}
	flatten(f, "ons4", "", cJSON_GetObjectItem(doc, "ons4"));
	flatten(f, "population", "", cJSON_GetObjectItem(doc,
	    "population_rates"));
	cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "groups")) {
		cJSON *copy = cJSON_Duplicate(g, 1);

		f->cols[3] = cJSON_GetStringValue(cJSON_GetObjectItem(doc,
		    "group_by"));
		f->cols[4] = cJSON_GetStringValue(cJSON_GetObjectItem(g,
		    "group"));
		cJSON_DeleteItemFromObject(copy, "group");
		cJSON_DeleteItemFromObject(copy, "label");
		cJSON_DeleteItemFromObject(copy, "ons4");
		flatten(f, "group", "", copy);
		flatten(f, "ons4", "", cJSON_GetObjectItem(g, "ons4"));
		cJSON_Delete(copy);
	}
	flatten_assets(f, doc);
}

pc_rc
impact_csv(const cJSON *doc, struct buf *out)
{
	static const char *const head[9] = {"place", "from", "to", "group_by",
	    "group", "section", "measure", "value", "disclosure"};
	struct flat f = {out, {"", "", "", "", ""}, "controlled", PC_OK};
	const cJSON *p, *per;

	/* every row says whether it may be published as it is */
	if (!cJSON_IsTrue(cJSON_GetObjectItem(doc, "disclosure_control")))
		f.disclosure = "unsuppressed";
	f.rc = csv_row(out, head, 9, 0);
	if ((p = cJSON_GetObjectItem(doc, "months")) != NULL) {
		const cJSON *m;

		flatten_scope(&f, doc);
		f.cols[3] = f.cols[4] = "";
		cJSON_ArrayForEach(m, p) {
			cJSON *copy = cJSON_Duplicate(m, 1);

			/* each month is a period of its own */
			f.cols[1] = cJSON_GetStringValue(cJSON_GetObjectItem(m,
			    "from"));
			f.cols[2] = cJSON_GetStringValue(cJSON_GetObjectItem(m,
			    "to"));
			cJSON_DeleteItemFromObject(copy, "from");
			cJSON_DeleteItemFromObject(copy, "to");
			flatten(&f, "month", "", copy);
			cJSON_Delete(copy);
		}
		return f.rc;
	}
	if (cJSON_GetObjectItem(doc, "places") == NULL) {
		flatten_doc(&f, doc);
		return f.rc;
	}
	per = cJSON_GetObjectItem(doc, "period");
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "places")) {
		cJSON *withp = cJSON_Duplicate(p, 1);

		cJSON_AddItemToObject(withp, "period", cJSON_Duplicate(per, 1));
		flatten_doc(&f, withp);
		cJSON_Delete(withp);
	}
	if ((p = cJSON_GetObjectItem(doc, "all")) != NULL) {
		cJSON *withp = cJSON_Duplicate(p, 1);

		cJSON_AddItemToObject(withp, "period", cJSON_Duplicate(per, 1));
		flatten_doc(&f, withp);
		cJSON_Delete(withp);
	}
	return f.rc;
}

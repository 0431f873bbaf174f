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
		"learning_disability", "autism", "homeless",
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

static cJSON *
groups_json(const struct agg_result *r, enum agg_dim d, const struct pub *tp)
{
	const struct codelist *l = agg_dims[d].codes;
	const struct sdc *s = tp->s;
	int dec = code_index(&codes_closure, "declined"), g;
	cJSON *arr = cJSON_CreateArray();
	struct sdc_n refs[32];
	int hidden[32], zero[32];

	/* the same hiding as the reach section's breakdown of these people */
	for (g = 0; g < r->ngroups && g < 32; g++)
		refs[g] = N(&r->groups[g], referrals);
	sdc_breakdown(s, N(&r->total, referrals), refs, (size_t)r->ngroups,
	    hidden, zero);
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
		cJSON_AddItemToObject(o, "ons4", ons4_json(c, &p));
		cJSON_AddItemToArray(arr, o);
	}
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
		cJSON_AddItemToObject(doc, "groups", groups_json(r, q->group_by,
		    &p));
	}
	return doc;
}

cJSON *
impact_json(struct agg *a, const struct impact_req *q)
{
	struct agg_query aq = {q->place, q->from, q->to, q->group_by};
	struct agg_result r;
	cJSON *doc;

	if (agg_run(a, &aq, &r) != PC_OK)
		return NULL;
	doc = figures_json(a, q, &r);
	agg_result_free(&r);
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

cJSON *
impact_places_json(struct agg *a, const struct impact_req *base)
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
		flatten(f, "reach", "", copy);
		cJSON_Delete(copy);
	}
	flatten(f, "ons4", "", cJSON_GetObjectItem(doc, "ons4"));
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

/*
 * impact.c - figures documents from aggregate cells.
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

static void
add_breakdown(cJSON *o, const char *name, const struct sdc *s, const long *v,
    const struct codelist *l)
{
	cJSON_AddItemToObject(o, name, sdc_breakdown_json(s, v, codes_of(l),
	    l->n));
}

static cJSON *
reach_json(const struct agg_cell *c, long population, const struct sdc *s)
{
	static const char *const by_names[DIM_N] = {
		NULL, "by_source", "by_reason", "by_service", "by_ethnic_group",
		"by_imd_quintile", "by_age_band", "by_gender", "carer",
		"learning_disability", "autism", "homeless",
	};
	cJSON *o = cJSON_CreateObject(), *sup;
	long shown = sdc_value(s, c->referrals);
	int d;

	cJSON_AddItemToObject(o, "referrals", sdc_count(s, c->referrals));
	cJSON_AddItemToObject(o, "people", sdc_count(s, c->people));
	if (population > 0 && shown >= 0)
		cJSON_AddNumberToObject(o, "per_1000_residents",
		    round(100000.0 * (double)shown / (double)population) / 100);
	else
		cJSON_AddItemToObject(o, "per_1000_residents", shown < 0 ?
		    cJSON_CreateString("withheld") : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "consented", sdc_count(s, c->consented));
	cJSON_AddItemToObject(o, "closed", sdc_count(s, c->closed));
	cJSON_AddItemToObject(o, "declined_pct", sdc_pct(s,
	    c->closed_by[code_index(&codes_closure, "declined")], c->referrals));
	add_breakdown(o, "closed_by_reason", s, c->closed_by, &codes_closure);
	cJSON_AddItemToObject(o, "median_days_to_first_contact", sdc_stat(s,
	    impact_median(c->days_hist, AGG_DAYS, c->days_n), c->days_n, 1));
	cJSON_AddItemToObject(o, "median_contacts_per_closed_referral",
	    sdc_stat(s, impact_median(c->closed_contacts, AGG_CONTACTS,
	    c->closed), c->closed, 1));
	cJSON_AddItemToObject(o, "contacts", sdc_count(s, c->contacts));
	cJSON_AddItemToObject(o, "attended_contacts", sdc_count(s,
	    c->attended));
	sup = cJSON_AddObjectToObject(o, "support");
	add_breakdown(sup, "offered", s, c->offered, &codes_support);
	add_breakdown(sup, "taken_up", s, c->taken, &codes_support);
	for (d = 1; d < DIM_N; d++)
		add_breakdown(o, by_names[d], s, c->by[d], agg_dims[d].codes);
	return o;
}

static cJSON *
measure_json(const struct agg_ons4 *o, enum ons4_measure m,
    const struct sdc *s)
{
	struct stats_rank_group g[10];
	struct stats_summary ps;
	struct stats_wilcoxon w;
	cJSON *j = cJSON_CreateObject();
	double n = (double)o->n;
	int k;

	(void)m;
	stats_from_sums(o->n, (double)o->sum_d, (double)o->sum_d2, &ps);
	for (k = 1; k <= 10; k++) {
		g[k - 1].absval = k;
		g[k - 1].pos = o->hist_d[10 + k];
		g[k - 1].neg = o->hist_d[10 - k];
	}
	stats_wilcoxon_groups(g, 10, o->hist_d[10], &w);
	cJSON_AddItemToObject(j, "n", sdc_count(s, o->n));
	cJSON_AddItemToObject(j, "mean_baseline", sdc_stat(s,
	    (double)o->sum_base / n, o->n, 2));
	cJSON_AddItemToObject(j, "mean_followup", sdc_stat(s,
	    (double)o->sum_follow / n, o->n, 2));
	cJSON_AddItemToObject(j, "mean_change", sdc_stat(s, ps.mean, o->n, 2));
	cJSON_AddItemToObject(j, "sd_change", sdc_stat(s, ps.sd, o->n, 2));
	cJSON_AddItemToObject(j, "ci95_low", sdc_stat(s, ps.ci_low, o->n, 2));
	cJSON_AddItemToObject(j, "ci95_high", sdc_stat(s, ps.ci_high, o->n, 2));
	cJSON_AddItemToObject(j, "t_test_p", sdc_stat(s, ps.p, o->n, 4));
	cJSON_AddItemToObject(j, "wilcoxon_p", sdc_stat(s, w.p, o->n, 4));
	cJSON_AddItemToObject(j, "cohens_dz", sdc_stat(s, ps.dz, o->n, 2));
	cJSON_AddItemToObject(j, "improved_pct", sdc_pct(s, o->improved,
	    o->n));
	cJSON_AddItemToObject(j, "worst_band_at_baseline", sdc_count(s,
	    o->worst_base));
	cJSON_AddItemToObject(j, "left_worst_band_pct", sdc_pct(s,
	    o->left_worst, o->worst_base));
	return j;
}

static cJSON *
ons4_json(const struct agg_cell *c, const struct sdc *s)
{
	cJSON *o = cJSON_CreateObject();
	int m;

	cJSON_AddItemToObject(o, "consented_referrals", sdc_count(s,
	    c->consented));
	cJSON_AddItemToObject(o, "pairs", sdc_count(s, c->pairs));
	/* who is left out matters as much as the change: report the share */
	cJSON_AddItemToObject(o, "pairs_pct_of_consented", sdc_pct(s, c->pairs,
	    c->consented));
	for (m = 0; m < ONS4_N; m++)
		cJSON_AddItemToObject(o, ons4_measures[m].field,
		    measure_json(&c->ons4[m], (enum ons4_measure)m, s));
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
	cJSON_AddBoolToObject(doc, "disclosure_control", q->sdc.on);
	if (q->sdc.on)
		cJSON_AddNumberToObject(doc, "suppression_threshold",
		    (double)q->sdc.threshold);
	time_format((int64_t)time(NULL), now);
	cJSON_AddStringToObject(doc, "generated_at", now);
}

static cJSON *
groups_json(const struct agg_result *r, enum agg_dim d, const struct sdc *s)
{
	const struct codelist *l = agg_dims[d].codes;
	cJSON *arr = cJSON_CreateArray();
	long refs[32];
	int hidden[32], g;

	for (g = 0; g < r->ngroups && g < 32; g++)
		refs[g] = r->groups[g].referrals;
	sdc_breakdown(s, refs, (size_t)r->ngroups, hidden);
	for (g = 0; g < r->ngroups && g < 32; g++) {
		const struct agg_cell *c = &r->groups[g];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "group", l->v[g].code);
		cJSON_AddStringToObject(o, "label", l->v[g].label);
		cJSON_AddItemToObject(o, "referrals", hidden[g] ?
		    cJSON_CreateString("suppressed") :
		    sdc_count(s, c->referrals));
		cJSON_AddItemToObject(o, "people", hidden[g] ?
		    cJSON_CreateString("suppressed") : sdc_count(s, c->people));
		cJSON_AddItemToObject(o, "declined_pct", hidden[g] ?
		    cJSON_CreateString("withheld") : sdc_pct(s,
		    c->closed_by[code_index(&codes_closure, "declined")],
		    c->referrals));
		cJSON_AddItemToObject(o, "ons4", ons4_json(c, s));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* The figures document of a query already run. */
static cJSON *
figures_json(struct agg *a, const struct impact_req *q,
    const struct agg_result *r)
{
	cJSON *doc = cJSON_CreateObject();

	add_scope(doc, a, q, r->population);
	cJSON_AddItemToObject(doc, "reach", reach_json(&r->total, r->population,
	    &q->sdc));
	cJSON_AddItemToObject(doc, "ons4", ons4_json(&r->total, &q->sdc));
	if (q->group_by != DIM_NONE) {
		cJSON_AddStringToObject(doc, "group_by",
		    agg_dims[q->group_by].name);
		cJSON_AddItemToObject(doc, "groups", groups_json(r, q->group_by,
		    &q->sdc));
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
};

static void
leaf_text(const cJSON *v, char *buf, size_t len)
{
	if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.10g", v->valuedouble);
	else if (cJSON_IsString(v))
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
	char name[256], val[64];

	cJSON_ArrayForEach(c, o) {
		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." :
		    "", c->string ? c->string : "");
		if (cJSON_IsObject(c)) {
			flatten(f, section, name, c);
			continue;
		}
		leaf_text(c, val, sizeof(val));
		{
			const char *row[8] = {f->cols[0], f->cols[1], f->cols[2],
			    f->cols[3], f->cols[4], section, name, val};

			csv_row(f->out, row, 8, 1);
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
	static const char *const head[8] = {"place", "from", "to", "group_by",
	    "group", "section", "measure", "value"};
	struct flat f = {out, {"", "", "", "", ""}};
	const cJSON *p, *per;

	csv_row(out, head, 8, 0);
	if (cJSON_GetObjectItem(doc, "places") == NULL) {
		flatten_doc(&f, doc);
		return PC_OK;
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
	return PC_OK;
}

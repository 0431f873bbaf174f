/*
 * test_agg.c - every published figure on a small data set worked out by
 * hand, with corrections, voids, re-referrals and consent.
 *
 * Place A (population 1,000):
 *  R1 person P1, 2026-01-10, general_practice, stress+housing, general,
 *     30, female, A (White), IMD 1, carer; consent. Contacts 01-12
 *     attended, 01-20 not, 02-01 attended. Support food offered, learning
 *     taken up. ONS4 baseline 01-12 (3,4,2,8), final 03-01 (6,6,5,4).
 *     Closed 03-02 goals_met.
 *  R2 person P1 again, 2026-04-01, self, stress, general, 30, female, A,
 *     IMD 2; consent. Contact 04-11 attended. Baseline 04-02 (5,5,5,5),
 *     review 05-01 (5,6,4,6). Open.
 *  R3 person P2, 2026-02-15, pharmacy, debt_money, children_young_people,
 *     15, male, N (Black); no consent. Closed 02-20 declined.
 *  R4 person P3, 2026-03-10, general_practice, loneliness_isolation,
 *     general, 70 corrected to 71, male, H (Asian), IMD 9, not homeless;
 *     consent. Baseline 03-11 (4,4,4,6), final 06-01 (7,8,7,2). Closed
 *     06-02 goals_met.
 *  R5 person P4, 2026-03-12, voided: counted nowhere.
 * Place B (population 500):
 *  R6 person P5, 2026-01-05, mdt, bereavement, general, 45, not_stated,
 *     Z; consent. Baseline (2,3,2,9), final (2,3,3,9). Closed disengaged.
 *
 * ONS4 pairs in A: R1, R2, R4. Differences (follow-up - baseline):
 * life satisfaction 3,0,3; worthwhile 2,1,4; happy 3,-1,3; anxious
 * -4,1,-4. Reference statistics from SciPy 1.10.1 (ttest_rel; t.ppf for
 * the CI; wilcoxon(zero_method="wilcox", correction=True,
 * method="approx")):
 *   life satisfaction: mean 2, SD 1.7320508075688772, p 0.1835034190722739,
 *     CI -2.3026527299112747..6.302652729911275, Wilcoxon p
 *     0.3457785861511603, dz 1.1547005383792517
 *   anxious: mean -2.3333333, SD 2.886751345948129, p 0.29647352931855164,
 *     CI -9.504421216518793..4.837754549852125, Wilcoxon p
 *     0.4142161782425252, dz -0.808290376865476
 * (R's wilcox.test default takes the normal approximation for both: life
 * satisfaction has a zero difference, anxiety a tie.) Unsuppressed JSON
 * carries these at full precision: they are compared to 1e-12.
 */
#include <limits.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "ckm.h"
#include "harness.h"
#include "impact.h"
#include "uuid.h"

static struct rec_opts opts;
static struct agg *agg;
static int seq;
static const uint8_t cell_key[32] = {7, 1, 2, 3};

static struct rec *
mk(const char *place, const char *ref, const char *kind, int n,
    const char *fields)
{
	char text[4096], id[UUID_LEN];
	struct err_list errs;
	struct rec *r;
	size_t i;

	if (n == 0)
		snprintf(id, sizeof(id), "%s", ref);
	else
		snprintf(id, sizeof(id), "%.8s-0000-4000-8000-%012d", ref, n);
	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"schema\":\"pcmds/1\","
	    "\"kind\":\"%s\",\"recorded_at\":\"2026-06-10T10:00:00Z\","
	    "\"device_seq\":%d,\"worker\":\"w\",\"place\":\"%s\","
	    "\"referral\":\"%s\",%s}", id, kind, ++seq, place, ref, fields);
	err_init(&errs);
	if (rec_parse(text, strlen(text), &opts, &r, &errs) != PC_OK) {
		for (i = 0; i < errs.n; i++)
			print_message("%s: %s\n", errs.v[i].field,
			    errs.v[i].msg);
		fail_msg("fixture: %s", text);
	}
	err_free(&errs);
	return r;
}

struct builder {
	struct timeline	 tl;
	const char	*place;
	int		 n;
};

static void
add(struct builder *b, const char *kind, const char *fields)
{
	struct err_list errs;
	struct rec *r = mk(b->place, b->tl.id, kind, b->n++, fields);

	err_init(&errs);
	if (tl_admit(&b->tl, r, &opts, &errs) != PC_OK)
		fail_msg("fixture refused: %s", errs.n ? errs.v[0].msg : "?");
	err_free(&errs);
}

static void
referral(struct builder *b, const char *place, const char *id,
    const char *person, const char *fields)
{
	char f[1024];

	tl_init(&b->tl, id);
	b->place = place;
	b->n = 0;
	snprintf(f, sizeof(f), "\"person\":\"%s%s\",\"person_basis\":"
	    "\"nhs_number\",%s", person,
	    "000000000000000000000000000000000000000000000000", fields);
	add(b, "referral", f);
}

static void
assess(struct builder *b, const char *on, const char *stage, int ls, int w,
    int h, int a)
{
	char f[256];

	snprintf(f, sizeof(f), "\"assessed_on\":\"%s\",\"stage\":\"%s\","
	    "\"life_satisfaction\":%d,\"worthwhile\":%d,\"happy\":%d,"
	    "\"anxious\":%d", on, stage, ls, w, h, a);
	add(b, "assessment", f);
}

static void
contact(struct builder *b, const char *on, int attended)
{
	char f[256];

	snprintf(f, sizeof(f), "\"contact_on\":\"%s\",\"mode\":\"phone\","
	    "\"minutes\":15,\"attended\":%s", on, attended ? "true" : "false");
	add(b, "contact", f);
}

static void
closure(struct builder *b, const char *on, const char *reason)
{
	char f[128];

	snprintf(f, sizeof(f), "\"closed_on\":\"%s\",\"reason\":\"%s\"", on,
	    reason);
	add(b, "closure", f);
}

/* A referral's key, as a store would give it: 1, 2, 3... by first use. */
static int64_t
key_of(const char *id)
{
	static char ids[256][UUID_LEN];
	static int n;
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return i + 1;
	assert_true(n < 256);
	snprintf(ids[n], sizeof(ids[n]), "%s", id);
	return ++n;
}

static void
publish(struct builder *b)
{
	struct fact f;

	agg_fact(&b->tl, &f);
	f.key = key_of(f.id);
	agg_apply(agg, &f, 1);
	tl_free(&b->tl);
}

static int
setup(void **state)
{
	struct builder b;

	(void)state;
	opts.today = date_from_ymd(2026, 11, 22);
	{
		struct store_place pa = {0}, pb = {0};

		snprintf(pa.code, sizeof(pa.code), "AA");
		snprintf(pa.name, sizeof(pa.name), "Place A");
		pa.population = 1000;
		snprintf(pb.code, sizeof(pb.code), "BB");
		snprintf(pb.name, sizeof(pb.name), "Place B");
		pb.population = 500;
		assert_non_null(agg = agg_new(cell_key));
		assert_int_equal(agg_place_set(agg, &pa), PC_OK);
		assert_int_equal(agg_place_set(agg, &pb), PC_OK);
	}

	referral(&b, "AA", "a0000001-0000-4000-8000-000000000000", "aaaaaaaaaaaaaaa1",
	    "\"referred_on\":\"2026-01-10\",\"source\":\"general_practice\","
	    "\"reasons\":[\"stress\",\"housing\"],\"service\":\"general\","
	    "\"age\":30,\"gender\":\"female\",\"ethnicity\":\"A\","
	    "\"imd_decile\":1,\"carer\":true,\"consent_evaluation\":true");
	contact(&b, "2026-01-12", 1);
	contact(&b, "2026-01-20", 0);
	contact(&b, "2026-02-01", 1);
	add(&b, "support", "\"offered_on\":\"2026-01-15\",\"category\":\"food\","
	    "\"outcome\":\"offered\"");
	add(&b, "support", "\"offered_on\":\"2026-01-16\",\"category\":"
	    "\"learning\",\"outcome\":\"taken_up\"");
	assess(&b, "2026-01-12", "baseline", 3, 4, 2, 8);
	assess(&b, "2026-03-01", "final", 6, 6, 5, 4);
	closure(&b, "2026-03-02", "goals_met");
	publish(&b);

	referral(&b, "AA", "a0000002-0000-4000-8000-000000000000", "aaaaaaaaaaaaaaa1",
	    "\"referred_on\":\"2026-04-01\",\"source\":\"self\",\"reasons\":"
	    "[\"stress\"],\"service\":\"general\",\"age\":30,\"gender\":"
	    "\"female\",\"ethnicity\":\"A\",\"imd_decile\":2,"
	    "\"consent_evaluation\":true");
	contact(&b, "2026-04-11", 1);
	assess(&b, "2026-04-02", "baseline", 5, 5, 5, 5);
	assess(&b, "2026-05-01", "review", 5, 6, 4, 6);
	publish(&b);

	referral(&b, "AA", "a0000003-0000-4000-8000-000000000000", "aaaaaaaaaaaaaaa2",
	    "\"referred_on\":\"2026-02-15\",\"source\":\"pharmacy\",\"reasons\":"
	    "[\"debt_money\"],\"service\":\"children_young_people\",\"age\":15,"
	    "\"gender\":\"male\",\"ethnicity\":\"N\",\"consent_evaluation\":"
	    "false");
	closure(&b, "2026-02-20", "declined");
	publish(&b);

	referral(&b, "AA", "a0000004-0000-4000-8000-000000000000", "aaaaaaaaaaaaaaa3",
	    "\"referred_on\":\"2026-03-10\",\"source\":\"general_practice\","
	    "\"reasons\":[\"loneliness_isolation\"],\"service\":\"general\","
	    "\"age\":70,\"gender\":\"male\",\"ethnicity\":\"H\",\"imd_decile\":"
	    "9,\"homeless\":false,\"consent_evaluation\":true");
	assess(&b, "2026-03-11", "baseline", 4, 4, 4, 6);
	assess(&b, "2026-06-01", "final", 7, 8, 7, 2);
	add(&b, "correction", "\"target\":\"a0000004-0000-4000-8000-"
	    "000000000000\",\"set\":{\"age\":71}");
	closure(&b, "2026-06-02", "goals_met");
	publish(&b);

	referral(&b, "AA", "a0000005-0000-4000-8000-000000000000", "aaaaaaaaaaaaaaa4",
	    "\"referred_on\":\"2026-03-12\",\"source\":\"self\",\"reasons\":"
	    "[\"stress\"],\"service\":\"general\",\"age\":50,\"gender\":"
	    "\"male\",\"ethnicity\":\"A\",\"consent_evaluation\":true");
	add(&b, "correction", "\"target\":\"a0000005-0000-4000-8000-"
	    "000000000000\",\"void\":true,\"reason\":\"duplicate\"");
	publish(&b);

	referral(&b, "BB", "b0000006-0000-4000-8000-000000000000", "bbbbbbbbbbbbbbb5",
	    "\"referred_on\":\"2026-01-05\",\"source\":\"mdt\",\"reasons\":"
	    "[\"bereavement\"],\"service\":\"general\",\"age\":45,\"gender\":"
	    "\"not_stated\",\"ethnicity\":\"Z\",\"consent_evaluation\":true");
	assess(&b, "2026-01-06", "baseline", 2, 3, 2, 9);
	assess(&b, "2026-02-06", "final", 2, 3, 3, 9);
	closure(&b, "2026-02-07", "disengaged");
	publish(&b);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	agg_close(agg);
	return 0;
}

static struct agg_result res;

/* A number in a figures object, failing when it is not one. */
static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", key);
	return v->valuedouble;
}

static void
run(int place, int32_t from, int32_t to, enum agg_dim by)
{
	struct agg_query q = {place, from, to, by};

	agg_result_free(&res);
	assert_int_equal(agg_run(agg, &q, &res), PC_OK);
}

static void
test_reach(void **state)
{
	const struct agg_cell *c = &res.total;

	(void)state;
	run(0, INT32_MIN, INT32_MAX, DIM_NONE);
	assert_int_equal(res.population, 1000);
	assert_int_equal(c->referrals, 4);	/* R5 voided */
	assert_int_equal(c->people, 3);		/* P1 referred twice */
	assert_int_equal(c->consented, 3);
	assert_int_equal(c->closed, 3);
	assert_int_equal(c->closed_by[code_index(&codes_closure, "goals_met")],
	    2);
	assert_int_equal(c->closed_by[code_index(&codes_closure, "declined")],
	    1);
	assert_int_equal(c->contacts, 4);
	assert_int_equal(c->attended, 3);
	assert_int_equal(c->days_n, 2);		/* R1: 2 days, R2: 10 days */
	assert_float_equal(impact_median(c->days_hist, AGG_DAYS, c->days_n), 6,
	    1e-9);
	assert_float_equal(impact_median(c->closed_contacts, AGG_CONTACTS,
	    c->closed), 0, 1e-9);		/* 2, 0, 0 */
	assert_int_equal(c->offered[code_index(&codes_support, "food")], 1);
	assert_int_equal(c->taken[code_index(&codes_support, "food")], 0);
	assert_int_equal(c->taken[code_index(&codes_support, "learning")], 1);
	assert_int_equal(c->by[DIM_SOURCE][code_index(&codes_source,
	    "general_practice")], 2);
	assert_int_equal(c->by[DIM_REASON][code_index(&codes_reason,
	    "stress")], 2);
	assert_int_equal(c->by[DIM_REASON][code_index(&codes_reason,
	    "housing")], 1);
	assert_int_equal(c->by[DIM_SERVICE][code_index(&codes_service,
	    "children_young_people")], 1);
	assert_int_equal(c->by[DIM_ETHNIC_GROUP][0], 2);	/* white */
	assert_int_equal(c->by[DIM_ETHNIC_GROUP][2], 1);	/* asian */
	assert_int_equal(c->by[DIM_ETHNIC_GROUP][3], 1);	/* black */
	assert_int_equal(c->by[DIM_IMD_QUINTILE][0], 2);
	assert_int_equal(c->by[DIM_IMD_QUINTILE][4], 1);
	assert_int_equal(c->by[DIM_IMD_QUINTILE][5], 1);	/* unknown */
	assert_int_equal(c->by[DIM_AGE_BAND][0], 1);		/* 15 */
	assert_int_equal(c->by[DIM_AGE_BAND][2], 2);		/* 30, 30 */
	assert_int_equal(c->by[DIM_AGE_BAND][6], 1);		/* 71, corrected */
	assert_int_equal(c->by[DIM_GENDER][0], 2);
	assert_int_equal(c->by[DIM_GENDER][1], 2);
	assert_int_equal(c->by[DIM_CARER][FLAG_YES], 1);
	assert_int_equal(c->by[DIM_CARER][FLAG_NOT_KNOWN], 3);
	assert_int_equal(c->by[DIM_HOMELESS][FLAG_NO], 1);
}

static void
test_periods_and_places(void **state)
{
	(void)state;
	run(0, date_from_ymd(2026, 3, 1), date_from_ymd(2026, 12, 31),
	    DIM_NONE);
	assert_int_equal(res.total.referrals, 2);	/* R2, R4 */
	run(0, date_from_ymd(2026, 1, 10), date_from_ymd(2026, 1, 10),
	    DIM_NONE);
	assert_int_equal(res.total.referrals, 1);	/* inclusive bounds */
	run(1, INT32_MIN, INT32_MAX, DIM_NONE);
	assert_int_equal(res.total.referrals, 1);
	assert_int_equal(res.population, 500);
	run(-1, INT32_MIN, INT32_MAX, DIM_NONE);	/* the whole system */
	assert_int_equal(res.total.referrals, 5);
	assert_int_equal(res.total.people, 4);
	assert_int_equal(res.population, 1500);
	assert_int_equal(res.total.pairs, 4);
}

static void
test_ons4(void **state)
{
	const struct agg_ons4 *ls, *an;
	cJSON *doc, *m;
	struct impact_req q;

	(void)state;
	run(0, INT32_MIN, INT32_MAX, DIM_NONE);
	assert_int_equal(res.total.pairs, 3);
	ls = &res.total.ons4[ONS4_LIFE_SATISFACTION];
	an = &res.total.ons4[ONS4_ANXIOUS];
	assert_int_equal(ls->n, 3);
	assert_int_equal(ls->sum_base, 12);
	assert_int_equal(ls->sum_follow, 18);
	assert_int_equal(ls->improved, 2);
	assert_int_equal(ls->worst_base, 2);	/* 3 and 4 are "low" */
	assert_int_equal(ls->left_worst, 2);
	assert_int_equal(an->improved, 2);
	assert_int_equal(an->worst_base, 2);	/* 8 and 6 are "high" */
	assert_int_equal(an->left_worst, 2);
	/* the published statistics, without disclosure control: exact */
	memset(&q, 0, sizeof(q));
	q.place = 0;
	q.from = INT32_MIN;
	q.to = INT32_MAX;
	q.sdc.threshold = 8;
	doc = impact_json(agg, &q);
	m = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "ons4"),
	    "life_satisfaction");
	assert_double_equal(num(m, "mean_baseline"), 4.0, 1e-12);
	assert_double_equal(num(m, "mean_followup"), 6.0, 1e-12);
	assert_double_equal(num(m, "mean_change"), 2.0, 1e-12);
	assert_double_equal(num(m, "sd_change"), 1.7320508075688772, 1e-12);
	assert_double_equal(num(m, "ci95_low"), -2.3026527297494638523, 1e-12);
	assert_double_equal(num(m, "ci95_high"), 6.3026527297494638523, 1e-12);
	assert_double_equal(num(m, "t_test_p"), 0.1835034190722739, 1e-12);
	assert_double_equal(num(m, "wilcoxon_p"), 0.3457785861511603, 1e-12);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m,
	    "wilcoxon_method")), "normal");
	assert_double_equal(num(m, "cohens_dz"), 1.1547005383792517, 1e-12);
	assert_double_equal(num(m, "improved_pct"), 200.0 / 3, 1e-12);
	assert_double_equal(num(m, "left_worst_band_pct"), 100.0, 1e-12);
	m = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "ons4"), "anxious");
	assert_double_equal(num(m, "mean_change"), -7.0 / 3, 1e-12);
	assert_double_equal(num(m, "sd_change"), 2.886751345948129, 1e-12);
	assert_double_equal(num(m, "ci95_low"), -9.5044212162491064205, 1e-12);
	assert_double_equal(num(m, "ci95_high"), 4.8377545495824397539, 1e-12);
	assert_double_equal(num(m, "t_test_p"), 0.29647352931855164, 1e-12);
	assert_double_equal(num(m, "wilcoxon_p"), 0.4142161782425252, 1e-12);
	assert_double_equal(num(m, "cohens_dz"), -0.808290376865476, 1e-12);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "unsuppressed")));
	/* the reach figures in the document */
	m = cJSON_GetObjectItem(doc, "reach");
	assert_double_equal(num(m, "per_1000_residents"), 4.0, 1e-12);
	assert_double_equal(num(m, "declined_pct"), 25.0, 1e-12);
	assert_double_equal(num(m, "median_days_to_first_contact"), 6, 1e-12);
	cJSON_Delete(doc);
}

static void
test_groups(void **state)
{
	const struct agg_cell *g;

	(void)state;
	run(0, INT32_MIN, INT32_MAX, DIM_ETHNIC_GROUP);
	assert_int_equal(res.ngroups, 6);
	g = &res.groups[0];		/* white: R1, R2 (the same person) */
	assert_int_equal(g->referrals, 2);
	assert_int_equal(g->people, 1);
	assert_int_equal(g->pairs, 2);
	assert_int_equal(g->ons4[ONS4_LIFE_SATISFACTION].sum_d, 3);
	assert_int_equal(res.groups[2].pairs, 1);	/* asian: R4 */
	assert_int_equal(res.groups[3].pairs, 0);	/* black: no consent */
	run(0, INT32_MIN, INT32_MAX, DIM_REASON);	/* one referral, many */
	assert_int_equal(res.groups[code_index(&codes_reason, "stress")].
	    referrals, 2);
	assert_int_equal(res.groups[code_index(&codes_reason, "housing")].
	    referrals, 1);
	assert_int_equal(agg_dim_parse("ethnic_group"), DIM_ETHNIC_GROUP);
	assert_int_equal(agg_dim_parse("colour"), DIM_N);
}

static void
test_published(void **state)
{
	struct impact_req q;
	struct buf csv;
	cJSON *doc, *reach, *m;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.place = 0;
	q.from = INT32_MIN;
	q.to = INT32_MAX;
	q.sdc.on = 1;
	q.sdc.threshold = 8;
	q.group_by = DIM_GENDER;
	doc = impact_json(agg, &q);
	reach = cJSON_GetObjectItem(doc, "reach");
	assert_string_equal(cJSON_GetObjectItem(reach, "referrals")->valuestring,
	    "suppressed");
	assert_string_equal(cJSON_GetObjectItem(reach,
	    "per_1000_residents")->valuestring, "withheld");
	assert_string_equal(cJSON_GetObjectItem(reach,
	    "declined_pct")->valuestring, "withheld");
	m = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "ons4"), "happy");
	assert_string_equal(cJSON_GetObjectItem(m, "mean_change")->valuestring,
	    "withheld");
	assert_string_equal(cJSON_GetObjectItem(m, "n")->valuestring,
	    "suppressed");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc,
	    "disclosure_control")));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(doc, "scope"), "place")), "AA");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
	    "groups")), 5);
	/* the same document as tidy CSV */
	buf_init(&csv, 0);
	assert_int_equal(impact_csv(doc, &csv), PC_OK);
	assert_int_equal(strncmp(buf_str(&csv), "place,from,to,group_by,group,"
	    "section,measure,value,disclosure\r\n", 61), 0);
	assert_non_null(strstr(buf_str(&csv), "AA,,,,,reach,referrals,"
	    "suppressed,controlled\r\n"));
	assert_non_null(strstr(buf_str(&csv), "AA,,,,,reach,by_source."
	    "general_practice,suppressed,controlled\r\n"));
	assert_non_null(strstr(buf_str(&csv), "AA,,,gender,female,ons4,"
	    "happy.mean_change,withheld,controlled\r\n"));
	buf_free(&csv);
	cJSON_Delete(doc);
	/* every place and the whole system */
	q.group_by = DIM_NONE;
	q.sdc.on = 0;
	doc = impact_places_json(agg, &q);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "places")),
	    2);
	assert_float_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "all"),
	    "referrals")->valuedouble, 5, 0);
	cJSON_Delete(doc);
}

/* Every group's consented referrals add up to the place's. */
static void
test_consent_by_group(void **state)
{
	int d, g;

	(void)state;
	for (d = 1; d < DIM_N; d++) {
		long sum = 0;

		if (d == DIM_REASON)
			continue;	/* one referral, several reasons */
		run(0, INT32_MIN, INT32_MAX, (enum agg_dim)d);
		for (g = 0; g < res.ngroups; g++)
			sum += res.groups[g].consented;
		assert_int_equal(res.total.consented, 3);
		assert_int_equal(sum, res.total.consented);
	}
	run(0, INT32_MIN, INT32_MAX, DIM_ETHNIC_GROUP);
	assert_int_equal(res.groups[0].consented, 2);	/* white: R1, R2 */
	assert_int_equal(res.groups[3].consented, 0);	/* black: R3 */
}

/* Each count's cell key is the sum of its people's record keys. */
static void
test_cell_keys(void **state)
{
	long k1 = ckm_record_key(cell_key, 0xaaaaaaaaaaaaaaa1ULL);
	long k2 = ckm_record_key(cell_key, 0xaaaaaaaaaaaaaaa2ULL);
	long k3 = ckm_record_key(cell_key, 0xaaaaaaaaaaaaaaa3ULL);
	const struct agg_keys *t = &res.total.key;

	(void)state;
	run(0, INT32_MIN, INT32_MAX, DIM_ETHNIC_GROUP);
	assert_int_equal(t->referrals, 2 * k1 + k2 + k3);
	assert_int_equal(t->people, k1 + k2 + k3);	/* P1 once */
	assert_int_equal(t->consented, 2 * k1 + k3);
	assert_int_equal(t->pairs, 2 * k1 + k3);
	assert_int_equal(t->contacts, 4 * k1);		/* R1 3, R2 1 */
	assert_int_equal(t->attended, 3 * k1);
	assert_int_equal(t->closed, k1 + k2 + k3);
	assert_int_equal(t->improved[ONS4_LIFE_SATISFACTION], k1 + k3);
	assert_int_equal(t->by[DIM_ETHNIC_GROUP][0], 2 * k1);
	/* a group's cell and the reach breakdown: the same people, one key */
	assert_int_equal(res.groups[0].key.referrals, 2 * k1);
	assert_int_equal(res.groups[0].key.people, k1);
	assert_int_equal(res.groups[2].key.pairs, k3);
}

static void
test_updates(void **state)
{
	struct builder b;
	struct fact f;

	(void)state;
	/* a referral's date changing: its fact is replaced, not added */
	referral(&b, "BB", "b0000006-0000-4000-8000-000000000000",
	    "bbbbbbbbbbbbbbb5", "\"referred_on\":\"2025-06-05\",\"source\":"
	    "\"mdt\",\"reasons\":[\"bereavement\"],\"service\":\"general\","
	    "\"age\":45,\"gender\":\"not_stated\",\"ethnicity\":\"Z\","
	    "\"consent_evaluation\":true");
	agg_fact(&b.tl, &f);
	f.key = key_of(f.id);
	agg_apply(agg, &f, 1);
	tl_free(&b.tl);
	run(1, date_from_ymd(2026, 1, 1), INT32_MAX, DIM_NONE);
	assert_int_equal(res.total.referrals, 0);
	run(1, date_from_ymd(2025, 1, 1), date_from_ymd(2025, 12, 31),
	    DIM_NONE);
	assert_int_equal(res.total.referrals, 1);
	assert_int_equal(res.total.pairs, 0);	/* the new fact has none */
	agg_result_free(&res);
}

/*
 * Stored facts are tagged fields, read alike by an older and a newer
 * pcmdsd on one database: this version reads its own whole; skips a
 * tag from a newer one; asks for a fact lacking a field it needs to be
 * worked out again, as it does a fact from before tagged facts; and
 * refuses what is not a fact.
 */
/*
 * blob with its field holding exactly the text was (its place, say) given
 * the n bytes v instead.
 */
static void
swap_field(const struct buf *blob, const char *was, const void *v, size_t n,
    struct buf *out)
{
	const uint8_t *p = (const uint8_t *)blob->p, *end = p + blob->len;
	size_t k;
	int found = 0;

	assert_int_equal(buf_add(out, p, 1), PC_OK);	/* the magic */
	for (p++; p + 3 <= end; p += 3 + k) {
		uint8_t head[3];

		k = (size_t)p[1] | (size_t)p[2] << 8;
		if (found || k != strlen(was) || memcmp(p + 3, was, k) != 0) {
			assert_int_equal(buf_add(out, p, 3 + k), PC_OK);
			continue;
		}
		head[0] = p[0];
		head[1] = (uint8_t)(n & 0xff);
		head[2] = (uint8_t)(n >> 8);
		assert_int_equal(buf_add(out, head, 3), PC_OK);
		assert_int_equal(buf_add(out, v, n), PC_OK);
		found = 1;
	}
	assert_true(found);
}

/* The value of a stored fact's field tagged tag (*len its length). */
static const uint8_t *
field_of(const struct buf *blob, int tag, size_t *len)
{
	const uint8_t *p = (const uint8_t *)blob->p + 1;	/* past the magic */
	const uint8_t *end = (const uint8_t *)blob->p + blob->len;
	size_t n;

	for (; p + 3 <= end; p += 3 + n) {
		n = (size_t)p[1] | (size_t)p[2] << 8;
		assert_true(p + 3 + n <= end);
		if (p[0] == tag) {
			*len = n;
			return p + 3;
		}
	}
	fail_msg("no field tagged %d", tag);
	return NULL;
}

/* A stored fact's fields but those tagged from..from+4 (a newer one's). */
static void
drop_tags(const struct buf *blob, int from, struct buf *out)
{
	const uint8_t *p = (const uint8_t *)blob->p, *end = p + blob->len;
	size_t n;

	assert_int_equal(buf_add(out, p, 1), PC_OK);	/* the magic */
	for (p++; p + 3 <= end; p += 3 + n) {
		n = (size_t)p[1] | (size_t)p[2] << 8;
		if (p[0] < from || p[0] > from + 4)
			assert_int_equal(buf_add(out, p, 3 + n), PC_OK);
	}
}

static void
test_stored_facts(void **state)
{
	const uint8_t future[] = {200, 3, 0, 'n', 'e', 'w'};
	struct builder b;
	struct fact f, g;
	struct buf blob, cut;
	const uint8_t *set;
	size_t at, set_len;
	int v;

	(void)state;
	referral(&b, "AA", "a0000009-0000-4000-8000-000000000000",
	    "aaaaaaaaaaaaaaa9", "\"referred_on\":\"2026-02-03\",\"source\":"
	    "\"pharmacy\",\"reasons\":[\"stress\",\"debt_money\"],"
	    "\"service\":\"general\",\"age\":70,\"gender\":\"male\","
	    "\"ethnicity\":\"M\",\"imd_decile\":3,\"carer\":true,"
	    "\"consent_evaluation\":true");
	assess(&b, "2026-02-04", "baseline", 2, 3, 4, 8);
	contact(&b, "2026-02-05", 1);
	assess(&b, "2026-03-04", "final", 5, 6, 7, 3);
	closure(&b, "2026-03-05", "goals_met");
	agg_fact(&b.tl, &f);
	tl_free(&b.tl);
	buf_init(&blob, 0);
	assert_int_equal(agg_fact_encode(&f, &blob), PC_OK);
	/*
	 * a set stored as its codes' names joined by commas, in the
	 * list's order (tag 8, the reasons), its length before it
	 */
	set = field_of(&blob, 8, &set_len);
	assert_int_equal(set_len, strlen("stress,debt_money"));
	assert_memory_equal(set, "stress,debt_money", set_len);
	/* and an empty set as a field of no bytes (tag 10, support taken) */
	field_of(&blob, 10, &set_len);
	assert_int_equal(set_len, 0);
	assert_int_equal(agg_fact_decode(blob.p, blob.len, &g, &v), 0);
	assert_int_equal(v, FACT_VERSION);
	assert_memory_equal(&f, &g, sizeof(f));
	/* a tag this version does not know, from a newer one: skipped */
	assert_int_equal(buf_add(&blob, future, sizeof(future)), PC_OK);
	assert_int_equal(agg_fact_decode(blob.p, blob.len, &g, &v), 0);
	assert_memory_equal(&f, &g, sizeof(f));
	/*
	 * without what the rules and a step need (records, closures, the
	 * last date, baseline and latest: tags 28 to 32, which version 5
	 * added), as a version 4 server wrote it: worked out again
	 */
	buf_init(&cut, 0);
	drop_tags(&blob, 28, &cut);
	assert_true(cut.len < blob.len);
	assert_int_equal(agg_fact_decode(cut.p, cut.len, &g, &v), 1);
	assert_string_equal(g.id, f.id);
	buf_free(&cut);
	/*
	 * without its last field (the take-up mark, which version 4 added),
	 * as a version 3 server wrote it: worked out again
	 */
	at = blob.len - sizeof(future) - (3 + 1);
	buf_init(&cut, 0);
	assert_int_equal(buf_add(&cut, blob.p, at), PC_OK);
	assert_int_equal(agg_fact_decode(cut.p, cut.len, &g, &v), 1);
	assert_string_equal(g.id, f.id);
	/* a fact stored before tagged facts (the C struct itself): too */
	assert_int_equal(agg_fact_decode(&f, sizeof(f), &g, &v), 1);
	assert_string_equal(g.id, f.id);
	assert_int_equal(v, 0);
	/* ...and the struct of a smaller version (the PCN came later) */
	assert_int_equal(agg_fact_decode(&f, offsetof(struct fact, pcn), &g,
	    &v), 1);
	assert_string_equal(g.id, f.id);
	/*
	 * a text field read up to a NUL in it and cut to its room, as
	 * a C string of the struct holds it
	 */
	buf_free(&cut);
	buf_init(&cut, 0);
	swap_field(&blob, "AA", "AB\0CD", 5, &cut);
	assert_int_equal(agg_fact_decode(cut.p, cut.len, &g, &v), 0);
	assert_string_equal(g.place, "AB");
	for (at = 2; at < sizeof(g.place); at++)
		assert_int_equal(g.place[at], 0);	/* nothing after it */
	buf_free(&cut);
	/* just short of its room, filling it, one past, far past */
	for (at = sizeof(g.place) - 2; at < sizeof(g.place) + 8; at++) {
		char longer[sizeof(g.place) + 8];
		size_t want = at < sizeof(g.place) ? at : sizeof(g.place) - 1;

		memset(longer, 'P', sizeof(longer));
		buf_init(&cut, 0);
		swap_field(&blob, "AA", longer, at, &cut);
		assert_int_equal(agg_fact_decode(cut.p, cut.len, &g, &v), 0);
		assert_int_equal(strlen(g.place), want);
		assert_memory_equal(g.place, longer, want);
		buf_free(&cut);
	}
	/* a field running past the end, or no fact at all: refused */
	assert_int_equal(agg_fact_decode(blob.p, blob.len - 1, &g, &v), -1);
	assert_int_equal(agg_fact_decode("fact", 4, &g, &v), -1);
	buf_free(&cut);
	buf_free(&blob);
}

/* People in place i (-1: all) by the one-pass query. */
static long
each_people(int i)
{
	struct agg_query q = {-1, INT32_MIN, INT32_MAX, DIM_NONE};
	struct agg_result each[2], all;

	assert_int_equal(agg_run_places(agg, &q, each, &all), PC_OK);
	return i < 0 ? all.total.people : each[i].total.people;
}

/* One pass over every place gives what a query per place gives. */
static void
same_as_queries(void)
{
	struct agg_query q = {-1, INT32_MIN, INT32_MAX, DIM_NONE};
	struct agg_result each[2], all;
	size_t i;

	assert_int_equal(agg_run_places(agg, &q, each, &all), PC_OK);
	for (i = 0; i < 2; i++) {
		run((int)i, INT32_MIN, INT32_MAX, DIM_NONE);
		assert_memory_equal(&res.total, &each[i].total,
		    sizeof(res.total));
		assert_int_equal(res.population, each[i].population);
	}
	run(-1, INT32_MIN, INT32_MAX, DIM_NONE);
	assert_memory_equal(&res.total, &all.total, sizeof(res.total));
	assert_int_equal(res.population, 1500);
	assert_int_equal(all.population, 1500);
	agg_result_free(&res);
}

static void
test_every_place(void **state)
{
	struct builder b;

	(void)state;
	same_as_queries();
	assert_int_equal(each_people(0), 3);
	assert_int_equal(each_people(1), 1);
	assert_int_equal(each_people(-1), 4);
	/* P1, referred in place A, now referred in place B too */
	referral(&b, "BB", "b0000007-0000-4000-8000-000000000000",
	    "aaaaaaaaaaaaaaa1", "\"referred_on\":\"2026-05-05\",\"source\":"
	    "\"self\",\"reasons\":[\"stress\"],\"service\":\"general\","
	    "\"age\":31,\"gender\":\"female\",\"ethnicity\":\"A\","
	    "\"consent_evaluation\":true");
	publish(&b);
	same_as_queries();
	assert_int_equal(each_people(1), 2);
	assert_int_equal(each_people(-1), 4);	/* one person, two places */
}

/* -- month sums against the full pass ----------------------------------- */

static uint64_t lcg = 20261201;

static int
rnd(int n)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (int)((lcg >> 33) % (uint64_t)n);
}

/* A fact of referral k, every field drawn again (a correction of it). */
static void
random_fact(struct fact *f, int k)
{
	static const char *const places[] = {"AA", "BB", "CC"};
	int32_t d0 = date_from_ymd(2024, 1, 1);
	int m;

	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "c%07d-0000-4000-8000-%012d", k, k);
	f->key = k + 1;
	snprintf(f->place, sizeof(f->place), "%s", places[rnd(3)]);
	f->person = rnd(8) == 0 ? 0 : 1000 + (uint64_t)rnd(400);
	f->referred_on = d0 + rnd(900);
	if (rnd(100) == 0)	/* outside the years with month sums */
		f->referred_on = rnd(2) ? date_from_ymd(1850, 6, 1) + rnd(60) :
		    date_from_ymd(2250, 1, 1) + rnd(60);
	f->closed_on = rnd(2) ? -1 : f->referred_on + rnd(200);
	f->close_reason = (uint8_t)(f->closed_on < 0 ? 255 : rnd(8));
	f->first_contact = rnd(3) == 0 ? -1 : f->referred_on + rnd(400) - 3;
	f->reasons = (uint32_t)rnd(1 << 18) & (uint32_t)rnd(1 << 18);
	f->support_offered = (uint32_t)rnd(1 << 18) & (uint32_t)rnd(1 << 18);
	f->support_taken = f->support_offered & (uint32_t)rnd(1 << 18);
	f->contacts = (uint16_t)(rnd(50) == 0 ? 60000 + rnd(5000) : rnd(20));
	f->attended = (uint16_t)rnd(f->contacts + 1);
	f->source = (uint8_t)rnd(16);
	f->service = (uint8_t)rnd(6);
	f->gender = (uint8_t)rnd(5);
	f->ethnicity = (uint8_t)rnd(18);
	f->age = (uint8_t)rnd(256);
	f->imd_decile = (uint8_t)(rnd(4) ? rnd(11) : rnd(256));
	for (m = 0; m < 4; m++)
		f->flags[m] = (uint8_t)rnd(FLAG_N);
	f->consent = (uint8_t)rnd(2);
	f->voided = rnd(12) == 0;
	f->has_pair = (uint8_t)rnd(2);
	for (m = 0; f->has_pair && m < ONS4_N; m++) {
		f->base[m] = (int8_t)rnd(11);
		f->follow[m] = (int8_t)rnd(11);
	}
	if (rnd(3))
		snprintf(f->pcn, sizeof(f->pcn), "U%d", rnd(30));
}

/*
 * Where each referral is in one group, the groups' counts add up to the
 * total's: their pairs (counted by scores) to the total's (summed as they
 * come), key for key.
 */
static void
groups_add_up(const struct agg_result *r)
{
	struct agg_cell sum;
	int g, m, i;

	memset(&sum, 0, sizeof(sum));
	for (g = 0; g < r->ngroups; g++) {
		const struct agg_cell *c = &r->groups[g];

		sum.referrals += c->referrals;
		sum.consented += c->consented;
		sum.pairs += c->pairs;
		sum.key.referrals += c->key.referrals;
		sum.key.pairs += c->key.pairs;
		for (i = 0; i < 8; i++)
			sum.closed_by[i] += c->closed_by[i];
		for (m = 0; m < ONS4_N; m++) {
			long *to = (long *)&sum.ons4[m];
			const long *from = (const long *)&c->ons4[m];

			for (i = 0; i < (int)(sizeof(c->ons4[m]) / sizeof(long));
			    i++)
				to[i] += from[i];
			sum.key.improved[m] += c->key.improved[m];
			sum.key.worst_base[m] += c->key.worst_base[m];
			sum.key.left_worst[m] += c->key.left_worst[m];
		}
	}
	assert_int_equal(sum.referrals, r->total.referrals);
	assert_int_equal(sum.consented, r->total.consented);
	assert_int_equal(sum.pairs, r->total.pairs);
	assert_int_equal(sum.key.referrals, r->total.key.referrals);
	assert_int_equal(sum.key.pairs, r->total.key.pairs);
	assert_memory_equal(sum.closed_by, r->total.closed_by,
	    sizeof(sum.closed_by));
	assert_memory_equal(sum.ons4, r->total.ons4, sizeof(sum.ons4));
	assert_memory_equal(sum.key.improved, r->total.key.improved,
	    sizeof(sum.key.improved));
	assert_memory_equal(sum.key.worst_base, r->total.key.worst_base,
	    sizeof(sum.key.worst_base));
	assert_memory_equal(sum.key.left_worst, r->total.key.left_worst,
	    sizeof(sum.key.left_worst));
}

/*
 * One query both ways: from the month sums (its pass shared with the
 * workers, when they run), and fact by fact by the caller alone.
 */
static void
same_run(struct agg *a, int place, int32_t from, int32_t to, enum agg_dim d)
{
	struct agg_query q = {place, from, to, d};
	struct workq *w = a->workers;
	struct agg_result x, y;
	int g;

	a->full_pass = 0;
	assert_int_equal(agg_run(a, &q, &x), PC_OK);
	a->full_pass = 1;
	a->workers = NULL;
	assert_int_equal(agg_run(a, &q, &y), PC_OK);
	a->workers = w;
	assert_memory_equal(&x.total, &y.total, sizeof(x.total));
	assert_int_equal(x.ngroups, y.ngroups);
	for (g = 0; g < x.ngroups; g++)
		assert_memory_equal(&x.groups[g], &y.groups[g],
		    sizeof(x.groups[g]));
	if (d != DIM_NONE && d != DIM_REASON)
		groups_add_up(&x);
	agg_result_free(&x);
	agg_result_free(&y);
}

static void
same_months(struct agg *a, int place, int32_t from, int32_t to)
{
	struct agg_query q = {place, from, to, DIM_NONE};
	struct agg_cell *x, *y;
	int nx, ny;

	a->full_pass = 0;
	assert_int_equal(agg_run_months(a, &q, &x, &nx, 240), PC_OK);
	a->full_pass = 1;
	assert_int_equal(agg_run_months(a, &q, &y, &ny, 240), PC_OK);
	assert_int_equal(nx, ny);
	assert_true(nx > 0);
	assert_memory_equal(x, y, (size_t)nx * sizeof(*x));
	free(x);
	free(y);
}

static void
same_places(struct agg *a, int32_t from, int32_t to)
{
	struct agg_query q = {-1, from, to, DIM_NONE};
	struct agg_result x[3], y[3], xa, ya;
	size_t i;

	assert_int_equal(a->nplaces, 3);
	a->full_pass = 0;
	assert_int_equal(agg_run_places(a, &q, x, &xa), PC_OK);
	a->full_pass = 1;
	assert_int_equal(agg_run_places(a, &q, y, &ya), PC_OK);
	for (i = 0; i < 3; i++)
		assert_memory_equal(&x[i].total, &y[i].total,
		    sizeof(x[i].total));
	assert_memory_equal(&xa.total, &ya.total, sizeof(xa.total));
}

/* Every kind of query, both ways, over whole and part months. */
static void
same_everywhere(struct agg *a)
{
	int32_t r[][2] = {
		{INT32_MIN, INT32_MAX},
		{date_from_ymd(2024, 3, 1), date_from_ymd(2025, 2, 28)},
		{date_from_ymd(2024, 3, 1), date_from_ymd(2025, 2, 27)},
		{date_from_ymd(2024, 3, 2), date_from_ymd(2025, 2, 28)},
		{date_from_ymd(2024, 5, 10), date_from_ymd(2024, 5, 20)},
		{INT32_MIN, date_from_ymd(2024, 12, 31)},
		{date_from_ymd(2025, 7, 1), INT32_MAX},
	};
	size_t i;
	int p, d;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		for (p = -1; p < 3; p++)
			for (d = 0; d < DIM_N; d++)
				same_run(a, p, r[i][0], r[i][1],
				    (enum agg_dim)d);
		same_places(a, r[i][0], r[i][1]);
	}
	for (p = -1; p < 3; p++) {
		same_months(a, p, date_from_ymd(2024, 1, 1),
		    date_from_ymd(2026, 8, 31));
		same_months(a, p, date_from_ymd(2024, 2, 1),
		    date_from_ymd(2025, 3, 17));
	}
}

/*
 * A query adds up the whole months it covers from sums kept per month
 * (and per group, for the dimensions queried by group: made on the first
 * such query, or before any fact; their people from the person numbers
 * kept with them), and the rest fact by fact; both must
 * give every count and key exactly, the pass made by one thread or
 * shared by several,
 * whatever came before: corrections moving referrals between months and
 * places, voids and their undoing, closures, batches as catching up
 * applies them, dates outside the years with sums.
 */
static void
test_month_sums(void **state)
{
	struct agg *a;
	struct fact *batch;
	int k, i, d;

	(void)state;
	assert_non_null(a = agg_new(cell_key));
	assert_non_null(batch = calloc(200, sizeof(*batch)));
	/* half the dimensions' group sums made before any fact (then kept
	   in step fact by fact), the others' from the facts at hand */
	for (d = 1; d < DIM_N; d += 2) {
		struct agg_query q = {-1, INT32_MIN, INT32_MAX,
		    (enum agg_dim)d};
		struct agg_result r;

		assert_int_equal(agg_run(a, &q, &r), PC_OK);
		agg_result_free(&r);
		assert_true(a->gdims & 1u << d);
	}
	for (k = 0; k < 1500; k++) {
		random_fact(&batch[0], k);
		agg_apply(a, batch, 1);
	}
	same_everywhere(a);
	for (d = 1; d < DIM_N; d++)
		assert_true(a->gdims & 1u << d);
	/* from now on each pass in four shares, whatever the cores, taking
	   a chunk at a time: each place's facts split between them */
	assert_int_equal(agg_workers_start(a, 3), 3);
	a->unit = 1;
	same_everywhere(a);
	/* corrections, one at a time and in batches */
	for (k = 0; k < 1500; k++) {
		random_fact(&batch[0], rnd(1500));
		agg_apply(a, batch, 1);
	}
	for (k = 0; k < 10; k++) {
		for (i = 0; i < 200; i++)
			random_fact(&batch[i], rnd(1600));
		agg_apply(a, batch, 200);
	}
	same_everywhere(a);
	/* every referral voided, then half of them back */
	for (k = 0; k < 1600; k++) {
		random_fact(&batch[0], k);
		batch[0].voided = 1;
		agg_apply(a, batch, 1);
	}
	same_everywhere(a);
	for (k = 0; k < 1600; k += 2) {
		random_fact(&batch[0], k);
		agg_apply(a, batch, 1);
	}
	same_everywhere(a);
	free(batch);
	agg_close(a);
}

/* A fact of referral k in place AA: person, day, ethnicity A (White). */
static void
plain_fact(struct fact *f, int k, uint64_t person, int32_t day, int voided)
{
	random_fact(f, k);
	snprintf(f->place, sizeof(f->place), "%s", "AA");
	f->person = person;
	f->referred_on = day;
	f->ethnicity = 0;
	f->voided = (uint8_t)voided;
}

static void
apply_one(struct agg *a, int k, uint64_t person, int32_t day, int voided)
{
	struct fact f;

	plain_fact(&f, k, person, day, voided);
	agg_apply(a, &f, 1);
}

/* People and referrals by ethnic group; four periods both ways. */
static void
people_are(struct agg *a, long people, long referrals)
{
	struct agg_query q = {-1, INT32_MIN, INT32_MAX, DIM_ETHNIC_GROUP};
	struct agg_result r;

	assert_int_equal(agg_run(a, &q, &r), PC_OK);
	assert_int_equal(r.total.people, people);
	assert_int_equal(r.total.referrals, referrals);
	agg_result_free(&r);
	same_run(a, -1, INT32_MIN, INT32_MAX, DIM_ETHNIC_GROUP);
	same_run(a, -1, date_from_ymd(2025, 6, 1), date_from_ymd(2025, 6, 30),
	    DIM_ETHNIC_GROUP);
	same_run(a, -1, date_from_ymd(2025, 6, 11), INT32_MAX,
	    DIM_ETHNIC_GROUP);
	same_run(a, -1, INT32_MIN, date_from_ymd(2025, 6, 10),
	    DIM_ETHNIC_GROUP);
}

/*
 * A query by group counts the people of the months it covers whole from
 * the person numbers kept with the group sums, one per fact: a person
 * with two facts in a month is counted once, and still once when one of
 * them goes; numbers far from the month's first (kept in 32 bits) and
 * the month starting again from a new person.
 */
static void
test_month_people(void **state)
{
	int32_t day = date_from_ymd(2025, 6, 10);
	struct fact *batch;
	struct agg *a;
	int k, i;

	(void)state;
	assert_non_null(a = agg_new(cell_key));
	assert_non_null(batch = calloc(1000, sizeof(*batch)));
	people_are(a, 0, 0);	/* the group sums made before any fact */
	apply_one(a, 0, 5000000, day, 0);	/* person number 1 */
	/* 70,000 people referred and voided: more numbers than 16 bits */
	for (k = 1; k <= 70000; k += 1000) {
		for (i = 0; i < 1000; i++)
			plain_fact(&batch[i], k + i,
			    5000000 + (uint64_t)(k + i), day, 1);
		agg_apply(a, batch, 1000);
	}
	/* one person twice in the month, far above its first number */
	apply_one(a, 70001, 9000000, day, 0);
	apply_one(a, 70002, 9000000, day + 1, 0);
	people_are(a, 2, 3);
	/* the month's first fact goes: it starts again from a new person */
	apply_one(a, 0, 5000000, day, 1);
	apply_one(a, 70003, 9000001, day + 2, 0);
	people_are(a, 2, 3);
	/* one of the person's two facts goes: still counted, once */
	apply_one(a, 70001, 9000000, day, 1);
	people_are(a, 2, 2);
	apply_one(a, 70002, 9000000, day + 1, 1);
	people_are(a, 1, 1);
	/* back, and moved to the next month and back */
	apply_one(a, 70001, 9000000, day, 0);
	people_are(a, 2, 2);
	apply_one(a, 70001, 9000000, day + 30, 0);
	people_are(a, 2, 2);
	apply_one(a, 70001, 9000000, day + 3, 0);
	apply_one(a, 70002, 9000000, day + 4, 0);
	people_are(a, 2, 3);
	free(batch);
	agg_close(a);
}

/*
 * The array of referral keys and the table of people grow as facts come,
 * to sizes that are not powers of two, and the array's entries widen as
 * the facts' numbers do (past 2^8 and 2^16 here, to 3 bytes): every
 * referral and person must still be found again after each growth, so
 * that a correction replaces its fact (the count stays one a referral)
 * and takeup's lookups get its key.
 */
#define GROW_N	70000

static void
grow_fact(struct fact *f, int k, int32_t day)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "d%07d-0000-4000-8000-%012d", k, k);
	f->key = k + 1;
	snprintf(f->place, sizeof(f->place), "%s", k % 3 ? "AA" : "BB");
	/* most people once, some twice (k and k + 1 of an even k) */
	f->person = 5000 + (uint64_t)(k % 10 == 0 ? k : k | 1);
	f->referred_on = day + k % 500;
	f->close_reason = 255;
	f->first_contact = -1;
	f->consent = 1;
}

static void
test_tables_grow(void **state)
{
	struct agg_query q = {-1, INT32_MIN, INT32_MAX, DIM_NONE};
	int32_t d0 = date_from_ymd(2024, 1, 1);
	struct agg_result r;
	struct agg *a;
	struct fact f;
	long key, people = 0;
	int k;

	(void)state;
	assert_non_null(a = agg_new(cell_key));
	for (k = 0; k < GROW_N; k++) {
		grow_fact(&f, k, d0);
		people += k % 10 == 0 || (k & 1) != 0 || k + 1 == GROW_N;
		agg_apply(a, &f, 1);
	}
	/* every one corrected (a year later), some moving place */
	for (k = 0; k < GROW_N; k++) {
		grow_fact(&f, k, d0 + 365);
		if (k % 7 == 0)
			snprintf(f.place, sizeof(f.place), "%s", "CC");
		agg_apply(a, &f, 1);
	}
	assert_int_equal(agg_run(a, &q, &r), PC_OK);
	assert_int_equal(r.total.referrals, GROW_N);
	assert_int_equal(r.total.people, people);
	agg_result_free(&r);
	q.to = d0 + 364;
	assert_int_equal(agg_run(a, &q, &r), PC_OK);
	assert_int_equal(r.total.referrals, 0);
	agg_result_free(&r);
	for (k = 0; k < GROW_N; k++) {
		grow_fact(&f, k, d0);
		assert_int_equal(agg_referral_key(a, f.key, &key), 1);
		assert_int_equal(key, ckm_keyer_key(a->keyer, f.person));
	}
	assert_int_equal(a->kbytes, 3);
	/* keys never given, or that no store gives */
	assert_int_equal(agg_referral_key(a, GROW_N + 1, &key), 0);
	assert_int_equal(agg_referral_key(a, (int64_t)1 << 40, &key), 0);
	assert_int_equal(agg_referral_key(a, 0, &key), 0);
	agg_close(a);
}

/*
 * People are held sorted by their key's mix once merged (at start, and
 * each time enough new ones have come), the others in a small table:
 * whatever their keys (small, alike but in their top or low bits), each
 * is one person with one record key, known again after every merge, a
 * restart's loading included. PEOPLE_N facts are stored, three times as
 * many come after the start (merged five times, in a new layout or the
 * same), then all of them are loaded again.
 */
#define PEOPLE_N	9000

static uint64_t
people_key(int k)
{
	int i = k % 3000 + 3000 * (k / 12000);

	/* one in five of an earlier referral's person */
	if (k % 5 == 4)
		return people_key(k / 2);
	switch (k / 3000 % 4) {
	case 0: return 1 + (uint64_t)i;
	case 1: return (uint64_t)(i + 1) << 48;
	case 2: return 0xffffffff00000000ULL | (uint64_t)i;
	default: return 0x5bd1e9955bd1e995ULL * (uint64_t)(k + 1);
	}
}

static void
people_fact(struct fact *f, int k)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "e%07d-0000-4000-8000-%012d", k, k);
	f->key = k + 1;	/* as the store gives them, in order */
	snprintf(f->place, sizeof(f->place), "%s", k % 2 ? "AA" : "BB");
	f->person = people_key(k);
	f->referred_on = date_from_ymd(2025, 1, 1) + k % 700;
	f->close_reason = 255;
	f->first_contact = -1;
	f->consent = 1;
	f->ethnicity = (uint8_t)(k % 18);
}

static int
u64_cmp(const void *x, const void *y)
{
	const uint64_t *p = x, *q = y;

	return *p < *q ? -1 : *p > *q;
}

/* People and their key sum of referrals 0..n-1, counted here. */
static void
people_want(const struct agg *a, int n, long *people, long *key)
{
	uint64_t *keys;
	int k;

	assert_non_null(keys = calloc((size_t)n, sizeof(*keys)));
	for (k = 0; k < n; k++)
		keys[k] = people_key(k);
	qsort(keys, (size_t)n, sizeof(*keys), u64_cmp);
	*people = *key = 0;
	for (k = 0; k < n; k++)
		if (k == 0 || keys[k] != keys[k - 1]) {
			(*people)++;
			*key += ckm_keyer_key(a->keyer, keys[k]);
		}
	free(keys);
}

/* What a, holding referrals 0..n-1, counts: all, by group, by place. */
static void
people_counted(struct agg *a, int n)
{
	struct agg_query q = {-1, INT32_MIN, INT32_MAX, DIM_NONE};
	struct agg_result r;
	long people, key;

	people_want(a, n, &people, &key);
	assert_int_equal(agg_run(a, &q, &r), PC_OK);
	assert_int_equal(r.total.referrals, n);
	assert_int_equal(r.total.people, people);
	assert_int_equal(r.total.key.people, key);
	agg_result_free(&r);
	q.group_by = DIM_ETHNIC_GROUP;
	assert_int_equal(agg_run(a, &q, &r), PC_OK);
	assert_int_equal(r.total.people, people);
	assert_int_equal(r.total.key.people, key);
	agg_result_free(&r);
	same_run(a, -1, INT32_MIN, INT32_MAX, DIM_ETHNIC_GROUP);
	same_run(a, 0, INT32_MIN, INT32_MAX, DIM_NONE);
}

static void
people_store(struct store *st, int from, int to)
{
	struct fact f;
	struct buf b;
	int64_t key;
	int k;

	assert_int_equal(store_begin(st), PC_OK);
	for (k = from; k < to; k++) {
		people_fact(&f, k);
		buf_init(&b, 0);
		assert_int_equal(agg_fact_encode(&f, &b), PC_OK);
		assert_int_equal(store_fact_put(st, f.id, f.place,
		    f.referred_on, 1, b.p, b.len, &key), PC_OK);
		assert_int_equal(key, f.key);
		buf_free(&b);
	}
	assert_int_equal(store_commit(st), PC_OK);
}

static struct agg *
people_open(struct store *st)
{
	char upto[STORE_SNAP_LEN];
	struct err_list errs;
	struct agg *a;

	err_init(&errs);
	assert_int_equal(agg_open(&a, st, cell_key, upto, &errs), PC_OK);
	err_free(&errs);
	return a;
}

/* Room for keys 1..n and at most AGG_KEYS_SLACK more, as a start leaves it. */
static void
keys_fitted(const struct agg *a, size_t n)
{
	assert_true(a->nkey >= n + 1);
	assert_true(a->nkey <= n + 1 + AGG_KEYS_SLACK);
}

static void
test_people_merged(void **state)
{
	struct err_list errs;
	struct store *st;
	struct agg *a;
	struct fact f;
	char v[16];
	int k;

	(void)state;
	err_init(&errs);
	assert_int_equal(store_open(":memory:", &st, &errs), PC_OK);
	err_free(&errs);
	snprintf(v, sizeof(v), "%d", FACT_VERSION);
	assert_int_equal(store_meta_set(st, "fact_version", v), PC_OK);
	people_store(st, 0, PEOPLE_N);
	a = people_open(st);
	/* the key table cut to the last key loaded, grown again after */
	keys_fitted(a, PEOPLE_N);
	people_counted(a, PEOPLE_N);
	/* more after the start, some of them people loaded */
	for (k = PEOPLE_N; k < 4 * PEOPLE_N; k++) {
		people_fact(&f, k);
		agg_apply(a, &f, 1);
		if (k % 1500 == 0)
			people_counted(a, k + 1);
	}
	people_counted(a, 4 * PEOPLE_N);
	agg_close(a);
	/* stored, then loaded again: the same people, the same keys */
	people_store(st, PEOPLE_N, 4 * PEOPLE_N);
	a = people_open(st);
	keys_fitted(a, 4 * PEOPLE_N);
	people_counted(a, 4 * PEOPLE_N);
	agg_close(a);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reach),
		cmocka_unit_test(test_periods_and_places),
		cmocka_unit_test(test_ons4),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_published),
		cmocka_unit_test(test_consent_by_group),
		cmocka_unit_test(test_cell_keys),
		cmocka_unit_test(test_updates),
		cmocka_unit_test(test_stored_facts),
		cmocka_unit_test(test_every_place),
		cmocka_unit_test(test_month_sums),
		cmocka_unit_test(test_month_people),
		cmocka_unit_test(test_tables_grow),
		cmocka_unit_test(test_people_merged),
	};

	return cmocka_run_group_tests_name("agg", tests, setup, teardown);
}

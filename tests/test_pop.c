/*
 * test_pop.c - reach against the population: the import file refused
 * with its row and column, the NHS 2001 / Census 2021 ethnic mapping,
 * and rate ratios with their intervals on a realistic caseload, checked
 * against R.
 *
 * The caseload: 1,200 referrals in Newham in 2025 drawn by a fixed
 * generator (caseload() below), ethnic categories, IMD deciles and ages
 * in proportions like a borough's referrals, 9% with ethnicity not
 * stated or not known. Reference values: R 4.2.2 (Debian 12
 * r-base-core), for each group's count x and expected count E = N X / T
 * (N the group's residents, X the referrals with a known ethnic group,
 * T the table's total, from the default Newham denominators):
 *	t <- poisson.test(x, T = E); sprintf("%.17g", c(t$estimate,
 *	    t$conf.int))
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "date.h"
#include "harness.h"
#include "impact.h"
#include "places.h"
#include "poisson.h"
#include "pop.h"

static struct store *st;
static struct agg *agg;
static const uint8_t cell_key[32] = {9, 9, 9};

static int
setup(void **state)
{
	struct err_list errs;
	int n;

	(void)state;
	err_init(&errs);
	assert_int_equal(store_open(":memory:", &st, &errs), PC_OK);
	assert_int_equal(store_begin(st), PC_OK);
	assert_int_equal(places_import(st, places_default_csv,
	    strlen(places_default_csv), "places", &n, &errs), PC_OK);
	if (pop_import(st, pop_default_csv, strlen(pop_default_csv), "default",
	    &n, &errs) != PC_OK)
		fail_msg("the default population is refused: %s", errs.v[0].msg);
	assert_int_equal(n, 371);
	assert_int_equal(store_commit(st), PC_OK);
	err_free(&errs);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	agg_close(agg);
	store_close(st);
	return 0;
}

/* Import text; the messages joined, for strstr. */
static pc_rc
import(const char *text, char *msgs, size_t len)
{
	struct err_list errs;
	size_t i, off = 0;
	int n;
	pc_rc rc;

	err_init(&errs);
	assert_int_equal(store_begin(st), PC_OK);
	rc = pop_import(st, text, strlen(text), "pop.csv", &n, &errs);
	if (rc == PC_OK)
		assert_int_equal(store_commit(st), PC_OK);
	else
		store_rollback(st);
	msgs[0] = '\0';
	for (i = 0; i < errs.n && off < len; i++)
		off += (size_t)snprintf(msgs + off, len - off, "%s\n",
		    errs.v[i].msg);
	err_free(&errs);
	return rc;
}

#define HEAD	"place,table,category,population,source\n"
#define SEX(f, m, t)	"BD,sex,female," f ",S\nBD,sex,male," m ",S\n" \
	"BD,sex,total," t ",S\n"

static void
test_import_refusals(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"code,name\nBD,x\n", "row 1: the header must be place,table,"
		    "category,population,source"},
		{HEAD "XX,sex,female,5,S\n", "row 2, column place: no place has "
		    "code \"XX\""},
		{HEAD "BD,gender,female,5,S\n", "row 2, column table: must be "
		    "ethnicity, age, sex or imd; got \"gender\""},
		{HEAD "BD,sex,other,5,S\n", "row 2, column category: table sex "
		    "has no category \"other\"; it has female, male, or total"},
		{HEAD "BD,sex,female,5 000,S\n", "row 2, column population: must "
		    "be a whole number"},
		{HEAD "BD,sex,female,-5,S\n", "row 2, column population"},
		{HEAD "BD,sex,female,5,\n", "row 2, column source: empty"},
		{HEAD SEX("5", "6", "12"), "row 4, column population: place BD, "
		    "table sex: the categories add up to 11, but the total says "
		    "12"},
		{HEAD "BD,sex,female,5,S\nBD,sex,total,5,S\n", "place BD, table "
		    "sex: no row for category male"},
		{HEAD "BD,sex,female,5,S\nBD,sex,male,5,S\n", "place BD, table "
		    "sex: no row for category total"},
		{HEAD SEX("5", "6", "11") "BD,sex,male,6,S\n", "row 5: a second "
		    "row for place BD, table sex, category male"},
		{HEAD, "has no rows after its header"},
	};
	char msgs[2000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (import(bad[i].text, msgs, sizeof(msgs)) != PC_EINVAL)
			fail_msg("accepted: %s", bad[i].text);
		if (strstr(msgs, bad[i].want) == NULL)
			fail_msg("for %s\nwanted \"%s\"\ngot: %s", bad[i].text,
			    bad[i].want, msgs);
	}
	/* nothing was changed by the refused files; a good one replaces */
	assert_int_equal(import(HEAD SEX("100", "50", "150"), msgs,
	    sizeof(msgs)), PC_OK);
	assert_int_equal(import(HEAD SEX("112294", "106582", "218876"), msgs,
	    sizeof(msgs)), PC_OK);
}

/* The mapping, seen from Newham's denominators (Census 2021). */
static void
test_ethnic_mapping(void **state)
{
	struct pop p;
	struct pop_counts c;
	const char *nh = "NH";

	(void)state;
	assert_int_equal(pop_load(st, &p), PC_OK);
	pop_sum(&p, &nh, 1, POP_ETHNICITY, &c);
	assert_true(c.loaded);
	assert_int_equal(c.total, 351030);
	/* Asian without Chinese; Other with it, as the data set groups them */
	assert_int_equal(pop_group(&c, DIM_ETHNIC_GROUP, 2), 148187 - 6213);
	assert_int_equal(pop_group(&c, DIM_ETHNIC_GROUP, 4), 17175 + 6213);
	assert_int_equal(pop_group(&c, DIM_ETHNICITY, code_index(
	    &codes_ethnicity, "R")), 6213);
	/* C: Gypsy or Irish Traveller, Roma and any other White */
	assert_int_equal(pop_group(&c, DIM_ETHNICITY, code_index(
	    &codes_ethnicity, "C")), 353 + 2342 + 51394);
	assert_int_equal(pop_group(&c, DIM_ETHNICITY, code_index(
	    &codes_ethnicity, "S")), 3534 + 13641);
	assert_int_equal(pop_group(&c, DIM_ETHNIC_GROUP, 5), -1);
	assert_int_equal(pop_group(&c, DIM_ETHNICITY, code_index(
	    &codes_ethnicity, "Z")), -1);
	{
		long sum = 0;
		int g;

		for (g = 0; g < 5; g++)
			sum += pop_group(&c, DIM_ETHNIC_GROUP, g);
		assert_int_equal(sum, c.total);
		for (g = 0, sum = 0; g < 16; g++)
			sum += pop_group(&c, DIM_ETHNICITY, g);
		assert_int_equal(sum, c.total);
	}
	/* ages: under 15 and 15-24 from the five-year bands */
	pop_sum(&p, &nh, 1, POP_AGE, &c);
	assert_int_equal(pop_group(&c, DIM_AGE_BAND_CENSUS, 0), 70475);
	assert_int_equal(pop_group(&c, DIM_AGE_BAND_CENSUS, 1), 50439);
	assert_int_equal(pop_group(&c, DIM_AGE_BAND_CENSUS, 8), 2585);
	pop_sum(&p, &nh, 1, POP_SEX, &c);
	assert_int_equal(pop_group(&c, DIM_GENDER, code_index(&codes_gender,
	    "female")), 175718);
	assert_int_equal(pop_group(&c, DIM_GENDER, code_index(&codes_gender,
	    "non_binary_other")), -1);
	pop_sum(&p, &nh, 1, POP_IMD, &c);
	assert_int_equal(c.total, 355266);	/* mid-2020 */
	assert_int_equal(pop_group(&c, DIM_IMD_QUINTILE, 0), 86804);
	pop_free(&p);
}

/* A fixed caseload: 1,200 Newham referrals in 2025. */
static uint32_t lcg = 12345;

static uint32_t
draw(uint32_t n)
{
	lcg = lcg * 1103515245u + 12345u;
	return (lcg >> 8) % n;
}

static int
weighted(const int *w, int n)
{
	int total = 0, i, x;

	for (i = 0; i < n; i++)
		total += w[i];
	x = (int)draw((uint32_t)total);
	for (i = 0; i < n - 1 && x >= w[i]; i++)
		x -= w[i];
	return i;
}

static void
caseload(void)
{
	/* per mille, in codes_ethnicity order A..S, Z, 99 */
	static const int eth[18] = {140, 10, 120, 10, 10, 10, 15, 90, 80, 140,
	    40, 40, 120, 20, 15, 40, 50, 40};
	/* deciles 1..10, then not recorded */
	static const int imd[11] = {20, 230, 470, 190, 60, 10, 0, 5, 0, 0, 15};
	struct fact f;
	int i, d;

	struct err_list errs;
	char upto[STORE_SNAP_LEN];

	/* places and denominators as the server loads them */
	err_init(&errs);
	assert_int_equal(agg_open(&agg, st, cell_key, upto, &errs), PC_OK);
	err_free(&errs);
	for (i = 0; i < 1200; i++) {
		memset(&f, 0, sizeof(f));
		snprintf(f.id, sizeof(f.id), "00000000-0000-4000-8000-%012d", i);
		f.key = i + 1;
		snprintf(f.place, sizeof(f.place), "NH");
		f.person = 1000 + (uint64_t)i;
		f.referred_on = date_from_ymd(2025, 1 + (int)draw(12), 1 +
		    (int)draw(28));
		f.closed_on = f.first_contact = -1;
		f.close_reason = 255;
		f.ethnicity = (uint8_t)weighted(eth, 18);
		d = weighted(imd, 11);
		f.imd_decile = (uint8_t)(d == 10 ? 0 : d + 1);
		f.age = (uint8_t)(draw(20) == 0 ? 5 + draw(10) : 16 + draw(70));
		f.gender = (uint8_t)draw(2);
		snprintf(f.pcn, sizeof(f.pcn), "U%05d", 10001 + (int)draw(6));
		agg_apply(agg, &f, 1);
	}
}

static const cJSON *
group_in(const cJSON *doc, const char *breakdown, const char *group)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(doc, "population_rates"), breakdown), "groups"))
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(g, "group")),
		    group) == 0)
			return g;
	fail_msg("no group %s in %s", group, breakdown);
	return NULL;
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", k);
	return v->valuedouble;
}

static const struct {
	const char	*group;
	double		 x, n, ratio, low, high;
} from_r[] = {
	{"white", 316, 107947, 0.95059394918226015, 0.84866236998745825,
	    1.0613966607879308},
	{"mixed", 47, 16419, 0.92954345045639064, 0.68299356404374878,
	    1.2360957326326549},
	{"asian", 451, 141974, 1.0315404520849649, 0.93852297225368386,
	    1.1312826903468205},
	{"black", 204, 61302, 1.0806226440360731, 0.93741345332143955,
	    1.2395230931823777},
	{"other", 63, 23388, 0.87471385264105173, 0.67215414144993879,
	    1.1191389944319101},
};

static void
close_to(double got, double want, const char *what, const char *group)
{
	if (!(fabs(got - want) <= 1e-12 * fabs(want)))
		fail_msg("%s of %s: %.17g, R gives %.17g", what, group, got, want);
}

static void
test_rates_as_r(void **state)
{
	struct impact_req q = {0};
	const cJSON *b;
	cJSON *doc;
	size_t i;

	(void)state;
	caseload();
	q.place = agg_place_index(agg, "NH");
	q.from = INT32_MIN;
	q.to = INT32_MAX;
	q.sdc.threshold = 8;
	doc = impact_json(agg, &q);
	b = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "population_rates"),
	    "ethnic_group");
	/* X: referrals with a known group; T: the table's own total */
	assert_int_equal((long)num(b, "referrals_known"), 1081);
	assert_int_equal((long)num(b, "unknown_referrals"), 119);
	assert_int_equal((long)num(b, "population_total"), 351030);
	assert_double_equal(num(b, "unknown_pct"), 100.0 * 119 / 1200, 1e-12);
	assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(b,
	    "source")), "Census 2021"));
	for (i = 0; i < sizeof(from_r) / sizeof(from_r[0]); i++) {
		const cJSON *g = group_in(doc, "ethnic_group", from_r[i].group);

		assert_true(num(g, "referrals") == from_r[i].x);
		assert_true(num(g, "population") == from_r[i].n);
		close_to(num(g, "rate_per_1000"), 1000 * from_r[i].x /
		    from_r[i].n, "rate", from_r[i].group);
		close_to(num(g, "rate_ratio"), from_r[i].ratio, "ratio",
		    from_r[i].group);
		close_to(num(g, "rate_ratio_ci95_low"), from_r[i].low, "low",
		    from_r[i].group);
		close_to(num(g, "rate_ratio_ci95_high"), from_r[i].high, "high",
		    from_r[i].group);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(g,
		    "flag")), "in_line");
	}
	/* no rate for not stated or not known */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b, "groups")),
	    5);
	cJSON_Delete(doc);
	/* every place together: every place's denominators added up */
	q.place = -1;
	doc = impact_json(agg, &q);
	b = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "population_rates"),
	    "ethnic_group");
	assert_int_equal((long)num(b, "population_total"), 218871 + 267731 +
	    262052 + 351030 + 310261 + 310306 + 278428);
	cJSON_Delete(doc);
}

/* Under control: every rate worked out from the published counts. */
static void
test_rates_controlled(void **state)
{
	struct impact_req q = {0};
	struct poisson_ratio r;
	const cJSON *b, *g, *ref;
	double xref, t;
	cJSON *doc;

	(void)state;
	q.place = agg_place_index(agg, "NH");
	q.from = INT32_MIN;
	q.to = INT32_MAX;
	q.sdc.on = 1;
	q.sdc.threshold = 8;
	doc = impact_json(agg, &q);
	b = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "population_rates"),
	    "ethnic_group");
	ref = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "reach"),
	    "by_ethnic_group");
	xref = num(b, "referrals_known");
	t = num(b, "population_total");
	assert_true(fmod(xref, 5) == 0);
	/* X' = the published total less the published unknown count */
	assert_true(xref == num(cJSON_GetObjectItem(doc, "reach"),
	    "referrals") - num(ref, "not_stated"));
	cJSON_ArrayForEach(g, cJSON_GetObjectItem(b, "groups")) {
		double x = num(g, "referrals"), n = num(g, "population");
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(g,
		    "group"));

		/* the same count as the breakdown of referrals publishes */
		assert_true(x == num(ref, code));
		assert_true(fmod(x, 5) == 0);
		poisson_ratio(x, n * xref / t, &r);
		assert_true(num(g, "rate_ratio") == round(r.ratio * 100) / 100);
		assert_true(num(g, "rate_ratio_ci95_low") == round(r.low * 100) /
		    100);
		assert_true(num(g, "rate_ratio_ci95_high") == round(r.high *
		    100) / 100);
	}
	cJSON_Delete(doc);
}

/* A suppressed group's rate is withheld, with its count. */
static void
test_rates_withheld(void **state)
{
	struct impact_req q = {0};
	const cJSON *g;
	cJSON *doc;

	(void)state;
	q.place = agg_place_index(agg, "NH");
	q.from = date_from_ymd(2025, 3, 1);
	q.to = date_from_ymd(2025, 3, 31);
	q.sdc.on = 1;
	q.sdc.threshold = 8;
	doc = impact_json(agg, &q);
	/* about 4 Mixed referrals in a month: hidden */
	g = group_in(doc, "ethnic_group", "mixed");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(g,
	    "referrals")), "suppressed");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(g,
	    "rate_ratio")), "withheld");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(g,
	    "rate_ratio_ci95_high")), "withheld");
	cJSON_Delete(doc);
}

/* Month by month: the months add up to the year (unsuppressed). */
static void
test_months(void **state)
{
	struct impact_req q = {0};
	const cJSON *m;
	cJSON *doc;
	double sum = 0;
	int too_long;

	(void)state;
	q.place = agg_place_index(agg, "NH");
	q.from = INT32_MIN;
	q.to = date_from_ymd(2025, 12, 31);
	q.sdc.threshold = 8;
	doc = impact_months_json(agg, &q, &too_long);
	assert_non_null(doc);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "months")),
	    12);
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "months"))
		sum += num(m, "referrals");
	assert_true(sum == 1200);
	m = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "months"), 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m,
	    "month")), "2025-02");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m, "to")),
	    "2025-02-28");
	cJSON_Delete(doc);
	q.from = date_from_ymd(1990, 1, 1);
	assert_null(impact_months_json(agg, &q, &too_long));
	assert_true(too_long);
}

/* The commitments panel's figures for one place. */
static void
test_commitments(void **state)
{
	struct impact_req q = {0};
	const cJSON *p, *c;
	cJSON *doc;

	(void)state;
	q.from = INT32_MIN;
	q.to = INT32_MAX;
	q.sdc.on = 1;
	q.sdc.threshold = 8;
	doc = impact_commitments_json(agg, &q);
	assert_non_null(doc);
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "places"))
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(p, "scope"), "place")), "NH") == 0)
			break;
	assert_non_null(p);
	c = cJSON_GetObjectItem(p, "cyp_service");
	assert_int_equal((long)num(c, "pcns_with_referrals"), 6);
	/* no referral is to a CYP service: not met, in words */
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c,
	    "flag")), "not_met");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p,
	    "focus_groups")), 6);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p, "shares")),
	    4);
	/* a place without referrals shows 0, never a rate from nothing */
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "places"), 0);
	assert_true(num(cJSON_GetObjectItem(p, "reach"),
	    "per_1000_residents") == 0);
	cJSON_Delete(doc);
}

/* docs/population.md is what the code says. */
static void
test_docs_in_step(void **state)
{
	struct buf b;
	char *doc;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(pop_markdown(&b), PC_OK);
	doc = th_slurp("docs/population.md", NULL);
	if (doc == NULL)
		fail_msg("docs/population.md is missing: run make docs");
	if (strcmp(doc, buf_str(&b)) != 0)
		fail_msg("docs/population.md differs from the code: run make "
		    "docs");
	free(doc);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_refusals),
		cmocka_unit_test(test_ethnic_mapping),
		cmocka_unit_test(test_rates_as_r),
		cmocka_unit_test(test_rates_controlled),
		cmocka_unit_test(test_rates_withheld),
		cmocka_unit_test(test_months),
		cmocka_unit_test(test_commitments),
		cmocka_unit_test(test_docs_in_step),
	};

	return cmocka_run_group_tests_name("pop", tests, setup, teardown);
}

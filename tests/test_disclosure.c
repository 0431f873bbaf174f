/*
 * test_disclosure.c - published figures attacked as an adversary would:
 * differencing every pair of overlapping month ranges, the ONS4 section
 * of a suppressed group, and a mean that would give its n away.
 *
 * The adversary knows the method exactly: the perturbation table
 * (ckm_ptable, checked in), suppression of 1-7 and rounding to 5. Not
 * knowing the record keys (they come from the server secret), it keeps
 * every count consistent with everything published, and has recovered a
 * count when only one value is left.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "ckm.h"
#include "harness.h"
#include "impact.h"

static struct agg *agg;
static int nfacts;

static void
fresh(int secret)
{
	const uint8_t key[32] = {(uint8_t)secret, 0x5c, 0x11,
	    (uint8_t)(secret >> 8)};
	struct store_place p = {0};

	agg_close(agg);
	assert_non_null(agg = agg_new(key));
	snprintf(p.code, sizeof(p.code), "SM");
	snprintf(p.name, sizeof(p.name), "Small place");
	p.population = 20000;
	assert_int_equal(agg_place_set(agg, &p), PC_OK);
	nfacts = 0;
}

/* One referral of its own person; pair: baseline base, follow-up fol. */
static void
put(int32_t on, const char *source, const char *ethnicity, int pair,
    int base, int fol)
{
	struct fact f;
	int m;

	memset(&f, 0, sizeof(f));
	nfacts++;
	snprintf(f.id, sizeof(f.id), "d0000000-0000-4000-8000-%012d", nfacts);
	f.key = nfacts;
	snprintf(f.place, sizeof(f.place), "SM");
	f.person = 0x1000 + (uint64_t)nfacts;
	f.referred_on = on;
	f.closed_on = f.first_contact = -1;
	f.close_reason = 255;
	f.source = (uint8_t)code_index(&codes_source, source);
	f.ethnicity = (uint8_t)code_index(&codes_ethnicity, ethnicity);
	f.age = 40;
	f.consent = 1;
	f.has_pair = (uint8_t)pair;
	for (m = 0; m < ONS4_N; m++) {
		f.base[m] = (int8_t)base;
		f.follow[m] = (int8_t)fol;
	}
	agg_apply(agg, &f, 1);
}

static cJSON *
figures(int32_t from, int32_t to, enum agg_dim by)
{
	struct impact_req q;
	cJSON *doc;

	memset(&q, 0, sizeof(q));
	q.place = 0;
	q.from = from;
	q.to = to;
	q.group_by = by;
	q.sdc.on = 1;
	q.sdc.threshold = 8;
	assert_non_null(doc = impact_json(agg, &q));
	return doc;
}

/* -- the adversary ------------------------------------------------------- */

/* A published count: what the perturbed count can have been. */
struct seen {
	int	 lo, hi;	/* perturbed count within lo..hi */
};

/*
 * "suppressed" is 1..7 for a total; for a group it may be secondary (any
 * count) and, under a suppressed total, even 0.
 */
static struct seen
seen_of(const cJSON *v, int group, int total_hidden)
{
	struct seen s = {0, INT_MAX};

	if (cJSON_IsNumber(v)) {
		int p = (int)v->valuedouble;

		s.lo = p == 0 ? 0 : p - 2;
		s.hi = p == 0 ? 0 : p + 2;
	} else if (cJSON_IsString(v) && strcmp(v->valuestring,
	    "suppressed") == 0) {
		s.lo = total_hidden ? 0 : 1;
		s.hi = group ? INT_MAX : 7;
	} else
		fail_msg("a count neither shown nor suppressed");
	return s;
}

/* Could a true count t have been published as s, by the table? */
static int
could_be(int t, struct seen s)
{
	int row = t < ckm_ptable[ckm_nlines - 1].i ? t :
	    ckm_ptable[ckm_nlines - 1].i;
	size_t k;

	for (k = 0; k < ckm_nlines; k++) {
		int p = t + ckm_ptable[k].v;

		if (ckm_ptable[k].i == row && p >= s.lo && p <= s.hi &&
		    (t > 0 || p == 0))
			return 1;
	}
	return 0;
}

#define MONTHS	4
#define MAXC	24	/* the adversary's bound on a month's count */

struct attack {
	struct seen	 pub[MONTHS][MONTHS];	/* range a..b */
	int		 vec[MONTHS];
	unsigned char	 range_ok[MONTHS][MONTHS][MONTHS * MAXC + 1];
};

/* Every vector of monthly counts consistent with what was published. */
static void
search(struct attack *x, int j)
{
	int a, b, c;

	if (j == MONTHS) {
		for (a = 0; a < MONTHS; a++)
			for (b = a, c = 0; b < MONTHS; b++) {
				c += x->vec[b];
				x->range_ok[a][b][c] = 1;
			}
		return;
	}
	for (c = 0; c <= MAXC; c++) {
		int ok = 1, sum = c;

		x->vec[j] = c;
		for (a = j; ok && a >= 0; a--) {
			if (a < j)
				sum += x->vec[a];
			ok = could_be(sum, x->pub[a][j]);
		}
		if (ok)
			search(x, j + 1);
	}
}

/* Ranges whose true count (1-7) is the only one left: recovered. */
static int
recovered(struct attack *x, const int *truth, const char *what)
{
	int a, b, c, n = 0;

	memset(x->range_ok, 0, sizeof(x->range_ok));
	search(x, 0);
	for (a = 0; a < MONTHS; a++)
		for (b = a; b < MONTHS; b++) {
			int t = 0, left = 0;

			for (c = a; c <= b; c++)
				t += truth[c];
			for (c = 0; c <= MONTHS * MAXC; c++)
				left += x->range_ok[a][b][c];
			assert_true(x->range_ok[a][b][t]);	/* sound */
			if (left == 1 && t >= 1 && t <= 7) {
				print_message("%s: months %d-%d: %d recovered\n",
				    what, a + 1, b + 1, t);
				n++;
			}
		}
	return n;
}

/* A group suppressed in one section is suppressed in all of them. */
static void
consistent(const cJSON *doc)
{
	const cJSON *g, *by = th_at(doc, "reach.by_ethnic_group"), *m, *v;
	int i;

	cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "groups")) {
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(g,
		    "group"));
		const cJSON *r = cJSON_GetObjectItem(g, "referrals");
		int hidden = cJSON_IsString(r);

		assert_int_equal(hidden, cJSON_IsString(cJSON_GetObjectItem(by,
		    code)));
		if (!hidden) {
			assert_double_equal(r->valuedouble, cJSON_GetObjectItem(by,
			    code)->valuedouble, 0);
			continue;
		}
		assert_true(cJSON_IsString(cJSON_GetObjectItem(g, "people")));
		assert_true(cJSON_IsString(cJSON_GetObjectItem(g, "consented")));
		assert_true(cJSON_IsString(th_at(g, "ons4.pairs")));
		assert_true(cJSON_IsString(th_at(g, "ons4.pairs_pct_of_consented")));
		for (i = 0; i < ONS4_N; i++) {
			m = cJSON_GetObjectItem(cJSON_GetObjectItem(g, "ons4"),
			    ons4_measures[i].field);
			cJSON_ArrayForEach(v, m)
				assert_true(cJSON_IsString(v));
		}
	}
}

/*
 * A small place over four months: 12, 6, 1 and 2 referrals. Rounding
 * alone lets the adversary pin months 3 and 4 (1 and 2) from the ten
 * ranges; with the cell key method nothing of 1-7 is left, under any of
 * eight secrets (PCMDS_TEST_SECRETS=N tries N, as the README's 256).
 */
static void
test_overlapping_months(void **state)
{
	static const struct {
		int	 month, n;
		const char *eth;
	} plan[] = {
		{1, 8, "A"}, {1, 4, "H"}, {2, 4, "A"}, {2, 2, "N"}, {3, 1, "N"},
		{4, 1, "A"}, {4, 1, "H"},
	};
	static const char *const groups[] = {"white", "mixed", "asian",
	    "black", "other", "not_stated"};
	static struct attack x[7];
	int truth[7][MONTHS], secret, a, b, g, i, k, n = 0, secrets = 8;
	const char *env = getenv("PCMDS_TEST_SECRETS");

	(void)state;
	if (env != NULL && atoi(env) > 0 && atoi(env) <= 65535)
		secrets = atoi(env);
	memset(truth, 0, sizeof(truth));
	for (i = 0; i < (int)(sizeof(plan) / sizeof(plan[0])); i++) {
		int e = codes_ethnic_group_of(plan[i].eth);

		truth[0][plan[i].month - 1] += plan[i].n;
		truth[1 + e][plan[i].month - 1] += plan[i].n;
	}
	for (secret = 0; secret < secrets; secret++) {
		fresh(secret + 1);
		for (i = 0; i < (int)(sizeof(plan) / sizeof(plan[0])); i++)
			for (k = 0; k < plan[i].n; k++)
				put(date_from_ymd(2026, plan[i].month, 2 + k),
				    "general_practice", plan[i].eth, 0, 0, 0);
		for (a = 0; a < MONTHS; a++)
			for (b = a; b < MONTHS; b++) {
				cJSON *doc = figures(date_from_ymd(2026, a + 1, 1),
				    date_from_ymd(2026, b + 2, 1) - 1,
				    DIM_ETHNIC_GROUP);
				const cJSON *tot = th_at(doc, "reach.referrals");
				int th = cJSON_IsString(tot);

				x[0].pub[a][b] = seen_of(tot, 0, 0);
				for (g = 0; g < 6; g++)
					x[1 + g].pub[a][b] = seen_of(
					    cJSON_GetObjectItem(th_at(doc,
					    "reach.by_ethnic_group"), groups[g]),
					    1, th);
				consistent(doc);
				cJSON_Delete(doc);
			}
		n += recovered(&x[0], truth[0], "all");
		for (g = 0; g < 6; g++)
			n += recovered(&x[1 + g], truth[1 + g], groups[g]);
	}
	assert_int_equal(n, 0);
}

/*
 * group_by=source: "self" (9 referrals, 9 pairs) is hidden beside a
 * suppressed group; its ONS4 section must not show its pairs and means.
 */
static void
test_suppressed_group_ons4(void **state)
{
	cJSON *doc;
	const cJSON *g, *self = NULL;
	int i;

	(void)state;
	fresh(3);
	for (i = 0; i < 40; i++)
		put(date_from_ymd(2026, 1, 1 + i % 28), "general_practice", "A",
		    1, 4, 6);
	for (i = 0; i < 9; i++)
		put(date_from_ymd(2026, 1, 1 + i), "self", "A", 1, 3, 7);
	for (i = 0; i < 3; i++)
		put(date_from_ymd(2026, 1, 10 + i), "pharmacy", "A", 1, 5, 5);
	doc = figures(date_from_ymd(2026, 1, 1), date_from_ymd(2026, 1, 31),
	    DIM_SOURCE);
	cJSON_ArrayForEach(g, cJSON_GetObjectItem(doc, "groups"))
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(g, "group")),
		    "self") == 0)
			self = g;
	assert_non_null(self);
	/* the precondition: with this secret, "self" is hidden */
	assert_string_equal(cJSON_GetStringValue(th_at(doc, "reach.by_source."
	    "self")), "suppressed");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(self,
	    "referrals")), "suppressed");
	assert_string_equal(cJSON_GetStringValue(th_at(self, "ons4.pairs")),
	    "suppressed");
	for (i = 0; i < ONS4_N; i++) {
		const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(self,
		    "ons4"), ons4_measures[i].field), *v;

		cJSON_ArrayForEach(v, m)
			assert_true(cJSON_IsString(v));
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m,
		    "mean_change")), "withheld");
	}
	cJSON_Delete(doc);
}

/*
 * How many n in lo..hi have a whole total giving the mean v, to the
 * decimals v is published with.
 */
static int
ns_for_mean(const cJSON *j, int lo, int hi)
{
	double v = j->valuedouble, f = 1;
	int n, s, count = 0, d;

	assert_true(cJSON_IsNumber(j));
	for (d = 0; d < 6 && round(v * f) / f != v; d++)
		f *= 10;

	for (n = lo > 1 ? lo : 1; n <= hi; n++)
		for (s = 0; s <= 10 * n; s++)
			if (round((double)s / n * f) / f == v) {
				count++;
				break;
			}
	return count;
}

/*
 * 8 pairs, changes seven of +1 and one of +2: the mean 9/8 = 1.125. To
 * two decimals (1.13) only n = 8 of the counts a published 10 allows
 * gives it; to one decimal, many do.
 */
static void
test_mean_keeps_n(void **state)
{
	const cJSON *m, *n;
	cJSON *doc;
	int i, p, lo, hi;

	(void)state;
	fresh(6);
	for (i = 0; i < 8; i++)
		put(date_from_ymd(2026, 2, 1 + i), "general_practice", "A", 1, 3,
		    i == 0 ? 5 : 4);
	doc = figures(date_from_ymd(2026, 2, 1), date_from_ymd(2026, 2, 28),
	    DIM_NONE);
	m = th_at(doc, "ons4.happy");
	n = cJSON_GetObjectItem(m, "n");
	/* the precondition: with this secret the 8 pairs are shown */
	assert_true(cJSON_IsNumber(n));
	p = (int)n->valuedouble;
	/* every true n that could be published as p */
	lo = p - 2 - CKM_D;
	hi = p + 2 + CKM_D;
	assert_true(ns_for_mean(cJSON_GetObjectItem(m, "mean_change"), lo,
	    hi) >= 2);
	assert_true(ns_for_mean(cJSON_GetObjectItem(m, "mean_followup"), lo,
	    hi) >= 2);
	assert_true(ns_for_mean(cJSON_GetObjectItem(m, "mean_baseline"), lo,
	    hi) >= 2);
	cJSON_Delete(doc);
}

static int
teardown(void **state)
{
	(void)state;
	agg_close(agg);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlapping_months),
		cmocka_unit_test(test_suppressed_group_ons4),
		cmocka_unit_test(test_mean_keeps_n),
	};

	return cmocka_run_group_tests_name("disclosure", tests, NULL,
	    teardown);
}

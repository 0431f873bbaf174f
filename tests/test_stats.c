/*
 * test_stats.c - statistics against published and independent values.
 *
 * References:
 *  - Student (1908) sleep data, as R's datasets::sleep; R documents
 *    t.test(extra ~ group, data = sleep, paired = TRUE) giving
 *    t = -4.0621, df = 9, p-value = 0.002833, 95% CI -2.4598858
 *    -0.7001142, mean difference -1.58.
 *  - SciPy 1.10.1 (Debian 12 python3-scipy), an independent
 *    implementation: scipy.stats.wilcoxon(g1, g2, zero_method="wilcox",
 *    correction=True, method="approx") = p 0.009090698015925054 for the
 *    sleep data, and 0.006926610328522136 for the integer data below;
 *    scipy.stats.ttest_rel on the integer data: t 5.0, p
 *    0.00040252981812451935; scipy.stats.t.ppf(0.975, df) = 12.706204736
 *    (df 1), 2.2621571627 (df 9), 2.0422724563 (df 30), 1.9623390808
 *    (df 1000); t.cdf(-2, 5) = 0.05096973941492914, t.cdf(1.5, 3) =
 *    0.8847080673775886.
 */
#include <math.h>

#include "harness.h"
#include "stats.h"

#define EPS	1e-9

static const double g1[] = {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0,
    2.0};
static const double g2[] = {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6,
    3.4};

static void
test_t_distribution(void **state)
{
	(void)state;
	assert_float_equal(stats_t_quantile(0.975, 1), 12.706204736432095,
	    1e-8);
	assert_float_equal(stats_t_quantile(0.975, 9), 2.2621571627409915,
	    1e-9);
	assert_float_equal(stats_t_quantile(0.975, 30), 2.0422724563012373,
	    1e-9);
	assert_float_equal(stats_t_quantile(0.975, 1000), 1.9623390808264074,
	    1e-9);
	assert_float_equal(stats_t_quantile(0.025, 9), -2.2621571627409915,
	    1e-9);
	assert_float_equal(stats_t_cdf(-2.0, 5), 0.05096973941492914, EPS);
	assert_float_equal(stats_t_cdf(1.5, 3), 0.8847080673775886, EPS);
	assert_float_equal(stats_t_cdf(0, 7), 0.5, EPS);
	assert_float_equal(stats_norm_cdf(1.959963984540054), 0.975, EPS);
	assert_true(isnan(stats_t_quantile(1.0, 5)));
}

/* The quantile inverts the CDF, for small and very large samples. */
static void
test_t_quantile_inverts(void **state)
{
	static const double ps[] = {0.5, 0.6, 0.9, 0.975, 0.995, 0.999999,
	    0.025, 1e-6};
	static const double dfs[] = {1, 2, 3, 7, 49, 999, 49999, 1e6};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		for (j = 0; j < sizeof(dfs) / sizeof(dfs[0]); j++) {
			double q = stats_t_quantile(ps[i], dfs[j]);

			assert_false(isnan(q));
			assert_float_equal(stats_t_cdf(q, dfs[j]), ps[i],
			    1e-12);
		}
}

static void
test_sleep_paired(void **state)
{
	struct stats_summary s;
	struct stats_wilcoxon w;
	double d[10];
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		d[i] = g1[i] - g2[i];
	stats_paired(d, 10, &s);
	assert_int_equal(s.n, 10);
	assert_float_equal(s.mean, -1.58, EPS);
	assert_float_equal(s.sd, 1.2299954832798732, EPS);
	assert_float_equal(s.t, -4.062127683382037, 1e-8);
	assert_float_equal(s.p, 0.00283289019738427, 1e-9);
	assert_float_equal(s.ci_low, -2.4598857632547286, 1e-8);
	assert_float_equal(s.ci_high, -0.7001142367452713, 1e-8);
	assert_float_equal(s.dz, -1.58 / 1.2299954832798732, 1e-8);
	assert_int_equal(stats_wilcoxon(d, 10, &w), 0);
	assert_int_equal(w.n, 9);	/* one zero difference dropped */
	assert_float_equal(w.v, 0, EPS);
	assert_float_equal(w.p, 0.009090698015925054, 1e-9);
}

static void
test_integer_pairs(void **state)
{
	static const double b[] = {3, 4, 5, 2, 6, 5, 4, 3, 7, 5, 4, 6};
	static const double a[] = {5, 6, 5, 4, 7, 7, 6, 3, 8, 6, 6, 6};
	struct stats_rank_group g[2] = {{1, 0, 0}, {2, 0, 0}};
	struct stats_summary s, s2;
	struct stats_wilcoxon w, w2;
	double d[12], sum = 0, sumsq = 0;
	int i;

	(void)state;
	for (i = 0; i < 12; i++) {
		d[i] = a[i] - b[i];
		sum += d[i];
		sumsq += d[i] * d[i];
		if (d[i] > 0)
			g[(int)d[i] - 1].pos++;
	}
	stats_paired(d, 12, &s);
	assert_float_equal(s.mean, 1.25, EPS);
	assert_float_equal(s.sd, 0.8660254037844386, EPS);
	assert_float_equal(s.t, 5.0, 1e-9);
	assert_float_equal(s.p, 0.00040252981812451935, 1e-10);
	/* the additive path (sums only) gives the same answer */
	stats_from_sums(12, sum, sumsq, &s2);
	assert_float_equal(s2.sd, s.sd, EPS);
	assert_float_equal(s2.p, s.p, EPS);
	assert_float_equal(s2.ci_low, s.ci_low, EPS);
	assert_int_equal(stats_wilcoxon(d, 12, &w), 0);
	assert_float_equal(w.p, 0.006926610328522136, 1e-9);
	/* ...and so do grouped counts (how aggregates hold differences) */
	stats_wilcoxon_groups(g, 2, &w2);
	assert_int_equal(w2.n, w.n);
	assert_float_equal(w2.v, w.v, EPS);
	assert_float_equal(w2.p, w.p, EPS);
}

static void
test_degenerate(void **state)
{
	static const double same[] = {2, 2, 2};
	struct stats_summary s;
	struct stats_wilcoxon w;
	double one = 1;

	(void)state;
	stats_paired(&one, 1, &s);
	assert_int_equal(s.n, 1);
	assert_float_equal(s.mean, 1, EPS);
	assert_true(isnan(s.sd));
	assert_true(isnan(s.p));
	stats_paired(same, 3, &s);
	assert_float_equal(s.sd, 0, EPS);
	assert_true(isnan(s.t));	/* no variation: no test */
	assert_float_equal(s.ci_low, 2, EPS);
	assert_int_equal(stats_wilcoxon(NULL, 0, &w), 0);
	assert_int_equal(w.n, 0);
	assert_true(isnan(w.p));
	assert_true(isnan(stats_mean(NULL, 0)));
	assert_true(isnan(stats_sd(&one, 1)));
	assert_float_equal(stats_sd(same, 3), 0, EPS);
	assert_float_equal(stats_ibeta(0.5, 2, 2), 0.5, EPS);
	assert_float_equal(stats_ibeta(0, 2, 2), 0, EPS);
	assert_float_equal(stats_ibeta(1, 2, 2), 1, EPS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_t_distribution),
		cmocka_unit_test(test_t_quantile_inverts),
		cmocka_unit_test(test_sleep_paired),
		cmocka_unit_test(test_integer_pairs),
		cmocka_unit_test(test_degenerate),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}

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
 *    0.00040252981812451935; t.cdf(-2, 5) = 0.05096973941492914,
 *    t.cdf(1.5, 3) = 0.8847080673775886.
 *  - Student t quantiles to 20 digits from mpmath 1.2.1 (Debian 12
 *    python3-mpmath, mp.dps = 40): the root t of 1 - betainc(df/2, 1/2,
 *    0, df/(df+t^2), regularized=True)/2 = 0.975 gives 12.706204736174704646
 *    (df 1, = tan(0.475 pi)), 4.3026527297494638523 (df 2),
 *    2.2621571627982055426 (df 9), 2.04227245630123831 (df 30),
 *    1.962339080826408485 (df 1000); the sleep data's interval
 *    -2.4598857632769827987 .. -0.70011423672301720129. (SciPy 1.10.1's
 *    t.ppf is off in the 11th digit: 12.706204736432095 for df 1, against
 *    tan(0.475 pi); R documents the interval to 7 digits, above.)
 *  - Far tails, SciPy 1.10.1 with NumPy 1.24.2 (Debian 12), for the
 *    integer differences d made by repeating a pattern (see tails()):
 *    scipy.stats.ttest_1samp(d, 0.0).pvalue for n = 28, 183 and 756 of
 *    [2,3,1,2,4,2,3,2,1,3,2,2,-1,0,1,2] = 2.5957074480531247e-10,
 *    1.846458549249753e-50, 1.5632097583471354e-200;
 *    scipy.stats.wilcoxon(d, zero_method="wilcox", correction=True,
 *    method="approx").pvalue for n = 70, 392 and 1605 of
 *    [1,2,3,1,2,-1,2,3,0,1] = 2.8297692321152616e-10,
 *    2.049520910755295e-50, 2.3630458898725183e-200;
 *    scipy.stats.norm.sf(30) = 4.906713927147908e-198.
 *  - Exact signed-rank p: R's documentation of wilcox.test (the
 *    depression data of Hollander and Wolfe, x and y below),
 *    wilcox.test(x, y, paired = TRUE, alternative = "greater") gives
 *    V = 40, p-value = 0.01953; two-sided that is 0.0390625, as SciPy
 *    1.10.1 scipy.stats.wilcoxon(x, y, method="exact") gives. Also
 *    scipy.stats.wilcoxon(d, method="exact"): d = [1,-2,3,4,5,6,7,-8,9]
 *    0.1640625; d = 1..20 1.9073486328125e-06; d = [1,-2,3,-4,5,-6,7,
 *    -8,9,10] 0.4921875. R (?wilcox.test): "By default (if exact is not
 *    specified), an exact p-value is computed if the samples contain
 *    less than 50 finite values and there are no ties. Otherwise, a
 *    normal approximation is used"; zeros are dropped and also switch
 *    the exact test off.
 */
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

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
	assert_double_equal(stats_t_quantile(0.975, 1), 12.706204736174704646,
	    1e-13);
	assert_double_equal(stats_t_quantile(0.975, 2), 4.3026527297494638523,
	    1e-13);
	assert_double_equal(stats_t_quantile(0.975, 9), 2.2621571627982055426,
	    1e-13);
	assert_double_equal(stats_t_quantile(0.975, 30), 2.04227245630123831,
	    1e-13);
	/* lgamma(500.5) - lgamma(500) costs digits: 1e-13 relative */
	assert_double_equal(stats_t_quantile(0.975, 1000), 1.962339080826408485,
	    3e-13);
	assert_double_equal(stats_t_quantile(0.025, 9), -2.2621571627982055426,
	    1e-13);
	assert_double_equal(stats_t_cdf(-2.0, 5), 0.05096973941492914, EPS);
	assert_double_equal(stats_t_cdf(1.5, 3), 0.8847080673775886, EPS);
	assert_double_equal(stats_t_cdf(0, 7), 0.5, EPS);
	assert_double_equal(stats_norm_cdf(1.959963984540054), 0.975, EPS);
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
			assert_double_equal(stats_t_cdf(q, dfs[j]), ps[i],
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
	assert_double_equal(s.mean, -1.58, EPS);
	assert_double_equal(s.sd, 1.2299954832798732, EPS);
	assert_double_equal(s.t, -4.062127683382037, 1e-8);
	assert_double_equal(s.p, 0.00283289019738427, 1e-9);
	assert_double_equal(s.ci_low, -2.4598857632769827987, 1e-13);
	assert_double_equal(s.ci_high, -0.70011423672301720129, 1e-13);
	assert_double_equal(s.dz, -1.58 / 1.2299954832798732, 1e-8);
	assert_int_equal(stats_wilcoxon(d, 10, &w), 0);
	assert_int_equal(w.n, 9);	/* one zero difference dropped */
	assert_double_equal(w.v, 0, EPS);
	assert_double_equal(w.p, 0.009090698015925054, 1e-9);
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
	assert_double_equal(s.mean, 1.25, EPS);
	assert_double_equal(s.sd, 0.8660254037844386, EPS);
	assert_double_equal(s.t, 5.0, 1e-9);
	assert_double_equal(s.p, 0.00040252981812451935, 1e-10);
	/* the additive path (sums only) gives the same answer */
	stats_from_sums(12, sum, sumsq, &s2);
	assert_double_equal(s2.sd, s.sd, EPS);
	assert_double_equal(s2.p, s.p, EPS);
	assert_double_equal(s2.ci_low, s.ci_low, EPS);
	assert_int_equal(stats_wilcoxon(d, 12, &w), 0);
	assert_double_equal(w.p, 0.006926610328522136, 1e-9);
	/* ...and so do grouped counts (how aggregates hold differences) */
	stats_wilcoxon_groups(g, 2, 0, &w2);
	assert_int_equal(w2.n, w.n);
	assert_double_equal(w2.v, w.v, EPS);
	assert_double_equal(w2.p, w.p, EPS);
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
	assert_double_equal(s.mean, 1, EPS);
	assert_true(isnan(s.sd));
	assert_true(isnan(s.p));
	stats_paired(same, 3, &s);
	assert_double_equal(s.sd, 0, EPS);
	assert_true(isnan(s.t));	/* no variation: no test */
	assert_double_equal(s.ci_low, 2, EPS);
	assert_int_equal(stats_wilcoxon(NULL, 0, &w), 0);
	assert_int_equal(w.n, 0);
	assert_true(isnan(w.p));
	assert_true(isnan(stats_mean(NULL, 0)));
	assert_true(isnan(stats_sd(&one, 1)));
	assert_double_equal(stats_sd(same, 3), 0, EPS);
	assert_double_equal(stats_ibeta(0.5, 2, 2), 0.5, EPS);
	assert_double_equal(stats_ibeta(0, 2, 2), 0, EPS);
	assert_double_equal(stats_ibeta(1, 2, 2), 1, EPS);
}

/* Differences made by repeating pattern (length len) to n values. */
static void
repeat(const int *pattern, size_t len, size_t n, double *d)
{
	size_t i;

	for (i = 0; i < n; i++)
		d[i] = pattern[i % len];
}

static void
test_far_tails(void **state)
{
	static const int tp[] = {2, 3, 1, 2, 4, 2, 3, 2, 1, 3, 2, 2, -1, 0, 1, 2};
	static const int wp[] = {1, 2, 3, 1, 2, -1, 2, 3, 0, 1};
	static const struct {
		size_t	 n;
		double	 p;
	} t[] = {
		{28, 2.5957074480531247e-10}, {183, 1.846458549249753e-50},
		{756, 1.5632097583471354e-200},
	}, w[] = {
		{70, 2.8297692321152616e-10}, {392, 2.049520910755295e-50},
		{1605, 2.3630458898725183e-200},
	};
	static double d[2000];
	struct stats_summary s;
	struct stats_wilcoxon wx;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		repeat(tp, 16, t[i].n, d);
		stats_paired(d, t[i].n, &s);
		/* relative accuracy, however small the p */
		assert_double_equal(s.p / t[i].p, 1, 1e-9);
		repeat(wp, 10, w[i].n, d);
		assert_int_equal(stats_wilcoxon(d, w[i].n, &wx), 0);
		assert_int_equal(wx.method, STATS_NORMAL);	/* ties */
		assert_double_equal(wx.p / w[i].p, 1, 1e-9);
	}
	/* the tails themselves, against their complements */
	assert_double_equal(stats_norm_sf(30) / 4.906713927147908e-198, 1,
	    1e-12);
	assert_double_equal(stats_t_sf(-2.0, 5), 1 - 0.05096973941492914, EPS);
	assert_true(stats_t_sf(1e10, 3) > 0);
	assert_double_equal(stats_ibetac(0.3, 2, 3), 1 - stats_ibeta(0.3, 2, 3),
	    1e-15);
}

static void
test_wilcoxon_exact(void **state)
{
	static const double x[] = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55,
	    3.06, 1.30};
	static const double y[] = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06,
	    3.14, 1.29};
	static const double e9[] = {1, -2, 3, 4, 5, 6, 7, -8, 9};
	static const double e10[] = {1, -2, 3, -4, 5, -6, 7, -8, 9, 10};
	struct stats_wilcoxon w;
	double d[50];
	int i;

	(void)state;
	for (i = 0; i < 9; i++)
		d[i] = x[i] - y[i];
	assert_int_equal(stats_wilcoxon(d, 9, &w), 0);
	assert_int_equal(w.method, STATS_EXACT);
	assert_double_equal(w.v, 40, EPS);
	assert_double_equal(w.p, 0.0390625, 1e-15);
	assert_int_equal(stats_wilcoxon(e9, 9, &w), 0);
	assert_double_equal(w.p, 0.1640625, 1e-15);
	assert_int_equal(stats_wilcoxon(e10, 10, &w), 0);
	assert_double_equal(w.p, 0.4921875, 1e-15);
	for (i = 0; i < 20; i++)
		d[i] = i + 1;
	assert_int_equal(stats_wilcoxon(d, 20, &w), 0);
	assert_int_equal(w.method, STATS_EXACT);
	assert_double_equal(w.p / 1.9073486328125e-06, 1, 1e-15);
	assert_false(isnan(w.p_normal));
	assert_string_equal(stats_method_name(w.method), "exact");
	/* a zero difference, a tie, or 50 differences: the approximation */
	d[20] = 0;
	assert_int_equal(stats_wilcoxon(d, 21, &w), 0);
	assert_int_equal(w.method, STATS_NORMAL);
	assert_int_equal(w.n, 20);
	d[19] = 19;
	assert_int_equal(stats_wilcoxon(d, 20, &w), 0);
	assert_int_equal(w.method, STATS_NORMAL);
	for (i = 0; i < 50; i++)
		d[i] = i + 1;
	assert_int_equal(stats_wilcoxon(d, 50, &w), 0);
	assert_int_equal(w.method, STATS_NORMAL);
	assert_int_equal(stats_wilcoxon(d, 49, &w), 0);
	assert_int_equal(w.method, STATS_EXACT);
	assert_double_equal(w.p / ldexp(2, -49), 1, 1e-12);
	assert_string_equal(stats_method_name(STATS_NORMAL), "normal");
}

/*
 * Kept values: a quantile asked again is the same double, and a memo
 * never answers for arguments it was not given, even in the same slot.
 */
static void
test_memo(void **state)
{
	struct stats_memo *m = calloc(1, sizeof(*m));
	double v, first[50];
	int i, found = 0;

	(void)state;
	assert_non_null(m);
	for (i = 0; i < 50; i++)
		first[i] = stats_t_quantile(0.975, 1 + i * 997.0);
	for (i = 0; i < 50; i++)
		assert_memory_equal(&first[i], &(double){stats_t_quantile(
		    0.975, 1 + i * 997.0)}, sizeof(double));
	/* 10000 pairs into fewer slots: most are written over */
	for (i = 0; i < 10000; i++)
		stats_memo_put(m, 0.5, (double)i, (double)i * 3);
	for (i = 0; i < 10000; i++)
		if (stats_memo_get(m, 0.5, (double)i, &v)) {
			assert_true(v == (double)i * 3);
			found++;
		}
	assert_true(found > 0 && found <= STATS_MEMO_N);
	assert_false(stats_memo_get(m, 0.25, 1.0, &v));
	free(m);
}

static void *
quantile_thread(void *arg)
{
	double *v = arg;

	v[0] = stats_t_quantile(0.975, 9);
	v[1] = stats_t_quantile(0.975, 9);	/* from this thread's memo */
	return NULL;
}

static int
tls_size(struct dl_phdr_info *info, size_t size, void *arg)
{
	size_t *tls = arg, i;

	(void)size;
	for (i = 0; info->dlpi_name[0] == '\0' && i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_TLS)
			*tls += info->dlpi_phdr[i].p_memsz;
	return 0;
}

/*
 * Each thread's memo is its own, made when it first asks (and freed
 * when it ends: the sanitizers' leak check sees one that is not), not
 * a part of every thread's static storage: the program's thread-local
 * storage is a few bytes, not the memos' 100 KiB.
 */
static void
test_memo_threads(void **state)
{
	double here = stats_t_quantile(0.975, 9), there[2];
	pthread_t t;
	size_t tls = 0;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, quantile_thread, there), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_memory_equal(&here, &there[0], sizeof(here));
	assert_memory_equal(&here, &there[1], sizeof(here));
	dl_iterate_phdr(tls_size, &tls);
	assert_true(tls < sizeof(struct stats_memo) / 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_t_distribution),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_memo_threads),
		cmocka_unit_test(test_t_quantile_inverts),
		cmocka_unit_test(test_sleep_paired),
		cmocka_unit_test(test_integer_pairs),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_far_tails),
		cmocka_unit_test(test_wilcoxon_exact),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}

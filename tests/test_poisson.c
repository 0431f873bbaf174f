/*
 * test_poisson.c - rate ratios and their exact intervals against R.
 *
 * Reference: R 4.2.2 (Debian 12 r-base-core), whose poisson.test(x, T =
 * E) gives the exact (Garwood) interval of the ratio x / E, and whose
 * qgamma(p, a) is the quantile of the gamma distribution; the values
 * below were printed with sprintf("%.17g") from
 *	t <- poisson.test(x, T = E); t$estimate; t$conf.int
 *	qgamma(p, a)
 *	pgamma(a, a); pgamma(a, a, lower.tail = FALSE)
 * for the cases listed (1 - 1e-10 printed as 0.99999999989999999).
 */
#include <math.h>

#include "harness.h"
#include "poisson.h"

static const struct {
	double x, e, ratio, low, high;
} ratios[] = {
	{0, 2.5, 0, 0, 1.4755517816455741},
	{1, 0.80000000000000004, 1.25, 0.031647259980362372,
	    6.9645542386736237},
	{3, 7.2000000000000002, 0.41666666666666663, 0.08592668373550022,
	    1.2176768152419892},
	{12, 9.5999999999999996, 1.25, 0.64589324049189756,
	    2.1834984425184327},
	{57, 80.299999999999997, 0.70983810709838113, 0.53762445034775519,
	    0.91967760153129297},
	{148, 121.7, 1.2161051766639277, 1.0280757330664261,
	    1.4285705464772722},
	{403, 389.25, 1.0353243416827231, 0.93669760611064468,
	    1.1415111665619135},
	{1200, 1500, 0.80000000000000004, 0.75537127694104234,
	    0.84657704186749394},
	{25000, 24100.5, 1.0373228771187319, 1.0245036709461426,
	    1.0502624334227553},
	{150000, 145500, 1.0309278350515463, 1.0257172289303111,
	    1.0361583506935541},
	{1000000, 970000, 1.0309278350515463, 1.0289082302477257,
	    1.0329504246860126},
};

static const struct {
	double p, a, q;
} quantiles[] = {
	{1e-10, 0.5, 7.8539816339744674e-21},
	{0.025000000000000001, 0.5, 0.00049103455858762809},
	{0.5, 0.5, 0.22746821155978642},
	{0.97499999999999998, 0.5, 2.5119430936574423},
	{0.99999999989999999, 0.5, 20.910728101491305},
	{1e-10, 1, 1.0000000000499988e-10},
	{0.025000000000000001, 1, 0.025317807984289876},
	{0.5, 1, 0.69314718055994529},
	{0.97499999999999998, 1, 3.6888794541139354},
	{0.99999999989999999, 1, 23.02585084720009},
	{1e-10, 3, 0.00084361056248472748},
	{0.025000000000000001, 3, 0.61867212289560136},
	{0.5, 3, 2.6740603137235608},
	{0.97499999999999998, 3, 7.2246876677239582},
	{0.99999999989999999, 3, 29.145901390216675},
	{1e-10, 57, 21.224709295331358},
	{0.025000000000000001, 57, 43.171243362924749},
	{0.5, 57, 56.667015435037328},
	{0.97499999999999998, 57, 72.720658007584959},
	{0.99999999989999999, 57, 118.86329738627872},
	{1e-10, 1201, 993.52437819335967},
	{0.025000000000000001, 1201, 1134.0286296406603},
	{0.5, 1201, 1200.6666831188661},
	{0.97499999999999998, 1201, 1269.8655628012409},
	{0.99999999989999999, 1201, 1434.7760797790377},
	/* counts of a deployment's years: both tails need thousands of terms */
	{1e-10, 50000, 48590.689909026943},
	{0.025000000000000001, 50000, 49562.686650323674},
	{0.5, 50000, 49999.666667061734},
	{0.97499999999999998, 50000, 50439.207652832789},
	{0.99999999989999999, 50000, 51435.620937665095},
	{0.025000000000000001, 150000, 149241.85680936027},
	{0.97499999999999998, 150000, 150760.0374956122},
	{1e-10, 1000000, 993651.8087301997},
	{0.025000000000000001, 1000000, 998040.98334029387},
	{0.5, 1000000, 999999.66666668642},
	{0.97499999999999998, 1000000, 1001960.9109654503},
	{0.99999999989999999, 1000000, 1006374.5023496342},
	{0.025000000000000001, 5000000, 4995618.3345269477},
	{0.97499999999999998, 5000000, 5004383.5597789055},
};

static void
close_to(double got, double want, double rel, const char *what, double a,
    double b)
{
	double err = fabs(got - want) / (want != 0 ? fabs(want) : 1);

	if (!(err <= rel))
		fail_msg("%s(%g, %g) = %.17g, R gives %.17g (relative error "
		    "%.2g)", what, a, b, got, want, err);
}

static void
test_gamma_quantile_as_r(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
		close_to(poisson_gamma_quantile(quantiles[i].p, quantiles[i].a),
		    quantiles[i].q, 1e-12, "qgamma", quantiles[i].p,
		    quantiles[i].a);
	assert_true(isnan(poisson_gamma_quantile(0, 1)));
	assert_true(isnan(poisson_gamma_quantile(1, 1)));
	assert_true(isnan(poisson_gamma_quantile(0.5, 0)));
}

static void
test_gamma_tails(void **state)
{
	(void)state;
	/* P(1, x) = 1 - e^-x exactly; Q keeps its digits far out */
	close_to(poisson_gamma_p(1, 0.5), -expm1(-0.5), 1e-14, "P", 1, 0.5);
	close_to(poisson_gamma_q(1, 700), exp(-700), 1e-12, "Q", 1, 700);
	close_to(poisson_gamma_p(3, 2.6740603137235608), 0.5, 1e-14, "P", 3,
	    2.67);
	/* R: pgamma(a, a) and pgamma(a, a, lower.tail = FALSE) */
	close_to(poisson_gamma_p(150000, 150000), 0.50034335485895953, 1e-12,
	    "P", 150000, 150000);
	close_to(poisson_gamma_p(1e6, 1e6), 0.50013298076087254, 1e-12, "P",
	    1e6, 1e6);
	close_to(poisson_gamma_q(1e6, 1e6), 0.49986701923912741, 1e-12, "Q",
	    1e6, 1e6);
	assert_true(poisson_gamma_p(2, 0) == 0);
	assert_true(poisson_gamma_q(2, 0) == 1);
}

static void
test_ratio_as_poisson_test(void **state)
{
	struct poisson_ratio r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++) {
		poisson_ratio(ratios[i].x, ratios[i].e, &r);
		close_to(r.ratio, ratios[i].ratio, 1e-15, "ratio", ratios[i].x,
		    ratios[i].e);
		close_to(r.low, ratios[i].low, 1e-12, "low", ratios[i].x,
		    ratios[i].e);
		close_to(r.high, ratios[i].high, 1e-12, "high", ratios[i].x,
		    ratios[i].e);
	}
	poisson_ratio(5, 0, &r);
	assert_true(isnan(r.ratio) && isnan(r.low) && isnan(r.high));
	poisson_ratio(-1, 3, &r);
	assert_true(isnan(r.ratio));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gamma_quantile_as_r),
		cmocka_unit_test(test_gamma_tails),
		cmocka_unit_test(test_ratio_as_poisson_test),
	};

	return cmocka_run_group_tests_name("poisson", tests, NULL, NULL);
}

/*
 * poisson.c - the incomplete gamma function, its quantile, and exact
 * Poisson limits for rate ratios.
 *
 * P(a, x) by its power series where x < a + 1, Q(a, x) by its continued
 * fraction (modified Lentz) elsewhere, each on the side where it
 * converges fast and keeps its digits (Abramowitz and Stegun 6.5.29 and
 * 6.5.31). The quantile is found by Newton's method inside a bracket that
 * bisection keeps, on whichever tail is the smaller, so both limits are
 * accurate to about 1e-14 relative (1e-12 at counts in the millions).
 * The tails take as many terms as the count needs, and their common
 * factor is worked out in Loader's saddle-point form, as R does.
 */
#include <float.h>
#include <math.h>

#include "poisson.h"
#include "stats.h"

#define ITER	1000	/* Newton's steps; each tail's terms: terms() */

/*
 * Terms each tail may take. Near x = a both converge only once n^2
 * exceeds about 2a ln(1/DBL_EPSILON) (the series' ratio x/(a+n) is
 * about 1 - n/a), so a fixed count stops short for large counts: with
 * 1000, P(a, a) came out 0.342 at a = 1,000,000 where R's pgamma gives
 * 0.50013.
 */
static int
terms(double a)
{
	return ITER + (int)(10 * sqrt(a));
}

/*
 * log(1 + stirling's error): lgamma(n + 1) - ((n + 1/2) log n - n +
 * log sqrt(2 pi)), by its series for large n, where the difference
 * would lose the digits it is made of (Loader 2000, as R's stirlerr).
 */
static double
stirlerr(double n)
{
	const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260,
	    s3 = 1.0 / 1680, s4 = 1.0 / 1188;
	double nn = n * n;

	if (n <= 15)
		return lgamma(n + 1) - (n + 0.5) * log(n) + n -
		    0.5 * log(2 * M_PI);
	return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

/*
 * a log(a / x) + x - a, the deviance, without the cancellation of its
 * three large terms when x is near a (Loader 2000, as R's bd0).
 */
static double
bd0(double a, double x)
{
	double v, s, ej, s1;
	int j;

	if (fabs(a - x) >= 0.1 * (a + x))
		return a * log(a / x) + x - a;
	v = (a - x) / (a + x);
	s = (a - x) * v;
	ej = 2 * a * v;
	v *= v;
	for (j = 1; j < ITER; j++) {
		ej *= v;
		s1 = s + ej / (2 * j + 1);
		if (s1 == s)
			break;
		s = s1;
	}
	return s;
}

/*
 * e^{-x} x^a / Gamma(a), the common factor of both tails, as a log:
 * Poisson's density at a, times a, in Loader's form, whose terms are of
 * the size of the result (a log x - x - lgamma(a) subtracts numbers
 * near a from each other, losing digits as a grows).
 */
static double
lfactor(double a, double x)
{
	return log(a) - stirlerr(a) - bd0(a, x) - 0.5 * log(2 * M_PI * a);
}

static double
series_p(double a, double x)
{
	double term = 1 / a, sum = term, ap = a;
	int i, n = terms(a);

	for (i = 0; i < n; i++) {
		ap += 1;
		term *= x / ap;
		sum += term;
		if (fabs(term) < fabs(sum) * DBL_EPSILON)
			break;
	}
	return sum * exp(lfactor(a, x));
}

static double
fraction_q(double a, double x)
{
	double tiny = 1e-300, b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
	double an, delta;
	int i, n = terms(a);

	for (i = 1; i < n; i++) {
		an = -i * (i - a);
		b += 2;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1) < DBL_EPSILON)
			break;
	}
	return h * exp(lfactor(a, x));
}

double
poisson_gamma_p(double a, double x)
{
	if (isnan(a) || isnan(x) || a <= 0 || x < 0)
		return NAN;
	if (x == 0)
		return 0;
	return x < a + 1 ? series_p(a, x) : 1 - fraction_q(a, x);
}

double
poisson_gamma_q(double a, double x)
{
	if (isnan(a) || isnan(x) || a <= 0 || x < 0)
		return NAN;
	if (x == 0)
		return 1;
	return x < a + 1 ? 1 - series_p(a, x) : fraction_q(a, x);
}

/* The tail solved for: P below the median, Q above it. */
static double
tail(double a, double x, int upper)
{
	return upper ? poisson_gamma_q(a, x) : poisson_gamma_p(a, x);
}

static double
gamma_quantile(double p, double a)
{
	int upper = p > 0.5, i;
	double target = upper ? 1 - p : p, lo = 0, hi = a + 1, x, f, step;

	if (isnan(p) || isnan(a) || a <= 0 || p <= 0 || p >= 1)
		return NAN;
	/* bracket: the tail solved for falls as x rises for Q, rises for P */
	while ((upper ? tail(a, hi, 1) > target : tail(a, hi, 0) < target))
		hi *= 2;
	x = (lo + hi) / 2;
	for (i = 0; i < ITER; i++) {
		if ((f = tail(a, x, upper) - target) == 0)
			break;
		if ((f < 0) != upper)
			lo = x;		/* x too small */
		else
			hi = x;
		/* d/dx P = x^(a-1) e^-x / Gamma(a); Q's is its negative */
		step = f * x / exp(lfactor(a, x));
		if (fabs(step) <= DBL_EPSILON * x)
			break;		/* converged: x stays where it was */
		x = upper ? x + step : x - step;
		if (!(x >= lo && x <= hi))
			x = (lo + hi) / 2;	/* Newton left the bracket */
		if (hi - lo <= 4 * DBL_EPSILON * hi)
			break;
	}
	return x;
}

double
poisson_gamma_quantile(double p, double a)
{
	return stats_memo_thread(STATS_MEMO_GAMMA, p, a, gamma_quantile);
}

void
poisson_exact_ci(double x, double *low, double *high)
{
	if (isnan(x) || x < 0) {
		*low = *high = NAN;
		return;
	}
	*low = x == 0 ? 0 : poisson_gamma_quantile(0.025, x);
	*high = poisson_gamma_quantile(0.975, x + 1);
}

void
poisson_ratio(double x, double expected, struct poisson_ratio *r)
{
	double lo, hi;

	if (isnan(x) || x < 0 || !(expected > 0)) {
		r->ratio = r->low = r->high = NAN;
		return;
	}
	poisson_exact_ci(x, &lo, &hi);
	r->ratio = x / expected;
	r->low = lo / expected;
	r->high = hi / expected;
}

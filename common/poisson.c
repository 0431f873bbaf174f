/*
 * poisson.c - the incomplete gamma function, its quantile, and exact
 * Poisson limits for rate ratios.
 *
 * P(a, x) by its power series where x < a + 1, Q(a, x) by its continued
 * fraction (modified Lentz) elsewhere, each on the side where it
 * converges fast and keeps its digits (Abramowitz and Stegun 6.5.29 and
 * 6.5.31). The quantile is found by Newton's method inside a bracket that
 * bisection keeps, on whichever tail is the smaller, so both limits are
 * accurate to about 1e-14 relative.
 */
#include <float.h>
#include <math.h>

#include "poisson.h"
#include "stats.h"

#define ITER	1000

/* e^{-x} x^a / Gamma(a), the common factor of both tails, as a log. */
static double
lfactor(double a, double x)
{
	return a * log(x) - x - lgamma(a);
}

static double
series_p(double a, double x)
{
	double term = 1 / a, sum = term, ap = a;
	int i;

	for (i = 0; i < ITER; i++) {
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
	int i;

	for (i = 1; i < ITER; i++) {
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
		step = f / exp((a - 1) * log(x) - x - lgamma(a));
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
	static _Thread_local struct stats_memo memo;

	return stats_memo_of(&memo, p, a, gamma_quantile);
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

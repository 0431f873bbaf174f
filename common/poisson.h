/*
 * poisson.h - the rate of a group against a reference rate, with the
 * exact Poisson interval.
 *
 * A group with x referrals among N residents, in a place whose reference
 * rate is R referrals per resident, has the rate ratio
 *	RR = (x / N) / R = x / E,	E = N * R (the referrals "expected"),
 * as a standardised ratio is (observed over expected). Its 95% interval
 * takes x as Poisson and E as fixed: the exact limits of Garwood (1936)
 * for the Poisson mean, divided by E,
 *	lower = qgamma(0.025, x) / E	(0 when x = 0),
 *	upper = qgamma(0.975, x + 1) / E,
 * which is what R's poisson.test(x, T = E)$conf.int gives (Breslow and
 * Day, Statistical Methods in Cancer Research II, 1987, section 2.3; the
 * limits Byar's approximation stands in for). The reference rate's own
 * uncertainty is not carried (it rests on every referral of the place),
 * and the groups of a place are not independent of each other.
 */
#ifndef PCMDS_POISSON_H
#define PCMDS_POISSON_H

/* Regularised incomplete gamma P(a, x) and Q(a, x) = 1 - P(a, x). */
double	 poisson_gamma_p(double a, double x);
double	 poisson_gamma_q(double a, double x);
/* x with P(a, x) = p (R's qgamma(p, shape = a)); NAN outside 0 < p < 1. */
double	 poisson_gamma_quantile(double p, double a);

struct poisson_ratio {
	double	 ratio;		/* x / expected; NAN when expected <= 0 */
	double	 low, high;	/* the exact 95% interval */
};

/* Exact 95% limits of a Poisson mean from an observed count x >= 0. */
void	 poisson_exact_ci(double x, double *low, double *high);
/* The ratio of x observed to expected, with its exact 95% interval. */
void	 poisson_ratio(double x, double expected, struct poisson_ratio *);

#endif

/*
 * stats.h - the statistics of paired ONS4 change.
 *
 * Everything is computed from sufficient statistics (n, sum, sum of
 * squares, and the differences grouped by absolute value), so aggregates
 * can be kept as additive counters and combined without the raw data.
 */
#ifndef PCMDS_STATS_H
#define PCMDS_STATS_H

#include <stddef.h>

struct stats_summary {
	long	 n;
	double	 mean;		/* mean difference */
	double	 sd;		/* sample SD of the differences (n - 1) */
	double	 ci_low;	/* 95% confidence interval, Student t */
	double	 ci_high;
	double	 t;		/* paired t statistic */
	double	 p;		/* two-sided p of the paired t-test */
	double	 dz;		/* Cohen's dz: mean / sd */
};

/* Differences with the same absolute value, split by sign. */
struct stats_rank_group {
	double	 absval;	/* > 0; zeros are dropped before ranking */
	long	 pos;
	long	 neg;
};

struct stats_wilcoxon {
	long	 n;		/* non-zero differences */
	double	 v;		/* sum of the ranks of positive differences */
	double	 z;		/* normal approximation, continuity-corrected */
	double	 p;		/* two-sided p */
};

double	 stats_mean(const double *, size_t);
double	 stats_sd(const double *, size_t);
double	 stats_norm_cdf(double z);
double	 stats_t_cdf(double t, double df);
double	 stats_t_quantile(double p, double df);
/* Regularised incomplete beta function I_x(a, b). */
double	 stats_ibeta(double x, double a, double b);

/* Paired summary from n, sum and sum of squares of the differences. */
void	 stats_from_sums(long n, double sum, double sumsq,
	    struct stats_summary *);
void	 stats_paired(const double *d, size_t n, struct stats_summary *);

/*
 * Wilcoxon signed-rank test, normal approximation with tie correction and
 * continuity correction (as R's wilcox.test(exact = FALSE, correct = TRUE)
 * and SciPy's wilcoxon(method = "approx", correction = True)). Groups
 * must be in ascending absval order.
 */
void	 stats_wilcoxon_groups(const struct stats_rank_group *, size_t,
	    struct stats_wilcoxon *);
/* The same from raw differences (zeros dropped). Returns -1 on memory. */
int	 stats_wilcoxon(const double *d, size_t n, struct stats_wilcoxon *);

#endif

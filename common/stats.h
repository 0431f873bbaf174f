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

/* How a Wilcoxon p was worked out. */
enum stats_method {
	STATS_NONE,		/* no p: no non-zero difference, or no spread */
	STATS_EXACT,		/* the exact null distribution of V */
	STATS_NORMAL		/* normal, tie- and continuity-corrected */
};

struct stats_wilcoxon {
	long	 n;		/* non-zero differences */
	double	 v;		/* sum of the ranks of positive differences */
	double	 z;		/* normal approximation, continuity-corrected */
	double	 p;		/* two-sided p, as R's default chooses */
	enum stats_method method;	/* of p */
	double	 p_normal;	/* two-sided p of the normal approximation */
};

double	 stats_mean(const double *, size_t);
double	 stats_sd(const double *, size_t);
/*
 * Distribution functions. The upper tails (_sf: P(X > x)) are computed
 * directly, never as 1 - CDF, so they keep their relative accuracy far out
 * (1e-200 and below), as p-values need.
 */
double	 stats_norm_cdf(double z);
double	 stats_norm_sf(double z);
double	 stats_t_cdf(double t, double df);
double	 stats_t_sf(double t, double df);
double	 stats_t_quantile(double p, double df);
/*
 * A few values of a function of two numbers, kept by the thread that
 * worked them out: quantiles take many evaluations of a continued
 * fraction, and figures documents ask for the same ones again and again
 * (each measure of a scope, every request for the same published
 * counts). A value found is the one computed, bit for bit.
 */
#define STATS_MEMO_BITS	11
#define STATS_MEMO_N	(1 << STATS_MEMO_BITS)
struct stats_memo {
	double		 a[STATS_MEMO_N], b[STATS_MEMO_N], v[STATS_MEMO_N];
	unsigned char	 set[STATS_MEMO_N];
};
/* 1 and *v when (a, b) is kept; 0 otherwise. */
int	 stats_memo_get(const struct stats_memo *, double a, double b,
	    double *v);
void	 stats_memo_put(struct stats_memo *, double a, double b, double v);
/* fn(a, b), from the memo when kept there, else worked out and kept. */
double	 stats_memo_of(struct stats_memo *, double a, double b,
	    double (*fn)(double, double));
/*
 * The same from the calling thread's memo number which, made on its
 * first use and freed when the thread ends: a memo is 50 KiB, and kept
 * as thread-local storage it would be in every thread (each server
 * thread's stack had two, zeroed at its start), asked for or not.
 * Without the memory for it, fn(a, b) is worked out each time.
 */
enum { STATS_MEMO_T, STATS_MEMO_GAMMA, STATS_MEMOS };
double	 stats_memo_thread(int which, double a, double b,
	    double (*fn)(double, double));
/* Regularised incomplete beta function I_x(a, b), and 1 - I_x(a, b). */
double	 stats_ibeta(double x, double a, double b);
double	 stats_ibetac(double x, double a, double b);
/*
 * Two-sided exact p of the signed-rank statistic v for n non-zero,
 * untied differences (R's psignrank; NAN for n < 1 or n > 1000).
 */
double	 stats_signrank_p(long n, double v);

/* Paired summary from n, sum and sum of squares of the differences. */
void	 stats_from_sums(long n, double sum, double sumsq,
	    struct stats_summary *);
void	 stats_paired(const double *d, size_t n, struct stats_summary *);
/* The name of a method, for outputs: "exact", "normal" or "none". */
const char *stats_method_name(enum stats_method);

/*
 * Wilcoxon signed-rank test with zero differences dropped, as R's
 * wilcox.test(paired = TRUE) does by default: the exact distribution for
 * fewer than 50 non-zero differences with no ties and no zeros; otherwise
 * the normal approximation with tie and continuity correction (R's
 * wilcox.test(exact = FALSE, correct = TRUE), SciPy's wilcoxon(method =
 * "approx", correction = True)). p_normal is always the approximation.
 * Groups must be in ascending absval order; zeros is how many zero
 * differences there were.
 */
#define STATS_EXACT_MAX	50	/* exact below this many (R's default) */
void	 stats_wilcoxon_groups(const struct stats_rank_group *, size_t,
	    long zeros, struct stats_wilcoxon *);
/* The same from raw differences. Returns -1 on memory. */
int	 stats_wilcoxon(const double *d, size_t n, struct stats_wilcoxon *);

#endif

/*
 * stats.c - Student t, normal and Wilcoxon signed-rank computations.
 *
 * The incomplete beta function uses the continued fraction evaluated by
 * the modified Lentz method (Lentz 1976; Thompson and Barnett 1986), the
 * standard route to Student's t distribution: for T with df degrees of
 * freedom, P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2).
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

double
stats_mean(const double *x, size_t n)
{
	double s = 0;
	size_t i;

	if (n == 0)
		return NAN;
	for (i = 0; i < n; i++)
		s += x[i];
	return s / (double)n;
}

double
stats_sd(const double *x, size_t n)
{
	double m, ss = 0;
	size_t i;

	if (n < 2)
		return NAN;
	m = stats_mean(x, n);
	for (i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	return sqrt(ss / (double)(n - 1));
}

double
stats_norm_cdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

double
stats_norm_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

/* Continued fraction for I_x(a, b), valid for x < (a + 1) / (a + b + 2). */
static double
betacf(double x, double a, double b)
{
	const double tiny = 1e-300, eps = 1e-15;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;
	int m;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	for (m = 1; m <= 10000; m++) {
		double m2 = 2.0 * m, aa, del;

		aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		d = 1 + aa * d;
		c = 1 + aa / c;
		if (fabs(d) < tiny)
			d = tiny;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + aa * d;
		c = 1 + aa / c;
		if (fabs(d) < tiny)
			d = tiny;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

/*
 * I_x(a, b) (upper = 0) or 1 - I_x(a, b) (upper = 1), with y = 1 - x given
 * by the caller where it knows it more exactly. Each is the continued
 * fraction on the side where it converges; the other side is a
 * subtraction from 1 only when the result is not small.
 */
static double
ibeta2(double x, double y, double a, double b, int upper)
{
	double front, direct;
	int flip;

	if (x <= 0)
		return upper ? 1 : 0;
	if (y <= 0)
		return upper ? 0 : 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) +
	    b * log(y));
	flip = !(x < (a + 1) / (a + b + 2));
	/* direct: I_x(a, b) unflipped, 1 - I_x(a, b) flipped */
	direct = flip ? front * betacf(y, b, a) / b : front * betacf(x, a, b) /
	    a;
	return upper == flip ? direct : 1 - direct;
}

double
stats_ibeta(double x, double a, double b)
{
	return ibeta2(x, 1 - x, a, b, 0);
}

double
stats_ibetac(double x, double a, double b)
{
	return ibeta2(x, 1 - x, a, b, 1);
}

/* P(|T| > |t|) / 2 for t with df degrees of freedom: I_x(df/2, 1/2) / 2. */
static double
t_half_tail(double t, double df)
{
	double t2 = t * t;

	/* x = df / (df + t^2) and 1 - x = t^2 / (df + t^2), each exactly */
	return 0.5 * ibeta2(df / (df + t2), t2 / (df + t2), df / 2, 0.5, 0);
}

double
stats_t_sf(double t, double df)
{
	if (isnan(t) || df <= 0)
		return NAN;
	if (isinf(t))
		return t > 0 ? 0 : 1;
	return t > 0 ? t_half_tail(t, df) : 1 - t_half_tail(t, df);
}

double
stats_t_cdf(double t, double df)
{
	return stats_t_sf(-t, df);	/* symmetric about 0 */
}

/* Density of Student's t with df degrees of freedom. */
static double
t_pdf(double t, double df)
{
	return exp(lgamma((df + 1) / 2) - lgamma(df / 2) -
	    0.5 * log(df * M_PI) - (df + 1) / 2 * log1p(t * t / df));
}

/*
 * Newton's method on the CDF, kept inside a bracket that bisection
 * narrows whenever a step would leave it: a handful of CDF evaluations
 * instead of a long bisection (each evaluation is a continued fraction,
 * and every figures document needs a quantile per measure and scope).
 */
static double
t_quantile(double p, double df)
{
	double lo = 0, hi = 1, x, f, step, q;
	int i;

	if (!(p > 0 && p < 1) || df <= 0)
		return NAN;
	if (p < 0.5)
		return -stats_t_quantile(1 - p, df);
	if (p == 0.5)
		return 0;
	/* on the upper tail: 1 - p is exact here, and so is the tail */
	q = 1 - p;
	while (stats_t_sf(hi, df) > q && hi < 1e300)
		lo = hi, hi *= 2;
	x = (lo + hi) / 2;
	for (i = 0; i < 200; i++) {
		f = q - stats_t_sf(x, df);	/* increasing in x */
		if (f < 0)
			lo = x;
		else
			hi = x;
		step = f / t_pdf(x, df);
		x -= step;
		if (!(x > lo && x < hi))	/* left the bracket, or NaN */
			x = (lo + hi) / 2;
		else if (fabs(step) <= 1e-16 * fabs(x))
			break;
		if (hi - lo <= 1e-16 * hi)
			break;
	}
	return x;
}

/* The slot of (a, b): their bits, mixed. */
static size_t
memo_slot(double a, double b)
{
	uint64_t x, y;

	memcpy(&x, &a, sizeof(x));
	memcpy(&y, &b, sizeof(y));
	x = (x ^ (y * 0x9e3779b97f4a7c15ULL)) * 0xc2b2ae3d27d4eb4fULL;
	/* the top bits: every bit of both numbers moves them */
	return (size_t)(x >> (64 - STATS_MEMO_BITS));
}

int
stats_memo_get(const struct stats_memo *m, double a, double b, double *v)
{
	size_t i = memo_slot(a, b);

	if (!m->set[i] || memcmp(&m->a[i], &a, sizeof(a)) != 0 ||
	    memcmp(&m->b[i], &b, sizeof(b)) != 0)
		return 0;
	*v = m->v[i];
	return 1;
}

void
stats_memo_put(struct stats_memo *m, double a, double b, double v)
{
	size_t i = memo_slot(a, b);

	m->a[i] = a;
	m->b[i] = b;
	m->v[i] = v;
	m->set[i] = 1;
}

double
stats_memo_of(struct stats_memo *m, double a, double b,
    double (*fn)(double, double))
{
	double v;

	if (stats_memo_get(m, a, b, &v))
		return v;
	v = fn(a, b);
	stats_memo_put(m, a, b, v);
	return v;
}

/* A thread's memos, each made on first use (a key's value per thread). */
struct memos {
	struct stats_memo	*m[STATS_MEMOS];
};

static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static int memo_keyed;

static void
memos_free(void *p)
{
	struct memos *ms = p;
	int i;

	for (i = 0; i < STATS_MEMOS; i++)
		free(ms->m[i]);
	free(ms);
}

static void
memo_key_make(void)
{
	memo_keyed = pthread_key_create(&memo_key, memos_free) == 0;
}

static struct stats_memo *
memo_mine(int which)
{
	struct memos *ms;

	if (pthread_once(&memo_once, memo_key_make) != 0 || !memo_keyed)
		return NULL;
	if ((ms = pthread_getspecific(memo_key)) == NULL) {
		if ((ms = calloc(1, sizeof(*ms))) == NULL)
			return NULL;
		if (pthread_setspecific(memo_key, ms) != 0) {
			free(ms);
			return NULL;
		}
	}
	if (ms->m[which] == NULL)
		ms->m[which] = calloc(1, sizeof(*ms->m[which]));
	return ms->m[which];
}

double
stats_memo_thread(int which, double a, double b,
    double (*fn)(double, double))
{
	struct stats_memo *m;

	if (which < 0 || which >= STATS_MEMOS ||
	    (m = memo_mine(which)) == NULL)
		return fn(a, b);
	return stats_memo_of(m, a, b, fn);
}

double
stats_t_quantile(double p, double df)
{
	return stats_memo_thread(STATS_MEMO_T, p, df, t_quantile);
}

void
stats_from_sums(long n, double sum, double sumsq, struct stats_summary *s)
{
	double var, se, q;

	s->n = n;
	s->mean = n > 0 ? sum / (double)n : NAN;
	s->sd = s->ci_low = s->ci_high = s->t = s->p = s->dz = NAN;
	if (n < 2)
		return;
	var = (sumsq - sum * sum / (double)n) / (double)(n - 1);
	if (var < 0)
		var = 0;	/* rounding when every difference is equal */
	s->sd = sqrt(var);
	se = s->sd / sqrt((double)n);
	q = stats_t_quantile(0.975, (double)(n - 1));
	s->ci_low = s->mean - q * se;
	s->ci_high = s->mean + q * se;
	if (se > 0) {
		s->t = s->mean / se;
		s->p = 2 * stats_t_sf(fabs(s->t), (double)(n - 1));
		s->dz = s->mean / s->sd;
	}
}

void
stats_paired(const double *d, size_t n, struct stats_summary *s)
{
	double m = stats_mean(d, n), ss = 0;
	size_t i;

	/* two passes, so that sum of squares loses nothing to cancellation */
	for (i = 0; i < n; i++)
		ss += (d[i] - m) * (d[i] - m);
	stats_from_sums((long)n, m * (double)n, ss + m * m * (double)n, s);
}

const char *
stats_method_name(enum stats_method m)
{
	return m == STATS_EXACT ? "exact" : m == STATS_NORMAL ? "normal" :
	    "none";
}

/*
 * The number of subsets of {1..n} with each rank sum, divided by 2^n: the
 * null distribution of V (R's csignrank), summed from the side of v where
 * the tail is, so that a small p is a sum of small terms.
 */
double
stats_signrank_p(long n, double v)
{
	long max = n * (n + 1) / 2, k, s, lo;
	double *c, tail = 0, p;

	if (n < 1 || n > 1000 || (c = calloc((size_t)max + 1,
	    sizeof(*c))) == NULL)
		return NAN;
	c[0] = 1;
	for (k = 1; k <= n; k++)
		for (s = max; s >= k; s--)
			c[s] += c[s - k];
	/* R: above the mean P(V >= v), else P(V <= v); then min(2p, 1) */
	if (v > (double)max / 2) {
		for (lo = (long)ceil(v), s = lo; s <= max; s++)
			tail += c[s];
	} else
		for (s = 0; s <= (long)floor(v); s++)
			tail += c[s];
	free(c);
	p = 2 * ldexp(tail, -(int)n);
	return p > 1 ? 1 : p;
}

void
stats_wilcoxon_groups(const struct stats_rank_group *g, size_t ng,
    long zeros, struct stats_wilcoxon *w)
{
	double rank = 0, ties = 0, mu, sigma, z;
	long n = 0;
	int tied = 0;
	size_t i;

	w->v = 0;
	for (i = 0; i < ng; i++) {
		long t = g[i].pos + g[i].neg;
		double avg = rank + (t + 1) / 2.0;

		w->v += avg * (double)g[i].pos;
		rank += (double)t;
		ties += (double)t * t * t - (double)t;
		tied |= t > 1;
		n += t;
	}
	w->n = n;
	w->z = w->p = w->p_normal = NAN;
	w->method = STATS_NONE;
	if (n == 0)
		return;
	mu = n * (n + 1) / 4.0;
	sigma = sqrt(n * (n + 1.0) * (2.0 * n + 1) / 24.0 - ties / 48.0);
	if (sigma > 0) {
		z = w->v - mu;
		z = (z - (z > 0 ? 0.5 : z < 0 ? -0.5 : 0)) / sigma;
		w->z = z;
		/* 2 min(P(Z <= z), P(Z > z)), the upper tail directly */
		w->p_normal = fmin(1, 2 * stats_norm_sf(fabs(z)));
		w->p = w->p_normal;
		w->method = STATS_NORMAL;
	}
	if (n < STATS_EXACT_MAX && !tied && zeros == 0) {
		w->p = stats_signrank_p(n, w->v);
		w->method = STATS_EXACT;
	}
}

static int
abs_cmp(const void *a, const void *b)
{
	double x = fabs(*(const double *)a), y = fabs(*(const double *)b);

	return x < y ? -1 : x > y;
}

int
stats_wilcoxon(const double *d, size_t n, struct stats_wilcoxon *w)
{
	double *v;
	struct stats_rank_group *g;
	size_t i, m = 0, ng = 0;

	v = calloc(n ? n : 1, sizeof(*v));
	g = calloc(n ? n : 1, sizeof(*g));
	if (v == NULL || g == NULL) {
		free(v);
		free(g);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (d[i] != 0)
			v[m++] = d[i];
	/* n - m zero differences, dropped */
	qsort(v, m, sizeof(*v), abs_cmp);
	for (i = 0; i < m; i++) {
		/* equal within rounding of the input's decimals */
		if (ng == 0 || fabs(fabs(v[i]) - g[ng - 1].absval) > 1e-9)
			g[ng++].absval = fabs(v[i]);
		if (v[i] > 0)
			g[ng - 1].pos++;
		else
			g[ng - 1].neg++;
	}
	stats_wilcoxon_groups(g, ng, (long)(n - m), w);
	free(v);
	free(g);
	return 0;
}

/*
 * sdc.c - cell key perturbation, suppression, rounding and secondary
 * suppression.
 */
#include <math.h>
#include <stdlib.h>

#include "ckm.h"
#include "sdc.h"

long
sdc_round(long n)
{
	return (n + 2) / 5 * 5;
}

long
sdc_perturbed(const struct sdc *s, struct sdc_n c)
{
	return s->on ? ckm_perturb(c.n, c.key) : c.n;
}

int
sdc_hidden(const struct sdc *s, struct sdc_n c)
{
	long p = sdc_perturbed(s, c);

	return s->on && p > 0 && p < s->threshold;
}

long
sdc_value(const struct sdc *s, struct sdc_n c)
{
	if (!s->on)
		return c.n;
	return sdc_hidden(s, c) ? -1 : sdc_round(sdc_perturbed(s, c));
}

cJSON *
sdc_count(const struct sdc *s, struct sdc_n c)
{
	long v = sdc_value(s, c);

	return v < 0 ? cJSON_CreateString("suppressed") :
	    cJSON_CreateNumber((double)v);
}

static double
round_to(double v, int decimals)
{
	double f = pow(10, decimals);

	return round(v * f) / f;
}

cJSON *
sdc_stat(const struct sdc *s, double v, int decimals)
{
	if (isnan(v) || isinf(v))
		return cJSON_CreateNull();
	return cJSON_CreateNumber(s->on ? round_to(v, decimals) : v);
}

cJSON *
sdc_pct(const struct sdc *s, struct sdc_n num, struct sdc_n den)
{
	long a = sdc_value(s, num), b = sdc_value(s, den);

	if (a < 0 || b < 0)
		return cJSON_CreateString("withheld");
	if (b == 0)
		return cJSON_CreateNull();
	return sdc_stat(s, 100.0 * (double)a / (double)b, 1);
}

cJSON *
sdc_p(const struct sdc *s, double p)
{
	if (isnan(p))
		return cJSON_CreateNull();
	if (!s->on)
		return cJSON_CreateNumber(p);
	return cJSON_CreateString(p < 0.001 ? "<0.001" : p < 0.01 ? "<0.01" :
	    p < 0.05 ? "<0.05" : ">=0.05");
}

void
sdc_breakdown(const struct sdc *s, struct sdc_n total, const struct sdc_n *v,
    size_t n, int *hidden, int *zero)
{
	size_t i, nhidden = 0, smallest = n;
	long t = sdc_value(s, total), pv, ps = 0;

	for (i = 0; i < n; i++) {
		hidden[i] = t < 0 || sdc_hidden(s, v[i]);
		zero[i] = !hidden[i] && (t == 0 || sdc_value(s, v[i]) == 0);
		nhidden += (size_t)hidden[i];
	}
	if (t <= 0 || nhidden != 1)
		return;
	/* one hidden group alone could be had by subtraction: hide another */
	for (i = 0; i < n; i++) {
		if (hidden[i] || zero[i])
			continue;
		pv = sdc_perturbed(s, v[i]);
		if (smallest == n || pv < ps) {
			smallest = i;
			ps = pv;
		}
	}
	if (smallest < n)
		hidden[smallest] = 1;
}

cJSON *
sdc_breakdown_json(const struct sdc *s, struct sdc_n total,
    const struct sdc_n *v, const char *const *codes, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	int *hidden = calloc(n ? n : 1, sizeof(*hidden));
	int *zero = calloc(n ? n : 1, sizeof(*zero));
	size_t i;

	if (hidden != NULL && zero != NULL) {
		sdc_breakdown(s, total, v, n, hidden, zero);
		for (i = 0; i < n; i++)
			cJSON_AddItemToObject(o, codes[i], hidden[i] ?
			    cJSON_CreateString("suppressed") : zero[i] ?
			    cJSON_CreateNumber(0) : sdc_count(s, v[i]));
	}
	free(hidden);
	free(zero);
	return o;
}

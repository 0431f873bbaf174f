/*
 * sdc.c - suppression, rounding and secondary suppression.
 */
#include <math.h>
#include <stdlib.h>

#include "sdc.h"

long
sdc_round(long n)
{
	return (n + 2) / 5 * 5;
}

int
sdc_hidden(const struct sdc *s, long n)
{
	return s->on && n > 0 && n < s->threshold;
}

long
sdc_value(const struct sdc *s, long n)
{
	if (!s->on)
		return n;
	return sdc_hidden(s, n) ? -1 : sdc_round(n);
}

cJSON *
sdc_count(const struct sdc *s, long n)
{
	long v = sdc_value(s, n);

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
sdc_stat(const struct sdc *s, double v, long n, int decimals)
{
	if (s->on && n < s->threshold)
		return cJSON_CreateString("withheld");
	if (isnan(v) || isinf(v))
		return cJSON_CreateNull();
	return cJSON_CreateNumber(round_to(v, decimals));
}

cJSON *
sdc_pct(const struct sdc *s, long num, long den)
{
	long a = sdc_value(s, num), b = sdc_value(s, den);

	if (a < 0 || b < 0 || (s->on && den < s->threshold))
		return cJSON_CreateString("withheld");
	if (b == 0)
		return cJSON_CreateNull();
	return cJSON_CreateNumber(round_to(100.0 * (double)a / (double)b, 1));
}

void
sdc_breakdown(const struct sdc *s, const long *v, size_t n, int *hidden)
{
	size_t i, nhidden = 0, smallest = n;

	for (i = 0; i < n; i++) {
		hidden[i] = sdc_hidden(s, v[i]);
		nhidden += (size_t)hidden[i];
	}
	if (nhidden != 1)
		return;
	/* one hidden group alone could be had by subtraction: hide another */
	for (i = 0; i < n; i++)
		if (!hidden[i] && v[i] > 0 &&
		    (smallest == n || v[i] < v[smallest]))
			smallest = i;
	if (smallest < n)
		hidden[smallest] = 1;
}

cJSON *
sdc_breakdown_json(const struct sdc *s, const long *v,
    const char *const *codes, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	int *hidden = calloc(n ? n : 1, sizeof(*hidden));
	size_t i;

	if (hidden == NULL)
		return o;
	sdc_breakdown(s, v, n, hidden);
	for (i = 0; i < n; i++)
		cJSON_AddItemToObject(o, codes[i], hidden[i] ?
		    cJSON_CreateString("suppressed") : sdc_count(s, v[i]));
	free(hidden);
	return o;
}

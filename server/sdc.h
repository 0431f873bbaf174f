/*
 * sdc.h - statistical disclosure control of published figures.
 *
 * For place leads and the dashboard (and for evaluators unless they ask
 * otherwise, which is audited):
 *   - counts from 1 to threshold-1 (1-7 by default) are "suppressed";
 *   - other counts are rounded to the nearest 5 (zero stays zero);
 *   - means, medians, percentages and test results are "withheld" when
 *     the number they rest on is below the threshold;
 *   - percentages are computed from the rounded counts;
 *   - in a breakdown (groups adding up to a total), if exactly one group
 *     is suppressed the next smallest is suppressed too, so that the
 *     hidden one cannot be recovered by subtraction from the total.
 * With control off every figure is shown as computed.
 */
#ifndef PCMDS_SDC_H
#define PCMDS_SDC_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct sdc {
	int	 on;
	long	 threshold;
};

/* Nearest multiple of 5, halves upwards. */
long	 sdc_round(long n);
/* 1 when the count is not shown. */
int	 sdc_hidden(const struct sdc *, long n);
/* A count as published: a number or "suppressed". */
cJSON	*sdc_count(const struct sdc *, long n);
/* The count as published, for further arithmetic: -1 when hidden. */
long	 sdc_value(const struct sdc *, long n);
/*
 * A statistic resting on n observations: the value rounded to decimals,
 * "withheld" when n is too small, null when it cannot be computed.
 */
cJSON	*sdc_stat(const struct sdc *, double v, long n, int decimals);
/* 100 * num / den, from published counts. */
cJSON	*sdc_pct(const struct sdc *, long num, long den);
/*
 * Hiding for a breakdown of n groups: hidden[i] set for each group not
 * shown, primary and secondary.
 */
void	 sdc_breakdown(const struct sdc *, const long *v, size_t n,
	    int *hidden);
/* A breakdown as a JSON object code -> count, with sdc_breakdown(). */
cJSON	*sdc_breakdown_json(const struct sdc *, const long *v,
	    const char *const *codes, size_t n);

#endif

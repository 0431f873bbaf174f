/*
 * sdc.h - statistical disclosure control of published figures.
 *
 * For place leads and the dashboard (and for evaluators unless they ask
 * otherwise, which is audited), every count is published in three steps:
 *   1. the cell key method (ckm.h) adds noise of at most 3 either way,
 *      the same for the same people every time (zeros stay zero);
 *   2. a perturbed count from 1 to threshold-1 (1-7 by default) is
 *      "suppressed";
 *   3. the rest is rounded to the nearest 5.
 * In a breakdown (groups adding up to a total), a breakdown whose total is
 * suppressed is suppressed whole, and if exactly one group is suppressed
 * the next smallest is suppressed too, so the hidden one cannot be had by
 * subtraction. Percentages and rates are worked out from the published
 * counts. Statistics are rounded (sdc_stat) so that they cannot give away
 * the exact n they rest on, and are "withheld" where their n is not shown.
 * With control off every figure is exact, at full double precision.
 */
#ifndef PCMDS_SDC_H
#define PCMDS_SDC_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct sdc {
	int	 on;
	long	 threshold;
};

/* A count and its cell key (the sum of its records' keys). */
struct sdc_n {
	long	 n;
	long	 key;
};

/* Nearest multiple of 5, halves upwards. */
long	 sdc_round(long n);
/* The count after the cell key method (control on) or as it is. */
long	 sdc_perturbed(const struct sdc *, struct sdc_n);
/* 1 when the count is published as "suppressed". */
int	 sdc_hidden(const struct sdc *, struct sdc_n);
/* The count as published, for further arithmetic: -1 when suppressed. */
long	 sdc_value(const struct sdc *, struct sdc_n);
/* A count as published: a number or "suppressed". */
cJSON	*sdc_count(const struct sdc *, struct sdc_n);
/*
 * A statistic: with control off, v exactly; on, v rounded to decimals.
 * null when it cannot be computed (NaN).
 */
cJSON	*sdc_stat(const struct sdc *, double v, int decimals);
/* 100 * num / den from the published counts; "withheld" if either is. */
cJSON	*sdc_pct(const struct sdc *, struct sdc_n num, struct sdc_n den);
/*
 * A p-value: exact with control off; on, the band it lies in ("<0.001",
 * "<0.01", "<0.05", ">=0.05"), which says nothing of its n.
 */
cJSON	*sdc_p(const struct sdc *, double p);
/*
 * Hiding for a breakdown of n groups whose total is total: hidden[i] set
 * for each group not shown, primary and secondary; every group when the
 * total is suppressed. zero[i] set for each group published as 0 (and for
 * every group when the total is published as 0).
 */
void	 sdc_breakdown(const struct sdc *, struct sdc_n total,
	    const struct sdc_n *v, size_t n, int *hidden, int *zero);
/* A breakdown as a JSON object code -> count, with sdc_breakdown(). */
cJSON	*sdc_breakdown_json(const struct sdc *, struct sdc_n total,
	    const struct sdc_n *v, const char *const *codes, size_t n);

#endif

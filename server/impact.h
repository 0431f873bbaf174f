/*
 * impact.h - the published figures: reach, ONS4 change, breakdowns.
 *
 * One JSON document per question (a place or all places, a period, an
 * optional breakdown), with disclosure control applied by sdc.c. The API
 * serves it as JSON or flattened to CSV; the dashboard draws from it; so
 * every output shows the same numbers.
 */
#ifndef PCMDS_IMPACT_H
#define PCMDS_IMPACT_H

#include <cjson/cJSON.h>

#include "agg.h"
#include "buf.h"
#include "sdc.h"

struct impact_req {
	int		 place;		/* index in agg places, -1 all */
	int32_t		 from, to;	/* referred_on, inclusive */
	int		 to_defaulted;	/* to: the last completed month's end */
	enum agg_dim	 group_by;
	struct sdc	 sdc;
};

/* What every unsuppressed output says of itself. */
#define IMPACT_UNSUPPRESSED "UNSUPPRESSED: exact figures without " \
	"disclosure control (evaluator access, audited); not for publication " \
	"as they are"


/* The full figures for one place (or all), NULL when out of memory. */
cJSON	*impact_json(struct agg *, const struct impact_req *);
/* The headline figures of every place and of all places together. */
cJSON	*impact_places_json(struct agg *, const struct impact_req *);
/*
 * Month by month for one place (or all): referrals, people, consented,
 * declined, pairs and each ONS4 measure's mean change with its interval,
 * every month a scope of its own under disclosure control. Without from,
 * from the month of the first referral; without to (unsuppressed), to
 * today. NULL when out of memory, or *too_long set when the range holds
 * more than IMPACT_MONTHS_MAX months.
 */
#define IMPACT_MONTHS_MAX	240
cJSON	*impact_months_json(struct agg *, const struct impact_req *,
	    int *too_long);
/*
 * The strategy's commitments, per place and for all places: a children
 * and young people service in at least one PCN, reach against the
 * all-places rate, the focus groups' rate ratios (IMD quintile 1, each
 * minority ethnic group, the youngest age band the population supports),
 * the shares of referrals of groups with no population (learning
 * disability, autism, homeless, carers) and ONS4 outcome recording.
 */
cJSON	*impact_commitments_json(struct agg *, const struct impact_req *);
/*
 * The scope, period and disclosure members every figures document starts
 * with (for documents made elsewhere, as takeup.c's).
 */
void	 impact_scope(cJSON *doc, struct agg *, const struct impact_req *,
	    long population);
/*
 * Flattens a figures document into tidy CSV for R and spreadsheets:
 * place,from,to,group_by,group,section,measure,value,disclosure; numbers
 * in shortest round-trip form; disclosure is "controlled" or
 * "unsuppressed" on every row. Take-up per asset (takeup.h) has
 * group_by "asset": its rows in section "assets" with the asset's id as
 * group, the free text in section "free_text".
 */
pc_rc	 impact_csv(const cJSON *doc, struct buf *out);
/* Median of a histogram of n observations (bins are whole values). */
double	 impact_median(const long *hist, size_t nbins, long n);

#endif

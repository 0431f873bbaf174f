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
 * Flattens a figures document into tidy CSV for R and spreadsheets:
 * place,from,to,group_by,group,section,measure,value,disclosure; numbers
 * in shortest round-trip form; disclosure is "controlled" or
 * "unsuppressed" on every row.
 */
pc_rc	 impact_csv(const cJSON *doc, struct buf *out);
/* Median of a histogram of n observations (bins are whole values). */
double	 impact_median(const long *hist, size_t nbins, long n);

#endif

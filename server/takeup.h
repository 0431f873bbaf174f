/*
 * takeup.h - take-up per community asset, for place leads and evaluators.
 *
 * For a place and period (the referrals the impact figures count: referred
 * in the period, not voided), each entry of the place's directory with
 * the referrals offered it (distinct referrals with a support record
 * naming it, corrections applied, voided records left out) and those that
 * took it up (a support record naming it with outcome taken_up or
 * completed, as the per-category take-up counts), and one row for the
 * support recorded with no asset (free text). A fact holds categories,
 * not assets, so each referral's assets are kept beside its fact, in the
 * same transaction (takeup_stage, store_takeup_put), and a place's rows
 * are added up from them per request. Each count carries the cell key of
 * the people it counts, their record keys as the aggregates hold them
 * (agg_referral_key, which also decides which referrals count), so under
 * disclosure control it goes through sdc.c exactly as every other count:
 * the rows are a breakdown of the period's referrals (suppressed whole
 * when they are, secondary suppression as sdc_breakdown does), and a row
 * whose offer is hidden has its take-up hidden too.
 */
#ifndef PCMDS_TAKEUP_H
#define PCMDS_TAKEUP_H

#include "impact.h"

/*
 * For agg.c, wherever a fact is stored: the assets of f's referral
 * (corrections applied, voided records left out; none when it is voided),
 * each taken or not, stored with store_takeup_put().
 */
pc_rc	 takeup_stage(struct store *, const struct timeline *,
	    const struct fact *f);
/*
 * The row a support record (its content c) gives its referral: 1 taken
 * up, else 0; *asset is its asset, "" for free text (borrowed from c).
 */
int	 takeup_of(const cJSON *c, const char **asset);
/*
 * Adds asset id, taken or not, to a referral's rows v (*n of them, room
 * for *cap; realloc'd), once: a row already there is taken when either
 * is. 1 added (as (*v)[*n - 1], id as given), 0 merged, -1 memory.
 */
int	 takeup_merge(struct store_takeup **v, size_t *n, size_t *cap,
	    const char *id, int taken);

/*
 * The document for one place (q->place >= 0): scope and period as the
 * impact figures, reach.referrals, assets[] and free_text. NULL on
 * failure with *rc set: PC_ESTORE when the records could not be read,
 * PC_ENOMEM. The caller owns the document.
 */
cJSON	*takeup_json(struct agg *, struct store *, const struct impact_req *q,
	    pc_rc *rc);

#endif

/*
 * export.h - the rows of an evaluator's export, and their documentation.
 *
 * Two shapes, each as NDJSON or CSV:
 *
 *   events  every record of a consented referral that is not voided, as
 *           corrected (the correction records themselves are applied,
 *           not listed), with who corrected it;
 *   pairs   one row per ONS4 pair: a consented referral's earliest scored
 *           baseline and its latest later scored review or final, the
 *           pairs the server's own ONS4 figures count.
 *
 * Every identifier is re-keyed for the recipient (recipient.h) and every
 * time is cut to the day, so that a row carries no value another
 * recipient's export, or the deployment key, could join on. The columns
 * are described by the tables in export.c; docs/export.md is
 * export_markdown()'s output, and a test keeps the two in step.
 */
#ifndef PCMDS_EXPORT_H
#define PCMDS_EXPORT_H

#include "buf.h"
#include "recipient.h"
#include "store.h"
#include "timeline.h"

enum export_shape {
	EXPORT_EVENTS,
	EXPORT_PAIRS,
	EXPORT_NSHAPES
};

struct export_out {
	enum export_shape	 shape;
	int			 csv;	/* else NDJSON */
	int			 parsed; /* tests: every row through the
					   timeline, as export_referral */
	struct recipient	*to;
	long			 rows;	/* written so far */
};

const char	*export_shape_name(enum export_shape);
/* EXPORT_NSHAPES when s names no shape. */
enum export_shape export_shape_parse(const char *s);
/* The CSV header line; nothing for NDJSON. */
pc_rc		 export_header(const struct export_out *, struct buf *);
/*
 * Appends the rows of one referral (already known to be exportable: its
 * person consented and it is not voided) to out.
 */
pc_rc		 export_referral(struct export_out *, const struct timeline *,
		    struct buf *out);
/*
 * The same from a referral's stored texts (store_export_next), of a
 * referral already known to be exportable. Events as NDJSON of a
 * referral without corrections (nearly all) are the stored canonical
 * texts with their identifiers re-keyed and their times cut in place,
 * byte for byte what export_referral() makes of them, without parsing;
 * the rest, and any text that is not as canonical text is, go through
 * the timeline.
 */
pc_rc		 export_stored(struct export_out *,
		    const struct store_export_ref *, struct buf *out);
/*
 * export_stored() of each referral of a batch read ahead of its rows
 * (store_texts_copy() of what store_export_next gave), in turn.
 */
pc_rc		 export_batch_rows(struct export_out *, struct store_texts *,
		    struct buf *out);
/* docs/export.md. */
pc_rc		 export_markdown(struct buf *);

#endif

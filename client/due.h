/*
 * due.h - what is due next for a referral: the link worker's caseload.
 *
 * In order: a first contact; the baseline ONS4 (people aged 16 and over);
 * the review, from review_weeks after the baseline (default 6 to 12);
 * the final, from final_weeks after it (default 12). pcmds due and the
 * app's caseload show the same, from here.
 */
#ifndef PCMDS_DUE_H
#define PCMDS_DUE_H

#include "client.h"
#include "timeline.h"

enum due_kind {
	DUE_NOTHING,	/* closed, voided, or every step done */
	DUE_CONTACT,	/* no contact yet */
	DUE_BASELINE,	/* baseline ONS4 missing */
	DUE_REVIEW,	/* review ONS4 */
	DUE_FINAL,	/* final ONS4 */
	DUE_N
};

struct due_rules {
	int	 review_from, review_to;	/* weeks after the baseline */
	int	 final_from;
};

struct due {
	enum due_kind	 kind;
	int32_t		 from;		/* due from this day */
	int32_t		 until;		/* the window's end, -1 none */
	int		 now;		/* from <= today */
	int		 overdue;	/* past until */
};

/* The rules from the configuration; a bad setting is an E_RANGE error. */
pc_rc	 due_rules(const struct config *, struct due_rules *,
	    struct err_list *);
void	 due_of(const struct timeline *, const struct due_rules *,
	    int32_t today, struct due *);
/* Each live referral in turn, its timeline and what is due. */
typedef int (*due_cb)(void *arg, const struct timeline *, const struct due *);
pc_rc	 due_each(struct ctx *, const struct due_rules *, due_cb, void *,
	    struct err_list *);
/*
 * 1 when closing the referral now would leave it without a final ONS4
 * assessment that could have been asked (16 and over; declined counts).
 */
int	 due_final_missing(const struct timeline *);
/* "Review ONS4 due", ... */
const char *due_label(enum due_kind);

#endif

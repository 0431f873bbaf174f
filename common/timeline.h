/*
 * timeline.h - one referral and everything recorded about it.
 *
 * The cross-record rules of pcmds/1 live here, so that the client (before
 * storing a record offline) and the server (before accepting it) apply the
 * same ones: a record needs its referral; dates are not before the
 * referral date; once closed, nothing dated after the closure and no
 * second closure; ONS4 scores only for people aged 16 and over;
 * corrections name a record of the same referral and must leave it valid.
 *
 * Corrections are applied in the order they were admitted, giving each
 * record's effective content; a void withdraws the record (a voided
 * closure reopens the referral, a voided referral withdraws everything).
 */
#ifndef PCMDS_TIMELINE_H
#define PCMDS_TIMELINE_H

#include <stdint.h>

#include "ons4.h"
#include "rec.h"

#define TL_RECORDS_MAX	2000	/* records per referral */

struct tl_entry {
	struct rec	*rec;		/* owned */
	cJSON		*own;		/* corrected content (owned); NULL:
					   unchanged, rec->json; use
					   tl_content() */
	int		 voided;
};

struct timeline {
	char		 id[UUID_LEN];	/* the referral id */
	struct tl_entry	*v;		/* in admission order */
	size_t		 n, cap;
};

struct tl_assess {
	int32_t		 on;
	int		 stage;		/* codes_stage index */
	int		 score[ONS4_N];
};

struct tl_summary {
	const cJSON	*referral;	/* effective referral, NULL if none */
	int		 voided;	/* the referral was voided */
	int32_t		 referred_on;
	int32_t		 closed_on;	/* -1 while open */
	int		 close_reason;	/* codes_closure index, -1 open */
	int32_t		 first_contact;	/* first attended contact, -1 none */
	int		 contacts;	/* contact records, attended or not */
	int		 attended;
	uint32_t	 support_offered;	/* bit per codes_support index */
	uint32_t	 support_taken;		/* taken up or completed */
	int		 supports;
	int		 assessments;
	int		 declined;	/* assessments declined */
	int		 has_baseline, has_followup;
	struct tl_assess baseline;	/* earliest scored baseline */
	struct tl_assess followup;	/* latest later scored review/final */
	/* what the rules ask of a next record, and the step needs (tl_add) */
	int		 age;		/* the referral's */
	int		 records;	/* in the timeline: corrections, voided */
	int		 closures;	/* not voided */
	int32_t		 last_on;	/* the latest event's date, -1 none */
	int		 has_latest;
	struct tl_assess latest;	/* latest scored review/final; ties:
					   the last admitted */
};

void	 tl_init(struct timeline *, const char *referral_id);
void	 tl_free(struct timeline *);

/*
 * Checks r against the rules and the records already here. On PC_OK the
 * timeline owns r; on PC_EINVAL the reasons are in errs and the caller
 * still owns r. Other codes: memory.
 */
pc_rc	 tl_admit(struct timeline *, struct rec *r, const struct rec_opts *,
	    struct err_list *errs);
/*
 * The rules a new record of kind k will meet, asked before the rest of it
 * is: the referral known and not voided; ONS4 scores (scores set) only
 * from age 16; no second closure; a date on (-1 while not known) not
 * before the referral nor after its closure. The same checks as
 * tl_admit, so a form or prompt can refuse early what would be refused
 * at the end. PC_EINVAL with the reasons in errs.
 */
pc_rc	 tl_precheck(const struct timeline *, enum rec_kind k, int32_t on,
	    int scores, struct err_list *errs);
/*
 * Adds a record already accepted earlier, without checks; takes r, even
 * when it fails (out of memory: r is freed).
 */
pc_rc	 tl_load(struct timeline *, struct rec *r);

/* Index of the record with this id, or -1. */
int	 tl_find(const struct timeline *, const char *id);
/* Index of the unique record whose id starts with prefix; -1 none, -2 many. */
int	 tl_find_prefix(const struct timeline *, const char *prefix);
/*
 * The summary is tl_step() over the timeline's events (records not
 * voided, corrections applied, the referral aside) in admission order.
 */
void	 tl_summarise(const struct timeline *, struct tl_summary *);
/* Adds one event of kind k dated on, whose content is c, to s. */
void	 tl_step(struct tl_summary *, enum rec_kind k, int32_t on,
	    const cJSON *c);
/*
 * Without the timeline: 1 when tl_admit() would admit r, a new contact,
 * support, assessment or closure of the referral s summarises (recorded
 * for place), to that timeline; r is then added to s (tl_step, one
 * record more). 0 when s cannot tell (a rule r may break, a correction,
 * anything unusual): s is unchanged, and r is for tl_admit() on the
 * timeline. So a server can keep s instead of the records, and check
 * and add most records with it, the same rules as the timeline's.
 */
int	 tl_add(struct tl_summary *, const char *place, const struct rec *r);
/* A record's effective content, corrections applied; NULL for corrections. */
const cJSON	*tl_content(const struct tl_entry *);

#endif

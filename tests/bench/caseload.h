/*
 * caseload.h - a synthetic caseload for make bench: referrals and what
 * follows them, as link workers' devices make them, and the orders in
 * which a server receives them.
 *
 * A referral is followed over the weeks after it by a first contact with
 * the baseline ONS4, support offered, perhaps more contacts and a review,
 * a final ONS4 and a closure (or an early decline); a few get a
 * correction. Record ids are made as the client makes them, version 7
 * (uuid_v7) from the moment each record was recorded in the caseload's
 * time, which its recorded_at also says; everything else is drawn from a
 * seed, so the same seed gives the same caseload apart from the ids'
 * random bits. Records are
 * written in canonical form (keys sorted), as the client stores and
 * sends them.
 */
#ifndef PCMDS_BENCH_CASELOAD_H
#define PCMDS_BENCH_CASELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "uuid.h"

#define CL_EVENTS_MAX	12	/* records of one referral, at most */
#define CL_DAYS		730	/* the caseload's two years */

/* In the order events of one day are made: a closure last. */
enum cl_kind {
	CL_REFERRAL, CL_BASELINE, CL_DECLINED, CL_CONTACT, CL_SUPPORT,
	CL_REVIEW, CL_FINAL, CL_CLOSURE, CL_CORRECTION
};

struct cl_event {
	uint8_t	 kind;		/* enum cl_kind */
	int8_t	 target;	/* a correction: the event it corrects */
	int32_t	 day;		/* made on (and dated, but corrections) */
};

/* One referral's life: what happens to it, not yet its ids. */
struct cl_life {
	uint64_t	 seed;
	uint64_t	 person;	/* the person's number (re-referrals) */
	int32_t		 day;		/* referred on: day 0 is 2023-01-02 */
	uint8_t		 dev;		/* the device that records it */
	uint8_t		 age, consent;
	uint8_t		 declined;	/* closed at once: declined */
	int		 n;
	struct cl_event	 ev[CL_EVENTS_MAX];
	uint32_t	 rec[CL_EVENTS_MAX];	/* a stored caseload: recs[] */
};

/*
 * The life of referral number k on day (0 .. CL_DAYS - 1), made by
 * device dev; events after last_day have not happened yet.
 */
void	 cl_life_make(struct cl_life *, uint64_t seed, uint64_t k,
	    int32_t day, int dev, int32_t last_day);
/* The record kind an event is ("assessment" for a baseline...). */
const char *cl_kind_name(int kind);
/* Records of consented referrals that an export lists (corrections not). */
int	 cl_life_exported(const struct cl_life *);

/*
 * Appends event i of l as JSON, canonical. ids: the event's own, its
 * referral's and, for a correction, its target's (NULL otherwise).
 */
void	 cl_json(struct buf *, const struct cl_life *, int i, const char *id,
	    const char *referral, const char *target, int64_t seq,
	    const char *worker, const char *place);
/* The same, recorded at at_ms (ms since the epoch; < 0: as cl_json). */
void	 cl_json_at(struct buf *, const struct cl_life *, int i,
	    const char *id, const char *referral, const char *target,
	    int64_t seq, const char *worker, const char *place, int64_t at_ms);

/* One record of a stored caseload. */
struct cl_rec {
	char		 id[UUID_LEN];
	uint32_t	 ref;	/* its referral, an index into refs */
	uint8_t		 ev;	/* its event within the referral */
	int32_t		 day;
	int64_t		 seq;	/* device_seq */
	int64_t		 at_ms;	/* recorded at, ms since the epoch */
};

/* Every record of a caseload, each device's in the order it made them. */
struct caseload {
	struct cl_life	*refs;
	size_t		 nrefs;
	struct cl_rec	*recs;	/* by device, then as made */
	size_t		 nrecs;
	int		 devices;
};

/*
 * nrefs referrals over CL_DAYS, shared among devices (at most 255). With
 * max_recs > 0, a device's records stop at that many (the latest are
 * left out, so none lacks its referral). PC_ENOMEM, PC_EIO (no ids).
 */
pc_rc	 caseload_make(struct caseload *, size_t nrefs, int devices,
	    uint64_t seed, size_t max_recs);
void	 caseload_free(struct caseload *);
/* Appends record r as JSON (cl_json) for worker and place. */
void	 caseload_json(const struct caseload *, size_t r, const char *worker,
	    const char *place, struct buf *);

/* A batch: records order[first .. first + n) from one device. */
struct cl_batch {
	int		 dev;
	size_t		 first, n;
};

/* An order of arrival, and what it is like. */
struct cl_order {
	uint32_t	*order;		/* record indices, as sent */
	struct cl_batch	*b;
	size_t		 nb;
	double		 later;		/* share of records that follow up a
					   referral of an earlier batch */
	double		 median_days;	/* a follow-up's day less its
					   referral's, median */
	int		 sync_days;	/* realistic: days between syncs */
};

/*
 * Realistic: each device syncs every few days (as many as fill about one
 * batch), sending what it made since, in batches of at most max; the
 * devices' syncs interleave in time.
 */
pc_rc	 cl_order_realistic(const struct caseload *, int max,
	    struct cl_order *);
/*
 * Easy: each referral with all its records in one batch (of at most max
 * records), device after device in turn.
 */
pc_rc	 cl_order_easy(const struct caseload *, int max, struct cl_order *);
void	 cl_order_free(struct cl_order *);

#endif

/*
 * follow.h - keeping one server's aggregates current with what the other
 * servers on the same database store.
 *
 * A thread with a connection of its own waits until a commit is
 * announced (LISTEN/NOTIFY), a request asks, or FOLLOW_POLL_MS pass,
 * then reads whatever changed since the snapshot it last read in
 * (agg_catch_up) and applies it. Being snapshot-based, a missed
 * announcement only delays a catch-up; it never loses a fact. A request
 * that names a watermark (an ingest answer gives one) waits until the
 * snapshot covers it, so "a figure from server B after a sync to server
 * A includes it" can be asked for, and tested, without timing.
 */
#ifndef PCMDS_FOLLOW_H
#define PCMDS_FOLLOW_H

#include "agg.h"
#include "err.h"

#define FOLLOW_POLL_MS	5000	/* at the latest, between catch-ups */

struct follow;

/* Catches up on database from snapshot upto (agg_open's) into a. */
pc_rc	 follow_start(struct follow **, const char *database, struct agg *,
	    const char *upto, struct err_list *);
/*
 * 1 once the aggregates include the commit at watermark mark (at once
 * when mark is "" or already included); 0 after ms without.
 */
int	 follow_wait(struct follow *, const char *mark, int ms);
/* Catch-ups done, for tests and /metrics. */
long	 follow_rounds(struct follow *);
void	 follow_stop(struct follow *);

#endif

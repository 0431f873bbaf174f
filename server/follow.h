/*
 * follow.h - keeping one server's aggregates current with what the other
 * servers on the same database store.
 *
 * A thread with a connection of its own waits until another process's
 * commit is announced (LISTEN/NOTIFY), a request asks, or FOLLOW_POLL_MS
 * pass, then reads whatever changed since the snapshot it last read in
 * (agg_catch_up) and applies it. Being snapshot-based, a missed
 * announcement only delays a catch-up; it never loses a fact. A request
 * that names a watermark (an ingest answer gives one) waits until the
 * snapshot covers it, so "a figure from server B after a sync to server
 * A includes it" can be asked for, and tested, without timing.
 *
 * This server's own commits are applied at commit (agg_apply), and
 * follow_applied() says so: a catch-up leaves their facts out instead of
 * reading them back. Only a commit said to be applied is left out, so
 * one whose facts never were (it failed after writing them, or its
 * answer was lost) is read like another server's. And since a catch-up
 * may apply facts from a snapshot taken before an own commit after that
 * commit applied its newer ones, a commit said to be applied while a
 * catch-up runs is left out only once a snapshot covering it has been
 * read (the one after puts right what the other overwrote); so is one
 * whose commit and apply a catch-up overlapped at all, or another own
 * commit did (follow_begin notes the moment before the commit).
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
/* What follow_begin noted of the moment before an own commit. */
struct follow_ticket {
	long	 ended, begun;
	int	 alone;
};
/*
 * Before a batch of this server's is committed: every follow_begin is
 * matched by one follow_applied. Safe from any thread; f may be NULL.
 */
void	 follow_begin(struct follow *, struct follow_ticket *);
/*
 * The commit begun with t, at watermark mark, is in the aggregates
 * already (mark NULL or "": it was not committed, or not applied).
 */
void	 follow_applied(struct follow *, const struct follow_ticket *,
	    const char *mark);
/* Catch-ups done, and the facts they read, for /metrics. */
void	 follow_counts(struct follow *, long *rounds, long *facts);
void	 follow_stop(struct follow *);

#endif

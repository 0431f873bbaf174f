/*
 * workq.h - a few threads, made once at start (as Redis's bio threads
 * are) and waiting on one queue, that run the jobs put on it in the
 * order they were put.
 *
 * A caller shares out a piece of work as a group: it puts all but one
 * part, runs that part itself, then calls workq_finish(), which runs on
 * the calling thread every part of the group no thread has started (on
 * a busy machine a thread may wait for a core: the work is then no
 * slower than done alone) and waits for those started.
 *
 * The queue owns its threads. Jobs and groups are the caller's; the
 * queue only links them, from workq_put() until workq_finish() (or
 * workq_stop()) returns, and they must live until then.
 */
#ifndef PCMDS_WORKQ_H
#define PCMDS_WORKQ_H

#include "err.h"

struct workq;

/* Parts put and not yet finished; zeroed by the caller before use. */
struct workq_group {
	int			 left;	/* the queue's */
};

struct workq_job {
	void			(*run)(struct workq_job *);
	struct workq_group	*group;	/* the queue's */
	struct workq_job	*next;	/* the queue's */
};

/*
 * Up to n threads named name (at most 15 characters); fewer when the
 * system refuses one, none when n <= 0 (workq_threads() says how many).
 * PC_ENOMEM: no queue.
 */
pc_rc	 workq_start(struct workq **, int n, const char *name);
/* How many threads run; 0 for NULL (no queue: the caller does it all). */
int	 workq_threads(const struct workq *);
/* Queues job, a part of group, behind every job put before it. */
void	 workq_put(struct workq *, struct workq_group *, struct workq_job *);
/*
 * Runs here the group's parts no thread has started, then waits for the
 * rest: on return every part has run.
 */
void	 workq_finish(struct workq *, struct workq_group *);
/*
 * Runs here every job still queued, waits for those running, joins the
 * threads and frees the queue. NULL is ignored.
 */
void	 workq_stop(struct workq *);

#endif

/*
 * pool.h - worker threads with database connections of their own, so
 * that the event loop never waits on the database network.
 *
 * Made once at start (db_workers of them, each with its store handle
 * keyed for the audit log). A job's work runs on whichever worker is
 * free, with that worker's store; its done runs afterwards on the loop
 * thread, which alone touches libevent. The pool owns neither: a job is
 * the caller's until done has run.
 */
#ifndef PCMDS_POOL_H
#define PCMDS_POOL_H

#include <event2/event.h>

#include "err.h"
#include "secret.h"
#include "store.h"

struct pool;

struct pool_job {
	void		(*work)(struct pool_job *, struct store *);
	void		(*done)(struct pool_job *);
	struct pool_job	*next;		/* the pool's */
};

/*
 * n workers on database (export reads: export_database, may be ""),
 * each connection's page cache cache_mib (store_cache_size), handing
 * finished jobs to base's loop. database NULL: workers without a
 * connection, for jobs that bring their own (their work gets NULL).
 */
pc_rc	 pool_start(struct pool **, struct event_base *, int n,
	    const char *database, const char *export_database, int cache_mib,
	    const struct secret *, struct err_list *);
void	 pool_submit(struct pool *, struct pool_job *);
/* Jobs waiting for a worker, and running (for /metrics). */
void	 pool_load(struct pool *, int *queued, int *running);
/*
 * Finishes every job submitted (their done too, on the calling thread),
 * then stops the workers and closes their connections.
 */
void	 pool_stop(struct pool *);
/* 1 on a worker thread. */
int	 pool_on_worker(void);

#endif

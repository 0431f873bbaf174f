/*
 * metrics.h - counters for GET /metrics (Prometheus text format).
 */
#ifndef PCMDS_METRICS_H
#define PCMDS_METRICS_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define METRICS_NBUCKETS	11

enum metrics_result {
	MR_STORED,
	MR_DUPLICATE,
	MR_CONFLICT,
	MR_REJECTED,
	MR_N
};

/* Shared by the loop and the database workers: each call locks. */
struct metrics {
	pthread_mutex_t	 mu;
	uint64_t	 status[600];		/* requests by status code */
	uint64_t	 records[MR_N];
	uint64_t	 batch_bucket[METRICS_NBUCKETS];	/* cumulative */
	uint64_t	 batch_count;
	double		 batch_sum;
	int		 connections;
	int		 db_queued, db_running;	/* PostgreSQL: the workers */
	long		 catchups;		/* rounds catching up */
	long		 catchup_facts;		/* facts they read */
	time_t		 started;
};

void	 metrics_init(struct metrics *);
void	 metrics_request(struct metrics *, int status);
void	 metrics_batch(struct metrics *, double seconds,
	    const long counts[MR_N]);
pc_rc	 metrics_render(struct metrics *, struct buf *);

#endif

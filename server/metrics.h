/*
 * metrics.h - counters for GET /metrics (Prometheus text format).
 */
#ifndef PCMDS_METRICS_H
#define PCMDS_METRICS_H

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

struct metrics {
	uint64_t	 status[600];		/* requests by status code */
	uint64_t	 records[MR_N];
	uint64_t	 batch_bucket[METRICS_NBUCKETS];	/* cumulative */
	uint64_t	 batch_count;
	double		 batch_sum;
	int		 connections;
	time_t		 started;
};

void	 metrics_init(struct metrics *);
void	 metrics_request(struct metrics *, int status);
void	 metrics_batch(struct metrics *, double seconds,
	    const long counts[MR_N]);
pc_rc	 metrics_render(const struct metrics *, struct buf *);

#endif

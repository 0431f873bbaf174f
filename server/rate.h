/*
 * rate.h - token buckets per key (client address, token), bounded in
 * memory and in time: at most max_keys buckets, each request O(1). When
 * the table is full the bucket used longest ago is forgotten (a forgotten
 * key starts again with a full bucket, so the global budget in auth.c is
 * what bounds a client spread over many keys).
 *
 * Times are seconds on a monotonic clock (srv_mono()), so a step of the
 * wall clock neither refills nor empties a bucket.
 */
#ifndef PCMDS_RATE_H
#define PCMDS_RATE_H

#include <stddef.h>

#include "ktab.h"

struct rate {
	struct ktab	 t;
	double		 per_sec;	/* refill rate */
	double		 burst;		/* bucket size */
};

pc_rc	 rate_init(struct rate *, double per_sec, double burst, size_t max_keys);
void	 rate_free(struct rate *);
/* Takes a token: 0 when allowed, else the seconds until one is free. */
double	 rate_take(struct rate *, const char *key, double now);
/* The same without taking one. */
double	 rate_wait(struct rate *, const char *key, double now);

#endif

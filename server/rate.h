/*
 * rate.h - token buckets per key (client address, token), bounded in
 * memory: when the table is full, buckets that have refilled completely
 * (idle keys) are forgotten.
 */
#ifndef PCMDS_RATE_H
#define PCMDS_RATE_H

#include <stddef.h>

#include "map.h"

struct rate {
	struct map	 m;
	double		 per_sec;	/* refill rate */
	double		 burst;		/* bucket size */
	size_t		 max_keys;
};

void	 rate_init(struct rate *, double per_sec, double burst, size_t max_keys);
void	 rate_free(struct rate *);
/* Takes a token: 0 when allowed, else the seconds until one is free. */
double	 rate_take(struct rate *, const char *key, double now);
/* The same without taking one. */
double	 rate_wait(struct rate *, const char *key, double now);

#endif

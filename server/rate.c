/*
 * rate.c - token-bucket rate limiting.
 */
#include <stdlib.h>

#include "rate.h"

struct bucket {
	double	 tokens;
	double	 at;
};

void
rate_init(struct rate *r, double per_sec, double burst, size_t max_keys)
{
	map_init(&r->m);
	r->per_sec = per_sec;
	r->burst = burst;
	r->max_keys = max_keys;
}

static void
free_bucket(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	free(val);
}

void
rate_free(struct rate *r)
{
	map_each(&r->m, free_bucket, NULL);
	map_free(&r->m);
}

struct prune {
	struct rate	*r;
	struct map	*keep;
	double		 now;
};

static void
keep_busy(const char *key, void *val, void *arg)
{
	struct prune *p = arg;
	struct bucket *b = val;

	if (b->tokens + (p->now - b->at) * p->r->per_sec < p->r->burst &&
	    map_put(p->keep, key, b) == PC_OK)
		return;
	free(b);
}

static struct bucket *
bucket(struct rate *r, const char *key, double now)
{
	struct bucket *b = map_get(&r->m, key);
	struct map keep;
	struct prune p;

	if (b == NULL) {
		if (r->m.n >= r->max_keys) {
			map_init(&keep);
			p.r = r;
			p.keep = &keep;
			p.now = now;
			map_each(&r->m, keep_busy, &p);
			map_free(&r->m);
			r->m = keep;
		}
		if ((b = malloc(sizeof(*b))) == NULL)
			return NULL;
		b->tokens = r->burst;
		b->at = now;
		if (map_put(&r->m, key, b) != PC_OK) {
			free(b);
			return NULL;
		}
	}
	b->tokens += (now - b->at) * r->per_sec;
	if (b->tokens > r->burst)
		b->tokens = r->burst;
	b->at = now;
	return b;
}

double
rate_wait(struct rate *r, const char *key, double now)
{
	struct bucket *b = bucket(r, key, now);

	if (b == NULL || b->tokens >= 1)
		return 0;
	return (1 - b->tokens) / r->per_sec;
}

double
rate_take(struct rate *r, const char *key, double now)
{
	struct bucket *b = bucket(r, key, now);

	if (b == NULL)
		return 0;	/* out of memory: do not refuse service */
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	return (1 - b->tokens) / r->per_sec;
}

/*
 * rate.c - token-bucket rate limiting over a fixed-size table.
 */
#include "rate.h"

pc_rc
rate_init(struct rate *r, double per_sec, double burst, size_t max_keys)
{
	r->per_sec = per_sec;
	r->burst = burst;
	return ktab_init(&r->t, max_keys);
}

void
rate_free(struct rate *r)
{
	ktab_free(&r->t);
}

/* The key's bucket refilled to now: a = tokens, b = when last seen. */
static struct ktab_ent *
bucket(struct rate *r, const char *key, double now)
{
	struct ktab_ent *b;
	int made;

	if ((b = ktab_get(&r->t, key, &made)) == NULL)
		return NULL;
	if (made)
		b->a = r->burst;
	else if (now > b->b)
		b->a += (now - b->b) * r->per_sec;
	if (b->a > r->burst)
		b->a = r->burst;
	b->b = now;
	return b;
}

double
rate_wait(struct rate *r, const char *key, double now)
{
	struct ktab_ent *b = bucket(r, key, now);

	if (b == NULL || b->a >= 1)
		return 0;
	return (1 - b->a) / r->per_sec;
}

double
rate_take(struct rate *r, const char *key, double now)
{
	struct ktab_ent *b = bucket(r, key, now);

	if (b == NULL)
		return 0;	/* a key too long to track: do not refuse service */
	if (b->a >= 1) {
		b->a -= 1;
		return 0;
	}
	return (1 - b->a) / r->per_sec;
}

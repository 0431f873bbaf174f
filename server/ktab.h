/*
 * ktab.h - a table of short string keys of fixed capacity, for per-client
 * state (rate buckets, connection counts) that clients must not be able
 * to grow without bound or slow down.
 *
 * Every operation is O(1) on average: chained hashing under SipHash-2-4
 * with a random key (chosen at ktab_init), so nobody can choose keys that
 * collide. When the table is full, ktab_get evicts the least recently
 * used entry to make room. The table owns its memory; entries are
 * pointers into it, valid until the next ktab_get of another key or
 * ktab_del.
 */
#ifndef PCMDS_KTAB_H
#define PCMDS_KTAB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define KTAB_KEY_MAX	64	/* bytes of a key, NUL included */

struct ktab_ent {
	char		 key[KTAB_KEY_MAX];
	double		 a, b;		/* the user's values */
	uint32_t	 next;		/* hash chain */
	uint32_t	 older, newer;	/* use order */
};

struct ktab {
	struct ktab_ent	*v;		/* cap entries */
	uint32_t	*heads;		/* nheads chains */
	uint32_t	 cap, n, nheads;
	uint32_t	 used;		/* entries ever used: 1..used */
	uint32_t	 free;		/* of those, deleted ones, through next */
	uint32_t	 oldest, newest;
	uint64_t	 k0, k1;	/* SipHash key */
};

pc_rc	 ktab_init(struct ktab *, size_t cap);
void	 ktab_free(struct ktab *);
/*
 * The entry for key, made (zeroed) when absent; *made says which. NULL
 * when the key is too long or the table could not be allocated. A made
 * entry may have cost the oldest entry its place.
 */
struct ktab_ent	*ktab_get(struct ktab *, const char *key, int *made);
/* The entry for key, or NULL; does not count as a use. */
struct ktab_ent	*ktab_find(const struct ktab *, const char *key);
void	 ktab_del(struct ktab *, struct ktab_ent *);

#endif

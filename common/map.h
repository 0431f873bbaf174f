/*
 * map.h - string keys to pointers, open addressing.
 *
 * The map copies keys and does not own values: whoever put a value in
 * frees it (map_each helps).
 */
#ifndef PCMDS_MAP_H
#define PCMDS_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct map_slot {
	char		*key;
	void		*val;
	uint64_t	 hash;	/* the key's: most probes need no strcmp */
};

struct map {
	struct map_slot	*v;
	size_t		 n;	/* keys held */
	size_t		 cap;	/* slots: a power of two */
};

void	 map_init(struct map *);
void	 map_free(struct map *);
void	*map_get(const struct map *, const char *key);
/* Sets key to val (replacing any value; the old one is not freed). */
pc_rc	 map_put(struct map *, const char *key, void *val);
/* Calls fn for every entry, in no particular order. */
void	 map_each(const struct map *, void (*fn)(const char *, void *, void *),
	    void *arg);

#endif

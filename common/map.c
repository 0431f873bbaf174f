/*
 * map.c - open-addressing hash map with FNV-1a and linear probing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void
map_init(struct map *m)
{
	memset(m, 0, sizeof(*m));
}

void
map_free(struct map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->v[i].key);
	free(m->v);
	map_init(m);
}

/*
 * The slot of key (hashed h), or the empty one it would go in. Keys are
 * compared only when their hashes are equal: the maps hold ids that
 * share no prefix, so strcmp ran once for every slot probed.
 */
static struct map_slot *
find(const struct map *m, const char *key, uint64_t h)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (m->v[i].key == NULL || (m->v[i].hash == h &&
		    strcmp(m->v[i].key, key) == 0))
			return &m->v[i];
}

void *
map_get(const struct map *m, const char *key)
{
	struct map_slot *s = m->cap ? find(m, key, hash(key)) : NULL;

	return s != NULL && s->key != NULL ? s->val : NULL;
}

static pc_rc
grow(struct map *m)
{
	struct map old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 16;
	if ((m->v = calloc(m->cap, sizeof(*m->v))) == NULL) {
		*m = old;
		return PC_ENOMEM;
	}
	m->n = 0;
	for (i = 0; i < old.cap; i++)
		if (old.v[i].key != NULL) {
			*find(m, old.v[i].key, old.v[i].hash) = old.v[i];
			m->n++;
		}
	free(old.v);
	return PC_OK;
}

pc_rc
map_put(struct map *m, const char *key, void *val)
{
	uint64_t h = hash(key);
	struct map_slot *s;

	if ((m->n + 1) * 10 > m->cap * 7 && grow(m) != PC_OK)
		return PC_ENOMEM;
	s = find(m, key, h);
	if (s->key == NULL) {
		if ((s->key = strdup(key)) == NULL)
			return PC_ENOMEM;
		s->hash = h;
		m->n++;
	}
	s->val = val;
	return PC_OK;
}

void
map_each(const struct map *m, void (*fn)(const char *, void *, void *),
    void *arg)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->v[i].key != NULL)
			fn(m->v[i].key, m->v[i].val, arg);
}

/*
 * ktab.c - fixed-capacity keyed table with LRU eviction.
 *
 * Entries live in one array; index 0 is never used, so 0 ends a chain
 * or a list. SipHash-2-4 after Aumasson and Bernstein's reference code.
 */
#include <stdlib.h>
#include <string.h>

#include "ktab.h"
#include "sec.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, in + i, 8);	/* little-endian hosts only matter */
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (; left > 0; left--)
		b |= (uint64_t)in[i + left - 1] << (8 * (left - 1));
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

pc_rc
ktab_init(struct ktab *t, size_t cap)
{
	uint64_t k[2];

	memset(t, 0, sizeof(*t));
	if (cap < 1 || cap > (1u << 24))
		return PC_EINVAL;
	if (sec_random(k, sizeof(k)) != PC_OK)
		return PC_EIO;
	t->k0 = k[0];
	t->k1 = k[1];
	for (t->nheads = 16; t->nheads < cap; t->nheads <<= 1)
		;
	/* calloc, and entries taken in order: pages stay untouched (out of
	 * the resident set) until clients arrive */
	t->v = calloc(cap + 1, sizeof(*t->v));
	t->heads = calloc(t->nheads, sizeof(*t->heads));
	if (t->v == NULL || t->heads == NULL) {
		ktab_free(t);
		return PC_ENOMEM;
	}
	t->cap = (uint32_t)cap;
	return PC_OK;
}

void
ktab_free(struct ktab *t)
{
	free(t->v);
	free(t->heads);
	memset(t, 0, sizeof(*t));
}

static uint32_t *
chain(const struct ktab *t, const char *key, size_t len)
{
	return &t->heads[siphash(t->k0, t->k1, (const unsigned char *)key,
	    len) & (t->nheads - 1)];
}

static void
unlist(struct ktab *t, uint32_t i)
{
	struct ktab_ent *e = &t->v[i];

	if (e->older != 0)
		t->v[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer != 0)
		t->v[e->newer].older = e->older;
	else
		t->newest = e->older;
	e->older = e->newer = 0;
}

static void
list_newest(struct ktab *t, uint32_t i)
{
	t->v[i].older = t->newest;
	t->v[i].newer = 0;
	if (t->newest != 0)
		t->v[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

struct ktab_ent *
ktab_find(const struct ktab *t, const char *key)
{
	size_t len = strlen(key);
	uint32_t i;

	if (t->v == NULL || len >= KTAB_KEY_MAX)
		return NULL;
	for (i = *chain(t, key, len); i != 0; i = t->v[i].next)
		if (strcmp(t->v[i].key, key) == 0)
			return &t->v[i];
	return NULL;
}

void
ktab_del(struct ktab *t, struct ktab_ent *e)
{
	uint32_t i = (uint32_t)(e - t->v), *p;

	for (p = chain(t, e->key, strlen(e->key)); *p != 0 && *p != i;
	    p = &t->v[*p].next)
		;
	if (*p == i)
		*p = e->next;
	unlist(t, i);
	memset(e, 0, sizeof(*e));
	e->next = t->free;
	t->free = i;
	t->n--;
}

struct ktab_ent *
ktab_get(struct ktab *t, const char *key, int *made)
{
	struct ktab_ent *e = ktab_find(t, key);
	size_t len = strlen(key);
	uint32_t i, *head;

	*made = 0;
	if (e != NULL) {
		i = (uint32_t)(e - t->v);
		unlist(t, i);
		list_newest(t, i);
		return e;
	}
	if (t->v == NULL || len >= KTAB_KEY_MAX)
		return NULL;
	if (t->free == 0 && t->used == t->cap)
		ktab_del(t, &t->v[t->oldest]);
	if (t->free != 0) {
		i = t->free;
		t->free = t->v[i].next;
	} else
		i = ++t->used;
	e = &t->v[i];
	memcpy(e->key, key, len + 1);
	head = chain(t, key, len);
	e->next = *head;
	*head = i;
	list_newest(t, i);
	t->n++;
	*made = 1;
	return e;
}

/*
 * jarena.c - bump allocation in chunks, each block behind a 16-byte
 * header (max_align_t's alignment) whose tag says whose it is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jarena.h"

#define JARENA_CHUNK	65536	/* a chunk's room, most of a batch */
#define JARENA_BIG	(JARENA_CHUNK / 4)	/* larger: a chunk of its own */
#define JARENA_ALIGN	16

/* Not sizes glibc could write there, nor equal to each other. */
#define TAG_HEAP	UINT64_C(0x6a68656170b10c5a)
#define TAG_ARENA	UINT64_C(0x6a6172656e61b10c)

struct jarena_chunk {
	struct jarena_chunk	*next;
	size_t			 size;	/* of the room after this header */
	_Alignas(JARENA_ALIGN) char room[];
};

struct head {
	uint64_t	 size;	/* the block's, for the tests' checks */
	uint64_t	 tag;
};

_Static_assert(sizeof(struct head) == JARENA_ALIGN, "header keeps alignment");

static int installed;
static _Thread_local struct jarena *current;

static size_t
round_up(size_t n)
{
	return (n + JARENA_ALIGN - 1) & ~(size_t)(JARENA_ALIGN - 1);
}

/* A new chunk with room for at least need bytes, or NULL. */
static struct jarena_chunk *
chunk_new(struct jarena *a, size_t need)
{
	size_t room = need > JARENA_BIG ? need : JARENA_CHUNK;
	struct jarena_chunk *c = malloc(sizeof(*c) + room);

	if (c == NULL)
		return NULL;
	c->size = room;
	if (need > JARENA_BIG && a->chunks != NULL) {
		/* behind the newest, whose free space stays in use */
		c->next = a->chunks->next;
		a->chunks->next = c;
		return c;
	}
	c->next = a->chunks;
	a->chunks = c;
	a->p = c->room;
	a->end = c->room + room;
	return c;
}

static void *
arena_alloc(struct jarena *a, size_t n)
{
	size_t need;
	struct head *h;
	struct jarena_chunk *c;

	if (n > SIZE_MAX - 2 * JARENA_ALIGN)
		return NULL;
	need = sizeof(*h) + round_up(n);
	if (need > JARENA_BIG) {
		if ((c = chunk_new(a, need)) == NULL)
			return NULL;
		h = (struct head *)(void *)c->room;
	} else {
		if ((size_t)(a->end - a->p) < need &&
		    chunk_new(a, need) == NULL)
			return NULL;
		h = (struct head *)(void *)a->p;
		a->p += need;
	}
	h->size = n;
	h->tag = TAG_ARENA;
	return h + 1;
}

static void *
hook_malloc(size_t n)
{
	struct head *h;

	if (current != NULL)
		return arena_alloc(current, n);
	if (n > SIZE_MAX - sizeof(*h) || (h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	h->size = n;
	h->tag = TAG_HEAP;
	return h + 1;
}

static void
hook_free(void *p)
{
	struct head *h;

	if (p == NULL)
		return;
	h = (struct head *)p - 1;
	if (h->tag == TAG_ARENA)
		return;		/* its arena's, freed with it */
	if (h->tag != TAG_HEAP)
		abort();	/* not the hooks': a free() of cJSON's mixed up */
	h->tag = 0;
	free(h);
}

void
jarena_install(void)
{
	cJSON_Hooks hooks = {hook_malloc, hook_free};

	if (installed)
		return;
	cJSON_InitHooks(&hooks);
	installed = 1;
}

int
jarena_installed(void)
{
	return installed;
}

void
jarena_init(struct jarena *a)
{
	memset(a, 0, sizeof(*a));
}

void
jarena_free(struct jarena *a)
{
	struct jarena_chunk *c, *next;

	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

void
jarena_use(struct jarena *a)
{
	current = installed ? a : NULL;
}

size_t
jarena_size(const struct jarena *a)
{
	const struct jarena_chunk *c;
	size_t n = 0;

	for (c = a->chunks; c != NULL; c = c->next)
		n += c->size;
	return n;
}

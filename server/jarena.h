/*
 * jarena.h - the cJSON trees of a batch's records allocated from arenas
 * the batch owns, freed all at once with it: a record's tree was some
 * forty small allocations, made on a check thread and freed one by one
 * on another after the reply.
 *
 * Once installed, cJSON allocates through hooks that put a tag before
 * each block, so that the free hook tells an arena's block (left to its
 * arena) from the heap's (freed). A thread allocates from an arena only
 * between jarena_use(a) and jarena_use(NULL); elsewhere from the heap.
 * Text cJSON prints is then the hooks' too: freed with cJSON_free, never
 * free(). Not installed (the client, most tests), cJSON is untouched.
 */
#ifndef PCMDS_JARENA_H
#define PCMDS_JARENA_H

#include <stddef.h>

struct jarena_chunk;

struct jarena {
	struct jarena_chunk	*chunks;	/* newest first (owned) */
	char			*p, *end;	/* the newest's free space */
};

/*
 * The hooks, once, before cJSON allocates anything in the process (the
 * first thing in main): a block allocated before would be misread.
 */
void	 jarena_install(void);
int	 jarena_installed(void);

void	 jarena_init(struct jarena *);
/*
 * Frees the arena's memory, with free() (so that a sanitizer sees any
 * later use): every tree allocated from it must be gone before.
 */
void	 jarena_free(struct jarena *);
/* This thread's cJSON allocations from a until jarena_use(NULL). */
void	 jarena_use(struct jarena *a);
/* Bytes the arena holds (for tests). */
size_t	 jarena_size(const struct jarena *);

#endif

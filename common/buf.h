/*
 * buf.h - growable byte buffer, always NUL-terminated (after curl's dynbuf).
 *
 * The struct buf owns its memory; buf_free() releases it. A buffer may be
 * given a maximum size so that input from outside cannot grow it without
 * bound: an append past the limit fails with PC_ELIMIT and leaves the
 * contents as they were.
 */
#ifndef PCMDS_BUF_H
#define PCMDS_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

struct buf {
	char	*p;	/* NUL-terminated when not NULL */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* 0: unlimited */
};

void	 buf_init(struct buf *, size_t max);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
pc_rc	 buf_add(struct buf *, const void *, size_t);
pc_rc	 buf_adds(struct buf *, const char *);
pc_rc	 buf_addc(struct buf *, char);
/* Room for n more bytes, so that the appends that follow do not move it. */
pc_rc	 buf_reserve(struct buf *, size_t n);
pc_rc	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
pc_rc	 buf_vaddf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* The contents, "" when empty; valid until the next change. */
const char *buf_str(const struct buf *);
/* Hands the memory to the caller (to free()); the buffer is left empty. */
char	*buf_detach(struct buf *);

#endif

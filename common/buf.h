/*
 * buf.h - growable byte buffer, always NUL-terminated (after curl's dynbuf).
 *
 * The struct buf owns its memory; buf_free() releases it. A buffer may be
 * given a maximum size so that input from outside cannot grow it without
 * bound.
 *
 * A failed append is sticky, as in curl's dynbuf: the contents are wiped
 * and freed (a half-built text never goes out as if whole) and every
 * later append fails with the same code, until buf_reset() or buf_free()
 * starts the buffer again. So a writer may append without checking each
 * step and check once, with buf_failed(), before using the result. An
 * append past the maximum fails with PC_ELIMIT, out of memory with
 * PC_ENOMEM.
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
	pc_rc	 failed;	/* the first failed append's code, or PC_OK */
};

void	 buf_init(struct buf *, size_t max);
/* Frees the contents; the buffer is empty and usable again. */
void	 buf_free(struct buf *);
/* Empties the buffer, keeping its memory; clears a failure. */
void	 buf_reset(struct buf *);
pc_rc	 buf_add(struct buf *, const void *, size_t);
pc_rc	 buf_adds(struct buf *, const char *);
/* Room for n more bytes, so that the appends that follow do not move it. */
pc_rc	 buf_reserve(struct buf *, size_t n);
pc_rc	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
pc_rc	 buf_vaddf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* PC_OK, or the code of the append that failed (the contents are gone). */
pc_rc	 buf_failed(const struct buf *);
/* The contents, "" when empty or failed; valid until the next change. */
const char *buf_str(const struct buf *);
/*
 * Hands the memory to the caller (to free()); the buffer is left empty.
 * NULL when an append had failed (or no memory for an empty string).
 */
char	*buf_detach(struct buf *);

/*
 * One byte; inline, as canonical text and answers are made mostly of
 * single punctuation bytes (a hundred calls a record).
 */
static inline pc_rc
buf_addc(struct buf *b, char c)
{
	/* the common case: room already, and within the maximum */
	if (1 < b->cap - b->len && (b->max == 0 || b->len < b->max)) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
		return PC_OK;
	}
	return buf_add(b, &c, 1);
}

#endif

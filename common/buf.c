/*
 * buf.c - growable byte buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sec.h"

void
buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = PC_OK;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = PC_OK;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = PC_OK;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/*
 * Every failure ends here: the contents may be part of a secret (a key
 * file read too long), so they are wiped before they are freed.
 */
static pc_rc
buf_fail(struct buf *b, pc_rc rc)
{
	if (b->p != NULL)
		sec_wipe(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = rc;
	return rc;
}

static pc_rc
buf_grow(struct buf *b, size_t need)
{
	size_t ncap;
	char *np;

	if (b->failed != PC_OK)
		return b->failed;
	if (need < b->len || (b->max != 0 && need > b->max))
		return buf_fail(b, PC_ELIMIT);
	if (need + 1 <= b->cap)
		return PC_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1) {
		if (ncap > ((size_t)-1) / 2)
			return buf_fail(b, PC_ENOMEM);
		ncap *= 2;
	}
	if ((np = realloc(b->p, ncap)) == NULL)
		return buf_fail(b, PC_ENOMEM);
	b->p = np;
	b->cap = ncap;
	return PC_OK;
}

pc_rc
buf_add(struct buf *b, const void *data, size_t n)
{
	pc_rc rc;

	/* a failed buffer has cap 0, so it always takes the slow path */
	if (!(n < b->cap - b->len && (b->max == 0 || b->len + n <= b->max)) &&
	    (rc = buf_grow(b, b->len + n)) != PC_OK)
		return rc;
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return PC_OK;
}

pc_rc
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

pc_rc
buf_reserve(struct buf *b, size_t n)
{
	return buf_grow(b, b->len + n);
}

pc_rc
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	pc_rc rc;

	if (b->failed != PC_OK)
		return b->failed;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return buf_fail(b, PC_EUSAGE);
	if ((rc = buf_grow(b, b->len + (size_t)n)) != PC_OK)
		return rc;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return PC_OK;
}

pc_rc
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	pc_rc rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

pc_rc
buf_failed(const struct buf *b)
{
	return b->failed;
}

const char *
buf_str(const struct buf *b)
{
	return b->p != NULL ? b->p : "";
}

char *
buf_detach(struct buf *b)
{
	char *p = b->p;

	if (b->failed != PC_OK)
		p = NULL;
	else if (p == NULL)
		p = calloc(1, 1);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = PC_OK;
	return p;
}

/*
 * popdoc.c - prints docs/population.md (make docs).
 */
#include <stdio.h>

#include "pop.h"

int
main(void)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = pop_markdown(&b) == PC_OK && fwrite(b.p, 1, b.len, stdout) ==
	    b.len ? 0 : 1;
	buf_free(&b);
	return rc;
}

/*
 * exportdoc.c - prints docs/export.md, the evaluators' export columns
 * (make docs).
 */
#include <stdio.h>

#include "export.h"

int
main(void)
{
	struct buf b;

	buf_init(&b, 0);
	if (export_markdown(&b) != PC_OK)
		return 1;
	fputs(buf_str(&b), stdout);
	buf_free(&b);
	return 0;
}

/*
 * datadict.c - prints the pcmds/1 data dictionary (make docs).
 */
#include <stdio.h>

#include "dict.h"

int
main(void)
{
	struct buf b;

	buf_init(&b, 0);
	if (dict_markdown(&b) != PC_OK)
		return 1;
	fputs(buf_str(&b), stdout);
	buf_free(&b);
	return 0;
}

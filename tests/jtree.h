/*
 * jtree.h - cJSON trees compared and described, for the tests and fuzz
 * targets that hold a parser to cJSON's result (jfast).
 */
#ifndef PCMDS_TEST_JTREE_H
#define PCMDS_TEST_JTREE_H

#include <cjson/cJSON.h>

/*
 * NULL when a and b are the same tree: types, values, keys, order and
 * links (prev by position). Else what differs first, and (*at) the node
 * of a where.
 */
const char	*jtree_diff(const cJSON *a, const cJSON *b, const cJSON **at);
/* Of the deepest value under v, v itself 0. */
int		 jtree_depth(const cJSON *v);
/* 1 when no key or string in v has a byte above 0x7f. */
int		 jtree_ascii(const cJSON *v);

#endif

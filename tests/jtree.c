/*
 * jtree.c - cJSON trees compared node for node: a parser that claims to
 * make cJSON's tree must make it link for link, as code walks prev too.
 */
#include <string.h>

#include "jtree.h"

static int
index_of(const cJSON *first, const cJSON *c)
{
	int i = 0;

	for (; first != NULL; first = first->next, i++)
		if (first == c)
			return i;
	return -1;
}

static int
str_differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

const char *
jtree_diff(const cJSON *a, const cJSON *b, const cJSON **at)
{
	const cJSON *x, *y;
	const char *why;

	*at = a;
	if (a->type != b->type || a->valueint != b->valueint ||
	    memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) != 0 ||
	    str_differ(a->string, b->string) ||
	    str_differ(a->valuestring, b->valuestring) ||
	    (a->child == NULL) != (b->child == NULL))
		return "trees differ";
	for (x = a->child, y = b->child; x != NULL && y != NULL;
	    x = x->next, y = y->next) {
		if (index_of(a->child, x->prev) != index_of(b->child, y->prev)) {
			*at = x;
			return "prev links differ";
		}
		if ((why = jtree_diff(x, y, at)) != NULL)
			return why;
	}
	if (x != NULL || y != NULL)
		return "children differ in number";
	return NULL;
}

int
jtree_depth(const cJSON *v)
{
	const cJSON *c;
	int d = 0, k;

	for (c = v->child; c != NULL; c = c->next)
		if ((k = jtree_depth(c) + 1) > d)
			d = k;
	return d;
}

static int
ascii_str(const char *s)
{
	for (; s != NULL && *s; s++)
		if ((unsigned char)*s > 0x7f)
			return 0;
	return 1;
}

int
jtree_ascii(const cJSON *v)
{
	const cJSON *c;

	if (!ascii_str(v->string) || !ascii_str(v->valuestring))
		return 0;
	for (c = v->child; c != NULL; c = c->next)
		if (!jtree_ascii(c))
			return 0;
	return 1;
}

/*
 * fuzz_jfast.c - the quick parse against cJSON, and the record it makes
 * against rec_adopt's.
 *
 * Invariants checked: a text jfast takes, cJSON takes too, whole, into
 * the same tree (types, values, keys, order, links); a text it calls
 * canonical is canon_json of that tree, one it calls ASCII has no byte
 * above 0x7f, its depth is the tree's; rec_adopt_fast says what
 * rec_adopt says, error for error, with the same canonical text and
 * hash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "jfast.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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

static int
same_tree(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if (a->type != b->type || a->valueint != b->valueint ||
	    memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) != 0 ||
	    str_differ(a->string, b->string) ||
	    str_differ(a->valuestring, b->valuestring))
		return 0;
	for (x = a->child, y = b->child; x != NULL && y != NULL;
	    x = x->next, y = y->next)
		if (index_of(a->child, x->prev) != index_of(b->child, y->prev) ||
		    !same_tree(x, y))
			return 0;
	return x == NULL && y == NULL;
}

static int
depth_of(const cJSON *v)
{
	const cJSON *c;
	int d = 0, k;

	for (c = v->child; c != NULL; c = c->next)
		if ((k = depth_of(c) + 1) > d)
			d = k;
	return d;
}

static int
ascii_tree(const cJSON *v)
{
	const char *s;
	const cJSON *c;

	for (s = v->string; s != NULL && *s; s++)
		if ((unsigned char)*s > 0x7f)
			return 0;
	for (s = v->valuestring; s != NULL && *s; s++)
		if ((unsigned char)*s > 0x7f)
			return 0;
	for (c = v->child; c != NULL; c = c->next)
		if (!ascii_tree(c))
			return 0;
	return 1;
}

/* The two records the same outcome, or abort. */
static void
same_record(const char *text, size_t len, cJSON *fast,
    const struct jfast_info *info)
{
	struct rec_opts o;
	struct err_list e1, e2;
	struct rec *r1 = NULL, *r2 = NULL;
	cJSON *slow = cJSON_ParseWithLength(text, len);
	pc_rc rc1, rc2;
	size_t i;

	o.today = date_from_ymd(2026, 11, 22);
	err_init(&e1);
	err_init(&e2);
	if (slow == NULL)
		abort();
	rc1 = rec_adopt(slow, &o, &r1, &e1);
	rc2 = rec_adopt_fast(fast, info, text, len, &o, &r2, &e2);
	if (rc1 != rc2 || e1.n != e2.n)
		abort();
	for (i = 0; i < e1.n; i++)
		if (e1.v[i].code != e2.v[i].code ||
		    strcmp(e1.v[i].field, e2.v[i].field) != 0 ||
		    strcmp(e1.v[i].msg, e2.v[i].msg) != 0)
			abort();
	if (rc1 == PC_OK && (r1->canon_len != r2->canon_len ||
	    memcmp(r1->canon, r2->canon, r1->canon_len) != 0 ||
	    strcmp(r1->hash, r2->hash) != 0))
		abort();
	rec_free(r1);
	rec_free(r2);
	err_free(&e1);
	err_free(&e2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = NULL;
	struct jfast_info info;
	cJSON *fast, *slow;
	struct buf b;

	if ((fast = jfast_parse(text, size, &info)) == NULL)
		return 0;
	slow = cJSON_ParseWithLengthOpts(text, size, &end, 0);
	if (slow == NULL || end != text + size || !same_tree(fast, slow) ||
	    info.depth != depth_of(slow) || (info.ascii && !ascii_tree(slow)))
		abort();
	if (info.canonical) {
		buf_init(&b, 0);
		if (canon_json(slow, &b) != PC_OK || b.len != size ||
		    memcmp(b.p, text, size) != 0)
			abort();
		buf_free(&b);
	}
	cJSON_Delete(slow);
	if (size <= REC_JSON_MAX)
		same_record(text, size, fast, &info);
	else
		cJSON_Delete(fast);
	return 0;
}

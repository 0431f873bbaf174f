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
#include "jtree.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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
	const cJSON *at;
	struct buf b;

	if ((fast = jfast_parse(text, size, &info)) == NULL)
		return 0;
	slow = cJSON_ParseWithLengthOpts(text, size, &end, 0);
	if (slow == NULL || end != text + size ||
	    jtree_diff(fast, slow, &at) != NULL ||
	    info.depth != jtree_depth(slow) ||
	    (info.ascii && !jtree_ascii(slow)))
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

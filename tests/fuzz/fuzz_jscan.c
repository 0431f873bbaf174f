/*
 * fuzz_jscan.c - the one-pass reading of top-level members against
 * cJSON's tree of the same text.
 *
 * Invariants checked, for each list of names (the export's, the sync's,
 * and one of names that start others or sort at the ends): when
 * jscan_members takes a text cJSON takes whole, the text is one object,
 * every member found is cJSON's member of that name, and the span is
 * that value's whole text (it parses alone, to an equal value); a member
 * not found is not in the tree; jscan_string, when it takes a string,
 * gives cJSON's valuestring, and needs room for exactly it.
 *
 * Not checked: that a text jscan takes is JSON. It reads the top level's
 * shape, not the grammar of values ({"a":x} is taken): its callers read
 * stored text, which was validated before it was stored.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* server/export.c's and client/sync.c's, as they ask. */
static const char *const export_names[] = {"device_seq", "id", "kind",
    "person", "recorded_at", "referral", "target", "worker"};
static const char *const sync_names[] = {"place", "worker"};
/* Sorted by their bytes: "" first, a name before the ones it starts. */
static const char *const other_names[] = {"", "a", "age", "i", "id", "ida",
    "place", "reasons", "set", "void", "z", "\x7f", "\xc3\xa9"};

#define NMAX	16

/*
 * The value v spans, parsed alone: the same as m, or abort. Compared as
 * printed, in order: cJSON_Compare finds an object with a key twice
 * unequal to itself.
 */
static void
same_value(const struct jscan_span *v, const cJSON *m)
{
	const char *end = NULL;
	cJSON *alone;
	char *s, *a, *b;

	alone = cJSON_ParseWithLengthOpts(v->p, v->len, &end, 0);
	if (alone == NULL || end != v->p + v->len)
		abort();
	a = cJSON_PrintUnformatted(alone);
	b = cJSON_PrintUnformatted(m);
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		abort();
	cJSON_free(a);
	cJSON_free(b);
	cJSON_Delete(alone);
	if ((s = malloc(v->len)) == NULL)
		abort();
	if (jscan_string(v, s, v->len) == PC_OK) {
		/* it takes only a string, unescaped, that fits with its NUL */
		if (!cJSON_IsString(m) || strcmp(s, m->valuestring) != 0 ||
		    memchr(v->p, '\\', v->len) != NULL)
			abort();
		if (jscan_string(v, s, v->len - 2) != PC_EINVAL)
			abort();
	} else if (cJSON_IsString(m) && memchr(v->p, '\\', v->len) == NULL)
		abort();
	free(s);
}

static void
check(const char *text, size_t size, const cJSON *tree, const char *end,
    const char *const *names, size_t n)
{
	struct jscan_span f[NMAX];
	const cJSON *m;
	size_t i;

	if (jscan_members(text, size, names, n, f) != PC_OK)
		return;
	if (tree == NULL)
		return;	/* not JSON: the grammar of values is not read */
	if (end != text + size || !cJSON_IsObject(tree))
		abort();	/* more after it, or not an object */
	for (i = 0; i < n; i++) {
		m = cJSON_GetObjectItemCaseSensitive(tree, names[i]);
		if (f[i].len == 0) {
			if (m != NULL || f[i].p != NULL)
				abort();
			continue;
		}
		if (m == NULL || f[i].p < text ||
		    f[i].p + f[i].len > text + size)
			abort();
		same_value(&f[i], m);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = NULL;
	cJSON *tree;

	tree = cJSON_ParseWithLengthOpts(text, size, &end, 0);
	check(text, size, tree, end, export_names,
	    sizeof(export_names) / sizeof(export_names[0]));
	check(text, size, tree, end, sync_names,
	    sizeof(sync_names) / sizeof(sync_names[0]));
	check(text, size, tree, end, other_names,
	    sizeof(other_names) / sizeof(other_names[0]));
	cJSON_Delete(tree);
	return 0;
}

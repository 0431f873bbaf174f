/*
 * test_map.c - the string map (map.c): every key found again through
 * its growth, replaced in place, misses missed, and each slot holding
 * its key's hash, which lookups compare before the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "map.h"

#define KEYS	5000

/* FNV-1a, as map.c hashes */
static uint64_t
fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
key(char *k, size_t size, int i)
{
	snprintf(k, size, "00000000-0000-4000-8000-%012d", i);
}

static void
count(const char *k, void *val, void *arg)
{
	(void)k;
	(void)val;
	(*(int *)arg)++;
}

static void
test_keys_found(void **state)
{
	static int vals[KEYS];
	struct map m;
	char k[64];
	size_t s;
	int i, n = 0;

	(void)state;
	map_init(&m);
	assert_null(map_get(&m, "absent"));
	for (i = 0; i < KEYS; i++) {
		key(k, sizeof(k), i);
		assert_int_equal(map_put(&m, k, &vals[i]), PC_OK);
	}
	/* replaced, not added */
	key(k, sizeof(k), 7);
	assert_int_equal(map_put(&m, k, &vals[8]), PC_OK);
	assert_int_equal(m.n, KEYS);
	for (i = 0; i < KEYS; i++) {
		key(k, sizeof(k), i);
		assert_ptr_equal(map_get(&m, k), &vals[i == 7 ? 8 : i]);
		key(k, sizeof(k), KEYS + i);
		assert_null(map_get(&m, k));
	}
	assert_null(map_get(&m, ""));
	map_each(&m, count, &n);
	assert_int_equal(n, KEYS);
	for (s = 0; s < m.cap; s++)
		if (m.v[s].key != NULL)
			assert_true(m.v[s].hash == fnv(m.v[s].key));
	map_free(&m);
	assert_null(map_get(&m, "00000000-0000-4000-8000-000000000001"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_found),
	};

	return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}

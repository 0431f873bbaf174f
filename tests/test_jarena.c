/*
 * test_jarena.c - cJSON trees from arenas: blocks of every size are
 * aligned and apart, trees parsed on several threads each into its own
 * arena read back as their text, the heap's blocks outside an arena are
 * still freed one by one, and a batch's trees live until it is freed.
 *
 * The hooks are installed first, as pcmdsd does, before cJSON allocates.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ingest.h"
#include "jarena.h"

#define NTHREADS	3
#define NDOCS		40

/* One block of each size from 0 to past a chunk, every one kept. */
static void
test_sizes(void **state)
{
	static const size_t sizes[] = {0, 1, 7, 15, 16, 17, 31, 48, 63, 64,
	    65, 200, 1000, 4095, 4096, 16367, 16368, 16369, 16384, 40000,
	    65535, 65536, 65537, 200000};
	size_t n = sizeof(sizes) / sizeof(sizes[0]), i, k, room = 0;
	unsigned char *p[sizeof(sizes) / sizeof(sizes[0]) * 3];
	struct jarena a;

	(void)state;
	jarena_init(&a);
	jarena_use(&a);
	for (k = 0; k < 3; k++)
		for (i = 0; i < n; i++) {
			p[k * n + i] = cJSON_malloc(sizes[i]);
			assert_non_null(p[k * n + i]);
			assert_int_equal((uintptr_t)p[k * n + i] % 16, 0);
			memset(p[k * n + i], (int)(k * n + i), sizes[i]);
			room += sizes[i];
		}
	jarena_use(NULL);
	assert_true(jarena_size(&a) >= room);
	/* no block overlaps another: each still holds its own byte */
	for (i = 0; i < 3 * n; i++) {
		for (k = 0; k < sizes[i % n]; k++)
			if (p[i][k] != (unsigned char)i)
				fail_msg("block %zu of %zu bytes overwritten at %zu",
				    i, sizes[i % n], k);
		cJSON_free(p[i]);	/* the arena's: left to it */
	}
	jarena_free(&a);
	assert_int_equal(jarena_size(&a), 0);
	/* outside an arena: the heap's, each freed (a leak otherwise) */
	for (i = 0; i < n; i++) {
		unsigned char *h = cJSON_malloc(sizes[i]);

		assert_non_null(h);
		memset(h, 0xa5, sizes[i]);
		cJSON_free(h);
	}
	assert_int_equal(jarena_size(&a), 0);
}

/* A document with strings of many lengths, some past a chunk. */
static char *
doc_text(int seed, int k)
{
	size_t len = (size_t)((seed * 7919 + k * 104729) % 70000);
	char *s, *t = malloc(len + 256);
	size_t i;

	assert_non_null(t);
	s = malloc(len + 1);
	assert_non_null(s);
	for (i = 0; i < len; i++)
		s[i] = (char)('a' + (i + (size_t)k) % 26);
	s[len] = '\0';
	snprintf(t, len + 256, "{\"id\":%d,\"k\":%d,\"s\":\"%s\",\"a\":[1,"
	    "\"x\",{\"y\":null}],\"t\":true}", seed, k, s);
	free(s);
	return t;
}

struct share {
	struct jarena	 arena;
	int		 seed;
	cJSON		*tree[NDOCS];
	pthread_t	 th;
};

static void *
parse_share(void *arg)
{
	struct share *sh = arg;
	int k;

	jarena_use(&sh->arena);
	for (k = 0; k < NDOCS; k++) {
		char *t = doc_text(sh->seed, k);

		sh->tree[k] = cJSON_Parse(t);
		free(t);
	}
	jarena_use(NULL);
	return NULL;
}

/* Parsed on their threads, read and deleted on this one, freed after. */
static void
test_threads(void **state)
{
	struct share sh[NTHREADS];
	int i, k;

	(void)state;
	for (i = 0; i < NTHREADS; i++) {
		jarena_init(&sh[i].arena);
		sh[i].seed = i + 1;
		assert_int_equal(pthread_create(&sh[i].th, NULL, parse_share,
		    &sh[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(sh[i].th, NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		assert_true(jarena_size(&sh[i].arena) > 0);
		for (k = 0; k < NDOCS; k++) {
			char *want = doc_text(sh[i].seed, k);
			char *got;

			assert_non_null(sh[i].tree[k]);
			/* printed here, outside an arena: the heap's */
			got = cJSON_PrintUnformatted(sh[i].tree[k]);
			assert_non_null(got);
			assert_string_equal(got, want);
			cJSON_free(got);
			free(want);
			cJSON_Delete(sh[i].tree[k]);
		}
		jarena_free(&sh[i].arena);
	}
}

/*
 * A batch parsed from its text, its trees (a valid record's and invalid
 * ones) in its arenas until ingest_free, which frees the records first.
 */
static void
test_batch(void **state)
{
	static const char body[] = "{\"records\":[{\"attended\":true,"
	    "\"contact_on\":\"2026-03-03\",\"device_seq\":7,\"id\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"kind\":\"contact\","
	    "\"minutes\":45,\"mode\":\"home_visit\",\"pcn\":\"U12345\","
	    "\"place\":\"BD\",\"recorded_at\":\"2026-03-02T10:15:00Z\","
	    "\"referral\":\"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f\","
	    "\"schema\":\"pcmds/1\",\"worker\":\"lw-bd.01\"},"
	    "{\"schema\":\"pcmds/1\"},[1,2,\"three\"],"
	    "{\"id\":\"not a uuid\",\"kind\":\"contact\"},"
	    "{\"nested\":{\"deeper\":[{\"x\":\"yyyyyyyyyyyyyyyyyyyyyyyy\"}]}}]}";
	struct jsplit_span *v;
	struct rec_opts ro;
	struct ingest in;
	size_t n, i;

	(void)state;
	ro.today = date_from_ymd(2026, 11, 22);
	assert_int_equal(jsplit_records(body, sizeof(body) - 1, &v, &n),
	    PC_OK);
	assert_int_equal(n, 5);
	ingest_init(&in);
	assert_int_equal(ingest_check_text(&in, v, n, &ro), PC_OK);
	assert_true(jarena_size(&in.arenas[0]) > 0);
	assert_int_equal(in.v[0].checked, PC_OK);
	assert_non_null(in.v[0].rec);
	assert_string_equal(rec_str(in.v[0].rec->json, "mode"), "home_visit");
	for (i = 1; i < n; i++) {
		assert_int_equal(in.v[i].checked, PC_EINVAL);
		assert_true(in.v[i].errs.n > 0);
	}
	ingest_free(&in);
	assert_int_equal(jarena_size(&in.arenas[0]), 0);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_batch),
	};

	jarena_install();
	assert_true(jarena_installed());
	return cmocka_run_group_tests_name("jarena", tests, NULL, NULL);
}

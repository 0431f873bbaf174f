/*
 * test_rate.c - token buckets in a table of fixed size: many keys never
 * grow it past max_keys (the one used longest ago is forgotten), buckets
 * refill with time as given, and the keyed table finds every key.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ktab.h"
#include "rate.h"

static void
test_bounded(void **state)
{
	struct rate r;
	char key[32];
	int i;

	(void)state;
	assert_int_equal(rate_init(&r, 1.0 / 60, 2, 100), PC_OK);
	/* 10,000 clients, each with an attempt counted (none refilled) */
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
		assert_true(rate_take(&r, key, 1000.0) == 0);
		assert_true(r.t.n <= 100);
	}
	assert_int_equal(r.t.n, 100);
	/* the last 100 are remembered: a second and third attempt each */
	for (i = 9900; i < 10000; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
		assert_true(rate_take(&r, key, 1000.0) == 0);
		assert_true(rate_take(&r, key, 1000.0) > 0);
	}
	/* the oldest was forgotten and starts again full */
	assert_true(rate_take(&r, "10.0.0.0", 1000.0) == 0);
	assert_true(rate_take(&r, "10.0.0.0", 1000.0) == 0);
	assert_true(rate_take(&r, "10.0.0.0", 1000.0) > 0);
	rate_free(&r);
}

static void
test_refill(void **state)
{
	struct rate r;

	(void)state;
	assert_int_equal(rate_init(&r, 0.5, 3, 16), PC_OK);
	assert_true(rate_take(&r, "a", 10.0) == 0);
	assert_true(rate_take(&r, "a", 10.0) == 0);
	assert_true(rate_take(&r, "a", 10.0) == 0);
	assert_float_equal(rate_take(&r, "a", 10.0), 2.0, 1e-9);
	assert_float_equal(rate_wait(&r, "a", 11.0), 1.0, 1e-9);
	assert_true(rate_take(&r, "a", 12.0) == 0);
	/* time going backwards (it cannot on the monotonic clock) adds none */
	assert_true(rate_wait(&r, "a", 5.0) > 0);
	/* never more than the burst after a long wait */
	assert_true(rate_take(&r, "a", 1e6) == 0);
	assert_true(rate_take(&r, "a", 1e6) == 0);
	assert_true(rate_take(&r, "a", 1e6) == 0);
	assert_true(rate_take(&r, "a", 1e6) > 0);
	rate_free(&r);
}

static void
test_table(void **state)
{
	struct ktab t;
	struct ktab_ent *e;
	char key[KTAB_KEY_MAX + 8];
	int i, made;

	(void)state;
	assert_int_equal(ktab_init(&t, 1000), PC_OK);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_non_null(e = ktab_get(&t, key, &made));
		assert_true(made);
		e->a = i;
	}
	for (i = 0; i < 1000; i += 2) {
		snprintf(key, sizeof(key), "k%d", i);
		ktab_del(&t, ktab_find(&t, key));
	}
	assert_int_equal(t.n, 500);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		e = ktab_find(&t, key);
		if (i % 2)
			assert_true(e != NULL && e->a == i);
		else
			assert_null(e);
	}
	/* a key too long to hold is not held */
	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_null(ktab_get(&t, key, &made));
	ktab_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_refill),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests_name("rate", tests, NULL, NULL);
}

/*
 * test_fuzz_corpus.c - every input in tests/fuzz/corpus (the seeds, and
 * every input a fuzzer ever crashed on) through its target, in this
 * build: a crash found once stays fixed.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void
replay(const char *target)
{
	char exe[512], dir[512];
	struct th_run r;
	const char *argv[] = {exe, dir, NULL};

	snprintf(exe, sizeof(exe), "%s/fuzz/%s-replay", th_build(), target);
	snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", target);
	th_exec(&r, argv, NULL, NULL);
	if (r.status != 0)
		fail_msg("%s crashed on its corpus (%d):\n%s%s", target, r.status,
		    r.out, r.err);
	assert_non_null(strstr(r.out, "inputs replayed"));
	assert_int_not_equal(strncmp(r.out, "0 inputs", 8), 0);
	th_run_free(&r);
}

static void
test_record(void **state)
{
	(void)state;
	replay("fuzz_record");
}

static void
test_csv(void **state)
{
	(void)state;
	replay("fuzz_csv");
}

static void
test_batch(void **state)
{
	(void)state;
	replay("fuzz_batch");
}

static void
test_config(void **state)
{
	(void)state;
	replay("fuzz_config");
}

static void
test_edge(void **state)
{
	(void)state;
	replay("fuzz_edge");
}

static void
test_jfast(void **state)
{
	(void)state;
	replay("fuzz_jfast");
}

static void
test_jscan(void **state)
{
	(void)state;
	replay("fuzz_jscan");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_jfast),
		cmocka_unit_test(test_jscan),
	};

	return cmocka_run_group_tests_name("fuzz_corpus", tests, NULL, NULL);
}

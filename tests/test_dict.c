/*
 * test_dict.c - docs/data-set.md must be what the code lists say.
 */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "harness.h"

static void
test_matches_code(void **state)
{
	struct buf b;
	char *doc;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(dict_markdown(&b), PC_OK);
	doc = th_slurp("docs/data-set.md", NULL);
	if (doc == NULL)
		fail_msg("docs/data-set.md is missing: run make docs");
	if (strcmp(doc, buf_str(&b)) != 0)
		fail_msg("docs/data-set.md differs from the code lists: run "
		    "make docs and review the change");
	/* spot checks that the generator covers the whole data set */
	assert_non_null(strstr(doc, "`consent_evaluation`"));
	assert_non_null(strstr(doc, "871731000000106"));
	assert_non_null(strstr(doc, "| `anxious` | On a scale where 0"));
	assert_non_null(strstr(doc, "| `99` | Not known (not asked) |"));
	free(doc);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_code),
	};

	return cmocka_run_group_tests_name("dict", tests, NULL, NULL);
}

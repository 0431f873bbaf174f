/*
 * test_opt.c - command-line parsing.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "opt.h"

static const struct opt_spec spec[] = {
	{"age", OPT_VALUE, "N", "age"},
	{"declined", OPT_FLAG, NULL, "declined"},
	{"carer", OPT_TOGGLE, NULL, "carer"},
	{"no-nhs-number", OPT_FLAG, NULL, "none"},
	{"set", OPT_LIST, "F=V", "set"},
	{NULL, 0, NULL, NULL},
};

static pc_rc
parse(struct opt_result *r, struct err_list *errs, int min, int max, ...)
{
	char *argv[32];
	va_list ap;
	int n = 0;

	va_start(ap, max);
	while ((argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	return opt_parse(spec, min, max, n, argv, r, errs);
}

static void
test_parse(void **state)
{
	struct opt_result r;
	struct err_list errs;

	(void)state;
	err_init(&errs);
	assert_int_equal(parse(&r, &errs, 1, 1, "abc", "--age", "5",
	    "--carer", "--set", "a=1", "--set=b=2", "--declined", NULL), PC_OK);
	assert_string_equal(opt_get(&r, "age"), "5");
	assert_string_equal(opt_get(&r, "carer"), "yes");
	assert_string_equal(opt_get(&r, "declined"), "yes");
	assert_int_equal(r.nlist, 2);
	assert_string_equal(r.list[1], "b=2");
	assert_string_equal(r.pos[0], "abc");
	assert_null(opt_get(&r, "no-nhs-number"));
	assert_int_equal(parse(&r, &errs, 0, 1, "--no-carer", "--age=7",
	    "--no-nhs-number", NULL), PC_OK);
	assert_string_equal(opt_get(&r, "carer"), "no");
	assert_string_equal(opt_get(&r, "age"), "7");
	assert_true(opt_has(&r, "no-nhs-number"));
	assert_int_equal(parse(&r, &errs, 0, 1, "--carer=unknown", NULL),
	    PC_OK);
	assert_string_equal(opt_get(&r, "carer"), "unknown");
	assert_int_equal(parse(&r, &errs, 0, 2, "--", "--age", NULL), PC_OK);
	assert_string_equal(r.pos[0], "--age");
	assert_int_equal(parse(&r, &errs, 0, 0, "--help", "--bogus", NULL),
	    PC_OK);
	assert_true(r.help);
	assert_int_equal(errs.n, 0);
	err_free(&errs);
}

static void
test_errors(void **state)
{
	struct opt_result r;
	struct err_list errs;

	(void)state;
	err_init(&errs);
	assert_int_equal(parse(&r, &errs, 0, 0, "--bogus", NULL), PC_EUSAGE);
	assert_int_equal(parse(&r, &errs, 0, 0, "--age", NULL), PC_EUSAGE);
	assert_int_equal(parse(&r, &errs, 0, 0, "--declined=yes", NULL),
	    PC_EUSAGE);
	assert_int_equal(parse(&r, &errs, 0, 0, "--no-age", NULL), PC_EUSAGE);
	assert_int_equal(parse(&r, &errs, 0, 0, "--no-carer=yes", NULL),
	    PC_EUSAGE);
	assert_int_equal(parse(&r, &errs, 0, 0, "-a", NULL), PC_EUSAGE);
	assert_int_equal(parse(&r, &errs, 1, 1, NULL), PC_EUSAGE);
	assert_int_equal(parse(&r, &errs, 0, 1, "a", "b", NULL), PC_EUSAGE);
	assert_int_equal(errs.n, 8);
	assert_string_equal(errs.v[0].msg, "unknown option --bogus");
	assert_string_equal(errs.v[1].msg, "--age needs a value (N)");
	err_free(&errs);
}

/*
 * A number is the whole value, in range, whole when asked: "12abc",
 * "", "nan", "inf", 1.5 for a whole one and values out of range are
 * refused, keeping the default in *out; not given, the default.
 */
static void
test_number(void **state)
{
	static const char *const bad[] = {"12abc", "", "abc", " ", "nan",
	    "inf", "-1", "101", "1.5", "1e400", "0x"};
	struct opt_result r;
	struct err_list errs;
	double d;
	size_t i;
	char arg[32];

	(void)state;
	err_init(&errs);
	assert_int_equal(parse(&r, &errs, 0, 0, NULL), PC_OK);
	assert_int_equal(opt_number(&r, "age", 0, 100, 1, 42, &d), 0);
	assert_true(d == 42);
	assert_int_equal(parse(&r, &errs, 0, 0, "--age", "17", NULL), PC_OK);
	assert_int_equal(opt_number(&r, "age", 0, 100, 1, 42, &d), 0);
	assert_true(d == 17);
	assert_int_equal(parse(&r, &errs, 0, 0, "--age=2.5", NULL), PC_OK);
	assert_int_equal(opt_number(&r, "age", 0, 100, 0, 42, &d), 0);
	assert_true(d == 2.5);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(arg, sizeof(arg), "--age=%s", bad[i]);
		assert_int_equal(parse(&r, &errs, 0, 0, arg, NULL), PC_OK);
		if (opt_number(&r, "age", 0, 100, 1, 42, &d) != -1)
			fail_msg("\"%s\" taken as %g", bad[i], d);
		assert_true(d == 42);
	}
	err_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_number),
	};

	return cmocka_run_group_tests_name("opt", tests, NULL, NULL);
}

/*
 * test_kv.c - configuration files: good, bad, and where the error is.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "kv.h"

struct seen {
	char	 keys[8][32];
	char	 vals[8][64];
	int	 n;
};

static pc_rc
cb(void *arg, const char *key, const char *val, struct err_list *errs)
{
	struct seen *s = arg;

	if (strcmp(key, "port") == 0 && strspn(val, "0123456789") !=
	    strlen(val)) {
		err_add(errs, E_RANGE, key, "port must be a number");
		return PC_EINVAL;
	}
	if (strcmp(key, "port") != 0 && strcmp(key, "name") != 0) {
		err_add(errs, E_UNKNOWN_FIELD, key, "unknown setting %s", key);
		return PC_EINVAL;
	}
	snprintf(s->keys[s->n], 32, "%s", key);
	snprintf(s->vals[s->n++], 64, "%s", val);
	return PC_OK;
}

static void
test_parse(void **state)
{
	static const char good[] = "# comment\n\n  port = 8443  \r\n"
	    "name=a = b\n";
	static const char bad[] = "port = 1\nnonsense\ncolour = red\n"
	    "port = x\n = 3\n";
	struct seen s = {0};
	struct err_list errs;
	const char *dir = th_tmpdir();

	(void)state;
	err_init(&errs);
	assert_int_equal(kv_parse(good, strlen(good), "t.conf", cb, &s, &errs),
	    PC_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "port");
	assert_string_equal(s.vals[0], "8443");
	assert_string_equal(s.vals[1], "a = b");
	assert_int_equal(kv_parse(bad, strlen(bad), "t.conf", cb, &s, &errs),
	    PC_EINVAL);
	assert_int_equal(errs.n, 4);
	assert_string_equal(errs.v[0].field, "t.conf:2");
	assert_string_equal(errs.v[0].msg, "line 2: expected key = value");
	assert_string_equal(errs.v[1].field, "t.conf:3");
	assert_string_equal(errs.v[1].msg, "line 3: unknown setting colour");
	assert_string_equal(errs.v[2].msg, "line 4: port must be a number");
	assert_string_equal(errs.v[3].field, "t.conf:5");
	err_clear(&errs);
	th_write(th_path(dir, "c.conf"), "port = 9\n");
	assert_int_equal(kv_parse_file(th_path(dir, "c.conf"), cb, &s, &errs),
	    PC_OK);
	assert_int_equal(kv_parse_file(th_path(dir, "missing.conf"), cb, &s,
	    &errs), PC_ENOTFOUND);
	err_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests_name("kv", tests, NULL, NULL);
}

/*
 * test_secret.c - the server secret: made once, read only from a private
 * file, and one derived key per purpose.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "sec.h"
#include "secret.h"

static void
test_create_load(void **state)
{
	const char *path = th_path(th_tmpdir(), "secret.key");
	struct secret a, b;
	struct err_list errs;
	struct stat st;

	(void)state;
	err_init(&errs);
	assert_int_equal(secret_create(path, &errs), PC_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(secret_load(path, &a, &errs), PC_OK);
	assert_int_equal(secret_load(path, &b, &errs), PC_OK);
	assert_memory_equal(a.k, b.k, SECRET_LEN);
	/* never replaced: a new secret would break every join */
	assert_int_equal(secret_create(path, &errs), PC_EINVAL);
	assert_non_null(strstr(errs.v[0].msg, "never replaced"));
	assert_int_equal(secret_load(path, &b, &errs), PC_OK);
	assert_memory_equal(a.k, b.k, SECRET_LEN);
	err_free(&errs);
}

static void
test_refused(void **state)
{
	const char *dir = th_tmpdir();
	const char *open_file = th_path(dir, "open.key");
	const char *bad = th_path(dir, "bad.key");
	struct secret s;
	struct err_list errs;

	(void)state;
	err_init(&errs);
	assert_int_equal(secret_load("", &s, &errs), PC_EUSAGE);
	assert_non_null(strstr(errs.v[0].msg, "no secret_file"));
	err_clear(&errs);
	assert_int_equal(secret_load(th_path(dir, "absent.key"), &s, &errs),
	    PC_ENOTFOUND);
	err_clear(&errs);
	assert_int_equal(secret_create(open_file, &errs), PC_OK);
	assert_int_equal(chmod(open_file, 0644), 0);
	assert_int_equal(secret_load(open_file, &s, &errs), PC_EINVAL);
	assert_non_null(strstr(errs.v[0].msg, "chmod 0600"));
	err_clear(&errs);
	th_write(bad, "not a secret\n");
	assert_int_equal(chmod(bad, 0600), 0);
	assert_int_equal(secret_load(bad, &s, &errs), PC_EINVAL);
	assert_non_null(strstr(errs.v[0].msg, "64 hex digits"));
	err_free(&errs);
}

static void
test_derive(void **state)
{
	struct secret s;
	uint8_t a[SECRET_LEN], b[SECRET_LEN];
	char hex[SEC_HEX64_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < SECRET_LEN; i++)
		s.k[i] = (uint8_t)i;
	assert_int_equal(secret_derive(&s, SECRET_AUDIT, a), PC_OK);
	sec_hex(a, sizeof(a), hex);
	/* Python 3: hmac.new(bytes(range(32)), b"pcmds/1 audit chain",
	   hashlib.sha256).hexdigest() */
	assert_string_equal(hex, "30da1b803e09399b3c9d6a9d5c2e606c23b37b33cba4a83c5bb6c32dc1e1be25");
	assert_int_equal(secret_derive(&s, SECRET_RECIPIENT, b), PC_OK);
	assert_memory_not_equal(a, b, SECRET_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_load),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_derive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

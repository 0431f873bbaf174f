/*
 * test_passwd.c - dashboard passwords: the rules, scrypt through
 * OpenSSL's EVP_KDF, and their storage.
 *
 * Reference: RFC 7914, section 12, the scrypt test vector with password
 * "password", salt "NaCl", N = 1024, r = 8, p = 16, 64 bytes out:
 * fd ba be 1c 9d 34 72 00 78 56 e7 19 0d 01 e9 fe 7c 6a d7 cb c8 23 78 30
 * e7 73 76 63 4b 37 31 62 2e af 30 d9 2e 22 a3 88 6f f1 09 27 9d 98 30 da
 * c7 27 af b9 4a 83 ee 6d 83 60 cb df a2 cc 06 40 (checked through
 * passwd_verify with the stored form built from it).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "passwd.h"
#include "sec.h"
#include "store.h"

static void
test_rules(void **state)
{
	char longpw[PASSWD_MAX + 2];

	(void)state;
	assert_non_null(passwd_problem("short"));
	assert_non_null(passwd_problem("elevenchars"));
	assert_null(passwd_problem("twelve chars"));
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_non_null(passwd_problem(longpw));
	assert_non_null(passwd_problem("a password with\ta tab"));
}

static void
test_rfc7914_vector(void **state)
{
	static const uint8_t want[64] = {
		0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00, 0x78, 0x56,
		0xe7, 0x19, 0x0d, 0x01, 0xe9, 0xfe, 0x7c, 0x6a, 0xd7, 0xcb,
		0xc8, 0x23, 0x78, 0x30, 0xe7, 0x73, 0x76, 0x63, 0x4b, 0x37,
		0x31, 0x62, 0x2e, 0xaf, 0x30, 0xd9, 0x2e, 0x22, 0xa3, 0x88,
		0x6f, 0xf1, 0x09, 0x27, 0x9d, 0x98, 0x30, 0xda, 0xc7, 0x27,
		0xaf, 0xb9, 0x4a, 0x83, 0xee, 0x6d, 0x83, 0x60, 0xcb, 0xdf,
		0xa2, 0xcc, 0x06, 0x40,
	};
	char salt[16], key[100], stored[PASSWD_LEN];

	(void)state;
	sec_b64url((const uint8_t *)"NaCl", 4, salt);
	sec_b64url(want, sizeof(want), key);
	snprintf(stored, sizeof(stored), "scrypt$1024$8$16$%s$%s", salt, key);
	assert_int_equal(passwd_verify("password", stored), 1);
	assert_int_equal(passwd_verify("Password", stored), 0);
}

static void
test_hash_and_verify(void **state)
{
	char a[PASSWD_LEN], b[PASSWD_LEN];

	(void)state;
	assert_int_equal(passwd_hash("correct horse battery", a), PC_OK);
	assert_int_equal(passwd_hash("correct horse battery", b), PC_OK);
	assert_true(strncmp(a, "scrypt$32768$8$1$", 17) == 0);
	assert_string_not_equal(a, b);		/* salted */
	assert_int_equal(passwd_verify("correct horse battery", a), 1);
	assert_int_equal(passwd_verify("correct horse batterY", a), 0);
	assert_int_equal(passwd_verify("x", "scrypt$3$8$1$AAAA$AAAA"), -1);
	assert_int_equal(passwd_verify("x", "md5$whatever"), -1);
	assert_int_equal(passwd_verify("x", ""), -1);
}

static void
test_stored(void **state)
{
	struct err_list errs;
	struct store *st;
	struct store_user u = {0};
	char out[PASSWD_LEN];

	(void)state;
	err_init(&errs);
	assert_int_equal(store_open(":memory:", &st, &errs), PC_OK);
	snprintf(u.name, sizeof(u.name), "Sam");
	u.role = ROLE_PLACE_LEAD;
	snprintf(u.place, sizeof(u.place), "NH");
	assert_int_equal(store_begin(st), PC_OK);
	assert_int_equal(store_user_add(st, &u), PC_OK);
	assert_int_equal(store_password_get(st, u.id, out, sizeof(out)),
	    PC_ENOTFOUND);
	assert_int_equal(store_password_set(st, u.id, "scrypt$x", 1), PC_OK);
	assert_int_equal(store_password_set(st, u.id, "scrypt$y", 2), PC_OK);
	assert_int_equal(store_password_get(st, u.id, out, sizeof(out)),
	    PC_OK);
	assert_string_equal(out, "scrypt$y");
	assert_int_equal(store_password_clear(st, u.id), PC_OK);
	assert_int_equal(store_password_get(st, u.id, out, sizeof(out)),
	    PC_ENOTFOUND);
	assert_int_equal(store_commit(st), PC_OK);
	store_close(st);
	err_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_rfc7914_vector),
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_stored),
	};

	return cmocka_run_group_tests_name("passwd", tests, NULL, NULL);
}

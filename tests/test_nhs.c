/*
 * test_nhs.c - NHS number checks and pseudonyms.
 *
 * 9434765919 is the NHS Data Dictionary's worked example of a valid
 * number. The HMAC reference value was computed independently with
 * OpenSSL's command line:
 *   printf 9434765919 | openssl dgst -sha256 -mac HMAC \
 *     -macopt hexkey:000102...1f
 */
#include <string.h>

#include "harness.h"
#include "nhs.h"

static void
expect_bad(const char *in, const char *words)
{
	struct err_list errs;
	char out[11];

	err_init(&errs);
	assert_int_equal(nhs_normalise(in, out, &errs), PC_EINVAL);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].code, E_NHS_NUMBER);
	assert_string_equal(errs.v[0].field, "nhs_number");
	assert_non_null(strstr(errs.v[0].msg, words));
	/* the number itself is never echoed in the message */
	assert_null(strstr(errs.v[0].msg, "943"));
	err_free(&errs);
}

static void
test_check_digit(void **state)
{
	struct err_list errs;
	char out[11];

	(void)state;
	err_init(&errs);
	assert_int_equal(nhs_normalise("9434765919", out, &errs), PC_OK);
	assert_string_equal(out, "9434765919");
	assert_int_equal(nhs_normalise("943 476 5919", out, &errs), PC_OK);
	assert_string_equal(out, "9434765919");
	assert_int_equal(nhs_normalise("943-476-5919", out, &errs), PC_OK);
	/* check digit 0 when 11 - remainder is 11 */
	assert_true(nhs_check_digit_ok("4010232137"));
	assert_int_equal(errs.n, 0);
	err_free(&errs);
	expect_bad("9434765918", "Modulus 11");
	expect_bad("943476591", "fewer");
	expect_bad("94347659190", "more");
	expect_bad("", "fewer");
	expect_bad("943476591X", "other characters");
	expect_bad("+449434765919", "other characters");
	/* a remainder giving check digit 10 is never a valid number */
	assert_false(nhs_check_digit_ok("1000000010"));
	assert_false(nhs_check_digit_ok("1000000011"));
	assert_true(nhs_check_digit_ok("1000000060"));
}

static void
test_pseudonym(void **state)
{
	uint8_t key[NHS_KEY_LEN], key2[NHS_KEY_LEN];
	char p1[SEC_HEX64_LEN], p2[SEC_HEX64_LEN], id[NHS_KEY_ID_LEN];
	int i;

	(void)state;
	for (i = 0; i < NHS_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(nhs_pseudonym(key, "9434765919", p1), PC_OK);
	assert_string_equal(p1, "dd5c602eeb31d60c7c0d662c897231dd"
	    "a00e13cdf945b14cad185a4a7125826c");
	assert_int_equal(nhs_pseudonym(key, "9434765919", p2), PC_OK);
	assert_string_equal(p1, p2);
	memcpy(key2, key, sizeof(key));
	key2[0] ^= 1;
	assert_int_equal(nhs_pseudonym(key2, "9434765919", p2), PC_OK);
	assert_string_not_equal(p1, p2);
	assert_int_equal(nhs_local_person(p1), PC_OK);
	assert_int_equal(nhs_local_person(p2), PC_OK);
	assert_int_equal(strlen(p1), 64);
	assert_string_not_equal(p1, p2);
	nhs_key_id(key, id);
	assert_int_equal(strlen(id), 16);
	nhs_key_id(key2, p2);
	assert_string_not_equal(id, p2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_digit),
		cmocka_unit_test(test_pseudonym),
	};

	return cmocka_run_group_tests_name("nhs", tests, NULL, NULL);
}

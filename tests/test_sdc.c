/*
 * test_sdc.c - disclosure control: suppression, rounding, withheld
 * statistics, percentages from rounded counts, and the subtraction
 * attack that secondary suppression exists for.
 */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "sdc.h"

static const struct sdc on = {1, 8}, off = {0, 8};

static void
is_text(cJSON *v, const char *s)
{
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, s);
	cJSON_Delete(v);
}

static void
is_num(cJSON *v, double n)
{
	assert_true(cJSON_IsNumber(v));
	assert_float_equal(v->valuedouble, n, 1e-9);
	cJSON_Delete(v);
}

static void
test_counts(void **state)
{
	long n;

	(void)state;
	assert_int_equal(sdc_round(0), 0);
	assert_int_equal(sdc_round(8), 10);
	assert_int_equal(sdc_round(12), 10);
	assert_int_equal(sdc_round(13), 15);
	assert_int_equal(sdc_round(17), 15);
	assert_int_equal(sdc_round(18), 20);
	assert_int_equal(sdc_round(1234), 1235);
	is_num(sdc_count(&on, 0), 0);		/* a true zero is shown */
	for (n = 1; n <= 7; n++)
		is_text(sdc_count(&on, n), "suppressed");
	is_num(sdc_count(&on, 8), 10);
	is_num(sdc_count(&on, 9), 10);
	is_num(sdc_count(&on, 11), 10);
	is_num(sdc_count(&off, 3), 3);
	is_num(sdc_count(&off, 11), 11);
	assert_int_equal(sdc_value(&on, 5), -1);
	assert_int_equal(sdc_value(&on, 23), 25);
}

static void
test_statistics(void **state)
{
	cJSON *v;

	(void)state;
	is_text(sdc_stat(&on, 1.234, 7, 2), "withheld");
	is_num(sdc_stat(&on, 1.234, 8, 2), 1.23);
	is_num(sdc_stat(&off, 1.234, 2, 2), 1.23);
	v = sdc_stat(&on, NAN, 20, 2);
	assert_true(cJSON_IsNull(v));
	cJSON_Delete(v);
	/* percentages come from the rounded counts: 13/28 -> 15/30 */
	is_num(sdc_pct(&on, 13, 28), 50.0);
	is_num(sdc_pct(&off, 13, 28), 46.4);
	/* a numerator or denominator not shown withholds the percentage */
	is_text(sdc_pct(&on, 3, 40), "withheld");
	is_text(sdc_pct(&on, 0, 5), "withheld");
	is_num(sdc_pct(&on, 0, 40), 0.0);
	v = sdc_pct(&off, 0, 0);
	assert_true(cJSON_IsNull(v));
	cJSON_Delete(v);
}

static void
test_subtraction_attack(void **state)
{
	/*
	 * A total of 60 referrals by ethnic group. With only the 4 hidden,
	 * 60 - (30 + 15 + 11) = 4 would give it away; the next smallest
	 * group (11) is hidden too, leaving only their sum (15) knowable.
	 */
	static const long v[] = {30, 15, 4, 11, 0};
	static const char *const codes[] = {"a", "b", "c", "d", "e"};
	int hidden[5];
	cJSON *o;

	(void)state;
	sdc_breakdown(&on, v, 5, hidden);
	assert_int_equal(hidden[0], 0);
	assert_int_equal(hidden[1], 0);
	assert_int_equal(hidden[2], 1);		/* primary */
	assert_int_equal(hidden[3], 1);		/* secondary */
	assert_int_equal(hidden[4], 0);		/* zero stays zero */
	o = sdc_breakdown_json(&on, v, codes, 5);
	assert_float_equal(cJSON_GetObjectItem(o, "a")->valuedouble, 30, 0);
	assert_float_equal(cJSON_GetObjectItem(o, "b")->valuedouble, 15, 0);
	assert_string_equal(cJSON_GetObjectItem(o, "c")->valuestring,
	    "suppressed");
	assert_string_equal(cJSON_GetObjectItem(o, "d")->valuestring,
	    "suppressed");
	assert_float_equal(cJSON_GetObjectItem(o, "e")->valuedouble, 0, 0);
	cJSON_Delete(o);
	/* two hidden already: nothing more to hide */
	{
		static const long w[] = {30, 3, 4, 11};

		sdc_breakdown(&on, w, 4, hidden);
		assert_int_equal(hidden[0] + hidden[3], 0);
		assert_int_equal(hidden[1] + hidden[2], 2);
	}
	/* with control off nothing is hidden */
	sdc_breakdown(&off, v, 5, hidden);
	assert_int_equal(hidden[2], 0);
	assert_int_equal(hidden[3], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_statistics),
		cmocka_unit_test(test_subtraction_attack),
	};

	return cmocka_run_group_tests_name("sdc", tests, NULL, NULL);
}

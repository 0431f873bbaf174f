/*
 * test_codes.c - code lists, groupings and ONS4 bands.
 */
#include <string.h>

#include "codes.h"
#include "harness.h"
#include "ons4.h"

static void
test_lists(void **state)
{
	char choices[256];

	(void)state;
	assert_int_equal(codes_source.n, 16);
	assert_int_equal(codes_reason.n, 18);
	assert_int_equal(codes_service.n, 6);
	assert_int_equal(codes_gender.n, 5);
	assert_int_equal(codes_ethnicity.n, 18);
	assert_int_equal(codes_mode.n, 6);
	assert_int_equal(codes_support.n, 18);
	assert_int_equal(codes_outcome.n, 5);
	assert_int_equal(codes_closure.n, 8);
	assert_int_equal(codes_kind.n, 6);
	assert_int_equal(code_index(&codes_source, "vcse"), 12);
	assert_int_equal(code_index(&codes_source, "VCSE"), -1);
	assert_int_equal(code_index(&codes_source, NULL), -1);
	assert_string_equal(code_label(&codes_closure, "declined"),
	    "Declined social prescribing");
	assert_null(code_label(&codes_closure, "bored"));
	code_choices(&codes_stage, choices, sizeof(choices));
	assert_string_equal(choices, "baseline, review or final");
	assert_string_equal(SNOMED_REFERRAL, "871731000000106");
	assert_string_equal(SNOMED_DECLINED, "871711000000103");
}

static void
test_groupings(void **state)
{
	static const struct {
		const char *code;
		const char *group;
	} eg[] = {
		{"A", "white"}, {"B", "white"}, {"C", "white"},
		{"D", "mixed"}, {"E", "mixed"}, {"F", "mixed"}, {"G", "mixed"},
		{"H", "asian"}, {"J", "asian"}, {"K", "asian"}, {"L", "asian"},
		{"M", "black"}, {"N", "black"}, {"P", "black"},
		{"R", "other"}, {"S", "other"},
		{"Z", "not_stated"}, {"99", "not_stated"},
	};
	static const struct {
		int age;
		const char *band;
	} ab[] = {
		{0, "0-17"}, {17, "0-17"}, {18, "18-24"}, {24, "18-24"},
		{25, "25-34"}, {34, "25-34"}, {35, "35-44"}, {64, "55-64"},
		{65, "65-74"}, {84, "75-84"}, {85, "85+"}, {120, "85+"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eg) / sizeof(eg[0]); i++)
		assert_string_equal(codes_ethnic_group.v[
		    codes_ethnic_group_of(eg[i].code)].code, eg[i].group);
	for (i = 0; i < sizeof(ab) / sizeof(ab[0]); i++)
		assert_string_equal(codes_age_band.v[
		    codes_age_band_of(ab[i].age)].code, ab[i].band);
	assert_int_equal(codes_imd_quintile_of(1), 0);
	assert_int_equal(codes_imd_quintile_of(2), 0);
	assert_int_equal(codes_imd_quintile_of(3), 1);
	assert_int_equal(codes_imd_quintile_of(9), 4);
	assert_int_equal(codes_imd_quintile_of(10), 4);
	assert_string_equal(codes_imd_quintile.v[codes_imd_quintile_of(0)].code,
	    "unknown");
}

static void
test_ons4(void **state)
{
	static const int pos[11] = {0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3};
	static const int anx[11] = {0, 0, 1, 1, 2, 2, 3, 3, 3, 3, 3};
	int s, m;

	(void)state;
	for (s = 0; s <= 10; s++) {
		for (m = 0; m < 3; m++)
			assert_int_equal(ons4_band((enum ons4_measure)m, s),
			    pos[s]);
		assert_int_equal(ons4_band(ONS4_ANXIOUS, s), anx[s]);
	}
	assert_int_equal(ons4_band(ONS4_HAPPY, -1), -1);
	assert_int_equal(ons4_band(ONS4_HAPPY, 11), -1);
	assert_string_equal(ons4_measures[ONS4_LIFE_SATISFACTION].question,
	    "Overall, how satisfied are you with your life nowadays?");
	assert_string_equal(ons4_measures[ONS4_WORTHWHILE].question,
	    "Overall, to what extent do you feel that the things you do in "
	    "your life are worthwhile?");
	assert_string_equal(ons4_measures[ONS4_HAPPY].question,
	    "Overall, how happy did you feel yesterday?");
	assert_string_equal(ons4_measures[ONS4_ANXIOUS].question,
	    "On a scale where 0 is 'not at all anxious' and 10 is "
	    "'completely anxious', overall, how anxious did you feel "
	    "yesterday?");
	assert_true(ons4_improved(ONS4_HAPPY, 3, 4));
	assert_false(ons4_improved(ONS4_HAPPY, 4, 4));
	assert_true(ons4_improved(ONS4_ANXIOUS, 7, 6));
	assert_false(ons4_improved(ONS4_ANXIOUS, 6, 7));
	assert_int_equal(ons4_gain(ONS4_ANXIOUS, 8, 3), 5);
	assert_int_equal(ons4_measures[ONS4_ANXIOUS].worst_band, 3);
	assert_int_equal(ons4_measures[ONS4_HAPPY].worst_band, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_groupings),
		cmocka_unit_test(test_ons4),
	};

	return cmocka_run_group_tests_name("codes", tests, NULL, NULL);
}

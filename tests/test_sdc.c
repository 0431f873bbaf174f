/*
 * test_sdc.c - disclosure control: cell key perturbation, suppression,
 * rounding, statistics that cannot give their n away, percentages from
 * published counts, and breakdowns: secondary suppression against
 * subtraction, a suppressed total withholding the breakdown whole.
 */
#include <math.h>
#include <string.h>

#include "ckm.h"
#include "harness.h"
#include "sdc.h"

static const struct sdc on = {1, 8}, off = {0, 8};

/* A cell key under which a count of n gets noise v. */
static long
key_for(long n, int v)
{
	long k;

	for (k = 0; k < CKM_KEYS; k++)
		if (ckm_noise(n, k) == v)
			return k;
	fail_msg("no key gives %ld noise %d", n, v);
	return -1;
}

static struct sdc_n
exact(long n)
{
	return (struct sdc_n){n, key_for(n, 0)};
}

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
	assert_double_equal(v->valuedouble, n, 1e-12);
	cJSON_Delete(v);
}

static void
test_counts(void **state)
{
	long n, k;

	(void)state;
	assert_int_equal(sdc_round(0), 0);
	assert_int_equal(sdc_round(8), 10);
	assert_int_equal(sdc_round(12), 10);
	assert_int_equal(sdc_round(13), 15);
	assert_int_equal(sdc_round(17), 15);
	assert_int_equal(sdc_round(18), 20);
	assert_int_equal(sdc_round(1234), 1235);
	/* every key: perturb, suppress 1-7, round the rest */
	for (n = 0; n <= 30; n++)
		for (k = 0; k < CKM_KEYS; k += 7) {
			long p = ckm_perturb(n, k), v = sdc_value(&on,
			    (struct sdc_n){n, k});

			assert_int_equal(v, p == 0 ? 0 : p < 8 ? -1 :
			    sdc_round(p));
			if (n == 0)
				assert_int_equal(v, 0);	/* zeros stay zero */
			if (n >= 1 && n <= 4)		/* never shown */
				assert_true(v <= 0);
			assert_int_equal(sdc_value(&off, (struct sdc_n){n, k}),
			    n);
		}
	is_num(sdc_count(&on, (struct sdc_n){0, 99}), 0);
	is_text(sdc_count(&on, exact(7)), "suppressed");
	is_num(sdc_count(&on, exact(8)), 10);
	is_text(sdc_count(&on, (struct sdc_n){8, key_for(8, -1)}),
	    "suppressed");			/* 7 after perturbation */
	is_num(sdc_count(&on, (struct sdc_n){8, key_for(8, 3)}), 10);
	is_text(sdc_count(&on, (struct sdc_n){9, key_for(9, -2)}),
	    "suppressed");
	is_num(sdc_count(&on, (struct sdc_n){12, key_for(12, 1)}), 15);
	is_num(sdc_count(&off, (struct sdc_n){3, 0}), 3);
	is_num(sdc_count(&off, (struct sdc_n){11, 0}), 11);
	/* the same count and key: the same figure, every time */
	assert_int_equal(sdc_value(&on, (struct sdc_n){23, 1000}),
	    sdc_value(&on, (struct sdc_n){23, 1000 + CKM_KEYS}));
}

static void
test_statistics(void **state)
{
	cJSON *v;

	(void)state;
	is_num(sdc_stat(&on, 1.2857142857142858, 1), 1.3);
	is_num(sdc_stat(&off, 1.2857142857142858, 1), 1.2857142857142858);
	v = sdc_stat(&on, NAN, 1);
	assert_true(cJSON_IsNull(v));
	cJSON_Delete(v);
	/* percentages come from the published counts: 13/28 -> 15/30 */
	is_num(sdc_pct(&on, exact(13), exact(28)), 50.0);
	is_num(sdc_pct(&off, exact(13), exact(28)), 100.0 * 13 / 28);
	/* a numerator or denominator not shown withholds the percentage */
	is_text(sdc_pct(&on, exact(3), exact(40)), "withheld");
	is_text(sdc_pct(&on, exact(0), exact(5)), "withheld");
	is_num(sdc_pct(&on, exact(0), exact(40)), 0.0);
	v = sdc_pct(&off, exact(0), exact(0));
	assert_true(cJSON_IsNull(v));
	cJSON_Delete(v);
	/* p-values: bands under control, exact without */
	is_text(sdc_p(&on, 2.6e-214), "<0.001");
	is_text(sdc_p(&on, 0.004), "<0.01");
	is_text(sdc_p(&on, 0.04), "<0.05");
	is_text(sdc_p(&on, 0.5), ">=0.05");
	is_num(sdc_p(&off, 2.6e-214), 2.6e-214);
}

static void
test_subtraction_attack(void **state)
{
	/*
	 * A total of 60 referrals by ethnic group. With only the 4 hidden,
	 * 60 - (30 + 15 + 11) = 4 would give it away; the next smallest
	 * group (11) is hidden too, leaving only their sum (15) knowable.
	 */
	static const char *const codes[] = {"a", "b", "c", "d", "e"};
	struct sdc_n v[5], w[4];
	int hidden[5], zero[5];
	cJSON *o;

	(void)state;
	v[0] = exact(30), v[1] = exact(15), v[2] = exact(4), v[3] = exact(11);
	v[4] = exact(0);
	sdc_breakdown(&on, exact(60), v, 5, hidden, zero);
	assert_int_equal(hidden[0], 0);
	assert_int_equal(hidden[1], 0);
	assert_int_equal(hidden[2], 1);		/* primary */
	assert_int_equal(hidden[3], 1);		/* secondary */
	assert_int_equal(hidden[4], 0);		/* zero stays zero */
	assert_int_equal(zero[4], 1);
	o = sdc_breakdown_json(&on, exact(60), v, codes, 5);
	assert_double_equal(cJSON_GetObjectItem(o, "a")->valuedouble, 30, 0);
	assert_double_equal(cJSON_GetObjectItem(o, "b")->valuedouble, 15, 0);
	assert_string_equal(cJSON_GetObjectItem(o, "c")->valuestring,
	    "suppressed");
	assert_string_equal(cJSON_GetObjectItem(o, "d")->valuestring,
	    "suppressed");
	assert_double_equal(cJSON_GetObjectItem(o, "e")->valuedouble, 0, 0);
	cJSON_Delete(o);
	/* two hidden already: nothing more to hide */
	w[0] = exact(30), w[1] = exact(3), w[2] = exact(4), w[3] = exact(11);
	sdc_breakdown(&on, exact(48), w, 4, hidden, zero);
	assert_int_equal(hidden[0] + hidden[3], 0);
	assert_int_equal(hidden[1] + hidden[2], 2);
	/* with control off nothing is hidden */
	sdc_breakdown(&off, exact(60), v, 5, hidden, zero);
	assert_int_equal(hidden[2], 0);
	assert_int_equal(hidden[3], 0);
}

/*
 * A day with one referral: the total is suppressed, so every group is,
 * the empty ones too; shown as 0 they would name the one person's group.
 */
static void
test_suppressed_total(void **state)
{
	struct sdc_n v[4] = {{0, 0}, {1, 17}, {0, 0}, {0, 0}};
	int hidden[4], zero[4], i;

	(void)state;
	sdc_breakdown(&on, (struct sdc_n){1, key_for(1, 2)}, v, 4, hidden,
	    zero);
	for (i = 0; i < 4; i++) {
		assert_int_equal(hidden[i], 1);
		assert_int_equal(zero[i], 0);
	}
	/* a total published as 0 (a true 1 perturbed down): all groups 0 */
	sdc_breakdown(&on, (struct sdc_n){1, key_for(1, -1)}, v, 4, hidden,
	    zero);
	for (i = 0; i < 4; i++) {
		assert_int_equal(hidden[i], 0);
		assert_int_equal(zero[i], 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_statistics),
		cmocka_unit_test(test_subtraction_attack),
		cmocka_unit_test(test_suppressed_total),
	};

	return cmocka_run_group_tests_name("sdc", tests, NULL, NULL);
}

/*
 * test_ckm.c - the cell key method's perturbation table: the table
 * compiled into pcmdsd is the checked-in file, has the properties it is
 * built for, is what its script makes, and the script reproduces the
 * example table of R's ptable package.
 *
 * Reference vector: R package ptable 1.0.0 (CRAN, 2023-03-01),
 * pt_ex_cnts() = create_cnt_ptable(D = 2, V = 1.05, js = 1,
 * mono = c(T, T, F, T)); p_int_ub of each line (R output, 8 decimals,
 * as recorded with its run in the project's cell key method notes).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckm.h"
#include "harness.h"
#include "sec.h"

/* Runs the generator; NULL (and a skip) without python3. */
static char *
generate(const char *const *args)
{
	const char *argv[16] = {"python3", "server/ckm_ptable.py"};
	struct th_run r;
	char *out;
	int i;

	if (!th_have("python3"))
		return NULL;
	for (i = 0; args[i] != NULL && i < 13; i++)
		argv[2 + i] = args[i];
	argv[2 + i] = NULL;
	th_exec(&r, argv, NULL, NULL);
	if (r.status != 0)
		fail_msg("ckm_ptable.py: %s", r.err);
	out = r.out;
	r.out = NULL;
	th_run_free(&r);
	return out;
}

static void
test_compiled_is_the_file(void **state)
{
	char *text = th_slurp("server/ckm_ptable.csv", NULL), *line, *save = NULL;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	line = strtok_r(text, "\n", &save);
	assert_string_equal(line, "i,j,p,v,p_int_lb,p_int_ub");
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		struct ckm_line l;

		assert_int_equal(sscanf(line, "%d,%d,%lf,%d,%lf,%lf", &l.i, &l.j,
		    &l.p, &l.v, &l.lb, &l.ub), 6);
		assert_true(n < ckm_nlines);
		assert_int_equal(l.i, ckm_ptable[n].i);
		assert_int_equal(l.j, ckm_ptable[n].j);
		assert_int_equal(l.v, ckm_ptable[n].v);
		/* the same doubles, bit for bit */
		assert_true(l.p == ckm_ptable[n].p);
		assert_true(l.lb == ckm_ptable[n].lb);
		assert_true(l.ub == ckm_ptable[n].ub);
		n++;
	}
	assert_int_equal(n, ckm_nlines);
	free(text);
}

static void
test_properties(void **state)
{
	int last = ckm_ptable[ckm_nlines - 1].i, i;

	(void)state;
	assert_int_equal(last, CKM_D);	/* js = 0: rows 0..D */
	for (i = 0; i <= last; i++) {
		double sum = 0, mean = 0, var = 0, cum = 0;
		size_t k;
		int lines = 0;

		for (k = 0; k < ckm_nlines; k++) {
			const struct ckm_line *l = &ckm_ptable[k];

			if (l->i != i)
				continue;
			lines++;
			assert_int_equal(l->j, l->i + l->v);
			assert_true(l->j >= 0);
			assert_true(abs(l->v) <= CKM_D);
			assert_true(l->p > 0);
			assert_float_equal(l->lb, cum, 1e-8);
			sum += l->p;
			mean += l->p * l->v;
			var += l->p * l->v * l->v;
			cum += l->p;
			assert_float_equal(l->ub, cum, 1e-8);
		}
		assert_true(lines > 0);
		assert_float_equal(sum, 1, 1e-12);	/* a distribution */
		assert_float_equal(mean, 0, 1e-12);	/* unbiased */
		assert_true(var <= CKM_V + 1e-12);
		if (i == 0)
			assert_int_equal(lines, 1);	/* zeros unperturbed */
	}
}

/* The noise as realised over the 4,096 cell keys: near the table's. */
static void
test_realised_noise(void **state)
{
	static const long ns[] = {0, 1, 2, 3, 4, 9, 40, 1000};
	long n, key;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		double mean = 0, var = 0;

		n = ns[i];
		for (key = 0; key < CKM_KEYS; key++) {
			int v = ckm_noise(n, key);

			assert_true(abs(v) <= CKM_D);
			assert_true(ckm_perturb(n, key) >= 0);
			mean += v;
			var += (double)v * v;
		}
		mean /= CKM_KEYS;
		var /= CKM_KEYS;
		if (n == 0)
			assert_true(var == 0);
		assert_true(fabs(mean) < 1e-3);
		assert_true(var <= CKM_V + 1e-3);
		/* the key is taken modulo the range: sums of any size work */
		assert_int_equal(ckm_noise(n, 123), ckm_noise(n, 123 + 5L *
		    CKM_KEYS));
	}
	/* a count of 2, key 0: the first line (-2, perturbed to 0) */
	assert_int_equal(ckm_noise(2, 0), -2);
	assert_int_equal(ckm_perturb(2, 0), 0);
	/* a large count and the last key: the last line (+3) */
	assert_int_equal(ckm_noise(1000, CKM_KEYS - 1), 3);
}

static void
test_record_keys(void **state)
{
	uint8_t k1[32] = {1}, k2[32] = {2}, msg[8] = {0, 0, 0, 0, 0, 0, 1, 2};
	uint8_t mac[SEC_SHA256_LEN];
	struct ckm_keyer *fast = ckm_keyer_new(k1);
	int counts[16] = {0}, i, differ = 0;
	uint64_t p;

	(void)state;
	assert_non_null(fast);
	/* HMAC-SHA256 itself: person 0x102 as 8 bytes, big-endian */
	assert_int_equal(sec_hmac_sha256(k1, 32, msg, 8, mac), PC_OK);
	assert_int_equal(ckm_record_key(k1, 0x102), (mac[0] << 8 | mac[1]) %
	    CKM_KEYS);
	for (p = 1; p <= 4000; p++) {
		uint16_t a = ckm_record_key(k1, p);

		assert_true(a < CKM_KEYS);
		assert_int_equal(a, ckm_keyer_key(fast, p));	/* the same */
		assert_int_equal(a, ckm_record_key(k1, p));	/* stable */
		differ += a != ckm_record_key(k2, p);	/* keyed */
		counts[a * 16 / CKM_KEYS]++;
	}
	ckm_keyer_free(fast);
	assert_true(differ > 3950);
	for (i = 0; i < 16; i++)	/* about 250 each */
		assert_true(counts[i] > 170 && counts[i] < 330);
}

static void
test_generator(void **state)
{
	static const char *const ours[] = {NULL};
	static const char *const c[] = {"--c", NULL};
	static const char *const ex[] = {"--D", "2", "--V", "1.05", "--js", "1",
	    "--mono", "TTFT", NULL};
	/* pt_ex_cnts(): (i, v, p_int_ub), ptable 1.0.0 */
	static const struct {
		int	 i, v;
		double	 ub;
	} want[] = {
		{0, 0, 1}, {1, -1, .50833333}, {1, 1, .98333333}, {1, 2, 1},
		{2, -2, .16155827}, {2, 0, .71720864}, {2, 1, .95967482},
		{2, 2, 1}, {3, -1, .41231301}, {3, 0, .70037398},
		{3, 1, .88731301}, {3, 2, 1}, {4, -2, .07012498},
		{4, -1, .31462505}, {4, 0, .68537495}, {4, 1, .92987502},
		{4, 2, 1},
	};
	char *out, *file, *line, *save = NULL;
	size_t n = 0;

	(void)state;
	if ((out = generate(ours)) == NULL)
		skip();
	file = th_slurp("server/ckm_ptable.csv", NULL);
	assert_string_equal(out, file);		/* the file is what it makes */
	free(out);
	free(file);
	out = generate(c);
	file = th_slurp("server/ckm_ptable.inc", NULL);
	assert_string_equal(out, file);
	free(out);
	free(file);
	out = generate(ex);
	line = strtok_r(out, "\n", &save);	/* the header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		int i, j, v;
		double p, lb, ub;

		assert_int_equal(sscanf(line, "%d,%d,%lf,%d,%lf,%lf", &i, &j, &p,
		    &v, &lb, &ub), 6);
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_int_equal(i, want[n].i);
		assert_int_equal(v, want[n].v);
		assert_float_equal(ub, want[n].ub, 1e-6);
		n++;
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiled_is_the_file),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_realised_noise),
		cmocka_unit_test(test_record_keys),
		cmocka_unit_test(test_generator),
	};

	return cmocka_run_group_tests_name("ckm", tests, NULL, NULL);
}

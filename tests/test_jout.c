/*
 * test_jout.c - numbers in machine-readable outputs: the shortest text
 * that reads back as exactly the same double.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jout.h"

static void
is(double v, const char *want)
{
	char out[JOUT_NUM_LEN];

	jout_double(v, out);
	assert_string_equal(out, want);
}

static void
test_shortest(void **state)
{
	(void)state;
	is(0, "0");
	is(-0.0, "0");
	is(15, "15");
	is(218900, "218900");
	is(0.1, "0.1");
	is(1.0 / 3, "0.3333333333333333");
	is(0.1 + 0.2, "0.30000000000000004");
	is(2.6e-214, "2.6e-214");
	is(5e-324, "5e-324");
	is(1e300, "1e+300");
	is(-7.0 / 3, "-2.3333333333333335");
	is(NAN, "null");
	is(INFINITY, "null");
}

/* Any double: the text reads back bit for bit. */
static void
test_round_trip(void **state)
{
	char out[JOUT_NUM_LEN];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	double v;
	int i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		jout_double(v, out);
		assert_true(strtod(out, NULL) == v);
		assert_true(strlen(out) <= 24);
	}
}

/* cJSON prints 0.1 + 0.2 as 0.3 (close enough for it); we do not. */
static void
test_documents(void **state)
{
	cJSON *doc = cJSON_CreateObject(), *back;
	char *text;

	(void)state;
	cJSON_AddNumberToObject(doc, "p", 0.1 + 0.2);
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(doc, "deep"), "q",
	    2.6e-214);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "v"),
	    cJSON_CreateNumber(1.0 / 3));
	cJSON_AddStringToObject(doc, "s", "text");
	text = jout_print(doc, 0);
	assert_string_equal(text, "{\"p\":0.30000000000000004,\"deep\":{\"q\":"
	    "2.6e-214},\"v\":[0.3333333333333333],\"s\":\"text\"}");
	back = cJSON_Parse(text);
	assert_true(cJSON_GetObjectItem(back, "p")->valuedouble == 0.1 + 0.2);
	cJSON_Delete(back);
	free(text);
	text = cJSON_PrintUnformatted(doc);
	assert_non_null(strstr(text, "\"p\":0.3,"));	/* why jout exists */
	free(text);
	cJSON_Delete(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shortest),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_documents),
	};

	return cmocka_run_group_tests_name("jout", tests, NULL, NULL);
}

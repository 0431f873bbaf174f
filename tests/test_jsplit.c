/*
 * test_jsplit.c - a batch's body cut into its records' texts: exactly
 * the values, blanks and nesting aside; any other shape left to a full
 * parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jsplit.h"

/* Splits text, which must be of the shape, into n spans. */
static struct jsplit_span *
split(const char *text, size_t n)
{
	struct jsplit_span *v;
	size_t got;

	assert_int_equal(jsplit_records(text, strlen(text), &v, &got), PC_OK);
	assert_int_equal(got, n);
	return v;
}

static void
span_is(const struct jsplit_span *s, const char *want)
{
	assert_int_equal(s->len, strlen(want));
	assert_memory_equal(s->p, want, s->len);
}

static void
test_shapes(void **state)
{
	struct jsplit_span *v;

	(void)state;
	v = split("{\"records\":[]}", 0);
	assert_null(v);
	v = split(" {\n\"records\" : [ {\"a\":1} ,\t{\"b\":[2,{\"c\":\"],}\"}]}\r\n"
	    "] } \n", 2);
	span_is(&v[0], "{\"a\":1}");
	span_is(&v[1], "{\"b\":[2,{\"c\":\"],}\"}]}");
	free(v);
	/* an escaped quote does not end a string; junk is a span's */
	v = split("{\"records\":[\"a\\\"],\",7, tru ,{\"x\":\"\\\\\"}]}", 4);
	span_is(&v[0], "\"a\\\"],\"");
	span_is(&v[1], "7");
	span_is(&v[2], "tru");
	span_is(&v[3], "{\"x\":\"\\\\\"}");
	free(v);
}

static void
test_other_shapes(void **state)
{
	static const char *const other[] = {
		"", "[]", "{}", "{\"rows\":[]}", "{\"records\":{}}",
		"{\"records\":[1,]}", "{\"records\":[,1]}", "{\"records\":[1}",
		"{\"records\":[1]", "{\"records\":[1]} x", "{\"records\":[1],"
		"\"more\":2}", "{\"rec\\u006frds\":[1]}", "{\"records\":[\"a]}",
		"{\"records\":[{]}]}", "{\"records\":[1]}}",
	};
	struct jsplit_span *v;
	char *deep;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		v = (void *)1;
		assert_int_equal(jsplit_records(other[i], strlen(other[i]), &v,
		    &n), PC_ENOTFOUND);
		assert_null(v);
		assert_int_equal(n, 0);
	}
	/* nesting near cJSON's limit: its parse decides */
	assert_non_null(deep = calloc(3000, 1));
	strcpy(deep, "{\"records\":[");
	memset(deep + strlen(deep), '[', 1000);
	strcat(deep, "]}");
	assert_int_equal(jsplit_records(deep, strlen(deep), &v, &n),
	    PC_ENOTFOUND);
	free(deep);
}

/*
 * A string with an escaped quote, an escaped backslash or a bracket at
 * each place, and long enough to be read in words of eight: the record
 * ends where its text does, and an unterminated string is no shape.
 */
static void
test_strings(void **state)
{
	static const char *const inner[] = {"\\\"", "\\\\", "]", ",", "}"};
	char text[128], rec[96], *exact;
	struct jsplit_span *v;
	size_t len, at, k, n, got;

	(void)state;
	for (len = 0; len < 24; len++)
		for (at = 0; at <= len; at++)
			for (k = 0; k < sizeof(inner) / sizeof(inner[0]); k++) {
				n = (size_t)snprintf(rec, sizeof(rec),
				    "{\"a\":\"%.*s%s%.*s\"}", (int)at,
				    "xxxxxxxxxxxxxxxxxxxxxxxx", inner[k],
				    (int)(len - at), "yyyyyyyyyyyyyyyyyyyyyyyy");
				snprintf(text, sizeof(text),
				    "{\"records\":[%s,%s]}", rec, rec);
				v = split(text, 2);
				span_is(&v[0], rec);
				span_is(&v[1], rec);
				free(v);
				/*
				 * the string left open: no end, and nothing
				 * read past it (a copy without its NUL, for
				 * the sanitizers)
				 */
				n = (size_t)snprintf(text, sizeof(text),
				    "{\"records\":[%.*s", (int)(n - 2), rec);
				assert_non_null(exact = malloc(n));
				memcpy(exact, text, n);
				v = (void *)1;
				assert_int_equal(jsplit_records(exact, n, &v,
				    &got), PC_ENOTFOUND);
				assert_null(v);
				free(exact);
			}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_other_shapes),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests_name("jsplit", tests, NULL, NULL);
}

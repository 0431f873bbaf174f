/*
 * test_jscan.c - the one-pass reading of canonical text: members found
 * beside a parser's reading of the same text, and every text that is not
 * canonical refused (so that its callers parse it instead).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "jscan.h"

/* Sorted as canonical keys: a name that starts another comes first. */
static const char *const names[] = {"id", "ida", "kind", "place", "worker"};
#define NNAMES	(sizeof(names) / sizeof(names[0]))

/* A copy of exactly len bytes: a read past its end shows under ASan. */
static char *
exact(const char *t, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, t, len);
	return p;
}

/* Every member jscan finds is the parser's, and none it misses. */
static void
same_as_parser(const char *text)
{
	struct jscan_span f[NNAMES];
	size_t len = strlen(text), i;
	char *t = exact(text, len), s[64];
	cJSON *j = cJSON_ParseWithLength(text, len), *m;

	assert_non_null(j);
	assert_int_equal(jscan_members(t, len, names, NNAMES, f), PC_OK);
	for (i = 0; i < NNAMES; i++) {
		m = cJSON_GetObjectItemCaseSensitive(j, names[i]);
		if (m == NULL) {
			assert_int_equal(f[i].len, 0);
			continue;
		}
		assert_true(f[i].p >= t && f[i].p + f[i].len <= t + len);
		if (cJSON_IsString(m) && memchr(f[i].p, '\\', f[i].len) !=
		    NULL) {
			/* escaped: the caller is told to parse it */
			assert_int_equal(jscan_string(&f[i], s, sizeof(s)),
			    PC_EINVAL);
		} else if (cJSON_IsString(m)) {
			assert_int_equal(jscan_string(&f[i], s, sizeof(s)),
			    PC_OK);
			assert_string_equal(s, m->valuestring);
		} else {
			char *want = cJSON_PrintUnformatted(m);

			assert_int_equal(f[i].len, strlen(want));
			assert_memory_equal(f[i].p, want, f[i].len);
			free(want);
		}
	}
	cJSON_Delete(j);
	free(t);
}

static void
test_members(void **state)
{
	(void)state;
	same_as_parser("{}");
	same_as_parser("{\"worker\":\"w1\"}");
	same_as_parser("{\"a\":1,\"i\":2,\"id\":\"x\",\"ida\":[1,2],"
	    "\"idb\":3,\"kind\":\"referral\",\"place\":\"NH\","
	    "\"worker\":\"w-7\",\"z\":null}");
	/* what a nested value or a string holds does not end the member */
	same_as_parser("{\"id\":{\"place\":\"X\",\"worker\":[\"}\",\",\"]},"
	    "\"kind\":\"a,b:c}{][\",\"place\":\"\\\"q\\\\\","
	    "\"worker\":\"ok\"}");
	same_as_parser("{\"ida\":[[],{},[{\"a\":[true,false]}]],"
	    "\"place\":-15}");
	same_as_parser("{\"place\":\"N\\u00e9\",\"worker\":\"\xc3\xa9t\xc3\xa9\"}");
}

static void
refused(const char *text)
{
	struct jscan_span f[NNAMES];
	size_t len = strlen(text);
	char *t = exact(text, len);

	if (jscan_members(t, len, names, NNAMES, f) != PC_EINVAL)
		fail_msg("taken: %s", text);
	free(t);
}

static void
test_not_canonical(void **state)
{
	static const char whole[] = "{\"id\":\"a\\\"b\",\"kind\":[1,{\"x\":"
	    "\"}\"}],\"worker\":\"w\"}";
	size_t n;

	(void)state;
	refused("");
	refused("[]");
	refused("{");
	refused("{\"id\":1} ");
	refused("{\"id\":1}x");
	refused("{\"id\": 1}");
	refused("{ \"id\":1}");
	refused("{\"id\":1 ,\"kind\":2}");
	refused("{\"kind\":1,\"id\":2}");	/* out of order */
	refused("{\"id\":1,\"id\":2}");		/* twice */
	refused("{\"ida\":1,\"id\":2}");	/* a prefix sorts first */
	refused("{\"i\\u0064\":1}");		/* an escaped key */
	refused("{\"id\"1}");
	refused("{\"id\":}");
	refused("{\"id\":1,}");
	refused("{\"id\":\"a\"b}");		/* a string then more */
	refused("{\"id\":[1}");
	refused("{\"id\":{]}");
	refused("{\"id\":1]}");
	refused("{\"id\":\"a\\");
	refused("{\"id\":\"a\nb\"}");
	/* every text cut short */
	for (n = 0; n + 1 < sizeof(whole) - 1; n++) {
		struct jscan_span f[NNAMES];
		char *t = exact(whole, n);

		assert_int_equal(jscan_members(t, n, names, NNAMES, f),
		    PC_EINVAL);
		free(t);
	}
	same_as_parser(whole);
}

static void
test_string(void **state)
{
	struct jscan_span v;
	char s[4];

	(void)state;
	v.p = "\"abc\"";
	v.len = 5;
	assert_int_equal(jscan_string(&v, s, sizeof(s)), PC_OK);
	assert_string_equal(s, "abc");
	assert_int_equal(jscan_string(&v, s, 3), PC_EINVAL);	/* too long */
	v.p = "\"a\\nb\"";
	v.len = 6;
	assert_int_equal(jscan_string(&v, s, sizeof(s)), PC_EINVAL);
	v.p = "12";
	v.len = 2;
	assert_int_equal(jscan_string(&v, s, sizeof(s)), PC_EINVAL);
	v.p = NULL;
	v.len = 0;
	assert_int_equal(jscan_string(&v, s, sizeof(s)), PC_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_not_canonical),
		cmocka_unit_test(test_string),
	};

	return cmocka_run_group_tests_name("jscan", tests, NULL, NULL);
}

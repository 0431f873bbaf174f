/*
 * test_jfast.c - the quick parse against cJSON: whatever text it takes,
 * its tree is cJSON's, node for node; what it says it saw (canonical,
 * ASCII, depth) is so; anything else it leaves to cJSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "harness.h"
#include "jfast.h"
#include "jtree.h"

/* Blocks through cJSON's hooks, counted: the tree is all theirs. */
static long live;

static void *
count_malloc(size_t n)
{
	live++;
	return malloc(n);
}

static void
count_free(void *p)
{
	if (p != NULL)
		live--;
	free(p);
}

static int
setup(void **state)
{
	cJSON_Hooks h = {count_malloc, count_free};

	(void)state;
	cJSON_InitHooks(&h);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cJSON_InitHooks(NULL);
	return 0;
}

/*
 * text through both: 1 when jfast took it (then its tree and its claims
 * checked), 0 when it left it to cJSON. Every block freed after.
 */
static int
check_len(const char *text, size_t len)
{
	struct jfast_info info;
	cJSON *fast, *slow;
	const cJSON *at;
	const char *end = NULL, *why;
	long before = live;
	struct buf b;

	fast = jfast_parse(text, len, &info);
	if (fast == NULL) {
		assert_int_equal(live, before);
		return 0;
	}
	slow = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (slow == NULL || end != text + len)
		fail_msg("jfast took what cJSON refuses: %.*s", (int)len, text);
	if ((why = jtree_diff(fast, slow, &at)) != NULL)
		fail_msg("%s at %s in %s", why, at->string ? at->string :
		    "a value", text);
	assert_int_equal(info.depth, jtree_depth(slow));
	if (info.ascii && !jtree_ascii(slow))
		fail_msg("ascii claimed of %.*s", (int)len, text);
	if (info.canonical) {
		buf_init(&b, 0);
		assert_int_equal(canon_json(slow, &b), PC_OK);
		if (b.len != len || memcmp(b.p, text, len) != 0)
			fail_msg("canonical claimed of %.*s, canon %s", (int)len,
			    text, buf_str(&b));
		buf_free(&b);
	}
	cJSON_Delete(fast);
	cJSON_Delete(slow);
	assert_int_equal(live, before);
	return 1;
}

static int
check(const char *text)
{
	return check_len(text, strlen(text));
}

static void
expect(const char *text, int canonical, int ascii, int depth)
{
	struct jfast_info info;
	cJSON *t;

	if (!check(text))
		fail_msg("left to cJSON: %s", text);
	t = jfast_parse(text, strlen(text), &info);
	assert_non_null(t);
	cJSON_Delete(t);
	if (info.canonical != canonical || info.ascii != ascii ||
	    info.depth != depth)
		fail_msg("%s: canonical %d ascii %d depth %d", text,
		    info.canonical, info.ascii, info.depth);
}

static const char record[] = "{\"age\":40,\"consent_evaluation\":true,"
    "\"device_seq\":1,\"ethnicity\":\"A\",\"gender\":\"male\","
    "\"id\":\"11111111-1111-4111-8111-111111111111\",\"kind\":\"referral\","
    "\"note\":\"caf\xc3\xa9 \\\"x\\\"\\n\\\\\",\"person\":\"0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef\","
    "\"person_basis\":\"local\",\"place\":\"BD\",\"reasons\":[\"stress\","
    "\"money\"],\"recorded_at\":\"2026-01-01T09:00:00Z\",\"referral\":"
    "\"11111111-1111-4111-8111-111111111111\",\"referred_on\":"
    "\"2026-01-01\",\"schema\":\"pcmds/1\",\"score\":-12,\"set\":{\"a\":null,"
    "\"b\":false,\"c\":{},\"d\":[]},\"worker\":\"w\"}";

/* {"a":[[...1...]]} with its 1 at depth d */
static void
nest(char *out, int d)
{
	int i;

	out += sprintf(out, "{\"a\":");
	for (i = 1; i < d; i++)
		*out++ = '[';
	*out++ = '1';
	for (i = 1; i < d; i++)
		*out++ = ']';
	strcpy(out, "}");
}

static void
test_taken(void **state)
{
	char buf[128];

	(void)state;
	expect("{}", 1, 1, 0);
	expect("{\"a\":1}", 1, 1, 1);
	expect("{\"a\":[1,[2,{\"b\":[]}]]}", 1, 1, 4);
	expect("{\"a\":\"x\",\"b\":\"y\"}", 1, 1, 1);
	/* keys out of order, or twice: cJSON's tree, not canonical */
	expect("{\"b\":1,\"a\":2}", 0, 1, 1);
	expect("{\"a\":1,\"a\":2}", 0, 1, 1);
	expect("{\"a\":1,\"a\":1}", 0, 1, 1);
	/* the escapes canon writes, and one it does not */
	expect("{\"a\":\"\\\"\\\\\\b\\f\\n\\r\\t\"}", 1, 1, 1);
	expect("{\"a\":\"x\\/y\"}", 0, 1, 1);
	expect("{\"a\\n\":\"\\\\\"}", 1, 1, 1);
	/* UTF-8 and bytes that are not: as they are, not ASCII */
	expect("{\"\xc3\xa9\":\"\xe2\x82\xac\"}", 1, 0, 1);
	expect("{\"a\":\"\xff\xfe\"}", 1, 0, 1);
	expect("{\"a\":\"\x7f\"}", 1, 1, 1);
	/* numbers: whole, up to 15 digits, valueint saturated as cJSON does */
	expect("{\"a\":0,\"b\":-1,\"c\":2147483647,\"d\":2147483648,"
	    "\"e\":-2147483648,\"f\":-2147483649,\"g\":999999999999999,"
	    "\"h\":-999999999999999}", 1, 1, 1);
	expect("{\"a\":true,\"b\":false,\"c\":null}", 1, 1, 1);
	expect("{\"a\":[true,false,null,\"s\",1,{}]}", 1, 1, 2);
	/* depth up to the limit; one deeper is cJSON's */
	nest(buf, JFAST_DEPTH_MAX);
	expect(buf, 1, 1, JFAST_DEPTH_MAX);
	nest(buf, JFAST_DEPTH_MAX + 1);
	assert_int_equal(check(buf), 0);
}

static void
test_left(void **state)
{
	static const char *const left[] = {
		"", " {}", "{} ", "{ }", "{\"a\": 1}", "{\"a\":1 }", "[]", "1",
		"\"a\"", "null", "{\"a\":1.5}", "{\"a\":1e3}", "{\"a\":1E3}",
		"{\"a\":-0}", "{\"a\":01}", "{\"a\":0.0}", "{\"a\":-}",
		"{\"a\":+1}", "{\"a\":1234567890123456}", "{\"a\":1-}",
		"{\"a\":\"\\u0041\"}", "{\"a\":\"\\ud83d\\ude00\"}",
		"{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\", "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}",
		"{\"a\":\"", "{\"a\":", "{\"a\"", "{\"a", "{", "{\"a\":1,}",
		"{,}", "{\"a\":1,,\"b\":2}", "{\"a\"1}", "{\"a\":[1,]}",
		"{\"a\":[,1]}", "{\"a\":[1}", "{\"a\":{]}", "{\"a\":tru}",
		"{\"a\":truex}", "{\"a\":nul}", "{\"a\":falsey}", "{a:1}",
		"{\"a\":1}x", "{\"a\":1}{}", "{\"a\":'x'}", "{1:2}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(left) / sizeof(left[0]); i++)
		if (check(left[i]))
			fail_msg("jfast took %s", left[i]);
	/* a NUL inside: cJSON's, not cut short */
	assert_int_equal(check_len("{\"a\":\"x\0y\"}", 11), 0);
	assert_int_equal(check_len("{\"a\":1}\0", 8), 0);
}

static void
test_record(void **state)
{
	(void)state;
	expect(record, 1, 0, 2);
}

/*
 * Every text one byte away from a record (changed, dropped, doubled):
 * what jfast takes is cJSON's, and what it claims is true.
 */
static void
test_near_record(void **state)
{
	static const char bytes[] = "{}[]\":,\\ 0-1.eEtfnu/\x01\xc3\xa9x";
	size_t len = strlen(record), i, k;
	char *t = malloc(len + 2);
	int taken = 0;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < len; i++) {
		for (k = 0; k < sizeof(bytes) - 1; k++) {
			memcpy(t, record, len);
			t[i] = bytes[k];
			taken += check_len(t, len);
		}
		memcpy(t, record, i);
		memcpy(t + i, record + i + 1, len - i - 1);
		taken += check_len(t, len - 1);
		memcpy(t, record, i + 1);
		memcpy(t + i + 1, record + i, len - i);
		taken += check_len(t, len + 1);
	}
	free(t);
	/* most changes inside strings still parse quickly */
	assert_true(taken > (int)len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taken),
		cmocka_unit_test(test_left),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_near_record),
	};

	return cmocka_run_group_tests_name("jfast", tests, setup, teardown);
}

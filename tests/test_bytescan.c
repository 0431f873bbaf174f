/*
 * test_bytescan.c - the first byte of a kind found a word at a time,
 * against a plain byte-by-byte search, on texts made of the bytes that
 * test its masks hardest: those of the kind, their neighbours, NUL and
 * bytes with the high bit set (which a borrow runs through).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytescan.h"
#include "harness.h"

static const unsigned char alphabet[] = {
	'"', '\\', 0x00, 0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80,
	0x9f, 0xa0, 0xa2, 0xdc, 0xff, 'a', 'a', 'a', 'a', 'a', 'a', 'a',
};

static const char *
slow_quote(const char *p, const char *end)
{
	while (p < end && *p != '"' && *p != '\\')
		p++;
	return p;
}

static const char *
slow_escape(const char *p, const char *end)
{
	while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
		p++;
	return p;
}

/* bytescan_escape_seen against the bytes: the same end, the same OR. */
static void
check_seen(const char *p, const char *end)
{
	const char *e = slow_escape(p, end), *q;
	unsigned want = 0, got = 0x100;	/* a bit already set stays */

	for (q = p; q < e; q++)
		want |= (unsigned char)*q;
	assert_ptr_equal(bytescan_escape_seen(p, end, &got), e);
	assert_int_equal(got, want | 0x100);
}

static void
test_against_bytes(void **state)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		size_t len, i, from;
		char *t;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		len = (size_t)(rng >> 59) + (round % 3 ? 0 : 16); /* 0..46 */
		/* exact size, no NUL after it: a read past shows in valgrind */
		assert_non_null(t = malloc(len ? len : 1));
		for (i = 0; i < len; i++) {
			rng = rng * 6364136223846793005ULL +
			    1442695040888963407ULL;
			/* mostly plain text, now and then one of the kind */
			t[i] = (char)(rng >> 60 < 13 ? 'a' :
			    alphabet[(rng >> 33) % sizeof(alphabet)]);
		}
		for (from = 0; from <= len; from++) {
			assert_ptr_equal(bytescan_quote(t + from, t + len),
			    slow_quote(t + from, t + len));
			assert_ptr_equal(bytescan_escape(t + from, t + len),
			    slow_escape(t + from, t + len));
			check_seen(t + from, t + len);
		}
		free(t);
	}
}

/* Each byte value alone at each place of a word and the next. */
static void
test_every_byte(void **state)
{
	char t[16];
	int c;
	size_t at;

	(void)state;
	for (c = 0; c < 256; c++)
		for (at = 0; at < sizeof(t); at++) {
			int q = c == '"' || c == '\\', e = q || c < 0x20;

			memset(t, 'a', sizeof(t));
			t[at] = (char)c;
			assert_ptr_equal(bytescan_quote(t, t + sizeof(t)),
			    q ? t + at : t + sizeof(t));
			assert_ptr_equal(bytescan_escape(t, t + sizeof(t)),
			    e ? t + at : t + sizeof(t));
			check_seen(t, t + sizeof(t));
			/* a high byte after the one found is not seen */
			if (e && at + 1 < sizeof(t)) {
				t[at + 1] = (char)0xc3;
				check_seen(t, t + sizeof(t));
			}
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_bytes),
		cmocka_unit_test(test_every_byte),
	};

	return cmocka_run_group_tests_name("bytescan", tests, NULL, NULL);
}

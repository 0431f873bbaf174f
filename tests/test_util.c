/*
 * test_util.c - buffers, UTF-8, UUIDs, hashing, error lists, files.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fs.h"
#include "harness.h"
#include "sec.h"
#include "utf8.h"
#include "uuid.h"

static void
test_buf(void **state)
{
	struct buf b;
	char *p;

	(void)state;
	buf_init(&b, 8);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_adds(&b, "abc"), PC_OK);
	assert_int_equal(buf_addf(&b, "%d", 42), PC_OK);
	assert_string_equal(buf_str(&b), "abc42");
	assert_int_equal(buf_failed(&b), PC_OK);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_adds(&b, "12345678"), PC_OK);
	p = buf_detach(&b);
	assert_string_equal(p, "12345678");
	free(p);
	assert_null(b.p);
	buf_free(&b);
}

/*
 * A failed append is sticky (curl's dynbuf): the contents are dropped and
 * every later append fails, so a text with a hole in it is never taken
 * for a whole one, however many appends went unchecked after the hole.
 */
static void
test_buf_sticky(void **state)
{
	struct buf b;
	char want[201];
	int i;

	(void)state;
	/* byte by byte: up to the maximum and no further; past the room */
	buf_init(&b, 3);
	assert_int_equal(buf_addc(&b, 'a'), PC_OK);
	assert_int_equal(buf_addc(&b, 'b'), PC_OK);
	assert_int_equal(buf_addc(&b, 'c'), PC_OK);
	assert_string_equal(buf_str(&b), "abc");
	assert_int_equal(buf_addc(&b, 'd'), PC_ELIMIT);
	buf_free(&b);
	buf_init(&b, 0);
	for (i = 0; i < 200; i++) {
		want[i] = (char)('a' + i % 26);
		assert_int_equal(buf_addc(&b, want[i]), PC_OK);
	}
	want[200] = '\0';
	assert_string_equal(buf_str(&b), want);
	assert_int_equal(b.len, 200);
	buf_free(&b);
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "abc"), PC_OK);
	assert_int_equal(buf_adds(&b, "toolong"), PC_ELIMIT);
	assert_int_equal(buf_failed(&b), PC_ELIMIT);
	assert_null(b.p);			/* wiped and freed */
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	/* short appends that would fit still fail: no hole is papered over */
	assert_int_equal(buf_addc(&b, '!'), PC_ELIMIT);
	assert_int_equal(buf_adds(&b, "d"), PC_ELIMIT);
	assert_int_equal(buf_addf(&b, "%d", 1), PC_ELIMIT);
	assert_int_equal(buf_add(&b, "", 0), PC_ELIMIT);
	assert_int_equal(buf_reserve(&b, 1), PC_ELIMIT);
	assert_null(buf_detach(&b));
	/* buf_reset starts again */
	assert_int_equal(buf_adds(&b, "x"), PC_OK);	/* detach cleared it */
	assert_int_equal(buf_adds(&b, "123456789"), PC_ELIMIT);
	buf_reset(&b);
	assert_int_equal(buf_failed(&b), PC_OK);
	assert_int_equal(buf_adds(&b, "again"), PC_OK);
	assert_string_equal(buf_str(&b), "again");
	/* and so does buf_free */
	assert_int_equal(buf_adds(&b, "toolong"), PC_ELIMIT);
	buf_free(&b);
	assert_int_equal(buf_adds(&b, "fresh"), PC_OK);
	assert_string_equal(buf_str(&b), "fresh");
	buf_free(&b);
}

static void
test_utf8(void **state)
{
	int i;

	(void)state;
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count("caf\xc3\xa9", 5), 4);
	assert_int_equal(utf8_count("\xe2\x82\xac", 3), 1);		/* euro */
	assert_int_equal(utf8_count("\xf0\x9f\x98\x80", 4), 1);	/* emoji */
	assert_int_equal(utf8_count("\xc3", 1), -1);		/* truncated */
	assert_int_equal(utf8_count("\xc0\xaf", 2), -1);		/* overlong */
	assert_int_equal(utf8_count("\xe0\x80\xaf", 3), -1);	/* overlong */
	assert_int_equal(utf8_count("\xed\xa0\x80", 3), -1);	/* surrogate */
	assert_int_equal(utf8_count("\xf4\x90\x80\x80", 4), -1);	/* > 10FFFF */
	assert_int_equal(utf8_count("\xff", 1), -1);
	/* past the first eight bytes, and each byte of a word of eight */
	assert_int_equal(utf8_count("abcdefghijklmnopq", 17), 17);
	assert_int_equal(utf8_count("abcdefgh\xc3\xa9ijklmnop", 18), 17);
	assert_int_equal(utf8_count("abcdefghijklmnop\xe2\x82\xac", 19), 17);
	for (i = 0; i < 16; i++) {
		char t[17];

		memset(t, 'a', 16);
		t[16] = '\0';
		t[i] = '\0';
		assert_int_equal(utf8_count(t, 16), -1);	/* a NUL */
		t[i] = '\x80';
		assert_int_equal(utf8_count(t, 16), -1);	/* a lone continuation */
		t[i] = '\x7f';
		assert_int_equal(utf8_count(t, 16), 16);
		t[i] = '\x01';
		assert_int_equal(utf8_count(t, 16), 16);
	}
	assert_int_equal(utf8_count("a\0b", 3), -1);
	assert_int_equal(utf8_count("\x80", 1), -1);
}

static void
test_uuid(void **state)
{
	char a[UUID_LEN], b[UUID_LEN];
	uint8_t d[32] = {0};
	int i;

	(void)state;
	assert_int_equal(uuid_v4(a), PC_OK);
	assert_int_equal(uuid_v4(b), PC_OK);
	assert_true(uuid_valid(a));
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');
	assert_true(strchr("89ab", a[19]) != NULL);
	/*
	 * a new record's id: version 7, valid, and each one made after
	 * another sorts after it, however many come in one millisecond
	 */
	assert_int_equal(uuid_record(a), PC_OK);
	for (i = 0; i < 20000; i++) {
		assert_int_equal(uuid_record(b), PC_OK);
		assert_true(uuid_valid(b));
		assert_int_equal(b[14], '7');
		assert_true(strchr("89ab", b[19]) != NULL);
		assert_true(strcmp(a, b) < 0);
		memcpy(a, b, UUID_LEN);
	}
	/* its short id: from the random end, the start of the last group */
	assert_string_equal(uuid_short("017f22e2-79b0-7cc3-98c4-dc0c0c07398f").s,
	    "dc0c0c07");
	assert_string_equal(uuid_short("abc").s, "abc");
	assert_string_equal(uuid_short(NULL).s, "");
	/* a time-ordered one: later is greater */
	assert_int_equal(uuid_v7(1645557742000000000LL, a), PC_OK);
	assert_int_equal(uuid_v7(1645557742000001000LL, b), PC_OK);
	assert_int_equal(a[14], '7');
	assert_true(strcmp(a, b) < 0);
	/*
	 * RFC 9562 appendix A.6: 2022-02-22 19:22:22 UTC is 0x017f22e279b0
	 * ms; the sub-millisecond part comes next (here half a millisecond,
	 * 2048/4096 = 0x800).
	 */
	assert_int_equal(uuid_v7(1645557742000500000LL, a), PC_OK);
	assert_memory_equal(a, "017f22e2-79b0-7800-", 19);
	assert_true(strchr("89ab", a[19]) != NULL);
	assert_int_equal(uuid_v7(-1, a), PC_EINVAL);
	d[0] = 0xab;
	uuid_from_digest(d, a);
	assert_string_equal(a, "ab000000-0000-8000-8000-000000000000");
	uuid_from_digest(d, b);
	assert_string_equal(a, b);
	assert_false(uuid_valid("ab000000-0000-8000-8000-00000000000"));
	assert_false(uuid_valid("ab000000-0000-8000-8000-0000000000000"));
	assert_false(uuid_valid("ab000000+0000-8000-8000-000000000000"));
	assert_false(uuid_valid("AB000000-0000-8000-8000-000000000000"));
	assert_false(uuid_valid("00000000-0000-0000-0000-000000000000"));
}

/* uuid_parse against uuid_format, and each way a text can be wrong. */
static void
test_uuid_parse(void **state)
{
	static const char *const bad[] = {
		"", "0", "017f22e2", "017f22e2-", "017f22e2-79b0-7cc3-98c4-",
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398", /* 35 */
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398fa", /* 37 */
		"017f22e2079b0-7cc3-98c4-dc0c0c07398f", /* no dash */
		"017f22e2-79b0a7cc3-98c4-dc0c0c07398f",
		"017f22e2-79b0-7cc3x98c4-dc0c0c07398f",
		"017f22e2-79b0-7cc3-98c4_dc0c0c07398f",
		"017f22e2-79b0-7cc3-98c4-dc0c0c07-98f", /* dash for digit */
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398g",
		"017f22e2-79b0-7cC3-98c4-dc0c0c07398f",
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398/",
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398:",
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398`",
		"{17f22e2-79b0-7cc3-98c4-dc0c0c07398f",
	};
	uint8_t u[16], v[16], keep[16];
	char a[UUID_LEN];
	size_t i;
	int k;

	(void)state;
	for (k = 0; k < 200; k++) {
		for (i = 0; i < 16; i++)
			u[i] = (uint8_t)(k * 37 + i * 101);
		uuid_format(u, a);
		assert_int_equal(uuid_parse(a, v), 0);
		assert_memory_equal(u, v, 16);
	}
	assert_int_equal(uuid_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f", v),
	    0);
	assert_int_equal(v[0], 0x01);
	assert_int_equal(v[3], 0xe2);
	assert_int_equal(v[15], 0x8f);
	memset(keep, 0x5a, sizeof(keep));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(v, keep, sizeof(v));
		assert_int_equal(uuid_parse(bad[i], v), -1);
		assert_memory_equal(v, keep, 16);	/* untouched */
	}
}

static void
test_sec(void **state)
{
	char hex[SEC_HEX64_LEN], b64[64];
	uint8_t raw[4] = {0xfb, 0xff, 0x00, 0x10}, back[4];

	(void)state;
	/* FIPS 180-2 example: SHA-256("abc") */
	sec_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	sec_b64url(raw, 4, b64);
	assert_string_equal(b64, "-_8AEA");
	sec_b64url(raw, 3, b64);
	assert_string_equal(b64, "-_8A");
	sec_b64url(raw, 2, b64);
	assert_string_equal(b64, "-_8");
	sec_hex(raw, 4, hex);
	assert_string_equal(hex, "fbff0010");
	assert_int_equal(sec_unhex("FBff0010", back, 4), 0);
	assert_memory_equal(back, raw, 4);
	assert_int_equal(sec_unhex("fbff001", back, 4), -1);
	assert_int_equal(sec_unhex("fbff001g", back, 4), -1);
	assert_true(sec_equal("abcd", "abcd", 4));
	assert_false(sec_equal("abcd", "abce", 4));
}

/* One key, many messages: as the one-shot HMAC, and as Python's. */
static void
test_hmac_keyed(void **state)
{
	/* Python 3: hmac.new(KEY, MSG, hashlib.sha256).hexdigest() */
	static const struct {
		size_t		 keylen;	/* of bytes 0, 1, 2, ... */
		const char	*key, *msg, *hex;
	} v[] = {
		{3, "key", "The quick brown fox jumps over the lazy dog",
		    "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
		{100, NULL, "record x",	/* longer than a block: hashed */
		    "300293839cad02d6ab9d7a7f5c8357f691e032c93d2989e7831580eec41e7802"},
		{0, "", "",
		    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
	};
	uint8_t key[100], a[SEC_SHA256_LEN], b[SEC_SHA256_LEN];
	char hex[SEC_HEX64_LEN];
	struct sec_hmac *h;
	size_t i;
	int rep;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const void *k = v[i].key ? (const void *)v[i].key : key;

		assert_non_null(h = sec_hmac_new(k, v[i].keylen));
		for (rep = 0; rep < 2; rep++) {	/* the pads are kept */
			assert_int_equal(sec_hmac(h, v[i].msg,
			    strlen(v[i].msg), a), PC_OK);
			sec_hex(a, sizeof(a), hex);
			assert_string_equal(hex, v[i].hex);
		}
		assert_int_equal(sec_hmac_sha256(k, v[i].keylen, v[i].msg,
		    strlen(v[i].msg), b), PC_OK);
		assert_memory_equal(a, b, sizeof(a));
		sec_hmac_free(h);
	}
	sec_hmac_free(NULL);
}

static void
test_errors(void **state)
{
	struct err_list a, b;
	char line[300];
	int i;

	(void)state;
	/* every code has a stable name that parses back */
	for (i = 1; i < E_CODE_MAX; i++) {
		const char *name = err_code_name((enum err_code)i);

		assert_true(strncmp(name, "E_", 2) == 0);
		assert_int_equal(err_code_parse(name), i);
	}
	assert_int_equal(err_code_parse("E_NOPE"), E_NONE);
	for (i = PC_OK; i <= PC_ELIMIT; i++)
		assert_string_not_equal(pc_strerror((pc_rc)i), "unknown error");
	err_init(&a);
	err_init(&b);
	for (i = 0; i < ERR_LIST_MAX + 5; i++)
		err_add(&a, E_RANGE, "age", "n%d", i);
	assert_int_equal(a.n, ERR_LIST_MAX);
	assert_int_equal(err_count(&a), ERR_LIST_MAX + 5);
	err_add(&b, E_TYPE, "", "whole record");
	assert_string_equal(err_line(&b, 0, line, sizeof(line)),
	    "whole record");
	assert_string_equal(err_line(&a, 1, line, sizeof(line)), "age: n1");
	err_move(&b, &a);
	assert_int_equal(a.n, 0);
	assert_true(err_has(&b, E_RANGE));
	err_free(&a);
	err_free(&b);
}

static void
test_files(void **state)
{
	const char *dir = th_tmpdir();
	struct err_list errs;
	struct stat st;
	struct buf b;

	(void)state;
	err_init(&errs);
	buf_init(&b, 0);
	assert_int_equal(fs_mkdirs(th_path(dir, "a/b/c"), 0700, &errs), PC_OK);
	assert_int_equal(stat(th_path(dir, "a/b/c"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(fs_write_atomic(th_path(dir, "a/f"), "hello", 5, 0600,
	    &errs), PC_OK);
	assert_int_equal(stat(th_path(dir, "a/f"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fs_read_file(th_path(dir, "a/f"), &b, &errs), PC_OK);
	assert_string_equal(buf_str(&b), "hello");
	assert_int_equal(fs_write_atomic(th_path(dir, "a/f"), "bye", 3, 0600,
	    &errs), PC_OK);
	buf_reset(&b);
	assert_int_equal(fs_read_file(th_path(dir, "a/f"), &b, &errs), PC_OK);
	assert_string_equal(buf_str(&b), "bye");
	assert_int_equal(fs_read_file(th_path(dir, "nope"), &b, &errs),
	    PC_ENOTFOUND);
	b.max = 2;
	buf_reset(&b);
	assert_int_equal(fs_read_file(th_path(dir, "a/f"), &b, &errs),
	    PC_ELIMIT);
	assert_true(fs_exists(th_path(dir, "a")));
	assert_false(fs_exists(th_path(dir, "zz")));
	buf_free(&b);
	err_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_buf_sticky),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_uuid_parse),
		cmocka_unit_test(test_sec),
		cmocka_unit_test(test_hmac_keyed),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}

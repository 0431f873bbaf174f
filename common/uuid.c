/*
 * uuid.c - RFC 9562 UUIDs in their canonical lowercase text form.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sec.h"
#include "uuid.h"

void
uuid_format(const uint8_t u[16], char out[UUID_LEN])
{
	char hex[33];

	sec_hex(u, 16, hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}

pc_rc
uuid_v4(char out[UUID_LEN])
{
	uint8_t u[16];

	if (sec_random(u, sizeof(u)) != PC_OK)
		return PC_EIO;
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	uuid_format(u, out);
	return PC_OK;
}

/*
 * A version 7 UUID from a 60-bit stamp: 48 bits of Unix milliseconds,
 * then 12 bits of the millisecond in 1/4096ths (RFC 9562 6.2, method 3).
 * Everything after them is random: the short id comes from there.
 */
static pc_rc
v7_from_stamp(uint64_t stamp, char out[UUID_LEN])
{
	uint8_t u[16];
	uint64_t ms = stamp >> 12;
	unsigned sub = (unsigned)(stamp & 0xfff);
	int i;

	if (sec_random(u, sizeof(u)) != PC_OK)
		return PC_EIO;
	for (i = 0; i < 6; i++)
		u[i] = (uint8_t)(ms >> (40 - 8 * i));
	u[6] = (uint8_t)(0x70 | (sub >> 8));
	u[7] = (uint8_t)(sub & 0xff);
	u[8] = (u[8] & 0x3f) | 0x80;
	uuid_format(u, out);
	return PC_OK;
}

static uint64_t
v7_stamp(int64_t ns)
{
	uint64_t ms = (uint64_t)(ns / 1000000);

	return ms << 12 | (uint64_t)((ns % 1000000) * 4096 / 1000000);
}

pc_rc
uuid_v7(int64_t ns, char out[UUID_LEN])
{
	if (ns < 0)
		return PC_EINVAL;
	return v7_from_stamp(v7_stamp(ns), out);
}

/*
 * Monotonic within the process: RFC 9562 6.2 method 3 (the clock's
 * sub-millisecond part in rand_a), and when the clock has not moved past
 * the last id's stamp (two ids in one 1/4096 ms, or the clock set back)
 * the last stamp plus one, running ahead of the clock as 6.2 allows.
 * Method 3 because it needs no counter: method 1's would take rand_a and
 * perhaps the start of rand_b, method 2's increments the random bits (ids
 * made together would have neighbouring short ids); here rand_b stays
 * wholly random, and short ids are read from it.
 */
static _Atomic uint64_t last_stamp;

pc_rc
uuid_record(char out[UUID_LEN])
{
	struct timespec ts;
	uint64_t now, prev, next;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return PC_EIO;
	now = v7_stamp((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	prev = atomic_load(&last_stamp);
	do
		next = now > prev ? now : prev + 1;
	while (!atomic_compare_exchange_weak(&last_stamp, &prev, next));
	return v7_from_stamp(next, out);
}

struct uuid_short
uuid_short(const char *id)
{
	struct uuid_short sh;

	/* the start of a canonical id's last group, 12 random hex digits */
	snprintf(sh.s, sizeof(sh.s), "%.*s", UUID_SHORT, id == NULL ? "" :
	    strlen(id) == 36 ? id + UUID_SHORT_AT : id);
	return sh;
}

void
uuid_from_digest(const uint8_t d[32], char out[UUID_LEN])
{
	uint8_t u[16];

	memcpy(u, d, 16);
	u[6] = (u[6] & 0x0f) | 0x80;
	u[8] = (u[8] & 0x3f) | 0x80;
	uuid_format(u, out);
}

/* A lowercase hex digit's value plus one; 0 for any other byte (NUL too). */
static const uint8_t hex_plus1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* Where each byte's two digits start in the text. */
static const uint8_t digit_at[16] = {
	0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34,
};

/*
 * Read in one pass, each digit once: every record names several ids,
 * and copying the digits out to decode them took over a thousand
 * instructions an id. Bytes are read in order and the reading stops at
 * the first that is wrong, so a short string is never read past its NUL.
 */
int
uuid_parse(const char *s, uint8_t out[16])
{
	const unsigned char *t = (const unsigned char *)s;
	uint8_t u[16];
	int k, at, hi, lo;

	for (k = 0; k < 16; k++) {
		at = digit_at[k];
		if ((at == 9 || at == 14 || at == 19 || at == 24) &&
		    t[at - 1] != '-')
			return -1;
		if ((hi = hex_plus1[t[at]]) == 0 ||
		    (lo = hex_plus1[t[at + 1]]) == 0)
			return -1;
		u[k] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	if (t[36] != '\0')
		return -1;
	memcpy(out, u, sizeof(u));
	return 0;
}

int
uuid_valid(const char *s)
{
	uint8_t u[16];
	static const uint8_t nil[16];

	return uuid_parse(s, u) == 0 && memcmp(u, nil, 16) != 0;
}

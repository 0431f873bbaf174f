/*
 * bytescan.c - finding a byte of a kind a word of eight at a time.
 *
 * For each kind a word w gets a mask with the high bit of each byte that
 * is of the kind: (x - ONES) & ~x & HIGHS marks the bytes of x that are
 * zero, and (w - ONES * n) & ~w & HIGHS those of w below n (n <= 0x80).
 * A borrow starts only at a marked byte and runs towards the later bytes,
 * so bytes after the first marked one may be marked wrongly, but never
 * one before it: the lowest mark is exact. On a little-endian machine
 * the lowest mark is the first byte in memory; elsewhere the word only
 * says whether there is one, and its bytes are then read one by one.
 */
#include <stdint.h>
#include <string.h>

#include "bytescan.h"

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_MARK(m)	((size_t)__builtin_ctzll(m) >> 3)
#endif

static uint64_t
zero_bytes(uint64_t x)
{
	return (x - ONES) & ~x & HIGHS;
}

static uint64_t
quote_marks(uint64_t w)
{
	return zero_bytes(w ^ (ONES * '"')) | zero_bytes(w ^ (ONES * '\\'));
}

static uint64_t
escape_marks(uint64_t w)
{
	return quote_marks(w) | ((w - ONES * 0x20) & ~w & HIGHS);
}

/* Past the words with no mark; at the first marked one, its first mark. */
static const char *
skip_words(const char *p, const char *end, uint64_t (*marks)(uint64_t))
{
	uint64_t w, m;

	while (end - p >= 8) {
		memcpy(&w, p, sizeof(w));
		if ((m = marks(w)) != 0) {
#ifdef FIRST_MARK
			return p + FIRST_MARK(m);
#else
			return p;
#endif
		}
		p += 8;
	}
	return p;
}

const char *
bytescan_quote(const char *p, const char *end)
{
	for (p = skip_words(p, end, quote_marks); p < end; p++)
		if (*p == '"' || *p == '\\')
			break;
	return p;
}

const char *
bytescan_escape(const char *p, const char *end)
{
	for (p = skip_words(p, end, escape_marks); p < end; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			break;
	return p;
}

const char *
bytescan_escape_seen(const char *p, const char *end, unsigned *seen)
{
	uint64_t w, m, acc = 0;

	while (end - p >= 8) {
		memcpy(&w, p, sizeof(w));
		if ((m = escape_marks(w)) != 0) {
#ifdef FIRST_MARK
			size_t k = FIRST_MARK(m);

			/* the bytes before the mark, and only those */
			if (k > 0)
				acc |= w & (~0ULL >> (64 - 8 * k));
			p += k;
#endif
			break;
		}
		acc |= w;
		p += 8;
	}
	/* the word's bytes folded into one */
	acc |= acc >> 32;
	acc |= acc >> 16;
	acc |= acc >> 8;
	*seen |= (unsigned)(acc & 0xff);
	for (; p < end; p++) {
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			break;
		*seen |= (unsigned char)*p;
	}
	return p;
}

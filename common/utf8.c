/*
 * utf8.c - strict UTF-8 validation (RFC 3629).
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

long
utf8_count(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	long n = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned long cp;
		size_t k, need;
		uint64_t w;

		/*
		 * Eight bytes at a time while all are ASCII other than NUL: a
		 * zero byte borrows (its high bit set in w - ONES) and no
		 * borrow starts elsewhere; the text is nearly always ASCII.
		 */
		if (len - i >= 8) {
			memcpy(&w, s + i, sizeof(w));
			if (((w | (w - ONES)) & HIGHS) == 0) {
				i += 8;
				n += 8;
				continue;
			}
		}
		if (c == 0)
			return -1;
		if (c < 0x80) {
			i++;
			n++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			return -1;
		if (len - i <= need)
			return -1;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* overlong, surrogate and out-of-range forms */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return -1;
		i += need + 1;
		n++;
	}
	return n;
}

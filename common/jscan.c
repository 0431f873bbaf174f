/*
 * jscan.c - one pass over the top-level members of canonical JSON text.
 */
#include <stdint.h>
#include <string.h>

#include "bytescan.h"
#include "jscan.h"

/*
 * The end of the string that starts at p (a quote), or NULL: also when
 * it holds a control byte, which JSON's strings may not.
 */
static const char *
skip_string(const char *p, const char *end)
{
	for (p++; (p = bytescan_escape(p, end)) < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p != '\\' || ++p == end)	/* escaped: the byte after it */
			return NULL;
	}
	return NULL;
}

/*
 * The end of the value that starts at p, or NULL. Each bit of open says
 * whether a bracket open at that depth was '[': the one that closes it
 * must match (deeper than 64 is refused; records are never so deep).
 */
static const char *
skip_value(const char *p, const char *end)
{
	uint64_t open = 0;
	int depth = 0;

	do {
		if (p == end)
			return NULL;
		if (*p == '"') {
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			/* a string member ends with its quote: "a"b is no value */
			if (depth == 0)
				return p < end && (*p == ',' || *p == '}') ? p :
				    NULL;
			continue;
		}
		if (*p == '{' || *p == '[') {
			if (depth == 64)
				return NULL;
			open = (open & ~(UINT64_C(1) << depth)) |
			    (uint64_t)(*p == '[') << depth;
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth < 0 ||
			    ((open >> depth) & 1) != (uint64_t)(*p == ']'))
				return NULL;
		} else if ((depth == 0 && (*p == ',' || *p == ':')) ||
		    (unsigned char)*p <= ' ')
			return NULL;	/* canonical text has no spaces */
		p++;
	} while (depth > 0 || (p < end && *p != ',' && *p != '}'));
	return p;
}

/* <0, 0, >0 as key a sorts before, with, after key b (by their bytes). */
static int
key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

pc_rc
jscan_members(const char *p, size_t len, const char *const *names, size_t n,
    struct jscan_span *f)
{
	const char *end = p + len, *k, *v, *last = NULL;
	size_t klen, lastlen = 0, j = 0;
	int c;

	memset(f, 0, n * sizeof(*f));
	if (len < 2 || *p++ != '{')
		return PC_EINVAL;
	if (*p == '}')
		return p + 1 == end ? PC_OK : PC_EINVAL;
	for (;;) {
		if (p == end || *p != '"' || (v = skip_string(p, end)) == NULL)
			return PC_EINVAL;
		k = p + 1;
		klen = (size_t)(v - 1 - k);
		if (v == end || *v != ':' || memchr(k, '\\', klen) != NULL ||
		    (last != NULL && key_cmp(k, klen, last, lastlen) <= 0))
			return PC_EINVAL;	/* keys in order, as canonical */
		last = k;
		lastlen = klen;
		p = v + 1;
		if ((v = skip_value(p, end)) == NULL)
			return PC_EINVAL;
		/* both in order: the names are walked once, beside the keys */
		c = 1;
		while (j < n && (c = key_cmp(names[j], strlen(names[j]), k,
		    klen)) < 0)
			j++;
		if (j < n && c == 0) {
			f[j].p = p;
			f[j].len = (size_t)(v - p);
		}
		p = v;
		if (p == end)
			return PC_EINVAL;
		if (*p++ == '}')
			return p == end ? PC_OK : PC_EINVAL;
	}
}

pc_rc
jscan_string(const struct jscan_span *v, char *s, size_t size)
{
	if (v->len < 2 || v->p[0] != '"' || v->len - 2 >= size ||
	    memchr(v->p, '\\', v->len) != NULL)
		return PC_EINVAL;
	memcpy(s, v->p + 1, v->len - 2);
	s[v->len - 2] = '\0';
	return PC_OK;
}

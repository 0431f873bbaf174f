/*
 * jsplit.c - the outer shape of a batch, read byte by byte: strings
 * skipped with their escapes, brackets counted, each record ending at a
 * comma or the closing bracket at its own level.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bytescan.h"
#include "jsplit.h"

/* Deeper than this inside a record: cJSON's own limit decides. */
#define JSPLIT_DEPTH	(CJSON_NESTING_LIMIT - 4)

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return p;
}

/* Past the literal s, or NULL. */
static const char *
expect(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	p = skip_ws(p, end);
	if ((size_t)(end - p) < n || memcmp(p, s, n) != 0)
		return NULL;
	return p + n;
}

/* The end of the value at p: at a comma or ']' of its level, or NULL. */
static const char *
value_end(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		switch (*p) {
		case '"':
			/* most of a batch is strings: passed a word at a time */
			for (p++;; p++) {
				if ((p = bytescan_quote(p, end)) == end)
					return NULL;
				if (*p == '"')
					break;
				if (++p == end)	/* past the backslash's */
					return NULL;
			}
			break;
		case '{':
		case '[':
			if (++depth > JSPLIT_DEPTH)
				return NULL;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return *p == ']' ? p : NULL;
			depth--;
			break;
		case ',':
			if (depth == 0)
				return p;
			break;
		}
	}
	return NULL;
}

static pc_rc
add(struct jsplit_span **v, size_t *n, size_t *cap, const char *p,
    size_t len)
{
	struct jsplit_span *nv;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((nv = realloc(*v, *cap * sizeof(*nv))) == NULL)
			return PC_ENOMEM;
		*v = nv;
	}
	(*v)[*n].p = p;
	(*v)[(*n)++].len = len;
	return PC_OK;
}

/* The records between '[' and ']': p just past '['; *at past ']'. */
static pc_rc
spans(const char *p, const char *end, const char **at,
    struct jsplit_span **v, size_t *n)
{
	const char *e, *t;
	size_t cap = 0;
	pc_rc rc;

	if ((t = expect(p, end, "]")) != NULL) {
		*at = t;
		return PC_OK;
	}
	for (;;) {
		p = skip_ws(p, end);
		if ((e = value_end(p, end)) == NULL || e == p)
			return PC_ENOTFOUND;
		for (t = e; t > p && is_ws(t[-1]); t--)
			;
		if ((rc = add(v, n, &cap, p, (size_t)(t - p))) != PC_OK)
			return rc;
		p = e + 1;
		if (*e == ']') {
			*at = p;
			return PC_OK;
		}
	}
}

pc_rc
jsplit_records(const char *text, size_t len, struct jsplit_span **out,
    size_t *n)
{
	const char *end = text + len, *p;
	pc_rc rc = PC_ENOTFOUND;

	*out = NULL;
	*n = 0;
	if ((p = expect(text, end, "{")) != NULL &&
	    (p = expect(p, end, "\"records\"")) != NULL &&
	    (p = expect(p, end, ":")) != NULL &&
	    (p = expect(p, end, "[")) != NULL &&
	    (rc = spans(p, end, &p, out, n)) == PC_OK &&
	    ((p = expect(p, end, "}")) == NULL || skip_ws(p, end) != end))
		rc = PC_ENOTFOUND;
	if (rc != PC_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

struct cJSON *
jsplit_parse(const char *text, size_t len)
{
	const char *end = NULL, *p;
	cJSON *json;

	json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	for (p = end; p != NULL && p < text + len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			break;
	if (json != NULL && p == text + len)
		return json;
	cJSON_Delete(json);
	return NULL;
}

/*
 * canon.c - canonical JSON serialisation (sorted keys, minimal escapes).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytescan.h"
#include "canon.h"

#define CANON_DEPTH_MAX	32

pc_rc
canon_string(const char *s, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	pc_rc rc;

	if ((rc = buf_addc(out, '"')) != PC_OK)
		return rc;
	for (i = 0; i < len; i++) {
		unsigned char c;
		char esc[7];
		size_t elen = 2;

		/* a record's strings, ids and dates, need no escape at all */
		if ((i = (size_t)(bytescan_escape(s + i, s + len) - s)) == len)
			break;
		c = (unsigned char)s[i];
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if ((rc = buf_add(out, s + start, i - start)) != PC_OK ||
		    (rc = buf_add(out, esc, elen)) != PC_OK)
			return rc;
		start = i + 1;
	}
	if ((rc = buf_add(out, s + start, len - start)) != PC_OK)
		return rc;
	return buf_addc(out, '"');
}

static pc_rc
canon_number(double v, struct buf *out)
{
	char d[24], *p = d + sizeof(d);
	unsigned long long u;

	if (!isfinite(v))
		return PC_EINVAL;
	if (v != floor(v) || fabs(v) >= 9007199254740992.0)
		return buf_addf(out, "%.17g", v);
	/* whole numbers, nearly all of them: no printf */
	u = (unsigned long long)fabs(v);
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return buf_add(out, p, (size_t)(d + sizeof(d) - p));
}

static pc_rc canon_value(const cJSON *, struct buf *, int depth);

static int
key_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* a sorts after b; the first bytes settle most comparisons */
static int
key_after(const char *a, const char *b)
{
	if (a[0] != b[0])
		return (unsigned char)a[0] > (unsigned char)b[0];
	return strcmp(a, b) > 0;
}

/* Objects up to this many keys are sorted on the stack. */
#define CANON_KEYS_STACK	48

static pc_rc
canon_object(const cJSON *o, struct buf *out, int depth)
{
	const cJSON *c, *stack[CANON_KEYS_STACK];
	const cJSON **kids = stack;
	size_t n = 0, i, j;
	pc_rc rc = PC_OK;

	for (c = o->child; c != NULL; c = c->next)
		n++;
	if (n > CANON_KEYS_STACK &&
	    (kids = calloc(n, sizeof(*kids))) == NULL)
		return PC_ENOMEM;
	n = 0;
	for (c = o->child; c != NULL; c = c->next)
		kids[n++] = c;
	if (kids != stack)
		qsort(kids, n, sizeof(*kids), key_cmp);
	else	/* a record's few dozen keys: insertion sort, no calls */
		for (i = 1; i < n; i++) {
			c = kids[i];
			for (j = i; j > 0 && key_after(kids[j - 1]->string,
			    c->string); j--)
				kids[j] = kids[j - 1];
			kids[j] = c;
		}
	rc = buf_addc(out, '{');
	for (i = 0; rc == PC_OK && i < n; i++) {
		if (i > 0 && (rc = buf_addc(out, ',')) != PC_OK)
			break;
		if ((rc = canon_string(kids[i]->string,
		    strlen(kids[i]->string), out)) != PC_OK ||
		    (rc = buf_addc(out, ':')) != PC_OK)
			break;
		rc = canon_value(kids[i], out, depth + 1);
	}
	if (rc == PC_OK)
		rc = buf_addc(out, '}');
	if (kids != stack)
		free(kids);
	return rc;
}

static pc_rc
canon_value(const cJSON *v, struct buf *out, int depth)
{
	const cJSON *c;
	pc_rc rc;

	if (depth > CANON_DEPTH_MAX)
		return PC_ELIMIT;
	if (v == NULL)
		return PC_EINVAL;
	/*
	 * The type read once, as cJSON_Is*() each read it (its low byte),
	 * not asked of the library seven times a value.
	 */
	switch (v->type & 0xFF) {
	case cJSON_NULL:
		return buf_adds(out, "null");
	case cJSON_True:
		return buf_adds(out, "true");
	case cJSON_False:
		return buf_adds(out, "false");
	case cJSON_Number:
		return canon_number(v->valuedouble, out);
	case cJSON_String:
		return canon_string(v->valuestring, strlen(v->valuestring),
		    out);
	case cJSON_Array:
		if ((rc = buf_addc(out, '[')) != PC_OK)
			return rc;
		for (c = v->child; c != NULL; c = c->next) {
			if (c != v->child && (rc = buf_addc(out, ',')) != PC_OK)
				return rc;
			if ((rc = canon_value(c, out, depth + 1)) != PC_OK)
				return rc;
		}
		return buf_addc(out, ']');
	case cJSON_Object:
		return canon_object(v, out, depth);
	default:
		return PC_EINVAL;
	}
}

pc_rc
canon_json(const cJSON *v, struct buf *out)
{
	return canon_value(v, out, 0);
}

pc_rc
canon_hash(const cJSON *v, struct buf *out, uint8_t digest[SEC_SHA256_LEN],
    char hex[SEC_HEX64_LEN])
{
	uint8_t md[SEC_SHA256_LEN];
	pc_rc rc;

	buf_reset(out);
	if ((rc = canon_json(v, out)) != PC_OK)
		return rc;
	if (digest == NULL)
		digest = md;
	sec_sha256(buf_str(out), out->len, digest);
	sec_hex(digest, SEC_SHA256_LEN, hex);
	return PC_OK;
}

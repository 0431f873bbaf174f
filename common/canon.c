/*
 * canon.c - canonical JSON serialisation (sorted keys, minimal escapes).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
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
	if (!isfinite(v))
		return PC_EINVAL;
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return buf_addf(out, "%lld", (long long)v);
	return buf_addf(out, "%.17g", v);
}

static int
key_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

static pc_rc canon_value(const cJSON *, struct buf *, int depth);

static pc_rc
canon_object(const cJSON *o, struct buf *out, int depth)
{
	const cJSON *c;
	const cJSON **kids;
	size_t n = 0, i;
	pc_rc rc = PC_OK;

	for (c = o->child; c != NULL; c = c->next)
		n++;
	if ((kids = calloc(n ? n : 1, sizeof(*kids))) == NULL)
		return PC_ENOMEM;
	n = 0;
	for (c = o->child; c != NULL; c = c->next)
		kids[n++] = c;
	qsort(kids, n, sizeof(*kids), key_cmp);
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
	if (cJSON_IsNull(v))
		return buf_adds(out, "null");
	if (cJSON_IsTrue(v))
		return buf_adds(out, "true");
	if (cJSON_IsFalse(v))
		return buf_adds(out, "false");
	if (cJSON_IsNumber(v))
		return canon_number(v->valuedouble, out);
	if (cJSON_IsString(v))
		return canon_string(v->valuestring, strlen(v->valuestring),
		    out);
	if (cJSON_IsArray(v)) {
		if ((rc = buf_addc(out, '[')) != PC_OK)
			return rc;
		for (c = v->child; c != NULL; c = c->next) {
			if (c != v->child && (rc = buf_addc(out, ',')) != PC_OK)
				return rc;
			if ((rc = canon_value(c, out, depth + 1)) != PC_OK)
				return rc;
		}
		return buf_addc(out, ']');
	}
	if (cJSON_IsObject(v))
		return canon_object(v, out, depth);
	return PC_EINVAL;
}

pc_rc
canon_json(const cJSON *v, struct buf *out)
{
	return canon_value(v, out, 0);
}

pc_rc
canon_hash(const cJSON *v, struct buf *out, char hex[SEC_HEX64_LEN])
{
	pc_rc rc;

	buf_reset(out);
	if ((rc = canon_json(v, out)) != PC_OK)
		return rc;
	sec_sha256_hex(buf_str(out), out->len, hex);
	return PC_OK;
}

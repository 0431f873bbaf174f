/*
 * jfast.c - recursive descent over canonical text, byte by byte outside
 * strings and a word at a time inside them; every doubt gives up (NULL)
 * rather than guess what cJSON would make of it.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "bytescan.h"
#include "jfast.h"

struct jfast {
	const char	*p, *end;
	int		 canonical, ascii, depth;
};

static cJSON *
new_item(void)
{
	cJSON *c = cJSON_malloc(sizeof(*c));

	if (c != NULL)
		memset(c, 0, sizeof(*c));
	return c;
}

/*
 * The string at p (its opening quote) decoded into a new block, *out;
 * -1 when it is left to cJSON: a \u escape, an escape cJSON refuses, a
 * control character (which canonical text would have escaped).
 */
static int
parse_string(struct jfast *j, char **out)
{
	const char *s = j->p + 1, *q = s, *e;
	unsigned seen = 0;
	size_t n = 0;
	char *d;

	/* its end and decoded length, the escapes checked */
	for (;;) {
		if ((e = bytescan_escape_seen(q, j->end, &seen)) == j->end)
			return -1;
		n += (size_t)(e - q);
		if (*e == '"')
			break;
		if ((unsigned char)*e < 0x20 || e + 1 == j->end)
			return -1;
		switch (e[1]) {
		case '/':
			j->canonical = 0;	/* canon writes a plain '/' */
			/* FALLTHROUGH */
		case '"': case '\\': case 'b': case 'f': case 'n': case 'r':
		case 't':
			break;
		default:
			return -1;	/* \u, or not JSON */
		}
		n++;
		q = e + 2;
	}
	if (seen & 0x80)
		j->ascii = 0;
	if ((d = cJSON_malloc(n + 1)) == NULL)
		return -1;
	if (n == (size_t)(e - s))
		memcpy(d, s, n);	/* nearly every string: no escape */
	else {
		char *w = d;

		for (q = s; q < e; q++) {
			if (*q != '\\') {
				*w++ = *q;
				continue;
			}
			switch (*++q) {
			case 'b': *w++ = '\b'; break;
			case 'f': *w++ = '\f'; break;
			case 'n': *w++ = '\n'; break;
			case 'r': *w++ = '\r'; break;
			case 't': *w++ = '\t'; break;
			default: *w++ = *q; break;	/* " \ / */
			}
		}
	}
	d[n] = '\0';
	*out = d;
	j->p = e + 1;
	return 0;
}

/*
 * A whole number of at most 15 digits, as cJSON's strtod would read it
 * exactly; anything else cJSON's number parse might read (a fraction,
 * an exponent, a leading zero, "-0", more digits) is left to it.
 */
static int
parse_number(struct jfast *j, cJSON *item)
{
	const char *p = j->p;
	int neg = 0, nd = 0;
	int64_t v = 0;
	double d;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	while (p < j->end && *p >= '0' && *p <= '9') {
		if (++nd > 15)
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	if (nd == 0 || (nd > 1 && p[-nd] == '0') || (neg && v == 0))
		return -1;
	if (p < j->end && (*p == '.' || *p == 'e' || *p == 'E' ||
	    *p == '+' || *p == '-'))
		return -1;
	d = (double)(neg ? -v : v);
	item->type = cJSON_Number;
	item->valuedouble = d;
	/* cJSON's saturation of valueint */
	if (d >= INT_MAX)
		item->valueint = INT_MAX;
	else if (d <= (double)INT_MIN)
		item->valueint = INT_MIN;
	else
		item->valueint = (int)d;
	j->p = p;
	return 0;
}

static int
literal(struct jfast *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int parse_value(struct jfast *, cJSON *, int depth);

/* Appends a new item after *last (or as the first child); NULL: memory. */
static cJSON *
append(cJSON *parent, cJSON **last)
{
	cJSON *c = new_item();

	if (c == NULL)
		return NULL;
	if (*last == NULL)
		parent->child = c;
	else {
		(*last)->next = c;
		c->prev = *last;
	}
	*last = c;
	/* cJSON's first child points back at the last */
	parent->child->prev = c;
	return c;
}

/* a sorts before b, by bytes as canon sorts; the first settles most */
static int
key_before(const char *a, const char *b)
{
	if (a[0] != b[0])
		return (unsigned char)a[0] < (unsigned char)b[0];
	return strcmp(a, b) < 0;
}

static int
parse_object(struct jfast *j, cJSON *item, int depth)
{
	cJSON *last = NULL, *c;

	item->type = cJSON_Object;
	if (++j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		if (j->p == j->end || *j->p != '"' ||
		    (c = append(item, &last)) == NULL ||
		    parse_string(j, &c->string) != 0)
			return -1;
		/* canonical: each key after the one before, by its bytes */
		if (c->prev != c && j->canonical && !key_before(c->prev->string,
		    c->string))
			j->canonical = 0;
		if (j->p == j->end || *j->p++ != ':' ||
		    parse_value(j, c, depth + 1) != 0 || j->p == j->end)
			return -1;
		if (*j->p == '}') {
			j->p++;
			return 0;
		}
		if (*j->p++ != ',')
			return -1;
	}
}

static int
parse_array(struct jfast *j, cJSON *item, int depth)
{
	cJSON *last = NULL, *c;

	item->type = cJSON_Array;
	if (++j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		if ((c = append(item, &last)) == NULL ||
		    parse_value(j, c, depth + 1) != 0 || j->p == j->end)
			return -1;
		if (*j->p == ']') {
			j->p++;
			return 0;
		}
		if (*j->p++ != ',')
			return -1;
	}
}

static int
parse_value(struct jfast *j, cJSON *item, int depth)
{
	if (depth > JFAST_DEPTH_MAX || j->p == j->end)
		return -1;
	if (depth > j->depth)
		j->depth = depth;
	switch (*j->p) {
	case '{':
		return parse_object(j, item, depth);
	case '[':
		return parse_array(j, item, depth);
	case '"':
		item->type = cJSON_String;
		return parse_string(j, &item->valuestring);
	case 't':
		item->type = cJSON_True;
		item->valueint = 1;
		return literal(j, "true", 4);
	case 'f':
		item->type = cJSON_False;
		return literal(j, "false", 5);
	case 'n':
		item->type = cJSON_NULL;
		return literal(j, "null", 4);
	default:
		return parse_number(j, item);
	}
}

cJSON *
jfast_parse(const char *text, size_t len, struct jfast_info *info)
{
	struct jfast j = {text, text + len, 1, 1, 0};
	cJSON *root;

	memset(info, 0, sizeof(*info));
	if (len == 0 || text[0] != '{' || (root = new_item()) == NULL)
		return NULL;
	if (parse_value(&j, root, 0) != 0 || j.p != j.end) {
		cJSON_Delete(root);
		return NULL;
	}
	info->canonical = j.canonical;
	info->ascii = j.ascii;
	info->depth = j.depth;
	return root;
}

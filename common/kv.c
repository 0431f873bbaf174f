/*
 * kv.c - "key = value" parsing with line numbers in every error.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fs.h"
#include "kv.h"

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static pc_rc
kv_line(char *line, int lineno, const char *what, kv_cb cb, void *arg,
    struct err_list *errs)
{
	struct err_list lerr;
	char *s = trim(line), *eq, *key, *val, where[ERR_FIELD_MAX];
	pc_rc rc;
	size_t i;

	if (*s == '\0' || *s == '#')
		return PC_OK;
	snprintf(where, sizeof(where), "%s:%d", what, lineno);
	if ((eq = strchr(s, '=')) == NULL) {
		err_add(errs, E_FORMAT, where, "line %d: expected key = value",
		    lineno);
		return PC_EINVAL;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (*key == '\0') {
		err_add(errs, E_FORMAT, where, "line %d: a setting needs a "
		    "name before '='", lineno);
		return PC_EINVAL;
	}
	err_init(&lerr);
	rc = cb(arg, key, val, &lerr);
	for (i = 0; i < lerr.n; i++)
		err_add(errs, lerr.v[i].code, where, "line %d: %s", lineno,
		    lerr.v[i].msg);
	err_free(&lerr);
	return rc;
}

pc_rc
kv_parse(const char *text, size_t len, const char *what, kv_cb cb,
    void *arg, struct err_list *errs)
{
	char line[KV_LINE_MAX];
	size_t i = 0;
	int lineno = 0;
	pc_rc rc = PC_OK;

	while (i < len) {
		size_t start = i, n;

		while (i < len && text[i] != '\n')
			i++;
		n = i - start;
		lineno++;
		if (i < len)
			i++;
		if (n >= sizeof(line)) {
			err_add(errs, E_LENGTH, what, "line %d is longer than "
			    "%d characters", lineno, KV_LINE_MAX - 1);
			rc = PC_EINVAL;
			continue;
		}
		memcpy(line, text + start, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			err_add(errs, E_FORMAT, what, "line %d holds a NUL "
			    "byte", lineno);
			rc = PC_EINVAL;
			continue;
		}
		if (kv_line(line, lineno, what, cb, arg, errs) != PC_OK)
			rc = PC_EINVAL;
	}
	return rc;
}

pc_rc
kv_parse_file(const char *path, kv_cb cb, void *arg, struct err_list *errs)
{
	struct buf b;
	pc_rc rc;

	buf_init(&b, 1 << 20);
	if ((rc = fs_read_file(path, &b, errs)) == PC_OK)
		rc = kv_parse(buf_str(&b), b.len, path, cb, arg, errs);
	buf_free(&b);
	return rc;
}

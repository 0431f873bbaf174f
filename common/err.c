/*
 * err.c - status names and bounded error lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static const char *const rc_names[] = {
	[PC_OK] = "success",
	[PC_ENOMEM] = "out of memory",
	[PC_EINVAL] = "invalid data",
	[PC_EUSAGE] = "malformed request",
	[PC_EIO] = "input/output error",
	[PC_ESTORE] = "database error",
	[PC_ENOTFOUND] = "not found",
	[PC_EAMBIGUOUS] = "ambiguous",
	[PC_ECONFLICT] = "conflict",
	[PC_ENET] = "network error",
	[PC_ETLS] = "TLS error",
	[PC_EAUTH] = "authentication failed",
	[PC_EPROTO] = "protocol error",
	[PC_EBUSY] = "busy",
	[PC_ELIMIT] = "limit reached",
};

static const char *const code_names[E_CODE_MAX] = {
	[E_NONE] = "E_NONE",
	[E_JSON] = "E_JSON",
	[E_TYPE] = "E_TYPE",
	[E_REQUIRED] = "E_REQUIRED",
	[E_UNKNOWN_FIELD] = "E_UNKNOWN_FIELD",
	[E_DUPLICATE_FIELD] = "E_DUPLICATE_FIELD",
	[E_SCHEMA] = "E_SCHEMA",
	[E_KIND] = "E_KIND",
	[E_RANGE] = "E_RANGE",
	[E_ENUM] = "E_ENUM",
	[E_DATE] = "E_DATE",
	[E_TIME] = "E_TIME",
	[E_UUID] = "E_UUID",
	[E_LENGTH] = "E_LENGTH",
	[E_UTF8] = "E_UTF8",
	[E_FORMAT] = "E_FORMAT",
	[E_NHS_NUMBER] = "E_NHS_NUMBER",
	[E_CONFLICT] = "E_CONFLICT",
	[E_REFERRAL] = "E_REFERRAL",
	[E_CLOSED] = "E_CLOSED",
	[E_TARGET] = "E_TARGET",
	[E_AGE] = "E_AGE",
	[E_PLACE] = "E_PLACE",
	[E_WORKER] = "E_WORKER",
	[E_RULE] = "E_RULE",
	[E_TOO_MANY] = "E_TOO_MANY",
	[E_SYSTEM] = "E_SYSTEM",
	[E_IDENTIFIER] = "E_IDENTIFIER",
	[E_CONTROL] = "E_CONTROL",
};

const char *
pc_strerror(pc_rc rc)
{
	if ((size_t)rc < sizeof(rc_names) / sizeof(rc_names[0]) &&
	    rc_names[rc] != NULL)
		return rc_names[rc];
	return "unknown error";
}

const char *
err_code_name(enum err_code code)
{
	if (code >= 0 && code < E_CODE_MAX && code_names[code] != NULL)
		return code_names[code];
	return "E_UNKNOWN";
}

enum err_code
err_code_parse(const char *s)
{
	int i;

	for (i = 1; i < E_CODE_MAX; i++)
		if (code_names[i] != NULL && strcmp(code_names[i], s) == 0)
			return (enum err_code)i;
	return E_NONE;
}

void
err_init(struct err_list *l)
{
	memset(l, 0, sizeof(*l));
}

void
err_clear(struct err_list *l)
{
	l->n = 0;
	l->dropped = 0;
}

void
err_free(struct err_list *l)
{
	free(l->v);
	err_init(l);
}

void
err_vadd(struct err_list *l, enum err_code code, const char *field,
    const char *fmt, va_list ap)
{
	struct err_item *it;

	if (l->n >= ERR_LIST_MAX) {
		l->dropped++;
		return;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4;
		struct err_item *nv = realloc(l->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			l->dropped++;
			return;
		}
		l->v = nv;
		l->cap = ncap;
	}
	it = &l->v[l->n++];
	it->code = code;
	snprintf(it->field, sizeof(it->field), "%s", field ? field : "");
	vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
}

void
err_add(struct err_list *l, enum err_code code, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vadd(l, code, field, fmt, ap);
	va_end(ap);
}

size_t
err_count(const struct err_list *l)
{
	return l->n + l->dropped;
}

int
err_has(const struct err_list *l, enum err_code code)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].code == code)
			return 1;
	return 0;
}

void
err_move(struct err_list *dst, struct err_list *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		err_add(dst, src->v[i].code, src->v[i].field, "%s",
		    src->v[i].msg);
	dst->dropped += src->dropped;
	err_clear(src);
}

const char *
err_line(const struct err_list *l, size_t i, char *buf, size_t len)
{
	const struct err_item *it = &l->v[i];

	if (it->field[0] != '\0')
		snprintf(buf, len, "%s: %s", it->field, it->msg);
	else
		snprintf(buf, len, "%s", it->msg);
	return buf;
}

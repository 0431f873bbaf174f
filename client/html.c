/*
 * html.c - the escaping buffer of the app's pages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

#define HTML_MAX	(8 << 20)	/* bytes of one page */

void
html_init(struct html *h)
{
	buf_init(&h->b, HTML_MAX);
	h->rc = PC_OK;
}

void
html_free(struct html *h)
{
	buf_free(&h->b);
}

static void
add(struct html *h, const char *p, size_t n)
{
	pc_rc rc;

	if (h->rc == PC_OK && (rc = buf_add(&h->b, p, n)) != PC_OK)
		h->rc = rc;
}

void
html_m(struct html *h, const char *markup)
{
	add(h, markup, strlen(markup));
}

void
html_t(struct html *h, const char *text)
{
	const char *p = text ? text : "", *run = p;

	for (; *p != '\0'; p++) {
		const char *e = NULL;

		switch (*p) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: continue;
		}
		add(h, run, (size_t)(p - run));
		html_m(h, e);
		run = p + 1;
	}
	add(h, run, (size_t)(p - run));
}

void
html_f(struct html *h, const char *fmt, ...)
{
	char num[32];
	const char *p, *run = fmt;
	int prec;
	va_list ap;

	va_start(ap, fmt);
	for (p = fmt; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		add(h, run, (size_t)(p - run));
		switch (*++p) {
		case '.':	/* %.Ns: the first N bytes (ids are ASCII) */
			prec = (int)strtol(p + 1, (char **)&p, 10);
			if (*p != 's') {
				h->rc = PC_EUSAGE;
				va_end(ap);
				return;
			}
			snprintf(num, sizeof(num), "%.*s", prec,
			    va_arg(ap, const char *));
			html_t(h, num);
			break;
		case 's':
			html_t(h, va_arg(ap, const char *));
			break;
		case 'm':
			html_m(h, va_arg(ap, const char *));
			break;
		case 'd':
			snprintf(num, sizeof(num), "%d", va_arg(ap, int));
			html_m(h, num);
			break;
		case 'l':
			if (p[1] == 'd')
				p++;
			snprintf(num, sizeof(num), "%ld", va_arg(ap, long));
			html_m(h, num);
			break;
		case '%':
			html_m(h, "%");
			break;
		default:	/* a mistake in a format: never guess */
			h->rc = PC_EUSAGE;
			va_end(ap);
			return;
		}
		run = p + 1;
	}
	add(h, run, (size_t)(p - run));
	va_end(ap);
}

const char *
html_done(struct html *h, size_t *len)
{
	if (h->rc != PC_OK)
		return NULL;
	*len = h->b.len;
	return buf_str(&h->b);
}

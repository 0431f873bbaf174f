/*
 * wire.c - strict HTTP/1.1 request framing in a bufferevent filter.
 *
 * The filter keeps each request head (request line and fields) until
 * the empty line that ends it has arrived, checks it whole, and only
 * then hands it on, followed by exactly Content-Length bytes of body.
 * Anything it cannot frame beyond doubt is refused, so evhttp and a
 * proxy in front can never disagree on where a request ends.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "wire.h"

#define TARGET_MAX	8192	/* request-target bytes (414 past it) */
#define BLANK_MAX	8	/* empty lines allowed before a request */

/* What evhttp was told to serve (evhttp_set_allowed_methods in srv.c). */
static const char *const methods[] = {"GET", "HEAD", "POST", "PUT",
    "DELETE", "OPTIONS", "PATCH"};

/* Fields that mean one thing: a second copy is refused, not guessed at. */
static const char *const single[] = {"Host", "Content-Length",
    "Content-Type", "Content-Encoding", "Authorization", "Cookie", "Origin",
    "Expect", "Sec-Fetch-Site"};

static const char keepalive[] = "Connection: keep-alive\r\n";
static const char standin[] = "GET / HTTP/1.1\r\nHost: refused\r\n\r\n";

static void
refuse(struct wire_head *h, int status, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
refuse(struct wire_head *h, int status, const char *code, const char *fmt,
    ...)
{
	va_list ap;

	h->status = status;
	h->code = code;
	va_start(ap, fmt);
	vsnprintf(h->why, sizeof(h->why), fmt, ap);
	va_end(ap);
}

/* RFC 9110 tchar: what a method or field name is made of. */
static int
tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static size_t
tspan(const char *p, const char *end)
{
	const char *s = p;

	while (p < end && tchar((unsigned char)*p))
		p++;
	return (size_t)(p - s);
}

static int
is_name(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* Every LF after a CR, every CR before an LF, and CRLF CRLF at the end. */
static int
check_lines(const char *p, size_t len, struct wire_head *h)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) {
			refuse(h, 400, "E_HTTP", "a line ended in LF alone; "
			    "HTTP lines end in CR LF");
			return -1;
		}
		if (p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n')) {
			refuse(h, 400, "E_HTTP", "a CR in the request head was "
			    "not followed by LF");
			return -1;
		}
	}
	if (len < 4 || memcmp(p + len - 4, "\r\n\r\n", 4) != 0) {
		refuse(h, 400, "E_HTTP", "the request head does not end with "
		    "an empty line");
		return -1;
	}
	return 0;
}

static int
check_target(const char *t, size_t n, struct wire_head *h)
{
	char copy[TARGET_MAX + 1];
	struct evhttp_uri *u;
	size_t i;

	if (n > TARGET_MAX) {
		refuse(h, 414, "E_HTTP", "the request target is longer than %d "
		    "bytes", TARGET_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (t[i] < 0x21 || t[i] > 0x7e || t[i] == '#')
			break;
	if (n == 0 || t[0] != '/' || i < n) {
		refuse(h, 400, "E_HTTP", "the request target must be a path of "
		    "printable ASCII starting with / (percent-encode anything "
		    "else)");
		return -1;
	}
	memcpy(copy, t, n);
	copy[n] = '\0';
	/* what evhttp will make of it, so that it never refuses on its own */
	if ((u = evhttp_uri_parse_with_flags(copy, EVHTTP_URI_NONCONFORMANT)) ==
	    NULL) {
		refuse(h, 400, "E_HTTP", "the request target is not a valid "
		    "path and query");
		return -1;
	}
	evhttp_uri_free(u);
	return 0;
}

/* METHOD SP target SP HTTP/1.x; *v11 is 1 for HTTP/1.1. */
static int
check_request_line(const char *p, size_t n, int *v11, struct wire_head *h)
{
	const char *end = p + n, *t, *v;
	size_t m = tspan(p, end), tn, i;

	snprintf(h->method, sizeof(h->method), "%.*s", (int)m, p);
	if (m == 0 || m >= n || p[m] != ' ') {
		refuse(h, 400, "E_HTTP", "the request line must be a method, a "
		    "target and the HTTP version, separated by single spaces");
		return -1;
	}
	t = p + m + 1;
	tn = (size_t)(end - t);
	tn = (v = memchr(t, ' ', tn)) != NULL ? (size_t)(v - t) : tn;
	snprintf(h->target, sizeof(h->target), "%.*s", (int)tn, t);
	if (v == NULL ||
	    memchr(v + 1, ' ', (size_t)(end - v - 1)) != NULL) {
		refuse(h, 400, "E_HTTP", "the request line must be a method, a "
		    "target and the HTTP version, separated by single spaces");
		return -1;
	}
	v++;
	if ((size_t)(end - v) == 8 && memcmp(v, "HTTP/1.", 7) == 0 &&
	    (v[7] == '0' || v[7] == '1'))
		*v11 = v[7] == '1';
	else if ((size_t)(end - v) == 8 && memcmp(v, "HTTP/", 5) == 0 &&
	    v[5] >= '0' && v[5] <= '9' && v[6] == '.' && v[7] >= '0' &&
	    v[7] <= '9') {
		refuse(h, 505, "E_VERSION", "only HTTP/1.1 (and 1.0) is served "
		    "here");
		return -1;
	} else {
		refuse(h, 400, "E_HTTP", "the request line does not end with "
		    "HTTP/1.1");
		return -1;
	}
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i]) == m && memcmp(p, methods[i], m) == 0)
			break;
	if (i == sizeof(methods) / sizeof(methods[0])) {
		refuse(h, 501, "E_METHOD", "the method %s is not served here",
		    h->method);
		return -1;
	}
	return check_target(t, tn, h);
}

/* What the fields said, for the checks made once all are read. */
struct fields {
	int	 n;
	int	 seen[sizeof(single) / sizeof(single[0])];
	int	 te;
	int	 close, keepalive;
	int	 has_cl;
	uint64_t cl;
};

static void
connection_tokens(const char *v, size_t n, struct fields *f)
{
	const char *end = v + n, *t;
	size_t k;

	while (v < end) {
		while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		for (t = v; v < end && *v != ','; v++)
			;
		for (k = (size_t)(v - t); k > 0 && (t[k - 1] == ' ' ||
		    t[k - 1] == '\t'); k--)
			;
		if (is_name(t, k, "close"))
			f->close = 1;
		else if (is_name(t, k, "keep-alive"))
			f->keepalive = 1;
	}
}

/* One field line (without CR LF); 1 to keep it, 0 to leave it out. */
static int
check_field(const char *p, size_t n, struct fields *f, struct wire_head *h)
{
	const char *v, *ve;
	size_t m, i;

	if (p[0] == ' ' || p[0] == '\t') {
		refuse(h, 400, "E_HTTP", "obsolete line folding (a header line "
		    "starting with a space or tab) is not accepted");
		return -1;
	}
	if (++f->n > WIRE_FIELDS_MAX) {
		refuse(h, 431, "E_HEADERS", "a request may have at most %d "
		    "header fields", WIRE_FIELDS_MAX);
		return -1;
	}
	m = tspan(p, p + n);
	if (m < n && (p[m] == ' ' || p[m] == '\t') && m > 0) {
		refuse(h, 400, "E_HTTP", "whitespace before the colon of header "
		    "%.*s", (int)(m < 64 ? m : 64), p);
		return -1;
	}
	if (m == 0 || m == n || p[m] != ':') {
		refuse(h, 400, "E_HTTP", "a header line must be a field name, a "
		    "colon and a value");
		return -1;
	}
	for (v = p + m + 1, ve = p + n; v < ve && (*v == ' ' || *v == '\t');
	    v++)
		;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	for (i = 0; v + i < ve; i++)
		if ((unsigned char)v[i] < 0x20 ? v[i] != '\t' : v[i] == 0x7f) {
			refuse(h, 400, "E_HTTP", "header %.*s holds a control "
			    "character", (int)(m < 64 ? m : 64), p);
			return -1;
		}
	for (i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (is_name(p, m, single[i]) && f->seen[i]++ > 0) {
			refuse(h, 400, "E_HTTP", "two %s headers", single[i]);
			return -1;
		}
	if (is_name(p, m, "Content-Length")) {
		if (ve == v || ve - v > 15 || strspn(v, "0123456789") <
		    (size_t)(ve - v)) {
			refuse(h, 400, "E_HTTP", "Content-Length must be a plain "
			    "decimal number");
			return -1;
		}
		f->has_cl = 1;
		for (f->cl = 0; v < ve; v++)
			f->cl = f->cl * 10 + (uint64_t)(*v - '0');
	} else if (is_name(p, m, "Transfer-Encoding"))
		f->te++;
	else if (is_name(p, m, "Expect") && !is_name(v, (size_t)(ve - v),
	    "100-continue")) {
		refuse(h, 417, "E_EXPECT", "only Expect: 100-continue is "
		    "understood");
		return -1;
	} else if (is_name(p, m, "Connection")) {
		connection_tokens(v, (size_t)(ve - v), f);
		return 0;
	}
	return 1;
}

static void
check_body(const char *method, int v11, const struct fields *f,
    size_t max_body, struct wire_head *h)
{
	if (f->te > 0 && f->has_cl)
		refuse(h, 400, "E_HTTP", "Transfer-Encoding beside "
		    "Content-Length: send one Content-Length only");
	else if (f->te > 0)
		refuse(h, 411, "E_LENGTH", "send the body with a Content-Length; "
		    "Transfer-Encoding is not accepted");
	else if (v11 && f->seen[0] == 0)
		refuse(h, 400, "E_HTTP", "an HTTP/1.1 request needs a Host "
		    "header");
	else if (strcmp(method, "HEAD") == 0 && f->cl > 0)
		refuse(h, 400, "E_HTTP", "a HEAD request carries no body");
	else if (f->cl > max_body)
		refuse(h, 413, "E_TOO_LARGE", "the body (%llu bytes) is larger "
		    "than this server takes (max_body, %zu bytes)",
		    (unsigned long long)f->cl, max_body);
}

size_t
wire_check_head(char *p, size_t len, size_t max_body, struct wire_head *h)
{
	char *line, *eol, *w;
	struct fields f;
	int v11 = 1, keep;

	memset(h, 0, sizeof(*h));
	memset(&f, 0, sizeof(f));
	if (check_lines(p, len, h) != 0)
		return 0;
	eol = memchr(p, '\n', len);
	if (check_request_line(p, (size_t)(eol - 1 - p), &v11, h) != 0)
		return 0;
	/* fields are moved down over any left out: w never passes line */
	for (w = line = eol + 1; (eol = memchr(line, '\n', (size_t)(p + len -
	    line))) - line > 1; line = eol + 1) {
		if ((keep = check_field(line, (size_t)(eol - 1 - line), &f,
		    h)) < 0)
			return 0;
		if (keep) {
			memmove(w, line, (size_t)(eol + 1 - line));
			w += eol + 1 - line;
		}
	}
	check_body(h->method, v11, &f, max_body, h);
	if (h->status != 0)
		return 0;
	h->body = f.cl;
	h->close = v11 ? f.close : !f.keepalive;
	if (!v11) {
		memcpy(w, keepalive, sizeof(keepalive) - 1);
		w += sizeof(keepalive) - 1;
	}
	memcpy(w, "\r\n", 2);
	return (size_t)(w + 2 - p);
}

void
wire_init(struct wire *w, size_t max_headers, size_t max_body)
{
	memset(w, 0, sizeof(*w));
	w->max_headers = max_headers;
	w->max_body = max_body;
}

void
wire_free(struct wire *w)
{
	free(w->head);
	w->head = NULL;
}

/* strcspn over n bytes that need not end in NUL. */
static size_t
strcspn_n(const char *p, size_t n, const char *reject)
{
	size_t i;

	for (i = 0; i < n && p[i] != '\0' && strchr(reject, p[i]) == NULL; i++)
		;
	return i;
}

/* Hands evhttp the stand-in for the refused request and stops reading. */
static void
wire_refuse(struct wire *w, struct evbuffer *dst)
{
	w->refuse_at = ++w->nreq;
	w->close_at = w->nreq;
	w->state = WIRE_DISCARD;
	evbuffer_add(dst, standin, sizeof(standin) - 1);
}

void
wire_stop(struct wire *w)
{
	w->close_at = w->nreq;
	w->state = WIRE_DISCARD;
}

/* Empty lines before a request line are skipped (RFC 9112 2.2). */
static int
skip_blank(struct wire *w, struct evbuffer *src)
{
	unsigned char two[2];

	while (w->have == 0 && evbuffer_copyout(src, two, 2) >= 1 &&
	    two[0] == '\r') {
		if (evbuffer_get_length(src) < 2)
			return 0;	/* wait for the LF */
		if (two[1] != '\n' || ++w->blank > BLANK_MAX)
			return 1;	/* the head check refuses it */
		evbuffer_drain(src, 2);
	}
	return 1;
}

/* A NUL, or a CR or LF not in a CR LF pair, at c[i]: refused at once. */
static int
bad_byte(const char *c, size_t i, struct wire_head *h)
{
	if (c[i] == '\0')
		refuse(h, 400, "E_HTTP", "the request head holds a NUL byte");
	else if (c[i] == '\n' && (i == 0 || c[i - 1] != '\r'))
		refuse(h, 400, "E_HTTP", "a line ended in LF alone; HTTP lines "
		    "end in CR LF");
	else if (i > 0 && c[i - 1] == '\r' && c[i] != '\n')
		refuse(h, 400, "E_HTTP", "a CR in the request head was not "
		    "followed by LF");
	else
		return 0;
	return 1;
}

/* The method and target of a head cut short, for the log line. */
static void
name_request(struct wire_head *h, const char *p, size_t n)
{
	size_t m = strcspn_n(p, n, " \r\n"), t;

	snprintf(h->method, sizeof(h->method), "%.*s", (int)m, p);
	if (m < n && p[m] == ' ') {
		t = strcspn_n(p + m + 1, n - m - 1, " \r\n");
		snprintf(h->target, sizeof(h->target), "%.*s", (int)t,
		    p + m + 1);
	}
}

/*
 * Moves bytes of a request head from src into w->head: 1 once the head
 * is whole, 0 when more must come, -1 when it is refused (w->refusal).
 */
static int
head_take(struct wire *w, struct evbuffer *src)
{
	size_t n, k, i, start;
	char *c;

	if (!skip_blank(w, src))
		return 0;
	if (w->head == NULL) {
		if ((w->head = malloc(w->max_headers + WIRE_SLACK)) == NULL) {
			refuse(&w->refusal, 503, "E_SYSTEM", "out of memory");
			return -1;
		}
		w->cap = w->max_headers;
	}
	while ((n = evbuffer_get_length(src)) > 0) {
		if (w->have == w->cap) {
			refuse(&w->refusal, 431, "E_HEADERS", "the request line "
			    "and headers are larger than %zu bytes (max_headers)",
			    w->max_headers);
			name_request(&w->refusal, w->head, w->have);
			return -1;
		}
		k = n < w->cap - w->have ? n : w->cap - w->have;
		start = w->have;
		evbuffer_copyout(src, w->head + start, k);
		c = w->head;
		for (i = start; i < start + k; i++) {
			if (bad_byte(c, i, &w->refusal)) {
				name_request(&w->refusal, c, i);
				evbuffer_drain(src, i + 1 - start);
				return -1;
			}
			if (i >= 3 && memcmp(c + i - 3, "\r\n\r\n", 4) == 0) {
				evbuffer_drain(src, i + 1 - start);
				w->have = i + 1;
				return 1;
			}
		}
		evbuffer_drain(src, k);
		w->have += k;
	}
	return 0;
}

enum bufferevent_filter_result
wire_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *ctx)
{
	struct wire *w = ctx;
	struct wire_head h;
	size_t n, k, len;
	int moved = 0, r;

	(void)mode;
	while ((n = evbuffer_get_length(src)) > 0) {
		if (w->state == WIRE_DISCARD) {
			evbuffer_drain(src, n);	/* after a refusal or close */
			w->dropped += n;
			break;
		}
		if (w->state == WIRE_BODY) {
			k = (uint64_t)n < w->body_left ? n : (size_t)w->body_left;
			if (limit >= 0 && k > (size_t)limit)
				k = (size_t)limit;
			if (k == 0)
				break;
			evbuffer_remove_buffer(src, dst, k);
			if (limit >= 0)
				limit -= (ev_ssize_t)k;
			moved = 1;
			if ((w->body_left -= k) == 0)
				w->state = w->close_at == w->nreq ?
				    WIRE_DISCARD : WIRE_HEAD;
			continue;
		}
		if ((r = head_take(w, src)) == 0)
			break;
		moved = 1;
		if (r < 0) {
			wire_refuse(w, dst);
			continue;
		}
		len = wire_check_head(w->head, w->have, w->max_body, &h);
		w->have = 0;
		w->blank = 0;
		if (h.status != 0) {
			w->refusal = h;
			wire_refuse(w, dst);
			continue;
		}
		evbuffer_add(dst, w->head, len);
		if (h.close)
			w->close_at = w->nreq + 1;
		w->nreq++;
		w->body_left = h.body;
		w->state = h.body > 0 ? WIRE_BODY : h.close ? WIRE_DISCARD :
		    WIRE_HEAD;
	}
	return moved ? BEV_OK : BEV_NEED_MORE;
}

/*
 * http.c - reading requests and writing answers for the handlers (see
 * http.h).
 */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <zlib.h>

#include "conn.h"
#include "jsplit.h"
#include "date.h"
#include "http.h"
#include "log.h"
#include "pii.h"
#include "srv.h"
#include "wire.h"

static const struct {
	int		 code;
	const char	*reason;
} reasons[] = {
	{200, "OK"}, {303, "See Other"}, {400, "Bad Request"},
	{401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
	{405, "Method Not Allowed"}, {409, "Conflict"},
	{411, "Length Required"}, {413, "Payload Too Large"},
	{414, "URI Too Long"}, {415, "Unsupported Media Type"},
	{417, "Expectation Failed"}, {429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"}, {501, "Not Implemented"},
	{503, "Service Unavailable"}, {505, "HTTP Version Not Supported"},
};

static const char *
reason_of(int code)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return "Status";
}

const char *
http_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

/* The client: from the connection (and its PROXY header) when there is one. */
static void
peer_of(struct http_req *hr)
{
	struct evhttp_connection *c = evhttp_request_get_connection(hr->req);
	const char *addr = NULL;
	ev_uint16_t port = 0;

	if (hr->conn != NULL)
		addr = conn_peer(hr->conn);
	else if (c != NULL)
		evhttp_connection_get_peer(c, (char **)&addr, &port);
	snprintf(hr->peer, sizeof(hr->peer), "%s", addr ? addr : "unknown");
	hr->loopback = strncmp(hr->peer, "127.", 4) == 0 ||
	    strcmp(hr->peer, "::1") == 0 ||
	    strncmp(hr->peer, "::ffff:127.", 11) == 0;
}

void
http_req_init(struct http_req *hr, struct server *srv,
    struct evhttp_request *req, struct conn *conn)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *p = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
	size_t n = 0, i;
	char *dec;

	memset(hr, 0, sizeof(*hr));
	hr->req = req;
	hr->srv = srv;
	hr->conn = conn;
	hr->store = srv->store;
	hr->method = evhttp_request_get_command(req);
	hr->started = srv_now();
	TAILQ_INIT(&hr->query);
	if (p != NULL && (dec = evhttp_uridecode(p, 0, &n)) != NULL) {
		snprintf(hr->path, sizeof(hr->path), "%s", dec);
		/* %00 would end the path early, %0A start a log line */
		for (i = 0; i < n; i++)
			if ((unsigned char)dec[i] < 0x20 || dec[i] == 0x7f)
				hr->path_bad = 1;
		if (n >= sizeof(hr->path))
			hr->path_bad = 1;
		free(dec);
	}
	if (q != NULL)
		(void)evhttp_parse_query_str(q, &hr->query);
	peer_of(hr);
}

void
http_req_free(struct http_req *hr)
{
	evhttp_clear_headers(&hr->query);
}

void
http_req_move(struct http_req *to, struct http_req *from)
{
	struct evkeyval *kv;

	*to = *from;
	TAILQ_INIT(&to->query);
	while ((kv = TAILQ_FIRST(&from->query)) != NULL) {
		TAILQ_REMOVE(&from->query, kv, next);
		TAILQ_INSERT_TAIL(&to->query, kv, next);
	}
}

void
http_escape(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	if (len == 0)
		return;
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			if (k + 1 >= len)
				break;
			out[k++] = (char)c;
			continue;
		}
		if (k + 4 >= len)
			break;
		out[k++] = '\\';
		out[k++] = 'x';
		out[k++] = hex[c >> 4];
		out[k++] = hex[c & 15];
	}
	out[k] = '\0';
}

void
http_req_log(const struct http_req *hr)
{
	char user[24] = "-", what[HTTP_ESC_LEN(512)], why[HTTP_ESC_LEN(192)];
	char m[HTTP_ESC_LEN(16)];
	const char *method = http_method_name(hr->method);

	if (!hr->srv->conf->log_requests)
		return;
	if (hr->authed)
		snprintf(user, sizeof(user), "%lld",
		    (long long)hr->auth.user.id);
	if (hr->refused != NULL) {
		/* what the client sent, not the stand-in evhttp was given */
		http_escape(hr->refused->method, m, sizeof(m));
		http_escape(hr->refused->target, what, sizeof(what));
		http_escape(hr->refused->why, why, sizeof(why));
		log_info("%s %s %d records=0 ms=%.1f user=- peer=%s refused=\"%s\"",
		    m[0] ? m : "-", what[0] ? what : "-", hr->status,
		    (srv_now() - hr->started) * 1000, hr->peer, why);
		return;
	}
	http_escape(hr->path, what, sizeof(what));
	log_info("%s %s %d records=%ld ms=%.1f user=%s peer=%s", method, what,
	    hr->status, hr->records, (srv_now() - hr->started) * 1000, user,
	    hr->peer);
}

const char *
http_header(struct http_req *hr, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(hr->req),
	    name);
}

const char *
http_query(struct http_req *hr, const char *name)
{
	return evhttp_find_header(&hr->query, name);
}

void
http_add_header(struct http_req *hr, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(hr->req), name,
	    value);
}

/* On the loop: "Connection: close" when this is the connection's last. */
static void
close_after(struct http_req *hr)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(hr->req);

	/*
	 * conn.c closes after this answer. evhttp must not: it would free
	 * the connection while the answer is still below the wire filter,
	 * and it closes only on a value of exactly "close"; the trailing
	 * space is optional whitespace that every client strips.
	 */
	if (hr->conn != NULL ? conn_last(hr->conn, hr->seq) :
	    hr->srv->draining)
		evhttp_add_header(h, "Connection", hr->conn != NULL ? "close " :
		    "close");
}

void
http_reply_body(struct http_req *hr, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(hr->req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Strict-Transport-Security",
	    "max-age=31536000");
	if (b != NULL && hr->method != EVHTTP_REQ_HEAD)
		evbuffer_add(b, body, len);
	hr->status = status;
	if (hr->deferred) {
		/* on a worker: the loop sends it (one answer per request) */
		if (hr->reply == NULL)
			hr->reply = b;
		else if (b != NULL)
			evbuffer_free(b);
		return;
	}
	close_after(hr);
	evhttp_send_reply(hr->req, status, reason_of(status), b);
	if (b != NULL)
		evbuffer_free(b);
}

void
http_send_deferred(struct http_req *hr)
{
	close_after(hr);
	/* a request whose client left is freed by libevent here */
	evhttp_send_reply(hr->req, hr->status, reason_of(hr->status),
	    hr->reply);
	if (hr->reply != NULL)
		evbuffer_free(hr->reply);
	hr->reply = NULL;
	hr->deferred = 0;
}

void
http_reply_json(struct http_req *hr, int status, cJSON *doc)
{
	static const char oom[] = "{\"error\":{\"code\":\"E_SYSTEM\","
	    "\"message\":\"out of memory; try again\"}}";
	char *text = cJSON_PrintUnformatted(doc);

	cJSON_Delete(doc);
	if (text == NULL) {
		http_reply_body(hr, 503, "application/json", oom,
		    sizeof(oom) - 1);
		return;
	}
	http_reply_body(hr, status, "application/json; charset=utf-8", text,
	    strlen(text));
	cJSON_free(text);	/* cJSON's, maybe its hooks' (jarena.h) */
}

void
http_reply_error(struct http_req *hr, int status, const char *code,
    const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject(), *e;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	http_reply_json(hr, status, o);
}

void
http_reply_refused(struct http_req *hr)
{
	const struct wire_head *w = hr->refused;

	http_reply_error(hr, w->status, w->code, "%s; the connection is "
	    "closed", w->why);
}

/* Inflates gzip in[0..len) into out, refusing to grow past out->max. */
static pc_rc
inflate_body(const unsigned char *in, size_t len, struct buf *out)
{
	unsigned char chunk[16384];
	z_stream z;
	int zr;
	pc_rc rc = PC_OK;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return PC_ENOMEM;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			rc = PC_EUSAGE;
			break;
		}
		if ((rc = buf_add(out, chunk, sizeof(chunk) - z.avail_out)) !=
		    PC_OK)
			break;
	} while (zr != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
	if (rc == PC_OK && zr != Z_STREAM_END)
		rc = PC_EUSAGE;	/* truncated */
	inflateEnd(&z);
	return rc;
}

static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

pc_rc
http_read_body(struct http_req *hr, struct buf *b)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(hr->req);
	const char *enc = http_header(hr, "Content-Encoding");
	size_t len = evbuffer_get_length(in);
	unsigned char *raw;
	char nulkey[ERR_FIELD_MAX];
	pc_rc rc = PC_OK;

	buf_init(b, hr->srv->conf->max_inflated);
	if (!is_json_type(http_header(hr, "Content-Type"))) {
		http_reply_error(hr, 415, "E_MEDIA_TYPE", "send the body as "
		    "Content-Type: application/json");
		return PC_EUSAGE;
	}
	if (enc != NULL && strcasecmp(enc, "gzip") != 0 &&
	    strcasecmp(enc, "identity") != 0) {
		http_reply_error(hr, 415, "E_MEDIA_TYPE", "Content-Encoding %s "
		    "is not supported (gzip is)", enc);
		return PC_EUSAGE;
	}
	if (len == 0) {
		http_reply_error(hr, 400, "E_JSON", "the request has no body");
		return PC_EUSAGE;
	}
	raw = evbuffer_pullup(in, -1);
	if (enc != NULL && strcasecmp(enc, "gzip") == 0)
		rc = inflate_body(raw, len, b);
	else
		rc = buf_add(b, raw, len);
	if (rc == PC_ELIMIT)
		http_reply_error(hr, 413, "E_TOO_LARGE", "the inflated body is "
		    "larger than %zu bytes", hr->srv->conf->max_inflated);
	else if (rc == PC_EUSAGE)
		http_reply_error(hr, 400, "E_ENCODING", "the gzip body is "
		    "corrupt or truncated");
	else if (rc != PC_OK)
		http_reply_error(hr, 503, "E_SYSTEM", "out of memory");
	else if (pii_json_nul(b->p, b->len, nulkey, sizeof(nulkey)) >= 0) {
		/* cJSON would cut the text there without a word */
		http_reply_error(hr, 400, "E_CONTROL", "the body holds a NUL "
		    "character%s%s, which no field may contain; nothing was "
		    "stored", nulkey[0] ? " in " : "", nulkey);
		rc = PC_EUSAGE;
	}
	if (rc != PC_OK)
		buf_free(b);
	return rc;
}

void
http_reply_not_json(struct http_req *hr)
{
	http_reply_error(hr, 400, "E_JSON", "the body is not well-formed JSON");
}

pc_rc
http_read_json(struct http_req *hr, cJSON **out)
{
	struct buf b;
	pc_rc rc;

	*out = NULL;
	if ((rc = http_read_body(hr, &b)) != PC_OK)
		return rc;
	if ((*out = jsplit_parse(buf_str(&b), b.len)) == NULL) {
		http_reply_not_json(hr);
		rc = PC_EUSAGE;
	}
	buf_free(&b);
	return rc;
}

static int
query_day(struct http_req *hr, const char *name, int32_t *out)
{
	const char *v = http_query(hr, name);

	if (v == NULL || v[0] == '\0' || date_parse(v, out) == 0)
		return 0;
	http_reply_error(hr, 400, "E_DATE", "%s must be a date written "
	    "YYYY-MM-DD; got \"%s\"", name, v);
	return -1;
}

int
http_query_days(struct http_req *hr, int32_t *from, int32_t *to)
{
	if (query_day(hr, "from", from) != 0 || query_day(hr, "to", to) != 0)
		return -1;
	if (*from > *to) {
		http_reply_error(hr, 400, "E_DATE", "from is after to");
		return -1;
	}
	return 0;
}

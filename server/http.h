/*
 * http.h - reading a request and answering it, for the handlers.
 *
 * Every answer carries the same protective headers (no caching of health
 * data, no MIME sniffing, HSTS). Errors are JSON: {"error": {"code",
 * "message"}}. Text a client chose (paths, names) is escaped with
 * http_escape() before it goes into a log line or an audit entry.
 */
#ifndef PCMDS_HTTP_H
#define PCMDS_HTTP_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "err.h"
#include "store.h"

struct buf;

struct conn;
struct server;
struct wire_head;

/* One request as a handler sees it. */
struct http_req {
	struct evhttp_request	*req;
	struct server		*srv;
	struct conn		*conn;		/* NULL on the plain listener */
	long			 seq;		/* its number on the connection */
	enum evhttp_cmd_type	 method;
	char			 path[512];	/* decoded */
	int			 path_bad;	/* too long, or a control byte */
	struct evkeyvalq	 query;
	char			 peer[64];	/* the client (PROXY header aware) */
	int			 loopback;
	struct store		*store;		/* the connection to use (srv.h) */
	struct store_auth	 auth;
	int			 authed;
	long			 records;	/* for the log line */
	double			 started;
	int			 status;
	int			 streaming;	/* the handler answers later */
	const struct wire_head	*refused;	/* a request the wire refused */
	/* on a worker: the answer, sent by the loop after the handler */
	int			 deferred;
	struct evbuffer		*reply;
	int			 cut;		/* drop the connection instead */
	/* then, on the loop thread: what only the loop may do */
	void			(*then)(struct http_req *, void *);
	void			*then_arg;
};

/* Room for any text after http_escape (each byte may become \xHH). */
#define HTTP_ESC_LEN(n)	(4 * (n) + 1)

void		 http_req_init(struct http_req *, struct server *,
		    struct evhttp_request *, struct conn *);
void		 http_req_free(struct http_req *);
/*
 * *to becomes a copy of *from that owns its query (from's is left empty):
 * for a request answered after its handler returns, whose original is
 * freed then.
 */
void		 http_req_move(struct http_req *to, struct http_req *from);
void		 http_req_log(const struct http_req *);
/*
 * Copies s into out (len bytes, NUL included) with every byte outside
 * printable ASCII, and the backslash and double quote, written as \xHH,
 * so that client text can neither start a log line nor hide in one.
 */
void		 http_escape(const char *s, char *out, size_t len);
const char	*http_header(struct http_req *, const char *name);
const char	*http_query(struct http_req *, const char *name);
/*
 * The optional from and to query parameters (YYYY-MM-DD) into *from and
 * *to, each left as it is when absent. -1 once a 400 naming what is wrong
 * (a bad date, or from after to) has been sent.
 */
int		 http_query_days(struct http_req *, int32_t *from, int32_t *to);
const char	*http_method_name(enum evhttp_cmd_type);
void		 http_add_header(struct http_req *, const char *name,
		    const char *value);
/* Sends an answer a worker kept (on the loop thread). */
void		 http_send_deferred(struct http_req *);
/* Answers with a JSON document (consumed). */
void		 http_reply_json(struct http_req *, int status, cJSON *);
/* {"error": {"code", "message"}} */
void		 http_reply_error(struct http_req *, int status,
		    const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
void		 http_reply_body(struct http_req *, int status,
		    const char *ctype, const char *body, size_t len);
/* The answer to a request the wire filter refused (hr->refused). */
void		 http_reply_refused(struct http_req *);
/*
 * Reads the request body as JSON text into out: checks the content type
 * and encoding and inflates gzip up to max_inflated. On a problem the
 * answer (400, 413 or 415) has been sent and the result is not PC_OK.
 */
pc_rc		 http_read_json(struct http_req *, cJSON **out);
/*
 * http_read_json without the parse: the text, refused if it holds a NUL,
 * into b (the caller's to free when the result is PC_OK, freed else).
 */
pc_rc		 http_read_body(struct http_req *, struct buf *b);
/* 400 E_JSON: the body is not well-formed JSON. */
void		 http_reply_not_json(struct http_req *);

#endif

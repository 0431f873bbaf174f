/*
 * wire.h - HTTP/1.1 request framing, checked on the raw bytes.
 *
 * A bufferevent filter sits between the TLS bufferevent and evhttp and
 * hands evhttp only requests whose framing nobody can read two ways
 * (RFC 9112): one request line of three parts, header fields that are a
 * token, a colon and a value with no control character, lines ended by
 * CRLF, no obsolete line folding, at most one Content-Length of plain
 * digits, no Transfer-Encoding, one Host. evhttp 2.1 merges folded lines
 * and keeps the first of two Content-Length fields before any callback
 * sees them, which a proxy in front may read differently; so the check
 * has to be made here, before evhttp parses anything.
 *
 * A request that fails is never shown to evhttp: in its place the filter
 * passes on a stand-in request, which the server answers with the
 * refusal (wire.refusal) and then closes the connection; nothing the
 * client sent after it is read. The filter also takes out the
 * Connection field (and marks close_at instead), because evhttp closing
 * a connection itself would free it before the answer below the filter
 * is out; conn.c closes it once the answer has gone.
 */
#ifndef PCMDS_WIRE_H
#define PCMDS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>

#define WIRE_FIELDS_MAX	100		/* header fields in one request */
#define WIRE_SLACK	32		/* room wire_check_head may add */
#define WIRE_LINGER	(16 * 1024)	/* dropped bytes read after the last */

/* What the check found in one request head. */
struct wire_head {
	int		 status;	/* 0 when acceptable, else the answer */
	const char	*code;		/* the error code, e.g. E_HTTP */
	char		 why[192];	/* a sentence for the client and the log */
	char		 method[16];	/* as sent, for the log (may be "") */
	char		 target[256];	/* as sent, for the log (may be cut) */
	uint64_t	 body;		/* Content-Length: bytes that follow */
	int		 close;		/* the client will send no more */
};

/*
 * Checks a request head: len bytes from the request line to the empty
 * line, CRLF CRLF included. Rewrites it in place into what evhttp is
 * given (Connection taken out; an HTTP/1.0 request given "Connection:
 * keep-alive" so that evhttp leaves closing to us); p must have room for
 * len + WIRE_SLACK bytes. Returns the rewritten length; h->status says
 * whether the head is acceptable.
 */
size_t	 wire_check_head(char *p, size_t len, size_t max_body,
	    struct wire_head *h);

enum wire_state { WIRE_HEAD, WIRE_BODY, WIRE_DISCARD };

/* One connection's framing: owned by the connection (conn.c). */
struct wire {
	enum wire_state	 state;
	size_t		 max_headers;
	size_t		 max_body;
	char		*head;		/* the head so far (max_headers + slack) */
	size_t		 have, cap;
	int		 blank;		/* empty lines skipped before a request */
	uint64_t	 body_left;
	long		 nreq;		/* requests passed to evhttp */
	long		 close_at;	/* the last request evhttp will see */
	long		 refuse_at;	/* the stand-in for a refused request */
	size_t		 dropped;	/* bytes read and dropped since */
	struct wire_head refusal;
};

void	 wire_init(struct wire *, size_t max_headers, size_t max_body);
void	 wire_free(struct wire *);
/* No further request: what the client still sends is read and dropped. */
void	 wire_stop(struct wire *);
/* The input filter (bufferevent_filter_cb); ctx is the struct wire. */
enum bufferevent_filter_result wire_filter(struct evbuffer *src,
	    struct evbuffer *dst, ev_ssize_t limit,
	    enum bufferevent_flush_mode mode, void *ctx);

#endif

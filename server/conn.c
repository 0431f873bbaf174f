/*
 * conn.c - connections: accept, the PROXY header, per-address caps,
 * deadlines and closing after the last answer is out.
 *
 * Deadlines: evhttp's own timeout closes idle keep-alive connections; a
 * per-connection timer bounds the time to receive one whole request
 * (and, before TLS, the PROXY header), so a client sending a byte at a
 * time (slowloris) is cut off rather than served forever.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "conn.h"
#include "log.h"
#include "proxy.h"
#include "srv.h"

#define TLS_WRITE_LOW	(16 * 1024)	/* refill the TLS layer below this */
#define TLS_WRITE_HIGH	(64 * 1024)	/* and up to this: back-pressure */

enum stage {
	STAGE_NEW,	/* evhttp has not yet given the socket */
	STAGE_PEEK,	/* TLS held until the first byte is seen */
	STAGE_PROXY,	/* reading the PROXY header */
	STAGE_TLS
};

struct conn {
	struct server		*srv;
	struct bufferevent	*tls;	/* OpenSSL on the socket */
	struct bufferevent	*top;	/* the wire filter evhttp reads */
	struct event		*deadline;
	struct event		*start;
	struct event		*pre;	/* reads before TLS */
	struct event		*kick;	/* pushes evhttp's output down */
	enum stage		 stage;
	int			 cut;
	struct wire		 wire;
	char			 peer[PROXY_ADDR_LEN];
	int			 counted;	/* in srv->per_addr */
	int			 busy;	/* a request is being answered */
	int			 rx;	/* bytes came since the last answer */
	long			 seq;	/* requests handed to the handlers */
	struct http_req		*inflight;	/* on a database worker now */
	int			 closing;	/* 1 when the output is out, 2 done */
	short			 held;	/* an end of input kept back */
	bufferevent_data_cb	 up_read, up_write;
	bufferevent_event_cb	 up_event;
	void			*up_arg;
	size_t			 plen, pneed;
	uint8_t			 pbuf[PROXY_MAX];
	LIST_ENTRY(conn)	 entry;
};

static int conn_index = -1;

static void
uncount(struct conn *c)
{
	struct ktab_ent *e;

	if (!c->counted || (e = ktab_find(&c->srv->per_addr, c->peer)) == NULL)
		return;
	c->counted = 0;
	if ((e->a -= 1) <= 0)
		ktab_del(&c->srv->per_addr, e);
}

/* OpenSSL calls this as it frees a connection's SSL object. */
static void
conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct conn *c = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (c == NULL)
		return;
	if (c->inflight != NULL)
		c->inflight->conn = NULL;	/* its worker's answer: nowhere */
	LIST_REMOVE(c, entry);
	c->srv->nconns--;
	uncount(c);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->start != NULL)
		event_free(c->start);
	if (c->kick != NULL)
		event_free(c->kick);
	if (c->pre != NULL)
		event_free(c->pre);
	wire_free(&c->wire);
	srv_listener_update(c->srv);
	free(c);
}

pc_rc
conn_init(void)
{
	if (conn_index < 0)
		conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    conn_free);
	return conn_index < 0 ? PC_ENOMEM : PC_OK;
}

void
conn_inflight(struct conn *c, struct http_req *hr)
{
	c->inflight = hr;
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

static int
pending(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->top)) > 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->tls)) > 0;
}

/* Lets TLS (and so evhttp) see the socket, from the first byte on. */
static void
tls_start(struct conn *c)
{
	if (c->pre != NULL) {
		event_free(c->pre);
		c->pre = NULL;
	}
	c->stage = STAGE_TLS;
	bufferevent_enable(c->tls, EV_READ | EV_WRITE);
}

void
conn_cut(struct conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->tls);

	c->cut = 1;
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	/* TLS then reads the end, and evhttp frees the connection */
	if (c->stage != STAGE_TLS)
		tls_start(c);
}

static void
refused(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Logs why a connection was refused: a few lines per address, then one
 * every few seconds, so that a flood from one address neither fills the
 * log nor hides another address's refusals (the next line says how many
 * were not logged).
 */
static void
refused(struct conn *c, const char *fmt, ...)
{
	struct server *srv = c->srv;
	char msg[256];
	va_list ap;

	if (rate_take(&srv->refused_log, c->peer, srv_mono()) == 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		if (srv->refused_quiet > 0)
			log_info("%s (and %ld more connections refused since the "
			    "last such line)", msg, srv->refused_quiet);
		else
			log_info("%s", msg);
		srv->refused_quiet = 0;
	} else
		srv->refused_quiet++;
	conn_cut(c);
}

/* Counts the client against max_connections_per_address. */
static int
admit(struct conn *c)
{
	int cap = c->srv->conf->max_connections_per_address, made;
	struct ktab_ent *e = ktab_get(&c->srv->per_addr, c->peer, &made);

	if (e == NULL)
		return 1;	/* out of memory at start: not counted */
	if (e->a >= cap) {
		refused(c, "connection from %s refused: it has %d open "
		    "(max_connections_per_address)", c->peer, (int)e->a);
		return 0;
	}
	e->a += 1;
	c->counted = 1;
	return 1;
}

/* Before TLS: the PROXY header, or a first byte that is not one. */
static void
on_pre(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;
	char addr[PROXY_ADDR_LEN];
	const char *why = "";
	size_t want = c->pneed > 0 ? c->pneed : PROXY_FIXED;
	ssize_t r;
	uint8_t b;

	(void)ev;
	if (c->stage == STAGE_PEEK)
		r = recv(fd, &b, 1, MSG_PEEK);
	else
		r = recv(fd, c->pbuf + c->plen, want - c->plen, 0);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (r <= 0) {
		conn_cut(c);
		return;
	}
	if (c->stage == STAGE_PEEK) {
		if (b == proxy_sig[0] || b == 'P')
			refused(c, "connection from %s refused: it sent a PROXY "
			    "protocol header, but %s is not in proxy_from",
			    c->peer, c->peer);
		else
			tls_start(c);
		return;
	}
	c->plen += (size_t)r;
	switch (proxy_parse(c->pbuf, c->plen, &c->pneed, addr, &why)) {
	case PROXY_MORE:
		return;
	case PROXY_BAD:
		refused(c, "connection from load balancer %s refused: %s",
		    c->peer, why);
		return;
	case PROXY_OK:
		if (addr[0] != '\0')	/* else LOCAL: the balancer itself */
			snprintf(c->peer, sizeof(c->peer), "%s", addr);
		if (admit(c))
			tls_start(c);
		return;
	}
}

/* Runs once evhttp has given the connection its socket. */
static void
on_start(evutil_socket_t unused, short ev, void *arg)
{
	struct conn *c = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = bufferevent_getfd(c->tls);

	(void)unused;
	(void)ev;
	if (c->cut) {	/* cut before the socket came */
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		return;
	}
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
		conn_cut(c);
		return;
	}
	proxy_addr_text((struct sockaddr *)&ss, c->peer);
	/* nothing reads the socket until its first bytes are judged */
	bufferevent_disable(c->tls, EV_READ | EV_WRITE);
	if (proxy_allowed(&c->srv->conf->proxy, (struct sockaddr *)&ss))
		c->stage = STAGE_PROXY;
	else if (admit(c))
		c->stage = STAGE_PEEK;
	else
		return;
	if ((c->pre = event_new(c->srv->base, fd, EV_READ | EV_PERSIST, on_pre,
	    c)) == NULL || event_add(c->pre, NULL) != 0)
		conn_cut(c);
}

static void
on_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	log_debug("connection from %s cut: no complete request in %d s",
	    c->peer, c->srv->conf->request_timeout);
	conn_cut(c);
}

static void
deadline_arm(struct conn *c)
{
	struct timeval tv = {c->srv->conf->request_timeout, 0};

	evtimer_add(c->deadline, &tv);
}

/* The output is out: a held end of input goes up, a close goes ahead. */
static void
flushed(struct conn *c)
{
	evutil_socket_t fd;
	short what;

	if (pending(c))
		return;
	if (c->held) {
		what = c->held;
		c->held = 0;
		c->up_event(c->tls, what, c->up_arg);	/* may free c later */
		return;
	}
	if (c->closing == 1 && (fd = bufferevent_getfd(c->tls)) >= 0) {
		c->closing = 2;
		/* the client reads the answer, then the end; what it still
		 * sends is read and dropped until it closes or the deadline */
		shutdown(fd, SHUT_WR);
	}
}

/*
 * evhttp adds an answer to its output and only then enables writing,
 * which a libevent 2.1 filter does not take as a cue to pass it on; so
 * each addition schedules a flush for when evhttp is done.
 */
static void
on_top_output(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *c = arg;

	(void)b;
	if (info->n_added > 0)
		event_active(c->kick, EV_TIMEOUT, 0);
}

static void
on_kick(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	bufferevent_flush(c->top, EV_WRITE, BEV_NORMAL);
}

static void
tls_read(struct bufferevent *b, void *arg)
{
	struct conn *c = arg;

	c->up_read(b, c->up_arg);
	/*
	 * After the last request, what the client still sends (a refused
	 * body) is read and dropped a while, so that it is not blocked
	 * before it reads our answer; then no more, to spend nothing on it.
	 */
	if (c->wire.state == WIRE_DISCARD && c->wire.dropped > WIRE_LINGER)
		bufferevent_disable(c->tls, EV_READ);
}

static void
tls_write(struct bufferevent *b, void *arg)
{
	struct conn *c = arg;

	c->up_write(b, c->up_arg);
	flushed(c);
}

static void
tls_event(struct bufferevent *b, short what, void *arg)
{
	struct conn *c = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && pending(c)) {
		c->held = what;
		return;
	}
	c->up_event(b, what, c->up_arg);
}

/*
 * OpenSSL reports every TLS record; one arriving means a request may be
 * on its way, so the connection is not idle (see conn_cut_idle).
 */
static void
on_tls_msg(int write_p, int version, int content_type, const void *buf,
    size_t len, SSL *ssl, void *arg)
{
	struct conn *c = arg;

	(void)version;
	(void)content_type;
	(void)buf;
	(void)len;
	(void)ssl;
	if (!write_p)
		c->rx = 1;
}

struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct server *srv = arg;
	struct conn *c;
	SSL *ssl;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (ssl = SSL_new(srv->ssl)) == NULL) {
		free(c);
		return NULL;	/* evhttp drops the connection */
	}
	c->srv = srv;
	c->deadline = evtimer_new(base, on_deadline, c);
	c->start = event_new(base, -1, 0, on_start, c);
	c->kick = event_new(base, -1, 0, on_kick, c);
	wire_init(&c->wire, srv->conf->max_headers, srv->conf->max_body);
	snprintf(c->peer, sizeof(c->peer), "unknown");
	LIST_INSERT_HEAD(&srv->conns, c, entry);
	srv->nconns++;
	SSL_set_ex_data(ssl, conn_index, c);
	SSL_set_msg_callback(ssl, on_tls_msg);
	SSL_set_msg_callback_arg(ssl, c);
	if (c->deadline == NULL || c->start == NULL || c->kick == NULL ||
	    (c->tls = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		SSL_free(ssl);	/* frees c too */
		return NULL;
	}
	/*
	 * Deferred callbacks: a filter passes output on at once, and evhttp
	 * sets what to do when it is written only after adding it (as it
	 * may with a socket, which writes later).
	 */
	if ((c->top = bufferevent_filter_new(c->tls, wire_filter, NULL,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, NULL, &c->wire)) ==
	    NULL) {
		bufferevent_free(c->tls);
		return NULL;
	}
	bufferevent_setwatermark(c->tls, EV_WRITE, TLS_WRITE_LOW,
	    TLS_WRITE_HIGH);
	/* between the filter and TLS, to hold an end of input back */
	bufferevent_getcb(c->tls, &c->up_read, &c->up_write, &c->up_event,
	    &c->up_arg);
	bufferevent_setcb(c->tls, tls_read, tls_write, tls_event, c);
	if (evbuffer_add_cb(bufferevent_get_output(c->top), on_top_output, c) ==
	    NULL) {
		bufferevent_free(c->top);
		return NULL;
	}
	event_active(c->start, EV_TIMEOUT, 0);
	deadline_arm(c);
	srv_listener_update(srv);
	return c->top;
}

struct conn *
conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *ec = evhttp_request_get_connection(req);
	struct bufferevent *bev = ec ? evhttp_connection_get_bufferevent(ec) :
	    NULL;
	struct bufferevent *tls = bev ? bufferevent_get_underlying(bev) : NULL;
	SSL *ssl = tls ? bufferevent_openssl_get_ssl(tls) : NULL;

	return ssl ? SSL_get_ex_data(ssl, conn_index) : NULL;
}

long
conn_request(struct conn *c)
{
	evtimer_del(c->deadline);
	c->busy = 1;
	return ++c->seq;
}

const struct wire_head *
conn_refusal(const struct conn *c, long seq)
{
	return seq == c->wire.refuse_at ? &c->wire.refusal : NULL;
}

int
conn_last(const struct conn *c, long seq)
{
	return seq == c->wire.close_at || c->srv->draining;
}

void
conn_end(struct conn *c)
{
	/*
	 * No further request; reading goes on (a filter that stops
	 * reading stops TLS under it), so that the client's leaving is
	 * seen and the connection freed then, not at the deadline.
	 */
	wire_stop(&c->wire);
	c->busy = 0;
	deadline_arm(c);	/* a client that never closes is cut */
	if (c->closing == 0)
		c->closing = 1;
	flushed(c);
}

void
conn_release(struct conn *c)
{
	c->busy = 0;
	c->rx = 0;
	deadline_arm(c);
	if (conn_last(c, c->seq) && c->closing == 0) {
		c->closing = 1;
		flushed(c);
	}
}

void
conn_cut_idle(struct server *srv)
{
	struct conn *c, *next;

	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		/* an answer still being written is in flight too */
		if (!c->busy && !c->rx && !pending(c))
			conn_cut(c);
	}
}

/*
 * conn.h - one client connection, from accept to close.
 *
 * A connection's bufferevents, bottom up: OpenSSL on the socket, then
 * the wire filter (wire.h) that evhttp reads. Before TLS starts, the
 * connection is held while its first bytes are looked at: from an
 * address in proxy_from they must be a PROXY v2 header (proxy.h), which
 * names the client; from anywhere else they must not be one. The client
 * address is then counted against max_connections_per_address.
 *
 * The struct conn is freed when OpenSSL frees the connection's SSL
 * object (it hangs there as ex_data), so it lives exactly as long as
 * evhttp's connection. Closing is ours, not evhttp's: when the client
 * asked for it, after a refusal, or when the server is stopping, the
 * connection's writing side is shut once its last answer has left the
 * process (below the filter evhttp would count it written too early),
 * and an end of input from the client is held back until then.
 */
#ifndef PCMDS_CONN_H
#define PCMDS_CONN_H

#include <event2/bufferevent.h>
#include <event2/http.h>

#include "err.h"
#include "wire.h"

struct conn;
struct http_req;
struct server;

/* Once, before the first connection. */
pc_rc	 conn_init(void);
/* evhttp's bevcb: the new connection's top bufferevent, or NULL. */
struct bufferevent *conn_new(struct event_base *, void *srv);
/* The connection a request came on (NULL on the plain listener). */
struct conn *conn_of(struct evhttp_request *);
/* The client's address (from the PROXY header when there was one). */
const char *conn_peer(const struct conn *);

/* A request has reached the handlers: its number on the connection. */
long	 conn_request(struct conn *);
/* The refusal the request numbered seq stands in for, or NULL. */
const struct wire_head *conn_refusal(const struct conn *, long seq);
/* 1 when the connection closes after answering request seq. */
int	 conn_last(const struct conn *, long seq);
/*
 * The request a database worker is answering (NULL: none now): if the
 * connection goes meanwhile, its hr->conn is set to NULL, so the answer
 * finds no freed connection.
 */
void	 conn_inflight(struct conn *, struct http_req *);
/* The request has been answered: wait for the next, or close. */
void	 conn_release(struct conn *);
/*
 * Ends the connection once what is queued has left the process, without
 * evhttp finishing its answer: a stream cut part-way reaches the client
 * as cut (no final chunk), every byte before the cut delivered.
 */
void	 conn_end(struct conn *);
/* Drops the connection without more ado. */
void	 conn_cut(struct conn *);
/* Drops the connections with nothing in flight (when stopping). */
void	 conn_cut_idle(struct server *);

#endif

/*
 * srv.h - the running server: one libevent loop serving HTTPS.
 *
 * srv.c owns the loop, the listeners, the TLS context and signals;
 * conn.c each connection; http.c (http.h) the helpers every handler uses
 * to read a request and answer it; auth.c (auth.h) authentication; api.c
 * routes requests to the handlers.
 */
#ifndef PCMDS_SRV_H
#define PCMDS_SRV_H

#include <stdint.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "buf.h"
#include "conf.h"
#include "http.h"
#include "ktab.h"
#include "metrics.h"
#include "rate.h"
#include "rec.h"
#include "secret.h"
#include "store.h"

struct agg;
struct conn;

struct server {
	struct conf		*conf;
	struct secret		 secret;	/* conf->secret_file */
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp		*plain;		/* loopback /healthz, optional */
	struct evconnlistener	*listener;
	SSL_CTX			*ssl;
	struct store		*store;
	struct agg		*agg;		/* aggregates (impact) */
	struct metrics		 metrics;
	struct rate		 auth_fail;	/* failed attempts per address */
	struct rate		 auth_global;	/* failed code attempts, all */
	struct rate		 per_token;	/* requests per credential */
	struct ktab		 per_addr;	/* open connections per address */
	LIST_HEAD(, conn)	 conns;
	int			 nconns;
	int			 listening;
	int			 draining;
	double			 drain_started;	/* srv_mono() */
	struct rate		 refused_log;	/* conn.c: lines on refusals */
	long			 refused_quiet;	/* refusals not logged since */
	struct event		*signals[4];
	struct event		*drain_timer;
	struct event		*head_timer;	/* the audit head to the log */
};

/* srv.c */
int	 srv_run(struct conf *);
/* Wall-clock seconds: for timestamps (expiry, audit, records). */
double	 srv_now(void);
/* Monotonic seconds: for rate buckets and deadlines. */
double	 srv_mono(void);
/* Accepts connections or not, by the count and whether stopping. */
void	 srv_listener_update(struct server *);
/* Leaves the connection's request deadline off until srv_release(). */
void	 srv_hold(struct http_req *);
/* Drops the request's connection without an answer. */
void	 srv_cut(struct http_req *);
/* A held (streaming) request has been answered completely. */
void	 srv_release(struct server *, struct conn *);

/* api.c */
void	 api_dispatch(struct http_req *);
/* The routes served: documented path and allowed methods ("GET, HEAD"). */
size_t	 api_routes(const char **paths, const char **methods, size_t max);
void	 api_healthz(struct http_req *);

/* api_enrol.c, api_records.c */
void	 api_enrol(struct http_req *);
void	 api_records(struct http_req *);

#endif

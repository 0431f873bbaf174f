/*
 * srv.h - the running server: one libevent loop serving HTTPS.
 *
 * srv.c owns the loop, the listeners, the TLS context and signals;
 * conn.c each connection; http.c (http.h) the helpers every handler uses
 * to read a request and answer it; auth.c (auth.h) authentication; api.c
 * routes requests to the handlers.
 *
 * On SQLite the handlers run on the loop thread with the server's own
 * connection, but for batches of records (POST /v1/records): those run
 * on two worker threads, one reading and checking its batch while the
 * other's is written and committed on the one connection for batches
 * (srv_writer_take), and the loop serves on meanwhile; the connections
 * of the process take turns at the database's lock (store_sqlite.c).
 * On PostgreSQL every request that needs the database runs on a worker
 * thread with that worker's connection (pool.h), so the loop never
 * waits on the database network. On a worker the handler's answer is
 * kept (http_reply_*) and sent by the loop once the handler returns, and
 * what only the loop may do (start a stream, cut a connection) is left
 * for then. Handlers reach the database through hr->store, never
 * srv->store; the aggregates under their lock (agg.h); the limits and
 * metrics through functions that lock.
 */
#ifndef PCMDS_SRV_H
#define PCMDS_SRV_H

#include <pthread.h>
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
#include "turns.h"

struct agg;
struct conn;
struct follow;
struct oidc;
struct pool;

struct server {
	struct conf		*conf;
	struct secret		 secret;	/* conf->secret_file */
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp		*plain;		/* loopback /healthz, optional */
	struct evconnlistener	*listener;	/* NULL until ready to serve */
	int			 listen_fd;	/* bound, until then; or -1 */
	SSL_CTX			*ssl;
	struct store		*store;		/* the loop's; before serving */
	struct pool		*pool;		/* PostgreSQL: the workers */
	struct pool		*xpool;		/* SQLite: the exports' threads */
	struct pool		*wpool;		/* SQLite: the batches' threads */
	/* SQLite: the batches' connection, in turns (srv_writer_take) */
	struct store		*writer;
	struct turns		 writer_turns;
	struct follow		*follow;	/* PostgreSQL: catching up */
	struct agg		*agg;		/* aggregates (impact) */
	struct oidc		*oidc;		/* NULL: no OpenID Connect */
	struct metrics		 metrics;
	pthread_mutex_t		 rate_mu;	/* the three below */
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
/*
 * Runs work with a database connection: on a worker, done later on the
 * loop (PostgreSQL); or both at once, here (SQLite).
 */
struct pool_job;
void	 srv_submit(struct server *, struct pool_job *);
/*
 * The same for work that reads on a connection of its own (an export's
 * next referrals, or their rows): on a worker, done later on the loop,
 * with SQLite too (two workers), so the loop sends while the next rows
 * are made and the next referrals read.
 */
void	 srv_submit_read(struct server *, struct pool_job *);
/*
 * The connection to write a batch on, with the facts' apply after it:
 * SQLite's one for batches, once every batch that asked before has
 * given it back (so facts are applied in the order they committed), or,
 * without one (PostgreSQL), own. Given back with srv_writer_give.
 */
struct store *srv_writer_take(struct server *, struct store *own);
void	 srv_writer_give(struct server *, struct store *taken);
/* An audit entry written on a worker (the loop must not wait for it). */
void	 srv_audit_later(struct server *, const char *actor,
	    const char *action, const char *object, const char *outcome);
/*
 * Waits (on a worker) until the aggregates include the commit at
 * watermark mark, up to catchup_timeout: 1 then, 0 when it did not come.
 */
int	 srv_caught_up(struct server *, const char *mark);

/* api.c */
void	 api_dispatch(struct http_req *);
/* 1 when the route the request is for reads or writes the database. */
int	 api_needs_store(const struct http_req *);
/* 1 when the request is a batch of records (POST /v1/records). */
int	 api_is_batch(const struct http_req *);
/* The routes served: documented path and allowed methods ("GET, HEAD"). */
size_t	 api_routes(const char **paths, const char **methods, size_t max);
void	 api_healthz(struct http_req *);

/* api_enrol.c, api_records.c */
void	 api_enrol(struct http_req *);
void	 api_records(struct http_req *);

#endif

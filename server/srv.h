/*
 * srv.h - the running server: one libevent loop serving HTTPS.
 *
 * srv.c owns the loop, the listener, the TLS context, connection limits
 * and timeouts, and signals. http.c has the helpers every handler uses to
 * read a request and answer it; api.c routes requests to the handlers.
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
	struct rate		 auth_fail;	/* failed logins per address */
	struct rate		 per_token;	/* requests per credential */
	LIST_HEAD(, conn)	 conns;
	int			 nconns;
	int			 listening;
	int			 draining;
	double			 drain_started;
	struct event		*signals[4];
	struct event		*drain_timer;
	struct event		*head_timer;	/* the audit head to the log */
};

/* One request as a handler sees it. */
struct http_req {
	struct evhttp_request	*req;
	struct server		*srv;
	struct conn		*conn;
	enum evhttp_cmd_type	 method;
	char			 path[512];	/* decoded */
	struct evkeyvalq	 query;
	char			 peer[64];
	int			 loopback;
	struct store_auth	 auth;
	int			 authed;
	long			 records;	/* for the log line */
	double			 started;
	int			 status;
	int			 streaming;	/* the handler answers later */
};

/* srv.c */
int	 srv_run(struct conf *);
double	 srv_now(void);
/* Leaves the connection's request deadline off until srv_done(). */
void	 srv_hold(struct http_req *);
/* Drops the request's connection without an answer. */
void	 srv_cut(struct http_req *);
/* A held (streaming) request has been answered completely. */
void	 srv_release(struct server *, struct conn *);

/* http.c */
void		 http_req_init(struct http_req *, struct server *,
		    struct evhttp_request *);
void		 http_req_free(struct http_req *);
void		 http_req_log(const struct http_req *);
const char	*http_header(struct http_req *, const char *name);
const char	*http_query(struct http_req *, const char *name);
const char	*http_method_name(enum evhttp_cmd_type);
void		 http_add_header(struct http_req *, const char *name,
		    const char *value);
/* Answers with a JSON document (consumed). */
void		 http_reply_json(struct http_req *, int status, cJSON *);
/* {"error": {"code", "message"}} */
void		 http_reply_error(struct http_req *, int status,
		    const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
void		 http_reply_body(struct http_req *, int status,
		    const char *ctype, const char *body, size_t len);
/*
 * Reads the request body as JSON text into out: checks the content type
 * and encoding and inflates gzip up to max_inflated. On a problem the
 * answer (400, 413 or 415) has been sent and the result is not PC_OK.
 */
pc_rc		 http_read_json(struct http_req *, cJSON **out);

/* auth.c */
/* Role bits for auth_require(). */
#define AUTH_LINK_WORKER	(1u << ROLE_LINK_WORKER)
#define AUTH_PLACE_LEAD		(1u << ROLE_PLACE_LEAD)
#define AUTH_EVALUATOR		(1u << ROLE_EVALUATOR)
#define AUTH_SESSION		0x100u	/* a dashboard cookie will do */

/*
 * Authenticates the request (bearer token, or session cookie when
 * allowed) and checks its role. On failure the answer (401, 403 or 429)
 * has been sent, failed attempts are audited, and 0 is returned.
 */
int	 auth_require(struct http_req *, unsigned roles);
/* Counts a failed attempt from the peer; returns seconds to wait if over. */
double	 auth_failed(struct http_req *, const char *what, const char *why);
/* Seconds the peer must wait before trying again (0: may try). */
double	 auth_blocked(struct http_req *);

/* api.c */
void	 api_dispatch(struct http_req *);
/* The routes served: documented path and allowed methods ("GET, HEAD"). */
size_t	 api_routes(const char **paths, const char **methods, size_t max);
void	 api_healthz(struct http_req *);

/* api_enrol.c, api_records.c */
void	 api_enrol(struct http_req *);
void	 api_records(struct http_req *);

#endif

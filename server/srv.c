/*
 * srv.c - the event loop: HTTPS listener, the connection limit, signals
 * and orderly shutdown. Each connection is conn.c's.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "agg.h"
#include "audit.h"
#include "follow.h"
#include "ingest.h"
#include "conn.h"
#include "log.h"
#include "oidc.h"
#include "places.h"
#include "pool.h"
#include "srv.h"
#include "tls.h"
#include "version.h"

/* A request handed to a worker: the request and its job. */
struct request {
	struct http_req		 hr;
	struct pool_job		 job;
};

double
srv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double
srv_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
srv_listener_update(struct server *srv)
{
	int want = !srv->draining && srv->nconns < srv->conf->max_connections;

	if (srv->listener == NULL || want == srv->listening)
		return;
	if (want)
		evconnlistener_enable(srv->listener);
	else
		evconnlistener_disable(srv->listener);
	srv->listening = want;
}

void
srv_cut(struct http_req *hr)
{
	hr->status = 0;
	if (pool_on_worker()) {
		hr->cut = 1;	/* the loop's to do */
		return;
	}
	if (hr->conn != NULL)
		conn_cut(hr->conn);
}

void
srv_hold(struct http_req *hr)
{
	hr->streaming = 1;
}

void
srv_release(struct server *srv, struct conn *c)
{
	(void)srv;
	if (c != NULL)
		conn_release(c);
}

void
srv_submit(struct server *srv, struct pool_job *j)
{
	if (srv->pool != NULL) {
		pool_submit(srv->pool, j);
		return;
	}
	j->work(j, srv->store);
	j->done(j);
}

void
srv_submit_read(struct server *srv, struct pool_job *j)
{
	if (srv->pool == NULL && srv->xpool != NULL) {
		pool_submit(srv->xpool, j);
		return;
	}
	srv_submit(srv, j);
}

/* What follows a handler, on the loop thread, wherever it ran. */
static void
finish(struct server *srv, struct http_req *hr)
{
	if (hr->conn != NULL)
		conn_inflight(hr->conn, NULL);
	if (hr->cut) {
		srv_cut(hr);
		if (hr->deferred)	/* frees the request */
			evhttp_send_reply(hr->req, 500, "Internal Server Error",
			    NULL);
		if (hr->reply != NULL)
			evbuffer_free(hr->reply);
		hr->reply = NULL;
	} else if (hr->deferred && !hr->streaming) {
		if (hr->status == 0)
			http_reply_error(hr, 500, "E_SYSTEM", "no answer");
		http_send_deferred(hr);
	}
	hr->deferred = 0;
	if (hr->then != NULL)
		hr->then(hr, hr->then_arg);
	if (!hr->streaming) {
		metrics_request(&srv->metrics, hr->status);
		http_req_log(hr);
		srv_release(srv, hr->conn);
	}
	http_req_free(hr);
}

static void
request_work(struct pool_job *j, struct store *st)
{
	struct request *rq = (struct request *)((char *)j -
	    offsetof(struct request, job));

	rq->hr.store = st;
	api_dispatch(&rq->hr);
}

static void
request_done(struct pool_job *j)
{
	struct request *rq = (struct request *)((char *)j -
	    offsetof(struct request, job));

	finish(rq->hr.srv, &rq->hr);
	free(rq);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct conn *c = conn_of(req);
	struct request *rq;
	struct pool *p;
	struct http_req hr;

	http_req_init(&hr, srv, req, c);
	if (c != NULL) {
		hr.seq = conn_request(c);
		hr.refused = conn_refusal(c, hr.seq);
	}
	if (hr.refused != NULL)
		http_reply_refused(&hr);
	else if (hr.path_bad)
		http_reply_error(&hr, 400, "E_PATH", "the path is longer than "
		    "%zu bytes or holds a control character once decoded",
		    sizeof(hr.path) - 1);
	else if (srv->draining) {
		http_add_header(&hr, "Retry-After", "5");
		http_reply_error(&hr, 503, "E_STOPPING", "the server is "
		    "stopping; try again shortly");
	} else if ((p = srv->pool != NULL && api_needs_store(&hr) ? srv->pool :
	    srv->wpool != NULL && api_is_batch(&hr) ? srv->wpool : NULL) !=
	    NULL && (rq = calloc(1, sizeof(*rq))) != NULL) {
		/* to a worker; the answer comes back through request_done */
		http_req_move(&rq->hr, &hr);
		rq->hr.deferred = 1;
		rq->hr.store = NULL;
		if (rq->hr.conn != NULL)
			conn_inflight(rq->hr.conn, &rq->hr);
		rq->job.work = request_work;
		rq->job.done = request_done;
		pool_submit(p, &rq->job);
		return;
	} else
		api_dispatch(&hr);
	finish(srv, &hr);
}

/* The plain-HTTP loopback listener serves /healthz and nothing else. */
static void
on_plain_request(struct evhttp_request *req, void *arg)
{
	struct http_req hr;

	http_req_init(&hr, arg, req, NULL);
	if (strcmp(hr.path, "/healthz") == 0)
		api_healthz(&hr);
	else
		http_reply_error(&hr, 404, "E_NOT_FOUND", "only /healthz is "
		    "served without TLS");
	http_req_free(&hr);
}

static int
split_hostport(const char *s, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char *colon;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			return -1;
		snprintf(host, hlen, "%.*s", (int)(end - s - 1), s + 1);
		snprintf(port, plen, "%s", end + 2);
		return 0;
	}
	if ((colon = strrchr(s, ':')) == NULL)
		return -1;
	snprintf(host, hlen, "%.*s", (int)(colon - s), s);
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

/*
 * A socket bound to where (host:port), not yet listening: bound before
 * privileges are dropped, listened on only once the server can serve
 * (listener_on), so that connections made while it loads are refused
 * rather than queued and then accepted all at once. -1 on failure.
 */
static int
bind_socket(const char *where, int loopback_only)
{
	struct addrinfo hints, *ai = NULL;
	char host[256], port[16];
	int one = 1, fd;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (split_hostport(where, host, sizeof(host), port, sizeof(port)) != 0 ||
	    getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
		log_warnx("cannot use listen address %s (host:port)", where);
		return -1;
	}
	if (loopback_only && !((ai->ai_family == AF_INET &&
	    (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >>
	    24) == 127) || (ai->ai_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(
	    &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr)))) {
		log_warnx("healthz_listen %s: plain HTTP is only allowed on a "
		    "loopback address", where);
		freeaddrinfo(ai);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 ||
	    /* accepted sockets inherit it: no 40 ms Nagle stall on
	     * keep-alive */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		log_warn("cannot listen on %s", where);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/*
 * Listening on fd (from bind_socket, closed with the listener), disabled.
 * Where is for the message: another process may have bound the same
 * address meanwhile (SO_REUSEADDR allows it until one listens).
 */
static struct evconnlistener *
listener_on(struct server *srv, int fd, const char *where)
{
	struct evconnlistener *l = evconnlistener_new(srv->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED,
	    1024, fd);

	if (l == NULL) {
		log_warn("cannot listen on %s", where);
		close(fd);
	}
	return l;
}

static void
begin_drain(struct server *srv)
{
	struct timeval tv = {0, 100000};

	if (srv->draining)
		return;
	log_info("stopping: no new connections; finishing requests in flight");
	srv->draining = 1;
	srv->drain_started = srv_mono();
	srv_listener_update(srv);
	conn_cut_idle(srv);
	event_add(srv->drain_timer, &tv);
}

static void
on_drain_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = {0, 100000};

	(void)fd;
	(void)ev;
	conn_cut_idle(srv);
	if (srv->nconns == 0 ||
	    srv_mono() - srv->drain_started >= srv->conf->shutdown_grace) {
		if (srv->nconns > 0)
			log_warnx("stopping with %d connections still open",
			    srv->nconns);
		event_base_loopexit(srv->base, NULL);
		return;
	}
	event_add(srv->drain_timer, &tv);
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct server *srv = arg;
	struct err_list errs;
	SSL_CTX *ctx;

	(void)ev;
	if (sig != SIGHUP) {
		begin_drain(srv);
		return;
	}
	err_init(&errs);
	if ((ctx = tls_server_ctx(srv->conf->cert, srv->conf->key, &errs)) ==
	    NULL) {
		log_warnx("SIGHUP: keeping the old certificate: %s",
		    errs.n ? errs.v[0].msg : "error");
	} else {
		/* connections in progress keep their reference to the old */
		SSL_CTX_free(srv->ssl);
		srv->ssl = ctx;
		log_info("SIGHUP: certificate and key reloaded");
	}
	err_free(&errs);
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user[0] == '\0' || geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("user %s does not exist", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_warn("cannot become %s", user);
		return -1;
	}
	if (setuid(0) == 0) {
		log_warnx("privileges were not dropped");
		return -1;
	}
	log_info("running as %s", user);
	return 0;
}

/* Room for max_connections sockets and the files beside them. */
static void
raise_fd_limit(int want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("cannot read the open-file limit");
		return;
	}
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open-file limit to %llu, so fewer "
		    "than max_connections (%d) may be served; raise it before "
		    "start (LimitNOFILE= in the service unit)",
		    (unsigned long long)rl.rlim_cur, want);
	else if (rl.rlim_cur < need)
		log_warnx("the open-file limit is %llu at most, so fewer than "
		    "max_connections (%d) may be served; raise the hard limit "
		    "(LimitNOFILE= in the service unit)",
		    (unsigned long long)rl.rlim_cur, want);
}

static int
setup_http(struct server *srv)
{
	struct conf *cf = srv->conf;
	struct evconnlistener *l;
	int fd;

	if ((srv->http = evhttp_new(srv->base)) == NULL)
		return -1;
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	/* the wire filter (conn.c) holds requests to these limits first */
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)cf->max_body);
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)cf->max_headers +
	    WIRE_SLACK);
	evhttp_set_timeout(srv->http, cf->idle_timeout);
	evhttp_set_bevcb(srv->http, conn_new, srv);
	evhttp_set_gencb(srv->http, on_request, srv);
	if ((srv->listen_fd = bind_socket(cf->listen, 0)) < 0)
		return -1;
	if (cf->healthz_listen[0] != '\0') {
		if ((srv->plain = evhttp_new(srv->base)) == NULL ||
		    (fd = bind_socket(cf->healthz_listen, 1)) < 0 ||
		    (l = listener_on(srv, fd, cf->healthz_listen)) == NULL ||
		    evhttp_bind_listener(srv->plain, l) == NULL)
			return -1;
		evhttp_set_timeout(srv->plain, 5);
		evhttp_set_gencb(srv->plain, on_plain_request, srv);
		evconnlistener_enable(l);
	}
	return 0;	/* the TLS port is listened on once all is ready */
}

/*
 * The TLS port listened on, once the server can serve: until then a
 * client (a load balancer's check, a device) is refused and tries again
 * later, rather than waiting in the backlog for a start that may take
 * minutes, each of those connections then accepted at once.
 */
static int
start_listening(struct server *srv)
{
	int fd = srv->listen_fd;

	srv->listen_fd = -1;	/* the listener's from here */
	if ((srv->listener = listener_on(srv, fd, srv->conf->listen)) == NULL)
		return -1;
	if (evhttp_bind_listener(srv->http, srv->listener) == NULL) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
		return -1;
	}
	return 0;
}

/* Before the port is bound, so that no signal finds the default action. */
static int
setup_signals(struct server *srv)
{
	static const int sigs[4] = {SIGTERM, SIGINT, SIGHUP, 0};
	int i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; sigs[i] != 0; i++) {
		srv->signals[i] = evsignal_new(srv->base, sigs[i], on_signal,
		    srv);
		if (srv->signals[i] == NULL ||
		    evsignal_add(srv->signals[i], NULL) != 0)
			return -1;
	}
	srv->drain_timer = evtimer_new(srv->base, on_drain_tick, srv);
	return srv->drain_timer != NULL ? 0 : -1;
}

static int
count_place(void *arg, const struct store_place *p)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

/* A new database (a packaged install) takes its places from the file. */
static pc_rc
first_places(struct server *srv, struct err_list *errs)
{
	int n = 0;
	pc_rc rc;

	if ((rc = store_place_each(srv->store, count_place, &n)) != PC_OK)
		return rc;
	if (n > 0 || srv->conf->places[0] == '\0')
		return PC_OK;
	if ((rc = store_begin(srv->store)) != PC_OK)
		return rc;
	if ((rc = places_import_file(srv->store, srv->conf->places, &n,
	    errs)) == PC_OK)
		rc = store_commit(srv->store);
	if (rc != PC_OK)
		store_rollback(srv->store);
	else
		log_info("places: %d loaded from %s", n, srv->conf->places);
	return rc;
}

/*
 * The audit head goes to the log, outside the database, so that entries
 * removed from the log's end can be found (pcmdsd audit verify --head).
 */
static void
say_head(void *arg, const char *head)
{
	log_info("audit head %s (%s)", head, (const char *)arg);
}

static void
log_head(struct server *srv, const char *when)
{
	if (audit_heads(srv->store, say_head, (void *)when) != PC_OK)
		log_warnx("audit head unreadable (%s)", when);
}

static void
head_work(struct pool_job *j, struct store *st)
{
	(void)j;
	if (audit_heads(st, say_head, (void *)"every audit_head_minutes") !=
	    PC_OK)
		log_warnx("audit head unreadable (every audit_head_minutes)");
}

static void
head_done(struct pool_job *j)
{
	free(j);
}

static void
on_head_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct pool_job *j = calloc(1, sizeof(*j));

	(void)fd;
	(void)ev;
	if (j == NULL)
		return;
	j->work = head_work;
	j->done = head_done;
	srv_submit(arg, j);
}

/* An audit entry, written by a worker. */
struct later {
	struct pool_job	 job;
	char		 actor[96], action[64], object[512], outcome[256];
};

static void
later_work(struct pool_job *j, struct store *st)
{
	struct later *l = (struct later *)j;

	if (audit_log_now(st, l->actor, l->action, l->object, l->outcome) !=
	    PC_OK)
		log_warnx("audit: cannot record %s by %s", l->action, l->actor);
}

static void
later_done(struct pool_job *j)
{
	free(j);
}

void
srv_audit_later(struct server *srv, const char *actor, const char *action,
    const char *object, const char *outcome)
{
	struct later *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		log_warnx("audit: out of memory for %s by %s", action, actor);
		return;
	}
	snprintf(l->actor, sizeof(l->actor), "%s", actor);
	snprintf(l->action, sizeof(l->action), "%s", action);
	snprintf(l->object, sizeof(l->object), "%s", object);
	snprintf(l->outcome, sizeof(l->outcome), "%s", outcome);
	l->job.work = later_work;
	l->job.done = later_done;
	srv_submit(srv, &l->job);
}

int
srv_caught_up(struct server *srv, const char *mark)
{
	if (srv->follow == NULL)
		return 1;	/* one server: every commit is in already */
	return follow_wait(srv->follow, mark, srv->conf->catchup_timeout *
	    1000);
}

static int
start_head_log(struct server *srv)
{
	struct timeval tv = {srv->conf->audit_head_minutes * 60, 0};

	log_head(srv, "start");
	srv->head_timer = event_new(srv->base, -1, EV_PERSIST, on_head_tick,
	    srv);
	return srv->head_timer != NULL && event_add(srv->head_timer, &tv) ==
	    0 ? 0 : -1;
}

static pc_rc
export_source(struct server *srv, struct err_list *errs)
{
	pc_rc rc = store_export_source(srv->store, srv->conf->export_database);

	if (rc == PC_EUSAGE)
		err_add(errs, E_SYSTEM, "export_database", "export_database "
		    "names a PostgreSQL database (a streaming replica), and "
		    "only for database = postgresql://...");
	return rc;
}

/*
 * SQLite: the one connection batches are written on, whichever worker
 * read them, so its page cache stays warm (SQLite drops a connection's
 * cache when another connection has written).
 */
static pc_rc
open_writer(struct server *srv, struct err_list *errs)
{
	pc_rc rc;

	if ((rc = store_open(srv->conf->database, &srv->writer, errs)) !=
	    PC_OK)
		return rc;
	if ((rc = store_cache_size(srv->writer, srv->conf->cache_size)) !=
	    PC_OK)
		err_add(errs, E_SYSTEM, "cache_size", "cannot set the batches' "
		    "connection's page cache: %s", pc_strerror(rc));
	/* waits as the loop's does: a 503 soon, not a stall */
	store_short_waits(srv->writer);
	if (rc == PC_OK && (rc = audit_open(srv->writer, &srv->secret,
	    errs)) == PC_OK)
		rc = store_background_checkpoints(srv->writer, errs);
	return rc;
}

struct store *
srv_writer_take(struct server *srv, struct store *own)
{
	if (srv->writer == NULL)
		return own;
	turns_take(&srv->writer_turns);
	return srv->writer;
}

void
srv_writer_give(struct server *srv, struct store *taken)
{
	if (taken == NULL || taken != srv->writer)
		return;
	turns_give(&srv->writer_turns);
}

/*
 * A store other servers write to: the workers, so the loop never waits
 * on it, and the thread that catches up on what the others write. A
 * store of this server's own: two workers for exports
 * (srv_submit_read), one reading an export's next referrals while the
 * other makes the rows of those read before, with no connection of
 * their own (an export reads through the cursor's, store_export_open);
 * and two for batches of records, one reading and checking a batch
 * while the other's is written on the writer's connection.
 */
static pc_rc
start_shared(struct server *srv, const char *upto, struct err_list *errs)
{
	const struct conf *cf = srv->conf;
	pc_rc rc;

	if (!store_shared(srv->store)) {
		/* exports' reads and rows while the loop sends */
		if ((rc = pool_start(&srv->xpool, srv->base, 2, NULL, NULL,
		    0, &srv->secret, errs)) != PC_OK ||
		    (rc = open_writer(srv, errs)) != PC_OK)
			return rc;
		/* a batch read and checked while the other one commits */
		return pool_start(&srv->wpool, srv->base, 2, cf->database, NULL,
		    cf->cache_size, &srv->secret, errs);
	}
	if ((rc = pool_start(&srv->pool, srv->base, cf->db_workers,
	    cf->database, cf->export_database, cf->cache_size, &srv->secret,
	    errs)) != PC_OK)
		return rc;
	if ((rc = follow_start(&srv->follow, cf->database, srv->agg, upto,
	    errs)) != PC_OK)
		return rc;
	log_info("database shared: %d workers, catching up on other servers' "
	    "facts", cf->db_workers);
	return PC_OK;
}

/* Rate buckets and connection counts, each a table of fixed size. */
static pc_rc
limits_init(struct server *srv)
{
	const struct conf *cf = srv->conf;

	pthread_mutex_init(&srv->rate_mu, NULL);
	turns_init(&srv->writer_turns);
	if (rate_init(&srv->auth_fail, cf->auth_failures / 60.0,
	    cf->auth_failures, 65536) != PC_OK ||
	    rate_init(&srv->auth_global, cf->auth_failures_global / 60.0,
	    cf->auth_failures_global, 1) != PC_OK ||
	    rate_init(&srv->per_token, cf->rate_per_token,
	    cf->rate_per_token * 2.0, 65536) != PC_OK ||
	    /* lines on refused connections: 5 at once, then one in 10 s,
	     * per address */
	    rate_init(&srv->refused_log, 0.1, 5, 4096) != PC_OK ||
	    /* every open connection's address fits: none is ever evicted */
	    ktab_init(&srv->per_addr, (size_t)cf->max_connections + 1) !=
	    PC_OK || conn_init() != PC_OK) {
		log_warnx("out of memory for the rate and connection tables");
		return PC_ENOMEM;
	}
	return PC_OK;
}

static void
teardown(struct server *srv)
{
	int i;

	/* before evhttp: sign-ins held for the provider let go first */
	oidc_close(srv->oidc);
	srv->listener = NULL;	/* evhttp_free frees it */
	if (srv->listen_fd >= 0)	/* bound, never listened on */
		close(srv->listen_fd);
	srv->listen_fd = -1;
	if (srv->http != NULL)
		evhttp_free(srv->http);	/* frees every connection */
	if (srv->plain != NULL)
		evhttp_free(srv->plain);
	for (i = 0; i < 4; i++)
		if (srv->signals[i] != NULL)
			event_free(srv->signals[i]);
	if (srv->drain_timer != NULL)
		event_free(srv->drain_timer);
	if (srv->head_timer != NULL)
		event_free(srv->head_timer);
	rate_free(&srv->auth_fail);
	rate_free(&srv->auth_global);
	rate_free(&srv->per_token);
	pthread_mutex_destroy(&srv->rate_mu);
	turns_destroy(&srv->writer_turns);
	rate_free(&srv->refused_log);
	ktab_free(&srv->per_addr);
	agg_close(srv->agg);
	store_close(srv->writer);
	store_close(srv->store);
	SSL_CTX_free(srv->ssl);
	if (srv->base != NULL)
		event_base_free(srv->base);
}

/* MiB: the page cache of the loop's connection while the server starts */
#define START_CACHE_MIB	1

/*
 * glibc raises its mmap threshold each time a block from mmap is freed
 * (up to 32 MiB, and the heap's trim threshold with it), so that a
 * request's large arrays grown by realloc, such as take-up rows, come
 * from the heap ever after and stay resident once freed. Fixed at
 * glibc's first value, a block of 128 KiB or more is always mapped
 * and unmapped whole.
 */
static void
malloc_settings(void)
{
#ifdef __GLIBC__
	if (mallopt(M_MMAP_THRESHOLD, 128 * 1024) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, 128 * 1024) != 1)
		log_warnx("malloc thresholds not set: freed memory may stay "
		    "in the resident set");
#endif
}

/*
 * Every referral's fact worked out, when the store has none (a database
 * from before facts, or an upgrade's first start), on a connection
 * closed before the server opens its own: SQLite's index of the
 * write-ahead log grows with that one long transaction, some 1 MiB at a
 * million referrals, and stays mapped for as long as any connection of
 * the process is open.
 */
static pc_rc
facts_first(const struct conf *cf, struct err_list *errs)
{
	struct store *st;
	pc_rc rc;

	if ((rc = store_open(cf->database, &st, errs)) != PC_OK)
		return rc;
	if ((rc = store_cache_size(st, START_CACHE_MIB)) != PC_OK ||
	    (rc = agg_rebuild(st)) != PC_OK)
		err_add(errs, E_SYSTEM, "", "cannot work out the aggregates: "
		    "%s", pc_strerror(rc));
	store_close(st);
	return rc;
}

/*
 * Once the start has loaded: the loop's page cache emptied of the pages
 * the load read once (queries would not read them again) and set to its
 * size for serving, then what the load took and gave back (timelines,
 * statements, those pages) returned to the system rather than kept in
 * the server's resident set.
 */
static pc_rc
after_load(struct server *srv)
{
	pc_rc rc;

	if ((rc = store_cache_size(srv->store, 0)) != PC_OK ||
	    (rc = store_cache_size(srv->store, srv->conf->cache_size)) !=
	    PC_OK)
		return rc;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	return PC_OK;
}

int
srv_run(struct conf *cf)
{
	struct server srv;
	struct err_list errs;
	uint8_t cell_key[SECRET_LEN];
	char upto[STORE_SNAP_LEN], where[PATH_MAX];
	int rc = 1;

	memset(&srv, 0, sizeof(srv));
	srv.listen_fd = -1;
	srv.conf = cf;
	LIST_INIT(&srv.conns);
	metrics_init(&srv.metrics);
	err_init(&errs);
	raise_fd_limit(cf->max_connections);
	malloc_settings();
	/* keys are read and the port bound before privileges are dropped */
	if (limits_init(&srv) != PC_OK ||
	    secret_load(cf->secret_file, &srv.secret, &errs) != PC_OK ||
	    (srv.ssl = tls_server_ctx(cf->cert, cf->key, &errs)) == NULL ||
	    (srv.base = event_base_new()) == NULL ||
	    setup_signals(&srv) != 0 || setup_http(&srv) != 0 ||
	    oidc_open(&srv.oidc, cf, &srv.secret, &errs) != PC_OK ||
	    drop_privileges(cf->user) != 0 ||
	    facts_first(cf, &errs) != PC_OK ||
	    store_open(cf->database, &srv.store, &errs) != PC_OK ||
	    /* agg_open's passes read each page once: a larger cache would
	     * fill with pages no request reads, its memory kept for good */
	    store_cache_size(srv.store, START_CACHE_MIB) != PC_OK ||
	    audit_open(srv.store, &srv.secret, &errs) != PC_OK ||
	    export_source(&srv, &errs) != PC_OK ||
	    store_background_checkpoints(srv.store, &errs) != PC_OK ||
	    first_places(&srv, &errs) != PC_OK ||
	    secret_derive(&srv.secret, SECRET_CELL_KEY, cell_key) != PC_OK ||
	    agg_open(&srv.agg, srv.store, cell_key, upto, &errs) != PC_OK ||
	    after_load(&srv) != PC_OK ||
	    start_shared(&srv, upto, &errs) != PC_OK ||
	    start_head_log(&srv) != 0 || (srv.oidc != NULL &&
	    oidc_start(srv.oidc, srv.base, &errs) != PC_OK) ||
	    start_listening(&srv) != 0) {
		if (errs.n > 0)
			log_warnx("%s", errs.v[0].msg);
		log_warnx("not started");
		goto out;
	}
	store_short_waits(srv.store);	/* from now on, requests wait */
	srv_listener_update(&srv);
	store_redact(cf->database, where, sizeof(where));
	log_info("pcmdsd %s serving https://%s (TLS 1.2+), database %s",
	    PCMDS_VERSION, cf->listen, where);
	ingest_workers_start();		/* the batch checks' threads */
	/* the queries' passes shared over the cores, one thread to a core */
	agg_workers_start(srv.agg, (int)sysconf(_SC_NPROCESSORS_ONLN) - 1);
	event_base_dispatch(srv.base);
	/* what the workers still have is finished before anything goes */
	pool_stop(srv.pool);
	srv.pool = NULL;
	pool_stop(srv.xpool);
	srv.xpool = NULL;
	pool_stop(srv.wpool);
	srv.wpool = NULL;
	follow_stop(srv.follow);
	srv.follow = NULL;
	log_head(&srv, "stop");
	ingest_workers_stop();
	log_info("stopped");
	rc = 0;
out:
	pool_stop(srv.pool);
	pool_stop(srv.xpool);
	pool_stop(srv.wpool);
	follow_stop(srv.follow);
	teardown(&srv);
	sec_wipe(cell_key, sizeof(cell_key));
	secret_wipe(&srv.secret);
	err_free(&errs);
	return rc;
}

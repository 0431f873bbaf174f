/*
 * api_export.c - GET /v1/export: record-level data for evaluators.
 *
 * Only referrals whose person consented to evaluation, not voided; the
 * rows (export.c) carry every identifier re-keyed for the evaluator who
 * asks, so no two evaluators' exports, and no export and the deployment
 * key, can be joined. Streamed, in three stages at once: a worker reads
 * the next referrals' texts, another makes the rows of those read before
 * into the next chunk, and the loop sends the chunk before it; no stage
 * runs further ahead than one batch, so memory stays flat however many
 * records there are and the loop only sends. The data come from one
 * snapshot of the database, read on a connection of their own while
 * ingest goes on. A database error in the middle cuts
 * the connection without the final chunk, so the client sees a broken
 * transfer, never a short export that looks whole. Audited at start and
 * end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "agg.h"
#include "api_places.h"
#include "audit.h"
#include "export.h"
#include "conn.h"
#include "failpoint.h"
#include "log.h"
#include "pool.h"

/*
 * Of texts read, and so of rows, a batch. Each batch is a read, a rows
 * job and a send, each handed over through the loop: at 64 KiB a batch
 * the hand-overs (thread wake-ups) came to four times the context
 * switches and 5% more of the export's CPU than at 512 KiB, where the
 * three stages hold a few MiB between them. The first batch is small,
 * so that the first rows go out soon; each after it twice the one
 * before, up to the most.
 */
#define BATCH_FIRST	(64 * 1024)
#define BATCH_MOST	(512 * 1024)

struct export;

/* Referrals read ahead, and how the reading ended. */
struct export_read {
	struct pool_job		 job;	/* reading them */
	struct export		*x;
	struct store_texts	 b;
	pc_rc			 rc;	/* PC_ENOTFOUND: the last ones */
	int			 busy;	/* being read */
	int			 full;	/* read, their rows not yet made */
};

struct export {
	struct pool_job		 job;	/* making the next chunk's rows */
	struct server		*srv;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	struct conn		*conn;
	struct store_cursor	*cur;
	struct recipient	 to;
	struct export_out	 out;
	struct export_read	 rd[2];	/* one read while the other's rows
					   are made */
	int			 rd_next;	/* the one read next */
	int			 rows_next;	/* the one whose rows come next */
	int			 rd_end;	/* the cursor gave its last */
	size_t			 rd_bytes;	/* of texts, the next read's (the
						   reading thread's alone) */
	struct buf		 chunk;	/* what the job made */
	pc_rc			 rc;	/* and how it ended */
	int			 head;	/* the CSV header is still to come */
	int			 busy;	/* a job is filling the chunk */
	int			 ready;	/* it is filled, not yet sent */
	int			 sending; /* a chunk is on its way out */
	int			 gone;	/* the client went away meanwhile */
	int			 cut;	/* ended without its last chunk */
	long			 referrals;
	double			 started;
	char			 actor[32];
	char			 what[160];
	char			 peer[64];
	int64_t			 user;
};

struct export_req {
	const char		*place;
	int32_t			 from, to;
	int			 csv;
	enum export_shape	 shape;
};

static void export_pump(struct export *);
static void export_written(struct evhttp_connection *, void *);
static void cut_now(struct export *);

static void
export_free(struct export *x)
{
	store_export_close(x->cur);
	recip_wipe(&x->to);
	store_texts_free(&x->rd[0].b);
	store_texts_free(&x->rd[1].b);
	buf_free(&x->chunk);
	free(x);
}

/* A job of the export's is on a worker. */
static int
export_busy(const struct export *x)
{
	return x->busy || x->rd[0].busy || x->rd[1].busy;
}

/* The end, audited (by a worker: the loop never waits for it). */
static void
export_end(struct export *x, const char *outcome)
{
	char n[96];

	snprintf(n, sizeof(n), "%s: %ld rows of %ld referrals", outcome,
	    x->out.rows, x->referrals);
	srv_audit_later(x->srv, x->actor, "export.end", x->what, n);
	if (x->srv->conf->log_requests)
		log_info("GET /v1/export 200 rows=%ld ms=%.1f user=%lld "
		    "peer=%s %s", x->out.rows, (srv_now() - x->started) * 1000,
		    (long long)x->user, x->peer, outcome);
}

/* The client went away: stop, and let libevent free the request. */
static void
export_closed(struct evhttp_connection *evcon, void *arg)
{
	struct export *x = arg;

	(void)evcon;
	if (export_busy(x)) {
		x->gone = 1;	/* the last job to end frees it */
		return;
	}
	export_end(x, "aborted by the client");
	export_free(x);
}

/* On the loop, as a job ends: the client went away, and no job is left. */
static int
export_left(struct export *x)
{
	if (!x->gone)
		return 0;
	if (!export_busy(x)) {
		if (!x->cut)	/* else its end is audited already */
			export_end(x, "aborted by the client");
		export_free(x);
	}
	return 1;
}

/*
 * A cut answer's connection is ours until it is freed: evhttp calls our
 * chunk callback again as the rows already queued drain, so x lives
 * until then and the callback sees it cut.
 */
static void
export_gone(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	export_free(arg);
}

/* On a worker: the next referrals' texts, up to a batch's worth. */
static void
read_work(struct pool_job *j, struct store *st)
{
	struct export_read *r = (struct export_read *)j;
	struct store_export_ref ref;
	pc_rc rc = PC_OK;

	(void)st;
	store_texts_reset(&r->b);
	while (rc == PC_OK && r->b.text.len < r->x->rd_bytes) {
		if ((rc = store_export_next(r->x->cur, &ref)) == PC_OK &&
		    FAILPOINT_HIT("export-db-error"))
			rc = PC_ESTORE;	/* test builds: as a failing read would */
		if (rc == PC_OK)
			rc = store_texts_copy(&r->b, &ref);
	}
	if (r->x->rd_bytes < BATCH_MOST)
		r->x->rd_bytes *= 2;
	r->rc = rc;
}

/* On the loop: referrals read; their rows, or a cut waiting for them. */
static void
read_done(struct pool_job *j)
{
	struct export_read *r = (struct export_read *)j;
	struct export *x = r->x;

	r->busy = 0;
	r->full = 1;
	if (r->rc != PC_OK)
		x->rd_end = 1;
	if (export_left(x))
		return;
	if (x->cut) {	/* the cursor was in use when the stream broke */
		cut_now(x);
		return;
	}
	export_pump(x);
}

/* On a worker: the rows of the referrals read next into the chunk. */
static void
rows_work(struct pool_job *j, struct store *st)
{
	struct export *x = (struct export *)j;
	struct export_read *r = &x->rd[x->rows_next];
	pc_rc rc = PC_OK;

	(void)st;
	buf_reset(&x->chunk);
	if (x->head) {
		x->head = 0;
		rc = export_header(&x->out, &x->chunk);
	}
	if (rc == PC_OK)
		rc = export_batch_rows(&x->out, &r->b, &x->chunk);
	x->referrals += (long)r->b.nref;
	if (rc == PC_OK)
		rc = r->rc;	/* more to come, the end, or a failed read */
	/* a chunk short of memory is never sent as if whole */
	if ((rc == PC_OK || rc == PC_ENOTFOUND) && buf_failed(&x->chunk) !=
	    PC_OK)
		rc = PC_ENOMEM;
	x->rc = rc;
}

/*
 * No final chunk: the connection is closed mid-answer, so the client
 * cannot take what it has for the whole. The rows already queued go out
 * first; without a connection of ours (never on the TLS listener) it is
 * freed here, as libevent frees a connection it is done with from this
 * same callback.
 */
static void
abort_stream(struct export *x)
{
	if (x->conn != NULL)
		conn_end(x->conn);
	else
		evhttp_connection_free(x->evcon);
}

/*
 * On the loop: the chunk that was filled out, and the next one started
 * on the worker while this one goes (the stream ends, or is cut, only
 * once what came before it has gone out).
 */
static void
deliver(struct export *x)
{
	struct evbuffer *out;
	pc_rc rc = x->rc;

	x->ready = 0;
	if (rc == PC_OK || (rc == PC_ENOTFOUND && x->chunk.len > 0)) {
		if ((out = evbuffer_new()) != NULL && evbuffer_add(out,
		    x->chunk.p, x->chunk.len) == 0) {
			x->sending = 1;
			evhttp_send_reply_chunk_with_cb(x->req, out,
			    export_written, x);
			evbuffer_free(out);
			if (rc == PC_ENOTFOUND) {
				/* the end, once this last chunk has gone */
				buf_reset(&x->chunk);
				x->ready = 1;
				return;
			}
			export_pump(x);
			return;
		}
		if (out != NULL)
			evbuffer_free(out);
		rc = PC_ENOMEM;
	}
	metrics_request(&x->srv->metrics, 200);
	if (rc == PC_ENOTFOUND) {
		evhttp_connection_set_closecb(x->evcon, NULL, NULL);
		evhttp_send_reply_end(x->req);
		export_end(x, "complete");
		srv_release(x->srv, x->conn);
		export_free(x);
		return;
	}
	log_warnx("export for user %lld cut after %ld rows: %s",
	    (long long)x->user, x->out.rows, pc_strerror(rc));
	export_end(x, pc_strerror(rc));
	x->cut = 1;
	if (!export_busy(x))	/* else once the read under way ends */
		cut_now(x);
}

/* The read ends now, and the stream with it. */
static void
cut_now(struct export *x)
{
	store_export_close(x->cur);
	x->cur = NULL;
	evhttp_connection_set_closecb(x->evcon, export_gone, x);
	abort_stream(x);	/* may free x at once */
}

/* On the loop: a chunk is filled; out if the one before it has gone. */
static void
rows_done(struct pool_job *j)
{
	struct export *x = (struct export *)j;

	x->busy = 0;
	x->rd[x->rows_next].full = 0;
	x->rows_next ^= 1;
	if (export_left(x))
		return;
	x->ready = 1;
	if (!x->sending)
		deliver(x);
	else
		export_pump(x);	/* the next read, into the batch now free */
}

/*
 * The next stages that can start: a read into the batch it comes to,
 * once that batch's rows are made, and the rows of the batch read
 * next, once the chunk before them is on its way. Both are marked busy
 * before either is submitted: a job run at once (no worker left, as the
 * server stops) then cannot end the export under the other.
 */
static void
export_pump(struct export *x)
{
	struct export_read *r = &x->rd[x->rd_next], *w = &x->rd[x->rows_next];
	int read = 0, rows = 0;

	if (x->cut || x->gone)
		return;
	/* one read at a time: the cursor is one thread's, in order */
	if (!x->rd_end && !x->rd[0].busy && !x->rd[1].busy && !r->full) {
		read = r->busy = 1;
		x->rd_next ^= 1;
	}
	if (!x->busy && !x->ready && w->full)
		rows = x->busy = 1;
	if (rows) {
		x->job.work = rows_work;
		x->job.done = rows_done;
		srv_submit_read(x->srv, &x->job);
	}
	if (read) {
		r->x = x;
		r->job.work = read_work;
		r->job.done = read_done;
		srv_submit_read(x->srv, &r->job);
	}
}

/* A chunk has gone out: the next, if it is ready. */
static void
export_written(struct evhttp_connection *evcon, void *arg)
{
	struct export *x = arg;

	(void)evcon;
	/*
	 * The output may report itself written more than once (it goes out
	 * in pieces below the wire filter), and a cut answer sends nothing
	 * more; otherwise a chunk is filled while one is sent, no more.
	 */
	if (x->cut)
		return;
	x->sending = 0;
	if (x->ready)
		deliver(x);
}

/* On the loop, once the handler has prepared it: the stream starts. */
static void
export_begin(struct http_req *hr, void *arg)
{
	struct export *x = arg;

	x->req = hr->req;
	x->conn = hr->conn;
	if ((x->evcon = evhttp_request_get_connection(hr->req)) == NULL) {
		/* the client left while it was prepared: libevent frees it */
		evhttp_send_reply(hr->req, 200, "OK", NULL);
		metrics_request(&x->srv->metrics, 200);
		export_end(x, "aborted by the client");
		export_free(x);
		return;
	}
	evhttp_send_reply_start(hr->req, 200, "OK");
	evhttp_connection_set_closecb(x->evcon, export_closed, x);
	export_pump(x);
}

static int
export_params(struct http_req *hr, struct export_req *q)
{
	const char *fmt = http_query(hr, "format");
	const char *shape = http_query(hr, "shape");

	memset(q, 0, sizeof(*q));
	q->from = INT32_MIN;
	q->to = INT32_MAX;
	q->place = http_query(hr, "place");
	if (http_query_days(hr, &q->from, &q->to) != 0)
		return -1;
	if (fmt != NULL && strcmp(fmt, "ndjson") != 0 && strcmp(fmt, "csv")) {
		http_reply_error(hr, 400, "E_ENUM", "format must be ndjson or "
		    "csv; got \"%s\"", fmt);
		return -1;
	}
	q->csv = fmt != NULL && strcmp(fmt, "csv") == 0;
	q->shape = shape ? export_shape_parse(shape) : EXPORT_EVENTS;
	if (q->shape == EXPORT_NSHAPES) {
		http_reply_error(hr, 400, "E_ENUM", "shape must be events or "
		    "pairs; got \"%s\"", shape);
		return -1;
	}
	if (q->place != NULL && agg_place_find(hr->srv->agg, q->place) < 0) {
		http_reply_error(hr, 404, "E_PLACE", "no place has code %s",
		    q->place);
		return -1;
	}
	return 0;
}

static struct export *
export_new(struct http_req *hr, const struct export_req *q)
{
	struct export *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	buf_init(&x->chunk, 0);
	store_texts_init(&x->rd[0].b);
	store_texts_init(&x->rd[1].b);
	if (recip_init(&x->to, &hr->srv->secret, hr->auth.user.id) != PC_OK ||
	    store_export_open(hr->store, q->place, q->from, q->to,
	    &x->cur) != PC_OK) {
		export_free(x);
		return NULL;
	}
	x->srv = hr->srv;
	x->head = q->csv;
	x->rd_bytes = BATCH_FIRST;
	x->out.shape = q->shape;
	x->out.csv = q->csv;
	x->out.to = &x->to;
	x->started = hr->started;
	x->user = hr->auth.user.id;
	snprintf(x->peer, sizeof(x->peer), "%s", hr->peer);
	snprintf(x->actor, sizeof(x->actor), "user:%lld",
	    (long long)hr->auth.user.id);
	snprintf(x->what, sizeof(x->what), "place=%s from=%s to=%s format=%s "
	    "shape=%s", q->place ? q->place : "all", http_query(hr, "from") ?
	    http_query(hr, "from") : "-", http_query(hr, "to") ?
	    http_query(hr, "to") : "-", q->csv ? "csv" : "ndjson",
	    export_shape_name(q->shape));
	return x;
}

void
api_export(struct http_req *hr)
{
	struct export_req q;
	struct export *x;
	char name[64];

	if (!auth_require(hr, AUTH_EVALUATOR) || export_params(hr, &q) != 0)
		return;
	if ((x = export_new(hr, &q)) == NULL) {
		http_reply_error(hr, 503, "E_SYSTEM", "the export cannot start; "
		    "try again");
		return;
	}
	if (audit_log_now(hr->store, x->actor, "export.start", x->what,
	    "ok") != PC_OK) {
		export_free(x);
		http_reply_error(hr, 503, "E_SYSTEM", "cannot audit the export; "
		    "refused");
		return;
	}
	snprintf(name, sizeof(name), "attachment; filename=\"pcmds-%s.%s\"",
	    export_shape_name(q.shape), q.csv ? "csv" : "ndjson");
	http_add_header(hr, "Content-Type", q.csv ? "text/csv; charset=utf-8" :
	    "application/x-ndjson");
	http_add_header(hr, "Content-Disposition", name);
	http_add_header(hr, "Cache-Control", "no-store");
	http_add_header(hr, "X-Content-Type-Options", "nosniff");
	hr->status = 200;
	srv_hold(hr);
	/* the stream itself is the loop's to start */
	hr->then = export_begin;
	hr->then_arg = x;
}

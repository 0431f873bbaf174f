/*
 * api_export.c - GET /v1/export: record-level data for evaluators.
 *
 * Only referrals whose person consented to evaluation, not voided; the
 * rows (export.c) carry every identifier re-keyed for the evaluator who
 * asks, so no two evaluators' exports, and no export and the deployment
 * key, can be joined. Streamed, in three stages at once: a reader on a
 * worker reads batch after batch of the next referrals' texts, a rows
 * job on another makes the rows of a batch read before into the next
 * chunk, and the loop sends the chunk before it. The reader runs ahead
 * by at most EXPORT_READ_AHEAD batches and parks when they are all full,
 * so memory stays flat however many records there are and the loop only
 * sends. The data come from one snapshot of the database, read on a
 * connection of their own while ingest goes on. A database error in the
 * middle cuts the connection without the final chunk, so the client sees
 * a broken transfer, never a short export that looks whole. Audited at
 * start and end.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
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
 * Of texts read, and so of rows, a batch. At 64 KiB a batch the
 * hand-overs (thread wake-ups) came to four times the context switches
 * and 5% more of the export's CPU than at 512 KiB. The first batch is
 * small, so that the first rows go out soon; each after it twice the one
 * before, up to the most.
 */
#define BATCH_FIRST	(64 * 1024)
#define BATCH_MOST	(512 * 1024)
/*
 * Batches read ahead of their rows. The reader is the slowest stage
 * (half the server's CPU in the export, under perf); with two it waited
 * whenever a chunk was slow to go out, with four it never waited for a
 * free batch in the bench's export, for 2 MiB of texts at most.
 */
#define EXPORT_READ_AHEAD	4

/* Referrals read ahead, and how the reading ended. */
struct export_read {
	struct store_texts	 b;
	pc_rc			 rc;	/* PC_ENOTFOUND: the last ones */
	int			 full;	/* read, their rows not yet made */
};

/*
 * A chunk's memory: filled by the rows job, then given to the output by
 * reference and back to the export once it has gone out. Copies took
 * fresh memory for every chunk (a block of 128 KiB or more is mapped,
 * and its pages faulted in as it is filled), once into the output and
 * again as the TLS layer took it 64 KiB at a time: most of the loop's
 * CPU in the export. So it goes in pieces of PIECE, which the TLS layer
 * takes whole, without a copy. An export freed while its
 * chunk is out leaves the chunk to free itself once it has gone.
 */
struct export_chunk {
	struct buf		 b;
	struct export		*x;	/* NULL once the export is freed */
	size_t			 out;	/* x->mu: its pieces the output holds */
};

#define PIECE	(16 * 1024)	/* a TLS record's most */

/*
 * Shared between the loop, the reader and the rows job: what mu guards
 * is marked so; the rest is the loop's, or the stage's that the flags
 * give it to (a batch not full is the reader's, a full one the rows
 * job's; the chunk being filled is the rows job's while rows_busy, then
 * the loop's, then the output's until it has gone).
 */
struct export {
	struct pool_job		 rjob;	/* the reader */
	struct pool_job		 job;	/* making the next chunk's rows */
	pthread_mutex_t		 mu;
	struct server		*srv;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	struct conn		*conn;
	struct store_cursor	*cur;	/* the reader's while reading */
	struct recipient	 to;
	struct export_out	 out;	/* the rows job's */
	struct export_read	 rd[EXPORT_READ_AHEAD];
	int			 rd_next;	/* mu: the one read next */
	int			 rows_next;	/* mu: the one whose rows come
						   next */
	int			 rd_end;	/* mu: the cursor gave its last */
	int			 reading;	/* mu: the reader's job is out */
	int			 rows_busy;	/* mu: the rows job's is out */
	int			 ready;	/* mu: rows_ch is filled, not yet
					   sent */
	int			 last_out;	/* the last chunk is on its way */
	int			 stop;	/* mu: no further stage starts */
	size_t			 rd_bytes;	/* of texts, the next read's (the
						   reader's alone) */
	struct export_chunk	*ch[2];	/* one filled while one goes out */
	int			 fill;	/* mu: the one filled next */
	struct export_chunk	*rows_ch;	/* the one being, or just,
						   filled */
	struct event		*kick;	/* a chunk came back: a step */
	pc_rc			 rc;	/* how the last rows made ended */
	int			 head;	/* the CSV header is still to come */
	int			 sending; /* a chunk is on its way out */
	int			 gone;	/* the client went away meanwhile */
	int			 req_ours;	/* and left the request to us */
	int			 cut;	/* ended without its last chunk */
	int			 cut_done;	/* and its connection closed */
	long			 referrals;
	double			 started;
	char			 actor[32];
	char			 what[160];
	char			 peer[64];
	int64_t			 user;
};

/* The export a job of it is. */
#define EXPORT_OF(j, member) \
	((struct export *)(void *)((char *)(j) - offsetof(struct export, member)))

struct export_req {
	const char		*place;
	int32_t			 from, to;
	int			 csv;
	enum export_shape	 shape;
};

static void export_step(struct export *);
static void export_written(struct evhttp_connection *, void *);

static void
export_free(struct export *x)
{
	int i;

	store_export_close(x->cur);
	recip_wipe(&x->to);
	for (i = 0; i < EXPORT_READ_AHEAD; i++)
		store_texts_free(&x->rd[i].b);
	for (i = 0; i < 2; i++) {
		if (x->ch[i] != NULL && x->ch[i]->out)
			x->ch[i]->x = NULL;	/* it frees itself once gone */
		else if (x->ch[i] != NULL) {
			buf_free(&x->ch[i]->b);
			free(x->ch[i]);
		}
	}
	if (x->kick != NULL)
		event_free(x->kick);
	pthread_mutex_destroy(&x->mu);
	free(x);
}

/* A job of the export's is on a worker (or its done is yet to run). */
static int
export_busy(struct export *x)
{
	int busy;

	pthread_mutex_lock(&x->mu);
	busy = x->reading || x->rows_busy;
	pthread_mutex_unlock(&x->mu);
	return busy;
}

/* No further stage starts: the stream ends, is cut, or its client left. */
static void
export_stop(struct export *x)
{
	pthread_mutex_lock(&x->mu);
	x->stop = 1;
	pthread_mutex_unlock(&x->mu);
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

/*
 * The client went away, and no job of the export's is left: audited
 * and freed, and the request with it when it is ours.
 */
static void
export_left(struct export *x)
{
	if (!x->cut)	/* else its end is audited already */
		export_end(x, "aborted by the client");
	if (x->req_ours)
		evhttp_request_free(x->req);
	export_free(x);
}

/*
 * The client went away: stop. Mid-answer, evhttp takes the request off
 * the connection it frees and leaves it to whoever is to end the answer
 * (it frees only a request still on it): here, the export.
 */
static void
export_closed(struct evhttp_connection *evcon, void *arg)
{
	struct export *x = arg;

	(void)evcon;
	export_stop(x);
	x->gone = 1;
	x->req_ours = evhttp_request_get_connection(x->req) == NULL;
	if (!export_busy(x))
		export_left(x);	/* else the last job to end does */
}

/*
 * A cut answer's connection is ours until it is freed: evhttp calls our
 * chunk callback again as the rows already queued drain, so x lives
 * until then and the callback sees it cut. Freed as its client leaves,
 * it has left the request to us, as in export_closed.
 */
static void
export_gone(struct evhttp_connection *evcon, void *arg)
{
	struct export *x = arg;

	(void)evcon;
	if (evhttp_request_get_connection(x->req) == NULL)
		evhttp_request_free(x->req);
	export_free(x);
}

/*
 * The rows job, if it can start: a batch is full and the chunk free.
 * Called with mu held; marks it busy, and the caller submits it once mu
 * is let go.
 */
static int
rows_claim(struct export *x)
{
	if (x->stop || x->rows_busy || x->ready || x->ch[x->fill]->out ||
	    !x->rd[x->rows_next].full)
		return 0;
	x->rows_busy = 1;
	x->rows_ch = x->ch[x->fill];
	return 1;
}

static void rows_work(struct pool_job *, struct store *);
static void rows_done(struct pool_job *);

static void
rows_submit(struct export *x)
{
	x->job.work = rows_work;
	x->job.done = rows_done;
	srv_submit_read(x->srv, &x->job);
}

/*
 * On a worker: batch after batch of the next referrals' texts, each up
 * to a batch's worth, until every batch is full (the loop starts it
 * again as one empties), the cursor ends or the export stops. Each batch
 * read starts its rows at once if the rows job is free, without a trip
 * through the loop.
 */
static void
read_work(struct pool_job *j, struct store *st)
{
	struct export *x = EXPORT_OF(j, rjob);
	struct store_export_ref ref;
	struct export_read *r;
	int rows, ahead;
	pc_rc rc;

	(void)st;
	for (;;) {
		pthread_mutex_lock(&x->mu);
		r = &x->rd[x->rd_next];
		if (x->stop || x->rd_end || r->full) {
			pthread_mutex_unlock(&x->mu);
			return;
		}
		pthread_mutex_unlock(&x->mu);
		/* the batch not full is the reader's alone: no lock */
		store_texts_reset(&r->b);
		rc = PC_OK;
		while (rc == PC_OK && r->b.text.len < x->rd_bytes) {
			if ((rc = store_export_next(x->cur, &ref)) == PC_OK &&
			    FAILPOINT_HIT("export-db-error"))
				rc = PC_ESTORE;	/* test builds: a failing read */
			if (rc == PC_OK)
				rc = store_texts_copy(&r->b, &ref);
		}
		if (x->rd_bytes < BATCH_MOST)
			x->rd_bytes *= 2;
		if (rc != PC_OK)
			FAILPOINT_PAUSE("export-read-end");	/* test builds */
		pthread_mutex_lock(&x->mu);
		r->rc = rc;
		r->full = 1;
		if (rc != PC_OK)
			x->rd_end = 1;
		x->rd_next = (x->rd_next + 1) % EXPORT_READ_AHEAD;
		rows = rows_claim(x);
		/* a batch read while an earlier one's rows are yet to come */
		ahead = x->rd[(x->rd_next + EXPORT_READ_AHEAD - 2) %
		    EXPORT_READ_AHEAD].full;
		pthread_mutex_unlock(&x->mu);
		if (rows)
			rows_submit(x);
		if (ahead)
			FAILPOINT_PAUSE("export-read-ahead");	/* test builds */
	}
}

/* On the loop: the reader has stopped (all full, the end, or a stop). */
static void
read_done(struct pool_job *j)
{
	struct export *x = EXPORT_OF(j, rjob);

	pthread_mutex_lock(&x->mu);
	x->reading = 0;
	pthread_mutex_unlock(&x->mu);
	export_step(x);
}

/*
 * On a worker: the rows of the batch read next into the chunk; the
 * batch is free for the reader again as soon as they are made.
 */
static void
rows_work(struct pool_job *j, struct store *st)
{
	struct export *x = EXPORT_OF(j, job);
	struct export_read *r;
	struct buf *chunk;
	pc_rc rc = PC_OK;

	(void)st;
	FAILPOINT_PAUSE("export-rows");	/* test builds: held here */
	pthread_mutex_lock(&x->mu);
	r = &x->rd[x->rows_next];
	chunk = &x->rows_ch->b;
	pthread_mutex_unlock(&x->mu);
	buf_reset(chunk);
	if (x->head) {
		x->head = 0;
		rc = export_header(&x->out, chunk);
	}
	if (rc == PC_OK)
		rc = export_batch_rows(&x->out, &r->b, chunk);
	x->referrals += (long)r->b.nref;
	if (rc == PC_OK)
		rc = r->rc;	/* more to come, the end, or a failed read */
	/* a chunk short of memory is never sent as if whole */
	if ((rc == PC_OK || rc == PC_ENOTFOUND) && buf_failed(chunk) != PC_OK)
		rc = PC_ENOMEM;
	x->rc = rc;
	pthread_mutex_lock(&x->mu);
	r->full = 0;
	x->rows_next = (x->rows_next + 1) % EXPORT_READ_AHEAD;
	if (rc != PC_OK)
		x->stop = 1;	/* the last chunk, or a cut: nothing after */
	pthread_mutex_unlock(&x->mu);
}

/* On the loop: a chunk is filled; out if the one before it has gone. */
static void
rows_done(struct pool_job *j)
{
	struct export *x = EXPORT_OF(j, job);

	pthread_mutex_lock(&x->mu);
	x->rows_busy = 0;
	x->ready = 1;
	pthread_mutex_unlock(&x->mu);
	export_step(x);
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

/* The read ends now, and the stream with it. */
static void
cut_now(struct export *x)
{
	x->cut_done = 1;
	store_export_close(x->cur);
	x->cur = NULL;
	evhttp_connection_set_closecb(x->evcon, export_gone, x);
	abort_stream(x);	/* may free x at once */
}

/*
 * On the loop, as the output lets go of a chunk (as it is sent, or as
 * the connection is freed): the export's again, and a step, from the
 * loop, since the output is in the middle of its own work here.
 */
static void
chunk_back(const void *data, size_t len, void *arg)
{
	struct export_chunk *c = arg;
	size_t left;

	(void)data;
	(void)len;
	if (c->x == NULL) {
		if (--c->out == 0) {
			buf_free(&c->b);
			free(c);
		}
		return;
	}
	pthread_mutex_lock(&c->x->mu);
	left = --c->out;
	pthread_mutex_unlock(&c->x->mu);
	if (left == 0)
		event_active(c->x->kick, EV_TIMEOUT, 0);
}

static void
export_kicked(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	export_step(arg);
}

/*
 * On the loop: the chunk that was filled goes out, and the next stages
 * may start meanwhile (the stream ends, or is cut, only once what came
 * before it has gone out). 1 when x is freed, or is to be.
 */
static int
deliver(struct export *x)
{
	struct export_chunk *c = x->rows_ch;
	struct evbuffer *out;
	pc_rc rc = x->rc;
	size_t n, at, k;
	int added;

	if (rc == PC_OK || (rc == PC_ENOTFOUND && !x->last_out &&
	    c->b.len > 0)) {
		n = (c->b.len + PIECE - 1) / PIECE;
		pthread_mutex_lock(&x->mu);
		c->out = n;	/* before any piece can come back */
		pthread_mutex_unlock(&x->mu);
		added = (out = evbuffer_new()) != NULL;
		for (at = 0; added && at < c->b.len; at += k) {
			k = c->b.len - at < PIECE ? c->b.len - at : PIECE;
			if ((added = evbuffer_add_reference(out, c->b.p + at, k,
			    chunk_back, c) == 0))
				n--;
		}
		if (!added) {
			/* those not added never come back */
			pthread_mutex_lock(&x->mu);
			c->out -= n;
			pthread_mutex_unlock(&x->mu);
		} else {
			pthread_mutex_lock(&x->mu);
			x->fill ^= 1;
			/* the end, once this last chunk has gone; else the
			   next rows may fill the other chunk now */
			if (rc == PC_OK)
				x->ready = 0;
			pthread_mutex_unlock(&x->mu);
			x->last_out = rc == PC_ENOTFOUND;
			x->sending = 1;
			evhttp_send_reply_chunk_with_cb(x->req, out,
			    export_written, x);
			evbuffer_free(out);
			return 0;
		}
		if (out != NULL)
			evbuffer_free(out);	/* the pieces added come back */
		rc = PC_ENOMEM;
	}
	/*
	 * The reader, having started the last rows itself, may not be
	 * back yet (its done still to run): the end waits for it, as x
	 * must outlive its jobs.
	 */
	if (rc == PC_ENOTFOUND && export_busy(x))
		return 0;
	pthread_mutex_lock(&x->mu);
	x->ready = 0;
	x->stop = 1;
	pthread_mutex_unlock(&x->mu);
	metrics_request(&x->srv->metrics, 200);
	if (rc == PC_ENOTFOUND) {
		evhttp_connection_set_closecb(x->evcon, NULL, NULL);
		evhttp_send_reply_end(x->req);
		export_end(x, "complete");
		srv_release(x->srv, x->conn);
		export_free(x);
		return 1;
	}
	log_warnx("export for user %lld cut after %ld rows: %s",
	    (long long)x->user, x->out.rows, pc_strerror(rc));
	export_end(x, pc_strerror(rc));
	x->cut = 1;
	return 0;
}

/*
 * On the loop, whenever a stage ends or a chunk has gone out: what must
 * happen here (sending, ending, freeing) and the stages that can start.
 * The reader starts again once a batch is free, the rows once a batch is
 * full and the chunk free. Both are marked busy before either is
 * submitted: a job run at once (no worker left, as the server stops)
 * then cannot end the export under the other.
 */
static void
export_step(struct export *x)
{
	int read = 0, rows = 0, busy, ready;

	pthread_mutex_lock(&x->mu);
	busy = x->reading || x->rows_busy;
	ready = x->ready;
	pthread_mutex_unlock(&x->mu);
	if (x->gone) {
		if (!busy)
			export_left(x);
		return;
	}
	if (x->cut) {
		/* the cursor may be in use until the reader stops */
		if (!busy && !x->cut_done)
			cut_now(x);	/* may free x at once */
		return;
	}
	if (ready && !x->sending && deliver(x))
		return;
	if (x->cut) {	/* just now: a failed read or short of memory */
		if (!busy)
			cut_now(x);	/* may free x at once */
		return;
	}
	pthread_mutex_lock(&x->mu);
	/* one reader at a time: the cursor is one thread's, in order */
	if (!x->stop && !x->reading && !x->rd_end &&
	    !x->rd[x->rd_next].full)
		read = x->reading = 1;
	rows = rows_claim(x);
	pthread_mutex_unlock(&x->mu);
	if (rows)
		rows_submit(x);
	if (read) {
		x->rjob.work = read_work;
		x->rjob.done = read_done;
		srv_submit_read(x->srv, &x->rjob);
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
	export_step(x);
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
	export_step(x);
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
	int i;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	if (pthread_mutex_init(&x->mu, NULL) != 0) {
		free(x);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		if ((x->ch[i] = calloc(1, sizeof(*x->ch[i]))) == NULL) {
			export_free(x);
			return NULL;
		}
		buf_init(&x->ch[i]->b, 0);
		x->ch[i]->x = x;
	}
	if ((x->kick = event_new(hr->srv->base, -1, 0, export_kicked, x)) ==
	    NULL) {
		export_free(x);
		return NULL;
	}
	for (i = 0; i < EXPORT_READ_AHEAD; i++)
		store_texts_init(&x->rd[i].b);
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

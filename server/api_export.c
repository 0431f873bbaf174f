/*
 * api_export.c - GET /v1/export: record-level data for evaluators.
 *
 * Only referrals whose person consented to evaluation, only records not
 * voided, corrections applied (each record as corrected; the correction
 * records themselves are not exported). Pseudonymised as stored: there is
 * no NHS number or name to leak. Streamed: a chunk is made only when the
 * previous one has gone out, so memory stays flat however many records
 * there are; the data come from one snapshot of the database, read on a
 * connection of their own while ingest goes on. Audited at start and end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api_places.h"
#include "audit.h"
#include "canon.h"
#include "log.h"
#include "reccsv.h"

#define CHUNK_BYTES	(64 * 1024)

struct export {
	struct server		*srv;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	struct conn		*conn;
	struct store_cursor	*cur;
	int			 csv;
	long			 records;
	long			 referrals;
	double			 started;
	char			 actor[32];
	char			 what[128];
	char			 peer[64];
	int64_t			 user;
};

static void export_next(struct evhttp_connection *, void *);

static void
export_free(struct export *x)
{
	store_export_close(x->cur);
	free(x);
}

static void
export_log(struct export *x, const char *outcome)
{
	char n[64];

	snprintf(n, sizeof(n), "%s: %ld records of %ld referrals", outcome,
	    x->records, x->referrals);
	if (audit_log_now(x->srv->store, x->actor, "export.end", x->what, n) !=
	    PC_OK)
		log_warnx("audit: cannot record the end of an export");
	if (x->srv->conf->log_requests)
		log_info("GET /v1/export 200 records=%ld ms=%.1f user=%lld "
		    "peer=%s %s", x->records, (srv_now() - x->started) * 1000,
		    (long long)x->user, x->peer, outcome);
}

/* The client went away: stop, and let libevent free the request. */
static void
export_closed(struct evhttp_connection *evcon, void *arg)
{
	struct export *x = arg;

	(void)evcon;
	export_log(x, "aborted by the client");
	export_free(x);
}

/* Appends one referral's exportable records to out. */
static void
emit(struct export *x, const struct timeline *tl, struct evbuffer *out)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < tl->n; i++) {
		const struct tl_entry *e = &tl->v[i];
		const cJSON *c = tl_content(e);

		if (e->voided || c == NULL)
			continue;
		buf_reset(&b);
		if (x->csv)
			reccsv_row(&b, c, NULL);
		else if (canon_json(c, &b) == PC_OK)
			buf_addc(&b, '\n');
		evbuffer_add(out, b.p, b.len);
		x->records++;
	}
	buf_free(&b);
}

static void
export_next(struct evhttp_connection *evcon, void *arg)
{
	struct export *x = arg;
	struct evbuffer *out = evbuffer_new();
	struct timeline tl;
	pc_rc rc = PC_OK;

	(void)evcon;
	while (out != NULL && evbuffer_get_length(out) < CHUNK_BYTES) {
		if ((rc = store_export_next(x->cur, &tl)) == PC_OK) {
			emit(x, &tl, out);
			x->referrals++;
		}
		tl_free(&tl);
		if (rc != PC_OK)
			break;
	}
	if (out != NULL && evbuffer_get_length(out) > 0) {
		evhttp_send_reply_chunk_with_cb(x->req, out, export_next, x);
		evbuffer_free(out);
		return;
	}
	if (out != NULL)
		evbuffer_free(out);
	/* finished (or the database failed: the stream just ends short) */
	evhttp_connection_set_closecb(x->evcon, NULL, NULL);
	evhttp_send_reply_end(x->req);
	metrics_request(&x->srv->metrics, 200);
	export_log(x, rc == PC_ENOTFOUND ? "complete" : "database error");
	srv_release(x->srv, x->conn);
	export_free(x);
}

void
api_export(struct http_req *hr)
{
	struct impact_req q;
	struct export *x;
	const char *place;
	int csv;

	if (!auth_require(hr, AUTH_EVALUATOR) || api_params(hr, &q, &csv) != 0)
		return;
	place = http_query(hr, "place");
	if (place != NULL && agg_place_index(hr->srv->agg, place) < 0) {
		http_reply_error(hr, 404, "E_PLACE", "no place has code %s",
		    place);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    store_export_open(hr->srv->store, place, q.from, q.to, &x->cur) !=
	    PC_OK) {
		free(x);
		http_reply_error(hr, 503, "E_SYSTEM", "the export cannot start; "
		    "try again");
		return;
	}
	x->srv = hr->srv;
	x->req = hr->req;
	x->evcon = evhttp_request_get_connection(hr->req);
	x->conn = hr->conn;
	x->csv = csv;
	x->started = hr->started;
	x->user = hr->auth.user.id;
	snprintf(x->peer, sizeof(x->peer), "%s", hr->peer);
	snprintf(x->actor, sizeof(x->actor), "user:%lld",
	    (long long)hr->auth.user.id);
	snprintf(x->what, sizeof(x->what), "place=%s from=%s to=%s format=%s",
	    place ? place : "all", http_query(hr, "from") ?
	    http_query(hr, "from") : "-", http_query(hr, "to") ?
	    http_query(hr, "to") : "-", csv ? "csv" : "ndjson");
	if (audit_log_now(hr->srv->store, x->actor, "export.start", x->what,
	    "ok") != PC_OK) {
		export_free(x);
		http_reply_error(hr, 503, "E_SYSTEM", "cannot audit the export; "
		    "refused");
		return;
	}
	http_add_header(hr, "Content-Type", csv ? "text/csv; charset=utf-8" :
	    "application/x-ndjson");
	http_add_header(hr, "Content-Disposition", csv ?
	    "attachment; filename=\"pcmds-export.csv\"" :
	    "attachment; filename=\"pcmds-export.ndjson\"");
	http_add_header(hr, "Cache-Control", "no-store");
	http_add_header(hr, "X-Content-Type-Options", "nosniff");
	hr->status = 200;
	srv_hold(hr);
	evhttp_send_reply_start(hr->req, 200, "OK");
	evhttp_connection_set_closecb(x->evcon, export_closed, x);
	if (csv) {
		struct evbuffer *head = evbuffer_new();
		struct buf b;

		buf_init(&b, 0);
		reccsv_header(&b, NULL);
		evbuffer_add(head, b.p, b.len);
		buf_free(&b);
		evhttp_send_reply_chunk_with_cb(hr->req, head, export_next, x);
		evbuffer_free(head);
	} else
		export_next(x->evcon, x);
}

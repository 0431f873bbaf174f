/*
 * api_records.c - POST /v1/records: a batch from a link worker's device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg.h"
#include "failpoint.h"
#include "follow.h"
#include "http.h"
#include "ingest.h"
#include "jsplit.h"
#include "log.h"
#include "srv.h"
#include "store.h"

struct staged {
	struct fact	*v;
	size_t		 n;
};

/* In the batch's transaction: the facts of the referrals it touched. */
static pc_rc
stage_facts(void *arg, struct store *st, struct ingest *in)
{
	struct staged *s = arg;

	return agg_stage(st, &in->timelines, &in->steps, &s->v, &s->n);
}

static void
reply(struct http_req *hr, const struct ingest *in)
{
	struct buf b;

	buf_init(&b, 0);
	if (ingest_answer(in, &b) == PC_OK)
		http_reply_body(hr, 200, "application/json; charset=utf-8",
		    b.p, b.len);
	else	/* stored, but no memory to say so: the client will resend */
		http_reply_error(hr, 500, "E_SYSTEM", "out of memory");
	buf_free(&b);
}

/*
 * Nothing of the batch was kept: the log says why (what st met), naming
 * the database, and the device is told in words its link worker can pass
 * on. Retry-After is long when waiting will not help soon (a full or
 * failing disk): the client then stops, the records kept, rather than
 * retrying in vain.
 */
static void
not_stored(struct http_req *hr, struct store *st, pc_rc rc, int n)
{
	char why[512];
	enum store_fault f = STORE_FAULT_OTHER;
	const char *wait = "2", *say;

	if (rc == PC_ESTORE)
		f = store_fault(st, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", pc_strerror(rc));
	log_warnx("ingest: batch of %d not stored, nothing kept: %s", n, why);
	switch (f) {
	case STORE_FAULT_FULL:
		wait = "300";
		say = "the server's disk is full, so it could not store this "
		    "batch; nothing of it was kept. The records are safe on "
		    "this device and a later sync sends them: please tell the "
		    "server's administrator";
		break;
	case STORE_FAULT_READONLY:
	case STORE_FAULT_IO:
		wait = "300";
		say = "the server cannot write its database just now, so it "
		    "could not store this batch; nothing of it was kept. The "
		    "records are safe on this device and a later sync sends "
		    "them: please tell the server's administrator";
		break;
	case STORE_FAULT_BUSY:
		wait = "1";
		say = "the server is busy with an administration task; nothing "
		    "of this batch was kept: send it again in a moment";
		break;
	default:
		say = "the batch could not be stored; nothing of it was kept: "
		    "send it again";
	}
	http_add_header(hr, "Retry-After", wait);
	http_reply_error(hr, 503, "E_SYSTEM", "%s", say);
}

/*
 * The body: its records' texts (jsplit.h), parsed on the check threads,
 * or, in any other shape, the whole of it parsed here.
 */
struct body {
	struct buf		 text;
	struct jsplit_span	*spans;
	size_t			 nspans;
	cJSON			*json;	/* NULL: the spans */
	cJSON			*records;	/* in json */
};

static void
body_free(struct body *b)
{
	cJSON_Delete(b->json);
	free(b->spans);
	buf_free(&b->text);
}

/* -1: answered (the body freed). */
static int
body_read(struct http_req *hr, struct body *b, int *n)
{
	pc_rc rc;

	memset(b, 0, sizeof(*b));
	if (http_read_body(hr, &b->text) != PC_OK)
		return -1;
	rc = jsplit_records(b->text.p, b->text.len, &b->spans, &b->nspans);
	if (rc == PC_ENOTFOUND &&
	    (b->json = jsplit_parse(buf_str(&b->text), b->text.len)) ==
	    NULL) {
		http_reply_not_json(hr);
		body_free(b);
		return -1;
	}
	b->records = cJSON_GetObjectItemCaseSensitive(b->json, "records");
	if (rc == PC_ENOTFOUND && (!cJSON_IsObject(b->json) ||
	    !cJSON_IsArray(b->records))) {
		http_reply_error(hr, 400, "E_SCHEMA", "send {\"records\": [...]}");
		body_free(b);
		return -1;
	}
	if (rc != PC_OK && rc != PC_ENOTFOUND) {
		http_reply_error(hr, 503, "E_SYSTEM", "out of memory");
		body_free(b);
		return -1;
	}
	*n = b->json != NULL ? cJSON_GetArraySize(b->records) :
	    (int)b->nspans;
	if (*n > hr->srv->conf->max_batch) {
		http_reply_error(hr, 413, "E_TOO_MANY", "a batch may hold at most "
		    "%d records; this one has %d", hr->srv->conf->max_batch, *n);
		body_free(b);
		return -1;
	}
	return 0;
}

void
api_records(struct http_req *hr)
{
	struct server *srv = hr->srv;
	struct ingest in;
	struct follow_ticket ticket;
	struct staged facts = {NULL, 0};
	struct rec_opts ro;
	struct body body;
	struct store *st;
	double t0;
	int n;
	pc_rc rc;

	if (!auth_require(hr, AUTH_LINK_WORKER) || body_read(hr, &body, &n) != 0)
		return;
	hr->records = n;
	rec_opts_init(&ro, time(NULL));
	ingest_init(&in);
	t0 = srv_now();
	follow_begin(srv->follow, &ticket);
	FAILPOINT_PAUSE("records-begun");	/* test builds: held here */
	/* read and checked, on SQLite while another batch is written */
	rc = body.json != NULL ? ingest_check(&in, body.records, &ro) :
	    ingest_check_text(&in, body.spans, body.nspans, &ro);
	/* then written, and its facts applied, in turn */
	st = rc == PC_OK ? srv_writer_take(srv, hr->store) : hr->store;
	if (rc == PC_OK)
		rc = ingest_store(&in, st, &hr->auth, &ro, (int64_t)time(NULL),
		    stage_facts, &facts);
	if (rc == PC_OK && FAILPOINT_HIT("records-commit-unheard")) {
		/* test builds: committed, but the answer to COMMIT was lost
		   (as when the connection drops with it): nothing published */
		rc = PC_ESTORE;
	}
	if (rc == PC_OK) {
		FAILPOINT_PAUSE("records-committed");	/* test builds */
		agg_apply(srv->agg, facts.v, facts.n);	/* committed: publish */
		/* test builds: held between its apply and saying so */
		FAILPOINT_PAUSE("records-applied");
	}
	/* its facts need no reading back, unless a catch-up overlapped */
	follow_applied(srv->follow, &ticket, rc == PC_OK ? in.mark : NULL);
	free(facts.v);
	if (in.not_json)
		http_reply_not_json(hr);	/* nothing begun */
	else if (rc != PC_OK)
		not_stored(hr, st, rc, n);	/* what st met: before it goes */
	srv_writer_give(srv, st);
	if (in.not_json || rc != PC_OK) {
		/* answered */
	} else if (FAILPOINT_HIT("records-cut-response")) {
		/* test builds: committed, but the answer is lost on the way */
		srv_cut(hr);
	} else {
		metrics_batch(&srv->metrics, srv_now() - t0, in.count);
		reply(hr, &in);
	}
	ingest_free(&in);
	body_free(&body);	/* the records' texts */
}

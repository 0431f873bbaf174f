/*
 * ingest.c - the ingest section: records over TLS as devices send them,
 * in the easy order and in the realistic one, each beside a bare SQLite
 * insert of the very rows the server stored, with the same commits.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "caseload.h"
#include "ingest.h"
#include "limit.h"
#include "net.h"
#include "rec.h"

void
ingest_load_make(const struct caseload *cl, const struct cl_order *o,
    const struct bench_srv *srv, struct ingest_load *ld)
{
	struct err_list errs;
	struct rec_opts ro;
	struct buf rec, body;
	size_t i, j, k = 0;

	memset(ld, 0, sizeof(*ld));
	ld->gz = calloc(o->nb ? o->nb : 1, sizeof(*ld->gz));
	ld->ids = calloc(cl->nrecs ? cl->nrecs : 1, sizeof(*ld->ids));
	if (ld->gz == NULL || ld->ids == NULL)
		fail_msg("ingest: out of memory");
	rec_opts_init(&ro, time(NULL));
	err_init(&errs);
	buf_init(&rec, 0);
	buf_init(&body, 0);
	for (i = 0; i < o->nb; i++) {
		const struct cl_batch *b = &o->b[i];

		buf_reset(&body);
		buf_adds(&body, "{\"records\":[");
		for (j = b->first; j < b->first + b->n; j++) {
			size_t r = o->order[j];
			struct rec *x;

			buf_reset(&rec);
			caseload_json(cl, r, srv->worker[b->dev],
			    bench_places[b->dev], &rec);
			if (rec_parse(rec.p, rec.len, &ro, &x, &errs) != PC_OK)
				fail_msg("caseload: %s: %s %s\n%s",
				    cl->recs[r].id, errs.v[0].field,
				    errs.v[0].msg, buf_str(&rec));
			if (x->canon_len != rec.len ||
			    memcmp(x->canon, rec.p, rec.len) != 0)
				fail_msg("caseload: not canonical:\n%s\n%.*s",
				    buf_str(&rec), (int)x->canon_len, x->canon);
			rec_free(x);
			buf_adds(&body, j > b->first ? "," : "");
			buf_add(&body, rec.p, rec.len);
			ld->ids[k++] = cl->recs[r].id;
		}
		buf_adds(&body, "]}");
		buf_init(&ld->gz[i], 0);
		if (buf_failed(&body) != PC_OK ||
		    net_gzip(body.p, body.len, &ld->gz[i]) != PC_OK)
			fail_msg("ingest: cannot make batch %zu", i);
		ld->raw += body.len;
	}
	ld->n = k;
	ld->nb = o->nb;
	buf_free(&rec);
	buf_free(&body);
	err_free(&errs);
}

void
ingest_load_free(struct ingest_load *ld)
{
	size_t i;

	for (i = 0; i < ld->nb; i++)
		buf_free(&ld->gz[i]);
	free(ld->gz);
	free(ld->ids);
}

/* What one order of arrival measured. */
struct run {
	struct ingest_sent	 sent;
	double	 limit;		/* rows/s of the bare insert */
	double	 lcpu;		/* its CPU, us a record */
	double	 rss;		/* server MiB after */
	size_t	 lrecs, lbatches, lfacts, laudit;
};

/*
 * One device's client: its batches, in order, on its connection to
 * server dev mod nsrv; the devices send at once, as they sync.
 */
struct lane {
	pthread_t		 th;
	struct bench_srv	*srv;
	int			 dev;
	const struct cl_order	*o;
	size_t			 nb;
	const struct ingest_load *ld;
	struct net_resp		*resp;	/* by batch, shared */
	double			*lat;	/* by batch, shared */
};

static void *
lane_main(void *arg)
{
	struct lane *l = arg;
	struct net net;
	struct err_list errs;
	size_t i;

	err_init(&errs);
	if (net_init(&net, l->srv->s.url, l->srv->s.ca, &errs) != PC_OK)
		fail_msg("ingest: %s", errs.v[0].msg);
	for (i = 0; i < l->nb; i++) {
		const struct cl_batch *b = &l->o->b[i];
		double t1;

		if (b->dev != l->dev)
			continue;
		t1 = th_now();
		if (net_request(&net, "POST", "/v1/records",
		    l->srv->token[b->dev], l->ld->gz[i].p, l->ld->gz[i].len, 1,
		    &l->resp[i], &errs) != PC_OK)
			fail_msg("ingest: batch %zu: %s", i, errs.v[0].msg);
		l->lat[i] = (th_now() - t1) * 1000;
	}
	net_free(&net);
	err_free(&errs);
	return NULL;
}

void
ingest_send(struct bench_srv *srv, int nsrv, const struct cl_order *o,
    size_t nb, const struct ingest_load *ld, struct ingest_sent *out)
{
	struct lane lane[BENCH_PLACES];
	struct net_resp *resp = calloc(nb ? nb : 1, sizeof(*resp));
	double *lat = calloc(nb ? nb : 1, sizeof(*lat));
	double t0, t, u0 = 0, u1 = 0, s0 = 0, s1 = 0, u, s;
	char why[512];
	size_t i;
	int k;

	if (resp == NULL || lat == NULL)
		fail_msg("ingest: out of memory");
	if (nsrv < 1 || nsrv > BENCH_PLACES || nb > o->nb)
		fail_msg("ingest: %d servers, %zu batches", nsrv, nb);
	for (k = 0; k < BENCH_PLACES; k++)
		lane[k] = (struct lane){.srv = &srv[k % nsrv], .dev = k,
		    .o = o, .nb = nb, .ld = ld, .resp = resp, .lat = lat};
	for (k = 0; k < nsrv; k++) {
		u0 += bench_cpu(srv[k].s.pid, &s);
		s0 += s;
	}
	t0 = th_now();
	for (k = 0; k < BENCH_PLACES; k++)
		if (pthread_create(&lane[k].th, NULL, lane_main, &lane[k]) != 0)
			fail_msg("ingest: no thread for a device");
	for (k = 0; k < BENCH_PLACES; k++)
		pthread_join(lane[k].th, NULL);
	t = th_now() - t0;
	for (k = 0; k < nsrv; k++) {
		u1 += bench_cpu(srv[k].s.pid, &s);
		s1 += s;
	}
	memset(out, 0, sizeof(*out));
	for (i = 0; i < nb; i++) {
		if (resp[i].status != 200)
			fail_msg("ingest: batch %zu: HTTP %ld %.300s", i,
			    resp[i].status, buf_str(&resp[i].body));
		if (bench_all_stored(resp[i].body.p, resp[i].body.len,
		    ld->ids + o->b[i].first, o->b[i].n, why, sizeof(why)) != 0)
			fail_msg("ingest: batch %zu: %s", i, why);
		net_resp_free(&resp[i]);
		out->n += o->b[i].n;
	}
	u = u1 - u0;
	s = s1 - s0;
	out->secs = t;
	out->rate = (double)out->n / t;
	out->usr = u * 1e6 / (double)out->n;
	out->sys = s * 1e6 / (double)out->n;
	out->p50 = bench_pct(lat, nb, 50);
	out->p99 = bench_pct(lat, nb, 99);
	free(resp);
	free(lat);
}

void
ingest_check_the_check(struct bench_srv *srv, const struct cl_order *o,
    const struct ingest_load *ld)
{
	struct net n;
	struct net_resp again;
	struct err_list errs;
	char why[512] = "";

	if (o->nb == 0)
		return;
	err_init(&errs);
	if (net_init(&n, srv->s.url, srv->s.ca, &errs) != PC_OK ||
	    net_request(&n, "POST", "/v1/records", srv->token[o->b[0].dev],
	    ld->gz[0].p, ld->gz[0].len, 1, &again, &errs) != PC_OK ||
	    again.status != 200)
		fail_msg("ingest: batch 0 sent again: no answer");
	if (bench_all_stored(again.body.p, again.body.len, ld->ids, o->b[0].n,
	    why, sizeof(why)) == 0 || strstr(why, "duplicate") == NULL)
		fail_msg("ingest: the check took duplicates for stored records: "
		    "%s", why);
	net_resp_free(&again);
	net_free(&n);
	err_free(&errs);
}

static void
run_order(const struct caseload *cl, const struct cl_order *o,
    struct run *out)
{
	struct bench_srv srv;
	struct ingest_load ld;
	struct limit *l;

	bench_srv_start(&srv);
	ingest_load_make(cl, o, &srv, &ld);
	ingest_send(&srv, 1, o, o->nb, &ld, &out->sent);
	out->rss = bench_mib(srv.s.pid, "VmRSS:");
	if (th_sql_long(srv.db, "SELECT count(*) FROM records") !=
	    (long)ld.n)
		fail_msg("ingest: the server holds %ld records, not %zu",
		    th_sql_long(srv.db, "SELECT count(*) FROM records"), ld.n);
	l = limit_load(srv.db);
	ingest_check_the_check(&srv, o, &ld);
	bench_srv_stop(&srv);
	limit_counts(l, &out->lrecs, &out->lbatches, &out->lfacts,
	    &out->laudit);
	if (out->lrecs != ld.n || out->lbatches != o->nb)
		fail_msg("ingest: the store's batches are not those sent (%zu "
		    "records in %zu batches, sent %zu in %zu)", out->lrecs,
		    out->lbatches, ld.n, o->nb);
	out->limit = (double)out->lrecs / limit_insert(l, th_tmpdir(),
	    &out->lcpu);
	out->lcpu *= 1e6 / (double)out->lrecs;
	limit_free(l);
	ingest_load_free(&ld);
}

static void
row(const char *what, const struct run *r)
{
	const struct ingest_sent *t = &r->sent;

	bench_row(what, bench_fmt("%.0f records/s; server CPU a record %.0f "
	    "us user + %.0f us system; batch p50 %.1f ms, p99 %.1f ms; server "
	    "RSS after %.1f MiB", t->rate, t->usr, t->sys, t->p50, t->p99,
	    r->rss), bench_fmt("bare SQLite insert of the same rows (%zu "
	    "records, %zu facts, %zu audit entries) in the same %zu commits: "
	    "%.0f records/s, CPU a record %.0f us", r->lrecs, r->lfacts,
	    r->laudit, r->lbatches, r->limit, r->lcpu), bench_fmt("%s; CPU "
	    "%.1f times the limit's (target, realistic order: 40,000/s and "
	    "0.5)", bench_ratio(t->rate, r->limit), (t->usr + t->sys) /
	    r->lcpu));
}

void
bench_ingest(void)
{
	struct caseload cl;
	struct cl_order easy, real;
	struct run re, rr;
	size_t refs = (size_t)bench.ingest_refs;

	if (caseload_make(&cl, refs, BENCH_PLACES, BENCH_SEED, 0) != PC_OK)
		fail_msg("ingest: cannot make the caseload");
	if (cl_order_easy(&cl, BENCH_BATCH, &easy) != PC_OK ||
	    cl_order_realistic(&cl, BENCH_BATCH, &real) != PC_OK)
		fail_msg("ingest: out of memory");
	run_order(&cl, &easy, &re);
	run_order(&cl, &real, &rr);
	row(bench_fmt("Ingest over TLS, easy order: each referral with all "
	    "its records in one batch (%zu records of %zu referrals, %zu "
	    "batches from %d devices)", cl.nrecs, cl.nrefs, easy.nb,
	    BENCH_PLACES), &re);
	row(bench_fmt("Ingest over TLS, realistic order: the same records as "
	    "devices sync them, every %d days (%.0f%% of records follow up a "
	    "referral stored in an earlier batch; median %.0f days after it; "
	    "%zu batches)", real.sync_days, real.later * 100,
	    real.median_days, real.nb), &rr);
	bench_row("Realistic over easy order, same records", bench_fmt("%.2f "
	    "of the easy order's rate; server CPU a record %.0f us against "
	    "%.0f us", rr.sent.rate / re.sent.rate, rr.sent.usr +
	    rr.sent.sys, re.sent.usr + re.sent.sys), NULL, NULL);
	bench_note("**Ingest.** %zu referrals and their %zu follow-up records "
	    "(first contact and baseline ONS4 within three weeks, support "
	    "offered, more contacts, a review at 6 to 12 weeks, a final ONS4 "
	    "at 12 to 17 weeks, a closure; some decline at once, 3%% get a "
	    "correction), made by %d devices (one a place) over two years "
	    "with record ids as the client makes them (version 7, RFC 9562: "
	    "`uuid_v7` of the moment each record was recorded on its device "
	    "in the caseload's time, which its `recorded_at` says, so a "
	    "device's ids rise with its `device_seq` and a follow-up's id is "
	    "of its own day, not its referral's), in canonical form as the client stores them, sent gzipped in "
	    "batches of at most %d with the client's own request code, each "
	    "device on its connection, all sending at once (each its "
	    "own batches in order, as devices sync), so one batch can be "
	    "read and checked while another commits. Each order goes to a "
	    "fresh server. The "
	    "rate is records over the wall time of all requests, bodies made "
	    "beforehand; every answer is parsed afterwards and every record "
	    "must be `stored` (none duplicate, conflict or rejected), and the "
	    "server must then hold them all; the check is itself tried on "
	    "each run, with the first batch sent again, whose answer (all "
	    "duplicates) it must refuse. Server CPU is its user and "
	    "system time over the run, per record: TLS, HTTP, gunzip, JSON, "
	    "validation, the id lookup, the stored facts of the batch's "
	    "referrals read in one statement for their follow-ups (the "
	    "realistic order; a correction reads its referral's records), "
	    "the facts, the audit entry, SQLite and the answer.",
	    cl.nrefs, cl.nrecs - cl.nrefs, BENCH_PLACES, BENCH_BATCH);
	bench_note("**The limit** is bare SQLite doing only the writes ingest "
	    "did, measured in the same run on the very rows: read back from "
	    "the server's database before the clock starts (records, the "
	    "facts of the referrals each batch touched, the audit entries), "
	    "inserted into a fresh database with the same schema and indexes "
	    "(copied from the server's), opened as the server opens its own "
	    "(WAL, synchronous=FULL, a 16 MiB cache, checkpoints on a thread), "
	    "with the server's statements (a fact an earlier batch stored "
	    "rewritten by its key, as the server rewrites those its batch "
	    "read), committing where the server committed (a batch each), "
	    "every step checked. What separates "
	    "ingest from it is the work of accepting a record: reading it, "
	    "checking it and its referral, deduplicating it, the answer.");
	bench_note("To see where ingest's time goes, run `pcmds-bench --only "
	    "ingest` and attach `perf record --call-graph dwarf -p PID` to "
	    "its second pcmdsd (the realistic order; `pgrep -P` of the "
	    "benchmark finds it), or point `PCMDS_BUILD` at a directory whose "
	    "`pcmdsd` runs `valgrind --tool=callgrind` for `serve`, which "
	    "counts instructions the same on a busy machine.");
	cl_order_free(&easy);
	cl_order_free(&real);
	caseload_free(&cl);
}

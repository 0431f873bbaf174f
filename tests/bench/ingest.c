/*
 * ingest.c - the ingest section: records over TLS as devices send them,
 * in the easy order and in the realistic one, each beside a bare SQLite
 * insert of the very rows the server stored, with the same commits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "caseload.h"
#include "limit.h"
#include "net.h"
#include "rec.h"

/* Every request of an order, made before anything is timed. */
struct load {
	struct buf	*gz;		/* each batch's body, gzipped */
	const char	**ids;		/* ids of the records, as sent */
	size_t		 n;		/* records */
	size_t		 raw;		/* bytes before gzip */
};

/*
 * The bodies the devices send: each record in its canonical form, as
 * the client stores it (rec_parse must give back the very text; it also
 * proves the generator makes only valid records), gzipped as the client
 * gzips a batch.
 */
static void
load_make(const struct caseload *cl, const struct cl_order *o,
    const struct bench_srv *srv, struct load *ld)
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
	buf_free(&rec);
	buf_free(&body);
	err_free(&errs);
}

static void
load_free(struct load *ld, size_t nb)
{
	size_t i;

	for (i = 0; i < nb; i++)
		buf_free(&ld->gz[i]);
	free(ld->gz);
	free(ld->ids);
}

/* What one order of arrival measured. */
struct run {
	double	 rate;		/* records/s over TLS */
	double	 usr, sys;	/* server CPU, us a record */
	double	 p50, p99;	/* ms a batch */
	double	 limit;		/* rows/s of the bare insert */
	double	 lcpu;		/* its CPU, us a record */
	double	 rss;		/* server MiB after */
	size_t	 lrecs, lbatches, lfacts, laudit;
};

/*
 * Sends every batch, each device on a connection of its own as its
 * client keeps one, and checks every answer once the clock has stopped.
 */
static void
send_all(struct bench_srv *srv, const struct cl_order *o,
    const struct load *ld, struct run *out)
{
	struct net dev[BENCH_PLACES];
	struct net_resp *resp = calloc(o->nb ? o->nb : 1, sizeof(*resp));
	struct err_list errs;
	double *lat = calloc(o->nb ? o->nb : 1, sizeof(*lat));
	double t0, t, u0, u1, s0, s1;
	char why[512];
	size_t i;
	int d;

	if (resp == NULL || lat == NULL)
		fail_msg("ingest: out of memory");
	err_init(&errs);
	for (d = 0; d < BENCH_PLACES; d++)
		if (net_init(&dev[d], srv->s.url, srv->s.ca, &errs) != PC_OK)
			fail_msg("ingest: %s", errs.v[0].msg);
	u0 = bench_cpu(srv->s.pid, &s0);
	t0 = th_now();
	for (i = 0; i < o->nb; i++) {
		double t1 = th_now();

		if (net_request(&dev[o->b[i].dev], "POST", "/v1/records",
		    srv->token[o->b[i].dev], ld->gz[i].p, ld->gz[i].len, 1,
		    &resp[i], &errs) != PC_OK)
			fail_msg("ingest: batch %zu: %s", i, errs.v[0].msg);
		lat[i] = (th_now() - t1) * 1000;
	}
	t = th_now() - t0;
	u1 = bench_cpu(srv->s.pid, &s1);
	for (i = 0; i < o->nb; i++) {
		if (resp[i].status != 200)
			fail_msg("ingest: batch %zu: HTTP %ld %.300s", i,
			    resp[i].status, buf_str(&resp[i].body));
		if (bench_all_stored(resp[i].body.p, resp[i].body.len,
		    ld->ids + o->b[i].first, o->b[i].n, why, sizeof(why)) != 0)
			fail_msg("ingest: batch %zu: %s", i, why);
		net_resp_free(&resp[i]);
	}
	out->rate = (double)ld->n / t;
	out->usr = (u1 - u0) * 1e6 / (double)ld->n;
	out->sys = (s1 - s0) * 1e6 / (double)ld->n;
	out->p50 = bench_pct(lat, o->nb, 50);
	out->p99 = bench_pct(lat, o->nb, 99);
	for (d = 0; d < BENCH_PLACES; d++)
		net_free(&dev[d]);
	err_free(&errs);
	free(resp);
	free(lat);
}

/*
 * The check is itself tried on every run: batch 0 again is all
 * duplicates (nothing stored), and the check must refuse its answer.
 */
static void
check_the_check(struct bench_srv *srv, const struct cl_order *o,
    const struct load *ld)
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
	struct load ld;
	struct limit *l;

	bench_srv_start(&srv);
	load_make(cl, o, &srv, &ld);
	send_all(&srv, o, &ld, out);
	out->rss = bench_mib(srv.s.pid, "VmRSS:");
	if (th_sql_long(srv.db, "SELECT count(*) FROM records") !=
	    (long)ld.n)
		fail_msg("ingest: the server holds %ld records, not %zu",
		    th_sql_long(srv.db, "SELECT count(*) FROM records"), ld.n);
	l = limit_load(srv.db);
	check_the_check(&srv, o, &ld);
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
	load_free(&ld, o->nb);
}

static void
row(const char *what, const struct run *r)
{
	bench_row(what, bench_fmt("%.0f records/s; server CPU a record %.0f "
	    "us user + %.0f us system; batch p50 %.1f ms, p99 %.1f ms; server "
	    "RSS after %.1f MiB", r->rate, r->usr, r->sys, r->p50, r->p99,
	    r->rss), bench_fmt("bare SQLite insert of the same rows (%zu "
	    "records, %zu facts, %zu audit entries) in the same %zu commits: "
	    "%.0f records/s, CPU a record %.0f us", r->lrecs, r->lfacts,
	    r->laudit, r->lbatches, r->limit, r->lcpu), bench_fmt("%s; CPU "
	    "%.1f times the limit's (target, realistic order: 40,000/s and "
	    "0.5)", bench_ratio(r->rate, r->limit), (r->usr + r->sys) /
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
	    "%.0f us", rr.rate / re.rate, rr.usr + rr.sys, re.usr + re.sys),
	    NULL, NULL);
	bench_note("**Ingest.** %zu referrals and their %zu follow-up records "
	    "(first contact and baseline ONS4 within three weeks, support "
	    "offered, more contacts, a review at 6 to 12 weeks, a final ONS4 "
	    "at 12 to 17 weeks, a closure; some decline at once, 3%% get a "
	    "correction), made by %d devices (one a place) over two years "
	    "with record ids from the client's own function (`uuid_record`), "
	    "in canonical form as the client stores them, sent gzipped in "
	    "batches of at most %d with the client's own request code, each "
	    "device on its connection. Each order goes to a fresh server. The "
	    "rate is records over the wall time of all requests, bodies made "
	    "beforehand; every answer is parsed afterwards and every record "
	    "must be `stored` (none duplicate, conflict or rejected), and the "
	    "server must then hold them all; the check is itself tried on "
	    "each run, with the first batch sent again, whose answer (all "
	    "duplicates) it must refuse. Server CPU is its user and "
	    "system time over the run, per record: TLS, HTTP, gunzip, JSON, "
	    "validation, the id lookup, the referral's stored records loaded "
	    "for a follow-up (the realistic order), the facts, the audit "
	    "entry, SQLite and the answer.",
	    cl.nrefs, cl.nrecs - cl.nrefs, BENCH_PLACES, BENCH_BATCH);
	bench_note("**The limit** is bare SQLite doing only the writes ingest "
	    "did, measured in the same run on the very rows: read back from "
	    "the server's database before the clock starts (records, the "
	    "facts of the referrals each batch touched, the audit entries), "
	    "inserted into a fresh database with the same schema and indexes "
	    "(copied from the server's), opened as the server opens its own "
	    "(WAL, synchronous=FULL, 64 MiB cache, checkpoints on a thread), "
	    "with the server's statements, committing where the server "
	    "committed (a batch each), every step checked. What separates "
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

/*
 * pg.c - the PostgreSQL section: the ingest section's realistic order
 * sent to pcmdsd on PostgreSQL, with one server and with three on one
 * database (the devices spread over them), each beside bare PostgreSQL writing the very
 * rows they stored; the same records into SQLite; and the event loop's
 * answer to /healthz while batches commit, on either store.
 *
 * PostgreSQL is the tests' own (tests/pg.sh: initdb in a directory of
 * its own, a Unix socket), started here with fsync on so that a commit
 * is as durable as SQLite's synchronous=FULL. Without the PostgreSQL
 * server installed the section says so and measures nothing.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench.h"
#include "caseload.h"
#include "ingest.h"
#include "pglimit.h"

#define PG_SERVERS	3
#define PROBE_MAX	200000
#define PROBE_GAP_US	2000	/* between two probes */

static char version[64];	/* the cluster's, as it says */

/* initdb where tests/pg.sh looks for it. */
static int
pg_installed(void)
{
	struct th_run r;
	glob_t g;
	char path[600];
	int ok = 0;

	if (th_have("pg_config")) {
		th_cmd(&r, NULL, "pg_config", "--bindir", NULL);
		snprintf(path, sizeof(path), "%.*s/initdb", (int)strcspn(r.out,
		    "\n"), r.out);
		ok = r.status == 0 && access(path, X_OK) == 0;
		th_run_free(&r);
	}
	if (!ok && glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) ==
	    0) {
		ok = g.gl_pathc > 0;
		globfree(&g);
	}
	return ok && th_have("pg_dump") && th_have("psql");
}

/* -- PostgreSQL's own CPU ------------------------------------------------- */

/* The cluster's postmaster: host=DIR in the URI, DIR/data/postmaster.pid. */
static pid_t
postmaster(const char *uri)
{
	const char *h = strstr(uri, "host=");
	char path[700], *s;
	pid_t pid = 0;

	if (h == NULL)
		fail_msg("pg: no socket directory in %s", uri);
	snprintf(path, sizeof(path), "%.*s/data/postmaster.pid",
	    (int)strcspn(h + 5, "&"), h + 5);
	if ((s = th_slurp(path, NULL)) == NULL || (pid = atoi(s)) <= 0)
		fail_msg("pg: no postmaster in %s", path);
	free(s);
	return pid;
}

/*
 * CPU seconds the cluster has used: the postmaster and its children
 * (backends, WAL writer, checkpointer), those already reaped included.
 */
static double
pg_cpu(pid_t pm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned long ut, st, cut, cst;
	double ticks = (double)sysconf(_SC_CLK_TCK), sum = 0;
	char path[300], *s, *p;
	int ppid;

	if (d == NULL)
		fail_msg("pg: cannot read /proc");
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((s = th_slurp(path, NULL)) == NULL)
			continue;	/* ended meanwhile */
		/* fields 4 and 14 to 17, after the name in parentheses */
		if ((p = strrchr(s, ')')) != NULL && sscanf(p + 2, "%*c %d "
		    "%*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %lu %lu", &ppid,
		    &ut, &st, &cut, &cst) == 5) {
			if (atoi(e->d_name) == (int)pm)
				sum += (double)(ut + st + cut + cst) / ticks;
			else if (ppid == (int)pm)
				sum += (double)(ut + st) / ticks;
		}
		free(s);
	}
	closedir(d);
	return sum;
}

/* -- the event loop's latency --------------------------------------------- */

/* GET /healthz over one keep-alive connection until told to stop. */
struct probe {
	pthread_t		 th;
	struct bench_srv	*srv;
	volatile int		 stop;
	double			*lat;
	size_t			 n;
};

static size_t
discard(char *p, size_t s, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return s * n;
}

static void *
probe_main(void *arg)
{
	struct probe *pr = arg;
	CURL *c = curl_easy_init();
	char url[128];
	double t;
	long code;

	snprintf(url, sizeof(url), "%s/healthz", pr->srv->s.url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, pr->srv->s.ca);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	while (!pr->stop && pr->n < PROBE_MAX) {
		t = th_now();
		if (curl_easy_perform(c) != CURLE_OK)
			fail_msg("pg: GET /healthz: the transfer failed");
		pr->lat[pr->n++] = (th_now() - t) * 1000;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200)
			fail_msg("pg: GET /healthz: %ld", code);
		usleep(PROBE_GAP_US);
	}
	curl_easy_cleanup(c);
	return NULL;
}

/* What /healthz took: idle, then while batches commit. */
struct loop {
	double	 i50, i99, b50, b99;
	size_t	 in, bn;		/* probes */
	size_t	 recs;			/* sent meanwhile */
};

static void
probe_while(struct bench_srv *srv, const struct cl_order *o, size_t nb,
    const struct ingest_load *ld, double *p50, double *p99, size_t *n,
    size_t *recs)
{
	struct probe pr = {.srv = srv};
	struct ingest_sent sent;

	if ((pr.lat = calloc(PROBE_MAX, sizeof(*pr.lat))) == NULL)
		fail_msg("pg: out of memory");
	if (pthread_create(&pr.th, NULL, probe_main, &pr) != 0)
		fail_msg("pg: no thread for the probe");
	if (nb > 0) {
		ingest_send(srv, 1, o, nb, ld, &sent);
		*recs = sent.n;
	} else
		sleep(2);
	pr.stop = 1;
	pthread_join(pr.th, NULL);
	*n = pr.n;
	*p50 = bench_pct(pr.lat, pr.n, 50);
	*p99 = bench_pct(pr.lat, pr.n, 99);
	free(pr.lat);
}

/* A fresh server, idle and then taking the first half of the batches. */
static void
loop_latency(const struct caseload *cl, const struct cl_order *o,
    struct loop *out)
{
	struct bench_srv srv;
	struct ingest_load ld;

	bench_srv_start(&srv);
	ingest_load_make(cl, o, &srv, &ld);
	probe_while(&srv, o, 0, &ld, &out->i50, &out->i99, &out->in, NULL);
	probe_while(&srv, o, o->nb / 2, &ld, &out->b50, &out->b99, &out->bn,
	    &out->recs);
	bench_srv_stop(&srv);
	ingest_load_free(&ld);
}

/* -- ingest ------------------------------------------------------------- */

/* One run: nsrv servers on a fresh database, then its limit. */
struct run {
	struct ingest_sent	 sent;
	double	 pgcpu;		/* PostgreSQL's, us a record */
	double	 rss;		/* the first server's MiB after */
	double	 limit;		/* rows/s of the bare write */
	double	 lcpu, lpgcpu;	/* its client's and PostgreSQL's, us */
	size_t	 lrecs, lbatches, lfacts, laudit;
	long	 rounds, read;	/* the servers' catch-ups, all together */
};

/* A counter from a server's /metrics. */
static long
metric(struct th_server *s, const char *name)
{
	struct th_http h;
	char key[96];
	const char *at;
	long v;

	th_https(s, "GET", "/metrics", NULL, NULL, 0, &h);
	snprintf(key, sizeof(key), "\n%s ", name);
	if (h.status != 200 || (at = strstr(h.body, key)) == NULL)
		fail_msg("pg: no %s in /metrics (%ld)", name, h.status);
	v = atol(at + strlen(key));
	th_http_free(&h);
	return v;
}

static void
run_pg(const struct caseload *cl, const struct cl_order *o, int nsrv,
    struct run *out)
{
	struct bench_srv srv[PG_SERVERS];
	struct ingest_load ld;
	struct pglimit *l;
	char from[600], to[600];
	double c0;
	pid_t pm;
	int k;

	bench_srv_start(&srv[0]);
	for (k = 1; k < nsrv; k++) {
		/* another server of the deployment: its users, its database */
		srv[k] = srv[0];
		th_server_twin(&srv[k].s, &srv[0].s, NULL);
		th_server_start(&srv[k].s, NULL);
	}
	snprintf(from, sizeof(from), "%s", th_db_uri(srv[0].db));
	snprintf(version, sizeof(version), "%s", th_sql_text(srv[0].db,
	    "SHOW server_version"));
	pm = postmaster(from);
	ingest_load_make(cl, o, &srv[0], &ld);
	c0 = pg_cpu(pm);
	ingest_send(srv, nsrv, o, o->nb, &ld, &out->sent);
	out->pgcpu = (pg_cpu(pm) - c0) * 1e6 / (double)out->sent.n;
	out->rss = bench_mib(srv[0].s.pid, "VmRSS:");
	for (out->rounds = out->read = 0, k = 0; k < nsrv; k++) {
		out->rounds += metric(&srv[k].s, "pcmds_catchups_total");
		out->read += metric(&srv[k].s, "pcmds_catchup_facts_total");
	}
	if (th_sql_long(srv[0].db, "SELECT count(*) FROM records") !=
	    (long)ld.n)
		fail_msg("pg: the database holds %ld records, not %zu",
		    th_sql_long(srv[0].db, "SELECT count(*) FROM records"), ld.n);
	l = pglimit_load(from);
	ingest_check_the_check(&srv[0], o, &ld);
	for (k = nsrv - 1; k >= 0; k--)
		bench_srv_stop(&srv[k]);
	pglimit_counts(l, &out->lrecs, &out->lbatches, &out->lfacts,
	    &out->laudit);
	if (out->lrecs != ld.n || out->lbatches != o->nb)
		fail_msg("pg: the stored batches are not those sent (%zu "
		    "records in %zu batches, sent %zu in %zu)", out->lrecs,
		    out->lbatches, ld.n, o->nb);
	snprintf(to, sizeof(to), "%s", th_pg_db(NULL));
	pglimit_schema(from, to);
	c0 = pg_cpu(pm);
	out->limit = (double)out->lrecs / pglimit_insert(l, to, nsrv,
	    &out->lcpu);
	out->lpgcpu = (pg_cpu(pm) - c0) * 1e6 / (double)out->lrecs;
	out->lcpu *= 1e6 / (double)out->lrecs;
	pglimit_free(l);
	ingest_load_free(&ld);
}

/* The same order into SQLite, for the figures beside. */
static void
run_sqlite(const struct caseload *cl, const struct cl_order *o,
    struct ingest_sent *out)
{
	struct bench_srv srv;
	struct ingest_load ld;

	bench_srv_start(&srv);
	ingest_load_make(cl, o, &srv, &ld);
	ingest_send(&srv, 1, o, o->nb, &ld, out);
	if (th_sql_long(srv.db, "SELECT count(*) FROM records") != (long)ld.n)
		fail_msg("pg: the SQLite store holds %ld records, not %zu",
		    th_sql_long(srv.db, "SELECT count(*) FROM records"), ld.n);
	bench_srv_stop(&srv);
	ingest_load_free(&ld);
}

static void
row(const char *what, const struct run *r, int nsrv)
{
	const struct ingest_sent *t = &r->sent;

	bench_row(what, bench_fmt("%.0f records/s; pcmdsd CPU a record %.0f "
	    "us user + %.0f us system%s, PostgreSQL's %.0f us; batch p50 "
	    "%.1f ms, p99 %.1f ms; %s RSS after %.1f MiB; catch-ups: %ld "
	    "rounds read %ld facts back", t->rate, t->usr,
	    t->sys, nsrv > 1 ? " (the three together)" : "", r->pgcpu, t->p50,
	    t->p99, nsrv > 1 ? "the first server's" : "server", r->rss,
	    r->rounds, r->read), bench_fmt("bare PostgreSQL write of the "
	    "same rows (%zu records, %zu facts, %zu audit entries) in the same "
	    "%zu commits by %d session%s: %.0f records/s; PostgreSQL CPU a "
	    "record %.0f us, its client's %.0f us", r->lrecs, r->lfacts,
	    r->laudit, r->lbatches, nsrv, nsrv > 1 ? "s at once" : "",
	    r->limit, r->lpgcpu, r->lcpu), bench_fmt("%s; CPU (pcmdsd and "
	    "PostgreSQL) %.1f times the limit's", bench_ratio(t->rate,
	    r->limit), (t->usr + t->sys + r->pgcpu) / (r->lpgcpu + r->lcpu)));
}

static void
report(const struct caseload *cl, const struct cl_order *o,
    const struct run *one, const struct run *three,
    const struct ingest_sent *lite, const struct loop *pl,
    const struct loop *sl)
{
	row(bench_fmt("Ingest over TLS on PostgreSQL, one server, realistic "
	    "order (%zu records of %zu referrals, %zu batches from %d "
	    "devices)", cl->nrecs, cl->nrefs, o->nb, BENCH_PLACES), one, 1);
	row(bench_fmt("Ingest on PostgreSQL, %d servers on one database at "
	    "once, the same records (devices spread over them, a client "
	    "each)", PG_SERVERS), three, PG_SERVERS);
	bench_row("PostgreSQL: three servers over one, and SQLite with the "
	    "same records", bench_fmt("three servers %.2f times one server's "
	    "rate; SQLite (one server, the same order): %.0f records/s, "
	    "pcmdsd CPU a record %.0f us user + %.0f us system, batch p50 "
	    "%.1f ms, p99 %.1f ms", three->sent.rate / one->sent.rate,
	    lite->rate, lite->usr, lite->sys, lite->p50, lite->p99),
	    bench_fmt("one PostgreSQL server %.2f times SQLite's rate",
	    one->sent.rate / lite->rate), NULL);
	bench_row(bench_fmt("The event loop under ingest: GET /healthz every "
	    "%d ms on one keep-alive connection while the devices send the "
	    "first half of the batches", PROBE_GAP_US / 1000), bench_fmt(
	    "PostgreSQL (the database is waited on by workers, not the loop): "
	    "p50 %.1f ms, p99 %.1f ms (%zu answers, %zu records sent); SQLite "
	    "(batches on two threads, not the loop): p50 %.1f ms, p99 %.1f ms "
	    "(%zu answers, %zu records)", pl->b50, pl->b99, pl->bn, pl->recs, sl->b50, sl->b99,
	    sl->bn, sl->recs), bench_fmt("idle: PostgreSQL p50 %.1f ms, p99 "
	    "%.1f ms; SQLite p50 %.1f ms, p99 %.1f ms", pl->i50, pl->i99,
	    sl->i50, sl->i99), NULL);
	bench_note("**PostgreSQL.** The ingest section's caseload (%zu "
	    "referrals here, `--pg-referrals`) in its realistic order, made "
	    "and checked as there: every answer parsed after the clock stops, "
	    "every record `stored`, the database then holding them all, the "
	    "check tried on each run. PostgreSQL is version %s, started by the "
	    "benchmark in a directory of its own on a Unix socket with fsync "
	    "on (and shared_buffers 64 MB); pcmdsd's sessions commit with "
	    "synchronous_commit on, so an acknowledged record is on disk as "
	    "with SQLite. Each run has a fresh database. pcmdsd's CPU is its "
	    "own (TLS, HTTP, validation and the rules, its database "
	    "workers' libpq); PostgreSQL's is the cluster's processes over "
	    "the run (backends, WAL writer, checkpointer). With three servers "
	    "the seven devices are spread over them (device d on server d mod "
	    "3), each device sending its batches in order on a thread of its "
	    "own, all at once; the rate is every record "
	    "over the wall time.", cl->nrefs, version);
	bench_note("**Its limit** is bare PostgreSQL doing only the writes "
	    "the servers did, in the same run on the very rows: read back "
	    "with `COPY ... TO STDOUT` before the clock starts (each commit's "
	    "records, the referral rows it made, its audit entries, the facts "
	    "of the referrals it touched), written into a fresh database with "
	    "the servers' schema (`pg_dump --schema-only` of theirs: the same "
	    "tables, indexes, triggers) by as many sessions as there were "
	    "servers, committing where the servers committed, as durably: "
	    "`COPY` for records, referrals and audit entries, the facts in one "
	    "multi-row upsert a commit as the server sends them, every result "
	    "checked and the rows counted after. What separates ingest from "
	    "it is accepting a record (reading, checking it and its referral, "
	    "deduplicating, the answer) and what several servers need: each "
	    "batch locks its referrals' rows (`SELECT ... FOR UPDATE`, in id "
	    "order) before it reads the ids and the referrals' stored facts "
	    "(a query each, not one a record; a correction's referral has "
	    "its records read, a query each), and a commit that wrote facts "
	    "announces itself (`NOTIFY`) with its transaction id. A batch "
	    "takes 8 round trips to PostgreSQL whatever its size, and one "
	    "more for each correction's referral and each referral whose "
	    "take-up rows changed (the token, the rate budget, BEGIN, one pipeline of the referrals' "
	    "lock rows made and taken, the ids and the referrals' stored "
	    "facts, the audit entry, the records in one `COPY`, one "
	    "pipeline of the facts' upsert, NOTIFY and COMMIT; none a "
	    "record). Another server's commit wakes a server's catch-up, "
	    "which reads, on a connection of its own, the facts written "
	    "since that its last snapshot did not see, leaving out those of "
	    "its own commits, applied as they committed (the facts it reads "
	    "back are counted above), and the places and the population only "
	    "when a commit changed them; the limit's batch is BEGIN, three "
	    "`COPY`s, the upsert and COMMIT.");
	bench_note("**What would narrow the gap**, not done here: the "
	    "take-up rows of a referral whose support records changed are "
	    "one statement each, not held for the commit's pipeline; holding "
	    "the audit entry for the commit's "
	    "pipeline, and BEGIN for the first, which would save two more of "
	    "the 8 waits but none of the work. What the catch-ups read back "
	    "is the facts other servers wrote (the count above): none with "
	    "one server, save its own commits still in flight when a "
	    "catch-up runs.");
	bench_note("**The event loop's latency**: `GET /healthz` (answered "
	    "by the loop itself) every %d ms over one keep-alive HTTPS "
	    "connection, first for 2 s on an idle fresh server, then while "
	    "the devices send it the first half of the realistic order's "
	    "batches; every answer must be 200. On PostgreSQL the batches run "
	    "on the database workers, so the loop only parses, answers and "
	    "hands over; on SQLite too they run on two threads, one reading "
	    "and checking a batch while the other's is written and committed "
	    "(fsync included) on the one connection batches are written on, "
	    "and the loop only decrypts, parses, hands over and answers; its "
	    "other writes (enrolment, sign-ins, audit entries) take their "
	    "turn at the database's lock after the batch being written.",
	    PROBE_GAP_US / 1000);
}

void
bench_pg(void)
{
	struct caseload cl;
	struct cl_order o;
	struct run one, three;
	struct ingest_sent lite;
	struct loop pl, sl;

	if (!pg_installed()) {
		bench_say("pg: skipped: the PostgreSQL server is not installed");
		bench_row("PostgreSQL store", "not measured: the PostgreSQL "
		    "server (initdb, pg_dump, psql) is not installed; "
		    "`packaging/deps.sh --all` installs postgresql-15", NULL,
		    NULL);
		return;
	}
	if (caseload_make(&cl, (size_t)bench.pg_refs, BENCH_PLACES,
	    BENCH_SEED, 0) != PC_OK)
		fail_msg("pg: cannot make the caseload");
	if (cl_order_realistic(&cl, BENCH_BATCH, &o) != PC_OK)
		fail_msg("pg: out of memory");
	/* a cluster of the benchmark's own, as durable as production */
	unsetenv("PCMDS_TEST_PG");
	setenv("PCMDS_PG_FSYNC", "on", 1);
	setenv("PCMDS_TEST_STORE", "postgresql", 1);
	bench_say("pg: one server");
	run_pg(&cl, &o, 1, &one);
	bench_say("pg: %d servers", PG_SERVERS);
	run_pg(&cl, &o, PG_SERVERS, &three);
	bench_say("pg: the event loop's latency");
	loop_latency(&cl, &o, &pl);
	unsetenv("PCMDS_TEST_STORE");
	bench_say("pg: the same records into SQLite");
	run_sqlite(&cl, &o, &lite);
	loop_latency(&cl, &o, &sl);
	report(&cl, &o, &one, &three, &lite, &pl, &sl);
	cl_order_free(&o);
	caseload_free(&cl);
}

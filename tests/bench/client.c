/*
 * client.c - the sections about the pcmds program: a sync of a device's
 * offline records, and how long commands take.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "caseload.h"
#include "cstore.h"
#include "rec.h"

#define SAMPLES	200	/* records whose short ids are resolved */

static char sample[SAMPLES][UUID_LEN];
static size_t nsample;

/*
 * A device's records made offline, n of them in the order its link
 * worker made them, straight into its store as recording would put them;
 * SAMPLES of their ids, spread over them, kept in sample.
 */
static void
offline(const char *home, const char *worker, long n, struct caseload *cl)
{
	struct err_list errs;
	struct cstore *cs;
	struct rec_opts o;
	struct buf b;
	size_t r;

	/* enough referrals for n records, the latest left out */
	if (caseload_make(cl, (size_t)n / 3 + 10, 1, BENCH_SEED + 3,
	    (size_t)n) != PC_OK || cl->nrecs != (size_t)n)
		fail_msg("sync: cannot make %ld records", n);
	err_init(&errs);
	cs = th_store_open(home, NULL);
	rec_opts_init(&o, time(NULL));
	buf_init(&b, 0);
	if (cstore_begin(cs, &errs) != PC_OK)
		fail_msg("sync: %s", errs.v[0].msg);
	for (r = 0; r < cl->nrecs; r++) {
		struct rec *rec;

		buf_reset(&b);
		caseload_json(cl, r, worker, "NH", &b);
		if (rec_parse(b.p, b.len, &o, &rec, &errs) != PC_OK)
			fail_msg("sync: generator: %s", errs.v[0].msg);
		if (cstore_insert(cs, rec, &errs) != PC_OK)
			fail_msg("sync: %s", errs.v[0].msg);
		if (r % (cl->nrecs / SAMPLES + 1) == 0 && nsample < SAMPLES)
			memcpy(sample[nsample++], rec->id, UUID_LEN);
		rec_free(rec);
	}
	if (cstore_commit(cs, &errs) != PC_OK)
		fail_msg("sync: %s", errs.v[0].msg);
	cstore_close(cs);
	buf_free(&b);
	err_free(&errs);
}

/*
 * The median time to resolve a sampled record's short id in the
 * device's store of n records, as every command given one does.
 */
static double
resolve_median(const char *home, long n)
{
	struct err_list errs;
	struct cstore *cs = th_store_open(home, NULL);
	char id[UUID_LEN], kind[16], ref[UUID_LEN];
	double t[SAMPLES], t0, m;
	size_t i;
	pc_rc rc;

	err_init(&errs);
	for (i = 0; i < nsample; i++) {
		err_clear(&errs);
		t0 = th_now();
		rc = cstore_resolve(cs, uuid_short(sample[i]).s, id, kind, ref,
		    NULL, &errs);
		t[i] = (th_now() - t0) * 1000;
		/* two of n ids may share 8 digits: then both are named */
		if (!(rc == PC_OK && strcmp(id, sample[i]) == 0) &&
		    rc != PC_EAMBIGUOUS)
			fail_msg("sync: short id %s of %ld records: %s",
			    uuid_short(sample[i]).s, n, errs.n ?
			    errs.v[0].msg : "another record");
	}
	m = bench_pct(t, nsample, 50);
	cstore_close(cs);
	err_free(&errs);
	return m;
}

void
bench_sync(void)
{
	const char *home = th_tmpdir();
	struct bench_srv srv;
	struct caseload cl;
	struct th_run r;
	struct rusage ru;
	char exe[700], wid[32], *cfg, *p;
	const char *argv[] = {exe, "--home", home, "sync", NULL};
	double t0, t, u0, s0, u1, s1;
	long n = bench.sync_recs, stored, later = 0, peak;
	size_t i;
	pid_t pid;
	int st;

	bench_srv_start(&srv);
	bench_key_file(th_path(home, "k"));
	/* the real scrypt cost; unlocked, as a link worker's device is */
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "setup", "--key-file", th_path(home, "k"), "--server",
	    srv.s.url, "--code", th_server_user(&srv.s, "link_worker", "NH",
	    NULL), "--cacert", srv.s.ca, NULL);
	if (r.status != 0)
		fail_msg("sync: pcmds setup: %s", r.err);
	th_run_free(&r);
	th_unlock(home);
	cfg = th_slurp(th_path(home, "config"), NULL);
	if (cfg == NULL || (p = strstr(cfg, "worker = ")) == NULL ||
	    sscanf(p + 9, "%31s", wid) != 1)
		fail_msg("sync: no worker in the device's config");
	free(cfg);
	offline(home, wid, n, &cl);
	/* its batches go in the order made: follow-ups of earlier batches */
	for (i = 0; i < cl.nrecs; i++)
		later += cl.recs[i].ev > 0 && cl.refs[cl.recs[i].ref].rec[0] /
		    BENCH_SYNC_BATCH < i / BENCH_SYNC_BATCH;
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	u0 = bench_cpu(srv.s.pid, &s0);
	t0 = th_now();
	pid = bench_spawn(exe, argv, NULL);
	bench_wait(pid, &st, &ru, &peak);
	t = th_now() - t0;
	u1 = bench_cpu(srv.s.pid, &s1);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("sync: pcmds sync failed (status %d)", st);
	stored = th_sql_long(srv.db, "SELECT count(*) FROM records");
	if (stored != n)
		fail_msg("sync: the server holds %ld records, not %ld", stored,
		    n);
	bench_srv_stop(&srv);
	bench_row(bench_fmt("pcmds sync of %ld offline records to the server "
	    "(%zu referrals; in batches of %d, %.0f%% of records follow up a "
	    "referral of an earlier batch)", n, cl.nrefs, BENCH_SYNC_BATCH,
	    100.0 * (double)later / (double)n), bench_fmt("%.2f s (%.0f "
	    "records/s); client CPU %.2f s user, %.2f s system; client peak "
	    "RSS %.1f MiB; server CPU a record %.1f us user + %.1f us system",
	    t, (double)n / t, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    peak / 1024.0, (u1 - u0) * 1e6 / (double)n,
	    (s1 - s0) * 1e6 / (double)n), "target: under 2 s for 100,000",
	    NULL);
	bench_note("**pcmds sync** is the real program sending a device's "
	    "offline records (made by the same generator, in the order a link "
	    "worker made them, put in its store as recording puts them) to a "
	    "fresh server: the time is from its start to its exit, its CPU "
	    "from the kernel (wait4), its peak memory its own high-water "
	    "mark (VmHWM, read as it runs: the kernel's ru_maxrss would "
	    "count the benchmark's memory it was started from), and the "
	    "server must then hold every record.");
	bench_row(bench_fmt("A short id resolved in a device's store of %ld "
	    "records (median of %zu)", n, nsample), bench_fmt("%.3f ms",
	    resolve_median(home, n)), NULL, NULL);
	caseload_free(&cl);
}

static double
median_run(const char *const *argv, int runs)
{
	double *t = calloc((size_t)runs, sizeof(*t)), m;
	char exe[700];
	int i, st;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	for (i = 0; i < runs; i++) {
		double t0 = th_now();

		pid = bench_spawn(exe, argv, NULL);
		waitpid(pid, &st, 0);
		t[i] = (th_now() - t0) * 1000;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("%s %s failed", argv[0], argv[3]);
	}
	m = bench_pct(t, (size_t)runs, 50);
	free(t);
	return m;
}

void
bench_commands(void)
{
	const char *home = th_tmpdir();
	const char *status[] = {"pcmds", "--home", home, "status", NULL};
	const char *referral[] = {"pcmds", "--home", home, "referral",
	    "--no-nhs-number", "--referred-on", "2026-03-01", "--source", "self",
	    "--reason", "stress", "--service", "general", "--age", "40",
	    "--gender", "male", "--ethnicity", "A", "--consent-evaluation",
	    NULL};
	struct th_run r;
	int runs = bench.quick ? 5 : 30;

	th_cmd(&r, NULL, "pcmds", "keygen", "--out", th_path(home, "k"), NULL);
	th_run_free(&r);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "setup", "--key-file", th_path(home, "k"), "--worker", "b",
	    "--place", "BD", NULL);
	if (r.status != 0)
		fail_msg("commands: pcmds setup: %s", r.err);
	th_run_free(&r);
	th_unlock(home);
	bench_row(bench_fmt("Client command latency (median of %d)", runs),
	    bench_fmt("pcmds status %.1f ms, pcmds referral %.1f ms (durable: "
	    "one fsync'd commit)", median_run(status, runs),
	    median_run(referral, runs)), NULL, NULL);
}

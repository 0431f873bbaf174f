/*
 * vault.c - the section about the client's store encrypted at rest:
 * recording, listing, import and sync with the real pcmds (records
 * sealed with AES-256-GCM, keys from its agent) beside the same client
 * built to store them unencrypted (bench/pcmds-plain, -DPCMDS_BENCH_PLAIN,
 * never installed), and what an unlock costs (the passphrase's scrypt).
 *
 * The two clients run one after the other, operation by operation, each
 * with a home and a server of its own, so that the load of a shared
 * machine falls on both alike; CPU time (user + system, from wait4) is
 * printed beside wall time, and its ratio is the one to judge.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "date.h"
#include "vault.h"

#define AIM	1.15	/* the aim: within 15% of the plain store */

enum { PLAIN, SEALED };

/* A client of one kind, enrolled as a link worker of NH. */
struct variant {
	const char		*name;
	char			 exe[700];
	char			 home[700];
	struct bench_srv	 srv;
};

static struct variant var[2];

/* Medians of one operation: wall and CPU seconds of each variant. */
struct fig {
	double	 wall[2], cpu[2];
};

/*
 * Runs argv (argv[0] a path), its output to out (or nowhere); wall
 * seconds, CPU seconds (user + system) in *cpu, peak RSS in *rss_kb.
 */
static double
timed(const char *const *argv, const char *out, double *cpu, long *rss_kb)
{
	struct rusage ru;
	double t0 = th_now(), t;
	pid_t pid;
	long peak;
	int st;

	pid = bench_spawn(argv[0], argv, out);
	bench_wait(pid, &st, &ru, &peak);
	t = th_now() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("vault: %s %s failed (status %d)", argv[0], argv[3],
		    st);
	*cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (rss_kb != NULL)
		*rss_kb = peak;
	return t;
}

/*
 * Both clients set up with the passphrase on stdin: the encrypted one at
 * the real scrypt cost (paid once, here), then unlocked, so that its
 * commands take the key from its agent as a link worker's do.
 */
static void
homes(void)
{
	struct th_run r;
	int v;

	for (v = 0; v < 2; v++) {
		struct variant *c = &var[v];
		const char *code;

		c->name = v == SEALED ? "encrypted" : "plain";
		bench_srv_start(&c->srv);
		code = th_server_user(&c->srv.s, "link_worker", "NH", NULL);
		snprintf(c->exe, sizeof(c->exe), "%s/%s", th_build(),
		    v == SEALED ? "pcmds" : "bench/pcmds-plain");
		snprintf(c->home, sizeof(c->home), "%s", th_tmpdir());
		bench_key_file(th_path(c->home, "k"));
		{
			const char *argv[] = {c->exe, "--home", c->home,
			    "--passphrase-fd", "0", "setup", "--key-file",
			    th_path(c->home, "k"), "--server", c->srv.s.url,
			    "--code", code, "--cacert", c->srv.s.ca, NULL};

			th_exec(&r, argv, TH_PASS "\n", NULL);
		}
		if (r.status != 0)
			fail_msg("vault: setup (%s): %s", c->name, r.err);
		th_run_free(&r);
		if (v == SEALED)
			th_unlock(c->home);
	}
}

/*
 * A referrals CSV of rows rows, each a referral with its baseline and
 * final ONS4 and its closure (4 records), every row different (an
 * import's record ids come from its rows' cells).
 */
static void
caseload_csv(const char *path, long rows)
{
	static const char *const sources[] = {"general_practice",
	    "general_practice", "mdt", "self", "pharmacy", "social_care",
	    "housing", "vcse"};
	static const char *const eth[] = {"A", "A", "C", "H", "J", "K", "K",
	    "N", "M", "L", "Z"};
	FILE *fp = fopen(path, "w");
	long i;

	if (fp == NULL)
		fail_msg("vault: cannot write %s", path);
	fprintf(fp, "person_basis,referred_on,source,reasons,service,age,"
	    "gender,ethnicity,consent_evaluation,baseline_on,"
	    "baseline_life_satisfaction,baseline_worthwhile,baseline_happy,"
	    "baseline_anxious,final_on,final_life_satisfaction,"
	    "final_worthwhile,final_happy,final_anxious,closed_on,"
	    "closure_reason,imd_decile\n");
	for (i = 0; i < rows; i++) {
		char d[DATE_LEN];

		/* the date and the age together tell rows apart */
		date_format(date_from_ymd(2024, 1, 1) + (int)(i % 600), d);
		fprintf(fp, "local,%s,%s,stress,general,%ld,%s,%s,yes,"
		    "2025-12-01,3,4,4,7,2026-01-05,5,6,6,4,2026-01-06,"
		    "goals_met,%ld\n", d, sources[i % 8], 18 + i / 600 % 90,
		    i & 1 ? "female" : "male", eth[i % 11], 1 + i % 10);
	}
	if (fclose(fp) != 0)
		fail_msg("vault: cannot write %s", path);
}

/* Lines in a file: the referrals pcmds list printed (and its header). */
static long
lines(const char *path)
{
	size_t len, i;
	char *s = th_slurp(path, &len);
	long n = 0;

	if (s == NULL)
		fail_msg("vault: cannot read %s", path);
	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	free(s);
	return n;
}

/*
 * Medians of runs of pcmds CMD EXTRA..., the two clients in turn; the
 * last run's output of each into out[v] when out is not NULL.
 */
static void
median_fig(struct fig *f, int runs, const char *cmd,
    const char *const *extra, char out[2][800])
{
	double *w[2], *c[2];
	int i, v, j, n;

	for (v = 0; v < 2; v++) {
		w[v] = calloc((size_t)runs, sizeof(double));
		c[v] = calloc((size_t)runs, sizeof(double));
		if (w[v] == NULL || c[v] == NULL)
			fail_msg("vault: out of memory");
	}
	for (i = 0; i < runs; i++)
		for (v = 0; v < 2; v++) {
			const char *argv[40];

			n = 0;
			argv[n++] = var[v].exe;
			argv[n++] = "--home";
			argv[n++] = var[v].home;
			argv[n++] = cmd;
			for (j = 0; extra != NULL && extra[j] != NULL &&
			    n < 39; j++)
				argv[n++] = extra[j];
			argv[n] = NULL;
			w[v][i] = timed(argv, out != NULL ? out[v] : NULL,
			    &c[v][i], NULL);
		}
	for (v = 0; v < 2; v++) {
		f->wall[v] = bench_pct(w[v], (size_t)runs, 50);
		f->cpu[v] = bench_pct(c[v], (size_t)runs, 50);
		free(w[v]);
		free(c[v]);
	}
}

/* A row: both clients' wall and CPU (k: seconds to the unit), ratios. */
static void
fig_row(const char *what, const struct fig *f, const char *unit, double k)
{
	int d = k > 1 ? 1 : 2;

	bench_row(what, bench_fmt("encrypted %.*f %s (CPU %.*f %s); plain "
	    "%.*f %s (CPU %.*f %s)", d, f->wall[SEALED] * k, unit, d,
	    f->cpu[SEALED] * k, unit, d, f->wall[PLAIN] * k, unit, d,
	    f->cpu[PLAIN] * k, unit), bench_fmt("aim: within %.0f%% of the "
	    "plain store (%.2f)", (AIM - 1) * 100, AIM), bench_fmt("CPU %.2f, "
	    "wall %.2f (encrypted over plain)", f->cpu[SEALED] / f->cpu[PLAIN],
	    f->wall[SEALED] / f->wall[PLAIN]));
}

/* The passphrase's cost: one scrypt, as every unlock pays it. */
static void
kdf(void)
{
	static const uint8_t sid[VAULT_ID_LEN] = {7};
	struct vault_keys *k = vault_keys_new(), *got = vault_keys_new();
	double t[5], cpu[5];
	struct err_list errs;
	struct buf w;
	int i;

	err_init(&errs);
	buf_init(&w, 0);
	if (k == NULL || got == NULL || vault_keys_generate(k) != PC_OK ||
	    vault_wrap_pass(k, TH_PASS, strlen(TH_PASS), &vault_kdf_default,
	    sid, &w, &errs) != PC_OK)
		fail_msg("vault: cannot wrap a key with the passphrase");
	for (i = 0; i < 5; i++) {
		struct timespec c0, c1;
		double t0 = th_now();

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
		if (vault_unwrap_pass(buf_str(&w), TH_PASS, strlen(TH_PASS),
		    sid, got, NULL, &errs) != PC_OK)
			fail_msg("vault: the passphrase did not unwrap: %s",
			    errs.n ? errs.v[0].msg : "?");
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
		t[i] = (th_now() - t0) * 1000;
		cpu[i] = (double)(c1.tv_sec - c0.tv_sec) * 1000 +
		    (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
		if (memcmp(got->data, k->data, VAULT_KEY_LEN) != 0)
			fail_msg("vault: the passphrase unwrapped another key");
	}
	/* a guess costs a thief CPU time: a loaded machine stretches wall */
	bench_row(bench_fmt("Unlocking with the passphrase: scrypt N=%llu, "
	    "r=%u, p=%u (median of 5)", (unsigned long long)vault_kdf_default.n,
	    vault_kdf_default.r, vault_kdf_default.p), bench_fmt("CPU %.0f ms "
	    "(wall %.0f ms)", bench_pct(cpu, 5, 50), bench_pct(t, 5, 50)),
	    "target: about 250 ms a guess", bench_fmt("CPU %.2f of the target",
	    bench_pct(cpu, 5, 50) / 250));
	buf_free(&w);
	vault_keys_free(k);
	vault_keys_free(got);
	err_free(&errs);
}

void
bench_vault(void)
{
	static const char *const referral[] = {"--no-nhs-number",
	    "--referred-on", "2026-03-01", "--source", "self", "--reason",
	    "stress", "--service", "general", "--age", "40", "--gender", "male",
	    "--ethnicity", "A", "--consent-evaluation", NULL};
	long rows = bench.sync_recs / 4, n = rows * 4, rss[2], held;
	int runs = bench.quick ? 5 : 30, list_runs = bench.quick ? 3 : 7, v;
	struct fig imp, rec, list, st, sync;
	char csv[2][800], out[2][800];

	homes();
	for (v = 0; v < 2; v++) {
		snprintf(csv[v], sizeof(csv[v]), "%s", th_path(var[v].home,
		    "caseload.csv"));
		snprintf(out[v], sizeof(out[v]), "%s", th_path(var[v].home,
		    "list.out"));
		caseload_csv(csv[v], rows);
	}
	bench_say("vault: pcmds import of %ld rows, each client", rows);
	for (v = 0; v < 2; v++) {
		const char *argv[] = {var[v].exe, "--home", var[v].home,
		    "import", csv[v], NULL};

		imp.wall[v] = timed(argv, NULL, &imp.cpu[v], NULL);
	}
	bench_say("vault: pcmds referral, %d times each", runs);
	median_fig(&rec, runs, "referral", referral, NULL);
	bench_say("vault: pcmds list, %d times each", list_runs);
	median_fig(&list, list_runs, "list", NULL, out);
	for (v = 0; v < 2; v++)
		if (lines(out[v]) < rows + runs)
			fail_msg("vault: pcmds list (%s) printed %ld lines for "
			    "%ld referrals", var[v].name, lines(out[v]),
			    rows + runs);
	median_fig(&st, runs, "status", NULL, NULL);
	bench_say("vault: pcmds sync of %ld records, each client", n + runs);
	for (v = 0; v < 2; v++) {
		const char *argv[] = {var[v].exe, "--home", var[v].home,
		    "sync", NULL};

		sync.wall[v] = timed(argv, NULL, &sync.cpu[v], &rss[v]);
		held = th_sql_long(var[v].srv.db, "SELECT count(*) FROM "
		    "records");
		if (held != n + runs)
			fail_msg("vault: the server of the %s client holds %ld "
			    "records, not %ld", var[v].name, held, n + runs);
		bench_srv_stop(&var[v].srv);
	}
	fig_row(bench_fmt("Recording: pcmds referral, the client's store "
	    "encrypted beside plain (median of %d)", runs), &rec, "ms", 1000);
	fig_row(bench_fmt("Listing: pcmds list of %ld referrals (median of "
	    "%d)", rows + runs, list_runs), &list, "s", 1);
	fig_row(bench_fmt("Import: pcmds import of %ld rows (%ld records)",
	    rows, n), &imp, "s", 1);
	fig_row(bench_fmt("Sync: pcmds sync of %ld records to the server "
	    "(client peak RSS: encrypted %.1f MiB, plain %.1f MiB)", n + runs,
	    rss[SEALED] / 1024.0, rss[PLAIN] / 1024.0), &sync, "s", 1);
	fig_row(bench_fmt("pcmds status, encrypted beside plain (median of "
	    "%d)", runs), &st, "ms", 1000);
	kdf();
	bench_note("**The client's store encrypted beside plain**: pcmds "
	    "(each record's content and the server's reasons sealed with "
	    "AES-256-GCM, bound to their row; keys from its agent, unlocked "
	    "once before the clock starts) beside the same client built to "
	    "store them unencrypted (bench/pcmds-plain, built with "
	    "-DPCMDS_BENCH_PLAIN, never installed), each with a home and a "
	    "server of its own, operation by operation one after the other so "
	    "that the load of the machine falls on both alike. Each figure is "
	    "the program's whole run, start to exit: wall time, and CPU time "
	    "(user + system) from the kernel (wait4). The ratios are "
	    "encrypted over plain; CPU is the one to judge on a shared "
	    "machine, where others' work stretches wall time. Import reads a "
	    "CSV of %ld rows (a referral, its baseline and final ONS4 and its "
	    "closure each) into an empty store, once each; recording is a "
	    "referral added to that store; listing prints every referral "
	    "(each record opened); sync sends every record to the client's "
	    "own server, once each, in batches of %d, and that server must "
	    "then hold them all; its wall time includes the server's work, "
	    "the same for both. Unlocking is the scrypt of the passphrase at "
	    "the cost new stores get (the unwrap of the keys pcmds unlock "
	    "does), in this process: its CPU time is what a guess costs.",
	    rows, BENCH_SYNC_BATCH);
}

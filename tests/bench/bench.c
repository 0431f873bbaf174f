/*
 * bench.c - make bench: how fast pcmds is, each figure beside the limit
 * measured in the same run, written to docs/benchmarks.md.
 *
 *   pcmds-bench [--quick] [--only ingest|sync] [--out FILE]
 *
 * --only runs one part and prints its figures: the loop to profile a hot
 * path under (perf record -g -- pcmds-bench --only ingest).
 *
 * Everything runs for real on loopback: pcmdsd over TLS with its SQLite
 * store, the pcmds binary, libcurl clients. Figures are medians or
 * percentiles of repeated runs; nothing here passes or fails on time.
 */
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "buf.h"
#include "cstore.h"
#include "harness.h"
#include "nhs.h"
#include "rec.h"
#include "sec.h"
#include "uuid.h"
#include "vault.h"

#define PER_REFERRAL	5	/* records per referral in the generator */

static int quick;
static struct buf report;
static char keyid[32];

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)ceil(p / 100 * (double)n);
	return v[i == 0 ? 0 : i - 1];
}

/* Resets VmHWM so that the next reading is the peak from now on. */
/* CPU seconds the process has used so far: user, and system in *sys. */
static double
proc_cpu(pid_t pid, double *sys)
{
	char path[64], *s, *p;
	unsigned long ut = 0, st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((s = th_slurp(path, NULL)) == NULL)
		return 0;
	/* fields 14 and 15, after the command name in parentheses */
	if ((p = strrchr(s, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu "
		    "%lu", &ut, &st);
	free(s);
	*sys = (double)st / (double)sysconf(_SC_CLK_TCK);
	return (double)ut / (double)sysconf(_SC_CLK_TCK);
}

static void
reset_peak(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	th_write(path, "5");
}

static void
out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&report, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* -- realistic records -------------------------------------------------- */

static const char *const sources[] = {"general_practice", "general_practice",
    "mdt", "self", "pharmacy", "social_care", "housing", "vcse"};
static const char *const reasons[] = {"loneliness_isolation",
    "low_mood_anxiety", "debt_money", "housing", "long_term_condition",
    "stress", "bereavement", "benefits"};
static const char *const eth[] = {"A", "A", "C", "H", "J", "K", "K", "N", "M",
    "L", "Z"};

static void
id_of(long k, char out[UUID_LEN])
{
	snprintf(out, UUID_LEN, "%08lx-0000-4000-8000-%012lx",
	    (unsigned long)(k >> 20) & 0xffffffffUL, (unsigned long)k);
}

static void
ymd(int day, char out[DATE_LEN])
{
	date_format(date_from_ymd(2025, 4, 1) + day, out);
}

/*
 * Record j (0..PER_REFERRAL-1) of referral k, as canonical-enough JSON:
 * referral, baseline ONS4, contact, support, final ONS4.
 */
static void
record(struct buf *b, long k, int j, const char *worker, const char *place,
    long seq)
{
	char rid[UUID_LEN], id[UUID_LEN], d0[DATE_LEN], d[DATE_LEN];
	unsigned h = (unsigned)(k * 2654435761u);

	id_of(k * PER_REFERRAL, rid);
	id_of(k * PER_REFERRAL + j, id);
	ymd((int)(h % 500), d0);
	buf_addf(b, "{\"id\":\"%s\",\"schema\":\"pcmds/1\",\"kind\":\"%s\","
	    "\"recorded_at\":\"2026-10-01T10:00:00Z\",\"device_seq\":%ld,"
	    "\"worker\":\"%s\",\"place\":\"%s\",\"referral\":\"%s\",", id,
	    j == 0 ? "referral" : j == 2 ? "contact" : j == 3 ? "support" :
	    "assessment", seq, worker, place, rid);
	switch (j) {
	case 0:
		buf_addf(b, "\"person\":\"%016lx%048x\",\"person_basis\":"
		    "\"nhs_number\",\"referred_on\":\"%s\",\"source\":\"%s\","
		    "\"reasons\":[\"%s\",\"%s\"],\"service\":\"general\","
		    "\"age\":%u,\"gender\":\"%s\",\"ethnicity\":\"%s\","
		    "\"imd_decile\":%u,\"carer\":%s,\"consent_evaluation\":%s}",
		    (unsigned long)k, h, d0, sources[h % 8], reasons[h % 8],
		    reasons[(h >> 3) % 8] == reasons[h % 8] ? "other" :
		    reasons[(h >> 3) % 8], 18 + h % 70, h & 1 ? "female" : "male",
		    eth[h % 11], 1 + h % 10, h & 2 ? "true" : "false",
		    h % 7 ? "true" : "false");
		break;
	case 1:
	case 4:
		ymd((int)(h % 500) + (j == 1 ? 3 : 90), d);
		buf_addf(b, "\"assessed_on\":\"%s\",\"stage\":\"%s\","
		    "\"life_satisfaction\":%u,\"worthwhile\":%u,\"happy\":%u,"
		    "\"anxious\":%u}", d, j == 1 ? "baseline" : "final",
		    (h >> 4) % 6 + (j == 4 ? 2 : 0), (h >> 7) % 6 + (j == 4),
		    (h >> 9) % 6 + (j == 4 ? 2 : 0), 10 - (h >> 11) % 5 -
		    (j == 4 ? 3 : 0));
		break;
	case 2:
		ymd((int)(h % 500) + 5, d);
		buf_addf(b, "\"contact_on\":\"%s\",\"mode\":\"face_to_face\","
		    "\"minutes\":%u,\"attended\":true}", d, 20 + h % 40);
		break;
	default:
		ymd((int)(h % 500) + 10, d);
		buf_addf(b, "\"offered_on\":\"%s\",\"category\":"
		    "\"befriending_social\",\"provider\":\"Age UK\",\"outcome\":"
		    "\"taken_up\"}", d);
	}
}

/* A batch: n records starting at record number first. */
static void
batch(struct buf *b, long first, int n, const char *worker,
    const char *place)
{
	long i;

	buf_reset(b);
	buf_adds(b, "{\"records\":[");
	for (i = first; i < first + n; i++) {
		if (i > first)
			buf_addc(b, ',');
		record(b, i / PER_REFERRAL, (int)(i % PER_REFERRAL), worker, place,
		    i + 1);
	}
	buf_adds(b, "]}");
}

/* -- a server with users ------------------------------------------------- */

static struct th_server srv;

static size_t
sink(char *p, size_t s, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b != NULL)
		buf_add(b, p, s * n);
	return s * n;
}

static CURL *
client(const char *token, struct curl_slist **h, struct buf *body)
{
	CURL *c = curl_easy_init();
	char auth[128];

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	*h = curl_slist_append(NULL, auth);
	*h = curl_slist_append(*h, "Content-Type: application/json");
	*h = curl_slist_append(*h, "Expect:");
	curl_easy_setopt(c, CURLOPT_CAINFO, srv.ca);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	return c;
}

/* A link worker: token and worker id. */
static void
worker(const char *place, char token[64], char wid[32])
{
	long id;
	const char *code = th_server_user(&srv, "link_worker", place, &id);

	snprintf(token, 64, "%s", th_enrol(&srv, code, keyid));
	snprintf(wid, 32, "%c%c-lw%ld", place[0] + 32, place[1] + 32, id);
}

/* -- 1. ingest over TLS, and its limit ------------------------------------ */

static double
sqlite_limit(long records)
{
	char dir[600], db[700];
	struct buf b;
	sqlite3 *d;
	sqlite3_stmt *st;
	double t0, t;
	long i;

	snprintf(dir, sizeof(dir), "%s", th_tmpdir());
	snprintf(db, sizeof(db), "%s/limit.db", dir);
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	/* the records table as the server has it, same durability */
	sqlite3_exec(d, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "CREATE TABLE records(seq INTEGER PRIMARY KEY, id TEXT NOT NULL "
	    "UNIQUE, referral TEXT NOT NULL, kind TEXT NOT NULL, place TEXT NOT "
	    "NULL, worker TEXT NOT NULL, hash BLOB NOT NULL, json TEXT NOT NULL,"
	    " user_id INTEGER NOT NULL, received INTEGER NOT NULL) STRICT;"
	    "CREATE INDEX records_by_referral ON records(referral, seq);",
	    NULL, NULL, NULL);
	sqlite3_prepare_v2(d, "INSERT INTO records(id, referral, kind, place, "
	    "worker, hash, json, user_id, received) VALUES (?,?,?,?,?,?,?,1,1)",
	    -1, &st, NULL);
	buf_init(&b, 0);
	t0 = th_now();
	for (i = 0; i < records; i++) {
		char id[UUID_LEN], rid[UUID_LEN];
		unsigned char hash[32];

		if (i % 500 == 0)
			sqlite3_exec(d, "BEGIN", NULL, NULL, NULL);
		buf_reset(&b);
		record(&b, i / PER_REFERRAL, (int)(i % PER_REFERRAL), "bd-lw1",
		    "BD", i + 1);
		id_of(i, id);
		id_of(i / PER_REFERRAL * PER_REFERRAL, rid);
		memset(hash, (int)i, sizeof(hash));
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, "contact", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, "BD", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, "bd-lw1", -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 6, hash, 32, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, b.p, (int)b.len, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
		if (i % 500 == 499 || i + 1 == records)
			sqlite3_exec(d, "COMMIT", NULL, NULL, NULL);
	}
	t = th_now() - t0;
	sqlite3_finalize(st);
	sqlite3_close(d);
	buf_free(&b);
	return (double)records / t;
}

/*
 * Posts records first..first+n in batches of size; fills latencies. The
 * rate counts the time requests were in flight, not the time this program
 * took to make up the records.
 */
static double
ingest(const char *token, const char *wid, const char *place, long first,
    long n, int size, double *lat, size_t *nlat)
{
	struct curl_slist *h;
	struct buf b, resp;
	CURL *c;
	double busy = 0, t1;
	char url[128];
	long i, code;

	buf_init(&b, 0);
	buf_init(&resp, 0);
	c = client(token, &h, &resp);
	snprintf(url, sizeof(url), "%s/v1/records", srv.url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	for (i = first; i < first + n; i += size) {
		batch(&b, i, (int)(first + n - i < size ? first + n - i : size),
		    wid, place);
		buf_reset(&resp);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, b.p);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)b.len);
		t1 = th_now();
		if (curl_easy_perform(c) != CURLE_OK)
			fail_msg("ingest: transfer failed");
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200 || strstr(buf_str(&resp), "\"rejected\":0") ==
		    NULL)
			fail_msg("ingest: %ld %.300s", code, buf_str(&resp));
		t1 = th_now() - t1;
		busy += t1;
		if (lat != NULL)
			lat[(*nlat)++] = t1 * 1000;
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	buf_free(&b);
	buf_free(&resp);
	return (double)n / busy;
}

static void
bench_ingest(const char *token, const char *wid, long n)
{
	size_t nlat = 0;
	double *lat = calloc((size_t)(n / 500 + 2), sizeof(*lat));
	double rate, limit, p50, p99, sys0, sys1, usr;

	usr = -proc_cpu(srv.pid, &sys0);
	rate = ingest(token, wid, "BD", 0, n, 500, lat, &nlat);
	usr += proc_cpu(srv.pid, &sys1);
	p50 = pct(lat, nlat, 50);
	p99 = pct(lat, nlat, 99);
	limit = sqlite_limit(n);
	out("| Ingest over TLS, keep-alive, batches of 500 | %.0f records/s; "
	    "batch p50 %.1f ms, p99 %.1f ms; server CPU a record: %.1f us user, "
	    "%.1f us system | bare SQLite insert of the same rows, same schema "
	    "and synchronous=FULL: %.0f rows/s | %.2f of the limit (targets: "
	    "50,000/s and 0.5) |\n", rate, p50, p99, usr * 1e6 / (double)n,
	    (sys1 - sys0) * 1e6 / (double)n, limit, rate / limit);
	free(lat);
}

/* -- 2. the client: encrypted store beside plain -------------------------- */

/* The deployment key every enrolled device of the benchmark holds. */
static const uint8_t bench_key[NHS_KEY_LEN] = {1};

static void
key_file(const char *path)
{
	char hex[2 * NHS_KEY_LEN + 2];

	sec_hex(bench_key, NHS_KEY_LEN, hex);
	strcat(hex, "\n");
	th_write(path, hex);
}

/*
 * Each figure twice: with the real pcmds (store encrypted, keys from its
 * agent) and with build/bench/pcmds-plain, the same client built to store
 * records unencrypted (as pcmds 0.9 did) and never installed. The two
 * run one after the other, operation by operation, so that the load of a
 * shared machine falls on both alike.
 */
struct variant {
	const char	*name;
	char		 exe[700];
	char		 home[700];
	int		 encrypted;
};

static struct variant variants[2];
/* A server of its own for each, so that neither syncs into a fuller one. */
static struct th_server csrv[2];

/* Runs argv (argv[0] a path); wall seconds, and CPU seconds in *cpu. */
static double
timed(const char *const *argv, double *cpu, long *rss_kb)
{
	struct rusage ru;
	double t0 = th_now(), t;
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		th_quiet(1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	wait4(pid, &st, 0, &ru);
	t = th_now() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s %s failed (%d)", argv[0], argv[3], st);
	if (cpu != NULL)
		*cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (rss_kb != NULL)
		*rss_kb = ru.ru_maxrss;
	return t;
}

/* A client of each kind, enrolled as a link worker of NH. */
static void
client_homes(void)
{
	struct th_run r;
	int v;

	for (v = 0; v < 2; v++) {
		struct variant *c = &variants[v];
		const char *code;

		th_server_init(&csrv[v], "rate_per_token = 100000\n"
		    "log_requests = no\n");
		th_server_start(&csrv[v], NULL);
		code = th_server_user(&csrv[v], "link_worker", "NH", NULL);

		c->encrypted = v == 1;
		c->name = c->encrypted ? "encrypted" : "plain";
		snprintf(c->exe, sizeof(c->exe), "%s/%s", th_build(),
		    c->encrypted ? "pcmds" : "bench/pcmds-plain");
		snprintf(c->home, sizeof(c->home), "%s", th_tmpdir());
		key_file(th_path(c->home, "k"));
		{
			/* the real scrypt cost: it is paid once, here */
			const char *argv[] = {c->exe, "--home", c->home,
			    "--passphrase-fd", "0", "setup", "--key-file",
			    th_path(c->home, "k"), "--server", csrv[v].url,
			    "--code", code, "--cacert", csrv[v].ca, NULL};

			th_exec(&r, argv, TH_PASS "\n", NULL);
		}
		if (r.status != 0)
			fail_msg("setup (%s): %s", c->name, r.err);
		th_run_free(&r);
		if (c->encrypted)
			th_unlock(c->home);
	}
}

/*
 * A referrals CSV of rows rows, 4 records each (as test_sync's); another
 * salt, other rows (an import's record ids come from its rows' cells).
 */
static void
caseload_csv(const char *path, long rows, int salt)
{
	FILE *fp = fopen(path, "w");
	long i;

	assert_non_null(fp);
	fprintf(fp, "person_basis,referred_on,source,reasons,service,age,gender,"
	    "ethnicity,consent_evaluation,baseline_on,baseline_life_satisfaction,"
	    "baseline_worthwhile,baseline_happy,baseline_anxious,final_on,"
	    "final_life_satisfaction,final_worthwhile,final_happy,final_anxious,"
	    "closed_on,closure_reason,imd_decile\n");
	for (i = 0; i < rows; i++) {
		char d[DATE_LEN];

		date_format(date_from_ymd(2024, 1, 1) + (int)(i % 600), d);
		fprintf(fp, "local,%s,%s,stress,general,%ld,%s,%s,yes,2025-12-01,"
		    "3,4,4,7,2026-01-05,5,6,6,4,2026-01-06,goals_met,%d\n", d,
		    sources[i % 8], 18 + i / 600 % 90, i & 1 ? "female" : "male",
		    eth[i % 11], salt);
	}
	fclose(fp);
}

struct fig {
	double	 wall[2], cpu[2];
};

static void
fig_row(const char *what, const struct fig *f, const char *unit, double k)
{
	out("| %s | %.*f %s (CPU %.*f) | %.*f %s (CPU %.*f) | %.2f | %.2f |\n",
	    what, k > 1 ? 1 : 2, f->wall[1] * k, unit, k > 1 ? 1 : 2,
	    f->cpu[1] * k, k > 1 ? 1 : 2, f->wall[0] * k, unit, k > 1 ? 1 : 2,
	    f->cpu[0] * k, f->wall[1] / f->wall[0], f->cpu[1] / f->cpu[0]);
}

/* Medians of runs of pcmds CMD EXTRA..., the two variants in turn. */
static void
median_fig(struct fig *f, int runs, const char *cmd, const char *const *extra)
{
	double *w[2], *c[2];
	int i, v, n;

	for (v = 0; v < 2; v++) {
		w[v] = calloc((size_t)runs, sizeof(double));
		c[v] = calloc((size_t)runs, sizeof(double));
	}
	for (i = 0; i < runs; i++)
		for (v = 0; v < 2; v++) {
			const char *argv[40];
			int j;

			n = 0;
			argv[n++] = variants[v].exe;
			argv[n++] = "--home";
			argv[n++] = variants[v].home;
			argv[n++] = cmd;
			for (j = 0; extra != NULL && extra[j] != NULL && n < 39; j++)
				argv[n++] = extra[j];
			argv[n] = NULL;
			w[v][i] = timed(argv, &c[v][i], NULL);
		}
	for (v = 0; v < 2; v++) {
		f->wall[v] = pct(w[v], (size_t)runs, 50);
		f->cpu[v] = pct(c[v], (size_t)runs, 50);
		free(w[v]);
		free(c[v]);
	}
}

/* What bench_client measured, printed in two places. */
static struct {
	long		 n, rows, rss[2];
	int		 runs, list_runs;
	struct fig	 imp, list, sync, rec, st;
} cf;

static void
bench_client(long n)
{
	static const char *const referral[] = {"--no-nhs-number",
	    "--referred-on", "2026-03-01", "--source", "self", "--reason",
	    "stress", "--service", "general", "--age", "40", "--gender", "male",
	    "--ethnicity", "A", "--consent-evaluation", NULL};
	char path[800];
	int v;

	cf.n = n;
	cf.rows = n / 4;
	cf.runs = quick ? 5 : 30;
	cf.list_runs = quick ? 3 : 7;
	client_homes();
	for (v = 0; v < 2; v++) {
		const char *argv[] = {variants[v].exe, "--home",
		    variants[v].home, "import", path, NULL};

		snprintf(path, sizeof(path), "%s", th_path(variants[v].home,
		    "caseload.csv"));
		caseload_csv(path, cf.rows, 1 + v);
		cf.imp.wall[v] = timed(argv, &cf.imp.cpu[v], NULL);
	}
	median_fig(&cf.list, cf.list_runs, "list", NULL);
	median_fig(&cf.rec, cf.runs, "referral", referral);
	median_fig(&cf.st, cf.runs, "status", NULL);
	for (v = 0; v < 2; v++) {
		const char *argv[] = {variants[v].exe, "--home",
		    variants[v].home, "sync", NULL};

		cf.sync.wall[v] = timed(argv, &cf.sync.cpu[v], &cf.rss[v]);
	}
	for (v = 0; v < 2; v++)
		th_server_stop(&csrv[v], SIGTERM);
}

/* The client's rows of the main table (the encrypted store's figures). */
static void
client_rows(void)
{
	long sent = cf.n + cf.runs;

	out("| pcmds sync of %ld offline records to the server | %.2f s "
	    "(%.0f records/s); client CPU %.2f s, peak RSS %.1f MiB | target: "
	    "5 s for 100,000 | |\n", sent, cf.sync.wall[1],
	    (double)sent / cf.sync.wall[1], cf.sync.cpu[1], cf.rss[1] / 1024.0);
	out("| Client command latency (median of %d) | pcmds status %.1f ms, "
	    "pcmds referral %.1f ms (durable: one fsync'd commit) | | |\n",
	    cf.runs, cf.st.wall[1] * 1000, cf.rec.wall[1] * 1000);
}

static void
client_table(void)
{
	char what[200];

	out("\n## The client's store: encrypted beside plain\n\n"
	    "pcmds (records sealed with AES-256-GCM, keys from its agent) "
	    "beside the same client built to store them unencrypted "
	    "(build/bench/pcmds-plain, as pcmds 0.9 stored them), operation by "
	    "operation on the same machine, each syncing to a server of its "
	    "own. The ratios are encrypted / plain, "
	    "of wall time and of CPU time (user + system: the load of a shared "
	    "machine disturbs it less). The aim: each within 1.15.\n\n"
	    "| Operation | Encrypted | Plain | Ratio | CPU ratio |\n"
	    "|---|---|---|---|---|\n");
	snprintf(what, sizeof(what), "Recording: pcmds referral (median of %d)",
	    cf.runs);
	fig_row(what, &cf.rec, "ms", 1000);
	snprintf(what, sizeof(what), "Listing: pcmds list of %ld referrals "
	    "(median of %d)", cf.rows + cf.runs, cf.list_runs);
	fig_row(what, &cf.list, "s", 1);
	snprintf(what, sizeof(what), "Import: pcmds import of %ld rows (%ld "
	    "records)", cf.rows, cf.n);
	fig_row(what, &cf.imp, "s", 1);
	snprintf(what, sizeof(what), "Sync: pcmds sync of %ld records to the "
	    "server", cf.n + cf.runs);
	fig_row(what, &cf.sync, "s", 1);
	snprintf(what, sizeof(what), "pcmds status (median of %d)", cf.runs);
	fig_row(what, &cf.st, "ms", 1000);
}

/* The passphrase's cost: one scrypt, as every unlock pays it. */
static void
bench_kdf(void)
{
	struct vault_keys *k = vault_keys_new();
	double t[5], cpu[5];
	struct err_list errs;
	struct buf w;
	int i;

	err_init(&errs);
	buf_init(&w, 0);
	vault_keys_generate(k);
	for (i = 0; i < 5; i++) {
		struct timespec c0, c1;
		double t0 = th_now();

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		if (vault_wrap_pass(k, TH_PASS, strlen(TH_PASS),
		    &vault_kdf_default, (const uint8_t[VAULT_ID_LEN]){0}, &w,
		    &errs) != PC_OK)
			fail_msg("scrypt failed");
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		t[i] = (th_now() - t0) * 1000;
		cpu[i] = (double)(c1.tv_sec - c0.tv_sec) * 1000 +
		    (double)(c1.tv_nsec - c0.tv_nsec) / 1e6;
	}
	/* a guess costs a thief CPU time: a shared machine stretches wall time */
	out("| Unlocking with the passphrase: scrypt N=%llu, r=%u, p=%u "
	    "(median of 5) | %.0f ms (CPU %.0f ms) | target: about 250 ms a "
	    "guess | |\n", (unsigned long long)vault_kdf_default.n,
	    vault_kdf_default.r, vault_kdf_default.p, pct(t, 5, 50),
	    pct(cpu, 5, 50));
	buf_free(&w);
	vault_keys_free(k);
	err_free(&errs);
}

/* -- 3. impact queries, dashboard, export ------------------------------- */

static void
timed_get(const char *token, const char *path, int runs, double *p50,
    double *p99, size_t *bytes)
{
	struct curl_slist *h;
	struct buf resp;
	CURL *c;
	char url[256];
	double *lat = calloc((size_t)runs, sizeof(*lat)), t1;
	long code;
	int i;

	buf_init(&resp, 0);
	c = client(token, &h, &resp);
	snprintf(url, sizeof(url), "%s%s", srv.url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	for (i = 0; i < runs; i++) {
		buf_reset(&resp);
		t1 = th_now();
		curl_easy_perform(c);
		lat[i] = (th_now() - t1) * 1000;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200)
			fail_msg("GET %s: %ld", path, code);
	}
	*bytes = resp.len;
	*p50 = pct(lat, (size_t)runs, 50);
	*p99 = pct(lat, (size_t)runs, 99);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	buf_free(&resp);
	free(lat);
}

static void
bench_queries(const char *lead, const char *evaluator, long stored)
{
	double p50, p99;
	size_t bytes;
	int runs = quick ? 20 : 200;

	timed_get(lead, "/v1/places/NH/impact", runs, &p50, &p99, &bytes);
	out("| Impact query, one place (%ld records stored) | p50 %.1f ms, "
	    "p99 %.1f ms (%zu bytes) | target: p99 under 20 ms | |\n", stored,
	    p50, p99, bytes);
	timed_get(evaluator, "/v1/places/ALL/impact?group_by=ethnic_group",
	    runs, &p50, &p99, &bytes);
	out("| Impact query, all places, by ethnic group | p50 %.1f ms, p99 "
	    "%.1f ms (%zu bytes) | target: p99 under 20 ms | |\n", p50, p99,
	    bytes);
	timed_get(lead, "/v1/places", runs, &p50, &p99, &bytes);
	out("| Every place's headline (GET /v1/places) | p50 %.1f ms, p99 "
	    "%.1f ms | | |\n", p50, p99);
	timed_get(lead, "/dashboard", runs / 2, &p50, &p99, &bytes);
	out("| Dashboard render (HTML, SVG, every place) | p50 %.1f ms, p99 "
	    "%.1f ms (%zu bytes) | | |\n", p50, p99, bytes);
}

static size_t
count_lines(char *p, size_t s, size_t n, void *arg)
{
	long *lines = arg;
	size_t i;

	for (i = 0; i < s * n; i++)
		*lines += p[i] == '\n';
	return s * n;
}

static void
bench_export(const char *evaluator, long stored)
{
	struct curl_slist *h;
	CURL *c;
	char url[256];
	long lines = 0, before, peak;
	double t0, t;
	curl_off_t bytes;

	c = client(evaluator, &h, NULL);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_lines);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &lines);
	snprintf(url, sizeof(url), "%s/v1/export", srv.url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	before = th_proc_kb(srv.pid, "VmRSS:");
	reset_peak(srv.pid);
	t0 = th_now();
	if (curl_easy_perform(c) != CURLE_OK)
		fail_msg("export failed");
	t = th_now() - t0;
	peak = th_proc_kb(srv.pid, "VmHWM:");
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
	out("| Export, NDJSON, every consented record (%ld stored) | %ld "
	    "records in %.2f s: %.0f records/s, %.1f MB/s | server peak RSS "
	    "growth %.1f MiB (target: under 16 MiB) | |\n", stored, lines, t,
	    (double)lines / t, (double)bytes / t / 1e6, (peak - before) /
	    1024.0);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
}

/* -- 4. 200 clients at once (libcurl multi) ------------------------------ */

static void
bench_concurrency(int clients, int batches, int size)
{
	CURLM *m = curl_multi_init();
	struct one {
		CURL			*c;
		struct curl_slist	*h;
		struct buf		 body, resp;
		char			 token[64], wid[32], place[4];
		int			 sent;
		long			 base;
	} *v = calloc((size_t)clients, sizeof(*v));
	static const char *const places[] = {"BD", "CH", "HV", "NH", "RB", "TH",
	    "WF"};
	char url[128];
	int i, running, errors = 0, done = 0;
	long peak, rss_before;
	double t0, t;

	snprintf(url, sizeof(url), "%s/v1/records", srv.url);
	for (i = 0; i < clients; i++) {
		snprintf(v[i].place, sizeof(v[i].place), "%s", places[i % 7]);
		worker(v[i].place, v[i].token, v[i].wid);
		buf_init(&v[i].body, 0);
		buf_init(&v[i].resp, 0);
		v[i].base = 200000000L + (long)i * batches * size;
	}
	rss_before = th_proc_kb(srv.pid, "VmRSS:");
	reset_peak(srv.pid);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)clients);
	t0 = th_now();
	for (i = 0; i < clients; i++) {
		v[i].c = client(v[i].token, &v[i].h, &v[i].resp);
		curl_easy_setopt(v[i].c, CURLOPT_URL, url);
		curl_easy_setopt(v[i].c, CURLOPT_PRIVATE, &v[i]);
		batch(&v[i].body, v[i].base, size, v[i].wid, v[i].place);
		curl_easy_setopt(v[i].c, CURLOPT_POSTFIELDS, v[i].body.p);
		curl_easy_setopt(v[i].c, CURLOPT_POSTFIELDSIZE,
		    (long)v[i].body.len);
		curl_multi_add_handle(m, v[i].c);
	}
	do {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct one *o;
			long code = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&o);
			curl_easy_getinfo(o->c, CURLINFO_RESPONSE_CODE, &code);
			if (msg->data.result != CURLE_OK || code != 200 ||
			    strstr(buf_str(&o->resp), "\"rejected\":0") == NULL)
				errors++;
			curl_multi_remove_handle(m, o->c);
			done++;
			if (++o->sent < batches) {
				buf_reset(&o->resp);
				batch(&o->body, o->base + (long)o->sent * size, size,
				    o->wid, o->place);
				curl_easy_setopt(o->c, CURLOPT_POSTFIELDS, o->body.p);
				curl_easy_setopt(o->c, CURLOPT_POSTFIELDSIZE,
				    (long)o->body.len);
				curl_multi_add_handle(m, o->c);
				running++;
			}
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	} while (running > 0 && th_now() - t0 < 600);
	t = th_now() - t0;
	peak = th_proc_kb(srv.pid, "VmHWM:");
	out("| %d clients syncing at once (libcurl multi, %d batches of %d "
	    "each) | %d requests, %d errors; %.0f records/s; %.2f s | server "
	    "RSS %.1f MiB before, peak %.1f MiB | |\n", clients, batches, size,
	    done, errors, (double)clients * batches * size / t, t,
	    rss_before / 1024.0, peak / 1024.0);
	for (i = 0; i < clients; i++) {
		curl_easy_cleanup(v[i].c);
		curl_slist_free_all(v[i].h);
		buf_free(&v[i].body);
		buf_free(&v[i].resp);
	}
	curl_multi_cleanup(m);
	free(v);
}

static void
machine(const char *tmp)
{
	char *cpu = th_slurp("/proc/cpuinfo", NULL), *mem =
	    th_slurp("/proc/meminfo", NULL), *os = th_slurp("/etc/os-release",
	    NULL), *p, model[128] = "unknown", osname[128] = "unknown";
	struct utsname u;
	struct statfs fs;
	char when[64];
	time_t t = time(NULL);

	if (cpu && (p = strstr(cpu, "model name")) != NULL)
		sscanf(strchr(p, ':') + 2, "%127[^\n]", model);
	if (os && (p = strstr(os, "PRETTY_NAME=\"")) != NULL)
		sscanf(p + 13, "%127[^\"]", osname);
	uname(&u);
	statfs(tmp, &fs);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	out("Measured %s on: %s; %ld cores; %ld MiB memory; %s, Linux %s; "
	    "files on a filesystem of type 0x%lx (tmpfs is 0x1021994, ext4 "
	    "0xef53, overlay 0x794c7630). The machine is shared: run it again "
	    "for your own figures (`make bench`).\n\n", when, model,
	    sysconf(_SC_NPROCESSORS_ONLN), mem ? atol(strstr(mem, "MemTotal:") +
	    9) / 1024 : 0, osname, u.release, (unsigned long)fs.f_type);
	free(cpu);
	free(mem);
	free(os);
}

int
main(int argc, char *argv[])
{
	const char *path = "docs/benchmarks.md";
	const char *only = NULL;
	char wtok[64], wid[32], lead[64], eval[64];
	long n_ingest, n_sync, n_total, idle;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
		    (strcmp(argv[i + 1], "ingest") == 0 ||
		    strcmp(argv[i + 1], "sync") == 0))
			only = argv[++i];
		else {
			fprintf(stderr, "usage: pcmds-bench [--quick] "
			    "[--only ingest|sync] [--out FILE]\n");
			return 2;
		}
	}
	n_ingest = quick ? 2000 : 100000;
	n_sync = quick ? 2000 : 100000;
	n_total = quick ? 10000 : 1000000;
	buf_init(&report, 0);
	out("# pcmds benchmarks\n\nWritten by `make bench`%s. Every figure "
	    "comes from real runs on loopback: pcmdsd over TLS with its SQLite "
	    "store (WAL, synchronous=FULL: an acknowledged record is on disk), "
	    "the pcmds binary, libcurl clients. Each figure stands beside the "
	    "limit or target it is judged against; nothing passes or fails on "
	    "time.\n\n", quick ? " (--quick: small sizes)" : "");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	th_server_init(&srv, "rate_per_token = 100000\nauth_failures = 100000\n"
	    "max_connections = 4096\nmax_connections_per_address = 4096\n"
	    "log_requests = no\n");
	machine(srv.dir);
	th_server_start(&srv, NULL);
	idle = th_proc_kb(srv.pid, "VmRSS:");
	/* the deployment's key fingerprint, as a real client would send */
	nhs_key_id(bench_key, keyid);
	worker("BD", wtok, wid);
	snprintf(lead, sizeof(lead), "%s", th_enrol(&srv, th_server_user(&srv,
	    "place_lead", "NH", NULL), NULL));
	snprintf(eval, sizeof(eval), "%s", th_enrol(&srv, th_server_user(&srv,
	    "evaluator", NULL, NULL), NULL));
	out("| What | Measured | Limit or target | Ratio |\n|---|---|---|---|\n");
	out("| Server RSS, idle | %.1f MiB | | |\n", idle / 1024.0);
	if (only == NULL || strcmp(only, "ingest") == 0)
		bench_ingest(wtok, wid, n_ingest);
	if (only == NULL || strcmp(only, "sync") == 0) {
		bench_client(n_sync);
		client_rows();
	}
	if (only != NULL) {
		if (strcmp(only, "sync") == 0)
			client_table();
		th_server_stop(&srv, SIGTERM);
		buf_free(&report);
		return 0;
	}
	bench_kdf();
	/* fill to the stored total, several places, for the queries */
	{
		static const char *const places[] = {"CH", "HV", "NH", "RB",
		    "TH", "WF"};
		long have = n_ingest, each = (n_total - have) / 6, k;
		double rate = 0;

		reset_peak(srv.pid);
		for (k = 0; k < 6 && each > 0; k++) {
			char t[64], w[32];

			worker(places[k], t, w);
			rate += ingest(t, w, places[k], 300000000L + k * 10000000L,
			    each, 500, NULL, NULL);
		}
		out("| Loading %ld more records for the queries (6 places) | "
		    "%.0f records/s | server peak RSS %.1f MiB while loading | |\n",
		    each * 6, rate / 6, th_proc_kb(srv.pid, "VmHWM:") / 1024.0);
	}
	bench_queries(lead, eval, n_total);
	bench_export(eval, n_total);
	bench_concurrency(quick ? 20 : 200, quick ? 2 : 5, 100);
	th_server_stop(&srv, SIGTERM);
	client_table();
	out("\nThe ratio for ingest compares records accepted over TLS (each "
	    "validated, checked against its referral, stored, its referral's "
	    "figures brought up to date, the batch audited, all committed "
	    "durably) with rows merely inserted. The server's CPU time per "
	    "record is printed beside it; to see where it goes, profile the "
	    "ingest loop alone: `perf record -g -- build/bench/pcmds-bench "
	    "--only ingest`. The ingest rate counts the time requests were in "
	    "flight, not the time the benchmark spent making up records.\n"
	    "\nThe query figures are for the stored total shown, spread over "
	    "seven places, five records to a referral; a query reads every "
	    "referral of its places once, so its time grows with the number "
	    "of referrals, not with the number of queries.\n");
	th_write(path, buf_str(&report));
	printf("\nwritten to %s\n", path);
	buf_free(&report);
	return 0;
}

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

/* -- 2. pcmds sync of offline records ------------------------------------- */

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

static void
bench_sync(long n)
{
	const char *home = th_tmpdir();
	struct err_list errs;
	struct cstore *cs;
	struct rec_opts o;
	struct buf b;
	struct th_run r;
	struct rusage ru;
	char db[700], exe[700];
	double t0, t;
	pid_t pid;
	long i;
	int st;
	const char *code;

	code = th_server_user(&srv, "link_worker", "NH", NULL);
	key_file(th_path(home, "k"));
	th_cmd(&r, NULL, "pcmds", "--home", home, "setup", "--key-file",
	    th_path(home, "k"), "--server", srv.url, "--code", code,
	    "--cacert", srv.ca, NULL);
	if (r.status != 0)
		fail_msg("setup: %s", r.err);
	th_run_free(&r);
	/* the device's records, made offline: straight into its store */
	{
		char *cfg = th_slurp(th_path(home, "config"), NULL), wid[32];

		sscanf(strstr(cfg, "worker = ") + 9, "%31s", wid);
		free(cfg);
		snprintf(db, sizeof(db), "%s/pcmds.db", home);
		err_init(&errs);
		assert_int_equal(cstore_open(db, &cs, &errs), PC_OK);
		rec_opts_init(&o, time(NULL));
		buf_init(&b, 0);
		cstore_begin(cs, &errs);
		for (i = 0; i < n; i++) {
			struct rec *rec;

			buf_reset(&b);
			/* record numbers apart from the ingest benchmark's */
			record(&b, (i + 100000000L) / PER_REFERRAL,
			    (int)((i + 100000000L) % PER_REFERRAL), wid, "NH",
			    i + 1);
			if (rec_parse(b.p, b.len, &o, &rec, &errs) != PC_OK)
				fail_msg("generator: %s", errs.v[0].msg);
			cstore_insert(cs, rec, &errs);
			rec_free(rec);
		}
		cstore_commit(cs, &errs);
		cstore_close(cs);
		buf_free(&b);
		err_free(&errs);
	}
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	t0 = th_now();
	if ((pid = fork()) == 0) {
		th_quiet(1);
		execl(exe, "pcmds", "--home", home, "sync", (char *)NULL);
		_exit(127);
	}
	wait4(pid, &st, 0, &ru);
	t = th_now() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("pcmds sync failed");
	out("| pcmds sync of %ld offline records to the server | %.2f s "
	    "(%.0f records/s); client CPU %.2f s user, %.2f s system; client "
	    "peak RSS %.1f MiB | target: 5 s for 100,000 | |\n", n, t,
	    (double)n / t, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    ru.ru_maxrss / 1024.0);
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
	/* counted from the stored records, not the facts: its own line */
	timed_get(lead, "/v1/places/NH/assets", runs / 4 > 0 ? runs / 4 : 1,
	    &p50, &p99, &bytes);
	out("| Take-up per community asset, one place (from its stored "
	    "support records) | p50 %.1f ms, p99 %.1f ms (%zu bytes) | | |\n",
	    p50, p99, bytes);
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

/* -- 5. client command latency ------------------------------------------- */

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

		if ((pid = fork()) == 0) {
			th_quiet(1);
			execv(exe, (char *const *)argv);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		t[i] = (th_now() - t0) * 1000;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("%s %s failed", argv[0], argv[3]);
	}
	m = pct(t, (size_t)runs, 50);
	free(t);
	return m;
}

static void
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
	int runs = quick ? 5 : 30;

	th_cmd(&r, NULL, "pcmds", "keygen", "--out", th_path(home, "k"), NULL);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "setup", "--key-file",
	    th_path(home, "k"), "--worker", "b", "--place", "BD", NULL);
	th_run_free(&r);
	out("| Client command latency (median of %d) | pcmds status %.1f ms, "
	    "pcmds referral %.1f ms (durable: one fsync'd commit) | | |\n",
	    runs, median_run(status, runs), median_run(referral, runs));
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
	if (only == NULL || strcmp(only, "sync") == 0)
		bench_sync(n_sync);
	if (only != NULL) {
		th_server_stop(&srv, SIGTERM);
		buf_free(&report);
		return 0;
	}
	/* fill to the stored total, several places, for the queries */
	{
		static const char *const places[] = {"CH", "HV", "NH", "RB",
		    "TH", "WF"};
		long have = n_ingest + n_sync, each = (n_total - have) / 6, k;
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
	bench_commands();
	th_server_stop(&srv, SIGTERM);
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

/*
 * bench.c - make bench: how fast pcmds is as deployments use it, each
 * figure beside the limit measured in the same run on the same rows,
 * written to docs/benchmarks.md.
 *
 *   pcmds-bench [--quick] [--only SECTION[,SECTION...]] [--out FILE]
 *       [--referrals N] [--ingest-referrals N] [--sync-records N]
 *       [--pg-referrals N]
 *
 * --only runs some sections and prints their figures: the loop to
 * profile a hot path under (perf record -g -- pcmds-bench --only ingest);
 * with --out as well, it writes the report of those sections there.
 *
 * Everything runs for real on loopback: pcmdsd over TLS with its SQLite
 * store, the pcmds binary, libcurl clients, records made as the client
 * makes them. Figures are medians or percentiles of repeated runs;
 * nothing here passes or fails on time, but every answer is checked.
 */
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "bench.h"
#include "nhs.h"
#include "sec.h"
#include "uuid.h"

struct bench_opts bench;
const char *const bench_places[BENCH_PLACES] = {"BD", "CH", "HV", "NH", "RB",
    "TH", "WF"};
char bench_keyid[32];

/* The deployment key every enrolled device of the benchmark holds. */
static const uint8_t bench_key[NHS_KEY_LEN] = {1};

static struct buf table, notes;

/* Each section, in the order make bench runs them. */
static const struct section {
	const char	*name;
	const char	*what;
	void		(*run)(void);
} sections[] = {
	{"ingest", "ingest over TLS in the easy and the realistic order, "
	    "each beside a bare SQLite insert of the same rows", bench_ingest},
	{"pg", "the ingest section's realistic order on PostgreSQL, one and "
	    "three servers, each beside bare PostgreSQL writing the same rows; "
	    "the event loop's latency under ingest", bench_pg},
	{"sync", "pcmds sync of offline records", bench_sync},
	{"vault", "the client's store encrypted beside plain: recording, "
	    "listing, import, sync; the passphrase's scrypt", bench_vault},
	{"queries", "a store of --referrals referrals: its loading, server "
	    "memory, impact queries, headlines, dashboard", bench_queries},
	{"export", "an evaluator's export of that store, beside a bare read "
	    "of the same rows", bench_export},
	{"concurrency", "200 devices syncing at once, on that store",
	    bench_concurrency},
	{"commands", "pcmds command latency", bench_commands},
};
#define NSECTIONS	(sizeof(sections) / sizeof(sections[0]))

/* -- the report ------------------------------------------------------- */

void
bench_row(const char *what, const char *measured, const char *limit,
    const char *ratio)
{
	buf_addf(&table, "| %s | %s | %s | %s |\n", what, measured,
	    limit ? limit : "", ratio ? ratio : "");
	printf("| %s | %s | %s | %s |\n", what, measured, limit ? limit : "",
	    ratio ? ratio : "");
	fflush(stdout);
}

const char *
bench_fmt(const char *fmt, ...)
{
	static char ring[8][1024];
	static int at;
	char *s = ring[at++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	return s;
}

const char *
bench_ratio(double measured, double limit)
{
	return bench_fmt("%.2f of the limit", measured / limit);
}

void
bench_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&notes, fmt, ap);
	va_end(ap);
	buf_adds(&notes, "\n\n");
}

void
bench_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* -- measuring ---------------------------------------------------------- */

pid_t
bench_spawn(const char *path, const char *const argv[], const char *out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
	    O_WRONLY | O_CREAT | O_TRUNC, 0600) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
	    0) != 0)
		fail_msg("posix_spawn_file_actions: out of memory");
	rc = posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		fail_msg("cannot start %s: %s", path, strerror(rc));
	return pid;
}

void
bench_wait(pid_t pid, int *status, struct rusage *ru, long *peak_kb)
{
	pid_t got;
	long kb;

	*peak_kb = 0;
	while ((got = wait4(pid, status, WNOHANG, ru)) == 0) {
		if ((kb = th_proc_kb(pid, "VmHWM:")) > *peak_kb)
			*peak_kb = kb;
		usleep(2000);
	}
	if (got != pid)
		fail_msg("wait4 for process %d: %s", (int)pid, strerror(errno));
}

double
bench_cpu(pid_t pid, double *sys)
{
	char path[64], *s, *p;
	unsigned long ut = 0, st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((s = th_slurp(path, NULL)) == NULL)
		fail_msg("cannot read %s", path);
	/* fields 14 and 15, after the command name in parentheses */
	if ((p = strrchr(s, ')')) == NULL || sscanf(p + 2, "%*c %*d %*d %*d "
	    "%*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		fail_msg("cannot read the CPU times in %s", path);
	free(s);
	*sys = (double)st / (double)sysconf(_SC_CLK_TCK);
	return (double)ut / (double)sysconf(_SC_CLK_TCK);
}

void
bench_peak_reset(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	th_write(path, "5");
}

double
bench_mib(pid_t pid, const char *field)
{
	long kb = th_proc_kb(pid, field);

	if (kb < 0)
		fail_msg("no %s for process %d", field, (int)pid);
	return (double)kb / 1024.0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
bench_pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)ceil(p / 100 * (double)n);
	return v[i == 0 ? 0 : i - 1];
}

/* -- servers -------------------------------------------------------------- */

void
bench_srv_worker(struct bench_srv *b, int p, char token[64], char worker[32])
{
	long id;
	const char *code = th_server_user(&b->s, "link_worker", bench_places[p],
	    &id);

	snprintf(token, 64, "%s", th_enrol(&b->s, code, bench_keyid));
	snprintf(worker, 32, "%c%c-lw%ld", bench_places[p][0] + 32,
	    bench_places[p][1] + 32, id);
}

void
bench_srv_start(struct bench_srv *b)
{
	int p;

	memset(b, 0, sizeof(*b));
	/* limits a deployment keeps, opened for one benchmark client */
	th_server_init(&b->s, "rate_per_token = 100000\nauth_failures = "
	    "100000\nmax_connections = 4096\nmax_connections_per_address = "
	    "4096\nlog_requests = no\n");
	snprintf(b->db, sizeof(b->db), "%s/pcmds.db", b->s.dir);
	th_server_start(&b->s, NULL);
	for (p = 0; p < BENCH_PLACES; p++)
		bench_srv_worker(b, p, b->token[p], b->worker[p]);
	snprintf(b->lead, sizeof(b->lead), "%s", th_enrol(&b->s,
	    th_server_user(&b->s, "place_lead", "NH", NULL), NULL));
	snprintf(b->evaluator, sizeof(b->evaluator), "%s", th_enrol(&b->s,
	    th_server_user(&b->s, "evaluator", NULL, NULL), NULL));
}

void
bench_srv_stop(struct bench_srv *b)
{
	int st = th_server_stop(&b->s, SIGTERM);

	if (st != 0)
		fail_msg("pcmdsd ended with status %d; see %s", st, b->s.log);
}

void
bench_key_file(const char *path)
{
	char hex[2 * NHS_KEY_LEN + 2];

	sec_hex(bench_key, NHS_KEY_LEN, hex);
	strcat(hex, "\n");
	th_write(path, hex);
}

static size_t
sink(char *p, size_t s, size_t n, void *arg)
{
	buf_add(arg, p, s * n);
	return s * n;
}

void
bench_get(struct bench_srv *b, const char *token, const char *path, int runs,
    double *p50, double *p99, size_t *bytes, struct buf *first)
{
	struct curl_slist *h;
	struct buf resp;
	CURL *c = curl_easy_init();
	char url[256], auth[128];
	double *lat = calloc((size_t)runs, sizeof(*lat)), t1;
	long code;
	int i;

	buf_init(&resp, 0);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	h = curl_slist_append(NULL, auth);
	snprintf(url, sizeof(url), "%s%s", b->s.url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, b->s.ca);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
	for (i = 0; i < runs; i++) {
		buf_reset(&resp);
		t1 = th_now();
		if (curl_easy_perform(c) != CURLE_OK)
			fail_msg("GET %s: the transfer failed", path);
		lat[i] = (th_now() - t1) * 1000;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200)
			fail_msg("GET %s: %ld %.300s", path, code,
			    buf_str(&resp));
		if (i == 0 && first != NULL) {
			buf_init(first, 0);
			buf_add(first, resp.p, resp.len);
		}
	}
	*bytes = resp.len;
	*p50 = bench_pct(lat, (size_t)runs, 50);
	*p99 = bench_pct(lat, (size_t)runs, 99);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	buf_free(&resp);
	free(lat);
}

static long
member_long(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

int
bench_all_stored(const char *answer, size_t len, const char *const *ids,
    size_t n, char *why, size_t whylen)
{
	cJSON *root = cJSON_ParseWithLength(answer, len);
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results"),
	    *sum = cJSON_GetObjectItemCaseSensitive(root, "summary"), *r;
	size_t i = 0;
	int bad = -1;

	if (root == NULL || !cJSON_IsArray(res) || !cJSON_IsObject(sum))
		snprintf(why, whylen, "not an answer to a batch: %.200s",
		    answer);
	else if ((size_t)cJSON_GetArraySize(res) != n)
		snprintf(why, whylen, "%d results for %zu records",
		    cJSON_GetArraySize(res), n);
	else if (member_long(sum, "stored") != (long)n ||
	    member_long(sum, "duplicate") != 0 ||
	    member_long(sum, "conflict") != 0 ||
	    member_long(sum, "rejected") != 0)
		snprintf(why, whylen, "summary: stored %ld, duplicate %ld, "
		    "conflict %ld, rejected %ld, of %zu", member_long(sum,
		    "stored"), member_long(sum, "duplicate"), member_long(sum,
		    "conflict"), member_long(sum, "rejected"), n);
	else {
		bad = 0;
		cJSON_ArrayForEach(r, res) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(r,
			    "id"), *st = cJSON_GetObjectItemCaseSensitive(r,
			    "status");

			if (member_long(r, "index") != (long)i ||
			    !cJSON_IsString(id) || strcmp(id->valuestring,
			    ids[i]) != 0 || !cJSON_IsString(st) ||
			    strcmp(st->valuestring, "stored") != 0 ||
			    cJSON_GetObjectItemCaseSensitive(r, "errors") !=
			    NULL) {
				char *p = cJSON_PrintUnformatted(r);

				snprintf(why, whylen, "record %zu (%s): %.300s",
				    i, uuid_short(ids[i]).s, p ? p : "?");
				free(p);
				bad = -1;
				break;
			}
			i++;
		}
	}
	cJSON_Delete(root);
	return bad;
}

/* -- the run ------------------------------------------------------------ */

/* The machine's 1-minute load average: what others ran beside us. */
static double
load_now(void)
{
	double l[1];

	return getloadavg(l, 1) == 1 ? l[0] : -1;
}

/* Where and when: a paragraph for the report. */
static void
machine(struct buf *out)
{
	char *cpu = th_slurp("/proc/cpuinfo", NULL), *mem =
	    th_slurp("/proc/meminfo", NULL), *os = th_slurp("/etc/os-release",
	    NULL), *p, model[128] = "unknown", osname[128] = "unknown";
	const char *tmp = th_tmpdir();
	struct utsname u;
	struct statfs fs;
	char when[64];
	time_t t = time(NULL);

	if (cpu && (p = strstr(cpu, "model name")) != NULL)
		sscanf(strchr(p, ':') + 2, "%127[^\n]", model);
	if (os && (p = strstr(os, "PRETTY_NAME=\"")) != NULL)
		sscanf(p + 13, "%127[^\"]", osname);
	uname(&u);
	if (statfs(tmp, &fs) != 0)
		fs.f_type = 0;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	buf_addf(out, "Measured %s on: %s; %ld cores; %ld MiB memory; %s, Linux %s; "
	    "files on a filesystem of type 0x%lx (tmpfs is 0x1021994, ext4 "
	    "0xef53, overlay 0x794c7630); load average %.1f as it started. "
	    "The machine is shared: run it again "
	    "for your own figures (`make bench`), and compare ratios and CPU "
	    "time per record, which the load of others moves less than "
	    "rates.\n\n", when, model, sysconf(_SC_NPROCESSORS_ONLN),
	    mem ? atol(strstr(mem, "MemTotal:") + 9) / 1024 : 0, osname,
	    u.release, (unsigned long)fs.f_type, load_now());
	free(cpu);
	free(mem);
	free(os);
}

static int
wanted(const char *only, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (only == NULL)
		return 1;
	for (p = only; (p = strstr(p, name)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == '\0' ||
		    p[n] == ','))
			return 1;
	return 0;
}

/* 1 when a name in the list is no section's. */
static int
unknown(const char *only)
{
	const char *p = only;
	size_t i, n;

	while (*p != '\0') {
		n = strcspn(p, ",");
		for (i = 0; i < NSECTIONS; i++)
			if (strlen(sections[i].name) == n &&
			    strncmp(sections[i].name, p, n) == 0)
				break;
		if (i == NSECTIONS)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

static int
usage(int rc)
{
	size_t i;

	fprintf(rc ? stderr : stdout, "usage: pcmds-bench [--quick] [--only SECTION[,...]] "
	    "[--out FILE]\n    [--referrals N] [--ingest-referrals N] "
	    "[--sync-records N]\n    [--pg-referrals N]\nsections:\n");
	for (i = 0; i < NSECTIONS; i++)
		fprintf(rc ? stderr : stdout, "  %-12s %s\n",
		    sections[i].name, sections[i].what);
	return rc;
}

static int
number(const char *s, long *out)
{
	char *end;

	*out = strtol(s, &end, 10);
	return *end == '\0' && *out > 0 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	const char *path = NULL, *only = NULL;
	struct buf doc, took, where;
	double t0;
	size_t i;
	int a;

	/* SQLite as pcmdsd sets it up (store_sqlite.c), for the limits */
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		fail_msg("SQLite used before it was configured");
	bench.ingest_refs = 40000;
	bench.refs = 1000000;
	bench.sync_recs = 100000;
	bench.pg_refs = 40000;
	for (a = 1; a < argc; a++) {
		long *n = NULL;

		if (strcmp(argv[a], "--quick") == 0) {
			bench.quick = 1;
			bench.ingest_refs = 300;
			bench.refs = 2000;
			bench.sync_recs = 2000;
			bench.pg_refs = 300;
		} else if (strcmp(argv[a], "--out") == 0 && a + 1 < argc)
			path = argv[++a];
		else if (strcmp(argv[a], "--help") == 0)
			return usage(0);
		else if (strcmp(argv[a], "--only") == 0 && a + 1 < argc)
			only = argv[++a];
		else if (strcmp(argv[a], "--referrals") == 0)
			n = &bench.refs;
		else if (strcmp(argv[a], "--ingest-referrals") == 0)
			n = &bench.ingest_refs;
		else if (strcmp(argv[a], "--sync-records") == 0)
			n = &bench.sync_recs;
		else if (strcmp(argv[a], "--pg-referrals") == 0)
			n = &bench.pg_refs;
		else
			return usage(2);
		if (n != NULL && (a + 1 >= argc || number(argv[++a], n) != 0))
			return usage(2);
	}
	if (only != NULL && unknown(only))
		return usage(2);
	bench.runs = bench.quick ? 20 : 200;
	buf_init(&table, 0);
	buf_init(&notes, 0);
	buf_init(&doc, 0);
	buf_init(&took, 0);
	buf_init(&where, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	nhs_key_id(bench_key, bench_keyid);
	machine(&where);
	fputs(buf_str(&where), stdout);
	for (i = 0; i < NSECTIONS; i++) {
		if (!wanted(only, sections[i].name))
			continue;
		bench_say("%s: %s", sections[i].name, sections[i].what);
		t0 = th_now();
		sections[i].run();
		buf_addf(&took, "%s%s %.0f s", took.len ? ", " : "",
		    sections[i].name, th_now() - t0);
	}
	bench_store_done();
	printf("\nTime each section took: %s.\n", buf_str(&took));
	if (only != NULL && path == NULL) {
		buf_free(&table);
		buf_free(&notes);
		buf_free(&doc);
		buf_free(&took);
		buf_free(&where);
		return 0;
	}
	buf_addf(&doc, "# pcmds benchmarks\n\nWritten by `make bench`%s: "
	    "every figure comes from real runs on loopback — pcmdsd over TLS "
	    "with its SQLite store (WAL, synchronous=FULL: an acknowledged "
	    "record is on disk) and, in a section of its own, on PostgreSQL "
	    "(fsync and synchronous_commit on), the pcmds binary, records "
	    "made as the "
	    "client makes them (time-ordered version 7 ids, as the client's "
	    "own function makes them) and sent "
	    "gzipped as it sends them, every answer checked. Each figure "
	    "stands beside the limit or target it is judged against, the "
	    "limit measured in the same run on the same rows; nothing passes "
	    "or fails on time.\n\n", bench.quick ? " (--quick: small sizes)" :
	    "");
	buf_adds(&doc, buf_str(&where));
	buf_addf(&doc, "| What | Measured | Limit or target | Ratio |\n"
	    "|---|---|---|---|\n%s\n%sMade with `pcmds-bench%s%s --referrals "
	    "%ld --ingest-referrals %ld --sync-records %ld --pg-referrals "
	    "%ld`; each section took: %s; load average %.1f as it ended.\n",
	    buf_str(&table), buf_str(&notes), only ? " --only " : "",
	    only ? only : "", bench.refs, bench.ingest_refs, bench.sync_recs,
	    bench.pg_refs, buf_str(&took), load_now());
	if (path == NULL)
		path = "docs/benchmarks.md";
	th_write(path, buf_str(&doc));
	printf("\nwritten to %s\n", path);
	buf_free(&table);
	buf_free(&notes);
	buf_free(&doc);
	buf_free(&took);
	buf_free(&where);
	return 0;
}

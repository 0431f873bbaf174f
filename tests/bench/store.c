/*
 * store.c - the sections that need a deployment's worth of records: a
 * store of --referrals referrals (1,000,000 by default: about 5 million
 * records, a year of England's social prescribing in one deployment),
 * loaded through the real ingest path over TLS and then queried,
 * exported and synced to by many devices at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "bench.h"
#include "caseload.h"
#include "limit.h"
#include "map.h"
#include "net.h"
#include "sec.h"

static struct {
	struct bench_srv	 srv;
	int			 up;
	long			 refs, recs;	/* loaded */
	long			 exported[BENCH_PLACES]; /* records an
						   export of the place lists */
} big;

/* What ingest was sent, to hold the direct writer to: see check_rows(). */
struct sent {
	char	 id[UUID_LEN], referral[UUID_LEN];
	uint8_t	 kind, p;
	uint8_t	 digest[SEC_SHA256_LEN];
};

static struct {
	struct sent	*v;
	size_t		 n, cap;
} sent;

/* One record of the caseload as made: its text in b. */
static void
text_of(const struct caseload *cl, size_t r, struct buf *b)
{
	int p = cl->refs[cl->recs[r].ref].dev;

	buf_reset(b);
	caseload_json(cl, r, big.srv.worker[p], bench_places[p], b);
	if (buf_failed(b) != PC_OK)
		fail_msg("store: out of memory");
}

/* One batch of the order through ingest, each record checked stored. */
static void
ingest_batch(struct net *net, const struct caseload *cl,
    const struct cl_order *o, const struct cl_batch *b, struct buf *body)
{
	static const char *idp[BENCH_BATCH];
	struct net_resp resp;
	struct err_list errs;
	struct buf rec;
	char why[512];
	size_t j;

	err_init(&errs);
	buf_init(&rec, 0);
	buf_reset(body);
	buf_adds(body, "{\"records\":[");
	for (j = 0; j < b->n; j++) {
		size_t r = o->order[b->first + j];
		const struct cl_rec *x = &cl->recs[r];
		const struct cl_life *l = &cl->refs[x->ref];
		struct sent *e;

		if (sent.n == sent.cap) {
			sent.cap = sent.cap ? sent.cap * 2 : 4096;
			if ((sent.v = realloc(sent.v, sent.cap *
			    sizeof(*sent.v))) == NULL)
				fail_msg("store: out of memory");
		}
		text_of(cl, r, &rec);
		e = &sent.v[sent.n++];
		memcpy(e->id, x->id, UUID_LEN);
		memcpy(e->referral, cl->recs[l->rec[0]].id, UUID_LEN);
		e->kind = l->ev[x->ev].kind;
		e->p = (uint8_t)b->dev;
		sec_sha256(rec.p, rec.len, e->digest);
		buf_adds(body, j ? "," : "");
		buf_add(body, rec.p, rec.len);
		idp[j] = x->id;
	}
	buf_adds(body, "]}");
	if (buf_failed(body) != PC_OK)
		fail_msg("store: out of memory");
	if (net_request(net, "POST", "/v1/records", big.srv.token[b->dev],
	    body->p, body->len, 0, &resp, &errs) != PC_OK)
		fail_msg("store: %s", errs.v[0].msg);
	if (resp.status != 200 || bench_all_stored(resp.body.p, resp.body.len,
	    idp, b->n, why, sizeof(why)) != 0)
		fail_msg("store: HTTP %ld: %s", resp.status, resp.status ==
		    200 ? why : buf_str(&resp.body));
	net_resp_free(&resp);
	err_free(&errs);
	buf_free(&rec);
}

static void
sql_check(sqlite3 *db, int rc, int want, const char *what)
{
	if (rc != want)
		fail_msg("store: %s: %s", what, sqlite3_errmsg(db));
}

/*
 * The records ingest stored are the rows the direct writer would have
 * written: the same columns, the content hash that of the very text
 * sent (so the text is the canonical form ingest stores).
 */
static void
check_rows(const char *path, const int64_t *user)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	size_t i;

	sql_check(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK, path);
	sql_check(db, sqlite3_prepare_v2(db, "SELECT referral, kind, place, "
	    "worker, hash, user_id FROM records WHERE id = ?", -1, &s, NULL),
	    SQLITE_OK, "prepare");
	for (i = 0; i < sent.n; i++) {
		const struct sent *x = &sent.v[i];

		sqlite3_bind_text(s, 1, x->id, -1, SQLITE_STATIC);
		sql_check(db, sqlite3_step(s), SQLITE_ROW, x->id);
		if (strcmp((const char *)sqlite3_column_text(s, 0),
		    x->referral) != 0 ||
		    strcmp((const char *)sqlite3_column_text(s, 1),
		    cl_kind_name(x->kind)) != 0 ||
		    strcmp((const char *)sqlite3_column_text(s, 2),
		    bench_places[x->p]) != 0 ||
		    strcmp((const char *)sqlite3_column_text(s, 3),
		    big.srv.worker[x->p]) != 0 ||
		    sqlite3_column_bytes(s, 4) != SEC_SHA256_LEN ||
		    memcmp(sqlite3_column_blob(s, 4), x->digest,
		    SEC_SHA256_LEN) != 0 ||
		    sqlite3_column_int64(s, 5) != user[x->p])
			fail_msg("store: ingest stored record %s otherwise than "
			    "the direct writer writes it: update store.c's "
			    "writer to the store's schema", x->id);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* SHA-256 over the facts of the referrals ingest was sent, in id order. */
static void
facts_digest(const char *path, const struct map *refs, uint8_t out[32])
{
	struct sec_sha256 h;
	sqlite3 *db;
	sqlite3_stmt *s;
	long n = 0;
	int rc;

	sql_check(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK, path);
	sql_check(db, sqlite3_prepare_v2(db, "SELECT referral, data FROM facts "
	    "ORDER BY referral", -1, &s, NULL), SQLITE_OK, "prepare");
	if (sec_sha256_begin(&h) != PC_OK)
		fail_msg("store: no SHA-256");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(s, 0);

		if (map_get(refs, r) == NULL)
			continue;
		sec_sha256_add(&h, r, strlen(r) + 1);
		sec_sha256_add(&h, sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1));
		n++;
	}
	sql_check(db, rc, SQLITE_DONE, "reading facts");
	if (n != (long)refs->n)
		fail_msg("store: %ld facts for %zu referrals", n, refs->n);
	sec_sha256_end(&h, out);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* Writes records as ingest stores them, the server stopped. */
struct direct {
	sqlite3		*db;
	sqlite3_stmt	*ins;
	int64_t		 user[BENCH_PLACES];
	int64_t		 now;
	long		 n;
};

static void
direct_open(struct direct *d, const char *path)
{
	sqlite3_stmt *s;
	int p;

	memset(d, 0, sizeof(*d));
	d->now = (int64_t)time(NULL);
	sql_check(NULL, sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK, path);
	/* what is written does not depend on these: only how fast */
	sql_check(d->db, sqlite3_exec(d->db, "PRAGMA journal_mode=WAL; "
	    "PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; BEGIN", NULL,
	    NULL, NULL), SQLITE_OK, "pragmas");
	sql_check(d->db, sqlite3_prepare_v2(d->db, "SELECT id FROM users "
	    "WHERE worker = ?", -1, &s, NULL), SQLITE_OK, "prepare");
	for (p = 0; p < BENCH_PLACES; p++) {
		sqlite3_bind_text(s, 1, big.srv.worker[p], -1, SQLITE_STATIC);
		sql_check(d->db, sqlite3_step(s), SQLITE_ROW, big.srv.worker[p]);
		d->user[p] = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	/* the store's own statement, with no audit entry to name */
	sql_check(d->db, sqlite3_prepare_v2(d->db, "INSERT INTO records(id, "
	    "referral, kind, place, worker, hash, json, user_id, received, "
	    "audit_seq) VALUES (?,?,?,?,?,?,?,?,?,NULL)", -1, &d->ins, NULL),
	    SQLITE_OK, "prepare");
}

static void
direct_put(struct direct *d, const struct caseload *cl, size_t r,
    struct buf *text)
{
	const struct cl_rec *x = &cl->recs[r];
	const struct cl_life *l = &cl->refs[x->ref];
	uint8_t digest[SEC_SHA256_LEN];
	int p = l->dev;

	text_of(cl, r, text);
	sec_sha256(text->p, text->len, digest);
	sqlite3_bind_text(d->ins, 1, x->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(d->ins, 2, cl->recs[l->rec[0]].id, -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(d->ins, 3, cl_kind_name(l->ev[x->ev].kind), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(d->ins, 4, bench_places[p], -1, SQLITE_STATIC);
	sqlite3_bind_text(d->ins, 5, big.srv.worker[p], -1, SQLITE_STATIC);
	sqlite3_bind_blob(d->ins, 6, digest, SEC_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_text(d->ins, 7, text->p, (int)text->len, SQLITE_STATIC);
	sqlite3_bind_int64(d->ins, 8, d->user[p]);
	sqlite3_bind_int64(d->ins, 9, d->now);
	sql_check(d->db, sqlite3_step(d->ins), SQLITE_DONE, "insert");
	sqlite3_reset(d->ins);
	if (++d->n % 100000 == 0)
		sql_check(d->db, sqlite3_exec(d->db, "COMMIT; BEGIN", NULL,
		    NULL, NULL), SQLITE_OK, "commit");
}

static void
direct_close(struct direct *d)
{
	sqlite3_finalize(d->ins);
	/* facts are computed again, by pcmdsd, when it next starts */
	sql_check(d->db, sqlite3_exec(d->db, "DELETE FROM meta WHERE key = "
	    "'fact_version'; COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL,
	    NULL, NULL), SQLITE_OK, "commit");
	sql_check(d->db, sqlite3_close(d->db), SQLITE_OK, "close");
}

/*
 * Loads the store in the order devices sync what they made (caseload.h:
 * cl_order_realistic, ids as the client makes them), so a referral's
 * records lie as a deployment's do, weeks apart among everyone else's:
 * the first batches through the real ingest path over TLS, then the rest
 * written straight into the stopped server's database as ingest writes
 * them, and their facts computed by pcmdsd itself when it starts again.
 * Both halves are held to each other: ingest must have stored exactly
 * the rows the writer writes, and the facts pcmdsd computes at start
 * must be those ingest computed, for every referral all of whose records
 * went through ingest (in that order a referral's follow-ups come in
 * later batches, so ingest's facts are those of a referral updated
 * batch after batch).
 */
static void
fill(const struct caseload *cl, double *t_ingest, double *t_direct,
    double *t_start, long *n_ingest)
{
	struct err_list errs;
	struct cl_order o;
	struct direct d;
	struct buf text;
	struct net net;
	struct map whole;
	uint8_t before[32], after[32];
	size_t through = cl->nrecs / 10 < 100000 ? cl->nrecs / 10 : 100000,
	    i, j, k, *in;
	double t0;

	err_init(&errs);
	map_init(&whole);
	buf_init(&text, 0);
	if (cl_order_realistic(cl, BENCH_BATCH, &o) != PC_OK ||
	    (in = calloc(cl->nrefs ? cl->nrefs : 1, sizeof(*in))) == NULL)
		fail_msg("store: out of memory");
	if (net_init(&net, big.srv.s.url, big.srv.s.ca, &errs) != PC_OK)
		fail_msg("store: %s", errs.v[0].msg);
	t0 = th_now();
	for (i = 0; i < o.nb && o.b[i].first < through; i++) {
		ingest_batch(&net, cl, &o, &o.b[i], &text);
		for (j = 0; j < o.b[i].n; j++)
			in[cl->recs[o.order[o.b[i].first + j]].ref]++;
	}
	net_free(&net);
	*n_ingest = i < o.nb ? (long)o.b[i].first : (long)cl->nrecs;
	*t_ingest = th_now() - t0;
	for (k = 0; k < cl->nrefs; k++)
		if (in[k] > 0 && in[k] == (size_t)cl->refs[k].n &&
		    map_put(&whole, cl->recs[cl->refs[k].rec[0]].id,
		    &whole) != PC_OK)
			fail_msg("store: out of memory");
	if (whole.n == 0)
		fail_msg("store: no referral went whole through ingest");
	bench_srv_stop(&big.srv);
	direct_open(&d, big.srv.db);
	check_rows(big.srv.db, d.user);
	facts_digest(big.srv.db, &whole, before);
	t0 = th_now();
	for (j = (size_t)*n_ingest; j < cl->nrecs; j++) {
		direct_put(&d, cl, o.order[j], &text);
		if (j % 500000 == 499999)
			bench_say("store: %zu records", j + 1);
	}
	direct_close(&d);
	*t_direct = th_now() - t0;
	t0 = th_now();
	th_server_start_within(&big.srv.s, NULL, 3600);
	*t_start = th_now() - t0;
	facts_digest(big.srv.db, &whole, after);
	if (memcmp(before, after, sizeof(before)) != 0)
		fail_msg("store: the facts pcmdsd computed at start differ from "
		    "those ingest computed for the same referrals");
	buf_free(&text);
	map_free(&whole);
	free(in);
	cl_order_free(&o);
	free(sent.v);
	memset(&sent, 0, sizeof(sent));
	err_free(&errs);
}

/* The store, loaded on first use. */
static struct bench_srv *
store(void)
{
	struct caseload cl;
	double t0, t, ti = 0, td = 0, ts = 0, idle;
	long ni = 0;
	size_t k;

	if (big.up)
		return &big.srv;
	bench_srv_start(&big.srv);
	big.up = 1;
	idle = bench_mib(big.srv.s.pid, "VmRSS:");
	bench_row("Server RSS, idle", bench_fmt("%.1f MiB", idle), NULL, NULL);
	t0 = th_now();
	/* device d is place d's, as in the ingest section */
	if (caseload_make(&cl, (size_t)bench.refs, BENCH_PLACES, BENCH_SEED + 1,
	    0) != PC_OK)
		fail_msg("store: cannot make the caseload");
	for (k = 0; k < cl.nrefs; k++)
		big.exported[cl.refs[k].dev] += cl_life_exported(&cl.refs[k]);
	big.refs = (long)cl.nrefs;
	big.recs = (long)cl.nrecs;
	fill(&cl, &ti, &td, &ts, &ni);
	caseload_free(&cl);
	t = th_now() - t0;
	bench_row(bench_fmt("Loading the store for the queries: %ld referrals, "
	    "%ld records, 7 places", big.refs, big.recs), bench_fmt("%.0f s: "
	    "the first %ld records as devices sync them through ingest over "
	    "TLS in %.0f s, the rest in the same order written as ingest "
	    "writes them in %.0f s, facts computed by pcmdsd as it started in "
	    "%.0f s", t, ni, ti, td, ts), NULL, NULL);
	bench_row(bench_fmt("Server RSS with %ld referrals (%ld records) stored",
	    big.refs, big.recs), bench_fmt("%.1f MiB, just started",
	    bench_mib(big.srv.s.pid, "VmRSS:")), "target: under 64 MiB with "
	    "1,000,000 referrals", NULL);
	bench_note("**The store** the queries, the export and the concurrent "
	    "devices run on: %ld referrals (%ld records) over two years, "
	    "spread over the seven places, made by the same generator as the "
	    "ingest records (`--referrals N` sets how many) and stored in the "
	    "order devices sync them, as in the ingest section's realistic "
	    "order (each device every few days, in batches of at most %d, "
	    "ids as the client makes them: version 7 of the moment each "
	    "record was made), so a referral's records lie weeks apart among "
	    "everyone else's, as in a deployment. The first batches are "
	    "loaded through the real ingest path over TLS (uncompressed, "
	    "every answer checked); the rest are written straight into the "
	    "stopped server's database as ingest writes them (canonical text, "
	    "its SHA-256, the same columns; no audit entries, which no figure "
	    "here reads), and pcmdsd computes their facts with its own code "
	    "when it starts again, as it does after an upgrade. The two are "
	    "held to each other on every run: the rows ingest stored must be "
	    "exactly those the writer writes, and the facts pcmdsd computes "
	    "at start exactly those ingest computed, batch after batch, for "
	    "the referrals all of whose records went through ingest; and the "
	    "evaluator's unsuppressed impact must count every referral.",
	    big.refs, big.recs, BENCH_BATCH);
	return &big.srv;
}

void
bench_store_done(void)
{
	if (!big.up)
		return;
	bench_srv_stop(&big.srv);
	big.up = 0;
}

/* -- queries ---------------------------------------------------------- */

static void
query(struct bench_srv *s, const char *token, const char *what,
    const char *path, int runs, const char *target, const char *want)
{
	double p50, p99;
	size_t bytes;
	struct buf first;

	bench_get(s, token, path, runs, &p50, &p99, &bytes, &first);
	if (want != NULL && strstr(buf_str(&first), want) == NULL)
		fail_msg("GET %s: no %s in %.300s", path, want, buf_str(&first));
	buf_free(&first);
	bench_row(what, bench_fmt("p50 %.1f ms, p99 %.1f ms (%zu bytes)", p50,
	    p99, bytes), target, NULL);
}

void
bench_queries(void)
{
	struct bench_srv *s = store();
	const cJSON *v;
	struct buf b;
	double p50, p99;
	size_t bytes;
	cJSON *j;

	query(s, s->lead, "Impact query, one place (a place lead's)",
	    "/v1/places/NH/impact", bench.runs, "target: p99 under 20 ms with "
	    "1,000,000 referrals", "\"ons4\"");
	query(s, s->evaluator, "Impact query, all places, by ethnic group (an "
	    "evaluator's)", "/v1/places/ALL/impact?group_by=ethnic_group",
	    bench.runs, "target: p99 under 20 ms with 1,000,000 referrals",
	    "\"ons4\"");
	/* once more without disclosure control: it must count them all */
	bench_get(s, s->evaluator, "/v1/places/ALL/impact?suppress=false", 1,
	    &p50, &p99, &bytes, &b);
	j = th_json(buf_str(&b));
	if ((v = th_at(j, "reach.referrals")) == NULL || !cJSON_IsNumber(v) ||
	    (long)v->valuedouble != big.refs)
		fail_msg("queries: the store's %ld referrals are not all "
		    "counted: %.300s", big.refs, buf_str(&b));
	cJSON_Delete(j);
	buf_free(&b);
	query(s, s->lead, "Take-up per community asset, one place (a place "
	    "lead's; its take-up rows read from the store)",
	    "/v1/places/NH/assets", bench.runs, NULL, "\"assets\"");
	query(s, s->lead, "Every place's headline (GET /v1/places)",
	    "/v1/places", bench.runs, NULL, "\"places\"");
	query(s, s->lead, "Dashboard render (HTML, SVG, every place)",
	    "/dashboard", bench.runs / 2, NULL, "<svg");
	bench_row(bench_fmt("Server RSS after the queries (%ld referrals)",
	    big.refs), bench_fmt("%.1f MiB; peak since loading %.1f MiB",
	    bench_mib(s->s.pid, "VmRSS:"), bench_mib(s->s.pid, "VmHWM:")),
	    "target: under 64 MiB with 1,000,000 referrals", NULL);
	bench_note("**Queries** are timed over keep-alive HTTPS, %d times each "
	    "(the dashboard half as often), from the request to the last "
	    "byte of the answer; every answer must be 200. A query adds up "
	    "the whole months it covers from sums the server keeps per place "
	    "and month (and per group, for a dimension once broken down by, "
	    "with the person numbers of the group's referrals, from which a "
	    "query by group takes its distinct people), and reads every "
	    "referral of its places once for the distinct people and the "
	    "months it covers in part (by group, only the referrals of those "
	    "months), that pass shared by one thread per core, so its time "
	    "grows with the referrals stored, not with the queries made. The "
	    "quantiles of "
	    "the intervals (Student t, exact Poisson) are kept by the server "
	    "once worked out: the same query asked again, as here, does not "
	    "work them out again.", bench.runs);
}

/* -- export ----------------------------------------------------------- */

static size_t
count_lines(char *p, size_t s, size_t n, void *arg)
{
	long *lines = arg;
	size_t i;

	for (i = 0; i < s * n; i++)
		*lines += p[i] == '\n';
	return s * n;
}

#define EXPORT_PLACE	3	/* NH */

/*
 * MiB a process has had read from the disk itself, not found in the
 * page cache (/proc/PID/io): an export's reader waits on each such read,
 * so the same code is slower when the machine has let the store's pages
 * go, and this tells that apart from a slower server.
 */
static double
disk_read_mib(pid_t pid)
{
	char path[64], *s, *p;
	double mib;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((s = th_slurp(path, NULL)) == NULL ||
	    (p = strstr(s, "\nread_bytes: ")) == NULL)
		fail_msg("cannot read the bytes read in %s", path);
	mib = strtod(p + 13, NULL) / (1024.0 * 1024.0);
	free(s);
	return mib;
}

void
bench_export(void)
{
	struct bench_srv *s = store();
	struct curl_slist *h;
	CURL *c = curl_easy_init();
	char url[256], auth[128];
	long lines = 0, code = 0, rows;
	double t0, t, before, peak, u0, s0, u1, s1, lt, d0, d1;
	curl_off_t bytes;
	CURLcode cc;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->evaluator);
	h = curl_slist_append(NULL, auth);
	snprintf(url, sizeof(url), "%s/v1/export?place=%s", s->s.url,
	    bench_places[EXPORT_PLACE]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, s->s.ca);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_lines);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &lines);
	before = bench_mib(s->s.pid, "VmRSS:");
	bench_peak_reset(s->s.pid);
	u0 = bench_cpu(s->s.pid, &s0);
	d0 = disk_read_mib(s->s.pid);
	t0 = th_now();
	cc = curl_easy_perform(c);
	t = th_now() - t0;
	u1 = bench_cpu(s->s.pid, &s1);
	d1 = disk_read_mib(s->s.pid);
	peak = bench_mib(s->s.pid, "VmHWM:");
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	/* a cut stream fails the transfer; a whole one lists every record */
	if (cc != CURLE_OK || code != 200)
		fail_msg("export: %s, HTTP %ld", curl_easy_strerror(cc), code);
	if (lines != big.exported[EXPORT_PLACE])
		fail_msg("export: %ld records, expected %ld", lines,
		    big.exported[EXPORT_PLACE]);
	lt = limit_export_read(s->db, bench_places[EXPORT_PLACE], &rows);
	bench_row(bench_fmt("Export, NDJSON, every consented record of a place "
	    "(%ld records; %ld stored in all)", lines, big.recs),
	    bench_fmt("%.0f records/s (%.2f s, %.1f MB/s); server CPU a record "
	    "%.1f us user + %.1f us system; server peak RSS growth %.1f MiB; "
	    "read from the disk, not the page cache: %.1f MiB",
	    (double)lines / t, t, (double)bytes / t / 1e6, (u1 - u0) * 1e6 /
	    (double)lines, (s1 - s0) * 1e6 / (double)lines, peak - before,
	    d1 - d0),
	    bench_fmt("bare SQLite read of the same referrals' records with "
	    "the store's statements: %.2f s (%.0f rows/s); targets: 350,000 "
	    "records/s, growth under 16 MiB", lt, (double)rows / lt),
	    bench_ratio(lt, t));
	bench_note("**Export** streams every consented, non-voided record of "
	    "one place (%s, a seventh of the store) to an evaluator, re-keyed "
	    "for them with times cut to the day, over HTTPS; the stream must "
	    "end whole and hold exactly the records the generator made for "
	    "that place's consented referrals. Memory growth is the server's "
	    "peak resident set during the export over its resident set "
	    "before. What the server read from the disk itself (pages no "
	    "longer in the page cache) the export waited for, as it waits for "
	    "cores that other work holds: neither shows in its CPU a record, "
	    "and either makes the same code slower. Its limit reads the same rows (every record of the same "
	    "referrals, in the same order, with the store's own two "
	    "statements) from the same database and does nothing with them; "
	    "the ratio is its time over the export's.",
	    bench_places[EXPORT_PLACE]);
}

/* -- many devices at once --------------------------------------------- */

struct one {
	CURL			*c;
	struct curl_slist	*h;
	struct buf		 body, resp;
	char			 token[64], wid[32];
	char			 (*ids)[UUID_LEN];
	const char		 **idp;
	size_t			 n;
	int			 p, sent;
	int64_t			 seq;
	uint64_t		 next;		/* referral number */
};

/* A batch of whole referrals, at most size records. */
static void
one_batch(struct one *o, int size)
{
	struct cl_life l;
	int i, t;

	buf_reset(&o->body);
	buf_adds(&o->body, "{\"records\":[");
	for (o->n = 0;;) {
		cl_life_make(&l, BENCH_SEED + 2, o->next, (int32_t)(o->next %
		    CL_DAYS), o->p, CL_DAYS - 1);
		if (o->n + (size_t)l.n > (size_t)size)
			break;
		o->next++;
		for (i = 0; i < l.n; i++)
			if (uuid_record(o->ids[o->n + (size_t)i]) != PC_OK)
				fail_msg("concurrency: no ids");
		for (i = 0; i < l.n; i++) {
			t = l.ev[i].target;
			buf_adds(&o->body, o->n ? "," : "");
			cl_json(&o->body, &l, i, o->ids[o->n], o->ids[o->n -
			    (size_t)i], t >= 0 ? o->ids[o->n - (size_t)i +
			    (size_t)t] : NULL, ++o->seq, o->wid,
			    bench_places[o->p]);
			o->idp[o->n] = o->ids[o->n];
			o->n++;
		}
	}
	buf_adds(&o->body, "]}");
	curl_easy_setopt(o->c, CURLOPT_POSTFIELDS, o->body.p);
	curl_easy_setopt(o->c, CURLOPT_POSTFIELDSIZE, (long)o->body.len);
}

static size_t
sink(char *p, size_t s, size_t n, void *arg)
{
	buf_add(arg, p, s * n);
	return s * n;
}

static void
one_start(struct bench_srv *s, struct one *o, int i)
{
	char url[128], auth[128];

	o->p = i % BENCH_PLACES;
	bench_srv_worker(s, o->p, o->token, o->wid);
	buf_init(&o->body, 0);
	buf_init(&o->resp, 0);
	o->ids = calloc(128, sizeof(*o->ids));
	o->idp = calloc(128, sizeof(*o->idp));
	if (o->ids == NULL || o->idp == NULL)
		fail_msg("concurrency: out of memory");
	o->next = 300000000ULL + (uint64_t)i * 1000000ULL;
	o->c = curl_easy_init();
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
	o->h = curl_slist_append(NULL, auth);
	o->h = curl_slist_append(o->h, "Content-Type: application/json");
	o->h = curl_slist_append(o->h, "Expect:");
	snprintf(url, sizeof(url), "%s/v1/records", s->s.url);
	curl_easy_setopt(o->c, CURLOPT_URL, url);
	curl_easy_setopt(o->c, CURLOPT_CAINFO, s->s.ca);
	curl_easy_setopt(o->c, CURLOPT_HTTPHEADER, o->h);
	curl_easy_setopt(o->c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(o->c, CURLOPT_WRITEDATA, &o->resp);
	curl_easy_setopt(o->c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(o->c, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(o->c, CURLOPT_PRIVATE, o);
}

void
bench_concurrency(void)
{
	struct bench_srv *s = store();
	int clients = bench.quick ? 20 : 200, batches = bench.quick ? 2 : 5,
	    size = 100, i, running, errors = 0, done = 0;
	struct one *v = calloc((size_t)clients, sizeof(*v));
	CURLM *m = curl_multi_init();
	long records = 0;
	double t0, t, before;
	char why[512] = "";

	if (v == NULL)
		fail_msg("concurrency: out of memory");
	for (i = 0; i < clients; i++)
		one_start(s, &v[i], i);
	before = bench_mib(s->s.pid, "VmRSS:");
	bench_peak_reset(s->s.pid);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)clients);
	t0 = th_now();
	for (i = 0; i < clients; i++) {
		one_batch(&v[i], size);
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
			    bench_all_stored(o->resp.p, o->resp.len, o->idp,
			    o->n, why, sizeof(why)) != 0)
				errors++;
			else
				records += (long)o->n;
			curl_multi_remove_handle(m, o->c);
			done++;
			buf_reset(&o->resp);
			if (++o->sent < batches) {
				one_batch(o, size);
				curl_multi_add_handle(m, o->c);
				running++;
			}
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	} while (running > 0 && th_now() - t0 < 600);
	t = th_now() - t0;
	if (errors > 0)
		fail_msg("concurrency: %d of %d requests failed; one: %s",
		    errors, done, why);
	big.recs += records;
	bench_row(bench_fmt("%d devices syncing at once (libcurl multi, %d "
	    "batches of whole referrals, up to %d records, each)", clients,
	    batches, size), bench_fmt("%d requests, %d errors; %.0f records/s; "
	    "%.2f s", done, errors, (double)records / t, t), bench_fmt("server "
	    "RSS %.1f MiB before, peak %.1f MiB", before,
	    bench_mib(s->s.pid, "VmHWM:")), NULL);
	for (i = 0; i < clients; i++) {
		curl_easy_cleanup(v[i].c);
		curl_slist_free_all(v[i].h);
		buf_free(&v[i].body);
		buf_free(&v[i].resp);
		free(v[i].ids);
		free(v[i].idp);
	}
	curl_multi_cleanup(m);
	free(v);
}

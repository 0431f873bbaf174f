/*
 * test_cluster.c - several pcmdsd on one PostgreSQL database.
 *
 * The races are driven for real: the test holds a referral's lock row
 * from a session of its own, sends the two conflicting batches to two
 * servers, waits until PostgreSQL shows both waiting, and lets go; the
 * rules must come out as one server's would (one closure, nothing after
 * it, one record per id). A figures query naming a watermark waits until
 * that commit is in, including one that committed after a later one
 * (which a "highest id seen" catch-up would skip). A server's catch-up
 * leaves out only the facts it applied itself: not another server's,
 * nor its own of a commit it never heard succeed; and its own commit's
 * facts are read back when a catch-up overlapped it, or another own
 * commit did (the orders forced by pauses in the server). A statement
 * failing in one of a batch's pipelines fails it whole. The event loop
 * answers while a worker waits on the database. Failed logins are
 * counted across servers, and a user's failed passwords. Places and
 * denominators an administrator imports reach every server, a new
 * place too, and stay when nothing changed them. Exports
 * read from a streaming replica when export_database names one (shown
 * by pausing its replay). The cluster
 * behind HAProxy is test_haproxy.c.
 *
 * No timing is asserted: every wait is for a condition, with a bound
 * only so that a broken server fails the test instead of hanging it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "harness.h"

#define REF1	"11111111-1111-4111-8111-111111111111"
#define REF2	"22222222-2222-4222-8222-222222222222"
#define REF3	"33333333-3333-4333-8333-333333333333"
#define REF4	"44444444-4444-4444-8444-444444444444"
#define REF5	"55555555-5555-4555-8555-555555555555"
#define REF6	"66666666-6666-4666-8666-666666666666"
#define PERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"

static struct th_server a, b;
static char db[700];		/* a's database, for th_sql */
static char token[64], worker[32], eval_auth[128];
static int have_pg;

static int
up(void **state)
{
	long id;

	(void)state;
	if (!(have_pg = th_have("pg_config") || access(
	    "/usr/lib/postgresql", F_OK) == 0))
		return 0;
	/* failed logins: 3 a minute per address, across both servers */
	th_server_init(&a, "db_workers = 3\nauth_failures = 3\n");
	th_server_twin(&b, &a, NULL);
	snprintf(db, sizeof(db), "%s/pcmds.db", a.dir);
	th_server_start(&a, NULL);
	th_server_start(&b, NULL);
	snprintf(token, sizeof(token), "%s", th_enrol(&a, th_server_user(&a,
	    "link_worker", "NH", &id), NULL));
	snprintf(worker, sizeof(worker), "nh-lw%ld", id);
	/* enrolled on a, the token works on b: one database */
	snprintf(eval_auth, sizeof(eval_auth), "Authorization: Bearer %s",
	    th_enrol(&b, th_server_user(&a, "evaluator", NULL, NULL), NULL));
	return 0;
}

static int
down(void **state)
{
	(void)state;
	if (have_pg) {
		th_server_stop(&b, SIGTERM);
		th_server_stop(&a, SIGTERM);
	}
	return 0;
}

static char *
referral(const char *id, int seq)
{
	static char bufs[8][1024];
	static int k;
	char *p = bufs[k++ % 8];

	snprintf(p, 1024, "{\"id\":\"%s\",\"schema\":\"pcmds/1\",\"kind\":"
	    "\"referral\",\"recorded_at\":\"2026-03-01T10:00:00Z\","
	    "\"device_seq\":%d,\"worker\":\"%s\",\"place\":\"NH\","
	    "\"referral\":\"%s\",\"person\":\"" PERSON "\",\"person_basis\":"
	    "\"nhs_number\",\"referred_on\":\"2026-03-01\",\"source\":"
	    "\"self\",\"reasons\":[\"stress\"],\"service\":\"general\","
	    "\"age\":40,\"gender\":\"female\",\"ethnicity\":\"A\","
	    "\"consent_evaluation\":true}", id, seq, worker, id);
	return p;
}

static char *
closure(const char *id, const char *ref, const char *on)
{
	static char bufs[4][1024];
	static int k;
	char *p = bufs[k++ % 4];

	snprintf(p, 1024, "{\"id\":\"%s\",\"schema\":\"pcmds/1\",\"kind\":"
	    "\"closure\",\"recorded_at\":\"2026-03-05T10:00:00Z\","
	    "\"device_seq\":20,\"worker\":\"%s\",\"place\":\"NH\","
	    "\"referral\":\"%s\",\"closed_on\":\"%s\",\"reason\":"
	    "\"goals_met\"}", id, worker, ref, on);
	return p;
}

static char *
contact(const char *id, const char *ref, const char *on, int minutes)
{
	static char bufs[4][1024];
	static int k;
	char *p = bufs[k++ % 4];

	snprintf(p, 1024, "{\"id\":\"%s\",\"schema\":\"pcmds/1\",\"kind\":"
	    "\"contact\",\"recorded_at\":\"2026-03-02T10:00:00Z\","
	    "\"device_seq\":9,\"worker\":\"%s\",\"place\":\"NH\","
	    "\"referral\":\"%s\",\"contact_on\":\"%s\",\"mode\":\"phone\","
	    "\"minutes\":%d,\"attended\":true}", id, worker, ref, on, minutes);
	return p;
}

/* POSTs a batch on a thread of its own, for sending two at once. */
struct post {
	pthread_t	 thread;
	struct th_server *s;
	char		 body[4096];
	struct th_http	 h;
};

static void *
post_main(void *arg)
{
	struct post *p = arg;

	th_post_records(p->s, token, p->body, &p->h);
	return NULL;
}

static void
post_start(struct post *p, struct th_server *s, const char *r1,
    const char *r2)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	snprintf(p->body, sizeof(p->body), "{\"records\":[%s%s%s]}", r1,
	    r2 ? "," : "", r2 ? r2 : "");
	assert_int_equal(pthread_create(&p->thread, NULL, post_main, p), 0);
}

/* The batch's answer: status of record i, and its watermark. */
static const char *
status_of(struct post *p, int i, char *mark, size_t len)
{
	static char bufs[4][16];
	static int k;
	char *st = bufs[k++ % 4];
	cJSON *j, *w;

	pthread_join(p->thread, NULL);
	if (p->h.status != 200) {
		snprintf(st, 16, "http-%ld", p->h.status);
		return st;
	}
	j = th_json(p->h.body);
	snprintf(st, 16, "%s", cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(j, "results"), i), "status")->valuestring);
	if (mark != NULL) {
		w = cJSON_GetObjectItem(j, "watermark");
		assert_true(cJSON_IsString(w));
		snprintf(mark, len, "%s", w->valuestring);
	}
	cJSON_Delete(j);
	return st;
}

static void
post_now(struct th_server *s, const char *r1, const char *r2, char *mark,
    size_t len)
{
	struct post p;

	post_start(&p, s, r1, r2);
	assert_string_equal(status_of(&p, 0, mark, len), "stored");
	th_http_free(&p.h);
}

/* A session of the test's own holding referrals' lock rows. */
static PGconn *
hold(const char *r1, const char *r2)
{
	PGconn *c = PQconnectdb(th_db_uri(db));
	PGresult *res;
	char sql[256];

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQclear(PQexec(c, "BEGIN"));
	snprintf(sql, sizeof(sql), "SELECT id FROM referrals WHERE id IN "
	    "('%s', '%s') FOR UPDATE", r1, r2 ? r2 : r1);
	res = PQexec(c, sql);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), r2 ? 2 : 1);
	PQclear(res);
	return c;
}

static void
let_go(PGconn *c)
{
	PQclear(PQexec(c, "COMMIT"));
	PQfinish(c);
}

/* Until PostgreSQL shows n sessions waiting for a lock (bounded). */
static void
wait_waiting(int n)
{
	int i;

	for (i = 0; i < 3000; i++) {
		if (th_sql_long(db, "SELECT count(*) FROM pg_stat_activity WHERE "
		    "datname = current_database() AND wait_event_type = "
		    "'Lock'") >= n)
			return;
		usleep(10 * 1000);
	}
	fail_msg("%d batches never waited for the referral's lock", n);
}

static long
stored(const char *where)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM records WHERE %s",
	    where);
	return th_sql_long(db, sql);
}

static void
test_two_closures(void **state)
{
	struct post p1, p2;
	const char *s1, *s2;
	PGconn *c;

	(void)state;
	if (!have_pg)
		skip();
	post_now(&a, referral(REF1, 1), NULL, NULL, 0);
	c = hold(REF1, NULL);
	post_start(&p1, &a, closure("a1000000-0000-4000-8000-000000000001",
	    REF1, "2026-03-05"), NULL);
	post_start(&p2, &b, closure("a1000000-0000-4000-8000-000000000002",
	    REF1, "2026-03-06"), NULL);
	wait_waiting(2);	/* both servers hold a batch, neither can go */
	let_go(c);
	s1 = status_of(&p1, 0, NULL, 0);
	s2 = status_of(&p2, 0, NULL, 0);
	print_message("closures at once on two servers: %s, %s\n", s1, s2);
	assert_true((strcmp(s1, "stored") == 0) != (strcmp(s2, "stored") == 0));
	assert_non_null(strstr(strcmp(s1, "stored") ? p1.h.body : p2.h.body,
	    "E_CLOSED"));
	assert_int_equal(stored("referral = '" REF1 "' AND kind = 'closure'"),
	    1);
	th_http_free(&p1.h);
	th_http_free(&p2.h);
}

static void
test_nothing_after_closure(void **state)
{
	struct post p1, p2;
	const char *s1, *s2;
	PGconn *c;

	(void)state;
	if (!have_pg)
		skip();
	post_now(&b, referral(REF2, 2), NULL, NULL, 0);
	c = hold(REF2, NULL);
	/* a closure on the 5th, and a contact on the 9th: not both */
	post_start(&p1, &a, closure("a2000000-0000-4000-8000-000000000001",
	    REF2, "2026-03-05"), NULL);
	post_start(&p2, &b, contact("a2000000-0000-4000-8000-000000000002",
	    REF2, "2026-03-09", 30), NULL);
	wait_waiting(2);
	let_go(c);
	s1 = status_of(&p1, 0, NULL, 0);
	s2 = status_of(&p2, 0, NULL, 0);
	print_message("closure and a later contact at once: %s, %s\n", s1, s2);
	assert_true((strcmp(s1, "stored") == 0) != (strcmp(s2, "stored") == 0));
	assert_int_equal(stored("referral = '" REF2 "' AND kind <> "
	    "'referral'"), 1);
	th_http_free(&p1.h);
	th_http_free(&p2.h);
}

static void
test_one_id_two_contents(void **state)
{
	const char *id = "a3000000-0000-4000-8000-000000000001";
	struct post p1, p2, p3;
	const char *s1, *s2, *s3;
	PGconn *c;

	(void)state;
	if (!have_pg)
		skip();
	post_now(&a, referral(REF3, 3), referral(REF4, 4), NULL, 0);
	/* the same id under two referrals: no lock row in common */
	c = hold(REF3, REF4);
	post_start(&p1, &a, contact(id, REF3, "2026-03-02", 10), NULL);
	post_start(&p2, &b, contact(id, REF4, "2026-03-02", 20), NULL);
	wait_waiting(2);
	let_go(c);
	s1 = status_of(&p1, 0, NULL, 0);
	s2 = status_of(&p2, 0, NULL, 0);
	print_message("one id, two contents, at once: %s, %s\n", s1, s2);
	/* one is stored; the other is refused whole (503, sent again) */
	assert_true((strcmp(s1, "stored") == 0) != (strcmp(s2, "stored") == 0));
	assert_int_equal(stored("id = 'a3000000-0000-4000-8000-000000000001'"),
	    1);
	/* sent again, the loser is a conflict */
	post_start(&p3, strcmp(s1, "stored") ? &a : &b, strcmp(s1, "stored") ?
	    contact(id, REF3, "2026-03-02", 10) : contact(id, REF4,
	    "2026-03-02", 20), NULL);
	s3 = status_of(&p3, 0, NULL, 0);
	assert_string_equal(s3, "conflict");
	th_http_free(&p1.h);
	th_http_free(&p2.h);
	th_http_free(&p3.h);
}

/* The loop serves while a worker waits on the database. */
static void
test_loop_never_waits(void **state)
{
	struct th_http h;
	struct post p;
	PGconn *c;

	(void)state;
	if (!have_pg)
		skip();
	c = hold(REF1, NULL);
	post_start(&p, &a, contact("a4000000-0000-4000-8000-000000000001",
	    REF1, "2026-03-02", 5), NULL);
	wait_waiting(1);
	th_https(&a, "GET", "/healthz", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	/* ...and a request on another referral, on another worker */
	post_now(&a, referral(REF5, 5), NULL, NULL, 0);
	assert_int_equal(th_sql_long(db, "SELECT count(*) FROM pg_stat_activity"
	    " WHERE datname = current_database() AND wait_event_type = "
	    "'Lock'"), 1);	/* the first still waits */
	let_go(c);
	/* dated before REF1's closure: stored once the lock is free */
	assert_string_equal(status_of(&p, 0, NULL, 0), "stored");
	th_http_free(&p.h);
}

/* Referrals in NH as server s counts them, once it includes mark. */
/* A place's figures from s once they include the commit at mark. */
static cJSON *
impact_at(struct th_server *s, const char *place, const char *mark)
{
	char path[256];
	const char *hdr[] = {eval_auth, NULL};
	struct th_http h;
	cJSON *j;

	snprintf(path, sizeof(path), "/v1/places/%s/impact?suppress=false&"
	    "watermark=%s", place, mark);
	th_https(s, "GET", path, hdr, NULL, 0, &h);
	if (h.status != 200)
		fail_msg("%s: %ld %s", path, h.status, h.body);
	j = th_json(h.body);
	th_http_free(&h);
	return j;
}

static long
referrals_at(struct th_server *s, const char *mark)
{
	cJSON *j = impact_at(s, "NH", mark);
	long n = (long)cJSON_GetNumberValue(th_at(j, "reach.referrals"));

	cJSON_Delete(j);
	return n;
}

static void
test_watermark_late_commit(void **state)
{
	char wx[32], wy[32], w0[32];
	struct post x;
	PGconn *c;
	long before;

	(void)state;
	if (!have_pg)
		skip();
	post_now(&a, referral(REF6, 6), NULL, w0, sizeof(w0));
	/* a figure from b after a sync to a includes it */
	before = referrals_at(&b, w0);
	/* x begins (a new referral's row: its transaction id is taken)... */
	c = hold(REF6, NULL);
	post_start(&x, &a, referral("a5000000-0000-4000-8000-000000000001", 7),
	    contact("a5000000-0000-4000-8000-000000000002", REF6,
	    "2026-03-02", 15));
	wait_waiting(1);
	/* ...y begins after it and commits first */
	post_now(&a, referral("a6000000-0000-4000-8000-000000000001", 8), NULL,
	    wy, sizeof(wy));
	assert_int_equal(referrals_at(&b, wy), before + 1);
	let_go(c);
	assert_string_equal(status_of(&x, 0, wx, sizeof(wx)), "stored");
	th_http_free(&x.h);
	print_message("watermarks: x %s committed after y %s\n", wx, wy);
	assert_true(strtoull(wx, NULL, 10) < strtoull(wy, NULL, 10));
	/* x's facts: below y's mark, yet not skipped */
	assert_int_equal(referrals_at(&b, wx), before + 2);
	assert_int_equal(referrals_at(&a, wx), before + 2);
}

static void	 sql_on(const char *uri, const char *sql, char *out, size_t len);

/* NH's referrals and contacts as s counts them, once it includes mark. */
static void
reach_at(struct th_server *s, const char *mark, long *refs, long *contacts)
{
	cJSON *j = impact_at(s, "NH", mark);

	*refs = (long)cJSON_GetNumberValue(th_at(j, "reach.referrals"));
	*contacts = (long)cJSON_GetNumberValue(th_at(j, "reach.contacts"));
	cJSON_Delete(j);
}

/*
 * A server's catch-ups leave out only the facts it applied itself at
 * commit: not those of a commit whose answer it never heard (stored,
 * yet never applied), nor another server's, even of a referral this
 * one wrote, made between two of its own commits.
 */
static void
test_catch_up_leaves_out_only_applied(void **state)
{
	/* the second batch c commits is the one whose answer is lost */
	const char *env[] = {"PCMDS_FAILPOINT=records-commit-unheard:2", NULL};
	const char *r7 = "c1000000-0000-4000-8000-000000000007";
	const char *r8 = "c1000000-0000-4000-8000-000000000008";
	const char *r9 = "c1000000-0000-4000-8000-000000000009";
	char mark[32], body[2048];
	struct th_server c;
	struct th_http h;
	long refs0, contacts0, refs, contacts;

	(void)state;
	if (!have_pg)
		skip();
	th_server_twin(&c, &a, NULL);
	c.bin = "pcmdsd-fp";
	th_server_start(&c, env);
	sql_on(th_db_uri(db), "SELECT pg_current_xact_id()::text", mark,
	    sizeof(mark));
	reach_at(&c, mark, &refs0, &contacts0);
	post_now(&c, referral(r8, 81), NULL, mark, sizeof(mark));
	/* c stores a referral, but never hears its commit succeed */
	snprintf(body, sizeof(body), "{\"records\":[%s]}", referral(r7, 71));
	th_post_records(&c, token, body, &h);
	assert_int_equal(h.status, 503);
	th_http_free(&h);
	snprintf(body, sizeof(body), "id = '%s'", r7);
	assert_int_equal(stored(body), 1);
	/* b adds a contact to c's referral; then c stores one more, heard */
	post_now(&b, contact("c1000000-0000-4000-8000-000000000081", r8,
	    "2026-03-02", 20), NULL, mark, sizeof(mark));
	post_now(&c, referral(r9, 91), NULL, mark, sizeof(mark));
	reach_at(&c, mark, &refs, &contacts);
	assert_int_equal(refs, refs0 + 3);
	assert_int_equal(contacts, contacts0 + 1);
	reach_at(&b, mark, &refs, &contacts);
	assert_int_equal(refs, refs0 + 3);
	assert_int_equal(contacts, contacts0 + 1);
	th_server_stop(&c, SIGTERM);
}

/* NH's figures from s once it includes mark, as text, to compare. */
static char *
impact_text(struct th_server *s, const char *mark)
{
	cJSON *j = impact_at(s, "NH", mark);
	char *t;

	cJSON_DeleteItemFromObject(j, "generated_at");	/* the clock's */
	t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_non_null(t);
	return t;
}

/*
 * c's figures once it includes mark are a fresh server's, reading the
 * database; then c is stopped.
 */
static void
same_as_fresh(struct th_server *c, const char *mark)
{
	struct th_server d;
	char *held, *fresh;

	th_server_twin(&d, &a, NULL);
	th_server_start(&d, NULL);
	held = impact_text(c, mark);
	fresh = impact_text(&d, mark);
	assert_string_equal(held, fresh);
	free(held);
	free(fresh);
	th_server_stop(&d, SIGTERM);
	th_server_stop(c, SIGTERM);
}

/* Pauses' files are made in here (static). */
static char pause_dir[600];

/* A test build of a's twin with pauses (a PCMDS_PAUSE list) armed. */
static void
paused_start(struct th_server *c, const char *pauses)
{
	char list[256], where[640];
	const char *env[] = {list, where, NULL};

	snprintf(pause_dir, sizeof(pause_dir), "%s/pauses", th_tmpdir());
	assert_int_equal(mkdir(pause_dir, 0700), 0);
	snprintf(list, sizeof(list), "PCMDS_PAUSE=%s", pauses);
	snprintf(where, sizeof(where), "PCMDS_PAUSE_DIR=%s", pause_dir);
	th_server_twin(c, &a, NULL);
	c->bin = "pcmdsd-fp";
	th_server_start(c, env);
}

/*
 * A catch-up whose snapshot came before one of a server's own commits
 * and whose apply came after that commit's (so that it put another
 * server's older fact of the referral over the newer one), and which
 * ended before the commit was said applied, leaves the commit's facts to
 * be read back by the next catch-up: the figures end as a fresh server
 * reading the database works them out. Pauses in the server force that
 * order; nothing is left to timing. With begun_first, the commit began
 * before the catch-up did (so only the catch-up ended in between tells);
 * without, the catch-up was under way when it began.
 */
static void
overlap(const char *r, const char *contact_id, int begun_first)
{
	char m0[32], mb[32], mc[32];
	struct th_server c;
	struct post x;
	long refs0, contacts0, refs, contacts;

	paused_start(&c, begun_first ? "records-begun,catch-up-apply,"
	    "records-applied,catch-up-ended" : "catch-up-apply,"
	    "records-applied,catch-up-ended");
	sql_on(th_db_uri(db), "SELECT pg_current_xact_id()::text", m0,
	    sizeof(m0));
	reach_at(&c, m0, &refs0, &contacts0);
	if (begun_first) {
		/* c begins a contact's commit before its referral is stored */
		post_start(&x, &c, contact(contact_id, r, "2026-03-02", 30),
		    NULL);
		th_pause_wait(pause_dir, "records-begun");
	}
	/* b stores a referral; c's catch-up reads it and holds */
	post_now(&b, referral(r, 1), NULL, mb, sizeof(mb));
	th_pause_wait(pause_dir, "catch-up-apply");
	/* c stores a contact of it (a newer fact), applied, not yet said so */
	if (begun_first)
		th_pause_go(pause_dir, "records-begun");
	else
		post_start(&x, &c, contact(contact_id, r, "2026-03-02", 30),
		    NULL);
	th_pause_wait(pause_dir, "records-applied");
	/* the catch-up applies b's older fact over it, and ends */
	th_pause_go(pause_dir, "catch-up-apply");
	th_pause_wait(pause_dir, "catch-up-ended");
	reach_at(&c, mb, &refs, &contacts);
	assert_int_equal(refs, refs0 + 1);
	assert_int_equal(contacts, contacts0);	/* the contact overwritten */
	/* c's commit is said applied; then the next catch-up runs */
	th_pause_go(pause_dir, "records-applied");
	assert_string_equal(status_of(&x, 0, mc, sizeof(mc)), "stored");
	th_http_free(&x.h);
	th_pause_go(pause_dir, "catch-up-ended");
	reach_at(&c, mc, &refs, &contacts);
	assert_int_equal(refs, refs0 + 1);
	assert_int_equal(contacts, contacts0 + 1);
	same_as_fresh(&c, mc);
}

static void
test_catch_up_overlap_read_back(void **state)
{
	(void)state;
	if (!have_pg)
		skip();
	overlap("d1000000-0000-4000-8000-000000000001",
	    "d1000000-0000-4000-8000-000000000002", 0);
	overlap("d2000000-0000-4000-8000-000000000001",
	    "d2000000-0000-4000-8000-000000000002", 1);
}

/*
 * Two of a server's own commits of one referral, applied in the other
 * order than they committed (the first's older fact over the second's):
 * neither is left out of the next catch-up, so it reads the newer back.
 * With begun_later_first, the commit begun later commits first (the
 * earlier one held before its ingest): the earlier must not be left out,
 * though nothing was in flight when it began. Without, the earlier one
 * is held between its commit and its apply: the later, begun while it
 * was in flight, must not be.
 */
static void
own_out_of_order(const char *r, const char *c1, const char *c2,
    int begun_later_first)
{
	char m0[32], m1[32], m2[32];
	const char *first = begun_later_first ? "records-begun" :
	    "records-committed";
	struct th_server c;
	struct post x, y;
	long refs0, contacts0, refs, contacts;

	paused_start(&c, begun_later_first ? "records-begun,"
	    "records-committed" : "records-committed");
	/* b stores the referral; c includes it */
	sql_on(th_db_uri(db), "SELECT pg_current_xact_id()::text", m0,
	    sizeof(m0));
	reach_at(&c, m0, &refs0, &contacts0);
	post_now(&b, referral(r, 1), NULL, m0, sizeof(m0));
	reach_at(&c, m0, &refs, &contacts);
	assert_int_equal(refs, refs0 + 1);
	/* x begins first, y after it; their applies come in the other order */
	post_start(&x, &c, contact(c1, r, "2026-03-02", 10), NULL);
	th_pause_wait(pause_dir, first);
	post_start(&y, &c, contact(c2, r, "2026-03-03", 20), NULL);
	if (begun_later_first) {
		th_pause_wait(pause_dir, "records-committed");	/* y's, not applied */
		th_pause_go(pause_dir, "records-begun");
		assert_string_equal(status_of(&x, 0, m1, sizeof(m1)),
		    "stored");
		th_pause_go(pause_dir, "records-committed");
		assert_string_equal(status_of(&y, 0, m2, sizeof(m2)),
		    "stored");
	} else {
		assert_string_equal(status_of(&y, 0, m2, sizeof(m2)),
		    "stored");
		th_pause_go(pause_dir, "records-committed");
		assert_string_equal(status_of(&x, 0, m1, sizeof(m1)),
		    "stored");
	}
	th_http_free(&x.h);
	th_http_free(&y.h);
	print_message("own commits %s then %s, applied the other way\n",
	    begun_later_first ? m2 : m1, begun_later_first ? m1 : m2);
	if (strtoull(m2, NULL, 10) > strtoull(m1, NULL, 10))
		memcpy(m1, m2, sizeof(m1));	/* the later of the two */
	reach_at(&c, m1, &refs, &contacts);
	assert_int_equal(refs, refs0 + 1);
	assert_int_equal(contacts, contacts0 + 2);
	same_as_fresh(&c, m1);
}

static void
test_own_commits_out_of_order(void **state)
{
	(void)state;
	if (!have_pg)
		skip();
	own_out_of_order("d3000000-0000-4000-8000-000000000001",
	    "d3000000-0000-4000-8000-000000000002",
	    "d3000000-0000-4000-8000-000000000003", 0);
	own_out_of_order("d4000000-0000-4000-8000-000000000001",
	    "d4000000-0000-4000-8000-000000000002",
	    "d4000000-0000-4000-8000-000000000003", 1);
}

/* A trigger of the test's refusing rows of table whose col is val. */
static void
refuse(const char *table, const char *col, const char *val)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "CREATE TRIGGER test_refuse BEFORE INSERT "
	    "OR UPDATE ON %s FOR EACH ROW WHEN (NEW.%s = '%s') EXECUTE "
	    "FUNCTION pcmds_refuse('refused by the test')", table, col, val);
	th_sql(db, sql);
}

/*
 * A statement failing inside one of a batch's pipelines (the locks and
 * reads ahead; the facts, announcement and COMMIT) fails the batch
 * whole, nothing of it kept, and the session goes on serving: sent
 * again, the batch is stored.
 */
static void
test_batch_fails_whole_in_pipeline(void **state)
{
	const char *r1 = "c2000000-0000-4000-8000-000000000001";
	const char *r2 = "c2000000-0000-4000-8000-000000000002";
	const char *const tables[2][2] = {{"referrals", "id"},
	    {"facts", "referral"}};
	const char *refs[2] = {r1, r2};
	char mark[32], body[2048], where[128];
	struct th_server c;
	struct th_http h;
	long refs0;
	int i;

	(void)state;
	if (!have_pg)
		skip();
	/* one session: the one that failed serves the next batch */
	th_server_twin(&c, &a, "db_workers = 1\n");
	th_server_start(&c, NULL);
	sql_on(th_db_uri(db), "SELECT pg_current_xact_id()::text", mark,
	    sizeof(mark));
	refs0 = referrals_at(&c, mark);
	for (i = 0; i < 2; i++) {
		refuse(tables[i][0], tables[i][1], refs[i]);
		snprintf(body, sizeof(body), "{\"records\":[%s]}",
		    referral(refs[i], 100 + i));
		th_post_records(&c, token, body, &h);
		assert_int_equal(h.status, 503);
		th_http_free(&h);
		snprintf(where, sizeof(where), "referral = '%s'", refs[i]);
		assert_int_equal(stored(where), 0);
		snprintf(body, sizeof(body), "DROP TRIGGER test_refuse ON %s",
		    tables[i][0]);
		th_sql(db, body);
		post_now(&c, referral(refs[i], 100 + i), NULL, mark,
		    sizeof(mark));
		assert_int_equal(stored(where), 1);
	}
	assert_int_equal(referrals_at(&c, mark), refs0 + 2);
	th_server_stop(&c, SIGTERM);
}

static void
test_watermark_malformed(void **state)
{
	const char *hdr[] = {eval_auth, NULL};
	struct th_http h;

	(void)state;
	if (!have_pg)
		skip();
	th_https(&b, "GET", "/v1/places?watermark=12x", hdr, NULL, 0, &h);
	assert_int_equal(h.status, 400);
	assert_non_null(strstr(h.body, "E_FORMAT"));
	th_http_free(&h);
}

/* A client spread over two servers has one budget of failed logins. */
static void
test_failures_counted_across_servers(void **state)
{
	const char *hdr[] = {"Authorization: Bearer not-a-token", NULL};
	struct th_server *order[4] = {&a, &b, &a, &b};
	struct th_http h;
	long st[4];
	int i;

	(void)state;
	if (!have_pg)
		skip();
	for (i = 0; i < 4; i++) {
		th_https(order[i], "GET", "/v1/places", hdr, NULL, 0, &h);
		st[i] = h.status;
		th_http_free(&h);
	}
	print_message("bad tokens to a, b, a, b: %ld %ld %ld %ld\n", st[0], st[1],
	    st[2], st[3]);
	/* auth_failures = 3: the fourth is refused on b, which saw one */
	assert_int_equal(st[0], 401);
	assert_int_equal(st[1], 401);
	assert_int_equal(st[2], 401);
	assert_int_equal(st[3], 429);
}

/* -- exports from a streaming replica ----------------------------------- */

static char pg_primary[128], pg_standby[128];

static void
stop_pgs(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "bash tests/pg.sh stop %s; bash tests/pg.sh "
	    "stop %s", pg_standby, pg_primary);
	if (system(cmd) != 0)
		fprintf(stderr, "could not stop the replica test's clusters\n");
}

/* A database's URI in a cluster pg.sh printed the URI of. */
static void
uri_in(const char *cluster, const char *dbname, char *out, size_t len)
{
	snprintf(out, len, "postgresql:///%s%s", dbname, strchr(cluster, '?'));
}

static void
sql_on(const char *uri, const char *sql, char *out, size_t len)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *res;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	if (out != NULL)
		snprintf(out, len, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) :
		    "");
	PQclear(res);
	PQfinish(c);
}

/* Rows an evaluator's export gives. */
static long
export_rows(struct th_server *s, const char *auth)
{
	const char *hdr[] = {auth, NULL};
	struct th_http h;
	long n = 0;
	char *p;

	th_https(s, "GET", "/v1/export", hdr, NULL, 0, &h);
	if (h.status != 200)
		fail_msg("export: %ld %s", h.status, h.body);
	for (p = h.body; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	th_http_free(&h);
	return n;
}

/* Until the standby has replayed what the primary has written now. */
static void
wait_replayed(const char *prim, const char *stby)
{
	char lsn[64], sql[160], ok[8];
	int i;

	sql_on(prim, "SELECT pg_current_wal_lsn()::text", lsn, sizeof(lsn));
	snprintf(sql, sizeof(sql), "SELECT pg_last_wal_replay_lsn() >= '%s'",
	    lsn);
	for (i = 0; i < 3000; i++) {
		sql_on(stby, sql, ok, sizeof(ok));
		if (strcmp(ok, "t") == 0)
			return;
		usleep(10 * 1000);
	}
	fail_msg("the standby never replayed %s", lsn);
}

/* pg.sh's first line of output: a cluster's URI. */
static void
pg_sh(const char *what, const char *a1, const char *a2, char *uri,
    size_t len)
{
	struct th_run r;

	th_cmd(&r, NULL, "bash", "tests/pg.sh", what, a1, a2, NULL);
	if (r.status != 0)
		fail_msg("pg.sh %s: %s", what, r.err);
	snprintf(uri, len, "%.*s", (int)strcspn(r.out, "\n"), r.out);
	th_run_free(&r);
}

/*
 * A user's failed passwords are counted across servers too, from
 * addresses each new to both (so only the user's budget can refuse).
 */
static void
test_password_failures_across_servers(void **state)
{
	static const char *const from[4] = {"127.0.0.11", "127.0.0.12",
	    "127.0.0.13", "127.0.0.14"};
	const char *hdr[] = {"Content-Type: application/x-www-form-urlencoded",
	    NULL};
	struct th_server *order[4] = {&a, &b, &a, &b};
	struct th_http h;
	char body[96];
	long st[4], id;
	int i;

	(void)state;
	if (!have_pg)
		skip();
	(void)th_server_user(&a, "place_lead", "NH", &id);
	snprintf(body, sizeof(body), "user=%ld&password=not+the+password", id);
	for (i = 0; i < 4; i++) {
		th_https_from = from[i];
		th_https(order[i], "POST", "/login/password", hdr, body,
		    strlen(body), &h);
		st[i] = h.status;
		th_http_free(&h);
	}
	th_https_from = NULL;
	print_message("bad passwords to a, b, a, b: %ld %ld %ld %ld\n", st[0],
	    st[1], st[2], st[3]);
	/* auth_failures = 3: the user's fourth is refused on b */
	assert_int_equal(st[0], 401);
	assert_int_equal(st[1], 401);
	assert_int_equal(st[2], 401);
	assert_int_equal(st[3], 429);
}

/* NH's residents in its scope and in the sex table, as s shows them. */
static void
nh_population(struct th_server *s, const char *mark, long *scope, long *sex)
{
	cJSON *j = impact_at(s, "NH", mark);

	*scope = (long)cJSON_GetNumberValue(th_at(j, "scope.population"));
	*sex = (long)cJSON_GetNumberValue(th_at(j,
	    "population_rates.gender.population_total"));
	cJSON_Delete(j);
}

/* An administrator's command on a's deployment, expected to succeed. */
static void
admin_ok(const char *args, const char *says)
{
	struct th_run r;

	th_server_admin(&a, &r, args);
	if (r.status != 0 || strstr(r.out, says) == NULL)
		fail_msg("pcmdsd %s: %s%s", args, r.out, r.err);
	th_run_free(&r);
}

/*
 * Places and denominators imported while the servers run: every server's
 * figures use them once they include the import's commit, with no restart
 * (and the import says so).
 */
static void
test_imports_reach_every_server(void **state)
{
	char places[700], pop[700], cmd[1600], mark[32];
	long scope0, sex0, scope, sex;
	cJSON *j;

	(void)state;
	if (!have_pg)
		skip();
	sql_on(th_db_uri(db), "SELECT pg_current_xact_id()::text", mark,
	    sizeof(mark));
	nh_population(&b, mark, &scope0, &sex0);
	assert_true(scope0 > 0 && sex0 > 0);
	/* NH's residents doubled, in the places file and the sex table */
	snprintf(places, sizeof(places), "%s/places.csv", a.dir);
	snprintf(pop, sizeof(pop), "%s/pop.csv", a.dir);
	snprintf(cmd, sizeof(cmd), "awk -F, -v OFS=, 'NR == 1 || $1 != \"NH\""
	    " { print; next } { $3 = $3 * 2; print } END { print \"ZQ\","
	    "\"A new place\",4321,\"test\" }' packaging/places-nel.csv"
	    " > %s && %s/pcmdsd population default | awk -F, -v OFS=, "
	    "'NR == 1 { print } $1 == \"NH\" && $2 == \"sex\" { $4 = $4 * 2;"
	    " print }' > %s", places, th_build(), pop);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "places import %s", places);
	admin_ok(cmd, "servers on this database use them");
	snprintf(cmd, sizeof(cmd), "population import %s", pop);
	admin_ok(cmd, "servers on this database use them");
	sql_on(th_db_uri(db), "SELECT pg_current_xact_id()::text", mark,
	    sizeof(mark));
	nh_population(&b, mark, &scope, &sex);
	assert_int_equal(scope, 2 * scope0);
	assert_int_equal(sex, 2 * sex0);
	nh_population(&a, mark, &scope, &sex);
	assert_int_equal(scope, 2 * scope0);
	assert_int_equal(sex, 2 * sex0);
	/* and a place new to both */
	j = impact_at(&b, "ZQ", mark);
	assert_int_equal((long)cJSON_GetNumberValue(th_at(j,
	    "scope.population")), 4321);
	cJSON_Delete(j);
	/* with nothing changed since, a catch-up keeps them */
	post_now(&b, referral("c3000000-0000-4000-8000-000000000001", 31),
	    NULL, mark, sizeof(mark));
	nh_population(&a, mark, &scope, &sex);
	assert_int_equal(scope, 2 * scope0);
	assert_int_equal(sex, 2 * sex0);
}

static void
test_export_from_replica(void **state)
{
	char cluster[256], standby[256], prim[256], stby[256], extra[400];
	char auth[128], tok[64], batch[4096];
	struct th_server s;
	struct th_http h;
	long id, before;

	(void)state;
	if (!have_pg)
		skip();
	/* a primary and its hot standby, of their own */
	snprintf(pg_primary, sizeof(pg_primary), "/tmp/pcmds-pgp-XXXXXX");
	snprintf(pg_standby, sizeof(pg_standby), "/tmp/pcmds-pgs-XXXXXX");
	assert_non_null(mkdtemp(pg_primary));
	assert_non_null(mkdtemp(pg_standby));
	atexit(stop_pgs);
	pg_sh("start", pg_primary, NULL, cluster, sizeof(cluster));
	sql_on(cluster, "CREATE DATABASE pcmds", NULL, 0);
	pg_sh("replica", pg_primary, pg_standby, standby, sizeof(standby));
	uri_in(cluster, "pcmds", prim, sizeof(prim));
	uri_in(standby, "pcmds", stby, sizeof(stby));
	snprintf(extra, sizeof(extra), "export_database = %s", stby);
	th_server_init_on(&s, prim, extra);
	th_server_start(&s, NULL);
	snprintf(tok, sizeof(tok), "%s", th_enrol(&s, th_server_user(&s,
	    "link_worker", "NH", &id), NULL));
	/* the last test: referral() makes this server's worker's records */
	snprintf(worker, sizeof(worker), "nh-lw%ld", id);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", th_enrol(&s,
	    th_server_user(&s, "evaluator", NULL, NULL), NULL));
	snprintf(batch, sizeof(batch), "{\"records\":[%s]}",
	    referral("b1000000-0000-4000-8000-000000000001", 1));
	th_post_records(&s, tok, batch, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	wait_replayed(prim, stby);
	before = export_rows(&s, auth);
	assert_int_equal(before, 1);
	/* the standby holds still: a new record is not in the export */
	sql_on(stby, "SELECT pg_wal_replay_pause()", NULL, 0);
	snprintf(batch, sizeof(batch), "{\"records\":[%s]}",
	    referral("b1000000-0000-4000-8000-000000000002", 2));
	th_post_records(&s, tok, batch, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	assert_int_equal(export_rows(&s, auth), before);
	/* and once it replays, it is */
	sql_on(stby, "SELECT pg_wal_replay_resume()", NULL, 0);
	wait_replayed(prim, stby);
	assert_int_equal(export_rows(&s, auth), before + 1);
	th_server_stop(&s, SIGTERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_closures),
		cmocka_unit_test(test_nothing_after_closure),
		cmocka_unit_test(test_one_id_two_contents),
		cmocka_unit_test(test_loop_never_waits),
		cmocka_unit_test(test_watermark_late_commit),
		cmocka_unit_test(test_catch_up_leaves_out_only_applied),
		cmocka_unit_test(test_catch_up_overlap_read_back),
		cmocka_unit_test(test_own_commits_out_of_order),
		cmocka_unit_test(test_batch_fails_whole_in_pipeline),
		cmocka_unit_test(test_watermark_malformed),
		cmocka_unit_test(test_failures_counted_across_servers),
		cmocka_unit_test(test_password_failures_across_servers),
		cmocka_unit_test(test_imports_reach_every_server),
		cmocka_unit_test(test_export_from_replica),
	};

	/* this suite is PostgreSQL's, whatever the other suites run on */
	setenv("PCMDS_TEST_STORE", "postgresql", 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests_name("cluster", tests, up, down);
}

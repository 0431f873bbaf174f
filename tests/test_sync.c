/*
 * test_sync.c - pcmds sync against a real pcmdsd, under faults.
 *
 * Every test ends the same way: the ids the client holds as sent are
 * exactly the ids the server stored for that device, no id twice, and
 * nothing left pending that should have been sent.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "cstore.h"
#include "date.h"
#include "harness.h"

static char keyfile[600];

static int
up(void **state)
{
	struct th_run r;

	(void)state;
	snprintf(keyfile, sizeof(keyfile), "%s/deploy.key", th_tmpdir());
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", keyfile, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	return 0;
}

/* A client enrolled as a new link worker of place. */
static const char *
client(struct th_server *s, const char *place)
{
	static char homes[8][512];
	static int k;
	char *home = homes[k++ % 8];
	const char *code = th_server_user(s, "link_worker", place, NULL);
	struct th_run r;

	snprintf(home, 512, "%s", th_tmpdir());
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", keyfile, "--server", s->url, "--code", code,
	    "--cacert", s->ca, NULL);
	if (r.status != 0)
		fail_msg("setup: %s", r.err);
	th_run_free(&r);
	th_unlock(home);
	return home;
}

/* Records rows referrals with 4 records each (CSV import); returns count. */
static long
caseload(const char *home, int rows, int offset)
{
	char path[600];
	struct th_run r;
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/caseload-%d.csv", home, offset);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "person_basis,referred_on,source,reasons,service,age,gender,"
	    "ethnicity,consent_evaluation,baseline_on,baseline_life_satisfaction,"
	    "baseline_worthwhile,baseline_happy,baseline_anxious,final_on,"
	    "final_life_satisfaction,final_worthwhile,final_happy,final_anxious,"
	    "closed_on,closure_reason\n");
	for (i = offset; i < offset + rows; i++) {
		char d[DATE_LEN];

		date_format(date_from_ymd(2024, 1, 1) + i % 600, d);
		fprintf(fp, "local,%s,mdt,stress,general,%d,male,N,yes,2025-12-01,"
		    "3,4,4,7,2026-01-05,5,6,6,4,2026-01-06,goals_met\n", d,
		    18 + i / 600 % 90);
	}
	fclose(fp);
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", path, NULL);
	if (r.status != 0)
		fail_msg("import: %s", r.err);
	th_run_free(&r);
	return rows * 4L;
}

static long
client_count(const char *home, const char *state)
{
	char db[600], sql[128];

	snprintf(db, sizeof(db), "%s/pcmds.db", home);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM record_states WHERE "
	    "state = '%s'", state);
	return th_sql_long(db, sql);
}

/*
 * The client's sent ids equal the server's ids for that client's worker,
 * none twice, none pending.
 */
static long
joint(sqlite3 *d, const char *sql)
{
	sqlite3_stmt *st;
	long v;

	assert_int_equal(sqlite3_prepare_v2(d, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * A PostgreSQL server's records as a SQLite file of their own (id and
 * worker), so that the checks below compare them with the client's.
 */
static void
pg_records_copy(const char *sdb, const char *out)
{
	PGconn *c = PQconnectdb(th_db_uri(sdb));
	PGresult *res;
	sqlite3 *d;
	sqlite3_stmt *ins;
	int i;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, "SELECT id, worker FROM records");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	unlink(out);
	assert_int_equal(sqlite3_open(out, &d), SQLITE_OK);
	assert_int_equal(sqlite3_exec(d, "CREATE TABLE records(id TEXT, worker "
	    "TEXT); BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(d, "INSERT INTO records VALUES "
	    "(?, ?)", -1, &ins, NULL), SQLITE_OK);
	for (i = 0; i < PQntuples(res); i++) {
		sqlite3_bind_text(ins, 1, PQgetvalue(res, i, 0), -1,
		    SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 2, PQgetvalue(res, i, 1), -1,
		    SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	assert_int_equal(sqlite3_exec(d, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(d);
	PQclear(res);
	PQfinish(c);
}

static void
check_same(struct th_server *s, const char *home, long expect)
{
	char cdb[600], sdb[600], attach[700], sql[512], wid[64] = "";
	char *cfg = th_slurp(th_path(home, "config"), NULL);
	sqlite3 *d;

	/* the client's records are sealed: its worker id is in its config */
	assert_non_null(cfg);
	sscanf(strstr(cfg, "worker = ") + 9, "%63s", wid);
	free(cfg);
	snprintf(cdb, sizeof(cdb), "%s/pcmds.db", home);
	snprintf(sdb, sizeof(sdb), "%s/pcmds.db", s->dir);
	if (th_store_pg()) {
		snprintf(sdb, sizeof(sdb), "%s/records-copy.db", s->dir);
		pg_records_copy(th_path(s->dir, "pcmds.db"), sdb);
	}
	assert_int_equal(client_count(home, "pending"), 0);
	assert_int_equal(client_count(home, "sent"), expect);
	assert_int_equal(sqlite3_open(sdb, &d), SQLITE_OK);
	snprintf(attach, sizeof(attach), "ATTACH '%s' AS c", cdb);
	assert_int_equal(sqlite3_exec(d, attach, NULL, NULL, NULL), SQLITE_OK);
	/* no id twice on the server */
	assert_int_equal(joint(d, "SELECT COUNT(*) - COUNT(DISTINCT id) FROM "
	    "main.records"), 0);
	/* stored for this worker but not marked sent on the client */
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM main.records WHERE "
	    "worker = '%s' AND id NOT IN (SELECT id FROM c.record_states WHERE "
	    "state = 'sent')", wid);
	assert_int_equal(joint(d, sql), 0);
	/* marked sent on the client but not stored on the server */
	assert_int_equal(joint(d, "SELECT COUNT(*) FROM c.record_states WHERE "
	    "state = 'sent' AND id NOT IN (SELECT id FROM main.records)"), 0);
	sqlite3_close(d);
}

/* Fails the test, showing what was said, unless it says want. */
static void
says(const char *text, const char *want)
{
	if (strstr(text, want) == NULL)
		fail_msg("expected \"%s\" in:\n%s", want, text);
}

static int
run_sync(const char *home, const char *timeout, const char *batch)
{
	struct th_run r;
	int st;

	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--timeout", timeout,
	    "--batch", batch, NULL);
	st = r.status;
	if (st != 0)
		print_message("sync exit %d: %s%s\n", st, r.out, r.err);
	th_run_free(&r);
	return st;
}

static void
test_plain_sync(void **state)
{
	struct th_server s;
	const char *home;
	struct th_run r;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	home = client(&s, "BD");
	caseload(home, 30, 0);
	/* a value that is not a number is refused, not read as 0 or 12 */
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--timeout", "abc",
	    NULL);
	assert_int_equal(r.status, 2);
	says(r.err, "--timeout must be 0 to 86400 seconds; got \"abc\"");
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--batch", "12abc",
	    NULL);
	assert_int_equal(r.status, 2);
	says(r.err, "--batch must be a whole number from 1 to 10000");
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 120);	/* none sent */
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--json", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"stored\":120"));
	th_run_free(&r);
	check_same(&s, home, 120);
	/* again: nothing to send */
	assert_int_equal(run_sync(home, "5", "500"), 0);
	th_server_stop(&s, SIGTERM);
}

/* The server dies at a failpoint during the second batch. */
static void
server_dies(const char *failpoint)
{
	char env[128];
	const char *envv[] = {env, NULL};
	struct th_server s;
	const char *home;
	long sent;

	snprintf(env, sizeof(env), "PCMDS_FAILPOINT=%s:2", failpoint);
	th_server_init(&s, NULL);
	s.bin = "pcmdsd-fp";
	th_server_start(&s, envv);
	home = client(&s, "CH");
	caseload(home, 100, 0);
	assert_int_equal(run_sync(home, "2", "100"), 5);	/* unreachable */
	assert_true(client_count(home, "pending") > 0);
	/*
	 * Batch 1 was stored; the second was with the server beside it, so
	 * its answer may have been lost with the server: then it is sent
	 * again below (the server answers duplicate).
	 */
	sent = client_count(home, "sent");
	assert_true(sent == 100 || sent == 0);
	th_server_stop(&s, SIGKILL);
	s.bin = "pcmdsd";
	th_server_start(&s, NULL);
	assert_int_equal(run_sync(home, "10", "100"), 0);
	check_same(&s, home, 400);
	th_server_stop(&s, SIGTERM);
}

static void
test_server_killed_before_commit(void **state)
{
	(void)state;
	server_dies("ingest-before-commit");
}

static void
test_server_killed_after_commit(void **state)
{
	(void)state;
	/* stored, but the answer never came: the re-send is a duplicate */
	server_dies("ingest-after-commit");
}

static void
test_client_killed(void **state)
{
	struct th_server s;
	const char *home, *argv[6];
	char exe[512], sdb[600];
	pid_t pid;
	int st, i;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	snprintf(sdb, sizeof(sdb), "%s/pcmds.db", s.dir);
	home = client(&s, "NH");
	caseload(home, 5000, 0);	/* 20,000 records */
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	argv[0] = "pcmds";
	argv[1] = "--home";
	argv[2] = home;
	argv[3] = "sync";
	argv[4] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		th_quiet(1);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	/* kill it once the server has stored some but not all */
	for (i = 0; i < 600; i++) {
		if (th_sql_long(sdb, "SELECT COUNT(*) FROM records") >= 3000)
			break;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	print_message("killed with %ld stored on the server, %ld sent on the "
	    "client\n", th_sql_long(sdb, "SELECT COUNT(*) FROM records"),
	    client_count(home, "sent"));
	assert_true(WIFSIGNALED(st));
	assert_true(client_count(home, "pending") > 0);
	assert_int_equal(run_sync(home, "60", "500"), 0);
	check_same(&s, home, 20000);
	th_server_stop(&s, SIGTERM);
}

/*
 * The client is killed on one side of the commit that marks its first
 * answered batch sent (pcmds-fp's crash points). Before it, the whole
 * batch is still pending (the server has it, and answers duplicate when
 * it comes again); after it, that batch is sent and no more. Either way
 * the next sync sends everything, once, and loses nothing.
 */
static void
client_dies_marking(const char *point, long sent)
{
	char env[64], sdb[600];
	const char *envv[] = {env, NULL};
	const char *argv[] = {"pcmds-fp", "--home", NULL, "sync", "--batch",
	    "100", NULL};
	struct th_server s;
	const char *home;
	struct th_run r;
	long stored, fresh, dup;
	cJSON *j;

	snprintf(env, sizeof(env), "PCMDS_FAILPOINT=%s", point);
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	snprintf(sdb, sizeof(sdb), "%s/pcmds.db", s.dir);
	home = client(&s, "NH");
	caseload(home, 100, 0);		/* 400 records */
	argv[2] = home;
	th_exec(&r, argv, NULL, envv);
	assert_int_equal(r.status, 128 + SIGKILL);
	th_run_free(&r);
	assert_int_equal(client_count(home, "sent"), sent);
	assert_int_equal(client_count(home, "pending"), 400 - sent);
	/* the batch answered, and perhaps the one beside it (which may
	   still be committing there: what is read here may be behind) */
	stored = th_sql_long(sdb, "SELECT COUNT(*) FROM records");
	assert_true(stored == 100 || stored == 200);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--json", NULL);
	assert_int_equal(r.status, 0);
	j = th_json(r.out);
	fresh = (long)cJSON_GetObjectItem(j, "stored")->valuedouble;
	dup = (long)cJSON_GetObjectItem(j, "duplicate")->valuedouble;
	cJSON_Delete(j);
	th_run_free(&r);
	/* everything not marked went again; the answered batch was there */
	assert_int_equal(fresh + dup, 400 - sent);
	assert_true(dup >= 100 - sent && dup <= 200 - sent);
	check_same(&s, home, 400);
	th_server_stop(&s, SIGTERM);
}

static void
test_client_killed_marking(void **state)
{
	(void)state;
	client_dies_marking("sync.marking", 0);
}

static void
test_client_killed_marked(void **state)
{
	(void)state;
	client_dies_marking("sync.marked", 100);
}

/*
 * The store fails as the sync marks a batch sent (here a trigger that
 * refuses any change to the outbox): nothing of the batch is marked,
 * the summary says the server has records this device could not mark,
 * and once the store works again the next sync settles it.
 */
static void
test_client_store_fails(void **state)
{
	struct th_server s;
	const char *home;
	char db[600];
	struct th_run r;
	sqlite3 *d;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	home = client(&s, "NH");
	caseload(home, 100, 0);		/* 400 records */
	snprintf(db, sizeof(db), "%s/pcmds.db", home);
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	assert_int_equal(sqlite3_exec(d, "CREATE TRIGGER broken BEFORE DELETE "
	    "ON outbox BEGIN SELECT RAISE(ABORT, 'the store is broken'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(d);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--batch", "100",
	    NULL);
	assert_int_not_equal(r.status, 0);
	says(r.err, "store: marking");
	says(r.err, "the store is broken");
	says(r.err, "that this device could not mark as sent; here they stay "
	    "pending");
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 400);
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	assert_int_equal(sqlite3_exec(d, "DROP TRIGGER broken", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(d);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	check_same(&s, home, 400);
	th_server_stop(&s, SIGTERM);
}

static void
test_connection_cut(void **state)
{
	const char *env[] = {"PCMDS_FAILPOINT=records-cut-response:2", NULL};
	struct th_server s;
	const char *home;

	(void)state;
	th_server_init(&s, NULL);
	s.bin = "pcmdsd-fp";
	th_server_start(&s, env);
	home = client(&s, "RB");
	caseload(home, 60, 0);
	/* the second answer is lost; the retry gets "duplicate" */
	assert_int_equal(run_sync(home, "20", "50"), 0);
	check_same(&s, home, 240);
	th_server_stop(&s, SIGTERM);
}

static void
test_server_down(void **state)
{
	struct th_server s;
	const char *home;
	struct th_run r;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	home = client(&s, "TH");
	caseload(home, 10, 0);
	th_server_stop(&s, SIGTERM);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--timeout", "1",
	    NULL);
	assert_int_equal(r.status, 5);
	assert_non_null(strstr(r.err, "cannot reach"));
	assert_non_null(strstr(r.err, "40 records kept pending"));
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 40);
	th_server_start(&s, NULL);
	assert_int_equal(run_sync(home, "10", "500"), 0);
	check_same(&s, home, 40);
	th_server_stop(&s, SIGTERM);
}


/* A sync in the background, its output to files; returns its pid. */
static pid_t
sync_spawn(const char *home, const char *timeout, const char *batch,
    char out[600], char err[600])
{
	char exe[512];
	pid_t pid;

	snprintf(out, 600, "%s/sync.out", home);
	snprintf(err, 600, "%s/sync.err", home);
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	if ((pid = fork()) == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(o, 1);
		dup2(e, 2);
		execl(exe, "pcmds", "--home", home, "sync", "--timeout", timeout,
		    "--batch", batch, (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	return pid;
}

static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Two batches with the server at once: the second is stored while the
 * first is held before its checks, so it must hold no record of the
 * first's referrals (it would come before its referral and be refused).
 * Those wait for a later batch: nothing is quarantined. One try: 1 when
 * the batch held was the first (referral A's first two records), 0 when
 * the second reached the server first (the same checks pass, but they
 * show nothing of this).
 */
static int
first_held(void)
{
	char list[] = "PCMDS_PAUSE=records-begun", where[700], held[700];
	char dir[512], out[600], err[600], sdb[600], cdb[600], of_a[160];
	const char *env[] = {list, where, NULL};
	struct th_server s;
	const char *home;
	char *a;
	pid_t pid;
	int i, first;

	snprintf(dir, sizeof(dir), "%s", th_tmpdir());
	snprintf(where, sizeof(where), "PCMDS_PAUSE_DIR=%s", dir);
	snprintf(held, sizeof(held), "%s/records-begun", dir);
	th_server_init(&s, NULL);
	s.bin = "pcmdsd-fp";
	th_server_start(&s, env);
	snprintf(sdb, sizeof(sdb), "%s/pcmds.db", s.dir);
	home = client(&s, "BD");
	snprintf(cdb, sizeof(cdb), "%s/pcmds.db", home);
	/* referral, baseline, final, closure each: batch 1 is A's first two */
	caseload(home, 3, 0);
	assert_non_null(a = th_sql_dup(cdb, "SELECT referral FROM records "
	    "WHERE seq = 1"));
	snprintf(of_a, sizeof(of_a), "SELECT COUNT(*) FROM records WHERE "
	    "referral = '%s'", a);
	free(a);
	pid = sync_spawn(home, "60", "2", out, err);
	for (i = 0; i < 6000 && access(held, F_OK) != 0; i++)
		usleep(10 * 1000);
	assert_int_equal(access(held, F_OK), 0);
	/* one batch held: another is stored beside it */
	for (i = 0; i < 6000 && th_sql_long(sdb, "SELECT COUNT(*) FROM "
	    "records") < 2; i++)
		usleep(10 * 1000);
	assert_true(th_sql_long(sdb, "SELECT COUNT(*) FROM records") >= 2);
	first = th_sql_long(sdb, of_a) == 0;
	assert_int_equal(unlink(held), 0);
	assert_int_equal(reap(pid), 0);
	assert_int_equal(client_count(home, "quarantined"), 0);
	check_same(&s, home, 12);
	th_server_stop(&s, SIGTERM);
	return first;
}

static void
test_two_in_flight(void **state)
{
	int i;

	(void)state;
	/* which batch the server meets first is the connections' race */
	for (i = 0; i < 20 && !first_held(); i++)
		;
	assert_true(i < 20);
}

/*
 * The server restarts in the middle of a sync (killed, or stopped
 * gracefully, then started again): the sync rides it out within its time
 * budget, sends every record once, and says nothing of certificates.
 */
static void
restart_mid_sync(int sig)
{
	struct th_server s;
	const char *home;
	char sdb[600], out[600], err[600], *text;
	long at;
	pid_t pid;
	int i;

	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	snprintf(sdb, sizeof(sdb), "%s/pcmds.db", s.dir);
	home = client(&s, "CH");
	caseload(home, 2500, 0);	/* 10,000 records */
	pid = sync_spawn(home, "60", "100", out, err);
	for (i = 0; i < 1000; i++) {
		if (th_sql_long(sdb, "SELECT COUNT(*) FROM records") >= 1000)
			break;
		usleep(5 * 1000);
	}
	th_server_stop(&s, sig);
	at = th_sql_long(sdb, "SELECT COUNT(*) FROM records");
	print_message("server stopped (signal %d) with %ld of 10000 stored\n",
	    sig, at);
	assert_true(at < 10000);	/* it did stop mid-sync */
	th_server_start(&s, NULL);
	i = reap(pid);
	text = th_slurp(err, NULL);
	if (i != 0)
		fail_msg("sync exit %d: %s", i, text);
	if (strstr(text, "certificate") != NULL)
		fail_msg("a restart was taken for a certificate problem: %s",
		    text);
	free(text);
	text = th_slurp(out, NULL);
	print_message("%s", text);
	free(text);
	check_same(&s, home, 10000);
	th_server_stop(&s, SIGTERM);
}

static void
test_server_restart_killed(void **state)
{
	(void)state;
	restart_mid_sync(SIGKILL);
}

static void
test_server_restart_graceful(void **state)
{
	(void)state;
	restart_mid_sync(SIGTERM);
}

/* A rate limit: 429 is "busy", waited out within the budget, else said. */
static void
test_server_busy(void **state)
{
	struct th_server s;
	const char *home;
	struct th_run r;

	(void)state;
	th_server_init(&s, "rate_per_token = 1");
	th_server_start(&s, NULL);
	home = client(&s, "RB");
	caseload(home, 40, 0);
	/* 160 records in 8 requests, at one a second: waits, no error */
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--batch", "20",
	    NULL);
	if (r.status != 0)
		fail_msg("sync: %s%s", r.out, r.err);
	says(r.out, "sent 160 (160 new");
	th_run_free(&r);
	check_same(&s, home, 160);
	/* a budget shorter than the wait the server asks for: stop, say why */
	caseload(home, 40, 100);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--batch", "10",
	    "--timeout", "1", NULL);
	assert_int_equal(r.status, 5);
	says(r.err, "the server is busy (HTTP 429): too "
	    "many requests");
	says(r.err, "longer than the sync's time budget of "
	    "1 s allows (pcmds sync --timeout SECONDS sets it)");
	says(r.err, "the server could not take the records "
	    "now;");
	says(r.err, "kept pending for the next sync");
	assert_null(strstr(r.err, "unreachable"));
	assert_null(strstr(r.err, "cannot reach"));
	th_run_free(&r);
	assert_true(client_count(home, "pending") > 0);
	assert_int_equal(run_sync(home, "60", "500"), 0);
	check_same(&s, home, 320);
	th_server_stop(&s, SIGTERM);
}

/* max_body: a 413 halves the batch; one record alone too large refuses. */
static void
test_small_max_body(void **state)
{
	struct th_server s;
	const char *home;
	char cdb[600], sql[8192], big[5001];
	struct th_run r;
	uint32_t x;
	cJSON *j;
	int i;

	(void)state;
	th_server_init(&s, "max_body = 1024");
	th_server_start(&s, NULL);
	home = client(&s, "HV");
	caseload(home, 100, 0);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--json", NULL);
	if (r.status != 0)
		fail_msg("sync: %s%s", r.out, r.err);
	j = th_json(r.out);
	assert_int_equal(cJSON_GetObjectItem(j, "stored")->valueint, 400);
	/* 500 did not fit, nor 200 (the 400 pending), and so on down */
	assert_true(cJSON_GetObjectItem(j, "batches")->valueint > 5);
	cJSON_Delete(j);
	th_run_free(&r);
	check_same(&s, home, 400);
	/* one record larger than the server takes, whatever the batch */
	snprintf(cdb, sizeof(cdb), "%s/pcmds.db", home);
	for (i = 0, x = 2463534242u; i < 5000; i++) {	/* xorshift32 */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		big[i] = "0123456789abcdef"[x >> 28];	/* incompressible */
	}
	big[5000] = '\0';
	/* slipped into the store behind pcmds's back (sealed, as it would) */
	{
		char *ref = th_sql_dup(cdb, "SELECT referral FROM records "
		    "LIMIT 1"), *cfg = th_slurp(th_path(home, "config"), NULL);
		char wid[64];
		struct err_list errs;
		struct cstore *cs;
		struct rec *rec;
		int64_t seq;

		sscanf(strstr(cfg, "worker = ") + 9, "%63s", wid);
		err_init(&errs);
		cs = th_store_open(home, NULL);
		assert_int_equal(cstore_next_seq(cs, &seq, &errs), PC_OK);
		snprintf(sql, sizeof(sql), "{\"id\":\"66666666-6666-4666-8666-"
		    "666666666666\",\"schema\":\"pcmds/1\",\"kind\":"
		    "\"support\",\"recorded_at\":\"2026-03-01T10:00:00Z\","
		    "\"device_seq\":%lld,\"worker\":\"%s\",\"place\":\"HV\","
		    "\"referral\":\"%s\",\"offered_on\":\"2026-03-01\","
		    "\"category\":\"food\",\"outcome\":\"offered\","
		    "\"provider\":\"%s\"}", (long long)seq, wid, ref, big);
		assert_int_equal(rec_load(sql, strlen(sql), &rec), PC_OK);
		assert_int_equal(cstore_insert(cs, rec, &errs), PC_OK);
		rec_free(rec);
		cstore_close(cs);
		err_free(&errs);
		free(ref);
		free(cfg);
	}
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 1);
	says(r.err, "record 66666666 is larger than the "
	    "server takes in one request (HTTP 413");
	says(r.err, "max_body, 1024 bytes");	/* the server's own limit */
	says(r.err, "): it stays pending; the server's administrator can "
	    "raise max_body");
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 1);	/* kept */
	th_server_stop(&s, SIGTERM);
}

/*
 * The server's disk is full: it answers 503 with its own sentence, which
 * the worker sees (not "unreachable"); its log names the database; once
 * there is room the next sync sends everything, once.
 */
static void
test_server_disk_full(void **state)
{
	const char *env[] = {"PCMDS_TEST_DISK_PAGES=0", NULL};
	struct th_server s;
	const char *home;
	char want[800], *log;
	struct th_run r;

	(void)state;
	if (th_store_pg()) {
		print_message("the full disk is SQLite's (max_page_count); the "
		    "tests do not fill a PostgreSQL server's disk\n");
		skip();
	}
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	home = client(&s, "TH");	/* enrolled while there is room */
	caseload(home, 300, 0);
	th_server_stop(&s, SIGTERM);
	s.bin = "pcmdsd-fp";
	th_server_start(&s, env);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 5);
	says(r.err, "the server answered 503: the server's "
	    "disk is full, so it could not store this batch; nothing of it was "
	    "kept. The records are safe on this device and a later sync sends "
	    "them: please tell the server's administrator");
	says(r.err, "the server asked to wait 300 s");
	says(r.err, "1200 records kept pending for the next "
	    "sync");
	assert_null(strstr(r.err, "unreachable"));
	th_run_free(&r);
	log = th_slurp(s.log, NULL);
	snprintf(want, sizeof(want), "batch of 1200 not stored, nothing kept: "
	    "the disk holding %s is full (database %s/pcmds.db: database or "
	    "disk is full)", s.dir, s.dir);
	if (strstr(log, want) == NULL)
		fail_msg("the log does not say the disk is full:\n%s", log);
	free(log);
	assert_int_equal(client_count(home, "pending"), 1200);
	/* room again */
	th_server_stop(&s, SIGTERM);
	s.bin = "pcmdsd";
	th_server_start(&s, NULL);
	assert_int_equal(run_sync(home, "60", "500"), 0);
	check_same(&s, home, 1200);
	th_server_stop(&s, SIGTERM);
}

/*
 * Signs the server's certificate again with its own CA, valid from
 * from_days to to_days (from now) and made out to san: a certificate
 * that fails one check only.
 */
static void
resign(struct th_server *s, long from_days, long to_days, const char *san)
{
	X509 *ca, *crt;
	EVP_PKEY *key;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	FILE *fp;

	assert_non_null(fp = fopen(th_path(s->dir, "ca.pem"), "r"));
	assert_non_null(ca = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_non_null(fp = fopen(th_path(s->dir, "ca.key"), "r"));
	assert_non_null(key = PEM_read_PrivateKey(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_non_null(fp = fopen(th_path(s->dir, "server.pem"), "r"));
	assert_non_null(crt = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	X509_gmtime_adj(X509_getm_notBefore(crt), from_days * 86400L);
	X509_gmtime_adj(X509_getm_notAfter(crt), to_days * 86400L);
	X509_EXTENSION_free(X509_delete_ext(crt, X509_get_ext_by_NID(crt,
	    NID_subject_alt_name, -1)));
	X509V3_set_ctx(&ctx, ca, crt, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_subject_alt_name, san));
	assert_int_equal(X509_add_ext(crt, ext, -1), 1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(crt, key, EVP_sha256()) > 0);
	assert_non_null(fp = fopen(th_path(s->dir, "server.pem"), "w"));
	assert_int_equal(PEM_write_X509(fp, crt), 1);
	fclose(fp);
	X509_free(crt);
	X509_free(ca);
	EVP_PKEY_free(key);
}

/* "Not trusted" names the check that failed, and is never retried. */
static void
test_certificate_reasons(void **state)
{
	struct th_server s;
	const char *home;
	struct th_run r;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	home = client(&s, "BD");
	caseload(home, 2, 0);
	th_server_stop(&s, SIGTERM);
	resign(&s, -1, 30, "DNS:elsewhere.invalid");
	th_server_start(&s, NULL);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 5);
	says(r.err, "the server's certificate is not "
	    "trusted, so nothing was sent: it is not made out to localhost "
	    "(wrong name): check the address given at setup");
	assert_null(strstr(r.err, "gave up after"));	/* not retried */
	th_run_free(&r);
	th_server_stop(&s, SIGTERM);
	resign(&s, -3, -1, "DNS:localhost,IP:127.0.0.1");
	th_server_start(&s, NULL);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 5);
	says(r.err, "the server's certificate is not "
	    "trusted, so nothing was sent: it has expired: the server's "
	    "administrator must renew it");
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 8);
	th_server_stop(&s, SIGTERM);
	resign(&s, -1, 30, "DNS:localhost,IP:127.0.0.1");
	th_server_start(&s, NULL);
	assert_int_equal(run_sync(home, "10", "500"), 0);
	check_same(&s, home, 8);
	th_server_stop(&s, SIGTERM);
}

/*
 * Something completes the handshake with the server's own certificate,
 * then closes every connection unanswered: at the end of the budget the
 * worker reads that the server answered and the connection broke, never
 * that it was unreachable, and every record stays pending.
 */
static const char breaker[] =
    "import socket, ssl, sys, time\n"
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    /* the stopped server's port: another test's socket may hold it a while */
    "for i in range(200):\n"
    "    try:\n"
    "        s.bind(('127.0.0.1', int(sys.argv[3])))\n"
    "        break\n"
    "    except OSError:\n"
    "        if i == 199:\n"
    "            raise\n"
    "        time.sleep(0.05)\n"
    "s.listen(16)\n"
    "while True:\n"
    "    c, _ = s.accept()\n"
    "    try:\n"
    "        t = ctx.wrap_socket(c, server_side=True)\n"
    "        t.recv(1)\n"
    "        t.close()\n"
    "    except (OSError, ssl.SSLError):\n"
    "        c.close()\n";

/*
 * A device with 8 records pending for a server that has stopped, and at
 * its port instead the Python program script, given the server's
 * certificate and key before the port when tls: the program's pid.
 */
static pid_t
impostor(struct th_server *s, const char **home, const char *script,
    int tls)
{
	char port[16];
	pid_t pid;
	int i;

	th_server_init(s, NULL);
	th_server_start(s, NULL);
	*home = client(s, "BD");
	caseload(*home, 2, 0);
	th_server_stop(s, SIGTERM);
	snprintf(port, sizeof(port), "%d", s->port);
	if ((pid = fork()) == 0) {
		if (tls)
			execlp("python3", "python3", "-c", script,
			    th_path(s->dir, "server.pem"),
			    th_path(s->dir, "server.key"), port, (char *)NULL);
		else
			execlp("python3", "python3", "-c", script, port,
			    (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	for (i = 0; i < 240 && !th_can_connect(s->port); i++)
		usleep(50 * 1000);
	return pid;
}

static void
test_connection_breaks(void **state)
{
	struct th_server s;
	const char *home;
	struct th_run r;
	pid_t pid;

	(void)state;
	pid = impostor(&s, &home, breaker, 1);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--timeout", "2",
	    NULL);
	th_kill(pid, SIGKILL);
	assert_int_equal(r.status, 5);
	says(r.err, "broke before its answer was complete");
	says(r.err, "the server answered but the connection kept breaking; 8 "
	    "records kept pending");
	assert_null(strstr(r.err, "unreachable"));
	assert_null(strstr(r.err, "certificate"));
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 8);
}

/*
 * This device's disk is full (the store may not grow by a page) as it
 * syncs: marking a batch sent only takes rows out of the outbox, which
 * needs no room, so every answer is marked and nothing is sent twice.
 * (A store that cannot write at all: test_client_store_fails.)
 */
static void
test_client_disk_full(void **state)
{
	const char *argv[] = {"pcmds-fp", "--home", NULL, "sync", NULL};
	const char *env[] = {"PCMDS_TEST_DISK_PAGES=0", NULL};
	struct th_server s;
	const char *home;
	struct th_run r;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	home = client(&s, "NH");
	caseload(home, 300, 0);
	argv[2] = home;
	th_exec(&r, argv, NULL, env);
	assert_int_equal(r.status, 0);
	says(r.out, "sent 1200 (1200 new, 0 already there), quarantined 0, "
	    "pending 0");
	th_run_free(&r);
	check_same(&s, home, 1200);
	th_server_stop(&s, SIGTERM);
}

static void
test_wrong_ca(void **state)
{
	struct th_server s, other;
	const char *home = th_tmpdir();
	struct th_run r;

	(void)state;
	th_server_init(&s, NULL);
	th_server_init(&other, NULL);	/* its CA is not s's */
	th_server_start(&s, NULL);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", keyfile, "--server", s.url, "--code",
	    th_server_user(&s, "link_worker", "WF", NULL), "--cacert", other.ca,
	    NULL);
	assert_int_equal(r.status, 5);
	assert_non_null(strstr(r.err, "certificate is not trusted, so nothing "
	    "was sent: it is not signed by a CA this device trusts (unknown "
	    "CA)"));
	th_run_free(&r);
	/* http:// is never used */
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", keyfile, "--server", "http://localhost:1", "--code",
	    "X", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "https://"));
	th_run_free(&r);
	/* neither left a store behind */
	assert_int_not_equal(access(th_path(home, "pcmds.db"), F_OK), 0);
	/* a certificate for another name: enrol properly, then point away */
	home = client(&s, "WF");
	caseload(home, 2, 0);
	{
		char cfg[600], *text, *p;

		snprintf(cfg, sizeof(cfg), "%s/config", home);
		text = th_slurp(cfg, NULL);
		p = strstr(text, "https://localhost");
		memcpy(p, "https://127.0.0.1", 17);
		th_write(cfg, text);
		free(text);
	}
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--timeout", "2",
	    NULL);
	assert_int_equal(r.status, 0);	/* 127.0.0.1 is in the certificate */
	th_run_free(&r);
	th_server_stop(&s, SIGTERM);
}

static void
test_expired_and_revoked(void **state)
{
	struct th_server s;
	const char *home;
	char db[600], args[64];
	struct th_run r;
	long id;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	snprintf(db, sizeof(db), "%s/pcmds.db", s.dir);
	home = client(&s, "HV");
	caseload(home, 2, 0);
	th_sql(db, "UPDATE creds SET expires = 1 WHERE kind = 'device'");
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 6);
	assert_non_null(strstr(r.err, "enrolment expired or revoked: run "
	    "pcmds setup again"));
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 8);
	th_sql(db, "UPDATE creds SET expires = 9999999999 WHERE kind = "
	    "'device'");
	id = th_sql_long(db, "SELECT MAX(id) FROM users");
	snprintf(args, sizeof(args), "user revoke %ld", id);
	th_server_admin(&s, &r, args);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 6);
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 8);
	th_server_stop(&s, SIGTERM);
}

static void
test_other_identity_and_quarantine(void **state)
{
	struct th_server s;
	const char *home = th_tmpdir(), *code;
	char sql[2048];
	struct th_run r;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	/* an offline trial as someone else, then enrolment as BD */
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", keyfile, "--worker", "trial-1", "--place", "NH", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	caseload(home, 3, 0);
	code = th_server_user(&s, "link_worker", "BD", NULL);
	th_cmd(&r, NULL, "pcmds", "--home", home, "setup", "--server", s.url,
	    "--code", code, "--cacert", s.ca, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	caseload(home, 2, 100);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "12 records were made as worker trial-1, "
	    "place NH"));
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 12);	/* kept */
	assert_int_equal(client_count(home, "sent"), 8);
	/*
	 * A record the server refuses (a contact for a referral it has never
	 * seen, slipped into the store behind pcmds's back): quarantined with
	 * the reason, then withdrawn by a correction.
	 */
	{
		struct err_list errs;
		struct rec_opts o;
		struct cstore *cs;
		struct rec *rec;
		char *cfg = th_slurp(th_path(home, "config"), NULL), wid[64];
		int64_t seq;

		sscanf(strstr(cfg, "worker = ") + 9, "%63s", wid);
		free(cfg);
		err_init(&errs);
		rec_opts_init(&o, time(NULL));
		cs = th_store_open(home, NULL);
		assert_int_equal(cstore_next_seq(cs, &seq, &errs), PC_OK);
		snprintf(sql, sizeof(sql), "{\"id\":\"77777777-7777-4777-8777-"
		    "777777777777\",\"schema\":\"pcmds/1\",\"kind\":"
		    "\"contact\",\"recorded_at\":\"2026-03-01T10:00:00Z\","
		    "\"device_seq\":%lld,\"worker\":\"%s\",\"place\":\"BD\","
		    "\"referral\":\"88888888-8888-4888-8888-888888888888\","
		    "\"contact_on\":\"2026-03-01\",\"mode\":\"phone\","
		    "\"minutes\":5,\"attended\":true}", (long long)seq, wid);
		assert_int_equal(rec_parse(sql, strlen(sql), &o, &rec, &errs),
		    PC_OK);
		assert_int_equal(cstore_insert(cs, rec, &errs), PC_OK);
		rec_free(rec);
		cstore_close(cs);
		err_free(&errs);
	}
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "refused by the server"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "show", "7777", NULL);
	assert_non_null(strstr(r.out, "E_REFERRAL"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "status", NULL);
	assert_non_null(strstr(r.out, "77777777 contact"));
	assert_non_null(strstr(r.out, "E_REFERRAL"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "correct", "7777", "--void",
	    "--reason", "no such referral", NULL);
	assert_int_equal(r.status, 0);
	/* what is withdrawn is never sent, and the message says so */
	assert_non_null(strstr(r.err, "withdrawn: it never reached the "
	    "server and is not sent"));
	assert_null(strstr(r.err, "will be sent"));
	th_run_free(&r);
	assert_int_equal(client_count(home, "quarantined"), 0);
	assert_int_equal(client_count(home, "withdrawn"), 1);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_non_null(strstr(r.out, "sent 0 "));
	th_run_free(&r);
	th_server_stop(&s, SIGTERM);
}

/*
 * Something that is not a TLS server at the server's address (a plain
 * HTTP service, a port given wrongly): it answered, so the sync must not
 * call the server unreachable, nor blame a certificate.
 */
static const char plain_http[] =
    "import socket, sys, time\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "for i in range(200):\n"
    "    try:\n"
    "        s.bind(('127.0.0.1', int(sys.argv[1])))\n"
    "        break\n"
    "    except OSError:\n"
    "        if i == 199:\n"
    "            raise\n"
    "        time.sleep(0.05)\n"
    "s.listen(16)\n"
    "while True:\n"
    "    c, _ = s.accept()\n"
    "    try:\n"
    "        c.recv(4096)\n"
    "        c.sendall(b'HTTP/1.0 400 Bad Request\\r\\n\\r\\n')\n"
    "    except OSError:\n"
    "        pass\n"
    "    c.close()\n";

static void
test_not_tls(void **state)
{
	struct th_server s;
	const char *home;
	struct th_run r;
	pid_t pid;

	(void)state;
	pid = impostor(&s, &home, plain_http, 0);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--timeout", "1",
	    NULL);
	th_kill(pid, SIGKILL);
	assert_int_equal(r.status, 5);
	says(r.err, "something answered at https://");
	says(r.err, "but no TLS handshake with it completed; 8 records kept "
	    "pending");
	assert_null(strstr(r.err, "unreachable"));
	assert_null(strstr(r.err, "cannot reach"));
	assert_null(strstr(r.err, "certificate"));
	th_run_free(&r);
	assert_int_equal(client_count(home, "pending"), 8);
}

static void
test_concurrent(void **state)
{
	struct th_server s;
	const char *a, *b;
	char exe[512];
	pid_t p[3];
	int i, st, ok = 0;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	a = client(&s, "BD");
	b = client(&s, "NH");
	caseload(a, 500, 0);
	caseload(b, 500, 1000);
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	/* two places at once, and the same client twice at once */
	for (i = 0; i < 3; i++) {
		const char *home = i == 1 ? b : a;

		if ((p[i] = fork()) == 0) {
			th_quiet(1);
			execl(exe, "pcmds", "--home", home, "sync", "--batch",
			    "100", (char *)NULL);
			_exit(127);
		}
	}
	for (i = 0; i < 3; i++) {
		waitpid(p[i], &st, 0);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	assert_int_equal(ok, 3);
	check_same(&s, a, 2000);
	check_same(&s, b, 2000);
	/* the second sync of a waited: nothing was sent twice */
	{
		struct th_http h;

		th_https(&s, "GET", "/metrics", NULL, NULL, 0, &h);
		assert_non_null(strstr(h.body,
		    "pcmds_records_total{result=\"stored\"} 4000"));
		assert_non_null(strstr(h.body,
		    "pcmds_records_total{result=\"duplicate\"} 0"));
		th_http_free(&h);
	}
	th_server_stop(&s, SIGTERM);
}

/* pg_restore into a new database, and the deployment pointed at it. */
static void
restore_pg(struct th_server *s, const char *backup)
{
	char conf[700], *text, *p;
	const char *uri = th_pg_db(NULL);
	struct th_run r;
	FILE *fp;

	th_cmd(&r, NULL, "pg_restore", "--no-owner", "-d", uri, backup, NULL);
	if (r.status != 0)
		fail_msg("pg_restore: %s", r.err);
	th_run_free(&r);
	snprintf(conf, sizeof(conf), "%s", s->conf);
	assert_non_null(text = th_slurp(conf, NULL));
	assert_non_null(p = strstr(text, "database = postgresql://"));
	assert_non_null(fp = fopen(conf, "w"));
	fprintf(fp, "%.*sdatabase = %s%s", (int)(p - text), text, uri,
	    p + strcspn(p, "\n"));
	fclose(fp);
	free(text);
}

static void
test_restore_from_backup(void **state)
{
	struct th_server s;
	const char *home;
	char sdb[600], sql[700], backup[600];
	struct th_run r;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	snprintf(sdb, sizeof(sdb), "%s/pcmds.db", s.dir);
	snprintf(backup, sizeof(backup), "%s/backup.db", s.dir);
	home = client(&s, "WF");
	caseload(home, 10, 0);
	assert_int_equal(run_sync(home, "10", "500"), 0);
	/* an online backup, then more work acknowledged after it */
	if (th_store_pg()) {
		/* pg_dump, as the README's operations guide has it */
		th_cmd(&r, NULL, "pg_dump", "-Fc", "-f", backup, "-d",
		    th_db_uri(sdb), NULL);
		if (r.status != 0)
			fail_msg("pg_dump: %s", r.err);
		th_run_free(&r);
	} else {
		snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", backup);
		th_sql(sdb, sql);
	}
	caseload(home, 5, 100);
	assert_int_equal(run_sync(home, "10", "500"), 0);
	/* the server's disk is lost: restore the backup */
	th_server_stop(&s, SIGTERM);
	if (th_store_pg()) {
		restore_pg(&s, backup);
	} else {
		th_cmd(&r, NULL, "mv", backup, sdb, NULL);
		th_run_free(&r);
		th_cmd(&r, NULL, "rm", "-f", th_path(s.dir, "pcmds.db-wal"),
		    th_path(s.dir, "pcmds.db-shm"), NULL);
		th_run_free(&r);
	}
	th_server_start(&s, NULL);
	assert_int_equal(th_sql_long(sdb, "SELECT COUNT(*) FROM records"), 40);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--resend-all",
	    "--json", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"stored\":20,\"duplicate\":40"));
	th_run_free(&r);
	check_same(&s, home, 60);
	th_server_stop(&s, SIGTERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_sync),
		cmocka_unit_test(test_server_killed_before_commit),
		cmocka_unit_test(test_server_killed_after_commit),
		cmocka_unit_test(test_client_killed),
		cmocka_unit_test(test_client_killed_marking),
		cmocka_unit_test(test_client_killed_marked),
		cmocka_unit_test(test_client_store_fails),
		cmocka_unit_test(test_connection_cut),
		cmocka_unit_test(test_server_down),
		cmocka_unit_test(test_two_in_flight),
		cmocka_unit_test(test_server_restart_killed),
		cmocka_unit_test(test_server_restart_graceful),
		cmocka_unit_test(test_server_busy),
		cmocka_unit_test(test_small_max_body),
		cmocka_unit_test(test_server_disk_full),
		cmocka_unit_test(test_certificate_reasons),
		cmocka_unit_test(test_connection_breaks),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_client_disk_full),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_expired_and_revoked),
		cmocka_unit_test(test_other_identity_and_quarantine),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_restore_from_backup),
	};

	return cmocka_run_group_tests_name("sync", tests, up, NULL);
}

/*
 * test_sync.c - pcmds sync against a real pcmdsd, under faults.
 *
 * Every test ends the same way: the ids the client holds as sent are
 * exactly the ids the server stored for that device, no id twice, and
 * nothing left pending that should have been sent.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM records WHERE state "
	    "= '%s'", state);
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
	    "worker = '%s' AND id NOT IN (SELECT id FROM c.records WHERE state "
	    "= 'sent')", wid);
	assert_int_equal(joint(d, sql), 0);
	/* marked sent on the client but not stored on the server */
	assert_int_equal(joint(d, "SELECT COUNT(*) FROM c.records WHERE state "
	    "= 'sent' AND id NOT IN (SELECT id FROM main.records)"), 0);
	sqlite3_close(d);
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

	snprintf(env, sizeof(env), "PCMDS_FAILPOINT=%s:2", failpoint);
	th_server_init(&s, NULL);
	s.bin = "pcmdsd-fp";
	th_server_start(&s, envv);
	home = client(&s, "CH");
	caseload(home, 100, 0);
	assert_int_equal(run_sync(home, "2", "100"), 5);	/* unreachable */
	assert_true(client_count(home, "pending") > 0);
	assert_int_equal(client_count(home, "sent"), 100);	/* batch 1 */
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
	assert_non_null(strstr(r.err, "certificate is not trusted"));
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
	th_run_free(&r);
	assert_int_equal(client_count(home, "quarantined"), 0);
	assert_int_equal(client_count(home, "withdrawn"), 1);
	th_server_stop(&s, SIGTERM);
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
	snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", backup);
	th_sql(sdb, sql);
	caseload(home, 5, 100);
	assert_int_equal(run_sync(home, "10", "500"), 0);
	/* the server's disk is lost: restore the backup */
	th_server_stop(&s, SIGTERM);
	th_cmd(&r, NULL, "mv", backup, sdb, NULL);
	th_run_free(&r);
	th_cmd(&r, NULL, "rm", "-f", th_path(s.dir, "pcmds.db-wal"),
	    th_path(s.dir, "pcmds.db-shm"), NULL);
	th_run_free(&r);
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
		cmocka_unit_test(test_connection_cut),
		cmocka_unit_test(test_server_down),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_expired_and_revoked),
		cmocka_unit_test(test_other_identity_and_quarantine),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_restore_from_backup),
	};

	return cmocka_run_group_tests_name("sync", tests, up, NULL);
}

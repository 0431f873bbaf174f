/*
 * test_failures.c - the server when its database fails: walks over rows
 * that stop part-way, a full disk, a lock held by an administration
 * command, a page that cannot be made whole; and the threads that check
 * batches, the administration commands' messages and their options.
 *
 * The database failures are real: pages of the SQLite file overwritten
 * under it, SQLite's own max_page_count for a full disk (pcmdsd-fp), a
 * write lock taken by another connection.
 */
#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"
#include "store.h"

#define PERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"

/* A fresh store file with rows enough for several pages of each table. */
static const char *
filled_store(void)
{
	static char path[600];
	struct err_list errs;
	struct store *st;

	snprintf(path, sizeof(path), "%s/store.db", th_tmpdir());
	err_init(&errs);
	assert_int_equal(store_open(path, &st, &errs), PC_OK);
	store_close(st);
	err_free(&errs);
	th_sql(path, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
	    "FROM c WHERE i < 2000) "
	    "INSERT INTO records(id, referral, kind, place, worker, hash, json,"
	    " user_id, received) SELECT printf('%08d-0000-4000-8000-"
	    "000000000000', i), printf('%08d-1111-4111-8111-111111111111', i),"
	    " 'referral', 'BD', 'w', randomblob(32), '{}', 1, 0 FROM c");
	th_sql(path, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
	    "FROM c WHERE i < 2000) "
	    "INSERT INTO audit(seq, at, actor, action, object, outcome, prev, "
	    "hash) SELECT i, 0, 'admin:t', 'x', printf('%0200d', i), 'ok', "
	    "zeroblob(32), zeroblob(32) FROM c");
	th_sql(path, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
	    "FROM c WHERE i < 2000) "
	    "INSERT INTO facts(referral, place, referred_on, exportable, data)"
	    " SELECT printf('%08d-1111-4111-8111-111111111111', i), 'BD', i, 1,"
	    " randomblob(100) FROM c");
	th_sql(path, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
	    "FROM c WHERE i < 1000) "
	    "INSERT INTO users(name, role, place, created) SELECT "
	    "printf('%0100d', i), 'evaluator', '', 0 FROM c");
	th_sql(path, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
	    "FROM c WHERE i < 1000) "
	    "INSERT INTO places(code, name, population) SELECT "
	    "printf('P%05d', i), printf('%0100d', i), 1 FROM c");
	th_sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
	return path;
}

/*
 * Overwrites the last leaf page of a table or index with zeros, as a
 * failing disk might: a walk over it reads the pages before, then fails.
 */
static void
spoil_last_leaf(const char *db, const char *name)
{
	char sql[256];
	long page, size = th_sql_long(db, "PRAGMA page_size");
	char zeros[65536] = {0};
	int fd;

	snprintf(sql, sizeof(sql), "SELECT MAX(pageno) FROM dbstat WHERE name "
	    "= '%s' AND pagetype = 'leaf'", name);
	page = th_sql_long(db, sql);
	assert_true(page > 1);
	assert_true(size > 0 && size <= (long)sizeof(zeros));
	assert_true((fd = open(db, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, zeros, (size_t)size, (off_t)((page - 1) *
	    size)), size);
	close(fd);
}

static int
count_place(void *arg, const struct store_place *p)
{
	(void)p;
	(*(long *)arg)++;
	return 0;
}

static int
count_user(void *arg, const struct store_user *u)
{
	(void)u;
	(*(long *)arg)++;
	return 0;
}

static int
count_audit(void *arg, const struct store_audit *a)
{
	(void)a;
	(*(long *)arg)++;
	return 0;
}

static int
count_fact(void *arg, int64_t key, const void *blob, size_t len)
{
	(void)key;
	(void)blob;
	(void)len;
	(*(long *)arg)++;
	return 0;
}

static int
count_referral(void *arg, const char *referral)
{
	(void)referral;
	(*(long *)arg)++;
	return 0;
}

enum walk { W_PLACES, W_USERS, W_AUDIT, W_FACTS, W_REFERRALS, W_COUNT };

static pc_rc
walk(struct store *st, enum walk w, long *n)
{
	int64_t count;
	pc_rc rc;

	*n = 0;
	switch (w) {
	case W_PLACES:
		return store_place_each(st, count_place, n);
	case W_USERS:
		return store_user_each(st, count_user, n);
	case W_AUDIT:
		return store_audit_each(st, count_audit, n);
	case W_FACTS:
		return store_fact_each(st, count_fact, n);
	case W_REFERRALS:
		return store_referral_each(st, count_referral, n);
	default:
		rc = store_record_count(st, &count);
		*n = (long)count;
		return rc;
	}
}

/*
 * Every walk over rows and the record count: whole, PC_OK; stopped
 * part-way by the database, PC_ESTORE, never PC_OK with part of the
 * rows (a rebuild of the facts, an audit verification would take that
 * part for the whole).
 */
static void
test_walks_report_failure(void **state)
{
	static const struct {
		enum walk	 w;
		const char	*tree;
		long		 whole;
	} cases[] = {
		{W_PLACES, "places", 1000},
		{W_USERS, "users", 1000},
		{W_AUDIT, "audit", 2000},
		{W_FACTS, "facts", 2000},
		{W_REFERRALS, "records_by_referral", 2000},
		{W_COUNT, "records", 2000},
	};
	struct err_list errs;
	struct store *st;
	const char *db;
	char why[512];
	size_t i;
	long n;

	(void)state;
	err_init(&errs);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		db = filled_store();
		assert_int_equal(store_open(db, &st, &errs), PC_OK);
		assert_int_equal(walk(st, cases[i].w, &n), PC_OK);
		assert_int_equal(n, cases[i].whole);
		store_close(st);
		spoil_last_leaf(db, cases[i].tree);
		if (cases[i].w == W_COUNT) {	/* it may count any index */
			spoil_last_leaf(db, "records_by_referral");
			spoil_last_leaf(db, "sqlite_autoindex_records_1");
			spoil_last_leaf(db, "records_by_audit");
		}
		assert_int_equal(store_open(db, &st, &errs), PC_OK);
		assert_int_equal(walk(st, cases[i].w, &n), PC_ESTORE);
		assert_int_equal(store_fault(st, why, sizeof(why)),
		    STORE_FAULT_IO);
		print_message("%s: %ld of %ld rows read, then: %s\n",
		    cases[i].tree, n, cases[i].whole, why);
		assert_true(n < cases[i].whole);
		assert_non_null(strstr(why, db));
		store_close(st);
	}
	err_free(&errs);
}

/* A deployment made by pcmdsd init, with users added (no server). */
static void
deployment(struct th_server *s, int users)
{
	struct th_run r;
	int i;

	th_server_init(s, NULL);
	for (i = 0; i < users; i++) {
		th_server_admin(s, &r, "user add --role evaluator --name "
		    "Someone-with-a-rather-long-name-for-the-audit-log");
		assert_int_equal(r.status, 0);
		th_run_free(&r);
	}
}

/* audit verify that could read only part of the log says so: exit 2. */
static void
test_audit_verify_partial(void **state)
{
	struct th_server s;
	struct th_run r;
	char db[700];

	(void)state;
	deployment(&s, 60);
	snprintf(db, sizeof(db), "%s/pcmds.db", s.dir);
	th_server_admin(&s, &r, "audit verify");
	assert_int_equal(r.status, 0);
	if (strstr(r.out, "audit log intact: 122 entries") == NULL)
		fail_msg("audit verify: %s%s", r.out, r.err);
	th_run_free(&r);
	th_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	spoil_last_leaf(db, "audit");
	th_server_admin(&s, &r, "audit verify");
	assert_int_equal(r.status, 2);
	assert_null(strstr(r.out, "intact"));
	if (strstr(r.err, "cannot read the whole audit log") == NULL ||
	    strstr(r.err, "it was not verified") == NULL ||
	    strstr(r.err, db) == NULL)
		fail_msg("audit verify: %s%s", r.out, r.err);
	th_run_free(&r);
}

/* Administration commands on a full disk name the directory. */
static void
test_admin_disk_full(void **state)
{
	struct th_server s;
	struct th_run r;
	char exe[700], csv[700], want[1400];
	const char *argv[] = {exe, "--config", s.conf, "places", "import", csv,
	    NULL};
	const char *env[] = {"PCMDS_TEST_DISK_PAGES=0", NULL};
	FILE *fp;
	int i;

	(void)state;
	deployment(&s, 0);
	snprintf(exe, sizeof(exe), "%s/pcmdsd-fp", th_build());
	snprintf(csv, sizeof(csv), "%s/many.csv", s.dir);
	assert_non_null(fp = fopen(csv, "w"));
	fprintf(fp, "code,name,population,population_source\n");
	for (i = 0; i < 1000; i++)	/* far more than a page can hold */
		fprintf(fp, "%c%c%c,Place %0120d,1000,Source %0180d\n",
		    'A' + i / 676, 'A' + i / 26 % 26, 'A' + i % 26, i, i);
	fclose(fp);
	th_exec(&r, argv, NULL, env);
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want), "pcmdsd: cannot import the places: the "
	    "disk holding %s is full (database %s/pcmds.db: database or disk "
	    "is full); nothing was changed", s.dir, s.dir);
	if (strstr(r.err, want) == NULL)
		fail_msg("expected \"%s\" in:\n%s%s", want, r.out, r.err);
	assert_null(strstr(r.out, "places imported"));
	th_run_free(&r);
	/* with room, the same command works */
	argv[0] = "pcmdsd";
	th_exec(&r, argv, NULL, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "1000 places imported"));
	th_run_free(&r);
}

/* A token and the worker id of a new link worker of place. */
static const char *
worker_token(struct th_server *s, const char *place, char worker[32])
{
	long id;
	const char *code = th_server_user(s, "link_worker", place, &id);
	char lower[8];
	size_t i;

	for (i = 0; place[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = (char)(place[i] - 'A' + 'a');
	lower[i] = '\0';
	snprintf(worker, 32, "%s-lw%ld", lower, id);
	return th_enrol(s, code, "0123456789abcdef");
}

/* A batch of n new referrals of worker at place BD, from number from. */
static char *
batch(const char *worker, int from, int n)
{
	size_t cap = (size_t)n * 700 + 64, len;
	char *b = malloc(cap);
	int i;

	assert_non_null(b);
	len = (size_t)snprintf(b, cap, "{\"records\":[");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len, "%s{\"id\":\"%08x-"
		    "2222-4222-8222-222222222222\",\"schema\":\"pcmds/1\","
		    "\"kind\":\"referral\",\"recorded_at\":"
		    "\"2026-03-01T10:00:00Z\",\"device_seq\":%d,\"worker\":"
		    "\"%s\",\"place\":\"BD\",\"referral\":\"%08x-2222-4222-8222-"
		    "222222222222\",\"person\":\"" PERSON "\",\"person_basis\":"
		    "\"nhs_number\",\"referred_on\":\"2026-03-01\",\"source\":"
		    "\"self\",\"reasons\":[\"stress\"],\"service\":\"general\","
		    "\"age\":40,\"gender\":\"female\",\"ethnicity\":\"A\","
		    "\"consent_evaluation\":true}", i ? "," : "", from + i,
		    from + i + 1, worker, from + i);
	snprintf(b + len, cap - len, "]}");
	return b;
}

/*
 * A write lock held by another process (an administration command in
 * the middle of its work) is waited for briefly, then the batch gets 503
 * with Retry-After and a sentence to pass on, instead of every request
 * stalling behind it; nothing of the batch is kept.
 */
static void
test_lock_held_503(void **state)
{
	struct th_server s;
	struct th_http h;
	char worker[32], db[700], *b, *log;
	const char *token;
	sqlite3 *lock;

	(void)state;
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	snprintf(db, sizeof(db), "%s/pcmds.db", s.dir);
	token = worker_token(&s, "BD", worker);
	assert_int_equal(sqlite3_open(db, &lock), SQLITE_OK);
	assert_int_equal(sqlite3_exec(lock, "BEGIN IMMEDIATE; INSERT INTO "
	    "meta(key, value) VALUES ('held', 'by the test')", NULL, NULL,
	    NULL), SQLITE_OK);
	b = batch(worker, 0, 10);
	th_post_records(&s, token, b, &h);
	assert_int_equal(h.status, 503);
	assert_string_equal(h.retry_after, "1");
	assert_non_null(strstr(h.body, "the server is busy with an "
	    "administration task; nothing of this batch was kept: send it "
	    "again in a moment"));
	th_http_free(&h);
	/* the server goes on answering what needs no write */
	th_https(&s, "GET", "/healthz", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	assert_int_equal(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(lock);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records"), 0);
	th_post_records(&s, token, b, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records"), 10);
	free(b);
	th_server_stop(&s, SIGTERM);
	log = th_slurp(s.log, NULL);
	if (strstr(log, "batch of 10 not stored, nothing kept: the database ")
	    == NULL || strstr(log, "is busy: another process") == NULL)
		fail_msg("the log does not say the database was busy:\n%s", log);
	free(log);
}

/* The ids of the server's threads named pcmdsd-check, sorted, as text. */
static void
check_threads(pid_t pid, char *out, size_t len, int *n)
{
	char dir[64], path[128], comm[64];
	struct dirent *e;
	size_t off = 0;
	long ids[64];
	int k = 0, i, j;
	DIR *d;
	FILE *fp;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL && k < 64) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), fp) != NULL &&
		    strcmp(comm, "pcmdsd-check\n") == 0)
			ids[k++] = atol(e->d_name);
		fclose(fp);
	}
	closedir(d);
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			long t = ids[j];

			ids[j] = ids[j - 1];
			ids[j - 1] = t;
		}
	out[0] = '\0';
	for (i = 0; i < k; i++)
		off += (size_t)snprintf(out + off, len - off, "%ld ", ids[i]);
	*n = k;
}

/*
 * The threads that share a large batch's checks are started with the
 * server and serve every batch: the same ones before and after, none
 * made per batch.
 */
static void
test_check_threads_made_once(void **state)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int want = (int)(cores < 4 ? cores : 4) - 1, n, i;
	char before[512], after[512], worker[32], *b;
	struct th_server s;
	struct th_http h;
	const char *token;

	(void)state;
	if (want < 1) {
		print_message("one core: no checking threads to look at\n");
		skip();
	}
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	token = worker_token(&s, "BD", worker);
	check_threads(s.pid, before, sizeof(before), &n);
	assert_int_equal(n, want);
	for (i = 0; i < 3; i++) {
		b = batch(worker, i * 200, 200);	/* large: shared out */
		th_post_records(&s, token, b, &h);
		assert_int_equal(h.status, 200);
		th_http_free(&h);
		free(b);
	}
	check_threads(s.pid, after, sizeof(after), &n);
	assert_string_equal(after, before);
	assert_int_equal(th_server_stop(&s, SIGTERM), 0);	/* joined */
}

/* A page the server cannot make whole is a 500, never a page with holes. */
static void
test_page_not_whole(void **state)
{
	const char *env[] = {"PCMDS_FAILPOINT=web-page-limit", NULL};
	struct th_server s;
	struct th_http h;

	(void)state;
	th_server_init(&s, NULL);
	s.bin = "pcmdsd-fp";
	th_server_start(&s, env);
	th_https(&s, "GET", "/login", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 500);
	assert_non_null(strstr(h.body, "The page could not be made"));
	assert_null(strstr(h.body, "Sign in"));
	th_http_free(&h);
	th_https(&s, "GET", "/login", NULL, NULL, 0, &h);	/* next: whole */
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "</html>"));
	th_http_free(&h);
	th_server_stop(&s, SIGTERM);
}

/* Options after the command, as git and systemctl take them. */
static void
test_options_after_command(void **state)
{
	struct th_server s;
	struct th_run r;
	char cmd[1400];
	pid_t pid;

	(void)state;
	th_server_init(&s, NULL);
	snprintf(cmd, sizeof(cmd), "%s/pcmdsd user list --config %s",
	    th_build(), s.conf);
	th_execf(&r, NULL, "%s", cmd);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	snprintf(cmd, sizeof(cmd), "--config=%s", s.conf);
	if ((pid = fork()) == 0) {
		int fd = open(s.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		char exe[700];

		snprintf(exe, sizeof(exe), "%s/pcmdsd", th_build());
		dup2(fd, 1);
		dup2(fd, 2);
		execl(exe, "pcmdsd", "serve", cmd, "--verbose", (char *)NULL);
		_exit(127);
	}
	s.pid = pid;
	{
		struct th_http h;
		int i;

		for (i = 0; i < 400; i++) {
			char *log = th_slurp(s.log, NULL);
			int up = log != NULL && strstr(log, " serving https://") !=
			    NULL;

			free(log);
			if (up)
				break;
			usleep(25 * 1000);
		}
		th_https(&s, "GET", "/healthz", NULL, NULL, 0, &h);
		assert_int_equal(h.status, 200);
		th_http_free(&h);
	}
	th_server_stop(&s, SIGTERM);
	/* a missing configuration: one sentence a line, no usage */
	th_execf(&r, NULL, "%s/pcmdsd serve --config %s/nope.conf", th_build(),
	    s.dir);
	assert_int_equal(r.status, 1);
	assert_null(strstr(r.err, "usage"));
	assert_null(strstr(r.err, "/etc/pcmds"
	    "/pcmdsd.conf: cannot read"));
	assert_non_null(strstr(r.err, "pcmdsd: cannot read "));
	assert_non_null(strstr(r.err, "nope.conf: No such file or directory\n"
	    "pcmdsd: the configuration is given with --config FILE"));
	th_run_free(&r);
	th_execf(&r, NULL, "%s/pcmdsd serve extra", th_build());
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "serve takes no argument extra\n"));
	th_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walks_report_failure),
		cmocka_unit_test(test_audit_verify_partial),
		cmocka_unit_test(test_admin_disk_full),
		cmocka_unit_test(test_lock_held_503),
		cmocka_unit_test(test_check_threads_made_once),
		cmocka_unit_test(test_page_not_whole),
		cmocka_unit_test(test_options_after_command),
	};

	return cmocka_run_group_tests_name("failures", tests, NULL, NULL);
}

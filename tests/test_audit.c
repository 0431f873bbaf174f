/*
 * test_audit.c - the audit log against someone holding a copy of the
 * database: a real server takes enrolments, batches of records (with a
 * colleague's correction of consent), exports; then, each on a fresh copy
 * of that database, entries are removed from the end, the table emptied,
 * the chain recomputed with plain SHA-256, an entry edited, a record's
 * content edited (its hash column made to match), records inserted and
 * deleted; pcmdsd audit verify must find each, naming the record, and an
 * old unkeyed database is sealed and checked after its upgrade. On
 * PostgreSQL (one chain per connection) the same, chain by chain; the
 * server runs with one worker, so its batches share one chain.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "audit.h"
#include "harness.h"

static struct th_server srv;
static char head[AUDIT_HEAD_LEN + 8], a_record[40];
static long chain;	/* of head: the one the batches went to */

static const char *
copy_of(const char *name)
{
	static char dir[600];

	snprintf(dir, sizeof(dir), "%s/%s", th_tmpdir(), name);
	th_copy_deployment(srv.dir, dir);
	return dir;
}

/* "AND chain = N" on PostgreSQL, where entries are numbered per chain. */
static const char *
in_chain(void)
{
	static char s[64];

	if (th_store_pg())
		snprintf(s, sizeof(s), " AND chain = %ld", chain);
	else
		s[0] = '\0';
	return s;
}

static const char *
db_of(const char *dir)
{
	return th_path(dir, "pcmds.db");
}

/* pcmdsd audit verify on a copy; r holds what it said. */
static void
verify(struct th_run *r, const char *dir, const char *heads, int status)
{
	char conf[700];

	snprintf(conf, sizeof(conf), "%s/pcmdsd.conf", dir);
	if (heads != NULL)
		th_cmd(r, NULL, "pcmdsd", "--config", conf, "audit", "verify",
		    "--head", heads, NULL);
	else
		th_cmd(r, NULL, "pcmdsd", "--config", conf, "audit", "verify",
		    NULL);
	if (r->status != status)
		fail_msg("audit verify: exit %d, wanted %d:\n%s%s", r->status,
		    status, r->out, r->err);
}

static void
expect_found(const char *dir, const char *heads, const char *what,
    const char *what2)
{
	struct th_run r;

	verify(&r, dir, heads, 1);
	if (strstr(r.out, what) == NULL || (what2 != NULL &&
	    strstr(r.out, what2) == NULL))
		fail_msg("audit verify did not say \"%s\":\n%s", what, r.out);
	th_run_free(&r);
}

static void
client_work(void)
{
	char home[512], cmd[1024], ref[16];
	struct th_run r;
	const char *key = th_path(th_tmpdir(), "k");

	snprintf(home, sizeof(home), "%s", th_tmpdir());
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", key, NULL);
	th_run_free(&r);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", key, "--server", srv.url, "--code",
	    th_server_user(&srv, "link_worker", "NH", NULL), "--cacert", srv.ca,
	    NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	snprintf(cmd, sizeof(cmd), "awk -v seed=5 -v place=NH -v n=30 -v "
	    "cmds=/dev/null -f packaging/caseload.awk > %s/c.csv", home);
	assert_int_equal(system(cmd), 0);
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", th_path(home,
	    "c.csv"), NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	/* two batches, so that the last entries are not the only ones */
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--batch", "40",
	    NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "list", "--json", NULL);
	{
		cJSON *j = th_json(r.out);

		snprintf(ref, sizeof(ref), "%s", uuid_short(cJSON_GetStringValue(
		    cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "id"))).s);
		cJSON_Delete(j);
	}
	th_run_free(&r);
	/* a correction of consent: an audit entry of its own */
	th_cmd(&r, NULL, "pcmds", "--home", home, "correct", ref, "--set",
	    "consent_evaluation=false", NULL);
	if (r.status != 0)
		fail_msg("correct %s: %s", ref, r.err);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
}

static int
up(void **state)
{
	char *log, *p, *q;
	struct th_http h;
	char auth[128];

	(void)state;
	th_server_init(&srv, "db_workers = 1");
	th_server_start(&srv, NULL);
	client_work();
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", th_enrol(&srv,
	    th_server_user(&srv, "evaluator", NULL, NULL), NULL));
	th_https(&srv, "GET", "/v1/export", (const char *[]){auth, NULL}, NULL,
	    0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	assert_int_equal(th_server_stop(&srv, SIGTERM), 0);
	/* the head the server logged as it stopped (of the batches' chain) */
	chain = th_store_pg() ? th_sql_long(db_of(srv.dir), "SELECT "
	    "MAX(audit_chain) FROM records") : 0;
	log = th_slurp(srv.log, NULL);
	for (p = log, q = NULL; (p = strstr(p, "audit head ")) != NULL; p++)
		if (!th_store_pg() || atol(p + 11) == chain)
			q = p;
	assert_non_null(q);
	assert_non_null(strstr(q, "(stop)"));
	snprintf(head, sizeof(head), "%.*s", (int)strcspn(q + 11, " "), q + 11);
	free(log);
	/* a record stored by the second batch */
	snprintf(a_record, sizeof(a_record), "%s", th_sql_text(db_of(srv.dir),
	    "SELECT id FROM records WHERE kind = 'referral' ORDER BY seq DESC "
	    "LIMIT 1"));
	assert_int_equal(strlen(a_record), 36);
	return 0;
}

static void
test_intact(void **state)
{
	const char *dir = copy_of("intact");
	struct th_run r;

	(void)state;
	verify(&r, dir, head, 0);
	assert_non_null(strstr(r.out, "audit log intact"));
	assert_non_null(strstr(r.out, "every head given found"));
	th_run_free(&r);
	/* each batch's entry lists its records; the consent change has its own */
	assert_true(th_sql_long(db_of(dir), "SELECT COUNT(*) FROM audit WHERE "
	    "action = 'records.ingest' AND records IS NOT NULL") >= 2);
	assert_int_equal(th_sql_long(db_of(dir), "SELECT COUNT(*) FROM records "
	    "WHERE audit_seq IS NULL"), 0);
	assert_int_equal(th_sql_long(db_of(dir), "SELECT COUNT(*) FROM audit "
	    "WHERE action = 'consent.change' AND outcome = "
	    "'consent_evaluation true -> false'"), 1);
	assert_int_equal(th_sql_long(db_of(dir), "SELECT COUNT(*) FROM audit "
	    "WHERE seq = 1 AND action = 'audit.seal'"), 1);
	if (th_store_pg())	/* every batch went to the one worker's chain */
		assert_int_equal(th_sql_long(db_of(dir), "SELECT COUNT(DISTINCT "
		    "audit_chain) FROM records"), 1);
}

static void
test_entries_removed_from_the_end(void **state)
{
	const char *dir = copy_of("truncated");
	struct th_run r;

	char sql[512];

	(void)state;
	th_sql_untrigger(db_of(dir), "audit");
	snprintf(sql, sizeof(sql), "DELETE FROM audit WHERE seq > (SELECT "
	    "MAX(seq) - 2 FROM audit WHERE 1 = 1%s)%s", in_chain(), in_chain());
	th_sql(db_of(dir), sql);
	/* the last entries were no batch: only the head kept elsewhere tells */
	verify(&r, dir, NULL, 0);
	th_run_free(&r);
	expect_found(dir, head, "entries were removed from its end", NULL);
	/* back past the last batch, the records say so themselves */
	snprintf(sql, sizeof(sql), "DELETE FROM audit WHERE seq >= (SELECT "
	    "MAX(seq) FROM audit WHERE action = 'records.ingest'%s)%s",
	    in_chain(), in_chain());
	th_sql(db_of(dir), sql);
	expect_found(dir, NULL, "which stored no records", NULL);
}

static void
test_table_emptied(void **state)
{
	const char *dir = copy_of("emptied");

	(void)state;
	th_sql_untrigger(db_of(dir), "audit");
	th_sql(db_of(dir), "DELETE FROM audit");
	expect_found(dir, NULL, "the audit log is empty", NULL);
}

/* The same on PostgreSQL: chain by chain. */
static void
recompute_pg(const char *db)
{
	uint8_t prev[SEC_SHA256_LEN] = {0};
	struct store_audit a;
	char sql[512], ph[2 * SEC_SHA256_LEN + 1], hh[2 * SEC_SHA256_LEN + 1];
	PGconn *c = PQconnectdb(th_db_uri(db));
	PGresult *res;
	int i;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	th_sql_untrigger(db, "audit");
	th_sql(db, "UPDATE audit SET records = NULL; UPDATE audit SET outcome "
	    "= 'nothing happened' WHERE action = 'export.start'");
	res = PQexec(c, "SELECT chain, seq, at, actor, action, object, outcome "
	    "FROM audit ORDER BY chain, seq");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	for (i = 0; i < PQntuples(res); i++) {
		memset(&a, 0, sizeof(a));
		a.chain = atol(PQgetvalue(res, i, 0));
		a.seq = atol(PQgetvalue(res, i, 1));
		a.at = atol(PQgetvalue(res, i, 2));
		a.actor = PQgetvalue(res, i, 3);
		a.action = PQgetvalue(res, i, 4);
		a.object = PQgetvalue(res, i, 5);
		a.outcome = PQgetvalue(res, i, 6);
		if (a.seq == 1)
			memset(prev, 0, sizeof(prev));
		memcpy(a.prev, prev, sizeof(prev));
		assert_int_equal(audit_hash(&a, NULL, a.hash), PC_OK);
		sec_hex(a.prev, SEC_SHA256_LEN, ph);
		sec_hex(a.hash, SEC_SHA256_LEN, hh);
		snprintf(sql, sizeof(sql), "UPDATE audit SET prev = '\\x%s', "
		    "hash = '\\x%s' WHERE chain = %lld AND seq = %lld", ph, hh,
		    (long long)a.chain, (long long)a.seq);
		th_sql(db, sql);
		memcpy(prev, a.hash, sizeof(prev));
	}
	PQclear(res);
	PQfinish(c);
}

/* Plays someone with the database but not the secret: every entry. */
static void
recompute_sha256(const char *db)
{
	uint8_t prev[SEC_SHA256_LEN] = {0};
	struct store_audit a;
	sqlite3 *d;
	sqlite3_stmt *s, *u;

	if (th_store_pg()) {
		recompute_pg(db);
		return;
	}
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	assert_int_equal(sqlite3_exec(d, "DROP TRIGGER audit_no_update; UPDATE "
	    "audit SET records = NULL; UPDATE audit SET outcome = 'nothing "
	    "happened' WHERE action = 'export.start'", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(d, "SELECT seq, at, actor, action, "
	    "object, outcome FROM audit ORDER BY seq", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(d, "UPDATE audit SET prev = ?, "
	    "hash = ? WHERE seq = ?", -1, &u, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.seq = sqlite3_column_int64(s, 0);
		a.at = sqlite3_column_int64(s, 1);
		a.actor = (const char *)sqlite3_column_text(s, 2);
		a.action = (const char *)sqlite3_column_text(s, 3);
		a.object = (const char *)sqlite3_column_text(s, 4);
		a.outcome = (const char *)sqlite3_column_text(s, 5);
		memcpy(a.prev, prev, sizeof(prev));
		assert_int_equal(audit_hash(&a, NULL, a.hash), PC_OK);
		sqlite3_bind_blob(u, 1, a.prev, SEC_SHA256_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(u, 2, a.hash, SEC_SHA256_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(u, 3, a.seq);
		assert_int_equal(sqlite3_step(u), SQLITE_DONE);
		sqlite3_reset(u);
		memcpy(prev, a.hash, sizeof(prev));
	}
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	sqlite3_close(d);
}

static void
test_chain_recomputed(void **state)
{
	const char *dir = copy_of("recomputed");

	(void)state;
	recompute_sha256(db_of(dir));
	expect_found(dir, NULL, "no entry is keyed", "which stored no records");
	/* and a head kept elsewhere no longer matches */
	expect_found(dir, head, "not the one recorded as a head", NULL);
}

static void
test_entry_edited(void **state)
{
	const char *dir = copy_of("entry");

	(void)state;
	th_sql_untrigger(db_of(dir), "audit");
	th_sql(db_of(dir), "UPDATE audit SET actor = 'user:1' WHERE action = "
	    "'export.start'");
	expect_found(dir, NULL, "BROKEN at entry", "was changed after it was "
	    "written");
}

/* Edits a record's content and, as a careful tamperer, its hash too. */
static void
edit_record(const char *db, const char *id)
{
	char sql[4096], *json, *p, hex[2 * SEC_SHA256_LEN + 1];
	uint8_t digest[SEC_SHA256_LEN];
	sqlite3 *d;
	sqlite3_stmt *s;

	if (th_store_pg()) {
		snprintf(sql, sizeof(sql), "SELECT json FROM records WHERE id = "
		    "'%s'", id);
		json = strdup(th_sql_text(db, sql));
		assert_non_null(p = strstr(json, "\"age\":"));
		p[6] = p[6] == '9' ? '8' : '9';
		sec_sha256(json, strlen(json), digest);
		sec_hex(digest, sizeof(digest), hex);
		th_sql_untrigger(db, "records");
		/* the record's JSON holds no quote to escape */
		assert_null(strchr(json, '\''));
		snprintf(sql, sizeof(sql), "UPDATE records SET json = '%s', hash "
		    "= '\\x%s' WHERE id = '%s'", json, hex, id);
		th_sql(db, sql);
		free(json);
		return;
	}
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT json FROM records WHERE id = '%s'",
	    id);
	assert_int_equal(sqlite3_prepare_v2(d, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	json = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	assert_non_null(p = strstr(json, "\"age\":"));
	p[6] = p[6] == '9' ? '8' : '9';
	sec_sha256(json, strlen(json), digest);
	assert_int_equal(sqlite3_exec(d, "DROP TRIGGER records_immutable", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(d, "UPDATE records SET json = ?, "
	    "hash = ? WHERE id = ?", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, digest, sizeof(digest), SQLITE_STATIC);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	sqlite3_close(d);
	free(json);
}

static void
test_record_edited(void **state)
{
	const char *dir = copy_of("edited");

	(void)state;
	edit_record(db_of(dir), a_record);
	expect_found(dir, NULL, "was edited: its content is not what was "
	    "stored", a_record);
}

static void
test_record_inserted_and_deleted(void **state)
{
	const char *dir = copy_of("inserted");
	char sql[1024];

	(void)state;
	/* a copy under a new id, claiming the batch of the record it copies */
	snprintf(sql, sizeof(sql), "INSERT INTO records(id, referral, kind, "
	    "place, worker, hash, json, user_id, received, audit_seq%s) SELECT "
	    "'00000000-0000-4000-8000-00000000000a', referral, kind, place, "
	    "worker, hash, json, user_id, received, audit_seq%s FROM records "
	    "WHERE id = '%s'", th_store_pg() ? ", audit_chain" : "",
	    th_store_pg() ? ", audit_chain" : "", a_record);
	th_sql(db_of(dir), sql);
	/* and one naming no entry at all */
	snprintf(sql, sizeof(sql), "INSERT INTO records(id, referral, kind, "
	    "place, worker, hash, json, user_id, received) SELECT "
	    "'00000000-0000-4000-8000-00000000000b', referral, kind, place, "
	    "worker, hash, json, user_id, received FROM records WHERE id = "
	    "'%s'", a_record);
	th_sql(db_of(dir), sql);
	expect_found(dir, NULL, "record 00000000-0000-4000-8000-00000000000a "
	    "was inserted", "record 00000000-0000-4000-8000-00000000000b was "
	    "inserted");
	dir = copy_of("deleted");
	th_sql_untrigger(db_of(dir), "records");
	snprintf(sql, sizeof(sql), "DELETE FROM records WHERE id = '%s'",
	    a_record);
	th_sql(db_of(dir), sql);
	expect_found(dir, NULL, "was deleted", a_record);
}

/*
 * A database as the pcmdsd before the keyed chain left it (schema 2):
 * the new columns gone, every entry's hash plain SHA-256.
 */
static void
make_legacy(const char *db)
{
	th_sql(db, "DROP INDEX records_by_audit; ALTER TABLE records DROP "
	    "COLUMN audit_seq; DELETE FROM meta WHERE key = 'audit_unsealed';");
	recompute_sha256(db);
	th_sql(db, "ALTER TABLE audit DROP COLUMN records; DROP TRIGGER "
	    "assets_kept; DROP TABLE assets; DROP TABLE population; "
	    "DROP TABLE passwords; DROP TABLE oidc_links; DROP TABLE takeup; "
	    "PRAGMA user_version = 2");
}

static void
test_legacy_upgrade(void **state)
{
	const char *dir = copy_of("legacy");
	char conf[700], seal[200];
	struct th_run r;
	long n;

	(void)state;
	if (th_store_pg()) {
		print_message("no PostgreSQL database predates the keyed chain: "
		    "a SQLite one's upgrade is what this checks\n");
		skip();
	}
	make_legacy(db_of(dir));
	n = th_sql_long(db_of(dir), "SELECT MAX(seq) FROM audit");
	verify(&r, dir, NULL, 0);
	snprintf(seal, sizeof(seal), "1-%ld from before the keyed chain, "
	    "sealed by entry %ld", n, n + 1);
	assert_non_null(strstr(r.out, seal));
	th_run_free(&r);
	/* sealed once: a second run adds nothing */
	verify(&r, dir, NULL, 0);
	th_run_free(&r);
	assert_int_equal(th_sql_long(db_of(dir), "SELECT MAX(seq) FROM audit"),
	    n + 1);
	/* keyed after the seal: an administration command */
	snprintf(conf, sizeof(conf), "%s/pcmdsd.conf", dir);
	th_cmd(&r, NULL, "pcmdsd", "--config", conf, "user", "add", "--role",
	    "evaluator", "--name", "Second evaluator", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	verify(&r, dir, NULL, 0);
	th_run_free(&r);
	/* records from before the seal are held to it */
	edit_record(db_of(dir), a_record);
	expect_found(dir, NULL, "the records stored before the keyed log "
	    "changed after its seal", NULL);
	/* and the unkeyed chain is still checked */
	dir = copy_of("legacy-entry");
	make_legacy(db_of(dir));
	th_sql(db_of(dir), "UPDATE audit SET outcome = 'x' WHERE seq = 2");
	expect_found(dir, NULL, "BROKEN at entry 2", NULL);
}

static void
test_bad_head(void **state)
{
	const char *dir = copy_of("badhead");
	struct th_run r;

	(void)state;
	verify(&r, dir, "twelve", 2);
	assert_non_null(strstr(r.err, "--head takes SEQ:HASH"));
	th_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intact),
		cmocka_unit_test(test_entries_removed_from_the_end),
		cmocka_unit_test(test_table_emptied),
		cmocka_unit_test(test_chain_recomputed),
		cmocka_unit_test(test_entry_edited),
		cmocka_unit_test(test_record_edited),
		cmocka_unit_test(test_record_inserted_and_deleted),
		cmocka_unit_test(test_legacy_upgrade),
		cmocka_unit_test(test_bad_head),
	};

	return cmocka_run_group_tests_name("audit", tests, up, NULL);
}

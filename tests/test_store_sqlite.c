/*
 * test_store_sqlite.c - the SQLite store's export cursor: referrals in
 * the order of their facts, each with exactly its own records in the
 * order they were stored, however the records of many referrals lie
 * among each other; held to an independent reading of the same
 * database, one referral at a time with plain SQL. And its background
 * checkpoints keep its WAL to about their threshold while a writer
 * commits without a pause, as batches do under load: the WAL starts
 * again from its beginning, rather than growing by every commit. A
 * fact's update leaves its entry by place unwritten unless its place or
 * date change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "audit.h"
#include "harness.h"
#include "store.h"

#define NREF	3000	/* thousands, as an export reads ahead */

static char path[700];

static void
sql(sqlite3 *db, const char *s)
{
	char *err = NULL;

	if (sqlite3_exec(db, s, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", s, err);
}

static void
ref_id(int i, char id[UUID_LEN])
{
	snprintf(id, UUID_LEN, "00000000-0000-4000-8000-%012d", i);
}

/*
 * NREF referrals, two places, some not exportable; referral i has 1 + i %
 * 5 records, stored round by round in an order that changes each round,
 * so that every referral's records lie among everyone else's.
 */
static void
fill(sqlite3 *db)
{
	sqlite3_stmt *fact, *rec;
	char id[UUID_LEN], rid[UUID_LEN], json[160];
	int i, k, n = 0;

	sql(db, "BEGIN");
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO facts(referral, "
	    "place, referred_on, exportable, data) VALUES (?, ?, ?, ?, x'00')",
	    -1, &fact, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO records(id, "
	    "referral, kind, place, worker, hash, json, user_id, received) "
	    "VALUES (?, ?, 'contact', ?, 'w1', x'00', ?, 1, 0)", -1, &rec,
	    NULL), SQLITE_OK);
	for (i = 0; i < NREF; i++) {
		ref_id(i, id);
		sqlite3_bind_text(fact, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(fact, 2, i % 3 ? "NH" : "TH", -1,
		    SQLITE_STATIC);
		/* many referrals on one day, ordered by id within it */
		sqlite3_bind_int(fact, 3, 20000 + (NREF - i) / 7);
		sqlite3_bind_int(fact, 4, i % 11 != 0);
		assert_int_equal(sqlite3_step(fact), SQLITE_DONE);
		sqlite3_reset(fact);
	}
	for (k = 0; k < 5; k++)
		for (i = 0; i < NREF; i++) {
			int r = (int)(((long)i * (2 * k + 7) + k * 131) % NREF);

			if (k > r % 5)
				continue;
			ref_id(r, rid);
			snprintf(id, sizeof(id), "00000000-0000-4000-9000-%012d",
			    n++);
			snprintf(json, sizeof(json), "{\"id\":\"%s\",\"referral\":"
			    "\"%s\",\"round\":%d}", id, rid, k);
			sqlite3_bind_text(rec, 1, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(rec, 2, rid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(rec, 3, r % 3 ? "NH" : "TH", -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(rec, 4, json, -1, SQLITE_TRANSIENT);
			assert_int_equal(sqlite3_step(rec), SQLITE_DONE);
			sqlite3_reset(rec);
		}
	sqlite3_finalize(fact);
	sqlite3_finalize(rec);
	sql(db, "COMMIT");
	assert_true(n > 2 * NREF);
}

static int
up(void **state)
{
	struct store *st;
	struct err_list errs;
	sqlite3 *db;

	(void)state;
	snprintf(path, sizeof(path), "%s/pcmds.db", th_tmpdir());
	err_init(&errs);
	assert_int_equal(store_open(path, &st, &errs), PC_OK);
	store_close(st);
	err_free(&errs);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	fill(db);
	sqlite3_close(db);
	return 0;
}

/* The export of place (NULL: all), checked against plain SQL. */
static void
same_as_sql(const char *place, int32_t from, int32_t to)
{
	struct store *st;
	struct store_cursor *cur;
	struct store_export_ref ref;
	struct err_list errs;
	sqlite3 *db;
	sqlite3_stmt *refs, *recs;
	long nref = 0, ntext = 0;
	size_t i;

	err_init(&errs);
	assert_int_equal(store_open(path, &st, &errs), PC_OK);
	assert_int_equal(store_export_open(st, place, from, to, &cur), PC_OK);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, place ? "SELECT referral FROM "
	    "facts WHERE place = ?1 AND referred_on BETWEEN ?2 AND ?3 AND "
	    "exportable = 1 ORDER BY referred_on, referral" : "SELECT referral "
	    "FROM facts WHERE referred_on BETWEEN ?2 AND ?3 AND exportable = 1 "
	    "ORDER BY place, referred_on, referral", -1, &refs, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT json FROM records "
	    "WHERE referral = ? ORDER BY seq", -1, &recs, NULL), SQLITE_OK);
	if (place != NULL)
		sqlite3_bind_text(refs, 1, place, -1, SQLITE_STATIC);
	sqlite3_bind_int(refs, 2, from);
	sqlite3_bind_int(refs, 3, to);
	while (sqlite3_step(refs) == SQLITE_ROW) {
		const char *want = (const char *)sqlite3_column_text(refs, 0);

		assert_int_equal(store_export_next(cur, &ref), PC_OK);
		assert_string_equal(ref.id, want);
		sqlite3_bind_text(recs, 1, want, -1, SQLITE_TRANSIENT);
		for (i = 0; sqlite3_step(recs) == SQLITE_ROW; i++) {
			assert_true(i < ref.n);
			assert_int_equal(ref.len[i], (size_t)sqlite3_column_bytes(
			    recs, 0));
			assert_string_equal(ref.text[i],
			    (const char *)sqlite3_column_text(recs, 0));
		}
		assert_int_equal(i, ref.n);
		assert_true(ref.n > 0);
		ntext += (long)ref.n;
		nref++;
		sqlite3_reset(recs);
	}
	/* the end, and it stays the end */
	assert_int_equal(store_export_next(cur, &ref), PC_ENOTFOUND);
	assert_int_equal(ref.n, 0);
	assert_int_equal(store_export_next(cur, &ref), PC_ENOTFOUND);
	sqlite3_finalize(refs);
	sqlite3_finalize(recs);
	sqlite3_close(db);
	store_export_close(cur);
	store_close(st);
	err_free(&errs);
	if (from == INT32_MIN) {	/* every exportable referral there */
		assert_true(nref > NREF / 4);
		assert_true(ntext > 2 * nref);
	}
}

static void
test_export_one_place(void **state)
{
	(void)state;
	same_as_sql("NH", INT32_MIN, INT32_MAX);
	same_as_sql("TH", INT32_MIN, INT32_MAX);
}

static void
test_export_every_place(void **state)
{
	(void)state;
	same_as_sql(NULL, INT32_MIN, INT32_MAX);
}

static void
test_export_some_days(void **state)
{
	(void)state;
	same_as_sql("NH", 20100, 20300);
	same_as_sql("NH", 30000, 30001);	/* none */
}

#define NFACTS	300	/* the facts and their index span several pages */

/* WAL frames the commit of one fact_put wrote, with the key it gave. */
static long
fact_frames(struct store *st, const char *wal, long page, int i,
    const char *place, int32_t on, const char *data, int64_t *key)
{
	struct stat a, b;
	char id[UUID_LEN];

	ref_id(i, id);
	assert_int_equal(stat(wal, &a), 0);
	assert_int_equal(store_begin(st), PC_OK);
	assert_int_equal(store_fact_put(st, id, place, on, 1, data,
	    strlen(data), key), PC_OK);
	assert_int_equal(store_commit(st), PC_OK);
	assert_int_equal(stat(wal, &b), 0);
	return (long)(b.st_size - a.st_size) / (page + 24);
}

static void
test_fact_update_pages(void **state)
{
	const char *db = th_path(th_tmpdir(), "facts.db");
	char wal[4200], id[UUID_LEN], *ok;
	struct err_list errs;
	struct store *st;
	int64_t key, k;
	long page, same, moved;
	int i;

	(void)state;
	snprintf(wal, sizeof(wal), "%s-wal", db);
	err_init(&errs);
	assert_int_equal(store_open(db, &st, &errs), PC_OK);
	err_free(&errs);
	page = th_sql_long(db, "PRAGMA page_size");
	assert_int_equal(store_begin(st), PC_OK);
	for (i = 0; i < NFACTS; i++) {
		ref_id(i, id);
		assert_int_equal(store_fact_put(st, id, i % 2 ? "NH" : "TH",
		    20000 + i, 1, "first", 5, &key), PC_OK);
		assert_int_equal(key, i + 1);
	}
	assert_int_equal(store_commit(st), PC_OK);
	/* the same place and date: the fact's own page, not its index's */
	same = fact_frames(st, wal, page, 100, "TH", 20100, "second", &k);
	assert_int_equal(k, 101);
	moved = fact_frames(st, wal, page, 100, "NH", 20100, "third", &k);
	assert_int_equal(k, 101);
	print_message("frames: %ld for an update in place, %ld for a move\n",
	    same, moved);
	assert_int_equal(same, 1);
	assert_true(moved > same);
	/* a new date moves it too; a new fact still gets a new key */
	assert_true(fact_frames(st, wal, page, 100, "NH", 20500, "fourth",
	    &k) > same);
	assert_int_equal(k, 101);
	assert_true(fact_frames(st, wal, page, NFACTS, "TH", 1, "new", &k) > 0);
	assert_int_equal(k, NFACTS + 1);
	store_close(st);
	/* found by place and date where they are now (facts_by_place) */
	assert_int_equal(th_sql_long(db, "SELECT count(*) FROM facts WHERE "
	    "place = 'NH' AND referred_on = 20500 AND data = "
	    "CAST('fourth' AS BLOB)"), 1);
	assert_int_equal(th_sql_long(db, "SELECT count(*) FROM facts WHERE "
	    "place = 'TH' AND referred_on = 20100"), 0);
	assert_int_equal(th_sql_long(db, "SELECT count(*) FROM facts WHERE "
	    "place = 'NH'"), NFACTS / 2 + 1);
	ok = th_sql_dup(db, "PRAGMA integrity_check");
	assert_string_equal(ok, "ok");
	free(ok);
}

/* store_facts_of's callback: counts the facts it gives. */
static int
count_fact(void *arg, const char *referral, const void *blob, size_t len)
{
	(void)referral;
	(void)blob;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

/*
 * A fact the batch read (store_facts_of) is rewritten by the key read
 * with it; that key is a hint, checked: a fact that moves, or whose row
 * is gone or another's, is written as one not read, and each gets the
 * key its row has.
 */
static void
test_fact_put_read_first(void **state)
{
	const char *db = th_path(th_tmpdir(), "read.db");
	char ids[4][UUID_LEN];
	const char *refs[4];
	struct err_list errs;
	struct store *st;
	int64_t key;
	int i, seen = 0;

	(void)state;
	err_init(&errs);
	assert_int_equal(store_open(db, &st, &errs), PC_OK);
	err_free(&errs);
	for (i = 0; i < 4; i++) {
		ref_id(i, ids[i]);
		refs[i] = ids[i];
	}
	assert_int_equal(store_begin(st), PC_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(store_fact_put(st, ids[i], "TH", 20000 + i, 1,
		    "first", 5, &key), PC_OK);
		assert_int_equal(key, i + 1);
	}
	assert_int_equal(store_commit(st), PC_OK);
	assert_int_equal(store_begin(st), PC_OK);
	assert_int_equal(store_facts_of(st, refs, 4, count_fact, &seen),
	    PC_OK);
	assert_int_equal(seen, 3);
	/* in place; moved; not read (none stored) */
	assert_int_equal(store_fact_put(st, ids[0], "TH", 20000, 0, "second",
	    6, &key), PC_OK);
	assert_int_equal(key, 1);
	assert_int_equal(store_fact_put(st, ids[1], "NH", 20001, 1, "second",
	    6, &key), PC_OK);
	assert_int_equal(key, 2);
	assert_int_equal(store_fact_put(st, ids[3], "TH", 20003, 1, "new", 3,
	    &key), PC_OK);
	assert_int_equal(key, 4);
	assert_int_equal(store_commit(st), PC_OK);
	/* the rows gone after they were read: the keys read name others */
	assert_int_equal(store_begin(st), PC_OK);
	seen = 0;
	assert_int_equal(store_facts_of(st, refs, 4, count_fact, &seen),
	    PC_OK);
	assert_int_equal(seen, 4);
	assert_int_equal(store_fact_clear(st), PC_OK);
	/* at ids[0]'s key when it was read, with its place and date */
	assert_int_equal(store_fact_put(st, ids[2], "TH", 20000, 1, "third", 5,
	    &key), PC_OK);
	assert_int_equal(key, 1);
	assert_int_equal(store_fact_put(st, ids[0], "TH", 20000, 1, "third", 5,
	    &key), PC_OK);
	assert_int_equal(key, 2);
	assert_int_equal(store_commit(st), PC_OK);
	store_close(st);
	assert_int_equal(th_sql_long(db, "SELECT count(*) FROM facts"), 2);
	assert_int_equal(th_sql_long(db, "SELECT k FROM facts WHERE referral = "
	    "'00000000-0000-4000-8000-000000000002' AND data = "
	    "CAST('third' AS BLOB) AND referred_on = 20000"), 1);
	assert_int_equal(th_sql_long(db, "SELECT k FROM facts WHERE referral = "
	    "'00000000-0000-4000-8000-000000000000' AND data = "
	    "CAST('third' AS BLOB) AND referred_on = 20000"), 2);
}

#define CKPT_PAGES	10000	/* store_sqlite.c's threshold */
#define ENTRY_BYTES	3500	/* an entry's object: most of a page */
#define PER_COMMIT	1000
#define COMMITS		60	/* about six thresholds' worth of pages */

static void
test_wal_starts_again(void **state)
{
	static const uint8_t key[SEC_SHA256_LEN] = {9, 9, 9};
	static char object[ENTRY_BYTES + 1];
	const char *db = th_path(th_tmpdir(), "wal.db");
	char wal[4200];
	struct err_list errs;
	struct store *st;
	struct stat sb;
	long page, written = 0;
	int c, i;

	(void)state;
	memset(object, 'x', ENTRY_BYTES);
	err_init(&errs);
	if (store_open(db, &st, &errs) != PC_OK ||
	    store_background_checkpoints(st, &errs) != PC_OK)
		fail_msg("store: %s", errs.n ? errs.v[0].msg : "?");
	err_free(&errs);
	store_audit_key_set(st, key);
	for (c = 0; c < COMMITS; c++) {
		assert_int_equal(store_begin(st), PC_OK);
		for (i = 0; i < PER_COMMIT; i++) {
			/* each entry its own, as each batch's is */
			snprintf(object, 20, "%09d-%09d", c, i);
			object[19] = 'x';
			assert_int_equal(audit_log(st, 1700000000 + c, "test",
			    "test.fill", object, "ok"), PC_OK);
		}
		assert_int_equal(store_commit(st), PC_OK);
		written += PER_COMMIT;
	}
	snprintf(wal, sizeof(wal), "%s-wal", db);
	assert_int_equal(stat(wal, &sb), 0);
	store_close(st);
	page = th_sql_long(db, "PRAGMA page_size");
	/* every entry kept, and far more written than the WAL may hold */
	assert_int_equal(th_sql_long(db, "SELECT count(*) FROM audit WHERE "
	    "action = 'test.fill'"), written);
	assert_true(written * ENTRY_BYTES > 5L * CKPT_PAGES * page);
	print_message("WAL %lld bytes after %ld entries of %d bytes\n",
	    (long long)sb.st_size, written, ENTRY_BYTES);
	/*
	 * the threshold, and what the commits made while it was copied
	 * (growing without end, it would hold every page written)
	 */
	assert_true(sb.st_size < 3L * CKPT_PAGES * (page + 24));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_one_place),
		cmocka_unit_test(test_export_every_place),
		cmocka_unit_test(test_export_some_days),
		cmocka_unit_test(test_wal_starts_again),
		cmocka_unit_test(test_fact_update_pages),
		cmocka_unit_test(test_fact_put_read_first),
	};

	return cmocka_run_group_tests(tests, up, NULL);
}

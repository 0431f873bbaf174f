/*
 * test_cstore.c - the client store: schema, sequence, short ids, states,
 * immutability and refusal of a newer schema.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cstore.h"
#include "harness.h"

#define REF "0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f"

static struct rec_opts opts;

static struct rec *
mkrec(const char *id, const char *kind, int64_t seq, const char *extra)
{
	char text[2048];
	struct err_list errs;
	struct rec *r;

	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"schema\":\"pcmds/1\","
	    "\"kind\":\"%s\",\"recorded_at\":\"2026-05-01T10:00:00Z\","
	    "\"device_seq\":%lld,\"worker\":\"w\",\"place\":\"TH\","
	    "\"referral\":\"%s\",%s}", id, kind, (long long)seq, REF, extra);
	err_init(&errs);
	assert_int_equal(rec_parse(text, strlen(text), &opts, &r, &errs),
	    PC_OK);
	err_free(&errs);
	return r;
}

static struct rec *
mkref(int64_t seq)
{
	return mkrec(REF, "referral", seq, "\"person\":\"5a1f9c0d2e3b4a59687786"
	    "95a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5\",\"person_basis\":"
	    "\"local\",\"referred_on\":\"2026-03-01\",\"source\":\"self\","
	    "\"reasons\":[\"stress\"],\"service\":\"general\",\"age\":40,"
	    "\"gender\":\"male\",\"ethnicity\":\"A\",\"consent_evaluation\":"
	    "true");
}

static struct rec *
mkcontact(const char *id, int64_t seq)
{
	return mkrec(id, "contact", seq, "\"contact_on\":\"2026-03-02\","
	    "\"mode\":\"phone\",\"minutes\":5,\"attended\":true");
}

static int
count_rows(void *arg, const struct cstore_row *row)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

static void
test_store(void **state)
{
	const char *dir = th_tmpdir();
	struct cstore *cs;
	struct err_list errs;
	struct rec *a, *b, *c;
	struct timeline tl;
	char id[UUID_LEN], kind[16], ref[UUID_LEN], val[64];
	enum cstore_state st;
	long n[CS_NSTATES];
	int64_t seq;
	int rows = 0;

	(void)state;
	opts.today = date_from_ymd(2026, 11, 22);
	err_init(&errs);
	assert_int_equal(cstore_open(th_path(dir, "s.db"), &cs, &errs), PC_OK);
	assert_int_equal(cstore_next_seq(cs, &seq, &errs), PC_OK);
	assert_int_equal(seq, 1);
	a = mkref(1);
	b = mkcontact("0b7f0000-0000-4000-8000-000000000001", 2);
	c = mkcontact("aaaa0000-0000-4000-8000-000000000002", 3);
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	assert_int_equal(cstore_insert(cs, a, &errs), PC_OK);
	assert_int_equal(cstore_insert(cs, b, &errs), PC_OK);
	assert_int_equal(cstore_insert(cs, c, &errs), PC_OK);
	/* the same id twice is refused by the unique index */
	assert_int_equal(cstore_insert(cs, c, &errs), PC_ESTORE);
	assert_int_equal(cstore_commit(cs, &errs), PC_OK);
	err_clear(&errs);
	assert_int_equal(cstore_next_seq(cs, &seq, &errs), PC_OK);
	assert_int_equal(seq, 4);
	assert_int_equal(cstore_has(cs, REF), 1);
	assert_int_equal(cstore_has(cs, "aaaa0000-0000-4000-8000-000000000009"),
	    0);
	/* short ids */
	assert_int_equal(cstore_resolve(cs, "aaaa", id, kind, ref, &st, &errs),
	    PC_OK);
	assert_string_equal(kind, "contact");
	assert_string_equal(ref, REF);
	assert_int_equal(st, CS_PENDING);
	assert_int_equal(cstore_resolve(cs, "0B7F3C2E", id, kind, ref, &st,
	    &errs), PC_OK);
	assert_string_equal(id, REF);
	assert_int_equal(cstore_resolve(cs, "0b7f", id, kind, ref, &st, &errs),
	    PC_EAMBIGUOUS);
	assert_int_equal(cstore_resolve(cs, "bbbb", id, kind, ref, &st, &errs),
	    PC_ENOTFOUND);
	assert_int_equal(cstore_resolve(cs, "ab", id, kind, ref, &st, &errs),
	    PC_ENOTFOUND);	/* too short to be a prefix */
	assert_int_equal(cstore_resolve(cs, "a'; --", id, kind, ref, &st,
	    &errs), PC_ENOTFOUND);
	/* states */
	assert_int_equal(cstore_mark(cs, b->id, CS_SENT, NULL, &errs), PC_OK);
	assert_int_equal(cstore_mark(cs, c->id, CS_QUARANTINED,
	    "[{\"code\":\"E_CLOSED\"}]", &errs), PC_OK);
	assert_int_equal(cstore_counts(cs, n), PC_OK);
	assert_int_equal(n[CS_PENDING], 1);
	assert_int_equal(n[CS_SENT], 1);
	assert_int_equal(n[CS_QUARANTINED], 1);
	assert_int_equal(cstore_pending(cs, 0, 10, 0, count_rows, &rows), PC_OK);
	assert_int_equal(rows, 1);
	rows = 0;
	assert_int_equal(cstore_pending(cs, 0, 10, 1, count_rows, &rows), PC_OK);
	assert_int_equal(rows, 2);	/* and the sent one */
	assert_int_equal(cstore_supersede(cs, 3, &errs), PC_OK);
	assert_int_equal(cstore_supersede(cs, 2, &errs), PC_ESTORE);
	assert_int_equal(cstore_has(cs, c->id), 0);
	rows = 0;
	assert_int_equal(cstore_each(cs, CSF_ALL, count_rows, &rows), PC_OK);
	assert_int_equal(rows, 3);	/* superseded rows are kept */
	rows = 0;
	assert_int_equal(cstore_each(cs, CSF_LIVE, count_rows, &rows), PC_OK);
	assert_int_equal(rows, 2);
	assert_int_equal(cstore_timeline(cs, REF, &tl, &errs), PC_OK);
	assert_int_equal(tl.n, 2);
	tl_free(&tl);
	/* metadata */
	assert_int_equal(cstore_meta_get(cs, "last_sync", val, sizeof(val)),
	    PC_ENOTFOUND);
	assert_int_equal(cstore_meta_set(cs, "last_sync", "x", &errs), PC_OK);
	assert_int_equal(cstore_meta_set(cs, "last_sync", "y", &errs), PC_OK);
	assert_int_equal(cstore_meta_get(cs, "last_sync", val, sizeof(val)),
	    PC_OK);
	assert_string_equal(val, "y");
	cstore_close(cs);
	rec_free(a);
	rec_free(b);
	rec_free(c);
	err_free(&errs);
}

static void
test_schema_guard(void **state)
{
	const char *dir = th_tmpdir();
	struct cstore *cs;
	struct err_list errs;
	sqlite3 *db;

	(void)state;
	err_init(&errs);
	assert_int_equal(cstore_open(th_path(dir, "s.db"), &cs, &errs), PC_OK);
	cstore_close(cs);
	assert_int_equal(sqlite3_open(th_path(dir, "s.db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(cstore_open(th_path(dir, "s.db"), &cs, &errs),
	    PC_ESTORE);
	assert_non_null(strstr(errs.v[0].msg, "newer pcmds"));
	err_clear(&errs);
	th_write(th_path(dir, "junk.db"), "this is not a database at all......"
	    "................................................................");
	assert_int_equal(cstore_open(th_path(dir, "junk.db"), &cs, &errs),
	    PC_ESTORE);
	assert_true(errs.n > 0);
	err_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_schema_guard),
	};

	return cmocka_run_group_tests_name("cstore", tests, NULL, NULL);
}

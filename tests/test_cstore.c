/*
 * test_cstore.c - the client store: schema, sequence, short ids (in a
 * new store and in one upgraded from schema 3), states, immutability,
 * refusal of a newer schema, and encryption: what is sealed, rows that
 * cannot be swapped, a plain store encrypted whole.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
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

static uint8_t key[VAULT_KEY_LEN], sid[VAULT_ID_LEN];

/* A new store, encrypted under the test's key. */
static struct cstore *
open_new(const char *path)
{
	struct err_list errs;
	struct cstore *cs;

	err_init(&errs);
	assert_int_equal(cstore_open(path, &cs, &errs), PC_OK);
	assert_false(cstore_encrypted(cs));
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	assert_int_equal(cstore_encrypt(cs, key, sid, &errs), PC_OK);
	assert_int_equal(cstore_commit(cs, &errs), PC_OK);
	assert_true(cstore_encrypted(cs));
	err_free(&errs);
	return cs;
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
	cs = open_new(th_path(dir, "s.db"));
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

/* Resolves typed to a live record's id. */
static pc_rc
resolve(struct cstore *cs, const char *typed, char id[UUID_LEN],
    struct err_list *errs)
{
	char kind[16], ref[UUID_LEN];

	err_clear(errs);
	return cstore_resolve(cs, typed, id, kind, ref, NULL, errs);
}

static const char *const short_ids[] = {
	"019a0000-0000-7000-8000-c0ffee000001",	/* 0, v7 */
	"019a0000-0001-7000-8000-c0ffee000002",	/* 1, same short */
	"019a0000-0002-7000-8000-5eed5eed0003",	/* 2, v7 */
	"5eed5eed-0000-4000-8000-000000000004",	/* 3, v4, old form */
	"019a0000-0003-7000-8000-abcdef123456",	/* 4, v7 */
	"019a0000-0004-7000-8000-c0ffee110005",	/* 5, v7 */
};
#define NSHORT	(sizeof(short_ids) / sizeof(short_ids[0]))

/*
 * In cs's transaction: a referral (REF, seq 1) and a contact of each of
 * ids[0..n), seqs 2 on.
 */
static void
put_referral_contacts(struct cstore *cs, const char *const *ids, size_t n,
    struct err_list *errs)
{
	struct rec *r;
	size_t i;
	int64_t seq;

	opts.today = date_from_ymd(2026, 11, 22);
	r = mkref(1);
	assert_int_equal(cstore_insert(cs, r, errs), PC_OK);
	rec_free(r);
	for (i = 0; i < n; i++) {
		assert_int_equal(cstore_next_seq(cs, &seq, errs), PC_OK);
		r = mkcontact(ids[i], seq);
		assert_int_equal(cstore_insert(cs, r, errs), PC_OK);
		rec_free(r);
	}
}

/* A referral (REF) and a contact of each of short_ids, into cs. */
static void
short_fill(struct cstore *cs)
{
	struct err_list errs;

	err_init(&errs);
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	put_referral_contacts(cs, short_ids, NSHORT, &errs);
	assert_int_equal(cstore_commit(cs, &errs), PC_OK);
	err_free(&errs);
}

/* What short_fill stored resolves as it should, every way. */
static void
short_check(struct cstore *cs)
{
	const char *const *ids = short_ids;
	struct err_list errs;
	char id[UUID_LEN], sh[16];
	int64_t seq;

	err_init(&errs);
	/* the short id as shown, from the start of the last group */
	snprintf(sh, sizeof(sh), "%s", uuid_short(ids[4]).s);
	assert_string_equal(sh, "abcdef12");
	assert_int_equal(resolve(cs, sh, id, &errs), PC_OK);
	assert_string_equal(id, ids[4]);
	assert_int_equal(resolve(cs, "ABCD", id, &errs), PC_OK);
	assert_string_equal(id, ids[4]);
	assert_int_equal(resolve(cs, "abcdef123456", id, &errs), PC_OK);
	assert_int_equal(resolve(cs, ids[2], id, &errs), PC_OK);
	assert_string_equal(id, ids[2]);
	/* not from a version 7 id's first digits, its time */
	assert_int_equal(resolve(cs, "019a0000", id, &errs), PC_ENOTFOUND);
	assert_non_null(strstr(errs.v[0].msg, "no record here has the short "
	    "id 019a0000"));
	/* past the last group: nothing */
	assert_int_equal(resolve(cs, "abcdef1234567", id, &errs),
	    PC_ENOTFOUND);
	/* an older version's id: its new short id and its old one */
	assert_int_equal(resolve(cs, uuid_short(REF).s, id, &errs), PC_OK);
	assert_string_equal(id, REF);
	assert_int_equal(resolve(cs, "0b7f3c2e", id, &errs), PC_OK);
	assert_string_equal(id, REF);
	assert_int_equal(resolve(cs, REF, id, &errs), PC_OK);
	assert_string_equal(id, REF);
	/* ambiguous in the new form: both named, neither chosen */
	memset(id, 0, sizeof(id));
	assert_int_equal(resolve(cs, "c0ffee00", id, &errs), PC_EAMBIGUOUS);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, ids[0]));
	assert_non_null(strstr(errs.v[0].msg, ids[1]));
	assert_non_null(strstr(errs.v[0].msg, "type more of the short id"));
	assert_null(strstr(errs.v[0].msg, "and more"));
	assert_int_equal(resolve(cs, "c0ffee000002", id, &errs), PC_OK);
	assert_string_equal(id, ids[1]);
	/* ambiguous across the forms: a v7 short id, a v4 id's start */
	assert_int_equal(resolve(cs, "5eed5eed", id, &errs), PC_EAMBIGUOUS);
	assert_non_null(strstr(errs.v[0].msg, ids[2]));
	assert_non_null(strstr(errs.v[0].msg, ids[3]));
	assert_int_equal(resolve(cs, "5eed5eed0003", id, &errs), PC_OK);
	assert_string_equal(id, ids[2]);
	assert_int_equal(resolve(cs, "5eed5eed-0000", id, &errs), PC_OK);
	assert_string_equal(id, ids[3]);
	/* three that fit: two named and the rest said */
	assert_int_equal(resolve(cs, "c0ffee", id, &errs), PC_EAMBIGUOUS);
	assert_non_null(strstr(errs.v[0].msg, "and more"));
	/* nothing was changed by any of it */
	assert_int_equal(cstore_next_seq(cs, &seq, &errs), PC_OK);
	assert_int_equal(seq, 8);
	err_free(&errs);
}

static int outer_rows;

/* Each record of REF reads the whole referral again, from inside. */
static int
read_again(void *arg, const struct cstore_row *row)
{
	struct cstore *cs = arg;
	struct err_list errs;
	struct timeline tl;

	(void)row;
	outer_rows++;
	err_init(&errs);
	assert_int_equal(cstore_timeline(cs, REF, &tl, &errs), PC_OK);
	assert_int_equal(tl.n, 1 + NSHORT);
	tl_free(&tl);
	err_free(&errs);
	return 0;
}

static int
count_row(void *arg, const struct cstore_row *row)
{
	(void)row;
	++*(int *)arg;
	return 0;
}

/*
 * A referral's records read while a reading of them is under way (the
 * statement kept for them is in use): both whole, and after them the
 * kept one again.
 */
static void
test_referral_read_nested(void **state)
{
	struct cstore *cs;
	int n = 0;

	(void)state;
	cs = open_new(th_path(th_tmpdir(), "s.db"));
	short_fill(cs);
	assert_int_equal(cstore_referral_each(cs, REF, read_again, cs), PC_OK);
	assert_int_equal(outer_rows, 1 + NSHORT);
	assert_int_equal(cstore_referral_each(cs, REF, count_row, &n), PC_OK);
	assert_int_equal(n, 1 + NSHORT);
	cstore_close(cs);
}

struct pending_nest {
	struct cstore	*cs;
	int		 outer, inner;
};

/* Each pending row reads the pending rows after it again, from inside. */
static int
pending_again(void *arg, const struct cstore_row *row)
{
	struct pending_nest *pn = arg;
	int n = 0;

	pn->outer++;
	assert_int_equal(cstore_pending(pn->cs, row->seq, 100, 0, count_row,
	    &n), PC_OK);
	pn->inner += n;
	return 0;
}

/*
 * The pending rows, read with the statement kept for them again and
 * again as a sync does (from a seq, a limit at a time), while it is in
 * use (a nested reading), and after the rows change: each reading sees
 * the store as it then is.
 */
static void
test_pending_kept(void **state)
{
	struct pending_nest pn = {NULL, 0, 0};
	struct err_list errs;
	struct cstore *cs;
	int n = 0, total = 1 + (int)NSHORT;

	(void)state;
	err_init(&errs);
	pn.cs = cs = open_new(th_path(th_tmpdir(), "s.db"));
	short_fill(cs);
	assert_int_equal(cstore_pending(cs, 0, 100, 0, pending_again, &pn),
	    PC_OK);
	assert_int_equal(pn.outer, total);
	assert_int_equal(pn.inner, total * (total - 1) / 2);
	/* a limit at a time, from where the last reading ended */
	assert_int_equal(cstore_pending(cs, 0, 2, 0, count_row, &n), PC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cstore_pending(cs, 2, 100, 0, count_row, &n), PC_OK);
	assert_int_equal(n, total);
	/* one sent: no longer pending, but among the rows sent again */
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	assert_int_equal(cstore_mark(cs, REF, CS_SENT, NULL, &errs), PC_OK);
	assert_int_equal(cstore_commit(cs, &errs), PC_OK);
	n = 0;
	assert_int_equal(cstore_pending(cs, 0, 100, 0, count_row, &n), PC_OK);
	assert_int_equal(n, total - 1);
	n = 0;
	assert_int_equal(cstore_pending(cs, 0, 100, 1, count_row, &n), PC_OK);
	assert_int_equal(n, total);
	cstore_close(cs);
	err_free(&errs);
}

/*
 * Short ids are read from the random end of an id (uuid.h); a version 7
 * id's first digits are its time and name nothing, while the first
 * digits of the version 4 ids older versions made still do. A typed id
 * that fits two records, in either form, names both and resolves to
 * neither.
 */
static void
test_short_ids(void **state)
{
	struct cstore *cs;

	(void)state;
	cs = open_new(th_path(th_tmpdir(), "s.db"));
	short_fill(cs);
	short_check(cs);
	cstore_close(cs);
}

/*
 * Back from schema 5 to 4, as the previous pcmds wrote it: no outbox,
 * every state in the records table (the column's 'pending' of a record
 * out of the outbox was sent).
 */
#define SCHEMA_4 \
	"UPDATE records SET state = 'sent' WHERE state = 'pending' AND seq" \
	"  NOT IN (SELECT seq FROM outbox);" \
	"DROP VIEW record_states; DROP TRIGGER outbox_on_insert;" \
	"DROP TRIGGER outbox_on_state; DROP TABLE outbox;" \
	"PRAGMA user_version = 4;"

/* sql run on the database at path (as another program would) */
static int
db_exec(const char *path, const char *sql)
{
	sqlite3 *d;
	int rc;

	assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
	sqlite3_exec(d, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	rc = sqlite3_exec(d, sql, NULL, NULL, NULL);
	sqlite3_close(d);
	return rc;
}

/* The schema's version and its number of indexes of the short ids. */
static void
schema_of(const char *db, int *version, int *indexes)
{
	sqlite3 *d;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(d, "SELECT (SELECT user_version "
	    "FROM pragma_user_version), (SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'index' AND name IN ('records_by_short', "
	    "'records_old_ids'))", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*version = sqlite3_column_int(st, 0);
	*indexes = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(d);
}

/*
 * An encrypted store of the previous schema (3: no index of short ids)
 * is upgraded on open, before its key is given, and resolves as a new
 * one does, ambiguities included.
 */
static void
test_short_ids_upgraded(void **state)
{
	const char *db = th_path(th_tmpdir(), "s3.db");
	struct err_list errs;
	struct cstore *cs;
	sqlite3 *d;
	int v, n;

	(void)state;
	err_init(&errs);
	cs = open_new(db);
	short_fill(cs);
	cstore_close(cs);
	/* back to schema 3 as the previous pcmds wrote it */
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	assert_int_equal(sqlite3_exec(d, SCHEMA_4 "DROP INDEX records_by_short;"
	    " DROP INDEX records_old_ids; PRAGMA user_version = 3", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(d);
	schema_of(db, &v, &n);
	assert_int_equal(v, 3);
	assert_int_equal(n, 0);
	assert_int_equal(cstore_open(db, &cs, &errs), PC_OK);
	assert_true(cstore_encrypted(cs));
	assert_int_equal(cstore_key(cs, key, &errs), PC_OK);
	short_check(cs);
	cstore_close(cs);
	schema_of(db, &v, &n);
	assert_int_equal(v, CSTORE_SCHEMA_VERSION);
	assert_int_equal(n, 2);
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
	cs = open_new(th_path(dir, "s.db"));
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

static long
file_count(const char *path, const char *needle)
{
	long n = th_file_count(path, needle, strlen(needle));

	return n < 0 ? 0 : n;
}

/* Content, reasons and secrets are sealed; a locked store reads nothing. */
static void
test_sealed(void **state)
{
	const char *dir = th_tmpdir(), *db = th_path(dir, "s.db");
	static const char reason[] = "[{\"code\":\"E_CLOSED\",\"message\":"
	    "\"closed on the quince day\"}]";
	uint8_t other[VAULT_KEY_LEN] = {9};
	struct err_list errs;
	struct cstore *cs;
	struct rec *a, *b;
	struct buf v;
	sqlite3 *d;
	int rows = 0;

	(void)state;
	opts.today = date_from_ymd(2026, 11, 22);
	err_init(&errs);
	buf_init(&v, 0);
	cs = open_new(db);
	a = mkref(1);
	b = mkcontact("0b7f0000-0000-4000-8000-000000000001", 2);
	assert_int_equal(cstore_insert(cs, a, &errs), PC_OK);
	assert_int_equal(cstore_insert(cs, b, &errs), PC_OK);
	assert_int_equal(cstore_mark(cs, b->id, CS_QUARANTINED, reason, &errs),
	    PC_OK);
	assert_int_equal(cstore_secret_set(cs, "token", "tok-quince-77", 13,
	    &errs), PC_OK);
	assert_int_equal(cstore_secret_get(cs, "token", &v, &errs), PC_OK);
	assert_string_equal(v.p, "tok-quince-77");
	vault_buf_wipe(&v);
	cstore_close(cs);
	/* nothing of them in the file: the content, the reason, the token */
	assert_int_equal(file_count(db, "pcmds/1"), 0);
	assert_int_equal(file_count(db, "\"person\""), 0);
	assert_int_equal(file_count(db, "quince"), 0);
	assert_int_equal(file_count(db, "5a1f9c0d2e3b4a59"), 0);
	/* opened again: locked until the key, and only this store's key */
	assert_int_equal(cstore_open(db, &cs, &errs), PC_OK);
	assert_true(cstore_encrypted(cs));
	assert_int_equal(cstore_each(cs, CSF_ALL, count_rows, &rows), PC_EAUTH);
	assert_int_equal(cstore_insert(cs, a, &errs), PC_EAUTH);
	assert_int_equal(cstore_key(cs, other, &errs), PC_EAUTH);
	assert_int_equal(cstore_each(cs, CSF_ALL, count_rows, &rows), PC_EAUTH);
	err_clear(&errs);
	assert_int_equal(cstore_key(cs, key, &errs), PC_OK);
	assert_int_equal(cstore_each(cs, CSF_ALL, count_rows, &rows), PC_OK);
	assert_int_equal(rows, 2);
	cstore_close(cs);
	/*
	 * Someone with the disk swaps two rows' content (dropping the
	 * trigger that forbids it): each is bound to its row, so neither
	 * opens, and reading says so rather than showing the wrong record.
	 */
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	assert_int_equal(sqlite3_exec(d, "DROP TRIGGER records_immutable;"
	    "UPDATE records SET body = (SELECT body FROM records r WHERE r.seq "
	    "<> records.seq)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(d);
	assert_int_equal(cstore_open(db, &cs, &errs), PC_OK);
	assert_int_equal(cstore_key(cs, key, &errs), PC_OK);
	rows = 0;
	assert_int_equal(cstore_each(cs, CSF_ALL, count_rows, &rows),
	    PC_ESTORE);
	assert_int_equal(rows, 0);
	cstore_close(cs);
	rec_free(a);
	rec_free(b);
	err_free(&errs);
}

static int
copy_reason(void *arg, const struct cstore_row *row)
{
	assert_int_equal(row->state, CS_QUARANTINED);
	snprintf(arg, 64, "%s", row->reason ? row->reason : "");
	return 0;
}

/* A plain store of pcmds 0.9, with records, encrypted whole. */
static void
test_encrypt_plain(void **state)
{
	const char *dir = th_tmpdir(), *db = th_path(dir, "old.db");
	struct err_list errs;
	struct cstore *cs;
	struct timeline tl;
	sqlite3 *d;
	int64_t seq;
	int rows = 0;

	(void)state;
	opts.today = date_from_ymd(2026, 11, 22);
	err_init(&errs);
	/* schema 1 as pcmds 0.9 wrote it, with plain rows (seq 5 was used) */
	assert_int_equal(cstore_open(db, &cs, &errs), PC_OK);
	cstore_close(cs);
	{
		struct rec *a = mkref(1), *b = mkcontact(
		    "0b7f0000-0000-4000-8000-000000000001", 2);
		char sql[4096];

		assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
		snprintf(sql, sizeof(sql), "INSERT INTO records(seq, id, kind, "
		    "referral, json, hash, recorded_at) VALUES (1, '%s', "
		    "'referral', '%s', '%s', 'h', 't'), (2, '%s', 'contact', "
		    "'%s', '%s', 'h', 't'); UPDATE records SET state = "
		    "'quarantined', reason = '[{\"code\":\"E_REFERRAL\"}]' WHERE "
		    "seq = 2; UPDATE sqlite_sequence SET seq = 5", a->id,
		    a->referral, a->canon, b->id, b->referral, b->canon);
		assert_int_equal(sqlite3_exec(d, sql, NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(d);
		rec_free(a);
		rec_free(b);
	}
	assert_true(file_count(db, "pcmds/1") > 0);
	assert_int_equal(cstore_open(db, &cs, &errs), PC_OK);
	assert_false(cstore_encrypted(cs));
	/* a failed encryption (here: outside a transaction) changes nothing */
	assert_int_equal(cstore_encrypt(cs, key, sid, &errs), PC_EINVAL);
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	assert_int_equal(cstore_encrypt(cs, key, sid, &errs), PC_OK);
	assert_int_equal(cstore_commit(cs, &errs), PC_OK);
	assert_int_equal(cstore_scrub(cs, &errs), PC_OK);
	assert_int_equal(cstore_each(cs, CSF_ALL, count_rows, &rows), PC_OK);
	assert_int_equal(rows, 2);
	assert_int_equal(cstore_timeline(cs, REF, &tl, &errs), PC_OK);
	assert_int_equal(tl.n, 2);
	tl_free(&tl);
	/* the sequence goes on from the highest ever used */
	assert_int_equal(cstore_next_seq(cs, &seq, &errs), PC_OK);
	assert_int_equal(seq, 6);
	/* the state and its reason came across */
	{
		char why[64] = "";

		assert_int_equal(cstore_get(cs,
		    "0b7f0000-0000-4000-8000-000000000001", copy_reason, why),
		    PC_OK);
		assert_string_equal(why, "[{\"code\":\"E_REFERRAL\"}]");
	}
	cstore_close(cs);
	assert_int_equal(file_count(db, "pcmds/1"), 0);
	assert_int_equal(file_count(db, "E_REFERRAL"), 0);
	err_free(&errs);
}

/* The state of seq as the view record_states gives it, or "" when none. */
static void
view_state(const char *db, int64_t seq, char out[16])
{
	char sql[128], *v;

	snprintf(sql, sizeof(sql), "SELECT state FROM record_states WHERE seq "
	    "= %lld", (long long)seq);
	v = th_sql_dup(db, sql);
	snprintf(out, 16, "%s", v ? v : "");
	free(v);
}

static void
assert_view(const char *db, int64_t seq, const char *want)
{
	char got[16];

	view_state(db, seq, got);
	assert_string_equal(got, want);
}

static int
first_state(void *arg, const struct cstore_row *row)
{
	*(enum cstore_state *)arg = row->state;
	return 1;
}

/* Four records: 1 referral, 2-4 contacts; 2 sent, 3 quarantined. */
static struct cstore *
outbox_fill(const char *db)
{
	static const char *const ids[] = {
		"0b7f0000-0000-4000-8000-000000000002",
		"0b7f0000-0000-4000-8000-000000000003",
		"0b7f0000-0000-4000-8000-000000000004",
	};
	struct err_list errs;
	struct cstore *cs = open_new(db);
	int64_t two = 2;

	err_init(&errs);
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	put_referral_contacts(cs, ids, 3, &errs);
	assert_int_equal(cstore_mark_sent(cs, &two, 1, &errs), PC_OK);
	assert_int_equal(cstore_mark(cs, ids[1], CS_QUARANTINED,
	    "[{\"code\":\"E_REFERRAL\"}]", &errs), PC_OK);
	assert_int_equal(cstore_commit(cs, &errs), PC_OK);
	err_free(&errs);
	return cs;
}

/* What outbox_fill stored, read back every way a state is read. */
static void
outbox_check(struct cstore *cs, const char *db)
{
	long n[CS_NSTATES];
	enum cstore_state st = CS_NSTATES;
	int rows = 0;

	assert_int_equal(cstore_counts(cs, n), PC_OK);
	assert_int_equal(n[CS_PENDING], 2);
	assert_int_equal(n[CS_SENT], 1);
	assert_int_equal(n[CS_QUARANTINED], 1);
	assert_int_equal(cstore_pending(cs, 0, 10, 0, count_rows, &rows), PC_OK);
	assert_int_equal(rows, 2);
	rows = 0;
	assert_int_equal(cstore_each(cs, CSF_PENDING, count_rows, &rows),
	    PC_OK);
	assert_int_equal(rows, 2);
	rows = 0;
	assert_int_equal(cstore_pending(cs, 0, 10, 1, count_rows, &rows), PC_OK);
	assert_int_equal(rows, 3);
	assert_int_equal(cstore_get(cs, "0b7f0000-0000-4000-8000-000000000002",
	    first_state, &st), PC_OK);
	assert_int_equal(st, CS_SENT);
	assert_int_equal(cstore_pending(cs, 2, 1, 0, first_state, &st), PC_OK);
	assert_int_equal(st, CS_PENDING);
	assert_view(db, 1, "pending");
	assert_view(db, 2, "sent");
	assert_view(db, 3, "quarantined");
	assert_view(db, 4, "pending");
}

/*
 * The outbox holds exactly the records not acknowledged: inserting puts
 * a record in, a batch marked sent takes it out without writing its row,
 * a refusal takes it out, a requeue puts it back; the view and every
 * reading of states agree.
 */
static void
test_outbox(void **state)
{
	const char *db = th_path(th_tmpdir(), "s.db");
	struct err_list errs;
	struct cstore *cs;
	int64_t one = 1;
	long n[CS_NSTATES];

	(void)state;
	err_init(&errs);
	cs = outbox_fill(db);
	outbox_check(cs, db);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM outbox"), 2);
	/* marking sent wrote nothing of the record's own row */
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records WHERE "
	    "seq = 2 AND state = 'pending' AND synced_at IS NULL"), 1);
	/* the referral sent: its refused follow-up goes back to pending */
	assert_int_equal(cstore_mark_sent(cs, &one, 1, &errs), PC_OK);
	assert_int_equal(cstore_requeue_orphans(cs), 1);
	assert_view(db, 3, "pending");
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM outbox"), 2);
	/* sent twice (a duplicate's answer): still sent, nothing else */
	assert_int_equal(cstore_mark_sent(cs, &one, 1, &errs), PC_OK);
	assert_int_equal(cstore_counts(cs, n), PC_OK);
	assert_int_equal(n[CS_PENDING], 2);
	assert_int_equal(n[CS_SENT], 2);
	/* withdrawn: out of the outbox for good */
	assert_int_equal(cstore_mark(cs, "0b7f0000-0000-4000-8000-000000000004",
	    CS_WITHDRAWN, NULL, &errs), PC_OK);
	assert_view(db, 4, "withdrawn");
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM outbox"), 1);
	/* rolled back, a marking leaves the records in the outbox */
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	assert_int_equal(cstore_mark_sent(cs, (int64_t[]){3}, 1, &errs), PC_OK);
	cstore_rollback(cs);
	assert_view(db, 3, "pending");
	/* the outbox only names records, and never one twice */
	assert_int_not_equal(db_exec(db, "INSERT INTO outbox(seq) "
	    "VALUES (99)"), SQLITE_OK);
	cstore_close(cs);
	err_free(&errs);
}

/*
 * A store of schema 4 (every state in the records table, sent ones too)
 * is upgraded on open: its outbox is built from the pending records.
 */
static void
test_outbox_upgraded(void **state)
{
	const char *db = th_path(th_tmpdir(), "s4.db");
	struct err_list errs;
	struct cstore *cs;
	int v, n;

	(void)state;
	err_init(&errs);
	cs = outbox_fill(db);
	cstore_close(cs);
	assert_int_equal(db_exec(db, SCHEMA_4), SQLITE_OK);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records WHERE "
	    "state = 'sent'"), 1);
	schema_of(db, &v, &n);
	assert_int_equal(v, 4);
	assert_int_equal(cstore_open(db, &cs, &errs), PC_OK);
	assert_int_equal(cstore_key(cs, key, &errs), PC_OK);
	outbox_check(cs, db);
	cstore_close(cs);
	schema_of(db, &v, &n);
	assert_int_equal(v, CSTORE_SCHEMA_VERSION);
	err_free(&errs);
}

static int
copy_json(void *arg, const struct cstore_row *row)
{
	snprintf(arg, 2048, "%.*s", (int)row->json_len, row->json);
	return 0;
}

/*
 * A row read, then rolled back (an import row refused), its seq used
 * again by another record: reading gives the new record, not the one
 * the store opened before.
 */
static void
test_seq_reused(void **state)
{
	const char *dir = th_tmpdir();
	struct err_list errs;
	struct cstore *cs;
	struct rec *a, *b;
	char seen[2048];

	(void)state;
	opts.today = date_from_ymd(2026, 11, 22);
	err_init(&errs);
	cs = open_new(th_path(dir, "s.db"));
	a = mkref(1);
	b = mkrec(REF, "referral", 1, "\"person\":\"5a1f9c0d2e3b4a596877869"
	    "5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5\",\"person_basis\":"
	    "\"local\",\"referred_on\":\"2026-03-01\",\"source\":\"mdt\","
	    "\"reasons\":[\"stress\"],\"service\":\"general\",\"age\":70,"
	    "\"gender\":\"female\",\"ethnicity\":\"B\","
	    "\"consent_evaluation\":false");
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	assert_int_equal(cstore_insert(cs, a, &errs), PC_OK);
	assert_int_equal(cstore_get(cs, REF, copy_json, seen), PC_OK);
	assert_non_null(strstr(seen, "\"age\":40"));
	cstore_rollback(cs);
	assert_int_equal(cstore_begin(cs, &errs), PC_OK);
	assert_int_equal(cstore_insert(cs, b, &errs), PC_OK);
	assert_int_equal(cstore_commit(cs, &errs), PC_OK);
	assert_int_equal(cstore_get(cs, REF, copy_json, seen), PC_OK);
	assert_non_null(strstr(seen, "\"age\":70"));
	cstore_close(cs);
	rec_free(a);
	rec_free(b);
	err_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_short_ids),
		cmocka_unit_test(test_referral_read_nested),
		cmocka_unit_test(test_pending_kept),
		cmocka_unit_test(test_short_ids_upgraded),
		cmocka_unit_test(test_schema_guard),
		cmocka_unit_test(test_sealed),
		cmocka_unit_test(test_encrypt_plain),
		cmocka_unit_test(test_seq_reused),
		cmocka_unit_test(test_outbox),
		cmocka_unit_test(test_outbox_upgraded),
	};

	assert_int_equal(sec_random(key, sizeof(key)), PC_OK);
	assert_int_equal(sec_random(sid, sizeof(sid)), PC_OK);

	return cmocka_run_group_tests_name("cstore", tests, NULL, NULL);
}

/*
 * cstore.c - the client's SQLite store.
 *
 * Durability: WAL with synchronous=FULL, so a committed record survives a
 * crash or power cut. The schema is versioned with PRAGMA user_version
 * and migrated forwards on open; a store written by a newer pcmds is
 * refused rather than misread.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "cstore.h"
#include "date.h"

#define BUSY_MS	10000

struct cstore {
	sqlite3		*db;
	sqlite3_stmt	*ins;
	sqlite3_stmt	*mark;	/* prepared on first use: a sync marks many */
};

static const char *const state_names[CS_NSTATES] = {
	"pending", "sent", "quarantined", "superseded", "withdrawn",
};

/* Forward migrations: migrations[i] takes user_version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE meta("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL) STRICT;"
	"CREATE TABLE records("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  referral TEXT NOT NULL,"
	"  json TEXT NOT NULL,"
	"  hash TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
	"    ('pending','sent','quarantined','superseded','withdrawn')),"
	"  reason TEXT,"
	"  recorded_at TEXT NOT NULL,"
	"  synced_at TEXT) STRICT;"
	"CREATE UNIQUE INDEX records_live_id ON records(id)"
	"  WHERE state <> 'superseded';"
	"CREATE INDEX records_by_referral ON records(referral, seq);"
	"CREATE INDEX records_by_state ON records(state, seq);"
	"CREATE TRIGGER records_never_deleted BEFORE DELETE ON records BEGIN"
	"  SELECT RAISE(ABORT, 'pcmds records are never deleted'); END;"
	"CREATE TRIGGER records_immutable BEFORE UPDATE OF"
	"  seq, id, kind, referral, json, hash, recorded_at ON records BEGIN"
	"  SELECT RAISE(ABORT, 'pcmds records are immutable'); END;",

	/* 2: the place's directory of community assets, from the server */
	"CREATE TABLE assets("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  category TEXT NOT NULL,"
	"  contact TEXT NOT NULL DEFAULT '',"
	"  notes TEXT NOT NULL DEFAULT '',"
	"  active INTEGER NOT NULL DEFAULT 1) STRICT;",
};
#define NMIGRATIONS	(sizeof(migrations) / sizeof(migrations[0]))

const char *
cstore_state_name(enum cstore_state s)
{
	return s < CS_NSTATES ? state_names[s] : "unknown";
}

static enum cstore_state
state_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < CS_NSTATES; i++)
		if (strcmp(state_names[i], s) == 0)
			return (enum cstore_state)i;
	return CS_PENDING;
}

/*
 * SQLite's sentence, and for a full disk which directory to free space
 * in: "database or disk is full" alone does not say where.
 */
static void
db_why(struct cstore *cs, const char *msg, char *out, size_t len)
{
	const char *path = sqlite3_db_filename(cs->db, "main"), *slash;

	if ((sqlite3_errcode(cs->db) & 0xff) != SQLITE_FULL || path == NULL ||
	    (slash = strrchr(path, '/')) == NULL) {
		snprintf(out, len, "%s", msg);
		return;
	}
	snprintf(out, len, "the disk holding %.*s is full (%s): free some space "
	    "there", (int)(slash - path), path, msg);
}

static pc_rc
db_fail(struct cstore *cs, struct err_list *errs, const char *what)
{
	char why[ERR_MSG_MAX];

	if (errs != NULL) {
		db_why(cs, sqlite3_errmsg(cs->db), why, sizeof(why));
		err_add(errs, E_SYSTEM, "", "store: %s: %s", what, why);
	}
	return PC_ESTORE;
}

static pc_rc
exec(struct cstore *cs, const char *sql, struct err_list *errs)
{
	char *msg = NULL, why[ERR_MSG_MAX];

	if (sqlite3_exec(cs->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (errs != NULL) {
			db_why(cs, msg ? msg : sqlite3_errmsg(cs->db), why,
			    sizeof(why));
			err_add(errs, E_SYSTEM, "", "store: %s", why);
		}
		sqlite3_free(msg);
		return PC_ESTORE;
	}
	return PC_OK;
}

static pc_rc
migrate(struct cstore *cs, struct err_list *errs)
{
	sqlite3_stmt *st;
	char sql[64];
	int v = 0;
	size_t i;

	if (sqlite3_prepare_v2(cs->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(cs, errs, "reading schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v > (int)NMIGRATIONS) {
		err_add(errs, E_SYSTEM, "", "this store was written by a newer "
		    "pcmds (schema %d, this one knows %d); upgrade pcmds", v,
		    (int)NMIGRATIONS);
		return PC_ESTORE;
	}
	for (i = (size_t)v; i < NMIGRATIONS; i++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if (exec(cs, "BEGIN IMMEDIATE", errs) != PC_OK)
			return PC_ESTORE;
		if (exec(cs, migrations[i], errs) != PC_OK ||
		    exec(cs, sql, errs) != PC_OK) {
			cstore_rollback(cs);
			return PC_ESTORE;
		}
		if (exec(cs, "COMMIT", errs) != PC_OK)
			return PC_ESTORE;
	}
	return PC_OK;
}

#ifdef PCMDS_FAILPOINTS
/*
 * Test builds (pcmds-fp) only: PCMDS_TEST_DISK_PAGES=N lets the store grow
 * by N pages more, then its disk is "full" (max_page_count), as a small
 * file system would be.
 */
static pc_rc
test_disk_limit(struct cstore *cs, struct err_list *errs)
{
	const char *v = getenv("PCMDS_TEST_DISK_PAGES");
	sqlite3_stmt *st;
	char sql[64];
	long long pages = 0;

	if (v == NULL)
		return PC_OK;
	if (sqlite3_prepare_v2(cs->db, "PRAGMA page_count", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(cs, errs, "reading the size");
	if (sqlite3_step(st) == SQLITE_ROW)
		pages = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    pages + atoll(v));
	return exec(cs, sql, errs);
}
#else
#define test_disk_limit(cs, errs)	PC_OK
#endif

pc_rc
cstore_open(const char *path, struct cstore **out, struct err_list *errs)
{
	struct cstore *cs;

	*out = NULL;
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return PC_ENOMEM;
	if (sqlite3_open_v2(path, &cs->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_add(errs, E_SYSTEM, path, "cannot open the store %s: %s",
		    path, cs->db ? sqlite3_errmsg(cs->db) : "out of memory");
		cstore_close(cs);
		return PC_ESTORE;
	}
	sqlite3_busy_timeout(cs->db, BUSY_MS);
	if (exec(cs, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;", errs) != PC_OK ||
	    migrate(cs, errs) != PC_OK || test_disk_limit(cs, errs) != PC_OK) {
		cstore_close(cs);
		return PC_ESTORE;
	}
	if (sqlite3_prepare_v3(cs->db, "INSERT INTO records(seq, id, kind,"
	    " referral, json, hash, recorded_at) VALUES (?,?,?,?,?,?,?)", -1,
	    SQLITE_PREPARE_PERSISTENT, &cs->ins, NULL) != SQLITE_OK) {
		db_fail(cs, errs, "preparing");
		cstore_close(cs);
		return PC_ESTORE;
	}
	*out = cs;
	return PC_OK;
}

void
cstore_close(struct cstore *cs)
{
	if (cs == NULL)
		return;
	sqlite3_finalize(cs->ins);
	sqlite3_finalize(cs->mark);
	sqlite3_close(cs->db);
	free(cs);
}

pc_rc
cstore_lazy_commits(struct cstore *cs, struct err_list *errs)
{
	/* WAL with NORMAL: never corrupt, at worst the last commits undone */
	return exec(cs, "PRAGMA synchronous=NORMAL", errs);
}

pc_rc
cstore_begin(struct cstore *cs, struct err_list *errs)
{
	return exec(cs, "BEGIN IMMEDIATE", errs);
}

pc_rc
cstore_commit(struct cstore *cs, struct err_list *errs)
{
	return exec(cs, "COMMIT", errs);
}

void
cstore_rollback(struct cstore *cs)
{
	if (!sqlite3_get_autocommit(cs->db))
		(void)exec(cs, "ROLLBACK", NULL);
}

pc_rc
cstore_savepoint(struct cstore *cs, const char *name)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SAVEPOINT %s", name);
	return exec(cs, sql, NULL);
}

pc_rc
cstore_release(struct cstore *cs, const char *name)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "RELEASE %s", name);
	return exec(cs, sql, NULL);
}

void
cstore_rollback_to(struct cstore *cs, const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "ROLLBACK TO %s; RELEASE %s", name, name);
	(void)exec(cs, sql, NULL);
}

pc_rc
cstore_next_seq(struct cstore *cs, int64_t *seq, struct err_list *errs)
{
	sqlite3_stmt *st;
	int64_t a = 0, b = 0;

	/* sqlite_sequence remembers the highest seq ever used */
	if (sqlite3_prepare_v2(cs->db, "SELECT (SELECT COALESCE(MAX(seq), 0) "
	    "FROM records), (SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence "
	    "WHERE name = 'records')", -1, &st, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "reading the sequence");
	if (sqlite3_step(st) == SQLITE_ROW) {
		a = sqlite3_column_int64(st, 0);
		b = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	*seq = (a > b ? a : b) + 1;
	return PC_OK;
}

pc_rc
cstore_insert(struct cstore *cs, const struct rec *r, struct err_list *errs)
{
	sqlite3_stmt *st = cs->ins;
	const struct kind_info *ki = rec_kind_info(r->kind);
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, r->device_seq);
	sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ki->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->referral, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->canon, (int)r->canon_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->recorded_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_fail(cs, errs, "saving the record");
	return PC_OK;
}

int
cstore_has(struct cstore *cs, const char *id)
{
	sqlite3_stmt *st;
	int found;

	if (sqlite3_prepare_v2(cs->db, "SELECT 1 FROM records WHERE id = ? AND "
	    "state <> 'superseded'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int
is_hex_prefix(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 4 || n > 36)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

pc_rc
cstore_resolve(struct cstore *cs, const char *prefix, char id[UUID_LEN],
    char kind[16], char referral[UUID_LEN], enum cstore_state *state,
    struct err_list *errs)
{
	sqlite3_stmt *st;
	char lower[40], hi[48];
	size_t i, n = strlen(prefix);
	int found = 0;

	if (!is_hex_prefix(prefix)) {
		err_add(errs, E_UUID, "", "'%s' is not a record id: give the "
		    "short id shown when it was recorded (8 hex digits) or any "
		    "unique start of it (at least 4)", prefix);
		return PC_ENOTFOUND;
	}
	for (i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)prefix[i]);
	/* a range scan on the id index: ids hold only 0-9, a-f and '-' */
	snprintf(hi, sizeof(hi), "%s~", lower);
	if (sqlite3_prepare_v2(cs->db, "SELECT id, kind, referral, state FROM "
	    "records WHERE id >= ? AND id < ? AND state <> 'superseded' "
	    "LIMIT 2", -1, &st, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "looking up the id");
	sqlite3_bind_text(st, 1, lower, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (found++ > 0)
			break;
		snprintf(id, UUID_LEN, "%s", sqlite3_column_text(st, 0));
		snprintf(kind, 16, "%s", sqlite3_column_text(st, 1));
		snprintf(referral, UUID_LEN, "%s", sqlite3_column_text(st, 2));
		if (state != NULL)
			*state = state_parse((const char *)
			    sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	if (found == 0) {
		err_add(errs, E_REFERRAL, "", "no record here has an id "
		    "starting %s", lower);
		return PC_ENOTFOUND;
	}
	if (found > 1) {
		err_add(errs, E_REFERRAL, "", "more than one record has an id "
		    "starting %s: give more digits", lower);
		return PC_EAMBIGUOUS;
	}
	return PC_OK;
}

static void
read_row(sqlite3_stmt *st, struct cstore_row *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	r->id = (const char *)sqlite3_column_text(st, 1);
	r->kind = (const char *)sqlite3_column_text(st, 2);
	r->referral = (const char *)sqlite3_column_text(st, 3);
	r->json = (const char *)sqlite3_column_text(st, 4);
	r->json_len = (size_t)sqlite3_column_bytes(st, 4);
	r->state = state_parse((const char *)sqlite3_column_text(st, 5));
	r->reason = (const char *)sqlite3_column_text(st, 6);
	r->recorded_at = (const char *)sqlite3_column_text(st, 7);
	r->synced_at = (const char *)sqlite3_column_text(st, 8);
}

#define ROW_COLS "seq, id, kind, referral, json, state, reason, " \
	"recorded_at, synced_at"

/* Runs a prepared query, handing each row to cb; finalizes st. */
static pc_rc
each_row(struct cstore *cs, sqlite3_stmt *st, cstore_cb cb, void *arg)
{
	struct cstore_row row;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &row);
		if (cb(arg, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PC_OK : db_fail(cs, NULL, "reading");
}

pc_rc
cstore_each(struct cstore *cs, enum cstore_filter f, cstore_cb cb, void *arg)
{
	static const char *const where[] = {
		[CSF_ALL] = "",
		[CSF_LIVE] = "WHERE state <> 'superseded'",
		[CSF_REFERRALS] = ("WHERE kind = 'referral' AND "
		    "state <> 'superseded'"),
		[CSF_PENDING] = "WHERE state = 'pending'",
		[CSF_QUARANTINED] = "WHERE state = 'quarantined'",
	};
	sqlite3_stmt *st;
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT " ROW_COLS " FROM records %s ORDER "
	    "BY seq", where[f]);
	if (sqlite3_prepare_v2(cs->db, sql, -1, &st, NULL) != SQLITE_OK)
		return PC_ESTORE;
	return each_row(cs, st, cb, arg);
}

pc_rc
cstore_pending(struct cstore *cs, int64_t after, int limit, int and_sent,
    cstore_cb cb, void *arg)
{
	sqlite3_stmt *st;

	/*
	 * Two statements, not one with an OR: SQLite answered that with
	 * every pending row, sorted, for each batch (quadratic in a long
	 * sync). Pending rows come in order from the (state, seq) index;
	 * all of them, from the table in seq order.
	 */
	if (sqlite3_prepare_v2(cs->db, and_sent ?
	    "SELECT " ROW_COLS " FROM records WHERE seq > ?1 AND "
	    "+state IN ('pending', 'sent') ORDER BY seq LIMIT ?2" :
	    "SELECT " ROW_COLS " FROM records WHERE state = 'pending' AND "
	    "seq > ?1 ORDER BY seq LIMIT ?2", -1, &st, NULL) != SQLITE_OK)
		return PC_ESTORE;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	return each_row(cs, st, cb, arg);
}

pc_rc
cstore_get(struct cstore *cs, const char *id, cstore_cb cb, void *arg)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(cs->db, "SELECT " ROW_COLS " FROM records WHERE "
	    "id = ? AND state <> 'superseded'", -1, &st, NULL) != SQLITE_OK)
		return PC_ESTORE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	return each_row(cs, st, cb, arg);
}

struct tl_load_ctx {
	struct timeline	*tl;
	pc_rc		 rc;
};

static int
load_one(void *arg, const struct cstore_row *row)
{
	struct tl_load_ctx *c = arg;
	struct rec *r;

	if (row->state == CS_WITHDRAWN)
		return 0;	/* never reached the server: not part of it */
	if ((c->rc = rec_load(row->json, row->json_len, &r)) != PC_OK)
		return 1;
	if ((c->rc = tl_load(c->tl, r)) != PC_OK)
		return 1;
	return 0;
}

pc_rc
cstore_referral_each(struct cstore *cs, const char *referral, cstore_cb cb,
    void *arg)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(cs->db, "SELECT " ROW_COLS " FROM records WHERE "
	    "referral = ? AND state <> 'superseded' ORDER BY seq", -1, &st,
	    NULL) != SQLITE_OK)
		return PC_ESTORE;
	sqlite3_bind_text(st, 1, referral, -1, SQLITE_TRANSIENT);
	return each_row(cs, st, cb, arg);
}

pc_rc
cstore_timeline(struct cstore *cs, const char *referral, struct timeline *tl,
    struct err_list *errs)
{
	struct tl_load_ctx c = {tl, PC_OK};

	tl_init(tl, referral);
	if (cstore_referral_each(cs, referral, load_one, &c) != PC_OK)
		return db_fail(cs, errs, "reading the referral");
	if (c.rc != PC_OK) {
		err_add(errs, E_SYSTEM, "", "store: a stored record of referral "
		    "%.8s cannot be read", referral);
		return c.rc;
	}
	return PC_OK;
}

pc_rc
cstore_counts(struct cstore *cs, long counts[CS_NSTATES])
{
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < CS_NSTATES; i++)
		counts[i] = 0;
	if (sqlite3_prepare_v2(cs->db, "SELECT state, COUNT(*) FROM records "
	    "GROUP BY state", -1, &st, NULL) != SQLITE_OK)
		return PC_ESTORE;
	while (sqlite3_step(st) == SQLITE_ROW)
		counts[state_parse((const char *)sqlite3_column_text(st, 0))] =
		    (long)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return PC_OK;
}

pc_rc
cstore_mark_sent(struct cstore *cs, const int64_t *seqs, size_t n,
    struct err_list *errs)
{
	sqlite3_stmt *st;
	struct buf list;
	char now[TIME_LEN];
	size_t i;
	int rc;

	if (n == 0)
		return PC_OK;
	buf_init(&list, 0);
	for (i = 0; i < n; i++)
		if (buf_addf(&list, "%s%lld", i ? "," : "[",
		    (long long)seqs[i]) != PC_OK) {
			buf_free(&list);
			return PC_ENOMEM;
		}
	if (buf_addc(&list, ']') != PC_OK) {
		buf_free(&list);
		return PC_ENOMEM;
	}
	time_format((int64_t)time(NULL), now);
	if (sqlite3_prepare_v2(cs->db, "UPDATE records SET state = 'sent', "
	    "reason = NULL, synced_at = ?1 WHERE seq IN (SELECT value FROM "
	    "json_each(?2)) AND state <> 'superseded'", -1, &st, NULL) !=
	    SQLITE_OK) {
		buf_free(&list);
		return db_fail(cs, errs, "preparing");
	}
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, list.p, (int)list.len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	buf_free(&list);
	return rc == SQLITE_DONE ? PC_OK : db_fail(cs, errs, "marking");
}

pc_rc
cstore_mark(struct cstore *cs, const char *id, enum cstore_state s,
    const char *reason, struct err_list *errs)
{
	sqlite3_stmt *st;
	char now[TIME_LEN];
	int rc;

	time_format((int64_t)time(NULL), now);
	if (cs->mark == NULL && sqlite3_prepare_v3(cs->db, "UPDATE records SET "
	    "state = ?, reason = ?, synced_at = ? WHERE id = ? AND state <> "
	    "'superseded'", -1, SQLITE_PREPARE_PERSISTENT, &cs->mark, NULL) !=
	    SQLITE_OK)
		return db_fail(cs, errs, "preparing");
	st = cs->mark;
	sqlite3_bind_text(st, 1, state_names[s], -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(st, 2, reason, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? PC_OK : db_fail(cs, errs, "marking");
}

int
cstore_requeue_orphans(struct cstore *cs)
{
	if (exec(cs, "UPDATE records SET state = 'pending', reason = NULL "
	    "WHERE state = 'quarantined' AND kind <> 'referral' AND "
	    "NOT EXISTS (SELECT 1 FROM json_each(records.reason) WHERE "
	    "json_extract(value, '$.code') <> 'E_REFERRAL') AND EXISTS "
	    "(SELECT 1 FROM records r WHERE r.id = records.referral AND "
	    "r.state = 'sent')", NULL) != PC_OK)
		return -1;
	return sqlite3_changes(cs->db);
}

pc_rc
cstore_supersede(struct cstore *cs, int64_t seq, struct err_list *errs)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(cs->db, "UPDATE records SET state = "
	    "'superseded' WHERE seq = ? AND state = 'quarantined'", -1, &st,
	    NULL) != SQLITE_OK)
		return db_fail(cs, errs, "preparing");
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_changes(cs->db) != 1)
		return db_fail(cs, errs, "superseding");
	return PC_OK;
}

pc_rc
cstore_meta_get(struct cstore *cs, const char *key, char *out, size_t len)
{
	sqlite3_stmt *st;
	pc_rc rc = PC_ENOTFOUND;

	out[0] = '\0';
	if (sqlite3_prepare_v2(cs->db, "SELECT value FROM meta WHERE key = ?",
	    -1, &st, NULL) != SQLITE_OK)
		return PC_ESTORE;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out, len, "%s", sqlite3_column_text(st, 0));
		rc = PC_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

pc_rc
cstore_meta_set(struct cstore *cs, const char *key, const char *val,
    struct err_list *errs)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(cs->db, "INSERT INTO meta(key, value) VALUES "
	    "(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", -1,
	    &st, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "preparing");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, val, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PC_OK : db_fail(cs, errs, "saving");
}

/*
 * The directory of community assets: a copy of the server's, replaced
 * whole at each sync. It is not records (nothing of a person's), so
 * unlike them it may be rewritten.
 */
pc_rc
cstore_assets_replace(struct cstore *cs, const struct cstore_asset *v,
    size_t n, struct err_list *errs)
{
	sqlite3_stmt *st;
	size_t i;
	int rc = SQLITE_DONE;

	if (exec(cs, "DELETE FROM assets", errs) != PC_OK)
		return PC_ESTORE;
	if (sqlite3_prepare_v2(cs->db, "INSERT INTO assets(id, name, category,"
	    " contact, notes, active) VALUES (?,?,?,?,?,?)", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(cs, errs, "preparing");
	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, v[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, v[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v[i].category, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, v[i].contact ? v[i].contact : "", -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 5, v[i].notes ? v[i].notes : "", -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(st, 6, v[i].active);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PC_OK : db_fail(cs, errs, "saving the "
	    "directory");
}

pc_rc
cstore_asset_each(struct cstore *cs, const char *id, cstore_asset_cb cb,
    void *arg)
{
	struct cstore_asset a;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(cs->db, "SELECT id, name, category, contact, "
	    "notes, active FROM assets WHERE ?1 IS NULL OR id = ?1 ORDER BY "
	    "active DESC, category, name", -1, &st, NULL) != SQLITE_OK)
		return PC_ESTORE;
	if (id != NULL)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		a.id = (const char *)sqlite3_column_text(st, 0);
		a.name = (const char *)sqlite3_column_text(st, 1);
		a.category = (const char *)sqlite3_column_text(st, 2);
		a.contact = (const char *)sqlite3_column_text(st, 3);
		a.notes = (const char *)sqlite3_column_text(st, 4);
		a.active = sqlite3_column_int(st, 5);
		if (cb(arg, &a) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

/*
 * cstore.c - the client's SQLite store.
 *
 * Durability: WAL with synchronous=FULL, so a committed record survives a
 * crash or power cut. The schema is versioned with PRAGMA user_version
 * and migrated forwards on open; a store written by a newer pcmds is
 * refused rather than misread.
 *
 * Encryption (schema 3): a record's content (body) and the server's
 * reasons are sealed with the store's data key (vault.h), bound to their
 * row; so are the secrets in meta (the token). What stays in the clear
 * is what the queries need: ids, kinds, referral ids, sync states, times
 * and sizes (README, "What a lost laptop reveals").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "buf.h"
#include "cstore.h"
#include "date.h"
#include "sec.h"

#define BUSY_MS	10000
#define RECENT	32	/* records whose content stays opened, for a 2nd read */

/*
 * Content opened lately: a referral's records are often read twice
 * running (its timeline, then its sync states), and opening costs more
 * than a copy. Known by seq and the sealed value's random nonce, since a
 * seq rolled back (an import row refused) is used again by other content.
 */
struct recent {
	int64_t	 seq;
	uint8_t	 nonce[VAULT_NONCE_LEN];
	char	*p;
	size_t	 len, cap;
};

struct cstore {
	sqlite3		*db;
	sqlite3_stmt	*ins;
	sqlite3_stmt	*mark;	/* prepared on first use: a sync marks many */
	/*
	 * A referral's records, prepared once: a listing reads every
	 * referral's, twice, and preparing the statement (its state worked
	 * out from the outbox) for each was most of a listing (pcmds list
	 * of 25,030 referrals: 2.36 s, 0.88 s prepared once). In use while
	 * by_referral_busy; a nested reading prepares its own.
	 */
	sqlite3_stmt	*by_referral;
	int		 by_referral_busy;
	/*
	 * The pending rows after a seq (and the sent, [1]), prepared once:
	 * a sync asks for them several times a batch (rows put off leave
	 * room), and preparing was a thirtieth of its CPU. In use while
	 * pending_busy; a nested reading prepares its own.
	 */
	sqlite3_stmt	*pending[2];
	int		 pending_busy;
	int		 version;	/* user_version */
	struct vault_box *box;	/* the data key; NULL while locked */
	uint8_t		 sid[VAULT_ID_LEN];
	struct buf	 seal;	/* sealed value being written */
	struct recent	 recent[RECENT];
	unsigned	 next;	/* the slot to reuse next */
};

static const char *const state_names[CS_NSTATES] = {
	"pending", "sent", "quarantined", "superseded", "withdrawn",
};

/* What guards the records table, in every schema: ids, order, no delete. */
#define RECORDS_GUARDS \
	"CREATE UNIQUE INDEX records_live_id ON records(id)" \
	"  WHERE state <> 'superseded';" \
	"CREATE INDEX records_by_referral ON records(referral, seq);" \
	"CREATE INDEX records_by_state ON records(state, seq);" \
	"CREATE TRIGGER records_never_deleted BEFORE DELETE ON records BEGIN" \
	"  SELECT RAISE(ABORT, 'pcmds records are never deleted'); END;"

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
	RECORDS_GUARDS
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
_Static_assert(NMIGRATIONS == CSTORE_PLAIN_VERSION, "plain schemas");

/*
 * A record's sync state (schema 5 on), from its row in table t and the
 * outbox: pending while in the outbox, sent once out of it unless the
 * server refused it (or it was superseded or withdrawn).
 */
#define STATE_OF(t) \
	"(CASE WHEN " t ".state NOT IN ('pending', 'sent') THEN " t ".state" \
	" WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.seq = " t ".seq)" \
	" THEN 'pending' ELSE 'sent' END)"

/*
 * Forward migrations of encrypted stores (schema 3 on, from
 * cstore_encrypt): sealed_migrations[i] takes user_version 3 + i to
 * 4 + i. They need no key, so they run on open, and cstore_encrypt runs
 * them too: a store encrypted now has what an upgraded one has.
 */
#define SEALED_FIRST	((int)NMIGRATIONS + 1)	/* schema 3 */
static const char *const sealed_migrations[] = {
	/*
	 * 4: ids by their short id (uuid.h: the id's last group), and the
	 * ids older versions made (not version 7) by their start, so that
	 * cstore_resolve reads an index, not every live id. Not only live
	 * ones: an index naming the state is rewritten by every change of
	 * state (a sync marks each record), which cost more client CPU
	 * than the few superseded rows a lookup passes over.
	 */
	"CREATE INDEX records_by_short ON records(substr(id, 25));"
	"CREATE INDEX records_old_ids ON records(id)"
	"  WHERE substr(id, 15, 1) <> '7';",

	/*
	 * 5: the outbox, the seqs of the records not yet acknowledged by the
	 * server. A sync reads it instead of every record's state, and marks
	 * a batch sent by deleting its rows: marking had rewritten each
	 * record (its sealed content with it) and two indexes of its state,
	 * a third of a sync's work. From here on records.state is 'pending'
	 * for a record in the outbox and for one sent since (older ones keep
	 * 'sent'): record_states (STATE_OF) gives the state, from both.
	 * Triggers keep the outbox right whatever writes records. A record
	 * sent since has no synced_at of its own (nothing read it): the
	 * last sync's time is meta's last_sync.
	 */
	"CREATE TABLE outbox("
	"  seq INTEGER PRIMARY KEY REFERENCES records(seq)) STRICT;"
	"INSERT INTO outbox(seq) SELECT seq FROM records"
	"  WHERE state = 'pending';"
	"CREATE TRIGGER outbox_on_insert AFTER INSERT ON records"
	"  WHEN NEW.state = 'pending' BEGIN"
	"  INSERT INTO outbox(seq) VALUES (NEW.seq); END;"
	/* refused, withdrawn or superseded: out; put back to pending: in */
	"CREATE TRIGGER outbox_on_state AFTER UPDATE OF state ON records BEGIN"
	"  DELETE FROM outbox WHERE seq = NEW.seq AND NEW.state <> 'pending';"
	"  INSERT OR IGNORE INTO outbox(seq) SELECT NEW.seq"
	"    WHERE NEW.state = 'pending'; END;"
	"CREATE VIEW record_states AS SELECT seq, id, kind, referral,"
	"  " STATE_OF("records") " AS state, recorded_at, synced_at"
	"  FROM records;",
};
#define NSEALED	(sizeof(sealed_migrations) / sizeof(sealed_migrations[0]))

/*
 * Schema 3, made by cstore_encrypt from schema 2 (it needs the key, so it
 * is not in migrations[]): the same records with content and reasons
 * sealed. The migrations after it are sealed_migrations[].
 */
static const char sealed_table[] =
	"CREATE TABLE sealed("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  referral TEXT NOT NULL,"
	"  body BLOB NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
	"    ('pending','sent','quarantined','superseded','withdrawn')),"
	"  reason BLOB,"
	"  recorded_at TEXT NOT NULL,"
	"  synced_at TEXT) STRICT;";
static const char sealed_swap[] =
	"DROP TABLE records;"
	"ALTER TABLE sealed RENAME TO records;"
	"DELETE FROM sqlite_sequence WHERE name IN ('records', 'sealed');"
	RECORDS_GUARDS
	"CREATE TRIGGER records_immutable BEFORE UPDATE OF"
	"  seq, id, kind, referral, body, recorded_at ON records BEGIN"
	"  SELECT RAISE(ABORT, 'pcmds records are immutable'); END;"
	"PRAGMA user_version = 3;";

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

/* One migration to schema v, inside a transaction. */
static pc_rc
step(struct cstore *cs, const char *sql, int v, struct err_list *errs)
{
	char ver[64];

	snprintf(ver, sizeof(ver), "PRAGMA user_version = %d", v);
	if (exec(cs, sql, errs) != PC_OK || exec(cs, ver, errs) != PC_OK)
		return PC_ESTORE;
	cs->version = v;
	return PC_OK;
}

/* An encrypted store's migrations from cs->version, in the caller's tx. */
static pc_rc
sealed_steps(struct cstore *cs, struct err_list *errs)
{
	size_t i;

	for (i = (size_t)(cs->version - SEALED_FIRST); i < NSEALED; i++)
		if (step(cs, sealed_migrations[i], SEALED_FIRST + (int)i + 1,
		    errs) != PC_OK)
			return PC_ESTORE;
	return PC_OK;
}

static pc_rc
migrate(struct cstore *cs, struct err_list *errs)
{
	sqlite3_stmt *st;
	int v = 0;
	size_t i;

	if (sqlite3_prepare_v2(cs->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(cs, errs, "reading schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v > CSTORE_SCHEMA_VERSION) {
		err_add(errs, E_SYSTEM, "", "this store was written by a newer "
		    "pcmds (schema %d, this one knows %d); upgrade pcmds", v,
		    CSTORE_SCHEMA_VERSION);
		return PC_ESTORE;
	}
	cs->version = v;
	for (i = (size_t)v; i < NMIGRATIONS; i++) {
		if (exec(cs, "BEGIN IMMEDIATE", errs) != PC_OK)
			return PC_ESTORE;
		if (step(cs, migrations[i], (int)i + 1, errs) != PC_OK) {
			cstore_rollback(cs);
			cs->version = (int)i;
			return PC_ESTORE;
		}
		if (exec(cs, "COMMIT", errs) != PC_OK)
			return PC_ESTORE;
	}
	if (v < SEALED_FIRST || v == CSTORE_SCHEMA_VERSION)
		return PC_OK;
	/* an encrypted store of an older pcmds: upgraded whole, or not */
	if (exec(cs, "BEGIN IMMEDIATE", errs) != PC_OK)
		return PC_ESTORE;
	if (sealed_steps(cs, errs) != PC_OK) {
		cstore_rollback(cs);
		cs->version = v;
		return PC_ESTORE;
	}
	return exec(cs, "COMMIT", errs);
}

static pc_rc
prepare_insert(struct cstore *cs, struct err_list *errs)
{
	if (cs->ins != NULL)
		return PC_OK;
	if (sqlite3_prepare_v3(cs->db, "INSERT INTO records(seq, id, kind,"
	    " referral, body, recorded_at) VALUES (?,?,?,?,?,?)", -1,
	    SQLITE_PREPARE_PERSISTENT, &cs->ins, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "preparing");
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
	char hex[2 * VAULT_ID_LEN + 1];

	*out = NULL;
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return PC_ENOMEM;
	buf_init(&cs->seal, 0);
	if (sqlite3_open_v2(path, &cs->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_add(errs, E_SYSTEM, path, "cannot open the store %s: %s",
		    path, cs->db ? sqlite3_errmsg(cs->db) : "out of memory");
		cstore_close(cs);
		return PC_ESTORE;
	}
	sqlite3_busy_timeout(cs->db, BUSY_MS);
	/* temp_store: sorts and temporary tables never go to a file */
	if (exec(cs, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"
	    "PRAGMA temp_store=MEMORY;", errs) != PC_OK ||
	    migrate(cs, errs) != PC_OK || test_disk_limit(cs, errs) != PC_OK) {
		cstore_close(cs);
		return PC_ESTORE;
	}
	if (cs->version == CSTORE_SCHEMA_VERSION &&
	    (cstore_meta_get(cs, "store_id", hex, sizeof(hex)) != PC_OK ||
	    sec_unhex(hex, cs->sid, VAULT_ID_LEN) != 0)) {
		err_add(errs, E_SYSTEM, path, "the store %s has lost its id: it "
		    "cannot be unlocked", path);
		cstore_close(cs);
		return PC_ESTORE;
	}
	*out = cs;
	return PC_OK;
}

void
cstore_close(struct cstore *cs)
{
	int i;

	if (cs == NULL)
		return;
	sqlite3_finalize(cs->ins);
	sqlite3_finalize(cs->mark);
	sqlite3_finalize(cs->by_referral);
	sqlite3_finalize(cs->pending[0]);
	sqlite3_finalize(cs->pending[1]);
	sqlite3_close(cs->db);
	vault_box_free(cs->box);
	vault_buf_wipe(&cs->seal);
	for (i = 0; i < RECENT; i++) {
		if (cs->recent[i].p != NULL)
			sec_wipe(cs->recent[i].p, cs->recent[i].cap);
		free(cs->recent[i].p);
	}
	free(cs);
}

int
cstore_encrypted(const struct cstore *cs)
{
	return cs->version == CSTORE_SCHEMA_VERSION;
}

const uint8_t *
cstore_id(const struct cstore *cs)
{
	return cs->sid;
}

/* -- associated data: where a sealed value belongs ------------------------ */

struct aad {
	uint8_t	 b[320];
	size_t	 n;
};

static void
aad_add(struct aad *a, const void *p, size_t n)
{
	if (a->n + n + 1 > sizeof(a->b))
		n = sizeof(a->b) - a->n - 1;	/* ids are short: never */
	memcpy(a->b + a->n, p, n);
	a->n += n;
	a->b[a->n++] = 0;
}

static void
aad_init(struct aad *a, const struct cstore *cs, const char *where)
{
	a->n = 0;
	aad_add(a, where, strlen(where));
	aad_add(a, cs->sid, VAULT_ID_LEN);
}

/* A record's content: its table and column, seq, id, kind and referral. */
static void
aad_body(struct aad *a, const struct cstore *cs, int64_t seq, const char *id,
    const char *kind, const char *referral)
{
	char n[24];

	aad_init(a, cs, "pcmds/records.body");
	snprintf(n, sizeof(n), "%lld", (long long)seq);
	aad_add(a, n, strlen(n));
	aad_add(a, id, strlen(id));
	aad_add(a, kind, strlen(kind));
	aad_add(a, referral, strlen(referral));
}

/* A server's reason: the live version of the record with this id. */
static void
aad_reason(struct aad *a, const struct cstore *cs, const char *id)
{
	aad_init(a, cs, "pcmds/records.reason");
	aad_add(a, id, strlen(id));
}

static pc_rc
locked(struct cstore *cs, struct err_list *errs)
{
	if (cs->box != NULL)
		return PC_OK;
	if (errs != NULL)
		err_add(errs, E_SYSTEM, "", "the store is locked: unlock it "
		    "first (pcmds unlock)");
	return PC_EAUTH;
}

/* -- keys and encryption ----------------------------------------------------- */

#define CHECK_TEXT	"pcmds store key check"

pc_rc
cstore_key(struct cstore *cs, const uint8_t key[VAULT_KEY_LEN],
    struct err_list *errs)
{
	struct buf b;
	pc_rc rc;

	if (!cstore_encrypted(cs)) {
		err_add(errs, E_SYSTEM, "", "this store is not encrypted yet");
		return PC_EINVAL;
	}
	vault_box_free(cs->box);
	cs->box = NULL;
	if ((rc = vault_box_new(key, &cs->box)) != PC_OK)
		return rc;
	buf_init(&b, 0);
	rc = cstore_secret_get(cs, "check", &b, NULL);
	if (rc == PC_OK && strcmp(buf_str(&b), CHECK_TEXT) != 0)
		rc = PC_EAUTH;
	vault_buf_wipe(&b);
	if (rc == PC_OK)
		rc = prepare_insert(cs, errs);
	else {
		err_add(errs, E_SYSTEM, "", "the key offered is not this "
		    "store's key");
		rc = PC_EAUTH;
	}
	if (rc != PC_OK) {
		vault_box_free(cs->box);
		cs->box = NULL;
	}
	return rc;
}

/* Seals one plain row into the new table. */
static pc_rc
seal_row(struct cstore *cs, sqlite3_stmt *from, sqlite3_stmt *to)
{
	const char *id = (const char *)sqlite3_column_text(from, 1);
	const char *kind = (const char *)sqlite3_column_text(from, 2);
	const char *ref = (const char *)sqlite3_column_text(from, 3);
	int64_t seq = sqlite3_column_int64(from, 0);
	struct buf why;
	struct aad a;
	pc_rc rc;
	int i;

	buf_reset(&cs->seal);
	buf_init(&why, 0);
	aad_body(&a, cs, seq, id, kind, ref);
	if ((rc = vault_seal(cs->box, a.b, a.n, sqlite3_column_text(from, 4),
	    (size_t)sqlite3_column_bytes(from, 4), &cs->seal)) != PC_OK)
		return rc;
	aad_reason(&a, cs, id);
	if (sqlite3_column_type(from, 6) != SQLITE_NULL &&
	    (rc = vault_seal(cs->box, a.b, a.n, sqlite3_column_text(from, 6),
	    (size_t)sqlite3_column_bytes(from, 6), &why)) != PC_OK) {
		buf_free(&why);
		return rc;
	}
	sqlite3_reset(to);
	for (i = 0; i < 4; i++)
		sqlite3_bind_value(to, i + 1, sqlite3_column_value(from, i));
	sqlite3_bind_blob(to, 5, cs->seal.p, (int)cs->seal.len, SQLITE_STATIC);
	sqlite3_bind_value(to, 6, sqlite3_column_value(from, 5));
	if (why.p != NULL)
		sqlite3_bind_blob(to, 7, why.p, (int)why.len, SQLITE_STATIC);
	else
		sqlite3_bind_null(to, 7);
	sqlite3_bind_value(to, 8, sqlite3_column_value(from, 7));
	sqlite3_bind_value(to, 9, sqlite3_column_value(from, 8));
	rc = sqlite3_step(to) == SQLITE_DONE ? PC_OK : PC_ESTORE;
	sqlite3_reset(to);
	buf_free(&why);
	return rc;
}

static pc_rc
seal_rows(struct cstore *cs, struct err_list *errs)
{
	sqlite3_stmt *from = NULL, *to = NULL;
	pc_rc rc = PC_OK;
	int r;

	if (sqlite3_prepare_v2(cs->db, "SELECT seq, id, kind, referral, json, "
	    "state, reason, recorded_at, synced_at FROM records ORDER BY seq",
	    -1, &from, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(cs->db, "INSERT INTO sealed(seq, id, kind, "
	    "referral, body, state, reason, recorded_at, synced_at) VALUES "
	    "(?,?,?,?,?,?,?,?,?)", -1, &to, NULL) != SQLITE_OK)
		rc = db_fail(cs, errs, "preparing the encryption");
	while (rc == PC_OK && (r = sqlite3_step(from)) == SQLITE_ROW)
		if ((rc = seal_row(cs, from, to)) != PC_OK)
			db_fail(cs, errs, "encrypting a record");
	if (rc == PC_OK && r != SQLITE_DONE)
		rc = db_fail(cs, errs, "reading the plain records");
	sqlite3_finalize(from);
	sqlite3_finalize(to);
	return rc;
}

/* Opens a sealed value and compares it with its plain column. */
static int
same_plain(struct cstore *cs, const struct aad *a, sqlite3_stmt *st,
    int sealed, int plain, struct buf *pt)
{
	if (sqlite3_column_type(st, sealed) == SQLITE_NULL)
		return sqlite3_column_type(st, plain) == SQLITE_NULL;
	buf_reset(pt);
	return vault_open(cs->box, a->b, a->n, sqlite3_column_blob(st, sealed),
	    (size_t)sqlite3_column_bytes(st, sealed), pt) == PC_OK &&
	    pt->len == (size_t)sqlite3_column_bytes(st, plain) &&
	    memcmp(pt->p, sqlite3_column_text(st, plain), pt->len) == 0;
}

/*
 * Every sealed row opens to exactly its plain row, and the two tables
 * hold the same rows: only then may the plain one go.
 */
static pc_rc
verify_rows(struct cstore *cs, struct err_list *errs)
{
	sqlite3_stmt *st;
	struct buf pt;
	struct aad a;
	long n = 0, plain = -1, sealed = -2;
	int r, ok = 1;

	if (sqlite3_prepare_v2(cs->db, "SELECT s.seq, s.id, s.kind, "
	    "s.referral, s.body, r.json, s.reason, r.reason FROM sealed s JOIN "
	    "records r ON r.seq = s.seq AND r.id = s.id AND r.kind = s.kind "
	    "AND r.referral = s.referral AND r.state = s.state AND "
	    "r.recorded_at = s.recorded_at AND r.synced_at IS s.synced_at",
	    -1, &st, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "preparing the check");
	buf_init(&pt, 0);
	while (ok && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 1);

		aad_body(&a, cs, sqlite3_column_int64(st, 0), id,
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3));
		ok = same_plain(cs, &a, st, 4, 5, &pt);
		aad_reason(&a, cs, id);
		ok = ok && same_plain(cs, &a, st, 6, 7, &pt);
		n++;
	}
	sqlite3_finalize(st);
	vault_buf_wipe(&pt);
	if (ok && sqlite3_prepare_v2(cs->db, "SELECT (SELECT COUNT(*) FROM "
	    "records), (SELECT COUNT(*) FROM sealed)", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			plain = (long)sqlite3_column_int64(st, 0);
			sealed = (long)sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	if (!ok || n != plain || n != sealed) {
		err_add(errs, E_SYSTEM, "", "store: the encrypted copy does not "
		    "match the records (%ld of %ld); the plain store is kept",
		    n, plain);
		return PC_ESTORE;
	}
	return PC_OK;
}

/* The highest seq ever used survives the swap of tables. */
static pc_rc
keep_sequence(struct cstore *cs, int64_t last, struct err_list *errs)
{
	char sql[128];

	if (last <= 0)
		return PC_OK;
	snprintf(sql, sizeof(sql), "INSERT INTO sqlite_sequence(name, seq) "
	    "VALUES ('records', %lld)", (long long)last);
	return exec(cs, sql, errs);
}

pc_rc
cstore_encrypt(struct cstore *cs, const uint8_t key[VAULT_KEY_LEN],
    const uint8_t sid[VAULT_ID_LEN], struct err_list *errs)
{
	char hex[2 * VAULT_ID_LEN + 1];
	int64_t last;
	pc_rc rc;

	if (cs->version != (int)NMIGRATIONS || sqlite3_get_autocommit(cs->db)) {
		err_add(errs, E_SYSTEM, "", "store: encryption needs a plain "
		    "store, inside a transaction");
		return PC_EINVAL;
	}
	memcpy(cs->sid, sid, VAULT_ID_LEN);
	sec_hex(sid, VAULT_ID_LEN, hex);
	if ((rc = vault_box_new(key, &cs->box)) != PC_OK ||
	    (rc = cstore_next_seq(cs, &last, errs)) != PC_OK ||
	    (rc = exec(cs, sealed_table, errs)) != PC_OK ||
	    (rc = seal_rows(cs, errs)) != PC_OK ||
	    (rc = verify_rows(cs, errs)) != PC_OK ||
	    (rc = exec(cs, sealed_swap, errs)) != PC_OK ||
	    (rc = keep_sequence(cs, last - 1, errs)) != PC_OK ||
	    (rc = cstore_meta_set(cs, "store_id", hex, errs)) != PC_OK ||
	    (rc = (cs->version = SEALED_FIRST, sealed_steps(cs, errs))) !=
	    PC_OK ||
	    (rc = cstore_secret_set(cs, "check", CHECK_TEXT,
	    strlen(CHECK_TEXT), errs)) != PC_OK ||
	    (rc = prepare_insert(cs, errs)) != PC_OK) {
		/* the caller rolls back and closes: leave nothing half-set */
		vault_box_free(cs->box);
		cs->box = NULL;
		cs->version = (int)NMIGRATIONS;
		return rc;
	}
	return PC_OK;
}

pc_rc
cstore_scrub(struct cstore *cs, struct err_list *errs)
{
	sqlite3_stmt *st;
	int busy = 1;

	if (sqlite3_prepare_v2(cs->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1,
	    &st, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "checkpointing");
	if (sqlite3_step(st) == SQLITE_ROW)
		busy = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (busy != 0) {
		if (errs != NULL)
			err_add(errs, E_SYSTEM, "", "store: another pcmds holds "
			    "the store open, so its write-ahead log could not "
			    "be emptied yet");
		return PC_EBUSY;
	}
	return PC_OK;
}

pc_rc
cstore_secret_set(struct cstore *cs, const char *name, const void *val,
    size_t len, struct err_list *errs)
{
	char key[80];
	struct buf hex;
	struct aad a;
	pc_rc rc;

	snprintf(key, sizeof(key), "secret.%s", name);
	if (val == NULL)
		return cstore_meta_del(cs, key, errs);
	if ((rc = locked(cs, errs)) != PC_OK)
		return rc;
	aad_init(&a, cs, "pcmds/meta");
	aad_add(&a, key, strlen(key));
	buf_init(&hex, 0);
	if ((rc = vault_seal_hex(cs->box, a.b, a.n, val, len, &hex)) == PC_OK)
		rc = cstore_meta_set(cs, key, hex.p, errs);
	buf_free(&hex);
	return rc;
}

pc_rc
cstore_secret_get(struct cstore *cs, const char *name, struct buf *out,
    struct err_list *errs)
{
	sqlite3_stmt *st;
	char key[80];
	struct aad a;
	pc_rc rc;

	snprintf(key, sizeof(key), "secret.%s", name);
	if ((rc = locked(cs, errs)) != PC_OK)
		return rc;
	if (sqlite3_prepare_v2(cs->db, "SELECT value FROM meta WHERE key = ?",
	    -1, &st, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "reading");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return PC_ENOTFOUND;
	}
	aad_init(&a, cs, "pcmds/meta");
	aad_add(&a, key, strlen(key));
	rc = vault_open_hex(cs->box, a.b, a.n, (const char *)
	    sqlite3_column_text(st, 0), out);
	sqlite3_finalize(st);
	if (rc != PC_OK && errs != NULL)
		err_add(errs, E_SYSTEM, "", "store: the sealed %s cannot be "
		    "opened with this key", name);
	return rc;
}

/* -- transactions --------------------------------------------------------------- */

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
	struct aad a;
	pc_rc prc;
	int rc;

	if ((prc = locked(cs, errs)) != PC_OK)
		return prc;
	buf_reset(&cs->seal);
	aad_body(&a, cs, r->device_seq, r->id, ki->name, r->referral);
	if ((prc = vault_seal(cs->box, a.b, a.n, r->canon, r->canon_len,
	    &cs->seal)) != PC_OK) {
		err_add(errs, E_SYSTEM, "", "store: cannot encrypt the record");
		return prc;
	}
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, r->device_seq);
	sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ki->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->referral, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, cs->seal.p, (int)cs->seal.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->recorded_at, -1, SQLITE_STATIC);
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

/*
 * A typed id names a live record in one of three ways: the start of its
 * short id (uuid.h: the start of its last group, so 4 to 12 digits), its
 * whole id, or, for an id not of version 7 (what older versions of pcmds
 * made, whose short id was the first 8 digits), the start of its id. A
 * version 7 id begins with its time, shared by every record made in the
 * same minute or so: it is never matched on that. Each way reads an
 * index of live ids (schema 4): a start is a range, from the typed
 * digits up to them followed by 'g', above every digit and '-'.
 */
static const char resolve_sql[] =
	"SELECT id FROM records WHERE state <> 'superseded' AND"
	"  substr(id, 25) >= ?1 AND substr(id, 25) < ?1 || 'g'"
	" UNION SELECT id FROM records WHERE state <> 'superseded' AND"
	"  id = ?1"
	" UNION SELECT id FROM records WHERE state <> 'superseded' AND"
	"  substr(id, 15, 1) <> '7' AND id >= ?1 AND id < ?1 || 'g'"
	" ORDER BY id LIMIT 3";

static pc_rc
resolve_row(struct cstore *cs, const char *id, char kind[16],
    char referral[UUID_LEN], enum cstore_state *state, struct err_list *errs)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(cs->db, "SELECT kind, referral, "
	    STATE_OF("records") " FROM records WHERE id = ? AND state <> "
	    "'superseded'", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(cs, errs, "looking up the id");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(kind, 16, "%s", sqlite3_column_text(st, 0));
		snprintf(referral, UUID_LEN, "%s", sqlite3_column_text(st, 1));
		if (state != NULL)
			*state = state_parse((const char *)
			    sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? PC_OK : db_fail(cs, errs,
	    "reading the record found");
}

pc_rc
cstore_resolve(struct cstore *cs, const char *prefix, char id[UUID_LEN],
    char kind[16], char referral[UUID_LEN], enum cstore_state *state,
    struct err_list *errs)
{
	sqlite3_stmt *st;
	char lower[40], other[UUID_LEN];
	size_t i, n = strlen(prefix);
	int found = 0, rc;

	if (!is_hex_prefix(prefix)) {
		err_add(errs, E_UUID, "", "'%s' is not a record id: give the "
		    "short id shown for the record (8 hex digits), any unique "
		    "start of it (at least 4) or its whole id", prefix);
		return PC_ENOTFOUND;
	}
	for (i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)prefix[i]);
	if (sqlite3_prepare_v2(cs->db, resolve_sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "looking up the id");
	sqlite3_bind_text(st, 1, lower, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (found < 2)
			snprintf(found == 0 ? id : other, UUID_LEN, "%s",
			    sqlite3_column_text(st, 0));
		found++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(cs, errs, "looking up the id");
	if (found == 0) {
		err_add(errs, E_REFERRAL, "", "no record here has the short id "
		    "%s: give the short id shown for the record", lower);
		return PC_ENOTFOUND;
	}
	if (found > 1) {
		err_add(errs, E_REFERRAL, "", "%s fits more than one record "
		    "(%s %s %s%s): type more of the short id of the one you "
		    "mean (up to 12 digits) or its whole id", lower, id,
		    found > 2 ? "," : "and", other, found > 2 ? " and more" :
		    "");
		return PC_EAMBIGUOUS;
	}
	return resolve_row(cs, id, kind, referral, state, errs);
}

/* The nonce of a sealed value (NULL when it is too short to have one). */
static const uint8_t *
nonce_of(const void *sealed, size_t len)
{
#ifdef PCMDS_BENCH_PLAIN
	/* no nonce to know it by; and opening is a copy already */
	(void)sealed;
	(void)len;
	return NULL;
#else
	return len >= VAULT_OVERHEAD ? (const uint8_t *)sealed + 1 : NULL;
#endif
}

/* Content sealed with nonce opened lately, into plain: 1, or 0. */
static int
recent_get(struct cstore *cs, int64_t seq, const uint8_t *nonce,
    struct buf *plain)
{
	int i;

	for (i = 0; nonce != NULL && i < RECENT; i++)
		if (cs->recent[i].p != NULL && cs->recent[i].seq == seq &&
		    memcmp(cs->recent[i].nonce, nonce, VAULT_NONCE_LEN) == 0)
			return buf_add(plain, cs->recent[i].p,
			    cs->recent[i].len) == PC_OK;
	return 0;
}

static void
recent_put(struct cstore *cs, int64_t seq, const uint8_t *nonce,
    const char *p, size_t len)
{
	struct recent *r = &cs->recent[cs->next++ % RECENT];
	char *np;

	if (nonce == NULL)
		return;
	if (r->p != NULL)
		sec_wipe(r->p, r->cap);
	if (len + 1 > r->cap) {
		if ((np = realloc(r->p, len + 1)) == NULL)
			return;	/* the slot stays empty-handed: no harm */
		r->p = np;
		r->cap = len + 1;
	}
	memcpy(r->p, p, len);
	r->len = len;
	r->seq = seq;
	memcpy(r->nonce, nonce, VAULT_NONCE_LEN);
}

/* Opens a row's sealed content (and reason) into plain (and why). */
static pc_rc
read_row(struct cstore *cs, sqlite3_stmt *st, struct cstore_row *r,
    struct buf *plain, struct buf *why)
{
	const void *body;
	size_t blen;
	struct aad a;

	r->seq = sqlite3_column_int64(st, 0);
	r->id = (const char *)sqlite3_column_text(st, 1);
	r->kind = (const char *)sqlite3_column_text(st, 2);
	r->referral = (const char *)sqlite3_column_text(st, 3);
	r->state = state_parse((const char *)sqlite3_column_text(st, 5));
	r->recorded_at = (const char *)sqlite3_column_text(st, 7);
	r->synced_at = (const char *)sqlite3_column_text(st, 8);
	body = sqlite3_column_blob(st, 4);
	blen = (size_t)sqlite3_column_bytes(st, 4);
	buf_reset(plain);
	if (!recent_get(cs, r->seq, nonce_of(body, blen), plain)) {
		aad_body(&a, cs, r->seq, r->id, r->kind, r->referral);
		if (vault_open(cs->box, a.b, a.n, body, blen, plain) != PC_OK)
			return PC_EAUTH;
		recent_put(cs, r->seq, nonce_of(body, blen), plain->p,
		    plain->len);
	}
	r->json = plain->p;
	r->json_len = plain->len;
	r->reason = NULL;
	if (sqlite3_column_type(st, 6) == SQLITE_NULL)
		return PC_OK;
	buf_reset(why);
	aad_reason(&a, cs, r->id);
	if (vault_open(cs->box, a.b, a.n, sqlite3_column_blob(st, 6),
	    (size_t)sqlite3_column_bytes(st, 6), why) != PC_OK)
		return PC_EAUTH;
	r->reason = why->p;
	return PC_OK;
}

#define ROW_COLS_AS(state) "records.seq, id, kind, referral, body, " \
	state ", reason, recorded_at, synced_at"
#define ROW_COLS	ROW_COLS_AS(STATE_OF("records"))

/*
 * Runs a prepared query (the caller's still), handing each row to cb. The
 * plaintext lives in buffers of this call (callbacks may read the store
 * again), wiped before it returns.
 */
static pc_rc
run_rows(struct cstore *cs, sqlite3_stmt *st, cstore_cb cb, void *arg)
{
	struct cstore_row row;
	struct buf plain, why;
	pc_rc prc = PC_OK;
	int rc;

	if (cs->box == NULL)
		return PC_EAUTH;
	buf_init(&plain, 0);
	buf_init(&why, 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((prc = read_row(cs, st, &row, &plain, &why)) != PC_OK)
			break;
		if (cb(arg, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	vault_buf_wipe(&plain);
	vault_buf_wipe(&why);
	if (prc != PC_OK)
		return db_fail(cs, NULL, "a stored record cannot be decrypted "
		    "(damaged, or sealed by another key)");
	return rc == SQLITE_DONE ? PC_OK : db_fail(cs, NULL, "reading");
}

/* run_rows, and st finalized. */
static pc_rc
each_row(struct cstore *cs, sqlite3_stmt *st, cstore_cb cb, void *arg)
{
	pc_rc rc = run_rows(cs, st, cb, arg);

	sqlite3_finalize(st);
	return rc;
}

pc_rc
cstore_each(struct cstore *cs, enum cstore_filter f, cstore_cb cb, void *arg)
{
	static const char *const where[] = {
		[CSF_ALL] = "SELECT " ROW_COLS " FROM records",
		[CSF_LIVE] = "SELECT " ROW_COLS " FROM records WHERE state <> "
		    "'superseded'",
		[CSF_REFERRALS] = "SELECT " ROW_COLS " FROM records WHERE kind "
		    "= 'referral' AND state <> 'superseded'",
		[CSF_PENDING] = "SELECT " ROW_COLS_AS("'pending'") " FROM "
		    "outbox JOIN records ON records.seq = outbox.seq",
		[CSF_QUARANTINED] = "SELECT " ROW_COLS " FROM records WHERE "
		    "state = 'quarantined'",
	};
	sqlite3_stmt *st;
	char sql[1024];

	snprintf(sql, sizeof(sql), "%s ORDER BY records.seq", where[f]);
	if (sqlite3_prepare_v2(cs->db, sql, -1, &st, NULL) != SQLITE_OK)
		return PC_ESTORE;
	return each_row(cs, st, cb, arg);
}

pc_rc
cstore_pending(struct cstore *cs, int64_t after, int limit, int and_sent,
    cstore_cb cb, void *arg)
{
	/*
	 * Two statements, not one with an OR: SQLite answered that with
	 * every pending row, sorted, for each batch (quadratic in a long
	 * sync). Pending rows come in order from the outbox; all of them
	 * (a sent one's column says 'pending' or 'sent'), from the table
	 * in seq order.
	 */
	static const char *const sql[2] = {
		"SELECT " ROW_COLS_AS("'pending'") " FROM outbox JOIN records "
		    "ON records.seq = outbox.seq WHERE outbox.seq > ?1 ORDER BY "
		    "outbox.seq LIMIT ?2",
		"SELECT " ROW_COLS " FROM records WHERE seq > ?1 AND "
		    "+state IN ('pending', 'sent') ORDER BY seq LIMIT ?2",
	};
	sqlite3_stmt **kept = &cs->pending[and_sent != 0], *st;
	pc_rc rc;

	if (cs->pending_busy) {	/* from a callback of its own */
		if (sqlite3_prepare_v2(cs->db, sql[and_sent != 0], -1, &st,
		    NULL) != SQLITE_OK)
			return PC_ESTORE;
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int(st, 2, limit);
		return each_row(cs, st, cb, arg);
	}
	if (*kept == NULL && sqlite3_prepare_v2(cs->db, sql[and_sent != 0], -1,
	    kept, NULL) != SQLITE_OK)
		return PC_ESTORE;
	st = *kept;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	cs->pending_busy = 1;
	rc = run_rows(cs, st, cb, arg);
	cs->pending_busy = 0;
	sqlite3_reset(st);	/* its outcome is rc's */
	return rc;
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
	static const char sql[] = "SELECT " ROW_COLS " FROM records WHERE "
	    "referral = ? AND state <> 'superseded' ORDER BY seq";
	sqlite3_stmt *st;
	pc_rc rc;

	if (cs->by_referral_busy) {	/* from a callback of its own */
		if (sqlite3_prepare_v2(cs->db, sql, -1, &st, NULL) != SQLITE_OK)
			return PC_ESTORE;
		sqlite3_bind_text(st, 1, referral, -1, SQLITE_TRANSIENT);
		return each_row(cs, st, cb, arg);
	}
	if (cs->by_referral == NULL && sqlite3_prepare_v2(cs->db, sql, -1,
	    &cs->by_referral, NULL) != SQLITE_OK)
		return PC_ESTORE;
	st = cs->by_referral;
	sqlite3_bind_text(st, 1, referral, -1, SQLITE_TRANSIENT);
	cs->by_referral_busy = 1;
	rc = run_rows(cs, st, cb, arg);
	cs->by_referral_busy = 0;
	sqlite3_reset(st);	/* its outcome is rc's */
	sqlite3_clear_bindings(st);
	return rc;
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
		    "%s cannot be read", uuid_short(referral).s);
		return c.rc;
	}
	return PC_OK;
}

pc_rc
cstore_counts(struct cstore *cs, long counts[CS_NSTATES])
{
	sqlite3_stmt *st;
	long outbox = 0;
	int i;

	for (i = 0; i < CS_NSTATES; i++)
		counts[i] = 0;
	/* the column's 'pending' counts the outbox and those sent since */
	if (sqlite3_prepare_v2(cs->db, "SELECT state, COUNT(*) FROM records "
	    "GROUP BY state UNION ALL SELECT 'outbox', COUNT(*) FROM outbox",
	    -1, &st, NULL) != SQLITE_OK)
		return PC_ESTORE;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		long n = (long)sqlite3_column_int64(st, 1);

		if (strcmp(s, "outbox") == 0)
			outbox = n;
		else
			counts[state_parse(s)] += n;
	}
	sqlite3_finalize(st);
	counts[CS_SENT] += counts[CS_PENDING] - outbox;
	counts[CS_PENDING] = outbox;
	return PC_OK;
}

/*
 * A list of seqs as a JSON array, for json_each in one statement. The
 * digits are written here: a printf for each seq of a sync's batches
 * cost a twentieth of the sync.
 */
static pc_rc
seq_list(const int64_t *seqs, size_t n, struct buf *list)
{
	char d[24], *p;
	uint64_t v;
	size_t i;

	for (i = 0; i < n; i++) {
		if (seqs[i] < 0) {	/* never made; written all the same */
			if (buf_addf(list, "%s%lld", i ? "," : "[",
			    (long long)seqs[i]) != PC_OK)
				return PC_ENOMEM;
			continue;
		}
		p = d + sizeof(d);
		v = (uint64_t)seqs[i];
		do
			*--p = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		*--p = i ? ',' : '[';
		if (buf_add(list, p, (size_t)(d + sizeof(d) - p)) != PC_OK)
			return PC_ENOMEM;
	}
	return n == 0 ? buf_adds(list, "[]") : buf_addc(list, ']');
}

pc_rc
cstore_mark_sent(struct cstore *cs, const int64_t *seqs, size_t n,
    struct err_list *errs)
{
	sqlite3_stmt *st;
	struct buf list;
	int rc;

	if (n == 0)
		return PC_OK;
	buf_init(&list, 0);
	if (seq_list(seqs, n, &list) != PC_OK) {
		buf_free(&list);
		return PC_ENOMEM;
	}
	/* out of the outbox: their rows in records are not written */
	if (sqlite3_prepare_v2(cs->db, "DELETE FROM outbox WHERE seq IN "
	    "(SELECT value FROM json_each(?1))", -1, &st, NULL) != SQLITE_OK) {
		buf_free(&list);
		return db_fail(cs, errs, "preparing");
	}
	sqlite3_bind_text(st, 1, list.p, (int)list.len, SQLITE_STATIC);
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
	struct aad a;
	pc_rc prc;
	int rc;

	if ((prc = locked(cs, errs)) != PC_OK)
		return prc;
	time_format((int64_t)time(NULL), now);
	if (cs->mark == NULL && sqlite3_prepare_v3(cs->db, "UPDATE records SET "
	    "state = ?, reason = ?, synced_at = ? WHERE id = ? AND state <> "
	    "'superseded'", -1, SQLITE_PREPARE_PERSISTENT, &cs->mark, NULL) !=
	    SQLITE_OK)
		return db_fail(cs, errs, "preparing");
	st = cs->mark;
	sqlite3_bind_text(st, 1, state_names[s], -1, SQLITE_STATIC);
	if (reason != NULL) {
		buf_reset(&cs->seal);
		aad_reason(&a, cs, id);
		if ((prc = vault_seal(cs->box, a.b, a.n, reason, strlen(reason),
		    &cs->seal)) != PC_OK)
			return prc;
		sqlite3_bind_blob(st, 2, cs->seal.p, (int)cs->seal.len,
		    SQLITE_STATIC);
	} else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? PC_OK : db_fail(cs, errs, "marking");
}

/* 1 when every error of a reason (JSON) is E_REFERRAL. */
static int
only_referral_unknown(const char *reason)
{
	cJSON *j, *e;
	int only = 1;

	if (reason == NULL)
		return 1;
	if ((j = cJSON_Parse(reason)) == NULL)
		return 0;
	cJSON_ArrayForEach(e, j) {
		const char *code = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(e, "code"));

		if (code == NULL || strcmp(code, "E_REFERRAL") != 0)
			only = 0;
	}
	cJSON_Delete(j);
	return only;
}

struct orphans {
	int64_t	*v;
	size_t	 n, cap;
};

static int
orphan_one(void *arg, const struct cstore_row *row)
{
	struct orphans *o = arg;
	int64_t *v;

	if (!only_referral_unknown(row->reason))
		return 0;
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 16;
		if ((v = realloc(o->v, o->cap * sizeof(*v))) == NULL)
			return 1;
		o->v = v;
	}
	o->v[o->n++] = row->seq;
	return 0;
}

int
cstore_requeue_orphans(struct cstore *cs)
{
	struct orphans o = {NULL, 0, 0};
	sqlite3_stmt *st;
	struct buf list;
	int rc = -1;

	/* the reasons are sealed: they are read here, not in SQL */
	if (sqlite3_prepare_v2(cs->db, "SELECT " ROW_COLS " FROM records WHERE "
	    "state = 'quarantined' AND kind <> 'referral' AND EXISTS (SELECT 1 "
	    "FROM records r WHERE r.id = records.referral AND " STATE_OF("r")
	    " = 'sent') ORDER BY seq", -1, &st, NULL) != SQLITE_OK ||
	    each_row(cs, st, orphan_one, &o) != PC_OK) {
		free(o.v);
		return -1;
	}
	if (o.n == 0) {
		free(o.v);
		return 0;
	}
	buf_init(&list, 0);
	if (seq_list(o.v, o.n, &list) == PC_OK && sqlite3_prepare_v2(cs->db,
	    "UPDATE records SET state = 'pending', reason = NULL WHERE seq IN "
	    "(SELECT value FROM json_each(?1))", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, list.p, (int)list.len, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = sqlite3_changes(cs->db);
		sqlite3_finalize(st);
	}
	buf_free(&list);
	free(o.v);
	return rc;
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
		if ((size_t)sqlite3_column_bytes(st, 0) < len) {
			snprintf(out, len, "%s", sqlite3_column_text(st, 0));
			rc = PC_OK;
		} else
			rc = PC_ELIMIT;
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

pc_rc
cstore_meta_del(struct cstore *cs, const char *key, struct err_list *errs)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(cs->db, "DELETE FROM meta WHERE key = ?", -1,
	    &st, NULL) != SQLITE_OK)
		return db_fail(cs, errs, "preparing");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PC_OK : db_fail(cs, errs, "deleting");
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

/*
 * store_sqlite.c - the SQLite implementation of store.h, for one pcmdsd.
 *
 * WAL with synchronous=FULL: a commit is on disk before it returns, so an
 * acknowledged record survives a crash or power cut. STRICT tables, and
 * triggers that refuse any change to records and to the audit log. The
 * hot statements (lookup by id, insert, a referral's records) are
 * prepared once. One writer at a time (BEGIN IMMEDIATE, the connections
 * of this process taking turns first: struct wlock), so batches are
 * serialised without store_batch_lock(), the audit log is one chain
 * (chain 0), and every commit is seen by the next query: there is no
 * watermark to wait for.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "map.h"
#include "store_impl.h"
#include "turns.h"

#define BUSY_MS		10000	/* administration commands wait this long */
#define LOOP_BUSY_MS	200	/* the server's loop: then 503, not a stall */
/*
 * WAL pages that make a checkpoint due: ten times SQLite's own 1000. A
 * page many commits rewrite (an index's, a table's last) is copied into
 * the database once a checkpoint, so fewer checkpoints copy it fewer
 * times; each commit is still synced to the WAL before it returns, and
 * the WAL grows to about 40 MB before it is copied back.
 */
#define CKPT_PAGES	10000

enum {
	Q_RECORD_HASH,
	Q_RECORD_PUT,
	Q_TIMELINE,
	Q_CRED_FIND,
	Q_FACT_SET,
	Q_FACT_PUT,
	Q_FACT_KEY,
	Q_FACT_MOVE,
	Q_TAKEUP_DEL,
	Q_TAKEUP_PUT,
	Q_TAKEUP_ADD,
	Q_FACTS_OF,
	Q_NQUERIES
};

static const char *const queries[Q_NQUERIES] = {
	[Q_RECORD_HASH] = "SELECT hash FROM records WHERE id = ?",
	[Q_RECORD_PUT] = "INSERT INTO records(id, referral, kind, place, worker,"
	    " hash, json, user_id, received, audit_seq) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?)",
	[Q_TIMELINE] = "SELECT json, hash FROM records WHERE referral = ? "
	    "ORDER BY seq",
	[Q_CRED_FIND] = "SELECT u.id, u.name, u.role, u.place, u.pcn, u.worker,"
	    " u.created, u.revoked, c.expires, c.revoked, c.device FROM creds c"
	    " JOIN users u ON u.id = c.user_id WHERE c.hash = ? AND c.kind = ?",
	/*
	 * A fact the batch read (sq_facts_of), by the key read with it: a
	 * rowid, not the referral's index, and nothing to return. No row
	 * changes when it is not that referral's or moves place or date.
	 */
	[Q_FACT_SET] = "UPDATE facts SET exportable = ?4, data = ?5 WHERE "
	    "k = ?6 AND referral = ?1 AND place = ?2 AND referred_on = ?3",
	/*
	 * A fact's place and date seldom change, and an UPDATE naming them
	 * rewrites its facts_by_place entry (a page more a fact, scattered)
	 * even when they stay: this one leaves them, and changes no row
	 * when they differ, for Q_FACT_MOVE. No RETURNING: SQLite runs such
	 * a statement into a table of its own first, which cost more than
	 * the upsert; a new row's key is the last rowid inserted, an
	 * updated one's is read (Q_FACT_KEY).
	 */
	[Q_FACT_PUT] = "INSERT INTO facts(referral, place, referred_on, "
	    "exportable, data) VALUES (?,?,?,?,?) ON CONFLICT(referral) DO "
	    "UPDATE SET exportable = excluded.exportable, data = excluded.data"
	    " WHERE place = excluded.place AND referred_on = "
	    "excluded.referred_on",
	[Q_FACT_KEY] = "SELECT k FROM facts WHERE referral = ?",
	[Q_FACT_MOVE] = "UPDATE facts SET place = ?2, referred_on = ?3, "
	    "exportable = ?4, data = ?5 WHERE referral = ?1 RETURNING k",
	[Q_TAKEUP_DEL] = "DELETE FROM takeup WHERE referral = ?",
	[Q_TAKEUP_PUT] = "INSERT INTO takeup(referral, asset, place, "
	    "referred_on, taken, k) VALUES (?,?,?,?,?,?)",
	[Q_TAKEUP_ADD] = "INSERT INTO takeup(referral, asset, place, "
	    "referred_on, taken, k) VALUES (?,?,?,?,?,?) ON CONFLICT(referral, "
	    "asset) DO UPDATE SET taken = max(taken, excluded.taken)",
	/* a batch's referrals as a JSON array of ids */
	[Q_FACTS_OF] = "SELECT referral, data, k FROM facts WHERE referral "
	    "IN (SELECT value FROM json_each(?))",
};

/*
 * Checkpoints (copying the WAL back into the database, with its fsyncs)
 * done by a thread with a connection of its own, so that the commit that
 * crosses the threshold does not stall every request behind it.
 */
struct ckpt {
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 due;	/* the WAL has grown past CKPT_PAGES */
	int		 stop;
	sqlite3		*db;	/* the thread's own connection */
	struct wlock	*wl;	/* the writers' turns (the store's), or NULL */
};

/*
 * The writers of one database file in this process take turns here, in
 * the order they asked, before BEGIN IMMEDIATE: at SQLite's own lock the
 * others would poll in its busy handler, asleep for up to 100 ms a try
 * (and the loop's connection give up after LOOP_BUSY_MS), with no one
 * first in line. Other processes (administration commands) still meet
 * SQLite's lock and its busy wait.
 */
struct wlock {
	struct wlock	*next;		/* wlocks' */
	char		 file[4096];	/* sqlite3_db_filename's */
	int		 refs;		/* connections open on it */
	struct turns	 turns;
	int		 held;
	pthread_t	 owner;		/* when held */
};

/* The locks' list, and every lock's fields but its turns. */
static pthread_mutex_t wlocks_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wlock *wlocks;

struct sq {
	struct store	 base;
	sqlite3		*db;
	struct wlock	*wl;	/* NULL: an in-memory database */
	int		 wl_mine;	/* this connection holds it */
	sqlite3_stmt	*q[Q_NQUERIES];
	/* referral -> its fact's key, as sq_facts_of read them in this
	   transaction: a hint for sq_fact_put, which checks it */
	struct map	 fkeys;
	struct ckpt	*ckpt;	/* NULL: SQLite checkpoints on commit */
	char		 path[4096];
	/* what the failed call of the current transaction met (see fault) */
	int		 fault;		/* SQLite extended code, 0 none */
	char		 fault_msg[256];
};

struct sq_cursor {
	struct store_cursor base;
	sqlite3		*db;
	sqlite3_stmt	*refs;
	sqlite3_stmt	*recs;
	struct store_texts t;	/* the referral last given */
	int		 done;	/* stepping on would start again from the top */
};

static const struct store_ops sq_ops;

static void	 sq_close(struct store *);

/* The lock of db's file, NULL for none (in memory); add: one more user. */
static struct wlock *
wlock_of(sqlite3 *db, int add)
{
	const char *file = sqlite3_db_filename(db, "main");
	struct wlock *w;

	if (file == NULL || file[0] == '\0')
		return NULL;
	pthread_mutex_lock(&wlocks_mu);
	for (w = wlocks; w != NULL; w = w->next)
		if (strcmp(w->file, file) == 0)
			break;
	if (w == NULL && add && (w = calloc(1, sizeof(*w))) != NULL) {
		snprintf(w->file, sizeof(w->file), "%s", file);
		turns_init(&w->turns);
		w->next = wlocks;
		wlocks = w;
	}
	if (w != NULL && add)
		w->refs++;
	pthread_mutex_unlock(&wlocks_mu);
	return w;
}

static void
wlock_drop(struct wlock *w)
{
	struct wlock **p;

	if (w == NULL)
		return;
	pthread_mutex_lock(&wlocks_mu);
	if (--w->refs == 0) {
		for (p = &wlocks; *p != w; p = &(*p)->next)
			;
		*p = w->next;
		turns_destroy(&w->turns);
		free(w);
	}
	pthread_mutex_unlock(&wlocks_mu);
}

/*
 * Waits for w's turn; 1 when taken, 0 when there is none (NULL) or this
 * thread holds it already (through another connection: SQLite's lock
 * then says busy, as it did before there was this one).
 */
static int
wlock_take(struct wlock *w)
{
	int mine;

	if (w == NULL)
		return 0;
	/* only this thread sets itself the owner: no one else can make it so */
	pthread_mutex_lock(&wlocks_mu);
	mine = w->held && pthread_equal(w->owner, pthread_self());
	pthread_mutex_unlock(&wlocks_mu);
	if (mine)
		return 0;
	turns_take(&w->turns);
	pthread_mutex_lock(&wlocks_mu);
	w->held = 1;
	w->owner = pthread_self();
	pthread_mutex_unlock(&wlocks_mu);
	return 1;
}

static void
wlock_give(struct wlock *w)
{
	pthread_mutex_lock(&wlocks_mu);
	w->held = 0;
	pthread_mutex_unlock(&wlocks_mu);
	turns_give(&w->turns);
}

/* The connection's turn ends with its transaction. */
static void
wlock_end(struct sq *st)
{
	if (st->wl_mine && sqlite3_get_autocommit(st->db)) {
		st->wl_mine = 0;
		wlock_give(st->wl);
	}
}

static struct sq *
sq_of(struct store *s)
{
	return (struct sq *)s;
}

static const char *const cred_names[] = {"code", "device", "session"};

static const char *const migrations[] = {
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
	"CREATE TABLE places("
	"  code TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  population INTEGER NOT NULL CHECK (population > 0),"
	"  source TEXT NOT NULL DEFAULT '') STRICT;"
	"CREATE TABLE users("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN"
	"    ('link_worker', 'place_lead', 'evaluator')),"
	"  place TEXT NOT NULL DEFAULT '',"
	"  pcn TEXT NOT NULL DEFAULT '',"
	"  worker TEXT,"
	"  created INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0) STRICT;"
	"CREATE UNIQUE INDEX users_worker ON users(worker)"
	"  WHERE worker IS NOT NULL;"
	"CREATE TABLE creds("
	"  hash BLOB PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('code', 'device', 'session')),"
	"  device TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0,"
	"  revoked INTEGER NOT NULL DEFAULT 0) STRICT, WITHOUT ROWID;"
	"CREATE INDEX creds_by_user ON creds(user_id);"
	"CREATE TABLE records("
	"  seq INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  referral TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  place TEXT NOT NULL,"
	"  worker TEXT NOT NULL,"
	"  hash BLOB NOT NULL,"
	"  json TEXT NOT NULL,"
	"  user_id INTEGER NOT NULL,"
	"  received INTEGER NOT NULL) STRICT;"
	"CREATE INDEX records_by_referral ON records(referral, seq);"
	"CREATE TRIGGER records_immutable BEFORE UPDATE ON records BEGIN"
	"  SELECT RAISE(ABORT, 'records are immutable'); END;"
	"CREATE TRIGGER records_kept BEFORE DELETE ON records BEGIN"
	"  SELECT RAISE(ABORT, 'records are never deleted'); END;"
	"CREATE TABLE audit("
	"  seq INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  prev BLOB NOT NULL,"
	"  hash BLOB NOT NULL) STRICT;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'the audit log is append-only'); END;",

	/* 2: per-referral facts for the aggregates and exports */
	"CREATE TABLE facts("
	"  referral TEXT PRIMARY KEY,"
	"  place TEXT NOT NULL,"
	"  referred_on INTEGER NOT NULL,"
	"  exportable INTEGER NOT NULL,"
	"  data BLOB NOT NULL) STRICT, WITHOUT ROWID;"
	"CREATE INDEX facts_by_place ON facts(place, referred_on);",

	/*
	 * 3: a keyed audit chain whose batch entries list the records they
	 * stored with their content hashes; each record names its entry.
	 * What came before stays as it was, to be sealed by the first
	 * keyed entry (audit.c).
	 */
	"ALTER TABLE audit ADD COLUMN records BLOB;"
	"ALTER TABLE records ADD COLUMN audit_seq INTEGER;"
	"CREATE INDEX records_by_audit ON records(audit_seq);"
	"INSERT INTO meta(key, value) SELECT 'audit_unsealed',"
	"  CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM audit;",
	/* 4: each place's directory of community assets */
	"CREATE TABLE assets("
	"  place TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  category TEXT NOT NULL,"
	"  contact TEXT NOT NULL DEFAULT '',"
	"  notes TEXT NOT NULL DEFAULT '',"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  PRIMARY KEY (place, id)) STRICT, WITHOUT ROWID;"
	"CREATE TRIGGER assets_kept BEFORE DELETE ON assets BEGIN"
	"  SELECT RAISE(ABORT, 'records may name an asset: it is retired, "
	"never deleted'); END;",

	/* 5: population denominators per place (pop.h) */
	"CREATE TABLE population("
	"  place TEXT NOT NULL,"
	"  tbl TEXT NOT NULL,"
	"  category TEXT NOT NULL,"
	"  population INTEGER NOT NULL CHECK (population >= 0),"
	"  source TEXT NOT NULL,"
	"  PRIMARY KEY (place, tbl, category)) STRICT, WITHOUT ROWID;",

	/* 6: dashboard passwords (passwd.h), one per user */
	"CREATE TABLE passwords("
	"  user_id INTEGER PRIMARY KEY REFERENCES users(id),"
	"  hash TEXT NOT NULL,"
	"  set_at INTEGER NOT NULL) STRICT;",

	/* 7: identities at an OpenID Connect provider, linked to users */
	"CREATE TABLE oidc_links("
	"  issuer TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  linked_at INTEGER NOT NULL,"
	"  PRIMARY KEY (issuer, subject),"
	"  UNIQUE (issuer, user_id)) STRICT, WITHOUT ROWID;",

	/* 8: take-up of community assets per referral, beside the facts */
	"CREATE TABLE takeup("
	"  referral TEXT NOT NULL,"
	"  asset TEXT NOT NULL,"
	"  place TEXT NOT NULL,"
	"  referred_on INTEGER NOT NULL,"
	"  taken INTEGER NOT NULL,"
	"  PRIMARY KEY (referral, asset)) STRICT, WITHOUT ROWID;"
	/* covering: a place's rows are read from the index alone */
	"CREATE INDEX takeup_by_place ON takeup(place, referred_on, taken);",

	/*
	 * 9: each referral's fact keyed by a number (store.h), the rowid:
	 * a new referral's is the largest + 1, and an upsert keeps it. The
	 * facts there are numbered in the order they load. The index by
	 * place ends with the referral, as the old table's key made it, for
	 * exports' order.
	 */
	"CREATE TABLE facts_keyed("
	"  k INTEGER PRIMARY KEY,"
	"  referral TEXT NOT NULL UNIQUE,"
	"  place TEXT NOT NULL,"
	"  referred_on INTEGER NOT NULL,"
	"  exportable INTEGER NOT NULL,"
	"  data BLOB NOT NULL) STRICT;"
	"INSERT INTO facts_keyed(referral, place, referred_on, exportable, data)"
	"  SELECT referral, place, referred_on, exportable, data FROM facts"
	"  ORDER BY place, referred_on, referral;"
	"DROP TABLE facts;"
	"ALTER TABLE facts_keyed RENAME TO facts;"
	"CREATE INDEX facts_by_place ON facts(place, referred_on, referral);"
	/* take-up rows with their referral's key, for the aggregates */
	"CREATE TABLE takeup_keyed("
	"  referral TEXT NOT NULL,"
	"  asset TEXT NOT NULL,"
	"  place TEXT NOT NULL,"
	"  referred_on INTEGER NOT NULL,"
	"  taken INTEGER NOT NULL,"
	"  k INTEGER NOT NULL,"
	"  PRIMARY KEY (referral, asset)) STRICT, WITHOUT ROWID;"
	"INSERT INTO takeup_keyed SELECT t.referral, t.asset, t.place,"
	"  t.referred_on, t.taken, COALESCE(f.k, 0) FROM takeup t LEFT JOIN"
	"  facts f ON f.referral = t.referral;"
	"DROP TABLE takeup;"
	"ALTER TABLE takeup_keyed RENAME TO takeup;"
	"CREATE INDEX takeup_by_place ON takeup(place, referred_on, taken, k);",
};
#define NMIGRATIONS	(sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION, "a migration per version");

static pc_rc
exec(struct sq *st, const char *sql, struct err_list *errs)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return PC_OK;
	if (errs != NULL)
		err_add(errs, E_SYSTEM, "", "database: %s",
		    msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return PC_ESTORE;
}

static pc_rc
migrate(struct sq *st, struct err_list *errs)
{
	sqlite3_stmt *s;
	char sql[64];
	int v = 0;
	size_t i;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return exec(st, "SELECT error", errs);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return exec(st, "PRAGMA user_version", errs);	/* why */
	}
	v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (v > (int)NMIGRATIONS) {
		err_add(errs, E_SYSTEM, "", "the database has schema %d; this "
		    "pcmdsd knows up to %d: upgrade pcmdsd", v,
		    (int)NMIGRATIONS);
		return PC_ESTORE;
	}
	for (i = (size_t)v; i < NMIGRATIONS; i++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if (exec(st, "BEGIN IMMEDIATE", errs) != PC_OK)
			return PC_ESTORE;
		if (exec(st, migrations[i], errs) != PC_OK ||
		    exec(st, sql, errs) != PC_OK) {
			(void)exec(st, "ROLLBACK", NULL);
			return PC_ESTORE;
		}
		if (exec(st, "COMMIT", errs) != PC_OK)
			return PC_ESTORE;
	}
	return PC_OK;
}

#ifdef PCMDS_FAILPOINTS
/* See store.h: a disk that fills after N more pages, for the tests. */
static pc_rc
test_disk_limit(struct sq *st, struct err_list *errs)
{
	const char *v = getenv("PCMDS_TEST_DISK_PAGES");
	sqlite3_stmt *s;
	char sql[64];
	long long pages = 0;

	if (v == NULL)
		return PC_OK;
	if (sqlite3_prepare_v2(st->db, "PRAGMA page_count", -1, &s, NULL) !=
	    SQLITE_OK)
		return exec(st, "PRAGMA page_count", errs);
	if (sqlite3_step(s) == SQLITE_ROW)
		pages = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    pages + atoll(v));
	return exec(st, sql, errs);
}
#else
#define test_disk_limit(st, errs)	PC_OK
#endif

/*
 * SQLite counts the memory it holds by default, taking one mutex of the
 * whole process at every allocation and free: some thirty a record in a
 * batch, and the threads writing and checking batches meet there. Nothing
 * here reads the counts. Only possible before SQLite is first used: when
 * something has used it already (SQLITE_MISUSE), it keeps counting, which
 * costs time and nothing else, so that result is not a failure.
 */
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

static void
config_sqlite(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* no page cache made ahead (SQLite's 20 pages, some 87 KiB, each
	 * written once at a connection's first read, whether it reads that
	 * much or not: the server has eight or so connections, those that
	 * checkpoint never cache a page); pages are allocated as read */
	(void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

pc_rc
store_sqlite_open(const char *path, struct store **out, struct err_list *errs)
{
	struct sq *st;
	int i;

	*out = NULL;
	pthread_once(&config_once, config_sqlite);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return PC_ENOMEM;
	st->base.ops = &sq_ops;
	map_init(&st->fkeys);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		err_add(errs, E_SYSTEM, "", "cannot open database %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		sq_close(&st->base);
		return PC_ESTORE;
	}
	sqlite3_busy_timeout(st->db, BUSY_MS);
	snprintf(st->path, sizeof(st->path), "%s", path);
	if (exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384;"
	    "PRAGMA temp_store=MEMORY;", errs) != PC_OK ||
	    migrate(st, errs) != PC_OK) {
		sq_close(&st->base);
		return PC_ESTORE;
	}
	if (test_disk_limit(st, errs) != PC_OK) {
		sq_close(&st->base);
		return PC_ESTORE;
	}
	if ((st->wl = wlock_of(st->db, 1)) == NULL &&
	    sqlite3_db_filename(st->db, "main")[0] != '\0') {
		sq_close(&st->base);
		return PC_ENOMEM;
	}
	for (i = 0; i < Q_NQUERIES; i++)
		if (sqlite3_prepare_v3(st->db, queries[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->q[i], NULL) != SQLITE_OK) {
			err_add(errs, E_SYSTEM, "", "database: %s",
			    sqlite3_errmsg(st->db));
			sq_close(&st->base);
			return PC_ESTORE;
		}
	*out = &st->base;
	return PC_OK;
}

static int
ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct ckpt *c = arg;

	(void)db;
	(void)name;
	if (pages >= CKPT_PAGES) {
		pthread_mutex_lock(&c->mu);
		c->due = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

/*
 * Passive: never waits for, nor blocks, the writers. But the WAL starts
 * again from its beginning only when a writer begins with every frame
 * copied back, and with batches committing all along the next one has
 * always begun while the copy ran: the WAL would grow without end, each
 * commit writing where the file has never been (which costs the kernel
 * far more than rewriting what it holds). So the frames appended
 * meanwhile, a commit's or two, are copied with the writers waiting their
 * turn, and the next writer starts the WAL again.
 */
static void
ckpt_once(struct ckpt *c)
{
	int mine;

	sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	if (c->wl == NULL)
		return;
	mine = wlock_take(c->wl);
	sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	/* what the commits before asked for is done: the WAL starts again */
	pthread_mutex_lock(&c->mu);
	c->due = 0;
	pthread_mutex_unlock(&c->mu);
	if (mine)
		wlock_give(c->wl);
}

static void *
ckpt_main(void *arg)
{
	struct ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->due && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->due = 0;
		pthread_mutex_unlock(&c->mu);
		ckpt_once(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static pc_rc
sq_background_checkpoints(struct store *base, struct err_list *errs)
{
	struct sq *st = sq_of(base);
	struct ckpt *c;

	if (st->ckpt != NULL || strcmp(st->path, ":memory:") == 0)
		return PC_OK;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PC_ENOMEM;
	if (sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		err_add(errs, E_SYSTEM, "", "cannot open database %s for "
		    "checkpoints: %s", st->path, c->db ? sqlite3_errmsg(c->db) :
		    "out of memory");
		sqlite3_close(c->db);
		free(c);
		return PC_ESTORE;
	}
	c->wl = st->wl;	/* outlives the thread: sq_close() stops it first */
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
		err_add(errs, E_SYSTEM, "", "cannot start the checkpoint "
		    "thread");
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		sqlite3_close(c->db);
		free(c);
		return PC_ESTORE;
	}
	st->ckpt = c;
	/* replaces SQLite's autocheckpoint on this connection */
	sqlite3_wal_hook(st->db, ckpt_hook, c);
	return PC_OK;
}

static void
ckpt_stop(struct sq *st)
{
	struct ckpt *c = st->ckpt;

	if (c == NULL)
		return;
	sqlite3_wal_autocheckpoint(st->db, CKPT_PAGES);	/* hook back */
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
	st->ckpt = NULL;
}

static void
sq_close(struct store *base)
{
	struct sq *st = sq_of(base);
	int i;

	if (st == NULL)
		return;
	/* first: the checkpoint thread may be waiting for this turn */
	if (st->wl_mine)
		wlock_give(st->wl);
	st->wl_mine = 0;
	ckpt_stop(st);
	wlock_drop(st->wl);
	for (i = 0; i < Q_NQUERIES; i++)
		sqlite3_finalize(st->q[i]);
	sqlite3_close(st->db);
	map_free(&st->fkeys);
	free(st);
}

/*
 * Keeps what the connection's last failed call met, before a ROLLBACK
 * (which succeeds) makes SQLite forget it.
 */
static void
note_fault(struct sq *st)
{
	int e = sqlite3_extended_errcode(st->db);

	if (st->fault != 0 || e == SQLITE_OK || e == SQLITE_ROW ||
	    e == SQLITE_DONE)
		return;
	st->fault = e;
	snprintf(st->fault_msg, sizeof(st->fault_msg), "%s",
	    sqlite3_errmsg(st->db));
}

/* The keys sq_facts_of read are the transaction's hints, not longer. */
static void
fkeys_forget(struct sq *st)
{
	if (st->fkeys.cap > 0)
		map_free(&st->fkeys);
}

static pc_rc
sq_begin(struct store *base)
{
	struct sq *st = sq_of(base);
	pc_rc rc;

	st->fault = 0;
	fkeys_forget(st);
	if (!st->wl_mine)
		st->wl_mine = wlock_take(st->wl);
	if ((rc = exec(st, "BEGIN IMMEDIATE", NULL)) != PC_OK) {
		note_fault(st);
		wlock_end(st);
	}
	return rc;
}

static pc_rc
sq_commit(struct store *base)
{
	struct sq *st = sq_of(base);
	pc_rc rc;

	if ((rc = exec(st, "COMMIT", NULL)) != PC_OK)
		note_fault(st);
	else
		fkeys_forget(st);
	wlock_end(st);	/* a failed COMMIT leaves it open: rollback's */
	return rc;
}

static void
sq_rollback(struct store *base)
{
	struct sq *st = sq_of(base);

	note_fault(st);
	if (!sqlite3_get_autocommit(st->db))
		(void)exec(st, "ROLLBACK", NULL);
	fkeys_forget(st);
	wlock_end(st);
}

static void
sq_short_waits(struct store *base)
{
	struct sq *st = sq_of(base);

	sqlite3_busy_timeout(st->db, LOOP_BUSY_MS);
}

static pc_rc
sq_cache_size(struct store *base, int mib)
{
	struct sq *st = sq_of(base);
	char sql[64];

	/* negative: a size in KiB rather than a number of pages */
	snprintf(sql, sizeof(sql), "PRAGMA cache_size=%lld",
	    -(long long)mib * 1024);
	return exec(st, sql, NULL);
}

/* The directory of the database file, for "the disk holding DIR". */
static void
db_dir(const struct sq *st, char *out, size_t len)
{
	const char *slash = strrchr(st->path, '/');

	if (slash == NULL)
		snprintf(out, len, ".");
	else if (slash == st->path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - st->path), st->path);
}

static enum store_fault
sq_fault(struct store *base, char *msg, size_t len)
{
	struct sq *st = sq_of(base);
	int e = st->fault;
	const char *why = st->fault_msg;
	char dir[4096];

	if (e == 0) {	/* no transaction failed: the last call did */
		e = sqlite3_extended_errcode(st->db);
		why = sqlite3_errmsg(st->db);
	}
	db_dir(st, dir, sizeof(dir));
	switch (e & 0xff) {
	case SQLITE_FULL:
		snprintf(msg, len, "the disk holding %s is full (database %s: "
		    "%s)", dir, st->path, why);
		return STORE_FAULT_FULL;
	case SQLITE_READONLY:
		snprintf(msg, len, "the database %s cannot be written (%s): "
		    "check the permissions of %s and its files, and that the "
		    "file system is mounted read-write", st->path, why, dir);
		return STORE_FAULT_READONLY;
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CANTOPEN:
		snprintf(msg, len, "the database %s cannot be read or written "
		    "(%s, SQLite code %d): check the disk and the system log",
		    st->path, why, e);
		return STORE_FAULT_IO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		snprintf(msg, len, "the database %s is busy: another process "
		    "holds its lock (%s)", st->path, why);
		return STORE_FAULT_BUSY;
	case SQLITE_NOMEM:
		snprintf(msg, len, "out of memory (database %s)", st->path);
		return STORE_FAULT_OTHER;
	default:
		snprintf(msg, len, "database error on %s: %s (SQLite code %d)",
		    st->path, why, e);
		return STORE_FAULT_OTHER;
	}
}

/* Prepares an ad hoc statement; finalize after use. */
static sqlite3_stmt *
prep(struct sq *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	return s;
}

/*
 * sqlite3_step, a write outside a transaction (its own) taking its turn
 * at the lock as a transaction would.
 */
static int
sq_step(sqlite3_stmt *s)
{
	sqlite3 *db;
	struct wlock *w;
	int rc, mine;

	if (sqlite3_stmt_readonly(s) ||
	    !sqlite3_get_autocommit(db = sqlite3_db_handle(s)))
		return sqlite3_step(s);
	w = wlock_of(db, 0);
	mine = wlock_take(w);
	rc = sqlite3_step(s);
	if (mine)
		wlock_give(w);
	return rc;
}

static pc_rc
step_done(sqlite3_stmt *s)
{
	int rc = sq_step(s);

	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

/*
 * The end of a walk over rows: finished, or stopped by its callback (rc
 * still SQLITE_ROW), is PC_OK; any other step result means rows were
 * left unread, and the caller must not take what it saw for the whole.
 */
static pc_rc
each_end(sqlite3_stmt *s, int rc)
{
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

/* The end of a lookup of one row: found, not there, or failed. */
static pc_rc
row_end(sqlite3_stmt *s, int rc)
{
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? PC_OK : rc == SQLITE_DONE ? PC_ENOTFOUND :
	    PC_ESTORE;
}

static void
col_text(sqlite3_stmt *s, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

static pc_rc
sq_meta_get(struct store *base, const char *key, char *out, size_t len)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT value FROM meta WHERE key = ?");
	int step;

	out[0] = '\0';
	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if ((step = sq_step(s)) == SQLITE_ROW)
		col_text(s, 0, out, len);
	return row_end(s, step);
}

static pc_rc
sq_meta_set(struct store *base, const char *key, const char *val)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "INSERT INTO meta(key, value) VALUES (?, ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	return step_done(s);
}

static pc_rc
sq_meta_del(struct store *base, const char *key)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "DELETE FROM meta WHERE key = ?");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (step_done(s) != PC_OK)
		return PC_ESTORE;
	return sqlite3_changes(st->db) > 0 ? PC_OK : PC_ENOTFOUND;
}

static pc_rc
sq_place_put(struct store *base, const struct store_place *p)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "INSERT INTO places(code, name, population,"
	    " source) VALUES (?,?,?,?) ON CONFLICT(code) DO UPDATE SET "
	    "name = excluded.name, population = excluded.population, "
	    "source = excluded.source");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, p->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, p->population);
	sqlite3_bind_text(s, 4, p->source, -1, SQLITE_STATIC);
	return step_done(s);
}

static void
read_place(sqlite3_stmt *s, struct store_place *p)
{
	col_text(s, 0, p->code, sizeof(p->code));
	col_text(s, 1, p->name, sizeof(p->name));
	p->population = (long)sqlite3_column_int64(s, 2);
	col_text(s, 3, p->source, sizeof(p->source));
}

static pc_rc
sq_place_get(struct store *base, const char *code, struct store_place *p)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT code, name, population, source FROM "
	    "places WHERE code = ?");
	int step;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
	if ((step = sq_step(s)) == SQLITE_ROW)
		read_place(s, p);
	return row_end(s, step);
}

static pc_rc
sq_place_each(struct store *base,
    int (*cb)(void *, const struct store_place *), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT code, name, population, source FROM "
	    "places ORDER BY code");
	struct store_place p;
	int rc;

	if (s == NULL)
		return PC_ESTORE;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		read_place(s, &p);
		if (cb(arg, &p) != 0)
			break;
	}
	return each_end(s, rc);
}

static pc_rc
sq_asset_put(struct store *base, const struct store_asset *a)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "INSERT INTO assets(place, id, name, "
	    "category, contact, notes, active) VALUES (?,?,?,?,?,?,1) ON "
	    "CONFLICT(place, id) DO UPDATE SET name = excluded.name, category "
	    "= "
	    "excluded.category, contact = excluded.contact, notes = "
	    "excluded.notes, active = 1");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, a->place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, a->contact, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, a->notes, -1, SQLITE_STATIC);
	return step_done(s);
}

static pc_rc
sq_asset_retire(struct store *base, const char *place,
    const char *const *keep, size_t nkeep)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "UPDATE assets SET active = 0 WHERE "
	    "place = ?1 AND id NOT IN (SELECT value FROM json_each(?2))");
	cJSON *ids = cJSON_CreateArray();
	char *text;
	size_t i;
	pc_rc rc;

	for (i = 0; ids != NULL && i < nkeep; i++)
		cJSON_AddItemToArray(ids, cJSON_CreateString(keep[i]));
	if (s == NULL || ids == NULL ||
	    (text = cJSON_PrintUnformatted(ids)) == NULL) {
		sqlite3_finalize(s);
		cJSON_Delete(ids);
		return s == NULL ? PC_ESTORE : PC_ENOMEM;
	}
	cJSON_Delete(ids);
	sqlite3_bind_text(s, 1, place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	rc = step_done(s);
	cJSON_free(text);	/* cJSON's, maybe its hooks' (jarena.h) */
	return rc;
}

static pc_rc
sq_asset_known(struct store *base, const char *place, const char *id)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT 1 FROM assets WHERE place = ? AND "
	    "id = ?");
	int r;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	r = sq_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? PC_OK : r == SQLITE_DONE ? PC_ENOTFOUND :
	    PC_ESTORE;
}

static pc_rc
sq_asset_each(struct store *base, const char *place,
    int (*cb)(void *, const struct store_asset *), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT place, id, name, category, contact, "
	    "notes, active FROM assets WHERE ?1 IS NULL OR place = ?1 ORDER BY "
	    "place, active DESC, name, id");
	struct store_asset a;
	int r;

	if (s == NULL)
		return PC_ESTORE;
	if (place != NULL)
		sqlite3_bind_text(s, 1, place, -1, SQLITE_STATIC);
	while ((r = sq_step(s)) == SQLITE_ROW) {
		col_text(s, 0, a.place, sizeof(a.place));
		col_text(s, 1, a.id, sizeof(a.id));
		col_text(s, 2, a.name, sizeof(a.name));
		col_text(s, 3, a.category, sizeof(a.category));
		col_text(s, 4, a.contact, sizeof(a.contact));
		col_text(s, 5, a.notes, sizeof(a.notes));
		a.active = sqlite3_column_int(s, 6);
		if (cb(arg, &a) != 0) {
			r = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

static pc_rc
sq_population_clear(struct store *base, const char *place,
    const char *table)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "DELETE FROM population WHERE place = ? AND "
	    "tbl = ?");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, table, -1, SQLITE_STATIC);
	return step_done(s);
}

static pc_rc
sq_population_put(struct store *base, const struct store_population *p)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "INSERT INTO population(place, tbl, "
	    "category, population, source) VALUES (?,?,?,?,?) ON CONFLICT DO "
	    "UPDATE SET population = excluded.population, source = "
	    "excluded.source");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, p->place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->table, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->category, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, p->population);
	sqlite3_bind_text(s, 5, p->source, -1, SQLITE_STATIC);
	return step_done(s);
}

static pc_rc
sq_population_each(struct store *base,
    int (*cb)(void *, const struct store_population *), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT place, tbl, category, population, "
	    "source FROM population ORDER BY place, tbl, category");
	struct store_population p;
	int rc;

	if (s == NULL)
		return PC_ESTORE;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		col_text(s, 0, p.place, sizeof(p.place));
		col_text(s, 1, p.table, sizeof(p.table));
		col_text(s, 2, p.category, sizeof(p.category));
		p.population = (long)sqlite3_column_int64(s, 3);
		col_text(s, 4, p.source, sizeof(p.source));
		if (cb(arg, &p) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

static pc_rc
sq_password_set(struct store *base, int64_t user, const char *stored,
    int64_t now)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "INSERT INTO passwords(user_id, hash, "
	    "set_at) VALUES (?,?,?) ON CONFLICT(user_id) DO UPDATE SET hash = "
	    "excluded.hash, set_at = excluded.set_at");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_int64(s, 1, user);
	sqlite3_bind_text(s, 2, stored, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	return step_done(s);
}

static pc_rc
sq_password_get(struct store *base, int64_t user, char *out, size_t len)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT hash FROM passwords WHERE user_id "
	    "= ?");
	int r;

	out[0] = '\0';
	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_int64(s, 1, user);
	if ((r = sq_step(s)) == SQLITE_ROW)
		col_text(s, 0, out, len);
	sqlite3_finalize(s);
	return r == SQLITE_ROW ? PC_OK : r == SQLITE_DONE ? PC_ENOTFOUND :
	    PC_ESTORE;
}

static pc_rc
sq_password_clear(struct store *base, int64_t user)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "DELETE FROM passwords WHERE user_id = ?");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_int64(s, 1, user);
	return step_done(s);
}

static pc_rc sq_oidc_find(struct store *, const char *, const char *,
    int64_t *);

static pc_rc
sq_oidc_link(struct store *base, int64_t user, const char *issuer,
    const char *subject, int64_t now)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s;
	int64_t other;
	pc_rc rc;

	/* refused before anything changes (no failed statement either) */
	if ((rc = sq_oidc_find(base, issuer, subject, &other)) == PC_OK &&
	    other != user)
		return PC_ECONFLICT;
	if (rc != PC_OK && rc != PC_ENOTFOUND)
		return rc;
	if ((s = prep(st, "DELETE FROM oidc_links WHERE issuer = ? AND "
	    "user_id = ?")) == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, issuer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user);
	if (step_done(s) != PC_OK || (s = prep(st, "INSERT INTO oidc_links("
	    "issuer, subject, user_id, linked_at) VALUES (?,?,?,?)")) == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, issuer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, user);
	sqlite3_bind_int64(s, 4, now);
	return step_done(s);
}

static pc_rc
sq_oidc_find(struct store *base, const char *issuer, const char *subject,
    int64_t *user)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT user_id FROM oidc_links WHERE "
	    "issuer = ? AND subject = ?");
	int step;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, issuer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
	if ((step = sq_step(s)) == SQLITE_ROW)
		*user = sqlite3_column_int64(s, 0);
	return row_end(s, step);
}

static pc_rc
sq_oidc_subject(struct store *base, int64_t user, const char *issuer,
    char *out, size_t len)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT subject FROM oidc_links WHERE "
	    "issuer = ? AND user_id = ?");
	int step;

	out[0] = '\0';
	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, issuer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user);
	if ((step = sq_step(s)) == SQLITE_ROW)
		col_text(s, 0, out, len);
	return row_end(s, step);
}

static pc_rc
sq_oidc_unlink(struct store *base, int64_t user, const char *issuer)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "DELETE FROM oidc_links WHERE issuer = ? "
	    "AND user_id = ?");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, issuer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user);
	if (step_done(s) != PC_OK)
		return PC_ESTORE;
	return sqlite3_changes(st->db) > 0 ? PC_OK : PC_ENOTFOUND;
}

static void
read_user(sqlite3_stmt *s, int at, struct store_user *u)
{
	char role[24];

	u->id = sqlite3_column_int64(s, at);
	col_text(s, at + 1, u->name, sizeof(u->name));
	col_text(s, at + 2, role, sizeof(role));
	u->role = store_role_parse(role);
	col_text(s, at + 3, u->place, sizeof(u->place));
	col_text(s, at + 4, u->pcn, sizeof(u->pcn));
	col_text(s, at + 5, u->worker, sizeof(u->worker));
	u->created = sqlite3_column_int64(s, at + 6);
	u->revoked = sqlite3_column_int64(s, at + 7);
}

#define USER_COLS "id, name, role, place, pcn, worker, created, revoked"

static pc_rc
sq_user_add(struct store *base, struct store_user *u)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "INSERT INTO users(name, role, place, pcn, "
	    "worker, created) VALUES (?,?,?,?,?,?)");
	char worker[REC_WORKER_MAX + 1];
	size_t i;
	pc_rc rc;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, store_role_name(u->role), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, u->place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, u->pcn, -1, SQLITE_STATIC);
	if (u->worker[0] != '\0')
		sqlite3_bind_text(s, 5, u->worker, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int64(s, 6, u->created);
	if ((rc = step_done(s)) != PC_OK)
		return sqlite3_extended_errcode(st->db) ==
		    SQLITE_CONSTRAINT_UNIQUE ? PC_ECONFLICT : rc;
	u->id = sqlite3_last_insert_rowid(st->db);
	if (u->role != ROLE_LINK_WORKER || u->worker[0] != '\0')
		return PC_OK;
	/* "bd-lw12": place and user id, unique and free of any name */
	snprintf(worker, sizeof(worker), "%s-lw%lld", u->place,
	    (long long)u->id);
	for (i = 0; worker[i] != '\0'; i++)
		if (worker[i] >= 'A' && worker[i] <= 'Z')
			worker[i] = (char)(worker[i] - 'A' + 'a');
	if ((s = prep(st, "UPDATE users SET worker = ? WHERE id = ?")) == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, worker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, u->id);
	if ((rc = step_done(s)) == PC_OK)
		snprintf(u->worker, sizeof(u->worker), "%s", worker);
	return rc;
}

static pc_rc
sq_user_get(struct store *base, int64_t id, struct store_user *u)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT " USER_COLS " FROM users WHERE "
	    "id = ?");
	int step;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_int64(s, 1, id);
	if ((step = sq_step(s)) == SQLITE_ROW)
		read_user(s, 0, u);
	return row_end(s, step);
}

static pc_rc
sq_user_each(struct store *base,
    int (*cb)(void *, const struct store_user *), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT " USER_COLS " FROM users ORDER BY "
	    "id");
	struct store_user u;
	int rc;

	if (s == NULL)
		return PC_ESTORE;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		read_user(s, 0, &u);
		if (cb(arg, &u) != 0)
			break;
	}
	return each_end(s, rc);
}

static pc_rc
sq_user_revoke(struct store *base, int64_t id, int64_t now)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "UPDATE users SET revoked = ? WHERE id = ? "
	    "AND revoked = 0");
	int changed;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	if (step_done(s) != PC_OK)
		return PC_ESTORE;
	changed = sqlite3_changes(st->db);
	if ((s = prep(st, "UPDATE creds SET revoked = ? WHERE user_id = ? AND "
	    "revoked = 0")) == NULL)
		return PC_ESTORE;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	if (step_done(s) != PC_OK)
		return PC_ESTORE;
	return changed ? PC_OK : PC_ENOTFOUND;
}

static pc_rc
sq_cred_add(struct store *base, const uint8_t hash[SEC_SHA256_LEN],
    int64_t user, enum store_cred kind, const char *device, int64_t expires,
    int64_t now)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "INSERT INTO creds(hash, user_id, kind, "
	    "device, created, expires) VALUES (?,?,?,?,?,?)");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_blob(s, 1, hash, SEC_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user);
	sqlite3_bind_text(s, 3, cred_names[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, device ? device : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_int64(s, 6, expires);
	return step_done(s);
}

static pc_rc
sq_cred_take_code(struct store *base, const uint8_t hash[SEC_SHA256_LEN],
    int64_t now, int64_t *user)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT c.user_id, c.expires, c.used, "
	    "c.revoked, u.revoked FROM creds c JOIN users u ON u.id = "
	    "c.user_id WHERE c.hash = ? AND c.kind = 'code'");
	int64_t expires = 0;
	int used = 0, step;
	pc_rc rc;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_blob(s, 1, hash, SEC_SHA256_LEN, SQLITE_STATIC);
	if ((step = sq_step(s)) == SQLITE_ROW) {
		*user = sqlite3_column_int64(s, 0);
		expires = sqlite3_column_int64(s, 1);
		used = sqlite3_column_int64(s, 2) != 0 ||
		    sqlite3_column_int64(s, 3) != 0 ||
		    sqlite3_column_int64(s, 4) != 0;
	}
	if ((rc = row_end(s, step)) != PC_OK)
		return rc;
	if (used || expires <= now)
		return PC_EAUTH;
	if ((s = prep(st, "UPDATE creds SET used = ? WHERE hash = ?")) == NULL)
		return PC_ESTORE;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_blob(s, 2, hash, SEC_SHA256_LEN, SQLITE_STATIC);
	return step_done(s);
}

static pc_rc
sq_cred_find(struct store *base, const uint8_t hash[SEC_SHA256_LEN],
    enum store_cred kind, int64_t now, struct store_auth *a)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = st->q[Q_CRED_FIND];
	pc_rc rc = PC_ENOTFOUND;
	int step;

	sqlite3_reset(s);
	sqlite3_bind_blob(s, 1, hash, SEC_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, cred_names[kind], -1, SQLITE_STATIC);
	if ((step = sq_step(s)) == SQLITE_ROW) {
		read_user(s, 0, &a->user);
		a->kind = kind;
		a->expires = sqlite3_column_int64(s, 8);
		col_text(s, 10, a->device, sizeof(a->device));
		rc = a->user.revoked != 0 || sqlite3_column_int64(s, 9) != 0 ||
		    a->expires <= now ? PC_EAUTH : PC_OK;
	} else if (step != SQLITE_DONE)
		rc = PC_ESTORE;
	sqlite3_reset(s);
	return rc;
}

static pc_rc
sq_cred_revoke(struct store *base, const uint8_t hash[SEC_SHA256_LEN])
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "UPDATE creds SET revoked = 1 WHERE "
	    "hash = ?");

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_blob(s, 1, hash, SEC_SHA256_LEN, SQLITE_STATIC);
	return step_done(s);
}

static pc_rc
sq_record_hash(struct store *base, const char *id, char hash[SEC_HEX64_LEN])
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = st->q[Q_RECORD_HASH];
	pc_rc rc = PC_ENOTFOUND;

	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	switch (sq_step(s)) {
	case SQLITE_ROW:
		if (sqlite3_column_bytes(s, 0) == SEC_SHA256_LEN) {
			sec_hex(sqlite3_column_blob(s, 0), SEC_SHA256_LEN, hash);
			rc = PC_OK;
		} else
			rc = PC_ESTORE;
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = PC_ESTORE;
	}
	sqlite3_reset(s);
	return rc;
}

static pc_rc
sq_record_put(struct store *base, const struct rec *r, int64_t user,
    int64_t now, int64_t audit_chain, int64_t audit_seq)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = st->q[Q_RECORD_PUT];
	int rc;

	if (audit_chain != 0)
		return PC_EUSAGE;	/* one chain here */
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->referral, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, rec_kind_info(r->kind)->name, -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->worker, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, r->digest, sizeof(r->digest), SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->canon, (int)r->canon_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, user);
	sqlite3_bind_int64(s, 9, now);
	sqlite3_bind_int64(s, 10, audit_seq);
	rc = sq_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

/*
 * A record from a row of Q_TIMELINE: its stored text is its canonical
 * form and the row holds its hash, so neither is made again.
 */
static pc_rc
load_row(sqlite3_stmt *s, struct rec **r)
{
	const char *json = (const char *)sqlite3_column_text(s, 0);
	size_t len = (size_t)sqlite3_column_bytes(s, 0);

	*r = NULL;
	if (json == NULL || sqlite3_column_bytes(s, 1) != SEC_SHA256_LEN)
		return PC_ESTORE;
	return rec_load_canon(json, len, sqlite3_column_blob(s, 1), r);
}

static pc_rc
sq_record_timeline(struct store *base, const char *referral,
    struct timeline *tl)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = st->q[Q_TIMELINE];
	struct rec *r;
	int rc;
	pc_rc prc = PC_OK;

	tl_init(tl, referral);
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, referral, -1, SQLITE_STATIC);
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		if ((prc = load_row(s, &r)) != PC_OK)
			break;
		if ((prc = tl_load(tl, r)) != PC_OK)
			break;
	}
	sqlite3_reset(s);
	if (prc == PC_OK && rc != SQLITE_DONE)
		prc = PC_ESTORE;
	return prc;
}

static pc_rc
sq_record_count(struct store *base, int64_t *n)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT COUNT(*) FROM records");
	int rc;

	*n = 0;
	if (s == NULL)
		return PC_ESTORE;
	if ((rc = sq_step(s)) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? PC_OK : PC_ESTORE;
}

static pc_rc
sq_audit_last(struct store *base, int64_t *chain, int64_t *seq,
    uint8_t hash[SEC_SHA256_LEN])
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT seq, hash FROM audit ORDER BY seq "
	    "DESC LIMIT 1");
	int step;

	*chain = 0;
	*seq = 0;
	memset(hash, 0, SEC_SHA256_LEN);
	if (s == NULL)
		return PC_ESTORE;
	if ((step = sq_step(s)) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		if (sqlite3_column_bytes(s, 1) == SEC_SHA256_LEN)
			memcpy(hash, sqlite3_column_blob(s, 1), SEC_SHA256_LEN);
	}
	/* an empty log starts from zeros; an unread one must not */
	return each_end(s, step);
}

static pc_rc
sq_audit_insert(struct store *base, const struct store_audit *a)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s;

	if (a->chain != 0)
		return PC_EUSAGE;
	if ((s = prep(st, "INSERT INTO audit(seq, at, actor, action, object, "
	    "outcome, prev, hash, records) VALUES (?,?,?,?,?,?,?,?,?)")) ==
	    NULL)
		return PC_ESTORE;
	sqlite3_bind_int64(s, 1, a->seq);
	sqlite3_bind_int64(s, 2, a->at);
	sqlite3_bind_text(s, 3, a->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, a->object, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, a->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, a->prev, SEC_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 8, a->hash, SEC_SHA256_LEN, SQLITE_STATIC);
	if (a->records_len > 0)
		sqlite3_bind_blob(s, 9, a->records, (int)a->records_len,
		    SQLITE_STATIC);
	return step_done(s);
}

static pc_rc
sq_audit_each(struct store *base,
    int (*cb)(void *, const struct store_audit *), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT seq, at, actor, action, object, "
	    "outcome, prev, hash, records FROM audit ORDER BY seq");
	struct store_audit a;
	int rc;

	if (s == NULL)
		return PC_ESTORE;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		a.chain = 0;
		a.seq = sqlite3_column_int64(s, 0);
		a.at = sqlite3_column_int64(s, 1);
		a.actor = (const char *)sqlite3_column_text(s, 2);
		a.action = (const char *)sqlite3_column_text(s, 3);
		a.object = (const char *)sqlite3_column_text(s, 4);
		a.outcome = (const char *)sqlite3_column_text(s, 5);
		memset(a.prev, 0, sizeof(a.prev));
		memset(a.hash, 0, sizeof(a.hash));
		if (sqlite3_column_bytes(s, 6) == SEC_SHA256_LEN)
			memcpy(a.prev, sqlite3_column_blob(s, 6), SEC_SHA256_LEN);
		if (sqlite3_column_bytes(s, 7) == SEC_SHA256_LEN)
			memcpy(a.hash, sqlite3_column_blob(s, 7), SEC_SHA256_LEN);
		a.records = sqlite3_column_blob(s, 8);
		a.records_len = (size_t)sqlite3_column_bytes(s, 8);
		if (cb(arg, &a) != 0)
			break;
	}
	return each_end(s, rc);
}

static pc_rc
sq_audit_heads(struct store *base, int (*cb)(void *, int64_t, int64_t,
    const uint8_t *), void *arg)
{
	uint8_t h[SEC_SHA256_LEN];
	int64_t chain, seq;
	pc_rc rc;

	if ((rc = sq_audit_last(base, &chain, &seq, h)) == PC_OK)
		(void)cb(arg, chain, seq, h);
	return rc;
}

#define ROW_COLS	"SELECT seq, id, json, hash, audit_seq FROM records "

static pc_rc
rows_walk(sqlite3_stmt *s, int (*cb)(void *, const struct store_rec_row *),
    void *arg, int *seen)
{
	struct store_rec_row r;
	int rc;

	while ((rc = sq_step(s)) == SQLITE_ROW) {
		r.rowid = sqlite3_column_int64(s, 0);
		r.id = (const char *)sqlite3_column_text(s, 1);
		r.json = (const char *)sqlite3_column_text(s, 2);
		r.len = (size_t)sqlite3_column_bytes(s, 2);
		r.hash = sqlite3_column_bytes(s, 3) == SEC_SHA256_LEN ?
		    sqlite3_column_blob(s, 3) : NULL;
		r.audit_chain = 0;
		r.audit_seq = sqlite3_column_int64(s, 4);
		(*seen)++;
		if (r.id == NULL || r.json == NULL || cb(arg, &r) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

static pc_rc
sq_record_rows(struct store *base, enum store_rows which, int64_t chain,
    int64_t seq, int (*cb)(void *, const struct store_rec_row *), void *arg)
{
	struct sq *st = sq_of(base);
	static const char *const sql[] = {
		[ROWS_OF_ENTRY] = ROW_COLS "WHERE audit_seq = ? ORDER BY id",
		[ROWS_UNKEYED] = ROW_COLS "WHERE audit_seq IS NULL ORDER BY id",
		[ROWS_UNCLAIMED] = ROW_COLS "WHERE audit_seq IS NOT NULL AND "
		    "NOT EXISTS (SELECT 1 FROM audit a WHERE a.seq = "
		    "records.audit_seq AND a.records IS NOT NULL) ORDER BY "
		    "audit_seq, id",
	};
	sqlite3_stmt *s = prep(st, sql[which]);
	int seen = 0;

	if (s == NULL)
		return PC_ESTORE;
	if (which == ROWS_OF_ENTRY && chain != 0) {
		sqlite3_finalize(s);
		return PC_OK;	/* no such chain here: no records */
	}
	if (which == ROWS_OF_ENTRY)
		sqlite3_bind_int64(s, 1, seq);
	return rows_walk(s, cb, arg, &seen);
}

static pc_rc
sq_record_row(struct store *base, const char *id,
    int (*cb)(void *, const struct store_rec_row *), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, ROW_COLS "WHERE id = ?");
	int seen = 0;
	pc_rc rc;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if ((rc = rows_walk(s, cb, arg, &seen)) != PC_OK)
		return rc;
	return seen ? PC_OK : PC_ENOTFOUND;
}

/* A fact's columns: the parameters of Q_FACT_SET, _PUT and _MOVE. */
static void
fact_bind(sqlite3_stmt *s, const char *referral, const char *place,
    int32_t referred_on, int exportable, const void *blob, size_t len)
{
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, referral, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, place, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, referred_on);
	sqlite3_bind_int(s, 4, exportable);
	sqlite3_bind_blob(s, 5, blob, (int)len, SQLITE_STATIC);
}

/* s, bound, run to its end: the rows it changed, -1 on an error. */
static int
fact_run(struct sq *st, sqlite3_stmt *s)
{
	int rc = sq_step(s), n = sqlite3_changes(st->db);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? n : -1;
}

/* s, bound, run for the one key it gives (Q_FACT_KEY, Q_FACT_MOVE). */
static int
fact_key(sqlite3_stmt *s, int64_t *key)
{
	int rc;

	if ((rc = sq_step(s)) == SQLITE_ROW) {
		*key = sqlite3_column_int64(s, 0);
		rc = sq_step(s);
	}
	sqlite3_reset(s);
	return rc;
}

static pc_rc
sq_fact_put(struct store *base, const char *referral, const char *place,
    int32_t referred_on, int exportable, const void *blob, size_t len,
    int64_t *key)
{
	struct sq *st = sq_of(base);
	void *known = map_get(&st->fkeys, referral);
	sqlite3_stmt *s;
	int n, rc;

	*key = 0;
	/* read by this batch: rewritten by its key, unless it moves */
	if (known != NULL) {
		s = st->q[Q_FACT_SET];
		fact_bind(s, referral, place, referred_on, exportable, blob,
		    len);
		sqlite3_bind_int64(s, 6, (int64_t)(intptr_t)known);
		if ((n = fact_run(st, s)) < 0)
			return PC_ESTORE;
		if (n == 1) {
			*key = (int64_t)(intptr_t)known;
			return PC_OK;
		}
	}
	/* a rowid inserted shows as the last; an update leaves it as set */
	s = st->q[Q_FACT_PUT];
	fact_bind(s, referral, place, referred_on, exportable, blob, len);
	sqlite3_set_last_insert_rowid(st->db, 0);
	if ((n = fact_run(st, s)) < 0)
		return PC_ESTORE;
	if ((*key = sqlite3_last_insert_rowid(st->db)) > 0)
		return PC_OK;			/* a new fact */
	if (n == 1) {				/* one updated in place */
		s = st->q[Q_FACT_KEY];
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, referral, -1, SQLITE_STATIC);
	} else {	/* none: a fact there already, that moves place or date */
		s = st->q[Q_FACT_MOVE];
		fact_bind(s, referral, place, referred_on, exportable, blob,
		    len);
	}
	rc = fact_key(s, key);
	return rc == SQLITE_DONE && *key > 0 ? PC_OK : PC_ESTORE;
}

static pc_rc
sq_fact_each(struct store *base, int (*cb)(void *, int64_t, const void *,
    size_t), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT k, data FROM facts ORDER BY place, "
	    "referred_on");
	int rc;

	if (s == NULL)
		return PC_ESTORE;
	while ((rc = sq_step(s)) == SQLITE_ROW)
		if (cb(arg, sqlite3_column_int64(s, 0), sqlite3_column_blob(s,
		    1), (size_t)sqlite3_column_bytes(s, 1)) != 0)
			break;
	return each_end(s, rc);
}

static pc_rc
sq_fact_clear(struct store *base)
{
	struct sq *st = sq_of(base);
	return exec(st, "DELETE FROM facts; DELETE FROM takeup", NULL);
}

/* The rows v by statement s (Q_TAKEUP_PUT or Q_TAKEUP_ADD). */
static int
takeup_rows(sqlite3_stmt *s, const char *referral, int64_t key,
    const char *place, int32_t referred_on, const struct store_takeup *v,
    size_t n)
{
	size_t i;
	int rc = SQLITE_DONE;

	for (i = 0; rc == SQLITE_DONE && i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, referral, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, v[i].asset, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, place, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 4, referred_on);
		sqlite3_bind_int(s, 5, v[i].taken != 0);
		sqlite3_bind_int64(s, 6, key);
		rc = sq_step(s);
		sqlite3_reset(s);
	}
	return rc;
}

static pc_rc
sq_takeup_put(struct store *base, const char *referral, int64_t key,
    const char *place, int32_t referred_on, const struct store_takeup *v,
    size_t n)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = st->q[Q_TAKEUP_DEL];
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, referral, -1, SQLITE_STATIC);
	rc = sq_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		rc = takeup_rows(st->q[Q_TAKEUP_PUT], referral, key, place,
		    referred_on, v, n);
	return rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

static pc_rc
sq_takeup_add(struct store *base, const char *referral, int64_t key,
    const char *place, int32_t referred_on, const struct store_takeup *v,
    size_t n)
{
	return takeup_rows(sq_of(base)->q[Q_TAKEUP_ADD], referral, key, place,
	    referred_on, v, n) == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

/* One statement for the batch, not one a referral. */
static pc_rc
sq_facts_of(struct store *base, const char *const *referrals, size_t n,
    int (*cb)(void *, const char *, const void *, size_t), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = st->q[Q_FACTS_OF];
	struct buf ids;
	size_t i;
	int rc;

	buf_init(&ids, 0);
	buf_reserve(&ids, n * (UUID_LEN + 2) + 2);
	for (i = 0; i < n; i++) {
		/* no printf: a batch names hundreds of referrals */
		buf_adds(&ids, i ? ",\"" : "[\"");
		buf_adds(&ids, referrals[i]);
		buf_addc(&ids, '"');
	}
	buf_adds(&ids, "]");
	if (buf_failed(&ids) != PC_OK) {
		buf_free(&ids);
		return PC_ENOMEM;
	}
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, ids.p, (int)ids.len, SQLITE_STATIC);
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(s, 0);
		int64_t k = sqlite3_column_int64(s, 2);

		/* no memory for the hint: the fact is found by its referral */
		if (ref != NULL && k > 0 && k <= INTPTR_MAX)
			(void)map_put(&st->fkeys, ref, (void *)(intptr_t)k);
		if (cb(arg, ref, sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1)) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	buf_free(&ids);
	return rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

static pc_rc
sq_takeup_each(struct store *base, const char *place, int32_t from,
    int32_t to, int (*cb)(void *, const char *, int64_t,
    const struct store_takeup *), void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT referral, asset, taken, k FROM "
	    "takeup WHERE place = ?1 AND referred_on BETWEEN ?2 AND ?3");
	struct store_takeup t;
	int rc;

	if (s == NULL)
		return PC_ESTORE;
	sqlite3_bind_text(s, 1, place, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, from);
	sqlite3_bind_int(s, 3, to);
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(s, 0);

		t.asset = (const char *)sqlite3_column_text(s, 1);
		t.taken = sqlite3_column_int(s, 2);
		if (ref == NULL || t.asset == NULL) {
			rc = SQLITE_ERROR;
			break;
		}
		if (cb(arg, ref, sqlite3_column_int64(s, 3), &t) != 0)
			break;
	}
	return each_end(s, rc);
}

static pc_rc
sq_referral_each(struct store *base, int (*cb)(void *, const char *),
    void *arg)
{
	struct sq *st = sq_of(base);
	sqlite3_stmt *s = prep(st, "SELECT DISTINCT referral FROM records");
	char id[UUID_LEN];
	int rc;

	if (s == NULL)
		return PC_ESTORE;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		col_text(s, 0, id, sizeof(id));
		if (cb(arg, id) != 0)
			break;
	}
	return each_end(s, rc);
}

/*
 * An export's referrals, one place's found through facts_by_place (a
 * statement for either case: "?1 IS NULL OR place = ?1" would read every
 * place's facts), then each one's records by records_by_referral.
 */
static const char export_place[] = "SELECT referral FROM facts WHERE "
    "place = ?1 AND referred_on BETWEEN ?2 AND ?3 AND exportable = 1 "
    "ORDER BY referred_on, referral";
static const char export_all[] = "SELECT referral FROM facts WHERE "
    "referred_on BETWEEN ?2 AND ?3 AND exportable = 1 ORDER BY place, "
    "referred_on, referral";
static const char export_recs[] = "SELECT json FROM records WHERE "
    "referral = ? ORDER BY seq";

static pc_rc
sq_export_open(struct store *base, const char *place, int32_t from,
    int32_t to, struct store_cursor **out)
{
	struct sq *st = sq_of(base);
	struct sq_cursor *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PC_ENOMEM;
	c->base.ops = &sq_ops;
	store_texts_init(&c->t);
	if (sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, place != NULL ? export_place :
	    export_all, -1, &c->refs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, export_recs, -1, &c->recs, NULL) !=
	    SQLITE_OK) {
		store_export_close(&c->base);
		return PC_ESTORE;
	}
	sqlite3_busy_timeout(c->db, BUSY_MS);
	if ((place != NULL && sqlite3_bind_text(c->refs, 1, place, -1,
	    SQLITE_TRANSIENT) != SQLITE_OK) ||
	    sqlite3_bind_int(c->refs, 2, from) != SQLITE_OK ||
	    sqlite3_bind_int(c->refs, 3, to) != SQLITE_OK) {
		store_export_close(&c->base);
		return PC_ESTORE;
	}
	*out = &c->base;
	return PC_OK;
}

static pc_rc
sq_export_next(struct store_cursor *cur, struct store_export_ref *ref)
{
	struct sq_cursor *c = (struct sq_cursor *)cur;
	const char *id;
	int rc;
	pc_rc prc = PC_OK;

	memset(ref, 0, sizeof(*ref));
	store_texts_reset(&c->t);
	if (c->done)
		return PC_ENOTFOUND;
	if ((rc = sq_step(c->refs)) != SQLITE_ROW) {
		c->done = 1;
		return rc == SQLITE_DONE ? PC_ENOTFOUND : PC_ESTORE;
	}
	if ((id = (const char *)sqlite3_column_text(c->refs, 0)) == NULL)
		return PC_ESTORE;
	if ((prc = store_texts_begin(&c->t, id)) != PC_OK)
		return prc;
	/* recs was reset as the last referral's records ended */
	if (sqlite3_bind_text(c->recs, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		return PC_ESTORE;	/* no referral's records are none */
	while (prc == PC_OK && (rc = sq_step(c->recs)) == SQLITE_ROW) {
		const char *json = (const char *)sqlite3_column_text(c->recs,
		    0);

		prc = json == NULL ? PC_ESTORE : store_texts_add(&c->t, json,
		    (size_t)sqlite3_column_bytes(c->recs, 0));
	}
	if (sqlite3_reset(c->recs) != SQLITE_OK && prc == PC_OK)
		prc = PC_ESTORE;
	if (prc == PC_OK && rc != SQLITE_DONE)
		prc = PC_ESTORE;	/* part of a timeline is not one */
	if (prc == PC_OK)
		prc = store_texts_get(&c->t, 0, ref);
	return prc;
}

static void
sq_export_close(struct store_cursor *cur)
{
	struct sq_cursor *c = (struct sq_cursor *)cur;

	sqlite3_finalize(c->refs);
	sqlite3_finalize(c->recs);
	sqlite3_close(c->db);
	store_texts_free(&c->t);
	free(c);
}

/* -- what only a store shared by several servers needs ------------------ */

static pc_rc
sq_export_source(struct store *base, const char *database)
{
	(void)base;
	/* a copy of a SQLite file is not kept current: none but itself */
	return database == NULL || database[0] == '\0' ? PC_OK : PC_EUSAGE;
}

/* BEGIN IMMEDIATE has already made this the only writer. */
static pc_rc
sq_batch_lock(struct store *base, const char *const *referrals, size_t nref,
    const char *const *ids, size_t nids)
{
	(void)base;
	(void)referrals;
	(void)nref;
	(void)ids;
	(void)nids;
	return PC_OK;
}

static pc_rc
sq_watermark(struct store *base, char mark[STORE_MARK_LEN])
{
	(void)base;
	mark[0] = '\0';
	return PC_OK;
}

static pc_rc
sq_facts_since(struct store *base, const char *since,
    const char (*skip)[STORE_MARK_LEN], size_t nskip,
    int (*cb)(void *, int64_t, const void *, size_t), void *arg,
    char upto[STORE_SNAP_LEN])
{
	(void)skip;	/* one writer: its watermarks are all "" */
	(void)nskip;
	upto[0] = '\0';
	/* nobody else writes: after the first load there is nothing new */
	if (since != NULL && since[0] != '\0')
		return PC_OK;
	return sq_fact_each(base, cb, arg);
}

static int
sq_covers(const char *upto, const char *mark)
{
	(void)upto;
	(void)mark;
	return 1;
}

static int
sq_may_read(const char *since, const char *mark)
{
	(void)since;
	(void)mark;
	return 0;
}

static pc_rc
sq_places_version(struct store *base, int64_t *v)
{
	(void)base;
	*v = 0;		/* nobody else changes them */
	return PC_OK;
}

static pc_rc
sq_wait_change(struct store *base, int fd, int ms)
{
	(void)base;
	(void)fd;
	(void)ms;
	return PC_EUSAGE;	/* nobody else announces anything */
}

static pc_rc
sq_rate(struct store *base, const char *key, double per_sec, double burst,
    double now, int take, double *wait)
{
	(void)base;
	(void)key;
	(void)per_sec;
	(void)burst;
	(void)now;
	(void)take;
	*wait = 0;
	return PC_EUSAGE;	/* one server keeps its own buckets */
}

/* -- whole tables, for pcmdsd migrate ----------------------------------- */

/* The columns of store_tables[], as this schema holds them. */
static const char *const copy_sql[TABLE_N] = {
	[TABLE_META] = "SELECT key, value FROM meta ORDER BY key",
	[TABLE_PLACES] = "SELECT code, name, population, source FROM places "
	    "ORDER BY code",
	[TABLE_ASSETS] = "SELECT place, id, name, category, contact, notes, "
	    "active FROM assets ORDER BY place, id",
	[TABLE_POPULATION] = "SELECT place, tbl, category, population, source "
	    "FROM population ORDER BY place, tbl, category",
	[TABLE_PASSWORDS] = "SELECT user_id, hash, set_at FROM passwords ORDER "
	    "BY user_id",
	[TABLE_OIDC_LINKS] = "SELECT issuer, subject, user_id, linked_at FROM "
	    "oidc_links ORDER BY issuer, subject",
	[TABLE_USERS] = "SELECT id, name, role, place, pcn, worker, created, "
	    "revoked FROM users ORDER BY id",
	[TABLE_CREDS] = "SELECT hash, user_id, kind, device, created, expires,"
	    " used, revoked FROM creds ORDER BY hash",
	[TABLE_RECORDS] = "SELECT seq, id, referral, kind, place, worker, hash,"
	    " json, user_id, received, CASE WHEN audit_seq IS NULL THEN NULL "
	    "ELSE 0 END, audit_seq FROM records ORDER BY seq",
	[TABLE_AUDIT] = "SELECT 0, seq, at, actor, action, object, outcome, "
	    "prev, hash, records FROM audit ORDER BY seq",
	[TABLE_FACTS] = "SELECT referral, place, referred_on, exportable, data "
	    "FROM facts ORDER BY referral",
	[TABLE_TAKEUP] = "SELECT referral, asset, place, referred_on, taken "
	    "FROM takeup ORDER BY referral, asset",
};

static pc_rc
sq_copy_each(struct store *base, enum store_table t,
    int (*cb)(void *, const struct store_value *), void *arg)
{
	struct sq *st = sq_of(base);
	struct store_value v[STORE_COLS_MAX];
	sqlite3_stmt *s = prep(st, copy_sql[t]);
	int i, n = store_tables[t].ncols, rc;

	if (s == NULL)
		return PC_ESTORE;
	while ((rc = sq_step(s)) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			memset(&v[i], 0, sizeof(v[i]));
			switch (sqlite3_column_type(s, i)) {
			case SQLITE_NULL:
				v[i].type = SV_NULL;
				break;
			case SQLITE_INTEGER:
				v[i].type = SV_INT;
				v[i].i = sqlite3_column_int64(s, i);
				break;
			case SQLITE_BLOB:
				v[i].type = SV_BLOB;
				v[i].p = sqlite3_column_blob(s, i);
				v[i].len = (size_t)sqlite3_column_bytes(s, i);
				break;
			default:
				v[i].type = SV_TEXT;
				v[i].p = sqlite3_column_text(s, i);
				v[i].len = (size_t)sqlite3_column_bytes(s, i);
			}
		}
		if (cb(arg, v) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? PC_OK : PC_ESTORE;
}

/* One audit chain cannot hold PostgreSQL's several: no way back. */
static pc_rc
sq_copy_put(struct store *base, enum store_table t,
    const struct store_value *v)
{
	(void)base;
	(void)t;
	(void)v;
	return PC_EUSAGE;
}

static pc_rc
sq_copy_end(struct store *base, enum store_table t)
{
	(void)base;
	(void)t;
	return PC_EUSAGE;
}

static const struct store_ops sq_ops = {
	.kind = "sqlite",
	.shared = 0,
	.close = sq_close,
	.background_checkpoints = sq_background_checkpoints,
	.export_source = sq_export_source,
	.short_waits = sq_short_waits,
	.cache_size = sq_cache_size,
	.fault = sq_fault,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.meta_del = sq_meta_del,
	.place_put = sq_place_put,
	.place_get = sq_place_get,
	.place_each = sq_place_each,
	.population_clear = sq_population_clear,
	.population_put = sq_population_put,
	.population_each = sq_population_each,
	.password_set = sq_password_set,
	.password_get = sq_password_get,
	.password_clear = sq_password_clear,
	.oidc_link = sq_oidc_link,
	.oidc_find = sq_oidc_find,
	.oidc_subject = sq_oidc_subject,
	.oidc_unlink = sq_oidc_unlink,
	.asset_put = sq_asset_put,
	.asset_retire = sq_asset_retire,
	.asset_known = sq_asset_known,
	.asset_each = sq_asset_each,
	.user_add = sq_user_add,
	.user_get = sq_user_get,
	.user_each = sq_user_each,
	.user_revoke = sq_user_revoke,
	.cred_add = sq_cred_add,
	.cred_take_code = sq_cred_take_code,
	.cred_find = sq_cred_find,
	.cred_revoke = sq_cred_revoke,
	.batch_lock = sq_batch_lock,
	.record_hash = sq_record_hash,
	.record_put = sq_record_put,
	.record_timeline = sq_record_timeline,
	.record_count = sq_record_count,
	.fact_put = sq_fact_put,
	.fact_each = sq_fact_each,
	.fact_clear = sq_fact_clear,
	.takeup_put = sq_takeup_put,
	.takeup_add = sq_takeup_add,
	.facts_of = sq_facts_of,
	.takeup_each = sq_takeup_each,
	.referral_each = sq_referral_each,
	.watermark = sq_watermark,
	.facts_since = sq_facts_since,
	.covers = sq_covers,
	.may_read = sq_may_read,
	.places_version = sq_places_version,
	.wait_change = sq_wait_change,
	.rate = sq_rate,
	.export_open = sq_export_open,
	.export_next = sq_export_next,
	.export_close = sq_export_close,
	.audit_last = sq_audit_last,
	.audit_insert = sq_audit_insert,
	.audit_each = sq_audit_each,
	.audit_heads = sq_audit_heads,
	.record_rows = sq_record_rows,
	.record_row = sq_record_row,
	.copy_each = sq_copy_each,
	.copy_put = sq_copy_put,
	.copy_end = sq_copy_end,
};

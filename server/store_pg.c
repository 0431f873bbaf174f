/*
 * store_pg.c - the PostgreSQL implementation of store.h, for several
 * pcmdsd on one database.
 *
 * One connection per handle (libpq), its hot statements prepared once.
 * Commits are durable: synchronous_commit is on for these sessions
 * whatever the server's default. The schema is versioned (pcmds_schema),
 * migrated forward under an advisory lock so that servers starting
 * together do it once, and refused when newer than this pcmdsd.
 *
 * Concurrency. A batch locks the rows of its referrals in the referrals
 * table (made if new), in id order, before it reads anything: two
 * batches touching a referral run one after the other whichever servers
 * they reach, so the cross-record rules see every record committed
 * before. A record id is unique in the table, so the same id sent under
 * two referrals at once commits once; the other batch fails whole (its
 * client sends it again and is told "conflict").
 *
 * Batches are read ahead and written in few round trips: the locks, the
 * record ids and the referrals' facts are one pipeline (libpq's
 * pipeline mode: sent together, run in order, each result checked);
 * stored records are held and sent at commit with COPY, then facts as
 * one multi-row upsert, the announcement and COMMIT, one pipeline more.
 *
 * Facts carry the id of the transaction that wrote them (xid8). A
 * reader's snapshot (pg_current_snapshot) says which transactions it
 * sees; the next catch-up reads facts written by transactions from that
 * snapshot's xmin on that it did not see, so a transaction that began
 * early and committed late is never skipped. A commit that wrote facts announces itself
 * with NOTIFY pcmds_facts, naming the process that made it (whose own
 * catch-up need not wake for it: it applied the facts at commit), and
 * its watermark is its transaction id; a catch-up leaves out the facts
 * of the commits its caller names as applied. A count bumped by a
 * trigger at every change to places or population (table changes)
 * tells a catch-up whether to read them again.
 *
 * Audit chains: each connection claims a chain with a session advisory
 * lock (released when the connection ends, even by a crash), reusing
 * one whose writer is gone, and caches its head, which only it writes.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "buf.h"
#include "map.h"
#include "store_impl.h"

#define PG_SCHEMA_VERSION	5
#define LOCK_CLASS		0x70636d64	/* "pcmd": advisory lock keys */
#define LOCK_MIGRATE		0
#define FETCH_ROWS		1000
#define FACTS_PER_STMT		1000
#define RATE_PRUNE_EVERY	4096	/* takes between sweeps of old keys */

enum {
	Q_RECORD_HASH,
	Q_TIMELINE,
	Q_CRED_FIND,
	Q_AUDIT_INSERT,
	Q_LOCK_MAKE,
	Q_LOCK_TAKE,
	Q_HASHES,
	Q_TIMELINES,
	Q_FACTS_OF,
	Q_KEY,
	Q_RATE_TAKE,
	Q_NQUERIES
};

static const char *const queries[Q_NQUERIES] = {
	[Q_RECORD_HASH] = "SELECT encode(hash, 'hex') FROM records WHERE "
	    "id = $1",
	[Q_TIMELINE] = "SELECT json FROM records WHERE referral = $1 ORDER BY "
	    "seq",
	[Q_CRED_FIND] = "SELECT u.id, u.name, u.role, u.place, u.pcn, "
	    "coalesce(u.worker, ''), u.created, u.revoked, c.expires, "
	    "c.revoked, c.device FROM creds c JOIN users u ON u.id = c.user_id "
	    "WHERE c.hash = $1 AND c.kind = $2",
	[Q_AUDIT_INSERT] = "INSERT INTO audit(chain, seq, at, actor, action, "
	    "object, outcome, prev, hash, records) VALUES ($1, $2, $3, $4, $5,"
	    " $6, $7, $8, $9, $10)",
	/*
	 * a referral's lock row, made if new; waits for one being made.
	 * Those there already are left out before the insert, which would
	 * take a number of the key's sequence for each (and leave it
	 * unused on the conflict).
	 */
	[Q_LOCK_MAKE] = "INSERT INTO referrals(id) SELECT x FROM "
	    "unnest($1::text[]) x WHERE NOT EXISTS (SELECT 1 FROM referrals r "
	    "WHERE r.id = x) ORDER BY 1 ON CONFLICT DO NOTHING",
	[Q_LOCK_TAKE] = "SELECT id, k FROM referrals WHERE id = "
	    "ANY($1::text[]) ORDER BY id FOR UPDATE",
	[Q_HASHES] = "SELECT id, encode(hash, 'hex') FROM records WHERE "
	    "id = ANY($1::text[])",
	[Q_TIMELINES] = "SELECT referral, json FROM records WHERE referral = "
	    "ANY($1::text[]) ORDER BY referral, seq",
	[Q_FACTS_OF] = "SELECT referral, data FROM facts WHERE referral = "
	    "ANY($1::text[])",
	/* a referral's key outside a batch's locks: its row made if new */
	[Q_KEY] = "WITH made AS (INSERT INTO referrals(id) SELECT $1::text WHERE "
	    "NOT EXISTS (SELECT 1 FROM referrals WHERE id = $1::text) ON "
	    "CONFLICT DO NOTHING RETURNING k) SELECT k FROM made UNION ALL "
	    "SELECT k FROM referrals WHERE id = $1::text",
	/* the database's clock, the same for every server */
	[Q_RATE_TAKE] = "INSERT INTO rate AS r(key, tokens, at, took) VALUES "
	    "($1, $3::float8 - 1, extract(epoch FROM clock_timestamp()), true) "
	    "ON CONFLICT (key) DO UPDATE SET tokens = least($3::float8, "
	    "r.tokens + (extract(epoch FROM clock_timestamp()) - r.at) * "
	    "$2::float8) - CASE WHEN least($3::float8, r.tokens + (extract("
	    "epoch FROM clock_timestamp()) - r.at) * $2::float8) >= 1 THEN 1 "
	    "ELSE 0 END, took = least($3::float8, r.tokens + (extract(epoch "
	    "FROM clock_timestamp()) - r.at) * $2::float8) >= 1, at = extract("
	    "epoch FROM clock_timestamp()) RETURNING tokens, took",
};

static const char *const migrations[PG_SCHEMA_VERSION] = {
	/* keys in byte order ("C"), as SQLite and the C code compare them */
	"CREATE TABLE meta(key text COLLATE \"C\" PRIMARY KEY,"
	"  value text NOT NULL);"
	"CREATE TABLE places("
	"  code text COLLATE \"C\" PRIMARY KEY,"
	"  name text NOT NULL,"
	"  population bigint NOT NULL CHECK (population > 0),"
	"  source text NOT NULL DEFAULT '');"
	"CREATE TABLE assets("
	"  place text COLLATE \"C\" NOT NULL,"
	"  id text COLLATE \"C\" NOT NULL,"
	"  name text NOT NULL,"
	"  category text NOT NULL,"
	"  contact text NOT NULL DEFAULT '',"
	"  notes text NOT NULL DEFAULT '',"
	"  active integer NOT NULL DEFAULT 1,"
	"  PRIMARY KEY (place, id));"
	"CREATE TABLE users("
	"  id bigserial PRIMARY KEY,"
	"  name text NOT NULL,"
	"  role text NOT NULL CHECK (role IN"
	"    ('link_worker', 'place_lead', 'evaluator')),"
	"  place text NOT NULL DEFAULT '',"
	"  pcn text NOT NULL DEFAULT '',"
	"  worker text COLLATE \"C\" UNIQUE,"
	"  created bigint NOT NULL,"
	"  revoked bigint NOT NULL DEFAULT 0);"
	"CREATE TABLE creds("
	"  hash bytea PRIMARY KEY,"
	"  user_id bigint NOT NULL REFERENCES users(id),"
	"  kind text NOT NULL CHECK (kind IN ('code', 'device', 'session')),"
	"  device text NOT NULL DEFAULT '',"
	"  created bigint NOT NULL,"
	"  expires bigint NOT NULL,"
	"  used bigint NOT NULL DEFAULT 0,"
	"  revoked bigint NOT NULL DEFAULT 0);"
	"CREATE INDEX creds_by_user ON creds(user_id);"
	"CREATE TABLE passwords("
	"  user_id bigint PRIMARY KEY REFERENCES users(id),"
	"  hash text NOT NULL,"
	"  set_at bigint NOT NULL);"
	"CREATE TABLE population("
	"  place text COLLATE \"C\" NOT NULL,"
	"  tbl text COLLATE \"C\" NOT NULL,"
	"  category text COLLATE \"C\" NOT NULL,"
	"  population bigint NOT NULL CHECK (population >= 0),"
	"  source text NOT NULL,"
	"  PRIMARY KEY (place, tbl, category));"
	"CREATE TABLE records("
	"  seq bigserial PRIMARY KEY,"
	"  id text COLLATE \"C\" NOT NULL UNIQUE,"
	"  referral text COLLATE \"C\" NOT NULL,"
	"  kind text NOT NULL,"
	"  place text NOT NULL,"
	"  worker text NOT NULL,"
	"  hash bytea NOT NULL,"
	"  json text NOT NULL,"
	"  user_id bigint NOT NULL,"
	"  received bigint NOT NULL,"
	"  audit_chain bigint,"
	"  audit_seq bigint);"
	"CREATE INDEX records_by_referral ON records(referral, seq);"
	"CREATE INDEX records_by_audit ON records(audit_chain, audit_seq);"
	"CREATE FUNCTION pcmds_refuse() RETURNS trigger LANGUAGE plpgsql AS"
	"  $$BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END$$;"
	"CREATE TRIGGER records_kept BEFORE UPDATE OR DELETE ON records"
	"  FOR EACH ROW EXECUTE FUNCTION"
	"  pcmds_refuse('records are immutable and never deleted');"
	"CREATE TRIGGER records_kept_all BEFORE TRUNCATE ON records"
	"  EXECUTE FUNCTION pcmds_refuse('records are never deleted');"
	"CREATE TRIGGER assets_kept BEFORE DELETE ON assets FOR EACH ROW"
	"  EXECUTE FUNCTION pcmds_refuse('records may name an asset: it is "
	"retired, never deleted');"
	"CREATE TABLE audit("
	"  chain bigint NOT NULL,"
	"  seq bigint NOT NULL,"
	"  at bigint NOT NULL,"
	"  actor text NOT NULL,"
	"  action text NOT NULL,"
	"  object text NOT NULL,"
	"  outcome text NOT NULL,"
	"  prev bytea NOT NULL,"
	"  hash bytea NOT NULL,"
	"  records bytea,"
	"  PRIMARY KEY (chain, seq));"
	"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit"
	"  FOR EACH ROW EXECUTE FUNCTION"
	"  pcmds_refuse('the audit log is append-only');"
	"CREATE TRIGGER audit_append_only_all BEFORE TRUNCATE ON audit"
	"  EXECUTE FUNCTION pcmds_refuse('the audit log is append-only');"
	"CREATE TABLE audit_chains(chain bigint PRIMARY KEY);"
	"CREATE SEQUENCE audit_chain_seq START 1;"
	"CREATE TABLE referrals(id text COLLATE \"C\" PRIMARY KEY);"
	"CREATE TABLE facts("
	"  referral text COLLATE \"C\" PRIMARY KEY,"
	"  place text COLLATE \"C\" NOT NULL,"
	"  referred_on integer NOT NULL,"
	"  exportable integer NOT NULL,"
	"  data bytea NOT NULL,"
	"  xid xid8 NOT NULL DEFAULT pg_current_xact_id());"
	"CREATE INDEX facts_by_place ON facts(place, referred_on);"
	"CREATE INDEX facts_by_xid ON facts(xid);"
	"CREATE UNLOGGED TABLE rate("
	"  key text COLLATE \"C\" PRIMARY KEY,"
	"  tokens float8 NOT NULL,"
	"  at float8 NOT NULL,"
	"  took boolean NOT NULL);"
	/* a new database is sealed at its first open, like SQLite's */
	"INSERT INTO meta(key, value) VALUES ('audit_unsealed', '0');",

	/* 2: identities at an OpenID Connect provider, linked to users */
	"CREATE TABLE oidc_links("
	"  issuer text COLLATE \"C\" NOT NULL,"
	"  subject text COLLATE \"C\" NOT NULL,"
	"  user_id bigint NOT NULL REFERENCES users(id),"
	"  linked_at bigint NOT NULL,"
	"  PRIMARY KEY (issuer, subject),"
	"  UNIQUE (issuer, user_id));",

	/* 3: take-up of community assets per referral, beside the facts */
	"CREATE TABLE takeup("
	"  referral text COLLATE \"C\" NOT NULL,"
	"  asset text COLLATE \"C\" NOT NULL,"
	"  place text COLLATE \"C\" NOT NULL,"
	"  referred_on integer NOT NULL,"
	"  taken integer NOT NULL,"
	"  PRIMARY KEY (referral, asset));"
	"CREATE INDEX takeup_by_place ON takeup(place, referred_on) INCLUDE "
	"(referral, asset, taken);",

	/*
	 * 4: a count of the commits that changed places or denominators, so
	 * that a catch-up reads them only when they changed. Taken before
	 * the statement's rows, so such transactions queue on it whole and
	 * never deadlock on it.
	 */
	"CREATE TABLE changes(what text COLLATE \"C\" PRIMARY KEY,"
	"  n bigint NOT NULL);"
	"INSERT INTO changes VALUES ('places', 0);"
	"CREATE FUNCTION pcmds_places_changed() RETURNS trigger LANGUAGE "
	"  plpgsql AS $$BEGIN UPDATE changes SET n = n + 1 WHERE what = "
	"  'places'; RETURN NULL; END$$;"
	"CREATE TRIGGER places_changed BEFORE INSERT OR UPDATE OR DELETE OR"
	"  TRUNCATE ON places FOR EACH STATEMENT EXECUTE FUNCTION"
	"  pcmds_places_changed();"
	"CREATE TRIGGER population_changed BEFORE INSERT OR UPDATE OR DELETE"
	"  OR TRUNCATE ON population FOR EACH STATEMENT EXECUTE FUNCTION"
	"  pcmds_places_changed();",

	/*
	 * 5: each referral numbered (its key, store.h) in its lock row,
	 * which every fact's referral has (made here for any without);
	 * the numbers already there given in the order of the facts' load.
	 */
	"INSERT INTO referrals(id) SELECT referral FROM facts f WHERE NOT"
	"  EXISTS (SELECT 1 FROM referrals r WHERE r.id = f.referral);"
	"ALTER TABLE referrals ADD COLUMN k bigint;"
	"CREATE SEQUENCE referrals_k_seq OWNED BY referrals.k;"
	"UPDATE referrals r SET k = o.n FROM (SELECT id, row_number() OVER"
	"  (ORDER BY place, referred_on, id) AS n FROM (SELECT r.id, f.place,"
	"  f.referred_on FROM referrals r LEFT JOIN facts f ON f.referral ="
	"  r.id) x) o WHERE o.id = r.id;"
	"SELECT setval('referrals_k_seq', greatest(1, (SELECT max(k) FROM"
	"  referrals)), (SELECT count(*) > 0 FROM referrals));"
	"ALTER TABLE referrals ALTER COLUMN k SET DEFAULT"
	"  nextval('referrals_k_seq');"
	"ALTER TABLE referrals ALTER COLUMN k SET NOT NULL;"
	"CREATE UNIQUE INDEX referrals_by_k ON referrals(k);",
};

/* Values the parameters of one statement point into. */
#define PARAMS_MAX	16

struct params {
	const char	*v[PARAMS_MAX];
	int		 len[PARAMS_MAX];
	int		 fmt[PARAMS_MAX];
	char		 num[PARAMS_MAX][32];
	int		 n;
};

/* A stored record's row, held until commit. */
struct pending {
	struct buf	 copy;		/* COPY text, one line per record */
	size_t		 n;
	struct map	 ids;		/* id -> hex hash (owned) */
};

/* A fact's row, held until commit. */
struct pfact {
	char		 referral[UUID_LEN];
	char		 place[REC_PLACE_MAX + 1];
	int32_t		 referred_on;
	int		 exportable;
	uint8_t		*blob;
	size_t		 len;
};

struct pg {
	struct store	 base;
	PGconn		*c;
	char		*conninfo;
	char		*export_conninfo;	/* NULL: conninfo */
	int		 in_tx;
	int		 cursors;		/* open in this transaction */
	/* the audit chain this connection writes; 0 until claimed */
	int64_t		 chain, head_seq, tx_seq;
	uint8_t		 head_hash[SEC_SHA256_LEN], tx_hash[SEC_SHA256_LEN];
	/* what a batch read ahead: id -> hash or ABSENT; referral -> tl,
	   or -> struct pblob, its fact (facts_ahead: those read) */
	struct map	 hashes;
	struct map	 timelines;
	struct map	 ahead_facts;
	int		 facts_ahead;
	struct map	 keys;		/* referral -> its key, locked */
	struct pending	 pend;
	struct pfact	*facts;
	size_t		 nfacts, capfacts;
	int		 wrote_facts;
	char		 mark[STORE_MARK_LEN];	/* of the last commit */
	/* what the first failed statement of the transaction met */
	char		 fault_state[6];	/* SQLSTATE, "" none */
	char		 fault_msg[256];
	int		 listening;
	unsigned	 rate_takes;
	/* pcmdsd migrate: rows of one table held for COPY */
	int		 copy_table;	/* -1 none */
	struct buf	 copy;
	size_t		 ncopy;
};

struct pg_cursor {
	struct store_cursor base;
	PGconn		*c;
	PGresult	*res;
	int		 row, nrows;
	int		 done;
	struct store_texts t;	/* the referral last given */
	char		 id[UUID_LEN];
};

/* A fact read ahead. */
struct pblob {
	size_t		 len;
	uint8_t		 data[];
};

static const struct store_ops pg_ops;
static char absent[] = "";	/* in hashes: read ahead, not stored */

/* This process in its announcements: random, "" if none could be had. */
static pthread_once_t self_once = PTHREAD_ONCE_INIT;
static char self[17];

static void
self_init(void)
{
	uint8_t b[8];

	if (sec_random(b, sizeof(b)) == PC_OK)
		sec_hex(b, sizeof(b), self);
}

static const char *const cred_names[] = {"code", "device", "session"};

static struct pg *
pg_of(struct store *s)
{
	return (struct pg *)s;
}

/* -- statements ---------------------------------------------------------- */

static void
p_text(struct params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

static void
p_int(struct params *p, int64_t i)
{
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, i);
	p_text(p, p->num[p->n]);
}

static void
p_double(struct params *p, double d)
{
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%.17g", d);
	p_text(p, p->num[p->n]);
}

static void
p_blob(struct params *p, const void *b, size_t len)
{
	p->v[p->n] = b;
	p->len[p->n] = (int)len;
	p->fmt[p->n++] = 1;
}

static void
p_null(struct params *p)
{
	p_text(p, NULL);
}

/* 1 when a result is what a statement that worked gives. */
static int
res_ok(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

static const char *
sqlstate(const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

static pc_rc	 reconnect(struct pg *, struct err_list *);

/*
 * A connection the database server dropped (a restart, a failover) is
 * made again between transactions; inside one, the failure stands.
 */
static void
ready(struct pg *st)
{
	if (!st->in_tx && PQstatus(st->c) != CONNECTION_OK)
		(void)reconnect(st, NULL);
}

/* Keeps what a failed statement met, for store_fault(). */
static PGresult *
noted(struct pg *st, PGresult *r)
{
	const char *m;

	if (res_ok(r) || st->fault_state[0] != '\0')
		return r;
	snprintf(st->fault_state, sizeof(st->fault_state), "%s",
	    r != NULL && sqlstate(r)[0] ? sqlstate(r) : "08000");
	m = r != NULL ? PQresultErrorMessage(r) : "";
	snprintf(st->fault_msg, sizeof(st->fault_msg), "%.*s",
	    (int)strcspn(m[0] ? m : PQerrorMessage(st->c), "\n"),
	    m[0] ? m : PQerrorMessage(st->c));
	return r;
}

static PGresult *
run(struct pg *st, const char *sql, const struct params *p)
{
	ready(st);
	return noted(st, PQexecParams(st->c, sql, p ? p->n : 0, NULL,
	    p ? p->v : NULL, p ? p->len : NULL, p ? p->fmt : NULL, 0));
}

static PGresult *
run_prep(struct pg *st, int q, const struct params *p)
{
	char name[16];

	ready(st);
	snprintf(name, sizeof(name), "q%d", q);
	return noted(st, PQexecPrepared(st->c, name, p ? p->n : 0,
	    p ? p->v : NULL, p ? p->len : NULL, p ? p->fmt : NULL, 0));
}

/* A statement whose rows do not matter. */
static pc_rc
done(PGresult *r)
{
	pc_rc rc = res_ok(r) ? PC_OK : PC_ESTORE;

	PQclear(r);
	return rc;
}

/*
 * A lookup of one row: its first column into out (len bytes; out may be
 * NULL when only the row's being there counts), PC_ENOTFOUND when none.
 */
static pc_rc
one_text(PGresult *r, char *out, size_t len)
{
	pc_rc rc = !res_ok(r) ? PC_ESTORE : PQntuples(r) == 1 ? PC_OK :
	    PC_ENOTFOUND;

	if (rc == PC_OK && out != NULL)
		snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

/* A statement that must change a row: PC_ENOTFOUND when it changed none. */
static pc_rc
touched(PGresult *r)
{
	pc_rc rc = !res_ok(r) ? PC_ESTORE : strcmp(PQcmdTuples(r), "0") == 0 ?
	    PC_ENOTFOUND : PC_OK;

	PQclear(r);
	return rc;
}

static pc_rc
exec_sql(struct pg *st, const char *sql, struct err_list *errs)
{
	PGresult *r;

	ready(st);
	r = noted(st, PQexec(st->c, sql));
	if (!res_ok(r) && errs != NULL)
		err_add(errs, E_SYSTEM, "", "database: %s",
		    PQerrorMessage(st->c));
	return done(r);
}

/* A statement of a pipeline: prepared (q >= 0), or its text. */
struct stmt {
	int			 q;
	const char		*sql;
	int			 n;	/* parameters */
	const char *const	*v;
	const int		*len, *fmt;
};

static struct stmt
stmt_of(int q, const char *sql, const struct params *p)
{
	struct stmt s = {q, sql, p ? p->n : 0, p ? p->v : NULL,
	    p ? p->len : NULL, p ? p->fmt : NULL};

	return s;
}

/*
 * Statements sent at once in libpq's pipeline mode: one round trip, run
 * in order, a failed one failing those after it (and the transaction).
 * Every result is checked; on PC_OK out[i] holds the i-th statement's
 * (the caller's to PQclear).
 */
static pc_rc
pipeline(struct pg *st, int n, const struct stmt *s, PGresult **out)
{
	char name[16];
	PGresult *r;
	int i, sent, ok;
	pc_rc rc = PC_OK;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	ready(st);
	if (PQenterPipelineMode(st->c) != 1)
		return PC_ESTORE;
	for (sent = 0; sent < n; sent++) {
		snprintf(name, sizeof(name), "q%d", s[sent].q);
		ok = s[sent].q >= 0 ? PQsendQueryPrepared(st->c, name,
		    s[sent].n, s[sent].v, s[sent].len, s[sent].fmt, 0) :
		    PQsendQueryParams(st->c, s[sent].sql, s[sent].n, NULL,
		    s[sent].v, s[sent].len, s[sent].fmt, 0);
		if (ok != 1)
			break;
	}
	if (sent == n && PQpipelineSync(st->c) == 1) {
		/* each statement's results end with NULL (a failed one's
		   followers' are PGRES_PIPELINE_ABORTED); then the sync's */
		for (i = 0; i < n; i++)
			while ((r = PQgetResult(st->c)) != NULL) {
				if (!res_ok(noted(st, r)))
					rc = PC_ESTORE;
				if (res_ok(r) && out[i] == NULL)
					out[i] = r;
				else
					PQclear(r);
			}
		r = PQgetResult(st->c);
		if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			rc = PC_ESTORE;
		PQclear(r);
	} else
		rc = PC_ESTORE;
	if (PQexitPipelineMode(st->c) != 1) {
		/* results still owed: this session is of no further use */
		(void)noted(st, NULL);
		(void)reconnect(st, NULL);
		rc = PC_ESTORE;
	}
	for (i = 0; rc != PC_OK && i < n; i++) {
		PQclear(out[i]);
		out[i] = NULL;
	}
	return rc;
}

static void
col_text(const PGresult *r, int row, int col, char *out, size_t len)
{
	snprintf(out, len, "%s", PQgetvalue(r, row, col));
}

static int64_t
col_int(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A bytea column in text form ("\x0a1b..."), decoded; len bytes wanted. */
static int
col_bytes(const PGresult *r, int row, int col, uint8_t *out, size_t len)
{
	const char *v = PQgetvalue(r, row, col);

	if (strlen(v) != 2 + 2 * len || v[0] != '\\' || v[1] != 'x')
		return -1;
	return sec_unhex(v + 2, out, len);
}

/* A bytea column of any length, decoded into a new allocation. */
static uint8_t *
col_blob(const PGresult *r, int row, int col, size_t *len)
{
	const char *v = PQgetvalue(r, row, col);
	size_t n = strlen(v);
	uint8_t *b;

	*len = 0;
	if (n < 2 || v[0] != '\\' || v[1] != 'x' || (n - 2) % 2 != 0)
		return NULL;
	if ((b = malloc((n - 2) / 2 + 1)) == NULL)
		return NULL;
	if (sec_unhex(v + 2, b, (n - 2) / 2) != 0) {
		free(b);
		return NULL;
	}
	*len = (n - 2) / 2;
	return b;
}

/* A text[] literal of simple strings (ids are UUIDs; quoted anyway). */
static pc_rc
array_of(const char *const *v, size_t n, struct buf *b)
{
	size_t i;
	const char *s;
	pc_rc rc = buf_addc(b, '{');

	for (i = 0; rc == PC_OK && i < n; i++) {
		if (i > 0)
			rc = buf_addc(b, ',');
		if (rc == PC_OK)
			rc = buf_addc(b, '"');
		for (s = v[i]; rc == PC_OK && *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				rc = buf_addc(b, '\\');
			if (rc == PC_OK)
				rc = buf_addc(b, *s);
		}
		if (rc == PC_OK)
			rc = buf_addc(b, '"');
	}
	if (rc == PC_OK)
		rc = buf_addc(b, '}');
	return rc;
}

/*
 * Rows of a query, FETCH_ROWS at a time through a cursor, so that a big
 * table never sits in memory whole and the callback may run queries of
 * its own on this connection in between. Outside a transaction the walk
 * makes one (read only) for itself.
 */
static pc_rc
each(struct pg *st, const char *sql, const struct params *p,
    int (*row)(void *, const PGresult *, int), void *arg)
{
	struct buf decl;
	char name[32], fetch[64], close_[64];
	PGresult *r;
	int own = !st->in_tx, i, n, stop = 0;
	pc_rc rc = PC_OK;

	if (own && (rc = exec_sql(st, "BEGIN READ ONLY", NULL)) != PC_OK)
		return rc;
	st->in_tx = 1;	/* for the callback's own queries */
	snprintf(name, sizeof(name), "pcmds_c%d", st->cursors++);
	buf_init(&decl, 0);
	buf_addf(&decl, "DECLARE %s NO SCROLL CURSOR FOR %s", name, sql);
	if (decl.p == NULL || (rc = done(noted(st, PQexecParams(st->c,
	    buf_str(&decl), p ? p->n : 0, NULL, p ? p->v : NULL,
	    p ? p->len : NULL, p ? p->fmt : NULL, 0)))) != PC_OK)
		goto out;
	snprintf(fetch, sizeof(fetch), "FETCH %d FROM %s", FETCH_ROWS, name);
	while (!stop) {
		r = noted(st, PQexec(st->c, fetch));
		if (!res_ok(r)) {
			PQclear(r);
			rc = PC_ESTORE;
			goto out;
		}
		n = PQntuples(r);
		for (i = 0; i < n && !stop; i++)
			stop = row(arg, r, i);
		PQclear(r);
		if (n < FETCH_ROWS)
			break;
	}
	snprintf(close_, sizeof(close_), "CLOSE %s", name);
	rc = exec_sql(st, close_, NULL);
out:
	buf_free(&decl);
	st->cursors--;
	if (own) {
		st->in_tx = 0;
		if (rc == PC_OK)
			rc = exec_sql(st, "COMMIT", NULL);
		else
			(void)exec_sql(st, "ROLLBACK", NULL);
	}
	return rc;
}

/* -- opening ------------------------------------------------------------- */

static void	 pg_close(struct store *);

static PGconn *
connect_to(const char *conninfo, struct err_list *errs)
{
	/* the URI's own settings come last, so they win */
	const char *const keys[] = {"application_name", "connect_timeout",
	    "dbname", NULL};
	const char *const vals[] = {"pcmdsd", "10", conninfo, NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		if (errs != NULL)
			err_add(errs, E_SYSTEM, "", "cannot connect to the "
			    "PostgreSQL database: %s", c ? PQerrorMessage(c) :
			    "out of memory");
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Settings this code relies on, whatever the server's defaults. */
static pc_rc
session(struct pg *st, struct err_list *errs)
{
	PGresult *r = PQexec(st->c, "SHOW synchronous_commit");
	int off = res_ok(r) && PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "off") == 0;

	PQclear(r);
	/* acknowledged means durable: never off for these sessions */
	if (off && exec_sql(st, "SET synchronous_commit = on", errs) != PC_OK)
		return PC_ESTORE;
	return exec_sql(st, "SET default_transaction_isolation = "
	    "'read committed'; SET lock_timeout = '60s'; "
	    "SET idle_in_transaction_session_timeout = '300s'; "
	    "SET client_min_messages = warning", errs);
}

static pc_rc
schema_version(struct pg *st, int *v, struct err_list *errs)
{
	PGresult *r = PQexec(st->c, "SELECT to_regclass('pcmds_schema') IS "
	    "NOT NULL");
	int have = res_ok(r) && strcmp(PQgetvalue(r, 0, 0), "t") == 0;

	PQclear(r);
	*v = 0;
	if (!have)
		return PC_OK;
	r = PQexec(st->c, "SELECT max(version) FROM pcmds_schema");
	if (!res_ok(r)) {
		err_add(errs, E_SYSTEM, "", "database: %s",
		    PQerrorMessage(st->c));
		PQclear(r);
		return PC_ESTORE;
	}
	*v = (int)col_int(r, 0, 0);
	PQclear(r);
	return PC_OK;
}

static pc_rc
migrate_locked(struct pg *st, struct err_list *errs)
{
	char sql[128];
	int v, i;

	if (schema_version(st, &v, errs) != PC_OK)
		return PC_ESTORE;
	if (v > PG_SCHEMA_VERSION) {
		err_add(errs, E_SYSTEM, "", "the database has schema %d; this "
		    "pcmdsd knows up to %d: upgrade pcmdsd", v,
		    PG_SCHEMA_VERSION);
		return PC_ESTORE;
	}
	for (i = v; i < PG_SCHEMA_VERSION; i++) {
		if (exec_sql(st, "BEGIN", errs) != PC_OK)
			return PC_ESTORE;
		snprintf(sql, sizeof(sql), "%sINSERT INTO pcmds_schema VALUES "
		    "(%d)", i == 0 ? "CREATE TABLE pcmds_schema(version "
		    "integer PRIMARY KEY); " : "", i + 1);
		if (exec_sql(st, migrations[i], errs) != PC_OK ||
		    exec_sql(st, sql, errs) != PC_OK) {
			(void)exec_sql(st, "ROLLBACK", NULL);
			return PC_ESTORE;
		}
		if (exec_sql(st, "COMMIT", errs) != PC_OK)
			return PC_ESTORE;
	}
	return PC_OK;
}

/* Forward, once: servers starting together wait for the first. */
static pc_rc
migrate(struct pg *st, struct err_list *errs)
{
	char sql[96];
	pc_rc rc;

	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d, %d)",
	    LOCK_CLASS, LOCK_MIGRATE);
	if (exec_sql(st, sql, errs) != PC_OK)
		return PC_ESTORE;
	rc = migrate_locked(st, errs);
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d, %d)",
	    LOCK_CLASS, LOCK_MIGRATE);
	if (exec_sql(st, sql, rc == PC_OK ? errs : NULL) != PC_OK)
		rc = PC_ESTORE;
	return rc;
}

static pc_rc
prepare_all(struct pg *st, struct err_list *errs)
{
	char name[16];
	PGresult *r;
	int i;

	for (i = 0; i < Q_NQUERIES; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		r = PQprepare(st->c, name, queries[i], 0, NULL);
		if (!res_ok(r)) {
			err_add(errs, E_SYSTEM, "", "database: %s",
			    PQerrorMessage(st->c));
			PQclear(r);
			return PC_ESTORE;
		}
		PQclear(r);
	}
	return PC_OK;
}

pc_rc
store_pg_open(const char *conninfo, struct store **out, struct err_list *errs)
{
	struct pg *st;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return PC_ENOMEM;
	st->base.ops = &pg_ops;
	map_init(&st->hashes);
	map_init(&st->timelines);
	map_init(&st->ahead_facts);
	map_init(&st->keys);
	map_init(&st->pend.ids);
	buf_init(&st->pend.copy, 0);
	buf_init(&st->copy, 0);
	st->copy_table = -1;
	if ((st->conninfo = strdup(conninfo)) == NULL) {
		pg_close(&st->base);
		return PC_ENOMEM;
	}
	if ((st->c = connect_to(conninfo, errs)) == NULL ||
	    session(st, errs) != PC_OK || migrate(st, errs) != PC_OK ||
	    prepare_all(st, errs) != PC_OK) {
		pg_close(&st->base);
		return PC_ESTORE;
	}
	*out = &st->base;
	return PC_OK;
}

/* The session as it was: settings, statements; chain and LISTEN anew. */
static pc_rc
reconnect(struct pg *st, struct err_list *errs)
{
	PQreset(st->c);
	st->chain = 0;
	st->listening = 0;
	if (PQstatus(st->c) != CONNECTION_OK)
		return PC_ESTORE;
	if (session(st, errs) != PC_OK || prepare_all(st, errs) != PC_OK)
		return PC_ESTORE;
	return PC_OK;
}

static void
free_str(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	if (val != absent)
		free(val);
}

static void
free_tl(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	tl_free(val);
	free(val);
}

/* What a transaction held or read ahead, dropped at its end. */
static void
tx_forget(struct pg *st)
{
	size_t i;

	map_each(&st->hashes, free_str, NULL);
	map_free(&st->hashes);
	map_init(&st->hashes);
	map_each(&st->timelines, free_tl, NULL);
	map_free(&st->timelines);
	map_init(&st->timelines);
	map_each(&st->ahead_facts, free_str, NULL);
	map_free(&st->ahead_facts);
	map_init(&st->ahead_facts);
	st->facts_ahead = 0;
	map_free(&st->keys);	/* numbers, nothing to free */
	map_init(&st->keys);
	map_each(&st->pend.ids, free_str, NULL);
	map_free(&st->pend.ids);
	map_init(&st->pend.ids);
	buf_reset(&st->pend.copy);
	st->pend.n = 0;
	for (i = 0; i < st->nfacts; i++)
		free(st->facts[i].blob);
	st->nfacts = 0;
	st->wrote_facts = 0;
	st->tx_seq = 0;
	st->cursors = 0;
	buf_reset(&st->copy);
	st->ncopy = 0;
	st->copy_table = -1;
}

static void
pg_close(struct store *base)
{
	struct pg *st = pg_of(base);

	if (st == NULL)
		return;
	tx_forget(st);
	map_free(&st->hashes);
	map_free(&st->timelines);
	map_free(&st->ahead_facts);
	map_free(&st->keys);
	map_free(&st->pend.ids);
	buf_free(&st->pend.copy);
	buf_free(&st->copy);
	free(st->facts);
	PQfinish(st->c);	/* also lets go of the audit chain */
	free(st->conninfo);
	free(st->export_conninfo);
	free(st);
}

static pc_rc
pg_background_checkpoints(struct store *base, struct err_list *errs)
{
	(void)base;
	(void)errs;
	return PC_OK;	/* the database server's own business */
}

static pc_rc
pg_export_source(struct store *base, const char *database)
{
	struct pg *st = pg_of(base);

	free(st->export_conninfo);
	st->export_conninfo = NULL;
	if (database == NULL || database[0] == '\0')
		return PC_OK;
	if (!store_is_pg(database))
		return PC_EUSAGE;
	return (st->export_conninfo = strdup(database)) ? PC_OK : PC_ENOMEM;
}

/* -- transactions ------------------------------------------------------- */

static pc_rc
pg_begin(struct store *base)
{
	struct pg *st = pg_of(base);

	if (st->in_tx)
		return PC_EUSAGE;
	tx_forget(st);
	st->fault_state[0] = '\0';
	if (exec_sql(st, "BEGIN", NULL) != PC_OK)
		return PC_ESTORE;
	st->in_tx = 1;
	return PC_OK;
}

/* COPY text: backslash, tab, newline and carriage return escaped. */
static pc_rc
copy_text(struct buf *b, const char *s, size_t len)
{
	pc_rc rc = PC_OK;
	size_t i;

	for (i = 0; rc == PC_OK && i < len; i++)
		switch (s[i]) {
		case '\\':
			rc = buf_adds(b, "\\\\");
			break;
		case '\t':
			rc = buf_adds(b, "\\t");
			break;
		case '\n':
			rc = buf_adds(b, "\\n");
			break;
		case '\r':
			rc = buf_adds(b, "\\r");
			break;
		default:
			rc = buf_addc(b, s[i]);
		}
	return rc;
}

/* Lines of COPY text (b) into the table and columns of copy_sql. */
static pc_rc
copy_in(struct pg *st, const char *copy_sql, struct buf *b)
{
	PGresult *r;
	pc_rc rc = PC_OK;

	if (b->p == NULL)
		return PC_ENOMEM;
	r = PQexec(st->c, copy_sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		PQclear(r);
		return PC_ESTORE;
	}
	PQclear(r);
	if (PQputCopyData(st->c, b->p, (int)b->len) != 1)
		rc = PC_ESTORE;
	if (PQputCopyEnd(st->c, rc == PC_OK ? NULL : "not sent") != 1)
		rc = PC_ESTORE;
	while ((r = PQgetResult(st->c)) != NULL) {
		if (!res_ok(noted(st, r)))
			rc = PC_ESTORE;
		PQclear(r);
	}
	buf_reset(b);
	return rc;
}

/* The held records, sent with COPY. */
static pc_rc
flush_records(struct pg *st)
{
	if (st->pend.n == 0)
		return PC_OK;
	st->pend.n = 0;
	return copy_in(st, "COPY records(id, referral, kind, place, worker, "
	    "hash, json, user_id, received, audit_chain, audit_seq) FROM "
	    "STDIN", &st->pend.copy);
}

/* One multi-row upsert of held facts: its text and parameters. */
struct upsert {
	struct buf	 sql;
	const char	**v;
	int		*len, *fmt;
	char		(*num)[2][16];
};

static void
upsert_free(struct upsert *u)
{
	buf_free(&u->sql);
	free(u->v);
	free(u->len);
	free(u->fmt);
	free(u->num);
	memset(u, 0, sizeof(*u));
}

/* Facts at..at+k of those held, as one statement s (u owns its parts). */
static pc_rc
upsert_make(struct pg *st, size_t at, size_t k, struct upsert *u,
    struct stmt *s)
{
	size_t i;

	memset(u, 0, sizeof(*u));
	buf_init(&u->sql, 0);
	u->v = calloc(k * 5, sizeof(*u->v));
	u->len = calloc(k * 5, sizeof(*u->len));
	u->fmt = calloc(k * 5, sizeof(*u->fmt));
	u->num = calloc(k, sizeof(*u->num));
	if (u->v == NULL || u->len == NULL || u->fmt == NULL || u->num == NULL)
		return PC_ENOMEM;
	buf_adds(&u->sql, "INSERT INTO facts(referral, place, referred_on, "
	    "exportable, data) VALUES ");
	for (i = 0; i < k; i++) {
		const struct pfact *f = &st->facts[at + i];
		size_t j = i * 5;

		buf_addf(&u->sql, "%s($%zu, $%zu, $%zu, $%zu, $%zu)",
		    i ? ", " : "", j + 1, j + 2, j + 3, j + 4, j + 5);
		snprintf(u->num[i][0], sizeof(u->num[i][0]), "%d",
		    (int)f->referred_on);
		snprintf(u->num[i][1], sizeof(u->num[i][1]), "%d",
		    f->exportable);
		u->v[j] = f->referral;
		u->v[j + 1] = f->place;
		u->v[j + 2] = u->num[i][0];
		u->v[j + 3] = u->num[i][1];
		u->v[j + 4] = (const char *)f->blob;
		u->len[j + 4] = (int)f->len;
		u->fmt[j + 4] = 1;
	}
	buf_adds(&u->sql, " ON CONFLICT (referral) DO UPDATE SET place = "
	    "excluded.place, referred_on = excluded.referred_on, "
	    "exportable = excluded.exportable, data = excluded.data, "
	    "xid = pg_current_xact_id()");
	if (u->sql.p == NULL)
		return PC_ENOMEM;
	s->q = -1;
	s->sql = buf_str(&u->sql);
	s->n = (int)(k * 5);
	s->v = u->v;
	s->len = u->len;
	s->fmt = u->fmt;
	return PC_OK;
}

/* The held facts, as multi-row upserts. */
static pc_rc
flush_facts(struct pg *st)
{
	struct upsert u;
	struct stmt s;
	size_t at, k;
	pc_rc rc = PC_OK;

	for (at = 0; rc == PC_OK && at < st->nfacts; at += k) {
		k = st->nfacts - at < FACTS_PER_STMT ? st->nfacts - at :
		    FACTS_PER_STMT;
		if ((rc = upsert_make(st, at, k, &u, &s)) == PC_OK)
			rc = done(noted(st, PQexecParams(st->c, s.sql, s.n,
			    NULL, s.v, s.len, s.fmt, 0)));
		upsert_free(&u);
	}
	return rc;
}

static pc_rc
flush(struct pg *st)
{
	pc_rc rc = flush_records(st);

	if (rc == PC_OK)
		rc = flush_facts(st);
	for (size_t i = 0; i < st->nfacts; i++)
		free(st->facts[i].blob);
	st->nfacts = 0;
	return rc;
}

/*
 * The held facts (at most FACTS_PER_STMT: pg_fact_put sends more as
 * they come), the announcement of a commit that wrote facts (which
 * learns its watermark, its transaction id) and COMMIT, in one round
 * trip.
 */
static pc_rc
commit_facts(struct pg *st, char mark[STORE_MARK_LEN])
{
	struct params pa = {0};
	struct upsert u;
	struct stmt s[3];
	PGresult *r[3];
	int n = 0, at = -1, i;
	pc_rc rc = PC_OK;

	memset(&u, 0, sizeof(u));
	if (st->nfacts > FACTS_PER_STMT)
		rc = flush_facts(st);	/* not so: one statement's worth */
	else if (st->nfacts > 0)
		rc = upsert_make(st, 0, st->nfacts, &u, &s[n++]);
	if (st->wrote_facts) {
		pthread_once(&self_once, self_init);
		p_text(&pa, self);
		at = n;
		s[n++] = stmt_of(-1, "SELECT pg_current_xact_id()::text, "
		    "pg_notify('pcmds_facts', $1)", &pa);
	}
	s[n++] = stmt_of(-1, "COMMIT", NULL);
	if (rc == PC_OK && (rc = pipeline(st, n, s, r)) == PC_OK) {
		if (at >= 0 && PQntuples(r[at]) == 1 &&
		    (size_t)PQgetlength(r[at], 0, 0) < STORE_MARK_LEN)
			col_text(r[at], 0, 0, mark, STORE_MARK_LEN);
		else if (at >= 0)	/* committed, its mark unknown: no */
			mark[0] = '\0';	/* watermark, and read back */
		for (i = 0; i < n; i++)
			PQclear(r[i]);
	}
	upsert_free(&u);
	for (i = 0; i < (int)st->nfacts; i++)
		free(st->facts[i].blob);
	st->nfacts = 0;
	return rc;
}

static pc_rc
pg_commit(struct store *base)
{
	struct pg *st = pg_of(base);
	char mark[STORE_MARK_LEN] = "";
	pc_rc rc;

	if (!st->in_tx)
		return PC_EUSAGE;
	rc = flush_records(st);
	if (rc == PC_OK)
		rc = commit_facts(st, mark);
	if (rc != PC_OK) {
		(void)exec_sql(st, "ROLLBACK", NULL);
		st->in_tx = 0;
		tx_forget(st);
		return rc;
	}
	st->in_tx = 0;
	if (st->tx_seq != 0) {
		st->head_seq = st->tx_seq;
		memcpy(st->head_hash, st->tx_hash, SEC_SHA256_LEN);
	}
	memcpy(st->mark, mark, sizeof(st->mark));
	tx_forget(st);
	return PC_OK;
}

static void
pg_rollback(struct store *base)
{
	struct pg *st = pg_of(base);

	if (!st->in_tx)
		return;
	(void)exec_sql(st, "ROLLBACK", NULL);
	st->in_tx = 0;
	tx_forget(st);
}

/* -- meta, places -------------------------------------------------------- */

static pc_rc
pg_meta_get(struct store *base, const char *key, char *out, size_t len)
{
	struct pg *st = pg_of(base);
	struct params p = {0};
	PGresult *r;
	pc_rc rc = PC_ENOTFOUND;

	out[0] = '\0';
	p_text(&p, key);
	r = run(st, "SELECT value FROM meta WHERE key = $1", &p);
	if (!res_ok(r))
		rc = PC_ESTORE;
	else if (PQntuples(r) == 1) {
		col_text(r, 0, 0, out, len);
		rc = PC_OK;
	}
	PQclear(r);
	return rc;
}

static pc_rc
pg_meta_set(struct store *base, const char *key, const char *val)
{
	struct params p = {0};

	p_text(&p, key);
	p_text(&p, val);
	return done(run(pg_of(base), "INSERT INTO meta(key, value) VALUES "
	    "($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	    &p));
}

static pc_rc
pg_meta_del(struct store *base, const char *key)
{
	struct params p = {0};

	p_text(&p, key);
	return touched(run(pg_of(base), "DELETE FROM meta WHERE key = $1",
	    &p));
}

static pc_rc
pg_place_put(struct store *base, const struct store_place *pl)
{
	struct params p = {0};

	p_text(&p, pl->code);
	p_text(&p, pl->name);
	p_int(&p, pl->population);
	p_text(&p, pl->source);
	return done(run(pg_of(base), "INSERT INTO places(code, name, "
	    "population, source) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO "
	    "UPDATE SET name = excluded.name, population = excluded.population,"
	    " source = excluded.source", &p));
}

static void
read_place(const PGresult *r, int i, struct store_place *pl)
{
	col_text(r, i, 0, pl->code, sizeof(pl->code));
	col_text(r, i, 1, pl->name, sizeof(pl->name));
	pl->population = (long)col_int(r, i, 2);
	col_text(r, i, 3, pl->source, sizeof(pl->source));
}

static pc_rc
pg_place_get(struct store *base, const char *code, struct store_place *pl)
{
	struct params p = {0};
	PGresult *r;
	pc_rc rc = PC_ENOTFOUND;

	p_text(&p, code);
	r = run(pg_of(base), "SELECT code, name, population, source FROM "
	    "places WHERE code = $1", &p);
	if (!res_ok(r))
		rc = PC_ESTORE;
	else if (PQntuples(r) == 1) {
		read_place(r, 0, pl);
		rc = PC_OK;
	}
	PQclear(r);
	return rc;
}

struct place_walk {
	int	(*cb)(void *, const struct store_place *);
	void	*arg;
};

static int
place_row(void *arg, const PGresult *r, int i)
{
	struct place_walk *w = arg;
	struct store_place pl;

	read_place(r, i, &pl);
	return w->cb(w->arg, &pl);
}

static pc_rc
pg_place_each(struct store *base,
    int (*cb)(void *, const struct store_place *), void *arg)
{
	struct place_walk w = {cb, arg};

	return each(pg_of(base), "SELECT code, name, population, source FROM "
	    "places ORDER BY code", NULL, place_row, &w);
}

/* -- users and credentials ---------------------------------------------- */

#define USER_COLS "id, name, role, place, pcn, coalesce(worker, ''), " \
	"created, revoked"

static void
read_user(const PGresult *r, int i, int at, struct store_user *u)
{
	char role[24];

	u->id = col_int(r, i, at);
	col_text(r, i, at + 1, u->name, sizeof(u->name));
	col_text(r, i, at + 2, role, sizeof(role));
	u->role = store_role_parse(role);
	col_text(r, i, at + 3, u->place, sizeof(u->place));
	col_text(r, i, at + 4, u->pcn, sizeof(u->pcn));
	col_text(r, i, at + 5, u->worker, sizeof(u->worker));
	u->created = col_int(r, i, at + 6);
	u->revoked = col_int(r, i, at + 7);
}

static pc_rc
pg_user_add(struct store *base, struct store_user *u)
{
	struct pg *st = pg_of(base);
	char worker[REC_WORKER_MAX + 1];
	struct params p = {0};
	PGresult *r;
	size_t i;

	p_text(&p, u->name);
	p_text(&p, store_role_name(u->role));
	p_text(&p, u->place);
	p_text(&p, u->pcn);
	if (u->worker[0] != '\0')
		p_text(&p, u->worker);
	else
		p_null(&p);
	p_int(&p, u->created);
	r = run(st, "INSERT INTO users(name, role, place, pcn, worker, created) "
	    "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", &p);
	if (!res_ok(r) || PQntuples(r) != 1) {
		pc_rc rc = strcmp(sqlstate(r), "23505") == 0 ? PC_ECONFLICT :
		    PC_ESTORE;

		PQclear(r);
		return rc;
	}
	u->id = col_int(r, 0, 0);
	PQclear(r);
	if (u->role != ROLE_LINK_WORKER || u->worker[0] != '\0')
		return PC_OK;
	/* "bd-lw12": place and user id, unique and free of any name */
	snprintf(worker, sizeof(worker), "%s-lw%lld", u->place,
	    (long long)u->id);
	for (i = 0; worker[i] != '\0'; i++)
		if (worker[i] >= 'A' && worker[i] <= 'Z')
			worker[i] = (char)(worker[i] - 'A' + 'a');
	memset(&p, 0, sizeof(p));
	p_text(&p, worker);
	p_int(&p, u->id);
	if (done(run(st, "UPDATE users SET worker = $1 WHERE id = $2", &p)) !=
	    PC_OK)
		return PC_ESTORE;
	snprintf(u->worker, sizeof(u->worker), "%s", worker);
	return PC_OK;
}

static pc_rc
pg_user_get(struct store *base, int64_t id, struct store_user *u)
{
	struct params p = {0};
	PGresult *r;
	pc_rc rc = PC_ENOTFOUND;

	p_int(&p, id);
	r = run(pg_of(base), "SELECT " USER_COLS " FROM users WHERE id = $1",
	    &p);
	if (!res_ok(r))
		rc = PC_ESTORE;
	else if (PQntuples(r) == 1) {
		read_user(r, 0, 0, u);
		rc = PC_OK;
	}
	PQclear(r);
	return rc;
}

struct user_walk {
	int	(*cb)(void *, const struct store_user *);
	void	*arg;
};

static int
user_row(void *arg, const PGresult *r, int i)
{
	struct user_walk *w = arg;
	struct store_user u;

	read_user(r, i, 0, &u);
	return w->cb(w->arg, &u);
}

static pc_rc
pg_user_each(struct store *base,
    int (*cb)(void *, const struct store_user *), void *arg)
{
	struct user_walk w = {cb, arg};

	return each(pg_of(base), "SELECT " USER_COLS " FROM users ORDER BY id",
	    NULL, user_row, &w);
}

static pc_rc
pg_user_revoke(struct store *base, int64_t id, int64_t now)
{
	struct pg *st = pg_of(base);
	struct params p = {0};
	PGresult *r;
	int changed;

	p_int(&p, now);
	p_int(&p, id);
	r = run(st, "UPDATE users SET revoked = $1 WHERE id = $2 AND revoked = "
	    "0", &p);
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	changed = strcmp(PQcmdTuples(r), "0") != 0;
	PQclear(r);
	if (done(run(st, "UPDATE creds SET revoked = $1 WHERE user_id = $2 AND "
	    "revoked = 0", &p)) != PC_OK)
		return PC_ESTORE;
	return changed ? PC_OK : PC_ENOTFOUND;
}

static pc_rc
pg_cred_add(struct store *base, const uint8_t *hash, int64_t user,
    enum store_cred kind, const char *device, int64_t expires, int64_t now)
{
	struct params p = {0};

	p_blob(&p, hash, SEC_SHA256_LEN);
	p_int(&p, user);
	p_text(&p, cred_names[kind]);
	p_text(&p, device ? device : "");
	p_int(&p, now);
	p_int(&p, expires);
	return done(run(pg_of(base), "INSERT INTO creds(hash, user_id, kind, "
	    "device, created, expires) VALUES ($1, $2, $3, $4, $5, $6)", &p));
}

/*
 * One statement marks the code used if it may be, so that two servers
 * given the same code at once hand out one token, not two.
 */
static pc_rc
pg_cred_take_code(struct store *base, const uint8_t *hash, int64_t now,
    int64_t *user)
{
	struct pg *st = pg_of(base);
	struct params p = {0};
	PGresult *r;
	pc_rc rc;

	p_blob(&p, hash, SEC_SHA256_LEN);
	p_int(&p, now);
	r = run(st, "UPDATE creds c SET used = $2 FROM users u WHERE c.hash = "
	    "$1 AND c.kind = 'code' AND u.id = c.user_id AND c.used = 0 AND "
	    "c.revoked = 0 AND u.revoked = 0 AND c.expires > $2 RETURNING "
	    "c.user_id", &p);
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	if (PQntuples(r) == 1) {
		*user = col_int(r, 0, 0);
		PQclear(r);
		return PC_OK;
	}
	PQclear(r);
	memset(&p, 0, sizeof(p));
	p_blob(&p, hash, SEC_SHA256_LEN);
	r = run(st, "SELECT user_id FROM creds WHERE hash = $1 AND kind = "
	    "'code'", &p);
	rc = !res_ok(r) ? PC_ESTORE : PQntuples(r) == 1 ? PC_EAUTH :
	    PC_ENOTFOUND;
	if (rc == PC_EAUTH)
		*user = col_int(r, 0, 0);
	PQclear(r);
	return rc;
}

static pc_rc
pg_cred_find(struct store *base, const uint8_t *hash, enum store_cred kind,
    int64_t now, struct store_auth *a)
{
	struct params p = {0};
	PGresult *r;
	pc_rc rc = PC_ENOTFOUND;

	p_blob(&p, hash, SEC_SHA256_LEN);
	p_text(&p, cred_names[kind]);
	r = run_prep(pg_of(base), Q_CRED_FIND, &p);
	if (!res_ok(r))
		rc = PC_ESTORE;
	else if (PQntuples(r) == 1) {
		read_user(r, 0, 0, &a->user);
		a->kind = kind;
		a->expires = col_int(r, 0, 8);
		col_text(r, 0, 10, a->device, sizeof(a->device));
		rc = a->user.revoked != 0 || col_int(r, 0, 9) != 0 ||
		    a->expires <= now ? PC_EAUTH : PC_OK;
	}
	PQclear(r);
	return rc;
}

static pc_rc
pg_cred_revoke(struct store *base, const uint8_t *hash)
{
	struct params p = {0};

	p_blob(&p, hash, SEC_SHA256_LEN);
	return done(run(pg_of(base), "UPDATE creds SET revoked = 1 WHERE hash "
	    "= $1", &p));
}

/* -- records ------------------------------------------------------------- */

/* The hashes of the ids read ahead: ABSENT for those not stored. */
static pc_rc
take_hashes(struct pg *st, const PGresult *r, const char *const *ids,
    size_t nids)
{
	size_t k;
	int i, n;
	char *h;
	pc_rc rc = PC_OK;

	for (k = 0; rc == PC_OK && k < nids; k++)
		rc = map_put(&st->hashes, ids[k], absent);
	for (i = 0, n = PQntuples(r); rc == PC_OK && i < n; i++) {
		if ((h = strdup(PQgetvalue(r, i, 1))) == NULL ||
		    (rc = map_put(&st->hashes, PQgetvalue(r, i, 0), h)) !=
		    PC_OK) {
			free(h);
			rc = PC_ENOMEM;
		}
	}
	return rc;
}

/* The referrals' stored records read ahead, a timeline each. */
static pc_rc
take_timelines(struct pg *st, const PGresult *r)
{
	struct timeline *tl = NULL;
	struct rec *rec;
	int i, n;
	pc_rc rc = PC_OK;

	for (i = 0, n = PQntuples(r); rc == PC_OK && i < n; i++) {
		const char *ref = PQgetvalue(r, i, 0);

		if (tl == NULL || strcmp(tl->id, ref) != 0) {
			if ((tl = malloc(sizeof(*tl))) == NULL)
				return PC_ENOMEM;
			tl_init(tl, ref);
			if ((rc = map_put(&st->timelines, ref, tl)) != PC_OK) {
				free(tl);
				return rc;
			}
		}
		if ((rc = rec_load(PQgetvalue(r, i, 1), (size_t)PQgetlength(r,
		    i, 1), &rec)) == PC_OK)
			rc = tl_load(tl, rec);
	}
	return rc;
}

/* The referrals' facts read ahead (rows of referral, data). */
static pc_rc
take_facts(struct pg *st, const PGresult *r)
{
	struct pblob *b;
	uint8_t *v;
	size_t len;
	int i, n;
	pc_rc rc = PC_OK;

	for (i = 0, n = PQntuples(r); rc == PC_OK && i < n; i++) {
		if ((v = col_blob(r, i, 1, &len)) == NULL ||
		    (b = malloc(sizeof(*b) + len)) == NULL) {
			free(v);
			return PC_ENOMEM;
		}
		b->len = len;
		memcpy(b->data, v, len);
		free(v);
		if ((rc = map_put(&st->ahead_facts, PQgetvalue(r, i, 0), b)) !=
		    PC_OK)
			free(b);
	}
	st->facts_ahead = rc == PC_OK;
	return rc;
}

/* The referrals' keys, from their lock rows (rows of id, k). */
static pc_rc
take_keys(struct pg *st, const PGresult *r)
{
	int i, n;
	int64_t k;
	pc_rc rc = PC_OK;

	for (i = 0, n = PQntuples(r); rc == PC_OK && i < n; i++)
		if ((k = col_int(r, i, 1)) > 0)
			rc = map_put(&st->keys, PQgetvalue(r, i, 0),
			    (void *)(intptr_t)k);
	return rc;
}

/*
 * The referrals' lock rows made and taken, in id order, then (held now:
 * what is read is what was committed) the ids' hashes and what the
 * caller reads next read ahead: a batch's (ids given) the referrals'
 * facts, its follow-ups checked against them (store_facts_of); facts
 * worked out again (no ids) the referrals' records. Four statements,
 * one round trip.
 */
static pc_rc
pg_batch_lock(struct store *base, const char *const *referrals, size_t nref,
    const char *const *ids, size_t nids)
{
	struct pg *st = pg_of(base);
	struct params pr = {0}, pi = {0};
	struct stmt s[4];
	PGresult *r[4];
	struct buf a, b;
	pc_rc rc;

	if (!st->in_tx)
		return PC_EUSAGE;
	if (nref == 0)
		return PC_OK;
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (array_of(referrals, nref, &a) != PC_OK ||
	    array_of(ids, nids, &b) != PC_OK) {
		buf_free(&a);
		buf_free(&b);
		return PC_ENOMEM;
	}
	p_text(&pr, buf_str(&a));
	p_text(&pi, buf_str(&b));
	s[0] = stmt_of(Q_LOCK_MAKE, NULL, &pr);
	s[1] = stmt_of(Q_LOCK_TAKE, NULL, &pr);
	s[2] = stmt_of(Q_HASHES, NULL, &pi);
	s[3] = stmt_of(nids > 0 ? Q_FACTS_OF : Q_TIMELINES, NULL, &pr);
	if ((rc = pipeline(st, 4, s, r)) == PC_OK) {
		rc = take_keys(st, r[1]);
		if (rc == PC_OK)
			rc = take_hashes(st, r[2], ids, nids);
		if (rc == PC_OK)
			rc = nids > 0 ? take_facts(st, r[3]) :
			    take_timelines(st, r[3]);
		for (int i = 0; i < 4; i++)
			PQclear(r[i]);
	}
	buf_free(&a);
	buf_free(&b);
	return rc;
}

static pc_rc
pg_record_hash(struct store *base, const char *id, char hash[SEC_HEX64_LEN])
{
	struct pg *st = pg_of(base);
	struct params p = {0};
	const char *h;
	PGresult *r;
	pc_rc rc = PC_ENOTFOUND;

	if ((h = map_get(&st->pend.ids, id)) != NULL ||
	    (h = map_get(&st->hashes, id)) != NULL) {
		if (h == absent)
			return PC_ENOTFOUND;
		snprintf(hash, SEC_HEX64_LEN, "%s", h);
		return PC_OK;
	}
	p_text(&p, id);
	r = run_prep(st, Q_RECORD_HASH, &p);
	if (!res_ok(r))
		rc = PC_ESTORE;
	else if (PQntuples(r) == 1) {
		if (PQgetlength(r, 0, 0) == SEC_HEX64_LEN - 1) {
			col_text(r, 0, 0, hash, SEC_HEX64_LEN);
			rc = PC_OK;
		} else
			rc = PC_ESTORE;
	}
	PQclear(r);
	return rc;
}

/* Held until commit, which sends every held record in one COPY. */
static pc_rc
pg_record_put(struct store *base, const struct rec *r, int64_t user,
    int64_t now, int64_t audit_chain, int64_t audit_seq)
{
	struct pg *st = pg_of(base);
	struct buf *b = &st->pend.copy;
	char *h;
	pc_rc rc;

	if (!st->in_tx)
		return PC_EUSAGE;
	if ((h = strdup(r->hash)) == NULL)
		return PC_ENOMEM;
	if ((rc = map_put(&st->pend.ids, r->id, h)) != PC_OK) {
		free(h);
		return rc;
	}
	buf_addf(b, "%s\t%s\t%s\t", r->id, r->referral,
	    rec_kind_info(r->kind)->name);
	copy_text(b, r->place, strlen(r->place));
	buf_addc(b, '\t');
	copy_text(b, r->worker, strlen(r->worker));
	buf_addf(b, "\t\\\\x%s\t", r->hash);
	copy_text(b, r->canon, r->canon_len);
	buf_addf(b, "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n",
	    user, now, audit_chain, audit_seq);
	if (b->p == NULL)
		return PC_ENOMEM;
	st->pend.n++;
	return PC_OK;
}

static pc_rc
pg_record_timeline(struct store *base, const char *referral,
    struct timeline *tl)
{
	struct pg *st = pg_of(base);
	struct timeline *ahead = map_get(&st->timelines, referral);
	struct params p = {0};
	struct rec *rec;
	PGresult *r;
	int i, n;
	pc_rc rc;

	if (ahead != NULL && ahead->n > 0) {
		/* read ahead by the batch: handed over, once */
		*tl = *ahead;
		tl_init(ahead, referral);
		return PC_OK;
	}
	tl_init(tl, referral);
	if ((rc = flush(st)) != PC_OK)
		return rc;
	p_text(&p, referral);
	r = run_prep(st, Q_TIMELINE, &p);
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	for (i = 0, n = PQntuples(r); rc == PC_OK && i < n; i++)
		if ((rc = rec_load(PQgetvalue(r, i, 0), (size_t)PQgetlength(r,
		    i, 0), &rec)) == PC_OK)
			rc = tl_load(tl, rec);
	PQclear(r);
	return rc;
}

static pc_rc
pg_record_count(struct store *base, int64_t *n)
{
	struct pg *st = pg_of(base);
	PGresult *r;
	pc_rc rc;

	*n = 0;
	if ((rc = flush(st)) != PC_OK)
		return rc;
	r = PQexec(st->c, "SELECT count(*) FROM records");
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	*n = col_int(r, 0, 0);
	PQclear(r);
	return PC_OK;
}

/* -- facts ---------------------------------------------------------------- */

/* A referral's key: as its lock was taken, or read (its row made if new). */
static pc_rc
key_of(struct pg *st, const char *referral, int64_t *key)
{
	struct params p = {0};
	PGresult *r;
	void *v;

	if ((v = map_get(&st->keys, referral)) != NULL) {
		*key = (int64_t)(intptr_t)v;
		return PC_OK;
	}
	p_text(&p, referral);
	r = run_prep(st, Q_KEY, &p);
	*key = res_ok(r) && PQntuples(r) == 1 ? col_int(r, 0, 0) : 0;
	PQclear(r);
	if (*key <= 0)
		return PC_ESTORE;
	return map_put(&st->keys, referral, (void *)(intptr_t)*key);
}

static pc_rc
pg_fact_put(struct store *base, const char *referral, const char *place,
    int32_t referred_on, int exportable, const void *blob, size_t len,
    int64_t *key)
{
	struct pg *st = pg_of(base);
	struct pfact *f;
	pc_rc rc;

	*key = 0;
	if (!st->in_tx)
		return PC_EUSAGE;
	if ((rc = key_of(st, referral, key)) != PC_OK)
		return rc;
	if (st->nfacts == st->capfacts) {
		size_t cap = st->capfacts ? st->capfacts * 2 : 64;
		struct pfact *nf = realloc(st->facts, cap * sizeof(*nf));

		if (nf == NULL)
			return PC_ENOMEM;
		st->facts = nf;
		st->capfacts = cap;
	}
	f = &st->facts[st->nfacts];
	memset(f, 0, sizeof(*f));
	snprintf(f->referral, sizeof(f->referral), "%s", referral);
	snprintf(f->place, sizeof(f->place), "%s", place);
	f->referred_on = referred_on;
	f->exportable = exportable;
	if ((f->blob = malloc(len ? len : 1)) == NULL)
		return PC_ENOMEM;
	memcpy(f->blob, blob, len);
	f->len = len;
	st->nfacts++;
	st->wrote_facts = 1;
	/* one statement may not upsert a referral twice */
	return st->nfacts >= FACTS_PER_STMT ? flush(st) : PC_OK;
}

/* Rows of a fact's key and blob, to cb. */
struct blob_walk {
	int	(*cb)(void *, int64_t, const void *, size_t);
	void	*arg;
	pc_rc	 rc;
};

static int
blob_row(void *arg, const PGresult *r, int i)
{
	struct blob_walk *w = arg;
	uint8_t *b;
	size_t len;
	int stop;

	if ((b = col_blob(r, i, 1, &len)) == NULL) {
		w->rc = PC_ENOMEM;
		return 1;
	}
	stop = w->cb(w->arg, col_int(r, i, 0), b, len);
	free(b);
	return stop;
}

static pc_rc
pg_fact_each(struct store *base, int (*cb)(void *, int64_t, const void *,
    size_t), void *arg)
{
	struct blob_walk w = {cb, arg, PC_OK};
	pc_rc rc = each(pg_of(base), "SELECT r.k, f.data FROM facts f JOIN "
	    "referrals r ON r.id = f.referral ORDER BY f.place, f.referred_on",
	    NULL, blob_row, &w);

	return rc != PC_OK ? rc : w.rc;
}

static pc_rc
pg_fact_clear(struct store *base)
{
	struct pg *st = pg_of(base);
	pc_rc rc = flush(st);

	return rc == PC_OK ? exec_sql(st, "DELETE FROM facts; DELETE FROM "
	    "takeup", NULL) : rc;
}

/* An array literal of asset ids ([A-Za-z0-9._-], or "" for free text). */
static void
asset_array(struct buf *b, const struct store_takeup *v, size_t n, int taken)
{
	size_t i;
	const char *c;

	buf_addc(b, '{');
	for (i = 0; i < n; i++) {
		buf_adds(b, i ? ",\"" : "\"");
		if (taken)
			buf_adds(b, v[i].taken ? "1" : "0");
		else
			for (c = v[i].asset; *c != '\0'; c++) {
				if (*c == '"' || *c == '\\')
					buf_addc(b, '\\');
				buf_addc(b, *c);
			}
		buf_addc(b, '"');
	}
	buf_addc(b, '}');
}

/* A referral's rows v by sql ($1 referral, $2 place, $3 referred_on,
   $4 assets, $5 taken). */
static pc_rc
takeup_rows(struct pg *st, const char *sql, const char *referral,
    const char *place, int32_t referred_on, const struct store_takeup *v,
    size_t n)
{
	struct params p = {0};
	struct buf ids, taken;
	pc_rc rc = PC_ENOMEM;

	if (!st->in_tx)
		return PC_EUSAGE;
	buf_init(&ids, 0);
	buf_init(&taken, 0);
	asset_array(&ids, v, n, 0);
	asset_array(&taken, v, n, 1);
	if (buf_failed(&ids) == PC_OK && buf_failed(&taken) == PC_OK) {
		p_text(&p, referral);
		p_text(&p, place);
		p_int(&p, referred_on);
		p_text(&p, buf_str(&ids));
		p_text(&p, buf_str(&taken));
		rc = done(run(st, sql, &p));
	}
	buf_free(&ids);
	buf_free(&taken);
	return rc;
}

/*
 * One statement a referral: rows for assets no longer named go, the rest
 * are inserted or brought up to date (disjoint rows, so the two parts of
 * the statement never meet).
 */
static pc_rc
pg_takeup_put(struct store *base, const char *referral, int64_t key,
    const char *place, int32_t referred_on, const struct store_takeup *v,
    size_t n)
{
	(void)key;	/* the referral's row has it */
	return takeup_rows(pg_of(base), "WITH gone AS (DELETE FROM takeup "
	    "WHERE referral = $1 AND asset <> ALL ($4::text[])) INSERT INTO "
	    "takeup(referral, asset, place, referred_on, taken) SELECT $1, "
	    "a, $2, $3, t FROM unnest($4::text[], $5::int[]) AS u(a, t) "
	    "ON CONFLICT (referral, asset) DO UPDATE SET place = "
	    "excluded.place, referred_on = excluded.referred_on, taken = "
	    "excluded.taken", referral, place, referred_on, v, n);
}

/* One statement a referral too; the rows already there stay. */
static pc_rc
pg_takeup_add(struct store *base, const char *referral, int64_t key,
    const char *place, int32_t referred_on, const struct store_takeup *v,
    size_t n)
{
	(void)key;
	return takeup_rows(pg_of(base), "INSERT INTO takeup(referral, asset, "
	    "place, referred_on, taken) SELECT $1, a, $2, $3, t FROM "
	    "unnest($4::text[], $5::int[]) AS u(a, t) ON CONFLICT "
	    "(referral, asset) DO UPDATE SET taken = greatest(takeup.taken, "
	    "excluded.taken)", referral, place, referred_on, v, n);
}

struct facts_walk {
	int	(*cb)(void *, const char *, const void *, size_t);
	void	*arg;
	pc_rc	 rc;
};

static int
fact_row(void *arg, const PGresult *r, int i)
{
	struct facts_walk *w = arg;
	uint8_t *b;
	size_t len;
	int stop;

	if ((b = col_blob(r, i, 1, &len)) == NULL) {
		w->rc = PC_ENOMEM;
		return 1;
	}
	stop = w->cb(w->arg, PQgetvalue(r, i, 0), b, len);
	free(b);
	return stop;
}

/* What store_batch_lock read ahead, else one query. */
static pc_rc
pg_facts_of(struct store *base, const char *const *referrals, size_t n,
    int (*cb)(void *, const char *, const void *, size_t), void *arg)
{
	struct pg *st = pg_of(base);
	struct facts_walk w = {cb, arg, PC_OK};
	struct params p = {0};
	const struct pblob *b;
	struct buf a;
	PGresult *r;
	size_t i;
	int k, nr;
	pc_rc rc;

	if (st->facts_ahead) {
		for (i = 0; i < n; i++)
			if ((b = map_get(&st->ahead_facts, referrals[i])) !=
			    NULL && cb(arg, referrals[i], b->data, b->len) != 0)
				break;
		return PC_OK;
	}
	if ((rc = flush(st)) != PC_OK)
		return rc;
	buf_init(&a, 0);
	if (array_of(referrals, n, &a) != PC_OK) {
		buf_free(&a);
		return PC_ENOMEM;
	}
	p_text(&p, buf_str(&a));
	r = run_prep(st, Q_FACTS_OF, &p);
	buf_free(&a);
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	for (k = 0, nr = PQntuples(r); k < nr; k++)
		if (fact_row(&w, r, k) != 0)
			break;
	PQclear(r);
	return w.rc;
}

struct takeup_walk {
	int	(*cb)(void *, const char *, int64_t,
		    const struct store_takeup *);
	void	*arg;
};

static int
takeup_row(void *arg, const PGresult *r, int i)
{
	struct takeup_walk *w = arg;
	struct store_takeup t = {PQgetvalue(r, i, 1), (int)col_int(r, i, 2)};

	return w->cb(w->arg, PQgetvalue(r, i, 0), col_int(r, i, 3), &t);
}

static pc_rc
pg_takeup_each(struct store *base, const char *place, int32_t from,
    int32_t to, int (*cb)(void *, const char *, int64_t,
    const struct store_takeup *), void *arg)
{
	struct takeup_walk w = {cb, arg};
	struct params p = {0};

	p_text(&p, place);
	p_int(&p, from);
	p_int(&p, to);
	/* the key from the referral's row, by its primary key */
	return each(pg_of(base), "SELECT t.referral, t.asset, t.taken, r.k "
	    "FROM takeup t JOIN referrals r ON r.id = t.referral WHERE "
	    "t.place = $1 AND t.referred_on BETWEEN $2 AND $3", &p,
	    takeup_row, &w);
}

struct ref_walk {
	int	(*cb)(void *, const char *);
	void	*arg;
};

static int
ref_row(void *arg, const PGresult *r, int i)
{
	struct ref_walk *w = arg;

	return w->cb(w->arg, PQgetvalue(r, i, 0));
}

static pc_rc
pg_referral_each(struct store *base, int (*cb)(void *, const char *),
    void *arg)
{
	struct ref_walk w = {cb, arg};
	struct pg *st = pg_of(base);
	pc_rc rc = flush(st);

	return rc == PC_OK ? each(st, "SELECT DISTINCT referral FROM records",
	    NULL, ref_row, &w) : rc;
}

/* -- catching up ---------------------------------------------------------- */

static pc_rc
pg_watermark(struct store *base, char mark[STORE_MARK_LEN])
{
	memcpy(mark, pg_of(base)->mark, STORE_MARK_LEN);
	return PC_OK;
}

/* The xmin of a snapshot "xmin:xmax:xip,...", or 0. */
static uint64_t
snap_xmin(const char *snap)
{
	return snap != NULL ? strtoull(snap, NULL, 10) : 0;
}

/* An xid8[] literal of watermarks (decimal numbers, checked). */
static pc_rc
marks_array(const char (*v)[STORE_MARK_LEN], size_t n, struct buf *b)
{
	size_t i;

	buf_addc(b, '{');
	for (i = 0; i < n; i++) {
		if (v[i][0] == '\0' || v[i][strspn(v[i], "0123456789")] != '\0')
			return PC_EINVAL;
		buf_addf(b, "%s%s", i ? "," : "", v[i]);
	}
	buf_addc(b, '}');
	return b->p != NULL ? PC_OK : PC_ENOMEM;
}

static pc_rc
pg_facts_since(struct store *base, const char *since,
    const char (*skip)[STORE_MARK_LEN], size_t nskip,
    int (*cb)(void *, int64_t, const void *, size_t), void *arg,
    char upto[STORE_SNAP_LEN])
{
	struct pg *st = pg_of(base);
	struct blob_walk w = {cb, arg, PC_OK};
	struct params p = {0};
	struct buf skips;
	PGresult *r;
	uint64_t from = snap_xmin(since);
	pc_rc rc;

	upto[0] = '\0';
	if (st->in_tx)
		return PC_EUSAGE;
	buf_init(&skips, 0);
	if ((rc = marks_array(skip, nskip, &skips)) != PC_OK) {
		buf_free(&skips);
		return rc;
	}
	/* one snapshot for the snapshot's text and the rows read in it */
	if (exec_sql(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    NULL) != PC_OK)
		return PC_ESTORE;
	st->in_tx = 1;
	r = PQexec(st->c, "SELECT pg_current_snapshot()::text");
	if (!res_ok(r) || PQntuples(r) != 1 ||
	    (size_t)PQgetlength(r, 0, 0) >= STORE_SNAP_LEN) {
		PQclear(r);
		pg_rollback(base);
		buf_free(&skips);
		return PC_ESTORE;
	}
	col_text(r, 0, 0, upto, STORE_SNAP_LEN);
	PQclear(r);
	p_int(&p, (int64_t)from);
	p_text(&p, buf_str(&skips));
	p_text(&p, since != NULL ? since : "");
	/* what since saw was read by the catch-up that read it */
	rc = each(st, from == 0 ? "SELECT r.k, f.data FROM facts f JOIN "
	    "referrals r ON r.id = f.referral WHERE f.xid >= $1::text::xid8 "
	    "AND f.xid <> ALL($2::xid8[]) AND $3 = ''" :
	    "SELECT r.k, f.data FROM facts f JOIN referrals r ON r.id = "
	    "f.referral WHERE f.xid >= $1::text::xid8 AND f.xid <> "
	    "ALL($2::xid8[]) AND NOT pg_visible_in_snapshot(f.xid, "
	    "$3::pg_snapshot)", &p, blob_row, &w);
	if (rc == PC_OK)
		rc = w.rc;
	if (rc == PC_OK)
		rc = exec_sql(st, "COMMIT", NULL);
	st->in_tx = 0;
	if (rc != PC_OK) {
		(void)exec_sql(st, "ROLLBACK", NULL);
		upto[0] = '\0';
	}
	buf_free(&skips);
	return rc;
}

/* Whether a catch-up from since reads xid8 mark's rows: from its xmin on. */
static int
pg_may_read(const char *since, const char *mark)
{
	return mark != NULL && mark[0] != '\0' && strtoull(mark, NULL, 10) >=
	    snap_xmin(since);
}

static pc_rc
pg_places_version(struct store *base, int64_t *v)
{
	char n[32];
	pc_rc rc = one_text(run(pg_of(base), "SELECT n FROM changes WHERE "
	    "what = 'places'", NULL), n, sizeof(n));

	*v = rc == PC_OK ? strtoll(n, NULL, 10) : 0;
	return rc;
}

/*
 * Whether snapshot upto sees the transaction mark: it had ended before
 * xmin, or is below xmax and not among those in progress.
 */
static int
pg_covers(const char *upto, const char *mark)
{
	uint64_t x, xmin, xmax;
	const char *s;
	char *end;

	if (mark == NULL || mark[0] == '\0')
		return 1;
	if (upto == NULL || upto[0] == '\0')
		return 0;
	x = strtoull(mark, NULL, 10);
	xmin = strtoull(upto, &end, 10);
	if (*end != ':')
		return 0;
	xmax = strtoull(end + 1, &end, 10);
	if (*end != ':')
		return 0;
	if (x < xmin)
		return 1;
	if (x >= xmax)
		return 0;
	for (s = end + 1; *s != '\0'; s = *end == ',' ? end + 1 : end) {
		if (strtoull(s, &end, 10) == x)
			return 0;
		if (end == s)
			break;
	}
	return 1;
}

static pc_rc
pg_wait_change(struct store *base, int fd, int ms)
{
	struct pg *st = pg_of(base);
	struct pollfd pfd[2];
	struct timespec t0, t;
	PGnotify *n;
	int got = 0, k, left = ms;

	if (!st->listening) {
		if (exec_sql(st, "LISTEN pcmds_facts", NULL) != PC_OK)
			return PC_ESTORE;
		st->listening = 1;
	}
	pthread_once(&self_once, self_init);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		while ((n = PQnotifies(st->c)) != NULL) {
			/* this process's own facts are applied at its commit */
			if (self[0] == '\0' || strcmp(n->extra, self) != 0)
				got = 1;
			PQfreemem(n);
		}
		if (got)
			return PC_OK;
		/* only this process's, or nothing: wait out the rest */
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left < 0)
			left = 0;
		pfd[0].fd = PQsocket(st->c);
		pfd[0].events = POLLIN;
		pfd[1].fd = fd;
		pfd[1].events = POLLIN;
		if (pfd[0].fd < 0)
			return PC_ESTORE;
		k = poll(pfd, fd >= 0 ? 2 : 1, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return PC_EIO;
		if (k == 0)
			return PC_ENOTFOUND;
		if (fd >= 0 && (pfd[1].revents & POLLIN))
			return PC_OK;
		if (PQconsumeInput(st->c) != 1)
			return PC_ESTORE;
	}
}

/* -- shared rate limits --------------------------------------------------- */

static pc_rc
rate_look(struct pg *st, const char *key, double per_sec, double burst,
    double *wait)
{
	struct params p = {0};
	PGresult *r;
	double t;

	p_text(&p, key);
	p_double(&p, per_sec);
	r = run(st, "SELECT tokens + (extract(epoch FROM clock_timestamp()) - "
	    "at) * $2::float8 FROM rate WHERE key = $1", &p);
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	*wait = 0;
	if (PQntuples(r) == 1) {
		t = strtod(PQgetvalue(r, 0, 0), NULL);
		if (t > burst)
			t = burst;
		if (t < 1)
			*wait = (1 - t) / per_sec;
	}
	PQclear(r);
	return PC_OK;
}

static pc_rc
pg_rate(struct store *base, const char *key, double per_sec, double burst,
    double now, int take, double *wait)
{
	struct pg *st = pg_of(base);
	struct params p = {0};
	PGresult *r;
	int took;
	double t;

	(void)now;	/* the database's clock, the same for all servers */
	*wait = 0;
	if (st->in_tx)
		return PC_EUSAGE;
	if (!take)
		return rate_look(st, key, per_sec, burst, wait);
	p_text(&p, key);
	p_double(&p, per_sec);
	p_double(&p, burst);
	r = run_prep(st, Q_RATE_TAKE, &p);
	if (!res_ok(r) || PQntuples(r) != 1) {
		PQclear(r);
		return PC_ESTORE;
	}
	t = strtod(PQgetvalue(r, 0, 0), NULL);
	took = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	PQclear(r);
	if (!took)
		*wait = (1 - t) / per_sec;
	/* keys idle for a day are full buckets: forget them now and then */
	if (++st->rate_takes % RATE_PRUNE_EVERY == 0)
		(void)exec_sql(st, "DELETE FROM rate WHERE at < extract(epoch "
		    "FROM clock_timestamp()) - 86400", NULL);
	return PC_OK;
}

/* -- exports --------------------------------------------------------------- */

static pc_rc
pg_export_open(struct store *base, const char *place, int32_t from,
    int32_t to, struct store_cursor **out)
{
	struct pg *st = pg_of(base);
	struct pg_cursor *c;
	struct params p = {0};
	PGresult *r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PC_ENOMEM;
	c->base.ops = &pg_ops;
	store_texts_init(&c->t);
	if ((c->c = connect_to(st->export_conninfo ? st->export_conninfo :
	    st->conninfo, NULL)) == NULL) {
		free(c);
		return PC_ESTORE;
	}
	if (place != NULL)
		p_text(&p, place);
	else
		p_null(&p);
	p_int(&p, from);
	p_int(&p, to);
	/* one snapshot for the whole export; a replica serves it as well */
	r = PQexec(c->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (done(r) != PC_OK || done(PQexecParams(c->c, "DECLARE x NO SCROLL "
	    "CURSOR FOR SELECT f.referral, r.json FROM facts f JOIN records r "
	    "ON r.referral = f.referral WHERE f.exportable = 1 AND ($1::text "
	    "IS NULL OR f.place = $1) AND f.referred_on BETWEEN $2 AND $3 "
	    "ORDER BY f.place, f.referred_on, f.referral, r.seq", p.n, NULL,
	    p.v, p.len, p.fmt, 0)) != PC_OK) {
		PQfinish(c->c);
		free(c);
		return PC_ESTORE;
	}
	*out = &c->base;
	return PC_OK;
}

/* The cursor's current row, fetching more when the last is used up. */
static int
cursor_row(struct pg_cursor *c, pc_rc *rc)
{
	if (c->res != NULL && c->row < c->nrows)
		return 1;
	if (c->done)
		return 0;
	PQclear(c->res);
	c->res = PQexec(c->c, "FETCH 2000 FROM x");
	c->row = 0;
	if (!res_ok(c->res)) {
		*rc = PC_ESTORE;
		c->nrows = 0;
		c->done = 1;
		return 0;
	}
	c->nrows = PQntuples(c->res);
	if (c->nrows == 0)
		c->done = 1;
	return c->nrows > 0;
}

static pc_rc
pg_export_next(struct store_cursor *cur, struct store_export_ref *ref)
{
	struct pg_cursor *c = (struct pg_cursor *)cur;
	pc_rc rc = PC_OK;

	memset(ref, 0, sizeof(*ref));
	store_texts_reset(&c->t);
	if (!cursor_row(c, &rc))
		return rc == PC_OK ? PC_ENOTFOUND : rc;
	snprintf(c->id, sizeof(c->id), "%s", PQgetvalue(c->res, c->row, 0));
	if ((rc = store_texts_begin(&c->t, c->id)) != PC_OK)
		return rc;
	while (rc == PC_OK && cursor_row(c, &rc) &&
	    strcmp(PQgetvalue(c->res, c->row, 0), c->id) == 0) {
		rc = store_texts_add(&c->t, PQgetvalue(c->res, c->row, 1),
		    (size_t)PQgetlength(c->res, c->row, 1));
		c->row++;
	}
	if (rc == PC_OK)
		rc = store_texts_get(&c->t, 0, ref);
	return rc;
}

static void
pg_export_close(struct store_cursor *cur)
{
	struct pg_cursor *c = (struct pg_cursor *)cur;

	PQclear(c->res);
	PQfinish(c->c);
	store_texts_free(&c->t);
	free(c);
}

/* -- the audit log -------------------------------------------------------- */

static int
try_lock(struct pg *st, int64_t chain)
{
	struct params p = {0};
	PGresult *r;
	int ok;

	p_int(&p, LOCK_CLASS);
	p_int(&p, chain);
	r = run(st, "SELECT pg_try_advisory_lock($1::int, $2::int)", &p);
	ok = res_ok(r) && PQntuples(r) == 1 &&
	    strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return ok;
}

/* This connection's chain: one whose writer is gone, or a new one. */
static pc_rc
claim_chain(struct pg *st)
{
	struct params p = {0};
	PGresult *r;
	int i, n;
	int64_t c = 0;

	r = PQexec(st->c, "SELECT chain FROM audit_chains ORDER BY chain");
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	for (i = 0, n = PQntuples(r); c == 0 && i < n; i++)
		if (try_lock(st, col_int(r, i, 0)))
			c = col_int(r, i, 0);
	PQclear(r);
	if (c == 0) {
		/* a sequence: outside the transaction, never handed out twice */
		r = PQexec(st->c, "SELECT nextval('audit_chain_seq')");
		if (!res_ok(r) || PQntuples(r) != 1) {
			PQclear(r);
			return PC_ESTORE;
		}
		c = col_int(r, 0, 0);
		PQclear(r);
		if (!try_lock(st, c))
			return PC_ESTORE;
	}
	p_int(&p, c);
	r = run(st, "SELECT seq, hash FROM audit WHERE chain = $1 ORDER BY seq "
	    "DESC LIMIT 1", &p);
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	st->head_seq = 0;
	memset(st->head_hash, 0, sizeof(st->head_hash));
	if (PQntuples(r) == 1) {
		st->head_seq = col_int(r, 0, 0);
		(void)col_bytes(r, 0, 1, st->head_hash, SEC_SHA256_LEN);
	}
	PQclear(r);
	st->chain = c;
	return PC_OK;
}

static pc_rc
pg_audit_last(struct store *base, int64_t *chain, int64_t *seq,
    uint8_t hash[SEC_SHA256_LEN])
{
	struct pg *st = pg_of(base);
	pc_rc rc;

	*chain = 0;
	*seq = 0;
	memset(hash, 0, SEC_SHA256_LEN);
	if (st->chain == 0 && (rc = claim_chain(st)) != PC_OK)
		return rc;
	*chain = st->chain;
	*seq = st->tx_seq ? st->tx_seq : st->head_seq;
	memcpy(hash, st->tx_seq ? st->tx_hash : st->head_hash, SEC_SHA256_LEN);
	return PC_OK;
}

static pc_rc
pg_audit_insert(struct store *base, const struct store_audit *a)
{
	struct pg *st = pg_of(base);
	struct params p = {0};
	pc_rc rc;

	if (!st->in_tx || a->chain != st->chain || st->chain == 0)
		return PC_EUSAGE;	/* only into the chain this one holds */
	if (a->seq == 1) {
		p_int(&p, a->chain);
		if ((rc = done(run(st, "INSERT INTO audit_chains(chain) VALUES "
		    "($1) ON CONFLICT DO NOTHING", &p))) != PC_OK)
			return rc;
		memset(&p, 0, sizeof(p));
	}
	p_int(&p, a->chain);
	p_int(&p, a->seq);
	p_int(&p, a->at);
	p_text(&p, a->actor);
	p_text(&p, a->action);
	p_text(&p, a->object);
	p_text(&p, a->outcome);
	p_blob(&p, a->prev, SEC_SHA256_LEN);
	p_blob(&p, a->hash, SEC_SHA256_LEN);
	if (a->records_len > 0)
		p_blob(&p, a->records, a->records_len);
	else
		p_null(&p);
	if ((rc = done(run_prep(st, Q_AUDIT_INSERT, &p))) != PC_OK)
		return rc;
	st->tx_seq = a->seq;
	memcpy(st->tx_hash, a->hash, SEC_SHA256_LEN);
	return PC_OK;
}

struct audit_walk {
	int	(*cb)(void *, const struct store_audit *);
	void	*arg;
	pc_rc	 rc;
};

static int
audit_row(void *arg, const PGresult *r, int i)
{
	struct audit_walk *w = arg;
	struct store_audit a;
	uint8_t *recs = NULL;
	int stop;

	memset(&a, 0, sizeof(a));
	a.chain = col_int(r, i, 0);
	a.seq = col_int(r, i, 1);
	a.at = col_int(r, i, 2);
	a.actor = PQgetvalue(r, i, 3);
	a.action = PQgetvalue(r, i, 4);
	a.object = PQgetvalue(r, i, 5);
	a.outcome = PQgetvalue(r, i, 6);
	(void)col_bytes(r, i, 7, a.prev, SEC_SHA256_LEN);
	(void)col_bytes(r, i, 8, a.hash, SEC_SHA256_LEN);
	if (!PQgetisnull(r, i, 9)) {
		if ((recs = col_blob(r, i, 9, &a.records_len)) == NULL) {
			w->rc = PC_ENOMEM;
			return 1;
		}
		a.records = recs;
	}
	stop = w->cb(w->arg, &a);
	free(recs);
	return stop;
}

static pc_rc
pg_audit_each(struct store *base,
    int (*cb)(void *, const struct store_audit *), void *arg)
{
	struct audit_walk w = {cb, arg, PC_OK};
	struct pg *st = pg_of(base);
	pc_rc rc = flush(st);

	if (rc == PC_OK)
		rc = each(st, "SELECT chain, seq, at, actor, action, object, "
		    "outcome, prev, hash, records FROM audit ORDER BY chain, seq",
		    NULL, audit_row, &w);
	return rc != PC_OK ? rc : w.rc;
}

struct head_walk {
	int	(*cb)(void *, int64_t, int64_t, const uint8_t *);
	void	*arg;
};

static int
head_row(void *arg, const PGresult *r, int i)
{
	struct head_walk *w = arg;
	uint8_t h[SEC_SHA256_LEN];

	(void)col_bytes(r, i, 2, h, SEC_SHA256_LEN);
	return w->cb(w->arg, col_int(r, i, 0), col_int(r, i, 1), h);
}

static pc_rc
pg_audit_heads(struct store *base, int (*cb)(void *, int64_t, int64_t,
    const uint8_t *), void *arg)
{
	struct head_walk w = {cb, arg};

	return each(pg_of(base), "SELECT DISTINCT ON (chain) chain, seq, hash "
	    "FROM audit ORDER BY chain, seq DESC", NULL, head_row, &w);
}

struct rows_walk {
	int	(*cb)(void *, const struct store_rec_row *);
	void	*arg;
	int	 seen;
	pc_rc	 rc;
};

static int
rec_row(void *arg, const PGresult *r, int i)
{
	struct rows_walk *w = arg;
	struct store_rec_row row;
	uint8_t h[SEC_SHA256_LEN];

	row.rowid = col_int(r, i, 0);
	row.id = PQgetvalue(r, i, 1);
	row.json = PQgetvalue(r, i, 2);
	row.len = (size_t)PQgetlength(r, i, 2);
	row.hash = col_bytes(r, i, 3, h, sizeof(h)) == 0 ? h : NULL;
	row.audit_chain = col_int(r, i, 4);
	row.audit_seq = col_int(r, i, 5);
	w->seen++;
	return w->cb(w->arg, &row);
}

#define ROW_COLS	"SELECT seq, id, json, hash, coalesce(audit_chain, 0), " \
	"coalesce(audit_seq, 0) FROM records "

static pc_rc
pg_record_rows(struct store *base, enum store_rows which, int64_t chain,
    int64_t seq, int (*cb)(void *, const struct store_rec_row *), void *arg)
{
	static const char *const sql[] = {
		[ROWS_OF_ENTRY] = ROW_COLS "WHERE audit_chain = $1 AND "
		    "audit_seq = $2 ORDER BY id",
		[ROWS_UNKEYED] = ROW_COLS "WHERE audit_seq IS NULL ORDER BY id",
		[ROWS_UNCLAIMED] = ROW_COLS "r WHERE audit_seq IS NOT NULL AND "
		    "NOT EXISTS (SELECT 1 FROM audit a WHERE a.chain = "
		    "r.audit_chain AND a.seq = r.audit_seq AND a.records IS NOT "
		    "NULL) ORDER BY audit_chain, audit_seq, id",
	};
	struct rows_walk w = {cb, arg, 0, PC_OK};
	struct pg *st = pg_of(base);
	struct params p = {0};
	pc_rc rc;

	if ((rc = flush(st)) != PC_OK)
		return rc;
	if (which == ROWS_OF_ENTRY) {
		p_int(&p, chain);
		p_int(&p, seq);
	}
	return each(st, sql[which], which == ROWS_OF_ENTRY ? &p : NULL,
	    rec_row, &w);
}

static pc_rc
pg_record_row(struct store *base, const char *id,
    int (*cb)(void *, const struct store_rec_row *), void *arg)
{
	struct rows_walk w = {cb, arg, 0, PC_OK};
	struct pg *st = pg_of(base);
	struct params p = {0};
	PGresult *r;
	pc_rc rc;

	if ((rc = flush(st)) != PC_OK)
		return rc;
	p_text(&p, id);
	r = run(st, ROW_COLS "WHERE id = $1", &p);
	if (!res_ok(r)) {
		PQclear(r);
		return PC_ESTORE;
	}
	if (PQntuples(r) == 1)
		(void)rec_row(&w, r, 0);
	PQclear(r);
	return w.seen ? PC_OK : PC_ENOTFOUND;
}

/* -- whole tables, for pcmdsd migrate ------------------------------------ */

/* Column types, for reading rows back: 'i'nteger, 't'ext, 'b'ytea. */
static const char *const copy_types[TABLE_N] = {
	[TABLE_META] = "tt",
	[TABLE_PLACES] = "ttit",
	[TABLE_ASSETS] = "tttttti",
	[TABLE_POPULATION] = "tttit",
	[TABLE_PASSWORDS] = "iti",
	[TABLE_OIDC_LINKS] = "ttii",
	[TABLE_USERS] = "itttttii",
	[TABLE_CREDS] = "bittiiii",
	[TABLE_RECORDS] = "itttttbtiiii",
	[TABLE_AUDIT] = "iiittttbbb",
	[TABLE_FACTS] = "ttiib",
	[TABLE_TAKEUP] = "tttii",
};

struct copy_walk {
	enum store_table	 t;
	int			(*cb)(void *, const struct store_value *);
	void			*arg;
	pc_rc			 rc;
};

static int
copy_row(void *arg, const PGresult *r, int i)
{
	struct copy_walk *w = arg;
	struct store_value v[STORE_COLS_MAX];
	uint8_t *blobs[STORE_COLS_MAX] = {0};
	int k, n = store_tables[w->t].ncols, stop;

	/* whole: with the sanitizers GCC cannot see n <= STORE_COLS_MAX */
	memset(v, 0, sizeof(v));
	for (k = 0; k < n; k++) {
		if (PQgetisnull(r, i, k))
			v[k].type = SV_NULL;
		else if (copy_types[w->t][k] == 'i') {
			v[k].type = SV_INT;
			v[k].i = col_int(r, i, k);
		} else if (copy_types[w->t][k] == 'b') {
			v[k].type = SV_BLOB;
			if ((blobs[k] = col_blob(r, i, k, &v[k].len)) == NULL)
				w->rc = PC_ENOMEM;
			v[k].p = blobs[k];
		} else {
			v[k].type = SV_TEXT;
			v[k].p = PQgetvalue(r, i, k);
			v[k].len = (size_t)PQgetlength(r, i, k);
		}
	}
	stop = w->rc != PC_OK || w->cb(w->arg, v);
	for (k = 0; k < n; k++)
		free(blobs[k]);
	return stop;
}

static pc_rc
pg_copy_each(struct store *base, enum store_table t,
    int (*cb)(void *, const struct store_value *), void *arg)
{
	const struct store_table_info *ti = &store_tables[t];
	struct copy_walk w = {t, cb, arg, PC_OK};
	struct buf sql;
	int k;
	pc_rc rc;

	buf_init(&sql, 0);
	buf_adds(&sql, "SELECT ");
	for (k = 0; k < ti->ncols; k++)
		buf_addf(&sql, "%s%s", k ? ", " : "", ti->cols[k]);
	buf_addf(&sql, " FROM %s ORDER BY %s", ti->name, ti->order);
	rc = sql.p ? each(pg_of(base), buf_str(&sql), NULL, copy_row, &w) :
	    PC_ENOMEM;
	buf_free(&sql);
	return rc != PC_OK ? rc : w.rc;
}

/* The rows held for table st->copy_table, sent. */
static pc_rc
copy_flush(struct pg *st)
{
	const struct store_table_info *ti;
	struct buf sql;
	int k;
	pc_rc rc;

	if (st->copy_table < 0 || st->ncopy == 0)
		return PC_OK;
	ti = &store_tables[st->copy_table];
	buf_init(&sql, 0);
	buf_addf(&sql, "COPY %s(", ti->name);
	for (k = 0; k < ti->ncols; k++)
		buf_addf(&sql, "%s%s", k ? ", " : "", ti->cols[k]);
	buf_adds(&sql, ") FROM STDIN");
	rc = sql.p ? copy_in(st, buf_str(&sql), &st->copy) : PC_ENOMEM;
	buf_free(&sql);
	st->ncopy = 0;
	return rc;
}

/* The meta of a new database holds its own rows: those copied win. */
static pc_rc
copy_meta(struct pg *st, const struct store_value *v)
{
	struct params p = {0};

	if (v[0].type != SV_TEXT || v[1].type != SV_TEXT)
		return PC_EINVAL;
	p_text(&p, v[0].p);
	p_text(&p, v[1].p);
	return done(run(st, "INSERT INTO meta(key, value) VALUES ($1, $2) ON "
	    "CONFLICT (key) DO UPDATE SET value = excluded.value", &p));
}

static pc_rc
pg_copy_put(struct store *base, enum store_table t,
    const struct store_value *v)
{
	struct pg *st = pg_of(base);
	struct buf *b = &st->copy;
	char hex[2 * 1024 + 1];
	const uint8_t *bytes;
	size_t at, n;
	int k;
	pc_rc rc;

	if (!st->in_tx)
		return PC_EUSAGE;
	if (t == TABLE_META)
		return copy_meta(st, v);
	if ((int)t != st->copy_table && (rc = copy_flush(st)) != PC_OK)
		return rc;
	st->copy_table = (int)t;
	for (k = 0; k < store_tables[t].ncols; k++) {
		if (k > 0)
			buf_addc(b, '\t');
		switch (v[k].type) {
		case SV_NULL:
			buf_adds(b, "\\N");
			break;
		case SV_INT:
			buf_addf(b, "%" PRId64, v[k].i);
			break;
		case SV_BLOB:
			buf_adds(b, "\\\\x");
			bytes = v[k].p;
			for (at = 0; at < v[k].len; at += n) {
				n = v[k].len - at < 1024 ? v[k].len - at : 1024;
				sec_hex(bytes + at, n, hex);
				buf_add(b, hex, 2 * n);
			}
			break;
		default:
			copy_text(b, v[k].p, v[k].len);
		}
	}
	buf_addc(b, '\n');
	if (b->p == NULL)
		return PC_ENOMEM;
	st->ncopy++;
	return b->len >= (4u << 20) ? copy_flush(st) : PC_OK;
}

/* Sequences past what was copied; every referral's lock row. */
static pc_rc
pg_copy_end(struct store *base, enum store_table t)
{
	struct pg *st = pg_of(base);
	pc_rc rc;

	if ((rc = copy_flush(st)) != PC_OK)
		return rc;
	st->copy_table = -1;
	switch (t) {
	case TABLE_USERS:
		return exec_sql(st, "SELECT setval('users_id_seq', greatest(1, "
		    "(SELECT max(id) FROM users)))", NULL);
	case TABLE_RECORDS:
		/* chain 0, copied as it was, is never written again */
		return exec_sql(st, "SELECT setval('records_seq_seq', greatest("
		    "1, (SELECT max(seq) FROM records))); INSERT INTO "
		    "referrals(id) SELECT DISTINCT referral FROM records ON "
		    "CONFLICT DO NOTHING", NULL);
	default:
		return PC_OK;
	}
}

/* -- what a failure met; the directory of community assets ------------- */

/* The server's loop holds no connection while serving: nothing to do. */
static void
pg_short_waits(struct store *base)
{
	(void)base;
}

/* The database server's own memory is its administrator's (shared_buffers). */
static pc_rc
pg_cache_size(struct store *base, int mib)
{
	(void)base;
	(void)mib;
	return PC_OK;
}

static enum store_fault
pg_fault(struct store *base, char *msg, size_t len)
{
	struct pg *st = pg_of(base);
	const char *state = st->fault_state;

	if (PQstatus(st->c) != CONNECTION_OK || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0) {
		snprintf(msg, len, "the PostgreSQL server cannot be reached or "
		    "went away (%s): check it, and the database setting",
		    st->fault_msg[0] ? st->fault_msg : PQerrorMessage(st->c));
		return STORE_FAULT_IO;
	}
	if (strncmp(state, "53", 2) == 0) {
		snprintf(msg, len, "the PostgreSQL server is out of room (%s): "
		    "its disk is full, or a limit reached", st->fault_msg);
		return STORE_FAULT_FULL;
	}
	if (strcmp(state, "25006") == 0) {
		snprintf(msg, len, "the PostgreSQL database cannot be written "
		    "(%s): is database a standby?", st->fault_msg);
		return STORE_FAULT_READONLY;
	}
	snprintf(msg, len, "PostgreSQL: %s (SQLSTATE %s)", st->fault_msg[0] ?
	    st->fault_msg : PQerrorMessage(st->c), state[0] ? state : "none");
	return STORE_FAULT_OTHER;
}

/* -- population denominators, dashboard passwords ---------------------- */

static pc_rc
pg_population_clear(struct store *base, const char *place, const char *table)
{
	struct params p = {0};

	p_text(&p, place);
	p_text(&p, table);
	return done(run(pg_of(base), "DELETE FROM population WHERE place = $1 "
	    "AND tbl = $2", &p));
}

static pc_rc
pg_population_put(struct store *base, const struct store_population *pop)
{
	struct params p = {0};

	p_text(&p, pop->place);
	p_text(&p, pop->table);
	p_text(&p, pop->category);
	p_int(&p, pop->population);
	p_text(&p, pop->source);
	return done(run(pg_of(base), "INSERT INTO population(place, tbl, "
	    "category, population, source) VALUES ($1, $2, $3, $4, $5) ON "
	    "CONFLICT (place, tbl, category) DO UPDATE SET population = "
	    "excluded.population, source = excluded.source", &p));
}

struct pop_walk {
	int	(*cb)(void *, const struct store_population *);
	void	*arg;
};

static int
pop_row(void *arg, const PGresult *r, int i)
{
	struct pop_walk *w = arg;
	struct store_population p;

	col_text(r, i, 0, p.place, sizeof(p.place));
	col_text(r, i, 1, p.table, sizeof(p.table));
	col_text(r, i, 2, p.category, sizeof(p.category));
	p.population = (long)col_int(r, i, 3);
	col_text(r, i, 4, p.source, sizeof(p.source));
	return w->cb(w->arg, &p);
}

static pc_rc
pg_population_each(struct store *base,
    int (*cb)(void *, const struct store_population *), void *arg)
{
	struct pop_walk w = {cb, arg};

	return each(pg_of(base), "SELECT place, tbl, category, population, "
	    "source FROM population ORDER BY place, tbl, category", NULL,
	    pop_row, &w);
}

static pc_rc
pg_password_set(struct store *base, int64_t user, const char *stored,
    int64_t now)
{
	struct params p = {0};

	p_int(&p, user);
	p_text(&p, stored);
	p_int(&p, now);
	return done(run(pg_of(base), "INSERT INTO passwords(user_id, hash, "
	    "set_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET "
	    "hash = excluded.hash, set_at = excluded.set_at", &p));
}

static pc_rc
pg_password_get(struct store *base, int64_t user, char *out, size_t len)
{
	struct params p = {0};

	out[0] = '\0';
	p_int(&p, user);
	return one_text(run(pg_of(base), "SELECT hash FROM passwords WHERE "
	    "user_id = $1", &p), out, len);
}

static pc_rc
pg_password_clear(struct store *base, int64_t user)
{
	struct params p = {0};

	p_int(&p, user);
	return done(run(pg_of(base), "DELETE FROM passwords WHERE user_id = $1",
	    &p));
}

/* -- identities at an OpenID Connect provider ---------------------------- */

static pc_rc
pg_oidc_find(struct store *base, const char *issuer, const char *subject,
    int64_t *user)
{
	struct params p = {0};
	PGresult *r;
	pc_rc rc;

	p_text(&p, issuer);
	p_text(&p, subject);
	r = run(pg_of(base), "SELECT user_id FROM oidc_links WHERE issuer = $1 "
	    "AND subject = $2", &p);
	rc = !res_ok(r) ? PC_ESTORE : PQntuples(r) == 1 ? PC_OK : PC_ENOTFOUND;
	if (rc == PC_OK)
		*user = col_int(r, 0, 0);
	PQclear(r);
	return rc;
}

static pc_rc
pg_oidc_link(struct store *base, int64_t user, const char *issuer,
    const char *subject, int64_t now)
{
	struct params p = {0};
	int64_t other;
	pc_rc rc;

	/* refused before anything changes: the transaction stays usable */
	if ((rc = pg_oidc_find(base, issuer, subject, &other)) == PC_OK &&
	    other != user)
		return PC_ECONFLICT;
	if (rc != PC_OK && rc != PC_ENOTFOUND)
		return rc;
	p_text(&p, issuer);
	p_int(&p, user);
	if ((rc = done(run(pg_of(base), "DELETE FROM oidc_links WHERE issuer = "
	    "$1 AND user_id = $2", &p))) != PC_OK)
		return rc;
	memset(&p, 0, sizeof(p));
	p_text(&p, issuer);
	p_text(&p, subject);
	p_int(&p, user);
	p_int(&p, now);
	return done(run(pg_of(base), "INSERT INTO oidc_links(issuer, subject, "
	    "user_id, linked_at) VALUES ($1, $2, $3, $4)", &p));
}

static pc_rc
pg_oidc_subject(struct store *base, int64_t user, const char *issuer,
    char *out, size_t len)
{
	struct params p = {0};

	out[0] = '\0';
	p_text(&p, issuer);
	p_int(&p, user);
	return one_text(run(pg_of(base), "SELECT subject FROM oidc_links WHERE "
	    "issuer = $1 AND user_id = $2", &p), out, len);
}

static pc_rc
pg_oidc_unlink(struct store *base, int64_t user, const char *issuer)
{
	struct params p = {0};

	p_text(&p, issuer);
	p_int(&p, user);
	return touched(run(pg_of(base), "DELETE FROM oidc_links WHERE issuer = "
	    "$1 AND user_id = $2", &p));
}

static pc_rc
pg_asset_put(struct store *base, const struct store_asset *a)
{
	struct params p = {0};

	p_text(&p, a->place);
	p_text(&p, a->id);
	p_text(&p, a->name);
	p_text(&p, a->category);
	p_text(&p, a->contact);
	p_text(&p, a->notes);
	return done(run(pg_of(base), "INSERT INTO assets(place, id, name, "
	    "category, contact, notes, active) VALUES ($1, $2, $3, $4, $5, $6, "
	    "1) ON CONFLICT (place, id) DO UPDATE SET name = excluded.name, "
	    "category = excluded.category, contact = excluded.contact, notes = "
	    "excluded.notes, active = 1", &p));
}

static pc_rc
pg_asset_retire(struct store *base, const char *place,
    const char *const *keep, size_t nkeep)
{
	struct params p = {0};
	struct buf a;
	pc_rc rc;

	buf_init(&a, 0);
	if (array_of(keep, nkeep, &a) != PC_OK) {
		buf_free(&a);
		return PC_ENOMEM;
	}
	p_text(&p, place);
	p_text(&p, buf_str(&a));
	rc = done(run(pg_of(base), "UPDATE assets SET active = 0 WHERE place = "
	    "$1 AND NOT id = ANY($2::text[])", &p));
	buf_free(&a);
	return rc;
}

static pc_rc
pg_asset_known(struct store *base, const char *place, const char *id)
{
	struct params p = {0};

	p_text(&p, place);
	p_text(&p, id);
	return one_text(run(pg_of(base), "SELECT 1 FROM assets WHERE place = $1 "
	    "AND id = $2", &p), NULL, 0);
}

struct asset_walk {
	int	(*cb)(void *, const struct store_asset *);
	void	*arg;
};

static int
asset_row(void *arg, const PGresult *r, int i)
{
	struct asset_walk *w = arg;
	struct store_asset a;

	col_text(r, i, 0, a.place, sizeof(a.place));
	col_text(r, i, 1, a.id, sizeof(a.id));
	col_text(r, i, 2, a.name, sizeof(a.name));
	col_text(r, i, 3, a.category, sizeof(a.category));
	col_text(r, i, 4, a.contact, sizeof(a.contact));
	col_text(r, i, 5, a.notes, sizeof(a.notes));
	a.active = (int)col_int(r, i, 6);
	return w->cb(w->arg, &a);
}

static pc_rc
pg_asset_each(struct store *base, const char *place,
    int (*cb)(void *, const struct store_asset *), void *arg)
{
	struct asset_walk w = {cb, arg};
	struct params p = {0};

	if (place != NULL)
		p_text(&p, place);
	else
		p_null(&p);
	return each(pg_of(base), "SELECT place, id, name, category, contact, "
	    "notes, active FROM assets WHERE $1::text IS NULL OR place = $1 "
	    "ORDER BY place, active DESC, name, id", &p, asset_row, &w);
}

static const struct store_ops pg_ops = {
	.kind = "postgresql",
	.shared = 1,
	.close = pg_close,
	.background_checkpoints = pg_background_checkpoints,
	.export_source = pg_export_source,
	.short_waits = pg_short_waits,
	.cache_size = pg_cache_size,
	.fault = pg_fault,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.meta_get = pg_meta_get,
	.meta_set = pg_meta_set,
	.meta_del = pg_meta_del,
	.place_put = pg_place_put,
	.place_get = pg_place_get,
	.place_each = pg_place_each,
	.population_clear = pg_population_clear,
	.population_put = pg_population_put,
	.population_each = pg_population_each,
	.password_set = pg_password_set,
	.password_get = pg_password_get,
	.password_clear = pg_password_clear,
	.oidc_link = pg_oidc_link,
	.oidc_find = pg_oidc_find,
	.oidc_subject = pg_oidc_subject,
	.oidc_unlink = pg_oidc_unlink,
	.asset_put = pg_asset_put,
	.asset_retire = pg_asset_retire,
	.asset_known = pg_asset_known,
	.asset_each = pg_asset_each,
	.user_add = pg_user_add,
	.user_get = pg_user_get,
	.user_each = pg_user_each,
	.user_revoke = pg_user_revoke,
	.cred_add = pg_cred_add,
	.cred_take_code = pg_cred_take_code,
	.cred_find = pg_cred_find,
	.cred_revoke = pg_cred_revoke,
	.batch_lock = pg_batch_lock,
	.record_hash = pg_record_hash,
	.record_put = pg_record_put,
	.record_timeline = pg_record_timeline,
	.record_count = pg_record_count,
	.fact_put = pg_fact_put,
	.fact_each = pg_fact_each,
	.fact_clear = pg_fact_clear,
	.takeup_put = pg_takeup_put,
	.takeup_add = pg_takeup_add,
	.facts_of = pg_facts_of,
	.takeup_each = pg_takeup_each,
	.referral_each = pg_referral_each,
	.watermark = pg_watermark,
	.facts_since = pg_facts_since,
	.covers = pg_covers,
	.may_read = pg_may_read,
	.places_version = pg_places_version,
	.wait_change = pg_wait_change,
	.rate = pg_rate,
	.export_open = pg_export_open,
	.export_next = pg_export_next,
	.export_close = pg_export_close,
	.audit_last = pg_audit_last,
	.audit_insert = pg_audit_insert,
	.audit_each = pg_audit_each,
	.audit_heads = pg_audit_heads,
	.record_rows = pg_record_rows,
	.record_row = pg_record_row,
	.copy_each = pg_copy_each,
	.copy_put = pg_copy_put,
	.copy_end = pg_copy_end,
};

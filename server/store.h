/*
 * store.h - the server's storage, behind one narrow interface.
 *
 * Everything pcmdsd keeps goes through these functions: places, users and
 * their credentials, records, the audit log, and the per-referral facts
 * the aggregates are built from. No SQL appears outside the stores.
 * store_open() chooses the store at run time from the database setting:
 * a postgresql:// (or postgres://) URI is PostgreSQL (store_pg.c), which
 * several pcmdsd may share; anything else is the path of a SQLite file
 * (store_sqlite.c), for one pcmdsd. Each is a table of functions
 * (store_impl.h) behind the same calls, so one binary serves both.
 *
 * Writes happen inside store_begin()/store_commit(). Commit is durable
 * (SQLite: WAL with synchronous=FULL; PostgreSQL: synchronous_commit on)
 * before it returns: a record is only acknowledged after its commit. A
 * store handle is one connection, used by one thread at a time.
 *
 * Several writers (PostgreSQL). store_batch_lock() serialises the
 * batches that touch the same referrals, whichever server they reach,
 * so the cross-record rules hold as with one writer. Each connection
 * writes an audit chain of its own (struct store_audit.chain), so audit
 * appends never wait for another server. Each commit has a watermark,
 * a position in the store's commit order; store_facts_since() returns
 * the facts changed since a snapshot, with the snapshot that covers
 * them, such that no commit, early or late, falls between two.
 */
#ifndef PCMDS_STORE_H
#define PCMDS_STORE_H

#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "rec.h"
#include "sec.h"
#include "timeline.h"

#define STORE_SCHEMA_VERSION	9	/* SQLite's; PostgreSQL's: store_pg.c */
#define STORE_MARK_LEN		24	/* a watermark: a decimal number */
#define STORE_SNAP_LEN		4096	/* a snapshot as text */

struct store;

struct store_place {
	char	 code[REC_PLACE_MAX + 1];
	char	 name[128];
	long	 population;
	char	 source[200];
};

/* An entry of a place's directory of community assets. */
struct store_asset {
	char	 place[REC_PLACE_MAX + 1];
	char	 id[REC_ASSET_MAX + 1];
	char	 name[201];
	char	 category[32];		/* a codes_support code */
	char	 contact[201];		/* "" when not given */
	char	 notes[501];
	int	 active;		/* 0: withdrawn from the directory */
};

enum store_role {
	ROLE_LINK_WORKER,
	ROLE_PLACE_LEAD,
	ROLE_EVALUATOR,
	ROLE_N
};

struct store_user {
	int64_t		 id;
	char		 name[128];
	enum store_role	 role;
	char		 place[REC_PLACE_MAX + 1];	/* "" for evaluators */
	char		 pcn[7];
	char		 worker[REC_WORKER_MAX + 1];	/* link workers */
	int64_t		 created;
	int64_t		 revoked;			/* 0 while active */
};

enum store_cred {
	CRED_CODE,	/* one-time enrolment or login code */
	CRED_DEVICE,	/* bearer token of an enrolled device */
	CRED_SESSION,	/* dashboard session cookie */
};

/* Who a credential belongs to, when it is valid. */
struct store_auth {
	struct store_user	 user;
	enum store_cred		 kind;
	int64_t			 expires;
	char			 device[UUID_LEN];
};

struct store_audit {
	int64_t		 chain;		/* 0: SQLite's one chain */
	int64_t		 seq;		/* 1, 2, ... within the chain */
	int64_t		 at;
	const char	*actor;
	const char	*action;
	const char	*object;
	const char	*outcome;
	/* a batch's stored records: AUDIT_REC_LEN bytes each (audit.h) */
	const uint8_t	*records;
	size_t		 records_len;	/* 0: none (NULL in the table) */
	uint8_t		 prev[SEC_SHA256_LEN];
	uint8_t		 hash[SEC_SHA256_LEN];
};

/* A stored record as the audit's check reads it (borrowed). */
struct store_rec_row {
	int64_t		 rowid;		/* arrival order */
	const char	*id;
	const char	*json;
	size_t		 len;
	const uint8_t	*hash;		/* the hash column: 32 bytes or NULL */
	int64_t		 audit_chain;	/* the entry that stored it... */
	int64_t		 audit_seq;	/* ...0 none */
};

/* Which records store_record_rows() lists, each set ordered by id. */
enum store_rows {
	ROWS_OF_ENTRY,	/* stored by audit entry (chain, seq) */
	ROWS_UNKEYED,	/* stored before the audit log was keyed */
	ROWS_UNCLAIMED,	/* naming an entry that stored no records (by entry) */
};

/*
 * The tables as a whole, for pcmdsd migrate: every row of each, column
 * by column in the order of store_tables[t].cols, in a form both stores
 * read and write.
 */
enum store_table {
	TABLE_META,
	TABLE_PLACES,
	TABLE_ASSETS,
	TABLE_POPULATION,
	TABLE_USERS,
	TABLE_CREDS,
	TABLE_PASSWORDS,
	TABLE_OIDC_LINKS,
	TABLE_RECORDS,
	TABLE_AUDIT,
	TABLE_FACTS,
	TABLE_TAKEUP,
	TABLE_N
};

enum store_vtype { SV_NULL, SV_INT, SV_TEXT, SV_BLOB };

struct store_value {
	enum store_vtype	 type;
	int64_t			 i;
	const void		*p;	/* text (NUL-ended) or blob, borrowed */
	size_t			 len;
};

#define STORE_COLS_MAX	12

struct store_table_info {
	const char	*name;
	int		 ncols;
	const char	*cols[STORE_COLS_MAX];
	const char	*order;		/* the key the rows are listed by */
};

extern const struct store_table_info store_tables[TABLE_N];

const char	*store_role_name(enum store_role);
/* ROLE_N when s is not a role. */
enum store_role	 store_role_parse(const char *s);
/* 1 when database names a PostgreSQL database rather than a file. */
int		 store_is_pg(const char *database);
/* database as it may be logged: a URI's password replaced by "***". */
void		 store_redact(const char *database, char *out, size_t len);

/*
 * database: a postgresql:// URI, or a SQLite file's path. Test builds
 * (PCMDS_FAILPOINTS) only: with PCMDS_TEST_DISK_PAGES=N in the
 * environment a SQLite database may grow by N pages more, then its disk
 * is "full" (SQLite's max_page_count), as a small file system would be.
 */
pc_rc	 store_open(const char *database, struct store **, struct err_list *);
void	 store_close(struct store *);
/* "sqlite" or "postgresql". */
const char *store_kind(const struct store *);
/* 1 when other processes may write to the same store at the same time. */
int	 store_shared(const struct store *);
/*
 * For the long-running server: SQLite's WAL checkpoints move to a thread
 * of their own instead of stalling the commit that crosses the threshold.
 */
pc_rc	 store_background_checkpoints(struct store *, struct err_list *);
/*
 * Where exports read from (export_database): NULL or "" the store
 * itself; for PostgreSQL it may name a streaming replica.
 */
pc_rc	 store_export_source(struct store *, const char *database);
/*
 * For the server's event loop: a lock held by another process (an
 * administration command) is waited for briefly, then the call fails
 * with store_fault() STORE_FAULT_BUSY, so the request is answered 503
 * instead of every request stalling behind it. (PostgreSQL: the loop
 * holds no connection while serving; a no-op.)
 */
void	 store_short_waits(struct store *);
/*
 * The page cache of a connection, in MiB (SQLite's own is 2 MiB; the
 * server sets every connection it serves from to conf cache_size): more keeps more of a large store's indexes in memory, less
 * keeps the server small. The operating system caches the file as well.
 * (PostgreSQL: its shared_buffers are the database's own; a no-op.)
 */
pc_rc	 store_cache_size(struct store *, int mib);
pc_rc	 store_begin(struct store *);
pc_rc	 store_commit(struct store *);
void	 store_rollback(struct store *);

enum store_fault {
	STORE_FAULT_FULL,	/* the disk is full */
	STORE_FAULT_READONLY,	/* the database cannot be written */
	STORE_FAULT_IO,		/* the disk failed (I/O error, corruption) */
	STORE_FAULT_BUSY,	/* another process holds the lock */
	STORE_FAULT_OTHER,
};

/*
 * After a call failed with PC_ESTORE: what the database met, as a
 * sentence naming the database file (and for a full disk, its
 * directory) into msg, for the log and administration commands. Inside
 * a transaction it is the first failure since store_begin(), still known
 * after store_rollback().
 */
enum store_fault store_fault(struct store *, char *msg, size_t len);

pc_rc	 store_meta_get(struct store *, const char *key, char *out, size_t);
pc_rc	 store_meta_set(struct store *, const char *key, const char *val);
/* PC_ENOTFOUND when there was no such key. */
pc_rc	 store_meta_del(struct store *, const char *key);

pc_rc	 store_place_put(struct store *, const struct store_place *);
pc_rc	 store_place_get(struct store *, const char *code,
	    struct store_place *);
pc_rc	 store_place_each(struct store *,
	    int (*cb)(void *, const struct store_place *), void *);

/*
 * Population denominators (pop.h): one row per place, table and category,
 * as imported; the category "total" is the table's own total.
 */
struct store_population {
	char	 place[REC_PLACE_MAX + 1];
	char	 table[16];		/* "ethnicity", "age", "sex", "imd" */
	char	 category[40];
	long	 population;		/* >= 0 */
	char	 source[200];
};

/*
 * Inside a transaction. store_population_clear() removes every row of
 * one place's table (none there is not an error); store_population_put()
 * adds a row, replacing the one with the same place, table and category.
 * store_population_each() calls cb for every row ordered by place, table
 * and category, stops when cb returns non-zero, and returns PC_ESTORE if
 * the walk failed part way (a partial walk is never PC_OK).
 */
pc_rc	 store_population_clear(struct store *, const char *place,
	    const char *table);
pc_rc	 store_population_put(struct store *, const struct store_population *);
pc_rc	 store_population_each(struct store *,
	    int (*cb)(void *, const struct store_population *), void *);

/*
 * Directories of community assets. An entry is never deleted (records
 * name it): put adds or replaces it, active; retire marks the place's
 * entries not in keep (ids, NULL-terminated) withdrawn.
 */
pc_rc	 store_asset_put(struct store *, const struct store_asset *);
pc_rc	 store_asset_retire(struct store *, const char *place,
	    const char *const *keep, size_t nkeep);
/* PC_OK when the place's directory has (or had) the id; PC_ENOTFOUND. */
pc_rc	 store_asset_known(struct store *, const char *place, const char *id);
/* The place's entries by name, active first (place NULL: every place). */
pc_rc	 store_asset_each(struct store *, const char *place,
	    int (*cb)(void *, const struct store_asset *), void *);

/* Adds u (u->id set); a link worker without a worker id gets one. */
pc_rc	 store_user_add(struct store *, struct store_user *);
pc_rc	 store_user_get(struct store *, int64_t id, struct store_user *);
pc_rc	 store_user_each(struct store *,
	    int (*cb)(void *, const struct store_user *), void *);
/* Revokes the user and every credential of theirs, at once. */
pc_rc	 store_user_revoke(struct store *, int64_t id, int64_t now);

/*
 * A user's dashboard password (passwd.h: the stored form, never the
 * password). set adds or replaces it; get fills out (PC_ENOTFOUND when
 * the user has none, or none since their last one-time code); clear
 * removes it (none there is not an error). Inside a transaction for set
 * and clear.
 */
pc_rc	 store_password_set(struct store *, int64_t user, const char *stored,
	    int64_t now);
pc_rc	 store_password_get(struct store *, int64_t user, char *out,
	    size_t len);
pc_rc	 store_password_clear(struct store *, int64_t user);

/*
 * Dashboard sign-in through an OpenID Connect provider: an identity
 * there (the provider's issuer and the subject, the ID token's sub,
 * which the provider never gives to anyone else) linked by the
 * administrator to one user. A user has at most one identity per issuer
 * and an identity one user.
 *
 * link adds or replaces the user's identity at issuer (inside a
 * transaction); PC_ECONFLICT, with nothing changed and the transaction
 * still usable, when that identity is another user's.
 * find: the user an identity is linked to, PC_ENOTFOUND when none.
 * subject: the user's subject at issuer into out, PC_ENOTFOUND when none.
 * unlink removes the user's identity at issuer (inside a transaction);
 * PC_ENOTFOUND when there was none. A revoked user's link stays (the
 * user is refused, as every credential of theirs is).
 */
pc_rc	 store_oidc_link(struct store *, int64_t user, const char *issuer,
	    const char *subject, int64_t now);
pc_rc	 store_oidc_find(struct store *, const char *issuer,
	    const char *subject, int64_t *user);
pc_rc	 store_oidc_subject(struct store *, int64_t user, const char *issuer,
	    char *out, size_t len);
pc_rc	 store_oidc_unlink(struct store *, int64_t user, const char *issuer);

/* Credentials are kept only as the SHA-256 of the secret. */
pc_rc	 store_cred_add(struct store *, const uint8_t hash[SEC_SHA256_LEN],
	    int64_t user, enum store_cred, const char *device,
	    int64_t expires, int64_t now);
/*
 * Uses up a one-time code: PC_OK with the user, PC_ENOTFOUND if no such
 * code, PC_EAUTH if it expired, was used or its user was revoked.
 */
pc_rc	 store_cred_take_code(struct store *, const uint8_t hash[SEC_SHA256_LEN],
	    int64_t now, int64_t *user);
/* A valid device token or session; PC_EAUTH when expired or revoked. */
pc_rc	 store_cred_find(struct store *, const uint8_t hash[SEC_SHA256_LEN],
	    enum store_cred, int64_t now, struct store_auth *);
pc_rc	 store_cred_revoke(struct store *, const uint8_t hash[SEC_SHA256_LEN]);

/*
 * Inside a batch's transaction, before any of its records is looked up:
 * waits until no other transaction holds any of the referrals, then
 * holds them until commit or rollback (taken in id order, so two batches
 * never wait for each other). ids are the batch's record ids, which the
 * store may read ahead in one go, with the referrals' facts
 * (store_facts_of). A no-op for a store with one writer.
 */
pc_rc	 store_batch_lock(struct store *, const char *const *referrals,
	    size_t nref, const char *const *ids, size_t nids);
/* The content hash of a stored record, PC_ENOTFOUND when absent. */
pc_rc	 store_record_hash(struct store *, const char *id,
	    char hash[SEC_HEX64_LEN]);
/*
 * The audit entry (chain, seq) the batch's commit will write. A store
 * may hold the row until commit, which then reports a failure.
 */
pc_rc	 store_record_put(struct store *, const struct rec *, int64_t user,
	    int64_t now, int64_t audit_chain, int64_t audit_seq);
/* Loads every stored record of a referral, in arrival order. */
pc_rc	 store_record_timeline(struct store *, const char *referral,
	    struct timeline *);
pc_rc	 store_record_count(struct store *, int64_t *);

/*
 * Per-referral facts for the aggregates (an opaque blob owned by agg.c),
 * with the columns exports select on. Each referral's fact has a key,
 * given by the store: 1, 2, 3... in the order referrals come (a few
 * numbers may go unused), the same for good and for every server on the
 * database, so that the aggregates find a fact again without its id.
 * put sets *key to the referral's (valid once the transaction commits);
 * each and store_facts_since() pass it with every fact.
 */
pc_rc	 store_fact_put(struct store *, const char *referral, const char *place,
	    int32_t referred_on, int exportable, const void *blob, size_t len,
	    int64_t *key);
pc_rc	 store_fact_each(struct store *,
	    int (*cb)(void *, int64_t key, const void *blob, size_t len),
	    void *);
pc_rc	 store_fact_clear(struct store *);
/*
 * The stored facts of a batch's referrals, in one go: cb with each
 * referral that has one and its blob (borrowed for the call), in no
 * particular order; cb returning non-zero stops the walk (PC_OK). Inside
 * the batch's transaction, after store_batch_lock(), which may have read
 * them ahead.
 */
pc_rc	 store_facts_of(struct store *, const char *const *referrals,
	    size_t n, int (*cb)(void *, const char *referral, const void *blob,
	    size_t len), void *);
/* Every referral id with records (to rebuild facts). */
pc_rc	 store_referral_each(struct store *,
	    int (*cb)(void *, const char *referral), void *);

/*
 * Catching up with other writers. After a commit, store_watermark()
 * gives its position ("" when the store has one writer). Facts changed
 * since the snapshot since (NULL or "": all of them) are passed to cb,
 * and upto is set to the snapshot they were read in, which is what the
 * next call passes as since. Facts last written by the commits at the
 * nskip watermarks skip (the caller's own, already in hand; NULL when
 * nskip is 0) are left out; a fact a later commit wrote again is not.
 * store_covers() says whether a snapshot includes the commit at a
 * watermark (always, with one writer); store_may_read() whether a call
 * given since could still read facts the commit at mark wrote (so that
 * skipping them still matters; never, with one writer).
 * store_wait_change() blocks until another process announces a commit
 * (this process's own are not waited for: it applied their facts at
 * commit), fd (if not -1) becomes readable, or ms pass. store_places_version()
 * gives a number that changes with every commit that changes places or
 * population denominators (0 with one writer; PC_ENOTFOUND when the
 * store cannot tell, so every catch-up reads them again).
 */
pc_rc	 store_watermark(struct store *, char mark[STORE_MARK_LEN]);
pc_rc	 store_facts_since(struct store *, const char *since,
	    const char (*skip)[STORE_MARK_LEN], size_t nskip,
	    int (*cb)(void *, int64_t key, const void *blob, size_t len),
	    void *, char upto[STORE_SNAP_LEN]);
int	 store_covers(const struct store *, const char *upto,
	    const char *mark);
int	 store_may_read(const struct store *, const char *since,
	    const char *mark);
pc_rc	 store_places_version(struct store *, int64_t *);
pc_rc	 store_wait_change(struct store *, int fd, int ms);

/*
 * A token bucket kept in the store, shared by every server on it: takes
 * a token (take 1) or looks (take 0); *wait is 0 when allowed, else the
 * seconds until a token is free. PC_EUSAGE: this store keeps none (the
 * caller keeps its own).
 */
pc_rc	 store_rate(struct store *, const char *key, double per_sec,
	    double burst, double now, int take, double *wait);

/*
 * An export: the consented, non-voided referrals of a place (or all, with
 * place NULL) referred in [from, to], on a read-only connection of its
 * own, so the export sees one consistent snapshot and ingest goes on.
 */
struct store_cursor;

/*
 * One referral of an export: the canonical texts of its stored records,
 * in the order they were admitted, each len[i] bytes and NUL-terminated.
 * All of it is the cursor's, valid until its next call.
 */
struct store_export_ref {
	char		 id[UUID_LEN];
	const char	*const *text;
	const size_t	*len;
	size_t		 n;
};

pc_rc	 store_export_open(struct store *, const char *place, int32_t from,
	    int32_t to, struct store_cursor **);
/* The next referral; PC_ENOTFOUND after the last. */
pc_rc	 store_export_next(struct store_cursor *, struct store_export_ref *);
void	 store_export_close(struct store_cursor *);

/*
 * Referrals' texts copied into one batch: a cursor's copy of the
 * referral it gives, and an export's referrals read ahead of their rows
 * (what a cursor gives is valid only until its next call, so one thread
 * reads the next referrals while another makes these ones' rows).
 *
 * Ownership: the caller provides the struct and calls store_texts_init()
 * first; from then on the batch allocates, and owns, every copy and
 * table it holds, until store_texts_free() (reset keeps the room for
 * the next referrals). What store_texts_get() points to is the batch's,
 * valid until its next add, reset or free.
 */
struct store_texts_ref {
	char		 id[UUID_LEN];
	size_t		 first, n;	/* its texts, in the batch's */
};

struct store_texts {
	struct buf		 text;	/* every text, each NUL-terminated */
	size_t			*off, *len;	/* of each text in text */
	const char		**ptr;	/* each text, by store_texts_get() */
	size_t			 ntext, textcap;
	struct store_texts_ref	*ref;
	size_t			 nref, refcap;
};

void	 store_texts_init(struct store_texts *);
void	 store_texts_free(struct store_texts *);
/* No referrals. */
void	 store_texts_reset(struct store_texts *);
/* Starts the next referral: no texts yet. */
pc_rc	 store_texts_begin(struct store_texts *, const char *referral);
/* A copy of one text of the referral last begun (none: PC_EUSAGE). */
pc_rc	 store_texts_add(struct store_texts *, const char *, size_t);
/* A copy of a whole referral, as a cursor gave it. */
pc_rc	 store_texts_copy(struct store_texts *, const struct store_export_ref *);
/* Points out at the texts of referral i (< nref), in the batch. */
pc_rc	 store_texts_get(struct store_texts *, size_t i,
	    struct store_export_ref *out);

/*
 * Take-up of community assets (takeup.h), kept beside the facts: for
 * each referral, a row per asset its support records name ("" for the
 * support recorded as free text), taken when one of them was taken up.
 * put replaces the referral's rows (n = 0: none) inside the transaction
 * that stores its fact, after it (key: what store_fact_put gave), with
 * the date it was referred on; asset strings are the caller's.
 * store_fact_clear() clears them with the facts. each calls cb with
 * every row of a place's referrals referred on [from, to], with the
 * referral's key (borrowed for the call), in no particular order; cb returning non-zero
 * stops the walk (PC_OK); a walk that failed part way is PC_ESTORE,
 * never PC_OK.
 */
struct store_takeup {
	const char	*asset;
	int		 taken;
};

pc_rc	 store_takeup_put(struct store *, const char *referral, int64_t key,
	    const char *place, int32_t referred_on, const struct store_takeup *,
	    size_t n);
/*
 * Adds rows to a referral's (the others stay), a row already there
 * taken when either is: for records added to what put stored.
 */
pc_rc	 store_takeup_add(struct store *, const char *referral, int64_t key,
	    const char *place, int32_t referred_on, const struct store_takeup *,
	    size_t n);
pc_rc	 store_takeup_each(struct store *, const char *place, int32_t from,
	    int32_t to, int (*cb)(void *, const char *referral, int64_t key,
	    const struct store_takeup *), void *);

/*
 * The last entry of this connection's audit chain (zeros when empty);
 * the chain is claimed for this connection on first use.
 */
pc_rc	 store_audit_last(struct store *, int64_t *chain, int64_t *seq,
	    uint8_t hash[SEC_SHA256_LEN]);
pc_rc	 store_audit_insert(struct store *, const struct store_audit *);
/* Every entry, chain by chain, each in order. */
pc_rc	 store_audit_each(struct store *,
	    int (*cb)(void *, const struct store_audit *), void *);
/* The last entry of every chain. */
pc_rc	 store_audit_heads(struct store *,
	    int (*cb)(void *, int64_t chain, int64_t seq,
	    const uint8_t hash[SEC_SHA256_LEN]), void *);
/*
 * The key of the audit chain (audit.c derives it from the server secret),
 * held in memory for as long as the store is open; never written.
 */
void		 store_audit_key_set(struct store *,
		    const uint8_t key[SEC_SHA256_LEN]);
const uint8_t	*store_audit_key(const struct store *);	/* NULL: none */
/*
 * Records for the audit's check: those one entry stored, those from
 * before the log was keyed, or those naming an entry that stored none
 * (chain and seq unused). A callback returning non-zero stops the walk.
 */
pc_rc	 store_record_rows(struct store *, enum store_rows, int64_t chain,
	    int64_t seq, int (*cb)(void *, const struct store_rec_row *),
	    void *);
/* One record by id; PC_ENOTFOUND when absent. */
pc_rc	 store_record_row(struct store *, const char *id,
	    int (*cb)(void *, const struct store_rec_row *), void *);

/*
 * Whole tables, for moving a deployment between stores: every row of t
 * in key order; and rows written into an empty store (inside a
 * transaction), then store_copy_end() once a table is complete.
 */
pc_rc	 store_copy_each(struct store *, enum store_table,
	    int (*cb)(void *, const struct store_value *), void *);
pc_rc	 store_copy_put(struct store *, enum store_table,
	    const struct store_value *);
pc_rc	 store_copy_end(struct store *, enum store_table);

#endif

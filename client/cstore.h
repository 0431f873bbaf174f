/*
 * cstore.h - the client's offline store (SQLite).
 *
 * Every record the link worker makes is written here first, durably
 * (WAL, synchronous=FULL), with its sync state:
 *
 *   pending      made on this device, not yet acknowledged by the server
 *   sent         the server answered stored or duplicate
 *   quarantined  the server refused it; the reason is kept beside it
 *   superseded   a quarantined record replaced by a corrected version
 *   withdrawn    a quarantined record voided before it ever reached the
 *                server
 *
 * Records are immutable and never deleted: triggers in the schema refuse
 * any DELETE and any change to a record's content, so no code path can
 * lose unsynced data. Only the sync state and its reason change.
 *
 * The records not yet acknowledged are listed in an outbox (schema 5),
 * kept by triggers; a record leaves it only when the server acknowledged
 * it (cstore_mark_sent) or refused it. SQL that reads states reads the
 * view record_states; cstore_row.state is read the same way.
 *
 * Encrypted at rest (schema 3): each record's content and the server's
 * reasons are sealed with the store's data key (AES-256-GCM, see
 * vault.h), bound to their row, table and column; so are the secrets of
 * meta (cstore_secret_*). An encrypted store opens locked: ids, kinds,
 * referral ids and sync states can be read, but nothing that needs the
 * content until cstore_key gives it the key. The plaintext a row
 * callback sees lives in buffers of that call, wiped when it returns;
 * the content of the last few rows read stays opened in the store (a
 * second read is a copy), wiped by cstore_close.
 * A plain store (schema 1 or 2, from an older pcmds) can only be
 * encrypted (cstore_encrypt).
 */
#ifndef PCMDS_CSTORE_H
#define PCMDS_CSTORE_H

#include <stdint.h>

#include "err.h"
#include "rec.h"
#include "timeline.h"
#include "vault.h"

/*
 * 1 records, 2 the directory of assets, 3 encrypted (cstore_encrypt),
 * 4 live ids indexed by their short id, 5 the outbox of unsent records
 * (a record's state is then read from the view record_states, not from
 * the records table alone)
 */
#define CSTORE_SCHEMA_VERSION	5
#define CSTORE_PLAIN_VERSION	2	/* the last before encryption */

enum cstore_state {
	CS_PENDING,
	CS_SENT,
	CS_QUARANTINED,
	CS_SUPERSEDED,
	CS_WITHDRAWN,
	CS_NSTATES
};

struct cstore;

struct cstore_row {
	int64_t		 seq;		/* device_seq */
	const char	*id;
	const char	*kind;
	const char	*referral;
	const char	*json;		/* canonical record (decrypted) */
	size_t		 json_len;
	enum cstore_state state;
	const char	*reason;	/* server's errors (JSON), or NULL */
	const char	*recorded_at;
	const char	*synced_at;	/* or NULL (always, sent since schema 5) */
};

/* Which rows cstore_each() visits, in device_seq order. */
enum cstore_filter {
	CSF_ALL,		/* every row, superseded versions included */
	CSF_LIVE,		/* the current version of every record */
	CSF_REFERRALS,		/* live referral records */
	CSF_PENDING,		/* pending, oldest first */
	CSF_QUARANTINED,	/* refused by the server */
};

/* Returns 0 to go on, non-zero to stop (returned by cstore_each). */
typedef int (*cstore_cb)(void *arg, const struct cstore_row *);

const char	*cstore_state_name(enum cstore_state);

/* Opens (creating when absent) a store: locked, when it is encrypted. */
pc_rc	 cstore_open(const char *path, struct cstore **, struct err_list *);
/* Closes it; the key it was given is wiped. */
void	 cstore_close(struct cstore *);

/* 1 when the store is encrypted (schema 3); 0 for a new or plain one. */
int	 cstore_encrypted(const struct cstore *);
/* An encrypted store's random id (VAULT_ID_LEN bytes). */
const uint8_t *cstore_id(const struct cstore *);
/*
 * Gives an encrypted store its data key (copied into the store's cipher
 * contexts), checked against the value sealed with it: PC_EAUTH when it
 * is not this store's key.
 */
pc_rc	 cstore_key(struct cstore *, const uint8_t key[VAULT_KEY_LEN],
	    struct err_list *);
/*
 * Encrypts a new or plain store under key, with store id sid: every
 * record and reason is sealed into a new table, every sealed row is
 * opened again and compared with its plain row, and only then is the
 * plain table dropped (its pages zeroed: secure_delete). Runs inside a
 * transaction (cstore_begin); the caller adds its wraps and secrets and
 * commits, so that a crash at any moment leaves the plain store or the
 * encrypted one. After a failure: roll back and close the store.
 */
pc_rc	 cstore_encrypt(struct cstore *, const uint8_t key[VAULT_KEY_LEN],
	    const uint8_t sid[VAULT_ID_LEN], struct err_list *);
/*
 * Empties the write-ahead log into the database (after an upgrade or a
 * new wrap, so no older page stays in the log file). PC_EBUSY while
 * another process reads the store.
 */
pc_rc	 cstore_scrub(struct cstore *, struct err_list *);
/* Seals val as the secret name in meta (val NULL removes it). */
pc_rc	 cstore_secret_set(struct cstore *, const char *name, const void *val,
	    size_t len, struct err_list *);
/*
 * Opens the secret name into out: the caller wipes it (vault_buf_wipe).
 * PC_ENOTFOUND when there is none.
 */
pc_rc	 cstore_secret_get(struct cstore *, const char *name, struct buf *out,
	    struct err_list *);

/* BEGIN IMMEDIATE: one writer at a time, waiting up to busy_ms. */
pc_rc	 cstore_begin(struct cstore *, struct err_list *);
/*
 * For a sync, which writes nothing but sync states: its commits need not
 * wait for the disk. A state lost to a power cut falls back to pending;
 * the record is sent again and the server answers "duplicate". Records
 * themselves are always written by connections left durable.
 */
pc_rc	 cstore_lazy_commits(struct cstore *, struct err_list *);
pc_rc	 cstore_commit(struct cstore *, struct err_list *);
void	 cstore_rollback(struct cstore *);
/* Savepoints: a unit (an import row) inside a longer transaction. */
pc_rc	 cstore_savepoint(struct cstore *, const char *name);
pc_rc	 cstore_release(struct cstore *, const char *name);
void	 cstore_rollback_to(struct cstore *, const char *name);

/* Next device_seq (inside a transaction): one more than any ever used. */
pc_rc	 cstore_next_seq(struct cstore *, int64_t *, struct err_list *);
pc_rc	 cstore_insert(struct cstore *, const struct rec *, struct err_list *);
/* 1 when a live record has this id, 0 when not, -1 on error. */
int	 cstore_has(struct cstore *, const char *id);

/*
 * Resolves a typed id to a live record: its short id (uuid.h) or any
 * unique start of it of at least 4 hex digits, its whole id, or the
 * start of an id older versions made (cstore.c says which). PC_ENOTFOUND
 * or PC_EAMBIGUOUS (naming two of the records) come with a sentence.
 */
pc_rc	 cstore_resolve(struct cstore *, const char *prefix,
	    char id[UUID_LEN], char kind[16], char referral[UUID_LEN],
	    enum cstore_state *, struct err_list *);

/* Visits the live rows of one referral, in device_seq order. */
pc_rc	 cstore_referral_each(struct cstore *, const char *referral, cstore_cb,
	    void *);
/* Loads the live records of one referral, in device_seq order. */
pc_rc	 cstore_timeline(struct cstore *, const char *referral,
	    struct timeline *, struct err_list *);
/* The row of a live record (for its state and reason). */
pc_rc	 cstore_get(struct cstore *, const char *id, cstore_cb, void *);

pc_rc	 cstore_each(struct cstore *, enum cstore_filter, cstore_cb, void *);
/*
 * Pending rows with seq > after, oldest first, at most limit; with
 * and_sent, rows already sent too (to send everything again).
 */
pc_rc	 cstore_pending(struct cstore *, int64_t after, int limit,
	    int and_sent, cstore_cb, void *);
pc_rc	 cstore_counts(struct cstore *, long counts[CS_NSTATES]);

/*
 * Marks records sent, by seq, in one statement: the common answer to a
 * sync batch (a statement per record cost more than the records). They
 * leave the outbox; their rows are not written.
 */
pc_rc	 cstore_mark_sent(struct cstore *, const int64_t *seqs, size_t n,
	    struct err_list *);
/* Sets the sync state of the live version of a record. */
pc_rc	 cstore_mark(struct cstore *, const char *id, enum cstore_state,
	    const char *reason, struct err_list *);
/*
 * Puts back to pending the quarantined records refused only because their
 * referral was unknown to the server, once that referral has been sent
 * (typically after the referral itself was corrected). Returns how many.
 */
int	 cstore_requeue_orphans(struct cstore *);
/* Marks a quarantined version superseded (a corrected one replaces it). */
pc_rc	 cstore_supersede(struct cstore *, int64_t seq, struct err_list *);

/* An entry of the place's directory of community assets. */
struct cstore_asset {
	const char	*id;
	const char	*name;
	const char	*category;	/* a codes_support code */
	const char	*contact;	/* "" when none */
	const char	*notes;
	int		 active;	/* 0: retired from the directory */
};

typedef int (*cstore_asset_cb)(void *arg, const struct cstore_asset *);

/* Replaces the whole directory (inside a transaction). */
pc_rc	 cstore_assets_replace(struct cstore *, const struct cstore_asset *,
	    size_t n, struct err_list *);
/* Visits the entry with id, or every entry (id NULL), active first. */
pc_rc	 cstore_asset_each(struct cstore *, const char *id, cstore_asset_cb,
	    void *);

/* Plain metadata (never a secret): PC_ENOTFOUND, PC_ELIMIT if too long. */
pc_rc	 cstore_meta_get(struct cstore *, const char *key, char *out,
	    size_t len);
pc_rc	 cstore_meta_set(struct cstore *, const char *key, const char *val,
	    struct err_list *);
pc_rc	 cstore_meta_del(struct cstore *, const char *key, struct err_list *);

#endif

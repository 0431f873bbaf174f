/*
 * audit.h - the append-only audit log: a keyed hash chain that commits to
 * the records it stored.
 *
 * Each entry holds time, actor, action, object and outcome, the hash of
 * the entry before it, and for a batch of records the id and content hash
 * of every record the batch stored. Its own hash is HMAC-SHA256 of all of
 * that under a key derived from the server secret (SECRET_AUDIT), which
 * is not in the database: with a copy of the database alone nobody can
 * write, change, reorder or recompute an entry that verifies. Each stored
 * record names the entry that stored it. audit_verify() walks the chain
 * and recomputes each batch's records from the records table, naming a
 * record edited, inserted or deleted since; entries removed from the end
 * are found against a head (sequence and hash) kept elsewhere: the server
 * writes the head to its log at start, at shutdown and every
 * audit_head_minutes.
 *
 * Several writers (PostgreSQL) keep one chain each: every store
 * connection claims a chain of its own (store.h), entries are numbered
 * 1, 2, ... within it, and a chain's entries other than those of chain 0
 * hash their chain number too. Verifying walks every chain; a head names
 * its chain ("CHAIN/SEQ:HEX"; chain 0 is written "SEQ:HEX" as before).
 *
 * A database from before the keyed chain (schema 2) keeps its SHA-256
 * chain, verified as it is up to the seal: the first keyed entry, written
 * when such a database is first opened with the secret, names the last
 * unkeyed entry and commits to every record stored until then. From the
 * seal on, everything is keyed.
 */
#ifndef PCMDS_AUDIT_H
#define PCMDS_AUDIT_H

#include <stdint.h>

#include "buf.h"
#include "secret.h"
#include "store.h"

/* One stored record in a batch entry: its 36-character id, its SHA-256. */
#define AUDIT_REC_LEN	(UUID_LEN - 1 + SEC_SHA256_LEN)
#define AUDIT_HEAD_LEN	(48 + SEC_HEX64_LEN)	/* "CHAIN/SEQ:HEX" */

struct audit_report {
	int64_t		 entries;	/* entries checked */
	int64_t		 unkeyed;	/* of them, before the seal */
	int64_t		 sealed_at;	/* the seal's sequence, 0 none */
	int64_t		 chains;	/* chains walked */
	int64_t		 records;	/* stored records checked */
	int64_t		 bad_chain;	/* first broken entry... */
	int64_t		 bad_seq;	/* ...bad_seq 0 when whole */
	struct err_list	 problems;	/* what was found, one sentence each */
	struct buf	 heads;		/* each whole chain's head, by spaces */
};

/*
 * Takes the chain's key from the secret for this store, and seals the
 * unkeyed log of an upgraded database (at most once). Before any
 * audit_log(): without a key nothing is written.
 */
pc_rc	 audit_open(struct store *, const struct secret *, struct err_list *);
/*
 * The entry's hash: HMAC-SHA256 under key, or with key NULL the SHA-256
 * that databases before the keyed chain used. Not PC_OK (memory): out
 * holds nothing to use, never a hash over part of the entry.
 */
pc_rc	 audit_hash(const struct store_audit *, const uint8_t *key,
	    uint8_t out[SEC_SHA256_LEN]);
/* Appends an entry; must run inside a store transaction. */
pc_rc	 audit_log(struct store *, int64_t now, const char *actor,
	    const char *action, const char *object, const char *outcome);
/*
 * A batch's entry, which must become entry seq (the one its records
 * name); recs holds n AUDIT_REC_LEN items, sorted here by id.
 */
pc_rc	 audit_log_batch(struct store *, int64_t now, int64_t chain,
	    int64_t seq, const char *actor, const char *object,
	    const char *outcome, uint8_t *recs, size_t n);
/* audit_log in a transaction of its own. */
pc_rc	 audit_log_now(struct store *, const char *actor, const char *action,
	    const char *object, const char *outcome);
/* A head as text: "SEQ:HEX" in chain 0, else "CHAIN/SEQ:HEX". */
void	 audit_head_text(int64_t chain, int64_t seq,
	    const uint8_t hash[SEC_SHA256_LEN], char out[AUDIT_HEAD_LEN]);
/* Each chain's last entry as text, for the server's log. */
pc_rc	 audit_heads(struct store *, void (*cb)(void *, const char *head),
	    void *);
/*
 * Verifies every chain, every batch's records, and each head given (as
 * audit_head_text wrote it, recorded earlier). PC_OK when all holds;
 * PC_EINVAL with the problems in r; PC_EUSAGE for a malformed head;
 * others: unreadable.
 */
pc_rc	 audit_verify(struct store *, const char *const *heads, size_t nheads,
	    struct audit_report *r);
void	 audit_report_free(struct audit_report *);

#endif

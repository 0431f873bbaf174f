/*
 * recipient.h - identifiers re-keyed for one recipient of record-level data.
 *
 * A record-level output never carries an identifier as stored: the
 * person pseudonym a device made (HMAC of the NHS number under the
 * deployment key), record and referral ids, worker ids and device
 * sequence numbers would let anyone holding the deployment key, or two
 * recipients together, join what they received. Each recipient (a user)
 * has a key of their own, HMAC-SHA256(K, "user ID") with K derived from
 * the server secret (SECRET_RECIPIENT), and every identifier becomes
 * HMAC-SHA256(recipient key, kind and value). So one recipient's outputs
 * join with each other over time; another's share no identifier with
 * them; and without the server secret, which is not in the database,
 * nobody can relate either to the stored values.
 *
 * A recipient is one caller's at a time: it holds the keyed hash, and
 * the few identifiers last asked for with what they became (an export
 * names a referral and its workers again and again, each record's own
 * id once), so the functions below change it.
 */
#ifndef PCMDS_RECIPIENT_H
#define PCMDS_RECIPIENT_H

#include <stdint.h>

#include "rec.h"
#include "secret.h"

#define RECIP_WORKER_LEN	18	/* "w" + 16 hex digits + NUL */

#define RECIP_MEMO		8	/* identifiers remembered */
#define RECIP_MEMO_LEN		80	/* the longest remembered (with NUL) */

struct recip_memo {
	char	 msg[RECIP_MEMO_LEN];	/* what was hashed; "" unused */
	size_t	 len;			/* its length */
	uint8_t	 h[SEC_SHA256_LEN];
	unsigned long used;		/* when last asked for */
};

struct recipient {
	struct sec_hmac		*mac;	/* owned: under the recipient's key */
	struct recip_memo	 memo[RECIP_MEMO];
	unsigned long		 clock;	/* counts the memo's uses */
	int			 failed;	/* a hash failed: stays set */
};

/* Until recip_wipe(), which frees and clears what recip_init() made. */
pc_rc	 recip_init(struct recipient *, const struct secret *, int64_t user);
void	 recip_wipe(struct recipient *);
/* A person pseudonym: 64 hex digits, as stored ones are. */
void	 recip_person(struct recipient *, const char *person,
	    char out[SEC_HEX64_LEN]);
/* A record or referral id (one space: a referral is a record): a UUID. */
void	 recip_id(struct recipient *, const char *id, char out[UUID_LEN]);
/* A link worker id. */
void	 recip_worker(struct recipient *, const char *worker,
	    char out[RECIP_WORKER_LEN]);
/* A device sequence number of a worker's device: a whole number >= 1. */
int64_t	 recip_seq(struct recipient *, const char *worker, int64_t seq);

#endif

/*
 * ingest.h - one batch of records from a link worker's device.
 *
 * Each record is validated by common/ (the same validator the client
 * ran), checked against the token's worker and place, looked up by id
 * for idempotency (same id and content: duplicate; same id, other
 * content: conflict, the stored record untouched), and checked against
 * its referral's records (stored, or earlier in the same batch). A
 * contact, support, assessment or closure of a referral stored before is
 * checked against the referral's stored fact instead (agg_step_add: the
 * facts of a batch's referrals are read in one go), which it then
 * updates, so its records are not read; when that cannot tell, or for a
 * correction, the records are read and decide, as for any other. The
 * accepted ones and an audit entry listing them with their content hashes
 * (each record naming that entry) are committed in one transaction before
 * the caller answers: acknowledged means durable. A correction that
 * changes a referral's consent to evaluation gets an audit entry of its
 * own. On a store several servers share, the batch first locks its
 * referrals (store_batch_lock), so the checks see every record committed
 * before, whichever server took it; the answer then carries the commit's
 * watermark.
 */
#ifndef PCMDS_INGEST_H
#define PCMDS_INGEST_H

#include <cjson/cJSON.h>

#include "agg.h"
#include "jarena.h"
#include "jfast.h"
#include "jsplit.h"
#include "map.h"
#include "metrics.h"
#include "store.h"

/* The shares a batch's checks are cut into: the caller and three workers. */
#define INGEST_SHARES_MAX	4

struct ingest_item {
	char			 id[UUID_LEN];	/* "" when the record has none */
	enum metrics_result	 status;
	struct err_list		 errs;
	cJSON			*json;	/* taken from the batch, until checked */
	const char		*text;	/* or its text, the caller's, unparsed */
	size_t			 text_len;
	int			 not_json;	/* the text did not parse */
	int			 fast;	/* json is jfast_parse()'s of text */
	struct jfast_info	 seen;	/* what that parse saw */
	struct rec		*rec;	/* valid, until stored or dropped */
	pc_rc			 checked;	/* what rec_adopt said */
	uint8_t			 digest[SEC_SHA256_LEN];	/* when stored */
	/* a correction of consent_evaluation: from, to (else -2), whose */
	int			 consent_from, consent_to;
	char			 consent_ref[UUID_LEN];
};

struct ingest {
	struct ingest_item	*v;
	size_t			 n;
	long			 count[MR_N];
	int64_t			 audit_chain;	/* the batch's audit entry */
	int64_t			 audit_seq;
	char			 mark[STORE_MARK_LEN];	/* the commit's watermark */
	int			 not_json;	/* a record's text: nothing begun */
	/* referral id -> struct timeline *, the referrals touched whose
	   records the checks read */
	struct map		 timelines;
	/* referral id -> struct agg_step *, referrals stored before the
	   batch, checked against their stored facts (off: no longer) */
	struct map		 steps;
	/* the trees of the records parsed from text, a share's in each
	   (jarena.h): freed last, after every record and timeline */
	struct jarena		 arenas[INGEST_SHARES_MAX];
};

/*
 * The threads that share out a large batch's checks: started once with
 * the server (one fewer than the cores, at most three; returns how many),
 * stopped and joined at its end. Without them ingest_run checks every
 * record in the calling thread.
 */
int	 ingest_workers_start(void);
void	 ingest_workers_stop(void);

void	 ingest_init(struct ingest *);
void	 ingest_free(struct ingest *);
/* Runs inside the batch's transaction, after the records, before commit. */
typedef pc_rc (*ingest_hook)(void *arg, struct store *, struct ingest *);

/*
 * Processes records (a JSON array) for who, committing what is stored.
 * The records are taken out of the array as they are processed (it is
 * left empty or, after a failure, holding those not reached).
 * PC_ESTORE: nothing was committed (the whole request may be retried).
 */
pc_rc	 ingest_run(struct ingest *, struct store *, const struct store_auth *who,
	    cJSON *records, const struct rec_opts *, int64_t now,
	    ingest_hook, void *hook_arg);
/*
 * ingest_run on the records' texts (jsplit_records()), each parsed
 * where it is checked. When one is not JSON, nothing is begun: PC_EUSAGE
 * and not_json set.
 */
pc_rc	 ingest_run_text(struct ingest *, struct store *,
	    const struct store_auth *who, const struct jsplit_span *, size_t n,
	    const struct rec_opts *, int64_t now, ingest_hook, void *hook_arg);
/*
 * The two halves of ingest_run (and ingest_run_text): the checks that
 * need nothing but the records, with no store (so they may overlap
 * another batch's transaction), then, once they said PC_OK, the rest in
 * the batch's transaction.
 */
pc_rc	 ingest_check(struct ingest *, cJSON *records, const struct rec_opts *);
pc_rc	 ingest_check_text(struct ingest *, const struct jsplit_span *,
	    size_t n, const struct rec_opts *);
pc_rc	 ingest_store(struct ingest *, struct store *,
	    const struct store_auth *who, const struct rec_opts *, int64_t now,
	    ingest_hook, void *hook_arg);
/*
 * {"results": [{"index", "id", "status", "errors"}...], "summary",
 * "watermark" (when the store has several writers)}
 */
pc_rc	 ingest_answer(const struct ingest *, struct buf *);

#endif

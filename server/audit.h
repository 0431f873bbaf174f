/*
 * audit.h - the append-only, hash-chained audit log.
 *
 * Each entry holds time, actor, action, object and outcome, and the
 * SHA-256 of the previous entry; its own hash covers all of that. Changing,
 * removing or reordering any entry breaks the chain from there on, which
 * audit_verify() finds offline (pcmdsd audit verify).
 */
#ifndef PCMDS_AUDIT_H
#define PCMDS_AUDIT_H

#include <stdint.h>

#include "store.h"

struct audit_report {
	int64_t	 entries;	/* entries checked */
	int64_t	 bad_seq;	/* first broken entry, 0 when intact */
	char	 why[256];
	char	 head[SEC_HEX64_LEN];	/* hash of the last entry */
};

void	 audit_hash(const struct store_audit *, uint8_t out[SEC_SHA256_LEN]);
/* Appends an entry; must run inside a store transaction. */
pc_rc	 audit_log(struct store *, int64_t now, const char *actor,
	    const char *action, const char *object, const char *outcome);
/* The same in a transaction of its own. */
pc_rc	 audit_log_now(struct store *, const char *actor, const char *action,
	    const char *object, const char *outcome);
/* PC_OK when the chain is whole; PC_EINVAL with the first break. */
pc_rc	 audit_verify(struct store *, struct audit_report *);

#endif

/*
 * correct.h - correcting or voiding a record (pcmds correct, the app).
 */
#ifndef PCMDS_CORRECT_H
#define PCMDS_CORRECT_H

#include "client.h"

struct correct_target {
	char			 id[UUID_LEN];
	char			 kind[16];
	char			 referral[UUID_LEN];
	enum cstore_state	 state;
};

/* The live record a short id (or a full one) names. */
pc_rc	 correct_resolve(struct ctx *, const char *prefix,
	    struct correct_target *, struct err_list *);
/* The target's content, corrections applied (a copy to free), or NULL. */
cJSON	*correct_current(struct ctx *, const struct correct_target *,
	    struct err_list *);
/* A field of the target's kind that a correction may set. */
int	 correct_field_ok(const struct field *);
/*
 * Corrects t with pairs ("field=value", typed as at the prompts; "field="
 * removes an optional field; nhs_number=N for a referral), or voids it
 * (isvoid, with reason), in a transaction of its own. out_id is the
 * correction's id (or the replacing version's, for a quarantined record).
 */
pc_rc	 correct_record(struct ctx *, const struct correct_target *,
	    const char *const *pairs, int n, int isvoid, const char *reason,
	    char out_id[UUID_LEN], struct err_list *);

#endif

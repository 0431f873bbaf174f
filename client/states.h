/*
 * states.h - the sync state of each record of one referral, with the
 * server's reasons for those it refused: for pcmds show and list, and the
 * app's timeline.
 */
#ifndef PCMDS_STATES_H
#define PCMDS_STATES_H

#include <stddef.h>

#include "cstore.h"

struct states {
	struct {
		char			 id[UUID_LEN];
		enum cstore_state	 state;
		char			*reason;	/* owned, or NULL */
	}	*v;
	size_t	 n, cap;
	int	 nomem;		/* a row could not be kept */
};

/*
 * Adds the live rows of referral to s (start zeroed). Not PC_OK: s is
 * not the whole referral and must not be shown as if it were.
 */
pc_rc	 states_load(struct cstore *, const char *referral, struct states *);
/* The index of id in s; 0 when it is not there. */
size_t	 states_find(const struct states *, const char *id);
void	 states_free(struct states *);

#endif

/*
 * states.c - a referral's records' sync states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "states.h"

static int
collect_state(void *arg, const struct cstore_row *row)
{
	struct states *s = arg;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		void *nv = realloc(s->v, ncap * sizeof(*s->v));

		if (nv == NULL) {
			s->nomem = 1;
			return 1;
		}
		s->v = nv;
		s->cap = ncap;
	}
	snprintf(s->v[s->n].id, UUID_LEN, "%s", row->id);
	s->v[s->n].state = row->state;
	s->v[s->n].reason = NULL;
	if (row->reason != NULL &&
	    (s->v[s->n].reason = strdup(row->reason)) == NULL) {
		s->nomem = 1;
		return 1;
	}
	s->n++;
	return 0;
}

pc_rc
states_load(struct cstore *cs, const char *referral, struct states *s)
{
	pc_rc rc = cstore_referral_each(cs, referral, collect_state, s);

	return rc == PC_OK && s->nomem ? PC_ENOMEM : rc;
}

void
states_free(struct states *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].reason);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

size_t
states_find(const struct states *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return i;
	return 0;
}

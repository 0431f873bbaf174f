/*
 * answer.h - the server's answer to a batch of records, read in one pass
 * when it is the common one: every record stored or a duplicate, in the
 * layout the server writes (server/ingest.c: ingest_answer). Any other
 * answer (a record refused, with its errors; another layout) is left to
 * the full parser, which reads everything.
 */
#ifndef PCMDS_ANSWER_H
#define PCMDS_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "uuid.h"

/* What a plain answer says of a batch. */
struct answer_plain {
	int64_t	*sent;		/* the caller's: room for n; seqs stored or
				   duplicate, in the batch's order */
	size_t	 nsent;
	long	 stored, duplicate;
};

/*
 * 1 when [p, p + len) is a plain answer to the n records whose ids and
 * seqs are ids and seqs: result i has index i and id ids[i], and says
 * stored or duplicate. a is then filled; on 0 it holds nothing (nsent,
 * stored and duplicate are 0) and the caller parses the text in full.
 */
int	 answer_plain(const char *p, size_t len, const char (*ids)[UUID_LEN],
	    const int64_t *seqs, int n, struct answer_plain *a);

#endif

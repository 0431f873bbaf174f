/*
 * ingest.h - ingest as devices do it, shared by the sections that
 * ingest the same caseload into a store (ingest.c on SQLite, pg.c on
 * PostgreSQL): the requests of an order of arrival, made before
 * anything is timed, and sending them with the client's request code.
 */
#ifndef PCMDS_BENCH_INGEST_H
#define PCMDS_BENCH_INGEST_H

#include <stddef.h>

#include "bench.h"
#include "buf.h"
#include "caseload.h"

/* Every request of an order (ingest_load_make owns it all). */
struct ingest_load {
	struct buf	*gz;		/* each batch's body, gzipped */
	const char	**ids;		/* ids of the records, as sent (the
					   caseload's own strings) */
	size_t		 n;		/* records */
	size_t		 nb;		/* batches */
	size_t		 raw;		/* bytes before gzip */
};

/*
 * The bodies o's batches make for srv's link workers, each record in
 * canonical form as the client stores it (checked: rec_parse gives back
 * the very text), gzipped as the client gzips a batch.
 */
void	 ingest_load_make(const struct caseload *, const struct cl_order *o,
	    const struct bench_srv *srv, struct ingest_load *);
void	 ingest_load_free(struct ingest_load *);

/* What sending measured. */
struct ingest_sent {
	size_t	 n;		/* records sent */
	double	 secs;		/* wall time of all requests */
	double	 rate;		/* records/s */
	double	 usr, sys;	/* the servers' CPU, us a record */
	double	 p50, p99;	/* ms a batch */
};

/*
 * Sends batches [0, nb) of o (nb <= o->nb), those of device d to server
 * srv[d % nsrv] on a connection of d's own, as its client keeps one; each
 * device on a thread of its own, its batches in order, all at once. Every
 * answer is checked once the clock has stopped: each record "stored",
 * none duplicate, conflict or rejected. CPU is the servers' together.
 */
void	 ingest_send(struct bench_srv *srv, int nsrv, const struct cl_order *o,
	    size_t nb, const struct ingest_load *, struct ingest_sent *);
/*
 * The check is itself tried: batch 0 sent again is all duplicates, and
 * the check must refuse its answer.
 */
void	 ingest_check_the_check(struct bench_srv *, const struct cl_order *,
	    const struct ingest_load *);

#endif

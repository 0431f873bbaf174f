/*
 * pglimit.h - the limit PostgreSQL ingest is judged against: bare
 * PostgreSQL doing only the writes the servers did, on the very rows
 * they stored (as limit.h is for SQLite).
 *
 * After a run the database says what ingest stored and in which commit:
 * every record names its batch's audit entry (chain, seq). pglimit_load()
 * reads those rows back with COPY ... TO STDOUT before any timing, so
 * they are replayed byte for byte: each batch's records, the referrals
 * it made, its audit entries and the facts of the referrals it touched.
 * pglimit_insert() writes them into a fresh database with the servers'
 * schema (pg_dump --schema-only of theirs: tables, indexes, triggers),
 * one transaction a batch, as durably (synchronous_commit on, and fsync
 * as the cluster has it): COPY for records, referrals and audit entries,
 * one multi-row upsert for the facts as the server writes them; every
 * result checked, and the rows counted at the end.
 */
#ifndef PCMDS_BENCH_PGLIMIT_H
#define PCMDS_BENCH_PGLIMIT_H

#include <stddef.h>

struct pglimit;

/* The rows in the database at uri (a postgresql:// URI). */
struct pglimit	*pglimit_load(const char *uri);
void		 pglimit_free(struct pglimit *);
/* Records, batches, facts written (one a batch touching it), audit rows. */
void		 pglimit_counts(const struct pglimit *, size_t *records,
		    size_t *batches, size_t *facts, size_t *audit);
/* The schema of database from (pg_dump --schema-only) into database to. */
void		 pglimit_schema(const char *from, const char *to);
/*
 * Seconds to write them all into database to (empty, with the servers'
 * schema) by clients sessions at once, the batches of a place on client
 * (its index in bench_places) % clients; *cpu the CPU seconds this
 * process took (PostgreSQL's is its own).
 */
double		 pglimit_insert(const struct pglimit *, const char *to,
		    int clients, double *cpu);

#endif

/*
 * limit.h - the limits ingest and export are judged against: bare SQLite
 * doing only the writes (or reads) the server does, on the very rows it
 * stored.
 *
 * After a run, the server's database says exactly what ingest stored and
 * where each commit fell: every record names the audit entry of its
 * batch. limit_load() reads those rows back, before any timing: the
 * schema (as sqlite_master has it: tables, indexes, triggers), each
 * batch's records, its audit entries and the facts of the referrals it
 * touched. limit_insert() then replays them into a fresh database opened
 * as the server opens its own (WAL, synchronous=FULL, the same cache,
 * checkpoints on a thread of their own), with the server's statements,
 * one transaction per batch, every step checked.
 */
#ifndef PCMDS_BENCH_LIMIT_H
#define PCMDS_BENCH_LIMIT_H

#include <stddef.h>

struct limit;

/* The rows in the server database db (which may be in use). */
struct limit	*limit_load(const char *db);
void		 limit_free(struct limit *);
/* Records, batches, facts and audit rows it holds. */
void		 limit_counts(const struct limit *, size_t *records,
		    size_t *batches, size_t *facts, size_t *audit);
/*
 * Seconds to insert them all into a new database under dir; *cpu the
 * CPU seconds it took (user and system, checkpoints included).
 */
double		 limit_insert(const struct limit *, const char *dir,
		    double *cpu);
/*
 * Seconds to read what an export of place's consented referrals (every
 * place's with place NULL) reads, with the store's own statements, from
 * db; *rows records read.
 */
double		 limit_export_read(const char *db, const char *place,
		    long *rows);

#endif

/*
 * bench.h - what the sections of make bench share.
 *
 * make bench runs sections (the table in bench.c), each a function that
 * measures one thing for real on loopback and writes its rows with
 * bench_row() and what they include with bench_note(). A new section is
 * a function and a line in that table; these helpers time, read a
 * process's CPU and memory, start servers with their users, speak HTTPS
 * as the client does and check what the server answered.
 */
#ifndef PCMDS_BENCH_H
#define PCMDS_BENCH_H

#include <sys/resource.h>
#include <sys/types.h>

#include <stddef.h>

#include "buf.h"
#include "harness.h"

/* The sizes and switches of this run (bench.c sets them from argv). */
struct bench_opts {
	int	 quick;		/* --quick: small sizes (make check) */
	long	 ingest_refs;	/* --ingest-referrals: the ingest comparison */
	long	 refs;		/* --referrals: the store queries run on */
	long	 sync_recs;	/* --sync-records: pcmds sync */
	long	 pg_refs;	/* --pg-referrals: the PostgreSQL section */
	int	 runs;		/* timed repetitions of a query */
};
extern struct bench_opts bench;

#define BENCH_PLACES	7
#define BENCH_BATCH	500	/* records a request: the ingest sections' */
#define BENCH_SYNC_BATCH 2000	/* pcmds sync's default (client/sync.c) */
#define BENCH_SEED	42	/* the caseload's seed: the same each run */
extern const char *const bench_places[BENCH_PLACES];

/* -- the report ------------------------------------------------------- */

/* A row of the table: what, measured, its limit or target, the ratio. */
void	 bench_row(const char *what, const char *measured, const char *limit,
	    const char *ratio);
/* printf into one of a few rotating static buffers, for bench_row(). */
const char *bench_fmt(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* "0.53 of the limit": measured over limit, both in the same units. */
const char *bench_ratio(double measured, double limit);
/* A paragraph after the table: what the rows include, how they were made. */
void	 bench_note(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Progress on stderr while a long section runs (not in the report). */
void	 bench_say(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* -- measuring ---------------------------------------------------------- */

/*
 * Starts path with argv, stdout to out (NULL: nowhere) and stderr
 * nowhere, by posix_spawn: the child never holds a copy of the
 * benchmark's memory, whose peak a forked child's ru_maxrss would keep
 * across exec and report as the program's own.
 */
pid_t	 bench_spawn(const char *path, const char *const argv[],
	    const char *out);
/*
 * Waits for pid, its status, CPU time and, read from /proc every few
 * milliseconds as it runs, its peak resident set (VmHWM, KiB): ru_maxrss
 * would also count the memory of whatever process it was started from.
 */
void	 bench_wait(pid_t, int *status, struct rusage *, long *peak_kb);
/* CPU seconds a process has used so far: user, and system in *sys. */
double	 bench_cpu(pid_t, double *sys);
/* Resets the peak resident set (VmHWM) so the next reading starts now. */
void	 bench_peak_reset(pid_t);
/* A /proc/PID/status field ("VmRSS:", "VmHWM:") in MiB. */
double	 bench_mib(pid_t, const char *field);
/* The p-th percentile of v (sorts v). */
double	 bench_pct(double *v, size_t n, double p);

/* -- servers -------------------------------------------------------------- */

/* A running pcmdsd with a link worker per place, a place lead, an evaluator. */
struct bench_srv {
	struct th_server	 s;
	char			 db[700];	/* its SQLite database */
	char			 token[BENCH_PLACES][64];
	char			 worker[BENCH_PLACES][32];
	char			 lead[64];	/* place lead of NH */
	char			 evaluator[64];
};

/* A fresh server (limits opened up for the benchmark) with its users. */
void	 bench_srv_start(struct bench_srv *);
void	 bench_srv_stop(struct bench_srv *);
/* One more link worker of place p (an index of bench_places). */
void	 bench_srv_worker(struct bench_srv *, int p, char token[64],
	    char worker[32]);
/* The deployment key's fingerprint every benchmark device sends. */
extern char bench_keyid[32];
/* Writes that key as a device's key file (pcmds setup --key-file). */
void	 bench_key_file(const char *path);

/*
 * GET path runs times with token; p50 and p99 in ms, the last answer's
 * size. Every answer must be 200; the first is kept in *first (caller
 * frees with buf_free) unless first is NULL.
 */
void	 bench_get(struct bench_srv *, const char *token, const char *path,
	    int runs, double *p50, double *p99, size_t *bytes, struct buf *first);

/*
 * Checks an answer to POST /v1/records, parsed: n results, result i for
 * ids[i], each "stored", the summary saying n stored and none duplicate,
 * conflict or rejected. 0, or -1 with why (the first problem found).
 */
int	 bench_all_stored(const char *answer, size_t len,
	    const char *const *ids, size_t n, char *why, size_t whylen);

/* -- the sections (one file each) ----------------------------------------- */

void	 bench_ingest(void);		/* ingest.c */
void	 bench_sync(void);		/* client.c */
void	 bench_commands(void);		/* client.c */
void	 bench_vault(void);		/* vault.c */
void	 bench_queries(void);		/* store.c */
void	 bench_export(void);		/* store.c */
void	 bench_concurrency(void);	/* store.c */
void	 bench_pg(void);		/* pg.c */
/* Stops the store the queries ran on, if one was built (store.c). */
void	 bench_store_done(void);

#endif

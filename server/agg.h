/*
 * agg.h - impact per place, kept current on ingest.
 *
 * Every referral is summarised as one small "fact" (who was referred,
 * when, by whom, what happened, the ONS4 pair) computed from its records
 * with corrections applied (common/timeline.c). Facts are stored beside
 * the records, in the same transaction, and held in memory per place as
 * packed query-ready copies of 34 bytes (codes as they are, people
 * numbered densely), found again by the store's dense number for their
 * referral (its key) through an array of 3 bytes a key (up to 16
 * million facts), and as sums
 * per place and calendar month of every count but people, kept in step
 * as facts come, change and go; for each dimension a query has broken
 * figures down by, also each group's sums per place and month of what a
 * breakdown shows and the person numbers of its referrals (made on the
 * first such query, then kept in step). A query adds up the whole months
 * it covers from those sums; one by group takes the distinct people of
 * those months from the numbers kept with its groups' sums, and reads
 * only the referrals of any month it covers in part; any other makes one
 * sequential pass over the place's referrals for its distinct people and
 * any month it covers in part. Additive counters (sums, sums of
 * squares, histograms of whole-number differences) give means, SDs,
 * medians and the Wilcoxon test without keeping raw values; distinct
 * people are counted with a bitmap over the dense numbers.
 *
 * Beside every count, its cell key: the sum of the record keys of the
 * people it counts (ckm.h), once per record counted. Keys are sums like
 * the counts, so they are as current as the counts after each ingest and
 * add up across places; disclosure control turns (count, key) into the
 * published figure. Record keys are worked out in memory from the server
 * secret when a person is first seen, and never stored.
 *
 * Stored facts are tagged fields (tag, length, value; codes by name, not
 * by their place in a list), so that pcmdsd versions side by side on one
 * database read each other's: a reader skips the tags it does not know,
 * and works a fact out again from its records when it lacks one it
 * needs. A tag never changes meaning (a new meaning is a new tag), and
 * only a newer version writes over an older one's fact, so two versions
 * never undo each other. The aggregates are shared by the server's
 * threads: queries read under agg_read_begin(), changes take the lock
 * for writing themselves.
 */
#ifndef PCMDS_AGG_H
#define PCMDS_AGG_H

#include <pthread.h>
#include <stdint.h>

#include "buf.h"
#include "codes.h"
#include "map.h"
#include "ons4.h"
#include "store.h"
#include "timeline.h"

#define FACT_VERSION	5	/* bump when a fact gains a tag */
#define AGG_DAYS	366	/* days to first contact: 0..365, 365 = "365+" */
#define AGG_CONTACTS	101	/* contacts per closed referral: 0..100+ */

/* Flag answers as kept in facts. */
enum { FLAG_NOT_KNOWN, FLAG_YES, FLAG_NO, FLAG_N };

struct fact {
	char		 id[UUID_LEN];
	/* the store's number for the referral (store_fact_put), by which
	   the aggregates find its fact; not part of the stored fact */
	int64_t		 key;
	char		 place[REC_PLACE_MAX + 1];
	uint64_t	 person;	/* first 64 bits of the pseudonym */
	int32_t		 referred_on;
	int32_t		 closed_on;	/* -1 open */
	int32_t		 first_contact;	/* -1 none attended */
	uint32_t	 reasons;	/* bit per codes_reason */
	uint32_t	 support_offered, support_taken;
	uint16_t	 contacts, attended;
	uint8_t		 source, service, age, gender, ethnicity;
	uint8_t		 imd_decile;	/* 0 not recorded */
	uint8_t		 close_reason;	/* 255 open */
	uint8_t		 flags[4];	/* carer, ld, autism, homeless */
	uint8_t		 consent, voided, has_pair;
	int8_t		 base[ONS4_N], follow[ONS4_N];
	char		 pcn[8];	/* the referral's PCN; "" none */
	/* what ingest checks a next record by and steps (agg_step_add) */
	uint16_t	 records, closures;
	int32_t		 last_on;
	uint8_t		 has_baseline, has_latest;
	struct tl_assess baseline, latest;
};

/* Ways to break figures down (group_by). */
enum agg_dim {
	DIM_NONE,
	DIM_SOURCE,
	DIM_REASON,
	DIM_SERVICE,
	DIM_ETHNIC_GROUP,
	DIM_IMD_QUINTILE,
	DIM_AGE_BAND,
	DIM_GENDER,
	DIM_CARER,
	DIM_LEARNING_DISABILITY,
	DIM_AUTISM,
	DIM_HOMELESS,
	/* the groups population denominators exist for (pop.h) */
	DIM_ETHNICITY,		/* the 16 categories, Z and 99 */
	DIM_IMD_DECILE,
	DIM_AGE_BAND_CENSUS,	/* Census 2021's bands: under 15, 15-24... */
	DIM_N
};

struct agg_dim_info {
	const char		*name;		/* group_by value */
	const char		*title;
	const struct codelist	*codes;		/* group values */
};

extern const struct agg_dim_info agg_dims[DIM_N];
extern const struct codelist agg_flag_codes;
/* DIM_N when name is not a dimension. */
enum agg_dim	 agg_dim_parse(const char *name);

/* Paired ONS4 change of one measure, as additive counters. */
struct agg_ons4 {
	long	 n;
	long	 sum_base, sum_follow;
	long	 sum_d, sum_d2;		/* d = follow - base */
	long	 hist_d[21];		/* d + 10 */
	long	 improved;		/* at least one point the good way */
	long	 worst_base;		/* in the worst band at baseline */
	long	 left_worst;		/* ...and out of it at follow-up */
};

/* The cell key sums of the counts of a cell, field for field. */
struct agg_keys {
	long		 referrals, people, consented, closed;
	long		 closed_by[8];
	long		 contacts, attended;	/* each contact carries its key */
	long		 days_n;
	long		 offered[18], taken[18];
	long		 by[DIM_N][18];
	long		 pairs;			/* also each measure's n */
	long		 improved[ONS4_N], worst_base[ONS4_N];
	long		 left_worst[ONS4_N];
};

/* Everything counted for one group of referrals. */
struct agg_cell {
	long		 referrals;
	long		 people;
	long		 consented;
	long		 closed;
	long		 closed_by[8];		/* codes_closure */
	long		 contacts, attended;
	long		 days_hist[AGG_DAYS];	/* referral -> first contact */
	long		 days_n;
	long		 closed_contacts[AGG_CONTACTS];	/* attended, closed */
	long		 offered[18], taken[18];	/* codes_support */
	long		 by[DIM_N][18];		/* breakdowns, by dimension */
	long		 pairs;
	struct agg_ons4	 ons4[ONS4_N];
	struct agg_keys	 key;
};

struct agg_query {
	int		 place;		/* index into places; -1 all places */
	int32_t		 from, to;	/* referred_on, inclusive */
	enum agg_dim	 group_by;
};

struct agg_result {
	struct agg_cell	 total;
	int		 ngroups;	/* codes of the dimension */
	/* one per group value; only referrals, people, consented, closed_by
	   and the ONS4 pairs are counted in them (what a breakdown shows) */
	struct agg_cell	*groups;
	long		 population;	/* of the place(s) */
};

struct ckm_keyer;
struct pop;
struct chunk;		/* facts as queries read them, of one place (agg.c) */
struct persons;		/* person key -> dense number (agg.c) */
struct gsum;		/* a group's sums of one month (agg.c) */
struct mcell;		/* a place's sums of one month (agg.c) */
struct workq;		/* threads sharing queries' passes (workq.h) */

#define AGG_WORKERS_MAX	3	/* besides the caller */
#define AGG_KEYS_SLACK	1024	/* keys' room past a start's last */

struct agg_place {
	struct store_place	 p;
	uint32_t		*chunks;	/* its chunks, in arrival order */
	size_t			 nchunks, capchunks;
	struct mcell		**month;	/* sums by month (agg.c) */
	int			 month_lost;	/* 1: out of memory for them */
	/* each group's sums by month, of the dimensions in agg gdims */
	struct gsum		**gmonth[DIM_N];
};

struct agg {
	pthread_rwlock_t	 lock;
	struct agg_place	*places;
	size_t			 nplaces;
	char			(*pcns)[8];	/* PCN codes; [0] is "" */
	size_t			 npcns;
	struct chunk		**chunk;	/* every place's, by number */
	size_t			 nchunk, capchunk;
	uint8_t			*by_key;	/* store key -> its fact (agg.c) */
	int			 kbytes;	/* of each key's entry */
	size_t			 nkey, nid;	/* room; facts held */
	struct persons		*persons;
	/* dimensions with group sums (bit per agg_dim): set under gbuild
	   while reading, cleared under the lock for writing */
	uint32_t		 gdims;
	pthread_mutex_t		 gbuild;
	struct workq		*workers;	/* NULL: the caller does it all */
	size_t			 unit;		/* chunks a share takes at a time */
	/* 1: queries add up every fact one by one, without the month
	   sums (tests hold the two to each other) */
	int			 full_pass;
	struct ckm_keyer	*keyer;		/* record keys (ckm.h) */
	struct pop		*pop;		/* denominators (pop.h) */
};

/*
 * An empty set of aggregates, without a store (agg_open loads one).
 * cell_key is the key for record keys, from secret_derive(...,
 * SECRET_CELL_KEY, ...); the caller may wipe it on return.
 */
struct agg	*agg_new(const uint8_t cell_key[32]);
/* Adds a place or updates its name and population. */
pc_rc	 agg_place_set(struct agg *, const struct store_place *);
/*
 * Loads places, population denominators and facts; works out again,
 * and stores, the facts an older version wrote. upto: the store's
 * snapshot the facts were read in, from which agg_catch_up() goes on.
 */
pc_rc	 agg_open(struct agg **, struct store *, const uint8_t cell_key[32],
	    char upto[STORE_SNAP_LEN], struct err_list *);
/*
 * Works out, and stores, every referral's fact when the store's facts
 * were never computed (a database from before facts: no "fact_version"
 * in its meta); agg_open() does the same. Facts an older version wrote
 * are not its business: agg_open() works those out again one by one. A
 * server does it first on a connection of its own, closed after, so that
 * what SQLite mapped for its one long transaction (the index of the
 * write-ahead log, which grows with it) goes with it.
 */
pc_rc	 agg_rebuild(struct store *);
/* Stops the workers too. */
void	 agg_close(struct agg *);
/*
 * Starts n threads (at most AGG_WORKERS_MAX) that share the pass of
 * every agg_run() with its caller, each over its part of every place's
 * facts, for as long as the aggregates are open; returns how many run.
 * Without them (a test, a tool) the caller makes the pass alone.
 */
int	 agg_workers_start(struct agg *, int n);
void	 agg_workers_stop(struct agg *);
/* One catch-up: where it starts from, and what it leaves for the next. */
struct agg_catch {
	const char	*since;		/* the snapshot last reflected */
	/* commits whose facts are applied already (store_facts_since) */
	const char	(*skip)[STORE_MARK_LEN];
	size_t		 nskip;
	int64_t		 places;	/* in and out: store_places_version()
					   of the places held; -1 none */
	char		 upto[STORE_SNAP_LEN];	/* out: now reflected */
	long		 read;		/* out: facts read */
};

/*
 * What other servers stored since c->since: their facts applied, and the
 * places and population denominators read again if they changed; on
 * PC_OK c->upto is the snapshot now reflected.
 */
pc_rc	 agg_catch_up(struct agg *, struct store *, struct agg_catch *c);
/* Around reading anything in struct agg (queries, places). */
void	 agg_read_begin(struct agg *);
void	 agg_read_end(struct agg *);
/* Index of a place code, -1 when unknown (under agg_read_begin). */
int	 agg_place_index(const struct agg *, const char *code);
/* The same, taking the lock itself. */
int	 agg_place_find(struct agg *, const char *code);

/* The fact of one referral, from its records. */
void	 agg_fact(const struct timeline *, struct fact *);
/* A fact as stored: tagged fields, written by this version. */
pc_rc	 agg_fact_encode(const struct fact *, struct buf *);
/*
 * A stored fact: 0 read whole; 1 it lacks a field this version needs
 * (f->id is set: work it out from the records); -1 not a fact. *version
 * is the version that wrote it (0: from before tagged facts).
 */
int	 agg_fact_decode(const void *, size_t, struct fact *f, int *version);
/*
 * For ingest, inside its transaction: computes the facts of every
 * referral touched (timelines: referral id -> struct timeline *; steps:
 * -> struct agg_step *, those with records added) and stores them. *out (owned by the caller, free())
 * holds them for agg_apply() once the transaction has committed.
 */
pc_rc	 agg_stage(struct store *, const struct map *timelines,
	    const struct map *steps, struct fact **out, size_t *n);
void	 agg_apply(struct agg *, const struct fact *, size_t n);

/*
 * A referral stored before a batch, whose next records are checked
 * against its stored fact and added to it (tl_add) instead of against
 * its records, which are then not read.
 */
struct agg_step {
	struct fact		 f;
	int			 off;		/* its records decide now */
	int			 added;		/* records added to f */
	struct store_takeup	*sup;		/* their assets (owned) */
	size_t			 nsup, capsup;
};

/*
 * A stored fact as a step: PC_OK, or PC_ENOTFOUND when it cannot be one
 * (an older version's, a voided referral...: read the records).
 */
pc_rc	 agg_step_init(struct agg_step *, const void *blob, size_t len);
void	 agg_step_free(struct agg_step *);
/*
 * Adds r to the step (*added 1) when its referral's rules are met for
 * certain; *added 0 and the step unchanged when they may not be (check
 * r against the records). PC_ENOMEM.
 */
pc_rc	 agg_step_add(struct agg_step *, const struct rec *r, int *added);

pc_rc	 agg_run(struct agg *, const struct agg_query *, struct agg_result *);
/*
 * Every place's totals (each: one result per place, in a->places order)
 * and all places', in one pass; q's place and group_by are not used.
 */
pc_rc	 agg_run_places(struct agg *, const struct agg_query *q,
	    struct agg_result *each, struct agg_result *all);
void	 agg_result_free(struct agg_result *);

/*
 * Month by month: out[i] is the total cell of the i-th calendar month
 * from q->from (the first day of a month) to q->to, *n of them (at most
 * max; more is PC_ELIMIT); q's group_by is not used. *out is the
 * caller's to free().
 */
pc_rc	 agg_run_months(struct agg *, const struct agg_query *q,
	    struct agg_cell **out, int *n, int max);
/*
 * The PCNs of a place's referrals in q's period (q->place >= 0): *any
 * with at least one referral, *cyp with at least one to a children and
 * young people service.
 */
pc_rc	 agg_run_pcns(struct agg *, const struct agg_query *q, long *any,
	    long *cyp);
/*
 * Whether the aggregates count a referral (by its store key, store.h;
 * known and not voided), with the record key of its person
 * (ckm.h) when they do: figures made elsewhere (takeup.h) then carry the
 * same keys as every other count. 1 counted, 0 not. Under
 * agg_read_begin().
 */
int	 agg_referral_key(const struct agg *, int64_t referral,
	    long *key);
/* The first day referred on among a place's referrals (or all, -1). */
int32_t	 agg_first_day(const struct agg *, int place);

#endif

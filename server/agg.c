/*
 * agg.c - facts per referral, held per place, added up per query.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "ckm.h"
#include "date.h"
#include "failpoint.h"
#include "log.h"
#include "pop.h"
#include "takeup.h"
#include "uuid.h"
#include "workq.h"

static const struct code flag_v[FLAG_N] = {
	{"not_known", "Not known or not recorded"},
	{"yes", "Yes"},
	{"no", "No"},
};
const struct codelist agg_flag_codes = {"flag", "Yes, no or not known",
    flag_v, FLAG_N};

const struct agg_dim_info agg_dims[DIM_N] = {
	[DIM_NONE] = {"", "", NULL},
	[DIM_SOURCE] = {"source", "Source of referral", &codes_source},
	[DIM_REASON] = {"reason", "Reason for referral", &codes_reason},
	[DIM_SERVICE] = {"service", "Service", &codes_service},
	[DIM_ETHNIC_GROUP] = {"ethnic_group", "Ethnic group",
	    &codes_ethnic_group},
	[DIM_IMD_QUINTILE] = {"imd_quintile", "IMD quintile",
	    &codes_imd_quintile},
	[DIM_AGE_BAND] = {"age_band", "Age band", &codes_age_band},
	[DIM_GENDER] = {"gender", "Gender", &codes_gender},
	[DIM_CARER] = {"carer", "Carer", &agg_flag_codes},
	[DIM_LEARNING_DISABILITY] = {"learning_disability",
	    "Learning disability", &agg_flag_codes},
	[DIM_AUTISM] = {"autism", "Autism", &agg_flag_codes},
	[DIM_HOMELESS] = {"homeless", "Homeless", &agg_flag_codes},
	[DIM_ETHNICITY] = {"ethnicity", "Ethnic category", &codes_ethnicity},
	[DIM_IMD_DECILE] = {"imd_decile", "IMD decile", &codes_imd_decile},
	[DIM_AGE_BAND_CENSUS] = {"age_band_census", "Age band (Census "
	    "bands)", &codes_age_band_census},
};

static const char *const flag_fields[4] = {"carer", "learning_disability",
    "autism", "homeless"};

enum agg_dim
agg_dim_parse(const char *name)
{
	int d;

	for (d = 1; name != NULL && d < DIM_N; d++)
		if (strcmp(agg_dims[d].name, name) == 0)
			return (enum agg_dim)d;
	return DIM_N;
}

static uint8_t
idx(const struct codelist *l, const char *code)
{
	int i = code_index(l, code);

	return (uint8_t)(i < 0 ? 0 : i);
}

static uint8_t
flag_of(const cJSON *ref, const char *field)
{
	switch (rec_flag(ref, field, -2)) {
	case 1:
		return FLAG_YES;
	case 0:
		return FLAG_NO;
	default:
		return FLAG_NOT_KNOWN;
	}
}

/* What the records after the referral make of its fact. */
static void
fact_of_summary(struct fact *f, const struct tl_summary *s)
{
	int m;

	f->closed_on = s->closed_on;
	f->close_reason = (uint8_t)(s->close_reason < 0 ? 255 :
	    s->close_reason);
	f->first_contact = s->first_contact;
	f->contacts = (uint16_t)(s->contacts > 65535 ? 65535 : s->contacts);
	f->attended = (uint16_t)(s->attended > 65535 ? 65535 : s->attended);
	f->support_offered = s->support_offered;
	f->support_taken = s->support_taken;
	f->has_pair = (uint8_t)(s->has_baseline && s->has_followup);
	for (m = 0; m < ONS4_N; m++) {
		f->base[m] = (int8_t)(f->has_pair ? s->baseline.score[m] : 0);
		f->follow[m] = (int8_t)(f->has_pair ? s->followup.score[m] : 0);
	}
	f->records = (uint16_t)(s->records > 65535 ? 65535 : s->records);
	f->closures = (uint16_t)(s->closures > 65535 ? 65535 : s->closures);
	f->last_on = s->last_on;
	f->has_baseline = (uint8_t)s->has_baseline;
	f->has_latest = (uint8_t)s->has_latest;
	memset(&f->baseline, 0, sizeof(f->baseline));
	memset(&f->latest, 0, sizeof(f->latest));
	if (s->has_baseline)
		f->baseline = s->baseline;
	if (s->has_latest)
		f->latest = s->latest;
}

/*
 * The summary a fact holds: all tl_add() reads and fact_of_summary()
 * writes (not the counts of supports, assessments and declined ones,
 * which a fact does not keep).
 */
static void
summary_of_fact(const struct fact *f, struct tl_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->voided = f->voided;
	s->referred_on = f->referred_on;
	s->closed_on = f->closed_on;
	s->close_reason = f->close_reason == 255 ? -1 : f->close_reason;
	s->first_contact = f->first_contact;
	s->contacts = f->contacts;
	s->attended = f->attended;
	s->support_offered = f->support_offered;
	s->support_taken = f->support_taken;
	s->age = f->age;
	s->records = f->records;
	s->closures = f->closures;
	s->last_on = f->last_on;
	s->has_baseline = f->has_baseline;
	s->has_latest = f->has_latest;
	s->baseline = f->baseline;
	s->latest = f->latest;
}

void
agg_fact(const struct timeline *tl, struct fact *f)
{
	struct tl_summary s;
	const cJSON *ref, *it;
	const char *person;
	int k;

	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", tl->id);
	tl_summarise(tl, &s);
	if ((ref = s.referral) == NULL) {
		f->voided = 1;
		return;
	}
	snprintf(f->place, sizeof(f->place), "%s", tl->v[0].rec->place);
	person = rec_str(ref, "person");
	for (k = 0; person != NULL && k < 16 && person[k] != '\0'; k++)
		f->person = f->person << 4 | (uint64_t)(person[k] <= '9' ?
		    person[k] - '0' : person[k] - 'a' + 10);
	f->referred_on = s.referred_on;
	f->source = idx(&codes_source, rec_str(ref, "source"));
	f->service = idx(&codes_service, rec_str(ref, "service"));
	f->gender = idx(&codes_gender, rec_str(ref, "gender"));
	f->ethnicity = idx(&codes_ethnicity, rec_str(ref, "ethnicity"));
	/* 0-120, as validated: the rules' age (tl_add) is this one */
	f->age = (uint8_t)rec_int(ref, "age", 0);
	f->imd_decile = (uint8_t)rec_int(ref, "imd_decile", 0);
	cJSON_ArrayForEach(it, rec_get(ref, "reasons"))
		if (cJSON_IsString(it) &&
		    code_index(&codes_reason, it->valuestring) >= 0)
			f->reasons |= 1u << code_index(&codes_reason,
			    it->valuestring);
	for (k = 0; k < 4; k++)
		f->flags[k] = flag_of(ref, flag_fields[k]);
	f->consent = rec_flag(ref, "consent_evaluation", 0) == 1;
	f->voided = (uint8_t)s.voided;
	snprintf(f->pcn, sizeof(f->pcn), "%s", tl->v[0].rec->pcn);
	fact_of_summary(f, &s);
}

int
agg_place_index(const struct agg *a, const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < a->nplaces; i++)
		if (strcmp(a->places[i].p.code, code) == 0)
			return (int)i;
	return -1;
}

/*
 * A fact as queries read it, in 34 bytes: codes as they are, packed
 * where they leave bits free; the groups of each dimension are looked up
 * in small tables at query time (group_tab), once per code rather than
 * once per fact. Its first 16 bytes (qhot) are all that most queries'
 * passes read (who, when, counted or not, the codes of the groups), and
 * are kept apart from the rest (qcold), so that such a pass reads less
 * than half the memory.
 */
struct qhot {
	int32_t		 referred_on;
	uint32_t	 pid;		/* dense person number */
	uint16_t	 rk;		/* record key; consent, voided, pair */
	uint16_t	 codes;		/* source, service, gender, ethnicity */
	uint8_t		 imd, age;	/* as in the fact */
	uint8_t		 flags;		/* carer, ld, autism, homeless: 2 bits each */
	uint8_t		 close;		/* codes_closure; Q_OPEN */
};

struct qcold {
	/* SUP_ bits offered, taken, RSN_ bits, days to first contact + 1
	   (0 none): 18, 18, 18 and 9 bits of 64 (qsets) */
	uint16_t	 sets[4];
	uint16_t	 contacts, attended;
	uint16_t	 pcn;		/* index in agg pcns; 0 none */
	uint8_t		 score[ONS4_N];	/* baseline | follow-up << 4 */
};

/* A fact whole, as it goes in (qfact_of). */
struct qfact {
	struct qhot	 h;
	struct qcold	 c;
};

#define BITS18		0x3ffffu	/* codes_reason, codes_support: 18 each */
#define Q_OPEN		8
#define Q_CLOSE(h)	((int)(h)->close)
/* codes: source 4 bits, service 3, gender 3, ethnicity 5 */
#define Q_SOURCE(h)	((unsigned)(h)->codes & 15)
#define Q_SERVICE(h)	((unsigned)(h)->codes >> 4 & 7)
#define Q_GENDER(h)	((unsigned)(h)->codes >> 7 & 7)
#define Q_ETHNICITY(h)	((unsigned)(h)->codes >> 10 & 31)
/* rk: the person's record key (under CKM_KEYS), then three flags */
#define Q_KEY(h)	((long)((h)->rk & 0xfff))
#define Q_CONSENT	0x1000
#define Q_VOIDED	0x2000
#define Q_PAIR		0x4000
/* the sets of a qcold, from qsets() */
#define S_OFFERED(v)	((uint32_t)(v) & BITS18)
#define S_TAKEN(v)	((uint32_t)((v) >> 18) & BITS18)
#define S_REASONS(v)	((uint32_t)((v) >> 36) & BITS18)
#define S_DAYS(v)	((int)((v) >> 54 & 511) - 1)

static inline uint64_t
qsets(const struct qcold *c)
{
	uint64_t v;

	memcpy(&v, c->sets, sizeof(v));
	return v;
}

_Static_assert(sizeof(struct qhot) == 16, "a fact's hot part is 16 bytes");
_Static_assert(sizeof(struct qcold) == 18, "a fact's cold part is 18 bytes");
_Static_assert(CKM_KEYS <= 4096, "record keys fit 12 bits");

/*
 * Facts are held in chunks of CHUNK, each of one place, so that a place
 * grows by a chunk at a time, never copying (or leaving room for) the
 * facts it has; a fact's number is its chunk's number * CHUNK plus its
 * index in the chunk.
 */
#define CHUNK_BITS	10
#define CHUNK		(1u << CHUNK_BITS)

struct chunk {
	struct qhot	 h[CHUNK];	/* in arrival order */
	struct qcold	 c[CHUNK];	/* the same facts' */
	uint32_t	 place, n;
};

/*
 * Beside the facts, every place's sums per calendar month (each a cell
 * with every count but people), kept in step as facts come, change and
 * go: a query adds up the whole months it covers from them, and passes
 * over the facts only for people (a bitmap), its groups and the days of
 * months it covers in part (by group with group sums, only for those
 * days: struct gsum). Months of the years MONTHS_FROM.. (300 years) have
 * sums; a fact dated outside them is added up by every query, one by
 * one (their sums, MONTH_OUT, only tell whether there are any).
 */
#define MONTHS_FROM	1900
#define MONTHS_N	(300 * 12)
/* and after them, the sums of the facts dated outside them (no month) */
#define MONTH_OUT	MONTHS_N

static void	 month_fact(struct agg *, struct agg_place *,
		    const struct qhot *, const struct qcold *, long);
static void	 gsums_drop(struct agg *, enum agg_dim);

#define HOT(a, g)	(&(a)->chunk[(g) >> CHUNK_BITS]->h[(g) & (CHUNK - 1)])
#define COLD(a, g)	(&(a)->chunk[(g) >> CHUNK_BITS]->c[(g) & (CHUNK - 1)])

/*
 * Open addressing in a table of any size, not only a power of two: a
 * hash's first slot is its high 32 bits scaled to the size, and a table
 * grows at 4/5 full to 3/5 full, so that it is never more than twice as
 * large as it must be (and on average much less) for a few more probes.
 */
#define SLOTS_MIN	1024

static inline size_t
slot_home(uint64_t h, size_t cap)
{
	return (size_t)((h >> 32) * (uint64_t)cap >> 32);
}

static inline size_t
slot_next(size_t i, size_t cap)
{
	return i + 1 < cap ? i + 1 : 0;
}

/* 1 if a table of cap slots holding n must grow before taking one more. */
static int
slots_full(size_t n, size_t cap)
{
	return (n + 1) * 5 > cap * 4;
}

/* The size to grow to for n entries; 0 past what a slot table can be. */
static size_t
slots_cap(size_t n)
{
	size_t cap = (n + 1) * 5 / 3;

	cap = cap < SLOTS_MIN ? SLOTS_MIN : cap;
	return cap <= UINT32_MAX ? cap : 0;
}

/*
 * n bytes at e (1 to 8), least significant first; 8 bytes from e are
 * readable (PERSONS_PAD, KEYS_PAD), so that a little-endian host reads
 * them at once.
 */
static inline uint64_t
le_get(const uint8_t *e, int n)
{
	uint64_t r = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&r, e, sizeof(r));
	return n < 8 ? r & ((1ULL << 8 * n) - 1) : r;
#else
	while (n-- > 0)
		r = r << 8 | e[n];
	return r;
#endif
}

static inline void
le_put(uint8_t *e, int n, uint64_t v)
{
	int b;

	for (b = 0; b < n; b++)
		e[b] = (uint8_t)(v >> 8 * b);
}

/*
 * Store key -> fact number + 1 (0: none yet). Keys are dense (the store
 * numbers its referrals 1, 2, 3...), so an array serves, without the ids
 * themselves in memory: kbytes a key, as few as the facts' numbers need
 * (3 up to 16 million facts, where 4 took a quarter more), widened as
 * they grow.
 */
#define KEYS_PAD	8	/* past the last entry, for le_get */

static inline uint32_t
key_get(const struct agg *a, size_t k)
{
	return (uint32_t)le_get(a->by_key + k * (size_t)a->kbytes, a->kbytes);
}

static inline void
key_put(struct agg *a, size_t k, uint32_t v)
{
	le_put(a->by_key + k * (size_t)a->kbytes, a->kbytes, v);
}

/* The table as cap keys of nb bytes each; -1 no memory, nothing changed. */
static int
keys_resize(struct agg *a, size_t cap, int nb)
{
	size_t keep = cap < a->nkey ? cap : a->nkey, k;
	uint8_t *nv;

	if (nb == a->kbytes) {
		if ((nv = realloc(a->by_key, cap * (size_t)nb + KEYS_PAD)) ==
		    NULL)
			return -1;
	} else {
		if ((nv = malloc(cap * (size_t)nb + KEYS_PAD)) == NULL)
			return -1;
		for (k = 0; k < keep; k++)
			le_put(nv + k * (size_t)nb, nb, key_get(a, k));
		free(a->by_key);
	}
	memset(nv + keep * (size_t)nb, 0, (cap - keep) * (size_t)nb +
	    KEYS_PAD);
	a->by_key = nv;
	a->nkey = cap;
	a->kbytes = nb;
	return 0;
}

/* Room in the table for key; -1 when it cannot have any. */
static int64_t
key_room(struct agg *a, int64_t key)
{
	size_t cap, want;

	if (key <= 0 || key >= (int64_t)UINT32_MAX)
		return -1;
	if ((size_t)key < a->nkey)
		return key;
	/* a quarter more at a time: at most a fifth of it unused */
	want = (size_t)key + 1;
	cap = a->nkey + a->nkey / 4;
	cap = cap < want ? want : cap;
	cap = (cap + 1023) & ~(size_t)1023;
	return keys_resize(a, cap, a->kbytes > 0 ? a->kbytes : 1) == 0 ?
	    key : -1;
}

/* Entries wide enough for every fact number below n; -1 no memory. */
static int
keys_wide(struct agg *a, uint64_t n)
{
	int nb = a->kbytes > 0 ? a->kbytes : 1;

	while (nb < 4 && n >= 1ULL << 8 * nb)
		nb++;
	return nb == a->kbytes ? 0 : keys_resize(a, a->nkey, nb);
}

/*
 * The key table cut to the largest key a start loaded and AGG_KEYS_SLACK
 * more: up to a quarter of it was room grown for keys that never came.
 * Keys after it grow it again (key_room).
 */
static void
keys_fit(struct agg *a)
{
	size_t n = a->nkey;

	while (n > 0 && key_get(a, n - 1) == 0)
		n--;
	if (n + AGG_KEYS_SLACK < a->nkey)
		(void)keys_resize(a, n + AGG_KEYS_SLACK, a->kbytes);
	/* no memory: only left as it was */
}

/*
 * People numbered 1, 2, 3... in order of first appearance (0 is the zero
 * key's, the one "no key" person): a distinct count is then a bitmap the
 * size of the population, not a hash set the size of the query, and the
 * people of a place and month have numbers close together (struct gsum).
 * Those numbered before the last merge (persons_merge) are held sorted by
 * their key's mix (pmix), in buckets of its top bbits bits, each as the
 * rest of the mix and its number: 9 bytes a person at a million, where
 * a hash table of numbers beside the keys by number took 14 or so. Those
 * numbered since, a few, are in a small open addressing table, until
 * there are enough of them to merge in. Record keys are by number, in
 * 12 bits each (CKM_KEYS), two in three bytes.
 */
struct persons {
	uint8_t		*ent;		/* nent of esize bytes: rest, number */
	uint32_t	*bucket;	/* 2^bbits + 1: where each starts */
	uint32_t	 nent;
	int		 bbits;
	/* bytes of an entry's rest (64 - bbits bits) and number */
	int		 rbytes, nbytes;
	uint32_t	 merged;	/* numbers below it are in ent (or 0) */
	uint32_t	*slot;		/* numbers since; 0 marks a free slot */
	size_t		 cap;		/* slots: at most 4/5 taken (slots_full) */
	uint64_t	*key;		/* by number - merged */
	uint32_t	 capkey;
	uint8_t		*rkey;		/* by number, 12 bits (RKEY_BYTES) */
	uint32_t	 n, capn;	/* numbers given; room for */
};

/* Bytes for n record keys of 12 bits, and one past them for rkey_get. */
#define RKEY_BYTES(n)	((size_t)(n) / 2 * 3 + 3)

/* No branch on the number's parity: a query's people come in any. */
static inline long
rkey_get(const uint8_t *r, uint32_t pid)
{
	const uint8_t *p = r + (size_t)pid / 2 * 3 + (pid & 1);
	unsigned v = (unsigned)p[0] | (unsigned)p[1] << 8;

	return (long)(v >> (pid & 1) * 4 & 0xfff);
}

static inline void
rkey_put(uint8_t *r, uint32_t pid, unsigned key)
{
	uint8_t *p = r + (size_t)pid / 2 * 3 + (pid & 1);

	if (pid & 1) {
		p[0] = (uint8_t)((p[0] & 0x0f) | (key & 0xf) << 4);
		p[1] = (uint8_t)(key >> 4);
	} else {
		p[0] = (uint8_t)key;
		p[1] = (uint8_t)((p[1] & 0xf0) | (key >> 8 & 0xf));
	}
}

/* Merged when this many are new: at most an eighth more to sort in. */
#define PERSONS_NEW(ps)	((ps)->nent / 8 > 4096 ? (ps)->nent / 8 : 4096)

/* Bytes past the last entry, for le_get's reads of 8. */
#define PERSONS_PAD	8

/* One to one (an odd multiple, then a shift), spread over the bits. */
static inline uint64_t
pmix(uint64_t k)
{
	uint64_t x = k * 0x9e3779b97f4a7c15ULL;

	return x ^ x >> 29;
}

static inline size_t
esize(const struct persons *ps)
{
	return (size_t)ps->rbytes + (size_t)ps->nbytes;
}

static inline uint64_t
pbucket(uint64_t h, int bbits)
{
	return bbits > 0 ? h >> (64 - bbits) : 0;
}

static inline uint64_t
prest(uint64_t h, int bbits)
{
	return bbits > 0 ? h & (~0ULL >> bbits) : h;
}

static inline uint64_t
ent_rest(const struct persons *ps, size_t i)
{
	return le_get(ps->ent + i * esize(ps), ps->rbytes);
}

static inline uint32_t
ent_number(const struct persons *ps, size_t i)
{
	return (uint32_t)le_get(ps->ent + i * esize(ps) + ps->rbytes,
	    ps->nbytes);
}

/* The number of the person whose key's mix is h, if merged; 0 if not. */
static uint32_t
persons_merged(const struct persons *ps, uint64_t h)
{
	uint64_t b, r, x;
	size_t lo, hi, mid;

	if (ps->nent == 0)
		return 0;
	b = pbucket(h, ps->bbits);
	r = prest(h, ps->bbits);
	lo = ps->bucket[b];
	hi = ps->bucket[b + 1];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((x = ent_rest(ps, mid)) == r)
			return ent_number(ps, mid);
		if (x < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

struct pent {
	uint64_t	 h;
	uint32_t	 num;
};

static int
pent_cmp(const void *x, const void *y)
{
	const struct pent *p = x, *q = y;

	return p->h < q->h ? -1 : p->h > q->h;
}

/*
 * Bits of bucket for n merged: four to eight a bucket, or up to four
 * times that where fewer bits keep an entry's rest in as many bytes (a
 * million: 17 bits for 47 of rest in 6 bytes, 16 for 48 in 6, with half
 * the buckets' memory for one more step of the search).
 */
static int
persons_bbits(uint32_t n)
{
	int b = 0, m;

	while (b < 24 && (uint64_t)4 << (b + 1) <= n)
		b++;
	for (m = b; m > 0 && b - m < 2 &&
	    (64 - (m - 1) + 7) / 8 == (64 - b + 7) / 8; m--)
		;
	return m;
}

/* The merge entry by entry, the layout changed (m's, total of them). */
static void
merge_each(const struct persons *ps, struct persons *m, const struct pent *v,
    uint32_t nnew)
{
	uint32_t total = ps->nent + nnew, i, j, o;
	size_t nb = (size_t)1 << m->bbits, es = esize(m);
	uint64_t ob = 0;
	struct pent e = {0, 0};

	for (i = j = o = 0; o < total; o++) {
		if (i < ps->nent) {
			while (ps->bucket[ob + 1] <= i)
				ob++;
			e.h = ps->bbits > 0 ? ob << (64 - ps->bbits) |
			    ent_rest(ps, i) : ent_rest(ps, i);
			e.num = ent_number(ps, i);
		}
		if (i < ps->nent && (j == nnew || e.h < v[j].h))
			i++;
		else
			e = v[j++];
		le_put(m->ent + o * es, m->rbytes, prest(e.h, m->bbits));
		le_put(m->ent + o * es + m->rbytes, m->nbytes, e.num);
		m->bucket[pbucket(e.h, m->bbits) + 1]++;
	}
	for (i = 1; i <= nb; i++)
		m->bucket[i] += m->bucket[i - 1];
}

/*
 * The same layout (most merges): the merged entries copied whole in the
 * runs between the new ones, and their buckets moved up by the new ones
 * before them.
 */
static void
merge_runs(const struct persons *ps, struct persons *m, const struct pent *v,
    uint32_t nnew)
{
	size_t nb = (size_t)1 << m->bbits, es = esize(m), b, lo, hi, mid;
	uint32_t i = 0, j, o = 0, acc = 0;
	uint64_t r;

	for (j = 0; j < nnew; j++) {
		b = pbucket(v[j].h, m->bbits);
		r = prest(v[j].h, m->bbits);
		/* the first of its bucket with a greater rest (none equal) */
		lo = ps->bucket[b] > i ? ps->bucket[b] : i;
		hi = ps->bucket[b + 1];
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (ent_rest(ps, mid) < r)
				lo = mid + 1;
			else
				hi = mid;
		}
		memcpy(m->ent + (size_t)o * es, ps->ent + (size_t)i * es,
		    (lo - i) * es);
		o += (uint32_t)(lo - i);
		i = (uint32_t)lo;
		le_put(m->ent + (size_t)o * es, m->rbytes, r);
		le_put(m->ent + (size_t)o * es + m->rbytes, m->nbytes,
		    v[j].num);
		o++;
		m->bucket[b + 1]++;
	}
	memcpy(m->ent + (size_t)o * es, ps->ent + (size_t)i * es,
	    (size_t)(ps->nent - i) * es);
	for (b = 0; b <= nb; b++) {
		acc += m->bucket[b];
		m->bucket[b] = ps->bucket[b] + acc;
	}
}

/*
 * The people numbered since the last merge, sorted into the merged ones
 * (whose numbers stay as they are); -1 no memory, nothing changed.
 */
static int
persons_merge(struct persons *ps)
{
	uint32_t nnew = ps->n - ps->merged, total = ps->nent + nnew, i;
	struct persons m = *ps;
	struct pent *v;
	size_t nb;

	if (nnew == 0)
		return 0;
	m.bbits = persons_bbits(total);
	m.rbytes = (64 - m.bbits + 7) / 8;
	/* numbers up to ps->n - 1 */
	m.nbytes = ps->n - 1 < 1u << 24 ? 3 : 4;
	nb = (size_t)1 << m.bbits;
	v = malloc((size_t)nnew * sizeof(*v));
	m.ent = malloc((size_t)total * esize(&m) + PERSONS_PAD);
	m.bucket = calloc(nb + 1, sizeof(*m.bucket));
	if (v == NULL || m.ent == NULL || m.bucket == NULL) {
		free(v);
		free(m.ent);
		free(m.bucket);
		return -1;
	}
	memset(m.ent + (size_t)total * esize(&m), 0, PERSONS_PAD);
	for (i = 0; i < nnew; i++) {
		v[i].h = pmix(ps->key[i]);
		v[i].num = ps->merged + i;
	}
	qsort(v, nnew, sizeof(*v), pent_cmp);
	if (ps->nent > 0 && m.bbits == ps->bbits && m.rbytes == ps->rbytes &&
	    m.nbytes == ps->nbytes)
		merge_runs(ps, &m, v, nnew);
	else
		merge_each(ps, &m, v, nnew);
	free(v);
	free(ps->ent);
	free(ps->bucket);
	free(ps->slot);
	free(ps->key);
	m.nent = total;
	m.merged = ps->n;
	m.slot = NULL;
	m.cap = 0;
	m.key = NULL;
	m.capkey = 0;
	*ps = m;
	return 0;
}

static size_t
persons_slot(const struct persons *ps, uint64_t k)
{
	size_t i = slot_home(pmix(k), ps->cap);

	while (ps->slot[i] != 0 && ps->key[ps->slot[i] - ps->merged] != k)
		i = slot_next(i, ps->cap);
	return i;
}

static int
persons_grow(struct persons *ps)
{
	uint32_t *old = ps->slot, *nv;
	size_t oc = ps->cap, cap = slots_cap(ps->n - ps->merged), i;

	if (cap == 0 || (nv = calloc(cap, sizeof(*nv))) == NULL)
		return -1;
	ps->slot = nv;
	ps->cap = cap;
	for (i = 0; i < oc; i++)
		if (old[i] != 0)
			ps->slot[persons_slot(ps, ps->key[old[i] -
			    ps->merged])] = old[i];
	free(old);
	return 0;
}

/*
 * Room for one more number: an eighth more at a time, as keys come
 * (nearly one a referral), rather than twice as many.
 */
static int
persons_room(struct persons *ps)
{
	uint32_t cap, since = ps->n - ps->merged;
	uint64_t *k;
	uint8_t *r;

	if (since >= ps->capkey) {
		cap = since + since / 8 + 1024;
		if (cap <= since || (k = realloc(ps->key, cap *
		    sizeof(*k))) == NULL)
			return -1;
		ps->key = k;
		ps->capkey = cap;
	}
	if (ps->n < ps->capn)
		return 0;
	cap = ps->capn + ps->capn / 8 + 1024;
	if (cap <= ps->capn)
		return -1;
	if ((r = realloc(ps->rkey, RKEY_BYTES(cap))) == NULL)
		return -1;
	ps->rkey = r;
	ps->capn = cap;
	return 0;
}

/* Everyone so far merged, and no room left over (what a start loaded). */
static void
persons_fit(struct persons *ps)
{
	uint8_t *r;

	if (persons_merge(ps) != 0 || ps->n == 0 || ps->n == ps->capn)
		return;		/* no memory: only left as it was */
	if ((r = realloc(ps->rkey, RKEY_BYTES(ps->n))) != NULL) {
		ps->rkey = r;
		ps->capn = ps->n;
	}
}

static uint32_t
person_number(struct agg *a, uint64_t k)
{
	struct persons *ps = a->persons;
	uint32_t num;
	size_t i;

	if (ps->n == 0) {
		if (persons_room(ps) != 0)
			return 0;
		ps->n = ps->merged = 1;	/* 0: the one "no key" person */
		rkey_put(ps->rkey, 0, ckm_keyer_key(a->keyer, 0));
	}
	if (k == 0)
		return 0;
	if ((num = persons_merged(ps, pmix(k))) != 0)
		return num;
	if (ps->cap > 0 && ps->slot[i = persons_slot(ps, k)] != 0)
		return ps->slot[i];
	/* someone new: room made for them; if not, only memory is lost */
	if (ps->n - ps->merged >= PERSONS_NEW(ps))
		(void)persons_merge(ps);
	if ((slots_full(ps->n - ps->merged, ps->cap) &&
	    persons_grow(ps) != 0) || persons_room(ps) != 0)
		return 0;
	i = persons_slot(ps, k);
	ps->key[ps->n - ps->merged] = k;
	rkey_put(ps->rkey, ps->n, ckm_keyer_key(a->keyer, k));
	ps->slot[i] = ps->n;
	return ps->n++;
}

/* The group of each code in each dimension (DIM_REASON's are bits). */
static uint8_t group_tab[DIM_N][256];
static uint8_t pair_tab[ONS4_N][256];	/* improved, worst base, left it */
/* scores (baseline | follow-up << 4) -> bin, 255 outside 0..10 */
static uint8_t pair_bin[256];
static pthread_once_t tabs_once = PTHREAD_ONCE_INIT;

static uint32_t groups_of(const struct fact *, enum agg_dim);

/* The code of a fact a dimension's group is worked out from. */
static void
set_code(struct fact *f, enum agg_dim d, int v)
{
	switch (d) {
	case DIM_SOURCE: f->source = (uint8_t)v; break;
	case DIM_SERVICE: f->service = (uint8_t)v; break;
	case DIM_ETHNIC_GROUP:
	case DIM_ETHNICITY: f->ethnicity = (uint8_t)v; break;
	case DIM_IMD_QUINTILE:
	case DIM_IMD_DECILE: f->imd_decile = (uint8_t)v; break;
	case DIM_AGE_BAND:
	case DIM_AGE_BAND_CENSUS: f->age = (uint8_t)v; break;
	case DIM_GENDER: f->gender = (uint8_t)v; break;
	case DIM_CARER:
	case DIM_LEARNING_DISABILITY:
	case DIM_AUTISM:
	case DIM_HOMELESS: f->flags[(d - DIM_CARER) & 3] = (uint8_t)(v & 3);
		break;
	default: break;
	}
}

static void
tabs_init(void)
{
	struct fact f;
	int d, v, m;

	for (d = 1; d < DIM_N; d++)
		for (v = 0; v < 256; v++) {
			uint32_t g;

			if (d == DIM_REASON)
				continue;
			memset(&f, 0, sizeof(f));
			/* flags: the group of bits 2k..2k+1 of the byte */
			set_code(&f, (enum agg_dim)d, d >= DIM_CARER && d <=
			    DIM_HOMELESS ? v >> 2 * (d - DIM_CARER) : v);
			/* codes held in fewer bits than 8 never go higher */
			if ((d == DIM_ETHNIC_GROUP && (size_t)v >=
			    codes_ethnicity.n) || (v >= 32 && (d ==
			    DIM_SOURCE || d == DIM_SERVICE || d == DIM_GENDER ||
			    d == DIM_ETHNICITY)))
				continue;
			g = groups_of(&f, (enum agg_dim)d);
			/* one bit; a value outside the list counts as the first */
			group_tab[d][v] = (uint8_t)(g != 0 && __builtin_ctz(g) <
			    18 ? __builtin_ctz(g) : 0);
		}
	for (v = 0; v < 256; v++)
		pair_bin[v] = (uint8_t)((v & 15) <= 10 && (v >> 4) <= 10 ?
		    (v & 15) + 11 * (v >> 4) : 255);
	for (m = 0; m < ONS4_N; m++)
		for (v = 0; v < 256; v++) {
			int b = v & 15, fo = v >> 4,
			    w = ons4_measures[m].worst_band;

			pair_tab[m][v] = (uint8_t)ons4_improved(
			    (enum ons4_measure)m, b, fo);
			if (ons4_band((enum ons4_measure)m, b) == w)
				pair_tab[m][v] |= (uint8_t)(2 | (ons4_band(
				    (enum ons4_measure)m, fo) != w ? 4 : 0));
		}
}

/* The code of a query-ready fact the groups of dimension d come from. */
static inline unsigned
qcode(const struct qhot *f, enum agg_dim d)
{
	switch (d) {
	case DIM_SOURCE: return Q_SOURCE(f);
	case DIM_SERVICE: return Q_SERVICE(f);
	case DIM_ETHNIC_GROUP:
	case DIM_ETHNICITY: return Q_ETHNICITY(f);
	case DIM_IMD_QUINTILE:
	case DIM_IMD_DECILE: return f->imd;
	case DIM_AGE_BAND:
	case DIM_AGE_BAND_CENSUS: return f->age;
	case DIM_GENDER: return Q_GENDER(f);
	default: return f->flags;	/* the four flags */
	}
}

struct agg *
agg_new(const uint8_t cell_key[32])
{
	struct agg *a;

	pthread_once(&tabs_once, tabs_init);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if ((a->persons = calloc(1, sizeof(*a->persons))) == NULL ||
	    (a->pop = calloc(1, sizeof(*a->pop))) == NULL ||
	    (a->keyer = ckm_keyer_new(cell_key)) == NULL) {
		free(a->persons);
		free(a->pop);
		free(a);
		return NULL;
	}
	pthread_rwlock_init(&a->lock, NULL);
	pthread_mutex_init(&a->gbuild, NULL);
	a->unit = 16;	/* 16,384 facts: a few hundred microseconds */
	return a;
}

void
agg_read_begin(struct agg *a)
{
	pthread_rwlock_rdlock(&a->lock);
}

void
agg_read_end(struct agg *a)
{
	pthread_rwlock_unlock(&a->lock);
}

int
agg_place_find(struct agg *a, const char *code)
{
	int i;

	agg_read_begin(a);
	i = agg_place_index(a, code);
	agg_read_end(a);
	return i;
}

/* The place of a fact, added on the fly if the places file lacks it. */
static struct agg_place *
place_for(struct agg *a, const char *code)
{
	int i = agg_place_index(a, code);
	struct agg_place *np;

	if (i >= 0)
		return &a->places[i];
	np = realloc(a->places, (a->nplaces + 1) * sizeof(*np));
	if (np == NULL)
		return NULL;
	a->places = np;
	np = &a->places[a->nplaces++];
	memset(np, 0, sizeof(*np));
	snprintf(np->p.code, sizeof(np->p.code), "%s", code);
	snprintf(np->p.name, sizeof(np->p.name), "%s", code);
	return np;
}

pc_rc
agg_place_set(struct agg *a, const struct store_place *p)
{
	struct agg_place *np;

	pthread_rwlock_wrlock(&a->lock);
	if ((np = place_for(a, p->code)) != NULL)
		np->p = *p;
	pthread_rwlock_unlock(&a->lock);
	return np != NULL ? PC_OK : PC_ENOMEM;
}

/* The group(s) of a fact in a dimension: bit i set for group i. */
static uint32_t
groups_of(const struct fact *f, enum agg_dim d)
{
	switch (d) {
	case DIM_SOURCE:
		return 1u << f->source;
	case DIM_REASON:
		return f->reasons;
	case DIM_SERVICE:
		return 1u << f->service;
	case DIM_ETHNIC_GROUP:
		return 1u << codes_ethnic_group_of(
		    codes_ethnicity.v[f->ethnicity].code);
	case DIM_IMD_QUINTILE:
		return 1u << codes_imd_quintile_of(f->imd_decile);
	case DIM_AGE_BAND:
		return 1u << codes_age_band_of(f->age);
	case DIM_GENDER:
		return 1u << f->gender;
	case DIM_CARER:
	case DIM_LEARNING_DISABILITY:
	case DIM_AUTISM:
	case DIM_HOMELESS:
		return 1u << f->flags[d - DIM_CARER];
	case DIM_ETHNICITY:
		return 1u << f->ethnicity;
	case DIM_IMD_DECILE:
		return 1u << codes_imd_decile_of(f->imd_decile);
	case DIM_AGE_BAND_CENSUS:
		return 1u << codes_age_band_census_of(f->age);
	default:
		return 0;
	}
}

/* The number of a PCN code, added when new; 0 for none (or no memory). */
static uint16_t
pcn_number(struct agg *a, const char *pcn)
{
	char (*nv)[8];
	size_t i;

	if (pcn[0] == '\0')
		return 0;
	for (i = 1; i < a->npcns; i++)
		if (strcmp(a->pcns[i], pcn) == 0)
			return (uint16_t)i;
	if (a->npcns == 0)
		a->npcns = 1;
	if (a->npcns >= 65535 || (nv = realloc(a->pcns, (a->npcns + 1) *
	    sizeof(*nv))) == NULL)
		return 0;
	a->pcns = nv;
	snprintf(nv[0], sizeof(nv[0]), "%s", "");
	snprintf(nv[a->npcns], sizeof(nv[0]), "%s", pcn);
	return (uint16_t)a->npcns++;
}

static void
qfact_of(struct agg *a, const struct fact *f, struct qfact *q)
{
	struct qhot *h = &q->h;
	struct qcold *c = &q->c;
	uint64_t sets;
	int d, m;

	memset(q, 0, sizeof(*q));
	c->pcn = pcn_number(a, f->pcn);
	h->referred_on = f->referred_on;
	h->pid = person_number(a, f->person);
	/* no table only when memory ran out before the first person */
	h->rk = (uint16_t)(a->persons->rkey != NULL ?
	    rkey_get(a->persons->rkey, h->pid) : 0);
	sets = (uint64_t)(f->support_offered & BITS18) |
	    (uint64_t)(f->support_taken & BITS18) << 18 |
	    (uint64_t)(f->reasons & BITS18) << 36;
	if (f->first_contact >= 0) {
		d = f->first_contact - f->referred_on;
		d = d < 0 ? 0 : d >= AGG_DAYS ? AGG_DAYS - 1 : d;
		sets |= (uint64_t)(d + 1) << 54;
	}
	memcpy(c->sets, &sets, sizeof(sets));
	h->close = (uint8_t)(f->close_reason == 255 ? Q_OPEN :
	    f->close_reason & 7);
	h->codes = (uint16_t)((f->source & 15) | (f->service & 7) << 4 |
	    (f->gender & 7) << 7 | (f->ethnicity & 31) << 10);
	c->contacts = f->contacts;
	c->attended = f->attended;
	h->rk |= (uint16_t)((f->consent ? Q_CONSENT : 0) |
	    (f->voided ? Q_VOIDED : 0) | (f->has_pair ? Q_PAIR : 0));
	h->imd = f->imd_decile;
	h->age = f->age;
	for (d = 0; d < 4; d++)
		h->flags |= (uint8_t)((f->flags[d] & 3) << 2 * d);
	for (m = 0; f->has_pair && m < ONS4_N; m++)
		c->score[m] = (uint8_t)((f->base[m] & 15) |
		    (f->follow[m] & 15) << 4);
}

/* A new fact at the end of place p: its number, or -1. */
static int64_t
place_append(struct agg *a, struct agg_place *p, const struct qfact *q)
{
	struct chunk *c = p->nchunks ? a->chunk[p->chunks[p->nchunks - 1]] :
	    NULL;
	uint32_t cn;

	if (c == NULL || c->n == CHUNK) {
		if (a->nchunk == a->capchunk) {
			size_t cap = a->capchunk ? a->capchunk * 2 : 16;
			struct chunk **nv = realloc(a->chunk, cap *
			    sizeof(*nv));

			if (nv == NULL || cap > (UINT32_MAX >> CHUNK_BITS)) {
				if (nv != NULL)
					a->chunk = nv;
				return -1;
			}
			a->chunk = nv;
			a->capchunk = cap;
		}
		if (p->nchunks == p->capchunks) {
			size_t cap = p->capchunks ? p->capchunks * 2 : 16;
			uint32_t *nv = realloc(p->chunks, cap * sizeof(*nv));

			if (nv == NULL)
				return -1;
			p->chunks = nv;
			p->capchunks = cap;
		}
		if ((c = malloc(sizeof(*c))) == NULL)
			return -1;
		c->place = (uint32_t)(p - a->places);
		c->n = 0;
		p->chunks[p->nchunks++] = (uint32_t)a->nchunk;
		a->chunk[a->nchunk++] = c;
	}
	cn = p->chunks[p->nchunks - 1];
	c->h[c->n] = q->h;
	c->c[c->n] = q->c;
	return (int64_t)cn << CHUNK_BITS | c->n++;
}

/* A fact voided where it is (its referral has moved place). */
static void
forget(struct agg *a, int64_t g)
{
	struct agg_place *p = &a->places[a->chunk[g >> CHUNK_BITS]->place];

	month_fact(a, p, HOT(a, g), COLD(a, g), -1);
	HOT(a, g)->rk |= Q_VOIDED;
}

void
agg_apply(struct agg *a, const struct fact *facts, size_t n)
{
	size_t i;

	if (a == NULL)
		return;
	pthread_rwlock_wrlock(&a->lock);
	for (i = 0; i < n; i++) {
		const struct fact *nf = &facts[i];
		struct agg_place *p = place_for(a, nf->place);
		struct qfact q;
		int64_t k, g, ng;

		if ((k = key_room(a, nf->key)) < 0 && (nf->key <= 0 ||
		    nf->key >= (int64_t)UINT32_MAX)) {
			/* never a stored fact's: the store gives every one */
			log_warnx("aggregates: a fact with no key (referral "
			    "%.40s) is not counted", nf->id);
			continue;
		}
		if (p == NULL || k < 0)
			goto nomem;
		qfact_of(a, nf, &q);
		g = (int64_t)key_get(a, (size_t)k) - 1;
		if (g >= 0 && a->chunk[g >> CHUNK_BITS]->place ==
		    (uint32_t)(p - a->places)) {
			/* the referral, updated */
			month_fact(a, p, HOT(a, g), COLD(a, g), -1);
			*HOT(a, g) = q.h;
			*COLD(a, g) = q.c;
			month_fact(a, p, &q.h, &q.c, 1);
			continue;
		}
		/* its number, below the next chunk's first, fits the table */
		if (keys_wide(a, ((uint64_t)a->nchunk + 1) << CHUNK_BITS) != 0)
			goto nomem;
		/* moved place: the old one forgets it */
		if (g >= 0)
			forget(a, g);
		if ((ng = place_append(a, p, &q)) < 0)
			goto nomem;	/* counted nowhere rather than wrongly */
		month_fact(a, p, &q.h, &q.c, 1);
		a->nid += g < 0;
		key_put(a, (size_t)k, (uint32_t)ng + 1);
		continue;
nomem:
		log_warnx("aggregates: out of memory");
	}
	pthread_rwlock_unlock(&a->lock);
}

/* -- facts as stored: tagged fields ------------------------------------ */

#define FACT_MAGIC	0xfa	/* never the first byte of an untagged fact */

/* The tags; each keeps its meaning for good (agg.h). */
enum {
	T_VERSION = 1, T_ID, T_PLACE, T_PERSON, T_REFERRED_ON, T_CLOSED_ON,
	T_FIRST_CONTACT, T_REASONS, T_OFFERED, T_TAKEN, T_CONTACTS, T_ATTENDED,
	T_SOURCE, T_SERVICE, T_AGE, T_GENDER, T_ETHNICITY, T_IMD, T_CLOSE,
	T_FLAGS, T_CONSENT, T_VOIDED, T_HAS_PAIR, T_BASE, T_FOLLOW,
	T_PCN,		/* version 3 */
	T_TAKEUP,	/* version 4: its take-up rows are stored (takeup.h) */
	/* version 5: what the rules and a step need (agg_step_add) */
	T_RECORDS, T_CLOSURES, T_LAST_ON, T_BASELINE, T_LATEST,
	T_N
};

/* Every tag this version reads; a fact lacking one is worked out again. */
#define TAGS_NEEDED	((1ULL << T_N) - 2)	/* 1 .. T_N - 1 */

/* A field this long or shorter goes in with its header in one append. */
#define FIELD_SHORT	48

static void
put_field(struct buf *b, int tag, const void *v, size_t len)
{
	uint8_t f[3 + FIELD_SHORT] = {(uint8_t)tag, (uint8_t)(len & 0xff),
	    (uint8_t)(len >> 8)};

	/* most fields are a few bytes: one append each, not two */
	if (len <= FIELD_SHORT) {
		if (len > 0)
			memcpy(f + 3, v, len);
		buf_add(b, f, 3 + len);
		return;
	}
	buf_add(b, f, 3);
	buf_add(b, v, len);
}

static void
put_int(struct buf *b, int tag, int64_t v, size_t len)
{
	uint8_t le[8];
	size_t i;

	for (i = 0; i < len; i++)
		le[i] = (uint8_t)((uint64_t)v >> (8 * i));
	put_field(b, tag, le, len);
}

static void
put_str(struct buf *b, int tag, const char *s)
{
	put_field(b, tag, s, strlen(s));
}

static const char *
code_at(const struct codelist *l, int i)
{
	return i >= 0 && (size_t)i < l->n ? l->v[i].code : "";
}

/* Bits of a list, as the codes' names joined by commas. */
static void
put_set(struct buf *b, int tag, const struct codelist *l, uint32_t bits)
{
	uint8_t h[3] = {(uint8_t)tag, 0, 0};
	size_t i, at = b->len, len;

	/*
	 * The names written straight after the header, whose length is
	 * filled in after them: no buffer of their own to make and free
	 * (every fact a batch writes has three sets).
	 */
	buf_add(b, h, sizeof(h));
	for (i = 0; i < l->n && i < 32; i++)
		if (bits & (1u << i)) {
			if (b->len > at + sizeof(h))
				buf_addc(b, ',');
			buf_adds(b, l->v[i].code);
		}
	if (buf_failed(b) != PC_OK)
		return;
	len = b->len - at - sizeof(h);
	b->p[at + 1] = (char)(len & 0xff);
	b->p[at + 2] = (char)(uint8_t)(len >> 8);
}

/* An assessment of the pair: none (empty), or its date, stage, scores. */
static void
put_assess(struct buf *b, int tag, int has, const struct tl_assess *a)
{
	uint8_t v[9];
	int k;

	for (k = 0; k < 4; k++)
		v[k] = (uint8_t)((uint32_t)a->on >> (8 * k));
	v[4] = (uint8_t)(int8_t)a->stage;
	for (k = 0; k < ONS4_N; k++)
		v[5 + k] = (uint8_t)(int8_t)a->score[k];
	put_field(b, tag, v, has ? sizeof(v) : 0);
}

pc_rc
agg_fact_encode(const struct fact *f, struct buf *b)
{
	uint8_t magic = FACT_MAGIC;
	uint8_t fl[4], base[ONS4_N], fol[ONS4_N];
	int k;

	buf_add(b, &magic, 1);
	put_int(b, T_VERSION, FACT_VERSION, 2);
	put_str(b, T_ID, f->id);
	put_str(b, T_PLACE, f->place);
	put_int(b, T_PERSON, (int64_t)f->person, 8);
	put_int(b, T_REFERRED_ON, f->referred_on, 4);
	put_int(b, T_CLOSED_ON, f->closed_on, 4);
	put_int(b, T_FIRST_CONTACT, f->first_contact, 4);
	put_set(b, T_REASONS, &codes_reason, f->reasons);
	put_set(b, T_OFFERED, &codes_support, f->support_offered);
	put_set(b, T_TAKEN, &codes_support, f->support_taken);
	put_int(b, T_CONTACTS, f->contacts, 2);
	put_int(b, T_ATTENDED, f->attended, 2);
	put_str(b, T_SOURCE, code_at(&codes_source, f->source));
	put_str(b, T_SERVICE, code_at(&codes_service, f->service));
	put_int(b, T_AGE, f->age, 1);
	put_str(b, T_GENDER, code_at(&codes_gender, f->gender));
	put_str(b, T_ETHNICITY, code_at(&codes_ethnicity, f->ethnicity));
	put_int(b, T_IMD, f->imd_decile, 1);
	put_str(b, T_CLOSE, f->close_reason == 255 ? "" :
	    code_at(&codes_closure, f->close_reason));
	for (k = 0; k < 4; k++)
		fl[k] = f->flags[k];
	put_field(b, T_FLAGS, fl, 4);
	put_int(b, T_CONSENT, f->consent, 1);
	put_int(b, T_VOIDED, f->voided, 1);
	put_int(b, T_HAS_PAIR, f->has_pair, 1);
	for (k = 0; k < ONS4_N; k++) {
		base[k] = (uint8_t)f->base[k];
		fol[k] = (uint8_t)f->follow[k];
	}
	put_field(b, T_BASE, base, ONS4_N);
	put_field(b, T_FOLLOW, fol, ONS4_N);
	put_str(b, T_PCN, f->pcn);
	put_int(b, T_RECORDS, f->records, 2);
	put_int(b, T_CLOSURES, f->closures, 2);
	put_int(b, T_LAST_ON, f->last_on, 4);
	put_assess(b, T_BASELINE, f->has_baseline, &f->baseline);
	put_assess(b, T_LATEST, f->has_latest, &f->latest);
	put_int(b, T_TAKEUP, 1, 1);	/* last, as version 4 wrote it */
	return b->p != NULL ? PC_OK : PC_ENOMEM;
}

/* Little-endian, sign-extended from len bytes. */
static int64_t
get_int(const uint8_t *v, size_t len)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < len && i < 8; i++)
		x |= (uint64_t)v[i] << (8 * i);
	if (len > 0 && len < 8 && (v[len - 1] & 0x80))
		x |= ~0ULL << (8 * len);
	return (int64_t)x;
}

/* As snprintf "%.*s" would (up to a NUL, cut to cap), without printf. */
static void
get_str(const uint8_t *v, size_t len, char *out, size_t cap)
{
	const uint8_t *nul = memchr(v, '\0', len);
	size_t n = nul != NULL ? (size_t)(nul - v) : len;

	if (cap == 0)
		return;
	if (n > cap - 1)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

/* A code's index by name; one this version does not know counts as 0. */
static uint8_t
get_code(const struct codelist *l, const uint8_t *v, size_t len)
{
	char name[64];

	get_str(v, len, name, sizeof(name));
	return idx(l, name);
}

static uint32_t
get_set(const struct codelist *l, const uint8_t *v, size_t len)
{
	char names[1024], *tok, *save = NULL;
	uint32_t bits = 0;
	int i;

	get_str(v, len, names, sizeof(names));
	for (tok = strtok_r(names, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if ((i = code_index(l, tok)) >= 0 && i < 32)
			bits |= 1u << i;
	return bits;
}

static void
get_assess(const uint8_t *v, size_t len, uint8_t *has, struct tl_assess *a)
{
	int k;

	memset(a, 0, sizeof(*a));
	if ((*has = len == 9) == 0)
		return;
	a->on = (int32_t)get_int(v, 4);
	a->stage = (int8_t)v[4];
	for (k = 0; k < ONS4_N; k++)
		a->score[k] = (int8_t)v[5 + k];
}

static void
get_field(struct fact *f, int tag, const uint8_t *v, size_t len, int *ver)
{
	int k;

	switch (tag) {
	case T_VERSION: *ver = (int)get_int(v, len); break;
	case T_ID: get_str(v, len, f->id, sizeof(f->id)); break;
	case T_PLACE: get_str(v, len, f->place, sizeof(f->place)); break;
	case T_PERSON: f->person = (uint64_t)get_int(v, len); break;
	case T_REFERRED_ON: f->referred_on = (int32_t)get_int(v, len); break;
	case T_CLOSED_ON: f->closed_on = (int32_t)get_int(v, len); break;
	case T_FIRST_CONTACT: f->first_contact = (int32_t)get_int(v, len);
		break;
	case T_REASONS: f->reasons = get_set(&codes_reason, v, len); break;
	case T_OFFERED: f->support_offered = get_set(&codes_support, v, len);
		break;
	case T_TAKEN: f->support_taken = get_set(&codes_support, v, len);
		break;
	case T_CONTACTS: f->contacts = (uint16_t)get_int(v, len); break;
	case T_ATTENDED: f->attended = (uint16_t)get_int(v, len); break;
	case T_SOURCE: f->source = get_code(&codes_source, v, len); break;
	case T_SERVICE: f->service = get_code(&codes_service, v, len); break;
	case T_AGE: f->age = (uint8_t)get_int(v, len); break;
	case T_GENDER: f->gender = get_code(&codes_gender, v, len); break;
	case T_ETHNICITY: f->ethnicity = get_code(&codes_ethnicity, v, len);
		break;
	case T_IMD: f->imd_decile = (uint8_t)get_int(v, len); break;
	case T_CLOSE:
		f->close_reason = len == 0 ? 255 : get_code(&codes_closure, v,
		    len);
		break;
	case T_FLAGS:
		for (k = 0; k < 4 && (size_t)k < len; k++)
			f->flags[k] = v[k] < FLAG_N ? v[k] : FLAG_NOT_KNOWN;
		break;
	case T_CONSENT: f->consent = (uint8_t)get_int(v, len); break;
	case T_VOIDED: f->voided = (uint8_t)get_int(v, len); break;
	case T_HAS_PAIR: f->has_pair = (uint8_t)get_int(v, len); break;
	case T_BASE:
		for (k = 0; k < ONS4_N && (size_t)k < len; k++)
			f->base[k] = (int8_t)v[k];
		break;
	case T_FOLLOW:
		for (k = 0; k < ONS4_N && (size_t)k < len; k++)
			f->follow[k] = (int8_t)v[k];
		break;
	case T_PCN: get_str(v, len, f->pcn, sizeof(f->pcn)); break;
	case T_TAKEUP: break;	/* a mark: the rows are in the store */
	case T_RECORDS: f->records = (uint16_t)get_int(v, len); break;
	case T_CLOSURES: f->closures = (uint16_t)get_int(v, len); break;
	case T_LAST_ON: f->last_on = (int32_t)get_int(v, len); break;
	case T_BASELINE: get_assess(v, len, &f->has_baseline, &f->baseline);
		break;
	case T_LATEST: get_assess(v, len, &f->has_latest, &f->latest); break;
	default:
		break;	/* a newer version's: not ours to read */
	}
}

int
agg_fact_decode(const void *blob, size_t len, struct fact *f, int *version)
{
	const uint8_t *p = blob, *end = p + len;
	uint64_t seen = 0;
	size_t n;

	memset(f, 0, sizeof(*f));
	*version = 0;
	if (len >= UUID_LEN && p[0] != FACT_MAGIC) {
		/* the C struct of a version before tags: its id only */
		memcpy(f->id, p, UUID_LEN);
		f->id[UUID_LEN - 1] = '\0';
		return uuid_valid(f->id) ? 1 : -1;
	}
	if (len < 1 || p[0] != FACT_MAGIC)
		return -1;
	for (p++; p + 3 <= end; p += n) {
		int tag = p[0];

		n = (size_t)p[1] | (size_t)p[2] << 8;
		p += 3;
		if (n > (size_t)(end - p))
			return -1;
		get_field(f, tag, p, n, version);
		if (tag < 64)
			seen |= 1ULL << tag;
	}
	if (p != end || !(seen & (1ULL << T_ID)) || !uuid_valid(f->id))
		return -1;
	return (seen & TAGS_NEEDED) == TAGS_NEEDED ? 0 : 1;
}

/* -- kept current on ingest --------------------------------------------- */

struct stage {
	struct store	*st;
	struct fact	*v;
	size_t		 n;
	pc_rc		 rc;
};

/* Stores f; f->key becomes the store's key of its referral. */
static pc_rc
fact_put(struct store *st, struct fact *f)
{
	struct buf b;
	pc_rc rc;

	buf_init(&b, 0);
	/* room for a fact's usual size: it grows once, not field by field */
	buf_reserve(&b, 512);
	if ((rc = agg_fact_encode(f, &b)) == PC_OK)
		rc = store_fact_put(st, f->id, f->place, f->referred_on,
		    f->consent && !f->voided, b.p, b.len, &f->key);
	buf_free(&b);
	return rc;
}

/* A fact, and beside it its referral's take-up (tl: its records). */
static pc_rc
fact_store(struct store *st, const struct timeline *tl, struct fact *f)
{
	pc_rc rc = fact_put(st, f);

	return rc == PC_OK ? takeup_stage(st, tl, f) : rc;
}

static void
stage_one(const char *key, void *val, void *arg)
{
	struct stage *s = arg;
	struct fact *f = &s->v[s->n];

	(void)key;
	if (s->rc != PC_OK)
		return;
	agg_fact(val, f);
	if (f->place[0] == '\0')
		return;		/* a referral that was never accepted */
	s->rc = fact_store(s->st, val, f);
	s->n++;
}

/* A stepped fact; its take-up rows gain the assets of its new supports. */
static void
stage_step(const char *key, void *val, void *arg)
{
	struct stage *s = arg;
	const struct agg_step *a = val;

	(void)key;
	if (s->rc != PC_OK || a->off || a->added == 0)
		return;		/* nothing changed, or its timeline's */
	s->v[s->n] = a->f;
	if ((s->rc = fact_put(s->st, &s->v[s->n])) == PC_OK && a->nsup > 0)
		s->rc = store_takeup_add(s->st, a->f.id, s->v[s->n].key,
		    a->f.place, a->f.referred_on, a->sup, a->nsup);
	s->n++;
}

pc_rc
agg_stage(struct store *st, const struct map *timelines,
    const struct map *steps, struct fact **out, size_t *n)
{
	struct stage s = {st, NULL, 0, PC_OK};
	size_t k = timelines->n + (steps != NULL ? steps->n : 0);

	*out = NULL;
	*n = 0;
	if ((s.v = calloc(k ? k : 1, sizeof(*s.v))) == NULL)
		return PC_ENOMEM;
	map_each(timelines, stage_one, &s);
	if (steps != NULL)
		map_each(steps, stage_step, &s);
	if (s.rc != PC_OK) {
		free(s.v);
		return s.rc;
	}
	*out = s.v;
	*n = s.n;
	return PC_OK;
}

pc_rc
agg_step_init(struct agg_step *a, const void *blob, size_t len)
{
	int v;

	memset(a, 0, sizeof(*a));
	/* a fact lacking a tag (an older version's) cannot say */
	if (agg_fact_decode(blob, len, &a->f, &v) != 0 ||
	    a->f.place[0] == '\0' || a->f.voided)
		return PC_ENOTFOUND;
	return PC_OK;
}

void
agg_step_free(struct agg_step *a)
{
	size_t i;

	for (i = 0; i < a->nsup; i++)
		free((char *)a->sup[i].asset);
	free(a->sup);
	memset(a, 0, sizeof(*a));
}

/* A support's take-up row, merged as takeup_stage() merges them. */
static pc_rc
step_support(struct agg_step *a, const char *asset, int taken)
{
	char *id;

	switch (takeup_merge(&a->sup, &a->nsup, &a->capsup, asset, taken)) {
	case 0:
		return PC_OK;
	case 1:
		if ((id = strdup(asset)) == NULL) {
			a->nsup--;
			return PC_ENOMEM;
		}
		a->sup[a->nsup - 1].asset = id;	/* its own, not r's */
		return PC_OK;
	default:
		return PC_ENOMEM;
	}
}

pc_rc
agg_step_add(struct agg_step *a, const struct rec *r, int *added)
{
	struct tl_summary s;
	const char *asset = "";
	int taken = 0;
	pc_rc rc;

	*added = 0;
	summary_of_fact(&a->f, &s);
	if (!tl_add(&s, a->f.place, r))
		return PC_OK;
	if (r->kind == KIND_SUPPORT) {
		taken = takeup_of(r->json, &asset);
		if ((rc = step_support(a, asset, taken)) != PC_OK)
			return rc;	/* the step as it was */
	}
	fact_of_summary(&a->f, &s);
	a->added++;
	*added = 1;
	return PC_OK;
}

/* -- loading, and catching up ------------------------------------------- */

static int
load_place(void *arg, const struct store_place *p)
{
	return agg_place_set(arg, p) != PC_OK;
}

/* Facts read from the store; those to work out again, by referral id. */
struct load {
	struct agg	*a;
	char		(*redo)[UUID_LEN];
	int64_t		*keys;		/* their store keys */
	int		*rewrite;	/* written by an older version */
	size_t		 nredo, cap;
	long		 n;
	int		 catching;	/* a catch-up's, not a start's */
	pc_rc		 rc;
};

static int
load_fact(void *arg, int64_t key, const void *blob, size_t len)
{
	struct load *l = arg;
	struct fact f;
	int v, k = agg_fact_decode(blob, len, &f, &v);

	/* test builds: a catch-up held between its snapshot and its apply */
	if (l->catching && l->n == 0)
		FAILPOINT_PAUSE("catch-up-apply");
	l->n++;
	f.key = key;
	if (k == 0) {
		agg_apply(l->a, &f, 1);
		return 0;
	}
	if (k < 0)
		return 0;	/* not a fact: nothing to show for it */
	if (l->nredo == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char (*nr)[UUID_LEN] = realloc(l->redo, cap * sizeof(*nr));
		int *nw = realloc(l->rewrite, cap * sizeof(*nw));
		int64_t *nk = realloc(l->keys, cap * sizeof(*nk));

		if (nr != NULL)
			l->redo = nr;
		if (nw != NULL)
			l->rewrite = nw;
		if (nk != NULL)
			l->keys = nk;
		if (nr == NULL || nw == NULL || nk == NULL) {
			l->rc = PC_ENOMEM;
			return 1;
		}
		l->cap = cap;
	}
	memcpy(l->redo[l->nredo], f.id, UUID_LEN);
	l->keys[l->nredo] = key;
	l->rewrite[l->nredo++] = v < FACT_VERSION;
	return 0;
}

#define REDO_BATCH	500

/*
 * Facts this version cannot read whole, worked out from their records.
 * Those an older version wrote are stored again, each batch holding its
 * referrals' locks so that no ingest lands in between; a newer one's are
 * left to it.
 */
static pc_rc
redo_facts(struct agg *a, struct store *st, struct load *l, int write)
{
	const char *refs[REDO_BATCH];
	struct timeline tl;
	struct fact f;
	size_t at, i, k;
	pc_rc rc = PC_OK;

	for (at = 0; rc == PC_OK && at < l->nredo; at += k) {
		k = l->nredo - at < REDO_BATCH ? l->nredo - at : REDO_BATCH;
		for (i = 0; i < k; i++)
			refs[i] = l->redo[at + i];
		if (write && (rc = store_begin(st)) == PC_OK)
			rc = store_batch_lock(st, refs, k, NULL, 0);
		for (i = 0; rc == PC_OK && i < k; i++) {
			if ((rc = store_record_timeline(st, refs[i], &tl)) ==
			    PC_OK) {
				agg_fact(&tl, &f);
				f.key = l->keys[at + i];
				if (f.place[0] != '\0' && write &&
				    l->rewrite[at + i])
					rc = fact_store(st, &tl, &f);
				if (rc == PC_OK && f.place[0] != '\0')
					agg_apply(a, &f, 1);
			}
			tl_free(&tl);
		}
		if (write)
			rc = rc == PC_OK ? store_commit(st) : rc;
		if (write && rc != PC_OK)
			store_rollback(st);
	}
	return rc;
}

static pc_rc
load(struct agg *a, struct store *st, struct agg_catch *c, int write)
{
	struct load l;
	pc_rc rc;

	memset(&l, 0, sizeof(l));
	l.a = a;
	l.catching = !write;
	l.rc = PC_OK;
	rc = store_facts_since(st, c->since, c->skip, c->nskip, load_fact, &l,
	    c->upto);
	c->read = l.n;
	if (rc == PC_OK)
		rc = l.rc;
	if (rc == PC_OK && l.nredo > 0) {
		if (write)
			log_info("aggregates: %zu facts from an older pcmdsd "
			    "worked out again", l.nredo);
		rc = redo_facts(a, st, &l, write);
	}
	free(l.redo);
	free(l.keys);
	free(l.rewrite);
	return rc;
}

struct rebuild {
	struct store	*st;
	long		 n;
	pc_rc		 rc;
};

static int
rebuild_one(void *arg, const char *referral)
{
	struct rebuild *r = arg;
	struct timeline tl;
	struct fact f;

	if ((r->rc = store_record_timeline(r->st, referral, &tl)) == PC_OK) {
		agg_fact(&tl, &f);
		if (f.place[0] != '\0')
			r->rc = fact_store(r->st, &tl, &f);
		r->n++;
	}
	tl_free(&tl);
	return r->rc != PC_OK;
}

/*
 * A database whose facts were never computed (from before facts) gets
 * them all; from then on each fact is read, or worked out again, alone.
 * The meta key only says that this was done once (its value, the
 * version that did it, is for an operator): an upgrade is not a rebuild,
 * since every fact carries the version that wrote it and load() works
 * out again, and stores, those an older version wrote, referral by
 * referral under their locks while ingest goes on.
 */
pc_rc
agg_rebuild(struct store *st)
{
	struct rebuild r = {st, 0, PC_OK};
	char v[16], want[16];

	snprintf(want, sizeof(want), "%d", FACT_VERSION);
	if (store_meta_get(st, "fact_version", v, sizeof(v)) == PC_OK)
		return PC_OK;
	log_info("aggregates: computing the facts of every referral");
	if ((r.rc = store_begin(st)) != PC_OK)
		return r.rc;
	if ((r.rc = store_fact_clear(st)) == PC_OK &&
	    store_referral_each(st, rebuild_one, &r) != PC_OK && r.rc == PC_OK)
		r.rc = PC_ESTORE;	/* not every referral was read */
	if (r.rc == PC_OK)
		r.rc = store_meta_set(st, "fact_version", want);
	if (r.rc == PC_OK)
		r.rc = store_commit(st);
	if (r.rc != PC_OK)
		store_rollback(st);
	else
		log_info("aggregates: %ld referrals", r.n);
	return r.rc;
}

/*
 * What the tables held in memory take, for an operator sizing a host
 * (people: those with a key; number 0 is no one's).
 */
static void
log_sizes(const struct agg *a)
{
	const struct persons *ps = a->persons;
	double mib = 1024.0 * 1024.0;

	log_info("aggregates: %zu referrals in %.1f MiB, the table of their "
	    "keys %.1f MiB; %lu people in %.1f MiB", a->nid, (double)a->nchunk *
	    sizeof(struct chunk) / mib, (double)a->nkey * (double)a->kbytes /
	    mib, (unsigned long)(ps->n > 0 ? ps->n - 1 : 0), ((double)ps->nent *
	    esize(ps) + (ps->nent > 0 ? (double)((size_t)1 << ps->bbits) + 1 :
	    0) * sizeof(*ps->bucket) + (double)ps->cap * sizeof(*ps->slot) +
	    (double)ps->capkey * sizeof(*ps->key) + (double)ps->capn *
	    3.0 / 2) / mib);
}

pc_rc
agg_open(struct agg **out, struct store *st, const uint8_t cell_key[32],
    char upto[STORE_SNAP_LEN], struct err_list *errs)
{
	struct agg *a;
	struct agg_catch c = {NULL, NULL, 0, -1, "", 0};
	pc_rc rc;

	*out = NULL;
	upto[0] = '\0';
	if ((a = agg_new(cell_key)) == NULL)
		return PC_ENOMEM;
	FAILPOINT_PAUSE("start-loading");	/* test builds: held here */
	if ((rc = store_place_each(st, load_place, a)) != PC_OK ||
	    (rc = pop_load(st, a->pop)) != PC_OK ||
	    (rc = agg_rebuild(st)) != PC_OK ||
	    (rc = load(a, st, &c, 1)) != PC_OK) {
		err_add(errs, E_SYSTEM, "", "cannot load the aggregates: %s",
		    pc_strerror(rc));
		agg_close(a);
		return rc;
	}
	memcpy(upto, c.upto, STORE_SNAP_LEN);
	keys_fit(a);
	persons_fit(a->persons);
	log_sizes(a);
	*out = a;
	return PC_OK;
}

pc_rc
agg_catch_up(struct agg *a, struct store *st, struct agg_catch *c)
{
	struct pop np, old;
	int64_t v = -1;
	pc_rc rc;

	c->read = 0;
	/* read before them: a change committed in between is seen next time */
	if ((rc = store_places_version(st, &v)) == PC_ENOTFOUND)
		v = -1;		/* the store cannot tell: every time */
	else if (rc != PC_OK)
		return rc;
	if (v < 0 || v != c->places) {
		if ((rc = store_place_each(st, load_place, a)) != PC_OK)
			return rc;
		/* denominators another server's administrator imported */
		if ((rc = pop_load(st, &np)) != PC_OK)
			return rc;
		pthread_rwlock_wrlock(&a->lock);
		old = *a->pop;
		*a->pop = np;
		pthread_rwlock_unlock(&a->lock);
		pop_free(&old);
		c->places = v;
	}
	/* in memory only: only a version's own start stores facts again */
	return load(a, st, c, 0);
}

void
agg_close(struct agg *a)
{
	size_t i;
	int k, d;

	if (a == NULL)
		return;
	agg_workers_stop(a);
	for (i = 0; i < a->nchunk; i++)
		free(a->chunk[i]);
	free(a->chunk);
	free(a->by_key);
	for (d = 0; d < DIM_N; d++)
		gsums_drop(a, (enum agg_dim)d);
	for (i = 0; i < a->nplaces; i++) {
		for (k = 0; a->places[i].month != NULL && k <= MONTH_OUT; k++)
			free(a->places[i].month[k]);
		free(a->places[i].month);
		free(a->places[i].chunks);
	}
	free(a->places);
	free(a->pcns);
	pop_free(a->pop);
	free(a->pop);
	free(a->persons->ent);
	free(a->persons->bucket);
	free(a->persons->slot);
	free(a->persons->key);
	free(a->persons->rkey);
	free(a->persons);
	ckm_keyer_free(a->keyer);
	pthread_mutex_destroy(&a->gbuild);
	pthread_rwlock_destroy(&a->lock);
	free(a);
}

/*
 * Every fact of place p, chunk by chunk: for (EACH(...)) {...}, f its
 * hot part, COLD_OF(ch, f) the rest.
 */
#define EACH(a, p, ci, ch, f, end)	EACH_IN(a, p, 0, (p)->nchunks, ci, ch, \
		    f, end)
/* The same, of its chunks c0 .. c1 - 1. */
#define EACH_IN(a, p, c0, c1, ci, ch, f, end)				\
	ci = (c0); ci < (c1); ci++)					\
		for (ch = (a)->chunk[(p)->chunks[ci]], f = ch->h,	\
		    end = f + ch->n; f < end; f++
#define COLD_OF(ch, f)	(&(ch)->c[(f) - (ch)->h])

static int
counted(const struct qhot *f, const struct agg_query *q)
{
	return !(f->rk & Q_VOIDED) && f->referred_on >= q->from &&
	    f->referred_on <= q->to;
}

/* A pair's scores into the sums of each measure, and their keys. */
static void
ons4_fact(struct agg_ons4 *ons4, long *k_improved, long *k_worst_base,
    long *k_left_worst, const struct qhot *f, const struct qcold *fc,
    long s)
{
	long k = Q_KEY(f) * s;
	int m;

	for (m = 0; m < ONS4_N; m++) {
		struct agg_ons4 *o = &ons4[m];
		int b = fc->score[m] & 15, fo = fc->score[m] >> 4, d = fo - b;
		long t = pair_tab[m][fc->score[m]];

		k_improved[m] += k * (t & 1);
		k_worst_base[m] += k * (t >> 1 & 1);
		k_left_worst[m] += k * (t >> 2 & 1);
		o->n += s;
		o->sum_base += s * b;
		o->sum_follow += s * fo;
		o->sum_d += s * d;
		o->sum_d2 += s * d * d;
		o->hist_d[d + 10] += s;
		o->improved += s * (t & 1);
		o->worst_base += s * (t >> 1 & 1);
		o->left_worst += s * (t >> 2 & 1);
	}
}

static void
add_pair(struct agg_cell *c, const struct qhot *f, const struct qcold *fc,
    long s)
{
	c->pairs += s;
	c->key.pairs += Q_KEY(f) * s;
	ons4_fact(c->ons4, c->key.improved, c->key.worst_base,
	    c->key.left_worst, f, fc, s);
}

/* Distinct people seen, one bit per person number, and their keys. */
struct seen {
	uint64_t	*bits;
	long		 n;
	long		 key;
};

/* Counts a referral's person once: people and their key sum. */
static inline void
see(struct seen *people, const struct qhot *f)
{
	uint64_t bit = 1ULL << (f->pid & 63), *w = &people->bits[f->pid >> 6];

	if (!(*w & bit)) {
		*w |= bit;
		people->n++;
		people->key += Q_KEY(f);
	}
}

/*
 * A fact into a cell (s = 1) or out of it (s = -1): every count but
 * people, which is no sum. The inner loop of a pass: keep it to
 * increments.
 */
static void
cell_fact(struct agg_cell *c, const struct qhot *f, const struct qcold *fc,
    long s)
{
	struct agg_keys *ks = &c->key;
	long k = Q_KEY(f) * s, consent = (f->rk & Q_CONSENT) != 0;
	uint64_t sets = qsets(fc);
	int close = Q_CLOSE(f), days = S_DAYS(sets), d;
	uint32_t b;

	c->referrals += s;
	ks->referrals += k;
	c->consented += s * consent;
	ks->consented += k * consent;
	c->contacts += s * fc->contacts;
	ks->contacts += k * fc->contacts;
	c->attended += s * fc->attended;
	ks->attended += k * fc->attended;
	if (close != Q_OPEN) {
		c->closed += s;
		ks->closed += k;
		c->closed_by[close & 7] += s;
		ks->closed_by[close & 7] += k;
		c->closed_contacts[fc->attended < AGG_CONTACTS - 1 ?
		    fc->attended : AGG_CONTACTS - 1] += s;
	}
	if (days >= 0) {
		c->days_hist[days] += s;
		c->days_n += s;
		ks->days_n += k;
	}
	for (b = S_OFFERED(sets); b != 0; b &= b - 1) {
		c->offered[__builtin_ctz(b)] += s;
		ks->offered[__builtin_ctz(b)] += k;
	}
	for (b = S_TAKEN(sets); b != 0; b &= b - 1) {
		c->taken[__builtin_ctz(b)] += s;
		ks->taken[__builtin_ctz(b)] += k;
	}
	for (d = 1; d < DIM_N; d++) {
		int g;

		if (d == DIM_REASON)
			continue;
		g = group_tab[d][qcode(f, (enum agg_dim)d)];
		c->by[d][g] += s;
		ks->by[d][g] += k;
	}
	for (b = S_REASONS(sets); b != 0; b &= b - 1) {
		c->by[DIM_REASON][__builtin_ctz(b)] += s;
		ks->by[DIM_REASON][__builtin_ctz(b)] += k;
	}
	if (consent && (f->rk & Q_PAIR))
		add_pair(c, f, fc, s);
}

/*
 * A group's ONS4 pairs as a pass counts them: how many (and their keys)
 * had each pair of scores 0..10, measure by measure; every sum of the
 * pairs is worked out from these once at the end (pairs_fold), exactly.
 */
struct pairs {
	long		 n[ONS4_N][121], key[ONS4_N][121];
};

/* A group's cell: only what a breakdown shows. */
static inline void
add_group_fact(struct agg_cell *c, struct pairs *pp, struct seen *people,
    const struct qhot *f, const struct qcold *fc)
{
	long k = Q_KEY(f), consent = (f->rk & Q_CONSENT) != 0;
	int close = Q_CLOSE(f), m;

	c->referrals++;
	c->key.referrals += k;
	see(people, f);
	c->consented += consent;
	c->key.consented += k * consent;
	if (close != Q_OPEN) {
		c->closed_by[close & 7]++;
		c->key.closed_by[close & 7] += k;
	}
	if (!consent || !(f->rk & Q_PAIR))
		return;
	for (m = 0; m < ONS4_N && pair_bin[fc->score[m]] != 255; m++)
		;
	if (m < ONS4_N) {
		add_pair(c, f, fc, 1);	/* a score out of range: as it is */
		return;
	}
	c->pairs++;
	c->key.pairs += k;
	for (m = 0; m < ONS4_N; m++) {
		pp->n[m][pair_bin[fc->score[m]]]++;
		pp->key[m][pair_bin[fc->score[m]]] += k;
	}
}

/* The pairs counted by bin into cell c's sums. */
static void
pairs_fold(struct agg_cell *c, const struct pairs *pp)
{
	int m, v;

	for (m = 0; m < ONS4_N; m++)
		for (v = 0; v < 121; v++) {
			struct agg_ons4 *o = &c->ons4[m];
			long n = pp->n[m][v], k = pp->key[m][v];
			long b = v % 11, fo = v / 11, d = fo - b;
			long t = pair_tab[m][b | fo << 4];

			if (n == 0 && k == 0)
				continue;
			c->key.improved[m] += k * (t & 1);
			c->key.worst_base[m] += k * (t >> 1 & 1);
			c->key.left_worst[m] += k * (t >> 2 & 1);
			o->n += n;
			o->sum_base += n * b;
			o->sum_follow += n * fo;
			o->sum_d += n * d;
			o->sum_d2 += n * d * d;
			o->hist_d[d + 10] += n;
			o->improved += n * (t & 1);
			o->worst_base += n * (t >> 1 & 1);
			o->left_worst += n * (t >> 2 & 1);
		}
}

/* Every counter of a cell is a sum: cells add up field by field. */
_Static_assert(sizeof(struct agg_cell) % sizeof(long) == 0,
    "struct agg_cell holds longs only");

static void
cell_add(struct agg_cell *dst, const struct agg_cell *src)
{
	long *d = (long *)dst;
	const long *sv = (const long *)src;
	size_t i;

	for (i = 0; i < sizeof(*dst) / sizeof(long); i++)
		d[i] += sv[i];
}

/*
 * A place's sums of one month: a cell's counts in 32 bits (a place's
 * month counts far fewer than 2^31 of anything, where a cell of a query
 * may add up many), then its cell keys in 64 as a cell has them (each a
 * sum of keys up to 4095 a count); field for field in a cell's order,
 * index i of a cell's longs being count i or key i - CELL_COUNTS. Some
 * 6 KiB a month where a cell takes 10.
 */
#define CELL_LONGS	(sizeof(struct agg_cell) / sizeof(long))
#define CELL_COUNTS	(offsetof(struct agg_cell, key) / sizeof(long))
/* index of a field (or its first element) among a cell's longs */
#define CI(field)	(offsetof(struct agg_cell, field) / sizeof(long))
#define ONS4_LONGS	(sizeof(struct agg_ons4) / sizeof(long))

_Static_assert(offsetof(struct agg_cell, key) + sizeof(struct agg_keys) ==
    sizeof(struct agg_cell), "a cell's keys come last");

struct mcell {
	int32_t		 n[CELL_COUNTS];
	long		 key[CELL_LONGS - CELL_COUNTS];
};

static inline void
mc_n(struct mcell *m, size_t i, long v)
{
	m->n[i] = (int32_t)(m->n[i] + v);
}

static inline void
mc_k(struct mcell *m, size_t i, long v)
{
	m->key[i - CELL_COUNTS] += v;
}

/* What cell_fact() adds to a cell, into a month's sums. */
static void
month_cell_fact(struct mcell *c, const struct qhot *f,
    const struct qcold *fc, long s)
{
	long k = Q_KEY(f) * s, consent = (f->rk & Q_CONSENT) != 0;
	uint64_t sets = qsets(fc);
	int close = Q_CLOSE(f), days = S_DAYS(sets), d, m;
	uint32_t b;

	mc_n(c, CI(referrals), s);
	mc_k(c, CI(key.referrals), k);
	mc_n(c, CI(consented), s * consent);
	mc_k(c, CI(key.consented), k * consent);
	mc_n(c, CI(contacts), s * fc->contacts);
	mc_k(c, CI(key.contacts), k * fc->contacts);
	mc_n(c, CI(attended), s * fc->attended);
	mc_k(c, CI(key.attended), k * fc->attended);
	if (close != Q_OPEN) {
		mc_n(c, CI(closed), s);
		mc_k(c, CI(key.closed), k);
		mc_n(c, CI(closed_by) + (close & 7), s);
		mc_k(c, CI(key.closed_by) + (close & 7), k);
		mc_n(c, CI(closed_contacts) + (fc->attended < AGG_CONTACTS - 1 ?
		    fc->attended : AGG_CONTACTS - 1), s);
	}
	if (days >= 0) {
		mc_n(c, CI(days_hist) + (size_t)days, s);
		mc_n(c, CI(days_n), s);
		mc_k(c, CI(key.days_n), k);
	}
	for (b = S_OFFERED(sets); b != 0; b &= b - 1) {
		mc_n(c, CI(offered) + (size_t)__builtin_ctz(b), s);
		mc_k(c, CI(key.offered) + (size_t)__builtin_ctz(b), k);
	}
	for (b = S_TAKEN(sets); b != 0; b &= b - 1) {
		mc_n(c, CI(taken) + (size_t)__builtin_ctz(b), s);
		mc_k(c, CI(key.taken) + (size_t)__builtin_ctz(b), k);
	}
	for (d = 1; d < DIM_N; d++) {
		size_t g;

		if (d == DIM_REASON)
			continue;
		g = (size_t)d * 18 + group_tab[d][qcode(f, (enum agg_dim)d)];
		mc_n(c, CI(by) + g, s);
		mc_k(c, CI(key.by) + g, k);
	}
	for (b = S_REASONS(sets); b != 0; b &= b - 1) {
		mc_n(c, CI(by) + DIM_REASON * 18 + (size_t)__builtin_ctz(b), s);
		mc_k(c, CI(key.by) + DIM_REASON * 18 +
		    (size_t)__builtin_ctz(b), k);
	}
	if (!consent || !(f->rk & Q_PAIR))
		return;
	mc_n(c, CI(pairs), s);
	mc_k(c, CI(key.pairs), k);
	for (m = 0; m < ONS4_N; m++) {
		size_t o = CI(ons4) + (size_t)m * ONS4_LONGS;
		int sb = fc->score[m] & 15, fo = fc->score[m] >> 4, df = fo - sb;
		long t = pair_tab[m][fc->score[m]];

		mc_k(c, CI(key.improved) + (size_t)m, k * (t & 1));
		mc_k(c, CI(key.worst_base) + (size_t)m, k * (t >> 1 & 1));
		mc_k(c, CI(key.left_worst) + (size_t)m, k * (t >> 2 & 1));
		mc_n(c, o + CI(ons4[0].n) - CI(ons4), s);
		mc_n(c, o + CI(ons4[0].sum_base) - CI(ons4), s * sb);
		mc_n(c, o + CI(ons4[0].sum_follow) - CI(ons4), s * fo);
		mc_n(c, o + CI(ons4[0].sum_d) - CI(ons4), s * df);
		mc_n(c, o + CI(ons4[0].sum_d2) - CI(ons4), s * df * df);
		mc_n(c, o + CI(ons4[0].hist_d) - CI(ons4) + (size_t)(df + 10),
		    s);
		mc_n(c, o + CI(ons4[0].improved) - CI(ons4), s * (t & 1));
		mc_n(c, o + CI(ons4[0].worst_base) - CI(ons4),
		    s * (t >> 1 & 1));
		mc_n(c, o + CI(ons4[0].left_worst) - CI(ons4),
		    s * (t >> 2 & 1));
	}
}

/* A month's sums into a cell. */
static void
month_add(struct agg_cell *dst, const struct mcell *src)
{
	long *d = (long *)dst;
	size_t i;

	for (i = 0; i < CELL_COUNTS; i++)
		d[i] += src->n[i];
	for (; i < CELL_LONGS; i++)
		d[i] += src->key[i - CELL_COUNTS];
}

/* The month cell of day d, -1 outside MONTHS_FROM.. (a pass adds those). */
static int
month_of(int32_t d)
{
	int y, m, dd;

	date_to_ymd(d, &y, &m, &dd);
	y -= MONTHS_FROM;
	return y >= 0 && y * 12 < MONTHS_N ? y * 12 + m - 1 : -1;
}

/*
 * What a breakdown shows of a group (add_group_fact), summed over the
 * facts of one place and month, with the person numbers of those facts:
 * kept for the dimensions queried by group, so that a query by group
 * reads no fact of the months it covers whole.
 */
struct gsum {
	long		 referrals, consented, closed_by[8], pairs;
	struct agg_ons4	 ons4[ONS4_N];
	long		 k_referrals, k_consented, k_closed_by[8], k_pairs;
	long		 k_improved[ONS4_N], k_worst_base[ONS4_N];
	long		 k_left_worst[ONS4_N];
	/* the person numbers of its facts, one per fact (a person with two
	   facts here is in twice), in no order: a query ORs them into its
	   bitmaps instead of reading the facts (see_people). People of a
	   place and month are numbered close together, mostly: those near
	   the first put are kept in 16 bits as number - base, the others
	   in 32 */
	uint16_t	*near;
	uint32_t	*far;
	uint32_t	 base, nnear, capnear, nfar, capfar;
};

/* How far below the first person number the 16 bits reach. */
#define NEAR_BELOW	8192

/* The groups of dimension d (of n) a fact is in: bit i for group i. */
static inline uint32_t
qgroups(const struct qhot *f, const struct qcold *fc, enum agg_dim d, int n)
{
	uint32_t g;

	if (d == DIM_REASON)
		return S_REASONS(qsets(fc)) & ((1u << n) - 1);
	g = group_tab[d][qcode(f, d)];
	return g < (uint32_t)n ? 1u << g : 0;
}

static int
ngroups(enum agg_dim d)
{
	return (int)agg_dims[d].codes->n;
}

static void
gsum_fact(struct gsum *g, const struct qhot *f, const struct qcold *fc,
    long s)
{
	long k = Q_KEY(f) * s, consent = (f->rk & Q_CONSENT) != 0;
	int close = Q_CLOSE(f);

	g->referrals += s;
	g->k_referrals += k;
	g->consented += s * consent;
	g->k_consented += k * consent;
	if (close != Q_OPEN) {
		g->closed_by[close & 7] += s;
		g->k_closed_by[close & 7] += k;
	}
	if (consent && (f->rk & Q_PAIR)) {
		g->pairs += s;
		g->k_pairs += k;
		ons4_fact(g->ons4, g->k_improved, g->k_worst_base,
		    g->k_left_worst, f, fc, s);
	}
}

/* A group's sums into its cell. */
static void
gsum_add(struct agg_cell *c, const struct gsum *g)
{
	int i;

	c->referrals += g->referrals;
	c->key.referrals += g->k_referrals;
	c->consented += g->consented;
	c->key.consented += g->k_consented;
	for (i = 0; i < 8; i++) {
		c->closed_by[i] += g->closed_by[i];
		c->key.closed_by[i] += g->k_closed_by[i];
	}
	c->pairs += g->pairs;
	c->key.pairs += g->k_pairs;
	for (i = 0; i < ONS4_N; i++) {
		long *to = (long *)&c->ons4[i];
		const long *from = (const long *)&g->ons4[i];
		size_t j;

		for (j = 0; j < sizeof(g->ons4[i]) / sizeof(long); j++)
			to[j] += from[j];
		c->key.improved[i] += g->k_improved[i];
		c->key.worst_base[i] += g->k_worst_base[i];
		c->key.left_worst[i] += g->k_left_worst[i];
	}
}

/*
 * v (room for *cap items of size each, n of them used) with room for one
 * more; NULL no memory, v as it was.
 */
static void *
people_room(void *v, uint32_t n, uint32_t *cap, size_t size)
{
	uint32_t nc = *cap ? *cap + *cap / 2 : 8;

	if (n < *cap)
		return v;
	if (nc <= *cap || (v = realloc(v, (size_t)nc * size)) == NULL)
		return NULL;
	*cap = nc;
	return v;
}

/*
 * One copy of person number pid out of g: looked for among the near
 * ones, then the far (put before the base moved, or away from it).
 */
static void
people_out(struct gsum *g, uint32_t pid)
{
	uint32_t i, x = pid - g->base;

	for (i = pid >= g->base && x <= UINT16_MAX ? g->nnear : 0; i-- > 0;)
		if (g->near[i] == x) {
			g->near[i] = g->near[--g->nnear];
			return;
		}
	for (i = g->nfar; i-- > 0;)
		if (g->far[i] == pid) {
			g->far[i] = g->far[--g->nfar];
			return;
		}
}

/*
 * A person number into a group's (s = 1) or one of its copies out (s =
 * -1: any copy, each stands for one fact); -1 no memory. The last put
 * are looked at first: a correction is most often of a recent referral.
 * The base moves only when no number is kept from it.
 */
static int
people_put(struct gsum *g, uint32_t pid, long s)
{
	void *nv;

	if (s < 0) {
		people_out(g, pid);
		return 0;
	}
	if (g->nnear == 0)
		g->base = pid > NEAR_BELOW ? pid - NEAR_BELOW : 0;
	if (pid >= g->base && pid - g->base <= UINT16_MAX) {
		if ((nv = people_room(g->near, g->nnear, &g->capnear,
		    sizeof(*g->near))) == NULL)
			return -1;
		g->near = nv;
		g->near[g->nnear++] = (uint16_t)(pid - g->base);
		return 0;
	}
	if ((nv = people_room(g->far, g->nfar, &g->capfar,
	    sizeof(*g->far))) == NULL)
		return -1;
	g->far = nv;
	g->far[g->nfar++] = pid;
	return 0;
}

/* A record key by person number (every fact of a person carries it). */
static inline long
person_key(const struct agg *a, uint32_t pid)
{
	return a->persons->rkey != NULL ? rkey_get(a->persons->rkey, pid) : 0;
}

/* Person pid into a query's bitmap (see()), its count and key sum. */
static inline void
see_pid(uint64_t *bits, const uint8_t *rkey, uint32_t pid, long *n,
    long *key)
{
	uint64_t bit = 1ULL << (pid & 63), *w = &bits[pid >> 6];

	if (!(*w & bit)) {
		*w |= bit;
		(*n)++;
		*key += rkey != NULL ? rkey_get(rkey, pid) : 0;
	}
}

/* A group's people of one month into a query's bitmap. */
static void
see_people(const struct agg *a, struct seen *people, const struct gsum *g)
{
	const uint8_t *rkey = a->persons->rkey;
	uint64_t *bits = people->bits;
	long n = 0, key = 0;
	uint32_t i, pid;

	for (i = 0; i < g->nnear; i++) {
		pid = g->base + g->near[i];
		see_pid(bits, rkey, pid, &n, &key);
	}
	for (i = 0; i < g->nfar; i++) {
		pid = g->far[i];
		see_pid(bits, rkey, pid, &n, &key);
	}
	people->n += n;
	people->key += key;
}

/*
 * A fact into (or out of) its groups' sums of month mi; -1 no memory.
 * Each month has one more gsum than groups, [n], of the people of the
 * facts in none (only its people are kept).
 */
static int
gmonth_fact(struct agg_place *p, enum agg_dim d, int mi,
    const struct qhot *f, const struct qcold *fc, long s)
{
	int n = ngroups(d), g;
	struct gsum *gm;
	uint32_t b;

	if (p->gmonth[d] == NULL && (p->gmonth[d] = calloc(MONTHS_N,
	    sizeof(*p->gmonth[d]))) == NULL)
		return -1;
	if (p->gmonth[d][mi] == NULL && (p->gmonth[d][mi] = calloc((size_t)n +
	    1, sizeof(struct gsum))) == NULL)
		return -1;
	gm = p->gmonth[d][mi];
	if ((b = qgroups(f, fc, d, n)) == 0)
		return people_put(&gm[n], f->pid, s);
	for (; b != 0; b &= b - 1) {
		g = __builtin_ctz(b);
		if (people_put(&gm[g], f->pid, s) != 0)
			return -1;
		gsum_fact(&gm[g], f, fc, s);
	}
	return 0;
}

/* v (n items of size each, room for *cap) with no room left over. */
static void *
people_fit(void *v, uint32_t n, uint32_t *cap, size_t size)
{
	void *nv;

	if (n == *cap)
		return v;
	if (n == 0) {
		free(v);
		*cap = 0;
		return NULL;
	}
	if ((nv = realloc(v, (size_t)n * size)) == NULL)
		return v;	/* as it was: only room lost */
	*cap = n;
	return nv;
}

/* The person numbers of d's group sums, just made, with no room left. */
static void
gsums_fit(struct agg *a, enum agg_dim d)
{
	struct gsum **m, *g;
	size_t i;
	int k, j;

	for (i = 0; i < a->nplaces; i++)
		for (k = 0; (m = a->places[i].gmonth[d]) != NULL &&
		    k < MONTHS_N; k++)
			for (j = 0; m[k] != NULL && j <= ngroups(d); j++) {
				g = &m[k][j];
				g->near = people_fit(g->near, g->nnear,
				    &g->capnear, sizeof(*g->near));
				g->far = people_fit(g->far, g->nfar,
				    &g->capfar, sizeof(*g->far));
			}
}

/* Every place's group sums of d freed: queries pass over facts for them. */
static void
gsums_drop(struct agg *a, enum agg_dim d)
{
	size_t i;
	int k, g;

	for (i = 0; i < a->nplaces; i++) {
		struct gsum **m = a->places[i].gmonth[d];

		for (k = 0; m != NULL && k < MONTHS_N; k++) {
			for (g = 0; m[k] != NULL && g <= ngroups(d); g++) {
				free(m[k][g].near);
				free(m[k][g].far);
			}
			free(m[k]);
		}
		free(m);
		a->places[i].gmonth[d] = NULL;
	}
	__atomic_and_fetch(&a->gdims, ~(1u << d), __ATOMIC_RELEASE);
}

/*
 * The group sums of q's dimension, made on the first query by it: 1
 * there, 0 not (no memory, or the full pass asked for). Under the lock
 * for reading: no fact changes meanwhile, and queries of other
 * dimensions read on; gbuild keeps two makers of one apart.
 */
static int
gsums_ready(struct agg *a, enum agg_dim d)
{
	const struct chunk *ch;
	const struct qhot *f, *end;
	uint32_t bit = 1u << d;
	size_t pi, ci;
	int mi, ok = 1;

	if (a->full_pass || d == DIM_NONE)
		return 0;
	if (__atomic_load_n(&a->gdims, __ATOMIC_ACQUIRE) & bit)
		return 1;
	pthread_mutex_lock(&a->gbuild);
	if (!(__atomic_load_n(&a->gdims, __ATOMIC_ACQUIRE) & bit)) {
		for (pi = 0; ok && pi < a->nplaces; pi++) {
			struct agg_place *p = &a->places[pi];

			for (EACH(a, p, ci, ch, f, end))
				if (ok && !(f->rk & Q_VOIDED) && (mi =
				    month_of(f->referred_on)) >= 0 &&
				    gmonth_fact(p, d, mi, f, COLD_OF(ch, f), 1) !=
				    0)
					ok = 0;
		}
		if (ok) {
			gsums_fit(a, d);	/* most are of months gone */
			__atomic_or_fetch(&a->gdims, bit, __ATOMIC_RELEASE);
		} else
			gsums_drop(a, d);
	}
	pthread_mutex_unlock(&a->gbuild);
	return (__atomic_load_n(&a->gdims, __ATOMIC_ACQUIRE) & bit) != 0;
}

/* Keeps month sums current as a fact comes (s = 1) or goes (s = -1). */
static void
month_fact(struct agg *a, struct agg_place *p, const struct qhot *f,
    const struct qcold *fc, long s)
{
	uint32_t dims = __atomic_load_n(&a->gdims, __ATOMIC_ACQUIRE);
	int mi, d;

	if (f->rk & Q_VOIDED)
		return;
	if ((mi = month_of(f->referred_on)) < 0)
		mi = MONTH_OUT;
	if (p->month == NULL &&
	    (p->month = calloc(MONTH_OUT + 1, sizeof(*p->month))) == NULL)
		goto nomem;
	if (p->month[mi] == NULL &&
	    (p->month[mi] = calloc(1, sizeof(*p->month[mi]))) == NULL)
		goto nomem;
	month_cell_fact(p->month[mi], f, fc, s);
	for (d = 1; mi != MONTH_OUT && d < DIM_N; d++)
		if ((dims & 1u << d) && gmonth_fact(p, (enum agg_dim)d, mi, f,
		    fc, s) != 0)
			gsums_drop(a, (enum agg_dim)d);	/* a pass does without */
	return;
nomem:
	/* a query sums every fact itself from now on: slower, still right */
	p->month_lost = 1;
}

/*
 * The whole months a query covers, as month cells m0..m1 and the days
 * they hold, from..to (from > to: none); facts on those days are in the
 * cells, the others are added up one by one.
 */
struct span {
	int		 m0, m1;
	int32_t		 from, to;
};

static void
span_of(const struct agg *a, const struct agg_place *p,
    const struct agg_query *q, struct span *sp)
{
	int32_t lo = date_from_ymd(MONTHS_FROM, 1, 1),
	    hi = date_from_ymd(MONTHS_FROM + MONTHS_N / 12, 1, 1) - 1;
	int32_t from = q->from > lo ? q->from : lo, to = q->to < hi ? q->to : hi;
	int y, m, d;

	*sp = (struct span){0, -1, 1, 0};
	if (a->full_pass || p->month == NULL || p->month_lost || from > to)
		return;
	date_to_ymd(from, &y, &m, &d);
	if (d != 1)
		m = m == 12 ? (y++, 1) : m + 1;
	sp->m0 = (y - MONTHS_FROM) * 12 + m - 1;
	sp->from = date_from_ymd(y, m, 1);
	date_to_ymd(to + 1, &y, &m, &d);
	sp->to = date_from_ymd(y, m, 1) - 1;	/* the last whole month's end */
	sp->m1 = (y - MONTHS_FROM) * 12 + m - 2;
	if (sp->m1 < sp->m0 || sp->to < sp->from)
		*sp = (struct span){0, -1, 1, 0};
}

/* Whether month mi of place p (or MONTH_OUT) has a referral counted. */
static int
month_any(const struct agg_place *p, int mi)
{
	return mi >= 0 && mi <= MONTH_OUT && p->month[mi] != NULL &&
	    p->month[mi]->n[CI(referrals)] != 0;
}

/*
 * Whether q counts facts of p beside the whole months of sp: those of
 * the months it covers in part (the one before sp's, the one after) and
 * those dated outside every month's; 0 only when there are none.
 */
static int
facts_beside(const struct agg_place *p, const struct agg_query *q,
    const struct span *sp)
{
	if (sp->m1 < sp->m0)
		return 1;
	return (q->from < sp->from && (month_any(p, sp->m0 - 1) ||
	    month_any(p, MONTH_OUT))) || (q->to > sp->to &&
	    ((sp->m1 + 1 < MONTHS_N && month_any(p, sp->m1 + 1)) ||
	    month_any(p, MONTH_OUT)));
}

/*
 * The referrals of place p in q's period into cell tot, their people
 * into total (and any), and into the groups of q->group_by (their pairs
 * by bin into pp; gs: from the group sums, for the months they cover
 * whole, their people too: then only the facts beside those months are
 * read, if any). With groups, total is NULL and the people of the
 * referrals in no group go into sets[r->ngroups]: the total's people are
 * the union of the groups' (people_union). Of the place's chunks c0 ..
 * c1 - 1 only, with the month sums when months is 1 (a share of a pass).
 */
static void
add_chunks(const struct agg *a, const struct agg_place *p,
    const struct agg_query *q, struct agg_cell *tot, struct agg_result *r,
    struct seen *total, struct seen *sets, struct pairs *pp,
    struct seen *any, int gs, size_t c0, size_t c1, int months)
{
	const struct chunk *ch;
	const struct qhot *f, *end;
	enum agg_dim d = q->group_by;
	struct span sp;
	size_t ci;
	uint32_t bits;
	int mi, g, whole;

	span_of(a, p, q, &sp);
	gs = gs && p->gmonth[d] != NULL;
	for (mi = sp.m0; months && mi <= sp.m1; mi++) {
		if (p->month[mi] != NULL)
			month_add(tot, p->month[mi]);
		for (g = 0; gs && p->gmonth[d][mi] != NULL && g < r->ngroups;
		    g++)
			gsum_add(&r->groups[g], &p->gmonth[d][mi][g]);
		for (g = 0; gs && p->gmonth[d][mi] != NULL && g <= r->ngroups;
		    g++)
			see_people(a, &sets[g], &p->gmonth[d][mi][g]);
	}
	if (gs && !facts_beside(p, q, &sp))
		return;
	for (EACH_IN(a, p, c0, c1, ci, ch, f, end)) {
		if (!counted(f, q))
			continue;
		if (total != NULL)
			see(total, f);
		if (any != NULL)
			see(any, f);
		whole = f->referred_on >= sp.from && f->referred_on <= sp.to;
		if (!whole)
			cell_fact(tot, f, COLD_OF(ch, f), 1);
		if (d == DIM_NONE || (whole && gs))
			continue;	/* in the sums, people and all */
		if ((bits = qgroups(f, COLD_OF(ch, f), d, r->ngroups)) == 0)
			see(&sets[r->ngroups], f);
		else
			for (; bits != 0; bits &= bits - 1) {
				g = __builtin_ctz(bits);
				add_group_fact(&r->groups[g], &pp[g], &sets[g],
				    f, COLD_OF(ch, f));
			}
	}
}

static void
add_place(const struct agg *a, const struct agg_place *p,
    const struct agg_query *q, struct agg_cell *tot, struct agg_result *r,
    struct seen *total, struct seen *sets, struct pairs *pp,
    struct seen *any)
{
	add_chunks(a, p, q, tot, r, total, sets, pp, any, 0, 0, p->nchunks, 1);
}

/*
 * The people of sets[0..n-1] together, each once, with their record keys
 * (every fact of a person carries the person's key): the sets' key sums
 * less the keys of those in more than one set, counted once too many
 * for each set past the first (few: most are in one group).
 */
static void
people_union(const struct agg *a, const struct seen *sets, int n,
    struct seen *out)
{
	size_t words = (size_t)a->persons->n / 64 + 1, w;
	int i, b;
	long in;

	out->n = out->key = 0;
	for (i = 0; i < n; i++)
		out->key += sets[i].key;
	for (w = 0; w < words; w++) {
		uint64_t u = 0, twice = 0;

		for (i = 0; i < n; i++) {
			twice |= u & sets[i].bits[w];
			u |= sets[i].bits[w];
		}
		out->n += __builtin_popcountll(u);
		for (; twice != 0; twice &= twice - 1) {
			b = __builtin_ctzll(twice);
			for (i = 0, in = 0; i < n; i++)
				in += (long)(sets[i].bits[w] >> b & 1);
			out->key -= (in - 1) * person_key(a,
			    (uint32_t)(w * 64 + (size_t)b));
		}
	}
}

/* The bitmaps of a query: sets[0..ngroups-1] for groups, then the total's. */
static struct seen *
seen_new(const struct agg *a, int n)
{
	size_t words = (size_t)a->persons->n / 64 + 1;
	struct seen *sets = calloc((size_t)n, sizeof(*sets));
	int i;

	for (i = 0; sets != NULL && i < n; i++)
		if ((sets[i].bits = calloc(words, sizeof(uint64_t))) == NULL) {
			while (i-- > 0)
				free(sets[i].bits);
			free(sets);
			return NULL;
		}
	return sets;
}

static void
seen_free(struct seen *sets, int n)
{
	int i;

	for (i = 0; sets != NULL && i < n; i++)
		free(sets[i].bits);
	free(sets);
}

/*
 * A share of a query's pass, into cells, bitmaps and pair bins of its
 * own: the chunks of its places a->unit at a time, taking the next unit
 * left (*unit) until none is; the first share (the caller's) adds the
 * month sums. Shares are run by the caller and by the workers
 * (agg_workers_start), under the caller's lock for reading: a worker
 * slow to get a core holds up at most the unit it has started.
 */
struct share {
	struct agg		*a;
	const struct agg_query	*q;
	size_t			*unit;	/* the next UNIT of the query's */
	int			 k, gs;
	struct agg_result	 r;	/* total, groups */
	struct seen		*sets;	/* as in add_chunks */
	struct pairs		*pp;
	struct workq_job	 job;	/* the workers' handle on it */
};

static void
share_free(struct share *sh)
{
	seen_free(sh->sets, sh->r.ngroups + 1);
	free(sh->pp);
	agg_result_free(&sh->r);
}

static int
share_new(struct share *sh, struct agg *a, const struct agg_query *q, int k,
    size_t *unit, int gs)
{
	const struct codelist *gl = q->group_by != DIM_NONE ?
	    agg_dims[q->group_by].codes : NULL;
	int n = gl != NULL ? (int)gl->n : 0;

	memset(sh, 0, sizeof(*sh));
	sh->a = a;
	sh->q = q;
	sh->k = k;
	sh->unit = unit;
	sh->gs = gs;
	sh->r.ngroups = n;
	if ((sh->sets = seen_new(a, n + 1)) == NULL || (n > 0 &&
	    ((sh->r.groups = calloc((size_t)n, sizeof(*sh->r.groups))) ==
	    NULL || (sh->pp = calloc((size_t)n, sizeof(*sh->pp))) == NULL))) {
		share_free(sh);
		return -1;
	}
	return 0;
}

static void
share_run(struct share *sh)
{
	const struct agg *a = sh->a;
	const struct agg_query *q = sh->q;
	struct seen *total = sh->r.ngroups > 0 ? NULL : &sh->sets[0];
	const struct agg_place *p;
	size_t pi, u, at, nu, c0;

	for (pi = 0; sh->k == 0 && pi < a->nplaces; pi++) {
		p = &a->places[pi];
		if (q->place < 0 || (size_t)q->place == pi) {
			sh->r.population += p->p.population;
			add_chunks(a, p, q, &sh->r.total, &sh->r, total,
			    sh->sets, sh->pp, NULL, sh->gs, 0, 0, 1);
		}
	}
	for (;;) {
		u = __atomic_fetch_add(sh->unit, 1, __ATOMIC_RELAXED);
		for (pi = 0, at = 0; pi < a->nplaces; pi++) {
			if (q->place >= 0 && (size_t)q->place != pi)
				continue;
			nu = (a->places[pi].nchunks + a->unit - 1) / a->unit;
			if (u < at + nu)
				break;
			at += nu;
		}
		if (pi == a->nplaces)
			return;		/* none left */
		p = &a->places[pi];
		c0 = (u - at) * a->unit;
		add_chunks(a, p, q, &sh->r.total, &sh->r, total, sh->sets,
		    sh->pp, NULL, sh->gs, c0, c0 + a->unit < p->nchunks ?
		    c0 + a->unit : p->nchunks, 0);
	}
}

/* People seen by either share, each once: the counts less those of both. */
static void
seen_merge(const struct agg *a, struct seen *to, const struct seen *from)
{
	size_t words = (size_t)a->persons->n / 64 + 1, w;

	to->n += from->n;
	to->key += from->key;
	for (w = 0; w < words; w++) {
		uint64_t both = to->bits[w] & from->bits[w];

		to->bits[w] |= from->bits[w];
		for (to->n -= __builtin_popcountll(both); both != 0;
		    both &= both - 1)
			to->key -= rkey_get(a->persons->rkey,
			    (uint32_t)(w * 64 + (size_t)__builtin_ctzll(both)));
	}
}

/* Share from added into share to. */
static void
share_merge(const struct agg *a, struct share *to, const struct share *from)
{
	int g;
	size_t i;

	cell_add(&to->r.total, &from->r.total);
	for (g = 0; g <= to->r.ngroups; g++)
		seen_merge(a, &to->sets[g], &from->sets[g]);
	for (g = 0; g < to->r.ngroups; g++) {
		long *d = (long *)&to->pp[g];
		const long *sv = (const long *)&from->pp[g];

		cell_add(&to->r.groups[g], &from->r.groups[g]);
		for (i = 0; i < sizeof(to->pp[g]) / sizeof(long); i++)
			d[i] += sv[i];
	}
}

static void
share_job(struct workq_job *j)
{
	share_run((struct share *)((char *)j - offsetof(struct share, job)));
}

int
agg_workers_start(struct agg *a, int n)
{
	n = n < AGG_WORKERS_MAX ? n : AGG_WORKERS_MAX;
	if (a->workers == NULL && n > 0 &&
	    workq_start(&a->workers, n, "pcmdsd-agg") != PC_OK)
		a->workers = NULL;
	return workq_threads(a->workers);
}

void
agg_workers_stop(struct agg *a)
{
	workq_stop(a->workers);
	a->workers = NULL;
}

/*
 * The shares of sh[1..nk-1] to the workers, sh[0] by the caller, which
 * then takes back those no worker has started (on a busy machine a
 * worker may wait for a core: the query is then no slower than alone;
 * taken back, they find no UNIT left); back when all are done.
 */
static void
shares_run(struct workq *w, struct share *sh, int nk)
{
	struct workq_group g = {0};
	int k;

	for (k = 1; k < nk; k++) {
		sh[k].job.run = share_job;
		workq_put(w, &g, &sh[k].job);
	}
	share_run(&sh[0]);
	if (nk > 1)
		workq_finish(w, &g);
}

pc_rc
agg_run(struct agg *a, const struct agg_query *q, struct agg_result *r)
{
	struct share sh[AGG_WORKERS_MAX + 1], *s0 = &sh[0];
	struct seen people;
	size_t unit = 0;
	int g, k, nk, gs = gsums_ready(a, q->group_by);

	memset(r, 0, sizeof(*r));
	nk = workq_threads(a->workers) + 1;
	for (k = 0; k < nk; k++)
		if (share_new(&sh[k], a, q, k, &unit, gs) != 0) {
			while (k-- > 0)
				share_free(&sh[k]);
			return PC_ENOMEM;
		}
	shares_run(a->workers, sh, nk);
	for (k = 1; k < nk; k++) {
		share_merge(a, s0, &sh[k]);
		share_free(&sh[k]);
	}
	if (s0->r.ngroups > 0)
		people_union(a, s0->sets, s0->r.ngroups + 1, &people);
	else
		people = s0->sets[0];
	s0->r.total.people = people.n;
	s0->r.total.key.people = people.key;
	for (g = 0; g < s0->r.ngroups; g++) {
		s0->r.groups[g].people = s0->sets[g].n;
		s0->r.groups[g].key.people = s0->sets[g].key;
		pairs_fold(&s0->r.groups[g], &s0->pp[g]);
	}
	*r = s0->r;
	s0->r.groups = NULL;	/* the caller's now */
	share_free(s0);
	return PC_OK;
}

pc_rc
agg_run_places(struct agg *a, const struct agg_query *q,
    struct agg_result *each, struct agg_result *all)
{
	size_t words = (size_t)a->persons->n / 64 + 1, pi;
	struct seen *one, *any;

	memset(all, 0, sizeof(*all));
	if ((one = seen_new(a, 1)) == NULL)
		return PC_ENOMEM;
	if ((any = seen_new(a, 1)) == NULL) {
		seen_free(one, 1);
		return PC_ENOMEM;
	}
	/* one pass: each place on its own; all places as their sum */
	for (pi = 0; pi < a->nplaces; pi++) {
		struct agg_query pq = *q;

		memset(&each[pi], 0, sizeof(each[pi]));
		memset(one->bits, 0, words * sizeof(uint64_t));
		one->n = one->key = 0;
		pq.group_by = DIM_NONE;
		each[pi].population = a->places[pi].p.population;
		add_place(a, &a->places[pi], &pq, &each[pi].total, &each[pi],
		    one, NULL, NULL, any);
		each[pi].total.people = one->n;
		each[pi].total.key.people = one->key;
		cell_add(&all->total, &each[pi].total);
		all->population += each[pi].population;
	}
	/* someone referred in two places is one person, with one key */
	all->total.people = any->n;
	all->total.key.people = any->key;
	seen_free(one, 1);
	seen_free(any, 1);
	return PC_OK;
}

void
agg_result_free(struct agg_result *r)
{
	free(r->groups);
	r->groups = NULL;
}

int32_t
agg_first_day(const struct agg *a, int place)
{
	const struct chunk *ch;
	const struct qhot *f, *end;
	int32_t first = INT32_MAX;
	size_t pi, ci;

	for (pi = 0; pi < a->nplaces; pi++) {
		if (place >= 0 && (size_t)place != pi)
			continue;
		for (EACH(a, &a->places[pi], ci, ch, f, end))
			if (!(f->rk & Q_VOIDED) && f->referred_on < first)
				first = f->referred_on;
	}
	return first;
}

pc_rc
agg_run_months(struct agg *a, const struct agg_query *q,
    struct agg_cell **out, int *n, int max)
{
	const struct chunk *ch;
	const struct qhot *f, *end;
	struct seen *sets = NULL;
	int32_t *start;		/* the first day of each month, and after */
	size_t pi, ci;
	int k, y, m, d, ty, tm;

	*out = NULL;
	*n = 0;
	if (q->to < q->from)
		return PC_OK;
	date_to_ymd(q->from, &y, &m, &d);
	date_to_ymd(q->to, &ty, &tm, &d);
	if ((*n = (ty - y) * 12 + (tm - m) + 1) > max) {
		*n = 0;
		return PC_ELIMIT;
	}
	start = calloc((size_t)*n + 1, sizeof(*start));
	if (start == NULL || (*out = calloc((size_t)*n, sizeof(**out))) ==
	    NULL || (sets = seen_new(a, *n)) == NULL) {
		free(start);
		free(*out);
		*out = NULL;
		*n = 0;
		return PC_ENOMEM;
	}
	for (k = 0; k <= *n; k++) {
		start[k] = date_from_ymd(y, m, 1);
		m = m == 12 ? (y++, 1) : m + 1;
	}
	for (pi = 0; pi < a->nplaces; pi++) {
		const struct agg_place *p = &a->places[pi];
		struct span sp;

		if (q->place >= 0 && (size_t)q->place != pi)
			continue;
		span_of(a, p, q, &sp);
		/* whole months from their sums */
		for (k = 0; k < *n; k++) {
			int mi = month_of(start[k]);

			if (start[k] >= sp.from && start[k + 1] - 1 <= sp.to &&
			    p->month[mi] != NULL)
				month_add(&(*out)[k], p->month[mi]);
		}
		for (EACH(a, p, ci, ch, f, end)) {
			int lo = 0, hi = *n;

			if (!counted(f, q))
				continue;
			while (hi - lo > 1) {	/* start[lo] <= day < start[hi] */
				int mid = (lo + hi) / 2;

				if (start[mid] <= f->referred_on)
					lo = mid;
				else
					hi = mid;
			}
			see(&sets[lo], f);
			if (f->referred_on < sp.from || f->referred_on > sp.to)
				cell_fact(&(*out)[lo], f, COLD_OF(ch, f), 1);
		}
	}
	for (k = 0; k < *n; k++) {
		(*out)[k].people = sets[k].n;
		(*out)[k].key.people = sets[k].key;
	}
	seen_free(sets, *n);
	free(start);
	return PC_OK;
}

pc_rc
agg_run_pcns(struct agg *a, const struct agg_query *q, long *any, long *cyp)
{
	int cy = code_index(&codes_service, "children_young_people");
	const struct chunk *ch;
	const struct qhot *f, *end;
	const struct agg_place *p;
	uint8_t *seen;
	size_t i, ci;

	*any = *cyp = 0;
	if (q->place < 0 || (size_t)q->place >= a->nplaces)
		return PC_EINVAL;
	p = &a->places[q->place];
	/* bit 1: a referral; bit 2: one to a CYP service */
	if ((seen = calloc(a->npcns ? a->npcns : 1, 1)) == NULL)
		return PC_ENOMEM;
	for (EACH(a, p, ci, ch, f, end)) {
		const struct qcold *fc = COLD_OF(ch, f);

		if (fc->pcn == 0 || !counted(f, q))
			continue;
		seen[fc->pcn] |= (uint8_t)(1 | ((int)Q_SERVICE(f) == cy ? 2 :
		    0));
	}
	for (i = 1; i < a->npcns; i++) {
		*any += seen[i] & 1;
		*cyp += (seen[i] >> 1) & 1;
	}
	free(seen);
	return PC_OK;
}

int
agg_referral_key(const struct agg *a, int64_t referral, long *key)
{
	const struct qhot *f;
	int64_t g;

	*key = 0;
	if (referral <= 0 || (size_t)referral >= a->nkey ||
	    (g = (int64_t)key_get(a, (size_t)referral) - 1) < 0)
		return 0;
	f = HOT(a, g);
	if (f->rk & Q_VOIDED)
		return 0;
	*key = Q_KEY(f);
	return 1;
}

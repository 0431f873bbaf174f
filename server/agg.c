/*
 * agg.c - facts per referral, held per place, added up per query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "ckm.h"
#include "date.h"
#include "log.h"
#include "pop.h"
#include "takeup.h"

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

void
agg_fact(const struct timeline *tl, struct fact *f)
{
	struct tl_summary s;
	const cJSON *ref, *it;
	const char *person;
	int m, k;

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
	f->closed_on = s.closed_on;
	f->close_reason = (uint8_t)(s.close_reason < 0 ? 255 : s.close_reason);
	f->first_contact = s.first_contact;
	f->contacts = (uint16_t)(s.contacts > 65535 ? 65535 : s.contacts);
	f->attended = (uint16_t)(s.attended > 65535 ? 65535 : s.attended);
	f->support_offered = s.support_offered;
	f->support_taken = s.support_taken;
	f->source = idx(&codes_source, rec_str(ref, "source"));
	f->service = idx(&codes_service, rec_str(ref, "service"));
	f->gender = idx(&codes_gender, rec_str(ref, "gender"));
	f->ethnicity = idx(&codes_ethnicity, rec_str(ref, "ethnicity"));
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
	f->has_pair = (uint8_t)(s.has_baseline && s.has_followup);
	snprintf(f->pcn, sizeof(f->pcn), "%s", tl->v[0].rec->pcn);
	for (m = 0; f->has_pair && m < ONS4_N; m++) {
		f->base[m] = (int8_t)s.baseline.score[m];
		f->follow[m] = (int8_t)s.followup.score[m];
	}
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

/* A fact as queries read it: small, its groups worked out once. */
struct qfact {
	int32_t		 referred_on;
	uint32_t	 pid;		/* dense person number */
	uint16_t	 rkey;		/* the person's record key */
	uint32_t	 reasons;	/* bit per codes_reason */
	uint32_t	 offered, taken;	/* bit per codes_support */
	int16_t		 days;		/* referral to first contact; -1 none */
	uint16_t	 contacts, attended;
	uint8_t		 close_reason;	/* 255 open */
	uint8_t		 consent, voided, has_pair;
	uint8_t		 grp[DIM_N];	/* the group in one-valued dimensions */
	int8_t		 base[ONS4_N], follow[ONS4_N];
	/* bit per measure, for ONS4 pairs */
	uint8_t		 improved, worst_base, left_worst;
	uint16_t	 pcn;		/* index in agg pcns; 0 none */
	uint8_t		 service;	/* codes_service */
};

/* Where a referral's fact is. */
struct locator {
	size_t		 place;		/* NOWHERE: lost to a failed allocation */
	size_t		 index;
};
#define NOWHERE	((size_t)-1)

/*
 * People numbered 0, 1, 2... in order of first appearance: a distinct
 * count is then a bitmap the size of the population, not a hash set the
 * size of the query.
 */
struct persons {
	uint64_t	*key;		/* open addressing; 0 marks a free slot */
	uint32_t	*num;
	size_t		 cap;		/* a power of two */
	uint32_t	 n;		/* numbers given; 0 is the zero key's */
	uint16_t	*rkey;		/* record key by number, cap entries */
};

/* Where key k is, or the free slot where it would go. */
static size_t
persons_slot(const struct persons *ps, uint64_t k)
{
	size_t i = (size_t)(k * 0x9e3779b97f4a7c15ULL) & (ps->cap - 1);

	while (ps->key[i] != 0 && ps->key[i] != k)
		i = (i + 1) & (ps->cap - 1);
	return i;
}

static int
persons_grow(struct persons *ps)
{
	struct persons old = *ps;
	size_t i, j, cap = old.cap ? old.cap * 2 : 1024;
	uint16_t *rk;

	if ((rk = realloc(ps->rkey, cap * sizeof(*rk))) == NULL)
		return -1;
	ps->rkey = rk;
	if ((ps->key = calloc(cap, sizeof(*ps->key))) == NULL ||
	    (ps->num = calloc(cap, sizeof(*ps->num))) == NULL) {
		free(ps->key);
		ps->key = old.key;
		ps->num = old.num;
		return -1;
	}
	ps->cap = cap;
	for (i = 0; i < old.cap; i++) {
		if (old.key[i] == 0)
			continue;
		j = persons_slot(ps, old.key[i]);
		ps->key[j] = old.key[i];
		ps->num[j] = old.num[i];
	}
	free(old.key);
	free(old.num);
	return 0;
}

static uint32_t
person_number(struct agg *a, uint64_t k)
{
	struct persons *ps = a->persons;
	size_t i;

	if (ps->n == 0 || ps->cap == 0) {
		if (ps->cap == 0 && persons_grow(ps) != 0)
			return 0;
		ps->n = 1;	/* 0: the one "no key" person */
		ps->rkey[0] = ckm_keyer_key(a->keyer, 0);
	}
	if (k == 0)
		return 0;
	if (((size_t)ps->n + 1) * 2 > ps->cap && persons_grow(ps) != 0)
		return 0;
	i = persons_slot(ps, k);
	if (ps->key[i] == k)
		return ps->num[i];
	ps->key[i] = k;
	ps->num[i] = ps->n;
	ps->rkey[ps->n] = ckm_keyer_key(a->keyer, k);
	return ps->n++;
}

struct agg *
agg_new(const uint8_t cell_key[32])
{
	struct agg *a;

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
	map_init(&a->by_id);
	pthread_rwlock_init(&a->lock, NULL);
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
	int d, m;

	memset(q, 0, sizeof(*q));
	q->pcn = pcn_number(a, f->pcn);
	q->service = f->service;
	q->referred_on = f->referred_on;
	q->pid = person_number(a, f->person);
	/* no table only when memory ran out before the first person */
	q->rkey = a->persons->rkey != NULL ? a->persons->rkey[q->pid] : 0;
	q->reasons = f->reasons;
	q->offered = f->support_offered;
	q->taken = f->support_taken;
	q->days = -1;
	if (f->first_contact >= 0) {
		d = f->first_contact - f->referred_on;
		q->days = (int16_t)(d < 0 ? 0 : d >= AGG_DAYS ? AGG_DAYS - 1 :
		    d);
	}
	q->contacts = f->contacts;
	q->attended = f->attended;
	q->close_reason = f->close_reason;
	q->consent = f->consent;
	q->voided = f->voided;
	q->has_pair = f->has_pair;
	for (d = 1; d < DIM_N; d++) {
		uint32_t g = d != DIM_REASON ? groups_of(f, (enum agg_dim)d) : 0;

		/* one bit; a value outside the list counts as the first */
		q->grp[d] = (uint8_t)(g != 0 && __builtin_ctz(g) < 18 ?
		    __builtin_ctz(g) : 0);
	}
	for (m = 0; m < ONS4_N; m++) {
		int b = f->base[m], w = ons4_measures[m].worst_band;

		q->base[m] = f->base[m];
		q->follow[m] = f->follow[m];
		if (!f->has_pair)
			continue;
		q->improved |= (uint8_t)(ons4_improved((enum ons4_measure)m, b,
		    f->follow[m]) << m);
		if (ons4_band((enum ons4_measure)m, b) == w) {
			q->worst_base |= (uint8_t)(1u << m);
			if (ons4_band((enum ons4_measure)m, f->follow[m]) != w)
				q->left_worst |= (uint8_t)(1u << m);
		}
	}
}

static int
place_append(struct agg_place *p, const struct qfact *q)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 256;
		struct qfact *nv = realloc(p->q, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		p->q = nv;
		p->cap = ncap;
	}
	p->q[p->n++] = *q;
	return 0;
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
		struct locator *at = map_get(&a->by_id, nf->id);
		struct agg_place *p = place_for(a, nf->place);
		struct qfact q;

		if (p == NULL)
			goto nomem;
		qfact_of(a, nf, &q);
		if (at != NULL && at->place == (size_t)(p - a->places)) {
			p->q[at->index] = q;	/* the referral, updated */
			continue;
		}
		if (at == NULL) {
			if ((at = malloc(sizeof(*at))) == NULL)
				goto nomem;
			if (map_put(&a->by_id, nf->id, at) != PC_OK) {
				free(at);
				goto nomem;
			}
		} else if (at->place != NOWHERE)
			/* moved place: the old one forgets it */
			a->places[at->place].q[at->index].voided = 1;
		at->place = NOWHERE;
		if (place_append(p, &q) != 0)
			goto nomem;	/* counted nowhere rather than wrongly */
		at->place = (size_t)(p - a->places);
		at->index = p->n - 1;
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
	T_N
};

/* Every tag this version reads; a fact lacking one is worked out again. */
#define TAGS_NEEDED	((1ULL << T_N) - 2)	/* 1 .. T_N - 1 */

static void
put_field(struct buf *b, int tag, const void *v, size_t len)
{
	uint8_t h[3] = {(uint8_t)tag, (uint8_t)(len & 0xff),
	    (uint8_t)(len >> 8)};

	buf_add(b, h, sizeof(h));
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
	struct buf t;
	size_t i;

	buf_init(&t, 0);
	for (i = 0; i < l->n && i < 32; i++)
		if (bits & (1u << i))
			buf_addf(&t, "%s%s", t.len ? "," : "", l->v[i].code);
	put_field(b, tag, t.p ? t.p : "", t.len);
	buf_free(&t);
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
	put_int(b, T_TAKEUP, 1, 1);
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

static void
get_str(const uint8_t *v, size_t len, char *out, size_t cap)
{
	snprintf(out, cap, "%.*s", (int)len, (const char *)v);
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

/* A fact, and beside it its referral's take-up (tl: its records). */
static pc_rc
fact_store(struct store *st, const struct timeline *tl, const struct fact *f)
{
	struct buf b;
	pc_rc rc;

	buf_init(&b, 0);
	if ((rc = agg_fact_encode(f, &b)) == PC_OK)
		rc = store_fact_put(st, f->id, f->place, f->referred_on,
		    f->consent && !f->voided, b.p, b.len);
	buf_free(&b);
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

pc_rc
agg_stage(struct store *st, const struct map *timelines, struct fact **out,
    size_t *n)
{
	struct stage s = {st, NULL, 0, PC_OK};

	*out = NULL;
	*n = 0;
	if ((s.v = calloc(timelines->n ? timelines->n : 1, sizeof(*s.v))) ==
	    NULL)
		return PC_ENOMEM;
	map_each(timelines, stage_one, &s);
	if (s.rc != PC_OK) {
		free(s.v);
		return s.rc;
	}
	*out = s.v;
	*n = s.n;
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
	int		*rewrite;	/* written by an older version */
	size_t		 nredo, cap;
	long		 n;
	pc_rc		 rc;
};

static int
load_fact(void *arg, const void *blob, size_t len)
{
	struct load *l = arg;
	struct fact f;
	int v, k = agg_fact_decode(blob, len, &f, &v);

	l->n++;
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

		if (nr != NULL)
			l->redo = nr;
		if (nw != NULL)
			l->rewrite = nw;
		if (nr == NULL || nw == NULL) {
			l->rc = PC_ENOMEM;
			return 1;
		}
		l->cap = cap;
	}
	memcpy(l->redo[l->nredo], f.id, UUID_LEN);
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
 */
static pc_rc
rebuild_facts(struct store *st)
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
	if ((rc = store_place_each(st, load_place, a)) != PC_OK ||
	    (rc = pop_load(st, a->pop)) != PC_OK ||
	    (rc = rebuild_facts(st)) != PC_OK ||
	    (rc = load(a, st, &c, 1)) != PC_OK) {
		err_add(errs, E_SYSTEM, "", "cannot load the aggregates: %s",
		    pc_strerror(rc));
		agg_close(a);
		return rc;
	}
	memcpy(upto, c.upto, STORE_SNAP_LEN);
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

static void
free_fact(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	free(val);
}

void
agg_close(struct agg *a)
{
	size_t i;

	if (a == NULL)
		return;
	map_each(&a->by_id, free_fact, NULL);
	map_free(&a->by_id);
	for (i = 0; i < a->nplaces; i++)
		free(a->places[i].q);
	free(a->places);
	free(a->pcns);
	pop_free(a->pop);
	free(a->pop);
	free(a->persons->key);
	free(a->persons->num);
	free(a->persons->rkey);
	free(a->persons);
	ckm_keyer_free(a->keyer);
	pthread_rwlock_destroy(&a->lock);
	free(a);
}

static void
add_pair(struct agg_cell *c, const struct qfact *f)
{
	long k = f->rkey;
	int m;

	c->pairs++;
	c->key.pairs += k;
	for (m = 0; m < ONS4_N; m++) {
		struct agg_ons4 *o = &c->ons4[m];
		int d = f->follow[m] - f->base[m];

		c->key.improved[m] += k * ((f->improved >> m) & 1);
		c->key.worst_base[m] += k * ((f->worst_base >> m) & 1);
		c->key.left_worst[m] += k * ((f->left_worst >> m) & 1);
		o->n++;
		o->sum_base += f->base[m];
		o->sum_follow += f->follow[m];
		o->sum_d += d;
		o->sum_d2 += (long)d * d;
		o->hist_d[d + 10]++;
		o->improved += (f->improved >> m) & 1;
		o->worst_base += (f->worst_base >> m) & 1;
		o->left_worst += (f->left_worst >> m) & 1;
	}
}

/* The groups of a query-ready fact in a dimension: bit i for group i. */
static uint32_t
qgroups(const struct qfact *f, enum agg_dim d)
{
	if (d == DIM_REASON)
		return f->reasons;
	return d > DIM_NONE && d < DIM_N ? 1u << f->grp[d] : 0;
}

/* Distinct people seen, one bit per person number, and their keys. */
struct seen {
	uint64_t	*bits;
	long		 n;
	long		 key;
};

/* Counts a referral's person once: people and their key sum. */
static void
see(struct seen *people, const struct qfact *f)
{
	uint64_t bit = 1ULL << (f->pid & 63), *w = &people->bits[f->pid >> 6];

	if (!(*w & bit)) {
		*w |= bit;
		people->n++;
		people->key += f->rkey;
	}
}

/* The inner loop of every query: keep it to increments. */
static void
add_fact(struct agg_cell *c, struct seen *people, const struct qfact *f)
{
	struct agg_keys *ks = &c->key;
	long k = f->rkey;
	uint32_t b;
	int d;

	c->referrals++;
	ks->referrals += k;
	see(people, f);
	c->consented += f->consent;
	ks->consented += k * f->consent;
	c->contacts += f->contacts;
	ks->contacts += k * f->contacts;
	c->attended += f->attended;
	ks->attended += k * f->attended;
	if (f->close_reason != 255) {
		c->closed++;
		ks->closed += k;
		c->closed_by[f->close_reason & 7]++;
		ks->closed_by[f->close_reason & 7] += k;
		c->closed_contacts[f->attended < AGG_CONTACTS - 1 ?
		    f->attended : AGG_CONTACTS - 1]++;
	}
	if (f->days >= 0) {
		c->days_hist[f->days]++;
		c->days_n++;
		ks->days_n += k;
	}
	for (b = f->offered; b != 0; b &= b - 1) {
		c->offered[__builtin_ctz(b)]++;
		ks->offered[__builtin_ctz(b)] += k;
	}
	for (b = f->taken; b != 0; b &= b - 1) {
		c->taken[__builtin_ctz(b)]++;
		ks->taken[__builtin_ctz(b)] += k;
	}
	for (d = 1; d < DIM_N; d++)
		if (d != DIM_REASON) {
			c->by[d][f->grp[d]]++;
			ks->by[d][f->grp[d]] += k;
		}
	for (b = f->reasons; b != 0; b &= b - 1) {
		c->by[DIM_REASON][__builtin_ctz(b)]++;
		ks->by[DIM_REASON][__builtin_ctz(b)] += k;
	}
	if (f->consent && f->has_pair)
		add_pair(c, f);
}

/* A group's cell: only what a breakdown shows. */
static void
add_group_fact(struct agg_cell *c, struct seen *people, const struct qfact *f)
{
	long k = f->rkey;

	c->referrals++;
	c->key.referrals += k;
	see(people, f);
	c->consented += f->consent;
	c->key.consented += k * f->consent;
	if (f->close_reason != 255) {
		c->closed_by[f->close_reason & 7]++;
		c->key.closed_by[f->close_reason & 7] += k;
	}
	if (f->consent && f->has_pair)
		add_pair(c, f);
}

static void
add_place(const struct agg_place *p, const struct agg_query *q,
    struct agg_result *r, struct seen *total, struct seen *sets)
{
	const struct qfact *f, *end = p->q + p->n;
	uint32_t bits;

	for (f = p->q; f < end; f++) {
		if (f->voided || f->referred_on < q->from ||
		    f->referred_on > q->to)
			continue;
		add_fact(&r->total, total, f);
		for (bits = qgroups(f, q->group_by); bits != 0;
		    bits &= bits - 1) {
			int g = __builtin_ctz(bits);

			if (g < r->ngroups)
				add_group_fact(&r->groups[g], &sets[g], f);
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

pc_rc
agg_run(struct agg *a, const struct agg_query *q, struct agg_result *r)
{
	const struct codelist *gl = q->group_by != DIM_NONE ?
	    agg_dims[q->group_by].codes : NULL;
	struct seen *sets;
	size_t pi;
	int g;

	memset(r, 0, sizeof(*r));
	r->ngroups = gl != NULL ? (int)gl->n : 0;
	if ((sets = seen_new(a, r->ngroups + 1)) == NULL ||
	    (r->ngroups > 0 && (r->groups = calloc((size_t)r->ngroups,
	    sizeof(*r->groups))) == NULL)) {
		seen_free(sets, r->ngroups + 1);
		agg_result_free(r);
		return PC_ENOMEM;
	}
	for (pi = 0; pi < a->nplaces; pi++) {
		if (q->place >= 0 && (size_t)q->place != pi)
			continue;
		r->population += a->places[pi].p.population;
		add_place(&a->places[pi], q, r, &sets[r->ngroups], sets);
	}
	r->total.people = sets[r->ngroups].n;
	r->total.key.people = sets[r->ngroups].key;
	for (g = 0; g < r->ngroups; g++) {
		r->groups[g].people = sets[g].n;
		r->groups[g].key.people = sets[g].key;
	}
	seen_free(sets, r->ngroups + 1);
	return PC_OK;
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

pc_rc
agg_run_places(struct agg *a, const struct agg_query *q,
    struct agg_result *each, struct agg_result *all)
{
	size_t words = (size_t)a->persons->n / 64 + 1, pi, w;
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
		add_place(&a->places[pi], &pq, &each[pi], one, NULL);
		each[pi].total.people = one->n;
		each[pi].total.key.people = one->key;
		cell_add(&all->total, &each[pi].total);
		all->population += each[pi].population;
		for (w = 0; w < words; w++)
			any->bits[w] |= one->bits[w];
	}
	/* someone referred in two places is one person, with one key */
	all->total.people = all->total.key.people = 0;
	for (w = 0; w < words; w++) {
		uint64_t b;

		all->total.people += __builtin_popcountll(any->bits[w]);
		for (b = any->bits[w]; b != 0; b &= b - 1)
			all->total.key.people += a->persons->rkey[w * 64 +
			    (size_t)__builtin_ctzll(b)];
	}
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
	int32_t first = INT32_MAX;
	size_t pi, i;

	for (pi = 0; pi < a->nplaces; pi++) {
		if (place >= 0 && (size_t)place != pi)
			continue;
		for (i = 0; i < a->places[pi].n; i++)
			if (!a->places[pi].q[i].voided &&
			    a->places[pi].q[i].referred_on < first)
				first = a->places[pi].q[i].referred_on;
	}
	return first;
}

/* The month of day d counted from the month of day base (0, 1, ...). */
static int
month_index(int32_t base, int32_t d)
{
	int by, bm, y, m, dd;

	date_to_ymd(base, &by, &bm, &dd);
	date_to_ymd(d, &y, &m, &dd);
	return (y - by) * 12 + (m - bm);
}

pc_rc
agg_run_months(struct agg *a, const struct agg_query *q,
    struct agg_cell **out, int *n, int max)
{
	struct seen *sets;
	size_t pi, i;
	int k;

	*out = NULL;
	*n = 0;
	if (q->to < q->from)
		return PC_OK;
	if ((*n = month_index(q->from, q->to) + 1) > max) {
		*n = 0;
		return PC_ELIMIT;
	}
	if ((*out = calloc((size_t)*n, sizeof(**out))) == NULL ||
	    (sets = seen_new(a, *n)) == NULL) {
		free(*out);
		*out = NULL;
		*n = 0;
		return PC_ENOMEM;
	}
	for (pi = 0; pi < a->nplaces; pi++) {
		const struct agg_place *p = &a->places[pi];

		if (q->place >= 0 && (size_t)q->place != pi)
			continue;
		for (i = 0; i < p->n; i++) {
			const struct qfact *f = &p->q[i];

			if (f->voided || f->referred_on < q->from ||
			    f->referred_on > q->to)
				continue;
			k = month_index(q->from, f->referred_on);
			add_fact(&(*out)[k], &sets[k], f);
		}
	}
	for (k = 0; k < *n; k++) {
		(*out)[k].people = sets[k].n;
		(*out)[k].key.people = sets[k].key;
	}
	seen_free(sets, *n);
	return PC_OK;
}

pc_rc
agg_run_pcns(struct agg *a, const struct agg_query *q, long *any, long *cyp)
{
	int cy = code_index(&codes_service, "children_young_people");
	uint8_t *seen;
	size_t i;
	const struct agg_place *p;

	*any = *cyp = 0;
	if (q->place < 0 || (size_t)q->place >= a->nplaces)
		return PC_EINVAL;
	p = &a->places[q->place];
	/* bit 1: a referral; bit 2: one to a CYP service */
	if ((seen = calloc(a->npcns ? a->npcns : 1, 1)) == NULL)
		return PC_ENOMEM;
	for (i = 0; i < p->n; i++) {
		const struct qfact *f = &p->q[i];

		if (f->voided || f->pcn == 0 || f->referred_on < q->from ||
		    f->referred_on > q->to)
			continue;
		seen[f->pcn] |= (uint8_t)(1 | (f->service == cy ? 2 : 0));
	}
	for (i = 1; i < a->npcns; i++) {
		*any += seen[i] & 1;
		*cyp += (seen[i] >> 1) & 1;
	}
	free(seen);
	return PC_OK;
}

int
agg_referral_key(const struct agg *a, const char *referral, long *key)
{
	const struct locator *at = map_get(&a->by_id, referral);
	const struct qfact *f;

	*key = 0;
	if (at == NULL || at->place == NOWHERE)
		return 0;
	f = &a->places[at->place].q[at->index];
	if (f->voided)
		return 0;
	*key = f->rkey;
	return 1;
}

/*
 * agg.c - facts per referral, held per place, added up per query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "log.h"

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
	np->sorted = 1;
	return np;
}

/* First position in p whose referred_on is >= day. */
static size_t
lower_bound(const struct agg_place *p, int32_t day)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->v[mid]->referred_on < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
place_insert(struct agg_place *p, struct fact *f)
{
	size_t at;

	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 256;
		struct fact **nv = realloc(p->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		p->v = nv;
		p->cap = ncap;
	}
	/* facts arrive mostly in date order: usually an append */
	at = p->n == 0 || p->v[p->n - 1]->referred_on <= f->referred_on ?
	    p->n : lower_bound(p, f->referred_on + 1);
	memmove(p->v + at + 1, p->v + at, (p->n - at) * sizeof(*p->v));
	p->v[at] = f;
	p->n++;
	return 0;
}

static void
place_remove(struct agg_place *p, const struct fact *f)
{
	size_t i;

	for (i = lower_bound(p, f->referred_on); i < p->n; i++)
		if (p->v[i] == f) {
			memmove(p->v + i, p->v + i + 1,
			    (p->n - i - 1) * sizeof(*p->v));
			p->n--;
			return;
		}
}

void
agg_apply(struct agg *a, const struct fact *facts, size_t n)
{
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		const struct fact *nf = &facts[i];
		struct fact *f = map_get(&a->by_id, nf->id);
		struct agg_place *p = place_for(a, nf->place);

		if (p == NULL)
			continue;
		if (f != NULL) {
			if (f->referred_on != nf->referred_on) {
				place_remove(p, f);
				*f = *nf;
				place_insert(p, f);
			} else
				*f = *nf;
			continue;
		}
		if ((f = malloc(sizeof(*f))) == NULL)
			continue;
		*f = *nf;
		if (map_put(&a->by_id, f->id, f) != PC_OK ||
		    place_insert(p, f) != 0) {
			log_warnx("aggregates: out of memory");
			continue;
		}
	}
}

struct stage {
	struct store	*st;
	struct fact	*v;
	size_t		 n;
	pc_rc		 rc;
};

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
	s->rc = store_fact_put(s->st, f->id, f->place, f->referred_on,
	    f->consent && !f->voided, f, sizeof(*f));
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

static int
load_place(void *arg, const struct store_place *p)
{
	struct agg *a = arg;
	struct agg_place *np = place_for(a, p->code);

	if (np != NULL)
		np->p = *p;
	return 0;
}

static int
load_fact(void *arg, const void *blob, size_t len)
{
	if (len == sizeof(struct fact))
		agg_apply(arg, blob, 1);
	return 0;
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
			r->rc = store_fact_put(r->st, f.id, f.place,
			    f.referred_on, f.consent && !f.voided, &f,
			    sizeof(f));
		r->n++;
	}
	tl_free(&tl);
	return r->rc != PC_OK;
}

/* Facts written by another version of pcmdsd are computed again. */
static pc_rc
rebuild_facts(struct store *st)
{
	struct rebuild r = {st, 0, PC_OK};
	char v[16], want[16];

	snprintf(want, sizeof(want), "%d", FACT_VERSION);
	if (store_meta_get(st, "fact_version", v, sizeof(v)) == PC_OK &&
	    strcmp(v, want) == 0)
		return PC_OK;
	log_info("aggregates: computing the facts of every referral");
	if ((r.rc = store_begin(st)) != PC_OK)
		return r.rc;
	if ((r.rc = store_fact_clear(st)) == PC_OK)
		(void)store_referral_each(st, rebuild_one, &r);
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
agg_open(struct agg **out, struct store *st, struct err_list *errs)
{
	struct agg *a;
	pc_rc rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return PC_ENOMEM;
	map_init(&a->by_id);
	if ((rc = store_place_each(st, load_place, a)) != PC_OK ||
	    (rc = rebuild_facts(st)) != PC_OK ||
	    (rc = store_fact_each(st, load_fact, a)) != PC_OK) {
		err_add(errs, E_SYSTEM, "", "cannot load the aggregates: %s",
		    pc_strerror(rc));
		agg_close(a);
		return rc;
	}
	*out = a;
	return PC_OK;
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
		free(a->places[i].v);
	free(a->places);
	free(a);
}

/* A set of 64-bit person keys, for distinct counts. */
struct pset {
	uint64_t	*v;
	size_t		 n, cap;
	int		 has_zero;
};

static void
pset_add(struct pset *s, uint64_t k)
{
	size_t i;

	if (k == 0) {
		s->has_zero = 1;
		return;
	}
	if ((s->n + 1) * 2 > s->cap) {
		struct pset old = *s;

		s->cap = old.cap ? old.cap * 2 : 64;
		if ((s->v = calloc(s->cap, sizeof(*s->v))) == NULL) {
			*s = old;
			return;
		}
		s->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.v[i] != 0)
				pset_add(s, old.v[i]);
		free(old.v);
	}
	for (i = (size_t)(k * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);
	    s->v[i] != 0; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == k)
			return;
	s->v[i] = k;
	s->n++;
}

static void
add_ons4(struct agg_ons4 *o, enum ons4_measure m, int b, int f)
{
	int d = f - b, worst = ons4_measures[m].worst_band;

	o->n++;
	o->sum_base += b;
	o->sum_follow += f;
	o->sum_d += d;
	o->sum_d2 += (long)d * d;
	o->hist_d[d + 10]++;
	o->improved += ons4_improved(m, b, f);
	if (ons4_band(m, b) == worst) {
		o->worst_base++;
		o->left_worst += ons4_band(m, f) != worst;
	}
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
	default:
		return 0;
	}
}

static void
add_fact(struct agg_cell *c, struct pset *people, const struct fact *f)
{
	int i, m, d;

	c->referrals++;
	pset_add(people, f->person);
	c->consented += f->consent;
	c->contacts += f->contacts;
	c->attended += f->attended;
	if (f->close_reason != 255) {
		c->closed++;
		c->closed_by[f->close_reason & 7]++;
		c->closed_contacts[f->attended < AGG_CONTACTS - 1 ?
		    f->attended : AGG_CONTACTS - 1]++;
	}
	if (f->first_contact >= 0) {
		d = f->first_contact - f->referred_on;
		c->days_hist[d < 0 ? 0 : d >= AGG_DAYS ? AGG_DAYS - 1 : d]++;
		c->days_n++;
	}
	for (i = 0; i < 18; i++) {
		c->offered[i] += (f->support_offered >> i) & 1;
		c->taken[i] += (f->support_taken >> i) & 1;
	}
	for (d = 1; d < DIM_N; d++) {
		uint32_t g = groups_of(f, (enum agg_dim)d);

		for (i = 0; i < 18; i++)
			c->by[d][i] += (g >> i) & 1;
	}
	if (!f->consent || !f->has_pair)
		return;
	c->pairs++;
	for (m = 0; m < ONS4_N; m++)
		add_ons4(&c->ons4[m], (enum ons4_measure)m, f->base[m],
		    f->follow[m]);
}

pc_rc
agg_run(struct agg *a, const struct agg_query *q, struct agg_result *r)
{
	struct pset total = {NULL, 0, 0, 0}, *sets = NULL;
	const struct codelist *gl = q->group_by != DIM_NONE ?
	    agg_dims[q->group_by].codes : NULL;
	size_t pi, i;
	int g;

	memset(r, 0, sizeof(*r));
	if (gl != NULL) {
		r->ngroups = (int)gl->n;
		r->groups = calloc(gl->n, sizeof(*r->groups));
		sets = calloc(gl->n, sizeof(*sets));
		if (r->groups == NULL || sets == NULL) {
			free(sets);
			agg_result_free(r);
			return PC_ENOMEM;
		}
	}
	for (pi = 0; pi < a->nplaces; pi++) {
		const struct agg_place *p = &a->places[pi];

		if (q->place >= 0 && (size_t)q->place != pi)
			continue;
		r->population += p->p.population;
		for (i = lower_bound(p, q->from); i < p->n &&
		    p->v[i]->referred_on <= q->to; i++) {
			const struct fact *f = p->v[i];
			uint32_t bits;

			if (f->voided)
				continue;
			add_fact(&r->total, &total, f);
			if (gl == NULL)
				continue;
			bits = groups_of(f, q->group_by);
			for (g = 0; g < r->ngroups; g++)
				if ((bits >> g) & 1)
					add_fact(&r->groups[g], &sets[g], f);
		}
	}
	r->total.people = (long)total.n + total.has_zero;
	free(total.v);
	for (g = 0; g < r->ngroups; g++) {
		r->groups[g].people = (long)sets[g].n + sets[g].has_zero;
		free(sets[g].v);
	}
	free(sets);
	return PC_OK;
}

void
agg_result_free(struct agg_result *r)
{
	free(r->groups);
	r->groups = NULL;
}

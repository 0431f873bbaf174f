/*
 * caseload.c - the benchmarks' synthetic caseload (caseload.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caseload.h"
#include "date.h"

/* splitmix64: small, fast, and the same everywhere */
static uint64_t
next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A whole number in [0, n). */
static unsigned
pick(uint64_t *s, unsigned n)
{
	return (unsigned)(next(s) % n);
}

/* 1 with probability pct percent. */
static int
chance(uint64_t *s, unsigned pct)
{
	return pick(s, 100) < pct;
}

static void
add(struct cl_life *l, enum cl_kind k, int32_t day, int32_t last_day)
{
	if (day > last_day || l->n >= CL_EVENTS_MAX)
		return;
	l->ev[l->n].kind = (uint8_t)k;
	l->ev[l->n].target = -1;
	l->ev[l->n].day = day;
	l->n++;
}

static int
by_day(const void *a, const void *b)
{
	const struct cl_event *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	/* the same day: in the order of enum cl_kind */
	return (x->kind > y->kind) - (x->kind < y->kind);
}

void
cl_life_make(struct cl_life *l, uint64_t seed, uint64_t k, int32_t day,
    int dev, int32_t last_day)
{
	uint64_t s = seed ^ (k * 0xd1b54a32d192ed03ULL);
	int32_t a, end;
	int i, scored;

	memset(l, 0, sizeof(*l));
	l->seed = next(&s);
	l->day = day;
	l->dev = (uint8_t)dev;
	/* one referral in 25 is of someone referred before */
	l->person = k > 0 && chance(&s, 4) ? k - 1 - pick(&s, k < 1000 ?
	    (unsigned)k : 1000) : k;
	l->age = (uint8_t)(chance(&s, 6) ? 8 + pick(&s, 8) : 16 + pick(&s, 75));
	l->consent = (uint8_t)!chance(&s, 14);
	scored = l->age >= 16;
	add(l, CL_REFERRAL, day, last_day);
	if (chance(&s, 8)) {	/* declined at the first call */
		l->declined = 1;
		add(l, CL_CLOSURE, day + 1 + (int32_t)pick(&s, 14), last_day);
		return;
	}
	a = day + 2 + (int32_t)pick(&s, 20);
	add(l, CL_CONTACT, a, last_day);
	if (scored)
		add(l, chance(&s, 5) ? CL_DECLINED : CL_BASELINE, a, last_day);
	end = a;
	if (chance(&s, 75))
		add(l, CL_SUPPORT, a + (int32_t)pick(&s, 14), last_day);
	if (chance(&s, 35))
		add(l, CL_CONTACT, a + 14 + (int32_t)pick(&s, 28), last_day);
	if (scored && chance(&s, 20))
		add(l, CL_REVIEW, a + 42 + (int32_t)pick(&s, 42), last_day);
	if (scored && chance(&s, 55))
		add(l, CL_FINAL, end = a + 84 + (int32_t)pick(&s, 35),
		    last_day);
	for (i = 1; i < l->n; i++)
		if (l->ev[i].day > end)
			end = l->ev[i].day;
	if (chance(&s, 75))
		add(l, CL_CLOSURE, end + (int32_t)pick(&s, 21), last_day);
	qsort(l->ev + 1, (size_t)l->n - 1, sizeof(l->ev[0]), by_day);
	/* a contact's minutes put right a while later */
	for (i = 1; i < l->n && l->ev[i].kind != CL_CONTACT; i++)
		;
	if (i < l->n && chance(&s, 3)) {
		int32_t on = a + 7 + (int32_t)pick(&s, 60);
		int j;

		if (on > last_day || l->n >= CL_EVENTS_MAX)
			return;
		/* in its place by day: after the contact, which is on day a */
		for (j = l->n; j > i + 1 && l->ev[j - 1].day > on; j--)
			l->ev[j] = l->ev[j - 1];
		l->ev[j].kind = CL_CORRECTION;
		l->ev[j].target = (int8_t)i;
		l->ev[j].day = on;
		l->n++;
	}
}

const char *
cl_kind_name(int kind)
{
	static const char *const names[] = {[CL_REFERRAL] = "referral",
	    [CL_BASELINE] = "assessment", [CL_CONTACT] = "contact",
	    [CL_SUPPORT] = "support", [CL_REVIEW] = "assessment",
	    [CL_FINAL] = "assessment", [CL_CLOSURE] = "closure",
	    [CL_DECLINED] = "assessment", [CL_CORRECTION] = "correction"};

	return names[kind];
}

int
cl_life_exported(const struct cl_life *l)
{
	int i, n = 0;

	if (!l->consent)
		return 0;
	for (i = 0; i < l->n; i++)
		n += l->ev[i].kind != CL_CORRECTION;
	return n;
}

static const char *const sources[] = {"general_practice", "general_practice",
    "general_practice", "mdt", "self", "pharmacy", "social_care", "housing",
    "vcse", "hospital_discharge", "mental_health", "job_centre"};
static const char *const reasons[] = {"loneliness_isolation",
    "low_mood_anxiety", "debt_money", "housing", "long_term_condition",
    "stress", "bereavement", "benefits", "physical_activity",
    "carer_support", "food_insecurity", "employment_training"};
static const char *const eth[] = {"A", "A", "A", "B", "C", "D", "H", "J",
    "K", "K", "L", "M", "N", "N", "P", "R", "S", "Z", "99"};
static const char *const genders[] = {"female", "female", "female", "male",
    "male", "non_binary_other", "not_stated"};
static const char *const tri[] = {"false", "false", "false", "true",
    "\"unknown\""};
static const char *const categories[] = {"befriending_social",
    "physical_activity", "arts_culture", "advice_debt_benefits",
    "nature_green", "peer_support", "food", "mental_health_service"};
static const char *const providers[] = {"Age UK", "Mind", "Citizens Advice",
    "Parkrun", "The Conservation Volunteers", "Food bank"};
static const char *const outcomes[] = {"taken_up", "taken_up", "offered",
    "completed", "declined"};
static const char *const modes[] = {"face_to_face", "face_to_face", "phone",
    "video", "home_visit", "group"};
static const char *const closures[] = {"goals_met", "goals_met",
    "disengaged", "referred_elsewhere", "moved_away", "other"};
#define NEL(a)	(sizeof(a) / sizeof((a)[0]))
#define ONE(a, x)	(a)[(x) % NEL(a)]

static void
day_text(int32_t day, char out[DATE_LEN])
{
	date_format(date_from_ymd(2023, 1, 2) + day, out);
}

/*
 * A record's members, written in any order and put out with their keys
 * sorted by bytes: the canonical form (canon.h), which is what the
 * client stores and sends.
 */
struct kv {
	const char	*k;
	char		 v[80];
};

struct obj {
	struct kv	 m[24];
	int		 n;
};

static void
put(struct obj *o, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put(struct obj *o, const char *k, const char *fmt, ...)
{
	va_list ap;

	o->m[o->n].k = k;
	va_start(ap, fmt);
	vsnprintf(o->m[o->n].v, sizeof(o->m[o->n].v), fmt, ap);
	va_end(ap);
	o->n++;
}

static void
emit(struct buf *b, struct obj *o)
{
	int i, j;

	for (i = 1; i < o->n; i++)	/* insertion sort: two dozen keys */
		for (j = i; j > 0 && strcmp(o->m[j - 1].k, o->m[j].k) > 0;
		    j--) {
			struct kv t = o->m[j];

			o->m[j] = o->m[j - 1];
			o->m[j - 1] = t;
		}
	buf_addc(b, '{');
	for (i = 0; i < o->n; i++)
		buf_addf(b, "%s\"%s\":%s", i ? "," : "", o->m[i].k, o->m[i].v);
	buf_addc(b, '}');
}

static unsigned
clamp10(int v)
{
	return v < 0 ? 0 : v > 10 ? 10 : (unsigned)v;
}

/* ONS4 scores: low at baseline, better later on. */
static void
scores(struct obj *o, uint64_t h, int later)
{
	int up = later ? 1 + (int)(h >> 40) % 3 : 0;

	put(o, "life_satisfaction", "%u", clamp10(2 + (int)(h % 6) + up));
	put(o, "worthwhile", "%u", clamp10(3 + (int)(h >> 8) % 5 + up));
	put(o, "happy", "%u", clamp10(2 + (int)(h >> 14) % 6 + up));
	put(o, "anxious", "%u", clamp10(4 + (int)(h >> 20) % 6 - up));
}

void
cl_json(struct buf *b, const struct cl_life *l, int i, const char *id,
    const char *referral, const char *target, int64_t seq,
    const char *worker, const char *place)
{
	cl_json_at(b, l, i, id, referral, target, seq, worker, place, -1);
}

void
cl_json_at(struct buf *b, const struct cl_life *l, int i, const char *id,
    const char *referral, const char *target, int64_t seq,
    const char *worker, const char *place, int64_t at_ms)
{
	static const char *const stages[] = {[CL_BASELINE] = "baseline",
	    [CL_REVIEW] = "review", [CL_FINAL] = "final"};
	const struct cl_event *e = &l->ev[i];
	uint64_t s = l->seed + (uint64_t)i * 0x2545f4914f6cdd1dULL, h, p;
	char d[DATE_LEN];
	struct obj o;

	h = next(&s);
	day_text(e->day, d);
	o.n = 0;
	put(&o, "id", "\"%s\"", id);
	put(&o, "schema", "\"pcmds/1\"");
	if (at_ms < 0)
		put(&o, "recorded_at", "\"%sT%02u:%02u:%02uZ\"", d,
		    9 + (unsigned)i % 8, (unsigned)(h % 60),
		    (unsigned)((h >> 6) % 60));
	else {
		int64_t sec = at_ms / 1000;
		char day[DATE_LEN];

		date_format((int32_t)(sec / 86400), day);
		put(&o, "recorded_at", "\"%sT%02u:%02u:%02uZ\"", day,
		    (unsigned)(sec % 86400 / 3600), (unsigned)(sec % 3600 / 60),
		    (unsigned)(sec % 60));
	}
	put(&o, "device_seq", "%lld", (long long)seq);
	put(&o, "worker", "\"%s\"", worker);
	put(&o, "place", "\"%s\"", place);
	put(&o, "referral", "\"%s\"", referral);
	switch (e->kind) {
	case CL_REFERRAL:
		p = l->person * 0x9e3779b97f4a7c15ULL + 0x5851f42d4c957f2dULL;
		put(&o, "kind", "\"referral\"");
		put(&o, "person", "\"%016llx%016llx%016llx%016llx\"",
		    (unsigned long long)next(&p), (unsigned long long)next(&p),
		    (unsigned long long)next(&p), (unsigned long long)next(&p));
		put(&o, "person_basis", l->person % 29 ? "\"nhs_number\"" :
		    "\"local\"");
		put(&o, "referred_on", "\"%s\"", d);
		put(&o, "source", "\"%s\"", ONE(sources, h));
		if (ONE(reasons, h >> 4) == ONE(reasons, h >> 9))
			put(&o, "reasons", "[\"%s\"]", ONE(reasons, h >> 4));
		else
			put(&o, "reasons", "[\"%s\",\"%s\"]", ONE(reasons, h >> 4),
			    ONE(reasons, h >> 9));
		put(&o, "service", l->age < 16 ? "\"children_young_people\"" :
		    "\"general\"");
		put(&o, "age", "%u", l->age);
		put(&o, "gender", "\"%s\"", ONE(genders, h >> 14));
		put(&o, "ethnicity", "\"%s\"", ONE(eth, h >> 19));
		if ((h >> 25) % 8)
			put(&o, "imd_decile", "%u", 1 + (unsigned)(h >> 28) % 10);
		put(&o, "carer", "%s", ONE(tri, h >> 32));
		if ((h >> 36) % 3 == 0)
			put(&o, "homeless", "%s", ONE(tri, h >> 38));
		put(&o, "consent_evaluation", l->consent ? "true" : "false");
		break;
	case CL_BASELINE:
	case CL_REVIEW:
	case CL_FINAL:
		put(&o, "kind", "\"assessment\"");
		put(&o, "assessed_on", "\"%s\"", d);
		put(&o, "stage", "\"%s\"", stages[e->kind]);
		scores(&o, l->seed, e->kind != CL_BASELINE);
		break;
	case CL_DECLINED:
		put(&o, "kind", "\"assessment\"");
		put(&o, "assessed_on", "\"%s\"", d);
		put(&o, "stage", "\"baseline\"");
		put(&o, "declined", "true");
		break;
	case CL_CONTACT:
		put(&o, "kind", "\"contact\"");
		put(&o, "contact_on", "\"%s\"", d);
		put(&o, "mode", "\"%s\"", ONE(modes, h));
		put(&o, "minutes", "%u", 15 + (unsigned)(h >> 8) % 60);
		put(&o, "attended", (h >> 16) % 10 ? "true" : "false");
		break;
	case CL_SUPPORT:
		put(&o, "kind", "\"support\"");
		put(&o, "offered_on", "\"%s\"", d);
		put(&o, "category", "\"%s\"", ONE(categories, h));
		put(&o, "provider", "\"%s\"", ONE(providers, h >> 8));
		put(&o, "outcome", "\"%s\"", ONE(outcomes, h >> 16));
		break;
	case CL_CLOSURE:
		put(&o, "kind", "\"closure\"");
		put(&o, "closed_on", "\"%s\"", d);
		put(&o, "reason", "\"%s\"", l->declined ? "declined" :
		    ONE(closures, h));
		break;
	default:
		put(&o, "kind", "\"correction\"");
		put(&o, "target", "\"%s\"", target);
		put(&o, "set", "{\"minutes\":%u}", 20 + (unsigned)(h % 40));
	}
	emit(b, &o);
}

void
caseload_json(const struct caseload *cl, size_t r, const char *worker,
    const char *place, struct buf *b)
{
	const struct cl_rec *x = &cl->recs[r];
	const struct cl_life *l = &cl->refs[x->ref];
	int t = l->ev[x->ev].target;

	cl_json_at(b, l, x->ev, x->id, cl->recs[l->rec[0]].id,
	    t >= 0 ? cl->recs[l->rec[t]].id : NULL, x->seq, worker, place,
	    x->at_ms);
}

static int
by_made(const void *a, const void *b)
{
	const struct cl_rec *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->ref != y->ref)
		return x->ref < y->ref ? -1 : 1;
	return (x->ev > y->ev) - (x->ev < y->ev);
}

/*
 * When each of a device's records (n, as it made them) was recorded, and
 * its id as the client makes it then (uuid.h: version 7, from that
 * moment): a day's records spread over its working hours (09:00 to
 * 17:00), in the order made, each in a slot of its own, so a device's
 * ids sort as its device_seq does. A follow-up made weeks after its
 * referral has an id of its own time, not one beside the referral's.
 */
static pc_rc
made_at(struct cl_rec *v, size_t n, uint64_t *s)
{
	const int64_t hours = 8 * 3600 * 1000LL;
	size_t a, b, k;
	int64_t step, base;

	for (a = 0; a < n; a = b) {
		for (b = a; b < n && v[b].day == v[a].day; b++)
			;
		step = hours / (int64_t)(b - a);
		base = ((int64_t)date_from_ymd(2023, 1, 2) + v[a].day) *
		    86400000LL + 9 * 3600 * 1000LL;
		for (k = a; k < b; k++) {
			v[k].at_ms = base + (int64_t)(k - a) * step +
			    (int64_t)pick(s, (unsigned)(step / 2 + 1));
			/* and within its millisecond, as a clock would */
			if (uuid_v7(v[k].at_ms * 1000000 + pick(s, 1000000),
			    v[k].id) != PC_OK)
				return PC_EIO;
		}
	}
	return PC_OK;
}

pc_rc
caseload_make(struct caseload *cl, size_t nrefs, int devices, uint64_t seed,
    size_t max_recs)
{
	uint64_t s = seed;
	size_t k, n = 0, r, *start, *count;
	int i, d;

	memset(cl, 0, sizeof(*cl));
	cl->devices = devices;
	cl->refs = calloc(nrefs ? nrefs : 1, sizeof(*cl->refs));
	start = calloc((size_t)devices + 1, sizeof(*start));
	count = calloc((size_t)devices, sizeof(*count));
	if (cl->refs == NULL || start == NULL || count == NULL)
		goto nomem;
	for (k = 0; k < nrefs; k++) {
		cl_life_make(&cl->refs[k], seed, k, (int32_t)pick(&s, CL_DAYS),
		    (int)(k % (size_t)devices), CL_DAYS - 1);
		n += (size_t)cl->refs[k].n;
		count[k % (size_t)devices] += (size_t)cl->refs[k].n;
	}
	cl->nrefs = nrefs;
	if ((cl->recs = calloc(n ? n : 1, sizeof(*cl->recs))) == NULL)
		goto nomem;
	for (d = 0; d < devices; d++)
		start[d + 1] = start[d] + count[d];
	memset(count, 0, (size_t)devices * sizeof(*count));
	for (k = 0; k < nrefs; k++) {
		const struct cl_life *l = &cl->refs[k];

		for (i = 0; i < l->n; i++) {
			struct cl_rec *x = &cl->recs[start[l->dev] +
			    count[l->dev]++];

			x->ref = (uint32_t)k;
			x->ev = (uint8_t)i;
			x->day = l->ev[i].day;
		}
	}
	/* each device's records as it made them, numbered and given ids */
	for (d = 0; d < devices; d++) {
		size_t keep = count[d];

		qsort(cl->recs + start[d], count[d], sizeof(*cl->recs), by_made);
		if (max_recs > 0 && keep > max_recs)
			keep = max_recs;
		for (r = start[d]; r < start[d] + keep; r++)
			cl->recs[r].seq = (int64_t)(r - start[d] + 1);
		if (made_at(cl->recs + start[d], keep, &s) != PC_OK)
			goto noid;
		for (; r < start[d] + count[d]; r++)
			cl->recs[r].seq = 0;	/* not made: left out */
	}
	/* close the gaps of what was left out */
	for (r = k = 0; r < n; r++)
		if (cl->recs[r].seq > 0)
			cl->recs[k++] = cl->recs[r];
	cl->nrecs = k;
	for (k = 0; k < nrefs; k++)
		cl->refs[k].n = 0;
	for (r = 0; r < cl->nrecs; r++) {
		struct cl_life *l = &cl->refs[cl->recs[r].ref];

		/* made in order: a referral's kept events are its first ones */
		l->rec[cl->recs[r].ev] = (uint32_t)r;
		if (cl->recs[r].ev + 1 > l->n)
			l->n = cl->recs[r].ev + 1;
	}
	free(start);
	free(count);
	return PC_OK;
noid:
	free(start);
	free(count);
	caseload_free(cl);
	return PC_EIO;
nomem:
	free(start);
	free(count);
	caseload_free(cl);
	return PC_ENOMEM;
}

void
caseload_free(struct caseload *cl)
{
	free(cl->refs);
	free(cl->recs);
	memset(cl, 0, sizeof(*cl));
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* What an order is like: follow-ups of earlier batches, their delay. */
static pc_rc
describe(const struct caseload *cl, struct cl_order *o)
{
	size_t *batch_of = malloc((cl->nrecs ? cl->nrecs : 1) *
	    sizeof(*batch_of)), later = 0, nd = 0, i, j;
	int *delay = malloc((cl->nrecs ? cl->nrecs : 1) * sizeof(*delay));

	if (batch_of == NULL || delay == NULL) {
		free(batch_of);
		free(delay);
		return PC_ENOMEM;
	}
	for (i = 0; i < o->nb; i++)
		for (j = o->b[i].first; j < o->b[i].first + o->b[i].n; j++)
			batch_of[o->order[j]] = i;
	for (i = 0; i < cl->nrecs; i++) {
		const struct cl_rec *x = &cl->recs[i];
		const struct cl_life *l = &cl->refs[x->ref];

		if (x->ev == 0)
			continue;
		later += batch_of[l->rec[0]] < batch_of[i];
		delay[nd++] = x->day - l->day;
	}
	o->later = cl->nrecs ? (double)later / (double)cl->nrecs : 0;
	qsort(delay, nd, sizeof(*delay), cmp_int);
	o->median_days = nd ? (nd % 2 ? delay[nd / 2] : (delay[nd / 2 - 1] +
	    delay[nd / 2]) / 2.0) : 0;
	free(batch_of);
	free(delay);
	return PC_OK;
}

/* Room for every record and for a batch per record, at worst. */
static pc_rc
order_alloc(const struct caseload *cl, struct cl_order *o)
{
	memset(o, 0, sizeof(*o));
	o->order = malloc((cl->nrecs ? cl->nrecs : 1) * sizeof(*o->order));
	o->b = malloc((cl->nrecs ? cl->nrecs : 1) * sizeof(*o->b));
	if (o->order == NULL || o->b == NULL) {
		cl_order_free(o);
		return PC_ENOMEM;
	}
	return PC_OK;
}

/* The device of record r: recs[] holds each device's records in a run. */
static void
device_runs(const struct caseload *cl, size_t *start)
{
	size_t r;
	int d = 0;

	start[0] = 0;
	for (r = 0; r < cl->nrecs; r++)
		while (d < cl->refs[cl->recs[r].ref].dev)
			start[++d] = r;
	while (d < cl->devices)
		start[++d] = cl->nrecs;
}

pc_rc
cl_order_realistic(const struct caseload *cl, int max, struct cl_order *o)
{
	size_t *start = calloc((size_t)cl->devices + 1, sizeof(*start)), *at,
	    n = 0;
	double per_day = (double)cl->nrecs / cl->devices / CL_DAYS;
	int32_t t;
	int d, every;

	if (start == NULL || order_alloc(cl, o) != PC_OK) {
		free(start);
		return PC_ENOMEM;
	}
	at = calloc((size_t)cl->devices, sizeof(*at));
	if (at == NULL) {
		free(start);
		cl_order_free(o);
		return PC_ENOMEM;
	}
	/* a sync brings about one batch: as many days as make it */
	every = per_day > 0 ? (int)(max * 0.9 / per_day) : 1;
	every = every < 1 ? 1 : every > 56 ? 56 : every;
	o->sync_days = every;
	device_runs(cl, start);
	for (d = 0; d < cl->devices; d++)
		at[d] = start[d];
	/* day by day; device d syncs on the days d * every / devices + k * every */
	for (t = 0; n < cl->nrecs; t++)
		for (d = 0; d < cl->devices; d++) {
			if (t < CL_DAYS && (t + d * every / cl->devices) %
			    every != every - 1)
				continue;
			while (at[d] < start[d + 1] && (t >= CL_DAYS ||
			    cl->recs[at[d]].day <= t)) {
				struct cl_batch *b = &o->b[o->nb++];

				b->dev = d;
				b->first = n;
				b->n = 0;
				while (at[d] < start[d + 1] && b->n < (size_t)max &&
				    (t >= CL_DAYS || cl->recs[at[d]].day <= t)) {
					o->order[n++] = (uint32_t)at[d]++;
					b->n++;
				}
			}
		}
	free(start);
	free(at);
	return describe(cl, o);
}

pc_rc
cl_order_easy(const struct caseload *cl, int max, struct cl_order *o)
{
	size_t *start = calloc((size_t)cl->devices + 1, sizeof(*start)), *at,
	    n = 0;
	int d, busy = 1, i;

	if (start == NULL || order_alloc(cl, o) != PC_OK) {
		free(start);
		return PC_ENOMEM;
	}
	if ((at = calloc((size_t)cl->devices, sizeof(*at))) == NULL) {
		free(start);
		cl_order_free(o);
		return PC_ENOMEM;
	}
	device_runs(cl, start);
	for (d = 0; d < cl->devices; d++)
		at[d] = start[d];
	/*
	 * Each device's referrals in the order it made them, each whole;
	 * a batch is sent when the next referral would not fit, devices
	 * taking turns.
	 */
	while (busy) {
		busy = 0;
		for (d = 0; d < cl->devices; d++) {
			struct cl_batch *b = &o->b[o->nb];

			b->dev = d;
			b->first = n;
			b->n = 0;
			for (; at[d] < start[d + 1]; at[d]++) {
				const struct cl_rec *x = &cl->recs[at[d]];
				const struct cl_life *l = &cl->refs[x->ref];

				if (x->ev != 0)
					continue;	/* sent with its referral */
				if (b->n > 0 && b->n + (size_t)l->n > (size_t)max)
					break;
				for (i = 0; i < l->n; i++)
					o->order[n++] = l->rec[i];
				b->n += (size_t)l->n;
			}
			if (b->n > 0) {
				o->nb++;
				busy = 1;
			}
		}
	}
	free(start);
	free(at);
	return describe(cl, o);
}

void
cl_order_free(struct cl_order *o)
{
	free(o->order);
	free(o->b);
	memset(o, 0, sizeof(*o));
}

/*
 * timeline.c - cross-record rules and corrections for one referral.
 *
 * Admission is incremental: a new record is appended and only what it
 * touches is checked, so that a long referral does not cost quadratic
 * time. A rejected record is taken back out, leaving the timeline exactly
 * as it was.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

void
tl_init(struct timeline *tl, const char *id)
{
	memset(tl, 0, sizeof(*tl));
	snprintf(tl->id, sizeof(tl->id), "%s", id);
}

void
tl_free(struct timeline *tl)
{
	size_t i;

	for (i = 0; i < tl->n; i++) {
		rec_free(tl->v[i].rec);
		cJSON_Delete(tl->v[i].own);
	}
	free(tl->v);
	memset(tl, 0, sizeof(*tl));
}

int
tl_find(const struct timeline *tl, const char *id)
{
	size_t i;

	for (i = 0; i < tl->n; i++)
		if (strcmp(tl->v[i].rec->id, id) == 0)
			return (int)i;
	return -1;
}

int
tl_find_prefix(const struct timeline *tl, const char *prefix)
{
	size_t i, len = strlen(prefix);
	int found = -1;

	for (i = 0; i < tl->n; i++)
		if (strncmp(tl->v[i].rec->id, prefix, len) == 0) {
			if (found >= 0)
				return -2;
			found = (int)i;
		}
	return found;
}

/*
 * Most records are never corrected: their effective content is the record
 * itself, and a copy is made only when a correction changes it.
 */
const cJSON *
tl_content(const struct tl_entry *e)
{
	if (e->rec->kind == KIND_CORRECTION)
		return NULL;
	return e->own != NULL ? e->own : e->rec->json;
}

/*
 * The values a record read when it was built (rec.h), while a correction
 * has not changed it: then its content must be read.
 */
static const struct rec_vals *
own_vals(const struct tl_entry *e)
{
	return e->own == NULL ? &e->rec->vals : NULL;
}

static const struct tl_entry *
referral_entry(const struct timeline *tl)
{
	if (tl->n > 0 && tl->v[0].rec->kind == KIND_REFERRAL)
		return &tl->v[0];
	return NULL;
}

static int
is_event(const struct tl_entry *e)
{
	return !e->voided && e->rec->kind != KIND_CORRECTION;
}

static int32_t
event_date(const struct tl_entry *e)
{
	const char *f = rec_date_field(e->rec->kind);

	/* uncorrected: the date the record read when it was built */
	if (e->own == NULL && e->rec->kind != KIND_CORRECTION)
		return e->rec->date;
	return f ? rec_day(tl_content(e), f) : -1;
}

static int
scored(const struct tl_entry *e)
{
	const struct rec_vals *v = own_vals(e);

	if (e->rec->kind != KIND_ASSESSMENT)
		return 0;
	return v != NULL ? !v->flag : rec_flag(tl_content(e), "declined",
	    0) != 1;
}

/* The referral's date and age, of entry 0. */
static int32_t
referred_on(const struct timeline *tl)
{
	const struct tl_entry *e = &tl->v[0];

	if (e->rec->kind == KIND_REFERRAL)
		return event_date(e);	/* its date is referred_on */
	return rec_day(tl_content(e), "referred_on");
}

static int
referral_age(const struct timeline *tl)
{
	const struct tl_entry *e = &tl->v[0];

	if (e->rec->kind == KIND_REFERRAL && e->own == NULL)
		return e->rec->vals.age;
	return rec_int(tl_content(e), "age", 0);
}

/* What taking a correction back restores in its target. */
struct undo {
	int	 target;	/* -1: nothing changed */
	int	 voided;
	int	 replaced;	/* own was replaced by a new copy */
	cJSON	*own;		/* the target's previous own content */
};

/*
 * Applies correction c to its target's effective content; u receives what
 * to restore if the correction is taken back.
 */
static pc_rc
apply_correction(struct timeline *tl, const struct rec *c, struct undo *u)
{
	const cJSON *set = rec_get(c->json, "set");
	const cJSON *kv;
	struct tl_entry *t;
	cJSON *eff;
	int i = tl_find(tl, rec_str(c->json, "target"));

	memset(u, 0, sizeof(*u));
	u->target = -1;
	if (i < 0 || tl->v[i].rec->kind == KIND_CORRECTION)
		return PC_ENOTFOUND;
	t = &tl->v[i];
	u->target = i;
	u->voided = t->voided;
	if (cJSON_IsTrue(rec_get(c->json, "void"))) {
		t->voided = 1;
		return PC_OK;
	}
	if ((eff = cJSON_Duplicate(tl_content(t), 1)) == NULL)
		return PC_ENOMEM;
	cJSON_ArrayForEach(kv, set) {
		cJSON *nv;

		cJSON_DeleteItemFromObjectCaseSensitive(eff, kv->string);
		if (cJSON_IsNull(kv))
			continue;	/* null withdraws an optional field */
		if ((nv = cJSON_Duplicate(kv, 1)) == NULL ||
		    !cJSON_AddItemToObject(eff, kv->string, nv)) {
			cJSON_Delete(nv);
			cJSON_Delete(eff);
			return PC_ENOMEM;
		}
	}
	u->own = t->own;
	u->replaced = 1;
	t->own = eff;
	return PC_OK;
}

/* Puts the target back as it was before the correction. */
static void
undo_correction(struct timeline *tl, struct undo *u)
{
	struct tl_entry *t;

	if (u->target < 0)
		return;
	t = &tl->v[u->target];
	t->voided = u->voided;
	if (u->replaced) {
		cJSON_Delete(t->own);
		t->own = u->own;
	}
	u->target = -1;
}

static pc_rc
append(struct timeline *tl, struct rec *r)
{
	struct tl_entry *e;

	if (tl->n == tl->cap) {
		size_t ncap = tl->cap ? tl->cap * 2 : 8;
		struct tl_entry *nv;

		if (ncap < tl->cap || ncap > SIZE_MAX / sizeof(*nv) ||
		    (nv = realloc(tl->v, ncap * sizeof(*nv))) == NULL)
			return PC_ENOMEM;
		tl->v = nv;
		tl->cap = ncap;
	}
	e = &tl->v[tl->n];
	memset(e, 0, sizeof(*e));
	e->rec = r;
	tl->n++;
	return PC_OK;
}

pc_rc
tl_load(struct timeline *tl, struct rec *r)
{
	struct undo u;
	pc_rc rc;

	if ((rc = append(tl, r)) != PC_OK) {
		rec_free(r);	/* taken, as timeline.h says, even so */
		return rc;
	}
	if (r->kind == KIND_CORRECTION) {
		rc = apply_correction(tl, r, &u);
		cJSON_Delete(u.own);
		if (rc == PC_ENOTFOUND)
			rc = PC_OK;	/* stored data: keep, ignore */
	}
	return rc;
}

static const char *
date_label(enum rec_kind k)
{
	const struct field *f = rec_field(k, rec_date_field(k));

	return f != NULL ? f->label : "the date";
}

static void
check_referral_entry(const struct timeline *tl, const char *pre,
    struct err_list *errs)
{
	int32_t refd = referred_on(tl);
	int age = referral_age(tl);
	char d1[DATE_LEN], path[ERR_FIELD_MAX];
	size_t j;

	for (j = 1; j < tl->n; j++) {
		const struct tl_entry *e = &tl->v[j];
		int32_t d;

		if (!is_event(e))
			continue;
		if ((d = event_date(e)) >= 0 && d < refd) {
			date_format(d, d1);
			snprintf(path, sizeof(path), "%sreferred_on", pre);
			err_add(errs, E_DATE, path, "%s cannot be after the %s "
			    "already recorded on %s", date_label(KIND_REFERRAL),
			    e->rec->kind == KIND_ASSESSMENT ? "assessment" :
			    e->rec->kind == KIND_SUPPORT ? "support" :
			    e->rec->kind == KIND_CLOSURE ? "closure" :
			    "contact", d1);
			return;
		}
		if (age < ONS4_MIN_AGE && scored(e)) {
			snprintf(path, sizeof(path), "%sage", pre);
			err_add(errs, E_AGE, path, "age %d is under %d, but "
			    "ONS4 scores are already recorded for this "
			    "referral", age, ONS4_MIN_AGE);
			return;
		}
	}
}

/* A closure dated closed (entry skip aside) against the other events. */
static void
check_closure(const struct timeline *tl, int32_t closed, size_t skip,
    const char *path, struct err_list *errs)
{
	char d1[DATE_LEN], d2[DATE_LEN];
	size_t j;

	for (j = 1; j < tl->n; j++) {
		const struct tl_entry *e = &tl->v[j];
		int32_t d;

		if (j == skip || !is_event(e))
			continue;
		d = event_date(e);
		if (e->rec->kind == KIND_CLOSURE) {
			date_format(d, d1);
			err_add(errs, E_CLOSED, path, "this referral is already "
			    "closed (on %s); void that closure first to change "
			    "it", d1);
			return;
		}
		if (closed >= 0 && d > closed) {
			date_format(closed, d1);
			date_format(d, d2);
			err_add(errs, E_CLOSED, path, "%s %s is before the %s "
			    "already recorded on %s", date_label(KIND_CLOSURE),
			    d1, codes_kind.v[e->rec->kind].code, d2);
			return;
		}
	}
}

/*
 * A record of kind k dated d (-1: not known yet), scored or not, against
 * the referral and its other records (entry skip aside): the rules
 * tl_admit applies and tl_precheck asks early.
 */
static void
check_event(const struct timeline *tl, enum rec_kind k, int32_t d,
    int scored_, size_t skip, const char *pre, struct err_list *errs)
{
	int32_t refd = referred_on(tl), cd;
	char d1[DATE_LEN], d2[DATE_LEN], path[ERR_FIELD_MAX];
	size_t j;

	snprintf(path, sizeof(path), "%s%s", pre, rec_date_field(k));
	if (d >= 0 && d < refd) {
		date_format(d, d1);
		date_format(refd, d2);
		err_add(errs, E_DATE, path, "%s %s is before the referral date "
		    "%s", date_label(k), d1, d2);
	}
	if (scored_ && referral_age(tl) < ONS4_MIN_AGE)
		err_add(errs, E_AGE, pre[0] ? "set" : "stage", "ONS4 is asked "
		    "of people aged %d and over; this referral records age %d",
		    ONS4_MIN_AGE, referral_age(tl));
	if (k == KIND_CLOSURE) {
		check_closure(tl, d, skip, path, errs);
		return;
	}
	for (j = 1; j < tl->n; j++) {
		const struct tl_entry *c = &tl->v[j];

		if (j == skip || !is_event(c) || c->rec->kind != KIND_CLOSURE)
			continue;
		if ((cd = event_date(c)) < d) {
			date_format(cd, d1);
			err_add(errs, E_CLOSED, path, "this referral was closed "
			    "on %s; nothing dated after that can be added "
			    "(void the closure to reopen it)", d1);
		}
	}
}

/* Checks entry i (its effective content) against the rest. */
static void
check_entry(const struct timeline *tl, size_t i, const char *pre,
    struct err_list *errs)
{
	const struct tl_entry *e = &tl->v[i];

	if (e->rec->kind == KIND_REFERRAL)
		check_referral_entry(tl, pre, errs);
	else
		check_event(tl, e->rec->kind, event_date(e), scored(e), i, pre,
		    errs);
}

/* The correction's set, merged into its target, must be a valid record. */
static void
check_merged(const struct tl_entry *t, const struct rec_opts *o,
    struct err_list *errs)
{
	struct err_list merr;
	struct rec *tmp = NULL;
	char path[ERR_FIELD_MAX];
	size_t i;

	err_init(&merr);
	if (rec_validate(tl_content(t), o, &tmp, &merr) == PC_EINVAL) {
		for (i = 0; i < merr.n; i++) {
			snprintf(path, sizeof(path), "set.%s",
			    merr.v[i].field);
			err_add(errs, merr.v[i].code, path, "%s",
			    merr.v[i].msg);
		}
		if (merr.n == 0)
			err_add(errs, E_SYSTEM, "set", "the corrected record "
			    "could not be checked");
	}
	rec_free(tmp);
	err_free(&merr);
}

static void
check_new(const struct timeline *tl, const struct rec *r,
    struct err_list *errs)
{
	const struct tl_entry *ref = referral_entry(tl);
	const char *ref_place;
	int t;

	if (r->kind == KIND_REFERRAL) {
		if (tl->n > 0)
			err_add(errs, E_REFERRAL, "id", "referral %s is "
			    "already recorded", uuid_short(r->id).s);
		return;
	}
	if (ref == NULL || strcmp(r->referral, tl->id) != 0) {
		err_add(errs, E_REFERRAL, "referral", "referral %s is not "
		    "known; the referral must be recorded first",
		    uuid_short(r->referral).s);
		return;
	}
	if (ref->voided) {
		err_add(errs, E_REFERRAL, "referral", "referral %s was "
		    "voided; nothing more can be recorded for it",
		    uuid_short(r->referral).s);
		return;
	}
	ref_place = ref->rec->place;
	if (strcmp(ref_place, r->place) != 0)
		err_add(errs, E_REFERRAL, "place", "referral %s belongs to "
		    "place %s, not %s", uuid_short(r->referral).s, ref_place,
		    r->place);
	if (tl->n >= TL_RECORDS_MAX)
		err_add(errs, E_TOO_MANY, "referral", "referral %s already "
		    "has %d records, the most one referral may hold",
		    uuid_short(r->referral).s, TL_RECORDS_MAX);
	if (r->kind != KIND_CORRECTION)
		return;
	t = tl_find(tl, rec_str(r->json, "target"));
	if (t < 0)
		err_add(errs, E_TARGET, "target", "record %s is not part of "
		    "referral %s", uuid_short(rec_str(r->json, "target")).s,
		    uuid_short(r->referral).s);
	else if (tl->v[t].rec->kind == KIND_CORRECTION)
		err_add(errs, E_TARGET, "target", "a correction cannot be "
		    "corrected; correct the original record instead");
	else if (tl->v[t].voided)
		err_add(errs, E_TARGET, "target", "record %s is already "
		    "voided", uuid_short(tl->v[t].rec->id).s);
}

pc_rc
tl_precheck(const struct timeline *tl, enum rec_kind k, int32_t on,
    int scores, struct err_list *errs)
{
	const struct tl_entry *ref = referral_entry(tl);
	size_t before = err_count(errs);

	if (k == KIND_REFERRAL || k >= KIND_CORRECTION)
		return PC_OK;
	if (ref == NULL)
		err_add(errs, E_REFERRAL, "referral", "referral %s is not "
		    "known; the referral must be recorded first",
		    uuid_short(tl->id).s);
	else if (ref->voided)
		err_add(errs, E_REFERRAL, "referral", "referral %s was "
		    "voided; nothing more can be recorded for it",
		    uuid_short(tl->id).s);
	else
		check_event(tl, k, on, k == KIND_ASSESSMENT && scores, tl->n,
		    "", errs);
	return err_count(errs) == before ? PC_OK : PC_EINVAL;
}

pc_rc
tl_admit(struct timeline *tl, struct rec *r, const struct rec_opts *o,
    struct err_list *errs)
{
	size_t before = err_count(errs);
	struct undo u = {.target = -1};
	int isvoid;
	pc_rc rc;

	check_new(tl, r, errs);
	if (err_count(errs) != before)
		return PC_EINVAL;
	if ((rc = append(tl, r)) != PC_OK)
		return rc;
	if (r->kind != KIND_CORRECTION) {
		check_entry(tl, tl->n - 1, "", errs);
	} else {
		if ((rc = apply_correction(tl, r, &u)) != PC_OK) {
			undo_correction(tl, &u);
			tl->n--;
			return rc == PC_ENOTFOUND ? PC_EINVAL : rc;
		}
		isvoid = cJSON_IsTrue(rec_get(r->json,
		    "void"));
		if (!isvoid) {
			check_merged(&tl->v[u.target], o, errs);
			if (err_count(errs) == before)
				check_entry(tl, (size_t)u.target, "set.", errs);
		}
	}
	if (err_count(errs) == before) {
		cJSON_Delete(u.own);
		return PC_OK;
	}
	/* take the record back out */
	undo_correction(tl, &u);
	tl->n--;
	return PC_EINVAL;
}

/*
 * The pair: the earliest scored baseline, and the latest scored review or
 * final (the last admitted of those on its day) when it is later than
 * the baseline; when it is not, no review or final is.
 */
static void
pair(struct tl_summary *s)
{
	s->has_followup = s->has_baseline && s->has_latest &&
	    s->latest.on > s->baseline.on;
	if (s->has_followup)
		s->followup = s->latest;
	else
		memset(&s->followup, 0, sizeof(s->followup));
}

/* v: the record's values, when c is the record as built; else NULL. */
static void
step_assessment(struct tl_summary *s, int32_t on, const cJSON *c,
    const struct rec_vals *v)
{
	struct tl_assess a;
	int m;

	s->assessments++;
	if (v != NULL ? v->flag : rec_flag(c, "declined", 0) == 1) {
		s->declined++;
		return;
	}
	a.on = on;
	a.stage = v != NULL ? v->code : code_index(&codes_stage, rec_str(c,
	    "stage"));
	for (m = 0; m < ONS4_N; m++)
		a.score[m] = v != NULL ? v->score[m] : rec_int(c,
		    ons4_measures[m].field, -1);
	if (a.stage == 0) {
		if (!s->has_baseline || a.on < s->baseline.on) {
			s->baseline = a;
			s->has_baseline = 1;
		}
	} else if (!s->has_latest || a.on >= s->latest.on) {
		s->latest = a;
		s->has_latest = 1;
	}
}

/* tl_step(); v as for step_assessment(). */
static void
step(struct tl_summary *s, enum rec_kind k, int32_t d, const cJSON *c,
    const struct rec_vals *v)
{
	int i;

	if (d > s->last_on)
		s->last_on = d;
	switch (k) {
	case KIND_CONTACT:
		s->contacts++;
		if (v != NULL ? v->flag : rec_flag(c, "attended", 0) == 1) {
			s->attended++;
			if (s->first_contact < 0 || d < s->first_contact)
				s->first_contact = d;
		}
		break;
	case KIND_SUPPORT:
		s->supports++;
		i = v != NULL ? v->code : code_index(&codes_support,
		    rec_str(c, "category"));
		if (i >= 0) {
			const char *out = v != NULL ? NULL : rec_str(c,
			    "outcome");

			s->support_offered |= 1u << i;
			if (v != NULL ? v->taken : strcmp(out, "taken_up") ==
			    0 || strcmp(out, "completed") == 0)
				s->support_taken |= 1u << i;
		}
		break;
	case KIND_CLOSURE:
		s->closures++;
		s->closed_on = d;
		s->close_reason = v != NULL ? v->code : code_index(
		    &codes_closure, rec_str(c, "reason"));
		break;
	case KIND_ASSESSMENT:
		step_assessment(s, d, c, v);
		break;
	default:
		break;
	}
	pair(s);
}

void
tl_step(struct tl_summary *s, enum rec_kind k, int32_t d, const cJSON *c)
{
	step(s, k, d, c, NULL);
}

void
tl_summarise(const struct timeline *tl, struct tl_summary *s)
{
	const struct tl_entry *ref = referral_entry(tl);
	size_t i;

	memset(s, 0, sizeof(*s));
	s->closed_on = -1;
	s->close_reason = -1;
	s->first_contact = -1;
	s->referred_on = -1;
	s->last_on = -1;
	if (ref == NULL)
		return;
	s->referral = tl_content(ref);
	s->voided = ref->voided;
	s->referred_on = referred_on(tl);
	s->age = referral_age(tl);
	s->records = (int)tl->n;
	for (i = 1; i < tl->n; i++)
		if (is_event(&tl->v[i]))
			step(s, tl->v[i].rec->kind, event_date(&tl->v[i]),
			    tl_content(&tl->v[i]), own_vals(&tl->v[i]));
}

/*
 * What check_new() and check_event() ask of a new record, answered from
 * the summary; whatever it cannot answer for certain is left to them.
 */
int
tl_add(struct tl_summary *s, const char *place, const struct rec *r)
{
	int32_t d = r->date;
	int scores = r->kind == KIND_ASSESSMENT && !r->vals.flag;

	if ((r->kind != KIND_ASSESSMENT && r->kind != KIND_CONTACT &&
	    r->kind != KIND_SUPPORT && r->kind != KIND_CLOSURE) ||
	    s->referred_on < 0 || s->voided || s->records < 1 ||
	    s->records >= TL_RECORDS_MAX || strcmp(place, r->place) != 0 ||
	    d < 0 || d < s->referred_on || (scores && s->age < ONS4_MIN_AGE) ||
	    s->closures > 1)
		return 0;
	if (r->kind == KIND_CLOSURE ? s->closures > 0 || s->last_on > d :
	    s->closures == 1 && s->closed_on < d)
		return 0;
	s->records++;
	step(s, r->kind, d, r->json, &r->vals);
	return 1;
}

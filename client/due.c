/*
 * due.c - the next step of each referral.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "due.h"

static const char *const labels[DUE_N] = {
	"Nothing due", "No contact yet", "Baseline ONS4 missing",
	"Review ONS4 due", "Final ONS4 due",
};

const char *
due_label(enum due_kind k)
{
	return k < DUE_N ? labels[k] : "";
}

static int
weeks(const char *s, int *a, int *b)
{
	char *end;
	long x, y;

	x = strtol(s, &end, 10);
	y = x;
	if (*end == '-')
		y = strtol(end + 1, &end, 10);
	if (end == s || *end != '\0' || x < 1 || y < x || y > 104)
		return -1;
	*a = (int)x;
	*b = (int)y;
	return 0;
}

pc_rc
due_rules(const struct config *cfg, struct due_rules *r,
    struct err_list *errs)
{
	int unused;

	r->review_from = 6;
	r->review_to = 12;
	r->final_from = 12;
	if (cfg->review_weeks[0] != '\0' && weeks(cfg->review_weeks,
	    &r->review_from, &r->review_to) != 0) {
		err_add(errs, E_RANGE, "review_weeks", "review_weeks must be "
		    "weeks after the baseline, such as 6-12; got \"%s\"",
		    cfg->review_weeks);
		return PC_EINVAL;
	}
	if (cfg->final_weeks[0] != '\0' && weeks(cfg->final_weeks,
	    &r->final_from, &unused) != 0) {
		err_add(errs, E_RANGE, "final_weeks", "final_weeks must be "
		    "weeks "
		    "after the baseline, such as 12; got \"%s\"",
		    cfg->final_weeks);
		return PC_EINVAL;
	}
	return PC_OK;
}

/* What the referral's live assessments hold, declined ones included. */
struct stages {
	int32_t	 baseline;	/* earliest baseline, -1 none */
	int	 review, final;	/* after the baseline */
};

static void
stages_of(const struct timeline *tl, struct stages *st)
{
	size_t i;

	st->baseline = -1;
	st->review = st->final = 0;
	for (i = 0; i < tl->n; i++) {
		const struct tl_entry *e = &tl->v[i];
		const char *stage;
		int32_t d;

		if (e->voided || e->rec->kind != KIND_ASSESSMENT)
			continue;
		stage = rec_str(tl_content(e), "stage");
		d = rec_day(tl_content(e), "assessed_on");
		if (strcmp(stage, "baseline") == 0 &&
		    (st->baseline < 0 || d < st->baseline))
			st->baseline = d;
	}
	for (i = 0; st->baseline >= 0 && i < tl->n; i++) {
		const struct tl_entry *e = &tl->v[i];
		const char *stage;

		if (e->voided || e->rec->kind != KIND_ASSESSMENT ||
		    rec_day(tl_content(e), "assessed_on") < st->baseline)
			continue;
		stage = rec_str(tl_content(e), "stage");
		st->review |= strcmp(stage, "review") == 0;
		st->final |= strcmp(stage, "final") == 0;
	}
}

int
due_final_missing(const struct timeline *tl)
{
	struct tl_summary s;
	struct stages st;

	tl_summarise(tl, &s);
	if (s.referral == NULL || rec_int(s.referral, "age", 0) < ONS4_MIN_AGE)
		return 0;
	stages_of(tl, &st);
	return !st.final;
}

static void
set(struct due *d, enum due_kind k, int32_t from, int32_t until,
    int32_t today)
{
	d->kind = k;
	d->from = from;
	d->until = until;
	d->now = from <= today;
	d->overdue = until >= 0 && today > until;
}

void
due_of(const struct timeline *tl, const struct due_rules *r, int32_t today,
    struct due *d)
{
	struct tl_summary s;
	struct stages st;

	memset(d, 0, sizeof(*d));
	d->until = -1;
	tl_summarise(tl, &s);
	if (s.referral == NULL || s.voided || s.closed_on >= 0)
		return;
	if (s.contacts == 0) {
		set(d, DUE_CONTACT, s.referred_on, -1, today);
		return;
	}
	if (rec_int(s.referral, "age", 0) < ONS4_MIN_AGE)
		return;
	stages_of(tl, &st);
	if (st.baseline < 0)
		set(d, DUE_BASELINE, s.referred_on, -1, today);
	else if (!st.final && today >= st.baseline + 7 * r->final_from)
		set(d, DUE_FINAL, st.baseline + 7 * r->final_from, -1, today);
	else if (!st.review && !st.final)
		set(d, DUE_REVIEW, st.baseline + 7 * r->review_from,
		    st.baseline + 7 * r->review_to, today);
	else if (!st.final)
		set(d, DUE_FINAL, st.baseline + 7 * r->final_from, -1, today);
}

struct each {
	struct ctx		*c;
	const struct due_rules	*r;
	due_cb			 cb;
	void			*arg;
	pc_rc			 rc;
	struct err_list		*errs;
};

static int
each_one(void *arg, const struct cstore_row *row)
{
	struct each *e = arg;
	struct timeline tl;
	struct due d;
	int stop;

	if ((e->rc = cstore_timeline(e->c->store, row->id, &tl, e->errs)) !=
	    PC_OK)
		return 1;
	due_of(&tl, e->r, e->c->ropts.today, &d);
	stop = e->cb(e->arg, &tl, &d);
	tl_free(&tl);
	return stop;
}

pc_rc
due_each(struct ctx *c, const struct due_rules *r, due_cb cb, void *arg,
    struct err_list *errs)
{
	struct each e = {c, r, cb, arg, PC_OK, errs};
	pc_rc rc;

	if ((rc = ctx_store(c, errs)) != PC_OK)
		return rc;
	rc = cstore_each(c->store, CSF_REFERRALS, each_one, &e);
	if (rc != PC_OK) {
		err_add(errs, E_SYSTEM, "", "store: cannot read the referrals");
		return rc;
	}
	return e.rc;
}

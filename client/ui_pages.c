/*
 * ui_pages.c - the app's reading pages: the caseload with what is due,
 * finding a person by NHS number, a referral's timeline, the records the
 * server refused and the directory of community assets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "directory.h"
#include "due.h"
#include "ons4.h"
#include "sec.h"
#include "states.h"
#include "ui.h"

/* ---- the caseload ----------------------------------------------------- */

struct case_row {
	char		 id[UUID_LEN];
	int32_t		 referred_on, closed_on;
	int		 age;
	char		 gender[24], service[32];
	struct due	 due;
};

struct caseload {
	struct case_row	*v;
	size_t		 n, cap;
	long		 open, due_now, closed;
};

static int
collect_case(void *arg, const struct timeline *tl, const struct due *d)
{
	struct caseload *cl = arg;
	struct tl_summary s;
	struct case_row *row;

	tl_summarise(tl, &s);
	if (s.referral == NULL || s.voided)
		return 0;
	if (cl->n == cl->cap) {
		size_t ncap = cl->cap ? cl->cap * 2 : 64;
		void *nv = realloc(cl->v, ncap * sizeof(*cl->v));

		if (nv == NULL)
			return 1;
		cl->v = nv;
		cl->cap = ncap;
	}
	row = &cl->v[cl->n++];
	snprintf(row->id, sizeof(row->id), "%s", tl->id);
	row->referred_on = s.referred_on;
	row->closed_on = s.closed_on;
	row->age = rec_int(s.referral, "age", -1);
	snprintf(row->gender, sizeof(row->gender), "%s",
	    rec_str(s.referral, "gender") ? rec_str(s.referral, "gender") : "");
	snprintf(row->service, sizeof(row->service), "%s",
	    rec_str(s.referral, "service") ? rec_str(s.referral, "service") :
	    "");
	row->due = *d;
	cl->open += s.closed_on < 0;
	cl->closed += s.closed_on >= 0;
	cl->due_now += d->kind != DUE_NOTHING && d->now;
	return 0;
}

/* What is due now first (oldest first), then what comes, then the rest. */
static int
by_due(const void *a, const void *b)
{
	const struct case_row *x = a, *y = b;
	int rx = x->due.kind == DUE_NOTHING ? 2 : !x->due.now;
	int ry = y->due.kind == DUE_NOTHING ? 2 : !y->due.now;

	if (rx != ry)
		return rx - ry;
	if (rx < 2 && x->due.from != y->due.from)
		return x->due.from < y->due.from ? -1 : 1;
	return x->referred_on > y->referred_on ? -1 :
	    x->referred_on < y->referred_on;
}

static int
shown(const struct case_row *row, const char *show, const char *service)
{
	if (service != NULL && service[0] != '\0' &&
	    strcmp(service, row->service) != 0)
		return 0;
	if (strcmp(show, "closed") == 0)
		return row->closed_on >= 0;
	if (strcmp(show, "all") == 0)
		return 1;
	if (strcmp(show, "due") == 0)
		return row->closed_on < 0 && row->due.kind != DUE_NOTHING &&
		    row->due.now;
	return row->closed_on < 0;	/* open */
}

static void
due_text(const struct due *d, char *out, size_t len)
{
	char day[DATE_LEN], until[DATE_LEN];

	date_format_uk(d->from, day);
	if (d->kind == DUE_NOTHING)
		snprintf(out, len, "Nothing due");
	else if (d->overdue)
		snprintf(out, len, "%s: overdue", due_label(d->kind));
	else if (d->now && d->until >= 0) {
		date_format_uk(d->until, until);
		snprintf(out, len, "%s now (until %s)", due_label(d->kind),
		    until);
	} else if (d->now && (d->kind == DUE_CONTACT ||
	    d->kind == DUE_BASELINE))
		snprintf(out, len, "%s", due_label(d->kind));
	else if (d->now)
		snprintf(out, len, "%s now", due_label(d->kind));
	else
		snprintf(out, len, "%s from %s", due_label(d->kind), day);
}

static void
case_table(struct html *h, const struct caseload *cl, const char *show,
    const char *service)
{
	char when[DATE_LEN], due[128];
	size_t i;
	int n = 0;

	for (i = 0; i < cl->n; i++)
		n += shown(&cl->v[i], show, service);
	if (n == 0) {
		html_m(h, "<p>No referral matches these filters.</p>");
		return;
	}
	html_m(h, "<div class=\"table\"><table class=\"stack\"><caption>"
	    "Referrals, what is due first</caption><thead><tr>"
	    "<th scope=\"col\">Referral</th><th scope=\"col\">Referred</th>"
	    "<th scope=\"col\">Age and gender</th><th scope=\"col\">Service"
	    "</th><th scope=\"col\">Next</th></tr></thead><tbody>");
	for (i = 0; i < cl->n; i++) {
		const struct case_row *row = &cl->v[i];

		if (!shown(row, show, service))
			continue;
		date_format_uk(row->referred_on, when);
		due_text(&row->due, due, sizeof(due));
		html_f(h, "<tr><td data-label=\"Referral\"><a href=\"/r/%s\">"
		    "%s</a></td><td data-label=\"Referred\">%s</td>"
		    "<td data-label=\"Age and gender\">%d, %s</td>"
		    "<td data-label=\"Service\">%s</td><td data-label=\"Next\">"
		    "%s%m</td></tr>", row->id, uuid_short(row->id).s, when, row->age,
		    describe_label(&codes_gender, row->gender),
		    describe_label(&codes_service, row->service), due,
		    row->closed_on >= 0 ? " (closed)" : "");
	}
	html_m(h, "</tbody></table></div>");
}

static void
filters(struct html *h, const char *show, const char *service)
{
	static const char *const shows[][2] = {{"due", "Due now"},
	    {"open", "All open"}, {"closed", "Closed"}, {"all", "All"}};
	size_t i;

	html_m(h, "<form method=\"get\" action=\"/\"><fieldset><legend>Show"
	    "</legend>");
	for (i = 0; i < 4; i++)
		html_f(h, "<div class=\"choice\"><input type=\"radio\" "
		    "id=\"show-%s\" name=\"show\" value=\"%s\"%m><label "
		    "for=\"show-%s\">%s</label></div>", shows[i][0],
		    shows[i][0], strcmp(show, shows[i][0]) == 0 ? " checked" :
		    "", shows[i][0], shows[i][1]);
	html_m(h, "</fieldset><div class=\"field\"><label for=\"service\">"
	    "Service</label><select id=\"service\" name=\"service\"><option "
	    "value=\"\">Every service</option>");
	for (i = 0; i < codes_service.n; i++)
		html_f(h, "<option value=\"%s\"%m>%s</option>",
		    codes_service.v[i].code, service && strcmp(service,
		    codes_service.v[i].code) == 0 ? " selected" : "",
		    codes_service.v[i].label);
	html_m(h, "</select></div><button type=\"submit\" class=\"secondary\">"
	    "Show</button></form>");
}

static void
find_form(struct ui_req *r, struct html *h, const struct err_list *errs,
    const char *typed)
{
	int bad = errs != NULL && errs->n > 0;

	html_f(h, "<h2>Find a person</h2><form method=\"post\" action=\"/find\""
	    " novalidate><div class=\"field%m\" id=\"w-nhs_number\"><label "
	    "for=\"f-nhs_number\">NHS number</label><p class=\"hint\" "
	    "id=\"h-nhs_number\">Turned into the pseudonym and matched on this "
	    "computer; it is not stored.</p>", bad ? " invalid" : "");
	if (bad)
		html_f(h, "<p class=\"error\" id=\"e-nhs_number\">Error: "
		    "%s</p>",
		    errs->v[0].msg);
	html_f(h, "<input type=\"text\" inputmode=\"numeric\" "
	    "id=\"f-nhs_number\" name=\"nhs_number\" autocomplete=\"off\" "
	    "spellcheck=\"false\" value=\"%s\" aria-describedby=\"h-nhs_number"
	    "%m\"%m></div>", typed ? typed : "", bad ? " e-nhs_number" : "",
	    bad ? " aria-invalid=\"true\"" : "");
	ui_csrf_field(r, h);
	html_m(h, "<button type=\"submit\">Find</button></form>");
}

static void
caseload_page(struct ui_req *r, const struct err_list *find_errs,
    const char *typed)
{
	const char *show = ui_query(r, "show"), *service = ui_query(r,
	    "service");
	struct caseload cl = {NULL, 0, 0, 0, 0, 0};
	struct due_rules rules;
	struct err_list errs;
	struct html h;
	long nq[CS_NSTATES] = {0};

	err_init(&errs);
	if (ui_store(r, &errs) != PC_OK ||
	    due_rules(&r->ui->c->cfg, &rules, &errs) != PC_OK ||
	    due_each(r->ui->c, &rules, collect_case, &cl, &errs) != PC_OK) {
		ui_fail(r, &errs);
		err_free(&errs);
		free(cl.v);
		return;
	}
	err_free(&errs);
	if (show == NULL || show[0] == '\0')
		show = cl.due_now > 0 ? "due" : "open";
	if (cl.n > 1)
		qsort(cl.v, cl.n, sizeof(*cl.v), by_due);
	(void)cstore_counts(r->ui->c->store, nq);
	html_init(&h);
	html_f(&h, "<h1>Caseload</h1><ul class=\"counts\"><li><strong>%ld"
	    "</strong> open referrals</li><li><strong>%ld</strong> due now</li>"
	    "<li><strong>%ld</strong> closed</li><li><strong>%ld</strong> "
	    "refused by the server</li></ul><p><a class=\"button\" "
	    "href=\"/referral/new\">New referral</a></p>", cl.open, cl.due_now,
	    cl.closed, nq[CS_QUARANTINED]);
	find_form(r, &h, find_errs, typed);
	html_m(&h, "<h2>Referrals</h2>");
	filters(&h, show, service);
	case_table(&h, &cl, show, service);
	ui_page(r, find_errs ? 422 : 200, "Caseload", &h);
	html_free(&h);
	free(cl.v);
}

void
ui_caseload(struct ui_req *r)
{
	caseload_page(r, NULL, NULL);
}

/* ---- find ------------------------------------------------------------- */

struct found {
	char	 ids[20][UUID_LEN];
	int	 n;
};

static int
found_one(void *arg, const struct cstore_row *row)
{
	struct found *f = arg;

	if (f->n < 20)
		snprintf(f->ids[f->n++], UUID_LEN, "%s", row->id);
	return 0;
}

static void
found_page(struct ui_req *r, const struct found *f)
{
	struct html h;
	int i;

	html_init(&h);
	html_f(&h, "<h1>%d referrals for this person</h1><ul>", f->n);
	for (i = 0; i < f->n; i++)
		html_f(&h, "<li><a href=\"/r/%s\">Referral %s</a></li>",
		    f->ids[i], uuid_short(f->ids[i]).s);
	html_m(&h, "</ul>");
	ui_page(r, 200, "Found", &h);
	html_free(&h);
}

void
ui_find(struct ui_req *r)
{
	const char *nhs = ui_form(r, "nhs_number");
	struct found f;
	struct err_list errs;
	char to[64];
	int n;
	pc_rc rc;

	memset(&f, 0, sizeof(f));
	err_init(&errs);
	if (nhs == NULL || nhs[0] == '\0') {
		err_add(&errs, E_REQUIRED, "nhs_number", "Type the person's "
		    "NHS "
		    "number");
		rc = PC_EINVAL;
	} else
		rc = record_find_person(r->ui->c, nhs, found_one, &f, &n,
		    &errs);
	if (rc == PC_OK && n == 0)
		err_add(&errs, E_REFERRAL, "nhs_number", "No referral on this "
		    "computer is for that NHS number. Check it, or record a "
		    "new "
		    "referral.");
	if (rc == PC_OK && n == 1) {
		snprintf(to, sizeof(to), "/r/%s", f.ids[0]);
		ui_redirect(r, to);
	} else if (rc == PC_OK && n > 1)
		found_page(r, &f);
	else if (rc == PC_OK || rc == PC_EINVAL)
		caseload_page(r, &errs, nhs);
	else
		ui_fail(r, &errs);
	err_free(&errs);
}

/* ---- a referral's timeline --------------------------------------------- */

static void
summary_list(struct html *h, const struct tl_summary *s, const char *due)
{
	const cJSON *r = s->referral, *it;
	char d[DATE_LEN];

	date_format_uk(s->referred_on, d);
	html_f(h, "<dl><dt>Referred on</dt><dd>%s</dd><dt>Source</dt><dd>%s"
	    "</dd><dt>Reasons</dt><dd>", d, describe_label(&codes_source,
	    rec_str(r, "source")));
	cJSON_ArrayForEach(it, rec_get(r, "reasons"))
		html_f(h, "%s%m", describe_label(&codes_reason,
		    it->valuestring), it->next ? "; " : "");
	html_f(h, "</dd><dt>Service</dt><dd>%s</dd><dt>Age</dt><dd>%d</dd>"
	    "<dt>Gender</dt><dd>%s</dd><dt>Ethnic category</dt><dd>%s</dd>"
	    "<dt>Carer</dt><dd>%s</dd><dt>Learning disability</dt><dd>%s</dd>"
	    "<dt>Autism</dt><dd>%s</dd><dt>Homeless</dt><dd>%s</dd>"
	    "<dt>Consent to evaluation</dt><dd>%s</dd><dt>Person</dt><dd>%s"
	    "</dd><dt>Next</dt><dd>%s</dd></dl>",
	    describe_label(&codes_service, rec_str(r, "service")),
	    rec_int(r, "age", -1), describe_label(&codes_gender,
	    rec_str(r, "gender")), describe_label(&codes_ethnicity,
	    rec_str(r, "ethnicity")), describe_yesno(r, "carer"),
	    describe_yesno(r, "learning_disability"),
	    describe_yesno(r, "autism"), describe_yesno(r, "homeless"),
	    describe_yesno(r, "consent_evaluation"),
	    strcmp(rec_str(r, "person_basis"), "local") == 0 ? "No NHS number "
	    "(a local id)" : "By NHS number (held only as a pseudonym)", due);
}

static void
actions(struct html *h, const char *id, const struct tl_summary *s)
{
	html_m(h, "<h2>Record</h2><p>");
	if (s->closed_on < 0 && !s->voided) {
		if (rec_int(s->referral, "age", 0) >= ONS4_MIN_AGE)
			html_f(h, "<a class=\"button\" "
			    "href=\"/r/%s/assess\">ONS4 "
			    "assessment</a>", id);
		html_f(h, "<a class=\"button\" href=\"/r/%s/contact\">Contact"
		    "</a><a class=\"button\" href=\"/r/%s/support\">Support "
		    "offered</a><a class=\"button secondary\" "
		    "href=\"/r/%s/close\">Close the referral</a>", id, id, id);
	} else
		html_m(h, "This referral is closed: void its closure to reopen "
		    "it.");
	html_m(h, "</p>");
}

/* What the server said of a record, in words. */
static void
server_said(struct html *h, const struct states *st, size_t k)
{
	cJSON *errs, *e;

	if (k >= st->n) {
		html_m(h, "Not known");
		return;
	}
	switch (st->v[k].state) {
	case CS_PENDING:
		html_m(h, "Not sent yet");
		return;
	case CS_SENT:
		html_m(h, "Stored by the server");
		return;
	case CS_SUPERSEDED:
	case CS_WITHDRAWN:
		html_m(h, "Withdrawn before it reached the server");
		return;
	default:
		break;
	}
	html_m(h, "<strong>Refused:</strong> ");
	errs = st->v[k].reason ? cJSON_Parse(st->v[k].reason) : NULL;
	cJSON_ArrayForEach(e, errs)
		html_f(h, "%s ", rec_str(e, "message") ? rec_str(e, "message") :
		    "no reason given");
	cJSON_Delete(errs);
}

static int32_t
entry_day(const struct tl_entry *e)
{
	int64_t t;

	if (e->rec->kind != KIND_CORRECTION)
		return rec_day(tl_content(e), rec_date_field(e->rec->kind));
	return time_parse(e->rec->recorded_at, &t) == 0 ?
	    (int32_t)(t / 86400) : 0;
}

static void
record_row(struct html *h, const struct tl_entry *e, const struct states *st)
{
	char what[600], d[DATE_LEN];
	size_t k = states_find(st, e->rec->id);

	describe_what(e->rec->kind, tl_content(e), e->rec->json, what,
	    sizeof(what));
	date_format_uk(entry_day(e), d);
	html_f(h, "<tr%m><td data-label=\"Date\">%s</td><td "
	    "data-label=\"Kind\">"
	    "%s</td><td data-label=\"What\">%s%m</td><td data-label=\"Made "
	    "by\">"
	    "%s</td><td data-label=\"Server\">", e->voided ?
	    " class=\"voided\"" : "", d, rec_kind_info(e->rec->kind)->label,
	    what, e->voided ? " (void)" : "", e->rec->worker);
	server_said(h, st, k);
	html_m(h, "</td><td data-label=\"Change\">");
	if (e->rec->kind != KIND_CORRECTION && !e->voided)
		html_f(h, "<a href=\"/rec/%s/correct\">Correct<span "
		    "class=\"skip\"> %s of %s</span></a> <a "
		    "href=\"/rec/%s/void\">Void<span class=\"skip\"> %s of %s"
		    "</span></a>", e->rec->id,
		    rec_kind_info(e->rec->kind)->label, d, e->rec->id,
		    rec_kind_info(e->rec->kind)->label, d);
	html_m(h, "</td></tr>");
}

static void
records_table(struct html *h, const struct timeline *tl,
    const struct states *st)
{
	size_t i;

	html_m(h, "<h2>Records</h2><div class=\"table\"><table class=\"stack\">"
	    "<caption>Every record of this referral, corrections applied"
	    "</caption><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">"
	    "Kind</th><th scope=\"col\">What</th><th scope=\"col\">Made by</th>"
	    "<th scope=\"col\">Server</th><th scope=\"col\">Change</th></tr>"
	    "</thead><tbody>");
	for (i = 0; i < tl->n; i++)
		record_row(h, &tl->v[i], st);
	html_m(h, "</tbody></table></div>");
}

/* The assessment saved, beside the one before it, with the change. */
static void
ons4_change(struct html *h, const struct timeline *tl, int saved)
{
	const cJSON *now = tl_content(&tl->v[saved]), *prev = NULL;
	int32_t d = rec_day(now, "assessed_on"), best = -1;
	char pd[DATE_LEN];
	size_t i;
	int m;

	if (rec_flag(now, "declined", 0) == 1)
		return;
	for (i = 0; i < tl->n; i++) {
		const cJSON *c = tl_content(&tl->v[i]);
		int32_t cd = rec_day(c, "assessed_on");

		if ((int)i == saved || tl->v[i].voided ||
		    tl->v[i].rec->kind != KIND_ASSESSMENT ||
		    rec_flag(c, "declined", 0) == 1 || cd > d || cd < best)
			continue;
		prev = c;
		best = cd;
	}
	if (prev == NULL)
		return;
	date_format_uk(best, pd);
	html_f(h, "<div class=\"table\"><table><caption>ONS4: this assessment "
	    "and the one before (%s)</caption><thead><tr><th scope=\"col\">"
	    "Measure</th><th scope=\"col\">Before</th><th scope=\"col\">Now"
	    "</th><th scope=\"col\">Change</th></tr></thead><tbody>", pd);
	for (m = 0; m < ONS4_N; m++) {
		const struct ons4_info *o = &ons4_measures[m];
		int b = rec_int(prev, o->field, 0);
		int a = rec_int(now, o->field, 0);
		int g = ons4_gain((enum ons4_measure)m, b, a);
		char ch[64];

		snprintf(ch, sizeof(ch), "%+d (%s)", a - b, g > 0 ? "better" :
		    g < 0 ? "worse" : "no change");
		html_f(h, "<tr><th scope=\"row\">%s</th><td>%d (%s)</td><td>%d "
		    "(%s)</td><td>%s</td></tr>", o->label, b,
		    o->bands[ons4_band((enum ons4_measure)m, b)], a,
		    o->bands[ons4_band((enum ons4_measure)m, a)], ch);
	}
	html_m(h, "</tbody></table></div>");
	if (best == d)	/* the pairing rule of the figures */
		html_m(h, "<p>Both are dated the same day, so the figures do "
		    "not count this as a change: a follow-up counts only when "
		    "it is later than the baseline.</p>");
}

static void
saved_notice(struct ui_req *r, struct html *h, const struct timeline *tl)
{
	const char *saved = ui_query(r, "saved");
	char line[600];
	size_t i;
	int k;

	if (saved == NULL || record_readback(r->ui->c, saved, line,
	    sizeof(line)) != PC_OK)
		return;
	html_f(h, "<div class=\"notice\" role=\"status\"><h2>Saved</h2><p>%s"
	    "</p>", line);
	for (i = 0; i < r->ui->c->warnings.n; i++)
		html_f(h, "<p><strong>Check:</strong> %s</p>",
		    r->ui->c->warnings.v[i].msg);
	err_clear(&r->ui->c->warnings);
	if ((k = tl_find(tl, saved)) >= 0 &&
	    tl->v[k].rec->kind == KIND_ASSESSMENT)
		ons4_change(h, tl, k);
	html_m(h, "</div>");
}

static void
timeline_page(struct ui_req *r, const struct timeline *tl,
    const struct tl_summary *s, const struct states *st)
{
	struct due_rules rules;
	struct err_list errs;
	struct html h;
	struct due d;
	char due[128] = "Nothing due";

	err_init(&errs);
	if (due_rules(&r->ui->c->cfg, &rules, &errs) == PC_OK) {
		due_of(tl, &rules, r->ui->c->ropts.today, &d);
		due_text(&d, due, sizeof(due));
	}
	err_free(&errs);
	html_init(&h);
	saved_notice(r, &h, tl);
	html_f(&h, "<h1>Referral %s%m</h1>", uuid_short(tl->id).s, s->voided ? " (void)" :
	    s->closed_on >= 0 ? " (closed)" : "");
	summary_list(&h, s, due);
	actions(&h, tl->id, s);
	if (s->assessments > s->declined) {
		html_m(&h, "<h2>ONS4 over time</h2>");
		ui_chart(&h, tl);
	}
	records_table(&h, tl, st);
	ui_page(r, 200, "Referral", &h);
	html_free(&h);
}

void
ui_timeline(struct ui_req *r)
{
	struct err_list errs;
	struct timeline tl;
	struct tl_summary s;
	struct states st = {0};

	err_init(&errs);
	if (ui_store(r, &errs) != PC_OK ||
	    cstore_timeline(r->ui->c->store, r->arg, &tl, &errs) != PC_OK) {
		ui_fail(r, &errs);
		err_free(&errs);
		return;
	}
	err_free(&errs);
	tl_summarise(&tl, &s);
	if (s.referral == NULL) {
		tl_free(&tl);
		ui_error(r, 404, "No such referral", "This device holds no "
		    "referral with that id.");
		return;
	}
	if (states_load(r->ui->c->store, r->arg, &st) != PC_OK) {
		states_free(&st);
		tl_free(&tl);
		ui_error(r, 500, "Cannot read this referral", "The sync states "
		    "of its records could not be read from this device's store. "
		    "Nothing was changed; try again.");
		return;
	}
	timeline_page(r, &tl, &s, &st);
	states_free(&st);
	tl_free(&tl);
}

/* ---- records the server refused --------------------------------------- */

struct refused {
	struct ui_req	*r;
	struct html	*h;
	int		 n;
};

static int
refused_row(void *arg, const struct cstore_row *row)
{
	struct refused *rf = arg;
	char line[600] = "";
	cJSON *errs = row->reason ? cJSON_Parse(row->reason) : NULL, *e;

	rf->n++;
	(void)record_readback(rf->r->ui->c, row->id, line, sizeof(line));
	html_f(rf->h, "<li><p><strong>%s</strong></p><ul>", line);
	cJSON_ArrayForEach(e, errs)
		html_f(rf->h, "<li>%s</li>", rec_str(e, "message") ?
		    rec_str(e, "message") : "no reason given");
	if (cJSON_GetArraySize(errs) == 0)
		html_m(rf->h, "<li>The server gave no reason.</li>");
	cJSON_Delete(errs);
	html_f(rf->h, "</ul><p><a class=\"button\" href=\"/rec/%s/correct\">"
	    "Fix it<span class=\"skip\"> (%s)</span></a><a class=\"button "
	    "secondary\" href=\"/rec/%s/void\">Withdraw it<span class=\"skip\">"
	    " (%s)</span></a><a href=\"/r/%s\">Its referral</a></p></li>",
	    row->id, uuid_short(row->id).s, row->id, uuid_short(row->id).s,
	    row->referral);
	return 0;
}

void
ui_quarantine(struct ui_req *r)
{
	struct html h;
	struct refused rf;

	if (ui_open(r) != 0)
		return;
	html_init(&h);
	rf = (struct refused){r, &h, 0};
	html_m(&h, "<h1>Records the server refused</h1><p>They are kept on "
	    "this computer. Fix each one (the corrected version replaces it "
	    "and is sent at the next sync), or withdraw it.</p><ul>");
	(void)cstore_each(r->ui->c->store, CSF_QUARANTINED, refused_row, &rf);
	html_m(&h, "</ul>");
	if (rf.n == 0)
		html_m(&h, "<p>None: the server has accepted everything "
		    "sent.</p>");
	ui_page(r, 200, "Refused records", &h);
	html_free(&h);
}

/* ---- the directory of community assets -------------------------------- */

static int
asset_row(void *arg, const struct cstore_asset *a)
{
	struct html *h = arg;

	html_f(h, "<tr><td data-label=\"Name\">%s%m</td><td data-label="
	    "\"Category\">%s</td><td data-label=\"Contact\">%s</td>"
	    "<td data-label=\"Notes\">%s</td></tr>", a->name, a->active ? "" :
	    " (retired)", describe_label(&codes_support, a->category),
	    a->contact, a->notes);
	return 0;
}

static int
count_asset(void *arg, const struct cstore_asset *a)
{
	(void)a;
	(*(int *)arg)++;
	return 0;
}

void
ui_directory(struct ui_req *r)
{
	struct html h;
	int n = 0;

	if (ui_open(r) != 0)
		return;
	html_init(&h);
	html_f(&h, "<h1>Community assets in %s</h1><p>Your place's directory, "
	    "as the server gave it at the last sync.</p>", r->ui->c->cfg.place);
	if (cstore_asset_each(r->ui->c->store, NULL, count_asset, &n) ==
	    PC_OK && n == 0)
		html_m(&h, "<p>This computer has no directory yet: it comes "
		    "with "
		    "the next sync.</p>");
	else {
		html_m(&h, "<div class=\"table\"><table class=\"stack\">"
		    "<caption>Groups and services</caption><thead><tr><th "
		    "scope=\"col\">Name</th><th scope=\"col\">Category</th>"
		    "<th scope=\"col\">Contact</th><th scope=\"col\">Notes</th>"
		    "</tr></thead><tbody>");
		(void)cstore_asset_each(r->ui->c->store, NULL, asset_row, &h);
		html_m(&h, "</tbody></table></div>");
	}
	ui_page(r, 200, "Directory", &h);
	html_free(&h);
}

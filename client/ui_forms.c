/*
 * ui_forms.c - the recording forms: referral, ONS4, contact, support,
 * closure, correction and void.
 *
 * The forms are drawn from the data set's field tables, with the labels
 * of the code lists, and what they send goes through the same functions
 * as the command line's flags (record_set, record_add, correct_record),
 * so the app and the CLI record alike and are refused alike. A refused
 * form comes back as it was typed, each problem at its field and listed
 * at the top.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "correct.h"
#include "describe.h"
#include "due.h"
#include "nhs.h"
#include "ons4.h"
#include "sec.h"
#include "ui.h"

#define RADIOS_MAX	8	/* more codes than this: a select */

/* What a form is drawn from: what was sent, or the record being changed. */
struct form {
	struct ui_req		*r;
	const cJSON		*prefill;	/* current content, or NULL */
	const struct err_list	*errs;
	enum rec_kind		 kind;
};

/* ---- errors at their fields ------------------------------------------- */

/* The form field an error belongs to: "set.reasons[2]" -> "reasons". */
static void
base_field(const char *path, char *out, size_t len)
{
	if (strncmp(path, "set.", 4) == 0)
		path += 4;
	snprintf(out, len, "%.*s", (int)strcspn(path, "["), path);
}

static int
has_error(const struct form *fm, const char *name)
{
	char b[ERR_FIELD_MAX];
	size_t i;

	for (i = 0; fm->errs != NULL && i < fm->errs->n; i++) {
		base_field(fm->errs->v[i].field, b, sizeof(b));
		if (strcmp(b, name) == 0)
			return 1;
	}
	return 0;
}

static void
field_errors(struct html *h, const struct form *fm, const char *name)
{
	char b[ERR_FIELD_MAX];
	size_t i;
	int first = 1;

	for (i = 0; fm->errs != NULL && i < fm->errs->n; i++) {
		base_field(fm->errs->v[i].field, b, sizeof(b));
		if (strcmp(b, name) != 0)
			continue;
		if (first)
			html_f(h, "<p class=\"error\" id=\"e-%s\">Error: "
			    "%s</p>",
			    name, fm->errs->v[i].msg);
		else
			html_f(h, "<p class=\"error\">Error: %s</p>",
			    fm->errs->v[i].msg);
		first = 0;
	}
}

/* The list of problems at the top of a refused form. */
static void
error_summary(struct html *h, const struct err_list *errs)
{
	char b[ERR_FIELD_MAX];
	size_t i;

	if (errs == NULL || errs->n == 0)
		return;
	html_m(h, "<div class=\"summary\" role=\"alert\" tabindex=\"-1\" "
	    "id=\"problems\"><h2>There is a problem</h2><p>Nothing was saved. "
	    "Everything you typed is still here.</p><ul>");
	for (i = 0; i < errs->n; i++) {
		base_field(errs->v[i].field, b, sizeof(b));
		if (b[0] != '\0' && strchr(b, '.') == NULL)
			html_f(h, "<li><a href=\"#f-%s\">%s</a></li>", b,
			    errs->v[i].msg);
		else
			html_f(h, "<li>%s</li>", errs->v[i].msg);
	}
	html_m(h, "</ul></div>");
}

/* ---- values ----------------------------------------------------------- */

/* The value to show for a single-valued field ("" when none). */
static const char *
value_of(const struct form *fm, const struct field *f, char *buf, size_t len)
{
	const cJSON *v;
	const char *s;

	buf[0] = '\0';
	if (fm->r->post)
		return (s = ui_form(fm->r, f->name)) ? s : "";
	if (fm->prefill == NULL)
		return "";
	v = rec_get(fm->prefill, f->name);
	if (f->type == FT_DATE && cJSON_IsString(v))
		return v->valuestring;	/* a date input takes YYYY-MM-DD */
	describe_value(f, v, buf, len);
	return buf;
}

/* 1 when code is among the values sent (or held) for a list field. */
static int
chosen(const struct form *fm, const struct field *f, const char *code)
{
	const struct evkeyval *kv;
	const cJSON *it;

	if (fm->r->post) {
		TAILQ_FOREACH(kv, &fm->r->form, next)
			if (strcmp(kv->key, f->name) == 0 &&
			    strcmp(kv->value, code) == 0)
				return 1;
		return 0;
	}
	cJSON_ArrayForEach(it, rec_get(fm->prefill, f->name))
		if (cJSON_IsString(it) && strcmp(it->valuestring, code) == 0)
			return 1;
	return 0;
}

/* aria-describedby and aria-invalid for a field's control. */
static void
described(struct html *h, const struct form *fm, const char *name, int hint)
{
	int bad = has_error(fm, name);

	if (!hint && !bad)
		return;
	html_m(h, " aria-describedby=\"");
	if (hint)
		html_f(h, "h-%s%m", name, bad ? " " : "");
	if (bad)
		html_f(h, "e-%s", name);
	html_m(h, bad ? "\" aria-invalid=\"true\"" : "\"");
}

static void
field_open(struct html *h, const struct form *fm, const char *name)
{
	html_f(h, "<div class=\"field%m\" id=\"w-%s\">",
	    has_error(fm, name) ? " invalid" : "", name);
}

/* ---- controls, one per field type ------------------------------------- */

static void
hint_of(struct html *h, const char *name, const char *text)
{
	if (text != NULL)
		html_f(h, "<p class=\"hint\" id=\"h-%s\">%s</p>", name, text);
}

/*
 * Dates are typed DD/MM/YYYY whatever the computer's locale (a date
 * input would follow it, and 01/05 would be 5 January on a laptop left
 * in US English); the script adds a date picker beside the field.
 */
static void
control_date(struct html *h, const struct form *fm, const struct field *f)
{
	char buf[64], uk[DATE_LEN];
	const char *v = value_of(fm, f, buf, sizeof(buf));
	int32_t d;

	if (date_parse(v, &d) == 0) {
		date_format_uk(d, uk);
		v = uk;
	}
	field_open(h, fm, f->name);
	html_f(h, "<label for=\"f-%s\">%s</label>", f->name, f->label);
	hint_of(h, f->name, "Day, month and year, for example 01/05/2026 (or "
	    "today, or yesterday). It cannot be in the future.");
	field_errors(h, fm, f->name);
	html_f(h, "<input type=\"text\" class=\"date\" data-date "
	    "id=\"f-%s\" name=\"%s\" value=\"%s\" autocomplete=\"off\" "
	    "spellcheck=\"false\"", f->name, f->name, v);
	described(h, fm, f->name, 1);
	html_m(h, "></div>");
}

static void
control_text(struct html *h, const struct form *fm, const struct field *f,
    const char *hint)
{
	char buf[600];
	const char *v = value_of(fm, f, buf, sizeof(buf));

	field_open(h, fm, f->name);
	html_f(h, "<label for=\"f-%s\">%s%m</label>", f->name, f->label,
	    f->flags & FF_REQUIRED ? "" : " (optional)");
	hint_of(h, f->name, hint);
	field_errors(h, fm, f->name);
	html_f(h, "<input type=\"text\" id=\"f-%s\" name=\"%s\" value=\"%s\" "
	    "maxlength=\"%ld\" autocomplete=\"off\" spellcheck=\"false\"",
	    f->name, f->name, v, (long)f->max);
	described(h, fm, f->name, hint != NULL);
	html_m(h, "></div>");
}

static void
control_int(struct html *h, const struct form *fm, const struct field *f)
{
	char buf[64], hint[96];
	const char *v = value_of(fm, f, buf, sizeof(buf));

	snprintf(hint, sizeof(hint), "A whole number from %lld to %lld.",
	    (long long)f->min, (long long)f->max);
	field_open(h, fm, f->name);
	html_f(h, "<label for=\"f-%s\">%s%m</label>", f->name, f->label,
	    f->flags & FF_REQUIRED ? "" : " (optional)");
	hint_of(h, f->name, hint);
	field_errors(h, fm, f->name);
	html_f(h, "<input type=\"text\" inputmode=\"numeric\" id=\"f-%s\" "
	    "name=\"%s\" value=\"%s\" autocomplete=\"off\"", f->name, f->name,
	    v);
	described(h, fm, f->name, 1);
	html_m(h, "></div>");
}

/* One radio button or checkbox; the first of a group gets the field id. */
static void
choice(struct html *h, const struct form *fm, const char *type,
    const struct field *f, size_t i, const char *value, const char *label,
    int on)
{
	char id[96];

	if (i == 0)
		snprintf(id, sizeof(id), "f-%s", f->name);
	else
		snprintf(id, sizeof(id), "f-%s-%zu", f->name, i);
	html_f(h, "<div class=\"choice\"><input type=\"%m\" id=\"%s\" "
	    "name=\"%s\" value=\"%s\"%m", type, id, f->name, value,
	    on ? " checked" : "");
	if (i == 0)
		described(h, fm, f->name, 0);
	html_f(h, "><label for=\"%s\">%s</label></div>", id, label);
}

static void
group_open(struct html *h, const struct form *fm, const struct field *f,
    const char *hint)
{
	field_open(h, fm, f->name);
	html_f(h, "<fieldset><legend>%s%m</legend>", f->label,
	    f->flags & FF_REQUIRED ? "" : " (optional)");
	hint_of(h, f->name, hint);
	field_errors(h, fm, f->name);
}

static void
control_radios(struct html *h, const struct form *fm, const struct field *f)
{
	char buf[64];
	const char *v = value_of(fm, f, buf, sizeof(buf));
	size_t i;

	group_open(h, fm, f, NULL);
	for (i = 0; i < f->codes->n; i++)
		choice(h, fm, "radio", f, i, f->codes->v[i].code,
		    f->codes->v[i].label, strcmp(v, f->codes->v[i].code) == 0);
	html_m(h, "</fieldset></div>");
}

static void
control_select(struct html *h, const struct form *fm, const struct field *f)
{
	char buf[64];
	const char *v = value_of(fm, f, buf, sizeof(buf));
	size_t i;

	field_open(h, fm, f->name);
	html_f(h, "<label for=\"f-%s\">%s</label>", f->name, f->label);
	field_errors(h, fm, f->name);
	html_f(h, "<select id=\"f-%s\" name=\"%s\"", f->name, f->name);
	described(h, fm, f->name, 0);
	html_m(h, "><option value=\"\">Choose one</option>");
	for (i = 0; i < f->codes->n; i++)
		html_f(h, "<option value=\"%s\"%m>%s</option>",
		    f->codes->v[i].code, strcmp(v, f->codes->v[i].code) == 0 ?
		    " selected" : "", f->codes->v[i].label);
	html_m(h, "</select></div>");
}

static void
control_set(struct html *h, const struct form *fm, const struct field *f)
{
	size_t i;

	group_open(h, fm, f, "Tick every one that applies.");
	for (i = 0; i < f->codes->n; i++)
		choice(h, fm, "checkbox", f, i, f->codes->v[i].code,
		    f->codes->v[i].label, chosen(fm, f, f->codes->v[i].code));
	html_m(h, "</fieldset></div>");
}

static void
control_flag(struct html *h, const struct form *fm, const struct field *f)
{
	static const char *const v3[] = {"yes", "no", "unknown"};
	static const char *const l3[] = {"Yes", "No", "Not known"};
	char buf[64];
	const char *v = value_of(fm, f, buf, sizeof(buf));
	size_t i, n = f->type == FT_TRISTATE ? 3 : 2;

	group_open(h, fm, f, f->help);
	for (i = 0; i < n; i++)
		choice(h, fm, "radio", f, i, v3[i], l3[i],
		    strcmp(v, v3[i]) == 0);
	html_m(h, "</fieldset></div>");
}

struct asset_opts {
	struct html	*h;
	const char	*chosen;
};

static int
asset_option(void *arg, const struct cstore_asset *a)
{
	struct asset_opts *o = arg;

	if (a->active || strcmp(a->id, o->chosen) == 0)
		html_f(o->h, "<option value=\"%s\"%m>%s (%s)</option>", a->id,
		    strcmp(a->id, o->chosen) == 0 ? " selected" : "", a->name,
		    describe_label(&codes_support, a->category));
	return 0;
}

static void
control_asset(struct html *h, const struct form *fm, const struct field *f)
{
	char buf[64];
	struct asset_opts o = {h, value_of(fm, f, buf, sizeof(buf))};

	field_open(h, fm, f->name);
	html_f(h, "<label for=\"f-%s\">%s (optional)</label>", f->name,
	    f->label);
	hint_of(h, f->name, "From your place's directory, received when you "
	    "sync. Its category is filled in for you.");
	field_errors(h, fm, f->name);
	html_f(h, "<select id=\"f-%s\" name=\"%s\"", f->name, f->name);
	described(h, fm, f->name, 1);
	html_m(h, "><option value=\"\">Not in the directory</option>");
	if (fm->r->ui->c->store != NULL)
		(void)cstore_asset_each(fm->r->ui->c->store, NULL, asset_option,
		    &o);
	html_m(h, "</select></div>");
}

/* The control a field of the data set takes. */
static void
control(struct html *h, const struct form *fm, const struct field *f)
{
	switch (f->type) {
	case FT_DATE:
		control_date(h, fm, f);
		break;
	case FT_ENUM:
		if (f->codes->n <= RADIOS_MAX)
			control_radios(h, fm, f);
		else
			control_select(h, fm, f);
		break;
	case FT_ENUM_SET:
		control_set(h, fm, f);
		break;
	case FT_INT:
		control_int(h, fm, f);
		break;
	case FT_BOOL:
	case FT_TRISTATE:
		control_flag(h, fm, f);
		break;
	case FT_ASSET:
		control_asset(h, fm, f);
		break;
	case FT_TEXT:
		control_text(h, fm, f, f->help);
		break;
	default:
		break;
	}
}

/* Fields a form shows for kind (the person and ONS4 are drawn apart). */
static int
on_form(const struct field *f)
{
	return !(f->flags & (FF_ENVELOPE | FF_SCORE)) &&
	    f->type != FT_HEX64 && f->type != FT_OBJECT &&
	    strcmp(f->name, "person_basis") != 0 &&
	    strcmp(f->name, "declined") != 0;
}

static void
controls(struct html *h, const struct form *fm)
{
	const struct kind_info *ki = rec_kind_info(fm->kind);
	size_t i;

	for (i = 0; i < ki->n; i++)
		if (on_form(&ki->fields[i]))
			control(h, fm, &ki->fields[i]);
}

/* ---- the forms -------------------------------------------------------- */

static void
form_open(struct html *h, struct ui_req *r, const char *title,
    const char *intro)
{
	html_f(h, "<h1>%s</h1>", title);
	if (intro != NULL)
		html_f(h, "<p>%s</p>", intro);
	html_f(h, "<form method=\"post\" action=\"%s\" novalidate>", r->path);
	ui_csrf_field(r, h);
}

static void
form_close(struct html *h, struct ui_req *r, const char *button)
{
	html_f(h, "<button type=\"submit\">%s</button>", button);
	if (r->arg[0] != '\0' && strncmp(r->path, "/r/", 3) == 0)
		html_f(h, "<a class=\"button secondary\" href=\"/r/%s\">Cancel"
		    "</a>", r->arg);
	else
		html_m(h, "<a class=\"button secondary\" "
		    "href=\"/\">Cancel</a>");
	html_m(h, "</form>");
}

/* The referral's timeline, for the form pages that need it. */
static int
load_referral(struct ui_req *r, struct timeline *tl, struct tl_summary *s)
{
	struct err_list errs;

	err_init(&errs);
	if (ui_store(r, &errs) != PC_OK ||
	    cstore_timeline(r->ui->c->store, r->arg, tl, &errs) != PC_OK) {
		ui_fail(r, &errs);
		err_free(&errs);
		return -1;
	}
	err_free(&errs);
	tl_summarise(tl, s);
	if (s->referral == NULL) {
		tl_free(tl);
		ui_error(r, 404, "No such referral", "This device holds no "
		    "referral with that id.");
		return -1;
	}
	return 0;
}

/*
 * The rules that make a form pointless, checked before it is shown: a
 * closed or voided referral, ONS4 for someone under 16.
 */
static int
refused_early(struct ui_req *r, enum rec_kind k, const char *title)
{
	struct err_list errs;
	struct html b;
	size_t i;

	err_init(&errs);
	if (record_precheck(r->ui->c, r->arg, k, NULL, k == KIND_ASSESSMENT,
	    &errs) == PC_OK) {
		err_free(&errs);
		return 0;
	}
	html_init(&b);
	html_f(&b, "<h1>%s</h1><div class=\"caution\" role=\"alert\">", title);
	for (i = 0; i < errs.n; i++)
		html_f(&b, "<p>%s</p>", errs.v[i].msg);
	html_f(&b, "</div><p><a href=\"/r/%s\">Back to the referral</a></p>",
	    r->arg);
	ui_page(r, 200, title, &b);
	html_free(&b);
	err_free(&errs);
	return 1;
}

/* Today, as a date input's value, for forms opened empty. */
static cJSON *
today_prefill(enum rec_kind k)
{
	cJSON *o = cJSON_CreateObject();
	char today[DATE_LEN];

	record_local_date(0, today);
	cJSON_AddStringToObject(o, rec_date_field(k), today);
	return o;
}

/* ---- posting a record ------------------------------------------------- */

/* The record's fields from the form, as typed, through record_set. */
static cJSON *
body_from_form(struct ui_req *r, enum rec_kind k)
{
	const struct kind_info *ki = rec_kind_info(k);
	const struct evkeyval *kv;
	cJSON *body = cJSON_CreateObject();
	struct buf list;
	size_t i;

	for (i = 0; body != NULL && i < ki->n; i++) {
		const struct field *f = &ki->fields[i];
		const char *v;

		if (!on_form(f) && !(f->flags & FF_SCORE) &&
		    strcmp(f->name, "declined") != 0)
			continue;
		if (f->type != FT_ENUM_SET) {
			if ((v = ui_form(r, f->name)) != NULL && v[0] != '\0')
				record_set(body, k, f->name, v);
			continue;
		}
		buf_init(&list, 4096);
		TAILQ_FOREACH(kv, &r->form, next)
			if (strcmp(kv->key, f->name) == 0)
				buf_addf(&list, "%s%s", list.len ? "," : "",
				    kv->value);
		if (list.len > 0)
			record_set(body, k, f->name, buf_str(&list));
		buf_free(&list);
	}
	return body;
}

/* Stores the form's record; on success, to the referral with a notice. */
static void
post_record(struct ui_req *r, enum rec_kind k, cJSON *body,
    const char *referral, void (*again)(struct ui_req *,
    const struct err_list *))
{
	struct err_list errs;
	char id[UUID_LEN], to[128];
	pc_rc rc;

	err_init(&errs);
	err_clear(&r->ui->c->warnings);
	rc = record_add(r->ui->c, k, body, referral, id, &errs);
	r->ui->c->check_only = 0;
	if (rc == PC_OK) {
		snprintf(to, sizeof(to), "/r/%s?saved=%s", referral ? referral :
		    id, id);
		ui_redirect(r, to);
	} else if (rc == PC_EINVAL || rc == PC_ECONFLICT)
		again(r, &errs);
	else
		ui_fail(r, &errs);
	err_free(&errs);
}

/* ---- referral ---------------------------------------------------------- */

static void
person_controls(struct html *h, const struct form *fm)
{
	const char *none = fm->r->post ? ui_form(fm->r, "no_nhs_number") : NULL;
	const char *nhs = fm->r->post ? ui_form(fm->r, "nhs_number") : NULL;

	field_open(h, fm, "nhs_number");
	html_m(h, "<label for=\"f-nhs_number\">NHS number</label>");
	hint_of(h, "nhs_number", "10 digits. It is checked and turned into a "
	    "pseudonym on this computer; it is never stored or sent.");
	field_errors(h, fm, "nhs_number");
	html_f(h, "<input type=\"text\" inputmode=\"numeric\" "
	    "id=\"f-nhs_number\" name=\"nhs_number\" value=\"%s\" "
	    "autocomplete=\"off\" spellcheck=\"false\"", nhs ? nhs : "");
	described(h, fm, "nhs_number", 1);
	html_f(h, "></div><div class=\"field\"><div class=\"choice\"><input "
	    "type=\"checkbox\" id=\"f-no_nhs_number\" name=\"no_nhs_number\" "
	    "value=\"yes\"%m><label for=\"f-no_nhs_number\">This person has no "
	    "NHS number (a random local id is used "
	    "instead)</label></div></div>",
	    none ? " checked" : "");
}

static void
referral_page(struct ui_req *r, const struct err_list *errs)
{
	cJSON *pre = r->post ? NULL : today_prefill(KIND_REFERRAL);
	struct form fm = {r, pre, errs, KIND_REFERRAL};
	struct html h;

	html_init(&h);
	error_summary(&h, errs);
	form_open(&h, r, "New referral", "Every question is in the "
	    "personalised "
	    "care minimum data set. Optional ones can be left empty.");
	person_controls(&h, &fm);
	controls(&h, &fm);
	form_close(&h, r, "Save the referral");
	ui_page(r, errs ? 422 : 200, "New referral", &h);
	html_free(&h);
	cJSON_Delete(pre);
}

void
ui_referral_form(struct ui_req *r)
{
	struct err_list errs;

	err_init(&errs);
	if (ui_store(r, &errs) != PC_OK || ctx_identity(r->ui->c, &errs) !=
	    PC_OK)
		ui_fail(r, &errs);
	else
		referral_page(r, NULL);
	err_free(&errs);
}

/* person and person_basis from the form; an NHS number never kept. */
static void
referral_person(struct ui_req *r, cJSON *body, struct err_list *errs)
{
	const char *nhs = ui_form(r, "nhs_number");
	char person[SEC_HEX64_LEN];

	if (ui_form(r, "no_nhs_number") != NULL) {
		if (nhs != NULL && nhs[0] != '\0')
			err_add(errs, E_RULE, "nhs_number", "Leave the NHS "
			    "number "
			    "empty when the person has none, or untick \"no "
			    "NHS "
			    "number\"");
		else if (nhs_local_person(person) == PC_OK) {
			cJSON_AddStringToObject(body, "person", person);
			cJSON_AddStringToObject(body, "person_basis", "local");
			return;
		}
	} else if (nhs == NULL || nhs[0] == '\0')
		err_add(errs, E_REQUIRED, "nhs_number", "NHS number is "
		    "required, "
		    "or tick \"no NHS number\"");
	else if (record_person(r->ui->c, nhs, person, errs) == PC_OK) {
		cJSON_AddStringToObject(body, "person", person);
		cJSON_AddStringToObject(body, "person_basis", "nhs_number");
		sec_wipe(person, sizeof(person));
		return;
	}
	/* check the rest too, so every problem shows at once */
	r->ui->c->check_only = 1;
	cJSON_AddStringToObject(body, "person", "0000000000000000000000000000"
	    "000000000000000000000000000000000000");
	cJSON_AddStringToObject(body, "person_basis", "nhs_number");
}

void
ui_referral_post(struct ui_req *r)
{
	struct err_list errs, more;
	char id[UUID_LEN];
	cJSON *body;

	err_init(&errs);
	if (ui_store(r, &errs) != PC_OK) {
		ui_fail(r, &errs);
		err_free(&errs);
		return;
	}
	body = body_from_form(r, KIND_REFERRAL);
	referral_person(r, body, &errs);
	if (errs.n == 0) {
		post_record(r, KIND_REFERRAL, body, NULL, referral_page);
		err_free(&errs);
		return;
	}
	err_init(&more);
	(void)record_add(r->ui->c, KIND_REFERRAL, body, NULL, id, &more);
	r->ui->c->check_only = 0;
	err_move(&errs, &more);
	err_free(&more);
	referral_page(r, &errs);
	err_free(&errs);
}

/* ---- ONS4 -------------------------------------------------------------- */

static void
score_control(struct html *h, const struct form *fm, int m)
{
	const struct ons4_info *o = &ons4_measures[m];
	const char *v = fm->r->post ? ui_form(fm->r, o->field) : NULL;
	char id[64], num[4];
	int k;

	html_f(h, "<div class=\"field score%m\" id=\"w-%s\"><fieldset>"
	    "<legend>%s</legend>", has_error(fm, o->field) ? " invalid" : "",
	    o->field, o->question);
	html_f(h, "<p class=\"hint\" id=\"h-%s\">%s: 0 is \"%s\" and 10 is "
	    "\"%s\".</p>", o->field, o->label, o->lower_better ?
	    "not at all anxious" : "not at all", o->lower_better ?
	    "completely anxious" : "completely");
	field_errors(h, fm, o->field);
	html_m(h, "<div class=\"scale\">");
	for (k = 0; k <= 10; k++) {
		snprintf(id, sizeof(id), k ? "f-%s-%d" : "f-%s", o->field, k);
		if (k == 0)
			snprintf(id, sizeof(id), "f-%s", o->field);
		snprintf(num, sizeof(num), "%d", k);
		html_f(h, "<span><input type=\"radio\" id=\"%s\" name=\"%s\" "
		    "value=\"%d\"%m", id, o->field, k,
		    v && strcmp(v, num) == 0 ? " checked" : "");
		if (k == 0)
			described(h, fm, o->field, 1);
		html_f(h, "><label for=\"%s\">%d</label></span>", id, k);
	}
	html_m(h, "</div></fieldset></div>");
}

static void
assess_page(struct ui_req *r, const struct err_list *errs)
{
	cJSON *pre = r->post ? NULL : today_prefill(KIND_ASSESSMENT);
	struct form fm = {r, pre, errs, KIND_ASSESSMENT};
	const char *stage = r->post ? NULL : ui_query(r, "stage");
	struct html h;
	int m;

	if (pre != NULL && stage != NULL)
		cJSON_AddStringToObject(pre, "stage", stage);
	html_init(&h);
	error_summary(&h, errs);
	form_open(&h, r, "ONS4 personal well-being", "Ask the four questions "
	    "as they are written. Each is answered on a scale of 0 to 10.");
	controls(&h, &fm);
	for (m = 0; m < ONS4_N; m++)
		score_control(&h, &fm, m);
	html_f(&h, "<div class=\"field%m\" id=\"w-declined\">",
	    has_error(&fm, "declined") ? " invalid" : "");
	field_errors(&h, &fm, "declined");
	html_f(&h, "<div class=\"choice\"><input type=\"checkbox\" "
	    "id=\"f-declined\" name=\"declined\" value=\"yes\"%m><label "
	    "for=\"f-declined\">The person declined to answer (leave the "
	    "scores empty)</label></div></div>", r->post &&
	    ui_form(r, "declined") ? " checked" : "");
	form_close(&h, r, "Save the assessment");
	ui_page(r, errs ? 422 : 200, "ONS4 assessment", &h);
	html_free(&h);
	cJSON_Delete(pre);
}

/* The stage the next assessment most likely is, from what is due. */
static const char *
next_stage(struct ui_req *r, const struct timeline *tl)
{
	struct due_rules rules;
	struct err_list errs;
	struct due d;

	err_init(&errs);
	if (due_rules(&r->ui->c->cfg, &rules, &errs) != PC_OK) {
		err_free(&errs);
		return "baseline";
	}
	due_of(tl, &rules, r->ui->c->ropts.today, &d);
	return d.kind == DUE_REVIEW ? "review" : d.kind == DUE_FINAL ? "final" :
	    "baseline";
}

/* Opens a referral's form page: NULL (answered) when it cannot be had. */
static int
form_referral(struct ui_req *r, enum rec_kind k, const char *title,
    struct timeline *tl)
{
	struct tl_summary s;

	if (load_referral(r, tl, &s) != 0)
		return -1;
	if (refused_early(r, k, title)) {
		tl_free(tl);
		return -1;
	}
	return 0;
}

void
ui_assess_form(struct ui_req *r)
{
	struct timeline tl;
	char to[128];

	if (form_referral(r, KIND_ASSESSMENT, "ONS4 assessment", &tl) != 0)
		return;
	if (ui_query(r, "stage") == NULL) {
		snprintf(to, sizeof(to), "/r/%s/assess?stage=%s", r->arg,
		    next_stage(r, &tl));
		tl_free(&tl);
		ui_redirect(r, to);
		return;
	}
	tl_free(&tl);
	assess_page(r, NULL);
}

void
ui_assess_post(struct ui_req *r)
{
	struct timeline tl;

	if (form_referral(r, KIND_ASSESSMENT, "ONS4 assessment", &tl) != 0)
		return;
	tl_free(&tl);
	post_record(r, KIND_ASSESSMENT, body_from_form(r, KIND_ASSESSMENT),
	    r->arg, assess_page);
}

/* ---- contact, support -------------------------------------------------- */

static void
simple_page(struct ui_req *r, enum rec_kind k, const char *title,
    const char *intro, const char *button, const struct err_list *errs)
{
	cJSON *pre = r->post ? NULL : today_prefill(k);
	struct form fm = {r, pre, errs, k};
	struct html h;

	html_init(&h);
	error_summary(&h, errs);
	form_open(&h, r, title, intro);
	controls(&h, &fm);
	form_close(&h, r, button);
	ui_page(r, errs ? 422 : 200, title, &h);
	html_free(&h);
	cJSON_Delete(pre);
}

static void
contact_page(struct ui_req *r, const struct err_list *errs)
{
	simple_page(r, KIND_CONTACT, "Contact", NULL, "Save the contact", errs);
}

static void
support_page(struct ui_req *r, const struct err_list *errs)
{
	simple_page(r, KIND_SUPPORT, "Support offered", "Pick the group or "
	    "service from the directory; type a provider only when it is not "
	    "there (an organisation's name, never a person's).",
	    "Save the support", errs);
}

void
ui_contact_form(struct ui_req *r)
{
	struct timeline tl;

	if (form_referral(r, KIND_CONTACT, "Contact", &tl) != 0)
		return;
	tl_free(&tl);
	contact_page(r, NULL);
}

void
ui_contact_post(struct ui_req *r)
{
	struct timeline tl;

	if (form_referral(r, KIND_CONTACT, "Contact", &tl) != 0)
		return;
	tl_free(&tl);
	post_record(r, KIND_CONTACT, body_from_form(r, KIND_CONTACT), r->arg,
	    contact_page);
}

void
ui_support_form(struct ui_req *r)
{
	struct timeline tl;

	if (form_referral(r, KIND_SUPPORT, "Support offered", &tl) != 0)
		return;
	tl_free(&tl);
	support_page(r, NULL);
}

void
ui_support_post(struct ui_req *r)
{
	struct timeline tl;

	if (form_referral(r, KIND_SUPPORT, "Support offered", &tl) != 0)
		return;
	tl_free(&tl);
	post_record(r, KIND_SUPPORT, body_from_form(r, KIND_SUPPORT), r->arg,
	    support_page);
}

/* ---- closure ----------------------------------------------------------- */

static void
close_page(struct ui_req *r, const struct err_list *errs)
{
	cJSON *pre = r->post ? NULL : today_prefill(KIND_CLOSURE);
	struct form fm = {r, pre, errs, KIND_CLOSURE};
	struct timeline tl;
	struct tl_summary s;
	struct html h;
	int ask;

	if (load_referral(r, &tl, &s) != 0) {
		cJSON_Delete(pre);
		return;
	}
	ask = due_final_missing(&tl);
	tl_free(&tl);
	html_init(&h);
	error_summary(&h, errs);
	form_open(&h, r, "Close the referral", NULL);
	if (ask) {
		html_f(&h, "<div class=\"caution field%m\" id=\"w-no_final\">"
		    "<p>No final ONS4 assessment is recorded for this "
		    "referral, "
		    "so its change in well-being cannot be measured. <a "
		    "href=\"/r/%s/assess?stage=final\">Record the final "
		    "assessment</a> first, or close it without one.</p>",
		    has_error(&fm, "no_final") ? " invalid" : "", r->arg);
		field_errors(&h, &fm, "no_final");
		html_f(&h, "<div class=\"choice\"><input type=\"checkbox\" "
		    "id=\"f-no_final\" name=\"no_final\" "
		    "value=\"yes\"%m><label "
		    "for=\"f-no_final\">Close without a final "
		    "assessment</label>"
		    "</div></div>", r->post && ui_form(r, "no_final") ?
		    " checked" : "");
	}
	controls(&h, &fm);
	form_close(&h, r, "Close the referral");
	ui_page(r, errs ? 422 : 200, "Close the referral", &h);
	html_free(&h);
	cJSON_Delete(pre);
}

void
ui_close_form(struct ui_req *r)
{
	struct timeline tl;

	if (form_referral(r, KIND_CLOSURE, "Close the referral", &tl) != 0)
		return;
	tl_free(&tl);
	close_page(r, NULL);
}

void
ui_close_post(struct ui_req *r)
{
	struct timeline tl;
	struct err_list errs;
	char id[UUID_LEN];
	int ask;

	if (form_referral(r, KIND_CLOSURE, "Close the referral", &tl) != 0)
		return;
	ask = due_final_missing(&tl);
	tl_free(&tl);
	if (ask && ui_form(r, "no_final") == NULL) {
		/* asked first; the rest is checked too, nothing stored */
		err_init(&errs);
		err_add(&errs, E_REQUIRED, "no_final", "Tick \"close without a "
		    "final assessment\", or record the final assessment first");
		r->ui->c->check_only = 1;
		(void)record_add(r->ui->c, KIND_CLOSURE, body_from_form(r,
		    KIND_CLOSURE), r->arg, id, &errs);
		r->ui->c->check_only = 0;
		close_page(r, &errs);
		err_free(&errs);
		return;
	}
	post_record(r, KIND_CLOSURE, body_from_form(r, KIND_CLOSURE), r->arg,
	    close_page);
}

/* ---- correct and void ------------------------------------------------- */

/* The record a correction page is about; -1 when answered already. */
static int
load_target(struct ui_req *r, struct correct_target *t, cJSON **cur)
{
	struct err_list errs;

	err_init(&errs);
	*cur = NULL;
	if (correct_resolve(r->ui->c, r->arg, t, &errs) != PC_OK) {
		ui_error(r, 404, "No such record", errs.n ? errs.v[0].msg :
		    "This device holds no record with that id.");
		err_free(&errs);
		return -1;
	}
	if (strcmp(t->kind, "correction") == 0) {
		ui_error(r, 422, "A correction cannot be corrected", "Correct "
		    "or void the original record instead.");
		err_free(&errs);
		return -1;
	}
	if ((*cur = correct_current(r->ui->c, t, &errs)) == NULL) {
		ui_fail(r, &errs);
		err_free(&errs);
		return -1;
	}
	err_free(&errs);
	return 0;
}

/* The server's reasons for refusing the record, as an error list. */
static void
server_reasons(struct ui_req *r, const char *id, struct err_list *out);

static void
correct_controls(struct html *h, const struct form *fm)
{
	const struct kind_info *ki = rec_kind_info(fm->kind);
	size_t i;

	for (i = 0; i < ki->n; i++) {
		const struct field *f = &ki->fields[i];

		if (!correct_field_ok(f))
			continue;
		if (f->flags & FF_SCORE)
			control_int(h, fm, f);
		else
			control(h, fm, f);
	}
}

static void
correct_page(struct ui_req *r, const struct err_list *errs)
{
	struct correct_target t;
	struct err_list server;
	struct form fm;
	struct html h;
	cJSON *cur;

	if (load_target(r, &t, &cur) != 0)
		return;
	err_init(&server);
	if (errs == NULL && t.state == CS_QUARANTINED)
		server_reasons(r, t.id, &server);
	fm = (struct form){r, cur, errs ? errs : &server,
	    rec_kind_parse(t.kind)};
	html_init(&h);
	if (t.state == CS_QUARANTINED)
		html_m(&h, "<div class=\"caution\"><p>The server refused this "
		    "record. Fix what it says below and save: the corrected "
		    "version replaces it and is sent at the next "
		    "sync.</p></div>");
	error_summary(&h, fm.errs);
	form_open(&h, r, "Correct the record", "The form holds the record as "
	    "it "
	    "is now. Change what is wrong; the record itself is kept and a "
	    "correction is added.");
	correct_controls(&h, &fm);
	form_close(&h, r, "Save the correction");
	ui_page(r, errs ? 422 : 200, "Correct the record", &h);
	html_free(&h);
	err_free(&server);
	cJSON_Delete(cur);
}

void
ui_correct_form(struct ui_req *r)
{
	correct_page(r, NULL);
}

/* 1 when the typed value holds what the record already has. */
static int
unchanged(const struct field *f, const cJSON *now, const char *typed)
{
	cJSON *v = typed[0] ? record_value(f, typed) : NULL;
	const cJSON *a;
	int same;

	if (v == NULL)
		return now == NULL;
	same = now != NULL && cJSON_GetArraySize(v) ==
	    cJSON_GetArraySize((cJSON *)now);
	if (same && cJSON_IsArray(v)) {
		cJSON_ArrayForEach(a, v) {
			const cJSON *b;
			int found = 0;

			cJSON_ArrayForEach(b, now)
				found |= cJSON_Compare(a, b, 1);
			same &= found;
		}
	} else if (same)
		same = cJSON_Compare(v, now, 1);
	cJSON_Delete(v);
	return same;
}

/* "field=value" for each field the form changed; their number. */
static int
changes(struct ui_req *r, enum rec_kind k, const cJSON *cur, char **pairs,
    int max)
{
	const struct kind_info *ki = rec_kind_info(k);
	struct buf v;
	size_t i;
	int n = 0;

	for (i = 0; i < ki->n && n < max; i++) {
		const struct field *f = &ki->fields[i];
		const struct evkeyval *kv;

		if (!correct_field_ok(f))
			continue;
		buf_init(&v, 8192);
		TAILQ_FOREACH(kv, &r->form, next)
			if (strcmp(kv->key, f->name) == 0 && kv->value[0])
				buf_addf(&v, "%s%s", v.len ? "," : "",
				    kv->value);
		if (!unchanged(f, rec_get(cur, f->name), buf_str(&v)) &&
		    asprintf(&pairs[n], "%s=%s", f->name, buf_str(&v)) >= 0)
			n++;
		buf_free(&v);
	}
	return n;
}

void
ui_correct_post(struct ui_req *r)
{
	struct correct_target t;
	struct err_list errs;
	char *pairs[REC_KEYS_MAX], id[UUID_LEN], to[128];
	cJSON *cur;
	int n, i;
	pc_rc rc;

	if (load_target(r, &t, &cur) != 0)
		return;
	n = changes(r, rec_kind_parse(t.kind), cur, pairs, REC_KEYS_MAX);
	cJSON_Delete(cur);
	err_init(&errs);
	if (n == 0) {
		err_add(&errs, E_REQUIRED, "", "Nothing was changed, so there "
		    "is "
		    "nothing to correct");
		rc = PC_EINVAL;
	} else
		rc = correct_record(r->ui->c, &t, (const char *const *)pairs, n,
		    0, NULL, id, &errs);
	for (i = 0; i < n; i++)
		free(pairs[i]);
	if (rc == PC_OK) {
		snprintf(to, sizeof(to), "/r/%s?saved=%s", t.referral, id);
		ui_redirect(r, to);
	} else if (rc == PC_EINVAL || rc == PC_EUSAGE)
		correct_page(r, &errs);
	else
		ui_fail(r, &errs);
	err_free(&errs);
}

static void
void_page(struct ui_req *r, const struct err_list *errs)
{
	const struct field *f = rec_field(KIND_CORRECTION, "reason");
	struct correct_target t;
	struct form fm;
	struct html h;
	cJSON *cur;
	char what[400];

	if (load_target(r, &t, &cur) != 0)
		return;
	fm = (struct form){r, NULL, errs, KIND_CORRECTION};
	html_init(&h);
	error_summary(&h, errs);
	form_open(&h, r, "Void the record", "Voiding withdraws a record made "
	    "in "
	    "error. It stays in the history, marked void.");
	{
		struct rec tmp;

		memset(&tmp, 0, sizeof(tmp));
		tmp.kind = rec_kind_parse(t.kind);
		tmp.json = cur;
		snprintf(tmp.id, sizeof(tmp.id), "%s", t.id);
		tmp.date = rec_date_field(tmp.kind) ? rec_day(cur,
		    rec_date_field(tmp.kind)) : -1;
		describe_readback(&tmp, what, sizeof(what));
	}
	html_f(&h, "<p><strong>%s</strong></p>", what);
	control_text(&h, &fm, f, "Why it is withdrawn: no names, NHS numbers "
	    "or contact details.");
	form_close(&h, r, "Void the record");
	ui_page(r, errs ? 422 : 200, "Void the record", &h);
	html_free(&h);
	cJSON_Delete(cur);
}

void
ui_void_form(struct ui_req *r)
{
	void_page(r, NULL);
}

void
ui_void_post(struct ui_req *r)
{
	struct correct_target t;
	struct err_list errs;
	const char *reason = ui_form(r, "reason");
	char id[UUID_LEN], to[128];
	cJSON *cur;
	pc_rc rc;

	if (load_target(r, &t, &cur) != 0)
		return;
	cJSON_Delete(cur);
	err_init(&errs);
	rc = correct_record(r->ui->c, &t, NULL, 0, 1, reason && reason[0] ?
	    reason : NULL, id, &errs);
	if (rc == PC_OK) {
		snprintf(to, sizeof(to), "/r/%s?saved=%s", t.referral,
		    t.state == CS_QUARANTINED ? t.id : id);
		ui_redirect(r, to);
	} else if (rc == PC_EINVAL || rc == PC_EUSAGE)
		void_page(r, &errs);
	else
		ui_fail(r, &errs);
	err_free(&errs);
}

struct reasons {
	struct err_list	*out;
};

static int
reasons_of(void *arg, const struct cstore_row *row)
{
	struct reasons *rs = arg;
	cJSON *errs = row->reason ? cJSON_Parse(row->reason) : NULL, *e;

	cJSON_ArrayForEach(e, errs)
		err_add(rs->out, err_code_parse(rec_str(e, "code")),
		    rec_str(e, "field") ? rec_str(e, "field") : "", "%s",
		    rec_str(e, "message") ? rec_str(e, "message") :
		    "refused by the server");
	cJSON_Delete(errs);
	return 1;
}

static void
server_reasons(struct ui_req *r, const char *id, struct err_list *out)
{
	struct reasons rs = {out};

	(void)cstore_get(r->ui->c->store, id, reasons_of, &rs);
}

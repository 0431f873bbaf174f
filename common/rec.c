/*
 * rec.c - pcmds/1 field tables and the record validator.
 *
 * Validation never stops at the first problem: a link worker fixing a
 * record wants every problem at once. Each problem gets a stable code,
 * the field path and a sentence saying what is allowed and what was found.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "canon.h"
#include "pii.h"
#include "rec.h"
#include "utf8.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SEQ_MAX		9007199254740991LL	/* 2^53 - 1: exact in JSON */

const struct field rec_envelope[] = {
	{"id", FT_UUID, FF_REQUIRED | FF_ENVELOPE, 0, 0, NULL, "Record id",
	    "UUID made on the device; the idempotency key"},
	{"schema", FT_SCHEMA, FF_REQUIRED | FF_ENVELOPE, 0, 0, NULL,
	    "Schema", "always \"" REC_SCHEMA "\""},
	{"kind", FT_KIND, FF_REQUIRED | FF_ENVELOPE, 0, 0, &codes_kind,
	    "Kind", "what the record is"},
	{"recorded_at", FT_TIME, FF_REQUIRED | FF_ENVELOPE, 0, 0, NULL,
	    "Recorded at", "RFC 3339 UTC time the record was made on the device"},
	{"device_seq", FT_SEQ, FF_REQUIRED | FF_ENVELOPE, 1, SEQ_MAX, NULL,
	    "Device sequence", "per-device counter, strictly increasing"},
	{"worker", FT_WORKER, FF_REQUIRED | FF_ENVELOPE, 1, REC_WORKER_MAX,
	    NULL, "Link worker", "link worker id, from enrolment"},
	{"place", FT_PLACE, FF_REQUIRED | FF_ENVELOPE, 1, REC_PLACE_MAX, NULL,
	    "Place", "place code, from enrolment"},
	{"pcn", FT_PCN, FF_ENVELOPE, 0, 0, NULL, "Primary care network",
	    "ODS code of the primary care network: U and 5 digits"},
	{"referral", FT_UUID, FF_REQUIRED | FF_ENVELOPE, 0, 0, NULL,
	    "Referral", "id of the referral the record belongs to"},
};
const size_t rec_envelope_n = NELEM(rec_envelope);

static const struct field referral_fields[] = {
	{"person", FT_HEX64, FF_REQUIRED, 0, 0, NULL, "Person",
	    "pseudonym: HMAC-SHA256 of the NHS number under the deployment "
	    "key, or a random id"},
	{"person_basis", FT_ENUM, FF_REQUIRED, 0, 0, &codes_person_basis,
	    "Person identified by", "nhs_number, or local for people with no "
	    "NHS number"},
	{"referred_on", FT_DATE, FF_REQUIRED | FF_EVENT_DATE, 0, 0, NULL,
	    "Referred on", "date of the referral"},
	{"source", FT_ENUM, FF_REQUIRED, 0, 0, &codes_source,
	    "Source of referral", "who referred the person"},
	{"reasons", FT_ENUM_SET, FF_REQUIRED, 1, 18, &codes_reason,
	    "Reasons for referral", "one or more reasons"},
	{"service", FT_ENUM, FF_REQUIRED, 0, 0, &codes_service,
	    "Service", "the social prescribing service"},
	{"age", FT_INT, FF_REQUIRED, 0, 120, NULL, "Age",
	    "whole years at referral"},
	{"gender", FT_ENUM, FF_REQUIRED, 0, 0, &codes_gender, "Gender",
	    "as the person describes it"},
	{"ethnicity", FT_ENUM, FF_REQUIRED, 0, 0, &codes_ethnicity,
	    "Ethnic category", "NHS Data Dictionary ethnic category"},
	{"imd_decile", FT_INT, 0, 1, 10, NULL, "IMD decile",
	    "Index of Multiple Deprivation decile of home LSOA: 1 most "
	    "deprived"},
	{"carer", FT_TRISTATE, 0, 0, 0, &codes_tristate, "Carer",
	    "the person is an unpaid carer"},
	{"learning_disability", FT_TRISTATE, 0, 0, 0, &codes_tristate,
	    "Learning disability", "the person has a learning disability"},
	{"autism", FT_TRISTATE, 0, 0, 0, &codes_tristate, "Autism",
	    "the person is autistic"},
	{"homeless", FT_TRISTATE, 0, 0, 0, &codes_tristate, "Homeless",
	    "the person is homeless or at risk"},
	{"consent_evaluation", FT_BOOL, FF_REQUIRED, 0, 0, NULL,
	    "Consent to evaluation", "the person agrees to their data being "
	    "used to evaluate the service"},
};

static const struct field assessment_fields[] = {
	{"assessed_on", FT_DATE, FF_REQUIRED | FF_EVENT_DATE, 0, 0, NULL,
	    "Assessed on", "date the ONS4 questions were asked"},
	{"stage", FT_ENUM, FF_REQUIRED, 0, 0, &codes_stage, "Stage",
	    "baseline, review or final"},
	{"life_satisfaction", FT_INT, FF_SCORE, 0, 10, NULL,
	    "Life satisfaction", "ONS4 score 0-10"},
	{"worthwhile", FT_INT, FF_SCORE, 0, 10, NULL, "Worthwhile",
	    "ONS4 score 0-10"},
	{"happy", FT_INT, FF_SCORE, 0, 10, NULL, "Happiness",
	    "ONS4 score 0-10"},
	{"anxious", FT_INT, FF_SCORE, 0, 10, NULL, "Anxiety",
	    "ONS4 score 0-10 (lower is better)"},
	{"declined", FT_BOOL, 0, 0, 0, NULL, "Declined",
	    "true when the person declined to answer: then no scores"},
};

static const struct field contact_fields[] = {
	{"contact_on", FT_DATE, FF_REQUIRED | FF_EVENT_DATE, 0, 0, NULL,
	    "Contact on", "date of the contact"},
	{"mode", FT_ENUM, FF_REQUIRED, 0, 0, &codes_mode, "Mode",
	    "how the contact happened"},
	{"minutes", FT_INT, FF_REQUIRED, 1, 600, NULL, "Minutes",
	    "length of the contact"},
	{"attended", FT_BOOL, FF_REQUIRED, 0, 0, NULL, "Attended",
	    "false when the person did not attend"},
};

static const struct field support_fields[] = {
	{"offered_on", FT_DATE, FF_REQUIRED | FF_EVENT_DATE, 0, 0, NULL,
	    "Offered on", "date the support was offered"},
	{"category", FT_ENUM, FF_REQUIRED, 0, 0, &codes_support, "Category",
	    "kind of community support"},
	{"provider", FT_TEXT, 0, 1, 200, NULL, "Provider",
	    "organisation name (no personal names)"},
	{"outcome", FT_ENUM, FF_REQUIRED, 0, 0, &codes_outcome, "Outcome",
	    "what happened to the offer"},
	/* pcmds/1 extension: the entry of the place's directory */
	{"asset", FT_ASSET, 0, 1, REC_ASSET_MAX, NULL, "Community asset",
	    "id of the entry in the place's directory of community assets "
	    "(the server holds it; link workers' devices receive it when they "
	    "sync)"},
};

static const struct field closure_fields[] = {
	{"closed_on", FT_DATE, FF_REQUIRED | FF_EVENT_DATE, 0, 0, NULL,
	    "Closed on", "date the referral was closed"},
	{"reason", FT_ENUM, FF_REQUIRED, 0, 0, &codes_closure,
	    "Closure reason", "why the referral was closed"},
};

static const struct field correction_fields[] = {
	{"target", FT_UUID, FF_REQUIRED, 0, 0, NULL, "Target",
	    "id of the record corrected"},
	{"set", FT_OBJECT, 0, 1, 20, NULL, "Set",
	    "fields with their new values, checked as the target's kind"},
	{"void", FT_BOOL, 0, 0, 0, NULL, "Void",
	    "true to withdraw the target record"},
	{"reason", FT_TEXT, 0, 1, REC_TEXT_MAX, NULL, "Reason",
	    "why; required with void"},
};

static const struct kind_info kinds[KIND_N] = {
	{"referral", "Referral", referral_fields, NELEM(referral_fields),
	    "A person referred to social prescribing (SNOMED CT "
	    SNOMED_REFERRAL ")"},
	{"assessment", "ONS4 assessment", assessment_fields,
	    NELEM(assessment_fields), "The four ONS personal well-being "
	    "questions"},
	{"contact", "Contact", contact_fields, NELEM(contact_fields),
	    "A contact between link worker and person"},
	{"support", "Support offered", support_fields, NELEM(support_fields),
	    "Support or a community asset offered"},
	{"closure", "Closure", closure_fields, NELEM(closure_fields),
	    "The end of the referral (declined: SNOMED CT " SNOMED_DECLINED
	    ")"},
	{"correction", "Correction", correction_fields,
	    NELEM(correction_fields), "New values for, or withdrawal of, an "
	    "earlier record"},
};

const struct kind_info *
rec_kind_info(enum rec_kind k)
{
	return k < KIND_N ? &kinds[k] : NULL;
}

enum rec_kind
rec_kind_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < KIND_N; i++)
		if (strcmp(kinds[i].name, s) == 0)
			return (enum rec_kind)i;
	return KIND_N;
}

/* Index of name in fs, or -1; the first letter is compared first. */
static int
field_index(const struct field *fs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fs[i].name[0] == name[0] && strcmp(fs[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct field *
rec_field(enum rec_kind k, const char *name)
{
	int i;

	if (k < KIND_N && (i = field_index(kinds[k].fields, kinds[k].n,
	    name)) >= 0)
		return &kinds[k].fields[i];
	if ((i = field_index(rec_envelope, rec_envelope_n, name)) >= 0)
		return &rec_envelope[i];
	return NULL;
}

const char *
rec_date_field(enum rec_kind k)
{
	size_t i;

	if (k >= KIND_N)
		return NULL;
	for (i = 0; i < kinds[k].n; i++)
		if (kinds[k].fields[i].flags & FF_EVENT_DATE)
			return kinds[k].fields[i].name;
	return NULL;
}

void
rec_opts_init(struct rec_opts *o, time_t now)
{
	o->today = date_today(now + 14 * 3600);
}

void
rec_describe(const cJSON *v, char *out, size_t len)
{
	if (v == NULL)
		snprintf(out, len, "nothing");
	else if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t n = strlen(s);

		int cut = 37;

		if (utf8_count(s, n) < 0)
			snprintf(out, len, "text that is not valid UTF-8");
		else if (n > 40) {
			/* cut between characters, never inside one */
			while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
				cut--;
			snprintf(out, len, "\"%.*s...\"", cut, s);
		} else
			snprintf(out, len, "\"%s\"", s);
	} else if (cJSON_IsNumber(v))
		snprintf(out, len, "%.15g", v->valuedouble);
	else if (cJSON_IsTrue(v))
		snprintf(out, len, "true");
	else if (cJSON_IsFalse(v))
		snprintf(out, len, "false");
	else if (cJSON_IsNull(v))
		snprintf(out, len, "null");
	else if (cJSON_IsArray(v))
		snprintf(out, len, "a list");
	else
		snprintf(out, len, "an object");
}

/* Whole-number value of v, or 0 with *ok = 0. */
static int64_t
whole(const cJSON *v, int *ok)
{
	double d;

	*ok = 0;
	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || fabs(d) > (double)SEQ_MAX)
		return 0;
	*ok = 1;
	return (int64_t)d;
}

static int
all_chars(const char *s, const char *extra, int lower, int upper)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isdigit(c) || strchr(extra, c) != NULL ||
		    (lower && islower(c)) || (upper && isupper(c)))
			continue;
		return 0;
	}
	return 1;
}

static void
check_enum(const struct field *f, const cJSON *v, const char *path,
    struct err_list *errs)
{
	char got[64], choices[200];

	if (cJSON_IsString(v) && code_index(f->codes, v->valuestring) >= 0)
		return;
	rec_describe(v, got, sizeof(got));
	code_choices(f->codes, choices, sizeof(choices));
	if (strlen(choices) < 150)
		err_add(errs, cJSON_IsString(v) ? E_ENUM : E_TYPE, path,
		    "%s must be one of %s; got %s", path, choices, got);
	else
		err_add(errs, cJSON_IsString(v) ? E_ENUM : E_TYPE, path,
		    "%s must be one of the %zu codes of its list; got %s",
		    path, f->codes->n, got);
}

static void
check_enum_set(const struct field *f, const cJSON *v, const char *path,
    struct err_list *errs)
{
	const cJSON *it, *prev;
	char ipath[ERR_FIELD_MAX];
	int n = 0;

	if (!cJSON_IsArray(v)) {
		char got[64];

		rec_describe(v, got, sizeof(got));
		err_add(errs, E_TYPE, path, "%s must be a list of codes; got %s",
		    path, got);
		return;
	}
	cJSON_ArrayForEach(it, v) {
		snprintf(ipath, sizeof(ipath), "%s[%d]", path, n);
		if (++n > f->max) {
			err_add(errs, E_TOO_MANY, path,
			    "%s lists more than %lld codes", path,
			    (long long)f->max);
			return;
		}
		check_enum(f, it, ipath, errs);
		for (prev = v->child; prev != it; prev = prev->next)
			if (cJSON_IsString(prev) && cJSON_IsString(it) &&
			    strcmp(prev->valuestring, it->valuestring) == 0) {
				err_add(errs, E_ENUM, ipath,
				    "%s lists %s twice", path,
				    it->valuestring);
				break;
			}
	}
	if (n < f->min)
		err_add(errs, E_REQUIRED, path,
		    "%s needs at least %lld code", path, (long long)f->min);
}

static void
check_date(const cJSON *v, const char *path, const struct rec_opts *o,
    struct err_list *errs)
{
	char got[64], lim[DATE_LEN], why[64];
	int32_t d;

	if (cJSON_IsString(v) &&
	    date_why_unreal(v->valuestring, why, sizeof(why)) == 0) {
		err_add(errs, E_DATE, path, "%s %s is not a real date (%s)",
		    path, v->valuestring, why);
		return;
	}
	if (!cJSON_IsString(v) || date_parse(v->valuestring, &d) != 0) {
		rec_describe(v, got, sizeof(got));
		err_add(errs, cJSON_IsString(v) ? E_DATE : E_TYPE, path,
		    "%s must be a date written YYYY-MM-DD; got %s", path, got);
		return;
	}
	if (d < DATE_EPOCH_MIN) {
		err_add(errs, E_DATE, path,
		    "%s %s is before 2015-01-01, the earliest date recorded",
		    path, v->valuestring);
		return;
	}
	if (d > o->today) {
		date_format(o->today, lim);
		err_add(errs, E_DATE, path, "%s %s is in the future: dates "
		    "cannot be later than today (%s)", path, v->valuestring,
		    lim);
	}
}

static void
check_text(const struct field *f, const cJSON *v, const char *path,
    struct err_list *errs)
{
	char got[64];
	long n;
	const char *s;

	if (!cJSON_IsString(v)) {
		rec_describe(v, got, sizeof(got));
		err_add(errs, E_TYPE, path, "%s must be text; got %s", path,
		    got);
		return;
	}
	s = v->valuestring;
	if ((n = utf8_count(s, strlen(s))) < 0) {
		err_add(errs, E_UTF8, path, "%s is not valid UTF-8 text", path);
		return;
	}
	if (n < f->min || n > f->max) {
		err_add(errs, E_LENGTH, path,
		    "%s must be %lld to %lld characters; got %ld", path,
		    (long long)f->min, (long long)f->max, n);
		return;
	}
	/* free text reaches evaluators: nothing that identifies anyone */
	(void)pii_check(s, strlen(s), f->label, path, errs);
}

static void
check_pattern(const struct field *f, const cJSON *v, const char *path,
    struct err_list *errs)
{
	char got[64];
	const char *s;
	size_t n;
	int ok = 0;

	if (!cJSON_IsString(v)) {
		rec_describe(v, got, sizeof(got));
		err_add(errs, E_TYPE, path, "%s must be text; got %s", path,
		    got);
		return;
	}
	s = v->valuestring;
	n = strlen(s);
	switch (f->type) {
	case FT_WORKER:
		ok = n >= 1 && n <= REC_WORKER_MAX && all_chars(s, "._-", 1, 1);
		break;
	case FT_PLACE:
		ok = n >= 1 && n <= REC_PLACE_MAX && all_chars(s, "_-", 0, 1);
		break;
	case FT_PCN:
		ok = n == 6 && s[0] == 'U' && all_chars(s + 1, "", 0, 0);
		break;
	case FT_HEX64:
		ok = n == 64 && all_chars(s, "abcdef", 0, 0);
		break;
	case FT_ASSET:
		ok = n >= 1 && n <= REC_ASSET_MAX && all_chars(s, "._-", 1, 1);
		break;
	default:
		break;
	}
	if (ok)
		return;
	rec_describe(v, got, sizeof(got));
	switch (f->type) {
	case FT_WORKER:
		err_add(errs, E_FORMAT, path, "%s must be 1 to %d letters, "
		    "digits, '.', '_' or '-'; got %s", path, REC_WORKER_MAX,
		    got);
		break;
	case FT_PLACE:
		err_add(errs, E_FORMAT, path, "%s must be a place code of 1 to "
		    "%d capital letters or digits; got %s", path, REC_PLACE_MAX,
		    got);
		break;
	case FT_PCN:
		err_add(errs, E_FORMAT, path, "%s must be a PCN ODS code: U and "
		    "5 digits, such as U12345; got %s", path, got);
		break;
	case FT_ASSET:
		err_add(errs, E_FORMAT, path, "%s must be the id of an entry "
		    "in "
		    "the directory of community assets: 1 to %d letters, "
		    "digits, '.', '_' or '-'; got "
		    "%s", path, REC_ASSET_MAX, got);
		break;
	default:
		err_add(errs, E_FORMAT, path, "%s must be 64 lowercase hex "
		    "digits; got %s", path, got);
		break;
	}
}

/*
 * Messages name a field by its label, as a person reads it: "Reasons for
 * referral (item 2) must be...", not "reasons[1] must be...". The path
 * stays in the error's field for programs.
 */
static void
relabel(const struct field *f, const char *path, struct err_list *errs,
    size_t from)
{
	char subj[ERR_FIELD_MAX + 64], msg[ERR_MSG_MAX];
	size_t i, n = strlen(path), k;
	const char *p;

	for (i = from; i < errs->n; i++) {
		p = errs->v[i].msg;
		if (strncmp(p, path, n) != 0)
			continue;
		k = n;
		if (p[k] == '[')
			snprintf(subj, sizeof(subj), "%s (item %d)", f->label,
			    atoi(p + k + 1) + 1);
		else
			snprintf(subj, sizeof(subj), "%s", f->label);
		while (p[k] != '\0' && p[k] != ' ')
			k++;
		snprintf(msg, sizeof(msg), "%s%s", subj, p + k);
		snprintf(errs->v[i].msg, sizeof(errs->v[i].msg), "%s", msg);
	}
}

static void check_value(const struct field *, const cJSON *, const char *,
    const struct rec_opts *, struct err_list *);

void
rec_check_value(const struct field *f, const cJSON *v, const char *path,
    const struct rec_opts *o, struct err_list *errs)
{
	size_t before = errs->n;

	check_value(f, v, path, o, errs);
	if (f->label != NULL)
		relabel(f, path, errs, before);
}

static void
check_value(const struct field *f, const cJSON *v, const char *path,
    const struct rec_opts *o, struct err_list *errs)
{
	char got[64];
	int64_t n;
	int ok;

	switch (f->type) {
	case FT_SCHEMA:
		if (!cJSON_IsString(v) || strcmp(v->valuestring, REC_SCHEMA)) {
			rec_describe(v, got, sizeof(got));
			err_add(errs, E_SCHEMA, path, "schema must be \""
			    REC_SCHEMA "\"; got %s", got);
		}
		break;
	case FT_KIND:
		if (!cJSON_IsString(v) ||
		    rec_kind_parse(v->valuestring) == KIND_N) {
			rec_describe(v, got, sizeof(got));
			err_add(errs, E_KIND, path, "kind must be referral, "
			    "assessment, contact, support, closure or "
			    "correction; got %s", got);
		}
		break;
	case FT_UUID:
		if (!cJSON_IsString(v) || !uuid_valid(v->valuestring)) {
			rec_describe(v, got, sizeof(got));
			err_add(errs, cJSON_IsString(v) ? E_UUID : E_TYPE, path,
			    "%s must be a lowercase UUID such as "
			    "3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f; got %s",
			    path, got);
		}
		break;
	case FT_TIME: {
		int64_t t;
		size_t len = cJSON_IsString(v) ? strlen(v->valuestring) : 0;

		if (!cJSON_IsString(v) || len >= TIME_LEN + 16 ||
		    time_parse(v->valuestring, &t) != 0 ||
		    (v->valuestring[len - 1] != 'Z') ||
		    t < (int64_t)DATE_EPOCH_MIN * 86400) {
			rec_describe(v, got, sizeof(got));
			err_add(errs, cJSON_IsString(v) ? E_TIME : E_TYPE, path,
			    "%s must be a UTC time such as "
			    "2025-06-01T09:30:00Z, not before 2015; got %s",
			    path, got);
		}
		break;
	}
	case FT_SEQ:
	case FT_INT:
		n = whole(v, &ok);
		if (ok && n >= f->min && n <= f->max)
			break;
		rec_describe(v, got, sizeof(got));
		err_add(errs, ok || cJSON_IsNumber(v) ? E_RANGE : E_TYPE, path,
		    "%s must be a whole number from %lld to %lld; got %s", path,
		    (long long)f->min, (long long)f->max, got);
		break;
	case FT_WORKER:
	case FT_PLACE:
	case FT_PCN:
	case FT_HEX64:
	case FT_ASSET:
		check_pattern(f, v, path, errs);
		break;
	case FT_ENUM:
		check_enum(f, v, path, errs);
		break;
	case FT_ENUM_SET:
		check_enum_set(f, v, path, errs);
		break;
	case FT_DATE:
		check_date(v, path, o, errs);
		break;
	case FT_BOOL:
		if (!cJSON_IsBool(v)) {
			rec_describe(v, got, sizeof(got));
			err_add(errs, E_TYPE, path,
			    "%s must be true or false; got %s", path, got);
		}
		break;
	case FT_TRISTATE:
		if (!cJSON_IsBool(v) && !(cJSON_IsString(v) &&
		    strcmp(v->valuestring, "unknown") == 0)) {
			rec_describe(v, got, sizeof(got));
			err_add(errs, E_TYPE, path, "%s must be true, false or "
			    "\"unknown\"; got %s", path, got);
		}
		break;
	case FT_TEXT:
		check_text(f, v, path, errs);
		break;
	case FT_OBJECT:
		if (!cJSON_IsObject(v)) {
			rec_describe(v, got, sizeof(got));
			err_add(errs, E_TYPE, path,
			    "%s must be an object of fields; got %s", path, got);
		}
		break;
	}
}

/* Every string in v, keys included, must be UTF-8: reports the first. */
static int
utf8_walk(const cJSON *v, const char *path, struct err_list *errs, int depth)
{
	const cJSON *c;

	if (v->string != NULL && utf8_count(v->string, strlen(v->string)) < 0) {
		err_add(errs, E_UTF8, path, "a field name in %s is not valid "
		    "UTF-8", path[0] ? path : "the record");
		return -1;
	}
	if (cJSON_IsString(v) &&
	    utf8_count(v->valuestring, strlen(v->valuestring)) < 0) {
		err_add(errs, E_UTF8, path, "%s is not valid UTF-8 text", path);
		return -1;
	}
	if (depth > REC_DEPTH_MAX) {
		err_add(errs, E_TYPE, path, "%s is nested too deeply", path);
		return -1;
	}
	for (c = v->child; c != NULL; c = c->next)
		if (utf8_walk(c, c->string ? c->string : path, errs,
		    depth + 1) != 0)
			return -1;
	return 0;
}

/* Keys of an object: at most max, no key twice. */
static int
check_keys(const cJSON *obj, const char *path, struct err_list *errs,
    int max)
{
	const cJSON *c, *d;
	int n = 0, bad = 0;

	for (c = obj->child; c != NULL; c = c->next) {
		if (++n > max) {
			err_add(errs, E_TOO_MANY, path,
			    "%s has more than %d fields", path, max);
			return -1;
		}
		for (d = obj->child; d != c; d = d->next)
			if (strcmp(c->string, d->string) == 0) {
				err_add(errs, E_DUPLICATE_FIELD, c->string,
				    "%s appears twice", c->string);
				bad = 1;
				break;
			}
	}
	return bad ? -1 : 0;
}

/*
 * A record's values by field, found in one walk over its keys: the
 * envelope's fields first, then the kind's. Checking field by field with
 * cJSON lookups would walk the keys once per field.
 */
struct slots {
	enum rec_kind	 kind;		/* KIND_N: not (yet) known */
	int		 unknown;	/* keys that name no field */
	const cJSON	*v[REC_KEYS_MAX];
};

/*
 * Every field name with its slot, the envelope's and each kind's, in one
 * table made once: a key is found by a hash and one comparison. Finding
 * it by comparing it with the names of the envelope and then the kind,
 * as rec_field() does, was most of checking a record's keys.
 */
#define NAMES_CAP	128	/* a power of two, over twice the names */

struct name_slot {
	const char	*name;		/* NULL: free */
	signed char	 env;		/* its envelope slot, -1 none */
	signed char	 of[KIND_N];	/* its slot in each kind, -1 none */
};

static struct name_slot names[NAMES_CAP];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

/* The fields struct rec_vals reads, and their slots in each kind. */
enum {
	VS_AGE, VS_DECLINED, VS_STAGE, VS_SCORE, VS_ATTENDED = VS_SCORE +
	    ONS4_N, VS_CATEGORY, VS_OUTCOME, VS_REASON, VS_N
};

static const char *vs_names[VS_N] = {
	[VS_AGE] = "age", [VS_DECLINED] = "declined", [VS_STAGE] = "stage",
	[VS_ATTENDED] = "attended", [VS_CATEGORY] = "category",
	[VS_OUTCOME] = "outcome", [VS_REASON] = "reason",
};
static signed char vs_slot[KIND_N][VS_N];

/*
 * Length, first, middle and last letter tell the names apart well
 * enough (the comparison settles it), for less than hashing every byte.
 */
static size_t
name_hash(const char *s)
{
	size_t n = strlen(s);
	uint32_t h;

	if (n == 0)
		return 0;
	h = (uint32_t)n * 0x9e3779b1u ^ (unsigned char)s[0] * 0x85ebca6bu ^
	    (unsigned char)s[n / 2] * 0xc2b2ae35u ^
	    (unsigned char)s[n - 1] * 0x27d4eb2fu;
	return (h ^ h >> 15) & (NAMES_CAP - 1);
}

static struct name_slot *
name_find(const char *name)
{
	size_t i;

	for (i = name_hash(name);; i = (i + 1) & (NAMES_CAP - 1))
		if (names[i].name == NULL || strcmp(names[i].name, name) == 0)
			return &names[i];
}

static struct name_slot *
name_add(const char *name)
{
	struct name_slot *ns = name_find(name);

	if (ns->name == NULL) {
		ns->name = name;
		ns->env = -1;
		memset(ns->of, -1, sizeof(ns->of));
	}
	return ns;
}

static void
names_init(void)
{
	size_t i;
	int k, j;

	for (i = rec_envelope_n; i-- > 0;)
		name_add(rec_envelope[i].name)->env = (signed char)i;
	/* the first of a name wins, as in field_index() */
	for (k = 0; k < KIND_N; k++)
		for (i = kinds[k].n; i-- > 0;)
			name_add(kinds[k].fields[i].name)->of[k] =
			    (signed char)(rec_envelope_n + i);
	for (j = 0; j < ONS4_N; j++)
		vs_names[VS_SCORE + j] = ons4_measures[j].field;
	for (k = 0; k < KIND_N; k++)
		for (j = 0; j < VS_N; j++)
			vs_slot[k][j] = name_find(vs_names[j])->of[k];
}

static int
slot_of(const struct slots *sl, const char *name)
{
	const struct name_slot *ns = name_find(name);

	if (ns->name == NULL)
		return -1;
	if (ns->env >= 0)
		return ns->env;
	return sl->kind < KIND_N ? ns->of[sl->kind] : -1;
}

/* The value of a field of the record's kind or envelope, as rec_get(). */
static const cJSON *
slot_get(const struct slots *sl, const char *name)
{
	int i = slot_of(sl, name);

	return i >= 0 ? sl->v[i] : NULL;
}

/* Every kind's fields and the envelope's fit in the slots. */
#define FITS(f)	(NELEM(rec_envelope) + NELEM(f) <= REC_KEYS_MAX)
_Static_assert(FITS(referral_fields) && FITS(assessment_fields) &&
    FITS(contact_fields) && FITS(support_fields) && FITS(closure_fields) &&
    FITS(correction_fields), "REC_KEYS_MAX is too small");
#undef FITS
_Static_assert(NELEM(rec_envelope) + NELEM(referral_fields) +
    NELEM(assessment_fields) + NELEM(contact_fields) + NELEM(support_fields) +
    NELEM(closure_fields) + NELEM(correction_fields) <= NAMES_CAP / 2,
    "NAMES_CAP is too small");

/* The envelope's fields in the slots, in rec_envelope's order. */
enum {
	ENV_ID, ENV_SCHEMA, ENV_KIND, ENV_RECORDED_AT, ENV_DEVICE_SEQ,
	ENV_WORKER, ENV_PLACE, ENV_PCN, ENV_REFERRAL
};

/* The slots of a record of kind k known to be well formed. */
static void
slots_find(const cJSON *obj, enum rec_kind k, struct slots *sl)
{
	const cJSON *c;
	int i;

	pthread_once(&names_once, names_init);
	memset(sl, 0, sizeof(*sl));
	sl->kind = k;
	for (c = obj->child; c != NULL; c = c->next)
		if (c->string != NULL && (i = slot_of(sl, c->string)) >= 0 &&
		    sl->v[i] == NULL)
			sl->v[i] = c;
}

/* Fills sl; a key given twice or too many keys is an error. */
static int
slots_fill(const cJSON *obj, struct slots *sl, struct err_list *errs)
{
	const cJSON *c;
	int n = 0, i;

	pthread_once(&names_once, names_init);
	memset(sl, 0, sizeof(*sl));
	sl->kind = KIND_N;
	for (c = obj->child; c != NULL; c = c->next)
		if (c->string[0] == 'k' && strcmp(c->string, "kind") == 0) {
			if (cJSON_IsString(c))
				sl->kind = rec_kind_parse(c->valuestring);
			break;
		}
	for (c = obj->child; c != NULL; c = c->next) {
		if (++n > REC_KEYS_MAX)
			return check_keys(obj, "the record", errs,
			    REC_KEYS_MAX);
		if ((i = slot_of(sl, c->string)) < 0)
			sl->unknown++;
		else if (sl->v[i] == NULL)
			sl->v[i] = c;
		else
			/* said once per key, by the slow path */
			return check_keys(obj, "the record", errs,
			    REC_KEYS_MAX);
	}
	/* unknown keys may repeat too */
	if (sl->unknown > 0)
		return check_keys(obj, "the record", errs, REC_KEYS_MAX);
	return 0;
}

static void
check_fields(const struct field *fs, size_t n, const cJSON *const *v,
    const struct rec_opts *o, struct err_list *errs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct field *f = &fs[i];

		if (v[i] == NULL) {
			if (f->flags & FF_REQUIRED)
				err_add(errs, E_REQUIRED, f->name,
				    "%s is required", f->label);
			continue;
		}
		rec_check_value(f, v[i], f->name, o, errs);
	}
}

static void
check_assessment(const struct slots *sl, struct err_list *errs)
{
	const struct kind_info *ki = &kinds[KIND_ASSESSMENT];
	int declined = cJSON_IsTrue(slot_get(sl, "declined"));
	size_t i;

	for (i = 0; i < ki->n; i++) {
		const struct field *f = &ki->fields[i];
		const cJSON *v;

		if (!(f->flags & FF_SCORE))
			continue;
		v = sl->v[rec_envelope_n + i];
		if (declined && v != NULL)
			err_add(errs, E_RULE, f->name, "a declined assessment "
			    "has no scores; remove %s", f->label);
		else if (!declined && v == NULL)
			err_add(errs, E_REQUIRED, f->name, "%s is required, or "
			    "declined when the person would not answer",
			    f->label);
	}
}

static void
check_correction(const struct slots *sl, struct err_list *errs)
{
	const cJSON *set = slot_get(sl, "set");
	const cJSON *vd = slot_get(sl, "void");
	const cJSON *reason = slot_get(sl, "reason");
	const cJSON *id = sl->v[ENV_ID];
	const cJSON *target = slot_get(sl, "target");
	const cJSON *c;
	char path[ERR_FIELD_MAX];

	if (set == NULL && vd == NULL)
		err_add(errs, E_REQUIRED, "set", "a correction needs set (the "
		    "new values) or void: true with a reason");
	if (set != NULL && vd != NULL)
		err_add(errs, E_RULE, "void", "a correction either sets values "
		    "or voids the record, not both");
	if (cJSON_IsFalse(vd))
		err_add(errs, E_RULE, "void", "void can only be true; leave it "
		    "out to set values instead");
	if (cJSON_IsTrue(vd) && reason == NULL)
		err_add(errs, E_REQUIRED, "reason", "reason is required when "
		    "voiding a record: say why it is withdrawn");
	if (cJSON_IsString(id) && cJSON_IsString(target) &&
	    strcmp(id->valuestring, target->valuestring) == 0)
		err_add(errs, E_TARGET, "target", "a correction cannot target "
		    "itself");
	if (!cJSON_IsObject(set))
		return;
	if (set->child == NULL)
		err_add(errs, E_RULE, "set", "set must name at least one field");
	if (check_keys(set, "set", errs, 20) != 0)
		return;
	for (c = set->child; c != NULL; c = c->next) {
		const struct field *f = rec_field(KIND_N, c->string);
		int k, known = 0;

		snprintf(path, sizeof(path), "set.%s", c->string);
		if (f != NULL && (f->flags & FF_ENVELOPE)) {
			err_add(errs, E_TARGET, path, "%s cannot be corrected; "
			    "void the record and record it again", c->string);
			continue;
		}
		for (k = 0; k < KIND_CORRECTION; k++)
			if (rec_field((enum rec_kind)k, c->string) != NULL)
				known = 1;
		if (!known)
			err_add(errs, E_UNKNOWN_FIELD, path,
			    "%s is not a field of any record kind", c->string);
	}
}

/* Read from the slots: the fields the walk over the keys found. */
static void
check_rules(enum rec_kind k, const struct slots *sl, struct err_list *errs)
{
	const cJSON *id = sl->v[ENV_ID];
	const cJSON *ref = sl->v[ENV_REFERRAL];

	switch (k) {
	case KIND_REFERRAL:
		if (cJSON_IsString(id) && cJSON_IsString(ref) &&
		    strcmp(id->valuestring, ref->valuestring) != 0)
			err_add(errs, E_REFERRAL, "referral", "a referral "
			    "record's referral must be its own id");
		break;
	case KIND_ASSESSMENT:
		check_assessment(sl, errs);
		break;
	case KIND_CORRECTION:
		check_correction(sl, errs);
		break;
	default:
		break;
	}
}

static void
check_unknown(enum rec_kind k, const cJSON *obj, struct err_list *errs)
{
	const cJSON *c;

	for (c = obj->child; c != NULL; c = c->next)
		if (rec_field(k, c->string) == NULL)
			err_add(errs, E_UNKNOWN_FIELD, c->string,
			    "%s is not a field of a%s %s record", c->string,
			    k == KIND_ASSESSMENT ? "n" : "", kinds[k].name);
}

static void
copy_str(char *dst, size_t len, const cJSON *v)
{
	const char *s = cJSON_IsString(v) ? v->valuestring : "";
	size_t n = strlen(s);

	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The day of a date value, -1 when it is none: rec_day()'s answer. */
static int32_t
day_of(const cJSON *v)
{
	int32_t d;

	if (!cJSON_IsString(v) || date_parse(v->valuestring, &d) != 0)
		return -1;
	return d;
}

static const char *
str_of(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* As rec_int() reads it. */
static int
int_of(const cJSON *v, int dflt)
{
	return cJSON_IsNumber(v) ? (int)v->valuedouble : dflt;
}

/* The value of one of the fields struct rec_vals reads, or NULL. */
static const cJSON *
vs_get(enum rec_kind k, const struct slots *sl, int j)
{
	int i = vs_slot[k][j];

	return i >= 0 ? sl->v[i] : NULL;
}

/* The record's struct rec_vals, from its slots, kind by kind. */
static void
vals_of(enum rec_kind k, const struct slots *sl, struct rec_vals *rv)
{
	const char *out;
	int m;

	memset(rv, 0, sizeof(*rv));
	rv->code = -1;
	for (m = 0; m < ONS4_N; m++)
		rv->score[m] = -1;
	switch (k) {
	case KIND_REFERRAL:
		rv->age = int_of(vs_get(k, sl, VS_AGE), 0);
		break;
	case KIND_ASSESSMENT:
		rv->flag = cJSON_IsTrue(vs_get(k, sl, VS_DECLINED));
		rv->code = code_index(&codes_stage, str_of(vs_get(k, sl,
		    VS_STAGE)));
		for (m = 0; m < ONS4_N; m++)
			rv->score[m] = int_of(vs_get(k, sl, VS_SCORE + m), -1);
		break;
	case KIND_CONTACT:
		rv->flag = cJSON_IsTrue(vs_get(k, sl, VS_ATTENDED));
		break;
	case KIND_SUPPORT:
		rv->code = code_index(&codes_support, str_of(vs_get(k, sl,
		    VS_CATEGORY)));
		out = str_of(vs_get(k, sl, VS_OUTCOME));
		rv->taken = out != NULL && (strcmp(out, "taken_up") == 0 ||
		    strcmp(out, "completed") == 0);
		break;
	case KIND_CLOSURE:
		rv->code = code_index(&codes_closure, str_of(vs_get(k, sl,
		    VS_REASON)));
		break;
	default:
		break;
	}
}

/* Canonical records are a few hundred bytes; a 1 KiB block or more
   would make malloc sweep its caches on every record. */
#define CANON_GUESS	960

/*
 * Builds the record around json, which it takes; its canonical form and
 * hash are made from it unless given (canon, len, digest: a stored
 * record's, copied).
 */
static pc_rc
rec_build_from(enum rec_kind k, cJSON *json, const struct slots *sl,
    const char *canon, size_t len, const uint8_t *digest, struct rec **out)
{
	const cJSON *const *env = sl->v;
	struct rec *r;
	struct buf b;
	const char *df;
	int ok;
	pc_rc rc;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		cJSON_Delete(json);
		return PC_ENOMEM;
	}
	r->json = json;
	r->kind = k;
	copy_str(r->id, sizeof(r->id), env[ENV_ID]);
	copy_str(r->referral, sizeof(r->referral), env[ENV_REFERRAL]);
	copy_str(r->worker, sizeof(r->worker), env[ENV_WORKER]);
	copy_str(r->place, sizeof(r->place), env[ENV_PLACE]);
	copy_str(r->pcn, sizeof(r->pcn), env[ENV_PCN]);
	copy_str(r->recorded_at, sizeof(r->recorded_at), env[ENV_RECORDED_AT]);
	r->device_seq = whole(env[ENV_DEVICE_SEQ], &ok);
	df = rec_date_field(k);
	r->date = df ? day_of(slot_get(sl, df)) : -1;
	vals_of(k, sl, &r->vals);
	buf_init(&b, 0);
	if (canon != NULL) {
		memcpy(r->digest, digest, sizeof(r->digest));
		sec_hex(digest, SEC_SHA256_LEN, r->hash);
		rc = buf_add(&b, canon, len);
	} else if ((rc = buf_reserve(&b, CANON_GUESS)) == PC_OK)
		rc = canon_hash(json, &b, r->digest, r->hash);
	if (rc != PC_OK) {
		buf_free(&b);
		rec_free(r);
		return rc;
	}
	r->canon_len = b.len;
	r->canon = buf_detach(&b);
	*out = r;
	return PC_OK;
}

static pc_rc
rec_build(enum rec_kind k, cJSON *json, const struct slots *sl, struct rec **out)
{
	return rec_build_from(k, json, sl, NULL, 0, NULL, out);
}

/* The checks of rec_validate; the kind when obj is valid, else KIND_N. */
static enum rec_kind
rec_check(const cJSON *obj, const struct rec_opts *o, struct err_list *errs,
    struct slots *slp, int utf8_known)
{
	struct slots sl;
	enum rec_kind k;
	size_t before = err_count(errs);

	if (!cJSON_IsObject(obj)) {
		char got[64];

		rec_describe(obj, got, sizeof(got));
		err_add(errs, E_TYPE, "", "a record must be a JSON object; got "
		    "%s", got);
		return KIND_N;
	}
	/* utf8_known: every string ASCII and none too deep, seen by the parse */
	if ((!utf8_known && utf8_walk(obj, "", errs, 0) != 0) ||
	    slots_fill(obj, &sl, errs) != 0)
		return KIND_N;
	check_fields(rec_envelope, rec_envelope_n, sl.v, o, errs);
	if ((k = sl.kind) == KIND_N)
		return KIND_N;	/* E_KIND or E_REQUIRED already said */
	if (sl.unknown > 0)
		check_unknown(k, obj, errs);
	check_fields(kinds[k].fields, kinds[k].n, sl.v + rec_envelope_n, o,
	    errs);
	check_rules(k, &sl, errs);
	*slp = sl;
	return err_count(errs) == before ? k : KIND_N;
}

pc_rc
rec_validate(const cJSON *obj, const struct rec_opts *o, struct rec **out,
    struct err_list *errs)
{
	struct slots sl;
	enum rec_kind k;
	cJSON *copy;

	*out = NULL;
	if ((k = rec_check(obj, o, errs, &sl, 0)) == KIND_N)
		return PC_EINVAL;
	if ((copy = cJSON_Duplicate(obj, 1)) == NULL)
		return PC_ENOMEM;
	slots_find(copy, k, &sl);
	return rec_build(k, copy, &sl, out);
}

pc_rc
rec_adopt(cJSON *obj, const struct rec_opts *o, struct rec **out,
    struct err_list *errs)
{
	struct slots sl;
	enum rec_kind k;

	*out = NULL;
	if ((k = rec_check(obj, o, errs, &sl, 0)) == KIND_N) {
		cJSON_Delete(obj);
		return PC_EINVAL;
	}
	return rec_build(k, obj, &sl, out);
}

pc_rc
rec_adopt_fast(cJSON *obj, const struct jfast_info *info, const char *text,
    size_t len, const struct rec_opts *o, struct rec **out,
    struct err_list *errs)
{
	uint8_t digest[SEC_SHA256_LEN];
	struct slots sl;
	enum rec_kind k;

	*out = NULL;
	/* the walk would find nothing: no byte to doubt, no depth past 4 */
	if ((k = rec_check(obj, o, errs, &sl, info->ascii &&
	    info->depth <= REC_DEPTH_MAX)) == KIND_N) {
		cJSON_Delete(obj);
		return PC_EINVAL;
	}
	if (!info->canonical)
		return rec_build(k, obj, &sl, out);
	/* the text is what canon_hash would write: hashed as it is */
	sec_sha256(text, len, digest);
	return rec_build_from(k, obj, &sl, text, len, digest, out);
}

pc_rc
rec_parse(const char *text, size_t len, const struct rec_opts *o,
    struct rec **out, struct err_list *errs)
{
	cJSON *obj;

	*out = NULL;
	if (len > REC_JSON_MAX) {
		err_add(errs, E_TOO_MANY, "", "a record may be at most %d bytes "
		    "of JSON; got %zu", REC_JSON_MAX, len);
		return PC_EINVAL;
	}
	if ((obj = cJSON_ParseWithLength(text, len)) == NULL) {
		err_add(errs, E_JSON, "", "the record is not well-formed JSON");
		return PC_EINVAL;
	}
	return rec_adopt(obj, o, out, errs);
}

pc_rc
rec_load_canon(const char *text, size_t len, const uint8_t *digest,
    struct rec **out)
{
	struct jfast_info info;
	uint8_t md[SEC_SHA256_LEN];
	struct slots sl;
	cJSON *obj;
	enum rec_kind k;
	int fast = 1;

	*out = NULL;
	/* stored text is canonical: jfast reads it as cJSON would */
	if ((obj = jfast_parse(text, len, &info)) == NULL) {
		fast = 0;
		if ((obj = cJSON_ParseWithLength(text, len)) == NULL)
			return PC_EINVAL;
	}
	k = rec_kind_parse(rec_str(obj, "kind"));
	if (k == KIND_N || rec_str(obj, "id") == NULL ||
	    rec_str(obj, "referral") == NULL) {
		cJSON_Delete(obj);
		return PC_EINVAL;
	}
	slots_find(obj, k, &sl);
	/* canonical already: hashed as it is, not serialised again */
	if (digest == NULL && fast && info.canonical) {
		sec_sha256(text, len, md);
		digest = md;
	}
	return rec_build_from(k, obj, &sl, digest ? text : NULL, len, digest,
	    out);
}

pc_rc
rec_load(const char *text, size_t len, struct rec **out)
{
	return rec_load_canon(text, len, NULL, out);
}

void
rec_free(struct rec *r)
{
	if (r == NULL)
		return;
	cJSON_Delete(r->json);
	free(r->canon);
	free(r);
}

/*
 * cJSON_GetObjectItemCaseSensitive, but a key's first letter is compared
 * before the whole of it: reading a record's fields was mostly strcmp.
 */
const cJSON *
rec_get(const cJSON *obj, const char *name)
{
	const cJSON *c;

	if (obj == NULL || name == NULL)
		return NULL;
	for (c = obj->child; c != NULL; c = c->next)
		if (c->string != NULL && c->string[0] == name[0] &&
		    strcmp(c->string, name) == 0)
			return c;
	return NULL;
}

const char *
rec_str(const cJSON *obj, const char *name)
{
	const cJSON *v = rec_get(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
rec_int(const cJSON *obj, const char *name, int dflt)
{
	const cJSON *v = rec_get(obj, name);

	return cJSON_IsNumber(v) ? (int)v->valuedouble : dflt;
}

int
rec_flag(const cJSON *obj, const char *name, int dflt)
{
	const cJSON *v = rec_get(obj, name);

	if (cJSON_IsTrue(v))
		return 1;
	if (cJSON_IsFalse(v))
		return 0;
	if (cJSON_IsString(v) && strcmp(v->valuestring, "unknown") == 0)
		return -1;
	return dflt;
}

int32_t
rec_day(const cJSON *obj, const char *name)
{
	const char *s = rec_str(obj, name);
	int32_t d;

	if (s == NULL || date_parse(s, &d) != 0)
		return -1;
	return d;
}

/*
 * describe.c - one-line descriptions of records.
 */
#include <stdio.h>
#include <string.h>

#include "cstore.h"
#include "describe.h"
#include "ons4.h"

static struct cstore *assets;

void
describe_assets_from(struct cstore *cs)
{
	assets = cs;
}

static int
copy_name(void *arg, const struct cstore_asset *a)
{
	snprintf(arg, 201, "%s", a->name);
	return 1;
}

const char *
describe_label(const struct codelist *l, const char *code)
{
	const char *lb = code_label(l, code);

	return lb ? lb : code ? code : "-";
}

const char *
describe_yesno(const cJSON *o, const char *f)
{
	switch (rec_flag(o, f, -2)) {
	case 1:
		return "yes";
	case 0:
		return "no";
	case -1:
		return "not known";
	default:
		return "not recorded";
	}
}

void
describe_value(const struct field *f, const cJSON *v, char *out, size_t len)
{
	const cJSON *it;
	int32_t d;
	size_t off = 0;

	out[0] = '\0';
	if (v == NULL || cJSON_IsNull(v))
		return;
	if (cJSON_IsBool(v))
		snprintf(out, len, "%s", cJSON_IsTrue(v) ? "yes" : "no");
	else if (cJSON_IsNumber(v))
		snprintf(out, len, "%.0f", v->valuedouble);
	else if (f->type == FT_DATE && cJSON_IsString(v) &&
	    date_parse(v->valuestring, &d) == 0)
		date_format_uk(d, out);
	else if (cJSON_IsString(v))
		snprintf(out, len, "%s", v->valuestring);
	else if (cJSON_IsArray(v))
		cJSON_ArrayForEach(it, v)
			if (cJSON_IsString(it) && off < len)
				off += (size_t)snprintf(out + off, len - off,
				    "%s%s", off ? "," : "", it->valuestring);
}

static void
describe_referral(const cJSON *j, char *out, size_t len)
{
	const cJSON *it;
	size_t off;

	off = (size_t)snprintf(out, len, "from %s for ", describe_label(
	    &codes_source, rec_str(j, "source")));
	cJSON_ArrayForEach(it, rec_get(j, "reasons"))
		if (off < len && cJSON_IsString(it))
			off += (size_t)snprintf(out + off, len - off, "%s%s",
			    describe_label(&codes_reason, it->valuestring),
			    it->next ? ", " : "");
	if (off < len)
		snprintf(out + off, len - off, "; %s; age %d, %s; consent to "
		    "evaluation %s", describe_label(&codes_service,
		    rec_str(j, "service")), rec_int(j, "age", -1),
		    describe_label(&codes_gender, rec_str(j, "gender")),
		    describe_yesno(j, "consent_evaluation"));
}

static void
describe_assessment(const cJSON *j, char *out, size_t len)
{
	size_t off;
	int m;

	off = (size_t)snprintf(out, len, "%s: ", describe_label(&codes_stage,
	    rec_str(j, "stage")));
	if (rec_flag(j, "declined", 0) == 1) {
		snprintf(out + off, len - off, "declined to answer");
		return;
	}
	for (m = 0; m < ONS4_N && off < len; m++)
		off += (size_t)snprintf(out + off, len - off, "%s%s %d",
		    m ? ", " : "", ons4_measures[m].label,
		    rec_int(j, ons4_measures[m].field, -1));
}

static void
describe_correction(const cJSON *rj, char *out, size_t len)
{
	const cJSON *set = rec_get(rj, "set"), *kv;
	size_t off;

	off = (size_t)snprintf(out, len, "%s %s", set ? "corrects" : "voids",
	    uuid_short(rec_str(rj, "target")).s);
	cJSON_ArrayForEach(kv, set) {
		const struct field *f = NULL;
		char v[64];
		int k;

		for (k = 0; k < KIND_CORRECTION && f == NULL; k++)
			f = rec_field((enum rec_kind)k, kv->string);
		rec_describe(kv, v, sizeof(v));
		if (off < len)
			off += (size_t)snprintf(out + off, len - off,
			    "%s %s %s", kv == set->child ? ":" : ",",
			    f ? f->label : kv->string, v);
	}
	if (set == NULL && off < len)
		snprintf(out + off, len - off, ": %s", rec_str(rj, "reason") ?
		    rec_str(rj, "reason") : "");
}

static void
describe_support(const cJSON *j, char *out, size_t len)
{
	const char *prov = rec_str(j, "provider"), *asset = rec_str(j, "asset");
	char from[500] = "", name[201] = "";

	if (asset != NULL && assets != NULL &&
	    cstore_asset_each(assets, asset, copy_name, name) == PC_OK &&
	    name[0] != '\0')
		asset = name;

	if (prov != NULL && asset != NULL)
		snprintf(from, sizeof(from), " (%s; %s)", asset, prov);
	else if (prov != NULL || asset != NULL)
		snprintf(from, sizeof(from), " (%s)", prov ? prov : asset);
	snprintf(out, len, "%s%s: %s", describe_label(&codes_support,
	    rec_str(j, "category")), from, describe_label(&codes_outcome,
	    rec_str(j, "outcome")));
}

void
describe_what(enum rec_kind k, const cJSON *j, const cJSON *rj, char *out,
    size_t len)
{
	switch (k) {
	case KIND_REFERRAL:
		describe_referral(j, out, len);
		break;
	case KIND_ASSESSMENT:
		describe_assessment(j, out, len);
		break;
	case KIND_CONTACT:
		snprintf(out, len, "%s, %d min, %s",
		    describe_label(&codes_mode, rec_str(j, "mode")),
		    rec_int(j, "minutes", 0), rec_flag(j, "attended", 0) == 1 ?
		    "attended" : "did not attend");
		break;
	case KIND_SUPPORT:
		describe_support(j, out, len);
		break;
	case KIND_CLOSURE:
		snprintf(out, len, "closed: %s",
		    describe_label(&codes_closure, rec_str(j, "reason")));
		break;
	default:
		describe_correction(rj, out, len);
	}
}

void
describe_entry(const struct tl_entry *e, char *out, size_t len)
{
	if (e->rec->kind == KIND_REFERRAL) {
		snprintf(out, len, "referral");
		return;
	}
	describe_what(e->rec->kind, tl_content(e), e->rec->json, out, len);
}

void
describe_readback(const struct rec *r, char *out, size_t len)
{
	char d[DATE_LEN] = "", what[400];
	const struct kind_info *ki = rec_kind_info(r->kind);

	if (r->date >= 0)
		date_format_uk(r->date, d);
	describe_what(r->kind, r->json, r->json, what, sizeof(what));
	snprintf(out, len, "%s %s%s%s: %s", uuid_short(r->id).s, ki->name, d[0] ? " " : "",
	    d, what);
}

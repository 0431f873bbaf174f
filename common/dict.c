/*
 * dict.c - markdown data dictionary of pcmds/1.
 */
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "dict.h"
#include "ons4.h"
#include "rec.h"

static const char *
type_text(const struct field *f, char *buf, size_t len)
{
	switch (f->type) {
	case FT_SCHEMA:
		return "text: `" REC_SCHEMA "`";
	case FT_KIND:
		return "code: kind";
	case FT_UUID:
		return "UUID (lowercase)";
	case FT_TIME:
		return "RFC 3339 UTC time";
	case FT_SEQ:
		return "whole number >= 1";
	case FT_WORKER:
		return "id: letters, digits, `.` `_` `-` (1-64)";
	case FT_PLACE:
		return "place code: capitals, digits (1-16)";
	case FT_PCN:
		return "ODS code: `U` + 5 digits";
	case FT_HEX64:
		return "64 lowercase hex digits";
	case FT_ENUM:
		snprintf(buf, len, "code: %s", f->codes->title);
		return buf;
	case FT_ENUM_SET:
		snprintf(buf, len, "list of %lld-%lld codes: %s",
		    (long long)f->min, (long long)f->max, f->codes->title);
		return buf;
	case FT_DATE:
		return "date YYYY-MM-DD, 2015-01-01 to today";
	case FT_INT:
		snprintf(buf, len, "whole number %lld-%lld", (long long)f->min,
		    (long long)f->max);
		return buf;
	case FT_BOOL:
		return "true or false";
	case FT_TRISTATE:
		return "true, false or \"unknown\"";
	case FT_TEXT:
		snprintf(buf, len, "text, %lld-%lld characters",
		    (long long)f->min, (long long)f->max);
		return buf;
	case FT_OBJECT:
		return "object of fields";
	case FT_ASSET:
		return "asset id: letters, digits, `.` `_` `-` (1-40)";
	}
	return "";
}

static pc_rc
field_table(struct buf *b, const struct field *fs, size_t n)
{
	char tb[160];
	size_t i;
	pc_rc rc = buf_adds(b, "| field | type | required | meaning |\n"
	    "|---|---|---|---|\n");

	for (i = 0; rc == PC_OK && i < n; i++) {
		const struct field *f = &fs[i];
		const char *req = (f->flags & FF_REQUIRED) ? "yes" :
		    (f->flags & FF_SCORE) ? "unless declined" : "no";

		rc = buf_addf(b, "| `%s` | %s | %s | %s: %s |\n", f->name,
		    type_text(f, tb, sizeof(tb)), req, f->label, f->help);
	}
	return rc == PC_OK ? buf_adds(b, "\n") : rc;
}

static pc_rc
code_table(struct buf *b, const struct codelist *l)
{
	size_t i;
	pc_rc rc = buf_addf(b, "### %s (`%s`)\n\n| code | label |\n"
	    "|---|---|\n", l->title, l->name);

	for (i = 0; rc == PC_OK && i < l->n; i++)
		rc = buf_addf(b, "| `%s` | %s |\n", l->v[i].code,
		    l->v[i].label);
	return rc == PC_OK ? buf_adds(b, "\n") : rc;
}

static pc_rc
ons4_section(struct buf *b)
{
	int m, k;
	pc_rc rc = buf_addf(b, "## ONS4 questions and bands\n\n%s\n\n"
	    "| field | question | bands |\n|---|---|---|\n", ons4_scale_note);

	for (m = 0; rc == PC_OK && m < ONS4_N; m++) {
		const struct ons4_info *o = &ons4_measures[m];
		char bands[200] = "";
		size_t off = 0;
		int lo = 0;

		for (k = 0; k < ONS4_NBANDS; k++) {
			int hi = lo;

			while (hi < 10 && ons4_band((enum ons4_measure)m,
			    hi + 1) == k)
				hi++;
			off += (size_t)snprintf(bands + off, sizeof(bands) - off,
			    "%s%d-%d %s", k ? ", " : "", lo, hi, o->bands[k]);
			lo = hi + 1;
		}
		rc = buf_addf(b, "| `%s` | %s | %s%s |\n", o->field,
		    o->question, bands, o->lower_better ?
		    " (lower is better)" : "");
	}
	return rc == PC_OK ? buf_adds(b, "\n") : rc;
}

pc_rc
dict_markdown(struct buf *b)
{
	static const struct codelist *lists[] = {
		&codes_kind, &codes_person_basis, &codes_source, &codes_reason,
		&codes_service, &codes_gender, &codes_ethnicity, &codes_stage,
		&codes_mode, &codes_support, &codes_outcome, &codes_closure,
		&codes_ethnic_group, &codes_age_band, &codes_imd_quintile,
	};
	size_t i;
	int k;
	pc_rc rc;

	rc = buf_adds(b, "# pcmds/1 data dictionary\n\n"
	    "Generated from the field tables in `common/rec.c`, "
	    "`common/codes.c` and `common/ons4.c` by `make docs`; "
	    "`make check` fails if this file and the code disagree.\n\n"
	    "Every record is an immutable event. A mistake is fixed by a "
	    "`correction` record.\n\n## Fields every record has\n\n");
	if (rc == PC_OK)
		rc = field_table(b, rec_envelope, rec_envelope_n);
	for (k = 0; rc == PC_OK && k < KIND_N; k++) {
		const struct kind_info *ki = rec_kind_info((enum rec_kind)k);

		rc = buf_addf(b, "## `%s`: %s\n\n%s.\n\n", ki->name, ki->label,
		    ki->help);
		if (rc == PC_OK)
			rc = field_table(b, ki->fields, ki->n);
	}
	if (rc == PC_OK)
		rc = buf_adds(b, "## Rules across records\n\n"
		    "- a record's referral must be known (recorded earlier) "
		    "and of the same place;\n"
		    "- event dates are not before the referral's `referred_on`;"
		    "\n"
		    "- after a closure, nothing dated after `closed_on` and no "
		    "second closure (void the closure to reopen);\n"
		    "- ONS4 scores only when the person is aged 16 or over;\n"
		    "- a correction names a record of the same referral that "
		    "is not itself a correction and not voided; the corrected "
		    "record must pass every rule; `null` in `set` removes an "
		    "optional field;\n"
		    "- one referral per id: the same id with other content is "
		    "a conflict.\n\n");
	if (rc == PC_OK)
		rc = ons4_section(b);
	if (rc == PC_OK)
		rc = buf_adds(b, "## Code lists\n\n");
	for (i = 0; rc == PC_OK && i < sizeof(lists) / sizeof(lists[0]); i++)
		rc = code_table(b, lists[i]);
	if (rc == PC_OK)
		rc = buf_adds(b, "## Groupings\n\n"
		    "- ethnic group: A-C White; D-G Mixed; H-L Asian or Asian "
		    "British; M-P Black or Black British; R-S Other; Z and 99 "
		    "Not stated or not known (NHS Data Dictionary).\n"
		    "- IMD quintile = (decile + 1) / 2, rounded down: deciles "
		    "1-2 are quintile 1 (most deprived).\n"
		    "- SNOMED CT: referral " SNOMED_REFERRAL " *Referral to "
		    "social prescribing service*; closure reason `declined` "
		    SNOMED_DECLINED " *Social prescribing declined*.\n");
	return rc;
}

/*
 * export.c - events and ONS4 pairs, re-keyed for their recipient.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "codes.h"
#include "csv.h"
#include "export.h"
#include "jscan.h"
#include "ons4.h"
#include "reccsv.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define CELL_MAX	96

static const char *const shape_names[EXPORT_NSHAPES] = {"events", "pairs"};

const char *
export_shape_name(enum export_shape s)
{
	return s < EXPORT_NSHAPES ? shape_names[s] : "?";
}

enum export_shape
export_shape_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < EXPORT_NSHAPES; i++)
		if (strcmp(shape_names[i], s) == 0)
			return (enum export_shape)i;
	return EXPORT_NSHAPES;
}

/* Events: the fields that are not given as stored, and why. */
static const struct {
	const char	*name;
	const char	*meaning;
} rekeyed[] = {
	{"id", "the record, re-keyed for you (a UUID): the same record has "
	    "the same id in every export you take, and another in anyone "
	    "else's"},
	{"referral", "the referral the record belongs to, re-keyed like "
	    "`id` (a referral record's `id` equals its `referral`)"},
	{"person", "the person, re-keyed for you (64 hex digits): the same "
	    "person has the same value in every export you take, including "
	    "the pairs shape, and another value in anyone else's; it cannot "
	    "be related to an NHS number, even with the deployment key"},
	{"worker", "the link worker who made the record, re-keyed for you "
	    "(`w` and 16 hex digits)"},
	{"device_seq", "the record's place in its device's sequence, "
	    "re-keyed for you: a whole number that identifies the record "
	    "among its worker's, with no order"},
	{"recorded_at", "the day the record was made on the device "
	    "(`YYYY-MM-DD`; the time of day is left out, as it would "
	    "identify the record beside a worker)"},
	{"target", "(corrections are applied, not exported; were one "
	    "given, re-keyed like `id`)"},
	{"set", "(corrections are applied, not exported)"},
	{"void", "(corrections are applied, not exported)"},
};

#define CORRECTED_BY	"corrected_by"

/* Pairs: one row per pair, its columns in order. */
enum col_type { C_TEXT, C_INT, C_FLAG, C_DATE };

static const struct pair_col {
	const char	*name;
	enum col_type	 type;
	const char	*meaning;
} pair_cols[] = {
	{"person", C_TEXT, "the person, re-keyed for you as in the events "
	    "shape"},
	{"referral", C_TEXT, "the referral, re-keyed for you as in the "
	    "events shape"},
	{"place", C_TEXT, "place code"},
	{"pcn", C_TEXT, "primary care network ODS code of the referral "
	    "record, when recorded"},
	{"service", C_TEXT, "the social prescribing service (code)"},
	{"source", C_TEXT, "who referred the person (code)"},
	{"referred_on", C_DATE, "date of the referral"},
	{"age", C_INT, "whole years at referral"},
	{"age_band", C_TEXT, "age band: 0-17, 18-24, 25-34, ..., 75-84, 85+"},
	{"gender", C_TEXT, "gender (code)"},
	{"ethnicity", C_TEXT, "NHS Data Dictionary ethnic category (code)"},
	{"ethnic_group", C_TEXT, "ethnic group: white, mixed, asian, black, "
	    "other, not_stated"},
	{"imd_decile", C_INT, "IMD decile of the home LSOA, 1 most deprived; "
	    "empty when not recorded"},
	{"imd_quintile", C_TEXT, "IMD quintile, 1 most deprived, or "
	    "unknown"},
	{"carer", C_FLAG, "unpaid carer: true, false, unknown, or empty when "
	    "not recorded"},
	{"learning_disability", C_FLAG, "has a learning disability, as "
	    "`carer`"},
	{"autism", C_FLAG, "is autistic, as `carer`"},
	{"homeless", C_FLAG, "homeless or at risk, as `carer`"},
	{"baseline_on", C_DATE, "date of the baseline (the earliest scored "
	    "baseline)"},
	{"baseline_life_satisfaction", C_INT, "baseline score 0-10"},
	{"baseline_worthwhile", C_INT, "baseline score 0-10"},
	{"baseline_happy", C_INT, "baseline score 0-10"},
	{"baseline_anxious", C_INT, "baseline score 0-10 (lower is better)"},
	{"followup_on", C_DATE, "date of the follow-up (the latest scored "
	    "review or final dated after the baseline)"},
	{"followup_stage", C_TEXT, "review or final"},
	{"followup_life_satisfaction", C_INT, "follow-up score 0-10"},
	{"followup_worthwhile", C_INT, "follow-up score 0-10"},
	{"followup_happy", C_INT, "follow-up score 0-10"},
	{"followup_anxious", C_INT, "follow-up score 0-10 (lower is better)"},
	{"days_between", C_INT, "days from baseline to follow-up (at least "
	    "1)"},
};
#define NPAIR	NELEM(pair_cols)

/* The score columns follow ons4_measures' order. */
_Static_assert(ONS4_N == 4, "four ONS4 columns each side");

struct cell {
	int	 null;
	char	 s[CELL_MAX];
};

pc_rc
export_header(const struct export_out *x, struct buf *b)
{
	const char *row[NPAIR];
	size_t i;

	if (!x->csv)
		return PC_OK;
	if (x->shape == EXPORT_EVENTS)
		return reccsv_header(b, NULL, CORRECTED_BY);
	for (i = 0; i < NPAIR; i++)
		row[i] = pair_cols[i].name;
	return csv_row(b, row, NPAIR, 0);
}

/* Replaces o[name] (when present) by a string. */
static int
put_str(cJSON *o, const char *name, const char *v)
{
	cJSON *s;

	if (cJSON_GetObjectItemCaseSensitive(o, name) == NULL)
		return 0;
	if ((s = cJSON_CreateString(v)) == NULL)
		return -1;
	return cJSON_ReplaceItemInObjectCaseSensitive(o, name, s) ? 0 : -1;
}

/* The record as a recipient sees it; NULL without memory. */
static cJSON *
rekey(struct recipient *to, const cJSON *c)
{
	cJSON *o = cJSON_Duplicate(c, 1), *n;
	char id[UUID_LEN], w[RECIP_WORKER_LEN], p[SEC_HEX64_LEN], day[16];
	const char *s;
	int bad = o == NULL;

	if (!bad && (s = rec_str(o, "id")) != NULL) {
		recip_id(to, s, id);
		bad |= put_str(o, "id", id);
	}
	if (!bad && (s = rec_str(o, "referral")) != NULL) {
		recip_id(to, s, id);
		bad |= put_str(o, "referral", id);
	}
	if (!bad && (s = rec_str(o, "target")) != NULL) {
		recip_id(to, s, id);	/* corrections are applied, but never */
		bad |= put_str(o, "target", id);
	}
	if (!bad && (s = rec_str(o, "person")) != NULL) {
		recip_person(to, s, p);
		bad |= put_str(o, "person", p);
	}
	if (!bad && (s = rec_str(o, "recorded_at")) != NULL) {
		snprintf(day, sizeof(day), "%.10s", s);
		bad |= put_str(o, "recorded_at", day);
	}
	if (!bad && (s = rec_str(o, "worker")) != NULL) {
		if (cJSON_IsNumber(rec_get(o, "device_seq"))) {
			n = cJSON_CreateNumber((double)recip_seq(to, s,
			    (int64_t)rec_get(o, "device_seq")->valuedouble));
			bad |= n == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(
			    o, "device_seq", n);
		}
		recip_worker(to, s, w);
		bad |= put_str(o, "worker", w);
	}
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The re-keyed workers whose corrections changed entry i, in order. */
static pc_rc
corrected_by(struct recipient *to, const struct timeline *tl, size_t i,
    cJSON *list, struct buf *text)
{
	char w[RECIP_WORKER_LEN];
	size_t k;

	for (k = i + 1; k < tl->n; k++) {
		const struct rec *c = tl->v[k].rec;
		const char *t = rec_str(c->json, "target");

		if (c->kind != KIND_CORRECTION || t == NULL ||
		    strcmp(t, tl->v[i].rec->id) != 0)
			continue;
		recip_worker(to, c->worker, w);
		if (strstr(buf_str(text), w) != NULL)
			continue;	/* named once */
		if (buf_addf(text, "%s%s", text->len ? ";" : "", w) != PC_OK ||
		    !cJSON_AddItemToArray(list, cJSON_CreateString(w)))
			return PC_ENOMEM;
	}
	return PC_OK;
}

static pc_rc
event_row(struct export_out *x, const struct timeline *tl, size_t i,
    struct buf *out)
{
	cJSON *o = rekey(x->to, tl_content(&tl->v[i])), *list;
	struct buf by;
	pc_rc rc;

	if (o == NULL)
		return PC_ENOMEM;
	buf_init(&by, 0);
	if ((list = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(o);
		return PC_ENOMEM;
	}
	rc = corrected_by(x->to, tl, i, list, &by);
	if (rc == PC_OK && x->csv)
		rc = reccsv_row(out, o, NULL, buf_str(&by));
	else if (rc == PC_OK) {
		if (list->child != NULL)
			cJSON_AddItemToObject(o, CORRECTED_BY, list);
		else
			cJSON_Delete(list);
		list = NULL;
		if ((rc = canon_json(o, out)) == PC_OK)
			rc = buf_addc(out, '\n');
	}
	cJSON_Delete(list);
	cJSON_Delete(o);
	buf_free(&by);
	if (rc == PC_OK)
		x->rows++;
	return rc;
}

static void
set_text(struct cell *c, const char *s)
{
	c->null = s == NULL || s[0] == '\0';
	snprintf(c->s, sizeof(c->s), "%s", s ? s : "");
}

static void
set_int(struct cell *c, long n)
{
	c->null = 0;
	snprintf(c->s, sizeof(c->s), "%ld", n);
}

static void
set_day(struct cell *c, int32_t d)
{
	c->null = d < 0;
	if (d >= 0)
		date_format(d, c->s);
	else
		c->s[0] = '\0';
}

static void
set_flag(struct cell *c, const cJSON *ref, const char *name)
{
	int f = rec_flag(ref, name, -2);

	set_text(c, f == 1 ? "true" : f == 0 ? "false" : f == -1 ? "unknown" :
	    NULL);
}

static void
set_scores(struct cell *c, const struct tl_assess *a)
{
	int m;

	for (m = 0; m < ONS4_N; m++)
		set_int(&c[m], a->score[m]);
}

/* The pair's cells, in pair_cols' order. */
static void
pair_cells(struct recipient *to, const struct timeline *tl,
    const struct tl_summary *s, struct cell *c)
{
	const cJSON *ref = s->referral;
	char v[SEC_HEX64_LEN];
	int age = rec_int(ref, "age", -1), dec = rec_int(ref, "imd_decile", 0);
	size_t k = 0;

	recip_person(to, rec_str(ref, "person"), v);
	set_text(&c[k++], v);
	recip_id(to, tl->id, v);
	set_text(&c[k++], v);
	set_text(&c[k++], rec_str(ref, "place"));
	set_text(&c[k++], rec_str(ref, "pcn"));
	set_text(&c[k++], rec_str(ref, "service"));
	set_text(&c[k++], rec_str(ref, "source"));
	set_day(&c[k++], s->referred_on);
	set_int(&c[k++], age);
	set_text(&c[k++], codes_age_band.v[codes_age_band_of(age)].code);
	set_text(&c[k++], rec_str(ref, "gender"));
	set_text(&c[k++], rec_str(ref, "ethnicity"));
	set_text(&c[k++], codes_ethnic_group.v[codes_ethnic_group_of(
	    rec_str(ref, "ethnicity"))].code);
	if (dec > 0)
		set_int(&c[k++], dec);
	else
		set_text(&c[k++], NULL);
	set_text(&c[k++], codes_imd_quintile.v[codes_imd_quintile_of(
	    dec)].code);
	set_flag(&c[k++], ref, "carer");
	set_flag(&c[k++], ref, "learning_disability");
	set_flag(&c[k++], ref, "autism");
	set_flag(&c[k++], ref, "homeless");
	set_day(&c[k++], s->baseline.on);
	set_scores(&c[k], &s->baseline);
	k += ONS4_N;
	set_day(&c[k++], s->followup.on);
	set_text(&c[k++], codes_stage.v[s->followup.stage].code);
	set_scores(&c[k], &s->followup);
	k += ONS4_N;
	set_int(&c[k++], (long)(s->followup.on - s->baseline.on));
}

static pc_rc
pair_row(struct export_out *x, const struct timeline *tl, struct buf *out)
{
	struct tl_summary s;
	struct cell c[NPAIR];
	const char *row[NPAIR];
	size_t i;
	pc_rc rc = PC_OK;

	tl_summarise(tl, &s);
	if (s.referral == NULL || s.voided || !s.has_baseline ||
	    !s.has_followup)
		return PC_OK;
	pair_cells(x->to, tl, &s, c);
	if (x->csv) {
		for (i = 0; i < NPAIR; i++)
			row[i] = c[i].s;
		rc = csv_row(out, row, NPAIR, 1);
	} else {
		for (i = 0; rc == PC_OK && i < NPAIR; i++) {
			rc = buf_adds(out, i ? "," : "{");
			if (rc == PC_OK)
				rc = canon_string(pair_cols[i].name,
				    strlen(pair_cols[i].name), out);
			if (rc == PC_OK)
				rc = buf_addc(out, ':');
			if (rc != PC_OK)
				break;
			if (c[i].null)
				rc = buf_adds(out, "null");
			else if (pair_cols[i].type == C_INT ||
			    (pair_cols[i].type == C_FLAG &&
			    strcmp(c[i].s, "unknown") != 0))
				rc = buf_adds(out, c[i].s);
			else
				rc = canon_string(c[i].s, strlen(c[i].s), out);
		}
		if (rc == PC_OK)
			rc = buf_adds(out, "}\n");
	}
	if (rc == PC_OK)
		x->rows++;
	return rc;
}

pc_rc
export_referral(struct export_out *x, const struct timeline *tl,
    struct buf *out)
{
	size_t i;
	pc_rc rc = PC_OK;

	if (x->shape == EXPORT_PAIRS)
		return pair_row(x, tl, out);
	for (i = 0; rc == PC_OK && i < tl->n; i++)
		if (!tl->v[i].voided && tl_content(&tl->v[i]) != NULL)
			rc = event_row(x, tl, i, out);
	return rc;
}

/* -- events straight from the stored text ---------------------------- */

/*
 * The top-level members rekey() changes, and the kind, in the order of
 * their names: canonical text has its keys sorted by their bytes.
 */
enum fast_field {
	FF_DEVICE_SEQ, FF_ID, FF_KIND, FF_PERSON, FF_RECORDED_AT, FF_REFERRAL,
	FF_TARGET, FF_WORKER, FF_N
};

static const char *const fast_names[FF_N] = {"device_seq", "id", "kind",
    "person", "recorded_at", "referral", "target", "worker"};

/* A device sequence as canonical text gives it: digits, exact. */
static int
plain_seq(const struct jscan_span *v, int64_t *n)
{
	size_t i;

	if (v->len == 0 || v->len > 15)
		return -1;
	*n = 0;
	for (i = 0; i < v->len; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			return -1;
		*n = *n * 10 + (v->p[i] - '0');
	}
	return 0;
}

/* n >= 0 in decimal, as "%lld" writes it. */
static int
dec(int64_t n, char *val, size_t size)
{
	char d[24];
	size_t k = 0, i;

	do
		d[k++] = (char)('0' + n % 10);
	while ((n /= 10) > 0);
	if (k >= size)
		return -1;
	for (i = 0; i < k; i++)
		val[i] = d[k - 1 - i];
	val[k] = '\0';
	return 0;
}

/* Value i of the record as rekey() would write it, into val. */
static int
fast_value(struct recipient *to, const struct jscan_span *f, int i, char *val,
    size_t size)
{
	char s[RECIP_MEMO_LEN], w[RECIP_WORKER_LEN];
	size_t n;
	int64_t seq;

	if (i == FF_DEVICE_SEQ) {
		if (f[FF_WORKER].len == 0)
			return 1;	/* left as it is */
		if (plain_seq(&f[i], &seq) != 0 ||
		    jscan_string(&f[FF_WORKER], w, sizeof(w)) != PC_OK)
			return -1;
		return dec(recip_seq(to, w, seq), val, size);
	}
	if (i == FF_KIND)
		return 1;
	if (jscan_string(&f[i], s, sizeof(s)) != PC_OK)
		return -1;
	val[0] = '"';
	switch (i) {
	case FF_ID:
	case FF_REFERRAL:
	case FF_TARGET:
		recip_id(to, s, val + 1);
		n = UUID_LEN - 1;
		break;
	case FF_PERSON:
		recip_person(to, s, val + 1);
		n = SEC_HEX64_LEN - 1;
		break;
	case FF_RECORDED_AT:	/* the day: "%.10s" */
		n = f[i].len - 2 < 10 ? f[i].len - 2 : 10;
		memcpy(val + 1, s, n);
		break;
	default:
		recip_worker(to, s, val + 1);
		n = RECIP_WORKER_LEN - 1;
	}
	val[n + 1] = '"';
	val[n + 2] = '\0';
	return 0;
}

/*
 * One record's row into out: 0, 1 when it is a correction (the
 * referral's rows must come from its timeline), -1 when the text is not
 * what this reading is sure of.
 */
static int
fast_row(struct export_out *x, const char *text, size_t len, struct buf *out)
{
	struct jscan_span f[FF_N];
	char val[SEC_HEX64_LEN + 8], kind[32];
	const char *from = text;
	enum rec_kind k;
	int i, r;

	if (jscan_members(text, len, fast_names, FF_N, f) != PC_OK ||
	    f[FF_KIND].len < 2 ||
	    f[FF_KIND].len > sizeof(kind) + 1 || f[FF_ID].len == 0 ||
	    f[FF_REFERRAL].len == 0)
		return -1;
	memcpy(kind, f[FF_KIND].p + 1, f[FF_KIND].len - 2);
	kind[f[FF_KIND].len - 2] = '\0';
	/* a kind of a newer version may hold identifiers this one does not
	   know to re-key: only rec_load's reading may say what it holds */
	if ((k = rec_kind_parse(kind)) == KIND_N)
		return -1;
	if (k == KIND_CORRECTION)
		return 1;
	for (i = 0; i < FF_N; i++) {
		if (f[i].len == 0)
			continue;
		if ((r = fast_value(x->to, f, i, val, sizeof(val))) < 0)
			return -1;
		if (r > 0)
			continue;
		buf_add(out, from, (size_t)(f[i].p - from));
		buf_adds(out, val);
		from = f[i].p + f[i].len;
	}
	buf_add(out, from, (size_t)(text + len - from));
	buf_addc(out, '\n');
	return 0;
}

static pc_rc
export_parsed(struct export_out *x, const struct store_export_ref *ref,
    struct buf *out)
{
	struct timeline tl;
	struct rec *r;
	size_t i;
	pc_rc rc = PC_OK;

	tl_init(&tl, ref->id);
	for (i = 0; rc == PC_OK && i < ref->n; i++)
		if ((rc = rec_load(ref->text[i], ref->len[i], &r)) == PC_OK)
			rc = tl_load(&tl, r);
	if (rc == PC_OK)
		rc = export_referral(x, &tl, out);
	tl_free(&tl);
	return rc;
}

static pc_rc
export_rows(struct export_out *x, const struct store_export_ref *ref,
    struct buf *out)
{
	size_t start = out->len, i;
	int r = 0;

	if (x->shape != EXPORT_EVENTS || x->csv || x->parsed)
		return export_parsed(x, ref, out);
	for (i = 0; r == 0 && i < ref->n; i++)
		r = fast_row(x, ref->text[i], ref->len[i], out);
	if (r == 0) {
		x->rows += (long)ref->n;
		return buf_failed(out);
	}
	out->len = start;	/* none of its rows, then all as parsed */
	if (out->p != NULL)
		out->p[start] = '\0';
	return export_parsed(x, ref, out);
}

pc_rc
export_stored(struct export_out *x, const struct store_export_ref *ref,
    struct buf *out)
{
	pc_rc rc = export_rows(x, ref, out);

	/* a pseudonym that could not be made is no pseudonym: cut */
	return rc == PC_OK && x->to->failed ? PC_EIO : rc;
}

/* -- referrals read ahead ----------------------------------------------- */

pc_rc
export_batch_rows(struct export_out *x, struct store_texts *b,
    struct buf *out)
{
	struct store_export_ref ref;
	size_t i;
	pc_rc rc = PC_OK;

	for (i = 0; rc == PC_OK && i < b->nref; i++)
		if ((rc = store_texts_get(b, i, &ref)) == PC_OK)
			rc = export_stored(x, &ref, out);
	return rc;
}

/* Which kinds a column belongs to, for the events table. */
static void
kinds_of(const char *name, char *out, size_t len)
{
	size_t off = 0;
	int k;

	out[0] = '\0';
	if (rec_field(KIND_N, name) != NULL) {
		snprintf(out, len, "every record");
		return;
	}
	for (k = 0; k < KIND_CORRECTION; k++)
		if (rec_field((enum rec_kind)k, name) != NULL)
			off += (size_t)snprintf(out + off, len - off, "%s`%s`",
			    off ? ", " : "", rec_kind_info((enum rec_kind)k)->name);
}

static const char *
rekeyed_meaning(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(rekeyed); i++)
		if (strcmp(rekeyed[i].name, name) == 0)
			return rekeyed[i].meaning;
	return NULL;
}

static pc_rc
events_table(struct buf *b)
{
	const char *const *cols;
	size_t n = reccsv_columns(&cols), i;
	char kinds[160];
	pc_rc rc = buf_adds(b, "| column | in | meaning |\n|---|---|---|\n");

	for (i = 0; rc == PC_OK && i < n; i++) {
		const char *m = rekeyed_meaning(cols[i]);
		const struct field *f = NULL;
		int k;

		for (k = 0; f == NULL && k <= KIND_N; k++)
			f = rec_field((enum rec_kind)k, cols[i]);
		kinds_of(cols[i], kinds, sizeof(kinds));
		if (kinds[0] == '\0')
			snprintf(kinds, sizeof(kinds), "-");
		if (m != NULL)
			rc = buf_addf(b, "| `%s` | %s | %s |\n", cols[i], kinds,
			    m);
		else
			rc = buf_addf(b, "| `%s` | %s | %s: %s |\n", cols[i],
			    kinds, f ? f->label : "", f ? f->help : "");
	}
	if (rc == PC_OK)
		rc = buf_adds(b, "| `" CORRECTED_BY "` | every record | the "
		    "re-keyed workers (as `worker`) whose corrections changed "
		    "the record, in order; in CSV joined with `;`, in NDJSON a "
		    "list, left out when there were none |\n\n");
	return rc;
}

static pc_rc
pairs_table(struct buf *b)
{
	static const char *const types[] = {"text", "whole number",
	    "true/false/unknown", "date YYYY-MM-DD"};
	size_t i;
	pc_rc rc = buf_adds(b, "| column | type | meaning |\n|---|---|---|\n");

	for (i = 0; rc == PC_OK && i < NPAIR; i++)
		rc = buf_addf(b, "| `%s` | %s | %s |\n", pair_cols[i].name,
		    types[pair_cols[i].type], pair_cols[i].meaning);
	return rc == PC_OK ? buf_adds(b, "\n") : rc;
}

static const char snippets[] =
    "## Loading them\n\n"
    "R (the pairs, then the events; `readr` reads the dates as dates):\n\n"
    "```r\n"
    "library(readr)\n"
    "pairs <- read_csv(\"pairs.csv\", col_types = cols(.default = "
    "col_guess(), pcn = col_character(), imd_quintile = col_character()))\n"
    "pairs$change_life_satisfaction <- pairs$followup_life_satisfaction -\n"
    "    pairs$baseline_life_satisfaction\n"
    "t.test(pairs$followup_anxious, pairs$baseline_anxious, paired = TRUE)\n"
    "wilcox.test(pairs$followup_anxious, pairs$baseline_anxious, "
    "paired = TRUE)\n"
    "events <- jsonlite::stream_in(file(\"events.ndjson\"))\n"
    "```\n\n"
    "pandas:\n\n"
    "```python\n"
    "import pandas as pd\n"
    "pairs = pd.read_csv(\"pairs.csv\", parse_dates=[\"referred_on\", "
    "\"baseline_on\", \"followup_on\"],\n"
    "                    dtype={\"pcn\": str, \"imd_quintile\": str})\n"
    "change = pairs[\"followup_anxious\"] - pairs[\"baseline_anxious\"]\n"
    "print(len(pairs), change.mean())\n"
    "events = pd.read_json(\"events.ndjson\", lines=True)\n"
    "referrals = events[events[\"kind\"] == \"referral\"]\n"
    "```\n";

pc_rc
export_markdown(struct buf *b)
{
	pc_rc rc = buf_adds(b, "# Evaluators' exports\n\n"
	    "Generated from the column tables in `server/export.c` and the "
	    "field tables in `common/rec.c` by `make docs`; `make check` "
	    "fails if this file and the code disagree.\n\n"
	    "`pcmds extract` (or `GET /v1/export`) streams one of two shapes, "
	    "as CSV or NDJSON (one JSON object per line). Both hold only "
	    "referrals whose person consented to evaluation and that were not "
	    "voided, referred between `--from` and `--to`.\n\n"
	    "**Identifiers are yours alone.** Every identifier (person, "
	    "record, referral, worker, device sequence) is re-keyed for the "
	    "evaluator who asks, with a keyed hash under the server's secret: "
	    "your exports join with each other on any of them, across time; "
	    "nobody else's export shares a value with yours; and none can be "
	    "related to an NHS number, even by someone holding the "
	    "deployment key. Times are given to the day. Export the pairs and "
	    "the events under the same account to join them.\n\n"
	    "## `events`: every record, as corrected\n\n"
	    "One row per record (a referral, an ONS4 assessment, a contact, "
	    "support offered, a closure), in the order the server received "
	    "them, referral by referral. Corrections are applied: each "
	    "record appears as corrected, the corrections themselves do "
	    "not, and voided records are left out. A column is empty (CSV) "
	    "or absent (NDJSON) where the record's kind has no such field. "
	    "Values are as in [the data dictionary](data-set.md), except "
	    "where the table says otherwise.\n\n");

	if (rc == PC_OK)
		rc = events_table(b);
	if (rc == PC_OK)
		rc = buf_adds(b, "## `pairs`: one row per ONS4 pair\n\n"
		    "The pairs the server's ONS4 figures count: for each "
		    "referral, the earliest scored baseline and the latest "
		    "scored review or final dated strictly after it (a "
		    "follow-up on the baseline's day is no pair). A referral "
		    "without both has no row. The mean of `followup_X - "
		    "baseline_X` over the rows is the mean change `pcmds "
		    "report --unsuppressed` gives for the same period. In "
		    "NDJSON, numbers are numbers, flags true, false or "
		    "\"unknown\", and an empty value is null.\n\n");
	if (rc == PC_OK)
		rc = pairs_table(b);
	if (rc == PC_OK)
		rc = buf_adds(b, snippets);
	return rc;
}

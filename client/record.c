/*
 * record.c - turning a link worker's input into a stored record.
 *
 * The same validator and cross-record rules as the server run here before
 * anything is stored, so a record that leaves this device has already
 * passed every check the server will make (except those that need other
 * devices' records).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "describe.h"
#include "directory.h"
#include "log.h"
#include "nhs.h"
#include "sec.h"
#include "timeline.h"
#include "uuid.h"

pc_rc
ctx_identity(struct ctx *c, struct err_list *errs)
{
	if (c->cfg.worker[0] == '\0' || c->cfg.place[0] == '\0') {
		err_add(errs, E_REQUIRED, "", "no identity on this device: run "
		    "pcmds setup first (with --server and --code, or --worker "
		    "and --place for an offline trial)");
		return PC_EINVAL;
	}
	return PC_OK;
}

static const char *
flag_for(const char *field, const struct flag_alias *aliases, char *buf,
    size_t len)
{
	size_t i;

	for (i = 0; aliases != NULL && aliases[i].field != NULL; i++)
		if (strcmp(aliases[i].field, field) == 0)
			return aliases[i].flag;
	snprintf(buf, len, "--%s", field);
	for (i = 2; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = '-';
	return buf;
}

void
ctx_report(const struct err_list *errs, const struct flag_alias *aliases)
{
	char flag[ERR_FIELD_MAX + 4];
	size_t i;

	for (i = 0; i < errs->n; i++) {
		const struct err_item *it = &errs->v[i];

		if (it->field[0] == '\0' || it->code == E_SYSTEM ||
		    strchr(it->field, ':') != NULL)
			fprintf(stderr, "pcmds: %s (%s)\n", it->msg,
			    err_code_name(it->code));
		else if (strchr(it->field, '.') != NULL)
			fprintf(stderr, "pcmds: %s: %s (%s)\n", it->field,
			    it->msg, err_code_name(it->code));
		else {
			char base[ERR_FIELD_MAX];

			/* reasons[2] is set by the reasons flag */
			snprintf(base, sizeof(base), "%.*s",
			    (int)strcspn(it->field, "["), it->field);
			fprintf(stderr, "pcmds: %s: %s (%s)\n",
			    flag_for(base, aliases, flag, sizeof(flag)),
			    it->msg, err_code_name(it->code));
		}
	}
	if (errs->dropped > 0)
		fprintf(stderr, "pcmds: ...and %zu more problems\n",
		    errs->dropped);
}

void
ctx_readback(struct ctx *c, const char *id, int stored)
{
	char line[600];
	size_t i;

	if (stored && record_readback(c, id, line, sizeof(line)) == PC_OK)
		fprintf(stderr, "pcmds: stored %s\n", line);
	for (i = 0; i < c->warnings.n; i++)
		fprintf(stderr, "pcmds: warning: %s\n", c->warnings.v[i].msg);
	err_clear(&c->warnings);
}

int
ctx_fail(struct err_list *errs, pc_rc rc)
{
	ctx_report(errs, NULL);
	err_free(errs);
	return exit_for(rc);
}

int
exit_for(pc_rc rc)
{
	switch (rc) {
	case PC_OK:
		return EXIT_OK;
	case PC_EUSAGE:
		return EXIT_USAGE;
	case PC_ESTORE:
	case PC_EIO:
	case PC_ENOMEM:
		return EXIT_STORE;
	case PC_ENET:
	case PC_ETLS:
		return EXIT_UNREACHABLE;
	case PC_EAUTH:
		return EXIT_AUTH;
	default:
		return EXIT_INVALID;
	}
}

void
record_local_date(int offset, char out[DATE_LEN])
{
	time_t t = time(NULL) + (time_t)offset * 86400;
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(out, DATE_LEN, "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000,
	    (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
}

int
record_date_text(const char *text, char out[DATE_LEN])
{
	static const struct {
		const char	*word;
		int		 offset;
	} words[] = {{"today", 0}, {"yesterday", -1}, {"tomorrow", 1}};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(text, words[i].word) == 0) {
			record_local_date(words[i].offset, out);
			return 0;
		}
	return date_uk_to_iso(text, out);
}

void
record_opts(struct rec_opts *o)
{
	char today[DATE_LEN];

	/* the device's own calendar: its tomorrow is in the future */
	record_local_date(0, today);
	if (date_parse(today, &o->today) != 0)
		rec_opts_init(o, time(NULL));
}

static int
parse_int(const char *s, long *v)
{
	char *end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	*v = strtol(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* yes/no words people type; -1 when it is none of them. */
static int
parse_yesno(const char *s)
{
	static const char *const yes[] = {"yes", "y", "true", "1"};
	static const char *const no[] = {"no", "n", "false", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* What a person typed for a code: the code itself when it is one. */
static const char *
code_of(const struct codelist *l, const char *text)
{
	int k = l != NULL ? code_find(l, text) : -1;

	return k >= 0 ? l->v[k].code : text;
}

static cJSON *
split_codes(const struct codelist *l, const char *text)
{
	cJSON *arr = cJSON_CreateArray();
	char *copy = strdup(text), *p, *save = NULL;

	if (arr == NULL || copy == NULL) {
		cJSON_Delete(arr);
		free(copy);
		return NULL;
	}
	for (p = strtok_r(copy, ",;|", &save); p != NULL;
	    p = strtok_r(NULL, ",;|", &save)) {
		char *e;

		while (isspace((unsigned char)*p))
			p++;
		e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*p != '\0')
			cJSON_AddItemToArray(arr, cJSON_CreateString(code_of(l,
			    p)));
	}
	free(copy);
	return arr;
}

cJSON *
record_value(const struct field *f, const char *text)
{
	char date[DATE_LEN];
	long v;
	int yn;

	switch (f->type) {
	case FT_INT:
	case FT_SEQ:
		if (parse_int(text, &v) == 0)
			return cJSON_CreateNumber((double)v);
		break;
	case FT_BOOL:
	case FT_TRISTATE:
		if ((yn = parse_yesno(text)) >= 0)
			return cJSON_CreateBool(yn);
		if (f->type == FT_TRISTATE && (strcasecmp(text, "unknown") == 0 ||
		    strcasecmp(text, "not known") == 0))
			return cJSON_CreateString("unknown");
		break;
	case FT_ENUM:
		return cJSON_CreateString(code_of(f->codes, text));
	case FT_ENUM_SET:
		return split_codes(f->codes, text);
	case FT_DATE:
		if (record_date_text(text, date) == 0)
			return cJSON_CreateString(date);
		break;
	default:
		break;
	}
	return cJSON_CreateString(text);
}

void
record_set(cJSON *body, enum rec_kind k, const char *field, const char *text)
{
	const struct field *f = rec_field(k, field);
	cJSON *v;

	if (f == NULL || text == NULL)
		return;
	if ((v = record_value(f, text)) == NULL)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(body, field);
	cJSON_AddItemToObject(body, field, v);
}

static pc_rc
envelope(struct ctx *c, enum rec_kind k, cJSON *body, const char *referral,
    const char *id, char out_id[UUID_LEN], struct err_list *errs)
{
	char now[TIME_LEN];
	int64_t seq;
	pc_rc rc;

	if (id != NULL)
		snprintf(out_id, UUID_LEN, "%s", id);
	else if (uuid_record(out_id) != PC_OK) {
		err_add(errs, E_SYSTEM, "", "no randomness available");
		return PC_EIO;
	}
	if ((rc = cstore_next_seq(c->store, &seq, errs)) != PC_OK)
		return rc;
	time_format((int64_t)time(NULL), now);
	cJSON_AddStringToObject(body, "id", out_id);
	cJSON_AddStringToObject(body, "schema", REC_SCHEMA);
	cJSON_AddStringToObject(body, "kind", rec_kind_info(k)->name);
	cJSON_AddStringToObject(body, "recorded_at", now);
	cJSON_AddNumberToObject(body, "device_seq", (double)seq);
	cJSON_AddStringToObject(body, "worker", c->cfg.worker);
	cJSON_AddStringToObject(body, "place", c->cfg.place);
	if (c->cfg.pcn[0] != '\0')
		cJSON_AddStringToObject(body, "pcn", c->cfg.pcn);
	cJSON_AddStringToObject(body, "referral", referral ? referral : out_id);
	return PC_OK;
}

/*
 * A record refused for its own fields is not checked against its
 * referral; its date is, so that every problem is said at once.
 */
static void
also_date(struct ctx *c, enum rec_kind k, const cJSON *body,
    const char *referral, struct err_list *errs)
{
	const char *df = rec_date_field(k);
	struct err_list more;
	size_t i;

	for (i = 0; i < errs->n; i++)
		if (strcmp(errs->v[i].field, df) == 0)
			return;	/* the date is wrong on its own already */
	err_init(&more);
	if (record_precheck(c, referral, k, rec_get(body, df), 0, &more) ==
	    PC_EINVAL)
		for (i = 0; i < more.n; i++)
			if (strcmp(more.v[i].field, df) == 0)
				err_add(errs, more.v[i].code, df, "%s",
				    more.v[i].msg);
	err_free(&more);
}

pc_rc
record_make(struct ctx *c, enum rec_kind k, cJSON *body, const char *referral,
    const char *id, char out_id[UUID_LEN], struct err_list *errs)
{
	struct timeline tl;
	struct rec *r = NULL;
	pc_rc rc, adir;

	dir_fill(c, k, body);
	if ((rc = envelope(c, k, body, referral, id, out_id, errs)) != PC_OK) {
		cJSON_Delete(body);
		return rc;
	}
	adir = dir_check(c, k, body, errs);
	rc = rec_validate(body, &c->ropts, &r, errs);
	if (rc == PC_EINVAL && referral != NULL && k != KIND_CORRECTION)
		also_date(c, k, body, referral, errs);
	cJSON_Delete(body);
	if (rc == PC_OK && adir != PC_OK) {
		rec_free(r);
		rc = adir;
	}
	if (rc != PC_OK)
		return rc;
	if (cstore_has(c->store, r->id) != 0) {
		err_add(errs, E_CONFLICT, "id", "a record with id %s is "
		    "already stored", uuid_short(r->id).s);
		rec_free(r);
		return PC_ECONFLICT;
	}
	if ((rc = cstore_timeline(c->store, r->referral, &tl, errs)) != PC_OK) {
		rec_free(r);
		return rc;
	}
	record_warn(&tl, r, &c->warnings);
	if ((rc = tl_admit(&tl, r, &c->ropts, errs)) != PC_OK) {
		rec_free(r);	/* still ours: the timeline refused it */
		tl_free(&tl);
		return rc;
	}
	rc = cstore_insert(c->store, r, errs);	/* r now belongs to tl */
	tl_free(&tl);
	return rc;
}

struct json_copy {
	char	*json;
	size_t	 len;
};

static int
copy_json(void *arg, const struct cstore_row *row)
{
	struct json_copy *j = arg;

	if ((j->json = malloc(row->json_len + 1)) != NULL) {
		memcpy(j->json, row->json, row->json_len);
		j->json[row->json_len] = '\0';
		j->len = row->json_len;
	}
	return 1;
}

/* The entry of a live baseline assessment other than r, or NULL. */
static const struct tl_entry *
baseline_of(const struct timeline *tl)
{
	size_t i;

	for (i = 0; i < tl->n; i++)
		if (tl->v[i].rec->kind == KIND_ASSESSMENT && !tl->v[i].voided &&
		    strcmp(rec_str(tl_content(&tl->v[i]), "stage"),
		    "baseline") == 0)
			return &tl->v[i];
	return NULL;
}

/* The live correction of the same target with the same change, or NULL. */
static const struct tl_entry *
same_correction(const struct timeline *tl, const struct rec *r)
{
	const char *target = rec_str(r->json, "target");
	const cJSON *set = rec_get(r->json, "set");
	size_t i;

	for (i = 0; i < tl->n; i++) {
		const cJSON *j = tl->v[i].rec->json;

		if (tl->v[i].rec->kind != KIND_CORRECTION ||
		    strcmp(rec_str(j, "target"), target) != 0)
			continue;
		if (set != NULL ? cJSON_Compare(set, rec_get(j, "set"), 1) :
		    cJSON_IsTrue(rec_get(j, "void")))
			return &tl->v[i];
	}
	return NULL;
}

void
record_warn(const struct timeline *tl, const struct rec *r,
    struct err_list *warn)
{
	const struct tl_entry *e;
	char d[DATE_LEN];

	if (r->kind == KIND_ASSESSMENT &&
	    strcmp(rec_str(r->json, "stage"), "baseline") == 0 &&
	    (e = baseline_of(tl)) != NULL) {
		date_format_uk(e->rec->date, d);
		err_add(warn, E_RULE, "stage", "this referral already has a "
		    "baseline (%s, record %s); the earliest one is the "
		    "baseline: correct the stage of this one if it was a "
		    "review",
		    d, uuid_short(e->rec->id).s);
	}
	if (r->kind == KIND_CORRECTION && (e = same_correction(tl, r)) != NULL)
		err_add(warn, E_RULE, "target", "record %s already had this "
		    "same correction (%s); this one changes nothing",
		    uuid_short(rec_str(r->json, "target")).s,
		    uuid_short(e->rec->id).s);
}

pc_rc
record_add(struct ctx *c, enum rec_kind k, cJSON *body, const char *referral,
    char out_id[UUID_LEN], struct err_list *errs)
{
	pc_rc rc;

	if ((rc = ctx_store(c, errs)) != PC_OK ||
	    (rc = cstore_begin(c->store, errs)) != PC_OK) {
		cJSON_Delete(body);
		return rc;
	}
	rc = record_make(c, k, body, referral, NULL, out_id, errs);
	if (rc == PC_OK && c->check_only)
		rc = PC_EINVAL;	/* an earlier problem: validate, never store */
	if (rc == PC_OK)
		rc = cstore_commit(c->store, errs);
	if (rc != PC_OK)
		cstore_rollback(c->store);
	return rc;
}

pc_rc
record_precheck(struct ctx *c, const char *referral, enum rec_kind k,
    const cJSON *date, int scores, struct err_list *errs)
{
	struct timeline tl;
	int32_t d = -1;
	pc_rc rc;

	if (cJSON_IsString(date) && date_parse(date->valuestring, &d) != 0)
		return PC_OK;	/* not a date: its own field's rules say so */
	if ((rc = ctx_store(c, errs)) != PC_OK ||
	    (rc = cstore_timeline(c->store, referral, &tl, errs)) != PC_OK)
		return rc;
	rc = tl_precheck(&tl, k, d, scores, errs);
	tl_free(&tl);
	return rc;
}

pc_rc
record_readback(struct ctx *c, const char *id, char *out, size_t len)
{
	struct json_copy row = {NULL, 0};
	struct rec *r;
	pc_rc rc;

	out[0] = '\0';
	if ((rc = cstore_get(c->store, id, copy_json, &row)) != PC_OK ||
	    row.json == NULL) {
		free(row.json);
		return rc != PC_OK ? rc : PC_ENOTFOUND;
	}
	rc = rec_load(row.json, row.len, &r);
	free(row.json);
	if (rc != PC_OK)
		return rc;
	describe_readback(r, out, len);
	rec_free(r);
	return PC_OK;
}

pc_rc
record_person(struct ctx *c, const char *nhs, char person[SEC_HEX64_LEN],
    struct err_list *errs)
{
	uint8_t key[NHS_KEY_LEN];
	char digits[11];
	pc_rc rc;

	if ((rc = nhs_normalise(nhs, digits, errs)) != PC_OK)
		return rc;
	if ((rc = ctx_key(c, key, errs)) != PC_OK) {
		sec_wipe(digits, sizeof(digits));
		return rc;
	}
	rc = nhs_pseudonym(key, digits, person);
	sec_wipe(key, sizeof(key));
	sec_wipe(digits, sizeof(digits));
	return rc;
}

struct person_match {
	const char	*person;
	cstore_cb	 cb;
	void		*arg;
	int		 n;
};

static int
match_person(void *arg, const struct cstore_row *row)
{
	struct person_match *m = arg;
	cJSON *j = cJSON_ParseWithLength(row->json, row->json_len);
	const char *p = rec_str(j, "person");
	int stop = 0;

	/* the pseudonym as recorded; a correction of it is rare enough */
	if (p != NULL && strcmp(p, m->person) == 0) {
		m->n++;
		stop = m->cb(m->arg, row);
	}
	cJSON_Delete(j);
	return stop;
}

pc_rc
record_find_person(struct ctx *c, const char *nhs, cstore_cb cb, void *arg,
    int *found, struct err_list *errs)
{
	char person[SEC_HEX64_LEN];
	struct person_match m = {person, cb, arg, 0};
	pc_rc rc;

	*found = 0;
	if ((rc = ctx_store(c, errs)) != PC_OK ||
	    (rc = record_person(c, nhs, person, errs)) != PC_OK)
		return rc;
	rc = cstore_each(c->store, CSF_REFERRALS, match_person, &m);
	sec_wipe(person, sizeof(person));
	*found = m.n;
	if (rc != PC_OK)
		err_add(errs, E_SYSTEM, "", "store: cannot read the referrals");
	return rc;
}

pc_rc
record_referral(struct ctx *c, const char *ref, char id[UUID_LEN],
    struct err_list *errs)
{
	char kind[16], referral[UUID_LEN];
	enum cstore_state st;
	pc_rc rc;

	if ((rc = ctx_store(c, errs)) != PC_OK ||
	    (rc = cstore_resolve(c->store, ref, id, kind, referral, &st,
	    errs)) != PC_OK)
		return rc;
	if (strcmp(kind, "referral") != 0) {
		err_add(errs, E_REFERRAL, "", "%s is a %s record, not a "
		    "referral (its referral is %s)", ref, kind, uuid_short(referral).s);
		return PC_EINVAL;
	}
	return PC_OK;
}

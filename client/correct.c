/*
 * correct.c - new values for a record, or its void: one way for pcmds
 * correct and the app.
 *
 * A record the server has (or may have) is never changed: a correction
 * record is made, and the server applies it. A record the server refused
 * (quarantined) never reached it, so there the corrected version simply
 * replaces it under the same id; the refused version is kept, marked
 * superseded, with its reason. Voiding a quarantined record withdraws it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correct.h"
#include "uuid.h"

/* Adds "field=value" to set, converted by the target kind's types. */
static pc_rc
set_pair(struct ctx *c, enum rec_kind k, cJSON *set, const char *pair,
    struct err_list *errs)
{
	char field[64], *p;
	const char *eq = strchr(pair, '='), *val;
	const struct field *f;
	char person[SEC_HEX64_LEN];
	pc_rc rc;

	if (eq == NULL || eq == pair || (size_t)(eq - pair) >= sizeof(field)) {
		err_add(errs, E_FORMAT, "set", "--set takes field=value; got "
		    "'%s'", pair);
		return PC_EUSAGE;
	}
	snprintf(field, sizeof(field), "%.*s", (int)(eq - pair), pair);
	for (p = field; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	val = eq + 1;
	cJSON_DeleteItemFromObjectCaseSensitive(set, field);
	if (strcmp(field, "nhs_number") == 0 && k == KIND_REFERRAL) {
		if ((rc = record_person(c, val, person, errs)) != PC_OK)
			return rc;
		cJSON_AddStringToObject(set, "person", person);
		cJSON_AddStringToObject(set, "person_basis", "nhs_number");
		return rc;
	}
	if (*val == '\0') {
		cJSON_AddNullToObject(set, field);	/* removes the field */
		return PC_OK;
	}
	f = rec_field(k, field);
	cJSON_AddItemToObject(set, field, f ? record_value(f, val) :
	    cJSON_CreateString(val));
	return PC_OK;
}

static pc_rc
build_set(struct ctx *c, enum rec_kind k, const char *const *pairs, int n,
    cJSON **out, struct err_list *errs)
{
	cJSON *set = cJSON_CreateObject();
	pc_rc rc = PC_OK;
	int i;

	for (i = 0; i < n && rc == PC_OK; i++)
		rc = set_pair(c, k, set, pairs[i], errs);
	if (rc != PC_OK) {
		cJSON_Delete(set);
		return rc;
	}
	*out = set;
	return PC_OK;
}

struct row_copy {
	cJSON	*json;
	char	 reason[512];
	int64_t	 seq;
};

static int
copy_row(void *arg, const struct cstore_row *row)
{
	struct row_copy *rc = arg;

	rc->json = cJSON_ParseWithLength(row->json, row->json_len);
	rc->seq = row->seq;
	snprintf(rc->reason, sizeof(rc->reason), "%s",
	    row->reason ? row->reason : "");
	return 1;
}

/* The corrected version of a quarantined record, replacing it. */
static pc_rc
replace_quarantined(struct ctx *c, const struct correct_target *t, cJSON *set,
    int isvoid, char out_id[UUID_LEN], struct err_list *errs)
{
	static const char *const env[] = {"id", "schema", "kind",
	    "recorded_at", "device_seq", "worker", "place", "pcn", "referral"};
	struct row_copy row = {NULL, "", 0};
	enum rec_kind k = rec_kind_parse(t->kind);
	size_t i;
	const char *newid = t->id;
	char fresh[UUID_LEN];
	cJSON *kv, *body;
	pc_rc rc;

	if ((rc = cstore_get(c->store, t->id, copy_row, &row)) != PC_OK ||
	    row.json == NULL) {
		err_add(errs, E_SYSTEM, "", "store: cannot read record %s",
		    uuid_short(t->id).s);
		return rc != PC_OK ? rc : PC_ESTORE;
	}
	if (isvoid) {
		snprintf(out_id, UUID_LEN, "%s", t->id);
		cJSON_Delete(row.json);
		return cstore_mark(c->store, t->id, CS_WITHDRAWN, row.reason,
		    errs);
	}
	/* the server holds other content under this id: take a new one */
	if (strstr(row.reason, "E_CONFLICT") != NULL) {
		if (uuid_record(fresh) != PC_OK) {
			cJSON_Delete(row.json);
			return PC_EIO;
		}
		newid = fresh;
	}
	body = row.json;
	cJSON_ArrayForEach(kv, set) {
		cJSON_DeleteItemFromObjectCaseSensitive(body, kv->string);
		if (!cJSON_IsNull(kv))
			cJSON_AddItemToObject(body, kv->string,
			    cJSON_Duplicate(kv, 1));
	}
	/* record_make writes the envelope again: new seq, time, identity */
	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(body, env[i]);
	if ((rc = cstore_supersede(c->store, row.seq, errs)) != PC_OK) {
		cJSON_Delete(body);
		return rc;
	}
	return record_make(c, k, body, k == KIND_REFERRAL &&
	    newid != t->id ? NULL : t->referral, newid, out_id, errs);
}

/* The target's effective content (corrections applied), a copy. */
cJSON *
correct_current(struct ctx *c, const struct correct_target *t,
    struct err_list *errs)
{
	struct timeline tl;
	cJSON *j = NULL;
	int i;

	if (cstore_timeline(c->store, t->referral, &tl, errs) != PC_OK)
		return NULL;
	if ((i = tl_find(&tl, t->id)) >= 0 && tl_content(&tl.v[i]) != NULL)
		j = cJSON_Duplicate(tl_content(&tl.v[i]), 1);
	tl_free(&tl);
	return j;
}

int
correct_field_ok(const struct field *f)
{
	return !(f->flags & FF_ENVELOPE) && f->type != FT_HEX64 &&
	    f->type != FT_OBJECT && strcmp(f->name, "person_basis") != 0;
}

static pc_rc
correct(struct ctx *c, const struct correct_target *t,
    const char *const *pairs, int n, int isvoid, const char *reason,
    char out_id[UUID_LEN], struct err_list *errs)
{
	enum rec_kind k = rec_kind_parse(t->kind);
	cJSON *set = NULL, *body;
	pc_rc rc;

	if (isvoid == (n > 0)) {
		err_add(errs, E_REQUIRED, "set", "give new values (one or "
		    "more), "
		    "or void the record with a reason");
		return PC_EUSAGE;
	}
	if (isvoid && (reason == NULL || reason[0] == '\0')) {
		err_add(errs, E_REQUIRED, "reason", "Reason is required when "
		    "voiding a record: say why it is withdrawn");
		return PC_EINVAL;
	}
	if (!isvoid && (rc = build_set(c, k, pairs, n, &set, errs)) != PC_OK)
		return rc;
	if (t->state == CS_QUARANTINED) {
		rc = replace_quarantined(c, t, set, isvoid, out_id, errs);
		cJSON_Delete(set);
		return rc;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "target", t->id);
	if (set != NULL)
		cJSON_AddItemToObject(body, "set", set);
	if (isvoid)
		cJSON_AddBoolToObject(body, "void", 1);
	if (reason != NULL)
		cJSON_AddStringToObject(body, "reason", reason);
	return record_make(c, KIND_CORRECTION, body, t->referral, NULL, out_id,
	    errs);
}

pc_rc
correct_resolve(struct ctx *c, const char *prefix, struct correct_target *t,
    struct err_list *errs)
{
	pc_rc rc;

	if ((rc = ctx_identity(c, errs)) != PC_OK ||
	    (rc = ctx_store(c, errs)) != PC_OK)
		return rc;
	return cstore_resolve(c->store, prefix, t->id, t->kind, t->referral,
	    &t->state, errs);
}

pc_rc
correct_record(struct ctx *c, const struct correct_target *t,
    const char *const *pairs, int n, int isvoid, const char *reason,
    char out_id[UUID_LEN], struct err_list *errs)
{
	pc_rc rc;

	if ((rc = cstore_begin(c->store, errs)) != PC_OK)
		return rc;
	rc = correct(c, t, pairs, n, isvoid, reason, out_id, errs);
	if (rc == PC_OK)
		rc = cstore_commit(c->store, errs);
	if (rc != PC_OK)
		cstore_rollback(c->store);
	return rc;
}

/*
 * cmd_correct.c - pcmds correct: new values for a record, or its void.
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
#include <time.h>

#include "client.h"
#include "nhs.h"
#include "sec.h"
#include "uuid.h"

struct target {
	char			 id[UUID_LEN];
	char			 kind[16];
	char			 referral[UUID_LEN];
	enum cstore_state	 state;
};

/* Adds "field=value" to set, converted by the target kind's types. */
static pc_rc
set_pair(struct ctx *c, enum rec_kind k, cJSON *set, const char *pair,
    struct err_list *errs)
{
	char field[64], *p;
	const char *eq = strchr(pair, '='), *val;
	const struct field *f;
	uint8_t key[NHS_KEY_LEN];
	char digits[11], person[SEC_HEX64_LEN];
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
		if ((rc = nhs_normalise(val, digits, errs)) != PC_OK)
			return rc;
		if ((rc = ctx_key(c, key, errs)) != PC_OK)
			return rc;
		rc = nhs_pseudonym(key, digits, person);
		sec_wipe(key, sizeof(key));
		sec_wipe(digits, sizeof(digits));
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
build_set(struct ctx *c, enum rec_kind k, const struct opt_result *o,
    cJSON **out, struct err_list *errs)
{
	cJSON *set = cJSON_CreateObject();
	pc_rc rc = PC_OK;
	int i;

	for (i = 0; i < o->nlist && rc == PC_OK; i++)
		rc = set_pair(c, k, set, o->list[i], errs);
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
replace_quarantined(struct ctx *c, const struct target *t, cJSON *set,
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
		err_add(errs, E_SYSTEM, "", "store: cannot read record %.8s",
		    t->id);
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
		if (uuid_v4(fresh) != PC_OK) {
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

static pc_rc
correct(struct ctx *c, const struct opt_result *o, const struct target *t,
    char out_id[UUID_LEN], struct err_list *errs)
{
	enum rec_kind k = rec_kind_parse(t->kind);
	const char *reason = opt_get(o, "reason");
	int isvoid = opt_has(o, "void");
	cJSON *set = NULL, *body;
	pc_rc rc;

	if (isvoid == (o->nlist > 0)) {
		err_add(errs, E_REQUIRED, "set", "give --set field=value (one or "
		    "more) or --void with --reason");
		return PC_EUSAGE;
	}
	if (!isvoid && (rc = build_set(c, k, o, &set, errs)) != PC_OK)
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

static int
run_correct(struct ctx *c, struct opt_result *o)
{
	static const struct flag_alias alias[] = {
		{"target", "RECORD"}, {"set", "--set"}, {"void", "--void"},
		{NULL, NULL},
	};
	struct err_list errs;
	struct target t;
	char id[UUID_LEN];
	pc_rc rc;

	err_init(&errs);
	if ((rc = ctx_identity(c, &errs)) == PC_OK &&
	    (rc = ctx_store(c, &errs)) == PC_OK &&
	    (rc = cstore_resolve(c->store, o->pos[0], t.id, t.kind, t.referral,
	    &t.state, &errs)) == PC_OK &&
	    (rc = cstore_begin(c->store, &errs)) == PC_OK) {
		rc = correct(c, o, &t, id, &errs);
		if (rc == PC_OK)
			rc = cstore_commit(c->store, &errs);
		if (rc != PC_OK)
			cstore_rollback(c->store);
	}
	if (rc == PC_OK) {
		printf("%.8s\n", id);
		if (t.state == CS_QUARANTINED)
			fprintf(stderr, "pcmds: %s %.8s %s; it will be sent at "
			    "the next sync\n", t.kind, t.id, opt_has(o, "void") ?
			    "withdrawn (it never reached the server)" :
			    "replaced by the corrected version");
	} else
		ctx_report(&errs, alias);
	err_free(&errs);
	return exit_for(rc);
}

static const struct opt_spec correct_opts[] = {
	{"set", OPT_LIST, "FIELD=VALUE", "new value (repeat for more fields; "
	    "FIELD= removes an optional field; nhs_number=N for a referral)"},
	{"void", OPT_FLAG, NULL, "withdraw the record (needs --reason)"},
	{"reason", OPT_VALUE, "TEXT", "why (no names or NHS numbers)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_correct = {
	"correct", "RECORD", 1, 1, "correct or void a record (any kind)",
	correct_opts, run_correct,
	"Records are never edited: a correction record carries the new values "
	"and the\nserver applies it. A record the server refused (quarantined) "
	"is replaced by its\ncorrected version instead. Examples:\n"
	"  pcmds correct 3f2b8c1e --set age=68 --set imd_decile=3\n"
	"  pcmds correct 9a1b2c3d --void --reason 'recorded twice'\n",
};

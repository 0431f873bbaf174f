/*
 * ingest.c - validating, de-duplicating and committing a batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "buf.h"
#include "failpoint.h"
#include "ingest.h"
#include "timeline.h"

static const char *const status_names[MR_N] = {
	"stored", "duplicate", "conflict", "rejected",
};

void
ingest_init(struct ingest *in)
{
	memset(in, 0, sizeof(*in));
	map_init(&in->timelines);
}

static void
free_timeline(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	tl_free(val);
	free(val);
}

void
ingest_free(struct ingest *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		err_free(&in->v[i].errs);
	free(in->v);
	map_each(&in->timelines, free_timeline, NULL);
	map_free(&in->timelines);
	memset(in, 0, sizeof(*in));
}

/* The referral's timeline: from this batch, else loaded from the store. */
static struct timeline *
timeline_for(struct ingest *in, struct store *st, const char *referral)
{
	struct timeline *tl = map_get(&in->timelines, referral);

	if (tl != NULL)
		return tl;
	if ((tl = malloc(sizeof(*tl))) == NULL)
		return NULL;
	if (store_record_timeline(st, referral, tl) != PC_OK ||
	    map_put(&in->timelines, referral, tl) != PC_OK) {
		tl_free(tl);
		free(tl);
		return NULL;
	}
	return tl;
}

static void
check_identity(const struct rec *r, const struct store_auth *who,
    struct err_list *errs)
{
	if (strcmp(r->worker, who->user.worker) != 0)
		err_add(errs, E_WORKER, "worker", "record made as worker %s, "
		    "but this device is enrolled as %s", r->worker,
		    who->user.worker);
	if (strcmp(r->place, who->user.place) != 0)
		err_add(errs, E_PLACE, "place", "record made for place %s, but "
		    "this device is enrolled for place %s", r->place,
		    who->user.place);
}

/* An id already stored, or earlier in this batch. */
static enum metrics_result
known_id(struct ingest *in, struct store *st, const struct rec *r,
    struct err_list *errs, pc_rc *rc)
{
	char hash[SEC_HEX64_LEN];
	struct timeline *tl = map_get(&in->timelines, r->referral);
	int i;

	*rc = PC_OK;
	if (tl != NULL && (i = tl_find(tl, r->id)) >= 0)
		snprintf(hash, sizeof(hash), "%s", tl->v[i].rec->hash);
	else if ((*rc = store_record_hash(st, r->id, hash)) == PC_ENOTFOUND) {
		*rc = PC_OK;
		return MR_STORED;	/* new */
	} else if (*rc != PC_OK)
		return MR_REJECTED;
	if (strcmp(hash, r->hash) == 0)
		return MR_DUPLICATE;
	err_add(errs, E_CONFLICT, "id", "a different record with id %.8s is "
	    "already stored; it was kept, this one was not", r->id);
	return MR_CONFLICT;
}

/* One record; PC_ESTORE aborts the batch. */
static pc_rc
ingest_one(struct ingest *in, struct store *st, const struct store_auth *who,
    const cJSON *obj, const struct rec_opts *ro, int64_t now,
    struct ingest_item *it)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	struct timeline *tl;
	struct rec *r;
	pc_rc rc;

	if (cJSON_IsString(id) && uuid_valid(id->valuestring))
		snprintf(it->id, sizeof(it->id), "%s", id->valuestring);
	it->status = MR_REJECTED;
	if (rec_validate(obj, ro, &r, &it->errs) != PC_OK)
		return PC_OK;
	check_identity(r, who, &it->errs);
	if (it->errs.n > 0) {
		rec_free(r);
		return PC_OK;
	}
	it->status = known_id(in, st, r, &it->errs, &rc);
	if (rc != PC_OK || it->status != MR_STORED) {
		rec_free(r);
		return rc;
	}
	if ((tl = timeline_for(in, st, r->referral)) == NULL) {
		rec_free(r);
		return PC_ESTORE;
	}
	if ((rc = tl_admit(tl, r, ro, &it->errs)) != PC_OK) {
		it->status = MR_REJECTED;
		rec_free(r);
		return rc == PC_EINVAL ? PC_OK : rc;
	}
	/* r belongs to the timeline now */
	return store_record_put(st, r, who->user.id, now);
}

static pc_rc
audit_batch(struct ingest *in, struct store *st, const struct store_auth *who,
    int64_t now)
{
	struct buf obj, outcome;
	char actor[64];
	size_t i;
	pc_rc rc;

	buf_init(&obj, 0);
	buf_init(&outcome, 0);
	snprintf(actor, sizeof(actor), "user:%lld", (long long)who->user.id);
	buf_addf(&obj, "device %s; stored", who->device);
	for (i = 0; i < in->n; i++)
		if (in->v[i].status == MR_STORED)
			buf_addf(&obj, " %s", in->v[i].id);
	buf_addf(&outcome, "stored %ld, duplicate %ld, conflict %ld, rejected "
	    "%ld", in->count[MR_STORED], in->count[MR_DUPLICATE],
	    in->count[MR_CONFLICT], in->count[MR_REJECTED]);
	rc = audit_log(st, now, actor, "records.ingest", buf_str(&obj),
	    buf_str(&outcome));
	buf_free(&obj);
	buf_free(&outcome);
	return rc;
}

pc_rc
ingest_run(struct ingest *in, struct store *st, const struct store_auth *who,
    const cJSON *records, const struct rec_opts *ro, int64_t now,
    ingest_hook hook, void *hook_arg)
{
	const cJSON *obj;
	size_t n = (size_t)cJSON_GetArraySize(records), i = 0;
	pc_rc rc;

	if ((in->v = calloc(n ? n : 1, sizeof(*in->v))) == NULL)
		return PC_ENOMEM;
	if ((rc = store_begin(st)) != PC_OK)
		return rc;
	cJSON_ArrayForEach(obj, records) {
		struct ingest_item *it = &in->v[i++];

		err_init(&it->errs);
		in->n = i;
		if ((rc = ingest_one(in, st, who, obj, ro, now, it)) != PC_OK)
			goto fail;
		in->count[it->status]++;
	}
	if ((rc = audit_batch(in, st, who, now)) != PC_OK)
		goto fail;
	if (hook != NULL && (rc = hook(hook_arg, st, in)) != PC_OK)
		goto fail;
	FAILPOINT("ingest-before-commit");
	if ((rc = store_commit(st)) != PC_OK)
		goto fail;
	FAILPOINT("ingest-after-commit");
	return PC_OK;
fail:
	store_rollback(st);
	return rc;
}

static cJSON *
errors_json(const struct err_list *errs)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < errs->n; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "code",
		    err_code_name(errs->v[i].code));
		cJSON_AddStringToObject(e, "field", errs->v[i].field);
		cJSON_AddStringToObject(e, "message", errs->v[i].msg);
		cJSON_AddItemToArray(arr, e);
	}
	return arr;
}

cJSON *
ingest_json(const struct ingest *in)
{
	cJSON *o = cJSON_CreateObject(), *arr, *sum;
	size_t i;
	int k;

	arr = cJSON_AddArrayToObject(o, "results");
	for (i = 0; i < in->n; i++) {
		const struct ingest_item *it = &in->v[i];
		cJSON *r = cJSON_CreateObject();

		cJSON_AddNumberToObject(r, "index", (double)i);
		if (it->id[0] != '\0')
			cJSON_AddStringToObject(r, "id", it->id);
		else
			cJSON_AddNullToObject(r, "id");
		cJSON_AddStringToObject(r, "status", status_names[it->status]);
		if (it->errs.n > 0)
			cJSON_AddItemToObject(r, "errors",
			    errors_json(&it->errs));
		cJSON_AddItemToArray(arr, r);
	}
	sum = cJSON_AddObjectToObject(o, "summary");
	for (k = 0; k < MR_N; k++)
		cJSON_AddNumberToObject(sum, status_names[k],
		    (double)in->count[k]);
	return o;
}

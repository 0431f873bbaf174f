/*
 * ingest.c - validating, de-duplicating and committing a batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "canon.h"
#include "failpoint.h"
#include "ingest.h"
#include "jfast.h"
#include "jsplit.h"
#include "timeline.h"
#include "workq.h"

static const char *const status_names[MR_N] = {
	"stored", "duplicate", "conflict", "rejected",
};

void
ingest_init(struct ingest *in)
{
	size_t k;

	memset(in, 0, sizeof(*in));
	map_init(&in->timelines);
	map_init(&in->steps);
	for (k = 0; k < INGEST_SHARES_MAX; k++)
		jarena_init(&in->arenas[k]);
}

static void
free_timeline(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	tl_free(val);
	free(val);
}

static void
free_step(const char *key, void *val, void *arg)
{
	(void)key;
	(void)arg;
	agg_step_free(val);
	free(val);
}

void
ingest_free(struct ingest *in)
{
	size_t i;

	for (i = 0; i < in->n; i++) {
		err_free(&in->v[i].errs);
		cJSON_Delete(in->v[i].json);
		rec_free(in->v[i].rec);
	}
	free(in->v);
	map_each(&in->timelines, free_timeline, NULL);
	map_free(&in->timelines);
	map_each(&in->steps, free_step, NULL);
	map_free(&in->steps);
	/* the trees in them all gone now, with their records */
	for (i = 0; i < INGEST_SHARES_MAX; i++)
		jarena_free(&in->arenas[i]);
	memset(in, 0, sizeof(*in));
}

/*
 * The referral's timeline: from this batch, else loaded from the store.
 * A referral record not yet stored starts its timeline: nothing can be
 * stored before it, so there is nothing to load.
 */
static struct timeline *
timeline_for(struct ingest *in, struct store *st, const struct rec *r)
{
	struct timeline *tl = map_get(&in->timelines, r->referral);

	if (tl != NULL)
		return tl;
	if ((tl = malloc(sizeof(*tl))) == NULL)
		return NULL;
	if (r->kind == KIND_REFERRAL)
		tl_init(tl, r->referral);
	if ((r->kind != KIND_REFERRAL &&
	    store_record_timeline(st, r->referral, tl) != PC_OK) ||
	    map_put(&in->timelines, r->referral, tl) != PC_OK) {
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

/*
 * A support record's community asset (or a correction's new one) must be
 * in its place's directory: the device picked it from the copy it
 * received, and entries are retired, never deleted.
 */
static pc_rc
check_asset(struct store *st, const struct rec *r, struct err_list *errs)
{
	const cJSON *j = r->kind == KIND_CORRECTION ? rec_get(r->json, "set") :
	    r->kind == KIND_SUPPORT ? r->json : NULL;
	const char *id = rec_str(j, "asset");
	pc_rc rc;

	if (id == NULL ||
	    (rc = store_asset_known(st, r->place, id)) == PC_OK)
		return PC_OK;
	if (rc != PC_ENOTFOUND)
		return rc;
	err_add(errs, E_ENUM, r->kind == KIND_CORRECTION ? "set.asset" :
	    "asset", "Community asset %s is not in the directory of place %s; "
	    "sync to receive the current directory and pick from it", id,
	    r->place);
	return PC_OK;
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
	err_add(errs, E_CONFLICT, "id", "a different record with id %s is "
	    "already stored; it was kept, this one was not", uuid_short(r->id).s);
	return MR_CONFLICT;
}

/*
 * A correction of a referral's consent to evaluation, before it applies.
 * Only a correction's fields are looked up: reading them by name walks
 * every key of the record, and most records are not corrections.
 */
static void
consent_change(const struct timeline *tl, const struct rec *r,
    struct ingest_item *it)
{
	const cJSON *set;
	const char *target;
	int i;

	it->consent_from = it->consent_to = -2;
	if (r->kind != KIND_CORRECTION)
		return;
	set = rec_get(r->json, "set");
	target = rec_str(r->json, "target");
	if (rec_get(set, "consent_evaluation") == NULL || target == NULL ||
	    (i = tl_find(tl, target)) < 0 ||
	    tl->v[i].rec->kind != KIND_REFERRAL)
		return;
	snprintf(it->consent_ref, sizeof(it->consent_ref), "%s", target);
	it->consent_from = rec_flag(tl_content(&tl->v[i]),
	    "consent_evaluation", -2);
	it->consent_to = rec_flag(set, "consent_evaluation", -2);
}

/*
 * A follow-up of a referral stored before the batch, against its fact:
 * *done 1 when it was admitted there and stored (r freed, whatever the
 * store said), 0 when its referral's records must decide (r still the
 * caller's).
 */
static pc_rc
step_one(struct ingest *in, struct store *st, const struct store_auth *who,
    int64_t now, struct ingest_item *it, struct rec *r, int *done)
{
	struct agg_step *a = map_get(&in->steps, r->referral);
	pc_rc rc;

	*done = 0;
	if (a == NULL || a->off)
		return PC_OK;
	if ((rc = agg_step_add(a, r, done)) != PC_OK)
		return rc;
	if (!*done) {
		/* from here on its timeline, this batch's records in it */
		agg_step_free(a);
		a->off = 1;
		return PC_OK;
	}
	it->consent_from = it->consent_to = -2;
	memcpy(it->digest, r->digest, sizeof(it->digest));
	rc = store_record_put(st, r, who->user.id, now, in->audit_chain,
	    in->audit_seq);
	rec_free(r);
	return rc;
}

/*
 * One record, checked by check_range(); r is taken. PC_ESTORE aborts the
 * batch.
 */
static pc_rc
ingest_one(struct ingest *in, struct store *st, const struct store_auth *who,
    const struct rec_opts *ro, int64_t now, struct ingest_item *it)
{
	struct timeline *tl;
	struct rec *r = it->rec;
	int done;
	pc_rc rc;

	it->rec = NULL;
	it->status = MR_REJECTED;
	if (it->checked != PC_OK)
		return it->checked == PC_EINVAL ? PC_OK : it->checked;
	check_identity(r, who, &it->errs);
	if (it->errs.n == 0 && (rc = check_asset(st, r, &it->errs)) != PC_OK) {
		rec_free(r);
		return rc;
	}
	if (it->errs.n > 0) {
		rec_free(r);
		return PC_OK;
	}
	it->status = known_id(in, st, r, &it->errs, &rc);
	if (rc != PC_OK || it->status != MR_STORED) {
		rec_free(r);
		return rc;
	}
	if ((rc = step_one(in, st, who, now, it, r, &done)) != PC_OK || done) {
		if (!done)
			rec_free(r);
		return rc;
	}
	if ((tl = timeline_for(in, st, r)) == NULL) {
		rec_free(r);
		return PC_ESTORE;
	}
	consent_change(tl, r, it);
	memcpy(it->digest, r->digest, sizeof(it->digest));
	if ((rc = tl_admit(tl, r, ro, &it->errs)) != PC_OK) {
		it->status = MR_REJECTED;
		rec_free(r);
		return rc == PC_EINVAL ? PC_OK : rc;
	}
	/* r belongs to the timeline now */
	return store_record_put(st, r, who->user.id, now, in->audit_chain,
	    in->audit_seq);
}

/*
 * The checks that need nothing but the record itself (validation, the
 * canonical form and its hash) are most of the work, and independent:
 * a large batch is shared among the machine's cores while the store, a
 * single writer, waits for the results. The threads that share it are
 * started once, with the server (workq.h), and wait for work; without
 * them (a test, a tool) the caller does it all.
 */
#define CHECK_PARALLEL_MIN	64	/* smaller batches: not worth a thread */
#define CHECK_THREADS_MAX	INGEST_SHARES_MAX

struct check_range {
	struct workq_job	 job;	/* first: the queue's handle on it */
	struct ingest_item	*v;
	size_t			 from, to;
	const struct rec_opts	*ro;
	struct jarena		*arena;	/* the share's trees: the batch's */
};

static struct workq *checkers;	/* NULL: the caller checks alone */

/*
 * The record's text parsed, with nothing but blanks after it: the
 * canonical text a client sends quickly, any other by cJSON.
 */
static int
parse_text(struct ingest_item *it)
{
	if ((it->json = jfast_parse(it->text, it->text_len, &it->seen)) !=
	    NULL) {
		it->fast = 1;
		return 0;
	}
	if ((it->json = jsplit_parse(it->text, it->text_len)) != NULL)
		return 0;
	it->not_json = 1;
	it->checked = PC_EUSAGE;
	return -1;
}

static void
check_range(struct workq_job *job)
{
	struct check_range *cr = (struct check_range *)job;
	size_t i;

	/* a tree parsed here lives as long as the batch, not longer */
	jarena_use(cr->arena);
	for (i = cr->from; i < cr->to; i++) {
		struct ingest_item *it = &cr->v[i];
		const cJSON *id;
		char given[UUID_LEN] = "";

		if (it->json == NULL && parse_text(it) != 0)
			continue;
		id = cJSON_GetObjectItemCaseSensitive(it->json, "id");
		if (cJSON_IsString(id) && strlen(id->valuestring) < UUID_LEN)
			memcpy(given, id->valuestring, strlen(id->valuestring));
		it->checked = it->fast ? rec_adopt_fast(it->json, &it->seen,
		    it->text, it->text_len, cr->ro, &it->rec, &it->errs) :
		    rec_adopt(it->json, cr->ro, &it->rec, &it->errs);
		it->json = NULL;
		/* a valid record's id was checked with it; another's, here */
		if (it->rec != NULL)
			memcpy(it->id, it->rec->id, sizeof(it->id));
		else if (uuid_valid(given))
			memcpy(it->id, given, sizeof(it->id));
	}
	jarena_use(NULL);
}

int
ingest_workers_start(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int want = (int)(cores < CHECK_THREADS_MAX ? cores : CHECK_THREADS_MAX)
	    - 1;

	if (checkers == NULL && want > 0 &&
	    workq_start(&checkers, want, "pcmdsd-check") != PC_OK)
		checkers = NULL;
	return workq_threads(checkers);
}

void
ingest_workers_stop(void)
{
	workq_stop(checkers);
	checkers = NULL;
}

/*
 * The batch in shares, one for this thread and one for each worker;
 * the shares no worker has started by the time this thread is done
 * with its own, it takes back.
 */
static void
check_all(struct ingest *in, const struct rec_opts *ro)
{
	struct ingest_item *v = in->v;
	size_t n = in->n;
	struct check_range cr[CHECK_THREADS_MAX];
	struct workq_group g = {0};
	size_t k, nt;

	nt = n < CHECK_PARALLEL_MIN ? 1 : (size_t)workq_threads(checkers) + 1;
	for (k = 0; k < nt; k++) {
		cr[k].job.run = check_range;
		cr[k].v = v;
		cr[k].from = n * k / nt;
		cr[k].to = n * (k + 1) / nt;
		cr[k].ro = ro;
		cr[k].arena = &in->arenas[k];
		if (k > 0)
			workq_put(checkers, &g, &cr[k].job);
	}
	check_range(&cr[0].job);
	if (nt > 1)
		workq_finish(checkers, &g);
}

static const char *
flag_name(int f)
{
	return f == 1 ? "true" : f == 0 ? "false" : "absent";
}

/* Its own entry for each stored change of consent to evaluation. */
static pc_rc
audit_consent(struct ingest *in, struct store *st, const char *actor,
    int64_t now)
{
	char obj[128], outcome[64];
	size_t i;
	pc_rc rc = PC_OK;

	for (i = 0; rc == PC_OK && i < in->n; i++) {
		const struct ingest_item *it = &in->v[i];

		if (it->status != MR_STORED || it->consent_to == -2 ||
		    it->consent_to == it->consent_from)
			continue;
		snprintf(obj, sizeof(obj), "referral %s, by correction %s",
		    it->consent_ref, it->id);
		snprintf(outcome, sizeof(outcome), "consent_evaluation %s -> "
		    "%s", flag_name(it->consent_from), flag_name(it->consent_to));
		rc = audit_log(st, now, actor, "consent.change", obj, outcome);
	}
	return rc;
}

static pc_rc
audit_batch(struct ingest *in, struct store *st, const struct store_auth *who,
    int64_t now)
{
	struct buf obj, outcome, recs;
	char actor[64];
	size_t i, n = 0;
	pc_rc rc = PC_OK;

	buf_init(&obj, 0);
	buf_init(&outcome, 0);
	buf_init(&recs, 0);
	snprintf(actor, sizeof(actor), "user:%lld", (long long)who->user.id);
	buf_addf(&obj, "device %s; stored", who->device);
	for (i = 0; rc == PC_OK && i < in->n; i++)
		if (in->v[i].status == MR_STORED) {
			/* no printf: a batch's worth of ids */
			buf_addc(&obj, ' ');
			buf_adds(&obj, in->v[i].id);
			/* what the entry commits to: id and content hash */
			if ((rc = buf_add(&recs, in->v[i].id, UUID_LEN - 1)) ==
			    PC_OK)
				rc = buf_add(&recs, in->v[i].digest,
				    SEC_SHA256_LEN);
			n++;
		}
	buf_addf(&outcome, "stored %ld, duplicate %ld, conflict %ld, rejected "
	    "%ld", in->count[MR_STORED], in->count[MR_DUPLICATE],
	    in->count[MR_CONFLICT], in->count[MR_REJECTED]);
	/* an audit entry never names part of what was stored */
	if (rc == PC_OK && (rc = buf_failed(&obj)) == PC_OK &&
	    (rc = buf_failed(&outcome)) == PC_OK)
		rc = audit_log_batch(st, now, in->audit_chain, in->audit_seq,
		    actor, buf_str(&obj), buf_str(&outcome), (uint8_t *)recs.p,
		    n);
	if (rc == PC_OK)
		rc = audit_consent(in, st, actor, now);
	buf_free(&obj);
	buf_free(&outcome);
	buf_free(&recs);
	return rc;
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The referrals and ids of the records that passed the checks, for
 * store_batch_lock(): referrals sorted and each once (the lock order).
 */
static pc_rc
lock_batch(struct ingest *in, struct store *st)
{
	const char **refs, **ids;
	size_t i, nr = 0, ni = 0, k;
	pc_rc rc;

	if ((refs = calloc(in->n ? in->n : 1, sizeof(*refs))) == NULL ||
	    (ids = calloc(in->n ? in->n : 1, sizeof(*ids))) == NULL) {
		free(refs);
		return PC_ENOMEM;
	}
	for (i = 0; i < in->n; i++)
		if (in->v[i].checked == PC_OK && in->v[i].rec != NULL) {
			refs[nr++] = in->v[i].rec->referral;
			ids[ni++] = in->v[i].rec->id;
		}
	qsort(refs, nr, sizeof(*refs), by_str);
	for (i = k = 0; i < nr; i++)
		if (k == 0 || strcmp(refs[k - 1], refs[i]) != 0)
			refs[k++] = refs[i];
	rc = store_batch_lock(st, refs, k, ids, ni);
	free(refs);
	free(ids);
	return rc;
}

static int
take_fact(void *arg, const char *referral, const void *blob, size_t len)
{
	struct ingest *in = arg;
	struct agg_step *a;

	if ((a = malloc(sizeof(*a))) == NULL)
		return 1;
	if (agg_step_init(a, blob, len) != PC_OK ||
	    map_put(&in->steps, referral, a) != PC_OK) {
		free(a);
		/* memory: its timeline serves as well */
	}
	return 0;
}

/*
 * The stored facts of the referrals whose follow-ups the batch brings,
 * in one go: all but those it records (new) or corrects (the records
 * decide a correction).
 */
static pc_rc
read_steps(struct ingest *in, struct store *st)
{
	struct map skip;
	const char **refs;
	size_t i, n = 0;
	pc_rc rc = PC_OK;

	map_init(&skip);
	for (i = 0; rc == PC_OK && i < in->n; i++) {
		const struct rec *r = in->v[i].rec;

		if (in->v[i].checked == PC_OK && r != NULL &&
		    (r->kind == KIND_REFERRAL || r->kind == KIND_CORRECTION))
			rc = map_put(&skip, r->referral, &skip);
	}
	if (rc != PC_OK || (refs = calloc(in->n ? in->n : 1,
	    sizeof(*refs))) == NULL) {
		map_free(&skip);
		return PC_ENOMEM;
	}
	for (i = 0; rc == PC_OK && i < in->n; i++) {
		const struct rec *r = in->v[i].rec;

		if (in->v[i].checked != PC_OK || r == NULL ||
		    map_get(&skip, r->referral) != NULL)
			continue;
		refs[n++] = r->referral;
		rc = map_put(&skip, r->referral, &skip);	/* once */
	}
	if (rc == PC_OK)
		rc = store_facts_of(st, refs, n, take_fact, in);
	free(refs);
	map_free(&skip);
	return rc;
}

/* The batch in in->v checked: a text that is not JSON stops it. */
static pc_rc
check_batch(struct ingest *in, const struct rec_opts *ro)
{
	size_t i;

	check_all(in, ro);
	for (i = 0; i < in->n; i++)
		if (in->v[i].not_json) {
			in->not_json = 1;
			return PC_EUSAGE;
		}
	return PC_OK;
}

pc_rc
ingest_store(struct ingest *in, struct store *st, const struct store_auth *who,
    const struct rec_opts *ro, int64_t now, ingest_hook hook, void *hook_arg)
{
	uint8_t last[SEC_SHA256_LEN];
	size_t i;
	pc_rc rc;

	if ((rc = store_begin(st)) != PC_OK)
		return rc;
	/* another server's batch on these referrals: after it, not beside */
	if ((rc = lock_batch(in, st)) != PC_OK)
		goto fail;
	/* the entry audit_batch() will write, which each record names */
	if ((rc = store_audit_last(st, &in->audit_chain, &in->audit_seq,
	    last)) != PC_OK)
		goto fail;
	in->audit_seq++;
	if ((rc = read_steps(in, st)) != PC_OK)
		goto fail;
	for (i = 0; i < in->n; i++) {
		struct ingest_item *it = &in->v[i];

		if ((rc = ingest_one(in, st, who, ro, now, it)) != PC_OK)
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
	return store_watermark(st, in->mark);
fail:
	store_rollback(st);
	return rc;
}

pc_rc
ingest_check(struct ingest *in, cJSON *records, const struct rec_opts *ro)
{
	cJSON *obj, *next;
	size_t n = (size_t)cJSON_GetArraySize(records);

	if ((in->v = calloc(n ? n : 1, sizeof(*in->v))) == NULL)
		return PC_ENOMEM;
	/* each record leaves the array: a stored one lives on in its timeline */
	for (obj = records->child; obj != NULL; obj = next) {
		next = obj->next;
		cJSON_DetachItemViaPointer(records, obj);
		err_init(&in->v[in->n].errs);
		in->v[in->n++].json = obj;
	}
	return check_batch(in, ro);
}

pc_rc
ingest_check_text(struct ingest *in, const struct jsplit_span *v, size_t n,
    const struct rec_opts *ro)
{
	if ((in->v = calloc(n ? n : 1, sizeof(*in->v))) == NULL)
		return PC_ENOMEM;
	for (; in->n < n; in->n++) {
		err_init(&in->v[in->n].errs);
		in->v[in->n].text = v[in->n].p;
		in->v[in->n].text_len = v[in->n].len;
	}
	return check_batch(in, ro);
}

pc_rc
ingest_run(struct ingest *in, struct store *st, const struct store_auth *who,
    cJSON *records, const struct rec_opts *ro, int64_t now,
    ingest_hook hook, void *hook_arg)
{
	pc_rc rc;

	if ((rc = ingest_check(in, records, ro)) != PC_OK)
		return rc;
	return ingest_store(in, st, who, ro, now, hook, hook_arg);
}

pc_rc
ingest_run_text(struct ingest *in, struct store *st,
    const struct store_auth *who, const struct jsplit_span *v, size_t n,
    const struct rec_opts *ro, int64_t now, ingest_hook hook, void *hook_arg)
{
	pc_rc rc;

	if ((rc = ingest_check_text(in, v, n, ro)) != PC_OK)
		return rc;
	return ingest_store(in, st, who, ro, now, hook, hook_arg);
}

/* Appends to an answer unless an earlier append failed: one check at the end. */
static void
put(struct buf *b, pc_rc *rc, const char *s)
{
	if (*rc == PC_OK)
		*rc = buf_adds(b, s);
}

static void
put_string(struct buf *b, pc_rc *rc, const char *s)
{
	if (*rc == PC_OK)
		*rc = canon_string(s, strlen(s), b);
}

static void
put_errors(struct buf *b, pc_rc *rc, const struct err_list *errs)
{
	size_t i;

	put(b, rc, ",\"errors\":[");
	for (i = 0; i < errs->n; i++) {
		put(b, rc, i ? ",{\"code\":" : "{\"code\":");
		put_string(b, rc, err_code_name(errs->v[i].code));
		put(b, rc, ",\"field\":");
		put_string(b, rc, errs->v[i].field);
		put(b, rc, ",\"message\":");
		put_string(b, rc, errs->v[i].msg);
		put(b, rc, "}");
	}
	put(b, rc, "]");
}

/* n in decimal, written back from end (its NUL): printf a result cost more. */
static const char *
decimal(size_t n, char *end)
{
	char *p = end;

	*--p = '\0';
	do
		*--p = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	return p;
}

/*
 * Written straight into text: building a cJSON tree of 500 results only
 * to print it cost more than storing them.
 */
pc_rc
ingest_answer(const struct ingest *in, struct buf *b)
{
	char num[64];
	pc_rc rc = PC_OK;
	size_t i;
	int k;

	put(b, &rc, "{\"results\":[");
	for (i = 0; i < in->n; i++) {
		const struct ingest_item *it = &in->v[i];

		put(b, &rc, i ? ",{\"index\":" : "{\"index\":");
		put(b, &rc, decimal(i, num + sizeof(num)));
		put(b, &rc, ",\"id\":");
		if (it->id[0] != '\0')
			put_string(b, &rc, it->id);
		else
			put(b, &rc, "null");
		put(b, &rc, ",\"status\":");
		put_string(b, &rc, status_names[it->status]);
		if (it->errs.n > 0)
			put_errors(b, &rc, &it->errs);
		put(b, &rc, "}");
	}
	put(b, &rc, "],\"summary\":{");
	for (k = 0; k < MR_N; k++) {
		snprintf(num, sizeof(num), "%s\"%s\":%ld", k ? "," : "",
		    status_names[k], in->count[k]);
		put(b, &rc, num);
	}
	put(b, &rc, "}");
	/* a position in the store's commits, for ?watermark= on any server */
	if (in->mark[0] != '\0') {
		put(b, &rc, ",\"watermark\":");
		put_string(b, &rc, in->mark);
	}
	put(b, &rc, "}");
	return rc;
}

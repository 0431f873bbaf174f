/*
 * audit.c - hash chain over the audit table.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "buf.h"
#include "canon.h"

void
audit_hash(const struct store_audit *a, uint8_t out[SEC_SHA256_LEN])
{
	cJSON *o = cJSON_CreateObject();
	struct buf b;

	cJSON_AddNumberToObject(o, "seq", (double)a->seq);
	cJSON_AddNumberToObject(o, "at", (double)a->at);
	cJSON_AddStringToObject(o, "actor", a->actor ? a->actor : "");
	cJSON_AddStringToObject(o, "action", a->action ? a->action : "");
	cJSON_AddStringToObject(o, "object", a->object ? a->object : "");
	cJSON_AddStringToObject(o, "outcome", a->outcome ? a->outcome : "");
	buf_init(&b, 0);
	buf_add(&b, a->prev, SEC_SHA256_LEN);
	canon_json(o, &b);
	sec_sha256(b.p, b.len, out);
	buf_free(&b);
	cJSON_Delete(o);
}

pc_rc
audit_log(struct store *st, int64_t now, const char *actor,
    const char *action, const char *object, const char *outcome)
{
	struct store_audit a;
	pc_rc rc;

	memset(&a, 0, sizeof(a));
	if ((rc = store_audit_last(st, &a.seq, a.prev)) != PC_OK)
		return rc;
	a.seq++;
	a.at = now;
	a.actor = actor;
	a.action = action;
	a.object = object;
	a.outcome = outcome;
	audit_hash(&a, a.hash);
	return store_audit_insert(st, &a);
}

pc_rc
audit_log_now(struct store *st, const char *actor, const char *action,
    const char *object, const char *outcome)
{
	pc_rc rc;

	if ((rc = store_begin(st)) != PC_OK)
		return rc;
	if ((rc = audit_log(st, (int64_t)time(NULL), actor, action, object,
	    outcome)) == PC_OK)
		rc = store_commit(st);
	if (rc != PC_OK)
		store_rollback(st);
	return rc;
}

struct walk {
	struct audit_report	*r;
	uint8_t			 prev[SEC_SHA256_LEN];
	int64_t			 expect;
};

static int
check_one(void *arg, const struct store_audit *a)
{
	struct walk *w = arg;
	uint8_t h[SEC_SHA256_LEN];

	w->r->entries++;
	if (a->seq != w->expect) {
		w->r->bad_seq = a->seq;
		snprintf(w->r->why, sizeof(w->r->why), "entry %lld follows "
		    "%lld: entries are missing", (long long)a->seq,
		    (long long)w->expect - 1);
		return 1;
	}
	if (memcmp(a->prev, w->prev, SEC_SHA256_LEN) != 0) {
		w->r->bad_seq = a->seq;
		snprintf(w->r->why, sizeof(w->r->why), "entry %lld does not "
		    "name the hash of the entry before it", (long long)a->seq);
		return 1;
	}
	audit_hash(a, h);
	if (memcmp(h, a->hash, SEC_SHA256_LEN) != 0) {
		w->r->bad_seq = a->seq;
		snprintf(w->r->why, sizeof(w->r->why), "entry %lld (%s %s by "
		    "%s) was changed after it was written", (long long)a->seq,
		    a->action, a->object, a->actor);
		return 1;
	}
	memcpy(w->prev, a->hash, SEC_SHA256_LEN);
	w->expect++;
	return 0;
}

pc_rc
audit_verify(struct store *st, struct audit_report *r)
{
	struct walk w;
	pc_rc rc;

	memset(r, 0, sizeof(*r));
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.expect = 1;
	if ((rc = store_audit_each(st, check_one, &w)) != PC_OK)
		return rc;
	sec_hex(w.prev, SEC_SHA256_LEN, r->head);
	return r->bad_seq ? PC_EINVAL : PC_OK;
}

/*
 * store.c - the store chosen at run time, and the calls of store.h
 * passed to its table of functions (store_impl.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

static const char *const role_names[ROLE_N] = {
	"link_worker", "place_lead", "evaluator",
};

/* What pcmdsd migrate copies, column by column, in both stores. */
const struct store_table_info store_tables[TABLE_N] = {
	[TABLE_META] = {"meta", 2, {"key", "value"}, "key"},
	[TABLE_PLACES] = {"places", 4, {"code", "name", "population",
	    "source"}, "code"},
	[TABLE_ASSETS] = {"assets", 7, {"place", "id", "name", "category",
	    "contact", "notes", "active"}, "place, id"},
	[TABLE_POPULATION] = {"population", 5, {"place", "tbl", "category",
	    "population", "source"}, "place, tbl, category"},
	[TABLE_USERS] = {"users", 8, {"id", "name", "role", "place", "pcn",
	    "worker", "created", "revoked"}, "id"},
	[TABLE_CREDS] = {"creds", 8, {"hash", "user_id", "kind", "device",
	    "created", "expires", "used", "revoked"}, "hash"},
	[TABLE_PASSWORDS] = {"passwords", 3, {"user_id", "hash", "set_at"},
	    "user_id"},
	[TABLE_OIDC_LINKS] = {"oidc_links", 4, {"issuer", "subject", "user_id",
	    "linked_at"}, "issuer, subject"},
	[TABLE_RECORDS] = {"records", 12, {"seq", "id", "referral", "kind",
	    "place", "worker", "hash", "json", "user_id", "received",
	    "audit_chain", "audit_seq"}, "seq"},
	[TABLE_AUDIT] = {"audit", 10, {"chain", "seq", "at", "actor",
	    "action", "object", "outcome", "prev", "hash", "records"},
	    "chain, seq"},
	[TABLE_FACTS] = {"facts", 5, {"referral", "place", "referred_on",
	    "exportable", "data"}, "referral"},
	[TABLE_TAKEUP] = {"takeup", 5, {"referral", "asset", "place",
	    "referred_on", "taken"}, "referral, asset"},
};

const char *
store_role_name(enum store_role r)
{
	return r < ROLE_N ? role_names[r] : "unknown";
}

enum store_role
store_role_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < ROLE_N; i++)
		if (strcmp(role_names[i], s) == 0)
			return (enum store_role)i;
	return ROLE_N;
}

int
store_is_pg(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 ||
	    strncmp(database, "postgres://", 11) == 0;
}

void
store_redact(const char *database, char *out, size_t len)
{
	const char *scheme = strstr(database, "://"), *at, *colon;
	const char *q = strstr(database, "password=");

	snprintf(out, len, "%s", database);
	if (!store_is_pg(database))
		return;
	/* scheme://user:password@host... */
	at = strchr(scheme + 3, '@');
	colon = strchr(scheme + 3, ':');
	if (at != NULL && colon != NULL && colon < at)
		snprintf(out, len, "%.*s:***%s", (int)(colon - database),
		    database, at);
	else if (q != NULL)	/* ...?password=... */
		snprintf(out, len, "%.*spassword=***", (int)(q - database),
		    database);
}

pc_rc
store_open(const char *database, struct store **out, struct err_list *errs)
{
	if (store_is_pg(database))
		return store_pg_open(database, out, errs);
	return store_sqlite_open(database, out, errs);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sec_wipe(st->audit_key, sizeof(st->audit_key));
	st->ops->close(st);
}

const char *
store_kind(const struct store *st)
{
	return st->ops->kind;
}

int
store_shared(const struct store *st)
{
	return st->ops->shared;
}

void
store_rollback(struct store *st)
{
	st->ops->rollback(st);
}

void
store_short_waits(struct store *st)
{
	st->ops->short_waits(st);
}

pc_rc
store_cache_size(struct store *st, int mib)
{
	return st->ops->cache_size(st, mib);
}

enum store_fault
store_fault(struct store *st, char *msg, size_t len)
{
	return st->ops->fault(st, msg, len);
}

pc_rc
store_population_clear(struct store *st, const char *place, const char *table)
{
	return st->ops->population_clear(st, place, table);
}

pc_rc
store_population_put(struct store *st, const struct store_population *p)
{
	return st->ops->population_put(st, p);
}

pc_rc
store_population_each(struct store *st,
    int (*cb)(void *, const struct store_population *), void *arg)
{
	return st->ops->population_each(st, cb, arg);
}

pc_rc
store_password_set(struct store *st, int64_t user, const char *stored,
    int64_t now)
{
	return st->ops->password_set(st, user, stored, now);
}

pc_rc
store_password_get(struct store *st, int64_t user, char *out, size_t len)
{
	return st->ops->password_get(st, user, out, len);
}

pc_rc
store_password_clear(struct store *st, int64_t user)
{
	return st->ops->password_clear(st, user);
}

pc_rc
store_oidc_link(struct store *st, int64_t user, const char *issuer,
    const char *subject, int64_t now)
{
	return st->ops->oidc_link(st, user, issuer, subject, now);
}

pc_rc
store_oidc_find(struct store *st, const char *issuer, const char *subject,
    int64_t *user)
{
	return st->ops->oidc_find(st, issuer, subject, user);
}

pc_rc
store_oidc_subject(struct store *st, int64_t user, const char *issuer,
    char *out, size_t len)
{
	return st->ops->oidc_subject(st, user, issuer, out, len);
}

pc_rc
store_oidc_unlink(struct store *st, int64_t user, const char *issuer)
{
	return st->ops->oidc_unlink(st, user, issuer);
}

pc_rc
store_asset_put(struct store *st, const struct store_asset *a)
{
	return st->ops->asset_put(st, a);
}

pc_rc
store_asset_retire(struct store *st, const char *place,
    const char *const *keep, size_t nkeep)
{
	return st->ops->asset_retire(st, place, keep, nkeep);
}

pc_rc
store_asset_known(struct store *st, const char *place, const char *id)
{
	return st->ops->asset_known(st, place, id);
}

pc_rc
store_asset_each(struct store *st, const char *place,
    int (*cb)(void *, const struct store_asset *), void *arg)
{
	return st->ops->asset_each(st, place, cb, arg);
}

int
store_covers(const struct store *st, const char *upto, const char *mark)
{
	return st->ops->covers(upto, mark);
}

pc_rc
store_export_next(struct store_cursor *c, struct store_export_ref *ref)
{
	return c->ops->export_next(c, ref);
}

void
store_texts_init(struct store_texts *t)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->text, 0);
}

void
store_texts_free(struct store_texts *t)
{
	buf_free(&t->text);
	free(t->off);
	free(t->len);
	free(t->ptr);
	free(t->ref);
	memset(t, 0, sizeof(*t));
}

void
store_texts_reset(struct store_texts *t)
{
	buf_reset(&t->text);
	t->ntext = 0;
	t->nref = 0;
}

/* Room for n more texts. */
static pc_rc
texts_room(struct store_texts *t, size_t n)
{
	size_t cap = t->textcap ? t->textcap : 16;
	void *p;

	while (cap - t->ntext < n)
		cap *= 2;
	if (cap == t->textcap)
		return PC_OK;
	if ((p = realloc(t->off, cap * sizeof(*t->off))) == NULL)
		return PC_ENOMEM;
	t->off = p;
	if ((p = realloc(t->len, cap * sizeof(*t->len))) == NULL)
		return PC_ENOMEM;
	t->len = p;
	if ((p = realloc(t->ptr, cap * sizeof(*t->ptr))) == NULL)
		return PC_ENOMEM;
	t->ptr = p;
	t->textcap = cap;
	return PC_OK;
}

pc_rc
store_texts_begin(struct store_texts *t, const char *referral)
{
	struct store_texts_ref *to;
	size_t cap;
	void *p;
	pc_rc rc;

	/* tables from the first, so that a referral's texts are somewhere */
	if ((rc = texts_room(t, 0)) != PC_OK)
		return rc;
	if (t->nref == t->refcap) {
		cap = t->refcap ? t->refcap * 2 : 16;
		if ((p = realloc(t->ref, cap * sizeof(*t->ref))) == NULL)
			return PC_ENOMEM;
		t->ref = p;
		t->refcap = cap;
	}
	to = &t->ref[t->nref++];
	snprintf(to->id, sizeof(to->id), "%s", referral);
	to->first = t->ntext;
	to->n = 0;
	return PC_OK;
}

/* One text into room already made. */
static void
texts_put(struct store_texts *t, const char *s, size_t len)
{
	t->off[t->ntext] = t->text.len;
	t->len[t->ntext] = len;
	buf_add(&t->text, s, len);
	buf_addc(&t->text, '\0');
	t->ntext++;
	t->ref[t->nref - 1].n++;
}

pc_rc
store_texts_add(struct store_texts *t, const char *s, size_t len)
{
	pc_rc rc;

	if (t->nref == 0)
		return PC_EUSAGE;
	if ((rc = texts_room(t, 1)) != PC_OK)
		return rc;
	texts_put(t, s, len);
	return buf_failed(&t->text);
}

pc_rc
store_texts_copy(struct store_texts *t, const struct store_export_ref *r)
{
	size_t i;
	pc_rc rc;

	if ((rc = texts_room(t, r->n)) != PC_OK ||
	    (rc = store_texts_begin(t, r->id)) != PC_OK)
		return rc;
	for (i = 0; i < r->n; i++)
		texts_put(t, r->text[i], r->len[i]);
	return buf_failed(&t->text);
}

pc_rc
store_texts_get(struct store_texts *t, size_t i, struct store_export_ref *out)
{
	const struct store_texts_ref *r;
	size_t k;

	if (i >= t->nref)
		return PC_EUSAGE;
	if (buf_failed(&t->text) != PC_OK)
		return PC_ENOMEM;
	r = &t->ref[i];
	/* the text may have moved as it grew: placed now it is whole */
	for (k = r->first; k < r->first + r->n; k++)
		t->ptr[k] = t->text.p + t->off[k];
	memcpy(out->id, r->id, sizeof(out->id));
	out->text = t->ptr + r->first;
	out->len = t->len + r->first;
	out->n = r->n;
	return PC_OK;
}

void
store_export_close(struct store_cursor *c)
{
	if (c != NULL)
		c->ops->export_close(c);
}

void
store_audit_key_set(struct store *st, const uint8_t key[SEC_SHA256_LEN])
{
	memcpy(st->audit_key, key, SEC_SHA256_LEN);
	st->has_audit_key = 1;
}

const uint8_t *
store_audit_key(const struct store *st)
{
	return st->has_audit_key ? st->audit_key : NULL;
}

/* -- the rest pass straight through ------------------------------------- */

pc_rc
store_background_checkpoints(struct store *st, struct err_list *errs)
{
	return st->ops->background_checkpoints(st, errs);
}

pc_rc
store_export_source(struct store *st, const char *database)
{
	return st->ops->export_source(st, database);
}

pc_rc
store_begin(struct store *st)
{
	return st->ops->begin(st);
}

pc_rc
store_commit(struct store *st)
{
	return st->ops->commit(st);
}

pc_rc
store_meta_get(struct store *st, const char *key, char *out, size_t len)
{
	return st->ops->meta_get(st, key, out, len);
}

pc_rc
store_meta_set(struct store *st, const char *key, const char *val)
{
	return st->ops->meta_set(st, key, val);
}

pc_rc
store_meta_del(struct store *st, const char *key)
{
	return st->ops->meta_del(st, key);
}

pc_rc
store_place_put(struct store *st, const struct store_place *p)
{
	return st->ops->place_put(st, p);
}

pc_rc
store_place_get(struct store *st, const char *code, struct store_place *p)
{
	return st->ops->place_get(st, code, p);
}

pc_rc
store_place_each(struct store *st, int (*cb)(void *,
    const struct store_place *), void *arg)
{
	return st->ops->place_each(st, cb, arg);
}

pc_rc
store_user_add(struct store *st, struct store_user *u)
{
	return st->ops->user_add(st, u);
}

pc_rc
store_user_get(struct store *st, int64_t id, struct store_user *u)
{
	return st->ops->user_get(st, id, u);
}

pc_rc
store_user_each(struct store *st, int (*cb)(void *,
    const struct store_user *), void *arg)
{
	return st->ops->user_each(st, cb, arg);
}

pc_rc
store_user_revoke(struct store *st, int64_t id, int64_t now)
{
	return st->ops->user_revoke(st, id, now);
}

pc_rc
store_cred_add(struct store *st, const uint8_t hash[SEC_SHA256_LEN],
    int64_t user, enum store_cred kind, const char *device, int64_t expires,
    int64_t now)
{
	return st->ops->cred_add(st, hash, user, kind, device, expires, now);
}

pc_rc
store_cred_take_code(struct store *st, const uint8_t hash[SEC_SHA256_LEN],
    int64_t now, int64_t *user)
{
	return st->ops->cred_take_code(st, hash, now, user);
}

pc_rc
store_cred_find(struct store *st, const uint8_t hash[SEC_SHA256_LEN],
    enum store_cred kind, int64_t now, struct store_auth *a)
{
	return st->ops->cred_find(st, hash, kind, now, a);
}

pc_rc
store_cred_revoke(struct store *st, const uint8_t hash[SEC_SHA256_LEN])
{
	return st->ops->cred_revoke(st, hash);
}

pc_rc
store_batch_lock(struct store *st, const char *const *referrals, size_t nref,
    const char *const *ids, size_t nids)
{
	return st->ops->batch_lock(st, referrals, nref, ids, nids);
}

pc_rc
store_record_hash(struct store *st, const char *id, char hash[SEC_HEX64_LEN])
{
	return st->ops->record_hash(st, id, hash);
}

pc_rc
store_record_put(struct store *st, const struct rec *r, int64_t user,
    int64_t now, int64_t audit_chain, int64_t audit_seq)
{
	return st->ops->record_put(st, r, user, now, audit_chain, audit_seq);
}

pc_rc
store_record_timeline(struct store *st, const char *referral,
    struct timeline *tl)
{
	return st->ops->record_timeline(st, referral, tl);
}

pc_rc
store_record_count(struct store *st, int64_t *n)
{
	return st->ops->record_count(st, n);
}

pc_rc
store_fact_put(struct store *st, const char *referral, const char *place,
    int32_t referred_on, int exportable, const void *blob, size_t len,
    int64_t *key)
{
	return st->ops->fact_put(st, referral, place, referred_on, exportable,
	    blob, len, key);
}

pc_rc
store_fact_each(struct store *st, int (*cb)(void *, int64_t, const void *,
    size_t), void *arg)
{
	return st->ops->fact_each(st, cb, arg);
}

pc_rc
store_fact_clear(struct store *st)
{
	return st->ops->fact_clear(st);
}

pc_rc
store_facts_of(struct store *st, const char *const *referrals, size_t n,
    int (*cb)(void *, const char *, const void *, size_t), void *arg)
{
	return n == 0 ? PC_OK : st->ops->facts_of(st, referrals, n, cb, arg);
}

pc_rc
store_takeup_put(struct store *st, const char *referral, int64_t key,
    const char *place, int32_t referred_on, const struct store_takeup *v,
    size_t n)
{
	return st->ops->takeup_put(st, referral, key, place, referred_on, v,
	    n);
}

pc_rc
store_takeup_add(struct store *st, const char *referral, int64_t key,
    const char *place, int32_t referred_on, const struct store_takeup *v,
    size_t n)
{
	return n == 0 ? PC_OK : st->ops->takeup_add(st, referral, key, place,
	    referred_on, v, n);
}

pc_rc
store_takeup_each(struct store *st, const char *place, int32_t from,
    int32_t to, int (*cb)(void *, const char *, int64_t,
    const struct store_takeup *), void *arg)
{
	return st->ops->takeup_each(st, place, from, to, cb, arg);
}

pc_rc
store_referral_each(struct store *st, int (*cb)(void *, const char *),
    void *arg)
{
	return st->ops->referral_each(st, cb, arg);
}

pc_rc
store_watermark(struct store *st, char mark[STORE_MARK_LEN])
{
	return st->ops->watermark(st, mark);
}

pc_rc
store_facts_since(struct store *st, const char *since,
    const char (*skip)[STORE_MARK_LEN], size_t nskip, int (*cb)(void *,
    int64_t, const void *, size_t), void *arg, char upto[STORE_SNAP_LEN])
{
	return st->ops->facts_since(st, since, skip, nskip, cb, arg, upto);
}

int
store_may_read(const struct store *st, const char *since, const char *mark)
{
	return st->ops->may_read(since, mark);
}

pc_rc
store_places_version(struct store *st, int64_t *v)
{
	return st->ops->places_version(st, v);
}

pc_rc
store_wait_change(struct store *st, int fd, int ms)
{
	return st->ops->wait_change(st, fd, ms);
}

pc_rc
store_rate(struct store *st, const char *key, double per_sec, double burst,
    double now, int take, double *wait)
{
	return st->ops->rate(st, key, per_sec, burst, now, take, wait);
}

pc_rc
store_export_open(struct store *st, const char *place, int32_t from,
    int32_t to, struct store_cursor **out)
{
	return st->ops->export_open(st, place, from, to, out);
}

pc_rc
store_audit_last(struct store *st, int64_t *chain, int64_t *seq,
    uint8_t hash[SEC_SHA256_LEN])
{
	return st->ops->audit_last(st, chain, seq, hash);
}

pc_rc
store_audit_insert(struct store *st, const struct store_audit *a)
{
	return st->ops->audit_insert(st, a);
}

pc_rc
store_audit_each(struct store *st, int (*cb)(void *,
    const struct store_audit *), void *arg)
{
	return st->ops->audit_each(st, cb, arg);
}

pc_rc
store_audit_heads(struct store *st, int (*cb)(void *, int64_t, int64_t,
    const uint8_t *), void *arg)
{
	return st->ops->audit_heads(st, cb, arg);
}

pc_rc
store_record_rows(struct store *st, enum store_rows which, int64_t chain,
    int64_t seq, int (*cb)(void *, const struct store_rec_row *), void *arg)
{
	return st->ops->record_rows(st, which, chain, seq, cb, arg);
}

pc_rc
store_record_row(struct store *st, const char *id, int (*cb)(void *,
    const struct store_rec_row *), void *arg)
{
	return st->ops->record_row(st, id, cb, arg);
}

pc_rc
store_copy_each(struct store *st, enum store_table t, int (*cb)(void *,
    const struct store_value *), void *arg)
{
	return st->ops->copy_each(st, t, cb, arg);
}

pc_rc
store_copy_put(struct store *st, enum store_table t,
    const struct store_value *v)
{
	return st->ops->copy_put(st, t, v);
}

pc_rc
store_copy_end(struct store *st, enum store_table t)
{
	return st->ops->copy_end(st, t);
}

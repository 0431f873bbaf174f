/*
 * audit.c - the keyed hash chain over the audit table, and its check.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "buf.h"
#include "canon.h"

#define SEAL_ACTION	"audit.seal"
#define SEAL_FORMAT	"unkeyed entries to %" SCNd64 " (head %64[0-9a-f]); " \
	"unkeyed records %" SCNd64 " (sha256 %64[0-9a-f], last row %" SCNd64 \
	")"
#define HEADS_MAX	16

pc_rc
audit_hash(const struct store_audit *a, const uint8_t *key,
    uint8_t out[SEC_SHA256_LEN])
{
	cJSON *o = cJSON_CreateObject();
	char hex[SEC_HEX64_LEN];
	struct buf b;
	pc_rc rc = PC_ENOMEM;

	memset(out, 0, SEC_SHA256_LEN);
	buf_init(&b, 0);
	if (o == NULL ||
	    cJSON_AddNumberToObject(o, "seq", (double)a->seq) == NULL ||
	    cJSON_AddNumberToObject(o, "at", (double)a->at) == NULL ||
	    cJSON_AddStringToObject(o, "actor", a->actor ? a->actor : "") ==
	    NULL ||
	    cJSON_AddStringToObject(o, "action", a->action ? a->action : "") ==
	    NULL ||
	    cJSON_AddStringToObject(o, "object", a->object ? a->object : "") ==
	    NULL ||
	    cJSON_AddStringToObject(o, "outcome", a->outcome ? a->outcome :
	    "") == NULL)
		goto out;
	if (a->records_len > 0) {
		sec_sha256_hex(a->records, a->records_len, hex);
		if (cJSON_AddStringToObject(o, "records", hex) == NULL)
			goto out;
	}
	if ((rc = buf_add(&b, a->prev, SEC_SHA256_LEN)) != PC_OK ||
	    (rc = canon_json(o, &b)) != PC_OK ||
	    (rc = buf_failed(&b)) != PC_OK)
		goto out;
	if (key == NULL)
		sec_sha256(b.p, b.len, out);
	else
		rc = sec_hmac_sha256(key, SEC_SHA256_LEN, b.p, b.len, out);
out:
	buf_free(&b);
	cJSON_Delete(o);
	return rc;
}

/* Appends a (seq 0: the next), keyed; inside a transaction. */
static pc_rc
append(struct store *st, struct store_audit *a)
{
	const uint8_t *key = store_audit_key(st);
	int64_t last;
	pc_rc rc;

	if (key == NULL)
		return PC_EAUTH;	/* never an entry anyone could forge */
	if ((rc = store_audit_last(st, &last, a->prev)) != PC_OK)
		return rc;
	if (a->seq != 0 && a->seq != last + 1)
		return PC_ESTORE;	/* the batch's records name another */
	a->seq = last + 1;
	if ((rc = audit_hash(a, key, a->hash)) != PC_OK)
		return rc;
	return store_audit_insert(st, a);
}

pc_rc
audit_log(struct store *st, int64_t now, const char *actor,
    const char *action, const char *object, const char *outcome)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.at = now;
	a.actor = actor;
	a.action = action;
	a.object = object;
	a.outcome = outcome;
	return append(st, &a);
}

static int
by_id(const void *x, const void *y)
{
	return memcmp(x, y, UUID_LEN - 1);
}

pc_rc
audit_log_batch(struct store *st, int64_t now, int64_t seq, const char *actor,
    const char *object, const char *outcome, uint8_t *recs, size_t n)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	if (n > 0)
		qsort(recs, n, AUDIT_REC_LEN, by_id);
	a.seq = seq;
	a.at = now;
	a.actor = actor;
	a.action = "records.ingest";
	a.object = object;
	a.outcome = outcome;
	a.records = recs;
	a.records_len = n * AUDIT_REC_LEN;
	return append(st, &a);
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

pc_rc
audit_head(struct store *st, char out[AUDIT_HEAD_LEN])
{
	uint8_t h[SEC_SHA256_LEN];
	char hex[SEC_HEX64_LEN];
	int64_t seq;
	pc_rc rc;

	if ((rc = store_audit_last(st, &seq, h)) != PC_OK)
		return rc;
	sec_hex(h, sizeof(h), hex);
	snprintf(out, AUDIT_HEAD_LEN, "%" PRId64 ":%s", seq, hex);
	return PC_OK;
}

/* The records from before the keyed chain, hashed in id order. */
struct unkeyed {
	struct sec_sha256 h;
	int64_t		 n, lastrow, after;	/* after: rows past this */
	struct err_list	*problems;
	int64_t		 seal;
};

static int
unkeyed_one(void *arg, const struct store_rec_row *row)
{
	struct unkeyed *u = arg;
	uint8_t d[SEC_SHA256_LEN];

	sec_sha256(row->json, row->len, d);
	sec_sha256_add(&u->h, row->id, strlen(row->id));
	sec_sha256_add(&u->h, d, sizeof(d));
	u->n++;
	if (row->rowid > u->lastrow)
		u->lastrow = row->rowid;
	if (u->problems != NULL && row->rowid > u->after)
		err_add(u->problems, E_RULE, "", "record %s was inserted "
		    "outside pcmdsd: it names no audit entry, and came after "
		    "the seal (entry %" PRId64 ")", row->id, u->seal);
	return 0;
}

static pc_rc
unkeyed_digest(struct store *st, struct unkeyed *u, uint8_t d[SEC_SHA256_LEN])
{
	pc_rc rc;

	if ((rc = sec_sha256_begin(&u->h)) != PC_OK)
		return rc;
	rc = store_record_rows(st, ROWS_UNKEYED, 0, unkeyed_one, u);
	if (rc != PC_OK) {
		(void)sec_sha256_end(&u->h, d);
		return rc;
	}
	return sec_sha256_end(&u->h, d);
}

/* The seal: the first keyed entry, naming what came before it. */
static pc_rc
seal(struct store *st, struct err_list *errs)
{
	struct unkeyed u;
	uint8_t h[SEC_SHA256_LEN], d[SEC_SHA256_LEN];
	char hh[SEC_HEX64_LEN], dh[SEC_HEX64_LEN], obj[320], v[32];
	int64_t last;
	pc_rc rc;

	if ((rc = store_begin(st)) != PC_OK)
		return rc;
	memset(&u, 0, sizeof(u));
	if ((rc = store_meta_get(st, "audit_unsealed", v, sizeof(v))) ==
	    PC_ENOTFOUND) {
		store_rollback(st);	/* another process sealed it */
		return PC_OK;
	}
	if (rc == PC_OK && (rc = store_audit_last(st, &last, h)) == PC_OK &&
	    (rc = unkeyed_digest(st, &u, d)) == PC_OK) {
		sec_hex(h, sizeof(h), hh);
		sec_hex(d, sizeof(d), dh);
		snprintf(obj, sizeof(obj), "unkeyed entries to %" PRId64
		    " (head %s); unkeyed records %" PRId64 " (sha256 %s, last "
		    "row %" PRId64 ")", last, hh, u.n, dh, u.lastrow);
		if ((rc = audit_log(st, (int64_t)time(NULL), "pcmdsd",
		    SEAL_ACTION, obj, "ok")) == PC_OK &&
		    (rc = store_meta_del(st, "audit_unsealed")) == PC_OK)
			rc = store_commit(st);
	}
	if (rc != PC_OK) {
		store_rollback(st);
		err_add(errs, E_SYSTEM, "audit", "cannot seal the audit log "
		    "for its keyed chain: %s", pc_strerror(rc));
	}
	return rc;
}

pc_rc
audit_open(struct store *st, const struct secret *s, struct err_list *errs)
{
	uint8_t k[SEC_SHA256_LEN];
	char v[32];
	pc_rc rc;

	if ((rc = secret_derive(s, SECRET_AUDIT, k)) != PC_OK) {
		err_add(errs, E_SYSTEM, "audit", "cannot derive the audit key");
		return rc;
	}
	store_audit_key_set(st, k);
	sec_wipe(k, sizeof(k));
	if (store_meta_get(st, "audit_unsealed", v, sizeof(v)) != PC_OK)
		return PC_OK;
	return seal(st, errs);
}

/* What the walk over the chain knows so far. */
struct head {
	int64_t		 seq;
	uint8_t		 hash[SEC_SHA256_LEN];
	int		 found;
};

struct walk {
	struct store		*st;
	const uint8_t		*key;
	struct audit_report	*r;
	uint8_t			 prev[SEC_SHA256_LEN];
	int64_t			 expect;
	int			 keyed;		/* a keyed entry was seen */
	pc_rc			 failed;	/* the walk itself failed */
	struct {
		int	 have;
		int64_t	 seq, to, nrec, lastrow;
		uint8_t	 head[SEC_SHA256_LEN], digest[SEC_SHA256_LEN];
	} seal;
	struct head		 heads[HEADS_MAX];
	size_t			 nheads;
};

static void broken(struct walk *, int64_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* The chain breaks at entry seq: said first, and the walk stops. */
static void
broken(struct walk *w, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	w->r->bad_seq = seq;
	va_start(ap, fmt);
	err_vadd(&w->r->problems, E_RULE, "", fmt, ap);
	va_end(ap);
}

/* The seal's own account of what it sealed. */
static int
read_seal(struct walk *w, const struct store_audit *a)
{
	char hh[SEC_HEX64_LEN], dh[SEC_HEX64_LEN];

	if (strcmp(a->action, SEAL_ACTION) != 0 || sscanf(a->object,
	    SEAL_FORMAT, &w->seal.to, hh, &w->seal.nrec, dh,
	    &w->seal.lastrow) != 5 || sec_unhex(hh, w->seal.head,
	    SEC_SHA256_LEN) != 0 || sec_unhex(dh, w->seal.digest,
	    SEC_SHA256_LEN) != 0)
		return -1;
	w->seal.have = 1;
	w->seal.seq = a->seq;
	return 0;
}

/* The stored records of one batch entry against the records table. */
struct merge {
	struct walk		*w;
	const struct store_audit *a;
	size_t			 n, i;
	char			*matched;
};

static const uint8_t *
item(const struct store_audit *a, size_t i)
{
	return a->records + i * AUDIT_REC_LEN;
}

static void
edited(struct merge *m, const char *id)
{
	err_add(&m->w->r->problems, E_RULE, "", "record %s, stored by entry "
	    "%" PRId64 ", was edited: its content is not what was stored",
	    id, m->a->seq);
}

static int
merge_one(void *arg, const struct store_rec_row *row)
{
	struct merge *m = arg;
	uint8_t d[SEC_SHA256_LEN];
	int c = 1;

	while (m->i < m->n && (c = memcmp(item(m->a, m->i), row->id,
	    UUID_LEN - 1)) < 0)
		m->i++;		/* not among this entry's rows: see after */
	if (m->i == m->n || c != 0 || strlen(row->id) != UUID_LEN - 1) {
		err_add(&m->w->r->problems, E_RULE, "", "record %s was "
		    "inserted outside pcmdsd: it names entry %" PRId64 ", which "
		    "did not store it", row->id, m->a->seq);
		return 0;
	}
	m->matched[m->i] = 1;
	sec_sha256(row->json, row->len, d);
	if (memcmp(d, item(m->a, m->i) + UUID_LEN - 1, SEC_SHA256_LEN) != 0 ||
	    row->hash == NULL || memcmp(row->hash, d, SEC_SHA256_LEN) != 0)
		edited(m, row->id);
	m->i++;
	return 0;
}

static int
moved(void *arg, const struct store_rec_row *row)
{
	struct merge *m = arg;

	err_add(&m->w->r->problems, E_RULE, "", "record %s, stored by entry "
	    "%" PRId64 ", was edited: it now names entry %" PRId64, row->id,
	    m->a->seq, row->audit_seq);
	return 0;
}

static pc_rc
check_batch(struct walk *w, const struct store_audit *a)
{
	struct merge m = {w, a, a->records_len / AUDIT_REC_LEN, 0, NULL};
	char id[UUID_LEN];
	size_t i;
	pc_rc rc;

	if (a->records_len % AUDIT_REC_LEN != 0)
		return PC_EPROTO;
	if ((m.matched = calloc(m.n ? m.n : 1, 1)) == NULL)
		return PC_ENOMEM;
	rc = store_record_rows(w->st, ROWS_OF_ENTRY, a->seq, merge_one, &m);
	for (i = 0; rc == PC_OK && i < m.n; i++) {
		if (m.matched[i])
			continue;
		memcpy(id, item(a, i), UUID_LEN - 1);
		id[UUID_LEN - 1] = '\0';
		if ((rc = store_record_row(w->st, id, moved, &m)) ==
		    PC_ENOTFOUND) {
			err_add(&w->r->problems, E_RULE, "", "record %s, stored "
			    "by entry %" PRId64 ", was deleted", id, a->seq);
			rc = PC_OK;
		}
	}
	w->r->records += (int64_t)m.n;
	free(m.matched);
	return rc;
}

/*
 * The entry's hash, keyed or (before the seal) not; -1: neither, -2:
 * no memory to tell.
 */
static int
which_hash(const struct walk *w, const struct store_audit *a)
{
	uint8_t h[SEC_SHA256_LEN];

	if (w->key != NULL) {
		if (audit_hash(a, w->key, h) != PC_OK)
			return -2;
		if (memcmp(h, a->hash, SEC_SHA256_LEN) == 0)
			return 1;
	}
	if (audit_hash(a, NULL, h) != PC_OK)
		return -2;
	return memcmp(h, a->hash, SEC_SHA256_LEN) == 0 && a->records_len == 0 ?
	    0 : -1;
}

static int
check_keyed(struct walk *w, const struct store_audit *a)
{
	if (w->keyed++)
		return 0;
	/* the first keyed entry is the seal, naming all that came before */
	if (read_seal(w, a) != 0 || w->seal.to != a->seq - 1 ||
	    w->seal.to != w->r->unkeyed || memcmp(w->seal.head, a->prev,
	    SEC_SHA256_LEN) != 0) {
		broken(w, a->seq, "entry %" PRId64 ", the first keyed one, is "
		    "not the seal of the entries before it", a->seq);
		return 1;
	}
	w->r->sealed_at = a->seq;
	return 0;
}

static int
check_one(void *arg, const struct store_audit *a)
{
	struct walk *w = arg;
	size_t i;
	int k;

	w->r->entries++;
	if (a->seq != w->expect) {
		broken(w, a->seq, "entry %" PRId64 " follows %" PRId64 ": "
		    "entries are missing", a->seq, w->expect - 1);
		return 1;
	}
	if (memcmp(a->prev, w->prev, SEC_SHA256_LEN) != 0) {
		broken(w, a->seq, "entry %" PRId64 " does not name the hash of "
		    "the entry before it", a->seq);
		return 1;
	}
	if ((k = which_hash(w, a)) == -2) {
		w->failed = PC_ENOMEM;	/* not verified: never "broken" */
		return 1;
	}
	if (k < 0) {
		broken(w, a->seq, "entry %" PRId64 " (%s %.60s by %s) was "
		    "changed after it was written, or written without the server "
		    "secret", a->seq, a->action, a->object, a->actor);
		return 1;
	}
	if (k == 0 && w->keyed) {
		broken(w, a->seq, "entry %" PRId64 " (%s) is not keyed though "
		    "the keyed chain had begun: it was written without the server "
		    "secret", a->seq, a->action);
		return 1;
	}
	if (k == 0)
		w->r->unkeyed++;
	else if (check_keyed(w, a) != 0)
		return 1;
	for (i = 0; i < w->nheads; i++)
		if (w->heads[i].seq == a->seq)
			w->heads[i].found = 1 + (memcmp(w->heads[i].hash, a->hash,
			    SEC_SHA256_LEN) != 0);
	if (a->records_len > 0 && check_batch(w, a) != PC_OK) {
		broken(w, a->seq, "entry %" PRId64 ": its records could not be "
		    "checked", a->seq);
		return 1;
	}
	memcpy(w->prev, a->hash, SEC_SHA256_LEN);
	w->expect++;
	return 0;
}

static pc_rc
parse_heads(struct walk *w, const char *const *heads, size_t n)
{
	char hex[SEC_HEX64_LEN + 1];
	int64_t seq;
	int end = 0;
	size_t i;

	if (n > HEADS_MAX)
		return PC_EUSAGE;
	for (i = 0; i < n; i++) {
		if (sscanf(heads[i], "%" SCNd64 ":%64[0-9a-f]%n", &seq, hex,
		    &end) != 2 || heads[i][end] != '\0' || seq < 1 ||
		    sec_unhex(hex, w->heads[i].hash, SEC_SHA256_LEN) != 0)
			return PC_EUSAGE;
		w->heads[i].seq = seq;
	}
	w->nheads = n;
	return PC_OK;
}

/* Records naming an entry that stored none, said once per entry. */
struct unclaimed {
	struct walk	*w;
	int64_t		 seq, n;
	char		 first[UUID_LEN];
};

static void
unclaimed_say(struct unclaimed *c)
{
	if (c->n == 0)
		return;
	err_add(&c->w->r->problems, E_RULE, "", "%" PRId64 " record%s (%s%s) "
	    "name%s audit entry %" PRId64 ", which stored no records: the "
	    "entry was removed, or the records inserted outside pcmdsd", c->n,
	    c->n == 1 ? "" : "s", c->n == 1 ? "" : "the first ", c->first,
	    c->n == 1 ? "s" : "", c->seq);
	c->n = 0;
}

static int
unclaimed_one(void *arg, const struct store_rec_row *row)
{
	struct unclaimed *c = arg;

	if (c->n > 0 && row->audit_seq != c->seq)
		unclaimed_say(c);
	if (c->n++ == 0) {
		c->seq = row->audit_seq;
		snprintf(c->first, sizeof(c->first), "%s", row->id);
	}
	return 0;
}

/* Records before the seal must be as sealed; none may name no entry. */
static pc_rc
check_records(struct walk *w)
{
	struct unclaimed c;
	struct unkeyed u;
	uint8_t d[SEC_SHA256_LEN];
	pc_rc rc;

	memset(&c, 0, sizeof(c));
	c.w = w;
	rc = store_record_rows(w->st, ROWS_UNCLAIMED, 0, unclaimed_one, &c);
	unclaimed_say(&c);
	if (rc != PC_OK || !w->seal.have)
		return rc;
	memset(&u, 0, sizeof(u));
	u.problems = &w->r->problems;
	u.after = w->seal.lastrow;
	u.seal = w->seal.seq;
	if ((rc = unkeyed_digest(w->st, &u, d)) != PC_OK)
		return rc;
	w->r->records += u.n;
	if (u.n != w->seal.nrec || memcmp(d, w->seal.digest, sizeof(d)) != 0)
		err_add(&w->r->problems, E_RULE, "", "the records stored before "
		    "the keyed log changed after its seal (entry %" PRId64 "): "
		    "%" PRId64 " then, %" PRId64 " now; one was edited, inserted "
		    "or deleted", w->seal.seq, w->seal.nrec, u.n);
	return PC_OK;
}

static void
check_heads(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nheads; i++) {
		if (w->heads[i].found == 1)
			continue;
		if (w->heads[i].found == 2)
			err_add(&w->r->problems, E_RULE, "", "entry %" PRId64 " is "
			    "not the one recorded as a head: the log was rewritten "
			    "from there or before", w->heads[i].seq);
		else if (w->heads[i].seq >= w->expect && !w->r->bad_seq)
			err_add(&w->r->problems, E_RULE, "", "the log ends at "
			    "entry %" PRId64 ", but entry %" PRId64 " was recorded "
			    "as its head: entries were removed from its end",
			    w->expect - 1, w->heads[i].seq);
	}
}

pc_rc
audit_verify(struct store *st, const char *const *heads, size_t nheads,
    struct audit_report *r)
{
	struct walk *w;
	char hex[SEC_HEX64_LEN];
	pc_rc rc;

	memset(r, 0, sizeof(*r));
	err_init(&r->problems);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PC_ENOMEM;
	w->st = st;
	w->key = store_audit_key(st);
	w->r = r;
	w->expect = 1;
	if ((rc = parse_heads(w, heads, nheads)) == PC_OK &&
	    (rc = store_audit_each(st, check_one, w)) == PC_OK &&
	    (rc = w->failed) == PC_OK) {
		/* what the chain says first, then the records, then heads */
		if (r->entries == 0)
			err_add(&r->problems, E_RULE, "", "the audit log is "
			    "empty, though it always holds its seal at least: "
			    "every entry was removed");
		else if (!w->keyed && !r->bad_seq)
			err_add(&r->problems, E_RULE, "", "no entry is keyed: "
			    "anyone with the database could have written them all");
		check_heads(w);
		rc = check_records(w);
	}
	if (rc == PC_OK) {
		sec_hex(w->prev, SEC_SHA256_LEN, hex);
		snprintf(r->head, sizeof(r->head), "%" PRId64 ":%s",
		    w->expect - 1, hex);
		rc = err_count(&r->problems) > 0 ? PC_EINVAL : PC_OK;
	}
	free(w);
	return rc;
}

void
audit_report_free(struct audit_report *r)
{
	err_free(&r->problems);
}

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
	/* chain 0 hashes as before chains were, so old logs still verify */
	if (o == NULL || (a->chain != 0 && cJSON_AddNumberToObject(o, "chain",
	    (double)a->chain) == NULL) ||
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

/*
 * Appends a (seq 0: the next) to this connection's chain, keyed; inside
 * a transaction.
 */
static pc_rc
append(struct store *st, struct store_audit *a)
{
	const uint8_t *key = store_audit_key(st);
	int64_t chain, last;
	pc_rc rc;

	if (key == NULL)
		return PC_EAUTH;	/* never an entry anyone could forge */
	if ((rc = store_audit_last(st, &chain, &last, a->prev)) != PC_OK)
		return rc;
	if (a->seq != 0 && (a->seq != last + 1 || a->chain != chain))
		return PC_ESTORE;	/* the batch's records name another */
	a->chain = chain;
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
audit_log_batch(struct store *st, int64_t now, int64_t chain, int64_t seq,
    const char *actor, const char *object, const char *outcome,
    uint8_t *recs, size_t n)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	if (n > 0)
		qsort(recs, n, AUDIT_REC_LEN, by_id);
	a.chain = chain;
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

void
audit_head_text(int64_t chain, int64_t seq, const uint8_t h[SEC_SHA256_LEN],
    char out[AUDIT_HEAD_LEN])
{
	char hex[SEC_HEX64_LEN];

	sec_hex(h, SEC_SHA256_LEN, hex);
	if (chain == 0)
		snprintf(out, AUDIT_HEAD_LEN, "%" PRId64 ":%s", seq, hex);
	else
		snprintf(out, AUDIT_HEAD_LEN, "%" PRId64 "/%" PRId64 ":%s",
		    chain, seq, hex);
}

struct heads_cb {
	void	(*cb)(void *, const char *);
	void	*arg;
};

static int
head_one(void *arg, int64_t chain, int64_t seq, const uint8_t *h)
{
	struct heads_cb *c = arg;
	char text[AUDIT_HEAD_LEN];

	audit_head_text(chain, seq, h, text);
	c->cb(c->arg, text);
	return 0;
}

pc_rc
audit_heads(struct store *st, void (*cb)(void *, const char *head), void *arg)
{
	struct heads_cb c = {cb, arg};

	return store_audit_heads(st, head_one, &c);
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
	rc = store_record_rows(st, ROWS_UNKEYED, 0, 0, unkeyed_one, u);
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
	int64_t chain, last;
	pc_rc rc;

	if ((rc = store_begin(st)) != PC_OK)
		return rc;
	memset(&u, 0, sizeof(u));
	if ((rc = store_meta_get(st, "audit_unsealed", v, sizeof(v))) ==
	    PC_ENOTFOUND) {
		store_rollback(st);	/* another process sealed it */
		return PC_OK;
	}
	if (rc == PC_OK && (rc = store_audit_last(st, &chain, &last, h)) ==
	    PC_OK && (rc = unkeyed_digest(st, &u, d)) == PC_OK) {
		sec_hex(h, sizeof(h), hh);
		sec_hex(d, sizeof(d), dh);
		snprintf(obj, sizeof(obj), "unkeyed entries to %" PRId64
		    " (head %s); unkeyed records %" PRId64 " (sha256 %s, last "
		    "row %" PRId64 ")", last, hh, u.n, dh, u.lastrow);
		/* whoever deletes the mark seals: a racing server waits */
		if ((rc = store_meta_del(st, "audit_unsealed")) ==
		    PC_ENOTFOUND) {
			store_rollback(st);
			return PC_OK;
		}
		if (rc == PC_OK && (rc = audit_log(st, (int64_t)time(NULL),
		    "pcmdsd", SEAL_ACTION, obj, "ok")) == PC_OK)
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

/* An entry's name in messages: "57", or "3/57" in chain 3. */
struct ename {
	char	 s[48];
};

static struct ename
ename(int64_t chain, int64_t seq)
{
	struct ename e;

	if (chain == 0)
		snprintf(e.s, sizeof(e.s), "%" PRId64, seq);
	else
		snprintf(e.s, sizeof(e.s), "%" PRId64 "/%" PRId64, chain, seq);
	return e;
}

/* A head given to verify, and whether the walk met it. */
struct head {
	int64_t		 chain, seq;
	uint8_t		 hash[SEC_SHA256_LEN];
	int		 found;		/* 1 as given, 2 another hash there */
};

/* What the walk over the chains knows so far. */
struct walk {
	struct store		*st;
	const uint8_t		*key;
	struct audit_report	*r;
	/* the chain being walked */
	int64_t			 chain;
	int			 started;	/* an entry has been seen */
	uint8_t			 prev[SEC_SHA256_LEN];
	int64_t			 expect;
	int			 keyed;		/* a keyed entry in this chain */
	int			 skip;		/* this chain broke: skip it */
	/* the whole log */
	int64_t			 chain0;	/* entries in chain 0 */
	int			 any_keyed;
	pc_rc			 failed;	/* the walk itself failed */
	struct {
		int	 have;
		int64_t	 chain, seq, to, nrec, lastrow;
		uint8_t	 head[SEC_SHA256_LEN], digest[SEC_SHA256_LEN];
	} seal;
	struct head		 heads[HEADS_MAX];
	size_t			 nheads;
};

static void broken(struct walk *, const struct store_audit *, const char *,
    ...) __attribute__((format(printf, 3, 4)));

/* The chain breaks at entry a: said, and the rest of its chain skipped. */
static void
broken(struct walk *w, const struct store_audit *a, const char *fmt, ...)
{
	va_list ap;

	if (!w->r->bad_seq) {
		w->r->bad_chain = a->chain;
		w->r->bad_seq = a->seq;
	}
	w->skip = 1;
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
	w->seal.chain = a->chain;
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
	    "%s, was edited: its content is not what was stored", id,
	    ename(m->a->chain, m->a->seq).s);
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
		    "inserted outside pcmdsd: it names entry %s, which did not "
		    "store it", row->id, ename(m->a->chain, m->a->seq).s);
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
	    "%s, was edited: it now names entry %s", row->id,
	    ename(m->a->chain, m->a->seq).s,
	    ename(row->audit_chain, row->audit_seq).s);
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
	rc = store_record_rows(w->st, ROWS_OF_ENTRY, a->chain, a->seq,
	    merge_one, &m);
	for (i = 0; rc == PC_OK && i < m.n; i++) {
		if (m.matched[i])
			continue;
		memcpy(id, item(a, i), UUID_LEN - 1);
		id[UUID_LEN - 1] = '\0';
		if ((rc = store_record_row(w->st, id, moved, &m)) ==
		    PC_ENOTFOUND) {
			err_add(&w->r->problems, E_RULE, "", "record %s, stored "
			    "by entry %s, was deleted", id,
			    ename(a->chain, a->seq).s);
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

/*
 * The seal is the first keyed entry of chain 0, naming all that came
 * before it; a PostgreSQL database made new has an empty chain 0, and
 * its seal (of nothing) is entry 1 of the chain that wrote it.
 */
static int
check_keyed(struct walk *w, const struct store_audit *a)
{
	int first = !w->keyed++;
	int want = a->chain == 0 ? first : a->seq == 1 && w->chain0 == 0 &&
	    !w->seal.have && strcmp(a->action, SEAL_ACTION) == 0;

	w->any_keyed = 1;
	if (!want) {
		if (strcmp(a->action, SEAL_ACTION) != 0)
			return 0;
		broken(w, a, "entry %s is a second seal of the audit log",
		    ename(a->chain, a->seq).s);
		return 1;
	}
	if (read_seal(w, a) != 0 || w->seal.to != a->seq - 1 ||
	    w->seal.to != w->r->unkeyed || memcmp(w->seal.head, a->prev,
	    SEC_SHA256_LEN) != 0) {
		w->seal.have = 0;
		broken(w, a, "entry %s, the first keyed one, is not the seal of "
		    "the entries before it", ename(a->chain, a->seq).s);
		return 1;
	}
	w->r->sealed_at = a->seq;
	return 0;
}

/* A chain is done: the heads given for it that it did not reach. */
static void
chain_end(struct walk *w)
{
	char text[AUDIT_HEAD_LEN];
	size_t i;

	if (!w->started)
		return;
	for (i = 0; i < w->nheads; i++) {
		struct head *h = &w->heads[i];

		if (h->chain != w->chain || h->found)
			continue;
		h->found = 3;	/* said here, or the chain broke before */
		if (!w->skip && h->seq >= w->expect)
			err_add(&w->r->problems, E_RULE, "", "the log ends at "
			    "entry %s, but entry %s was recorded as its head: "
			    "entries were removed from its end",
			    ename(w->chain, w->expect - 1).s,
			    ename(h->chain, h->seq).s);
	}
	if (!w->skip && w->expect > 1) {
		audit_head_text(w->chain, w->expect - 1, w->prev, text);
		buf_addf(&w->r->heads, "%s%s", w->r->heads.len ? " " : "",
		    text);
	}
	if (w->chain == 0)
		w->chain0 = w->expect - 1;
}

static void
chain_start(struct walk *w, int64_t chain)
{
	chain_end(w);
	w->started = 1;
	w->chain = chain;
	w->expect = 1;
	memset(w->prev, 0, sizeof(w->prev));
	w->keyed = 0;
	w->skip = 0;
	w->r->chains++;
}

static int
check_one(void *arg, const struct store_audit *a)
{
	struct walk *w = arg;
	size_t i;
	int k;

	if (!w->started || a->chain != w->chain)
		chain_start(w, a->chain);
	/* a head is compared even past a break: it may say more */
	for (i = 0; i < w->nheads; i++)
		if (w->heads[i].chain == a->chain && w->heads[i].seq == a->seq)
			w->heads[i].found = 1 + (memcmp(w->heads[i].hash, a->hash,
			    SEC_SHA256_LEN) != 0);
	if (w->skip)
		return 0;
	w->r->entries++;
	if (a->seq != w->expect) {
		broken(w, a, "entry %s follows %s: entries are missing",
		    ename(a->chain, a->seq).s, ename(a->chain,
		    w->expect - 1).s);
		return 0;
	}
	if (memcmp(a->prev, w->prev, SEC_SHA256_LEN) != 0) {
		broken(w, a, "entry %s does not name the hash of the entry "
		    "before it", ename(a->chain, a->seq).s);
		return 0;
	}
	if ((k = which_hash(w, a)) == -2) {
		w->failed = PC_ENOMEM;	/* not verified: never "broken" */
		return 1;
	}
	if (k < 0) {
		broken(w, a, "entry %s (%s %.60s by %s) was changed after it was "
		    "written, or written without the server secret",
		    ename(a->chain, a->seq).s, a->action, a->object, a->actor);
		return 0;
	}
	if (k == 0 && a->chain != 0) {
		w->r->unkeyed++;
		broken(w, a, "entry %s (%s) is not keyed, though every chain but "
		    "chain 0 is keyed from its first entry: it was written "
		    "without the server secret", ename(a->chain, a->seq).s,
		    a->action);
		return 0;
	}
	if (k == 0 && w->keyed) {
		broken(w, a, "entry %s (%s) is not keyed though the keyed chain "
		    "had begun: it was written without the server secret",
		    ename(a->chain, a->seq).s, a->action);
		return 0;
	}
	if (k == 0)
		w->r->unkeyed++;
	else if (check_keyed(w, a) != 0)
		return 0;
	if (a->records_len > 0 && check_batch(w, a) != PC_OK) {
		broken(w, a, "entry %s: its records could not be checked",
		    ename(a->chain, a->seq).s);
		return 0;
	}
	memcpy(w->prev, a->hash, SEC_SHA256_LEN);
	w->expect++;
	return 0;
}

/* "SEQ:HEX" (chain 0) or "CHAIN/SEQ:HEX". */
static int
parse_head(const char *s, struct head *h)
{
	char hex[SEC_HEX64_LEN + 1];
	int end = 0;

	memset(h, 0, sizeof(*h));
	if (sscanf(s, "%" SCNd64 "/%" SCNd64 ":%64[0-9a-f]%n", &h->chain,
	    &h->seq, hex, &end) != 3 || s[end] != '\0') {
		h->chain = 0;
		end = 0;
		if (sscanf(s, "%" SCNd64 ":%64[0-9a-f]%n", &h->seq, hex,
		    &end) != 2 || s[end] != '\0')
			return -1;
	}
	if (h->chain < 0 || h->seq < 1 || sec_unhex(hex, h->hash,
	    SEC_SHA256_LEN) != 0)
		return -1;
	return 0;
}

static pc_rc
parse_heads(struct walk *w, const char *const *heads, size_t n)
{
	size_t i;

	if (n > HEADS_MAX)
		return PC_EUSAGE;
	for (i = 0; i < n; i++)
		if (parse_head(heads[i], &w->heads[i]) != 0)
			return PC_EUSAGE;
	w->nheads = n;
	return PC_OK;
}

/* Records naming an entry that stored none, said once per entry. */
struct unclaimed {
	struct walk	*w;
	int64_t		 chain, seq, n;
	char		 first[UUID_LEN];
};

static void
unclaimed_say(struct unclaimed *c)
{
	if (c->n == 0)
		return;
	err_add(&c->w->r->problems, E_RULE, "", "%" PRId64 " record%s (%s%s) "
	    "name%s audit entry %s, which stored no records: the entry was "
	    "removed, or the records inserted outside pcmdsd", c->n,
	    c->n == 1 ? "" : "s", c->n == 1 ? "" : "the first ", c->first,
	    c->n == 1 ? "s" : "", ename(c->chain, c->seq).s);
	c->n = 0;
}

static int
unclaimed_one(void *arg, const struct store_rec_row *row)
{
	struct unclaimed *c = arg;

	if (c->n > 0 && (row->audit_seq != c->seq ||
	    row->audit_chain != c->chain))
		unclaimed_say(c);
	if (c->n++ == 0) {
		c->chain = row->audit_chain;
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
	rc = store_record_rows(w->st, ROWS_UNCLAIMED, 0, 0, unclaimed_one,
	    &c);
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
		    "the keyed log changed after its seal (entry %s): %" PRId64
		    " then, %" PRId64 " now; one was edited, inserted or "
		    "deleted", ename(w->seal.chain, w->seal.seq).s,
		    w->seal.nrec, u.n);
	return PC_OK;
}

/* Heads the walk met with another hash, or whose chain it never met. */
static void
check_heads(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nheads; i++) {
		const struct head *h = &w->heads[i];

		if (h->found == 2)
			err_add(&w->r->problems, E_RULE, "", "entry %s is not the "
			    "one recorded as a head: the log was rewritten from "
			    "there or before", ename(h->chain, h->seq).s);
		else if (h->found == 0)
			err_add(&w->r->problems, E_RULE, "", "entry %s was "
			    "recorded as a head, but chain %" PRId64 " has no "
			    "entries: they were all removed",
			    ename(h->chain, h->seq).s, h->chain);
	}
}

pc_rc
audit_verify(struct store *st, const char *const *heads, size_t nheads,
    struct audit_report *r)
{
	struct walk *w;
	pc_rc rc;

	memset(r, 0, sizeof(*r));
	err_init(&r->problems);
	buf_init(&r->heads, 0);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PC_ENOMEM;
	w->st = st;
	w->key = store_audit_key(st);
	w->r = r;
	if ((rc = parse_heads(w, heads, nheads)) == PC_OK &&
	    (rc = store_audit_each(st, check_one, w)) == PC_OK &&
	    (rc = w->failed) == PC_OK) {
		chain_end(w);
		/* what the chains say first, then the records, then heads */
		if (r->entries == 0 && !r->bad_seq)
			err_add(&r->problems, E_RULE, "", "the audit log is "
			    "empty, though it always holds its seal at least: "
			    "every entry was removed");
		else if (!w->any_keyed && r->unkeyed > 0)
			err_add(&r->problems, E_RULE, "", "no entry is keyed: "
			    "anyone with the database could have written them all");
		else if (!w->seal.have && !r->bad_seq)
			err_add(&r->problems, E_RULE, "", "the audit log has no "
			    "seal (its first keyed entry): it was removed");
		check_heads(w);
		rc = check_records(w);
	}
	if (rc == PC_OK)
		rc = err_count(&r->problems) > 0 ? PC_EINVAL : PC_OK;
	free(w);
	return rc;
}

void
audit_report_free(struct audit_report *r)
{
	err_free(&r->problems);
	buf_free(&r->heads);
}

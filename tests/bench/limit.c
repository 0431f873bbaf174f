/*
 * limit.c - bare SQLite on the server's own rows (limit.h).
 */
#include <sys/resource.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "harness.h"
#include "limit.h"
#include "map.h"

/* A value as SQLite gave it: text or blob, NUL-ended, owned. */
struct val {
	char	*p;
	int	 len;
};

struct lrec {
	struct val	 id, referral, kind, place, worker, hash, json;
	int64_t		 user, received, audit_seq;
};

struct laudit {
	int64_t		 seq, at;
	struct val	 actor, action, object, outcome, prev, hash, records;
};

struct lfact {
	struct val	 referral, place, data;
	int		 referred_on, exportable;
	size_t		 seen;		/* last batch touching it, + 1 */
};

struct lbatch {
	size_t	 rec, nrec;		/* records [rec, rec + nrec) */
	size_t	 aud, naud;		/* audit entries */
	size_t	 fact, nfact;		/* touch[fact, fact + nfact) */
};

struct limit {
	char		**schema;
	size_t		  nschema;
	struct lrec	 *r;
	size_t		  nr;
	struct laudit	 *a;
	size_t		  na;
	struct lfact	 *f;
	size_t		  nf;
	size_t		 *touch;	/* fact indices, batch by batch */
	struct lbatch	 *b;
	size_t		  nb;
};

/* The server's own statements (server/store_sqlite.c). */
static const char sql_record[] = "INSERT INTO records(id, referral, kind, "
    "place, worker, hash, json, user_id, received, audit_seq) VALUES "
    "(?,?,?,?,?,?,?,?,?,?)";
static const char sql_audit[] = "INSERT INTO audit(seq, at, actor, action, "
    "object, outcome, prev, hash, records) VALUES (?,?,?,?,?,?,?,?,?)";
static const char sql_fact[] = "INSERT INTO facts(referral, place, "
    "referred_on, exportable, data) VALUES (?,?,?,?,?) ON CONFLICT(referral) "
    "DO UPDATE SET exportable = excluded.exportable, data = excluded.data "
    "WHERE place = excluded.place AND referred_on = excluded.referred_on";
/* a fact stored by an earlier batch, by its key, as the server has it */
static const char sql_fact_set[] = "UPDATE facts SET exportable = ?4, data = "
    "?5 WHERE k = ?6 AND referral = ?1 AND place = ?2 AND referred_on = ?3";
static const char sql_export_place[] = "SELECT referral FROM facts WHERE "
    "place = ?1 AND referred_on BETWEEN ?2 AND ?3 AND exportable = 1 "
    "ORDER BY referred_on, referral";
static const char sql_export_all[] = "SELECT referral FROM facts WHERE "
    "referred_on BETWEEN ?2 AND ?3 AND exportable = 1 ORDER BY place, "
    "referred_on, referral";
static const char sql_timeline[] = "SELECT json FROM records WHERE referral = "
    "? ORDER BY seq";

static void
check(sqlite3 *db, int rc, int want, const char *what)
{
	if (rc != want)
		fail_msg("limit: %s: %s (%d)", what, sqlite3_errmsg(db), rc);
}

static void *
grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 1024;
	if ((v = realloc(v, *cap * size)) == NULL)
		fail_msg("limit: out of memory");
	return v;
}

static struct val
col(sqlite3_stmt *s, int i)
{
	struct val v = {NULL, sqlite3_column_bytes(s, i)};
	const void *p = sqlite3_column_type(s, i) == SQLITE_BLOB ?
	    sqlite3_column_blob(s, i) : (const void *)sqlite3_column_text(s, i);

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return v;
	if ((v.p = malloc((size_t)v.len + 1)) == NULL)
		fail_msg("limit: out of memory");
	memcpy(v.p, p, (size_t)v.len);
	v.p[v.len] = '\0';
	return v;
}

static sqlite3_stmt *
prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;

	check(db, sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK, sql);
	return s;
}

static void
load_schema(struct limit *l, sqlite3 *db)
{
	sqlite3_stmt *s = prep(db, "SELECT sql FROM sqlite_master WHERE sql IS "
	    "NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid");
	size_t cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		l->schema = grow(l->schema, l->nschema, &cap, sizeof(char *));
		l->schema[l->nschema++] = col(s, 0).p;
	}
	check(db, rc, SQLITE_DONE, "reading the schema");
	sqlite3_finalize(s);
}

static void
load_facts(struct limit *l, sqlite3 *db, struct map *by)
{
	sqlite3_stmt *s = prep(db, "SELECT referral, place, referred_on, "
	    "exportable, data FROM facts");
	size_t cap = 0, i;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct lfact *f;

		l->f = grow(l->f, l->nf, &cap, sizeof(*l->f));
		f = &l->f[l->nf++];
		f->referral = col(s, 0);
		f->place = col(s, 1);
		f->referred_on = sqlite3_column_int(s, 2);
		f->exportable = sqlite3_column_int(s, 3);
		f->data = col(s, 4);
		f->seen = 0;
	}
	check(db, rc, SQLITE_DONE, "reading facts");
	sqlite3_finalize(s);
	for (i = 0; i < l->nf; i++)	/* l->f moves no more */
		if (map_put(by, l->f[i].referral.p, &l->f[i]) != PC_OK)
			fail_msg("limit: out of memory");
}

/* Records of batches (those naming an audit entry), batch by batch. */
static void
load_records(struct limit *l, sqlite3 *db, struct map *facts)
{
	sqlite3_stmt *s = prep(db, "SELECT id, referral, kind, place, worker, "
	    "hash, json, user_id, received, audit_seq FROM records WHERE "
	    "audit_seq IS NOT NULL ORDER BY seq");
	size_t cap = 0, bcap = 0, tcap = 0, ntouch = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct lrec *r;
		struct lfact *f;
		struct lbatch *b;

		l->r = grow(l->r, l->nr, &cap, sizeof(*l->r));
		r = &l->r[l->nr];
		r->id = col(s, 0);
		r->referral = col(s, 1);
		r->kind = col(s, 2);
		r->place = col(s, 3);
		r->worker = col(s, 4);
		r->hash = col(s, 5);
		r->json = col(s, 6);
		r->user = sqlite3_column_int64(s, 7);
		r->received = sqlite3_column_int64(s, 8);
		r->audit_seq = sqlite3_column_int64(s, 9);
		if (l->nb == 0 || l->r[l->b[l->nb - 1].rec].audit_seq !=
		    r->audit_seq) {
			l->b = grow(l->b, l->nb, &bcap, sizeof(*l->b));
			b = &l->b[l->nb++];
			memset(b, 0, sizeof(*b));
			b->rec = l->nr;
			b->fact = ntouch;
		}
		b = &l->b[l->nb - 1];
		b->nrec++;
		l->nr++;
		/* the batch brings its referral's fact up to date, once */
		if ((f = map_get(facts, r->referral.p)) == NULL)
			fail_msg("limit: record %s has no fact", r->id.p);
		if (f->seen != l->nb) {
			f->seen = l->nb;
			l->touch = grow(l->touch, ntouch, &tcap,
			    sizeof(*l->touch));
			l->touch[ntouch++] = (size_t)(f - l->f);
			b->nfact++;
		}
	}
	check(db, rc, SQLITE_DONE, "reading records");
	sqlite3_finalize(s);
}

/* Each entry from the first batch's on goes with the batch before it. */
static void
load_audit(struct limit *l, sqlite3 *db)
{
	sqlite3_stmt *s;
	size_t cap = 0, b = 0;
	int rc;

	if (l->nb == 0)
		return;
	s = prep(db, "SELECT seq, at, actor, action, object, outcome, prev, "
	    "hash, records FROM audit WHERE seq >= ? ORDER BY seq");
	sqlite3_bind_int64(s, 1, l->r[l->b[0].rec].audit_seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct laudit *a;

		l->a = grow(l->a, l->na, &cap, sizeof(*l->a));
		a = &l->a[l->na];
		a->seq = sqlite3_column_int64(s, 0);
		a->at = sqlite3_column_int64(s, 1);
		a->actor = col(s, 2);
		a->action = col(s, 3);
		a->object = col(s, 4);
		a->outcome = col(s, 5);
		a->prev = col(s, 6);
		a->hash = col(s, 7);
		a->records = col(s, 8);
		while (b + 1 < l->nb && l->r[l->b[b + 1].rec].audit_seq <=
		    a->seq)
			b++;
		if (l->b[b].naud++ == 0)
			l->b[b].aud = l->na;
		l->na++;
	}
	check(db, rc, SQLITE_DONE, "reading the audit log");
	sqlite3_finalize(s);
}

struct limit *
limit_load(const char *path)
{
	struct limit *l = calloc(1, sizeof(*l));
	struct map facts;
	sqlite3 *db;

	if (l == NULL)
		fail_msg("limit: out of memory");
	map_init(&facts);
	check(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK, path);
	sqlite3_busy_timeout(db, 10000);
	check(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK,
	    "BEGIN");
	load_schema(l, db);
	load_facts(l, db, &facts);
	load_records(l, db, &facts);
	load_audit(l, db);
	check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK,
	    "COMMIT");
	sqlite3_close(db);
	map_free(&facts);
	return l;
}

static void
val_free(struct val *v)
{
	free(v->p);
}

void
limit_free(struct limit *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nschema; i++)
		free(l->schema[i]);
	for (i = 0; i < l->nr; i++) {
		val_free(&l->r[i].id);
		val_free(&l->r[i].referral);
		val_free(&l->r[i].kind);
		val_free(&l->r[i].place);
		val_free(&l->r[i].worker);
		val_free(&l->r[i].hash);
		val_free(&l->r[i].json);
	}
	for (i = 0; i < l->na; i++) {
		val_free(&l->a[i].actor);
		val_free(&l->a[i].action);
		val_free(&l->a[i].object);
		val_free(&l->a[i].outcome);
		val_free(&l->a[i].prev);
		val_free(&l->a[i].hash);
		val_free(&l->a[i].records);
	}
	for (i = 0; i < l->nf; i++) {
		val_free(&l->f[i].referral);
		val_free(&l->f[i].place);
		val_free(&l->f[i].data);
	}
	free(l->schema);
	free(l->r);
	free(l->a);
	free(l->f);
	free(l->touch);
	free(l->b);
	free(l);
}

void
limit_counts(const struct limit *l, size_t *records, size_t *batches,
    size_t *facts, size_t *audit)
{
	size_t i;

	*records = l->nr;
	*batches = l->nb;
	*audit = l->na;
	for (i = *facts = 0; i < l->nb; i++)
		*facts += l->b[i].nfact;
}

/* -- checkpoints on a thread, as the server has them ---------------------- */

#define CKPT_PAGES	10000	/* the server's threshold */

struct ckpt {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 due, stop;
	sqlite3		*db;
	/* the writer's turn, as the server's writers take theirs */
	pthread_mutex_t	 turn;
};

static int
ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct ckpt *c = arg;

	(void)db;
	(void)name;
	if (pages >= CKPT_PAGES) {
		pthread_mutex_lock(&c->mu);
		c->due = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static void *
ckpt_main(void *arg)
{
	struct ckpt *c = arg;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		if (!c->due) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		c->due = 0;
		pthread_mutex_unlock(&c->mu);
		/* then, as the server does, the frames appended meanwhile
		   with the writer waiting: the next commit starts the WAL
		   again */
		sqlite3_wal_checkpoint_v2(c->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->turn);
		sqlite3_wal_checkpoint_v2(c->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		/* what the commits before asked for is done, as there */
		pthread_mutex_lock(&c->mu);
		c->due = 0;
		pthread_mutex_unlock(&c->turn);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void
bind_val(sqlite3 *db, sqlite3_stmt *s, int i, const struct val *v, int blob)
{
	int rc = v->p == NULL ? sqlite3_bind_null(s, i) : blob ?
	    sqlite3_bind_blob(s, i, v->p, v->len, SQLITE_STATIC) :
	    sqlite3_bind_text(s, i, v->p, v->len, SQLITE_STATIC);

	check(db, rc, SQLITE_OK, "bind");
}

static void
step(sqlite3 *db, sqlite3_stmt *s, const char *what)
{
	check(db, sqlite3_step(s), SQLITE_DONE, what);
	check(db, sqlite3_reset(s), SQLITE_OK, what);
}

static void
exec(sqlite3 *db, const char *sql)
{
	check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, sql);
}

/*
 * A fact: the first batch that touches it inserts it (the key it gets
 * kept in *key), the later ones rewrite it by that key.
 */
static void
put_fact(sqlite3 *db, sqlite3_stmt *fs, sqlite3_stmt *ss,
    const struct lfact *f, int64_t *key)
{
	sqlite3_stmt *s = *key > 0 ? ss : fs;

	bind_val(db, s, 1, &f->referral, 0);
	bind_val(db, s, 2, &f->place, 0);
	check(db, sqlite3_bind_int(s, 3, f->referred_on), SQLITE_OK, "bind");
	check(db, sqlite3_bind_int(s, 4, f->exportable), SQLITE_OK, "bind");
	bind_val(db, s, 5, &f->data, 1);
	if (*key > 0)
		check(db, sqlite3_bind_int64(s, 6, *key), SQLITE_OK, "bind");
	step(db, s, "storing a fact");
	if (sqlite3_changes(db) != 1)
		fail_msg("limit: fact %s not stored", f->referral.p);
	if (*key == 0 && (*key = sqlite3_last_insert_rowid(db)) <= 0)
		fail_msg("limit: fact %s has no key", f->referral.p);
}

static void
insert_batch(const struct limit *l, const struct lbatch *b, sqlite3 *db,
    sqlite3_stmt *rs, sqlite3_stmt *as, sqlite3_stmt *fs, sqlite3_stmt *ss,
    int64_t *keys, struct ckpt *c)
{
	size_t i;

	pthread_mutex_lock(&c->turn);
	exec(db, "BEGIN IMMEDIATE");
	for (i = b->rec; i < b->rec + b->nrec; i++) {
		const struct lrec *r = &l->r[i];

		bind_val(db, rs, 1, &r->id, 0);
		bind_val(db, rs, 2, &r->referral, 0);
		bind_val(db, rs, 3, &r->kind, 0);
		bind_val(db, rs, 4, &r->place, 0);
		bind_val(db, rs, 5, &r->worker, 0);
		bind_val(db, rs, 6, &r->hash, 1);
		bind_val(db, rs, 7, &r->json, 0);
		check(db, sqlite3_bind_int64(rs, 8, r->user), SQLITE_OK, "bind");
		check(db, sqlite3_bind_int64(rs, 9, r->received), SQLITE_OK,
		    "bind");
		check(db, sqlite3_bind_int64(rs, 10, r->audit_seq), SQLITE_OK,
		    "bind");
		step(db, rs, "inserting a record");
	}
	for (i = b->aud; i < b->aud + b->naud; i++) {
		const struct laudit *a = &l->a[i];

		check(db, sqlite3_bind_int64(as, 1, a->seq), SQLITE_OK, "bind");
		check(db, sqlite3_bind_int64(as, 2, a->at), SQLITE_OK, "bind");
		bind_val(db, as, 3, &a->actor, 0);
		bind_val(db, as, 4, &a->action, 0);
		bind_val(db, as, 5, &a->object, 0);
		bind_val(db, as, 6, &a->outcome, 0);
		bind_val(db, as, 7, &a->prev, 1);
		bind_val(db, as, 8, &a->hash, 1);
		bind_val(db, as, 9, &a->records, 1);
		step(db, as, "inserting an audit entry");
	}
	for (i = b->fact; i < b->fact + b->nfact; i++)
		put_fact(db, fs, ss, &l->f[l->touch[i]], &keys[l->touch[i]]);
	exec(db, "COMMIT");
	pthread_mutex_unlock(&c->turn);
}

static double
tv(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

double
limit_insert(const struct limit *l, const char *dir, double *cpu)
{
	struct rusage r0, r1;
	char path[700];
	struct ckpt c;
	sqlite3 *db;
	sqlite3_stmt *rs, *as, *fs, *ss;
	int64_t *keys;
	double t0, t;
	size_t i;

	snprintf(path, sizeof(path), "%s/limit.db", dir);
	check(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL), SQLITE_OK, path);
	/* as the server opens its store (cache_size: its default setting) */
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384;"
	    "PRAGMA temp_store=MEMORY;");
	for (i = 0; i < l->nschema; i++)
		exec(db, l->schema[i]);
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	pthread_mutex_init(&c.turn, NULL);
	check(NULL, sqlite3_open_v2(path, &c.db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL), SQLITE_OK, path);
	exec(c.db, "PRAGMA synchronous=FULL");
	if (pthread_create(&c.th, NULL, ckpt_main, &c) != 0)
		fail_msg("limit: no thread for checkpoints");
	sqlite3_wal_hook(db, ckpt_hook, &c);
	rs = prep(db, sql_record);
	as = prep(db, sql_audit);
	fs = prep(db, sql_fact);
	ss = prep(db, sql_fact_set);
	if ((keys = calloc(l->nf ? l->nf : 1, sizeof(*keys))) == NULL)
		fail_msg("limit: out of memory");
	getrusage(RUSAGE_SELF, &r0);
	t0 = th_now();
	for (i = 0; i < l->nb; i++)
		insert_batch(l, &l->b[i], db, rs, as, fs, ss, keys, &c);
	t = th_now() - t0;
	pthread_mutex_lock(&c.mu);
	c.stop = 1;
	pthread_cond_signal(&c.cv);
	pthread_mutex_unlock(&c.mu);
	pthread_join(c.th, NULL);
	getrusage(RUSAGE_SELF, &r1);
	*cpu = tv(&r1.ru_utime) - tv(&r0.ru_utime) + tv(&r1.ru_stime) -
	    tv(&r0.ru_stime);
	sqlite3_finalize(rs);
	sqlite3_finalize(as);
	sqlite3_finalize(fs);
	sqlite3_finalize(ss);
	free(keys);
	check(c.db, sqlite3_close(c.db), SQLITE_OK, "close");
	check(db, sqlite3_close(db), SQLITE_OK, "close");
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.turn);
	return t;
}

double
limit_export_read(const char *path, const char *place, long *rows)
{
	sqlite3 *db;
	sqlite3_stmt *refs, *recs;
	double t0 = th_now();
	size_t bytes = 0;
	int rc, rr;

	*rows = 0;
	check(NULL, sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL), SQLITE_OK, path);
	exec(db, "BEGIN");
	refs = prep(db, place != NULL ? sql_export_place : sql_export_all);
	recs = prep(db, sql_timeline);
	if (place != NULL)
		check(db, sqlite3_bind_text(refs, 1, place, -1, SQLITE_STATIC),
		    SQLITE_OK, "bind");
	check(db, sqlite3_bind_int(refs, 2, INT32_MIN), SQLITE_OK, "bind");
	check(db, sqlite3_bind_int(refs, 3, INT32_MAX), SQLITE_OK, "bind");
	while ((rc = sqlite3_step(refs)) == SQLITE_ROW) {
		check(db, sqlite3_bind_text(recs, 1, (const char *)
		    sqlite3_column_text(refs, 0), -1, SQLITE_STATIC), SQLITE_OK,
		    "bind");
		while ((rr = sqlite3_step(recs)) == SQLITE_ROW) {
			/* the text itself, as the export must have it */
			bytes += strlen((const char *)sqlite3_column_text(recs,
			    0));
			(*rows)++;
		}
		check(db, rr, SQLITE_DONE, "reading a referral's records");
		check(db, sqlite3_reset(recs), SQLITE_OK, "reset");
	}
	check(db, rc, SQLITE_DONE, "reading exportable referrals");
	sqlite3_finalize(refs);
	sqlite3_finalize(recs);
	exec(db, "COMMIT");
	check(db, sqlite3_close(db), SQLITE_OK, "close");
	if (bytes == 0 && *rows > 0)
		fail_msg("limit: empty records read");
	return th_now() - t0;
}

/*
 * pglimit.c - bare PostgreSQL on the servers' own rows (pglimit.h).
 */
#include <sys/resource.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "bench.h"
#include "map.h"
#include "pglimit.h"

/* A fact as stored: its parameters for the upsert, ready. */
struct pfact {
	char	*referral, *place;
	char	 on[16], exp[8];
	uint8_t	*data;
	size_t	 len;
	size_t	 seen;		/* last batch touching it, + 1 */
	int	 made;		/* its referral row is written */
};

/* One commit of a server, in COPY text (as read, escaped). */
struct pbatch {
	struct buf	 recs, refs, audit;
	size_t		 nrec, nref, naud;
	size_t		*facts;		/* indices into f */
	size_t		 nfact, capfact;
	int		 place;		/* its records' (bench_places) */
};

struct pglimit {
	struct pbatch	*b;
	size_t		 nb, capb;
	struct pfact	*f;
	size_t		 nf;
	size_t		 nr, na;
};

/* The server's own statements (server/store_pg.c). */
static const char copy_records[] = "COPY records(id, referral, kind, place, "
    "worker, hash, json, user_id, received, audit_chain, audit_seq) FROM "
    "STDIN";
static const char copy_audit[] = "COPY audit(chain, seq, at, actor, action, "
    "object, outcome, prev, hash, records) FROM STDIN";
static const char copy_refs[] = "COPY referrals(id) FROM STDIN";
static const char fact_head[] = "INSERT INTO facts(referral, place, "
    "referred_on, exportable, data) VALUES ";
static const char fact_tail[] = " ON CONFLICT (referral) DO UPDATE SET "
    "place = excluded.place, referred_on = excluded.referred_on, exportable "
    "= excluded.exportable, data = excluded.data, xid = pg_current_xact_id()";

static PGconn *
connect_to(const char *uri)
{
	PGconn *c = PQconnectdb(uri);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("pglimit: cannot connect to %s: %s", uri,
		    PQerrorMessage(c));
	return c;
}

static void
exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("pglimit: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

static void *
grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 1024;
	if ((v = realloc(v, *cap * size)) == NULL)
		fail_msg("pglimit: out of memory");
	return v;
}

static char *
dup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		fail_msg("pglimit: out of memory");
	return d;
}

/*
 * COPY (sql) TO STDOUT, each line to fn with its fields split at the
 * tabs (fields stay COPY-escaped; line is the whole, newline included).
 */
static void
copy_out(PGconn *c, const char *sql, void (*fn)(void *, const char *line,
    int len, char **f, int nf), void *arg)
{
	struct buf q;
	PGresult *r;
	char *line, *f[16], *p;
	int len, nf;

	buf_init(&q, 0);
	buf_addf(&q, "COPY (%s) TO STDOUT", sql);
	r = PQexec(c, buf_str(&q));
	if (PQresultStatus(r) != PGRES_COPY_OUT)
		fail_msg("pglimit: %s: %s", buf_str(&q), PQerrorMessage(c));
	PQclear(r);
	while ((len = PQgetCopyData(c, &line, 0)) > 0) {
		char *split = malloc((size_t)len + 1);

		if (split == NULL)
			fail_msg("pglimit: out of memory");
		memcpy(split, line, (size_t)len);
		split[len - 1] = '\0';		/* the newline */
		for (nf = 0, p = split; nf < 16; nf++) {
			f[nf] = p;
			if ((p = strchr(p, '\t')) == NULL) {
				nf++;
				break;
			}
			*p++ = '\0';
		}
		fn(arg, line, len, f, nf);
		free(split);
		PQfreemem(line);
	}
	if (len != -1)
		fail_msg("pglimit: reading %s: %s", sql, PQerrorMessage(c));
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fail_msg("pglimit: %s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	}
	buf_free(&q);
}

/* -- loading ------------------------------------------------------------ */

struct loading {
	struct pglimit	*l;
	struct map	 facts;		/* referral -> struct pfact */
	struct map	 batches;	/* "chain:seq" -> index + 1 */
};

static void
load_facts(struct loading *ld, PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT referral, place, referred_on, "
	    "exportable, data FROM facts");
	struct pglimit *l = ld->l;
	size_t i, len;
	int n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("pglimit: reading facts: %s", PQerrorMessage(c));
	n = PQntuples(r);
	if ((l->f = calloc(n ? (size_t)n : 1, sizeof(*l->f))) == NULL)
		fail_msg("pglimit: out of memory");
	for (i = 0; i < (size_t)n; i++) {
		struct pfact *f = &l->f[i];

		f->referral = dup(PQgetvalue(r, (int)i, 0));
		f->place = dup(PQgetvalue(r, (int)i, 1));
		snprintf(f->on, sizeof(f->on), "%s", PQgetvalue(r, (int)i, 2));
		snprintf(f->exp, sizeof(f->exp), "%s", PQgetvalue(r, (int)i,
		    3));
		f->data = PQunescapeBytea((const unsigned char *)PQgetvalue(r,
		    (int)i, 4), &len);
		if (f->data == NULL)
			fail_msg("pglimit: out of memory");
		f->len = len;
		if (map_put(&ld->facts, f->referral, f) != PC_OK)
			fail_msg("pglimit: out of memory");
	}
	l->nf = (size_t)n;
	PQclear(r);
}

static int
place_index(const char *place)
{
	int p;

	for (p = 0; p < BENCH_PLACES; p++)
		if (strcmp(bench_places[p], place) == 0)
			return p;
	fail_msg("pglimit: a record of place %s, no benchmark device's", place);
	return -1;
}

/* A record's line: id, referral, kind, place, worker, ..., chain, seq. */
static void
record_line(void *arg, const char *line, int len, char **f, int nf)
{
	struct loading *ld = arg;
	struct pglimit *l = ld->l;
	struct pbatch *b;
	struct pfact *fa;
	char key[64];
	size_t i;

	if (nf != 11)
		fail_msg("pglimit: a record of %d columns", nf);
	snprintf(key, sizeof(key), "%s:%s", f[9], f[10]);
	if ((i = (size_t)(uintptr_t)map_get(&ld->batches, key)) == 0) {
		l->b = grow(l->b, l->nb, &l->capb, sizeof(*l->b));
		b = &l->b[l->nb++];
		memset(b, 0, sizeof(*b));
		buf_init(&b->recs, 0);
		buf_init(&b->refs, 0);
		buf_init(&b->audit, 0);
		b->place = place_index(f[3]);
		i = l->nb;
		if (map_put(&ld->batches, key, (void *)(uintptr_t)i) != PC_OK)
			fail_msg("pglimit: out of memory");
	}
	b = &l->b[i - 1];
	if (place_index(f[3]) != b->place)
		fail_msg("pglimit: batch %s holds records of two places", key);
	buf_add(&b->recs, line, (size_t)len);
	b->nrec++;
	l->nr++;
	if ((fa = map_get(&ld->facts, f[1])) == NULL)
		fail_msg("pglimit: record %s has no fact", f[0]);
	if (!fa->made) {	/* the batch that made the referral's row */
		fa->made = 1;
		buf_addf(&b->refs, "%s\n", f[1]);
		b->nref++;
	}
	if (fa->seen != i) {	/* the batch brings its fact up to date */
		fa->seen = i;
		b->facts = grow(b->facts, b->nfact, &b->capfact,
		    sizeof(*b->facts));
		b->facts[b->nfact++] = (size_t)(fa - l->f);
	}
}

/* An audit entry's line, with the seq of the batch it follows last. */
static void
audit_line(void *arg, const char *line, int len, char **f, int nf)
{
	struct loading *ld = arg;
	struct pbatch *b;
	char key[64];
	size_t i;

	if (nf != 11)
		fail_msg("pglimit: an audit entry of %d columns", nf);
	if (strcmp(f[10], "\\N") == 0)
		return;		/* before the chain's first batch */
	snprintf(key, sizeof(key), "%s:%s", f[0], f[10]);
	if ((i = (size_t)(uintptr_t)map_get(&ld->batches, key)) == 0)
		fail_msg("pglimit: audit entry %s:%s follows no batch", f[0],
		    f[1]);
	b = &ld->l->b[i - 1];
	/* the line less its last column */
	buf_add(&b->audit, line, (size_t)(f[10] - f[0]) - 1);
	buf_addc(&b->audit, '\n');
	(void)len;
	b->naud++;
	ld->l->na++;
}

struct pglimit *
pglimit_load(const char *uri)
{
	struct loading ld = {calloc(1, sizeof(struct pglimit)), {0}, {0}};
	PGconn *c = connect_to(uri);
	size_t i;

	if (ld.l == NULL)
		fail_msg("pglimit: out of memory");
	map_init(&ld.facts);
	map_init(&ld.batches);
	exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
	load_facts(&ld, c);
	copy_out(c, "SELECT id, referral, kind, place, worker, hash, json, "
	    "user_id, received, audit_chain, audit_seq FROM records WHERE "
	    "audit_seq IS NOT NULL ORDER BY seq", record_line, &ld);
	copy_out(c, "SELECT chain, seq, at, actor, action, object, outcome, "
	    "prev, hash, records, (SELECT max(r.audit_seq) FROM records r "
	    "WHERE r.audit_chain = a.chain AND r.audit_seq <= a.seq) FROM "
	    "audit a ORDER BY chain, seq", audit_line, &ld);
	exec_ok(c, "COMMIT");
	PQfinish(c);
	for (i = 0; i < ld.l->nb; i++)
		if (buf_failed(&ld.l->b[i].recs) != PC_OK ||
		    buf_failed(&ld.l->b[i].refs) != PC_OK ||
		    buf_failed(&ld.l->b[i].audit) != PC_OK)
			fail_msg("pglimit: out of memory");
	map_free(&ld.facts);
	map_free(&ld.batches);
	return ld.l;
}

void
pglimit_free(struct pglimit *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nb; i++) {
		buf_free(&l->b[i].recs);
		buf_free(&l->b[i].refs);
		buf_free(&l->b[i].audit);
		free(l->b[i].facts);
	}
	for (i = 0; i < l->nf; i++) {
		free(l->f[i].referral);
		free(l->f[i].place);
		PQfreemem(l->f[i].data);
	}
	free(l->b);
	free(l->f);
	free(l);
}

void
pglimit_counts(const struct pglimit *l, size_t *records, size_t *batches,
    size_t *facts, size_t *audit)
{
	size_t i;

	*records = l->nr;
	*batches = l->nb;
	*audit = l->na;
	for (i = *facts = 0; i < l->nb; i++)
		*facts += l->b[i].nfact;
}

/* -- replaying ---------------------------------------------------------- */

static void
copy_in(PGconn *c, const char *sql, const struct buf *b)
{
	PGresult *r;

	if (b->len == 0)
		return;
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		fail_msg("pglimit: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	if (PQputCopyData(c, b->p, (int)b->len) != 1 ||
	    PQputCopyEnd(c, NULL) != 1)
		fail_msg("pglimit: %s: %s", sql, PQerrorMessage(c));
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fail_msg("pglimit: %s: %s", sql, PQerrorMessage(c));
		PQclear(r);
	}
}

/* The batch's facts in one statement, as the server sends them. */
static void
upsert_facts(PGconn *c, const struct pglimit *l, const struct pbatch *b)
{
	const char **v = calloc(b->nfact * 5 + 1, sizeof(*v));
	int *len = calloc(b->nfact * 5 + 1, sizeof(*len));
	int *fmt = calloc(b->nfact * 5 + 1, sizeof(*fmt));
	struct buf sql;
	PGresult *r;
	size_t i;

	if (b->nfact == 0)
		goto out;
	if (v == NULL || len == NULL || fmt == NULL)
		fail_msg("pglimit: out of memory");
	buf_init(&sql, 0);
	buf_adds(&sql, fact_head);
	for (i = 0; i < b->nfact; i++) {
		const struct pfact *f = &l->f[b->facts[i]];
		size_t j = i * 5;

		buf_addf(&sql, "%s($%zu, $%zu, $%zu, $%zu, $%zu)", i ? ", " :
		    "", j + 1, j + 2, j + 3, j + 4, j + 5);
		v[j] = f->referral;
		v[j + 1] = f->place;
		v[j + 2] = f->on;
		v[j + 3] = f->exp;
		v[j + 4] = (const char *)f->data;
		len[j + 4] = (int)f->len;
		fmt[j + 4] = 1;
	}
	buf_adds(&sql, fact_tail);
	if (buf_failed(&sql) != PC_OK)
		fail_msg("pglimit: out of memory");
	r = PQexecParams(c, buf_str(&sql), (int)(b->nfact * 5), NULL, v, len,
	    fmt, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK ||
	    strtoul(PQcmdTuples(r), NULL, 10) != b->nfact)
		fail_msg("pglimit: storing %zu facts: %s (%s rows)", b->nfact,
		    PQerrorMessage(c), PQcmdTuples(r));
	PQclear(r);
	buf_free(&sql);
out:
	free(v);
	free(len);
	free(fmt);
}

struct lane {
	pthread_t		 th;
	const struct pglimit	*l;
	const char		*to;
	int			 k, n;
};

static void *
lane_main(void *arg)
{
	struct lane *ln = arg;
	PGconn *c = connect_to(ln->to);
	size_t i;

	/* as durable as the server's sessions (store_pg.c) */
	exec_ok(c, "SET synchronous_commit = on");
	for (i = 0; i < ln->l->nb; i++) {
		const struct pbatch *b = &ln->l->b[i];

		if (b->place % ln->n != ln->k)
			continue;
		exec_ok(c, "BEGIN");
		copy_in(c, copy_refs, &b->refs);
		copy_in(c, copy_records, &b->recs);
		copy_in(c, copy_audit, &b->audit);
		upsert_facts(c, ln->l, b);
		exec_ok(c, "COMMIT");
	}
	PQfinish(c);
	return NULL;
}

static long
count(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	long n;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("pglimit: %s: %s", sql, PQerrorMessage(c));
	n = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

void
pglimit_schema(const char *from, const char *to)
{
	char file[700];
	struct th_run r;

	snprintf(file, sizeof(file), "%s/schema.sql", th_tmpdir());
	th_cmd(&r, NULL, "pg_dump", "--schema-only", "--no-owner",
	    "--no-privileges", "-f", file, "-d", from, NULL);
	if (r.status != 0)
		fail_msg("pglimit: pg_dump --schema-only: %s", r.err);
	th_run_free(&r);
	th_cmd(&r, NULL, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
	    file, "-d", to, NULL);
	if (r.status != 0)
		fail_msg("pglimit: the schema into the limit's database: %s",
		    r.err);
	th_run_free(&r);
}

static double
tv(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

double
pglimit_insert(const struct pglimit *l, const char *to, int clients,
    double *cpu)
{
	struct lane ln[BENCH_PLACES];
	struct rusage r0, r1;
	size_t i, nref = 0;
	PGconn *c;
	double t0, t;
	int k;

	if (clients < 1 || clients > BENCH_PLACES)
		fail_msg("pglimit: %d clients", clients);
	getrusage(RUSAGE_SELF, &r0);
	t0 = th_now();
	for (k = 0; k < clients; k++) {
		ln[k] = (struct lane){.l = l, .to = to, .k = k, .n = clients};
		if (pthread_create(&ln[k].th, NULL, lane_main, &ln[k]) != 0)
			fail_msg("pglimit: no thread for a client");
	}
	for (k = 0; k < clients; k++)
		pthread_join(ln[k].th, NULL);
	t = th_now() - t0;
	getrusage(RUSAGE_SELF, &r1);
	*cpu = tv(&r1.ru_utime) - tv(&r0.ru_utime) + tv(&r1.ru_stime) -
	    tv(&r0.ru_stime);
	/* every row there, once */
	for (i = 0; i < l->nb; i++)
		nref += l->b[i].nref;
	c = connect_to(to);
	if (count(c, "SELECT count(*) FROM records") != (long)l->nr ||
	    count(c, "SELECT count(*) FROM audit") != (long)l->na ||
	    count(c, "SELECT count(*) FROM referrals") != (long)nref ||
	    count(c, "SELECT count(*) FROM facts") != (long)nref)
		fail_msg("pglimit: the limit's database does not hold the "
		    "rows replayed (%zu records, %zu audit entries, %zu "
		    "referrals)", l->nr, l->na, nref);
	PQfinish(c);
	return t;
}

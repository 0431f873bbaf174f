/*
 * migrate.c - moving a deployment to PostgreSQL, and proving it moved.
 */
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "migrate.h"
#include "secret.h"

/* Rows of one table: how many, and a digest of every value in order. */
struct tally {
	struct sec_sha256	 h;
	int64_t			 n;
	struct store		*to;	/* NULL: only counting */
	enum store_table	 t;
	pc_rc			 rc;
};

static void
digest_value(struct sec_sha256 *h, const struct store_value *v)
{
	uint8_t tag = (uint8_t)v->type, le[8];
	uint64_t x = v->type == SV_INT ? (uint64_t)v->i : (uint64_t)v->len;
	int k;

	for (k = 0; k < 8; k++)
		le[k] = (uint8_t)(x >> (8 * k));
	sec_sha256_add(h, &tag, 1);
	sec_sha256_add(h, le, sizeof(le));
	if (v->type == SV_TEXT || v->type == SV_BLOB)
		sec_sha256_add(h, v->p, v->len);
}

static int
tally_row(void *arg, const struct store_value *v)
{
	struct tally *t = arg;
	int k;

	for (k = 0; k < store_tables[t->t].ncols; k++)
		digest_value(&t->h, &v[k]);
	t->n++;
	if (t->to != NULL && (t->rc = store_copy_put(t->to, t->t, v)) != PC_OK)
		return 1;
	return 0;
}

/* One table walked (and with to, copied): its count and digest. */
static pc_rc
walk(struct store *from, struct store *to, enum store_table tb,
    int64_t *n, uint8_t d[SEC_SHA256_LEN])
{
	struct tally t;
	pc_rc rc;

	memset(&t, 0, sizeof(t));
	t.to = to;
	t.t = tb;
	if ((rc = sec_sha256_begin(&t.h)) != PC_OK)
		return rc;
	rc = store_copy_each(from, tb, tally_row, &t);
	(void)sec_sha256_end(&t.h, d);
	if (rc == PC_OK)
		rc = t.rc;
	if (rc == PC_OK && to != NULL)
		rc = store_copy_end(to, tb);
	*n = t.n;
	return rc;
}

static void
say(const struct err_list *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "pcmdsd: %s\n", errs->v[i].msg);
}

static int
count_head(void *arg, int64_t chain, int64_t seq, const uint8_t *h)
{
	(void)chain;
	(void)seq;
	(void)h;
	(*(int *)arg)++;
	return 0;
}

static int
count_user(void *arg, const struct store_user *u)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

/* Nothing in it yet: no records, users or audit entries. */
static int
empty(struct store *st)
{
	int64_t n = 0;
	int heads = 0, users = 0;

	return store_record_count(st, &n) == PC_OK && n == 0 &&
	    store_audit_heads(st, count_head, &heads) == PC_OK && heads == 0 &&
	    store_user_each(st, count_user, &users) == PC_OK && users == 0;
}

/* The copy, in one transaction on each side. */
static pc_rc
copy_all(struct store *from, struct store *to, int64_t n[TABLE_N],
    uint8_t d[TABLE_N][SEC_SHA256_LEN])
{
	int t;
	pc_rc rc;

	if ((rc = store_begin(from)) != PC_OK)
		return rc;	/* SQLite: held against writers from here */
	if ((rc = store_begin(to)) != PC_OK) {
		store_rollback(from);
		return rc;
	}
	for (t = 0; rc == PC_OK && t < TABLE_N; t++) {
		rc = walk(from, to, (enum store_table)t, &n[t], d[t]);
		if (rc == PC_OK)
			printf("  %-10s %10" PRId64 " rows\n", store_tables[t].name,
			    n[t]);
	}
	/* the source's log was sealed: the new one is not to be again */
	if (rc == PC_OK && (rc = store_meta_del(to, "audit_unsealed")) ==
	    PC_ENOTFOUND)
		rc = PC_OK;
	if (rc == PC_OK)
		rc = store_commit(to);
	if (rc != PC_OK)
		store_rollback(to);
	store_rollback(from);	/* it only read */
	return rc;
}

/* Both sides read again: the same rows, table by table. */
static int
compare(struct store *from, struct store *to, const int64_t n[TABLE_N],
    uint8_t d[TABLE_N][SEC_SHA256_LEN])
{
	uint8_t d2[SEC_SHA256_LEN];
	int64_t n2;
	int t, bad = 0;

	(void)from;
	for (t = 0; t < TABLE_N; t++) {
		if (walk(to, NULL, (enum store_table)t, &n2, d2) != PC_OK) {
			fprintf(stderr, "pcmdsd: cannot read %s back from the "
			    "new database\n", store_tables[t].name);
			return 1;
		}
		if (n2 != n[t] || memcmp(d2, d[t], SEC_SHA256_LEN) != 0) {
			fprintf(stderr, "pcmdsd: %s differs: %" PRId64 " rows "
			    "copied, %" PRId64 " read back%s\n",
			    store_tables[t].name, n[t], n2, n2 == n[t] ?
			    " with other content" : "");
			bad = 1;
		}
	}
	return bad;
}

static int
verify(struct store *st, const char *head, struct audit_report *r)
{
	const char *heads[1] = {head};
	pc_rc rc = audit_verify(st, heads, head[0] ? 1 : 0, r);
	size_t i;

	if (rc == PC_OK)
		return 0;
	fprintf(stderr, "pcmdsd: the audit log does not verify in the new "
	    "database:\n");
	for (i = 0; i < r->problems.n; i++)
		fprintf(stderr, "  %s\n", r->problems.v[i].msg);
	return 1;
}

static int
finish(struct store *to, const char *uri, const struct conf *cf,
    const int64_t n[TABLE_N], const char *head)
{
	struct passwd *pw = getpwuid(getuid());
	struct audit_report r;
	char who[96], obj[256], where[PATH_MAX];
	int bad;

	snprintf(who, sizeof(who), "admin:%s", pw ? pw->pw_name : "unknown");
	snprintf(obj, sizeof(obj), "from %s: %" PRId64 " records, %" PRId64
	    " users, %" PRId64 " audit entries (head %s)", cf->database,
	    n[TABLE_RECORDS], n[TABLE_USERS], n[TABLE_AUDIT], head);
	if (audit_log_now(to, who, "migrate", obj, "ok") != PC_OK) {
		fprintf(stderr, "pcmdsd: cannot audit the move in the new "
		    "database\n");
		return 1;
	}
	bad = verify(to, head, &r);
	if (!bad) {
		store_redact(uri, where, sizeof(where));
		printf("pcmdsd: moved and verified: every table's rows counted "
		    "and compared; the audit log (%" PRId64 " entries, %"
		    PRId64 " records) verifies, chain 0 ending at %s as "
		    "before.\nNext: with pcmdsd stopped, set database = %s in "
		    "pcmdsd.conf and start it; further servers on the same "
		    "database take the same secret_file.\n", r.entries,
		    r.records, head, where);
	}
	audit_report_free(&r);
	return bad;
}

static int
head_of(void *arg, int64_t chain, int64_t seq, const uint8_t *h)
{
	if (chain == 0)
		audit_head_text(chain, seq, h, arg);
	return 0;
}

int
migrate_run(const struct conf *cf, const char *to)
{
	int64_t n[TABLE_N] = {0};
	uint8_t d[TABLE_N][SEC_SHA256_LEN];
	char head[AUDIT_HEAD_LEN] = "";
	struct store *src = NULL, *dst = NULL;
	struct audit_report r;
	struct secret sec;
	struct err_list errs;
	int rc = 1;

	err_init(&errs);
	memset(&r, 0, sizeof(r));
	if (secret_load(cf->secret_file, &sec, &errs) != PC_OK) {
		say(&errs);
		err_free(&errs);
		return 1;
	}
	if (store_open(cf->database, &src, &errs) != PC_OK ||
	    audit_open(src, &sec, &errs) != PC_OK)
		goto out;
	if (store_shared(src)) {
		fprintf(stderr, "pcmdsd: this deployment is on PostgreSQL "
		    "already; use pg_dump to copy it\n");
		goto out;
	}
	/* what is moved must be whole to start with */
	if (audit_verify(src, NULL, 0, &r) != PC_OK) {
		fprintf(stderr, "pcmdsd: the audit log of %s does not verify "
		    "(pcmdsd audit verify says why); nothing was moved\n",
		    cf->database);
		goto out;
	}
	audit_report_free(&r);
	memset(&r, 0, sizeof(r));
	if (store_audit_heads(src, head_of, head) != PC_OK)
		goto out;
	if (store_open(to, &dst, &errs) != PC_OK)
		goto out;
	if (!empty(dst)) {
		fprintf(stderr, "pcmdsd: the database given to migrate to "
		    "already holds users, records or audit entries; migrate "
		    "moves a deployment into an empty one only\n");
		goto out;
	}
	printf("pcmdsd: copying %s\n", cf->database);
	if (copy_all(src, dst, n, d) != PC_OK) {
		fprintf(stderr, "pcmdsd: the copy failed; the new database was "
		    "left as it was\n");
		goto out;
	}
	if (compare(src, dst, n, d) != 0 || audit_open(dst, &sec, &errs) !=
	    PC_OK)
		goto out;
	rc = finish(dst, to, cf, n, head);
out:
	audit_report_free(&r);
	say(&errs);
	err_free(&errs);
	store_close(dst);
	store_close(src);
	secret_wipe(&sec);
	return rc;
}

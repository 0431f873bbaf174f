/*
 * admin.c - the administrator's commands, run on the server host.
 *
 * They open the database directly (its file permissions are the access
 * control) and record what they do in the audit log, with the operating
 * system user as the actor. Their transactions are short and do nothing
 * but database work (no output, which a terminal could hold up): the
 * running server waits only briefly for them. What they print, they print
 * after the commit, so it is true.
 */
#include <sys/stat.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "assets.h"
#include "audit.h"
#include "csv.h"
#include "date.h"
#include "follow.h"
#include "fs.h"
#include "jwt.h"
#include "places.h"
#include "pop.h"
#include "secret.h"
#include "tls.h"

static void
actor(char *out, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(out, len, "admin:%s", pw ? pw->pw_name : "unknown");
}

static void
report(const struct err_list *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "pcmdsd: %s\n", errs->v[i].msg);
}

/* The store with the audit chain's key: nothing is audited unkeyed. */
static pc_rc
open_keyed(const char *db, const char *secret_file, struct store **st,
    struct err_list *errs)
{
	struct secret sec;
	pc_rc rc;

	*st = NULL;
	if ((rc = secret_load(secret_file, &sec, errs)) != PC_OK)
		return rc;
	if ((rc = store_open(db, st, errs)) == PC_OK &&
	    (rc = audit_open(*st, &sec, errs)) != PC_OK) {
		store_close(*st);
		*st = NULL;
	}
	secret_wipe(&sec);
	return rc;
}

/* A write that failed: what the database met (disk full in DIR, ...). */
static int
store_failed(struct store *st, const char *what)
{
	char why[512];

	store_fault(st, why, sizeof(why));
	fprintf(stderr, "pcmdsd: %s: %s; nothing was changed\n", what, why);
	return 1;
}

/* A read cut short: what was printed is not the whole. */
static int
read_failed(struct store *st, const char *what)
{
	char why[512];

	store_fault(st, why, sizeof(why));
	fprintf(stderr, "pcmdsd: %s: %s; what was printed is incomplete\n",
	    what, why);
	return 1;
}

int
admin_open(const struct conf *cf, struct store **st)
{
	struct err_list errs;
	pc_rc rc;

	err_init(&errs);
	if ((rc = open_keyed(cf->database, cf->secret_file, st, &errs)) !=
	    PC_OK)
		report(&errs);
	err_free(&errs);
	return rc == PC_OK ? 0 : 1;
}

int
admin_init(const char *dir, const char *listen, const char *database,
    const char *const *hosts, size_t nhosts)
{
	struct err_list errs;
	struct store *st = NULL;
	char path[4096], key[4096], text[4096], who[96];
	int n = 0, npop = 0;
	pc_rc rc;

	err_init(&errs);
	snprintf(path, sizeof(path), "%s/pcmdsd.conf", dir);
	if (fs_exists(path)) {
		fprintf(stderr, "pcmdsd: %s already exists; init never "
		    "overwrites a deployment\n", path);
		return 1;
	}
	if ((rc = fs_mkdirs(dir, 0700, &errs)) == PC_OK &&
	    (rc = conf_template(text, sizeof(text), listen, database ?
	    database : "pcmds.db")) == PC_OK &&
	    (rc = fs_write_atomic(path, text, strlen(text), 0640, &errs)) ==
	    PC_OK) {
		snprintf(path, sizeof(path), "%s/places.csv", dir);
		rc = fs_write_atomic(path, places_default_csv,
		    strlen(places_default_csv), 0644, &errs);
	}
	if (rc == PC_OK) {
		snprintf(key, sizeof(key), "%s/secret.key", dir);
		rc = secret_create(key, &errs);
	}
	if (rc == PC_OK)
		rc = tls_make_dev_pki(dir, hosts, nhosts, &errs);
	if (database != NULL)
		snprintf(path, sizeof(path), "%s", database);
	else
		snprintf(path, sizeof(path), "%s/pcmds.db", dir);
	if (rc == PC_OK)
		rc = open_keyed(path, key, &st, &errs);
	if (rc == PC_OK) {
		snprintf(path, sizeof(path), "%s/places.csv", dir);
		if ((rc = store_begin(st)) == PC_OK &&
		    (rc = places_import_file(st, path, &n, &errs)) == PC_OK &&
		    (rc = pop_import(st, pop_default_csv, strlen(pop_default_csv),
		    "the default population", &npop, &errs)) == PC_OK) {
			actor(who, sizeof(who));
			rc = audit_log(st, (int64_t)time(NULL), who, "init", dir,
			    "ok");
		}
		rc = rc == PC_OK ? store_commit(st) : rc;
		if (rc != PC_OK)
			store_rollback(st);
	}
	store_close(st);
	if (rc != PC_OK) {
		report(&errs);
		err_free(&errs);
		return 1;
	}
	err_free(&errs);
	printf("pcmdsd: deployment initialised in %s\n"
	    "  pcmdsd.conf   configuration (listen %s)\n"
	    "  places.csv    %d places with their populations\n"
	    "  (database)    %d rows of population denominators (pcmdsd "
	    "population list)\n"
	    "  ca.pem        development CA: give it to clients "
	    "(pcmds setup --cacert)\n"
	    "  ca.key        the CA's key: keep it offline\n"
	    "  server.pem    server certificate (localhost), server.key its key\n"
	    "  secret.key    the server secret: back it up apart from the "
	    "database\n"
	    "  %-13s the database\n"
	    "Next: pcmdsd --config %s/pcmdsd.conf serve\n", dir, listen, n,
	    npop, database ? "(PostgreSQL)" : "pcmds.db", dir);
	return 0;
}

/* Every user, gathered first: no lookup runs inside the walk. */
struct users {
	struct store_user	*v;
	size_t			 n, cap;
};

static int
gather_user(void *arg, const struct store_user *u)
{
	struct users *us = arg;
	struct store_user *v;

	if (us->n == us->cap) {
		us->cap = us->cap ? 2 * us->cap : 64;
		if ((v = realloc(us->v, us->cap * sizeof(*v))) == NULL)
			return 1;
		us->v = v;
	}
	us->v[us->n++] = *u;
	return 0;
}

int
admin_user_list(struct store *st, const struct conf *cf)
{
	struct users us = {NULL, 0, 0};
	const struct store_user *u;
	char sub[JWT_SUB_MAX];
	size_t i;
	int rc = 0;

	if (store_user_each(st, gather_user, &us) != PC_OK || (us.cap > 0 &&
	    us.v == NULL)) {
		free(us.v);
		return read_failed(st, "cannot read every user");
	}
	printf("%-5s %-12s %-6s %-7s %-16s %-8s %-6s %s\n", "ID", "ROLE",
	    "PLACE", "PCN", "WORKER", "STATE", "OIDC", "NAME");
	for (i = 0; i < us.n && rc == 0; i++) {
		u = &us.v[i];
		if (cf->oidc_issuer[0] == '\0' || store_oidc_subject(st, u->id,
		    cf->oidc_issuer, sub, sizeof(sub)) == PC_ENOTFOUND)
			snprintf(sub, sizeof(sub), "-");
		else if (sub[0] == '\0')
			rc = read_failed(st, "cannot read every user's link");
		else
			snprintf(sub, sizeof(sub), "linked");
		if (rc == 0)
			printf("%-5lld %-12s %-6s %-7s %-16s %-8s %-6s %s\n",
			    (long long)u->id, store_role_name(u->role),
			    u->place[0] ? u->place : "-", u->pcn[0] ? u->pcn :
			    "-", u->worker[0] ? u->worker : "-", u->revoked ?
			    "revoked" : "active", sub, u->name);
	}
	free(us.v);
	return rc;
}

/* A one-time code, issued inside the transaction, printed after it. */
struct issued {
	char	 code[16];
	int64_t	 expires;
};

static int
issue_code(struct store *st, const struct conf *cf, const struct store_user *u,
    struct issued *c)
{
	uint8_t hash[SEC_SHA256_LEN];
	char who[96], obj[64];
	int64_t now = (int64_t)time(NULL);

	c->expires = now + (int64_t)cf->code_days * 86400;
	actor(who, sizeof(who));
	snprintf(obj, sizeof(obj), "user:%lld", (long long)u->id);
	if (auth_new_code(c->code, hash) != PC_OK ||
	    store_cred_add(st, hash, u->id, CRED_CODE, "", c->expires, now) !=
	    PC_OK || audit_log(st, now, who, "user.code", obj, "ok") != PC_OK)
		return 1;
	return 0;
}

static void
print_code(const struct store_user *u, const struct issued *c, int json)
{
	char exp[TIME_LEN];

	time_format(c->expires, exp);
	if (json)
		printf("{\"user\":%lld,\"role\":\"%s\",\"place\":\"%s\","
		    "\"worker\":\"%s\",\"code\":\"%s\",\"expires\":\"%s\"}\n",
		    (long long)u->id, store_role_name(u->role), u->place,
		    u->worker, c->code, exp);
	else
		printf("user %lld: %s %s%s%s%s%s\none-time code: %s (expires "
		    "%s)\n", (long long)u->id, store_role_name(u->role),
		    u->name, u->place[0] ? ", place " : "", u->place,
		    u->worker[0] ? ", worker " : "", u->worker, c->code, exp);
}

static int
check_user(struct store *st, const struct store_user *u)
{
	const struct field *pf = rec_field(KIND_N, "pcn");
	struct store_place p;
	struct rec_opts ro = {0};
	struct err_list errs;
	cJSON *v;

	if (u->name[0] == '\0') {
		fprintf(stderr, "pcmdsd: --name is required (the person's name, "
		    "kept on the server for administration only)\n");
		return 1;
	}
	if (u->role == ROLE_EVALUATOR && u->place[0] != '\0') {
		fprintf(stderr, "pcmdsd: an evaluator sees every place: leave "
		    "out --place\n");
		return 1;
	}
	if (u->role != ROLE_EVALUATOR &&
	    store_place_get(st, u->place, &p) != PC_OK) {
		fprintf(stderr, "pcmdsd: --place must be a known place code "
		    "(pcmdsd places list); got \"%s\"\n", u->place);
		return 1;
	}
	if (u->pcn[0] == '\0')
		return 0;
	err_init(&errs);
	v = cJSON_CreateString(u->pcn);
	rec_check_value(pf, v, "pcn", &ro, &errs);
	cJSON_Delete(v);
	if (errs.n > 0)
		fprintf(stderr, "pcmdsd: --pcn: %s\n", errs.v[0].msg);
	err_free(&errs);
	return errs.n > 0;
}

/* The user a link is for: active, and one the dashboard serves. */
static int
link_target(struct store *st, const struct conf *cf, int64_t id,
    struct store_user *u)
{
	pc_rc rc;

	if (cf->oidc_issuer[0] == '\0') {
		fprintf(stderr, "pcmdsd: set oidc_issuer (and the other oidc_ "
		    "settings) in pcmdsd.conf first: a subject names a person "
		    "at one provider only\n");
		return 1;
	}
	if ((rc = store_user_get(st, id, u)) == PC_ESTORE)
		return store_failed(st, "cannot read the user");
	if (rc != PC_OK || u->revoked) {
		fprintf(stderr, "pcmdsd: no active user %lld\n", (long long)id);
		return 1;
	}
	if (u->role == ROLE_LINK_WORKER) {
		fprintf(stderr, "pcmdsd: user %lld is a link worker; only place "
		    "leads and evaluators sign in to the dashboard\n",
		    (long long)id);
		return 1;
	}
	return 0;
}

/* Inside the caller's transaction: links u to subject, audited. */
static int
link_subject(struct store *st, const struct conf *cf,
    const struct store_user *u, const char *subject, int64_t now)
{
	char who[96], obj[32], out[JWT_SUB_MAX + 32];
	int64_t other = 0;
	pc_rc rc;

	if ((rc = store_oidc_link(st, u->id, cf->oidc_issuer, subject, now)) ==
	    PC_ECONFLICT) {
		store_rollback(st);
		(void)store_oidc_find(st, cf->oidc_issuer, subject, &other);
		fprintf(stderr, "pcmdsd: subject %s is already linked to user "
		    "%lld; unlink it first (pcmdsd user unlink %lld)\n", subject,
		    (long long)other, (long long)other);
		return 1;
	}
	actor(who, sizeof(who));
	snprintf(obj, sizeof(obj), "user:%lld", (long long)u->id);
	snprintf(out, sizeof(out), "oidc subject %s", subject);
	if (rc != PC_OK || audit_log(st, now, who, "user.link", obj, out) !=
	    PC_OK) {
		store_rollback(st);
		return store_failed(st, "cannot link the user");
	}
	return 0;
}

static int
subject_ok(const char *subject)
{
	if (subject != NULL && jwt_sub_valid(subject))
		return 1;
	fprintf(stderr, "pcmdsd: --oidc-subject must be the person's subject "
	    "at the provider (the identifier the sign-in page showed them): "
	    "1 to %d printable characters, no spaces\n", JWT_SUB_MAX - 1);
	return 0;
}

int
admin_user_add(struct store *st, const struct conf *cf, struct store_user *u,
    const char *subject, int json)
{
	char who[96], obj[64];
	struct issued c;
	pc_rc rc;

	if (check_user(st, u) != 0)
		return 1;
	if (subject != NULL && (!subject_ok(subject) || u->role ==
	    ROLE_LINK_WORKER || cf->oidc_issuer[0] == '\0')) {
		if (jwt_sub_valid(subject))
			fprintf(stderr, "pcmdsd: --oidc-subject needs oidc_issuer "
			    "in pcmdsd.conf, and a place lead or evaluator\n");
		return 1;
	}
	u->created = (int64_t)time(NULL);
	if (store_begin(st) != PC_OK)
		return store_failed(st, "cannot add the user");
	rc = store_user_add(st, u);
	if (rc == PC_ECONFLICT) {
		store_rollback(st);
		fprintf(stderr, "pcmdsd: worker id %s is already taken\n",
		    u->worker);
		return 1;
	}
	actor(who, sizeof(who));
	snprintf(obj, sizeof(obj), "user:%lld %s %s", (long long)u->id,
	    store_role_name(u->role), u->place);
	if (rc != PC_OK || audit_log(st, u->created, who, "user.add", obj,
	    "ok") != PC_OK || issue_code(st, cf, u, &c) != 0) {
		store_rollback(st);
		return store_failed(st, "cannot add the user");
	}
	if (subject != NULL && link_subject(st, cf, u, subject, u->created) !=
	    0)
		return 1;
	if (store_commit(st) != PC_OK) {
		store_rollback(st);
		return store_failed(st, "cannot add the user");
	}
	print_code(u, &c, json);
	return 0;
}

int
admin_user_code(struct store *st, const struct conf *cf, int64_t id, int json)
{
	struct store_user u;
	struct issued c;
	pc_rc rc;

	if ((rc = store_user_get(st, id, &u)) == PC_ESTORE)
		return store_failed(st, "cannot read the user");
	if (rc != PC_OK || u.revoked) {
		fprintf(stderr, "pcmdsd: no active user %lld\n", (long long)id);
		return 1;
	}
	if (store_begin(st) != PC_OK)
		return store_failed(st, "cannot issue a code");
	/* a new code resets the dashboard password: it is set again with it */
	if (store_password_clear(st, u.id) != PC_OK ||
	    issue_code(st, cf, &u, &c) != 0 || store_commit(st) != PC_OK) {
		store_rollback(st);
		return store_failed(st, "cannot issue a code");
	}
	print_code(&u, &c, json);
	return 0;
}

int
admin_user_revoke(struct store *st, int64_t id)
{
	char who[96], obj[32];
	int64_t now = (int64_t)time(NULL);
	pc_rc rc;

	if (store_begin(st) != PC_OK)
		return store_failed(st, "cannot revoke");
	rc = store_user_revoke(st, id, now);
	actor(who, sizeof(who));
	snprintf(obj, sizeof(obj), "user:%lld", (long long)id);
	if (rc == PC_OK && (audit_log(st, now, who, "user.revoke", obj, "ok") !=
	    PC_OK || store_commit(st) != PC_OK))
		rc = PC_ESTORE;
	if (rc != PC_OK) {
		store_rollback(st);
		if (rc != PC_ENOTFOUND)
			return store_failed(st, "cannot revoke");
		fprintf(stderr, "pcmdsd: no such active user\n");
		return 1;
	}
	printf("user %lld revoked: every token and code of theirs stops "
	    "working now\n", (long long)id);
	return 0;
}

int
admin_user_link(struct store *st, const struct conf *cf, int64_t id,
    const char *subject)
{
	struct store_user u;
	int64_t now = (int64_t)time(NULL);

	if (!subject_ok(subject) || link_target(st, cf, id, &u) != 0)
		return 1;
	if (store_begin(st) != PC_OK)
		return store_failed(st, "cannot link the user");
	if (link_subject(st, cf, &u, subject, now) != 0)
		return 1;
	if (store_commit(st) != PC_OK) {
		store_rollback(st);
		return store_failed(st, "cannot link the user");
	}
	printf("user %lld (%s) signs in to the dashboard as subject %s at %s\n",
	    (long long)u.id, u.name, subject, cf->oidc_issuer);
	return 0;
}

int
admin_user_unlink(struct store *st, const struct conf *cf, int64_t id)
{
	struct store_user u;
	char who[96], obj[32];
	int64_t now = (int64_t)time(NULL);
	pc_rc rc;

	if (link_target(st, cf, id, &u) != 0)
		return 1;
	if (store_begin(st) != PC_OK)
		return store_failed(st, "cannot unlink the user");
	rc = store_oidc_unlink(st, u.id, cf->oidc_issuer);
	actor(who, sizeof(who));
	snprintf(obj, sizeof(obj), "user:%lld", (long long)u.id);
	if (rc == PC_OK && (audit_log(st, now, who, "user.unlink", obj, "ok") !=
	    PC_OK || store_commit(st) != PC_OK))
		rc = PC_ESTORE;
	if (rc != PC_OK) {
		store_rollback(st);
		if (rc != PC_ENOTFOUND)
			return store_failed(st, "cannot unlink the user");
		fprintf(stderr, "pcmdsd: user %lld has no link at %s\n",
		    (long long)u.id, cf->oidc_issuer);
		return 1;
	}
	printf("user %lld no longer signs in through %s\n", (long long)u.id,
	    cf->oidc_issuer);
	return 0;
}

/*
 * Runs one import from a file, audited, in a transaction of its own. On
 * failure says why: what the database met, or the file's problems and
 * then unchanged ("no place was changed").
 */
static pc_rc
import_audited(struct store *st, const char *path, const char *action,
    const char *what, const char *unchanged,
    pc_rc (*fn)(struct store *, const char *, void *, struct err_list *),
    void *count, struct err_list *errs)
{
	char who[96];
	pc_rc rc;

	if ((rc = store_begin(st)) == PC_OK &&
	    (rc = fn(st, path, count, errs)) == PC_OK) {
		actor(who, sizeof(who));
		rc = audit_log(st, (int64_t)time(NULL), who, action, path,
		    "ok");
	}
	if (rc == PC_OK)
		rc = store_commit(st);
	if (rc != PC_OK) {
		store_rollback(st);
		if (rc == PC_ESTORE && errs->n == 0)
			store_failed(st, what);
		else {
			report(errs);
			fprintf(stderr, "pcmdsd: %s\n", unchanged);
		}
	}
	return rc;
}

static pc_rc
places_file(struct store *st, const char *path, void *n,
    struct err_list *errs)
{
	return places_import_file(st, path, n, errs);
}

/*
 * Who uses an import: servers sharing a database catch up on it (follow.h);
 * one on SQLite reads it at its next start.
 */
static void
imported(struct store *st, int n, const char *what)
{
	if (store_shared(st))
		printf("%d %s imported (servers on this database use them "
		    "within %d seconds)\n", n, what, FOLLOW_POLL_MS / 1000);
	else
		printf("%d %s imported (restart pcmdsd for the figures to use "
		    "them)\n", n, what);
}

int
admin_places_import(struct store *st, const char *path)
{
	struct err_list errs;
	int n = 0;
	pc_rc rc;

	err_init(&errs);
	rc = import_audited(st, path, "places.import", "cannot import the "
	    "places", "no place was changed", places_file, &n, &errs);
	if (rc == PC_OK)
		imported(st, n, "places");
	err_free(&errs);
	return rc == PC_OK ? 0 : 1;
}

static pc_rc
assets_file(struct store *st, const char *path, void *n,
    struct err_list *errs)
{
	return assets_import_file(st, path, n, errs);
}

int
admin_assets_import(struct store *st, const char *path)
{
	struct assets_count n;
	struct err_list errs;
	pc_rc rc;

	err_init(&errs);
	rc = import_audited(st, path, "assets.import", "cannot import the "
	    "directories", "no directory was changed", assets_file, &n,
	    &errs);
	if (rc == PC_OK)
		printf("%d community assets imported for %d place%s; link "
		    "workers' devices receive them at their next sync\n",
		    n.entries, n.places, n.places == 1 ? "" : "s");
	err_free(&errs);
	return rc == PC_OK ? 0 : 1;
}

static int
print_asset(void *arg, const struct store_asset *a)
{
	(void)arg;
	printf("%-6s %-20s %-24s %s%s\n", a->place, a->id, a->category,
	    a->name, a->active ? "" : " (retired)");
	return 0;
}

int
admin_assets_list(struct store *st, const char *place)
{
	if (store_asset_each(st, place, print_asset, NULL) != PC_OK)
		return read_failed(st, "cannot read every asset");
	return 0;
}

static int
print_place(void *arg, const struct store_place *p)
{
	(void)arg;
	printf("%-6s %-28s %10ld  %s\n", p->code, p->name, p->population,
	    p->source);
	return 0;
}

int
admin_places_list(struct store *st)
{
	if (store_place_each(st, print_place, NULL) != PC_OK)
		return read_failed(st, "cannot read every place");
	return 0;
}

int
admin_population_import(struct store *st, const char *path)
{
	struct err_list errs;
	char who[96];
	int n = 0;
	pc_rc rc;

	err_init(&errs);
	if ((rc = store_begin(st)) == PC_OK &&
	    (rc = pop_import_file(st, path, &n, &errs)) == PC_OK) {
		actor(who, sizeof(who));
		rc = audit_log(st, (int64_t)time(NULL), who, "population.import",
		    path, "ok");
	}
	if (rc == PC_OK)
		rc = store_commit(st);
	if (rc != PC_OK) {
		store_rollback(st);
		report(&errs);
		fprintf(stderr, "pcmdsd: no population was changed\n");
	} else
		imported(st, n, "population rows");
	err_free(&errs);
	return rc == PC_OK ? 0 : 1;
}

static int
print_population(void *arg, const struct store_population *p)
{
	struct buf *b = arg;
	char num[24];
	const char *row[5] = {p->place, p->table, p->category, num, p->source};

	snprintf(num, sizeof(num), "%ld", p->population);
	buf_reset(b);
	if (csv_row(b, row, 5, 0) == PC_OK)
		fputs(buf_str(b), stdout);
	return 0;
}

int
admin_population_list(struct store *st)
{
	static const char *const head[5] = {"place", "table", "category",
	    "population", "source"};
	struct buf b;
	pc_rc rc;

	buf_init(&b, 0);
	if (csv_row(&b, head, 5, 0) == PC_OK)
		fputs(buf_str(&b), stdout);
	rc = store_population_each(st, print_population, &b);
	buf_free(&b);
	if (rc != PC_OK)
		fprintf(stderr, "pcmdsd: cannot read the population table\n");
	return rc == PC_OK ? 0 : 1;
}

int
admin_audit_verify(struct store *st, const char *const *heads, size_t n)
{
	struct audit_report r;
	pc_rc rc = audit_verify(st, heads, n, &r);
	size_t i;
	int ex = 0;

	if (rc == PC_OK) {
		printf("audit log intact: %lld entries", (long long)r.entries);
		if (r.unkeyed > 0)
			printf(" (1-%lld from before the keyed chain, sealed by "
			    "entry %lld)", (long long)r.unkeyed,
			    (long long)r.sealed_at);
		printf(", %lld stored records as recorded%s; head%s %s\n",
		    (long long)r.records, n ? ", every head given found" : "",
		    r.chains > 1 ? "s of its chains" : "", buf_str(&r.heads));
	} else if (rc == PC_EINVAL) {
		if (r.bad_seq) {
			char at[AUDIT_HEAD_LEN];

			if (r.bad_chain != 0)
				snprintf(at, sizeof(at), "%lld/%lld",
				    (long long)r.bad_chain,
				    (long long)r.bad_seq);
			else
				snprintf(at, sizeof(at), "%lld",
				    (long long)r.bad_seq);
			printf("audit log BROKEN at entry %s: %s\n", at,
			    r.problems.v[0].msg);
		} else
			printf("audit log BROKEN: %s\n", r.problems.v[0].msg);
		for (i = 1; i < r.problems.n; i++)
			printf("  and: %s\n", r.problems.v[i].msg);
		if (r.problems.dropped > 0)
			printf("  and %zu more problems\n", r.problems.dropped);
		ex = 1;
	} else if (rc == PC_EUSAGE) {
		fprintf(stderr, "pcmdsd: --head takes SEQ:HASH or CHAIN/SEQ:HASH, "
		    "as the server logs it (\"audit head 1234:5f1c...\")\n");
		ex = 2;
	} else {
		char why[512];

		store_fault(st, why, sizeof(why));
		fprintf(stderr, "pcmdsd: cannot read the whole audit log or the "
		    "records (%lld entries read): %s; it was not verified\n",
		    (long long)r.entries, why);
		ex = 2;
	}
	audit_report_free(&r);
	return ex;
}

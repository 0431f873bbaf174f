/*
 * test_export.c - an evaluator's record-level data, tried as an evaluator
 * and as an adversary would: a realistic caseload recorded on three link
 * workers' devices and synced to a real server; evaluators set up without
 * the deployment key and take extracts of both shapes with pcmds extract;
 * the device pseudonyms (HMAC of each NHS number under the deployment
 * key) appear in no export, report, dashboard or log; two evaluators'
 * exports share no identifier; one evaluator's join; Python's csv and
 * json modules load every export and the pairs reproduce the server's own
 * ONS4 figures; a stream cut by a database error leaves no file; a
 * client gone while batches are read ahead, or while the last ones are
 * read, ends the export cut, with nothing left behind; the columns are
 * as docs/export.md says.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "export.h"
#include "harness.h"
#include "home.h"
#include "nhs.h"
#include "ons4.h"

#define NPLACES		3
#define PER_PLACE	50
#define NHS_MAX		(NPLACES * PER_PLACE)

static const char *const places[NPLACES] = {"BD", "NH", "TH"};
static struct th_server srv;
static char db[700], keyfile[700], out[600];
static char eval_a[512], eval_b[512], lead[512], worker_home[512];
static char pseudonyms[NHS_MAX][SEC_HEX64_LEN];
static int npseudonyms;

/* Every NHS number of a caseload CSV, as the devices' pseudonyms. */
static void
collect_pseudonyms(const char *csv)
{
	uint8_t key[NHS_KEY_LEN];
	struct err_list errs;
	const char *p;

	err_init(&errs);
	assert_int_equal(home_key_read(keyfile, key, &errs), PC_OK);
	for (p = strstr(csv, "\nnhs_number,"); p != NULL; p = strstr(p + 1,
	    "\nnhs_number,")) {
		char digits[11];

		snprintf(digits, sizeof(digits), "%.10s", p + 12);
		if (npseudonyms < NHS_MAX)
			assert_int_equal(nhs_pseudonym(key, digits,
			    pseudonyms[npseudonyms++]), PC_OK);
	}
	err_free(&errs);
}

static void
setup_home(char *home, const char *code, const char *key)
{
	struct th_run r;

	snprintf(home, 512, "%s", th_tmpdir());
	if (key != NULL)
		th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
		    "--key-file", key, "--server", srv.url, "--code", code,
		    "--cacert", srv.ca, NULL);
	else
		th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
		    "--server", srv.url, "--code", code, "--cacert", srv.ca,
		    NULL);
	if (r.status != 0)
		fail_msg("setup: %s", r.err);
	th_run_free(&r);
	th_unlock(home);
}

static void
worker(const char *place, int seed)
{
	char home[512], cmd[1024], *csv;
	struct th_run r;
	const char *path;

	setup_home(home, th_server_user(&srv, "link_worker", place, NULL),
	    keyfile);
	snprintf(worker_home, sizeof(worker_home), "%s", home);
	path = th_path(home, "caseload.csv");
	snprintf(cmd, sizeof(cmd), "awk -v seed=%d -v place=%s -v n=%d -v "
	    "cmds=/dev/null -f packaging/caseload.awk > %s", seed, place,
	    PER_PLACE, path);
	assert_int_equal(system(cmd), 0);
	assert_non_null(csv = th_slurp(path, NULL));
	collect_pseudonyms(csv);
	free(csv);
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", path, NULL);
	if (r.status != 0)
		fail_msg("import: %s", r.err);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	if (r.status != 0)
		fail_msg("sync: %s", r.err);
	th_run_free(&r);
}

static int
up(void **state)
{
	struct th_run r;
	int i;

	(void)state;
	/* a connection is never let go only because its deadline came */
	th_server_init(&srv, "request_timeout = 600\n");
	snprintf(db, sizeof(db), "%s/pcmds.db", srv.dir);
	th_server_start(&srv, NULL);
	snprintf(out, sizeof(out), "%s", th_tmpdir());
	snprintf(keyfile, sizeof(keyfile), "%s/deploy.key", th_tmpdir());
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", keyfile, NULL);
	th_run_free(&r);
	for (i = 0; i < NPLACES; i++)
		worker(places[i], 42 + i);
	return 0;
}

static int
down(void **state)
{
	(void)state;
	th_server_stop(&srv, SIGTERM);
	return 0;
}

/* Runs pcmds --home home ARGS... expecting status; returns r. */
static void
pcmds(struct th_run *r, int status, const char *home, const char *const *args)
{
	const char *argv[24] = {"pcmds", "--home", home};
	int n = 3;

	while (*args != NULL && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	th_exec(r, argv, NULL, NULL);
	if (r->status != status)
		fail_msg("pcmds %s: exit %d, wanted %d: %s", argv[3], r->status,
		    status, r->err);
}

/* Only link workers' devices hold the key; refusals keep the code. */
static void
test_setup_roles(void **state)
{
	const char *code;
	char home[512];
	struct th_run r;

	(void)state;
	code = th_server_user(&srv, "evaluator", NULL, NULL);
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", keyfile, "--server", srv.url, "--code", code,
	    "--cacert", srv.ca, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "an evaluator, whose device must not "
	    "hold the deployment key"));
	assert_non_null(strstr(r.err, "the code was not used up"));
	th_run_free(&r);
	/* nothing was made: no key, and no store to hold one */
	assert_int_equal(access(th_path(home, "key"), F_OK), -1);
	assert_int_equal(access(th_path(home, "pcmds.db"), F_OK), -1);
	/* the same code, without the key */
	setup_home(eval_a, code, NULL);
	assert_int_equal(access(th_path(eval_a, "key"), F_OK), -1);
	setup_home(eval_b, th_server_user(&srv, "evaluator", NULL, NULL), NULL);
	setup_home(lead, th_server_user(&srv, "place_lead", "NH", NULL), NULL);
	/* a link worker without it is refused, and may try again */
	code = th_server_user(&srv, "link_worker", "WF", NULL);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--server", srv.url, "--code", code, "--cacert", srv.ca, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "needs the deployment key"));
	th_run_free(&r);
	setup_home(home, code, keyfile);
	/* a device that keeps a key cannot become an evaluator's */
	th_cmd(&r, NULL, "pcmds", "--home", worker_home, "setup", "--server",
	    srv.url, "--code", th_server_user(&srv, "evaluator", NULL, NULL),
	    "--cacert", srv.ca, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "this device keeps a deployment key"));
	th_run_free(&r);
}

static const char *
file(const char *who, const char *name)
{
	static char path[8][700];
	static int k;
	char *p = path[k++ % 8];

	snprintf(p, 700, "%s/%s-%s", out, who, name);
	return p;
}

static void
extract(const char *home, const char *who, const char *shape,
    const char *fmt)
{
	char name[64];
	struct th_run r;

	snprintf(name, sizeof(name), "%s.%s", shape, fmt);
	pcmds(&r, 0, home, (const char *[]){"extract", "--shape", shape,
	    "--format", fmt, "--out", file(who, name), NULL});
	/* the rows it says it wrote are the rows in the file */
	{
		char *text = th_slurp(file(who, name), NULL), *p;
		long lines = 0;

		for (p = text; p != NULL && *p != '\0'; p++)
			lines += *p == '\n';
		assert_int_equal(atol(strstr(r.err, "pcmds: ") + 7), lines -
		    (strcmp(fmt, "csv") == 0));
		free(text);
	}
	th_run_free(&r);
}

static void
test_extract_shapes(void **state)
{
	static const char *const shapes[] = {"events", "pairs"};
	static const char *const fmts[] = {"csv", "ndjson"};
	struct dirent *e;
	DIR *d;
	int i, k;

	(void)state;
	for (i = 0; i < 2; i++)
		for (k = 0; k < 2; k++) {
			extract(eval_a, "a", shapes[i], fmts[k]);
			extract(eval_b, "b", shapes[i], fmts[k]);
		}
	/* a second extract, later, by the same evaluator */
	extract(eval_a, "a2", "pairs", "csv");
	assert_non_null(d = opendir(out));
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".partial-") != NULL)
			fail_msg("a temporary file was left: %s", e->d_name);
	closedir(d);
}

/* Each column of a CSV file: its values, one string per row. */
struct table {
	char	**head;
	size_t	  ncols;
	char	***cell;	/* [row][col] */
	size_t	  nrows;
};

static void
load_csv(const char *path, struct table *t)
{
	struct csv_reader rd;
	struct err_list errs;
	FILE *fp = fopen(path, "r");
	size_t i;

	memset(t, 0, sizeof(*t));
	assert_non_null(fp);
	csv_init(&rd, fp);
	err_init(&errs);
	while (csv_next(&rd, &errs) == 1) {
		char **row = calloc(rd.nfields, sizeof(char *));

		for (i = 0; i < rd.nfields; i++)
			row[i] = strdup(rd.field[i]);
		if (t->head == NULL) {
			t->head = row;
			t->ncols = rd.nfields;
			continue;
		}
		assert_int_equal(rd.nfields, t->ncols);
		t->cell = realloc(t->cell, (t->nrows + 1) * sizeof(*t->cell));
		t->cell[t->nrows++] = row;
	}
	assert_int_equal(errs.n, 0);
	csv_free(&rd);
	fclose(fp);
	err_free(&errs);
}

static void
free_table(struct table *t)
{
	size_t i, k;

	for (i = 0; i < t->nrows; i++) {
		for (k = 0; k < t->ncols; k++)
			free(t->cell[i][k]);
		free(t->cell[i]);
	}
	for (k = 0; k < t->ncols; k++)
		free(t->head[k]);
	free(t->head);
	free(t->cell);
}

static int
column(const struct table *t, const char *name)
{
	size_t k;

	for (k = 0; k < t->ncols; k++)
		if (strcmp(t->head[k], name) == 0)
			return (int)k;
	return -1;
}

static int
has_value(const struct table *t, int col, const char *v)
{
	size_t i;

	for (i = 0; i < t->nrows; i++)
		if (strcmp(t->cell[i][col], v) == 0)
			return 1;
	return 0;
}

/*
 * Categorical, numeric and date columns, which any two exports of the
 * same people share by nature; every other column (the identifiers:
 * id, referral, person, worker, device_seq, corrected_by) must not.
 */
static const char *const allowed[] = {
	"schema", "kind", "recorded_at", "place", "pcn", "person_basis",
	"referred_on", "source", "reasons", "service", "age", "age_band",
	"gender", "ethnicity", "ethnic_group", "imd_decile", "imd_quintile",
	"carer", "learning_disability", "autism", "homeless",
	"consent_evaluation", "assessed_on", "stage", "life_satisfaction",
	"worthwhile", "happy", "anxious", "declined", "contact_on", "mode",
	"minutes", "attended", "offered_on", "category", "provider",
	"outcome", "closed_on", "reason", "baseline_on",
	"baseline_life_satisfaction", "baseline_worthwhile", "baseline_happy",
	"baseline_anxious", "followup_on", "followup_stage",
	"followup_life_satisfaction", "followup_worthwhile", "followup_happy",
	"followup_anxious", "days_between", NULL,
};

static int
is_allowed(const char *name)
{
	size_t i;

	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(allowed[i], name) == 0)
			return 1;
	return 0;
}

static void
unlinkable(const char *name)
{
	struct table a, b;
	size_t k, i;
	int checked = 0;

	load_csv(file("a", name), &a);
	load_csv(file("b", name), &b);
	assert_int_equal(a.nrows, b.nrows);
	assert_true(a.nrows > 50);
	for (k = 0; k < a.ncols; k++) {
		if (is_allowed(a.head[k]))
			continue;
		checked++;
		for (i = 0; i < a.nrows; i++)
			if (a.cell[i][k][0] != '\0' && has_value(&b, (int)k,
			    a.cell[i][k]))
				fail_msg("%s: %s %s is in both evaluators' "
				    "exports", name, a.head[k], a.cell[i][k]);
	}
	assert_true(checked >= 2);
	free_table(&a);
	free_table(&b);
}

/* Open descriptors of process pid on the file named name (its links). */
static int
fds_on(pid_t pid, const char *name)
{
	char dir[64], path[128], to[1024];
	size_t nl = strlen(name);
	struct dirent *e;
	ssize_t len;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((len = readlink(path, to, sizeof(to) - 1)) <= 0)
			continue;
		to[len] = '\0';
		n += (size_t)len > nl && to[len - nl - 1] == '/' &&
		    strcmp(to + len - nl, name) == 0;
	}
	closedir(d);
	return n;
}

/*
 * After exports, the server on SQLite holds the connections the README
 * counts and no more: the loop's, the writer's, two checking batches,
 * two checkpointing. An export reads through its cursor's own, closed
 * with it; the workers that run its reads open none. Connections are
 * counted by their write-ahead log: SQLite keeps a closed connection's
 * descriptor on the database file itself for its next open.
 */
static void
test_connections_after_exports(void **state)
{
	int n;

	(void)state;
	if (th_store_pg()) {
		print_message("on PostgreSQL the workers are the database's "
		    "connections, db_workers of them\n");
		skip();
	}
	if ((n = fds_on(srv.pid, "pcmds.db-wal")) != 6)
		fail_msg("the server holds %d connections to its database, "
		    "not 6", n);
}

static void
test_two_evaluators_unlinkable(void **state)
{
	struct table p, q, ev;
	size_t i;
	int person, ref, evp;

	(void)state;
	unlinkable("events.csv");
	unlinkable("pairs.csv");
	/* the same evaluator's exports join on person, and with each other */
	load_csv(file("a", "pairs.csv"), &p);
	load_csv(file("a2", "pairs.csv"), &q);
	load_csv(file("a", "events.csv"), &ev);
	person = column(&p, "person");
	ref = column(&p, "referral");
	evp = column(&ev, "person");
	assert_int_equal(p.nrows, q.nrows);
	for (i = 0; i < p.nrows; i++) {
		assert_true(has_value(&q, person, p.cell[i][person]));
		assert_true(has_value(&ev, evp, p.cell[i][person]));
		assert_true(has_value(&ev, column(&ev, "id"), p.cell[i][ref]));
	}
	free_table(&p);
	free_table(&q);
	free_table(&ev);
}

/* Counts the device pseudonyms found in text; names the first. */
static int
pseudonyms_in(const char *what, const char *text)
{
	int i, n = 0;

	for (i = 0; text != NULL && i < npseudonyms; i++)
		if (strstr(text, pseudonyms[i]) != NULL && n++ == 0)
			print_message("%s holds the device pseudonym %.16s...\n",
			    what, pseudonyms[i]);
	return n;
}

static void
no_pseudonym_in_file(const char *path)
{
	char *text = th_slurp(path, NULL);

	assert_non_null(text);
	assert_int_equal(pseudonyms_in(path, text), 0);
	free(text);
}

static void
no_pseudonym_in_report(const char *home, const char *const *args)
{
	struct th_run r;

	pcmds(&r, 0, home, args);
	assert_int_equal(pseudonyms_in(args[0], r.out), 0);
	assert_int_equal(pseudonyms_in(args[0], r.err), 0);
	th_run_free(&r);
}

static char *
dashboard(void)
{
	char body[64], cookie[300], origin[128];
	struct th_http h;
	char *page;

	snprintf(body, sizeof(body), "code=%s", th_server_user(&srv,
	    "place_lead", "BD", NULL));
	snprintf(origin, sizeof(origin), "Origin: %s", srv.url);
	th_https(&srv, "POST", "/login", (const char *[]){"Content-Type: "
	    "application/x-www-form-urlencoded", origin, NULL}, body,
	    strlen(body), &h);
	assert_int_equal(h.status, 303);
	snprintf(cookie, sizeof(cookie), "Cookie: %.*s", (int)strcspn(h.cookie,
	    ";"), h.cookie);
	th_http_free(&h);
	th_https(&srv, "GET", "/dashboard", (const char *[]){cookie, NULL},
	    NULL, 0, &h);
	assert_int_equal(h.status, 200);
	page = h.body;
	h.body = NULL;
	th_http_free(&h);
	return page;
}

static void
test_no_device_pseudonym(void **state)
{
	static const char *const names[] = {"events.csv", "events.ndjson",
	    "pairs.csv", "pairs.ndjson"};
	char sql[256], *page;
	int i;

	(void)state;
	assert_true(npseudonyms > 50);
	/* the test looks for what is really there: the database holds them */
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM records WHERE json "
	    "LIKE '%%%s%%'", pseudonyms[0]);
	assert_int_equal(th_sql_long(db, sql), 1);
	for (i = 0; i < 4; i++) {
		no_pseudonym_in_file(file("a", names[i]));
		no_pseudonym_in_file(file("b", names[i]));
	}
	no_pseudonym_in_report(eval_a, (const char *[]){"report", NULL});
	no_pseudonym_in_report(eval_a, (const char *[]){"report", "--place",
	    "NH", "--by", "ethnic_group", "--unsuppressed", "--format",
	    "json", NULL});
	no_pseudonym_in_report(eval_a, (const char *[]){"report", "--place",
	    "ALL", "--unsuppressed", "--format", "csv", NULL});
	no_pseudonym_in_report(lead, (const char *[]){"report", "--place",
	    "NH", NULL});
	page = dashboard();
	assert_int_equal(pseudonyms_in("the dashboard", page), 0);
	free(page);
	no_pseudonym_in_file(srv.log);
	for (i = 0; i < npseudonyms; i++) {
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM audit WHERE "
		    "object || outcome LIKE '%%%s%%'", pseudonyms[i]);
		assert_int_equal(th_sql_long(db, sql), 0);
	}
}

/* Counts the stored record ids, or their first 13 characters, in text. */
static int
ids_in(const char *what, const char *text, char (*ids)[UUID_LEN], size_t n)
{
	size_t i;
	int found = 0;

	for (i = 0; text != NULL && i < n; i++) {
		char head[14];

		snprintf(head, sizeof(head), "%.13s", ids[i]);
		if (strstr(text, head) != NULL && found++ == 0)
			print_message("%s holds the stored id %s (or its "
			    "start)\n", what, ids[i]);
	}
	return found;
}

/*
 * No raw record id reaches anyone but the link workers: the start of a
 * version 7 id is the moment it was made, to the millisecond, where an
 * export gives the day. Evaluators' exports re-key every id; place
 * leads' and evaluators' reports and the dashboard are figures.
 */
static void
test_no_record_id(void **state)
{
	static const char *const names[] = {"events.csv", "events.ndjson",
	    "pairs.csv", "pairs.ndjson"};
	static char ids[NHS_MAX * 12][UUID_LEN];
	char sql[200], *text;
	const char *got, *p;
	size_t n = 0, k;
	int i;

	(void)state;
	for (k = 0; ; k += 100) {
		snprintf(sql, sizeof(sql), "SELECT %s FROM (SELECT id FROM "
		    "records ORDER BY id LIMIT 100 OFFSET %zu) AS t",
		    th_store_pg() ? "string_agg(id, ' ')" :
		    "group_concat(id, ' ')", k);
		if (*(got = th_sql_text(db, sql)) == '\0')
			break;
		for (p = got; *p != '\0' && n < NHS_MAX * 12; p += 36) {
			p += *p == ' ';
			snprintf(ids[n++], UUID_LEN, "%.36s", p);
		}
	}
	assert_int_equal((long)n, th_sql_long(db, "SELECT COUNT(*) FROM "
	    "records"));
	assert_true(n > 100);
	/* it finds what is there */
	assert_int_equal(ids_in("a stored id itself", ids[n / 2], ids, n), 1);
	for (i = 0; i < 4; i++) {
		text = th_slurp(file("a", names[i]), NULL);
		assert_int_equal(ids_in(names[i], text, ids, n), 0);
		free(text);
		text = th_slurp(file("b", names[i]), NULL);
		assert_int_equal(ids_in(names[i], text, ids, n), 0);
		free(text);
	}
	{
		struct th_run r;

		pcmds(&r, 0, eval_a, (const char *[]){"report", "--place",
		    "NH", "--unsuppressed", "--format", "json", NULL});
		assert_int_equal(ids_in("report", r.out, ids, n), 0);
		th_run_free(&r);
		pcmds(&r, 0, lead, (const char *[]){"report", "--place", "NH",
		    "--assets", NULL});
		assert_int_equal(ids_in("report", r.out, ids, n), 0);
		th_run_free(&r);
	}
	text = dashboard();
	assert_int_equal(ids_in("the dashboard", text, ids, n), 0);
	free(text);
}

/*
 * An evaluator's own check: Python's csv and json modules load every
 * export, both formats agree, and the pairs give the server's figures.
 */
static const char py[] =
    "import csv, json, sys\n"
    "d = sys.argv[1]\n"
    "def rows(name):\n"
    "    with open(d + '/a-' + name + '.csv', newline='') as f:\n"
    "        c = list(csv.DictReader(f))\n"
    "    with open(d + '/a-' + name + '.ndjson') as f:\n"
    "        j = [json.loads(line) for line in f]\n"
    "    assert len(c) == len(j), (name, len(c), len(j))\n"
    "    return c, j\n"
    "ec, ej = rows('events')\n"
    "pc, pj = rows('pairs')\n"
    "assert {r['id'] for r in ec} == {r['id'] for r in ej}\n"
    "people = {r['person'] for r in ej if r['kind'] == 'referral'}\n"
    "out = {}\n"
    "for m in ['life_satisfaction', 'worthwhile', 'happy', 'anxious']:\n"
    "    b = [int(r['baseline_' + m]) for r in pc]\n"
    "    f = [int(r['followup_' + m]) for r in pc]\n"
    "    assert b == [r['baseline_' + m] for r in pj]\n"
    "    assert f == [r['followup_' + m] for r in pj]\n"
    "    n = len(b)\n"
    "    out[m] = {'n': n, 'mean_baseline': sum(b) / n,\n"
    "              'mean_followup': sum(f) / n,\n"
    "              'mean_change': sum(y - x for x, y in zip(b, f)) / n}\n"
    "assert all(r['person'] in people for r in pj)\n"
    "assert all(int(r['days_between']) >= 1 for r in pc)\n"
    "print(json.dumps(out))\n";

/* Unsuppressed figures are printed in full: equal but for the last bit. */
static void
same_figure(const char *what, double mine, double server)
{
	double tol = 1e-12 * fmax(1.0, fabs(server));

	if (mine - server > tol || server - mine > tol)
		fail_msg("%s: the pairs give %.17g, the server %.17g", what, mine,
		    server);
}

static void
test_pairs_reproduce_figures(void **state)
{
	static const char *const keys[] = {"mean_baseline", "mean_followup",
	    "mean_change"};
	struct th_run r, rep;
	cJSON *mine, *doc, *server, *m;
	int i, k;

	(void)state;
	if (!th_have("python3"))
		skip();
	th_write(file("check", "py"), py);
	th_cmd(&r, NULL, "python3", file("check", "py"), out, NULL);
	if (r.status != 0)
		fail_msg("python3: %s", r.err);
	pcmds(&rep, 0, eval_a, (const char *[]){"report", "--place", "ALL",
	    "--unsuppressed", "--format", "json", NULL});
	mine = th_json(r.out);
	doc = th_json(rep.out);
	server = cJSON_GetObjectItem(doc, "ons4");
	for (i = 0; i < 4; i++) {
		const char *name = ons4_measures[i].field;

		m = cJSON_GetObjectItem(server, name);
		assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(mine,
		    name), "n")->valueint, cJSON_GetObjectItem(m, "n")->valueint);
		assert_true(cJSON_GetObjectItem(m, "n")->valueint > 50);
		for (k = 0; k < 3; k++)
			same_figure(keys[k], cJSON_GetObjectItem(
			    cJSON_GetObjectItem(mine, name), keys[k])->valuedouble,
			    cJSON_GetObjectItem(m, keys[k])->valuedouble);
	}
	cJSON_Delete(mine);
	cJSON_Delete(doc);
	th_run_free(&r);
	th_run_free(&rep);
}

/* A database error mid-stream: a broken transfer, and no file. */
static void
test_cut_stream(void **state)
{
	const char *env[] = {"PCMDS_FAILPOINT=export-db-error:110", NULL};
	const char *path = file("cut", "events.csv");
	struct th_run r;
	struct dirent *e;
	DIR *d;

	(void)state;
	th_server_stop(&srv, SIGTERM);
	srv.bin = "pcmdsd-fp";
	th_server_start(&srv, env);
	pcmds(&r, 5, eval_a, (const char *[]){"extract", "--out", path, NULL});
	/* the first chunks had gone out: the cut is after some rows */
	assert_null(strstr(r.err, "cut off after 0 rows"));
	assert_null(strstr(r.err, "cut off after 1 rows"));
	if (strstr(r.err, "the extract was cut off after") == NULL)
		fail_msg("pcmds extract said: %s", r.err);
	assert_non_null(strstr(r.err, "nothing was written to"));
	th_run_free(&r);
	/* the cut stream's connection goes as its client does */
	th_connections_gone(&srv);
	assert_int_equal(access(path, F_OK), -1);
	assert_non_null(d = opendir(out));
	while ((e = readdir(d)) != NULL)
		assert_null(strstr(e->d_name, "cut-events.csv.partial"));
	closedir(d);
	/* to stdout: the same exit, and the audit says why */
	th_server_stop(&srv, SIGTERM);
	th_server_start(&srv, env);
	pcmds(&r, 5, eval_a, (const char *[]){"extract", "--quiet", NULL});
	th_run_free(&r);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE action = "
	    "'export.end' AND outcome LIKE 'database error%'") >= 1);
	th_server_stop(&srv, SIGTERM);
	srv.bin = "pcmdsd";
	th_server_start(&srv, NULL);
}

/*
 * The test build with pauses armed (PCMDS_PAUSE, failpoint.h), their
 * files made in dir; the auth header of an evaluator of its own.
 */
static void
paused_start(const char *pauses, char dir[700], char auth[128])
{
	char list[256], where[800];
	const char *env[] = {list, where, NULL};

	snprintf(dir, 700, "%s", th_tmpdir());
	snprintf(list, sizeof(list), "PCMDS_PAUSE=%s", pauses);
	snprintf(where, sizeof(where), "PCMDS_PAUSE_DIR=%s", dir);
	th_server_stop(&srv, SIGTERM);
	srv.bin = "pcmdsd-fp";
	th_server_start(&srv, env);
	snprintf(auth, 128, "Authorization: Bearer %s", th_enrol(&srv,
	    th_server_user(&srv, "evaluator", NULL, NULL), NULL));
}

static long
export_ends(const char *outcome)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM audit WHERE action = "
	    "'export.end' AND outcome LIKE '%s%%'", outcome);
	return th_sql_long(db, sql);
}

/* An export asked for on a raw connection, which is not read. */
static struct th_tls *
export_ask(const char *auth)
{
	struct th_tls *t;
	char req[512];

	assert_non_null(t = th_tls_open(&srv));
	snprintf(req, sizeof(req), "GET /v1/export HTTP/1.1\r\nHost: "
	    "localhost\r\n%s\r\n\r\n", auth);
	assert_int_equal(th_tls_write(t, req, strlen(req)), 0);
	return t;
}

/*
 * The client went away; once the export's stages let go, it is audited
 * as aborted (by a worker, so it is waited for, a minute at most), never
 * as complete, and the server goes on serving and stops clean (under
 * the sanitizers, with nothing leaked).
 */
static void
export_aborted(long aborted, long complete)
{
	struct th_http h;
	int i;

	for (i = 0; i < 6000 && export_ends("aborted by the client") ==
	    aborted; i++)
		usleep(10 * 1000);
	assert_int_equal(export_ends("aborted by the client"), aborted + 1);
	assert_int_equal(export_ends("complete"), complete);
	th_https(&srv, "GET", "/healthz", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	assert_int_equal(th_server_stop(&srv, SIGTERM), 0);
	srv.bin = "pcmdsd";
	th_server_start(&srv, NULL);
}

/*
 * The client cuts the stream while batches read ahead wait for their
 * rows: the first rows are held, the reader reads on into the next
 * batch, and the client leaves before any row has gone. It leaves with a
 * reset, and the stages go on only once the server has seen it go: had
 * the rest fitted the socket's buffers first, the export would rightly
 * be complete, as far as the server can know.
 */
static void
test_cut_read_ahead(void **state)
{
	char dir[700], auth[128];
	struct th_tls *t;
	long aborted, complete;

	(void)state;
	paused_start("export-rows,export-read-ahead", dir, auth);
	aborted = export_ends("aborted by the client");
	complete = export_ends("complete");
	t = export_ask(auth);
	th_pause_wait(dir, "export-rows");
	th_pause_wait(dir, "export-read-ahead");
	th_tls_reset(&srv, t);
	th_pause_go(dir, "export-read-ahead");
	th_pause_go(dir, "export-rows");
	export_aborted(aborted, complete);
}

/*
 * The export's connection goes while its reader is reading the last
 * referrals (and the server has seen it go, as above): the reader stops
 * there, and the export ends cut.
 */
static void
test_gone_while_reading(void **state)
{
	char dir[700], auth[128];
	struct th_tls *t;
	long aborted, complete;

	(void)state;
	paused_start("export-read-end", dir, auth);
	aborted = export_ends("aborted by the client");
	complete = export_ends("complete");
	t = export_ask(auth);
	th_pause_wait(dir, "export-read-end");
	th_tls_reset(&srv, t);
	th_pause_go(dir, "export-read-end");
	export_aborted(aborted, complete);
}

static void
test_progress_and_refusals(void **state)
{
	struct th_pty p;
	struct th_run r;

	(void)state;
	th_pty_start(&p, (const char *[]){"pcmds", "--home", eval_a, "extract",
	    "--out", file("tty", "events.csv"), NULL});
	th_pty_expect(&p, " rows, ");
	th_pty_expect(&p, " MB/s");
	assert_int_equal(th_pty_finish(&p), 0);
	th_pty_free(&p);
	/* place leads see no record-level data; bad arguments change nothing */
	pcmds(&r, 6, lead, (const char *[]){"extract", NULL});
	assert_non_null(strstr(r.err, "the server refused the extract (HTTP "
	    "403)"));
	th_run_free(&r);
	pcmds(&r, 2, eval_a, (const char *[]){"extract", "--shape", "people",
	    NULL});
	th_run_free(&r);
	pcmds(&r, 1, eval_a, (const char *[]){"extract", "--place", "ZZ",
	    "--out", file("zz", "events.csv"), NULL});
	assert_non_null(strstr(r.err, "no place has code ZZ"));
	th_run_free(&r);
	assert_int_equal(access(file("zz", "events.csv"), F_OK), -1);
	/* what is typed reaches the server as typed, never as more query */
	pcmds(&r, 1, eval_a, (const char *[]){"extract", "--place",
	    "Z Z&shape=pairs", "--out", file("zz", "events.csv"), NULL});
	assert_non_null(strstr(r.err, "no place has code Z Z&shape=pairs"));
	th_run_free(&r);
}

/* -- rows straight from the stored text, against the timeline's ---------- */

#define XREF	"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f"
#define XPERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"
#define XREC(n, kind, rest) "{\"id\":\"00000000-0000-4000-8000-00000000000" \
	#n "\",\"kind\":\"" kind "\",\"referral\":\"" XREF "\"," rest "}"

/*
 * The rows export_stored() makes of a referral's texts (canonical, as
 * stored, unless raw) equal those the timeline makes of them, for events
 * as NDJSON; the rows are returned (the caller frees them).
 */
static char *
stored_as_parsed(const char *const *json, size_t n, int raw)
{
	struct store_export_ref ref;
	struct export_out x = {.shape = EXPORT_EVENTS};
	struct recipient to;
	struct secret sec;
	struct buf fast, slow;
	const char *text[16];
	size_t len[16], i;
	struct rec *r[16];
	long rows;

	assert_true(n <= 16);
	memset(&sec, 7, sizeof(sec));
	assert_int_equal(recip_init(&to, &sec, 42), PC_OK);
	x.to = &to;
	for (i = 0; i < n; i++) {
		if (rec_load(json[i], strlen(json[i]), &r[i]) != PC_OK)
			fail_msg("fixture not loadable: %s", json[i]);
		text[i] = raw ? json[i] : r[i]->canon;
		len[i] = raw ? strlen(json[i]) : r[i]->canon_len;
	}
	memset(&ref, 0, sizeof(ref));
	snprintf(ref.id, sizeof(ref.id), "%s", XREF);
	ref.text = text;
	ref.len = len;
	ref.n = n;
	buf_init(&fast, 0);
	buf_init(&slow, 0);
	assert_int_equal(export_stored(&x, &ref, &fast), PC_OK);
	rows = x.rows;
	x.rows = 0;
	x.parsed = 1;
	assert_int_equal(export_stored(&x, &ref, &slow), PC_OK);
	assert_string_equal(buf_str(&fast), buf_str(&slow));
	assert_int_equal(rows, x.rows);
	for (i = 0; i < n; i++)
		rec_free(r[i]);
	recip_wipe(&to);
	buf_free(&slow);
	return buf_detach(&fast);
}

static void
test_stored_as_parsed(void **state)
{
	static const char *const plain[] = {
		XREC(0, "referral", "\"age\":40,\"consent_evaluation\":true,"
		    "\"device_seq\":1,\"nested\":{\"b\":[1,2.5,-3,{\"c\":null}],"
		    "\"a\":true},\"notes\":\"caf\\u00e9 \\\"q\\\" \\\\ \\n\\t\\u0001"
		    "\",\"person\":\"" XPERSON "\",\"reasons\":[\"stress\"],"
		    "\"recorded_at\":\"2026-05-01T10:00:00Z\",\"referred_on\":"
		    "\"2026-03-01\",\"schema\":\"pcmds/1\",\"worker\":\"lw1\""),
		XREC(1, "assessment", "\"device_seq\":2,\"life_satisfaction\":"
		    "6,\"x\":0.1,\"y\":-7,\"z\":1e300,\"recorded_at\":"
		    "\"2026-05-02T23:59:59Z\",\"worker\":\"lw2\""),
		XREC(2, "contact", "\"device_seq\":3,\"recorded_at\":\"2026\","
		    "\"worker\":\"lw1\""),
		XREC(3, "support", "\"device_seq\":4,\"place\":\"TH\""),
		XREC(4, "closure", "\"worker\":\"lw1\",\"target\":\"" XREF
		    "\",\"device_seq\":999999999999999"),
	};
	static const char *const corrected[] = {
		plain[0], plain[1], plain[2],
		XREC(5, "correction", "\"target\":\"00000000-0000-4000-8000-"
		    "000000000001\",\"set\":{\"life_satisfaction\":7},"
		    "\"device_seq\":5,\"worker\":\"lw3\""),
		XREC(6, "correction", "\"target\":\"00000000-0000-4000-8000-"
		    "000000000002\",\"void\":true,\"device_seq\":6,"
		    "\"worker\":\"lw3\""),
	};
	/* not as canonical text is, or not sure: through the timeline */
	static const char *const odd[] = {
		"{\"id\": \"" XREF "\",\"kind\":\"referral\",\"referral\":\""
		    XREF "\"}",
		"{\"kind\":\"contact\",\"id\":\"00000000-0000-4000-8000-"
		    "000000000001\",\"referral\":\"" XREF "\"}",
		XREC(2, "contact", "\"device_seq\":1.5,\"worker\":\"lw1\""),
		XREC(3, "contact", "\"device_seq\":12345678901234567,"
		    "\"worker\":\"lw1\""),
		XREC(4, "contact", "\"device_seq\":-2,\"worker\":\"lw1\""),
		XREC(5, "contact", "\"person\":\"\\u0041\",\"worker\":7,"
		    "\"device_seq\":3"),
		XREC(6, "contact", "\"worker\":\"lw1\",\"zz\":[1, 2]"),
	};
	char *rows;
	size_t i;

	(void)state;
	rows = stored_as_parsed(plain, 5, 0);
	/* re-keyed and cut to the day, the rest as stored */
	assert_null(strstr(rows, XREF));
	assert_null(strstr(rows, XPERSON));
	assert_null(strstr(rows, "\"lw1\""));
	assert_null(strstr(rows, "T10:00"));
	assert_non_null(strstr(rows, "\"recorded_at\":\"2026-05-01\""));
	assert_non_null(strstr(rows, "\"recorded_at\":\"2026\""));
	assert_non_null(strstr(rows, "caf\u00e9 \\\"q\\\" \\\\ \\n\\t\\u0001"));
	assert_non_null(strstr(rows, "\"z\":1.0000000000000001e+300"));
	free(rows);
	rows = stored_as_parsed(corrected, 5, 0);
	assert_null(strstr(rows, "\"kind\":\"correction\""));
	assert_null(strstr(rows, "\"kind\":\"contact\""));	/* voided */
	assert_non_null(strstr(rows, "\"life_satisfaction\":7"));
	assert_non_null(strstr(rows, "\"corrected_by\":[\"w"));
	free(rows);
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		free(stored_as_parsed(&odd[i], 1, 1));
}

/*
 * A kind this version does not know (a newer server's, on a shared
 * database) may hold identifiers it would not re-key: never copied
 * through, the referral fails as its reading does.
 */
static void
test_unknown_kind_not_copied(void **state)
{
	const char *text[] = {XREC(1, "referral", "\"worker\":\"lw1\""),
	    XREC(2, "future_kind", "\"some_id\":\"" XPERSON "\","
	    "\"worker\":\"lw1\"")};
	size_t len[] = {strlen(text[0]), strlen(text[1])};
	struct export_out x = {.shape = EXPORT_EVENTS};
	struct store_export_ref ref;
	struct recipient to;
	struct secret sec;
	struct buf rows;

	(void)state;
	memset(&sec, 7, sizeof(sec));
	assert_int_equal(recip_init(&to, &sec, 42), PC_OK);
	x.to = &to;
	memset(&ref, 0, sizeof(ref));
	snprintf(ref.id, sizeof(ref.id), "%s", XREF);
	ref.text = text;
	ref.len = len;
	ref.n = 2;
	buf_init(&rows, 0);
	assert_int_not_equal(export_stored(&x, &ref, &rows), PC_OK);
	assert_null(strstr(buf_str(&rows), XPERSON));
	assert_null(strstr(buf_str(&rows), XREF));
	recip_wipe(&to);
	buf_free(&rows);
}

/*
 * Referrals read ahead into a batch make the rows, in order, that each
 * would make on its own; a batch used again after a reset holds only
 * what came after it.
 */
static void
test_batch_rows(void **state)
{
	static const char *const text[] = {
		XREC(1, "referral", "\"device_seq\":1,\"worker\":\"lw1\""),
		XREC(2, "contact", "\"device_seq\":2,\"notes\":\"a \\\"b\\\"\","
		    "\"worker\":\"lw1\""),
		XREC(3, "correction", "\"device_seq\":3,\"target\":\"00000000-"
		    "0000-4000-8000-000000000002\",\"void\":true,\"worker\":"
		    "\"lw2\""),
	};
	size_t len[3] = {strlen(text[0]), strlen(text[1]), strlen(text[2])};
	struct export_out x = {.shape = EXPORT_EVENTS};
	struct store_export_ref ref[40];
	struct store_texts b;
	struct recipient to;
	struct secret sec;
	struct buf one, all;
	size_t i, round;

	(void)state;
	memset(&sec, 5, sizeof(sec));
	assert_int_equal(recip_init(&to, &sec, 7), PC_OK);
	x.to = &to;
	store_texts_init(&b);
	for (round = 0; round < 2; round++) {
		buf_init(&one, 0);
		buf_init(&all, 0);
		store_texts_reset(&b);
		/* more referrals and texts than a new batch has room for */
		for (i = 0; i < 40; i++) {
			memset(&ref[i], 0, sizeof(ref[i]));
			snprintf(ref[i].id, sizeof(ref[i].id), "%s", XREF);
			ref[i].text = text;
			ref[i].len = len;
			ref[i].n = 1 + (i + round) % 3;
			assert_int_equal(store_texts_copy(&b, &ref[i]), PC_OK);
			assert_int_equal(export_stored(&x, &ref[i], &one), PC_OK);
		}
		assert_int_equal(b.nref, 40);
		assert_int_equal(export_batch_rows(&x, &b, &all), PC_OK);
		assert_true(all.len > 0);
		assert_string_equal(buf_str(&all), buf_str(&one));
		buf_free(&one);
		buf_free(&all);
	}
	store_texts_free(&b);
	recip_wipe(&to);
}

/* What a recipient remembers is what it would hash again. */
static void
test_recipient_memo(void **state)
{
	struct recipient warm, cold;
	struct secret sec;
	char a[SEC_HEX64_LEN], b[SEC_HEX64_LEN], v[UUID_LEN];
	int i;

	(void)state;
	memset(&sec, 3, sizeof(sec));
	assert_int_equal(recip_init(&warm, &sec, 9), PC_OK);
	for (i = 0; i < 200; i++) {
		/* a few values again and again among ever new ones */
		snprintf(v, sizeof(v), "00000000-0000-4000-8000-%012d",
		    i % 3 ? i % 5 : i);
		assert_int_equal(recip_init(&cold, &sec, 9), PC_OK);
		switch (i % 4) {
		case 0:
			recip_id(&warm, v, a);
			recip_id(&cold, v, b);
			break;
		case 1:
			recip_person(&warm, v, a);
			recip_person(&cold, v, b);
			break;
		case 2:
			recip_worker(&warm, v, a);
			recip_worker(&cold, v, b);
			break;
		default:
			snprintf(a, sizeof(a), "%lld", (long long)recip_seq(
			    &warm, v, i % 7));
			snprintf(b, sizeof(b), "%lld", (long long)recip_seq(
			    &cold, v, i % 7));
		}
		assert_string_equal(a, b);
		recip_wipe(&cold);
	}
	/* and each kind of identifier keeps to its own space */
	recip_id(&warm, "x", a);
	recip_worker(&warm, "x", b);
	assert_memory_not_equal(a + 1, b + 1, 8);
	recip_wipe(&warm);
}

static void
test_doc_in_step(void **state)
{
	struct buf b;
	char *doc;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(export_markdown(&b), PC_OK);
	doc = th_slurp("docs/export.md", NULL);
	if (doc == NULL)
		fail_msg("docs/export.md is missing: run make docs");
	if (strcmp(doc, buf_str(&b)) != 0)
		fail_msg("docs/export.md differs from the code: run make docs "
		    "and review the change");
	/* both shapes, every column of each, and the snippets */
	assert_non_null(strstr(doc, "| `corrected_by` |"));
	assert_non_null(strstr(doc, "| `followup_anxious` | whole number |"));
	assert_non_null(strstr(doc, "```r\n"));
	assert_non_null(strstr(doc, "```python\n"));
	free(doc);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_roles),
		cmocka_unit_test(test_extract_shapes),
		cmocka_unit_test(test_connections_after_exports),
		cmocka_unit_test(test_two_evaluators_unlinkable),
		cmocka_unit_test(test_no_device_pseudonym),
		cmocka_unit_test(test_no_record_id),
		cmocka_unit_test(test_pairs_reproduce_figures),
		cmocka_unit_test(test_cut_stream),
		cmocka_unit_test(test_cut_read_ahead),
		cmocka_unit_test(test_gone_while_reading),
		cmocka_unit_test(test_progress_and_refusals),
		cmocka_unit_test(test_stored_as_parsed),
		cmocka_unit_test(test_unknown_kind_not_copied),
		cmocka_unit_test(test_batch_rows),
		cmocka_unit_test(test_recipient_memo),
		cmocka_unit_test(test_doc_in_step),
	};

	return cmocka_run_group_tests_name("export", tests, up, down);
}

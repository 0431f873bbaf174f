/*
 * test_takeup.c - take-up per community asset (GET
 * /v1/places/{code}/assets, the dashboard's section, pcmds report
 * --assets) against hand-built records posted to a real server: a
 * correction moving a support record to another asset, a voided support
 * record, a voided referral, a referral offered the same asset twice, free
 * text; disclosure control as for every other count; roles; CSV and JSON
 * agreeing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jout.h"

static struct th_server srv;
static char lead_nh[64], lead_th[64], eval_tok[64], worker_tok[64];
static char nh_worker[32], th_tok[64], th_worker[32];

static const char *const directory =
    "id,name,category,place\n"
    "nh-walk,Park Walking Group,physical_activity,NH\n"
    "nh-small,Tea and Talk,befriending_social,NH\n"
    "nh-food,Lunch Club,food,NH\n"
    "nh-choir,Community Choir,arts_culture,NH\n"
    "th-arts,Arts Hub,arts_culture,TH\n";

static char *
uuid(int n)
{
	static char b[8][40];
	static int k;
	char *p = b[k++ % 8];

	snprintf(p, 40, "%08x-0000-4000-8000-%012x", 0x10000000u + (unsigned)n,
	    (unsigned)n);
	return p;
}

struct batch {
	char	*json;
	size_t	 len, cap;
	int	 seq;
	const char *worker, *place;
};

static void
add(struct batch *b, const char *fmt, ...) __attribute__((format(printf, 2,
    3)));

static void
add(struct batch *b, const char *fmt, ...)
{
	char rec[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(rec, sizeof(rec), fmt, ap);
	va_end(ap);
	n = (int)strlen(rec) + 8;
	if (b->len + (size_t)n + 64 > b->cap) {
		b->cap = (b->cap + (size_t)n + 64) * 2;
		b->json = realloc(b->json, b->cap);
		assert_non_null(b->json);
	}
	b->len += (size_t)snprintf(b->json + b->len, b->cap - b->len, "%s%s",
	    b->len ? "," : "", rec);
}

#define HEAD "\"schema\":\"pcmds/1\",\"recorded_at\":\"2026-04-30T10:00:00Z\"," \
	"\"device_seq\":%d,\"worker\":\"%s\",\"place\":\"%s\""

static void
referral(struct batch *b, int ref, const char *on)
{
	char person[72];

	snprintf(person, sizeof(person), "%08x%08x%08x%08x%08x%08x%08x%08x",
	    0xa0000000u + (unsigned)ref, 1u, 2u, 3u, 4u, 5u, 6u, 7u);
	add(b, "{\"id\":\"%s\",\"kind\":\"referral\"," HEAD ",\"referral\":"
	    "\"%s\",\"person\":\"%s\",\"person_basis\":\"nhs_number\","
	    "\"referred_on\":\"%s\",\"source\":\"self\",\"reasons\":"
	    "[\"stress\"],\"service\":\"general\",\"age\":40,\"gender\":"
	    "\"female\",\"ethnicity\":\"A\",\"consent_evaluation\":true}",
	    uuid(ref), ++b->seq, b->worker, b->place, uuid(ref), person, on);
}

/* A support record (id rec) of referral ref; asset NULL: free text. */
static void
support(struct batch *b, int rec, int ref, const char *asset,
    const char *category, const char *outcome)
{
	char extra[96] = "";

	if (asset != NULL)
		snprintf(extra, sizeof(extra), ",\"asset\":\"%s\"", asset);
	add(b, "{\"id\":\"%s\",\"kind\":\"support\"," HEAD ",\"referral\":"
	    "\"%s\",\"offered_on\":\"2026-04-25\",\"category\":\"%s\","
	    "\"provider\":\"A local group\",\"outcome\":\"%s\"%s}", uuid(rec),
	    ++b->seq, b->worker, b->place, uuid(ref), category, outcome, extra);
}

static void
correction(struct batch *b, int rec, int ref, int target, const char *what)
{
	add(b, "{\"id\":\"%s\",\"kind\":\"correction\"," HEAD ",\"referral\":"
	    "\"%s\",\"target\":\"%s\",%s}", uuid(rec), ++b->seq, b->worker,
	    b->place, uuid(ref), uuid(target), what);
}

static void
post(struct batch *b, const char *token)
{
	char *body = malloc(b->len + 32);
	struct th_http h;
	cJSON *j, *res;

	snprintf(body, b->len + 32, "{\"records\":[%s]}", b->json);
	th_post_records(&srv, token, body, &h);
	if (h.status != 200)
		fail_msg("POST /v1/records: %ld %s", h.status, h.body);
	j = th_json(h.body);
	cJSON_ArrayForEach(res, cJSON_GetObjectItem(j, "results"))
		if (strcmp(cJSON_GetObjectItem(res, "status")->valuestring,
		    "stored") != 0)
			fail_msg("a record was not stored: %s",
			    cJSON_PrintUnformatted(res));
	cJSON_Delete(j);
	th_http_free(&h);
	free(body);
	free(b->json);
	memset(b, 0, sizeof(*b));
}

/*
 * NH, referred in March 2026 (ids 1-20): every one offered the walking
 * group; 1 offered it twice and took it up the second time; 1-3 offered
 * tea and talk, 17 too after a correction moved its record from the lunch
 * club; 18's lunch club record voided; 5-16 free text, 5 twice, 5-9 taken
 * up and 10 completed. 21 (March) voided with its walking group record;
 * 22 referred in April, offered the walking group. TH: 4 referrals, each
 * offered the arts hub.
 */
static int
up(void **state)
{
	struct batch b;
	struct th_run r;
	const char *path;
	char on[16];
	long id;
	int i;

	(void)state;
	th_server_init(&srv, NULL);
	th_server_start(&srv, NULL);
	path = th_path(th_tmpdir(), "assets.csv");
	th_write(path, directory);
	{
		char args[700];

		snprintf(args, sizeof(args), "assets import %s", path);
		th_server_admin(&srv, &r, args);
		assert_int_equal(r.status, 0);
		th_run_free(&r);
	}
	snprintf(worker_tok, sizeof(worker_tok), "%s", th_enrol(&srv,
	    th_server_user(&srv, "link_worker", "NH", &id), NULL));
	snprintf(nh_worker, sizeof(nh_worker), "nh-lw%ld", id);
	snprintf(th_tok, sizeof(th_tok), "%s", th_enrol(&srv,
	    th_server_user(&srv, "link_worker", "TH", &id), NULL));
	snprintf(th_worker, sizeof(th_worker), "th-lw%ld", id);
	memset(&b, 0, sizeof(b));
	b.worker = nh_worker;
	b.place = "NH";
	for (i = 1; i <= 22; i++) {
		snprintf(on, sizeof(on), "2026-%s-%02d", i == 22 ? "04" : "03",
		    i);
		referral(&b, i, on);
		support(&b, 100 + i, i, "nh-walk", "physical_activity",
		    "offered");
	}
	support(&b, 200, 1, "nh-walk", "physical_activity", "taken_up");
	for (i = 1; i <= 3; i++)
		support(&b, 210 + i, i, "nh-small", "befriending_social",
		    "offered");
	support(&b, 217, 17, "nh-food", "food", "offered");
	correction(&b, 317, 17, 217, "\"set\":{\"asset\":\"nh-small\","
	    "\"category\":\"befriending_social\"}");
	support(&b, 218, 18, "nh-food", "food", "taken_up");
	correction(&b, 318, 18, 218, "\"void\":true,\"reason\":\"recorded "
	    "on the wrong referral\"");
	correction(&b, 321, 21, 21, "\"void\":true,\"reason\":\"a duplicate "
	    "referral\"");
	for (i = 5; i <= 16; i++)
		support(&b, 400 + i, i, NULL, "food", i <= 9 ? "taken_up" :
		    i == 10 ? "completed" : "declined");
	support(&b, 500, 5, NULL, "learning", "offered");
	post(&b, worker_tok);
	b.worker = th_worker;
	b.place = "TH";
	for (i = 1; i <= 4; i++) {
		snprintf(on, sizeof(on), "2026-03-%02d", i);
		referral(&b, 600 + i, on);
		support(&b, 700 + i, 600 + i, "th-arts", "arts_culture",
		    "taken_up");
	}
	post(&b, th_tok);
	snprintf(lead_nh, sizeof(lead_nh), "%s", th_enrol(&srv,
	    th_server_user(&srv, "place_lead", "NH", NULL), NULL));
	snprintf(lead_th, sizeof(lead_th), "%s", th_enrol(&srv,
	    th_server_user(&srv, "place_lead", "TH", NULL), NULL));
	snprintf(eval_tok, sizeof(eval_tok), "%s", th_enrol(&srv,
	    th_server_user(&srv, "evaluator", NULL, NULL), NULL));
	return 0;
}

static int
down(void **state)
{
	(void)state;
	th_server_stop(&srv, SIGTERM);
	return 0;
}

static void
get(const char *token, const char *path, struct th_http *h)
{
	char auth[128];
	const char *hdr[] = {auth, NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	th_https(&srv, "GET", path, hdr, NULL, 0, h);
}

static cJSON *
get_json(const char *token, const char *path, long status)
{
	struct th_http h;
	cJSON *j;

	get(token, path, &h);
	if (h.status != status)
		fail_msg("GET %s: %ld %s", path, h.status, h.body);
	j = th_json(h.body);
	th_http_free(&h);
	return j;
}

static const cJSON *
row(const cJSON *doc, const char *id)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(doc, "assets"))
		if (strcmp(cJSON_GetObjectItem(a, "id")->valuestring, id) == 0)
			return a;
	fail_msg("no row for %s", id);
	return NULL;
}

static long
n_of(const cJSON *o, const char *field)
{
	const cJSON *v = cJSON_GetObjectItem(o, field);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", field);
	return (long)v->valuedouble;
}

#define MARCH	"from=2026-03&to=2026-03"

/* The exact counts, for an evaluator without disclosure control. */
static void
test_counts(void **state)
{
	cJSON *j;
	const cJSON *ft;

	(void)state;
	j = get_json(eval_tok, "/v1/places/NH/assets?suppress=false&"
	    MARCH, 200);
	assert_int_equal(n_of(cJSON_GetObjectItem(j, "reach"), "referrals"),
	    20);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "assets")),
	    4);					/* NH's directory only */
	/* offered twice, counted once; taken up once */
	assert_int_equal(n_of(row(j, "nh-walk"), "offered"), 20);
	assert_int_equal(n_of(row(j, "nh-walk"), "taken_up"), 1);
	assert_double_equal(cJSON_GetObjectItem(row(j, "nh-walk"),
	    "taken_up_pct")->valuedouble, 5.0, 1e-12);
	assert_string_equal(cJSON_GetObjectItem(row(j, "nh-walk"),
	    "name")->valuestring, "Park Walking Group");
	assert_string_equal(cJSON_GetObjectItem(row(j, "nh-walk"),
	    "category")->valuestring, "physical_activity");
	/* the correction moved 17's record here; the void took 18's away */
	assert_int_equal(n_of(row(j, "nh-small"), "offered"), 4);
	assert_int_equal(n_of(row(j, "nh-small"), "taken_up"), 0);
	assert_int_equal(n_of(row(j, "nh-food"), "offered"), 0);
	assert_int_equal(n_of(row(j, "nh-food"), "taken_up"), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(row(j, "nh-food"),
	    "taken_up_pct")));
	assert_int_equal(n_of(row(j, "nh-choir"), "offered"), 0);
	/* free text: 12 referrals (5 twice), 5 taken up and 1 completed */
	ft = cJSON_GetObjectItem(j, "free_text");
	assert_int_equal(n_of(ft, "offered"), 12);
	assert_int_equal(n_of(ft, "taken_up"), 6);
	assert_double_equal(cJSON_GetObjectItem(ft, "taken_up_pct")->
	    valuedouble, 50.0, 1e-12);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "unsuppressed")));
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j,
	    "disclosure_control")));
	cJSON_Delete(j);
	/* without a period: April's referral too, never the voided one */
	j = get_json(eval_tok, "/v1/places/NH/assets?suppress=false", 200);
	assert_int_equal(n_of(row(j, "nh-walk"), "offered"), 21);
	assert_int_equal(n_of(cJSON_GetObjectItem(j, "reach"), "referrals"),
	    21);
	cJSON_Delete(j);
	/* unsuppressed figures are audited like every other */
	{
		char db[700];

		snprintf(db, sizeof(db), "%s/pcmds.db", srv.dir);
		assert_true(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE "
		    "action = 'aggregates.unsuppressed' AND object LIKE "
		    "'/v1/places/NH/assets%'") >= 2);
	}
}

/* Under disclosure control: the same path as every other count. */
static void
test_disclosure(void **state)
{
	cJSON *j, *imp;
	const cJSON *walk, *ft;

	(void)state;
	j = get_json(lead_nh, "/v1/places/NH/assets?" MARCH, 200);
	imp = get_json(lead_nh, "/v1/places/NH/impact?" MARCH, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "disclosure_control")));
	assert_null(cJSON_GetObjectItem(j, "unsuppressed"));
	/* the same referrals, the same people: the same published figure */
	walk = row(j, "nh-walk");
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(walk, "offered")));
	assert_int_equal(n_of(walk, "offered") % 5, 0);
	assert_int_equal(n_of(walk, "offered"), n_of(cJSON_GetObjectItem(imp,
	    "reach"), "referrals"));
	assert_int_equal(n_of(cJSON_GetObjectItem(j, "reach"), "referrals"),
	    n_of(cJSON_GetObjectItem(imp, "reach"), "referrals"));
	/* 4 (1-7 with its noise): suppressed, its take-up too */
	assert_string_equal(cJSON_GetObjectItem(row(j, "nh-small"),
	    "offered")->valuestring, "suppressed");
	assert_string_equal(cJSON_GetObjectItem(row(j, "nh-small"),
	    "taken_up")->valuestring, "suppressed");
	assert_string_equal(cJSON_GetObjectItem(row(j, "nh-small"),
	    "taken_up_pct")->valuestring, "withheld");
	/* one hidden alone: the next smallest (free text, 12) hidden too */
	ft = cJSON_GetObjectItem(j, "free_text");
	assert_string_equal(cJSON_GetObjectItem(ft, "offered")->valuestring,
	    "suppressed");
	/* zeros stay zero */
	assert_int_equal(n_of(row(j, "nh-food"), "offered"), 0);
	cJSON_Delete(imp);
	cJSON_Delete(j);
	/* TH's 4 referrals are suppressed: so is every row about them */
	j = get_json(lead_th, "/v1/places/TH/assets?" MARCH, 200);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
	    "reach"), "referrals")->valuestring, "suppressed");
	assert_string_equal(cJSON_GetObjectItem(row(j, "th-arts"),
	    "offered")->valuestring, "suppressed");
	assert_string_equal(cJSON_GetObjectItem(row(j, "th-arts"),
	    "taken_up")->valuestring, "suppressed");
	cJSON_Delete(j);
	/* the same periods as the other figures: whole completed months */
	j = get_json(lead_nh, "/v1/places/NH/assets?from=2026-03-02", 400);
	{
		char *t = cJSON_PrintUnformatted(j);

		assert_non_null(strstr(t, "whole calendar months"));
		free(t);
	}
	cJSON_Delete(j);
}

static void
status(const char *token, const char *path, long want)
{
	struct th_http h;

	get(token, path, &h);
	if (h.status != want)
		fail_msg("GET %s: %ld, wanted %ld: %s", path, h.status, want,
		    h.body);
	th_http_free(&h);
}

static void
test_roles(void **state)
{
	(void)state;
	status(lead_nh, "/v1/places/NH/assets?suppress=false", 403);
	status(lead_nh, "/v1/places/TH/assets", 403);
	status(worker_tok, "/v1/places/NH/assets", 403);
	status(eval_tok, "/v1/places/TH/assets", 200);
	status(eval_tok, "/v1/places/ALL/assets", 404);
	status(eval_tok, "/v1/places/ZZ/assets", 404);
	status(eval_tok, "/v1/places/NH/assets?group_by=gender", 400);
	status(eval_tok, "/v1/places/NH/assetz", 404);
}

/* The CSV row of an asset's measure (group "" is the free text). */
static const char *
csv_value(const char *csv, const char *section, const char *group,
    const char *measure)
{
	static char v[64];
	char key[200];
	const char *p;
	size_t n;

	snprintf(key, sizeof(key), ",asset,%s,%s,%s,", group, section,
	    measure);
	if ((p = strstr(csv, key)) == NULL)
		fail_msg("no CSV row %s", key);
	p += strlen(key);
	n = strcspn(p, ",");
	snprintf(v, sizeof(v), "%.*s", (int)n, p);
	return v;
}

/* Each published figure of a row, in the JSON and in the CSV. */
static void
agree_row(const char *csv, const char *section, const char *group,
    const cJSON *o)
{
	static const char *const fields[] = {"offered", "taken_up",
	    "taken_up_pct"};
	const cJSON *v;
	char want[64];
	size_t i;

	for (i = 0; i < 3; i++) {
		v = cJSON_GetObjectItem(o, fields[i]);
		if (cJSON_IsNumber(v))
			jout_double(v->valuedouble, want);
		else
			snprintf(want, sizeof(want), "%s", cJSON_IsNull(v) ? "" :
			    v->valuestring);
		assert_string_equal(csv_value(csv, section, group, fields[i]),
		    want);
	}
}

static void
agree(const char *query)
{
	char path[256];
	struct th_http h;
	const cJSON *a;
	cJSON *j;

	snprintf(path, sizeof(path), "/v1/places/NH/assets?%s", query);
	j = get_json(eval_tok, path, 200);
	snprintf(path, sizeof(path), "/v1/places/NH/assets?%s&format=csv",
	    query);
	get(eval_tok, path, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.ctype, "text/csv"));
	assert_int_equal(strncmp(h.body, "place,from,to,group_by,group,"
	    "section,measure,value,disclosure\r\n", 61), 0);
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(j, "assets"))
		agree_row(h.body, "assets", cJSON_GetObjectItem(a,
		    "id")->valuestring, a);
	agree_row(h.body, "free_text", "", cJSON_GetObjectItem(j,
	    "free_text"));
	assert_non_null(strstr(h.body, ",asset,nh-walk,assets,name,Park "
	    "Walking Group,"));
	cJSON_Delete(j);
	th_http_free(&h);
}

static void
test_csv_json_agree(void **state)
{
	(void)state;
	agree("suppress=false&" MARCH);
	agree(MARCH);
}

/* The dashboard's section, and the client's report. */
static void
test_dashboard_and_report(void **state)
{
	struct th_http h;
	struct th_run r;
	char home[512];
	cJSON *j;

	(void)state;
	get(lead_nh, "/dashboard?" MARCH, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "<h3 id=\"own-assets\">Community "
	    "assets: take-up</h3>"));
	assert_non_null(strstr(h.body, "href=\"#own-assets\""));
	assert_non_null(strstr(h.body, "Park Walking Group"));
	assert_non_null(strstr(h.body, "Free text (no directory entry)"));
	assert_null(strstr(h.body, "Arts Hub"));	/* TH's, not theirs */
	th_http_free(&h);
	/* an evaluator's dashboard has every place's directory */
	get(eval_tok, "/dashboard?" MARCH, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "Take-up per community asset: Newham"));
	assert_non_null(strstr(h.body, "Take-up per community asset: Tower "
	    "Hamlets"));
	assert_non_null(strstr(h.body, "Arts Hub"));
	th_http_free(&h);
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--server", srv.url, "--code", th_server_user(&srv, "evaluator",
	    NULL, NULL), "--cacert", srv.ca, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "NH",
	    "--assets", "--unsuppressed", "--from", "2026-03", "--to",
	    "2026-03", NULL);
	if (r.status != 0)
		fail_msg("report --assets: %s", r.err);
	assert_int_equal(strncmp(r.out, "*** UNSUPPRESSED", 16), 0);
	assert_non_null(strstr(r.out, "Park Walking Group"));
	assert_non_null(strstr(r.out, "Free text (no directory entry)"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "NH",
	    "--assets", "--unsuppressed", "--from", "2026-03", "--to",
	    "2026-03", "--format", "json", NULL);
	assert_int_equal(r.status, 0);
	j = th_json(r.out);
	assert_int_equal(n_of(row(j, "nh-small"), "offered"), 4);
	cJSON_Delete(j);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "NH",
	    "--assets", "--unsuppressed", "--from", "2026-03", "--to",
	    "2026-03", "--format", "csv", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, ",asset,nh-small,assets,offered,4,"
	    "unsuppressed\r\n"));
	th_run_free(&r);
	/* --assets needs a place: said before asking the server */
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--assets", NULL);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "--assets needs --place"));
	th_run_free(&r);
}

/* One place's counts: offered and taken up of an asset, exactly. */
static void
exact(const char *id, long offered, long taken)
{
	cJSON *j = get_json(eval_tok, "/v1/places/NH/assets?suppress=false&"
	    MARCH, 200);

	assert_int_equal(n_of(row(j, id), "offered"), offered);
	assert_int_equal(n_of(row(j, id), "taken_up"), taken);
	cJSON_Delete(j);
}

/* A correction in a later batch: the counts follow at once. */
static void
test_later_correction(void **state)
{
	struct batch b;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.worker = nh_worker;
	b.place = "NH";
	b.seq = 1000;
	correction(&b, 802, 2, 102, "\"set\":{\"asset\":\"nh-choir\","
	    "\"category\":\"arts_culture\",\"outcome\":\"completed\"}");
	post(&b, worker_tok);
	exact("nh-walk", 19, 1);
	exact("nh-choir", 1, 1);
}

/* Kept beside the facts: facts from before are worked out again. */
static void
test_rebuilt_on_upgrade(void **state)
{
	char db[700];

	(void)state;
	snprintf(db, sizeof(db), "%s/pcmds.db", srv.dir);
	th_server_stop(&srv, SIGTERM);
	/*
	 * the facts as a version 3 pcmdsd wrote them: its version (bytes 5
	 * and 6, little-endian) and no take-up mark (the last field, 4 bytes)
	 */
	th_sql(db, "DELETE FROM takeup");
	th_sql(db, th_store_pg() ? "UPDATE facts SET data = substring(data "
	    "from 1 for 4) || '\\x0300'::bytea || substring(data from 7 for "
	    "length(data) - 10)" : "UPDATE facts SET data = CAST(substr(data, 1, "
	    "4) || X'0300' || substr(data, 7, length(data) - 10) AS BLOB)");
	th_server_start(&srv, NULL);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM takeup") > 0);
	exact("nh-walk", 19, 1);
	exact("nh-small", 4, 0);
	exact("nh-choir", 1, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_disclosure),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_csv_json_agree),
		cmocka_unit_test(test_dashboard_and_report),
		cmocka_unit_test(test_later_correction),
		cmocka_unit_test(test_rebuilt_on_upgrade),
	};

	return cmocka_run_group_tests_name("takeup", tests, up, down);
}

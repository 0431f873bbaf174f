/*
 * test_assets.c - directories of community assets: pcmdsd assets import
 * (every bad row refused, nothing half-loaded), GET /v1/assets scoped to
 * the token's place, a support record's asset checked by the real
 * server, and the real client receiving its place's directory at sync.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define REF1	"11111111-1111-4111-8111-111111111111"
#define SUP1	"33333333-3333-4333-8333-333333333333"
#define SUP2	"44444444-4444-4444-8444-444444444444"
#define SUP3	"55555555-5555-4555-8555-555555555555"
#define PERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"

static struct th_server srv;

static int
up(void **state)
{
	(void)state;
	th_server_init(&srv, NULL);
	th_server_start(&srv, NULL);
	return 0;
}

static int
down(void **state)
{
	(void)state;
	th_server_stop(&srv, SIGTERM);
	return 0;
}

static struct th_server *target = &srv;	/* import()'s server */

static void
import(const char *csv, int want_status, struct th_run *r)
{
	const char *path = th_path(th_tmpdir(), "assets.csv");
	char args[700];

	th_write(path, csv);
	snprintf(args, sizeof(args), "assets import %s", path);
	th_server_admin(target, r, args);
	if (r->status != want_status)
		fail_msg("assets import: %d, wanted %d: %s%s", r->status,
		    want_status, r->out, r->err);
}

static cJSON *
get_assets(const char *token, long want)
{
	char auth[128];
	const char *hdr[] = {auth, NULL};
	struct th_http h;
	cJSON *j = NULL;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	th_https(&srv, "GET", "/v1/assets", token ? hdr : NULL, NULL, 0, &h);
	if (h.status != want)
		fail_msg("GET /v1/assets: %ld, wanted %ld: %s", h.status, want,
		    h.body);
	if (want == 200)
		j = th_json(h.body);
	th_http_free(&h);
	return j;
}

static const cJSON *
entry(const cJSON *doc, const char *id)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(doc, "assets"))
		if (strcmp(cJSON_GetObjectItem(a, "id")->valuestring, id) == 0)
			return a;
	return NULL;
}

static const char *const good =
    "id,name,category,place,contact,notes\n"
    "nh-walk-01,Park Walking Group,physical_activity,NH,Meet at the cafe,\n"
    "nh-food-01,Lunch Club,Food support,NH,,Tuesdays\n"
    "th-arts-01,Community Choir,arts_culture,TH,,\n";

static void
test_import_and_scope(void **state)
{
	struct th_run r;
	long id;
	char nh[64], th[64];
	cJSON *j;

	(void)state;
	snprintf(nh, sizeof(nh), "%s", th_enrol(&srv, th_server_user(&srv,
	    "link_worker", "NH", &id), NULL));
	snprintf(th, sizeof(th), "%s", th_enrol(&srv, th_server_user(&srv,
	    "link_worker", "TH", NULL), NULL));
	import(good, 0, &r);
	assert_non_null(strstr(r.out, "3 community assets imported for 2 "
	    "places"));
	th_run_free(&r);
	/* a token sees its own place's directory, and only that */
	j = get_assets(nh, 200);
	assert_string_equal(cJSON_GetObjectItem(j, "place")->valuestring, "NH");
	assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint, 2);
	assert_non_null(entry(j, "nh-walk-01"));
	assert_null(entry(j, "th-arts-01"));
	/* a label is taken for the category and stored as its code */
	assert_string_equal(cJSON_GetObjectItem(entry(j, "nh-food-01"),
	    "category")->valuestring, "food");
	assert_string_equal(cJSON_GetObjectItem(entry(j, "nh-walk-01"),
	    "contact")->valuestring, "Meet at the cafe");
	cJSON_Delete(j);
	j = get_assets(th, 200);
	assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint, 1);
	cJSON_Delete(j);
	/* no token, or an evaluator's: refused */
	get_assets(NULL, 401);
	get_assets(th_enrol(&srv, th_server_user(&srv, "evaluator", NULL,
	    NULL), NULL), 403);
	/* a new file for NH retires what it leaves out, and keeps it */
	import("id,name,category,place\n"
	    "nh-walk-01,Park Walking Group (Saturdays),physical_activity,NH\n",
	    0, &r);
	th_run_free(&r);
	j = get_assets(nh, 200);
	assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint, 2);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(entry(j, "nh-food-01"),
	    "active")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(entry(j, "nh-walk-01"),
	    "active")));
	assert_string_equal(cJSON_GetObjectItem(entry(j, "nh-walk-01"),
	    "name")->valuestring, "Park Walking Group (Saturdays)");
	cJSON_Delete(j);
	/* TH was not in the file: its directory is unchanged */
	j = get_assets(th, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(entry(j, "th-arts-01"),
	    "active")));
	cJSON_Delete(j);
}

/* Each kind of bad file: a sentence naming the row, nothing stored. */
static void
test_import_refused(void **state)
{
	static const struct {
		const char	*csv;
		const char	*says;
	} bad[] = {
		{"name,category,place\nX,food,NH\n", "header must name id"},
		{"id,name,category,place\nnh-x,X,cooking,NH\n",
		    "row 2: category \"cooking\" is not a support category"},
		{"id,name,category,place\nnh-x,X,food,ZZ\n",
		    "row 2: place ZZ is not one of the deployment's places"},
		{"id,name,category,place\nnh x,X,food,NH\n",
		    "row 2: Community asset must be the id of an entry"},
		{"id,name,category,place\nnh-x,,food,NH\n",
		    "row 2: id, name, category and place are required"},
		{"id,name,category,place\nnh-x,A,food,NH\nnh-x,B,food,NH\n",
		    "row 3: NH nh-x is listed twice"},
		{"id,name,category,place,notes\n"
		    "nh-x,A,food,NH,\"two\nlines\"\n",
		    "row 2: Notes (notes) must not contain a control character"},
		{"id,name,category,place\n", "lists no assets"},
	};
	struct th_run r;
	char db[700];
	long before;
	size_t i;

	(void)state;
	snprintf(db, sizeof(db), "%s/pcmds.db", srv.dir);
	before = th_sql_long(db, "SELECT COUNT(*) FROM assets");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char csv[512];

		/* a good row first: it must not be stored either */
		snprintf(csv, sizeof(csv), "%s", bad[i].csv);
		import(csv, 1, &r);
		if (strstr(r.err, bad[i].says) == NULL)
			fail_msg("file %zu: wanted \"%s\" in: "
			    "%s", i, bad[i].says,
			    r.err);
		assert_non_null(strstr(r.err, "no directory was changed"));
		th_run_free(&r);
	}
	import("id,name,category,place\nnh-new-01,New,food,NH\n"
	    "nh-new-02,New,cooking,NH\n", 1, &r);
	th_run_free(&r);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM assets"),
	    before);
}

static char *
support(const char *id, const char *worker, const char *asset, int seq)
{
	static char b[4][1024];
	static int k;
	char *p = b[k++ % 4], extra[96] = "";

	if (asset != NULL)
		snprintf(extra, sizeof(extra), ",\"asset\":\"%s\"", asset);
	snprintf(p, 1024, "{\"id\":\"%s\",\"schema\":\"pcmds/1\",\"kind\":"
	    "\"support\",\"recorded_at\":\"2026-03-02T10:00:00Z\","
	    "\"device_seq\":%d,\"worker\":\"%s\",\"place\":\"NH\","
	    "\"referral\":\"" REF1 "\",\"offered_on\":\"2026-03-02\","
	    "\"category\":\"food\",\"outcome\":\"offered\"%s}", id, seq, worker,
	    extra);
	return p;
}

/* The server checks a record's asset against the place's directory. */
static void
test_record_asset(void **state)
{
	struct th_run r;
	struct th_http h;
	char worker[32], body[4096];
	const char *tok;
	long id;
	cJSON *j, *res;

	(void)state;
	import(good, 0, &r);
	th_run_free(&r);
	tok = th_enrol(&srv, th_server_user(&srv, "link_worker", "NH", &id),
	    NULL);
	snprintf(worker, sizeof(worker), "nh-lw%ld", id);
	snprintf(body, sizeof(body), "{\"records\":[{\"id\":\"" REF1 "\","
	    "\"schema\":\"pcmds/1\",\"kind\":\"referral\",\"recorded_at\":"
	    "\"2026-03-01T10:00:00Z\",\"device_seq\":1,\"worker\":\"%s\","
	    "\"place\":\"NH\",\"referral\":\"" REF1 "\",\"person\":\"" PERSON
	    "\",\"person_basis\":\"nhs_number\",\"referred_on\":\"2026-03-01\","
	    "\"source\":\"self\",\"reasons\":[\"stress\"],\"service\":"
	    "\"general\",\"age\":40,\"gender\":\"female\",\"ethnicity\":\"A\","
	    "\"consent_evaluation\":true},%s,%s,%s]}", worker,
	    support(SUP1, worker, "nh-walk-01", 2),
	    support(SUP2, worker, "th-arts-01", 3),
	    support(SUP3, worker, "nh-nothing", 4));
	th_post_records(&srv, tok, body, &h);
	assert_int_equal(h.status, 200);
	j = th_json(h.body);
	res = cJSON_GetObjectItem(j, "results");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 1),
	    "status")->valuestring, "stored");
	/* another place's entry, or none at all: refused, saying why */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 2),
	    "status")->valuestring, "rejected");
	{
		char *t = cJSON_PrintUnformatted(cJSON_GetArrayItem(res, 2));

		assert_non_null(strstr(t, "not in the directory of place NH"));
		free(t);
	}
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 3),
	    "status")->valuestring, "rejected");
	cJSON_Delete(j);
	th_http_free(&h);
}

/* The client receives its place's directory at sync and checks by it. */
static void
test_client_directory(void **state)
{
	struct th_server s;
	struct th_run r;
	char home[600], key[700], ref[16];

	(void)state;
	/* a deployment of its own: its first device sets the key */
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	target = &s;
	import(good, 0, &r);
	target = &srv;
	th_run_free(&r);
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	snprintf(key, sizeof(key), "%s/deploy.key", home);
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", key, NULL);
	th_run_free(&r);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", key, "--server", s.url, "--code", th_server_user(&s,
	    "link_worker", "NH", NULL), "--cacert", s.ca, NULL);
	if (r.status != 0) fail_msg("sync: %d %s %s", r.status, r.out, r.err);
	th_run_free(&r);
	th_unlock(home);
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--no-nhs-number",
	    "--referred-on", "today", "--source", "self", "--reason", "stress",
	    "--service", "general", "--age", "40", "--gender", "male",
	    "--ethnicity", "K", "--consent-evaluation", NULL);
	snprintf(ref, sizeof(ref), "%.8s", r.out);
	th_run_free(&r);
	/* before a sync the device has no directory: refused, saying why */
	th_cmd(&r, NULL, "pcmds", "--home", home, "support", ref, "--on",
	    "today", "--asset", "nh-walk-01", "--outcome", "offered", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "not in this device's directory of "
	    "community assets; sync to receive the current one"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	/* now it has NH's: the category comes with the asset */
	th_cmd(&r, NULL, "pcmds", "--home", home, "support", ref, "--on",
	    "today", "--asset", "nh-walk-01", "--outcome", "taken_up", NULL);
	if (r.status != 0)
		fail_msg("support --asset refused: %s", r.err);
	assert_non_null(strstr(r.err, "Physical activity (Park Walking "
	    "Group): Taken up"));
	th_run_free(&r);
	/* another place's entry is not in it */
	th_cmd(&r, NULL, "pcmds", "--home", home, "support", ref, "--on",
	    "today", "--asset", "th-arts-01", "--outcome", "offered", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "--asset: Community asset th-arts-01 is "
	    "not in this device's directory"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "sent 1 (1 new"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "export", NULL);
	assert_non_null(strstr(r.out, "\"asset\":\"nh-walk-01\""));
	th_run_free(&r);
	th_server_stop(&s, SIGTERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_and_scope),
		cmocka_unit_test(test_import_refused),
		cmocka_unit_test(test_record_asset),
		cmocka_unit_test(test_client_directory),
	};

	return cmocka_run_group_tests_name("assets", tests, up, down);
}

/*
 * test_impact.c - impact per place end to end: records made on a real
 * client, synced to a real server, read back as figures, exports and the
 * dashboard, with roles, place scoping, disclosure control and audit.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "harness.h"
#include "jout.h"
#include "uuid.h"

static struct th_server srv;
static char db[700], keyfile[700];
static char lead_bd[64], lead_nh[64], eval_tok[64], worker_tok[64];
static char void_ref[16], fixed_ref[16], key_id[32];

static const char *
client(const char *place, const char *csv)
{
	static char homes[4][512];
	static int k;
	char *home = homes[k++ % 4], path[600];
	struct th_run r;

	snprintf(home, 512, "%s", th_tmpdir());
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", keyfile, "--server", srv.url, "--code",
	    th_server_user(&srv, "link_worker", place, NULL), "--cacert", srv.ca,
	    NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	snprintf(path, sizeof(path), "%s/config", home);
	{
		char *cfg = th_slurp(path, NULL), *p = strstr(cfg, "key_id = ");

		assert_non_null(p);
		snprintf(key_id, sizeof(key_id), "%.16s", p + 9);
		free(cfg);
	}
	snprintf(path, sizeof(path), "%s/in.csv", home);
	th_write(path, csv);
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", path, NULL);
	if (r.status != 0)
		fail_msg("import: %s", r.err);
	th_run_free(&r);
	return home;
}

#define HEAD "person_basis,referred_on,source,reasons,service,age,gender," \
	"ethnicity,imd_decile,consent_evaluation,baseline_on," \
	"baseline_life_satisfaction,baseline_worthwhile,baseline_happy," \
	"baseline_anxious,final_on,final_life_satisfaction,final_worthwhile," \
	"final_happy,final_anxious\n"

static int
up(void **state)
{
	struct th_run r;
	char csv[8192];
	const char *bd, *nh;
	size_t off;
	int i;

	(void)state;
	th_server_init(&srv, NULL);
	snprintf(db, sizeof(db), "%s/pcmds.db", srv.dir);
	th_server_start(&srv, NULL);
	snprintf(keyfile, sizeof(keyfile), "%s/k", th_tmpdir());
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", keyfile, NULL);
	th_run_free(&r);
	/* BD: 12 consenting referrals with ONS4 pairs, 3 without consent */
	off = (size_t)snprintf(csv, sizeof(csv), HEAD);
	for (i = 0; i < 15; i++)
		off += (size_t)snprintf(csv + off, sizeof(csv) - off,
		    "local,2026-02-%02d,general_practice,stress,general,%d,"
		    "female,%s,%d,%s,2026-03-01,4,4,4,7,2026-05-01,6,6,6,4\n",
		    i + 1, 30 + i, i % 2 ? "A" : "N", 1 + i % 10,
		    i < 12 ? "yes" : "no");
	bd = client("BD", csv);
	/* NH: 9 referrals */
	off = (size_t)snprintf(csv, sizeof(csv), HEAD);
	for (i = 0; i < 9; i++)
		off += (size_t)snprintf(csv + off, sizeof(csv) - off,
		    "local,2026-01-%02d,self,housing,general,%d,male,K,3,yes,,,,,,"
		    ",,,,\n", i + 1, 40 + i);
	nh = client("NH", csv);
	/* a correction and a void on BD, made on the client */
	th_cmd(&r, NULL, "pcmds", "--home", bd, "list", "--json", NULL);
	{
		cJSON *j = th_json(r.out);

		snprintf(void_ref, sizeof(void_ref), "%s", uuid_short(
		    cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0),
		    "id")->valuestring).s);
		snprintf(fixed_ref, sizeof(fixed_ref), "%s", uuid_short(
		    cJSON_GetObjectItem(cJSON_GetArrayItem(j, 1),
		    "id")->valuestring).s);
		cJSON_Delete(j);
	}
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", bd, "correct", void_ref, "--void",
	    "--reason", "wrong person", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", bd, "correct", fixed_ref, "--set",
	    "age=77", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", bd, "sync", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", nh, "sync", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	snprintf(lead_bd, sizeof(lead_bd), "%s", th_enrol(&srv,
	    th_server_user(&srv, "place_lead", "BD", NULL), NULL));
	snprintf(lead_nh, sizeof(lead_nh), "%s", th_enrol(&srv,
	    th_server_user(&srv, "place_lead", "NH", NULL), NULL));
	snprintf(eval_tok, sizeof(eval_tok), "%s", th_enrol(&srv,
	    th_server_user(&srv, "evaluator", NULL, NULL), NULL));
	snprintf(worker_tok, sizeof(worker_tok), "%s", th_enrol(&srv,
	    th_server_user(&srv, "link_worker", "BD", NULL), key_id));
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

/* A count published under disclosure control for a true n. */
static void
published(const cJSON *v, long n)
{
	if (!cJSON_IsNumber(v))
		fail_msg("a count of %ld was not published as a number", n);
	/* noise of at most 3, then rounded to 5 */
	assert_int_equal((long)v->valuedouble % 5, 0);
	assert_true(v->valuedouble >= n - 5 && v->valuedouble <= n + 5);
}

/* The last day of the last completed month, as the server sees today. */
static void
last_completed(char out[DATE_LEN])
{
	int y, m, d;

	date_to_ymd(date_today(time(NULL)), &y, &m, &d);
	date_format(date_from_ymd(y, m, 1) - 1, out);
}

static void
test_figures(void **state)
{
	cJSON *j, *reach, *m;
	char end[DATE_LEN];

	(void)state;
	/* unsuppressed, by an evaluator: the exact figures, and it says so */
	j = get_json(eval_tok, "/v1/places/BD/impact?suppress=false", 200);
	reach = cJSON_GetObjectItem(j, "reach");
	assert_int_equal(cJSON_GetObjectItem(reach, "referrals")->valueint, 14);
	assert_int_equal(cJSON_GetObjectItem(reach, "consented")->valueint, 11);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(reach,
	    "by_age_band"), "75-84")->valueint, 1);	/* the correction */
	m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ons4"), "anxious");
	assert_int_equal(cJSON_GetObjectItem(m, "n")->valueint, 11);
	assert_double_equal(cJSON_GetObjectItem(m, "mean_change")->valuedouble,
	    -3, 1e-12);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "disclosure_control")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "unsuppressed")));
	assert_non_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(j,
	    "notice")), "UNSUPPRESSED"));
	cJSON_Delete(j);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE action = "
	    "'aggregates.unsuppressed'") >= 1);
	/* the same for a place lead: perturbed, rounded and suppressed */
	j = get_json(lead_bd, "/v1/places/BD/impact", 200);
	reach = cJSON_GetObjectItem(j, "reach");
	published(cJSON_GetObjectItem(reach, "referrals"), 14);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    reach, "by_age_band"), "75-84")) || cJSON_GetObjectItem(
	    cJSON_GetObjectItem(reach, "by_age_band"), "75-84")->valueint == 0);
	m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ons4"), "anxious");
	published(cJSON_GetObjectItem(m, "n"), 11);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "disclosure_control")));
	assert_null(cJSON_GetObjectItem(j, "unsuppressed"));
	/* no period asked: up to the end of the last completed month */
	last_completed(end);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(j, "period"), "to")), end);
	cJSON_Delete(j);
	/* asked again: the same figures (the same people, the same noise) */
	{
		cJSON *a = get_json(lead_bd, "/v1/places/BD/impact", 200);
		cJSON *b = get_json(lead_bd, "/v1/places/BD/impact", 200);

		cJSON_DeleteItemFromObject(a, "generated_at");
		cJSON_DeleteItemFromObject(b, "generated_at");
		assert_true(cJSON_Compare(a, b, 1));
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	/* every place, and the whole system */
	j = get_json(lead_nh, "/v1/places", 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "places")),
	    7);
	published(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "all"),
	    "referrals"), 23);
	cJSON_Delete(j);
	/* a period of days and a breakdown, unsuppressed */
	j = get_json(eval_tok, "/v1/places/ALL/impact?from=2026-02-01&to="
	    "2026-12-31&group_by=ethnic_group&suppress=false", 200);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reach"),
	    "referrals")->valueint, 14);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "groups")),
	    6);
	cJSON_Delete(j);
}

/*
 * Under disclosure control a period is whole completed months; day-level
 * windows, alone or added up, are refused. (Before: a one-day window of
 * another place showed one ethnic group "suppressed" and the others 0,
 * and eleven one-day windows added up to the 11 the headline hides.)
 */
static void
test_periods(void **state)
{
	struct th_http h;
	char path[160], month[8], end[DATE_LEN];
	cJSON *j;
	int day;

	(void)state;
	for (day = 1; day <= 11; day++) {
		snprintf(path, sizeof(path), "/v1/places?from=2026-02-%02d&to="
		    "2026-02-%02d", day, day);
		get(lead_nh, path, &h);
		assert_int_equal(h.status, 400);
		assert_non_null(strstr(h.body, "E_PERIOD"));
		assert_non_null(strstr(h.body, "whole calendar months"));
		assert_non_null(strstr(h.body, day == 1 ? "to=2026-02" :
		    "from=2026-02"));
		th_http_free(&h);
	}
	get(lead_bd, "/v1/places/BD/impact?from=2026-02&to=2026-02-10", &h);
	assert_int_equal(h.status, 400);
	assert_non_null(strstr(h.body, "to=2026-02"));
	th_http_free(&h);
	/* the month still running */
	last_completed(end);
	date_format(date_today(time(NULL)), path);
	snprintf(month, sizeof(month), "%.7s", path);
	snprintf(path, sizeof(path), "/v1/places/BD/impact?from=2026-01&to=%s",
	    month);
	get(lead_bd, path, &h);
	assert_int_equal(h.status, 400);
	assert_non_null(strstr(h.body, "is not over yet"));
	th_http_free(&h);
	/* from in the month still running and no to: that month is named */
	snprintf(path, sizeof(path), "/v1/places/BD/impact?from=%s", month);
	get(lead_bd, path, &h);
	assert_int_equal(h.status, 400);
	assert_non_null(strstr(h.body, "is not over yet"));
	assert_null(strstr(h.body, "from is after to"));
	snprintf(path, sizeof(path), "from=%.7s", end);
	assert_non_null(strstr(h.body, path));
	th_http_free(&h);
	/* evaluators under control too; months in either form are fine */
	get(eval_tok, "/v1/places/BD/impact?from=2026-02-03&to=2026-02-03", &h);
	assert_int_equal(h.status, 400);
	th_http_free(&h);
	j = get_json(lead_bd, "/v1/places/BD/impact?from=2026-02-01&to="
	    "2026-02-28&group_by=ethnic_group", 200);
	published(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reach"),
	    "referrals"), 14);
	cJSON_Delete(j);
	j = get_json(lead_bd, "/v1/places/BD/impact?from=2026-02&to=2026-02",
	    200);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(j, "period"), "to")), "2026-02-28");
	cJSON_Delete(j);
	/* unsuppressed figures keep day precision */
	j = get_json(eval_tok, "/v1/places/BD/impact?from=2026-02-03&to="
	    "2026-02-03&suppress=false", 200);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reach"),
	    "referrals")->valueint, 1);
	cJSON_Delete(j);
	/* the dashboard is always under control */
	get(eval_tok, "/dashboard?suppress=false&from=2026-02-03", &h);
	assert_int_equal(h.status, 400);
	th_http_free(&h);
}

/* Unsuppressed JSON and CSV carry every figure at full precision. */
static void
test_precision(void **state)
{
	struct th_http h;
	char want[64], num[JOUT_NUM_LEN];

	(void)state;
	/* BD: 14 referrals, 218,869 residents */
	jout_double(1000.0 * 14 / 218869, num);
	snprintf(want, sizeof(want), "\"per_1000_residents\":%s", num);
	get(eval_tok, "/v1/places/BD/impact?suppress=false", &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, want));
	assert_true(strlen(num) > 12);		/* not rounded to 2 places */
	th_http_free(&h);
	snprintf(want, sizeof(want), ",reach,per_1000_residents,%s,"
	    "unsuppressed\r\n", num);
	get(eval_tok, "/v1/places/BD/impact?suppress=false&format=csv", &h);
	assert_non_null(strstr(h.body, want));
	assert_null(strstr(h.body, ",controlled\r\n"));
	th_http_free(&h);
	/* under control: rates from the published count, to 2 places */
	get(lead_bd, "/v1/places/BD/impact?format=csv", &h);
	assert_non_null(strstr(h.body, ",reach,per_1000_residents,0.05,"
	    "controlled\r\n") ? "" : strstr(h.body, ",reach,per_1000_"
	    "residents,0.07,controlled\r\n"));
	assert_null(strstr(h.body, ",unsuppressed\r\n"));
	th_http_free(&h);
}

/* pcmds report as an evaluator would run it. */
static void
test_report(void **state)
{
	char home[512], want[64], num[JOUT_NUM_LEN];
	struct th_run r;
	cJSON *j;

	(void)state;
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--server", srv.url, "--code", th_server_user(&srv, "evaluator",
	    NULL, NULL), "--cacert", srv.ca, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	/* a table without control says so before anything else */
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "BD",
	    "--unsuppressed", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.out, "*** UNSUPPRESSED", 16), 0);
	assert_non_null(strstr(r.out, "Pairs as % of consented referrals: "
	    "100.0%"));
	assert_non_null(strstr(r.out, "Wilcoxon"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "UNSUPPRESSED"));
	assert_non_null(strstr(r.out, "Pairs %"));
	assert_non_null(strstr(r.out, "Pairs as % of consented referrals"));
	assert_non_null(strstr(r.out, "whole completed months"));
	th_run_free(&r);
	/* JSON at full precision, labelled */
	jout_double(1000.0 * 14 / 218869, num);
	snprintf(want, sizeof(want), "\"per_1000_residents\":\t%s", num);
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "BD",
	    "--unsuppressed", "--format", "json", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, want));
	j = th_json(r.out);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "unsuppressed")));
	cJSON_Delete(j);
	th_run_free(&r);
	/* CSV: every row labelled */
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "BD",
	    "--unsuppressed", "--format", "csv", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, ",referrals,14,unsuppressed\r\n"));
	th_run_free(&r);
	/* a day-level period under control: the server's sentence */
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "BD",
	    "--from", "2026-02-03", "--to", "2026-02-03", NULL);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "whole calendar months"));
	th_run_free(&r);
}

static void
test_scoping(void **state)
{
	struct th_http h;

	(void)state;
	get(lead_nh, "/v1/places/BD/impact", &h);
	assert_int_equal(h.status, 403);		/* another place */
	th_http_free(&h);
	get(lead_nh, "/v1/places/ALL/impact", &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	get(lead_bd, "/v1/places/BD/impact?suppress=false", &h);
	assert_int_equal(h.status, 403);		/* leads: suppressed */
	th_http_free(&h);
	get(lead_bd, "/v1/export", &h);
	assert_int_equal(h.status, 403);		/* record level */
	th_http_free(&h);
	get(worker_tok, "/v1/places", &h);
	assert_int_equal(h.status, 403);
	th_http_free(&h);
	get(eval_tok, "/v1/places/XX/impact", &h);
	assert_int_equal(h.status, 404);
	th_http_free(&h);
	get(eval_tok, "/v1/places/BD/impact?from=2026-13-01", &h);
	assert_int_equal(h.status, 400);
	th_http_free(&h);
	get(eval_tok, "/v1/places/BD/impact?group_by=colour", &h);
	assert_int_equal(h.status, 400);
	th_http_free(&h);
	get(eval_tok, "/v1/places/BD/impact?format=xml", &h);
	assert_int_equal(h.status, 400);
	th_http_free(&h);
	th_https(&srv, "GET", "/v1/places", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 401);
	th_http_free(&h);
}

static void
test_csv(void **state)
{
	struct th_http h;

	(void)state;
	get(lead_bd, "/v1/places/BD/impact?format=csv&group_by=gender", &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.ctype, "text/csv"));
	assert_int_equal(strncmp(h.body, "place,from,to,group_by,group,section,"
	    "measure,value,disclosure\r\n", 56), 0);
	assert_true(strstr(h.body, ",reach,referrals,15,controlled\r\n") ||
	    strstr(h.body, ",reach,referrals,10,controlled\r\n"));
	assert_true(strstr(h.body, ",gender,female,group,referrals,15,"
	    "controlled\r\n") || strstr(h.body, ",gender,female,group,"
	    "referrals,10,controlled\r\n"));
	th_http_free(&h);
}

static void
test_export(void **state)
{
	struct th_http h;
	char *line, *save = NULL;
	int n = 0, referrals = 0, corrected = 0;

	(void)state;
	get(eval_tok, "/v1/export?place=BD", &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.ctype, "application/x-ndjson"));
	for (line = strtok_r(h.body, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = th_json(line);
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(j,
		    "kind"));

		n++;
		assert_string_not_equal(kind, "correction");
		assert_null(cJSON_GetObjectItem(j, "nhs_number"));
		/* ids are re-keyed: none is the client's */
		assert_int_not_equal(strncmp(cJSON_GetStringValue(
		    cJSON_GetObjectItem(j, "id")), void_ref, 8), 0);
		assert_int_not_equal(strncmp(cJSON_GetStringValue(
		    cJSON_GetObjectItem(j, "id")), fixed_ref, 8), 0);
		if (strcmp(kind, "referral") == 0) {
			referrals++;
			assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j,
			    "consent_evaluation")));
			/* the corrected one, attributed to who corrected it */
			if (cJSON_GetObjectItem(j, "age")->valueint == 77) {
				corrected++;
				assert_int_equal(cJSON_GetArraySize(
				    cJSON_GetObjectItem(j, "corrected_by")), 1);
			} else
				assert_null(cJSON_GetObjectItem(j,
				    "corrected_by"));
		}
		cJSON_Delete(j);
	}
	th_http_free(&h);
	/* 12 consented, one of them voided: 11 referrals, 3 records each */
	assert_int_equal(referrals, 11);
	assert_int_equal(n, 33);
	assert_int_equal(corrected, strcmp(void_ref, fixed_ref) != 0);
	get(eval_tok, "/v1/export?format=csv&from=2026-01-01&to=2026-01-31",
	    &h);
	assert_int_equal(h.status, 200);
	assert_int_equal(strncmp(h.body, "id,schema,kind,", 15), 0);
	assert_non_null(strstr(h.body, ",corrected_by\r\n"));
	assert_non_null(strstr(h.body, ",NH,"));
	assert_null(strstr(h.body, ",BD,"));
	th_http_free(&h);
	/* format=ndjson as documented; an unknown shape or format refused */
	get(eval_tok, "/v1/export?format=ndjson&shape=pairs&place=BD", &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "\"baseline_anxious\":7"));
	th_http_free(&h);
	get(eval_tok, "/v1/export?shape=people", &h);
	assert_int_equal(h.status, 400);
	th_http_free(&h);
	get(eval_tok, "/v1/export?format=xml", &h);
	assert_int_equal(h.status, 400);
	th_http_free(&h);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE "
	    "action = 'export.start'"), 3);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE "
	    "action = 'export.end' AND outcome LIKE 'complete: 33 rows of 11 "
	    "referrals%'"), 1);
}

static void
test_dashboard(void **state)
{
	struct th_http h;
	char path[128], cookie[300];
	const char *code;

	(void)state;
	th_https(&srv, "GET", "/dashboard", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 303);
	assert_string_equal(h.location, "/login");
	th_http_free(&h);
	th_https(&srv, "GET", "/login", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "<form method=\"post\" action=\"/login\""));
	th_http_free(&h);
	/* a link worker's code is not for the dashboard */
	snprintf(path, sizeof(path), "code=%s", th_server_user(&srv,
	    "link_worker", "BD", NULL));
	th_https(&srv, "POST", "/login", (const char *[]){"Content-Type: "
	    "application/x-www-form-urlencoded", NULL}, path, strlen(path), &h);
	assert_int_equal(h.status, 403);
	th_http_free(&h);
	th_https(&srv, "POST", "/login", (const char *[]){"Content-Type: "
	    "application/x-www-form-urlencoded", NULL}, "code=AAAA-BBBB-CCCC",
	    strlen("code=AAAA-BBBB-CCCC"), &h);
	assert_int_equal(h.status, 401);
	th_http_free(&h);
	/* a place lead signs in with a form post */
	code = th_server_user(&srv, "place_lead", "BD", NULL);
	snprintf(path, sizeof(path), "code=%s", code);
	th_https(&srv, "POST", "/login", (const char *[]){"Content-Type: "
	    "application/x-www-form-urlencoded", NULL}, path, strlen(path), &h);
	assert_int_equal(h.status, 303);
	assert_string_equal(h.location, "/dashboard");
	assert_non_null(strstr(h.cookie, "__Host-pcmds="));
	assert_non_null(strstr(h.cookie, "; Secure"));
	assert_non_null(strstr(h.cookie, "; HttpOnly"));
	assert_non_null(strstr(h.cookie, "; SameSite=Strict"));
	snprintf(cookie, sizeof(cookie), "Cookie: %.*s", (int)strcspn(h.cookie,
	    ";"), h.cookie);
	th_http_free(&h);
	th_https(&srv, "GET", "/dashboard", (const char *[]){cookie, NULL},
	    NULL, 0, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.ctype, "text/html"));
	assert_non_null(strstr(h.body, "<svg class=\"strip\""));
	assert_non_null(strstr(h.body, "Waltham Forest"));
	/* the place lead's own place first, then every place */
	assert_non_null(strstr(h.body, "<h2 id=\"own\">Barking and Dagenham"));
	assert_true(strstr(h.body, "<h2 id=\"own\">") < strstr(h.body,
	    "<h2 id=\"places\">"));
	assert_non_null(strstr(h.body, "Reach against the population"));
	assert_non_null(strstr(h.body, "The strategy&#39;s commitments by place"));
	assert_non_null(strstr(h.body, "<a class=\"skip\" href=\"#main\">"));
	assert_non_null(strstr(h.body, "<tr class=\"all\"><th scope=\"row\">"
	    "All places"));
	assert_null(strstr(h.body, "<script"));
	th_http_free(&h);
	/* a period that cannot be shown is a page saying why, not JSON */
	th_https(&srv, "GET", "/dashboard?from=2026-02-03", (const char *[]){
	    cookie, NULL}, NULL, 0, &h);
	assert_int_equal(h.status, 400);
	assert_non_null(strstr(h.ctype, "text/html"));
	assert_non_null(strstr(h.body, "These figures cannot be shown"));
	assert_non_null(strstr(h.body, "whole calendar months"));
	th_http_free(&h);
	/* the session ends at sign-out */
	th_https(&srv, "POST", "/logout", (const char *[]){cookie, NULL}, "", 0,
	    &h);
	assert_int_equal(h.status, 303);
	th_http_free(&h);
	th_https(&srv, "GET", "/dashboard", (const char *[]){cookie, NULL},
	    NULL, 0, &h);
	assert_int_equal(h.status, 401);
	th_http_free(&h);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE action = "
	    "'login'") >= 1);
}

/* Month by month, the commitments, and rates in the report. */
static void
test_series_and_commitments(void **state)
{
	struct th_http h;
	struct th_run r;
	char home[512];
	cJSON *j;
	const cJSON *m;
	long sum = 0;

	(void)state;
	j = get_json(eval_tok, "/v1/places/BD/months?suppress=false&from="
	    "2026-01&to=2026-03", 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "months")),
	    3);
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(j, "months"))
		sum += (long)cJSON_GetObjectItem(m, "referrals")->valuedouble;
	/* the months add up to the period's referrals */
	{
		cJSON *t = get_json(eval_tok, "/v1/places/BD/impact?suppress="
		    "false&from=2026-01&to=2026-03", 200);

		assert_int_equal(sum, (long)cJSON_GetObjectItem(
		    cJSON_GetObjectItem(t, "reach"), "referrals")->valuedouble);
		cJSON_Delete(t);
	}
	cJSON_Delete(j);
	/* a place lead sees their own place's series, not another's */
	get(lead_bd, "/v1/places/NH/months", &h);
	assert_int_equal(h.status, 403);
	th_http_free(&h);
	get(lead_bd, "/v1/places/BD/months?format=csv", &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, ",month,referrals,"));
	th_http_free(&h);
	j = get_json(lead_bd, "/v1/commitments", 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "places")),
	    7);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "all"),
	    "ons4_recording"));
	cJSON_Delete(j);
	/* the report: rates in JSON, labels (not codes) in tables */
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--server", srv.url, "--code", th_server_user(&srv, "evaluator",
	    NULL, NULL), "--cacert", srv.ca, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "BD",
	    "--by", "ethnic_group", "--unsuppressed", "--format", "json", NULL);
	assert_int_equal(r.status, 0);
	j = th_json(r.out);
	m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "groups"), 0);
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(m, "rate_per_1000")));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(m, "rate_ratio")));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(m,
	    "rate_ratio_ci95_low")));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(m,
	    "rate_ratio_ci95_high")));
	cJSON_Delete(j);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "BD",
	    NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\nWhite "));
	assert_non_null(strstr(r.out, "85 and over"));
	assert_null(strstr(r.out, "\nwhite "));
	assert_non_null(strstr(r.out, "Reach against the population"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "report", "--place", "BD",
	    "--months", "--from", "2026-01", "--to", "2026-03", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Month by month"));
	assert_non_null(strstr(r.out, "2026-02"));
	th_run_free(&r);
}

static void
test_security_headers(void **state)
{
	struct th_tls *t;
	const char *ans;

	(void)state;
	t = th_tls_open(&srv);
	assert_int_equal(th_tls_write(t, "GET /login HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", 51), 0);
	ans = th_tls_read(t, 3000);
	assert_non_null(strstr(ans, "Content-Security-Policy: default-src "
	    "'none'; style-src 'self'"));
	assert_non_null(strstr(ans, "X-Frame-Options: DENY"));
	assert_non_null(strstr(ans, "Strict-Transport-Security:"));
	th_tls_close(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_precision),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_scoping),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_dashboard),
		cmocka_unit_test(test_series_and_commitments),
		cmocka_unit_test(test_security_headers),
	};

	return cmocka_run_group_tests_name("impact", tests, up, down);
}

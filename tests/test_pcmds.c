/*
 * test_pcmds.c - the real pcmds binary, offline, in temporary homes:
 * every command, every kind of bad input, prompts on a pseudo-terminal,
 * CSV import, and a crash in the middle of a long import.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cstore.h"
#include "date.h"
#include "harness.h"

#define NHS	"9434765919"

static struct th_run r;

static void
done(void)
{
	th_run_free(&r);
}

/* A home with a key and an offline identity, unlocked. */
static const char *
new_home(void)
{
	const char *h = th_tmpdir();
	static char home[512];

	snprintf(home, sizeof(home), "%s", h);
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", th_path(home, "deploy.key"),
	    NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", th_path(home, "deploy.key"), "--worker", "lw-th-1",
	    "--place", "TH", "--pcn", "U54321", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_unlock(home);
	return home;
}

/* Records a valid referral; returns its short id (static). */
static const char *
referral(const char *home, const char *on, int age)
{
	static char id[16];
	char a[8];

	snprintf(a, sizeof(a), "%d", age);
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--nhs-number",
	    "943 476 5919", "--referred-on", on, "--source", "pharmacy",
	    "--reason", "stress,housing", "--service", "general", "--age", a,
	    "--gender", "male", "--ethnicity", "K", "--imd-decile", "1",
	    "--no-carer", "--homeless=unknown", "--consent-evaluation", NULL);
	if (r.status != 0)
		fail_msg("referral refused: %s", r.err);
	assert_int_equal(strlen(r.out), 9);
	snprintf(id, sizeof(id), "%.8s", r.out);
	done();
	return id;
}

static long
count_state(const char *home, const char *state)
{
	cJSON *j;
	long n;

	th_cmd(&r, NULL, "pcmds", "--home", home, "status", "--json", NULL);
	assert_int_equal(r.status, 0);
	j = th_json(r.out);
	n = (long)cJSON_GetObjectItem(j, state)->valuedouble;
	cJSON_Delete(j);
	done();
	return n;
}

static void
expect_fail(int status, const char *const *needles)
{
	if (r.status != status)
		fail_msg("exit %d, wanted %d; stderr: %s", r.status, status,
		    r.err);
	for (; *needles != NULL; needles++)
		if (strstr(r.err, *needles) == NULL)
			fail_msg("stderr lacks \"%s\":\n%s", *needles, r.err);
	done();
}

static void
test_help(void **state)
{
	static const char *const flags[] = {"--nhs-number", "--no-nhs-number",
	    "--referred-on", "--source", "--reason", "--service", "--age",
	    "--gender", "--ethnicity", "--imd-decile", "--[no-]carer",
	    "--[no-]learning-disability", "--[no-]autism", "--[no-]homeless",
	    "--[no-]consent-evaluation", NULL};
	int i;

	(void)state;
	th_cmd(&r, NULL, "pcmds", "help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "referral"));
	assert_non_null(strstr(r.out, "import"));
	/* an untrusted certificate exits 5 too (test_sync): the help says so */
	assert_non_null(strstr(r.out, "5 server unreachable, not trusted"));
	done();
	th_cmd(&r, NULL, "pcmds", "help", "sync", NULL);
	assert_non_null(strstr(r.out, "5 server unreachable, not trusted"));
	done();
	/* numbers are read whole: 80abc is not port 80 */
	th_cmd(&r, NULL, "pcmds", "ui", "--port", "80abc", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--port must be 1 to 65535; got "
	    "\"80abc\""));
	done();
	th_cmd(&r, NULL, "pcmds", "ui", "--idle", "5x", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--idle must be 1 to 1440"));
	done();
	th_cmd(&r, NULL, "pcmds", "referral", "--help", NULL);
	assert_int_equal(r.status, 0);
	for (i = 0; flags[i] != NULL; i++)
		if (strstr(r.out, flags[i]) == NULL)
			fail_msg("referral --help lacks %s", flags[i]);
	done();
	th_cmd(&r, NULL, "pcmds", "help", "assess", NULL);
	assert_non_null(strstr(r.out, "--life-satisfaction"));
	done();
	th_cmd(&r, NULL, "pcmds", "--version", NULL);
	assert_int_equal(strncmp(r.out, "pcmds ", 6), 0);
	done();
	th_cmd(&r, NULL, "pcmds", "codes", "closure", NULL);
	assert_int_equal(r.status, 2);	/* the list is named "reason" */
	done();
	th_cmd(&r, NULL, "pcmds", "codes", "reason", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "goals_met"));
	done();
}

static void
test_keygen_and_setup(void **state)
{
	const char *home = th_tmpdir();
	struct stat st;
	char *key;

	(void)state;
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", th_path(home, "k"), NULL);
	assert_int_equal(r.status, 0);
	done();
	assert_int_equal(stat(th_path(home, "k"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	key = th_slurp(th_path(home, "k"), NULL);
	assert_int_equal(strlen(key), 65);
	free(key);
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", th_path(home, "k"), NULL);
	expect_fail(1, (const char *[]){"never overwritten", NULL});
	th_cmd(&r, NULL, "pcmds", "keygen", NULL);
	assert_int_equal(r.status, 2);
	done();

	th_cmd(&r, NULL, "pcmds", "--home", home, "setup", "--worker", "w1",
	    "--place", "TH", NULL);
	expect_fail(2, (const char *[]){"--key-file", NULL});
	th_write(th_path(home, "bad.key"), "not a key\n");
	th_cmd(&r, NULL, "pcmds", "--home", home, "setup", "--key-file",
	    th_path(home, "bad.key"), "--worker", "w1", "--place", "TH", NULL);
	expect_fail(1, (const char *[]){"not a pcmds key file", NULL});
	/* a new store needs a passphrase: none on a pipe, and nothing made */
	th_cmd(&r, NULL, "pcmds", "--home", home, "setup", "--key-file",
	    th_path(home, "k"), "--worker", "w1", "--place", "TH", NULL);
	expect_fail(2, (const char *[]){"--passphrase-fd N", NULL});
	th_cmd(&r, "short\n", "pcmds", "--home", home, TH_SETUP, "--key-file",
	    th_path(home, "k"), "--worker", "w1", "--place", "TH", NULL);
	expect_fail(1, (const char *[]){"at least 8 characters", NULL});
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", th_path(home, "k"), "--worker", "w 1", "--place",
	    "th", "--pcn", "12345", NULL);
	expect_fail(1, (const char *[]){"worker must be", "Place must be",
	    "PCN ODS code", NULL});
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", th_path(home, "k"), "--worker", "w1", NULL);
	expect_fail(2, (const char *[]){"--place", NULL});
	/* a setup refused half-way left no store behind */
	assert_int_not_equal(stat(th_path(home, "pcmds.db"), &st), 0);
	assert_int_not_equal(stat(th_path(home, "config"), &st), 0);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", th_path(home, "k"), "--worker", "w1", "--place", "TH",
	    NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "worker w1, place TH"));
	assert_non_null(strstr(r.err, "recovery key"));
	done();
	/* the key is sealed in the store: no key file */
	assert_int_not_equal(stat(th_path(home, "key"), &st), 0);
	assert_int_equal(stat(th_path(home, "pcmds.db"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(th_path(home, "config"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(home, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* without an identity nothing can be recorded */
	th_cmd(&r, NULL, "pcmds", "--home", th_tmpdir(), "referral",
	    "--no-nhs-number", NULL);
	expect_fail(1, (const char *[]){"run pcmds setup", NULL});
}

static void
test_every_kind(void **state)
{
	const char *home = new_home();
	char ref[16], rec[16];
	cJSON *j, *recs;

	(void)state;
	snprintf(ref, sizeof(ref), "%s", referral(home, "2026-02-01", 40));
	th_cmd(&r, NULL, "pcmds", "--home", home, "assess", ref, "--stage",
	    "baseline", "--on", "2026-02-03", "--life-satisfaction", "3",
	    "--worthwhile", "4", "--happy", "2", "--anxious", "8", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "contact", ref, "--on",
	    "2026-02-02", "--mode", "phone", "--minutes", "30", "--attended",
	    NULL);
	assert_int_equal(r.status, 0);
	snprintf(rec, sizeof(rec), "%.8s", r.out);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "contact", ref, "--on",
	    "2026-02-09", "--mode", "group", "--minutes", "90",
	    "--no-attended", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "support", ref, "--on",
	    "2026-02-10", "--category", "housing_support", "--provider",
	    "Tower Hamlets Housing Options", "--outcome", "taken_up", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "assess", ref, "--stage",
	    "final", "--on", "2026-04-01", "--declined", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "assess", ref, "--stage",
	    "review", "--on", "2026-03-01", "--life-satisfaction", "6",
	    "--worthwhile", "6", "--happy", "5", "--anxious", "4", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "correct", rec, "--set",
	    "minutes=45", "--reason", "typed 30 for 45", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "close", ref, "--on",
	    "2026-04-02", "--reason", "goals_met", NULL);
	assert_int_equal(r.status, 0);
	done();

	th_cmd(&r, NULL, "pcmds", "--home", home, "show", ref, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Telephone, 45 min, attended  by "
	    "lw-th-1  ["));	/* who made each record */
	assert_non_null(strstr(r.out, "Group session, 90 min, did not attend"));
	assert_non_null(strstr(r.out, "ONS4 change, baseline 2026-02-03 -> "
	    "review 2026-03-01"));
	assert_non_null(strstr(r.out, "Anxiety             8 ->  4   -4  "
	    "high -> medium  (better)"));
	assert_non_null(strstr(r.out, "closed 2026-04-02: Goals met"));
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "show", rec, "--json", NULL);
	assert_int_equal(r.status, 0);	/* any record shows its referral */
	j = th_json(r.out);
	recs = cJSON_GetObjectItem(j, "records");
	assert_int_equal(cJSON_GetArraySize(recs), 9);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(j, "ons4_change"), "anxious"), "change")->
	    valueint, -4);
	cJSON_Delete(j);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "list", NULL);
	assert_non_null(strstr(r.out, ref));
	assert_non_null(strstr(r.out, "2026-04-02"));
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "list", "--open", NULL);
	assert_null(strstr(r.out, ref));
	done();
	assert_int_equal(count_state(home, "pending"), 9);
	assert_int_equal(count_state(home, "sent"), 0);
}

static void
test_missing_flags(void **state)
{
	const char *home = new_home();

	(void)state;
	th_cmd(&r, "", "pcmds", "--home", home, "referral", NULL);
	expect_fail(1, (const char *[]){"--nhs-number", "--referred-on",
	    "--source", "--reason", "--service", "--age", "--gender",
	    "--ethnicity", "--[no-]consent-evaluation", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "referral", "--no-nhs-number",
	    "--nhs-number", NHS, NULL);
	expect_fail(2, (const char *[]){"give one of", NULL});
	(void)referral(home, "2026-02-01", 40);
	th_cmd(&r, "", "pcmds", "--home", home, "list", "--json", NULL);
	{
		cJSON *j = th_json(r.out);
		const char *id = cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0),
		    "id")->valuestring;
		char ref[16];

		snprintf(ref, sizeof(ref), "%s", uuid_short(id).s);
		cJSON_Delete(j);
		done();
		th_cmd(&r, "", "pcmds", "--home", home, "assess", ref, NULL);
		expect_fail(1, (const char *[]){"--stage", "--on",
		    "--life-satisfaction", "--worthwhile", "--happy",
		    "--anxious", NULL});
		th_cmd(&r, "", "pcmds", "--home", home, "contact", ref, NULL);
		expect_fail(1, (const char *[]){"--on", "--mode", "--minutes",
		    "--[no-]attended", NULL});
		th_cmd(&r, "", "pcmds", "--home", home, "support", ref, NULL);
		expect_fail(1, (const char *[]){"--on", "--category",
		    "--outcome", NULL});
		th_cmd(&r, "", "pcmds", "--home", home, "close", ref, NULL);
		expect_fail(1, (const char *[]){"--on", "--reason", NULL});
		th_cmd(&r, "", "pcmds", "--home", home, "correct", ref, NULL);
		expect_fail(2, (const char *[]){"--set", NULL});
	}
	assert_int_equal(count_state(home, "pending"), 1);
}

static void
test_bad_input(void **state)
{
	const char *home = new_home();
	char ref[16];

	(void)state;
	snprintf(ref, sizeof(ref), "%s", referral(home, "2026-02-01", 40));
	/* bad NHS numbers: check digit, length, characters */
	th_cmd(&r, "", "pcmds", "--home", home, "referral", "--nhs-number",
	    "9434765918", NULL);
	expect_fail(1, (const char *[]){"Modulus 11", "--source", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "referral", "--nhs-number",
	    "94347659", NULL);
	expect_fail(1, (const char *[]){"exactly 10 digits", NULL});
	/* out-of-range ONS4, wrong types, unknown codes */
	th_cmd(&r, "", "pcmds", "--home", home, "assess", ref, "--stage",
	    "baseline", "--on", "2026-02-02", "--life-satisfaction", "11",
	    "--worthwhile", "-1", "--happy", "five", "--anxious", "5", NULL);
	expect_fail(1, (const char *[]){
	    "Life satisfaction must be a whole number from 0 to 10; got 11",
	    "Worthwhile must be a whole number from 0 to 10; got -1",
	    "Happiness must be a whole number from 0 to 10; got \"five\"",
	    NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "assess", ref, "--stage",
	    "midway", "--on", "2026-02-02", "--declined", NULL);
	expect_fail(1, (const char *[]){"Stage must be one of baseline, "
	    "review or final; got \"midway\"", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "contact", ref, "--on",
	    "2026-02-31", "--mode", "carrier_pigeon", "--minutes", "0",
	    "--attended=perhaps", NULL);
	expect_fail(1, (const char *[]){"2026-02-31 is not a real date "
	    "(February 2026 has 28 days)", "Mode must be",
	    "Minutes must be a whole number from 1 to 600",
	    "Attended must be true or false", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "contact", ref, "--on",
	    "2099-01-01", "--mode", "phone", "--minutes", "5", "--attended",
	    NULL);
	expect_fail(1, (const char *[]){"in the future", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "support", ref, "--on",
	    "2026-02-02", "--category", "food", "--outcome", "offered",
	    "--provider", "line\nbreak", NULL);
	expect_fail(1, (const char *[]){"Provider", "a control character", NULL});
	/* references that do not resolve */
	th_cmd(&r, "", "pcmds", "--home", home, "contact", "ffffffff", "--on",
	    "2026-02-02", NULL);
	expect_fail(1, (const char *[]){"no record here has the short id "
	    "ffffffff", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "contact", "xyz!", NULL);
	expect_fail(1, (const char *[]){"is not a record id", NULL});
	/* usage errors */
	th_cmd(&r, "", "pcmds", "--home", home, "contact", ref, "--minutes",
	    NULL);
	expect_fail(2, (const char *[]){"--minutes needs a value", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "contact", ref, "-m", "5",
	    NULL);
	expect_fail(2, (const char *[]){"unknown option -m", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "frobnicate", NULL);
	expect_fail(2, (const char *[]){"unknown command", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "correct", ref, "--set",
	    "age", NULL);
	expect_fail(2, (const char *[]){"field=value", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "correct", ref, "--set",
	    "colour=red", NULL);
	expect_fail(1, (const char *[]){"colour is not a field", NULL});
	/* nothing of the above was stored */
	assert_int_equal(count_state(home, "pending"), 1);
}

static void
test_cross_record_rules(void **state)
{
	const char *home = new_home();
	char ref[16], young[16];

	(void)state;
	snprintf(ref, sizeof(ref), "%s", referral(home, "2026-02-10", 40));
	th_cmd(&r, "", "pcmds", "--home", home, "contact", ref, "--on",
	    "2026-02-09", "--mode", "phone", "--minutes", "5", "--attended",
	    NULL);
	expect_fail(1, (const char *[]){"before the referral date 2026-02-10",
	    "E_DATE", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "close", ref, "--on",
	    "2026-03-01", "--reason", "declined", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, "", "pcmds", "--home", home, "contact", ref, "--on",
	    "2026-03-02", "--mode", "phone", "--minutes", "5", "--attended",
	    NULL);
	expect_fail(1, (const char *[]){"closed on 2026-03-01", "E_CLOSED",
	    NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "close", ref, "--on",
	    "2026-03-05", "--reason", "other", NULL);
	expect_fail(1, (const char *[]){"already closed", NULL});
	snprintf(young, sizeof(young), "%s", referral(home, "2026-02-10", 15));
	th_cmd(&r, "", "pcmds", "--home", home, "assess", young, "--stage",
	    "baseline", "--on", "2026-02-11", "--life-satisfaction", "5",
	    "--worthwhile", "5", "--happy", "5", "--anxious", "5", NULL);
	expect_fail(1, (const char *[]){"aged 16 and over", "E_AGE", NULL});
	/* REF must be a referral for the recording commands */
	th_cmd(&r, "", "pcmds", "--home", home, "list", "--json", NULL);
	done();
}

static int
has_bytes(const char *path, const char *needle)
{
	return th_file_count(path, needle, strlen(needle)) > 0;
}

static void
test_nhs_number_never_stored(void **state)
{
	const char *home = new_home();
	static const char *const files[] = {"pcmds.db", "pcmds.db-wal",
	    "config"};
	size_t i;

	(void)state;
	(void)referral(home, "2026-02-01", 40);
	th_cmd(&r, "", "pcmds", "--home", home, "referral", "--nhs-number",
	    "401 023 2137", "--referred-on", "2026-02-01", "--source", "self",
	    "--reason", "stress", "--service", "general", "--age", "30",
	    "--gender", "female", "--ethnicity", "A",
	    "--no-consent-evaluation", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, "", "pcmds", "--home", home, "export", NULL);
	assert_null(strstr(r.out, NHS));
	assert_null(strstr(r.out, "4010232137"));
	done();
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *p = th_path(home, files[i]);
		size_t len = 0;
		char *text = th_slurp(p, &len);

		if ((text == NULL || len == 0) &&
		    strcmp(files[i], "pcmds.db-wal") != 0)
			fail_msg("%s is empty or missing", files[i]);
		free(text);
		assert_false(has_bytes(p, NHS));
		assert_false(has_bytes(p, "943 476 5919"));
		assert_false(has_bytes(p, "4010232137"));
		assert_false(has_bytes(p, "401 023 2137"));
	}
}

static void
test_export(void **state)
{
	const char *home = new_home();
	char *p, *line, *save = NULL;
	int n = 0;

	(void)state;
	(void)referral(home, "2026-02-01", 40);
	(void)referral(home, "2026-02-02", 41);
	th_cmd(&r, "", "pcmds", "--home", home, "export", "--format", "ndjson",
	    NULL);
	assert_int_equal(r.status, 0);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = th_json(line);

		assert_string_equal(cJSON_GetObjectItem(j, "schema")->valuestring,
		    "pcmds/1");
		cJSON_Delete(j);
		n++;
	}
	assert_int_equal(n, 2);
	done();
	th_cmd(&r, "", "pcmds", "--home", home, "export", "--format", "csv",
	    "--out", th_path(home, "out.csv"), NULL);
	assert_int_equal(r.status, 0);
	done();
	p = th_slurp(th_path(home, "out.csv"), NULL);
	assert_int_equal(strncmp(p, "sync_state,id,schema,kind,", 26), 0);
	assert_non_null(strstr(p, "pending,"));
	assert_non_null(strstr(p, "stress;housing"));
	free(p);
	th_cmd(&r, "", "pcmds", "--home", home, "export", "--format", "xml",
	    NULL);
	expect_fail(2, (const char *[]){"csv or ndjson", NULL});
	th_cmd(&r, "", "pcmds", "--home", home, "export", "--out",
	    th_path(home, "out.csv"), NULL);
	expect_fail(1, (const char *[]){"must not exist", NULL});
}

static void
test_import(void **state)
{
	const char *home = new_home();
	const char *csv = th_path(home, "caseload.csv");
	char *rej;

	(void)state;
	th_write(csv,
	    "nhs_number,person_basis,referred_on,source,reasons,service,age,"
	    "gender,ethnicity,imd_decile,carer,consent_evaluation,baseline_on,"
	    "baseline_life_satisfaction,baseline_worthwhile,baseline_happy,"
	    "baseline_anxious,final_on,final_life_satisfaction,"
	    "final_worthwhile,final_happy,final_anxious,closed_on,"
	    "closure_reason\r\n"
	    /* 2: good, everything */
	    "943 476 5919,,2026-01-05,general_practice,\"stress,housing\","
	    "general,54,female,H,3,yes,yes,2026-01-10,3,4,4,7,2026-03-10,6,6,"
	    "6,4,2026-03-11,goals_met\r\n"
	    /* 3: good, no NHS number, UK date format */
	    ",local,06/01/2026,self,loneliness_isolation,general,71,male,A,,"
	    "unknown,no,,,,,,,,,,,,\r\n"
	    /* 4: bad NHS number and bad age */
	    "9434765918,,2026-01-05,self,stress,general,130,male,A,,,yes,,,,,"
	    ",,,,,,,\r\n"
	    /* 5: bad final score: the whole row is refused */
	    "4010232137,,2026-01-05,self,stress,general,30,male,A,,,yes,"
	    "2026-01-06,5,5,5,5,2026-02-01,5,5,5,12,,\r\n"
	    /* 6: blank */
	    ",,,,,,,,,,,,,,,,,,,,,,,\r\n"
	    /* 7: closure before the final assessment */
	    "4010232137,,2026-01-07,mdt,benefits,general,30,male,A,,,yes,,,,,,"
	    "2026-02-01,5,5,5,5,2026-01-20,goals_met\r\n");
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", csv, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "2 rows imported (5 records), 3 "
	    "rejected, 0 already imported"));
	assert_non_null(strstr(r.err, "row 4: nhs_number:"));
	assert_non_null(strstr(r.err, "row 4: age:"));
	assert_non_null(strstr(r.err, "row 5: final_anxious: Anxiety must be "
	    "a whole number from 0 to 10; got 12"));
	assert_non_null(strstr(r.err, "row 7: closed_on:"));
	done();
	rej = th_slurp(th_path(home, "caseload.csv.rejects.csv"), NULL);
	assert_non_null(rej);
	assert_non_null(strstr(rej, ",pcmds_row,pcmds_errors\r\n"));
	assert_non_null(strstr(rej, ",5,final_anxious: Anxiety must be"));
	assert_null(strstr(rej, "2026-01-10"));	/* good rows are not there */
	free(rej);
	assert_int_equal(count_state(home, "pending"), 5);
	/* again: nothing stored twice */
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", csv, NULL);
	assert_non_null(strstr(r.out, "0 rows imported (0 records), 3 "
	    "rejected, 2 already imported"));
	done();
	/* row 3 has no NHS number: its local id is new each time, so the
	 * row id (from its cells) still matches */
	assert_int_equal(count_state(home, "pending"), 5);
	/* an unknown column refuses the whole file */
	th_write(csv, "nhs_number,favourite_colour\r\n" NHS ",blue\r\n");
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", csv, NULL);
	expect_fail(1, (const char *[]){"favourite_colour is not a field",
	    "columns pcmds imports", NULL});
	th_cmd(&r, NULL, "pcmds", "--home", home, "import",
	    th_path(home, "missing.csv"), NULL);
	expect_fail(1, (const char *[]){"cannot read", NULL});
}

static void
test_import_crash(void **state)
{
	const char *home = new_home();
	const char *csv = th_path(home, "big.csv");
	const char *argv[] = {"pcmds", "--home", home, "import", csv, NULL};
	char path[512];
	FILE *fp = fopen(csv, "w");
	sqlite3 *db;
	sqlite3_stmt *st;
	long rows = 20000, referrals = 0, bad = 0, total = 0;
	pid_t pid;
	int i, status;

	(void)state;
	assert_non_null(fp);
	fprintf(fp, "person_basis,referred_on,source,reasons,service,age,"
	    "gender,ethnicity,consent_evaluation,baseline_on,"
	    "baseline_life_satisfaction,baseline_worthwhile,baseline_happy,"
	    "baseline_anxious,final_on,final_life_satisfaction,"
	    "final_worthwhile,final_happy,final_anxious,closed_on,"
	    "closure_reason\n");
	/* every row different: a date from 2024 and an age */
	for (i = 0; i < rows; i++) {
		char d[DATE_LEN];

		date_format(date_from_ymd(2024, 1, 1) + i % 600, d);
		fprintf(fp, "local,%s,self,stress,general,%d,female,A,yes,"
		    "2025-12-01,4,4,4,6,2026-01-01,6,6,6,3,2026-01-02,"
		    "goals_met\n", d, 18 + i / 600);
	}
	fclose(fp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char exe[512];

		snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
		th_quiet(0);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	/* let it commit a few batches, then pull the plug */
	usleep(1500 * 1000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));

	snprintf(path, sizeof(path), "%s/pcmds.db", home);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	/* every row is whole: a referral with its 2 assessments and closure */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*), "
	    "SUM(n <> 4) FROM (SELECT referral, COUNT(*) AS n FROM records "
	    "GROUP BY referral)", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	referrals = sqlite3_column_int64(st, 0);
	bad = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	print_message("killed after %ld of %ld rows\n", referrals, rows);
	assert_int_equal(bad, 0);
	assert_true(referrals < rows);	/* the kill came mid-import */
	/* and every record written before the kill opens with the key */
	th_cmd(&r, NULL, "pcmds", "--home", home, "export", NULL);
	assert_int_equal(r.status, 0);
	{
		long lines = 0;
		const char *p;

		for (p = r.out; (p = strchr(p, '\n')) != NULL; p++)
			lines++;
		assert_int_equal(lines, referrals * 4);
	}
	done();
	/* the import runs again to the end, storing nothing twice */
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", csv, NULL);
	assert_int_equal(r.status, 0);
	done();
	total = count_state(home, "pending");
	assert_int_equal(total, rows * 4);
	(void)referrals;
}

static int
seq_matches(void *arg, const struct cstore_row *row)
{
	cJSON *j = cJSON_ParseWithLength(row->json, row->json_len);
	long *n = arg;

	assert_non_null(j);
	assert_true(row->seq > n[1]);
	assert_int_equal(row->seq, (int64_t)cJSON_GetObjectItem(j,
	    "device_seq")->valuedouble);
	n[1] = (long)row->seq;
	n[0]++;
	cJSON_Delete(j);
	return 0;
}

/*
 * The device's disk fills during an import: it says how many rows were
 * stored, names the full directory, and the same import run again goes
 * on where it stopped, storing nothing twice.
 */
static void
test_import_disk_full(void **state)
{
	const char *home = new_home();
	const char *csv = th_path(home, "full.csv");
	const char *argv[] = {"pcmds-fp", "--home", home, "import", csv, NULL};
	const char *env[] = {"PCMDS_TEST_DISK_PAGES=400", NULL};
	char want[700], said[256], *err;
	long rows = 3000, stored, kept;
	FILE *fp = fopen(csv, "w");
	int i;

	(void)state;
	assert_non_null(fp);
	fprintf(fp, "person_basis,referred_on,source,reasons,service,age,"
	    "gender,ethnicity,consent_evaluation,baseline_on,"
	    "baseline_life_satisfaction,baseline_worthwhile,baseline_happy,"
	    "baseline_anxious\n");
	for (i = 0; i < rows; i++) {
		char d[DATE_LEN];

		date_format(date_from_ymd(2024, 1, 1) + i % 600, d);
		fprintf(fp, "local,%s,self,stress,general,%d,female,A,yes,"
		    "2025-12-01,4,4,4,6\n", d, 18 + i / 600);
	}
	fclose(fp);
	th_exec(&r, argv, NULL, env);
	assert_int_equal(r.status, 3);
	assert_null(strstr(r.out, "rows imported"));	/* no success line */
	err = r.err;
	r.err = NULL;
	done();
	snprintf(want, sizeof(want), "store: saving the record: the disk "
	    "holding %s is full (database or disk is full): free some space "
	    "there", home);
	if (strstr(err, want) == NULL)
		fail_msg("no word of the full disk in:\n%s", err);
	kept = count_state(home, "pending") / 2;	/* 2 records a row */
	print_message("the disk filled after %ld of %ld rows\n", kept, rows);
	assert_true(kept > 0 && kept < rows);
	snprintf(said, sizeof(said), "pcmds: %ld rows were imported (%ld "
	    "records) and 0 were there already before it stopped; running "
	    "the same import again goes on where it stopped", kept, kept * 2);
	if (strstr(err, said) == NULL)
		fail_msg("expected \"%s\" in:\n%s", said, err);
	free(err);
	/* room again: on from where it stopped */
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", csv, NULL);
	assert_int_equal(r.status, 0);
	snprintf(said, sizeof(said), "%ld rows imported (%ld records), 0 "
	    "rejected, %ld already imported", rows - kept, (rows - kept) * 2,
	    kept);
	if (strstr(r.out, said) == NULL)
		fail_msg("expected \"%s\" in:\n%s", said, r.out);
	done();
	stored = count_state(home, "pending");
	assert_int_equal(stored, rows * 2);
}

static void
test_device_seq(void **state)
{
	const char *home = new_home();
	struct cstore *cs;
	char path[512];
	sqlite3 *db;
	long n[2] = {0, 0};

	(void)state;
	(void)referral(home, "2026-02-01", 40);
	(void)referral(home, "2026-02-02", 40);
	(void)referral(home, "2026-02-03", 40);
	cs = th_store_open(home, NULL);
	assert_int_equal(cstore_each(cs, CSF_ALL, seq_matches, n), PC_OK);
	cstore_close(cs);
	assert_int_equal(n[0], 3);
	/* the store refuses to lose or change a record, whoever asks */
	snprintf(path, sizeof(path), "%s/pcmds.db", home);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM records", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE records SET body = "
	    "x'00'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_quarantined_correction(void **state)
{
	const char *home = new_home();
	char ref[16], id[UUID_LEN], kind[16], referral_id[UUID_LEN];
	struct err_list errs;
	struct cstore *cs;

	(void)state;
	snprintf(ref, sizeof(ref), "%s", referral(home, "2026-02-01", 40));
	/* as sync does when the server refuses a record */
	err_init(&errs);
	cs = th_store_open(home, NULL);
	assert_int_equal(cstore_resolve(cs, ref, id, kind, referral_id, NULL,
	    &errs), PC_OK);
	assert_int_equal(cstore_mark(cs, id, CS_QUARANTINED, "[{\"code\":"
	    "\"E_PLACE\",\"field\":\"place\",\"message\":\"place TH is not "
	    "your place\"}]", &errs), PC_OK);
	cstore_close(cs);
	err_free(&errs);
	th_cmd(&r, NULL, "pcmds", "--home", home, "show", ref, NULL);
	assert_non_null(strstr(r.out, "Refused by the server"));
	assert_non_null(strstr(r.out, "place TH is not your place (E_PLACE)"));
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "correct", ref, "--set",
	    "age=41", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "replaced by the corrected version"));
	done();
	assert_int_equal(count_state(home, "quarantined"), 0);
	assert_int_equal(count_state(home, "superseded"), 1);
	assert_int_equal(count_state(home, "pending"), 1);
	th_cmd(&r, NULL, "pcmds", "--home", home, "show", ref, "--json", NULL);
	assert_non_null(strstr(r.out, "\"age\":\t41"));
	done();
}

static void
test_interactive_referral(void **state)
{
	const char *home = new_home();
	const char *argv[] = {"pcmds", "--home", home, "referral", NULL};
	struct th_pty p;

	(void)state;
	th_pty_start(&p, argv);
	th_pty_expect(&p, "NHS number");
	th_pty_send(&p, "943 476 5918\n");
	th_pty_expect(&p, "Modulus 11");		/* asked again */
	th_pty_send(&p, "943 476 5919\n");
	th_pty_expect(&p, "Referred on (DD/MM/YYYY, today or yesterday) "
	    "[Enter for today]");
	th_pty_send(&p, "30/02/2026\n");
	th_pty_expect(&p, "30 is not a real date (February 2026 has 28 days)");
	th_pty_send(&p, "2026-02-03\n");
	th_pty_expect(&p, "general_practice");		/* the choices */
	th_pty_expect(&p, "Source of referral (number, code or name)");
	th_pty_send(&p, "2\n");				/* pharmacy */
	th_pty_expect(&p, "Reasons for referral (numbers, codes or names");
	th_pty_send(&p, "1,bereavement\n");
	th_pty_expect(&p, "Service (number, code or name)");
	th_pty_send(&p, "general\n");
	th_pty_expect(&p, "Age");
	th_pty_send(&p, "121\n");
	th_pty_expect(&p, "Age must be a whole number from 0 to 120; got 121");
	th_pty_send(&p, "80\n");
	th_pty_expect(&p, "Gender (number, code or name)");
	th_pty_send(&p, "female\n");
	th_pty_expect(&p, "Ethnic category (number, code or name)");
	th_pty_send(&p, "M\n");
	th_pty_expect(&p, "IMD decile [Enter to skip]");
	th_pty_send(&p, "\n");
	th_pty_expect(&p, "Carer (yes/no/unknown) [Enter to skip]");
	th_pty_send(&p, "yes\n");
	th_pty_expect(&p, "Learning disability");
	th_pty_send(&p, "\n");
	th_pty_expect(&p, "Autism");
	th_pty_send(&p, "\n");
	th_pty_expect(&p, "Homeless");
	th_pty_send(&p, "no\n");
	th_pty_expect(&p, "Consent to evaluation (yes/no)");
	th_pty_send(&p, "yes\n");
	assert_int_equal(th_pty_finish(&p), 0);
	th_pty_free(&p);
	th_cmd(&r, NULL, "pcmds", "--home", home, "export", NULL);
	assert_non_null(strstr(r.out, "\"source\":\"pharmacy\""));
	assert_non_null(strstr(r.out, "\"reasons\":[\"loneliness_isolation\","
	    "\"bereavement\"]"));
	assert_non_null(strstr(r.out, "\"age\":80"));
	assert_non_null(strstr(r.out, "\"carer\":true"));
	assert_non_null(strstr(r.out, "\"homeless\":false"));
	assert_null(strstr(r.out, "imd_decile"));
	done();
}

static void
test_interactive_ons4(void **state)
{
	const char *home = new_home();
	char ref[16];
	struct th_pty p;

	(void)state;
	snprintf(ref, sizeof(ref), "%s", referral(home, "2026-02-01", 40));
	{
		const char *argv[] = {"pcmds", "--home", home, "assess", ref,
		    "--on", "2026-02-05", NULL};

		th_pty_start(&p, argv);
	}
	th_pty_expect(&p, "Stage");
	th_pty_send(&p, "1\n");
	th_pty_expect(&p, "Overall, how satisfied are you with your life "
	    "nowadays?");
	th_pty_send(&p, "eleven\n");
	th_pty_expect(&p, "got \"eleven\"");
	th_pty_expect(&p, "Overall, how satisfied are you with your life "
	    "nowadays?");
	th_pty_send(&p, "4\n");
	th_pty_expect(&p, "Overall, to what extent do you feel that the things "
	    "you do in your life are worthwhile?");
	th_pty_send(&p, "5\n");
	th_pty_expect(&p, "Overall, how happy did you feel yesterday?");
	th_pty_send(&p, "6\n");
	th_pty_expect(&p, "On a scale where 0 is 'not at all anxious' and 10 "
	    "is 'completely anxious', overall, how anxious did you feel "
	    "yesterday?");
	th_pty_send(&p, "7\n");
	assert_int_equal(th_pty_finish(&p), 0);
	th_pty_free(&p);
	/* declining at the first question records a declined assessment */
	{
		const char *argv[] = {"pcmds", "--home", home, "assess", ref,
		    "--on", "2026-02-06", "--stage", "review", NULL};

		th_pty_start(&p, argv);
	}
	th_pty_expect(&p, "(or 'declined')");
	th_pty_send(&p, "declined\n");
	assert_int_equal(th_pty_finish(&p), 0);
	th_pty_free(&p);
	/* input that ends stores nothing */
	{
		const char *argv[] = {"pcmds", "--home", home, "contact", ref,
		    NULL};

		th_pty_start(&p, argv);
	}
	th_pty_expect(&p, "Contact on");
	th_pty_send(&p, "\004");
	assert_int_equal(th_pty_finish(&p), 1);
	th_pty_free(&p);
	th_cmd(&r, NULL, "pcmds", "--home", home, "export", NULL);
	assert_non_null(strstr(r.out, "\"anxious\":7,\"assessed_on\":"
	    "\"2026-02-05\""));
	assert_non_null(strstr(r.out, "\"declined\":true"));
	assert_null(strstr(r.out, "\"kind\":\"contact\""));
	done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_keygen_and_setup),
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_missing_flags),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_cross_record_rules),
		cmocka_unit_test(test_nhs_number_never_stored),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_import_crash),
		cmocka_unit_test(test_import_disk_full),
		cmocka_unit_test(test_device_seq),
		cmocka_unit_test(test_quarantined_correction),
		cmocka_unit_test(test_interactive_referral),
		cmocka_unit_test(test_interactive_ons4),
	};

	return cmocka_run_group_tests_name("pcmds", tests, NULL, NULL);
}

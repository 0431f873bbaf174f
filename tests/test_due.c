/*
 * test_due.c - what is due next for a referral (due.c, shared by the
 * app's caseload and pcmds due), and pcmds due and pcmds find run for
 * real.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "due.h"
#include "harness.h"

#define REF	"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f"
#define PERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"

static struct rec_opts opts;

static struct rec *
mk(const char *kind, int n, const char *fields)
{
	char text[2048], id[UUID_LEN];
	struct err_list errs;
	struct rec *r;

	if (n == 0)
		snprintf(id, sizeof(id), "%s", REF);
	else
		snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", n);
	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"schema\":\"pcmds/1\","
	    "\"kind\":\"%s\",\"recorded_at\":\"2026-05-01T10:00:00Z\","
	    "\"device_seq\":%d,\"worker\":\"lw1\",\"place\":\"NH\","
	    "\"referral\":\"" REF "\",%s}", id, kind, n + 1, fields);
	err_init(&errs);
	if (rec_parse(text, strlen(text), &opts, &r, &errs) != PC_OK)
		fail_msg("fixture: %s: %s", text, errs.n ? errs.v[0].msg : "");
	err_free(&errs);
	return r;
}

static void
add(struct timeline *tl, struct rec *r)
{
	struct err_list errs;

	err_init(&errs);
	if (tl_admit(tl, r, &opts, &errs) != PC_OK)
		fail_msg("refused: %s", errs.n ? errs.v[0].msg : "");
	err_free(&errs);
}

static void
referral(struct timeline *tl, int age)
{
	char f[512];

	tl_init(tl, REF);
	snprintf(f, sizeof(f), "\"person\":\"" PERSON "\",\"person_basis\":"
	    "\"nhs_number\",\"referred_on\":\"2026-03-02\",\"source\":\"self\","
	    "\"reasons\":[\"stress\"],\"service\":\"general\",\"age\":%d,"
	    "\"gender\":\"male\",\"ethnicity\":\"K\",\"consent_evaluation\":"
	    "true", age);
	add(tl, mk("referral", 0, f));
}

static void
assess(struct timeline *tl, int n, const char *on, const char *stage)
{
	char f[256];

	snprintf(f, sizeof(f), "\"assessed_on\":\"%s\",\"stage\":\"%s\","
	    "\"life_satisfaction\":5,\"worthwhile\":5,\"happy\":5,"
	    "\"anxious\":5", on, stage);
	add(tl, mk("assessment", n, f));
}

static int32_t
day(const char *iso)
{
	int32_t d;

	assert_int_equal(date_parse(iso, &d), 0);
	return d;
}

/* The due of tl on today, checked against kind, from and now. */
static void
expect(const struct timeline *tl, const char *today, enum due_kind kind,
    const char *from, int now)
{
	struct due_rules r = {6, 12, 12};
	struct due d;

	due_of(tl, &r, day(today), &d);
	assert_int_equal(d.kind, kind);
	if (from != NULL)
		assert_int_equal(d.from, day(from));
	assert_int_equal(d.now, now);
}

static void
test_due_steps(void **state)
{
	struct timeline tl;

	(void)state;
	opts.today = date_from_ymd(2026, 11, 30);
	referral(&tl, 40);
	expect(&tl, "2026-03-02", DUE_CONTACT, "2026-03-02", 1);
	add(&tl, mk("contact", 1, "\"contact_on\":\"2026-03-03\",\"mode\":"
	    "\"phone\",\"minutes\":20,\"attended\":false"));
	expect(&tl, "2026-03-03", DUE_BASELINE, "2026-03-02", 1);
	assess(&tl, 2, "2026-03-09", "baseline");
	/* review from 6 weeks after the baseline, to 12 */
	expect(&tl, "2026-04-19", DUE_REVIEW, "2026-04-20", 0);
	expect(&tl, "2026-04-20", DUE_REVIEW, "2026-04-20", 1);
	/* past 12 weeks with no review: the final is what is due */
	expect(&tl, "2026-06-01", DUE_FINAL, "2026-06-01", 1);
	assess(&tl, 3, "2026-04-27", "review");
	expect(&tl, "2026-05-01", DUE_FINAL, "2026-06-01", 0);
	assess(&tl, 4, "2026-06-08", "final");
	expect(&tl, "2026-06-09", DUE_NOTHING, NULL, 0);
	assert_int_equal(due_final_missing(&tl), 0);
	tl_free(&tl);
	/* a declined baseline counts; under 16 nothing ONS4 is due */
	referral(&tl, 40);
	add(&tl, mk("contact", 1, "\"contact_on\":\"2026-03-03\",\"mode\":"
	    "\"phone\",\"minutes\":20,\"attended\":true"));
	add(&tl, mk("assessment", 2, "\"assessed_on\":\"2026-03-03\",\"stage\":"
	    "\"baseline\",\"declined\":true"));
	expect(&tl, "2026-03-04", DUE_REVIEW, "2026-04-14", 0);
	assert_int_equal(due_final_missing(&tl), 1);
	tl_free(&tl);
	referral(&tl, 15);
	add(&tl, mk("contact", 1, "\"contact_on\":\"2026-03-03\",\"mode\":"
	    "\"phone\",\"minutes\":20,\"attended\":true"));
	expect(&tl, "2026-09-01", DUE_NOTHING, NULL, 0);
	assert_int_equal(due_final_missing(&tl), 0);
	add(&tl, mk("closure", 5, "\"closed_on\":\"2026-03-04\",\"reason\":"
	    "\"goals_met\""));
	expect(&tl, "2026-09-01", DUE_NOTHING, NULL, 0);
	tl_free(&tl);
}

static void
test_due_rules(void **state)
{
	struct config cfg;
	struct due_rules r;
	struct err_list errs;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	err_init(&errs);
	assert_int_equal(due_rules(&cfg, &r, &errs), PC_OK);
	assert_int_equal(r.review_from, 6);
	assert_int_equal(r.review_to, 12);
	assert_int_equal(r.final_from, 12);
	snprintf(cfg.review_weeks, sizeof(cfg.review_weeks), "8-10");
	snprintf(cfg.final_weeks, sizeof(cfg.final_weeks), "16");
	assert_int_equal(due_rules(&cfg, &r, &errs), PC_OK);
	assert_int_equal(r.review_from, 8);
	assert_int_equal(r.review_to, 10);
	assert_int_equal(r.final_from, 16);
	snprintf(cfg.review_weeks, sizeof(cfg.review_weeks), "10-8");
	assert_int_equal(due_rules(&cfg, &r, &errs), PC_EINVAL);
	assert_non_null(strstr(errs.v[0].msg, "review_weeks must be weeks"));
	err_free(&errs);
}

static struct th_run r;

/* pcmds due and pcmds find, for real, in a home of their own. */
static void
test_due_and_find_commands(void **state)
{
	const char *home = th_tmpdir();
	char ref[16], other[16];

	(void)state;
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", th_path(home, "k"), NULL);
	th_run_free(&r);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", th_path(home, "k"), "--worker", "lw1", "--place", "NH",
	    NULL);
	th_run_free(&r);
	th_unlock(home);
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--nhs-number",
	    "943 476 5919", "--referred-on", "yesterday", "--source", "self",
	    "--reason", "stress", "--service", "general", "--age", "40",
	    "--gender", "male", "--ethnicity", "K", "--consent-evaluation",
	    NULL);
	assert_int_equal(r.status, 0);
	snprintf(ref, sizeof(ref), "%.8s", r.out);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--nhs-number",
	    "401 023 2137", "--referred-on", "today", "--source", "self",
	    "--reason", "stress", "--service", "general", "--age", "40",
	    "--gender", "male", "--ethnicity", "K", "--consent-evaluation",
	    NULL);
	snprintf(other, sizeof(other), "%.8s", r.out);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "contact", ref, "--on",
	    "today", "--mode", "phone", "--minutes", "10", "--attended", NULL);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "due", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Baseline ONS4 missing"));
	assert_non_null(strstr(r.out, "No contact yet"));
	assert_non_null(strstr(r.out, ref));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "due", "--json", NULL);
	{
		cJSON *j = th_json(r.out);

		assert_int_equal(cJSON_GetArraySize(j), 2);
		cJSON_Delete(j);
	}
	th_run_free(&r);
	/* find: the pseudonym matched, the number never printed */
	th_cmd(&r, NULL, "pcmds", "--home", home, "find", "--nhs-number",
	    "9434765919", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, ref));
	assert_null(strstr(r.out, other));
	assert_null(strstr(r.out, "9434765919"));
	assert_non_null(strstr(r.out, "Baseline ONS4 missing"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "find", "--nhs-number",
	    "9434765918", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "Modulus 11"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "find", "--nhs-number",
	    "450 557 7104", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no referral on this device is for "
	    "that NHS number"));
	th_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_steps),
		cmocka_unit_test(test_due_rules),
		cmocka_unit_test(test_due_and_find_commands),
	};

	return cmocka_run_group_tests_name("due", tests, NULL, NULL);
}

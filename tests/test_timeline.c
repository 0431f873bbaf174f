/*
 * test_timeline.c - cross-record rules, corrections and the summary.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "timeline.h"

#define REF	"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f"
#define PERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"

static struct rec_opts opts;
static int seq;

static int
setup(void **state)
{
	(void)state;
	opts.today = date_from_ymd(2026, 11, 22);
	return 0;
}

/* A record of kind with id n (as a UUID) and the given extra fields. */
static struct rec *
mk(const char *kind, int n, const char *place, const char *fields)
{
	char text[4096], id[UUID_LEN];
	struct err_list errs;
	struct rec *r;
	size_t i;

	if (n == 0)
		snprintf(id, sizeof(id), "%s", REF);
	else
		snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", n);
	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"schema\":\"pcmds/1\","
	    "\"kind\":\"%s\",\"recorded_at\":\"2026-05-01T10:00:00Z\","
	    "\"device_seq\":%d,\"worker\":\"lw1\",\"place\":\"%s\","
	    "\"referral\":\"%s\",%s}", id, kind, ++seq, place, REF, fields);
	err_init(&errs);
	if (rec_parse(text, strlen(text), &opts, &r, &errs) != PC_OK) {
		for (i = 0; i < errs.n; i++)
			print_message("%s: %s\n", errs.v[i].field,
			    errs.v[i].msg);
		fail_msg("fixture invalid: %s", text);
	}
	err_free(&errs);
	return r;
}

static struct rec *
referral(int age)
{
	char f[512];

	snprintf(f, sizeof(f), "\"person\":\"" PERSON "\","
	    "\"person_basis\":\"nhs_number\",\"referred_on\":\"2026-03-01\","
	    "\"source\":\"pharmacy\",\"reasons\":[\"stress\"],"
	    "\"service\":\"general\",\"age\":%d,\"gender\":\"male\","
	    "\"ethnicity\":\"K\",\"consent_evaluation\":true", age);
	return mk("referral", 0, "TH", f);
}

static struct rec *
contact(int n, const char *on, int attended)
{
	char f[256];

	snprintf(f, sizeof(f), "\"contact_on\":\"%s\",\"mode\":\"phone\","
	    "\"minutes\":20,\"attended\":%s", on, attended ? "true" : "false");
	return mk("contact", n, "TH", f);
}

static struct rec *
assess(int n, const char *on, const char *stage, int ls, int w, int h,
    int a)
{
	char f[256];

	snprintf(f, sizeof(f), "\"assessed_on\":\"%s\",\"stage\":\"%s\","
	    "\"life_satisfaction\":%d,\"worthwhile\":%d,\"happy\":%d,"
	    "\"anxious\":%d", on, stage, ls, w, h, a);
	return mk("assessment", n, "TH", f);
}

static struct rec *
closure(int n, const char *on, const char *reason)
{
	char f[128];

	snprintf(f, sizeof(f), "\"closed_on\":\"%s\",\"reason\":\"%s\"", on,
	    reason);
	return mk("closure", n, "TH", f);
}

static struct rec *
correct(int n, int target, const char *body)
{
	char f[512];

	if (target == 0)
		snprintf(f, sizeof(f), "\"target\":\"%s\",%s", REF, body);
	else
		snprintf(f, sizeof(f), "\"target\":\"00000000-0000-4000-8000-"
		    "%012d\",%s", target, body);
	return mk("correction", n, "TH", f);
}

static void
admit_ok(struct timeline *tl, struct rec *r)
{
	struct err_list errs;
	size_t i;

	err_init(&errs);
	if (tl_admit(tl, r, &opts, &errs) != PC_OK) {
		for (i = 0; i < errs.n; i++)
			print_message("%s %s: %s\n",
			    err_code_name(errs.v[i].code), errs.v[i].field,
			    errs.v[i].msg);
		fail_msg("record refused");
	}
	err_free(&errs);
}

/* Admission must fail with code on field and leave the timeline as it was. */
static void
admit_bad(struct timeline *tl, struct rec *r, enum err_code code,
    const char *field)
{
	struct err_list errs;
	struct tl_summary before, after;
	size_t n = tl->n, i;
	int found = 0;

	tl_summarise(tl, &before);
	err_init(&errs);
	assert_int_equal(tl_admit(tl, r, &opts, &errs), PC_EINVAL);
	for (i = 0; i < errs.n; i++) {
		if (errs.v[i].code == code && strcmp(errs.v[i].field, field) == 0)
			found = 1;
		else
			print_message("other: %s %s: %s\n",
			    err_code_name(errs.v[i].code), errs.v[i].field,
			    errs.v[i].msg);
	}
	assert_true(found);
	assert_int_equal(tl->n, n);
	tl_summarise(tl, &after);
	assert_int_equal(after.closed_on, before.closed_on);
	assert_int_equal(after.referred_on, before.referred_on);
	assert_int_equal(after.voided, before.voided);
	rec_free(r);
	err_free(&errs);
}

static void
test_needs_referral(void **state)
{
	struct timeline tl;

	(void)state;
	tl_init(&tl, REF);
	admit_bad(&tl, contact(1, "2026-03-02", 1), E_REFERRAL, "referral");
	admit_ok(&tl, referral(40));
	admit_bad(&tl, referral(40), E_REFERRAL, "id");
	admit_bad(&tl, mk("contact", 2, "NH", "\"contact_on\":\"2026-03-02\","
	    "\"mode\":\"phone\",\"minutes\":5,\"attended\":true"), E_REFERRAL,
	    "place");
	admit_ok(&tl, contact(3, "2026-03-02", 1));
	assert_int_equal(tl.n, 2);
	tl_free(&tl);
}

static void
test_dates_and_closure(void **state)
{
	struct timeline tl;
	struct tl_summary s;

	(void)state;
	tl_init(&tl, REF);
	admit_ok(&tl, referral(40));
	admit_bad(&tl, contact(1, "2026-02-28", 1), E_DATE, "contact_on");
	admit_ok(&tl, contact(2, "2026-03-01", 1));	/* same day is fine */
	admit_ok(&tl, contact(3, "2026-04-10", 1));
	admit_bad(&tl, closure(4, "2026-04-01", "goals_met"), E_CLOSED,
	    "closed_on");
	admit_ok(&tl, closure(5, "2026-05-01", "goals_met"));
	admit_bad(&tl, closure(6, "2026-05-02", "declined"), E_CLOSED,
	    "closed_on");
	admit_bad(&tl, contact(7, "2026-05-02", 1), E_CLOSED, "contact_on");
	admit_ok(&tl, contact(8, "2026-04-20", 0));	/* late entry, dated before */
	tl_summarise(&tl, &s);
	assert_int_equal(s.closed_on, date_from_ymd(2026, 5, 1));
	assert_int_equal(s.close_reason, 0);
	assert_int_equal(s.contacts, 3);
	assert_int_equal(s.attended, 2);
	assert_int_equal(s.first_contact, date_from_ymd(2026, 3, 1));
	/* voiding the closure reopens the referral */
	admit_ok(&tl, correct(9, 5, "\"void\":true,\"reason\":\"closed in "
	    "error\""));
	admit_ok(&tl, contact(10, "2026-05-02", 1));
	tl_summarise(&tl, &s);
	assert_int_equal(s.closed_on, -1);
	assert_int_equal(s.contacts, 4);
	tl_free(&tl);
}

static void
test_corrections(void **state)
{
	struct timeline tl;
	struct tl_summary s;

	(void)state;
	tl_init(&tl, REF);
	admit_ok(&tl, referral(40));
	admit_ok(&tl, contact(1, "2026-03-05", 1));
	admit_ok(&tl, correct(2, 0, "\"set\":{\"age\":41,\"imd_decile\":3}"));
	tl_summarise(&tl, &s);
	assert_int_equal(rec_int(s.referral, "age", -1), 41);
	assert_int_equal(rec_int(s.referral, "imd_decile", -1), 3);
	/* null withdraws an optional field */
	admit_ok(&tl, correct(3, 0, "\"set\":{\"imd_decile\":null}"));
	tl_summarise(&tl, &s);
	assert_int_equal(rec_int(s.referral, "imd_decile", -1), -1);
	/* but not a required one */
	admit_bad(&tl, correct(4, 0, "\"set\":{\"age\":null}"), E_REQUIRED,
	    "set.age");
	/* values are checked as the target's kind */
	admit_bad(&tl, correct(5, 1, "\"set\":{\"minutes\":0}"), E_RANGE,
	    "set.minutes");
	admit_bad(&tl, correct(6, 1, "\"set\":{\"age\":30}"), E_UNKNOWN_FIELD,
	    "set.age");
	admit_bad(&tl, correct(7, 1, "\"set\":{\"mode\":\"letter\"}"), E_ENUM,
	    "set.mode");
	/* and against the other records */
	admit_bad(&tl, correct(8, 0, "\"set\":{\"referred_on\":\"2026-03-10\"}"),
	    E_DATE, "set.referred_on");
	admit_bad(&tl, correct(9, 1, "\"set\":{\"contact_on\":\"2026-02-01\"}"),
	    E_DATE, "set.contact_on");
	admit_bad(&tl, correct(10, 77, "\"set\":{\"minutes\":5}"), E_TARGET,
	    "target");
	admit_bad(&tl, correct(11, 2, "\"set\":{\"minutes\":5}"), E_TARGET,
	    "target");
	admit_ok(&tl, correct(12, 1, "\"set\":{\"minutes\":90}"));
	admit_ok(&tl, correct(13, 1, "\"void\":true,\"reason\":\"duplicate\""));
	admit_bad(&tl, correct(14, 1, "\"set\":{\"minutes\":5}"), E_TARGET,
	    "target");
	tl_summarise(&tl, &s);
	assert_int_equal(s.contacts, 0);
	/* a voided referral takes nothing more */
	admit_ok(&tl, correct(15, 0, "\"void\":true,\"reason\":\"wrong "
	    "person\""));
	tl_summarise(&tl, &s);
	assert_true(s.voided);
	admit_bad(&tl, contact(16, "2026-03-06", 1), E_REFERRAL, "referral");
	tl_free(&tl);
}

/*
 * A corrected record is summarised and judged by its corrected content,
 * not by what it read when it was built (rec_vals).
 */
static void
test_corrected_content(void **state)
{
	struct timeline tl;
	struct tl_summary s;

	(void)state;
	tl_init(&tl, REF);
	admit_ok(&tl, referral(40));
	admit_ok(&tl, contact(1, "2026-03-05", 1));
	admit_ok(&tl, assess(2, "2026-03-06", "baseline", 4, 5, 3, 7));
	tl_summarise(&tl, &s);
	assert_int_equal(s.age, 40);
	assert_int_equal(s.attended, 1);
	assert_int_equal(s.first_contact, date_from_ymd(2026, 3, 5));
	assert_true(s.has_baseline);
	assert_int_equal(s.baseline.score[0], 4);
	admit_ok(&tl, correct(3, 1, "\"set\":{\"attended\":false}"));
	admit_ok(&tl, correct(4, 2, "\"set\":{\"stage\":\"review\","
	    "\"life_satisfaction\":9}"));
	admit_ok(&tl, correct(5, 0, "\"set\":{\"age\":41}"));
	tl_summarise(&tl, &s);
	assert_int_equal(s.age, 41);
	assert_int_equal(s.contacts, 1);
	assert_int_equal(s.attended, 0);
	assert_int_equal(s.first_contact, -1);
	assert_false(s.has_baseline);
	assert_true(s.has_latest);
	assert_int_equal(s.latest.score[0], 9);
	/* the corrected age is the one the rule reads */
	admit_bad(&tl, correct(6, 0, "\"set\":{\"age\":15}"), E_AGE,
	    "set.age");
	admit_ok(&tl, correct(7, 0, "\"set\":{\"referred_on\":"
	    "\"2026-02-01\"}"));
	tl_summarise(&tl, &s);
	assert_int_equal(s.referred_on, date_from_ymd(2026, 2, 1));
	admit_bad(&tl, contact(8, "2026-01-20", 1), E_DATE, "contact_on");
	tl_free(&tl);
}

static void
test_age_rule(void **state)
{
	struct timeline tl;
	struct rec *r;

	(void)state;
	tl_init(&tl, REF);
	admit_ok(&tl, referral(15));
	admit_bad(&tl, assess(1, "2026-03-02", "baseline", 5, 5, 5, 5), E_AGE,
	    "stage");
	r = mk("assessment", 2, "TH", "\"assessed_on\":\"2026-03-02\","
	    "\"stage\":\"baseline\",\"declined\":true");
	admit_ok(&tl, r);
	tl_free(&tl);

	tl_init(&tl, REF);
	admit_ok(&tl, referral(16));
	admit_ok(&tl, assess(1, "2026-03-02", "baseline", 5, 5, 5, 5));
	admit_bad(&tl, correct(2, 0, "\"set\":{\"age\":12}"), E_AGE, "set.age");
	tl_free(&tl);
}

static void
test_ons4_pairs(void **state)
{
	struct timeline tl;
	struct tl_summary s;

	(void)state;
	tl_init(&tl, REF);
	admit_ok(&tl, referral(50));
	tl_summarise(&tl, &s);
	assert_false(s.has_baseline);
	admit_ok(&tl, assess(1, "2026-03-10", "review", 6, 6, 6, 4));
	admit_ok(&tl, assess(2, "2026-03-02", "baseline", 3, 4, 2, 8));
	admit_ok(&tl, assess(3, "2026-03-05", "baseline", 9, 9, 9, 0));
	admit_ok(&tl, mk("assessment", 4, "TH", "\"assessed_on\":"
	    "\"2026-05-01\",\"stage\":\"final\",\"declined\":true"));
	admit_ok(&tl, assess(5, "2026-04-20", "final", 7, 8, 6, 3));
	admit_ok(&tl, assess(6, "2026-04-01", "review", 5, 5, 5, 5));
	tl_summarise(&tl, &s);
	assert_int_equal(s.assessments, 6);
	assert_int_equal(s.declined, 1);
	assert_true(s.has_baseline);
	assert_int_equal(s.baseline.on, date_from_ymd(2026, 3, 2));
	assert_int_equal(s.baseline.score[ONS4_ANXIOUS], 8);
	assert_true(s.has_followup);	/* latest later scored review/final */
	assert_int_equal(s.followup.on, date_from_ymd(2026, 4, 20));
	assert_int_equal(s.followup.score[ONS4_LIFE_SATISFACTION], 7);
	/* voiding the baseline moves the pair to the next baseline */
	admit_ok(&tl, correct(7, 2, "\"void\":true,\"reason\":\"wrong day\""));
	tl_summarise(&tl, &s);
	assert_int_equal(s.baseline.on, date_from_ymd(2026, 3, 5));
	tl_free(&tl);
}

static void
test_support_and_find(void **state)
{
	struct timeline tl;
	struct tl_summary s;

	(void)state;
	tl_init(&tl, REF);
	admit_ok(&tl, referral(30));
	admit_ok(&tl, mk("support", 1, "TH", "\"offered_on\":\"2026-03-04\","
	    "\"category\":\"food\",\"outcome\":\"offered\""));
	admit_ok(&tl, mk("support", 2, "TH", "\"offered_on\":\"2026-03-05\","
	    "\"category\":\"learning\",\"outcome\":\"completed\""));
	admit_ok(&tl, correct(3, 1, "\"set\":{\"outcome\":\"taken_up\"}"));
	tl_summarise(&tl, &s);
	assert_int_equal(s.supports, 2);
	assert_int_equal(s.support_offered,
	    1u << code_index(&codes_support, "food") |
	    1u << code_index(&codes_support, "learning"));
	assert_int_equal(s.support_taken, s.support_offered);
	assert_int_equal(tl_find(&tl, REF), 0);
	assert_int_equal(tl_find_prefix(&tl, "0b7f3c2e"), 0);
	assert_int_equal(tl_find_prefix(&tl, "00000000"), -2);
	assert_int_equal(tl_find_prefix(&tl, "ffff"), -1);
	tl_free(&tl);
}

/* One problem from tl_precheck, with its code; "" when none. */
static enum err_code
precheck(const struct timeline *tl, enum rec_kind k, const char *on,
    int scores, char *msg, size_t len)
{
	struct err_list errs;
	int32_t d = -1;
	enum err_code c = E_NONE;

	if (on != NULL)
		assert_int_equal(date_parse(on, &d), 0);
	err_init(&errs);
	msg[0] = '\0';
	if (tl_precheck(tl, k, d, scores, &errs) != PC_OK) {
		assert_true(errs.n > 0);
		c = errs.v[0].code;
		snprintf(msg, len, "%s", errs.v[0].msg);
	} else
		assert_int_equal(errs.n, 0);
	err_free(&errs);
	return c;
}

/* The early checks agree with what admission refuses at the end. */
static void
test_precheck(void **state)
{
	struct timeline tl, young;
	char msg[ERR_MSG_MAX];

	(void)state;
	tl_init(&tl, REF);
	assert_int_equal(precheck(&tl, KIND_CONTACT, NULL, 0, msg,
	    sizeof(msg)), E_REFERRAL);
	admit_ok(&tl, referral(40));
	assert_int_equal(precheck(&tl, KIND_ASSESSMENT, NULL, 1, msg,
	    sizeof(msg)), E_NONE);
	assert_int_equal(precheck(&tl, KIND_ASSESSMENT, "2026-02-27", 1, msg,
	    sizeof(msg)), E_DATE);
	assert_string_equal(msg, "Assessed on 2026-02-27 is before the "
	    "referral date 2026-03-01");
	admit_bad(&tl, assess(1, "2026-02-27", "baseline", 5, 5, 5, 5), E_DATE,
	    "assessed_on");
	assert_int_equal(precheck(&tl, KIND_CONTACT, "2026-03-01", 0, msg,
	    sizeof(msg)), E_NONE);
	admit_ok(&tl, closure(2, "2026-05-01", "goals_met"));
	assert_int_equal(precheck(&tl, KIND_CLOSURE, NULL, 0, msg,
	    sizeof(msg)), E_CLOSED);
	admit_bad(&tl, closure(3, "2026-05-01", "goals_met"), E_CLOSED,
	    "closed_on");
	assert_int_equal(precheck(&tl, KIND_CONTACT, "2026-05-02", 0, msg,
	    sizeof(msg)), E_CLOSED);
	admit_bad(&tl, contact(4, "2026-05-02", 1), E_CLOSED, "contact_on");
	assert_int_equal(precheck(&tl, KIND_CONTACT, "2026-04-30", 0, msg,
	    sizeof(msg)), E_NONE);
	/* under 16: no ONS4 questions at all, before any is asked */
	tl_init(&young, REF);
	admit_ok(&young, referral(15));
	assert_int_equal(precheck(&young, KIND_ASSESSMENT, NULL, 1, msg,
	    sizeof(msg)), E_AGE);
	assert_string_equal(msg, "ONS4 is asked of people aged 16 and over; "
	    "this referral records age 15");
	assert_int_equal(precheck(&young, KIND_ASSESSMENT, NULL, 0, msg,
	    sizeof(msg)), E_NONE);
	admit_bad(&young, assess(5, "2026-03-02", "baseline", 5, 5, 5, 5),
	    E_AGE, "stage");
	/* a voided referral takes nothing more */
	admit_ok(&young, correct(6, 0, "\"void\":true,\"reason\":\"twice\""));
	assert_int_equal(precheck(&young, KIND_CONTACT, NULL, 0, msg,
	    sizeof(msg)), E_REFERRAL);
	tl_free(&young);
	tl_free(&tl);
}

/*
 * tl_load takes its record even when the timeline cannot grow (as
 * timeline.h says): nothing leaks. The leak is what LeakSanitizer (make
 * check SAN=1) and valgrind (make valgrind) see; the growth is refused
 * for real, by the size check, with no allocator tricks.
 */
static void
test_load_takes_record_on_failure(void **state)
{
	struct timeline tl;
	struct tl_entry *keep;
	size_t n, cap;

	(void)state;
	tl_init(&tl, REF);
	assert_int_equal(tl_load(&tl, referral(40)), PC_OK);
	keep = tl.v;
	n = tl.n;
	cap = tl.cap;
	/* a timeline as full as memory can describe: the next entry cannot fit */
	tl.n = tl.cap = SIZE_MAX / sizeof(*tl.v) / 2 + 1;
	assert_int_equal(tl_load(&tl, contact(1, "2026-03-05", 1)),
	    PC_ENOMEM);
	assert_ptr_equal(tl.v, keep);	/* left as it was */
	tl.n = n;
	tl.cap = cap;
	assert_int_equal(tl.n, 1);
	tl_free(&tl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needs_referral),
		cmocka_unit_test(test_dates_and_closure),
		cmocka_unit_test(test_corrections),
		cmocka_unit_test(test_corrected_content),
		cmocka_unit_test(test_age_rule),
		cmocka_unit_test(test_ons4_pairs),
		cmocka_unit_test(test_support_and_find),
		cmocka_unit_test(test_precheck),
		cmocka_unit_test(test_load_takes_record_on_failure),
	};

	return cmocka_run_group_tests_name("timeline", tests, setup, NULL);
}

/*
 * test_record.c - recording as the review of the command line asked:
 * values typed the way people type them (labels, list numbers, any case,
 * DD/MM/YYYY, today and tomorrow), rules checked before the prompts they
 * make pointless, a read-back of what was stored, warnings for a second
 * baseline or the same correction twice, and pcmds correct asking with
 * each field's current value. The conversions are unit-tested here; the
 * rest runs the real pcmds, on a pseudo-terminal where a person would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "harness.h"

static struct th_run r;

static void
done(void)
{
	th_run_free(&r);
}

static const char *
new_home(void)
{
	static char home[512];

	snprintf(home, sizeof(home), "%s", th_tmpdir());
	th_cmd(&r, NULL, "pcmds", "keygen", "--out",
	    th_path(home, "deploy.key"), NULL);
	done();
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", th_path(home, "deploy.key"), "--worker", "lw1",
	    "--place", "NH", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_unlock(home);
	return home;
}

/* Text -> the JSON value record_value gives for field of kind. */
static char *
value(enum rec_kind k, const char *field, const char *text)
{
	cJSON *v = record_value(rec_field(k, field), text);
	char *s = cJSON_PrintUnformatted(v);

	cJSON_Delete(v);
	return s;
}

static void
typed_as(enum rec_kind k, const char *field, const char *text,
    const char *want)
{
	char *got = value(k, field, text);

	if (strcmp(got, want) != 0)
		fail_msg("%s=%s gave %s, not %s", field, text, got, want);
	free(got);
}

static void
test_typed_values(void **state)
{
	char today[DATE_LEN], tomorrow[DATE_LEN], want[40];

	(void)state;
	/* codes in any case, their labels, their numbers in the list */
	typed_as(KIND_REFERRAL, "source", "pharmacy", "\"pharmacy\"");
	typed_as(KIND_REFERRAL, "source", "PHARMACY", "\"pharmacy\"");
	typed_as(KIND_REFERRAL, "source", "2", "\"pharmacy\"");
	typed_as(KIND_REFERRAL, "source", "general practice",
	    "\"general_practice\"");
	typed_as(KIND_REFERRAL, "gender", "Female", "\"female\"");
	typed_as(KIND_REFERRAL, "ethnicity", "n", "\"N\"");
	typed_as(KIND_REFERRAL, "ethnicity", "99", "\"99\"");
	typed_as(KIND_REFERRAL, "reasons", "Stress, 8,HOUSING",
	    "[\"stress\",\"debt_money\",\"housing\"]");
	/* what is none of these reaches the validator as typed */
	typed_as(KIND_REFERRAL, "source", "gp", "\"gp\"");
	typed_as(KIND_REFERRAL, "source", "99", "\"99\"");
	/* dates the UK way, rewritten for the validator to judge */
	typed_as(KIND_CONTACT, "contact_on", "01/05/2026",
	    "\"2026-05-01\"");
	typed_as(KIND_CONTACT, "contact_on", "31/11/2026",
	    "\"2026-11-31\"");
	typed_as(KIND_CONTACT, "contact_on", "2026-05-01",
	    "\"2026-05-01\"");
	record_local_date(0, today);
	record_local_date(1, tomorrow);
	snprintf(want, sizeof(want), "\"%s\"", today);
	typed_as(KIND_CONTACT, "contact_on", "Today", want);
	snprintf(want, sizeof(want), "\"%s\"", tomorrow);
	typed_as(KIND_CONTACT, "contact_on", "tomorrow", want);
}

static void
expect_err(const char *needle)
{
	if (strstr(r.err, needle) == NULL)
		fail_msg("stderr lacks \"%s\":\n%s", needle, r.err);
}

static const char *
referral(const char *home, int age)
{
	static char id[16];
	char a[8];

	snprintf(a, sizeof(a), "%d", age);
	/* labels and list numbers in flags, as at the prompts */
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--no-nhs-number",
	    "--referred-on", "01/11/2026", "--source", "Pharmacy", "--reason",
	    "Stress,8", "--service", "1", "--age", a, "--gender", "MALE",
	    "--ethnicity", "k", "--consent-evaluation", NULL);
	if (r.status != 0)
		fail_msg("referral refused: %s", r.err);
	snprintf(id, sizeof(id), "%.8s", r.out);
	/* the read-back, in words */
	expect_err("pcmds: stored ");
	expect_err(" referral 01/11/2026: from Community pharmacy for Stress, "
	    "Debt or "
	    "money worries; General social prescribing; age ");
	done();
	return id;
}

/* Flags refused name the field by its label, never reasons[1]. */
static void
test_messages_by_label(void **state)
{
	const char *home = new_home();

	(void)state;
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--no-nhs-number",
	    "--referred-on", "31/11/2026", "--source", "gp", "--reason",
	    "stress,sadness", "--service", "general", "--age", "40", "--gender",
	    "male", "--ethnicity", "K", "--consent-evaluation", NULL);
	assert_int_equal(r.status, 1);
	expect_err("--referred-on: Referred on 2026-11-31 is not a real date "
	    "(November 2026 has 30 days)");
	expect_err("--source: Source of referral must be one of the 16 codes "
	    "of its list; got \"gp\"");
	expect_err("--reason: Reasons for referral (item 2) must be one of");
	if (strstr(r.err, "reasons[") || strstr(r.err, "data dictionary"))
		fail_msg("internal names in: %s", r.err);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--no-nhs-number",
	    "--referred-on", "tomorrow", "--source", "self", "--reason",
	    "stress", "--service", "general", "--age", "40", "--gender", "male",
	    "--ethnicity", "K", "--consent-evaluation", NULL);
	assert_int_equal(r.status, 1);
	expect_err("is in the future: dates cannot be later than today");
	done();
}

/* Under 16: refused before a single ONS4 question is asked. */
static void
test_rules_before_prompts(void **state)
{
	const char *home = new_home(), *ref;
	const char *argv[] = {"pcmds", "--home", home, "assess", NULL, NULL};
	char id[16];
	struct th_pty p;

	(void)state;
	ref = referral(home, 15);
	snprintf(id, sizeof(id), "%s", ref);
	argv[4] = id;
	th_pty_start(&p, argv);
	th_pty_expect(&p, "ONS4 is asked of people aged 16 and over; this "
	    "referral records age 15");
	assert_int_equal(th_pty_finish(&p), 1);
	if (strstr(p.seen, "Assessed on") || strstr(p.seen, "Overall, how"))
		fail_msg("asked before refusing:\n%s", p.seen);
	th_pty_free(&p);
	/* a date before the referral: refused at the date prompt */
	snprintf(id, sizeof(id), "%s", referral(home, 40));
	argv[3] = "contact";
	th_pty_start(&p, argv);
	th_pty_expect(&p, "Contact on (DD/MM/YYYY, today or yesterday)");
	th_pty_send(&p, "31/10/2026\n");
	th_pty_expect(&p, "Contact on 2026-10-31 is before the referral date "
	    "2026-11-01");
	th_pty_expect(&p, "Contact on");		/* asked again */
	th_pty_send(&p, "02/11/2026\n");
	th_pty_expect(&p, "Mode");
	th_pty_send(&p, "phone\n");
	th_pty_expect(&p, "Minutes");
	th_pty_send(&p, "20\n");
	th_pty_expect(&p, "Attended");
	th_pty_send(&p, "yes\n");
	th_pty_expect(&p, "contact 02/11/2026: Telephone, 20 min, attended");
	assert_int_equal(th_pty_finish(&p), 0);
	th_pty_free(&p);
	/* closing with no final assessment asks first */
	argv[3] = "close";
	th_pty_start(&p, argv);
	th_pty_expect(&p, "No final ONS4 assessment is recorded");
	th_pty_expect(&p, "Close it without a final assessment? (yes/no)");
	th_pty_send(&p, "no\n");
	th_pty_expect(&p, "not closed; nothing recorded");
	assert_int_equal(th_pty_finish(&p), 1);
	th_pty_free(&p);
	/* a closed referral: no prompts at all */
	th_cmd(&r, NULL, "pcmds", "--home", home, "close", id, "--on",
	    "02/11/2026", "--reason", "goals_met", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_pty_start(&p, argv);
	th_pty_expect(&p, "this referral is already closed");
	assert_int_equal(th_pty_finish(&p), 1);
	if (strstr(p.seen, "Closed on ("))
		fail_msg("asked before refusing:\n%s", p.seen);
	th_pty_free(&p);
}

/* A second baseline and a repeated correction are stored, with a warning. */
static void
test_warnings(void **state)
{
	const char *home = new_home();
	char ref[16], con[16];

	(void)state;
	snprintf(ref, sizeof(ref), "%s", referral(home, 40));
	th_cmd(&r, NULL, "pcmds", "--home", home, "assess", ref, "--stage",
	    "baseline", "--on", "02/11/2026", "--life-satisfaction", "4",
	    "--worthwhile", "5", "--happy", "3", "--anxious", "7", NULL);
	assert_int_equal(r.status, 0);
	if (strstr(r.err, "warning"))
		fail_msg("a first baseline warned: %s", r.err);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "assess", ref, "--stage",
	    "Baseline", "--on", "03/11/2026", "--declined", NULL);
	assert_int_equal(r.status, 0);
	expect_err("pcmds: warning: this referral already has a baseline "
	    "(02/11/2026");
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "contact", ref, "--on",
	    "02/11/2026", "--mode", "Phone", "--minutes", "20", "--attended",
	    NULL);
	snprintf(con, sizeof(con), "%.8s", r.out);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "correct", con, "--set",
	    "minutes=25", NULL);
	assert_int_equal(r.status, 0);
	expect_err("pcmds: stored ");
	expect_err("corrects ");
	expect_err(": Minutes 25");
	if (strstr(r.err, "warning"))
		fail_msg("a first correction warned: %s", r.err);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "correct", con, "--set",
	    "minutes=25", NULL);
	assert_int_equal(r.status, 0);
	expect_err("already had this same correction");
	done();
}

/* correct on a terminal shows each current value; Enter keeps it. */
static void
test_correct_prompts(void **state)
{
	const char *home = new_home();
	const char *argv[] = {"pcmds", "--home", home, "correct", NULL, NULL};
	char ref[16], con[16];
	struct th_pty p;

	(void)state;
	snprintf(ref, sizeof(ref), "%s", referral(home, 40));
	th_cmd(&r, NULL, "pcmds", "--home", home, "contact", ref, "--on",
	    "02/11/2026", "--mode", "home_visit", "--minutes", "45",
	    "--attended", NULL);
	snprintf(con, sizeof(con), "%.8s", r.out);
	done();
	argv[4] = con;
	th_pty_start(&p, argv);
	th_pty_expect(&p, "Contact on (DD/MM/YYYY, today or yesterday) [now "
	    "02/11/2026; Enter keeps it]");
	th_pty_send(&p, "\n");
	th_pty_expect(&p, "[now home_visit; Enter keeps it]");
	th_pty_send(&p, "\n");
	th_pty_expect(&p, "Minutes [now 45; Enter keeps it]");
	th_pty_send(&p, "50\n");
	th_pty_expect(&p, "Attended (yes/no) [now yes; Enter keeps it]");
	th_pty_send(&p, "\n");
	th_pty_expect(&p, ": Minutes 50");
	assert_int_equal(th_pty_finish(&p), 0);
	th_pty_free(&p);
	th_cmd(&r, NULL, "pcmds", "--home", home, "show", ref, NULL);
	if (strstr(r.out, "Home visit, 50 min, attended") == NULL)
		fail_msg("not corrected:\n%s", r.out);
	done();
	/* nothing changed: nothing recorded */
	th_pty_start(&p, argv);
	th_pty_expect(&p, "Contact on");
	th_pty_send(&p, "\n\n\n\n");
	th_pty_expect(&p, "nothing was changed, so nothing was recorded");
	assert_int_equal(th_pty_finish(&p), 1);
	th_pty_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed_values),
		cmocka_unit_test(test_messages_by_label),
		cmocka_unit_test(test_rules_before_prompts),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_correct_prompts),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}

/*
 * test_pii.c - free text that identifies someone, or hides characters, is
 * refused: each kind of identifier with the forms people write it in, the
 * near misses that must pass, the validator naming the field by its
 * label, NULs in JSON text, and the client refusing it end to end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pii.h"
#include "rec.h"
#include "timeline.h"

static void
expect_kind(const char *text, enum pii_kind want, long at)
{
	long got_at = 0;
	enum pii_kind k = pii_scan(text, strlen(text), &got_at);

	if (k != want)
		fail_msg("\"%s\": found %s, wanted %s", text, pii_kind_text(k),
		    pii_kind_text(want));
	if (want != PII_NONE && at > 0 && got_at != at)
		fail_msg("\"%s\": found at %ld, wanted %ld", text, got_at, at);
}

static void
test_nhs_number(void **state)
{
	(void)state;
	/* 943 476 5919 passes the Modulus 11 check (NHS Digital's example) */
	expect_kind("9434765919", PII_NHS_NUMBER, 1);
	expect_kind("NHS 943 476 5919", PII_NHS_NUMBER, 5);
	expect_kind("ref 943-476-5919.", PII_NHS_NUMBER, 5);
	expect_kind("NHS9434765919", PII_NHS_NUMBER, 4);
	expect_kind("no 194347659190 held", PII_NHS_NUMBER, 4);
	/* a wrong check digit is not an NHS number */
	expect_kind("9434765918", PII_NONE, 0);
	expect_kind("Charity 1092345", PII_NONE, 0);
	expect_kind("Open 9 - 5, since 2015-01-01", PII_NONE, 0);
}

static void
test_email(void **state)
{
	(void)state;
	expect_kind("j.smith@example.nhs.uk", PII_EMAIL, 1);
	expect_kind("write to Ann.O'Neill+sp@mail.example.com.", PII_EMAIL,
	    10);
	expect_kind("Age UK @ the hub", PII_NONE, 0);
	expect_kind("name@localhost", PII_NONE, 0);
	expect_kind("a@b.c1", PII_NONE, 0);
}

static void
test_phone(void **state)
{
	(void)state;
	expect_kind("020 7946 0958", PII_PHONE, 1);
	expect_kind("mobile 07700 900123", PII_PHONE, 8);
	expect_kind("+44 7700 900123", PII_PHONE, 1);
	expect_kind("+44 (0)20 7946 0958", PII_PHONE, 1);
	expect_kind("(020) 7946-0958", PII_PHONE, 1);
	expect_kind("0044 20 7946 0958", PII_PHONE, 1);
	expect_kind("Room 101, 2 Main Road", PII_NONE, 0);
	expect_kind("+1 202 555 0143", PII_NONE, 0);
}

static void
test_postcode(void **state)
{
	(void)state;
	expect_kind("E15 4HT", PII_POSTCODE, 1);
	expect_kind("at SW1A 1AA today", PII_POSTCODE, 4);
	expect_kind("IG11 7LX", PII_POSTCODE, 1);
	expect_kind("RM109QJ", PII_POSTCODE, 1);
	expect_kind("m1 1ae", PII_POSTCODE, 1);
	expect_kind("W1A 0AX", PII_POSTCODE, 1);
	expect_kind("E15 Community Hub", PII_NONE, 0);
	expect_kind("Unit B1 2nd floor", PII_NONE, 0);
	expect_kind("QA1 1AA", PII_NONE, 0);	/* no area starts with Q */
	expect_kind("E1 1CA", PII_NONE, 0);	/* inward letters never C */
}

static void
test_title_and_name(void **state)
{
	(void)state;
	expect_kind("Mr John Smith", PII_NAME, 1);
	expect_kind("seen by Mrs. Patel", PII_NAME, 9);
	expect_kind("Dr A Khan's clinic", PII_NAME, 1);
	expect_kind("MISS JONES", PII_NAME, 1);
	expect_kind("Ms  O'Brien", PII_NAME, 1);
	expect_kind("Missing Link Trust", PII_NONE, 0);
	expect_kind("Drama group", PII_NONE, 0);
	expect_kind("Mr", PII_NONE, 0);
	expect_kind("mr smith", PII_NONE, 0);
	expect_kind("Mr smith", PII_NONE, 0);
	expect_kind("Hummr Group", PII_NONE, 0);
}

static void
test_invisible(void **state)
{
	(void)state;
	expect_kind("tab\there", PII_CONTROL, 4);
	expect_kind("del\x7f", PII_CONTROL, 4);
	expect_kind("Age\xe2\x80\x8bUK", PII_INVISIBLE, 4);	/* U+200B */
	expect_kind("\xe2\x80\xaeKU egA", PII_INVISIBLE, 1);	/* U+202E */
	expect_kind("x\xc2\x85y", PII_INVISIBLE, 2);		/* NEL, C1 */
	expect_kind("\xef\xbb\xbf" "Mind", PII_INVISIBLE, 1);	/* BOM */
	expect_kind("Caf\xc3\xa9 Cr\xc3\xa8me", PII_NONE, 0);
	/* a NUL inside the length given is found, not cut at */
	assert_int_equal(pii_scan("ab\0cd", 5, NULL), PII_CONTROL);
	/* the first kind in order, at its own place */
	expect_kind("Mr John Smith NHS 9434765919", PII_NHS_NUMBER, 19);
	expect_kind("caf\xc3\xa9 E15 4HT", PII_POSTCODE, 6);
}

/* The validator: the field named by its label, for every text field. */
static void
expect_refused(cJSON *o, enum err_code code, const char *path,
    const char *label)
{
	struct rec_opts ro;
	struct err_list errs;
	struct rec *r;
	size_t i;
	int found = 0;

	rec_opts_init(&ro, 1780000000);
	err_init(&errs);
	assert_int_equal(rec_adopt(o, &ro, &r, &errs), PC_EINVAL);
	for (i = 0; i < errs.n; i++)
		if (errs.v[i].code == code && strcmp(errs.v[i].field,
		    path) == 0 && strstr(errs.v[i].msg, label) != NULL)
			found = 1;
	if (!found)
		fail_msg("no %s for %s: %s", err_code_name(code), path,
		    errs.n ? errs.v[0].msg : "(no error)");
	err_free(&errs);
}

static cJSON *
record(const char *kind, const char *rest)
{
	char text[1024];

	snprintf(text, sizeof(text), "{%s\"schema\":\"pcmds/1\",\"kind\":\"%s\","
	    "\"recorded_at\":\"2026-03-02T10:15:00Z\",\"device_seq\":7,"
	    "\"worker\":\"lw-bd.01\",\"place\":\"BD\",\"referral\":"
	    "\"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f\",%s}", strncmp(rest,
	    "\"id\"", 4) == 0 ? "" : "\"id\":\"6f1e2d3c-4b5a-4968-8776-"
	    "a5b4c3d2e1f0\",", kind, rest);
	return th_json(text);
}

static void
test_validator(void **state)
{
	(void)state;
	expect_refused(record("support", "\"offered_on\":\"2026-03-10\","
	    "\"category\":\"befriending_social\",\"outcome\":\"taken_up\","
	    "\"provider\":\"Mr John Smith NHS 9434765919\""), E_IDENTIFIER,
	    "provider", "Provider");
	expect_refused(record("correction", "\"target\":\"0b7f3c2e-5d4a-4e6b-"
	    "9c8d-1a2b3c4d5e6f\",\"void\":true,\"reason\":\"duplicate, see "
	    "ann@example.org\""), E_IDENTIFIER, "reason", "Reason");
	expect_refused(record("support", "\"offered_on\":\"2026-03-10\","
	    "\"category\":\"food\",\"outcome\":\"offered\",\"provider\":"
	    "\"Food\\u200bbank\""), E_CONTROL, "provider", "Provider");
	expect_refused(record("support", "\"offered_on\":\"2026-03-10\","
	    "\"category\":\"food\",\"outcome\":\"offered\",\"provider\":"
	    "\"Food\\u0007bank\""), E_CONTROL, "provider", "Provider");
}

/* A correction's new value is checked as the corrected record. */
static void
test_correction_set(void **state)
{
	struct rec_opts ro;
	struct err_list errs;
	struct timeline tl;
	struct rec *r;
	cJSON *o;
	const char *texts[] = {
	    "\"id\":\"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f\",\"person\":"
	    "\"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5\","
	    "\"person_basis\":\"local\",\"referred_on\":\"2026-03-01\","
	    "\"source\":\"self\",\"reasons\":[\"stress\"],\"service\":"
	    "\"general\",\"age\":40,\"gender\":\"female\",\"ethnicity\":"
	    "\"A\",\"consent_evaluation\":true",
	    "\"offered_on\":\"2026-03-10\",\"category\":\"food\","
	    "\"outcome\":\"offered\",\"provider\":\"Mind\"",
	    "\"id\":\"8a1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"target\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"set\":{\"provider\":"
	    "\"Mind, E15 4HT\"}"};
	const char *kinds[] = {"referral", "support", "correction"};
	size_t i, k;
	int found = 0;

	(void)state;
	rec_opts_init(&ro, 1780000000);
	tl_init(&tl, "0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f");
	for (k = 0; k < 3; k++) {
		o = record(kinds[k], texts[k]);
		err_init(&errs);
		assert_int_equal(rec_adopt(o, &ro, &r, &errs), PC_OK);
		if (k < 2) {
			assert_int_equal(tl_admit(&tl, r, &ro, &errs), PC_OK);
			err_free(&errs);
			continue;
		}
		assert_int_equal(tl_admit(&tl, r, &ro, &errs), PC_EINVAL);
		for (i = 0; i < errs.n; i++)
			found |= errs.v[i].code == E_IDENTIFIER && strcmp(
			    errs.v[i].field, "set.provider") == 0 && strstr(
			    errs.v[i].msg, "a UK postcode") != NULL;
		assert_true(found);
		rec_free(r);
		err_free(&errs);
	}
	tl_free(&tl);
}

static void
test_json_nul(void **state)
{
	char key[64];
	static const char raw[] = "{\"a\":1,\"provider\":\"x\0y\"}";

	(void)state;
	assert_int_equal(pii_json_nul("{\"a\":\"x\\u0000y\"}", 16, key,
	    sizeof(key)), 7);
	assert_string_equal(key, "a");
	assert_int_equal(pii_json_nul(raw, sizeof(raw) - 1, key, sizeof(key)),
	    20);
	assert_string_equal(key, "provider");
	assert_true(pii_json_nul("{\"records\":[{\"id\":\"x\",\"provider\":"
	    "\"A\\u0000\"}]}", 47, key, sizeof(key)) > 0);
	assert_string_equal(key, "provider");
	assert_true(pii_json_nul("{\"na\\u0000me\":1}", 16, key,
	    sizeof(key)) > 0);
	assert_string_equal(key, "na");
	/* an escaped backslash before u0000 is text, not a NUL */
	assert_int_equal(pii_json_nul("{\"a\":\"\\\\u0000\"}", 15, key,
	    sizeof(key)), -1);
	assert_int_equal(pii_json_nul("{\"a\":\"\\u00000\"}", 15, key,
	    sizeof(key)), 6);
	assert_int_equal(pii_json_nul("{\"a\":\"ok\"}", 10, key, sizeof(key)),
	    -1);
	assert_string_equal(key, "");
	/* other escapes before it, and an escaped backslash just before */
	assert_int_equal(pii_json_nul("{\"b\":\"\\n\\t\",\"c\":\"\\\\\\u0000\"}",
	    27, key, sizeof(key)), 19);
	assert_string_equal(key, "c");
	/* escapes, none a NUL; and the escape as the text's last bytes */
	assert_int_equal(pii_json_nul("{\"b\":\"\\n\\\\\\u0001\"}", 18, key,
	    sizeof(key)), -1);
	assert_int_equal(pii_json_nul("\"\\u0000", 7, key, sizeof(key)), 1);
	assert_int_equal(pii_json_nul("\"\\u000", 6, key, sizeof(key)), -1);
	assert_int_equal(pii_json_nul("", 0, key, sizeof(key)), -1);
}

/* The issue's own example, typed at the real client, changes nothing. */
static void
test_client_refuses(void **state)
{
	const char *home = th_tmpdir();
	struct th_run r;
	char ref[16];

	(void)state;
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", th_path(home, "k"), NULL);
	th_run_free(&r);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", th_path(home, "k"), "--worker", "lw-1", "--place", "NH",
	    NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--no-nhs-number",
	    "--referred-on", "2026-03-01", "--source", "self", "--reason",
	    "stress", "--service", "general", "--age", "40", "--gender",
	    "female", "--ethnicity", "A", "--consent-evaluation", NULL);
	assert_int_equal(r.status, 0);
	snprintf(ref, sizeof(ref), "%.8s", r.out);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "support", ref, "--on",
	    "2026-03-02", "--category", "befriending_social", "--outcome",
	    "offered", "--provider", "Mr John Smith NHS 9434765919", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "Provider"));
	assert_non_null(strstr(r.err, "an NHS number"));
	assert_null(strstr(r.err, "9434765919"));	/* never echoed */
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "status", "--json", NULL);
	{
		cJSON *j = th_json(r.out);

		/* the referral alone */
		assert_int_equal(cJSON_GetObjectItem(j, "pending")->valueint, 1);
		cJSON_Delete(j);
	}
	th_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nhs_number),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_postcode),
		cmocka_unit_test(test_title_and_name),
		cmocka_unit_test(test_invisible),
		cmocka_unit_test(test_validator),
		cmocka_unit_test(test_correction_set),
		cmocka_unit_test(test_json_nul),
		cmocka_unit_test(test_client_refuses),
	};

	return cmocka_run_group_tests_name("pii", tests, NULL, NULL);
}

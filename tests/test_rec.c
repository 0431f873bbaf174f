/*
 * test_rec.c - the pcmds/1 validator: every field, boundary and error code.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "canon.h"
#include "jfast.h"
#include "rec.h"

#define REF_ID	"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f"
#define REC_ID	"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define PERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"

static struct rec_opts opts;

static int
setup(void **state)
{
	(void)state;
	opts.today = date_from_ymd(2026, 11, 22);
	return 0;
}

static cJSON *
envelope(const char *kind, const char *id)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "schema", "pcmds/1");
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "recorded_at", "2026-03-02T10:15:00Z");
	cJSON_AddNumberToObject(o, "device_seq", 7);
	cJSON_AddStringToObject(o, "worker", "lw-bd.01");
	cJSON_AddStringToObject(o, "place", "BD");
	cJSON_AddStringToObject(o, "pcn", "U12345");
	cJSON_AddStringToObject(o, "referral", REF_ID);
	return o;
}

static cJSON *
referral(void)
{
	cJSON *o = envelope("referral", REF_ID), *r;

	cJSON_AddStringToObject(o, "person", PERSON);
	cJSON_AddStringToObject(o, "person_basis", "nhs_number");
	cJSON_AddStringToObject(o, "referred_on", "2026-03-01");
	cJSON_AddStringToObject(o, "source", "general_practice");
	r = cJSON_AddArrayToObject(o, "reasons");
	cJSON_AddItemToArray(r, cJSON_CreateString("loneliness_isolation"));
	cJSON_AddItemToArray(r, cJSON_CreateString("debt_money"));
	cJSON_AddStringToObject(o, "service", "general");
	cJSON_AddNumberToObject(o, "age", 67);
	cJSON_AddStringToObject(o, "gender", "female");
	cJSON_AddStringToObject(o, "ethnicity", "N");
	cJSON_AddNumberToObject(o, "imd_decile", 2);
	cJSON_AddBoolToObject(o, "carer", 1);
	cJSON_AddStringToObject(o, "homeless", "unknown");
	cJSON_AddBoolToObject(o, "consent_evaluation", 1);
	return o;
}

static cJSON *
assessment(void)
{
	cJSON *o = envelope("assessment", REC_ID);

	cJSON_AddStringToObject(o, "assessed_on", "2026-03-05");
	cJSON_AddStringToObject(o, "stage", "baseline");
	cJSON_AddNumberToObject(o, "life_satisfaction", 4);
	cJSON_AddNumberToObject(o, "worthwhile", 5);
	cJSON_AddNumberToObject(o, "happy", 3);
	cJSON_AddNumberToObject(o, "anxious", 7);
	return o;
}

static cJSON *
contact(void)
{
	cJSON *o = envelope("contact", REC_ID);

	cJSON_AddStringToObject(o, "contact_on", "2026-03-03");
	cJSON_AddStringToObject(o, "mode", "home_visit");
	cJSON_AddNumberToObject(o, "minutes", 45);
	cJSON_AddBoolToObject(o, "attended", 1);
	return o;
}

static cJSON *
support(void)
{
	cJSON *o = envelope("support", REC_ID);

	cJSON_AddStringToObject(o, "offered_on", "2026-03-10");
	cJSON_AddStringToObject(o, "category", "befriending_social");
	cJSON_AddStringToObject(o, "provider", "Age UK Barking & Dagenham");
	cJSON_AddStringToObject(o, "outcome", "taken_up");
	return o;
}

static cJSON *
closure(void)
{
	cJSON *o = envelope("closure", REC_ID);

	cJSON_AddStringToObject(o, "closed_on", "2026-06-01");
	cJSON_AddStringToObject(o, "reason", "goals_met");
	return o;
}

static cJSON *
correction(void)
{
	cJSON *o = envelope("correction", REC_ID), *set;

	cJSON_AddStringToObject(o, "target", REF_ID);
	set = cJSON_AddObjectToObject(o, "set");
	cJSON_AddNumberToObject(set, "age", 68);
	return o;
}

/*
 * text through jfast_parse and rec_adopt_fast, beside cJSON and
 * rec_adopt: the same outcome, error for error, the same canonical text
 * and hash. 1 when the quick parse took it.
 */
static int
same_fast(const char *text)
{
	struct jfast_info info;
	struct err_list e1, e2;
	struct rec *r1 = NULL, *r2 = NULL;
	size_t len = strlen(text), i;
	cJSON *fast = jfast_parse(text, len, &info);
	pc_rc rc1, rc2;

	if (fast == NULL)
		return 0;
	err_init(&e1);
	err_init(&e2);
	rc1 = rec_adopt(cJSON_ParseWithLength(text, len), &opts, &r1, &e1);
	rc2 = rec_adopt_fast(fast, &info, text, len, &opts, &r2, &e2);
	assert_int_equal(rc1, rc2);
	assert_int_equal(e1.n, e2.n);
	for (i = 0; i < e1.n; i++) {
		assert_int_equal(e1.v[i].code, e2.v[i].code);
		assert_string_equal(e1.v[i].field, e2.v[i].field);
		assert_string_equal(e1.v[i].msg, e2.v[i].msg);
	}
	if (rc1 == PC_OK) {
		assert_int_equal(r1->canon_len, r2->canon_len);
		assert_string_equal(r1->canon, r2->canon);
		assert_string_equal(r1->hash, r2->hash);
		assert_memory_equal(r1->digest, r2->digest, sizeof(r1->digest));
		assert_string_equal(r1->id, r2->id);
		assert_int_equal(r1->date, r2->date);
	}
	rec_free(r1);
	rec_free(r2);
	err_free(&e1);
	err_free(&e2);
	return 1;
}

/* o as a client would send it (canonical) and as cJSON prints it. */
static void
same_fast_tree(const cJSON *o)
{
	struct buf b;
	char *t = cJSON_PrintUnformatted(o);

	buf_init(&b, 0);
	assert_non_null(t);
	same_fast(t);
	free(t);
	if (canon_json(o, &b) == PC_OK)
		same_fast(buf_str(&b));
	buf_free(&b);
}

/* Validates o (consumed) and checks the outcome. */
static void
expect(cJSON *o, enum err_code code, const char *field)
{
	struct err_list errs;
	struct rec *r = NULL;
	pc_rc rc;
	size_t i;
	int found = 0;

	err_init(&errs);
	same_fast_tree(o);
	rc = rec_validate(o, &opts, &r, &errs);
	if (code == E_NONE) {
		if (rc != PC_OK)
			for (i = 0; i < errs.n; i++)
				print_message("unexpected: %s %s: %s\n",
				    err_code_name(errs.v[i].code),
				    errs.v[i].field, errs.v[i].msg);
		assert_int_equal(rc, PC_OK);
		assert_non_null(r);
	} else {
		assert_int_equal(rc, PC_EINVAL);
		assert_null(r);
		for (i = 0; i < errs.n; i++)
			if (errs.v[i].code == code &&
			    strcmp(errs.v[i].field, field) == 0)
				found = 1;
		if (!found)
			for (i = 0; i < errs.n; i++)
				print_message("got: %s %s: %s\n",
				    err_code_name(errs.v[i].code),
				    errs.v[i].field, errs.v[i].msg);
		assert_true(found);
	}
	rec_free(r);
	err_free(&errs);
	cJSON_Delete(o);
}

static cJSON *
with_num(cJSON *o, const char *k, double v)
{
	cJSON_DeleteItemFromObject(o, k);
	cJSON_AddNumberToObject(o, k, v);
	return o;
}

static cJSON *
with_str(cJSON *o, const char *k, const char *v)
{
	cJSON_DeleteItemFromObject(o, k);
	cJSON_AddStringToObject(o, k, v);
	return o;
}

static cJSON *
without(cJSON *o, const char *k)
{
	cJSON_DeleteItemFromObject(o, k);
	return o;
}

static void
test_valid_kinds(void **state)
{
	(void)state;
	expect(referral(), E_NONE, "");
	expect(assessment(), E_NONE, "");
	expect(contact(), E_NONE, "");
	expect(support(), E_NONE, "");
	expect(closure(), E_NONE, "");
	expect(correction(), E_NONE, "");
	expect(without(referral(), "pcn"), E_NONE, "");
	expect(without(support(), "provider"), E_NONE, "");
}

static void
test_required(void **state)
{
	static const char *const ref_req[] = {"id", "schema", "kind",
	    "recorded_at", "device_seq", "worker", "place", "referral",
	    "person", "person_basis", "referred_on", "source", "reasons",
	    "service", "age", "gender", "ethnicity", "consent_evaluation"};
	static const char *const contact_req[] = {"contact_on", "mode",
	    "minutes", "attended"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ref_req) / sizeof(ref_req[0]); i++) {
		if (strcmp(ref_req[i], "kind") == 0)
			continue;	/* without a kind: E_REQUIRED on kind */
		expect(without(referral(), ref_req[i]), E_REQUIRED,
		    ref_req[i]);
	}
	expect(without(referral(), "kind"), E_REQUIRED, "kind");
	for (i = 0; i < 4; i++)
		expect(without(contact(), contact_req[i]), E_REQUIRED,
		    contact_req[i]);
	expect(without(support(), "outcome"), E_REQUIRED, "outcome");
	expect(without(closure(), "reason"), E_REQUIRED, "reason");
	expect(without(assessment(), "stage"), E_REQUIRED, "stage");
	expect(without(assessment(), "anxious"), E_REQUIRED, "anxious");
	expect(without(correction(), "target"), E_REQUIRED, "target");
}

static void
test_ons4_bounds(void **state)
{
	static const char *const m[] = {"life_satisfaction", "worthwhile",
	    "happy", "anxious"};
	struct err_list errs;
	struct rec *r;
	cJSON *o;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		expect(with_num(assessment(), m[i], -1), E_RANGE, m[i]);
		expect(with_num(assessment(), m[i], 0), E_NONE, "");
		expect(with_num(assessment(), m[i], 10), E_NONE, "");
		expect(with_num(assessment(), m[i], 11), E_RANGE, m[i]);
		expect(with_num(assessment(), m[i], 5.5), E_RANGE, m[i]);
		expect(with_str(assessment(), m[i], "5"), E_TYPE, m[i]);
	}
	/* the sentence a link worker reads */
	err_init(&errs);
	o = with_num(assessment(), "anxious", 11);
	assert_int_equal(rec_validate(o, &opts, &r, &errs), PC_EINVAL);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].msg,
	    "Anxiety must be a whole number from 0 to 10; got 11");
	assert_string_equal(errs.v[0].field, "anxious");
	cJSON_Delete(o);
	err_free(&errs);
}

/* The sentence of the one problem with o (consumed), into out. */
static void
message_of(cJSON *o, char *out, size_t len)
{
	struct err_list errs;
	struct rec *r;

	err_init(&errs);
	assert_int_equal(rec_validate(o, &opts, &r, &errs), PC_EINVAL);
	assert_int_equal(errs.n, 1);
	snprintf(out, len, "%s", errs.v[0].msg);
	cJSON_Delete(o);
	err_free(&errs);
}

/* Messages name fields by their labels, dates by what is wrong. */
static void
test_messages(void **state)
{
	char msg[ERR_MSG_MAX];
	cJSON *o, *reasons;

	(void)state;
	o = referral();
	reasons = cJSON_GetObjectItem(o, "reasons");
	cJSON_AddItemToArray(reasons, cJSON_CreateString("sadness"));
	message_of(o, msg, sizeof(msg));
	assert_non_null(strstr(msg, "Reasons for referral (item 3) must be "));
	assert_null(strstr(msg, "reasons["));
	assert_null(strstr(msg, "data dictionary"));
	message_of(with_str(referral(), "source", "gp"), msg, sizeof(msg));
	assert_string_equal(msg, "Source of referral must be one of the 16 "
	    "codes of its list; got \"gp\"");
	message_of(with_str(referral(), "referred_on", "2026-11-31"), msg,
	    sizeof(msg));
	assert_string_equal(msg, "Referred on 2026-11-31 is not a real date "
	    "(November 2026 has 30 days)");
	message_of(with_str(referral(), "referred_on", "2025-02-29"), msg,
	    sizeof(msg));
	assert_string_equal(msg, "Referred on 2025-02-29 is not a real date "
	    "(February 2025 has 28 days)");
	message_of(with_str(referral(), "referred_on", "2026-13-01"), msg,
	    sizeof(msg));
	assert_non_null(strstr(msg, "there is no month 13"));
	message_of(with_str(referral(), "referred_on", "next week"), msg,
	    sizeof(msg));
	assert_string_equal(msg, "Referred on must be a date written "
	    "YYYY-MM-DD; got \"next week\"");
	message_of(with_str(contact(), "contact_on", "2026-11-23"), msg,
	    sizeof(msg));
	assert_string_equal(msg, "Contact on 2026-11-23 is in the future: "
	    "dates cannot be later than today (2026-11-22)");
	message_of(without(contact(), "mode"), msg, sizeof(msg));
	assert_string_equal(msg, "Mode is required");
}

/* The pcmds/1 extension: a support record's community asset. */
static void
test_asset(void **state)
{
	char s[64];

	(void)state;
	expect(with_str(support(), "asset", "nh-befriend-01"), E_NONE, "");
	expect(with_str(support(), "asset", "A.b_c-9"), E_NONE, "");
	expect(with_str(support(), "asset", ""), E_FORMAT, "asset");
	expect(with_str(support(), "asset", "two words"), E_FORMAT, "asset");
	expect(with_str(support(), "asset", "caf\xc3\xa9"), E_FORMAT, "asset");
	expect(with_num(support(), "asset", 12), E_TYPE, "asset");
	memset(s, 'a', 40);
	s[40] = '\0';
	expect(with_str(support(), "asset", s), E_NONE, "");
	s[40] = 'a';
	s[41] = '\0';
	expect(with_str(support(), "asset", s), E_FORMAT, "asset");
	/* a field of support records only */
	expect(with_str(contact(), "asset", "nh-befriend-01"), E_UNKNOWN_FIELD,
	    "asset");
	assert_int_equal(rec_field(KIND_SUPPORT, "asset")->flags & FF_REQUIRED,
	    0);
}

static void
test_declined(void **state)
{
	cJSON *o;

	(void)state;
	o = assessment();
	cJSON_AddBoolToObject(o, "declined", 1);
	expect(o, E_RULE, "life_satisfaction");
	o = without(without(without(without(assessment(), "anxious"),
	    "happy"), "worthwhile"), "life_satisfaction");
	cJSON_AddBoolToObject(o, "declined", 1);
	expect(o, E_NONE, "");
	o = without(assessment(), "happy");
	cJSON_AddBoolToObject(o, "declined", 0);
	expect(o, E_REQUIRED, "happy");
}

static void
test_integer_bounds(void **state)
{
	(void)state;
	expect(with_num(referral(), "age", -1), E_RANGE, "age");
	expect(with_num(referral(), "age", 0), E_NONE, "");
	expect(with_num(referral(), "age", 120), E_NONE, "");
	expect(with_num(referral(), "age", 121), E_RANGE, "age");
	expect(with_num(referral(), "imd_decile", 0), E_RANGE, "imd_decile");
	expect(with_num(referral(), "imd_decile", 1), E_NONE, "");
	expect(with_num(referral(), "imd_decile", 10), E_NONE, "");
	expect(with_num(referral(), "imd_decile", 11), E_RANGE, "imd_decile");
	expect(with_num(contact(), "minutes", 0), E_RANGE, "minutes");
	expect(with_num(contact(), "minutes", 1), E_NONE, "");
	expect(with_num(contact(), "minutes", 600), E_NONE, "");
	expect(with_num(contact(), "minutes", 601), E_RANGE, "minutes");
	expect(with_num(contact(), "device_seq", 0), E_RANGE, "device_seq");
	expect(with_num(contact(), "device_seq", 9007199254740992.0),
	    E_RANGE, "device_seq");
	expect(with_num(contact(), "device_seq", 9007199254740991.0),
	    E_NONE, "");
	expect(with_str(referral(), "age", "67"), E_TYPE, "age");
}

static void
test_dates(void **state)
{
	(void)state;
	expect(with_str(referral(), "referred_on", "2014-12-31"), E_DATE,
	    "referred_on");
	expect(with_str(referral(), "referred_on", "2015-01-01"), E_NONE, "");
	expect(with_str(referral(), "referred_on", "2025-02-29"), E_DATE,
	    "referred_on");
	expect(with_str(referral(), "referred_on", "2024-02-29"), E_NONE, "");
	expect(with_str(referral(), "referred_on", "2026-11-22"), E_NONE, "");
	expect(with_str(referral(), "referred_on", "2026-11-23"), E_DATE,
	    "referred_on");
	expect(with_str(referral(), "referred_on", "2026-3-01"), E_DATE,
	    "referred_on");
	expect(with_str(referral(), "referred_on", "2026-04-31"), E_DATE,
	    "referred_on");
	expect(with_str(referral(), "referred_on", "01/03/2026"), E_DATE,
	    "referred_on");
	expect(with_num(referral(), "referred_on", 20260301), E_TYPE,
	    "referred_on");
	expect(with_str(contact(), "contact_on", "2026-13-01"), E_DATE,
	    "contact_on");
	expect(with_str(closure(), "closed_on", "2100-01-01"), E_DATE,
	    "closed_on");
	expect(with_str(contact(), "recorded_at", "2026-03-02T10:15:00"),
	    E_TIME, "recorded_at");
	expect(with_str(contact(), "recorded_at", "2026-03-02T10:15:00+01:00"),
	    E_TIME, "recorded_at");
	expect(with_str(contact(), "recorded_at", "2026-03-02T10:15:00.123Z"),
	    E_NONE, "");
	expect(with_str(contact(), "recorded_at", "2014-03-02T10:15:00Z"),
	    E_TIME, "recorded_at");
	expect(with_str(contact(), "recorded_at", "2026-03-02T25:15:00Z"),
	    E_TIME, "recorded_at");
}

static void
test_codes(void **state)
{
	cJSON *o, *r;

	(void)state;
	expect(with_str(referral(), "source", "gp"), E_ENUM, "source");
	expect(with_str(referral(), "gender", "Female"), E_ENUM, "gender");
	expect(with_str(referral(), "ethnicity", "I"), E_ENUM, "ethnicity");
	expect(with_str(referral(), "ethnicity", "99"), E_NONE, "");
	expect(with_str(referral(), "ethnicity", "Z"), E_NONE, "");
	expect(with_num(referral(), "service", 1), E_TYPE, "service");
	expect(with_str(contact(), "mode", "telepathy"), E_ENUM, "mode");
	expect(with_str(support(), "category", "x"), E_ENUM, "category");
	expect(with_str(support(), "outcome", "maybe"), E_ENUM, "outcome");
	expect(with_str(closure(), "reason", "bored"), E_ENUM, "reason");
	expect(with_str(assessment(), "stage", "middle"), E_ENUM, "stage");
	expect(with_str(referral(), "person_basis", "name"), E_ENUM,
	    "person_basis");
	expect(with_str(referral(), "schema", "pcmds/2"), E_SCHEMA, "schema");
	expect(with_str(referral(), "kind", "visit"), E_KIND, "kind");
	/* reasons: a list, not empty, known codes, each once */
	expect(with_str(referral(), "reasons", "housing"), E_TYPE, "reasons");
	o = referral();
	cJSON_DeleteItemFromObject(o, "reasons");
	cJSON_AddArrayToObject(o, "reasons");
	expect(o, E_REQUIRED, "reasons");
	o = referral();
	r = cJSON_GetObjectItem(o, "reasons");
	cJSON_AddItemToArray(r, cJSON_CreateString("sadness"));
	expect(o, E_ENUM, "reasons[2]");
	o = referral();
	r = cJSON_GetObjectItem(o, "reasons");
	cJSON_AddItemToArray(r, cJSON_CreateString("debt_money"));
	expect(o, E_ENUM, "reasons[2]");
	/* flags */
	expect(with_str(referral(), "carer", "maybe"), E_TYPE, "carer");
	expect(with_str(referral(), "autism", "unknown"), E_NONE, "");
	expect(with_str(referral(), "consent_evaluation", "true"), E_TYPE,
	    "consent_evaluation");
	expect(with_str(referral(), "consent_evaluation", "unknown"), E_TYPE,
	    "consent_evaluation");
	o = referral();
	cJSON_DeleteItemFromObject(o, "carer");
	cJSON_AddNullToObject(o, "carer");
	expect(o, E_TYPE, "carer");
}

static void
test_patterns(void **state)
{
	(void)state;
	expect(with_str(referral(), "id", "0B7F3C2E-5D4A-4E6B-9C8D-1A2B3C4D5E6F"),
	    E_UUID, "id");
	expect(with_str(contact(), "id", "00000000-0000-0000-0000-000000000000"),
	    E_UUID, "id");
	expect(with_str(contact(), "referral", "not-a-uuid"), E_UUID,
	    "referral");
	expect(with_num(contact(), "id", 5), E_TYPE, "id");
	expect(with_str(contact(), "worker", ""), E_FORMAT, "worker");
	expect(with_str(contact(), "worker", "ann smith"), E_FORMAT, "worker");
	expect(with_str(contact(), "place", "bd"), E_FORMAT, "place");
	expect(with_str(contact(), "place", "ABCDEFGHIJKLMNOPQ"), E_FORMAT,
	    "place");
	expect(with_str(contact(), "pcn", "U1234"), E_FORMAT, "pcn");
	expect(with_str(contact(), "pcn", "X12345"), E_FORMAT, "pcn");
	expect(with_str(referral(), "person", "ABC"), E_FORMAT, "person");
	expect(with_str(referral(), "referral",
	    "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"), E_REFERRAL, "referral");
}

static void
test_text(void **state)
{
	char s[1024];
	int i;

	(void)state;
	memset(s, 'a', 200);
	s[200] = '\0';
	expect(with_str(support(), "provider", s), E_NONE, "");
	s[200] = 'a';
	s[201] = '\0';
	expect(with_str(support(), "provider", s), E_LENGTH, "provider");
	expect(with_str(support(), "provider", ""), E_LENGTH, "provider");
	/* length is in characters: 200 two-byte characters are allowed */
	for (i = 0; i < 200; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	s[400] = '\0';
	expect(with_str(support(), "provider", s), E_NONE, "");
	expect(with_str(support(), "provider", "Caf\xc3"), E_UTF8, "provider");
	expect(with_str(support(), "provider", "\xed\xa0\x80x"), E_UTF8,
	    "provider");
	expect(with_str(support(), "provider", "\xc0\xafx"), E_UTF8,
	    "provider");
	expect(with_str(support(), "provider", "two\nlines"), E_CONTROL,
	    "provider");
}

static void
test_unknown_and_shape(void **state)
{
	struct err_list errs;
	struct rec *r;
	char big[REC_JSON_MAX + 10];
	cJSON *o;
	int i;

	(void)state;
	o = contact();
	cJSON_AddStringToObject(o, "name", "Jane Doe");
	expect(o, E_UNKNOWN_FIELD, "name");
	o = contact();
	cJSON_AddStringToObject(o, "nhs_number", "9434765919");
	expect(o, E_UNKNOWN_FIELD, "nhs_number");
	o = contact();
	cJSON_AddStringToObject(o, "assessed_on", "2026-03-03");
	expect(o, E_UNKNOWN_FIELD, "assessed_on");
	o = contact();
	for (i = 0; i < 50; i++) {
		char k[16];

		snprintf(k, sizeof(k), "x%d", i);
		cJSON_AddNumberToObject(o, k, i);
	}
	expect(o, E_TOO_MANY, "the record");
	o = cJSON_CreateArray();
	expect(o, E_TYPE, "");

	err_init(&errs);
	assert_int_equal(rec_parse("{\"id\":", 6, &opts, &r, &errs), PC_EINVAL);
	assert_true(err_has(&errs, E_JSON));
	err_clear(&errs);
	assert_int_equal(rec_parse("{\"kind\":\"contact\",\"kind\":\"closure\"}",
	    35, &opts, &r, &errs), PC_EINVAL);
	assert_true(err_has(&errs, E_DUPLICATE_FIELD));
	err_clear(&errs);
	memset(big, ' ', sizeof(big));
	assert_int_equal(rec_parse(big, sizeof(big), &opts, &r, &errs),
	    PC_EINVAL);
	assert_true(err_has(&errs, E_TOO_MANY));
	err_free(&errs);
}

static void
test_correction_shape(void **state)
{
	cJSON *o, *set;

	(void)state;
	expect(without(correction(), "set"), E_REQUIRED, "set");
	o = correction();
	cJSON_AddBoolToObject(o, "void", 1);
	expect(o, E_RULE, "void");
	o = without(correction(), "set");
	cJSON_AddBoolToObject(o, "void", 1);
	expect(o, E_REQUIRED, "reason");
	o = without(correction(), "set");
	cJSON_AddBoolToObject(o, "void", 1);
	cJSON_AddStringToObject(o, "reason", "recorded for the wrong person");
	expect(o, E_NONE, "");
	o = without(correction(), "set");
	cJSON_AddBoolToObject(o, "void", 0);
	expect(o, E_RULE, "void");
	o = without(correction(), "set");
	cJSON_AddObjectToObject(o, "set");
	expect(o, E_RULE, "set");
	o = correction();
	set = cJSON_GetObjectItem(o, "set");
	cJSON_AddStringToObject(set, "place", "NH");
	expect(o, E_TARGET, "set.place");
	o = correction();
	set = cJSON_GetObjectItem(o, "set");
	cJSON_AddStringToObject(set, "colour", "blue");
	expect(o, E_UNKNOWN_FIELD, "set.colour");
	expect(with_str(correction(), "set", "age=3"), E_TYPE, "set");
	expect(with_str(correction(), "target", REC_ID), E_TARGET, "target");
}

static void
test_record_fields(void **state)
{
	struct err_list errs;
	struct rec *r;
	cJSON *o = contact();

	(void)state;
	err_init(&errs);
	assert_int_equal(rec_validate(o, &opts, &r, &errs), PC_OK);
	assert_int_equal(r->kind, KIND_CONTACT);
	assert_string_equal(r->id, REC_ID);
	assert_string_equal(r->referral, REF_ID);
	assert_string_equal(r->worker, "lw-bd.01");
	assert_string_equal(r->place, "BD");
	assert_string_equal(r->pcn, "U12345");
	assert_int_equal(r->device_seq, 7);
	assert_int_equal(r->date, date_from_ymd(2026, 3, 3));
	assert_int_equal(rec_int(r->json, "minutes", -1), 45);
	assert_int_equal(rec_flag(r->json, "attended", -2), 1);
	assert_string_equal(rec_str(r->json, "mode"), "home_visit");
	assert_null(rec_str(r->json, "nothing"));
	assert_int_equal(rec_day(r->json, "contact_on"),
	    date_from_ymd(2026, 3, 3));
	assert_string_equal(r->recorded_at, "2026-03-02T10:15:00Z");
	/* the copy-free entry point and the loader build the same record */
	{
		struct rec *a, *l;
		int k;

		assert_int_equal(rec_adopt(cJSON_Duplicate(o, 1), &opts, &a,
		    &errs), PC_OK);
		assert_int_equal(rec_load(r->canon, r->canon_len, &l), PC_OK);
		assert_memory_equal(a, r, offsetof(struct rec, json));
		assert_memory_equal(l, r, offsetof(struct rec, json));
		assert_string_equal(a->hash, r->hash);
		assert_string_equal(l->hash, r->hash);
		assert_memory_equal(l->digest, r->digest, sizeof(r->digest));
		rec_free(l);
		/* from a store's row: the same record, its text and hash copied */
		assert_int_equal(rec_load_canon(r->canon, r->canon_len,
		    r->digest, &l), PC_OK);
		assert_memory_equal(l, r, offsetof(struct rec, json));
		assert_int_equal(l->canon_len, r->canon_len);
		assert_memory_equal(l->canon, r->canon, r->canon_len);
		assert_memory_equal(l->digest, r->digest, sizeof(r->digest));
		rec_free(l);
		/* text not canonical (unsorted; blanks): made canonical */
		for (k = 0; k < 2; k++) {
			char *t = k ? cJSON_Print(o) : cJSON_PrintUnformatted(o);

			assert_int_equal(rec_load(t, strlen(t), &l), PC_OK);
			assert_memory_equal(l, r, offsetof(struct rec, json));
			assert_string_equal(l->canon, r->canon);
			assert_string_equal(l->hash, r->hash);
			assert_memory_equal(l->digest, r->digest,
			    sizeof(r->digest));
			rec_free(l);
			free(t);
		}
		rec_free(a);
	}
	rec_free(r);
	/* an invalid record given to rec_adopt is freed (ASan, valgrind) */
	assert_int_equal(rec_adopt(cJSON_CreateObject(), &opts, &r, &errs),
	    PC_EINVAL);
	assert_null(r);
	cJSON_Delete(o);
	err_free(&errs);
}

/*
 * What a record's rec_vals hold is what the reads by name that the
 * rules and the summary made before gave, kind by kind, whichever way
 * the record was built.
 */
static void
vals_match(cJSON *o)
{
	struct err_list errs;
	struct rec *r, *l;
	const char *out;
	int m, code = -1;

	err_init(&errs);
	assert_int_equal(rec_validate(o, &opts, &r, &errs), PC_OK);
	assert_int_equal(r->vals.age, r->kind == KIND_REFERRAL ?
	    rec_int(o, "age", 0) : 0);
	assert_int_equal(r->vals.flag, (r->kind == KIND_ASSESSMENT &&
	    rec_flag(o, "declined", 0) == 1) || (r->kind == KIND_CONTACT &&
	    rec_flag(o, "attended", 0) == 1));
	if (r->kind == KIND_ASSESSMENT)
		code = code_index(&codes_stage, rec_str(o, "stage"));
	else if (r->kind == KIND_SUPPORT)
		code = code_index(&codes_support, rec_str(o, "category"));
	else if (r->kind == KIND_CLOSURE)
		code = code_index(&codes_closure, rec_str(o, "reason"));
	assert_int_equal(r->vals.code, code);
	out = r->kind == KIND_SUPPORT ? rec_str(o, "outcome") : NULL;
	assert_int_equal(r->vals.taken, out != NULL &&
	    (strcmp(out, "taken_up") == 0 || strcmp(out, "completed") == 0));
	for (m = 0; m < ONS4_N; m++)
		assert_int_equal(r->vals.score[m], r->kind == KIND_ASSESSMENT ?
		    rec_int(o, ons4_measures[m].field, -1) : -1);
	assert_int_equal(rec_load(r->canon, r->canon_len, &l), PC_OK);
	assert_memory_equal(&l->vals, &r->vals, sizeof(r->vals));
	rec_free(l);
	rec_free(r);
	cJSON_Delete(o);
	err_free(&errs);
}

static void
test_record_vals(void **state)
{
	cJSON *o;

	(void)state;
	vals_match(referral());
	vals_match(assessment());
	vals_match(with_str(assessment(), "stage", "final"));
	o = without(without(without(without(assessment(), "life_satisfaction"),
	    "worthwhile"), "happy"), "anxious");
	cJSON_AddBoolToObject(o, "declined", 1);
	vals_match(o);
	vals_match(contact());
	o = without(contact(), "attended");
	cJSON_AddBoolToObject(o, "attended", 0);
	vals_match(o);
	vals_match(support());
	vals_match(with_str(support(), "outcome", "completed"));
	vals_match(with_str(support(), "outcome", "declined"));
	vals_match(closure());
	vals_match(correction());
}

static void
test_content_hash(void **state)
{
	const char *a = "{\"b\":1,\"a\":[\"x\",\"y\"],\"c\":{\"z\":true,\"y\":null}}";
	const char *b = "{ \"c\" : { \"y\" : null , \"z\" : true } ,\n"
	    "  \"a\" : [ \"x\" , \"y\" ] , \"b\" : 1.0 }";
	char ha[SEC_HEX64_LEN], hb[SEC_HEX64_LEN];
	struct buf ba, bb;
	struct err_list errs;
	struct rec *r1, *r2;
	cJSON *ja = th_json(a), *jb = th_json(b), *o;

	(void)state;
	buf_init(&ba, 0);
	buf_init(&bb, 0);
	assert_int_equal(canon_hash(ja, &ba, NULL, ha), PC_OK);
	assert_int_equal(canon_hash(jb, &bb, NULL, hb), PC_OK);
	assert_string_equal(buf_str(&ba),
	    "{\"a\":[\"x\",\"y\"],\"b\":1,\"c\":{\"y\":null,\"z\":true}}");
	assert_string_equal(buf_str(&ba), buf_str(&bb));
	assert_string_equal(ha, hb);
	/* escapes: only what JSON requires; UTF-8 stays as it is */
	buf_reset(&ba);
	assert_int_equal(canon_string("a\"b\\c\n\x01\xc3\xa9", 9, &ba), PC_OK);
	assert_string_equal(buf_str(&ba), "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
	/*
	 * Each byte that needs an escape at each place of texts longer than
	 * the eight bytes read at a time, against cJSON's own printing
	 * (which escapes the same bytes, the same way).
	 */
	{
		static const char special[] = "\"\\\n\x01\x1f\x7f\x80 ";
		char t[20];
		size_t n, i, k;

		for (n = 1; n < sizeof(t); n++)
			for (i = 0; i < n; i++)
				for (k = 0; k < sizeof(special) - 1; k++) {
					cJSON *str;
					char *want;

					memset(t, 'x', n);
					t[n] = '\0';
					t[i] = special[k];
					str = cJSON_CreateString(t);
					want = cJSON_PrintUnformatted(str);
					buf_reset(&ba);
					assert_int_equal(canon_string(t, n, &ba),
					    PC_OK);
					assert_string_equal(buf_str(&ba), want);
					free(want);
					cJSON_Delete(str);
				}
	}
	/*
	 * A golden value: the canonical form of this record must never change,
	 * or stored content hashes would no longer match (every re-send would
	 * become a conflict).
	 */
	err_init(&errs);
	o = contact();
	assert_int_equal(rec_validate(o, &opts, &r1, &errs), PC_OK);
	assert_string_equal(r1->canon,
	    "{\"attended\":true,\"contact_on\":\"2026-03-03\",\"device_seq\":7,"
	    "\"id\":\"" REC_ID "\",\"kind\":\"contact\",\"minutes\":45,"
	    "\"mode\":\"home_visit\",\"pcn\":\"U12345\",\"place\":\"BD\","
	    "\"recorded_at\":\"2026-03-02T10:15:00Z\",\"referral\":\"" REF_ID
	    "\",\"schema\":\"pcmds/1\",\"worker\":\"lw-bd.01\"}");
	sec_sha256_hex(r1->canon, r1->canon_len, ha);
	assert_string_equal(r1->hash, ha);
	/* the same record with keys in another order hashes the same */
	assert_int_equal(rec_parse(r1->canon, r1->canon_len, &opts, &r2,
	    &errs), PC_OK);
	assert_string_equal(r1->hash, r2->hash);
	rec_free(r2);
	with_num(o, "minutes", 46);
	assert_int_equal(rec_validate(o, &opts, &r2, &errs), PC_OK);
	assert_string_not_equal(r1->hash, r2->hash);
	rec_free(r1);
	rec_free(r2);
	cJSON_Delete(o);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	buf_free(&ba);
	buf_free(&bb);
	err_free(&errs);
}

/*
 * The quick path's own shortcuts: a canonical text is taken as the
 * record's canon; the UTF-8 walk skipped only where it finds nothing.
 */
static void
test_fast_path(void **state)
{
	struct jfast_info info;
	struct err_list errs;
	struct rec *r;
	struct buf b;
	cJSON *o = contact(), *t;
	char *text;

	(void)state;
	buf_init(&b, 0);
	err_init(&errs);
	assert_int_equal(canon_json(o, &b), PC_OK);
	t = jfast_parse(buf_str(&b), b.len, &info);
	assert_non_null(t);
	assert_true(info.canonical && info.ascii);
	assert_int_equal(rec_adopt_fast(t, &info, buf_str(&b), b.len, &opts, &r,
	    &errs), PC_OK);
	assert_string_equal(r->canon, buf_str(&b));
	rec_free(r);
	/* too deep: said though every byte is ASCII */
	cJSON_AddItemToObject(o, "x", th_json("{\"a\":[[[1]]]}"));
	buf_reset(&b);
	assert_int_equal(canon_json(o, &b), PC_OK);
	t = jfast_parse(buf_str(&b), b.len, &info);
	assert_non_null(t);
	assert_true(info.ascii && info.depth == 5);
	assert_int_equal(rec_adopt_fast(t, &info, buf_str(&b), b.len, &opts, &r,
	    &errs), PC_EINVAL);
	assert_true(err_has(&errs, E_TYPE));
	assert_non_null(strstr(errs.v[0].msg, "nested too deeply"));
	assert_true(same_fast(buf_str(&b)));
	err_clear(&errs);
	cJSON_Delete(o);
	/* a byte that is not UTF-8 in a key: the walk finds it */
	o = contact();
	cJSON_AddNumberToObject(o, "k\xff", 1);
	text = cJSON_PrintUnformatted(o);
	t = jfast_parse(text, strlen(text), &info);
	assert_non_null(t);
	assert_false(info.ascii);
	assert_int_equal(rec_adopt_fast(t, &info, text, strlen(text), &opts, &r,
	    &errs), PC_EINVAL);
	assert_true(err_has(&errs, E_UTF8));
	assert_true(same_fast(text));
	free(text);
	cJSON_Delete(o);
	/* keys out of order: made canonical, as rec_adopt makes it */
	assert_true(same_fast("{\"worker\":\"lw-bd.01\",\"attended\":true,"
	    "\"contact_on\":\"2026-03-03\",\"device_seq\":7,\"id\":\"" REC_ID
	    "\",\"kind\":\"contact\",\"minutes\":45,\"mode\":\"home_visit\","
	    "\"pcn\":\"U12345\",\"place\":\"BD\",\"recorded_at\":"
	    "\"2026-03-02T10:15:00Z\",\"referral\":\"" REF_ID "\",\"schema\":"
	    "\"pcmds/1\"}"));
	buf_free(&b);
	err_free(&errs);
}

static void
test_tables(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < KIND_N; k++) {
		const struct kind_info *ki = rec_kind_info((enum rec_kind)k);

		assert_int_equal(rec_kind_parse(ki->name), k);
		if (k != KIND_CORRECTION)
			assert_non_null(rec_date_field((enum rec_kind)k));
	}
	assert_int_equal(rec_kind_parse("visit"), KIND_N);
	assert_null(rec_date_field(KIND_CORRECTION));
	assert_string_equal(rec_date_field(KIND_SUPPORT), "offered_on");
	assert_non_null(rec_field(KIND_CLOSURE, "reason"));
	assert_int_equal(rec_field(KIND_CLOSURE, "reason")->type, FT_ENUM);
	assert_int_equal(rec_field(KIND_CORRECTION, "reason")->type, FT_TEXT);
	assert_non_null(rec_field(KIND_CONTACT, "place"));
	assert_null(rec_field(KIND_CONTACT, "age"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_kinds),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_ons4_bounds),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_asset),
		cmocka_unit_test(test_declined),
		cmocka_unit_test(test_integer_bounds),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_unknown_and_shape),
		cmocka_unit_test(test_correction_shape),
		cmocka_unit_test(test_record_fields),
		cmocka_unit_test(test_record_vals),
		cmocka_unit_test(test_content_hash),
		cmocka_unit_test(test_fast_path),
		cmocka_unit_test(test_tables),
	};

	return cmocka_run_group_tests_name("rec", tests, setup, NULL);
}

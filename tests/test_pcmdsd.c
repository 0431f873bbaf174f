/*
 * test_pcmdsd.c - the real pcmdsd over TLS on a loopback port: status
 * codes, every kind of bad input, idempotency, conflicts, roles, limits,
 * signals and the audit chain.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zlib.h>

#include "buf.h"
#include "harness.h"
#include "rec.h"

#define REF1	"11111111-1111-4111-8111-111111111111"
#define REF2	"22222222-2222-4222-8222-222222222222"
#define CON1	"33333333-3333-4333-8333-333333333333"
#define REF_V4	"9d1c7a2e-3f4b-4c5d-8e6f-7a8b9c0d1e2f"
#define CON_V4	"4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b"
#define REF_V7	"019a2b3c-4d5e-7f00-8a1b-2c3d4e5f6a70"
#define CON_V7	"019a2b3c-4d5f-7001-9b2c-3d4e5f6a7b81"
#define PERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"

static struct th_server srv;
static char db[700];

static int
up(void **state)
{
	(void)state;
	/* a page cache smaller than the default: everything still works */
	th_server_init(&srv, "auth_failures = 30\nrequest_timeout = 3\n"
	    "max_batch = 1000\ncache_size = 4\n");
	snprintf(db, sizeof(db), "%s/pcmds.db", srv.dir);
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

/* A referral record of worker/place. */
static char *
referral(const char *id, const char *worker, const char *place, int seq)
{
	static char b[8][1024];
	static int k;
	char *p = b[k++ % 8];

	snprintf(p, 1024, "{\"id\":\"%s\",\"schema\":\"pcmds/1\",\"kind\":"
	    "\"referral\",\"recorded_at\":\"2026-03-01T10:00:00Z\","
	    "\"device_seq\":%d,\"worker\":\"%s\",\"place\":\"%s\","
	    "\"referral\":\"%s\",\"person\":\"" PERSON "\",\"person_basis\":"
	    "\"nhs_number\",\"referred_on\":\"2026-03-01\",\"source\":"
	    "\"self\",\"reasons\":[\"stress\"],\"service\":\"general\","
	    "\"age\":40,\"gender\":\"female\",\"ethnicity\":\"A\","
	    "\"consent_evaluation\":true}", id, seq, worker, place, id);
	return p;
}

static char *
contact(const char *id, const char *ref, const char *worker,
    const char *place, int minutes)
{
	static char b[8][1024];
	static int k;
	char *p = b[k++ % 8];

	snprintf(p, 1024, "{\"id\":\"%s\",\"schema\":\"pcmds/1\",\"kind\":"
	    "\"contact\",\"recorded_at\":\"2026-03-02T10:00:00Z\","
	    "\"device_seq\":9,\"worker\":\"%s\",\"place\":\"%s\","
	    "\"referral\":\"%s\",\"contact_on\":\"2026-03-02\",\"mode\":"
	    "\"phone\",\"minutes\":%d,\"attended\":true}", id, worker, place,
	    ref, minutes);
	return p;
}

/* A copy of s with the first from replaced by to. */
static char *
swap(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *out = malloc(strlen(s) + strlen(to) + 1);

	assert_non_null(p);
	sprintf(out, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

static cJSON *
results(struct th_http *h)
{
	cJSON *j;

	if (h->status != 200)
		fail_msg("status %ld: %s", h->status, h->body);
	j = th_json(h->body);
	return j;
}

static const char *
result_status(cJSON *j, int i)
{
	return cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j,
	    "results"), i), "status")->valuestring;
}

static const char *
result_code(cJSON *j, int i)
{
	cJSON *e = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    j, "results"), i), "errors");

	return e ? cJSON_GetObjectItem(cJSON_GetArrayItem(e, 0),
	    "code")->valuestring : "";
}

static void
expect_error(struct th_http *h, long status, const char *code)
{
	cJSON *j;

	if (h->status != status)
		fail_msg("status %ld, wanted %ld: %s", h->status, status,
		    h->body);
	j = th_json(h->body);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
	    "error"), "code")->valuestring, code);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"),
	    "message"));
	assert_non_null(strstr(h->ctype, "application/json"));
	cJSON_Delete(j);
	th_http_free(h);
}

static void
test_health_and_routes(void **state)
{
	const char *auth[] = {"Authorization: Bearer nope", NULL};
	struct th_http h;

	(void)state;
	th_https(&srv, "GET", "/healthz", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "\"status\":\"ok\""));
	th_http_free(&h);
	th_https(&srv, "GET", "/no/such/thing", NULL, NULL, 0, &h);
	expect_error(&h, 404, "E_NOT_FOUND");
	th_https(&srv, "PUT", "/v1/records", NULL, "{}", strlen("{}"), &h);
	expect_error(&h, 405, "E_METHOD");
	th_https(&srv, "GET", "/v1/records", NULL, NULL, 0, &h);
	expect_error(&h, 405, "E_METHOD");
	th_https(&srv, "GET", "/metrics", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "pcmds_http_requests_total{status=\"404\"}"));
	assert_non_null(strstr(h.body, "pcmds_open_connections"));
	th_http_free(&h);
	th_https(&srv, "POST", "/v1/records", auth, "{}", strlen("{}"), &h);
	expect_error(&h, 401, "E_AUTH");
}

static void
test_enrolment(void **state)
{
	const char *hdr[] = {"Content-Type: application/json", NULL};
	char body[256];
	const char *code;
	struct th_http h;
	long id;

	(void)state;
	code = th_server_user(&srv, "link_worker", "HV", &id);
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"key_id\":"
	    "\"0123456789abcdef\"}", code);
	/* the code works once */
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	assert_int_equal(h.status, 200);
	assert_non_null(strstr(h.body, "\"place\":\"HV\""));
	assert_non_null(strstr(h.body, "\"role\":\"link_worker\""));
	th_http_free(&h);
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	expect_error(&h, 401, "E_AUTH");
	/* unknown and malformed codes */
	snprintf(body, sizeof(body), "{\"code\":\"AAAA-BBBB-CCCC\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\"}");
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	expect_error(&h, 401, "E_AUTH");
	snprintf(body, sizeof(body), "{\"code\":\"x\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\"}");
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	expect_error(&h, 401, "E_AUTH");
	th_https(&srv, "POST", "/v1/enrol", hdr, "{\"code\":\"x\"}",
	    strlen("{\"code\":\"x\"}"), &h);
	expect_error(&h, 400, "E_REQUIRED");
	/* an expired code */
	code = th_server_user(&srv, "link_worker", "HV", NULL);
	th_sql(db, "UPDATE creds SET expires = 1 WHERE kind = 'code' AND "
	    "used = 0");
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"key_id\":"
	    "\"0123456789abcdef\"}", code);
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	assert_int_equal(h.status, 401);
	assert_non_null(strstr(h.body, "expired"));
	th_http_free(&h);
	/* a device with another deployment key is refused */
	code = th_server_user(&srv, "link_worker", "HV", NULL);
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"key_id\":"
	    "\"fedcba9876543210\"}", code);
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	expect_error(&h, 409, "E_KEY");
	/* only a link worker's device holds the key; a refusal keeps the
	   code for the setup done right */
	code = th_server_user(&srv, "evaluator", NULL, NULL);
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"key_id\":"
	    "\"0123456789abcdef\"}", code);
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	assert_non_null(strstr(h.body, "an evaluator, whose device must not "
	    "hold the deployment key"));
	expect_error(&h, 403, "E_KEY");
	code = th_server_user(&srv, "place_lead", "HV", NULL);
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"key_id\":"
	    "\"0123456789abcdef\"}", code);
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	expect_error(&h, 403, "E_KEY");
	(void)th_enrol(&srv, code, NULL);	/* the same code, without */
	code = th_server_user(&srv, "link_worker", "HV", NULL);
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\"}", code);
	th_https(&srv, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	assert_non_null(strstr(h.body, "needs the deployment key"));
	expect_error(&h, 400, "E_KEY");
	(void)th_enrol(&srv, code, "0123456789abcdef");
	/* wrong media type */
	th_https(&srv, "POST", "/v1/enrol", (const char *[]){
	    "Content-Type: text/plain", NULL}, body, strlen(body), &h);
	expect_error(&h, 415, "E_MEDIA_TYPE");
}

static void
test_ingest_and_idempotency(void **state)
{
	const char *tok = th_enrol(&srv, th_server_user(&srv, "link_worker",
	    "BD", NULL), NULL);
	char worker[32], batch[4096];
	struct th_http h;
	cJSON *j;
	int i;

	(void)state;
	snprintf(worker, sizeof(worker), "bd-lw%ld", th_sql_long(db,
	    "SELECT MAX(id) FROM users"));
	snprintf(batch, sizeof(batch), "{\"records\":[%s,%s]}",
	    referral(REF1, worker, "BD", 1), contact(CON1, REF1, worker, "BD",
	    30));
	/* the same batch three times: stored once */
	for (i = 0; i < 3; i++) {
		th_post_records(&srv, tok, batch, &h);
		j = results(&h);
		assert_string_equal(result_status(j, 0), i ? "duplicate" :
		    "stored");
		assert_string_equal(result_status(j, 1), i ? "duplicate" :
		    "stored");
		cJSON_Delete(j);
		th_http_free(&h);
	}
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records WHERE "
	    "id IN ('" REF1 "', '" CON1 "')"), 2);
	/* same id, other content: conflict, the stored one untouched */
	snprintf(batch, sizeof(batch), "{\"records\":[%s]}", contact(CON1, REF1,
	    worker, "BD", 45));
	th_post_records(&srv, tok, batch, &h);
	j = results(&h);
	assert_string_equal(result_status(j, 0), "conflict");
	assert_string_equal(result_code(j, 0), "E_CONFLICT");
	cJSON_Delete(j);
	th_http_free(&h);
	assert_int_equal(th_sql_long(db, th_store_pg() ? "SELECT json::jsonb "
	    "->> 'minutes' FROM records WHERE id = '" CON1 "'" : "SELECT json "
	    "->> '$.minutes' FROM records WHERE id = '" CON1 "'"), 30);
	/* a record of another place, or another worker, is rejected */
	snprintf(batch, sizeof(batch), "{\"records\":[%s,%s]}",
	    referral(REF2, worker, "NH", 2), referral(REF2, "someone-else",
	    "BD", 3));
	th_post_records(&srv, tok, batch, &h);
	j = results(&h);
	assert_string_equal(result_code(j, 0), "E_PLACE");
	assert_string_equal(result_code(j, 1), "E_WORKER");
	cJSON_Delete(j);
	th_http_free(&h);
	/* cross-record rules use the stored referral */
	snprintf(batch, sizeof(batch), "{\"records\":[%s]}", contact(
	    "44444444-4444-4444-8444-444444444444", REF2, worker, "BD", 5));
	th_post_records(&srv, tok, batch, &h);
	j = results(&h);
	assert_string_equal(result_status(j, 0), "rejected");
	assert_string_equal(result_code(j, 0), "E_REFERRAL");
	cJSON_Delete(j);
	th_http_free(&h);
	/*
	 * ids of either version, as older (4) and newer (7) clients make
	 * them, in one batch and across referrals: all stored
	 */
	snprintf(batch, sizeof(batch), "{\"records\":[%s,%s,%s,%s]}",
	    referral(REF_V7, worker, "BD", 4), contact(CON_V4, REF_V7, worker,
	    "BD", 10), referral(REF_V4, worker, "BD", 5), contact(CON_V7,
	    REF_V4, worker, "BD", 15));
	th_post_records(&srv, tok, batch, &h);
	j = results(&h);
	for (i = 0; i < 4; i++)
		assert_string_equal(result_status(j, i), "stored");
	cJSON_Delete(j);
	th_http_free(&h);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records WHERE "
	    "id IN ('" REF_V7 "', '" CON_V4 "', '" REF_V4 "', '" CON_V7 "')"),
	    4);
	/* a message names a record by its short id, from its random end */
	snprintf(batch, sizeof(batch), "{\"records\":[%s]}", contact(
	    "019a2b3c-4d5e-7f00-8a1b-0c0ffee00002", "019a2b3c-4d5e-7f00-"
	    "8a1b-5eedface0001", worker, "BD", 5));
	th_post_records(&srv, tok, batch, &h);
	assert_non_null(strstr(h.body, "referral 5eedface is not known"));
	th_http_free(&h);
}

/*
 * A record's content hash is that of its canonical text however it was
 * sent: canonical (taken as it is), with its keys in another order, or
 * with blanks (parsed by cJSON). Each form after the first is a
 * duplicate, and what is stored is the canonical text.
 */
static void
test_duplicate_any_form(void **state)
{
	static const char *const ids[] = {
		"55555555-5555-4555-8555-555555555555",
		"66666666-6666-4666-8666-666666666666",
	};
	const char *tok = th_enrol(&srv, th_server_user(&srv, "link_worker",
	    "BD", NULL), NULL);
	char worker[32], batch[4096], sql[2048];
	struct rec_opts ro;
	struct err_list errs;
	struct th_http h;
	struct rec *r;
	char *forms[4];
	cJSON *j;
	int k, i;

	(void)state;
	snprintf(worker, sizeof(worker), "bd-lw%ld", th_sql_long(db,
	    "SELECT MAX(id) FROM users"));
	rec_opts_init(&ro, time(NULL));
	err_init(&errs);
	for (k = 0; k < 2; k++) {
		const char *text = referral(ids[k], worker, "BD", 20 + k);

		assert_int_equal(rec_parse(text, strlen(text), &ro, &r, &errs),
		    PC_OK);
		forms[0] = strdup(r->canon);
		forms[1] = strdup(text);	/* keys unsorted */
		forms[2] = swap(r->canon, ",\"kind\":", " ,\n\t\"kind\" : ");
		forms[3] = swap(r->canon, "\"stress\"", "\"str\\u0065ss\"");
		/* the first sent canonical, the second with its blanks */
		for (i = 0; i < 4; i++) {
			snprintf(batch, sizeof(batch), "{\"records\":[%s]}",
			    forms[k == 0 ? i : 3 - i]);
			th_post_records(&srv, tok, batch, &h);
			j = results(&h);
			assert_string_equal(result_status(j, 0), i ? "duplicate" :
			    "stored");
			cJSON_Delete(j);
			th_http_free(&h);
		}
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM records WHERE "
		    "id = '%s' AND json = '%s'", ids[k], r->canon);
		assert_int_equal(th_sql_long(db, sql), 1);
		for (i = 0; i < 4; i++)
			free(forms[i]);
		rec_free(r);
	}
	err_free(&errs);
}

static void
test_bad_records(void **state)
{
	const char *tok = th_enrol(&srv, th_server_user(&srv, "link_worker",
	    "RB", NULL), NULL);
	char worker[32], batch[8192], rec[1024];
	struct th_http h;
	cJSON *j;

	(void)state;
	snprintf(worker, sizeof(worker), "rb-lw%ld", th_sql_long(db,
	    "SELECT MAX(id) FROM users"));
	snprintf(rec, sizeof(rec), "%s", referral(
	    "55555555-5555-4555-8555-555555555555", worker, "RB", 1));
	/* wrong type, out of range, unknown field, bad UTF-8, not an object */
	{
		char *a = swap(rec, "\"age\":40", "\"age\":\"40\"");
		char *b = swap(rec, "\"age\":40", "\"age\":-1");
		char *c = swap(rec, "\"age\":40", "\"age\":40,\"colour\":1");
		char *d = swap(rec, "\"self\"", "\"s\xff\xfe\"");

		snprintf(batch, sizeof(batch), "{\"records\":[%s,%s,%s,%s,7]}",
		    a, b, c, d);
		free(a);
		free(b);
		free(c);
		free(d);
	}
	th_post_records(&srv, tok, batch, &h);
	j = results(&h);
	assert_string_equal(result_code(j, 0), "E_TYPE");
	assert_string_equal(result_code(j, 1), "E_RANGE");
	assert_string_equal(result_code(j, 2), "E_UNKNOWN_FIELD");
	assert_string_equal(result_code(j, 3), "E_UTF8");
	assert_string_equal(result_code(j, 4), "E_TYPE");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"),
	    "rejected")->valueint, 5);
	cJSON_Delete(j);
	th_http_free(&h);
	/* whole-request problems */
	th_post_records(&srv, tok, "{\"records\": [", &h);
	expect_error(&h, 400, "E_JSON");
	/* records cut out of the body whole, but one of them not JSON */
	snprintf(batch, sizeof(batch), "{\"records\":[%s, {\"a\":tru}]}", rec);
	th_post_records(&srv, tok, batch, &h);
	expect_error(&h, 400, "E_JSON");
	th_post_records(&srv, tok, "{\"records\": [1 2]}", &h);
	expect_error(&h, 400, "E_JSON");
	/* more after the body, whichever way it is parsed */
	snprintf(batch, sizeof(batch), "{\"records\":[%s]} x", rec);
	th_post_records(&srv, tok, batch, &h);
	expect_error(&h, 400, "E_JSON");
	snprintf(batch, sizeof(batch), "{\"device\":1,\"records\":[%s]} x",
	    rec);
	th_post_records(&srv, tok, batch, &h);
	expect_error(&h, 400, "E_JSON");
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records WHERE "
	    "place = 'RB'"), 0);
	th_post_records(&srv, tok, "{\"rows\": []}", &h);
	expect_error(&h, 400, "E_SCHEMA");
	th_post_records(&srv, tok, "[1,2]", &h);
	expect_error(&h, 400, "E_SCHEMA");
	/* a NUL would cut "female\u0000 and more" to a valid "female" */
	{
		char *n = swap(rec, "\"female\"", "\"female\\u0000 and more\"");

		snprintf(batch, sizeof(batch), "{\"records\":[%s]}", n);
		free(n);
	}
	th_post_records(&srv, tok, batch, &h);
	assert_non_null(strstr(h.body, "NUL character in gender"));
	expect_error(&h, 400, "E_CONTROL");
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records WHERE "
	    "place = 'RB'"), 0);	/* nothing of it stored */
}

static void
test_limits(void **state)
{
	const char *tok = th_enrol(&srv, th_server_user(&srv, "link_worker",
	    "TH", NULL), NULL);
	char auth[128];
	const char *gz_hdr[] = {"Content-Type: application/json",
	    "Content-Encoding: gzip", auth, NULL};
	struct th_http h;
	struct buf big;
	unsigned char *zbuf, *zeros;
	uLongf zlen;
	z_stream z;
	int i;

	(void)state;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	/* 1,001 records: refused whole */
	buf_init(&big, 0);
	buf_adds(&big, "{\"records\":[");
	for (i = 0; i < 1001; i++)
		buf_adds(&big, i ? ",{}" : "{}");
	buf_adds(&big, "]}");
	th_post_records(&srv, tok, buf_str(&big), &h);
	expect_error(&h, 413, "E_TOO_MANY");
	/* a 10 MiB body: refused before it is read */
	buf_reset(&big);
	buf_adds(&big, "{\"records\":[\"");
	while (big.len < 10 * 1024 * 1024)
		buf_adds(&big, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	buf_adds(&big, "\"]}");
	th_post_records(&srv, tok, buf_str(&big), &h);
	assert_true(h.status == 413 || h.status < 0);	/* or cut off */
	th_http_free(&h);
	buf_free(&big);
	/* a gzip bomb: 64 MiB of zeros in a few kilobytes */
	zeros = calloc(64 << 20, 1);
	zlen = compressBound(64 << 20);
	zbuf = malloc(zlen);
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = zeros;
	z.avail_in = 64 << 20;
	z.next_out = zbuf;
	z.avail_out = (uInt)zlen;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	th_https(&srv, "POST", "/v1/records", gz_hdr, zbuf, z.total_out, &h);
	deflateEnd(&z);
	expect_error(&h, 413, "E_TOO_LARGE");
	/* a corrupt gzip body */
	th_https(&srv, "POST", "/v1/records", gz_hdr, "not gzip", 8, &h);
	expect_error(&h, 400, "E_ENCODING");
	free(zeros);
	free(zbuf);
	/* headers too large */
	{
		char *huge = malloc(40000);
		const char *hh[] = {"Content-Type: application/json", auth, huge,
		    NULL};

		memcpy(huge, "X-Filler: ", 10);
		memset(huge + 10, 'a', 39989);
		huge[39999] = '\0';
		th_https(&srv, "POST", "/v1/records", hh, "{}", strlen("{}"), &h);
		assert_true(h.status >= 400 || h.status < 0);
		th_http_free(&h);
		free(huge);
	}
	/* the server is still serving */
	th_https(&srv, "GET", "/healthz", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
}

static void
test_slow_request(void **state)
{
	struct th_tls *t = th_tls_open(&srv);
	struct th_http h;
	const char *head = "POST /v1/records HTTP/1.1\r\nHost: localhost\r\n";
	int i, closed = 0;

	(void)state;
	/* one byte at a time, never finishing: cut off after 3 s */
	for (i = 0; head[i] != '\0' && !closed; i++) {
		if (th_tls_write(t, head + i, 1) != 0)
			closed = 1;
		/* a normal client is served meanwhile */
		if (i == 5) {
			th_https(&srv, "GET", "/healthz", NULL, NULL, 0, &h);
			assert_int_equal(h.status, 200);
			th_http_free(&h);
		}
		usleep(150 * 1000);
	}
	if (!closed)
		closed = th_tls_closed(t, 4000);
	assert_true(closed);
	th_tls_close(t);
	/* a truncated request: Content-Length promised, body never sent */
	t = th_tls_open(&srv);
	{
		const char *req = "POST /v1/enrol HTTP/1.1\r\nHost: x\r\n"
		    "Content-Type: application/json\r\nContent-Length: 100\r\n"
		    "\r\n{\"co";

		assert_int_equal(th_tls_write(t, req, strlen(req)), 0);
	}
	assert_true(th_tls_closed(t, 6000));
	th_tls_close(t);
}

static void
test_roles_and_revocation(void **state)
{
	long id;
	const char *code = th_server_user(&srv, "link_worker", "WF", &id);
	char tok[64], lead[64], worker[32], batch[2048], args[64];
	struct th_http h;
	struct th_run r;

	(void)state;
	snprintf(tok, sizeof(tok), "%s", th_enrol(&srv, code, NULL));
	snprintf(lead, sizeof(lead), "%s", th_enrol(&srv, th_server_user(&srv,
	    "place_lead", "WF", NULL), NULL));
	snprintf(worker, sizeof(worker), "wf-lw%ld", id);
	snprintf(batch, sizeof(batch), "{\"records\":[%s]}", referral(
	    "66666666-6666-4666-8666-666666666666", worker, "WF", 1));
	/* a place lead may not send records, and is told whose they are */
	th_post_records(&srv, lead, batch, &h);
	assert_non_null(strstr(h.body, "a place_lead may not do this: it is "
	    "for a link_worker"));
	expect_error(&h, 403, "E_ROLE");
	th_post_records(&srv, tok, batch, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	/* revocation takes effect on the next request */
	snprintf(args, sizeof(args), "user revoke %ld", id);
	th_server_admin(&srv, &r, args);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_post_records(&srv, tok, batch, &h);
	expect_error(&h, 401, "E_AUTH");
	/* an expired token too */
	th_sql(db, "UPDATE creds SET expires = 1 WHERE kind = 'device'");
	th_post_records(&srv, lead, batch, &h);
	expect_error(&h, 401, "E_AUTH");
	/* a token this server never issued (restored from an older backup) */
	th_post_records(&srv, "Q2bW1oO7n2a3sT6kG0hJ9yX4vC8mL5pR1eD3fZ7uI0c",
	    batch, &h);
	assert_non_null(strstr(h.body, "not known to this server"));
	assert_non_null(strstr(h.body, "run pcmds setup again with a new "
	    "code"));
	expect_error(&h, 401, "E_AUTH");
}

static void
test_audit_chain(void **state)
{
	struct th_run r;

	(void)state;
	th_server_admin(&srv, &r, "audit verify");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "audit log intact"));
	th_run_free(&r);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE action = "
	    "'records.ingest'") > 0);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE action = "
	    "'auth.fail'") > 0);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE action = "
	    "'enrol'") > 0);
	/* the table refuses changes... */
	assert_false(th_sql_ok(db, "UPDATE audit SET outcome = 'x'"));
	assert_false(th_sql_ok(db, "DELETE FROM audit"));
	/* ...and a tamperer who drops the trigger is still found out */
	if (th_store_pg()) {
		th_sql(db, "ALTER TABLE audit DISABLE TRIGGER USER; UPDATE audit "
		    "SET outcome = 'tampered' WHERE seq = 3 AND chain = (SELECT "
		    "min(chain) FROM audit WHERE seq = 3)");
		th_server_admin(&srv, &r, "audit verify");
		assert_int_equal(r.status, 1);
		assert_non_null(strstr(r.out, "BROKEN at entry "));
		assert_non_null(strstr(r.out, "/3: entry "));
	} else {
		th_sql(db, "DROP TRIGGER audit_no_update; UPDATE audit SET "
		    "outcome = 'tampered' WHERE seq = 3");
		th_server_admin(&srv, &r, "audit verify");
		assert_int_equal(r.status, 1);
		assert_non_null(strstr(r.out, "BROKEN at entry 3"));
	}
	th_run_free(&r);
}

static void
test_rate_limit(void **state)
{
	const char *auth[] = {"Authorization: Bearer wrongwrongwrong", NULL};
	struct th_http h;
	int i, limited = 0;

	(void)state;
	/* auth_failures = 30 a minute: the attempts after those are 429 */
	for (i = 0; i < 40 && !limited; i++) {
		th_https(&srv, "POST", "/v1/records", auth, "{}", strlen("{}"), &h);
		if (h.status == 429) {
			limited = 1;
			assert_true(atoi(h.retry_after) >= 1);
			assert_non_null(strstr(h.body, "E_RATE"));
		} else
			assert_int_equal(h.status, 401);
		th_http_free(&h);
	}
	assert_true(limited);
}

static void
test_shutdown_and_reload(void **state)
{
	struct th_server s2;
	struct th_tls *t;
	struct th_http h;
	const char *answer;

	(void)state;
	th_server_init(&s2, NULL);
	th_server_start(&s2, NULL);
	/* SIGHUP reloads the certificate and goes on serving */
	kill(s2.pid, SIGHUP);
	usleep(200 * 1000);
	th_https(&s2, "GET", "/healthz", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	/* a request in flight at SIGTERM is answered 503, then it stops */
	t = th_tls_open(&s2);
	{
		const char *req = "POST /v1/records HTTP/1.1\r\nHost: x\r\n"
		    "Content-Type: application/json\r\nContent-Length: 2\r\n"
		    "\r\n{";

		assert_int_equal(th_tls_write(t, req, strlen(req)), 0);
	}
	usleep(100 * 1000);
	kill(s2.pid, SIGTERM);
	usleep(300 * 1000);
	assert_int_equal(th_tls_write(t, "}", 1), 0);
	answer = th_tls_read(t, 3000);
	if (strstr(answer, "503") == NULL)
		fail_msg("in-flight request not answered 503: [%s]", answer);
	assert_non_null(strstr(answer, "Retry-After: 5"));
	assert_non_null(strstr(answer, "E_STOPPING"));
	th_tls_close(t);
	assert_int_equal(th_server_stop(&s2, SIGTERM), 0);
	{
		char *log = th_slurp(s2.log, NULL);

		assert_non_null(strstr(log, "certificate and key reloaded"));
		assert_non_null(strstr(log, "stopped"));
		free(log);
	}
}

/* At start the server tells what its tables of referrals hold. */
/*
 * A server of its own, its database at path, that has stored two
 * referrals of one person from an enrolled link worker; stopped.
 */
static void
two_referrals_stored(struct th_server *s2, char *path, size_t len)
{
	const char *tok;
	char worker[32], batch[4096];
	struct th_http h;

	th_server_init(s2, NULL);
	snprintf(path, len, "%s/pcmds.db", s2->dir);
	th_server_start(s2, NULL);
	tok = th_enrol(s2, th_server_user(s2, "link_worker", "BD", NULL),
	    NULL);
	snprintf(worker, sizeof(worker), "bd-lw%ld", th_sql_long(path,
	    "SELECT MAX(id) FROM users"));
	snprintf(batch, sizeof(batch), "{\"records\":[%s,%s]}",
	    referral(REF_V4, worker, "BD", 1), referral(REF_V7, worker, "BD",
	    2));
	th_post_records(s2, tok, batch, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	assert_int_equal(th_server_stop(s2, SIGTERM), 0);
}

static void
test_start_sizes(void **state)
{
	struct th_server s2;
	char path[700];
	char *log;

	(void)state;
	two_referrals_stored(&s2, path, sizeof(path));
	th_server_start(&s2, NULL);
	assert_int_equal(th_server_stop(&s2, SIGTERM), 0);
	log = th_slurp(s2.log, NULL);
	assert_non_null(strstr(log, "aggregates: 0 referrals in 0.0 MiB"));
	if (strstr(log, "aggregates: 2 referrals in 0.0 MiB") == NULL ||
	    strstr(log, "; 1 people in") == NULL)
		fail_msg("no sizes of 2 referrals of 1 person:\n%s", log);
	free(log);
}

/*
 * A store without facts (from before them, or an upgrade's first start)
 * has them worked out before the server opens its own connections, and
 * served as any loaded: the server starts with both referrals counted
 * and their facts stored.
 */
static void
test_facts_worked_out_first(void **state)
{
	struct th_server s2;
	char path[700];
	char *log, *at;

	(void)state;
	two_referrals_stored(&s2, path, sizeof(path));
	th_sql(path, "DELETE FROM facts; DELETE FROM meta WHERE key = "
	    "'fact_version'");
	th_server_start(&s2, NULL);
	assert_int_equal(th_sql_long(path, "SELECT COUNT(*) FROM facts"), 2);
	assert_int_equal(th_server_stop(&s2, SIGTERM), 0);
	log = th_slurp(s2.log, NULL);
	assert_non_null(at = strstr(log, "aggregates: computing the facts of "
	    "every referral\n"));
	at = strchr(at, '\n');
	if ((at = strstr(at, "aggregates: computing")) == NULL ||
	    strstr(at, "aggregates: 2 referrals\n") == NULL ||
	    strstr(at, "aggregates: 2 referrals in 0.0 MiB") == NULL)
		fail_msg("no facts of 2 referrals worked out at the second "
		    "start:\n%s", log);
	free(log);
}

static void
test_config_errors(void **state)
{
	struct th_server s3;
	struct th_run r;

	(void)state;
	th_server_init(&s3, "max_batch = lots\ncolour = blue\n"
	    "cache_size = 0\n");
	th_server_admin(&s3, &r, "serve");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "pcmdsd.conf:"));
	assert_non_null(strstr(r.err, "max_batch must be a whole number"));
	assert_non_null(strstr(r.err, "unknown setting colour"));
	assert_non_null(strstr(r.err, "cache_size"));
	th_run_free(&r);
	th_server_admin(&s3, &r, "user add --role boss --name X");
	assert_int_equal(r.status, 1);	/* the config is refused first */
	th_run_free(&r);
}

/*
 * Its port taken by another program: refused at start, naming the
 * address, before anything is loaded.
 */
static void
test_port_taken(void **state)
{
	struct sockaddr_in sa;
	struct th_server s3;
	struct th_run r;
	char where[64];
	int fd, one = 1;

	(void)state;
	th_server_init(&s3, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)s3.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	th_server_admin(&s3, &r, "serve");
	close(fd);
	assert_int_equal(r.status, 1);
	snprintf(where, sizeof(where), "cannot listen on 127.0.0.1:%d",
	    s3.port);
	if (strstr(r.err, where) == NULL ||
	    strstr(r.err, "Address already in use") == NULL)
		fail_msg("a taken port: %s", r.err);
	assert_null(strstr(r.err, "aggregates:"));
	th_run_free(&r);
}

/* A database a newer pcmdsd has migrated is refused, and left as it is. */
static void
test_newer_schema(void **state)
{
	struct th_server s4;
	struct th_run r;
	char dbf[700];

	(void)state;
	th_server_init(&s4, NULL);
	snprintf(dbf, sizeof(dbf), "%s/pcmds.db", s4.dir);
	if (th_store_pg())
		th_sql(dbf, "INSERT INTO pcmds_schema SELECT max(version) + 100 "
		    "FROM pcmds_schema");
	else
		th_sql(dbf, "PRAGMA user_version = 100000");
	th_server_admin(&s4, &r, "places list");
	assert_int_equal(r.status, 1);
	if (strstr(r.err, "this pcmdsd knows up to") == NULL ||
	    strstr(r.err, "upgrade pcmdsd") == NULL)
		fail_msg("a newer schema: %s", r.err);
	th_run_free(&r);
	assert_true(th_sql_long(dbf, th_store_pg() ? "SELECT max(version) FROM "
	    "pcmds_schema" : "PRAGMA user_version") >= 100);
}

/* POST /login with a code, more headers (NULL-ended) and the answer. */
static void
login(struct th_server *s, const char *code, const char *h1,
    const char *h2, struct th_http *h)
{
	const char *hdr[] = {"Content-Type: application/x-www-form-urlencoded",
	    h1, h2, NULL};
	char body[64];

	snprintf(body, sizeof(body), "code=%s", code);
	th_https(s, "POST", "/login", hdr, body, strlen(body), h);
}

/* The session cookie's value from a Set-Cookie (static). */
static const char *
session_of(const struct th_http *h)
{
	static char v[128];
	const char *p = strstr(h->cookie, "__Host-pcmds=");

	assert_non_null(p);
	p += strlen("__Host-pcmds=");
	snprintf(v, sizeof(v), "%.*s", (int)strcspn(p, ";"), p);
	assert_true(strlen(v) > 20);
	return v;
}

/* The status of GET /dashboard with a Cookie header. */
static long
dashboard(const char *cookie)
{
	char hdr[256];
	const char *hl[] = {hdr, NULL};
	struct th_http h;
	long st;

	snprintf(hdr, sizeof(hdr), "Cookie: %s", cookie);
	th_https(&srv, "GET", "/dashboard", hl, NULL, 0, &h);
	st = h.status;
	th_http_free(&h);
	return st;
}

static void
test_sign_in(void **state)
{
	char code[32], first[128], cookie[256];
	struct th_http h;

	(void)state;
	snprintf(code, sizeof(code), "%s", th_server_user(&srv, "place_lead",
	    "BD", NULL));
	/* a code in a link signs nobody in and is not used up */
	snprintf(cookie, sizeof(cookie), "/login?code=%s", code);
	th_https(&srv, "GET", cookie, NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	assert_string_equal(h.cookie, "");
	assert_non_null(strstr(h.body, "not taken from links"));
	th_http_free(&h);
	/* a form posted from another site is refused, the code kept */
	login(&srv, code, "Origin: https://evil.example", NULL, &h);
	assert_int_equal(h.status, 403);
	assert_string_equal(h.cookie, "");
	th_http_free(&h);
	login(&srv, code, "Sec-Fetch-Site: cross-site", NULL, &h);
	assert_int_equal(h.status, 403);
	th_http_free(&h);
	login(&srv, code, "Sec-Fetch-Site: same-site", NULL, &h);
	assert_int_equal(h.status, 403);
	th_http_free(&h);
	login(&srv, code, "Origin: null", NULL, &h);
	assert_int_equal(h.status, 403);
	th_http_free(&h);
	/* from our own page it signs in */
	snprintf(cookie, sizeof(cookie), "Origin: https://localhost:%d",
	    srv.port);
	login(&srv, code, cookie, "Sec-Fetch-Site: same-origin", &h);
	assert_int_equal(h.status, 303);
	snprintf(first, sizeof(first), "%s", session_of(&h));
	th_http_free(&h);
	/* the cookie is found by its exact name, never inside another */
	snprintf(cookie, sizeof(cookie), "__Host-pcmds=%s", first);
	assert_int_equal(dashboard(cookie), 200);
	snprintf(cookie, sizeof(cookie), "theme=dark; __Host-pcmds=%s; x=1",
	    first);
	assert_int_equal(dashboard(cookie), 200);
	snprintf(cookie, sizeof(cookie), "evil__Host-pcmds=%s", first);
	assert_int_equal(dashboard(cookie), 401);
	snprintf(cookie, sizeof(cookie), "x=__Host-pcmds=%s", first);
	assert_int_equal(dashboard(cookie), 401);
	snprintf(cookie, sizeof(cookie), "__host-pcmds=%s", first);
	assert_int_equal(dashboard(cookie), 401);
	/* signing in again gives a new session and ends the old one */
	snprintf(cookie, sizeof(cookie), "Cookie: __Host-pcmds=%s", first);
	login(&srv, th_server_user(&srv, "place_lead", "BD", NULL), cookie,
	    NULL, &h);
	assert_int_equal(h.status, 303);
	assert_string_not_equal(session_of(&h), first);
	snprintf(cookie, sizeof(cookie), "__Host-pcmds=%s", session_of(&h));
	th_http_free(&h);
	assert_int_equal(dashboard(cookie), 200);
	snprintf(cookie, sizeof(cookie), "__Host-pcmds=%s", first);
	assert_int_equal(dashboard(cookie), 401);
	{
		/* the ended session is told to sign in, not to enrol */
		char hdr[256];
		const char *hl[] = {hdr, NULL};

		snprintf(hdr, sizeof(hdr), "Cookie: %s", cookie);
		th_https(&srv, "GET", "/dashboard", hl, NULL, 0, &h);
		assert_int_equal(h.status, 401);
		assert_non_null(strstr(h.body, "sign in again at /login"));
		assert_null(strstr(h.body, "pcmds setup"));
		th_http_free(&h);
	}
}

/*
 * Failed attempts from an address stop guesses at codes from it, never a
 * token or session that is valid: an enrolled device behind an office's
 * shared address keeps working. (A server of its own with auth_failures
 * = 2, so that the address stays blocked for half a minute at least.)
 */
static void
test_valid_not_blocked(void **state)
{
	const char *bad[] = {"Authorization: Bearer wrongwrongwrong", NULL};
	char tok[64], auth[128], cookie[300];
	const char *good[] = {auth, cookie, NULL};
	struct th_server s6;
	struct th_http h;
	int i;

	(void)state;
	th_server_init(&s6, "auth_failures = 2\n");
	th_server_start(&s6, NULL);
	snprintf(tok, sizeof(tok), "%s", th_enrol(&s6, th_server_user(&s6,
	    "evaluator", NULL, NULL), NULL));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	login(&s6, th_server_user(&s6, "place_lead", "NH", NULL), NULL, NULL,
	    &h);
	assert_int_equal(h.status, 303);
	snprintf(cookie, sizeof(cookie), "Cookie: __Host-pcmds=%s",
	    session_of(&h));
	th_http_free(&h);
	for (i = 0; i < 2; i++) {
		th_https(&s6, "GET", "/v1/places", bad, NULL, 0, &h);
		assert_int_equal(h.status, 401);
		th_http_free(&h);
	}
	th_https(&s6, "GET", "/v1/places", bad, NULL, 0, &h);
	expect_error(&h, 429, "E_RATE");
	th_https(&s6, "GET", "/v1/places", good, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	th_https(&s6, "GET", "/dashboard", good + 1, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	/* but a code is not tried from here for now */
	login(&s6, "AAAA-BBBB-CCCC", NULL, NULL, &h);
	assert_int_equal(h.status, 429);
	th_http_free(&h);
	th_https(&s6, "POST", "/v1/enrol", (const char *[]){"Content-Type: "
	    "application/json", NULL}, "{\"code\":\"AAAA-BBBB-CCCC\"}",
	    strlen("{\"code\":\"AAAA-BBBB-CCCC\"}"), &h);
	expect_error(&h, 429, "E_RATE");
	assert_int_equal(th_server_stop(&s6, SIGTERM), 0);
}

/*
 * Guesses spread over many addresses meet the server-wide budget
 * (auth_failures_global), which a valid token never does.
 */
static void
test_global_budget(void **state)
{
	struct th_server s4;
	struct th_tls *t;
	char req[512], from[32], auth[128];
	const char *body = "{\"code\":\"AAAA-BBBB-CCCC\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"key_id\":\"0\"}";
	const char *good[] = {auth, NULL};
	const char *ans;
	struct th_http h;
	int i;

	(void)state;
	th_server_init(&s4, "auth_failures = 100\nauth_failures_global = 5\n");
	th_server_start(&s4, NULL);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", th_enrol(&s4,
	    th_server_user(&s4, "evaluator", NULL, NULL), NULL));
	snprintf(req, sizeof(req), "POST /v1/enrol HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    strlen(body), body);
	for (i = 0; i < 6; i++) {
		snprintf(from, sizeof(from), "127.0.1.%d", i + 1);
		assert_non_null(t = th_tls_open_from(&s4, from, NULL, 0));
		assert_int_equal(th_tls_write(t, req, strlen(req)), 0);
		ans = th_tls_read(t, 5000);
		if (i < 5)
			assert_non_null(strstr(ans, "HTTP/1.1 401 "));
		else {
			assert_non_null(strstr(ans, "HTTP/1.1 429 "));
			assert_non_null(strstr(ans, "too many failed attempts at a "
			    "one-time code on this server"));
		}
		th_tls_close(t);
	}
	th_https(&s4, "GET", "/v1/places", good, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	assert_int_equal(th_server_stop(&s4, SIGTERM), 0);
}

/*
 * An open-file limit too low for max_connections is said, not passed
 * over in silence (under the unit's system-call filter setrlimit fails
 * the same way, and is said the same way).
 */
static void
test_fd_limit(void **state)
{
	struct th_server s5;
	struct rlimit rl = {256, 256};
	char exe[700], *log = NULL;
	pid_t pid;
	int i;

	(void)state;
	th_server_init(&s5, NULL);
	snprintf(exe, sizeof(exe), "%s/pcmdsd", th_build());
	if ((pid = fork()) == 0) {
		int fd = open(s5.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(fd, 2);
		setrlimit(RLIMIT_NOFILE, &rl);
		execl(exe, "pcmdsd", "--config", s5.conf, "serve", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 400; i++) {
		free(log);
		log = th_slurp(s5.log, NULL);
		if (log != NULL && strstr(log, " serving https://") != NULL)
			break;
		usleep(25 * 1000);
	}
	th_kill(pid, SIGTERM);
	assert_non_null(log);
	if (strstr(log, "the open-file limit is 256 at most, so fewer than "
	    "max_connections (1024) may be served") == NULL)
		fail_msg("no word of the open-file limit:\n%s", log);
	free(log);
}


/*
 * A test build of pcmdsd with pauses armed (PCMDS_PAUSE, failpoint.h),
 * their files made in dir; a link worker of BD enrolled (tok, worker),
 * and an evaluator (auth, a header).
 */
struct paused {
	struct th_server s;
	char		 dir[600], tok[64], worker[32], auth[128];
};

static void
paused_start(struct paused *p, const char *pauses)
{
	char list[256], where[700];
	const char *env[] = {list, where, NULL};
	long id;

	th_server_init(&p->s, NULL);
	snprintf(p->dir, sizeof(p->dir), "%s/pauses", p->s.dir);
	assert_int_equal(mkdir(p->dir, 0700), 0);
	snprintf(list, sizeof(list), "PCMDS_PAUSE=%s", pauses);
	snprintf(where, sizeof(where), "PCMDS_PAUSE_DIR=%s", p->dir);
	p->s.bin = "pcmdsd-fp";
	th_server_start(&p->s, env);
	snprintf(p->tok, sizeof(p->tok), "%s", th_enrol(&p->s, th_server_user(
	    &p->s, "link_worker", "BD", &id), NULL));
	snprintf(p->worker, sizeof(p->worker), "bd-lw%ld", id);
	snprintf(p->auth, sizeof(p->auth), "Authorization: Bearer %s",
	    th_enrol(&p->s, th_server_user(&p->s, "evaluator", NULL, NULL),
	    NULL));
}

/* What a client trying to connect saw while the server was loading. */
struct knock {
	pthread_t	 thread;
	const char	*dir;
	int		 port, connected;
};

static void *
knock_main(void *arg)
{
	struct knock *k = arg;

	th_pause_wait(k->dir, "start-loading");
	k->connected = th_can_connect(k->port);
	th_pause_go(k->dir, "start-loading");
	return NULL;
}

/*
 * While the server loads its aggregates (minutes, with a large store),
 * its port refuses connections rather than queueing them to be accepted
 * all at once when it is ready; then it serves.
 */
static void
test_refused_while_loading(void **state)
{
	struct th_server s;
	struct knock k;
	struct th_http h;
	char list[] = "PCMDS_PAUSE=start-loading", where[700];
	const char *env[] = {list, where, NULL};
	char dir[600];

	(void)state;
	th_server_init(&s, NULL);
	snprintf(dir, sizeof(dir), "%s/pauses", s.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(where, sizeof(where), "PCMDS_PAUSE_DIR=%s", dir);
	s.bin = "pcmdsd-fp";
	memset(&k, 0, sizeof(k));
	k.dir = dir;
	k.port = s.port;
	assert_int_equal(pthread_create(&k.thread, NULL, knock_main, &k), 0);
	th_server_start_within(&s, env, 60);
	assert_int_equal(pthread_join(k.thread, NULL), 0);
	assert_int_equal(k.connected, 0);
	th_https(&s, "GET", "/healthz", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	assert_int_equal(th_server_stop(&s, SIGTERM), 0);
}

/* A batch sent on a thread of its own, its answer read later. */
struct post {
	pthread_t		 thread;
	struct th_server	*s;
	const char		*token;
	char			 body[4096];
	struct th_http		 h;
};

static void *
post_main(void *arg)
{
	struct post *p = arg;

	th_post_records(p->s, p->token, p->body, &p->h);
	return NULL;
}

static void
post_start(struct post *p, struct th_server *s, const char *token,
    const char *rec)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	p->token = token;
	snprintf(p->body, sizeof(p->body), "{\"records\":[%s]}", rec);
	assert_int_equal(pthread_create(&p->thread, NULL, post_main, p), 0);
}

/* The batch's one record was stored. */
static void
post_stored(struct post *p)
{
	cJSON *j;

	pthread_join(p->thread, NULL);
	j = results(&p->h);
	assert_string_equal(result_status(j, 0), "stored");
	cJSON_Delete(j);
	th_http_free(&p->h);
}

static void
expect_healthy(struct th_server *s)
{
	struct th_http h;

	th_https(s, "GET", "/healthz", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
}

/*
 * A batch is read, checked and written off the event loop: while one is
 * held before its checks, the loop still answers, a read of the
 * database included.
 */
static void
test_loop_serves_during_batch(void **state)
{
	struct paused p;
	const char *hdr[] = {p.auth, NULL};
	struct th_http h;
	struct post x;

	(void)state;
	paused_start(&p, "records-begun");
	post_start(&x, &p.s, p.tok, referral(REF1, p.worker, "BD", 1));
	th_pause_wait(p.dir, "records-begun");
	expect_healthy(&p.s);
	th_https(&p.s, "GET", "/v1/places", hdr, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	th_http_free(&h);
	th_pause_go(p.dir, "records-begun");
	post_stored(&x);
	assert_int_equal(th_server_stop(&p.s, SIGTERM), 0);
}

/* BD's figures as s holds them, as text, to compare; its contacts. */
static char *
impact_text(struct th_server *s, const char *auth, long *contacts)
{
	const char *hdr[] = {auth, NULL};
	struct th_http h;
	cJSON *j;
	char *t;

	th_https(s, "GET", "/v1/places/BD/impact?suppress=false", hdr, NULL, 0,
	    &h);
	if (h.status != 200)
		fail_msg("impact: %ld %s", h.status, h.body);
	j = th_json(h.body);
	th_http_free(&h);
	*contacts = (long)cJSON_GetNumberValue(th_at(j, "reach.contacts"));
	cJSON_DeleteItemFromObject(j, "generated_at");	/* the clock's */
	assert_non_null(t = cJSON_PrintUnformatted(j));
	cJSON_Delete(j);
	return t;
}

/*
 * Two batches of one referral at once: the first held between its
 * commit and its facts' apply, the second (a contact, so a newer fact of
 * the referral) sent meanwhile. Both are stored, and the figures the
 * server then holds are those the server, started again, works out from
 * the database alone: the first's older fact was not applied over the
 * second's. (On PostgreSQL catching up puts such an apply right, a
 * matter of test_cluster.)
 */
static void
test_batches_of_one_referral_at_once(void **state)
{
	struct paused p;
	struct post x, y;
	char *held, *fresh;
	long contacts;

	(void)state;
	if (th_store_pg()) {
		print_message("on PostgreSQL an apply out of order is put right "
		    "by catching up, which test_cluster checks\n");
		skip();
	}
	paused_start(&p, "records-committed");
	post_start(&x, &p.s, p.tok, referral(REF1, p.worker, "BD", 1));
	th_pause_wait(p.dir, "records-committed");
	post_start(&y, &p.s, p.tok, contact(CON1, REF1, p.worker, "BD", 30));
	expect_healthy(&p.s);
	th_pause_go(p.dir, "records-committed");
	post_stored(&x);
	post_stored(&y);
	held = impact_text(&p.s, p.auth, &contacts);
	assert_int_equal(contacts, 1);
	assert_int_equal(th_server_stop(&p.s, SIGTERM), 0);
	p.s.bin = "pcmdsd";
	th_server_start(&p.s, NULL);
	fresh = impact_text(&p.s, p.auth, &contacts);
	assert_string_equal(held, fresh);
	free(held);
	free(fresh);
	assert_int_equal(th_server_stop(&p.s, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_and_routes),
		cmocka_unit_test(test_enrolment),
		cmocka_unit_test(test_ingest_and_idempotency),
		cmocka_unit_test(test_duplicate_any_form),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_slow_request),
		cmocka_unit_test(test_roles_and_revocation),
		cmocka_unit_test(test_audit_chain),
		cmocka_unit_test(test_sign_in),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_shutdown_and_reload),
		cmocka_unit_test(test_start_sizes),
		cmocka_unit_test(test_facts_worked_out_first),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_port_taken),
		cmocka_unit_test(test_newer_schema),
		cmocka_unit_test(test_global_budget),
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_refused_while_loading),
		cmocka_unit_test(test_valid_not_blocked),
		cmocka_unit_test(test_loop_serves_during_batch),
		cmocka_unit_test(test_batches_of_one_referral_at_once),
	};

	return cmocka_run_group_tests_name("pcmdsd", tests, up, down);
}

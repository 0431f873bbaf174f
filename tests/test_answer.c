/*
 * test_answer.c - the server's plain answer to a batch read in one pass
 * (answer.c): what the server writes (ingest_answer) when every record
 * was stored or a duplicate is read so, and anything else is left to
 * the full parser, with nothing taken from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "harness.h"
#include "ingest.h"

#define N	12

static char ids[N][UUID_LEN];
static int64_t seqs[N];

static void
fixture(void)
{
	int i;

	for (i = 0; i < N; i++) {
		snprintf(ids[i], UUID_LEN, "00000000-0000-4000-8000-%012d",
		    i + 1);
		seqs[i] = 100 + i;
	}
}

/* The server's own answer: record i duplicate when dup has bit i. */
static void
server_answer(int n, unsigned dup, int refused, struct buf *b)
{
	struct ingest in;
	int i;

	ingest_init(&in);
	in.v = calloc((size_t)n, sizeof(*in.v));
	assert_non_null(in.v);
	for (i = 0; i < n; i++) {
		struct ingest_item *it = &in.v[in.n++];

		err_init(&it->errs);
		memcpy(it->id, ids[i], UUID_LEN);
		it->status = (dup >> i) & 1 ? MR_DUPLICATE : MR_STORED;
		if (i == refused) {
			it->status = MR_REJECTED;
			err_add(&it->errs, E_RANGE, "age", "too old");
		}
		in.count[it->status]++;
	}
	snprintf(in.mark, sizeof(in.mark), "%s", "w1");
	buf_init(b, 0);
	assert_int_equal(ingest_answer(&in, b), PC_OK);
	ingest_free(&in);
}

static int
read_plain(const char *text, size_t len, int n, struct answer_plain *a)
{
	static int64_t sent[N];

	memset(sent, 0, sizeof(sent));
	a->sent = sent;
	return answer_plain(text, len, (const char (*)[UUID_LEN])ids, seqs, n,
	    a);
}

static void
test_server_answer_read(void **state)
{
	struct answer_plain a;
	struct buf b;
	int n, i;

	(void)state;
	fixture();
	for (n = 1; n <= N; n++) {
		unsigned dup = n % 3 == 0 ? 0x5a5u : 0;

		server_answer(n, dup, -1, &b);
		assert_true(read_plain(b.p, b.len, n, &a));
		assert_int_equal(a.nsent, n);
		for (i = 0; i < n; i++)
			assert_int_equal(a.sent[i], seqs[i]);
		assert_int_equal(a.duplicate,
		    __builtin_popcount(dup & ((1u << n) - 1)));
		assert_int_equal(a.stored + a.duplicate, n);
		buf_free(&b);
	}
}

static void
assert_not_plain(const char *text, size_t len, int n)
{
	struct answer_plain a;

	assert_false(read_plain(text, len, n, &a));
	assert_int_equal(a.nsent, 0);
	assert_int_equal(a.stored, 0);
	assert_int_equal(a.duplicate, 0);
}

/* A record refused, with its errors: the parser reads it all. */
static void
test_refused_parsed(void **state)
{
	struct buf b;

	(void)state;
	fixture();
	server_answer(5, 0, 3, &b);
	assert_not_plain(b.p, b.len, 5);
	buf_free(&b);
}

/* Another batch's answer, a short one or a cut one: never taken. */
static void
test_mismatch_parsed(void **state)
{
	struct buf b;
	char *t;
	size_t cut;

	(void)state;
	fixture();
	server_answer(4, 0, -1, &b);
	assert_not_plain(b.p, b.len, 5);	/* a result missing */
	assert_not_plain(b.p, b.len, 3);	/* one too many */
	for (cut = 0; cut < b.len; cut++)
		assert_not_plain(b.p, cut, 4);
	/* an id not the batch's, in its place */
	t = strdup(b.p);
	assert_non_null(t);
	*strstr(t, ids[2] + 30) = '9';
	assert_not_plain(t, b.len, 4);
	free(t);
	/* results in another order: the indexes say so */
	memcpy(ids[4], ids[0], UUID_LEN);
	memcpy(ids[0], ids[1], UUID_LEN);
	memcpy(ids[1], ids[4], UUID_LEN);
	assert_not_plain(b.p, b.len, 4);
	buf_free(&b);
	assert_not_plain(NULL, 0, 1);
	assert_not_plain("{}", 2, 1);
}

/* Any other layout or status is the parser's, though it says as much. */
static void
test_other_layouts_parsed(void **state)
{
	/* each a format of one result, the id at %s */
	static const char *const other[] = {
		"{\"results\": [{\"index\":0,\"id\":\"%s\",\"status\":"
		    "\"stored\"}],\"summary\":{}}",
		"{\"results\":[{\"id\":\"%s\",\"index\":0,\"status\":"
		    "\"stored\"}],\"summary\":{}}",
		"{\"results\":[{\"index\":0,\"id\":\"%s\",\"status\":"
		    "\"conflict\"}],\"summary\":{}}",
		"{\"results\":[{\"index\":00,\"id\":\"%s\",\"status\":"
		    "\"stored\"}],\"summary\":{}}",
		"{\"results\":[{\"index\":0,\"id\":\"%s\",\"status\":"
		    "\"stored\"}]}",
	};
	struct answer_plain a;
	char text[512];
	size_t i;

	(void)state;
	fixture();
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		snprintf(text, sizeof(text), other[i], ids[0]);
		assert_not_plain(text, strlen(text), 1);
	}
	/* what is read: the same without the watermark */
	snprintf(text, sizeof(text), "{\"results\":[{\"index\":0,\"id\":"
	    "\"%s\",\"status\":\"stored\"}],\"summary\":{}}", ids[0]);
	assert_true(read_plain(text, strlen(text), 1, &a));
	assert_int_equal(a.stored, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_answer_read),
		cmocka_unit_test(test_refused_parsed),
		cmocka_unit_test(test_mismatch_parsed),
		cmocka_unit_test(test_other_layouts_parsed),
	};

	return cmocka_run_group_tests_name("answer", tests, NULL, NULL);
}

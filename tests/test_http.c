/*
 * test_http.c - strict HTTP framing (RFC 9112), over a raw TLS socket to
 * the real server: every request a proxy and pcmdsd could frame two ways
 * gets a JSON refusal and a closed connection, and nothing sent after it
 * is served (each refused request carries a smuggled GET /healthz). Also
 * what still works (pipelining, Connection: close, HTTP/1.0, split
 * writes), the log line every refused request gets, and client text
 * escaped in the log and the audit. The head check itself (wire.c) is
 * run on many more heads directly.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "wire.h"

/* What a proxy would pass on after the request it saw. */
#define SMUGGLED	"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

static struct th_server srv;
static char db[700];

static int
up(void **state)
{
	(void)state;
	th_server_init(&srv, "max_body = 65536\nmax_headers = 4096\n"
	    "auth_failures = 100000\nrequest_timeout = 20\n");
	snprintf(db, sizeof(db), "%s/pcmds.db", srv.dir);
	th_server_start(&srv, NULL);
	return 0;
}

static int
down(void **state)
{
	(void)state;
	assert_int_equal(th_server_stop(&srv, SIGTERM), 0);
	return 0;
}

static long
count(const char *hay, const char *needle)
{
	long n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* Status lines in a stream of answers ("HTTP/1.1 200 "). */
static long
answers(const char *s)
{
	long n = 0;

	for (; (s = strstr(s, "HTTP/1.1 ")) != NULL; s++)
		if (strspn(s + 9, "0123456789") == 3 && s[12] == ' ')
			n++;
	return n;
}

/* Sends len bytes on a new connection: the answer (owned), and whether
 * the server closed the connection after it. */
static char *
exchange(const char *req, size_t len, int *closed)
{
	struct th_tls *t = th_tls_open(&srv);
	char *ans;

	assert_int_equal(th_tls_write(t, req, len), 0);
	ans = strdup(th_tls_read(t, 5000));
	*closed = th_tls_closed(t, 5000);
	th_tls_close(t);
	return ans;
}

/* head + body, then a smuggled request: one refusal, then the end. */
static void
refused(const char *head, const char *body, int status, const char *code)
{
	char req[8192], want[32];
	char *ans;
	int closed, n;

	n = snprintf(req, sizeof(req), "%s%s" SMUGGLED, head, body);
	ans = exchange(req, (size_t)n, &closed);
	snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
	if (strncmp(ans, want, strlen(want)) != 0 || strstr(ans, code) == NULL)
		fail_msg("wanted %d %s for:\n%s\ngot:\n%s", status, code, head,
		    ans);
	assert_non_null(strstr(ans, "application/json"));
	assert_non_null(strstr(ans, "Connection: close"));
	assert_non_null(strstr(ans, "\"message\":\""));
	/* one answer only: the smuggled request was never read */
	if (answers(ans) != 1)
		fail_msg("more than one answer to:\n%s\ngot:\n%s", head, ans);
	assert_null(strstr(ans, "\"status\":\"ok\""));
	assert_true(closed);
	free(ans);
}

static void
test_smuggling(void **state)
{
	char head[256];

	(void)state;
	/* today's attack: the second length frames the smuggled request */
	snprintf(head, sizeof(head), "POST /v1/enrol HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 0\r\n"
	    "Content-Length: %zu\r\n\r\n", strlen(SMUGGLED));
	refused(head, "", 400, "E_HTTP");
	/* two equal lengths are refused too, not guessed at */
	refused("POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
	    "Content-Length: 2\r\n\r\n", "{}", 400, "E_HTTP");
	refused("POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length : 2\r\n"
	    "\r\n", "{}", 400, "E_HTTP");
	refused("POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length\t: 2\r\n"
	    "\r\n", "{}", 400, "E_HTTP");
	refused("POST /v1/enrol HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n"
	    "Content-Length: 2\r\n\r\n", "{}", 400, "E_HTTP");
	refused("POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
	    "\tfolded\r\n\r\n", "{}", 400, "E_HTTP");
	refused("POST /v1/enrol HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	    "chunked\r\nContent-Length: 7\r\n\r\n", "2\r\n{}\r\n0\r\n\r\n", 400,
	    "E_HTTP");
	refused("POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", "2\r\n{}\r\n0\r\n\r\n", 400,
	    "E_HTTP");
}

static void
test_content_length(void **state)
{
	static const char *const bad[] = {"+2", "0x2", "2 2", "-1", "2,2",
	    "2;", "", "1e1", "99999999999999999999", "\xd9\xa2"};
	char head[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(head, sizeof(head), "POST /v1/enrol HTTP/1.1\r\nHost: "
		    "x\r\nContent-Type: application/json\r\nContent-Length: "
		    "%s\r\n\r\n", bad[i]);
		refused(head, "{}", 400, "E_HTTP");
	}
	/* no chunked uploads: a length is required */
	refused("POST /v1/enrol HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n", "2\r\n{}\r\n0\r\n\r\n", 411, "E_LENGTH");
	/* a HEAD request's body would be read as the next request */
	refused("HEAD /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
	    "GET /", 400, "E_HTTP");
}

static void
test_malformed(void **state)
{
	char big[6000];
	size_t n;

	(void)state;
	refused("GET /healthz HTTP/1.1\nHost: x\n\n", "", 400, "E_HTTP");
	refused("GET /healthz HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", "", 400,
	    "E_HTTP");
	refused("GET /healthz HTTP/1.1\r\n\r\n", "", 400, "E_HTTP");	/* Host */
	refused("GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "", 400,
	    "E_HTTP");
	refused("GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", 400, "E_HTTP");
	refused("GET /healthz HTTP/1.1 \r\nHost: x\r\n\r\n", "", 400, "E_HTTP");
	refused("GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", 400, "E_HTTP");
	refused("GET /a\x1b[2Jb HTTP/1.1\r\nHost: x\r\n\r\n", "", 400,
	    "E_HTTP");
	refused("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", "", 505,
	    "E_VERSION");
	refused("BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", 501,
	    "E_METHOD");
	refused("TRACE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "", 501,
	    "E_METHOD");
	refused("GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n",
	    "", 417, "E_EXPECT");
	refused("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\x7f" "b\r\n\r\n",
	    "", 400, "E_HTTP");
	refused("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n", "",
	    400, "E_HTTP");
	refused("GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", "", 400,
	    "E_HTTP");
	/* headers past max_headers (4096) */
	n = strlen("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memcpy(big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ", n);
	memset(big + n, 'a', 5000);
	memcpy(big + n + 5000, "\r\n\r\n", 5);
	refused(big, "", 431, "E_HEADERS");
	/* a body past max_body (65536): refused before it is sent */
	refused("POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: "
	    "100000\r\n\r\n", "", 413, "E_TOO_LARGE");
}

/* A NUL byte cannot be in a C string literal: sent on its own. */
static void
test_nul(void **state)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\0b"
	    "\r\n\r\n" SMUGGLED;
	char *ans;
	int closed;

	(void)state;
	ans = exchange(req, sizeof(req) - 1, &closed);
	assert_int_equal(strncmp(ans, "HTTP/1.1 400 ", 13), 0);
	assert_null(strstr(ans, "\"status\":\"ok\""));
	assert_true(closed);
	free(ans);
}

static void
test_good_framing(void **state)
{
	struct th_tls *t;
	const char *ans;
	char *a;
	int closed;

	(void)state;
	/* pipelined requests are each answered, on a connection kept open */
	t = th_tls_open(&srv);
	assert_int_equal(th_tls_write(t, "\r\n" SMUGGLED SMUGGLED,
	    2 + 2 * strlen(SMUGGLED)), 0);
	ans = th_tls_read(t, 5000);
	assert_int_equal(answers(ans), 2);
	assert_int_equal(count(ans, "HTTP/1.1 200 OK"), 2);
	assert_null(strstr(ans, "Connection: close"));
	assert_false(th_tls_closed(t, 300));
	/* a body written a byte at a time is framed the same */
	{
		const char *body = "{\"code\":\"AAAA-BBBB-CCCC\",\"x\":1}";
		char req[256];
		size_t i;

		snprintf(req, sizeof(req), "POST /v1/enrol HTTP/1.1\r\nHost: "
		    "x\r\nContent-Type: application/json\r\nContent-Length: "
		    "%zu\r\n\r\n%s", strlen(body), body);
		for (i = 0; req[i] != '\0'; i++)
			assert_int_equal(th_tls_write(t, req + i, 1), 0);
		ans = th_tls_read(t, 5000);
		assert_int_equal(strncmp(ans, "HTTP/1.1 400 ", 13), 0);
		assert_non_null(strstr(ans, "E_REQUIRED"));
	}
	assert_int_equal(th_tls_write(t, SMUGGLED, strlen(SMUGGLED)), 0);
	assert_non_null(strstr(th_tls_read(t, 5000), "\"status\":\"ok\""));
	th_tls_close(t);
	/* Connection: close: the whole answer, then the end */
	a = exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "\r\n" SMUGGLED, strlen("GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n" SMUGGLED), &closed);
	assert_int_equal(count(a, "HTTP/1.1 200 OK"), 1);
	assert_non_null(strstr(a, "Connection: close"));
	assert_non_null(strstr(a, "{\"status\":\"ok\",\"version\":"));
	assert_true(closed);
	free(a);
	/* HTTP/1.0 without keep-alive: answered, then closed */
	a = exchange("GET /healthz HTTP/1.0\r\n\r\n",
	    strlen("GET /healthz HTTP/1.0\r\n\r\n"), &closed);
	assert_non_null(strstr(a, " 200 OK\r\n"));
	assert_non_null(strstr(a, "\"status\":\"ok\""));
	assert_true(closed);
	free(a);
}

/* Issue 13: a refused request gets its log line like any other. */
static void
test_refusals_logged(void **state)
{
	char *log = th_slurp(srv.log, NULL);

	(void)state;
	assert_non_null(log);
	assert_non_null(strstr(log, "POST /v1/records 413 records=0 "));
	assert_non_null(strstr(log, "GET /healthz 431 records=0 "));
	assert_non_null(strstr(log, "POST /v1/enrol 400 records=0 "));
	assert_non_null(strstr(log, "refused=\"two Content-Length headers\""));
	assert_non_null(strstr(log, "refused=\"whitespace before the colon "
	    "of header Content-Length\""));
	assert_non_null(strstr(log, "BREW /healthz 501 "));
	/* a raw escape sequence in a target is written escaped */
	assert_non_null(strstr(log, "GET /a\\x1b[2Jb 400 "));
	assert_null(strstr(log, "\x1b"));
	free(log);
}

static void
test_log_escaping(void **state)
{
	const char *req = "GET /healthz%0Ainjected%3A%20yes%0D HTTP/1.1\r\n"
	    "Host: x\r\n\r\n";
	const char *hdr[] = {"Authorization: Bearer nonsense", NULL};
	struct th_http h;
	char *ans, *log;
	int closed;

	(void)state;
	ans = exchange(req, strlen(req), &closed);
	assert_int_equal(strncmp(ans, "HTTP/1.1 400 ", 13), 0);
	assert_non_null(strstr(ans, "E_PATH"));
	free(ans);
	log = th_slurp(srv.log, NULL);
	/* %0A never starts a line of its own */
	assert_null(strstr(log, "\ninjected"));
	assert_null(strstr(log, "\rinjected"));
	assert_non_null(strstr(log, "GET /healthz\\x0ainjected: yes\\x0d 400 "));
	free(log);
	/* nor in the audit log: a failed attempt names its path escaped */
	th_https(&srv, "GET", "/v1/places/%C3%A9%22x/impact", hdr, NULL, 0,
	    &h);
	assert_int_equal(h.status, 401);
	th_http_free(&h);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE "
	    "object = '/v1/places/\\xc3\\xa9\\x22x/impact'"), 1);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE "
	    "instr(object, char(195)) > 0 OR instr(object, '\"') > 0"), 0);
}

/* The head check on its own, for the cases above and more. */
static int
head_status(const char *head, uint64_t *body, int *close)
{
	struct wire_head h;
	char buf[2048];
	size_t n = strlen(head);

	memcpy(buf, head, n);
	(void)wire_check_head(buf, n, 1000, &h);
	*body = h.body;
	*close = h.close;
	return h.status;
}

static void
test_head_check(void **state)
{
	static const struct {
		const char	*head;
		int		 status;
	} v[] = {
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"GET /?q=1&r=%20 HTTP/1.1\r\nHost: a\r\n\r\n", 0},
		{"GET / HTTP/1.0\r\n\r\n", 0},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \r\n\r\n", 0},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", 413},
		{"POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 1\r\n"
		    "Content-Length: 1\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX:\x01\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: \xc3\xa9\r\n\r\n", 0},
		{"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: a\r\n"
		    "Authorization: b\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
		    400},
		{"GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX : v\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nX@Y: v\r\n\r\n", 400},
		{"GET /#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
		{"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
		{"GET / http/1.1\r\nHost: a\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", 0},
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n"
		    "\r\n", 411},
		{"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
	};
	uint64_t body;
	size_t i;
	int close, st;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if ((st = head_status(v[i].head, &body, &close)) != v[i].status)
			fail_msg("head %zu: status %d, wanted %d:\n%s", i, st,
			    v[i].status, v[i].head);
	assert_int_equal(head_status("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 012\r\n\r\n", &body, &close), 0);
	assert_int_equal(body, 12);
	assert_int_equal(close, 0);
	assert_int_equal(head_status("GET / HTTP/1.1\r\nHost: a\r\nConnection: "
	    "keep-alive, Close\r\n\r\n", &body, &close), 0);
	assert_int_equal(close, 1);
	assert_int_equal(head_status("GET / HTTP/1.0\r\n\r\n", &body, &close),
	    0);
	assert_int_equal(close, 1);
	assert_int_equal(head_status("GET / HTTP/1.0\r\nConnection: "
	    "keep-alive\r\n\r\n", &body, &close), 0);
	assert_int_equal(close, 0);
	/* what evhttp is given: Connection taken out, 1.0 kept alive */
	{
		char buf[256] = "GET / HTTP/1.0\r\nConnection: close\r\nA: b\r\n"
		    "\r\n";
		struct wire_head h;
		size_t n = wire_check_head(buf, strlen(buf), 10, &h);

		assert_int_equal(h.status, 0);
		assert_true(n == strlen("GET / HTTP/1.0\r\nA: b\r\nConnection: "
		    "keep-alive\r\n\r\n"));
		assert_memory_equal(buf, "GET / HTTP/1.0\r\nA: b\r\nConnection: "
		    "keep-alive\r\n\r\n", n);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_check),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_good_framing),
		cmocka_unit_test(test_refusals_logged),
		cmocka_unit_test(test_log_escaping),
	};

	return cmocka_run_group_tests_name("http", tests, up, down);
}

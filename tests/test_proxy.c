/*
 * test_proxy.c - the PROXY protocol v2 before TLS, from raw sockets on
 * loopback addresses: 127.0.0.3 is the configured load balancer
 * (proxy_from), everything else a client. A header from the balancer
 * names the client that logs, the per-address connection cap, the limit
 * on failed attempts and the audit use; a header from anyone else, or a
 * balancer connection without one, is refused. Then the same through a
 * real HAProxy (Debian's haproxy, send-proxy-v2), when it is installed.
 */
#include <sys/wait.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define BALANCER	"127.0.0.3"
#define HEALTHZ		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

static struct th_server srv;
static char db[700];

static int
up(void **state)
{
	(void)state;
	th_server_init(&srv, "proxy_from = " BALANCER ", fd00::5\n"
	    "max_connections_per_address = 2\nauth_failures = 3\n");
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

/* A v2 header: cmd 1 PROXY or 0 LOCAL, the client's address, tlv NOOP
 * bytes after the addresses (as a balancer may add). */
static size_t
v2(uint8_t *out, int cmd, const char *client, size_t tlv)
{
	static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
	int six = strchr(client, ':') != NULL;
	size_t alen = six ? 36 : 12, n = 16;

	memcpy(out, sig, 12);
	out[12] = (uint8_t)(0x20 | cmd);
	out[13] = six ? 0x21 : 0x11;	/* INET6 or INET, STREAM */
	out[14] = (uint8_t)((alen + tlv) >> 8);
	out[15] = (uint8_t)(alen + tlv);
	memset(out + n, 0, alen);
	assert_int_equal(inet_pton(six ? AF_INET6 : AF_INET, client, out + n),
	    1);
	/* destination address left 0; ports 4444 and 8443 */
	out[n + alen - 4] = 0x11;
	out[n + alen - 3] = 0x5c;
	out[n + alen - 2] = 0x20;
	out[n + alen - 1] = 0xfb;
	n += alen;
	if (tlv >= 3) {
		out[n] = 0x04;	/* PP2_TYPE_NOOP */
		out[n + 1] = (uint8_t)((tlv - 3) >> 8);
		out[n + 2] = (uint8_t)(tlv - 3);
		memset(out + n + 3, 0, tlv - 3);
	}
	return n + tlv;
}

/* A connection from the balancer for client; NULL when refused. */
static struct th_tls *
via(const char *client, int cmd)
{
	uint8_t h[600];

	return th_tls_open_from(&srv, BALANCER, h, v2(h, cmd, client, 20));
}

static const char *
get(struct th_tls *t, const char *req)
{
	assert_int_equal(th_tls_write(t, req, strlen(req)), 0);
	return th_tls_read(t, 5000);
}

static int
logged(const char *what)
{
	char *log = th_slurp(srv.log, NULL);
	int yes = log != NULL && strstr(log, what) != NULL;

	free(log);
	return yes;
}

static void
test_client_address(void **state)
{
	struct th_tls *t;

	(void)state;
	assert_non_null(t = via("192.0.2.7", 1));
	assert_non_null(strstr(get(t, HEALTHZ), "\"status\":\"ok\""));
	th_tls_close(t);
	assert_true(logged("GET /healthz 200 records=0 ms="));
	assert_true(logged("peer=192.0.2.7\n"));
	assert_non_null(t = via("2001:db8::7", 1));
	assert_non_null(strstr(get(t, HEALTHZ), "\"status\":\"ok\""));
	th_tls_close(t);
	assert_true(logged("peer=2001:db8::7\n"));
	assert_non_null(t = via("::ffff:192.0.2.8", 1));
	assert_non_null(strstr(get(t, HEALTHZ), "\"status\":\"ok\""));
	th_tls_close(t);
	assert_true(logged("peer=192.0.2.8\n"));
	/* LOCAL: the balancer's own health check, under its own address */
	assert_non_null(t = via("0.0.0.0", 0));
	assert_non_null(strstr(get(t, HEALTHZ), "\"status\":\"ok\""));
	th_tls_close(t);
	assert_true(logged("peer=" BALANCER "\n"));
}

static void
test_refused(void **state)
{
	static const char v1[] = "PROXY TCP4 192.0.2.9 127.0.0.1 4444 8443\r\n";
	uint8_t h[600];
	size_t n;

	(void)state;
	/* a client may not say who it is (not from 127.0.0.1, which the
	 * harness's probes use) */
	n = v2(h, 1, "192.0.2.9", 0);
	assert_null(th_tls_open_from(&srv, "127.0.0.7", h, n));
	assert_true(logged("connection from 127.0.0.7 refused: it sent a PROXY "
	    "protocol header, but 127.0.0.7 is not in proxy_from"));
	assert_null(th_tls_open_from(&srv, "127.0.0.4", v1, strlen(v1)));
	assert_true(logged("connection from 127.0.0.4 refused: it sent a PROXY "
	    "protocol header"));
	/* the balancer must say */
	assert_null(th_tls_open_from(&srv, BALANCER, NULL, 0));
	assert_true(logged("connection from load balancer " BALANCER " refused: "
	    "no PROXY protocol v2 header came first"));
	assert_null(th_tls_open_from(&srv, BALANCER, v1, strlen(v1)));
	/* in version 2 */
	h[12] = 0x11;
	assert_null(th_tls_open_from(&srv, BALANCER, h, n));
	assert_true(logged("the PROXY header is not version 2"));
	/* for TCP */
	n = v2(h, 1, "192.0.2.9", 0);
	h[13] = 0x12;
	assert_null(th_tls_open_from(&srv, BALANCER, h, n));
	/* of a sane length */
	n = v2(h, 1, "192.0.2.9", 0);
	h[14] = 0xff;
	assert_null(th_tls_open_from(&srv, BALANCER, h, n));
	assert_true(logged("the PROXY header is longer than it may be"));
	/* the server still serves */
	{
		struct th_tls *t = th_tls_open_from(&srv, "127.0.0.8", NULL, 0);

		assert_non_null(t);
		assert_non_null(strstr(get(t, HEALTHZ), "\"status\":\"ok\""));
		th_tls_close(t);
	}
}

/* max_connections_per_address = 2 counts clients, not the balancer. */
static void
test_connection_cap(void **state)
{
	struct th_tls *a, *b, *c, *d;

	(void)state;
	assert_non_null(a = via("192.0.2.10", 1));
	assert_non_null(b = via("192.0.2.10", 1));
	assert_null(c = via("192.0.2.10", 1));
	assert_non_null(d = via("192.0.2.11", 1));
	assert_non_null(strstr(get(d, HEALTHZ), "\"status\":\"ok\""));
	assert_true(logged("connection from 192.0.2.10 refused: it has 2 open "
	    "(max_connections_per_address)"));
	th_tls_close(a);
	th_tls_close(b);
	th_tls_close(d);
}

/* auth_failures = 3: one client's guesses do not block another's. */
static void
test_failure_limit(void **state)
{
	const char *body = "{\"code\":\"AAAA-BBBB-CCCC\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"key_id\":\"0\"}";
	struct th_tls *t;
	char bad[512];
	int i;

	(void)state;
	snprintf(bad, sizeof(bad), "POST /v1/enrol HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    strlen(body), body);
	/* one connection: closing and opening would race the cap of 2 */
	assert_non_null(t = via("192.0.2.20", 1));
	for (i = 0; i < 3; i++)
		assert_non_null(strstr(get(t, bad), "HTTP/1.1 401 "));
	assert_non_null(strstr(get(t, bad), "HTTP/1.1 429 "));
	th_tls_close(t);
	assert_non_null(t = via("192.0.2.21", 1));
	assert_non_null(strstr(get(t, bad), "HTTP/1.1 401 "));
	th_tls_close(t);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE "
	    "action = 'enrol.fail' AND actor = 'address:192.0.2.20'"), 3);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM audit WHERE "
	    "actor = 'address:" BALANCER "'"), 0);
}

/* The same through Debian's HAProxy, in TCP mode with TLS passed on. */
static void
test_haproxy(void **state)
{
	struct th_server front = srv;	/* the CA, with HAProxy's port */
	struct th_tls *t;
	char cfg[1024], path[700];
	pid_t pid;
	int i;

	(void)state;
	if (!th_have("haproxy")) {
		print_message("haproxy is not installed (packaging/deps.sh "
		    "--check installs it)\n");
		skip();
	}
	front.port = th_free_port();
	snprintf(cfg, sizeof(cfg), "defaults\n  mode tcp\n  timeout connect 5s\n"
	    "  timeout client 30s\n  timeout server 30s\nfrontend f\n"
	    "  bind 127.0.0.1:%d\n  default_backend b\nbackend b\n"
	    "  server s1 127.0.0.1:%d send-proxy-v2 source " BALANCER "\n",
	    front.port, srv.port);
	snprintf(path, sizeof(path), "%s/haproxy.cfg", th_tmpdir());
	th_write(path, cfg);
	if ((pid = fork()) == 0) {
		th_quiet(1);
		execlp("haproxy", "haproxy", "-db", "-f", path, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 400 && !th_can_connect(front.port); i++)
		usleep(25 * 1000);
	assert_non_null(t = th_tls_open_from(&front, "127.0.0.5", NULL, 0));
	assert_non_null(strstr(get(t, HEALTHZ), "\"status\":\"ok\""));
	th_tls_close(t);
	th_kill(pid, SIGTERM);
	assert_true(logged("peer=127.0.0.5\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_address),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_connection_cap),
		cmocka_unit_test(test_failure_limit),
		cmocka_unit_test(test_haproxy),
	};

	return cmocka_run_group_tests_name("proxy", tests, up, down);
}

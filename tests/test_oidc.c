/*
 * test_oidc.c - dashboard sign-in through a real OpenID Connect
 * provider: Debian's glewlwyd, started here on loopback with its own
 * configuration and SQLite database (from the package's schema), set up
 * through its admin REST API (an OIDC plugin instance whose keys are made
 * here, a confidential client with this pcmdsd's redirect URI, a user
 * with a password), and driven as a browser would: its REST sign-in (the
 * package ships no login pages), the authorisation redirect, pcmdsd's
 * callback, the dashboard.
 *
 * Between pcmdsd and glewlwyd sits a small TCP relay of this test's (the
 * provider's published address is the relay's; TLS passes through it
 * untouched), which can hold what pcmdsd sends, so that a token exchange
 * stays in flight for as long as the test likes, or drop connections, as
 * a provider that is down does. Nothing here waits on a clock: each step
 * waits for the event it needs.
 *
 * Checked: sign-in lands on the dashboard with a session, as the user
 * and place the administrator linked (the provider's ID token names
 * another place and name, which count for nothing); an unlinked
 * subject, another sign-in's state, an answer used again, a code the
 * provider refuses, the provider's own refusal, an ID token signed by a
 * key the provider did not publish under its kid, a revoked user, a
 * provider down and a certificate for another name are each refused with
 * their page and an audit entry; a key the set does not name (the
 * provider rolled to an ES256 key) makes pcmdsd fetch the set again;
 * other requests are served while a token exchange is held.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "harness.h"
#include "jwt.h"
#include "sec.h"
#include "store.h"
#include "tls.h"

/*
 * The package's schema: dbconfig-common's copy (kept where a minimal
 * Debian leaves out /usr/share/doc), else the documentation's.
 */
#define SCHEMA	"/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3"
#define SCHEMA_DOC "/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz"
#define CLIENT	"pcmds-test"
#define SECRET	"client-secret-4f9a~x.y"	/* form-encoded on the way */
#define LEAD	"lead1"
#define LEADPW	"lead-password-31"

/* -- a relay between pcmdsd and the provider ---------------------------- */

enum relay_mode { RELAY_PASS, RELAY_HOLD, RELAY_DROP };

#define RELAY_PAIRS	32

struct relay {
	int		 lfd[2];	/* 127.0.0.1 and 127.0.0.2 */
	int		 port[2];
	int		 to;		/* the provider's port */
	pthread_t	 th;
	pthread_mutex_t	 mu;
	enum relay_mode	 mode;
	int		 waiting;	/* sends held since HOLD began */
	int		 stop;
	int		 wake[2];
	struct {
		int	 c, s;		/* client and server sockets */
		int	 held;		/* client data not forwarded */
	} p[RELAY_PAIRS];
};

static int
listen_on(const char *addr, int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sa.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

static int
connect_to(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
pair_close(struct relay *r, int i)
{
	close(r->p[i].c);
	close(r->p[i].s);
	r->p[i].c = r->p[i].s = -1;
	r->p[i].held = 0;
}

/* Copies what is there from one socket to the other; -1 at the end. */
static int
pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf)), off = 0, w;

	if (n <= 0)
		return -1;
	while (off < n) {
		if ((w = write(to, buf + off, (size_t)(n - off))) <= 0)
			return -1;
		off += w;
	}
	return 0;
}

static void
relay_accept(struct relay *r, int lfd, enum relay_mode mode)
{
	int c = accept(lfd, NULL, NULL), s, i;

	if (c < 0)
		return;
	if (mode == RELAY_DROP || (s = connect_to(r->to)) < 0) {
		close(c);
		return;
	}
	for (i = 0; i < RELAY_PAIRS && r->p[i].c >= 0; i++)
		;
	if (i == RELAY_PAIRS) {
		close(c);
		close(s);
		return;
	}
	r->p[i].c = c;
	r->p[i].s = s;
}

static void *
relay_main(void *arg)
{
	struct relay *r = arg;
	struct pollfd pf[3 + 2 * RELAY_PAIRS];
	int who[3 + 2 * RELAY_PAIRS];
	enum relay_mode mode;
	int n, i, k;
	char drain[64];

	for (;;) {
		pthread_mutex_lock(&r->mu);
		mode = r->mode;
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		pthread_mutex_unlock(&r->mu);
		n = 0;
		pf[n].fd = r->wake[0];
		pf[n++].events = POLLIN;
		pf[n].fd = r->lfd[0];
		pf[n++].events = POLLIN;
		pf[n].fd = r->lfd[1];
		pf[n++].events = POLLIN;
		for (i = 0; i < RELAY_PAIRS; i++) {
			if (r->p[i].c < 0)
				continue;
			if (mode == RELAY_DROP) {
				pair_close(r, i);
				continue;
			}
			if (mode == RELAY_PASS)
				r->p[i].held = 0;
			if (!r->p[i].held) {
				who[n] = i;
				pf[n].fd = r->p[i].c;
				pf[n++].events = POLLIN;
			}
			who[n] = i;
			pf[n].fd = r->p[i].s;
			pf[n++].events = POLLIN;
		}
		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		if (pf[0].revents)
			while (read(r->wake[0], drain, sizeof(drain)) > 0)
				;
		for (k = 1; k < 3; k++)
			if (pf[k].revents)
				relay_accept(r, pf[k].fd, mode);
		for (k = 3; k < n; k++) {
			if (!pf[k].revents || r->p[who[k]].c < 0)
				continue;
			i = who[k];
			if (pf[k].fd == r->p[i].c && mode == RELAY_HOLD) {
				/* pcmdsd sent something: leave it unread */
				r->p[i].held = 1;
				pthread_mutex_lock(&r->mu);
				r->waiting++;
				pthread_mutex_unlock(&r->mu);
				continue;
			}
			if (pump(pf[k].fd, pf[k].fd == r->p[i].c ? r->p[i].s :
			    r->p[i].c) != 0)
				pair_close(r, i);
		}
	}
	return NULL;
}

static void
relay_start(struct relay *r, int to)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->to = to;
	for (i = 0; i < RELAY_PAIRS; i++)
		r->p[i].c = r->p[i].s = -1;
	r->lfd[0] = listen_on("127.0.0.1", &r->port[0]);
	r->lfd[1] = listen_on("127.0.0.2", &r->port[1]);
	assert_int_equal(pipe2(r->wake, O_NONBLOCK), 0);
	pthread_mutex_init(&r->mu, NULL);
	assert_int_equal(pthread_create(&r->th, NULL, relay_main, r), 0);
}

static void
relay_set(struct relay *r, enum relay_mode m)
{
	pthread_mutex_lock(&r->mu);
	r->mode = m;
	r->waiting = 0;
	pthread_mutex_unlock(&r->mu);
	assert_int_equal(write(r->wake[1], "", 1), 1);
}

static int
relay_waiting(struct relay *r)
{
	int n;

	pthread_mutex_lock(&r->mu);
	n = r->waiting;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void
relay_stop(struct relay *r)
{
	int i;

	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_mutex_unlock(&r->mu);
	assert_int_equal(write(r->wake[1], "", 1), 1);
	pthread_join(r->th, NULL);
	for (i = 0; i < RELAY_PAIRS; i++)
		if (r->p[i].c >= 0)
			pair_close(r, i);
	close(r->lfd[0]);
	close(r->lfd[1]);
	close(r->wake[0]);
	close(r->wake[1]);
}

/* -- HTTPS as a browser speaks it ---------------------------------------- */

#define JAR_MAX	8

/* A browser's cookies (names and values only; one site is enough). */
struct jar {
	char	 name[JAR_MAX][64];
	char	 value[JAR_MAX][512];
};

struct resp {
	long	 status;
	char	*body;
	size_t	 len;
	char	 location[4096];
	struct jar *jar;	/* Set-Cookie goes here when not NULL */
};

static void
jar_set(struct jar *j, const char *line)
{
	char name[64], value[512];
	const char *eq = strchr(line, '='), *end;
	int i, gone;

	if (eq == NULL || (size_t)(eq - line) >= sizeof(name))
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - line), line);
	end = eq + 1 + strcspn(eq + 1, ";\r\n");
	snprintf(value, sizeof(value), "%.*s", (int)(end - eq - 1), eq + 1);
	gone = value[0] == '\0' || strstr(line, "Max-Age=0") != NULL;
	for (i = 0; i < JAR_MAX; i++)
		if (strcmp(j->name[i], name) == 0 || (j->name[i][0] == '\0' &&
		    !gone))
			break;
	if (i == JAR_MAX)
		return;
	if (gone) {
		j->name[i][0] = '\0';
		return;
	}
	snprintf(j->name[i], sizeof(j->name[i]), "%s", name);
	snprintf(j->value[i], sizeof(j->value[i]), "%s", value);
}

static const char *
jar_get(const struct jar *j, const char *name)
{
	int i;

	for (i = 0; i < JAR_MAX; i++)
		if (strcmp(j->name[i], name) == 0)
			return j->value[i];
	return NULL;
}

static size_t
on_head(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n;
	char line[4200];

	snprintf(line, sizeof(line), "%.*s", (int)len, p);
	line[strcspn(line, "\r\n")] = '\0';
	if (strncasecmp(line, "Location: ", 10) == 0)
		snprintf(r->location, sizeof(r->location), "%s", line + 10);
	else if (strncasecmp(line, "Set-Cookie: ", 12) == 0 && r->jar)
		jar_set(r->jar, line + 12);
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;

	r->body = realloc(r->body, r->len + size * n + 1);
	assert_non_null(r->body);
	memcpy(r->body + r->len, p, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

/*
 * One request: body with ctype, extra one more header (or NULL); the
 * cookies sent are the jar's, which takes those set (jar may be NULL).
 */
static void
req(const char *ca, const char *method, const char *url, struct jar *jar,
    const char *ctype, const char *body, const char *extra, struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char hdr[4096], cookies[4096] = "";
	size_t off = 0;
	int i;

	memset(r, 0, sizeof(*r));
	r->body = calloc(1, 1);
	r->jar = jar;
	for (i = 0; jar != NULL && i < JAR_MAX; i++)
		if (jar->name[i][0])
			off += (size_t)snprintf(cookies + off, sizeof(cookies) -
			    off, "%s%s=%s", off ? "; " : "", jar->name[i],
			    jar->value[i]);
	if (cookies[0]) {
		snprintf(hdr, sizeof(hdr), "Cookie: %s", cookies);
		h = curl_slist_append(h, hdr);
	}
	if (ctype != NULL) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
		h = curl_slist_append(h, hdr);
	}
	if (extra != NULL)
		h = curl_slist_append(h, extra);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else
		r->status = -1;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* -- glewlwyd ------------------------------------------------------------ */

struct provider {
	char		 dir[600];
	char		 ca[700];	/* its certificate's CA */
	char		 url[128];	/* https://localhost:RELAY/api */
	char		 direct[128];	/* https://localhost:PORT/api */
	char		 log[700];
	int		 port;
	pid_t		 pid;
	struct relay	 relay;
	struct jar	 admin;		/* the admin's session */
	struct jar	 user;		/* the test user's session */
};

static void
provider_write_conf(struct provider *p)
{
	char conf[700], text[4096];

	snprintf(conf, sizeof(conf), "%s/glewlwyd.conf", p->dir);
	snprintf(text, sizeof(text),
	    "port=%d\n"
	    "bind_address=\"127.0.0.1\"\n"
	    "external_url=\"https://localhost:%d\"\n"
	    "login_url=\"login.html\"\n"
	    "api_prefix=\"api\"\n"
	    "static_files_path=\"%s/static/\"\n"
	    "log_mode=\"file\"\n"
	    "log_level=\"INFO\"\n"
	    "log_file=\"%s\"\n"
	    "cookie_domain=\"localhost\"\n"
	    "cookie_secure=1\n"
	    "session_expiration=3600\n"
	    "session_key=\"GLEWLWYD2_SESSION_ID\"\n"
	    "admin_session_authentication=\"cookie\"\n"
	    "profile_session_authentication=\"cookie\"\n"
	    "allow_multiple_user_per_session=true\n"
	    "login_api_enabled=true\n"
	    "plugin_api_run_enabled=\"\"\n"
	    "max_post_size=16778240\n"
	    "admin_scope=\"g_admin\"\n"
	    "profile_scope=\"g_profile\"\n"
	    "user_module_path=\"/usr/lib/glewlwyd/user\"\n"
	    "user_middleware_module_path=\"%s/none\"\n"
	    "client_module_path=\"/usr/lib/glewlwyd/client\"\n"
	    "user_auth_scheme_module_path=\"/usr/lib/glewlwyd/scheme\"\n"
	    "plugin_module_path=\"/usr/lib/glewlwyd/plugin\"\n"
	    "use_secure_connection=true\n"
	    "secure_connection_key_file=\"%s/server.key\"\n"
	    "secure_connection_pem_file=\"%s/server.pem\"\n"
	    "hash_algorithm=\"SHA512\"\n"
	    "database = { type = \"sqlite3\" path = \"%s/glewlwyd.db\" };\n",
	    p->port, p->relay.port[0], p->dir, p->log, p->dir, p->dir, p->dir,
	    p->dir);
	th_write(conf, text);
}

static void
provider_start(struct provider *p)
{
	struct err_list errs;
	struct th_run r;
	char conf[700], db[700], sub[700];
	int i;

	snprintf(p->dir, sizeof(p->dir), "%s/glewlwyd", th_tmpdir());
	snprintf(sub, sizeof(sub), "%s/static", p->dir);
	assert_int_equal(mkdir(p->dir, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/none", p->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	/* its certificate: valid for localhost and 127.0.0.1 only */
	err_init(&errs);
	assert_int_equal(tls_make_dev_pki(p->dir, NULL, 0, &errs), PC_OK);
	err_free(&errs);
	snprintf(p->ca, sizeof(p->ca), "%s/ca.pem", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/glewlwyd.log", p->dir);
	/* the package's schema, with its admin account */
	snprintf(db, sizeof(db), "%s/glewlwyd.db", p->dir);
	if (access(SCHEMA, R_OK) == 0)
		th_cmd(&r, NULL, "cat", SCHEMA, NULL);
	else
		th_cmd(&r, NULL, "zcat", SCHEMA_DOC, NULL);
	assert_int_equal(r.status, 0);
	th_sql(db, "PRAGMA journal_mode = WAL");
	th_sql(db, r.out);
	th_run_free(&r);
	p->port = th_free_port();
	relay_start(&p->relay, p->port);
	snprintf(p->url, sizeof(p->url), "https://localhost:%d/api",
	    p->relay.port[0]);
	snprintf(p->direct, sizeof(p->direct), "https://localhost:%d/api",
	    p->port);
	provider_write_conf(p);
	snprintf(conf, sizeof(conf), "%s/glewlwyd.conf", p->dir);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		th_quiet(1);
		execlp("glewlwyd", "glewlwyd", "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1200 && !th_can_connect(p->port); i++) {
		int st;

		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			char *log = th_slurp(p->log, NULL);

			fail_msg("glewlwyd exited at start:\n%s", log ? log : "");
		}
		usleep(25 * 1000);
	}
	assert_true(th_can_connect(p->port));
}

static void
provider_stop(struct provider *p)
{
	int st;

	if (p->pid > 0) {
		/* nothing of it is kept: no need to wait for an orderly stop */
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &st, 0);
		p->pid = 0;
	}
	relay_stop(&p->relay);
}

/* A call to glewlwyd's API (directly, not through the relay). */
static long
api(struct provider *p, struct jar *who, const char *method, const char *path,
    const char *json, struct resp *out)
{
	char url[512];
	struct resp r;
	long st;

	snprintf(url, sizeof(url), "%s%s", p->direct, path);
	req(p->ca, method, url, who, json ? "application/json" : NULL, json,
	    NULL, &r);
	st = r.status;
	if (out != NULL)
		*out = r;
	else
		resp_free(&r);
	return st;
}

static void
api_ok(struct provider *p, struct jar *who, const char *method,
    const char *path, const char *json)
{
	struct resp r;

	if (api(p, who, method, path, json, &r) != 200)
		fail_msg("glewlwyd %s %s: %ld %s", method, path, r.status, r.body);
	resp_free(&r);
}

static void
b64_param(EVP_PKEY *k, const char *name, size_t pad, char *out)
{
	BIGNUM *bn = NULL;
	uint8_t raw[600];
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	n = pad ? BN_bn2binpad(bn, raw, (int)pad) : BN_bn2bin(bn, raw);
	assert_true(n > 0);
	sec_b64url(raw, (size_t)n, out);
	BN_free(bn);
}

/* A private JWK for glewlwyd to sign with: RS256 (RSA) or ES256 (EC). */
static void
private_jwk(const char *kid, int rsa, char *out, size_t len)
{
	static const char *const rp[] = {OSSL_PKEY_PARAM_RSA_N,
	    OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
	    OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	    OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
	    OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
	static const char *const rn[] = {"n", "e", "d", "p", "q", "dp", "dq",
	    "qi"};
	EVP_PKEY *k = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char v[800], x[64], y[64], d[64];
	size_t off, i;

	assert_non_null(k);
	if (rsa) {
		off = (size_t)snprintf(out, len, "{\"kty\":\"RSA\",\"kid\":\"%s\","
		    "\"alg\":\"RS256\"", kid);
		for (i = 0; i < 8; i++) {
			b64_param(k, rp[i], 0, v);
			off += (size_t)snprintf(out + off, len - off, ",\"%s\":"
			    "\"%s\"", rn[i], v);
		}
		snprintf(out + off, len - off, "}");
	} else {
		b64_param(k, OSSL_PKEY_PARAM_EC_PUB_X, 32, x);
		b64_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32, y);
		b64_param(k, OSSL_PKEY_PARAM_PRIV_KEY, 32, d);
		snprintf(out, len, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":"
		    "\"%s\",\"alg\":\"ES256\",\"x\":\"%s\",\"y\":\"%s\",\"d\":"
		    "\"%s\"}", kid, x, y, d);
	}
	EVP_PKEY_free(k);
}

/* The plugin's parameters with a key set of one key of its own. */
static char *
plugin_params(const struct provider *p, const char *kid, int rsa)
{
	cJSON *o = cJSON_CreateObject();
	char key[8192], set[8300], iss[160], *text;

	private_jwk(kid, rsa, key, sizeof(key));
	snprintf(set, sizeof(set), "{\"keys\":[%s]}", key);
	snprintf(iss, sizeof(iss), "%s/oidc", p->url);
	cJSON_AddStringToObject(o, "iss", iss);
	cJSON_AddStringToObject(o, "jwks-private", set);
	cJSON_AddStringToObject(o, "default-kid", kid);
	cJSON_AddNumberToObject(o, "access-token-duration", 3600);
	cJSON_AddNumberToObject(o, "refresh-token-duration", 1209600);
	cJSON_AddNumberToObject(o, "code-duration", 600);
	cJSON_AddBoolToObject(o, "refresh-token-rolling", 0);
	cJSON_AddBoolToObject(o, "allow-non-oidc", 0);
	cJSON_AddBoolToObject(o, "auth-type-code-enabled", 1);
	cJSON_AddBoolToObject(o, "auth-type-code-revoke-replayed", 1);
	cJSON_AddBoolToObject(o, "auth-type-token-enabled", 0);
	cJSON_AddBoolToObject(o, "auth-type-id-token-enabled", 0);
	cJSON_AddBoolToObject(o, "auth-type-password-enabled", 0);
	cJSON_AddBoolToObject(o, "auth-type-client-enabled", 0);
	cJSON_AddBoolToObject(o, "auth-type-refresh-enabled", 0);
	cJSON_AddBoolToObject(o, "pkce-allowed", 1);
	cJSON_AddBoolToObject(o, "pkce-method-plain-allowed", 0);
	cJSON_AddBoolToObject(o, "pkce-required", 1);
	/*
	 * What the provider says of the person besides who they are: their
	 * name there, and a place of its own ("place" from the user's
	 * user-code), which pcmdsd must not take for theirs.
	 */
	cJSON_AddStringToObject(o, "name-claim", "mandatory");
	cJSON_AddItemToObject(o, "claims", cJSON_Parse("[{\"name\":\"place\","
	    "\"user-property\":\"user-code\",\"type\":\"string\","
	    "\"mandatory\":true}]"));
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* The plugin signs with a new key of its own from now on. */
static void
provider_rekey(struct provider *p, const char *kid, int rsa)
{
	char *params = plugin_params(p, kid, rsa), *body;

	body = malloc(strlen(params) + 64);
	sprintf(body, "{\"display_name\":\"OIDC\",\"parameters\":%s}", params);
	api_ok(p, &p->admin, "PUT", "/mod/plugin/oidc", body);
	/* an instance takes new parameters when it starts again */
	api_ok(p, &p->admin, "PUT", "/mod/plugin/oidc/disable", NULL);
	api_ok(p, &p->admin, "PUT", "/mod/plugin/oidc/enable", NULL);
	free(body);
	free(params);
}

/* The plugin, the client for redirect, the user, and their sessions. */
static void
provider_setup(struct provider *p, const char *redirect)
{
	char *params = plugin_params(p, "k1", 1), body[12000];

	api_ok(p, &p->admin, "POST", "/auth/", "{\"username\":\"admin\","
	    "\"password\":\"password\"}");
	snprintf(body, sizeof(body), "{\"module\":\"oidc\",\"name\":\"oidc\","
	    "\"display_name\":\"OIDC\",\"enabled\":true,\"parameters\":%s}",
	    params);
	free(params);
	api_ok(p, &p->admin, "POST", "/mod/plugin/", body);
	snprintf(body, sizeof(body), "{\"client_id\":\"" CLIENT "\",\"name\":"
	    "\"pcmds\",\"confidential\":true,\"client_secret\":\"" SECRET "\","
	    "\"enabled\":true,\"redirect_uri\":[\"%s\"],\"authorization_type\":"
	    "[\"code\"],\"scope\":[],\"token_endpoint_auth_method\":["
	    "\"client_secret_basic\"]}", redirect);
	api_ok(p, &p->admin, "POST", "/client/", body);
	api_ok(p, &p->admin, "POST", "/user/", "{\"username\":\"" LEAD "\","
	    "\"password\":\"" LEADPW "\",\"name\":\"A Lead\",\"email\":\"\","
	    "\"user-code\":\"BD\",\"enabled\":true,\"scope\":[\"g_profile\",\"openid\"]}");
	/* the person signs in at the provider, and lets pcmds know them */
	api_ok(p, &p->user, "POST", "/auth/", "{\"username\":\"" LEAD "\","
	    "\"password\":\"" LEADPW "\"}");
	api_ok(p, &p->user, "PUT", "/auth/grant/" CLIENT,
	    "{\"scope\":\"openid\"}");
}

/* -- the sign-in, step by step --------------------------------------------- */

struct world {
	struct provider	 p;
	struct th_server s;
	struct jar	 browser;	/* the browser's cookies at pcmdsd */
};

static void
pcmdsd_url(struct world *w, const char *path_or_url, char *out, size_t len)
{
	if (strncmp(path_or_url, "https://", 8) == 0)
		snprintf(out, len, "%s", path_or_url);
	else
		snprintf(out, len, "%s%s", w->s.url, path_or_url);
}

/* The button: pcmdsd sends the browser to the provider. */
static void
press_button(struct world *w, char *authz, size_t len)
{
	struct resp r;
	char url[256];

	pcmdsd_url(w, "/login/oidc", url, sizeof(url));
	req(w->s.ca, "POST", url, &w->browser, NULL, "", "Sec-Fetch-Site: "
	    "same-origin", &r);
	if (r.status != 303)
		fail_msg("POST /login/oidc: %ld %s", r.status, r.body);
	assert_non_null(jar_get(&w->browser, "__Host-pcmds-oidc"));
	assert_non_null(strstr(r.location, "code_challenge_method=S256"));
	assert_non_null(strstr(r.location, "&nonce="));
	snprintf(authz, len, "%s", r.location);
	resp_free(&r);
}

/*
 * At the provider, signed in there already: the login page's "continue"
 * (g_continue), and its redirect back to pcmdsd.
 */
static void
at_provider(struct world *w, const char *authz, char *back, size_t len)
{
	struct resp r;
	char url[4200];

	snprintf(url, sizeof(url), "%s&g_continue", authz);
	req(w->p.ca, "GET", url, &w->p.user, NULL, NULL, NULL, &r);
	if (r.status != 302 || strstr(r.location, "code=") == NULL)
		fail_msg("provider's authorisation: %ld %s %s", r.status,
		    r.location, r.body);
	snprintf(back, len, "%s", r.location);
	resp_free(&r);
}

static void
callback(struct world *w, const char *back, struct resp *r)
{
	req(w->s.ca, "GET", back, &w->browser, NULL, NULL, "Sec-Fetch-Site: "
	    "cross-site", r);
}

/* The whole way round; the callback's answer in r. */
static void
sign_in(struct world *w, struct resp *r, char *back, size_t len)
{
	char authz[4096], keep[4096];

	press_button(w, authz, sizeof(authz));
	at_provider(w, authz, back ? back : keep, back ? len : sizeof(keep));
	callback(w, back ? back : keep, r);
}

static void
expect_page(struct resp *r, long status, const char *says)
{
	if (r->status != status || strstr(r->body, says) == NULL)
		fail_msg("wanted %ld with \"%s\"; got %ld:\n%s", status, says,
		    r->status, r->body);
	assert_non_null(strstr(r->body, "<a href=\"/login\">Back to sign-in"));
	resp_free(r);
}

static long
audits(struct world *w, const char *action, const char *outcome_like)
{
	char sql[512], db[700];

	snprintf(db, sizeof(db), "%s/pcmds.db", w->s.dir);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = "
	    "'%s' AND outcome LIKE '%s'", action, outcome_like);
	return th_sql_long(db, sql);
}

static void
admin_ok(struct world *w, const char *args, struct th_run *r)
{
	th_server_admin(&w->s, r, args);
	if (r->status != 0)
		fail_msg("pcmdsd %s: %s", args, r->err);
}

static void
world_start(struct world *w)
{
	char redirect[256], secret[700], extra[2048];
	FILE *fp;

	memset(w, 0, sizeof(*w));
	provider_start(&w->p);
	th_server_init(&w->s, NULL);
	snprintf(redirect, sizeof(redirect), "https://localhost:%d/login/oidc/"
	    "callback", w->s.port);
	provider_setup(&w->p, redirect);
	snprintf(secret, sizeof(secret), "%s/oidc-client.secret", w->s.dir);
	th_write(secret, SECRET "\n");
	chmod(secret, 0600);
	snprintf(extra, sizeof(extra), "\noidc_issuer = %s/oidc\n"
	    "oidc_client_id = " CLIENT "\noidc_client_secret_file = %s\n"
	    "oidc_redirect_uri = %s\noidc_ca_file = %s\noidc_name = the test "
	    "provider\n"
	    /* each refusal here counts against 127.0.0.1, as it should */
	    "auth_failures = 1000\n", w->p.url, secret, redirect, w->p.ca);
	assert_non_null(fp = fopen(w->s.conf, "a"));
	fputs(extra, fp);
	fclose(fp);
	th_server_start(&w->s, NULL);
}

static void
world_stop(struct world *w)
{
	struct th_run r;

	/* what was audited is intact */
	th_server_admin(&w->s, &r, "audit verify");
	if (r.status != 0)
		fail_msg("audit verify: %s %s", r.out, r.err);
	th_run_free(&r);
	/* a clean stop: sign-ins let go, the fetch thread joined */
	assert_int_equal(th_server_stop(&w->s, SIGTERM), 0);
	provider_stop(&w->p);
}

/* The subject the unlinked page names ("Its identifier is SUB."). */
static void
subject_from(const char *page, char *sub, size_t len)
{
	const char *at = strstr(page, "Its identifier is ");

	assert_non_null(at);
	at += strlen("Its identifier is ");
	snprintf(sub, len, "%.*s", (int)strcspn(at, ". <"), at);
	assert_true(strlen(sub) > 8);
}

static void
dashboard_opens(struct world *w)
{
	struct resp r;
	char url[256];

	pcmdsd_url(w, "/dashboard", url, sizeof(url));
	req(w->s.ca, "GET", url, &w->browser, NULL, NULL, NULL, &r);
	if (r.status != 200 || strstr(r.body, "Signed in as Lead (place_lead, "
	    "NH)") == NULL)
		fail_msg("dashboard: %ld %.400s", r.status, r.body);
	resp_free(&r);
}

/* A callback in a thread of its own, while the relay holds the exchange. */
struct slow {
	struct world	*w;
	const char	*back;
	struct resp	 r;
	int		 done;
	pthread_mutex_t	 mu;
};

static void *
slow_callback(void *arg)
{
	struct slow *sl = arg;
	struct resp r;

	callback(sl->w, sl->back, &r);
	pthread_mutex_lock(&sl->mu);
	sl->r = r;
	sl->done = 1;
	pthread_mutex_unlock(&sl->mu);
	return NULL;
}

static int
slow_done(struct slow *sl)
{
	int d;

	pthread_mutex_lock(&sl->mu);
	d = sl->done;
	pthread_mutex_unlock(&sl->mu);
	return d;
}

/* n requests for /healthz: each answered; the mean and slowest in ms. */
static void
healthz_times(struct world *w, int n, double *mean, double *worst)
{
	struct resp r;
	char url[256];
	double t0, ms, sum = 0;
	int i;

	*worst = 0;
	pcmdsd_url(w, "/healthz", url, sizeof(url));
	for (i = 0; i < n; i++) {
		t0 = th_now();
		req(w->s.ca, "GET", url, NULL, NULL, NULL, NULL, &r);
		ms = (th_now() - t0) * 1000;
		assert_int_equal(r.status, 200);
		resp_free(&r);
		sum += ms;
		*worst = ms > *worst ? ms : *worst;
	}
	*mean = sum / n;
}

/*
 * While a token exchange is held at the relay, other requests are
 * answered: the event loop does not wait on the provider. The times are
 * printed beside the same requests' with nothing held, not asserted.
 */
static void
served_while_held(struct world *w)
{
	struct slow sl;
	pthread_t th;
	char authz[4096], back[4096];
	double mean0, worst0, mean, worst;
	int i, n = 50;

	healthz_times(w, n, &mean0, &worst0);
	press_button(w, authz, sizeof(authz));
	at_provider(w, authz, back, sizeof(back));
	relay_set(&w->p.relay, RELAY_HOLD);
	memset(&sl, 0, sizeof(sl));
	sl.w = w;
	sl.back = back;
	pthread_mutex_init(&sl.mu, NULL);
	assert_int_equal(pthread_create(&th, NULL, slow_callback, &sl), 0);
	/* until pcmdsd's request to the token endpoint reaches the relay */
	for (i = 0; i < 6000 && relay_waiting(&w->p.relay) == 0; i++)
		usleep(10 * 1000);
	assert_true(relay_waiting(&w->p.relay) > 0);
	healthz_times(w, n, &mean, &worst);
	/* the sign-in cannot have ended: its exchange is still held */
	assert_false(slow_done(&sl));
	assert_true(relay_waiting(&w->p.relay) > 0);
	print_message("GET /healthz, %d requests, each on a new TLS "
	    "connection: mean %.1f ms, slowest %.1f ms while a token exchange "
	    "was held; %.1f and %.1f ms with none\n", n, mean, worst, mean0,
	    worst0);
	relay_set(&w->p.relay, RELAY_PASS);
	pthread_join(th, NULL);
	pthread_mutex_destroy(&sl.mu);
	if (sl.r.status != 200 || strstr(sl.r.body, "You are signed in") == NULL)
		fail_msg("held sign-in: %ld %s", sl.r.status, sl.r.body);
	resp_free(&sl.r);
	dashboard_opens(w);
}

/*
 * The callback at back, sent while the test holds lock (a LOCK TABLE on
 * PostgreSQL) until the server waits for it: meanwhile /healthz is
 * answered, and the callback is not; after, it answers status, saying
 * says.
 */
static void
served_while_locked(struct world *w, const char *lock, const char *back,
    long status, const char *says)
{
	struct slow sl;
	struct resp r;
	pthread_t th;
	PGconn *c;
	PGresult *res;
	char db[700], url[256];
	int i;

	snprintf(db, sizeof(db), "%s/pcmds.db", w->s.dir);
	c = PQconnectdb(th_db_uri(db));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQclear(PQexec(c, "BEGIN"));
	res = PQexec(c, lock);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	memset(&sl, 0, sizeof(sl));
	sl.w = w;
	sl.back = back;
	pthread_mutex_init(&sl.mu, NULL);
	assert_int_equal(pthread_create(&th, NULL, slow_callback, &sl), 0);
	/* until the server's job waits for the table */
	for (i = 0; i < 6000 && th_sql_long(db, "SELECT count(*) FROM "
	    "pg_stat_activity WHERE datname = current_database() AND "
	    "wait_event_type = 'Lock'") == 0; i++)
		usleep(10 * 1000);
	assert_true(i < 6000);
	pcmdsd_url(w, "/healthz", url, sizeof(url));
	req(w->s.ca, "GET", url, NULL, NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_false(slow_done(&sl));
	PQclear(PQexec(c, "COMMIT"));
	PQfinish(c);
	pthread_join(th, NULL);
	pthread_mutex_destroy(&sl.mu);
	if (sl.r.status != status || strstr(sl.r.body, says) == NULL)
		fail_msg("callback held by the database: wanted %ld with "
		    "\"%s\"; got %ld %s", status, says, sl.r.status,
		    sl.r.body);
	resp_free(&sl.r);
}

/*
 * On PostgreSQL, while the database holds the sign-in's completion (the
 * test locks the links table), other requests are answered: the lookups
 * run on a database worker, not on the event loop. So does a refusal
 * made before the provider is asked, whose audit entry waits for the
 * audit table.
 */
static void
served_while_db_held(struct world *w)
{
	char authz[4096], back[4096], bad[256];
	long refused;

	if (!th_store_pg())
		return;
	press_button(w, authz, sizeof(authz));
	at_provider(w, authz, back, sizeof(back));
	served_while_locked(w, "LOCK TABLE oidc_links IN ACCESS EXCLUSIVE "
	    "MODE", back, 200, "You are signed in");
	dashboard_opens(w);
	/* no sign-in in progress now: refused, and audited */
	refused = audits(w, "login.oidc.fail", "%no sign-in in progress%");
	pcmdsd_url(w, "/login/oidc/callback?code=c&state=s", bad,
	    sizeof(bad));
	served_while_locked(w, "LOCK TABLE audit IN ACCESS EXCLUSIVE MODE",
	    bad, 400, "no sign-in in progress");
	assert_int_equal(audits(w, "login.oidc.fail",
	    "%no sign-in in progress%"), refused + 1);
}

/* The value of name= in a URL's query, as it is written there. */
static void
query_value(const char *url, const char *name, char *out, size_t len)
{
	const char *at = strstr(url, name);

	if (at == NULL)
		fail_msg("no %s in %s", name, url);
	at += strlen(name);
	snprintf(out, len, "%.*s", (int)strcspn(at, "&"), at);
}

/*
 * The ID token glewlwyd gives for this client, taken here as a client
 * would (a PKCE verifier of the test's own): it says a name and a place
 * of the provider's, so that pcmdsd's dashboard showing its own user's
 * (place NH) shows the place came from pcmdsd's configuration alone.
 */
static void
provider_claims_differ(struct world *w)
{
	static const char verifier[] = "test-verifier-0123456789-abcdefghijk"
	    "lmnopqrstu";
	struct jar keep = w->browser;
	struct resp r;
	struct err_list errs;
	struct jwt t;
	uint8_t h[SEC_SHA256_LEN];
	unsigned char basic[128];
	char authz[4096], mine[4400], back[4096], chal[64], redirect[512];
	char code[1024], form[2048], auth[200], url[300];
	const char *ch, *name, *place;
	cJSON *j, *tok;

	press_button(w, authz, sizeof(authz));
	w->browser = keep;
	sec_sha256((const uint8_t *)verifier, strlen(verifier), h);
	sec_b64url(h, sizeof(h), chal);
	assert_non_null(ch = strstr(authz, "code_challenge="));
	snprintf(mine, sizeof(mine), "%.*scode_challenge=%s%s",
	    (int)(ch - authz), authz, chal, ch + strlen("code_challenge=") +
	    strcspn(ch + strlen("code_challenge="), "&"));
	at_provider(w, mine, back, sizeof(back));
	query_value(back, "code=", code, sizeof(code));
	query_value(authz, "redirect_uri=", redirect, sizeof(redirect));
	snprintf(form, sizeof(form), "grant_type=authorization_code&code=%s&"
	    "redirect_uri=%s&code_verifier=%s", code, redirect, verifier);
	EVP_EncodeBlock(basic, (const unsigned char *)CLIENT ":" SECRET,
	    (int)strlen(CLIENT ":" SECRET));
	snprintf(auth, sizeof(auth), "Authorization: Basic %s", basic);
	snprintf(url, sizeof(url), "%s/oidc/token", w->p.direct);
	req(w->p.ca, "POST", url, NULL, "application/x-www-form-urlencoded",
	    form, auth, &r);
	if (r.status != 200)
		fail_msg("token endpoint: %ld %s", r.status, r.body);
	assert_non_null(j = cJSON_Parse(r.body));
	assert_true(cJSON_IsString(tok = cJSON_GetObjectItem(j, "id_token")));
	err_init(&errs);
	assert_int_equal(jwt_parse(&t, tok->valuestring, &errs), PC_OK);
	name = cJSON_GetStringValue(cJSON_GetObjectItem(t.claims, "name"));
	place = cJSON_GetStringValue(cJSON_GetObjectItem(t.claims, "place"));
	if (name == NULL || strcmp(name, "A Lead") != 0 || place == NULL ||
	    strcmp(place, "BD") != 0)
		fail_msg("glewlwyd's ID token lacks name and place: %s",
		    r.body);
	jwt_free(&t);
	err_free(&errs);
	cJSON_Delete(j);
	resp_free(&r);
}

/* 1 when glewlwyd can run here; else says why (the test is SKIPPED). */
static int
have_provider(void)
{
	if (!th_have("glewlwyd"))
		print_message("glewlwyd is not installed (packaging/deps.sh "
		    "--check installs it, as CI does)\n");
	else if (access(SCHEMA, R_OK) != 0 && access(SCHEMA_DOC, R_OK) != 0)
		print_message("glewlwyd's SQLite schema is missing (neither "
		    SCHEMA " nor " SCHEMA_DOC "): reinstall the package\n");
	else
		return 1;
	return 0;
}

static void
test_sign_in_through_glewlwyd(void **state)
{
	struct world w;
	struct resp r;
	struct th_run run;
	struct jar kept;
	char back[4096], authz[4096], bad[4200], sub[300], args[512];
	char url[256], *at;
	cJSON *j;
	long lead;

	(void)state;
	if (!have_provider())
		skip();
	world_start(&w);

	/* 1. the provider knows the person, pcmdsd does not (yet) */
	sign_in(&w, &r, NULL, 0);
	assert_int_equal(r.status, 403);
	subject_from(r.body, sub, sizeof(sub));
	expect_page(&r, 403, "is not linked to a pcmds user");
	assert_int_equal(audits(&w, "login.oidc.fail", "%linked to no user%"),
	    1);
	assert_null(jar_get(&w.browser, "__Host-pcmds"));
	assert_null(jar_get(&w.browser, "__Host-pcmds-oidc"));

	/* the administrator adds the place lead, linked at once */
	snprintf(args, sizeof(args), "user add --role place_lead --place NH "
	    "--name Lead --oidc-subject %s --json", sub);
	admin_ok(&w, args, &run);
	j = th_json(run.out);
	lead = (long)cJSON_GetObjectItem(j, "user")->valuedouble;
	cJSON_Delete(j);
	th_run_free(&run);
	admin_ok(&w, "user list", &run);
	assert_non_null(strstr(run.out, " linked "));
	th_run_free(&run);
	/* nobody else may have the same identity */
	snprintf(args, sizeof(args), "user add --role evaluator --name Other "
	    "--oidc-subject %s", sub);
	th_server_admin(&w.s, &run, args);
	assert_int_equal(run.status, 1);
	assert_non_null(strstr(run.err, "is already linked to user"));
	th_run_free(&run);

	/* 2. signed in (RS256): the page goes on to the dashboard itself */
	sign_in(&w, &r, back, sizeof(back));
	if (r.status != 200 || strstr(r.body, "You are signed in") == NULL)
		fail_msg("sign-in: %ld %s", r.status, r.body);
	assert_non_null(strstr(r.body, "http-equiv=\"refresh\" content=\"0; "
	    "url=/dashboard\""));
	resp_free(&r);
	assert_non_null(jar_get(&w.browser, "__Host-pcmds"));
	assert_null(jar_get(&w.browser, "__Host-pcmds-oidc"));
	dashboard_opens(&w);
	assert_int_equal(audits(&w, "login.oidc", "ok"), 1);
	/* the place is the administrator's word, whatever the provider says */
	provider_claims_differ(&w);

	/* 3. the same answer again, with the cookie someone kept */
	press_button(&w, authz, sizeof(authz));
	kept = w.browser;
	at_provider(&w, authz, back, sizeof(back));
	callback(&w, back, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	w.browser = kept;
	callback(&w, back, &r);
	expect_page(&r, 400, "was used already");

	/* 4. another sign-in's state, then no sign-in in progress at all */
	press_button(&w, authz, sizeof(authz));
	at_provider(&w, authz, back, sizeof(back));
	assert_non_null(at = strstr(back, "state="));
	/* its first character changed (to one it is not) */
	snprintf(bad, sizeof(bad), "%.*sstate=%c%s", (int)(at - back), back,
	    at[6] == 'X' ? 'Y' : 'X', at + 7);
	callback(&w, bad, &r);
	expect_page(&r, 403, "does not belong to the sign-in this browser "
	    "started");
	callback(&w, back, &r);
	expect_page(&r, 400, "has no sign-in in progress");
	assert_int_equal(audits(&w, "login.oidc.fail", "state of another "
	    "sign-in"), 1);

	/* 5. a code the provider never issued */
	press_button(&w, authz, sizeof(authz));
	at_provider(&w, authz, back, sizeof(back));
	assert_non_null(at = strstr(back, "code="));
	snprintf(bad, sizeof(bad), "%.*scode=Z%s", (int)(at - back), back,
	    at + 5);
	callback(&w, bad, &r);
	expect_page(&r, 401, "did not accept this sign-in: the provider "
	    "refused the sign-in code (HTTP 403, invalid_code)");

	/* 6. the provider's own refusal, to this browser's sign-in */
	press_button(&w, authz, sizeof(authz));
	at_provider(&w, authz, back, sizeof(back));
	assert_non_null(at = strstr(back, "state="));
	snprintf(url, sizeof(url), "/login/oidc/callback?error=access_denied&"
	    "error_description=no+entry&%.*s", (int)strcspn(at, "&"), at);
	pcmdsd_url(&w, url, bad, sizeof(bad));
	callback(&w, bad, &r);
	expect_page(&r, 401, "did not sign you in (access_denied: no entry)");

	/* 7. a token signed with a key not the one published as k1 */
	provider_rekey(&w.p, "k1", 1);
	sign_in(&w, &r, NULL, 0);
	expect_page(&r, 401, "could not be trusted, so you are not signed in: "
	    "the ID token&#39;s RS256 signature does not verify with the "
	    "provider&#39;s key &quot;k1&quot;");
	assert_int_equal(audits(&w, "login.oidc.fail", "%does not verify%"), 1);

	/* 8. the provider rolls to an ES256 key: the set is fetched again */
	provider_rekey(&w.p, "k2", 0);
	sign_in(&w, &r, NULL, 0);
	if (r.status != 200)
		fail_msg("sign-in after the roll: %ld %s", r.status, r.body);
	resp_free(&r);
	dashboard_opens(&w);
	assert_true(th_file_count(w.s.log, "oidc: 1 signing keys from",
	    strlen("oidc: 1 signing keys from")) >= 2);

	/* 9. a slow provider: the exchange is held, others are served */
	served_while_held(&w);
	/* ...and a slow database, on PostgreSQL */
	served_while_db_held(&w);

	/* 10. the provider down: connections refused at once */
	press_button(&w, authz, sizeof(authz));
	at_provider(&w, authz, back, sizeof(back));
	relay_set(&w.p.relay, RELAY_DROP);
	callback(&w, back, &r);
	expect_page(&r, 503, "The server could not reach the test provider to "
	    "sign you in");
	relay_set(&w.p.relay, RELAY_PASS);

	/* 11. revoked: the link stays, and is refused */
	snprintf(args, sizeof(args), "user revoke %ld", lead);
	admin_ok(&w, args, &run);
	th_run_free(&run);
	sign_in(&w, &r, NULL, 0);
	expect_page(&r, 403, "your pcmds access has been revoked");
	assert_int_equal(audits(&w, "login.oidc.fail", "%revoked"), 1);
	pcmdsd_url(&w, "/dashboard", url, sizeof(url));
	req(w.s.ca, "GET", url, &w.browser, NULL, NULL, NULL, &r);
	assert_int_not_equal(r.status, 200);
	resp_free(&r);

	world_stop(&w);
}

/* A certificate valid for other names than the issuer's is refused. */
static void
test_provider_name_verified(void **state)
{
	struct world w;
	struct resp r;
	char url[256], extra[1200], secret[700];
	FILE *fp;
	int i;

	(void)state;
	if (!have_provider())
		skip();
	memset(&w, 0, sizeof(w));
	provider_start(&w.p);
	/* the relay's second address: its certificate does not name it */
	th_server_init(&w.s, NULL);
	snprintf(secret, sizeof(secret), "%s/oidc-client.secret", w.s.dir);
	th_write(secret, SECRET "\n");
	chmod(secret, 0600);
	snprintf(extra, sizeof(extra), "\noidc_issuer = https://127.0.0.2:%d/"
	    "api/oidc\noidc_client_id = " CLIENT "\noidc_client_secret_file = "
	    "%s\noidc_redirect_uri = https://localhost:%d/login/oidc/callback\n"
	    "oidc_ca_file = %s\n", w.p.relay.port[1], secret, w.s.port, w.p.ca);
	assert_non_null(fp = fopen(w.s.conf, "a"));
	fputs(extra, fp);
	fclose(fp);
	th_server_start(&w.s, NULL);
	pcmdsd_url(&w, "/login/oidc", url, sizeof(url));
	req(w.s.ca, "POST", url, &w.browser, NULL, "", "Sec-Fetch-Site: "
	    "same-origin", &r);
	expect_page(&r, 503, "could not be verified");
	assert_int_equal(audits(&w, "login.oidc.fail", "%could not be "
	    "verified%"), 1);
	assert_null(jar_get(&w.browser, "__Host-pcmds-oidc"));
	/* each counts against the address: soon it may not try at all */
	for (i = 0; i < 40; i++) {
		req(w.s.ca, "POST", url, &w.browser, NULL, "", "Sec-Fetch-Site: "
		    "same-origin", &r);
		if (r.status == 429)
			break;
		resp_free(&r);
	}
	expect_page(&r, 429, "Too many failed sign-in attempts");
	assert_int_equal(th_server_stop(&w.s, SIGTERM), 0);
	provider_stop(&w.p);
}

/* pcmdsd serve with these settings added: refused, saying says. */
static void
serve_refused(const char *extra, const char *says)
{
	struct th_server s;
	struct th_run r;

	th_server_init(&s, extra);
	th_server_admin(&s, &r, "serve");
	if (r.status != 1 || strstr(r.err, says) == NULL)
		fail_msg("%s: wanted exit 1 and \"%s\"; got %d: %s", extra, says,
		    r.status, r.err);
	th_run_free(&r);
}

static void
test_settings_refused(void **state)
{
	char secret[700], open_secret[700], extra[2048];
	const char *d = th_tmpdir();

	(void)state;
	snprintf(secret, sizeof(secret), "%s/ok.secret", d);
	th_write(secret, "s\n");
	chmod(secret, 0600);
	snprintf(open_secret, sizeof(open_secret), "%s/open.secret", d);
	th_write(open_secret, "s\n");
	chmod(open_secret, 0644);
	serve_refused("oidc_issuer = http://idp.example\noidc_client_id = c\n"
	    "oidc_client_secret_file = x\noidc_redirect_uri = https://h/login/"
	    "oidc/callback", "must be the provider's https:// address");
	serve_refused("oidc_issuer = https://idp.example\n"
	    "oidc_redirect_uri = https://h/login/oidc/callback",
	    "needs oidc_client_id and oidc_client_secret_file");
	serve_refused("oidc_issuer = https://idp.example\noidc_client_id = c\n"
	    "oidc_client_secret_file = x\noidc_redirect_uri = https://h/"
	    "callback", "followed by /login/oidc/callback");
	serve_refused("oidc_client_id = c", "without oidc_issuer");
	serve_refused("oidc_timeout = 0", "oidc_timeout must be a whole number");
	snprintf(extra, sizeof(extra), "oidc_issuer = https://idp.example\n"
	    "oidc_client_id = c\noidc_client_secret_file = %s\n"
	    "oidc_redirect_uri = https://h/login/oidc/callback", open_secret);
	serve_refused(extra, "can be read or changed by other users");
	snprintf(extra, sizeof(extra), "oidc_issuer = https://idp.example\n"
	    "oidc_client_id = c\noidc_client_secret_file = %s\n"
	    "oidc_redirect_uri = https://h/login/oidc/callback\n"
	    "oidc_ca_file = %s/none.pem", secret, d);
	serve_refused(extra, "none.pem");
}

static void
test_links_by_the_administrator(void **state)
{
	struct th_server s;
	struct th_run r;
	char secret[700], extra[1024], args[256];
	long lead = 0, worker = 0;

	(void)state;
	th_server_init(&s, NULL);
	th_server_user(&s, "place_lead", "NH", &lead);
	th_server_user(&s, "link_worker", "NH", &worker);
	/* without a provider there is nothing to link to */
	snprintf(args, sizeof(args), "user link %ld --oidc-subject abc", lead);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "set oidc_issuer"));
	th_run_free(&r);
	snprintf(secret, sizeof(secret), "%s/c.secret", s.dir);
	th_write(secret, "s\n");
	chmod(secret, 0600);
	snprintf(extra, sizeof(extra), "\noidc_issuer = https://idp.example/"
	    "tenant/v2.0\noidc_client_id = c\noidc_client_secret_file = %s\n"
	    "oidc_redirect_uri = https://localhost/login/oidc/callback\n",
	    secret);
	th_write(th_path(s.dir, "extra"), extra);
	th_cmd(&r, NULL, "sh", "-c", "cat \"$0\" >> \"$1\"", th_path(s.dir,
	    "extra"), s.conf, NULL);
	th_run_free(&r);
	/* link workers use the client, not the dashboard */
	snprintf(args, sizeof(args), "user link %ld --oidc-subject abc", worker);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "is a link worker"));
	th_run_free(&r);
	/* a subject is printable, without spaces */
	snprintf(args, sizeof(args), "%ld", lead);
	th_cmd(&r, NULL, "pcmdsd", "--config", s.conf, "user", "link", args,
	    "--oidc-subject", "a b", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no spaces"));
	th_run_free(&r);
	snprintf(args, sizeof(args), "user link %ld", lead);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 1);
	th_run_free(&r);
	snprintf(args, sizeof(args), "user unlink %ld", lead);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "has no link"));
	th_run_free(&r);
	/* linked, relinked to another subject, unlinked: each audited */
	snprintf(args, sizeof(args), "user link %ld --oidc-subject abc", lead);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	snprintf(args, sizeof(args), "user link %ld --oidc-subject def", lead);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	assert_int_equal(th_sql_long(th_path(s.dir, "pcmds.db"), "SELECT "
	    "count(*) FROM oidc_links"), 1);
	snprintf(args, sizeof(args), "user unlink %ld", lead);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	assert_int_equal(th_sql_long(th_path(s.dir, "pcmds.db"), "SELECT "
	    "count(*) FROM audit WHERE action IN ('user.link', 'user.unlink')"),
	    3);
	th_server_admin(&s, &r, "audit verify");
	assert_int_equal(r.status, 0);
	th_run_free(&r);
}

/* The store's contract (store.h), as every store must keep it. */
static void
test_store_links(void **state)
{
	struct store *st;
	struct store_user a, b;
	struct err_list errs;
	char sub[JWT_SUB_MAX];
	int64_t who = 0;

	(void)state;
	err_init(&errs);
	assert_int_equal(store_open(th_path(th_tmpdir(), "s.db"), &st, &errs),
	    PC_OK);
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "A");
	a.role = ROLE_EVALUATOR;
	b = a;
	assert_int_equal(store_begin(st), PC_OK);
	assert_int_equal(store_user_add(st, &a), PC_OK);
	assert_int_equal(store_user_add(st, &b), PC_OK);
	assert_int_equal(store_oidc_link(st, a.id, "https://i1", "s1", 1),
	    PC_OK);
	/* one identity, one user, and nothing changed by the refusal */
	assert_int_equal(store_oidc_link(st, b.id, "https://i1", "s1", 1),
	    PC_ECONFLICT);
	assert_int_equal(store_oidc_find(st, "https://i1", "s1", &who), PC_OK);
	assert_int_equal(who, a.id);
	/* the same subject at another issuer is another identity */
	assert_int_equal(store_oidc_link(st, b.id, "https://i2", "s1", 1),
	    PC_OK);
	/* a new subject replaces the user's old one at that issuer */
	assert_int_equal(store_oidc_link(st, a.id, "https://i1", "s2", 2),
	    PC_OK);
	assert_int_equal(store_oidc_find(st, "https://i1", "s1", &who),
	    PC_ENOTFOUND);
	assert_int_equal(store_oidc_find(st, "https://i1", "s2", &who), PC_OK);
	assert_int_equal(who, a.id);
	assert_int_equal(store_oidc_subject(st, a.id, "https://i1", sub,
	    sizeof(sub)), PC_OK);
	assert_string_equal(sub, "s2");
	assert_int_equal(store_oidc_subject(st, b.id, "https://i1", sub,
	    sizeof(sub)), PC_ENOTFOUND);
	assert_int_equal(store_oidc_unlink(st, a.id, "https://i1"), PC_OK);
	assert_int_equal(store_oidc_unlink(st, a.id, "https://i1"),
	    PC_ENOTFOUND);
	assert_int_equal(store_commit(st), PC_OK);
	/* a revoked user's link stays: sign-in refuses the user */
	assert_int_equal(store_begin(st), PC_OK);
	assert_int_equal(store_user_revoke(st, b.id, 3), PC_OK);
	assert_int_equal(store_commit(st), PC_OK);
	assert_int_equal(store_oidc_find(st, "https://i2", "s1", &who), PC_OK);
	assert_int_equal(who, b.id);
	store_close(st);
	err_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_refused),
		cmocka_unit_test(test_links_by_the_administrator),
		cmocka_unit_test(test_store_links),
		cmocka_unit_test(test_sign_in_through_glewlwyd),
		cmocka_unit_test(test_provider_name_verified),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_dashboard_browser.c - the dashboard in a real Chromium, as a place
 * lead uses it (tests/ui/dashboard.py, through Debian's chromium-driver
 * and python3-selenium, with the app's shared driver tests/ui/chromium.py):
 * a password set with the one-time code, sign-out and sign-in with it,
 * their own place first, contents and skip links, the all-places rows,
 * take-up per community asset of their place;
 * axe-core's WCAG 2.2 AA rules and no sideways scrolling at 390 px on
 * every HTML page of the router's own table, the bad-period page, and
 * the sign-in through an OpenID Connect provider that cannot be reached
 * (configured at a port nobody listens on);
 * screenshots at 1280 and 390 px under the build directory. The caseload
 * is the demo's (packaging/caseload.awk), recorded and synced with the
 * real client. Without the browser tools the test says SKIPPED.
 */
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "harness.h"
#include "srv.h"

static int
have_tools(void)
{
	struct th_run r;
	int ok;

	if (!th_have("chromium") || !th_have("chromedriver") ||
	    access("/usr/bin/python3", X_OK) != 0)
		return 0;
	th_cmd(&r, NULL, "/usr/bin/python3", "-c", "import selenium", NULL);
	ok = r.status == 0;
	th_run_free(&r);
	return ok;
}

/* base64(SHA-256(SubjectPublicKeyInfo)) of the server's certificate. */
static void
spki_hash(const char *pem, char out[64])
{
	FILE *fp = fopen(pem, "r");
	X509 *x;
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	int len;

	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	assert_true(len > 0);
	SHA256(der, (size_t)len, md);
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
	OPENSSL_free(der);
	X509_free(x);
}

/* A place's caseload recorded offline and synced, as the demo does. */
static void
caseload(struct th_server *s, const char *key, const char *place, int n)
{
	struct th_run r;
	char home[600], csv[700], pv[32], nv[32];

	snprintf(home, sizeof(home), "%s", th_tmpdir());
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", key, "--server", s->url, "--code",
	    th_server_user(s, "link_worker", place, NULL), "--cacert", s->ca,
	    NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	snprintf(csv, sizeof(csv), "%s/caseload.csv", home);
	snprintf(pv, sizeof(pv), "place=%s", place);
	snprintf(nv, sizeof(nv), "n=%d", n);
	th_cmd(&r, NULL, "awk", "-v", "seed=7", "-v", pv, "-v", nv, "-v",
	    "cmds=/dev/null", "-f", "packaging/caseload.awk", NULL);
	assert_int_equal(r.status, 0);
	th_write(csv, r.out);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", csv, NULL);
	if (r.status != 0)
		fail_msg("import: %s", r.err);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	if (r.status != 0)
		fail_msg("sync: %s", r.err);
	th_run_free(&r);
}

/* Sign-in through a provider that is down: the button and its page. */
static void
oidc_unreachable(struct th_server *s)
{
	char secret[600], extra[1400];
	FILE *fp;

	snprintf(secret, sizeof(secret), "%s/oidc.secret", s->dir);
	th_write(secret, "not-used\n");
	chmod(secret, 0600);
	snprintf(extra, sizeof(extra), "\noidc_issuer = https://localhost:%d/"
	    "realms/nhs\noidc_client_id = pcmds\noidc_client_secret_file = %s\n"
	    "oidc_redirect_uri = %s/login/oidc/callback\noidc_name = NHS Care "
	    "Identity Service 2\n", th_free_port(), secret, s->url);
	assert_non_null(fp = fopen(s->conf, "a"));
	fputs(extra, fp);
	fclose(fp);
}

static void
test_dashboard_as_a_place_lead(void **state)
{
	struct th_server s;
	struct th_run r;
	const char *paths[64], *methods[64];
	char spki[64], key[600], routes[700], shots[600], e[7][700];
	const char *env[8];
	const char *argv[] = {"timeout", "600", "/usr/bin/python3",
	    "tests/ui/dashboard.py", NULL};
	size_t n, i, off = 0;
	char list[4096], args[64];
	long lead = 0;
	int k, axe, pages;

	(void)state;
	if (!have_tools()) {
		print_message("chromium, chromium-driver or python3-selenium is "
		    "missing (packaging/deps.sh --check installs them)\n");
		skip();
	}
	th_server_init(&s, NULL);
	oidc_unreachable(&s);
	th_server_start(&s, NULL);
	snprintf(key, sizeof(key), "%s/deploy.key", th_tmpdir());
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", key, NULL);
	th_run_free(&r);
	caseload(&s, key, "NH", 220);
	caseload(&s, key, "BD", 60);
	/* the demo's directories: take-up per asset has rows to show */
	th_server_admin(&s, &r, "assets import packaging/assets-example.csv");
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	/* the router's own table, not a list written here */
	n = api_routes(paths, methods, 64);
	for (i = 0; i < n && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		    "%s %s\n", paths[i], methods[i]);
	snprintf(routes, sizeof(routes), "%s/routes", th_tmpdir());
	th_write(routes, list);
	snprintf(shots, sizeof(shots), "%s/dashboard-shots", th_build());
	mkdir(shots, 0755);
	spki_hash(th_path(s.dir, "server.pem"), spki);
	snprintf(e[0], sizeof(e[0]), "PCMDS_BASE=%s", s.url);
	snprintf(e[1], sizeof(e[1]), "PCMDS_SPKI=%s", spki);
	snprintf(e[2], sizeof(e[2]), "PCMDS_CODE=%s", th_server_user(&s,
	    "place_lead", "NH", &lead));
	snprintf(e[3], sizeof(e[3]), "PCMDS_ROUTES=%s", routes);
	axe = th_axe(e[4], sizeof(e[4]));
	snprintf(e[5], sizeof(e[5]), "PCMDS_SHOTS=%s", shots);
	snprintf(e[6], sizeof(e[6]), "PCMDS_PROFILE=%s/profile", th_tmpdir());
	for (k = 0; k < 7; k++)
		env[k] = e[k];
	env[7] = NULL;
	th_exec(&r, argv, NULL, env);
	print_message("%s", r.out);
	if (r.status != 0)
		fail_msg("the dashboard journey failed (%d):\n%s%s", r.status,
		    r.out, r.err);
	assert_non_null(strstr(r.out, "ok signed in with the password"));
	assert_non_null(strstr(r.out, "ok routes "));
	assert_non_null(strstr(r.out, "ok provider down"));
	pages = th_axe_pages(r.out);
	th_run_free(&r);
	/* the password is kept as scrypt only, and a new code resets it */
	assert_true(th_sql_long(th_path(s.dir, "pcmds.db"), "SELECT COUNT(*) "
	    "FROM passwords WHERE hash LIKE 'scrypt$32768$8$1$%'") == 1);
	/* a new code resets the password */
	snprintf(args, sizeof(args), "user code %ld", lead);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	assert_true(th_sql_long(th_path(s.dir, "pcmds.db"), "SELECT COUNT(*) "
	    "FROM passwords") == 0);
	print_message("screenshots: %s\n", shots);
	th_server_stop(&s, SIGTERM);
	th_axe_verdict(axe, pages);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dashboard_as_a_place_lead),
	};

	return cmocka_run_group_tests_name("dashboard_browser", tests, NULL,
	    NULL);
}

/*
 * test_browser.c - the dashboard in a real browser (Debian's chromium,
 * headless, driven by WebDriver): type a one-time code into the sign-in
 * form, follow the redirect with the session cookie, check the rendered
 * page for every place, and save a screenshot under the build directory.
 * Chromium trusts the test server by its key
 * (--ignore-certificate-errors-spki-list), not by switching verification
 * off. Without chromium, its driver or Selenium the test says SKIPPED.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "harness.h"

static const char *const places[] = {"Barking and Dagenham",
    "City and Hackney", "Havering", "Newham", "Redbridge", "Tower Hamlets",
    "Waltham Forest"};

/* base64(SHA-256(SubjectPublicKeyInfo)) of the server's certificate. */
static void
spki_hash(const char *pem, char out[64])
{
	FILE *fp = fopen(pem, "r");
	X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	int len;

	assert_non_null(x);
	fclose(fp);
	len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	assert_true(len > 0);
	SHA256(der, (size_t)len, md);
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
	OPENSSL_free(der);
	X509_free(x);
}

/*
 * Signs in as a person would, through the form (sign-in is a POST from
 * the server's own page), driving Chromium with WebDriver (Debian's
 * chromium-driver and python3-selenium); then prints the page (what =
 * --dump-dom) or saves a screenshot (what = --screenshot=FILE).
 */
static const char driver[] =
    "import sys\n"
    "from selenium import webdriver\n"
    "from selenium.webdriver.chrome.options import Options\n"
    "from selenium.webdriver.chrome.service import Service\n"
    "from selenium.webdriver.common.by import By\n"
    "from selenium.webdriver.support.ui import WebDriverWait\n"
    "url, code, profile, spki, what = sys.argv[1:6]\n"
    "o = Options()\n"
    "o.binary_location = '/usr/bin/chromium'\n"
    "for a in ['--headless', '--no-sandbox', '--disable-gpu',\n"
    "    '--disable-quic', '--no-first-run',\n"
    "    '--disable-background-networking', '--disable-component-update',\n"
    "    '--disable-sync', '--window-size=1280,3200',\n"
    "    '--user-data-dir=' + profile,\n"
    "    '--ignore-certificate-errors-spki-list=' + spki]:\n"
    "    o.add_argument(a)\n"
    "d = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), "
    "options=o)\n"
    "try:\n"
    "    d.get(url + '/login')\n"
    "    d.find_element(By.ID, 'code').send_keys(code)\n"
    "    d.find_element(By.CSS_SELECTOR, \"form[action='/login'] \"\n"
    "        \"button[type=submit]\").click()\n"
    "    WebDriverWait(d, 60).until(lambda d: d.current_url.endswith("
    "'/dashboard') and d.execute_script('return document.readyState') "
    "== 'complete')\n"
    "    if what.startswith('--screenshot='):\n"
    "        d.save_screenshot(what[len('--screenshot='):])\n"
    "    else:\n"
    "        sys.stdout.write(d.page_source)\n"
    "finally:\n"
    "    d.quit()\n";

static void
chromium(struct th_server *s, const char *profile, const char *spki,
    const char *what, const char *code, struct th_run *r)
{
	const char *argv[] = {"timeout", "120", "/usr/bin/python3", "-c", driver,
	    s->url, code, profile, spki, what, NULL};

	th_exec(r, argv, NULL, NULL);
}

static void
test_dashboard_in_chromium(void **state)
{
	struct th_server s;
	struct th_run r;
	char spki[64], shot[600], args[64], code2[32];
	long id;
	size_t i, len;
	char *png;

	(void)state;
	if (!th_have("chromium") || !th_have("chromedriver") ||
	    system("/usr/bin/python3 -c 'import selenium' 2>/dev/null") != 0) {
		print_message("chromium, chromium-driver or python3-selenium is "
		    "not installed (packaging/deps.sh --check installs them)\n");
		skip();
	}
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	spki_hash(th_path(s.dir, "server.pem"), spki);
	/* two one-time codes for one place lead: one per browser run */
	snprintf(code2, sizeof(code2), "%s", th_server_user(&s, "place_lead",
	    "NH", &id));
	snprintf(args, sizeof(args), "user code %ld --json", id);
	th_server_admin(&s, &r, args);
	assert_int_equal(r.status, 0);
	{
		cJSON *j = th_json(r.out);

		th_run_free(&r);
		chromium(&s, th_tmpdir(), spki, "--dump-dom",
		    cJSON_GetObjectItem(j, "code")->valuestring, &r);
		cJSON_Delete(j);
	}
	if (r.status != 0)
		fail_msg("chromium failed (%d): %s", r.status, r.err);
	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (strstr(r.out, places[i]) == NULL)
			fail_msg("the rendered page lacks %s:\n%.2000s", places[i],
			    r.out);
	assert_non_null(strstr(r.out, "Signed in as Tester"));
	assert_non_null(strstr(r.out, "Reach against the population"));
	assert_non_null(strstr(r.out, "<svg class=\"strip\""));
	assert_non_null(strstr(r.out, "Referrals per 1,000 residents by place"));
	assert_non_null(strstr(r.out, "Life satisfaction: paired change"));
	assert_null(strstr(r.out, "One-time code from your administrator"));
	th_run_free(&r);
	snprintf(shot, sizeof(shot), "--screenshot=%s/dashboard.png",
	    th_build());
	chromium(&s, th_tmpdir(), spki, shot, code2, &r);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	png = th_slurp(shot + strlen("--screenshot="), &len);
	assert_non_null(png);
	assert_true(len > 20000);
	assert_memory_equal(png, "\x89PNG", 4);
	free(png);
	print_message("screenshot: %s\n", shot + strlen("--screenshot="));
	th_server_stop(&s, SIGTERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dashboard_in_chromium),
	};

	return cmocka_run_group_tests_name("browser", tests, NULL, NULL);
}

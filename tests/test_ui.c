/*
 * test_ui.c - the app's server (pcmds ui) as a browser and an attacker
 * meet it, over real HTTP on loopback: the single-use launch secret and
 * its cookie, Host (DNS rebinding), Origin and CSRF checks, another
 * user's connection, the headers on every route of the router's own
 * table, forms that keep what was typed and name the problem, and an
 * NHS number typed into the app found nowhere on disk, and the date
 * taken afresh when the app is left open past midnight. The store is
 * encrypted: the app's first page asks for its passphrase.
 */
#include <sys/stat.h>

#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"

#define NHS	"943 476 5919"
#define NHS_DIGITS	"9434765919"

/* A build with AddressSanitizer (gcc's macro, or clang's feature). */
#if defined(__SANITIZE_ADDRESS__)
#define PCMDS_TEST_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PCMDS_TEST_SANITIZED	1
#endif
#endif
#ifndef PCMDS_TEST_SANITIZED
#define PCMDS_TEST_SANITIZED	0
#endif

static char home[600];
static struct th_ui ui;
static const struct th_ui *target = &ui;	/* which app req() asks */
static char cookie[160];	/* "pcmds_ui=..." */
static char csrf[80];

struct resp {
	long	 status;
	char	*body;
	size_t	 len;
	char	 headers[8192];
	size_t	 hlen;
};

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

static size_t
on_head(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t k = size * n;

	if (r->hlen + k < sizeof(r->headers)) {
		memcpy(r->headers + r->hlen, p, k);
		r->hlen += k;
		r->headers[r->hlen] = '\0';
	}
	return k;
}

/* One request; hdrs are extra header lines (NULL-terminated, or NULL). */
static void
req(const char *method, const char *path, const char *const *hdrs,
    const char *body, struct resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512];

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", target->base, path);
	for (; hdrs != NULL && *hdrs != NULL; hdrs++)
		h = curl_slist_append(h, *hdrs);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) != CURLE_OK)
		fail_msg("%s %s: no answer", method, path);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body == NULL)
		r->body = strdup("");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void
resp_free(struct resp *r)
{
	free(r->body);
}

/* A header's value (static), or NULL. */
static const char *
header(const struct resp *r, const char *name)
{
	static char v[1024];
	const char *p = r->headers;
	size_t n = strlen(name);

	while ((p = strcasestr(p, name)) != NULL) {
		if ((p == r->headers || p[-1] == '\n') && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			snprintf(v, sizeof(v), "%.*s", (int)strcspn(p, "\r\n"),
			    p);
			return v;
		}
		p += n;
	}
	return NULL;
}

/* A page with the session cookie. */
static void
get(const char *path, struct resp *r)
{
	char ck[200];
	const char *h[] = {ck, NULL};

	snprintf(ck, sizeof(ck), "Cookie: %s", cookie);
	req("GET", path, h, NULL, r);
}

/* A form as the app's own page sends it. */
static void
post(const char *path, const char *fields, struct resp *r)
{
	char ck[200], origin[96], *body;
	const char *h[] = {ck, origin, NULL};

	snprintf(ck, sizeof(ck), "Cookie: %s", cookie);
	snprintf(origin, sizeof(origin), "Origin: %s", ui.base);
	assert_true(asprintf(&body, "csrf=%s&%s", csrf, fields) > 0);
	req("POST", path, h, body, r);
	free(body);
}

static long
records(void)
{
	struct th_run r;
	long n;
	cJSON *j;

	th_cmd(&r, NULL, "pcmds", "--home", home, "status", "--json", NULL);
	assert_int_equal(r.status, 0);
	j = th_json(r.out);
	n = (long)(cJSON_GetObjectItem(j, "pending")->valuedouble +
	    cJSON_GetObjectItem(j, "sent")->valuedouble);
	cJSON_Delete(j);
	th_run_free(&r);
	return n;
}

/* The app's launch link followed, as the browser it opens would. */
static void
launch(void)
{
	struct resp rs;
	const char *p;

	req("GET", ui.launch + strlen(ui.base), NULL, NULL, &rs);
	assert_int_equal(rs.status, 303);
	p = header(&rs, "Set-Cookie");
	assert_non_null(p);
	snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(p, ";"), p);
	resp_free(&rs);
	get("/", &rs);
	assert_int_equal(rs.status, 200);
	p = strstr(rs.body, "name=\"csrf\" value=\"");
	assert_non_null(p);
	snprintf(csrf, sizeof(csrf), "%.64s", p + strlen("name=\"csrf\" "
	    "value=\""));
	resp_free(&rs);
}

static int
up(void **state)
{
	struct th_run r;
	const char *key;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	key = th_path(home, "deploy.key");
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", key, NULL);
	th_run_free(&r);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", key, "--worker", "lw1", "--place", "NH", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_ui_start(&ui, home);	/* locked: no agent holds the keys */
	launch();
	return 0;
}

static int
down(void **state)
{
	(void)state;
	th_ui_stop(&ui);
	return 0;
}

static int
status_exit(void)
{
	struct th_run r;
	int st;

	th_cmd(&r, NULL, "pcmds", "--home", home, "status", NULL);
	st = r.status;
	th_run_free(&r);
	return st;
}

/*
 * Locked, every page is the unlock page; a form posted meanwhile stores
 * nothing; a wrong passphrase says so; the right one lets in, goes on to
 * the page asked for, and (for the app's own sync) unlocks the store for
 * the command line too while the app runs.
 */
static void
test_unlock_page(void **state)
{
	struct resp r;
	long before = -1;

	(void)state;
	get("/", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Unlock the records"));
	assert_non_null(strstr(r.body, "type=\"password\""));
	assert_null(strstr(r.body, "Caseload</h1>"));
	resp_free(&r);
	get("/quarantine", &r);
	assert_non_null(strstr(r.body, "name=\"next\" value=\"/quarantine\""));
	resp_free(&r);
	assert_int_equal(status_exit(), 7);	/* and the command line too */
	post("/referral/new", "no_nhs_number=yes&referred_on=today&source=self"
	    "&reasons=stress&service=general&age=30&gender=male&ethnicity=K&"
	    "consent_evaluation=yes", &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "locked, so nothing was changed"));
	resp_free(&r);
	post("/unlock", "passphrase=not+the+one", &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "wrong passphrase"));
	assert_non_null(strstr(r.body, "Unlock the records"));
	resp_free(&r);
	post("/unlock", "passphrase=", &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	assert_int_equal(status_exit(), 7);
	post("/unlock", "next=%2Fquarantine&passphrase=correct+horse+battery+"
	    "staple", &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/quarantine");
	resp_free(&r);
	get("/", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Caseload</h1>"));
	resp_free(&r);
	/* nothing was stored while locked; the command line is unlocked */
	before = records();
	assert_int_equal(before, 0);
	assert_int_equal(status_exit(), 0);
	/* unlocked already: the page has nothing to do but go home */
	post("/unlock", "passphrase=x", &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/");
	resp_free(&r);
}

/* The launch URL works once, gives the cookie, and leaves a clean URL. */
static void
test_launch_once(void **state)
{
	struct resp r;
	const char *sc;

	(void)state;
	req("GET", ui.launch + strlen(ui.base), NULL, NULL, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "A launch link works once"));
	assert_null(header(&r, "Set-Cookie"));
	resp_free(&r);
	/* a guessed secret is refused the same way */
	req("GET", "/launch?k=00000000000000000000000000000000000000000000000"
	    "00000000000000000", NULL, NULL, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	/* no cookie: nothing but the sentence to start again */
	req("GET", "/", NULL, NULL, &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "run pcmds ui again"));
	assert_null(strstr(r.body, "Caseload</h1>"));
	resp_free(&r);
	/* the cookie a launch gives is HttpOnly and SameSite=Strict */
	{
		struct th_ui u2;

		th_ui_start(&u2, home);
		target = &u2;
		req("GET", u2.launch + strlen(u2.base), NULL, NULL, &r);
		target = &ui;
		assert_int_equal(r.status, 303);
		assert_string_equal(header(&r, "Location"), "/");
		sc = header(&r, "Set-Cookie");
		assert_non_null(strstr(sc, "HttpOnly"));
		assert_non_null(strstr(sc, "SameSite=Strict"));
		assert_non_null(strstr(sc, "Path=/"));
		resp_free(&r);
		th_ui_stop(&u2);
	}
}

/* DNS rebinding: a page asked for under another Host is refused. */
static void
test_host(void **state)
{
	char ck[200], host[96];
	const char *h[] = {ck, host, NULL};
	struct resp r;

	(void)state;
	snprintf(ck, sizeof(ck), "Cookie: %s", cookie);
	snprintf(host, sizeof(host), "Host: attacker.example:%d", ui.port);
	req("GET", "/", h, NULL, &r);
	assert_int_equal(r.status, 403);
	assert_null(strstr(r.body, "Caseload"));
	resp_free(&r);
	snprintf(host, sizeof(host), "Host: 127.0.0.1:%d", ui.port + 1);
	req("GET", "/", h, NULL, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	snprintf(host, sizeof(host), "Host: localhost:%d", ui.port);
	req("GET", "/", h, NULL, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static const char valid_referral[] = "nhs_number=943+476+5919&referred_on="
    "today&source=general_practice&reasons=stress&service=general&age=67&"
    "gender=female&ethnicity=N&consent_evaluation=yes";

/* Forged POSTs (no cookie, other Origin, no or wrong CSRF) change nothing. */
static void
test_forged_posts(void **state)
{
	char ck[200], origin[96], *body;
	const char *with_all[] = {ck, origin, NULL};
	const char *no_origin[] = {ck, NULL};
	const char *no_cookie[] = {origin, NULL};
	struct resp r;
	long before = records();

	(void)state;
	snprintf(ck, sizeof(ck), "Cookie: %s", cookie);
	assert_true(asprintf(&body, "csrf=%s&%s", csrf, valid_referral) > 0);
	snprintf(origin, sizeof(origin), "Origin: http://attacker.example");
	req("POST", "/referral/new", with_all, body, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%d",
	    ui.port + 1);
	req("POST", "/referral/new", with_all, body, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	req("POST", "/referral/new", no_origin, body, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	snprintf(origin, sizeof(origin), "Origin: %s", ui.base);
	req("POST", "/referral/new", no_cookie, body, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	req("POST", "/referral/new", with_all, valid_referral, &r);
	assert_int_equal(r.status, 403);	/* no CSRF token */
	resp_free(&r);
	free(body);
	assert_true(asprintf(&body, "csrf=%.63s%c&%s", csrf,
	    csrf[63] == '0' ? '1' : '0', valid_referral) > 0);
	req("POST", "/referral/new", with_all, body, &r);
	assert_int_equal(r.status, 403);	/* a wrong one */
	assert_non_null(strstr(r.body, "nothing was changed"));
	resp_free(&r);
	free(body);
	assert_int_equal(records(), before);
	/* the same form, as the app sends it, is stored */
	post("/referral/new", valid_referral, &r);
	assert_int_equal(r.status, 303);
	assert_non_null(strstr(header(&r, "Location"), "?saved="));
	resp_free(&r);
	assert_int_equal(records(), before + 1);
}

/* Another user of the computer, with the cookie even, is refused. */
static void
test_other_user(void **state)
{
	char ck[200], url[96];
	struct th_run r;

	(void)state;
	if (getuid() != 0 || !th_have("setpriv") || !th_have("curl")) {
		print_message("needs root, setpriv and curl to act as another "
		    "user\n");
		skip();
	}
	snprintf(ck, sizeof(ck), "Cookie: %s", cookie);
	snprintf(url, sizeof(url), "%s/", ui.base);
	th_cmd(&r, NULL, "setpriv", "--reuid=65534", "--regid=65534",
	    "--clear-groups", "curl", "-s", "-w", "%{http_code}", "-H", ck, url,
	    NULL);
	assert_non_null(strstr(r.out, "belongs to another user"));
	assert_non_null(strstr(r.out, "403"));
	th_run_free(&r);
}

/* Every route of the router's own table answers with the strict headers. */
static void
test_headers_every_route(void **state)
{
	struct th_run rt;
	char *line, *save = NULL, path[256], ref[40] = "", *p;
	struct resp r;
	int n = 0;

	(void)state;
	th_cmd(&rt, NULL, "pcmds", "--home", home, "list", "--json", NULL);
	p = strstr(rt.out, "\"id\":");
	assert_non_null(p);
	snprintf(ref, sizeof(ref), "%.36s", strchr(p + 5, '"') + 1);
	th_run_free(&rt);
	th_cmd(&rt, NULL, "pcmds", "ui", "--routes", NULL);
	assert_int_equal(rt.status, 0);
	for (line = strtok_r(rt.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char methods[32], pattern[128];
		const char *csp;

		if (sscanf(line, "%31[^/]%127s", methods, pattern) != 2 ||
		    strstr(methods, "GET") == NULL)
			continue;
		if ((p = strchr(pattern, '{')) != NULL)
			snprintf(path, sizeof(path), "%.*s%s%s",
			    (int)(p - pattern), pattern, ref,
			    strchr(p, '}') + 1);
		else
			snprintf(path, sizeof(path), "%s", pattern);
		get(path, &r);
		if (strcmp(pattern, "/launch") != 0 && r.status != 200 &&
		    r.status != 303)
			fail_msg("%s: %ld", path, r.status);
		csp = header(&r, "Content-Security-Policy");
		assert_non_null(csp);
		assert_non_null(strstr(csp, "default-src 'none'"));
		assert_non_null(strstr(csp, "script-src 'self'"));
		assert_null(strstr(csp, "unsafe"));
		assert_string_equal(header(&r, "Cache-Control"), "no-store");
		assert_string_equal(header(&r, "X-Frame-Options"), "DENY");
		assert_string_equal(header(&r, "X-Content-Type-Options"),
		    "nosniff");
		/* nothing from anywhere else */
		assert_null(strstr(r.body, "src=\"http"));
		assert_null(strstr(r.body, "href=\"http"));
		assert_null(strstr(r.body, "<script>"));
		resp_free(&r);
		n++;
	}
	th_run_free(&rt);
	assert_true(n >= 12);
}

/* A refused form keeps what was typed and names each problem. */
static void
test_forms_keep_input(void **state)
{
	struct resp r;
	long before = records();

	(void)state;
	post("/referral/new", "nhs_number=943+476+5919&referred_on=31%2F11%2F"
	    "2026&source=pharmacy&reasons=stress&reasons=housing&service="
	    "general&age=15&gender=male&ethnicity=K&consent_evaluation=no&"
	    "imd_decile=11", &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "Referred on 2026-11-31 is not a real "
	    "date (November 2026 has 30 days)"));
	assert_non_null(strstr(r.body, "IMD decile must be a whole number "
	    "from 1 to 10; got 11"));
	assert_non_null(strstr(r.body, "value=\"31/11/2026\""));
	assert_non_null(strstr(r.body, "value=\"pharmacy\" selected"));
	assert_non_null(strstr(r.body, "value=\"housing\" checked"));
	assert_non_null(strstr(r.body, "value=\"943 476 5919\""));
	assert_non_null(strstr(r.body, "aria-invalid=\"true\""));
	assert_non_null(strstr(r.body, "href=\"#f-referred_on\""));
	resp_free(&r);
	/* tomorrow is in the future, and said to be */
	post("/referral/new", "no_nhs_number=yes&referred_on=tomorrow&source="
	    "self&reasons=stress&service=general&age=15&gender=male&ethnicity="
	    "K&consent_evaluation=no", &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "is in the future: dates cannot be "
	    "later than today"));
	resp_free(&r);
	/* a bad NHS number: the rest is checked too, nothing stored */
	post("/referral/new", "nhs_number=943+476+5918&referred_on=today&"
	    "source=self&service=general&age=30&gender=male&ethnicity=K&"
	    "consent_evaluation=no", &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "Modulus 11"));
	assert_non_null(strstr(r.body, "Reasons for referral is required"));
	resp_free(&r);
	assert_int_equal(records(), before);
}

static void
referral_id(const struct resp *r, char id[40])
{
	const char *loc = header(r, "Location");

	assert_non_null(loc);
	snprintf(id, 40, "%.36s", loc + 3);
}

/* Rules checked early: under 16 no ONS4 form; a date before the referral. */
static void
test_rules_early(void **state)
{
	struct resp r;
	char id[40], path[128];

	(void)state;
	post("/referral/new", "no_nhs_number=yes&referred_on=01%2F11%2F2026&"
	    "source=self&reasons=stress&service=children_young_people&age=15&"
	    "gender=male&ethnicity=K&consent_evaluation=no", &r);
	assert_int_equal(r.status, 303);
	referral_id(&r, id);
	resp_free(&r);
	snprintf(path, sizeof(path), "/r/%s/assess?stage=baseline", id);
	get(path, &r);
	assert_non_null(strstr(r.body, "ONS4 is asked of people aged 16 and "
	    "over; this referral records age 15"));
	assert_null(strstr(r.body, "Overall, how satisfied"));
	resp_free(&r);
	snprintf(path, sizeof(path), "/r/%s/contact", id);
	post(path, "contact_on=31%2F10%2F2026&mode=phone&minutes=20&attended="
	    "yes", &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "Contact on 2026-10-31 is before the "
	    "referral date 2026-11-01"));
	assert_non_null(strstr(r.body, "value=\"31/10/2026\""));
	assert_non_null(strstr(r.body, "value=\"phone\" checked"));
	assert_non_null(strstr(r.body, "value=\"20\""));
	resp_free(&r);
}

/* Found by NHS number; the number is nowhere in the store or the URL. */
static void
test_find_and_nothing_kept(void **state)
{
	static const char *const files[] = {"pcmds.db", "pcmds.db-wal",
	    "config"};
	struct resp r;
	size_t i;
	char *loc;

	(void)state;
	post("/find", "nhs_number=9434765919", &r);
	assert_int_equal(r.status, 303);
	loc = strdup(header(&r, "Location"));
	assert_non_null(strstr(loc, "/r/"));
	assert_null(strstr(loc, NHS_DIGITS));
	resp_free(&r);
	get(loc, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "General practice"));
	assert_null(strstr(r.body, NHS_DIGITS));
	resp_free(&r);
	free(loc);
	post("/find", "nhs_number=4010232137", &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "No referral on this computer is for "
	    "that NHS number"));
	resp_free(&r);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *f = th_path(home, files[i]);

		assert_true(th_file_count(f, NHS_DIGITS, 10) <= 0);
		assert_true(th_file_count(f, NHS, strlen(NHS)) <= 0);
	}
}

/* Closing from the app ends the process cleanly. */
static void
test_quit(void **state)
{
	struct resp r;
	int st;

	(void)state;
	post("/quit", "", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "The app is closed"));
	resp_free(&r);
	st = th_ui_stop(&ui);
	assert_true(st == 0 || st == 128 + SIGTERM);
}

/* libfaketime, as Debian installs it (packaging/deps.sh --check). */
static int
faketime_lib(char *out, size_t len)
{
	glob_t g;
	int found;

	if (glob("/usr/lib/*/faketime/libfaketime.so.1", 0, NULL, &g) != 0)
		return 0;
	found = g.gl_pathc > 0;
	if (found)
		snprintf(out, len, "%s", g.gl_pathv[0]);
	globfree(&g);
	return found;
}

/* The moved clock of the app: "@YYYY-MM-DD HH:MM:SS" from then on. */
static void
clock_at(const char *file, const char *day, const char *time_of_day)
{
	FILE *fp = fopen(file, "w");

	assert_non_null(fp);
	fprintf(fp, "@%s %s\n", day, time_of_day);
	assert_int_equal(fclose(fp), 0);
}

/* A referral dated day (YYYY-MM-DD), as the form sends it. */
static void
referral_on(const char *day, struct resp *r)
{
	char fields[256];

	snprintf(fields, sizeof(fields), "no_nhs_number=yes&referred_on=%.2s"
	    "%%2F%.2s%%2F%.4s&source=self&reasons=stress&service=general&"
	    "age=30&gender=male&ethnicity=K&consent_evaluation=no", day + 8,
	    day + 5, day);
	post("/referral/new", fields, r);
}

/*
 * The app left open past midnight takes the device's new date: a
 * referral dated the new today is stored, not refused as in the future.
 * The app runs on a clock moved by libfaketime (its timestamp file read
 * at every call), from ten to midnight to ten past, while it runs.
 */
static void
test_open_past_midnight(void **state)
{
	char lib[PATH_MAX], preload[PATH_MAX + 16], file[PATH_MAX];
	char stamp[PATH_MAX + 32], day[16], next[16];
	const char *env[] = {preload, stamp, "FAKETIME_NO_CACHE=1",
	    "FAKETIME_DONT_FAKE_MONOTONIC=1", "TZ=UTC0", NULL};
	time_t now = time(NULL), tomorrow = now + 86400;
	struct tm tm;
	struct resp r;
	long before;

	(void)state;
#if PCMDS_TEST_SANITIZED
	print_message("the sanitizers' runtime must come first, so "
	    "libfaketime cannot be preloaded into a sanitized pcmds; the "
	    "plain build's make check runs this\n");
	skip();
#endif
	if (!faketime_lib(lib, sizeof(lib))) {
		print_message("libfaketime is not installed (the faketime "
		    "package): the app's clock cannot be moved\n");
		skip();
	}
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	gmtime_r(&tomorrow, &tm);
	strftime(next, sizeof(next), "%Y-%m-%d", &tm);
	snprintf(file, sizeof(file), "%s", th_path(home, "faketime"));
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", lib);
	snprintf(stamp, sizeof(stamp), "FAKETIME_TIMESTAMP_FILE=%s", file);
	clock_at(file, day, "23:50:00");
	th_ui_start_env(&ui, home, env);	/* the first app has quit */
	launch();
	post("/unlock", "passphrase=correct+horse+battery+staple", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	before = records();
	referral_on(day, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	/* before midnight the next day is the future: the clock is moved */
	referral_on(next, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(r.body, "is in the future"));
	resp_free(&r);
	clock_at(file, next, "00:10:00");
	referral_on(next, &r);
	if (r.status != 303) {
		const char *why = strstr(r.body, "is in the future");

		fail_msg("a referral dated the new today, %s, answered %ld%s",
		    next, r.status, why != NULL ? ": refused as in the future" :
		    "");
	}
	resp_free(&r);
	assert_int_equal(records(), before + 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlock_page),
		cmocka_unit_test(test_launch_once),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_forged_posts),
		cmocka_unit_test(test_other_user),
		cmocka_unit_test(test_headers_every_route),
		cmocka_unit_test(test_forms_keep_input),
		cmocka_unit_test(test_rules_early),
		cmocka_unit_test(test_find_and_nothing_kept),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_open_past_midnight),
	};

	return cmocka_run_group_tests_name("ui", tests, up, down);
}

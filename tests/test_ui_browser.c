/*
 * test_ui_browser.c - the link worker's app in a real Chromium, as a
 * person uses it (tests/ui/browser.py, with Debian's chromium-driver and
 * python3-selenium): a whole referral by keyboard only, every form with
 * bad input, the directory received from a real pcmdsd, find by NHS
 * number, a correction, a sync, a refused record fixed; axe-core's WCAG
 * 2.2 AA rules and no sideways scrolling at 390 px on every route of the
 * router's table, error pages included; screenshots at 1280 and 390 px
 * under the build directory. Afterwards the browser's profile is
 * searched for the NHS number and a provider name typed into the app:
 * neither may be there. Without the browser tools the test says SKIPPED.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Made up, and valid (Modulus 11): typed into the app, looked for after. */
#define NHS		"401 023 2137"
#define NHS_DIGITS	"4010232137"
#define SECRET		"Quillfeather Lantern Society"

static const char *needles[6];
static size_t nneedles;
static char found[4096];

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

/* needle as UTF-16LE (how browsers keep some strings), static. */
static const char *
utf16(const char *s, size_t *len)
{
	static char b[2][256];
	static int k;
	char *p = b[k++ % 2];
	size_t i;

	for (i = 0; s[i] != '\0' && 2 * i + 1 < sizeof(b[0]); i++) {
		p[2 * i] = s[i];
		p[2 * i + 1] = '\0';
	}
	*len = 2 * i;
	return p;
}

static int
scan_file(const char *path, const struct stat *st, int type, struct FTW *f)
{
	size_t len, i, n;
	char *data;

	(void)st;
	(void)f;
	if (type != FTW_F || (data = th_slurp(path, &len)) == NULL)
		return 0;
	for (i = 0; i < nneedles; i++) {
		const char *w = needles[i];

		n = strlen(w);
		if (memmem(data, len, w, n) != NULL ||
		    memmem(data, len, utf16(w, &n), n) != NULL) {
			size_t off = strlen(found);

			snprintf(found + off, sizeof(found) - off, "%s in "
			    "%s\n", w,
			    path);
		}
	}
	free(data);
	return 0;
}

/* The search can fail: it finds what is planted, plain or UTF-16. */
static void
scan_finds_planted(void)
{
	const char *dir = th_tmpdir();
	size_t n;
	const char *w = utf16(SECRET, &n);
	FILE *fp;

	th_write(th_path(dir, "plain"), "xx" NHS_DIGITS "yy");
	fp = fopen(th_path(dir, "wide"), "wb");
	assert_non_null(fp);
	fwrite(w, 1, n, fp);
	fclose(fp);
	found[0] = '\0';
	assert_int_equal(nftw(dir, scan_file, 16, FTW_PHYS), 0);
	assert_non_null(strstr(found, NHS_DIGITS " in "));
	assert_non_null(strstr(found, SECRET " in "));
}

/* A server with NH's directory, and an enrolled client for NH. */
static void
deployment(struct th_server *s, char *home, size_t len)
{
	struct th_run r;
	char args[700], key[700];
	const char *code;

	th_server_init(s, NULL);
	th_server_start(s, NULL);
	snprintf(args, sizeof(args), "assets import "
	    "packaging/assets-example.csv");
	th_server_admin(s, &r, args);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	code = th_server_user(s, "link_worker", "NH", NULL);
	snprintf(home, len, "%s", th_tmpdir());
	snprintf(key, sizeof(key), "%s/deploy.key", home);
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", key, NULL);
	th_run_free(&r);
	/* not unlocked: the app's first page asks for the passphrase */
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", key, "--server", s->url, "--code", code, "--cacert",
	    s->ca, NULL);
	if (r.status != 0)
		fail_msg("setup: %s", r.err);
	th_run_free(&r);
}

static void
run_browser(const char *home, const struct th_ui *ui, const char *profile,
    int *axe, struct th_run *r)
{
	char e[10][700], shots[600], routes[700];
	const char *env[11];
	const char *argv[] = {"timeout", "600", "/usr/bin/python3",
	    "tests/ui/browser.py", NULL};
	struct th_run rt;
	int i;

	snprintf(shots, sizeof(shots), "%s/ui-shots", th_build());
	mkdir(shots, 0755);
	snprintf(routes, sizeof(routes), "%s/routes", home);
	th_cmd(&rt, NULL, "pcmds", "ui", "--routes", NULL);
	assert_int_equal(rt.status, 0);
	th_write(routes, rt.out);
	th_run_free(&rt);
	snprintf(e[0], sizeof(e[0]), "PCMDS_UI_LAUNCH=%s", ui->launch);
	snprintf(e[1], sizeof(e[1]), "PCMDS_UI_ROUTES=%s", routes);
	*axe = th_axe(e[2], sizeof(e[2]));
	snprintf(e[3], sizeof(e[3]), "PCMDS_SHOTS=%s", shots);
	snprintf(e[4], sizeof(e[4]), "PCMDS_PROFILE=%s", profile);
	snprintf(e[5], sizeof(e[5]), "PCMDS_CLIENT_DB=%s/pcmds.db", home);
	snprintf(e[6], sizeof(e[6]), "PCMDS_NHS=%s", NHS);
	snprintf(e[7], sizeof(e[7]), "PCMDS_SECRET=%s", SECRET);
	snprintf(e[8], sizeof(e[8]), "PCMDS_QUARANTINE=%s/tools/quarantine",
	    th_build());
	snprintf(e[9], sizeof(e[9]), "PCMDS_PASS=%s", TH_PASS);
	for (i = 0; i < 10; i++)
		env[i] = e[i];
	env[10] = NULL;
	th_exec(r, argv, NULL, env);
}

static void
test_app_in_chromium(void **state)
{
	struct th_server s;
	struct th_ui ui;
	struct th_run r;
	char home[600], profile[700], db[700];
	const char *nhs_spaced = NHS;
	int axe, pages;

	(void)state;
	if (!have_tools()) {
		print_message("chromium, chromium-driver or python3-selenium "
		    "is "
		    "missing (packaging/deps.sh --check installs them)\n");
		skip();
	}
	deployment(&s, home, sizeof(home));
	snprintf(profile, sizeof(profile), "%s/profile", th_tmpdir());
	th_ui_start(&ui, home);
	run_browser(home, &ui, profile, &axe, &r);
	print_message("%s", r.out);
	if (r.status != 0)
		fail_msg("the browser journey failed (%d):\n%s%s", r.status,
		    r.out, r.err);
	assert_non_null(strstr(r.out, "keys referral "));
	assert_non_null(strstr(r.out, "ok routes "));
	pages = th_axe_pages(r.out);
	th_run_free(&r);
	/* closed from the app itself */
	assert_int_equal(th_ui_stop(&ui), 0);
	/* the records reached the real server */
	snprintf(db, sizeof(db), "%s/pcmds.db", s.dir);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM records") >= 8);
	assert_true(th_sql_long(db, "SELECT COUNT(*) FROM records WHERE json "
	    "LIKE '%\"asset\":\"nh-befriend-01\"%'") == 1);
	/* the browser kept nothing typed into the app */
	needles[0] = NHS_DIGITS;
	needles[1] = nhs_spaced;
	needles[2] = SECRET;
	needles[3] = TH_PASS;	/* typed into the unlock page */
	nneedles = 4;
	scan_finds_planted();
	found[0] = '\0';
	assert_int_equal(nftw(profile, scan_file, 16, FTW_PHYS), 0);
	if (found[0] != '\0')
		fail_msg("the browser's profile keeps what was typed:\n%s",
		    found);
	/* nor did the server's log or the client's store */
	assert_true(th_file_count(s.log, NHS_DIGITS, 10) <= 0);
	assert_true(th_file_count(th_path(home, "pcmds.db"), NHS_DIGITS, 10) <=
	    0);
	/* and the provider typed in is sealed in the store */
	assert_true(th_file_count(th_path(home, "pcmds.db"), SECRET,
	    strlen(SECRET)) <= 0);
	th_server_stop(&s, SIGTERM);
	th_axe_verdict(axe, pages);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_in_chromium),
	};

	return cmocka_run_group_tests_name("ui_browser", tests, NULL, NULL);
}

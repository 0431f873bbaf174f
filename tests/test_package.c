/*
 * test_package.c - the Debian packages and the systemd unit: contents,
 * lintian without errors, installed into a scratch root and run, man
 * pages that render, the unit's exposure score and verification. A tool
 * that is missing makes its test SKIPPED (counted by tests/run.sh), never
 * a silent pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static char deb_client[600], deb_server[600], root[600];

static int
up(void **state)
{
	char *v = th_slurp("common/version.h", NULL), *q;
	char version[32], arch[32] = "amd64";
	struct th_run r;

	(void)state;
	q = strchr(strstr(v, "PCMDS_VERSION\t\""), '"');
	snprintf(version, sizeof(version), "%.*s", (int)strcspn(q + 1, "\""),
	    q + 1);
	free(v);
	th_cmd(&r, NULL, "dpkg", "--print-architecture", NULL);
	if (r.status == 0)
		snprintf(arch, sizeof(arch), "%.*s", (int)strcspn(r.out, "\n"),
		    r.out);
	th_run_free(&r);
	snprintf(deb_client, sizeof(deb_client), "%s/deb/pcmds_%s_%s.deb",
	    th_build(), version, arch);
	snprintf(deb_server, sizeof(deb_server), "%s/deb/pcmdsd_%s_%s.deb",
	    th_build(), version, arch);
	snprintf(root, sizeof(root), "%s/root", th_tmpdir());
	return 0;
}

static void
need_debs(void)
{
	if (th_slurp(deb_client, NULL) == NULL) {
		print_message("no packages in %s/deb: they are built by make "
		    "check in the plain (not SAN) build\n", th_build());
		skip();
	}
}

static void
test_contents(void **state)
{
	static const char *const client[] = {"./usr/bin/pcmds",
	    "./usr/share/man/man1/pcmds.1.gz",
	    "./usr/share/bash-completion/completions/pcmds",
	    "./usr/share/doc/pcmds/copyright", NULL};
	static const char *const server[] = {"./usr/sbin/pcmdsd",
	    "./usr/share/man/man8/pcmdsd.8.gz",
	    "./usr/share/man/man5/pcmdsd.conf.5.gz",
	    "./lib/systemd/system/pcmdsd.service", "./etc/pcmds/pcmdsd.conf",
	    "./usr/share/pcmds/places-nel.csv",
	    "./usr/share/doc/pcmdsd/copyright", NULL};
	const char *const *p;
	struct th_run r;

	(void)state;
	need_debs();
	th_cmd(&r, NULL, "dpkg-deb", "-c", deb_client, NULL);
	assert_int_equal(r.status, 0);
	for (p = client; *p != NULL; p++)
		if (strstr(r.out, *p) == NULL)
			fail_msg("pcmds package lacks %s", *p);
	th_run_free(&r);
	th_cmd(&r, NULL, "dpkg-deb", "-c", deb_server, NULL);
	assert_int_equal(r.status, 0);
	for (p = server; *p != NULL; p++)
		if (strstr(r.out, *p) == NULL)
			fail_msg("pcmdsd package lacks %s", *p);
	assert_non_null(strstr(r.out, "root/root"));
	th_run_free(&r);
	th_cmd(&r, NULL, "dpkg-deb", "-f", deb_server, "Depends", NULL);
	assert_non_null(strstr(r.out, "libssl3"));
	assert_non_null(strstr(r.out, "libevent-openssl"));
	assert_non_null(strstr(r.out, "adduser"));
	th_run_free(&r);
	th_cmd(&r, NULL, "dpkg-deb", "-I", deb_server, "conffiles", NULL);
	assert_string_equal(r.out, "/etc/pcmds/pcmdsd.conf\n");
	th_run_free(&r);
}

static void
test_lintian(void **state)
{
	struct th_run r;

	(void)state;
	need_debs();
	if (!th_have("lintian")) {
		print_message("lintian is not installed\n");
		skip();
	}
	th_cmd(&r, NULL, "lintian", "--fail-on", "error", deb_client, deb_server,
	    NULL);
	if (r.status != 0)
		fail_msg("lintian:\n%s%s", r.out, r.err);
	th_run_free(&r);
}

static void
test_installed(void **state)
{
	struct th_run r;
	char bin[700], man[700], csv[700], *places, *builtin;

	(void)state;
	need_debs();
	th_cmd(&r, NULL, "mkdir", "-p", root, NULL);
	th_run_free(&r);
	th_cmd(&r, NULL, "dpkg", "-x", deb_server, root, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_cmd(&r, NULL, "dpkg", "-x", deb_client, root, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	snprintf(bin, sizeof(bin), "%s/usr/sbin/pcmdsd", root);
	th_cmd(&r, NULL, bin, "--version", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(strncmp(r.out, "pcmdsd ", 7), 0);
	th_run_free(&r);
	th_cmd(&r, NULL, bin, "places", "default", NULL);
	builtin = r.out;
	r.out = NULL;
	th_run_free(&r);
	snprintf(csv, sizeof(csv), "%s/usr/share/pcmds/places-nel.csv", root);
	places = th_slurp(csv, NULL);
	assert_string_equal(places, builtin);	/* one copy of the data */
	free(places);
	free(builtin);
	snprintf(bin, sizeof(bin), "%s/usr/bin/pcmds", root);
	th_cmd(&r, NULL, bin, "--version", NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	snprintf(man, sizeof(man),
	    "%s/usr/share/bash-completion/completions/pcmds", root);
	th_cmd(&r, NULL, "bash", "-n", man, NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
}

/*
 * Every man page the packages ship, and every one the unit's
 * Documentation= names, renders without a warning. Without man the test
 * says it was skipped (packaging/deps.sh --check installs man-db).
 */
static void
test_man_pages(void **state)
{
	static const char *const pages[] = {"man1/pcmds.1.gz",
	    "man5/pcmdsd.conf.5.gz", "man8/pcmdsd.8.gz", NULL};
	const char *const *p;
	char path[800], *unit, *doc;
	struct th_run r;

	(void)state;
	need_debs();	/* and the scratch root test_installed made */
	if (!th_have("man")) {
		print_message("man is not installed (packaging/deps.sh --check "
		    "installs man-db)\n");
		skip();
	}
	for (p = pages; *p != NULL; p++) {
		snprintf(path, sizeof(path), "%s/usr/share/man/%s", root, *p);
		th_cmd(&r, NULL, "man", "--warnings", "-l", "-Tutf8", path, NULL);
		if (r.status != 0 || strstr(r.err, "warning") != NULL)
			fail_msg("man %s: %s", *p, r.err);
		assert_true(strlen(r.out) > 500);
		th_run_free(&r);
	}
	/* the pages the unit points at are among them */
	snprintf(path, sizeof(path), "%s/lib/systemd/system/pcmdsd.service",
	    root);
	assert_non_null(unit = th_slurp(path, NULL));
	assert_non_null(doc = strstr(unit, "\nDocumentation="));
	assert_int_equal(strncmp(doc, "\nDocumentation=man:pcmdsd(8) "
	    "man:pcmdsd.conf(5)\n", 48), 0);
	free(unit);
}

static void
test_systemd_unit(void **state)
{
	struct th_run r;
	char unit[700], text_path[700], *text, *p;
	double exposure;

	(void)state;
	need_debs();
	if (!th_have("systemd-analyze")) {
		print_message("systemd-analyze is not installed\n");
		skip();
	}
	snprintf(unit, sizeof(unit), "%s/lib/systemd/system/pcmdsd.service",
	    root);
	th_cmd(&r, NULL, "systemd-analyze", "security", "--offline=true", unit,
	    NULL);
	p = strstr(r.out, "Overall exposure level for pcmdsd.service: ");
	if (p == NULL)
		fail_msg("no exposure level: %s %s", r.out, r.err);
	exposure = atof(p + strlen("Overall exposure level for "
	    "pcmdsd.service: "));
	print_message("systemd exposure level: %.1f\n", exposure);
	assert_true(exposure <= 1.2);
	th_run_free(&r);
	/*
	 * verify, pointing at the binary of the scratch root; its man pages
	 * are test_man_pages's to check (systemd-analyze would run man)
	 */
	text = th_slurp(unit, NULL);
	/* no core dump can carry the server secret or records to disk */
	assert_non_null(strstr(text, "\nLimitCORE=0\n"));
	assert_non_null(p = strstr(text, "ExecStart=/usr/sbin/pcmdsd"));
	snprintf(text_path, sizeof(text_path), "%s/pcmdsd.service", th_tmpdir());
	{
		FILE *fp = fopen(text_path, "w");

		fprintf(fp, "%.*sExecStart=%s/usr/sbin/pcmdsd%s", (int)(p - text),
		    text, root, p + strlen("ExecStart=/usr/sbin/pcmdsd"));
		fclose(fp);
	}
	free(text);
	{
		const char *argv[] = {"systemd-analyze", "verify", "--man=no",
		    text_path, NULL};

		th_exec(&r, argv, NULL, NULL);
	}
	if (r.status != 0 || r.err[0] != '\0')
		fail_msg("systemd-analyze verify: %s", r.err);
	th_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contents),
		cmocka_unit_test(test_lintian),
		cmocka_unit_test(test_installed),
		cmocka_unit_test(test_man_pages),
		cmocka_unit_test(test_systemd_unit),
	};

	return cmocka_run_group_tests_name("package", tests, up, NULL);
}

/*
 * test_demo.c - make demo-serve as a person runs it: on a terminal, it
 * shows impact per place and a place's take-up of community assets, the
 * dashboard link it prints answers while the server runs, and Ctrl-C
 * ends it cleanly (the script exits 0, so make reports no error).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "harness.h"

static void
test_demo_serve(void **state)
{
	/* through make, as the README says, so make's own words are seen */
	const char *argv[] = {"make", "-s", "demo-serve", NULL, NULL};
	char build[600];
	struct th_server s;
	struct th_http h;
	struct th_pty p;
	struct termios tio;
	char path[700], *link, *ca;
	int port = 0, st;

	(void)state;
	snprintf(build, sizeof(build), "B=%s", th_build());
	argv[3] = build;
	setenv("PCMDS_DEMO_RESIDENTS", "50000", 1);	/* a small caseload */
	th_pty_start(&p, argv);
	th_pty_expect_within(&p, "Dashboard: https://localhost:", 300);
	th_pty_expect(&p, "The server runs until Ctrl-C");
	/* the sign-in page, the code beside it (never in the URL), the CA */
	link = strstr(p.seen, "Dashboard: https://localhost:");
	assert_int_equal(sscanf(link, "Dashboard: https://localhost:%d%699s",
	    &port, path), 2);
	assert_non_null(strstr(link, "with the one-time code"));
	assert_non_null(ca = strstr(p.seen, "own CA, "));
	memset(&s, 0, sizeof(s));
	s.port = port;
	snprintf(s.url, sizeof(s.url), "https://localhost:%d", port);
	snprintf(s.ca, sizeof(s.ca), "%.*s", (int)strcspn(ca + 8, ","),
	    ca + 8);
	/* the link answers: the server is live */
	th_https(&s, "GET", path, NULL, NULL, 0, &h);
	assert_true(h.status == 200 || h.status == 303);
	th_http_free(&h);
	/*
	 * A terminal sends a Ctrl-C's signal, then flushes what is waiting
	 * to be read from it: on a loaded machine the trap's last words,
	 * written in between, went with the flush (the kernel's n_tty
	 * isig()). NOFLSH keeps them; the keystroke and its signal stay a
	 * person's.
	 */
	assert_int_equal(tcgetattr(p.fd, &tio), 0);
	tio.c_lflag |= NOFLSH;
	assert_int_equal(tcsetattr(p.fd, TCSANOW, &tio), 0);
	th_pty_send(&p, "\003");	/* Ctrl-C */
	/* as long as a loaded machine may take to schedule the script */
	th_pty_expect_within(&p, "Server stopped; demo files removed.", 60);
	/* make itself ends by the SIGINT, as an interrupted command should,
	 * but says nothing of an error */
	st = th_pty_finish(&p);
	assert_true(st == 0 || st == 128 + SIGINT);
	/* impact per place and one place's take-up of its directory, with
	 * the demo's hundreds of recording commands kept off the screen */
	assert_non_null(strstr(p.seen, "All places"));
	assert_non_null(strstr(p.seen, "Community assets: take-up, Newham"));
	assert_non_null(strstr(p.seen, "nh-walk-01"));
	assert_null(strstr(p.seen, "pcmds: stored"));
	assert_null(strstr(p.seen, "Error 130"));
	assert_null(strstr(p.seen, "make: ***"));
	th_pty_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_serve),
	};

	return cmocka_run_group_tests_name("demo", tests, NULL, NULL);
}

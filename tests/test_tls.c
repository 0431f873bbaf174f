/*
 * test_tls.c - the server's TLS as a scanner sees it (Debian's sslscan):
 * no SSLv2/3, TLS 1.0 or 1.1; only forward-secret AEAD ciphers; no
 * renegotiation; a key of at least 128 bits' strength (EC P-256, RSA
 * 3072). Without sslscan the test says SKIPPED.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
test_sslscan(void **state)
{
	struct th_server s;
	struct th_run r;
	char target[64], *line, *save = NULL, *sect = "";
	int accepted = 0;

	(void)state;
	if (!th_have("sslscan")) {
		print_message("sslscan is not installed (packaging/deps.sh "
		    "--check installs it)\n");
		skip();
	}
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	snprintf(target, sizeof(target), "127.0.0.1:%d", s.port);
	th_cmd(&r, NULL, "sslscan", "--no-colour", target, NULL);
	th_server_stop(&s, SIGTERM);
	assert_int_equal(r.status, 0);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == ' ' && line[1] == ' ') {
			sect = line + 2;
			continue;
		}
		if (strstr(sect, "Protocols") != NULL) {
			if ((strncmp(line, "SSLv", 4) == 0 ||
			    strncmp(line, "TLSv1.0", 7) == 0 ||
			    strncmp(line, "TLSv1.1", 7) == 0) &&
			    strstr(line, "disabled") == NULL)
				fail_msg("old protocol offered: %s", line);
			if (strncmp(line, "TLSv1.2", 7) == 0 ||
			    strncmp(line, "TLSv1.3", 7) == 0)
				assert_non_null(strstr(line, "enabled"));
		} else if (strstr(sect, "Cipher") != NULL &&
		    (strncmp(line, "Accepted", 8) == 0 ||
		    strncmp(line, "Preferred", 9) == 0)) {
			int aead = strstr(line, "GCM") != NULL ||
			    strstr(line, "CHACHA20-POLY1305") != NULL ||
			    strstr(line, "CHACHA20_POLY1305") != NULL;
			int fs = strstr(line, "TLSv1.3") != NULL ||
			    strstr(line, " ECDHE-") != NULL;

			if (!aead || !fs)
				fail_msg("weak cipher accepted: %s", line);
			accepted++;
		} else if (strstr(sect, "renegotiation") != NULL &&
		    strstr(line, "Session renegotiation") != NULL)
			assert_non_null(strstr(line, "not supported"));
		else if (strncmp(line, "ECC Key Strength:", 17) == 0)
			assert_true(atoi(line + 17) >= 128);
		else if (strncmp(line, "RSA Key Strength:", 17) == 0)
			assert_true(atoi(line + 17) >= 2048);
	}
	print_message("%d cipher suites accepted, all ECDHE with AEAD\n",
	    accepted);
	assert_true(accepted >= 2);
	th_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sslscan),
	};

	return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}

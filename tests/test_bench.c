/*
 * test_bench.c - the benchmark program runs end to end (small sizes), so
 * that make bench does not rot. It asserts what was measured, never how
 * fast: timing belongs to make bench, not to tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
test_bench_quick(void **state)
{
	static const char *const rows[] = {"Ingest over TLS, easy order",
	    "Ingest over TLS, realistic order", "bare SQLite insert of the same "
	    "rows", "Realistic over easy order", "pcmds sync of",
	    "Server RSS, idle", "Loading the store", "Server RSS with",
	    "Impact query, one place", "Impact query, all places",
	    "Dashboard render", "Export, NDJSON", "bare SQLite read of the "
	    "same", "devices syncing at once", "Client command latency",
	    "**The limit**", "encrypted beside plain",
	    "Recording: pcmds referral", "Listing: pcmds list",
	    "Import: pcmds import", "Sync: pcmds sync", "Unlocking with the "
	    "passphrase"};
	char exe[512], *md;
	const char *outp = th_path(th_tmpdir(), "bench.md");
	struct th_run r;
	size_t i;

	(void)state;
	snprintf(exe, sizeof(exe), "%s/bench/pcmds-bench", th_build());
	{
		const char *argv[] = {exe, "--quick", "--out", outp, NULL};

		th_exec(&r, argv, NULL, NULL);
	}
	if (r.status != 0)
		fail_msg("pcmds-bench --quick failed (%d):\n%s\n%s", r.status,
		    r.out, r.err);
	md = th_slurp(outp, NULL);
	assert_non_null(md);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strstr(md, rows[i]) == NULL)
			fail_msg("the report lacks \"%s\"", rows[i]);
	assert_non_null(strstr(md, ", 0 errors;"));
	free(md);
	th_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bench_quick),
	};

	return cmocka_run_group_tests_name("bench", tests, NULL, NULL);
}

/*
 * test_store_sqlite.c - the SQLite store's background checkpoints keep
 * its WAL to about their threshold while a writer commits without a
 * pause, as batches do under load: the WAL starts again from its
 * beginning, rather than growing by every commit.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "harness.h"
#include "store.h"

#define CKPT_PAGES	10000	/* store_sqlite.c's threshold */
#define ENTRY_BYTES	3500	/* an entry's object: most of a page */
#define PER_COMMIT	1000
#define COMMITS		60	/* about six thresholds' worth of pages */

static void
test_wal_starts_again(void **state)
{
	static const uint8_t key[SEC_SHA256_LEN] = {9, 9, 9};
	static char object[ENTRY_BYTES + 1];
	const char *db = th_path(th_tmpdir(), "wal.db");
	char wal[4200];
	struct err_list errs;
	struct store *st;
	struct stat sb;
	long page, written = 0;
	int c, i;

	(void)state;
	memset(object, 'x', ENTRY_BYTES);
	err_init(&errs);
	if (store_open(db, &st, &errs) != PC_OK ||
	    store_background_checkpoints(st, &errs) != PC_OK)
		fail_msg("store: %s", errs.n ? errs.v[0].msg : "?");
	err_free(&errs);
	store_audit_key_set(st, key);
	for (c = 0; c < COMMITS; c++) {
		assert_int_equal(store_begin(st), PC_OK);
		for (i = 0; i < PER_COMMIT; i++) {
			/* each entry its own, as each batch's is */
			snprintf(object, 20, "%09d-%09d", c, i);
			object[19] = 'x';
			assert_int_equal(audit_log(st, 1700000000 + c, "test",
			    "test.fill", object, "ok"), PC_OK);
		}
		assert_int_equal(store_commit(st), PC_OK);
		written += PER_COMMIT;
	}
	snprintf(wal, sizeof(wal), "%s-wal", db);
	assert_int_equal(stat(wal, &sb), 0);
	store_close(st);
	page = th_sql_long(db, "PRAGMA page_size");
	/* every entry kept, and far more written than the WAL may hold */
	assert_int_equal(th_sql_long(db, "SELECT count(*) FROM audit WHERE "
	    "action = 'test.fill'"), written);
	assert_true(written * ENTRY_BYTES > 5L * CKPT_PAGES * page);
	print_message("WAL %lld bytes after %ld entries of %d bytes\n",
	    (long long)sb.st_size, written, ENTRY_BYTES);
	/*
	 * the threshold, and what the commits made while it was copied
	 * (growing without end, it would hold every page written)
	 */
	assert_true(sb.st_size < 3L * CKPT_PAGES * (page + 24));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wal_starts_again),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

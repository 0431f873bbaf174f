/*
 * test_csv.c - RFC 4180 reading and writing, hostile files included.
 */
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "harness.h"

static FILE *
mem(const char *s, size_t n)
{
	FILE *fp = fmemopen((void *)s, n, "r");

	assert_non_null(fp);
	return fp;
}

static void
test_read(void **state)
{
	static const char text[] = "\xef\xbb\xbf" "a,b,c\r\n"
	    "1,\"two, with comma\",\"say \"\"hi\"\"\"\r\n"
	    "x,\"multi\nline\",\n"
	    ",,\n"
	    "last,row,no-newline";
	struct csv_reader r;
	struct err_list errs;
	FILE *fp = mem(text, sizeof(text) - 1);

	(void)state;
	err_init(&errs);
	csv_init(&r, fp);
	assert_int_equal(csv_next(&r, &errs), 1);
	assert_int_equal(r.nfields, 3);
	assert_string_equal(r.field[0], "a");	/* byte-order mark gone */
	assert_int_equal(csv_next(&r, &errs), 1);
	assert_string_equal(r.field[1], "two, with comma");
	assert_string_equal(r.field[2], "say \"hi\"");
	assert_int_equal(csv_next(&r, &errs), 1);
	assert_string_equal(r.field[1], "multi\nline");
	assert_string_equal(r.field[2], "");
	assert_int_equal(r.row, 3);
	assert_int_equal(csv_next(&r, &errs), 1);
	assert_int_equal(r.nfields, 3);
	assert_int_equal(r.line, 5);	/* the quoted line break counted */
	assert_int_equal(csv_next(&r, &errs), 1);
	assert_string_equal(r.field[2], "no-newline");
	assert_int_equal(csv_next(&r, &errs), 0);
	assert_int_equal(errs.n, 0);
	csv_free(&r);
	fclose(fp);
	err_free(&errs);
}

static void
test_bad_rows(void **state)
{
	static const char unclosed[] = "a,\"b\nc,d\n";
	static const char after[] = "a,\"b\"x,c\nok,1,2\n";
	static const char nul[] = "a,b\0c,d\n";
	char big[CSV_ROW_MAX + 100];
	struct csv_reader r;
	struct err_list errs;
	FILE *fp;

	(void)state;
	err_init(&errs);
	fp = mem(unclosed, sizeof(unclosed) - 1);
	csv_init(&r, fp);
	assert_int_equal(csv_next(&r, &errs), -1);
	assert_true(err_has(&errs, E_FORMAT));
	csv_free(&r);
	fclose(fp);

	err_clear(&errs);
	fp = mem(after, sizeof(after) - 1);
	csv_init(&r, fp);
	assert_int_equal(csv_next(&r, &errs), -1);
	assert_int_equal(r.nfields, 0);		/* no stale fields */
	assert_int_equal(csv_next(&r, &errs), 1);	/* reading goes on */
	assert_string_equal(r.field[0], "ok");
	csv_free(&r);
	fclose(fp);

	err_clear(&errs);
	fp = mem(nul, sizeof(nul) - 1);
	csv_init(&r, fp);
	assert_int_equal(csv_next(&r, &errs), -1);
	csv_free(&r);
	fclose(fp);

	err_clear(&errs);
	memset(big, 'x', sizeof(big));
	fp = mem(big, sizeof(big));
	csv_init(&r, fp);
	assert_int_equal(csv_next(&r, &errs), -1);
	assert_non_null(strstr(errs.v[0].msg, "too long"));
	csv_free(&r);
	fclose(fp);
	err_free(&errs);
}

static void
test_write(void **state)
{
	const char *row[] = {"plain", "a,b", "say \"hi\"", "=HYPERLINK(1)",
	    "-3.5", "@x", "", " lead"};
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(csv_row(&b, row, 8, 1), PC_OK);
	assert_string_equal(buf_str(&b), "plain,\"a,b\",\"say \"\"hi\"\"\","
	    "'=HYPERLINK(1),-3.5,'@x,,\" lead\"\r\n");
	buf_reset(&b);
	assert_int_equal(csv_row(&b, row + 3, 1, 0), PC_OK);
	assert_string_equal(buf_str(&b), "=HYPERLINK(1)\r\n");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_bad_rows),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}

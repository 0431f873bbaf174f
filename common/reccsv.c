/*
 * reccsv.c - flattening records into CSV rows.
 */
#include <string.h>

#include "canon.h"
#include "csv.h"
#include "rec.h"
#include "reccsv.h"

#define MAX_COLS	64

static const char *cols[MAX_COLS];
static size_t ncols;

/* Envelope fields, then each kind's in table order, each name once. */
static void
columns(void)
{
	size_t i, j;
	int k;

	if (ncols > 0)
		return;
	for (i = 0; i < rec_envelope_n; i++)
		cols[ncols++] = rec_envelope[i].name;
	for (k = 0; k < KIND_N; k++) {
		const struct kind_info *ki = rec_kind_info((enum rec_kind)k);

		for (i = 0; i < ki->n; i++) {
			for (j = 0; j < ncols; j++)
				if (strcmp(cols[j], ki->fields[i].name) == 0)
					break;
			if (j == ncols && ncols < MAX_COLS)
				cols[ncols++] = ki->fields[i].name;
		}
	}
}

static void
cell(const cJSON *v, struct buf *out)
{
	const cJSON *it;

	buf_reset(out);
	if (v == NULL)
		return;
	if (cJSON_IsString(v))
		buf_adds(out, v->valuestring);
	else if (cJSON_IsBool(v))
		buf_adds(out, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNumber(v))
		buf_addf(out, "%lld", (long long)v->valuedouble);
	else if (cJSON_IsArray(v))
		cJSON_ArrayForEach(it, v)
			buf_addf(out, "%s%s", it == v->child ? "" : ";",
			    cJSON_IsString(it) ? it->valuestring : "");
	else
		canon_json(v, out);
}

size_t
reccsv_columns(const char *const **names)
{
	columns();
	*names = cols;
	return ncols;
}

pc_rc
reccsv_header(struct buf *b, const char *first, const char *last)
{
	const char *row[MAX_COLS + 2];
	size_t i, n = 0;

	columns();
	if (first != NULL)
		row[n++] = first;
	for (i = 0; i < ncols; i++)
		row[n++] = cols[i];
	if (last != NULL)
		row[n++] = last;
	return csv_row(b, row, n, 0);
}

pc_rc
reccsv_row(struct buf *b, const cJSON *rec, const char *first,
    const char *last)
{
	struct buf cells[MAX_COLS];
	const char *row[MAX_COLS + 2];
	size_t i, n = 0;
	pc_rc rc;

	columns();
	if (first != NULL)
		row[n++] = first;
	for (i = 0; i < ncols; i++) {
		buf_init(&cells[i], 0);
		cell(cJSON_GetObjectItemCaseSensitive(rec, cols[i]), &cells[i]);
		row[n++] = buf_str(&cells[i]);
	}
	if (last != NULL)
		row[n++] = last;
	rc = csv_row(b, row, n, 1);
	for (i = 0; i < ncols; i++)
		buf_free(&cells[i]);
	return rc;
}

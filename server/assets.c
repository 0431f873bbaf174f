/*
 * assets.c - loading directories of community assets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "csv.h"
#include "fs.h"
#include "rec.h"

enum { COL_ID, COL_NAME, COL_CATEGORY, COL_PLACE, COL_CONTACT, COL_NOTES,
    NCOLS };

static const char *const col_names[NCOLS] = {
	"id", "name", "category", "place", "contact", "notes",
};

/* Checked the way record text is: UTF-8, lengths, no control characters. */
static const struct field text_fields[NCOLS] = {
	[COL_NAME] = {"name", FT_TEXT, 0, 1, 200, NULL, "Name", NULL},
	[COL_CONTACT] = {"contact", FT_TEXT, 0, 1, 200, NULL, "Contact", NULL},
	[COL_NOTES] = {"notes", FT_TEXT, 0, 1, 500, NULL, "Notes", NULL},
};

struct rows {
	struct store_asset	*v;
	int			 n, cap;
};

static const char *
cell(const struct csv_reader *r, const int cols[NCOLS], int c)
{
	if (cols[c] < 0 || (size_t)cols[c] >= r->nfields)
		return "";
	return r->field[cols[c]];
}

/* One value through the record validator's rules for its field. */
static void
check(const struct field *f, const char *v, const char *col, long row,
    struct err_list *errs)
{
	struct rec_opts ro = {0};
	struct err_list e;
	cJSON *j = cJSON_CreateString(v);

	err_init(&e);
	rec_check_value(f, j, col, &ro, &e);
	if (e.n > 0)
		err_add(errs, e.v[0].code, col, "row %ld: %s", row, e.v[0].msg);
	err_free(&e);
	cJSON_Delete(j);
}

static pc_rc
parse_row(struct store *st, const struct csv_reader *r,
    const int cols[NCOLS], struct store_asset *a, struct err_list *errs)
{
	struct store_place p;
	size_t before = errs->n;
	int c, k;

	memset(a, 0, sizeof(*a));
	for (c = 0; c <= COL_PLACE; c++)
		if (cell(r, cols, c)[0] == '\0') {
			err_add(errs, E_REQUIRED, col_names[c], "row %ld: id, "
			    "name, category and place are required", r->row);
			return PC_EINVAL;
		}
	check(rec_field(KIND_SUPPORT, "asset"), cell(r, cols, COL_ID), "id",
	    r->row, errs);
	for (c = COL_NAME; c <= COL_NOTES; c++)
		if (text_fields[c].name != NULL && cell(r, cols, c)[0] != '\0')
			check(&text_fields[c], cell(r, cols, c), col_names[c],
			    r->row, errs);
	if ((k = code_find(&codes_support, cell(r, cols, COL_CATEGORY))) < 0)
		err_add(errs, E_ENUM, "category", "row %ld: category \"%s\" is "
		    "not a support category (pcmds codes category lists them)",
		    r->row, cell(r, cols, COL_CATEGORY));
	else
		snprintf(a->category, sizeof(a->category), "%s",
		    codes_support.v[k].code);
	if (store_place_get(st, cell(r, cols, COL_PLACE), &p) != PC_OK)
		err_add(errs, E_PLACE, "place", "row %ld: place %s is not one "
		    "of the deployment's places (pcmdsd places list)", r->row,
		    cell(r, cols, COL_PLACE));
	snprintf(a->id, sizeof(a->id), "%s", cell(r, cols, COL_ID));
	snprintf(a->place, sizeof(a->place), "%s", cell(r, cols, COL_PLACE));
	snprintf(a->name, sizeof(a->name), "%s", cell(r, cols, COL_NAME));
	snprintf(a->contact, sizeof(a->contact), "%s",
	    cell(r, cols, COL_CONTACT));
	snprintf(a->notes, sizeof(a->notes), "%s", cell(r, cols, COL_NOTES));
	a->active = 1;
	return errs->n == before ? PC_OK : PC_EINVAL;
}

static pc_rc
header(const struct csv_reader *r, int cols[NCOLS], const char *what,
    struct err_list *errs)
{
	size_t i;
	int c;

	for (c = 0; c < NCOLS; c++) {
		cols[c] = -1;
		for (i = 0; i < r->nfields; i++)
			if (strcmp(r->field[i], col_names[c]) == 0)
				cols[c] = (int)i;
	}
	for (c = 0; c <= COL_PLACE; c++)
		if (cols[c] < 0) {
			err_add(errs, E_REQUIRED, "", "%s: the header must "
			    "name "
			    "id, name, category and place (and optionally "
			    "contact and notes)", what);
			return PC_EINVAL;
		}
	return PC_OK;
}

static pc_rc
rows_add(struct rows *rs, struct store *st, const struct csv_reader *r,
    const int cols[NCOLS], struct err_list *errs)
{
	struct store_asset *a;
	int i;

	if (rs->n == rs->cap) {
		int ncap = rs->cap ? rs->cap * 2 : 32;
		void *nv = realloc(rs->v, (size_t)ncap * sizeof(*rs->v));

		if (nv == NULL)
			return PC_ENOMEM;
		rs->v = nv;
		rs->cap = ncap;
	}
	a = &rs->v[rs->n];
	if (parse_row(st, r, cols, a, errs) != PC_OK)
		return PC_EINVAL;
	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].place, a->place) == 0 &&
		    strcmp(rs->v[i].id, a->id) == 0) {
			err_add(errs, E_CONFLICT, "id", "row %ld: %s %s is "
			    "listed twice", r->row, a->place, a->id);
			return PC_EINVAL;
		}
	rs->n++;
	return PC_OK;
}

static pc_rc
read_rows(struct store *st, FILE *fp, const char *what, struct rows *rs,
    struct err_list *errs)
{
	struct csv_reader r;
	int cols[NCOLS], got;
	pc_rc rc = PC_OK, one;

	csv_init(&r, fp);
	if (csv_next(&r, errs) != 1 || header(&r, cols, what, errs) != PC_OK) {
		csv_free(&r);
		return PC_EINVAL;
	}
	while (rc != PC_ENOMEM && (got = csv_next(&r, errs)) != 0) {
		if (got < 0) {
			rc = PC_EINVAL;
			continue;
		}
		if (r.nfields == 1 && r.field[0][0] == '\0')
			continue;
		if ((one = rows_add(rs, st, &r, cols, errs)) != PC_OK)
			rc = one;
	}
	csv_free(&r);
	return rc;
}

/* Puts every row, then retires each listed place's other entries. */
static pc_rc
store_rows(struct store *st, const struct rows *rs, struct assets_count *n)
{
	const char **keep;
	int i, j, k;
	pc_rc rc = PC_OK;

	if ((keep = calloc((size_t)rs->n + 1, sizeof(*keep))) == NULL)
		return PC_ENOMEM;
	for (i = 0; rc == PC_OK && i < rs->n; i++)
		rc = store_asset_put(st, &rs->v[i]);
	for (i = 0; rc == PC_OK && i < rs->n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(rs->v[j].place, rs->v[i].place) == 0)
				break;
		if (j < i)
			continue;	/* place done */
		for (k = 0, j = i; j < rs->n; j++)
			if (strcmp(rs->v[j].place, rs->v[i].place) == 0)
				keep[k++] = rs->v[j].id;
		rc = store_asset_retire(st, rs->v[i].place, keep, (size_t)k);
		n->places++;
	}
	free(keep);
	return rc;
}

pc_rc
assets_import(struct store *st, const char *text, size_t len,
    const char *what, struct assets_count *n, struct err_list *errs)
{
	FILE *fp = fmemopen((void *)text, len, "r");
	struct rows rs = {NULL, 0, 0};
	pc_rc rc;

	memset(n, 0, sizeof(*n));
	if (fp == NULL)
		return PC_ENOMEM;
	rc = read_rows(st, fp, what, &rs, errs);
	fclose(fp);
	if (rc == PC_OK && rs.n == 0) {
		err_add(errs, E_REQUIRED, "", "%s lists no assets", what);
		rc = PC_EINVAL;
	}
	if (rc == PC_OK)
		rc = store_rows(st, &rs, n);
	n->entries = rc == PC_OK ? rs.n : 0;
	free(rs.v);
	return rc;
}

pc_rc
assets_import_file(struct store *st, const char *path, struct assets_count *n,
    struct err_list *errs)
{
	struct buf b;
	pc_rc rc;

	buf_init(&b, 8 << 20);
	if ((rc = fs_read_file(path, &b, errs)) == PC_OK)
		rc = assets_import(st, buf_str(&b), b.len, path, n, errs);
	buf_free(&b);
	return rc;
}

/*
 * places.c - loading the places file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fs.h"
#include "places.h"
#include "rec.h"

const char places_default_csv[] =
#include "places_nel.inc"	/* from packaging/places-nel.csv */

static int
col(const struct csv_reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfields; i++)
		if (strcmp(r->field[i], name) == 0)
			return (int)i;
	return -1;
}

static pc_rc
parse_row(const struct csv_reader *r, const int cols[4], struct store_place *p,
    struct err_list *errs)
{
	const struct field *f = rec_field(KIND_N, "place");
	struct rec_opts ro = {0};
	struct err_list ferr;
	char *end;
	cJSON *v;
	size_t before = errs->n;
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 3; i++)
		if ((size_t)cols[i] >= r->nfields || r->field[cols[i]][0] == '\0') {
			err_add(errs, E_REQUIRED, "", "row %ld: code, name and "
			    "population are required", r->row);
			return PC_EINVAL;
		}
	err_init(&ferr);
	v = cJSON_CreateString(r->field[cols[0]]);
	rec_check_value(f, v, "code", &ro, &ferr);
	cJSON_Delete(v);
	if (ferr.n > 0)
		err_add(errs, E_FORMAT, "", "row %ld: %s", r->row, ferr.v[0].msg);
	err_free(&ferr);
	snprintf(p->code, sizeof(p->code), "%s", r->field[cols[0]]);
	snprintf(p->name, sizeof(p->name), "%s", r->field[cols[1]]);
	p->population = strtol(r->field[cols[2]], &end, 10);
	if (*end != '\0' || p->population <= 0)
		err_add(errs, E_RANGE, "", "row %ld: population must be a whole "
		    "number above 0; got \"%s\"", r->row, r->field[cols[2]]);
	if (cols[3] >= 0 && (size_t)cols[3] < r->nfields)
		snprintf(p->source, sizeof(p->source), "%s", r->field[cols[3]]);
	return errs->n == before ? PC_OK : PC_EINVAL;
}

pc_rc
places_import(struct store *st, const char *text, size_t len,
    const char *what, int *n, struct err_list *errs)
{
	FILE *fp = fmemopen((void *)text, len, "r");
	struct csv_reader r;
	struct store_place *v = NULL;
	int cols[4], got, i, cap = 0;
	pc_rc rc = PC_OK;

	*n = 0;
	if (fp == NULL)
		return PC_ENOMEM;
	csv_init(&r, fp);
	if (csv_next(&r, errs) != 1 || (cols[0] = col(&r, "code")) < 0 ||
	    (cols[1] = col(&r, "name")) < 0 ||
	    (cols[2] = col(&r, "population")) < 0) {
		err_add(errs, E_REQUIRED, "", "%s: the header must name code, "
		    "name and population (and optionally population_source)",
		    what);
		rc = PC_EINVAL;
	}
	if (rc == PC_OK)
		cols[3] = col(&r, "population_source");
	while (rc == PC_OK && (got = csv_next(&r, errs)) != 0) {
		if (got < 0) {
			rc = PC_EINVAL;
			continue;
		}
		if (r.nfields == 1 && r.field[0][0] == '\0')
			continue;
		if (*n == cap) {
			void *nv = realloc(v, (size_t)(cap = cap ? cap * 2 : 16) *
			    sizeof(*v));

			if (nv == NULL) {
				rc = PC_ENOMEM;
				break;
			}
			v = nv;
		}
		if (parse_row(&r, cols, &v[*n], errs) == PC_OK)
			(*n)++;
		else
			rc = PC_EINVAL;
	}
	csv_free(&r);
	fclose(fp);
	if (rc == PC_OK && *n == 0) {
		err_add(errs, E_REQUIRED, "", "%s lists no places", what);
		rc = PC_EINVAL;
	}
	for (i = 0; rc == PC_OK && i < *n; i++)
		rc = store_place_put(st, &v[i]);
	free(v);
	return rc;
}

pc_rc
places_import_file(struct store *st, const char *path, int *n,
    struct err_list *errs)
{
	struct buf b;
	pc_rc rc;

	buf_init(&b, 1 << 20);
	if ((rc = fs_read_file(path, &b, errs)) == PC_OK)
		rc = places_import(st, buf_str(&b), b.len, path, n, errs);
	buf_free(&b);
	return rc;
}

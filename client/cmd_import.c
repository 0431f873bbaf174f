/*
 * cmd_import.c - pcmds import FILE.csv: bulk entry from a spreadsheet.
 *
 * One row per referral, header names = field names, with optional
 * baseline_* and final_* ONS4 columns and closed_on / closure_reason.
 * Each row is all or nothing (a savepoint); valid rows are stored,
 * rejected rows are reported (row, field, sentence) and written with
 * their reasons to FILE.rejects.csv, ready to fix and import again.
 *
 * Record ids are derived from the row's content under the deployment key,
 * so importing the same file twice, or again after an interruption,
 * stores nothing twice: rows already present are counted and skipped.
 * When the store fails (its disk full), the rows before the failing one
 * are kept and counted, so the same import run again goes on from there.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "csv.h"
#include "fs.h"
#include "nhs.h"
#include "sec.h"
#include "uuid.h"

#define COMMIT_EVERY	500	/* rows per transaction */
#define PLACEHOLDER_PERSON \
	"0000000000000000000000000000000000000000000000000000000000000000"

enum col_kind {
	COL_IGNORE,
	COL_REFERRAL,	/* a referral field */
	COL_NHS,	/* nhs_number */
	COL_BASIS,	/* person_basis */
	COL_ASSESS,	/* baseline_* or final_* */
	COL_CLOSED_ON,
	COL_CLOSE_REASON,
};

static const char *const stages[] = {"baseline", "final"};
static const char *const assess_suffix[] = {"on", "life_satisfaction",
    "worthwhile", "happy", "anxious", "declined"};
#define NSUFFIX	(sizeof(assess_suffix) / sizeof(assess_suffix[0]))

struct column {
	enum col_kind	 kind;
	const char	*field;		/* record field it fills */
	int		 stage;		/* COL_ASSESS: index in stages */
};

struct import {
	struct ctx	*c;
	struct column	 cols[CSV_FIELDS_MAX];
	char		*names[CSV_FIELDS_MAX];
	size_t		 ncols;
	uint8_t		 key[NHS_KEY_LEN];
	struct buf	 rejects;	/* the rejects CSV */
	long		 stored, skipped, rejected, records;
	long		 kept, kept_records;	/* of those, committed */
};

static pc_rc
map_column(struct import *im, size_t i, const char *name,
    struct err_list *errs)
{
	struct column *col = &im->cols[i];
	const struct field *f;
	size_t s, k, j;

	for (j = 0; j < i; j++)
		if (strcmp(im->names[j], name) == 0) {
			err_add(errs, E_DUPLICATE_FIELD, name, "column %s "
			    "appears twice in the header", name);
			return PC_EINVAL;
		}
	if (strcmp(name, "pcmds_row") == 0 || strcmp(name, "pcmds_errors") == 0)
		return PC_OK;	/* our own rejects columns */
	if (strcmp(name, "nhs_number") == 0)
		col->kind = COL_NHS;
	else if (strcmp(name, "person_basis") == 0)
		col->kind = COL_BASIS;
	else if (strcmp(name, "closed_on") == 0)
		col->kind = COL_CLOSED_ON;
	else if (strcmp(name, "closure_reason") == 0)
		col->kind = COL_CLOSE_REASON;
	else if ((f = rec_field(KIND_REFERRAL, name)) != NULL &&
	    !(f->flags & FF_ENVELOPE) && f->type != FT_HEX64) {
		col->kind = COL_REFERRAL;
		col->field = f->name;
	} else {
		for (s = 0; s < 2; s++)
			for (k = 0; k < NSUFFIX; k++) {
				size_t n = strlen(stages[s]);

				if (strncmp(name, stages[s], n) == 0 &&
				    name[n] == '_' &&
				    strcmp(name + n + 1, assess_suffix[k]) == 0) {
					col->kind = COL_ASSESS;
					col->stage = (int)s;
					col->field = k == 0 ? "assessed_on" :
					    assess_suffix[k];
				}
			}
		if (col->kind != COL_ASSESS) {
			err_add(errs, E_UNKNOWN_FIELD, name, "column %s is not "
			    "a field pcmds imports", name);
			return PC_EINVAL;
		}
	}
	return PC_OK;
}

static pc_rc
read_header(struct import *im, struct csv_reader *r, struct err_list *errs)
{
	size_t i;
	pc_rc rc = PC_OK;

	if (csv_next(r, errs) != 1) {
		err_add(errs, E_REQUIRED, "", "the file has no header row");
		return PC_EINVAL;
	}
	im->ncols = r->nfields;
	for (i = 0; i < r->nfields; i++) {
		char *p;

		im->names[i] = strdup(r->field[i]);
		for (p = im->names[i]; p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (im->names[i] == NULL ||
		    map_column(im, i, im->names[i], errs) != PC_OK)
			rc = PC_EINVAL;
	}
	if (rc != PC_OK)
		err_add(errs, E_UNKNOWN_FIELD, "", "columns pcmds imports: "
		    "nhs_number (or person_basis=local), referred_on, source, "
		    "reasons, service, age, gender, ethnicity, imd_decile, "
		    "carer, learning_disability, autism, homeless, "
		    "consent_evaluation, baseline_on, baseline_life_satisfaction,"
		    " baseline_worthwhile, baseline_happy, baseline_anxious, "
		    "baseline_declined, the same with final_, closed_on, "
		    "closure_reason");
	return rc;
}

/* Spreadsheets in the UK write dates DD/MM/YYYY: accept that too. */
static const char *
uk_date(const char *v, char out[DATE_LEN])
{
	int d, m, y;
	char tail;

	if (sscanf(v, "%2d/%2d/%4d%c", &d, &m, &y, &tail) == 3 && y > 999 &&
	    date_valid_ymd(y, m, d)) {
		snprintf(out, DATE_LEN, "%04d-%02d-%02d", y, m, d);
		return out;
	}
	return v;
}

/* Id of one part of a row: HMAC of its cells, so re-imports match. */
static pc_rc
row_id(const struct import *im, const struct csv_reader *r,
    const char *part, char out[UUID_LEN])
{
	struct buf b;
	uint8_t mac[SEC_SHA256_LEN];
	size_t i;

	buf_init(&b, 0);
	buf_addf(&b, "pcmds-import-v1%c%s%c%s%c", 0, im->c->cfg.place, 0, part,
	    0);
	for (i = 0; i < im->ncols && i < r->nfields; i++)
		if (im->cols[i].kind != COL_IGNORE)
			buf_addf(&b, "%s=%s%c", im->names[i], r->field[i], 0);
	if (buf_failed(&b) != PC_OK)	/* never an id from part of a row */
		return buf_failed(&b);
	sec_hmac_sha256(im->key, NHS_KEY_LEN, b.p, b.len, mac);
	sec_wipe(b.p, b.len);
	buf_free(&b);
	uuid_from_digest(mac, out);
	return PC_OK;
}

/* Renames errors of an assessment or closure to the row's column names. */
static void
rename_errors(struct err_list *errs, size_t from, const char *prefix,
    const char *date_col)
{
	char name[ERR_FIELD_MAX];
	size_t i;

	for (i = from; i < errs->n; i++) {
		struct err_item *it = &errs->v[i];

		if (it->field[0] == '\0')
			continue;
		if (strcmp(it->field, "assessed_on") == 0 ||
		    strcmp(it->field, "closed_on") == 0)
			snprintf(name, sizeof(name), "%s", date_col);
		else if (strcmp(prefix, "closure_") == 0 &&
		    strcmp(it->field, "reason") == 0)
			snprintf(name, sizeof(name), "closure_reason");
		else
			snprintf(name, sizeof(name), "%s%s", prefix, it->field);
		snprintf(it->field, sizeof(it->field), "%s", name);
	}
}

static pc_rc
row_person(struct import *im, const struct csv_reader *r, cJSON *body,
    struct err_list *errs)
{
	const char *nhs = NULL, *basis = NULL;
	char digits[11], person[SEC_HEX64_LEN];
	size_t i;
	pc_rc rc;

	for (i = 0; i < im->ncols && i < r->nfields; i++) {
		if (im->cols[i].kind == COL_NHS && r->field[i][0])
			nhs = r->field[i];
		if (im->cols[i].kind == COL_BASIS && r->field[i][0])
			basis = r->field[i];
	}
	if (nhs == NULL && basis != NULL && strcmp(basis, "local") == 0) {
		if (nhs_local_person(person) != PC_OK)
			return PC_EIO;
		cJSON_AddStringToObject(body, "person", person);
		cJSON_AddStringToObject(body, "person_basis", "local");
		return PC_OK;
	}
	if (nhs == NULL) {
		err_add(errs, E_REQUIRED, "nhs_number", "nhs_number is required, "
		    "or person_basis local for a person with no NHS number");
		return PC_EINVAL;
	}
	if ((rc = nhs_normalise(nhs, digits, errs)) != PC_OK)
		return rc;
	rc = nhs_pseudonym(im->key, digits, person);
	sec_wipe(digits, sizeof(digits));
	cJSON_AddStringToObject(body, "person", person);
	cJSON_AddStringToObject(body, "person_basis", "nhs_number");
	return rc;
}

/* Fills body with the row's cells of one kind (and stage). */
static int
row_cells(const struct import *im, const struct csv_reader *r,
    enum col_kind kind, int stage, enum rec_kind rk, cJSON *body)
{
	char date[DATE_LEN];
	size_t i;
	int n = 0;

	for (i = 0; i < im->ncols && i < r->nfields; i++) {
		const struct column *col = &im->cols[i];
		const char *v = r->field[i];

		if (col->kind != kind || v[0] == '\0' ||
		    (kind == COL_ASSESS && col->stage != stage))
			continue;
		record_set(body, rk, col->field, uk_date(v, date));
		n++;
	}
	return n;
}

static pc_rc
import_assessment(struct import *im, const struct csv_reader *r, int stage,
    const char *ref, struct err_list *errs)
{
	cJSON *body = cJSON_CreateObject();
	char id[UUID_LEN], out[UUID_LEN], prefix[16], datecol[24];
	size_t before = errs->n;
	pc_rc rc;

	if (row_cells(im, r, COL_ASSESS, stage, KIND_ASSESSMENT, body) == 0) {
		cJSON_Delete(body);
		return PC_OK;
	}
	cJSON_AddStringToObject(body, "stage", stages[stage]);
	if ((rc = row_id(im, r, stages[stage], id)) != PC_OK) {
		cJSON_Delete(body);
		return rc;
	}
	rc = record_make(im->c, KIND_ASSESSMENT, body, ref, id, out, errs);
	snprintf(prefix, sizeof(prefix), "%s_", stages[stage]);
	snprintf(datecol, sizeof(datecol), "%s_on", stages[stage]);
	rename_errors(errs, before, prefix, datecol);
	im->records += rc == PC_OK;
	return rc;
}

static pc_rc
import_closure(struct import *im, const struct csv_reader *r, const char *ref,
    struct err_list *errs)
{
	cJSON *body = cJSON_CreateObject();
	char id[UUID_LEN], out[UUID_LEN], date[DATE_LEN];
	size_t i, before = errs->n;
	int n = 0;
	pc_rc rc;

	for (i = 0; i < im->ncols && i < r->nfields; i++) {
		if (r->field[i][0] == '\0')
			continue;
		if (im->cols[i].kind == COL_CLOSED_ON)
			n += !!cJSON_AddStringToObject(body, "closed_on",
			    uk_date(r->field[i], date));
		if (im->cols[i].kind == COL_CLOSE_REASON)
			n += !!cJSON_AddStringToObject(body, "reason",
			    r->field[i]);
	}
	if (n == 0) {
		cJSON_Delete(body);
		return PC_OK;
	}
	if ((rc = row_id(im, r, "closure", id)) != PC_OK) {
		cJSON_Delete(body);
		return rc;
	}
	rc = record_make(im->c, KIND_CLOSURE, body, ref, id, out, errs);
	rename_errors(errs, before, "closure_", "closed_on");
	im->records += rc == PC_OK;
	return rc;
}

/* One row: referral, baseline, final, closure; all or nothing. */
static pc_rc
import_row(struct import *im, const struct csv_reader *r,
    struct err_list *errs)
{
	cJSON *body;
	char ref[UUID_LEN], out[UUID_LEN];
	pc_rc rc, person;
	long before = im->records;

	if ((rc = row_id(im, r, "referral", ref)) != PC_OK)
		return rc;
	if (cstore_has(im->c->store, ref) == 1) {
		im->skipped++;
		return PC_OK;
	}
	body = cJSON_CreateObject();
	if ((person = row_person(im, r, body, errs)) != PC_OK) {
		if (person != PC_EINVAL) {
			cJSON_Delete(body);
			return person;
		}
		/* check the rest of the row too, then refuse it whole */
		cJSON_AddStringToObject(body, "person", PLACEHOLDER_PERSON);
		cJSON_AddStringToObject(body, "person_basis", "nhs_number");
	}
	row_cells(im, r, COL_REFERRAL, 0, KIND_REFERRAL, body);
	if (cstore_savepoint(im->c->store, "importrow") != PC_OK) {
		cJSON_Delete(body);
		err_add(errs, E_SYSTEM, "", "store: the row could not be started "
		    "(savepoint); nothing of it was stored");
		return PC_ESTORE;
	}
	rc = record_make(im->c, KIND_REFERRAL, body, NULL, ref, out, errs);
	im->records += rc == PC_OK;
	if (rc == PC_OK)
		rc = import_assessment(im, r, 0, ref, errs);
	if (rc == PC_OK)
		rc = import_assessment(im, r, 1, ref, errs);
	if (rc == PC_OK)
		rc = import_closure(im, r, ref, errs);
	if (rc == PC_OK && person != PC_OK)
		rc = person;
	if (rc == PC_OK && cstore_release(im->c->store, "importrow") !=
	    PC_OK) {
		err_add(errs, E_SYSTEM, "", "store: the row could not be "
		    "finished (release); nothing of it was stored");
		rc = PC_ESTORE;
	}
	if (rc == PC_OK)
		im->stored++;
	else {
		cstore_rollback_to(im->c->store, "importrow");
		im->records = before;
	}
	return rc;
}

static void
reject(struct import *im, const struct csv_reader *r,
    const struct err_list *errs)
{
	const char *cells[CSV_FIELDS_MAX + 2];
	char rowno[24], line[ERR_FIELD_MAX + ERR_MSG_MAX + 8];
	struct buf why;
	size_t i, k = 0;

	buf_init(&why, 0);
	for (i = 0; i < errs->n; i++) {
		err_line(errs, i, line, sizeof(line));
		fprintf(stderr, "pcmds: row %ld: %s (%s)\n", r->row, line,
		    err_code_name(errs->v[i].code));
		buf_addf(&why, "%s%s", i ? "; " : "", line);
	}
	snprintf(rowno, sizeof(rowno), "%ld", r->row);
	for (i = 0; i < im->ncols; i++)
		if (strcmp(im->names[i], "pcmds_row") != 0 &&
		    strcmp(im->names[i], "pcmds_errors") != 0)
			cells[k++] = i < r->nfields ? r->field[i] : "";
	cells[k++] = rowno;
	cells[k++] = buf_str(&why);
	csv_row(&im->rejects, cells, k, 0);
	buf_free(&why);
	im->rejected++;
}

static void
rejects_header(struct import *im)
{
	const char *cells[CSV_FIELDS_MAX + 2];
	size_t i, k = 0;

	for (i = 0; i < im->ncols; i++)
		if (strcmp(im->names[i], "pcmds_row") != 0 &&
		    strcmp(im->names[i], "pcmds_errors") != 0)
			cells[k++] = im->names[i];
	cells[k++] = "pcmds_row";
	cells[k++] = "pcmds_errors";
	csv_row(&im->rejects, cells, k, 0);
}

static int
blank(const struct csv_reader *r)
{
	size_t i;

	for (i = 0; i < r->nfields; i++)
		if (r->field[i][0] != '\0')
			return 0;
	return 1;
}

static pc_rc
commit_rows(struct import *im, struct err_list *errs)
{
	pc_rc rc;

	if ((rc = cstore_commit(im->c->store, errs)) == PC_OK) {
		im->kept = im->stored;
		im->kept_records = im->records;
	}
	return rc;
}

/*
 * After a failure: the rows before the failing one are whole (each row
 * is a savepoint), so they are kept if the store can still commit. A
 * store that rolled the transaction back by itself keeps the rows of
 * the last commit; either way im->kept says how many.
 */
static void
keep_done(struct import *im)
{
	struct err_list e;

	err_init(&e);
	if (commit_rows(im, &e) != PC_OK)
		cstore_rollback(im->c->store);
	err_free(&e);
}

static pc_rc
import_rows(struct import *im, struct csv_reader *r, struct err_list *errs)
{
	struct err_list rowerr;
	long inbatch = 0;
	int got;
	pc_rc rc;

	err_init(&rowerr);
	if ((rc = cstore_begin(im->c->store, errs)) != PC_OK)
		return rc;
	while ((got = csv_next(r, &rowerr)) != 0) {
		if (got > 0 && blank(r))
			continue;
		if (got > 0)
			rc = import_row(im, r, &rowerr);
		if (got < 0 || rc == PC_EINVAL || rc == PC_ECONFLICT) {
			reject(im, r, &rowerr);
			rc = PC_OK;
		}
		if (rc != PC_OK) {
			err_move(errs, &rowerr);	/* why the import stops */
			keep_done(im);
			break;
		}
		err_clear(&rowerr);
		if (++inbatch == COMMIT_EVERY) {
			if ((rc = commit_rows(im, errs)) != PC_OK) {
				cstore_rollback(im->c->store);
				break;
			}
			if ((rc = cstore_begin(im->c->store, errs)) != PC_OK)
				break;
			inbatch = 0;
		}
	}
	err_free(&rowerr);
	if (rc == PC_OK && (rc = commit_rows(im, errs)) != PC_OK)
		cstore_rollback(im->c->store);
	return rc;
}

pc_rc
import_csv(struct ctx *c, FILE *fp, struct buf *rejects,
    struct import_counts *out, struct err_list *errs)
{
	struct import im;
	struct csv_reader r;
	size_t i;
	pc_rc rc;

	memset(&im, 0, sizeof(im));
	im.c = c;
	buf_init(&im.rejects, 0);
	if ((rc = ctx_key(c, im.key, errs)) != PC_OK)
		return rc;
	csv_init(&r, fp);
	if ((rc = read_header(&im, &r, errs)) == PC_OK) {
		rejects_header(&im);
		rc = import_rows(&im, &r, errs);
	}
	csv_free(&r);
	if (rc == PC_OK && im.rejected > 0 && (buf_add(rejects, im.rejects.p,
	    im.rejects.len) != PC_OK || buf_failed(&im.rejects) != PC_OK)) {
		err_add(errs, E_SYSTEM, "", "out of memory for the rejected "
		    "rows' file");
		rc = PC_ENOMEM;
	}
	/* what is in the store now, whatever happened after */
	out->stored = im.kept;
	out->records = im.kept_records;
	out->rejected = im.rejected;
	out->skipped = im.skipped;
	for (i = 0; i < im.ncols; i++)
		free(im.names[i]);
	sec_wipe(im.key, sizeof(im.key));
	buf_free(&im.rejects);
	return rc;
}

static int
run_import(struct ctx *c, struct opt_result *o)
{
	struct import_counts n;
	struct err_list errs;
	struct buf rejects;
	char rpath[PATH_MAX];
	FILE *fp;
	pc_rc rc;

	err_init(&errs);
	if ((rc = ctx_identity(c, &errs)) != PC_OK ||
	    (rc = ctx_store(c, &errs)) != PC_OK)
		return ctx_fail(&errs, rc);
	if ((fp = fopen(o->pos[0], "rb")) == NULL) {
		fprintf(stderr, "pcmds: cannot read %s\n", o->pos[0]);
		err_free(&errs);
		return EXIT_INVALID;
	}
	buf_init(&rejects, 0);
	rc = import_csv(c, fp, &rejects, &n, &errs);
	fclose(fp);
	snprintf(rpath, sizeof(rpath), "%s.rejects.csv", o->pos[0]);
	if (rc == PC_OK && n.rejected > 0)
		rc = fs_write_atomic(rpath, rejects.p, rejects.len, 0600, &errs);
	if (rc != PC_OK) {
		ctx_report(&errs, NULL);
		if (n.stored > 0 || n.skipped > 0)
			fprintf(stderr, "pcmds: %ld rows were imported (%ld "
			    "records) and %ld were there already before it "
			    "stopped; running the same import again goes on "
			    "where it stopped (rows already imported are "
			    "skipped)\n", n.stored, n.records, n.skipped);
		else
			fprintf(stderr, "pcmds: no row was imported; once the "
			    "problem is fixed, run the same import again\n");
	} else {
		printf("%ld rows imported (%ld records), %ld rejected, %ld "
		    "already imported (or repeated)\n", n.stored, n.records,
		    n.rejected, n.skipped);
		if (n.rejected > 0)
			printf("rejected rows, with their reasons: %s\n", rpath);
	}
	buf_free(&rejects);
	err_free(&errs);
	if (rc != PC_OK)
		return exit_for(rc);
	return n.rejected > 0 ? EXIT_INVALID : EXIT_OK;
}

static const struct opt_spec import_opts[] = {
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_import = {
	"import", "FILE.csv", 1, 1, "record referrals in bulk from a CSV file",
	import_opts, run_import,
	"One row per referral; the header names the fields (see pcmds codes "
	"and the\ndata dictionary). Optional columns baseline_on, "
	"baseline_life_satisfaction,\nbaseline_worthwhile, baseline_happy, "
	"baseline_anxious, baseline_declined, the same\nwith final_, and "
	"closed_on, closure_reason add those records. Dates may be\n"
	"YYYY-MM-DD or DD/MM/YYYY. Each row is stored whole or not at all; "
	"rejected\nrows go to FILE.csv.rejects.csv with their reasons. "
	"Importing a file again\nstores nothing twice.\n",
};

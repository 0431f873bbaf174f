/*
 * pop.c - population denominators: import, load, and the mapping of the
 * Census's categories onto the data set's groups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fs.h"
#include "pop.h"

const char pop_default_csv[] =
#include "population_nel.inc"	/* from packaging/population/ */

static const char *const ethnicity_cats[] = {
	"asian_bangladeshi", "asian_chinese", "asian_indian", "asian_pakistani",
	"asian_other", "black_african", "black_caribbean", "black_other",
	"mixed_white_and_asian", "mixed_white_and_black_african",
	"mixed_white_and_black_caribbean", "mixed_other", "white_british",
	"white_irish", "white_gypsy_or_irish_traveller", "white_roma",
	"white_other", "other_arab", "other_any_other",
};
static const char *const age_cats[] = {
	"0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39",
	"40-44", "45-49", "50-54", "55-59", "60-64", "65-69", "70-74",
	"75-79", "80-84", "85+",
};
static const char *const sex_cats[] = {"female", "male"};
static const char *const imd_cats[] = {
	"1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
};

#define NCATS(v)	(sizeof(v) / sizeof(v[0]))

const struct pop_table_info pop_tables[POP_N] = {
	[POP_ETHNICITY] = {"ethnicity", "Usual residents by ethnic group "
	    "(Census 2021, 19 categories)", ethnicity_cats,
	    NCATS(ethnicity_cats)},
	[POP_AGE] = {"age", "Usual residents by five-year age band (Census "
	    "2021)", age_cats, NCATS(age_cats)},
	[POP_SEX] = {"sex", "Usual residents by sex (Census 2021)", sex_cats,
	    NCATS(sex_cats)},
	[POP_IMD] = {"imd", "Residents by national IMD 2019 decile of their "
	    "small area", imd_cats, NCATS(imd_cats)},
};

/*
 * The NHS Data Dictionary's 2001 ethnic categories (the data set's, in
 * codes_ethnicity order A..S) from Census 2021's 19. Census 2021 added
 * Gypsy or Irish Traveller and Roma (in C, any other White background,
 * as the 2001 list has no such category) and Arab (in S, any other
 * ethnic group); Chinese is R, under Other, where the data set puts it
 * (Census 2021 has it under Asian).
 */
static const char *const ethnicity_map[16][4] = {
	{"white_british"},					/* A */
	{"white_irish"},					/* B */
	{"white_gypsy_or_irish_traveller", "white_roma", "white_other"}, /* C */
	{"mixed_white_and_black_caribbean"},			/* D */
	{"mixed_white_and_black_african"},			/* E */
	{"mixed_white_and_asian"},				/* F */
	{"mixed_other"},					/* G */
	{"asian_indian"},					/* H */
	{"asian_pakistani"},					/* J */
	{"asian_bangladeshi"},					/* K */
	{"asian_other"},					/* L */
	{"black_caribbean"},					/* M */
	{"black_african"},					/* N */
	{"black_other"},					/* P */
	{"asian_chinese"},					/* R */
	{"other_arab", "other_any_other"},			/* S */
};

static int
cat_index(enum pop_table t, const char *cat)
{
	size_t i;

	for (i = 0; i < pop_tables[t].ncats; i++)
		if (strcmp(pop_tables[t].cats[i], cat) == 0)
			return (int)i;
	return -1;
}

static enum pop_table
table_index(const char *name)
{
	int t;

	for (t = 0; t < POP_N; t++)
		if (strcmp(pop_tables[t].name, name) == 0)
			return (enum pop_table)t;
	return POP_N;
}

enum pop_table
pop_table_of(enum agg_dim d)
{
	switch (d) {
	case DIM_ETHNIC_GROUP:
	case DIM_ETHNICITY:
		return POP_ETHNICITY;
	case DIM_AGE_BAND_CENSUS:
		return POP_AGE;
	case DIM_GENDER:
		return POP_SEX;
	case DIM_IMD_QUINTILE:
	case DIM_IMD_DECILE:
		return POP_IMD;
	default:
		return POP_N;
	}
}

/* The residents of NHS ethnic category i (0..15). */
static long
ethnic_category(const struct pop_counts *c, int i)
{
	long n = 0;
	int k;

	for (k = 0; k < 4 && ethnicity_map[i][k] != NULL; k++)
		n += c->cat[cat_index(POP_ETHNICITY, ethnicity_map[i][k])];
	return n;
}

/* Census five-year bands first..last (indices into age_cats). */
static long
bands(const struct pop_counts *c, int first, int last)
{
	long n = 0;

	for (; first <= last; first++)
		n += c->cat[first];
	return n;
}

long
pop_group(const struct pop_counts *c, enum agg_dim d, int g)
{
	long n = 0;
	int i;

	if (c == NULL || !c->loaded || g < 0)
		return -1;
	switch (d) {
	case DIM_ETHNICITY:
		return g < 16 ? ethnic_category(c, g) : -1;
	case DIM_ETHNIC_GROUP:
		if (g >= 5)
			return -1;	/* not stated or not known */
		for (i = 0; i < 16; i++)
			if (codes_ethnic_group_of(codes_ethnicity.v[i].code) ==
			    g)
				n += ethnic_category(c, i);
		return n;
	case DIM_AGE_BAND_CENSUS:
		/* under 15 = 0-4..10-14; 15-24 = 15-19, 20-24; then pairs */
		return g == 0 ? bands(c, 0, 2) : g == 1 ? bands(c, 3, 4) :
		    g < 8 ? bands(c, 5 + 2 * (g - 2), 6 + 2 * (g - 2)) : g == 8 ?
		    c->cat[17] : -1;
	case DIM_GENDER:
		if (strcmp(codes_gender.v[g].code, "female") == 0)
			return c->cat[0];
		if (strcmp(codes_gender.v[g].code, "male") == 0)
			return c->cat[1];
		return -1;	/* the Census counts sex, not gender */
	case DIM_IMD_DECILE:
		return g < 10 ? c->cat[g] : -1;
	case DIM_IMD_QUINTILE:
		return g < 5 ? c->cat[2 * g] + c->cat[2 * g + 1] : -1;
	default:
		return -1;
	}
}

void
pop_sum(const struct pop *p, const char *const *codes, size_t n,
    enum pop_table t, struct pop_counts *out)
{
	size_t i, j;
	int k;

	memset(out, 0, sizeof(*out));
	if (p == NULL || n == 0)
		return;
	out->loaded = 1;
	for (i = 0; i < n; i++) {
		const struct pop_counts *c = NULL;

		for (j = 0; j < p->n; j++)
			if (strcmp(p->v[j].code, codes[i]) == 0)
				c = &p->v[j].t[t];
		if (c == NULL || !c->loaded) {
			memset(out, 0, sizeof(*out));
			return;
		}
		for (k = 0; k < POP_CATS; k++)
			out->cat[k] += c->cat[k];
		out->total += c->total;
		if (i == 0)
			snprintf(out->source, sizeof(out->source), "%s",
			    c->source);
	}
}

/* -- import --------------------------------------------------------------- */

struct prow {
	struct store_population	 p;
	long			 row;
	enum pop_table		 t;
	int			 cat;	/* -1: the total */
};

struct import {
	struct prow	*v;
	size_t		 n, cap;
	struct err_list	*errs;
	const char	*what;
};

static int
col(const struct csv_reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfields; i++)
		if (strcmp(r->field[i], name) == 0)
			return (int)i;
	return -1;
}

static void
cat_choices(enum pop_table t, char *out, size_t len)
{
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < pop_tables[t].ncats && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s, ",
		    pop_tables[t].cats[i]);
	if (off < len)
		snprintf(out + off, len - off, "or total");
}

/* One data row, checked field by field; 0 when whole. */
static int
parse_row(struct import *im, struct store *st, const struct csv_reader *r,
    const int cols[5], struct prow *pr)
{
	static const char *const names[5] = {"place", "table", "category",
	    "population", "source"};
	struct err_list *e = im->errs;
	const char *f[5];
	struct store_place pl;
	size_t before = e->n, i;
	char *end, choices[600];

	memset(pr, 0, sizeof(*pr));
	pr->row = r->row;
	for (i = 0; i < 5; i++) {
		f[i] = (size_t)cols[i] < r->nfields ? r->field[cols[i]] : "";
		if (f[i][0] == '\0')
			err_add(e, E_REQUIRED, names[i], "%s: row %ld, column %s: "
			    "empty; every row needs place, table, category, "
			    "population and source", im->what, r->row, names[i]);
	}
	if (e->n > before)
		return -1;
	if (strlen(f[0]) > REC_PLACE_MAX || store_place_get(st, f[0], &pl) !=
	    PC_OK)
		err_add(e, E_ENUM, "place", "%s: row %ld, column place: no place "
		    "has code \"%s\" (pcmdsd places list; import the places "
		    "first)", im->what, r->row, f[0]);
	if ((pr->t = table_index(f[1])) == POP_N)
		err_add(e, E_ENUM, "table", "%s: row %ld, column table: must be "
		    "ethnicity, age, sex or imd; got \"%s\"", im->what, r->row,
		    f[1]);
	else if (strcmp(f[2], "total") == 0)
		pr->cat = -1;
	else if ((pr->cat = cat_index(pr->t, f[2])) < 0) {
		cat_choices(pr->t, choices, sizeof(choices));
		err_add(e, E_ENUM, "category", "%s: row %ld, column category: "
		    "table %s has no category \"%s\"; it has %s", im->what,
		    r->row, f[1], f[2], choices);
	}
	pr->p.population = strtol(f[3], &end, 10);
	if (*end != '\0' || f[3][0] == '-' || f[3][0] == '+' ||
	    pr->p.population < 0 || pr->p.population > 100000000)
		err_add(e, E_RANGE, "population", "%s: row %ld, column "
		    "population: must be a whole number from 0 to 100000000, "
		    "with no commas; got \"%s\"", im->what, r->row, f[3]);
	if (strlen(f[4]) >= sizeof(pr->p.source))
		err_add(e, E_RANGE, "source", "%s: row %ld, column source: at "
		    "most %zu characters", im->what, r->row,
		    sizeof(pr->p.source) - 1);
	for (i = 0; f[4][i] != '\0'; i++)
		if ((unsigned char)f[4][i] < 0x20) {
			err_add(e, E_FORMAT, "source", "%s: row %ld, column "
			    "source: holds a control character", im->what,
			    r->row);
			break;
		}
	if (e->n > before)
		return -1;
	snprintf(pr->p.place, sizeof(pr->p.place), "%s", f[0]);
	snprintf(pr->p.table, sizeof(pr->p.table), "%s", f[1]);
	snprintf(pr->p.category, sizeof(pr->p.category), "%s", f[2]);
	snprintf(pr->p.source, sizeof(pr->p.source), "%s", f[4]);
	return 0;
}

static int
same_table(const struct prow *a, const struct prow *b)
{
	return a->t == b->t && strcmp(a->p.place, b->p.place) == 0;
}

/* Every place's table whole: each category once, adding up to the total. */
static void
check_tables(struct import *im)
{
	size_t i, j;

	for (i = 0; i < im->n; i++) {
		const struct prow *first = &im->v[i], *total = NULL;
		long seen[POP_CATS] = {0}, sum = 0;
		size_t k;
		int dup = 0;

		for (j = 0; j < i && !same_table(&im->v[j], first); j++)
			;
		if (j < i)
			continue;	/* that table was checked at its first row */
		for (j = i; j < im->n; j++) {
			const struct prow *p = &im->v[j];

			if (!same_table(p, first))
				continue;
			if (p->cat < 0 ? total != NULL : seen[p->cat] != 0) {
				err_add(im->errs, E_CONFLICT, "category", "%s: row "
				    "%ld: a second row for place %s, table %s, "
				    "category %s", im->what, p->row, p->p.place,
				    p->p.table, p->p.category);
				dup = 1;
			} else if (p->cat < 0)
				total = p;
			else {
				seen[p->cat] = p->row;
				sum += p->p.population;
			}
		}
		for (k = 0; !dup && k < pop_tables[first->t].ncats; k++)
			if (seen[k] == 0)
				err_add(im->errs, E_REQUIRED, "category", "%s: "
				    "place %s, table %s: no row for category %s "
				    "(every category of a table is needed)",
				    im->what, first->p.place, first->p.table,
				    pop_tables[first->t].cats[k]);
		if (!dup && total == NULL)
			err_add(im->errs, E_REQUIRED, "category", "%s: place %s, "
			    "table %s: no row for category total (the table's "
			    "own total)", im->what, first->p.place,
			    first->p.table);
		else if (!dup && sum != total->p.population)
			err_add(im->errs, E_RANGE, "population", "%s: row %ld, "
			    "column population: place %s, table %s: the "
			    "categories add up to %ld, but the total says %ld",
			    im->what, total->row, first->p.place, first->p.table,
			    sum, total->p.population);
	}
}

static pc_rc
read_rows(struct import *im, struct store *st, const char *text,
    size_t len)
{
	FILE *fp = fmemopen((void *)text, len, "r");
	static const char *const names[5] = {"place", "table", "category",
	    "population", "source"};
	struct csv_reader r;
	int cols[5], got, i, bad = 0;
	pc_rc rc = PC_OK;

	if (fp == NULL)
		return PC_ENOMEM;
	csv_init(&r, fp);
	if (csv_next(&r, im->errs) != 1)
		bad = 1;
	for (i = 0; !bad && i < 5; i++)
		if ((cols[i] = col(&r, names[i])) < 0)
			bad = 1;
	if (bad) {
		err_add(im->errs, E_REQUIRED, "", "%s: row 1: the header must be "
		    "place,table,category,population,source", im->what);
		rc = PC_EINVAL;
	}
	while (rc != PC_ENOMEM && !bad && (got = csv_next(&r, im->errs)) != 0) {
		if (got < 0) {
			rc = PC_EINVAL;
			continue;
		}
		if (r.nfields == 1 && r.field[0][0] == '\0')
			continue;
		if (im->n == im->cap) {
			size_t ncap = im->cap ? im->cap * 2 : 256;
			void *nv = realloc(im->v, ncap * sizeof(*im->v));

			if (nv == NULL) {
				rc = PC_ENOMEM;
				break;
			}
			im->v = nv;
			im->cap = ncap;
		}
		if (parse_row(im, st, &r, cols, &im->v[im->n]) == 0)
			im->n++;
		else
			rc = PC_EINVAL;
	}
	csv_free(&r);
	fclose(fp);
	return rc;
}

pc_rc
pop_import(struct store *st, const char *text, size_t len, const char *what,
    int *rows, struct err_list *errs)
{
	struct import im = {NULL, 0, 0, errs, what};
	size_t i, j;
	pc_rc rc;

	*rows = 0;
	rc = read_rows(&im, st, text, len);
	if (rc == PC_OK && im.n == 0) {
		err_add(errs, E_REQUIRED, "", "%s has no rows after its header",
		    what);
		rc = PC_EINVAL;
	}
	if (rc == PC_OK) {
		size_t before = errs->n;

		check_tables(&im);
		rc = errs->n > before ? PC_EINVAL : PC_OK;
	}
	/* each place's table replaced whole, at its first row */
	for (i = 0; rc == PC_OK && i < im.n; i++) {
		for (j = 0; j < i && !same_table(&im.v[j], &im.v[i]); j++)
			;
		if (j == i)
			rc = store_population_clear(st, im.v[i].p.place,
			    im.v[i].p.table);
		if (rc == PC_OK)
			rc = store_population_put(st, &im.v[i].p);
	}
	if (rc == PC_OK)
		*rows = (int)im.n;
	free(im.v);
	return rc;
}

pc_rc
pop_import_file(struct store *st, const char *path, int *rows,
    struct err_list *errs)
{
	struct buf b;
	pc_rc rc;

	*rows = 0;
	buf_init(&b, 16 << 20);
	if ((rc = fs_read_file(path, &b, errs)) == PC_OK)
		rc = pop_import(st, buf_str(&b), b.len, path, rows, errs);
	buf_free(&b);
	return rc;
}

/* -- load ----------------------------------------------------------------- */

struct loader {
	struct pop	*p;
	pc_rc		 rc;
};

static int
load_row(void *arg, const struct store_population *r)
{
	struct loader *l = arg;
	struct pop *p = l->p;
	struct pop_counts *c;
	enum pop_table t = table_index(r->table);
	size_t i;
	int k;

	if (t == POP_N)
		return 0;	/* a table of a later version: not ours */
	for (i = 0; i < p->n && strcmp(p->v[i].code, r->place) != 0; i++)
		;
	if (i == p->n) {
		struct pop_place *nv = realloc(p->v, (p->n + 1) * sizeof(*nv));

		if (nv == NULL) {
			l->rc = PC_ENOMEM;
			return 1;
		}
		p->v = nv;
		memset(&nv[p->n], 0, sizeof(nv[0]));
		snprintf(nv[p->n].code, sizeof(nv[0].code), "%s", r->place);
		p->n++;
	}
	c = &p->v[i].t[t];
	c->loaded = 1;
	if (strcmp(r->category, "total") == 0) {
		c->total = r->population;
		snprintf(c->source, sizeof(c->source), "%s", r->source);
	} else if ((k = cat_index(t, r->category)) >= 0)
		c->cat[k] = r->population;
	return 0;
}

pc_rc
pop_load(struct store *st, struct pop *p)
{
	struct loader l = {p, PC_OK};
	pc_rc rc;

	memset(p, 0, sizeof(*p));
	rc = store_population_each(st, load_row, &l);
	if (rc == PC_OK)
		rc = l.rc;
	if (rc != PC_OK)
		pop_free(p);
	return rc;
}

void
pop_free(struct pop *p)
{
	if (p == NULL)
		return;
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* -- docs/population.md ----------------------------------------------- */

static const char doc_head[] =
    "# Reach against the population\n\n"
    "Generated from `server/pop.c` by `make docs`; `make check` fails if "
    "this file and the code disagree.\n\n"
    "A place lead asks whether social prescribing reaches each group in "
    "proportion to the people who live in the place. pcmds answers with "
    "referrals per 1,000 residents of each group and the **rate ratio**: "
    "the group's rate over the place's. A ratio below 1 means the group "
    "is referred less than its share of the population would give.\n\n"
    "## The import file\n\n"
    "`pcmdsd population import FILE.csv` (then restart pcmdsd on SQLite; "
    "servers on PostgreSQL catch up by themselves) reads CSV "
    "with the header `place,table,category,population,source`, one row "
    "per place, table and category:\n\n"
    "| column | what |\n|---|---|\n"
    "| `place` | a place code from the places file (`pcmdsd places list`) |\n"
    "| `table` | `ethnicity`, `age`, `sex` or `imd` |\n"
    "| `category` | one of the table's categories (below), or `total` |\n"
    "| `population` | residents: a whole number, no commas |\n"
    "| `source` | where the figure comes from: shown under every figure "
    "that uses the table (the `total` row's) |\n\n"
    "Every category of a table is needed for each place that has the "
    "table, and they must add up to its `total`, which is the "
    "denominator of the place's own rate in that breakdown: Census "
    "tables are published with disclosure control of their own and "
    "differ from each other by a few people, so each breakdown uses its "
    "own total. A problem is named by row and column, and nothing is "
    "stored unless every row is right. A place's table in the file "
    "replaces the one stored; tables not in the file stay. `pcmdsd "
    "population default` prints the built-in file (the seven North East "
    "London places, from the reference tables in "
    "`packaging/population/`, whose README gives every source).\n\n";

static const char doc_method[] =
    "## The figures\n\n"
    "For a place (or every place together: populations and referrals "
    "added up) and a period, for each group *g* of a breakdown with "
    "*x* referrals among *N* residents:\n\n"
    "- `rate_per_1000` = 1000 *x* / *N*;\n"
    "- `rate_ratio` = (*x* / *N*) / (*X* / *T*), where *T* is the "
    "table's total and *X* the place's referrals whose value is "
    "recorded in that breakdown (`reference_rate_per_1000` = 1000 *X* "
    "/ *T*). The ratios are then comparisons of shares: over the groups "
    "they average to 1, weighted by population;\n"
    "- `rate_ratio_ci95_low`, `rate_ratio_ci95_high`: the exact Poisson "
    "interval (Garwood 1936) of *x*, divided by the referrals expected "
    "at the place's rate, *E* = *N X* / *T*: "
    "`qgamma(0.025, x) / E` (0 when *x* = 0) and `qgamma(0.975, x + 1) / "
    "E`, what R's `poisson.test(x, T = E)` gives, as for a standardised "
    "ratio (Breslow and Day, *Statistical Methods in Cancer Research* "
    "II, 1987, 2.3). The place's rate is taken as fixed (it rests on all "
    "its referrals), and a place's groups are not independent of each "
    "other.\n\n"
    "**Referrals with no population group** (ethnicity not stated or not "
    "known, IMD not recorded, a gender of non-binary or other, not "
    "stated or not known, since the Census counts sex) have no rate. They "
    "are left out of *X*, so the ratios compare the groups among the "
    "referrals whose value is known, as if the unknown were spread as "
    "the known are; `unknown_referrals` and `unknown_pct` beside every "
    "breakdown say how many could move the ratios, and by how much.\n\n"
    "**Under disclosure control** every count is published as everywhere "
    "else (cell key noise, 1-7 suppressed, the rest rounded to 5, the "
    "same hiding as the breakdown of referrals), and rates, ratios and "
    "intervals are worked out from the published counts: *x* is the "
    "group's published count and *X* the published total less the "
    "published unknown count (a suppressed unknown count, below 8, is "
    "taken as 0), so no figure gives its own n away. A suppressed "
    "group's rate, ratio and interval are `withheld`. Populations are "
    "public figures and shown as published.\n\n"
    "On the dashboard and in tables a ratio's flag says what the interval "
    "says: **below** (the whole interval under 1), **above** (over 1), or "
    "**in line** (it spans 1), in words and with an icon, never by "
    "colour alone.\n\n";

static pc_rc
doc_tables(struct buf *b)
{
	size_t i;
	int t;

	buf_adds(b, "## Tables and categories\n\n| table | title | categories "
	    "|\n|---|---|---|\n");
	for (t = 0; t < POP_N; t++) {
		buf_addf(b, "| `%s` | %s | ", pop_tables[t].name,
		    pop_tables[t].title);
		for (i = 0; i < pop_tables[t].ncats; i++)
			buf_addf(b, "%s`%s`", i ? ", " : "", pop_tables[t].cats[i]);
		buf_adds(b, " |\n");
	}
	return buf_adds(b, "\n");
}

static pc_rc
doc_ethnicity(struct buf *b)
{
	int i, k;

	buf_adds(b, "## Ethnic groups: NHS 2001 categories from Census "
	    "2021's\n\nThe data set records the NHS Data Dictionary's ethnic "
	    "categories (2001: 16 codes, with `Z` not stated and `99` not "
	    "known); Census 2021 publishes 19. Each data set category takes "
	    "the residents of the Census categories beside it, and the five "
	    "broad groups are added up from the categories on both sides, the "
	    "data set's way: Chinese (`R`) is under Other, not Asian as in "
	    "Census 2021, so Asian and Other residents are counted as the "
	    "referrals are. Census 2021's Gypsy or Irish Traveller and Roma "
	    "fall in `C` (the 2001 list has neither) and Arab in `S`; people "
	    "who would tick those may be recorded differently by a link "
	    "worker, which the mapping cannot know.\n\n"
	    "| code | data set category | broad group | Census 2021 categories "
	    "|\n|---|---|---|---|\n");
	for (i = 0; i < 16; i++) {
		buf_addf(b, "| `%s` | %s | %s | ", codes_ethnicity.v[i].code,
		    codes_ethnicity.v[i].label, codes_ethnic_group.v[
		    codes_ethnic_group_of(codes_ethnicity.v[i].code)].label);
		for (k = 0; k < 4 && ethnicity_map[i][k] != NULL; k++)
			buf_addf(b, "%s`%s`", k ? " + " : "", ethnicity_map[i][k]);
		buf_adds(b, " |\n");
	}
	return buf_adds(b, "| `Z`, `99` | not stated, not known | - | none: "
	    "no rate |\n\n");
}

static pc_rc
doc_bands(struct buf *b)
{
	static const int first[9] = {0, 3, 5, 7, 9, 11, 13, 15, 17};
	static const int last[9] = {2, 4, 6, 8, 10, 12, 14, 16, 17};
	size_t g;
	int k;

	buf_adds(b, "## Age bands, sex and deprivation\n\n"
	    "The Census table has five-year bands (0-4 ... 15-19 ...), so the "
	    "data set's 0-17 and 18-24 cannot be taken from it exactly: rates "
	    "use bands the population supports, which are the data set's from "
	    "25 on (`group_by=age_band_census`, `by_age_band_census`); every "
	    "other breakdown keeps the data set's bands.\n\n"
	    "| band | Census bands |\n|---|---|\n");
	for (g = 0; g < codes_age_band_census.n; g++) {
		buf_addf(b, "| %s | ", codes_age_band_census.v[g].label);
		for (k = first[g]; k <= last[g]; k++)
			buf_addf(b, "%s`%s`", k > first[g] ? " + " : "",
			    age_cats[k]);
		buf_adds(b, " |\n");
	}
	return buf_adds(b, "\n**Sex.** Census 2021 TS009 counts female and "
	    "male residents; the data set records gender. Female and male "
	    "referrals have rates; non-binary or other, not stated and not "
	    "known have none (there is no Census denominator for them in "
	    "these tables) and count as unknown.\n\n"
	    "**Deprivation.** The IMD 2019 ranks 2011 small areas (LSOAs); "
	    "their residents by decile come from ONS's **mid-2020** small-area "
	    "estimates, the later of the two populations the reference file "
	    "gives (the other is the IMD's own mid-2015 denominator) and the "
	    "nearer to the years social prescribing is counted in. They are "
	    "estimates from before Census 2021 and were later revised; no "
	    "Census 2021 population by IMD exists for 2011 areas. Quintile *q* "
	    "is deciles 2*q*-1 and 2*q*; a zero means the place has no area "
	    "of that decile, and its group has no rate.\n\n");
}

pc_rc
pop_markdown(struct buf *b)
{
	buf_adds(b, doc_head);
	doc_tables(b);
	doc_ethnicity(b);
	doc_bands(b);
	return buf_adds(b, doc_method);
}

/*
 * pop.h - population denominators: residents per place by ethnic group,
 * age band, sex and IMD decile, for reach per 1,000 residents of each
 * group and its ratio to the place's rate.
 *
 * The import file (pcmdsd population import FILE) is long CSV with the
 * header place,table,category,population,source: one row per place,
 * table and category, categories as the source publishes them (Census
 * 2021's 19 ethnic groups, its five-year age bands, female and male, IMD
 * deciles), and for every table a row "total", its own total (Census
 * tables differ from each other by a few people: each breakdown uses its
 * own). Whatever the data set groups differently is mapped here, in one
 * place, on both sides of every rate: the NHS 2001 ethnic categories
 * from Census 2021's 19 (Chinese moves from Asian to Other, as the data
 * set has it), ten-year bands from five-year ones, quintiles from
 * deciles. The default is the seven North East London places, built
 * from the reference tables in packaging/population/ (make builds it).
 */
#ifndef PCMDS_POP_H
#define PCMDS_POP_H

#include "agg.h"
#include "buf.h"
#include "err.h"
#include "store.h"

enum pop_table {
	POP_ETHNICITY,		/* Census 2021, 19 categories */
	POP_AGE,		/* Census 2021 TS007A, 18 five-year bands */
	POP_SEX,		/* Census 2021 TS009: female, male */
	POP_IMD,		/* small-area estimates by IMD 2019 decile */
	POP_N
};

#define POP_CATS	19	/* the most categories of any table */

struct pop_table_info {
	const char		*name;		/* in the import file */
	const char		*title;
	const char *const	*cats;		/* its categories, in order */
	size_t			 ncats;
};

extern const struct pop_table_info pop_tables[POP_N];

/* One table's denominators (of a place, or summed over places). */
struct pop_counts {
	int	 loaded;
	long	 cat[POP_CATS];
	long	 total;
	char	 source[200];
};

struct pop_place {
	char			 code[REC_PLACE_MAX + 1];
	struct pop_counts	 t[POP_N];
};

/* Every place's denominators, as loaded from the store. */
struct pop {
	struct pop_place	*v;
	size_t			 n;
};

/* The built-in default (CSV text, the seven NEL places). */
extern const char pop_default_csv[];

/*
 * Reads an import file and stores it: every row is checked first (a
 * known place, table and category, a whole number, a source; every
 * category of a table present once, adding up to its total), each
 * problem named by row and column, and nothing is stored if any is
 * wrong. Each place's table in the file replaces the one stored. Inside
 * the caller's transaction; *rows is the number of rows stored.
 */
pc_rc	 pop_import(struct store *, const char *text, size_t len,
	    const char *what, int *rows, struct err_list *);
pc_rc	 pop_import_file(struct store *, const char *path, int *rows,
	    struct err_list *);

/* Loads every place's denominators (p is the caller's; pop_free). */
pc_rc	 pop_load(struct store *, struct pop *);
void	 pop_free(struct pop *);

/*
 * A table summed over the places given (codes, n of them): loaded only if
 * every one of them has it. The source is the first place's.
 */
void	 pop_sum(const struct pop *, const char *const *codes, size_t n,
	    enum pop_table, struct pop_counts *out);
/* The table a breakdown's denominators come from; POP_N for none. */
enum pop_table pop_table_of(enum agg_dim);
/*
 * The residents of group g of dimension d, from its table's counts; -1
 * when the group has no population (not stated or not known, non-binary
 * or other gender: the Census counts sex, not gender).
 */
long	 pop_group(const struct pop_counts *, enum agg_dim d, int g);

/* docs/population.md: the format, the mappings and the methods. */
pc_rc	 pop_markdown(struct buf *);

#endif

/*
 * places.h - the places file: code, name and resident population.
 *
 * Populations make "referrals per 1,000 residents" comparable between
 * places. The default is the seven North East London places with their
 * Census 2021 usual residents; any integrated care system loads its own
 * with pcmdsd places import.
 */
#ifndef PCMDS_PLACES_H
#define PCMDS_PLACES_H

#include "err.h"
#include "store.h"

/* The built-in default places file (CSV text). */
extern const char places_default_csv[];

/*
 * Reads a places CSV (header code,name,population[,population_source])
 * and stores every place. All rows are checked first; nothing is stored
 * if any row is wrong. Returns the number of places in *n.
 */
pc_rc	 places_import(struct store *, const char *text, size_t len,
	    const char *what, int *n, struct err_list *);
pc_rc	 places_import_file(struct store *, const char *path, int *n,
	    struct err_list *);

#endif

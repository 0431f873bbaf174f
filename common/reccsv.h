/*
 * reccsv.h - records as CSV: one column per field of any kind.
 *
 * Used by the client's local export and the server's evaluator export,
 * so both give spreadsheets the same columns. Lists are joined with ';';
 * a correction's "set" is written as JSON text.
 */
#ifndef PCMDS_RECCSV_H
#define PCMDS_RECCSV_H

#include <cjson/cJSON.h>

#include "buf.h"

/*
 * Header row; first and last name an extra leading and trailing column
 * (or NULL).
 */
pc_rc	 reccsv_header(struct buf *, const char *first, const char *last);
/* One record, with the extra columns' values (or NULL). */
pc_rc	 reccsv_row(struct buf *, const cJSON *rec, const char *first,
	    const char *last);
/* The columns, in order (static storage). */
size_t	 reccsv_columns(const char *const **names);

#endif

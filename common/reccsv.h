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

/* Header row; first names an extra leading column (or NULL). */
pc_rc	 reccsv_header(struct buf *, const char *first);
/* One record; first is the extra leading column's value (or NULL). */
pc_rc	 reccsv_row(struct buf *, const cJSON *rec, const char *first);

#endif

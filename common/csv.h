/*
 * csv.h - RFC 4180 CSV, read and written.
 *
 * The reader handles quoted fields with commas, doubled quotes and line
 * breaks, CRLF or LF line ends and a UTF-8 byte-order mark (as saved by
 * spreadsheet programs), and bounds every row so that a hostile file
 * cannot exhaust memory.
 */
#ifndef PCMDS_CSV_H
#define PCMDS_CSV_H

#include <stdio.h>

#include "buf.h"
#include "err.h"

#define CSV_FIELDS_MAX	256
#define CSV_ROW_MAX	(64 * 1024)

struct csv_reader {
	FILE		*fp;
	long		 line;		/* physical line of the row's start */
	long		 row;		/* 1 for the header, 2 for data ... */
	struct buf	 data;		/* the row's fields, NUL-separated */
	char		*field[CSV_FIELDS_MAX];
	size_t		 nfields;
	int		 started;
};

void	 csv_init(struct csv_reader *, FILE *);
void	 csv_free(struct csv_reader *);
/*
 * Reads the next row: 1 when a row was read, 0 at end of file, -1 on a
 * malformed or oversized row (described in errs; nfields is then 0).
 */
int	 csv_next(struct csv_reader *, struct err_list *);

/*
 * Appends one field, quoted when needed. With guard set, text that a
 * spreadsheet would run as a formula (starting =, +, -, @) is prefixed
 * with an apostrophe; numbers are left alone.
 */
pc_rc	 csv_field(struct buf *, const char *s, int guard);
/* Appends fields separated by commas and a CRLF line end. */
pc_rc	 csv_row(struct buf *, const char *const *fields, size_t n, int guard);

#endif

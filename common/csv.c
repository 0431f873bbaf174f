/*
 * csv.c - RFC 4180 reader and writer.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

void
csv_init(struct csv_reader *r, FILE *fp)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	buf_init(&r->data, CSV_ROW_MAX);
}

void
csv_free(struct csv_reader *r)
{
	buf_free(&r->data);
}

static int
row_error(struct csv_reader *r, struct err_list *errs, const char *msg)
{
	int c;

	r->nfields = 0;		/* the fields read so far are not a row */
	err_add(errs, E_FORMAT, "", "row %ld (line %ld): %s", r->row, r->line,
	    msg);
	/* skip to the end of the physical line so reading can go on */
	while ((c = getc(r->fp)) != EOF && c != '\n')
		;
	return -1;
}

int
csv_next(struct csv_reader *r, struct err_list *errs)
{
	size_t offs[CSV_FIELDS_MAX], i;
	int c, quoted = 0, after_quote = 0, any = 0;

	buf_reset(&r->data);
	r->nfields = 0;
	r->row++;
	r->line++;
	if (!r->started) {
		r->started = 1;
		c = getc(r->fp);
		if (c == 0xef) {	/* UTF-8 byte-order mark */
			if (getc(r->fp) != 0xbb || getc(r->fp) != 0xbf)
				return row_error(r, errs, "bad byte-order mark");
		} else if (c != EOF)
			ungetc(c, r->fp);
	}
	offs[0] = 0;
	r->nfields = 1;
	for (;;) {
		c = getc(r->fp);
		if (c == EOF) {
			if (quoted)
				return row_error(r, errs, "a quoted field is "
				    "not closed");
			if (!any)
				return 0;
			break;
		}
		any = 1;
		if (quoted) {
			if (c == '"') {
				int d = getc(r->fp);

				if (d == '"')
					goto add;
				if (d != EOF)
					ungetc(d, r->fp);
				quoted = 0;
				after_quote = 1;
				continue;
			}
			if (c == '\n')
				r->line++;
			goto add;
		}
		if (c == '\r') {
			int d = getc(r->fp);

			if (d == '\n')
				break;
			if (d != EOF)
				ungetc(d, r->fp);
			break;
		}
		if (c == '\n')
			break;
		if (c == ',') {
			if (r->nfields == CSV_FIELDS_MAX)
				return row_error(r, errs, "too many fields");
			if (buf_addc(&r->data, '\0') != PC_OK)
				return row_error(r, errs, "row too long");
			offs[r->nfields++] = r->data.len;
			after_quote = 0;
			continue;
		}
		if (c == '"' && r->data.len == offs[r->nfields - 1] &&
		    !after_quote) {
			quoted = 1;
			continue;
		}
		if (after_quote)
			return row_error(r, errs, "text after a closing quote");
add:
		if (buf_addc(&r->data, (char)c) != PC_OK)
			return row_error(r, errs, "row too long");
	}
	if (buf_addc(&r->data, '\0') != PC_OK)
		return row_error(r, errs, "row too long");
	if (memchr(r->data.p, '\0', r->data.len - 1) != NULL) {
		/* a NUL inside a field would cut it short: refuse it */
		size_t k, count = 0;

		for (k = 0; k + 1 < r->data.len; k++)
			count += r->data.p[k] == '\0';
		if (count != r->nfields - 1) {
			err_add(errs, E_FORMAT, "", "row %ld (line %ld): holds a "
			    "NUL byte", r->row, r->line);
			r->nfields = 0;
			return -1;
		}
	}
	for (i = 0; i < r->nfields; i++)
		r->field[i] = r->data.p + offs[i];
	return 1;
}

static int
looks_numeric(const char *s)
{
	char *end;

	if (*s == '\0')
		return 0;
	(void)strtod(s, &end);
	return *end == '\0';
}

pc_rc
csv_field(struct buf *b, const char *s, int guard)
{
	int quote = 0, prefix = 0;
	const char *p;
	pc_rc rc;

	if (guard && strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0' &&
	    !looks_numeric(s))
		prefix = 1;
	for (p = s; *p != '\0'; p++)
		if (*p == ',' || *p == '"' || *p == '\n' || *p == '\r')
			quote = 1;
	if (s[0] == ' ' || (s[0] != '\0' && s[strlen(s) - 1] == ' '))
		quote = 1;
	if (!quote && !prefix)
		return buf_adds(b, s);
	if ((quote && (rc = buf_addc(b, '"')) != PC_OK) ||
	    (prefix && (rc = buf_addc(b, '\'')) != PC_OK))
		return rc;
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' && (rc = buf_addc(b, '"')) != PC_OK)
			return rc;
		if ((rc = buf_addc(b, *p)) != PC_OK)
			return rc;
	}
	return quote ? buf_addc(b, '"') : PC_OK;
}

pc_rc
csv_row(struct buf *b, const char *const *fields, size_t n, int guard)
{
	size_t i;
	pc_rc rc;

	for (i = 0; i < n; i++) {
		if (i > 0 && (rc = buf_addc(b, ',')) != PC_OK)
			return rc;
		if ((rc = csv_field(b, fields[i] ? fields[i] : "", guard)) !=
		    PC_OK)
			return rc;
	}
	return buf_adds(b, "\r\n");
}

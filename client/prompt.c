/*
 * prompt.c - interactive questions on a terminal.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client.h"
#include "nhs.h"
#include "prompt.h"

int
prompt_available(void)
{
	return isatty(STDIN_FILENO);
}

pc_rc
prompt_line(const char *question, char *out, size_t len)
{
	char *e;
	size_t n;

	fputs(question, stderr);
	fflush(stderr);
	if (fgets(out, (int)len, stdin) == NULL) {
		fputs("\n", stderr);
		return PC_EIO;
	}
	n = strlen(out);
	if (n > 0 && out[n - 1] != '\n' && !feof(stdin)) {
		int ch;

		while ((ch = getchar()) != EOF && ch != '\n')
			;	/* overlong: drop the rest of the line */
	}
	e = out + strlen(out);
	while (e > out && isspace((unsigned char)e[-1]))
		*--e = '\0';
	while (isspace((unsigned char)out[0]))
		memmove(out, out + 1, strlen(out));
	return PC_OK;
}

static void
show_choices(const struct codelist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		fprintf(stderr, "  %2zu) %-22s %s\n", i + 1, l->v[i].code,
		    l->v[i].label);
}

/* "3" -> the third code; codes pass through. */
static void
number_to_code(const struct codelist *l, char *item, size_t len)
{
	char *end;
	long n = strtol(item, &end, 10);

	if (*item != '\0' && *end == '\0' && n >= 1 && (size_t)n <= l->n &&
	    code_index(l, item) < 0)
		snprintf(item, len, "%s", l->v[n - 1].code);
}

static void
codes_from_numbers(const struct codelist *l, char *out, size_t len)
{
	char copy[512], item[64], *p, *save = NULL;
	size_t off = 0;

	snprintf(copy, sizeof(copy), "%s", out);
	out[0] = '\0';
	for (p = strtok_r(copy, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save)) {
		snprintf(item, sizeof(item), "%s", p);
		number_to_code(l, item, sizeof(item));
		off += (size_t)snprintf(out + off, len - off, "%s%s",
		    off ? "," : "", item);
		if (off >= len)
			break;
	}
}

static const char *
hint(const struct field *f)
{
	switch (f->type) {
	case FT_DATE:
		return " (YYYY-MM-DD; Enter for today)";
	case FT_BOOL:
		return " (yes/no)";
	case FT_TRISTATE:
		return " (yes/no/unknown)";
	case FT_ENUM:
		return " (number or code)";
	case FT_ENUM_SET:
		return " (numbers or codes, separated by commas)";
	default:
		return "";
	}
}

pc_rc
prompt_field(const struct field *f, const struct rec_opts *o, char *out,
    size_t len)
{
	char q[256];
	struct err_list errs;
	cJSON *v;
	pc_rc rc;
	int optional = !(f->flags & (FF_REQUIRED | FF_SCORE));

	err_init(&errs);
	if (f->codes != NULL && (f->type == FT_ENUM || f->type == FT_ENUM_SET)) {
		fprintf(stderr, "%s:\n", f->label);
		show_choices(f->codes);
	}
	snprintf(q, sizeof(q), "%s%s%s: ", f->label, hint(f),
	    optional ? " [Enter to skip]" : "");
	for (;;) {
		if ((rc = prompt_line(q, out, len)) != PC_OK)
			break;
		if (out[0] == '\0' && f->type == FT_DATE)
			record_local_date(0, out);
		if (out[0] == '\0' && optional)
			break;
		if (f->type == FT_ENUM)
			number_to_code(f->codes, out, len);
		else if (f->type == FT_ENUM_SET)
			codes_from_numbers(f->codes, out, len);
		v = record_value(f, out);
		err_clear(&errs);
		rec_check_value(f, v, f->name, o, &errs);
		cJSON_Delete(v);
		if (errs.n == 0)
			break;
		fprintf(stderr, "  %s\n", errs.v[0].msg);
	}
	err_free(&errs);
	return rc;
}

pc_rc
prompt_nhs_number(char *out, size_t len)
{
	struct err_list errs;
	char digits[11];
	pc_rc rc;

	err_init(&errs);
	for (;;) {
		rc = prompt_line("NHS number (10 digits; Enter if the person has "
		    "none): ", out, len);
		if (rc != PC_OK || out[0] == '\0')
			break;
		err_clear(&errs);
		if (nhs_normalise(out, digits, &errs) == PC_OK)
			break;
		fprintf(stderr, "  %s\n", errs.v[0].msg);
	}
	sec_wipe(digits, sizeof(digits));
	err_free(&errs);
	return rc;
}

pc_rc
prompt_ons4(const int need[ONS4_N], int scores[ONS4_N], int *declined)
{
	char line[64], *end;
	int m, first = 1;
	long v;

	*declined = 0;
	fprintf(stderr, "ONS4 personal well-being. %s\n", ons4_scale_note);
	for (m = 0; m < ONS4_N; m++) {
		if (!need[m])
			continue;
		for (;;) {
			fprintf(stderr, "\n%s\n", ons4_measures[m].question);
			if (prompt_line(first ? "Answer 0-10 (or 'declined'): " :
			    "Answer 0-10: ", line, sizeof(line)) != PC_OK)
				return PC_EIO;
			if (first && strcasecmp(line, "declined") == 0) {
				*declined = 1;
				return PC_OK;
			}
			v = strtol(line, &end, 10);
			if (line[0] != '\0' && *end == '\0' && v >= 0 &&
			    v <= 10) {
				scores[m] = (int)v;
				first = 0;
				break;
			}
			fprintf(stderr, "  %s must be a whole number from 0 to "
			    "10; got \"%s\"\n", ons4_measures[m].field, line);
		}
	}
	return PC_OK;
}

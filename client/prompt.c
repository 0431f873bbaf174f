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

static const char *
hint(const struct field *f)
{
	switch (f->type) {
	case FT_DATE:
		return " (DD/MM/YYYY, today or yesterday)";
	case FT_BOOL:
		return " (yes/no)";
	case FT_TRISTATE:
		return " (yes/no/unknown)";
	case FT_ENUM:
		return " (number, code or name)";
	case FT_ENUM_SET:
		return " (numbers, codes or names, separated by commas)";
	default:
		return "";
	}
}

/* The question, with what Enter does. */
static void
question(const struct field *f, const char *current, int optional, char *q,
    size_t len)
{
	if (current != NULL)
		snprintf(q, len, "%s%s [now %s; Enter keeps it]: ", f->label,
		    hint(f), current);
	else if (f->type == FT_DATE)
		snprintf(q, len, "%s%s [Enter for today]: ", f->label, hint(f));
	else
		snprintf(q, len, "%s%s%s: ", f->label, hint(f),
		    optional ? " [Enter to skip]" : "");
}

/* Every problem with the answer, one per line; 0 when there is none. */
static int
problems(const struct field *f, const struct rec_opts *o, prompt_check check,
    void *arg, const char *answer)
{
	struct err_list errs;
	cJSON *v = record_value(f, answer);
	size_t i;
	int n;

	err_init(&errs);
	rec_check_value(f, v, f->name, o, &errs);
	if (errs.n == 0 && check != NULL)
		check(arg, f, v, &errs);
	cJSON_Delete(v);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "  %s\n", errs.v[i].msg);
	n = (int)errs.n;
	err_free(&errs);
	return n;
}

pc_rc
prompt_field(const struct field *f, const struct rec_opts *o,
    const char *current, prompt_check check, void *arg, char *out, size_t len)
{
	char q[512];
	pc_rc rc;
	int optional = !(f->flags & (FF_REQUIRED | FF_SCORE));

	if (f->codes != NULL && (f->type == FT_ENUM || f->type == FT_ENUM_SET)) {
		fprintf(stderr, "%s:\n", f->label);
		show_choices(f->codes);
	}
	question(f, current, optional, q, sizeof(q));
	for (;;) {
		if ((rc = prompt_line(q, out, len)) != PC_OK)
			break;
		if (out[0] == '\0' && current != NULL) {
			snprintf(out, len, "%s", current);
			break;
		}
		if (out[0] == '\0' && f->type == FT_DATE)
			snprintf(out, len, "today");
		if (out[0] == '\0' && optional)
			break;
		if (problems(f, o, check, arg, out) == 0)
			break;
	}
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
			    "10; got \"%s\"\n", ons4_measures[m].label, line);
		}
	}
	return PC_OK;
}

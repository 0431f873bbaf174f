/*
 * opt.c - long-option parsing driven by a table.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

static int
find(const struct opt_spec *spec, const char *name, size_t len)
{
	int i;

	for (i = 0; spec[i].name != NULL; i++)
		if (strlen(spec[i].name) == len &&
		    strncmp(spec[i].name, name, len) == 0)
			return i;
	return -1;
}

static pc_rc
take(const struct opt_spec *spec, int i, const char *val,
    struct opt_result *r, struct err_list *errs)
{
	if (spec[i].type == OPT_LIST) {
		if (r->nlist == OPT_LIST_MAX) {
			err_add(errs, E_TOO_MANY, spec[i].name,
			    "--%s given more than %d times", spec[i].name,
			    OPT_LIST_MAX);
			return PC_EUSAGE;
		}
		r->list[r->nlist++] = val;
	}
	r->val[i] = val;
	return PC_OK;
}

static pc_rc
one_option(const struct opt_spec *spec, int argc, char **argv, int *ip,
    struct opt_result *r, struct err_list *errs)
{
	const char *arg = argv[*ip] + 2, *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	int i = find(spec, arg, len), neg = 0;

	if (i < 0 && len > 3 && strncmp(arg, "no-", 3) == 0 &&
	    (i = find(spec, arg + 3, len - 3)) >= 0 &&
	    spec[i].type == OPT_TOGGLE)
		neg = 1;
	else if (i >= 0 && strncmp(arg, "no-", 3) == 0 &&
	    spec[i].type == OPT_TOGGLE)
		i = -1;
	if (i < 0 || (neg && spec[i].type != OPT_TOGGLE)) {
		err_add(errs, E_UNKNOWN_FIELD, "", "unknown option --%.*s",
		    (int)len, arg);
		return PC_EUSAGE;
	}
	switch (spec[i].type) {
	case OPT_FLAG:
		if (eq != NULL) {
			err_add(errs, E_TYPE, spec[i].name, "--%s takes no "
			    "value", spec[i].name);
			return PC_EUSAGE;
		}
		return take(spec, i, "yes", r, errs);
	case OPT_TOGGLE:
		if (neg && eq != NULL) {
			err_add(errs, E_TYPE, spec[i].name, "--no-%s takes no "
			    "value", spec[i].name);
			return PC_EUSAGE;
		}
		return take(spec, i, neg ? "no" : eq ? eq + 1 : "yes", r, errs);
	case OPT_VALUE:
	case OPT_LIST:
		if (eq != NULL)
			return take(spec, i, eq + 1, r, errs);
		if (*ip + 1 >= argc) {
			err_add(errs, E_REQUIRED, spec[i].name, "--%s needs a "
			    "value (%s)", spec[i].name, spec[i].metavar);
			return PC_EUSAGE;
		}
		return take(spec, i, argv[++*ip], r, errs);
	}
	return PC_EUSAGE;
}

pc_rc
opt_parse(const struct opt_spec *spec, int minpos, int maxpos, int argc,
    char **argv, struct opt_result *r, struct err_list *errs)
{
	int i, only_pos = 0;
	pc_rc rc;

	memset(r, 0, sizeof(*r));
	r->spec = spec;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (!only_pos && (strcmp(a, "--help") == 0 ||
		    strcmp(a, "-h") == 0)) {
			r->help = 1;
			return PC_OK;
		}
		if (!only_pos && strncmp(a, "--", 2) == 0) {
			if ((rc = one_option(spec, argc, argv, &i, r, errs)) !=
			    PC_OK)
				return rc;
			continue;
		}
		if (!only_pos && a[0] == '-' && a[1] != '\0') {
			err_add(errs, E_UNKNOWN_FIELD, "", "unknown option %s "
			    "(pcmds options are long: --name)", a);
			return PC_EUSAGE;
		}
		if (r->npos >= maxpos || r->npos >= OPT_POS_MAX) {
			err_add(errs, E_TOO_MANY, "", "unexpected argument '%s'",
			    a);
			return PC_EUSAGE;
		}
		r->pos[r->npos++] = a;
	}
	if (r->npos < minpos) {
		err_add(errs, E_REQUIRED, "", "missing argument");
		return PC_EUSAGE;
	}
	return PC_OK;
}

const char *
opt_get(const struct opt_result *r, const char *name)
{
	int i = find(r->spec, name, strlen(name));

	return i < 0 ? NULL : r->val[i];
}

int
opt_has(const struct opt_result *r, const char *name)
{
	return opt_get(r, name) != NULL;
}

int
opt_number(const struct opt_result *r, const char *name, double lo,
    double hi, int whole, double dflt, double *out)
{
	const char *v = opt_get(r, name);
	char *end;
	double d;

	*out = dflt;
	if (v == NULL)
		return 0;
	errno = 0;
	d = strtod(v, &end);
	/* the range also refuses NaN and the infinities */
	if (end == v || *end != '\0' || errno != 0 || !(d >= lo && d <= hi) ||
	    (whole && d != floor(d)))
		return -1;
	*out = d;
	return 0;
}

void
opt_usage(const struct opt_spec *spec)
{
	char left[64];
	int i;

	for (i = 0; spec[i].name != NULL; i++) {
		switch (spec[i].type) {
		case OPT_FLAG:
			snprintf(left, sizeof(left), "--%s", spec[i].name);
			break;
		case OPT_TOGGLE:
			snprintf(left, sizeof(left), "--[no-]%s",
			    spec[i].name);
			break;
		default:
			snprintf(left, sizeof(left), "--%s %s", spec[i].name,
			    spec[i].metavar);
			break;
		}
		if (strlen(left) > 28)
			printf("  %s\n  %-28s %s\n", left, "", spec[i].help);
		else
			printf("  %-28s %s\n", left, spec[i].help);
	}
}

/*
 * opt.h - command-line options for pcmds.
 *
 * Long options only: --name VALUE or --name=VALUE. A toggle accepts
 * --name (yes), --no-name (no) or --name=VALUE. "--" ends the options.
 * Every option carries its help text, so "pcmds COMMAND --help" is
 * written from the same table that parses it.
 */
#ifndef PCMDS_OPT_H
#define PCMDS_OPT_H

#include "err.h"

#define OPT_MAX		40
#define OPT_POS_MAX	4
#define OPT_LIST_MAX	64

enum opt_type {
	OPT_FLAG,	/* --name */
	OPT_VALUE,	/* --name VALUE */
	OPT_LIST,	/* --name VALUE, may repeat */
	OPT_TOGGLE,	/* --name, --no-name, --name=VALUE */
};

struct opt_spec {
	const char	*name;
	enum opt_type	 type;
	const char	*metavar;
	const char	*help;
};

struct opt_result {
	const struct opt_spec	*spec;		/* NULL-terminated table */
	const char		*val[OPT_MAX];	/* by index in spec */
	const char		*list[OPT_LIST_MAX];
	int			 nlist;
	const char		*pos[OPT_POS_MAX];
	int			 npos;
	int			 help;
};

/*
 * Parses argv against spec; minpos..maxpos positional arguments. On a
 * usage problem adds a sentence to errs and returns PC_EUSAGE.
 */
pc_rc	 opt_parse(const struct opt_spec *, int minpos, int maxpos, int argc,
	    char **argv, struct opt_result *, struct err_list *);
/* The value of option name, or NULL when not given. */
const char *opt_get(const struct opt_result *, const char *name);
int	 opt_has(const struct opt_result *, const char *name);
/*
 * The value of option name as a number from lo to hi (a whole one when
 * whole) in *out, or dflt when it is not given: 0; -1 when it is given
 * and is not such a number, all of it ("12abc" and "" are none, where
 * atoi would take 12 and 0).
 */
int	 opt_number(const struct opt_result *, const char *name, double lo,
	    double hi, int whole, double dflt, double *out);
/* Writes the option table as help text to stdout. */
void	 opt_usage(const struct opt_spec *);

#endif

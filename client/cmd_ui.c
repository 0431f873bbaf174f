/*
 * cmd_ui.c - pcmds ui: the link worker's app in the browser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ui.h"

/*
 * v as a whole number, all of it, or -1 ("80abc" is not 80, as atoi would
 * have it). Values past 1 million are cut to it: no flag here takes one.
 */
static int
whole(const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0)
		return -1;
	return n > 1000000 ? 1000000 : n < -1 ? -1 : (int)n;
}

static int
run_ui(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	const char *v;
	int port = 0, idle = 30;
	pc_rc rc;

	if (opt_has(o, "routes")) {
		ui_print_routes();
		return EXIT_OK;
	}
	if ((v = opt_get(o, "port")) != NULL &&
	    ((port = whole(v)) < 1 || port > 65535)) {
		fprintf(stderr, "pcmds: --port must be 1 to 65535; got \"%s\"\n",
		    v);
		return EXIT_USAGE;
	}
	if ((v = opt_get(o, "idle")) != NULL &&
	    ((idle = whole(v)) < 1 || idle > 24 * 60)) {
		fprintf(stderr, "pcmds: --idle must be 1 to 1440 minutes; got "
		    "\"%s\"\n", v);
		return EXIT_USAGE;
	}
	err_init(&errs);
	/* the app's own page asks for the passphrase, never a terminal */
	c->interactive = 0;
	if ((rc = ctx_identity(c, &errs)) != PC_OK ||
	    (ctx_needs_unlock(c) != 1 && (rc = ctx_store(c, &errs)) != PC_OK))
		return ctx_fail(&errs, rc);
	err_free(&errs);
	return ui_run(c, port, idle * 60, !opt_has(o, "no-browser"));
}

static const struct opt_spec ui_opts[] = {
	{"port", OPT_VALUE, "N", "listen on this port of 127.0.0.1 (default: "
	    "a free one)"},
	{"no-browser", OPT_FLAG, NULL, "print the launch address (it holds a "
	    "single-use secret) as the first line instead of opening it"},
	{"idle", OPT_VALUE, "MINUTES", "close after this long unused "
	    "(default 30)"},
	{"routes", OPT_FLAG, NULL, "print the app's pages and exit"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_ui = {
	"ui", "", 0, 0, "the app: caseload, forms and sync in your browser",
	ui_opts, run_ui,
	"Serves the app on 127.0.0.1 only and opens it in the desktop's "
	"browser\n(xdg-open). It works with no network; only Sync needs one. "
	"Close it from\nthe app, or it closes itself after --idle minutes "
	"unused.\n",
};

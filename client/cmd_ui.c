/*
 * cmd_ui.c - pcmds ui: the link worker's app in the browser.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ui.h"

static int
run_ui(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	double port, idle;
	pc_rc rc;

	if (opt_has(o, "routes")) {
		ui_print_routes();
		return EXIT_OK;
	}
	/* no --port: 0, a port the system picks */
	if (opt_number(o, "port", 1, 65535, 1, 0, &port) != 0) {
		fprintf(stderr, "pcmds: --port must be 1 to 65535; got \"%s\"\n",
		    opt_get(o, "port"));
		return EXIT_USAGE;
	}
	if (opt_number(o, "idle", 1, 24 * 60, 1, 30, &idle) != 0) {
		fprintf(stderr, "pcmds: --idle must be 1 to 1440 minutes; got "
		    "\"%s\"\n", opt_get(o, "idle"));
		return EXIT_USAGE;
	}
	err_init(&errs);
	/* the app's own page asks for the passphrase, never a terminal */
	c->interactive = 0;
	if ((rc = ctx_identity(c, &errs)) != PC_OK ||
	    (ctx_needs_unlock(c) != 1 && (rc = ctx_store(c, &errs)) != PC_OK))
		return ctx_fail(&errs, rc);
	err_free(&errs);
	return ui_run(c, (int)port, (int)idle * 60, !opt_has(o, "no-browser"));
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

/*
 * cmd_vault.c - pcmds unlock, lock, passphrase and recover: the store's
 * passphrase, its agent and its recovery key (see unlock.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "client.h"

int
ctx_fail_unlock(struct err_list *errs, pc_rc rc)
{
	ctx_report(errs, NULL);
	err_free(errs);
	return rc == PC_EAUTH || rc == PC_EBUSY ? EXIT_LOCKED : exit_for(rc);
}

/* "90", "90s", "15m", "2h": seconds, or -1. */
static long
duration(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || v <= 0)
		return -1;
	if (strcmp(end, "m") == 0)
		v *= 60;
	else if (strcmp(end, "h") == 0)
		v *= 3600;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	return v > AGENT_IDLE_MAX ? -1 : v;
}

static int
run_unlock(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	const char *t = opt_get(o, "timeout");
	long idle = t ? duration(t) : AGENT_IDLE_DEFAULT;
	pc_rc rc;

	if (idle < 0) {
		fprintf(stderr, "pcmds: --timeout takes seconds, or minutes with "
		    "m, or hours with h (at most 24h); got %s\n", t);
		return EXIT_USAGE;
	}
	err_init(&errs);
	if ((rc = ctx_unlock_agent(c, (int)idle, &errs)) != PC_OK)
		return ctx_fail_unlock(&errs, rc);
	err_free(&errs);
	return EXIT_OK;
}

static int
run_lock(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	int was;

	(void)o;
	err_init(&errs);
	if ((was = ctx_lock(c, &errs)) < 0)
		return ctx_fail(&errs, PC_EIO);
	err_free(&errs);
	fprintf(stderr, was ? "pcmds: locked; the agent has forgotten the keys\n"
	    : "pcmds: it was not unlocked\n");
	return EXIT_OK;
}

/* A command that is one ctx step, which says what it did itself. */
static int
run_step(struct ctx *c, pc_rc (*step)(struct ctx *, struct err_list *))
{
	struct err_list errs;
	pc_rc rc;

	err_init(&errs);
	if ((rc = step(c, &errs)) != PC_OK)
		return ctx_fail_unlock(&errs, rc);
	err_free(&errs);
	return EXIT_OK;
}

static int
run_passphrase(struct ctx *c, struct opt_result *o)
{
	(void)o;
	return run_step(c, ctx_passphrase);
}

static int
run_recover(struct ctx *c, struct opt_result *o)
{
	(void)o;
	return run_step(c, ctx_recover);
}

static const struct opt_spec unlock_opts[] = {
	{"timeout", OPT_VALUE, "TIME", "lock after this long without use: "
	    "seconds, or 15m, 2h (default 15m)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

static const struct opt_spec home_only[] = {
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_unlock = {
	"unlock", "", 0, 0, "ask for the passphrase once, for the commands "
	"that follow", unlock_opts, run_unlock,
	"Starts an agent that keeps the store's keys in memory (never on disk) "
	"until\npcmds lock, or until it has not been used for --timeout. A "
	"store made by an\nolder pcmds is encrypted first, with a new "
	"passphrase. Scripts give the\npassphrase with --passphrase-fd N before "
	"the command:\n  pcmds --passphrase-fd 3 unlock 3< passphrase-file\n",
};

const struct command cmd_lock = {
	"lock", "", 0, 0, "forget the store's keys now (end the agent)",
	home_only, run_lock, NULL,
};

const struct command cmd_passphrase = {
	"passphrase", "", 0, 0, "change the store's passphrase", home_only,
	run_passphrase,
	"Asks for the current passphrase, then the new one twice; with "
	"--passphrase-fd N\n(before the command) reads them from two lines of "
	"N. Only the key wrap\nchanges: no record is encrypted again, and the "
	"recovery key stays the same.\n",
};

const struct command cmd_recover = {
	"recover", "", 0, 0, "set a new passphrase with the recovery key",
	home_only, run_recover,
	"Asks for the recovery key printed at setup (kept by your manager), "
	"then a new\npassphrase twice; with --passphrase-fd N (before the "
	"command) reads the\nrecovery key and the new passphrase from two lines "
	"of N. Every record is kept.\nA new recovery key is printed: the old "
	"one no longer works. The deployment\nkey is not recovered: install it "
	"again with pcmds setup --key-file FILE.\n",
};

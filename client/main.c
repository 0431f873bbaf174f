/*
 * main.c - pcmds, the link worker's client.
 *
 * Every command works offline except setup (with --server), sync,
 * report and extract. See pcmds(1) and pcmds help.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "client.h"
#include "describe.h"
#include "log.h"
#include "prompt.h"
#include "version.h"

static const struct command *const commands[] = {
	&cmd_keygen, &cmd_setup, &cmd_ui, &cmd_referral, &cmd_assess,
	&cmd_contact, &cmd_support, &cmd_close, &cmd_correct, &cmd_due,
	&cmd_find, &cmd_list, &cmd_show, &cmd_status, &cmd_sync, &cmd_report,
	&cmd_extract, &cmd_import, &cmd_export, &cmd_codes, &cmd_unlock,
	&cmd_lock, &cmd_passphrase, &cmd_recover,
};

/*
 * Commands that open the store themselves, or need none. The app asks
 * for the passphrase on its own page (ctx_unlock), not before it starts.
 */
static const struct command *const keyless[] = {
	&cmd_keygen, &cmd_setup, &cmd_codes, &cmd_unlock, &cmd_lock,
	&cmd_passphrase, &cmd_recover, &cmd_ui,
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
usage_all(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: pcmds [--home DIR] [--passphrase-fd N] COMMAND "
	    "[options]\n\n"
	    "The personalised care minimum data-set client for social "
	    "prescribing.\nRecords are kept on this device and sent to the "
	    "server by pcmds sync.\n\nCommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-10s %s\n", commands[i]->name,
		    commands[i]->summary);
	fprintf(fp, "\npcmds help COMMAND (or pcmds COMMAND --help) shows a "
	    "command's options.\nThe store lives in --home DIR, $PCMDS_HOME, "
	    "or the XDG data and config\ndirectories. It is encrypted: pcmds "
	    "unlock asks for the passphrase once;\n--passphrase-fd N reads it "
	    "from file descriptor N instead (for scripts).\nExit codes: 0 ok, 1 "
	    "invalid data or refused, 2 usage, 3 store\nerror, 4 some records "
	    "quarantined, 5 server unreachable, not trusted (its\ncertificate), "
	    "busy or failing, 6 authentication, 7 store locked or wrong\n"
	    "passphrase.\n");
}

static void
usage_command(const struct command *cmd)
{
	printf("usage: pcmds %s%s%s [options]\n\n%s.\n", cmd->name,
	    cmd->args[0] ? " " : "", cmd->args, cmd->summary);
	if (strcmp(cmd->args, "REF") == 0 || strcmp(cmd->args, "RECORD") == 0)
		printf("%s is a short id (the 8 hex digits printed when it was "
		    "recorded), any\nunique start of it, more of its id's last "
		    "group, or the whole id.\n", cmd->args);
	printf("\nOptions:\n");
	opt_usage(cmd->opts);
	if (cmd->details != NULL)
		printf("\n%s", cmd->details);
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static int
needs_store(const struct command *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(keyless) / sizeof(keyless[0]); i++)
		if (keyless[i] == cmd)
			return 0;
	return 1;
}

static int
run(const struct command *cmd, int argc, char **argv, const char *home,
    int pass_fd)
{
	struct opt_result o;
	struct err_list errs;
	struct ctx c;
	pc_rc rc;
	int ex;

	err_init(&errs);
	if (opt_parse(cmd->opts, cmd->minpos, cmd->maxpos, argc, argv, &o,
	    &errs) != PC_OK) {
		ctx_report(&errs, NULL);
		fprintf(stderr, "usage: pcmds %s%s%s [options]; pcmds %s --help "
		    "lists them\n", cmd->name, cmd->args[0] ? " " : "",
		    cmd->args, cmd->name);
		err_free(&errs);
		return EXIT_USAGE;
	}
	if (o.help) {
		usage_command(cmd);
		return EXIT_OK;
	}
	memset(&c, 0, sizeof(c));
	c.has_pass_fd = pass_fd >= 0;
	c.pass_fd = pass_fd;
	c.home_opt = opt_get(&o, "home") ? opt_get(&o, "home") : home;
	c.interactive = prompt_available();
	record_opts(&c.ropts);
	if (home_locate(c.home_opt, &c.home, &errs) != PC_OK ||
	    home_config_load(&c.home, &c.cfg, &errs) != PC_OK) {
		ctx_report(&errs, NULL);
		err_free(&errs);
		return EXIT_STORE;
	}
	/* unlocked first: a command's token comes from the store */
	if (needs_store(cmd) && (rc = ctx_prepare(&c, &errs)) != PC_OK) {
		ctx_close(&c);
		return ctx_fail_unlock(&errs, rc);
	}
	err_free(&errs);
	ex = cmd->run(&c, &o);
	describe_assets_from(NULL);
	ctx_close(&c);
	err_free(&c.warnings);
	return ex;
}

/* N of --passphrase-fd N: an open descriptor, or -1. */
static int
parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 0 || v > 1024 ||
	    fcntl((int)v, F_GETFD) < 0)
		return -1;
	return (int)v;
}

int
main(int argc, char *argv[])
{
	const struct command *cmd;
	const char *home = NULL, *fdarg = NULL;
	int i = 1, pass_fd = -1;

	/* files we create (store, WAL, config, key) are for us alone */
	umask(077);
	ctx_harden();
	if (argc == 2 && strcmp(argv[1], AGENT_EXEC_ARG) == 0)
		return agent_exec_main();
	setlocale(LC_CTYPE, "C.UTF-8");
	log_init("pcmds", 0);
	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("pcmds %s\n", PCMDS_VERSION);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--help") == 0) {
			usage_all(stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--home") == 0 && i + 1 < argc) {
			home = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--home=", 7) == 0) {
			home = argv[i] + 7;
			i++;
		} else if (strcmp(argv[i], "--passphrase-fd") == 0 &&
		    i + 1 < argc) {
			fdarg = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--passphrase-fd=", 16) == 0) {
			fdarg = argv[i] + 16;
			i++;
		} else {
			fprintf(stderr, "pcmds: unknown option %s\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (fdarg != NULL && (pass_fd = parse_fd(fdarg)) < 0) {
		fprintf(stderr, "pcmds: --passphrase-fd needs the number of an "
		    "open file descriptor; got %s\n", fdarg);
		return EXIT_USAGE;
	}
	if (i >= argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc && (cmd = find_command(argv[i + 1])) != NULL) {
			usage_command(cmd);
			return EXIT_OK;
		}
		usage_all(stdout);
		return i + 1 < argc ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[i], "version") == 0) {
		printf("pcmds %s\n", PCMDS_VERSION);
		return EXIT_OK;
	}
	if ((cmd = find_command(argv[i])) == NULL) {
		fprintf(stderr, "pcmds: unknown command %s (pcmds help lists "
		    "them)\n", argv[i]);
		return EXIT_USAGE;
	}
	return run(cmd, argc - i - 1, argv + i + 1, home, pass_fd);
}

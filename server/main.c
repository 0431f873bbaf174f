/*
 * main.c - pcmdsd: the pcmds server and its administration commands.
 *
 * The options --config FILE and --verbose may come before or after the
 * command, as git's and systemctl's do.
 *
 *   pcmdsd init --dir DIR [--listen HOST:PORT] [--database URI]
 *          [--host NAME]...
 *   pcmdsd [--config FILE] serve
 *   pcmdsd [--config FILE] user add --role ROLE [--place CODE] [--pcn U]
 *          --name NAME [--worker ID] [--oidc-subject SUB] [--json]
 *   pcmdsd [--config FILE] user list | user code ID | user revoke ID |
 *          user link ID --oidc-subject SUB | user unlink ID
 *   pcmdsd [--config FILE] places import FILE.csv | places list |
 *          places default
 *   pcmdsd [--config FILE] population import FILE.csv | population list |
 *          population default
 *   pcmdsd [--config FILE] assets import FILE.csv | assets list [PLACE]
 *   pcmdsd [--config FILE] audit verify [--head SEQ:HASH]...
 *   pcmdsd [--config FILE] migrate --to postgresql://...
 *   pcmdsd secret create FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "jarena.h"
#include "log.h"
#include "migrate.h"
#include "places.h"
#include "pop.h"
#include "secret.h"
#include "srv.h"
#include "version.h"

#define DEFAULT_CONFIG	"/etc/pcmds/pcmdsd.conf"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pcmdsd [--config FILE] COMMAND\n\n"
	    "  init --dir DIR [--listen HOST:PORT] [--database URI] "
	    "[--host NAME]...\n"
	    "                       a new deployment: configuration, places, "
	    "database\n"
	    "                       (DIR/pcmds.db, or a postgresql:// URI), "
	    "development\n"
	    "                       CA and server certificate\n"
	    "  serve                run the HTTPS server\n"
	    "  user add --role link_worker|place_lead|evaluator [--place CODE]\n"
	    "           [--pcn U12345] --name NAME [--worker ID]\n"
	    "           [--oidc-subject SUB] [--json]\n"
	    "                       add a user; prints a one-time code\n"
	    "  user list            users and their state\n"
	    "  user code ID         a new one-time code (enrolment or "
	    "dashboard login)\n"
	    "  user revoke ID       revoke a user and all their tokens, now\n"
	    "  user link ID --oidc-subject SUB\n"
	    "                       the person signs in to the dashboard "
	    "through the\n"
	    "                       OpenID Connect provider (oidc_issuer) as "
	    "subject SUB\n"
	    "  user unlink ID       ends that: the provider no longer signs "
	    "them in\n"
	    "  places import FILE   load places (code,name,population)\n"
	    "  places list          the places and their populations\n"
	    "  places default       print the built-in places file\n"
	    "  population import FILE  load population denominators "
	    "(place,table,category,population,source)\n"
	    "  population list      the denominators, as an import file\n"
	    "  population default   print the built-in denominators (NEL)\n"
	    "  assets import FILE   load directories of community assets\n"
	    "                       "
	    "(id,name,category,place[,contact][,notes])\n"
	    "  assets list [PLACE]  the directories\n"
	    "  audit verify [--head SEQ:HASH]...\n"
	    "                       check the audit log's keyed chain and the "
	    "records it\n"
	    "                       stored; with heads the server logged, also "
	    "truncation\n"
	    "  migrate --to postgresql://...\n"
	    "                       copy this deployment's database into an "
	    "empty\n"
	    "                       PostgreSQL one, then count, compare and "
	    "verify it\n"
	    "  secret create FILE   a new server secret (secret_file), mode "
	    "0600\n\n"
	    "--config (before or after the command) defaults to "
	    "$PCMDSD_CONFIG, then\n" DEFAULT_CONFIG ".\n");
}

/* Value of --name in argv (either --name V or --name=V), or NULL. */
static const char *
flag(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], name, n) != 0)
			continue;
		if (argv[i][n] == '=')
			return argv[i] + n + 1;
		if (argv[i][n] == '\0' && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

static int
has(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

static int
load_conf(struct conf *cf, const char *path)
{
	struct err_list errs;
	size_t i;

	conf_defaults(cf);
	err_init(&errs);
	if (conf_load(cf, path, &errs) != PC_OK) {
		for (i = 0; i < errs.n; i++)
			if (strstr(errs.v[i].msg, errs.v[i].field) != NULL)
				fprintf(stderr, "pcmdsd: %s\n", errs.v[i].msg);
			else
				fprintf(stderr, "pcmdsd: %s: %s\n",
				    errs.v[i].field, errs.v[i].msg);
		fprintf(stderr, "pcmdsd: the configuration is given with "
		    "--config FILE or $PCMDSD_CONFIG (default %s)\n",
		    DEFAULT_CONFIG);
		err_free(&errs);
		return -1;
	}
	err_free(&errs);
	return 0;
}

static int
cmd_init(int argc, char **argv)
{
	const char *hosts[16];
	const char *dir = flag(argc, argv, "--dir");
	const char *listen = flag(argc, argv, "--listen");
	const char *database = flag(argc, argv, "--database");
	size_t n = 0;
	int i;

	if (dir == NULL) {
		fprintf(stderr, "pcmdsd: init needs --dir DIR\n");
		return 2;
	}
	for (i = 0; i + 1 < argc && n < 16; i++)
		if (strcmp(argv[i], "--host") == 0)
			hosts[n++] = argv[i + 1];
	if (database != NULL && !store_is_pg(database)) {
		fprintf(stderr, "pcmdsd: --database takes a postgresql:// URI; "
		    "without it the database is DIR/pcmds.db\n");
		return 2;
	}
	return admin_init(dir, listen ? listen : "127.0.0.1:8443", database,
	    hosts, n);
}

static int
cmd_secret(int argc, char **argv)
{
	struct err_list errs;
	size_t i;
	int rc = 0;

	if (argc != 2 || strcmp(argv[0], "create") != 0) {
		usage(stderr);
		return 2;
	}
	err_init(&errs);
	if (secret_create(argv[1], &errs) != PC_OK) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "pcmdsd: %s\n", errs.v[i].msg);
		rc = 1;
	} else
		printf("pcmdsd: server secret written to %s (mode 0600); name "
		    "it as secret_file in pcmdsd.conf and back it up apart "
		    "from the database\n", argv[1]);
	err_free(&errs);
	return rc;
}

static int
cmd_user(struct store *st, const struct conf *cf, int argc, char **argv)
{
	struct store_user u;
	const char *v;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "list") == 0)
		return admin_user_list(st, cf);
	if (strcmp(argv[0], "link") == 0 && argc >= 2)
		return admin_user_link(st, cf, strtoll(argv[1], NULL, 10),
		    flag(argc, argv, "--oidc-subject"));
	if (strcmp(argv[0], "unlink") == 0 && argc == 2)
		return admin_user_unlink(st, cf, strtoll(argv[1], NULL, 10));
	if (strcmp(argv[0], "revoke") == 0 && argc == 2)
		return admin_user_revoke(st, strtoll(argv[1], NULL, 10));
	if (strcmp(argv[0], "code") == 0 && argc >= 2)
		return admin_user_code(st, cf, strtoll(argv[1], NULL, 10),
		    has(argc, argv, "--json"));
	if (strcmp(argv[0], "add") != 0) {
		usage(stderr);
		return 2;
	}
	memset(&u, 0, sizeof(u));
	if ((u.role = store_role_parse(flag(argc, argv, "--role"))) ==
	    ROLE_N) {
		fprintf(stderr, "pcmdsd: --role must be link_worker, "
		    "place_lead or evaluator\n");
		return 2;
	}
	snprintf(u.name, sizeof(u.name), "%s", (v = flag(argc, argv,
	    "--name")) ? v : "");
	snprintf(u.place, sizeof(u.place), "%s", (v = flag(argc, argv,
	    "--place")) ? v : "");
	snprintf(u.pcn, sizeof(u.pcn), "%s", (v = flag(argc, argv,
	    "--pcn")) ? v : "");
	snprintf(u.worker, sizeof(u.worker), "%s", (v = flag(argc, argv,
	    "--worker")) && u.role == ROLE_LINK_WORKER ? v : "");
	return admin_user_add(st, cf, &u, flag(argc, argv, "--oidc-subject"),
	    has(argc, argv, "--json"));
}

/* audit verify [--head SEQ:HASH]... */
static int
cmd_verify(struct store *st, int argc, char **argv)
{
	const char *heads[16];
	size_t n = 0;
	int i;

	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--head=", 7) == 0 && n < 16)
			heads[n++] = argv[i] + 7;
		else if (strcmp(argv[i], "--head") == 0 && i + 1 < argc &&
		    n < 16)
			heads[n++] = argv[++i];
		else {
			fprintf(stderr, "pcmdsd: audit verify takes --head "
			    "SEQ:HASH (up to 16); got %s\n", argv[i]);
			return 2;
		}
	}
	return admin_audit_verify(st, heads, n);
}

static int
cmd_admin(const struct conf *cf, int argc, char **argv)
{
	struct store *st;
	int rc = 2;

	if (admin_open(cf, &st) != 0)
		return 1;
	if (strcmp(argv[0], "user") == 0)
		rc = cmd_user(st, cf, argc - 1, argv + 1);
	else if (strcmp(argv[0], "places") == 0 && argc == 3 &&
	    strcmp(argv[1], "import") == 0)
		rc = admin_places_import(st, argv[2]);
	else if (strcmp(argv[0], "places") == 0 && argc == 2 &&
	    strcmp(argv[1], "list") == 0)
		rc = admin_places_list(st);
	else if (strcmp(argv[0], "population") == 0 && argc == 3 &&
	    strcmp(argv[1], "import") == 0)
		rc = admin_population_import(st, argv[2]);
	else if (strcmp(argv[0], "population") == 0 && argc == 2 &&
	    strcmp(argv[1], "list") == 0)
		rc = admin_population_list(st);
	else if (strcmp(argv[0], "assets") == 0 && argc == 3 &&
	    strcmp(argv[1], "import") == 0)
		rc = admin_assets_import(st, argv[2]);
	else if (strcmp(argv[0], "assets") == 0 && argc >= 2 && argc <= 3 &&
	    strcmp(argv[1], "list") == 0)
		rc = admin_assets_list(st, argc == 3 ? argv[2] : NULL);
	else if (strcmp(argv[0], "audit") == 0 && argc >= 2 &&
	    strcmp(argv[1], "verify") == 0)
		rc = cmd_verify(st, argc - 2, argv + 2);
	else
		usage(stderr);
	store_close(st);
	return rc;
}

/*
 * Takes the global options out of argv wherever they are, before or
 * after the command (argv is compacted; *argc shrinks). Returns 0, 1 when
 * --help or --version was answered, or 2 on a usage error.
 */
static int
global_options(int *argc, char **argv, const char **config)
{
	int i, n = 1, command = 0;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {	/* the rest is the command's */
			while (i < *argc)
				argv[n++] = argv[i++];
			break;
		}
		if (strcmp(a, "--config") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "pcmdsd: --config needs a file\n");
				return 2;
			}
			*config = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0)
			*config = a + 9;
		else if (strcmp(a, "--verbose") == 0)
			log_setverbose(1);
		else if (strcmp(a, "--version") == 0) {
			printf("pcmdsd %s\n", PCMDS_VERSION);
			return 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		} else if (!command && strncmp(a, "-", 1) == 0) {
			fprintf(stderr, "pcmdsd: unknown option %s\n", a);
			usage(stderr);
			return 2;
		} else {
			command = 1;	/* its own options are its business */
			argv[n++] = argv[i];
		}
	}
	argv[n] = NULL;
	*argc = n;
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *config = getenv("PCMDSD_CONFIG");
	struct conf cf;
	int i = 1, g;

	jarena_install();	/* before cJSON allocates anything */
	log_init("pcmdsd", 1);
	if (config == NULL)
		config = DEFAULT_CONFIG;
	if ((g = global_options(&argc, argv, &config)) != 0)
		return g == 1 ? 0 : 2;
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "init") == 0)
		return cmd_init(argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "secret") == 0)
		return cmd_secret(argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "version") == 0) {
		printf("pcmdsd %s\n", PCMDS_VERSION);
		return 0;
	}
	if (strcmp(argv[i], "places") == 0 && i + 1 < argc &&
	    strcmp(argv[i + 1], "default") == 0) {
		fputs(places_default_csv, stdout);
		return 0;
	}
	if (strcmp(argv[i], "population") == 0 && i + 1 < argc &&
	    strcmp(argv[i + 1], "default") == 0) {
		fputs(pop_default_csv, stdout);
		return 0;
	}
	if (strcmp(argv[i], "serve") != 0 && strcmp(argv[i], "user") != 0 &&
	    strcmp(argv[i], "places") != 0 && strcmp(argv[i], "audit") != 0 &&
	    strcmp(argv[i], "population") != 0 &&
	    strcmp(argv[i], "assets") != 0 &&
	    strcmp(argv[i], "migrate") != 0) {
		fprintf(stderr, "pcmdsd: unknown command %s\n", argv[i]);
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "serve") == 0 && argc > i + 1) {
		fprintf(stderr, "pcmdsd: serve takes no argument %s\n",
		    argv[i + 1]);
		usage(stderr);
		return 2;
	}
	if (load_conf(&cf, config) != 0)
		return 1;
	if (strcmp(argv[i], "serve") == 0)
		return srv_run(&cf);
	if (strcmp(argv[i], "migrate") == 0) {
		const char *to = flag(argc - i - 1, argv + i + 1, "--to");

		if (to == NULL || !store_is_pg(to)) {
			fprintf(stderr, "pcmdsd: migrate --to takes the "
			    "postgresql:// URI of an empty database\n");
			return 2;
		}
		return migrate_run(&cf, to);
	}
	return cmd_admin(&cf, argc - i, argv + i);
}

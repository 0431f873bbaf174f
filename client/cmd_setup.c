/*
 * cmd_setup.c - pcmds keygen and pcmds setup.
 *
 * The deployment key makes the person pseudonyms: every client of one
 * deployment must hold the same key, or the same person would get two
 * pseudonyms. setup seals the key into the device's encrypted store (made
 * with a new passphrase, whose recovery key it prints once) and records
 * who this device records as: from enrolment with the server, or given by
 * hand for an offline trial.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "nhs.h"
#include "sec.h"
#include "setup_net.h"
#include "uuid.h"

static int
run_keygen(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	char id[NHS_KEY_ID_LEN];
	const char *out = opt_get(o, "out");

	(void)c;
	if (out == NULL) {
		fprintf(stderr, "pcmds: --out FILE is required: where to write "
		    "the new key\n");
		return EXIT_USAGE;
	}
	err_init(&errs);
	if (home_key_generate(out, id, &errs) != PC_OK) {
		ctx_report(&errs, NULL);
		err_free(&errs);
		return EXIT_INVALID;
	}
	err_free(&errs);
	fprintf(stderr, "pcmds: new deployment key written to %s (key id %s).\n"
	    "Give this same file to every client of the deployment, by a "
	    "secure route;\nnever to the server. Losing it means new "
	    "pseudonyms for everyone.\n", out, id);
	return EXIT_OK;
}

/* Checks a value with the envelope field's own rule. */
static void
check_identity(const char *name, const char *val, struct err_list *errs)
{
	const struct field *f = rec_field(KIND_N, name);
	struct rec_opts ro = {0};
	cJSON *v = cJSON_CreateString(val);

	rec_check_value(f, v, name, &ro, errs);
	cJSON_Delete(v);
}

/* Seals the deployment key into the store (setup_store first). */
static pc_rc
install_key(struct ctx *c, const uint8_t key[NHS_KEY_LEN],
    struct err_list *errs)
{
	char id[NHS_KEY_ID_LEN];
	pc_rc rc;

	nhs_key_id(key, id);
	if ((rc = ctx_key_set(c, key, errs)) == PC_OK)
		snprintf(c->cfg.key_id, sizeof(c->cfg.key_id), "%s", id);
	return rc;
}

static pc_rc
offline_identity(struct ctx *c, const struct opt_result *o,
    struct err_list *errs)
{
	const char *w = opt_get(o, "worker"), *p = opt_get(o, "place");
	const char *pcn = opt_get(o, "pcn");
	size_t before = err_count(errs);

	if (w == NULL || p == NULL) {
		err_add(errs, E_REQUIRED, "worker", "an offline setup needs "
		    "--worker ID and --place CODE (or --server and --code to "
		    "enrol)");
		return PC_EUSAGE;
	}
	check_identity("worker", w, errs);
	check_identity("place", p, errs);
	if (pcn != NULL)
		check_identity("pcn", pcn, errs);
	if (err_count(errs) != before)
		return PC_EINVAL;
	snprintf(c->cfg.worker, sizeof(c->cfg.worker), "%s", w);
	snprintf(c->cfg.place, sizeof(c->cfg.place), "%s", p);
	snprintf(c->cfg.pcn, sizeof(c->cfg.pcn), "%s", pcn ? pcn : "");
	return PC_OK;
}

static int
key_only(const struct ctx *c, const struct opt_result *o)
{
	return c->cfg.worker[0] != '\0' && opt_has(o, "key-file") &&
	    !opt_has(o, "worker") && !opt_has(o, "place") && !opt_has(o, "pcn");
}

static int
run_setup(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	const char *keyfile = opt_get(o, "key-file");
	int online = opt_has(o, "server") || opt_has(o, "code");
	uint8_t key[NHS_KEY_LEN];
	pc_rc rc;

	err_init(&errs);
	if (keyfile == NULL && !ctx_has_key(c)) {
		err_add(&errs, E_REQUIRED, "key-file", "--key-file FILE is "
		    "required: the deployment key (pcmds keygen makes one)");
		rc = PC_EUSAGE;
	} else if (keyfile != NULL &&
	    (rc = home_key_read(keyfile, key, &errs)) != PC_OK)
		;
	else if ((rc = ctx_setup_store(c, opt_has(o, "insecure-test-kdf"),
	    &errs)) == PC_OK && keyfile != NULL)
		rc = install_key(c, key, &errs);
	sec_wipe(key, sizeof(key));
	if (rc == PC_OK && c->cfg.device[0] == '\0' &&
	    uuid_v4(c->cfg.device) != PC_OK)
		rc = PC_EIO;
	/* the key alone, again (after a recovery): the identity stays */
	if (rc == PC_OK && (online || !key_only(c, o)))
		rc = online ? setup_enrol(c, o, &errs) :
		    offline_identity(c, o, &errs);
	if (rc == PC_OK)
		rc = ctx_save(c, &errs);
	if (rc != PC_OK)
		return ctx_fail(&errs, rc);
	err_free(&errs);
	if (c->cfg.worker[0] != '\0')
		printf("worker %s, place %s%s%s%s%s\n", c->cfg.worker,
		    c->cfg.place, c->cfg.pcn[0] ? ", PCN " : "", c->cfg.pcn,
		    c->cfg.token[0] ? ", enrolled with " : " (offline trial)",
		    c->cfg.token[0] ? c->cfg.server : "");
	else
		printf("%s%s%s, enrolled with %s (reports only)\n",
		    c->cfg.role, c->cfg.place[0] ? ", place " : "",
		    c->cfg.place, c->cfg.server);
	return EXIT_OK;
}

static const struct opt_spec keygen_opts[] = {
	{"out", OPT_VALUE, "FILE", "where to write the key (must not exist)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

static const struct opt_spec setup_opts[] = {
	{"key-file", OPT_VALUE, "FILE", "the deployment key (from pcmds "
	    "keygen)"},
	{"server", OPT_VALUE, "URL", "the pcmds server, https://host:port"},
	{"code", OPT_VALUE, "CODE", "one-time enrolment code from the "
	    "administrator"},
	{"cacert", OPT_VALUE, "FILE", "the CA certificate to trust (pinned); "
	    "default: the system's CAs"},
	{"worker", OPT_VALUE, "ID", "offline trial: link worker id"},
	{"place", OPT_VALUE, "CODE", "offline trial: place code"},
	{"pcn", OPT_VALUE, "U12345", "offline trial: primary care network"},
	{"insecure-test-kdf", OPT_FLAG, NULL, "for test suites only: a "
	    "millisecond's scrypt instead of a quarter second's (weak against "
	    "a stolen disk)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_keygen = {
	"keygen", "", 0, 0, "make a new deployment pseudonym key", keygen_opts,
	run_keygen, NULL,
};

const struct command cmd_setup = {
	"setup", "", 0, 0, "set up this device: key, and enrolment or identity",
	setup_opts, run_setup,
	"Enrol with a server:\n"
	"  pcmds setup --key-file deploy.key --server https://pcmds.example:8443 "
	"\\\n    --code ABCD-EFGH-JKLM --cacert ca.pem\n"
	"Offline trial (sync refuses records whose identity differs from a "
	"later\nenrolment):\n"
	"  pcmds setup --key-file deploy.key --worker lw-demo --place BD\n"
	"A new store asks for its passphrase twice (or reads it from "
	"--passphrase-fd N,\ngiven before the command) and prints its recovery "
	"key once, for your manager.\n",
};

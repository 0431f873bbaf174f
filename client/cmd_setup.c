/*
 * cmd_setup.c - pcmds keygen and pcmds setup.
 *
 * The deployment key makes the person pseudonyms: every link worker's
 * client of one deployment must hold the same key, or the same person
 * would get two pseudonyms; no other device may hold it (with the key and
 * an export, anyone could try every NHS number). setup makes the device's
 * encrypted store (with a new passphrase, whose recovery key it prints
 * once), enrols, and seals the key into the store only once the server
 * has said the device is a link worker's; it records who this device
 * records as: from enrolment with the server, or given by hand for an
 * offline trial. Nothing is written until every step has succeeded.
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

/*
 * Checks the key given may replace the one this device holds; nothing is
 * written until the enrolment says the device may hold it.
 */
static pc_rc
check_key(struct ctx *c, const uint8_t key[NHS_KEY_LEN],
    struct err_list *errs)
{
	char id[NHS_KEY_ID_LEN];
	pc_rc rc;

	if ((rc = ctx_key_check(c, key, errs)) != PC_OK)
		return rc;
	nhs_key_id(key, id);
	snprintf(c->cfg.key_id, sizeof(c->cfg.key_id), "%s", id);
	return PC_OK;
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

/*
 * Online: the enrolment tells the role. A link worker's device keeps the
 * key given (or the one it has); any other device must hold none, and the
 * server refuses one that sends a key id, leaving the code unused.
 */
static pc_rc
setup_online(struct ctx *c, const struct opt_result *o, const uint8_t *key,
    struct err_list *errs)
{
	int held = ctx_has_key(c);
	pc_rc rc = PC_OK;

	if (key != NULL)
		rc = check_key(c, key, errs);
	else if (!held)
		c->cfg.key_id[0] = '\0';	/* sent only when a key is held */
	if (rc == PC_OK)
		rc = setup_enrol(c, o, errs);
	if (rc == PC_OK && key != NULL)
		rc = ctx_key_set(c, key, errs);
	if (rc == PC_ECONFLICT && key == NULL && held)
		err_add(errs, E_CONFLICT, "home", "this device keeps a deployment "
		    "key: set up a place lead's or evaluator's account with "
		    "another --home");
	return rc;
}

/* The key alone, again (after a recovery): the identity stays. */
static int
key_only(const struct ctx *c, const struct opt_result *o)
{
	return c->cfg.worker[0] != '\0' && opt_has(o, "key-file") &&
	    !opt_has(o, "worker") && !opt_has(o, "place") && !opt_has(o, "pcn");
}

/* Offline trial: a link worker's identity given by hand, and the key. */
static pc_rc
setup_offline(struct ctx *c, const struct opt_result *o, const uint8_t *key,
    struct err_list *errs)
{
	pc_rc rc;

	if (!key_only(c, o) && (rc = offline_identity(c, o, errs)) != PC_OK)
		return rc;
	if (key == NULL)
		return PC_OK;
	if ((rc = check_key(c, key, errs)) == PC_OK)
		rc = ctx_key_set(c, key, errs);
	return rc;
}

static int
run_setup(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	int online = opt_has(o, "server") || opt_has(o, "code");
	const char *keyfile = opt_get(o, "key-file");
	uint8_t key[NHS_KEY_LEN];
	pc_rc rc = PC_OK;

	err_init(&errs);
	/* what can be checked before the passphrase is asked for */
	if (!online && keyfile == NULL && !ctx_has_key(c)) {
		err_add(&errs, E_REQUIRED, "key-file", "--key-file FILE is "
		    "required: a link worker's device makes pseudonyms with the "
		    "deployment key (pcmds keygen makes one)");
		rc = PC_EUSAGE;
	} else if (keyfile != NULL)
		rc = home_key_read(keyfile, key, &errs);
	if (rc == PC_OK && c->cfg.device[0] == '\0' &&
	    uuid_v4(c->cfg.device) != PC_OK)
		rc = PC_EIO;
	if (rc == PC_OK)
		rc = ctx_setup_store(c, opt_has(o, "insecure-test-kdf"), &errs);
	if (rc == PC_OK)
		rc = online ? setup_online(c, o, keyfile ? key : NULL, &errs) :
		    setup_offline(c, o, keyfile ? key : NULL, &errs);
	sec_wipe(key, sizeof(key));
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
		printf("%s%s%s, enrolled with %s (reports and extracts; no "
		    "deployment key on this device)\n", c->cfg.role,
		    c->cfg.place[0] ? ", place " : "", c->cfg.place,
		    c->cfg.server);
	return EXIT_OK;
}

static const struct opt_spec keygen_opts[] = {
	{"out", OPT_VALUE, "FILE", "where to write the key (must not exist)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

static const struct opt_spec setup_opts[] = {
	{"key-file", OPT_VALUE, "FILE", "link workers: the deployment key "
	    "(from pcmds keygen); never for place leads or evaluators"},
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
	"A place lead or an evaluator enrols without the key, which only link "
	"workers'\ndevices may hold:\n"
	"  pcmds setup --server https://pcmds.example:8443 --code "
	"ABCD-EFGH-JKLM \\\n    --cacert ca.pem\n"
	"Offline trial (sync refuses records whose identity differs from a "
	"later\nenrolment):\n"
	"  pcmds setup --key-file deploy.key --worker lw-demo --place BD\n"
	"A new store asks for its passphrase twice (or reads it from "
	"--passphrase-fd N,\ngiven before the command) and prints its recovery "
	"key once, for your manager.\n",
};

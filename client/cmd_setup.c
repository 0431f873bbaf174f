/*
 * cmd_setup.c - pcmds keygen and pcmds setup.
 *
 * The deployment key makes the person pseudonyms: every link worker's
 * client of one deployment must hold the same key, or the same person
 * would get two pseudonyms; no other device may hold it (with the key and
 * an export, anyone could try every NHS number). setup enrols first and
 * copies the key into the client's directory (0600) only once the server
 * has said the device is a link worker's; it records who this device
 * records as: from enrolment with the server, or given by hand for an
 * offline trial.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "fs.h"
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
 * Reads the key file and checks it may replace the one this device holds;
 * nothing is written until the enrolment says the device may hold it.
 */
static pc_rc
read_key(struct ctx *c, const char *path, uint8_t key[NHS_KEY_LEN],
    struct err_list *errs)
{
	uint8_t old[NHS_KEY_LEN];
	char id[NHS_KEY_ID_LEN];
	long n[CS_NSTATES];
	pc_rc rc;

	if ((rc = home_key_read(path, key, errs)) != PC_OK)
		return rc;
	nhs_key_id(key, id);
	if (fs_exists(c->home.key) &&
	    home_key_read(c->home.key, old, errs) == PC_OK &&
	    !sec_equal(old, key, NHS_KEY_LEN) &&
	    ctx_store(c, errs) == PC_OK &&
	    cstore_counts(c->store, n) == PC_OK && n[CS_PENDING] +
	    n[CS_SENT] + n[CS_QUARANTINED] > 0) {
		err_add(errs, E_CONFLICT, "key-file", "this device already holds "
		    "records pseudonymised with another key (id %s); a new key "
		    "would give the same people new pseudonyms", c->cfg.key_id);
		sec_wipe(old, sizeof(old));
		return PC_ECONFLICT;
	}
	sec_wipe(old, sizeof(old));
	snprintf(c->cfg.key_id, sizeof(c->cfg.key_id), "%s", id);
	return PC_OK;
}

/* Installs the key into the client's directory (0600). */
static pc_rc
write_key(struct ctx *c, const uint8_t key[NHS_KEY_LEN], struct err_list *errs)
{
	char hex[2 * NHS_KEY_LEN + 2];
	pc_rc rc;

	sec_hex(key, NHS_KEY_LEN, hex);
	strcat(hex, "\n");
	rc = fs_write_atomic(c->home.key, hex, strlen(hex), 0600, errs);
	sec_wipe(hex, sizeof(hex));
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

/*
 * Online: the enrolment tells the role. A link worker's device keeps the
 * key given (or the one it has); any other device must hold none, and the
 * server refuses one that sends a key id, leaving the code unused.
 */
static pc_rc
setup_online(struct ctx *c, const struct opt_result *o, struct err_list *errs)
{
	const char *keyfile = opt_get(o, "key-file");
	uint8_t key[NHS_KEY_LEN];
	int held = fs_exists(c->home.key);
	pc_rc rc = PC_OK;

	if (keyfile != NULL)
		rc = read_key(c, keyfile, key, errs);
	else if (!held)
		c->cfg.key_id[0] = '\0';	/* sent only when a key is held */
	if (rc == PC_OK)
		rc = setup_enrol(c, o, errs);
	if (rc == PC_OK && keyfile != NULL)
		rc = write_key(c, key, errs);
	if (rc == PC_ECONFLICT && keyfile == NULL && held)
		err_add(errs, E_CONFLICT, "home", "this device keeps a deployment "
		    "key (%s): set up a place lead's or evaluator's account "
		    "with another --home", c->home.key);
	sec_wipe(key, sizeof(key));
	return rc;
}

/* Offline trial: a link worker's identity given by hand, and the key. */
static pc_rc
setup_offline(struct ctx *c, const struct opt_result *o, struct err_list *errs)
{
	const char *keyfile = opt_get(o, "key-file");
	uint8_t key[NHS_KEY_LEN];
	pc_rc rc;

	if (keyfile == NULL && !fs_exists(c->home.key)) {
		err_add(errs, E_REQUIRED, "key-file", "--key-file FILE is "
		    "required: a link worker's device makes pseudonyms with the "
		    "deployment key (pcmds keygen makes one)");
		return PC_EUSAGE;
	}
	if ((rc = offline_identity(c, o, errs)) != PC_OK || keyfile == NULL)
		return rc;
	if ((rc = read_key(c, keyfile, key, errs)) == PC_OK)
		rc = write_key(c, key, errs);
	sec_wipe(key, sizeof(key));
	return rc;
}

static int
run_setup(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	int online = opt_has(o, "server") || opt_has(o, "code");
	pc_rc rc = PC_OK;

	err_init(&errs);
	if (c->cfg.device[0] == '\0' && uuid_v4(c->cfg.device) != PC_OK)
		rc = PC_EIO;
	if (rc == PC_OK)
		rc = online ? setup_online(c, o, &errs) :
		    setup_offline(c, o, &errs);
	if (rc == PC_OK)
		rc = home_config_save(&c->home, &c->cfg, &errs);
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
	"  pcmds setup --key-file deploy.key --worker lw-demo --place BD\n",
};

/*
 * enrol.c - pcmds setup --server: exchange a one-time code for a token.
 *
 * The CA given with --cacert is copied into the client's directory and
 * pinned for every later request; without it the system's CAs are used.
 * A device holding the deployment key tells the server its fingerprint
 * (never the key), so that a device holding another key is refused before
 * it records, and a place lead's or evaluator's device holding one at all
 * is refused; a device without a key sends none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fs.h"
#include "net.h"
#include "setup_net.h"

static pc_rc
pin_ca(struct ctx *c, const char *path, struct err_list *errs)
{
	struct buf b;
	pc_rc rc;

	buf_init(&b, 1 << 20);
	if ((rc = fs_read_file(path, &b, errs)) != PC_OK) {
		buf_free(&b);
		return rc;
	}
	if (strstr(buf_str(&b), "-----BEGIN CERTIFICATE-----") == NULL) {
		err_add(errs, E_FORMAT, "cacert", "%s is not a PEM certificate",
		    path);
		buf_free(&b);
		return PC_EINVAL;
	}
	rc = fs_write_atomic(c->home.cacert, b.p, b.len, 0600, errs);
	buf_free(&b);
	return rc;
}

static pc_rc
take_answer(struct ctx *c, const char *server, const struct net_resp *r,
    struct err_list *errs)
{
	cJSON *j = cJSON_Parse(buf_str(&r->body));
	const char *tok = rec_str(j, "token"), *place = rec_str(j, "place");
	const char *worker = rec_str(j, "worker"), *role = rec_str(j, "role");

	if (tok == NULL || place == NULL || worker == NULL || role == NULL) {
		err_add(errs, E_SYSTEM, "", "the server's answer to enrolment "
		    "was not understood");
		cJSON_Delete(j);
		return PC_EPROTO;
	}
	snprintf(c->cfg.server, sizeof(c->cfg.server), "%s", server);
	snprintf(c->cfg.token, sizeof(c->cfg.token), "%s", tok);
	snprintf(c->cfg.worker, sizeof(c->cfg.worker), "%s", worker);
	snprintf(c->cfg.place, sizeof(c->cfg.place), "%s", place);
	snprintf(c->cfg.role, sizeof(c->cfg.role), "%s", role);
	snprintf(c->cfg.pcn, sizeof(c->cfg.pcn), "%s",
	    rec_str(j, "pcn") ? rec_str(j, "pcn") : "");
	snprintf(c->cfg.expires, sizeof(c->cfg.expires), "%s",
	    rec_str(j, "expires") ? rec_str(j, "expires") : "");
	cJSON_Delete(j);
	return PC_OK;
}

/*
 * The server's sentence for a refused enrolment. PC_ECONFLICT when the
 * device's key does not fit the account (E_KEY): the code is unused.
 */
static pc_rc
refused(const struct net_resp *r, struct err_list *errs)
{
	cJSON *j = cJSON_Parse(buf_str(&r->body));
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	const char *msg = rec_str(e, "message"), *code = rec_str(e, "code");
	pc_rc rc = r->status == 401 || r->status == 429 ? PC_EAUTH :
	    code != NULL && strcmp(code, "E_KEY") == 0 ? PC_ECONFLICT :
	    PC_EINVAL;

	err_add(errs, E_SYSTEM, "code", "enrolment refused (HTTP %ld): %s",
	    r->status, msg ? msg : "no reason given");
	cJSON_Delete(j);
	return rc;
}

pc_rc
setup_enrol(struct ctx *c, const struct opt_result *o, struct err_list *errs)
{
	const char *server = opt_get(o, "server"), *code = opt_get(o, "code");
	const char *ca = opt_get(o, "cacert");
	struct net n;
	struct net_resp r;
	cJSON *req;
	char *body;
	pc_rc rc;

	if (server == NULL || code == NULL) {
		err_add(errs, E_REQUIRED, "server", "enrolment needs both --server "
		    "URL and --code CODE");
		return PC_EUSAGE;
	}
	if ((rc = net_init(&n, server, NULL, errs)) != PC_OK)
		return rc;
	if (ca != NULL && (rc = pin_ca(c, ca, errs)) != PC_OK) {
		net_free(&n);
		return rc;
	}
	c->cfg.pinned = ca != NULL;
	if (c->cfg.pinned)
		snprintf(n.cacert, sizeof(n.cacert), "%s", c->home.cacert);
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "code", code);
	cJSON_AddStringToObject(req, "device", c->cfg.device);
	if (c->cfg.key_id[0] != '\0')	/* link workers' devices only */
		cJSON_AddStringToObject(req, "key_id", c->cfg.key_id);
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	rc = net_request(&n, "POST", "/v1/enrol", NULL, body, strlen(body), 0,
	    &r, errs);
	free(body);
	if (rc == PC_OK && r.status == 200)
		rc = take_answer(c, n.base, &r, errs);
	else if (rc == PC_OK)
		rc = refused(&r, errs);
	net_resp_free(&r);
	net_free(&n);
	return rc;
}

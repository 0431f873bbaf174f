/*
 * api_enrol.c - POST /v1/enrol: a one-time code becomes a device token.
 *
 * A device holding the deployment key sends its fingerprint, and only a
 * link worker's device may hold it: with the key and an export, anyone
 * could try every NHS number and re-identify people. So a place lead's or
 * an evaluator's device that sends a key id is refused, and a link
 * worker's device that sends none; either refusal rolls the transaction
 * back, leaving the one-time code unused for the setup done right. The
 * first link worker's enrolment fixes the deployment's key id; a device
 * holding another key is refused, because its pseudonyms would not match
 * anyone else's. The server learns only the fingerprint, never the key.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "date.h"
#include "srv.h"

static int
key_id_ok(const char *s)
{
	return s != NULL && strlen(s) == 16 &&
	    strspn(s, "0123456789abcdef") == 16;
}

/* Checks (and on first use records) the deployment key id. */
static int
check_key(struct http_req *hr, const struct store_user *u, const char *kid)
{
	char known[32];

	if (u->role != ROLE_LINK_WORKER && kid == NULL)
		return 1;	/* they never make pseudonyms */
	if (u->role != ROLE_LINK_WORKER) {
		http_reply_error(hr, 403, "E_KEY", "this code is for %s, whose "
		    "device must not hold the deployment key (with it, exported "
		    "pseudonyms lead back to NHS numbers); set up again without "
		    "--key-file; the code was not used up",
		    u->role == ROLE_EVALUATOR ? "an evaluator" : "a place lead");
		return 0;
	}
	if (!key_id_ok(kid)) {
		http_reply_error(hr, 400, "E_KEY", "this code is for a link "
		    "worker, whose device needs the deployment key: set up again "
		    "with --key-file FILE (the key's fingerprint, key_id, was "
		    "%s); the code was not used up", kid ? "malformed" :
		    "missing");
		return 0;
	}
	if (store_meta_get(hr->store, "key_id", known, sizeof(known)) ==
	    PC_ENOTFOUND)
		return store_meta_set(hr->store, "key_id", kid) == PC_OK;
	if (strcmp(known, kid) != 0) {
		http_reply_error(hr, 409, "E_KEY", "this device holds a "
		    "different deployment key (id %s, the deployment's is %s); "
		    "every client must use the same key file", kid, known);
		return 0;
	}
	return 1;
}

static cJSON *
answer(const struct store_user *u, const char *token, int64_t expires)
{
	cJSON *o = cJSON_CreateObject();
	char exp[TIME_LEN];

	time_format(expires, exp);
	cJSON_AddStringToObject(o, "token", token);
	cJSON_AddNumberToObject(o, "user", (double)u->id);
	cJSON_AddStringToObject(o, "role", store_role_name(u->role));
	cJSON_AddStringToObject(o, "worker", u->worker);
	cJSON_AddStringToObject(o, "place", u->place);
	cJSON_AddStringToObject(o, "pcn", u->pcn);
	cJSON_AddStringToObject(o, "expires", exp);
	return o;
}

/* Inside the transaction: code -> user -> key check -> token. */
static int
enrol(struct http_req *hr, const uint8_t chash[SEC_SHA256_LEN],
    const char *device, const char *kid)
{
	struct store *st = hr->store;
	struct store_user u;
	uint8_t thash[SEC_SHA256_LEN];
	char token[44], actor[32];
	int64_t now = (int64_t)srv_now(), user, expires;
	enum auth_limit which;
	double wait;
	pc_rc rc;

	rc = store_cred_take_code(st, chash, now, &user);
	if (rc == PC_ENOTFOUND || rc == PC_EAUTH) {
		store_rollback(st);
		wait = auth_failed(hr, 1, "enrol.fail", rc == PC_ENOTFOUND ?
		    "unknown code" : "expired or used code", &which);
		if (wait > 0)
			auth_too_many(hr, wait, which);
		else
			http_reply_error(hr, 401, "E_AUTH", rc == PC_ENOTFOUND ?
			    "this enrolment code is not known; check it, or ask "
			    "your administrator for a new one" : "this "
			    "enrolment code has expired or was already used; "
			    "ask your administrator for a new one");
		return 0;
	}
	if (rc != PC_OK || store_user_get(st, user, &u) != PC_OK)
		goto fail;
	if (!check_key(hr, &u, kid)) {
		store_rollback(st);
		return 0;
	}
	expires = now + (int64_t)hr->srv->conf->token_days * 86400;
	if (auth_new_token(token, thash) != PC_OK ||
	    store_cred_add(st, thash, u.id, CRED_DEVICE, device, expires,
	    now) != PC_OK)
		goto fail;
	snprintf(actor, sizeof(actor), "user:%lld", (long long)u.id);
	if (audit_log(st, now, actor, "enrol", device, "ok") != PC_OK ||
	    store_commit(st) != PC_OK)
		goto fail;
	hr->auth.user = u;
	hr->authed = 1;
	http_reply_json(hr, 200, answer(&u, token, expires));
	sec_wipe(token, sizeof(token));
	return 1;
fail:
	store_rollback(st);
	http_reply_error(hr, 503, "E_SYSTEM", "the database is not available; "
	    "try again");
	return 0;
}

void
api_enrol(struct http_req *hr)
{
	cJSON *body;
	const char *code, *device, *kid;
	uint8_t chash[SEC_SHA256_LEN];
	enum auth_limit which;
	double wait;

	if ((wait = auth_blocked(hr, &which)) > 0) {
		auth_too_many(hr, wait, which);
		return;
	}
	if (http_read_json(hr, &body) != PC_OK)
		return;
	code = rec_str(body, "code");
	device = rec_str(body, "device");
	kid = rec_str(body, "key_id");
	if (code == NULL || device == NULL || !uuid_valid(device)) {
		http_reply_error(hr, 400, "E_REQUIRED", "send {\"code\": the "
		    "enrolment code, \"device\": this device's UUID, and for "
		    "a link worker's device \"key_id\": the deployment key's "
		    "fingerprint}");
	} else if (auth_code_hash(code, chash) != 0) {
		(void)auth_failed(hr, 1, "enrol.fail", "malformed code", NULL);
		http_reply_error(hr, 401, "E_AUTH", "an enrolment code looks "
		    "like ABCD-EFGH-JKMN");
	} else if (store_begin(hr->store) != PC_OK)
		http_reply_error(hr, 503, "E_SYSTEM", "the database is busy; "
		    "try again");
	else
		(void)enrol(hr, chash, device, kid);
	cJSON_Delete(body);
}

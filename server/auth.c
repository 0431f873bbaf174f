/*
 * auth.c - tokens, one-time codes, roles and failed-login limits.
 *
 * Secrets are never stored: only their SHA-256. A token is 256 random
 * bits; a one-time code 60 (typed by people, so short), which the
 * per-address limit on failures makes impractical to guess. Revocation
 * and expiry are read from the store on every request.
 *
 * Limits hold across servers: on a store several servers share, the
 * buckets are kept in it (one statement per request, on the database's
 * clock), so a client spread over N servers still has one budget; on
 * SQLite each server keeps its own.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "log.h"
#include "srv.h"

/* Crockford's base32: no I, L, O or U to misread. */
static const char code_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pc_rc
auth_new_token(char out[44], uint8_t hash[SEC_SHA256_LEN])
{
	uint8_t raw[32];

	if (sec_random(raw, sizeof(raw)) != PC_OK)
		return PC_EIO;
	sec_b64url(raw, sizeof(raw), out);
	sec_sha256(out, strlen(out), hash);
	sec_wipe(raw, sizeof(raw));
	return PC_OK;
}

pc_rc
auth_new_code(char out[16], uint8_t hash[SEC_SHA256_LEN])
{
	uint8_t raw[12];
	int i, k = 0;

	if (sec_random(raw, sizeof(raw)) != PC_OK)
		return PC_EIO;
	for (i = 0; i < 12; i++) {
		if (i > 0 && i % 4 == 0)
			out[k++] = '-';
		out[k++] = code_alphabet[raw[i] & 31];
	}
	out[k] = '\0';
	sec_wipe(raw, sizeof(raw));
	return auth_code_hash(out, hash) == 0 ? PC_OK : PC_EIO;
}

int
auth_code_hash(const char *code, uint8_t hash[SEC_SHA256_LEN])
{
	char norm[16];
	size_t n = 0;

	for (; *code != '\0'; code++) {
		int c = toupper((unsigned char)*code);

		if (c == '-' || c == ' ')
			continue;
		if (c == 'O')
			c = '0';	/* what people type for zero and one */
		else if (c == 'I' || c == 'L')
			c = '1';
		if (strchr(code_alphabet, c) == NULL || n == 12)
			return -1;
		norm[n++] = (char)c;
	}
	if (n != 12)
		return -1;
	sec_sha256(norm, n, hash);
	return 0;
}

double
auth_limit(struct http_req *hr, struct rate *local, const char *key,
    int take)
{
	struct server *srv = hr->srv;
	char k[96];
	double wait;

	/* the buckets' kinds apart in the store's one table */
	snprintf(k, sizeof(k), "%s:%s", local == &srv->auth_fail ? "addr" :
	    "token", key);
	if (store_rate(hr->store, k, local->per_sec, local->burst, srv_now(),
	    take, &wait) == PC_OK)
		return wait;
	/* this server's own (or the store's failed: never refuse for it) */
	pthread_mutex_lock(&srv->rate_mu);
	wait = take ? rate_take(local, key, srv_now()) : rate_wait(local, key,
	    srv_now());
	pthread_mutex_unlock(&srv->rate_mu);
	return wait;
}

double
auth_blocked(struct http_req *hr)
{
	return auth_limit(hr, &hr->srv->auth_fail, hr->peer, 0);
}

double
auth_failed(struct http_req *hr, const char *what, const char *why)
{
	char actor[96];
	double wait = auth_limit(hr, &hr->srv->auth_fail, hr->peer, 1);

	/* past the limit the attempts are refused unaudited: no write storm */
	if (wait == 0) {
		snprintf(actor, sizeof(actor), "address:%s", hr->peer);
		if (audit_log_now(hr->store, actor, what, hr->path, why) !=
		    PC_OK)
			log_warnx("audit: cannot record a failed login");
	}
	return wait;
}

static void
too_many(struct http_req *hr, double wait)
{
	char s[32];

	snprintf(s, sizeof(s), "%d", (int)wait + 1);
	http_add_header(hr, "Retry-After", s);
	http_reply_error(hr, 429, "E_RATE", "too many failed attempts from "
	    "this address; try again in %s seconds", s);
}

/* The bearer token, or with AUTH_SESSION the session cookie. */
static const char *
credential(struct http_req *hr, unsigned roles, enum store_cred *kind,
    char *buf, size_t len)
{
	const char *h = http_header(hr, "Authorization"), *c, *e;

	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		*kind = CRED_DEVICE;
		for (h += 7; *h == ' '; h++)
			;
		return h;
	}
	if (!(roles & AUTH_SESSION) ||
	    (c = http_header(hr, "Cookie")) == NULL)
		return NULL;
	if ((c = strstr(c, "__Host-pcmds=")) == NULL)
		return NULL;
	c += strlen("__Host-pcmds=");
	e = c + strcspn(c, "; ");
	snprintf(buf, len, "%.*s", (int)(e - c), c);
	*kind = CRED_SESSION;
	return buf;
}

static int
deny(struct http_req *hr, const char *why, const char *msg)
{
	double wait = auth_failed(hr, "auth.fail", why);

	if (wait > 0) {
		too_many(hr, wait);
		return 0;
	}
	http_add_header(hr, "WWW-Authenticate", "Bearer realm=\"pcmds\"");
	http_reply_error(hr, 401, "E_AUTH", "%s", msg);
	return 0;
}

int
auth_require(struct http_req *hr, unsigned roles)
{
	enum store_cred kind = CRED_DEVICE;
	uint8_t hash[SEC_SHA256_LEN];
	char cookie[64], key[SEC_HEX64_LEN];
	const char *tok;
	double wait;
	pc_rc rc;

	if ((wait = auth_blocked(hr)) > 0) {
		too_many(hr, wait);
		return 0;
	}
	if ((tok = credential(hr, roles, &kind, cookie, sizeof(cookie))) ==
	    NULL || *tok == '\0')
		return deny(hr, "no credential", "this request needs a token "
		    "(Authorization: Bearer ...); enrol with pcmds setup");
	sec_sha256(tok, strlen(tok), hash);
	rc = store_cred_find(hr->store, hash, kind, (int64_t)srv_now(),
	    &hr->auth);
	if (rc == PC_ENOTFOUND)
		return deny(hr, "unknown token", "the token is not known");
	if (rc == PC_EAUTH)
		return deny(hr, "expired or revoked", "the token has expired or "
		    "was revoked: enrolment expired or revoked, run pcmds setup "
		    "again");
	if (rc != PC_OK) {
		http_reply_error(hr, 503, "E_SYSTEM", "the database is not "
		    "available");
		return 0;
	}
	hr->authed = 1;
	if (!(roles & (1u << hr->auth.user.role))) {
		http_reply_error(hr, 403, "E_ROLE", "a %s may not do this",
		    store_role_name(hr->auth.user.role));
		return 0;
	}
	sec_hex(hash, 16, key);
	if ((wait = auth_limit(hr, &hr->srv->per_token, key, 1)) > 0) {
		char s[32];

		snprintf(s, sizeof(s), "%d", (int)wait + 1);
		http_add_header(hr, "Retry-After", s);
		http_reply_error(hr, 429, "E_RATE", "too many requests; slow "
		    "down and retry after %s seconds", s);
		return 0;
	}
	return 1;
}

/*
 * auth.c - tokens, one-time codes, roles, cookies and failed-attempt
 * limits (see auth.h).
 *
 * Secrets are never stored: only their SHA-256. A token is 256 random
 * bits; a one-time code 60 (typed by people, so short), which the limits
 * on failures make impractical to guess: auth_failures_global a minute
 * leaves 2^60 codes many millions of years away. Revocation and expiry
 * are read from the store on every request.
 *
 * Limits hold across servers: on a store several servers share, the
 * buckets are kept in it (one statement each, on the database's clock),
 * so a client spread over N servers still has one budget; on SQLite
 * each server keeps its own.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "auth.h"
#include "http.h"
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

/* The global budget is one bucket. */
#define GLOBAL_KEY	"*"

double
auth_bucket(struct http_req *hr, struct rate *local, const char *key,
    int take)
{
	struct server *srv = hr->srv;
	const char *kind = local == &srv->auth_fail ? "addr" :
	    local == &srv->auth_global ? "global" : "token";
	char k[96];
	double wait;

	/* the buckets' kinds apart in the store's one table */
	snprintf(k, sizeof(k), "%s:%s", kind, key);
	if (store_rate(hr->store, k, local->per_sec, local->burst, srv_now(),
	    take, &wait) == PC_OK)
		return wait;
	/* this server's own (or the store's failed: never refuse for it) */
	pthread_mutex_lock(&srv->rate_mu);
	wait = take ? rate_take(local, key, srv_mono()) : rate_wait(local, key,
	    srv_mono());
	pthread_mutex_unlock(&srv->rate_mu);
	return wait;
}

double
auth_blocked(struct http_req *hr, enum auth_limit *which)
{
	double a = auth_bucket(hr, &hr->srv->auth_fail, hr->peer, 0);
	double g = auth_bucket(hr, &hr->srv->auth_global, GLOBAL_KEY, 0);

	*which = a > 0 ? AUTH_ADDRESS : g > 0 ? AUTH_GLOBAL : AUTH_FREE;
	return a > g ? a : g;
}

double
auth_failed(struct http_req *hr, int code, const char *what,
    const char *why, enum auth_limit *which)
{
	char actor[96], target[HTTP_ESC_LEN(sizeof(hr->path))];
	double a = auth_bucket(hr, &hr->srv->auth_fail, hr->peer, 1);
	double g = code ? auth_bucket(hr, &hr->srv->auth_global, GLOBAL_KEY, 1) :
	    0;

	/* past the limit the attempts are refused unaudited: no write storm */
	if (a == 0) {
		snprintf(actor, sizeof(actor), "address:%s", hr->peer);
		http_escape(hr->path, target, sizeof(target));
		if (audit_log_now(hr->store, actor, what, target, why) !=
		    PC_OK)
			log_warnx("audit: cannot record a failed attempt");
	}
	if (which != NULL)
		*which = a > 0 ? AUTH_ADDRESS : g > 0 ? AUTH_GLOBAL : AUTH_FREE;
	return a > g ? a : g;
}

const char *
auth_limit_text(enum auth_limit which)
{
	return which == AUTH_GLOBAL ? "too many failed attempts at a one-time "
	    "code on this server" : "too many failed attempts from this "
	    "address";
}

void
auth_too_many(struct http_req *hr, double wait, enum auth_limit which)
{
	char s[32];

	snprintf(s, sizeof(s), "%d", (int)wait + 1);
	http_add_header(hr, "Retry-After", s);
	http_reply_error(hr, 429, "E_RATE", "%s; try again in %s seconds",
	    auth_limit_text(which), s);
}

int
auth_cookie(struct http_req *hr, const char *name, char *out, size_t len)
{
	const char *c = http_header(hr, "Cookie"), *end, *eq;
	size_t n = strlen(name), k;

	for (; c != NULL && *c != '\0'; c = *end ? end + 1 : end) {
		c += strspn(c, " \t");
		end = c + strcspn(c, ";");
		if ((eq = memchr(c, '=', (size_t)(end - c))) == NULL ||
		    (size_t)(eq - c) != n || memcmp(c, name, n) != 0)
			continue;
		for (k = (size_t)(end - eq - 1); k > 0 && (eq[k] == ' ' ||
		    eq[k] == '\t'); k--)
			;
		if (k >= len)
			return 0;
		memcpy(out, eq + 1, k);
		out[k] = '\0';
		return k > 0;
	}
	return 0;
}

/* The bearer token, or with AUTH_SESSION the session cookie. */
static const char *
credential(struct http_req *hr, unsigned roles, enum store_cred *kind,
    char *buf, size_t len)
{
	const char *h = http_header(hr, "Authorization");

	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		*kind = CRED_DEVICE;
		for (h += 7; *h == ' '; h++)
			;
		return h;
	}
	if (!(roles & AUTH_SESSION) || !auth_cookie(hr, AUTH_COOKIE, buf, len))
		return NULL;
	*kind = CRED_SESSION;
	return buf;
}

/*
 * The roles a request is for, in words ("a place_lead or an evaluator"),
 * so that a refused one knows whose it is.
 */
static void
roles_text(unsigned roles, char *out, size_t len)
{
	size_t at = 0;
	int r, n = 0;

	out[0] = '\0';
	for (r = 0; r < ROLE_N; r++) {
		const char *name = store_role_name((enum store_role)r);
		int w;

		if (!(roles & (1u << r)))
			continue;
		w = snprintf(out + at, len - at, "%s%s %s", n++ ? " or " : "",
		    strchr("aeiou", name[0]) ? "an" : "a", name);
		if (w < 0 || (size_t)w >= len - at)
			return;
		at += (size_t)w;
	}
}

static int
deny(struct http_req *hr, const char *why, const char *msg)
{
	enum auth_limit which;
	double wait = auth_failed(hr, 0, "auth.fail", why, &which);

	if (wait > 0) {
		auth_too_many(hr, wait, which);
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

	/* a valid credential is never refused for others' failures */
	if ((tok = credential(hr, roles, &kind, cookie, sizeof(cookie))) ==
	    NULL || *tok == '\0')
		return deny(hr, "no credential", "this request needs a token "
		    "(Authorization: Bearer ...); enrol with pcmds setup");
	sec_sha256(tok, strlen(tok), hash);
	rc = store_cred_find(hr->store, hash, kind, (int64_t)srv_now(),
	    &hr->auth);
	/* what to do differs: a device enrols again, a browser signs in */
	if (rc == PC_ENOTFOUND && kind == CRED_SESSION)
		return deny(hr, "unknown session", "this dashboard session is "
		    "not known to this server (it was ended, or the server was "
		    "restored from a backup): sign in again at /login");
	if (rc == PC_ENOTFOUND)
		return deny(hr, "unknown token", "the token is not known to "
		    "this server (enrolled with another deployment, or after "
		    "the backup this server was restored from): run pcmds "
		    "setup again with a new code from the administrator");
	if (rc == PC_EAUTH && kind == CRED_SESSION)
		return deny(hr, "expired or revoked", "this dashboard session "
		    "has expired or was ended: sign in again at /login");
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
		char whose[96];

		roles_text(roles, whose, sizeof(whose));
		http_reply_error(hr, 403, "E_ROLE", "a %s may not do this: it "
		    "is for %s", store_role_name(hr->auth.user.role),
		    whose[0] ? whose : "another role");
		return 0;
	}
	sec_hex(hash, 16, key);
	if ((wait = auth_bucket(hr, &hr->srv->per_token, key, 1)) > 0) {
		char s[32];

		snprintf(s, sizeof(s), "%d", (int)wait + 1);
		http_add_header(hr, "Retry-After", s);
		http_reply_error(hr, 429, "E_RATE", "too many requests; slow "
		    "down and retry after %s seconds", s);
		return 0;
	}
	return 1;
}

/*
 * auth.h - secrets (tokens, one-time codes), request authentication,
 * cookies and the limits on failed attempts.
 *
 * Two limits stand against guessing one-time codes: one per client
 * address (auth_failures a minute) and one for the whole server
 * (auth_failures_global a minute), so that guesses spread over many
 * addresses are bounded too. Neither ever refuses a token or session
 * that is valid: only attempts that fail are counted, and a valid
 * credential is checked before any limit.
 */
#ifndef PCMDS_AUTH_H
#define PCMDS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "http.h"
#include "sec.h"

/* Role bits for auth_require(). */
#define AUTH_LINK_WORKER	(1u << ROLE_LINK_WORKER)
#define AUTH_PLACE_LEAD		(1u << ROLE_PLACE_LEAD)
#define AUTH_EVALUATOR		(1u << ROLE_EVALUATOR)
#define AUTH_SESSION		0x100u	/* a dashboard cookie will do */

#define AUTH_COOKIE		"__Host-pcmds"	/* the session cookie */

/* A new secret: 256 random bits as base64url, and its SHA-256. */
pc_rc	 auth_new_token(char out[44], uint8_t hash[SEC_SHA256_LEN]);
/* A one-time code people can type: XXXX-XXXX-XXXX, 60 random bits. */
pc_rc	 auth_new_code(char out[16], uint8_t hash[SEC_SHA256_LEN]);
/* Hash of a typed code (case, spaces and dashes ignored); -1 if malformed. */
int	 auth_code_hash(const char *code, uint8_t hash[SEC_SHA256_LEN]);

/*
 * Authenticates the request (bearer token, or session cookie when
 * allowed) and checks its role. On failure the answer (401, 403 or 429)
 * has been sent, failed attempts are audited, and 0 is returned.
 */
int	 auth_require(struct http_req *, unsigned roles);

/* Which limit holds attempts at a code back. */
enum auth_limit { AUTH_FREE, AUTH_ADDRESS, AUTH_GLOBAL };

struct rate;

/*
 * A token bucket that holds across servers: in the store when it keeps
 * them (PostgreSQL), else this server's (local). Takes a token (take 1)
 * or looks: 0 allowed, else the seconds to wait.
 */
double	 auth_bucket(struct http_req *, struct rate *local, const char *key,
	    int take);

/*
 * Before an attempt at a one-time code: the seconds to wait (0: may
 * try), and in *which the limit that said so.
 */
double	 auth_blocked(struct http_req *, enum auth_limit *which);
/*
 * Counts a failed attempt (code 1 when a code was tried, so that the
 * global budget counts it too) and audits it while under the limit;
 * returns the seconds to wait before the next, 0 when it may come now.
 */
double	 auth_failed(struct http_req *, int code, const char *what,
	    const char *why, enum auth_limit *which);
/* A sentence saying which limit, for a 429 answer. */
const char *auth_limit_text(enum auth_limit);
/* The 429 answer (JSON) with Retry-After. */
void	 auth_too_many(struct http_req *, double wait, enum auth_limit);

/*
 * The value of the cookie called exactly name (RFC 6265 5.4: pairs
 * split at ";", names compared whole) into out; 0 when there is none or
 * it does not fit.
 */
int	 auth_cookie(struct http_req *, const char *name, char *out,
	    size_t len);

#endif

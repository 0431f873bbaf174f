/*
 * oidc.h - dashboard sign-in through the organisation's OpenID Connect
 * provider (NHS Care Identity Service 2, Microsoft Entra ID, ...): the
 * authorisation code flow with PKCE (S256), as a confidential client.
 *
 * At start the provider's discovery document (ISSUER/.well-known/
 * openid-configuration) gives its endpoints, and its key set (JWKS) is
 * fetched; a token signed with a key the set does not name makes it be
 * fetched again. Every request to the provider runs off the event loop
 * (fetch.h); results come back to the callbacks here on the loop.
 *
 * A sign-in in progress lives in the browser, not the server: a cookie
 * holds 32 random bytes and an expiry under a MAC (a key derived from
 * the server secret), and state, nonce and the PKCE verifier are derived
 * from those bytes under the same key, so servers behind one load
 * balancer all know every sign-in, and the provider's answer (code and
 * state) is worth nothing without the browser's cookie. A server also
 * remembers the sign-ins it finished, so that the same answer is not
 * taken twice; the provider's codes are single-use as well.
 *
 * Who signed in is the ID token's subject, checked (signature, iss, aud,
 * exp, iat, nonce: jwt.h); which pcmdsd user that is, is the
 * administrator's word alone (store_oidc_link, pcmdsd user link).
 */
#ifndef PCMDS_OIDC_H
#define PCMDS_OIDC_H

#include <stdint.h>

#include <event2/event.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "secret.h"

#define OIDC_COOKIE		"__Host-pcmds-oidc"
#define OIDC_COOKIE_LEN		128
#define OIDC_FLOW_SECONDS	600	/* to sign in at the provider */

struct oidc;

/*
 * Reads the client secret (a file no other user may read) and the CA
 * file, before privileges are dropped; *o is NULL when the configuration
 * has no oidc_issuer.
 */
pc_rc	 oidc_open(struct oidc **o, const struct conf *,
	    const struct secret *, struct err_list *);
/* Starts the fetch thread and discovery (after privileges are dropped). */
pc_rc	 oidc_start(struct oidc *, struct event_base *, struct err_list *);
/*
 * Stops everything; callbacks still due run first, with PC_EBUSY and
 * stopping set, so that their owners free what they hold.
 */
void	 oidc_close(struct oidc *);

const char *oidc_name(const struct oidc *);
const char *oidc_issuer(const struct oidc *);

struct oidc_result {
	/*
	 * PC_OK; PC_ENET, PC_ETLS, PC_ELIMIT: the provider could not be
	 * reached or verified; PC_EPROTO: it answered what is not OpenID
	 * Connect; PC_EINVAL: it refused the code; PC_EAUTH: its ID token
	 * was refused; PC_EBUSY: the server is stopping.
	 */
	pc_rc		 rc;
	const char	*why;		/* a sentence when not PC_OK */
	const char	*sub;		/* oidc_exchange, on PC_OK */
	int		 stopping;	/* do not answer: the server is going */
};

typedef void (*oidc_cb)(void *arg, const struct oidc_result *);

/* 1 when the provider's endpoints are known (oidc_begin can run). */
int	 oidc_ready(const struct oidc *);
/*
 * cb runs once discovery has succeeded or failed, later, on the loop; a
 * discovery that failed before is tried again.
 */
pc_rc	 oidc_when_ready(struct oidc *, oidc_cb, void *arg);

/*
 * A new sign-in: the cookie value to set and, into url, the provider's
 * authorisation address to send the browser to. Needs oidc_ready().
 */
pc_rc	 oidc_begin(struct oidc *, int64_t now, char cookie[OIDC_COOKIE_LEN],
	    struct buf *url);

/* What a sign-in in progress sends the provider. */
struct oidc_flow {
	char	 state[44];
	char	 nonce[44];
	char	 verifier[44];
};

/*
 * The sign-in the browser's cookie holds, which the provider's answer
 * (state) must belong to. PC_OK with its secrets, then remembered as
 * used; PC_ENOTFOUND: no cookie, or one forged or expired; PC_EAUTH: the
 * state is another sign-in's; PC_ECONFLICT: already used on this server.
 */
pc_rc	 oidc_resume(struct oidc *, const char *cookie, const char *state,
	    int64_t now, struct oidc_flow *);

/*
 * Exchanges the code at the token endpoint and checks the ID token; cb
 * gets the subject. Not PC_OK: nothing started, cb will not run.
 */
pc_rc	 oidc_exchange(struct oidc *, const char *code,
	    const struct oidc_flow *, oidc_cb, void *arg);

#endif

/*
 * jwt.h - an OpenID Connect ID token checked with OpenSSL: a JSON Web
 * Token (RFC 7519) in the compact JWS form (RFC 7515), its signature
 * against the provider's JSON Web Key Set (RFC 7517, 7518), and its
 * claims against what the sign-in expects (OpenID Connect Core 1.0,
 * section 3.1.3.7).
 *
 * Signatures: RS256, RS384, RS512 (RSA PKCS #1 v1.5), PS256, PS384,
 * PS512 (RSA-PSS) with keys of 2048 bits or more, and ES256, ES384,
 * ES512 (ECDSA on P-256, P-384, P-521). "none", the HMAC algorithms
 * (which would make the client secret a signing key) and anything else
 * are refused, as is a header naming extensions ("crit") we do not know.
 *
 * Every refusal adds a sentence to the err_list saying what was wrong.
 */
#ifndef PCMDS_JWT_H
#define PCMDS_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "err.h"

#define JWT_MAX		16384	/* bytes of a token we read */
#define JWT_KID_MAX	128

struct jwt_key {
	char		 kid[JWT_KID_MAX];	/* "" when the key has none */
	char		 alg[8];	/* "" when the key names none */
	int		 rsa;		/* 1 RSA, 0 EC */
	int		 curve;		/* EC: the NID of its curve */
	EVP_PKEY	*pkey;		/* owned */
};

/* A key set: the usable signing keys of a JWKS (owned). */
struct jwt_keys {
	struct jwt_key	*v;
	size_t		 n;
	size_t		 skipped;	/* keys not usable here (kind, use) */
};

/*
 * Reads a JWKS document. Keys of other kinds (oct, OKP) or uses (enc)
 * are skipped and counted; a malformed key is an error, as is a set
 * with no usable key. On error *ks is empty.
 */
pc_rc	 jwt_keys_parse(struct jwt_keys *, const char *json, size_t len,
	    struct err_list *);
void	 jwt_keys_free(struct jwt_keys *);

struct jwt {
	char		 alg[8];
	char		 kid[JWT_KID_MAX];	/* "" when the header has none */
	cJSON		*header;	/* owned */
	cJSON		*claims;	/* owned */
	char		*input;		/* the signed part, header.payload */
	size_t		 input_len;
	uint8_t		*sig;
	size_t		 sig_len;
};

/* Splits and decodes a compact JWS; checks nothing of its signature. */
pc_rc	 jwt_parse(struct jwt *, const char *token, struct err_list *);
/*
 * Checks the signature with the key the header names (kid; without one,
 * the only key fit for the algorithm). PC_ENOTFOUND: no key of that kid
 * (the caller may fetch the set again); PC_EAUTH: the signature does not
 * verify or the key does not fit the algorithm.
 */
pc_rc	 jwt_verify(const struct jwt *, const struct jwt_keys *,
	    struct err_list *);
void	 jwt_free(struct jwt *);

/* What an ID token must say. */
struct jwt_expect {
	const char	*iss;		/* exactly */
	const char	*aud;		/* our client id */
	const char	*nonce;		/* the one this sign-in sent */
	int64_t		 now;		/* seconds since 1970 */
	int		 leeway;	/* seconds of clock difference allowed */
};

#define JWT_SUB_MAX	256	/* OpenID Connect: at most 255 ASCII */

/* 1 when s can be a subject: 1 to 255 printable ASCII, no space. */
int	 jwt_sub_valid(const char *s);

/*
 * Checks iss, aud (and azp), exp, nbf, iat and nonce; on PC_OK sub holds
 * the subject. PC_EAUTH with the reason otherwise.
 */
pc_rc	 jwt_check(const struct jwt *, const struct jwt_expect *,
	    char sub[JWT_SUB_MAX], struct err_list *);

#endif

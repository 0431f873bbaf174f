/*
 * jwt.c - ID tokens: compact JWS, JWKS keys and the claims an OpenID
 * Connect client must check (see jwt.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "jsplit.h"
#include "jwt.h"
#include "sec.h"

#define KEYS_MAX	64	/* keys read from one set */
#define RSA_MIN_BITS	2048

static const struct alg {
	const char	*name;
	int		 rsa;		/* 1 RSA, 0 ECDSA */
	int		 pss;
	int		 curve;		/* ECDSA: NID of the curve */
	size_t		 clen;		/* ECDSA: bytes of r, and of s */
	const EVP_MD	*(*md)(void);
} algs[] = {
	{"RS256", 1, 0, 0, 0, EVP_sha256},
	{"RS384", 1, 0, 0, 0, EVP_sha384},
	{"RS512", 1, 0, 0, 0, EVP_sha512},
	{"PS256", 1, 1, 0, 0, EVP_sha256},
	{"PS384", 1, 1, 0, 0, EVP_sha384},
	{"PS512", 1, 1, 0, 0, EVP_sha512},
	{"ES256", 0, 0, NID_X9_62_prime256v1, 32, EVP_sha256},
	{"ES384", 0, 0, NID_secp384r1, 48, EVP_sha384},
	{"ES512", 0, 0, NID_secp521r1, 66, EVP_sha512},
};

static const struct curve {
	const char	*jwk;		/* crv */
	const char	*group;		/* OpenSSL's name */
	int		 nid;
	size_t		 clen;
} curves[] = {
	{"P-256", "prime256v1", NID_X9_62_prime256v1, 32},
	{"P-384", "secp384r1", NID_secp384r1, 48},
	{"P-521", "secp521r1", NID_secp521r1, 66},
};

static const struct alg *
alg_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/* Decoded base64url (malloc'd, *n bytes), or NULL. */
static uint8_t *
unb64(const char *s, size_t len, size_t *n)
{
	uint8_t *out = malloc(len / 4 * 3 + 3);
	long k;

	if (out == NULL)
		return NULL;
	if ((k = sec_unb64url(s, len, out, len / 4 * 3 + 3)) < 0) {
		free(out);
		return NULL;
	}
	*n = (size_t)k;
	return out;
}

static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A member holding base64url: decoded, at most max bytes. */
static uint8_t *
b64_member(const cJSON *o, const char *name, size_t max, size_t *n)
{
	const char *s = str_of(o, name);
	uint8_t *p;

	if (s == NULL || strlen(s) > max / 3 * 4 + 4 ||
	    (p = unb64(s, strlen(s), n)) == NULL)
		return NULL;
	if (*n == 0 || *n > max) {
		free(p);
		return NULL;
	}
	return p;
}

static EVP_PKEY *
pkey_from(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY_CTX *check = NULL;
	EVP_PKEY *pkey = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	/* a point off the curve, or an even modulus, is no key */
	else if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) ==
	    NULL || EVP_PKEY_public_check(check) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static pc_rc
rsa_key(const cJSON *k, struct jwt_key *key, const char *name,
    struct err_list *errs)
{
	uint8_t *n = NULL, *e = NULL;
	size_t nl = 0, el = 0;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;

	if ((n = b64_member(k, "n", 2048, &nl)) == NULL ||
	    (e = b64_member(k, "e", 8, &el)) == NULL) {
		err_add(errs, E_FORMAT, "jwks", "RSA key %s has no valid n and "
		    "e", name);
		goto fail;
	}
	if ((bn = BN_bin2bn(n, (int)nl, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)el, NULL)) == NULL)
		goto oom;
	if (BN_num_bits(bn) < RSA_MIN_BITS) {
		err_add(errs, E_RANGE, "jwks", "RSA key %s has %d bits; at "
		    "least %d are needed", name, BN_num_bits(bn), RSA_MIN_BITS);
		goto fail;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto oom;
	if ((key->pkey = pkey_from("RSA", params)) == NULL) {
		err_add(errs, E_FORMAT, "jwks", "RSA key %s is not a valid "
		    "public key", name);
		goto fail;
	}
	key->rsa = 1;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return PC_OK;
oom:
	err_add(errs, E_SYSTEM, "jwks", "out of memory reading key %s", name);
fail:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return PC_EINVAL;
}

static pc_rc
ec_key(const cJSON *k, struct jwt_key *key, const char *name,
    struct err_list *errs)
{
	const char *crv = str_of(k, "crv");
	const struct curve *c = NULL;
	uint8_t *x = NULL, *y = NULL, pub[1 + 2 * 66];
	size_t xl = 0, yl = 0, i;
	OSSL_PARAM params[3];

	for (i = 0; crv != NULL && i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(curves[i].jwk, crv) == 0)
			c = &curves[i];
	if (c == NULL) {
		err_add(errs, E_ENUM, "jwks", "EC key %s is on curve %s; P-256, "
		    "P-384 and P-521 are supported", name, crv ? crv : "(none)");
		return PC_EINVAL;
	}
	x = b64_member(k, "x", c->clen, &xl);
	y = b64_member(k, "y", c->clen, &yl);
	if (x == NULL || y == NULL || xl != c->clen || yl != c->clen) {
		err_add(errs, E_FORMAT, "jwks", "EC key %s has no valid x and y",
		    name);
		free(x);
		free(y);
		return PC_EINVAL;
	}
	pub[0] = 4;	/* uncompressed point */
	memcpy(pub + 1, x, xl);
	memcpy(pub + 1 + xl, y, yl);
	free(x);
	free(y);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    pub, 1 + 2 * c->clen);
	params[2] = OSSL_PARAM_construct_end();
	if ((key->pkey = pkey_from("EC", params)) == NULL) {
		err_add(errs, E_FORMAT, "jwks", "EC key %s is not a point on %s",
		    name, c->jwk);
		return PC_EINVAL;
	}
	key->curve = c->nid;
	return PC_OK;
}

/* One member of "keys": added, skipped (another kind or use), or bad. */
static pc_rc
key_add(struct jwt_keys *ks, const cJSON *k, struct err_list *errs)
{
	struct jwt_key *key = &ks->v[ks->n];
	const char *kty = str_of(k, "kty"), *use = str_of(k, "use");
	const char *kid = str_of(k, "kid"), *alg = str_of(k, "alg");
	char name[JWT_KID_MAX + 16];
	pc_rc rc;

	snprintf(name, sizeof(name), "%s%s%s", kid ? "\"" : "", kid ? kid :
	    "without a kid", kid ? "\"" : "");
	if (!cJSON_IsObject(k) || kty == NULL) {
		err_add(errs, E_FORMAT, "jwks", "a key in the set is not an "
		    "object with a kty");
		return PC_EINVAL;
	}
	if ((use != NULL && strcmp(use, "sig") != 0) ||
	    (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0) ||
	    (alg != NULL && alg_find(alg) == NULL)) {
		ks->skipped++;
		return PC_OK;
	}
	if ((kid != NULL && strlen(kid) >= sizeof(key->kid))) {
		err_add(errs, E_LENGTH, "jwks", "a key's kid is longer than "
		    "%zu characters", sizeof(key->kid) - 1);
		return PC_EINVAL;
	}
	memset(key, 0, sizeof(*key));
	rc = strcmp(kty, "RSA") == 0 ? rsa_key(k, key, name, errs) :
	    ec_key(k, key, name, errs);
	if (rc != PC_OK)
		return rc;
	snprintf(key->kid, sizeof(key->kid), "%s", kid ? kid : "");
	snprintf(key->alg, sizeof(key->alg), "%s", alg ? alg : "");
	ks->n++;
	return PC_OK;
}

pc_rc
jwt_keys_parse(struct jwt_keys *ks, const char *json, size_t len,
    struct err_list *errs)
{
	cJSON *doc = jsplit_parse(json, len);
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys"), *k;
	int n = cJSON_GetArraySize(keys);
	pc_rc rc = PC_OK;

	memset(ks, 0, sizeof(*ks));
	if (!cJSON_IsArray(keys)) {
		err_add(errs, E_JSON, "jwks", "the key set is not a JSON "
		    "object with a keys array");
		cJSON_Delete(doc);
		return PC_EINVAL;
	}
	if (n > KEYS_MAX) {
		err_add(errs, E_TOO_MANY, "jwks", "the key set holds %d keys; "
		    "at most %d are read", n, KEYS_MAX);
		cJSON_Delete(doc);
		return PC_EINVAL;
	}
	if (n > 0 && (ks->v = calloc((size_t)n, sizeof(*ks->v))) == NULL) {
		cJSON_Delete(doc);
		return PC_ENOMEM;
	}
	cJSON_ArrayForEach(k, keys)
		if ((rc = key_add(ks, k, errs)) != PC_OK)
			break;
	cJSON_Delete(doc);
	if (rc == PC_OK && ks->n == 0) {
		err_add(errs, E_REQUIRED, "jwks", "the key set holds no RSA or "
		    "EC signing key");
		rc = PC_EINVAL;
	}
	if (rc != PC_OK)
		jwt_keys_free(ks);
	return rc;
}

void
jwt_keys_free(struct jwt_keys *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->v[i].pkey);
	free(ks->v);
	memset(ks, 0, sizeof(*ks));
}

/* One dot-separated part of a token, decoded as a JSON object. */
static cJSON *
json_part(const char *s, size_t len)
{
	size_t n = 0;
	uint8_t *raw = unb64(s, len, &n);
	cJSON *o;

	if (raw == NULL)
		return NULL;
	o = jsplit_parse((const char *)raw, n);
	free(raw);
	if (o != NULL && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

pc_rc
jwt_parse(struct jwt *t, const char *tok, struct err_list *errs)
{
	const char *d1, *d2, *alg, *kid;
	size_t len = strlen(tok);

	memset(t, 0, sizeof(*t));
	if (len > JWT_MAX || (d1 = strchr(tok, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') ||
	    d1 == tok || d2 == d1 + 1 || d2[1] == '\0') {
		err_add(errs, E_FORMAT, "id_token", "the ID token is not a signed "
		    "JWT (three parts, each base64url, at most %d bytes)",
		    JWT_MAX);
		return PC_EAUTH;
	}
	if ((t->header = json_part(tok, (size_t)(d1 - tok))) == NULL ||
	    (t->claims = json_part(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL ||
	    (t->sig = unb64(d2 + 1, strlen(d2 + 1), &t->sig_len)) == NULL) {
		err_add(errs, E_FORMAT, "id_token", "the ID token's header, "
		    "claims or signature is not base64url JSON");
		jwt_free(t);
		return PC_EAUTH;
	}
	alg = str_of(t->header, "alg");
	kid = str_of(t->header, "kid");
	if (alg == NULL || strlen(alg) >= sizeof(t->alg) ||
	    (kid != NULL && strlen(kid) >= sizeof(t->kid)) ||
	    cJSON_GetObjectItemCaseSensitive(t->header, "crit") != NULL) {
		err_add(errs, E_FORMAT, "id_token", "the ID token's header has "
		    "no known alg, a kid too long, or extensions (crit)");
		jwt_free(t);
		return PC_EAUTH;
	}
	snprintf(t->alg, sizeof(t->alg), "%s", alg);
	snprintf(t->kid, sizeof(t->kid), "%s", kid ? kid : "");
	t->input_len = (size_t)(d2 - tok);
	if ((t->input = strndup(tok, t->input_len)) == NULL) {
		jwt_free(t);
		return PC_ENOMEM;
	}
	return PC_OK;
}

void
jwt_free(struct jwt *t)
{
	cJSON_Delete(t->header);
	cJSON_Delete(t->claims);
	free(t->input);
	free(t->sig);
	memset(t, 0, sizeof(*t));
}

static int
key_fits(const struct jwt_key *k, const struct alg *a)
{
	return k->rsa == a->rsa && (a->rsa || k->curve == a->curve);
}

/* The key the token names; NULL with *rc set when there is none. */
static const struct jwt_key *
key_for(const struct jwt *t, const struct alg *a, const struct jwt_keys *ks,
    pc_rc *rc, struct err_list *errs)
{
	const struct jwt_key *found = NULL;
	size_t i, n = 0;

	for (i = 0; i < ks->n; i++)
		if (t->kid[0] != '\0' ? strcmp(ks->v[i].kid, t->kid) == 0 :
		    key_fits(&ks->v[i], a)) {
			found = &ks->v[i];
			n++;
		}
	if (n == 1)
		return found;
	*rc = n == 0 ? PC_ENOTFOUND : PC_EAUTH;
	if (n == 0 && t->kid[0] != '\0')
		err_add(errs, E_TARGET, "kid", "the provider's key set has no "
		    "key \"%s\", which signed the ID token", t->kid);
	else if (n == 0)
		err_add(errs, E_TARGET, "kid", "the provider's key set has no "
		    "%s key for the ID token, which names none", a->name);
	else
		err_add(errs, E_RULE, "kid", "the ID token names %s, which %zu "
		    "keys of the provider's set share", t->kid[0] ? "a key" :
		    "no key", n);
	return NULL;
}

/* ECDSA's r || s as the DER SEQUENCE OpenSSL verifies. */
static int
ecdsa_der(const uint8_t *sig, size_t clen, unsigned char **der)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)clen, NULL);
	BIGNUM *s = BN_bin2bn(sig + clen, (int)clen, NULL);
	int n = -1;

	*der = NULL;
	if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s)) {
		r = s = NULL;	/* es owns them */
		n = i2d_ECDSA_SIG(es, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return n;
}

static int
verify_with(const struct jwt *t, const struct alg *a, EVP_PKEY *pkey)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const uint8_t *sig = t->sig;
	unsigned char *der = NULL;
	size_t len = t->sig_len;
	int ok = 0, n;

	if (!a->rsa) {
		/* JWS: exactly r || s, each the curve's size */
		if (t->sig_len != 2 * a->clen ||
		    (n = ecdsa_der(t->sig, a->clen, &der)) <= 0)
			goto out;
		sig = der;
		len = (size_t)n;
	}
	if (m == NULL || EVP_DigestVerifyInit(m, &pctx, a->md(), NULL, pkey) !=
	    1)
		goto out;
	if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) != 1 || EVP_PKEY_CTX_set_rsa_pss_saltlen(
	    pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	ok = EVP_DigestVerify(m, sig, len, (const unsigned char *)t->input,
	    t->input_len) == 1;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(m);
	return ok;
}

pc_rc
jwt_verify(const struct jwt *t, const struct jwt_keys *ks,
    struct err_list *errs)
{
	const struct alg *a = alg_find(t->alg);
	const struct jwt_key *k;
	pc_rc rc = PC_OK;

	if (a == NULL) {
		err_add(errs, E_ENUM, "alg", "the ID token is signed with %s, "
		    "which is refused: RS256, RS384, RS512, PS256, PS384, "
		    "PS512, ES256, ES384 and ES512 are accepted", t->alg);
		return PC_EAUTH;
	}
	if ((k = key_for(t, a, ks, &rc, errs)) == NULL)
		return rc;
	if (!key_fits(k, a) || (k->alg[0] != '\0' && strcmp(k->alg, a->name))) {
		err_add(errs, E_RULE, "alg", "the ID token says %s, but the "
		    "provider's key \"%s\" is %s", a->name, k->kid, k->alg[0] ?
		    k->alg : k->rsa ? "an RSA key" : "an EC key of another curve");
		return PC_EAUTH;
	}
	if (!verify_with(t, a, k->pkey)) {
		err_add(errs, E_RULE, "signature", "the ID token's %s signature "
		    "does not verify with the provider's key \"%s\"", a->name,
		    k->kid);
		return PC_EAUTH;
	}
	return PC_OK;
}

/* A NumericDate claim: 1 with *out, 0 absent, -1 not a number. */
static int
date_claim(const cJSON *c, const char *name, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    fabs(v->valuedouble) > 1e15)
		return -1;
	*out = (int64_t)floor(v->valuedouble);
	return 1;
}

static int
aud_ok(const cJSON *c, const char *want)
{
	const cJSON *aud = cJSON_GetObjectItemCaseSensitive(c, "aud"), *a;
	const char *azp = str_of(c, "azp");
	int n = 0, mine = 0;

	/* a token for several audiences must say it was given to us */
	if (azp != NULL && strcmp(azp, want) != 0)
		return 0;
	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, want) == 0;
	if (!cJSON_IsArray(aud))
		return 0;
	cJSON_ArrayForEach(a, aud) {
		if (!cJSON_IsString(a))
			return 0;
		n++;
		mine |= strcmp(a->valuestring, want) == 0;
	}
	return mine && (n == 1 || azp != NULL);
}

int
jwt_sub_valid(const char *sub)
{
	size_t n = sub ? strlen(sub) : 0, i;

	if (n == 0 || n >= JWT_SUB_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)sub[i] <= 0x20 || (unsigned char)sub[i] >= 0x7f)
			return 0;
	return 1;
}

pc_rc
jwt_check(const struct jwt *t, const struct jwt_expect *e,
    char sub[JWT_SUB_MAX], struct err_list *errs)
{
	const cJSON *c = t->claims;
	const char *iss = str_of(c, "iss"), *nonce = str_of(c, "nonce");
	const char *s = str_of(c, "sub");
	int64_t exp = 0, iat = 0, nbf = 0;
	int hexp = date_claim(c, "exp", &exp), hiat = date_claim(c, "iat", &iat);
	int hnbf = date_claim(c, "nbf", &nbf);

	sub[0] = '\0';
	if (iss == NULL || strcmp(iss, e->iss) != 0)
		err_add(errs, E_RULE, "iss", "the ID token was issued by %s, not "
		    "by the configured provider %s", iss ? iss : "nobody named",
		    e->iss);
	else if (!aud_ok(c, e->aud))
		err_add(errs, E_RULE, "aud", "the ID token was not issued to "
		    "this server (client id %s)", e->aud);
	else if (hexp != 1 || hiat != 1 || hnbf < 0)
		err_add(errs, E_REQUIRED, "exp", "the ID token lacks a valid "
		    "exp or iat");
	else if (e->now - e->leeway >= exp)
		err_add(errs, E_RULE, "exp", "the ID token expired %lld "
		    "seconds ago", (long long)(e->now - exp));
	else if (iat > e->now + e->leeway || (hnbf && nbf > e->now + e->leeway))
		err_add(errs, E_RULE, "iat", "the ID token is dated %lld "
		    "seconds in the future: the provider's clock or this server's is "
		    "wrong", (long long)((iat > nbf ? iat : nbf) - e->now));
	else if (nonce == NULL || strcmp(nonce, e->nonce) != 0)
		err_add(errs, E_RULE, "nonce", "the ID token was made for "
		    "another sign-in (its nonce differs)");
	else if (!jwt_sub_valid(s))
		err_add(errs, E_FORMAT, "sub", "the ID token's subject is "
		    "missing, longer than %d characters or not printable ASCII",
		    JWT_SUB_MAX - 1);
	else {
		snprintf(sub, JWT_SUB_MAX, "%s", s);
		return PC_OK;
	}
	return PC_EAUTH;
}

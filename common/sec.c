/*
 * sec.c - OpenSSL-backed hashing, HMAC and randomness.
 *
 * The HMAC of many short messages under one key (sec_hmac) runs on
 * SHA-256's own contexts, which OpenSSL 3 marks as deprecated but keeps:
 * a copy of one is a plain struct copy, where an EVP context's copy
 * allocates and frees on every message, a third of the MAC's time.
 */
#define OPENSSL_API_COMPAT	10101	/* SHA256_Init and the like */

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "sec.h"

pc_rc
sec_random(void *p, size_t n)
{
	if (n > (size_t)0x7fffffff || RAND_bytes(p, (int)n) != 1)
		return PC_EIO;
	return PC_OK;
}

/*
 * OpenSSL 3's one-shot SHA256() looks the algorithm up on every call,
 * which costs more than hashing a record; fetch it once.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
sec_sha256(const void *p, size_t n, uint8_t out[SEC_SHA256_LEN])
{
	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL ||
	    EVP_Digest(p, n, out, NULL, sha256_md, NULL) != 1)
		SHA256(p, n, out);
}

pc_rc
sec_sha256_begin(struct sec_sha256 *h)
{
	pthread_once(&sha256_once, sha256_fetch);
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		return PC_ENOMEM;
	if (EVP_DigestInit_ex(h->ctx, sha256_md ? sha256_md : EVP_sha256(),
	    NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
		return PC_EIO;
	}
	return PC_OK;
}

void
sec_sha256_add(struct sec_sha256 *h, const void *p, size_t n)
{
	if (h->ctx != NULL && EVP_DigestUpdate(h->ctx, p, n) != 1) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;	/* sec_sha256_end says it failed */
	}
}

pc_rc
sec_sha256_end(struct sec_sha256 *h, uint8_t out[SEC_SHA256_LEN])
{
	int ok = h->ctx != NULL && EVP_DigestFinal_ex(h->ctx, out, NULL) == 1;

	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	return ok ? PC_OK : PC_EIO;
}

void
sec_sha256_hex(const void *p, size_t n, char out[SEC_HEX64_LEN])
{
	uint8_t md[SEC_SHA256_LEN];

	sec_sha256(p, n, md);
	sec_hex(md, sizeof(md), out);
}

pc_rc
sec_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t msglen, uint8_t out[SEC_SHA256_LEN])
{
	unsigned int len = SEC_SHA256_LEN;

	if (keylen > (size_t)0x7fffffff ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &len) ==
	    NULL || len != SEC_SHA256_LEN)
		return PC_EIO;
	return PC_OK;
}

#define HMAC_BLOCK	64	/* SHA-256's block */

struct sec_hmac {
	SHA256_CTX	 inner, outer;	/* after the key's pads */
};

void
sec_hmac_free(struct sec_hmac *h)
{
	if (h == NULL)
		return;
	sec_wipe(h, sizeof(*h));
	free(h);
}

/* ctx: SHA-256 that has absorbed the key xor c (RFC 2104). */
static int
hmac_pad(SHA256_CTX *ctx, const uint8_t key[HMAC_BLOCK], uint8_t c)
{
	uint8_t block[HMAC_BLOCK];
	int i, ok;

	for (i = 0; i < HMAC_BLOCK; i++)
		block[i] = key[i] ^ c;
	ok = SHA256_Init(ctx) == 1 &&
	    SHA256_Update(ctx, block, sizeof(block)) == 1;
	sec_wipe(block, sizeof(block));
	return ok;
}

struct sec_hmac *
sec_hmac_new(const void *key, size_t keylen)
{
	struct sec_hmac *h;
	uint8_t k[HMAC_BLOCK] = {0};
	int ok;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if (keylen > HMAC_BLOCK)	/* a long key is its hash */
		sec_sha256(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	ok = hmac_pad(&h->inner, k, 0x36) && hmac_pad(&h->outer, k, 0x5c);
	sec_wipe(k, sizeof(k));
	if (!ok) {
		sec_hmac_free(h);
		return NULL;
	}
	return h;
}

pc_rc
sec_hmac(struct sec_hmac *h, const void *msg, size_t msglen,
    uint8_t out[SEC_SHA256_LEN])
{
	SHA256_CTX c = h->inner;
	uint8_t ih[SEC_SHA256_LEN];
	int ok = SHA256_Update(&c, msg, msglen) == 1 &&
	    SHA256_Final(ih, &c) == 1;

	c = h->outer;
	ok = ok && SHA256_Update(&c, ih, sizeof(ih)) == 1 &&
	    SHA256_Final(out, &c) == 1;
	sec_wipe(ih, sizeof(ih));
	sec_wipe(&c, sizeof(c));
	return ok ? PC_OK : PC_EIO;
}

void
sec_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
sec_unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void
sec_b64url(const uint8_t *p, size_t n, char *out)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;
	char *o = out;

	for (i = 0; i + 2 < n; i += 3) {
		*o++ = al[p[i] >> 2];
		*o++ = al[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*o++ = al[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*o++ = al[p[i + 2] & 63];
	}
	if (n - i == 1) {
		*o++ = al[p[i] >> 2];
		*o++ = al[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		*o++ = al[p[i] >> 2];
		*o++ = al[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*o++ = al[(p[i + 1] & 15) << 2];
	}
	*o = '\0';
}

static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

long
sec_unb64url(const char *s, size_t len, uint8_t *out, size_t max)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0, v;

	if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > max)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64url_value(s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)n;
}

pc_rc
sec_scrypt(const void *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint64_t n, uint32_t r, uint32_t p, uint64_t maxmem,
    uint8_t *out, size_t outlen)
{
	EVP_KDF *k = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *c = k ? EVP_KDF_CTX_new(k) : NULL;
	OSSL_PARAM params[7];
	int ok;

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)pass, passlen);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, saltlen);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
	    &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	ok = c != NULL && EVP_KDF_derive(c, out, outlen, params) == 1;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(k);
	return ok ? PC_OK : PC_EIO;
}

int
sec_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
sec_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

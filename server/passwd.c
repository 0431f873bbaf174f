/*
 * passwd.c - scrypt through OpenSSL's EVP_KDF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "passwd.h"
#include "sec.h"

#define SALT_LEN	16
#define KEY_LEN		32
#define N_DEFAULT	32768
#define R_DEFAULT	8
#define P_DEFAULT	1
#define MAXMEM		(256u << 20)

const char *
passwd_problem(const char *pw)
{
	size_t n = strlen(pw), i;

	if (n < PASSWD_MIN)
		return "A password needs at least 12 characters: three or four "
		    "words you will remember make a strong one.";
	if (n > PASSWD_MAX)
		return "A password may have at most 200 characters.";
	for (i = 0; i < n; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
			return "A password cannot hold control characters.";
	return NULL;
}

static int
kdf(const char *pw, const uint8_t *salt, size_t saltlen, uint64_t n,
    uint32_t r, uint32_t p, uint8_t *out, size_t outlen)
{
	EVP_KDF *k = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *c = k ? EVP_KDF_CTX_new(k) : NULL;
	uint64_t maxmem = MAXMEM;
	OSSL_PARAM params[7];
	int ok;

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)pw, strlen(pw));
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
	return ok ? 0 : -1;
}

pc_rc
passwd_hash(const char *pw, char out[PASSWD_LEN])
{
	uint8_t salt[SALT_LEN], key[KEY_LEN];
	char s64[32], k64[64];

	if (sec_random(salt, sizeof(salt)) != PC_OK ||
	    kdf(pw, salt, sizeof(salt), N_DEFAULT, R_DEFAULT, P_DEFAULT, key,
	    sizeof(key)) != 0)
		return PC_EIO;
	sec_b64url(salt, sizeof(salt), s64);
	sec_b64url(key, sizeof(key), k64);
	snprintf(out, PASSWD_LEN, "scrypt$%d$%d$%d$%s$%s", N_DEFAULT,
	    R_DEFAULT, P_DEFAULT, s64, k64);
	sec_wipe(key, sizeof(key));
	return PC_OK;
}

int
passwd_verify(const char *pw, const char *stored)
{
	char s64[64], k64[80];
	uint8_t salt[48], want[64], got[64];
	unsigned long long n;
	unsigned r, p;
	long sl, kl;
	int ok;

	if (sscanf(stored, "scrypt$%llu$%u$%u$%63[^$]$%79s", &n, &r, &p, s64,
	    k64) != 5 || n < 2 || n > (1u << 20) || (n & (n - 1)) != 0 ||
	    r < 1 || r > 32 || p < 1 || p > 16 ||
	    (sl = sec_unb64url(s64, strlen(s64), salt, sizeof(salt))) <= 0 ||
	    (kl = sec_unb64url(k64, strlen(k64), want, sizeof(want))) <= 0)
		return -1;
	if (kdf(pw, salt, (size_t)sl, n, r, p, got, (size_t)kl) != 0)
		return -1;
	ok = CRYPTO_memcmp(got, want, (size_t)kl) == 0;
	sec_wipe(got, sizeof(got));
	return ok;
}

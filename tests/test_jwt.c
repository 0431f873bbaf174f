/*
 * test_jwt.c - ID tokens: signatures against a key set, and the claims
 * an OpenID Connect client checks.
 *
 * References: RFC 7515 (JSON Web Signature), Appendix A.2 (RS256) and
 * A.3 (ES256), whose keys and signatures are verified here as the RFC
 * prints them (and were checked with Python's cryptography package
 * before being written down); OpenID Connect Core 1.0, section 3.1.3.7
 * (ID token validation). Tokens are also signed by the openssl command
 * (RS256, PS256, ES256 with its DER read by asn1parse, and HS256 keyed
 * with the RSA public key, the algorithm-confusion attack), from keys
 * it made and prints, a program apart from the verifier; the others are
 * signed here with OpenSSL's signing side, so a verifier that accepted
 * anything would fail.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "harness.h"
#include "jwt.h"
#include "sec.h"

/* RFC 7515 A.2's RSA key (n, e) and A.3's P-256 key (x, y). */
#define A2_N "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx" \
	"HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPE" \
	"wOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUs" \
	"LA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4L" \
	"T6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW" \
	"9gb54h4FRWyuXpoQ"
#define A2_SIG "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZ" \
	"j5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKB" \
	"YNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7" \
	"K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ" \
	"1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igc" \
	"N_IoypGlUPQGe77Rw"
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define A3_SIG "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa" \
	"8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
/* {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true} */
#define A_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6" \
	"Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

#define ISS	"https://idp.example.nhs.uk/realms/cis2"
#define AUD	"pcmds-dashboard"
#define NONCE	"n-0S6_WzA2Mj"

/*
 * RSA keys made once with openssl genpkey (2048 and 1024 bits), fixed
 * here because making primes under valgrind takes minutes; the EC keys
 * are made fresh each run.
 */
static const char RSA_A[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDBP2BokaZw8cZL\n"
    "Wdoxl/rpRLy/BDEmc9sTKWdgE4ngndQEJtNUy/kber6bOlPsONJgy0dPCRCDURqZ\n"
    "aEcw64UpcBXBYDrOrnCi3n9U0tr+RwK9j/Ei9jwKu5W3H+NMItiMl7dyAdPPYWe2\n"
    "KP//A4OEx0+axRfXtC6wqUTtSWY6QDPm1gXDh5CDNFrqmR6HHS2ain6PoOnT6PSa\n"
    "BpwCkmG7nA60aWtm2X+B3cGkm+IIcm/3Akh6HHvC/RRmxRA3UnAv4eYQDrxUk4b5\n"
    "odphPc8H1Rd6ZR7cCCtw2XtMAaar2syAtWAO7/AtaViNu/oagKz1UXSs9qQfjajz\n"
    "52mYkIcxAgMBAAECggEAAR9zjMGYssjoDg5t/7vFiXVzMBwmICl4+TOHlj26BcQY\n"
    "NBRfRfupbUkMf0c0SNSyF3EW72HUgFU7glV7+s/9H7CD1j8Cft2+Npp0XI0DfyOK\n"
    "fVXiYM5td69MJc3ZoQ4F+n5aYoWZy93h0snwmUEiX0y8YBNx5mvCZn37siVEosua\n"
    "HJmwe5knbkVLYNoWwQkNeqwZfD2S4eEbvECqow3SIhmmMtneNiQCsRQZZIYUVWL2\n"
    "ZluXrPwlPHXSujm3iWEfYYaViLaEw4Dm4aNXBir5WVwSbcMoUODYKUh6+R68cVFF\n"
    "cWXyuhkTd0Lzn4OaCtgKXDbdvZzA3hm0SL+UYlTsAQKBgQDymjkhs92G52dDziCp\n"
    "yEQp6Tmfr79gk29mlugW6+aL107LbGQYn9lUIMEo20vbwfB6swsoZQAvaIBjn1jd\n"
    "7WTX5Klt5f0Ijzb/tyxx1rlA6cKu2tO+S7wgLKcO3au0rVbNzT8iRRtxCuEggJdA\n"
    "kw7ZXR2g4aJdW++RIhpALMoNWQKBgQDL62brQ0ULEiu2eZoQw0e6MmfkBikeDnbb\n"
    "FJjQCGFbUrM/LikuMzieRwimWc1MAzdYaVlBCe/HpMzVUVemhsu9PHRC2vmVXpg8\n"
    "aMN79uOJDYUbBTlkTedPwInqR4ojb+sDXDUU4ioIlrA6sjxq+jZlK9ChdK2AAVnN\n"
    "ByL9HGBVmQKBgDSaH/0gxM21avyWuxpVJAJ6YVYwgyxri2IRIm2l5K05mAofjGyS\n"
    "bEsDdx5mvkH+ASh5nde6Xpno7L2tFVW5XX46REph7cVnWCOGEgr05eIfTWkgZX0D\n"
    "at0HEYn1on9gfkvNTv0dQt/13e5wM1t7B2M1/3Ccu9nGT2GGpW54x66xAoGAV4O5\n"
    "cbI3CV9M/00Ev7jvKYvEZmn2b33JqJAYXP+buLOvVagb6EX3QIY/whS8NKkUsY7U\n"
    "zULUcxvZBJuaQE+NVLODOcX8YwxrzVEwxBza3dC9lTESxmdgpCt/hNobAMZhV9nU\n"
    "thex7mmtTCN+JnMnsReyu/f1FgB+Z61uaK4q8dECgYAP/zdMd8Et977rUCklk1JF\n"
    "AmtzqkiXDYhw1I7ZLS+e68IZVxSexjll0+mDcfC8Kq93nEbI82ZkcMVnEX9dpI/B\n"
    "CzzFulBdQWmBxjk01ZQBF+CccTHrtF/wcdL+wIbLeGlWzxYqH4lo32ux80RGjMtb\n"
    "JLZ2/QWvTJFv6tbxm8YQbQ==\n"
    "-----END PRIVATE KEY-----\n";
static const char RSA_B[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDXFyXaQ9w96+st\n"
    "lzPMhXKblJXfKx9hhaD+dCblvFqgoS+jjqVzf0Kf3CHPh89nSb8V6xUCwZjwY7A6\n"
    "/osszdhTEd7cuyFMqA5OYTax8EArc/+3Gf4KAtpTUrwAYlaL2bdoB3DrsaMSBPrA\n"
    "oacJbY20HJuGmiU/K4/SdMPWVr7Q5PVWVmt0/IAn7mAmntIXyTyc2G8vHIRZ6Oyz\n"
    "Cbt/d3BZMyDpSldWPnRoEGf1NAy6tD7eXugiIjchGFywyN69NbMTXgCaVrHZRQho\n"
    "hmv4YFX5AHs2oz0mMAEzROEdHkWMUgrrp3bzeF2uRcfEWeScJrYuEhhlTFhmBvCQ\n"
    "6M9gxHxnAgMBAAECggEAXE6ZVpXn54UfPUYWG1Ar8rvuI8PQaFxeTsVPSimu5R+3\n"
    "n6QgujPjxlJFCljY+BVMld34+uFVvtixcWf7F4PRsjjJoYYHkOvQk++hdvTJvTw/\n"
    "gnd7sBUwWDD58NpDFSqezNzgp63o81tCt7fIRUIIXcMnNbligb0ysFmfEBXTNzc5\n"
    "lwKoIPaCo9mEWExPlfoghsrf9yJPbX3eBWJPiojKzeJ3pit1qFv2eHxBbznKhpvn\n"
    "mpMgnoIv3YIxtNXMr/rPs20mMxb8BcLzWwSGoFhxzlpgexJqLWUuHzHHkWJJjcR1\n"
    "6Hnn18JsNNkxr/4rNNwlc2ovLUaKr58KrSoLtkVovQKBgQD416o6F32ZsDX+aSCl\n"
    "DtzWRKp6YooLE0M7b3mL+rJuVF8mcqJ6vsCEzL72Fdx2N84sRbhoqwHy+oHR3reU\n"
    "XTAGLBFpqnRI98xeMXzrGMs+fK6IlMaA41ICiggBoWtZCvvvi6Nq48x3Fc7pdACi\n"
    "ENlFyCIErn8TxBQjxdhJRjtO+wKBgQDdRvO+LEnoOcLWmm4pci6pqf1fJJh+gu6a\n"
    "uGrBCzVg+80GKuFMGSP9rvsoc2mTbA2dVtTOs7vfI4r55Itvd85NJvguNOGDGf7R\n"
    "sN+zbWj5ATHjJUUHcimrTQ68nu4FAL8yniTEIEoYSlQe9/k456FuFxuxeKokwqCX\n"
    "jatL4SMchQKBgCNzzmvSVvGjej3RynXZpTrds5AWI+aqCuUX37BCulMfsCKxKFbm\n"
    "gFUrOnWi7bLmBnimQjyfSHrOl9pHqc34bNQkSSLNxx1yOGqfEFYKRUKUzuTklVdd\n"
    "i5yS/8sDrWCVQQmC0nhzFflNYRo/jauJTPs1JSuXlMFDKT9je4oM+HwrAoGBAMx/\n"
    "/lQLamKMv1zGbHkxZZ6308pSb/y71Ph453Bxg2uWSu0gRAeoVHLnfIbt4uy0OADp\n"
    "dtNxmHeoyZAZgCQMfUUgds19Yc1gAPialqOkwhce25QppZo0D/6YwL3hw+grwIhv\n"
    "T1tS3CeGyie01UeaCr9L6/QgqF5A4VovO9hswZ5hAoGAVMLopwA4V79aYAzKl2vt\n"
    "l0a6VnX7GN6zig4vRM/Ht2m1+eaCHXLS2NnO54DUtU21wqzGpCiI/hIqGcCM6BFd\n"
    "lryX9EFLEHSjFN476vKGCNNqnkaSYe0RE2Y5rstWcJVOTIPZXjzX0DkpJYMcTUUL\n"
    "ATF8iENlZxMCJVBqXC+ZyKY=\n"
    "-----END PRIVATE KEY-----\n";
static const char RSA_1024[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAJyXyWk1B/cUdKGi\n"
    "2UWOISM5quktwUhFfQqc8btAxv+IpAeLBIRTl6v5Zboh7CunzjsBHAn/keL9kHyT\n"
    "Z914R0ELDxeAuRbVp/DRt4Kf90VE9kivss156KLT2K63wjS29purdU3by9DXMie7\n"
    "j2queBaHKHdxQNqFvsIcgaQbdZGxAgMBAAECgYBYmSjD9dVD3rb+nP0BdaEaJQ6m\n"
    "T9UD5w0QbCv5HnV5Lv5fpjAwDnvKOZls7rSJHrB4gfAzV/5ax8xwL5acn+jv6Zdc\n"
    "goEdrsvLuPOGiHHaPPm9Ok5nUmTkElyqPLxf1Q6///6T/sfH1UHxjG+FgkjKUdH0\n"
    "+nVrDFsKNYbWGyFcYQJBAMmqpOOOeFLW6gC5aQ/UaCJyc7+eJT2mJjEyHq3421MC\n"
    "4zmm5X3/n6pvnThcGlH0VuviOJGqmfODJ4E88VUdUH8CQQDGyFH1f6zREeghP/Cb\n"
    "17rYCOzvjvwSa4jm6Yb4dAofa0NARebrxdmY8m91xY383VusiE+wSrZQPm5AWXDC\n"
    "UQXPAkAvU5CmpoSuTClWSizRvjNCAkIPsfljYl6MJQr2IPS3onHY0cYBr7+0q8Tl\n"
    "uRekLAdKDCjiZnsCnsDin36zTtHZAkEAmQWIIiZg0KiqOz5PaIiPatKkIl29qihh\n"
    "wPAwWH5rdHhL0uR8uS8bLOQj7VNg1DFK6uwb/CfnZKpKkPrJFKzufQJAKRsMATRp\n"
    "IFiI5xBQZ1rhTcas9WiD4WI8xC5RyNrHg9vVrXlBQh7PxNjXRC83dS1JpnWa7U/1\n"
    "9cH5oJ0KhNg9NA==\n"
    "-----END PRIVATE KEY-----\n";

static EVP_PKEY *
rsa_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k;

	assert_non_null(b);
	assert_non_null(k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL));
	BIO_free(b);
	return k;
}

static EVP_PKEY *
new_ec(const char *group)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);

	assert_non_null(k);
	return k;
}

static void
b64_bn(const BIGNUM *bn, size_t pad, char *out)
{
	uint8_t raw[1024];
	int n = pad ? BN_bn2binpad(bn, raw, (int)pad) : BN_bn2bin(bn, raw);

	assert_true(n > 0);
	sec_b64url(raw, (size_t)n, out);
}

/* The public JWK of k, with kid and alg ("" for none). */
static void
jwk(EVP_PKEY *k, const char *kid, const char *alg, char *out, size_t len)
{
	BIGNUM *a = NULL, *b = NULL;
	char x[1400], y[200], crv[16] = "", group[32];
	size_t clen;

	if (EVP_PKEY_is_a(k, "RSA")) {
		assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N,
		    &a), 1);
		assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E,
		    &b), 1);
		b64_bn(a, 0, x);
		b64_bn(b, 0, y);
		snprintf(out, len, "{\"kty\":\"RSA\",\"kid\":\"%s\",%s%s%s"
		    "\"n\":\"%s\",\"e\":\"%s\"}", kid, alg[0] ? "\"alg\":\"" : "",
		    alg, alg[0] ? "\"," : "", x, y);
	} else {
		assert_int_equal(EVP_PKEY_get_utf8_string_param(k,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL), 1);
		clen = strcmp(group, "prime256v1") == 0 ? 32 : strcmp(group,
		    "secp384r1") == 0 ? 48 : 66;
		snprintf(crv, sizeof(crv), "P-%s", clen == 32 ? "256" : clen ==
		    48 ? "384" : "521");
		assert_int_equal(EVP_PKEY_get_bn_param(k,
		    OSSL_PKEY_PARAM_EC_PUB_X, &a), 1);
		assert_int_equal(EVP_PKEY_get_bn_param(k,
		    OSSL_PKEY_PARAM_EC_PUB_Y, &b), 1);
		b64_bn(a, clen, x);
		b64_bn(b, clen, y);
		snprintf(out, len, "{\"kty\":\"EC\",\"kid\":\"%s\",%s%s%s"
		    "\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", kid, alg[0] ?
		    "\"alg\":\"" : "", alg, alg[0] ? "\"," : "", crv, x, y);
	}
	BN_free(a);
	BN_free(b);
}

static void
keys_of(struct jwt_keys *ks, const char *set)
{
	struct err_list errs;

	err_init(&errs);
	if (jwt_keys_parse(ks, set, strlen(set), &errs) != PC_OK)
		fail_msg("key set refused: %s", errs.n ? errs.v[0].msg : "?");
	err_free(&errs);
}

/* A token over header and claims (JSON), signed by k with alg. */
static char *
sign(EVP_PKEY *k, const char *alg, const char *header, const char *claims)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;
	const EVP_MD *md = strstr(alg, "384") ? EVP_sha384() : strstr(alg,
	    "512") ? EVP_sha512() : EVP_sha256();
	unsigned char sig[1024], raw[200];
	const unsigned char *q = sig;
	char *tok = malloc(16384), *h = malloc(4096), *c = malloc(8192);
	size_t n = sizeof(sig), clen;
	ECDSA_SIG *es;
	const BIGNUM *r, *s;

	sec_b64url((const uint8_t *)header, strlen(header), h);
	sec_b64url((const uint8_t *)claims, strlen(claims), c);
	snprintf(tok, 16384, "%s.%s", h, c);
	assert_int_equal(EVP_DigestSignInit(m, &p, md, NULL, k), 1);
	if (alg[0] == 'P') {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(p,
		    RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(p,
		    RSA_PSS_SALTLEN_DIGEST), 1);
	}
	assert_int_equal(EVP_DigestSign(m, sig, &n, (unsigned char *)tok,
	    strlen(tok)), 1);
	if (alg[0] == 'E') {
		/* DER to JWS's r || s */
		clen = strstr(alg, "256") ? 32 : strstr(alg, "384") ? 48 : 66;
		es = d2i_ECDSA_SIG(NULL, &q, (long)n);
		assert_non_null(es);
		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, raw, (int)clen);
		BN_bn2binpad(s, raw + clen, (int)clen);
		ECDSA_SIG_free(es);
		memcpy(sig, raw, 2 * clen);
		n = 2 * clen;
	}
	strcat(tok, ".");
	sec_b64url(sig, n, tok + strlen(tok));
	EVP_MD_CTX_free(m);
	free(h);
	free(c);
	return tok;
}

/* jwt_parse then jwt_verify: the pc_rc, with the reason in why. */
static pc_rc
verify(const char *tok, const struct jwt_keys *ks, char *why, size_t len)
{
	struct err_list errs;
	struct jwt t;
	pc_rc rc;

	err_init(&errs);
	if ((rc = jwt_parse(&t, tok, &errs)) == PC_OK) {
		rc = jwt_verify(&t, ks, &errs);
		jwt_free(&t);
	}
	snprintf(why, len, "%s", errs.n ? errs.v[0].msg : "");
	err_free(&errs);
	return rc;
}

static void
test_rfc7515_examples(void **state)
{
	struct jwt_keys ks;
	char why[512];

	(void)state;
	keys_of(&ks, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"" A2_N "\",\"e\":"
	    "\"AQAB\"},{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X "\","
	    "\"y\":\"" A3_Y "\"}]}");
	assert_int_equal(ks.n, 2);
	/* no kid: the only key fit for the algorithm */
	assert_int_equal(verify("eyJhbGciOiJSUzI1NiJ9." A_PAYLOAD "." A2_SIG,
	    &ks, why, sizeof(why)), PC_OK);
	assert_int_equal(verify("eyJhbGciOiJFUzI1NiJ9." A_PAYLOAD "." A3_SIG,
	    &ks, why, sizeof(why)), PC_OK);
	/* the same signatures over a changed payload ("exp":1300819381) */
	assert_int_equal(verify("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJ"
	    "leHAiOjEzMDA4MTkzODEsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
	    "cnVlfQ." A2_SIG, &ks, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "does not verify"));
	/* A.3's signature presented as RS256 finds the RSA key, and fails */
	assert_int_equal(verify("eyJhbGciOiJSUzI1NiJ9." A_PAYLOAD "." A3_SIG,
	    &ks, why, sizeof(why)), PC_EAUTH);
	jwt_keys_free(&ks);
}

static void
test_algorithms_signed_here(void **state)
{
	static const struct {
		const char	*alg;
		const char	*group;	/* NULL: RSA */
	} cases[] = {
		{"RS256", NULL}, {"RS384", NULL}, {"RS512", NULL},
		{"PS256", NULL}, {"PS384", NULL}, {"PS512", NULL},
		{"ES256", "P-256"}, {"ES384", "P-384"}, {"ES512", "P-521"},
	};
	EVP_PKEY *rsa = rsa_pem(RSA_A), *k;
	struct jwt_keys ks;
	char set[8192], j[2048], hdr[128], why[512], *tok;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = cases[i].group ? new_ec(cases[i].group) : rsa;
		jwk(k, "k1", cases[i].alg, j, sizeof(j));
		snprintf(set, sizeof(set), "{\"keys\":[%s]}", j);
		keys_of(&ks, set);
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"k1\"}",
		    cases[i].alg);
		tok = sign(k, cases[i].alg, hdr, "{\"sub\":\"a\"}");
		if (verify(tok, &ks, why, sizeof(why)) != PC_OK)
			fail_msg("%s refused: %s", cases[i].alg, why);
		/* one bit of the signature changed */
		tok[strlen(tok) - 3] = tok[strlen(tok) - 3] == 'A' ? 'B' : 'A';
		assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_EAUTH);
		free(tok);
		jwt_keys_free(&ks);
		if (k != rsa)
			EVP_PKEY_free(k);
	}
	EVP_PKEY_free(rsa);
}

static void
test_keys_that_do_not_fit(void **state)
{
	EVP_PKEY *a = rsa_pem(RSA_A), *b = rsa_pem(RSA_B);
	EVP_PKEY *e = new_ec("P-256");
	struct jwt_keys ks;
	char set[8192], ja[2048], je[512], why[512], *tok;

	(void)state;
	jwk(a, "k1", "RS256", ja, sizeof(ja));
	jwk(e, "k2", "ES256", je, sizeof(je));
	snprintf(set, sizeof(set), "{\"keys\":[%s,%s,{\"kty\":\"oct\",\"k\":"
	    "\"c2VjcmV0\"},{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":"
	    "\"AQAB\"}]}", ja, je);
	keys_of(&ks, set);
	assert_int_equal(ks.n, 2);
	assert_int_equal(ks.skipped, 2);	/* a symmetric key, an enc key */
	/* signed by another key under the same kid */
	tok = sign(b, "RS256", "{\"alg\":\"RS256\",\"kid\":\"k1\"}", "{}");
	assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "does not verify with the provider's key "
	    "\"k1\""));
	free(tok);
	/* a kid the set does not name: the caller fetches the set again */
	tok = sign(a, "RS256", "{\"alg\":\"RS256\",\"kid\":\"k9\"}", "{}");
	assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_ENOTFOUND);
	assert_non_null(strstr(why, "no key \"k9\""));
	free(tok);
	/* the EC key's kid on an RS256 token */
	tok = sign(a, "RS256", "{\"alg\":\"RS256\",\"kid\":\"k2\"}", "{}");
	assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_EAUTH);
	free(tok);
	/* RSA-PSS with a key published for RS256 only */
	tok = sign(a, "PS256", "{\"alg\":\"PS256\",\"kid\":\"k1\"}", "{}");
	assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "is RS256"));
	free(tok);
	/* none and HMAC are refused whatever follows */
	assert_int_equal(verify("eyJhbGciOiJub25lIn0.e30.AAAA", &ks, why,
	    sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "none, which is refused"));
	assert_int_equal(verify("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.e30.AAAA",
	    &ks, why, sizeof(why)), PC_EAUTH);
	/* an extension we do not know ({"alg":"RS256","crit":["exp"]}) */
	assert_int_equal(verify("eyJhbGciOiJSUzI1NiIsImNyaXQiOlsiZXhwIl19.e30."
	    "AAAA", &ks, why, sizeof(why)), PC_EAUTH);
	/* not three base64url parts of JSON */
	assert_int_equal(verify("e30.e30", &ks, why, sizeof(why)), PC_EAUTH);
	assert_int_equal(verify("e30.e30.AA.AA", &ks, why, sizeof(why)),
	    PC_EAUTH);
	assert_int_equal(verify("e30=.e30.AAAA", &ks, why, sizeof(why)),
	    PC_EAUTH);
	assert_int_equal(verify("WzFd.e30.AAAA", &ks, why, sizeof(why)),
	    PC_EAUTH);	/* [1] */
	/* ES256 with a signature of the wrong length */
	assert_int_equal(verify("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsyIn0.e30.AAAA",
	    &ks, why, sizeof(why)), PC_EAUTH);
	jwt_keys_free(&ks);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(e);
}

/* -- signed by the openssl command, another program altogether -------- */

/* Runs openssl with args (NULL-terminated); fails the test if it fails. */
static void
ossl(const char *a1, ...)
{
	const char *argv[24] = {"openssl", a1};
	struct th_run r;
	va_list ap;
	int n = 2;

	va_start(ap, a1);
	while (n < 23 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	th_exec(&r, argv, NULL, NULL);
	if (r.status != 0)
		fail_msg("openssl %s: %s", a1, r.err);
	th_run_free(&r);
}

/* th_tmpdir makes a new directory each call: one for the whole test */
static char tmpdir[512];

static char *
tmp(const char *name)
{
	static char path[4][600];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
	return path[i];
}

/* The file's bytes as base64url (out: 4*ceil(len/3)+1). */
static void
file_b64(const char *path, char *out)
{
	size_t n;
	char *d = th_slurp(path, &n);

	assert_non_null(d);
	sec_b64url((const uint8_t *)d, n, out);
	free(d);
}

/* hdr.claims (JSON, base64url'd here) into the file in.txt; the text. */
static char *
signing_input(const char *hdr, const char *claims)
{
	char h[512], c[1024], *t = malloc(1600);

	sec_b64url((const uint8_t *)hdr, strlen(hdr), h);
	sec_b64url((const uint8_t *)claims, strlen(claims), c);
	snprintf(t, 1600, "%s.%s", h, c);
	th_write(tmp("in.txt"), t);
	return t;
}

/* An ECDSA signature in DER (asn1parse's reading) to JWS's r || s. */
static void
der_to_jws(const char *der, char *out)
{
	const char *argv[] = {"openssl", "asn1parse", "-inform", "DER", "-in",
	    der, NULL};
	uint8_t rs[64] = {0};
	struct th_run r;
	char *at;
	size_t len, i;

	th_exec(&r, argv, NULL, NULL);
	assert_int_equal(r.status, 0);
	at = r.out;
	for (i = 0; i < 2; i++) {
		assert_non_null(at = strstr(at, "INTEGER"));
		assert_non_null(at = strchr(at, ':'));
		len = strcspn(++at, "\r\n");
		at[len] = '\0';
		len /= 2;
		assert_true(len <= 32);
		assert_int_equal(sec_unhex(at, rs + 32 * i + 32 - len, len), 0);
		at += 2 * len + 1;
	}
	sec_b64url(rs, sizeof(rs), out);
	th_run_free(&r);
}

static void
test_signed_by_the_openssl_command(void **state)
{
	static const char claims[] = "{\"iss\":\"" ISS "\",\"sub\":\"x\"}";
	struct jwt_keys ks;
	struct th_run r;
	uint8_t raw[600];
	char set[4096], n[400], x[64], y[64], sig[400], tok[4096], why[512];
	char *in, *modulus, *pem, hex[2400];
	size_t len, i;

	(void)state;
	if (!th_have("openssl")) {
		print_message("the openssl command is missing "
		    "(packaging/deps.sh --check installs it)\n");
		skip();
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s", th_tmpdir());
	ossl("genpkey", "-algorithm", "RSA", "-pkeyopt",
	    "rsa_keygen_bits:2048", "-out", tmp("rsa.pem"), NULL);
	ossl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
	    tmp("ec.pem"), NULL);
	/* the public keys as the command prints them */
	th_cmd(&r, NULL, "openssl", "rsa", "-in", tmp("rsa.pem"), "-noout",
	    "-modulus", NULL);
	if ((modulus = strstr(r.out, "Modulus=")) == NULL)
		fail_msg("openssl rsa -modulus: %d %s %s", r.status, r.out, r.err);
	modulus += strlen("Modulus=");
	modulus[strcspn(modulus, "\r\n")] = '\0';
	len = strlen(modulus) / 2;
	assert_int_equal(sec_unhex(modulus, raw, len), 0);
	sec_b64url(raw, len, n);
	th_run_free(&r);
	ossl("ec", "-in", tmp("ec.pem"), "-pubout", "-outform", "DER", "-out",
	    tmp("ec.der"), NULL);
	pem = th_slurp(tmp("ec.der"), &len);
	assert_true(len > 65 && (uint8_t)pem[len - 65] == 4);
	sec_b64url((uint8_t *)pem + len - 64, 32, x);
	sec_b64url((uint8_t *)pem + len - 32, 32, y);
	free(pem);
	snprintf(set, sizeof(set), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\","
	    "\"n\":\"%s\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":"
	    "\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}", n, x, y);
	keys_of(&ks, set);

	/* RS256 */
	in = signing_input("{\"alg\":\"RS256\",\"kid\":\"r\"}", claims);
	ossl("dgst", "-sha256", "-sign", tmp("rsa.pem"), "-out",
	    tmp("sig.bin"), tmp("in.txt"), NULL);
	file_b64(tmp("sig.bin"), sig);
	snprintf(tok, sizeof(tok), "%s.%s", in, sig);
	if (verify(tok, &ks, why, sizeof(why)) != PC_OK)
		fail_msg("RS256 from the openssl command refused: %s", why);
	/* the same signature over other claims */
	free(in);
	in = signing_input("{\"alg\":\"RS256\",\"kid\":\"r\"}",
	    "{\"iss\":\"" ISS "\",\"sub\":\"y\"}");
	snprintf(tok, sizeof(tok), "%s.%s", in, sig);
	assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "does not verify"));
	free(in);

	/* PS256, salt as long as the hash (RFC 7518, 3.5) */
	in = signing_input("{\"alg\":\"PS256\",\"kid\":\"r\"}", claims);
	ossl("dgst", "-sha256", "-sign", tmp("rsa.pem"), "-sigopt",
	    "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-out",
	    tmp("sig.bin"), tmp("in.txt"), NULL);
	file_b64(tmp("sig.bin"), sig);
	snprintf(tok, sizeof(tok), "%s.%s", in, sig);
	if (verify(tok, &ks, why, sizeof(why)) != PC_OK)
		fail_msg("PS256 from the openssl command refused: %s", why);
	free(in);

	/* ES256 */
	in = signing_input("{\"alg\":\"ES256\",\"kid\":\"e\"}", claims);
	ossl("dgst", "-sha256", "-sign", tmp("ec.pem"), "-out",
	    tmp("sig.der"), tmp("in.txt"), NULL);
	der_to_jws(tmp("sig.der"), sig);
	snprintf(tok, sizeof(tok), "%s.%s", in, sig);
	if (verify(tok, &ks, why, sizeof(why)) != PC_OK)
		fail_msg("ES256 from the openssl command refused: %s", why);
	/* the DER itself is not a JWS signature */
	file_b64(tmp("sig.der"), sig);
	snprintf(tok, sizeof(tok), "%s.%s", in, sig);
	assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_EAUTH);
	free(in);

	/*
	 * HS256 keyed with the provider's public key (PEM), the classic
	 * confusion of a verifier that lets the token choose: refused.
	 */
	ossl("pkey", "-in", tmp("rsa.pem"), "-pubout", "-out", tmp("pub.pem"),
	    NULL);
	pem = th_slurp(tmp("pub.pem"), &len);
	assert_true(len < sizeof(hex) / 2 - 8);
	memcpy(hex, "hexkey:", 7);
	sec_hex((uint8_t *)pem, len, hex + 7);
	free(pem);
	for (i = 0; i < 2; i++) {
		in = signing_input(i ? "{\"alg\":\"HS256\"}" :
		    "{\"alg\":\"HS256\",\"kid\":\"r\"}", claims);
		ossl("dgst", "-sha256", "-mac", "HMAC", "-macopt", hex, "-out",
		    tmp("sig.bin"), "-binary", tmp("in.txt"), NULL);
		file_b64(tmp("sig.bin"), sig);
		snprintf(tok, sizeof(tok), "%s.%s", in, sig);
		assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_EAUTH);
		assert_non_null(strstr(why, "HS256"));
		free(in);
	}
	/* "none", with the empty signature it is written with: unsigned */
	in = signing_input("{\"alg\":\"none\"}", claims);
	snprintf(tok, sizeof(tok), "%s.", in);
	assert_int_equal(verify(tok, &ks, why, sizeof(why)), PC_EAUTH);
	if (strstr(why, "not a signed JWT") == NULL)
		fail_msg("none: %s", why);
	free(in);
	jwt_keys_free(&ks);
}

static void
bad_set(const char *set, const char *says)
{
	struct jwt_keys ks;
	struct err_list errs;

	err_init(&errs);
	assert_int_not_equal(jwt_keys_parse(&ks, set, strlen(set), &errs),
	    PC_OK);
	assert_true(errs.n > 0);
	if (strstr(errs.v[0].msg, says) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", set, errs.v[0].msg, says);
	assert_int_equal(ks.n, 0);
	err_free(&errs);
}

static void
test_key_sets_refused(void **state)
{
	EVP_PKEY *small = rsa_pem(RSA_1024);
	char j[1024], set[1200];

	(void)state;
	jwk(small, "s", "", j, sizeof(j));
	snprintf(set, sizeof(set), "{\"keys\":[%s]}", j);
	bad_set(set, "has 1024 bits");
	/* A.3's x with its y changed: no point of P-256 */
	bad_set("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
	    "\",\"y\":\"y_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}",
	    "not a point");
	bad_set("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AA\","
	    "\"y\":\"AA\"}]}", "P-192");
	bad_set("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}", "no RSA or EC");
	bad_set("{\"keys\":{}}", "keys array");
	bad_set("not json", "keys array");
	/* a good set with more after it is not JSON either */
	bad_set("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" A3_X
	    "\",\"y\":\"" A3_Y "\"}]} and more", "keys array");
	EVP_PKEY_free(small);
}

/* The claims of a token signed by nobody: jwt_check reads claims only. */
static pc_rc
check(const char *claims, int64_t now, char *why, size_t len)
{
	struct jwt_expect want = {ISS, AUD, NONCE, now, 60};
	struct err_list errs;
	struct jwt t;
	char sub[JWT_SUB_MAX], *tok = malloc(8192), c[4096];
	pc_rc rc;

	sec_b64url((const uint8_t *)claims, strlen(claims), c);
	snprintf(tok, 8192, "eyJhbGciOiJSUzI1NiJ9.%s.AAAA", c);
	err_init(&errs);
	assert_int_equal(jwt_parse(&t, tok, &errs), PC_OK);
	rc = jwt_check(&t, &want, sub, &errs);
	if (rc == PC_OK)
		assert_string_equal(sub, "5f3e-a1");
	snprintf(why, len, "%s", errs.n ? errs.v[0].msg : "");
	jwt_free(&t);
	err_free(&errs);
	free(tok);
	return rc;
}

static void
claims_of(char *out, size_t len, const char *iss, const char *aud,
    long long iat, long long exp, const char *nonce, const char *extra)
{
	snprintf(out, len, "{\"iss\":\"%s\",\"sub\":\"5f3e-a1\",\"aud\":%s,"
	    "\"iat\":%lld,\"exp\":%lld,\"nonce\":\"%s\"%s}", iss, aud, iat, exp,
	    nonce, extra);
}

static void
test_claims(void **state)
{
	const long long now = 1796125483;	/* a fixed clock */
	char c[1024], why[512];

	(void)state;
	claims_of(c, sizeof(c), ISS, "\"" AUD "\"", now, now + 300, NONCE, "");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_OK);
	/* expired, by more than the leeway (60 s) and by less */
	claims_of(c, sizeof(c), ISS, "\"" AUD "\"", now - 400, now - 61, NONCE,
	    "");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "expired 61 seconds ago"));
	claims_of(c, sizeof(c), ISS, "\"" AUD "\"", now - 400, now - 59, NONCE,
	    "");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_OK);
	/* issued in the future */
	claims_of(c, sizeof(c), ISS, "\"" AUD "\"", now + 61, now + 600, NONCE,
	    "");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "in the future"));
	claims_of(c, sizeof(c), ISS, "\"" AUD "\"", now, now + 600, NONCE,
	    ",\"nbf\":1796129000");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	/* another issuer, another audience */
	claims_of(c, sizeof(c), "https://idp.example.com", "\"" AUD "\"", now,
	    now + 300, NONCE, "");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "issued by https://idp.example.com"));
	claims_of(c, sizeof(c), ISS, "\"someone-else\"", now, now + 300, NONCE,
	    "");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "not issued to this server"));
	/* several audiences: only with azp naming us */
	claims_of(c, sizeof(c), ISS, "[\"" AUD "\",\"api\"]", now, now + 300,
	    NONCE, "");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	claims_of(c, sizeof(c), ISS, "[\"" AUD "\",\"api\"]", now, now + 300,
	    NONCE, ",\"azp\":\"" AUD "\"");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_OK);
	claims_of(c, sizeof(c), ISS, "[\"" AUD "\"]", now, now + 300, NONCE,
	    ",\"azp\":\"api\"");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	/* another sign-in's nonce */
	claims_of(c, sizeof(c), ISS, "\"" AUD "\"", now, now + 300, "n-other",
	    "");
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	assert_non_null(strstr(why, "nonce"));
	/* exp missing, exp not a number */
	snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"5f3e-a1\","
	    "\"aud\":\"" AUD "\",\"iat\":%lld,\"nonce\":\"" NONCE "\"}", now);
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"5f3e-a1\","
	    "\"aud\":\"" AUD "\",\"iat\":%lld,\"exp\":\"soon\",\"nonce\":\""
	    NONCE "\"}", now);
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	/* a subject with a space in it */
	snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"a b\","
	    "\"aud\":\"" AUD "\",\"iat\":%lld,\"exp\":%lld,\"nonce\":\"" NONCE
	    "\"}", now, now + 300);
	assert_int_equal(check(c, now, why, sizeof(why)), PC_EAUTH);
	assert_int_equal(jwt_sub_valid("a b"), 0);
	assert_int_equal(jwt_sub_valid(""), 0);
	assert_int_equal(jwt_sub_valid("7iCkdSR43inUnjFXi1b2HO6SL2MPkQmt"), 1);
}

static void
test_base64url(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(sec_unb64url("AQAB", 4, out, sizeof(out)), 3);
	assert_memory_equal(out, "\x01\x00\x01", 3);
	assert_int_equal(sec_unb64url("_-8", 3, out, sizeof(out)), 2);
	assert_memory_equal(out, "\xff\xef", 2);
	assert_int_equal(sec_unb64url("AQA=", 4, out, sizeof(out)), -1);
	assert_int_equal(sec_unb64url("A", 1, out, sizeof(out)), -1);
	assert_int_equal(sec_unb64url("AAAAAAAAAAAA", 12, out, sizeof(out)),
	    -1);	/* 9 bytes do not fit in 8 */
	assert_int_equal(sec_unb64url("", 0, out, sizeof(out)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_rfc7515_examples),
		cmocka_unit_test(test_algorithms_signed_here),
		cmocka_unit_test(test_keys_that_do_not_fit),
		cmocka_unit_test(test_signed_by_the_openssl_command),
		cmocka_unit_test(test_key_sets_refused),
		cmocka_unit_test(test_claims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

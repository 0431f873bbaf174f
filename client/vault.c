/*
 * vault.c - store keys: locked memory, AES-256-GCM sealing, scrypt and
 * recovery-key wraps, all through OpenSSL 3's EVP interfaces.
 */
#include <sys/mman.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "sec.h"
#include "vault.h"

/*
 * N = 2^16, r = 8: 64 MiB and about a quarter of a second of CPU time
 * on one core of the machines pcmds is measured on (docs/benchmarks.md;
 * a loaded machine stretches the wall time, not a thief's cost).
 */
const struct vault_kdf vault_kdf_default = {1 << 16, 8, 1};
const struct vault_kdf vault_kdf_test = {1 << 10, 8, 1};

/* What a stored wrap may ask for: enough to refuse a denial of service. */
#define KDF_N_MAX	(1 << 20)
#define KDF_N_MIN	(1 << 10)
#define KDF_MEM_MAX	((uint64_t)1 << 30)

#define FORMAT		1
#define WRAP_TAG	"pcmds-wrap/1"

#ifdef PCMDS_BENCH_PLAIN
/*
 * The benchmark's comparison build (build/bench/pcmds-plain, never
 * installed): values are stored as they are, format 0, to measure what
 * encryption costs. A normal build refuses format 0.
 */
#undef FORMAT
#define FORMAT		0
#endif

/* -- locked memory ---------------------------------------------------------- */

static size_t
page_round(size_t n)
{
	size_t pg = 4096;

	return (n + pg - 1) / pg * pg;
}

void *
vault_locked_alloc(size_t n)
{
	void *p;

	if (n == 0)
		return NULL;
	p = mmap(NULL, page_round(n), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* best effort: RLIMIT_MEMLOCK may be too small, and that is allowed */
	(void)mlock(p, page_round(n));
	(void)madvise(p, page_round(n), MADV_DONTDUMP);
	return p;
}

void
vault_locked_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	sec_wipe(p, page_round(n));
	(void)munlock(p, page_round(n));
	munmap(p, page_round(n));
}

struct vault_keys *
vault_keys_new(void)
{
	return vault_locked_alloc(sizeof(struct vault_keys));
}

void
vault_keys_free(struct vault_keys *k)
{
	vault_locked_free(k, sizeof(*k));
}

pc_rc
vault_keys_generate(struct vault_keys *k)
{
	if (sec_random(k->data, sizeof(k->data)) != PC_OK ||
	    sec_random(k->wrap, sizeof(k->wrap)) != PC_OK)
		return PC_EIO;
	k->has_wrap = 1;
	return PC_OK;
}

void
vault_buf_wipe(struct buf *b)
{
	if (b->p != NULL)
		sec_wipe(b->p, b->cap);
	buf_free(b);
}

/* -- sealing ------------------------------------------------------------------ */

struct vault_box {
	EVP_CIPHER_CTX	*enc;
	EVP_CIPHER_CTX	*dec;
};

pc_rc
vault_box_new(const uint8_t key[VAULT_KEY_LEN], struct vault_box **out)
{
	struct vault_box *b;
	EVP_CIPHER *gcm;
	int ok;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return PC_ENOMEM;
	/* fetched once per box: an implicit fetch per value costs more */
	gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	b->enc = EVP_CIPHER_CTX_new();
	b->dec = EVP_CIPHER_CTX_new();
	ok = gcm != NULL && b->enc != NULL && b->dec != NULL &&
	    EVP_EncryptInit_ex2(b->enc, gcm, key, NULL, NULL) == 1 &&
	    EVP_DecryptInit_ex2(b->dec, gcm, key, NULL, NULL) == 1;
	EVP_CIPHER_free(gcm);
	if (!ok) {
		vault_box_free(b);
		return PC_EIO;
	}
	*out = b;
	return PC_OK;
}

void
vault_box_free(struct vault_box *b)
{
	if (b == NULL)
		return;
	EVP_CIPHER_CTX_free(b->enc);	/* cleanses the key schedule */
	EVP_CIPHER_CTX_free(b->dec);
	free(b);
}

pc_rc
vault_seal(struct vault_box *b, const void *aad, size_t aadlen,
    const void *pt, size_t len, struct buf *out)
{
	uint8_t *p;
	int n, m;
	pc_rc rc;

	if (len > (size_t)1 << 30 || aadlen > (size_t)1 << 20)
		return PC_ELIMIT;
	if ((rc = buf_reserve(out, len + VAULT_OVERHEAD)) != PC_OK)
		return rc;
	p = (uint8_t *)out->p + out->len;
	p[0] = FORMAT;
#ifdef PCMDS_BENCH_PLAIN
	(void)b;
	(void)aad;
	memcpy(p + 1, pt, len);
	out->len += 1 + len;
	out->p[out->len] = '\0';
	return PC_OK;
#endif
	if (sec_random(p + 1, VAULT_NONCE_LEN) != PC_OK)
		return PC_EIO;
	if (EVP_EncryptInit_ex2(b->enc, NULL, NULL, p + 1, NULL) != 1 ||
	    (aadlen > 0 && EVP_EncryptUpdate(b->enc, NULL, &n, aad,
	    (int)aadlen) != 1) ||
	    EVP_EncryptUpdate(b->enc, p + 1 + VAULT_NONCE_LEN, &n, pt,
	    (int)len) != 1 ||
	    EVP_EncryptFinal_ex(b->enc, p + 1 + VAULT_NONCE_LEN + n, &m) != 1 ||
	    (size_t)(n + m) != len ||
	    EVP_CIPHER_CTX_ctrl(b->enc, EVP_CTRL_GCM_GET_TAG, VAULT_TAG_LEN,
	    p + 1 + VAULT_NONCE_LEN + len) != 1)
		return PC_EIO;
	out->len += len + VAULT_OVERHEAD;
	out->p[out->len] = '\0';
	return PC_OK;
}

pc_rc
vault_open(struct vault_box *b, const void *aad, size_t aadlen,
    const void *sealed, size_t len, struct buf *out)
{
	const uint8_t *s = sealed;
	size_t ctlen;
	uint8_t *p;
	int n, m;
	pc_rc rc;

#ifdef PCMDS_BENCH_PLAIN
	(void)b;
	(void)aad;
	(void)aadlen;
	if (len < 1 || s[0] != FORMAT)
		return PC_EAUTH;
	return buf_add(out, s + 1, len - 1);
#endif
	if (len < VAULT_OVERHEAD || s[0] != FORMAT || aadlen > (size_t)1 << 20)
		return PC_EAUTH;
	ctlen = len - VAULT_OVERHEAD;
	if ((rc = buf_reserve(out, ctlen)) != PC_OK)
		return rc;
	p = (uint8_t *)out->p + out->len;
	if (EVP_DecryptInit_ex2(b->dec, NULL, NULL, s + 1, NULL) != 1 ||
	    (aadlen > 0 && EVP_DecryptUpdate(b->dec, NULL, &n, aad,
	    (int)aadlen) != 1) ||
	    EVP_DecryptUpdate(b->dec, p, &n, s + 1 + VAULT_NONCE_LEN,
	    (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(b->dec, EVP_CTRL_GCM_SET_TAG, VAULT_TAG_LEN,
	    (void *)(s + 1 + VAULT_NONCE_LEN + ctlen)) != 1 ||
	    EVP_DecryptFinal_ex(b->dec, p + n, &m) != 1) {
		sec_wipe(p, ctlen);
		out->p[out->len] = '\0';
		return PC_EAUTH;
	}
	out->len += ctlen;
	out->p[out->len] = '\0';
	return PC_OK;
}

pc_rc
vault_seal_hex(struct vault_box *b, const void *aad, size_t aadlen,
    const void *pt, size_t len, struct buf *hex)
{
	struct buf raw;
	pc_rc rc;

	buf_init(&raw, 0);
	if ((rc = vault_seal(b, aad, aadlen, pt, len, &raw)) == PC_OK &&
	    (rc = buf_reserve(hex, 2 * raw.len + 1)) == PC_OK) {
		sec_hex((const uint8_t *)raw.p, raw.len, hex->p + hex->len);
		hex->len += 2 * raw.len;
	}
	buf_free(&raw);
	return rc;
}

pc_rc
vault_open_hex(struct vault_box *b, const void *aad, size_t aadlen,
    const char *hex, struct buf *out)
{
	size_t n = strlen(hex) / 2;
	uint8_t *raw;
	pc_rc rc;

	if (n == 0 || strlen(hex) % 2 != 0 || (raw = malloc(n)) == NULL)
		return n == 0 || strlen(hex) % 2 ? PC_EAUTH : PC_ENOMEM;
	if (sec_unhex(hex, raw, n) != 0)
		rc = PC_EAUTH;
	else
		rc = vault_open(b, aad, aadlen, raw, n, out);
	free(raw);
	return rc;
}

/* -- key derivation ------------------------------------------------------------ */

/* A 256-bit key from OpenSSL's KDF name with params. */
static pc_rc
derive(const char *name, const OSSL_PARAM *params, uint8_t out[VAULT_KEY_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int ok;

	ok = kc != NULL && EVP_KDF_derive(kc, out, VAULT_KEY_LEN, params) == 1;
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	return ok ? PC_OK : PC_EIO;
}

static pc_rc
kdf_scrypt(const char *pass, size_t len, const uint8_t salt[VAULT_SALT_LEN],
    const struct vault_kdf *k, uint8_t out[VAULT_KEY_LEN])
{
	return sec_scrypt(pass, len, salt, VAULT_SALT_LEN, k->n, k->r, k->p,
	    KDF_MEM_MAX + ((uint64_t)1 << 24), out, VAULT_KEY_LEN);
}

/* The recovery key has 160 random bits: HKDF, not a slow KDF, suffices. */
static pc_rc
kdf_hkdf(const uint8_t *ikm, size_t len, const uint8_t salt[VAULT_SALT_LEN],
    uint8_t out[VAULT_KEY_LEN])
{
	static const char info[] = "pcmds recovery key";
	OSSL_PARAM params[5];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)salt, VAULT_SALT_LEN);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, sizeof(info) - 1);
	params[4] = OSSL_PARAM_construct_end();
	return derive("HKDF", params, out);
}

/* -- wraps ---------------------------------------------------------------------- */

/* Associated data of a wrap: its text up to the salt, then the store id. */
static size_t
wrap_aad(uint8_t *out, size_t cap, const char *head, size_t headlen,
    const uint8_t sid[VAULT_ID_LEN])
{
	if (headlen + VAULT_ID_LEN > cap)
		return 0;
	memcpy(out, head, headlen);
	memcpy(out + headlen, sid, VAULT_ID_LEN);
	return headlen + VAULT_ID_LEN;
}

/* Seals what a wrap holds under kek; appends "SALT SEALED" to out. */
static pc_rc
wrap_seal(const uint8_t kek[VAULT_KEY_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t salt[VAULT_SALT_LEN], const uint8_t *secret, size_t len,
    struct buf *out)
{
	struct vault_box *b;
	char hex[2 * VAULT_SALT_LEN + 1];
	pc_rc rc;

	if ((rc = vault_box_new(kek, &b)) != PC_OK)
		return rc;
	sec_hex(salt, VAULT_SALT_LEN, hex);
	if ((rc = buf_addf(out, "%s ", hex)) == PC_OK)
		rc = vault_seal_hex(b, aad, aadlen, secret, len, out);
	vault_box_free(b);
	return rc;
}

static pc_rc
wrap_open(const uint8_t kek[VAULT_KEY_LEN], const uint8_t *aad, size_t aadlen,
    const char *sealed, uint8_t *secret, size_t len)
{
	struct vault_box *b;
	struct buf pt;
	pc_rc rc;

	if ((rc = vault_box_new(kek, &b)) != PC_OK)
		return rc;
	buf_init(&pt, 0);
	rc = vault_open_hex(b, aad, aadlen, sealed, &pt);
	if (rc == PC_OK && pt.len != len)
		rc = PC_EINVAL;
	if (rc == PC_OK)
		memcpy(secret, pt.p, len);
	vault_buf_wipe(&pt);
	vault_box_free(b);
	return rc;
}

pc_rc
vault_wrap_pass(const struct vault_keys *k, const char *pass, size_t len,
    const struct vault_kdf *kdf, const uint8_t sid[VAULT_ID_LEN],
    struct buf *out, struct err_list *errs)
{
	uint8_t salt[VAULT_SALT_LEN], aad[128];
	uint8_t *kek = vault_locked_alloc(VAULT_KEY_LEN + 2 * VAULT_KEY_LEN);
	size_t aadlen;
	pc_rc rc;

	buf_reset(out);
	if (kek == NULL)
		return PC_ENOMEM;
	memcpy(kek + VAULT_KEY_LEN, k->data, VAULT_KEY_LEN);
	memcpy(kek + 2 * VAULT_KEY_LEN, k->wrap, VAULT_KEY_LEN);
	if ((rc = sec_random(salt, sizeof(salt))) == PC_OK &&
	    (rc = buf_addf(out, WRAP_TAG " scrypt %" PRIu64 " %" PRIu32 " %"
	    PRIu32, kdf->n, kdf->r, kdf->p)) == PC_OK &&
	    (rc = kdf_scrypt(pass, len, salt, kdf, kek)) == PC_OK) {
		aadlen = wrap_aad(aad, sizeof(aad), out->p, out->len, sid);
		if ((rc = buf_addc(out, ' ')) == PC_OK)
			rc = wrap_seal(kek, aad, aadlen, salt,
			    kek + VAULT_KEY_LEN, 2 * VAULT_KEY_LEN, out);
	}
	vault_locked_free(kek, 3 * VAULT_KEY_LEN);
	if (rc != PC_OK)
		err_add(errs, E_SYSTEM, "", "cannot wrap the store's keys "
		    "(%s)", pc_strerror(rc));
	return rc;
}

static pc_rc
damaged(struct err_list *errs)
{
	err_add(errs, E_FORMAT, "", "the store's key wrap is damaged; use the "
	    "recovery key (pcmds recover)");
	return PC_EINVAL;
}

pc_rc
vault_unwrap_pass(const char *wrap, const char *pass, size_t len,
    const uint8_t sid[VAULT_ID_LEN], struct vault_keys *k,
    struct vault_kdf *kdfout, struct err_list *errs)
{
	char salthex[2 * VAULT_SALT_LEN + 1], sealed[512];
	uint8_t salt[VAULT_SALT_LEN], aad[128];
	uint8_t *kek = vault_locked_alloc(3 * VAULT_KEY_LEN);
	struct vault_kdf kdf;
	const char *p;
	size_t aadlen;
	pc_rc rc;
	int used = 0;

	if (kek == NULL)
		return PC_ENOMEM;
	if (sscanf(wrap, WRAP_TAG " scrypt %" SCNu64 " %" SCNu32 " %" SCNu32
	    " %n", &kdf.n, &kdf.r, &kdf.p, &used) != 3 || used == 0 ||
	    sscanf(wrap + used, "%32s %511s", salthex, sealed) != 2 ||
	    sec_unhex(salthex, salt, sizeof(salt)) != 0 ||
	    kdf.n < KDF_N_MIN || kdf.n > KDF_N_MAX || (kdf.n & (kdf.n - 1)) ||
	    kdf.r < 1 || kdf.r > 32 || kdf.p < 1 || kdf.p > 16 ||
	    128 * kdf.n * kdf.r > KDF_MEM_MAX) {
		vault_locked_free(kek, 3 * VAULT_KEY_LEN);
		return damaged(errs);
	}
	/* the head, as written: the tag and the cost, before the salt */
	p = wrap + used;
	while (p > wrap && p[-1] == ' ')
		p--;
	aadlen = wrap_aad(aad, sizeof(aad), wrap, (size_t)(p - wrap), sid);
	if ((rc = kdf_scrypt(pass, len, salt, &kdf, kek)) == PC_OK)
		rc = wrap_open(kek, aad, aadlen, sealed, kek + VAULT_KEY_LEN,
		    2 * VAULT_KEY_LEN);
	if (rc == PC_OK) {
		memcpy(k->data, kek + VAULT_KEY_LEN, VAULT_KEY_LEN);
		memcpy(k->wrap, kek + 2 * VAULT_KEY_LEN, VAULT_KEY_LEN);
		k->has_wrap = 1;
		if (kdfout != NULL)
			*kdfout = kdf;
	} else if (rc == PC_EAUTH)
		err_add(errs, E_REQUIRED, "", "wrong passphrase: "
		    "the store was not unlocked, and nothing was changed");
	else if (rc == PC_EINVAL)
		(void)damaged(errs);
	else
		err_add(errs, E_SYSTEM, "", "cannot derive the key from the "
		    "passphrase (%s)", pc_strerror(rc));
	vault_locked_free(kek, 3 * VAULT_KEY_LEN);
	return rc;
}

/* -- recovery keys ----------------------------------------------------------------- */

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int
b32_value(int c)
{
	const char *p;

	c = toupper(c);
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	if (c == '\0' || (p = strchr(b32, c)) == NULL)
		return -1;
	return (int)(p - b32);
}

static void
recovery_text(const uint8_t raw[VAULT_RECOVERY_LEN],
    char text[VAULT_RECOVERY_TEXT])
{
	size_t bit, o = 0;

	for (bit = 0; bit < VAULT_RECOVERY_LEN * 8; bit += 5) {
		size_t i = bit / 8, sh = bit % 8;
		unsigned v = (unsigned)raw[i] << 8 |
		    (i + 1 < VAULT_RECOVERY_LEN ? raw[i + 1] : 0);

		if (bit > 0 && bit % 20 == 0)
			text[o++] = '-';
		text[o++] = b32[(v >> (11 - sh)) & 31];
	}
	text[o] = '\0';
}

/* Decodes a typed recovery key; -1 when it has the wrong digits. */
static int
recovery_parse(const char *text, uint8_t raw[VAULT_RECOVERY_LEN])
{
	size_t bit = 0;
	int v;

	memset(raw, 0, VAULT_RECOVERY_LEN);
	for (; *text != '\0'; text++) {
		if (*text == '-' || isspace((unsigned char)*text))
			continue;
		if ((v = b32_value((unsigned char)*text)) < 0 ||
		    bit >= VAULT_RECOVERY_LEN * 8)
			return -1;
		raw[bit / 8] |= (uint8_t)((unsigned)v << 3 >> (bit % 8));
		if (bit % 8 > 3)
			raw[bit / 8 + 1] |= (uint8_t)((unsigned)v <<
			    (11 - bit % 8));
		bit += 5;
	}
	return bit == VAULT_RECOVERY_LEN * 8 ? 0 : -1;
}

#define RECOVERY_HEAD	WRAP_TAG " hkdf"

pc_rc
vault_wrap_recovery(const struct vault_keys *k, const uint8_t sid[VAULT_ID_LEN],
    char text[VAULT_RECOVERY_TEXT], struct buf *out, struct err_list *errs)
{
	uint8_t salt[VAULT_SALT_LEN], aad[64];
	uint8_t *m = vault_locked_alloc(VAULT_RECOVERY_LEN + VAULT_KEY_LEN);
	size_t aadlen;
	pc_rc rc;

	buf_reset(out);
	if (m == NULL)
		return PC_ENOMEM;
	aadlen = wrap_aad(aad, sizeof(aad), RECOVERY_HEAD,
	    strlen(RECOVERY_HEAD), sid);
	if ((rc = sec_random(m, VAULT_RECOVERY_LEN)) == PC_OK &&
	    (rc = sec_random(salt, sizeof(salt))) == PC_OK &&
	    (rc = kdf_hkdf(m, VAULT_RECOVERY_LEN, salt, m +
	    VAULT_RECOVERY_LEN)) == PC_OK &&
	    (rc = buf_adds(out, RECOVERY_HEAD " ")) == PC_OK)
		rc = wrap_seal(m + VAULT_RECOVERY_LEN, aad, aadlen, salt,
		    k->data, VAULT_KEY_LEN, out);
	if (rc == PC_OK)
		recovery_text(m, text);
	vault_locked_free(m, VAULT_RECOVERY_LEN + VAULT_KEY_LEN);
	if (rc != PC_OK)
		err_add(errs, E_SYSTEM, "", "cannot make a recovery key (%s)",
		    pc_strerror(rc));
	return rc;
}

pc_rc
vault_unwrap_recovery(const char *wrap, const char *text,
    const uint8_t sid[VAULT_ID_LEN], struct vault_keys *k,
    struct err_list *errs)
{
	char salthex[2 * VAULT_SALT_LEN + 1], sealed[512];
	uint8_t salt[VAULT_SALT_LEN], aad[64];
	uint8_t *m = vault_locked_alloc(VAULT_RECOVERY_LEN + 2 * VAULT_KEY_LEN);
	size_t aadlen;
	pc_rc rc;

	if (m == NULL)
		return PC_ENOMEM;
	if (strncmp(wrap, RECOVERY_HEAD " ", strlen(RECOVERY_HEAD) + 1) != 0 ||
	    sscanf(wrap + strlen(RECOVERY_HEAD), " %32s %511s", salthex,
	    sealed) != 2 || sec_unhex(salthex, salt, sizeof(salt)) != 0) {
		vault_locked_free(m, VAULT_RECOVERY_LEN + 2 * VAULT_KEY_LEN);
		return damaged(errs);
	}
	if (recovery_parse(text, m) != 0) {
		err_add(errs, E_FORMAT, "recovery-key", "a recovery key is 32 "
		    "letters and digits in groups of 4, as printed at setup");
		vault_locked_free(m, VAULT_RECOVERY_LEN + 2 * VAULT_KEY_LEN);
		return PC_EAUTH;
	}
	aadlen = wrap_aad(aad, sizeof(aad), RECOVERY_HEAD,
	    strlen(RECOVERY_HEAD), sid);
	if ((rc = kdf_hkdf(m, VAULT_RECOVERY_LEN, salt, m +
	    VAULT_RECOVERY_LEN)) == PC_OK)
		rc = wrap_open(m + VAULT_RECOVERY_LEN, aad, aadlen, sealed,
		    m + VAULT_RECOVERY_LEN + VAULT_KEY_LEN, VAULT_KEY_LEN);
	if (rc == PC_OK) {
		memcpy(k->data, m + VAULT_RECOVERY_LEN + VAULT_KEY_LEN,
		    VAULT_KEY_LEN);
		sec_wipe(k->wrap, sizeof(k->wrap));
		k->has_wrap = 0;
	} else if (rc == PC_EAUTH)
		err_add(errs, E_REQUIRED, "recovery-key", "this is not the "
		    "recovery key of this store; nothing was changed");
	else
		(void)damaged(errs);
	vault_locked_free(m, VAULT_RECOVERY_LEN + 2 * VAULT_KEY_LEN);
	return rc;
}

size_t
vault_pass_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

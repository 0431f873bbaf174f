/*
 * sec.h - the few cryptographic primitives pcmds uses, all from OpenSSL.
 */
#ifndef PCMDS_SEC_H
#define PCMDS_SEC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SEC_SHA256_LEN	32
#define SEC_HEX64_LEN	65	/* 64 hex digits + NUL */

pc_rc	 sec_random(void *, size_t);
void	 sec_sha256(const void *, size_t, uint8_t out[SEC_SHA256_LEN]);
void	 sec_sha256_hex(const void *, size_t, char out[SEC_HEX64_LEN]);
/* SHA-256 of data given in pieces; end frees what begin made. */
struct sec_sha256 {
	void	*ctx;
};
pc_rc	 sec_sha256_begin(struct sec_sha256 *);
void	 sec_sha256_add(struct sec_sha256 *, const void *, size_t);
pc_rc	 sec_sha256_end(struct sec_sha256 *, uint8_t out[SEC_SHA256_LEN]);
pc_rc	 sec_hmac_sha256(const void *key, size_t keylen, const void *msg,
	    size_t msglen, uint8_t out[SEC_SHA256_LEN]);
/*
 * HMAC-SHA256 under one key, many times over: the key's pads are hashed
 * once, so the MAC of a short message costs two SHA-256 blocks (a tenth
 * of sec_hmac_sha256's time, which sets up the key on every call). A
 * context is one caller's at a time. sec_hmac_new() returns NULL without
 * memory; the context holds no copy of the key itself, and
 * sec_hmac_free() frees it (NULL is fine).
 */
struct sec_hmac;
struct sec_hmac	*sec_hmac_new(const void *key, size_t keylen);
pc_rc	 sec_hmac(struct sec_hmac *, const void *msg, size_t msglen,
	    uint8_t out[SEC_SHA256_LEN]);
void	 sec_hmac_free(struct sec_hmac *);
void	 sec_hex(const uint8_t *, size_t, char *out);	/* out: 2n+1 */
/* Decodes exactly 2*n lowercase or uppercase hex digits; 0 or -1. */
int	 sec_unhex(const char *, uint8_t *out, size_t n);
/* Unpadded base64url of n bytes; out needs 4*ceil(n/3)+1 bytes. */
void	 sec_b64url(const uint8_t *, size_t, char *out);
/*
 * Decodes len characters of unpadded base64url into out (at most max
 * bytes): the number of bytes, or -1 when the text is not base64url
 * (another character, padding, an impossible length) or does not fit.
 */
long	 sec_unb64url(const char *, size_t len, uint8_t *out, size_t max);
/*
 * scrypt (RFC 7914) of a passphrase into outlen bytes, with cost n, r,
 * p; maxmem bounds the memory it may take (128*n*r and a margin), so
 * that a cost read from a file cannot exhaust the machine. PC_EIO when
 * OpenSSL refuses.
 */
pc_rc	 sec_scrypt(const void *pass, size_t passlen, const uint8_t *salt,
	    size_t saltlen, uint64_t n, uint32_t r, uint32_t p, uint64_t maxmem,
	    uint8_t *out, size_t outlen);
/* Constant-time comparison of equal-length buffers: 1 when equal. */
int	 sec_equal(const void *, const void *, size_t);
/* Overwrites memory the compiler may not optimise the write away. */
void	 sec_wipe(void *, size_t);

#endif

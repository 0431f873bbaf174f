/*
 * vault.h - the keys that encrypt the client's store, and their wraps.
 *
 * A store has two random 256-bit keys of its own:
 *
 *   data key  seals record content, the server's reasons and the bearer
 *             token (AES-256-GCM, through a vault_box)
 *   wrap key  seals the deployment key, and nothing else
 *
 * Both are wrapped (sealed) under a key derived from the link worker's
 * passphrase with scrypt; the data key alone is wrapped again under a
 * key derived from the recovery key, printed once for the worker's
 * manager. So a forgotten passphrase loses no record, and the recovery
 * key never yields the deployment key (the key that reverses every
 * pseudonym of the deployment).
 *
 * Every sealed value is: 1 byte format (1), 12 bytes random nonce, the
 * ciphertext, 16 bytes GCM tag. Associated data binds a value to where
 * it lives (table, column, row), so values cannot be swapped between
 * rows. Wraps are text, stored in the store's meta table:
 *
 *   pcmds-wrap/1 scrypt N R P SALT SEALED      (the passphrase's)
 *   pcmds-wrap/1 hkdf SALT SEALED              (the recovery key's)
 *
 * with the scrypt parameters kept beside each wrap, so a store opens with
 * the cost it was made with.
 *
 * Ownership: key material lives only in locked memory from
 * vault_locked_alloc (mlock'd where the limit allows, left out of core
 * dumps); whoever allocates it frees it with vault_locked_free or
 * vault_keys_free, which wipe it first. A vault_box holds its own copy of
 * its key inside OpenSSL's cipher contexts, cleansed by vault_box_free.
 * Plaintext that vault_open writes into a caller's buf is the caller's to
 * wipe (vault_buf_wipe) and free.
 */
#ifndef PCMDS_VAULT_H
#define PCMDS_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define VAULT_KEY_LEN		32
#define VAULT_ID_LEN		16	/* a store's random id */
#define VAULT_SALT_LEN		16
#define VAULT_NONCE_LEN		12
#define VAULT_TAG_LEN		16
#define VAULT_OVERHEAD		(1 + VAULT_NONCE_LEN + VAULT_TAG_LEN)
#define VAULT_RECOVERY_LEN	20	/* 160 random bits */
/* 32 Crockford base32 digits in 8 groups of 4, dashes between, NUL */
#define VAULT_RECOVERY_TEXT	40
#define VAULT_PASS_MIN		8	/* characters in a new passphrase */
#define VAULT_PASS_MAX		1024	/* bytes */

/* scrypt's cost: N (a power of 2), r and p. */
struct vault_kdf {
	uint64_t	 n;
	uint32_t	 r;
	uint32_t	 p;
};

/*
 * The cost every new store gets: about a quarter of a second and 64 MiB
 * on a current laptop core (measured in docs/benchmarks.md).
 */
extern const struct vault_kdf vault_kdf_default;
/*
 * Test-only cost (a millisecond), for test suites run under valgrind and
 * the sanitizers. pcmds uses it only when the store is created with
 * setup --insecure-test-kdf; it is then stored with the wrap like any
 * other cost, and a store says so when it is unlocked.
 */
extern const struct vault_kdf vault_kdf_test;

/* An unlocked store's keys, in locked memory. */
struct vault_keys {
	uint8_t	 data[VAULT_KEY_LEN];
	uint8_t	 wrap[VAULT_KEY_LEN];
	int	 has_wrap;	/* 0 when unwrapped by the recovery key */
};

/* Locked, zeroed memory (mlock where allowed, MADV_DONTDUMP); NULL. */
void	*vault_locked_alloc(size_t);
/* Wipes and releases memory from vault_locked_alloc(n); NULL is fine. */
void	 vault_locked_free(void *, size_t n);
struct vault_keys *vault_keys_new(void);
void	 vault_keys_free(struct vault_keys *);
/* Fresh random keys (both), for a new store. */
pc_rc	 vault_keys_generate(struct vault_keys *);

/* Wipes a buffer's whole allocation and frees it. */
void	 vault_buf_wipe(struct buf *);

/* -- sealing values ------------------------------------------------------ */

struct vault_box;

/* A box for one key: cipher contexts set up once, for many values. */
pc_rc	 vault_box_new(const uint8_t key[VAULT_KEY_LEN], struct vault_box **);
void	 vault_box_free(struct vault_box *);
/* Appends the sealed form of pt (len + VAULT_OVERHEAD bytes) to out. */
pc_rc	 vault_seal(struct vault_box *, const void *aad, size_t aadlen,
	    const void *pt, size_t len, struct buf *out);
/*
 * Appends the plaintext of a sealed value to out (NUL-terminated, like
 * every buf). PC_EAUTH when it was not sealed by this key with this
 * associated data (a wrong key, or a damaged or moved value).
 */
pc_rc	 vault_open(struct vault_box *, const void *aad, size_t aadlen,
	    const void *sealed, size_t len, struct buf *out);
/* The same, with the sealed value as hex text (for the meta table). */
pc_rc	 vault_seal_hex(struct vault_box *, const void *aad, size_t aadlen,
	    const void *pt, size_t len, struct buf *hex);
pc_rc	 vault_open_hex(struct vault_box *, const void *aad, size_t aadlen,
	    const char *hex, struct buf *out);

/* -- wraps ---------------------------------------------------------------- */

/*
 * Wraps both keys under the passphrase with cost kdf, bound to the store
 * id; the text goes to out (emptied first). Takes the KDF's time.
 */
pc_rc	 vault_wrap_pass(const struct vault_keys *, const char *pass,
	    size_t len, const struct vault_kdf *,
	    const uint8_t sid[VAULT_ID_LEN], struct buf *out,
	    struct err_list *);
/*
 * Unwraps keys with the passphrase. PC_EAUTH when it is not this store's
 * passphrase; PC_EINVAL when the wrap is damaged. *kdf (may be NULL)
 * gets the cost it was wrapped with.
 */
pc_rc	 vault_unwrap_pass(const char *wrap, const char *pass, size_t len,
	    const uint8_t sid[VAULT_ID_LEN], struct vault_keys *,
	    struct vault_kdf *kdf, struct err_list *);
/*
 * Makes a new random recovery key (text, to print once) and wraps the
 * data key under it.
 */
pc_rc	 vault_wrap_recovery(const struct vault_keys *,
	    const uint8_t sid[VAULT_ID_LEN], char text[VAULT_RECOVERY_TEXT],
	    struct buf *out, struct err_list *);
/*
 * Unwraps the data key with a recovery key as typed (any case; spaces
 * and dashes ignored; O read as 0, I and L as 1). keys->has_wrap is 0.
 */
pc_rc	 vault_unwrap_recovery(const char *wrap, const char *text,
	    const uint8_t sid[VAULT_ID_LEN], struct vault_keys *,
	    struct err_list *);

/* Characters (UTF-8 code points) in a passphrase. */
size_t	 vault_pass_chars(const char *, size_t len);

#endif

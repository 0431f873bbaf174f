/*
 * secret.h - the server secret: 32 random bytes in a file of their own.
 *
 * It lives outside the database (secret_file in pcmdsd.conf, mode 0600,
 * made by pcmdsd init) so that a stolen or restored copy of the database
 * alone can neither join per-recipient pseudonyms, nor recompute the
 * audit chain, nor undo cell-key perturbation. Each use takes its own key
 * derived from the secret (secret_derive), so a key handed to one purpose
 * never serves another.
 */
#ifndef PCMDS_SECRET_H
#define PCMDS_SECRET_H

#include <stdint.h>

#include "err.h"

#define SECRET_LEN	32

struct secret {
	uint8_t	 k[SECRET_LEN];
};

/* Purposes for secret_derive(): one key each. */
#define SECRET_RECIPIENT	"recipient pseudonyms"
#define SECRET_AUDIT		"audit chain"
#define SECRET_CELL_KEY		"cell keys"
#define SECRET_OIDC_FLOW	"dashboard sign-in flows"

/*
 * Writes a new random secret to path (64 hex digits and a newline, mode
 * 0600). Refuses to replace an existing file: a new secret breaks every
 * recipient's joins and the audit chain.
 */
pc_rc	 secret_create(const char *path, struct err_list *);
/*
 * Reads the secret. Refuses a file readable or writable by group or
 * others, or that is not exactly one secret, with a sentence saying so.
 */
pc_rc	 secret_load(const char *path, struct secret *, struct err_list *);
/* HMAC-SHA256(secret, "pcmds/1 " purpose): the key for one purpose. */
pc_rc	 secret_derive(const struct secret *, const char *purpose,
	    uint8_t out[SECRET_LEN]);
void	 secret_wipe(struct secret *);

#endif

/*
 * auth.h - making and recognising secrets: tokens and one-time codes.
 * (The request-level checks, auth_require() and friends, are in srv.h.)
 */
#ifndef PCMDS_AUTH_H
#define PCMDS_AUTH_H

#include <stdint.h>

#include "err.h"
#include "sec.h"

/* A new secret: 256 random bits as base64url, and its SHA-256. */
pc_rc	 auth_new_token(char out[44], uint8_t hash[SEC_SHA256_LEN]);
/* A one-time code people can type: XXXX-XXXX-XXXX, 60 random bits. */
pc_rc	 auth_new_code(char out[16], uint8_t hash[SEC_SHA256_LEN]);
/* Hash of a typed code (case, spaces and dashes ignored); -1 if malformed. */
int	 auth_code_hash(const char *code, uint8_t hash[SEC_SHA256_LEN]);

#endif

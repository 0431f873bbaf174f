/*
 * passwd.h - dashboard passwords, stored as scrypt hashes.
 *
 * A password is set with a one-time code from the administrator (which
 * it then replaces for signing in); a new code resets it. The hash is
 * memory-hard scrypt (RFC 7914) through OpenSSL's EVP_KDF, N = 2^15,
 * r = 8, p = 1 (32 MiB, as OWASP's password storage guidance gives for
 * scrypt), a random 16-byte salt, 32 bytes out, kept as
 * "scrypt$N$r$p$SALT$HASH" (base64url) so the parameters can rise later
 * without breaking stored hashes. Passwords are 12 to 200 characters
 * (length, not composition rules: NCSC's guidance).
 */
#ifndef PCMDS_PASSWD_H
#define PCMDS_PASSWD_H

#include "err.h"

#define PASSWD_MIN	12
#define PASSWD_MAX	200
#define PASSWD_LEN	160	/* the stored form, with its NUL */

/* NULL when acceptable, or the sentence saying why not. */
const char	*passwd_problem(const char *password);
/* A new stored form for password (PC_EIO when the KDF fails). */
pc_rc		 passwd_hash(const char *password, char out[PASSWD_LEN]);
/* 1 when password matches stored, 0 when not, -1 when stored is bad. */
int		 passwd_verify(const char *password, const char *stored);

#endif

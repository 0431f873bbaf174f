/*
 * uuid.h - record ids: canonical lowercase UUIDs made on the client.
 */
#ifndef PCMDS_UUID_H
#define PCMDS_UUID_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define UUID_LEN	37	/* 36 characters + NUL */
#define UUID_SHORT	8	/* short ids: the first 8 hex digits */

/* A random (version 4) UUID from OpenSSL's RAND_bytes. */
pc_rc	 uuid_v4(char out[UUID_LEN]);
/*
 * A time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix time in
 * milliseconds, 12 bits of sub-millisecond time (the RFC's method 3), 62
 * random bits. ns is nanoseconds since the epoch.
 */
pc_rc	 uuid_v7(int64_t ns, char out[UUID_LEN]);
/*
 * The id a new record gets on the device: a random (version 4) UUID. A
 * version 7 one would let a store's index of ids grow at its end instead
 * of being rewritten all over (make bench: a third of the bare insert's
 * CPU), but its first 8 digits, the short id a link worker reads and
 * types, would be the same for every record made within a minute; that
 * waits for short ids taken from the random end. The client and the
 * benchmarks call this one function, so that what make bench sends is
 * what devices send.
 */
pc_rc	 uuid_record(char out[UUID_LEN]);
/*
 * A name-based UUID (version 8, RFC 9562) from the first 16 bytes of a
 * SHA-256 digest: the same input always gives the same id.
 */
void	 uuid_from_digest(const uint8_t digest[32], char out[UUID_LEN]);
/* 1 when s is a canonical lowercase UUID other than the nil UUID. */
int	 uuid_valid(const char *s);
int	 uuid_parse(const char *s, uint8_t out[16]);
void	 uuid_format(const uint8_t in[16], char out[UUID_LEN]);

#endif

/*
 * uuid.h - record ids: canonical lowercase UUIDs made on the client.
 */
#ifndef PCMDS_UUID_H
#define PCMDS_UUID_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define UUID_LEN	37	/* 36 characters + NUL */
/*
 * Short ids, what link workers read and type: 8 hex digits from the id's
 * random end, the start of its last group (digits 25 to 32). Not its
 * first 8: in a version 7 id those are the time, the same for every
 * record made within a minute or so. A typed short id may go on into the
 * rest of the group (12 digits) when 8 are not enough.
 */
#define UUID_SHORT	8
#define UUID_SHORT_AT	24	/* where the last group starts */
#define UUID_SHORT_MAX	12	/* the last group's length */

/* A random (version 4) UUID from OpenSSL's RAND_bytes. */
pc_rc	 uuid_v4(char out[UUID_LEN]);
/*
 * A time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix time in
 * milliseconds, 12 bits of sub-millisecond time (the RFC's method 3), 62
 * random bits. ns is nanoseconds since the epoch.
 */
pc_rc	 uuid_v7(int64_t ns, char out[UUID_LEN]);
/*
 * The id a new record gets on the device: a time-ordered (version 7) UUID
 * from the clock, so that a store's index of ids grows at its end instead
 * of being rewritten all over (make bench: a third of the bare insert's
 * CPU). Ids made by one process sort in the order made, even within one
 * millisecond (uuid.c says how). Older clients made version 4 ids; every
 * valid UUID is still accepted. The client and the benchmarks call this
 * one function, so that what make bench sends is what devices send.
 */
pc_rc	 uuid_record(char out[UUID_LEN]);
/*
 * The short id of an id, as every message and page shows it:
 * printf("%s", uuid_short(id).s). The struct is the caller's, by value.
 * Anything not 36 characters long gives its first 8 (NULL: "").
 */
struct uuid_short {
	char	 s[UUID_SHORT + 1];
};
struct uuid_short uuid_short(const char *id);
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

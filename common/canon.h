/*
 * canon.h - canonical JSON: the form a record is hashed and stored in.
 *
 * Object keys sorted by their bytes, no insignificant whitespace, strings
 * escaped only where JSON requires it (", \ and control characters), whole
 * numbers without a fraction or exponent. Two records that mean the same
 * have the same canonical text and therefore the same content hash.
 */
#ifndef PCMDS_CANON_H
#define PCMDS_CANON_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "sec.h"

pc_rc	 canon_json(const cJSON *, struct buf *out);
/* Appends a JSON string literal for s (len bytes) to out. */
pc_rc	 canon_string(const char *s, size_t len, struct buf *out);
/*
 * Canonical text of v and the SHA-256 of that text, in hex and, unless
 * digest is NULL, binary.
 */
pc_rc	 canon_hash(const cJSON *, struct buf *out,
	    uint8_t digest[SEC_SHA256_LEN], char hex[SEC_HEX64_LEN]);

#endif

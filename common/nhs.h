/*
 * nhs.h - NHS numbers, checked and turned into pseudonyms on the client.
 *
 * The NHS number itself is never stored or sent. The person pseudonym is
 * hex HMAC-SHA256(deployment key, the 10 digits); the key lives only on
 * clients, so the server cannot enumerate the 10^9 numbers back.
 */
#ifndef PCMDS_NHS_H
#define PCMDS_NHS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sec.h"

#define NHS_KEY_LEN	32	/* deployment key: 256 random bits */
#define NHS_KEY_ID_LEN	17	/* 16 hex digits + NUL */

/*
 * Normalises "943 476 5919" or "943-476-5919" to 10 digits and checks the
 * Modulus 11 check digit. On failure adds one E_NHS_NUMBER item naming
 * what is wrong (never echoing the number).
 */
pc_rc	 nhs_normalise(const char *in, char out[11], struct err_list *);
int	 nhs_check_digit_ok(const char digits[10]);
pc_rc	 nhs_pseudonym(const uint8_t key[NHS_KEY_LEN], const char digits[10],
	    char out[SEC_HEX64_LEN]);
/* A random 256-bit id for a person with no NHS number. */
pc_rc	 nhs_local_person(char out[SEC_HEX64_LEN]);
/*
 * A public fingerprint of a deployment key (first 64 bits of
 * SHA-256("pcmds-key-id" || key)): lets the server notice a client that
 * holds another key, whose pseudonyms would not link, without learning it.
 */
void	 nhs_key_id(const uint8_t key[NHS_KEY_LEN], char out[NHS_KEY_ID_LEN]);

#endif

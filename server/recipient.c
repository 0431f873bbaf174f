/*
 * recipient.c - per-recipient keyed hashes of identifiers.
 */
#include <stdio.h>
#include <string.h>

#include "recipient.h"
#include "sec.h"

pc_rc
recip_init(struct recipient *r, const struct secret *s, int64_t user)
{
	uint8_t k[SECRET_LEN];
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "user %lld", (long long)user);
	pc_rc rc;

	if ((rc = secret_derive(s, SECRET_RECIPIENT, k)) == PC_OK)
		rc = sec_hmac_sha256(k, sizeof(k), msg, (size_t)n, r->key);
	sec_wipe(k, sizeof(k));
	return rc;
}

void
recip_wipe(struct recipient *r)
{
	sec_wipe(r->key, sizeof(r->key));
}

/* HMAC(key, what " " value): each kind of identifier in its own space. */
static void
mac(const struct recipient *r, const char *what, const char *value,
    uint8_t out[SEC_SHA256_LEN])
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "%s %s", what, value);

	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;	/* values are far shorter */
	if (sec_hmac_sha256(r->key, sizeof(r->key), msg, (size_t)n, out) !=
	    PC_OK)
		memset(out, 0, SEC_SHA256_LEN);	/* never the value itself */
}

void
recip_person(const struct recipient *r, const char *person,
    char out[SEC_HEX64_LEN])
{
	uint8_t h[SEC_SHA256_LEN];

	mac(r, "person", person, h);
	sec_hex(h, sizeof(h), out);
}

void
recip_id(const struct recipient *r, const char *id, char out[UUID_LEN])
{
	uint8_t h[SEC_SHA256_LEN];

	mac(r, "record", id, h);
	uuid_from_digest(h, out);
}

void
recip_worker(const struct recipient *r, const char *worker,
    char out[RECIP_WORKER_LEN])
{
	uint8_t h[SEC_SHA256_LEN];

	mac(r, "worker", worker, h);
	out[0] = 'w';
	sec_hex(h, 8, out + 1);
}

int64_t
recip_seq(const struct recipient *r, const char *worker, int64_t seq)
{
	uint8_t h[SEC_SHA256_LEN];
	char v[128];
	int64_t n = 0;
	int i;

	snprintf(v, sizeof(v), "%s %lld", worker, (long long)seq);
	mac(r, "device_seq", v, h);
	for (i = 0; i < 6; i++)	/* 48 bits: exact in JSON and in R */
		n = (n << 8) | h[i];
	return n + 1;
}

/*
 * recipient.c - per-recipient keyed hashes of identifiers.
 */
#include <stdio.h>
#include <string.h>

#include "recipient.h"
#include "sec.h"

#define MSG_MAX	256	/* "what value", values being far shorter */

pc_rc
recip_init(struct recipient *r, const struct secret *s, int64_t user)
{
	uint8_t k[SECRET_LEN], key[SEC_SHA256_LEN];
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "user %lld", (long long)user);
	pc_rc rc;

	memset(r, 0, sizeof(*r));
	if ((rc = secret_derive(s, SECRET_RECIPIENT, k)) == PC_OK)
		rc = sec_hmac_sha256(k, sizeof(k), msg, (size_t)n, key);
	if (rc == PC_OK && (r->mac = sec_hmac_new(key, sizeof(key))) == NULL)
		rc = PC_ENOMEM;
	sec_wipe(k, sizeof(k));
	sec_wipe(key, sizeof(key));
	return rc;
}

void
recip_wipe(struct recipient *r)
{
	sec_hmac_free(r->mac);
	sec_wipe(r, sizeof(*r));
}

/*
 * HMAC(key, what " " value): each kind of identifier in its own space.
 * The last few are remembered: within a referral the same referral,
 * person and workers come again and again.
 */
static void
mac(struct recipient *r, const char *what, const char *value,
    uint8_t out[SEC_SHA256_LEN])
{
	char msg[MSG_MAX];
	size_t w = strlen(what), v = strlen(value), n;
	unsigned i, old = 0;

	if (w + 1 >= sizeof(msg))
		w = sizeof(msg) - 2;
	if (w + 1 + v >= sizeof(msg))	/* cut as snprintf would */
		v = sizeof(msg) - 2 - w;
	memcpy(msg, what, w);
	msg[w] = ' ';
	memcpy(msg + w + 1, value, v);
	n = w + 1 + v;
	msg[n] = '\0';
	for (i = 0; n < RECIP_MEMO_LEN && i < RECIP_MEMO; i++) {
		/* lengths first: most records' own ids match none */
		if (r->memo[i].len == n && r->memo[i].msg[0] != '\0' &&
		    memcmp(r->memo[i].msg, msg, n) == 0) {
			r->memo[i].used = ++r->clock;
			memcpy(out, r->memo[i].h, SEC_SHA256_LEN);
			return;
		}
		if (r->memo[i].used < r->memo[old].used)
			old = i;
	}
	if (r->mac == NULL || sec_hmac(r->mac, msg, n, out) != PC_OK) {
		memset(out, 0, SEC_SHA256_LEN);	/* never the value itself */
		r->failed = 1;	/* and the output it went into is refused */
		return;
	}
	if (n < RECIP_MEMO_LEN) {	/* in place of the least recently used */
		memcpy(r->memo[old].msg, msg, n + 1);
		r->memo[old].len = n;
		memcpy(r->memo[old].h, out, SEC_SHA256_LEN);
		r->memo[old].used = ++r->clock;
	}
}

void
recip_person(struct recipient *r, const char *person,
    char out[SEC_HEX64_LEN])
{
	uint8_t h[SEC_SHA256_LEN];

	mac(r, "person", person, h);
	sec_hex(h, sizeof(h), out);
}

void
recip_id(struct recipient *r, const char *id, char out[UUID_LEN])
{
	uint8_t h[SEC_SHA256_LEN];

	mac(r, "record", id, h);
	uuid_from_digest(h, out);
}

void
recip_worker(struct recipient *r, const char *worker,
    char out[RECIP_WORKER_LEN])
{
	uint8_t h[SEC_SHA256_LEN];

	mac(r, "worker", worker, h);
	out[0] = 'w';
	sec_hex(h, 8, out + 1);
}

/* "worker seq", as snprintf("%s %lld") makes it: an export's every row. */
static void
seq_text(const char *worker, int64_t seq, char *v, size_t size)
{
	char d[24];
	size_t w = strlen(worker), n = 0;
	uint64_t u = seq < 0 ? 0 - (uint64_t)seq : (uint64_t)seq;

	do
		d[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (seq < 0)
		d[n++] = '-';
	if (w + 1 + n >= size) {	/* never, for a worker id */
		snprintf(v, size, "%s %lld", worker, (long long)seq);
		return;
	}
	memcpy(v, worker, w);
	v[w++] = ' ';
	while (n > 0)
		v[w++] = d[--n];
	v[w] = '\0';
}

int64_t
recip_seq(struct recipient *r, const char *worker, int64_t seq)
{
	uint8_t h[SEC_SHA256_LEN];
	char v[128];
	int64_t n = 0;
	int i;

	seq_text(worker, seq, v, sizeof(v));
	mac(r, "device_seq", v, h);
	for (i = 0; i < 6; i++)	/* 48 bits: exact in JSON and in R */
		n = (n << 8) | h[i];
	return n + 1;
}

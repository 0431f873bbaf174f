/*
 * ckm.c - record keys, cell keys and the perturbation table.
 */
#include <stdlib.h>
#include <string.h>

#include "ckm.h"
#include "sec.h"

const struct ckm_line ckm_ptable[] = {
#include "ckm_ptable.inc"
};
const size_t ckm_nlines = sizeof(ckm_ptable) / sizeof(ckm_ptable[0]);

uint16_t
ckm_record_key(const uint8_t key[32], uint64_t person)
{
	uint8_t msg[8], mac[SEC_SHA256_LEN];
	int i;

	for (i = 0; i < 8; i++)
		msg[i] = (uint8_t)(person >> (56 - 8 * i));
	if (sec_hmac_sha256(key, 32, msg, sizeof(msg), mac) != PC_OK)
		return 0;	/* OpenSSL cannot fail here; 0 is still a key */
	return (uint16_t)((mac[0] << 8 | mac[1]) % CKM_KEYS);
}

struct ckm_keyer {
	struct sec_hmac	*mac;
};

void
ckm_keyer_free(struct ckm_keyer *k)
{
	if (k == NULL)
		return;
	sec_hmac_free(k->mac);
	free(k);
}

struct ckm_keyer *
ckm_keyer_new(const uint8_t key[32])
{
	struct ckm_keyer *k = calloc(1, sizeof(*k));

	if (k == NULL || (k->mac = sec_hmac_new(key, 32)) == NULL) {
		ckm_keyer_free(k);
		return NULL;
	}
	return k;
}

uint16_t
ckm_keyer_key(struct ckm_keyer *k, uint64_t person)
{
	uint8_t msg[8], mac[SEC_SHA256_LEN];
	int i;

	for (i = 0; i < 8; i++)
		msg[i] = (uint8_t)(person >> (56 - 8 * i));
	if (sec_hmac(k->mac, msg, sizeof(msg), mac) != PC_OK)
		return 0;	/* no failure in practice; 0 is still a key */
	return (uint16_t)((mac[0] << 8 | mac[1]) % CKM_KEYS);
}

int
ckm_noise(long n, long keysum)
{
	int last = ckm_ptable[ckm_nlines - 1].i, row;
	double u;
	size_t k;

	if (n <= 0)
		return 0;
	row = n < last ? (int)n : last;
	/*
	 * The cell key as the centre of its 1/4096 of [0, 1), then the first
	 * line with u < ub: each realised probability is the table's to the
	 * nearest 1/4096, which keeps the noise unbiased (the left edge, k/N,
	 * would favour the first line of every row).
	 */
	u = ((double)(keysum % CKM_KEYS) + 0.5) / CKM_KEYS;
	for (k = 0; k < ckm_nlines; k++)
		if (ckm_ptable[k].i == row && u < ckm_ptable[k].ub)
			return ckm_ptable[k].v;
	return 0;
}

long
ckm_perturb(long n, long keysum)
{
	long p = n + ckm_noise(n, keysum);

	return p < 0 ? 0 : p;
}

/*
 * ckm.h - the cell key method: the same small noise for the same people,
 * however often and in whatever table their count is asked for.
 *
 * Every person (not every referral: the same people then get the same
 * noise whether their referrals or they are counted, and a re-referral
 * brings no fresh draw to average) carries a record key, 0..CKM_KEYS-1,
 * drawn from the server secret (HMAC-SHA256 under secret_derive(
 * SECRET_CELL_KEY) of the person's pseudonym): never stored, never
 * exported, the same at every start. A
 * count's cell key is the sum of the keys of the records it counts, modulo
 * CKM_KEYS; the perturbation table (ckm_ptable.csv, made by ckm_ptable.py)
 * maps (count, cell key) to noise of at most CKM_D either way. Because the
 * cell key depends only on which records are counted, asking again, or
 * over another range that holds the same people, gives the same figure;
 * two ranges that differ by a few people get independent noise, so their
 * difference does not give those people's number. Disclosure control
 * (sdc.c) then suppresses perturbed counts of 1-7 and rounds the rest to 5.
 *
 * The method is the ONS's (cell-key-perturbation, used for Census 2021),
 * with the perturbation table of R's ptable package (maximum entropy, see
 * ckm_ptable.py) as the Handbook on Statistical Disclosure Control (2nd
 * ed., 5.4) describes it. Parameters: CKM_D = 3, variance at most 2, no
 * perturbed value barred (js = 0), zeros never perturbed.
 */
#ifndef PCMDS_CKM_H
#define PCMDS_CKM_H

#include <stddef.h>
#include <stdint.h>

#define CKM_KEYS	4096	/* key range (ONS: 4096 for administrative data) */
#define CKM_D		3	/* the largest noise, either way */
#define CKM_V		2.0	/* the largest variance of the noise */
#define CKM_JS		0	/* perturbed values 1..js barred: none */

/* One line of the perturbation table, in the layout of R's ptable. */
struct ckm_line {
	int	 i;		/* original count (the last row: that or more) */
	int	 j;		/* perturbed count */
	double	 p;		/* probability of this noise */
	int	 v;		/* noise, j - i */
	double	 lb, ub;	/* running sum of p before and after it */
};

extern const struct ckm_line	ckm_ptable[];
extern const size_t		ckm_nlines;

/*
 * The record key of a person (8 bytes of their pseudonym, big-endian)
 * under key: HMAC-SHA256(key, person), its first two bytes modulo
 * CKM_KEYS.
 */
uint16_t ckm_record_key(const uint8_t key[32], uint64_t person);

/*
 * The same, many times over: the key's HMAC pads hashed once, so a record
 * key costs two SHA-256 blocks (about 0.3 microseconds, against 4 for
 * ckm_record_key: a million people at start-up in a third of a second).
 * ckm_keyer_new() returns NULL when out of memory; the keyer owns copies
 * of the key's state, cleared by ckm_keyer_free().
 */
struct ckm_keyer;
struct ckm_keyer *ckm_keyer_new(const uint8_t key[32]);
uint16_t ckm_keyer_key(struct ckm_keyer *, uint64_t person);
void	 ckm_keyer_free(struct ckm_keyer *);
/* The noise for a count n whose records' keys add up to keysum (>= 0). */
int	 ckm_noise(long n, long keysum);
/* n perturbed: n + noise, never below zero; a zero stays zero. */
long	 ckm_perturb(long n, long keysum);

#endif

/*
 * passwd.c - dashboard passwords, kept as scrypt hashes (sec_scrypt).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"
#include "sec.h"

#define SALT_LEN	16
#define KEY_LEN		32
#define N_DEFAULT	32768
#define R_DEFAULT	8
#define P_DEFAULT	1
#define MAXMEM		(256u << 20)

const char *
passwd_problem(const char *pw)
{
	size_t n = strlen(pw), i;

	if (n < PASSWD_MIN)
		return "A password needs at least 12 characters: three or four "
		    "words you will remember make a strong one.";
	if (n > PASSWD_MAX)
		return "A password may have at most 200 characters.";
	for (i = 0; i < n; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
			return "A password cannot hold control characters.";
	return NULL;
}

pc_rc
passwd_hash(const char *pw, char out[PASSWD_LEN])
{
	uint8_t salt[SALT_LEN], key[KEY_LEN];
	char s64[32], k64[64];

	if (sec_random(salt, sizeof(salt)) != PC_OK ||
	    sec_scrypt(pw, strlen(pw), salt, sizeof(salt), N_DEFAULT, R_DEFAULT,
	    P_DEFAULT, MAXMEM, key, sizeof(key)) != PC_OK)
		return PC_EIO;
	sec_b64url(salt, sizeof(salt), s64);
	sec_b64url(key, sizeof(key), k64);
	snprintf(out, PASSWD_LEN, "scrypt$%d$%d$%d$%s$%s", N_DEFAULT,
	    R_DEFAULT, P_DEFAULT, s64, k64);
	sec_wipe(key, sizeof(key));
	return PC_OK;
}

int
passwd_verify(const char *pw, const char *stored)
{
	char s64[64], k64[80];
	uint8_t salt[48], want[64], got[64];
	unsigned long long n;
	unsigned r, p;
	long sl, kl;
	int ok;

	if (sscanf(stored, "scrypt$%llu$%u$%u$%63[^$]$%79s", &n, &r, &p, s64,
	    k64) != 5 || n < 2 || n > (1u << 20) || (n & (n - 1)) != 0 ||
	    r < 1 || r > 32 || p < 1 || p > 16 ||
	    (sl = sec_unb64url(s64, strlen(s64), salt, sizeof(salt))) <= 0 ||
	    (kl = sec_unb64url(k64, strlen(k64), want, sizeof(want))) <= 0)
		return -1;
	if (sec_scrypt(pw, strlen(pw), salt, (size_t)sl, n, r, p, MAXMEM, got,
	    (size_t)kl) != PC_OK)
		return -1;
	ok = sec_equal(got, want, (size_t)kl);
	sec_wipe(got, sizeof(got));
	return ok;
}

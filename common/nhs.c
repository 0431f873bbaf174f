/*
 * nhs.c - NHS number Modulus 11 check and keyed pseudonyms.
 *
 * The check digit rule is from the NHS Data Dictionary ("NHS NUMBER"):
 * weight the first nine digits 10 down to 2, take the sum modulo 11,
 * subtract from 11; 11 means 0 and 10 means the number is invalid.
 */
#include <ctype.h>
#include <string.h>

#include "nhs.h"

int
nhs_check_digit_ok(const char d[10])
{
	int i, sum = 0, check;

	for (i = 0; i < 9; i++)
		sum += (d[i] - '0') * (10 - i);
	check = 11 - sum % 11;
	if (check == 11)
		check = 0;
	if (check == 10)
		return 0;
	return check == d[9] - '0';
}

pc_rc
nhs_normalise(const char *in, char out[11], struct err_list *errs)
{
	size_t n = 0;
	const char *p;

	for (p = in; *p != '\0'; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (!isdigit((unsigned char)*p)) {
			err_add(errs, E_NHS_NUMBER, "nhs_number",
			    "an NHS number has only digits (spaces allowed); "
			    "this one has other characters");
			return PC_EINVAL;
		}
		if (n == 10) {
			n++;
			break;
		}
		out[n++] = *p;
	}
	if (n != 10) {
		err_add(errs, E_NHS_NUMBER, "nhs_number",
		    "an NHS number has exactly 10 digits; this one has %s",
		    n > 10 ? "more" : "fewer");
		return PC_EINVAL;
	}
	out[10] = '\0';
	if (!nhs_check_digit_ok(out)) {
		err_add(errs, E_NHS_NUMBER, "nhs_number",
		    "this NHS number fails the Modulus 11 check digit; "
		    "check it against the person's records");
		return PC_EINVAL;
	}
	return PC_OK;
}

pc_rc
nhs_pseudonym(const uint8_t key[NHS_KEY_LEN], const char digits[10],
    char out[SEC_HEX64_LEN])
{
	uint8_t mac[SEC_SHA256_LEN];
	pc_rc rc;

	if ((rc = sec_hmac_sha256(key, NHS_KEY_LEN, digits, 10, mac)) != PC_OK)
		return rc;
	sec_hex(mac, sizeof(mac), out);
	return PC_OK;
}

pc_rc
nhs_local_person(char out[SEC_HEX64_LEN])
{
	uint8_t r[32];

	if (sec_random(r, sizeof(r)) != PC_OK)
		return PC_EIO;
	sec_hex(r, sizeof(r), out);
	return PC_OK;
}

void
nhs_key_id(const uint8_t key[NHS_KEY_LEN], char out[NHS_KEY_ID_LEN])
{
	static const char tag[] = "pcmds-key-id";
	uint8_t msg[sizeof(tag) - 1 + NHS_KEY_LEN], md[SEC_SHA256_LEN];

	memcpy(msg, tag, sizeof(tag) - 1);
	memcpy(msg + sizeof(tag) - 1, key, NHS_KEY_LEN);
	sec_sha256(msg, sizeof(msg), md);
	sec_hex(md, 8, out);
	sec_wipe(msg, sizeof(msg));
}

/*
 * pii.c - identifiers and invisible characters in free text.
 *
 * Each detector looks at one position of the text and says how many
 * bytes match there (0: none). Patterns follow the published formats:
 * NHS numbers and their Modulus 11 check (NHS Data Dictionary, "NHS
 * NUMBER"), UK postcodes (Royal Mail's PAF format rules: AN NAA, ANN NAA,
 * AAN NAA, AANN NAA, ANA NAA, AANA NAA, with the letters each position
 * never takes), UK telephone numbers (Ofcom's National Telephone
 * Numbering Plan: 0 and 9 or 10 more digits, or +44 without the 0).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nhs.h"
#include "pii.h"

#define DIGITS_MAX	24

static const char *const kind_text[PII_N] = {
	[PII_NONE] = "nothing",
	[PII_CONTROL] = "a control character (such as a line break, tab or "
	    "NUL)",
	[PII_INVISIBLE] = "an invisible character (a zero-width, "
	    "direction-changing or C1 control character)",
	[PII_NHS_NUMBER] = "an NHS number",
	[PII_EMAIL] = "an email address",
	[PII_PHONE] = "a UK phone number",
	[PII_POSTCODE] = "a UK postcode",
	[PII_NAME] = "a title and a name (such as Mr Smith)",
};

const char *
pii_kind_text(enum pii_kind k)
{
	return k < PII_N ? kind_text[k] : "?";
}

static int
is_alnum(unsigned char c)
{
	return c < 0x80 && isalnum(c);
}

/* Byte i starts a word: nothing alphanumeric just before it. */
static int
word_start(const unsigned char *s, size_t i)
{
	return i == 0 || !is_alnum(s[i - 1]);
}

/* Invisible code points, as UTF-8: C1 controls, U+00AD, U+200B-U+200F,
   U+202A-U+202E, U+2060-U+2064, U+2066-U+2069, U+FEFF. */
static size_t
invisible_at(const unsigned char *s, size_t len, size_t i)
{
	if (i + 1 < len && s[i] == 0xc2 && ((s[i + 1] >= 0x80 &&
	    s[i + 1] <= 0x9f) || s[i + 1] == 0xad))
		return 2;
	if (i + 2 >= len)
		return 0;
	if (s[i] == 0xe2 && s[i + 1] == 0x80 && ((s[i + 2] >= 0x8b &&
	    s[i + 2] <= 0x8f) || (s[i + 2] >= 0xaa && s[i + 2] <= 0xae)))
		return 3;
	if (s[i] == 0xe2 && s[i + 1] == 0x81 && ((s[i + 2] >= 0xa0 &&
	    s[i + 2] <= 0xa4) || (s[i + 2] >= 0xa6 && s[i + 2] <= 0xa9)))
		return 3;
	if (s[i] == 0xef && s[i + 1] == 0xbb && s[i + 2] == 0xbf)
		return 3;
	return 0;
}

/*
 * A run of digits from i, with at most two separators (space, dash, dot,
 * brackets) between digits, as numbers are written: "943 476 5919",
 * "(020) 7946-0958". A leading '+' or '(' belongs to the run.
 */
struct digits {
	char	 d[DIGITS_MAX + 1];
	size_t	 n;		/* digits (capped at DIGITS_MAX) */
	size_t	 total;		/* all digits in the run */
	int	 plus;		/* written with a leading + */
	size_t	 end;		/* byte after the last digit */
};

static int
separator(unsigned char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

static void
digit_run(const unsigned char *s, size_t len, size_t i, struct digits *r)
{
	size_t seps = 0;

	memset(r, 0, sizeof(*r));
	if (s[i] == '+') {
		r->plus = 1;
		i++;
	}
	while (i < len && s[i] == '(')
		i++;
	for (; i < len; i++) {
		if (isdigit(s[i])) {
			if (r->n < DIGITS_MAX)
				r->d[r->n++] = (char)s[i];
			r->total++;
			r->end = i + 1;
			seps = 0;
		} else if (separator(s[i]) && r->total > 0 && ++seps <= 2)
			continue;
		else
			break;
	}
	r->d[r->n] = '\0';
}

static int
nhs_in(const struct digits *r)
{
	size_t k;

	if (r->total == 10)
		return nhs_check_digit_ok(r->d);
	/* a longer run may hide one: "NHS no 94347659190" */
	for (k = 0; r->total > 11 && k + 10 <= r->n; k++)
		if (nhs_check_digit_ok(r->d + k))
			return 1;
	return 0;
}

static int
phone_in(const struct digits *r)
{
	if (r->plus)
		return strncmp(r->d, "44", 2) == 0 && (r->total == 11 ||
		    r->total == 12 || (r->total == 13 && r->d[2] == '0'));
	if (strncmp(r->d, "0044", 4) == 0)
		return r->total == 13 || r->total == 14;
	return r->d[0] == '0' && (r->total == 10 || r->total == 11);
}

/* Numbers start at a digit, or at '+' or '(' before one. */
static enum pii_kind
number_at(const unsigned char *s, size_t len, size_t i)
{
	struct digits r;

	if (!isdigit(s[i]) && !(s[i] == '+' || s[i] == '('))
		return PII_NONE;
	if (i > 0 && (isdigit(s[i - 1]) || s[i - 1] == '+' ||
	    (s[i - 1] == '(' && s[i] != '(')))
		return PII_NONE;	/* inside a run already looked at */
	digit_run(s, len, i, &r);
	if (r.total == 0)
		return PII_NONE;
	if (nhs_in(&r))
		return PII_NHS_NUMBER;
	if (phone_in(&r))
		return PII_PHONE;
	return PII_NONE;
}

static int
email_local(unsigned char c)
{
	return is_alnum(c) || (c != 0 && strchr("._%+-'", c) != NULL);
}

/* local@label.label...tld, found where its local part starts. */
static int
email_at(const unsigned char *s, size_t len, size_t i)
{
	size_t j = i, end, dot = 0, k;

	if (!email_local(s[i]) || (i > 0 && email_local(s[i - 1])))
		return 0;
	while (j < len && email_local(s[j]))
		j++;
	if (j == len || s[j] != '@')
		return 0;
	for (end = ++j; end < len && (is_alnum(s[end]) || s[end] == '-' ||
	    s[end] == '.'); end++)
		;
	while (end > j && s[end - 1] == '.')
		end--;	/* a dot after the address ends the sentence */
	for (k = j; k < end; k++)
		if (s[k] == '.') {
			if (k == j || s[k - 1] == '.')
				return 0;
			dot = k;
		}
	if (dot == 0 || end - dot < 3)
		return 0;
	for (k = dot + 1; k < end; k++)
		if (!isalpha(s[k]))
			return 0;	/* the top-level domain is letters */
	return 1;
}

/* Letters a postcode position may hold, in upper case. */
static int
pc_letter(unsigned char c, const char *never, int upper)
{
	if (!isalpha(c) || (upper ? !isupper(c) : !islower(c)))
		return 0;
	return strchr(never, toupper(c)) == NULL;
}

static int
pc_third(unsigned char c, int upper)
{
	return isalpha(c) && (upper ? isupper(c) : islower(c)) &&
	    strchr("ABCDEFGHJKPSTUW", toupper(c)) != NULL;
}

static int
pc_fourth(unsigned char c, int upper)
{
	return isalpha(c) && (upper ? isupper(c) : islower(c)) &&
	    strchr("ABEHMNPRVWXY", toupper(c)) != NULL;
}

/* The outward code at i: its length, or 0. */
static size_t
outward(const unsigned char *s, size_t len, size_t i, int up)
{
	size_t n = len - i;

	if (n < 2 || !pc_letter(s[i], "QVX", up))
		return 0;
	if (isdigit(s[i + 1])) {			/* A9, A99, A9A */
		if (n > 2 && isdigit(s[i + 2]))
			return 3;
		if (n > 2 && pc_third(s[i + 2], up))
			return 3;
		return 2;
	}
	if (n < 3 || !pc_letter(s[i + 1], "IJZ", up) || !isdigit(s[i + 2]))
		return 0;
	if (n > 3 && isdigit(s[i + 3]))			/* AA99 */
		return 4;
	if (n > 3 && pc_fourth(s[i + 3], up))		/* AA9A */
		return 4;
	return 3;					/* AA9 */
}

/* A full postcode, written in capitals or all in lower case. */
static int
postcode_at(const unsigned char *s, size_t len, size_t i)
{
	int up;

	if (!word_start(s, i) || !isalpha(s[i]))
		return 0;
	for (up = 0; up < 2; up++) {
		size_t o = outward(s, len, i, up), j;

		/* the outward code may be shorter than it first looks:
		   "E15 4HT" and "E1 54HT" are told apart by the inward */
		for (; o >= 2; o--) {
			j = i + o;
			if (j < len && s[j] == ' ')
				j++;
			if (!isdigit(s[i + 1]) && (o < 3 || !isdigit(s[i + 2])))
				continue;	/* "AA" is no outward code */
			if (j + 3 <= len && isdigit(s[j]) &&
			    pc_letter(s[j + 1], "CIKMOV", up) &&
			    pc_letter(s[j + 2], "CIKMOV", up) &&
			    (j + 3 == len || !is_alnum(s[j + 3])))
				return 1;
		}
	}
	return 0;
}

/* Mr, Mrs, Ms, Miss, Mx, Dr, Prof (or in capitals), a dot, a name. */
static int
name_at(const unsigned char *s, size_t len, size_t i)
{
	static const char *const titles[] = {"Mr", "Mrs", "Ms", "Miss", "Mx",
	    "Dr", "Prof"};
	size_t k, n, j;

	if (!word_start(s, i) || !isupper(s[i]))
		return 0;
	for (k = 0; k < sizeof(titles) / sizeof(titles[0]); k++) {
		n = strlen(titles[k]);
		if (i + n >= len || (strncmp((const char *)s + i, titles[k],
		    n) != 0 && strncasecmp((const char *)s + i, titles[k], n) !=
		    0))
			continue;
		/* Title case, or all capitals: "MR" but not "Mr" as "mR" */
		for (j = 1; j < n; j++)
			if (islower(s[i + j]) != islower(s[i + 1]))
				break;
		if (j < n)
			continue;
		j = i + n;
		if (s[j] == '.')
			j++;
		if (j >= len || s[j] != ' ')
			continue;
		while (j < len && s[j] == ' ')
			j++;
		/* a capitalised word, or an initial */
		if (j < len && isupper(s[j]) && (j + 1 == len ||
		    isalpha(s[j + 1]) || s[j + 1] == '.' || s[j + 1] == ' ' ||
		    s[j + 1] == '\'' || s[j + 1] == '-'))
			return 1;
	}
	return 0;
}

enum pii_kind
pii_scan(const char *str, size_t len, long *at)
{
	const unsigned char *s = (const unsigned char *)str;
	enum pii_kind found = PII_NONE, k;
	long chars = 0, where = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			chars++;
		if (s[i] < 0x20 || s[i] == 0x7f)
			k = PII_CONTROL;
		else if (s[i] >= 0x80)
			k = invisible_at(s, len, i) ? PII_INVISIBLE : PII_NONE;
		else if ((k = number_at(s, len, i)) != PII_NONE)
			;
		else if (email_at(s, len, i))
			k = PII_EMAIL;
		else if (postcode_at(s, len, i))
			k = PII_POSTCODE;
		else if (name_at(s, len, i))
			k = PII_NAME;
		if (k != PII_NONE && (found == PII_NONE || k < found)) {
			found = k;
			where = chars;
			if (k == PII_CONTROL)
				break;
		}
	}
	if (at != NULL)
		*at = where;
	return found;
}

int
pii_check(const char *s, size_t len, const char *label, const char *path,
    struct err_list *errs)
{
	long at;
	enum pii_kind k = pii_scan(s, len, &at);

	switch (k) {
	case PII_NONE:
		return 0;
	case PII_CONTROL:
	case PII_INVISIBLE:
		err_add(errs, E_CONTROL, path, "%s (%s) must not contain %s; "
		    "found at character %ld", label, path, pii_kind_text(k),
		    at);
		break;
	default:
		err_add(errs, E_IDENTIFIER, path, "%s (%s) must not identify "
		    "anyone: it holds what looks like %s at character %ld; "
		    "write only what the field is for (an organisation, a "
		    "reason), never a person's details", label, path,
		    pii_kind_text(k), at);
		break;
	}
	return -1;
}

/* Is the string ending at i (its closing quote) a key: ':' follows? */
static int
is_key(const char *t, size_t len, size_t i)
{
	for (i++; i < len && strchr(" \t\r\n", t[i]) != NULL && t[i]; i++)
		;
	return i < len && t[i] == ':';
}

static void
key_copy(char *key, size_t keylen, const char *k, size_t n)
{
	if (keylen > 0)
		snprintf(key, keylen, "%.*s", (int)n, k);
}

/*
 * Whether t holds a NUL byte or the text of a \u0000 escape at all: a
 * body of a few hundred kilobytes is read by memchr many bytes at a
 * time, where the walk below that places the NUL takes a branch a byte.
 */
static int
may_hold_nul(const char *t, size_t len)
{
	const char *end = t + len, *p;

	if (len == 0)
		return 0;
	if (memchr(t, '\0', len) != NULL)
		return 1;
	for (p = t; (p = memchr(p, '\\', (size_t)(end - p))) != NULL; p++)
		if (end - p >= 6 && memcmp(p, "\\u0000", 6) == 0)
			return 1;
	return 0;
}

long
pii_json_nul(const char *t, size_t len, char *key, size_t keylen)
{
	size_t i, start = 0, ks = 0, kl = 0;
	long nul = -1;
	int in = 0, nul_here = 0;

	if (keylen > 0)
		key[0] = '\0';
	if (!may_hold_nul(t, len))
		return -1;
	for (i = 0; i < len; i++) {
		if (t[i] == '\0' && nul < 0) {
			nul = (long)i;
			nul_here = in;
			if (!in) {
				key_copy(key, keylen, t + ks, kl);
				return nul;
			}
		}
		if (!in) {
			if (t[i] == '"') {
				in = 1;
				start = i + 1;
			}
			continue;
		}
		if (t[i] == '\\' && i + 1 < len) {
			if (t[i + 1] == 'u' && i + 5 < len && nul < 0 &&
			    strncmp(t + i + 2, "0000", 4) == 0) {
				nul = (long)i;
				nul_here = 1;
			}
			i++;
			continue;
		}
		if (t[i] != '"')
			continue;
		in = 0;
		/* the string names its key, or follows the key it is under */
		if (is_key(t, len, i) && (nul < 0 || nul_here)) {
			ks = start;	/* copied only if a NUL is found */
			kl = i - start;
		}
		if (nul >= 0)
			break;
	}
	if (nul >= 0)
		key_copy(key, keylen, t + ks, kl);
	if (keylen > 0)	/* the name before any escape; none without a NUL */
		key[nul >= 0 ? strcspn(key, "\\") : 0] = '\0';
	return nul;
}

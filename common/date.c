/*
 * date.c - civil dates without the C library's time-zone state.
 *
 * The day-number conversions are Howard Hinnant's public-domain
 * algorithms ("chrono-compatible low-level date algorithms"): exact for
 * every Gregorian date and free of tables.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "date.h"

int32_t
date_from_ymd(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + doe - 719468);
}

void
date_to_ymd(int32_t z, int *y, int *m, int *d)
{
	int era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
date_valid_ymd(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};
	int max;

	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	max = mdays[m - 1] + (m == 2 && is_leap(y));
	return d <= max;
}

/* Reads exactly n digits from s; returns the value or -1. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
date_parse(const char *s, int32_t *days)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0 || !date_valid_ymd(y, m, d))
		return -1;
	*days = date_from_ymd(y, m, d);
	return 0;
}

/* Writes v as exactly n decimal digits (v is already in range). */
static void
put_digits(char *out, unsigned v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
date_format(int32_t days, char out[DATE_LEN])
{
	int y, m, d;

	date_to_ymd(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = 0;
	put_digits(out, (unsigned)y, 4);
	out[4] = '-';
	put_digits(out + 5, (unsigned)m, 2);
	out[7] = '-';
	put_digits(out + 8, (unsigned)d, 2);
	out[10] = '\0';
}

void
date_format_uk(int32_t days, char out[DATE_LEN])
{
	char iso[DATE_LEN];

	date_format(days, iso);
	snprintf(out, DATE_LEN, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
}

/* Reads 1 to max digits; returns the value, -1 if none; *s moves on. */
static int
some_digits(const char **s, int max)
{
	int v = 0, n = 0;

	while (n < max && isdigit((unsigned char)**s)) {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	return n > 0 ? v : -1;
}

int
date_uk_to_iso(const char *s, char out[DATE_LEN])
{
	int d, m, y;

	if ((d = some_digits(&s, 2)) < 0 || *s++ != '/' ||
	    (m = some_digits(&s, 2)) < 0 || *s++ != '/' ||
	    strlen(s) != 4 || (y = some_digits(&s, 4)) < 1000 || *s != '\0')
		return -1;
	snprintf(out, DATE_LEN, "%04d-%02d-%02d", y, m % 100, d % 100);
	return 0;
}

int
date_why_unreal(const char *s, char *out, size_t len)
{
	static const char *const months[] = {"January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December"};
	int y, m, d, max;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    (y = digits(s, 4)) < 0 || (m = digits(s + 5, 2)) < 0 ||
	    (d = digits(s + 8, 2)) < 0 || date_valid_ymd(y, m, d))
		return -1;
	if (m < 1 || m > 12) {
		snprintf(out, len, "there is no month %d", m);
		return 0;
	}
	for (max = 31; max > 28 && !date_valid_ymd(y, m, max); max--)
		;
	if (d == 0)
		snprintf(out, len, "there is no day 0");
	else
		snprintf(out, len, "%s %d has %d days", months[m - 1], y, max);
	return 0;
}

int32_t
date_today(time_t now)
{
	int64_t t = (int64_t)now;

	return (int32_t)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

int
time_parse(const char *s, int64_t *secs)
{
	int32_t days;
	char date[DATE_LEN];
	int hh, mm, ss, off = 0;
	const char *p;

	if (strlen(s) < 20)
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (date_parse(date, &days) != 0)
		return -1;
	if (s[10] != 'T' && s[10] != 't')
		return -1;
	hh = digits(s + 11, 2);
	mm = digits(s + 14, 2);
	ss = digits(s + 17, 2);
	if (s[13] != ':' || s[16] != ':' || hh < 0 || hh > 23 || mm < 0 ||
	    mm > 59 || ss < 0 || ss > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh = digits(p + 1, 2), om;

		if (oh < 0 || p[3] != ':' || (om = digits(p + 4, 2)) < 0 ||
		    oh > 23 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	if (ss == 60)
		ss = 59;	/* a leap second reads as the second before */
	*secs = (int64_t)days * 86400 + hh * 3600 + mm * 60 + ss - off;
	return 0;
}

void
time_format(int64_t secs, char out[TIME_LEN])
{
	int32_t days = (int32_t)(secs >= 0 ? secs / 86400 :
	    (secs - 86399) / 86400);
	int64_t rem = secs - (int64_t)days * 86400;

	date_format(days, out);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(rem / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(rem / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(rem % 60), 2);
	out[19] = 'Z';
	out[20] = '\0';
}

/*
 * date.h - calendar dates as day numbers, and RFC 3339 UTC times.
 *
 * A date is held as the number of days since 1970-01-01 (proleptic
 * Gregorian), so comparing and subtracting dates is integer arithmetic.
 */
#ifndef PCMDS_DATE_H
#define PCMDS_DATE_H

#include <stdint.h>
#include <time.h>

#define DATE_LEN	11	/* "YYYY-MM-DD" + NUL */
#define TIME_LEN	21	/* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

/* Earliest date the data set accepts: social prescribing records from 2015. */
#define DATE_EPOCH_MIN	16436	/* 2015-01-01 */

int32_t	 date_from_ymd(int y, int m, int d);
void	 date_to_ymd(int32_t days, int *y, int *m, int *d);
int	 date_valid_ymd(int y, int m, int d);
/* Parses exactly "YYYY-MM-DD" into *days; returns 0 or -1. */
int	 date_parse(const char *, int32_t *days);
void	 date_format(int32_t days, char out[DATE_LEN]);
/* "DD/MM/YYYY", the way people in the UK write dates. */
void	 date_format_uk(int32_t days, char out[DATE_LEN]);
/*
 * A date as people type it, DD/MM/YYYY (or D/M/YYYY), rewritten
 * YYYY-MM-DD without judging it, so that the validator can say "not a
 * real date" of 31/11/2026. Returns 0, or -1 (out untouched) when s is
 * not written that way.
 */
int	 date_uk_to_iso(const char *s, char out[DATE_LEN]);
/*
 * Why text shaped YYYY-MM-DD is not a real date ("November 2026 has 30
 * days"); 0, or -1 when it is a real date or not shaped so.
 */
int	 date_why_unreal(const char *s, char *out, size_t len);
/* Today's date in UTC for the given clock reading. */
int32_t	 date_today(time_t now);

/*
 * Parses an RFC 3339 time with a "Z" or numeric offset, optional fraction
 * of a second, into seconds since the epoch. Returns 0 or -1.
 */
int	 time_parse(const char *, int64_t *secs);
void	 time_format(int64_t secs, char out[TIME_LEN]);

#endif

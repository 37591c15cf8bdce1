/* timeutil.h: calendar arithmetic on UTC, independent of the process's time zone and locale
 * (gmtime/timegm consult TZ state; these never do). Shared by the signer, the model's
 * timestamp handling and the credential providers. */
#ifndef IVS_TIMEUTIL_H
#define IVS_TIMEUTIL_H

#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31). */
int64_t ivs_days_from_civil(int64_t year, int month, int day);

/* The proleptic Gregorian date of a day number counted from 1970-01-01. */
void ivs_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* Splits seconds since the epoch into a day number and the seconds into that day (0..86399),
 * rounding towards negative infinity so times before 1970 work too. */
void ivs_split_epoch(int64_t t, int64_t *days, int64_t *seconds_of_day);

/* 1 when day is a valid day of month in year (leap years included), else 0. */
int ivs_valid_date(int64_t year, int month, int day);

/* What ivs_parse_iso8601 accepts beyond "YYYY-MM-DDThh:mm:ss[.fff](Z|±hh[:]mm)". */
enum {
    IVS_ISO8601_DATE_ONLY = 1,     /* "YYYY-MM-DD" alone is midnight UTC (model timestamps) */
    IVS_ISO8601_ZONE_OPTIONAL = 2, /* a time without a zone is UTC (credential documents) */
};

/*
 * The one ISO 8601 reader of the library (model timestamps, credential expirations). 'T', 't'
 * or a space separates date and time; '.' or ',' starts the fraction; second 60 (a leap
 * second) is accepted. On success *seconds is the whole seconds since the epoch and *nanos
 * the fraction's first nine digits (either may be NULL); returns 0, or -1 for anything else.
 */
int ivs_parse_iso8601(const char *s, unsigned flags, int64_t *seconds, long *nanos);

#endif

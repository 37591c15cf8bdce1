#include "timeutil.h"

/* Howard Hinnant's days_from_civil / civil_from_days: exact for every proleptic Gregorian date,
 * with no table and no loop. */
int64_t ivs_days_from_civil(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void ivs_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

void ivs_split_epoch(int64_t t, int64_t *days, int64_t *seconds_of_day)
{
    int64_t d = t / 86400, s = t % 86400;
    if (s < 0) {
        s += 86400;
        d -= 1;
    }
    *days = d;
    *seconds_of_day = s;
}

int ivs_valid_date(int64_t year, int month, int day)
{
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1])
        return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return !(month == 2 && day == 29 && !leap);
}

/* Reads exactly n digits into *value; -1 when they are not all digits. */
static int s_digits(const char **p, int n, int *value)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *value = v;
    return 0;
}

int ivs_parse_iso8601(const char *s, unsigned flags, int64_t *seconds, long *nanos)
{
    if (!s)
        return -1;
    const char *p = s;
    int year, month, day, hour, minute, second;
    if (s_digits(&p, 4, &year) || *p++ != '-' || s_digits(&p, 2, &month) || *p++ != '-' ||
        s_digits(&p, 2, &day) || !ivs_valid_date(year, month, day))
        return -1;
    int64_t t = ivs_days_from_civil(year, month, day) * 86400;
    long frac = 0;
    if (*p == '\0') {
        if (!(flags & IVS_ISO8601_DATE_ONLY))
            return -1;
        goto done;
    }
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (s_digits(&p, 2, &hour) || hour > 23 || *p++ != ':' || s_digits(&p, 2, &minute) ||
        minute > 59 || *p++ != ':' || s_digits(&p, 2, &second) || second > 60)
        return -1;
    if (*p == '.' || *p == ',') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        long scale = 100000000;
        for (; *p >= '0' && *p <= '9'; p++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (s_digits(&p, 2, &oh) || oh > 23)
            return -1;
        if (*p == ':')
            p++;
        if (s_digits(&p, 2, &om) || om > 59)
            return -1;
        offset = sign * (oh * 3600 + om * 60);
    } else if (!(flags & IVS_ISO8601_ZONE_OPTIONAL)) {
        return -1; /* a time without a zone is ambiguous */
    }
    if (*p != '\0')
        return -1;
    t += hour * 3600 + minute * 60 + second - offset;
done:
    if (seconds)
        *seconds = t;
    if (nanos)
        *nanos = frac;
    return 0;
}

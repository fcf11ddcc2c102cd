/* timeutil.c - the TIME argument of the command line and the times that
 * aofroll prints (see timeutil.h).
 *
 * A TIME names one second: restore, log, ls and timeline all take it. It is
 * written in one of three ways:
 *
 *   2026-11-20T15:12:01Z, 2026-11-20T15:12:01+01:00   RFC 3339 (UTC or offset)
 *   2026-11-20 15:12:01, 2026-11-20T15:12:01          local time of the process
 *   @1763651521                                       unix seconds (@-86400: before 1970)
 *
 * Fractional seconds are accepted and dropped: the archive's resolution is
 * one second. Zoned times go through timegm(), local times through mktime()
 * with tm_isdst = -1 so that the zone rules (TZ, /etc/localtime) decide
 * whether daylight saving applies. A local time that falls into the hour
 * skipped when clocks go forward names no instant, one in the hour repeated
 * when they go back names two: both are refused with a hint rather than
 * silently moved, since a restore point must be exact. The zone itself is process state owned by main (and
 * by tests, which may set TZ and call tzset()); nothing here changes it. */
#include "timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TIME_FORMS "expected RFC 3339 (2026-11-20T15:12:01Z), local \"2026-11-20 15:12:01\" or @UNIX"

/* The broken-down fields of a written TIME. */
struct time_fields {
    int year, month, day, hour, minute, second;
    int zoned;                      /* Z or an offset was given */
    int offset_sign;                /* +1 east of UTC, -1 west */
    int offset_hour, offset_minute; /* when zoned */
};

/* ---------------------------------------------------------------------
 * Scanning
 * ------------------------------------------------------------------- */

/* Exactly `count` decimal digits at *p into *out; advances *p. */
static int time_digits(const char **p, int count, int *out)
{
    int v = 0;
    int i;

    for (i = 0; i < count; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += count;
    *out = v;
    return 0;
}

static int time_expect(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

/* "@" followed by decimal digits, with a '-' before them for the seconds
 * before 1970 (what time_format_utc prints for years it cannot write). */
static int time_scan_unix(const char *text, int64_t *out)
{
    const char *p = text + 1;
    int negative = *p == '-';
    uint64_t v = 0;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

    p += negative;
    if (*p == '\0')
        return -1;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (limit - (uint64_t)(*p - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = negative ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

/* YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+HH:MM|-HH:MM]; syntax only. */
static int time_scan_fields(const char *text, struct time_fields *f)
{
    const char *p = text;

    memset(f, 0, sizeof(*f));
    if (time_digits(&p, 4, &f->year) < 0 || time_expect(&p, '-') < 0 || time_digits(&p, 2, &f->month) < 0 ||
        time_expect(&p, '-') < 0 || time_digits(&p, 2, &f->day) < 0)
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (time_digits(&p, 2, &f->hour) < 0 || time_expect(&p, ':') < 0 || time_digits(&p, 2, &f->minute) < 0 ||
        time_expect(&p, ':') < 0 || time_digits(&p, 2, &f->second) < 0)
        return -1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        f->zoned = 1;
        p++;
    } else if (*p == '+' || *p == '-') {
        f->offset_sign = *p == '-' ? -1 : 1;
        p++;
        if (time_digits(&p, 2, &f->offset_hour) < 0 || time_expect(&p, ':') < 0 ||
            time_digits(&p, 2, &f->offset_minute) < 0)
            return -1;
        f->zoned = 1;
    }
    return *p == '\0' ? 0 : -1;
}

static int time_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int time_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return month == 2 && time_is_leap(year) ? 29 : days[month - 1];
}

static int time_check_ranges(const char *text, const struct time_fields *f, struct err *e)
{
    if (f->month < 1 || f->month > 12)
        return err_set(e, ERR_USAGE, "invalid time \"%s\": month %02d is out of range (01 to 12)", text,
                       f->month);
    if (f->day < 1 || f->day > time_days_in_month(f->year, f->month))
        return err_set(e, ERR_USAGE, "invalid time \"%s\": day %02d does not exist in %04d-%02d", text,
                       f->day, f->year, f->month);
    if (f->hour > 23)
        return err_set(e, ERR_USAGE, "invalid time \"%s\": hour %02d is out of range (00 to 23)", text,
                       f->hour);
    if (f->minute > 59)
        return err_set(e, ERR_USAGE, "invalid time \"%s\": minute %02d is out of range (00 to 59)", text,
                       f->minute);
    if (f->second > 60)
        return err_set(e, ERR_USAGE, "invalid time \"%s\": second %02d is out of range (00 to 60)", text,
                       f->second);
    if (f->offset_hour > 23 || f->offset_minute > 59)
        return err_set(e, ERR_USAGE, "invalid time \"%s\": offset %c%02d:%02d is out of range", text,
                       f->offset_sign < 0 ? '-' : '+', f->offset_hour, f->offset_minute);
    return 0;
}

/* ---------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------- */

static int time_fields_match(const struct tm *tm, const struct time_fields *f)
{
    return tm->tm_year == f->year - 1900 && tm->tm_mon == f->month - 1 && tm->tm_mday == f->day &&
           tm->tm_hour == f->hour && tm->tm_min == f->minute;
}

/* "+01:00" for a UTC offset in seconds. */
static void time_format_offset(long gmtoff, char *buf, size_t n)
{
    long abs_off = gmtoff < 0 ? -gmtoff : gmtoff;

    snprintf(buf, n, "%c%02ld:%02ld", gmtoff < 0 ? '-' : '+', abs_off / 3600, abs_off % 3600 / 60);
}

/* The local time `tm` (seconds 0-59) as unix seconds. A time skipped by a
 * daylight saving change names no instant; a time repeated by one names
 * two. Both are refused: a restore point must be exact. */
static int time_local_to_unix(const char *text, const struct time_fields *f, const struct tm *fields,
                              int64_t *out, struct err *e)
{
    struct tm tm = *fields;
    struct tm other = *fields;
    char off1[24], off2[24];
    time_t t, t2;

    tm.tm_isdst = -1;
    errno = 0;
    t = mktime(&tm);
    if (t == (time_t)-1 && errno == EOVERFLOW)
        return err_set(e, ERR_USAGE, "invalid time \"%s\": out of range for the local time zone", text);
    /* mktime() moves a time inside a spring-forward gap by the size of the
     * gap: the fields then no longer match what was written. */
    if (!time_fields_match(&tm, f))
        return err_set(e, ERR_USAGE,
                       "invalid time \"%s\": does not exist in the local time zone (skipped by a daylight "
                       "saving change); HINT: give the time in UTC or with an offset",
                       text);
    /* In the hour repeated when clocks go back, the same fields are valid
     * with the other daylight saving flag too, at another instant. */
    other.tm_isdst = tm.tm_isdst > 0 ? 0 : 1;
    t2 = mktime(&other);
    if (t2 != (time_t)-1 && t2 != t && time_fields_match(&other, f) &&
        other.tm_isdst == (tm.tm_isdst > 0 ? 0 : 1)) {
        const struct tm *first = t < t2 ? &tm : &other;
        const struct tm *second = t < t2 ? &other : &tm;

        time_format_offset(first->tm_gmtoff, off1, sizeof(off1));
        time_format_offset(second->tm_gmtoff, off2, sizeof(off2));
        return err_set(e, ERR_USAGE,
                       "invalid time \"%s\": ambiguous in the local time zone (repeated by a daylight saving "
                       "change); HINT: give an offset: %04d-%02d-%02dT%02d:%02d:%02d%s (first) or "
                       "%04d-%02d-%02dT%02d:%02d:%02d%s (second)",
                       text, f->year, f->month, f->day, f->hour, f->minute, f->second, off1, f->year,
                       f->month, f->day, f->hour, f->minute, f->second, off2);
    }
    *out = (int64_t)t;
    return 0;
}

int time_parse(const char *text, int64_t *out, struct err *e)
{
    struct time_fields f;
    struct tm tm;
    int64_t t = 0;
    int leap_second;

    if (text[0] == '@') {
        if (time_scan_unix(text, out) < 0)
            return err_set(e, ERR_USAGE, "invalid time \"%s\": %s", text, TIME_FORMS);
        return 0;
    }
    if (time_scan_fields(text, &f) < 0)
        return err_set(e, ERR_USAGE, "invalid time \"%s\": %s", text, TIME_FORMS);
    if (time_check_ranges(text, &f, e) < 0)
        return -1;

    /* A leap second is the instant after :59, as in unix time. Converting
     * :59 and adding one keeps the daylight saving checks exact. */
    leap_second = f.second == 60;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = f.year - 1900;
    tm.tm_mon = f.month - 1;
    tm.tm_mday = f.day;
    tm.tm_hour = f.hour;
    tm.tm_min = f.minute;
    tm.tm_sec = leap_second ? 59 : f.second;
    if (f.zoned) {
        t = (int64_t)timegm(&tm) - f.offset_sign * ((int64_t)f.offset_hour * 3600 + f.offset_minute * 60);
    } else if (time_local_to_unix(text, &f, &tm, &t, e) < 0) {
        return -1;
    }
    *out = t + leap_second;
    return 0;
}

int time_is_local(const char *text)
{
    struct time_fields f;

    return text[0] != '@' && time_scan_fields(text, &f) == 0 && !f.zoned;
}

/* ---------------------------------------------------------------------
 * Formatting
 * ------------------------------------------------------------------- */

/* "YYYY-MM-DD?HH:MM:SS" of tm with a four-digit year (strftime's %Y
 * writes 999 for the year 999, which no TIME parses back); 0 when the year
 * does not fit four digits. */
static int time_format_fields(const struct tm *tm, char sep, char *buf, size_t n)
{
    int year = tm->tm_year + 1900;

    if (tm->tm_year < -1900 || tm->tm_year > 9999 - 1900)
        return 0;
    snprintf(buf, n, "%04d-%02d-%02d%c%02d:%02d:%02d", year, tm->tm_mon + 1, tm->tm_mday, sep, tm->tm_hour,
             tm->tm_min, tm->tm_sec);
    return 1;
}

void time_format_utc(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    size_t len;

    if (t < TIME_FIRST || t > TIME_LAST || gmtime_r(&tt, &tm) == NULL ||
        !time_format_fields(&tm, 'T', buf, n)) {
        snprintf(buf, n, "@%" PRId64, t);
        return;
    }
    len = strlen(buf);
    snprintf(buf + len, n - len, "Z");
}

void time_format_local(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    size_t len;

    if (t < TIME_FIRST - 86400 || t > TIME_LAST + 86400 || localtime_r(&tt, &tm) == NULL ||
        !time_format_fields(&tm, ' ', buf, n)) {
        snprintf(buf, n, "@%" PRId64, t);
        return;
    }
    len = strlen(buf);
    time_format_offset(tm.tm_gmtoff, buf + len, n - len);
}

int64_t time_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t time_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double time_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

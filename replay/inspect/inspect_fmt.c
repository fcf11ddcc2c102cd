/* inspect_fmt.c - fast formatting for big listings (see inspect_fmt.h). */
#include "inspect_fmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

/* Digits of v, right to left, into the end of tmp; returns the first. */
static char *fmt_digits(char *end, uint64_t v)
{
    char *p = end;

    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return p;
}

static void fmt_pad(struct buf *b, size_t len, int width)
{
    static const char spaces[] = "                                ";

    while (width > 0 && (size_t)width > len) {
        size_t n = (size_t)width - len;

        if (n > sizeof(spaces) - 1)
            n = sizeof(spaces) - 1;
        buf_append(b, spaces, n);
        len += n;
    }
}

void fmt_u64(struct buf *b, uint64_t v, int width)
{
    char tmp[24];
    char *p = fmt_digits(tmp + sizeof(tmp), v);
    size_t len = (size_t)(tmp + sizeof(tmp) - p);

    fmt_pad(b, len, width);
    buf_append(b, p, len);
}

void fmt_i64(struct buf *b, int64_t v, int width)
{
    char tmp[24];
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = fmt_digits(tmp + sizeof(tmp), mag);
    size_t len;

    if (v < 0)
        *--p = '-';
    len = (size_t)(tmp + sizeof(tmp) - p);
    fmt_pad(b, len, width);
    buf_append(b, p, len);
}

void fmt_str(struct buf *b, const char *s, int width)
{
    size_t len = strlen(s);

    buf_append(b, s, len);
    fmt_pad(b, len, width);
}

void fmt_fixed(struct buf *b, double v, int decimals, int width)
{
    static const uint64_t scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    char tmp[48];
    char *end = tmp + sizeof(tmp), *p;
    uint64_t whole, frac, scaled;
    int neg = v < 0, i;
    size_t len;

    if (!isfinite(v) || fabs(v) >= 1e12 || decimals < 0 || decimals > 6) {
        len = (size_t)snprintf(tmp, sizeof(tmp), "%.*f", decimals < 0 ? 0 : decimals, v);
        fmt_pad(b, len, width);
        buf_append(b, tmp, len);
        return;
    }
    scaled = (uint64_t)(fabs(v) * (double)scale[decimals] + 0.5);
    whole = scaled / scale[decimals];
    frac = scaled % scale[decimals];
    p = end;
    for (i = 0; i < decimals; i++) {
        *--p = (char)('0' + frac % 10);
        frac /= 10;
    }
    if (decimals > 0)
        *--p = '.';
    p = fmt_digits(p, whole);
    if (neg && scaled != 0)
        *--p = '-';
    len = (size_t)(end - p);
    fmt_pad(b, len, width);
    buf_append(b, p, len);
}

void fmt_utc_init(struct fmt_utc *c)
{
    c->day = INT64_MIN;
    c->date[0] = '\0';
}

static void fmt_2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void fmt_utc(struct fmt_utc *c, struct buf *b, int64_t t)
{
    int64_t sod, day;
    char hms[9];

    if (t < TIME_FIRST || t > TIME_LAST) {
        /* as time_format_utc writes what RFC 3339 cannot */
        buf_printf(b, "@%" PRId64, t);
        return;
    }
    sod = t % 86400; /* floor division: days start at 00:00:00 before 1970 too */
    if (sod < 0)
        sod += 86400;
    day = (t - sod) / 86400;
    if (day != c->day) {
        char date[TIME_BUFSZ];

        time_format_utc(day * 86400, date, sizeof(date));
        snprintf(c->date, sizeof(c->date), "%.11s", date); /* "YYYY-MM-DDT" */
        c->day = day;
    }
    fmt_2(hms, (int)(sod / 3600));
    hms[2] = ':';
    fmt_2(hms + 3, (int)(sod / 60 % 60));
    hms[5] = ':';
    fmt_2(hms + 6, (int)(sod % 60));
    hms[8] = 'Z';
    buf_appendstr(b, c->date);
    buf_append(b, hms, sizeof(hms));
}

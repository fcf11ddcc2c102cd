/* units.c - the quantities of the configuration file: sizes, durations,
 * rates and clock times (see units.h).
 *
 * Every quantity is a non-negative decimal integer followed by a unit taken
 * from a small fixed table; there are no fractions, signs or spaces, so
 * "4MiB" and "100ms" are valid and "4.5MiB", "-1s" and "4 MiB" are not.
 * The parsers are strict so that a typo in the configuration is reported
 * instead of being read as something else. The formatters give the forms
 * that the parsers read back (units_format_size_exact,
 * units_format_duration_ms) or a rounded human form (units_format_size). */
#include "units.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Number and unit scanning
 * ------------------------------------------------------------------- */

#define NUNITS(a) (sizeof(a) / sizeof((a)[0]))

struct unit {
    const char *suffix;
    int64_t factor;
};

#define KIB INT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define TIB (GIB * 1024)

/* Spelled exactly as written here: "MiB" is a unit, "mib" is not. */
static const struct unit size_units[] = {
    {"", 1},
    {"B", 1},
    {"K", KIB},
    {"KiB", KIB},
    {"KB", INT64_C(1000)},
    {"M", MIB},
    {"MiB", MIB},
    {"MB", INT64_C(1000000)},
    {"G", GIB},
    {"GiB", GIB},
    {"GB", INT64_C(1000000000)},
    {"T", TIB},
    {"TiB", TIB},
    {"TB", INT64_C(1000000000000)},
};

/* A bare number is seconds. */
static const struct unit duration_units[] = {
    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000},
};

enum scan_result {
    SCAN_OK = 0,
    SCAN_SYNTAX,   /* empty, no digits, or an unknown unit */
    SCAN_NEGATIVE, /* starts with '-' */
    SCAN_OVERFLOW  /* does not fit in int64_t */
};

/* A number followed by exactly one of `units`: the whole of the `len`
 * bytes at `text`, which need not be NUL-terminated there. */
static enum scan_result units_scan(const char *text, size_t len, const struct unit *units, size_t nunits,
                                   int64_t *out)
{
    const char *p = text;
    const char *limit = text + len;
    int64_t value = 0;
    size_t i;

    if (p < limit && *p == '-')
        return SCAN_NEGATIVE;
    if (p == limit || *p < '0' || *p > '9')
        return SCAN_SYNTAX;
    while (p < limit && *p >= '0' && *p <= '9') {
        int digit = *p - '0';

        if (value > (INT64_MAX - digit) / 10)
            return SCAN_OVERFLOW;
        value = value * 10 + digit;
        p++;
    }
    for (i = 0; i < nunits; i++) {
        size_t slen = strlen(units[i].suffix);

        if (slen == (size_t)(limit - p) && memcmp(p, units[i].suffix, slen) == 0) {
            if (value > INT64_MAX / units[i].factor)
                return SCAN_OVERFLOW;
            *out = value * units[i].factor;
            return SCAN_OK;
        }
    }
    return SCAN_SYNTAX;
}

/* ---------------------------------------------------------------------
 * Parsers
 * ------------------------------------------------------------------- */

int units_parse_size(const char *text, int64_t *bytes, struct err *e)
{
    switch (units_scan(text, strlen(text), size_units, NUNITS(size_units), bytes)) {
    case SCAN_OK:
        return 0;
    case SCAN_NEGATIVE:
        return err_set(e, ERR_CONFIG, "invalid size \"%s\": must not be negative", text);
    case SCAN_OVERFLOW:
        return err_set(e, ERR_CONFIG, "invalid size \"%s\": too large", text);
    case SCAN_SYNTAX:
        break;
    }
    return err_set(e, ERR_CONFIG,
                   "invalid size \"%s\": expected a number followed by B, KiB, MiB, GiB or TiB", text);
}

int units_parse_duration_ms(const char *text, int64_t *ms, struct err *e)
{
    switch (units_scan(text, strlen(text), duration_units, NUNITS(duration_units), ms)) {
    case SCAN_OK:
        return 0;
    case SCAN_NEGATIVE:
        return err_set(e, ERR_CONFIG, "invalid duration \"%s\": must not be negative", text);
    case SCAN_OVERFLOW:
        return err_set(e, ERR_CONFIG, "invalid duration \"%s\": too large", text);
    case SCAN_SYNTAX:
        break;
    }
    return err_set(e, ERR_CONFIG, "invalid duration \"%s\": expected a number followed by ms, s, m, h or d",
                   text);
}

int units_parse_rate(const char *text, int64_t *bytes_per_s, struct err *e)
{
    size_t len = strlen(text);
    enum scan_result r;

    if (strcmp(text, "0") == 0) {
        *bytes_per_s = 0;
        return 0;
    }
    if (len < 2 || strcmp(text + len - 2, "/s") != 0)
        r = text[0] == '-' ? SCAN_NEGATIVE : SCAN_SYNTAX;
    else
        r = units_scan(text, len - 2, size_units, NUNITS(size_units), bytes_per_s);
    switch (r) {
    case SCAN_OK:
        return 0;
    case SCAN_NEGATIVE:
        return err_set(e, ERR_CONFIG, "invalid rate \"%s\": must not be negative", text);
    case SCAN_OVERFLOW:
        return err_set(e, ERR_CONFIG, "invalid rate \"%s\": too large", text);
    case SCAN_SYNTAX:
        break;
    }
    return err_set(e, ERR_CONFIG,
                   "invalid rate \"%s\": expected a size per second such as 32MiB/s, or 0 for unlimited",
                   text);
}

static int units_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int units_parse_clock(const char *text, int *minutes, struct err *e)
{
    int hour, minute;

    if (strlen(text) != 5 || !units_is_digit(text[0]) || !units_is_digit(text[1]) || text[2] != ':' ||
        !units_is_digit(text[3]) || !units_is_digit(text[4]))
        goto bad;
    hour = (text[0] - '0') * 10 + (text[1] - '0');
    minute = (text[3] - '0') * 10 + (text[4] - '0');
    if (hour > 23 || minute > 59)
        goto bad;
    *minutes = hour * 60 + minute;
    return 0;
bad:
    return err_set(e, ERR_CONFIG, "invalid time of day \"%s\": expected HH:MM from 00:00 to 23:59", text);
}

/* ---------------------------------------------------------------------
 * Formatters
 * ------------------------------------------------------------------- */

void units_format_size(int64_t bytes, char *buf, size_t n)
{
    static const char *const names[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    uint64_t magnitude = bytes < 0 ? (uint64_t)0 - (uint64_t)bytes : (uint64_t)bytes;
    const char *sign = bytes < 0 ? "-" : "";
    double value;
    size_t i;

    if (magnitude < 1024) {
        snprintf(buf, n, "%s%" PRIu64 " B", sign, magnitude);
        return;
    }
    value = (double)magnitude / 1024.0;
    i = 0;
    /* Move up a unit also when rounding to one decimal would show 1024.0. */
    while (value >= 1023.95 && i + 1 < NUNITS(names)) {
        value /= 1024.0;
        i++;
    }
    snprintf(buf, n, "%s%.1f %s", sign, value, names[i]);
}

void units_format_size_exact(int64_t bytes, char *buf, size_t n)
{
    static const struct unit units[] = {{"TiB", TIB}, {"GiB", GIB}, {"MiB", MIB}, {"KiB", KIB}};
    size_t i;

    for (i = 0; bytes != 0 && i < NUNITS(units); i++) {
        if (bytes % units[i].factor == 0) {
            snprintf(buf, n, "%" PRId64 "%s", bytes / units[i].factor, units[i].suffix);
            return;
        }
    }
    snprintf(buf, n, "%" PRId64, bytes);
}

void units_format_duration_ms(int64_t ms, char *buf, size_t n)
{
    static const struct unit units[] = {
        {"d", 86400 * 1000}, {"h", 3600 * 1000}, {"m", 60 * 1000}, {"s", 1000}};
    size_t i;

    for (i = 0; ms != 0 && i < NUNITS(units); i++) {
        if (ms % units[i].factor == 0) {
            snprintf(buf, n, "%" PRId64 "%s", ms / units[i].factor, units[i].suffix);
            return;
        }
    }
    if (ms == 0)
        snprintf(buf, n, "0");
    else
        snprintf(buf, n, "%" PRId64 "ms", ms);
}

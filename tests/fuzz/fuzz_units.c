/* fuzz_units.c - libFuzzer target for the quantities of the configuration
 * (common/units.c): sizes, durations, rates and clock times.
 *
 * The input is a value as written in the YAML file; it is tried as each
 * kind. A size or a duration that parses must come back the same from its
 * exact printed form (units_format_size_exact, units_format_duration_ms),
 * a rate likewise with "/s"; a clock time must lie within the day; and
 * the human form (units_format_size) must not crash on any value. The
 * first 8 bytes, as a number, are also printed and read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "units.h"

static void check_size(int64_t v)
{
    char buf[64];
    struct err e;
    int64_t back;

    err_clear(&e);
    units_format_size_exact(v, buf, sizeof(buf));
    if (units_parse_size(buf, &back, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "size %lld prints as \"%s\", which does not parse: %s", (long long)v,
                  buf, e.msg);
    fuzz_check(back == v, "size %lld prints as \"%s\", which parses as %lld", (long long)v, buf,
               (long long)back);
    units_format_size(v, buf, sizeof(buf));
}

static void check_duration(int64_t v)
{
    char buf[64];
    struct err e;
    int64_t back;

    err_clear(&e);
    units_format_duration_ms(v, buf, sizeof(buf));
    if (units_parse_duration_ms(buf, &back, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "duration %lld ms prints as \"%s\", which does not parse: %s",
                  (long long)v, buf, e.msg);
    fuzz_check(back == v, "duration %lld ms prints as \"%s\", which parses as %lld", (long long)v, buf,
               (long long)back);
}

static void check_rate(int64_t v)
{
    char buf[64], rate[80];
    struct err e;
    int64_t back;

    err_clear(&e);
    units_format_size_exact(v, buf, sizeof(buf));
    snprintf(rate, sizeof(rate), "%s/s", buf);
    if (units_parse_rate(rate, &back, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "rate %lld is \"%s\", which does not parse: %s", (long long)v, rate,
                  e.msg);
    fuzz_check(back == v, "rate %lld is \"%s\", which parses as %lld", (long long)v, rate, (long long)back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    char small[8], clock[32];
    struct err e;
    int64_t v;
    int minutes;

    err_clear(&e);
    if (units_parse_size(text, &v, &e) == 0) {
        fuzz_check(v >= 0, "negative size %lld from \"%s\"", (long long)v, text);
        check_size(v);
    } else {
        fuzz_check(e.code == ERR_CONFIG, "size: not a config error: %s", e.msg);
    }
    if (units_parse_duration_ms(text, &v, &e) == 0) {
        fuzz_check(v >= 0, "negative duration %lld from \"%s\"", (long long)v, text);
        check_duration(v);
    }
    if (units_parse_rate(text, &v, &e) == 0) {
        fuzz_check(v >= 0, "negative rate %lld from \"%s\"", (long long)v, text);
        if (v > 0)
            check_rate(v);
    }
    if (units_parse_clock(text, &minutes, &e) == 0) {
        fuzz_check(minutes >= 0 && minutes < 24 * 60, "clock \"%s\" gives %d minutes", text, minutes);
        snprintf(clock, sizeof(clock), "%02d:%02d", minutes / 60, minutes % 60);
        fuzz_check(strcmp(clock, text) == 0, "clock \"%s\" prints as \"%s\"", text, clock);
    }
    if (size >= 8) {
        memcpy(&v, data, sizeof(v));
        units_format_size(v, small, sizeof(small)); /* a buffer too small must cut, not overflow */
        if (v < 0)
            v = -(v + 1);
        check_size(v);
        check_duration(v);
        if (v > 0)
            check_rate(v);
    }
    free(text);
    return 0;
}

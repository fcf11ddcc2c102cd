/* test_units.c - unit tests for units.c: the sizes, durations, rates and
 * clock times of the configuration file.
 *
 * Every accepted spelling with its exact value, every way a quantity can be
 * wrong with its exact message (empty, negative, overflow, unknown or
 * miscased unit, trailing junk), and the formatters: the human form and the
 * exact forms, which must read back to the same value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "units.h"

#define KIB INT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define TIB (GIB * 1024)

static void assert_size(const char *text, int64_t want)
{
    struct err e;
    int64_t got = -1;

    err_clear(&e);
    if (units_parse_size(text, &got, &e) != 0)
        fail_msg("units_parse_size(\"%s\") failed: %s", text, e.msg);
    assert_int_equal(got, want);
}

static void assert_size_error(const char *text, const char *msg)
{
    struct err e;
    int64_t got = 12345;

    err_clear(&e);
    assert_int_equal(units_parse_size(text, &got, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg, msg);
    assert_int_equal(got, 12345); /* untouched on failure */
}

static void test_size_units(void **state)
{
    (void)state;
    assert_size("0", 0);
    assert_size("65536", 65536);
    assert_size("512B", 512);
    assert_size("64KiB", 64 * KIB);
    assert_size("64K", 64 * KIB);
    assert_size("64KB", 64000);
    assert_size("4MiB", 4 * MIB);
    assert_size("4M", 4 * MIB);
    assert_size("4MB", 4000000);
    assert_size("1GiB", GIB);
    assert_size("1G", GIB);
    assert_size("1GB", 1000000000);
    assert_size("1TiB", TIB);
    assert_size("2T", 2 * TIB);
    assert_size("1TB", INT64_C(1000000000000));
    assert_size("0MiB", 0);
    assert_size("007KiB", 7 * KIB);
    assert_size("9223372036854775807", INT64_MAX);
    assert_size("8388607TiB", 8388607 * TIB);
}

#define SIZE_FORMS "expected a number followed by B, KiB, MiB, GiB or TiB"

static void test_size_errors(void **state)
{
    (void)state;
    assert_size_error("", "invalid size \"\": " SIZE_FORMS);
    assert_size_error("4XB", "invalid size \"4XB\": " SIZE_FORMS);
    assert_size_error("MiB", "invalid size \"MiB\": " SIZE_FORMS);
    assert_size_error("4mib", "invalid size \"4mib\": " SIZE_FORMS);
    assert_size_error("4kb", "invalid size \"4kb\": " SIZE_FORMS);
    assert_size_error("4 MiB", "invalid size \"4 MiB\": " SIZE_FORMS);
    assert_size_error(" 4MiB", "invalid size \" 4MiB\": " SIZE_FORMS);
    assert_size_error("4MiBx", "invalid size \"4MiBx\": " SIZE_FORMS);
    assert_size_error("4.5MiB", "invalid size \"4.5MiB\": " SIZE_FORMS);
    assert_size_error("+4", "invalid size \"+4\": " SIZE_FORMS);
    assert_size_error("0x10", "invalid size \"0x10\": " SIZE_FORMS);
    assert_size_error("4MiB/s", "invalid size \"4MiB/s\": " SIZE_FORMS);
    assert_size_error("-1", "invalid size \"-1\": must not be negative");
    assert_size_error("-4MiB", "invalid size \"-4MiB\": must not be negative");
    assert_size_error("9223372036854775808", "invalid size \"9223372036854775808\": too large");
    assert_size_error("8388608TiB", "invalid size \"8388608TiB\": too large");
    assert_size_error("99999999999999999999999999B",
                      "invalid size \"99999999999999999999999999B\": too large");
}

static void assert_duration(const char *text, int64_t want_ms)
{
    struct err e;
    int64_t got = -1;

    err_clear(&e);
    if (units_parse_duration_ms(text, &got, &e) != 0)
        fail_msg("units_parse_duration_ms(\"%s\") failed: %s", text, e.msg);
    assert_int_equal(got, want_ms);
}

static void assert_duration_error(const char *text, const char *msg)
{
    struct err e;
    int64_t got = 12345;

    err_clear(&e);
    assert_int_equal(units_parse_duration_ms(text, &got, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg, msg);
    assert_int_equal(got, 12345);
}

#define DURATION_FORMS "expected a number followed by ms, s, m, h or d"

static void test_durations(void **state)
{
    (void)state;
    assert_duration("0", 0);
    assert_duration("0s", 0);
    assert_duration("100ms", 100);
    assert_duration("1s", 1000);
    assert_duration("30", 30000);
    assert_duration("5m", 300000);
    assert_duration("2h", 7200000);
    assert_duration("7d", INT64_C(604800000));
    assert_duration("1500ms", 1500);
    assert_duration("106751991167d", INT64_C(106751991167) * 86400000);

    assert_duration_error("", "invalid duration \"\": " DURATION_FORMS);
    assert_duration_error("5x", "invalid duration \"5x\": " DURATION_FORMS);
    assert_duration_error("5M", "invalid duration \"5M\": " DURATION_FORMS);
    assert_duration_error("1.5s", "invalid duration \"1.5s\": " DURATION_FORMS);
    assert_duration_error("1 s", "invalid duration \"1 s\": " DURATION_FORMS);
    assert_duration_error("1s1", "invalid duration \"1s1\": " DURATION_FORMS);
    assert_duration_error("s", "invalid duration \"s\": " DURATION_FORMS);
    assert_duration_error("1w", "invalid duration \"1w\": " DURATION_FORMS);
    assert_duration_error("-1s", "invalid duration \"-1s\": must not be negative");
    assert_duration_error("106751991168d", "invalid duration \"106751991168d\": too large");
    assert_duration_error("9223372036854775807s", "invalid duration \"9223372036854775807s\": too large");
}

static void assert_rate(const char *text, int64_t want)
{
    struct err e;
    int64_t got = -1;

    err_clear(&e);
    if (units_parse_rate(text, &got, &e) != 0)
        fail_msg("units_parse_rate(\"%s\") failed: %s", text, e.msg);
    assert_int_equal(got, want);
}

static void assert_rate_error(const char *text, const char *msg)
{
    struct err e;
    int64_t got = 12345;

    err_clear(&e);
    assert_int_equal(units_parse_rate(text, &got, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg, msg);
    assert_int_equal(got, 12345);
}

#define RATE_FORMS "expected a size per second such as 32MiB/s, or 0 for unlimited"

static void test_rates(void **state)
{
    (void)state;
    assert_rate("0", 0);
    assert_rate("0/s", 0);
    assert_rate("32MiB/s", 32 * MIB);
    assert_rate("64KiB/s", 64 * KIB);
    assert_rate("1GB/s", 1000000000);
    assert_rate("100/s", 100);

    assert_rate_error("32MiB", "invalid rate \"32MiB\": " RATE_FORMS);
    assert_rate_error("", "invalid rate \"\": " RATE_FORMS);
    assert_rate_error("/s", "invalid rate \"/s\": " RATE_FORMS);
    assert_rate_error("32MiB/m", "invalid rate \"32MiB/m\": " RATE_FORMS);
    assert_rate_error("32XiB/s", "invalid rate \"32XiB/s\": " RATE_FORMS);
    assert_rate_error("32MiB/s ", "invalid rate \"32MiB/s \": " RATE_FORMS);
    assert_rate_error("-1MiB/s", "invalid rate \"-1MiB/s\": must not be negative");
    assert_rate_error("-1", "invalid rate \"-1\": must not be negative");
    assert_rate_error("8388608TiB/s", "invalid rate \"8388608TiB/s\": too large");
}

static void test_clock(void **state)
{
    static const char *const bad[] = {"24:00", "23:60", "7:30",  "07:3",  "0730",  "07:30:00",
                                      "",      "ab:cd", "-1:00", "07-30", " 7:30", "07:30 "};
    struct err e;
    int minutes = -2;
    char msg[256];
    size_t i;

    (void)state;
    assert_int_equal(units_parse_clock("00:00", &minutes, &e), 0);
    assert_int_equal(minutes, 0);
    assert_int_equal(units_parse_clock("23:59", &minutes, &e), 0);
    assert_int_equal(minutes, 23 * 60 + 59);
    assert_int_equal(units_parse_clock("03:30", &minutes, &e), 0);
    assert_int_equal(minutes, 210);
    assert_int_equal(units_parse_clock("12:00", &minutes, &e), 0);
    assert_int_equal(minutes, 720);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        minutes = -2;
        err_clear(&e);
        assert_int_equal(units_parse_clock(bad[i], &minutes, &e), -1);
        assert_int_equal(e.code, ERR_CONFIG);
        snprintf(msg, sizeof(msg), "invalid time of day \"%s\": expected HH:MM from 00:00 to 23:59", bad[i]);
        assert_string_equal(e.msg, msg);
        assert_int_equal(minutes, -2);
    }
}

static void assert_format_size(int64_t bytes, const char *want)
{
    char buf[32];

    units_format_size(bytes, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void test_format_size(void **state)
{
    char small[4];

    (void)state;
    assert_format_size(0, "0 B");
    assert_format_size(512, "512 B");
    assert_format_size(1023, "1023 B");
    assert_format_size(1024, "1.0 KiB");
    assert_format_size(1536, "1.5 KiB");
    assert_format_size(4 * MIB, "4.0 MiB");
    assert_format_size(MIB - 1, "1.0 MiB"); /* not "1024.0 KiB" */
    assert_format_size(GIB + GIB / 4, "1.2 GiB");
    assert_format_size(3 * TIB, "3.0 TiB");
    assert_format_size(INT64_MAX, "8.0 EiB");
    assert_format_size(-2048, "-2.0 KiB");
    /* Truncated, but terminated. */
    units_format_size(4 * MIB, small, sizeof(small));
    assert_string_equal(small, "4.0");
}

static void assert_exact_size(int64_t bytes, const char *want)
{
    char buf[32];
    struct err e;
    int64_t back = -1;

    units_format_size_exact(bytes, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(units_parse_size(buf, &back, &e), 0);
    assert_int_equal(back, bytes);
}

static void assert_exact_duration(int64_t ms, const char *want)
{
    char buf[32];
    struct err e;
    int64_t back = -1;

    units_format_duration_ms(ms, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(units_parse_duration_ms(buf, &back, &e), 0);
    assert_int_equal(back, ms);
}

static void test_format_exact_round_trip(void **state)
{
    (void)state;
    assert_exact_size(0, "0");
    assert_exact_size(512, "512");
    assert_exact_size(65536, "64KiB");
    assert_exact_size(65537, "65537");
    assert_exact_size(4 * MIB, "4MiB");
    assert_exact_size(1536 * KIB, "1536KiB");
    assert_exact_size(GIB, "1GiB");
    assert_exact_size(2 * TIB, "2TiB");
    assert_exact_size(1000000, "1000000");

    assert_exact_duration(0, "0");
    assert_exact_duration(100, "100ms");
    assert_exact_duration(1000, "1s");
    assert_exact_duration(1500, "1500ms");
    assert_exact_duration(90000, "90s");
    assert_exact_duration(300000, "5m");
    assert_exact_duration(7200000, "2h");
    assert_exact_duration(INT64_C(604800000), "7d");
    assert_exact_duration(INT64_C(90000000), "25h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_units),
        cmocka_unit_test(test_size_errors),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_format_size),
        cmocka_unit_test(test_format_exact_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

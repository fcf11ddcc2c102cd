/* test_timeutil.c - unit tests for timeutil.c: the TIME argument and the
 * times aofroll prints.
 *
 * Every accepted form (RFC 3339 with Z or offsets, local time with ' ' or
 * 'T', @unix) against values computed independently, range checks
 * including leap days, trailing junk, and local time in Europe/Berlin
 * around both daylight saving changes of 2026: the skipped and the repeated
 * hour are refused with their exact messages, the hours around them map to
 * the right instants, and formatting reads back to the same second. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

#define FORMS "expected RFC 3339 (2026-11-20T15:12:01Z), local \"2026-11-20 15:12:01\" or @UNIX"

/* 2026-11-20T15:12:01Z, computed with Python's calendar.timegm */
#define T_2026_11_20_151201 INT64_C(1795187521)

static void set_tz(const char *tz)
{
    assert_int_equal(setenv("TZ", tz, 1), 0);
    tzset();
}

static void assert_time(const char *text, int64_t want)
{
    struct err e;
    int64_t got = -1;

    err_clear(&e);
    if (time_parse(text, &got, &e) != 0)
        fail_msg("time_parse(\"%s\") failed: %s", text, e.msg);
    assert_int_equal(got, want);
}

static void assert_time_error(const char *text, const char *msg)
{
    struct err e;
    int64_t got = 4242;

    err_clear(&e);
    assert_int_equal(time_parse(text, &got, &e), -1);
    assert_int_equal(e.code, ERR_USAGE);
    assert_string_equal(e.msg, msg);
    assert_int_equal(got, 4242);
}

static void assert_syntax_error(const char *text)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "invalid time \"%s\": %s", text, FORMS);
    assert_time_error(text, msg);
}

static void test_rfc3339(void **state)
{
    (void)state;
    set_tz("Europe/Berlin"); /* must not matter for zoned times */
    assert_time("2026-11-20T15:12:01Z", T_2026_11_20_151201);
    assert_time("2026-11-20t15:12:01z", T_2026_11_20_151201);
    assert_time("2026-11-20 15:12:01Z", T_2026_11_20_151201);
    assert_time("2026-11-20T15:12:01.999Z", T_2026_11_20_151201);
    assert_time("2026-11-20T15:12:01.5+01:00", T_2026_11_20_151201 - 3600);
    assert_time("2026-11-20T15:12:01+00:00", T_2026_11_20_151201);
    assert_time("2026-11-20T15:12:01-00:00", T_2026_11_20_151201);
    assert_time("2026-11-20T16:12:01+01:00", T_2026_11_20_151201);
    assert_time("2026-11-20T09:42:01-05:30", T_2026_11_20_151201);
    assert_time("2026-11-21T05:12:01+14:00", T_2026_11_20_151201);
    assert_time("1970-01-01T00:00:00Z", 0);
    assert_time("2026-12-31T23:59:59Z", INT64_C(1798761599));
    assert_time("2027-01-01T00:00:00+23:59", INT64_C(1798761600) - 23 * 3600 - 59 * 60);
}

static void test_unix(void **state)
{
    (void)state;
    assert_time("@1763651521", INT64_C(1763651521));
    assert_time("@0", 0);
    assert_time("@9223372036854775807", INT64_MAX);
    /* before 1970: what time_format_utc prints for years it cannot write */
    assert_time("@-1", -1);
    assert_time("@-62167219201", INT64_C(-62167219201));
    assert_time("@-9223372036854775808", INT64_MIN);
    assert_syntax_error("@-9223372036854775809");
    assert_syntax_error("@-");
    assert_syntax_error("@--1");
    assert_syntax_error("@");
    assert_syntax_error("@+1");
    assert_syntax_error("@12a");
    assert_syntax_error("@ 12");
    assert_syntax_error("@1.5");
    assert_syntax_error("@9223372036854775808");
    assert_syntax_error("1763651521");
}

static void test_ranges(void **state)
{
    (void)state;
    /* leap days: every 4 years, not every 100, but every 400 */
    assert_time("2024-02-29T12:00:00Z", INT64_C(1709208000));
    assert_time("2000-02-29T00:00:00Z", INT64_C(951782400));
    assert_time_error("2026-02-29T00:00:00Z",
                      "invalid time \"2026-02-29T00:00:00Z\": day 29 does not exist in 2026-02");
    assert_time_error("2100-02-29T00:00:00Z",
                      "invalid time \"2100-02-29T00:00:00Z\": day 29 does not exist in 2100-02");
    assert_time_error("2024-02-30T00:00:00Z",
                      "invalid time \"2024-02-30T00:00:00Z\": day 30 does not exist in 2024-02");
    assert_time_error("2026-04-31 10:00:00",
                      "invalid time \"2026-04-31 10:00:00\": day 31 does not exist in 2026-04");
    assert_time_error("2026-11-00T10:00:00Z",
                      "invalid time \"2026-11-00T10:00:00Z\": day 00 does not exist in 2026-11");
    assert_time("2026-12-31T10:00:00Z", INT64_C(1798761599) - 13 * 3600 - 59 * 60 - 59);
    assert_time_error("2026-13-01T00:00:00Z",
                      "invalid time \"2026-13-01T00:00:00Z\": month 13 is out of range (01 to 12)");
    assert_time_error("2026-00-01T00:00:00Z",
                      "invalid time \"2026-00-01T00:00:00Z\": month 00 is out of range (01 to 12)");
    assert_time_error("2026-11-20T24:00:00Z",
                      "invalid time \"2026-11-20T24:00:00Z\": hour 24 is out of range (00 to 23)");
    assert_time_error("2026-11-20T15:60:00Z",
                      "invalid time \"2026-11-20T15:60:00Z\": minute 60 is out of range (00 to 59)");
    assert_time_error("2026-11-20T15:12:61Z",
                      "invalid time \"2026-11-20T15:12:61Z\": second 61 is out of range (00 to 60)");
    assert_time_error("2026-11-20T15:12:01+24:00",
                      "invalid time \"2026-11-20T15:12:01+24:00\": offset +24:00 is out of range");
    assert_time_error("2026-11-20T15:12:01-05:60",
                      "invalid time \"2026-11-20T15:12:01-05:60\": offset -05:60 is out of range");
    /* a leap second is the instant after :59 */
    assert_time("2016-12-31T23:59:60Z", INT64_C(1483228800));
    assert_time("2016-12-31T23:59:59Z", INT64_C(1483228799));
}

static void test_syntax_errors(void **state)
{
    static const char *const bad[] = {
        "",
        "xyz",
        "now",
        "2026-11-20",
        "2026-11-20 15:12",
        "2026-11-20T15:12Z",
        "2026/11/20 15:12:01",
        "26-11-20 15:12:01",
        "2026-1-20 15:12:01",
        "2026-11-20_15:12:01",
        "2026-11-20  15:12:01",
        "2026-11-20T15:12:01Zx",
        "2026-11-20T15:12:01 ",
        " 2026-11-20T15:12:01Z",
        "2026-11-20T15:12:01.Z",
        "2026-11-20T15:12:01.",
        "2026-11-20T15:12:01+01",
        "2026-11-20T15:12:01+0100",
        "2026-11-20T15:12:01+1:00",
        "2026-11-20T15:12:01 UTC",
        "2026-11-20T15:12:01Z+01:00",
        "2026-11-20T15:12:01.123.456Z",
        "+2026-11-20T15:12:01Z",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_syntax_error(bad[i]);
}

static void test_local_berlin(void **state)
{
    (void)state;
    set_tz("Europe/Berlin");
    /* winter: CET, +01:00 */
    assert_time("2026-11-20 16:12:01", T_2026_11_20_151201);
    assert_time("2026-11-20T16:12:01", T_2026_11_20_151201);
    assert_time("2026-11-20t16:12:01.25", T_2026_11_20_151201);
    assert_time("2026-01-15 12:00:00", INT64_C(1768478400) - 3600);
    /* summer: CEST, +02:00 */
    assert_time("2026-07-01 12:00:00", INT64_C(1782907200) - 7200);
    /* leap day in local time */
    assert_time("2024-02-29 13:00:00", INT64_C(1709208000));
    assert_time_error("2026-02-29 13:00:00",
                      "invalid time \"2026-02-29 13:00:00\": day 29 does not exist in 2026-02");
}

static void test_local_dst_changes(void **state)
{
    (void)state;
    set_tz("Europe/Berlin");
    /* 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00Z). */
    assert_time("2026-03-29 01:59:59", INT64_C(1774745999));
    assert_time("2026-03-29 03:00:00", INT64_C(1774746000));
    assert_time_error(
        "2026-03-29 02:00:00",
        "invalid time \"2026-03-29 02:00:00\": does not exist in the local time zone (skipped by a "
        "daylight saving change); HINT: give the time in UTC or with an offset");
    assert_time_error(
        "2026-03-29 02:30:00",
        "invalid time \"2026-03-29 02:30:00\": does not exist in the local time zone (skipped by a "
        "daylight saving change); HINT: give the time in UTC or with an offset");
    /* The same instant written with an offset is fine. */
    assert_time("2026-03-29T01:59:59+01:00", INT64_C(1774745999));

    /* 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00Z): 02:xx happens twice. */
    assert_time("2026-10-25 01:59:59", INT64_C(1792886399));
    assert_time("2026-10-25 03:00:00", INT64_C(1792893600));
    assert_time_error("2026-10-25 02:30:00",
                      "invalid time \"2026-10-25 02:30:00\": ambiguous in the local time zone (repeated by a "
                      "daylight saving change); HINT: give an offset: 2026-10-25T02:30:00+02:00 (first) or "
                      "2026-10-25T02:30:00+01:00 (second)");
    assert_time_error("2026-10-25 02:00:00",
                      "invalid time \"2026-10-25 02:00:00\": ambiguous in the local time zone (repeated by a "
                      "daylight saving change); HINT: give an offset: 2026-10-25T02:00:00+02:00 (first) or "
                      "2026-10-25T02:00:00+01:00 (second)");
    /* Both readings the hint offers name the two instants an hour apart. */
    assert_time("2026-10-25T02:30:00+02:00", INT64_C(1792888200));
    assert_time("2026-10-25T02:30:00+01:00", INT64_C(1792891800));

    /* The same wall-clock times are plain in a zone without daylight saving. */
    set_tz("UTC");
    assert_time("2026-03-29 02:30:00", INT64_C(1774751400));
    assert_time("2026-10-25 02:30:00", INT64_C(1792895400));
    set_tz("Asia/Kolkata");
    assert_time("2026-10-25 02:30:00", INT64_C(1792895400) - 5 * 3600 - 1800);
}

static void test_format(void **state)
{
    char buf[TIME_BUFSZ];
    char small[8];

    (void)state;
    time_format_utc(T_2026_11_20_151201, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-20T15:12:01Z");
    time_format_utc(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");

    set_tz("Europe/Berlin");
    time_format_local(T_2026_11_20_151201, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-20 16:12:01+01:00");
    time_format_local(INT64_C(1782907200), buf, sizeof(buf));
    assert_string_equal(buf, "2026-07-01 14:00:00+02:00");
    /* the repeated hour: the offset tells the two apart */
    time_format_local(INT64_C(1792888200), buf, sizeof(buf));
    assert_string_equal(buf, "2026-10-25 02:30:00+02:00");
    time_format_local(INT64_C(1792891800), buf, sizeof(buf));
    assert_string_equal(buf, "2026-10-25 02:30:00+01:00");

    set_tz("America/St_Johns"); /* -03:30 in winter */
    time_format_local(T_2026_11_20_151201, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-20 11:42:01-03:30");
    set_tz("UTC");
    time_format_local(T_2026_11_20_151201, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-20 15:12:01+00:00");

    /* a year gmtime cannot represent falls back to @unix */
    time_format_utc(INT64_MAX, buf, sizeof(buf));
    assert_string_equal(buf, "@9223372036854775807");
    time_format_local(INT64_MAX, buf, sizeof(buf));
    assert_string_equal(buf, "@9223372036854775807");
    /* four-digit years down to 0000, which parse back; beyond, @unix */
    time_format_utc(INT64_C(-30641760000), buf, sizeof(buf));
    assert_string_equal(buf, "0999-01-01T00:00:00Z");
    time_format_utc(TIME_FIRST, buf, sizeof(buf));
    assert_string_equal(buf, "0000-01-01T00:00:00Z");
    time_format_utc(TIME_LAST, buf, sizeof(buf));
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    time_format_utc(TIME_FIRST - 1, buf, sizeof(buf));
    assert_string_equal(buf, "@-62167219201");
    time_format_utc(TIME_LAST + 1, buf, sizeof(buf));
    assert_string_equal(buf, "@253402300800");
    time_format_utc(INT64_MIN, buf, sizeof(buf));
    assert_string_equal(buf, "@-9223372036854775808");
    time_format_local(INT64_MIN, buf, sizeof(buf));
    assert_string_equal(buf, "@-9223372036854775808");
    time_format_local(INT64_C(-30641760000), buf, sizeof(buf));
    assert_string_equal(buf, "0999-01-01 00:00:00+00:00");
    /* ... and @unix parses back, before 1970 too (tests/fuzz/fuzz_time.c) */
    assert_time("@-62167219201", TIME_FIRST - 1);
    /* a short buffer is truncated but terminated */
    time_format_utc(T_2026_11_20_151201, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* Every 10 minutes across both 2026 changes in Berlin: formatting and
 * parsing again gives the same second, in both forms. */
static void test_round_trip(void **state)
{
    static const int64_t starts[] = {INT64_C(1774735200),
                                     INT64_C(1792875600)}; /* 03-28 22:00Z, 10-24 21:00Z */
    char buf[TIME_BUFSZ];
    struct err e;
    int64_t t, back;
    size_t i;

    (void)state;
    set_tz("Europe/Berlin");
    for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        for (t = starts[i]; t < starts[i] + 8 * 3600; t += 600 + 7) {
            time_format_local(t, buf, sizeof(buf));
            if (time_parse(buf, &back, &e) != 0)
                fail_msg("\"%s\": %s", buf, e.msg);
            assert_int_equal(back, t);
            time_format_utc(t, buf, sizeof(buf));
            assert_int_equal(time_parse(buf, &back, &e), 0);
            assert_int_equal(back, t);
        }
    }
}

/* Every time RFC 3339 can write formats to text that parses back to it,
 * years below 1000 included. */
static void test_round_trip_years(void **state)
{
    static const int64_t times[] = {
        TIME_FIRST,  TIME_FIRST + 86399, INT64_C(-62135596800), INT64_C(-30641760000), INT64_C(-30610224001),
        INT64_C(-1), TIME_LAST};
    char buf[TIME_BUFSZ];
    struct err e;
    int64_t back;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        time_format_utc(times[i], buf, sizeof(buf));
        if (time_parse(buf, &back, &e) != 0)
            fail_msg("\"%s\": %s", buf, e.msg);
        assert_int_equal(back, times[i]);
    }
}

static void test_clocks(void **state)
{
    int64_t before, now, now_ms, m1, m2;
    double s1, s2;

    (void)state;
    before = (int64_t)time(NULL);
    now = time_now();
    now_ms = time_now_ms();
    assert_true(now >= before && now <= before + 1);
    assert_true(now_ms / 1000 >= now && now_ms / 1000 <= now + 1);
    m1 = time_monotonic_ms();
    m2 = time_monotonic_ms();
    assert_true(m1 > 0);
    assert_true(m2 >= m1);
    /* the same clock in seconds, for step timings */
    s1 = time_monotonic();
    s2 = time_monotonic();
    assert_true(s2 >= s1);
    assert_true(s1 * 1000 >= (double)m2 - 1 && s1 * 1000 <= (double)m2 + 1000);
}

/* Which TIMEs are local: a date and time without Z or an offset. */
static void test_is_local(void **state)
{
    (void)state;
    assert_true(time_is_local("2026-11-20 15:12:01"));
    assert_true(time_is_local("2026-11-20T15:12:01"));
    assert_false(time_is_local("2026-11-20T15:12:01Z"));
    assert_false(time_is_local("2026-11-20T15:12:01+01:00"));
    assert_false(time_is_local("@1763651521"));
    assert_false(time_is_local("now"));
    assert_false(time_is_local("yesterday"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),          cmocka_unit_test(test_unix),
        cmocka_unit_test(test_ranges),           cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_local_berlin),     cmocka_unit_test(test_local_dst_changes),
        cmocka_unit_test(test_format),           cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_years), cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_is_local),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

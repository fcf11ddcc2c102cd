/* test_chart.c - the timeline chart's axes (replay/chart.c): round value
 * steps (1, 2 or 5 times a power of ten, of 1024-multiples for bytes),
 * round time steps that are multiples of the bucket, and markers in the
 * SVG and the text chart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chart.h"

static void test_nice_step(void **state)
{
    (void)state;
    assert_int_equal(chart_nice_step(60, 4, 1), 20);
    assert_int_equal(chart_nice_step(100, 4, 1), 50);
    assert_int_equal(chart_nice_step(7, 4, 1), 2);
    assert_int_equal(chart_nice_step(3, 4, 1), 1);
    assert_int_equal(chart_nice_step(0, 4, 1), 1);
    assert_int_equal(chart_nice_step(13900, 4, 1024), 5 * 1024);
    assert_int_equal(chart_nice_step(3 << 20, 4, 1 << 20), 1 << 20);
    assert_int_equal(chart_nice_step(900 << 20, 4, 1 << 20), 500 << 20);
    assert_int_equal(chart_nice_step(3 << 19, 4, 1 << 20), 1 << 19); /* 0.5 MiB */
}

static void test_time_step(void **state)
{
    (void)state;
    assert_int_equal(chart_time_step(9, 1), 2);
    assert_int_equal(chart_time_step(60, 1), 10);
    assert_int_equal(chart_time_step(600, 10), 120);
    assert_int_equal(chart_time_step(120, 10), 30); /* 10 s is too dense, 15 s no multiple of 10 */
    assert_int_equal(chart_time_step(3 * 3600, 60), 1800);
    assert_int_equal(chart_time_step(7 * 86400, 3600), 86400);
    assert_int_equal(chart_time_step(3 * 86400, 3600) % 3600, 0);
}

static void test_markers(void **state)
{
    struct chart_bucket b[3] = {{1000, 10, 1}, {1001, 0, 0}, {1002, 30, 3}};
    struct chart_marker m[2] = {{1001, CHART_MARK_BARRIER, "barrier"},
                                {1002, CHART_MARK_COMMAND, "flushall"}};
    struct chart c = {"t", 1, b, 3, m, 2};
    struct buf out = BUF_INIT;

    (void)state;
    chart_svg(&c, &out);
    assert_non_null(strstr(out.data, "<g class=\"marker barrier\" data-time=\"1970-01-01T00:16:41Z\">"));
    assert_non_null(strstr(out.data, "<g class=\"marker command\" data-time=\"1970-01-01T00:16:42Z\">"));
    buf_reset(&out);
    chart_text(&c, 10, &out);
    assert_non_null(strstr(out.data, "1970-01-01 00:16:41Z  "));
    assert_non_null(strstr(out.data, "< barrier\n"));
    assert_non_null(strstr(out.data, "< flushall\n"));
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_step),
        cmocka_unit_test(test_time_step),
        cmocka_unit_test(test_markers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

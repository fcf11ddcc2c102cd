/* test_json.c - the streaming JSON writer behind every --json (replay/inspect/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inspect_fmt.h"
#include "json.h"

static void test_nesting_and_commas(void **state)
{
    struct json j;

    (void)state;
    json_init(&j, NULL);
    json_object_begin(&j);
    json_kv_string(&j, "instance", "sessions");
    json_key(&j, "chunks");
    json_array_begin(&j);
    json_object_begin(&j);
    json_kv_int(&j, "id", 1);
    json_kv_bool(&j, "straddles", 1);
    json_object_end(&j);
    json_object_begin(&j);
    json_kv_int(&j, "id", 2);
    json_key(&j, "empty");
    json_array_begin(&j);
    json_array_end(&j);
    json_object_end(&j);
    json_array_end(&j);
    json_key(&j, "none");
    json_null(&j);
    json_object_end(&j);
    assert_string_equal(j.out.data, "{\"instance\":\"sessions\",\"chunks\":[{\"id\":1,\"straddles\":true},"
                                    "{\"id\":2,\"empty\":[]}],\"none\":null}");
    json_free(&j);
}

static void test_scalars(void **state)
{
    struct json j;

    (void)state;
    json_init(&j, NULL);
    json_array_begin(&j);
    json_int(&j, INT64_MIN);
    json_uint(&j, UINT64_MAX);
    json_double(&j, 2.5, 3);
    json_double(&j, NAN, 3);
    json_double(&j, INFINITY, 1);
    json_bool(&j, 0);
    json_string(&j, NULL);
    json_time(&j, 1763651521);
    json_time(&j, 0);
    json_array_end(&j);
    assert_string_equal(j.out.data, "[-9223372036854775808,18446744073709551615,2.500,null,null,false,null,"
                                    "\"2025-11-20T15:12:01Z\",null]");
    json_free(&j);
}

static void check_escape(const char *in, size_t len, const char *want)
{
    struct buf b = BUF_INIT;

    json_escape(&b, in, len);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void test_escaping(void **state)
{
    (void)state;
    check_escape("plain text", 10, "\"plain text\"");
    check_escape("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
    check_escape("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    /* other controls, NUL and DEL as \u00XX */
    check_escape("\x00\x01\x1f\x7f", 4, "\"\\u0000\\u0001\\u001f\\u007f\"");
    /* bytes above 0x7f map to U+0080..U+00FF (Latin-1: lossless) */
    check_escape("caf\xc3\xa9\xff", 6, "\"caf\\u00c3\\u00a9\\u00ff\"");
    check_escape("", 0, "\"\"");
}

static void test_keys_escaped(void **state)
{
    struct json j;

    (void)state;
    json_init(&j, NULL);
    json_object_begin(&j);
    json_kv_string(&j, "we\"ird", "x");
    json_key(&j, "bin");
    json_string_len(&j, "\r\n\0", 3);
    json_object_end(&j);
    assert_string_equal(j.out.data, "{\"we\\\"ird\":\"x\",\"bin\":\"\\r\\n\\u0000\"}");
    json_free(&j);
}

/* With a FILE attached, output is flushed in pieces and arrives whole. */
static void test_streaming(void **state)
{
    struct json j;
    struct err e;
    char *mem = NULL;
    size_t memlen = 0, expect_len;
    FILE *fp;
    int i, n = 20000;

    (void)state;
    fp = open_memstream(&mem, &memlen);
    assert_non_null(fp);
    json_init(&j, fp);
    json_array_begin(&j);
    for (i = 0; i < n; i++)
        json_int(&j, i % 10);
    json_array_end(&j);
    /* the writer never held the whole document */
    assert_true(j.out.len < JSON_FLUSH_AT);
    assert_int_equal(json_finish(&j, &e), 0);
    json_free(&j);
    fclose(fp);
    /* "[" + n digits + (n-1) commas + "]" + "\n" */
    expect_len = 1 + (size_t)n + (size_t)n - 1 + 1 + 1;
    assert_int_equal(memlen, expect_len);
    assert_memory_equal(mem, "[0,1,2,3", 8);
    assert_memory_equal(mem + memlen - 6, ",8,9]\n", 6);
    free(mem);
}

/* A failed write is reported once, at the end. */
static void test_write_error(void **state)
{
    struct json j;
    struct err e;
    FILE *fp;
    int i;

    (void)state;
    fp = fopen("/dev/full", "w");
    if (fp == NULL)
        skip();
    json_init(&j, fp);
    json_array_begin(&j);
    for (i = 0; i < 30000; i++)
        json_string(&j, "filler");
    json_array_end(&j);
    assert_int_equal(json_finish(&j, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_string_equal(e.msg, "cannot write the json output: No space left on device");
    json_free(&j);
    fclose(fp);
}

/* The formatting helpers behind json_int/json_double/json_time and ls. */
static void test_fmt(void **state)
{
    struct fmt_utc utc;
    struct buf b = BUF_INIT;
    char want[64];
    int64_t t;

    (void)state;
    fmt_u64(&b, 0, 0);
    fmt_u64(&b, UINT64_MAX, 0);
    fmt_i64(&b, -42, 5);
    fmt_i64(&b, INT64_MIN, 0);
    fmt_str(&b, "ab", 4);
    buf_appendstr(&b, "|");
    assert_string_equal(b.data, "018446744073709551615  -42-9223372036854775808ab  |");
    buf_reset(&b);
    fmt_fixed(&b, 3.14159, 2, 6);
    fmt_fixed(&b, 2.005, 0, 0);
    buf_appendstr(&b, "|");
    fmt_fixed(&b, 0.999, 2, 0);
    buf_appendstr(&b, "|");
    fmt_fixed(&b, -1.5, 1, 0);
    buf_appendstr(&b, "|");
    fmt_fixed(&b, 1e15, 1, 0);
    assert_string_equal(b.data, "  3.142|1.00|-1.5|1000000000000000.0");
    /* the cached UTC formatter agrees with gmtime across day edges */
    fmt_utc_init(&utc);
    for (t = 1763596800 - 2; t < 1763596800 + 2; t++) {
        time_t tt = (time_t)t;
        struct tm tm;

        buf_reset(&b);
        fmt_utc(&utc, &b, t);
        gmtime_r(&tt, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        assert_string_equal(b.data, want);
    }
    buf_reset(&b);
    fmt_utc(&utc, &b, -1);
    assert_string_equal(b.data, "1969-12-31T23:59:59Z");
    /* four-digit years before 1000; no overflow at the extremes */
    buf_reset(&b);
    fmt_utc(&utc, &b, INT64_C(-30641760000) + 3661);
    assert_string_equal(b.data, "0999-01-01T01:01:01Z");
    buf_reset(&b);
    fmt_utc(&utc, &b, INT64_MIN);
    assert_string_equal(b.data, "@-9223372036854775808");
    buf_reset(&b);
    fmt_utc(&utc, &b, INT64_MAX);
    assert_string_equal(b.data, "@9223372036854775807");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nesting_and_commas),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_keys_escaped),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_fmt),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_buf.c - unit tests for the growable buffer (common/buf.c).
 *
 * The buffer promises a NUL after its bytes at all times once it holds
 * memory: callers read it as a C string. A first buf_reserve() used to
 * leave fresh, unterminated memory behind (found by
 * tests/fuzz/fuzz_s3_list.c: s3_xml_decode of empty text, then read as a
 * string). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"

static void test_reserve_terminates(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    buf_reserve(&b, 100);
    assert_non_null(b.data);
    assert_int_equal(b.len, 0);
    assert_true(b.cap >= 101);
    assert_string_equal(b.data, "");
    buf_appendstr(&b, "abc");
    buf_reserve(&b, 1000); /* growing keeps the string */
    assert_string_equal(b.data, "abc");
    buf_free(&b);
    assert_null(b.data);
}

static void test_append_printf_reset(void **state)
{
    struct buf b = BUF_INIT;
    size_t i;

    (void)state;
    buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    for (i = 0; i < 1000; i++)
        buf_printf(&b, "%zu,", i);
    assert_int_equal(b.data[b.len], '\0');
    assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
    buf_printf(&b, "%s", ""); /* nothing to add leaves it as it was */
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_terminates),
        cmocka_unit_test(test_append_printf_reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

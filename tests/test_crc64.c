/* test_crc64.c - unit tests for crc64.c: Redis's CRC-64/Jones.
 *
 * The check value Redis's own crc64.c tests against, the lookup table
 * rebuilt bit by bit from Jones's polynomial as Redis's reference
 * implementation (_crc64: MSB-first with reflected input and output)
 * computes it, and that continuing a CRC over pieces gives the CRC of the
 * whole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "crc64.h"

#define JONES_POLY UINT64_C(0xad93d23594c935a9)

/* Redis's bit-at-a-time reference (crc64.c, _crc64): input bits taken
 * least significant first, the register shifted left through the plain
 * polynomial, and the result reflected. */
static uint64_t reflect64(uint64_t v)
{
    uint64_t r = 0;

    for (int i = 0; i < 64; i++) {
        r = r << 1 | (v & 1);
        v >>= 1;
    }
    return r;
}

static uint64_t crc64_reference(uint64_t crc, const unsigned char *p, size_t len)
{
    crc = reflect64(crc);
    for (size_t i = 0; i < len; i++) {
        for (unsigned bit = 1; bit & 0xff; bit <<= 1) {
            int top = (crc >> 63) & 1;

            if (p[i] & bit)
                top = !top;
            crc <<= 1;
            if (top)
                crc ^= JONES_POLY;
        }
    }
    return reflect64(crc);
}

static void test_check_value(void **state)
{
    (void)state;
    assert_int_equal(crc64(0, "123456789", 9), UINT64_C(0xe9c6d914c4b8d9ca));
    assert_int_equal(crc64_reference(0, (const unsigned char *)"123456789", 9), UINT64_C(0xe9c6d914c4b8d9ca));
}

static void test_empty_is_identity(void **state)
{
    (void)state;
    assert_int_equal(crc64(0, "", 0), 0);
    assert_int_equal(crc64(UINT64_C(0x1234), "", 0), UINT64_C(0x1234));
}

static void test_table_matches_polynomial(void **state)
{
    (void)state;
    assert_int_equal(reflect64(JONES_POLY), CRC64_JONES_REFLECTED);
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;

        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ CRC64_JONES_REFLECTED : c >> 1;
        assert_int_equal(crc64_table_entry(i), c);
    }
}

static void test_matches_reference_on_every_byte(void **state)
{
    unsigned char all[512];

    (void)state;
    for (size_t i = 0; i < sizeof(all); i++)
        all[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof(all); n += 37)
        assert_int_equal(crc64(0, all, n), crc64_reference(0, all, n));
}

static void test_pieces_continue(void **state)
{
    const char *text = "The quick brown fox jumps over the lazy dog\r\n*3\r\n$3\r\nSET\r\n";
    size_t len = strlen(text);
    uint64_t whole = crc64(0, text, len);

    (void)state;
    assert_int_not_equal(whole, 0);
    for (size_t cut = 0; cut <= len; cut++)
        assert_int_equal(crc64(crc64(0, text, cut), text + cut, len - cut), whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_empty_is_identity),
        cmocka_unit_test(test_table_matches_polynomial),
        cmocka_unit_test(test_matches_reference_on_every_byte),
        cmocka_unit_test(test_pieces_continue),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

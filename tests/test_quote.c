/* test_quote.c - redis-cli style quoting of binary arguments (common/quote.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "aofscan.h"
#include "buf.h"
#include "quote.h"

static void check(const char *in, size_t len, size_t max, const char *want)
{
    struct buf b = BUF_INIT;

    quote_arg(&b, in, len, max);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    buf_free(&b);
}

static void test_plain(void **state)
{
    (void)state;
    check("hello", 5, 0, "\"hello\"");
    check("user:42 x", 9, 0, "\"user:42 x\"");
    check("", 0, 0, "\"\"");
}

static void test_escapes(void **state)
{
    (void)state;
    /* the three bytes the issue names: NUL, CR, LF */
    check("\x00\r\n", 3, 0, "\"\\x00\\r\\n\"");
    check("a\"b\\c", 5, 0, "\"a\\\"b\\\\c\"");
    check("\t\a\b", 3, 0, "\"\\t\\a\\b\"");
    /* DEL and bytes above 0x7f are not printable whatever the locale */
    check("\x7f\x80\xff", 3, 0, "\"\\x7f\\x80\\xff\"");
    /* UTF-8 text is bytes too, as redis-cli shows it */
    check("caf\xc3\xa9", 5, 0, "\"caf\\xc3\\xa9\"");
    /* printable edges */
    check(" ~", 2, 0, "\" ~\"");
    check("\x1f", 1, 0, "\"\\x1f\"");
}

static void test_elision(void **state)
{
    char big[100];

    (void)state;
    memset(big, 'a', sizeof(big));
    check(big, sizeof(big), 8, "\"aaaaaaaa\"...(100 bytes)");
    /* exactly max bytes: shown whole */
    check(big, 8, 8, "\"aaaaaaaa\"");
    /* max 0: never elided */
    {
        struct buf b = BUF_INIT;

        quote_arg(&b, big, sizeof(big), 0);
        assert_int_equal(b.len, sizeof(big) + 2);
        buf_free(&b);
    }
    /* the cut counts raw bytes, not escaped ones */
    check("\n\n\n\n", 4, 2, "\"\\n\\n\"...(4 bytes)");
}

static void test_argv(void **state)
{
    struct aofscan_arg argv[3] = {{"SET", 3}, {"k\x00y", 3}, {"v v", 3}};
    struct buf b = BUF_INIT;

    (void)state;
    quote_argv(&b, argv, 3, 0);
    assert_string_equal(b.data, "\"SET\" \"k\\x00y\" \"v v\"");
    buf_reset(&b);
    quote_argv(&b, argv, 0, 0);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

/* Names from a listing: quoted whole, elided past QUOTE_NAME_MAX, and a
 * QUOTE_NAME_BUFSZ buffer holds the worst case. */
static void test_name(void **state)
{
    char out[QUOTE_NAME_BUFSZ], name[1000];
    size_t i;

    (void)state;
    assert_string_equal(quote_name(out, sizeof(out), "live/gen-000001/x"), "\"live/gen-000001/x\"");
    assert_string_equal(quote_name(out, sizeof(out), "a\nb\033[2J"), "\"a\\nb\\x1b[2J\"");
    for (i = 0; i < sizeof(name) - 1; i++)
        name[i] = '\x01';
    name[sizeof(name) - 1] = '\0';
    quote_name(out, sizeof(out), name);
    assert_true(strlen(out) < sizeof(out) - 1);
    assert_non_null(strstr(out, "\"...(999 bytes)"));
    assert_int_equal(strncmp(out, "\"\\x01\\x01", 9), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain), cmocka_unit_test(test_escapes), cmocka_unit_test(test_elision),
        cmocka_unit_test(test_argv),  cmocka_unit_test(test_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_jsonfield.c - unit tests for jsonfield.c, the reader of the
 * container endpoint's and IMDS's credential answers: the fields it must
 * find, and hostile input it must refuse without reading past the end
 * (every case is also run from an exact-size heap copy, so that ASan sees
 * any read beyond it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "jsonfield.h"
#include "xalloc.h"

/* jsonfield_get on an exact-size copy (no NUL after it). */
static enum jsonfield_result get(const char *json, size_t len, const char *name, struct buf *out)
{
    char *copy = xmalloc(len > 0 ? len : 1);
    enum jsonfield_result r;

    memcpy(copy, json, len);
    r = jsonfield_get(copy, len, name, out);
    free(copy);
    return r;
}

static void expect(const char *json, const char *name, enum jsonfield_result want, const char *value)
{
    struct buf out = BUF_INIT;
    enum jsonfield_result r = get(json, strlen(json), name, &out);

    if (r != want)
        fail_msg("%s in %s: got %d, expected %d", name, json, r, want);
    if (value != NULL) {
        assert_int_equal(out.len, strlen(value));
        assert_string_equal(out.data, value);
    } else {
        assert_int_equal(out.len, 0);
    }
    buf_free(&out);
}

static const char ecs[] =
    "{\n"
    "  \"RoleArn\": \"arn:aws:iam::123456789012:role/aofroll\",\n"
    "  \"AccessKeyId\": \"ASIAEXAMPLE\",\n"
    "  \"SecretAccessKey\": \"wJalr\\/K7MDENG+bPx\\\"q\\\\\",\n"
    "  \"Token\": \"IQoJb3JpZ2luX2VjEXAMPLE==\",\n"
    "  \"Expiration\": \"2026-11-20T15:12:01Z\",\n"
    "  \"Nested\": {\"Token\": \"not-this-one\", \"list\": [1, -2.5e+3, true, false, null, []]}\n"
    "}\n";

static void test_fields(void **state)
{
    (void)state;
    expect(ecs, "AccessKeyId", JSONFIELD_FOUND, "ASIAEXAMPLE");
    expect(ecs, "SecretAccessKey", JSONFIELD_FOUND, "wJalr/K7MDENG+bPx\"q\\");
    expect(ecs, "Token", JSONFIELD_FOUND, "IQoJb3JpZ2luX2VjEXAMPLE==");
    expect(ecs, "Expiration", JSONFIELD_FOUND, "2026-11-20T15:12:01Z");
    expect(ecs, "Code", JSONFIELD_ABSENT, NULL);
    expect(ecs, "list", JSONFIELD_ABSENT, NULL); /* nested members are not top-level */
    expect(ecs, "Nested", JSONFIELD_NOT_STRING, NULL);
    expect("{}", "Token", JSONFIELD_ABSENT, NULL);
    expect(" { \"a\" : \"\" } ", "a", JSONFIELD_FOUND, "");
    expect("{\"a\":\"1\",\"a\":\"2\"}", "a", JSONFIELD_FOUND, "2");
    expect("{\"a\":\"1\",\"a\":2}", "a", JSONFIELD_NOT_STRING, NULL);
    expect("{\"a\":null}", "a", JSONFIELD_NOT_STRING, NULL);
    /* escapes: \u with and without surrogate pairs, to UTF-8 */
    expect("{\"k\":\"\\u00e9\\u20ac\\ud83d\\ude00\\b\\f\\n\\r\\t\"}", "k", JSONFIELD_FOUND,
           "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\b\f\n\r\t");
    /* the member name itself may be escaped */
    expect("{\"\\u0054oken\":\"x\"}", "Token", JSONFIELD_FOUND, "x");
}

static void test_hostile(void **state)
{
    static const char *const bad[] = {
        "",
        "   ",
        "[\"Token\", \"x\"]", /* not an object */
        "\"Token\"",
        "{\"Token\":\"x\"",       /* unterminated object */
        "{\"Token\":\"x}",        /* unterminated string */
        "{\"Token\":\"x\\",       /* ends inside an escape */
        "{\"Token\":\"x\\u12\"}", /* short \u */
        "{\"Token\":\"x\\uZZZZ\"}",
        "{\"Token\":\"\\ud83d\"}",        /* lone high surrogate */
        "{\"Token\":\"\\ud83d\\u0041\"}", /* high surrogate, no low one */
        "{\"Token\":\"\\ude00\"}",        /* lone low surrogate */
        "{\"Token\":\"a\\u0000b\"}",      /* a NUL in the value kept */
        "{\"Token\":\"a\\qb\"}",          /* unknown escape */
        "{\"Token\":\"a\nb\"}",           /* raw control character */
        "{\"Token\":\"x\",}",             /* trailing comma */
        "{\"Token\" \"x\"}",              /* no colon */
        "{Token:\"x\"}",                  /* bare name */
        "{\"Token\":\"x\"} {}",           /* two documents */
        "{\"Token\":\"x\"} x",
        "{\"a\":01}", /* leading zero */
        "{\"a\":1.}",
        "{\"a\":-}",
        "{\"a\":1e}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":{\"b\":}}",
        "{\"a\":'x'}",
    };
    struct buf out = BUF_INIT;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (get(bad[i], strlen(bad[i]), "Token", &out) != JSONFIELD_INVALID)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(out.len, 0);
    }
    /* a NUL byte inside the document (not as an escape) */
    assert_int_equal(get("{\"Token\":\"a\0b\"}", 14, "Token", &out), JSONFIELD_INVALID);
    assert_int_equal(jsonfield_get(NULL, 0, "Token", &out), JSONFIELD_INVALID);
    buf_free(&out);
}

/* Nesting past the limit is refused instead of recursing on: the object
 * itself and JSONFIELD_MAX_DEPTH - 1 arrays inside it are read, one more
 * array is refused, closed or not. */
static void nested(struct buf *doc, int arrays, int closed)
{
    int i;

    buf_reset(doc);
    buf_appendstr(doc, "{\"a\":");
    for (i = 0; i < arrays; i++)
        buf_appendstr(doc, "[");
    for (i = 0; closed && i < arrays; i++)
        buf_appendstr(doc, "]");
    buf_appendstr(doc, ",\"Token\":\"deep ok\"}");
}

static void test_depth(void **state)
{
    struct buf doc = BUF_INIT, out = BUF_INIT;

    (void)state;
    nested(&doc, JSONFIELD_MAX_DEPTH - 1, 1);
    assert_int_equal(get(doc.data, doc.len, "Token", &out), JSONFIELD_FOUND);
    assert_string_equal(out.data, "deep ok");
    nested(&doc, JSONFIELD_MAX_DEPTH, 1);
    assert_int_equal(get(doc.data, doc.len, "Token", &out), JSONFIELD_INVALID);
    nested(&doc, 100000, 0);
    assert_int_equal(get(doc.data, doc.len, "Token", &out), JSONFIELD_INVALID);
    buf_free(&doc);
    buf_free(&out);
}

/* Every prefix of a valid answer is invalid (truncated in transit), and
 * reading each one stays inside it. */
static void test_truncations(void **state)
{
    struct buf out = BUF_INIT;
    size_t n, len = strlen(ecs);

    (void)state;
    for (n = 0; n < len; n++) {
        enum jsonfield_result r = get(ecs, n, "Token", &out);

        /* the closing brace is followed by a newline only */
        if (n >= len - 1)
            assert_int_equal(r, JSONFIELD_FOUND);
        else if (r != JSONFIELD_INVALID)
            fail_msg("a prefix of %zu bytes was accepted", n);
    }
    buf_free(&out);
}

/* Random bytes and random mutations of a valid answer: never a crash, and
 * whatever is found is NUL-terminated text of the length returned. */
static void test_fuzz(void **state)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    struct buf out = BUF_INIT;
    char doc[sizeof(ecs)];
    int round, k;

    (void)state;
    for (round = 0; round < 20000; round++) {
        size_t len = sizeof(ecs) - 1;

        memcpy(doc, ecs, len);
        for (k = 0; k < 1 + round % 4; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            doc[x % len] = (char)(x >> 32);
        }
        if (get(doc, (size_t)(x >> 40) % (len + 1), "Token", &out) == JSONFIELD_FOUND)
            assert_int_equal(strlen(out.data), out.len);
    }
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),      cmocka_unit_test(test_hostile), cmocka_unit_test(test_depth),
        cmocka_unit_test(test_truncations), cmocka_unit_test(test_fuzz),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_objname.c - unit tests for objname.c: the archive's object names.
 *
 * Exact formats from docs/design.md, round trips through objname_parse_chunk,
 * strict rejection (with messages) of everything that is not a canonical
 * chunk name, and the property the layout exists for: byte order of the
 * names is numeric order of generation, offsets and seconds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objname.h"
#include "xalloc.h"

static struct chunk_name base_name(const char *inst, int64_t gen, uint64_t start, uint64_t end,
                                   enum base_format fmt)
{
    struct chunk_name c;

    memset(&c, 0, sizeof(c));
    snprintf(c.instance, sizeof(c.instance), "%s", inst);
    c.generation = gen;
    c.kind = CHUNK_BASE;
    c.format = fmt;
    c.start = start;
    c.end = end;
    c.first = c.last = 1763650000; /* base time */
    c.total = end;                 /* the last chunk of its base */
    return c;
}

static struct chunk_name incr_name(const char *inst, int64_t gen, uint64_t start, uint64_t end, int64_t first,
                                   int64_t last)
{
    struct chunk_name c;

    memset(&c, 0, sizeof(c));
    snprintf(c.instance, sizeof(c.instance), "%s", inst);
    c.generation = gen;
    c.kind = CHUNK_INCR;
    c.start = start;
    c.end = end;
    c.first = first;
    c.last = last;
    return c;
}

static void assert_same_chunk(const struct chunk_name *a, const struct chunk_name *b)
{
    assert_string_equal(a->instance, b->instance);
    assert_int_equal(a->generation, b->generation);
    assert_int_equal(a->kind, b->kind);
    if (a->kind == CHUNK_BASE)
        assert_int_equal(a->format, b->format);
    assert_int_equal(a->start, b->start);
    assert_int_equal(a->end, b->end);
    if (a->kind == CHUNK_INCR) {
        assert_int_equal(a->first, b->first);
        assert_int_equal(a->last, b->last);
    }
    assert_string_equal(a->seal, b->seal);
}

static void roundtrip(const struct chunk_name *c, const char *expect)
{
    char name[OBJNAME_MAX];
    struct chunk_name back;
    struct err e;

    assert_int_equal(objname_chunk(c, name, sizeof(name)), 0);
    if (expect != NULL)
        assert_string_equal(name, expect);
    err_clear(&e);
    assert_int_equal(objname_parse_chunk(name, &back, &e), 0);
    assert_same_chunk(c, &back);
}

static void test_valid_instance(void **state)
{
    char name[INSTANCE_NAME_MAX + 2];

    (void)state;
    assert_true(objname_valid_instance("sessions"));
    assert_true(objname_valid_instance("127.0.0.1-6379"));
    assert_true(objname_valid_instance("a.b_c-D9"));
    assert_true(objname_valid_instance("x"));
    assert_true(objname_valid_instance("_x"));
    assert_false(objname_valid_instance(""));
    assert_false(objname_valid_instance(NULL));
    assert_false(objname_valid_instance(".hidden"));
    assert_false(objname_valid_instance(".."));
    assert_false(objname_valid_instance("a/b"));
    assert_false(objname_valid_instance("a b"));
    assert_false(objname_valid_instance("caf\xc3\xa9"));
    assert_false(objname_valid_instance("a:b"));
    memset(name, 'n', INSTANCE_NAME_MAX);
    name[INSTANCE_NAME_MAX] = '\0';
    assert_true(objname_valid_instance(name));
    name[INSTANCE_NAME_MAX] = 'n';
    name[INSTANCE_NAME_MAX + 1] = '\0';
    assert_false(objname_valid_instance(name));
}

static void test_format_exact(void **state)
{
    struct chunk_name c;

    (void)state;
    c = base_name("sessions", 1, 0, 4194304, BASE_RDB);
    roundtrip(&c, "sessions/gen-000001/base/"
                  "00000000000000000000-00000000000004194304_1763650000_00000000000004194304.rdb.gz");
    c = base_name("cache", 42, 4194304, 5000000, BASE_AOF);
    roundtrip(&c, "cache/gen-000042/base/"
                  "00000000000004194304-00000000000005000000_1763650000_00000000000005000000.aof.gz");
    c = incr_name("sessions", 1, 0, 65536, 1763651521, 1763651522);
    roundtrip(
        &c,
        "sessions/gen-000001/incr/00000000000000000000-00000000000000065536_1763651521-1763651522.aof.gz");
    c = incr_name("h-6379", 999999, UINT64_MAX - 1, UINT64_MAX, 0, 5);
    roundtrip(
        &c, "h-6379/gen-999999/incr/18446744073709551614-18446744073709551615_0000000000-0000000005.aof.gz");
    /* beyond the padded width the number simply grows */
    c = incr_name("h", 1234567, 1, 2, 3, 12345678901);
    roundtrip(&c,
              "h/gen-1234567/incr/00000000000000000001-00000000000000000002_0000000003-12345678901.aof.gz");
    /* an empty range is a name (an empty base file) */
    c = base_name("h", 3, 0, 0, BASE_AOF);
    roundtrip(
        &c,
        "h/gen-000003/base/00000000000000000000-00000000000000000000_1763650000_00000000000000000000.aof.gz");
}

static void test_format_rejects(void **state)
{
    char name[OBJNAME_MAX];
    struct chunk_name c;

    (void)state;
    c = base_name(".bad", 1, 0, 1, BASE_RDB);
    assert_int_equal(objname_chunk(&c, name, sizeof(name)), -1);
    c = base_name("ok", 0, 0, 1, BASE_RDB);
    assert_int_equal(objname_chunk(&c, name, sizeof(name)), -1);
    c = base_name("ok", 1, 2, 1, BASE_RDB);
    assert_int_equal(objname_chunk(&c, name, sizeof(name)), -1);
    c = incr_name("ok", 1, 0, 1, 10, 9);
    assert_int_equal(objname_chunk(&c, name, sizeof(name)), -1);
    c = incr_name("ok", 1, 0, 1, -1, 9);
    assert_int_equal(objname_chunk(&c, name, sizeof(name)), -1);
    /* too small a buffer: -1, never a truncated name */
    c = base_name("ok", 1, 0, 1, BASE_RDB);
    assert_int_equal(objname_chunk(&c, name, 20), -1);
    assert_int_equal(
        objname_chunk(&c, name, strlen("ok/gen-000001/base/") + 20 + 1 + 20 + 1 + 10 + 1 + 20 + 7), -1);
    assert_int_equal(
        objname_chunk(&c, name, strlen("ok/gen-000001/base/") + 20 + 1 + 20 + 1 + 10 + 1 + 20 + 7 + 1), 0);
}

static void test_prefixes(void **state)
{
    char buf[OBJNAME_MAX];

    (void)state;
    assert_int_equal(objname_instance_prefix("sessions", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "sessions/");
    assert_int_equal(objname_generation_prefix("sessions", 7, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "sessions/gen-000007/");
    assert_int_equal(objname_index("sessions", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "sessions/index.db");
    assert_int_equal(objname_instance_prefix("a/b", buf, sizeof(buf)), -1);
    assert_int_equal(objname_generation_prefix("sessions", 0, buf, sizeof(buf)), -1);
    assert_int_equal(objname_index("", buf, sizeof(buf)), -1);
    assert_int_equal(objname_index("sessions", buf, 17), -1);
    assert_int_equal(objname_index("sessions", buf, 18), 0);
    assert_int_equal(objname_generation_prefix("sessions", 7, buf, 20), -1);
}

static void test_sealed_names(void **state)
{
    char buf[OBJNAME_MAX], plain[OBJNAME_MAX], id[OBJNAME_KEY_ID_MAX + 1], longid[OBJNAME_KEY_ID_MAX + 2];
    struct chunk_name c;
    struct err e;

    (void)state;
    /* chunks: the plain name, then ".<key id>.enc" */
    c = incr_name("sessions", 1, 0, 65536, 1763651521, 1763651522);
    snprintf(c.seal, sizeof(c.seal), "k2026");
    roundtrip(&c, "sessions/gen-000001/incr/00000000000000000000-00000000000000065536_1763651521-1763651522"
                  ".aof.gz.k2026.enc");
    c = base_name("cache", 42, 0, 4194304, BASE_RDB);
    snprintf(c.seal, sizeof(c.seal), "A_z-9");
    roundtrip(
        &c, "cache/gen-000042/base/00000000000000000000-00000000000004194304_1763650000_00000000000004194304"
            ".rdb.gz.A_z-9.enc");
    snprintf(c.seal, sizeof(c.seal), "bad.id");
    assert_int_equal(objname_chunk(&c, buf, sizeof(buf)), -1);

    /* any name: seal and unseal */
    assert_int_equal(objname_seal("sessions/index.db", "k1", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "sessions/index.db.k1.enc");
    assert_int_equal(objname_unseal(buf, plain, sizeof(plain), id), 1);
    assert_string_equal(plain, "sessions/index.db");
    assert_string_equal(id, "k1");
    assert_int_equal(objname_unseal("sessions/index.db", plain, sizeof(plain), id), 0);
    assert_int_equal(objname_seal("sessions/index.db.k1.enc", "k2", buf, sizeof(buf)), -1); /* sealed once */
    assert_int_equal(objname_seal("x", "", buf, sizeof(buf)), -1);
    assert_int_equal(objname_seal("x", "a b", buf, sizeof(buf)), -1);
    assert_int_equal(objname_seal("x", "k1", buf, 8), -1);
    assert_int_equal(objname_seal("x", "k1", buf, 9), 0);
    memset(longid, 'k', OBJNAME_KEY_ID_MAX);
    longid[OBJNAME_KEY_ID_MAX] = '\0';
    assert_int_equal(objname_seal("x", longid, buf, sizeof(buf)), 0);
    assert_int_equal(objname_unseal(buf, NULL, 0, id), 1);
    assert_string_equal(id, longid);
    longid[OBJNAME_KEY_ID_MAX] = 'k';
    longid[OBJNAME_KEY_ID_MAX + 1] = '\0';
    assert_int_equal(objname_seal("x", longid, buf, sizeof(buf)), -1);
    /* not sealed names */
    assert_int_equal(objname_unseal("x.enc", NULL, 0, NULL), 0);
    assert_int_equal(objname_unseal(".k1.enc", NULL, 0, NULL), 0);
    assert_int_equal(objname_unseal("a/.k1.enc", NULL, 0, NULL), 0);
    assert_int_equal(objname_unseal("a/k1.enc", NULL, 0, NULL), 0);
    assert_int_equal(objname_unseal("x..enc", NULL, 0, NULL), 0);
    assert_int_equal(objname_unseal("x.k+1.enc", NULL, 0, NULL), 0);
    assert_int_equal(objname_unseal("x.k1.ENC", NULL, 0, NULL), 0);
    assert_int_equal(objname_unseal("x.k1.enc ", NULL, 0, NULL), 0);
    /* no room for the plain name: sealed all the same, no plain name */
    assert_int_equal(objname_unseal("abcdef.k1.enc", plain, 4, id), 1);
    assert_string_equal(plain, "");

    /* a sealed name that is no chunk name */
    err_clear(&e);
    assert_int_equal(objname_parse_chunk("sessions/index.db.k1.enc", &c, &e), -1);
    err_clear(&e);
    assert_int_equal(objname_parse_chunk("sessions/gen-000001/incr/00000000000000000000-00000000000000065536_"
                                         "1763651521-1763651522.aof.gz.enc",
                                         &c, &e),
                     -1);
    assert_int_equal(objname_valid_key_id("k-1_A"), 1);
    assert_int_equal(objname_valid_key_id(""), 0);
    assert_int_equal(objname_valid_key_id(NULL), 0);
    assert_int_equal(objname_valid_key_id("k.1"), 0);
}

static void expect_reject(const char *key, const char *why)
{
    struct chunk_name c;
    struct err e;
    char msg[1024];

    err_clear(&e);
    assert_int_equal(objname_parse_chunk(key, &c, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    snprintf(msg, sizeof(msg), "object \"%s\" is not a chunk name: %s", key, why);
    assert_string_equal(e.msg, msg);
}

static void test_parse_rejects(void **state)
{
    const char *canon = "numbers not in canonical zero-padded form";

    (void)state;
    expect_reject("", "bad instance name");
    expect_reject("sessions", "bad instance name");
    expect_reject("sessions/index.db", "expected \"gen-NNNNNN/\" after the instance");
    expect_reject(
        ".x/gen-000001/base/00000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        "bad instance name");
    expect_reject(
        "a "
        "b/gen-000001/base/00000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        "bad instance name");
    expect_reject(
        "s/gen-/base/00000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        "expected \"gen-NNNNNN/\" after the instance");
    expect_reject(
        "s/gen--00001/base/00000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        "expected \"gen-NNNNNN/\" after the instance");
    expect_reject("s/gen-000001/full/00000000000000000000-00000000000000000001.rdb.gz",
                  "expected \"base/\" or \"incr/\" after the generation");
    expect_reject("s/gen-000001/base/", "expected \"START-END\" byte offsets");
    expect_reject("s/gen-000001/base/00000000000000000000.rdb.gz", "expected \"START-END\" byte offsets");
    expect_reject("s/gen-000001/base/00000000000000000000-+0000000000000000001.rdb.gz",
                  "expected \"START-END\" byte offsets");
    expect_reject("s/gen-000001/base/ 0000000000000000000-00000000000000000001.rdb.gz",
                  "expected \"START-END\" byte offsets");
    /* 2^64 does not fit */
    expect_reject(
        "s/gen-000001/base/00000000000000000000-18446744073709551616_1763650000_18446744073709551616.rdb.gz",
        "expected \"START-END\" byte offsets");
    expect_reject(
        "s/gen-000001/base/00000000000000000000-00000000000000000001_1763650000_00000000000000000001.gz",
        "expected the suffix \".rdb.gz\" or \".aof.gz\"");
    expect_reject("s/gen-000001/base/"
                  "00000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz.tmp",
                  "expected the suffix \".rdb.gz\" or \".aof.gz\"");
    expect_reject("s/gen-000001/base/00000000000000000000-00000000000000000001_1-2.aof.gz",
                  "expected \"_TIME_TOTAL\" after the offsets");
    expect_reject("s/gen-000001/base/00000000000000000000-00000000000000000001.rdb.gz",
                  "expected \"_TIME_TOTAL\" after the offsets");
    expect_reject(
        "s/gen-000001/base/00000000000000000000-00000000000000000002_1763650000_00000000000000000001.rdb.gz",
        "end offset beyond the base's total size");
    expect_reject("s/gen-000001/incr/00000000000000000000-00000000000000000001.aof.gz",
                  "expected \"_FIRST-LAST\" unix seconds after the offsets");
    expect_reject("s/gen-000001/incr/00000000000000000000-00000000000000000001_1763651521-1763651522.rdb.gz",
                  "expected the suffix \".aof.gz\"");
    expect_reject(
        "s/gen-000001/incr/00000000000000000000-00000000000000000001_1763651521-1763651522.aof.gz/x",
        "expected the suffix \".aof.gz\"");
    expect_reject(
        "s/gen-000000/base/00000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        "generation 0");
    expect_reject(
        "s/gen-000001/base/00000000000000000002-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        "end offset before start offset");
    expect_reject("s/gen-000001/incr/00000000000000000000-00000000000000000001_1763651522-1763651521.aof.gz",
                  "last second before first second");
    /* well-formed but not canonical: too few or too many zeros */
    expect_reject(
        "s/gen-1/base/00000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        canon);
    expect_reject(
        "s/gen-0000001/base/00000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        canon);
    expect_reject("s/gen-000001/base/0-1_1763650000_1.rdb.gz", canon);
    expect_reject(
        "s/gen-000001/base/000000000000000000000-00000000000000000001_1763650000_00000000000000000001.rdb.gz",
        canon);
    expect_reject(
        "s/gen-000001/incr/00000000000000000000-00000000000000000001_1763651521-001763651522.aof.gz", canon);
    expect_reject("s/gen-000001/incr/00000000000000000000-00000000000000000001_5-6.aof.gz", canon);
}

static void test_parse_clears_on_failure(void **state)
{
    struct chunk_name c;
    struct err e;

    (void)state;
    memset(&c, 0x5a, sizeof(c));
    assert_int_equal(objname_parse_chunk("s/gen-000000/base/x", &c, &e), -1);
    assert_int_equal(c.generation, 0);
    assert_string_equal(c.instance, "");
}

/* Sorting names as byte strings gives numeric order: compare the order of
 * qsort(strcmp) with the order of the numbers parsed back. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_sort_order_is_numeric(void **state)
{
    enum { N = 2000 };
    char *names[N];
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    struct chunk_name prev;
    int i;

    (void)state;
    for (i = 0; i < N; i++) {
        struct chunk_name c;
        char buf[OBJNAME_MAX];
        /* spread over many digit counts: 1, 10, 1000, ... up to 2^63 */
        int shift = (int)(next_rand(&seed) % 63);
        uint64_t start = next_rand(&seed) >> shift;
        uint64_t len = next_rand(&seed) % 5000000;
        int64_t gen = 1 + (int64_t)(next_rand(&seed) % (i % 3 == 0 ? 999999 : 20));
        int64_t first = (int64_t)(next_rand(&seed) % 9999999999ULL);

        if (start > UINT64_MAX - len)
            start = UINT64_MAX - len;
        if (i % 2 == 0)
            c = incr_name("inst", gen, start, start + len, first >> (i % 30), (first >> (i % 30)) + 3);
        else
            c = base_name("inst", gen, start, start + len, (i / 2) % 2 ? BASE_RDB : BASE_AOF);
        assert_int_equal(objname_chunk(&c, buf, sizeof(buf)), 0);
        names[i] = xstrdup(buf);
    }
    qsort(names, N, sizeof(names[0]), cmp_str);
    memset(&prev, 0, sizeof(prev));
    for (i = 0; i < N; i++) {
        struct chunk_name c;
        struct err e;

        assert_int_equal(objname_parse_chunk(names[i], &c, &e), 0);
        if (i > 0) {
            /* generation, then kind (base < incr), then start, then end */
            assert_true(c.generation >= prev.generation);
            if (c.generation == prev.generation) {
                assert_true(c.kind >= prev.kind);
                if (c.kind == prev.kind) {
                    assert_true(c.start >= prev.start);
                    if (c.start == prev.start)
                        assert_true(c.end >= prev.end);
                }
            }
        }
        prev = c;
        free(names[i]);
    }
}

static void test_sort_order_seconds(void **state)
{
    char a[OBJNAME_MAX];
    char b[OBJNAME_MAX];
    struct chunk_name c;

    (void)state;
    /* same offsets, different seconds: the earlier second sorts first */
    c = incr_name("i", 1, 10, 20, 999999999, 999999999);
    assert_int_equal(objname_chunk(&c, a, sizeof(a)), 0);
    c = incr_name("i", 1, 10, 20, 1000000000, 1000000000);
    assert_int_equal(objname_chunk(&c, b, sizeof(b)), 0);
    assert_true(strcmp(a, b) < 0);
    /* generation prefixes sort numerically */
    assert_int_equal(objname_generation_prefix("i", 9, a, sizeof(a)), 0);
    assert_int_equal(objname_generation_prefix("i", 10, b, sizeof(b)), 0);
    assert_true(strcmp(a, b) < 0);
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_instance),
        cmocka_unit_test(test_format_exact),
        cmocka_unit_test(test_format_rejects),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_sealed_names),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_clears_on_failure),
        cmocka_unit_test(test_sort_order_is_numeric),
        cmocka_unit_test(test_sort_order_seconds),
    };
    /* clang-format on */

    return cmocka_run_group_tests(tests, NULL, NULL);
}

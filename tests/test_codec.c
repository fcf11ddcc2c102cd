/* test_codec.c - unit tests for codec.c: gzip members with CRC32 and length checks.
 *
 * Round trips (empty, one byte, 5 MiB of random bytes, every level), the
 * property the archive layout depends on (concatenated members gunzip to
 * the concatenated input, checked with the real gunzip), members written
 * by the real gzip, and every way
 * codec_decode must refuse a member, with its exact message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "xalloc.h"

/* Deterministic pseudo-random bytes (xorshift64*): incompressible data
 * without depending on the system's random source. */
static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    size_t i;

    for (i = 0; i < n; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        p[i] = (unsigned char)((x * 0x2545F4914F6CDD1DULL) >> 56);
    }
}

/* Text-like data that compresses, shaped like an AOF. */
static void fill_aof_like(struct buf *b, size_t n)
{
    size_t i = 0;

    while (b->len < n) {
        buf_printf(b, "*3\r\n$3\r\nSET\r\n$10\r\nkey:%06zu\r\n$5\r\nv%04zu\r\n", i % 1000000, i % 10000);
        i++;
    }
    b->len = n;
    b->data[n] = '\0';
}

static void roundtrip(const void *raw, size_t len, int level)
{
    struct buf gz = BUF_INIT;
    struct buf back = BUF_INIT;
    struct err e;
    uint32_t crc = 0;

    err_clear(&e);
    assert_int_equal(codec_encode(raw, len, level, &gz, &crc, &e), 0);
    assert_true(gz.len >= 18); /* gzip header (10) + trailer (8) at least */
    assert_int_equal((unsigned char)gz.data[0], 0x1f);
    assert_int_equal((unsigned char)gz.data[1], 0x8b);
    assert_int_equal(crc, codec_crc32(0, raw, len));
    assert_int_equal(codec_decode(gz.data, gz.len, len, crc, "k", &back, &e), 0);
    assert_int_equal(back.len, len);
    if (len > 0)
        assert_memory_equal(back.data, raw, len);
    buf_free(&gz);
    buf_free(&back);
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    /* The CRC-32 (IEEE 802.3) check value of "123456789". */
    assert_int_equal(codec_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(codec_crc32(0, "", 0), 0);
    /* running CRC over pieces equals the CRC of the whole */
    assert_int_equal(codec_crc32(codec_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static void test_roundtrip_small(void **state)
{
    (void)state;
    roundtrip("", 0, 1);
    roundtrip("x", 1, 1);
    roundtrip("\0", 1, 9);
    roundtrip("hello, hello, hello", 19, 0);
}

static void test_roundtrip_5mib_random(void **state)
{
    size_t n = 5 * 1024 * 1024;
    unsigned char *p = xmalloc(n);

    (void)state;
    fill_random(p, n, 42);
    roundtrip(p, n, 1);
    free(p);
}

static void test_roundtrip_levels(void **state)
{
    struct buf raw = BUF_INIT;
    size_t prev_len = SIZE_MAX;
    int level;

    (void)state;
    fill_aof_like(&raw, 1024 * 1024);
    for (level = 0; level <= 9; level++) {
        struct buf gz = BUF_INIT;
        struct err e;
        uint32_t crc;

        roundtrip(raw.data, raw.len, level);
        assert_int_equal(codec_encode(raw.data, raw.len, level, &gz, &crc, &e), 0);
        if (level == 0)
            assert_true(gz.len > raw.len); /* stored blocks: no compression */
        else
            assert_true(gz.len < raw.len / 4);
        if (level == 9)
            assert_true(gz.len <= prev_len);
        prev_len = gz.len;
        buf_free(&gz);
    }
    buf_free(&raw);
}

static void test_encode_appends(void **state)
{
    struct buf gz = BUF_INIT;
    struct buf back = BUF_INIT;
    struct err e;
    uint32_t crc;

    (void)state;
    buf_appendstr(&gz, "HEAD");
    assert_int_equal(codec_encode("payload", 7, 6, &gz, &crc, &e), 0);
    assert_memory_equal(gz.data, "HEAD", 4);
    buf_appendstr(&back, "before:");
    assert_int_equal(codec_decode(gz.data + 4, gz.len - 4, 7, crc, "k", &back, &e), 0);
    assert_string_equal(back.data, "before:payload");
    buf_free(&gz);
    buf_free(&back);
}

static void test_encode_bad_level(void **state)
{
    struct buf gz = BUF_INIT;
    struct err e;
    uint32_t crc = 7;

    (void)state;
    assert_int_equal(codec_encode("x", 1, 10, &gz, &crc, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg, "invalid compression level 10: expected 0-9");
    assert_int_equal(codec_encode("x", 1, -1, &gz, &crc, &e), -1);
    assert_int_equal(gz.len, 0);
    assert_int_equal(crc, 7);
    buf_free(&gz);
}

/* Members concatenate: `cat a.gz b.gz c.gz | gunzip` is the concatenation
 * of their contents, checked with the real gunzip. */
static void test_concatenated_members_gunzip(void **state)
{
    const char *tmpdir = getenv("AOFROLL_TEST_TMP");
    struct buf all_gz = BUF_INIT;
    struct buf all_raw = BUF_INIT;
    struct buf got = BUF_INIT;
    char path[4096];
    char cmd[4200];
    char chunk[65536];
    FILE *fp;
    size_t n;
    int fd;
    int i;

    (void)state;
    snprintf(path, sizeof(path), "%s/test_codec.XXXXXX", tmpdir != NULL ? tmpdir : "/tmp");
    if (tmpdir != NULL) {
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", tmpdir);
        assert_int_equal(system(cmd), 0);
    }
    fd = mkstemp(path);
    assert_true(fd >= 0);
    for (i = 0; i < 3; i++) {
        struct buf raw = BUF_INIT;
        struct err e;
        uint32_t crc;

        fill_aof_like(&raw, 100000 + (size_t)i * 777);
        if (i == 1) /* an empty chunk in the middle is a valid member too */
            raw.len = 0;
        assert_int_equal(codec_encode(raw.data, raw.len, i * 4, &all_gz, &crc, &e), 0);
        buf_append(&all_raw, raw.data, raw.len);
        buf_free(&raw);
    }
    assert_int_equal(write(fd, all_gz.data, all_gz.len), (ssize_t)all_gz.len);
    close(fd);
    snprintf(cmd, sizeof(cmd), "gunzip -c < '%s'", path);
    fp = popen(cmd, "r");
    assert_non_null(fp);
    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), fp);
        if (n == 0)
            break;
        buf_append(&got, chunk, n);
    }
    assert_int_equal(pclose(fp), 0);
    unlink(path);
    assert_int_equal(got.len, all_raw.len);
    assert_memory_equal(got.data, all_raw.data, all_raw.len);
    buf_free(&all_gz);
    buf_free(&all_raw);
    buf_free(&got);
}

/* Members from the real gzip (a header with the file's name and time, any
 * level) decode too, after what `out` already held. */
static void test_decode_foreign_gzip(void **state)
{
    const char *tmpdir = getenv("AOFROLL_TEST_TMP");
    static const char *flags[] = {"-1", "-9", "-6n"};
    struct buf raw = BUF_INIT;
    char path[4096], cmd[4200], chunk[65536];
    size_t i, n;
    int fd;

    (void)state;
    if (tmpdir != NULL) {
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", tmpdir);
        assert_int_equal(system(cmd), 0);
    }
    snprintf(path, sizeof(path), "%s/test_codec_foreign.XXXXXX", tmpdir != NULL ? tmpdir : "/tmp");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fill_aof_like(&raw, 300000);
    assert_int_equal(write(fd, raw.data, raw.len), (ssize_t)raw.len);
    close(fd);
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        struct buf gz = BUF_INIT, back = BUF_INIT;
        struct err e;
        FILE *fp;

        snprintf(cmd, sizeof(cmd), "gzip %s -c '%s'", flags[i], path);
        fp = popen(cmd, "r");
        assert_non_null(fp);
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
            buf_append(&gz, chunk, n);
        assert_int_equal(pclose(fp), 0);
        buf_appendstr(&back, "keep");
        err_clear(&e);
        assert_int_equal(
            codec_decode(gz.data, gz.len, raw.len, codec_crc32(0, raw.data, raw.len), "k", &back, &e), 0);
        assert_int_equal(back.len, 4 + raw.len);
        assert_memory_equal(back.data, "keep", 4);
        assert_memory_equal(back.data + 4, raw.data, raw.len);
        assert_int_equal(back.data[back.len], '\0');
        buf_free(&gz);
        buf_free(&back);
    }
    unlink(path);
    buf_free(&raw);
}

/* ------------------------------------------------------------------------
 * Corruption: each case fails with ERR_CORRUPT, names the chunk, and
 * leaves the output buffer as it was.
 * ------------------------------------------------------------------------ */

struct member {
    struct buf raw;
    struct buf gz;
    uint32_t crc;
};

static void member_make(struct member *m, size_t len)
{
    struct err e;

    memset(m, 0, sizeof(*m));
    fill_aof_like(&m->raw, len);
    assert_int_equal(codec_encode(m->raw.data, m->raw.len, 1, &m->gz, &m->crc, &e), 0);
}

static void member_free(struct member *m)
{
    buf_free(&m->raw);
    buf_free(&m->gz);
}

/* Decode `gz` expecting failure; check code, message and that `out` kept
 * its previous content. */
static void expect_corrupt(const void *gz, size_t gzlen, uint64_t len, uint32_t crc, const char *msg)
{
    struct buf out = BUF_INIT;
    struct err e;

    buf_appendstr(&out, "keep");
    err_clear(&e);
    assert_int_equal(codec_decode(gz, gzlen, len, crc, "KEY", &out, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_string_equal(e.msg, msg);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "keep");
    buf_free(&out);
}

static void test_decode_bad_header(void **state)
{
    struct member m;

    (void)state;
    member_make(&m, 65000);
    m.gz.data[0] = 'X';
    expect_corrupt(m.gz.data, m.gz.len, 65000, m.crc,
                   "chunk \"KEY\": corrupt gzip member: incorrect header check");
    m.gz.data[0] = 0x1f;
    m.gz.data[2] = 7; /* compression method other than deflate */
    expect_corrupt(m.gz.data, m.gz.len, 65000, m.crc,
                   "chunk \"KEY\": corrupt gzip member: unknown compression method");
    /* plain text is not a gzip member */
    expect_corrupt("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", 28, 28, 0,
                   "chunk \"KEY\": corrupt gzip member: incorrect header check");
    member_free(&m);
}

static void test_decode_truncated(void **state)
{
    struct member m;
    char msg[256];
    size_t cut;

    (void)state;
    member_make(&m, 65000);
    /* cut in the trailer, in the deflate data, in the header */
    for (cut = 1; cut < m.gz.len; cut += m.gz.len / 7) {
        snprintf(msg, sizeof(msg), "chunk \"KEY\": truncated gzip member: input ends after %zu bytes",
                 m.gz.len - cut);
        expect_corrupt(m.gz.data, m.gz.len - cut, 65000, m.crc, msg);
    }
    expect_corrupt(m.gz.data, 5, 65000, m.crc,
                   "chunk \"KEY\": truncated gzip member: input ends after 5 bytes");
    expect_corrupt("", 0, 0, 0, "chunk \"KEY\": truncated gzip member: input ends after 0 bytes");
    member_free(&m);
}

static void test_decode_trailing_bytes(void **state)
{
    struct member m;
    struct member m2;
    char msg[256];

    (void)state;
    member_make(&m, 65000);
    buf_append(&m.gz, "xyz", 3);
    expect_corrupt(m.gz.data, m.gz.len, 65000, m.crc,
                   "chunk \"KEY\": 3 trailing bytes after the gzip member");
    /* a second complete member is trailing bytes too: exactly one member */
    m.gz.len -= 3;
    member_make(&m2, 100);
    buf_append(&m.gz, m2.gz.data, m2.gz.len);
    snprintf(msg, sizeof(msg), "chunk \"KEY\": %zu trailing bytes after the gzip member", m2.gz.len);
    expect_corrupt(m.gz.data, m.gz.len, 65000, m.crc, msg);
    member_free(&m);
    member_free(&m2);
}

static void test_decode_trailer_mismatch(void **state)
{
    struct member m;
    size_t n;

    (void)state;
    member_make(&m, 65000);
    n = m.gz.len;
    /* gzip trailer: CRC32 (4 bytes) then ISIZE (4 bytes), little endian */
    m.gz.data[n - 8] ^= 0x01;
    expect_corrupt(m.gz.data, n, 65000, m.crc, "chunk \"KEY\": corrupt gzip member: incorrect data check");
    m.gz.data[n - 8] ^= 0x01;
    m.gz.data[n - 4] ^= 0x01;
    expect_corrupt(m.gz.data, n, 65000, m.crc, "chunk \"KEY\": corrupt gzip member: incorrect length check");
    member_free(&m);
}

static void test_decode_corrupt_body(void **state)
{
    struct member m;
    struct buf out = BUF_INIT;
    struct err e;

    (void)state;
    member_make(&m, 65000);
    m.gz.data[m.gz.len / 2] ^= 0x55;
    assert_int_equal(codec_decode(m.gz.data, m.gz.len, 65000, m.crc, "KEY", &out, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_true(strncmp(e.msg, "chunk \"KEY\": ", 13) == 0);
    assert_int_equal(out.len, 0);
    member_free(&m);
    buf_free(&out);
}

static void test_decode_wrong_length(void **state)
{
    struct member m;

    (void)state;
    member_make(&m, 65000);
    expect_corrupt(m.gz.data, m.gz.len, 65536, m.crc, "chunk \"KEY\": expected 65536 raw bytes, got 65000");
    expect_corrupt(m.gz.data, m.gz.len, 100, m.crc, "chunk \"KEY\": expected 100 raw bytes, got 65000");
    expect_corrupt(m.gz.data, m.gz.len, 0, m.crc, "chunk \"KEY\": expected 0 raw bytes, got 65000");
    /* a corrupt index length must not become a huge allocation */
    expect_corrupt(m.gz.data, m.gz.len, UINT64_MAX, m.crc,
                   "chunk \"KEY\": expected 18446744073709551615 raw bytes, got 65000");
    member_free(&m);
}

/* A bogus expected length (an index row made from a hostile object name)
 * reserves no more than the member could inflate to: it used to reserve
 * 1 GiB, doubled to 2 GiB (found by tests/fuzz/fuzz_codec.c). */
static void test_decode_huge_length_reserves_little(void **state)
{
    static const uint64_t lengths[] = {UINT64_MAX, (uint64_t)1 << 32, (uint64_t)1 << 30};
    struct member m;
    struct buf out = BUF_INIT;
    struct err e;
    size_t i, bound;

    (void)state;
    member_make(&m, 4000);
    bound = 2 * (1032 * m.gz.len + 65536) + 64; /* what it can inflate to, doubled by buf */
    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        assert_int_equal(codec_decode(m.gz.data, m.gz.len, lengths[i], m.crc, "KEY", &out, &e), -1);
        assert_int_equal(out.len, 0);
        if (out.cap > bound)
            fail_msg("expected length %" PRIu64 ": reserved %zu bytes for a %zu-byte member", lengths[i],
                     out.cap, m.gz.len);
        buf_free(&out);
    }
    member_free(&m);
}

static void test_decode_crc_mismatch(void **state)
{
    struct member m;
    char msg[256];

    (void)state;
    member_make(&m, 65000);
    snprintf(msg, sizeof(msg),
             "chunk \"KEY\": CRC32 mismatch: index says 0x%08" PRIx32 ", data has 0x%08" PRIx32,
             m.crc ^ 0x80000000u, m.crc);
    expect_corrupt(m.gz.data, m.gz.len, 65000, m.crc ^ 0x80000000u, msg);
    snprintf(msg, sizeof(msg), "chunk \"KEY\": CRC32 mismatch: index says 0x00000000, data has 0x%08" PRIx32,
             m.crc);
    expect_corrupt(m.gz.data, m.gz.len, 65000, 0, msg);
    member_free(&m);
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_roundtrip_small),
        cmocka_unit_test(test_roundtrip_5mib_random),
        cmocka_unit_test(test_roundtrip_levels),
        cmocka_unit_test(test_encode_appends),
        cmocka_unit_test(test_encode_bad_level),
        cmocka_unit_test(test_concatenated_members_gunzip),
        cmocka_unit_test(test_decode_foreign_gzip),
        cmocka_unit_test(test_decode_bad_header),
        cmocka_unit_test(test_decode_truncated),
        cmocka_unit_test(test_decode_trailing_bytes),
        cmocka_unit_test(test_decode_trailer_mismatch),
        cmocka_unit_test(test_decode_corrupt_body),
        cmocka_unit_test(test_decode_huge_length_reserves_little),
        cmocka_unit_test(test_decode_wrong_length),
        cmocka_unit_test(test_decode_crc_mismatch),
    };
    /* clang-format on */

    return cmocka_run_group_tests(tests, NULL, NULL);
}

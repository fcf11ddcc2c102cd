/* test_rdbcheck.c - unit tests for rdbcheck.c: is a byte stream one whole,
 * intact RDB file?
 *
 * The reference file is a real dump.rdb written by redis-server 7.0.15
 * (RDB version 10; keys "greeting" and a three-element list, whose
 * listpack holds a 0xff byte in the middle, as the EOF opcode must be told
 * apart by position). It must pass however it is cut into pieces; each
 * kind of damage must be refused with its exact message; files without a
 * checksum (rdbchecksum no, or versions before 5) are accepted as such. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rdbcheck.h"

static const unsigned char dump_rdb[] = {
    0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x31, 0x30, 0xfa, 0x09, 0x72, 0x65, 0x64, 0x69, 0x73, 0x2d,
    0x76, 0x65, 0x72, 0x06, 0x37, 0x2e, 0x30, 0x2e, 0x31, 0x35, 0xfa, 0x0a, 0x72, 0x65, 0x64, 0x69, 0x73,
    0x2d, 0x62, 0x69, 0x74, 0x73, 0xc0, 0x40, 0xfa, 0x05, 0x63, 0x74, 0x69, 0x6d, 0x65, 0xc2, 0xee, 0x84,
    0x01, 0x6b, 0xfa, 0x08, 0x75, 0x73, 0x65, 0x64, 0x2d, 0x6d, 0x65, 0x6d, 0xc2, 0x78, 0x38, 0x10, 0x00,
    0xfa, 0x08, 0x61, 0x6f, 0x66, 0x2d, 0x62, 0x61, 0x73, 0x65, 0xc0, 0x00, 0xfe, 0x00, 0xfb, 0x02, 0x00,
    0x12, 0x01, 0x6c, 0x01, 0x02, 0x10, 0x10, 0x00, 0x00, 0x00, 0x03, 0x00, 0x81, 0x61, 0x02, 0x81, 0x62,
    0x02, 0x81, 0x63, 0x02, 0xff, 0x00, 0x08, 0x67, 0x72, 0x65, 0x65, 0x74, 0x69, 0x6e, 0x67, 0x05, 0x68,
    0x65, 0x6c, 0x6c, 0x6f, 0xff, 0xea, 0xa8, 0x91, 0x04, 0xf9, 0x5e, 0x51, 0xdf};

#define DUMP_CRC64 UINT64_C(0xdf515ef90491a8ea)

/* Check `len` bytes of `data` fed in pieces of `piece` bytes (0: whole). */
static int check(const unsigned char *data, size_t len, size_t piece, struct rdbcheck_result *r,
                 struct err *e)
{
    struct rdbcheck c;
    size_t off = 0;

    rdbcheck_init(&c, len);
    if (piece == 0)
        piece = len;
    while (off < len) {
        size_t n = len - off < piece ? len - off : piece;

        rdbcheck_feed(&c, data + off, n);
        off += n;
    }
    err_clear(e);
    return rdbcheck_finish(&c, "dump.rdb", r, e);
}

static void test_real_dump_passes(void **state)
{
    struct rdbcheck_result r;
    struct err e;

    (void)state;
    assert_int_equal(check(dump_rdb, sizeof(dump_rdb), 0, &r, &e), 0);
    assert_int_equal(r.version, 10);
    assert_int_equal(r.checksummed, 1);
    assert_int_equal(r.crc64, DUMP_CRC64);
}

static void test_any_pieces_pass(void **state)
{
    struct rdbcheck_result r;
    struct err e;
    struct rdbcheck c;

    (void)state;
    for (size_t piece = 1; piece <= sizeof(dump_rdb); piece++) {
        assert_int_equal(check(dump_rdb, sizeof(dump_rdb), piece, &r, &e), 0);
        assert_int_equal(r.crc64, DUMP_CRC64);
    }
    /* two pieces cut at every offset, the empty piece included */
    for (size_t cut = 0; cut <= sizeof(dump_rdb); cut++) {
        rdbcheck_init(&c, sizeof(dump_rdb));
        rdbcheck_feed(&c, dump_rdb, cut);
        rdbcheck_feed(&c, dump_rdb + cut, sizeof(dump_rdb) - cut);
        err_clear(&e);
        assert_int_equal(rdbcheck_finish(&c, "dump.rdb", &r, &e), 0);
        assert_int_equal(r.checksummed, 1);
    }
}

static void test_every_flipped_byte_is_refused(void **state)
{
    unsigned char bad[sizeof(dump_rdb)];
    struct rdbcheck_result r;
    struct err e;

    (void)state;
    for (size_t i = 0; i < sizeof(dump_rdb); i++) {
        memcpy(bad, dump_rdb, sizeof(bad));
        bad[i] ^= 0x20;
        assert_int_equal(check(bad, sizeof(bad), 7, &r, &e), -1);
        assert_int_equal(e.code, ERR_CORRUPT);
    }
}

static void test_messages(void **state)
{
    unsigned char bad[sizeof(dump_rdb)];
    struct rdbcheck_result r;
    struct err e;
    size_t eof = sizeof(dump_rdb) - 9;

    (void)state;
    memcpy(bad, dump_rdb, sizeof(bad));
    bad[40] ^= 1; /* a byte of the body */
    assert_int_equal(check(bad, sizeof(bad), 0, &r, &e), -1);
    assert_string_equal(e.msg,
                        "rdb file \"dump.rdb\": checksum mismatch: the file says df515ef90491a8ea, its "
                        "bytes give 6ec1989e30b0299e");

    memcpy(bad, dump_rdb, sizeof(bad));
    bad[eof] = 0xfe;
    assert_int_equal(check(bad, sizeof(bad), 0, &r, &e), -1);
    assert_string_equal(e.msg, "rdb file \"dump.rdb\" (version 10) has no EOF opcode 9 bytes before its end "
                               "(offset 123): it is truncated");

    memcpy(bad, dump_rdb, sizeof(bad));
    bad[0] = 'r';
    assert_int_equal(check(bad, sizeof(bad), 0, &r, &e), -1);
    assert_string_equal(e.msg, "\"dump.rdb\" is not an rdb file: it does not start with \"REDIS\"");

    memcpy(bad, dump_rdb, sizeof(bad));
    bad[7] = 'x';
    assert_int_equal(check(bad, sizeof(bad), 0, &r, &e), -1);
    assert_string_equal(e.msg, "\"dump.rdb\" is not an rdb file: no version after \"REDIS\"");

    assert_int_equal(check(dump_rdb, 6, 0, &r, &e), -1);
    assert_string_equal(e.msg, "\"dump.rdb\" is too short for an rdb file (6 bytes)");
}

static void test_truncated(void **state)
{
    struct rdbcheck_result r;
    struct err e;
    struct rdbcheck c;

    (void)state;
    /* a file that ends early: its own last bytes are not EOF + CRC */
    assert_int_equal(check(dump_rdb, sizeof(dump_rdb) - 1, 0, &r, &e), -1);
    assert_string_equal(e.msg, "rdb file \"dump.rdb\" (version 10) has no EOF opcode 9 bytes before its end "
                               "(offset 122): it is truncated");
    /* fewer bytes fed than announced */
    rdbcheck_init(&c, sizeof(dump_rdb));
    rdbcheck_feed(&c, dump_rdb, 100);
    err_clear(&e);
    assert_int_equal(rdbcheck_finish(&c, "dump.rdb", &r, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_string_equal(e.msg, "rdb file \"dump.rdb\": 100 bytes read, 132 expected");
}

static void test_checksum_disabled(void **state)
{
    unsigned char nosum[sizeof(dump_rdb)];
    struct rdbcheck_result r;
    struct err e;

    (void)state;
    /* what redis writes with rdbchecksum no: eight zero bytes after EOF */
    memcpy(nosum, dump_rdb, sizeof(nosum));
    memset(nosum + sizeof(nosum) - 8, 0, 8);
    assert_int_equal(check(nosum, sizeof(nosum), 5, &r, &e), 0);
    assert_int_equal(r.checksummed, 0);
    assert_int_equal(r.crc64, 0);
    assert_int_equal(r.version, 10);
}

static void test_old_version_without_checksum(void **state)
{
    /* version 4: header, SELECTDB 0, EOF and nothing after it */
    static const unsigned char v4[] = {'R', 'E', 'D', 'I', 'S', '0', '0', '0', '4', 0xfe, 0x00, 0xff};
    unsigned char cut[sizeof(v4)];
    struct rdbcheck_result r;
    struct err e;

    (void)state;
    assert_int_equal(check(v4, sizeof(v4), 1, &r, &e), 0);
    assert_int_equal(r.version, 4);
    assert_int_equal(r.checksummed, 0);
    memcpy(cut, v4, sizeof(cut));
    cut[sizeof(cut) - 1] = 0x00;
    assert_int_equal(check(cut, sizeof(cut), 0, &r, &e), -1);
    assert_string_equal(
        e.msg, "rdb file \"dump.rdb\" (version 4) does not end with the EOF opcode: it is truncated");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_dump_passes),
        cmocka_unit_test(test_any_pieces_pass),
        cmocka_unit_test(test_every_flipped_byte_is_refused),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_checksum_disabled),
        cmocka_unit_test(test_old_version_without_checksum),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

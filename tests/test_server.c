/* test_server.c - unit tests for server identification (common/server.c):
 * INFO server and --version lines of Redis and Valkey, the RDB version
 * each release series reads, the tested matrix, and the header of real
 * RDB files (the first bytes of dumps written by Redis 7.4.1 and Valkey
 * 8.0.1), with AUX fields of every string encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "server.h"

static struct server_id id_of(const char *line)
{
    struct server_id id;
    struct err e;

    if (server_from_version_line(line, &id, &e) != 0)
        fail_msg("server_from_version_line(%s): %s", line, e.msg);
    return id;
}

static void test_info(void **state)
{
    static const char redis[] = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
    static const char valkey[] = "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\n"
                                 "valkey_version:8.0.1\r\nredis_git_sha1:00000000\r\n";
    struct server_id id;
    struct err e;
    char d[64];

    (void)state;
    assert_int_equal(server_from_info(redis, strlen(redis), &id, &e), 0);
    assert_int_equal(id.engine, SERVER_REDIS);
    assert_string_equal(id.version, "7.0.15");
    assert_int_equal(id.major, 7);
    assert_int_equal(id.minor, 0);
    assert_int_equal(id.patch, 15);
    assert_int_equal(server_from_info(valkey, strlen(valkey), &id, &e), 0);
    assert_int_equal(id.engine, SERVER_VALKEY);
    assert_string_equal(server_describe(&id, d, sizeof(d)), "Valkey 8.0.1");
    /* no CR, last line without newline */
    assert_int_equal(server_from_info("redis_version:7.4.1", 19, &id, &e), 0);
    assert_string_equal(id.version, "7.4.1");
    assert_int_equal(server_from_info("# Server\r\nredis_mode:standalone\r\n", 33, &id, &e), -1);
    assert_int_equal(e.code, ERR_REDIS);
    assert_string_equal(e.msg, "INFO server has no redis_version");
    assert_int_equal(server_from_info("server_name:valkey\r\nredis_version:7.2.4\r\n", 41, &id, &e), -1);
    /* a longer field with the same prefix is not the field */
    assert_int_equal(server_from_info("redis_version_x:1\nredis_version:7.2.6\n", 38, &id, &e), 0);
    assert_string_equal(id.version, "7.2.6");
}

static void test_version_line(void **state)
{
    struct server_id id;
    struct err e;
    char d[64];

    (void)state;
    id = id_of("Redis server v=7.4.1 sha=00000000:1 malloc=jemalloc-5.3.0 bits=64 build=51caaff6840897e\n");
    assert_string_equal(server_describe(&id, d, sizeof(d)), "Redis 7.4.1");
    id = id_of("Redis server v=7.9.224 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1");
    assert_string_equal(server_describe(&id, d, sizeof(d)), "Redis 7.9.224 (an 8.0 milestone)");
    id = id_of("Valkey server v=8.0.1 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1");
    assert_int_equal(id.engine, SERVER_VALKEY);
    assert_string_equal(id.version, "8.0.1");
    assert_int_equal(server_from_version_line("KeyDB server v=6.3.4", &id, &e), -1);
    assert_int_equal(e.code, ERR_REDIS);
    assert_int_equal(server_from_version_line("Redis server v=x", &id, &e), -1);
}

static void test_rdb_versions(void **state)
{
    struct server_id id;
    int exact;

    (void)state;
    id = id_of("Redis server v=7.0.15");
    assert_int_equal(server_rdb_version(&id, &exact), 10);
    assert_int_equal(exact, 1);
    id = id_of("Redis server v=7.2.6");
    assert_int_equal(server_rdb_version(&id, &exact), 11);
    id = id_of("Redis server v=7.4.2");
    assert_int_equal(server_rdb_version(&id, &exact), 12);
    assert_int_equal(exact, 1);
    id = id_of("Redis server v=7.9.224");
    assert_int_equal(server_rdb_version(&id, &exact), 12);
    id = id_of("Valkey server v=8.0.1");
    assert_int_equal(server_rdb_version(&id, &exact), 11);
    assert_int_equal(exact, 1);
    /* newer than the table: the newest known, as a floor */
    id = id_of("Redis server v=8.2.1");
    assert_int_equal(server_rdb_version(&id, &exact), 12);
    assert_int_equal(exact, 0);
    id = id_of("Valkey server v=9.0.0");
    assert_int_equal(server_rdb_version(&id, &exact), 11);
    assert_int_equal(exact, 0);
    id = id_of("Redis server v=6.2.14");
    assert_int_equal(server_rdb_version(&id, &exact), 9);
    /* older than any: unknown */
    id = id_of("Redis server v=4.0.14");
    assert_int_equal(server_rdb_version(&id, &exact), -1);
}

static void test_matrix(void **state)
{
    struct server_id id;
    const char *tested;
    char buf[256];

    (void)state;
    id = id_of("Redis server v=7.4.1");
    assert_int_equal(server_tested(&id, &tested), SERVER_TESTED);
    assert_string_equal(tested, "7.4.1");
    id = id_of("Redis server v=7.4.3");
    assert_int_equal(server_tested(&id, &tested), SERVER_SAME_SERIES);
    assert_string_equal(tested, "7.4.1");
    id = id_of("Redis server v=7.0.15");
    assert_int_equal(server_tested(&id, &tested), SERVER_TESTED);
    id = id_of("Redis server v=6.2.14");
    assert_int_equal(server_tested(&id, &tested), SERVER_UNTESTED);
    assert_null(tested);
    /* Valkey 8.0's redis_version is 7.2.4: the engine decides, not the number */
    id = id_of("Valkey server v=7.2.6");
    assert_int_equal(server_tested(&id, &tested), SERVER_UNTESTED);
    id = id_of("Valkey server v=8.0.2");
    assert_int_equal(server_tested(&id, &tested), SERVER_SAME_SERIES);
    assert_string_equal(server_matrix(buf, sizeof(buf)),
                        "Redis 7.0.15, 7.2.6, 7.4.1, 7.9.224 (an 8.0 milestone); Valkey 8.0.1");
    id = id_of("Redis server v=7.9.224");
    assert_string_equal(server_verdict(&id, buf, sizeof(buf)),
                        "Redis 7.9.224 (an 8.0 milestone), in the tested matrix");
    id = id_of("Valkey server v=8.0.4");
    assert_string_equal(server_verdict(&id, buf, sizeof(buf)),
                        "Valkey 8.0.4, not itself tested; 8.0.1 of its series is");
    id = id_of("Redis server v=8.2.1");
    assert_string_equal(server_verdict(&id, buf, sizeof(buf)),
                        "Redis 8.2.1, not in the tested matrix (Redis 7.0.15, 7.2.6, 7.4.1, 7.9.224 (an 8.0 "
                        "milestone); Valkey 8.0.1)");
    /* a short buffer is cut, not overrun */
    assert_string_equal(server_matrix(buf, 12), "Redis 7.0.1");
}

/* The first bytes of "SET k v" + SAVE on Redis 7.4.1 and Valkey 8.0.1. */
static const unsigned char redis741[] = {
    0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x31, 0x32, 0xfa, 0x09, 0x72, 0x65, 0x64, 0x69, 0x73,
    0x2d, 0x76, 0x65, 0x72, 0x05, 0x37, 0x2e, 0x34, 0x2e, 0x31, 0xfa, 0x0a, 0x72, 0x65, 0x64, 0x69,
    0x73, 0x2d, 0x62, 0x69, 0x74, 0x73, 0xc0, 0x40, 0xfa, 0x05, 0x63, 0x74, 0x69, 0x6d, 0x65, 0xc2,
    0x7f, 0xa3, 0x16, 0x6b, 0xfa, 0x08, 0x75, 0x73, 0x65, 0x64, 0x2d, 0x6d, 0x65, 0x6d, 0xc2, 0x08,
    0x68, 0x0f, 0x00, 0xfa, 0x08, 0x61, 0x6f, 0x66, 0x2d, 0x62, 0x61, 0x73, 0x65, 0xc0, 0x00, 0xfe,
};
static const unsigned char valkey801[] = {
    0x52, 0x45, 0x44, 0x49, 0x53, 0x30, 0x30, 0x31, 0x31, 0xfa, 0x0a, 0x76, 0x61, 0x6c,
    0x6b, 0x65, 0x79, 0x2d, 0x76, 0x65, 0x72, 0x05, 0x38, 0x2e, 0x30, 0x2e, 0x31, 0xfa,
    0x0a, 0x72, 0x65, 0x64, 0x69, 0x73, 0x2d, 0x62, 0x69, 0x74, 0x73, 0xc0, 0x40, 0xfe,
};

static void test_rdb_header(void **state)
{
    /* AUX fields of each encoding before the version: an int16, a 14-bit
     * length, a 32-bit length, an LZF blob */
    static const unsigned char mixed[] = {
        'R',  'E',  'D',  'I',  'S',  '0',  '0',  '1',  '0',  0xfa, 0x01, 'a',  0xc1, 0x34, 0x12,
        0xfa, 0x01, 'b',  0x40, 0x02, 'x',  'y',  0xfa, 0x80, 0x00, 0x00, 0x00, 0x01, 'c',  0x01,
        'z',  0xfa, 0x01, 'd',  0xc3, 0x02, 0x05, 'q',  'q',  0xfa, 0x09, 'r',  'e',  'd',  'i',
        's',  '-',  'v',  'e',  'r',  0x06, '7',  '.',  '0',  '.',  '1',  '5'};
    char writer[64];
    struct err e;
    int v;

    (void)state;
    assert_int_equal(server_rdb_header(redis741, sizeof(redis741), &v, writer, sizeof(writer), &e), 0);
    assert_int_equal(v, 12);
    assert_string_equal(writer, "Redis 7.4.1");
    assert_int_equal(server_rdb_header(valkey801, sizeof(valkey801), &v, writer, sizeof(writer), &e), 0);
    assert_int_equal(v, 11);
    assert_string_equal(writer, "Valkey 8.0.1");
    assert_int_equal(server_rdb_header(mixed, sizeof(mixed), &v, writer, sizeof(writer), &e), 0);
    assert_int_equal(v, 10);
    assert_string_equal(writer, "Redis 7.0.15");
    /* cut inside the AUX fields: the version, no writer */
    assert_int_equal(server_rdb_header(redis741, 22, &v, writer, sizeof(writer), &e), 0);
    assert_int_equal(v, 12);
    assert_string_equal(writer, "");
    assert_int_equal(server_rdb_header(mixed, sizeof(mixed) - 1, &v, writer, sizeof(writer), &e), 0);
    assert_string_equal(writer, "");
    /* a data opcode before any version AUX: none */
    assert_int_equal(server_rdb_header("REDIS0009\xfe\x00", 11, &v, writer, sizeof(writer), &e), 0);
    assert_int_equal(v, 9);
    assert_string_equal(writer, "");
    assert_int_equal(server_rdb_header("*2\r\n$6\r\nSELECT", 14, &v, writer, sizeof(writer), &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_int_equal(server_rdb_header("REDIS00x1", 9, &v, writer, sizeof(writer), &e), -1);
    assert_int_equal(server_rdb_header("REDIS", 5, &v, writer, sizeof(writer), &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),         cmocka_unit_test(test_version_line),
        cmocka_unit_test(test_rdb_versions), cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_rdb_header),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_chunkscan.c - unit tests of common/chunkscan.c: the marks of each
 * incr chunk (the "#TS:" lines that end in it, its first command boundary
 * with the db and second there), for every way of cutting one stream into
 * chunks, checked against what the stream's construction says; a start in
 * mid-stream from a recorded boundary; bytes that are not AOF; merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "chunkscan.h"

/* The stream under test and, for each of its bytes, what is true there. */
struct built {
    struct buf s;
    /* boundary points: offsets between commands, outside a transaction */
    uint64_t bpos[64];
    int bdb[64];
    int64_t bts[64];
    size_t nb;
    /* "#TS:" lines: their end offsets and values */
    uint64_t tsend[16];
    int64_t tsval[16];
    size_t nts;
    int db;
    int64_t ts;
};

static void boundary(struct built *b)
{
    b->bpos[b->nb] = b->s.len;
    b->bdb[b->nb] = b->db;
    b->bts[b->nb] = b->ts;
    b->nb++;
}

static void add_ts(struct built *b, int64_t t)
{
    buf_printf(&b->s, "#TS:%lld\r\n", (long long)t);
    b->ts = t;
    b->tsend[b->nts] = b->s.len;
    b->tsval[b->nts] = t;
    b->nts++;
    boundary(b);
}

static void add_cmd(struct built *b, const char *a0, const char *a1, const char *a2, int in_txn)
{
    const char *argv[3] = {a0, a1, a2};
    int argc = a2 != NULL ? 3 : a1 != NULL ? 2 : 1;

    buf_printf(&b->s, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        buf_printf(&b->s, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    if (strcmp(a0, "SELECT") == 0)
        b->db = a1[0] - '0';
    if (!in_txn)
        boundary(b);
}

/* #TS, SELECT, SET, a transaction, another second, a big value, SELECT 2 */
static void build(struct built *b)
{
    char big[300];

    memset(b, 0, sizeof(*b));
    b->ts = 1700000000; /* the lead second */
    boundary(b);        /* offset 0 */
    add_ts(b, 1700000001);
    add_cmd(b, "SELECT", "0", NULL, 0);
    add_cmd(b, "SET", "a", "1", 0);
    add_cmd(b, "MULTI", NULL, NULL, 1);
    add_cmd(b, "SET", "b", "2", 1);
    add_cmd(b, "INCR", "n", NULL, 1);
    add_cmd(b, "EXEC", NULL, NULL, 0);
    add_ts(b, 1700000002);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    add_cmd(b, "SET", "big", big, 0);
    add_cmd(b, "SELECT", "2", NULL, 0);
    add_cmd(b, "SET", "c", "3", 0);
    add_ts(b, 1700000005);
    add_cmd(b, "DEL", "a", NULL, 0);
}

/* What the marks of [s, e) must be. */
static void expected(const struct built *b, uint64_t s, uint64_t e, struct chunk_marks *m)
{
    memset(m, 0, sizeof(*m));
    m->known = 1;
    m->boundary = -1;
    for (size_t i = 0; i < b->nb; i++) {
        if (b->bpos[i] >= s && b->bpos[i] < e) {
            m->boundary = (int64_t)b->bpos[i];
            m->boundary_db = b->bdb[i];
            m->boundary_ts = b->bts[i];
            break;
        }
    }
    for (size_t i = 0; i < b->nts; i++) {
        if (b->tsend[i] > s && b->tsend[i] <= e) {
            if (m->ts_first == 0)
                m->ts_first = b->tsval[i];
            m->ts_last = b->tsval[i];
        }
    }
}

static void expect_marks(const struct chunk_marks *got, const struct chunk_marks *want, uint64_t s,
                         uint64_t e)
{
    if (got->known != want->known || got->ts_first != want->ts_first || got->ts_last != want->ts_last ||
        got->boundary != want->boundary ||
        (want->boundary >= 0 &&
         (got->boundary_db != want->boundary_db || got->boundary_ts != want->boundary_ts)))
        fail_msg("chunk [%llu, %llu): got known %d ts %lld..%lld boundary %lld db %d ts %lld; expected known "
                 "%d ts "
                 "%lld..%lld boundary %lld db %d ts %lld",
                 (unsigned long long)s, (unsigned long long)e, got->known, (long long)got->ts_first,
                 (long long)got->ts_last, (long long)got->boundary, got->boundary_db,
                 (long long)got->boundary_ts, want->known, (long long)want->ts_first,
                 (long long)want->ts_last, (long long)want->boundary, want->boundary_db,
                 (long long)want->boundary_ts);
}

/* Every chunk size from 1 byte to the whole stream, and a second cut: the
 * marks of each chunk are what the construction says. */
static void test_marks_every_split(void **state)
{
    struct built b;
    struct chunkscan cs;
    struct chunk_marks got, want;

    (void)state;
    build(&b);
    for (size_t size = 1; size <= b.s.len; size++) {
        chunkscan_init(&cs, 0, 0, 1700000000);
        for (size_t s = 0; s < b.s.len; s += size) {
            size_t e = s + size < b.s.len ? s + size : b.s.len;

            chunkscan_chunk(&cs, b.s.data + s, e - s, &got);
            expected(&b, s, e, &want);
            expect_marks(&got, &want, s, e);
        }
        assert_int_equal(chunkscan_known(&cs), 1);
        assert_int_equal(chunkscan_offset(&cs), b.s.len);
        assert_int_equal(chunkscan_ts(&cs), 1700000005);
    }
    buf_free(&b.s);
}

/* From a recorded boundary in mid-stream, with its db and second, the
 * marks of the chunks after it are the same as from the start. */
static void test_resume_at_boundary(void **state)
{
    struct built b;
    struct chunkscan cs;
    struct chunk_marks got, want;

    (void)state;
    build(&b);
    for (size_t i = 1; i < b.nb; i++) {
        uint64_t at = b.bpos[i];

        chunkscan_init(&cs, at, b.bdb[i], b.bts[i]);
        for (uint64_t s = at; s < b.s.len; s += 7) {
            uint64_t e = s + 7 < b.s.len ? s + 7 : b.s.len;

            chunkscan_chunk(&cs, b.s.data + s, (size_t)(e - s), &got);
            expected(&b, s, e, &want);
            expect_marks(&got, &want, s, e);
        }
    }
    buf_free(&b.s);
}

/* A stream with no "#TS:" keeps the lead second for its boundaries; bytes
 * that are not AOF make every later chunk unknown, without failing. */
static void test_lead_and_garbage(void **state)
{
    static const char plain[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n";
    struct chunkscan cs;
    struct chunk_marks m, m2;

    (void)state;
    chunkscan_init(&cs, 0, 0, 1700000009);
    chunkscan_chunk(&cs, plain, 10, &m);
    assert_int_equal(m.known, 1);
    assert_int_equal(m.boundary, 0);
    assert_int_equal(m.boundary_ts, 1700000009);
    assert_int_equal(m.ts_first, 0);
    chunkscan_chunk(&cs, plain + 10, sizeof(plain) - 1 - 10, &m);
    assert_int_equal(m.boundary, 23);
    assert_int_equal(m.boundary_db, 0);
    assert_int_equal(chunkscan_ts(&cs), 1700000009);

    chunkscan_chunk(&cs, "+OK\r\n", 5, &m);
    assert_int_equal(m.known, 0);
    assert_int_equal(chunkscan_known(&cs), 0);
    assert_true(strstr(chunkscan_error(&cs), "malformed AOF at byte 44") != NULL);
    assert_int_equal(chunkscan_ts(&cs), 0);
    chunkscan_chunk(&cs, plain, 10, &m);
    assert_int_equal(m.known, 0);

    /* merging the marks of two adjacent ranges */
    memset(&m, 0, sizeof(m));
    memset(&m2, 0, sizeof(m2));
    m.known = m2.known = 1;
    m.boundary = -1;
    m.ts_first = m.ts_last = 5;
    m2.boundary = 40;
    m2.boundary_db = 1;
    m2.ts_first = 6;
    m2.ts_last = 7;
    chunkscan_merge(&m, &m2);
    assert_int_equal(m.ts_first, 5);
    assert_int_equal(m.ts_last, 7);
    assert_int_equal(m.boundary, 40);
    assert_int_equal(m.boundary_db, 1);
    m2.known = 0;
    chunkscan_merge(&m, &m2);
    assert_int_equal(m.known, 0);

    chunkscan_init(&cs, 0, 0, 0);
    chunkscan_lose(&cs, "not seen");
    assert_string_equal(chunkscan_error(&cs), "not seen");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks_every_split),
        cmocka_unit_test(test_resume_at_boundary),
        cmocka_unit_test(test_lead_and_garbage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

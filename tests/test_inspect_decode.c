/* test_inspect_decode.c - decoding an incr stream from any offset
 * (replay/inspect/inspect_decode.c), the engine of show, log and timeline, over an
 * archive the test builds (archive_fixture.c).
 *
 * The stream: #TS lines, SELECTs to three dbs, MULTI/EXEC blocks, a value
 * holding "\r\n" and one holding a whole fake command after a newline (a
 * false boundary for the resynchronisation), a value larger than many
 * chunks, cut into 97-byte chunks (so every token straddles an edge
 * somewhere) and stored once with the collector's marks (chunkscan.c) and
 * once without. The test knows where every command starts and ends, its db,
 * its second and whether it is in a transaction; decoding from every
 * offset must report exactly the commands ending after it, whole, once,
 * with those fields (or -1 for a db or second the stream has not stated
 * yet, never a wrong one). Then: a stream whose state lies further back
 * than the decoder reads (db and second unknown until stated), the `to`
 * bound and stop_after_ts, a stream cut inside a command and one inside a
 * MULTI, a gap and a damaged object (errors naming them), and a callback
 * that stops or fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive_fixture.h"
#include "buf.h"
#include "chunkscan.h"
#include "inspect_decode.h"
#include "xalloc.h"

#define T0 1795000000
#define CHUNK 97
#define MAXCMD 1024

/* ------------------------------------------------------------------ */
/* Building a stream and knowing what is in it                          */
/* ------------------------------------------------------------------ */

struct want {
    uint64_t start, end;
    int db;
    int64_t ts;
    int in_txn;
};

struct stream {
    struct buf b;
    struct want cmd[MAXCMD];
    size_t n;
    int db;
    int64_t ts;
    int in_txn;
};

static void s_ts(struct stream *s, int64_t t)
{
    buf_printf(&s->b, "#TS:%" PRId64 "\r\n", t);
    s->ts = t;
}

/* One command of argc arguments; args may hold any byte (lengths given). */
static void s_cmdv(struct stream *s, int argc, const char *const *argv, const size_t *len)
{
    struct want *w = &s->cmd[s->n++];
    int i;

    assert_true(s->n <= MAXCMD);
    w->start = s->b.len;
    buf_printf(&s->b, "*%d\r\n", argc);
    for (i = 0; i < argc; i++) {
        buf_printf(&s->b, "$%zu\r\n", len[i]);
        buf_append(&s->b, argv[i], len[i]);
        buf_appendstr(&s->b, "\r\n");
    }
    w->end = s->b.len;
    if (strcasecmp(argv[0], "SELECT") == 0 && argc > 1)
        s->db = atoi(argv[1]);
    if (strcasecmp(argv[0], "MULTI") == 0)
        s->in_txn = 1;
    w->db = s->db;
    w->ts = s->ts;
    w->in_txn = s->in_txn;
    if (strcasecmp(argv[0], "EXEC") == 0)
        s->in_txn = 0;
}

static void s_cmd(struct stream *s, int argc, ...)
{
    const char *argv[8] = {NULL};
    size_t len[8] = {0};
    va_list ap;
    int i;

    assert_true(argc > 0 && argc <= 8);
    va_start(ap, argc);
    for (i = 0; i < argc; i++) {
        argv[i] = va_arg(ap, const char *);
        len[i] = strlen(argv[i]);
    }
    va_end(ap);
    s_cmdv(s, argc, argv, len);
}

static void s_set(struct stream *s, const char *key, const char *value, size_t len)
{
    const char *argv[3] = {"SET", key, value};
    size_t l[3] = {3, strlen(key), len};

    s_cmdv(s, 3, argv, l);
}

/* The main stream: about 9 KB, every feature above. */
static void stream_main(struct stream *s)
{
    char key[32], value[2048], db[8];
    int i, t = 0;

    memset(s, 0, sizeof(*s));
    s->ts = -1;
    s_ts(s, T0 + t++);
    s_cmd(s, 2, "SELECT", "0");
    for (i = 0; i < 120; i++) {
        size_t len = (size_t)(i % 7) * 10 + 3, j;

        if (i % 5 == 4)
            s_ts(s, T0 + t++);
        if (i % 17 == 16) {
            snprintf(db, sizeof(db), "%d", (i / 17) % 3);
            s_cmd(s, 2, "SELECT", db);
        }
        snprintf(key, sizeof(key), "key:%d", i);
        for (j = 0; j < len; j++)
            value[j] = (char)('a' + (i + j) % 26);
        if (i % 11 == 3)
            memcpy(value, "x\r\ny", 4 < len ? 4 : len);
        if (i == 23) {
            static const char fake[] = "v\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n";

            memcpy(value, fake, sizeof(fake) - 1);
            len = sizeof(fake) - 1;
        }
        if (i == 40) { /* larger than many chunks */
            for (j = 0; j < 1500; j++)
                value[j] = (char)('A' + j % 26);
            len = 1500;
        }
        s_set(s, key, value, len);
        if (i % 29 == 10) {
            s_cmd(s, 1, "MULTI");
            s_cmd(s, 3, "SET", "in-txn", key);
            s_cmd(s, 2, "INCR", "counter");
            s_cmd(s, 1, "EXEC");
        }
    }
}

/* Store s in generation g in CHUNK-byte chunks, observed one second per
 * chunk from T0; with_marks: the collector's marks for each. Returns the
 * number of chunks; ids[i] their row ids. */
static size_t store(struct archive *a, int64_t g, const struct stream *s, int with_marks, int64_t *ids,
                    uint64_t skip_from, uint64_t skip_to)
{
    struct chunkscan cs;
    struct chunk_marks m;
    uint64_t off;
    size_t n = 0;

    archive_generation(a, g, T0, 10, 1);
    chunkscan_init(&cs, 0, 0, 0);
    for (off = 0; off < s->b.len; off += CHUNK) {
        uint64_t end = off + CHUNK < s->b.len ? off + CHUNK : s->b.len;

        chunkscan_chunk(&cs, s->b.data + off, (size_t)(end - off), &m);
        if (off >= skip_from && off < skip_to)
            continue; /* a gap in the archive */
        ids[n++] = archive_chunk(a, g, CHUNK_INCR, s->b.data, off, end, T0 + (int64_t)(off / CHUNK),
                                 T0 + (int64_t)(off / CHUNK), with_marks ? &m : NULL);
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Decoding and checking                                                */
/* ------------------------------------------------------------------ */

struct got {
    struct inspect_cmd cmd[MAXCMD];
    char *raw[MAXCMD];
    size_t n;
    size_t stop_after; /* stop (1) after this many, 0: never */
    int fail;          /* fail (-1) at the first command */
};

static int on_command(void *ud, const struct inspect_cmd *c, struct err *e)
{
    struct got *g = ud;

    if (g->fail)
        return err_set(e, ERR_IO, "the callback fails");
    assert_true(g->n < MAXCMD);
    g->cmd[g->n] = *c;
    g->raw[g->n] = xcalloc(1, (size_t)(c->end - c->start) + 1);
    memcpy(g->raw[g->n], c->raw, (size_t)(c->end - c->start));
    g->n++;
    return g->stop_after != 0 && g->n >= g->stop_after ? 1 : 0;
}

static void got_free(struct got *g)
{
    size_t i;

    for (i = 0; i < g->n; i++)
        free(g->raw[i]);
    g->n = 0;
}

static int decode_split(struct archive *a, int64_t g, uint64_t from, uint64_t to, int64_t stop_after_ts,
                        int split, struct got *got, struct inspect_decode_result *r, struct err *e)
{
    struct inspect_decode_params p;
    struct fetch f;
    int rc;

    memset(&p, 0, sizeof(p));
    p.generation = g;
    p.kind = CHUNK_INCR;
    p.from = from;
    p.to = to;
    p.stop_after_ts = stop_after_ts;
    p.split = split;
    p.on_command = on_command;
    p.ud = got;
    fetch_init(&f, a->idx, a->st, a->instance, a->instance_id);
    err_clear(e);
    rc = inspect_decode(&f, &p, r, e);
    fetch_free(&f);
    return rc;
}

static int decode(struct archive *a, int64_t g, uint64_t from, uint64_t to, int64_t stop_after_ts,
                  struct got *got, struct inspect_decode_result *r, struct err *e)
{
    return decode_split(a, g, from, to, stop_after_ts, 1, got, r, e);
}

/* The commands reported equal s's commands ending after `from` and
 * starting before `to`, whole and in order; their db and second are the
 * stream's (or -1 until the stream states them, and then for good); the
 * chunk ids name the chunks holding their first and last byte. */
static void check(const struct stream *s, const struct got *got, const struct inspect_decode_result *r,
                  uint64_t from, uint64_t to, const int64_t *ids, int must_know)
{
    size_t i, k = 0;
    int db_known = 0, ts_known = 0;

    for (i = 0; i < s->n; i++) {
        const struct want *w = &s->cmd[i];
        const struct inspect_cmd *c;

        if (w->end <= from || w->start >= to)
            continue;
        if (k >= got->n)
            fail_msg("from %" PRIu64 ": command at %" PRIu64 " not reported", from, w->start);
        c = &got->cmd[k];
        assert_int_equal(c->start, w->start);
        assert_int_equal(c->end, w->end);
        assert_memory_equal(got->raw[k], s->b.data + w->start, (size_t)(w->end - w->start));
        assert_int_equal(c->in_txn, w->in_txn);
        assert_int_equal(c->generation, 1);
        assert_true(c->argc >= 1);
        if (c->db >= 0)
            db_known = 1;
        if (c->ts >= 0)
            ts_known = 1;
        if (db_known)
            assert_int_equal(c->db, w->db);
        else
            assert_int_equal(c->db, -1);
        if (ts_known)
            assert_int_equal(c->ts, w->ts);
        else
            assert_int_equal(c->ts, -1);
        if (must_know || r->exact) {
            assert_true(db_known);
            assert_true(ts_known);
        }
        if (ids != NULL) {
            assert_int_equal(c->chunk_id, ids[w->start / CHUNK]);
            assert_int_equal(c->end_chunk_id, ids[(w->end - 1) / CHUNK]);
            assert_int_equal(c->observed, T0 + (int64_t)((w->end - 1) / CHUNK));
        }
        k++;
    }
    assert_int_equal(got->n, k);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */
/* ------------------------------------------------------------------ */

static int setup(void **state)
{
    return archive_setup(state, "test_inspect_decode");
}

static struct stream S;
static struct got G;
static int64_t IDS[1024];

static void every_offset(struct archive *a, int marks)
{
    struct inspect_decode_result r;
    uint64_t from;
    struct err e;
    size_t n;

    stream_main(&S);
    n = store(a, 1, &S, marks, IDS, UINT64_MAX, UINT64_MAX);
    assert_true(n > 3 * INSPECT_CONTEXT_CHUNKS);
    for (from = 0; from <= S.b.len; from += 29) {
        uint64_t to = from + 400;

        assert_int_equal(decode(a, 1, from, to, INT64_MAX, &G, &r, &e), 0);
        check(&S, &G, &r, from, to, IDS, marks);
        assert_true(r.decode_start <= from);
        got_free(&G);
    }
    /* from the start: exact, to the end of the stream */
    assert_int_equal(decode(a, 1, 0, UINT64_MAX, INT64_MAX, &G, &r, &e), 0);
    assert_int_equal(r.exact, 1);
    assert_int_equal(r.decode_start, 0);
    assert_int_equal(r.at_stream_end, 1);
    assert_int_equal(r.truncated, 0);
    assert_int_equal(r.open_txn, 0);
    assert_int_equal(r.end, S.b.len);
    assert_int_equal(r.chunks, n);
    check(&S, &G, &r, 0, UINT64_MAX, IDS, 1);
    assert_int_equal(G.n, S.n);
    got_free(&G);
    buf_free(&S.b);
}

static void test_every_offset_marked(void **state)
{
    every_offset(*state, 1);
}

static void test_every_offset_unmarked(void **state)
{
    every_offset(*state, 0);
}

/* The db and the second were stated long before the bytes asked for: the
 * decoder does not read back that far, reports -1 until they are stated
 * again, and never guesses. */
static void test_state_far_back(void **state)
{
    struct archive *a = *state;
    struct inspect_decode_result r;
    char key[32], value[120];
    uint64_t from;
    struct err e;
    size_t i, n, first_known = 0;

    memset(&S, 0, sizeof(S));
    S.ts = -1;
    s_ts(&S, T0);
    s_cmd(&S, 2, "SELECT", "5");
    memset(value, 'v', sizeof(value));
    for (i = 0; i < 60; i++) {
        snprintf(key, sizeof(key), "far:%zu", i);
        s_set(&S, key, value, sizeof(value));
    }
    from = S.cmd[S.n - 3].start;
    s_cmd(&S, 2, "SELECT", "6");
    s_set(&S, "after-select", "1", 1);
    s_ts(&S, T0 + 9);
    s_set(&S, "after-ts", "1", 1);
    n = store(a, 1, &S, 0, IDS, UINT64_MAX, UINT64_MAX);
    assert_true((uint64_t)INSPECT_CONTEXT_CHUNKS * CHUNK < from);
    assert_true(n > INSPECT_CONTEXT_CHUNKS);
    assert_int_equal(decode(a, 1, from, UINT64_MAX, INT64_MAX, &G, &r, &e), 0);
    assert_int_equal(r.exact, 0);
    check(&S, &G, &r, from, UINT64_MAX, IDS, 0);
    assert_int_equal(G.n, 6);
    assert_int_equal(G.cmd[0].db, -1);
    assert_int_equal(G.cmd[0].ts, -1);
    for (i = 0; i < G.n; i++)
        if (G.cmd[i].db >= 0 && first_known == 0)
            first_known = i;
    assert_int_equal(G.cmd[first_known].start, S.cmd[S.n - 3].start); /* the SELECT 6 */
    assert_int_equal(G.cmd[G.n - 1].ts, T0 + 9);
    assert_int_equal(G.cmd[G.n - 2].ts, -1);
    got_free(&G);
    buf_free(&S.b);
}

static void test_bounds(void **state)
{
    struct archive *a = *state;
    struct inspect_decode_result r;
    struct err e;
    size_t i;

    stream_main(&S);
    store(a, 1, &S, 1, IDS, UINT64_MAX, UINT64_MAX);
    /* stop at the first #TS after T0 + 5: no command of a later second */
    assert_int_equal(decode(a, 1, 0, UINT64_MAX, T0 + 5, &G, &r, &e), 0);
    assert_true(G.n > 0);
    for (i = 0; i < S.n && S.cmd[i].ts <= T0 + 5; i++)
        ;
    assert_int_equal(G.n, i);
    assert_int_equal(G.cmd[G.n - 1].ts, T0 + 5);
    assert_int_equal(r.at_stream_end, 0);
    got_free(&G);
    /* nothing at or after `from`: an empty result at the stream's end */
    assert_int_equal(decode(a, 1, S.b.len + 10, UINT64_MAX, INT64_MAX, &G, &r, &e), 0);
    assert_int_equal(G.n, 0);
    assert_int_equal(r.at_stream_end, 1);
    /* the callback stops after 3: not an error */
    G.stop_after = 3;
    assert_int_equal(decode(a, 1, 1000, UINT64_MAX, INT64_MAX, &G, &r, &e), 0);
    assert_int_equal(G.n, 3);
    got_free(&G);
    G.stop_after = 0;
    /* the callback fails: its error comes back */
    G.fail = 1;
    assert_int_equal(decode(a, 1, 1000, UINT64_MAX, INT64_MAX, &G, &r, &e), -1);
    assert_string_equal(e.msg, "the callback fails");
    G.fail = 0;
    buf_free(&S.b);
}

static void test_stream_ends_mid_way(void **state)
{
    struct archive *a = *state;
    struct inspect_decode_result r;
    struct err e;
    size_t n;

    /* generation 1 ends inside a command, generation 2 inside a MULTI */
    stream_main(&S);
    S.b.len = S.cmd[S.n - 1].start + 7;
    store(a, 1, &S, 1, IDS, UINT64_MAX, UINT64_MAX);
    assert_int_equal(decode(a, 1, 0, UINT64_MAX, INT64_MAX, &G, &r, &e), 0);
    assert_int_equal(r.at_stream_end, 1);
    assert_int_equal(r.truncated, 1);
    assert_int_equal(r.truncated_at, S.cmd[S.n - 1].start);
    assert_int_equal(G.n, S.n - 1);
    got_free(&G);
    buf_free(&S.b);

    memset(&S, 0, sizeof(S));
    S.ts = -1;
    s_ts(&S, T0);
    s_cmd(&S, 2, "SELECT", "0");
    s_cmd(&S, 3, "SET", "a", "1");
    s_cmd(&S, 1, "MULTI");
    s_cmd(&S, 3, "SET", "b", "2");
    n = store(a, 2, &S, 1, IDS, UINT64_MAX, UINT64_MAX);
    assert_true(n >= 1);
    assert_int_equal(decode_split(a, 2, 0, UINT64_MAX, INT64_MAX, 0, &G, &r, &e), 0);
    assert_int_equal(r.open_txn, 1);
    assert_int_equal(r.open_txn_at, S.cmd[2].start); /* its MULTI */
    assert_int_equal(r.truncated, 0);
    assert_int_equal(G.n, 4);
    assert_null(G.cmd[0].argv); /* split 0: no argv */
    got_free(&G);
    buf_free(&S.b);
}

static void test_gap_and_damage(void **state)
{
    struct archive *a = *state;
    struct inspect_decode_result r;
    char want[200], path[2048];
    struct chunk_row row;
    struct err e;
    FILE *fp;

    stream_main(&S);
    /* the chunk at [10 * CHUNK, 11 * CHUNK) is missing */
    store(a, 1, &S, 1, IDS, 10 * CHUNK, 11 * CHUNK);
    assert_int_equal(decode(a, 1, 0, UINT64_MAX, INT64_MAX, &G, &r, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    snprintf(want, sizeof(want), "incr bytes [%d, %d) are missing", 10 * CHUNK, 11 * CHUNK);
    assert_non_null(strstr(e.msg, want));
    got_free(&G);
    /* before the gap, all is well */
    assert_int_equal(decode(a, 1, 0, 9 * CHUNK, INT64_MAX, &G, &r, &e), 0);
    check(&S, &G, &r, 0, 9 * CHUNK, NULL, 1);
    got_free(&G);
    /* a damaged object: named */
    assert_int_equal(index_chunk_get(a->idx, IDS[3], &row, &e), 0);
    snprintf(path, sizeof(path), "%s/store/%s", a->dir, row.key);
    fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 12, SEEK_SET);
    fputc(0x5a, fp);
    fclose(fp);
    assert_int_equal(decode(a, 1, 0, UINT64_MAX, INT64_MAX, &G, &r, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, row.key));
    got_free(&G);
    buf_free(&S.b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, archive_teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_offset_marked), T(test_every_offset_unmarked), T(test_state_far_back), T(test_bounds),
        T(test_stream_ends_mid_way), T(test_gap_and_damage),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}

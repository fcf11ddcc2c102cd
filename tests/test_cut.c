/* test_cut.c - the cut engine (replay/engine/cut.c): where restore and apply stop
 * in an incr stream, what they hand over, and what they report left out.
 *
 * One stream with #TS lines, SELECTs, two MULTI blocks (the second left
 * open at the end), a value holding "\r\n", and a FLUSHALL is cut under
 * every rule; each case is fed in slices of every size from 1 byte to the
 * whole stream, so that every token straddles a slice boundary somewhere,
 * and must hand over exactly the stream's bytes before the cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cut.h"

/* ------------------------------------------------------------------ */
/* The stream                                                           */
/* ------------------------------------------------------------------ */

static void resp(struct buf *b, int argc, ...)
{
    va_list ap;
    int i;

    va_start(ap, argc);
    buf_printf(b, "*%d\r\n", argc);
    for (i = 0; i < argc; i++) {
        const char *a = va_arg(ap, const char *);

        buf_printf(b, "$%zu\r\n%s\r\n", strlen(a), a);
    }
    va_end(ap);
}

struct stream {
    struct buf b;
    size_t ts101;  /* "#TS:101" line */
    size_t multi1; /* first MULTI */
    size_t ts102;
    size_t flush; /* flushall */
    size_t ts103;
    size_t multi2; /* the MULTI left open */
};

static int stream_setup(void **state)
{
    static struct stream s;
    struct buf *b = &s.b;

    memset(&s, 0, sizeof(s));
    buf_appendstr(b, "#TS:100\r\n");
    resp(b, 2, "SELECT", "0");
    resp(b, 3, "SET", "a", "1");
    s.ts101 = b->len;
    buf_appendstr(b, "#TS:101\r\n");
    s.multi1 = b->len;
    resp(b, 1, "MULTI");
    resp(b, 3, "SET", "b", "2");
    resp(b, 2, "SELECT", "3");
    resp(b, 2, "INCR", "n");
    resp(b, 1, "EXEC");
    s.ts102 = b->len;
    buf_appendstr(b, "#TS:102\r\n");
    resp(b, 3, "set", "c", "x\r\ny");
    s.flush = b->len;
    resp(b, 1, "flushall");
    s.ts103 = b->len;
    buf_appendstr(b, "#TS:103\r\n");
    s.multi2 = b->len;
    resp(b, 1, "MULTI");
    resp(b, 3, "SET", "d", "4");
    resp(b, 2, "INCR", "e");
    resp(b, 2, "DEL", "f");
    resp(b, 2, "DEL", "g");
    *state = &s;
    return 0;
}

static int stream_teardown(void **state)
{
    struct stream *s = *state;

    buf_free(&s->b);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Running a cut                                                        */
/* ------------------------------------------------------------------ */

struct sink {
    struct buf out;
    int commands;
    int fail_at; /* fail the n-th event (1-based), 0 never */
    int events;
};

static int sink_emit(void *ud, const char *data, size_t len, const struct cut_event *ev, struct err *e)
{
    struct sink *k = ud;

    assert_int_equal(ev->end - ev->start, len);
    if (++k->events == k->fail_at)
        return err_set(e, ERR_IO, "sink full");
    buf_append(&k->out, data, len);
    if (!ev->is_ts)
        k->commands++;
    return 0;
}

static struct cut_params params(void)
{
    struct cut_params p;

    memset(&p, 0, sizeof(p));
    p.exact = 1;
    p.limit = UINT64_MAX;
    p.stop_from_ts = INT64_MIN;
    p.start_ts = -1;
    return p;
}

/* Feed stream[p->start, len) in slices of `slice` bytes; finish at the end. */
static void run(const char *data, size_t len, size_t slice, const struct cut_params *p, struct sink *k,
                struct cut *c)
{
    struct err e;
    size_t off = p->start;
    int rc = 0;

    err_clear(&e);
    memset(k, 0, sizeof(*k));
    cut_init(c, p, sink_emit, k);
    while (off < len) {
        size_t n = len - off < slice ? len - off : slice;

        rc = cut_feed(c, data + off, n, &e);
        assert_true(rc >= 0);
        if (rc > 0)
            break;
        off += n;
    }
    if (rc == 0)
        assert_int_equal(cut_finish(c, &e), 0);
    assert_true(cut_done(c));
}

/* The sink got exactly stream[from, to). */
static void assert_handed(const struct sink *k, const struct buf *b, size_t from, size_t to)
{
    assert_int_equal(k->out.len, to - from);
    assert_memory_equal(k->out.data, b->data + from, to - from);
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */
/* ------------------------------------------------------------------ */

static void test_exact_cut_before_later_second(void **state)
{
    struct stream *s = *state;
    size_t slice;

    for (slice = 1; slice <= s->b.len; slice++) {
        struct cut_params p = params();
        struct sink k;
        struct cut c;
        const struct cut_result *r;

        p.to = 100;
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_int_equal(r->reason, CUT_AT_TS);
        assert_int_equal(r->offset, s->ts101);
        assert_int_equal(r->commands, 1);
        assert_int_equal(r->ts, 100);
        assert_handed(&k, &s->b, 0, s->ts101);
        cut_free(&c);
        buf_free(&k.out);

        p.to = 101; /* after a whole transaction that switched db */
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_int_equal(r->offset, s->ts102);
        assert_int_equal(r->db, 3);
        assert_int_equal(r->commands, 3);
        assert_int_equal(r->ndbs, 2);
        assert_false(r->txn_left_out);
        assert_handed(&k, &s->b, 0, s->ts102);
        cut_free(&c);
        buf_free(&k.out);
    }
}

static void test_open_transaction_at_end_left_out(void **state)
{
    struct stream *s = *state;
    size_t slice;

    for (slice = 1; slice <= s->b.len; slice++) {
        struct cut_params p = params();
        struct sink k;
        struct cut c;
        const struct cut_result *r;

        p.to = 200;
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_int_equal(r->reason, CUT_AT_END);
        assert_int_equal(r->offset, s->multi2);
        assert_true(r->txn_left_out);
        assert_int_equal(r->txn_offset, s->multi2);
        assert_int_equal(r->txn_ts, 103);
        assert_int_equal(r->txn_commands, 4);
        assert_string_equal(r->txn_preview.data, "SET d 4, INCR e, DEL f, ...");
        assert_int_equal(r->newest_ts, 103);
        assert_handed(&k, &s->b, 0, s->multi2);
        cut_free(&c);
        buf_free(&k.out);
    }
}

static void test_truncated_command_left_out(void **state)
{
    struct stream *s = *state;
    struct cut_params p = params();
    struct sink k;
    struct cut c;
    const struct cut_result *r;

    p.to = 200;
    run(s->b.data, s->ts103 - 2, 7, &p, &k, &c); /* the FLUSHALL lacks its last "\r\n" */
    r = cut_result(&c);
    assert_int_equal(r->reason, CUT_AT_END);
    assert_int_equal(r->offset, s->flush);
    assert_true(r->truncated);
    assert_int_equal(r->truncated_offset, s->flush);
    assert_int_equal(r->truncated_bytes, s->ts103 - 2 - s->flush);
    assert_false(r->txn_left_out);
    assert_handed(&k, &s->b, 0, s->flush);
    cut_free(&c);
    buf_free(&k.out);
}

static void test_stop_before(void **state)
{
    struct stream *s = *state;
    struct cut_pattern pat;
    struct err e;
    size_t slice;

    err_clear(&e);
    assert_int_equal(cut_pattern_parse(" FLUSHALL | flushdb", &pat, &e), 0);
    assert_int_equal(pat.n, 2);
    for (slice = 1; slice <= s->b.len; slice++) {
        struct cut_params p = params();
        struct sink k;
        struct cut c;
        const struct cut_result *r;

        p.to = 200;
        p.stop_before = &pat;
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_int_equal(r->reason, CUT_AT_STOP);
        assert_true(r->stop_found);
        assert_int_equal(r->stop_offset, s->flush);
        assert_int_equal(r->offset, s->flush);
        assert_int_equal(r->stop_ts, 102);
        assert_int_equal(r->stop_db, 3);
        assert_string_equal(r->stop_command.data, "flushall");
        assert_handed(&k, &s->b, 0, s->flush);
        cut_free(&c);
        buf_free(&k.out);

        p.stop_from_ts = 103; /* after the FLUSHALL: no match, cut at the end */
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_false(r->stop_found);
        assert_int_equal(r->reason, CUT_AT_END);
        cut_free(&c);
        buf_free(&k.out);
    }
    cut_pattern_free(&pat);
}

static void test_stop_before_inside_transaction(void **state)
{
    struct stream *s = *state;
    struct cut_pattern pat;
    struct cut_params p = params();
    struct sink k;
    struct cut c;
    const struct cut_result *r;
    struct err e;

    err_clear(&e);
    assert_int_equal(cut_pattern_parse("incr", &pat, &e), 0);
    p.to = 200;
    p.stop_before = &pat;
    run(s->b.data, s->b.len, 5, &p, &k, &c);
    r = cut_result(&c);
    assert_true(r->stop_in_txn);
    assert_int_equal(r->offset, s->multi1); /* the whole transaction goes */
    assert_true(r->txn_left_out);
    assert_int_equal(r->txn_commands, 2);
    assert_string_equal(r->txn_preview.data, "SET b 2, SELECT 3");
    assert_string_equal(r->stop_command.data, "INCR n");
    assert_int_equal(r->db, 0);
    assert_handed(&k, &s->b, 0, s->multi1);
    cut_free(&c);
    buf_free(&k.out);
    cut_pattern_free(&pat);
}

static void test_size_log_limit(void **state)
{
    struct stream *s = *state;
    size_t slice;

    for (slice = 1; slice <= s->b.len; slice++) {
        struct cut_params p = params();
        struct sink k;
        struct cut c;
        const struct cut_result *r;

        p.exact = 0;
        p.limit = s->multi1 + 20; /* inside the first transaction */
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_int_equal(r->reason, CUT_AT_LIMIT);
        assert_int_equal(r->offset, s->multi1);
        assert_true(r->txn_left_out);
        assert_int_equal(cut_fed(&c), s->multi1 + 20); /* nothing read past the limit */
        assert_handed(&k, &s->b, 0, s->multi1);
        cut_free(&c);
        buf_free(&k.out);

        p.limit = s->flush + 3; /* inside a command */
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_int_equal(r->offset, s->flush);
        assert_true(r->truncated);
        assert_int_equal(r->truncated_bytes, 3);
        assert_handed(&k, &s->b, 0, s->flush);
        cut_free(&c);
        buf_free(&k.out);

        p.limit = s->ts102; /* exactly at a boundary */
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_int_equal(r->offset, s->ts102);
        assert_false(r->truncated);
        assert_false(r->txn_left_out);
        cut_free(&c);
        buf_free(&k.out);
    }
}

static void test_start_mid_stream(void **state)
{
    struct stream *s = *state;
    size_t slice;

    for (slice = 1; slice <= s->b.len; slice++) {
        struct cut_params p = params();
        struct sink k;
        struct cut c;
        const struct cut_result *r;

        p.to = 102;
        p.start = s->ts102;
        p.start_db = 3;
        p.start_ts = 101;
        run(s->b.data, s->b.len, slice, &p, &k, &c);
        r = cut_result(&c);
        assert_int_equal(r->offset, s->ts103);
        assert_int_equal(r->commands, 2);
        assert_int_equal(r->ndbs, 1);
        assert_int_equal(r->db, 3);
        assert_handed(&k, &s->b, s->ts102, s->ts103);
        cut_free(&c);
        buf_free(&k.out);
    }
}

static void test_sink_error_stops(void **state)
{
    struct stream *s = *state;
    struct cut_params p = params();
    struct sink k;
    struct cut c;
    struct err e;

    p.to = 200;
    memset(&k, 0, sizeof(k));
    k.fail_at = 3;
    err_clear(&e);
    cut_init(&c, &p, sink_emit, &k);
    assert_int_equal(cut_feed(&c, s->b.data, s->b.len, &e), -1);
    assert_string_equal(e.msg, "sink full");
    cut_free(&c);
    buf_free(&k.out);
}

static void test_pattern_errors(void **state)
{
    struct cut_pattern pat;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(cut_pattern_parse("FLUSHALL||FLUSHDB", &pat, &e), -1);
    assert_int_equal(e.code, ERR_USAGE);
    assert_string_equal(e.msg, "--stop-before: empty command name in \"FLUSHALL||FLUSHDB\"");
    assert_int_equal(cut_pattern_parse("", &pat, &e), -1);
    assert_int_equal(cut_pattern_parse("FLUSHALL,,FLUSHDB", &pat, &e), -1);
    /* log --cmd's syntax: commas as well as bars */
    assert_int_equal(cut_pattern_parse("FLUSHALL, flushdb|DEL", &pat, &e), 0);
    assert_int_equal(pat.n, 3);
    assert_true(cut_pattern_match(&pat, "flushdb", 7));
    assert_true(cut_pattern_match(&pat, "FLUSHALL", 8));
    assert_false(cut_pattern_match(&pat, "FLUSHALL,FLUSHDB", 16));
    cut_pattern_free(&pat);
    assert_int_equal(cut_pattern_parse("DEL", &pat, &e), 0);
    assert_true(cut_pattern_match(&pat, "del", 3));
    assert_false(cut_pattern_match(&pat, "DELX", 4));
    assert_false(cut_pattern_match(&pat, "DE", 2));
    cut_pattern_free(&pat);
}

static void test_render_command(void **state)
{
    struct buf b = BUF_INIT, out = BUF_INIT;

    (void)state;
    resp(&b, 3, "SET", "k y", "a\r\n\x01");
    cut_render_command(b.data, b.len, 32, &out);
    assert_string_equal(out.data, "SET \"k y\" a\\x0d\\x0a\\x01");
    buf_reset(&b);
    buf_reset(&out);
    resp(&b, 2, "SET", "abcdefghij");
    cut_render_command(b.data, b.len, 4, &out);
    assert_string_equal(out.data, "SET abcd...");
    buf_free(&b);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_cut_before_later_second),
        cmocka_unit_test(test_open_transaction_at_end_left_out),
        cmocka_unit_test(test_truncated_command_left_out),
        cmocka_unit_test(test_stop_before),
        cmocka_unit_test(test_stop_before_inside_transaction),
        cmocka_unit_test(test_size_log_limit),
        cmocka_unit_test(test_start_mid_stream),
        cmocka_unit_test(test_sink_error_stops),
        cmocka_unit_test(test_pattern_errors),
        cmocka_unit_test(test_render_command),
    };

    return cmocka_run_group_tests(tests, stream_setup, stream_teardown);
}

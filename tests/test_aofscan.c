/* test_aofscan.c - unit tests for the AOF scanner (common/aofscan.c).
 *
 * A builder writes a stream (binary values holding "\r\n" and NUL, "#TS:"
 * lines, MULTI/EXEC and DISCARD blocks, SELECT across dbs, a value larger
 * than 64 KiB, a name longer than AOFSCAN_NAME_MAX, headers with leading
 * zeros) and, independently of the scanner, the events it must produce and
 * the scanner's state at every command boundary. The scanner must produce
 * exactly those events whether the stream is fed whole, in two slices split
 * at every possible point, byte by byte, or stopped by the callback at every
 * event and resumed; where()/safe_offset()/txn_start()/db() must match the
 * model at every prefix length; malformed inputs must fail with the exact
 * message and absolute offset however they are sliced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aofscan.h"
#include "buf.h"
#include "xalloc.h"

enum ev_type { EV_COMMAND, EV_TS };

struct event {
    enum ev_type type;
    uint64_t start, end;
    long argc;
    char name[AOFSCAN_NAME_MAX + 1];
    size_t name_len;
    enum aofscan_kind kind;
    int db;
    int in_txn;
    uint64_t txn_start;
    int64_t ts;
};

struct events {
    struct event *ev;
    size_t n, cap;
};

static void events_add(struct events *es, const struct event *ev)
{
    if (es->n == es->cap) {
        es->cap = es->cap ? es->cap * 2 : 64;
        es->ev = xrealloc(es->ev, es->cap * sizeof(*es->ev));
    }
    es->ev[es->n++] = *ev;
}

static void events_free(struct events *es)
{
    free(es->ev);
    es->ev = NULL;
    es->n = es->cap = 0;
}

/* ------------------------------------------------------------------------
 * The stream builder and its model of the scanner's state.
 * ------------------------------------------------------------------------ */

/* The state the scanner must be in at one command boundary. */
struct boundary {
    uint64_t offset;
    int in_txn;
    uint64_t txn_start;
    int db;
};

struct stream {
    struct buf bytes;
    struct events expect;
    struct boundary *bounds; /* bounds[0] is offset 0 */
    size_t nbounds;
    /* the model */
    int db;
    int in_txn;
    uint64_t txn_start;
    int64_t ts;
};

static void stream_mark(struct stream *st)
{
    struct boundary *b;

    st->bounds = xrealloc(st->bounds, (st->nbounds + 1) * sizeof(*st->bounds));
    b = &st->bounds[st->nbounds++];
    b->offset = st->bytes.len;
    b->in_txn = st->in_txn;
    b->txn_start = st->txn_start;
    b->db = st->db;
}

static void stream_init(struct stream *st)
{
    memset(st, 0, sizeof(*st));
    st->ts = -1;
    stream_mark(st);
}

static void stream_free(struct stream *st)
{
    buf_free(&st->bytes);
    events_free(&st->expect);
    free(st->bounds);
}

/* The expected event for a command of `argc` arguments whose bytes were
 * just appended from `start`, argv[0] being name/name_len. */
static void stream_command_done(struct stream *st, uint64_t start, long argc, const char *name,
                                size_t name_len, const char *arg1, size_t arg1_len)
{
    struct event ev;
    int was_in_txn = st->in_txn;
    char word[16];

    memset(&ev, 0, sizeof(ev));
    ev.type = EV_COMMAND;
    ev.start = start;
    ev.end = st->bytes.len;
    ev.argc = argc;
    ev.name_len = name_len;
    memcpy(ev.name, name, name_len < AOFSCAN_NAME_MAX ? name_len : AOFSCAN_NAME_MAX);
    ev.kind = AOFSCAN_CMD_OTHER;
    if (name_len < sizeof(word)) {
        memcpy(word, name, name_len);
        word[name_len] = '\0';
        if (strcasecmp(word, "multi") == 0) {
            ev.kind = AOFSCAN_CMD_MULTI;
            if (!st->in_txn) {
                st->in_txn = 1;
                st->txn_start = start;
            }
        } else if (strcasecmp(word, "exec") == 0 || strcasecmp(word, "discard") == 0) {
            ev.kind = word[0] == 'e' || word[0] == 'E' ? AOFSCAN_CMD_EXEC : AOFSCAN_CMD_DISCARD;
            st->in_txn = 0;
        } else if (strcasecmp(word, "select") == 0) {
            char num[32];

            ev.kind = AOFSCAN_CMD_SELECT;
            assert_true(arg1 != NULL && arg1_len < sizeof(num));
            memcpy(num, arg1, arg1_len);
            num[arg1_len] = '\0';
            st->db = atoi(num);
        }
    }
    ev.db = st->db;
    ev.in_txn = was_in_txn || st->in_txn;
    ev.txn_start = ev.in_txn ? st->txn_start : 0;
    ev.ts = st->ts;
    events_add(&st->expect, &ev);
    stream_mark(st);
}

/* Append one command from binary arguments. */
static void stream_cmdv(struct stream *st, long argc, const char *const *argv, const size_t *lens)
{
    uint64_t start = st->bytes.len;
    long i;

    buf_printf(&st->bytes, "*%ld\r\n", argc);
    for (i = 0; i < argc; i++) {
        buf_printf(&st->bytes, "$%zu\r\n", lens[i]);
        buf_append(&st->bytes, argv[i], lens[i]);
        buf_append(&st->bytes, "\r\n", 2);
    }
    stream_command_done(st, start, argc, argv[0], lens[0], argc > 1 ? argv[1] : NULL, argc > 1 ? lens[1] : 0);
}

/* Append one command from NUL-terminated arguments (NULL ends the list). */
static void stream_cmd(struct stream *st, ...)
{
    const char *argv[64];
    size_t lens[64];
    long argc = 0;
    const char *a;
    va_list ap;

    va_start(ap, st);
    while ((a = va_arg(ap, const char *)) != NULL) {
        assert_true(argc < 64);
        argv[argc] = a;
        lens[argc] = strlen(a);
        argc++;
    }
    va_end(ap);
    stream_cmdv(st, argc, argv, lens);
}

/* Append a command written by hand (odd but valid header spellings). */
static void stream_raw_cmd(struct stream *st, const char *raw, long argc, const char *name)
{
    uint64_t start = st->bytes.len;

    buf_appendstr(&st->bytes, raw);
    stream_command_done(st, start, argc, name, strlen(name), NULL, 0);
}

static void stream_ts(struct stream *st, int64_t ts)
{
    struct event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = EV_TS;
    ev.start = st->bytes.len;
    buf_printf(&st->bytes, "#TS:%" PRId64 "\r\n", ts);
    ev.end = st->bytes.len;
    ev.ts = ts;
    st->ts = ts;
    events_add(&st->expect, &ev);
    stream_mark(st);
}

#define BIG_VALUE_LEN 70000

/* The stream most tests use. */
static void build_stream(struct stream *st)
{
    static const char binary[] = "a\r\nb\0c\r\n*1\r\n$4\r\nPING\r\n#TS:1\r\n\r";
    static const char binkey[] = "k\0\r\n";
    const char *argv[3];
    size_t lens[3];
    char *big;
    size_t i;

    stream_init(st);
    /* a command before any annotation: ts -1 */
    stream_cmd(st, "SELECT", "0", NULL);
    stream_cmd(st, "SET", "early", "1", NULL);
    stream_ts(st, 1763651521);
    stream_cmd(st, "SET", "plain", "value", "KEEPTTL", NULL);
    argv[0] = "SET";
    lens[0] = 3;
    argv[1] = binkey;
    lens[1] = sizeof(binkey) - 1;
    argv[2] = binary;
    lens[2] = sizeof(binary) - 1;
    stream_cmdv(st, 3, argv, lens);
    /* an empty value */
    stream_cmd(st, "SET", "empty", "", NULL);
    stream_ts(st, 1763651522);
    /* a transaction */
    stream_cmd(st, "MULTI", NULL);
    stream_cmd(st, "SET", "a", "1", NULL);
    stream_cmd(st, "INCR", "a", NULL);
    stream_cmd(st, "LPUSH", "list", "x", "y", "z", "w", NULL);
    stream_cmd(st, "EXEC", NULL);
    /* another db, a discarded transaction (with a SELECT inside) */
    stream_cmd(st, "SeLeCt", "3", NULL);
    stream_cmd(st, "multi", NULL);
    stream_cmd(st, "set", "b", "2", NULL);
    stream_cmd(st, "select", "4", NULL);
    stream_cmd(st, "del", "b", NULL);
    stream_cmd(st, "Discard", NULL);
    stream_ts(st, 1763651530);
    /* a value larger than 64 KiB */
    big = xmalloc(BIG_VALUE_LEN);
    for (i = 0; i < BIG_VALUE_LEN; i++)
        big[i] = (char)(i * 7 + (i >> 8));
    argv[0] = "set";
    lens[0] = 3;
    argv[1] = "big";
    lens[1] = 3;
    argv[2] = big;
    lens[2] = BIG_VALUE_LEN;
    stream_cmdv(st, 3, argv, lens);
    free(big);
    /* a name longer than AOFSCAN_NAME_MAX, and names that only look like
     * the commands the scanner tracks */
    stream_cmd(st, "AVeryLongModuleCommandNameBeyond32Bytes.x", "arg", NULL);
    stream_cmd(st, "EXECX", NULL);
    stream_cmd(st, "SELEC", "9", NULL);
    /* header numbers with leading zeros: longer than the fast path takes */
    stream_raw_cmd(st, "*0000000000000000002\r\n$00000000000000000004\r\nINCR\r\n$1\r\nn\r\n", 2, "INCR");
    stream_raw_cmd(st, "*02\r\n$003\r\nDEL\r\n$01\r\nn\r\n", 2, "DEL");
    stream_cmd(st, "SELECT", "2147483647", NULL);
    stream_cmd(st, "PEXPIREAT", "early", "1763651600000", NULL);
    stream_ts(st, 1763651600);
    stream_cmd(st, "SELECT", "12", NULL);
    stream_cmd(st, "MULTI", NULL);
    stream_cmd(st, "SET", "c", "3", NULL);
    stream_cmd(st, "EXEC", NULL);
    stream_cmd(st, "FLUSHALL", NULL);
}

/* ------------------------------------------------------------------------
 * Recording what the scanner reports.
 * ------------------------------------------------------------------------ */

struct recorder {
    struct events got;
    const struct aofscan *s;
    long stop_at;   /* stop after this event (index in got), -1: never */
    int stop_every; /* stop after every event */
};

static int rec_command(void *ud, const struct aofscan_command *cmd)
{
    struct recorder *r = ud;
    struct event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = EV_COMMAND;
    ev.start = cmd->start;
    ev.end = cmd->end;
    ev.argc = cmd->argc;
    assert_true(strlen(cmd->name) <= AOFSCAN_NAME_MAX);
    memcpy(ev.name, cmd->name, sizeof(ev.name));
    ev.name_len = cmd->name_len;
    ev.kind = cmd->kind;
    ev.db = cmd->db;
    ev.in_txn = cmd->in_txn;
    ev.txn_start = cmd->txn_start;
    ev.ts = cmd->ts;
    /* the scanner's state already stands after the command */
    assert_int_equal(aofscan_offset(r->s), cmd->end);
    assert_int_equal(aofscan_db(r->s), cmd->db);
    events_add(&r->got, &ev);
    return r->stop_every || (long)r->got.n - 1 == r->stop_at;
}

static int rec_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    struct recorder *r = ud;
    struct event ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = EV_TS;
    ev.start = start;
    ev.end = end;
    ev.ts = ts;
    assert_int_equal(aofscan_offset(r->s), end);
    events_add(&r->got, &ev);
    return r->stop_every || (long)r->got.n - 1 == r->stop_at;
}

static const struct aofscan_callbacks rec_callbacks = {rec_command, rec_timestamp};

static void recorder_start(struct recorder *r, struct aofscan *s, uint64_t base)
{
    memset(r, 0, sizeof(*r));
    r->s = s;
    r->stop_at = -1;
    aofscan_init(s, base, &rec_callbacks, r);
}

/* Compare what was recorded with what the builder expects, `base` added to
 * every expected offset. `where` names the feeding pattern in failures. */
static void assert_events(const struct events *got, const struct events *want, uint64_t base,
                          const char *where)
{
    size_t i;

    if (got->n != want->n)
        fail_msg("%s: %zu events, expected %zu", where, got->n, want->n);
    for (i = 0; i < want->n; i++) {
        const struct event *g = &got->ev[i], *w = &want->ev[i];

        if (g->type != w->type || g->start != w->start + base || g->end != w->end + base)
            fail_msg("%s: event %zu: type %d [%" PRIu64 ", %" PRIu64 "), expected type %d [%" PRIu64
                     ", %" PRIu64 ")",
                     where, i, g->type, g->start, g->end, w->type, w->start + base, w->end + base);
        if (g->ts != w->ts)
            fail_msg("%s: event %zu: ts %" PRId64 ", expected %" PRId64, where, i, g->ts, w->ts);
        if (w->type == EV_TS)
            continue;
        if (g->argc != w->argc || g->name_len != w->name_len || strcmp(g->name, w->name) != 0 ||
            g->kind != w->kind)
            fail_msg("%s: event %zu: %s/%zu argc %ld kind %d, expected %s/%zu argc %ld kind %d", where, i,
                     g->name, g->name_len, g->argc, g->kind, w->name, w->name_len, w->argc, w->kind);
        if (g->db != w->db || g->in_txn != w->in_txn || g->txn_start != (w->in_txn ? w->txn_start + base : 0))
            fail_msg("%s: event %zu (%s): db %d in_txn %d txn_start %" PRIu64 ", expected %d %d %" PRIu64,
                     where, i, w->name, g->db, g->in_txn, g->txn_start, w->db, w->in_txn,
                     w->in_txn ? w->txn_start + base : 0);
    }
}

static void feed_ok(struct aofscan *s, const char *p, size_t len)
{
    struct err e;
    size_t used = 12345;
    int rc;

    err_clear(&e);
    rc = aofscan_feed(s, p, len, &used, &e);
    if (rc != 0)
        fail_msg("feed of %zu bytes returned %d (%s)", len, rc, e.msg);
    assert_int_equal(used, len);
}

/* ------------------------------------------------------------------------
 * Tests: whole, split and byte-wise feeding.
 * ------------------------------------------------------------------------ */

/* The builder's expectations are themselves checked against facts
 * written out by hand, so that a shared mistake cannot pass unseen. */
static void test_model_facts(void **state)
{
    struct stream st;
    const struct event *ev;
    size_t i, multi = 0, commands = 0;

    (void)state;
    build_stream(&st);
    ev = st.expect.ev;
    assert_int_equal(ev[0].kind, AOFSCAN_CMD_SELECT);
    assert_int_equal(ev[1].ts, -1);
    assert_int_equal(ev[2].type, EV_TS);
    assert_int_equal(ev[3].ts, 1763651521);
    for (i = 0; i < st.expect.n; i++) {
        if (ev[i].type == EV_COMMAND)
            commands++;
        if (ev[i].kind == AOFSCAN_CMD_MULTI && multi == 0)
            multi = i;
    }
    assert_int_equal(commands, 29);
    assert_int_equal(ev[multi + 1].in_txn, 1);
    assert_int_equal(ev[multi + 1].txn_start, ev[multi].start);
    assert_int_equal(ev[multi + 4].kind, AOFSCAN_CMD_EXEC);
    assert_int_equal(ev[multi + 4].in_txn, 1);
    assert_int_equal(ev[multi + 5].in_txn, 0);
    assert_int_equal(ev[multi + 5].db, 3);
    assert_int_equal(ev[multi + 9].db, 4); /* "select 4" inside the discarded block */
    assert_int_equal(ev[multi + 10].kind, AOFSCAN_CMD_DISCARD);
    assert_int_equal(st.expect.ev[st.expect.n - 1].db, 12);
    assert_int_equal(st.expect.ev[st.expect.n - 1].ts, 1763651600);
    assert_true(st.bytes.len > BIG_VALUE_LEN);
    stream_free(&st);
}

static void test_whole_feed(void **state)
{
    struct stream st;
    struct recorder r;
    struct aofscan s;

    (void)state;
    build_stream(&st);
    recorder_start(&r, &s, 0);
    feed_ok(&s, st.bytes.data, st.bytes.len);
    assert_events(&r.got, &st.expect, 0, "whole");
    assert_int_equal(aofscan_where(&s), AOFSCAN_BETWEEN);
    assert_int_equal(aofscan_offset(&s), st.bytes.len);
    assert_int_equal(aofscan_safe_offset(&s), st.bytes.len);
    assert_int_equal(aofscan_db(&s), 12);
    /* the long name is cut but its length kept */
    assert_string_equal(r.got.ev[20].name, "AVeryLongModuleCommandNameBeyond");
    assert_int_equal(r.got.ev[20].name_len, 41);
    events_free(&r.got);

    /* the same at an absolute base offset beyond 32 bits */
    recorder_start(&r, &s, 123456789012ULL);
    feed_ok(&s, st.bytes.data, st.bytes.len);
    assert_events(&r.got, &st.expect, 123456789012ULL, "whole, based");
    assert_int_equal(aofscan_offset(&s), 123456789012ULL + st.bytes.len);
    events_free(&r.got);
    stream_free(&st);
}

static void test_every_split(void **state)
{
    struct stream st;
    struct recorder r;
    struct aofscan s;
    char where[64];
    size_t k;

    (void)state;
    build_stream(&st);
    for (k = 0; k <= st.bytes.len; k++) {
        recorder_start(&r, &s, 1000);
        feed_ok(&s, st.bytes.data, k);
        feed_ok(&s, st.bytes.data + k, st.bytes.len - k);
        snprintf(where, sizeof(where), "split at %zu", k);
        assert_events(&r.got, &st.expect, 1000, where);
        events_free(&r.got);
    }
    stream_free(&st);
}

static void test_byte_by_byte(void **state)
{
    struct stream st;
    struct recorder r;
    struct aofscan s;
    size_t k, step;

    (void)state;
    build_stream(&st);
    recorder_start(&r, &s, 0);
    for (k = 0; k < st.bytes.len; k++)
        feed_ok(&s, st.bytes.data + k, 1);
    assert_events(&r.got, &st.expect, 0, "byte by byte");
    events_free(&r.got);

    /* and in slices of every size up to 64 bytes */
    for (step = 2; step <= 64; step++) {
        char where[64];

        recorder_start(&r, &s, 0);
        for (k = 0; k < st.bytes.len; k += step)
            feed_ok(&s, st.bytes.data + k, st.bytes.len - k < step ? st.bytes.len - k : step);
        snprintf(where, sizeof(where), "slices of %zu", step);
        assert_events(&r.got, &st.expect, 0, where);
        events_free(&r.got);
    }
    stream_free(&st);
}

/* A callback asking to stop at event k: feed returns 1 right after that
 * event, and feeding the rest later resumes exactly. */
static void test_stop_and_resume(void **state)
{
    struct stream st;
    struct recorder r;
    struct aofscan s;
    struct err e;
    size_t k, used;
    char where[64];
    int rc;

    (void)state;
    build_stream(&st);
    for (k = 0; k < st.expect.n; k++) {
        const struct event *ev = &st.expect.ev[k];

        recorder_start(&r, &s, 0);
        r.stop_at = (long)k;
        rc = aofscan_feed(&s, st.bytes.data, st.bytes.len, &used, &e);
        assert_int_equal(rc, 1);
        assert_int_equal(used, ev->end);
        assert_int_equal(r.got.n, k + 1);
        assert_int_equal(aofscan_offset(&s), ev->end);
        assert_int_not_equal(aofscan_where(&s), AOFSCAN_IN_COMMAND);
        feed_ok(&s, st.bytes.data + used, st.bytes.len - used);
        snprintf(where, sizeof(where), "stop at event %zu", k);
        assert_events(&r.got, &st.expect, 0, where);
        events_free(&r.got);
    }

    /* stopping at every event, fed in 100-byte slices */
    recorder_start(&r, &s, 7);
    r.stop_every = 1;
    for (k = 0; k < st.bytes.len;) {
        size_t len = st.bytes.len - k < 100 ? st.bytes.len - k : 100;
        size_t off = 0;

        do {
            rc = aofscan_feed(&s, st.bytes.data + k + off, len - off, &used, &e);
            assert_true(rc == 0 || rc == 1);
            if (rc == 1)
                assert_int_equal(r.got.ev[r.got.n - 1].end, 7 + k + off + used);
            off += used;
        } while (rc == 1 && off < len);
        assert_int_equal(off, len);
        k += len;
    }
    assert_events(&r.got, &st.expect, 7, "stop at every event");
    events_free(&r.got);
    stream_free(&st);
}

/* At every prefix length, the state matches the builder's model: between
 * commands, inside one, or inside an open MULTI; the safe offset is the
 * last boundary outside a transaction. */
static void check_prefix_state(const struct stream *st, const struct aofscan *s, uint64_t base, size_t k)
{
    size_t j = 0, i;
    uint64_t safe = 0;
    enum aofscan_where want;

    for (i = 0; i < st->nbounds && st->bounds[i].offset <= k; i++) {
        j = i;
        if (!st->bounds[i].in_txn)
            safe = st->bounds[i].offset;
    }
    if (st->bounds[j].offset == k)
        want = st->bounds[j].in_txn ? AOFSCAN_IN_TXN : AOFSCAN_BETWEEN;
    else
        want = AOFSCAN_IN_COMMAND;
    if (aofscan_where(s) != want || aofscan_safe_offset(s) != safe + base)
        fail_msg("prefix %zu: where %d safe %" PRIu64 ", expected %d %" PRIu64, k, aofscan_where(s),
                 aofscan_safe_offset(s), want, safe + base);
    if (st->bounds[j].in_txn && aofscan_txn_start(s) != st->bounds[j].txn_start + base)
        fail_msg("prefix %zu: txn_start %" PRIu64 ", expected %" PRIu64, k, aofscan_txn_start(s),
                 st->bounds[j].txn_start + base);
    if (aofscan_db(s) != st->bounds[j].db)
        fail_msg("prefix %zu: db %d, expected %d", k, aofscan_db(s), st->bounds[j].db);
    assert_int_equal(aofscan_offset(s), k + base);
}

static void test_state_at_every_prefix(void **state)
{
    struct stream st;
    struct aofscan s;
    size_t k;

    (void)state;
    build_stream(&st);
    /* a fresh scanner fed each prefix whole (a stream that is simply cut) */
    for (k = 0; k <= st.bytes.len; k++) {
        aofscan_init(&s, 50, NULL, NULL);
        feed_ok(&s, st.bytes.data, k);
        check_prefix_state(&st, &s, 50, k);
    }
    /* one scanner fed byte by byte, checked after each byte */
    aofscan_init(&s, 0, NULL, NULL);
    check_prefix_state(&st, &s, 0, 0);
    for (k = 0; k < st.bytes.len; k++) {
        feed_ok(&s, st.bytes.data + k, 1);
        check_prefix_state(&st, &s, 0, k + 1);
    }
    stream_free(&st);
}

/* Spot checks of the model on a cut inside MULTI...EXEC. */
static void test_cut_inside_transaction(void **state)
{
    static const char multi[] = "*1\r\n$5\r\nMULTI\r\n";
    static const char set[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    static const char exec[] = "*1\r\n$4\r\nEXEC\r\n";
    struct buf b = BUF_INIT;
    struct aofscan s;
    size_t multi_at, k;

    (void)state;
    buf_appendstr(&b, "#TS:1763651521\r\n");
    buf_appendstr(&b, set);
    multi_at = b.len;
    buf_appendstr(&b, multi);
    buf_appendstr(&b, set);
    buf_appendstr(&b, exec);

    /* cut inside the MULTI command itself */
    aofscan_init(&s, 0, NULL, NULL);
    feed_ok(&s, b.data, multi_at + 3);
    assert_int_equal(aofscan_where(&s), AOFSCAN_IN_COMMAND);
    assert_int_equal(aofscan_safe_offset(&s), multi_at);
    /* right after MULTI, and inside the transaction's SET */
    for (k = multi_at + sizeof(multi) - 1; k < b.len; k++) {
        aofscan_init(&s, 0, NULL, NULL);
        feed_ok(&s, b.data, k);
        assert_int_equal(aofscan_where(&s), k == multi_at + sizeof(multi) - 1 ||
                                                    k == multi_at + sizeof(multi) - 1 + sizeof(set) - 1
                                                ? AOFSCAN_IN_TXN
                                                : AOFSCAN_IN_COMMAND);
        assert_int_equal(aofscan_safe_offset(&s), multi_at);
        assert_int_equal(aofscan_txn_start(&s), multi_at);
    }
    /* after EXEC */
    aofscan_init(&s, 0, NULL, NULL);
    feed_ok(&s, b.data, b.len);
    assert_int_equal(aofscan_where(&s), AOFSCAN_BETWEEN);
    assert_int_equal(aofscan_safe_offset(&s), b.len);
    buf_free(&b);
}

/* Redis itself queues a nested MULTI and ignores a stray EXEC when it
 * loads an AOF; the scanner follows it. */
static void test_nested_multi_and_stray_exec(void **state)
{
    struct stream st;
    struct recorder r;
    struct aofscan s;

    (void)state;
    stream_init(&st);
    stream_cmd(&st, "EXEC", NULL);
    stream_cmd(&st, "MULTI", NULL);
    stream_cmd(&st, "MULTI", NULL);
    stream_cmd(&st, "SET", "k", "v", NULL);
    stream_cmd(&st, "EXEC", NULL);
    stream_cmd(&st, "DISCARD", NULL);
    recorder_start(&r, &s, 0);
    feed_ok(&s, st.bytes.data, st.bytes.len);
    assert_int_equal(r.got.n, 6);
    assert_int_equal(r.got.ev[0].in_txn, 0);
    assert_int_equal(r.got.ev[1].in_txn, 1);
    assert_int_equal(r.got.ev[2].in_txn, 1);
    assert_int_equal(r.got.ev[2].txn_start, r.got.ev[1].start);
    assert_int_equal(r.got.ev[3].txn_start, r.got.ev[1].start);
    assert_int_equal(r.got.ev[4].in_txn, 1);
    assert_int_equal(r.got.ev[5].in_txn, 0);
    assert_events(&r.got, &st.expect, 0, "nested");
    assert_int_equal(aofscan_safe_offset(&s), st.bytes.len);
    events_free(&r.got);
    stream_free(&st);
}

/* A SELECT argument at the limits of an int. */
static void test_select_limits(void **state)
{
    static const char ok[] = "*2\r\n$6\r\nSELECT\r\n$10\r\n2147483647\r\n*2\r\n$6\r\nselect\r\n$1\r\n0\r\n";
    struct recorder r;
    struct aofscan s;

    (void)state;
    recorder_start(&r, &s, 0);
    feed_ok(&s, ok, sizeof(ok) - 1);
    assert_int_equal(r.got.n, 2);
    assert_int_equal(r.got.ev[0].db, INT_MAX);
    assert_int_equal(r.got.ev[1].db, 0);
    assert_int_equal(aofscan_db(&s), 0);
    events_free(&r.got);
}

/* ------------------------------------------------------------------------
 * Malformed input: exact message and absolute offset, however it is fed.
 * ------------------------------------------------------------------------ */

#define SET1 "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n" /* 27 bytes */

struct bad_case {
    const char *bytes;
    size_t len; /* 0: strlen */
    uint64_t offset;
    const char *what;
};

static const struct bad_case bad_cases[] = {
    {"A", 0, 0, "expected '*' or '#', got 0x41"},
    {SET1 "\r\n", 0, 27, "expected '*' or '#', got 0x0d"},
    {SET1 "*2\r\n$3\r\nGET\r\nA", 0, 40, "expected '$', got 0x41"},
    {"*x", 0, 1, "expected a digit, got 0x78"},
    {"*\r\n", 0, 1, "expected a digit, got 0x0d"},
    {"*0\r\n", 0, 1, "argument count 0 below 1"},
    {"*-1\r\n", 0, 1, "negative argument count"},
    {"*1x", 0, 2, "expected a digit or '\\r', got 0x78"},
    {"*1\rx", 0, 3, "expected '\\n', got 0x78"},
    {"*1\r\n\r\n", 0, 4, "expected '$', got 0x0d"},
    {"*1\r\n$-1\r\n", 0, 5, "negative bulk length"},
    {"*1\r\n$3x", 0, 6, "expected a digit or '\\r', got 0x78"},
    {"*1\r\n$3\r\r", 0, 7, "expected '\\n', got 0x0d"},
    {"*1\r\n$3\r\nSETx", 0, 11, "expected '\\r' after a 3-byte bulk string, got 0x78"},
    {"*1\r\n$3\r\nSET\r\r", 0, 12, "expected '\\n', got 0x0d"},
    {"*1\r\n$0\r\nx", 0, 8, "expected '\\r' after a 0-byte bulk string, got 0x78"},
    {"*1\r\n$3\r\nSET\n", 0, 11, "expected '\\r' after a 3-byte bulk string, got 0x0a"},
    {"*1073741825\r\n", 0, 1, "argument count larger than 1073741824"},
    {"*1073741824\r\n$1\r\nx\r\nA", 0, 20, "expected '$', got 0x41"},
    {"*1\r\n$1099511627777\r\n", 0, 5, "bulk length larger than 1099511627776"},
    {"*1\r\n$99999999999999999999\r\n", 0, 5, "bulk length larger than 1099511627776"},
    {"*000000000000000000001\r\n$4\r\nPING\r\n", 0, 21, "argument count longer than 20 digits"},
    {"*1\r\n$000000000000000000004\r\nPING\r\n", 0, 25, "bulk length longer than 20 digits"},
    {"#XS:1\r\n", 0, 1, "expected \"#TS:\", got 0x58"},
    {"#TS1\r\n", 0, 3, "expected \"#TS:\", got 0x31"},
    {"#TS:\r\n", 0, 4, "expected a digit, got 0x0d"},
    {"#TS:-5\r\n", 0, 4, "negative timestamp"},
    {"#TS:17x\r\n", 0, 6, "expected a digit or '\\r', got 0x78"},
    {"#TS:17\r\r", 0, 7, "expected '\\n', got 0x0d"},
    {"#TS:9223372036854775808\r\n", 0, 4, "timestamp larger than 9223372036854775807"},
    {"#TS:20000000000000000000\r\n", 0, 4, "timestamp larger than 9223372036854775807"},
    {"*2\r\n$6\r\nSELECT\r\n$3\r\nabc\r\n", 0, 20, "SELECT argument is not a db number (0..2147483647)"},
    {"*2\r\n$6\r\nselect\r\n$0\r\n\r\n", 0, 20, "SELECT argument is not a db number (0..2147483647)"},
    {"*2\r\n$6\r\nSELECT\r\n$10\r\n2147483648\r\n", 0, 21,
     "SELECT argument is not a db number (0..2147483647)"},
    {"*2\r\n$6\r\nSELECT\r\n$20\r\n99999999999999999999\r\n", 0, 21,
     "SELECT argument is not a db number (0..2147483647)"},
    {"*2\r\n$6\r\nSELECT\r\n$2\r\n-1\r\n", 0, 20, "SELECT argument is not a db number (0..2147483647)"},
    {SET1 "*1\r\n$6\r\nSELECT\r\n", 0, 27, "SELECT with 0 arguments (expected 1)"},
    {"*3\r\n$6\r\nSELECT\r\n$1\r\n1\r\n$1\r\n2\r\n", 0, 0, "SELECT with 2 arguments (expected 1)"},
    {"*2\r\n$3\r\nSET\r\n$1\r\nk\0\n", 20, 18, "expected '\\r' after a 1-byte bulk string, got 0x00"},
};

static void check_bad(const struct bad_case *c, size_t len, uint64_t base, size_t slice)
{
    char want[512];
    struct aofscan s;
    struct err e;
    size_t k;
    int rc = 0;

    snprintf(want, sizeof(want), "malformed AOF at byte %" PRIu64 ": %s", c->offset + base, c->what);
    aofscan_init(&s, base, NULL, NULL);
    err_clear(&e);
    for (k = 0; k < len && rc == 0; k += slice)
        rc = aofscan_feed(&s, c->bytes + k, len - k < slice ? len - k : slice, NULL, &e);
    if (rc != -1 || e.code != ERR_CORRUPT || strcmp(e.msg, want) != 0)
        fail_msg("input %zu bytes in slices of %zu: rc %d, \"%s\"; expected -1, \"%s\"", len, slice, rc,
                 e.msg, want);
    /* a failed scanner refuses more input */
    rc = aofscan_feed(&s, "*", 1, NULL, &e);
    assert_int_equal(rc, -1);
    assert_int_equal(e.code, ERR_CORRUPT);
}

static void test_malformed(void **state)
{
    size_t i, slice;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->bytes);

        for (slice = 1; slice <= len; slice++) {
            check_bad(c, len, 0, slice);
            check_bad(c, len, 4294967296ULL, slice);
        }
    }
}

/* A stream that simply ends inside a command is not an error. */
static void test_cut_is_not_an_error(void **state)
{
    static const char cmd[] = "*2\r\n$6\r\nSELECT\r\n$10\r\n2147483648";
    struct aofscan s;

    (void)state;
    aofscan_init(&s, 0, NULL, NULL);
    /* the bad SELECT argument is only judged once the command is whole */
    feed_ok(&s, cmd, sizeof(cmd) - 1);
    assert_int_equal(aofscan_where(&s), AOFSCAN_IN_COMMAND);
    assert_int_equal(aofscan_safe_offset(&s), 0);
    feed_ok(&s, "", 0);
    assert_int_equal(aofscan_offset(&s), sizeof(cmd) - 1);
}

/* ------------------------------------------------------------------------
 * aofscan_split().
 * ------------------------------------------------------------------------ */

static void test_split(void **state)
{
    static const char value[] = "x\r\ny\0z";
    struct buf b = BUF_INIT;
    struct aofscan_arg argv[4];
    struct err e;
    long argc;

    (void)state;
    buf_appendstr(&b, "*3\r\n$3\r\nset\r\n$0\r\n\r\n$6\r\n");
    buf_append(&b, value, 6);
    buf_appendstr(&b, "\r\n");
    argc = aofscan_split(b.data, b.len, argv, 4, &e);
    assert_int_equal(argc, 3);
    assert_int_equal(argv[0].len, 3);
    assert_memory_equal(argv[0].p, "set", 3);
    assert_ptr_equal(argv[0].p, b.data + 8);
    assert_int_equal(argv[1].len, 0);
    assert_int_equal(argv[2].len, 6);
    assert_memory_equal(argv[2].p, value, 6);

    /* fewer slots than arguments: fills what fits, returns argc */
    memset(argv, 0, sizeof(argv));
    argc = aofscan_split(b.data, b.len, argv, 1, &e);
    assert_int_equal(argc, 3);
    assert_int_equal(argv[0].len, 3);
    assert_null(argv[1].p);

    /* leading zeros */
    argc = aofscan_split("*01\r\n$0000000000000000004\r\nPING\r\n", 33, argv, 4, &e);
    assert_int_equal(argc, 1);
    assert_memory_equal(argv[0].p, "PING", 4);

    /* not exactly one command */
    assert_int_equal(aofscan_split(b.data, b.len - 1, argv, 4, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_string_equal(e.msg, "incomplete command: its 30 bytes end inside it");
    buf_appendstr(&b, "*1");
    assert_int_equal(aofscan_split(b.data, b.len, argv, 4, &e), -1);
    assert_string_equal(e.msg, "malformed command at byte 31: 2 more bytes after its end");
    assert_int_equal(aofscan_split("#TS:1\r\n", 7, argv, 4, &e), -1);
    assert_string_equal(e.msg, "not a command: a \"#TS:\" annotation line");
    assert_int_equal(aofscan_split("*1\r\n$4\r\nPINGx\r\n", 15, argv, 4, &e), -1);
    assert_string_equal(e.msg,
                        "malformed AOF at byte 12: expected '\\r' after a 4-byte bulk string, got 0x78");
    assert_int_equal(aofscan_split("", 0, argv, 4, &e), -1);
    assert_string_equal(e.msg, "empty input, not a command");
    buf_free(&b);
}

/* Every command the stream builder wrote splits back into its bytes. */
static void test_split_stream(void **state)
{
    struct stream st;
    struct aofscan_arg argv[8];
    struct err e;
    size_t i;

    (void)state;
    build_stream(&st);
    for (i = 0; i < st.expect.n; i++) {
        const struct event *ev = &st.expect.ev[i];
        long argc;

        if (ev->type != EV_COMMAND)
            continue;
        argc = aofscan_split(st.bytes.data + ev->start, ev->end - ev->start, argv, 8, &e);
        assert_int_equal(argc, ev->argc);
        assert_int_equal(argv[0].len, ev->name_len);
        assert_memory_equal(argv[0].p, ev->name, strlen(ev->name));
        if (ev->argc == 3 && argv[2].len == BIG_VALUE_LEN)
            assert_int_equal((unsigned char)argv[2].p[BIG_VALUE_LEN - 1],
                             (unsigned char)(char)((BIG_VALUE_LEN - 1) * 7 + ((BIG_VALUE_LEN - 1) >> 8)));
    }
    stream_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_facts),
        cmocka_unit_test(test_whole_feed),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_stop_and_resume),
        cmocka_unit_test(test_state_at_every_prefix),
        cmocka_unit_test(test_cut_inside_transaction),
        cmocka_unit_test(test_nested_multi_and_stray_exec),
        cmocka_unit_test(test_select_limits),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_cut_is_not_an_error),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_stream),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* fuzz_aofscan.c - libFuzzer target for the AOF scanner (common/aofscan.c).
 *
 * The input is an AOF byte stream. It is scanned twice: fed whole, and
 * fed in slices cut at points drawn from a generator seeded with the input
 * itself, with callbacks that now and then ask the scanner to stop (the
 * rest of the slice is then fed again, as replay does). Both runs must
 * report the same events (every command's range, argc, name, kind, db,
 * transaction state and last #TS; every annotation's value and range),
 * fail at the same byte with the same message or not at all, and end in
 * the same state (offset, safe offset, MULTI state, db). Each command is
 * also split into its arguments with aofscan_split(), which must agree
 * with the scanner. Events must tile the stream: each starts where the
 * previous ended. */
#include <stdlib.h>
#include <string.h>

#include "aofscan.h"
#include "fuzz.h"
#include "xalloc.h"

struct event {
    int is_ts;
    struct aofscan_command cmd; /* commands */
    int64_t ts;                 /* annotations */
    uint64_t start, end;
};

struct run {
    struct event *v;
    size_t n, cap;
    struct fuzz_rng *stops; /* NULL: never stop */
    int rc;
    struct err e;
    enum aofscan_where where;
    uint64_t offset, safe, txn_start;
    int db;
};

static struct event *run_add(struct run *r)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
    return &r->v[r->n++];
}

static int run_stop(struct run *r)
{
    return r->stops != NULL && fuzz_rng_below(r->stops, 4) == 0;
}

static int on_command(void *ud, const struct aofscan_command *cmd)
{
    struct run *r = ud;
    struct event *ev = run_add(r);

    ev->cmd = *cmd;
    ev->start = cmd->start;
    ev->end = cmd->end;
    return run_stop(r);
}

static int on_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    struct run *r = ud;
    struct event *ev = run_add(r);

    ev->is_ts = 1;
    ev->ts = ts;
    ev->start = start;
    ev->end = end;
    return run_stop(r);
}

static const struct aofscan_callbacks callbacks = {on_command, on_timestamp};

/* Feed [data, data+len) in one go, resuming after every stop. */
static int feed_all(struct aofscan *s, const char *data, size_t len, struct err *e)
{
    while (1) {
        size_t used = 0;
        int rc = aofscan_feed(s, data, len, &used, e);

        if (rc <= 0)
            return rc;
        fuzz_check(used <= len, "used %zu of %zu", used, len);
        data += used;
        len -= used;
    }
}

static void run_finish(struct run *r, const struct aofscan *s)
{
    r->where = aofscan_where(s);
    r->offset = aofscan_offset(s);
    r->safe = aofscan_safe_offset(s);
    r->txn_start = r->where == AOFSCAN_IN_TXN ? aofscan_txn_start(s) : 0;
    r->db = aofscan_db(s);
}

static void run_whole(struct run *r, const char *data, size_t len, uint64_t base)
{
    struct aofscan s;

    aofscan_init(&s, base, &callbacks, r);
    err_clear(&r->e);
    r->rc = feed_all(&s, data, len, &r->e);
    run_finish(r, &s);
}

static void run_split(struct run *r, const char *data, size_t len, uint64_t base, struct fuzz_rng *rng)
{
    struct aofscan s;
    size_t at = 0;
    /* the slice lengths: mostly tiny (every token straddles), sometimes large */
    uint64_t mode = fuzz_rng_below(rng, 4);

    aofscan_init(&s, base, &callbacks, r);
    err_clear(&r->e);
    r->rc = 0;
    while (r->rc == 0 && at < len) {
        size_t n;

        if (mode == 0)
            n = 1;
        else if (mode == 1)
            n = (size_t)fuzz_rng_below(rng, 8);
        else
            n = (size_t)fuzz_rng_below(rng, fuzz_rng_below(rng, 4) == 0 ? 4096 : 40);
        if (n > len - at)
            n = len - at;
        r->rc = feed_all(&s, data + at, n, &r->e);
        at += n;
    }
    run_finish(r, &s);
}

static void check_same_event(const struct event *a, const struct event *b, size_t i)
{
    fuzz_check(a->is_ts == b->is_ts, "event %zu: command in one run, annotation in the other", i);
    fuzz_check(a->start == b->start && a->end == b->end, "event %zu: range [%llu, %llu) vs [%llu, %llu)", i,
               (unsigned long long)a->start, (unsigned long long)a->end, (unsigned long long)b->start,
               (unsigned long long)b->end);
    if (a->is_ts) {
        fuzz_check(a->ts == b->ts, "event %zu: #TS %lld vs %lld", i, (long long)a->ts, (long long)b->ts);
        return;
    }
    fuzz_check(a->cmd.argc == b->cmd.argc, "event %zu: argc %ld vs %ld", i, a->cmd.argc, b->cmd.argc);
    fuzz_check(a->cmd.name_len == b->cmd.name_len && strcmp(a->cmd.name, b->cmd.name) == 0,
               "event %zu: name \"%s\" (%zu) vs \"%s\" (%zu)", i, a->cmd.name, a->cmd.name_len, b->cmd.name,
               b->cmd.name_len);
    fuzz_check(a->cmd.kind == b->cmd.kind, "event %zu: kind %d vs %d", i, a->cmd.kind, b->cmd.kind);
    fuzz_check(a->cmd.db == b->cmd.db, "event %zu: db %d vs %d", i, a->cmd.db, b->cmd.db);
    fuzz_check(a->cmd.in_txn == b->cmd.in_txn && a->cmd.txn_start == b->cmd.txn_start,
               "event %zu: transaction state differs", i);
    fuzz_check(a->cmd.ts == b->cmd.ts, "event %zu: ts %lld vs %lld", i, (long long)a->cmd.ts,
               (long long)b->cmd.ts);
}

/* What holds of one run on its own. */
static void check_run(const struct run *r, const char *data, size_t len, uint64_t base)
{
    uint64_t at = base;
    int64_t ts = -1;
    size_t i;

    for (i = 0; i < r->n; i++) {
        const struct event *ev = &r->v[i];

        fuzz_check(ev->start == at && ev->end > ev->start && ev->end - base <= len,
                   "event %zu: [%llu, %llu) does not follow %llu", i, (unsigned long long)ev->start,
                   (unsigned long long)ev->end, (unsigned long long)at);
        at = ev->end;
        if (ev->is_ts) {
            fuzz_check(ev->ts >= 0, "event %zu: negative #TS", i);
            ts = ev->ts;
        } else {
            struct aofscan_arg argv[2];
            struct err e;
            long argc;
            size_t keep = ev->cmd.name_len < AOFSCAN_NAME_MAX ? ev->cmd.name_len : AOFSCAN_NAME_MAX;

            fuzz_check(ev->cmd.ts == ts, "event %zu: ts %lld, last #TS %lld", i, (long long)ev->cmd.ts,
                       (long long)ts);
            fuzz_check(strlen(ev->cmd.name) <= keep, "event %zu: name longer than kept", i);
            fuzz_check(!ev->cmd.in_txn || ev->cmd.txn_start <= ev->start, "event %zu: MULTI after it", i);
            err_clear(&e);
            argc = aofscan_split(data + (ev->start - base), (size_t)(ev->end - ev->start), argv, 2, &e);
            fuzz_check(argc == ev->cmd.argc, "event %zu: aofscan_split gives argc %ld, the scanner %ld (%s)",
                       i, argc, ev->cmd.argc, e.msg);
            fuzz_check(argv[0].len == ev->cmd.name_len && memcmp(argv[0].p, ev->cmd.name, keep) == 0,
                       "event %zu: aofscan_split's argv[0] differs from the name", i);
        }
    }
    fuzz_check(r->rc != 0 || r->offset == base + len, "no error, yet offset %llu of %llu",
               (unsigned long long)r->offset, (unsigned long long)(base + len));
    fuzz_check(r->safe <= r->offset, "safe offset past the offset");
    if (r->rc == 0 && r->where == AOFSCAN_BETWEEN)
        fuzz_check(r->safe == r->offset, "between commands, yet the safe offset lags");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run whole, split;
    struct fuzz_rng rng, stops;
    uint64_t base;
    size_t i;

    fuzz_rng_seed(&rng, data, size);
    stops = rng;
    fuzz_rng_next(&stops);
    base = fuzz_rng_below(&rng, 3) == 0 ? fuzz_rng_next(&rng) >> 20 : 0;
    memset(&whole, 0, sizeof(whole));
    memset(&split, 0, sizeof(split));
    split.stops = &stops;
    run_whole(&whole, (const char *)data, size, base);
    run_split(&split, (const char *)data, size, base, &rng);

    fuzz_check(whole.n == split.n, "%zu events whole, %zu split", whole.n, split.n);
    for (i = 0; i < whole.n; i++)
        check_same_event(&whole.v[i], &split.v[i], i);
    fuzz_check(whole.rc == split.rc, "whole returns %d (%s), split %d (%s)", whole.rc, whole.e.msg, split.rc,
               split.e.msg);
    fuzz_check(strcmp(whole.e.msg, split.e.msg) == 0, "errors differ: \"%s\" vs \"%s\"", whole.e.msg,
               split.e.msg);
    if (whole.rc == 0) {
        fuzz_check(whole.where == split.where, "where %d vs %d", whole.where, split.where);
        fuzz_check(whole.offset == split.offset && whole.safe == split.safe, "offsets differ");
        fuzz_check(whole.txn_start == split.txn_start, "MULTI start %llu vs %llu",
                   (unsigned long long)whole.txn_start, (unsigned long long)split.txn_start);
        fuzz_check(whole.db == split.db, "db %d vs %d", whole.db, split.db);
    }
    check_run(&whole, (const char *)data, size, base);
    free(whole.v);
    free(split.v);
    return 0;
}

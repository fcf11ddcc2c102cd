/* stream.c - fetch one generation's incr chunks in order and feed them
 * through the cut engine; report the cut. See stream.h. */
#include "stream.h"

#include <string.h>

#include "prefetch.h"
#include "timeutil.h"

void stream_init(struct stream *s)
{
    memset(s, 0, sizeof(*s));
    s->newest = -1;
    s->cut_time = -1;
    s->txn_time = -1;
    s->stop_time = -1;
}

void stream_free(struct stream *s)
{
    if (s->have_cut)
        cut_free(&s->cut);
    s->have_cut = 0;
}

/* The size log's offset at time t in the generation, 0 when it shows none. */
static int stream_sizelog_at(struct fetch *f, int64_t generation, int64_t t, uint64_t *size, struct err *e)
{
    *size = 0;
    if (index_sizelog_at(f->idx, f->instance_id, generation, t, size, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e);
        *size = 0;
    }
    return 0;
}

/* The second an offset was written, from #TS when known, else the size log. */
static int64_t stream_time_of(struct fetch *f, int64_t generation, int64_t ts, uint64_t offset)
{
    struct err e;
    int64_t t = -1;

    if (ts >= 0)
        return ts;
    err_clear(&e);
    if (index_sizelog_time_of(f->idx, f->instance_id, generation, offset + 1, &t, &e) < 0)
        return -1;
    return t;
}

static int stream_begin(struct stream *s, struct fetch *f, const struct stream_params *p, const char *first,
                        size_t first_len, cut_emit_fn emit, void *ud, struct err *e)
{
    struct cut_params cp;

    if (p->exact >= 0)
        s->exact = p->exact;
    else if (p->gen->exact != GEN_UNKNOWN)
        s->exact = p->gen->exact == GEN_YES; /* "#TS:" lines in the stream, or timestamps on at its start */
    else
        s->exact = p->start == 0 && first_len > 0 && first[0] == '#'; /* recorded before schema 3 */
    memset(&cp, 0, sizeof(cp));
    cp.to = p->to;
    cp.exact = s->exact;
    cp.limit = UINT64_MAX;
    cp.stop_before = p->pattern;
    cp.stop_from_ts = p->from;
    cp.stop_from_offset = 0;
    cp.start = p->start;
    cp.start_db = p->start_db;
    cp.start_ts = p->start_ts;
    if (!s->exact) {
        if (stream_sizelog_at(f, p->gen->generation, p->to, &s->limit, e) < 0)
            return -1;
        cp.limit = s->limit;
        if (p->pattern != NULL && p->from != INT64_MIN &&
            stream_sizelog_at(f, p->gen->generation, p->from - 1, &cp.stop_from_offset, e) < 0)
            return -1;
    }
    cut_init(&s->cut, &cp, emit, ud);
    s->have_cut = 1;
    return 0;
}

/* The last "#TS:" second in the incr chunks before `before`, as the
 * collector recorded them; -1 when a chunk on the way has no record. */
struct stream_ts_walk {
    uint64_t before;
    int64_t ts;
};

static int stream_walk_ts(void *ud, const struct chunk_row *c)
{
    struct stream_ts_walk *w = ud;

    if (c->start >= w->before)
        return 1;
    if (!c->marks_known) {
        w->ts = -1;
        return 1;
    }
    if (c->ts_last > 0)
        w->ts = c->ts_last;
    return 0;
}

/* The newest second a restore reaches without reading the chunk of the
 * generation that starts at `start`, or -1 when it cannot be told: with
 * "#TS:" lines, the second before the last one in the chunks before it
 * (that line is the cut); without, the second before the size log shows
 * the stream reaching past `start`. Only an error message reads this. */
static int64_t stream_reachable_before(const struct fetch *f, int64_t generation, int exact, uint64_t start)
{
    struct stream_ts_walk w = {start, 0};
    struct err e;
    int64_t t = -1;

    err_clear(&e);
    if (start == 0)
        return -1;
    if (exact) {
        if (index_chunks(f->idx, f->instance_id, generation, CHUNK_INCR, 0, stream_walk_ts, &w, &e) < 0 ||
            w.ts <= 0)
            return -1;
        return w.ts - 1;
    }
    if (index_sizelog_time_of(f->idx, f->instance_id, generation, start + 1, &t, &e) < 0)
        return -1;
    return t - 1;
}

/* A chunk that is missing or fails its check: say until when the
 * generation can still be restored without it. */
static void stream_bad_chunk(const struct stream *s, const struct fetch *f, const struct fetch_chunk *c,
                             struct err *e)
{
    char t[TIME_BUFSZ];
    size_t n = strlen(e->msg);
    int64_t upto;

    if (e->code != ERR_CORRUPT && e->code != ERR_NOTFOUND)
        return;
    upto = stream_reachable_before(f, c->generation, s->exact, c->start);
    if (upto < 0)
        return;
    time_format_utc(upto, t, sizeof(t));
    snprintf(e->msg + n, sizeof(e->msg) - n,
             "; generation %lld of \"%s\" is restorable up to %s without this chunk HINT: --to %s or "
             "earlier; \"aofroll verify\" lists every restorable window",
             (long long)c->generation, f->instance, t, t);
}

int stream_run(struct stream *s, struct fetch *f, const struct stream_params *p, cut_emit_fn emit, void *ud,
               struct err *e)
{
    struct fetch_list chunks = {NULL, 0, 0};
    struct prefetch *pf = NULL;
    const struct buf *raw;
    const struct cut_result *res;
    uint64_t expect = p->start;
    size_t i;
    int ret = -1, rc;
    double t0;

    s->to = p->to;
    s->start = p->start;
    s->newest = p->gen->base_time;
    if (fetch_list(f, p->gen->generation, CHUNK_INCR, p->start, &chunks, e) < 0)
        goto out;
    s->chunks = chunks.n;
    for (i = 0; i < chunks.n; i++)
        if (chunks.v[i].last > s->newest)
            s->newest = chunks.v[i].last;
    if (chunks.n > 0 && prefetch_start(&pf, p->cfg, f, &chunks, 0, p->threads, e) < 0)
        goto out;
    for (i = 0; i < chunks.n; i++) {
        const struct fetch_chunk *c = &chunks.v[i];
        size_t skip = 0;

        if (i == 0 && c->start < p->start && c->end > p->start)
            skip = (size_t)(p->start - c->start);
        else if (fetch_join(f, p->gen->generation, CHUNK_INCR, expect, c, e) < 0)
            goto out;
        if (prefetch_get(pf, i, &raw, e) < 0) {
            stream_bad_chunk(s, f, c, e);
            goto out;
        }
        if (!s->have_cut && stream_begin(s, f, p, raw->data + skip, raw->len - skip, emit, ud, e) < 0)
            goto out;
        t0 = time_monotonic();
        rc = cut_feed(&s->cut, raw->data + skip, raw->len - skip, e);
        s->feed_seconds += time_monotonic() - t0;
        if (p->progress != NULL)
            progress_add(p->progress, raw->len - skip, 1);
        if (rc < 0)
            goto out;
        expect = c->end;
        if (rc > 0)
            break;
    }
    if (!s->have_cut && stream_begin(s, f, p, NULL, 0, emit, ud, e) < 0)
        goto out;
    if (!cut_done(&s->cut) && cut_finish(&s->cut, e) < 0)
        goto out;
    res = cut_result(&s->cut);
    if (res->newest_ts > s->newest)
        s->newest = res->newest_ts;
    if (res->txn_left_out)
        s->txn_time = stream_time_of(f, p->gen->generation, res->txn_ts, res->txn_offset);
    if (res->stop_found)
        s->stop_time = stream_time_of(f, p->gen->generation, res->stop_ts, res->stop_offset);
    /* a size-log cut at a TIME after the last observation is the end too */
    s->past_end =
        p->to > s->newest && (res->reason == CUT_AT_END || (!s->exact && res->reason == CUT_AT_LIMIT));
    if (res->reason == CUT_AT_STOP && s->stop_time >= 0 && s->stop_time < p->to)
        s->cut_time = s->stop_time;
    else if (s->past_end)
        s->cut_time = s->newest;
    else
        s->cut_time = p->to;
    ret = 0;
out:
    if (pf != NULL) {
        s->fetch_waited += prefetch_waited(pf);
        prefetch_stop(pf);
    }
    fetch_list_free(&chunks);
    return ret;
}

static void stream_fmt_time(int64_t t, char *buf, size_t n)
{
    if (t < 0)
        snprintf(buf, n, "time unknown");
    else
        time_format_utc(t, buf, n);
}

void stream_report(const struct stream *s, FILE *fp)
{
    const struct cut_result *r = cut_result(&s->cut);
    char t[TIME_BUFSZ], t2[TIME_BUFSZ];

    if (s->past_end) {
        time_format_utc(s->to, t, sizeof(t));
        time_format_utc(s->newest, t2, sizeof(t2));
        fprintf(fp, "note: %s is after the newest archived second, %s: restored to %s\n", t, t2, t2);
    }
    time_format_utc(s->cut_time, t, sizeof(t));
    if (s->chunks == 0 && s->start == 0)
        fprintf(fp, "cut at %s: incr offset 0 (the generation has no incr bytes)\n", t);
    else if (s->chunks == 0)
        fprintf(fp, "cut at %s: incr offset %llu (no incr bytes after it yet)\n", t,
                (unsigned long long)r->offset);
    else if (s->exact)
        fprintf(fp, "cut at %s: incr offset %llu (#TS exact)\n", t, (unsigned long long)r->offset);
    else if (s->poll_interval_ms > 0 && s->poll_interval_ms % 1000 != 0)
        fprintf(fp, "cut at %s: incr offset %llu (size log, precision %lld ms)\n", t,
                (unsigned long long)r->offset, (long long)s->poll_interval_ms);
    else
        fprintf(fp, "cut at %s: incr offset %llu (size log, precision %lld s)\n", t,
                (unsigned long long)r->offset,
                (long long)(s->poll_interval_ms > 0 ? s->poll_interval_ms / 1000 : 1));
    if (r->reason == CUT_AT_LIMIT && r->offset < s->limit)
        fprintf(fp, "size log offset at the cut time: %llu\n", (unsigned long long)s->limit);
    fprintf(fp, "commands applied: %llu in %zu db%s\n", (unsigned long long)r->commands, r->ndbs,
            r->ndbs == 1 ? "" : "s");
    if (r->stop_found) {
        stream_fmt_time(s->stop_time, t, sizeof(t));
        fprintf(fp, "stopped before %s at %s: incr offset %llu, db %d%s\n", r->stop_command.data, t,
                (unsigned long long)r->stop_offset, r->stop_db,
                r->stop_in_txn ? " (inside a transaction, left out whole)" : "");
    }
    if (r->txn_left_out) {
        const char *why = r->reason == CUT_AT_END     ? "the archive ends inside it"
                          : r->reason == CUT_AT_STOP  ? "it holds the command stopped before"
                          : r->reason == CUT_AT_LIMIT ? "open at the size log's offset"
                                                      : "open at the cut";

        stream_fmt_time(s->txn_time, t, sizeof(t));
        fprintf(fp, "transaction left out: MULTI at offset %llu (%s), %llu command%s%s%s (%s)\n",
                (unsigned long long)r->txn_offset, t, (unsigned long long)r->txn_commands,
                r->txn_commands == 1 ? "" : "s", r->txn_preview.len ? ": " : "",
                r->txn_preview.len ? r->txn_preview.data : "", why);
    }
    if (r->truncated) {
        if (r->reason == CUT_AT_LIMIT)
            fprintf(fp, "command left out: offset %llu, only %llu bytes written at the cut time\n",
                    (unsigned long long)r->truncated_offset, (unsigned long long)r->truncated_bytes);
        else
            fprintf(fp, "truncated command left out: offset %llu, only %llu bytes archived\n",
                    (unsigned long long)r->truncated_offset, (unsigned long long)r->truncated_bytes);
    }
}

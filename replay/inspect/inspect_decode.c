/* inspect_decode.c - decoding an incr stream from any offset (see
 * inspect_decode.h for why and how).
 *
 * The decoder keeps a window of raw bytes [win_base, win_base + win.len)
 * made of whole chunks, and the rows of those chunks. While feeding, the
 * window is trimmed to the first byte of the command in progress, so it
 * holds at most one chunk plus the command that straddles into it. */
#include "inspect_decode.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aofscan.h"
#include "xalloc.h"

struct dec_chunk {
    int64_t id;
    uint64_t start, end;
    int64_t first, last;
    int marks_known; /* what the collector's scanner recorded (chunkscan.h) */
    int64_t boundary;
    int boundary_db;
    int64_t boundary_ts;
};

struct dec {
    struct fetch *f;
    const struct inspect_decode_params *p;
    struct inspect_decode_result *r;
    struct buf win; /* raw bytes from win_base */
    uint64_t win_base;
    struct buf raw;           /* one chunk, decoded */
    struct dec_chunk *chunks; /* the chunks of the window, in order */
    size_t nchunks, capchunks;
    struct aofscan scan;
    uint64_t event_end; /* end of the last command or "#TS:" line */
    int db_known;
    int start_db;     /* db at the start when recorded there, -1 unknown */
    int64_t start_ts; /* second at the start when recorded there, -1 unknown */
    int stopped;
    struct aofscan_arg *argv;
    size_t argv_cap;
    struct err cb_err; /* an error raised inside a scanner callback */
    int cb_failed;
    /* size log: offsets in (obs_lo, obs_hi] were first seen at obs_t */
    uint64_t obs_lo, obs_hi;
    int64_t obs_t;
    int obs_valid;
    int no_sizelog;
};

/* ------------------------------------------------------------------------
 * The window
 * ------------------------------------------------------------------------ */

static void dec_chunk_push(struct dec *d, const struct chunk_row *row, int front)
{
    struct dec_chunk c = {row->id,          row->start,    row->end,         row->first,      row->last,
                          row->marks_known, row->boundary, row->boundary_db, row->boundary_ts};

    if (d->nchunks == d->capchunks) {
        d->capchunks = d->capchunks ? d->capchunks * 2 : 8;
        d->chunks = xrealloc(d->chunks, d->capchunks * sizeof(*d->chunks));
    }
    if (front) {
        memmove(d->chunks + 1, d->chunks, d->nchunks * sizeof(*d->chunks));
        d->chunks[0] = c;
    } else {
        d->chunks[d->nchunks] = c;
    }
    d->nchunks++;
}

/* Fetch one chunk and add its bytes at the window's end or front. */
static int dec_load(struct dec *d, const struct chunk_row *row, int front, struct err *e)
{
    struct fetch_chunk fc;

    fetch_chunk_from_row(row, &fc);
    if (fetch_chunk(d->f, &fc, &d->raw, e) < 0)
        return -1;
    d->r->chunks++;
    d->r->raw_bytes += d->raw.len;
    if (front) {
        buf_reserve(&d->win, d->raw.len);
        memmove(d->win.data + d->raw.len, d->win.data, d->win.len);
        memcpy(d->win.data, d->raw.data, d->raw.len);
        d->win.len += d->raw.len;
        d->win.data[d->win.len] = '\0';
        d->win_base = row->start;
    } else {
        if (d->win.len == 0 && d->nchunks == 0)
            d->win_base = row->start;
        buf_append(&d->win, d->raw.data, d->raw.len);
    }
    dec_chunk_push(d, row, front);
    return 0;
}

/* Drop the bytes (and chunks) before offset `keep`. */
static void dec_trim(struct dec *d, uint64_t keep)
{
    size_t drop, k = 0;

    if (keep <= d->win_base)
        return;
    drop = (size_t)(keep - d->win_base);
    if (drop > d->win.len)
        drop = d->win.len;
    memmove(d->win.data, d->win.data + drop, d->win.len - drop);
    d->win.len -= drop;
    d->win.data[d->win.len] = '\0';
    d->win_base += drop;
    while (k < d->nchunks && d->chunks[k].end <= d->win_base)
        k++;
    memmove(d->chunks, d->chunks + k, (d->nchunks - k) * sizeof(*d->chunks));
    d->nchunks -= k;
}

static const struct dec_chunk *dec_chunk_of(const struct dec *d, uint64_t off)
{
    size_t i;

    for (i = 0; i < d->nchunks; i++)
        if (off >= d->chunks[i].start && off < d->chunks[i].end)
            return &d->chunks[i];
    return NULL;
}

/* ------------------------------------------------------------------------
 * Finding a command boundary
 * ------------------------------------------------------------------------ */

struct probe {
    int orphan; /* an EXEC or DISCARD outside a transaction was seen */
};

static int probe_on_command(void *ud, const struct aofscan_command *c)
{
    struct probe *pr = ud;

    if ((c->kind == AOFSCAN_CMD_EXEC || c->kind == AOFSCAN_CMD_DISCARD) && !c->in_txn) {
        pr->orphan = 1;
        return 1;
    }
    return 0;
}

/* 1 when the scanner reads data[0..len) (at stream offset base) without
 * an error; with strict, also without an EXEC/DISCARD lacking its MULTI. */
static int dec_probe(const char *data, size_t len, uint64_t base, int strict)
{
    static const struct aofscan_callbacks cb = {probe_on_command, NULL};
    struct probe pr = {0};
    struct aofscan s;
    struct err e;
    int rc;

    aofscan_init(&s, base, strict ? &cb : NULL, &pr);
    rc = aofscan_feed(&s, data, len, NULL, &e);
    return rc == 0 && !pr.orphan;
}

/* The first boundary candidate of the window that probes well, or -1. */
static long dec_find_boundary(const struct dec *d, int strict)
{
    const char *w = d->win.data;
    const char *nl;
    size_t i = 0;

    if (d->win_base == 0)
        return 0;
    while (i < d->win.len) {
        nl = memchr(w + i, '\n', d->win.len - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - w) + 1;
        if (i < d->win.len && (w[i] == '*' || w[i] == '#') &&
            dec_probe(w + i, d->win.len - i, d->win_base + i, strict))
            return (long)i;
    }
    return -1;
}

/* Load the chunk that ends where the window begins. Returns 1 when there
 * is none to load (start of stream, or a gap before the window). */
static int dec_load_previous(struct dec *d, struct err *e)
{
    struct chunk_row prev;

    if (d->win_base == 0)
        return 1;
    if (inspect_chunk_at(d->f->idx, d->f->instance_id, d->p->generation, d->p->kind, d->win_base - 1, &prev,
                         e) < 0) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e);
        return 1;
    }
    if (prev.end != d->win_base)
        return 1; /* a gap: nothing joins the window from before */
    return dec_load(d, &prev, 1, e) < 0 ? -1 : 0;
}

/* Does the stream between the boundary `at` and `target` state its second
 * (a "#TS:" line) and its db (a SELECT)? */
struct context_probe {
    int have_ts, have_select;
};

static int context_on_command(void *ud, const struct aofscan_command *c)
{
    struct context_probe *cp = ud;

    if (c->kind == AOFSCAN_CMD_SELECT)
        cp->have_select = 1;
    return 0;
}

static int context_on_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    struct context_probe *cp = ud;

    (void)ts;
    (void)start;
    (void)end;
    cp->have_ts = 1;
    return 0;
}

static int dec_context_known(const struct dec *d, size_t at, uint64_t target)
{
    static const struct aofscan_callbacks cb = {context_on_command, context_on_timestamp};
    struct context_probe cp = {0, 0};
    struct aofscan s;
    struct err e;
    size_t upto = (size_t)(target - d->win_base);

    if (upto > d->win.len)
        upto = d->win.len;
    aofscan_init(&s, d->win_base + at, &cb, &cp);
    if (upto > at)
        (void)aofscan_feed(&s, d->win.data + at, upto - at, NULL, &e);
    return cp.have_ts && cp.have_select;
}

/* The collector recorded where each incr chunk's first command boundary is,
 * with the db and second there: take the last one at or before `target`,
 * loading earlier chunks while the front one's lies after it (or it has
 * none: one command or MULTI block spans it). 1 when found (*pos set),
 * 0 when the chunks carry no marks (recorded before schema 3, or after a
 * stretch that did not scan), -1 on error. */
static int dec_marked_start(struct dec *d, uint64_t target, size_t *pos, struct err *e)
{
    uint64_t loaded = d->win.len;
    int rc;

    for (;;) {
        const struct dec_chunk *c = &d->chunks[0];

        if (!c->marks_known)
            return 0;
        if (c->boundary >= 0 && (uint64_t)c->boundary <= target) {
            *pos = (size_t)((uint64_t)c->boundary - d->win_base);
            d->start_db = c->boundary_db;
            d->start_ts = c->boundary_ts > 0 ? c->boundary_ts : -1;
            return 1;
        }
        if (d->win.len - loaded > INSPECT_LOOKBACK_MAX)
            return 0;
        rc = dec_load_previous(d, e);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
}

/* Fill the window around `target` and find where decoding starts: the
 * first boundary at or before target, looked for further back while none
 * is found (up to INSPECT_LOOKBACK_MAX), and then a little further
 * (INSPECT_CONTEXT_MAX) while no "#TS:" line and SELECT lie between it and
 * target, so that the commands of interest get their second and db. */
static int dec_resync(struct dec *d, uint64_t target, size_t *pos, struct err *e)
{
    uint64_t loaded = d->win.len;
    size_t context_chunks = 0;
    long at = -1;
    int rc;

    /* the neighbour before, always: it holds the head of a straddling command */
    rc = dec_load_previous(d, e);
    if (rc < 0)
        return -1;
    for (;;) {
        at = dec_find_boundary(d, 1);
        if (at >= 0 && d->win_base + (uint64_t)at <= target) {
            if (d->win_base == 0 || dec_context_known(d, (size_t)at, target))
                break;
            if (d->win.len - loaded > INSPECT_CONTEXT_MAX || context_chunks >= INSPECT_CONTEXT_CHUNKS)
                break;
            context_chunks++;
        } else if (d->win.len - loaded > INSPECT_LOOKBACK_MAX) {
            at = at < 0 ? dec_find_boundary(d, 0) : at;
            break;
        }
        rc = dec_load_previous(d, e);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            /* cannot look further back: take what the bytes give */
            if (at < 0)
                at = dec_find_boundary(d, 0);
            break;
        }
    }
    if (at < 0)
        return err_set(e, ERR_CORRUPT,
                       "no command boundary found in %s bytes [%" PRIu64 ", %" PRIu64
                       ") of generation %" PRId64 " of \"%s\"",
                       d->p->kind == CHUNK_BASE ? "base" : "incr", d->win_base, d->win_base + d->win.len,
                       d->p->generation, d->f->instance);
    *pos = (size_t)at;
    return 0;
}

/* ------------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------------ */

/* When the collector first saw the stream reach `end`. */
static int64_t dec_observed(struct dec *d, uint64_t end)
{
    const struct dec_chunk *c;
    struct err e;
    int64_t t;
    uint64_t hi, lo = 0;

    if (d->obs_valid && end > d->obs_lo && end <= d->obs_hi)
        return d->obs_t;
    if (!d->no_sizelog &&
        index_sizelog_time_of(d->f->idx, d->f->instance_id, d->p->generation, end, &t, &e) == 0 &&
        index_sizelog_at(d->f->idx, d->f->instance_id, d->p->generation, t, &hi, &e) == 0 && hi >= end) {
        if (index_sizelog_at(d->f->idx, d->f->instance_id, d->p->generation, t - 1, &lo, &e) < 0)
            lo = 0;
        d->obs_lo = lo;
        d->obs_hi = hi;
        d->obs_t = t;
        d->obs_valid = 1;
        return t;
    }
    /* the size log never reached `end` (nor will it for later bytes), or
     * the index failed: the last second of the chunk holding the byte */
    d->no_sizelog = 1;
    c = dec_chunk_of(d, end - 1);
    return c != NULL ? c->last : 0;
}

static int dec_on_command(void *ud, const struct aofscan_command *sc)
{
    struct dec *d = ud;
    const struct inspect_decode_params *p = d->p;
    const struct dec_chunk *c;
    struct inspect_cmd cmd;
    long argc;
    int rc;

    d->event_end = sc->end;
    if (sc->kind == AOFSCAN_CMD_SELECT)
        d->db_known = 1;
    if (sc->start >= p->to) {
        d->stopped = 1;
        return 1;
    }
    if (sc->end <= p->from)
        return 0;
    memset(&cmd, 0, sizeof(cmd));
    cmd.generation = p->generation;
    cmd.start = sc->start;
    cmd.end = sc->end;
    cmd.raw = d->win.data + (sc->start - d->win_base);
    cmd.kind = sc->kind;
    cmd.in_txn = sc->in_txn;
    cmd.txn_start = sc->txn_start;
    cmd.db = d->db_known ? sc->db : d->start_db;
    cmd.ts = sc->ts >= 0 ? sc->ts : d->start_ts;
    cmd.observed = dec_observed(d, sc->end);
    c = dec_chunk_of(d, sc->start);
    cmd.chunk_id = c != NULL ? c->id : 0;
    c = dec_chunk_of(d, sc->end - 1);
    cmd.end_chunk_id = c != NULL ? c->id : 0;
    if (p->split) {
        if ((size_t)sc->argc > d->argv_cap) {
            d->argv_cap = (size_t)sc->argc;
            d->argv = xrealloc(d->argv, d->argv_cap * sizeof(*d->argv));
        }
        argc = aofscan_split(cmd.raw, (size_t)(sc->end - sc->start), d->argv, d->argv_cap, &d->cb_err);
        if (argc < 0) {
            d->cb_failed = 1;
            d->stopped = 1;
            return 1;
        }
        cmd.argv = d->argv;
        cmd.argc = argc;
    }
    rc = p->on_command(p->ud, &cmd, &d->cb_err);
    if (rc != 0) {
        d->cb_failed = rc < 0;
        d->stopped = 1;
        return 1;
    }
    return 0;
}

static int dec_on_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    struct dec *d = ud;

    d->event_end = end;
    if (ts > d->p->stop_after_ts || start >= d->p->to) {
        d->stopped = 1;
        return 1;
    }
    return 0;
}

static int dec_feed(struct dec *d, uint64_t from, struct err *e)
{
    size_t off = (size_t)(from - d->win_base);

    if (aofscan_feed(&d->scan, d->win.data + off, d->win.len - off, NULL, e) < 0)
        return -1;
    if (d->cb_failed) {
        *e = d->cb_err;
        return -1;
    }
    return 0;
}

int inspect_decode(struct fetch *f, const struct inspect_decode_params *p, struct inspect_decode_result *r,
                   struct err *e)
{
    static const struct aofscan_callbacks cb = {dec_on_command, dec_on_timestamp};
    struct dec d;
    struct chunk_row row;
    struct fetch_chunk fc;
    uint64_t target, cur;
    size_t pos = 0;
    int marked, ret = -1;

    memset(&d, 0, sizeof(d));
    memset(r, 0, sizeof(*r));
    d.f = f;
    d.p = p;
    d.r = r;
    r->end = p->from;
    d.no_sizelog = p->kind != CHUNK_INCR; /* the size log follows incr files only */
    if (inspect_chunk_at(f->idx, f->instance_id, p->generation, p->kind, p->from, &row, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            goto out;
        /* nothing at or after `from`: an empty result */
        err_clear(e);
        r->at_stream_end = 1;
        ret = 0;
        goto out;
    }
    if (dec_load(&d, &row, 0, e) < 0)
        goto out;
    target = p->from > row.start ? p->from : row.start;
    d.start_db = -1;
    d.start_ts = -1;
    marked = p->kind == CHUNK_INCR ? dec_marked_start(&d, target, &pos, e) : 0;
    if (marked < 0 || (marked == 0 && dec_resync(&d, target, &pos, e) < 0))
        goto out;
    r->decode_start = d.win_base + pos;
    r->exact = r->decode_start == 0 || (marked && d.start_ts >= 0);
    d.db_known = r->decode_start == 0;
    if (d.db_known)
        d.start_db = 0;
    d.event_end = r->decode_start;
    aofscan_init(&d.scan, r->decode_start, &cb, &d);
    if (dec_feed(&d, r->decode_start, e) < 0)
        goto out;
    for (;;) {
        cur = d.win_base + d.win.len;
        r->end = cur;
        if (d.stopped)
            break;
        if (cur >= p->to && aofscan_where(&d.scan) != AOFSCAN_IN_COMMAND)
            break;
        dec_trim(&d, d.event_end);
        if (inspect_chunk_at(f->idx, f->instance_id, p->generation, p->kind, cur, &row, e) < 0) {
            if (e->code != ERR_NOTFOUND)
                goto out;
            err_clear(e);
            r->at_stream_end = 1;
            break;
        }
        fetch_chunk_from_row(&row, &fc);
        if (fetch_join(f, p->generation, p->kind, cur, &fc, e) < 0)
            goto out;
        if (dec_load(&d, &row, 0, e) < 0)
            goto out;
        if (dec_feed(&d, cur, e) < 0)
            goto out;
    }
    if (r->at_stream_end) {
        if (aofscan_where(&d.scan) == AOFSCAN_IN_COMMAND) {
            r->truncated = 1;
            r->truncated_at = d.event_end;
        } else if (aofscan_where(&d.scan) == AOFSCAN_IN_TXN) {
            r->open_txn = 1;
            r->open_txn_at = aofscan_txn_start(&d.scan);
        }
    }
    ret = 0;
out:
    buf_free(&d.win);
    buf_free(&d.raw);
    free(d.chunks);
    free(d.argv);
    return ret;
}

/* reindex_plan.c - from the chunk objects found in storage to the rows of
 * a rebuilt index (see reindex_plan.h).
 *
 * Choosing the chunks of one (generation, kind). The objects are sorted by
 * start. For each one, `reach` is how far a run of joining chunks that
 * begins with it goes (each next chunk starting exactly where the previous
 * one ends), and `next` the chunk that continues that run furthest; both
 * come from one pass from the highest start down. The walk then starts at
 * byte 0, takes the chunk with the furthest reach among those starting
 * there, follows `next` to the end of the run, and when the next byte has
 * no chunk, notes the gap and goes on at the lowest start after it. The
 * collector never writes two objects for one range, but a crash between a
 * store and its index row, an interrupted barrier, or a copy made by hand
 * can: of two overlapping objects the one that joins its neighbours is
 * kept, the other is reported and left out. */
#include "reindex_plan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "xalloc.h"

#define PLAN_NONE ((size_t)-1)

/* ------------------------------------------------------------------------
 * Problems
 * ------------------------------------------------------------------------ */

void reindex_problem_add(struct reindex_problems *p, int corrupt, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    buf_reserve(&b, len > 0 ? (size_t)len + 1 : 1);
    va_start(ap, fmt);
    vsnprintf(b.data, b.cap, fmt, ap);
    va_end(ap);
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
    }
    p->v[p->n].corrupt = corrupt;
    p->v[p->n].text = b.data; /* the buffer's memory now belongs to the list */
    p->n++;
    if (corrupt)
        p->corrupt++;
}

void reindex_problems_free(struct reindex_problems *p)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        free(p->v[i].text);
    free(p->v);
    memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------------------
 * Choosing the chunks that join
 * ------------------------------------------------------------------------ */

/* Generation, kind, start, end, then key: the order of a listing when the
 * numbers keep their padded width, and a total order in any case. */
static int plan_object_cmp(const void *a, const void *b)
{
    const struct reindex_object *x = a, *y = b;
    const struct chunk_name *p = &x->name, *q = &y->name;

    if (p->generation != q->generation)
        return p->generation < q->generation ? -1 : 1;
    if (p->kind != q->kind)
        return p->kind == CHUNK_BASE ? -1 : 1;
    if (p->start != q->start)
        return p->start < q->start ? -1 : 1;
    if (p->end != q->end)
        return p->end < q->end ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The first of v[lo..n) whose start is at least `off` (v sorted by start). */
static size_t plan_lower_bound(struct reindex_object *const *v, size_t lo, size_t n, uint64_t off)
{
    size_t hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v[mid]->name.start < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The kept chunk of v[0..n) holding byte `off`, or NULL. */
static const struct reindex_object *plan_kept_at(struct reindex_object *const *v, size_t n, uint64_t off)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i]->kept && v[i]->name.start <= off && off < v[i]->name.end)
            return v[i];
    return NULL;
}

/* Mark the chunks of v[0..n) (one generation and kind, sorted by start,
 * none empty) to keep; report gaps before `limit` (UINT64_MAX: none past
 * the last chunk) and the chunks left out. *end gets where the last kept
 * run ends, *whole whether the kept chunks join from 0 to there. */
static void plan_choose(const char *what, int64_t generation, struct reindex_object **v, size_t n,
                        uint64_t limit, struct reindex_problems *pr, uint64_t *end, int *whole)
{
    uint64_t *reach = xcalloc(n ? n : 1, sizeof(*reach));
    size_t *next = xcalloc(n ? n : 1, sizeof(*next));
    uint64_t expect = 0;
    size_t i, j, k = 0;

    for (i = n; i-- > 0;) {
        reach[i] = v[i]->name.end;
        next[i] = PLAN_NONE;
        for (j = plan_lower_bound(v, i + 1, n, v[i]->name.end); j < n && v[j]->name.start == v[i]->name.end;
             j++)
            if (next[i] == PLAN_NONE || reach[j] > reach[next[i]])
                next[i] = j;
        if (next[i] != PLAN_NONE)
            reach[i] = reach[next[i]];
    }
    *whole = 1;
    while (k < n) {
        size_t best;

        while (k < n && v[k]->name.start < expect)
            k++;
        if (k == n)
            break;
        if (v[k]->name.start > expect) {
            reindex_problem_add(pr, 0,
                                "generation %" PRId64 ": %s bytes [%" PRIu64 ", %" PRIu64 ") are missing",
                                generation, what, expect, v[k]->name.start);
            *whole = 0;
            expect = v[k]->name.start;
        }
        best = k;
        for (j = k + 1; j < n && v[j]->name.start == expect; j++)
            if (reach[j] > reach[best])
                best = j;
        for (j = best; j != PLAN_NONE; j = next[j]) {
            v[j]->kept = 1;
            expect = v[j]->name.end;
        }
    }
    if (limit != UINT64_MAX && expect < limit) {
        reindex_problem_add(pr, 0, "generation %" PRId64 ": %s bytes [%" PRIu64 ", %" PRIu64 ") are missing",
                            generation, what, expect, limit);
        *whole = 0;
    }
    for (i = 0; i < n; i++) {
        const struct reindex_object *k2;

        if (v[i]->kept)
            continue;
        k2 = plan_kept_at(v, n, v[i]->name.start);
        if (k2 != NULL && k2->name.start == v[i]->name.start && k2->name.end == v[i]->name.end)
            reindex_problem_add(pr, 0, "chunk \"%s\" holds the same bytes as \"%s\"; not indexed", v[i]->key,
                                k2->key);
        else
            reindex_problem_add(pr, 0, "chunk \"%s\" overlaps the kept chunk \"%s\"; not indexed", v[i]->key,
                                k2 != NULL ? k2->key : "?");
    }
    *end = expect;
    free(reach);
    free(next);
}

/* ------------------------------------------------------------------------
 * One generation
 * ------------------------------------------------------------------------ */

static int plan_same_base(const struct chunk_name *a, const struct chunk_name *b)
{
    return a->format == b->format && a->total == b->total && a->first == b->first;
}

/* The base chunk whose (format, size, time) most base chunks share; on a
 * tie the one with the lowest start. */
static const struct reindex_object *plan_base_reference(struct reindex_object **v, size_t n)
{
    size_t i, j, best = 0, best_votes = 0;

    for (i = 0; i < n; i++) {
        size_t votes = 0;

        for (j = 0; j < n; j++)
            votes += plan_same_base(&v[i]->name, &v[j]->name);
        if (votes > best_votes) {
            best = i;
            best_votes = votes;
        }
    }
    return v[best];
}

/* Move the chunks to keep of v[0..*n) to its front, in order, for *n kept. */
static void plan_compact(struct reindex_object **v, size_t *n)
{
    size_t i, m = 0;

    for (i = 0; i < *n; i++)
        if (v[i]->kept)
            v[m++] = v[i];
    *n = m;
}

static void plan_generation(struct reindex_object **base, size_t nbase, struct reindex_object **incr,
                            size_t nincr, enum instance_mode mode, struct reindex_gen *g,
                            struct reindex_problems *pr)
{
    const struct reindex_object *ref = NULL;
    struct gen_row *r = &g->row;
    uint64_t end = 0;
    uint32_t crc = 0;
    size_t i, m = 0;
    int whole = 0;

    memset(g, 0, sizeof(*g));
    r->generation = nbase > 0 ? base[0]->name.generation : incr[0]->name.generation;
    r->mode = mode;
    /* base chunks that describe another base than the rest are left out */
    if (nbase > 0) {
        ref = plan_base_reference(base, nbase);
        for (i = 0; i < nbase; i++) {
            if (plan_same_base(&base[i]->name, &ref->name)) {
                base[m++] = base[i];
                continue;
            }
            reindex_problem_add(pr, 0,
                                "base chunk \"%s\" disagrees with \"%s\" on the base's format, size or time; "
                                "not indexed",
                                base[i]->key, ref->key);
        }
        nbase = m;
        r->base_format = ref->name.format;
        r->base_size = ref->name.total;
        r->base_time = ref->name.first;
        plan_choose("base", r->generation, base, nbase, ref->name.total, pr, &end, &whole);
        plan_compact(base, &nbase);
        r->base_complete = whole && end == ref->name.total && nbase > 0;
        for (i = 0; i < nbase; i++)
            crc = (uint32_t)crc32_combine(crc, base[i]->crc32,
                                          (z_off_t)(base[i]->name.end - base[i]->name.start));
        r->base_crc32 = r->base_complete ? crc : 0;
        if (!r->base_complete)
            reindex_problem_add(pr, 0,
                                "generation %" PRId64 ": the base is incomplete; it cannot be restored",
                                r->generation);
    } else {
        r->base_format = BASE_RDB;
        r->base_time = incr[0]->name.first;
        reindex_problem_add(pr, 0, "generation %" PRId64 " has no base chunk; it cannot be restored",
                            r->generation);
    }
    if (nincr > 0) {
        plan_choose("incr", r->generation, incr, nincr, UINT64_MAX, pr, &end, &whole);
        plan_compact(incr, &nincr);
    }
    r->started = r->base_time;
    g->base = nbase > 0 ? xmalloc(nbase * sizeof(*g->base)) : NULL;
    g->incr = nincr > 0 ? xmalloc(nincr * sizeof(*g->incr)) : NULL;
    if (nbase > 0)
        memcpy(g->base, base, nbase * sizeof(*base));
    if (nincr > 0)
        memcpy(g->incr, incr, nincr * sizeof(*incr));
    g->nbase = nbase;
    g->nincr = nincr;
    for (i = 0; i < nbase; i++) {
        g->stored_bytes += base[i]->stored_bytes;
        g->raw_bytes += base[i]->name.end - base[i]->name.start;
    }
    for (i = 0; i < nincr; i++) {
        g->stored_bytes += incr[i]->stored_bytes;
        g->raw_bytes += incr[i]->name.end - incr[i]->name.start;
    }
}

/* ------------------------------------------------------------------------
 * The plan
 * ------------------------------------------------------------------------ */

void reindex_plan_build(struct reindex_object *objs, size_t n, enum instance_mode mode,
                        struct reindex_plan *plan, struct reindex_problems *pr)
{
    struct reindex_object **base = xcalloc(n ? n : 1, sizeof(*base));
    struct reindex_object **incr = xcalloc(n ? n : 1, sizeof(*incr));
    size_t i = 0, j, ngens = 0, cap = 0;

    memset(plan, 0, sizeof(*plan));
    if (n > 0)
        qsort(objs, n, sizeof(*objs), plan_object_cmp);
    while (i < n) {
        size_t nbase = 0, nincr = 0;

        for (j = i; j < n && objs[j].name.generation == objs[i].name.generation; j++) {
            objs[j].kept = 0;
            if (objs[j].name.end == objs[j].name.start)
                reindex_problem_add(pr, 0, "chunk \"%s\" holds no bytes; not indexed", objs[j].key);
            else if (objs[j].name.kind == CHUNK_BASE)
                base[nbase++] = &objs[j];
            else
                incr[nincr++] = &objs[j];
        }
        i = j;
        if (nbase == 0 && nincr == 0)
            continue;
        if (ngens == cap) {
            cap = cap ? cap * 2 : 8;
            plan->v = xrealloc(plan->v, cap * sizeof(*plan->v));
        }
        plan_generation(base, nbase, incr, nincr, mode, &plan->v[ngens++], pr);
    }
    plan->n = ngens;
    /* a generation lasts until the next one's base was taken */
    for (i = 0; i + 1 < ngens; i++) {
        plan->v[i].row.ended = plan->v[i + 1].row.base_time;
        snprintf(plan->v[i].row.end_reason, sizeof(plan->v[i].row.end_reason), "%s", "reindexed");
    }
    free(base);
    free(incr);
}

void reindex_plan_free(struct reindex_plan *plan)
{
    size_t i;

    for (i = 0; i < plan->n; i++) {
        free(plan->v[i].base);
        free(plan->v[i].incr);
    }
    free(plan->v);
    memset(plan, 0, sizeof(*plan));
}

/* ------------------------------------------------------------------------
 * Schema 3 fields
 * ------------------------------------------------------------------------ */

void reindex_plan_marks(struct reindex_plan *plan)
{
    int64_t prev_gen = 0, prev_ts = 0;
    size_t i, j;

    for (i = 0; i < plan->n; i++) {
        struct reindex_gen *g = &plan->v[i];
        const struct reindex_object *before = NULL;
        int64_t ts = 0;
        int whole = 1;

        if (g->row.mode != MODE_AOF)
            continue;
        for (j = 0; j < g->nincr; j++) {
            struct reindex_object *o = g->incr[j];

            if (!whole || !o->scanned || o->scan_prev != before || !o->marks.known) {
                whole = 0;
                memset(&o->marks, 0, sizeof(o->marks));
                continue;
            }
            if (o->marks.ts_last != 0)
                ts = o->marks.ts_last;
            if (o->marks.ts_first != 0)
                g->row.exact = GEN_YES;
            before = o;
        }
        if (prev_gen != 0 && prev_gen + 1 == g->row.generation && prev_ts >= g->row.base_time)
            g->row.lead_ts = prev_ts;
        if (ts == 0)
            ts = g->row.lead_ts;
        prev_gen = whole ? g->row.generation : 0;
        prev_ts = ts;
    }
}

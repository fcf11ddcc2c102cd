/* observe.c - when were a generation's incr bytes first seen?
 *
 * Every poll that sees the incr stream grow adds a (time, size) pair. A
 * chunk [start, end) is stamped with first = the time of the first poll
 * that saw size > start (its first byte existed) and last = the time of
 * the first poll that saw size >= end (its last byte existed). Bytes that
 * already existed when the collector started count as observed at start.
 * Pairs that no unshipped chunk can need are trimmed, so the array stays
 * as short as the backlog. The same pairs, written to the index as the
 * size log, map wall-clock time to offsets for AOFs without #TS lines. */

#include "observe.h"

#include <stdlib.h>

#include "xalloc.h"

void observe_init(struct observations *o)
{
    o->v = NULL;
    o->n = 0;
    o->cap = 0;
}

void observe_free(struct observations *o)
{
    free(o->v);
    observe_init(o);
}

int observe_add(struct observations *o, int64_t t, uint64_t size)
{
    if (o->n > 0 && size <= o->v[o->n - 1].size)
        return 0;
    if (o->n == o->cap) {
        o->cap = o->cap == 0 ? 16 : o->cap * 2;
        o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
    }
    o->v[o->n].t = t;
    o->v[o->n].size = size;
    o->n++;
    return 1;
}

/* Index of the first observation with size > off, or o->n. */
static size_t observe_first_above(const struct observations *o, uint64_t off)
{
    size_t lo = 0, hi = o->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (o->v[mid].size > off)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void observe_times(const struct observations *o, uint64_t start, uint64_t end, int64_t now, int64_t *first,
                   int64_t *last)
{
    size_t i = observe_first_above(o, start);
    size_t j = end > 0 ? observe_first_above(o, end - 1) : i; /* size >= end <=> size > end - 1 */

    *first = i < o->n ? o->v[i].t : now;
    *last = j < o->n ? o->v[j].t : now;
    if (*last < *first)
        *last = *first;
}

void observe_trim(struct observations *o, uint64_t shipped)
{
    size_t i = observe_first_above(o, shipped);

    if (i == 0)
        return;
    for (size_t k = i; k < o->n; k++)
        o->v[k - i] = o->v[k];
    o->n -= i;
}

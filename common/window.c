/* window.c - restorable windows and the generation for a time (see
 * window.h for the rule and why it holds). */
#include "window.h"

#include <string.h>

int64_t window_start(const struct window_gen *g)
{
    if (g->row.mode == MODE_AOF && g->row.lead_ts != 0 && g->row.follows != GEN_NO)
        return g->row.lead_ts;
    return g->row.base_time;
}

int64_t window_end(const struct window_gen *gens, size_t n, size_t i, int *open)
{
    const struct window_gen *g = &gens[i];
    const struct window_gen *next = i + 1 < n ? &gens[i + 1] : NULL;
    int unknown_end = g->row.mode != MODE_AOF || g->row.proven_end == 0;
    size_t k;

    /* snapshots stand alone: the next complete one takes over */
    for (k = i + 1; g->row.mode == MODE_RDB && next != NULL && !next->usable; k++)
        next = k + 1 < n ? &gens[k + 1] : NULL;

    *open = 0;
    if (g->broken)
        return g->last;
    if (next != NULL && (next->row.follows != GEN_NO || next->row.mode != MODE_AOF))
        return window_start(next) - 1;
    if (next != NULL)
        return unknown_end ? g->last : g->row.proven_end;
    if (g->row.ended == 0) {
        *open = 1;
        return g->last;
    }
    if (!unknown_end)
        return g->row.proven_end;
    /* before schema 3: to the time it was closed, and later T as the newest */
    *open = 1;
    return g->row.ended > g->last ? g->row.ended : g->last;
}

long window_for_time(const struct window_gen *gens, size_t n, int64_t t)
{
    size_t i;

    for (i = n; i > 0; i--) {
        if (gens[i - 1].usable && window_start(&gens[i - 1]) <= t)
            return (long)(i - 1);
    }
    return -1;
}

void window_choose(const struct window_gen *gens, size_t n, int64_t t, struct window_choice *c)
{
    long i = window_for_time(gens, n, t);
    int open;

    c->verdict = WINDOW_BEFORE;
    c->gen = c->next = 0;
    c->from = c->to = 0;
    c->past_end = c->by_base_time = 0;
    if (i < 0)
        return;
    c->gen = (size_t)i;
    c->from = window_start(&gens[i]);
    c->to = window_end(gens, n, (size_t)i, &open);
    c->by_base_time =
        gens[i].row.mode == MODE_AOF && gens[i].row.follows == GEN_YES && gens[i].row.lead_ts == 0;
    if (t <= c->to || gens[i].broken) {
        /* past a gap in its chunks, the restore itself names the missing range */
        c->verdict = WINDOW_RESTORE;
        return;
    }
    if (open) {
        c->verdict = WINDOW_RESTORE;
        c->past_end = 1;
        return;
    }
    if ((size_t)i + 1 < n && gens[i].row.mode == MODE_AOF) {
        c->verdict = WINDOW_GAP;
        c->next = (size_t)i + 1;
    } else {
        c->verdict = WINDOW_AFTER;
    }
}

size_t window_list(const struct window_gen *gens, size_t n, struct window *out)
{
    size_t i, k = 0;
    int open;

    for (i = 0; i < n; i++) {
        int64_t from, to;

        if (!gens[i].usable)
            continue;
        from = window_start(&gens[i]);
        to = window_end(gens, n, i, &open);
        if (to < from)
            continue; /* nothing of it can be restored */
        if (k > 0 && from <= out[k - 1].to + 1) {
            if (to > out[k - 1].to)
                out[k - 1].to = to;
            out[k - 1].last_gen = i;
            continue;
        }
        out[k].from = from;
        out[k].to = to;
        out[k].first_gen = out[k].last_gen = i;
        k++;
    }
    return k;
}

const char *window_end_why(const struct window_gen *gens, size_t n, size_t i)
{
    const struct window_gen *g = &gens[i];
    const char *r = g->row.end_reason;

    if (g->broken)
        return "its incr chunks stop at a gap or a fault";
    if (strcmp(r, "aof-off") == 0)
        return "the AOF was switched off (appendonly no)";
    if (strcmp(r, "missed") == 0)
        return "a rewrite came and went unseen, and its stream with it";
    if (i + 1 < n && !gens[i + 1].usable)
        return "the next base is not complete yet";
    if (r[0] != '\0')
        return r;
    return "the archive ends there";
}

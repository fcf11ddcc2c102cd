/* stop_where.c - find --stop-before's command in the generations before
 * the one a restore read (see stop_where.h). The earlier generations are
 * decoded with inspect_decode(), as `aofroll log --cmd` reads them, and
 * the newest match is kept. */
#include "stop_where.h"

#include <stdio.h>
#include <string.h>

#include "inspect.h"
#include "inspect_decode.h"

struct stop_where {
    const struct cut_pattern *p;
    int64_t from;
    struct stop_hit *hit;
};

static int stop_where_on_command(void *ud, const struct inspect_cmd *c, struct err *e)
{
    struct stop_where *w = ud;
    int64_t t = inspect_cmd_time(c);

    (void)e;
    if (c->argc < 1 || t < w->from || !cut_pattern_match(w->p, c->argv[0].p, c->argv[0].len))
        return 0;
    w->hit->found = 1;
    w->hit->generation = c->generation;
    w->hit->time = t;
    w->hit->offset = c->in_txn ? c->txn_start : c->start;
    snprintf(w->hit->name, sizeof(w->hit->name), "%.*s", (int)(c->argv[0].len < 63 ? c->argv[0].len : 63),
             c->argv[0].p);
    return 0;
}

int stop_where_earlier(struct fetch *f, const struct cut_pattern *p, int64_t from, int64_t generation,
                       struct stop_hit *hit, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    struct inspect_decode_params dp;
    struct inspect_decode_result dr;
    struct stop_where w;
    size_t i;
    int ret = -1;

    memset(hit, 0, sizeof(*hit));
    w.p = p;
    w.from = from;
    w.hit = hit;
    if (inspect_gens_load(f->idx, f->instance_id, &gens, e) < 0)
        goto out;
    for (i = gens.n; i-- > 0;) {
        const struct inspect_gen *g = &gens.v[i];

        if (g->g.generation >= generation || g->incr_bytes == 0)
            continue;
        if (from != INT64_MIN && g->last < from)
            break; /* older ones were written before --from */
        memset(&dp, 0, sizeof(dp));
        dp.generation = g->g.generation;
        dp.kind = CHUNK_INCR;
        dp.from = 0;
        dp.to = UINT64_MAX;
        dp.stop_after_ts = INT64_MAX;
        dp.split = 1;
        dp.on_command = stop_where_on_command;
        dp.ud = &w;
        if (inspect_decode(f, &dp, &dr, e) < 0)
            goto out;
        if (hit->found || from == INT64_MIN)
            break; /* the newest generation with a match holds the newest match */
    }
    ret = 0;
out:
    inspect_gens_free(&gens);
    return ret;
}

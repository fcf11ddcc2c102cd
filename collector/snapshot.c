/* snapshot.c - the thread of a mode rdb instance: when to take a snapshot.
 *
 * A mode rdb instance (Redis with `appendonly no`) is archived as a series
 * of snapshots, one generation each (a base that is the dump file, no incr
 * stream). Its thread opens its own index and storage handles like a mode
 * aof one, then:
 *
 *   at start-up: a generation that a previous run left half-shipped is
 *     reconciled with the storage and ended ("interrupted": its dump file
 *     may have been replaced since, so it is never resumed); generations
 *     of another mode left open are ended ("mode"); the schedule starts
 *     from the newest complete snapshot's base time;
 *   following (the daemon): every poll interval, the heartbeat, and a
 *     snapshot when one is due: `snapshot_interval` after the last one,
 *     daily at `snapshot_at` (the barrier's DST-safe schedule), at once
 *     when the archive holds none, or on --snapshot-now from another
 *     process; a failed one is tried again after a minute (or the
 *     interval when shorter); and the periodic copy of the index;
 *   --snapshot-now: one snapshot now; --once: one if due;
 *   --barrier-now: nothing (main.c refuses it when named).
 *
 * When a snapshot is due is snapshot_schedule.c's to say, the heartbeat
 * snapshot_beat.c's, one snapshot snapshot_take.c's. */
#include "snapshot.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timeutil.h"
#include "xalloc.h"

#include "context.h"
#include "generation.h"
#include "reconcile.h"
#include "request.h"
#include "snapshot_beat.h"
#include "snapshot_schedule.h"
#include "snapshot_take.h"

/* ------------------------------------------------------------------------
 * Start-up: the generations a previous run left
 * ---------------------------------------------------------------------- */

struct gen_rows {
    struct gen_row *v;
    size_t n, cap;
};

static int collect_gen(void *ud, const struct gen_row *g)
{
    struct gen_rows *l = ud;

    if (l->n == l->cap) {
        l->cap = l->cap == 0 ? 16 : l->cap * 2;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = *g;
    return 0;
}

/* End the open generations that are not the newest complete snapshot. */
static int snapshot_settle(struct instance *in, const struct gen_rows *l, const struct gen_row *newest,
                           struct err *e)
{
    for (size_t i = 0; i < l->n; i++) {
        struct gen_row r = l->v[i];
        const char *reason;

        if (r.ended != 0 || (newest != NULL && r.generation == newest->generation))
            continue;
        if (r.mode != MODE_RDB) {
            reason = "mode"; /* the instance was collected in mode aof before */
        } else if (!r.base_complete) {
            struct generation *g = generation_new();
            int rv;

            /* an object stored but not indexed is adopted or removed */
            g->row = r;
            rv = reconcile_generation(in, g, 0, e);
            generation_free(g);
            if (rv != 0)
                return -1;
            reason = "interrupted";
            log_msg(in->col->log, LOG_WARN, in->name,
                    "snapshot generation %" PRId64 " was not shipped to its end by the previous run: ended; "
                    "a restore never uses it",
                    r.generation);
        } else {
            reason = "snapshot"; /* a newer one was complete before the previous run stopped */
        }
        if (generation_end(in, &r, reason, e) != 0)
            return -1;
    }
    return 0;
}

static int snapshot_start(struct instance *in, struct err *e)
{
    const struct config *cfg = in->col->cfg;
    struct snapshot_state *s = in->snap;
    struct gen_rows l = {NULL, 0, 0};
    const struct gen_row *newest = NULL;
    int rv = -1;

    if (index_open(cfg->index_path, 0, &in->idx, e) != 0)
        goto out;
    if (index_instance_id(in->idx, in->name, 1, &in->instance_id, e) != 0)
        goto out;
    if (storage_open(cfg, &in->st, e) != 0)
        goto out;
    if (index_generations(in->idx, in->instance_id, collect_gen, &l, e) != 0)
        goto out;
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i].generation > in->last_generation)
            in->last_generation = l.v[i].generation;
        if (l.v[i].mode == MODE_RDB && l.v[i].base_complete &&
            (newest == NULL || l.v[i].generation > newest->generation))
            newest = &l.v[i];
    }
    if (reconcile_newer(in, in->last_generation, e) != 0)
        goto out;
    if (snapshot_settle(in, &l, newest, e) != 0)
        goto out;
    if (newest != NULL) {
        s->generation = newest->generation;
        snprintf(s->file, sizeof(s->file), "%s", newest->base_file);
        s->size = s->shipped = newest->base_size;
        s->base_time = newest->base_time;
    }
    snapshot_schedule_init(&s->sched, in->ic, time_now(), newest != NULL ? newest->base_time : 0);
    in->next_upload = time_now() + cfg->index_upload_interval_s;
    rv = 0;
out:
    free(l.v);
    return rv;
}

/* ------------------------------------------------------------------------
 * Actions
 * ---------------------------------------------------------------------- */

static void snapshot_log_next(struct instance *in)
{
    int64_t next = snapshot_schedule_next(&in->snap->sched, time_now());
    char t[TIME_BUFSZ];

    if (next == 0)
        return;
    time_format_local(next, t, sizeof(t));
    log_msg(in->col->log, LOG_INFO, in->name, "next snapshot at %s", t);
}

/* Follow the schedule until stopped. */
static int snapshot_follow(struct instance *in, struct err *e)
{
    struct snapshot_state *s = in->snap;
    int requested = 0;

    snapshot_log_next(in);
    for (;;) {
        int64_t t0 = time_monotonic_ms();
        int requests = atomic_load(&in->col->requests);
        const char *why;

        if (context_stopping(in->col))
            break;
        if (requests != in->seen_requests) {
            in->seen_requests = requests;
            if (request_take(in, REQUEST_SNAPSHOT)) {
                log_msg(in->col->log, LOG_INFO, in->name, "snapshot requested by --snapshot-now");
                requested = 1;
            }
        }
        why = requested ? "requested" : snapshot_schedule_due(&s->sched, time_now());
        if (why != NULL) {
            requested = 0;
            if (snapshot_take(in, why, e) != 0) {
                if (e->code == ERR_STOPPED)
                    break;
                snapshot_schedule_failed(&s->sched, time_now());
                err_clear(e);
            }
            snapshot_log_next(in);
        }
        s->next_beat_ms = 0;
        snapshot_beat_due(in);
        if (in->col->cfg->index_upload_interval_s > 0 && time_now() >= in->next_upload) {
            in->next_upload = time_now() + in->col->cfg->index_upload_interval_s;
            if (context_upload_index(in, e) != 0) {
                context_fail(in, &in->h_storage, "index copy", e);
                err_clear(e);
            } else {
                context_recover(in, &in->h_storage, "index copy");
            }
        }
        if (context_sleep(in->col, in->ic->poll_interval_ms - (time_monotonic_ms() - t0), e) != 0)
            break;
    }
    err_clear(e);
    return 0;
}

int snapshot_main(struct instance *in, struct err *e)
{
    struct snapshot_state s;
    const char *why;
    int rv = -1;

    memset(&s, 0, sizeof(s));
    in->snap = &s;
    if (snapshot_start(in, e) != 0)
        goto out;
    switch (in->col->action) {
    case COLLECT_RUN:
        rv = snapshot_follow(in, e);
        break;
    case COLLECT_SNAPSHOT_NOW:
        rv = snapshot_take(in, "requested", e);
        if (rv == 0) {
            char t[TIME_BUFSZ];

            time_format_utc(s.base_time, t, sizeof(t));
            printf("%s: generation %" PRId64 ", snapshot taken at %s, %" PRIu64 " bytes\n", in->name,
                   s.generation, t, s.size);
        }
        break;
    case COLLECT_ONCE:
        why = snapshot_schedule_due(&s.sched, time_now());
        rv = why != NULL ? snapshot_take(in, why, e) : 0;
        break;
    default:
        log_msg(in->col->log, LOG_INFO, in->name, "mode rdb: no barrier to run");
        rv = 0;
        break;
    }
out:
    if (in->idx != NULL) {
        struct err be;

        if (snapshot_beat(in, &be) != 0)
            log_msg(in->col->log, LOG_WARN, in->name, "%s", be.msg);
    }
    in->snap = NULL;
    return rv;
}

/* instance.c - one instance's thread: start, follow, stop.
 *
 * Each configured instance runs in its own thread with its own index and
 * storage handles and its own Redis connection (redisconn.c), so that a
 * slow or failing instance never holds up the others. The thread opens
 * its handles, reaches Redis (CONFIG GET says where the AOF directory is;
 * while following, Redis down at start is waited for), then, according to
 * the run's action:
 *
 *   follow (the daemon): every poll_interval, a poll (follow.c), the
 *     barrier when due or requested (barrier.c), shipping within one poll
 *     interval, the heartbeat, and now and then a copy of the index into
 *     the storage; until SIGTERM/SIGINT;
 *   --once: ship until a poll finds nothing pending;
 *   --barrier-now: the same, the barrier, and the same again.
 *
 * The first poll matches the index with the files (resume.c). Failures
 * (storage, index, Redis, missing files) are logged once per change of
 * state and retried with backoff while following; with --once and
 * --barrier-now they end the run for that instance (exit status 1). Sleeps
 * wait on the stop pipe, so a stop request ends them at once.
 *
 * This file is the driver only, the top of the collector's layers: what
 * every step shares (failing, events, the Redis handle, sleeping) is the
 * context's (context.c), and each step is a file below (collector.h). The
 * thread sets up its throttle at its start and drops its generations at
 * its end, so that the context, at the bottom, needs neither. */
#include "instance.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "indexcopy.h"
#include "metrics.h"
#include "text.h"
#include "forklock.h"
#include "timeutil.h"
#include "xalloc.h"

#include "barrier.h"
#include "cluster_view.h"
#include "context.h"
#include "follow.h"
#include "generation.h"
#include "priority.h"
#include "request.h"
#include "resume.h"
#include "snapshot.h"
#include "throttle.h"

/* ------------------------------------------------------------------------
 * The thread
 * ---------------------------------------------------------------------- */

/* Open this thread's handles and reach Redis. */
static int instance_start(struct instance *in, struct err *e)
{
    const struct config *cfg = in->col->cfg;
    struct status_row s;

    if (index_open(cfg->index_path, 0, &in->idx, e) != 0)
        return -1;
    if (index_instance_id(in->idx, in->name, 1, &in->instance_id, e) != 0)
        return -1;
    if (storage_open(cfg, &in->st, e) != 0)
        return -1;
    memset(&s, 0, sizeof(s));
    if (index_status_get(in->idx, in->instance_id, &s, e) != 0) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e);
    }
    in->last_barrier = s.last_barrier;
    barrier_schedule_init(&in->sched, in->ic->barrier_minute, time_now(), s.last_barrier);
    in->next_upload = time_now() + cfg->index_upload_interval_s;

    /* the AOF's location comes from Redis: wait for it when following */
    for (;;) {
        if (context_redis(in, e) == 0)
            return 0;
        if (in->col->action != COLLECT_RUN)
            return e->code == ERR_BUSY ? err_set(e, ERR_REDIS, "redis \"%s\" is down", in->rc.where) : -1;
        /* context_redis() logged the failure once; retry with its backoff */
        if (follow_heartbeat(in, e) != 0)
            context_fail(in, &in->h_index, "index", e);
        if (context_sleep(in->col, in->ic->poll_interval_ms, e) != 0)
            return -1;
    }
}

/* Poll, resuming first when that has not happened yet. */
static int instance_step_poll(struct instance *in, struct err *e)
{
    if (!in->resumed) {
        if (in->manifest_path == NULL && context_redis(in, e) != 0)
            return -1;
        if (resume_run(in, e) != 0) {
            context_fail(in, &in->h_aof, "start", e);
            return -1;
        }
        in->resumed = 1;
        context_recover(in, &in->h_aof, "start");
    }
    return follow_poll(in, e);
}

/* Ship with backoff on failure; returns -1 only for a stop request. */
static int instance_step_ship(struct instance *in, int64_t budget_ms, int *more, struct err *e)
{
    uint64_t pending;

    *more = 0;
    if (time_monotonic_ms() < in->backoff_until_ms)
        return 0;
    pending = follow_backlog(in);
    if (follow_ship_pending(in, budget_ms, more, e) != 0) {
        if (e->code == ERR_STOPPED)
            return -1;
        context_fail(in, &in->h_storage, "shipping", e);
        in->backoff_until_ms = time_monotonic_ms() + in->backoff_ms;
        in->backoff_ms = in->backoff_ms * 2 > SHIP_BACKOFF_MAX_MS ? SHIP_BACKOFF_MAX_MS : in->backoff_ms * 2;
        err_clear(e);
        return 0;
    }
    in->backoff_ms = SHIP_BACKOFF_MIN_MS;
    if (pending > 0) /* with nothing to ship, the storage was not tried */
        context_recover(in, &in->h_storage, "shipping");
    return 0;
}

/* A requested barrier that could not run in barrier_timeout is given
 * up: an error event answers the requester (request.c). */
static void instance_give_up_request(struct instance *in, const char *why)
{
    int64_t held = in->sched.postponed_since > 0 ? time_now() - in->sched.postponed_since : 0;
    char detail[DETAIL_MAX];

    if (held < in->ic->barrier_timeout_s)
        held = in->ic->barrier_timeout_s;
    snprintf(detail, sizeof(detail), "barrier (requested) failed: held back for %" PRId64 " s: %s", held,
             why);
    log_msg(in->col->log, LOG_ERROR, in->name, "%s", detail);
    context_event(in, "error", detail);
    in->barrier_requested = 0;
}

/* No barrier is pending. One that was held back and given up still counts
 * as held back while what held it back lasts: the next one would be too. */
static void instance_barrier_idle(struct instance *in, int64_t now)
{
    uint64_t backlog = follow_backlog(in);
    char why[256];
    struct err e;

    if (in->sched.postponed_since == 0)
        return;
    err_clear(&e);
    if (in->aof_off)
        err_set(&e, ERR_BUSY, "the AOF is off on redis \"%s\" (appendonly no)", in->rc.where);
    else if (barrier_postpone_reason(backlog, in->ic->max_rate, in->ic->barrier_max_lag_s,
                                     in->h_storage.failing, why, sizeof(why)))
        err_set(&e, ERR_BUSY, "%s", why);
    barrier_note_attempt(in, e.code == ERR_BUSY ? -1 : 0, &e, now);
}

/* The scheduled barrier, or the one continuity needs, or the one
 * requested; held back while barrier.c says so (or while another
 * instance of this box forks), for at most barrier_timeout. */
static int instance_step_barrier(struct instance *in, struct err *e)
{
    int64_t now = time_now();
    int scheduled = barrier_due(&in->sched, now);
    int requests = atomic_load(&in->col->requests);
    const char *why;
    int fork_fd = -1, rv, overdue;

    if (requests != in->seen_requests) {
        in->seen_requests = requests;
        if (request_take(in, REQUEST_BARRIER)) {
            log_msg(in->col->log, LOG_INFO, in->name, "barrier requested by --barrier-now");
            if (!in->barrier_requested)
                in->barrier_deadline_ms = time_monotonic_ms() + in->ic->barrier_timeout_s * 1000;
            in->barrier_requested = 1;
        }
    }
    if (!in->resumed)
        return 0;
    if (in->barrier_requested)
        why = "requested";
    else if (in->need_base && now >= in->sched.retry_after)
        why = "continuity";
    else if (scheduled)
        why = "scheduled";
    else {
        instance_barrier_idle(in, now);
        return 0;
    }
    if (!in->barrier_requested)
        in->barrier_deadline_ms = 0;
    /* the rewrite forks: wait for the turn of this instance (forklock.c) */
    rv = forklock_try(in->col, &fork_fd, e);
    if (rv < 0) {
        context_fail(in, &in->h_aof, "barrier", e);
        err_clear(e);
        return 0;
    }
    if (rv == 0) {
        if (!in->fork_wait_logged)
            log_msg(in->col->log, LOG_INFO, in->name,
                    "barrier (%s) waits: another instance on this box is forking", why);
        in->fork_wait_logged = 1;
        err_set(e, ERR_BUSY, "another instance on this box is forking");
        rv = -1;
    } else {
        in->fork_wait_logged = 0;
        rv = barrier_run(in, why, e);
        forklock_release(in->col, fork_fd);
    }
    overdue = barrier_note_attempt(in, rv, e, now);
    if (rv == 0) {
        if (scheduled)
            barrier_done(&in->sched, now);
        in->barrier_requested = 0;
        in->barrier_deadline_ms = 0;
        return 0;
    }
    if (e->code == ERR_STOPPED)
        return -1;
    if (e->code != ERR_BUSY) {
        in->sched.retry_after = now + BARRIER_RETRY_S;
        in->barrier_requested = 0; /* the requester saw the error event */
        in->barrier_deadline_ms = 0;
    } else if (in->barrier_requested &&
               (overdue || (in->barrier_deadline_ms > 0 && time_monotonic_ms() >= in->barrier_deadline_ms))) {
        barrier_overdue(in, now);
        instance_give_up_request(in, e->msg);
        in->barrier_deadline_ms = 0;
    }
    err_clear(e);
    return 0;
}

/* Follow until stopped. */
static int instance_follow(struct instance *in, struct err *e)
{
    for (;;) {
        int64_t t0 = time_monotonic_ms();
        int more = 0;

        if (context_stopping(in->col))
            break;
        if (instance_step_poll(in, e) != 0 && e->code == ERR_STOPPED)
            break;
        err_clear(e);
        if (instance_step_barrier(in, e) != 0)
            break;
        cluster_view_step(in);
        if (instance_step_ship(in, in->ic->poll_interval_ms, &more, e) != 0)
            break;
        if (follow_heartbeat(in, e) != 0) {
            context_fail(in, &in->h_index, "index", e);
            err_clear(e);
        }
        if (in->col->cfg->index_upload_interval_s > 0 && time_now() >= in->next_upload) {
            in->next_upload = time_now() + in->col->cfg->index_upload_interval_s;
            if (context_upload_index(in, e) != 0) {
                context_fail(in, &in->h_storage, "index copy", e);
                err_clear(e);
            } else {
                context_recover(in, &in->h_storage, "index copy");
            }
        }
        if (!more && context_sleep(in->col, in->ic->poll_interval_ms - (time_monotonic_ms() - t0), e) != 0)
            break;
    }
    err_clear(e);
    return 0;
}

/* Ship until a poll finds nothing pending. Any failure ends the run. */
static int instance_catch_up(struct instance *in, struct err *e)
{
    for (;;) {
        struct generation *last;
        int more;

        if (instance_step_poll(in, e) != 0)
            return -1;
        if (follow_ship_pending(in, -1, &more, e) != 0)
            return -1;
        last = generation_last(in);
        if (in->need_base)
            return 0;
        if (follow_backlog(in) == 0 && in->ngens <= 1 &&
            (last == NULL || last->files.nconfirmed == last->files.nfiles))
            return 0;
        if ((follow_backlog(in) == 0 || in->verify_tail) &&
            context_sleep(in->col, in->ic->poll_interval_ms, e) != 0)
            return -1;
    }
}

/* --once and --barrier-now. */
static int instance_run_once(struct instance *in, struct err *e)
{
    int rv = -1;

    if (instance_catch_up(in, e) != 0)
        goto out;
    cluster_view_step(in);
    if (in->col->action == COLLECT_BARRIER_NOW) {
        int fork_fd, ran;

        /* from here the barrier gives up after barrier_timeout */
        in->barrier_deadline_ms = time_monotonic_ms() + in->ic->barrier_timeout_s * 1000;
        if (forklock_wait(in, NULL, &fork_fd, e) != 0)
            goto out;
        ran = barrier_run(in, "requested", e);
        forklock_release(in->col, fork_fd);
        in->barrier_deadline_ms = 0;
        if (ran != 0 && e->code == ERR_BUSY)
            err_prefix(e, "barrier held back");
        if (ran != 0)
            goto out;
        if (instance_catch_up(in, e) != 0)
            goto out;
        cluster_view_step(in);
    }
    if (in->need_base) {
        err_set(
            e, ERR_CORRUPT,
            "continuity with the archive is lost (see the log); the next generation needs a new base. HINT: "
            "run aofroll-collector --barrier-now");
        goto out;
    }
    rv = 0;
out:
    if (in->idx != NULL && follow_heartbeat(in, e) != 0 && rv == 0)
        rv = -1;
    /* what was shipped, in the index copy too: a restore elsewhere reads it */
    if (rv == 0 && in->col->cfg->index_upload_interval_s > 0 && context_upload_index(in, e) != 0)
        rv = -1;
    return rv;
}

void *instance_thread(void *arg)
{
    struct instance *in = arg;
    struct err e;
    int rv;

    err_clear(&e);
    throttle_init(&in->throttle, in->ic->max_rate, in->ic->chunk_pause_ms);
    if (priority_apply(in, &e) != 0) /* priority.c: yield the CPU and the disk to Redis */
        log_msg(in->col->log, LOG_WARN, in->name, "%s", e.msg);
    if (in->ic->mode == MODE_RDB) {
        rv = snapshot_main(in, &e); /* snapshot.c: timed BGSAVE snapshots, no AOF to follow */
    } else {
        rv = instance_start(in, &e);
        if (rv == 0)
            rv = in->col->action == COLLECT_RUN ? instance_follow(in, &e) : instance_run_once(in, &e);
    }
    if (rv != 0 && e.code == ERR_STOPPED) {
        rv = 0;
    } else if (rv != 0) {
        log_msg(in->col->log, LOG_ERROR, in->name, "%s", e.msg);
        in->exit_status = 1;
    }
    if (in->idx != NULL && in->col->action == COLLECT_RUN && in->ic->mode == MODE_AOF &&
        follow_heartbeat(in, &e) != 0)
        log_msg(in->col->log, LOG_WARN, in->name, "%s", e.msg);
    if (in->ngens > 0) {
        in->done_gen = in->gens[in->ngens - 1]->row;
        in->done_shipped = in->gens[in->ngens - 1]->shipped;
    }
    while (in->ngens > 0) /* the rest is freed by main (context_free) */
        generation_drop(in, in->ngens - 1);
    cluster_view_end(in);
    atomic_fetch_sub(&in->col->running, 1);
    if (in->col->wake_fd >= 0 && write(in->col->wake_fd, "x", 1) < 0) {
        /* main also polls with a timeout */
    }
    return NULL;
}

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
 * wait on the stop pipe, so a stop request ends them at once. */
#include "collector.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "indexcopy.h"
#include "metrics.h"
#include "text.h"
#include "timeutil.h"
#include "xalloc.h"

#define SHIP_BACKOFF_MIN_MS 1000
#define SHIP_BACKOFF_MAX_MS 30000

/* ------------------------------------------------------------------------
 * Stop requests
 * ---------------------------------------------------------------------- */

int collector_stopping(const struct collector *c)
{
    struct pollfd p = {c->stop_fd, POLLIN, 0};

    return c->stop_fd >= 0 && poll(&p, 1, 0) > 0;
}

int collector_sleep(const struct collector *c, int64_t ms, struct err *e)
{
    int64_t until = time_monotonic_ms() + ms;

    for (;;) {
        struct pollfd p = {c->stop_fd, POLLIN, 0};
        int64_t left = until - time_monotonic_ms();
        int n;

        if (left <= 0)
            return 0;
        n = poll(&p, c->stop_fd >= 0 ? 1 : 0, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return err_set(e, ERR_STOPPED, "stop requested");
        if (n < 0 && errno != EINTR)
            return err_sys(e, errno, "poll");
    }
}

/* ------------------------------------------------------------------------
 * Set-up and tear-down
 * ---------------------------------------------------------------------- */

void instance_init(struct instance *in, struct collector *col, const struct instance_config *ic)
{
    memset(in, 0, sizeof(*in));
    in->col = col;
    in->ic = ic;
    in->name = ic->name;
    in->lock_fd = -1;
    redisconn_init(&in->rc, &ic->redis, ic->redis_url);
    throttle_init(&in->throttle, ic->max_rate, ic->chunk_pause_ms);
    in->backoff_ms = SHIP_BACKOFF_MIN_MS;
    in->rotate_reason = "rewrite";
    in->open_reason = "start";
    /* test hook: die between a store and its index row, like a crash would */
    if (getenv("AOFROLL_TEST_KILL_AFTER_PUTS") != NULL)
        in->kill_after_puts = strtol(getenv("AOFROLL_TEST_KILL_AFTER_PUTS"), NULL, 10);
}

void instance_free(struct instance *in)
{
    while (in->ngens > 0)
        instance_drop_generation(in, in->ngens - 1);
    free(in->gens);
    in->gens = NULL;
    if (in->idx != NULL)
        index_close(in->idx);
    if (in->st != NULL)
        storage_close(in->st);
    in->idx = NULL;
    in->st = NULL;
    redisconn_free(&in->rc);
    free(in->aof_dir);
    free(in->manifest_path);
    free(in->stale_base);
    in->aof_dir = in->manifest_path = in->stale_base = NULL;
    buf_free(&in->raw);
    buf_free(&in->gz);
    cluster_view_end(in);
}

/* ------------------------------------------------------------------------
 * Health, errors and events
 * ---------------------------------------------------------------------- */

/* The kind of an error: its text without quoted names and without digits.
 * Each retry of an outage names another object (a chunk grows, the index
 * copy alternates with chunks) and curl puts times in its messages; none
 * of that makes it another failure worth another log line. */
static void health_kind(const char *msg, char *out, size_t n)
{
    size_t len = 0;
    int quoted = 0;

    for (; *msg != '\0' && len + 1 < n; msg++) {
        if (*msg == '"')
            quoted = !quoted;
        else if (!quoted && (*msg < '0' || *msg > '9'))
            out[len++] = *msg;
    }
    out[len] = '\0';
}

/* Remember "what: msg" as the dependency's latest failure. */
static void health_note(struct health *h, const char *what, const char *msg)
{
    struct buf text = BUF_INIT;

    buf_printf(&text, "%s: %s", what, msg);
    text_copy(h->msg, sizeof(h->msg), text.data);
    buf_free(&text);
}

void instance_fail(struct instance *in, struct health *h, const char *what, const struct err *e)
{
    char kind[sizeof(h->last)];

    text_copy(in->last_error, sizeof(in->last_error), e->msg);
    in->last_error_time = time_now();
    health_note(h, what, e->msg);
    if (h == &in->h_redis && in->redis_down_since == 0)
        in->redis_down_since = in->last_error_time;
    health_kind(e->msg, kind, sizeof(kind));
    if (h->failing && strcmp(h->last, kind) == 0)
        return;
    h->failing = 1;
    text_copy(h->last, sizeof(h->last), kind);
    log_msg(in->col->log, LOG_ERROR, in->name, "%s: %s", what, e->msg);
}

void instance_recover(struct instance *in, struct health *h, const char *what)
{
    if (h == &in->h_redis)
        in->redis_down_since = 0;
    if (!h->failing)
        return;
    h->failing = 0;
    h->last[0] = '\0';
    h->msg[0] = '\0';
    log_msg(in->col->log, LOG_INFO, in->name, "%s: working again", what);
}

void instance_fill_health(const struct instance *in, struct status_row *s)
{
    const struct health *const polled[] = {&in->h_aof, &in->h_storage, &in->h_index};
    size_t i;

    s->poll_error[0] = '\0';
    for (i = 0; i < sizeof(polled) / sizeof(polled[0]); i++) {
        if (polled[i]->failing) {
            text_copy(s->poll_error, sizeof(s->poll_error), polled[i]->msg);
            break;
        }
    }
    s->redis_down_since = in->redis_down_since;
}

int instance_event(struct instance *in, const char *kind, const char *detail)
{
    struct err e;

    if (index_event_add(in->idx, in->instance_id, time_now(), kind, detail, &e) != 0) {
        instance_fail(in, &in->h_index, "index", &e);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Where the AOF is
 * ---------------------------------------------------------------------- */

/* CONFIG GET: learn (or re-learn after a reconnect) the AOF's location. */
static int instance_locate_aof(struct instance *in, struct err *e)
{
    struct redis_aof_config ac;
    char *dir, *manifest;

    if (redisconn_aof_config(&in->rc, &ac, e) != 0)
        return -1;
    if (ac.dir[0] == '/')
        dir = xasprintf("%s/%s", ac.dir, ac.appenddirname);
    else
        dir = xasprintf("%s", ac.appenddirname); /* relative: only when we share redis's cwd */
    manifest = xasprintf("%s/%s.manifest", dir, ac.appendfilename);
    if (!ac.appendonly)
        log_msg(in->col->log, LOG_WARN, in->name,
                "appendonly is off on redis \"%s\": nothing to follow until it is turned on", in->rc.where);
    in->appendonly = ac.appendonly;
    in->ts_enabled = ac.timestamps;
    if (in->manifest_path == NULL || strcmp(in->manifest_path, manifest) != 0) {
        if (in->manifest_path != NULL) {
            log_msg(in->col->log, LOG_INFO, in->name, "the AOF moved from \"%s\" to \"%s\"",
                    in->manifest_path, manifest);
            in->aof_moved = 1;
        }
        free(in->aof_dir);
        free(in->manifest_path);
        in->aof_dir = dir;
        in->manifest_path = manifest;
        in->manifest_dirty = 1;
        dir = manifest = NULL;
    }
    free(dir);
    free(manifest);
    redis_aof_config_free(&ac);
    return 0;
}

/* Make sure Redis is connected, logging state changes. On a new
 * connection, CONFIG GET again (Redis may have been restarted elsewhere). */
int instance_redis(struct instance *in, struct err *e)
{
    int was_up = redisconn_connected(&in->rc);

    if (redisconn_ensure(&in->rc, e) != 0) {
        if (e->code != ERR_BUSY)
            instance_fail(in, &in->h_redis, "redis", e);
        return -1;
    }
    if (!was_up && instance_locate_aof(in, e) != 0) {
        instance_fail(in, &in->h_redis, "redis", e);
        redisconn_close(&in->rc);
        return -1;
    }
    instance_recover(in, &in->h_redis, "redis");
    return 0;
}

/* ------------------------------------------------------------------------
 * Metrics and the index copy
 * ---------------------------------------------------------------------- */

int instance_write_metrics(struct instance *in, struct err *e)
{
    const struct config *cfg = in->col->cfg;
    size_t max = (size_t)cfg->ninstances;
    struct status_row *rows = xcalloc(max, sizeof(*rows));
    struct verdict *verdicts = xcalloc(max, sizeof(*verdicts));
    struct metrics_instance *v = xcalloc(max, sizeof(*v));
    int64_t now = time_now();
    size_t n = 0;
    int rv = -1;

    for (int i = 0; i < cfg->ninstances; i++) {
        const struct instance_config *ic = &cfg->instances[i];
        struct verdict_input vi;
        int64_t id;
        int any;

        if (ic->metrics_file == NULL || strcmp(ic->metrics_file, in->ic->metrics_file) != 0)
            continue;
        if (index_instance_id(in->idx, ic->name, 0, &id, e) != 0 ||
            index_status_get(in->idx, id, &rows[n], e) != 0) {
            if (e->code != ERR_NOTFOUND)
                goto out;
            err_clear(e);
            continue;
        }
        any = index_chunk_any(in->idx, id, e);
        if (any < 0)
            goto out;
        memset(&vi, 0, sizeof(vi));
        vi.row = &rows[n];
        vi.now = now;
        vi.poll_interval_ms = ic->poll_interval_ms;
        vi.lag_threshold = ic->lag_threshold;
        vi.barrier_timeout_s = ic->barrier_timeout_s;
        vi.archived = any;
        verdict_judge(&vi, &verdicts[n]);
        v[n].name = ic->name;
        v[n].row = &rows[n];
        v[n].verdict = &verdicts[n];
        n++;
    }
    pthread_mutex_lock(&in->col->metrics_lock);
    rv = metrics_write(in->ic->metrics_file, v, n, e);
    pthread_mutex_unlock(&in->col->metrics_lock);
out:
    free(rows);
    free(verdicts);
    free(v);
    return rv;
}

/* Store a consistent copy of the index as "<instance>/index.db" (sealed
 * when the storage seals: indexcopy.c). */
int instance_upload_index(struct instance *in, struct err *e)
{
    char *tmp = xasprintf("%s.%s.%ld.upload", in->col->cfg->index_path, in->name, (long)getpid());
    int rv = indexcopy_upload(in->idx, in->st, in->name, tmp, e);

    free(tmp);
    return rv;
}

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
        if (instance_redis(in, e) == 0)
            return 0;
        if (in->col->action != COLLECT_RUN)
            return e->code == ERR_BUSY ? err_set(e, ERR_REDIS, "redis \"%s\" is down", in->rc.where) : -1;
        /* instance_redis() logged the failure once; retry with its backoff */
        if (instance_heartbeat(in, e) != 0)
            instance_fail(in, &in->h_index, "index", e);
        if (collector_sleep(in->col, in->ic->poll_interval_ms, e) != 0)
            return -1;
    }
}

/* Poll, resuming first when that has not happened yet. */
static int instance_step_poll(struct instance *in, struct err *e)
{
    if (!in->resumed) {
        if (in->manifest_path == NULL && instance_redis(in, e) != 0)
            return -1;
        if (instance_resume(in, e) != 0) {
            instance_fail(in, &in->h_aof, "start", e);
            return -1;
        }
        in->resumed = 1;
        instance_recover(in, &in->h_aof, "start");
    }
    return instance_poll(in, e);
}

/* Ship with backoff on failure; returns -1 only for a stop request. */
static int instance_step_ship(struct instance *in, int64_t budget_ms, int *more, struct err *e)
{
    uint64_t pending;

    *more = 0;
    if (time_monotonic_ms() < in->backoff_until_ms)
        return 0;
    pending = instance_backlog(in);
    if (instance_ship_pending(in, budget_ms, more, e) != 0) {
        if (e->code == ERR_STOPPED)
            return -1;
        instance_fail(in, &in->h_storage, "shipping", e);
        in->backoff_until_ms = time_monotonic_ms() + in->backoff_ms;
        in->backoff_ms = in->backoff_ms * 2 > SHIP_BACKOFF_MAX_MS ? SHIP_BACKOFF_MAX_MS : in->backoff_ms * 2;
        err_clear(e);
        return 0;
    }
    in->backoff_ms = SHIP_BACKOFF_MIN_MS;
    if (pending > 0) /* with nothing to ship, the storage was not tried */
        instance_recover(in, &in->h_storage, "shipping");
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
    instance_event(in, "error", detail);
    in->barrier_requested = 0;
}

/* No barrier is pending. One that was held back and given up still counts
 * as held back while what held it back lasts: the next one would be too. */
static void instance_barrier_idle(struct instance *in, int64_t now)
{
    uint64_t backlog = instance_backlog(in);
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
    /* the rewrite forks: wait for the turn of this instance (snapshot_fork.c) */
    rv = fork_lock_try(in->col, &fork_fd, e);
    if (rv < 0) {
        instance_fail(in, &in->h_aof, "barrier", e);
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
        fork_lock_release(in->col, fork_fd);
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

        if (collector_stopping(in->col))
            break;
        if (instance_step_poll(in, e) != 0 && e->code == ERR_STOPPED)
            break;
        err_clear(e);
        if (instance_step_barrier(in, e) != 0)
            break;
        cluster_view_step(in);
        if (instance_step_ship(in, in->ic->poll_interval_ms, &more, e) != 0)
            break;
        if (instance_heartbeat(in, e) != 0) {
            instance_fail(in, &in->h_index, "index", e);
            err_clear(e);
        }
        if (in->col->cfg->index_upload_interval_s > 0 && time_now() >= in->next_upload) {
            in->next_upload = time_now() + in->col->cfg->index_upload_interval_s;
            if (instance_upload_index(in, e) != 0) {
                instance_fail(in, &in->h_storage, "index copy", e);
                err_clear(e);
            } else {
                instance_recover(in, &in->h_storage, "index copy");
            }
        }
        if (!more && collector_sleep(in->col, in->ic->poll_interval_ms - (time_monotonic_ms() - t0), e) != 0)
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
        if (instance_ship_pending(in, -1, &more, e) != 0)
            return -1;
        last = instance_last(in);
        if (in->need_base)
            return 0;
        if (instance_backlog(in) == 0 && in->ngens <= 1 &&
            (last == NULL || last->files.nconfirmed == last->files.nfiles))
            return 0;
        if ((instance_backlog(in) == 0 || in->verify_tail) &&
            collector_sleep(in->col, in->ic->poll_interval_ms, e) != 0)
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
        if (fork_lock_wait(in, NULL, &fork_fd, e) != 0)
            goto out;
        ran = barrier_run(in, "requested", e);
        fork_lock_release(in->col, fork_fd);
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
    if (in->idx != NULL && instance_heartbeat(in, e) != 0 && rv == 0)
        rv = -1;
    return rv;
}

void *instance_thread(void *arg)
{
    struct instance *in = arg;
    struct err e;
    int rv;

    err_clear(&e);
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
        instance_heartbeat(in, &e) != 0)
        log_msg(in->col->log, LOG_WARN, in->name, "%s", e.msg);
    atomic_fetch_sub(&in->col->running, 1);
    if (in->col->wake_fd >= 0 && write(in->col->wake_fd, "x", 1) < 0) {
        /* main also polls with a timeout */
    }
    return NULL;
}

/* barrier.c - the barrier: a rewrite the collector drives itself.
 *
 * Once a day at `barrier` local time (and on --barrier-now) the collector
 * turns the generation over at a moment of its choosing, so that no
 * rewrite ever removes bytes it has not shipped:
 *
 *   1. ship what the last poll found (a snapshot of the size: Redis goes on
 *      writing, and the rewrite need not wait for that, because the old
 *      incr file stays open here and its tail is shipped afterwards), and
 *      check that the storage answers (it is down: the barrier fails and
 *      is retried). The barrier is held back (postponed, tried again at
 *      the next poll) only while the storage is failing with bytes to
 *      ship, or while the backlog is more than max_rate ships in
 *      barrier_max_lag: so that what a crash here could lose stays
 *      bounded, and the drain takes a bounded time. A barrier held back
 *      longer than barrier_timeout is an error (logged once, in the
 *      status and the metrics); a requested one is then given up;
 *   2. BGREWRITEAOF (one already running is awaited and taken as ours);
 *   3. poll INFO persistence until aof_rewrite_in_progress:0 and
 *      aof_rewrite_scheduled:0;
 *   4. check aof_last_bgrewrite_status:ok, else log, record an event and
 *      try again BARRIER_RETRY_S later;
 *   5. read the manifest: its new base opens generation N+1, and N is
 *      marked closing. The follow loop then ships N's last bytes from the
 *      files it holds open, N+1's base in throttled chunks, and resumes.
 *
 * The AOF being off holds a scheduled barrier back (a rewrite then would
 * give a base with no stream after it) and fails a requested one.
 *
 * The schedule runs the barrier once per local calendar day. "Today's
 * instant" comes from mktime() with tm_isdst = -1, so a barrier time that a
 * DST change skips moves forward, and one that happens twice runs once
 * because the local date of the last run is remembered. */

#include "barrier.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "objname.h"
#include "text.h"
#include "timeutil.h"

#include "context.h"
#include "follow.h"
#include "generation.h"
#include "redisconn.h"

long barrier_local_day(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    localtime_r(&tt, &tm);
    return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

int64_t barrier_instant(int64_t t, int minute)
{
    time_t tt = (time_t)t;
    struct tm tm;

    localtime_r(&tt, &tm);
    tm.tm_hour = minute / 60;
    tm.tm_min = minute % 60;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

void barrier_schedule_init(struct barrier_schedule *s, int minute, int64_t now, int64_t last_barrier)
{
    int64_t today = minute >= 0 ? barrier_instant(now, minute) : 0;

    memset(s, 0, sizeof(*s));
    s->minute = minute;
    if (minute < 0)
        return;
    if (last_barrier == 0)
        s->last_day = now >= today ? barrier_local_day(now) : 0; /* first start: not today any more */
    else
        s->last_day = last_barrier >= today ? barrier_local_day(now) : 0; /* a missed barrier runs now */
}

int barrier_due(const struct barrier_schedule *s, int64_t now)
{
    if (s->minute < 0 || now < s->retry_after)
        return 0;
    return now >= barrier_instant(now, s->minute) && barrier_local_day(now) != s->last_day;
}

void barrier_done(struct barrier_schedule *s, int64_t now)
{
    s->last_day = barrier_local_day(now);
    s->retry_after = 0;
    s->postponed_logged = 0;
}

int barrier_postpone_reason(uint64_t backlog, int64_t max_rate, int64_t max_lag_s, int storage_failing,
                            char *why, size_t n)
{
    if (storage_failing && backlog > 0) {
        snprintf(why, n, "the storage is failing, with %" PRIu64 " B to ship", backlog);
        return 1;
    }
    if (max_rate > 0 && max_lag_s > 0 && (double)backlog > (double)max_rate * (double)max_lag_s) {
        snprintf(why, n,
                 "shipping is %" PRIu64 " B behind, more than max_rate ships in barrier_max_lag (%" PRId64
                 " s)",
                 backlog, max_lag_s);
        return 1;
    }
    return 0;
}

/* Past the deadline of the barrier in hand? */
static int barrier_expired(const struct instance *in)
{
    return in->barrier_deadline_ms > 0 && time_monotonic_ms() >= in->barrier_deadline_ms;
}

/* Ship what the last poll found, no more: Redis goes on writing meanwhile,
 * into the file the rewrite will close. The heartbeat goes on. */
static int barrier_drain(struct instance *in, struct err *e)
{
    int more = 1;

    if (follow_poll(in, e) != 0)
        return -1;
    while (more) {
        if (follow_ship_pending(in, in->ic->poll_interval_ms, &more, e) != 0)
            return -1;
        if (follow_heartbeat(in, e) != 0) {
            context_fail(in, &in->h_index, "index", e);
            err_clear(e);
        }
        if (more && barrier_expired(in))
            return err_set(e, ERR_BUSY, "gave up: shipping the backlog before the rewrite took too long");
    }
    return 0;
}

/* The storage answers (a HEAD of the index copy; "not found" is an
 * answer). The new base is shipped right after the rewrite and Redis then
 * drops the old files: a storage that is down holds the barrier back. */
static int barrier_check_storage(struct instance *in, struct err *e)
{
    char key[OBJNAME_MAX];
    uint64_t size;

    if (objname_index(in->name, key, sizeof(key)) != 0)
        return err_set(e, ERR_CONFIG, "instance name \"%s\" cannot name an object", in->name);
    if (storage_head(in->st, key, &size, e) == 0)
        return 0;
    if (e->code != ERR_NOTFOUND) {
        err_prefix(e, "storage \"%s\" is failing", in->st->url);
        return -1;
    }
    err_clear(e);
    return 0;
}

/* BGREWRITEAOF and wait for its end; the heartbeat goes on meanwhile. */
static int barrier_rewrite(struct instance *in, struct redis_persistence *p, struct err *e)
{
    int64_t next_beat = time_monotonic_ms() + in->ic->poll_interval_ms;
    int already;

    if (redisconn_bgrewriteaof(&in->rc, &already, e) != 0)
        return -1;
    log_msg(in->col->log, LOG_INFO, in->name,
            already ? "a rewrite is already running: waiting for it as the barrier's"
                    : "BGREWRITEAOF started");
    for (;;) {
        if (redisconn_persistence(&in->rc, p, e) != 0)
            return -1;
        if (!p->rewrite_in_progress && !p->rewrite_scheduled)
            return 0;
        if (barrier_expired(in))
            return err_set(e, ERR_BUSY, "gave up: the rewrite on redis \"%s\" is still in progress (%s)",
                           in->rc.where,
                           p->rewrite_in_progress ? "aof_rewrite_in_progress:1" : "aof_rewrite_scheduled:1");
        if (time_monotonic_ms() >= next_beat) {
            next_beat = time_monotonic_ms() + in->ic->poll_interval_ms;
            if (follow_heartbeat(in, e) != 0) {
                context_fail(in, &in->h_index, "index", e);
                err_clear(e);
            }
        }
        if (context_sleep(in->col, BARRIER_INFO_POLL_MS, e) != 0)
            return -1;
    }
}

void barrier_overdue(struct instance *in, int64_t now)
{
    struct barrier_schedule *s = &in->sched;
    char detail[DETAIL_MAX];

    if (s->overdue || s->postponed_since == 0)
        return;
    s->overdue = 1;
    snprintf(detail, sizeof(detail),
             "barrier held back for %" PRId64 " s, longer than barrier_timeout (%" PRId64 " s): %s",
             now - s->postponed_since, in->ic->barrier_timeout_s, s->postponed_why);
    log_msg(in->col->log, LOG_ERROR, in->name, "%s", detail);
    text_copy(in->last_error, sizeof(in->last_error), detail);
    in->last_error_time = now;
}

int barrier_note_attempt(struct instance *in, int rv, const struct err *e, int64_t now)
{
    struct barrier_schedule *s = &in->sched;

    if (rv == 0 || e->code != ERR_BUSY) {
        s->postponed_since = 0;
        s->postponed_why[0] = '\0';
        s->postponed_logged = 0;
        s->overdue = 0;
        return 0;
    }
    if (s->postponed_since == 0)
        s->postponed_since = now;
    text_copy(s->postponed_why, sizeof(s->postponed_why), e->msg);
    if (!s->postponed_logged)
        log_msg(in->col->log, LOG_INFO, in->name, "barrier postponed: %s", e->msg);
    s->postponed_logged = 1;
    if (now - s->postponed_since >= in->ic->barrier_timeout_s)
        barrier_overdue(in, now);
    return s->overdue;
}

int barrier_run(struct instance *in, const char *why, struct err *e)
{
    struct redis_persistence p;
    int64_t started = time_now();
    int64_t before = in->last_generation;
    uint64_t backlog = follow_backlog(in);
    char detail[1536], reason[256];
    int rv = -1;

    if (in->aof_off) {
        if (strcmp(why, "requested") != 0)
            return err_set(e, ERR_BUSY, "the AOF is off on redis \"%s\" (appendonly no)", in->rc.where);
        err_set(e, ERR_REDIS,
                "the AOF is off on redis \"%s\" (appendonly no): no rewrite until it is on again",
                in->rc.where);
        goto out;
    }
    if (!in->need_base && barrier_postpone_reason(backlog, in->ic->max_rate, in->ic->barrier_max_lag_s,
                                                  in->h_storage.failing, reason, sizeof(reason)))
        return err_set(e, ERR_BUSY, "%s", reason);
    log_msg(in->col->log, LOG_INFO, in->name, "barrier (%s): shipping generation %" PRId64 " to its end", why,
            in->ngens > 0 ? in->gens[in->ngens - 1]->row.generation : in->last_generation);
    in->rotate_reason = "barrier";
    in->open_reason = "barrier";
    if (barrier_drain(in, e) != 0 || barrier_check_storage(in, e) != 0)
        goto out;
    if (context_redis(in, e) != 0)
        goto out;
    if (barrier_rewrite(in, &p, e) != 0)
        goto out;
    if (!p.last_rewrite_ok) {
        err_set(e, ERR_REDIS, "BGREWRITEAOF failed on redis \"%s\" (aof_last_bgrewrite_status:err)",
                in->rc.where);
        goto out;
    }
    if (follow_read_manifest(in, e) != 0)
        goto out;
    if (in->last_generation == before) {
        err_set(e, ERR_REDIS, "the rewrite ended but manifest \"%s\" names no new base", in->manifest_path);
        goto out;
    }
    in->last_barrier = time_now();
    snprintf(detail, sizeof(detail), "barrier (%s): generation %" PRId64 " opened after %" PRId64 " s", why,
             in->last_generation, in->last_barrier - started);
    log_msg(in->col->log, LOG_INFO, in->name, "%s", detail);
    context_event(in, "barrier", detail);
    rv = 0;
out:
    in->rotate_reason = "rewrite";
    if (rv == 0 || in->ngens > 0)
        in->open_reason = "start";
    if (rv != 0 && e->code == ERR_BUSY)
        e->code = ERR_IO; /* gave up at the deadline: a failure, not a postponement */
    if (rv != 0 && e->code != ERR_STOPPED) {
        snprintf(detail, sizeof(detail), "barrier (%s) failed: %s", why, e->msg);
        log_msg(in->col->log, LOG_ERROR, in->name, "%s; trying again in %d s", detail, BARRIER_RETRY_S);
        context_event(in, "error", detail);
    }
    return rv;
}

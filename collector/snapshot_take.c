/* snapshot_take.c - one snapshot: BGSAVE, wait, open, ship, verify, record.
 *
 *   1. CONFIG GET dir dbfilename: where the dump is (it may have moved);
 *   2. take the box's fork lock (forklock.c): no other instance of
 *      this collector forks until this save has completed;
 *   3. LASTSAVE and INFO persistence; when a BGSAVE is already running
 *      (Redis's own `save` rules, an operator) it is awaited and its file
 *      used; otherwise BGSAVE SCHEDULE. Never SAVE;
 *   4. poll INFO persistence until the save has started (it is running, or
 *      rdb_saves / LASTSAVE moved) and then ended (rdb_bgsave_in_progress:0),
 *      and check rdb_last_bgsave_status:ok; LASTSAVE again is the base time;
 *   5. open dir/dbfilename at once, and confirm that the file opened is the
 *      one that save wrote: no save running, LASTSAVE unchanged, and the
 *      path still names the inode opened. Otherwise another save replaced
 *      it meanwhile: wait for that one and open again. Redis replaces the
 *      dump by rename, so the open file never changes under us;
 *   6. release the fork lock, record generation N+1 (mode rdb, base = the
 *      dump, no incr file, base incomplete), and ship the file in throttled
 *      chunks (ship.c) as base chunks; a chunk that fails to store is
 *      retried with backoff a few times;
 *   7. the bytes shipped are the bytes checked: their CRC32 (the whole
 *      file's, recorded in the index) and the RDB's own structure and CRC-64
 *      (rdbcheck.h) are computed from each chunk's raw bytes as it goes;
 *   8. mark the base complete; only then does a restore use it, and only
 *      then is the previous snapshot ended ("snapshot").
 *
 * The base time is LASTSAVE after the save: the moment the save completed.
 * The data is as it was when Redis forked, a little earlier (the save's
 * duration, rdb_last_bgsave_time_sec), so a restore to any second from the
 * base time on gets data no newer than that second. A snapshot that fails
 * after its generation was recorded ends that generation at once
 * ("failed", "corrupt", or "interrupted" by a stop request, after the
 * chunk in hand); one cut short by a crash is ended by the next start
 * ("interrupted", snapshot.c).
 *
 * The thread (snapshot.c) calls this file; this file calls back into
 * neither it nor its callers: the heartbeat it beats while waiting and the
 * schedule it updates are files of their own below it (snapshot_beat.c,
 * snapshot_schedule.c), and the fork lock takes the heartbeat as a
 * callback. */
#include "snapshot_take.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "rdbcheck.h"
#include "timeutil.h"
#include "xalloc.h"

#include "context.h"
#include "forklock.h"
#include "generation.h"
#include "lineage.h"
#include "redisconn.h"
#include "ship.h"
#include "throttle.h"
#include "snapshot_beat.h"
#include "snapshot_schedule.h"

/* The dump file being shipped. */
struct dump {
    char *path;
    struct aof_file f; /* ship_chunk() reads through it: fd, name, size */
    int64_t lastsave;  /* the base time */
    int reused;        /* the save was one already running, not ours */
};

static void dump_close(struct dump *d)
{
    if (d->f.fd >= 0)
        close(d->f.fd);
    d->f.fd = -1;
    free(d->f.name);
    d->f.name = NULL;
}

/* ------------------------------------------------------------------------
 * Redis: connect, BGSAVE, wait
 * ---------------------------------------------------------------------- */

/* Redis connected, health changes logged. Snapshots are far apart: a
 * connection that Redis closed meanwhile (a restart, its idle `timeout`)
 * is noticed without sending anything and opened again. */
static int snapshot_connect(struct instance *in, struct err *e)
{
    if (redisconn_lost(&in->rc))
        redisconn_close(&in->rc);
    if (redisconn_ensure(&in->rc, e) != 0) {
        if (e->code == ERR_BUSY)
            err_set(e, ERR_REDIS, "redis \"%s\" is down", in->rc.where);
        context_fail(in, &in->h_redis, "redis", e);
        return -1;
    }
    context_recover(in, &in->h_redis, "redis");
    return 0;
}

/* One INFO persistence, a sleep and the heartbeat: the body of each wait. */
static int snapshot_poll(struct instance *in, struct rdb_persistence *p, struct err *e)
{
    snapshot_beat_due(in);
    if (context_sleep(in->col, SNAPSHOT_POLL_MS, e) != 0)
        return -1;
    return redisconn_rdb_persistence(&in->rc, p, e);
}

/* Wait until no save runs; then it must have succeeded. */
static int snapshot_wait_idle(struct instance *in, struct rdb_persistence *p, struct err *e)
{
    while (p->bgsave_in_progress)
        if (snapshot_poll(in, p, e) != 0)
            return -1;
    if (!p->last_bgsave_ok)
        return err_set(
            e, ERR_REDIS,
            "BGSAVE failed on redis \"%s\" (rdb_last_bgsave_status:err). HINT: the redis log says why "
            "(disk full, permissions of its dir)",
            in->rc.where);
    return 0;
}

/* BGSAVE, or the one running, to its end; d->lastsave = LASTSAVE after it. */
static int snapshot_save(struct instance *in, struct dump *d, struct err *e)
{
    struct rdb_persistence p;
    enum bgsave_reply reply = BGSAVE_RUNNING;
    int64_t l0, idle_ms = 0;
    long long s0;
    int started;

    if (redisconn_lastsave(&in->rc, &l0, e) != 0 || redisconn_rdb_persistence(&in->rc, &p, e) != 0)
        return -1;
    if (p.loading)
        return err_set(e, ERR_BUSY, "redis \"%s\" is loading its dataset", in->rc.where);
    s0 = p.saves;
    started = p.bgsave_in_progress;
    if (!started && redisconn_bgsave(&in->rc, &reply, e) != 0)
        return -1;
    d->reused = started || reply == BGSAVE_RUNNING;
    started = started || reply != BGSAVE_SCHEDULED;
    log_msg(in->col->log, LOG_INFO, in->name, "%s",
            d->reused                   ? "a BGSAVE is already running: waiting for it and shipping its file"
            : reply == BGSAVE_SCHEDULED ? "BGSAVE scheduled: another child of redis runs; waiting for it"
                                        : "BGSAVE started");
    /* until the save has started and ended */
    for (;;) {
        if (snapshot_poll(in, &p, e) != 0)
            return -1;
        if (p.bgsave_in_progress) {
            started = 1;
            continue;
        }
        if (started || (s0 >= 0 && p.saves > s0) || p.last_save_time != l0)
            break;
        if (p.aof_rewrite_in_progress || p.module_fork_in_progress) {
            idle_ms = 0;
            continue;
        }
        idle_ms += SNAPSHOT_POLL_MS;
        if (idle_ms >= SNAPSHOT_START_GRACE_MS)
            return err_set(e, ERR_REDIS, "BGSAVE was scheduled on redis \"%s\" but did not start within %d s",
                           in->rc.where, SNAPSHOT_START_GRACE_MS / 1000);
    }
    if (snapshot_wait_idle(in, &p, e) != 0)
        return -1;
    return redisconn_lastsave(&in->rc, &d->lastsave, e);
}

/* Open the dump and confirm it is the file of the save at d->lastsave. */
static int snapshot_open(struct instance *in, const struct rdb_location *loc, struct dump *d, struct err *e)
{
    struct rdb_persistence p;
    struct stat sb, now;

    d->path = xasprintf("%s/%s", loc->dir, loc->dbfilename);
    for (int tries = 1;; tries++) {
        d->f.fd = open(d->path, O_RDONLY | O_CLOEXEC);
        if (d->f.fd < 0)
            return err_sys(
                e, errno,
                "redis \"%s\" saved its dataset, but the collector cannot open \"%s\". HINT: run the "
                "collector on the redis host, as a user that can read it",
                in->rc.where, d->path);
        if (fstat(d->f.fd, &sb) != 0)
            return err_sys(e, errno, "cannot stat rdb file \"%s\"", d->path);
        if (redisconn_rdb_persistence(&in->rc, &p, e) != 0)
            return -1;
        if (!p.bgsave_in_progress && p.last_save_time == d->lastsave && stat(d->path, &now) == 0 &&
            now.st_dev == sb.st_dev && now.st_ino == sb.st_ino)
            break;
        close(d->f.fd);
        d->f.fd = -1;
        if (tries == SNAPSHOT_OPEN_TRIES)
            return err_set(e, ERR_BUSY,
                           "\"%s\" was replaced by another save each time it was opened (%d times)", d->path,
                           tries);
        log_msg(in->col->log, LOG_INFO, in->name,
                "\"%s\" was replaced by another save while opening it: taking that one", d->path);
        if (snapshot_wait_idle(in, &p, e) != 0)
            return -1;
        d->lastsave = p.last_save_time;
    }
    d->f.name = xstrdup(loc->dbfilename);
    d->f.dev = sb.st_dev;
    d->f.ino = sb.st_ino;
    d->f.size = (uint64_t)sb.st_size;
    return 0;
}

/* ------------------------------------------------------------------------
 * Shipping
 * ---------------------------------------------------------------------- */

/* Record generation N+1 for the dump, base incomplete. */
static int snapshot_record(struct instance *in, const struct dump *d, struct gen_row *r, struct err *e)
{
    memset(r, 0, sizeof(*r));
    r->instance_id = in->instance_id;
    r->generation = in->last_generation + 1;
    r->mode = MODE_RDB;
    snprintf(r->base_file, sizeof(r->base_file), "%s", d->f.name);
    r->base_format = BASE_RDB;
    r->base_size = d->f.size;
    r->base_complete = 0;
    r->base_time = d->lastsave;
    r->incr_file[0] = '\0';
    r->started = time_now();
    if (index_generation_add(in->idx, r, e) != 0) {
        err_prefix(e, "cannot record generation %" PRId64, r->generation);
        return -1;
    }
    in->last_generation = r->generation;
    return 0;
}

/* Ship [off, off + len) of the dump, retrying a failed store with backoff. */
static int snapshot_ship_chunk(struct instance *in, const struct gen_row *r, const struct dump *d,
                               uint64_t off, uint64_t len, struct err *e)
{
    int64_t backoff_ms = 1000;
    uint32_t crc;

    for (int tries = 1;; tries++) {
        if (throttle_wait(&in->throttle, in->col, e) != 0)
            return -1;
        if (ship_chunk(in, r, NULL, CHUNK_BASE, &d->f, off, off, len, r->base_time, r->base_time, &crc, e) ==
            0) {
            throttle_account(&in->throttle, len);
            context_recover(in, &in->h_storage, "shipping");
            return 0;
        }
        if (e->code == ERR_STOPPED || e->code == ERR_CORRUPT || tries == SNAPSHOT_CHUNK_TRIES)
            return -1;
        context_fail(in, &in->h_storage, "shipping", e);
        if (context_sleep(in->col, backoff_ms, e) != 0)
            return -1;
        backoff_ms *= 2;
    }
}

/* Ship the whole dump as base chunks; r gets the CRC32 of the whole file,
 * and the RDB is checked on the bytes shipped. */
static int snapshot_ship(struct instance *in, struct gen_row *r, const struct dump *d, struct err *e)
{
    struct snapshot_state *s = in->snap;
    struct rdbcheck check;
    struct rdbcheck_result res;
    uint64_t chunk = (uint64_t)in->ic->chunk_size;
    uint32_t crc = 0;
    struct stat sb;

    rdbcheck_init(&check, r->base_size);
    for (uint64_t off = 0; off < r->base_size; off += chunk) {
        uint64_t len = r->base_size - off < chunk ? r->base_size - off : chunk;

        if (snapshot_ship_chunk(in, r, d, off, len, e) != 0)
            return -1;
        /* ship_chunk() leaves the chunk's raw bytes in in->raw */
        crc = codec_crc32(crc, in->raw.data, len);
        rdbcheck_feed(&check, in->raw.data, len);
        s->shipped = off + len;
        snapshot_beat_due(in);
    }
    if (fstat(d->f.fd, &sb) != 0)
        return err_sys(e, errno, "cannot stat rdb file \"%s\"", d->path);
    if ((uint64_t)sb.st_size != r->base_size)
        return err_set(e, ERR_CORRUPT,
                       "rdb file \"%s\" changed size while it was shipped (%" PRIu64 " to %lld bytes)",
                       d->path, r->base_size, (long long)sb.st_size);
    if (rdbcheck_finish(&check, d->path, &res, e) != 0)
        return -1;
    if (!res.checksummed)
        log_msg(in->col->log, LOG_WARN, in->name,
                "\"%s\" (rdb version %d) carries no checksum (rdbchecksum no): only its CRC32 as shipped is "
                "recorded",
                d->path, res.version);
    r->base_crc32 = crc;
    r->base_complete = 1;
    return 0;
}

/* End every open generation before `newest` ("snapshot"). */
struct open_list {
    struct gen_row *v;
    size_t n, cap;
    int64_t before;
};

static int collect_open(void *ud, const struct gen_row *g)
{
    struct open_list *l = ud;

    if (g->ended != 0 || g->generation >= l->before)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap == 0 ? 4 : l->cap * 2;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = *g;
    return 0;
}

static int snapshot_end_previous(struct instance *in, int64_t newest, struct err *e)
{
    struct open_list l = {NULL, 0, 0, newest};
    int rv = -1;

    if (index_generations(in->idx, in->instance_id, collect_open, &l, e) != 0)
        goto out;
    for (size_t i = 0; i < l.n; i++)
        if (generation_end(in, &l.v[i], "snapshot", e) != 0)
            goto out;
    rv = 0;
out:
    free(l.v);
    return rv;
}

/* ------------------------------------------------------------------------
 * The sequence
 * ---------------------------------------------------------------------- */

int snapshot_take(struct instance *in, const char *why, struct err *e)
{
    struct snapshot_state *s = in->snap;
    struct snapshot_state before = *s; /* what the heartbeat shows again if this one fails */
    struct rdb_location loc;
    struct dump d;
    struct gen_row r;
    char detail[DETAIL_MAX], t[TIME_BUFSZ];
    int64_t t0 = time_monotonic_ms();
    int fork_fd = -1, forking = 0, recorded = 0, rv = -1;

    memset(&loc, 0, sizeof(loc));
    memset(&d, 0, sizeof(d));
    d.f.fd = -1;
    log_msg(in->col->log, LOG_INFO, in->name, "snapshot (%s)", why);
    if (snapshot_connect(in, e) != 0 || redisconn_rdb_location(&in->rc, &loc, e) != 0)
        goto out;
    if (forklock_wait(in, snapshot_beat, &fork_fd, e) != 0)
        goto out;
    forking = 1;
    if (snapshot_save(in, &d, e) != 0 || snapshot_open(in, &loc, &d, e) != 0)
        goto out;
    forklock_release(in->col, fork_fd);
    forking = 0;

    if (snapshot_record(in, &d, &r, e) != 0)
        goto out;
    recorded = 1;
    s->generation = r.generation;
    snprintf(s->file, sizeof(s->file), "%s", r.base_file);
    s->size = r.base_size;
    s->shipped = 0;
    s->base_time = r.base_time;
    time_format_utc(r.base_time, t, sizeof(t));
    log_msg(in->col->log, LOG_INFO, in->name,
            "generation %" PRId64 " opened (snapshot): \"%s\" %" PRIu64 " B saved at %s", r.generation,
            d.path, r.base_size, t);
    if (snapshot_ship(in, &r, &d, e) != 0)
        goto out;
    if (index_generation_update(in->idx, &r, e) != 0)
        goto out;
    recorded = 0; /* complete: nothing to undo */
    if (snapshot_end_previous(in, r.generation, e) != 0) {
        context_fail(in, &in->h_index, "index", e); /* the next start ends them */
        err_clear(e);
    }
    snapshot_schedule_done(&s->sched, time_now(), r.base_time);
    snprintf(detail, sizeof(detail),
             "snapshot (%s): generation %" PRId64 ", \"%s\" saved at %s%s, %" PRIu64 " B, crc32 %08" PRIx32
             ", shipped in %.1f s",
             why, r.generation, d.path, t, d.reused ? " (a BGSAVE already running)" : "", r.base_size,
             r.base_crc32, (double)(time_monotonic_ms() - t0) / 1000.0);
    log_msg(in->col->log, LOG_INFO, in->name, "%s", detail);
    context_event(in, "snapshot", detail);
    rv = 0;
out:
    if (forking)
        forklock_release(in->col, fork_fd);
    dump_close(&d);
    free(d.path);
    redisconn_rdb_location_free(&loc);
    if (rv != 0 && recorded) {
        /* never restored from: end it now, and show the last good one again */
        const char *reason = e->code == ERR_STOPPED   ? "interrupted"
                             : e->code == ERR_CORRUPT ? "corrupt"
                                                      : "failed";
        struct err ee;

        if (generation_end(in, &r, reason, &ee) != 0)
            context_fail(in, &in->h_index, "index", &ee);
        before.sched = s->sched;
        *s = before;
    }
    if (rv != 0 && e->code != ERR_STOPPED) {
        snprintf(detail, sizeof(detail), "snapshot (%s) failed: %s", why, e->msg);
        log_msg(in->col->log, LOG_ERROR, in->name, "%s", detail);
        context_event(in, "error", detail);
    }
    return rv;
}

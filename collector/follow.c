/* follow.c - one step of following an AOF: manifest, sizes, shipping.
 *
 * follow_poll() is what happens every poll_interval: notice a closed
 * Redis connection (without sending anything), stat the manifest and
 * re-read it when it changed, fstat the open AOF files, end a generation
 * whose stream shrank below what was shipped (Redis truncated it), and note
 * growth in the size log. Redis is asked only when the manifest changed, a
 * rewrite's outcome is pending, or the newest stream stopped growing (and
 * every AOF_CHECK_IDLE_S while it does not grow): is the AOF still on? When
 * it is off, the generation is shipped to its end and ended ("aof-off"),
 * and the archive has a gap until the base Redis writes when it comes back.
 *
 * The manifest is applied to the queue of generations (generation.c). A
 * new incr file with the same base means a rewrite has probably started;
 * its bytes are held back until the outcome is known: the base changes
 * (success: the file begins the next generation) or INFO persistence shows
 * no rewrite in progress while the base is unchanged (failure: the same
 * generation continues into it). So no byte is shipped twice. A new base
 * opens the next generation and marks the previous one closing: it is
 * shipped to its end from its open files, then ended. A new base whose seq,
 * or whose first incr file's seq, skips one means a rewrite came and went
 * between two polls: the generation ends "missed", with a gap after it.
 *
 * follow_ship_pending() ships gens[0]: its base first, then its incr
 * stream (never a chunk across two incr files), one throttled chunk at a
 * time (ship.c), within a time budget so that a large backlog does not
 * hold up the polls. */

#include "follow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "manifest.h"
#include "timeutil.h"

#include "context.h"
#include "generation.h"
#include "lineage.h"
#include "observe.h"
#include "redisconn.h"
#include "ship.h"
#include "throttle.h"

/* ------------------------------------------------------------------------
 * The manifest
 * ---------------------------------------------------------------------- */

/* Open the files the manifest names (base and incr, history skipped). */
int follow_open_manifest_files(struct instance *in, const struct manifest *m, struct lineage *l,
                               struct err *e)
{
    const struct manifest_file *b = manifest_base(m);

    lineage_init(l);
    if (b != NULL) {
        if (lineage_open_file(in->aof_dir, b->name, b->seq, &l->base, e) != 0)
            goto fail;
        l->base_present = 1;
    }
    for (size_t i = 0; i < m->nfiles; i++) {
        struct aof_file f;

        if (m->files[i].type != MANIFEST_INCR)
            continue;
        if (lineage_open_file(in->aof_dir, m->files[i].name, m->files[i].seq, &f, e) != 0)
            goto fail;
        lineage_push(l, &f);
    }
    return 0;
fail:
    lineage_free(l);
    lineage_init(l);
    return -1;
}

/* Same base file (name and inode), or both without a base. */
static int same_base(const struct lineage *a, const struct lineage *b)
{
    if (a->base_present != b->base_present)
        return 0;
    if (!a->base_present)
        return 1;
    return strcmp(a->base.name, b->base.name) == 0 && a->base.dev == b->base.dev &&
           a->base.ino == b->base.ino;
}

/* The newest generation's unconfirmed incr files: all but the last are
 * final (only the newest incr file can belong to a running rewrite); the
 * last one is confirmed once Redis says no rewrite is in progress or
 * scheduled and the manifest has not changed meanwhile. */
int follow_resolve_pending(struct instance *in, struct err *e)
{
    struct generation *g = generation_last(in);
    struct redis_persistence p;
    struct stat sb;
    size_t before;

    if (g == NULL || g->files.nconfirmed == g->files.nfiles)
        return 0;
    before = g->files.nconfirmed;
    if (context_redis(in, e) != 0 || redisconn_persistence(&in->rc, &p, e) != 0) {
        if (e->code != ERR_BUSY)
            context_fail(in, &in->h_redis, "redis", e);
        /* without Redis only the files before the newest can be confirmed */
        if (g->files.nfiles - 1 > g->files.nconfirmed)
            g->files.nconfirmed = g->files.nfiles - 1;
    } else if (p.rewrite_in_progress || p.rewrite_scheduled) {
        if (g->files.nfiles - 1 > g->files.nconfirmed)
            g->files.nconfirmed = g->files.nfiles - 1;
    } else {
        /* no rewrite: if the manifest still is what we read, its base did
         * not change, so the rewrite that made the new file failed */
        if (stat(in->manifest_path, &sb) == 0 && sb.st_ino == in->manifest_seen.ino &&
            sb.st_dev == in->manifest_seen.dev &&
            (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec == in->manifest_seen.mtime_ns) {
            g->files.nconfirmed = g->files.nfiles;
            if (!p.last_rewrite_ok)
                log_msg(in->col->log, LOG_WARN, in->name,
                        "a rewrite failed (aof_last_bgrewrite_status:err); generation %" PRId64
                        " continues in the next incr file",
                        g->row.generation);
        } else {
            in->manifest_dirty = 1;
        }
    }
    if (g->files.nconfirmed != before) {
        if (lineage_refresh(&g->files, e) != 0)
            return -1;
        lineage_layout(&g->files);
        for (size_t i = before; i < g->files.nconfirmed; i++) {
            char detail[DETAIL_MAX];

            snprintf(detail, sizeof(detail),
                     "generation %" PRId64 " continues in incr file \"%s\" at stream offset %" PRIu64,
                     g->row.generation, g->files.files[i].name, g->files.files[i].start);
            log_msg(in->col->log, LOG_INFO, in->name, "%s", detail);
            context_event(in, "incr-switch", detail);
        }
    }
    return 0;
}

/* The last incr file of l's confirmed stream, or NULL. */
static const struct aof_file *follow_last_incr(const struct lineage *l)
{
    return l->nconfirmed > 0 ? &l->files[l->nconfirmed - 1] : NULL;
}

/* Between the generation in hand (`last`, its files final) and the next
 * manifest `l`, did Redis make files the collector never saw? A base seq
 * that skips one means a rewrite succeeded in between; an incr seq that
 * skips one, an incr file came and went. Either way that stream was not
 * followed there: *why says how. */
static int follow_missed(const struct lineage *last, const struct lineage *l, int base_skip, char *why,
                         size_t n)
{
    const struct aof_file *tail = follow_last_incr(last);

    if (base_skip) {
        snprintf(why, n, "base seq %lld follows base seq %lld: a rewrite came and went between two polls",
                 l->base.seq, last->base.seq);
        return 1;
    }
    if (tail != NULL && l->nfiles > 0 && l->files[0].seq > tail->seq + 1) {
        snprintf(why, n, "incr file seq %lld follows seq %lld: incr files came and went between two polls",
                 l->files[0].seq, tail->seq);
        return 1;
    }
    return 0;
}

/* Apply a manifest to the queue of generations. */
static int follow_apply_manifest(struct instance *in, const struct manifest *m, struct err *e)
{
    struct generation *last = generation_last(in);
    struct lineage l;
    const char *why = in->aof_moved ? "moved" : in->rotate_reason;
    int follows = last != NULL && !in->aof_moved;
    int rv = -1;

    if (follow_open_manifest_files(in, m, &l, e) != 0)
        return -1;

    if (last != NULL && same_base(&last->files, &l)) {
        in->aof_moved = 0;
        /* same generation: pick up incr files we do not hold yet */
        for (size_t i = 0; i < l.nfiles; i++) {
            if (lineage_find(&last->files, l.files[i].name, l.files[i].dev, l.files[i].ino) >= 0)
                continue;
            log_msg(in->col->log, LOG_INFO, in->name,
                    "new incr file \"%s\" with the same base: held back until the rewrite's outcome is known",
                    l.files[i].name);
            lineage_push(&last->files, &l.files[i]);
        }
        rv = 0;
        goto out;
    }
    if (last == NULL && in->need_base && l.base_present && strcmp(l.base.name, in->stale_base) == 0 &&
        l.base.dev == in->stale_dev && l.base.ino == in->stale_ino) {
        rv = 0; /* still the base whose continuity was lost: wait for the barrier's */
        goto out;
    }
    if (last != NULL) {
        char skipped[DETAIL_MAX / 2], detail[DETAIL_MAX];
        int base_skip = last->files.base_present && l.base_present && l.base.seq > last->files.base.seq + 1;

        /* a new base: unconfirmed files that the new manifest still names
         * belong to the new generation; the others are final in this one,
         * unless a rewrite succeeded unseen in between (then they belonged
         * to the generation that was missed) */
        for (size_t i = last->files.nconfirmed; i < last->files.nfiles;) {
            struct aof_file *f = &last->files.files[i];

            if (base_skip || lineage_find(&l, f->name, f->dev, f->ino) >= 0) {
                lineage_close_file(f);
                memmove(f, f + 1, (last->files.nfiles - i - 1) * sizeof(*f));
                last->files.nfiles--;
            } else {
                i++;
            }
        }
        last->files.nconfirmed = last->files.nfiles;
        if (lineage_refresh(&last->files, e) != 0)
            goto out;
        lineage_layout(&last->files);
        if (!last->closing) {
            last->closing = 1;
            snprintf(last->end_reason, sizeof(last->end_reason), "%s", why);
        }
        if (last->gap_after) {
            follows = 0; /* ended already for a reason of its own (aof-off) */
        } else if (follow_missed(&last->files, &l, base_skip, skipped, sizeof(skipped))) {
            snprintf(last->end_reason, sizeof(last->end_reason), "missed");
            snprintf(detail, sizeof(detail),
                     "generation %" PRId64 ": the stream was not followed to the next base \"%s\": %s",
                     last->row.generation, lineage_base_name(&l), skipped);
            log_msg(in->col->log, LOG_WARN, in->name, "%s", detail);
            context_event(in, "gap", detail);
            last->gap_after = 1;
            follows = 0;
        } else if (!follows) {
            last->gap_after = 1;
        }
        log_msg(in->col->log, LOG_INFO, in->name,
                "the manifest names a new base \"%s\" (%s): generation %" PRId64 " is shipped to its end",
                lineage_base_name(&l), why, last->row.generation);
    }
    /* the first incr file of a base is the base's; of the later ones only
     * the newest can belong to a running rewrite */
    l.nconfirmed = l.nfiles > 1 ? l.nfiles - 1 : l.nfiles;
    if (generation_open(in, &l,
                        last != NULL  ? why
                        : in->aof_off ? "aof-on"
                                      : in->open_reason,
                        follows, e) != 0)
        goto out;
    in->need_base = 0;
    in->aof_moved = 0;
    in->open_reason = "start";
    if (in->aof_off) {
        log_msg(in->col->log, LOG_INFO, in->name, "the AOF is on again: generation %" PRId64 " follows it",
                in->last_generation);
        in->aof_off = 0;
        in->aof_off_since = 0;
    }
    rv = follow_resolve_pending(in, e);
out:
    lineage_free(&l);
    return rv;
}

int follow_read_manifest(struct instance *in, struct err *e)
{
    struct manifest m = {NULL, 0};
    struct stat sb;
    int rv = -1;

    if (in->manifest_path == NULL)
        return err_set(e, ERR_NOTFOUND, "the AOF directory is not known yet (redis not reached)");
    if (stat(in->manifest_path, &sb) != 0)
        return err_sys(e, errno, "cannot stat manifest \"%s\"", in->manifest_path);
    if (manifest_load(in->manifest_path, &m, e) != 0)
        goto out;
    in->manifest_seen.dev = sb.st_dev;
    in->manifest_seen.ino = sb.st_ino;
    in->manifest_seen.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    in->manifest_seen.size = sb.st_size;
    if (follow_apply_manifest(in, &m, e) != 0) {
        /* a file named in the manifest vanished: Redis moved on; read again */
        in->manifest_dirty = 1;
        goto out;
    }
    in->manifest_dirty = 0;
    rv = 0;
out:
    manifest_free(&m);
    return rv;
}

/* Has the manifest changed since it was read? */
static int follow_manifest_changed(struct instance *in, struct err *e)
{
    struct stat sb;

    if (stat(in->manifest_path, &sb) != 0)
        return err_sys(e, errno, "cannot stat manifest \"%s\"", in->manifest_path);
    return sb.st_dev != in->manifest_seen.dev || sb.st_ino != in->manifest_seen.ino ||
           (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec != in->manifest_seen.mtime_ns ||
           sb.st_size != in->manifest_seen.size;
}

/* ------------------------------------------------------------------------
 * Polling
 * ---------------------------------------------------------------------- */

/* fstat the files of every generation; detect truncation; note growth. */
static int follow_observe(struct instance *in, struct err *e)
{
    int64_t now = time_now();

    for (size_t i = 0; i < in->ngens;) {
        struct generation *g = in->gens[i];
        const char *why = NULL;
        char msg[DETAIL_MAX];
        uint64_t size;

        if (lineage_refresh(&g->files, e) != 0)
            return -1;
        for (size_t k = 0; k + 1 < g->files.nconfirmed; k++) {
            if (g->files.files[k].start + g->files.files[k].size != g->files.files[k + 1].start) {
                snprintf(msg, sizeof(msg), "incr file \"%s\" changed size after Redis moved to the next",
                         g->files.files[k].name);
                why = msg;
            }
        }
        size = lineage_size(&g->files);
        if (why == NULL && size < g->shipped) {
            snprintf(msg, sizeof(msg),
                     "the incr stream is %" PRIu64 " B, shorter than the %" PRIu64
                     " B shipped: Redis truncated it",
                     size, g->shipped);
            why = msg;
        }
        if (why != NULL) {
            generation_lose_continuity(in, i, "truncated", why);
            continue;
        }
        generation_note_size(in, g, now, 0);
        i++;
    }
    return 0;
}

int follow_heartbeat(struct instance *in, struct err *e)
{
    struct status_row s;
    const struct generation *g = in->ngens > 0 ? in->gens[0] : NULL;
    const struct aof_file *f = g != NULL ? generation_current_file(g) : NULL;

    memset(&s, 0, sizeof(s));
    s.instance_id = in->instance_id;
    s.last_poll = time_now();
    s.poll_interval_ms = in->ic->poll_interval_ms;
    s.generation = g != NULL ? g->row.generation : in->last_generation;
    if (f != NULL) {
        snprintf(s.current_file, sizeof(s.current_file), "%s", f->name);
        s.current_size = f->size;
        s.shipped = g->shipped > f->start ? g->shipped - f->start : 0;
        if (s.shipped > s.current_size)
            s.shipped = s.current_size;
    }
    s.shipped_time = g != NULL ? g->shipped_time : 0;
    s.last_barrier = in->last_barrier;
    s.last_error_time = in->last_error_time;
    snprintf(s.last_error, sizeof(s.last_error), "%s", in->last_error);
    s.pid = (int)getpid();
    context_fill_health(in, &s);
    s.barrier_postponed_since = in->sched.postponed_since;
    snprintf(s.barrier_postponed_why, sizeof(s.barrier_postponed_why), "%s", in->sched.postponed_why);
    s.barrier_overdue = in->sched.overdue;
    s.aof_off_since = in->aof_off ? in->aof_off_since : 0;
    if (index_status_put(in->idx, &s, e) != 0)
        return -1;
    if (in->ic->metrics_file != NULL)
        return context_write_metrics(in, e);
    return 0;
}

/* Notice a closed connection (Redis stopped or restarted) without sending
 * anything, and reconnect (with backoff): a Redis restarted elsewhere is
 * followed where it is now. */
static void follow_watch_redis(struct instance *in)
{
    struct err e;

    if (redisconn_lost(&in->rc)) {
        redisconn_close(&in->rc);
        err_set(&e, ERR_IO, "connection to redis \"%s\" closed", in->rc.where);
        context_fail(in, &in->h_redis, "redis", &e);
        if (!in->verify_tail && in->ngens > 0)
            log_msg(in->col->log, LOG_INFO, in->name,
                    "holding back new incr bytes until redis is back and has loaded them (a dying redis may "
                    "leave a partial command that it cuts off when it loads)");
        in->verify_tail = 1;
    }
    if (!redisconn_connected(&in->rc))
        (void)context_redis(in, &e); /* logs a failure once */
}

/* After Redis restarted (it may have truncated a partial last command on
 * load): does the last shipped incr chunk still match the file? If not,
 * the newest generation loses continuity. */
static int follow_verify_tail(struct instance *in, struct err *e)
{
    struct generation *g = generation_last(in);
    struct chunk_row last;
    char why[DETAIL_MAX];
    int ok;

    if (g == NULL)
        return 0;
    if (generation_last_chunk(in, g->row.generation, CHUNK_INCR, &last, e) != 0)
        return -1;
    ok = generation_chunk_matches(in, g, CHUNK_INCR, &last, why, sizeof(why), e);
    if (ok < 0)
        return -1;
    if (ok == 0)
        generation_lose_continuity(in, in->ngens - 1, "mismatch", why);
    else if (last.end > 0)
        log_msg(in->col->log, LOG_INFO, in->name,
                "after the redis restart, the last shipped chunk [%" PRIu64 ", %" PRIu64 ") still matches",
                last.start, last.end);
    return 0;
}

/* Redis came back after the connection was lost. On load it may have cut
 * a partial last command off the incr file and appended after the cut,
 * so once it has loaded, check that the shipped tail still matches. */
static int follow_check_restart(struct instance *in, struct err *e)
{
    struct redis_persistence p;

    if (!redisconn_connected(&in->rc))
        return 0;
    if (redisconn_persistence(&in->rc, &p, e) != 0) {
        context_fail(in, &in->h_redis, "redis", e);
        err_clear(e);
        return 0;
    }
    if (p.loading)
        return 0;
    if (follow_verify_tail(in, e) != 0)
        return -1;
    in->verify_tail = 0;
    return 0;
}

/* ------------------------------------------------------------------------
 * Is the AOF still on?
 * ---------------------------------------------------------------------- */

void follow_aof_off(struct instance *in, const char *why)
{
    struct generation *g = generation_last(in);
    char detail[DETAIL_MAX];
    struct err e;

    if (!in->aof_off) {
        in->aof_off = 1;
        in->aof_off_since = time_now();
    }
    if (g == NULL || (g->closing && g->gap_after))
        return;
    snprintf(detail, sizeof(detail),
             "generation %" PRId64
             ": %s; it ends at the last second it holds whole, and the archive has a gap "
             "until the AOF is on again",
             g->row.generation, why);
    log_msg(in->col->log, LOG_WARN, in->name, "%s", detail);
    context_event(in, "gap", detail);
    /* its files are final: Redis closed the incr file (a rewrite it
     * stopped left its new incr file to this base, as a failed one does) */
    g->files.nconfirmed = g->files.nfiles;
    if (lineage_refresh(&g->files, &e) != 0)
        context_fail(in, &in->h_aof, "aof", &e);
    lineage_layout(&g->files);
    if (!g->closing) {
        g->closing = 1;
        snprintf(g->end_reason, sizeof(g->end_reason), "aof-off");
    }
    generation_break_after(in, in->ngens - 1);
}

/* INFO persistence now: when the newest stream stopped growing after it
 * had been growing, and every AOF_CHECK_IDLE_S while it does not grow.
 * Never while it grows: Redis is busy then, and plainly writing its AOF. */
static void follow_check_aof(struct instance *in)
{
    struct generation *g = generation_last(in);
    struct redis_persistence p;
    int64_t now = time_now(), sent;
    struct err e;
    int changed;

    if (g != NULL && g->grew) {
        in->next_aof_check = now + AOF_CHECK_IDLE_S;
        return;
    }
    if (!(g != NULL && g->was_growing) && now < in->next_aof_check)
        return;
    if (g != NULL)
        g->was_growing = 0;
    in->next_aof_check = now + AOF_CHECK_IDLE_S;
    if (!redisconn_connected(&in->rc) || in->verify_tail)
        return;
    sent = time_now();
    if (redisconn_persistence(&in->rc, &p, &e) != 0) {
        context_fail(in, &in->h_redis, "redis", &e);
        return;
    }
    if (p.loading)
        return;
    if (!p.aof_enabled) {
        if (!in->aof_off)
            log_msg(
                in->col->log, LOG_WARN, in->name,
                "the AOF is off on redis \"%s\" (aof_enabled:0): nothing is archived until it is on again",
                in->rc.where);
        follow_aof_off(in, "the AOF was switched off (aof_enabled:0)");
        return;
    }
    if (in->aof_off || g == NULL || g->closing)
        return;
    /* the file named by the manifest read before INFO was Redis's while it
     * answered, if the manifest is still the same now */
    changed = follow_manifest_changed(in, &e);
    if (changed != 0)
        return;
    if (p.rewrite_in_progress && g->files.nconfirmed == g->files.nfiles) {
        /* a rewrite with no new incr file in the manifest: the one that
         * "appendonly yes" starts, which opens its incr file only when it
         * ends. So the AOF was off in between. */
        follow_aof_off(in, "the AOF was switched off and on again (a rewrite runs without a new incr file)");
        return;
    }
    /* and only when no rewrite started since the INFO before, taken while
     * this generation was the newest (aof_rewrites counts the starts): a
     * rewrite could have switched files between two looks at the manifest */
    if (p.rewrites >= 0 && in->info_gen == g->row.generation && p.rewrites == in->info_rewrites &&
        sent > g->on_proven)
        g->on_proven = sent;
    in->info_gen = g->row.generation;
    in->info_rewrites = p.rewrites;
}

int follow_poll(struct instance *in, struct err *e)
{
    int changed;

    follow_watch_redis(in);
    if (in->manifest_path == NULL)
        return err_set(e, ERR_REDIS, "the AOF directory is not known until redis \"%s\" answers",
                       in->rc.where);
    changed = in->manifest_dirty ? 1 : follow_manifest_changed(in, e);
    if (changed < 0) {
        context_fail(in, &in->h_aof, "aof", e);
        return -1;
    }
    if (changed && follow_read_manifest(in, e) != 0) {
        context_fail(in, &in->h_aof, "aof", e);
        return -1;
    }
    if (follow_resolve_pending(in, e) != 0) {
        context_fail(in, &in->h_aof, "aof", e);
        return -1;
    }
    if (in->verify_tail && follow_check_restart(in, e) != 0) {
        context_fail(in, &in->h_aof, "aof", e);
        return -1;
    }
    if (follow_observe(in, e) != 0) {
        context_fail(in, &in->h_aof, "aof", e);
        return -1;
    }
    follow_check_aof(in);
    context_recover(in, &in->h_aof, "aof");
    return 0;
}

/* ------------------------------------------------------------------------
 * Shipping
 * ---------------------------------------------------------------------- */

uint64_t follow_backlog(const struct instance *in)
{
    uint64_t n = 0;

    for (size_t i = 0; i < in->ngens; i++) {
        const struct generation *g = in->gens[i];

        if (!g->row.base_complete)
            n += g->row.base_size - g->base_shipped;
        n += lineage_size(&g->files) -
             (g->shipped < lineage_size(&g->files) ? g->shipped : lineage_size(&g->files));
    }
    return n;
}

/* Ship one base chunk of g, or finish its base. */
static int follow_ship_base(struct instance *in, struct generation *g, struct err *e)
{
    uint64_t left = g->row.base_size - g->base_shipped;
    uint64_t len = left < (uint64_t)in->ic->chunk_size ? left : (uint64_t)in->ic->chunk_size;
    uint32_t crc;

    if (len == 0) {
        g->row.base_complete = 1;
        g->row.base_crc32 = g->base_crc;
        if (index_generation_update(in->idx, &g->row, e) != 0) {
            g->row.base_complete = 0;
            return -1;
        }
        log_msg(in->col->log, LOG_INFO, in->name,
                "base of generation %" PRId64 " shipped: \"%s\" %" PRIu64 " B", g->row.generation,
                g->row.base_file, g->row.base_size);
        return 0;
    }
    if (throttle_wait(&in->throttle, in->col, e) != 0)
        return -1;
    if (ship_chunk(in, &g->row, NULL, CHUNK_BASE, &g->files.base, g->base_shipped, g->base_shipped, len,
                   g->row.base_time, g->row.base_time, &crc, e) != 0)
        return -1;
    throttle_account(&in->throttle, len);
    g->base_crc = codec_crc32(g->base_crc, in->raw.data, len);
    g->base_shipped += len;
    return 0;
}

/* Ship one incr chunk of g (never across a file boundary). */
static int follow_ship_incr(struct instance *in, struct generation *g, struct err *e)
{
    const struct aof_file *f = &g->files.files[lineage_file_at(&g->files, g->shipped)];
    uint64_t file_end = f->start + f->size;
    uint64_t len = file_end - g->shipped;
    int64_t first, last;
    uint32_t crc;

    if (len > (uint64_t)in->ic->chunk_size)
        len = (uint64_t)in->ic->chunk_size;
    observe_times(&g->obs, g->shipped, g->shipped + len, time_now(), &first, &last);
    if (throttle_wait(&in->throttle, in->col, e) != 0)
        return -1;
    if (ship_chunk(in, &g->row, g, CHUNK_INCR, f, g->shipped - f->start, g->shipped, len, first, last, &crc,
                   e) != 0)
        return -1;
    throttle_account(&in->throttle, len);
    g->shipped += len;
    g->shipped_time = last;
    observe_trim(&g->obs, g->shipped);
    return 0;
}

/* Can the incr stream of g be shipped now? Not the newest generation's
 * while Redis is away or has not been checked since it came back: a dying
 * Redis may have left a partial command that it cuts off when it loads. */
static int follow_incr_open(const struct instance *in, const struct generation *g)
{
    return !(in->verify_tail && g == generation_last(in));
}

/* max_rate (or chunk_pause) holds the next chunk back past the caller's
 * budget: wait out the budget only, so that the caller's polls and
 * heartbeat keep their pace (1), or let the chunk go (0); -1 on a stop
 * request. */
static int follow_held(struct instance *in, int64_t until, struct err *e)
{
    int64_t now = time_monotonic_ms();

    if (until == INT64_MAX || throttle_due_ms(&in->throttle) <= until)
        return 0;
    if (until > now && context_sleep(in->col, until - now, e) != 0)
        return -1;
    return 1;
}

int follow_ship_pending(struct instance *in, int64_t budget_ms, int *more, struct err *e)
{
    int64_t until = budget_ms >= 0 ? time_monotonic_ms() + budget_ms : INT64_MAX;

    *more = 0;
    while (in->ngens > 0) {
        struct generation *g = in->gens[0];
        int incr_open = follow_incr_open(in, g);

        if (time_monotonic_ms() >= until) {
            *more = !g->row.base_complete || g->closing || in->ngens > 1 ||
                    (incr_open && g->shipped < lineage_size(&g->files));
            return 0;
        }
        if (!g->row.base_complete || (incr_open && g->shipped < lineage_size(&g->files))) {
            int held = follow_held(in, until, e);

            if (held != 0) {
                *more = 1;
                return held < 0 ? -1 : 0;
            }
        }
        if (!g->row.base_complete) {
            if (follow_ship_base(in, g, e) != 0)
                return -1;
        } else if (incr_open && g->shipped < lineage_size(&g->files)) {
            if (follow_ship_incr(in, g, e) != 0)
                return -1;
        } else if (g->closing) {
            /* the files are final; take their last bytes into account */
            if (lineage_refresh(&g->files, e) != 0)
                return -1;
            lineage_layout(&g->files);
            if (g->shipped < lineage_size(&g->files))
                continue;
            if (generation_finish(in, e) != 0)
                return -1;
            generation_drop(in, 0);
        } else {
            return 0;
        }
    }
    return 0;
}

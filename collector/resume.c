/* resume.c - start-up: match the index with the files on disk.
 *
 * Before following, an instance matches the latest generation of the index
 * with what the manifest names now. It resumes that generation only with
 * proof of continuity: the manifest names the same base (name and size)
 * and first incr file, the stream is at least as long as what was shipped,
 * and the last shipped chunk's bytes still match the file (CRC); objects
 * that a crash left unindexed are reconciled first (reconcile.c). Without
 * that proof the generation is ended with the reason and a "gap" event,
 * and a new one opens: from the manifest's base when the AOF was rewritten
 * meanwhile, or, when the same files changed under the archive (truncated
 * by Redis on load), from the base of a barrier. Older generations that a
 * crash left open are ended ("restart"). The tail check
 * (generation_chunk_matches) runs again after Redis restarts under a
 * running collector (follow_verify_tail). */

#include "resume.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h"
#include "manifest.h"
#include "timeutil.h"
#include "xalloc.h"

#include "context.h"
#include "follow.h"
#include "generation.h"
#include "lineage.h"
#include "reconcile.h"

/* Try to continue index generation r over the files of l. On success the
 * generation is in the queue (l is emptied) and 1 is returned; 0 when
 * continuity is not proven (*reason, why filled; l kept); -1 on error. */
static int resume_continue(struct instance *in, const struct gen_row *r, struct lineage *l,
                           const char **reason, char *why, size_t n, struct err *e)
{
    struct generation *g;
    struct chunk_row base_last, incr_last;
    int ok;

    if (strcmp(lineage_base_name(l), r->base_file) != 0) {
        *reason = "rewrite";
        snprintf(why, n, "the manifest names base \"%s\", not \"%s\": the AOF was rewritten meanwhile",
                 lineage_base_name(l), r->base_file);
        return 0;
    }
    if (l->base_present && l->base.size != r->base_size) {
        *reason = "restart";
        snprintf(why, n, "base \"%s\" is %" PRIu64 " B, not %" PRIu64 " B as recorded", r->base_file,
                 l->base.size, r->base_size);
        return 0;
    }
    if (l->nfiles == 0 || strcmp(l->files[0].name, r->incr_file) != 0) {
        *reason = "restart";
        snprintf(why, n, "the manifest's first incr file is \"%s\", not \"%s\"",
                 l->nfiles > 0 ? l->files[0].name : "", r->incr_file);
        return 0;
    }

    g = generation_new();
    g->row = *r;
    g->files = *l;
    lineage_init(l);
    g->files.nconfirmed = g->files.nfiles > 1 ? g->files.nfiles - 1 : g->files.nfiles;
    lineage_layout(&g->files);
    generation_push(in, g);
    if (follow_resolve_pending(in, e) != 0)
        goto fail;
    if (reconcile_generation(in, g, 1, e) != 0)
        goto fail;
    if (generation_last_chunk(in, r->generation, CHUNK_BASE, &base_last, e) != 0 ||
        generation_last_chunk(in, r->generation, CHUNK_INCR, &incr_last, e) != 0)
        goto fail;
    g->base_shipped = g->row.base_complete ? g->row.base_size : base_last.end;
    g->shipped = incr_last.end;
    g->shipped_time = incr_last.last;

    *reason = "truncated";
    if (lineage_size(&g->files) < g->shipped) {
        snprintf(why, n, "the incr stream is %" PRIu64 " B, shorter than the %" PRIu64 " B shipped",
                 lineage_size(&g->files), g->shipped);
        goto lost;
    }
    *reason = "mismatch";
    ok = generation_chunk_matches(in, g, CHUNK_INCR, &incr_last, why, n, e);
    if (ok == 1 && !g->row.base_complete)
        ok = generation_chunk_matches(in, g, CHUNK_BASE, &base_last, why, n, e);
    if (ok < 0)
        goto fail;
    if (ok == 0)
        goto lost;
    if (!g->row.base_complete && generation_crc(in, g, CHUNK_BASE, 0, g->base_shipped, &g->base_crc, e) != 0)
        goto fail;
    if (generation_scan_resume(in, g, e) != 0)
        goto fail;
    generation_note_size(in, g, time_now(), 1);
    log_msg(in->col->log, LOG_INFO, in->name,
            "resuming generation %" PRId64 " at incr offset %" PRIu64 " of %" PRIu64 " (base %s)",
            r->generation, g->shipped, lineage_size(&g->files),
            g->row.base_complete ? "complete" : "in progress");
    return 1;
lost:
    /* hand the files back to the caller */
    *l = g->files;
    lineage_init(&g->files);
    generation_drop(in, in->ngens - 1);
    return 0;
fail:
    *l = g->files;
    lineage_init(&g->files);
    generation_drop(in, in->ngens - 1);
    return -1;
}

struct open_gens {
    struct gen_row *v;
    size_t n, cap;
};

static int collect_open(void *ud, const struct gen_row *g)
{
    struct open_gens *o = ud;

    if (g->ended != 0)
        return 0;
    if (o->n == o->cap) {
        o->cap = o->cap == 0 ? 4 : o->cap * 2;
        o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
    }
    o->v[o->n++] = *g;
    return 0;
}

/* End index generation r, which the collector cannot follow any more:
 * its proven end from the last "#TS:" its chunks recorded (its files are
 * not read), and no generation after it follows it. */
static int resume_end_unfollowed(struct instance *in, struct gen_row *r, const char *reason, struct err *e)
{
    struct gen_row next;
    int64_t ts;

    if (index_generation_last_ts(in->idx, in->instance_id, r->generation, &ts, e) != 0)
        return -1;
    r->proven_end = ts > 1 ? ts - 1 : 0;
    if (generation_end(in, r, reason, e) != 0)
        return -1;
    if (index_generation_get(in->idx, in->instance_id, r->generation + 1, &next, e) != 0) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e);
        return 0;
    }
    if (next.follows == GEN_NO && next.lead_ts == 0)
        return 0;
    next.follows = GEN_NO;
    next.lead_ts = 0;
    return index_generation_update(in->idx, &next, e);
}

/* End every open generation but the latest: a previous run was
 * interrupted while finishing them, and their files are gone or final. */
static int resume_end_stale(struct instance *in, int64_t latest, struct err *e)
{
    struct open_gens o = {NULL, 0, 0};
    int rv = -1;

    if (index_generations(in->idx, in->instance_id, collect_open, &o, e) != 0)
        goto out;
    for (size_t i = 0; i < o.n; i++) {
        struct generation *g;

        if (o.v[i].generation == latest)
            continue;
        g = generation_new();
        g->row = o.v[i];
        if (reconcile_generation(in, g, 0, e) != 0 || resume_end_unfollowed(in, &g->row, "restart", e) != 0) {
            generation_free(g);
            goto out;
        }
        generation_free(g);
    }
    rv = 0;
out:
    free(o.v);
    return rv;
}

/* Match the index with the manifest, once, at start-up. */
int resume_run(struct instance *in, struct err *e)
{
    struct manifest m = {NULL, 0};
    struct lineage l;
    struct gen_row latest;
    const char *reason = NULL;
    char why[DETAIL_MAX];
    struct stat sb;
    int have_latest, rv = -1;

    lineage_init(&l);
    memset(&latest, 0, sizeof(latest));
    if (index_generation_latest(in->idx, in->instance_id, &latest, e) == 0) {
        have_latest = 1;
    } else if (e->code == ERR_NOTFOUND) {
        have_latest = 0;
        err_clear(e);
    } else {
        goto out;
    }
    in->last_generation = have_latest ? latest.generation : 0;
    if (reconcile_newer(in, in->last_generation, e) != 0)
        goto out;
    if (have_latest && resume_end_stale(in, latest.generation, e) != 0)
        goto out;

    if (stat(in->manifest_path, &sb) != 0) {
        err_sys(e, errno, "cannot stat manifest \"%s\"", in->manifest_path);
        goto out;
    }
    if (manifest_load(in->manifest_path, &m, e) != 0)
        goto out;
    in->manifest_seen.dev = sb.st_dev;
    in->manifest_seen.ino = sb.st_ino;
    in->manifest_seen.mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    in->manifest_seen.size = sb.st_size;
    if (follow_open_manifest_files(in, &m, &l, e) != 0)
        goto out;

    if (have_latest && latest.ended == 0) {
        int ok = resume_continue(in, &latest, &l, &reason, why, sizeof(why), e);

        if (ok < 0)
            goto out;
        if (ok == 1) {
            in->manifest_dirty = 0;
            rv = 0;
            goto out;
        }
        log_msg(in->col->log, LOG_WARN, in->name, "cannot continue generation %" PRId64 ": %s",
                latest.generation, why);
        context_event(in, "gap", why);
        if (resume_end_unfollowed(in, &latest, reason, e) != 0)
            goto out;
    }

    if (have_latest && !in->appendonly) {
        /* the AOF is off: nothing to follow until the rewrite that turning
         * it on starts brings a new base (no barrier meanwhile) */
        in->aof_off = 1;
        in->aof_off_since = time_now();
        in->manifest_dirty = 0;
        rv = 0;
        goto out;
    }
    if (have_latest && l.base_present && strcmp(l.base.name, latest.base_file) == 0) {
        /* the same files, but their bytes no longer join: a new base is needed */
        free(in->stale_base);
        in->stale_base = xstrdup(l.base.name);
        in->stale_dev = l.base.dev;
        in->stale_ino = l.base.ino;
        in->need_base = 1;
        in->manifest_dirty = 0;
        log_msg(in->col->log, LOG_INFO, in->name, "a barrier will provide the base of generation %" PRId64,
                in->last_generation + 1);
        rv = 0;
        goto out;
    }
    in->open_reason = have_latest ? "rewrite" : "start";
    l.nconfirmed = l.nfiles > 1 ? l.nfiles - 1 : l.nfiles;
    if (generation_open(in, &l, in->open_reason, 0, e) != 0)
        goto out;
    in->open_reason = "start";
    in->manifest_dirty = 0;
    rv = follow_resolve_pending(in, e);
out:
    lineage_free(&l);
    manifest_free(&m);
    return rv;
}

/* generation.c - the generations an instance has in hand.
 *
 * An instance keeps a queue of generations: gens[0] is the one being
 * shipped, the last one is what the manifest names now; those in between
 * (rare: two rewrites while shipping lagged) are closing. Each holds its
 * index row, its open files (lineage.c), how far its base and incr stream
 * are shipped, and the observations that time its chunks (observe.c).
 * Opening a generation records its row before any of its chunks is stored,
 * so that no object ever belongs to a generation the index does not know;
 * ending one records the reason; losing continuity ends the newest one and
 * asks for a barrier to provide the next base. Each change is logged and
 * recorded as an event.
 *
 * What restores need to be exact (window.h) is recorded here too: whether
 * a generation follows the previous one with nothing missed (a gap event
 * when not), whether its cuts go by "#TS:" lines, the last second each
 * ended one holds whole, and its lead second. The incr bytes go through the
 * AOF scanner as they are shipped (chunkscan.h): each chunk's marks go into
 * its row, and the last "#TS:" of a finished stream becomes the next
 * generation's lead second.
 *
 * Whether the last shipped chunk still matches the file
 * (generation_chunk_matches) is here, below its two users: resume.c at
 * start-up and follow.c after a Redis restart. It was resume.c's, which
 * made follow.c and resume.c call each other. */

#include "generation.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "redisconn.h"
#include "timeutil.h"
#include "xalloc.h"

#include "context.h"
#include "lineage.h"
#include "observe.h"

void generation_free(struct generation *g)
{
    if (g == NULL)
        return;
    lineage_free(&g->files);
    observe_free(&g->obs);
    free(g);
}

/* Remove gens[i] from the queue and free it. */
void generation_drop(struct instance *in, size_t i)
{
    generation_free(in->gens[i]);
    memmove(&in->gens[i], &in->gens[i + 1], (in->ngens - i - 1) * sizeof(*in->gens));
    in->ngens--;
}

struct generation *generation_new(void)
{
    struct generation *g = xcalloc(1, sizeof(*g));

    lineage_init(&g->files);
    observe_init(&g->obs);
    return g;
}

void generation_push(struct instance *in, struct generation *g)
{
    if (in->ngens == in->capgens) {
        in->capgens = in->capgens == 0 ? 4 : in->capgens * 2;
        in->gens = xrealloc(in->gens, in->capgens * sizeof(*in->gens));
    }
    in->gens[in->ngens++] = g;
}

struct generation *generation_last(const struct instance *in)
{
    return in->ngens > 0 ? in->gens[in->ngens - 1] : NULL;
}

/* The incr file holding the shipped offset (the one being shipped). */
const struct aof_file *generation_current_file(const struct generation *g)
{
    if (g->files.nconfirmed == 0)
        return NULL;
    return &g->files.files[lineage_file_at(&g->files, g->shipped)];
}

/* Note the incr stream's size at `now`: an observation, and a size log
 * row when it grew (or, with `first`, for the size found at start-up). A
 * poll that saw it grow proves that Redis wrote into it after the previous
 * poll. */
void generation_note_size(struct instance *in, struct generation *g, int64_t now, int first)
{
    uint64_t size = lineage_size(&g->files);
    const struct aof_file *f;
    struct err e;
    int grew = observe_add(&g->obs, now, size);

    g->was_growing = g->grew;
    g->grew = grew && !first;
    if (g->grew && g->prev_poll > g->on_proven)
        g->on_proven = g->prev_poll;
    g->prev_poll = now;
    if (!grew && !first)
        return;
    if (g->files.nconfirmed == 0)
        return;
    f = &g->files.files[g->files.nconfirmed - 1];
    if (index_sizelog_add(in->idx, in->instance_id, g->row.generation, now, f->name, size, &e) != 0)
        context_fail(in, &in->h_index, "index", &e);
}

/* Format of a base file from its first bytes. */
static enum base_format base_format_of(const struct aof_file *base)
{
    char head[5];

    if (base->fd >= 0 && base->size >= sizeof(head) &&
        pread(base->fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) && memcmp(head, "REDIS", 5) == 0)
        return BASE_RDB;
    return BASE_AOF;
}

/* aof-timestamp-enabled now (CONFIG GET, when Redis answers; else as last
 * known): a generation records it when it opens. */
static void generation_timestamps(struct instance *in)
{
    struct redis_aof_config ac;
    struct err e;

    memset(&ac, 0, sizeof(ac));
    if (redisconn_connected(&in->rc) && redisconn_aof_config(&in->rc, &ac, &e) == 0)
        in->ts_enabled = ac.timestamps;
    redisconn_aof_config_free(&ac);
}

/* Open generation N+1 over the files of `l` (moved into it) and record it. */
int generation_open(struct instance *in, struct lineage *l, const char *why, int follows, struct err *e)
{
    struct generation *g = generation_new();
    struct gen_row *r = &g->row;
    int64_t now = time_now();
    char detail[DETAIL_MAX];

    g->files = *l;
    lineage_init(l);
    lineage_layout(&g->files);
    r->instance_id = in->instance_id;
    r->generation = in->last_generation + 1;
    r->mode = MODE_AOF;
    snprintf(r->base_file, sizeof(r->base_file), "%s", lineage_base_name(&g->files));
    r->base_format = base_format_of(&g->files.base);
    r->base_size = g->files.base_present ? g->files.base.size : 0;
    r->base_complete = !g->files.base_present || g->files.base.size == 0;
    r->base_crc32 = 0;
    r->base_time = lineage_base_time(&g->files);
    snprintf(r->incr_file, sizeof(r->incr_file), "%s", g->files.nfiles > 0 ? g->files.files[0].name : "");
    r->started = now;
    generation_timestamps(in);
    r->exact = in->ts_enabled ? GEN_YES : GEN_NO;
    r->follows = follows ? GEN_YES : GEN_NO;
    g->prev_poll = now;
    if (index_generation_add(in->idx, r, e) != 0) {
        err_prefix(e, "cannot record generation %" PRId64, r->generation);
        /* give the files back so that a retry finds them open */
        *l = g->files;
        lineage_init(&g->files);
        generation_free(g);
        return -1;
    }
    in->last_generation = r->generation;
    generation_push(in, g);
    generation_note_size(in, g, now, 1);
    snprintf(detail, sizeof(detail),
             "generation %" PRId64 " opened (%s): base \"%s\" %" PRIu64 " B, incr \"%s\"%s", r->generation,
             why, r->base_file, r->base_size, r->incr_file,
             follows || r->generation == 1 ? "" : "; a gap lies before it");
    log_msg(in->col->log, LOG_INFO, in->name, "%s", detail);
    context_event(in, "generation", detail);
    return 0;
}

/* Record the end of generation g (not necessarily in the queue). */
int generation_end(struct instance *in, struct gen_row *r, const char *reason, struct err *e)
{
    char detail[DETAIL_MAX];

    r->ended = time_now();
    snprintf(r->end_reason, sizeof(r->end_reason), "%s", reason);
    if (index_generation_update(in->idx, r, e) != 0)
        return -1;
    snprintf(detail, sizeof(detail), "generation %" PRId64 " ended (%s)", r->generation, reason);
    if (r->proven_end != 0) {
        char t[TIME_BUFSZ];

        time_format_utc(r->proven_end, t, sizeof(t));
        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), ", whole up to %s", t);
    }
    log_msg(in->col->log, LOG_INFO, in->name, "%s", detail);
    context_event(in, "generation", detail);
    return 0;
}

int64_t generation_proven_end(const struct generation *g)
{
    int64_t s = g->on_proven;

    if (g->scan_ready && chunkscan_ts(&g->scan) > s)
        s = chunkscan_ts(&g->scan);
    return s > 1 ? s - 1 : 0;
}

void generation_break_after(struct instance *in, size_t i)
{
    struct generation *next;
    struct err e;

    in->gens[i]->gap_after = 1;
    if (i + 1 >= in->ngens)
        return;
    next = in->gens[i + 1];
    if (next->row.follows == GEN_NO && next->row.lead_ts == 0)
        return;
    next->row.follows = GEN_NO;
    next->row.lead_ts = 0;
    if (index_generation_update(in->idx, &next->row, &e) != 0)
        context_fail(in, &in->h_index, "index", &e);
}

int generation_finish(struct instance *in, struct err *e)
{
    struct generation *g = in->gens[0];
    struct generation *next = in->ngens > 1 ? in->gens[1] : NULL;

    log_msg(in->col->log, LOG_DEBUG, in->name,
            "generation %" PRId64 ": last #TS %" PRId64 ", seen written at or after %" PRId64,
            g->row.generation, g->scan_ready ? chunkscan_ts(&g->scan) : 0, g->on_proven);
    g->row.proven_end = generation_proven_end(g);
    if (generation_end(in, &g->row, g->end_reason, e) != 0)
        return -1;
    if (next != NULL && !g->gap_after && next->row.follows == GEN_YES) {
        /* Redis writes "#TS:" only when the second changes, and the
         * rewrite did not reset that: the commands at the head of the next
         * stream ran in this stream's last annotated second (a stream with
         * no bytes at all passes its own lead on) */
        next->row.lead_ts = g->scan_ready ? chunkscan_ts(&g->scan) : g->shipped == 0 ? g->row.lead_ts : 0;
        if (next->row.lead_ts == 0)
            log_msg(in->col->log, LOG_WARN, in->name,
                    "generation %" PRId64
                    " has no known last \"#TS:\" (%s): restores choose generation %" PRId64
                    " by its base time",
                    g->row.generation,
                    g->scan_ready && !chunkscan_known(&g->scan) ? chunkscan_error(&g->scan)
                                                                : "none in its stream",
                    next->row.generation);
        if (index_generation_update(in->idx, &next->row, e) != 0)
            return -1;
    }
    return 0;
}

/* Continuity is lost for the newest generation: end it and wait for a
 * new base from a barrier. */
void generation_lose_continuity(struct instance *in, size_t i, const char *reason, const char *why)
{
    struct generation *g = in->gens[i];
    struct err e;
    char detail[DETAIL_MAX];

    snprintf(detail, sizeof(detail), "generation %" PRId64 ": %.1400s", g->row.generation, why);
    log_msg(in->col->log, LOG_WARN, in->name, "continuity lost: %s", detail);
    context_event(in, "gap", detail);
    generation_break_after(in, i);
    g->row.proven_end = generation_proven_end(g);
    if (generation_end(in, &g->row, reason, &e) != 0)
        context_fail(in, &in->h_index, "index", &e);
    if (i == in->ngens - 1) {
        free(in->stale_base);
        in->stale_base = xstrdup(lineage_base_name(&g->files));
        in->stale_dev = g->files.base.dev;
        in->stale_ino = g->files.base.ino;
        in->need_base = 1;
        log_msg(in->col->log, LOG_INFO, in->name, "a barrier will provide the base of the next generation");
    }
    generation_drop(in, i);
}

/* ------------------------------------------------------------------------
 * The incr stream through the AOF scanner
 * ---------------------------------------------------------------------- */

void generation_scan_chunk(struct instance *in, struct generation *g, const char *data, uint64_t start,
                           uint64_t len, struct chunk_marks *m)
{
    struct chunk_marks more;
    int was_known;
    struct err e;

    if (!g->scan_ready) {
        /* the first incr chunk: the lead second is known by now (the
         * previous generation was finished before this one ships) */
        chunkscan_init(&g->scan, 0, 0, g->row.lead_ts);
        if (start != 0)
            chunkscan_lose(&g->scan, "the scanner did not start at the stream's first byte");
        g->scan_ready = 1;
    }
    was_known = chunkscan_known(&g->scan);
    if (g->marks_end > g->marks_start && g->marks_start == start && g->marks_end <= start + len &&
        chunkscan_offset(&g->scan) == g->marks_end) {
        /* a retry of a chunk whose store failed: its bytes are scanned */
        *m = g->marks;
        if (g->marks_end < start + len) {
            chunkscan_chunk(&g->scan, data + (g->marks_end - start), (size_t)(start + len - g->marks_end),
                            &more);
            chunkscan_merge(m, &more);
        }
    } else if (chunkscan_offset(&g->scan) == start) {
        chunkscan_chunk(&g->scan, data, (size_t)len, m);
    } else {
        chunkscan_lose(&g->scan, "the scanner lost its place in the stream");
        chunkscan_chunk(&g->scan, data, (size_t)len, m);
    }
    g->marks = *m;
    g->marks_start = start;
    g->marks_end = start + len;
    if (was_known && !chunkscan_known(&g->scan))
        log_msg(in->col->log, LOG_WARN, in->name,
                "generation %" PRId64 ": the incr stream does not scan as AOF from offset %" PRIu64
                " (%s): its chunks carry no marks from there",
                g->row.generation, start, chunkscan_error(&g->scan));
    if (m->known && m->ts_first != 0 && g->row.exact != GEN_YES) {
        g->row.exact = GEN_YES;
        if (index_generation_update(in->idx, &g->row, &e) != 0)
            context_fail(in, &in->h_index, "index", &e);
    }
}

int generation_scan_resume(struct instance *in, struct generation *g, struct err *e)
{
    struct chunk_row from;
    uint64_t off, start = 0;
    int rv = -1;

    memset(&from, 0, sizeof(from));
    if (g->shipped == 0) {
        g->scan_ready = 0; /* set up at the first chunk */
        return 0;
    }
    if (index_chunk_resume_point(in->idx, in->instance_id, g->row.generation, &from, e) == 0) {
        start = (uint64_t)from.boundary;
        chunkscan_init(&g->scan, start, from.boundary_db, from.boundary_ts);
    } else if (e->code == ERR_NOTFOUND) {
        /* no boundary recorded (chunks shipped before schema 3): once, from the start */
        err_clear(e);
        log_msg(in->col->log, LOG_INFO, in->name,
                "generation %" PRId64 ": scanning its %" PRIu64 " shipped incr bytes from the start once",
                g->row.generation, g->shipped);
        chunkscan_init(&g->scan, 0, 0, g->row.lead_ts);
    } else {
        return -1;
    }
    g->scan_ready = 1;
    for (off = start; off < g->shipped;) {
        const struct aof_file *f = &g->files.files[lineage_file_at(&g->files, off)];
        uint64_t len = g->shipped - off;
        struct chunk_marks ignored;

        if (f->start + f->size - off < len)
            len = f->start + f->size - off;
        if (len > (uint64_t)in->ic->chunk_size)
            len = (uint64_t)in->ic->chunk_size;
        if (len == 0) {
            err_set(e, ERR_CORRUPT,
                    "incr stream of generation %" PRId64 " ends at %" PRIu64 ", before %" PRIu64,
                    g->row.generation, off, g->shipped);
            goto out;
        }
        buf_reset(&in->raw);
        buf_reserve(&in->raw, len);
        if (lineage_pread(&g->files, off, in->raw.data, len, e) != 0)
            goto out;
        chunkscan_chunk(&g->scan, in->raw.data, (size_t)len, &ignored);
        off += len;
    }
    if (!chunkscan_known(&g->scan))
        log_msg(in->col->log, LOG_WARN, in->name,
                "generation %" PRId64
                ": the shipped incr stream does not scan as AOF (%s): its next chunks carry "
                "no marks",
                g->row.generation, chunkscan_error(&g->scan));
    rv = 0;
out:
    return rv;
}

/* ------------------------------------------------------------------------
 * The archive against the files: does what was shipped still match?
 * (start-up, resume.c; after a Redis restart, follow.c)
 * ---------------------------------------------------------------------- */

/* The end of the last chunk of (generation, kind), 0 when none; *row gets
 * that chunk (row->end == 0 when none). */
int generation_last_chunk(struct instance *in, int64_t generation, enum chunk_kind kind,
                          struct chunk_row *row, struct err *e)
{
    memset(row, 0, sizeof(*row));
    if (index_chunk_last(in->idx, in->instance_id, generation, kind, row, e) == 0)
        return 0;
    if (e->code != ERR_NOTFOUND)
        return -1;
    err_clear(e);
    memset(row, 0, sizeof(*row));
    return 0;
}

/* CRC32 of `len` bytes read by chunks from the base (kind base) or the
 * incr stream of g, starting at `off`. */
int generation_crc(struct instance *in, struct generation *g, enum chunk_kind kind, uint64_t off,
                   uint64_t len, uint32_t *crc, struct err *e)
{
    uint64_t done = 0;

    *crc = 0;
    while (done < len) {
        uint64_t n = len - done;
        int rv;

        if (n > (uint64_t)in->ic->chunk_size)
            n = (uint64_t)in->ic->chunk_size;
        buf_reset(&in->raw);
        buf_reserve(&in->raw, n);
        if (kind == CHUNK_BASE)
            rv = lineage_pread_base(&g->files, off + done, in->raw.data, n, e);
        else
            rv = lineage_pread(&g->files, off + done, in->raw.data, n, e);
        if (rv != 0)
            return -1;
        *crc = codec_crc32(*crc, in->raw.data, n);
        done += n;
    }
    return 0;
}

/* Does the last chunk of `kind` still match the live bytes? 1 yes, 0 no
 * (why filled), -1 error. */
int generation_chunk_matches(struct instance *in, struct generation *g, enum chunk_kind kind,
                             const struct chunk_row *c, char *why, size_t n, struct err *e)
{
    uint32_t crc;

    if (c->end == 0)
        return 1;
    if (generation_crc(in, g, kind, c->start, c->end - c->start, &crc, e) != 0) {
        if (e->code == ERR_IO)
            return -1;
        snprintf(why, n, "the last shipped %s chunk [%" PRIu64 ", %" PRIu64 ") cannot be read back: %s",
                 kind == CHUNK_BASE ? "base" : "incr", c->start, c->end, e->msg);
        err_clear(e);
        return 0;
    }
    if (crc != c->crc32) {
        snprintf(why, n,
                 "the last shipped %s chunk [%" PRIu64 ", %" PRIu64
                 ") has CRC %08x in the archive but %08x in "
                 "the file",
                 kind == CHUNK_BASE ? "base" : "incr", c->start, c->end, (unsigned)c->crc32, (unsigned)crc);
        return 0;
    }
    return 1;
}

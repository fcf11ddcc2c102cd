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
 * recorded as an event. */
#include "collector.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timeutil.h"
#include "xalloc.h"

void generation_free(struct generation *g)
{
    if (g == NULL)
        return;
    lineage_free(&g->files);
    observe_free(&g->obs);
    free(g);
}

/* Remove gens[i] from the queue and free it. */
void instance_drop_generation(struct instance *in, size_t i)
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

void instance_push_generation(struct instance *in, struct generation *g)
{
    if (in->ngens == in->capgens) {
        in->capgens = in->capgens == 0 ? 4 : in->capgens * 2;
        in->gens = xrealloc(in->gens, in->capgens * sizeof(*in->gens));
    }
    in->gens[in->ngens++] = g;
}

struct generation *instance_last(const struct instance *in)
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
 * row when it grew (or, with `first`, for the size found at start-up). */
void generation_note_size(struct instance *in, struct generation *g, int64_t now, int first)
{
    uint64_t size = lineage_size(&g->files);
    const struct aof_file *f;
    struct err e;

    if (!observe_add(&g->obs, now, size) && !first)
        return;
    if (g->files.nconfirmed == 0)
        return;
    f = &g->files.files[g->files.nconfirmed - 1];
    if (index_sizelog_add(in->idx, in->instance_id, g->row.generation, now, f->name, size, &e) != 0)
        instance_fail(in, &in->h_index, "index", &e);
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

/* Open generation N+1 over the files of `l` (moved into it) and record it. */
int instance_open_generation(struct instance *in, struct lineage *l, const char *why, struct err *e)
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
    if (index_generation_add(in->idx, r, e) != 0) {
        err_prefix(e, "cannot record generation %" PRId64, r->generation);
        /* give the files back so that a retry finds them open */
        *l = g->files;
        lineage_init(&g->files);
        generation_free(g);
        return -1;
    }
    in->last_generation = r->generation;
    instance_push_generation(in, g);
    generation_note_size(in, g, now, 1);
    snprintf(detail, sizeof(detail),
             "generation %" PRId64 " opened (%s): base \"%s\" %" PRIu64 " B, incr \"%s\"", r->generation, why,
             r->base_file, r->base_size, r->incr_file);
    log_msg(in->col->log, LOG_INFO, in->name, "%s", detail);
    instance_event(in, "generation", detail);
    return 0;
}

/* Record the end of generation g (not necessarily in the queue). */
int instance_end_generation(struct instance *in, struct gen_row *r, const char *reason, struct err *e)
{
    char detail[DETAIL_MAX];

    r->ended = time_now();
    snprintf(r->end_reason, sizeof(r->end_reason), "%s", reason);
    if (index_generation_update(in->idx, r, e) != 0)
        return -1;
    snprintf(detail, sizeof(detail), "generation %" PRId64 " ended (%s)", r->generation, reason);
    log_msg(in->col->log, LOG_INFO, in->name, "%s", detail);
    instance_event(in, "generation", detail);
    return 0;
}

/* Continuity is lost for the newest generation: end it and wait for a
 * new base from a barrier. */
void instance_lose_continuity(struct instance *in, size_t i, const char *reason, const char *why)
{
    struct generation *g = in->gens[i];
    struct err e;
    char detail[DETAIL_MAX];

    snprintf(detail, sizeof(detail), "generation %" PRId64 ": %.1400s", g->row.generation, why);
    log_msg(in->col->log, LOG_WARN, in->name, "continuity lost: %s", detail);
    instance_event(in, "gap", detail);
    if (instance_end_generation(in, &g->row, reason, &e) != 0)
        instance_fail(in, &in->h_index, "index", &e);
    if (i == in->ngens - 1) {
        free(in->stale_base);
        in->stale_base = xstrdup(lineage_base_name(&g->files));
        in->stale_dev = g->files.base.dev;
        in->stale_ino = g->files.base.ino;
        in->need_base = 1;
        log_msg(in->col->log, LOG_INFO, in->name, "a barrier will provide the base of the next generation");
    }
    instance_drop_generation(in, i);
}

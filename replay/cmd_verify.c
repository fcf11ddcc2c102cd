/* cmd_verify.c - `aofroll verify`: is the archive whole?
 *
 *   aofroll verify -c FILE [--instance NAME] [--quick] [--json]
 *
 * For every generation of every instance (or of --instance), in index
 * order: each base and incr chunk is fetched and decoded, which checks its
 * seal when it is sealed (the AES-GCM tag, docs/encryption.md), its
 * SHA-256 against the index, its gzip member, its length and the CRC32 of
 * its raw bytes; the chunks of a
 * kind must join ([0, a) [a, b) ... with no gap or overlap); a complete
 * base must reach the base size and its whole-file CRC32 must match. Any
 * fault is printed on its own line naming the object, and verify exits 1.
 * --quick reads no object: it lists the storage and checks that every
 * chunk in the index is there with the stored size the index records
 * (a truncated or missing object shows), plus the joins.
 *
 * Then the restorable windows per instance, from what was found intact, by
 * window.h's rule: a generation with a complete, sound base counts from its
 * first second to where the next one takes over, or, when the next does
 * not continue its stream or its own chunks stop at a fault, to the last
 * second it holds; windows that touch are merged, and each gap between two
 * is printed with why the archive stops before it. Objects the storage holds and the index
 * does not are reported but are no fault: the collector stores an object
 * before it records it, so one may be in flight.
 *
 * Nothing is written; the index is opened read-only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "codec.h"
#include "commands.h"
#include "fetch.h"
#include "inspect.h"
#include "json.h"
#include "objname.h"
#include "opt.h"
#include "progress.h"
#include "timeutil.h"
#include "window.h"
#include "xalloc.h"

struct verify_opts {
    const char *config;
    const char *instance;
    const char *cluster; /* --cluster: cluster_inspect.c runs it (cli.h) */
    int quick;
    int json;
};

/* The objects under a generation's prefix, in byte order of key. */
struct verify_object {
    char *key;
    uint64_t size;
    int seen; /* the index names it */
};

struct verify_listing {
    struct verify_object *v;
    size_t n, cap;
};

/* A chunk as the index records it; loaded before any object is read, so
 * that no read transaction stays open while the storage works. */
struct verify_chunk {
    struct fetch_chunk fc;
    uint64_t stored_bytes;
};

struct verify_chunks {
    struct verify_chunk *v;
    size_t n, cap;
};

struct verify {
    struct verify_opts o;
    struct cli cli;
    struct fetch f;
    struct buf out;
    struct json j;
    struct buf raw;
    /* per instance */
    const char *instance;
    struct window_gen *wg; /* the generations, as found */
    size_t nwg, capwg;
    uint64_t orphans;
    /* totals */
    uint64_t chunks, stored, rawbytes, faults;
    uint64_t sealed; /* chunks whose seal opened: their tags are proven */
    char first_fault[1200];
    double t0;
    struct progress progress; /* on a terminal, not with --json: chunks checked */
};

/* Every option of `aofroll verify`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_verify_options[] = {
    CLI_OPT_CONFIG(struct verify_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct verify_opts, instance),
     .arg = "NAME",
     .help = "only this instance (default: all)"},
    CLI_OPT_CLUSTER(struct verify_opts),
    {.name = "quick",
     .kind = OPT_FLAG,
     .off = offsetof(struct verify_opts, quick),
     .help = "check the index and the objects' presence and size only"},
    CLI_OPT_JSON(struct verify_opts),
    CLI_OPT_HELP,
    {0},
};

static int verify_parse_args(struct verify_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_verify_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    return 0;
}

/* ------------------------------------------------------------------------
 * Faults
 * ------------------------------------------------------------------------ */

static void verify_fault(struct verify *v, int64_t generation, const char *kind, const struct fetch_chunk *c,
                         const char *what)
{
    if (v->faults++ == 0)
        snprintf(v->first_fault, sizeof(v->first_fault), "%s generation %" PRId64 " %s: %s", v->instance,
                 generation, kind, what);
    if (v->o.json) {
        json_object_begin(&v->j);
        json_kv_int(&v->j, "generation", generation);
        json_kv_string(&v->j, "kind", kind);
        json_kv_string(&v->j, "key", c != NULL ? c->key : NULL);
        json_key(&v->j, "start");
        if (c != NULL)
            json_uint(&v->j, c->start);
        else
            json_null(&v->j);
        json_key(&v->j, "end");
        if (c != NULL)
            json_uint(&v->j, c->end);
        else
            json_null(&v->j);
        json_kv_string(&v->j, "error", what);
        json_object_end(&v->j);
        return;
    }
    buf_printf(&v->out, "FAULT %s generation %" PRId64 " %s: %s\n", v->instance, generation, kind, what);
}

/* ------------------------------------------------------------------------
 * The storage listing (for --quick and for objects the index lacks)
 * ------------------------------------------------------------------------ */

static int verify_list_add(void *ud, const char *key, uint64_t size)
{
    struct verify_listing *l = ud;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].key = xstrdup(key);
    l->v[l->n].size = size;
    l->v[l->n].seen = 0;
    l->n++;
    return 0;
}

static void verify_listing_free(struct verify_listing *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i].key);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int verify_object_cmp(const void *a, const void *b)
{
    return strcmp(((const struct verify_object *)a)->key, ((const struct verify_object *)b)->key);
}

static struct verify_object *verify_listing_find(struct verify_listing *l, const char *key)
{
    struct verify_object k = {(char *)key, 0, 0};

    return bsearch(&k, l->v, l->n, sizeof(*l->v), verify_object_cmp);
}

/* ------------------------------------------------------------------------
 * One generation
 * ------------------------------------------------------------------------ */

static int verify_chunk_add(void *ud, const struct chunk_row *row)
{
    struct verify_chunks *l = ud;
    struct verify_chunk *c;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    c = &l->v[l->n++];
    fetch_chunk_from_row(row, &c->fc);
    c->fc.key = xstrdup(row->key);
    c->stored_bytes = row->stored_bytes;
    return 0;
}

static void verify_chunks_free(struct verify_chunks *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i].fc.key);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Check the chunks of one kind. *intact_last is the last observed second
 * of the chunks before the first fault (0 if the first one is bad);
 * *sound is 1 when no chunk of this kind has a fault; *end is the end of
 * the joined run from 0. *crc is the CRC32 of the whole run (full mode). */
struct verify_kind_result {
    int sound;
    uint64_t end;
    int64_t intact_last;
    uint32_t crc;
    size_t chunks;
};

static int verify_kind(struct verify *v, const struct gen_row *g, enum chunk_kind kind,
                       const struct verify_chunks *chunks, struct verify_listing *objs,
                       struct verify_kind_result *kr, struct err *e)
{
    const struct verify_chunks *l = chunks;
    const char *kname = kind == CHUNK_BASE ? "base" : "incr";
    struct verify_object *obj;
    char msg[1200];
    struct err ce;
    size_t i;
    int ret = -1, intact = 1;

    memset(kr, 0, sizeof(*kr));
    kr->sound = 1;
    kr->chunks = l->n;
    for (i = 0; i < l->n; i++) {
        const struct fetch_chunk *c = &l->v[i].fc;
        int bad = 0;

        if (c->start != kr->end) {
            snprintf(msg, sizeof(msg), "%s bytes [%" PRIu64 ", %" PRIu64 ") are missing before chunk \"%s\"",
                     kname, kr->end, c->start, c->key);
            if (c->start < kr->end)
                snprintf(msg, sizeof(msg),
                         "chunk \"%s\" starts at %" PRIu64 ", inside the previous chunk (ends %" PRIu64 ")",
                         c->key, c->start, kr->end);
            verify_fault(v, g->generation, kname, c, msg);
            kr->sound = 0;
            intact = 0;
        }
        obj = verify_listing_find(objs, c->key);
        if (obj != NULL)
            obj->seen = 1;
        v->chunks++;
        if (v->o.quick) {
            if (obj == NULL) {
                snprintf(msg, sizeof(msg), "object \"%s\" is missing", c->key);
                bad = 1;
            } else if (l->v[i].stored_bytes != obj->size) {
                snprintf(msg, sizeof(msg), "object \"%s\" holds %" PRIu64 " bytes, the index says %" PRIu64,
                         c->key, obj->size, l->v[i].stored_bytes);
                bad = 1;
            } else {
                v->stored += obj->size;
                v->rawbytes += c->end - c->start;
            }
        } else {
            err_clear(&ce);
            if (fetch_chunk(&v->f, c, &v->raw, &ce) < 0) {
                if (ce.code != ERR_NOTFOUND && ce.code != ERR_CORRUPT) {
                    *e = ce; /* the storage failed, not the chunk */
                    goto out;
                }
                snprintf(msg, sizeof(msg), "%s", ce.msg);
                bad = 1;
            } else {
                kr->crc = codec_crc32(kr->crc, v->raw.data, v->raw.len);
                if (objname_unseal(c->key, NULL, 0, NULL))
                    v->sealed++; /* storage_get opened it: its GCM tag verified */
            }
        }
        if (bad) {
            verify_fault(v, g->generation, kname, c, msg);
            kr->sound = 0;
            intact = 0;
        }
        progress_add(&v->progress, c->end - c->start, 1);
        if (intact && c->last > kr->intact_last)
            kr->intact_last = c->last;
        if (c->end > kr->end)
            kr->end = c->end;
    }
    ret = 0;
out:
    return ret;
}

static void verify_window_add(struct verify *v, const struct gen_row *g, int usable, int broken, int64_t last)
{
    struct window_gen *w;

    if (v->nwg == v->capwg) {
        v->capwg = v->capwg ? v->capwg * 2 : 8;
        v->wg = xrealloc(v->wg, v->capwg * sizeof(*v->wg));
    }
    w = &v->wg[v->nwg++];
    memset(w, 0, sizeof(*w));
    w->row = *g;
    w->usable = usable;
    w->broken = broken;
    w->last = last > g->base_time ? last : g->base_time;
}

static int verify_generation(struct verify *v, const struct gen_row *g, struct err *e)
{
    struct verify_listing objs = {NULL, 0, 0};
    struct verify_chunks base_chunks = {NULL, 0, 0}, incr_chunks = {NULL, 0, 0};
    struct verify_kind_result base, incr;
    char prefix[OBJNAME_MAX], msg[512];
    size_t i;
    int ret = -1;

    if (objname_generation_prefix(v->instance, g->generation, prefix, sizeof(prefix)) < 0) {
        err_set(e, ERR_USAGE, "instance name \"%s\" is too long", v->instance);
        goto out;
    }
    /* the index first: every row read then has its object stored (the
     * collector records a chunk only after storing it), so the listing
     * that follows holds them all, unless they are really gone */
    if (index_chunks(v->cli.idx, g->instance_id, g->generation, CHUNK_BASE, 0, verify_chunk_add, &base_chunks,
                     e) < 0 ||
        index_chunks(v->cli.idx, g->instance_id, g->generation, CHUNK_INCR, 0, verify_chunk_add, &incr_chunks,
                     e) < 0)
        goto out;
    if (storage_list(v->cli.st, prefix, verify_list_add, &objs, e) < 0)
        goto out;
    qsort(objs.v, objs.n, sizeof(*objs.v), verify_object_cmp);
    if (verify_kind(v, g, CHUNK_BASE, &base_chunks, &objs, &base, e) < 0 ||
        verify_kind(v, g, CHUNK_INCR, &incr_chunks, &objs, &incr, e) < 0)
        goto out;
    if (g->base_complete && base.sound) {
        if (base.end != g->base_size) {
            snprintf(msg, sizeof(msg),
                     "the base is marked complete at %" PRIu64 " bytes but its chunks reach %" PRIu64,
                     g->base_size, base.end);
            verify_fault(v, g->generation, "base", NULL, msg);
            base.sound = 0;
        } else if (!v->o.quick && base.crc != g->base_crc32) {
            snprintf(msg, sizeof(msg), "the base's CRC32 is %08" PRIx32 ", the index says %08" PRIx32,
                     base.crc, g->base_crc32);
            verify_fault(v, g->generation, "base", NULL, msg);
            base.sound = 0;
        }
    }
    for (i = 0; i < objs.n; i++)
        if (!objs.v[i].seen)
            v->orphans++;
    if (!v->o.json) {
        buf_printf(&v->out, "%s generation %" PRId64 ": base %zu chunk%s %s, incr %zu chunk%s %s%s\n",
                   v->instance, g->generation, base.chunks, base.chunks == 1 ? "" : "s",
                   base.sound ? "ok" : "FAULTY", incr.chunks, incr.chunks == 1 ? "" : "s",
                   incr.sound ? "ok" : "FAULTY",
                   g->base_complete ? "" : " (base not complete: cannot restore)");
    }
    verify_window_add(v, g, g->base_complete && base.sound, !incr.sound, incr.intact_last);
    ret = 0;
out:
    verify_chunks_free(&base_chunks);
    verify_chunks_free(&incr_chunks);
    verify_listing_free(&objs);
    return ret;
}

/* ------------------------------------------------------------------------
 * Instances
 * ------------------------------------------------------------------------ */

static void verify_windows_out(struct verify *v)
{
    struct window *win = xcalloc(v->nwg ? v->nwg : 1, sizeof(*win));
    size_t nwin = window_list(v->wg, v->nwg, win), i;
    char a[TIME_BUFSZ], b[TIME_BUFSZ];

    if (v->o.json) {
        json_key(&v->j, "windows");
        json_array_begin(&v->j);
        for (i = 0; i < nwin; i++) {
            json_object_begin(&v->j);
            json_kv_time(&v->j, "from", win[i].from);
            json_kv_time(&v->j, "to", win[i].to);
            json_object_end(&v->j);
        }
        json_array_end(&v->j);
        json_key(&v->j, "gaps");
        json_array_begin(&v->j);
        for (i = 0; i + 1 < nwin; i++) {
            json_object_begin(&v->j);
            json_kv_time(&v->j, "from", win[i].to + 1);
            json_kv_time(&v->j, "to", win[i + 1].from - 1);
            json_kv_int(&v->j, "after_generation", v->wg[win[i].last_gen].row.generation);
            json_kv_string(&v->j, "why", window_end_why(v->wg, v->nwg, win[i].last_gen));
            json_object_end(&v->j);
        }
        json_array_end(&v->j);
        free(win);
        return;
    }
    buf_printf(&v->out, "%s: restorable ", v->instance);
    if (nwin == 0)
        buf_appendstr(&v->out, "nowhere (no generation has a complete, sound base)");
    for (i = 0; i < nwin; i++) {
        time_format_utc(win[i].from, a, sizeof(a));
        time_format_utc(win[i].to, b, sizeof(b));
        buf_printf(&v->out, "%sfrom %s to %s", i ? ", " : "", a, b);
    }
    buf_append(&v->out, "\n", 1);
    for (i = 0; i + 1 < nwin; i++) {
        time_format_utc(win[i].to + 1, a, sizeof(a));
        time_format_utc(win[i + 1].from - 1, b, sizeof(b));
        buf_printf(&v->out, "%s: gap from %s to %s: after generation %" PRId64 ", %s\n", v->instance, a, b,
                   v->wg[win[i].last_gen].row.generation, window_end_why(v->wg, v->nwg, win[i].last_gen));
    }
    if (v->orphans > 0)
        buf_printf(&v->out,
                   "%s: %" PRIu64
                   " object%s in storage that the index does not record (in flight, or left by an "
                   "interrupted prune)\n",
                   v->instance, v->orphans, v->orphans == 1 ? "" : "s");
    free(win);
}

static int verify_instance(struct verify *v, const struct cli_selected *in, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    size_t i;
    int ret = -1;

    v->instance = in->name;
    v->nwg = 0;
    v->orphans = 0;
    fetch_init(&v->f, v->cli.idx, v->cli.st, in->name, in->id);
    if (v->o.json) {
        json_object_begin(&v->j);
        json_kv_string(&v->j, "instance", in->name);
        json_key(&v->j, "faults");
        json_array_begin(&v->j);
    }
    if (in->id >= 0 && inspect_gens_load(v->cli.idx, in->id, &gens, e) < 0)
        goto out;
    if (gens.n == 0 && !v->o.json)
        buf_printf(&v->out, "%s: nothing archived yet\n", in->name);
    for (i = 0; i < gens.n; i++)
        if (verify_generation(v, &gens.v[i].g, e) < 0)
            goto out;
    if (v->o.json) {
        json_array_end(&v->j);
        json_kv_uint(&v->j, "generations", gens.n);
        json_kv_uint(&v->j, "objects_not_in_index", v->orphans);
    }
    verify_windows_out(v);
    if (v->o.json)
        json_object_end(&v->j);
    ret = 0;
out:
    v->stored += v->f.stored_bytes;
    v->rawbytes += v->f.raw_bytes;
    fetch_free(&v->f);
    inspect_gens_free(&gens);
    return ret;
}

static int verify_count_chunk(void *ud, const struct chunk_row *c)
{
    uint64_t *sums = ud;

    sums[0] += c->end - c->start;
    sums[1]++;
    return 0;
}

/* What the progress line counts to: every chunk of the selection. */
static int verify_progress_total(struct verify *v, const struct cli_selection *sel, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    uint64_t sums[2] = {0, 0};
    size_t i, k;
    int ret = -1;

    if (v->progress.fp == NULL)
        return 0;
    for (i = 0; i < sel->n; i++) {
        if (sel->v[i].id < 0)
            continue;
        if (inspect_gens_load(v->cli.idx, sel->v[i].id, &gens, e) < 0)
            goto out;
        for (k = 0; k < gens.n; k++)
            if (index_chunks(v->cli.idx, sel->v[i].id, gens.v[k].g.generation, CHUNK_BASE, 0,
                             verify_count_chunk, sums, e) < 0 ||
                index_chunks(v->cli.idx, sel->v[i].id, gens.v[k].g.generation, CHUNK_INCR, 0,
                             verify_count_chunk, sums, e) < 0)
                goto out;
        inspect_gens_free(&gens);
    }
    progress_total(&v->progress, sums[0], sums[1]);
    ret = 0;
out:
    inspect_gens_free(&gens);
    return ret;
}

static int verify_run(struct verify *v, struct err *e)
{
    struct cli_selection sel = {NULL, 0};
    char stored[32], raw[32];
    size_t i;
    int ret = -1;

    v->t0 = time_monotonic();
    progress_init(&v->progress, "verify", v->o.json);
    json_init(&v->j, stdout);
    if (cli_open(&v->cli, v->o.config, 1, e) < 0 || cli_select(&v->cli, v->o.instance, &sel, e) < 0 ||
        verify_progress_total(v, &sel, e) < 0)
        goto out;
    if (v->o.json) {
        json_object_begin(&v->j);
        json_kv_string(&v->j, "mode", v->o.quick ? "quick" : "full");
        json_key(&v->j, "instances");
        json_array_begin(&v->j);
    }
    for (i = 0; i < sel.n; i++) {
        if (verify_instance(v, &sel.v[i], e) < 0)
            goto out;
        progress_end(&v->progress);
        if (!v->o.json && inspect_flush_stdout(&v->out, e) < 0)
            goto out;
    }
    if (v->o.json) {
        json_array_end(&v->j);
        json_kv_uint(&v->j, "chunks", v->chunks);
        json_kv_uint(&v->j, "sealed", v->sealed);
        json_kv_uint(&v->j, "faults", v->faults);
        json_object_end(&v->j);
        if (json_finish(&v->j, e) < 0)
            goto out;
    } else {
        inspect_size(v->stored, stored, sizeof(stored));
        inspect_size(v->rawbytes, raw, sizeof(raw));
        buf_printf(&v->out, "%s %" PRIu64 " chunk%s (%s stored, %s raw) in %.1f s",
                   v->o.quick ? "checked the presence of" : "verified", v->chunks, v->chunks == 1 ? "" : "s",
                   stored, raw, time_monotonic() - v->t0);
        if (v->sealed > 0)
            buf_printf(&v->out, ", %" PRIu64 " of them sealed (each tag proven)", v->sealed);
        buf_printf(&v->out, ": %" PRIu64 " fault%s\n", v->faults, v->faults == 1 ? "" : "s");
        if (inspect_flush_stdout(&v->out, e) < 0)
            goto out;
    }
    if (v->faults > 0) {
        err_set(e, ERR_CORRUPT, "%" PRIu64 " fault%s found, the first: %s", v->faults,
                v->faults == 1 ? "" : "s", v->first_fault);
        goto out;
    }
    ret = 0;
out:
    progress_end(&v->progress);
    cli_selection_free(&sel);
    return ret;
}

int cmd_verify(int argc, char **argv)
{
    struct verify v;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&v, 0, sizeof(v));
    err_clear(&e);
    cli_init(&v.cli, "verify");
    rc = verify_parse_args(&v.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "verify");
        goto out;
    }
    if (rc < 0 || verify_run(&v, &e) < 0)
        status = cli_fail("verify", &e);
out:
    free(v.wg);
    buf_free(&v.raw);
    buf_free(&v.out);
    json_free(&v.j);
    fetch_free(&v.f);
    cli_close(&v.cli);
    return status;
}

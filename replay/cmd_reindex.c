/* cmd_reindex.c - `aofroll reindex`: rebuild the index from storage alone.
 *
 *   aofroll reindex -c FILE [--instance NAME] [--no-index-copy]
 *
 * The index off the box: a machine that has nothing but the storage URL
 * and its credentials can rebuild a complete index from the object names
 * (objname.h) and then list, verify and restore. Per configured instance
 * (or the one named):
 *
 *  1. list "<instance>/" and parse every key as a chunk name (sealed ones,
 *     "....aof.gz.<key id>.enc", included: storage_get opens them). Keys
 *     that are not chunk names are skipped ("<instance>/index.db" and the
 *     like); one under "<instance>/gen-" that does not parse is reported.
 *  2. fetch every chunk object and check it: its gzip trailer (CRC32 and
 *     ISIZE, little-endian) must give the length its name says, and the
 *     member must inflate to exactly that many bytes with that CRC. A
 *     chunk that fails is reported as corrupt and left out (reindex then
 *     exits 1; a later verify or restore names the gap it leaves). The
 *     trailer's CRC32 is the chunk's CRC and the object's size its stored
 *     bytes.
 *     A CRC anyone can compute, so the names and CRCs alone would let
 *     whoever can write to the bucket slip commands into a restore. When
 *     the storage holds the index copy the collector uploads
 *     ("<instance>/index.db", maybe sealed: indexcopy.c), it is fetched
 *     first and every chunk it records must have the SHA-256 it records
 *     (of the gzip member; a chunk sealed otherwise since the copy was
 *     made is matched by its plain name); a chunk the copy does not
 *     record but whose bytes it covers with another chunk is left out as
 *     corrupt; chunks newer than the copy are indexed and counted as not
 *     checked. A copy that cannot be read (garbage, a newer schema) stops
 *     the reindex unless --no-index-copy says to rebuild from the names
 *     alone. The rebuilt rows record every object's SHA-256, so later
 *     restores check them.
 *  3. plan the rows (reindex_plan.h): per generation, the chunks that join,
 *     the base's format, size, time and whole-file CRC, and what is left
 *     out and why; and what the AOF scanner saw in the incr chunks (they
 *     are scanned in key order as they are checked), for each chunk's
 *     marks, each generation's exactness and lead second.
 *  4. in ONE transaction: delete the instance's generations (with their
 *     chunks and size log), insert the planned rows, and a size log made
 *     from the incr chunks (at each chunk's last second, its end offset),
 *     so that a restore without #TS annotations still cuts at chunk
 *     precision. A "reindex" event records what was done.
 *
 * Everything is read from storage before the transaction opens, so the
 * index is write-locked only for the inserts. An instance with no sound
 * chunk in storage leaves its rows as they were (a wrong storage URL must
 * not wipe an index). Then a summary: per generation its base and incr, per
 * instance the totals, the problems and the restorable windows. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "commands.h"
#include "fetch.h"
#include "indexcopy.h"
#include "inspect.h"
#include "objname.h"
#include "opt.h"
#include "outdir.h"
#include "progress.h"
#include "reindex_plan.h"
#include "text.h"
#include "timeutil.h"
#include "xalloc.h"

/* a gzip member: 10 bytes of header, 8 of trailer, and the deflate data */
#define REINDEX_GZIP_MIN 18

struct reindex_opts {
    const char *config;
    const char *instance;
    int no_copy; /* --no-index-copy */
};

/* The index copy from storage, for one instance: what its chunks' digests
 * were when it was made. */
struct reindex_copy {
    struct index *idx;   /* NULL: no copy (or --no-index-copy) */
    char *path;          /* its temp file */
    int64_t instance_id; /* in the copy */
    size_t verified;     /* objects whose SHA-256 the copy confirmed */
    size_t unchecked;    /* objects the copy does not record (newer than it) */
    char first_unchecked[OBJNAME_MAX];
};

struct reindex {
    struct reindex_opts o;
    /* incr objects through the AOF scanner, in key order, per generation */
    struct chunkscan scan;
    int64_t scan_gen;
    const struct reindex_object *scan_last;
    struct cli cli;
    struct buf out; /* the report, flushed after each instance */
    struct buf gz;  /* the object being checked */
    struct buf raw; /* its raw bytes */
    struct reindex_copy copy;
    size_t corrupt; /* corrupt objects, all instances */
    char first_corrupt[1200];
    struct progress progress; /* on a terminal: objects checked */
};

/* The objects of one instance that parse as chunk names. */
struct reindex_listing {
    const char *instance;
    char gen_prefix[OBJNAME_MAX + 8]; /* "<instance>/gen-" */
    struct reindex_object *v;
    size_t n, cap;
    size_t others; /* keys that are not chunk names */
    struct reindex_problems *pr;
};

/* Every option of `aofroll reindex`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_reindex_options[] = {
    CLI_OPT_CONFIG(struct reindex_opts, "configuration file (the index is written where it says)"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct reindex_opts, instance),
     .arg = "NAME",
     .help = "only this instance (default: every configured one)"},
    {.name = "no-index-copy",
     .kind = OPT_FLAG,
     .off = offsetof(struct reindex_opts, no_copy),
     .help = "do not check chunks against the index copy in storage (one that\ncannot be read): adopt them "
             "by their names and CRCs alone"},
    CLI_OPT_HELP,
    {0},
};

static int reindex_parse_args(struct reindex_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_reindex_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    return 0;
}

/* ------------------------------------------------------------------------
 * Listing and checking the objects
 * ------------------------------------------------------------------------ */

static int reindex_list_add(void *ud, const char *key, uint64_t size)
{
    struct reindex_listing *l = ud;
    struct reindex_object *o;
    struct chunk_name name;
    struct err pe;

    (void)size; /* the object's size is taken when it is fetched */
    err_clear(&pe);
    if (objname_parse_chunk(key, &name, &pe) < 0) {
        l->others++;
        if (strncmp(key, l->gen_prefix, strlen(l->gen_prefix)) == 0)
            reindex_problem_add(l->pr, 0, "%s; not indexed", pe.msg);
        return 0;
    }
    if (strcmp(name.instance, l->instance) != 0) { /* cannot happen under "<instance>/" */
        l->others++;
        return 0;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    o = &l->v[l->n++];
    memset(o, 0, sizeof(*o));
    o->key = xstrdup(key);
    o->name = name;
    return 0;
}

static void reindex_listing_free(struct reindex_listing *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i].key);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static uint32_t reindex_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void reindex_corrupt(struct reindex *r, struct reindex_problems *pr, const char *text)
{
    if (r->corrupt++ == 0)
        text_copy(r->first_corrupt, sizeof(r->first_corrupt), text);
    reindex_problem_add(pr, 1, "%s; not indexed", text);
}

/* ------------------------------------------------------------------------
 * The index copy
 * ------------------------------------------------------------------------ */

static void reindex_copy_close(struct reindex_copy *c)
{
    if (c->idx != NULL)
        index_close(c->idx);
    if (c->path != NULL)
        unlink(c->path);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

/* Fetch "<instance>/index.db" into a temp file beside the index and open
 * it. No copy in storage, or one that does not know the instance: c->idx
 * stays NULL and the report says so. */
static int reindex_copy_open(struct reindex *r, const char *instance, struct buf *out, struct err *e)
{
    struct reindex_copy *c = &r->copy;
    struct buf bytes = BUF_INIT;
    char key[OBJNAME_MAX];
    int fd = -1, ret = -1;

    memset(c, 0, sizeof(*c));
    if (r->o.no_copy) {
        buf_printf(out,
                   "%s: not checking against an index copy (--no-index-copy): chunks are adopted by their "
                   "names and gzip CRCs alone\n",
                   instance);
        return 0;
    }
    if (indexcopy_find(r->cli.st, instance, key, sizeof(key), e) < 0 ||
        storage_get(r->cli.st, key, &bytes, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            goto out;
        err_clear(e);
        if (objname_index(instance, key, sizeof(key)) < 0)
            return err_set(e, ERR_CONFIG, "instance name \"%s\" cannot name an object", instance);
        buf_printf(out,
                   "%s: no index copy \"%s\" in storage: chunks are adopted by their names and gzip CRCs "
                   "alone, unchecked\n",
                   instance, key);
        ret = 0;
        goto out;
    }
    c->path = xasprintf("%s.copy-XXXXXX", r->cli.cfg.index_path);
    fd = mkostemp(c->path, O_CLOEXEC);
    if (fd < 0) {
        err_sys(e, errno, "create \"%s\"", c->path);
        free(c->path);
        c->path = NULL;
        goto out;
    }
    if (outdir_write_all(fd, bytes.data, bytes.len, c->path, e) < 0)
        goto out;
    if (index_open_copy(c->path, &c->idx, e) < 0) {
        err_prefix(e,
                   "the index copy \"%s\" in storage cannot be read HINT: --no-index-copy rebuilds from the "
                   "object names alone, unchecked",
                   key);
        goto out;
    }
    if (index_instance_id(c->idx, instance, 0, &c->instance_id, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            goto out;
        err_clear(e);
        index_close(c->idx);
        c->idx = NULL;
        buf_printf(out, "%s: the index copy \"%s\" does not know \"%s\": chunks are adopted unchecked\n",
                   instance, key, instance);
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    buf_free(&bytes);
    return ret;
}

/* The first chunk of the copy in o's (generation, kind) that ends after
 * o starts. */
struct reindex_cover {
    int found;
    struct chunk_row row;
};

static int reindex_cover_cb(void *ud, const struct chunk_row *c)
{
    struct reindex_cover *cv = ud;

    cv->found = 1;
    cv->row = *c;
    return 1;
}

/* 1 when two keys name the same chunk, sealed or not: equal once the seal
 * suffixes are taken off. */
static int reindex_same_chunk(const char *a, const char *b)
{
    char pa[OBJNAME_MAX], pb[OBJNAME_MAX];

    if (!objname_unseal(a, pa, sizeof(pa), NULL))
        snprintf(pa, sizeof(pa), "%s", a);
    if (!objname_unseal(b, pb, sizeof(pb), NULL))
        snprintf(pb, sizeof(pb), "%s", b);
    return strcmp(pa, pb) == 0;
}

/* o (its digest computed) against `row`, the copy's row of its chunk: 0
 * sound (or no digest recorded), 1 left out as corrupt. */
static int reindex_copy_compare(struct reindex *r, const struct reindex_object *o,
                                const struct chunk_row *row, struct reindex_problems *pr)
{
    char have[CODEC_SHA256_HEX], want[CODEC_SHA256_HEX], as[OBJNAME_MAX + 8] = "", text[1800];

    if (!row->has_sha256 || memcmp(row->sha256, o->sha256, sizeof(row->sha256)) == 0) {
        r->copy.verified += row->has_sha256 ? 1 : 0;
        return 0;
    }
    codec_sha256_hex(o->sha256, have);
    codec_sha256_hex(row->sha256, want);
    if (strcmp(row->key, o->key) != 0)
        snprintf(as, sizeof(as), " (as \"%s\")", row->key);
    snprintf(
        text, sizeof(text),
        "chunk \"%s\": its SHA-256 is %.16s..., the index copy records %.16s...%s: not the object that was "
        "archived",
        o->key, have, want, as);
    reindex_corrupt(r, pr, text);
    return 1;
}

/* Check o (its digest computed) against the index copy: 0 sound (or not
 * recorded there), 1 left out as corrupt, -1 error. */
static int reindex_copy_check(struct reindex *r, struct reindex_object *o, struct reindex_problems *pr,
                              struct err *e)
{
    struct reindex_copy *c = &r->copy;
    struct reindex_cover cv;
    struct chunk_row row;
    char text[1200];

    if (c->idx == NULL)
        return 0;
    if (index_chunk_by_key(c->idx, o->key, &row, e) == 0)
        return reindex_copy_compare(r, o, &row, pr);
    if (e->code != ERR_NOTFOUND)
        return -1;
    err_clear(e);
    memset(&cv, 0, sizeof(cv));
    if (index_chunks(c->idx, c->instance_id, o->name.generation, o->name.kind, o->name.start,
                     reindex_cover_cb, &cv, e) < 0)
        return -1;
    /* sealed otherwise since the copy was made (encryption turned on,
     * aofroll rekey): the digest is the gzip member's either way */
    if (cv.found && reindex_same_chunk(o->key, cv.row.key))
        return reindex_copy_compare(r, o, &cv.row, pr);
    if (cv.found && cv.row.start < o->name.end) {
        snprintf(text, sizeof(text),
                 "chunk \"%s\" is not in the index copy, which records \"%s\" for bytes [%" PRIu64
                 ", %" PRIu64 ") of that generation: not the object that was archived",
                 o->key, cv.row.key, cv.row.start, cv.row.end);
        reindex_corrupt(r, pr, text);
        return 1;
    }
    if (c->unchecked++ == 0)
        snprintf(c->first_unchecked, sizeof(c->first_unchecked), "%s", o->key);
    return 0;
}

/* Fetch one chunk object and check it (see the top of the file). 0: sound,
 * o->crc32 and o->stored_bytes set; 1: left out, a problem noted; -1: an
 * error that stops the reindex. */
static int reindex_check(struct reindex *r, struct reindex_object *o, struct reindex_problems *pr,
                         struct err *e)
{
    uint64_t len = o->name.end - o->name.start;
    const unsigned char *trailer;
    char text[1200];
    uint32_t isize;
    struct err ce;
    int rc;

    buf_reset(&r->gz);
    buf_reset(&r->raw);
    if (storage_get(r->cli.st, o->key, &r->gz, e) < 0) {
        if (e->code != ERR_NOTFOUND) {
            if (strstr(e->msg, o->key) == NULL)
                err_prefix(e, "object \"%s\"", o->key);
            return -1;
        }
        err_clear(e);
        reindex_problem_add(pr, 0, "object \"%s\" vanished after the listing; not indexed", o->key);
        return 1;
    }
    if (r->gz.len < REINDEX_GZIP_MIN) {
        snprintf(text, sizeof(text), "chunk \"%s\" holds %zu bytes, too few for a gzip member", o->key,
                 r->gz.len);
        reindex_corrupt(r, pr, text);
        return 1;
    }
    trailer = (const unsigned char *)r->gz.data + r->gz.len - 8;
    isize = reindex_le32(trailer + 4);
    if (isize != (uint32_t)len) {
        snprintf(text, sizeof(text),
                 "chunk \"%s\": its gzip trailer gives a length of %" PRIu32 " bytes, its name [%" PRIu64
                 ", %" PRIu64 ") %" PRIu64,
                 o->key, isize, o->name.start, o->name.end, len);
        reindex_corrupt(r, pr, text);
        return 1;
    }
    o->crc32 = reindex_le32(trailer);
    err_clear(&ce);
    if (codec_decode(r->gz.data, r->gz.len, len, o->crc32, o->key, &r->raw, &ce) < 0) {
        if (ce.code != ERR_CORRUPT) {
            *e = ce;
            return -1;
        }
        reindex_corrupt(r, pr, ce.msg);
        return 1;
    }
    o->stored_bytes = storage_stored_size(o->key, r->gz.len);
    codec_sha256(r->gz.data, r->gz.len, o->sha256); /* the gzip member's, sealed or not */
    rc = reindex_copy_check(r, o, pr, e);
    if (rc != 0)
        return rc;
    if (o->name.kind == CHUNK_INCR) {
        if (o->name.generation != r->scan_gen) {
            chunkscan_init(&r->scan, 0, 0, 0);
            r->scan_gen = o->name.generation;
            r->scan_last = NULL;
        }
        if (o->name.start == chunkscan_offset(&r->scan)) {
            chunkscan_chunk(&r->scan, r->raw.data, r->raw.len, &o->marks);
            o->scanned = 1;
            o->scan_prev = r->scan_last;
            r->scan_last = o;
        }
    }
    return 0;
}

/* List the instance's objects and keep the sound chunk objects in l. */
static int reindex_scan(struct reindex *r, struct reindex_listing *l, struct err *e)
{
    char prefix[OBJNAME_MAX];
    uint64_t bytes = 0;
    size_t i, m = 0;
    int rc, ret = 0;

    if (objname_instance_prefix(l->instance, prefix, sizeof(prefix)) < 0)
        return err_set(e, ERR_CONFIG, "instance name \"%s\" cannot name an object", l->instance);
    snprintf(l->gen_prefix, sizeof(l->gen_prefix), "%sgen-", prefix);
    r->scan_gen = 0; /* each instance's generations are scanned afresh */
    if (storage_list(r->cli.st, prefix, reindex_list_add, l, e) < 0)
        return -1;
    progress_init(&r->progress, "reindex", 0);
    for (i = 0; i < l->n; i++)
        bytes += l->v[i].name.end - l->v[i].name.start;
    progress_total(&r->progress, bytes, l->n);
    /* after an error the objects not yet checked stay, to be freed */
    for (i = 0; i < l->n; i++) {
        rc = ret == 0 ? reindex_check(r, &l->v[i], l->pr, e) : 0;
        progress_add(&r->progress, l->v[i].name.end - l->v[i].name.start, 1);
        if (rc < 0)
            ret = -1;
        if (rc > 0)
            free(l->v[i].key);
        else
            l->v[m++] = l->v[i];
    }
    l->n = m;
    return ret;
}

/* ------------------------------------------------------------------------
 * Writing the index
 * ------------------------------------------------------------------------ */

struct reindex_genlist {
    int64_t *v;
    size_t n, cap;
};

static int reindex_genlist_add(void *ud, const struct gen_row *g)
{
    struct reindex_genlist *l = ud;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = g->generation;
    return 0;
}

static int reindex_add_chunk(struct index *idx, int64_t instance_id, const struct reindex_gen *g,
                             const struct reindex_object *o, struct err *e)
{
    struct chunk_row row;

    memset(&row, 0, sizeof(row));
    row.instance_id = instance_id;
    row.generation = g->row.generation;
    row.kind = o->name.kind;
    row.start = o->name.start;
    row.end = o->name.end;
    row.crc32 = o->crc32;
    row.stored_bytes = o->stored_bytes;
    /* base chunks count as observed at their generation's base time */
    row.first = o->name.kind == CHUNK_BASE ? g->row.base_time : o->name.first;
    row.last = o->name.kind == CHUNK_BASE ? g->row.base_time : o->name.last;
    row.marks_known = o->marks.known;
    row.ts_first = o->marks.ts_first;
    row.ts_last = o->marks.ts_last;
    row.boundary = o->marks.boundary;
    row.boundary_db = o->marks.boundary_db;
    row.boundary_ts = o->marks.boundary_ts;
    snprintf(row.key, sizeof(row.key), "%s", o->key);
    memcpy(row.sha256, o->sha256, sizeof(row.sha256));
    row.has_sha256 = 1;
    if (index_chunk_add(idx, &row, e) < 0)
        return -1;
    /* the approximate size log: the stream had reached the chunk's end by
     * the last second its bytes were observed in */
    if (o->name.kind == CHUNK_INCR &&
        index_sizelog_add(idx, instance_id, g->row.generation, o->name.last, "", o->name.end, e) < 0)
        return -1;
    return 0;
}

/* Replace the instance's rows with the plan's, in one transaction. */
static int reindex_write(struct reindex *r, const char *instance, const struct reindex_plan *plan,
                         size_t nchunks, int64_t *instance_id, struct err *e)
{
    struct index *idx = r->cli.idx;
    struct reindex_genlist old = {NULL, 0, 0};
    char detail[256];
    size_t i, j;
    int ret = -1;

    if (index_begin(idx, e) < 0)
        goto out;
    if (index_instance_id(idx, instance, 1, instance_id, e) < 0 ||
        index_generations(idx, *instance_id, reindex_genlist_add, &old, e) < 0)
        goto out;
    for (i = 0; i < old.n; i++)
        if (index_generation_delete(idx, *instance_id, old.v[i], e) < 0)
            goto out;
    for (i = 0; i < plan->n; i++) {
        const struct reindex_gen *g = &plan->v[i];
        struct gen_row row = g->row;

        row.instance_id = *instance_id;
        if (index_generation_add(idx, &row, e) < 0)
            goto out;
        for (j = 0; j < g->nbase; j++)
            if (reindex_add_chunk(idx, *instance_id, g, g->base[j], e) < 0)
                goto out;
        for (j = 0; j < g->nincr; j++)
            if (reindex_add_chunk(idx, *instance_id, g, g->incr[j], e) < 0)
                goto out;
    }
    snprintf(detail, sizeof(detail),
             "index rebuilt from storage: %zu generation%s, %zu chunk%s (was %zu generation%s)", plan->n,
             plan->n == 1 ? "" : "s", nchunks, nchunks == 1 ? "" : "s", old.n, old.n == 1 ? "" : "s");
    if (index_event_add(idx, *instance_id, time_now(), "reindex", detail, e) < 0 || index_commit(idx, e) < 0)
        goto out;
    ret = 0;
out:
    if (ret < 0) {
        index_rollback(idx);
        err_prefix(e, "index of \"%s\" left as it was", instance);
    }
    free(old.v);
    return ret;
}

/* ------------------------------------------------------------------------
 * The report
 * ------------------------------------------------------------------------ */

static void reindex_report_gen(struct buf *out, const char *instance, const struct reindex_gen *g)
{
    char bt[TIME_BUFSZ], first[TIME_BUFSZ], last[TIME_BUFSZ];
    uint64_t base_end = g->nbase > 0 ? g->base[g->nbase - 1]->name.end : 0;

    inspect_time(g->row.base_time, bt, sizeof(bt));
    buf_printf(
        out, "%s generation %" PRId64 ": base %s %s, %" PRIu64 " of %" PRIu64 " bytes in %zu chunk%s%s",
        instance, g->row.generation, bt, g->row.base_format == BASE_RDB ? "rdb" : "aof", base_end,
        g->row.base_size, g->nbase, g->nbase == 1 ? "" : "s", g->row.base_complete ? "" : " (incomplete)");
    if (g->nincr > 0) {
        inspect_time(g->incr[0]->name.first, first, sizeof(first));
        inspect_time(g->incr[g->nincr - 1]->name.last, last, sizeof(last));
        buf_printf(out, "; incr %" PRIu64 " bytes in %zu chunk%s, observed %s to %s",
                   g->incr[g->nincr - 1]->name.end, g->nincr, g->nincr == 1 ? "" : "s", first, last);
    } else {
        buf_appendstr(out, "; no incr chunks");
    }
    buf_appendstr(out, "\n");
}

static int reindex_report(struct reindex *r, const char *instance, int64_t instance_id,
                          const struct reindex_plan *plan, const struct reindex_problems *pr, struct err *e)
{
    struct fetch f;
    char stored[32], raw[32];
    uint64_t sb = 0, rb = 0;
    size_t i, nchunks = 0;
    int ret = -1;

    fetch_init(&f, r->cli.idx, r->cli.st, instance, instance_id);
    for (i = 0; i < plan->n; i++) {
        reindex_report_gen(&r->out, instance, &plan->v[i]);
        nchunks += plan->v[i].nbase + plan->v[i].nincr;
        sb += plan->v[i].stored_bytes;
        rb += plan->v[i].raw_bytes;
    }
    inspect_size(sb, stored, sizeof(stored));
    inspect_size(rb, raw, sizeof(raw));
    buf_printf(&r->out,
               "%s: %zu generation%s, %zu chunk%s, %s stored (%" PRIu64 " bytes), %s raw, %zu problem%s"
               " (%zu corrupt)\n",
               instance, plan->n, plan->n == 1 ? "" : "s", nchunks, nchunks == 1 ? "" : "s", stored, sb, raw,
               pr->n, pr->n == 1 ? "" : "s", pr->corrupt);
    buf_printf(&r->out, "%s: restorable ", instance);
    if (fetch_windows(&f, &r->out, e) < 0)
        goto out;
    buf_appendstr(&r->out, "\n");
    ret = 0;
out:
    fetch_free(&f);
    return ret;
}

/* ------------------------------------------------------------------------
 * One instance, all instances
 * ------------------------------------------------------------------------ */

static int reindex_instance(struct reindex *r, const struct instance_config *ic, struct err *e)
{
    struct reindex_problems pr = {NULL, 0, 0, 0};
    struct reindex_listing l;
    struct reindex_plan plan = {NULL, 0};
    int64_t instance_id = -1;
    size_t i, nchunks = 0;
    int ret = -1;

    memset(&l, 0, sizeof(l));
    l.instance = ic->name;
    l.pr = &pr;
    buf_printf(&r->out, "%s: reading \"%s/\" in %s\n", ic->name, ic->name, r->cli.st->url);
    if (reindex_copy_open(r, ic->name, &r->out, e) < 0 || inspect_flush_stdout(&r->out, e) < 0)
        goto out;
    ret = reindex_scan(r, &l, e);
    progress_end(&r->progress);
    if (ret < 0)
        goto out;
    ret = -1;
    if (r->copy.idx != NULL) {
        buf_printf(&r->out, "%s: checked against the index copy: %zu chunk%s with the SHA-256 it records",
                   ic->name, r->copy.verified, r->copy.verified == 1 ? "" : "s");
        if (r->copy.unchecked > 0)
            buf_printf(&r->out, "; %zu newer than the copy, unchecked (from \"%s\")", r->copy.unchecked,
                       r->copy.first_unchecked);
        buf_appendstr(&r->out, "\n");
    }
    reindex_plan_build(l.v, l.n, ic->mode, &plan, &pr);
    reindex_plan_marks(&plan);
    for (i = 0; i < pr.n; i++)
        buf_printf(&r->out, "%s: %s: %s\n", ic->name, pr.v[i].corrupt ? "corrupt" : "warning", pr.v[i].text);
    for (i = 0; i < plan.n; i++)
        nchunks += plan.v[i].nbase + plan.v[i].nincr;
    if (plan.n == 0) {
        buf_printf(&r->out, "%s: no chunks to index under \"%s/\"; its index rows are left as they were\n",
                   ic->name, ic->name);
        ret = inspect_flush_stdout(&r->out, e);
        goto out;
    }
    if (reindex_write(r, ic->name, &plan, nchunks, &instance_id, e) < 0)
        goto out;
    if (reindex_report(r, ic->name, instance_id, &plan, &pr, e) < 0)
        goto out;
    ret = inspect_flush_stdout(&r->out, e);
out:
    reindex_copy_close(&r->copy);
    reindex_plan_free(&plan);
    reindex_listing_free(&l);
    reindex_problems_free(&pr);
    return ret;
}

static int reindex_run(struct reindex *r, struct err *e)
{
    const struct instance_config *ic;
    int i;

    if (cli_open(&r->cli, r->o.config, 0, e) < 0) {
        /* the index's own hint would send the user back here */
        char *hint = strstr(e->msg, "HINT: rebuild it with aofroll reindex");

        if (hint != NULL)
            snprintf(hint, sizeof(e->msg) - (size_t)(hint - e->msg),
                     "HINT: move it away, and reindex builds a new one");
        return -1;
    }
    if (r->o.instance != NULL) {
        /* an index that has never seen the instance is what reindex is for */
        if (cli_instance(&r->cli, r->o.instance, e) < 0) {
            if (e->code != ERR_NOTFOUND)
                return -1;
            err_clear(e);
        }
        ic = config_instance(&r->cli.cfg, r->o.instance);
        return reindex_instance(r, ic, e);
    }
    for (i = 0; i < r->cli.cfg.ninstances; i++)
        if (reindex_instance(r, &r->cli.cfg.instances[i], e) < 0)
            return -1;
    return 0;
}

int cmd_reindex(int argc, char **argv)
{
    struct reindex r;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&r, 0, sizeof(r));
    err_clear(&e);
    cli_init(&r.cli, "reindex");
    rc = reindex_parse_args(&r.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "reindex");
        goto out;
    }
    if (rc < 0 || reindex_run(&r, &e) < 0) {
        struct err ignored;

        /* what was rebuilt before the failure is worth seeing */
        inspect_flush_stdout(&r.out, &ignored);
        status = cli_fail("reindex", &e);
    } else if (r.corrupt > 0) {
        err_set(&e, ERR_CORRUPT, "%zu corrupt object%s not indexed, the first: %s", r.corrupt,
                r.corrupt == 1 ? "" : "s", r.first_corrupt);
        status = cli_fail("reindex", &e);
    }
out:
    buf_free(&r.out);
    buf_free(&r.gz);
    buf_free(&r.raw);
    cli_close(&r.cli);
    return status;
}

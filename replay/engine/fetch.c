/* fetch.c - reading one generation's chunks back out of the archive, and
 * describing which times the archive can restore. See fetch.h. */
#include "fetch.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "window.h"
#include "quote.h"
#include "timeutil.h"
#include "xalloc.h"

void fetch_init(struct fetch *f, struct index *idx, struct storage *st, const char *instance,
                int64_t instance_id)
{
    memset(f, 0, sizeof(*f));
    f->idx = idx;
    f->st = st;
    f->instance = instance;
    f->instance_id = instance_id;
}

void fetch_free(struct fetch *f)
{
    buf_free(&f->gz);
}

/* ------------------------------------------------------------------ */
/* Chunk lists                                                          */
/* ------------------------------------------------------------------ */

void fetch_chunk_from_row(const struct chunk_row *row, struct fetch_chunk *out)
{
    out->generation = row->generation;
    out->kind = row->kind;
    out->start = row->start;
    out->end = row->end;
    out->crc32 = row->crc32;
    out->first = row->first;
    out->last = row->last;
    out->has_sha256 = row->has_sha256;
    memcpy(out->sha256, row->sha256, sizeof(out->sha256));
    out->key = (char *)row->key;
}

static int fetch_list_add(void *ud, const struct chunk_row *row)
{
    struct fetch_list *l = ud;
    struct fetch_chunk *c;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    c = &l->v[l->n++];
    fetch_chunk_from_row(row, c);
    c->key = xstrdup(row->key);
    return 0;
}

int fetch_list(struct fetch *f, int64_t generation, enum chunk_kind kind, uint64_t from, struct fetch_list *l,
               struct err *e)
{
    memset(l, 0, sizeof(*l));
    if (index_chunks(f->idx, f->instance_id, generation, kind, from, fetch_list_add, l, e) < 0) {
        fetch_list_free(l);
        return -1;
    }
    return 0;
}

void fetch_list_free(struct fetch_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i].key);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------------ */
/* One chunk                                                            */
/* ------------------------------------------------------------------ */

int fetch_check_key(const char *instance, const struct fetch_chunk *c, struct err *e)
{
    struct chunk_name name;
    char shown[QUOTE_NAME_BUFSZ];

    /* the row's key must be the canonical name of the row's own chunk: an
     * edited index cannot make a restore read (or delete remove) another
     * instance's objects, or anything outside the archive's names */
    if (objname_parse_chunk(c->key, &name, e) < 0 || strcmp(name.instance, instance) != 0 ||
        name.generation != c->generation || name.kind != c->kind || name.start != c->start ||
        name.end != c->end)
        return err_set(
            e, ERR_CORRUPT,
            "the index names object %s for %s chunk [%llu, %llu) of \"%s\" generation %lld: not that "
            "chunk's name HINT: rebuild the index with aofroll reindex",
            quote_name(shown, sizeof(shown), c->key), c->kind == CHUNK_BASE ? "base" : "incr",
            (unsigned long long)c->start, (unsigned long long)c->end, instance, (long long)c->generation);
    return 0;
}

int fetch_object(struct storage *st, const char *instance, const struct fetch_chunk *c, struct buf *gz,
                 struct err *e)
{
    buf_reset(gz);
    if (fetch_check_key(instance, c, e) < 0)
        return -1;
    if (storage_get(st, c->key, gz, e) < 0) {
        if (strstr(e->msg, c->key) == NULL)
            err_prefix(e, "chunk \"%s\"", c->key);
        return -1;
    }
    if (c->has_sha256 && codec_check_digest(gz->data, gz->len, c->sha256, c->key, e) < 0)
        return -1;
    return 0;
}

int fetch_chunk(struct fetch *f, const struct fetch_chunk *c, struct buf *raw, struct err *e)
{
    double t0 = time_monotonic();
    int ret = -1;

    buf_reset(raw);
    if (fetch_object(f->st, f->instance, c, &f->gz, e) < 0)
        goto out;
    if (codec_decode(f->gz.data, f->gz.len, c->end - c->start, c->crc32, c->key, raw, e) < 0) {
        if (strstr(e->msg, c->key) == NULL)
            err_prefix(e, "chunk \"%s\"", c->key);
        goto out;
    }
    f->stored_bytes += storage_stored_size(c->key, f->gz.len);
    f->raw_bytes += raw->len;
    f->chunks++;
    ret = 0;
out:
    f->seconds += time_monotonic() - t0;
    return ret;
}

int fetch_join(struct fetch *f, int64_t generation, enum chunk_kind kind, uint64_t expect,
               const struct fetch_chunk *c, struct err *e)
{
    struct buf windows = BUF_INIT;
    struct err we;
    const char *what = kind == CHUNK_BASE ? "base" : "incr";

    if (c->start == expect)
        return 0;
    if (c->start < expect)
        return err_set(e, ERR_CORRUPT,
                       "chunks overlap in the archive of \"%s\", generation %lld: \"%s\" starts at %llu, "
                       "before the previous chunk's end %llu",
                       f->instance, (long long)generation, c->key, (unsigned long long)c->start,
                       (unsigned long long)expect);
    err_clear(&we);
    if (fetch_windows(f, &windows, &we) < 0) {
        buf_reset(&windows);
        buf_printf(&windows, "unknown (%s)", we.msg);
    }
    err_set(e, ERR_CORRUPT,
            "gap in the archive of \"%s\", generation %lld: %s bytes [%llu, %llu) are missing; "
            "the archive of \"%s\" is restorable %s",
            f->instance, (long long)generation, what, (unsigned long long)expect,
            (unsigned long long)c->start, f->instance, windows.data);
    buf_free(&windows);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Restorable windows                                                   */
/* ------------------------------------------------------------------ */

struct gen_list {
    struct window_gen *v;
    size_t n, cap;
};

static int gen_list_add(void *ud, const struct gen_row *g)
{
    struct gen_list *l = ud;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
    l->v[l->n].row = *g;
    l->v[l->n].usable = g->base_complete;
    l->n++;
    return 0;
}

int fetch_gens(struct fetch *f, struct window_gen **out, size_t *n, struct err *e)
{
    struct gen_list gens = {NULL, 0, 0};
    struct fetch_list chunks = {NULL, 0, 0};
    size_t i, j;
    int ret = -1;

    *out = NULL;
    *n = 0;
    if (index_generations(f->idx, f->instance_id, gen_list_add, &gens, e) < 0)
        goto out;
    for (i = 0; i < gens.n; i++) {
        struct window_gen *g = &gens.v[i];
        uint64_t expect = 0;

        g->last = g->row.base_time;
        if (fetch_list(f, g->row.generation, CHUNK_INCR, 0, &chunks, e) < 0)
            goto out;
        for (j = 0; j < chunks.n; j++) {
            if (chunks.v[j].start != expect) {
                g->broken = 1;
                break;
            }
            if (chunks.v[j].last > g->last)
                g->last = chunks.v[j].last;
            expect = chunks.v[j].end;
        }
        fetch_list_free(&chunks);
    }
    *out = gens.v;
    *n = gens.n;
    gens.v = NULL;
    ret = 0;
out:
    fetch_list_free(&chunks);
    free(gens.v);
    return ret;
}

void fetch_windows_text(const struct window_gen *gens, size_t n, struct buf *out)
{
    struct window *win = xcalloc(n ? n : 1, sizeof(*win));
    size_t nwin = window_list(gens, n, win), i;
    char a[TIME_BUFSZ], b[TIME_BUFSZ];

    if (nwin == 0)
        buf_appendstr(out, "nowhere (no generation has a complete base yet)");
    for (i = 0; i < nwin; i++) {
        time_format_utc(win[i].from, a, sizeof(a));
        time_format_utc(win[i].to, b, sizeof(b));
        buf_printf(out, "%sfrom %s to %s", i ? ", " : "", a, b);
    }
    free(win);
}

int fetch_windows(struct fetch *f, struct buf *out, struct err *e)
{
    struct window_gen *gens;
    size_t n;

    if (fetch_gens(f, &gens, &n, e) < 0)
        return -1;
    fetch_windows_text(gens, n, out);
    free(gens);
    return 0;
}

int fetch_choose(struct fetch *f, int64_t t, struct gen_row *gen, struct window_choice *c, struct err *e)
{
    struct window_gen *gens = NULL;
    struct buf windows = BUF_INIT;
    char at[TIME_BUFSZ], a[TIME_BUFSZ], b[TIME_BUFSZ];
    size_t n;
    int ret = -1;

    if (fetch_gens(f, &gens, &n, e) < 0)
        goto out;
    window_choose(gens, n, t, c);
    fetch_windows_text(gens, n, &windows);
    time_format_utc(t, at, sizeof(at));
    switch (c->verdict) {
    case WINDOW_RESTORE:
        *gen = gens[c->gen].row;
        ret = 0;
        break;
    case WINDOW_BEFORE:
        err_set(e, ERR_NOTFOUND, "no generation covers %s: the archive of \"%s\" is restorable %s", at,
                f->instance, windows.data);
        break;
    case WINDOW_GAP:
        time_format_utc(c->to, a, sizeof(a));
        time_format_utc(window_start(&gens[c->next]), b, sizeof(b));
        err_set(e, ERR_NOTFOUND,
                "%s lies in a gap of the archive of \"%s\": generation %lld holds up to %s (%s), generation "
                "%lld %s %s; the archive is restorable %s",
                at, f->instance, (long long)gens[c->gen].row.generation, a, window_end_why(gens, n, c->gen),
                (long long)gens[c->next].row.generation,
                gens[c->next].usable ? "begins at" : "(its base not complete yet) would begin at", b,
                windows.data);
        break;
    case WINDOW_AFTER:
        time_format_utc(c->to, a, sizeof(a));
        err_set(e, ERR_NOTFOUND,
                "%s is after the end of the archive of \"%s\": generation %lld holds up to %s (%s), and "
                "nothing is archived after it; the archive is restorable %s",
                at, f->instance, (long long)gens[c->gen].row.generation, a, window_end_why(gens, n, c->gen),
                windows.data);
        break;
    }
out:
    buf_free(&windows);
    free(gens);
    return ret;
}

/* reconcile.c - make the storage and the index agree at start-up.
 *
 * A chunk is stored before it is indexed, so a crash (SIGKILL, power) can
 * leave an object that the index does not know. At start-up the collector
 * lists each open generation's objects: an unreferenced object that joins
 * the indexed chunks exactly (its start is the end of the last indexed
 * chunk of its kind) is verified and adopted; any other unreferenced
 * object is removed. Verification decodes the object against the live
 * file's bytes at that range when the files are still open to us, and
 * against the gzip member's own CRC and length otherwise (the object was
 * written whole by an atomic put, so a sound member is the bytes that were
 * read). An object that the index references is never touched, nor one
 * that holds an indexed chunk under another name (sealed otherwise, or
 * plain): `aofroll rekey` stores such a copy before it points the index row
 * at it and removes the old object, and removing it in between would leave
 * the row pointing at nothing. rekey removes the copies it leaves behind.
 *
 * Objects of a generation newer than any the index knows mean that this
 * index is not the one that goes with this storage: the collector refuses
 * to start that instance rather than overwrite them. */

#include "reconcile.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "objname.h"
#include "quote.h"
#include "xalloc.h"

#include "context.h"
#include "generation.h"
#include "lineage.h"

struct keylist {
    char **v;
    size_t n, cap;
};

static int keylist_add(void *ud, const char *key, uint64_t size)
{
    struct keylist *k = ud;

    (void)size;
    if (k->n == k->cap) {
        k->cap = k->cap == 0 ? 16 : k->cap * 2;
        k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
    }
    k->v[k->n++] = xstrdup(key);
    return 0;
}

static void keylist_free(struct keylist *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 1: the object holds exactly the bytes of [c->start, c->end) (crc set);
 * 0: it does not, or cannot be checked; -1: error. */
static int reconcile_verify(struct instance *in, struct generation *g, const char *key,
                            const struct chunk_name *c, int live, struct buf *gz, uint32_t *crc,
                            struct err *e)
{
    uint64_t len = c->end - c->start;
    struct buf out = BUF_INIT;
    int rv = -1, got;

    if (storage_get(in->st, key, gz, e) != 0) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e); /* gone since the listing */
        return 0;
    }
    if (live) {
        buf_reset(&in->raw);
        buf_reserve(&in->raw, len);
        if (c->kind == CHUNK_BASE)
            got = lineage_pread_base(&g->files, c->start, in->raw.data, len, e);
        else
            got = lineage_pread(&g->files, c->start, in->raw.data, len, e);
        if (got != 0) {
            if (e->code == ERR_IO)
                return -1;
            err_clear(e);
            return 0; /* the file does not have these bytes (any more) */
        }
        *crc = codec_crc32(0, in->raw.data, len);
    } else {
        /* the gzip trailer: CRC32 and length of the raw bytes */
        if (gz->len < 18 || le32((const unsigned char *)gz->data + gz->len - 4) != (uint32_t)len)
            return 0;
        *crc = le32((const unsigned char *)gz->data + gz->len - 8);
    }
    if (codec_decode(gz->data, gz->len, len, *crc, key, &out, e) != 0) {
        if (e->code != ERR_CORRUPT)
            goto out;
        err_clear(e);
        rv = 0;
        goto out;
    }
    rv = 1;
out:
    buf_free(&out);
    return rv;
}

/* The first indexed chunk of c's generation and kind that ends after c's start. */
struct reconcile_first {
    int found;
    struct chunk_row row;
};

static int reconcile_first_cb(void *ud, const struct chunk_row *row)
{
    struct reconcile_first *f = ud;

    f->found = 1;
    f->row = *row;
    return 1;
}

/* 1 when the index records the chunk `key` names under another name (the
 * same plain name, sealed otherwise), 0 when not, -1 on error. */
static int reconcile_copy_of_indexed(struct instance *in, const char *key, const struct chunk_name *c,
                                     struct err *e)
{
    struct reconcile_first f;
    char a[OBJNAME_MAX], b[OBJNAME_MAX];

    memset(&f, 0, sizeof(f));
    if (index_chunks(in->idx, in->instance_id, c->generation, c->kind, c->start, reconcile_first_cb, &f, e) !=
        0)
        return -1;
    if (!f.found || f.row.start != c->start || f.row.end != c->end)
        return 0;
    if (!objname_unseal(key, a, sizeof(a), NULL))
        snprintf(a, sizeof(a), "%s", key);
    if (!objname_unseal(f.row.key, b, sizeof(b), NULL))
        snprintf(b, sizeof(b), "%s", f.row.key);
    return strcmp(a, b) == 0;
}

static int reconcile_kind(struct instance *in, struct generation *g, enum chunk_kind kind, int live,
                          struct err *e)
{
    const char *what = kind == CHUNK_BASE ? "base" : "incr";
    char prefix[OBJNAME_MAX + 8], genpfx[OBJNAME_MAX];
    struct keylist keys = {NULL, 0, 0};
    struct buf gz = BUF_INIT;
    struct chunk_row last;
    uint64_t expected = 0;
    int rv = -1;

    if (objname_generation_prefix(in->name, g->row.generation, genpfx, sizeof(genpfx)) != 0) {
        err_set(e, ERR_CONFIG, "instance name \"%s\" cannot name an object", in->name);
        goto out;
    }
    snprintf(prefix, sizeof(prefix), "%s%s/", genpfx, what);
    if (storage_list(in->st, prefix, keylist_add, &keys, e) != 0)
        goto out;
    memset(&last, 0, sizeof(last));
    if (index_chunk_last(in->idx, in->instance_id, g->row.generation, kind, &last, e) == 0) {
        expected = last.end;
    } else if (e->code == ERR_NOTFOUND) {
        err_clear(e);
    } else {
        goto out;
    }

    for (size_t i = 0; i < keys.n; i++) {
        struct chunk_name c;
        struct chunk_row row;
        const char *why = "it does not join the indexed chunks";
        uint32_t crc = 0;
        int ok = 0;

        if (objname_parse_chunk(keys.v[i], &c, e) != 0) {
            err_clear(e); /* not a chunk name: not ours to judge */
            continue;
        }
        if (c.generation != g->row.generation || c.kind != kind)
            continue;
        if (index_chunk_by_key(in->idx, keys.v[i], &row, e) == 0)
            continue;
        if (e->code != ERR_NOTFOUND)
            goto out;
        err_clear(e);
        ok = reconcile_copy_of_indexed(in, keys.v[i], &c, e);
        if (ok < 0)
            goto out;
        if (ok) {
            log_msg(in->col->log, LOG_INFO, in->name,
                    "left \"%s\": a copy of an indexed chunk under another name (aofroll rekey at work, or "
                    "interrupted)",
                    keys.v[i]);
            continue;
        }
        if (c.start == expected && c.end > c.start) {
            buf_reset(&gz);
            ok = reconcile_verify(in, g, keys.v[i], &c, live, &gz, &crc, e);
            if (ok < 0)
                goto out;
            why = live ? "its bytes differ from the file's" : "it is not a sound gzip member";
        }
        if (ok) {
            memset(&row, 0, sizeof(row));
            row.instance_id = in->instance_id;
            row.generation = g->row.generation;
            row.kind = kind;
            row.start = c.start;
            row.end = c.end;
            row.crc32 = crc;
            row.stored_bytes = storage_stored_size(keys.v[i], gz.len);
            row.first = kind == CHUNK_BASE ? g->row.base_time : c.first;
            row.last = kind == CHUNK_BASE ? g->row.base_time : c.last;
            snprintf(row.key, sizeof(row.key), "%s", keys.v[i]);
            codec_sha256(gz.data, gz.len, row.sha256);
            row.has_sha256 = 1;
            if (index_chunk_add(in->idx, &row, e) != 0)
                goto out;
            expected = c.end;
            log_msg(in->col->log, LOG_INFO, in->name, "adopted unindexed %s chunk \"%s\" (%s)", what,
                    keys.v[i], live ? "checked against the file" : "checked against its gzip CRC");
            continue;
        }
        if (storage_remove(in->st, keys.v[i], e) != 0)
            goto out;
        log_msg(in->col->log, LOG_WARN, in->name, "removed unindexed object \"%s\": %s", keys.v[i], why);
    }
    rv = 0;
out:
    keylist_free(&keys);
    buf_free(&gz);
    return rv;
}

int reconcile_generation(struct instance *in, struct generation *g, int live, struct err *e)
{
    if (reconcile_kind(in, g, CHUNK_BASE, live, e) != 0)
        return -1;
    return reconcile_kind(in, g, CHUNK_INCR, live, e);
}

static int first_key(void *ud, const char *key, uint64_t size)
{
    char *out = ud;

    (void)size;
    snprintf(out, OBJNAME_MAX, "%s", key);
    return 1;
}

int reconcile_newer(struct instance *in, int64_t latest, struct err *e)
{
    char prefix[OBJNAME_MAX];
    char found[OBJNAME_MAX] = "";
    char shown[QUOTE_NAME_BUFSZ];
    int rc;

    if (latest == 0) {
        char inst[OBJNAME_MAX];

        rc = objname_instance_prefix(in->name, inst, sizeof(inst));
        if (rc == 0 && snprintf(prefix, sizeof(prefix), "%sgen-", inst) >= (int)sizeof(prefix))
            rc = -1;
    } else {
        rc = objname_generation_prefix(in->name, latest + 1, prefix, sizeof(prefix));
    }
    if (rc != 0)
        return err_set(e, ERR_CONFIG, "instance name \"%s\" cannot name an object", in->name);
    if (storage_list(in->st, prefix, first_key, found, e) != 0)
        return -1;
    if (found[0] != '\0')
        return err_set(e, ERR_EXISTS,
                       "storage \"%s\" holds %s, but index \"%s\" knows no generation after %" PRId64
                       " of instance \"%s\". HINT: this index does not go with this storage: rebuild it with "
                       "\"aofroll reindex\" or configure the matching index",
                       in->st->url, quote_name(shown, sizeof(shown), found), in->col->cfg->index_path, latest,
                       in->name);
    return 0;
}

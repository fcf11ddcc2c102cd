/* indexcopy.c - the copy of the index kept in storage (see indexcopy.h).
 *
 * The copy's names are listed under the prefix "<instance>/index.db",
 * which also holds nothing else aofroll writes. Storing the new copy comes
 * before removing the old ones, so that the storage holds a copy at every
 * moment; a crash in between leaves two, and indexcopy_find() prefers the
 * one the current key file seals, which is the newer one whenever the
 * encryption setting has not changed back and forth in between. */
#include "indexcopy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyring.h"
#include "objname.h"
#include "xalloc.h"

/* The copies of one instance found by a listing. */
struct indexcopy_list {
    const char *plain; /* "<instance>/index.db" */
    char **v;
    size_t n, cap;
};

static int indexcopy_list_add(void *ud, const char *key, uint64_t size)
{
    struct indexcopy_list *l = ud;
    char plain[OBJNAME_MAX];

    (void)size;
    if (strcmp(key, l->plain) != 0 &&
        (!objname_unseal(key, plain, sizeof(plain), NULL) || strcmp(plain, l->plain) != 0))
        return 0; /* "<instance>/index.dbx" or the like: not a copy */
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = xstrdup(key);
    return 0;
}

static void indexcopy_list_free(struct indexcopy_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* List the copies of `instance`; plain[] receives the plain copy's name. */
static int indexcopy_list(struct storage *st, const char *instance, char plain[OBJNAME_MAX],
                          struct indexcopy_list *l, struct err *e)
{
    memset(l, 0, sizeof(*l));
    if (objname_index(instance, plain, OBJNAME_MAX) != 0)
        return err_set(e, ERR_CONFIG, "instance name \"%s\" cannot name an object", instance);
    l->plain = plain;
    if (storage_list(st, plain, indexcopy_list_add, l, e) != 0) {
        indexcopy_list_free(l);
        return -1;
    }
    return 0;
}

/* The file at `path`, whole, into out. */
static int indexcopy_read_file(const char *path, struct buf *out, struct err *e)
{
    FILE *fp = fopen(path, "rb");
    int rc = 0;

    if (fp == NULL)
        return err_sys(e, errno, "cannot read index copy \"%s\"", path);
    for (;;) {
        size_t got;

        buf_reserve(out, 65536);
        got = fread(out->data + out->len, 1, 65536, fp);
        out->len += got;
        out->data[out->len] = '\0';
        if (got < 65536)
            break;
    }
    if (ferror(fp))
        rc = err_sys(e, EIO, "cannot read index copy \"%s\"", path);
    fclose(fp);
    return rc;
}

int indexcopy_upload(struct index *idx, struct storage *st, const char *instance, const char *tmp_path,
                     struct err *e)
{
    char plain[OBJNAME_MAX], key[OBJNAME_MAX];
    const char *id = storage_seal_id(st);
    struct indexcopy_list l = {NULL, NULL, 0, 0};
    struct buf copy = BUF_INIT;
    size_t i;
    int rv = -1;

    if (objname_index(instance, plain, sizeof(plain)) != 0 ||
        (id != NULL && objname_seal(plain, id, key, sizeof(key)) != 0)) {
        err_set(e, ERR_CONFIG, "instance name \"%s\" cannot name an object", instance);
        goto out;
    }
    if (id == NULL)
        snprintf(key, sizeof(key), "%s", plain);
    if (index_backup(idx, tmp_path, e) != 0 || indexcopy_read_file(tmp_path, &copy, e) != 0)
        goto out;
    if (storage_put(st, key, copy.data, copy.len, e) != 0)
        goto out;
    /* The new copy is stored: the others are stale. Removing them is
     * tidying, not the upload: a storage policy without delete (a collector
     * that never deletes) leaves them, and indexcopy_find() still prefers
     * the copy the current key file seals. */
    rv = 0;
    if (indexcopy_list(st, instance, plain, &l, e) != 0) {
        err_clear(e);
        goto out;
    }
    for (i = 0; i < l.n; i++)
        if (strcmp(l.v[i], key) != 0 && storage_remove(st, l.v[i], e) != 0)
            err_clear(e);
out:
    unlink(tmp_path);
    indexcopy_list_free(&l);
    buf_free(&copy);
    return rv;
}

/* How much indexcopy_find() wants a copy: higher is better. */
static int indexcopy_rank(const struct storage *st, const char *key)
{
    char id[OBJNAME_KEY_ID_MAX + 1];
    const char *newest = storage_seal_id(st);

    if (!objname_unseal(key, NULL, 0, id))
        return 2;
    if (newest != NULL && strcmp(id, newest) == 0)
        return 4;
    return keyring_find(st->keys, id) != NULL ? 3 : 1;
}

int indexcopy_find(struct storage *st, const char *instance, char *key, size_t n, struct err *e)
{
    char plain[OBJNAME_MAX];
    struct indexcopy_list l;
    size_t i, best = 0;

    if (indexcopy_list(st, instance, plain, &l, e) != 0)
        return -1;
    if (l.n == 0) {
        indexcopy_list_free(&l);
        return err_set(e, ERR_NOTFOUND, "no index copy \"%s\" in storage", plain);
    }
    for (i = 1; i < l.n; i++)
        if (indexcopy_rank(st, l.v[i]) > indexcopy_rank(st, l.v[best]))
            best = i;
    snprintf(key, n, "%s", l.v[best]);
    indexcopy_list_free(&l);
    return 0;
}

/* storage.c - the storage interface: backend choice and the checked entry points.
 *
 * storage_open() picks a backend by the scheme of the configured URL
 * (file://, s3://, sftp://, azure://; see storage.h for the contract every backend
 * keeps). The storage_*() wrappers are the only way the rest of aofroll
 * reaches a backend: they check every key and prefix once, here, so that
 * no backend can be handed a name that escapes its root ("../x", "/etc")
 * or that another backend would store differently ("a//b"), and they give
 * backends without a batch delete a one-by-one remove_many.
 *
 * storage_put() and storage_get() are also where sealing is stacked onto
 * every object's write and read (seal.c says why there): the object's name
 * says whether it is sealed and with which key, the key file loaded by
 * storage_open() holds the keys. A sealed name without a key file, or
 * naming a key the file lacks, fails before any byte moves. */
#include "storage.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keyring.h"
#include "objname.h"
#include "quote.h"
#include "seal.h"

/* S3's limit on a key; the other backends keep to it for portability. */
#define STORAGE_KEY_MAX 1024

/* ------------------------------------------------------------------------
 * Key checks
 * ------------------------------------------------------------------------ */

/* A key or prefix is a relative '/'-separated path: no leading '/', no empty
 * component ("a//b"), no "." or ".." component. A key also may not be empty
 * or end with '/'; a prefix may be either ("" lists everything). */
/* "invalid storage key NAME: why" with the name quoted: names may come
 * from a listing, and none may forge output. */
static int storage_bad_name(struct err *e, const char *what, const char *name, const char *why)
{
    char shown[QUOTE_NAME_BUFSZ];

    return err_set(e, ERR_CORRUPT, "invalid storage %s %s: %s", what, quote_name(shown, sizeof(shown), name),
                   why);
}

static int storage_check_name(const char *name, int is_prefix, struct err *e)
{
    const char *what = is_prefix ? "prefix" : "key";
    const char *comp = name;
    size_t len = strlen(name);
    char why[64];

    if (len == 0) {
        if (is_prefix)
            return 0;
        return storage_bad_name(e, what, name, "must not be empty");
    }
    if (len > STORAGE_KEY_MAX) {
        snprintf(why, sizeof(why), "longer than %d bytes", STORAGE_KEY_MAX);
        return storage_bad_name(e, what, name, why);
    }
    if (name[0] == '/')
        return storage_bad_name(e, what, name, "must not start with \"/\"");
    if (!is_prefix && name[len - 1] == '/')
        return storage_bad_name(e, what, name, "must not end with \"/\"");
    if (strstr(name, "//") != NULL)
        return storage_bad_name(e, what, name, "must not contain \"//\"");
    while (*comp != '\0') {
        const char *slash = strchr(comp, '/');
        size_t clen = slash != NULL ? (size_t)(slash - comp) : strlen(comp);

        if ((clen == 1 && comp[0] == '.') || (clen == 2 && comp[0] == '.' && comp[1] == '.'))
            return storage_bad_name(e, what, name,
                                    clen == 1 ? "must not contain a \".\" component"
                                              : "must not contain a \"..\" component");
        if (slash == NULL)
            break;
        comp = slash + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Opening and closing
 * ------------------------------------------------------------------------ */

static int storage_has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);

    return strncasecmp(url, scheme, n) == 0;
}

static int storage_open_backend(const struct config *cfg, struct storage **out, struct err *e)
{
    const char *url = cfg->storage_url;

    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return err_set(e, ERR_CONFIG,
                       "no storage URL configured: expected file://, s3://, sftp:// or azure://");
    if (storage_has_scheme(url, "file://"))
        return storage_file_open(url, out, e);
    if (storage_has_scheme(url, "s3://"))
        return storage_s3_open(cfg, out, e);
    if (storage_has_scheme(url, "sftp://"))
        return storage_sftp_open(cfg, out, e);
    if (storage_has_scheme(url, "azure://"))
        return storage_azure_open(cfg, out, e);
    return err_set(e, ERR_CONFIG,
                   "unsupported storage URL \"%s\": expected file://, s3://, sftp:// or azure://", url);
}

int storage_open(const struct config *cfg, struct storage **out, struct err *e)
{
    struct keyring *kr = NULL;

    *out = NULL;
    /* the key file first: a bad one is a configuration error, whatever the
     * storage answers */
    if (cfg->encryption.key_file != NULL && keyring_load(cfg->encryption.key_file, &kr, e) != 0)
        return -1;
    if (storage_open_backend(cfg, out, e) != 0) {
        keyring_free(kr);
        return -1;
    }
    (*out)->keys = kr;
    return 0;
}

int storage_cleartext(const struct config *cfg, char *why, size_t n)
{
    if (cfg->storage_url != NULL && storage_has_scheme(cfg->storage_url, "s3://"))
        return storage_s3_cleartext(cfg, why, n);
    if (cfg->storage_url != NULL && storage_has_scheme(cfg->storage_url, "azure://"))
        return storage_azure_cleartext(cfg, why, n);
    return 0; /* file:// stays on the box, sftp:// is always encrypted */
}

void storage_close(struct storage *st)
{
    struct keyring *kr;

    if (st == NULL)
        return;
    kr = st->keys;
    st->ops->close(st);
    keyring_free(kr);
}

const char *storage_seal_id(const struct storage *st)
{
    const struct keyring_key *k = keyring_newest(st->keys);

    return k != NULL ? k->id : NULL;
}

uint64_t storage_stored_size(const char *key, uint64_t len)
{
    char id[OBJNAME_KEY_ID_MAX + 1];

    if (!objname_unseal(key, NULL, 0, id))
        return len;
    return len + seal_overhead(strlen(id));
}

/* ------------------------------------------------------------------------
 * The seal filter
 * ------------------------------------------------------------------------ */

/* For a sealed name: 1 with its key id in id[]; 0 for a plain name; -1
 * (ERR_CONFIG) when no key file is configured to seal or open it. */
static int storage_sealed(const struct storage *st, const char *key, char *id, struct err *e)
{
    char shown[QUOTE_NAME_BUFSZ];

    if (!objname_unseal(key, NULL, 0, id))
        return 0;
    if (st->keys == NULL)
        return err_set(e, ERR_CONFIG,
                       "object %s is sealed with key \"%s\", but no key file is configured HINT: set "
                       "storage.encryption.key_file to the key file that holds it",
                       quote_name(shown, sizeof(shown), key), id);
    return 1;
}

/* ------------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------------ */

int storage_put(struct storage *st, const char *key, const void *data, size_t len, struct err *e)
{
    char id[OBJNAME_KEY_ID_MAX + 1];
    const struct keyring_key *k;
    struct buf sealed = BUF_INIT;
    int sealed_name, rc = -1;

    if (storage_check_name(key, 0, e) != 0)
        return -1;
    sealed_name = storage_sealed(st, key, id, e);
    if (sealed_name <= 0)
        return sealed_name < 0 ? -1 : st->ops->put(st, key, data, len, e);
    k = keyring_find(st->keys, id);
    if (k == NULL)
        return seal_missing_key(st->keys, key, id, e);
    if (seal_object(k, key, data, len, &sealed, e) == 0)
        rc = st->ops->put(st, key, sealed.data, sealed.len, e);
    buf_free(&sealed);
    return rc;
}

int storage_get(struct storage *st, const char *key, struct buf *out, struct err *e)
{
    char id[OBJNAME_KEY_ID_MAX + 1];
    size_t from = out->len;
    int sealed_name;

    if (storage_check_name(key, 0, e) != 0)
        return -1;
    sealed_name = storage_sealed(st, key, id, e);
    if (sealed_name < 0)
        return -1;
    /* a key the file lacks is said before the object is fetched */
    if (sealed_name > 0 && keyring_find(st->keys, id) == NULL)
        return seal_missing_key(st->keys, key, id, e);
    if (st->ops->get(st, key, out, e) != 0)
        return -1;
    if (sealed_name > 0 && seal_open(st->keys, key, id, out, from, e) != 0)
        return -1;
    return 0;
}

int storage_head(struct storage *st, const char *key, uint64_t *size, struct err *e)
{
    if (storage_check_name(key, 0, e) != 0)
        return -1;
    return st->ops->head(st, key, size, e);
}

int storage_list(struct storage *st, const char *prefix, storage_list_cb cb, void *ud, struct err *e)
{
    if (storage_check_name(prefix, 1, e) != 0)
        return -1;
    return st->ops->list(st, prefix, cb, ud, e);
}

int storage_remove(struct storage *st, const char *key, struct err *e)
{
    if (storage_check_name(key, 0, e) != 0)
        return -1;
    return st->ops->remove(st, key, e);
}

int storage_remove_many(struct storage *st, const char *const *keys, size_t n, struct err *e)
{
    size_t i;

    /* All or nothing as far as checking goes: one bad key removes nothing. */
    for (i = 0; i < n; i++) {
        if (storage_check_name(keys[i], 0, e) != 0)
            return -1;
    }
    if (n == 0)
        return 0;
    if (st->ops->remove_many != NULL)
        return st->ops->remove_many(st, keys, n, e);
    for (i = 0; i < n; i++) {
        if (st->ops->remove(st, keys[i], e) != 0)
            return -1;
    }
    return 0;
}

/* storage.c - the storage interface: backend choice and the checked entry points.
 *
 * storage_open() picks a backend by the scheme of the configured URL
 * (file://, s3://, sftp://, azure://; see storage.h for the contract every backend
 * keeps). The storage_*() wrappers are the only way the rest of aofroll
 * reaches a backend: they check every key and prefix once, here, so that
 * no backend can be handed a name that escapes its root ("../x", "/etc")
 * or that another backend would store differently ("a//b"), and they give
 * backends without a batch delete a one-by-one remove_many. */
#include "storage.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "quote.h"

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

int storage_open(const struct config *cfg, struct storage **out, struct err *e)
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
    if (st == NULL)
        return;
    st->ops->close(st);
}

/* ------------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------------ */

int storage_put(struct storage *st, const char *key, const void *data, size_t len, struct err *e)
{
    if (storage_check_name(key, 0, e) != 0)
        return -1;
    return st->ops->put(st, key, data, len, e);
}

int storage_get(struct storage *st, const char *key, struct buf *out, struct err *e)
{
    if (storage_check_name(key, 0, e) != 0)
        return -1;
    return st->ops->get(st, key, out, e);
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

/* storage.h - where chunks go: one interface, a backend per URL scheme.
 *
 * A backend is a table of functions (like Redis's rio or pgBackRest's
 * StorageInterface), chosen by storage_open() from the configured URL:
 * file:// (storage_file.c), s3://, sftp:// and azure://. Keys are object names from
 * objname.h, relative to the URL's path/prefix.
 *
 * Contract for every backend:
 *  - put is atomic: afterwards the object is whole or absent, never partial
 *    (file: temp file in ROOT/.tmp/, fsync, rename, fsync dir);
 *  - get of a missing object fails with ERR_NOTFOUND, distinct from ERR_IO;
 *  - list calls back once per object under the prefix, in byte order of key;
 *  - remove of a missing object succeeds. */
#ifndef AOFROLL_STORAGE_H
#define AOFROLL_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "error.h"

#define STORAGE_OPS_VERSION 1

enum storage_feature {
    STORAGE_FEATURE_BATCH_REMOVE = 1 << 0 /* remove_many is efficient */
};

struct storage;

/* Return non-zero to stop the listing (list then returns 0). */
typedef int (*storage_list_cb)(void *ud, const char *key, uint64_t size);

struct storage_ops {
    int version; /* STORAGE_OPS_VERSION */
    const char *scheme;
    unsigned features;
    int (*put)(struct storage *st, const char *key, const void *data, size_t len, struct err *e);
    int (*get)(struct storage *st, const char *key, struct buf *out, struct err *e);
    int (*head)(struct storage *st, const char *key, uint64_t *size, struct err *e);
    int (*list)(struct storage *st, const char *prefix, storage_list_cb cb, void *ud, struct err *e);
    int (*remove)(struct storage *st, const char *key, struct err *e);
    /* may be NULL: storage_remove_many() then removes one by one */
    int (*remove_many)(struct storage *st, const char *const *keys, size_t n, struct err *e);
    void (*close)(struct storage *st);
};

/* Every backend's handle starts with this. */
struct storage {
    const struct storage_ops *ops;
    char *url;  /* for messages; never holds a secret */
    char *auth; /* where the credentials came from, for --check; NULL when the
                   backend needs none; never a secret; freed by the backend */
};

int storage_open(const struct config *cfg, struct storage **out, struct err *e);
/* 1 when the configured storage is reached over an unencrypted network
 * connection (an s3 endpoint "http://" to a host that is not loopback),
 * with the warning to show in `why` (no secret in it); else 0. */
int storage_cleartext(const struct config *cfg, char *why, size_t n);
int storage_put(struct storage *st, const char *key, const void *data, size_t len, struct err *e);
/* Appends the object's bytes to `out`. */
int storage_get(struct storage *st, const char *key, struct buf *out, struct err *e);
int storage_head(struct storage *st, const char *key, uint64_t *size, struct err *e);
int storage_list(struct storage *st, const char *prefix, storage_list_cb cb, void *ud, struct err *e);
int storage_remove(struct storage *st, const char *key, struct err *e);
int storage_remove_many(struct storage *st, const char *const *keys, size_t n, struct err *e);
void storage_close(struct storage *st);

/* Backend constructors (storage_open picks one). */
int storage_file_open(const char *url, struct storage **out, struct err *e);
int storage_s3_open(const struct config *cfg, struct storage **out, struct err *e);
int storage_sftp_open(const struct config *cfg, struct storage **out, struct err *e);
int storage_azure_open(const struct config *cfg, struct storage **out, struct err *e);
int storage_s3_cleartext(const struct config *cfg, char *why, size_t n);
int storage_azure_cleartext(const struct config *cfg, char *why, size_t n);

#endif

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
 *  - remove of a missing object succeeds.
 *
 * Sealing (docs/encryption.md) is a filter of storage_put() and
 * storage_get(), not of the backends: an object whose name ends in
 * ".<key id>.enc" (objname_seal) is sealed with that key of the key file
 * (storage.encryption.key_file) on its way in and opened on its way out,
 * so that callers put and get the plain bytes (a chunk's gzip member) and
 * choose only the name; storage_seal_id() says which key seals new
 * objects. storage_list() and storage_head() give the sizes as stored. */
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
struct keyring;

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
    char *url;            /* for messages; never holds a secret */
    char *auth;           /* where the credentials came from, for --check; NULL when the
                             backend needs none; never a secret; freed by the backend */
    struct keyring *keys; /* storage.encryption.key_file, NULL when none;
                             set and freed by storage_open/storage_close */
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

/* The id of the key that seals new objects (the key file's last), or NULL
 * when no key file is configured: new objects are then stored plain. */
const char *storage_seal_id(const struct storage *st);
/* The bytes an object of `len` plain bytes takes in storage under `key`:
 * len, plus the seal's header and tag when the name is a sealed one. */
uint64_t storage_stored_size(const char *key, uint64_t len);

/* Backend constructors (storage_open picks one). */
int storage_file_open(const char *url, struct storage **out, struct err *e);
int storage_s3_open(const struct config *cfg, struct storage **out, struct err *e);
int storage_sftp_open(const struct config *cfg, struct storage **out, struct err *e);
int storage_azure_open(const struct config *cfg, struct storage **out, struct err *e);
int storage_s3_cleartext(const struct config *cfg, char *why, size_t n);
int storage_azure_cleartext(const struct config *cfg, char *why, size_t n);

#endif

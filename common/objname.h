/* objname.h - every object name in the archive is built and parsed here.
 *
 * Layout (docs/design.md), numbers zero-padded so that names sort in byte order:
 *
 *   <instance>/gen-000001/base/<start:20>-<end:20>_<time>_<total:20>.<rdb|aof>.gz
 *   <instance>/gen-000001/incr/<start:20>-<end:20>_<first>-<last>.aof.gz
 *   <instance>/index.db
 *
 * A sealed object (docs/encryption.md) is named as its plain counterpart
 * with ".<key id>.enc" appended, the id of the key that sealed it:
 *
 *   <instance>/gen-000001/incr/<start:20>-<end:20>_<first>-<last>.aof.gz.<id>.enc
 *   <instance>/index.db.<id>.enc
 *
 * so that a listing tells plain from sealed objects, and which key each
 * needs, without reading one. The storage layer seals and opens objects by
 * that suffix (storage.c).
 *
 * start/end are byte offsets [start, end) in the base or incr file; first
 * and last are the unix seconds in which the chunk's bytes were observed.
 * A base chunk's name carries the base time (unix seconds, 10 digits) and
 * the whole base file's size, so that reindex needs nothing but names.
 * Both offsets are 20 digits wide (the widest uint64). The index can be
 * rebuilt from these names alone. */
#ifndef AOFROLL_OBJNAME_H
#define AOFROLL_OBJNAME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum chunk_kind { CHUNK_BASE = 0, CHUNK_INCR = 1 };

enum base_format { BASE_RDB = 0, BASE_AOF = 1 };

#define OBJNAME_MAX 512
#define INSTANCE_NAME_MAX 128
/* A key id (the key file's IDs, docs/encryption.md): 1-32 bytes of
 * [A-Za-z0-9_-]. */
#define OBJNAME_KEY_ID_MAX 32

struct chunk_name {
    char instance[INSTANCE_NAME_MAX + 1];
    int64_t generation;
    enum chunk_kind kind;
    enum base_format format; /* base only: .rdb.gz or .aof.gz */
    uint64_t start, end;
    int64_t first, last;               /* incr: observed times; base: both = base_time */
    uint64_t total;                    /* base only: size of the whole base file */
    char seal[OBJNAME_KEY_ID_MAX + 1]; /* "" plain, else the id of the key that sealed it */
};

/* A valid instance name: 1-128 bytes of [A-Za-z0-9._-], not starting with '.'. */
int objname_valid_instance(const char *name);
/* A valid key id: 1-32 bytes of [A-Za-z0-9_-]. */
int objname_valid_key_id(const char *id);
int objname_chunk(const struct chunk_name *c, char *buf, size_t n);
/* Parse a chunk key; -1 (ERR_CORRUPT) when `key` is not a chunk name. */
int objname_parse_chunk(const char *key, struct chunk_name *c, struct err *e);
/* "<instance>/" */
int objname_instance_prefix(const char *instance, char *buf, size_t n);
/* "<instance>/gen-000001/" */
int objname_generation_prefix(const char *instance, int64_t generation, char *buf, size_t n);
/* "<instance>/index.db" */
int objname_index(const char *instance, char *buf, size_t n);
/* "<name>.<id>.enc": the name of `name` sealed with key `id`. */
int objname_seal(const char *name, const char *id, char *buf, size_t n);
/* 1 when `key` names a sealed object "<name>.<id>.enc", with the plain name
 * in plain[pn] ("" when it does not fit) and the id in id[] (either may be
 * NULL); 0 when it does not (a plain name). */
int objname_unseal(const char *key, char *plain, size_t pn, char id[OBJNAME_KEY_ID_MAX + 1]);

#endif

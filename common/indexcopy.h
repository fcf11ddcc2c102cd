/* indexcopy.h - the copy of the index kept in storage, per instance.
 *
 * The collector uploads a consistent copy of its index every
 * index_upload_interval (and `aofroll rekey` once it is done), so that
 * `aofroll reindex` on another machine can check the chunks it finds
 * against the SHA-256s the index recorded. The copy is named
 * "<instance>/index.db", or "<instance>/index.db.<key id>.enc" when a key
 * file is configured (objname.h): sealed like every other object. One copy
 * per instance is kept: after a new one is stored, the others (plain, or
 * sealed with another key) are removed, where the storage lets us. */
#ifndef AOFROLL_INDEXCOPY_H
#define AOFROLL_INDEXCOPY_H

#include <stddef.h>

#include "error.h"
#include "index.h"
#include "storage.h"

/* Back `idx` up to a temp file at `tmp_path` (removed again), store it as
 * the copy of `instance`, sealed when the storage seals, then remove the
 * instance's other copies. */
int indexcopy_upload(struct index *idx, struct storage *st, const char *instance, const char *tmp_path,
                     struct err *e);
/* The name of the copy of `instance` to read, into key[n]: sealed with the
 * key that seals new objects, else with another key the key file holds,
 * else plain, else one sealed with a key the file lacks (whose get then
 * says so). ERR_NOTFOUND when the storage holds no copy. */
int indexcopy_find(struct storage *st, const char *instance, char *key, size_t n, struct err *e);

#endif

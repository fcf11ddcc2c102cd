/* fetch.h - reading one generation's chunks back out of the archive.
 *
 * The index says which chunks a generation has (ordered by start) with
 * their raw length, CRC32 and (from schema 2 on) the SHA-256 of the gzip
 * member; storage holds the gzip objects, sealed ones opened on their way
 * out (storage.h), so that the digest is checked alike on plain and
 * sealed objects. fetch_list() takes the chunk
 * list from the index once; fetch_object() gets one object, after checking
 * that its key names exactly that chunk of this instance (no index row can
 * send a restore to another object) and, when the index records one,
 * that the object has that SHA-256; fetch_chunk() also decodes it
 * (codec_decode checks length and CRC); fetch_join()
 * checks that a chunk starts exactly where the previous one ended, naming
 * the missing range and the restorable windows when it does not.
 * fetch_windows() describes what the archive can restore and
 * fetch_choose() picks the generation for a time, by the rule of window.h,
 * with the generations' rows and the seconds their incr chunks reach
 * without a gap. */
#ifndef AOFROLL_REPLAY_FETCH_H
#define AOFROLL_REPLAY_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "objname.h"
#include "storage.h"
#include "window.h"

struct fetch {
    struct index *idx;
    struct storage *st;
    const char *instance;
    int64_t instance_id;
    struct buf gz;  /* the object being decoded */
    double seconds; /* spent getting and decoding */
    uint64_t stored_bytes;
    uint64_t raw_bytes;
    size_t chunks;
};

struct fetch_chunk {
    int64_t generation;
    enum chunk_kind kind;
    uint64_t start, end;
    uint32_t crc32;
    int64_t first, last;
    int has_sha256;
    unsigned char sha256[32];
    char *key;
};

/* The chunk of an index row (key shared with the row, not copied). */
void fetch_chunk_from_row(const struct chunk_row *row, struct fetch_chunk *out);

struct fetch_list {
    struct fetch_chunk *v;
    size_t n, cap;
};

void fetch_init(struct fetch *f, struct index *idx, struct storage *st, const char *instance,
                int64_t instance_id);
void fetch_free(struct fetch *f);

/* The chunks of (generation, kind) with end > from, ordered by start. */
int fetch_list(struct fetch *f, int64_t generation, enum chunk_kind kind, uint64_t from, struct fetch_list *l,
               struct err *e);
void fetch_list_free(struct fetch_list *l);

/* ERR_CORRUPT unless c's key is the canonical name of that very chunk of
 * `instance` (generation, kind, start, end). */
int fetch_check_key(const char *instance, const struct fetch_chunk *c, struct err *e);
/* Get chunk c's stored object of `instance` into gz (replacing it): its
 * key must be the name of that chunk, its SHA-256 the recorded one. */
int fetch_object(struct storage *st, const char *instance, const struct fetch_chunk *c, struct buf *gz,
                 struct err *e);
/* Get and decode one chunk; its raw bytes replace the contents of raw. */
int fetch_chunk(struct fetch *f, const struct fetch_chunk *c, struct buf *raw, struct err *e);

/* Check that chunk c starts at `expect` (the end of the previous one): a
 * gap is ERR_CORRUPT "gap in the archive of \"x\", generation N: incr bytes
 * [a, b) are missing; the archive of \"x\" is restorable from A to B", an
 * overlap names both chunks. */
int fetch_join(struct fetch *f, int64_t generation, enum chunk_kind kind, uint64_t expect,
               const struct fetch_chunk *c, struct err *e);

/* "from 2026-11-20T00:00:02Z to 2026-11-20T15:12:09Z, from ... to ..." or
 * "nowhere (no generation has a complete base)"; appended to out. */
int fetch_windows(struct fetch *f, struct buf *out, struct err *e);
/* The same from generations already loaded. */
void fetch_windows_text(const struct window_gen *gens, size_t n, struct buf *out);
/* Every generation of the instance, oldest first, as window.h wants them:
 * usable = base complete; last/broken from the incr chunks that join from
 * byte 0. *out is freed by the caller. */
int fetch_gens(struct fetch *f, struct window_gen **out, size_t *n, struct err *e);
/* The generation that restores time t (window_choose), into *gen. A t in
 * no window is refused (ERR_NOTFOUND) with one line: before the archive,
 * in a gap (naming the generations on either side and why the first one
 * ends where it does), or after the end of a generation that has no
 * successor; each with the restorable windows. */
int fetch_choose(struct fetch *f, int64_t t, struct gen_row *gen, struct window_choice *c, struct err *e);

#endif

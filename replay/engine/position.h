/* position.h - where a restored instance stands: DIR/aofroll-restore.json.
 *
 * `aofroll restore` writes it into the data directory it builds, `aofroll
 * apply` reads it to know where to continue and rewrites it (atomically)
 * after rolling forward. It names the instance and generation, the incr
 * offset of the cut with the db and last #TS in force there, the second
 * the data stands at, and - once a server has run on the data - the
 * keyspace fingerprint (keys per db, from INFO keyspace) that apply checks
 * its target against. The JSON is built and read with SQLite's JSON
 * functions on an in-memory database, so no JSON code lives here. */
#ifndef AOFROLL_REPLAY_POSITION_H
#define AOFROLL_REPLAY_POSITION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "objname.h"
#include "outdir.h"

#define POSITION_FILE OUTDIR_MARK
#define POSITION_FORMAT 1

struct keyspace_db {
    int db;
    int64_t keys;
};

/* Keys per db, dbs in increasing order, empty dbs absent. */
struct keyspace {
    struct keyspace_db *v;
    size_t n;
};

struct position {
    char instance[INSTANCE_NAME_MAX + 1];
    int64_t generation;
    int64_t base_time;
    int64_t requested; /* the TIME asked for */
    int64_t time;      /* the second the data stands at */
    uint64_t offset;   /* the cut in the generation's incr stream */
    int db;            /* db in force at the cut */
    int64_t ts;        /* last #TS before the cut, -1 when none */
    int exact;         /* 1: cut by #TS annotations, 0: by the size log */
    int has_keyspace;
    struct keyspace keyspace;
};

/* The JSON text of `p` (one line), appended to `out`. */
int position_format(const struct position *p, struct buf *out, struct err *e);
/* Read a position from the JSON text [json, json+len); `path` names it in
 * messages. ERR_CORRUPT when it does not parse. */
int position_parse(const char *path, const char *json, size_t len, struct position *p, struct err *e);
/* Write the position atomically as `rel` under DIR (POSITION_FILE, or the
 * same name in the stage of a restore). */
int position_write(const struct outdir *d, const char *rel, const struct position *p, struct err *e);
/* Read DIR/aofroll-restore.json. ERR_NOTFOUND when DIR has none;
 * ERR_CORRUPT when it does not parse. */
int position_read(const struct outdir *d, struct position *p, struct err *e);
void position_free(struct position *p);

void keyspace_add(struct keyspace *ks, int db, int64_t keys);
int keyspace_equal(const struct keyspace *a, const struct keyspace *b);
/* "db0=10 db3=2" or "empty"; appended to out */
void keyspace_format(const struct keyspace *ks, struct buf *out);
void keyspace_free(struct keyspace *ks);

#endif

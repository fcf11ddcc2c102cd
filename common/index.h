/* index.h - the SQLite chunk index: what is in the archive, by time.
 *
 * One SQLite file in WAL mode. The schema version lives in PRAGMA
 * user_version and index_open() migrates older files forward. Every query
 * here is served by an SQL index, never a table scan, and uses a prepared
 * statement kept on the handle. One handle per thread: the collector opens
 * one per instance thread (busy_timeout makes writers wait for each other).
 *
 * Tables: instances, generations, chunks, size_log, events, status,
 * cluster_views (schema 4; its statements live in clusterview.c).
 * Rows are recorded only after the object they describe is stored.
 *
 * Callers record base chunks with first = last = their generation's
 * base_time, so that time queries treat both kinds alike. Chunks of one
 * (instance, generation, kind) never overlap. A callback may call other
 * index functions on the same handle, but not the listing it is called
 * from. */
#ifndef AOFROLL_INDEX_H
#define AOFROLL_INDEX_H

#include <stdint.h>

#include "config.h"
#include "error.h"
#include "objname.h"

#define INDEX_FILE_MAX 256

struct index;

struct gen_row {
    int64_t instance_id;
    int64_t generation;             /* 1, 2, ... per instance */
    enum instance_mode mode;        /* MODE_RDB: a snapshot (base only, no incr) */
    char base_file[INDEX_FILE_MAX]; /* name in redis's dir, "" if unknown */
    enum base_format base_format;
    uint64_t base_size;             /* bytes of the base file */
    int base_complete;              /* 1 once every base chunk is stored */
    uint32_t base_crc32;            /* CRC32 of the whole base file, when complete */
    int64_t base_time;              /* unix s: the dataset instant the base holds */
    char incr_file[INDEX_FILE_MAX]; /* "" for MODE_RDB */
    int64_t started;                /* unix s when the collector opened it */
    int64_t ended;                  /* unix s when it was closed, 0 while open */
    char end_reason[32];            /* "barrier", "rewrite", "restart", "aof-off", "missed", ... */
    /* Schema 3 (window.h says how restores use them). Zero means unknown
     * in every one of them, which is what a row from before schema 3, or
     * one built with memset, holds. */
    int exact;          /* GEN_YES: cut by "#TS:" lines; GEN_NO: by the size log */
    int follows;        /* GEN_YES: its stream continues the previous generation's with
                         * nothing missed between; GEN_NO: a gap lies before it */
    int64_t lead_ts;    /* the last "#TS:" of the AOF before its stream (its leading
                         * commands belong to that second); 0 unknown */
    int64_t proven_end; /* once ended: the last second its archive holds whole; 0 unknown */
};

/* Values of gen_row.exact and gen_row.follows. */
#define GEN_UNKNOWN 0
#define GEN_YES 1
#define GEN_NO (-1)

struct chunk_row {
    int64_t id;
    int64_t instance_id;
    int64_t generation;
    enum chunk_kind kind;
    uint64_t start, end;   /* [start, end) of the raw file */
    uint32_t crc32;        /* of the raw bytes */
    uint64_t stored_bytes; /* size of the gzip object */
    int64_t first, last;   /* unix s the bytes were observed (incr) */
    char key[OBJNAME_MAX];
    int has_sha256;           /* sha256 was recorded (schema 2 on) */
    unsigned char sha256[32]; /* SHA-256 of the gzip member (sealed: of the plaintext) */
    /* Schema 3, incr chunks: what the AOF scanner saw in the chunk
     * (chunkscan.h); marks_known 0 (NULL in the index) when nothing was
     * recorded. ts_first/ts_last: the first and last "#TS:" lines that end
     * in the chunk, 0 none; boundary: the first offset in [start, end)
     * where the stream stands between commands outside a transaction, -1
     * none, with the db selected there and the last "#TS:" before it (0
     * unknown). */
    int marks_known;
    int64_t ts_first, ts_last;
    int64_t boundary;
    int boundary_db;
    int64_t boundary_ts;
};

struct status_row {
    int64_t instance_id;
    int64_t last_poll; /* heartbeat, unix s */
    int64_t poll_interval_ms;
    int64_t generation;
    char current_file[INDEX_FILE_MAX];
    uint64_t current_size;
    uint64_t shipped;     /* shipped offset in current_file */
    int64_t shipped_time; /* observation time of the last shipped byte */
    int64_t last_barrier; /* unix s, 0 never; mode rdb: the last complete snapshot */
    int64_t last_error_time;
    char last_error[512];
    int pid;
    char poll_error[512];     /* why the last poll (or its shipping) failed, "" when it did not */
    int64_t redis_down_since; /* unix s since Redis has been unreachable, 0 while it answers */
    /* schema 3 */
    int64_t barrier_postponed_since; /* unix s the pending barrier was first held back, 0 none */
    char barrier_postponed_why[256]; /* why it is held back */
    int barrier_overdue;             /* held back longer than barrier_timeout */
    int64_t aof_off_since;           /* unix s the collector found appendonly off, 0 when on */
};

struct event_row {
    int64_t id;
    int64_t instance_id;
    int64_t time;
    char kind[32]; /* "barrier", "rewrite", "gap", "error", ... */
    char detail[512];
};

typedef int (*index_gen_cb)(void *ud, const struct gen_row *g);
typedef int (*index_chunk_cb)(void *ud, const struct chunk_row *c);
typedef int (*index_event_cb)(void *ud, const struct event_row *ev);
/* Callbacks return non-zero to stop the iteration early (not an error). */

/* readonly: open with SQLITE_OPEN_READONLY, never create or migrate
 * (a missing file is ERR_NOTFOUND; a corrupt one ERR_CORRUPT). */
int index_open(const char *path, int readonly, struct index **out, struct err *e);
void index_close(struct index *idx);
/* The schema version this build writes (PRAGMA user_version). */
int index_schema_version(void);
/* Open a copy of an index (a file nobody else uses, such as the copy
 * fetched from storage) read-write, migrating it forward if it is older;
 * its journal mode is left as it is. A newer or foreign file is refused as
 * index_open() refuses it. */
int index_open_copy(const char *path, struct index **out, struct err *e);
/* The handle's SQLite connection and file, for the modules that keep
 * their own tables' statements (clusterview.c). */
struct sqlite3;
struct sqlite3 *index_sqlite(struct index *idx);
const char *index_path(const struct index *idx);
int index_begin(struct index *idx, struct err *e);
int index_commit(struct index *idx, struct err *e);
void index_rollback(struct index *idx);
/* A consistent copy of the whole database to `dest_path` (backup API):
 * what was committed when it starts (an open transaction on `idx` is not
 * in it), as one self-contained file (rollback journal, no -wal beside
 * it), written to a temp file next to dest_path, synced and renamed. */
int index_backup(struct index *idx, const char *dest_path, struct err *e);

/* Instances. create=0: ERR_NOTFOUND when absent. */
int index_instance_id(struct index *idx, const char *name, int create, int64_t *id, struct err *e);
int index_instance_names(struct index *idx, int (*cb)(void *ud, int64_t id, const char *name), void *ud,
                         struct err *e);

/* Generations. */
int index_generation_add(struct index *idx, const struct gen_row *g, struct err *e);
/* Rewrites the mutable fields (base_*, incr_file, ended, end_reason). */
int index_generation_update(struct index *idx, const struct gen_row *g, struct err *e);
int index_generation_get(struct index *idx, int64_t instance_id, int64_t generation, struct gen_row *out,
                         struct err *e);
int index_generation_latest(struct index *idx, int64_t instance_id, struct gen_row *out, struct err *e);
int index_generations(struct index *idx, int64_t instance_id, index_gen_cb cb, void *ud, struct err *e);
/* Removes the generation's rows: chunks, size log, the generation. */
int index_generation_delete(struct index *idx, int64_t instance_id, int64_t generation, struct err *e);

/* Chunks. */
int index_chunk_add(struct index *idx, struct chunk_row *c, struct err *e); /* sets c->id */
int index_chunk_get(struct index *idx, int64_t id, struct chunk_row *out, struct err *e);
int index_chunk_by_key(struct index *idx, const char *key, struct chunk_row *out, struct err *e);
/* Point row c (by id, still under c->key) at the object `key`, of
 * stored_bytes in storage: the same chunk stored again under another name
 * (aofroll rekey). sha256 (may be NULL) is recorded only where the row has
 * none. ERR_NOTFOUND when the row is gone or names another object now. */
int index_chunk_rename(struct index *idx, const struct chunk_row *c, const char *key, uint64_t stored_bytes,
                       const unsigned char sha256[32], struct err *e);
/* 1 when the instance has at least one chunk, else 0; -1 on error. */
int index_chunk_any(struct index *idx, int64_t instance_id, struct err *e);
/* The chunk with the highest end of (instance, generation, kind). */
int index_chunk_last(struct index *idx, int64_t instance_id, int64_t generation, enum chunk_kind kind,
                     struct chunk_row *out, struct err *e);
/* The incr chunk with the highest start whose marks hold a boundary: where
 * the collector resumes scanning. ERR_NOTFOUND when none has. */
int index_chunk_resume_point(struct index *idx, int64_t instance_id, int64_t generation,
                             struct chunk_row *out, struct err *e);
/* The newest "#TS:" recorded in a generation's incr chunks (their
 * ts_last), 0 when none. */
int index_generation_last_ts(struct index *idx, int64_t instance_id, int64_t generation, int64_t *ts,
                             struct err *e);
/* Chunks of one generation and kind with end > from, ordered by start. */
int index_chunks(struct index *idx, int64_t instance_id, int64_t generation, enum chunk_kind kind,
                 uint64_t from, index_chunk_cb cb, void *ud, struct err *e);
/* Chunks of an instance (0: all instances) whose observed time range meets
 * [since, until] (INT64_MIN/INT64_MAX for open ends), ordered by
 * instance (by name), generation, kind, start. Base chunks count as
 * observed at their generation's base_time (their first/last, see above). */
int index_chunks_between(struct index *idx, int64_t instance_id, int64_t since, int64_t until,
                         index_chunk_cb cb, void *ud, struct err *e);

/* Size log: (time, generation, file, size) whenever a poll saw growth. */
int index_sizelog_add(struct index *idx, int64_t instance_id, int64_t generation, int64_t t, const char *file,
                      uint64_t size, struct err *e);
/* Largest size observed at or before t in that generation; ERR_NOTFOUND if none. */
int index_sizelog_at(struct index *idx, int64_t instance_id, int64_t generation, int64_t t, uint64_t *size,
                     struct err *e);
/* First time at which the size log shows the file reaching at least `offset`;
 * ERR_NOTFOUND if never. */
int index_sizelog_time_of(struct index *idx, int64_t instance_id, int64_t generation, uint64_t offset,
                          int64_t *t, struct err *e);

/* Events. */
int index_event_add(struct index *idx, int64_t instance_id, int64_t t, const char *kind, const char *detail,
                    struct err *e);
int index_events(struct index *idx, int64_t instance_id, int64_t since, index_event_cb cb, void *ud,
                 struct err *e);

/* Status (heartbeat), one row per instance, replaced on every write. */
int index_status_put(struct index *idx, const struct status_row *s, struct err *e);
int index_status_get(struct index *idx, int64_t instance_id, struct status_row *out, struct err *e);

/* Test hook: for every statement the handle uses, its SQL and its
 * EXPLAIN QUERY PLAN lines (one per line), to check that none scans a
 * table. cb returns non-zero to stop. */
int index_explain_all(struct index *idx, int (*cb)(void *ud, const char *sql, const char *plan), void *ud,
                      struct err *e);

#endif

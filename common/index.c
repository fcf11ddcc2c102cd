/* index.c - the SQLite chunk index (see index.h and docs/design.md, "The index").
 *
 * One database file in WAL mode, one `struct index` handle per thread. The
 * handle keeps every statement it has ever run in `stmts[]`, prepared on
 * first use with SQLITE_PREPARE_PERSISTENT and reset (with its bindings
 * cleared) after each use, so a loop such as `aofroll ls` over a million
 * chunks costs one prepare and no allocation per row: each row is decoded
 * into a struct on the stack and handed to the caller's callback.
 *
 * The schema is versioned by PRAGMA user_version. `migrations[]` holds one
 * SQL script per version step; index_open() applies the missing steps in
 * order, each in its own IMMEDIATE transaction that also bumps
 * user_version, so a crash leaves the file at a whole version and two
 * writers starting together migrate once. A file newer than the code is
 * refused rather than guessed at.
 *
 * Every statement in `stmt_sql[]` is served by an SQL index (the test
 * checks this with EXPLAIN QUERY PLAN through index_explain_all()).
 *
 * Sections: schema, handle and errors, open/close/transactions, instances,
 * generations, chunks, size log, events, status, backup, plan check. */
#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------
 * Schema
 * --------------------------------------------------------------------- */

/* 0x616f6672, "aofr": marks the file as an aofroll index (PRAGMA
 * application_id); decimal so that it can be pasted into SQL. */
#define INDEX_APPLICATION_ID 1634690674
#define INDEX_STR_(x) #x
#define INDEX_STR(x) INDEX_STR_(x)

/* migrations[v] takes a file from user_version v to v + 1. Append new
 * steps at the end; never edit a step that has shipped. */
static const char *const migrations[] = {
    /* 0 -> 1: the initial schema. */
    "CREATE TABLE instances ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created INTEGER NOT NULL"
    ");"
    "CREATE TABLE generations ("
    "  instance_id INTEGER NOT NULL REFERENCES instances(id),"
    "  generation INTEGER NOT NULL CHECK (generation > 0),"
    "  mode TEXT NOT NULL CHECK (mode IN ('aof', 'rdb')),"
    "  base_file TEXT NOT NULL,"
    "  base_format TEXT NOT NULL CHECK (base_format IN ('rdb', 'aof')),"
    "  base_size INTEGER NOT NULL,"
    "  base_complete INTEGER NOT NULL CHECK (base_complete IN (0, 1)),"
    "  base_crc32 INTEGER NOT NULL,"
    "  base_time INTEGER NOT NULL,"
    "  incr_file TEXT NOT NULL,"
    "  started INTEGER NOT NULL,"
    "  ended INTEGER NOT NULL,"
    "  end_reason TEXT NOT NULL,"
    "  PRIMARY KEY (instance_id, generation)"
    ");"
    "CREATE TABLE chunks ("
    "  id INTEGER PRIMARY KEY,"
    "  instance_id INTEGER NOT NULL,"
    "  generation INTEGER NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('base', 'incr')),"
    "  start INTEGER NOT NULL,"
    "  end INTEGER NOT NULL CHECK (end >= start),"
    "  crc32 INTEGER NOT NULL,"
    "  stored_bytes INTEGER NOT NULL,"
    "  first INTEGER NOT NULL,"
    "  last INTEGER NOT NULL,"
    "  key TEXT NOT NULL UNIQUE,"
    "  FOREIGN KEY (instance_id, generation) REFERENCES generations(instance_id, generation)"
    ");"
    /* index_chunks, index_chunk_last, listing a whole instance, and the
     * foreign key's child lookup when a generation is deleted */
    "CREATE UNIQUE INDEX chunks_position ON chunks(instance_id, generation, kind, start);"
    /* index_chunks_between with a lower bound (since); `first` rides along
     * so that the upper bound is tested in the index, not the table */
    "CREATE INDEX chunks_last ON chunks(instance_id, last, first);"
    /* index_chunks_between with only an upper bound (until) */
    "CREATE INDEX chunks_first ON chunks(instance_id, first);"
    "CREATE TABLE size_log ("
    "  instance_id INTEGER NOT NULL,"
    "  generation INTEGER NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  file TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  FOREIGN KEY (instance_id, generation) REFERENCES generations(instance_id, generation)"
    ");"
    "CREATE INDEX size_log_time ON size_log(instance_id, generation, time, size);"
    "CREATE INDEX size_log_size ON size_log(instance_id, generation, size, time);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  instance_id INTEGER NOT NULL REFERENCES instances(id),"
    "  time INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL"
    ");"
    "CREATE INDEX events_time ON events(instance_id, time);"
    "CREATE TABLE status ("
    "  instance_id INTEGER PRIMARY KEY REFERENCES instances(id),"
    "  last_poll INTEGER NOT NULL,"
    "  poll_interval_ms INTEGER NOT NULL,"
    "  generation INTEGER NOT NULL,"
    "  current_file TEXT NOT NULL,"
    "  current_size INTEGER NOT NULL,"
    "  shipped INTEGER NOT NULL,"
    "  shipped_time INTEGER NOT NULL,"
    "  last_barrier INTEGER NOT NULL,"
    "  last_error_time INTEGER NOT NULL,"
    "  last_error TEXT NOT NULL,"
    "  pid INTEGER NOT NULL"
    ");"
    "PRAGMA application_id = " INDEX_STR(INDEX_APPLICATION_ID) ";",
    /* 1 -> 2: the SHA-256 of every chunk's stored object (NULL where it
     * was not recorded), and the health of the last poll in the status
     * row: why it failed ('' when it did not) and since when Redis has
     * been unreachable (0 while it answers). */
    "ALTER TABLE chunks ADD COLUMN sha256 BLOB CHECK (sha256 IS NULL OR length(sha256) = 32);"
    "ALTER TABLE status ADD COLUMN poll_error TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE status ADD COLUMN redis_down_since INTEGER NOT NULL DEFAULT 0;",
    /* 2 -> 3: what restores need to be exact to the second across
     * barriers and never across a gap (window.h, chunkscan.h), and the
     * barrier's and the AOF's state in the heartbeat. NULL is unknown:
     * rows from before keep their old meaning. */
    "ALTER TABLE generations ADD COLUMN exact INTEGER CHECK (exact IN (0, 1));"
    "ALTER TABLE generations ADD COLUMN follows INTEGER CHECK (follows IN (0, 1));"
    "ALTER TABLE generations ADD COLUMN lead_ts INTEGER;"
    "ALTER TABLE generations ADD COLUMN proven_end INTEGER;"
    "ALTER TABLE chunks ADD COLUMN ts_first INTEGER;"
    "ALTER TABLE chunks ADD COLUMN ts_last INTEGER;"
    "ALTER TABLE chunks ADD COLUMN boundary INTEGER;"
    "ALTER TABLE chunks ADD COLUMN boundary_db INTEGER;"
    "ALTER TABLE chunks ADD COLUMN boundary_ts INTEGER;"
    "ALTER TABLE status ADD COLUMN barrier_postponed_since INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE status ADD COLUMN barrier_postponed_why TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE status ADD COLUMN barrier_overdue INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE status ADD COLUMN aof_off_since INTEGER NOT NULL DEFAULT 0;",
};

#define INDEX_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define GEN_COLS                                                                                             \
    "instance_id, generation, mode, base_file, base_format, base_size, base_complete, base_crc32, "          \
    "base_time, incr_file, started, ended, end_reason, exact, follows, lead_ts, proven_end"
#define CHUNK_COLS                                                                                           \
    "id, instance_id, generation, kind, start, end, crc32, stored_bytes, first, last, key, sha256, "         \
    "ts_first, ts_last, boundary, boundary_db, boundary_ts"
#define EVENT_COLS "id, instance_id, time, kind, detail"
#define STATUS_COLS                                                                                          \
    "instance_id, last_poll, poll_interval_ms, generation, current_file, current_size, shipped, "            \
    "shipped_time, last_barrier, last_error_time, last_error, pid, poll_error, redis_down_since, "           \
    "barrier_postponed_since, barrier_postponed_why, barrier_overdue, aof_off_since"

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_INSTANCE_GET,
    S_INSTANCE_ADD,
    S_INSTANCE_NAMES,
    S_GEN_ADD,
    S_GEN_UPDATE,
    S_GEN_GET,
    S_GEN_LATEST,
    S_GEN_LIST,
    S_GEN_DEL_CHUNKS,
    S_GEN_DEL_SIZELOG,
    S_GEN_DEL,
    S_CHUNK_ADD,
    S_CHUNK_GET,
    S_CHUNK_BY_KEY,
    S_CHUNK_LAST,
    S_CHUNK_RESUME,
    S_GEN_LAST_TS,
    S_CHUNK_ANY,
    S_CHUNK_RENAME,
    S_CHUNKS_FROM,
    S_CHUNKS_ALL,
    S_CHUNKS_SINCE,
    S_CHUNKS_UNTIL,
    S_SIZELOG_ADD,
    S_SIZELOG_AT,
    S_SIZELOG_TIME_OF,
    S_EVENT_ADD,
    S_EVENTS,
    S_STATUS_PUT,
    S_STATUS_GET,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT index_op",
    [S_RELEASE] = "RELEASE index_op",
    [S_ROLLBACK_TO] = "ROLLBACK TO index_op",
    [S_INSTANCE_GET] = "SELECT id FROM instances WHERE name = ?1",
    [S_INSTANCE_ADD] = "INSERT INTO instances(name, created) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
    [S_INSTANCE_NAMES] = "SELECT id, name FROM instances ORDER BY name",
    [S_GEN_ADD] = "INSERT INTO generations(" GEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                  "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [S_GEN_UPDATE] = "UPDATE generations SET base_file = ?4, base_format = ?5, base_size = ?6, "
                     "base_complete = ?7, base_crc32 = ?8, base_time = ?9, incr_file = ?10, "
                     "ended = ?12, end_reason = ?13, exact = ?14, follows = ?15, lead_ts = ?16, "
                     "proven_end = ?17 WHERE instance_id = ?1 AND generation = ?2",
    [S_GEN_GET] = "SELECT " GEN_COLS " FROM generations WHERE instance_id = ?1 AND generation = ?2",
    [S_GEN_LATEST] = "SELECT " GEN_COLS " FROM generations WHERE instance_id = ?1 "
                     "ORDER BY generation DESC LIMIT 1",
    [S_GEN_LIST] = "SELECT " GEN_COLS " FROM generations WHERE instance_id = ?1 ORDER BY generation",
    [S_GEN_DEL_CHUNKS] = "DELETE FROM chunks WHERE instance_id = ?1 AND generation = ?2",
    [S_GEN_DEL_SIZELOG] = "DELETE FROM size_log WHERE instance_id = ?1 AND generation = ?2",
    [S_GEN_DEL] = "DELETE FROM generations WHERE instance_id = ?1 AND generation = ?2",
    [S_CHUNK_ADD] = "INSERT INTO chunks(instance_id, generation, kind, start, end, crc32, stored_bytes, "
                    "first, last, key, sha256, ts_first, ts_last, boundary, boundary_db, boundary_ts) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    [S_CHUNK_GET] = "SELECT " CHUNK_COLS " FROM chunks WHERE id = ?1",
    [S_CHUNK_BY_KEY] = "SELECT " CHUNK_COLS " FROM chunks WHERE key = ?1",
    /* chunks of one (instance, generation, kind) never overlap, so the
     * highest start is also the highest end */
    [S_CHUNK_LAST] = "SELECT " CHUNK_COLS " FROM chunks WHERE instance_id = ?1 AND generation = ?2 "
                     "AND kind = ?3 ORDER BY start DESC LIMIT 1",
    [S_CHUNK_RESUME] = "SELECT " CHUNK_COLS " FROM chunks WHERE instance_id = ?1 AND generation = ?2 "
                       "AND kind = 'incr' AND boundary IS NOT NULL ORDER BY start DESC LIMIT 1",
    [S_GEN_LAST_TS] = "SELECT max(ts_last) FROM chunks WHERE instance_id = ?1 AND generation = ?2 "
                      "AND kind = 'incr'",
    [S_CHUNK_ANY] = "SELECT 1 FROM chunks WHERE instance_id = ?1 LIMIT 1",
    /* the row keeps its digest (the gzip member's) unless it had none */
    [S_CHUNK_RENAME] = "UPDATE chunks SET key = ?3, stored_bytes = ?4, sha256 = coalesce(sha256, ?5) "
                       "WHERE id = ?1 AND key = ?2",
    [S_CHUNKS_FROM] = "SELECT " CHUNK_COLS " FROM chunks WHERE instance_id = ?1 AND generation = ?2 "
                      "AND kind = ?3 AND end > ?4 ORDER BY start",
    /* index_chunks_between: the whole instance streams in position order;
     * a bounded window reads only the rows near it through the time index
     * named (INDEXED BY makes a lost index an error, never a silent scan)
     * and sorts that handful */
    [S_CHUNKS_ALL] = "SELECT " CHUNK_COLS " FROM chunks WHERE instance_id = ?1 "
                     "ORDER BY generation, kind, start",
    [S_CHUNKS_SINCE] = "SELECT " CHUNK_COLS " FROM chunks INDEXED BY chunks_last WHERE instance_id = ?1 "
                       "AND last >= ?2 AND first <= ?3 ORDER BY generation, kind, start",
    [S_CHUNKS_UNTIL] = "SELECT " CHUNK_COLS " FROM chunks INDEXED BY chunks_first WHERE instance_id = ?1 "
                       "AND first <= ?2 ORDER BY generation, kind, start",
    [S_SIZELOG_ADD] = "INSERT INTO size_log(instance_id, generation, time, file, size) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
    /* the incr file of a generation only grows, so the newest entry at or
     * before t holds the largest size, and the smallest size >= offset
     * was seen first */
    [S_SIZELOG_AT] = "SELECT size FROM size_log WHERE instance_id = ?1 AND generation = ?2 "
                     "AND time <= ?3 ORDER BY time DESC, size DESC LIMIT 1",
    [S_SIZELOG_TIME_OF] = "SELECT time FROM size_log WHERE instance_id = ?1 AND generation = ?2 "
                          "AND size >= ?3 ORDER BY size, time LIMIT 1",
    [S_EVENT_ADD] = "INSERT INTO events(instance_id, time, kind, detail) VALUES (?1, ?2, ?3, ?4)",
    [S_EVENTS] = "SELECT " EVENT_COLS " FROM events WHERE instance_id = ?1 AND time >= ?2 "
                 "ORDER BY time, id",
    [S_STATUS_PUT] = "INSERT OR REPLACE INTO status(" STATUS_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                     "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    [S_STATUS_GET] = "SELECT " STATUS_COLS " FROM status WHERE instance_id = ?1",
};

/* ------------------------------------------------------------------------
 * Handle and errors
 * --------------------------------------------------------------------- */

struct index {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmts[S_COUNT];
};

static const char corrupt_hint[] = "HINT: rebuild it with aofroll reindex";

/* Fill `e` from the connection's last error: "index "PATH": WHAT: sqlite
 * message", or the corrupt form with its hint. `what` may be NULL. */
static int idx_fail(struct index *idx, struct err *e, const char *what_fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int idx_fail(struct index *idx, struct err *e, const char *what_fmt, ...)
{
    char what[512] = "";
    const char *sep = "";
    int ext = sqlite3_extended_errcode(idx->db);
    int rc = ext & 0xff;
    enum err_code code = ERR_IO;
    va_list ap;

    if (what_fmt != NULL) {
        va_start(ap, what_fmt);
        vsnprintf(what, sizeof(what), what_fmt, ap);
        va_end(ap);
        sep = ": ";
    }
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
        return err_set(e, ERR_CORRUPT, "index \"%s\" is corrupt: %s%s%s. %s", idx->path, what, sep,
                       sqlite3_errmsg(idx->db), corrupt_hint);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        code = ERR_BUSY;
    else if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        code = ERR_EXISTS;
    else if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        code = ERR_NOTFOUND;
    return err_set(e, code, "index \"%s\": %s%s%s", idx->path, what, sep, sqlite3_errmsg(idx->db));
}

/* The statement `id`, prepared on first use. */
static sqlite3_stmt *idx_stmt(struct index *idx, enum stmt_id id, struct err *e)
{
    if (idx->stmts[id] == NULL && sqlite3_prepare_v3(idx->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                                     &idx->stmts[id], NULL) != SQLITE_OK) {
        idx_fail(idx, e, "preparing \"%s\"", stmt_sql[id]);
        return NULL;
    }
    return idx->stmts[id];
}

/* Make a used statement ready for the next call. */
static void idx_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Step a statement that returns no rows, then reset it. */
static int idx_run(struct index *idx, sqlite3_stmt *st, struct err *e, const char *what)
{
    int ret = 0;

    if (sqlite3_step(st) != SQLITE_DONE)
        ret = idx_fail(idx, e, "%s", what);
    idx_done(st);
    return ret;
}

static int idx_run_id(struct index *idx, enum stmt_id id, struct err *e, const char *what)
{
    sqlite3_stmt *st = idx_stmt(idx, id, e);

    if (st == NULL)
        return -1;
    return idx_run(idx, st, e, what);
}

static void bind_u64(sqlite3_stmt *st, int col, uint64_t v)
{
    /* offsets and sizes stay below 2^63; the cast round-trips anyway */
    sqlite3_bind_int64(st, col, (sqlite3_int64)v);
}

static void bind_str(sqlite3_stmt *st, int col, const char *s)
{
    sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
}

static uint64_t col_u64(sqlite3_stmt *st, int col)
{
    return (uint64_t)sqlite3_column_int64(st, col);
}

static void col_str(sqlite3_stmt *st, int col, char *dst, size_t n)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    snprintf(dst, n, "%s", s != NULL ? (const char *)s : "");
}

static int col_is(sqlite3_stmt *st, int col, const char *word)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return s != NULL && strcmp((const char *)s, word) == 0;
}

/* GEN_YES/GEN_NO as 1/0, GEN_UNKNOWN as NULL; and back. */
static void bind_tri(sqlite3_stmt *st, int col, int v)
{
    if (v == GEN_UNKNOWN)
        sqlite3_bind_null(st, col);
    else
        sqlite3_bind_int(st, col, v == GEN_YES ? 1 : 0);
}

static int col_tri(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return GEN_UNKNOWN;
    return sqlite3_column_int(st, col) ? GEN_YES : GEN_NO;
}

/* 0 (unknown) as NULL. */
static void bind_nonzero(sqlite3_stmt *st, int col, int64_t v)
{
    if (v == 0)
        sqlite3_bind_null(st, col);
    else
        sqlite3_bind_int64(st, col, v);
}

static const char *kind_word(enum chunk_kind k)
{
    return k == CHUNK_BASE ? "base" : "incr";
}

static void gen_read(sqlite3_stmt *st, struct gen_row *g)
{
    g->instance_id = sqlite3_column_int64(st, 0);
    g->generation = sqlite3_column_int64(st, 1);
    g->mode = col_is(st, 2, "rdb") ? MODE_RDB : MODE_AOF;
    col_str(st, 3, g->base_file, sizeof(g->base_file));
    g->base_format = col_is(st, 4, "aof") ? BASE_AOF : BASE_RDB;
    g->base_size = col_u64(st, 5);
    g->base_complete = sqlite3_column_int(st, 6);
    g->base_crc32 = (uint32_t)sqlite3_column_int64(st, 7);
    g->base_time = sqlite3_column_int64(st, 8);
    col_str(st, 9, g->incr_file, sizeof(g->incr_file));
    g->started = sqlite3_column_int64(st, 10);
    g->ended = sqlite3_column_int64(st, 11);
    col_str(st, 12, g->end_reason, sizeof(g->end_reason));
    g->exact = col_tri(st, 13);
    g->follows = col_tri(st, 14);
    g->lead_ts = sqlite3_column_int64(st, 15); /* NULL reads as 0: unknown */
    g->proven_end = sqlite3_column_int64(st, 16);
}

/* Bind all of GEN_COLS as ?1..?17. */
static void gen_bind(sqlite3_stmt *st, const struct gen_row *g)
{
    sqlite3_bind_int64(st, 1, g->instance_id);
    sqlite3_bind_int64(st, 2, g->generation);
    bind_str(st, 3, g->mode == MODE_RDB ? "rdb" : "aof");
    bind_str(st, 4, g->base_file);
    bind_str(st, 5, g->base_format == BASE_AOF ? "aof" : "rdb");
    bind_u64(st, 6, g->base_size);
    sqlite3_bind_int(st, 7, g->base_complete ? 1 : 0);
    sqlite3_bind_int64(st, 8, g->base_crc32);
    sqlite3_bind_int64(st, 9, g->base_time);
    bind_str(st, 10, g->incr_file);
    sqlite3_bind_int64(st, 11, g->started);
    sqlite3_bind_int64(st, 12, g->ended);
    bind_str(st, 13, g->end_reason);
    bind_tri(st, 14, g->exact);
    bind_tri(st, 15, g->follows);
    bind_nonzero(st, 16, g->lead_ts);
    bind_nonzero(st, 17, g->proven_end);
}

static void chunk_read(sqlite3_stmt *st, struct chunk_row *c)
{
    c->id = sqlite3_column_int64(st, 0);
    c->instance_id = sqlite3_column_int64(st, 1);
    c->generation = sqlite3_column_int64(st, 2);
    c->kind = col_is(st, 3, "base") ? CHUNK_BASE : CHUNK_INCR;
    c->start = col_u64(st, 4);
    c->end = col_u64(st, 5);
    c->crc32 = (uint32_t)sqlite3_column_int64(st, 6);
    c->stored_bytes = col_u64(st, 7);
    c->first = sqlite3_column_int64(st, 8);
    c->last = sqlite3_column_int64(st, 9);
    col_str(st, 10, c->key, sizeof(c->key));
    c->has_sha256 = sqlite3_column_type(st, 11) == SQLITE_BLOB && sqlite3_column_bytes(st, 11) == 32;
    if (c->has_sha256)
        memcpy(c->sha256, sqlite3_column_blob(st, 11), 32);
    else
        memset(c->sha256, 0, sizeof(c->sha256));
    /* the marks are recorded together: boundary_db is NULL exactly when
     * no marks were recorded (boundary itself may be NULL: none) */
    c->marks_known = sqlite3_column_type(st, 15) != SQLITE_NULL;
    c->ts_first = sqlite3_column_int64(st, 12);
    c->ts_last = sqlite3_column_int64(st, 13);
    c->boundary = sqlite3_column_type(st, 14) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 14);
    c->boundary_db = c->marks_known ? sqlite3_column_int(st, 15) : 0;
    c->boundary_ts = sqlite3_column_int64(st, 16);
}

/* Step `st` (bound by the caller) and hand each chunk row to `cb`; resets
 * `st` on every path. */
static int chunk_iterate(struct index *idx, sqlite3_stmt *st, index_chunk_cb cb, void *ud, struct err *e)
{
    struct chunk_row c;
    int rc;
    int ret = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        chunk_read(st, &c);
        if (cb(ud, &c) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = idx_fail(idx, e, "listing chunks");
    idx_done(st);
    return ret;
}

/* Step a single-row lookup: 1 with the row ready, 0 when there is none,
 * -1 on error (statement reset). On 1 the caller reads then resets. */
static int idx_row(struct index *idx, sqlite3_stmt *st, struct err *e, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        idx_done(st);
        return 0;
    }
    idx_fail(idx, e, "%s", what);
    idx_done(st);
    return -1;
}

/* ------------------------------------------------------------------------
 * Open, close, transactions
 * --------------------------------------------------------------------- */

static int pragma_int(struct index *idx, const char *name, int *out, struct err *e)
{
    char sql[64];
    sqlite3_stmt *st = NULL;
    int ret = -1;

    snprintf(sql, sizeof(sql), "PRAGMA %s", name);
    if (sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL) != SQLITE_OK) {
        idx_fail(idx, e, NULL);
        goto out;
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        idx_fail(idx, e, "reading %s", name);
        goto out;
    }
    *out = sqlite3_column_int(st, 0);
    ret = 0;
out:
    sqlite3_finalize(st);
    return ret;
}

static int check_version(struct index *idx, int version, struct err *e)
{
    int app_id;

    if (version > INDEX_SCHEMA_VERSION)
        return err_set(e, ERR_CORRUPT,
                       "index \"%s\" has schema version %d, newer than this aofroll knows (%d). "
                       "HINT: upgrade aofroll",
                       idx->path, version, INDEX_SCHEMA_VERSION);
    if (version == 0)
        return 0;
    if (pragma_int(idx, "application_id", &app_id, e) < 0)
        return -1;
    if (app_id != INDEX_APPLICATION_ID)
        return err_set(e, ERR_CORRUPT, "index \"%s\" is not an aofroll index (application_id %d)", idx->path,
                       app_id);
    return 0;
}

/* Apply the missing migration steps, one transaction each. */
static int index_migrate(struct index *idx, struct err *e)
{
    char sql[64];
    int version;

    for (;;) {
        if (sqlite3_exec(idx->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return idx_fail(idx, e, NULL);
        if (pragma_int(idx, "user_version", &version, e) < 0 || check_version(idx, version, e) < 0)
            goto fail;
        if (version == INDEX_SCHEMA_VERSION)
            break;
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
        if (sqlite3_exec(idx->db, migrations[version], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(idx->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            idx_fail(idx, e, "migrating from schema version %d", version);
            goto fail;
        }
        if (sqlite3_exec(idx->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            idx_fail(idx, e, "migrating from schema version %d", version);
            goto fail;
        }
    }
    if (sqlite3_exec(idx->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return idx_fail(idx, e, NULL);
    return 0;
fail:
    sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* Switch to WAL mode. Changing the journal mode needs an exclusive lock
 * and SQLite returns SQLITE_BUSY at once, without calling the busy
 * handler, while another connection (another instance thread opening the
 * same new file) holds one; so wait here, within the same 10 s bound. */
static int index_enter_wal(struct index *idx, struct err *e)
{
    int rc;
    int waited_ms = 0;

    for (;;) {
        rc = sqlite3_exec(idx->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        if (waited_ms >= 10000)
            break;
        sqlite3_sleep(20);
        waited_ms += 20;
    }
    if (rc != SQLITE_OK)
        return idx_fail(idx, e, "switching to WAL mode");
    return 0;
}

int index_schema_version(void)
{
    return INDEX_SCHEMA_VERSION;
}

enum index_open_mode { INDEX_READONLY, INDEX_WRITER, INDEX_COPY };

static int index_open_mode(const char *path, enum index_open_mode mode, struct index **out, struct err *e)
{
    struct index *idx = xcalloc(1, sizeof(*idx));
    int flags = SQLITE_OPEN_NOMUTEX;
    int version;
    int ret = -1;

    *out = NULL;
    idx->path = xstrdup(path);
    flags |= mode == INDEX_READONLY ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (mode == INDEX_WRITER)
        flags |= SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &idx->db, flags, NULL) != SQLITE_OK) {
        if (idx->db != NULL && sqlite3_system_errno(idx->db) != 0)
            err_sys(e, sqlite3_system_errno(idx->db), "cannot open index \"%s\"", path);
        else if (idx->db != NULL)
            idx_fail(idx, e, "opening");
        else
            err_set(e, ERR_IO, "cannot open index \"%s\": out of memory", path);
        goto out;
    }
    sqlite3_extended_result_codes(idx->db, 1);
    /* Writers queue behind each other for up to 10 s instead of failing. */
    sqlite3_busy_timeout(idx->db, 10000);
    /* synchronous=NORMAL: in WAL mode a commit is not fsynced, only each
     * checkpoint is, so a power loss can drop the last transactions but
     * never corrupts the file. That is safe here because a row is written
     * only after its object is stored: a lost row describes an object that
     * exists, and the collector's start-up reconciliation of storage
     * against the index records it again. FULL would cost an fsync per
     * chunk for nothing. */
    if (sqlite3_exec(idx->db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", NULL, NULL, NULL) !=
        SQLITE_OK) {
        idx_fail(idx, e, NULL);
        goto out;
    }
    if (mode == INDEX_READONLY) {
        if (pragma_int(idx, "user_version", &version, e) < 0 || check_version(idx, version, e) < 0)
            goto out;
        if (version < INDEX_SCHEMA_VERSION) {
            err_set(e, ERR_CORRUPT,
                    "index \"%s\" has schema version %d, this aofroll reads version %d. "
                    "HINT: let the collector open it once to migrate it",
                    path, version, INDEX_SCHEMA_VERSION);
            goto out;
        }
    } else {
        if (mode == INDEX_WRITER && index_enter_wal(idx, e) < 0)
            goto out;
        if (index_migrate(idx, e) < 0)
            goto out;
    }
    *out = idx;
    idx = NULL;
    ret = 0;
out:
    index_close(idx);
    return ret;
}

int index_open(const char *path, int readonly, struct index **out, struct err *e)
{
    return index_open_mode(path, readonly ? INDEX_READONLY : INDEX_WRITER, out, e);
}

int index_open_copy(const char *path, struct index **out, struct err *e)
{
    return index_open_mode(path, INDEX_COPY, out, e);
}

void index_close(struct index *idx)
{
    int i;

    if (idx == NULL)
        return;
    for (i = 0; i < S_COUNT; i++)
        sqlite3_finalize(idx->stmts[i]);
    sqlite3_close(idx->db);
    free(idx->path);
    free(idx);
}

int index_begin(struct index *idx, struct err *e)
{
    return idx_run_id(idx, S_BEGIN, e, "beginning a transaction");
}

int index_commit(struct index *idx, struct err *e)
{
    return idx_run_id(idx, S_COMMIT, e, "committing");
}

void index_rollback(struct index *idx)
{
    struct err ignored;

    if (!sqlite3_get_autocommit(idx->db))
        idx_run_id(idx, S_ROLLBACK, &ignored, "rolling back");
}

/* Make a multi-statement write atomic: its own IMMEDIATE transaction
 * (the write lock up front, waiting on busy_timeout) when the caller has
 * none open, else a savepoint inside the caller's. */
static int op_begin(struct index *idx, int *own, struct err *e)
{
    *own = sqlite3_get_autocommit(idx->db);
    return idx_run_id(idx, *own ? S_BEGIN : S_SAVEPOINT, e, "beginning a transaction");
}

/* Commit when `ok`, else (or when that fails) undo; `e` keeps the first error. */
static int op_end(struct index *idx, int own, int ok, struct err *e)
{
    struct err ignored;

    if (ok && idx_run_id(idx, own ? S_COMMIT : S_RELEASE, e, "committing") == 0)
        return 0;
    if (own) {
        index_rollback(idx);
    } else {
        idx_run_id(idx, S_ROLLBACK_TO, &ignored, "rolling back a savepoint");
        idx_run_id(idx, S_RELEASE, &ignored, "releasing a savepoint");
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Instances
 * --------------------------------------------------------------------- */

static int instance_lookup(struct index *idx, const char *name, int64_t *id, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_INSTANCE_GET, e);
    int found;

    if (st == NULL)
        return -1;
    bind_str(st, 1, name);
    found = idx_row(idx, st, e, "looking up an instance");
    if (found == 1) {
        *id = sqlite3_column_int64(st, 0);
        idx_done(st);
    }
    return found;
}

int index_instance_id(struct index *idx, const char *name, int create, int64_t *id, struct err *e)
{
    sqlite3_stmt *st;
    int found = instance_lookup(idx, name, id, e);

    if (found != 0)
        return found < 0 ? -1 : 0;
    if (!create)
        return err_set(e, ERR_NOTFOUND, "instance \"%s\" not found in index \"%s\"", name, idx->path);
    st = idx_stmt(idx, S_INSTANCE_ADD, e);
    if (st == NULL)
        return -1;
    bind_str(st, 1, name);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    if (idx_run(idx, st, e, "adding an instance") < 0)
        return -1;
    /* another writer may have added it first: read back what is there */
    found = instance_lookup(idx, name, id, e);
    if (found == 0)
        return err_set(e, ERR_IO, "index \"%s\": instance \"%s\" vanished after adding it", idx->path, name);
    return found < 0 ? -1 : 0;
}

int index_instance_names(struct index *idx, int (*cb)(void *ud, int64_t id, const char *name), void *ud,
                         struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_INSTANCE_NAMES, e);
    int rc;
    int ret = 0;

    if (st == NULL)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cb(ud, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1)) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = idx_fail(idx, e, "listing instances");
    idx_done(st);
    return ret;
}

/* ------------------------------------------------------------------------
 * Generations
 * --------------------------------------------------------------------- */

int index_generation_add(struct index *idx, const struct gen_row *g, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_GEN_ADD, e);
    char what[96];

    if (st == NULL)
        return -1;
    gen_bind(st, g);
    snprintf(what, sizeof(what), "adding generation %lld of instance %lld", (long long)g->generation,
             (long long)g->instance_id);
    return idx_run(idx, st, e, what);
}

int index_generation_update(struct index *idx, const struct gen_row *g, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_GEN_UPDATE, e);
    char what[96];

    if (st == NULL)
        return -1;
    gen_bind(st, g);
    snprintf(what, sizeof(what), "updating generation %lld of instance %lld", (long long)g->generation,
             (long long)g->instance_id);
    if (idx_run(idx, st, e, what) < 0)
        return -1;
    if (sqlite3_changes(idx->db) == 0)
        return err_set(e, ERR_NOTFOUND, "generation %lld of instance %lld not found in index \"%s\"",
                       (long long)g->generation, (long long)g->instance_id, idx->path);
    return 0;
}

/* Run a bound single-generation lookup into `out`; 0 found, 1 none, -1 error. */
static int gen_fetch(struct index *idx, sqlite3_stmt *st, struct gen_row *out, struct err *e)
{
    int found = idx_row(idx, st, e, "reading a generation");

    if (found < 0)
        return -1;
    if (found == 0)
        return 1;
    gen_read(st, out);
    idx_done(st);
    return 0;
}

int index_generation_get(struct index *idx, int64_t instance_id, int64_t generation, struct gen_row *out,
                         struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_GEN_GET, e);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, generation);
    rc = gen_fetch(idx, st, out, e);
    if (rc == 1)
        return err_set(e, ERR_NOTFOUND, "generation %lld of instance %lld not found in index \"%s\"",
                       (long long)generation, (long long)instance_id, idx->path);
    return rc;
}

int index_generation_latest(struct index *idx, int64_t instance_id, struct gen_row *out, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_GEN_LATEST, e);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    rc = gen_fetch(idx, st, out, e);
    if (rc == 1)
        return err_set(e, ERR_NOTFOUND, "no generations of instance %lld in index \"%s\"",
                       (long long)instance_id, idx->path);
    return rc;
}

int index_generations(struct index *idx, int64_t instance_id, index_gen_cb cb, void *ud, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_GEN_LIST, e);
    struct gen_row g;
    int rc;
    int ret = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        gen_read(st, &g);
        if (cb(ud, &g) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = idx_fail(idx, e, "listing generations");
    idx_done(st);
    return ret;
}

int index_generation_delete(struct index *idx, int64_t instance_id, int64_t generation, struct err *e)
{
    static const enum stmt_id steps[] = {S_GEN_DEL_CHUNKS, S_GEN_DEL_SIZELOG, S_GEN_DEL};
    sqlite3_stmt *st;
    char what[96];
    size_t i;
    int own;
    int ok = 0;

    snprintf(what, sizeof(what), "deleting generation %lld of instance %lld", (long long)generation,
             (long long)instance_id);
    if (op_begin(idx, &own, e) < 0)
        return -1;
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        st = idx_stmt(idx, steps[i], e);
        if (st == NULL)
            goto out;
        sqlite3_bind_int64(st, 1, instance_id);
        sqlite3_bind_int64(st, 2, generation);
        if (idx_run(idx, st, e, what) < 0)
            goto out;
    }
    /* the last step deleted the generation row itself */
    if (sqlite3_changes(idx->db) == 0) {
        err_set(e, ERR_NOTFOUND, "generation %lld of instance %lld not found in index \"%s\"",
                (long long)generation, (long long)instance_id, idx->path);
        goto out;
    }
    ok = 1;
out:
    return op_end(idx, own, ok, e);
}

/* ------------------------------------------------------------------------
 * Chunks
 * --------------------------------------------------------------------- */

int index_chunk_add(struct index *idx, struct chunk_row *c, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_CHUNK_ADD, e);
    int ret;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, c->instance_id);
    sqlite3_bind_int64(st, 2, c->generation);
    bind_str(st, 3, kind_word(c->kind));
    bind_u64(st, 4, c->start);
    bind_u64(st, 5, c->end);
    sqlite3_bind_int64(st, 6, c->crc32);
    bind_u64(st, 7, c->stored_bytes);
    sqlite3_bind_int64(st, 8, c->first);
    sqlite3_bind_int64(st, 9, c->last);
    bind_str(st, 10, c->key);
    if (c->has_sha256)
        sqlite3_bind_blob(st, 11, c->sha256, (int)sizeof(c->sha256), SQLITE_STATIC);
    if (c->marks_known) {
        bind_nonzero(st, 12, c->ts_first);
        bind_nonzero(st, 13, c->ts_last);
        if (c->boundary >= 0)
            sqlite3_bind_int64(st, 14, c->boundary);
        /* boundary_db is set whenever marks are: -1 when no boundary */
        sqlite3_bind_int(st, 15, c->boundary >= 0 ? c->boundary_db : -1);
        bind_nonzero(st, 16, c->boundary_ts);
    }
    if (sqlite3_step(st) == SQLITE_DONE) {
        c->id = sqlite3_last_insert_rowid(idx->db);
        ret = 0;
    } else {
        ret = idx_fail(idx, e, "adding chunk \"%s\"", c->key);
    }
    idx_done(st);
    return ret;
}

/* Run a bound single-chunk lookup into `out`; 0 found, 1 none, -1 error. */
static int chunk_fetch(struct index *idx, sqlite3_stmt *st, struct chunk_row *out, struct err *e)
{
    int found = idx_row(idx, st, e, "reading a chunk");

    if (found < 0)
        return -1;
    if (found == 0)
        return 1;
    chunk_read(st, out);
    idx_done(st);
    return 0;
}

int index_chunk_get(struct index *idx, int64_t id, struct chunk_row *out, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_CHUNK_GET, e);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    rc = chunk_fetch(idx, st, out, e);
    if (rc == 1)
        return err_set(e, ERR_NOTFOUND, "chunk %lld not found in index \"%s\"", (long long)id, idx->path);
    return rc;
}

int index_chunk_by_key(struct index *idx, const char *key, struct chunk_row *out, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_CHUNK_BY_KEY, e);
    int rc;

    if (st == NULL)
        return -1;
    bind_str(st, 1, key);
    rc = chunk_fetch(idx, st, out, e);
    if (rc == 1)
        return err_set(e, ERR_NOTFOUND, "chunk \"%s\" not found in index \"%s\"", key, idx->path);
    return rc;
}

int index_chunk_rename(struct index *idx, const struct chunk_row *c, const char *key, uint64_t stored_bytes,
                       const unsigned char sha256[32], struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_CHUNK_RENAME, e);
    char what[OBJNAME_MAX + 32];

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, c->id);
    bind_str(st, 2, c->key);
    bind_str(st, 3, key);
    bind_u64(st, 4, stored_bytes);
    if (sha256 != NULL)
        sqlite3_bind_blob(st, 5, sha256, 32, SQLITE_STATIC);
    snprintf(what, sizeof(what), "renaming chunk \"%s\"", c->key);
    if (idx_run(idx, st, e, what) < 0)
        return -1;
    if (sqlite3_changes(idx->db) == 0)
        return err_set(e, ERR_NOTFOUND, "chunk \"%s\" not found in index \"%s\"", c->key, idx->path);
    return 0;
}

int index_chunk_any(struct index *idx, int64_t instance_id, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_CHUNK_ANY, e);
    int found;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    found = idx_row(idx, st, e, "looking for a chunk");
    if (found == 1)
        idx_done(st);
    return found;
}

int index_chunk_last(struct index *idx, int64_t instance_id, int64_t generation, enum chunk_kind kind,
                     struct chunk_row *out, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_CHUNK_LAST, e);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, generation);
    bind_str(st, 3, kind_word(kind));
    rc = chunk_fetch(idx, st, out, e);
    if (rc == 1)
        return err_set(e, ERR_NOTFOUND, "no %s chunks in generation %lld of instance %lld in index \"%s\"",
                       kind_word(kind), (long long)generation, (long long)instance_id, idx->path);
    return rc;
}

int index_chunk_resume_point(struct index *idx, int64_t instance_id, int64_t generation,
                             struct chunk_row *out, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_CHUNK_RESUME, e);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, generation);
    rc = chunk_fetch(idx, st, out, e);
    if (rc == 1)
        return err_set(
            e, ERR_NOTFOUND,
            "no incr chunk of generation %lld of instance %lld records a command boundary in index "
            "\"%s\"",
            (long long)generation, (long long)instance_id, idx->path);
    return rc;
}

int index_generation_last_ts(struct index *idx, int64_t instance_id, int64_t generation, int64_t *ts,
                             struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_GEN_LAST_TS, e);
    int found;

    *ts = 0;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, generation);
    found = idx_row(idx, st, e, "reading a generation's last #TS");
    if (found < 0)
        return -1;
    if (found == 1) {
        *ts = sqlite3_column_int64(st, 0); /* max() of no rows is NULL: 0 */
        idx_done(st);
    }
    return 0;
}

int index_chunks(struct index *idx, int64_t instance_id, int64_t generation, enum chunk_kind kind,
                 uint64_t from, index_chunk_cb cb, void *ud, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_CHUNKS_FROM, e);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, generation);
    bind_str(st, 3, kind_word(kind));
    bind_u64(st, 4, from > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : from);
    return chunk_iterate(idx, st, cb, ud, e);
}

/* index_chunks_between for one instance. */
static int chunks_between_one(struct index *idx, int64_t instance_id, int64_t since, int64_t until,
                              index_chunk_cb cb, void *ud, struct err *e)
{
    sqlite3_stmt *st;

    if (since == INT64_MIN && until == INT64_MAX) {
        st = idx_stmt(idx, S_CHUNKS_ALL, e);
        if (st == NULL)
            return -1;
    } else if (since != INT64_MIN) {
        st = idx_stmt(idx, S_CHUNKS_SINCE, e);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 2, since);
        sqlite3_bind_int64(st, 3, until);
    } else {
        st = idx_stmt(idx, S_CHUNKS_UNTIL, e);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 2, until);
    }
    sqlite3_bind_int64(st, 1, instance_id);
    return chunk_iterate(idx, st, cb, ud, e);
}

struct id_list {
    int64_t *ids;
    size_t n, cap;
};

static int id_list_add(void *ud, int64_t id, const char *name)
{
    struct id_list *l = ud;

    (void)name;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->ids = xrealloc(l->ids, l->cap * sizeof(*l->ids));
    }
    l->ids[l->n++] = id;
    return 0;
}

/* The chunk callback of a multi-instance listing; remembers a stop. */
struct between_ctx {
    index_chunk_cb cb;
    void *ud;
    int stopped;
};

static int between_relay(void *ud, const struct chunk_row *c)
{
    struct between_ctx *ctx = ud;

    ctx->stopped = ctx->cb(ctx->ud, c);
    return ctx->stopped;
}

int index_chunks_between(struct index *idx, int64_t instance_id, int64_t since, int64_t until,
                         index_chunk_cb cb, void *ud, struct err *e)
{
    struct id_list l = {NULL, 0, 0};
    struct between_ctx ctx = {cb, ud, 0};
    size_t i;
    int ret = -1;

    if (instance_id != 0)
        return chunks_between_one(idx, instance_id, since, until, cb, ud, e);
    /* all instances: the ids first, so that no two listings share a step */
    if (index_instance_names(idx, id_list_add, &l, e) < 0)
        goto out;
    for (i = 0; i < l.n && !ctx.stopped; i++) {
        if (chunks_between_one(idx, l.ids[i], since, until, between_relay, &ctx, e) < 0)
            goto out;
    }
    ret = 0;
out:
    free(l.ids);
    return ret;
}

/* ------------------------------------------------------------------------
 * Size log
 * --------------------------------------------------------------------- */

int index_sizelog_add(struct index *idx, int64_t instance_id, int64_t generation, int64_t t, const char *file,
                      uint64_t size, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_SIZELOG_ADD, e);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, generation);
    sqlite3_bind_int64(st, 3, t);
    bind_str(st, 4, file);
    bind_u64(st, 5, size);
    return idx_run(idx, st, e, "adding to the size log");
}

int index_sizelog_at(struct index *idx, int64_t instance_id, int64_t generation, int64_t t, uint64_t *size,
                     struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_SIZELOG_AT, e);
    int found;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, generation);
    sqlite3_bind_int64(st, 3, t);
    found = idx_row(idx, st, e, "reading the size log");
    if (found < 0)
        return -1;
    if (found == 0)
        return err_set(
            e, ERR_NOTFOUND,
            "no size log entry at or before @%lld for generation %lld of instance %lld in index \"%s\"",
            (long long)t, (long long)generation, (long long)instance_id, idx->path);
    *size = col_u64(st, 0);
    idx_done(st);
    return 0;
}

int index_sizelog_time_of(struct index *idx, int64_t instance_id, int64_t generation, uint64_t offset,
                          int64_t *t, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_SIZELOG_TIME_OF, e);
    int found;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, generation);
    bind_u64(st, 3, offset > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : offset);
    found = idx_row(idx, st, e, "reading the size log");
    if (found < 0)
        return -1;
    if (found == 0)
        return err_set(
            e, ERR_NOTFOUND,
            "size log of generation %lld of instance %lld never reaches offset %llu in index \"%s\"",
            (long long)generation, (long long)instance_id, (unsigned long long)offset, idx->path);
    *t = sqlite3_column_int64(st, 0);
    idx_done(st);
    return 0;
}

/* ------------------------------------------------------------------------
 * Events
 * --------------------------------------------------------------------- */

int index_event_add(struct index *idx, int64_t instance_id, int64_t t, const char *kind, const char *detail,
                    struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_EVENT_ADD, e);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, t);
    bind_str(st, 3, kind);
    bind_str(st, 4, detail != NULL ? detail : "");
    return idx_run(idx, st, e, "adding an event");
}

int index_events(struct index *idx, int64_t instance_id, int64_t since, index_event_cb cb, void *ud,
                 struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_EVENTS, e);
    struct event_row ev;
    int rc;
    int ret = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    sqlite3_bind_int64(st, 2, since);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ev.id = sqlite3_column_int64(st, 0);
        ev.instance_id = sqlite3_column_int64(st, 1);
        ev.time = sqlite3_column_int64(st, 2);
        col_str(st, 3, ev.kind, sizeof(ev.kind));
        col_str(st, 4, ev.detail, sizeof(ev.detail));
        if (cb(ud, &ev) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = idx_fail(idx, e, "listing events");
    idx_done(st);
    return ret;
}

/* ------------------------------------------------------------------------
 * Status
 * --------------------------------------------------------------------- */

int index_status_put(struct index *idx, const struct status_row *s, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_STATUS_PUT, e);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, s->instance_id);
    sqlite3_bind_int64(st, 2, s->last_poll);
    sqlite3_bind_int64(st, 3, s->poll_interval_ms);
    sqlite3_bind_int64(st, 4, s->generation);
    bind_str(st, 5, s->current_file);
    bind_u64(st, 6, s->current_size);
    bind_u64(st, 7, s->shipped);
    sqlite3_bind_int64(st, 8, s->shipped_time);
    sqlite3_bind_int64(st, 9, s->last_barrier);
    sqlite3_bind_int64(st, 10, s->last_error_time);
    bind_str(st, 11, s->last_error);
    sqlite3_bind_int(st, 12, s->pid);
    bind_str(st, 13, s->poll_error);
    sqlite3_bind_int64(st, 14, s->redis_down_since);
    sqlite3_bind_int64(st, 15, s->barrier_postponed_since);
    bind_str(st, 16, s->barrier_postponed_why);
    sqlite3_bind_int(st, 17, s->barrier_overdue ? 1 : 0);
    sqlite3_bind_int64(st, 18, s->aof_off_since);
    return idx_run(idx, st, e, "writing the status");
}

int index_status_get(struct index *idx, int64_t instance_id, struct status_row *out, struct err *e)
{
    sqlite3_stmt *st = idx_stmt(idx, S_STATUS_GET, e);
    int found;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, instance_id);
    found = idx_row(idx, st, e, "reading the status");
    if (found < 0)
        return -1;
    if (found == 0)
        return err_set(e, ERR_NOTFOUND, "no status for instance %lld in index \"%s\"", (long long)instance_id,
                       idx->path);
    out->instance_id = sqlite3_column_int64(st, 0);
    out->last_poll = sqlite3_column_int64(st, 1);
    out->poll_interval_ms = sqlite3_column_int64(st, 2);
    out->generation = sqlite3_column_int64(st, 3);
    col_str(st, 4, out->current_file, sizeof(out->current_file));
    out->current_size = col_u64(st, 5);
    out->shipped = col_u64(st, 6);
    out->shipped_time = sqlite3_column_int64(st, 7);
    out->last_barrier = sqlite3_column_int64(st, 8);
    out->last_error_time = sqlite3_column_int64(st, 9);
    col_str(st, 10, out->last_error, sizeof(out->last_error));
    out->pid = sqlite3_column_int(st, 11);
    col_str(st, 12, out->poll_error, sizeof(out->poll_error));
    out->redis_down_since = sqlite3_column_int64(st, 13);
    out->barrier_postponed_since = sqlite3_column_int64(st, 14);
    col_str(st, 15, out->barrier_postponed_why, sizeof(out->barrier_postponed_why));
    out->barrier_overdue = sqlite3_column_int(st, 16);
    out->aof_off_since = sqlite3_column_int64(st, 17);
    idx_done(st);
    return 0;
}

/* ------------------------------------------------------------------------
 * Backup
 * --------------------------------------------------------------------- */

/* fsync a file or directory by path. */
static int fsync_path(const char *path, int flags, struct err *e)
{
    int fd = open(path, flags | O_CLOEXEC);
    int ret = 0;

    if (fd < 0)
        return err_sys(e, errno, "cannot open \"%s\" to sync it", path);
    if (fsync(fd) < 0)
        ret = err_sys(e, errno, "cannot sync \"%s\"", path);
    close(fd);
    return ret;
}

/* Copy into a fresh file next to dest_path, make that a self-contained
 * rollback-journal database (no -wal needed beside it), sync it, and
 * rename it into place, then sync the directory. The copy is read through
 * a connection of its own: it holds what was committed when it started
 * (WAL readers see one snapshot), whatever transaction the caller has
 * open on `idx`, and writers are not held up while it runs. */
int index_backup(struct index *idx, const char *dest_path, struct err *e)
{
    char *tmp = xasprintf("%s.tmp-XXXXXX", dest_path);
    char *dir = xstrdup(dest_path);
    char *slash;
    sqlite3 *src = NULL;
    sqlite3 *dst = NULL;
    sqlite3_backup *bk;
    int fd;
    int ret = -1;

    fd = mkstemp(tmp);
    if (fd < 0) {
        err_sys(e, errno, "cannot create \"%s\"", tmp);
        tmp[0] = '\0';
        goto out;
    }
    close(fd);
    if (sqlite3_open_v2(idx->path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot back up index \"%s\": %s", idx->path,
                src ? sqlite3_errmsg(src) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot open backup \"%s\": %s", tmp, dst ? sqlite3_errmsg(dst) : "out of memory");
        goto out;
    }
    bk = sqlite3_backup_init(dst, "main", src, "main");
    if (bk == NULL) {
        err_set(e, ERR_IO, "cannot back up index \"%s\" to \"%s\": %s", idx->path, tmp, sqlite3_errmsg(dst));
        goto out;
    }
    /* one step copies everything under one read transaction */
    sqlite3_backup_step(bk, -1);
    if (sqlite3_backup_finish(bk) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot back up index \"%s\" to \"%s\": %s", idx->path, tmp, sqlite3_errmsg(dst));
        goto out;
    }
    if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot finish backup \"%s\": %s", tmp, sqlite3_errmsg(dst));
        goto out;
    }
    if (sqlite3_close(dst) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot close backup \"%s\": %s", tmp, sqlite3_errmsg(dst));
        goto out;
    }
    dst = NULL;
    if (fsync_path(tmp, O_RDONLY, e) < 0)
        goto out;
    if (rename(tmp, dest_path) < 0) {
        err_sys(e, errno, "cannot rename \"%s\" to \"%s\"", tmp, dest_path);
        goto out;
    }
    tmp[0] = '\0';
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else
        snprintf(dir, strlen(dir) + 1, "%s", ".");
    if (fsync_path(dir, O_RDONLY | O_DIRECTORY, e) < 0)
        goto out;
    ret = 0;
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    if (tmp[0] != '\0')
        unlink(tmp);
    free(tmp);
    free(dir);
    return ret;
}

/* ------------------------------------------------------------------------
 * Plan check
 * --------------------------------------------------------------------- */

int index_explain_all(struct index *idx, int (*cb)(void *ud, const char *sql, const char *plan), void *ud,
                      struct err *e)
{
    struct buf sql = BUF_INIT;
    struct buf plan = BUF_INIT;
    sqlite3_stmt *st = NULL;
    int i;
    int rc;
    int ret = -1;

    for (i = 0; i < S_COUNT; i++) {
        buf_reset(&sql);
        buf_reset(&plan);
        buf_printf(&sql, "EXPLAIN QUERY PLAN %s", stmt_sql[i]);
        if (sqlite3_prepare_v2(idx->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
            idx_fail(idx, e, "explaining \"%s\"", stmt_sql[i]);
            goto out;
        }
        /* columns: id, parent, notused, detail */
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            buf_appendstr(&plan, (const char *)sqlite3_column_text(st, 3));
            buf_appendstr(&plan, "\n");
        }
        if (rc != SQLITE_DONE) {
            idx_fail(idx, e, "explaining \"%s\"", stmt_sql[i]);
            goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (cb(ud, stmt_sql[i], plan.data != NULL ? plan.data : "") != 0)
            break;
    }
    ret = 0;
out:
    sqlite3_finalize(st);
    buf_free(&sql);
    buf_free(&plan);
    return ret;
}

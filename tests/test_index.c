/* test_index.c - unit tests of the SQLite chunk index (common/index.c).
 *
 * Each test gets a fresh directory under $AOFROLL_TEST_TMP (or /tmp) and,
 * for most of them, an index opened read-write in it with one instance and
 * its generations already recorded. The tests read files back with the
 * sqlite3 library itself where the index API has no way to look (schema
 * version, journal mode), and forge files (garbage, old and future
 * versions, damaged pages) to drive the error paths. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "buf.h"
#include "clusterview.h"
#include "index.h"
#include "xalloc.h"

struct fixture {
    char dir[512];
    char path[600];
    struct index *idx;
    int64_t inst;  /* instance "sessions" */
    int64_t other; /* instance "cache" */
};

/* ------------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static struct fixture *fixture_new(void)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    const char *base = getenv("AOFROLL_TEST_TMP");

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    if (mkdir(base, 0755) < 0 && errno != EEXIST)
        fail_msg("cannot create %s: %s", base, strerror(errno));
    snprintf(f->dir, sizeof(f->dir), "%s/test_index.XXXXXX", base);
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/index.db", f->dir);
    return f;
}

static void fixture_free(struct fixture *f)
{
    index_close(f->idx);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
}

static void add_gen(struct index *idx, int64_t inst, int64_t gen, int64_t base_time, int complete)
{
    struct gen_row g;
    struct err e;

    memset(&g, 0, sizeof(g));
    g.instance_id = inst;
    g.generation = gen;
    g.mode = MODE_AOF;
    snprintf(g.base_file, sizeof(g.base_file), "appendonly.aof.%lld.base.rdb", (long long)gen);
    g.base_format = BASE_RDB;
    g.base_size = 1000;
    g.base_complete = complete;
    g.base_crc32 = 0xdeadbeef;
    g.base_time = base_time;
    snprintf(g.incr_file, sizeof(g.incr_file), "appendonly.aof.%lld.incr.aof", (long long)gen);
    g.started = base_time;
    assert_int_equal(index_generation_add(idx, &g, &e), 0);
}

static void make_chunk(struct chunk_row *c, int64_t inst, int64_t gen, enum chunk_kind kind, uint64_t start,
                       uint64_t end, int64_t first, int64_t last)
{
    memset(c, 0, sizeof(*c));
    c->instance_id = inst;
    c->generation = gen;
    c->kind = kind;
    c->start = start;
    c->end = end;
    c->crc32 = (uint32_t)(start * 2654435761u);
    c->stored_bytes = (end - start) / 3;
    c->first = first;
    c->last = last;
    if (kind == CHUNK_BASE)
        snprintf(c->key, sizeof(c->key), "i%lld/gen-%06lld/base/%020llu-%020llu.rdb.gz", (long long)inst,
                 (long long)gen, (unsigned long long)start, (unsigned long long)end);
    else
        snprintf(c->key, sizeof(c->key), "i%lld/gen-%06lld/incr/%020llu-%020llu_%lld-%lld.aof.gz",
                 (long long)inst, (long long)gen, (unsigned long long)start, (unsigned long long)end,
                 (long long)first, (long long)last);
}

static int64_t add_chunk(struct index *idx, int64_t inst, int64_t gen, enum chunk_kind kind, uint64_t start,
                         uint64_t end, int64_t first, int64_t last)
{
    struct chunk_row c;
    struct err e;

    make_chunk(&c, inst, gen, kind, start, end, first, last);
    if (index_chunk_add(idx, &c, &e) < 0)
        fail_msg("%s", e.msg);
    assert_true(c.id > 0);
    return c.id;
}

/* Collects chunk rows (and can stop after `stop_after`). */
struct chunk_list {
    struct chunk_row rows[64];
    int n;
    int stop_after; /* 0: never */
};

static int collect_chunk(void *ud, const struct chunk_row *c)
{
    struct chunk_list *l = ud;

    assert_true(l->n < 64);
    l->rows[l->n++] = *c;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

/* The chunks as "gen/kind/start" words, for compact assertions. */
static const char *chunk_words(const struct chunk_list *l, char *out, size_t n)
{
    size_t len = 0;
    int i;

    out[0] = '\0';
    for (i = 0; i < l->n && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%lld/%s/%llu", i ? " " : "",
                                (long long)l->rows[i].generation, l->rows[i].kind == CHUNK_BASE ? "b" : "i",
                                (unsigned long long)l->rows[i].start);
    return out;
}

static void between(struct fixture *f, int64_t inst, int64_t since, int64_t until, const char *expect)
{
    struct chunk_list l = {.n = 0};
    struct err e;
    char words[1024];

    if (index_chunks_between(f->idx, inst, since, until, collect_chunk, &l, &e) < 0)
        fail_msg("%s", e.msg);
    assert_string_equal(chunk_words(&l, words, sizeof(words)), expect);
}

static void from(struct fixture *f, int64_t gen, enum chunk_kind kind, uint64_t off, const char *expect)
{
    struct chunk_list l = {.n = 0};
    struct err e;
    char words[1024];

    if (index_chunks(f->idx, f->inst, gen, kind, off, collect_chunk, &l, &e) < 0)
        fail_msg("%s", e.msg);
    assert_string_equal(chunk_words(&l, words, sizeof(words)), expect);
}

/* Run SQL on a file with the sqlite3 library directly. */
static void raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void expect_msg(const struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void expect_msg(const struct err *e, enum err_code code, const char *fmt, ...)
{
    char want[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(want, sizeof(want), fmt, ap);
    va_end(ap);
    assert_string_equal(e->msg, want);
    assert_int_equal(e->code, code);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------
 * Fixtures
 * --------------------------------------------------------------------- */

static int setup_dir(void **state)
{
    *state = fixture_new();
    return 0;
}

/* An open index with instances "sessions" and "cache". */
static int setup_index(void **state)
{
    struct fixture *f = fixture_new();
    struct err e;

    if (index_open(f->path, 0, &f->idx, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(index_instance_id(f->idx, "sessions", 1, &f->inst, &e), 0);
    assert_int_equal(index_instance_id(f->idx, "cache", 1, &f->other, &e), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

/* ------------------------------------------------------------------------
 * Opening, schema and migration
 * --------------------------------------------------------------------- */

static void test_open_creates_schema(void **state)
{
    struct fixture *f = *state;
    struct index *ro = NULL;
    struct err e;
    int64_t id;

    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), index_schema_version());
    assert_int_equal(raw_int(f->path, "PRAGMA application_id"), 0x616f6672);
    assert_int_equal(raw_int(f->path,
                             "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                             "('instances', 'generations', 'chunks', 'size_log', 'events', 'status')"),
                     6);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
                     1);
    assert_int_equal(index_instance_id(f->idx, "sessions", 1, &id, &e), 0);
    index_close(f->idx);
    f->idx = NULL;

    /* reopening is a no-op migration that keeps the data */
    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), index_schema_version());
    assert_int_equal(index_open(f->path, 1, &ro, &e), 0);
    assert_int_equal(index_instance_id(ro, "sessions", 0, &f->inst, &e), 0);
    assert_int_equal(f->inst, id);
    index_close(ro);
}

static void test_open_readonly_missing(void **state)
{
    struct fixture *f = *state;
    struct index *idx = (struct index *)f; /* must be reset to NULL */
    struct err e;

    assert_int_equal(index_open(f->path, 1, &idx, &e), -1);
    assert_null(idx);
    expect_msg(&e, ERR_NOTFOUND, "cannot open index \"%s\": No such file or directory", f->path);
    /* read-only never creates the file */
    assert_int_equal(access(f->path, F_OK), -1);
}

static void test_open_garbage(void **state)
{
    struct fixture *f = *state;
    char garbage[8192];
    struct index *idx = NULL;
    struct err e;
    size_t i;

    for (i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char)('a' + i % 26);
    write_file(f->path, garbage, sizeof(garbage));
    assert_int_equal(index_open(f->path, 1, &idx, &e), -1);
    assert_null(idx);
    expect_msg(&e, ERR_CORRUPT,
               "index \"%s\" is corrupt: file is not a database. HINT: rebuild it with aofroll reindex",
               f->path);
    /* a writer refuses it too, and leaves it alone */
    assert_int_equal(index_open(f->path, 0, &idx, &e), -1);
    assert_null(idx);
    expect_msg(&e, ERR_CORRUPT,
               "index \"%s\" is corrupt: file is not a database. HINT: rebuild it with aofroll reindex",
               f->path);
}

static void test_damaged_pages(void **state)
{
    struct fixture *f = *state;
    struct chunk_list l = {.n = 0};
    struct index *ro = NULL;
    char junk[4096];
    struct stat sb;
    struct err e;
    int64_t inst;
    uint64_t i, schema_end;
    int fd;

    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(index_instance_id(f->idx, "sessions", 1, &inst, &e), 0);
    add_gen(f->idx, inst, 1, 100, 1);
    index_close(f->idx); /* checkpointed: the file holds the schema's pages */
    assert_int_equal(stat(f->path, &sb), 0);
    schema_end = (uint64_t)sb.st_size;
    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(index_begin(f->idx, &e), 0);
    for (i = 0; i < 2000; i++)
        add_chunk(f->idx, inst, 1, CHUNK_INCR, i * 10, i * 10 + 10, 100 + (int64_t)i, 100 + (int64_t)i);
    assert_int_equal(index_commit(f->idx, &e), 0);
    index_close(f->idx); /* the last close checkpoints the WAL into the file */
    f->idx = NULL;

    /* overwrite every page the chunks added (the header and schema stay) */
    memset(junk, 0x5a, sizeof(junk));
    assert_int_equal(stat(f->path, &sb), 0);
    assert_true((uint64_t)sb.st_size > schema_end + 16 * 4096);
    fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    for (i = schema_end; i < (uint64_t)sb.st_size; i += sizeof(junk))
        assert_int_equal(pwrite(fd, junk, sizeof(junk), (off_t)i), sizeof(junk));
    close(fd);

    assert_int_equal(index_open(f->path, 1, &ro, &e), 0);
    assert_int_equal(index_chunks_between(ro, inst, INT64_MIN, INT64_MAX, collect_chunk, &l, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_true(strncmp(e.msg, "index \"", 7) == 0);
    assert_non_null(strstr(e.msg, "\" is corrupt: "));
    assert_non_null(strstr(e.msg, ". HINT: rebuild it with aofroll reindex"));
    index_close(ro);
}

static void test_migrate_from_version_0(void **state)
{
    struct fixture *f = *state;
    struct index *ro = NULL;
    struct err e;
    int64_t id;

    /* a valid, empty database at user_version 0 */
    raw_sql(f->path, "CREATE TABLE scratch(x); DROP TABLE scratch;");
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema"), 0);

    /* a reader does not migrate */
    assert_int_equal(index_open(f->path, 1, &ro, &e), -1);
    assert_null(ro);
    expect_msg(&e, ERR_CORRUPT,
               "index \"%s\" has schema version 0, this aofroll reads version %d. "
               "HINT: let the collector open it once to migrate it",
               f->path, index_schema_version());
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 0);

    /* a writer migrates it forward */
    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), index_schema_version());
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN "
                                      "('chunks_position', 'chunks_first', 'chunks_last', 'size_log_time', "
                                      "'size_log_size', 'events_time')"),
                     6);
    assert_int_equal(index_instance_id(f->idx, "sessions", 1, &id, &e), 0);
    add_gen(f->idx, id, 1, 100, 1);
    add_chunk(f->idx, id, 1, CHUNK_BASE, 0, 10, 100, 100);
}

static void test_refuse_newer_version(void **state)
{
    struct fixture *f = *state;
    struct index *idx = NULL;
    struct err e;

    raw_sql(f->path, "CREATE TABLE future(x); PRAGMA user_version = 999;");
    assert_int_equal(index_open(f->path, 0, &idx, &e), -1);
    assert_null(idx);
    expect_msg(
        &e, ERR_CORRUPT,
        "index \"%s\" has schema version 999, newer than this aofroll knows (%d). HINT: upgrade aofroll",
        f->path, index_schema_version());
    assert_int_equal(index_open(f->path, 1, &idx, &e), -1);
    expect_msg(
        &e, ERR_CORRUPT,
        "index \"%s\" has schema version 999, newer than this aofroll knows (%d). HINT: upgrade aofroll",
        f->path, index_schema_version());
    /* untouched: still the future file */
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 999);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'chunks'"), 0);
}

static void test_refuse_foreign_database(void **state)
{
    struct fixture *f = *state;
    struct index *idx = NULL;
    struct err e;

    raw_sql(f->path, "CREATE TABLE notes(x); PRAGMA user_version = 1;");
    assert_int_equal(index_open(f->path, 0, &idx, &e), -1);
    assert_null(idx);
    expect_msg(&e, ERR_CORRUPT, "index \"%s\" is not an aofroll index (application_id 0)", f->path);
}

static void test_readonly_rejects_writes(void **state)
{
    struct fixture *f = *state;
    struct index *ro = NULL;
    struct err e;
    int64_t id;

    assert_int_equal(index_open(f->path, 1, &ro, &e), 0);
    assert_int_equal(index_instance_id(ro, "newcomer", 1, &id, &e), -1);
    expect_msg(&e, ERR_IO, "index \"%s\": adding an instance: attempt to write a readonly database", f->path);
    index_close(ro);
}

/* ------------------------------------------------------------------------
 * Instances
 * --------------------------------------------------------------------- */

struct name_list {
    char names[8][32];
    int64_t ids[8];
    int n;
    int stop_after;
};

static int collect_name(void *ud, int64_t id, const char *name)
{
    struct name_list *l = ud;

    snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
    l->ids[l->n++] = id;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

static void test_instances(void **state)
{
    struct fixture *f = *state;
    struct name_list l = {.n = 0};
    struct err e;
    int64_t id;

    assert_true(f->inst != f->other);
    assert_int_equal(index_instance_id(f->idx, "sessions", 0, &id, &e), 0);
    assert_int_equal(id, f->inst);
    assert_int_equal(index_instance_id(f->idx, "sessions", 1, &id, &e), 0);
    assert_int_equal(id, f->inst);
    assert_int_equal(index_instance_id(f->idx, "nosuch", 0, &id, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "instance \"nosuch\" not found in index \"%s\"", f->path);

    assert_int_equal(index_instance_names(f->idx, collect_name, &l, &e), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], "cache");
    assert_int_equal(l.ids[0], f->other);
    assert_string_equal(l.names[1], "sessions");
    assert_int_equal(l.ids[1], f->inst);

    l.n = 0;
    l.stop_after = 1;
    assert_int_equal(index_instance_names(f->idx, collect_name, &l, &e), 0);
    assert_int_equal(l.n, 1);
}

/* ------------------------------------------------------------------------
 * Generations
 * --------------------------------------------------------------------- */

struct gen_list {
    int64_t gens[16];
    int n;
    int stop_after;
};

static int collect_gen(void *ud, const struct gen_row *g)
{
    struct gen_list *l = ud;

    l->gens[l->n++] = g->generation;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

static void test_generation_lifecycle(void **state)
{
    struct fixture *f = *state;
    struct gen_row g, out;
    struct gen_list l = {.n = 0};
    struct err e;

    assert_int_equal(index_generation_latest(f->idx, f->inst, &out, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "no generations of instance %lld in index \"%s\"", (long long)f->inst,
               f->path);

    memset(&g, 0, sizeof(g));
    g.instance_id = f->inst;
    g.generation = 1;
    g.mode = MODE_RDB;
    snprintf(g.base_file, sizeof(g.base_file), "dump.rdb");
    g.base_format = BASE_AOF;
    g.base_size = 5000000000ULL;
    g.base_complete = 0;
    g.base_crc32 = 0xfedcba98;
    g.base_time = 1763651521;
    g.started = 1763651522;
    assert_int_equal(index_generation_add(f->idx, &g, &e), 0);

    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &out, &e), 0);
    assert_int_equal(out.instance_id, f->inst);
    assert_int_equal(out.generation, 1);
    assert_int_equal(out.mode, MODE_RDB);
    assert_string_equal(out.base_file, "dump.rdb");
    assert_int_equal(out.base_format, BASE_AOF);
    assert_int_equal(out.base_size, 5000000000ULL);
    assert_int_equal(out.base_complete, 0);
    assert_int_equal(out.base_crc32, 0xfedcba98);
    assert_int_equal(out.base_time, 1763651521);
    assert_string_equal(out.incr_file, "");
    assert_int_equal(out.started, 1763651522);
    assert_int_equal(out.ended, 0);
    assert_string_equal(out.end_reason, "");

    /* the base is complete; the generation is closed by a barrier */
    g.base_complete = 1;
    g.base_size = 4096;
    g.base_format = BASE_RDB;
    snprintf(g.incr_file, sizeof(g.incr_file), "appendonly.aof.1.incr.aof");
    g.ended = 1763737921;
    snprintf(g.end_reason, sizeof(g.end_reason), "barrier");
    g.started = 42; /* not a mutable field: ignored */
    assert_int_equal(index_generation_update(f->idx, &g, &e), 0);
    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &out, &e), 0);
    assert_int_equal(out.base_complete, 1);
    assert_int_equal(out.base_size, 4096);
    assert_int_equal(out.base_format, BASE_RDB);
    assert_string_equal(out.incr_file, "appendonly.aof.1.incr.aof");
    assert_int_equal(out.ended, 1763737921);
    assert_string_equal(out.end_reason, "barrier");
    assert_int_equal(out.started, 1763651522);

    /* the same generation twice is refused */
    assert_int_equal(index_generation_add(f->idx, &g, &e), -1);
    expect_msg(&e, ERR_EXISTS,
               "index \"%s\": adding generation 1 of instance %lld: UNIQUE constraint failed: "
               "generations.instance_id, generations.generation",
               f->path, (long long)f->inst);
    /* a generation of an instance the index does not know */
    g.instance_id = 999;
    assert_int_equal(index_generation_add(f->idx, &g, &e), -1);
    expect_msg(&e, ERR_NOTFOUND,
               "index \"%s\": adding generation 1 of instance 999: FOREIGN KEY constraint failed", f->path);
    g.instance_id = f->inst;

    g.generation = 7;
    assert_int_equal(index_generation_update(f->idx, &g, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "generation 7 of instance %lld not found in index \"%s\"",
               (long long)f->inst, f->path);
    assert_int_equal(index_generation_get(f->idx, f->inst, 7, &out, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "generation 7 of instance %lld not found in index \"%s\"",
               (long long)f->inst, f->path);

    add_gen(f->idx, f->inst, 2, 1763737921, 1);
    add_gen(f->idx, f->inst, 3, 1763824321, 0);
    add_gen(f->idx, f->other, 1, 1000, 1);
    assert_int_equal(index_generation_latest(f->idx, f->inst, &out, &e), 0);
    assert_int_equal(out.generation, 3);
    assert_int_equal(index_generation_latest(f->idx, f->other, &out, &e), 0);
    assert_int_equal(out.generation, 1);
    assert_int_equal(out.instance_id, f->other);

    assert_int_equal(index_generations(f->idx, f->inst, collect_gen, &l, &e), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.gens[0], 1);
    assert_int_equal(l.gens[1], 2);
    assert_int_equal(l.gens[2], 3);
    l.n = 0;
    l.stop_after = 2;
    assert_int_equal(index_generations(f->idx, f->inst, collect_gen, &l, &e), 0);
    assert_int_equal(l.n, 2);
}

/* What migration step 2 -> 3 added, dropped again: a file of version 2. */
#define SCHEMA3_DROP                                                                                         \
    "DROP TABLE cluster_views;" /* what step 3 -> 4 added */                                                 \
    "ALTER TABLE generations DROP COLUMN exact; ALTER TABLE generations DROP COLUMN follows;"                \
    "ALTER TABLE generations DROP COLUMN lead_ts; ALTER TABLE generations DROP COLUMN proven_end;"           \
    "ALTER TABLE chunks DROP COLUMN ts_first; ALTER TABLE chunks DROP COLUMN ts_last;"                       \
    "ALTER TABLE chunks DROP COLUMN boundary; ALTER TABLE chunks DROP COLUMN boundary_db;"                   \
    "ALTER TABLE chunks DROP COLUMN boundary_ts; ALTER TABLE status DROP COLUMN barrier_postponed_since;"    \
    "ALTER TABLE status DROP COLUMN barrier_postponed_why; ALTER TABLE status DROP COLUMN barrier_overdue;"  \
    "ALTER TABLE status DROP COLUMN aof_off_since;"

/* Schema 3's fields go in and come back; zero is unknown and stored as NULL. */
static void test_schema3_fields(void **state)
{
    struct fixture *f = *state;
    struct gen_row g, out;
    struct chunk_row c, back;
    struct status_row st, sback;
    struct err e;
    int64_t ts;

    add_gen(f->idx, f->inst, 1, 1000, 1);
    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &out, &e), 0);
    assert_int_equal(out.exact, GEN_UNKNOWN);
    assert_int_equal(out.follows, GEN_UNKNOWN);
    assert_int_equal(out.lead_ts, 0);
    assert_int_equal(out.proven_end, 0);
    assert_int_equal(raw_int(f->path,
                             "SELECT count(*) FROM generations WHERE exact IS NULL AND follows IS NULL "
                             "AND lead_ts IS NULL AND proven_end IS NULL"),
                     1);
    g = out;
    g.exact = GEN_YES;
    g.follows = GEN_NO;
    g.lead_ts = 1700000000;
    g.proven_end = 1700000100;
    assert_int_equal(index_generation_update(f->idx, &g, &e), 0);
    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &out, &e), 0);
    assert_int_equal(out.exact, GEN_YES);
    assert_int_equal(out.follows, GEN_NO);
    assert_int_equal(out.lead_ts, 1700000000);
    assert_int_equal(out.proven_end, 1700000100);
    g.exact = GEN_NO;
    g.follows = GEN_YES;
    assert_int_equal(index_generation_update(f->idx, &g, &e), 0);
    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &out, &e), 0);
    assert_int_equal(out.exact, GEN_NO);
    assert_int_equal(out.follows, GEN_YES);

    /* chunks without marks: NULL, no resume point, no #TS */
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 0, 100, 1000, 1000);
    assert_int_equal(index_chunk_resume_point(f->idx, f->inst, 1, &back, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_int_equal(index_generation_last_ts(f->idx, f->inst, 1, &ts, &e), 0);
    assert_int_equal(ts, 0);
    /* with marks: a boundary at 130, #TS 1700000001 and 1700000002 */
    make_chunk(&c, f->inst, 1, CHUNK_INCR, 100, 200, 1001, 1002);
    c.marks_known = 1;
    c.ts_first = 1700000001;
    c.ts_last = 1700000002;
    c.boundary = 130;
    c.boundary_db = 3;
    c.boundary_ts = 1700000001;
    assert_int_equal(index_chunk_add(f->idx, &c, &e), 0);
    assert_int_equal(index_chunk_get(f->idx, c.id, &back, &e), 0);
    assert_int_equal(back.marks_known, 1);
    assert_int_equal(back.ts_first, 1700000001);
    assert_int_equal(back.ts_last, 1700000002);
    assert_int_equal(back.boundary, 130);
    assert_int_equal(back.boundary_db, 3);
    assert_int_equal(back.boundary_ts, 1700000001);
    /* marks known, but no boundary and no #TS in the chunk */
    make_chunk(&c, f->inst, 1, CHUNK_INCR, 200, 300, 1002, 1003);
    c.marks_known = 1;
    c.boundary = -1;
    assert_int_equal(index_chunk_add(f->idx, &c, &e), 0);
    assert_int_equal(index_chunk_get(f->idx, c.id, &back, &e), 0);
    assert_int_equal(back.marks_known, 1);
    assert_int_equal(back.boundary, -1);
    assert_int_equal(back.ts_first, 0);
    /* the resume point is the newest chunk with a boundary */
    assert_int_equal(index_chunk_resume_point(f->idx, f->inst, 1, &back, &e), 0);
    assert_int_equal(back.start, 100);
    assert_int_equal(back.boundary, 130);
    assert_int_equal(index_generation_last_ts(f->idx, f->inst, 1, &ts, &e), 0);
    assert_int_equal(ts, 1700000002);
    assert_int_equal(index_chunk_last(f->idx, f->inst, 1, CHUNK_INCR, &back, &e), 0);
    assert_int_equal(back.start, 200);

    memset(&st, 0, sizeof(st));
    st.instance_id = f->inst;
    st.last_poll = 5;
    st.barrier_postponed_since = 4;
    snprintf(st.barrier_postponed_why, sizeof(st.barrier_postponed_why), "the storage is failing");
    st.barrier_overdue = 1;
    st.aof_off_since = 3;
    assert_int_equal(index_status_put(f->idx, &st, &e), 0);
    assert_int_equal(index_status_get(f->idx, f->inst, &sback, &e), 0);
    assert_int_equal(sback.barrier_postponed_since, 4);
    assert_string_equal(sback.barrier_postponed_why, "the storage is failing");
    assert_int_equal(sback.barrier_overdue, 1);
    assert_int_equal(sback.aof_off_since, 3);
}

/* A file of schema version 2 is migrated: its rows read back with every
 * schema 3 field unknown, and take new ones. */
static void test_migrate_from_version_2(void **state)
{
    struct fixture *f = *state;
    struct gen_row out;
    struct chunk_row back;
    struct status_row st;
    struct err e;
    int64_t id;

    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(index_instance_id(f->idx, "sessions", 1, &id, &e), 0);
    add_gen(f->idx, id, 1, 100, 1);
    add_chunk(f->idx, id, 1, CHUNK_INCR, 0, 10, 100, 101);
    index_close(f->idx);
    f->idx = NULL;
    /* back to version 2: without the columns step 2 -> 3 added */
    raw_sql(f->path,
            SCHEMA3_DROP "INSERT INTO status VALUES (1, 7, 1000, 1, 'a', 1, 1, 1, 0, 0, '', 42, '', 0);"
                         "PRAGMA user_version = 2;");
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), index_schema_version());
    assert_int_equal(index_schema_version(), 4);
    assert_int_equal(index_generation_get(f->idx, id, 1, &out, &e), 0);
    assert_int_equal(out.base_time, 100);
    assert_int_equal(out.exact, GEN_UNKNOWN);
    assert_int_equal(out.follows, GEN_UNKNOWN);
    assert_int_equal(out.lead_ts, 0);
    assert_int_equal(out.proven_end, 0);
    assert_int_equal(index_chunk_last(f->idx, id, 1, CHUNK_INCR, &back, &e), 0);
    assert_int_equal(back.end, 10);
    assert_int_equal(back.marks_known, 0);
    assert_int_equal(index_status_get(f->idx, id, &st, &e), 0);
    assert_int_equal(st.pid, 42);
    assert_int_equal(st.aof_off_since, 0);
    assert_int_equal(st.barrier_postponed_since, 0);
    assert_string_equal(st.barrier_postponed_why, "");
}

static void test_generation_delete(void **state)
{
    struct fixture *f = *state;
    struct chunk_list l = {.n = 0};
    struct chunk_row c;
    struct gen_row out;
    struct err e;
    uint64_t size;
    int64_t id;

    add_gen(f->idx, f->inst, 1, 1000, 1);
    add_gen(f->idx, f->inst, 2, 2000, 1);
    add_chunk(f->idx, f->inst, 1, CHUNK_BASE, 0, 100, 1000, 1000);
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 0, 50, 1001, 1002);
    add_chunk(f->idx, f->inst, 2, CHUNK_BASE, 0, 100, 2000, 2000);
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 1, 1001, "a.incr.aof", 50, &e), 0);
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 2, 2001, "b.incr.aof", 70, &e), 0);

    /* inside a transaction that is rolled back: nothing happens */
    assert_int_equal(index_begin(f->idx, &e), 0);
    assert_int_equal(index_generation_delete(f->idx, f->inst, 1, &e), 0);
    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &out, &e), -1);
    index_rollback(f->idx);
    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &out, &e), 0);

    assert_int_equal(index_generation_delete(f->idx, f->inst, 1, &e), 0);
    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &out, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_int_equal(index_chunks_between(f->idx, f->inst, INT64_MIN, INT64_MAX, collect_chunk, &l, &e), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].generation, 2);
    assert_int_equal(index_sizelog_at(f->idx, f->inst, 1, 5000, &size, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_int_equal(index_sizelog_at(f->idx, f->inst, 2, 5000, &size, &e), 0);
    assert_int_equal(size, 70);

    /* deleting what is not there fails and removes nothing else */
    assert_int_equal(index_generation_delete(f->idx, f->inst, 1, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "generation 1 of instance %lld not found in index \"%s\"",
               (long long)f->inst, f->path);
    assert_int_equal(index_generation_get(f->idx, f->inst, 2, &out, &e), 0);

    /* ... and inside a transaction, the caller's own work survives it */
    assert_int_equal(index_begin(f->idx, &e), 0);
    id = add_chunk(f->idx, f->inst, 2, CHUNK_INCR, 0, 10, 2001, 2001);
    assert_int_equal(index_generation_delete(f->idx, f->inst, 7, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_int_equal(index_commit(f->idx, &e), 0);
    assert_int_equal(index_chunk_get(f->idx, id, &c, &e), 0);
    assert_int_equal(index_generation_get(f->idx, f->inst, 2, &out, &e), 0);
}

/* ------------------------------------------------------------------------
 * Chunks
 * --------------------------------------------------------------------- */

static void test_chunk_add_get(void **state)
{
    struct fixture *f = *state;
    struct chunk_row c, out;
    struct err e;
    int64_t id1, id2;

    add_gen(f->idx, f->inst, 1, 1000, 0);
    make_chunk(&c, f->inst, 1, CHUNK_INCR, 4194304, 8388608, 1763651521, 1763651523);
    c.crc32 = 0xffffffffu;
    c.stored_bytes = 123456789012ULL;
    c.id = 0;
    assert_int_equal(index_chunk_add(f->idx, &c, &e), 0);
    id1 = c.id;
    assert_true(id1 > 0);
    id2 = add_chunk(f->idx, f->inst, 1, CHUNK_BASE, 0, 100, 1000, 1000);
    assert_true(id2 != id1);

    memset(&out, 0, sizeof(out));
    assert_int_equal(index_chunk_get(f->idx, id1, &out, &e), 0);
    assert_int_equal(out.id, id1);
    assert_int_equal(out.instance_id, f->inst);
    assert_int_equal(out.generation, 1);
    assert_int_equal(out.kind, CHUNK_INCR);
    assert_int_equal(out.start, 4194304);
    assert_int_equal(out.end, 8388608);
    assert_int_equal(out.crc32, 0xffffffffu);
    assert_int_equal(out.stored_bytes, 123456789012ULL);
    assert_int_equal(out.first, 1763651521);
    assert_int_equal(out.last, 1763651523);
    assert_string_equal(out.key, c.key);
    assert_false(out.has_sha256); /* none recorded */

    memset(&out, 0, sizeof(out));
    assert_int_equal(index_chunk_by_key(f->idx, c.key, &out, &e), 0);
    assert_int_equal(out.id, id1);
    assert_int_equal(index_chunk_get(f->idx, id2, &out, &e), 0);
    assert_int_equal(out.kind, CHUNK_BASE);

    assert_int_equal(index_chunk_get(f->idx, 999999, &out, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "chunk 999999 not found in index \"%s\"", f->path);
    assert_int_equal(index_chunk_by_key(f->idx, "sessions/nope", &out, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "chunk \"sessions/nope\" not found in index \"%s\"", f->path);

    /* the same position twice, under any name */
    assert_int_equal(index_chunk_add(f->idx, &c, &e), -1);
    expect_msg(&e, ERR_EXISTS,
               "index \"%s\": adding chunk \"%s\": UNIQUE constraint failed: chunks.instance_id, "
               "chunks.generation, chunks.kind, chunks.start",
               f->path, c.key);
    /* the same object name for another position */
    c.start = 8388608;
    c.end = 8388708;
    assert_int_equal(index_chunk_add(f->idx, &c, &e), -1);
    expect_msg(&e, ERR_EXISTS, "index \"%s\": adding chunk \"%s\": UNIQUE constraint failed: chunks.key",
               f->path, c.key);
    /* a chunk of a generation the index does not have */
    make_chunk(&c, f->inst, 5, CHUNK_INCR, 0, 10, 1, 2);
    assert_int_equal(index_chunk_add(f->idx, &c, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "index \"%s\": adding chunk \"%s\": FOREIGN KEY constraint failed", f->path,
               c.key);
    /* a backwards range */
    make_chunk(&c, f->inst, 1, CHUNK_INCR, 50, 40, 1, 2);
    c.end = 40;
    assert_int_equal(index_chunk_add(f->idx, &c, &e), -1);
    assert_non_null(strstr(e.msg, "CHECK constraint failed"));
}

static void test_chunk_last_and_order(void **state)
{
    struct fixture *f = *state;
    struct chunk_list l = {.n = 0};
    struct chunk_row out;
    struct err e;

    add_gen(f->idx, f->inst, 1, 1000, 1);
    add_gen(f->idx, f->inst, 2, 2000, 0);
    assert_int_equal(index_chunk_last(f->idx, f->inst, 1, CHUNK_INCR, &out, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "no incr chunks in generation 1 of instance %lld in index \"%s\"",
               (long long)f->inst, f->path);

    /* recorded out of order */
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 200, 300, 1003, 1004);
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 0, 100, 1001, 1001);
    add_chunk(f->idx, f->inst, 1, CHUNK_BASE, 4096, 5000, 1000, 1000);
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 100, 200, 1001, 1003);
    add_chunk(f->idx, f->inst, 1, CHUNK_BASE, 0, 4096, 1000, 1000);
    add_chunk(f->idx, f->inst, 2, CHUNK_BASE, 0, 64, 2000, 2000);

    assert_int_equal(index_chunk_last(f->idx, f->inst, 1, CHUNK_INCR, &out, &e), 0);
    assert_int_equal(out.start, 200);
    assert_int_equal(out.end, 300);
    assert_int_equal(index_chunk_last(f->idx, f->inst, 1, CHUNK_BASE, &out, &e), 0);
    assert_int_equal(out.end, 5000);
    assert_int_equal(index_chunk_last(f->idx, f->inst, 2, CHUNK_BASE, &out, &e), 0);
    assert_int_equal(out.end, 64);
    assert_int_equal(index_chunk_last(f->idx, f->inst, 2, CHUNK_INCR, &out, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "no incr chunks in generation 2 of instance %lld in index \"%s\"",
               (long long)f->inst, f->path);

    from(f, 1, CHUNK_INCR, 0, "1/i/0 1/i/100 1/i/200");
    from(f, 1, CHUNK_INCR, 99, "1/i/0 1/i/100 1/i/200");
    from(f, 1, CHUNK_INCR, 100, "1/i/100 1/i/200"); /* a chunk ending at `from` is done */
    from(f, 1, CHUNK_INCR, 150, "1/i/100 1/i/200");
    from(f, 1, CHUNK_INCR, 299, "1/i/200");
    from(f, 1, CHUNK_INCR, 300, "");
    from(f, 1, CHUNK_BASE, 0, "1/b/0 1/b/4096");
    from(f, 2, CHUNK_INCR, 0, "");
    from(f, 3, CHUNK_BASE, 0, "");

    l.stop_after = 2;
    assert_int_equal(index_chunks(f->idx, f->inst, 1, CHUNK_INCR, 0, collect_chunk, &l, &e), 0);
    assert_int_equal(l.n, 2);
}

static void test_chunks_between(void **state)
{
    struct fixture *f = *state;
    struct chunk_list l = {.n = 0};
    struct err e;

    /* generation 1: base at 90, incr observed 100-105, 106-110, 111 */
    add_gen(f->idx, f->inst, 1, 90, 1);
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 0, 10, 100, 105);
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 10, 20, 106, 110);
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 20, 30, 111, 111);
    add_chunk(f->idx, f->inst, 1, CHUNK_BASE, 0, 5, 90, 90);
    add_chunk(f->idx, f->inst, 1, CHUNK_BASE, 5, 8, 90, 90);
    /* generation 2: base at 120, incr 121-130 */
    add_gen(f->idx, f->inst, 2, 120, 1);
    add_chunk(f->idx, f->inst, 2, CHUNK_INCR, 0, 10, 121, 130);
    add_chunk(f->idx, f->inst, 2, CHUNK_BASE, 0, 5, 120, 120);
    /* instance "cache" sorts before "sessions" */
    add_gen(f->idx, f->other, 1, 95, 1);
    add_chunk(f->idx, f->other, 1, CHUNK_INCR, 0, 7, 101, 102);

    between(f, f->inst, INT64_MIN, INT64_MAX, "1/b/0 1/b/5 1/i/0 1/i/10 1/i/20 2/b/0 2/i/0");
    between(f, f->inst, 105, 105, "1/i/0");
    between(f, f->inst, 105, 106, "1/i/0 1/i/10");
    between(f, f->inst, 106, INT64_MAX, "1/i/10 1/i/20 2/b/0 2/i/0");
    between(f, f->inst, 111, 111, "1/i/20");
    between(f, f->inst, 112, 119, "");
    between(f, f->inst, 131, INT64_MAX, "");
    between(f, f->inst, INT64_MIN, 89, "");
    between(f, f->inst, INT64_MIN, 90, "1/b/0 1/b/5");
    between(f, f->inst, INT64_MIN, 100, "1/b/0 1/b/5 1/i/0");
    between(f, f->inst, 90, 90, "1/b/0 1/b/5");
    between(f, f->inst, 120, 125, "2/b/0 2/i/0");
    between(f, f->inst, 125, 125, "2/i/0");
    between(f, f->other, INT64_MIN, INT64_MAX, "1/i/0");
    between(f, 999, INT64_MIN, INT64_MAX, "");

    /* all instances, by name: cache first */
    assert_int_equal(index_chunks_between(f->idx, 0, 101, 101, collect_chunk, &l, &e), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.rows[0].instance_id, f->other);
    assert_int_equal(l.rows[1].instance_id, f->inst);
    assert_int_equal(l.rows[1].start, 0);
    assert_int_equal(l.rows[1].kind, CHUNK_INCR);

    /* a stop in the first instance ends the whole listing */
    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(index_chunks_between(f->idx, 0, INT64_MIN, INT64_MAX, collect_chunk, &l, &e), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].instance_id, f->other);
    memset(&l, 0, sizeof(l));
    l.stop_after = 3;
    assert_int_equal(index_chunks_between(f->idx, f->inst, 100, INT64_MAX, collect_chunk, &l, &e), 0);
    assert_int_equal(l.n, 3);
}

/* ------------------------------------------------------------------------
 * Size log, events, status
 * --------------------------------------------------------------------- */

static void test_sizelog(void **state)
{
    struct fixture *f = *state;
    struct err e;
    uint64_t size;
    int64_t t;

    add_gen(f->idx, f->inst, 1, 90, 1);
    add_gen(f->idx, f->inst, 2, 200, 1);
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 1, 100, "a.incr.aof", 10, &e), 0);
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 1, 101, "a.incr.aof", 20, &e), 0);
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 1, 103, "a.incr.aof", 35, &e), 0);
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 1, 103, "a.incr.aof", 40, &e), 0); /* same second */
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 2, 201, "b.incr.aof", 5, &e), 0);

    assert_int_equal(index_sizelog_at(f->idx, f->inst, 1, 99, &size, &e), -1);
    expect_msg(&e, ERR_NOTFOUND,
               "no size log entry at or before @99 for generation 1 of instance %lld in index \"%s\"",
               (long long)f->inst, f->path);
    assert_int_equal(index_sizelog_at(f->idx, f->inst, 1, 100, &size, &e), 0);
    assert_int_equal(size, 10);
    assert_int_equal(index_sizelog_at(f->idx, f->inst, 1, 102, &size, &e), 0);
    assert_int_equal(size, 20);
    assert_int_equal(index_sizelog_at(f->idx, f->inst, 1, 103, &size, &e), 0);
    assert_int_equal(size, 40);
    assert_int_equal(index_sizelog_at(f->idx, f->inst, 1, 100000, &size, &e), 0);
    assert_int_equal(size, 40);
    assert_int_equal(index_sizelog_at(f->idx, f->inst, 2, 100000, &size, &e), 0);
    assert_int_equal(size, 5);
    assert_int_equal(index_sizelog_at(f->idx, f->other, 1, 100000, &size, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);

    assert_int_equal(index_sizelog_time_of(f->idx, f->inst, 1, 0, &t, &e), 0);
    assert_int_equal(t, 100);
    assert_int_equal(index_sizelog_time_of(f->idx, f->inst, 1, 10, &t, &e), 0);
    assert_int_equal(t, 100);
    assert_int_equal(index_sizelog_time_of(f->idx, f->inst, 1, 11, &t, &e), 0);
    assert_int_equal(t, 101);
    assert_int_equal(index_sizelog_time_of(f->idx, f->inst, 1, 21, &t, &e), 0);
    assert_int_equal(t, 103);
    assert_int_equal(index_sizelog_time_of(f->idx, f->inst, 1, 40, &t, &e), 0);
    assert_int_equal(t, 103);
    assert_int_equal(index_sizelog_time_of(f->idx, f->inst, 1, 41, &t, &e), -1);
    expect_msg(&e, ERR_NOTFOUND,
               "size log of generation 1 of instance %lld never reaches offset 41 in index \"%s\"",
               (long long)f->inst, f->path);
    assert_int_equal(index_sizelog_time_of(f->idx, f->inst, 2, 5, &t, &e), 0);
    assert_int_equal(t, 201);

    /* a size log row needs its generation */
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 9, 1, "x", 1, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "index \"%s\": adding to the size log: FOREIGN KEY constraint failed",
               f->path);
}

struct event_list {
    struct event_row rows[8];
    int n;
    int stop_after;
};

static int collect_event(void *ud, const struct event_row *ev)
{
    struct event_list *l = ud;

    l->rows[l->n++] = *ev;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

static void test_events(void **state)
{
    struct fixture *f = *state;
    struct event_list l = {.n = 0};
    struct err e;

    assert_int_equal(index_event_add(f->idx, f->inst, 300, "barrier", "generation 2 opened", &e), 0);
    assert_int_equal(index_event_add(f->idx, f->inst, 100, "rewrite", "not ours", &e), 0);
    assert_int_equal(index_event_add(f->idx, f->inst, 200, "gap", NULL, &e), 0);
    assert_int_equal(index_event_add(f->idx, f->inst, 200, "error", "second at 200", &e), 0);
    assert_int_equal(index_event_add(f->idx, f->other, 250, "error", "other instance", &e), 0);

    assert_int_equal(index_events(f->idx, f->inst, INT64_MIN, collect_event, &l, &e), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.rows[0].kind, "rewrite");
    assert_string_equal(l.rows[0].detail, "not ours");
    assert_int_equal(l.rows[0].time, 100);
    assert_int_equal(l.rows[0].instance_id, f->inst);
    assert_string_equal(l.rows[1].kind, "gap");
    assert_string_equal(l.rows[1].detail, "");
    assert_string_equal(l.rows[2].kind, "error"); /* same time: in recording order */
    assert_true(l.rows[2].id > l.rows[1].id);
    assert_string_equal(l.rows[3].kind, "barrier");

    memset(&l, 0, sizeof(l));
    assert_int_equal(index_events(f->idx, f->inst, 200, collect_event, &l, &e), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.rows[0].time, 200);
    memset(&l, 0, sizeof(l));
    assert_int_equal(index_events(f->idx, f->inst, 301, collect_event, &l, &e), 0);
    assert_int_equal(l.n, 0);
    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(index_events(f->idx, f->other, 0, collect_event, &l, &e), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.rows[0].detail, "other instance");
}

static void test_status(void **state)
{
    struct fixture *f = *state;
    struct status_row s, out;
    struct err e;

    assert_int_equal(index_status_get(f->idx, f->inst, &out, &e), -1);
    expect_msg(&e, ERR_NOTFOUND, "no status for instance %lld in index \"%s\"", (long long)f->inst, f->path);

    memset(&s, 0, sizeof(s));
    s.instance_id = f->inst;
    s.last_poll = 1763651521;
    s.poll_interval_ms = 1000;
    s.generation = 3;
    snprintf(s.current_file, sizeof(s.current_file), "appendonly.aof.3.incr.aof");
    s.current_size = 6000000000ULL;
    s.shipped = 5999999999ULL;
    s.shipped_time = 1763651520;
    s.last_barrier = 1763596800;
    s.last_error_time = 1763600000;
    snprintf(s.last_error, sizeof(s.last_error), "cannot store \"x\": timeout");
    s.pid = 4242;
    snprintf(s.poll_error, sizeof(s.poll_error), "cannot stat manifest \"m\": Permission denied");
    s.redis_down_since = 1763651400;
    assert_int_equal(index_status_put(f->idx, &s, &e), 0);

    memset(&out, 0xff, sizeof(out));
    assert_int_equal(index_status_get(f->idx, f->inst, &out, &e), 0);
    assert_int_equal(out.instance_id, f->inst);
    assert_int_equal(out.last_poll, 1763651521);
    assert_int_equal(out.poll_interval_ms, 1000);
    assert_int_equal(out.generation, 3);
    assert_string_equal(out.current_file, "appendonly.aof.3.incr.aof");
    assert_int_equal(out.current_size, 6000000000ULL);
    assert_int_equal(out.shipped, 5999999999ULL);
    assert_int_equal(out.shipped_time, 1763651520);
    assert_int_equal(out.last_barrier, 1763596800);
    assert_int_equal(out.last_error_time, 1763600000);
    assert_string_equal(out.last_error, "cannot store \"x\": timeout");
    assert_int_equal(out.pid, 4242);
    assert_string_equal(out.poll_error, "cannot stat manifest \"m\": Permission denied");
    assert_int_equal(out.redis_down_since, 1763651400);

    /* replaced, not added */
    s.last_poll = 1763651522;
    s.last_error[0] = '\0';
    assert_int_equal(index_status_put(f->idx, &s, &e), 0);
    assert_int_equal(index_status_get(f->idx, f->inst, &out, &e), 0);
    assert_int_equal(out.last_poll, 1763651522);
    assert_string_equal(out.last_error, "");
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM status"), 1);
    assert_int_equal(index_status_get(f->idx, f->other, &out, &e), -1);
}

static void test_chunk_digest(void **state)
{
    struct fixture *f = *state;
    struct chunk_row c, out;
    struct err e;
    int i;

    assert_int_equal(index_chunk_any(f->idx, f->inst, &e), 0);
    add_gen(f->idx, f->inst, 1, 1000, 0);
    make_chunk(&c, f->inst, 1, CHUNK_INCR, 0, 100, 1000, 1000);
    c.has_sha256 = 1;
    for (i = 0; i < 32; i++)
        c.sha256[i] = (unsigned char)(i * 7 + 1);
    assert_int_equal(index_chunk_add(f->idx, &c, &e), 0);
    assert_int_equal(index_chunk_any(f->idx, f->inst, &e), 1);
    assert_int_equal(index_chunk_any(f->idx, f->other, &e), 0);
    memset(&out, 0, sizeof(out));
    assert_int_equal(index_chunk_get(f->idx, c.id, &out, &e), 0);
    assert_true(out.has_sha256);
    assert_memory_equal(out.sha256, c.sha256, 32);
    assert_int_equal(raw_int(f->path, "SELECT length(sha256) FROM chunks"), 32);
    /* a digest of another length is refused by the schema */
    {
        sqlite3 *db = NULL;

        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "UPDATE chunks SET sha256 = x'00'", NULL, NULL, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
    }
}

/* A file at schema version 1 (the first release) is migrated forward:
 * its rows stay, the new columns read as "not recorded". */
static void test_migrate_from_version_1(void **state)
{
    struct fixture *f = *state;
    struct status_row s, out;
    struct chunk_row c;
    struct err e;
    int64_t id;

    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(index_instance_id(f->idx, "sessions", 1, &id, &e), 0);
    add_gen(f->idx, id, 1, 100, 1);
    add_chunk(f->idx, id, 1, CHUNK_BASE, 0, 10, 100, 100);
    memset(&s, 0, sizeof(s));
    s.instance_id = id;
    s.last_poll = 42;
    assert_int_equal(index_status_put(f->idx, &s, &e), 0);
    index_close(f->idx);
    f->idx = NULL;
    /* back to version 1 as it shipped (without what steps 1 -> 2 and 2 -> 3 added) */
    raw_sql(f->path,
            "ALTER TABLE chunks DROP COLUMN sha256; ALTER TABLE status DROP COLUMN poll_error; "
            "ALTER TABLE status DROP COLUMN redis_down_since; " SCHEMA3_DROP "PRAGMA user_version = 1;");
    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), index_schema_version());
    assert_int_equal(index_chunk_last(f->idx, id, 1, CHUNK_BASE, &c, &e), 0);
    assert_int_equal(c.end, 10);
    assert_false(c.has_sha256);
    assert_int_equal(index_status_get(f->idx, id, &out, &e), 0);
    assert_int_equal(out.last_poll, 42);
    assert_string_equal(out.poll_error, "");
    assert_int_equal(out.redis_down_since, 0);
}

/* index_open_copy: an old copy is migrated, garbage and future versions
 * are refused, a missing file is not created. */
static void test_open_copy(void **state)
{
    struct fixture *f = *state;
    struct index *copy = NULL;
    struct err e;
    int64_t id;

    assert_int_equal(index_open_copy(f->path, &copy, &e), -1);
    assert_null(copy);
    assert_int_equal(access(f->path, F_OK), -1);

    write_file(f->path, "not a database, just text........................................................",
               80);
    assert_int_equal(index_open_copy(f->path, &copy, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    unlink(f->path);

    raw_sql(f->path, "CREATE TABLE future(x); PRAGMA user_version = 999;");
    assert_int_equal(index_open_copy(f->path, &copy, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "newer than this aofroll knows"));
    unlink(f->path);

    assert_int_equal(index_open(f->path, 0, &f->idx, &e), 0);
    assert_int_equal(index_instance_id(f->idx, "sessions", 1, &id, &e), 0);
    index_close(f->idx);
    f->idx = NULL;
    raw_sql(f->path, "PRAGMA journal_mode = DELETE; ALTER TABLE chunks DROP COLUMN sha256; "
                     "ALTER TABLE status DROP COLUMN poll_error; ALTER TABLE status DROP COLUMN "
                     "redis_down_since; " SCHEMA3_DROP "PRAGMA user_version = 1;");
    assert_int_equal(index_open_copy(f->path, &copy, &e), 0);
    assert_int_equal(index_instance_id(copy, "sessions", 0, &id, &e), 0);
    index_close(copy);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), index_schema_version());
    assert_int_equal(
        raw_int(f->path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'delete'"), 1);
}

/* ------------------------------------------------------------------------
 * Transactions, concurrency, backup
 * --------------------------------------------------------------------- */

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    struct chunk_row out;
    struct index *second = NULL;
    struct err e;
    int64_t id;

    add_gen(f->idx, f->inst, 1, 90, 1);
    assert_int_equal(index_begin(f->idx, &e), 0);
    id = add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 0, 10, 100, 100);
    index_rollback(f->idx);
    assert_int_equal(index_chunk_get(f->idx, id, &out, &e), -1);
    index_rollback(f->idx); /* no transaction: harmless */

    assert_int_equal(index_begin(f->idx, &e), 0);
    assert_int_equal(index_begin(f->idx, &e), -1);
    expect_msg(&e, ERR_IO,
               "index \"%s\": beginning a transaction: cannot start a transaction within a transaction",
               f->path);
    id = add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 0, 10, 100, 100);
    /* another handle does not see it until commit */
    assert_int_equal(index_open(f->path, 1, &second, &e), 0);
    assert_int_equal(index_chunk_get(second, id, &out, &e), -1);
    assert_int_equal(index_commit(f->idx, &e), 0);
    assert_int_equal(index_chunk_get(second, id, &out, &e), 0);
    assert_int_equal(index_chunk_get(f->idx, id, &out, &e), 0);
    index_close(second);

    assert_int_equal(index_commit(f->idx, &e), -1);
    expect_msg(&e, ERR_IO, "index \"%s\": committing: cannot commit - no transaction is active", f->path);
}

static void assert_chunk_equal(const struct chunk_row *a, const struct chunk_row *b)
{
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->instance_id, b->instance_id);
    assert_int_equal(a->generation, b->generation);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->start, b->start);
    assert_int_equal(a->end, b->end);
    assert_int_equal(a->crc32, b->crc32);
    assert_int_equal(a->stored_bytes, b->stored_bytes);
    assert_int_equal(a->first, b->first);
    assert_int_equal(a->last, b->last);
    assert_string_equal(a->key, b->key);
}

static int count_entries(const char *dir)
{
    char cmd[700];
    FILE *p;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static void test_backup(void **state)
{
    struct fixture *f = *state;
    struct chunk_list a = {.n = 0}, b = {.n = 0};
    struct gen_row ga, gb;
    struct status_row s, out;
    struct index *copy = NULL;
    char dest[700], bad[700];
    unsigned char header[20];
    struct err e;
    int64_t id;
    uint64_t size;
    int fd;
    int i;

    add_gen(f->idx, f->inst, 1, 90, 1);
    for (i = 0; i < 20; i++)
        add_chunk(f->idx, f->inst, 1, CHUNK_INCR, (uint64_t)i * 100, (uint64_t)i * 100 + 100, 100 + i,
                  100 + i);
    assert_int_equal(index_sizelog_add(f->idx, f->inst, 1, 100, "a", 2000, &e), 0);
    memset(&s, 0, sizeof(s));
    s.instance_id = f->inst;
    s.pid = 7;
    assert_int_equal(index_status_put(f->idx, &s, &e), 0);
    /* what the open transaction wrote is not part of the copy */
    assert_int_equal(index_begin(f->idx, &e), 0);
    id = add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 9000, 9100, 900, 900);
    snprintf(dest, sizeof(dest), "%s/copy.db", f->dir);
    if (index_backup(f->idx, dest, &e) < 0)
        fail_msg("%s", e.msg);
    index_rollback(f->idx);
    assert_int_equal(index_open(dest, 1, &copy, &e), 0);
    assert_int_equal(index_chunks_between(copy, f->inst, INT64_MIN, INT64_MAX, collect_chunk, &b, &e), 0);
    assert_int_equal(b.n, 20);
    assert_int_equal(index_chunk_get(copy, id, &b.rows[0], &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    index_close(copy);
    copy = NULL;
    memset(&b, 0, sizeof(b));

    /* a later copy replaces the earlier one whole */
    add_chunk(f->idx, f->inst, 1, CHUNK_INCR, 2000, 2100, 200, 200);
    assert_int_equal(index_backup(f->idx, dest, &e), 0);

    /* only index.db (+ -wal, -shm) and the copy: no temp file left */
    assert_int_equal(count_entries(f->dir), 4);
    /* a single self-contained file: rollback journal, not WAL */
    fd = open(dest, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, header, sizeof(header)), sizeof(header));
    close(fd);
    assert_memory_equal(header, "SQLite format 3", 16);
    assert_int_equal(header[18], 1);
    assert_int_equal(header[19], 1);

    assert_int_equal(index_open(dest, 1, &copy, &e), 0);
    assert_int_equal(index_instance_id(copy, "sessions", 0, &id, &e), 0);
    assert_int_equal(id, f->inst);
    assert_int_equal(index_chunks_between(f->idx, f->inst, INT64_MIN, INT64_MAX, collect_chunk, &a, &e), 0);
    assert_int_equal(index_chunks_between(copy, f->inst, INT64_MIN, INT64_MAX, collect_chunk, &b, &e), 0);
    assert_int_equal(a.n, 21);
    assert_int_equal(b.n, 21);
    for (i = 0; i < a.n; i++)
        assert_chunk_equal(&a.rows[i], &b.rows[i]);
    assert_int_equal(index_generation_get(f->idx, f->inst, 1, &ga, &e), 0);
    assert_int_equal(index_generation_get(copy, f->inst, 1, &gb, &e), 0);
    assert_int_equal(ga.base_time, gb.base_time);
    assert_int_equal(ga.base_crc32, gb.base_crc32);
    assert_string_equal(ga.base_file, gb.base_file);
    assert_string_equal(ga.incr_file, gb.incr_file);
    assert_int_equal(index_sizelog_at(copy, f->inst, 1, 100, &size, &e), 0);
    assert_int_equal(size, 2000);
    assert_int_equal(index_status_get(copy, f->inst, &out, &e), 0);
    assert_int_equal(out.pid, 7);
    index_close(copy);

    snprintf(bad, sizeof(bad), "%s/nosuchdir/copy.db", f->dir);
    assert_int_equal(index_backup(f->idx, bad, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_true(strncmp(e.msg, "cannot create \"", 15) == 0);
    assert_non_null(strstr(e.msg, "/nosuchdir/copy.db.tmp-"));
    assert_non_null(strstr(e.msg, "\": No such file or directory"));
}

/* ------------------------------------------------------------------------
 * Query plans and speed
 * --------------------------------------------------------------------- */

/* NULL when the plan reads every statement through an index, else the
 * offending plan line (copied into `line`). */
static const char *plan_scan(const char *plan, char *line, size_t n)
{
    const char *p = plan;
    const char *nl;
    size_t len;

    while (*p != '\0') {
        nl = strchr(p, '\n');
        len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        snprintf(line, n, "%.*s", (int)len, p);
        if (strncmp(line, "SCAN ", 5) == 0 && strstr(line, " INDEX ") == NULL)
            return line;
        p += len + (nl != NULL);
    }
    return NULL;
}

struct plans {
    int n;
    struct buf all; /* "SQL => PLAN" for the messages */
};

static int check_plan(void *ud, const char *sql, const char *plan)
{
    struct plans *p = ud;
    char line[512];

    p->n++;
    buf_printf(&p->all, "%s =>\n%s\n", sql, plan);
    if (plan_scan(plan, line, sizeof(line)) != NULL)
        fail_msg("\"%s\" scans a table: %s", sql, line);
    /* the time window of ls goes through a time index */
    if (strstr(sql, "last >= ?2") != NULL)
        assert_non_null(strstr(plan, "USING INDEX chunks_last (instance_id=? AND last>?)"));
    if (strstr(sql, "INDEXED BY chunks_first") != NULL)
        assert_non_null(strstr(plan, "USING INDEX chunks_first (instance_id=? AND first<?)"));
    if (strstr(sql, "FROM size_log") != NULL && strstr(sql, "SELECT") != NULL)
        assert_non_null(strstr(plan, "USING COVERING INDEX size_log_"));
    return 0;
}

static void test_query_plans(void **state)
{
    struct fixture *f = *state;
    struct plans p = {0, BUF_INIT};
    char line[512];
    struct err e;

    /* the checker itself tells a scan from an index search */
    assert_non_null(plan_scan("SCAN chunks\n", line, sizeof(line)));
    assert_string_equal(line, "SCAN chunks");
    assert_non_null(plan_scan("SEARCH chunks USING INDEX chunks_last (instance_id=?)\nSCAN size_log\n", line,
                              sizeof(line)));
    assert_string_equal(line, "SCAN size_log");
    assert_null(
        plan_scan("SCAN instances USING COVERING INDEX sqlite_autoindex_instances_1\n", line, sizeof(line)));
    assert_null(plan_scan("SEARCH chunks USING INDEX chunks_position (instance_id=?)\n", line, sizeof(line)));

    assert_int_equal(index_explain_all(f->idx, check_plan, &p, &e), 0);
    assert_true(p.n >= 30);
    assert_non_null(strstr(p.all.data, "SEARCH chunks USING INTEGER PRIMARY KEY (rowid=?)"));
    assert_non_null(strstr(p.all.data, "SEARCH chunks USING INDEX sqlite_autoindex_chunks_1 (key=?)"));
    assert_non_null(strstr(p.all.data, "SEARCH chunks USING INDEX chunks_position (instance_id=? AND "
                                       "generation=? AND kind=?)"));
    assert_non_null(strstr(p.all.data, "SEARCH events USING INDEX events_time (instance_id=? AND time>?)"));
    buf_free(&p.all);
}

struct chunk_count {
    int n;
    uint64_t first_start;
};

static int count_chunk(void *ud, const struct chunk_row *c)
{
    struct chunk_count *cnt = ud;

    if (cnt->n++ == 0)
        cnt->first_start = c->start;
    return 0;
}

static void test_insert_and_list_speed(void **state)
{
    struct fixture *f = *state;
    struct chunk_count window = {0, 0}, all = {0, 0};
    struct chunk_row c;
    struct err e;
    const int n = 100000;
    double t0, insert_s, window_s, all_s;
    int i;

    add_gen(f->idx, f->inst, 1, 90, 1);
    t0 = now_s();
    assert_int_equal(index_begin(f->idx, &e), 0);
    for (i = 0; i < n; i++) {
        /* ten chunks a second */
        make_chunk(&c, f->inst, 1, CHUNK_INCR, (uint64_t)i * 65536, (uint64_t)(i + 1) * 65536, 1000 + i / 10,
                   1000 + (i + 1) / 10);
        if (index_chunk_add(f->idx, &c, &e) < 0)
            fail_msg("%s", e.msg);
    }
    assert_int_equal(index_commit(f->idx, &e), 0);
    insert_s = now_s() - t0;

    /* [5000, 5009]: chunks 39999 (last 5000) to 40099 (first 5009) */
    t0 = now_s();
    assert_int_equal(index_chunks_between(f->idx, f->inst, 5000, 5009, count_chunk, &window, &e), 0);
    window_s = now_s() - t0;
    assert_int_equal(window.n, 101);
    assert_int_equal(window.first_start, (uint64_t)39999 * 65536);

    t0 = now_s();
    assert_int_equal(index_chunks_between(f->idx, f->inst, INT64_MIN, INT64_MAX, count_chunk, &all, &e), 0);
    all_s = now_s() - t0;
    assert_int_equal(all.n, n);
    assert_int_equal(all.first_start, 0);

    print_message("index: %d chunk inserts in %.3f s (%.0f/s); a 10 s window in %.4f s; all %d listed in "
                  "%.3f s (%.0f/s)\n",
                  n, insert_s, n / insert_s, window_s, n, all_s, n / all_s);
    /* generous bounds for a shared, sanitized build: only a lost index
     * or a per-row transaction would break them */
    assert_true(insert_s < 10.0);
    assert_true(window_s < 0.5);
    assert_true(all_s < 5.0);
}

/* Schema 4: a node's cluster views, newest at or before a second, per
 * instance and cluster, each query served by an SQL index. */
static int count_view(void *ud, const struct cluster_view *v)
{
    (*(int *)ud)++;
    return v->time < 0;
}

static int name_seen(void *ud, int64_t id, const char *name)
{
    (void)id;
    buf_printf(ud, "%s;", name);
    return 0;
}

static void test_cluster_views(void **state)
{
    struct fixture *f = *state;
    struct cluster_view v, got;
    struct buf names = BUF_INIT;
    sqlite3_stmt *st = NULL;
    const char *sqls[] = {
        "EXPLAIN QUERY PLAN SELECT * FROM cluster_views WHERE instance_id = 1 AND cluster = 'c' AND time <= "
        "5 "
        "ORDER BY time DESC, id DESC LIMIT 1",
        "EXPLAIN QUERY PLAN SELECT i.id, i.name FROM instances i WHERE EXISTS (SELECT 1 FROM cluster_views v "
        "WHERE v.cluster = 'c' AND v.instance_id = i.id) ORDER BY i.name"};
    struct err e;
    int n = 0;
    size_t i;

    memset(&v, 0, sizeof(v));
    memset(&got, 0, sizeof(got));
    v.instance_id = f->inst;
    strcpy(v.cluster, "prod");
    strcpy(v.reason, "start");
    memset(v.node_id, 'a', CLUSTER_NODE_ID_LEN);
    v.master = 1;
    v.config_epoch = 1;
    v.slots = "0-16383";
    v.nodes = "x\n";
    v.in_sync = 1;
    v.time = 100;
    assert_int_equal(cluster_view_add(f->idx, &v, &e), 0);
    v.time = 200;
    v.master = 0;
    memset(v.master_id, 'b', CLUSTER_NODE_ID_LEN);
    strcpy(v.reason, "change");
    assert_int_equal(cluster_view_add(f->idx, &v, &e), 0);
    strcpy(v.cluster, "other");
    assert_int_equal(cluster_view_add(f->idx, &v, &e), 0);

    assert_int_equal(cluster_view_at(f->idx, f->inst, "prod", 99, &got, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_int_equal(cluster_view_at(f->idx, f->inst, "prod", 199, &got, &e), 0);
    assert_int_equal(got.time, 100);
    assert_int_equal(got.master, 1);
    assert_string_equal(got.slots, "0-16383");
    assert_string_equal(got.reason, "start");
    assert_int_equal(cluster_view_at(f->idx, f->inst, "prod", INT64_MAX, &got, &e), 0);
    assert_int_equal(got.time, 200);
    assert_int_equal(got.master, 0);
    assert_int_equal(strlen(got.master_id), CLUSTER_NODE_ID_LEN);
    assert_true(cluster_view_same(&got, &v) == 0); /* another cluster */
    cluster_view_free(&got);
    assert_int_equal(cluster_view_at(f->idx, f->other, "prod", INT64_MAX, &got, &e), -1);
    assert_int_equal(cluster_view_list(f->idx, f->inst, "prod", 0, INT64_MAX, count_view, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(cluster_view_instances(f->idx, "prod", name_seen, &names, &e), 0);
    assert_string_equal(names.data, "sessions;");
    buf_free(&names);

    for (i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
        assert_int_equal(sqlite3_prepare_v2(index_sqlite(f->idx), sqls[i], -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *detail = (const char *)sqlite3_column_text(st, 3);

            if (strstr(detail, "cluster_views") != NULL && strncmp(detail, "SCAN", 4) == 0)
                fail_msg("scans: %s: %s", sqls[i], detail);
        }
        sqlite3_finalize(st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_schema, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_open_readonly_missing, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_open_garbage, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_pages, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_version_0, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_newer_version, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_foreign_database, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_rejects_writes, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_instances, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_generation_lifecycle, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_schema3_fields, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_version_2, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_generation_delete, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_add_get, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_last_and_order, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_chunks_between, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_sizelog, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_events, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_cluster_views, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_digest, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_version_1, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_open_copy, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_query_plans, setup_index, teardown),
        cmocka_unit_test_setup_teardown(test_insert_and_list_speed, setup_index, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

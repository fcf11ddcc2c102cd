/* archive_fixture.c - a small archive for the unit tests of replay/ (see
 * archive_fixture.h). Fails the running cmocka test on any error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive_fixture.h"
#include "buf.h"
#include "codec.h"
#include "objname.h"
#include "test_tmpdir.h"
#include "xalloc.h"

int archive_open(struct archive *a, const char *test)
{
    char path[1200];
    struct err e;

    memset(a, 0, sizeof(*a));
    if (test_tmpdir_make(test, a->dir, sizeof(a->dir)) < 0)
        return -1;
    snprintf(a->url, sizeof(a->url), "file://%s/store", a->dir);
    snprintf(a->index, sizeof(a->index), "%s/index.db", a->dir);
    snprintf(path, sizeof(path), "%s/store", a->dir);
    mkdir(path, 0755);
    a->cfg.storage_url = a->url;
    a->instance = "live";
    err_clear(&e);
    if (storage_open(&a->cfg, &a->st, &e) < 0 || index_open(a->index, 0, &a->idx, &e) < 0 ||
        index_instance_id(a->idx, a->instance, 1, &a->instance_id, &e) < 0) {
        print_error("archive_open: %s\n", e.msg);
        return -1;
    }
    return 0;
}

void archive_close(struct archive *a)
{
    index_close(a->idx);
    storage_close(a->st);
    if (test_tmpdir_remove(a->dir) < 0)
        print_error("archive_close: cannot remove %s\n", a->dir);
}

int archive_setup(void **state, const char *test)
{
    struct archive *a = xcalloc(1, sizeof(*a));

    if (archive_open(a, test) < 0) {
        free(a);
        return -1;
    }
    *state = a;
    return 0;
}

int archive_teardown(void **state)
{
    archive_close(*state);
    free(*state);
    return 0;
}

/* The row of generation g. */
static void archive_gen_get(struct archive *a, int64_t g, struct gen_row *r)
{
    struct err e;

    err_clear(&e);
    if (index_generation_get(a->idx, a->instance_id, g, r, &e) < 0)
        fail_msg("generation %lld: %s", (long long)g, e.msg);
}

void archive_generation_update(struct archive *a, const struct gen_row *r)
{
    struct err e;

    err_clear(&e);
    if (index_generation_update(a->idx, r, &e) < 0)
        fail_msg("generation %lld: %s", (long long)r->generation, e.msg);
}

void archive_generation(struct archive *a, int64_t g, int64_t base_time, uint64_t base_size, int complete)
{
    struct gen_row r;
    struct err e;

    memset(&r, 0, sizeof(r));
    r.instance_id = a->instance_id;
    r.generation = g;
    r.mode = MODE_AOF;
    r.base_format = BASE_RDB;
    r.base_size = base_size;
    r.base_complete = complete;
    r.base_time = base_time;
    r.started = base_time;
    snprintf(r.incr_file, sizeof(r.incr_file), "appendonly.aof.%lld.incr.aof", (long long)g);
    err_clear(&e);
    if (index_generation_add(a->idx, &r, &e) < 0)
        fail_msg("generation %lld: %s", (long long)g, e.msg);
}

int64_t archive_chunk(struct archive *a, int64_t g, enum chunk_kind kind, const char *data, uint64_t start,
                      uint64_t end, int64_t first, int64_t last, const struct chunk_marks *marks)
{
    struct chunk_name n;
    struct chunk_row row;
    struct buf gz = BUF_INIT;
    struct gen_row gen;
    uint32_t crc = 0;
    struct err e;

    archive_gen_get(a, g, &gen);
    err_clear(&e);
    memset(&n, 0, sizeof(n));
    snprintf(n.instance, sizeof(n.instance), "%s", a->instance);
    n.generation = g;
    n.kind = kind;
    n.start = start;
    n.end = end;
    if (kind == CHUNK_BASE) {
        n.format = BASE_RDB;
        n.first = n.last = gen.base_time;
        n.total = gen.base_size;
    } else {
        n.first = first;
        n.last = last;
    }
    memset(&row, 0, sizeof(row));
    if (objname_chunk(&n, row.key, sizeof(row.key)) < 0 ||
        codec_encode(data + start, (size_t)(end - start), 1, &gz, &crc, &e) < 0 ||
        storage_put(a->st, row.key, gz.data, gz.len, &e) < 0)
        fail_msg("chunk %s: %s", row.key, e.msg);
    row.instance_id = a->instance_id;
    row.generation = g;
    row.kind = kind;
    row.start = start;
    row.end = end;
    row.crc32 = crc;
    row.stored_bytes = gz.len;
    row.first = n.first;
    row.last = n.last;
    row.has_sha256 = 1;
    codec_sha256(gz.data, gz.len, row.sha256);
    if (marks != NULL && marks->known) {
        row.marks_known = 1;
        row.ts_first = marks->ts_first;
        row.ts_last = marks->ts_last;
        row.boundary = marks->boundary;
        row.boundary_db = marks->boundary_db;
        row.boundary_ts = marks->boundary_ts;
    }
    if (index_chunk_add(a->idx, &row, &e) < 0)
        fail_msg("chunk %s: %s", row.key, e.msg);
    buf_free(&gz);
    return row.id;
}

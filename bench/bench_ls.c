/* bench_ls.c - builds the index that bench/ls.sh lists: a synthetic
 * archive of N chunks (default 1,000,000) for one instance "bench", in
 * generations of 10,000 chunks (a 4 KiB base chunk, then incr chunks of
 * 64 KiB observed one second apart), written through the index module
 * itself in transactions of 50,000 rows. No object is stored: `aofroll ls`
 * reads the index only.
 *
 *   bench_ls INDEX [--chunks N]
 *
 * INDEX must not exist yet. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index.h"
#include "objname.h"

#define BENCH_GEN_CHUNKS 10000
#define BENCH_TXN_ROWS 50000
#define BENCH_T0 INT64_C(1763596800) /* 2025-11-20T00:00:00Z */

static int bench_fill(struct index *idx, long n, struct err *e)
{
    struct gen_row g;
    struct chunk_row c;
    struct chunk_name cn;
    int64_t inst, t = BENCH_T0;
    long i, in_txn = 0;

    if (index_instance_id(idx, "bench", 1, &inst, e) < 0 || index_begin(idx, e) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        long k = i % BENCH_GEN_CHUNKS;

        memset(&c, 0, sizeof(c));
        memset(&cn, 0, sizeof(cn));
        snprintf(cn.instance, sizeof(cn.instance), "bench");
        cn.generation = i / BENCH_GEN_CHUNKS + 1;
        if (k == 0) {
            memset(&g, 0, sizeof(g));
            g.instance_id = inst;
            g.generation = cn.generation;
            g.mode = MODE_AOF;
            g.base_format = BASE_RDB;
            g.base_size = 4096;
            g.base_complete = 1;
            g.base_time = t;
            g.started = t;
            snprintf(g.base_file, sizeof(g.base_file), "appendonly.aof.%" PRId64 ".base.rdb", g.generation);
            snprintf(g.incr_file, sizeof(g.incr_file), "appendonly.aof.%" PRId64 ".incr.aof", g.generation);
            if (index_generation_add(idx, &g, e) < 0)
                return -1;
            cn.kind = CHUNK_BASE;
            cn.format = BASE_RDB;
            cn.start = 0;
            cn.end = 4096;
            cn.total = 4096;
            cn.first = cn.last = t;
            c.first = c.last = t;
        } else {
            cn.kind = CHUNK_INCR;
            cn.start = (uint64_t)(k - 1) * 65536;
            cn.end = cn.start + 65536;
            cn.first = t;
            cn.last = t + 1;
            c.first = cn.first;
            c.last = cn.last;
            t++;
        }
        if (objname_chunk(&cn, c.key, sizeof(c.key)) < 0)
            return err_set(e, ERR_USAGE, "cannot name chunk %ld", i);
        c.instance_id = inst;
        c.generation = cn.generation;
        c.kind = cn.kind;
        c.start = cn.start;
        c.end = cn.end;
        c.crc32 = (uint32_t)i * 2654435761u;
        c.stored_bytes = (cn.end - cn.start) / 3;
        if (index_chunk_add(idx, &c, e) < 0)
            return -1;
        if (++in_txn == BENCH_TXN_ROWS) {
            if (index_commit(idx, e) < 0 || index_begin(idx, e) < 0)
                return -1;
            in_txn = 0;
        }
    }
    return index_commit(idx, e);
}

int main(int argc, char **argv)
{
    struct index *idx = NULL;
    struct err e;
    long n = 1000000;
    int rc = 1;

    err_clear(&e);
    if (argc == 4 && strcmp(argv[2], "--chunks") == 0) {
        n = strtol(argv[3], NULL, 10);
    } else if (argc != 2) {
        fprintf(stderr, "usage: bench_ls INDEX [--chunks N]\n");
        return 2;
    }
    if (n <= 0 || access(argv[1], F_OK) == 0) {
        fprintf(stderr, "bench_ls: need a positive N and an INDEX that does not exist yet\n");
        return 2;
    }
    if (index_open(argv[1], 0, &idx, &e) < 0 || bench_fill(idx, n, &e) < 0) {
        fprintf(stderr, "bench_ls: %s\n", e.msg);
        goto out;
    }
    printf("bench_ls: %ld chunks in \"%s\"\n", n, argv[1]);
    rc = 0;
out:
    if (idx != NULL)
        index_close(idx);
    return rc;
}

/* restore_rdb.c - restore a snapshot (mode rdb generation); see
 * restore_rdb.h.
 *
 * The base chunks are fetched ahead on worker threads (prefetch.h), each
 * checked to start where the previous ended (fetch_join) and decoded
 * against its CRC32, and written in order to the scratch directory's
 * dump.rdb; the whole file must then have the size and CRC32 the index
 * recorded, and pass the RDB's own check (rdbcheck.h: the EOF opcode and
 * the CRC-64 Redis wrote). The AOF directory's base is a hard link to the
 * same file (Redis replaces files by rename, never writes into them, so
 * the two names cannot drift apart), or a copy where links are refused.
 * Everything is written into DIR's stage (outdir.h), which cmd_restore.c
 * renames into place only when complete. */
#include "restore_rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "manifest.h"
#include "outdir.h"
#include "prefetch.h"
#include "rdbcheck.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

#define RDB_DUMP "dump.rdb"
#define RDB_MANIFEST "appendonly.aof.manifest"
#define RDB_BASE "appendonly.aof.1.base.rdb"
#define RDB_INCR "appendonly.aof.1.incr.aof"
#define RDB_STAGED(name) OUTDIR_STAGE "/" name

/* What DIR gets, in the order it is renamed into place. */
const char *const restore_rdb_entries[] = {RDB_DUMP, OUTDIR_AOF_DIR, POSITION_FILE};
const size_t restore_rdb_nentries = sizeof(restore_rdb_entries) / sizeof(restore_rdb_entries[0]);

/* ------------------------------------------------------------------ */
/* The files                                                            */
/* ------------------------------------------------------------------ */

/* Fetch the base chunks into the staged dump.rdb, checking joins, size,
 * CRC32 and the RDB itself. */
static int rdb_write_dump(struct restore_rdb *r, struct err *e)
{
    struct fetch_list chunks = {NULL, 0, 0};
    struct outdir_file out = OUTDIR_FILE_INIT;
    struct prefetch *pf = NULL;
    struct rdbcheck check;
    struct rdbcheck_result res;
    const struct buf *raw;
    const char *name = r->fetch->instance;
    long long gen = (long long)r->gen->generation;
    uint64_t expect = 0;
    uint32_t crc = 0;
    int ret = -1;
    size_t i;

    rdbcheck_init(&check, r->gen->base_size);
    if (fetch_list(r->fetch, r->gen->generation, CHUNK_BASE, 0, &chunks, e) < 0)
        goto out;
    if (chunks.n > 0 && prefetch_start(&pf, r->cfg, r->fetch, &chunks, 0, r->threads, e) < 0)
        goto out;
    if (outdir_file_create(&out, r->dir, RDB_STAGED(RDB_DUMP), e) < 0)
        goto out;
    for (i = 0; i < chunks.n; i++) {
        if (fetch_join(r->fetch, r->gen->generation, CHUNK_BASE, expect, &chunks.v[i], e) < 0 ||
            prefetch_get(pf, i, &raw, e) < 0)
            goto out;
        crc = codec_crc32(crc, raw->data, raw->len);
        rdbcheck_feed(&check, raw->data, raw->len);
        if (outdir_file_append(&out, raw->data, raw->len, e) < 0)
            goto out;
        expect = chunks.v[i].end;
    }
    if (expect != r->gen->base_size) {
        err_set(e, ERR_CORRUPT,
                "the snapshot of \"%s\" generation %lld is incomplete: chunks reach byte %llu of %llu", name,
                gen, (unsigned long long)expect, (unsigned long long)r->gen->base_size);
        goto out;
    }
    if (r->gen->base_crc32 != 0 && crc != r->gen->base_crc32) { /* 0: not recorded */
        err_set(e, ERR_CORRUPT, "the snapshot of \"%s\" generation %lld has CRC32 %08x, the index says %08x",
                name, gen, crc, r->gen->base_crc32);
        goto out;
    }
    if (rdbcheck_finish(&check, out.path, &res, e) < 0) {
        err_prefix(e, "the snapshot of \"%s\" generation %lld", name, gen);
        goto out;
    }
    if (outdir_file_finish(&out, e) < 0)
        goto out;
    r->bytes = expect;
    r->rdb_version = res.version;
    r->checksummed = res.checksummed;
    ret = 0;
out:
    r->write_seconds += out.seconds;
    if (pf != NULL) {
        r->fetch_waited += prefetch_waited(pf);
        prefetch_stop(pf);
    }
    outdir_file_close(&out);
    fetch_list_free(&chunks);
    return ret;
}

/* Copy `src` to `dst` under DIR (where hard links are refused). */
static int rdb_copy(const struct outdir *d, const char *src, const char *dst, struct err *e)
{
    struct buf data = BUF_INIT;
    struct outdir_file out = OUTDIR_FILE_INIT;
    int ret = -1;

    if (outdir_read_file(d, src, &data, e) < 0 || outdir_file_create(&out, d, dst, e) < 0 ||
        outdir_file_append(&out, data.data, data.len, e) < 0 || outdir_file_finish(&out, e) < 0)
        goto out;
    ret = 0;
out:
    outdir_file_close(&out);
    buf_free(&data);
    return ret;
}

/* The AOF directory: the dump as its base, an empty incr file, the manifest. */
static int rdb_write_aofdir(struct restore_rdb *r, struct err *e)
{
    const char *dump = RDB_STAGED(RDB_DUMP);
    const char *base = RDB_STAGED(OUTDIR_AOF_DIR "/" RDB_BASE);
    struct outdir_file out = OUTDIR_FILE_INIT;
    struct buf manifest = BUF_INIT;
    struct err le;
    int ret = -1;

    err_clear(&le);
    if (outdir_mkdir(r->dir, RDB_STAGED(OUTDIR_AOF_DIR), e) < 0)
        goto out;
    r->linked = outdir_link(r->dir, dump, base, &le) == 0;
    if (!r->linked && rdb_copy(r->dir, dump, base, e) < 0)
        goto out;
    if (outdir_file_create(&out, r->dir, RDB_STAGED(OUTDIR_AOF_DIR "/" RDB_INCR), e) < 0 ||
        outdir_file_finish(&out, e) < 0)
        goto out;
    if (manifest_format(&manifest, RDB_BASE, 1, RDB_INCR, 1, e) < 0 ||
        outdir_write_atomic(r->dir, RDB_STAGED(OUTDIR_AOF_DIR "/" RDB_MANIFEST), manifest.data, manifest.len,
                            e) < 0)
        goto out;
    ret = 0;
out:
    outdir_file_close(&out);
    buf_free(&manifest);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Report                                                               */
/* ------------------------------------------------------------------ */

/* "the snapshot interval, 1h", "one day, snapshots daily at 03:00" */
static void rdb_precision(const struct instance_config *ic, char *buf, size_t n)
{
    char d[32];

    if (ic->mode == MODE_RDB && ic->snapshot_interval_s > 0) {
        units_format_duration_ms(ic->snapshot_interval_s * 1000, d, sizeof(d));
        snprintf(buf, n, "the snapshot interval, %s", d);
    } else if (ic->mode == MODE_RDB && ic->snapshot_minute >= 0) {
        snprintf(buf, n, "one day, snapshots daily at %02d:%02d", ic->snapshot_minute / 60,
                 ic->snapshot_minute % 60);
    } else {
        snprintf(buf, n, "the snapshot schedule");
    }
}

void restore_rdb_report(const struct restore_rdb *r)
{
    char t[TIME_BUFSZ], to[TIME_BUFSZ], size[32], precision[64];

    time_format_utc(r->gen->base_time, t, sizeof(t));
    time_format_utc(r->to, to, sizeof(to));
    units_format_size((int64_t)r->bytes, size, sizeof(size));
    rdb_precision(r->ic, precision, sizeof(precision));
    printf("instance %s, generation %lld (snapshot, mode rdb)\n", r->ic->name, (long long)r->gen->generation);
    printf("snapshot taken at %s (precision: %s)\n", t, precision);
    if (r->to > r->gen->base_time)
        printf("note: the data is as of the snapshot, %lld s before %s\n",
               (long long)(r->to - r->gen->base_time), to);
    printf("wrote \"%s/%s\": %s, rdb version %d, %s\n", r->dir->path, RDB_DUMP, size, r->rdb_version,
           r->checksummed ? "checksum ok" : "no checksum (rdbchecksum no)");
    printf("wrote \"%s/%s\": %s (%s), %s (0 B)\n", r->dir->path, OUTDIR_AOF_DIR, RDB_BASE,
           r->linked ? "a hard link to dump.rdb" : "a copy of dump.rdb", RDB_INCR);
    printf("fetch %.2f s on %d threads (waited %.2f s), write %.2f s\n", r->fetch->seconds, r->threads,
           r->fetch_waited, r->write_seconds);
}

/* ------------------------------------------------------------------ */
/* The restore                                                          */
/* ------------------------------------------------------------------ */

int restore_rdb_run(struct restore_rdb *r, struct err *e)
{
    if (r->stop_before != NULL)
        return err_set(
            e, ERR_USAGE,
            "--stop-before \"%s\": generation %lld of \"%s\" is a snapshot (mode rdb), with no commands to "
            "stop before",
            r->stop_before, (long long)r->gen->generation, r->fetch->instance);
    if (r->gen->mode != MODE_RDB || !r->gen->base_complete)
        return err_set(e, ERR_CORRUPT, "generation %lld of \"%s\" is not a complete snapshot",
                       (long long)r->gen->generation, r->fetch->instance);
    if (rdb_write_dump(r, e) < 0 || rdb_write_aofdir(r, e) < 0)
        return -1;
    memset(&r->pos, 0, sizeof(r->pos));
    snprintf(r->pos.instance, sizeof(r->pos.instance), "%s", r->fetch->instance);
    r->pos.generation = r->gen->generation;
    r->pos.base_time = r->gen->base_time;
    r->pos.requested = r->to;
    r->pos.time = r->gen->base_time;
    r->pos.offset = 0;
    r->pos.db = 0;
    r->pos.ts = -1;
    r->pos.exact = 0;
    return position_write(r->dir, RDB_STAGED(POSITION_FILE), &r->pos, e);
}

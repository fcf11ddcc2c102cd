/* ship.c - one chunk from an AOF file into the archive.
 *
 * A chunk is shipped in the order that makes a crash harmless: pread the
 * raw bytes, gzip them into one standalone member (codec.h), store the
 * object (an atomic put; sealed on its way when a key file is configured,
 * its name then ending in ".<key id>.enc"), and only then record the chunk
 * in the index, with (for an incr chunk) what the AOF scanner saw in it. A
 * crash before the index row leaves an object that start-up reconciliation
 * (reconcile.c) verifies and adopts or removes; a crash before the put
 * leaves nothing. The shipped range is then dropped from the page cache
 * (posix_fadvise DONTNEED) so that reading the AOF does not push Redis's
 * own pages out. The callers (follow.c, snapshot_take.c) wait for the
 * throttle (throttle.c) around each chunk. */

#include "ship.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "objname.h"

#include "context.h"
#include "generation.h"
#include "lineage.h"

int ship_chunk(struct instance *in, const struct gen_row *g, struct generation *scan, enum chunk_kind kind,
               const struct aof_file *f, uint64_t file_off, uint64_t start, uint64_t len, int64_t first,
               int64_t last, uint32_t *crc, struct err *e)
{
    struct chunk_marks marks;
    struct chunk_name cn;
    struct chunk_row row;

    memset(&cn, 0, sizeof(cn));
    memset(&row, 0, sizeof(row));
    buf_reset(&in->raw);
    buf_reserve(&in->raw, len);
    if (lineage_read_fd(f->fd, f->name, file_off, in->raw.data, len, e) != 0)
        return -1;
    in->raw.len = len;
    buf_reset(&in->gz);
    if (codec_encode(in->raw.data, len, in->ic->compression, &in->gz, crc, e) != 0)
        return -1;

    snprintf(cn.instance, sizeof(cn.instance), "%s", in->name);
    cn.generation = g->generation;
    cn.kind = kind;
    cn.format = g->base_format;
    cn.start = start;
    cn.end = start + len;
    cn.first = first;
    cn.last = last;
    cn.total = g->base_size;             /* base chunks name the whole base's size */
    if (storage_seal_id(in->st) != NULL) /* the storage seals it on its way in */
        snprintf(cn.seal, sizeof(cn.seal), "%s", storage_seal_id(in->st));
    if (objname_chunk(&cn, row.key, sizeof(row.key)) != 0)
        return err_set(e, ERR_CORRUPT, "cannot name chunk [%" PRIu64 ", %" PRIu64 ") of generation %" PRId64,
                       start, start + len, g->generation);
    if (storage_put(in->st, row.key, in->gz.data, in->gz.len, e) != 0)
        return -1;
    if (in->kill_after_puts > 0 && --in->kill_after_puts == 0)
        raise(SIGKILL);

    row.instance_id = in->instance_id;
    row.generation = g->generation;
    row.kind = kind;
    row.start = start;
    row.end = start + len;
    row.crc32 = *crc;
    row.stored_bytes = storage_stored_size(row.key, in->gz.len);
    row.first = first;
    row.last = last;
    /* what restore and reindex check objects against: the gzip member,
     * sealed or not (docs/encryption.md) */
    codec_sha256(in->gz.data, in->gz.len, row.sha256);
    row.has_sha256 = 1;
    if (scan != NULL) {
        /* what the AOF scanner sees in it (generation.c) */
        generation_scan_chunk(in, scan, in->raw.data, start, len, &marks);
        row.marks_known = marks.known;
        row.ts_first = marks.ts_first;
        row.ts_last = marks.ts_last;
        row.boundary = marks.boundary;
        row.boundary_db = marks.boundary_db;
        row.boundary_ts = marks.boundary_ts;
    }
    if (index_chunk_add(in->idx, &row, e) != 0) {
        err_prefix(e, "chunk \"%s\" is stored but not indexed", row.key);
        return -1;
    }
    /* Shipped bytes are no longer needed in the page cache. */
    (void)posix_fadvise(f->fd, (off_t)file_off, (off_t)len, POSIX_FADV_DONTNEED);
    if (in->col->progress != NULL) {
        pthread_mutex_lock(&in->col->progress_lock);
        progress_add(in->col->progress, len, 1);
        pthread_mutex_unlock(&in->col->progress_lock);
    }
    log_msg(in->col->log, LOG_DEBUG, in->name,
            "shipped %s chunk gen %" PRId64 " [%" PRIu64 ", %" PRIu64 ") %" PRIu64 " B -> %zu B",
            kind == CHUNK_BASE ? "base" : "incr", g->generation, start, start + len, len, in->gz.len);
    return 0;
}

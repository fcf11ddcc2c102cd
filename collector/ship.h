/* ship.h - one chunk from an AOF or dump file into the archive (ship.c):
 * pread, gzip, store, then the index row. Called by follow.c and
 * snapshot_take.c, which wait for the throttle (throttle.h) around it. */
#ifndef AOFROLL_SHIP_H
#define AOFROLL_SHIP_H

#include <stdint.h>

#include "index.h"

#include "context.h"
#include "generation.h"
#include "lineage.h"

/* Ship one chunk [start, start+len) of `kind` of generation g, read from
 * file `f` at file offset `file_off`: pread, gzip, store, then record in
 * the index. On success *crc holds the chunk's CRC32. first/last:
 * observation times (for a base chunk, both the generation's base_time).
 * `scan` (incr chunks; NULL otherwise): the generation whose scanner gives
 * the chunk's marks. */
int ship_chunk(struct instance *in, const struct gen_row *g, struct generation *scan, enum chunk_kind kind,
               const struct aof_file *f, uint64_t file_off, uint64_t start, uint64_t len, int64_t first,
               int64_t last, uint32_t *crc, struct err *e);

#endif

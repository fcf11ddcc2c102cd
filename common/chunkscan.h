/* chunkscan.h - what the AOF scanner sees in each chunk of an incr stream.
 *
 * The collector feeds every incr chunk it ships through the AOF scanner
 * (aofscan.h), in stream order, and records in the chunk's index row what
 * the scanner saw there (struct chunk_marks); `aofroll reindex` does the
 * same with the chunks it reads back. The marks are:
 *
 *   ts_first, ts_last  the first and last "#TS:" lines that end in the
 *                      chunk (0: none), so the index knows which seconds a
 *                      chunk holds and whether a stream has annotations at
 *                      all;
 *   boundary           the first offset in [start, end) where the stream
 *                      stands between commands outside a transaction (-1:
 *                      none, the chunk lies inside one command or one
 *                      MULTI block), with the db selected there and the
 *                      last "#TS:" before it: a place where a scanner can
 *                      start in the middle of the stream with its state
 *                      known (the collector after a restart, show and log).
 *
 * The state carried from chunk to chunk is the scanner's, plus the db and
 * the last "#TS:" (which, at a stream's start, is the generation's lead
 * second: the last annotation Redis wrote before the stream began). A
 * stream that does not scan (bytes that are not AOF) makes the state
 * unknown from there on: later chunks get no marks, and nothing fails. */
#ifndef AOFROLL_CHUNKSCAN_H
#define AOFROLL_CHUNKSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "aofscan.h"
#include "error.h"

struct chunk_marks {
    int known;           /* 0: the state was unknown, nothing recorded */
    int64_t ts_first;    /* first "#TS:" ending in the chunk, 0 none */
    int64_t ts_last;     /* last one, 0 none */
    int64_t boundary;    /* first boundary in [start, end), -1 none */
    int boundary_db;     /* db selected at the boundary */
    int64_t boundary_ts; /* last "#TS:" before the boundary, 0 unknown */
};

struct chunkscan {
    struct aofscan scan;
    int known;        /* the state below is known */
    int db;           /* db selected at the scanner's offset */
    int64_t ts;       /* last "#TS:" before it, 0 unknown */
    int saw_ts;       /* a "#TS:" line was read since the start */
    struct err error; /* why the state became unknown */
    /* the chunk being fed */
    struct chunk_marks *cur;
    uint64_t cur_end;
};

/* Start at stream offset `offset`, which must be a boundary (0 for the
 * stream's start), with db and the last "#TS:" before it (0 unknown).
 * `cs` must not move while in use (the scanner points back at it). */
void chunkscan_init(struct chunkscan *cs, uint64_t offset, int db, int64_t ts);
/* The state is not known (e.g. a chunk of the stream was not seen). */
void chunkscan_lose(struct chunkscan *cs, const char *why);
/* Feed the next chunk, [chunkscan_offset(cs), + len), and fill *m with
 * its marks (m->known 0 when the state is unknown, or becomes so because
 * the bytes do not scan: chunkscan_error() says why). */
void chunkscan_chunk(struct chunkscan *cs, const char *data, size_t len, struct chunk_marks *m);
/* Merge the marks of two adjacent ranges, `a` then `b`, into *a. */
void chunkscan_merge(struct chunk_marks *a, const struct chunk_marks *b);
int chunkscan_known(const struct chunkscan *cs);
uint64_t chunkscan_offset(const struct chunkscan *cs);
/* The last "#TS:" fed (or the starting value), 0 unknown or none. */
int64_t chunkscan_ts(const struct chunkscan *cs);
/* Why the state is unknown ("" when it is known). */
const char *chunkscan_error(const struct chunkscan *cs);

#endif

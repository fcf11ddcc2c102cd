/* inspect_decode.h - decoding an incr stream from any offset, for show,
 * log and timeline.
 *
 * A chunk is a byte range shipped as it was found, so it may begin and end
 * in the middle of a command. Decoding from offset X therefore first has to
 * find a command boundary at or before X. The collector records, for each
 * incr chunk, its first boundary with the db and second there
 * (chunkscan.h): the decoder starts at the last one at or before X, loading
 * earlier chunks while needed, and knows the db and second from the first
 * command on. For chunks that carry no such record (archived before the
 * collector recorded them, or a base in AOF format) it resynchronises.
 * (Restore avoids the problem by always reading a generation from byte 0;
 * inspection cannot afford that: a chunk late in a day-long generation
 * would mean reading the whole day.) Resynchronising:
 *
 *  1. fetch the chunk holding X and the chunk before it (the neighbour
 *     that holds the start of a command straddling the edge);
 *  2. a candidate boundary is a '*' or '#' right after a '\n' (every
 *     command and "#TS:" line ends in "\r\n"); the first candidate from
 *     which the AOF scanner reads the rest of the fetched bytes without an
 *     error, and without an EXEC or DISCARD that has no MULTI (a boundary
 *     inside a transaction), is taken as the boundary;
 *  3. if that lies after X (the whole previous chunk is inside one big
 *     command, or inside a transaction), fetch one more chunk back and
 *     try again, up to the stream's first byte, which is always a
 *     boundary.
 *
 * A false candidate would need bytes inside a value that read as valid
 * AOF all the way to the end of the fetched data, and it would then also
 * have to meet the real commands exactly: values written to defeat it can,
 * real data practically never does. Reading from byte 0, or from a
 * recorded boundary whose second is known, is exact; the result says which
 * happened.
 *
 * Decoding mid-stream leaves two things unknown until the stream states
 * them again: the db (Redis writes SELECT only when it changes) and the
 * second (the next "#TS:" line). So the decoder reads a little further
 * back (INSPECT_CONTEXT_MAX) for both; a stream that reaches its first
 * byte within that is decoded exactly. Otherwise commands report db -1 or
 * ts -1 until the stream states them; their `observed` time (from the
 * size log, else the chunk) is always known. Commands are then fed forward chunk by chunk, each joined
 * to the next: a command straddling a chunk edge is reported once, whole,
 * with the chunks that hold its first and last byte. */
#ifndef AOFROLL_REPLAY_INSPECT_DECODE_H
#define AOFROLL_REPLAY_INSPECT_DECODE_H

#include <stdint.h>

#include "error.h"
#include "fetch.h"
#include "inspect.h"

/* How far back (raw bytes) a boundary is searched for before the stream's
 * start; beyond a Redis bulk's largest size (512 MB) plus some slack. */
#define INSPECT_LOOKBACK_MAX ((uint64_t)768 << 20)
/* Once a boundary is found, how much further back (raw bytes, chunks) to
 * read for a "#TS:" line and a SELECT before the bytes asked for. */
#define INSPECT_CONTEXT_MAX ((uint64_t)8 << 20)
#define INSPECT_CONTEXT_CHUNKS 32

struct inspect_decode_params {
    int64_t generation;
    enum chunk_kind kind;  /* CHUNK_INCR, or CHUNK_BASE for a base in AOF format */
    uint64_t from;         /* report commands ending after this offset ... */
    uint64_t to;           /* ... and starting before this one (UINT64_MAX: the end) */
    int64_t stop_after_ts; /* stop at the first "#TS:t" with t > this (INT64_MAX: never) */
    int split;             /* 1: split each command into argv; 0: leave argv NULL, argc 0 */
    /* 0: go on, 1: stop (not an error), -1: fail with e set */
    int (*on_command)(void *ud, const struct inspect_cmd *c, struct err *e);
    void *ud;
};

struct inspect_decode_result {
    uint64_t decode_start; /* the boundary decoding began at */
    int exact;             /* 1 when that is the stream's first byte */
    uint64_t end;          /* bytes before this were scanned */
    int at_stream_end;     /* the archive holds nothing past `end` (yet) */
    int truncated;         /* ... and it ends inside a command, */
    uint64_t truncated_at; /* which starts here */
    int open_txn;          /* ... or inside a MULTI block, */
    uint64_t open_txn_at;  /* which starts here */
    uint64_t chunks;       /* chunks fetched */
    uint64_t raw_bytes;    /* their raw size */
};

/* Decode generation p->generation of f's instance as described above.
 * Errors: a missing or corrupt chunk (naming its object), a gap in the
 * chunk sequence (naming the range), malformed AOF, or the callback's. */
int inspect_decode(struct fetch *f, const struct inspect_decode_params *p, struct inspect_decode_result *r,
                   struct err *e);

#endif

/* cut.h - where a restore or a roll-forward stops in an incr stream.
 *
 * The cut engine drives the AOF scanner (aofscan.h) over the incr bytes of
 * one generation, fed chunk by chunk in order, and hands every event that
 * lies before the cut - each command and each "#TS:" line, with its raw
 * bytes - to a sink (the restore's incr file, or apply's pipeline), in
 * stream order. Events are handed over as soon as they are known to lie
 * before any possible cut: a command outside a transaction at once, the
 * commands of a MULTI block only when its EXEC arrives. So the engine
 * holds in memory only the bytes of an open transaction or a command cut
 * by a chunk boundary, never the stream.
 *
 * The cut, by the first rule that applies:
 *  - stop-before: the first command whose name is in the pattern, at or
 *    after `from`, cuts at its start (at its MULTI's start inside a
 *    transaction);
 *  - exact (#TS annotations): the first "#TS:t" line with t > to cuts at
 *    the line's start;
 *  - size log: no byte past `limit` is read; the cut is the last offset
 *    before it that stands between commands outside a transaction;
 *  - otherwise the end of the archive, likewise.
 * A transaction open at the cut is left out whole and described in the
 * result (offset, time, count, first commands), as is a command cut short
 * by the end of the archive or the size-log limit. */
#ifndef AOFROLL_REPLAY_CUT_H
#define AOFROLL_REPLAY_CUT_H

#include <stddef.h>
#include <stdint.h>

#include "aofscan.h"
#include "buf.h"
#include "error.h"

/* "FLUSHALL,FLUSHDB" or "FLUSHALL|FLUSHDB" (the syntax of log --cmd):
 * command names, compared case-insensitively. */
struct cut_pattern {
    char **names;
    size_t n;
};

/* ERR_USAGE for an empty pattern or an empty name in it. */
int cut_pattern_parse(const char *text, struct cut_pattern *p, struct err *e);
int cut_pattern_match(const struct cut_pattern *p, const char *name, size_t name_len);
void cut_pattern_free(struct cut_pattern *p);

struct cut_params {
    int64_t to;                            /* exact mode: cut before the first "#TS:t" with t > to */
    int exact;                             /* 1: cut by #TS annotations; 0: by `limit` (size log) */
    uint64_t limit;                        /* read no byte at or past this offset; UINT64_MAX for none */
    const struct cut_pattern *stop_before; /* NULL: none */
    int64_t stop_from_ts;                  /* exact mode: stop-before looks at commands from this second */
    uint64_t stop_from_offset;             /* size-log mode: ... from this offset */
    uint64_t start;                        /* stream offset of the first byte fed */
    int start_db;                          /* db in force at `start` (0 at a generation's start) */
    int64_t start_ts;                      /* last #TS before `start`, -1 when none */
};

/* One event handed to the sink. */
struct cut_event {
    uint64_t start, end;    /* [start, end) in the stream */
    int is_ts;              /* a "#TS:" line (not a command) */
    enum aofscan_kind kind; /* commands */
    int in_txn;             /* MULTI, the commands inside, EXEC/DISCARD */
    int db;                 /* db the command applies to (SELECT: the new db) */
    int64_t ts;             /* the last #TS at or before this event, -1 if none */
    int64_t ts_value;       /* is_ts: the annotation's time */
};

/* Return 0 to go on, -1 (with e set) to stop the whole cut with an error. */
typedef int (*cut_emit_fn)(void *ud, const char *data, size_t len, const struct cut_event *ev, struct err *e);

enum cut_reason {
    CUT_NONE = 0, /* not decided yet */
    CUT_AT_TS,    /* the first #TS later than `to` */
    CUT_AT_LIMIT, /* the size-log offset */
    CUT_AT_END,   /* the end of the archive */
    CUT_AT_STOP   /* a command matching stop_before */
};

#define CUT_PREVIEW_MAX 3 /* commands of a left-out transaction described */

struct cut_result {
    enum cut_reason reason;
    uint64_t offset;   /* the cut */
    int db;            /* db in force at the cut */
    int64_t ts;        /* the last #TS before the cut, -1 if none */
    int64_t newest_ts; /* the last #TS read at all (even past the cut), -1 if none */
    uint64_t commands; /* commands handed over, SELECT/MULTI/EXEC/DISCARD not counted */
    uint64_t bytes;    /* bytes handed over */
    size_t ndbs;       /* distinct dbs of those commands */
    /* a transaction open at the cut, left out */
    int txn_left_out;
    uint64_t txn_offset;
    int64_t txn_ts;         /* -1 if unknown */
    uint64_t txn_commands;  /* commands read after its MULTI (EXEC excluded) */
    int txn_complete;       /* 1 when its EXEC was read (stop-before inside it) */
    struct buf txn_preview; /* "SET k v, INCR n" */
    /* a command cut short at the end of what was read, left out */
    int truncated;
    uint64_t truncated_offset;
    uint64_t truncated_bytes;
    /* stop-before: the matching command */
    int stop_found;
    uint64_t stop_offset;
    int64_t stop_ts;
    int stop_db;
    int stop_in_txn;
    struct buf stop_command; /* rendered, e.g. "FLUSHALL" */
};

struct cut {
    struct aofscan scan;
    struct cut_params p;
    cut_emit_fn emit;
    void *ud;
    struct cut_result r;
    struct err cb_err; /* an error raised inside a scanner callback */
    int cb_failed;
    /* bytes not yet handed over: pend holds [pend_off, pend_off + pend.len),
     * the slice being fed holds [slice_off, slice_off + slice_len) */
    struct buf pend;
    uint64_t pend_off;
    const char *slice;
    size_t slice_len;
    uint64_t slice_off;
    uint64_t fed;     /* offset of the next byte to feed */
    uint64_t emitted; /* every byte before this went to the sink */
    /* the scanner's view, corrected for a start in mid-stream */
    int db;
    int64_t ts;
    int seen_select;
    int db_emitted;
    int64_t ts_emitted;
    /* events of the open transaction, held back until its EXEC */
    struct cut_event *txn;
    size_t txn_n, txn_cap;
    int64_t txn_ts;
    struct buf txn_preview;
    uint64_t *dbs; /* bitset of dbs with commands handed over */
    size_t dbs_words;
};

void cut_init(struct cut *c, const struct cut_params *p, cut_emit_fn emit, void *ud);
/* Feed the next bytes of the stream (starting at p->start, in order).
 * Returns 1 when the cut is decided (feed no more; the result is final),
 * 0 when more bytes are wanted, -1 on malformed input or a sink error. */
int cut_feed(struct cut *c, const char *data, size_t len, struct err *e);
/* No more bytes (the archive ends here): decide the cut. */
int cut_finish(struct cut *c, struct err *e);
/* 1 once the cut is decided. */
int cut_done(const struct cut *c);
/* Offset of the next byte cut_feed() expects. */
uint64_t cut_fed(const struct cut *c);
const struct cut_result *cut_result(const struct cut *c);
void cut_free(struct cut *c);

/* "SET key value" for a complete command's raw bytes: arguments cut to
 * `max_arg` bytes, unprintable bytes as \xHH; appended to out. */
void cut_render_command(const char *data, size_t len, size_t max_arg, struct buf *out);

#endif

/* stream.h - one generation's incr chunks, fetched in order and fed
 * through the cut engine: the part that restore and apply share.
 *
 * From a start offset (0 for restore, the recorded position for apply) the
 * incr chunks are fetched and decoded ahead on worker threads (prefetch.h),
 * each checked to start where the previous ended (fetch_join) and fed in
 * order to the cut engine (cut.h) until it has decided the cut. The cut mode is the
 * generation's: exact when the collector recorded it so ("#TS:" lines in
 * its stream, or aof-timestamp-enabled when it opened; for generations
 * recorded before that, when the stream starts with a "#TS:" line),
 * otherwise by the size log's offset at TIME (index_sizelog_at). stream_report() prints the facts of the cut,
 * one per line, the way restore and apply both show them. */
#ifndef AOFROLL_REPLAY_STREAM_H
#define AOFROLL_REPLAY_STREAM_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "cut.h"
#include "progress.h"
#include "fetch.h"
#include "index.h"

struct stream_params {
    const struct config *cfg; /* for the fetch threads' storage handles */
    int threads;              /* fetch threads */
    const struct gen_row *gen;
    int64_t to;                        /* TIME */
    int64_t from;                      /* --from for stop-before; INT64_MIN for none */
    const struct cut_pattern *pattern; /* --stop-before; NULL for none */
    uint64_t start;                    /* incr offset to start at */
    int start_db;                      /* db in force at start */
    int64_t start_ts;                  /* last #TS before start, -1 */
    int exact;                         /* 1/0, or -1: decide from the stream (start must be 0) */
    struct progress *progress;         /* counts each chunk fed; NULL for none */
};

struct stream {
    struct cut cut;
    int have_cut; /* cut initialised */
    int exact;    /* the mode used */
    int64_t to;
    uint64_t limit;      /* size-log mode: the offset at TIME */
    int64_t newest;      /* newest archived second reached (#TS or chunk observation) */
    int past_end;        /* TIME is after it, and the cut is the archive's end */
    int64_t cut_time;    /* the second the data stands at after the cut */
    int64_t txn_time;    /* a left-out transaction's second, -1 unknown */
    int64_t stop_time;   /* the stop-before command's second, -1 unknown */
    double feed_seconds; /* in the cut engine, sink included */
    double fetch_waited; /* waiting for the fetch threads */
    uint64_t start;
    size_t chunks; /* incr chunks from `start` on */
    int64_t poll_interval_ms;
};

void stream_init(struct stream *s);
/* Fetch and feed until the cut is decided; emit/ud receive the events
 * before the cut (see cut.h). */
int stream_run(struct stream *s, struct fetch *f, const struct stream_params *p, cut_emit_fn emit, void *ud,
               struct err *e);
/* Print the cut, the commands handed over, anything left out. */
void stream_report(const struct stream *s, FILE *fp);
void stream_free(struct stream *s);

#endif

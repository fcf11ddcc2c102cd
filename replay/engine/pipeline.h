/* pipeline.h - commands streamed into a redis-server, replies read while
 * sending.
 *
 * apply hands over each command before the cut as the raw RESP bytes it has
 * in the AOF (#TS lines are passed too, to move the position, but never
 * sent). They are gathered into an output buffer and written with
 * non-blocking send()s while the replies are read as they arrive (poll on
 * the connection's socket; hiredis's reader parses them), the way
 * `redis-cli --pipe` keeps both directions busy. Every event is queued
 * until its reply: the position is the end of the last event acknowledged
 * outside a transaction (or of its EXEC).
 *
 * The first error reply stops sending; the replies of the commands already
 * sent whole are still read, since Redis runs them all, so the position is
 * what the target then holds. So does a feed that stops early (a chunk that
 * cannot be fetched): pipeline_drain() sends nothing new, only the rest of
 * a command already begun, and reads every reply owed.
 *
 * Replies are only looked at for errors, so while the pipeline runs the
 * connection's reader builds no reply objects except for errors and
 * arrays (a command's reply is otherwise millions of allocations). */
#ifndef AOFROLL_REPLAY_PIPELINE_H
#define AOFROLL_REPLAY_PIPELINE_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cut.h"
#include "error.h"

struct pipeline_entry {
    uint64_t start, end; /* in the incr stream */
    uint64_t wire_end;   /* bytes sent on the connection once it is out, in all */
    enum aofscan_kind kind;
    int is_ts;
    int in_txn;
    int db;
    int64_t ts;
};

struct pipeline {
    redisContext *rc; /* connected, blocking; used through its fd and reader */
    const char *what; /* the target, for messages */
    struct buf out;   /* bytes to send: [out_pos, out.len) */
    size_t out_pos;
    uint64_t wire;            /* bytes appended to out, in all */
    uint64_t sent;            /* bytes sent, in all */
    struct pipeline_entry *q; /* awaiting their replies: [q_head, q_n) */
    size_t q_head, q_n, q_cap;
    size_t inflight;   /* commands in q */
    uint64_t commands; /* commands handed over */
    /* the position: everything before `acked` ran on the target */
    uint64_t acked;
    int acked_db;
    int64_t acked_ts;
    uint64_t acked_wire;                  /* wire bytes of the commands acknowledged */
    int halted;                           /* drain: send no new command */
    uint64_t send_limit;                  /* halted: send no byte past this */
    redisReplyObjectFunctions *reader_fn; /* the reader's own, put back at the end */
    int failed;                           /* an error reply or a broken connection */
    struct err first;                     /* the first error */
    double wait_seconds;                  /* blocked in poll */
};

void pipeline_init(struct pipeline *p, redisContext *rc, const char *what, uint64_t start, int db,
                   int64_t ts);
/* A cut_emit_fn: queue one event (commands are sent, #TS lines are not). */
int pipeline_emit(void *ud, const char *data, size_t len, const struct cut_event *ev, struct err *e);
/* Send everything and read every reply. */
int pipeline_finish(struct pipeline *p, struct err *e);
/* The feed stopped early: finish sending the command begun, if any, send
 * nothing more, and read the replies owed, so that the position is what
 * the target holds. 0 when the connection is clean again (no reply owed,
 * no command cut short), -1 when it failed (p->first says why). */
int pipeline_drain(struct pipeline *p);
/* Safe on a zeroed pipeline that pipeline_init never saw, and twice. */
void pipeline_free(struct pipeline *p);

#endif

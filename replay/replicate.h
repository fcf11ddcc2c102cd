/* replicate.h - a restored directory loaded into an empty running server
 * by replication: aofroll is the server's master for one full
 * synchronisation, then lets it go.
 *
 * A whole-keyspace flashback into an empty target (flashback.h) does not
 * need to compare keys: the target can read the restored files the way a
 * replica reads its master. aofroll listens on an ephemeral port of the
 * address it reaches the target from, sends `REPLICAOF ADDR PORT`, answers
 * the replica's handshake (PING, AUTH, REPLCONF: +OK; PSYNC:
 * +FULLRESYNC), sends the restored base as the RDB payload (an empty RDB
 * when the base is in AOF format), then the base's and the incr file's
 * commands as the replication stream (without `#TS:` lines, a `SELECT 0`
 * before each file as Redis's own loader starts each file in db 0), asks
 * for an acknowledgement (`REPLCONF GETACK *`) and waits until the replica
 * has processed every byte, then sends `REPLICAOF NO ONE`. Redis reads its
 * own files, with its own loader; nothing is parsed here but the RESP of
 * the handshake and of the AOF.
 *
 * A target that cannot be used this way - not a master, a cluster node,
 * REPLICAOF refused (ACL), no connection back within
 * REPLICATE_CONNECT_TIMEOUT_S (a firewall, a container), a base this code
 * does not send - is told apart from a failure: the caller falls back to
 * the key by key way. Once the payload is on its way, a target that goes
 * away or stops answering is a failure (the target was empty: running
 * again starts over). */
#ifndef AOFROLL_REPLAY_REPLICATE_H
#define AOFROLL_REPLAY_REPLICATE_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#define REPLICATE_CONNECT_TIMEOUT_S 10
/* a replica that acknowledges nothing for this long is asked whether it
 * is alive (PING on the client connection; -LOADING counts as alive) */
#define REPLICATE_STALL_CHECK_S 30

enum replicate_result { REPLICATE_DONE = 0, REPLICATE_NOT_HERE = 1 };

struct replicate_stats {
    uint64_t rdb_bytes;    /* the payload */
    uint64_t stream_bytes; /* commands sent after it */
    char master[80];       /* "ADDR:PORT" the target replicated from */
};

/* The link (replicate.c's; treat as private). */
struct replicate_link {
    redisContext *dst;
    const char *what;
    int lfd;         /* listening for the target; -1 when not */
    int fd;          /* the target's connection; -1 before accept */
    uint64_t sent;   /* stream bytes sent (the replication offset) */
    uint64_t acked;  /* the target's last REPLCONF ACK */
    double progress; /* monotonic time of the last progress */
    redisReader *reader;
};

struct replicate {
    struct replicate_link p;
    struct buf pending; /* commands not written yet */
    int replicating;    /* REPLICAOF sent, REPLICAOF NO ONE not yet */
    int streaming;      /* the payload has begun: the target's data is gone */
    struct replicate_stats st;
};

/* `what` names the target `dst` in messages. */
void replicate_init(struct replicate *rp, redisContext *dst, const char *what);
/* Check the target, make it a replica of aofroll and send the payload:
 * the RDB file `base_rdb`, or an empty RDB when NULL. REPLICATE_DONE,
 * REPLICATE_NOT_HERE with the reason in e (ERR_USAGE; the target is as it
 * was once replicate_close() has run), or -1. */
int replicate_begin(struct replicate *rp, const char *base_rdb, struct err *e);
/* The next file of the stream begins: a SELECT 0, as Redis loads each
 * AOF file from db 0. */
int replicate_next_file(struct replicate *rp, struct err *e);
/* Commands, as raw RESP (no #TS lines), gathered and written in batches. */
int replicate_commands(struct replicate *rp, const char *data, size_t len, struct err *e);
int replicate_flush(struct replicate *rp, struct err *e);
/* An AOF file, after replicate_next_file(), without its #TS lines. */
int replicate_file(struct replicate *rp, const char *path, struct err *e);
/* Wait until the target has processed every byte sent (REPLCONF GETACK),
 * then REPLICAOF NO ONE. */
int replicate_end(struct replicate *rp, struct err *e);
/* Release everything; a target still following is sent REPLICAOF NO ONE.
 * When e is given (a failure being reported) and the payload had begun,
 * it is prefixed with what stopped. */
void replicate_close(struct replicate *rp, struct err *e);

/* All of it for the restored AOF directory `aofdir` (as restore writes
 * it): begin, the base when in AOF format, the incr file, end. */
int replicate_dir(struct replicate *rp, const char *aofdir, struct err *e);

#endif

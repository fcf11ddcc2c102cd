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

/* Load the restored AOF directory `aofdir` (as restore writes it) into the
 * empty target `dst` (`what` names it). REPLICATE_DONE, or
 * REPLICATE_NOT_HERE with the reason in e (ERR_USAGE; the target is left
 * as it was), or -1 on a failure. */
int replicate_dir(redisContext *dst, const char *what, const char *aofdir, struct replicate_stats *st,
                  struct err *e);

#endif

/* target.h - the redis-server side of restore and apply: starting a
 * server on a restored directory and waiting until it has loaded, and
 * connecting to a target, reading its keyspace (INFO keyspace). */
#ifndef AOFROLL_REPLAY_TARGET_H
#define AOFROLL_REPLAY_TARGET_H

#include <hiredis/hiredis.h>

#include "config.h"
#include "error.h"
#include "position.h"

/* Connect (TCP or unix socket, 10 s timeout) and AUTH when the address
 * carries credentials. `what` names the target in messages (no secret). */
int target_connect(const struct redis_addr *a, const char *what, redisContext **out, struct err *e);
/* Keys per db from INFO keyspace. */
int target_keyspace(redisContext *rc, const char *what, struct keyspace *ks, struct err *e);
/* One field of an INFO section ("loading" of "persistence"), into val. */
int target_info_field(redisContext *rc, const char *what, const char *section, const char *field, char *val,
                      size_t n, struct err *e);

struct target_start {
    const char *dir; /* the restored data directory */
    int port;
    char **extra; /* further redis-server options, may be NULL */
    int nextra;
    int timeout_s; /* for the server to answer and finish loading */
    /* out */
    long pid;
    double load_seconds;
};

/* Start `redis-server --port N --dir DIR --appendonly yes
 * --aof-timestamp-enabled yes --pidfile DIR/redis.pid --logfile
 * DIR/redis.log [extra...]` as a daemon (its own session, no terminal,
 * standard streams to the log; it outlives aofroll), wait until it answers
 * with loading:0, and connect to it (*out). A server that exits during
 * start-up is reported at once with the last line of its log. Before
 * launching: a base in RDB format newer than that redis-server reads (its
 * --version against server.h's table) is refused with ERR_REDIS, naming
 * both versions and the server that wrote the base. */
int target_start(struct target_start *ts, redisContext **out, struct err *e);

#endif

/* target.h - the redis-server side of restore and apply: starting a
 * server on a restored directory and waiting until it has loaded, and
 * connecting to a target, reading its keyspace (INFO keyspace). */
#ifndef AOFROLL_REPLAY_TARGET_H
#define AOFROLL_REPLAY_TARGET_H

#include <hiredis/hiredis.h>

#include "config.h"
#include "error.h"
#include "outdir.h"
#include "position.h"
#include "progress.h"

#define TARGET_BIND_DEFAULT "127.0.0.1"
#define TARGET_SOCKET "redis.sock"
#define TARGET_LOG "redis.log"
#define TARGET_PIDFILE "redis.pid"

/* Connect (TCP or unix socket, 10 s timeout) and AUTH when the address
 * carries credentials. `what` names the target in messages (no secret). */
int target_connect(const struct redis_addr *a, const char *what, redisContext **out, struct err *e);
/* Keys per db from INFO keyspace. */
int target_keyspace(redisContext *rc, const char *what, struct keyspace *ks, struct err *e);
/* One field of an INFO section ("loading" of "persistence"), into val. */
int target_info_field(redisContext *rc, const char *what, const char *section, const char *field, char *val,
                      size_t n, struct err *e);

struct target_start {
    const struct outdir *dir; /* the restored data directory */
    int port;
    const char *bind; /* --bind ADDR; NULL: TARGET_BIND_DEFAULT */
    char **extra;     /* further redis-server options, may be NULL */
    int nextra;
    int timeout_s;             /* for the server to answer and finish loading */
    struct progress *progress; /* a ticker while it loads; NULL for none */
    /* out */
    long pid;
    double load_seconds;
    char listening[600]; /* "127.0.0.1:6390 and unix socket \"DIR/redis.sock\"" */
};

/* Fail (ERR_BUSY) when PORT cannot be listened on at ADDR (NULL:
 * TARGET_BIND_DEFAULT), or something answers on it already: checked
 * before a restore fetches anything. */
int target_port_free(const char *addr, int port, struct err *e);

/* Start `redis-server --port N --bind ADDR --unixsocket DIR/redis.sock
 * --unixsocketperm 700 --dir DIR --appendonly yes --aof-timestamp-enabled
 * yes --pidfile DIR/redis.pid --logfile DIR/redis.log [extra...]` as a
 * daemon (its own session, no terminal, standard streams to the log; it
 * outlives aofroll), wait until it answers with loading:0, and connect to
 * it (*out). Only 127.0.0.1 listens unless --bind says otherwise; the
 * socket is left out when its path is too long for one. A server that
 * exits during start-up is reported at once with the last line of its
 * log. Before launching: a base in RDB format newer than that
 * redis-server reads (its --version against server.h's table) is refused
 * with ERR_REDIS, naming both versions and the server that wrote the
 * base. */
int target_start(struct target_start *ts, redisContext **out, struct err *e);

#endif

/* redisconn.h - the collector's few conversations with redis-server.
 *
 * The collector never needs Redis to follow the AOF (a stat() of the files
 * does that); it talks to Redis at start-up, when the manifest changes,
 * for the barrier and when reconnecting. This module wraps hiredis 0.14:
 * connect over TCP or a unix socket with a timeout, AUTH [user] password,
 * CONFIG GET of the AOF settings, INFO persistence and BGREWRITEAOF, and a
 * reconnect backoff (1 s doubling to 30 s); for snapshots (mode rdb) the
 * dump's location, LASTSAVE, BGSAVE SCHEDULE and the save fields of INFO
 * persistence. Passwords never reach a message. It calls nothing else of
 * the collector: every other collector file may use it. */
#ifndef AOFROLL_REDISCONN_H
#define AOFROLL_REDISCONN_H

#include <stdint.h>

#include "config.h"
#include "error.h"
#include "server.h"

struct redisContext;

#define REDISCONN_TIMEOUT_MS 2000
#define REDISCONN_BACKOFF_MIN_MS 1000
#define REDISCONN_BACKOFF_MAX_MS 30000

struct redisconn {
    const struct redis_addr *addr;
    char *where;              /* the redacted URL, for messages */
    struct redisContext *ctx; /* NULL while disconnected */
    int64_t next_try_ms;      /* monotonic: no connect attempt before */
    int64_t backoff_ms;
};

/* The AOF settings, from CONFIG GET. */
struct redis_aof_config {
    char *dir;
    char *appenddirname;
    char *appendfilename;
    int appendonly;               /* 1 = yes */
    int timestamps;               /* aof-timestamp-enabled, 1 = yes */
    long long rewrite_percentage; /* auto-aof-rewrite-percentage */
};

/* What INFO persistence says about rewrites. */
struct redis_persistence {
    int aof_enabled;
    int rewrite_in_progress;
    int rewrite_scheduled;
    int last_rewrite_ok; /* aof_last_bgrewrite_status:ok */
    long long rewrites;  /* aof_rewrites, -1 if absent */
    long long consecutive_failures;
    int loading; /* loading:1 while Redis loads its data set */
};

void redisconn_init(struct redisconn *rc, const struct redis_addr *addr, const char *url);
void redisconn_free(struct redisconn *rc);
/* Connect (and AUTH) now, whatever the backoff says. */
int redisconn_connect(struct redisconn *rc, struct err *e);
/* Connected already: 0. Else connect if the backoff allows: 0 on success;
 * -1 with ERR_REDIS/ERR_IO otherwise (and the backoff grows), or
 * ERR_BUSY when the backoff forbids an attempt yet. */
int redisconn_ensure(struct redisconn *rc, struct err *e);
int redisconn_connected(const struct redisconn *rc);
/* Without sending anything: has the server closed the connection (EOF,
 * reset)? A restarted Redis is noticed this way. */
int redisconn_lost(const struct redisconn *rc);
void redisconn_close(struct redisconn *rc);

int redisconn_aof_config(struct redisconn *rc, struct redis_aof_config *out, struct err *e);
void redisconn_aof_config_free(struct redis_aof_config *c);
int redisconn_persistence(struct redisconn *rc, struct redis_persistence *out, struct err *e);
/* INFO <section>: the reply text in *text (caller frees). */
int redisconn_info(struct redisconn *rc, const char *section, char **text, struct err *e);
/* Which server this is (INFO server). */
int redisconn_server(struct redisconn *rc, struct server_id *id, struct err *e);
/* server_verdict() of this server into buf ("Redis 7.4.1, in the tested
 * matrix"), or why INFO server could not tell. 0 when the matrix holds
 * the server or its release series, 1 otherwise. */
int redisconn_server_verdict(struct redisconn *rc, char *buf, size_t n);
/* The value of `field` in INFO text ("field:value" lines) in a fresh
 * string, or NULL when absent. */
char *redisconn_info_field(const char *text, const char *field);
/* Parse the text of INFO persistence (pure; for tests too). */
int redisconn_parse_persistence(const char *text, struct redis_persistence *out, struct err *e);
/* BGREWRITEAOF. *already = 1 when one was already running (then it is
 * awaited as if ours), 0 when ours started or was scheduled. */
int redisconn_bgrewriteaof(struct redisconn *rc, int *already, struct err *e);

/* ------------------------------------------------------------------------
 * Snapshots (mode rdb)
 * ---------------------------------------------------------------------- */

/* What INFO persistence says about saves. */
struct rdb_persistence {
    int loading;
    int bgsave_in_progress;      /* rdb_bgsave_in_progress */
    int last_bgsave_ok;          /* rdb_last_bgsave_status:ok */
    int64_t last_save_time;      /* rdb_last_save_time: what LASTSAVE answers */
    long long saves;             /* rdb_saves: saves started since redis started; -1 when absent */
    int aof_rewrite_in_progress; /* another child that makes a BGSAVE wait */
    int module_fork_in_progress;
};

/* Where the dump is and how Redis saves it (CONFIG GET). */
struct rdb_location {
    char *dir;        /* absolute */
    char *dbfilename; /* a file name in dir */
    char *save;       /* the `save` rules, "" when none */
    int checksum;     /* rdbchecksum yes */
    int appendonly;
};

enum bgsave_reply {
    BGSAVE_STARTED,   /* "Background saving started": ours forked */
    BGSAVE_SCHEDULED, /* another child runs; ours starts after it */
    BGSAVE_RUNNING    /* "already in progress": someone else's, awaited as ours */
};

/* Parse the text of INFO persistence (pure; for tests too). */
int redisconn_parse_rdb_persistence(const char *text, struct rdb_persistence *p, struct err *e);
int redisconn_rdb_persistence(struct redisconn *rc, struct rdb_persistence *p, struct err *e);
/* LASTSAVE: unix seconds of the last successful save. */
int redisconn_lastsave(struct redisconn *rc, int64_t *t, struct err *e);
/* BGSAVE SCHEDULE. */
int redisconn_bgsave(struct redisconn *rc, enum bgsave_reply *reply, struct err *e);
int redisconn_rdb_location(struct redisconn *rc, struct rdb_location *loc, struct err *e);
void redisconn_rdb_location_free(struct rdb_location *loc);

#endif

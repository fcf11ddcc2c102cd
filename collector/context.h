/* context.h - what every step of an instance thread shares: the bottom
 * layer of the collector.
 *
 * main.c owns a `struct collector` (the configuration, the logger, what
 * to do, the read end of the stop pipe) and hands each thread a `struct
 * instance`: its own index handle, storage handle, Redis connection, lock,
 * the generations it ships, its throttle and barrier schedule, and the
 * health of each dependency. Nothing is shared between instance threads
 * except the read-only configuration, the (thread-safe) logger, the
 * metrics file's mutex and the fork lock.
 *
 * context.c holds what the steps above it all need from that state:
 * sleeping and stopping, failing and recovering (a failure logged once
 * per change of state), events, the Redis handle (reconnecting and
 * re-reading the AOF's location), the metrics file and the copy of the
 * index. It calls no other file of the collector but redisconn.c, so that
 * every other file may call it: the calls of the collector run one way,
 * from instance.c at the top down to here (collector.h draws the layers).
 *
 * The types that struct instance holds by value (the throttle, the
 * barrier schedule, the health) are declared here; the functions that
 * work on them are in their own files (throttle.h, barrier.h). */
#ifndef AOFROLL_CONTEXT_H
#define AOFROLL_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "index.h"
#include "log.h"
#include "progress.h"
#include "storage.h"

#include "redisconn.h"

struct generation;     /* generation.h */
struct snapshot_state; /* snapshot_beat.h */
struct cluster_state;  /* cluster_view.c */

/* What this run of the process does. */
enum collector_action {
    COLLECT_RUN = 0,     /* follow until SIGTERM/SIGINT */
    COLLECT_ONCE,        /* ship everything pending, then exit */
    COLLECT_BARRIER_NOW, /* catch up, run the barrier, ship its result, exit */
    COLLECT_CHECK,       /* --check */
    COLLECT_SNAPSHOT_NOW /* mode rdb: take a snapshot now, ship it, exit */
};

struct collector {
    const struct config *cfg;
    struct logger *log;
    enum collector_action action;
    int stop_fd;                  /* read end of the stop pipe: readable once a stop was asked */
    int wake_fd;                  /* write end of main's wake pipe: a thread writes when it ends */
    atomic_int running;           /* instance threads still running */
    atomic_int requests;          /* bumped at each SIGUSR1: look for barrier requests */
    pthread_mutex_t metrics_lock; /* instances may share one metrics file */
    pthread_mutex_t fork_lock;    /* one fork (BGSAVE, BGREWRITEAOF) at a time (forklock.c) */
    struct progress *progress;    /* --once on a terminal: chunks shipped; NULL for none */
    pthread_mutex_t progress_lock;
};

/* Health of one dependency, for "log once per state change" and the
 * status row. */
struct health {
    int failing;
    char last[256]; /* the kind of the failure (health_kind) */
    char msg[512];  /* "what: message" of the latest failure */
};

/* Yielding under CPU contention (priority.c): the thread's CPU time and
 * run delay when the chunk in hand started. */
struct yield {
    int on;          /* priority idle */
    int valid;       /* cpu_ns and wait_ns were read at the chunk's start */
    int64_t cpu_ns;  /* CPU time the thread had used */
    int64_t wait_ns; /* time it had waited for a core */
};

struct throttle {
    int64_t rate;          /* bytes/s, 0 = unlimited */
    int64_t pause_ms;      /* between chunks */
    int64_t rate_next_us;  /* monotonic µs: the rate allows the next chunk from here */
    int64_t pause_next_us; /* monotonic µs: chunk_pause ends here */
    int64_t started_us;    /* when the chunk in hand was allowed to start */
    struct yield yield;    /* off unless priority_apply() turned it on */
};

struct barrier_schedule {
    int minute;           /* minutes after local midnight, -1 = off */
    long last_day;        /* local YYYYMMDD of the last barrier run (or skipped start day) */
    int64_t retry_after;  /* unix s: no attempt before this after a failure */
    int postponed_logged; /* "postponed" was logged for this attempt */
    /* the barrier in hand while it is held back */
    int64_t postponed_since; /* unix s, 0 when none is held back */
    char postponed_why[256]; /* why it is */
    int overdue;             /* held back longer than barrier_timeout (logged once) */
};

#define SHIP_BACKOFF_MIN_MS 1000  /* shipping failed: wait this long, doubling ... */
#define SHIP_BACKOFF_MAX_MS 30000 /* ... up to this */

struct instance {
    struct collector *col;
    const struct instance_config *ic;
    const char *name;
    int lock_fd;

    struct index *idx;
    struct storage *st;
    int64_t instance_id;
    struct redisconn rc;

    /* where the AOF lives, from CONFIG GET */
    char *aof_dir;       /* <dir>/<appenddirname> */
    char *manifest_path; /* <aof_dir>/<appendfilename>.manifest */
    struct stat_id {
        dev_t dev;
        ino_t ino;
        int64_t mtime_ns;
        off_t size;
    } manifest_seen;
    int manifest_dirty; /* re-read the manifest at the next poll */
    int aof_moved;      /* Redis came back with another AOF directory */
    int verify_tail; /* Redis went away: hold its tail back until it has loaded again and the tail matches */

    /* generations[0] is being shipped; the last one is what the manifest names */
    struct generation **gens;
    size_t ngens, capgens;
    int64_t last_generation; /* highest generation number in the index */
    int resumed;             /* start-up matched the index with the manifest */
    int need_base;           /* continuity lost: a barrier must provide a new base */
    char *stale_base;        /* ... and this base (name, inode) must not be reused */
    dev_t stale_dev;
    ino_t stale_ino;
    const char *rotate_reason; /* why the manifest's next base ends a generation ("rewrite", "barrier") */
    const char *open_reason;   /* why a generation opens when none is in hand ("start", ...) */
    int64_t next_upload;       /* unix s: next copy of the index to storage */

    struct throttle throttle;
    struct barrier_schedule sched;
    int64_t last_barrier; /* unix s of the last successful barrier */

    struct buf raw, gz; /* chunk buffers, reused */
    struct health h_redis, h_storage, h_index, h_aof;
    int64_t redis_down_since; /* unix s since Redis has been failing, 0 while it answers */
    int64_t backoff_until_ms; /* monotonic: no shipping before this after a failure */
    int64_t backoff_ms;
    char last_error[512];
    int64_t last_error_time;
    int exit_status;       /* 0, or 1 when the instance failed */
    int seen_requests;     /* col->requests when last looked at */
    int barrier_requested; /* --barrier-now from another process is pending */
    long kill_after_puts;  /* test hook AOFROLL_TEST_KILL_AFTER_PUTS: SIGKILL self after this many puts */
    int fork_wait_logged;  /* "barrier waits for another fork" was logged */
    int64_t barrier_deadline_ms; /* monotonic: the barrier in hand gives up then (0: never) */
    int ts_enabled;              /* aof-timestamp-enabled, as CONFIG GET last said */
    int appendonly;              /* appendonly, as CONFIG GET last said */
    int aof_off;                 /* INFO said aof_enabled:0: nothing to follow */
    int64_t aof_off_since;       /* unix s it was found off */
    int64_t next_aof_check;      /* unix s: INFO persistence next while the AOF is idle */
    int64_t info_gen;            /* the newest generation when INFO last said the AOF was on ... */
    long long info_rewrites;     /* ... and aof_rewrites then */
    struct snapshot_state *snap; /* mode rdb: the snapshot thread's state (snapshot.h), else NULL */
    /* cluster: NAME: the views recorded (cluster_view.c), else NULL */
    struct cluster_state *cluster;
    /* where the thread left the newest mode aof generation when it ended,
     * for the outcome line of a one-shot run (outcome.c): generation 0 when
     * it had none in hand */
    struct gen_row done_gen;
    uint64_t done_shipped;
};

/* ------------------------------------------------------------------------
 * context.c
 * ---------------------------------------------------------------------- */

#define DETAIL_MAX 1536 /* event details and reasons; the index keeps what fits */

/* Set up an instance for `ic` (no handle opened yet: the thread opens
 * them). The throttle is set up by the thread (throttle.h). */
void context_init(struct instance *in, struct collector *col, const struct instance_config *ic);
/* Close what the thread left open; its generations it drops itself
 * (generation_drop_all). */
void context_free(struct instance *in);
/* Non-zero once SIGTERM/SIGINT arrived. */
int context_stopping(const struct collector *c);
/* Sleep `ms` milliseconds or until a stop is asked. Returns 0 after a full
 * sleep, -1 with ERR_STOPPED when interrupted by a stop request. */
int context_sleep(const struct collector *c, int64_t ms, struct err *e);
/* Log an error once per change of its text; remembered for the status row. */
void context_fail(struct instance *in, struct health *h, const char *what, const struct err *e);
void context_recover(struct instance *in, struct health *h, const char *what);
/* The status row's health: why the last poll failed (the AOF, storage or
 * index failing now; Redis has a reason of its own) and since when Redis
 * has been unreachable. */
void context_fill_health(const struct instance *in, struct status_row *s);
/* Record an event; a failure is logged, not returned. */
int context_event(struct instance *in, const char *kind, const char *detail);
/* Redis connected (reconnecting with backoff, logging state changes); a
 * new connection re-reads the AOF's location with CONFIG GET. */
int context_redis(struct instance *in, struct err *e);
/* Rewrite the metrics file with every instance that shares it. */
int context_write_metrics(struct instance *in, struct err *e);
/* Store a consistent copy of the index as "<instance>/index.db". */
int context_upload_index(struct instance *in, struct err *e);

#endif

/* snapshot.h - mode rdb: what the snapshot files share.
 *
 * An instance with `mode: rdb` has no AOF to follow. Its thread
 * (snapshot.c) takes a snapshot when one is due: every
 * `snapshot_interval`, daily at `snapshot_at`, on --snapshot-now, and at
 * start-up when the archive holds none. A snapshot (snapshot_take.c) is a
 * BGSAVE that the collector waits for, whose dump file is then shipped in
 * throttled chunks as a generation with a base and no incr stream, checked
 * on the way (CRC32 of the whole file in the index, the RDB's own CRC-64
 * verified by rdbcheck.h). The few Redis commands this needs are in
 * redisconn.c; the fork lock that keeps the instances of one box from
 * forking at the same time in forklock.c; --snapshot-now against a
 * running collector in request.c (shared with --barrier-now); --check in
 * snapshot_check.c.
 * docs/snapshot.md describes the whole. */
#ifndef AOFROLL_SNAPSHOT_H
#define AOFROLL_SNAPSHOT_H

#include <stdint.h>

#include "collector.h"

#define SNAPSHOT_POLL_MS 100         /* INFO persistence while a BGSAVE runs */
#define SNAPSHOT_RETRY_S 60          /* a failed snapshot is tried again after this (or the interval) */
#define SNAPSHOT_START_GRACE_MS 5000 /* a scheduled BGSAVE with no child in its way starts within this */
#define SNAPSHOT_OPEN_TRIES 3        /* the dump replaced while it was being opened: try again */
#define SNAPSHOT_CHUNK_TRIES 5       /* storing one chunk, with backoff 1 s, 2 s, 4 s, 8 s */

/* ------------------------------------------------------------------------
 * The schedule (snapshot_schedule.c)
 * ---------------------------------------------------------------------- */

struct snapshot_schedule {
    int64_t interval_s;            /* 0: none */
    struct barrier_schedule daily; /* snapshot_at; minute -1: none */
    int64_t last;                  /* base time of the newest complete snapshot, 0: none */
    int64_t retry_after;           /* unix s: after a failure, nothing before this */
};

void snapshot_schedule_init(struct snapshot_schedule *s, const struct instance_config *ic, int64_t now,
                            int64_t last);
/* Why a snapshot is due at `now` ("start", "interval", "daily"), or NULL. */
const char *snapshot_schedule_due(const struct snapshot_schedule *s, int64_t now);
/* A snapshot with base time `base_time` was taken at `now`. */
void snapshot_schedule_done(struct snapshot_schedule *s, int64_t now, int64_t base_time);
void snapshot_schedule_failed(struct snapshot_schedule *s, int64_t now);
/* When the next snapshot is due (for the log); 0 when only a retry is. */
int64_t snapshot_schedule_next(const struct snapshot_schedule *s, int64_t now);

/* ------------------------------------------------------------------------
 * The thread's state (snapshot.c), its heartbeat (snapshot_beat.c), one
 * snapshot (snapshot_take.c)
 * ---------------------------------------------------------------------- */

struct snapshot_state {
    struct snapshot_schedule sched;
    int64_t generation;        /* the newest snapshot (being shipped or complete), 0: none */
    char file[INDEX_FILE_MAX]; /* its dump file's name */
    uint64_t size, shipped;    /* its size and the bytes stored so far */
    int64_t base_time;         /* its base time */
    int64_t next_beat_ms;      /* monotonic: the next heartbeat during long waits */
};

/* The heartbeat (status row, metrics) of a mode rdb instance: the file is
 * the dump being shipped or last shipped; a forklock_wait() beat. */
int snapshot_beat(struct instance *in, struct err *e);
/* The heartbeat when one poll interval has passed since the last one;
 * a failure is logged, not returned. */
void snapshot_beat_due(struct instance *in);
/* Take one snapshot (`why`: "interval", "requested", ...): BGSAVE, wait,
 * ship, verify, record; the previous snapshot ends ("snapshot"). Records
 * a "snapshot" event, or an "error" event "snapshot (why) failed: ...". */
int snapshot_take(struct instance *in, const char *why, struct err *e);

#endif

/* snapshot_beat.h - the state of a mode rdb instance's thread and its
 * heartbeat (snapshot_beat.c), which reports that state in the status row.
 * The thread (snapshot.c) owns the state; one snapshot (snapshot_take.c)
 * fills it in and beats while it waits. */
#ifndef AOFROLL_SNAPSHOT_BEAT_H
#define AOFROLL_SNAPSHOT_BEAT_H

#include <stdint.h>

#include "index.h"

#include "context.h"
#include "snapshot_schedule.h"

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

#endif

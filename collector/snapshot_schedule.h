/* snapshot_schedule.h - when a mode rdb instance takes a snapshot
 * (snapshot_schedule.c; pure). Its daily part is the barrier's DST-safe
 * schedule (barrier.h). */
#ifndef AOFROLL_SNAPSHOT_SCHEDULE_H
#define AOFROLL_SNAPSHOT_SCHEDULE_H

#include <stdint.h>

#include "config.h"

#include "barrier.h"

#define SNAPSHOT_RETRY_S 60 /* a failed snapshot is tried again after this (or the interval) */

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

#endif

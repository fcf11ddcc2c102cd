/* verdict.h - is an instance's backup happening? The one judgement that
 * `aofroll status` prints and the collector's metrics file exports.
 *
 * The judgement reads the instance's status row (the heartbeat the
 * collector rewrites after every poll, index.h) and a few facts around it,
 * and names every reason that the backup is not happening as it should.
 * The reasons are a table (verdict.c): each has a stable name (the JSON
 * `reasons`, the metrics' `reason` label), a rule and a one-line message.
 * Adding a reason is adding a row, with its enum value here.
 *
 * "A few polls" is VERDICT_STALE_POLLS poll intervals (at least 1 s, since
 * times are kept in whole seconds): a heartbeat older than that means the
 * collector is stopped or stuck, Redis unreachable for longer than that
 * means nothing is being archived. */
#ifndef AOFROLL_VERDICT_H
#define AOFROLL_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"

#define VERDICT_STALE_POLLS 3
#define VERDICT_MSG_MAX 640

enum verdict_reason {
    VERDICT_NO_HEARTBEAT,      /* the collector has never polled the instance */
    VERDICT_COLLECTOR_STOPPED, /* the heartbeat is older than a few polls */
    VERDICT_POLL_FAILED,       /* the last poll (or its shipping) failed */
    VERDICT_REDIS_DOWN,        /* Redis unreachable for more than a few polls */
    VERDICT_NOTHING_ARCHIVED,  /* no chunk of the instance is in the archive */
    VERDICT_LAG,               /* the lag is above lag_threshold */
    VERDICT_AOF_OFF,           /* the collector found the AOF off: a gap in the archive */
    VERDICT_BARRIER_OVERDUE,   /* a barrier held back longer than barrier_timeout */
    VERDICT_COUNT
};

/* What the judgement looks at. */
struct verdict_input {
    const struct status_row *row; /* NULL: no heartbeat */
    int64_t now;                  /* unix s */
    int64_t poll_interval_ms;     /* configured; the row's wins when it has one */
    int64_t lag_threshold;        /* bytes, 0 = none */
    int64_t barrier_timeout_s;    /* a barrier held back longer is a problem; 0 = only when the row says so */
    int archived;                 /* the index holds at least one chunk of the instance */
    int64_t heartbeat_slack_s;    /* the index read is a copy: its heartbeat may be this much older */
};

struct verdict {
    unsigned reasons; /* bit (1u << reason) for every reason found */
    size_t nreasons;
    int64_t stale_after; /* seconds: "a few polls" */
    char msg[VERDICT_COUNT][VERDICT_MSG_MAX];
};

/* Judge one instance. */
void verdict_judge(const struct verdict_input *in, struct verdict *v);
/* 1 when `r` is among the reasons found. */
int verdict_has(const struct verdict *v, enum verdict_reason r);
/* The reason's stable name ("redis-unreachable"). */
const char *verdict_reason_name(enum verdict_reason r);
/* Lag of one status row: bytes not shipped yet, and how long ago the
 * oldest of them was seen (last_poll - shipped_time; 0 without lag, -1 when
 * the shipped time is unknown). */
void verdict_lag(const struct status_row *s, uint64_t *bytes, int64_t *seconds);
/* Seconds after which a poll interval's worth of silence counts as "a few
 * polls": VERDICT_STALE_POLLS intervals, at least 1. */
int64_t verdict_stale_after(int64_t poll_interval_ms);

#endif

/* barrier.h - the nightly BGREWRITEAOF that the collector drives
 * (barrier.c): its daily schedule (pure; the snapshot's daily schedule
 * uses it too) and the sequence. The schedule's state, struct
 * barrier_schedule, is part of the instance (context.h). Above follow.c;
 * called by the thread (instance.c) and snapshot_schedule.c. */
#ifndef AOFROLL_BARRIER_H
#define AOFROLL_BARRIER_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"

#define BARRIER_RETRY_S 60       /* a failed barrier is tried again after this */
#define BARRIER_INFO_POLL_MS 100 /* INFO persistence while waiting for the rewrite */

/* Local calendar day of t as YYYYMMDD. */
long barrier_local_day(int64_t t);
/* The instant of `minute` (after local midnight) on t's local day; DST-safe
 * (a time skipped by DST moves forward, an ambiguous one is taken once). */
int64_t barrier_instant(int64_t t, int minute);
/* Set up the schedule: `last_barrier` (0 = never) comes from the index.
 * A first start after today's instant does not run today's barrier. */
void barrier_schedule_init(struct barrier_schedule *s, int minute, int64_t now, int64_t last_barrier);
/* 1 when a scheduled barrier should run at `now`. */
int barrier_due(const struct barrier_schedule *s, int64_t now);
void barrier_done(struct barrier_schedule *s, int64_t now);
/* Why a barrier must wait now (0: it need not): the storage is failing,
 * or shipping is further behind than max_rate ships in max_lag_s seconds
 * (max_rate 0: never). `why` gets one line. Pure. */
int barrier_postpone_reason(uint64_t backlog, int64_t max_rate, int64_t max_lag_s, int storage_failing,
                            char *why, size_t n);
/* The barrier sequence (see barrier.c). Returns 0 when a new generation
 * was opened, -1 otherwise (ERR_BUSY: postponed; others: failed). */
int barrier_run(struct instance *in, const char *why, struct err *e);
/* Note the outcome of an attempt for the held-back bookkeeping: rv and e
 * as barrier_run left them. Logs "postponed" once per barrier and, once,
 * an error when it has been held back longer than barrier_timeout.
 * Returns 1 when it has. */
int barrier_note_attempt(struct instance *in, int rv, const struct err *e, int64_t now);
/* The barrier in hand has been held back too long: an error, logged once. */
void barrier_overdue(struct instance *in, int64_t now);

#endif

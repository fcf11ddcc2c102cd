/* priority.h - the thread's CPU and I/O priority, and yielding under
 * contention (priority.c). Set once at the start of an instance thread
 * (instance.c); the throttle (throttle.c) asks it around each chunk. It
 * calls nothing else of the collector. */
#ifndef AOFROLL_PRIORITY_H
#define AOFROLL_PRIORITY_H

#include <stdint.h>

#include "config.h"
#include "context.h"
#include "error.h"

/* Under contention a thread with priority idle uses at most this percentage
 * of one core: a contended chunk holds the next one back until
 * 100 / PRIORITY_YIELD_SHARE times its CPU time has passed since it began. */
#define PRIORITY_YIELD_SHARE 5

/* Lower the calling thread's CPU and I/O priority to `p`'s (nothing for
 * normal). */
int priority_set_thread(enum instance_priority p, struct err *e);
/* At the start of an instance thread: its priority as configured, and
 * yielding for priority idle. A failure (named in e) is for logging: the
 * thread runs on with whatever could be set. */
int priority_apply(struct instance *in, struct err *e);
const char *priority_name(enum instance_priority p);
/* The calling thread's CPU time and time spent waiting for a core, in ns
 * (/proc/thread-self/schedstat); -1 when they cannot be read. */
int priority_thread_times(int64_t *cpu_ns, int64_t *wait_ns);
/* How long (µs from the chunk's start) a chunk that used cpu_ns of CPU and
 * waited wait_ns for a core holds the next one back: 0 unless contended. */
int64_t priority_yield_hold_us(int64_t cpu_ns, int64_t wait_ns);
/* Around a chunk (throttle_wait, throttle_account): note the times, then
 * the hold (µs from the chunk's start, 0 when none). */
void priority_yield_start(struct yield *y);
int64_t priority_yield_end(struct yield *y);

#endif

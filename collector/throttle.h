/* throttle.h - max_rate and chunk_pause between chunks (throttle.c).
 *
 * Used by whoever ships chunks (follow.c, snapshot_take.c) around each
 * chunk; the state (struct throttle) is part of the instance (context.h).
 * It calls the context (sleeping) and priority.c (yielding). */
#ifndef AOFROLL_THROTTLE_H
#define AOFROLL_THROTTLE_H

#include <stdint.h>

#include "context.h"

void throttle_init(struct throttle *t, int64_t rate, int64_t pause_ms);
/* Wait until the next chunk may start; interruptible (ERR_STOPPED). */
int throttle_wait(struct throttle *t, const struct collector *col, struct err *e);
/* When the next chunk may start (CLOCK_MONOTONIC, ms, as
 * time_monotonic_ms()). */
int64_t throttle_due_ms(const struct throttle *t);
/* Account for a chunk of `len` bytes just shipped. */
void throttle_account(struct throttle *t, uint64_t len);
/* Delay in µs that the rate limit imposes after `len` bytes (pure). */
int64_t throttle_cost_us(int64_t rate, uint64_t len);

#endif

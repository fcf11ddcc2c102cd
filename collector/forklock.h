/* forklock.h - one fork (BGSAVE, BGREWRITEAOF) at a time on this box
 * (forklock.c). The barrier (barrier.c through instance.c) and the
 * snapshot (snapshot_take.c) take it around their fork; it calls only
 * the context (context.h) and hands the wait's heartbeat back through a
 * callback, so that it stays below both. */
#ifndef AOFROLL_FORKLOCK_H
#define AOFROLL_FORKLOCK_H

#include "error.h"

struct collector;
struct instance;

/* The fork lock: 1 when taken (*fd to release), 0 when another instance
 * of this box is forking, -1 on error. */
int forklock_try(struct collector *col, int *fd, struct err *e);
/* Take the fork lock, waiting as long as needed; `beat` (may be NULL) is
 * called every poll interval meanwhile. -1 on error or stop request. */
int forklock_wait(struct instance *in, int (*beat)(struct instance *, struct err *), int *fd, struct err *e);
void forklock_release(struct collector *col, int fd);

#endif

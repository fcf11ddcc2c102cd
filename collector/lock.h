/* lock.h - one collector per instance: an flock on
 * <lock_dir>/<instance>.lock (lock.c). Used by main.c and check.c; it
 * calls nothing else of the collector. */
#ifndef AOFROLL_LOCK_H
#define AOFROLL_LOCK_H

#include "error.h"

/* flock <dir>/<instance>.lock holding our PID. ERR_BUSY naming the
 * holder's PID (also in *holder, 0 when unknown) when another collector
 * has it. holder may be NULL. */
int lock_acquire(const char *dir, const char *instance, int *fd_out, long *holder, struct err *e);
void lock_release(int fd);

#endif

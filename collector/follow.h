/* follow.h - one poll of a mode aof instance and shipping what is
 * pending (follow.c): the manifest, the sizes, the size log, the
 * heartbeat. Above generation.c and ship.c; called by resume.c,
 * barrier.c and the thread (instance.c). */
#ifndef AOFROLL_FOLLOW_H
#define AOFROLL_FOLLOW_H

#include <stdint.h>

#include "manifest.h"

#include "context.h"
#include "lineage.h"

#define AOF_CHECK_IDLE_S 5 /* INFO persistence this often while the AOF does not grow */

/* Open the files the manifest names (base and incr; history skipped). */
int follow_open_manifest_files(struct instance *in, const struct manifest *m, struct lineage *l,
                               struct err *e);
/* Settle the newest generation's held-back incr files (INFO persistence). */
int follow_resolve_pending(struct instance *in, struct err *e);
/* Re-read the manifest now and apply what changed. */
int follow_read_manifest(struct instance *in, struct err *e);
/* Poll once: the Redis connection, the manifest, sizes, the size log,
 * and (when the stream stopped growing, or now and then while idle)
 * whether the AOF is still on. */
int follow_poll(struct instance *in, struct err *e);
/* The AOF of the newest generation was switched off (appendonly no):
 * ship it to its end and end it ("aof-off"), with a gap after it. */
void follow_aof_off(struct instance *in, const char *why);
int follow_heartbeat(struct instance *in, struct err *e);
/* Bytes not yet shipped in every generation in hand. */
uint64_t follow_backlog(const struct instance *in);
/* Ship everything pending, as far as `budget_ms` allows (-1: no limit;
 * a chunk max_rate holds back past the budget waits for the next call).
 * Sets *more when bytes remain. */
int follow_ship_pending(struct instance *in, int64_t budget_ms, int *more, struct err *e);

#endif

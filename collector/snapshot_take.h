/* snapshot_take.h - one snapshot of a mode rdb instance (snapshot_take.c):
 * BGSAVE (under the fork lock), wait, ship the dump in throttled chunks,
 * verify, record. Called by the thread (snapshot.c). */
#ifndef AOFROLL_SNAPSHOT_TAKE_H
#define AOFROLL_SNAPSHOT_TAKE_H

#include "context.h"

#define SNAPSHOT_POLL_MS 100         /* INFO persistence while a BGSAVE runs */
#define SNAPSHOT_START_GRACE_MS 5000 /* a scheduled BGSAVE with no child in its way starts within this */
#define SNAPSHOT_OPEN_TRIES 3        /* the dump replaced while it was being opened: try again */
#define SNAPSHOT_CHUNK_TRIES 5       /* storing one chunk, with backoff 1 s, 2 s, 4 s, 8 s */

/* Take one snapshot (`why`: "interval", "requested", ...): BGSAVE, wait,
 * ship, verify, record; the previous snapshot ends ("snapshot"). Records
 * a "snapshot" event, or an "error" event "snapshot (why) failed: ...". */
int snapshot_take(struct instance *in, const char *why, struct err *e);

#endif

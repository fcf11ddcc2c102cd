/* snapshot.h - mode rdb: the thread of a snapshot instance (snapshot.c).
 *
 * An instance with `mode: rdb` has no AOF to follow. Its thread
 * (snapshot.c) takes a snapshot when one is due: every
 * `snapshot_interval`, daily at `snapshot_at`, on --snapshot-now, and at
 * start-up when the archive holds none. A snapshot (snapshot_take.c) is a
 * BGSAVE that the collector waits for, whose dump file is then shipped in
 * throttled chunks as a generation with a base and no incr stream, checked
 * on the way (CRC32 of the whole file in the index, the RDB's own CRC-64
 * verified by rdbcheck.h). The schedule is snapshot_schedule.c's, the
 * heartbeat snapshot_beat.c's, one snapshot snapshot_take.c's, --check
 * snapshot_check.c's; each has a header of its own. The few Redis commands this needs are in
 * redisconn.c; the fork lock that keeps the instances of one box from
 * forking at the same time in forklock.c; --snapshot-now against a
 * running collector in request.c (shared with --barrier-now).
 * docs/snapshot.md describes the whole. */
#ifndef AOFROLL_SNAPSHOT_H
#define AOFROLL_SNAPSHOT_H

#include "context.h"

/* The thread body of a mode rdb instance, for every action. */
int snapshot_main(struct instance *in, struct err *e);

#endif

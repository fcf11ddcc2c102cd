/* collector.h - the map of aofroll-collector, and every module's header.
 *
 * aofroll-collector runs one thread per configured instance. main.c owns a
 * `struct collector` and hands each thread a `struct instance` (both in
 * context.h); each file below does one job and declares its API in a
 * header of its own. Calls run one way, from the top down: no file calls
 * a file above it or beside it in its layer, and no two files call each
 * other.
 *
 *   main.c           options, signals, locks, one thread per instance
 *   check.c          --check (check_report.c: its lines and verdict;
 *                    check_seal.c: encryption; snapshot_check.c: mode rdb)
 *   ---------------------------------------------------------------------
 *   instance.c       the thread of one instance: start, follow loop,
 *                    --once, --barrier-now; mode rdb goes to snapshot.c
 *   snapshot.c       the thread of a mode rdb instance
 *   snapshot_take.c  one snapshot: BGSAVE, wait, ship, verify, record
 *   snapshot_schedule.c, snapshot_beat.c  when a snapshot is due; the
 *                    heartbeat of a mode rdb instance
 *   barrier.c        the barrier sequence and its daily schedule
 *   resume.c         start-up: continue the index's generation, or not
 *   reconcile.c      start-up: objects in storage that the index lacks
 *   follow.c         one poll (manifest, sizes) and shipping what is pending
 *   cluster_view.c   cluster: NAME: the node's views, recorded with the time
 *   ship.c           one chunk: pread, gzip, store, index
 *   generation.c     the generations in hand: open, end, lose, check
 *   lineage.c        a generation's files: base + logical incr stream
 *   observe.c        (time, size) observations: chunk times, the size log
 *   throttle.c       max_rate and chunk_pause between chunks
 *   priority.c       the thread's CPU and I/O priority; yielding
 *   forklock.c       one fork (BGSAVE, BGREWRITEAOF) at a time per box
 *   request.c        --barrier-now/--snapshot-now while a collector runs
 *   context.c        what every step shares: sleep/stop, fail/recover,
 *                    events, the Redis handle, metrics, the index copy
 *   redisconn.c      connection, AUTH, CONFIG GET, INFO, BGREWRITEAOF,
 *                    BGSAVE, LASTSAVE, backoff
 *   lock.c           one collector per instance (flock)
 *
 * Each file includes the headers of what it calls, never this one; this
 * one is for main.c and the unit tests, which see the whole.
 * docs/architecture.md draws the same layers. */
#ifndef AOFROLL_COLLECTOR_H
#define AOFROLL_COLLECTOR_H

#include "barrier.h"
#include "check.h"
#include "check_report.h"
#include "check_seal.h"
#include "cluster_view.h"
#include "context.h"
#include "follow.h"
#include "forklock.h"
#include "generation.h"
#include "instance.h"
#include "lineage.h"
#include "lock.h"
#include "observe.h"
#include "outcome.h"
#include "priority.h"
#include "reconcile.h"
#include "redisconn.h"
#include "request.h"
#include "resume.h"
#include "ship.h"
#include "snapshot.h"
#include "snapshot_beat.h"
#include "snapshot_check.h"
#include "snapshot_schedule.h"
#include "snapshot_take.h"
#include "throttle.h"

#endif

/* scratch.h - a scratch directory and a scratch redis-server that never
 * outlive the command that made them.
 *
 * Flashback (flashback.h) restores TIME into a scratch directory with the
 * ordinary restore and lets a private redis-server load it, so that Redis
 * reads its own files and aofroll reads keys back with DUMP. The directory
 * is made by mkdtemp under $TMPDIR (default /tmp); the server listens only
 * on a unix socket in it (port 0: no TCP).
 *
 * Both are owned by a watchdog process forked before anything else is
 * done: it runs in its own session (a Ctrl-C at the terminal does not
 * reach it or the server), ignores SIGINT/SIGTERM/SIGHUP, and waits on a
 * pipe whose write end only aofroll holds. When that pipe closes - aofroll
 * finished, failed, was interrupted or was killed with SIGKILL - the
 * watchdog kills the server (SIGKILL: nothing of it is kept), waits for it
 * and removes the directory, then exits. The server itself is started by
 * the watchdog with PR_SET_PDEATHSIG=SIGKILL, so it dies with the watchdog
 * too.
 *
 * For --ttl shift the server can run on a clock set back to TIME
 * (scratch_start_shifted: replay/timeshift/'s library, found beside the
 * program as it is installed, preloaded into the server).
 *
 * The watchdog can also guard a target that replicates from aofroll
 * (replicate.h): given a connection to it before it is forked, and armed
 * while the target is a replica, it sends that connection `REPLICAOF NO
 * ONE` when aofroll goes away before disarming it - killed, even with
 * SIGKILL - so that the target is never left following a master that is
 * gone. */
#ifndef AOFROLL_REPLAY_SCRATCH_H
#define AOFROLL_REPLAY_SCRATCH_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "error.h"
#include "outdir.h"

#define SCRATCH_SOCKET "redis.sock"
#define SCRATCH_LOG "redis.log"
#define SCRATCH_MANIFEST "appendonly.aof.manifest"

struct scratch {
    char *dir;       /* the scratch directory (absolute), NULL when none */
    char *sock;      /* dir/redis.sock */
    int ctl;         /* write end of the watchdog's pipe; -1 when closed */
    int status;      /* read end: the watchdog reports a server that exited */
    long watchdog;   /* its pid; 0 when none */
    int guard;       /* set before scratch_create: a connection to the target
                        for the watchdog to release it with; -1: none */
    char *timeshift; /* the clock library (timeshift/), NULL when not found */
};

void scratch_init(struct scratch *s);
/* Make the directory and fork its watchdog. Call it before any thread is
 * started. */
int scratch_create(struct scratch *s, struct err *e);
/* Have the watchdog start `redis-server` (the one on PATH) on the
 * directory's AOF (appendonlydir, as restore writes it), wait until it
 * has loaded (timeout_s), and connect to it over its socket (*out). A
 * server that exits during start-up is reported with the last line of its
 * log. */
int scratch_start(struct scratch *s, int timeout_s, redisContext **out, struct err *e);
/* The same, the server running on a clock `shift_ms` milliseconds behind
 * (the library of replay/timeshift/, preloaded; s->timeshift must be
 * set): a flashback with --ttl shift sees the keys as they were at TIME,
 * those that have expired since included. */
int scratch_start_shifted(struct scratch *s, int64_t shift_ms, int timeout_s, redisContext **out,
                          struct err *e);
/* Arm (1) or disarm (0) the guard (s->guard given to scratch_create). */
int scratch_guard(struct scratch *s, int armed, struct err *e);
/* Close the pipe and wait for the watchdog: the server is killed and the
 * directory removed. Safe on an initialised scratch and twice. */
void scratch_close(struct scratch *s);
/* Offline flashback: have the scratch server rewrite its AOF
 * (BGREWRITEAOF, waited for) and copy the new base and incr file into
 * dir as base_to and incr_to (paths relative to dir). */
int scratch_export(const struct scratch *s, redisContext *rc, const struct outdir *dir, const char *base_to,
                   const char *incr_to, int timeout_s, struct err *e);

#endif

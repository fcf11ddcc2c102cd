/* flashback.h - keys, patterns and databases put back into a live server
 * as they were at TIME (`aofroll restore --target URL [--key GLOB]...
 * [--db N]... [--dry-run] [--ttl keep|shift] [--json]`).
 *
 * restore.c restores TIME into a scratch directory with the ordinary
 * restore and starts a scratch redis-server on it (scratch.h); flashback
 * then compares, key by key, what that server holds (the keyspace as at
 * TIME) with the target and makes each matching key of the target exactly
 * what it was:
 *
 *   restore  the key existed at TIME and does not exist now
 *   revert   it exists now with another value or expiry
 *   delete   it exists now but did not exist at TIME
 *   same     nothing to do (the same DUMP payload and expiry)
 *   expired  it existed at TIME, but its expiry has passed since
 *
 * Keys of the scratch server are read with SCAN MATCH GLOB, DUMP and
 * PEXPIRETIME; keys of the target the same way (or not at all when the
 * target holds no key when the run begins). Writes are pipelined, one
 * command per key, each atomic: `RESTORE key ttl payload REPLACE [ABSTTL]`
 * with the payload Redis produced, or `UNLINK key`. Every write is
 * idempotent, so a run that was interrupted converges when it is run
 * again. Keys that match no --key GLOB, or lie in a db not given with
 * --db, are never read or written on the target. */
#ifndef AOFROLL_REPLAY_FLASHBACK_H
#define AOFROLL_REPLAY_FLASHBACK_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

#define FLASHBACK_MAX_FILTERS 64

struct flashback_opts {
    const char *target;                      /* --target URL; NULL: not a flashback */
    const char *keys[FLASHBACK_MAX_FILTERS]; /* --key GLOB... */
    size_t nkeys;
    long dbs[FLASHBACK_MAX_FILTERS]; /* --db N... */
    size_t ndbs;
    int dry_run;
    int json;
    int ttl_shift; /* --ttl shift; default keep */
    int force;     /* a whole-keyspace restore into a target that holds keys */
};

enum flashback_kind { FB_RESTORE, FB_REVERT, FB_DELETE, FB_SAME, FB_EXPIRED, FB_NKINDS };

struct flashback {
    const struct flashback_opts *o;
    struct redis_addr addr;
    char *what;            /* the target's URL, password redacted */
    redisContext *dst;     /* the target */
    int target_empty;      /* it held no key when the run began */
    long long max_bulk;    /* the target's proto-max-bulk-len */
    int max_bulk_known;    /* read from it (CONFIG GET), not assumed */
    long long raised_from; /* the limit before a payload needed more; 0: not raised */
    uint64_t raised_keys;  /* keys sent past the target's own limit */
    int64_t at_ms;         /* the end of second TIME, unix ms */
    uint64_t count[FB_NKINDS];
    uint64_t bytes[FB_NKINDS];
};

/* Parse one --key/--db/--ttl value into o (restore.c's option loop). */
int flashback_add_key(struct flashback_opts *o, const char *glob, struct err *e);
int flashback_add_db(struct flashback_opts *o, const char *text, struct err *e);
int flashback_set_ttl(struct flashback_opts *o, const char *text, struct err *e);

/* Before anything is fetched: connect to the target and check it (a
 * whole-keyspace restore needs an empty target unless --force). */
int flashback_open(struct flashback *fb, const struct flashback_opts *o, struct err *e);
/* Compare the scratch server `src` (the keyspace as at `to`, unix
 * seconds) with the target and act (or, with --dry-run, only report);
 * prints the report (text or JSON) on stdout. */
int flashback_run(struct flashback *fb, redisContext *src, const char *instance, int64_t to, struct err *e);
/* Whether this run can be done by replication (replicate.h): the whole
 * keyspace (no --key, no --db) into a target that held no key, with
 * absolute expiries (--ttl keep), not a dry run. */
int flashback_by_replication(const struct flashback *fb);
/* A whole-keyspace run into an empty target was done by replication
 * (replicate.h; `how` names the master the target followed): the totals
 * read from the target (every key restored; keys whose expiry has passed
 * since TIME made to go and counted as expired) and the report. */
int flashback_loaded(struct flashback *fb, const char *instance, int64_t to, const char *how, struct err *e);
void flashback_close(struct flashback *fb);

/* Offline (`--out DIR --key GLOB --db N`): remove from the scratch server
 * `src` every key that is not chosen (dbs not named are flushed, keys
 * matching no GLOB unlinked); *kept: the keys left. */
int flashback_filter(redisContext *src, const struct flashback_opts *o, long long *kept, struct err *e);

#endif

/* restore_rdb.h - `aofroll restore` of a snapshot (a mode rdb generation).
 *
 * A snapshot generation is a base with no incr stream: the dump file a
 * BGSAVE wrote. cmd_restore.c picks the generation as for any restore (the
 * newest whose base time is at or before TIME) and hands a mode rdb one to
 * restore_rdb_run(), which writes DIR so that it loads both ways:
 *
 *   DIR/dump.rdb                          redis-server --dir DIR (AOF off)
 *   DIR/appendonlydir/appendonly.aof.1.base.rdb   the same bytes (a hard
 *   DIR/appendonlydir/appendonly.aof.1.incr.aof   link when the file system
 *   DIR/appendonlydir/appendonly.aof.manifest     allows), empty incr:
 *                                         redis-server --dir DIR --appendonly yes
 *   DIR/aofroll-restore.json              the position (position.h)
 *
 * The data is as of the snapshot, not TIME: the report names the
 * snapshot's own time and the precision of the archive (the snapshot
 * interval). */
#ifndef AOFROLL_REPLAY_RESTORE_RDB_H
#define AOFROLL_REPLAY_RESTORE_RDB_H

#include <stdint.h>

#include "config.h"
#include "error.h"
#include "fetch.h"
#include "index.h"
#include "position.h"

struct restore_rdb {
    const struct config *cfg;         /* for the fetch threads' storage handles */
    const struct instance_config *ic; /* its snapshot schedule: the precision */
    struct fetch *fetch;
    const struct gen_row *gen; /* mode rdb, base complete */
    int64_t to;                /* TIME */
    const struct outdir *dir;  /* DIR, its stage begun (outdir.h) */
    int threads;               /* fetch threads */
    const char *stop_before;   /* --stop-before: refused, a snapshot has no commands */
    /* filled */
    struct position pos; /* what was written to DIR/aofroll-restore.json */
    uint64_t bytes;      /* of the dump */
    int rdb_version;
    int checksummed; /* the RDB's CRC-64 was verified */
    int linked;      /* the AOF directory's base is a hard link to dump.rdb */
    double fetch_waited, write_seconds;
};

/* The top-level names restore_rdb_run writes into the stage, in the order
 * they are renamed into DIR. */
extern const char *const restore_rdb_entries[];
extern const size_t restore_rdb_nentries;

/* Write the snapshot's files into DIR's stage (cmd_restore.c renames them
 * into place when complete: a failed restore leaves DIR as it was). r->pos
 * is filled for --start. */
int restore_rdb_run(struct restore_rdb *r, struct err *e);
/* The report, on stdout, once the files are in place. */
void restore_rdb_report(const struct restore_rdb *r);

#endif

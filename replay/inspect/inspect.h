/* inspect.h - what the inspection commands (ls, generations, show, log,
 * timeline, verify, status, prune) share.
 *
 * - Chunk lookup by offset and the chunk rows as fetch.h wants them.
 * - How a decoded command is printed, for people (redis-cli quoting, one
 *   line) and as JSON (docs/json.md), so that show and log agree.
 * - Small formatting helpers: times are printed in UTC, RFC 3339.
 *
 * Every command takes `-c FILE` and opens the index read-only, except
 * prune; instance selection and the rest of the plumbing are cli.h's. */
#ifndef AOFROLL_REPLAY_INSPECT_H
#define AOFROLL_REPLAY_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "aofscan.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "fetch.h"
#include "index.h"
#include "json.h"
#include "verdict.h"

/* ------------------------------------------------------------------------
 * Instances
 * ------------------------------------------------------------------------ */

/* The collector's status row of instance `id` (cfg its configuration; -1
 * when the index has never seen it): *have 0 when the collector has never
 * polled it; *archived: any chunk is indexed; and verdict.h's judgement at
 * `now`, as status and info show it (heartbeat_slack_s: verdict.h's, for
 * an index copy). */
int inspect_judge(struct index *idx, const struct instance_config *cfg, int64_t id, int64_t now,
                  int64_t heartbeat_slack_s, struct status_row *row, int *have, int *archived,
                  struct verdict *v, struct err *e);

/* ------------------------------------------------------------------------
 * Chunks
 * ------------------------------------------------------------------------ */

/* The chunk of (generation, kind) holding byte `off`, or the first one
 * after it: the lowest start among chunks with end > off. ERR_NOTFOUND when
 * there is none. */
int inspect_chunk_at(struct index *idx, int64_t instance_id, int64_t generation, enum chunk_kind kind,
                     uint64_t off, struct chunk_row *out, struct err *e);
/* Does the instance have any chunk at all? */
int inspect_has_chunks(struct index *idx, int64_t instance_id, int *has, struct err *e);

/* ------------------------------------------------------------------------
 * Generations
 * ------------------------------------------------------------------------ */

struct inspect_gen {
    struct gen_row g;
    uint64_t incr_bytes; /* end of the last incr chunk, 0 when none */
    int64_t first, last; /* seconds its incr chunks were observed in, 0 when none */
};

struct inspect_gens {
    struct inspect_gen *v;
    size_t n, cap;
};

/* The generations of an instance, oldest first, with their incr extent
 * (two indexed lookups per generation: its first and last incr chunk). */
int inspect_gens_load(struct index *idx, int64_t instance_id, struct inspect_gens *l, struct err *e);
void inspect_gens_free(struct inspect_gens *l);
/* The generation that serves time t by window.h's rule (the newest with a
 * complete base whose first second is at or before t), or NULL. */
const struct inspect_gen *inspect_gens_for_time(const struct inspect_gens *l, int64_t t);
/* The seconds the archive spans: from its oldest complete base to the last
 * second any chunk was observed in. Returns 0 when there is no complete
 * base at all. */
int inspect_gens_span(const struct inspect_gens *l, int64_t *first, int64_t *last);
/* Where generation's incr stream stood before second t: the size the
 * collector observed at or before t - 1, 0 when it observed none. */
int inspect_offset_before(struct index *idx, int64_t instance_id, int64_t generation, int64_t t,
                          uint64_t *from, struct err *e);
/* ERR_NOTFOUND "WHAT is outside the archive of "x", which is restorable
 * from A to B[, ...]" (the windows from fetch_windows()). */
int inspect_outside(struct fetch *f, const char *what, struct err *e);

/* ------------------------------------------------------------------------
 * Decoded commands
 * ------------------------------------------------------------------------ */

struct inspect_cmd {
    int64_t generation;
    uint64_t start, end;            /* bytes [start, end) of the incr stream */
    const char *raw;                /* those bytes */
    const struct aofscan_arg *argv; /* split arguments (argv[0] is the name) */
    long argc;
    enum aofscan_kind kind;
    int in_txn;           /* MULTI, the commands inside, EXEC/DISCARD */
    uint64_t txn_start;   /* offset of its MULTI */
    int db;               /* -1: not known (decoding began mid-stream, no SELECT yet) */
    int64_t ts;           /* the #TS second it was written in, -1 if unknown */
    int64_t observed;     /* second its last byte was first seen by the collector, 0 if unknown */
    int64_t chunk_id;     /* chunk holding its first byte, 0 if unknown */
    int64_t end_chunk_id; /* chunk holding its last byte */
};

/* The time to show for a command: its #TS, else when it was observed. */
int64_t inspect_cmd_time(const struct inspect_cmd *c);

/* Print options shared by show and log. */
struct inspect_print {
    size_t max_arg;      /* bytes of an argument shown before eliding; 0: all */
    int show_generation; /* a "gen" column (log, which crosses generations) */
};

/* Column titles matching inspect_cmd_line(). */
void inspect_cmd_header(const struct inspect_print *p, struct buf *out);
/* One line: time, [generation,] offset, db, quoted command; commands
 * inside MULTI..EXEC indented; `note` (may be NULL) appended. */
void inspect_cmd_line(const struct inspect_print *p, const struct inspect_cmd *c, const char *note,
                      struct buf *out);
/* The command's fields (docs/json.md "command") inside an object the
 * caller opened, so that it can add its own. */
void inspect_cmd_json_fields(const struct inspect_print *p, const struct inspect_cmd *c, struct json *j);

/* ------------------------------------------------------------------------
 * Formatting
 * ------------------------------------------------------------------------ */

/* "2026-11-20T15:12:01Z", or "-" for t <= 0. */
void inspect_time(int64_t t, char *buf, size_t n);
/* "12.3 MiB" */
void inspect_size(uint64_t bytes, char *buf, size_t n);
/* Write out's bytes to stdout; ERR_IO when stdout fails (a closed pipe). */
int inspect_flush_stdout(struct buf *out, struct err *e);

#endif

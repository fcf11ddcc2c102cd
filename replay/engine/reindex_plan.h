/* reindex_plan.h - from the chunk objects found in storage to the rows of
 * a rebuilt index: the planning half of `aofroll reindex`.
 *
 * No I/O happens here. cmd_reindex.c lists an instance's objects, fetches
 * and checks each one, and hands the sound chunk objects over; the plan
 * groups them by generation and, per generation and kind, keeps the chunks
 * that join into the longest run from byte 0 (a gap is jumped, so what
 * lies after it is kept too and a later verify or restore names the gap).
 * An object overlapping a kept one is left out; so is a base chunk that
 * disagrees with its generation's other base chunks on the base's format,
 * size or time. Every object left out, every gap and every incomplete base
 * becomes a problem line. The generation rows follow from the kept chunks
 * (see reindex_plan_build). */
#ifndef AOFROLL_REPLAY_REINDEX_PLAN_H
#define AOFROLL_REPLAY_REINDEX_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "chunkscan.h"
#include "config.h"
#include "index.h"
#include "objname.h"

/* One chunk object of the instance, checked by the caller. */
struct reindex_object {
    char *key;
    struct chunk_name name;   /* parsed from key */
    uint64_t stored_bytes;    /* size of the gzip object */
    uint32_t crc32;           /* of the raw bytes (from the gzip trailer, checked) */
    unsigned char sha256[32]; /* of the stored object (checked against the index copy when it has it) */
    int kept;                 /* set by the plan: recorded in the index */
    /* incr chunks: what the AOF scanner saw (chunkscan.h), scanning the
     * objects in key order; `scan_prev` is the object scanned just before
     * in the same generation (NULL at its first byte), so that the marks
     * hold only where the kept chunks are the ones scanned */
    struct chunk_marks marks;
    const struct reindex_object *scan_prev;
    int scanned;
};

/* Problem lines, for the report. A corrupt one (an object that fails its
 * check) makes reindex exit 1; the others are warnings. */
struct reindex_problem {
    int corrupt;
    char *text;
};

struct reindex_problems {
    struct reindex_problem *v;
    size_t n, cap;
    size_t corrupt; /* how many of v are corrupt */
};

void reindex_problem_add(struct reindex_problems *p, int corrupt, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void reindex_problems_free(struct reindex_problems *p);

/* One generation to record: its row and its kept chunks by start. */
struct reindex_gen {
    struct gen_row row; /* instance_id is left 0 for the caller */
    struct reindex_object **base, **incr;
    size_t nbase, nincr;
    uint64_t stored_bytes, raw_bytes; /* of the kept chunks */
};

struct reindex_plan {
    struct reindex_gen *v; /* oldest first */
    size_t n;
};

/* Plan the rows of one instance from objs[0..n), its sound chunk objects
 * (sorted in place). Problem texts name objects and generations. Per
 * generation: the base's format, size (the names' `total`) and time (their
 * `first`) from its base chunks; base_complete when the kept base chunks
 * join from 0 to that size, base_crc32 then combined from their CRCs;
 * `mode` for every generation; started = base_time; ended = the next
 * generation's base_time with end_reason "reindexed", 0 and "" for the
 * newest; base_file and incr_file "" (the names do not tell). A
 * generation with no base chunk takes its first incr chunk's first second
 * as base_time and is not complete. */
void reindex_plan_build(struct reindex_object *objs, size_t n, enum instance_mode mode,
                        struct reindex_plan *plan, struct reindex_problems *pr);
/* The schema 3 fields a listing can give, after reindex_plan_build: the
 * kept incr chunks' marks where they were scanned one after the other from
 * byte 0; a generation is exact when they hold "#TS:" lines; its lead
 * second is the last "#TS:" of the generation numbered just before it
 * when that was scanned whole, and only when it is not before its base time
 * (a lead before it changes no restored state, and without the collector's
 * record a gap between the two cannot be told from an idle AOF). Whether a
 * generation follows the previous one, and proven ends, stay unknown. */
void reindex_plan_marks(struct reindex_plan *plan);
void reindex_plan_free(struct reindex_plan *plan);

#endif

/* generation.h - the generations an instance has in hand (generation.c):
 * the queue (generations[0] is being shipped, the last is what the
 * manifest names), opening and ending them in the index, continuity, the
 * AOF scanner's marks of their chunks, and checking what was shipped
 * against the files. Above the context, lineage.c and observe.c; below
 * everything that ships (ship.c, follow.c, resume.c, barrier.c, the
 * snapshot). */
#ifndef AOFROLL_GENERATION_H
#define AOFROLL_GENERATION_H

#include <stddef.h>
#include <stdint.h>

#include "chunkscan.h"
#include "index.h"

#include "context.h"
#include "lineage.h"
#include "observe.h"

struct generation {
    struct gen_row row; /* as recorded in the index */
    struct lineage files;
    uint64_t base_shipped; /* bytes of the base stored and indexed */
    uint32_t base_crc;     /* CRC32 of base[0, base_shipped) */
    uint64_t shipped;      /* logical incr offset stored and indexed */
    int64_t shipped_time;  /* observation time of the last shipped byte */
    struct observations obs;
    int closing; /* a newer generation exists, or the AOF is off: ship to the end, then end */
    char end_reason[32];
    int gap_after; /* the next generation does not continue this stream (aof-off, missed) */
    /* The shipped incr bytes through the AOF scanner (chunkscan.h), for
     * each chunk's marks and the lead second of the next generation. */
    struct chunkscan scan;
    int scan_ready;           /* scan holds the state at `shipped` (set up lazily) */
    struct chunk_marks marks; /* of [marks_start, marks_end): scanned, not yet indexed */
    uint64_t marks_start, marks_end;
    /* unix s: Redis was writing into this stream at some moment at or
     * after it (a poll saw it grow since, or INFO said the AOF was on while
     * this was its file); with the last "#TS:", the proven end */
    int64_t on_proven;
    int64_t prev_poll; /* time of the previous poll that noted its size */
    int grew;          /* the last poll saw the stream grow */
    int was_growing;   /* ... and the poll before it */
};

struct generation *generation_new(void);
void generation_free(struct generation *g);
void generation_push(struct instance *in, struct generation *g);
/* Remove gens[i] from the queue and free it. */
void generation_drop(struct instance *in, size_t i);
/* The generation the manifest names now (the queue's last), or NULL. */
struct generation *generation_last(const struct instance *in);
/* The incr file holding the shipped offset, or NULL. */
const struct aof_file *generation_current_file(const struct generation *g);
/* Note the incr stream's size at `now`: an observation, and a size log
 * row when it grew (or, with `first`, for the size found at start-up). */
void generation_note_size(struct instance *in, struct generation *g, int64_t now, int first);
/* Open generation N+1 over the files of `l` (moved into it; given back on
 * failure) and record it in the index. `follows`: its stream continues the
 * newest generation's in hand, with nothing missed between. */
int generation_open(struct instance *in, struct lineage *l, const char *why, int follows, struct err *e);
/* Record the end of a generation with its reason (r->proven_end as set). */
int generation_end(struct instance *in, struct gen_row *r, const char *reason, struct err *e);
/* gens[0], closing, is shipped to its end: end it, and hand its last
 * "#TS:" to the next generation as that one's lead second. */
int generation_finish(struct instance *in, struct err *e);
/* The last second the archive of g holds whole, 0 unknown (see window.h). */
int64_t generation_proven_end(const struct generation *g);
/* The next generation (gens[i + 1]) does not continue the stream of
 * gens[i]: record that a gap lies before it. */
void generation_break_after(struct instance *in, size_t i);
/* Continuity is lost for gens[i]: end it ("gap" event); for the newest,
 * wait for a barrier's base. */
void generation_lose_continuity(struct instance *in, size_t i, const char *reason, const char *why);
/* The marks of incr chunk [start, start + len) of g, whose bytes are
 * `data`: scanned now, or kept from an attempt to ship it that failed. */
void generation_scan_chunk(struct instance *in, struct generation *g, const char *data, uint64_t start,
                           uint64_t len, struct chunk_marks *m);
/* Set up g's scanner at its shipped offset: from the last recorded
 * boundary, reading the bytes after it from the live files. */
int generation_scan_resume(struct instance *in, struct generation *g, struct err *e);
/* The last chunk of (generation, kind) in *row (row->end == 0 when
 * there is none). */
int generation_last_chunk(struct instance *in, int64_t generation, enum chunk_kind kind,
                          struct chunk_row *row, struct err *e);
/* CRC32 of `len` bytes read by chunks from the base (kind base) or the
 * incr stream of g, starting at `off`. */
int generation_crc(struct instance *in, struct generation *g, enum chunk_kind kind, uint64_t off,
                   uint64_t len, uint32_t *crc, struct err *e);
/* Does chunk c (of `kind`, shipped from g) still match the live bytes?
 * 1 yes, 0 no (why filled), -1 error. */
int generation_chunk_matches(struct instance *in, struct generation *g, enum chunk_kind kind,
                             const struct chunk_row *c, char *why, size_t n, struct err *e);

#endif

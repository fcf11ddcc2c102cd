/* window.h - which seconds an instance's archive restores, and from which
 * generation: the rule restore, apply, verify, show and prune share.
 *
 * No I/O: the caller loads the generation rows (index.h) and, per
 * generation, the newest second its incr chunks were observed in.
 *
 * A generation G restores the seconds [start(G), end(G)]:
 *
 *  - start(G) is its lead second when its stream continues the previous
 *    generation's (follows = GEN_YES, or unknown) and the lead is known:
 *    Redis writes "#TS:t" only when the second changes (t greater than the
 *    last one it wrote), and a rewrite does not reset that, so the commands
 *    at the head of G's incr file before its first "#TS:" ran in the second
 *    of the last annotation written before them, which is the second the
 *    rewrite began in. G is then right for every T >= that second, and
 *    G-1 (whose stream ends at the rewrite) for every T before it. Without
 *    a lead (the first generation, one after a gap, one whose predecessor
 *    was not scanned) start(G) is its base time: when the rewrite began.
 *  - end(G) is the second before start(G+1) when G+1 continues G's stream;
 *    when it does not (the AOF was switched off, a rewrite was missed,
 *    continuity was lost), G's proven end: the last second its archive
 *    holds whole. For the newest, still open generation it is the newest
 *    second archived, and a later T restores that one with a note. A
 *    generation whose incr chunks stop at a gap or a fault ends at the
 *    last second before it, in the windows; a later T in it is still
 *    given to the restore, which names the missing range when it meets it.
 *
 * A T inside no window is refused: before the first, in a gap between two
 * (naming both sides), or after the end of a generation that ended without
 * a successor (the AOF is off). Rows from before schema 3 (every new
 * field unknown) keep the old rule: base time to the last second seen. */
#ifndef AOFROLL_WINDOW_H
#define AOFROLL_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"

struct window_gen {
    struct gen_row row;
    int usable;   /* its base is complete (and, for verify, sound) */
    int broken;   /* its incr chunks stop at a gap or a fault, at `last` */
    int64_t last; /* newest second its joined incr chunks were observed in
                   * (row.base_time when there are none) */
};

struct window {
    int64_t from, to;
    size_t first_gen, last_gen; /* indexes of the generations it spans */
};

enum window_verdict {
    WINDOW_RESTORE = 0, /* restore generation `gen` */
    WINDOW_BEFORE,      /* before every window */
    WINDOW_GAP,         /* after gen's window, before next's */
    WINDOW_AFTER        /* after the window of `gen`, which ended with no successor */
};

struct window_choice {
    enum window_verdict verdict;
    size_t gen;       /* RESTORE: the generation; GAP, AFTER: the one before T */
    size_t next;      /* GAP: the generation after T */
    int64_t from, to; /* the window of `gen` */
    int past_end;     /* RESTORE: T is after the newest second of the open generation */
    int by_base_time; /* RESTORE: it follows its predecessor, but its lead is unknown */
};

/* The first second generation g restores. */
int64_t window_start(const struct window_gen *g);
/* The last second generation i of gens[0..n) restores (see above); *open
 * is set when it is the newest and still open (a later T restores it). */
int64_t window_end(const struct window_gen *gens, size_t n, size_t i, int *open);
/* The newest usable generation whose start is at or before t, or -1. */
long window_for_time(const struct window_gen *gens, size_t n, int64_t t);
void window_choose(const struct window_gen *gens, size_t n, int64_t t, struct window_choice *c);
/* The restorable windows, oldest first, touching ones merged; out must
 * hold n entries. Returns how many. */
size_t window_list(const struct window_gen *gens, size_t n, struct window *out);
/* Why generation i's window ends where it does, for messages: a few words
 * ("the AOF was switched off (appendonly no)", or its end reason). */
const char *window_end_why(const struct window_gen *gens, size_t n, size_t i);

#endif

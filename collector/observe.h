/* observe.h - (time, size) observations of a generation's incr stream
 * (observe.c): the times of each chunk and the size log. Pure; it calls
 * nothing else of the collector. */
#ifndef AOFROLL_OBSERVE_H
#define AOFROLL_OBSERVE_H

#include <stddef.h>
#include <stdint.h>

struct observation {
    int64_t t;     /* unix seconds of the poll */
    uint64_t size; /* logical size of the incr stream at that poll */
};

struct observations {
    struct observation *v;
    size_t n, cap;
};

void observe_init(struct observations *o);
void observe_free(struct observations *o);
/* Record a poll that saw `size` at `t`; returns 1 when it is growth (a
 * new row for the size log), 0 when the size did not grow. */
int observe_add(struct observations *o, int64_t t, uint64_t size);
/* Times of the chunk [start, end): first = time of the first poll that saw
 * size > start, last = time of the first poll that saw size >= end. When no
 * observation covers the offset yet, `now` is used. */
void observe_times(const struct observations *o, uint64_t start, uint64_t end, int64_t now, int64_t *first,
                   int64_t *last);
/* Forget observations that no chunk starting at or after `shipped` needs. */
void observe_trim(struct observations *o, uint64_t shipped);

#endif

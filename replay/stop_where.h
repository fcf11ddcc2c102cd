/* stop_where.h - where restore's --stop-before matches when it does not
 * match in the generation that TIME falls in: the accident happened before
 * the last barrier, so the restore has to be asked for in an earlier
 * generation. Only the failure path of restore reads this. */
#ifndef AOFROLL_REPLAY_STOP_WHERE_H
#define AOFROLL_REPLAY_STOP_WHERE_H

#include <stdint.h>

#include "cut.h"
#include "error.h"
#include "fetch.h"

struct stop_hit {
    int found;
    int64_t generation;
    int64_t time; /* the second the command was written in (#TS, else observed) */
    uint64_t offset;
    char name[64]; /* the command's name as written */
};

/* The newest command matching p in the generations before `generation`
 * that was written at or after `from` (INT64_MIN: no bound, and then only
 * the generation just before is read). hit->found is 0 when there is none. */
int stop_where_earlier(struct fetch *f, const struct cut_pattern *p, int64_t from, int64_t generation,
                       struct stop_hit *hit, struct err *e);

#endif

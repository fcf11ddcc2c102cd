/* snapshot_beat.c - the heartbeat of a mode rdb instance.
 *
 * It fills the same status row as a mode aof instance (follow.c): the
 * "current file" is the dump being shipped or last shipped, its size and
 * the bytes stored, so `aofroll status` shows a snapshot's shipping lag
 * and goes stale when the thread stops; and it rewrites the metrics file.
 * The thread (snapshot.c) beats every poll interval; one snapshot
 * (snapshot_take.c) beats while it waits for a BGSAVE or the fork lock. */
#include "snapshot_beat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "timeutil.h"

#include "context.h"

int snapshot_beat(struct instance *in, struct err *e)
{
    const struct snapshot_state *s = in->snap;
    struct status_row row;

    memset(&row, 0, sizeof(row));
    row.instance_id = in->instance_id;
    row.last_poll = time_now();
    row.poll_interval_ms = in->ic->poll_interval_ms;
    row.generation = s->generation != 0 ? s->generation : in->last_generation;
    snprintf(row.current_file, sizeof(row.current_file), "%s", s->file);
    row.current_size = s->size;
    row.shipped = s->shipped;
    row.shipped_time = s->base_time;
    row.last_barrier = s->sched.last; /* mode rdb: the newest complete snapshot */
    row.last_error_time = in->last_error_time;
    snprintf(row.last_error, sizeof(row.last_error), "%s", in->last_error);
    row.pid = (int)getpid();
    context_fill_health(in, &row);
    if (index_status_put(in->idx, &row, e) != 0)
        return -1;
    if (in->ic->metrics_file != NULL)
        return context_write_metrics(in, e);
    return 0;
}

void snapshot_beat_due(struct instance *in)
{
    struct err e;

    if (time_monotonic_ms() < in->snap->next_beat_ms)
        return;
    in->snap->next_beat_ms = time_monotonic_ms() + in->ic->poll_interval_ms;
    if (snapshot_beat(in, &e) != 0)
        context_fail(in, &in->h_index, "index", &e);
}

/* snapshot_schedule.c - when a mode rdb instance takes a snapshot (pure).
 *
 * A snapshot is due `snapshot_interval` after the newest complete one,
 * daily at `snapshot_at` (the barrier's DST-safe daily schedule,
 * barrier.c), and at once when the archive holds none; after a failure,
 * not before a minute (or the interval when shorter) has passed. The
 * thread (snapshot.c) asks it what is due, one snapshot (snapshot_take.c)
 * tells it what was taken. Nothing here reads a clock or talks to Redis:
 * tests/test_snapshot.c drives it with made-up times. */
#include "snapshot_schedule.h"

#include <string.h>

#include "barrier.h"

void snapshot_schedule_init(struct snapshot_schedule *s, const struct instance_config *ic, int64_t now,
                            int64_t last)
{
    memset(s, 0, sizeof(*s));
    s->interval_s = ic->snapshot_interval_s;
    s->last = last;
    /* a first start after today's snapshot_at does not count as missing it */
    barrier_schedule_init(&s->daily, ic->snapshot_minute, now, last);
}

const char *snapshot_schedule_due(const struct snapshot_schedule *s, int64_t now)
{
    if (now < s->retry_after)
        return NULL;
    if (s->last == 0)
        return "start";
    if (s->interval_s > 0 && now >= s->last + s->interval_s)
        return "interval";
    if (barrier_due(&s->daily, now))
        return "daily";
    return NULL;
}

void snapshot_schedule_done(struct snapshot_schedule *s, int64_t now, int64_t base_time)
{
    s->last = base_time;
    s->retry_after = 0;
    if (s->daily.minute >= 0 && now >= barrier_instant(now, s->daily.minute))
        barrier_done(&s->daily, now); /* today's daily snapshot is this one */
}

void snapshot_schedule_failed(struct snapshot_schedule *s, int64_t now)
{
    int64_t wait = SNAPSHOT_RETRY_S;

    if (s->interval_s > 0 && s->interval_s < wait)
        wait = s->interval_s;
    s->retry_after = now + wait;
}

int64_t snapshot_schedule_next(const struct snapshot_schedule *s, int64_t now)
{
    int64_t next = 0;

    if (s->interval_s > 0 && s->last > 0)
        next = s->last + s->interval_s;
    if (s->daily.minute >= 0) {
        int64_t daily;

        if (barrier_local_day(now) != s->daily.last_day) {
            daily = barrier_instant(now, s->daily.minute); /* today's, not taken yet */
        } else {
            /* tomorrow's: from tomorrow's noon, whatever DST does tonight */
            daily = barrier_instant(barrier_instant(now, 12 * 60) + 86400, s->daily.minute);
        }
        if (next == 0 || daily < next)
            next = daily;
    }
    if (next != 0 && next < now)
        next = now;
    if (next != 0 && next < s->retry_after)
        next = s->retry_after;
    return next;
}

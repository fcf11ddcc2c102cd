/* throttle.c - how fast chunks may be shipped (throttle.h).
 *
 * The throttle limits the raw bytes read per second to `max_rate` and
 * keeps `chunk_pause` between chunks. It is a virtual clock: each chunk
 * moves the earliest start of the next one by len / rate, so the long-run
 * rate is exactly max_rate with a burst of one chunk. With priority idle a
 * chunk that had to wait for a core also holds the next one back
 * (priority.c). Waits sleep on the stop pipe (context.c), so SIGTERM ends
 * them at once. */
#include "throttle.h"

#include <string.h>
#include <time.h>

#include "context.h"
#include "priority.h"

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void throttle_init(struct throttle *t, int64_t rate, int64_t pause_ms)
{
    memset(t, 0, sizeof(*t));
    t->rate = rate;
    t->pause_ms = pause_ms;
}

int64_t throttle_cost_us(int64_t rate, uint64_t len)
{
    if (rate <= 0)
        return 0;
    return (int64_t)((len * 1000000u + (uint64_t)rate - 1) / (uint64_t)rate);
}

int throttle_wait(struct throttle *t, const struct collector *col, struct err *e)
{
    int64_t until = t->rate_next_us > t->pause_next_us ? t->rate_next_us : t->pause_next_us;
    int64_t now = mono_us();

    if (until > now && context_sleep(col, (until - now + 999) / 1000, e) != 0)
        return -1;
    if (context_stopping(col))
        return err_set(e, ERR_STOPPED, "stop requested");
    t->started_us = mono_us();
    priority_yield_start(&t->yield);
    return 0;
}

int64_t throttle_due_ms(const struct throttle *t)
{
    int64_t until = t->rate_next_us > t->pause_next_us ? t->rate_next_us : t->pause_next_us;

    return (until + 999) / 1000;
}

void throttle_account(struct throttle *t, uint64_t len)
{
    int64_t from = t->rate_next_us > t->started_us ? t->rate_next_us : t->started_us;
    int64_t hold = priority_yield_end(&t->yield);

    t->rate_next_us = from + throttle_cost_us(t->rate, len);
    t->pause_next_us = mono_us() + t->pause_ms * 1000;
    if (hold > 0 && t->started_us + hold > t->pause_next_us)
        t->pause_next_us = t->started_us + hold; /* priority idle, contended: yield */
}

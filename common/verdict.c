/* verdict.c - the reasons an instance's backup is not happening (see
 * verdict.h).
 *
 * One row per reason: its name and its rule. A rule looks at the input
 * and, when its reason applies, writes the message and returns 1. Rules
 * that need the status row are skipped without one: then the only reason
 * is that there is no heartbeat. */
#include "verdict.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "timeutil.h"
#include "units.h"

struct verdict_rule {
    const char *name;
    int needs_row;
    int (*applies)(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n);
};

void verdict_lag(const struct status_row *s, uint64_t *bytes, int64_t *seconds)
{
    if (s->current_size <= s->shipped) {
        *bytes = 0;
        *seconds = 0;
        return;
    }
    *bytes = s->current_size - s->shipped;
    if (s->shipped_time <= 0)
        *seconds = -1;
    else
        *seconds = s->last_poll > s->shipped_time ? s->last_poll - s->shipped_time : 0;
}

int64_t verdict_stale_after(int64_t poll_interval_ms)
{
    int64_t s = (VERDICT_STALE_POLLS * poll_interval_ms + 999) / 1000;

    return s < 1 ? 1 : s;
}

static int rule_no_heartbeat(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n)
{
    (void)stale_after;
    if (in->row != NULL)
        return 0;
    snprintf(msg, n, "no heartbeat: the collector has never polled it");
    return 1;
}

static int rule_collector_stopped(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n)
{
    int64_t age = in->now - in->row->last_poll;

    if (age <= stale_after + in->heartbeat_slack_s)
        return 0;
    if (in->heartbeat_slack_s > 0)
        snprintf(msg, n,
                 "heartbeat %" PRId64 " s old in its index copy (limit %" PRId64
                 " s: %d poll intervals and index_upload_interval): is aofroll-collector running and "
                 "uploading its index?",
                 age, stale_after + in->heartbeat_slack_s, VERDICT_STALE_POLLS);
    else
        snprintf(msg, n,
                 "heartbeat %" PRId64 " s old (limit %" PRId64
                 " s, %d poll intervals): is aofroll-collector running?",
                 age, stale_after, VERDICT_STALE_POLLS);
    return 1;
}

static int rule_poll_failed(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n)
{
    (void)stale_after;
    if (in->row->poll_error[0] == '\0')
        return 0;
    snprintf(msg, n, "the last poll failed: %s", in->row->poll_error);
    return 1;
}

static int rule_redis_down(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n)
{
    char since[TIME_BUFSZ];
    int64_t down;

    if (in->row->redis_down_since <= 0)
        return 0;
    /* as of the last poll: a stopped collector is a reason of its own */
    down = in->row->last_poll - in->row->redis_down_since;
    if (down <= stale_after)
        return 0;
    time_format_utc(in->row->redis_down_since, since, sizeof(since));
    snprintf(msg, n, "redis unreachable since %s (%" PRId64 " s, limit %" PRId64 " s): nothing is archived",
             since, down, stale_after);
    return 1;
}

static int rule_nothing_archived(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n)
{
    (void)stale_after;
    if (in->archived)
        return 0;
    snprintf(msg, n, "nothing archived yet: no chunk of it is in the index");
    return 1;
}

static int rule_lag(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n)
{
    char a[32], b[32];
    uint64_t lag_bytes;
    int64_t lag_seconds;

    (void)stale_after;
    if (in->lag_threshold <= 0)
        return 0;
    verdict_lag(in->row, &lag_bytes, &lag_seconds);
    if (lag_bytes <= (uint64_t)in->lag_threshold)
        return 0;
    units_format_size((int64_t)lag_bytes, a, sizeof(a));
    units_format_size(in->lag_threshold, b, sizeof(b));
    snprintf(msg, n, "lag %s (%" PRIu64 " bytes) above the threshold of %s", a, lag_bytes, b);
    return 1;
}

static int rule_aof_off(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n)
{
    char since[TIME_BUFSZ];

    (void)stale_after;
    if (in->row->aof_off_since <= 0)
        return 0;
    time_format_utc(in->row->aof_off_since, since, sizeof(since));
    snprintf(
        msg, n,
        "the AOF is off since %s (appendonly no): nothing is archived, the archive has a gap until it is "
        "on again",
        since);
    return 1;
}

static int rule_barrier_overdue(const struct verdict_input *in, int64_t stale_after, char *msg, size_t n)
{
    const struct status_row *row = in->row;
    int64_t held = in->now - row->barrier_postponed_since;

    (void)stale_after;
    if (row->barrier_postponed_since <= 0)
        return 0;
    if (!row->barrier_overdue && (in->barrier_timeout_s <= 0 || held <= in->barrier_timeout_s))
        return 0;
    snprintf(msg, n, "barrier held back for %" PRId64 " s (barrier_timeout %" PRId64 " s): %.200s", held,
             in->barrier_timeout_s, row->barrier_postponed_why);
    return 1;
}

/* In the order of enum verdict_reason. */
static const struct verdict_rule verdict_rules[VERDICT_COUNT] = {
    [VERDICT_NO_HEARTBEAT] = {"no-heartbeat", 0, rule_no_heartbeat},
    [VERDICT_COLLECTOR_STOPPED] = {"collector-stopped", 1, rule_collector_stopped},
    [VERDICT_POLL_FAILED] = {"poll-failed", 1, rule_poll_failed},
    [VERDICT_REDIS_DOWN] = {"redis-unreachable", 1, rule_redis_down},
    [VERDICT_NOTHING_ARCHIVED] = {"nothing-archived", 0, rule_nothing_archived},
    [VERDICT_LAG] = {"lag", 1, rule_lag},
    [VERDICT_AOF_OFF] = {"aof-off", 1, rule_aof_off},
    [VERDICT_BARRIER_OVERDUE] = {"barrier-overdue", 1, rule_barrier_overdue},
};

void verdict_judge(const struct verdict_input *in, struct verdict *v)
{
    int64_t interval =
        in->row != NULL && in->row->poll_interval_ms > 0 ? in->row->poll_interval_ms : in->poll_interval_ms;
    int r;

    memset(v, 0, sizeof(*v));
    v->stale_after = verdict_stale_after(interval);
    for (r = 0; r < VERDICT_COUNT; r++) {
        const struct verdict_rule *rule = &verdict_rules[r];

        if (rule->needs_row && in->row == NULL)
            continue;
        if (rule->applies(in, v->stale_after, v->msg[r], sizeof(v->msg[r]))) {
            v->reasons |= 1u << r;
            v->nreasons++;
        }
    }
}

int verdict_has(const struct verdict *v, enum verdict_reason r)
{
    return (v->reasons & (1u << r)) != 0;
}

const char *verdict_reason_name(enum verdict_reason r)
{
    return r >= 0 && r < VERDICT_COUNT ? verdict_rules[r].name : "unknown";
}

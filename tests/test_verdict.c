/* test_verdict.c - unit tests of the status judgement (common/verdict.c)
 * and of its export in the metrics file (common/metrics.c): each reason
 * on both sides of its limit, several at once, and the aofroll_up and
 * aofroll_problem samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "verdict.h"

#define NOW 1763651521

/* A healthy row: polled now, nothing pending, no error. */
static void healthy(struct status_row *r)
{
    memset(r, 0, sizeof(*r));
    r->instance_id = 1;
    r->last_poll = NOW;
    r->poll_interval_ms = 1000;
    r->generation = 2;
    snprintf(r->current_file, sizeof(r->current_file), "appendonly.aof.2.incr.aof");
    r->current_size = 100;
    r->shipped = 100;
    r->shipped_time = NOW - 1;
}

static void judge(const struct status_row *r, int archived, int64_t lag_threshold, struct verdict *v)
{
    struct verdict_input in;

    memset(&in, 0, sizeof(in));
    in.row = r;
    in.now = NOW;
    in.poll_interval_ms = 1000;
    in.lag_threshold = lag_threshold;
    in.archived = archived;
    verdict_judge(&in, v);
}

static void test_healthy(void **state)
{
    struct status_row r;
    struct verdict v;

    (void)state;
    healthy(&r);
    judge(&r, 1, 0, &v);
    assert_int_equal(v.nreasons, 0);
    assert_int_equal(v.reasons, 0);
    assert_int_equal(v.stale_after, 3);
}

static void test_no_heartbeat(void **state)
{
    struct verdict v;

    (void)state;
    judge(NULL, 0, 0, &v);
    assert_int_equal(v.reasons, (1u << VERDICT_NO_HEARTBEAT) | (1u << VERDICT_NOTHING_ARCHIVED));
    assert_string_equal(v.msg[VERDICT_NO_HEARTBEAT], "no heartbeat: the collector has never polled it");
    assert_string_equal(verdict_reason_name(VERDICT_NO_HEARTBEAT), "no-heartbeat");
}

static void test_stale(void **state)
{
    struct status_row r;
    struct verdict v;

    (void)state;
    healthy(&r);
    r.last_poll = NOW - 3; /* exactly 3 polls: still alive */
    judge(&r, 1, 0, &v);
    assert_int_equal(v.nreasons, 0);
    r.last_poll = NOW - 4;
    judge(&r, 1, 0, &v);
    assert_true(verdict_has(&v, VERDICT_COLLECTOR_STOPPED));
    assert_string_equal(v.msg[VERDICT_COLLECTOR_STOPPED],
                        "heartbeat 4 s old (limit 3 s, 3 poll intervals): is aofroll-collector running?");
    /* sub-second polls: the limit is at least 1 s */
    r.poll_interval_ms = 100;
    r.last_poll = NOW - 1;
    judge(&r, 1, 0, &v);
    assert_int_equal(v.stale_after, 1);
    assert_int_equal(v.nreasons, 0);
}

/* Read through an index copy: the heartbeat may be index_upload_interval older. */
static void test_stale_copy(void **state)
{
    struct status_row r;
    struct verdict_input in;
    struct verdict v;

    (void)state;
    healthy(&r);
    memset(&in, 0, sizeof(in));
    in.row = &r;
    in.now = NOW;
    in.poll_interval_ms = 1000;
    in.archived = 1;
    in.heartbeat_slack_s = 60;
    r.last_poll = NOW - 63;
    verdict_judge(&in, &v);
    assert_int_equal(v.nreasons, 0);
    r.last_poll = NOW - 64;
    verdict_judge(&in, &v);
    assert_true(verdict_has(&v, VERDICT_COLLECTOR_STOPPED));
    assert_string_equal(v.msg[VERDICT_COLLECTOR_STOPPED],
                        "heartbeat 64 s old in its index copy (limit 63 s: 3 poll intervals and "
                        "index_upload_interval): is aofroll-collector running and uploading its index?");
}

static void test_redis_down(void **state)
{
    struct status_row r;
    struct verdict v;

    (void)state;
    healthy(&r);
    r.redis_down_since = NOW - 3; /* a few polls: a blip */
    judge(&r, 1, 0, &v);
    assert_int_equal(v.nreasons, 0);
    r.redis_down_since = NOW - 4;
    judge(&r, 1, 0, &v);
    assert_int_equal(v.reasons, 1u << VERDICT_REDIS_DOWN);
    assert_string_equal(v.msg[VERDICT_REDIS_DOWN],
                        "redis unreachable since 2025-11-20T15:11:57Z (4 s, limit 3 s): nothing is archived");
    assert_string_equal(verdict_reason_name(VERDICT_REDIS_DOWN), "redis-unreachable");
}

static void test_poll_failed_and_nothing_archived(void **state)
{
    struct status_row r;
    struct verdict v;

    (void)state;
    healthy(&r);
    snprintf(r.poll_error, sizeof(r.poll_error), "aof: cannot stat manifest \"m\": Permission denied");
    judge(&r, 0, 0, &v);
    assert_int_equal(v.nreasons, 2);
    assert_true(verdict_has(&v, VERDICT_POLL_FAILED));
    assert_true(verdict_has(&v, VERDICT_NOTHING_ARCHIVED));
    assert_string_equal(v.msg[VERDICT_POLL_FAILED],
                        "the last poll failed: aof: cannot stat manifest \"m\": Permission denied");
    assert_string_equal(v.msg[VERDICT_NOTHING_ARCHIVED],
                        "nothing archived yet: no chunk of it is in the index");
}

static void test_lag(void **state)
{
    struct status_row r;
    struct verdict v;
    uint64_t bytes;
    int64_t seconds;

    (void)state;
    healthy(&r);
    r.current_size = 2048;
    r.shipped = 1024;
    judge(&r, 1, 1024, &v);
    assert_int_equal(v.nreasons, 0); /* at the threshold */
    r.current_size = 2049;
    judge(&r, 1, 1024, &v);
    assert_int_equal(v.reasons, 1u << VERDICT_LAG);
    assert_string_equal(v.msg[VERDICT_LAG], "lag 1.0 KiB (1025 bytes) above the threshold of 1.0 KiB");
    verdict_lag(&r, &bytes, &seconds);
    assert_int_equal(bytes, 1025);
    assert_int_equal(seconds, 1);
    r.shipped_time = 0;
    verdict_lag(&r, &bytes, &seconds);
    assert_int_equal(seconds, -1);
}

static void test_metrics(void **state)
{
    struct status_row up, down;
    struct verdict vu, vd;
    struct metrics_instance m[2];
    struct buf out = BUF_INIT;

    (void)state;
    healthy(&up);
    healthy(&down);
    down.redis_down_since = NOW - 60;
    judge(&up, 1, 0, &vu);
    judge(&down, 0, 0, &vd);
    m[0].name = "a";
    m[0].row = &up;
    m[0].verdict = &vu;
    m[1].name = "b\"x";
    m[1].row = &down;
    m[1].verdict = &vd;
    metrics_format(m, 2, &out);
    assert_non_null(strstr(out.data, "# TYPE aofroll_up gauge\naofroll_up{instance=\"a\"} 1\n"
                                     "aofroll_up{instance=\"b\\\"x\"} 0\n"));
    assert_non_null(strstr(out.data, "aofroll_problem{instance=\"a\",reason=\"redis-unreachable\"} 0\n"));
    assert_non_null(
        strstr(out.data, "aofroll_problem{instance=\"b\\\"x\",reason=\"redis-unreachable\"} 1\n"));
    assert_non_null(strstr(out.data, "aofroll_problem{instance=\"b\\\"x\",reason=\"nothing-archived\"} 1\n"));
    assert_non_null(strstr(out.data, "aofroll_problem{instance=\"b\\\"x\",reason=\"lag\"} 0\n"));
    assert_non_null(strstr(out.data, "aofroll_lag_bytes{instance=\"a\"} 0\n"));
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy),    cmocka_unit_test(test_no_heartbeat),
        cmocka_unit_test(test_stale),      cmocka_unit_test(test_stale_copy),
        cmocka_unit_test(test_redis_down), cmocka_unit_test(test_poll_failed_and_nothing_archived),
        cmocka_unit_test(test_lag),        cmocka_unit_test(test_metrics),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

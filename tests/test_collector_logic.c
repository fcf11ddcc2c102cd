/* test_collector_logic.c - unit tests of the collector's pure logic.
 *
 * The barrier schedule (once per local day, across DST changes), when a
 * barrier is held back, chunk observation times, INFO persistence parsing, the throttle's arithmetic
 * and the per-instance lock. Everything that needs a real redis-server is
 * tested by the tests/it_collector_*.sh scenarios instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "collector.h"
#include "timeutil.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------
 * Barrier schedule
 * ---------------------------------------------------------------------- */

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* unix time of a local wall-clock time in the current TZ */
static int64_t local_time(int y, int mo, int d, int h, int mi)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

static void test_barrier_instant_utc(void **state)
{
    (void)state;
    set_tz("UTC");
    /* 2026-11-20 15:12:01Z; barrier 00:30 -> 2026-11-20 00:30Z */
    assert_int_equal(barrier_instant(1795187521, 30), 1795134600);
    assert_int_equal(barrier_local_day(1795187521), 20261120);
}

static void test_barrier_once_per_day(void **state)
{
    struct barrier_schedule s;
    int64_t day1 = local_time(2026, 3, 10, 12, 0);

    (void)state;
    set_tz("Europe/Berlin");
    day1 = local_time(2026, 3, 10, 12, 0);
    /* first start at 12:00 with a 02:00 barrier: not today any more */
    barrier_schedule_init(&s, 120, day1, 0);
    assert_false(barrier_due(&s, day1));
    assert_false(barrier_due(&s, day1 + 6 * 3600));
    /* the next day at 02:00 it is due, once */
    assert_false(barrier_due(&s, local_time(2026, 3, 11, 1, 59)));
    assert_true(barrier_due(&s, local_time(2026, 3, 11, 2, 0)));
    barrier_done(&s, local_time(2026, 3, 11, 2, 0));
    assert_false(barrier_due(&s, local_time(2026, 3, 11, 2, 1)));
    assert_false(barrier_due(&s, local_time(2026, 3, 11, 23, 59)));
    assert_true(barrier_due(&s, local_time(2026, 3, 12, 2, 5)));
}

static void test_barrier_first_start_before_instant(void **state)
{
    struct barrier_schedule s;

    (void)state;
    set_tz("Europe/Berlin");
    /* first start at 01:00 with a 02:00 barrier: today's runs */
    barrier_schedule_init(&s, 120, local_time(2026, 3, 10, 1, 0), 0);
    assert_false(barrier_due(&s, local_time(2026, 3, 10, 1, 30)));
    assert_true(barrier_due(&s, local_time(2026, 3, 10, 2, 0)));
}

static void test_barrier_missed_runs_at_start(void **state)
{
    struct barrier_schedule s;

    (void)state;
    set_tz("Europe/Berlin");
    /* last barrier yesterday, restarted today after the instant: due now */
    barrier_schedule_init(&s, 120, local_time(2026, 3, 10, 9, 0), local_time(2026, 3, 9, 2, 0));
    assert_true(barrier_due(&s, local_time(2026, 3, 10, 9, 0)));
    /* last barrier today after the instant: not again today */
    barrier_schedule_init(&s, 120, local_time(2026, 3, 10, 9, 0), local_time(2026, 3, 10, 2, 1));
    assert_false(barrier_due(&s, local_time(2026, 3, 10, 9, 0)));
    /* a --barrier-now earlier today, before the instant, does not count */
    barrier_schedule_init(&s, 120, local_time(2026, 3, 10, 1, 0), local_time(2026, 3, 10, 0, 30));
    assert_true(barrier_due(&s, local_time(2026, 3, 10, 2, 0)));
}

static void test_barrier_dst_spring_forward(void **state)
{
    struct barrier_schedule s;
    int64_t t;
    int runs = 0;

    (void)state;
    set_tz("Europe/Berlin");
    /* 2026-03-29: clocks go from 02:00 to 03:00; 02:30 does not exist */
    barrier_schedule_init(&s, 150, local_time(2026, 3, 28, 12, 0), 0);
    for (t = local_time(2026, 3, 29, 0, 0); t < local_time(2026, 3, 30, 0, 0); t += 60) {
        if (barrier_due(&s, t)) {
            runs++;
            barrier_done(&s, t);
            assert_true(t >= local_time(2026, 3, 29, 3, 0));
            assert_true(t <= local_time(2026, 3, 29, 3, 30));
        }
    }
    assert_int_equal(runs, 1);
}

static void test_barrier_dst_fall_back(void **state)
{
    struct barrier_schedule s;
    int64_t t;
    int runs = 0;

    (void)state;
    set_tz("Europe/Berlin");
    /* 2026-10-25: 02:30 happens twice; the barrier runs once */
    barrier_schedule_init(&s, 150, local_time(2026, 10, 24, 12, 0), 0);
    for (t = local_time(2026, 10, 25, 0, 0); t < local_time(2026, 10, 26, 0, 0); t += 60) {
        if (barrier_due(&s, t)) {
            runs++;
            barrier_done(&s, t);
        }
    }
    assert_int_equal(runs, 1);
    /* and it is a day with 25 hours: a full day of minutes was checked */
    assert_int_equal(local_time(2026, 10, 26, 0, 0) - local_time(2026, 10, 25, 0, 0), 25 * 3600);
}

static void test_barrier_off(void **state)
{
    struct barrier_schedule s;

    (void)state;
    set_tz("UTC");
    barrier_schedule_init(&s, -1, 1795187521, 0);
    assert_false(barrier_due(&s, 1795187521 + 86400));
}

static void test_barrier_retry_after(void **state)
{
    struct barrier_schedule s;
    int64_t at = local_time(2026, 3, 11, 2, 0);

    (void)state;
    set_tz("UTC");
    at = local_time(2026, 3, 11, 2, 0);
    barrier_schedule_init(&s, 120, local_time(2026, 3, 10, 12, 0), 0);
    assert_true(barrier_due(&s, at));
    s.retry_after = at + BARRIER_RETRY_S;
    assert_false(barrier_due(&s, at + 10));
    assert_true(barrier_due(&s, at + BARRIER_RETRY_S));
}

/* ------------------------------------------------------------------------
 * Observation times
 * ---------------------------------------------------------------------- */

static void test_observe_times(void **state)
{
    struct observations o;
    int64_t first, last;

    (void)state;
    observe_init(&o);
    assert_int_equal(observe_add(&o, 100, 1000), 1); /* present at start */
    assert_int_equal(observe_add(&o, 101, 1000), 0); /* no growth */
    assert_int_equal(observe_add(&o, 105, 1500), 1);
    assert_int_equal(observe_add(&o, 107, 4000), 1);

    observe_times(&o, 0, 1000, 999, &first, &last);
    assert_int_equal(first, 100);
    assert_int_equal(last, 100);
    observe_times(&o, 1000, 1500, 999, &first, &last); /* first byte 1000 seen at 105 */
    assert_int_equal(first, 105);
    assert_int_equal(last, 105);
    observe_times(&o, 999, 1001, 999, &first, &last);
    assert_int_equal(first, 100);
    assert_int_equal(last, 105);
    observe_times(&o, 1200, 3000, 999, &first, &last);
    assert_int_equal(first, 105);
    assert_int_equal(last, 107);
    /* beyond what was observed: now */
    observe_times(&o, 4000, 4100, 999, &first, &last);
    assert_int_equal(first, 999);
    assert_int_equal(last, 999);

    observe_trim(&o, 1500);
    assert_int_equal(o.n, 1);
    observe_times(&o, 1500, 4000, 999, &first, &last);
    assert_int_equal(first, 107);
    assert_int_equal(last, 107);
    observe_free(&o);
}

/* ------------------------------------------------------------------------
 * INFO persistence
 * ---------------------------------------------------------------------- */

static void test_parse_persistence(void **state)
{
    const char *text = "# Persistence\r\nloading:0\r\naof_enabled:1\r\naof_rewrite_in_progress:1\r\n"
                       "aof_rewrite_scheduled:0\r\naof_last_bgrewrite_status:err\r\naof_rewrites:7\r\n"
                       "aof_rewrites_consecutive_failures:2\r\n";
    struct redis_persistence p;
    struct err e;
    char *v;

    (void)state;
    assert_int_equal(redisconn_parse_persistence(text, &p, &e), 0);
    assert_true(p.aof_enabled);
    assert_true(p.rewrite_in_progress);
    assert_false(p.rewrite_scheduled);
    assert_false(p.last_rewrite_ok);
    assert_int_equal(p.rewrites, 7);
    assert_int_equal(p.consecutive_failures, 2);

    v = redisconn_info_field(text, "aof_rewrites");
    assert_string_equal(v, "7");
    free(v);
    assert_null(redisconn_info_field(text, "aof_rewrite")); /* a prefix is not a field */

    assert_int_equal(redisconn_parse_persistence("# Persistence\r\nloading:0\r\n", &p, &e), -1);
    assert_int_equal(e.code, ERR_REDIS);
    assert_non_null(strstr(e.msg, "aof_rewrite_in_progress"));
}

/* ------------------------------------------------------------------------
 * Throttle
 * ---------------------------------------------------------------------- */

static void test_throttle_cost(void **state)
{
    (void)state;
    assert_int_equal(throttle_cost_us(0, 1 << 20), 0);
    assert_int_equal(throttle_cost_us(1 << 20, 1 << 20), 1000000);
    assert_int_equal(throttle_cost_us(1 << 20, 65536), 62500);
    assert_int_equal(throttle_cost_us(1000, 1), 1000);
}

static void test_throttle_rate(void **state)
{
    struct collector col;
    struct throttle t;
    struct err e;
    int64_t t0, t1;

    (void)state;
    memset(&col, 0, sizeof(col));
    col.stop_fd = -1;
    /* 10 chunks of 64 KiB at 4 MiB/s: the first is free, 9 * 15.6 ms after */
    throttle_init(&t, 4 << 20, 0);
    t0 = time_monotonic_ms();
    for (int i = 0; i < 10; i++) {
        assert_int_equal(throttle_wait(&t, &col, &e), 0);
        throttle_account(&t, 65536);
    }
    t1 = time_monotonic_ms();
    assert_true(t1 - t0 >= 140);
    assert_true(t1 - t0 < 400);
}

/* throttle_due_ms: when the next chunk may go, on time_monotonic_ms()'s
 * clock: now before any chunk, a second on after 64 KiB at 64 KiB/s (what
 * follow_ship_pending() compares with its budget, so that the heartbeat
 * is not held back by a long wait). */
static void test_throttle_due(void **state)
{
    struct collector col;
    struct throttle t;
    struct err e;
    int64_t now, due;

    (void)state;
    memset(&col, 0, sizeof(col));
    col.stop_fd = -1;
    throttle_init(&t, 64 << 10, 0);
    assert_true(throttle_due_ms(&t) <= time_monotonic_ms());
    assert_int_equal(throttle_wait(&t, &col, &e), 0);
    throttle_account(&t, 64 << 10);
    now = time_monotonic_ms();
    due = throttle_due_ms(&t);
    assert_true(due >= now + 900);
    assert_true(due <= now + 1100);
}

static void test_throttle_stop(void **state)
{
    struct collector col;
    struct throttle t;
    struct err e;
    int fds[2];
    int64_t t0;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    memset(&col, 0, sizeof(col));
    col.stop_fd = fds[0];
    throttle_init(&t, 0, 60000); /* a minute of chunk_pause */
    assert_int_equal(throttle_wait(&t, &col, &e), 0);
    throttle_account(&t, 100);
    assert_int_equal(write(fds[1], "s", 1), 1);
    t0 = time_monotonic_ms();
    assert_int_equal(throttle_wait(&t, &col, &e), -1);
    assert_int_equal(e.code, ERR_STOPPED);
    assert_true(time_monotonic_ms() - t0 < 1000);
    close(fds[0]);
    close(fds[1]);
}

/* ------------------------------------------------------------------------
 * Lock
 * ---------------------------------------------------------------------- */

static void test_lock(void **state)
{
    const char *base = getenv("AOFROLL_TEST_TMP");
    char *dir = xasprintf("%s/lockXXXXXX", base != NULL ? base : "/tmp");
    char *path, *expect;
    struct err e;
    int fd1, fd2;
    long holder;

    (void)state;
    if (base != NULL)
        (void)mkdir(base, 0755);
    assert_non_null(mkdtemp(dir));
    path = xasprintf("%s/sessions.lock", dir);
    assert_int_equal(lock_acquire(dir, "sessions", &fd1, NULL, &e), 0);
    /* flock is per open file description: a second open conflicts */
    assert_int_equal(lock_acquire(dir, "sessions", &fd2, &holder, &e), -1);
    assert_int_equal(e.code, ERR_BUSY);
    assert_int_equal(holder, (long)getpid());
    expect = xasprintf("instance \"sessions\" is already being collected by pid %ld (lock \"%s\")",
                       (long)getpid(), path);
    assert_string_equal(e.msg, expect);
    lock_release(fd1);
    assert_int_equal(lock_acquire(dir, "sessions", &fd2, &holder, &e), 0);
    assert_int_equal(holder, 0);
    lock_release(fd2);

    /* a lock directory that does not exist */
    assert_int_equal(lock_acquire("/nonexistent/aofroll", "x", &fd2, NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "cannot open lock \"/nonexistent/aofroll/x.lock\""));

    unlink(path);
    rmdir(dir);
    free(expect);
    free(path);
    free(dir);
}

/* ------------------------------------------------------------------------
 * When a barrier is held back
 * ---------------------------------------------------------------------- */

static void test_barrier_postpone_reason(void **state)
{
    char why[256];

    (void)state;
    /* a steady writer keeps a poll's worth of bytes pending: not a reason */
    assert_int_equal(barrier_postpone_reason(400000, 32 << 20, 60, 0, why, sizeof(why)), 0);
    /* nothing pending: even a failing storage is the barrier's own check */
    assert_int_equal(barrier_postpone_reason(0, 32 << 20, 60, 1, why, sizeof(why)), 0);
    /* bytes pending and the storage failing */
    assert_int_equal(barrier_postpone_reason(1, 32 << 20, 60, 1, why, sizeof(why)), 1);
    assert_string_equal(why, "the storage is failing, with 1 B to ship");
    /* more than max_rate ships in max_lag */
    assert_int_equal(barrier_postpone_reason(65536, 65536, 1, 0, why, sizeof(why)), 0);
    assert_int_equal(barrier_postpone_reason(65537, 65536, 1, 0, why, sizeof(why)), 1);
    assert_string_equal(why, "shipping is 65537 B behind, more than max_rate ships in barrier_max_lag (1 s)");
    assert_int_equal(barrier_postpone_reason((uint64_t)60 * (32 << 20), 32 << 20, 60, 0, why, sizeof(why)),
                     0);
    assert_int_equal(
        barrier_postpone_reason((uint64_t)60 * (32 << 20) + 1, 32 << 20, 60, 0, why, sizeof(why)), 1);
    /* max_rate 0 (unlimited): the backlog alone never holds it back */
    assert_int_equal(barrier_postpone_reason(UINT64_MAX / 2, 0, 60, 0, why, sizeof(why)), 0);
    /* no overflow at the extremes */
    assert_int_equal(barrier_postpone_reason(UINT64_MAX, INT64_MAX, 86400, 0, why, sizeof(why)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_barrier_instant_utc),
        cmocka_unit_test(test_barrier_once_per_day),
        cmocka_unit_test(test_barrier_first_start_before_instant),
        cmocka_unit_test(test_barrier_missed_runs_at_start),
        cmocka_unit_test(test_barrier_dst_spring_forward),
        cmocka_unit_test(test_barrier_dst_fall_back),
        cmocka_unit_test(test_barrier_off),
        cmocka_unit_test(test_barrier_retry_after),
        cmocka_unit_test(test_barrier_postpone_reason),
        cmocka_unit_test(test_observe_times),
        cmocka_unit_test(test_parse_persistence),
        cmocka_unit_test(test_throttle_cost),
        cmocka_unit_test(test_throttle_rate),
        cmocka_unit_test(test_throttle_due),
        cmocka_unit_test(test_throttle_stop),
        cmocka_unit_test(test_lock),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_snapshot.c - unit tests of mode rdb's pure logic (snapshot_schedule.h, redisconn.h).
 *
 * INFO persistence as redis-server 7.0.15 prints it (the save fields a
 * snapshot waits on), and the snapshot schedule: the first snapshot at
 * start-up, every snapshot_interval from the last one's base time, daily
 * at snapshot_at (once per local day, not on a first start after today's
 * time), both together, and the retry delay after a failure. Taking a
 * snapshot against a real redis-server is tests/it_snapshot*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "redisconn.h"
#include "snapshot_schedule.h"

/* ------------------------------------------------------------------------
 * INFO persistence
 * ---------------------------------------------------------------------- */

static const char info_saving[] = "# Persistence\r\n"
                                  "loading:0\r\n"
                                  "async_loading:0\r\n"
                                  "current_cow_peak:0\r\n"
                                  "current_save_keys_processed:1200\r\n"
                                  "current_save_keys_total:4000\r\n"
                                  "rdb_changes_since_last_save:3\r\n"
                                  "rdb_bgsave_in_progress:1\r\n"
                                  "rdb_last_save_time:1795261570\r\n"
                                  "rdb_last_bgsave_status:ok\r\n"
                                  "rdb_last_bgsave_time_sec:0\r\n"
                                  "rdb_current_bgsave_time_sec:1\r\n"
                                  "rdb_saves:7\r\n"
                                  "rdb_last_cow_size:258048\r\n"
                                  "aof_enabled:0\r\n"
                                  "aof_rewrite_in_progress:0\r\n"
                                  "aof_rewrite_scheduled:0\r\n"
                                  "aof_last_bgrewrite_status:ok\r\n"
                                  "module_fork_in_progress:0\r\n"
                                  "module_fork_last_cow_size:0\r\n";

static void test_parse_persistence(void **state)
{
    struct rdb_persistence p;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(redisconn_parse_rdb_persistence(info_saving, &p, &e), 0);
    assert_int_equal(p.bgsave_in_progress, 1);
    assert_int_equal(p.last_save_time, 1795261570);
    assert_int_equal(p.last_bgsave_ok, 1);
    assert_int_equal(p.saves, 7);
    assert_int_equal(p.loading, 0);
    assert_int_equal(p.aof_rewrite_in_progress, 0);
    assert_int_equal(p.module_fork_in_progress, 0);
}

static void test_parse_failed_save_and_other_child(void **state)
{
    const char *text = "rdb_bgsave_in_progress:0\r\nrdb_last_save_time:100\r\nrdb_last_bgsave_status:err\r\n"
                       "aof_rewrite_in_progress:1\r\nloading:1\r\n";
    struct rdb_persistence p;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(redisconn_parse_rdb_persistence(text, &p, &e), 0);
    assert_int_equal(p.bgsave_in_progress, 0);
    assert_int_equal(p.last_bgsave_ok, 0);
    assert_int_equal(p.saves, -1); /* older servers have no rdb_saves */
    assert_int_equal(p.aof_rewrite_in_progress, 1);
    assert_int_equal(p.loading, 1);
}

static void test_parse_missing_fields(void **state)
{
    struct rdb_persistence p;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(redisconn_parse_rdb_persistence("rdb_bgsave_in_progress:0\r\nrdb_saves:1\r\n", &p, &e),
                     -1);
    assert_int_equal(e.code, ERR_REDIS);
    assert_string_equal(e.msg, "INFO persistence lacks \"rdb_bgsave_in_progress\", \"rdb_last_save_time\" or "
                               "\"rdb_last_bgsave_status\"");
}

/* ------------------------------------------------------------------------
 * The schedule
 * ---------------------------------------------------------------------- */

/* unix time of a UTC wall-clock time (the tests run with TZ=UTC) */
static int64_t at(int d, int h, int mi, int s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 10;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
}

static struct instance_config config(int64_t interval_s, int minute)
{
    struct instance_config ic;

    memset(&ic, 0, sizeof(ic));
    ic.mode = MODE_RDB;
    ic.snapshot_interval_s = interval_s;
    ic.snapshot_minute = minute;
    return ic;
}

static int setup_utc(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static void test_first_snapshot_at_start(void **state)
{
    struct instance_config ic = config(3600, -1);
    struct instance_config daily = config(0, 180);
    struct snapshot_schedule s;

    (void)state;
    snapshot_schedule_init(&s, &ic, at(20, 12, 0, 0), 0);
    assert_string_equal(snapshot_schedule_due(&s, at(20, 12, 0, 0)), "start");
    /* with only snapshot_at, an empty archive still gets one at once */
    snapshot_schedule_init(&s, &daily, at(20, 12, 0, 0), 0);
    assert_string_equal(snapshot_schedule_due(&s, at(20, 12, 0, 0)), "start");
}

static void test_interval(void **state)
{
    struct instance_config ic = config(3600, -1);
    struct snapshot_schedule s;
    int64_t base = at(20, 12, 0, 7);

    (void)state;
    snapshot_schedule_init(&s, &ic, at(20, 12, 30, 0), base);
    assert_null(snapshot_schedule_due(&s, at(20, 12, 30, 0)));
    assert_null(snapshot_schedule_due(&s, base + 3599));
    assert_string_equal(snapshot_schedule_due(&s, base + 3600), "interval");
    assert_int_equal(snapshot_schedule_next(&s, at(20, 12, 30, 0)), base + 3600);
    /* taken at base + 3600, completed (LASTSAVE) 5 s later */
    snapshot_schedule_done(&s, base + 3600, base + 3605);
    assert_null(snapshot_schedule_due(&s, base + 3605 + 3599));
    assert_string_equal(snapshot_schedule_due(&s, base + 3605 + 3600), "interval");
}

static void test_failure_waits(void **state)
{
    struct instance_config hourly = config(3600, -1);
    struct instance_config fast = config(5, -1);
    struct snapshot_schedule s;
    int64_t now = at(20, 12, 0, 0);

    (void)state;
    snapshot_schedule_init(&s, &hourly, now, 0);
    snapshot_schedule_failed(&s, now);
    assert_null(snapshot_schedule_due(&s, now + SNAPSHOT_RETRY_S - 1));
    assert_string_equal(snapshot_schedule_due(&s, now + SNAPSHOT_RETRY_S), "start");
    /* an interval shorter than the retry delay is the delay */
    snapshot_schedule_init(&s, &fast, now, now - 100);
    snapshot_schedule_failed(&s, now);
    assert_null(snapshot_schedule_due(&s, now + 4));
    assert_string_equal(snapshot_schedule_due(&s, now + 5), "interval");
    assert_int_equal(snapshot_schedule_next(&s, now), now + 5);
}

static void test_daily(void **state)
{
    struct instance_config ic = config(0, 3 * 60);
    struct snapshot_schedule s;

    (void)state;
    /* yesterday's taken at 03:00:04; it is now 02:59 */
    snapshot_schedule_init(&s, &ic, at(20, 2, 59, 0), at(19, 3, 0, 4));
    assert_null(snapshot_schedule_due(&s, at(20, 2, 59, 59)));
    assert_int_equal(snapshot_schedule_next(&s, at(20, 2, 59, 0)), at(20, 3, 0, 0));
    assert_string_equal(snapshot_schedule_due(&s, at(20, 3, 0, 0)), "daily");
    snapshot_schedule_done(&s, at(20, 3, 0, 2), at(20, 3, 0, 2));
    assert_null(snapshot_schedule_due(&s, at(20, 23, 59, 59)));
    assert_int_equal(snapshot_schedule_next(&s, at(20, 3, 0, 2)), at(21, 3, 0, 0));
    assert_string_equal(snapshot_schedule_due(&s, at(21, 3, 0, 0)), "daily");
}

static void test_daily_missed_and_restart(void **state)
{
    struct instance_config ic = config(0, 3 * 60);
    struct snapshot_schedule s;

    (void)state;
    /* down over 03:00 (the last one is yesterday's): the missed one runs at start */
    snapshot_schedule_init(&s, &ic, at(20, 9, 0, 0), at(19, 3, 0, 4));
    assert_string_equal(snapshot_schedule_due(&s, at(20, 9, 0, 0)), "daily");
    /* restarted after today's was taken: nothing until tomorrow */
    snapshot_schedule_init(&s, &ic, at(20, 9, 0, 0), at(20, 3, 0, 4));
    assert_null(snapshot_schedule_due(&s, at(20, 23, 0, 0)));
    assert_string_equal(snapshot_schedule_due(&s, at(21, 3, 0, 0)), "daily");
}

static void test_interval_and_daily(void **state)
{
    struct instance_config ic = config(6 * 3600, 3 * 60);
    struct snapshot_schedule s;

    (void)state;
    /* every 6 h, last at 22:00; 03:00 comes first */
    snapshot_schedule_init(&s, &ic, at(20, 23, 0, 0), at(20, 22, 0, 0));
    assert_int_equal(snapshot_schedule_next(&s, at(20, 23, 0, 0)), at(21, 3, 0, 0));
    assert_string_equal(snapshot_schedule_due(&s, at(21, 3, 0, 0)), "daily");
    snapshot_schedule_done(&s, at(21, 3, 0, 1), at(21, 3, 0, 1));
    /* the interval counts from the daily one */
    assert_null(snapshot_schedule_due(&s, at(21, 9, 0, 0)));
    assert_string_equal(snapshot_schedule_due(&s, at(21, 9, 0, 1)), "interval");
    /* an interval snapshot after 03:00 counts as the day's */
    snapshot_schedule_init(&s, &ic, at(22, 2, 0, 0), at(22, 1, 0, 0));
    snapshot_schedule_done(&s, at(22, 7, 0, 0), at(22, 7, 0, 0));
    assert_null(snapshot_schedule_due(&s, at(22, 12, 0, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_persistence),
        cmocka_unit_test(test_parse_failed_save_and_other_child),
        cmocka_unit_test(test_parse_missing_fields),
        cmocka_unit_test_setup(test_first_snapshot_at_start, setup_utc),
        cmocka_unit_test_setup(test_interval, setup_utc),
        cmocka_unit_test_setup(test_failure_waits, setup_utc),
        cmocka_unit_test_setup(test_daily, setup_utc),
        cmocka_unit_test_setup(test_daily_missed_and_restart, setup_utc),
        cmocka_unit_test_setup(test_interval_and_daily, setup_utc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_window.c - unit tests of common/window.c: which generation restores
 * a second (the lead second rule), the restorable windows, and the
 * refusals: before the archive, in a gap (the AOF off, a missed rewrite,
 * chunks that stop, a base not complete yet), after the end; rows from
 * before schema 3 keep the old rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "window.h"

/* A generation: base time, follows, lead, ended, proven end, last second. */
static struct window_gen gen(int64_t n, int64_t base_time, int follows, int64_t lead, int64_t ended,
                             int64_t proven_end, int64_t last)
{
    struct window_gen g;

    memset(&g, 0, sizeof(g));
    g.row.generation = n;
    g.row.mode = MODE_AOF;
    g.row.base_complete = 1;
    g.row.base_time = base_time;
    g.row.follows = follows;
    g.row.lead_ts = lead;
    g.row.ended = ended;
    g.row.proven_end = proven_end;
    g.row.exact = GEN_YES;
    if (ended != 0)
        strcpy(g.row.end_reason, "barrier");
    g.usable = 1;
    g.last = last;
    return g;
}

static void expect_choice(const struct window_gen *g, size_t n, int64_t t, enum window_verdict v,
                          size_t gen_i)
{
    struct window_choice c;

    window_choose(g, n, t, &c);
    if (c.verdict != v || (v != WINDOW_BEFORE && c.gen != gen_i))
        fail_msg("@%lld: verdict %d generation index %zu, expected %d and %zu", (long long)t, (int)c.verdict,
                 c.gen, (int)v, gen_i);
}

/* Barriers in a chain: each generation from its lead second, which may be
 * before its base time (no leading commands) or that very second (a
 * barrier in mid-second). */
static void test_lead_second_chain(void **state)
{
    struct window_gen g[3];
    struct window w[3];
    struct window_choice c;

    (void)state;
    g[0] = gen(1, 1000, GEN_NO, 0, 1011, 1008, 1011);
    g[1] = gen(2, 1010, GEN_YES, 1009, 1021, 1019, 1021);
    g[2] = gen(3, 1020, GEN_YES, 1020, 0, 0, 1030);
    assert_int_equal(window_start(&g[0]), 1000);
    assert_int_equal(window_start(&g[1]), 1009);
    assert_int_equal(window_start(&g[2]), 1020);
    expect_choice(g, 3, 1000, WINDOW_RESTORE, 0);
    expect_choice(g, 3, 1008, WINDOW_RESTORE, 0);
    /* the base time is 1010, but the second 1009 was the last one written
     * before the rewrite: generation 2 restores it */
    expect_choice(g, 3, 1009, WINDOW_RESTORE, 1);
    expect_choice(g, 3, 1019, WINDOW_RESTORE, 1);
    expect_choice(g, 3, 1020, WINDOW_RESTORE, 2);
    window_choose(g, 3, 1030, &c);
    assert_int_equal(c.verdict, WINDOW_RESTORE);
    assert_int_equal(c.past_end, 0);
    assert_int_equal(c.by_base_time, 0);
    /* after the newest archived second of the open generation: restored, with a note */
    window_choose(g, 3, 1031, &c);
    assert_int_equal(c.verdict, WINDOW_RESTORE);
    assert_int_equal(c.gen, 2);
    assert_int_equal(c.past_end, 1);
    expect_choice(g, 3, 999, WINDOW_BEFORE, 0);
    assert_int_equal(window_list(g, 3, w), 1);
    assert_int_equal(w[0].from, 1000);
    assert_int_equal(w[0].to, 1030);
    assert_int_equal(w[0].first_gen, 0);
    assert_int_equal(w[0].last_gen, 2);
}

/* A lead second that was not recorded: chosen by the base time, and said so. */
static void test_lead_unknown(void **state)
{
    struct window_gen g[2];
    struct window_choice c;

    (void)state;
    g[0] = gen(1, 1000, GEN_NO, 0, 1011, 1008, 1011);
    g[1] = gen(2, 1010, GEN_YES, 0, 0, 0, 1020);
    expect_choice(g, 2, 1009, WINDOW_RESTORE, 0);
    window_choose(g, 2, 1010, &c);
    assert_int_equal(c.verdict, WINDOW_RESTORE);
    assert_int_equal(c.gen, 1);
    assert_int_equal(c.by_base_time, 1);
}

/* appendonly no, then yes: generation 2 ends at its proven end, 3 begins
 * at its base time (its lead is no use: the AOF was off in between). */
static void test_aof_off_gap(void **state)
{
    struct window_gen g[3];
    struct window w[3];
    struct window_choice c;

    (void)state;
    g[0] = gen(1, 1000, GEN_NO, 0, 1011, 1008, 1011);
    g[1] = gen(2, 1010, GEN_YES, 1009, 1018, 1015, 1017);
    strcpy(g[1].row.end_reason, "aof-off");
    g[2] = gen(3, 1025, GEN_NO, 1016, 0, 0, 1040);
    assert_int_equal(window_start(&g[2]), 1025);
    expect_choice(g, 3, 1015, WINDOW_RESTORE, 1);
    window_choose(g, 3, 1016, &c);
    assert_int_equal(c.verdict, WINDOW_GAP);
    assert_int_equal(c.gen, 1);
    assert_int_equal(c.next, 2);
    assert_int_equal(c.to, 1015);
    expect_choice(g, 3, 1024, WINDOW_GAP, 1);
    expect_choice(g, 3, 1025, WINDOW_RESTORE, 2);
    assert_int_equal(window_list(g, 3, w), 2);
    assert_int_equal(w[0].from, 1000);
    assert_int_equal(w[0].to, 1015);
    assert_int_equal(w[0].last_gen, 1);
    assert_int_equal(w[1].from, 1025);
    assert_int_equal(w[1].to, 1040);
    assert_string_equal(window_end_why(g, 3, 1), "the AOF was switched off (appendonly no)");
    /* still off: nothing after generation 2 */
    window_choose(g, 2, 1030, &c);
    assert_int_equal(c.verdict, WINDOW_AFTER);
    assert_int_equal(c.gen, 1);
    expect_choice(g, 2, 1015, WINDOW_RESTORE, 1);
}

/* A rewrite missed between two polls: the next generation does not follow. */
static void test_missed_rewrite(void **state)
{
    struct window_gen g[2];

    (void)state;
    g[0] = gen(1, 1000, GEN_NO, 0, 1031, 1019, 1030);
    strcpy(g[0].row.end_reason, "missed");
    g[1] = gen(2, 1024, GEN_NO, 0, 0, 0, 1040);
    expect_choice(g, 2, 1019, WINDOW_RESTORE, 0);
    expect_choice(g, 2, 1020, WINDOW_GAP, 0);
    expect_choice(g, 2, 1023, WINDOW_GAP, 0);
    expect_choice(g, 2, 1024, WINDOW_RESTORE, 1);
    assert_string_equal(window_end_why(g, 2, 0), "a rewrite came and went unseen, and its stream with it");
    /* a proven end that is unknown: up to the last second seen */
    g[0].row.proven_end = 0;
    expect_choice(g, 2, 1023, WINDOW_RESTORE, 0);
}

/* The next generation's base is still being shipped: its seconds wait. */
static void test_successor_incomplete(void **state)
{
    struct window_gen g[2];
    struct window w[2];
    struct window_choice c;

    (void)state;
    g[0] = gen(1, 1000, GEN_NO, 0, 1022, 1020, 1022);
    g[1] = gen(2, 1021, GEN_YES, 1021, 0, 0, 1021);
    g[1].usable = 0;
    expect_choice(g, 2, 1020, WINDOW_RESTORE, 0);
    window_choose(g, 2, 1021, &c);
    assert_int_equal(c.verdict, WINDOW_GAP);
    assert_int_equal(c.next, 1);
    assert_string_equal(window_end_why(g, 2, 0), "the next base is not complete yet");
    assert_int_equal(window_list(g, 2, w), 1);
    assert_int_equal(w[0].to, 1020);
    g[1].usable = 1;
    expect_choice(g, 2, 1021, WINDOW_RESTORE, 1);
}

/* Chunks that stop at a gap or a fault end the window there. */
static void test_broken_chunks(void **state)
{
    struct window_gen g[2];
    struct window w[2];

    (void)state;
    g[0] = gen(1, 1000, GEN_NO, 0, 1021, 1019, 1005);
    g[0].broken = 1;
    g[1] = gen(2, 1020, GEN_YES, 1020, 0, 0, 1030);
    expect_choice(g, 2, 1005, WINDOW_RESTORE, 0);
    /* given to the restore, which names the missing range when it gets there */
    expect_choice(g, 2, 1006, WINDOW_RESTORE, 0);
    expect_choice(g, 2, 1020, WINDOW_RESTORE, 1);
    assert_int_equal(window_list(g, 2, w), 2);
    assert_int_equal(w[0].to, 1005);
    assert_int_equal(w[1].from, 1020);
    assert_string_equal(window_end_why(g, 2, 0), "its incr chunks stop at a gap or a fault");
}

/* Rows from before schema 3: base times, contiguous, the newest open-ended. */
static void test_unknown_rows(void **state)
{
    struct window_gen g[2];
    struct window w[2];
    struct window_choice c;

    (void)state;
    g[0] = gen(1, 1000, GEN_UNKNOWN, 0, 1011, 0, 1011);
    g[1] = gen(2, 1010, GEN_UNKNOWN, 0, 1030, 0, 1029);
    expect_choice(g, 2, 1009, WINDOW_RESTORE, 0);
    expect_choice(g, 2, 1010, WINDOW_RESTORE, 1);
    window_choose(g, 2, 5000, &c);
    assert_int_equal(c.verdict, WINDOW_RESTORE);
    assert_int_equal(c.past_end, 1);
    assert_int_equal(window_list(g, 2, w), 1);
    assert_int_equal(w[0].from, 1000);
    assert_int_equal(w[0].to, 1030);
}

/* Snapshots (mode rdb): base times, each up to the next. */
static void test_snapshots(void **state)
{
    struct window_gen g[2];
    struct window w[2];

    (void)state;
    g[0] = gen(1, 1000, GEN_NO, 900, 1100, 1050, 1000);
    g[1] = gen(2, 1100, GEN_NO, 1099, 0, 0, 1100);
    g[0].row.mode = g[1].row.mode = MODE_RDB;
    assert_int_equal(window_start(&g[1]), 1100);
    expect_choice(g, 2, 1099, WINDOW_RESTORE, 0);
    expect_choice(g, 2, 1100, WINDOW_RESTORE, 1);
    assert_int_equal(window_list(g, 2, w), 1);
    /* a snapshot that never completed is passed over */
    g[1].usable = 0;
    g[1].row.base_complete = 0;
    expect_choice(g, 2, 5000, WINDOW_RESTORE, 0);
}

/* A window that holds no second (the AOF went off right after the base). */
static void test_empty_window(void **state)
{
    struct window_gen g[2];
    struct window w[2];

    (void)state;
    g[0] = gen(1, 1000, GEN_NO, 0, 1002, 999, 1001);
    strcpy(g[0].row.end_reason, "aof-off");
    g[1] = gen(2, 1010, GEN_NO, 0, 0, 0, 1020);
    assert_int_equal(window_list(g, 2, w), 1);
    assert_int_equal(w[0].from, 1010);
    expect_choice(g, 2, 1000, WINDOW_GAP, 0);
    assert_int_equal(window_for_time(g, 0, 1000), -1);
    g[0].usable = g[1].usable = 0;
    assert_int_equal(window_for_time(g, 2, 5000), -1);
    assert_int_equal(window_list(g, 2, w), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lead_second_chain),    cmocka_unit_test(test_lead_unknown),
        cmocka_unit_test(test_aof_off_gap),          cmocka_unit_test(test_missed_rewrite),
        cmocka_unit_test(test_successor_incomplete), cmocka_unit_test(test_broken_chunks),
        cmocka_unit_test(test_unknown_rows),         cmocka_unit_test(test_snapshots),
        cmocka_unit_test(test_empty_window),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

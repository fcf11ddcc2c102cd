/* test_cluster_plan.c - unit tests of replay/engine/cluster_plan.c (which archive
 * restores each shard of a Redis Cluster at a second) and of the text forms
 * in common/clusterview.c it stands on (CLUSTER NODES, slot ranges): the
 * plain case, a failover decided by config epoch, a master whose archive
 * does not reach T (a replica in sync serves; one out of sync does not),
 * uncovered slots, a tie, and the refusal naming shard and windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_plan.h"
#include "clusterview.h"
#include "xalloc.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccccccccccc"
#define ID_D "dddddddddddddddddddddddddddddddddddddddd"

static struct cluster_view view(const char *id, const char *master_of, int64_t epoch, const char *slots,
                                int in_sync)
{
    struct cluster_view v;

    memset(&v, 0, sizeof(v));
    strcpy(v.node_id, id);
    v.master = master_of == NULL;
    strcpy(v.master_id, master_of != NULL ? master_of : "");
    v.config_epoch = epoch;
    v.slots = (char *)slots;
    v.in_sync = in_sync;
    return v;
}

static struct plan_node node(const char *instance, const struct cluster_view *v, int covers)
{
    struct plan_node n;

    n.instance = instance;
    n.has_view = v != NULL;
    n.view = v;
    n.covers = covers;
    n.windows = covers ? "2026-01-01T00:00:00Z to 2026-01-01T01:00:00Z"
                       : "2026-01-01T00:00:00Z to 2026-01-01T00:10:00Z";
    return n;
}

static void test_three_masters(void **state)
{
    struct cluster_view va = view(ID_A, NULL, 1, "0-5460", 1), vb = view(ID_B, NULL, 2, "5461-10922", 1),
                        vc = view(ID_C, NULL, 3, "10923-16383", 1), vd = view(ID_D, ID_A, 1, "0-5460", 1);
    /* given out of slot order, with a replica */
    struct plan_node n[] = {node("c", &vc, 1), node("d", &vd, 1), node("a", &va, 1), node("b", &vb, 1)};
    struct plan_shard *sh = NULL;
    size_t nsh = 0;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(cluster_plan(n, 4, "prod", 100, &sh, &nsh, &e), 0);
    assert_int_equal(nsh, 3);
    assert_string_equal(sh[0].master_id, ID_A);
    assert_string_equal(sh[0].slots_text, "0-5460");
    assert_int_equal(sh[0].nslots, 5461);
    assert_int_equal(sh[0].source, 2);
    assert_int_equal(sh[0].from_replica, 0);
    assert_string_equal(sh[1].slots_text, "5461-10922");
    assert_string_equal(sh[2].slots_text, "10923-16383");
    assert_int_equal(sh[2].source, 0);
    cluster_plan_free(sh, nsh);
}

static void test_failover_by_epoch(void **state)
{
    /* a's last view still says master of 0-5460 (epoch 1); d was promoted (epoch 4) */
    struct cluster_view va = view(ID_A, NULL, 1, "0-5460", 1), vb = view(ID_B, NULL, 2, "5461-16383", 1),
                        vd = view(ID_D, NULL, 4, "0-5460", 1);
    struct plan_node n[] = {node("a", &va, 1), node("b", &vb, 1), node("d", &vd, 1)};
    struct plan_shard *sh = NULL;
    size_t nsh = 0;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(cluster_plan(n, 3, "prod", 100, &sh, &nsh, &e), 0);
    assert_int_equal(nsh, 2);
    assert_string_equal(sh[0].master_id, ID_D);
    assert_int_equal(sh[0].source, 2);
    cluster_plan_free(sh, nsh);

    /* the other way round: the older claim loses wherever it is listed */
    va.config_epoch = 5;
    assert_int_equal(cluster_plan(n, 3, "prod", 100, &sh, &nsh, &e), 0);
    assert_string_equal(sh[0].master_id, ID_A);
    cluster_plan_free(sh, nsh);

    /* a tie is refused */
    va.config_epoch = 4;
    assert_int_equal(cluster_plan(n, 3, "prod", 100, &sh, &nsh, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "same config epoch 4"));
}

static void test_replica_serves(void **state)
{
    struct cluster_view va = view(ID_A, NULL, 1, "0-8191", 1), vb = view(ID_B, NULL, 2, "8192-16383", 1),
                        vd = view(ID_D, ID_A, 1, "0-8191", 1);
    struct plan_node n[] = {node("a", &va, 0), node("b", &vb, 1), node("d", &vd, 1)};
    struct plan_shard *sh = NULL;
    size_t nsh = 0;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(cluster_plan(n, 3, "prod", 100, &sh, &nsh, &e), 0);
    assert_int_equal(sh[0].source, 2);
    assert_int_equal(sh[0].from_replica, 1);
    assert_int_equal(sh[0].owner, 0);
    cluster_plan_free(sh, nsh);

    /* a replica whose link was down does not serve: refused, naming the shard and the windows */
    vd.in_sync = 0;
    assert_int_equal(cluster_plan(n, 3, "prod", 100, &sh, &nsh, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "slots 0-8191"));
    assert_non_null(strstr(e.msg, "master \"a\" restores 2026-01-01T00:00:00Z to 2026-01-01T00:10:00Z"));
    assert_non_null(strstr(e.msg, "replica \"d\" (not in sync)"));

    /* no replica at all */
    assert_int_equal(cluster_plan(n, 2, "prod", 100, &sh, &nsh, &e), -1);
    assert_non_null(strstr(e.msg, "no replica of it is archived"));
}

static void test_slots_moved_by_table(void **state)
{
    /* a gave 0-99 to b (epoch 5) and recorded it; b's newest view is older and does not claim them yet */
    struct cluster_view va = view(ID_A, NULL, 1, "100-8191", 1), vb = view(ID_B, NULL, 2, "8192-16383", 1);
    struct plan_node n[] = {node("a", &va, 1), node("b", &vb, 1)};
    struct plan_shard *sh = NULL;
    size_t nsh = 0;
    struct err e;

    (void)state;
    err_clear(&e);
    va.time = 20;
    vb.time = 10;
    va.nodes = ID_A " master - 1 100-8191\n" ID_B " master - 5 0-99 8192-16383\n";
    vb.nodes = ID_A " master - 1 0-8191 [0->-" ID_B "]\n" ID_B " master - 2 8192-16383 [0-<-" ID_A "]\n";
    assert_int_equal(cluster_plan(n, 2, "prod", 100, &sh, &nsh, &e), 0);
    assert_int_equal(nsh, 2);
    assert_string_equal(sh[0].master_id, ID_B);
    assert_string_equal(sh[0].slots_text, "0-99 8192-16383");
    assert_int_equal(sh[0].owner, 1);
    assert_string_equal(sh[1].slots_text, "100-8191");
    cluster_plan_free(sh, nsh);

    /* without the tables the slots are nobody's: refused, naming them */
    va.nodes = NULL;
    vb.nodes = NULL;
    assert_int_equal(cluster_plan(n, 2, "prod", 100, &sh, &nsh, &e), -1);
    assert_non_null(strstr(e.msg, "owning slots 0-99"));

    /* a master that no instance archives: its shard is refused as such */
    va.nodes = ID_A " master - 1 100-8191\n" ID_C " master - 9 0-99\n";
    assert_int_equal(cluster_plan(n, 2, "prod", 100, &sh, &nsh, &e), -1);
    assert_non_null(strstr(e.msg, "(master node " ID_C "): its master is not archived, or recorded no view"));
}

static void test_uncovered(void **state)
{
    struct cluster_view va = view(ID_A, NULL, 1, "0-5460", 1), vb = view(ID_B, NULL, 2, "5461-10922", 1);
    struct plan_node n[] = {node("a", &va, 1), node("b", &vb, 1), node("c", NULL, 1)};
    struct plan_shard *sh = NULL;
    size_t nsh = 0;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(cluster_plan(n, 3, "prod", 100, &sh, &nsh, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "slots 10923-16383"));
}

static void test_parse_nodes(void **state)
{
    const char *text = ID_B " 127.0.0.1:7001@17001 master - 0 1700000000 2 connected 5461-10922\n" ID_A
                            " 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461-<-" ID_B
                            "]\n" ID_D " 127.0.0.1:7003@17003 slave " ID_A " 0 1700000001 1 connected\n";
    struct cluster_view v;
    unsigned char bits[CLUSTER_SLOTS / 8];
    struct buf b = BUF_INIT;
    struct err e;

    (void)state;
    memset(&v, 0, sizeof(v));
    err_clear(&e);
    assert_int_equal(cluster_view_parse_nodes(text, NULL, &v, &e), 0);
    assert_string_equal(v.node_id, ID_A);
    assert_int_equal(v.master, 1);
    assert_int_equal(v.config_epoch, 1);
    assert_string_equal(v.slots, "0-5460");
    assert_string_equal(v.nodes, ID_A " master - 1 0-5460 [5461-<-" ID_B "]\n" ID_B
                                      " master - 2 5461-10922\n" ID_D " replica " ID_A " 1 -\n");
    /* the replica's view carries its master's slots */
    assert_int_equal(cluster_view_parse_nodes(text, ID_D, &v, &e), 0);
    assert_int_equal(v.master, 0);
    assert_string_equal(v.master_id, ID_A);
    assert_string_equal(v.slots, "0-5460");
    cluster_view_free(&v);

    assert_int_equal(cluster_view_parse_nodes("garbage line\n", NULL, &v, &e), -1);
    assert_int_equal(e.code, ERR_REDIS);
    assert_non_null(strstr(e.msg, "line 1"));
    cluster_view_free(&v);

    memset(bits, 0, sizeof(bits));
    assert_int_equal(cluster_slots_parse("0-2 5 7-8 16383", bits, &e), 0);
    cluster_slots_format(bits, &b);
    assert_string_equal(b.data, "0-2 5 7-8 16383");
    buf_free(&b);
    assert_int_equal(cluster_slots_parse("3-1", bits, &e), -1);
    assert_int_equal(cluster_slots_parse("16384", bits, &e), -1);
    assert_non_null(strstr(e.msg, "\"16384\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_masters),        cmocka_unit_test(test_failover_by_epoch),
        cmocka_unit_test(test_replica_serves),       cmocka_unit_test(test_uncovered),
        cmocka_unit_test(test_slots_moved_by_table), cmocka_unit_test(test_parse_nodes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* cluster_start.c - `aofroll restore --cluster ... --start --port N`: the
 * restored shards as a running Redis Cluster on 127.0.0.1.
 *
 * Shard K (0-based) gets a redis-server on port N+K (bus port N+K+10000),
 * started by target.c on its directory with cluster-enabled and a fresh
 * nodes.conf there. When it loads, a node claims by itself every slot it
 * holds keys of (Redis does, for slots nobody owns); the rest of its
 * shard's slots are added with CLUSTER ADDSLOTS (pipelined, one per slot;
 * "already busy" means it claimed that one already). Each node gets config
 * epoch K+1 (CLUSTER SET-CONFIG-EPOCH, while it knows no other node), so
 * that no two claim a slot with the same epoch. Keys a node holds in a
 * slot another shard owned at TIME (a slot moving at TIME) are moved to
 * that shard (DUMP/RESTORE; one the owner holds too is reported, the
 * owner's kept) and the node gives the slot up; a key MIGRATE'd across
 * the cut that no shard holds (cluster_inflight.c) is restored on the
 * shard that owned its slot; then node 0 meets the others and every node
 * is awaited until CLUSTER INFO says cluster_state:ok with every slot
 * assigned. Finally each node's slots are checked against the plan and its
 * keys printed. cluster_sweep() makes the same moves without --start, on
 * servers started on free ports and stopped again. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster.h"
#include "outdir.h"
#include "quote.h"
#include "target.h"
#include "timeutil.h"
#include "xalloc.h"

#define CLUSTER_START_TIMEOUT_S 600 /* for each server to load */
#define CLUSTER_OK_TIMEOUT_S 60     /* for the cluster to agree */
#define CLUSTER_STOP_TIMEOUT_S 60   /* for a sweep's server to exit */
#define CLUSTER_NODES_CONF "nodes.conf"
#define CLUSTER_SWEEP_PORT_LOW 20000 /* the sweep's servers listen from here up */
#define CLUSTER_SWEEP_PORT_TRIES 200

int cluster_start_check(long port, size_t n, struct err *e)
{
    size_t k;

    for (k = 0; k < n; k++) {
        if (port + (long)k + CLUSTER_BUS_OFFSET > 65535)
            return err_set(e, ERR_USAGE,
                           "--port %ld: %zu shards need ports up to %ld and bus ports up to %ld", port, n,
                           port + (long)n - 1, port + (long)n - 1 + CLUSTER_BUS_OFFSET);
        if (target_port_free(NULL, (int)(port + (long)k), e) < 0 ||
            target_port_free(NULL, (int)(port + (long)k + CLUSTER_BUS_OFFSET), e) < 0)
            return -1;
    }
    return 0;
}

static int cluster_expect_ok(redisContext *c, int port, redisReply *r, const char *what, struct err *e)
{
    int ret = 0;

    if (r == NULL)
        return err_set(e, ERR_IO, "redis-server on port %d did not answer %s: %s", port, what,
                       c->errstr[0] ? c->errstr : "connection lost");
    if (r->type == REDIS_REPLY_ERROR)
        ret = err_set(e, ERR_REDIS, "redis-server on port %d refused %s: %s", port, what, r->str);
    freeReplyObject(r);
    return ret;
}

/* The shard's slots, one CLUSTER ADDSLOTS each, pipelined. */
static int cluster_add_slots(redisContext *c, int port, const unsigned char *slots, struct err *e)
{
    size_t s, sent = 0, i;
    int ret = 0;

    for (s = 0; s < CLUSTER_SLOTS; s++) {
        if ((slots[s / 8] >> (s % 8)) & 1u) {
            redisAppendCommand(c, "CLUSTER ADDSLOTS %d", (int)s);
            sent++;
        }
    }
    for (i = 0; i < sent; i++) {
        void *reply = NULL;
        redisReply *r;

        if (redisGetReply(c, &reply) != REDIS_OK)
            return err_set(e, ERR_IO, "redis-server on port %d did not answer CLUSTER ADDSLOTS: %s", port,
                           c->errstr[0] ? c->errstr : "connection lost");
        r = reply;
        if (ret == 0 && r->type == REDIS_REPLY_ERROR && strstr(r->str, "busy") == NULL)
            ret = err_set(e, ERR_REDIS, "redis-server on port %d refused CLUSTER ADDSLOTS: %s", port, r->str);
        freeReplyObject(r);
    }
    return ret;
}

/* The node's own slots (CLUSTER NODES, "myself") into have. */
static int cluster_own_slots(redisContext *c, int port, unsigned char *have, struct err *e)
{
    redisReply *r = redisCommand(c, "CLUSTER NODES");
    struct cluster_view v;
    int ret = -1;

    memset(&v, 0, sizeof(v));
    memset(have, 0, CLUSTER_SLOTS / 8);
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        err_set(e, ERR_REDIS, "redis-server on port %d did not answer CLUSTER NODES", port);
    else if (cluster_view_parse_nodes(r->str, NULL, &v, e) == 0 && cluster_slots_parse(v.slots, have, e) == 0)
        ret = 0;
    if (r != NULL)
        freeReplyObject(r);
    cluster_view_free(&v);
    return ret;
}

/* Move one key of node `from` to node `to` (DUMP, PTTL, RESTORE, DEL).
 * *dup = 1 when `to` holds the key already: the owner's is kept. */
static int cluster_move_key(redisContext *from, redisContext *to, int to_port, const char *key, size_t len,
                            int *dup, struct err *e)
{
    redisReply *dump = redisCommand(from, "DUMP %b", key, len);
    redisReply *ttl = redisCommand(from, "PTTL %b", key, len);
    redisReply *r = NULL;
    int ret = -1;

    *dup = 0;
    if (dump == NULL || ttl == NULL) {
        err_set(e, ERR_IO, "DUMP or PTTL of a key failed: %s", from->errstr[0] ? from->errstr : "no answer");
        goto out;
    }
    if (dump->type == REDIS_REPLY_ERROR || ttl->type != REDIS_REPLY_INTEGER) {
        err_set(e, ERR_REDIS, "DUMP or PTTL of a key failed: %s",
                dump->type == REDIS_REPLY_ERROR ? dump->str : "PTTL did not answer a number");
        goto out;
    }
    if (dump->type != REDIS_REPLY_STRING) { /* expired meanwhile: nothing to move */
        ret = 0;
        goto out;
    }
    r = redisCommand(to, "RESTORE %b %lld %b", key, len, ttl->integer > 0 ? ttl->integer : 0LL, dump->str,
                     (size_t)dump->len);
    if (r == NULL) {
        err_set(e, ERR_IO, "redis-server on port %d did not answer RESTORE", to_port);
        goto out;
    }
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYKEY", 7) == 0)
        *dup = 1;
    else if (r->type == REDIS_REPLY_ERROR) {
        err_set(e, ERR_REDIS, "redis-server on port %d refused RESTORE: %s", to_port, r->str);
        goto out;
    }
    freeReplyObject(r);
    r = redisCommand(from, "DEL %b", key, len);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        err_set(e, ERR_REDIS, "DEL of a moved key failed");
        goto out;
    }
    ret = 0;
out:
    if (dump != NULL)
        freeReplyObject(dump);
    if (ttl != NULL)
        freeReplyObject(ttl);
    if (r != NULL)
        freeReplyObject(r);
    return ret;
}

/* A node claims at load every slot it holds keys of. Keys in a slot that
 * another shard owned at TIME (a slot moving then: MIGRATE had taken them
 * to one side, not yet the rest) go to that shard, and the node gives the
 * slot up; a key the owner holds as well is reported, the owner's kept. */
static int cluster_move_strays(redisContext **ctx, const struct cluster_start *cs, size_t k,
                               struct cluster_stray *st, struct err *e)
{
    unsigned char *have = xcalloc(CLUSTER_SLOTS / 8, 1);
    int port = cs->port + (int)k;
    size_t s, j;
    int ret = -1;

    if (cluster_own_slots(ctx[k], port, have, e) < 0)
        goto out;
    for (s = 0; s < CLUSTER_SLOTS; s++) {
        if (!((have[s / 8] >> (s % 8)) & 1u) || ((cs->slots[k][s / 8] >> (s % 8)) & 1u))
            continue;
        for (j = 0; j < cs->n && !((cs->slots[j][s / 8] >> (s % 8)) & 1u); j++)
            ;
        if (j == cs->n) {
            err_set(e, ERR_REDIS, "slot %zu is in no shard's plan", s);
            goto out;
        }
        buf_printf(&st->slots, "%s%zu", st->slots.len ? " " : "", s);
        for (;;) {
            redisReply *keys = redisCommand(ctx[k], "CLUSTER GETKEYSINSLOT %d 100", (int)s);
            size_t i, n;

            if (keys == NULL || keys->type != REDIS_REPLY_ARRAY) {
                err_set(e, ERR_REDIS, "redis-server on port %d did not answer CLUSTER GETKEYSINSLOT", port);
                if (keys != NULL)
                    freeReplyObject(keys);
                goto out;
            }
            n = keys->elements;
            for (i = 0; i < n; i++) {
                int dup;

                if (cluster_move_key(ctx[k], ctx[j], cs->port + (int)j, keys->element[i]->str,
                                     (size_t)keys->element[i]->len, &dup, e) < 0) {
                    freeReplyObject(keys);
                    goto out;
                }
                if (dup) {
                    if (st->on_owner < CLUSTER_STRAY_NAMES) {
                        if (st->names.len)
                            buf_appendstr(&st->names, ", ");
                        quote_arg(&st->names, keys->element[i]->str, (size_t)keys->element[i]->len,
                                  QUOTE_DEFAULT_MAX);
                    }
                    st->on_owner++;
                } else {
                    st->moved++;
                }
            }
            freeReplyObject(keys);
            if (n == 0)
                break;
        }
        if (cluster_expect_ok(ctx[k], port, redisCommand(ctx[k], "CLUSTER DELSLOTS %d", (int)s),
                              "CLUSTER DELSLOTS", e) < 0)
            goto out;
    }
    if (st->slots.len)
        printf("shard-%zu: held keys of slots it did not own at TIME (%s): %zu moved to their owners, %zu "
               "found on the owner too (the owner's kept%s%s)\n",
               k + 1, st->slots.data, st->moved, st->on_owner, st->on_owner ? ": " : "",
               st->on_owner ? st->names.data : "");
    ret = 0;
out:
    free(have);
    return ret;
}

static int cluster_state_ok(redisContext *c, size_t joined, int *ok, struct err *e);

/* Set cluster-require-full-coverage on every node; with "no", wait until
 * each (alone, owning part of the slots) serves its keys. */
static int cluster_coverage(redisContext **ctx, const struct cluster_start *cs, const char *value,
                            struct err *e)
{
    int64_t deadline = time_now() + CLUSTER_OK_TIMEOUT_S;
    size_t k;
    int ok;

    for (k = 0; k < cs->n; k++) {
        if (cluster_expect_ok(ctx[k], cs->port + (int)k,
                              redisCommand(ctx[k], "CONFIG SET cluster-require-full-coverage %s", value),
                              "CONFIG SET cluster-require-full-coverage", e) < 0)
            return -1;
        while (strcmp(value, "no") == 0) {
            if (cluster_state_ok(ctx[k], 0, &ok, e) < 0)
                return -1;
            if (ok)
                break;
            if (time_now() > deadline)
                return err_set(e, ERR_REDIS, "redis-server on port %d did not serve its slots alone",
                               cs->port + (int)k);
            usleep(100 * 1000);
        }
    }
    return 0;
}

/* Move every node's stray keys (cluster_move_strays). A node alone serves
 * no key while slots are unassigned (cluster-require-full-coverage),
 * so that is relaxed meanwhile, only when some node has strays. */
static int cluster_strays(redisContext **ctx, const struct cluster_start *cs, struct cluster_stray *strays,
                          struct err *e)
{
    unsigned char *have = xcalloc(CLUSTER_SLOTS / 8, 1);
    size_t k, s;
    int any = 0, ret = -1;

    for (k = 0; k < cs->n && !any; k++) {
        if (cluster_own_slots(ctx[k], cs->port + (int)k, have, e) < 0)
            goto out;
        for (s = 0; s < CLUSTER_SLOTS / 8; s++)
            any |= (have[s] & (unsigned char)~cs->slots[k][s]) != 0;
    }
    if (any) {
        if (cluster_coverage(ctx, cs, "no", e) < 0)
            goto out;
        for (k = 0; k < cs->n; k++) {
            if (cluster_move_strays(ctx, cs, k, &strays[k], e) < 0)
                goto out;
        }
        if (cluster_coverage(ctx, cs, "yes", e) < 0)
            goto out;
    }
    ret = 0;
out:
    free(have);
    return ret;
}

/* The shard that owned key's slot at TIME (CLUSTER KEYSLOT of node 0). */
static int cluster_key_owner(redisContext **ctx, const struct cluster_start *cs, const char *key, size_t len,
                             size_t *owner, struct err *e)
{
    redisReply *r = redisCommand(ctx[0], "CLUSTER KEYSLOT %b", key, len);
    long long slot;
    size_t k;

    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        err_set(e, ERR_REDIS, "redis-server on port %d did not answer CLUSTER KEYSLOT", cs->port);
        if (r != NULL)
            freeReplyObject(r);
        return -1;
    }
    slot = r->integer;
    freeReplyObject(r);
    for (k = 0; k < cs->n; k++) {
        if (slot >= 0 && slot < CLUSTER_SLOTS && ((cs->slots[k][slot / 8] >> (slot % 8)) & 1u)) {
            *owner = k;
            return 0;
        }
    }
    return err_set(e, ERR_REDIS, "slot %lld is in no shard's plan", slot);
}

/* 1 when the node holds key. */
static int cluster_key_held(redisContext *c, int port, const char *key, size_t len, int *held, struct err *e)
{
    redisReply *r = redisCommand(c, "EXISTS %b", key, len);

    *held = 0;
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        err_set(e, ERR_REDIS, "redis-server on port %d did not answer EXISTS: %s", port,
                r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : "no number");
        if (r != NULL)
            freeReplyObject(r);
        return -1;
    }
    *held = r->integer > 0;
    freeReplyObject(r);
    return 0;
}

/* Keys MIGRATE'd across the cut (cluster_inflight.c): each one no node
 * holds is restored, from its RESTORE-ASKING, on the shard that owned
 * its slot at TIME. */
static int cluster_inflight_restore(redisContext **ctx, const struct cluster_start *cs,
                                    struct cluster_moves *m, struct err *e)
{
    size_t i, owner = 0;
    int held;

    if (m->inflight->n == 0)
        return 0;
    /* after the stray keys moved, a key can only be on its owner, which
     * answers for its slots alone only without full coverage */
    if (cluster_coverage(ctx, cs, "no", e) < 0)
        return -1;
    for (i = 0; i < m->inflight->n; i++) {
        const struct cluster_inflight_key *k = &m->inflight->v[i];
        int port;
        redisReply *r;

        if (cluster_key_owner(ctx, cs, k->argv[1], k->lens[1], &owner, e) < 0)
            return -1;
        port = cs->port + (int)owner;
        if (cluster_key_held(ctx[owner], port, k->argv[1], k->lens[1], &held, e) < 0)
            return -1;
        if (held) {
            m->inflight_held++;
            continue;
        }
        r = redisCommandArgv(ctx[owner], (int)k->argc, (const char **)k->argv, k->lens);
        if (cluster_expect_ok(ctx[owner], port, r, "RESTORE of a key in flight at the cut", e) < 0)
            return -1;
        if (m->inflight_restored < CLUSTER_STRAY_NAMES) {
            if (m->inflight_names.len)
                buf_appendstr(&m->inflight_names, ", ");
            quote_arg(&m->inflight_names, k->argv[1], k->lens[1], QUOTE_DEFAULT_MAX);
        }
        m->inflight_restored++;
        if (m->inflight_done != NULL)
            m->inflight_done[i] = 1;
    }
    if (cluster_coverage(ctx, cs, "yes", e) < 0)
        return -1;
    if (m->inflight_restored > 0)
        printf(
            "in flight at the cut (MIGRATE across it): %zu key%s held by no shard restored on the shard that "
            "owned the slot (%s)\n",
            m->inflight_restored, m->inflight_restored == 1 ? "" : "s", m->inflight_names.data);
    return 0;
}

/* CLUSTER INFO says cluster_state:ok? With joined > 0, also that the node
 * knows that many nodes and sees every slot assigned: a state of "ok"
 * can be a moment old (Redis recomputes it on its next cron), e.g. from
 * before cluster-require-full-coverage was set back to yes. */
static int cluster_state_ok(redisContext *c, size_t joined, int *ok, struct err *e)
{
    redisReply *r = redisCommand(c, "CLUSTER INFO");

    *ok = 0;
    if (r == NULL)
        return err_set(e, ERR_IO, "no answer to CLUSTER INFO: %s",
                       c->errstr[0] ? c->errstr : "connection lost");
    if (r->type == REDIS_REPLY_STRING) {
        char known[64];

        snprintf(known, sizeof(known), "cluster_known_nodes:%zu\r", joined);
        *ok = strstr(r->str, "cluster_state:ok") != NULL &&
              (joined == 0 ||
               (strstr(r->str, "cluster_slots_assigned:16384\r") != NULL && strstr(r->str, known) != NULL));
    }
    freeReplyObject(r);
    return 0;
}

/* The node's own slots against the plan. */
static int cluster_check_slots(redisContext *c, int port, const unsigned char *want, struct err *e)
{
    unsigned char *have = xcalloc(CLUSTER_SLOTS / 8, 1);
    int ret = -1;

    if (cluster_own_slots(c, port, have, e) < 0)
        goto out;
    if (memcmp(have, want, CLUSTER_SLOTS / 8) != 0) {
        struct buf a = BUF_INIT, b = BUF_INIT;

        cluster_slots_format(have, &a);
        cluster_slots_format(want, &b);
        err_set(e, ERR_REDIS, "redis-server on port %d owns slots %s, the restore planned %s", port,
                a.len ? a.data : "none", b.len ? b.data : "none");
        buf_free(&a);
        buf_free(&b);
        goto out;
    }
    ret = 0;
out:
    free(have);
    return ret;
}

/* The servers of one start: their directories, connections and pids. */
struct cluster_servers {
    size_t n;
    struct outdir *dirs;
    redisContext **ctx;
    long *pids;
};

static void cluster_servers_init(struct cluster_servers *sv, size_t n)
{
    size_t k;

    sv->n = n;
    sv->dirs = xcalloc(n, sizeof(*sv->dirs));
    sv->ctx = xcalloc(n, sizeof(*sv->ctx));
    sv->pids = xcalloc(n, sizeof(*sv->pids));
    for (k = 0; k < n; k++)
        sv->dirs[k].fd = -1;
}

static void cluster_servers_free(struct cluster_servers *sv)
{
    size_t k;

    for (k = 0; k < sv->n; k++) {
        if (sv->ctx[k] != NULL)
            redisFree(sv->ctx[k]);
        outdir_close(&sv->dirs[k], 0);
    }
    free(sv->ctx);
    free(sv->dirs);
    free(sv->pids);
}

/* Start one cluster-enabled server per shard, give each its config epoch
 * and its slots, move the keys each holds outside its shard's slots
 * (m->strays[k] says what moved from shard k) and restore the keys in
 * flight at the cut that no shard holds. The servers know no other node
 * yet. */
static int cluster_servers_up(struct cluster_servers *sv, const struct cluster_start *cs,
                              struct cluster_moves *m, int quiet, struct err *e)
{
    static char *extra[] = {"--cluster-enabled", "yes", "--cluster-config-file", CLUSTER_NODES_CONF};
    size_t k;

    for (k = 0; k < cs->n; k++) {
        struct target_start ts;

        if (outdir_open(&sv->dirs[k], cs->dirs[k], 0, e) < 0)
            return -1;
        memset(&ts, 0, sizeof(ts));
        ts.dir = &sv->dirs[k];
        ts.port = cs->port + (int)k;
        ts.extra = extra;
        ts.nextra = (int)(sizeof(extra) / sizeof(extra[0]));
        ts.timeout_s = CLUSTER_START_TIMEOUT_S;
        if (target_start(&ts, &sv->ctx[k], e) < 0)
            return -1;
        sv->pids[k] = ts.pid;
        if (!quiet)
            printf("shard-%zu: redis-server started on %s (pid %ld), loaded in %.2f s\n", k + 1, ts.listening,
                   ts.pid, ts.load_seconds);
    }
    for (k = 0; k < cs->n; k++) {
        int port = cs->port + (int)k;

        if (cluster_expect_ok(sv->ctx[k], port,
                              redisCommand(sv->ctx[k], "CLUSTER SET-CONFIG-EPOCH %d", (int)k + 1),
                              "CLUSTER SET-CONFIG-EPOCH", e) < 0 ||
            cluster_add_slots(sv->ctx[k], port, cs->slots[k], e) < 0)
            return -1;
    }
    if (cluster_strays(sv->ctx, cs, m->strays, e) < 0)
        return -1;
    return m->inflight != NULL ? cluster_inflight_restore(sv->ctx, cs, m, e) : 0;
}

int cluster_start_run(const struct cluster_start *cs, struct cluster_moves *m, struct err *e)
{
    struct cluster_servers sv;
    int64_t deadline;
    size_t k, ok_count;
    int ret = -1;

    cluster_servers_init(&sv, cs->n);
    if (cluster_servers_up(&sv, cs, m, 0, e) < 0)
        goto out;
    for (k = 1; k < cs->n; k++) {
        if (cluster_expect_ok(sv.ctx[0], cs->port,
                              redisCommand(sv.ctx[0], "CLUSTER MEET 127.0.0.1 %d", cs->port + (int)k),
                              "CLUSTER MEET", e) < 0)
            goto out;
    }
    deadline = time_now() + CLUSTER_OK_TIMEOUT_S;
    for (;;) {
        ok_count = 0;
        for (k = 0; k < cs->n; k++) {
            int ok;

            if (cluster_state_ok(sv.ctx[k], cs->n, &ok, e) < 0) {
                err_prefix(e, "redis-server on port %d", cs->port + (int)k);
                goto out;
            }
            ok_count += ok ? 1 : 0;
        }
        if (ok_count == cs->n)
            break;
        if (time_now() > deadline) {
            err_set(e, ERR_REDIS, "the cluster did not reach cluster_state:ok in %d s (%zu of %zu nodes ok)",
                    CLUSTER_OK_TIMEOUT_S, ok_count, cs->n);
            goto out;
        }
        usleep(200 * 1000);
    }
    for (k = 0; k < cs->n; k++) {
        redisReply *r;

        if (cluster_check_slots(sv.ctx[k], cs->port + (int)k, cs->slots[k], e) < 0)
            goto out;
        r = redisCommand(sv.ctx[k], "DBSIZE");
        if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
            err_set(e, ERR_REDIS, "redis-server on port %d did not answer DBSIZE", cs->port + (int)k);
            if (r != NULL)
                freeReplyObject(r);
            goto out;
        }
        printf("shard-%zu: port %d, keys %lld\n", k + 1, cs->port + (int)k, (long long)r->integer);
        freeReplyObject(r);
    }
    printf("cluster_state:ok on ports %d-%d\n", cs->port, cs->port + (int)cs->n - 1);
    ret = 0;
out:
    cluster_servers_free(&sv);
    return ret;
}

/* ------------------------------------------------------------------ */
/* The sweep without --start                                            */
/* ------------------------------------------------------------------ */

/* n consecutive ports, and their bus ports, free on 127.0.0.1. */
static int cluster_sweep_ports(size_t n, int *port, struct err *e)
{
    int span = 65535 - CLUSTER_BUS_OFFSET - CLUSTER_SWEEP_PORT_LOW - (int)n;
    int base = CLUSTER_SWEEP_PORT_LOW + (int)(getpid() % span), i;

    for (i = 0; i < CLUSTER_SWEEP_PORT_TRIES; i++) {
        struct err busy;

        err_clear(&busy);
        *port = CLUSTER_SWEEP_PORT_LOW + (base - CLUSTER_SWEEP_PORT_LOW + i * 37) % span;
        if (cluster_start_check(*port, n, &busy) == 0)
            return 0;
        if (busy.code != ERR_BUSY) {
            *e = busy;
            return -1;
        }
    }
    return err_set(e, ERR_BUSY, "no %zu free ports (and bus ports) on 127.0.0.1 for the stray-key sweep", n);
}

/* SHUTDOWN NOSAVE (the AOF is flushed and fsynced) and wait until the
 * process (a child of this one) has exited. */
static int cluster_server_stop(redisContext *c, long pid, int port, struct err *e)
{
    int64_t deadline = time_now() + CLUSTER_STOP_TIMEOUT_S;
    redisReply *r = redisCommand(c, "SHUTDOWN NOSAVE");

    if (r != NULL) { /* an answer is an error: it did not shut down */
        int ret = err_set(e, ERR_REDIS, "redis-server on port %d refused SHUTDOWN: %s", port,
                          r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");

        freeReplyObject(r);
        return ret;
    }
    /* target.c's servers are this process's children: reaped here */
    while (waitpid((pid_t)pid, NULL, WNOHANG) == 0) {
        if (time_now() > deadline)
            return err_set(e, ERR_REDIS, "redis-server on port %d (pid %ld) did not exit in %d s", port, pid,
                           CLUSTER_STOP_TIMEOUT_S);
        usleep(50 * 1000);
    }
    return 0;
}

int cluster_sweep(const struct cluster_start *shards, struct cluster_moves *m, struct err *e)
{
    static const char *const leftovers[] = {CLUSTER_NODES_CONF, TARGET_PIDFILE, TARGET_LOG, TARGET_SOCKET};
    struct cluster_start cs = *shards;
    struct cluster_servers sv;
    size_t k, i;
    int ret = -1;

    cluster_servers_init(&sv, cs.n);
    if (cluster_sweep_ports(cs.n, &cs.port, e) < 0 || cluster_servers_up(&sv, &cs, m, 1, e) < 0)
        goto out;
    for (k = 0; k < cs.n; k++) {
        if (cluster_server_stop(sv.ctx[k], sv.pids[k], cs.port + (int)k, e) < 0)
            goto out;
        sv.pids[k] = 0;
        redisFree(sv.ctx[k]);
        sv.ctx[k] = NULL;
        for (i = 0; i < sizeof(leftovers) / sizeof(leftovers[0]); i++) {
            if (outdir_remove_tree(&sv.dirs[k], leftovers[i], e) < 0)
                goto out;
        }
        if (outdir_fsync(&sv.dirs[k], OUTDIR_AOF_DIR, e) < 0 || outdir_fsync(&sv.dirs[k], ".", e) < 0)
            goto out;
    }
    ret = 0;
out:
    for (k = 0; k < cs.n; k++) { /* after a failure: no server left behind */
        if (sv.pids[k] > 0 && kill((pid_t)sv.pids[k], SIGKILL) == 0)
            waitpid((pid_t)sv.pids[k], NULL, 0);
    }
    cluster_servers_free(&sv);
    return ret;
}

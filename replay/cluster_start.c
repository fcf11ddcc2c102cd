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
 * owner's kept) and the node gives the slot up; then node 0 meets the
 * others and every node is awaited until CLUSTER INFO says
 * cluster_state:ok. Finally each node's slots are checked against the
 * plan and its keys printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "outdir.h"
#include "target.h"
#include "timeutil.h"
#include "xalloc.h"

#define CLUSTER_START_TIMEOUT_S 600 /* for each server to load */
#define CLUSTER_OK_TIMEOUT_S 60     /* for the cluster to agree */

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
static int cluster_move_strays(redisContext **ctx, const struct cluster_start *cs, size_t k, struct err *e)
{
    unsigned char *have = xcalloc(CLUSTER_SLOTS / 8, 1);
    int port = cs->port + (int)k;
    size_t s, j, moved = 0, dups = 0;
    struct buf slots = BUF_INIT, dupnames = BUF_INIT;
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
        buf_printf(&slots, "%s%zu", slots.len ? " " : "", s);
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
                    dups++;
                    if (dupnames.len < 200)
                        buf_printf(&dupnames, "%s\"%.*s\"", dupnames.len ? ", " : "",
                                   (int)keys->element[i]->len, keys->element[i]->str);
                } else {
                    moved++;
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
    if (slots.len)
        printf("shard-%zu: held keys of slots it did not own at TIME (%s): %zu moved to their owners, %zu "
               "found on "
               "the owner too (the owner's kept%s%s)\n",
               k + 1, slots.data, moved, dups, dups ? ": " : "", dups ? dupnames.data : "");
    ret = 0;
out:
    buf_free(&slots);
    buf_free(&dupnames);
    free(have);
    return ret;
}

static int cluster_state_ok(redisContext *c, int *ok, struct err *e);

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
            if (cluster_state_ok(ctx[k], &ok, e) < 0)
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
static int cluster_strays(redisContext **ctx, const struct cluster_start *cs, struct err *e)
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
            if (cluster_move_strays(ctx, cs, k, e) < 0)
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

/* CLUSTER INFO says cluster_state:ok? */
static int cluster_state_ok(redisContext *c, int *ok, struct err *e)
{
    redisReply *r = redisCommand(c, "CLUSTER INFO");

    *ok = 0;
    if (r == NULL)
        return err_set(e, ERR_IO, "no answer to CLUSTER INFO: %s",
                       c->errstr[0] ? c->errstr : "connection lost");
    if (r->type == REDIS_REPLY_STRING)
        *ok = strstr(r->str, "cluster_state:ok") != NULL;
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

int cluster_start_run(const struct cluster_start *cs, struct err *e)
{
    static char *extra[] = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"};
    struct outdir *dirs = xcalloc(cs->n, sizeof(*dirs));
    redisContext **ctx = xcalloc(cs->n, sizeof(*ctx));
    int64_t deadline;
    size_t k, ok_count;
    int ret = -1;

    for (k = 0; k < cs->n; k++)
        dirs[k].fd = -1;
    for (k = 0; k < cs->n; k++) {
        struct target_start ts;

        if (outdir_open(&dirs[k], cs->dirs[k], 0, e) < 0)
            goto out;
        memset(&ts, 0, sizeof(ts));
        ts.dir = &dirs[k];
        ts.port = cs->port + (int)k;
        ts.extra = extra;
        ts.nextra = (int)(sizeof(extra) / sizeof(extra[0]));
        ts.timeout_s = CLUSTER_START_TIMEOUT_S;
        if (target_start(&ts, &ctx[k], e) < 0)
            goto out;
        printf("shard-%zu: redis-server started on %s (pid %ld), loaded in %.2f s\n", k + 1, ts.listening,
               ts.pid, ts.load_seconds);
    }
    for (k = 0; k < cs->n; k++) {
        int port = cs->port + (int)k;

        if (cluster_expect_ok(ctx[k], port, redisCommand(ctx[k], "CLUSTER SET-CONFIG-EPOCH %d", (int)k + 1),
                              "CLUSTER SET-CONFIG-EPOCH", e) < 0 ||
            cluster_add_slots(ctx[k], port, cs->slots[k], e) < 0)
            goto out;
    }
    if (cluster_strays(ctx, cs, e) < 0)
        goto out;
    for (k = 1; k < cs->n; k++) {
        if (cluster_expect_ok(ctx[0], cs->port,
                              redisCommand(ctx[0], "CLUSTER MEET 127.0.0.1 %d", cs->port + (int)k),
                              "CLUSTER MEET", e) < 0)
            goto out;
    }
    deadline = time_now() + CLUSTER_OK_TIMEOUT_S;
    for (;;) {
        ok_count = 0;
        for (k = 0; k < cs->n; k++) {
            int ok;

            if (cluster_state_ok(ctx[k], &ok, e) < 0) {
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

        if (cluster_check_slots(ctx[k], cs->port + (int)k, cs->slots[k], e) < 0)
            goto out;
        r = redisCommand(ctx[k], "DBSIZE");
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
    for (k = 0; k < cs->n; k++) {
        if (ctx[k] != NULL)
            redisFree(ctx[k]);
        outdir_close(&dirs[k], 0);
    }
    free(ctx);
    free(dirs);
    return ret;
}

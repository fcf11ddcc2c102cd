/* cluster_plan.h - which archive restores each shard of a Redis Cluster at
 * a second: the decision of `aofroll restore --cluster`, with no I/O.
 *
 * The caller gives, for every node archived as an aofroll instance, its
 * newest view at or before T (clusterview.h) and whether its archive
 * restores T. The plan:
 *
 *  1. Each slot belongs to the master whose view claims it; when two
 *     masters claim one slot (a failover or a slot move that one of them
 *     had not yet recorded), the higher config epoch wins, as it does in
 *     Redis Cluster itself. Two claims with the same epoch, or a slot that
 *     no view claims, are refused, naming the slots.
 *  2. Each master that owns slots is a shard. The shard is restored from
 *     the master's own archive when it restores T; else from a replica of
 *     it (its view at T names that master and says the link was up) whose
 *     archive restores T; else the restore is refused, naming the shard,
 *     its nodes and their restorable windows.
 *
 * Shards come out ordered by their lowest slot. */
#ifndef AOFROLL_REPLAY_CLUSTER_PLAN_H
#define AOFROLL_REPLAY_CLUSTER_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "clusterview.h"
#include "error.h"

struct plan_node {
    const char *instance; /* the aofroll instance that archives the node */
    int has_view;         /* view holds its newest view at or before T */
    const struct cluster_view *view;
    int covers;          /* its archive restores T */
    const char *windows; /* its restorable windows, for refusals ("" none) */
};

struct plan_shard {
    char master_id[CLUSTER_NODE_ID_LEN + 1]; /* the node that owned the slots at T */
    unsigned char slots[CLUSTER_SLOTS / 8];
    char *slots_text; /* "0-5460 5462" */
    size_t nslots;
    size_t owner;     /* nodes[] index of that master */
    size_t source;    /* nodes[] index of the archive that restores the shard */
    int from_replica; /* source is a replica of the owner */
};

/* Decide; *out (n shards) is freed with cluster_plan_free. ERR_NOTFOUND or
 * ERR_CORRUPT with one line naming what is wrong. `cluster` and `t` are for
 * messages. */
int cluster_plan(const struct plan_node *nodes, size_t n, const char *cluster, int64_t t,
                 struct plan_shard **out, size_t *nout, struct err *e);
void cluster_plan_free(struct plan_shard *s, size_t n);

#endif

/* cluster_plan.h - which archive restores each shard of a Redis Cluster at
 * a second: the decision of `aofroll restore --cluster`, with no I/O.
 *
 * The caller gives, for every node archived as an aofroll instance, its
 * newest view at or before T (clusterview.h) and whether its archive
 * restores T. The plan:
 *
 *  1. Each slot belongs to the master that claims it: in its own view, or
 *     in the table of every node that any node's view holds (a node that
 *     gave slots away knows who took them before the taker's next view
 *     says so). When claims differ (a failover or a slot move that not
 *     every view has caught up with), the higher config epoch wins, as it
 *     does in Redis Cluster itself; at the same epoch a node's own word,
 *     then the newer view. Two own words with the same epoch and time, or
 *     a slot that no view claims, are refused, naming the slots.
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

#define PLAN_NO_NODE ((size_t)-1)

struct plan_shard {
    char master_id[CLUSTER_NODE_ID_LEN + 1]; /* the node that owned the slots at T */
    unsigned char slots[CLUSTER_SLOTS / 8];
    char *slots_text; /* "0-5460 5462" */
    size_t nslots;
    size_t owner;     /* nodes[] index of that master, PLAN_NO_NODE when it is not archived */
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

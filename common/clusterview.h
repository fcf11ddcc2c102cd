/* clusterview.h - what a node of a Redis Cluster said of itself, with the
 * time: the index's cluster_views table (schema 4) and the text forms it
 * is read from.
 *
 * The collector asks each node that belongs to a cluster (an instance with
 * `cluster: NAME`) for CLUSTER MYID and CLUSTER NODES at start, every few
 * seconds, and at every barrier, and records a view whenever what the node
 * says changed (collector/cluster_view.c). A view holds the node's id, its
 * role, its master (a replica's), its config epoch, the slot ranges of its
 * shard (a master's own slots; a replica's master's), whether a replica's
 * link to its master is up, and the node's normalized view of every node
 * of the cluster (one line per node "ID ROLE MASTER EPOCH SLOTS", sorted;
 * no ping times, so it changes only when the cluster does). `aofroll
 * restore --cluster` reads the views of every node (replay/engine/cluster_plan.c
 * decides from them who owned each slot at a second).
 *
 * The views go into the same index file as the chunks, and so into the
 * index copy in storage (indexcopy.h). This module keeps its own
 * statements, prepared per call on the index's connection: views are
 * rare (a handful per node per day), and every query is served by one of
 * the table's two SQL indexes. */
#ifndef AOFROLL_CLUSTERVIEW_H
#define AOFROLL_CLUSTERVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "index.h"

#define CLUSTER_SLOTS 16384
#define CLUSTER_NODE_ID_LEN 40
#define CLUSTER_NAME_MAX 128
#define CLUSTER_VIEW_POLL_S 5 /* the collector asks a node for its view this often */

struct cluster_view {
    int64_t instance_id;
    char cluster[CLUSTER_NAME_MAX + 1];
    int64_t time;    /* unix s, the collector's clock */
    char reason[16]; /* "start", "change", "barrier" */
    char node_id[CLUSTER_NODE_ID_LEN + 1];
    int master;                              /* 1 master, 0 replica */
    char master_id[CLUSTER_NODE_ID_LEN + 1]; /* a replica's master, "" for a master */
    int64_t config_epoch;
    char *slots; /* "0-5460 5462": the shard's slot ranges, "" none (owned) */
    int in_sync; /* a replica's link to its master is up; 1 for a master */
    char *nodes; /* the normalized view of every node (see above, owned) */
};

void cluster_view_free(struct cluster_view *v);
/* Same content (everything but instance, time and reason)? */
int cluster_view_same(const struct cluster_view *a, const struct cluster_view *b);

/* Parse the reply of CLUSTER NODES into v (node_id, master, master_id,
 * config_epoch, slots, nodes; the rest is left as it is). `myid` (CLUSTER
 * MYID) picks the node's own line; NULL: the line flagged "myself".
 * ERR_REDIS naming the line when the text is not what Redis writes. */
int cluster_view_parse_nodes(const char *text, const char *myid, struct cluster_view *v, struct err *e);

/* Slot ranges "0-5460 5461 5463-5470" into a bitmap of CLUSTER_SLOTS bits
 * (set, not cleared first). ERR_CORRUPT naming the range. */
int cluster_slots_parse(const char *text, unsigned char bits[CLUSTER_SLOTS / 8], struct err *e);
/* The bitmap as ranges "0-5460 5461", appended to out. */
void cluster_slots_format(const unsigned char bits[CLUSTER_SLOTS / 8], struct buf *out);

/* ------------------------------------------------------------------ */
/* The table                                                            */
/* ------------------------------------------------------------------ */

int cluster_view_add(struct index *idx, const struct cluster_view *v, struct err *e);
/* The newest view of (instance, cluster) at or before t (INT64_MAX: the
 * newest); ERR_NOTFOUND when none. v is freed first. */
int cluster_view_at(struct index *idx, int64_t instance_id, const char *cluster, int64_t t,
                    struct cluster_view *v, struct err *e);
/* Views of (instance, cluster) with time in [since, until], oldest first;
 * cb returns non-zero to stop. */
int cluster_view_list(struct index *idx, int64_t instance_id, const char *cluster, int64_t since,
                      int64_t until, int (*cb)(void *ud, const struct cluster_view *v), void *ud,
                      struct err *e);
/* Names of the instances that have views of `cluster`, by name. */
int cluster_view_instances(struct index *idx, const char *cluster,
                           int (*cb)(void *ud, int64_t id, const char *name), void *ud, struct err *e);

#endif

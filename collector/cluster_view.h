/* cluster_view.h - a Redis Cluster node's views, recorded with the time
 * (cluster_view.c), for an instance with `cluster: NAME`. Beside follow.c
 * in the layers: it calls context.c and redisconn.c; the thread
 * (instance.c) calls it once per loop and frees what it kept. */
#ifndef AOFROLL_CLUSTER_VIEW_H
#define AOFROLL_CLUSTER_VIEW_H

#include "clusterview.h"
#include "context.h"
#include "redisconn.h"

/* For an instance with `cluster: NAME`: ask the node for its view when one
 * is due and record it when it changed (or a barrier ran, or at start).
 * Failures are logged, never returned. */
void cluster_view_step(struct instance *in);
/* Free what cluster_view_step() kept. */
void cluster_view_end(struct instance *in);
/* Ask the node behind rc for its view now (CLUSTER MYID, CLUSTER NODES,
 * and INFO replication of a replica): everything of v but the instance,
 * the time and the reason. --check (check.c) asks it too. */
int cluster_view_read(struct redisconn *rc, const char *cluster, struct cluster_view *v, struct err *e);

#endif

/* cluster.h - `aofroll restore --cluster`: a whole Redis Cluster back to one
 * second (cluster_restore.c), and starting the restored shards as a
 * cluster (cluster_start.c). The decision of which archive restores which
 * slots is cluster_plan.h; the views it reads are common/clusterview.h. */
#ifndef AOFROLL_REPLAY_CLUSTER_H
#define AOFROLL_REPLAY_CLUSTER_H

#include <stddef.h>

#include "clusterview.h"
#include "error.h"

#define CLUSTER_BUS_OFFSET 10000 /* Redis Cluster's bus listens on port + 10000 */

struct cluster_opts {
    const char *config;
    const char *cluster;
    const char *to;
    const char *out;
    int start;
    long port;
};

/* 1 when the restore's arguments name --cluster (cmd_restore hands the
 * command to cluster_restore_main then). */
int cluster_wanted(int argc, char **argv);
/* The command; returns the exit status. */
int cluster_restore_main(int argc, char **argv);

/* --start: one redis-server per shard on ports port, port+1, ... */
struct cluster_start {
    int port;
    size_t n;
    char **dirs;                 /* each shard's restored directory */
    const unsigned char **slots; /* each shard's slots (CLUSTER_SLOTS bits) */
};

/* Before anything is restored: the n ports from `port` and their bus
 * ports are free on 127.0.0.1 (ERR_BUSY naming the port). */
int cluster_start_check(long port, size_t n, struct err *e);
/* Start the servers cluster-enabled, give each its slots and a config
 * epoch, join them, wait for cluster_state:ok on every one, and print the
 * keys of each shard. */
int cluster_start_run(const struct cluster_start *cs, struct err *e);

#endif

/* cluster.h - `aofroll restore --cluster`: a whole Redis Cluster back to one
 * second (cluster_restore.c), and starting the restored shards as a
 * cluster (cluster_start.c). The decision of which archive restores which
 * slots is cluster_plan.h; the views it reads are common/clusterview.h. */
#ifndef AOFROLL_REPLAY_CLUSTER_H
#define AOFROLL_REPLAY_CLUSTER_H

#include <stddef.h>

#include "buf.h"
#include "cluster_plan.h"
#include "clusterview.h"
#include "config.h"
#include "error.h"
#include "index.h"
#include "position.h"
#include "storage.h"

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
/* 1 for the inspection commands that take --cluster (cluster_inspect.c). */
int cluster_inspects(const char *cmd);
/* `aofroll CMD --cluster NAME ...`: CMD for every node, shard by shard. */
int cluster_inspect_main(const char *cmd, int argc, char **argv);

/* ------------------------------------------------------------------ */
/* The archived nodes of a cluster (cluster_nodes.c)                    */
/* ------------------------------------------------------------------ */

struct cluster_node {
    char *instance;    /* the aofroll instance that archives the node */
    char *index_path;  /* the index its archive is read through */
    struct index *idx; /* that index; NULL: the local one (cluster_nodes.local) */
    int64_t instance_id;
    struct cluster_view view; /* its newest view at or before t */
    int has_view;
    int covers;         /* its archive restores t */
    struct buf windows; /* its restorable windows and last heartbeat, for messages */
};

struct cluster_nodes {
    const char *cluster;
    const struct config *cfg;
    struct storage *st;
    int64_t t;
    struct index *local; /* the configured index, NULL when it does not exist */
    char *tmp;           /* private temp directory: fetched index copies */
    struct cluster_node *v;
    size_t n;
};

/* Find the archived nodes of `cluster` and load each one's view and
 * windows at t (INT64_MAX: the newest). ERR_NOTFOUND when there is none. */
int cluster_nodes_load(struct cluster_nodes *cn, const struct config *cfg, struct storage *st,
                       const char *cluster, int64_t t, struct err *e);
/* The index node n is read through. */
struct index *cluster_node_index(const struct cluster_nodes *cn, const struct cluster_node *n);
/* cluster_plan() of the loaded nodes at cn->t. */
int cluster_nodes_plan(struct cluster_nodes *cn, struct plan_shard **plan, size_t *nplan, struct err *e);
/* *moving = 1 when some node's views say slots may have been on the move
 * at cn->t: its view then names a slot migrating or importing, or a view
 * of it within CLUSTER_MOVING_WINDOW_S of t differs from that one (the
 * cluster changed while the views lagged). Only then can a shard hold
 * keys of slots it did not own at t. *unsure names a node whose index
 * shows no poll that long after t (its views after t may be missing: a
 * recent t, an old index copy), NULL when every one does. */
#define CLUSTER_MOVING_WINDOW_S (3 * CLUSTER_VIEW_POLL_S)
int cluster_nodes_moving(const struct cluster_nodes *cn, int *moving, const char **unsure, struct err *e);
void cluster_nodes_free(struct cluster_nodes *cn);

/* ------------------------------------------------------------------ */
/* Keys MIGRATE'd across the cut (cluster_inflight.c)                   */
/* ------------------------------------------------------------------ */

#define CLUSTER_INFLIGHT_S 5 /* seconds of each shard's stream read on past its cut */

/* A RESTORE-ASKING found past a shard's cut, as the RESTORE to send. */
struct cluster_inflight_key {
    size_t shard; /* the shard whose stream holds it */
    uint64_t seq; /* its command's number in that look-ahead */
    char **argv;  /* "RESTORE", key, ttl, payload, options... (each NUL-terminated) */
    size_t *lens;
    size_t argc;
};

struct cluster_inflight {
    struct cluster_inflight_key *v;
    size_t n;
    struct buf unread; /* "shard-2: why; ...": look-aheads that could not be read */
};

/* Where one restored shard's stream goes on. */
struct cluster_lookahead_shard {
    struct index *idx;
    const char *instance;
    int64_t instance_id;
    const struct position *pos; /* its cut */
};

/* Read every shard's stream CLUSTER_INFLIGHT_S seconds past its cut and
 * keep the RESTORE-ASKING commands that are the first there to touch
 * their key, of keys no other shard's look-ahead touches (the header of
 * cluster_inflight.c says why). A look-ahead that cannot be read is named
 * in out->unread, not an error. */
void cluster_inflight_find(const struct cluster_lookahead_shard *shards, size_t n, const struct config *cfg,
                           struct storage *st, int64_t to, struct cluster_inflight *out);
void cluster_inflight_key_free(struct cluster_inflight_key *k);
void cluster_inflight_free(struct cluster_inflight *in);

/* --start: one redis-server per shard on ports port, port+1, ... */
struct cluster_start {
    int port;
    size_t n;
    char **dirs;                 /* each shard's restored directory */
    const unsigned char **slots; /* each shard's slots (CLUSTER_SLOTS bits) */
};

/* What one shard held outside its slots at TIME, moved to the owners. */
#define CLUSTER_STRAY_NAMES 10 /* keys found on the owner too, named at most */
struct cluster_stray {
    struct buf slots; /* "533 535": slots it held keys of and did not own */
    size_t moved;     /* keys moved to the owner */
    size_t on_owner;  /* keys the owner held as well: the owner's kept */
    struct buf names; /* the first CLUSTER_STRAY_NAMES of those, quoted, ", " between */
};

/* What the started servers changed: keys moved to the shard that owned
 * their slot at TIME. */
struct cluster_moves {
    struct cluster_stray *strays;            /* per shard (n entries, zeroed by the caller) */
    const struct cluster_inflight *inflight; /* keys in flight at the cut; NULL none */
    size_t inflight_restored;                /* of those, restored on their owner (held by none) */
    unsigned char *inflight_done;            /* per key of inflight: 1 when restored (caller-allocated) */
    size_t inflight_held;                    /* held by a shard already: left alone */
    struct buf inflight_names;               /* the first CLUSTER_STRAY_NAMES restored, quoted */
};

/* Before anything is restored: the n ports from `port` and their bus
 * ports are free on 127.0.0.1 (ERR_BUSY naming the port). */
int cluster_start_check(long port, size_t n, struct err *e);
/* Start the servers cluster-enabled, give each its slots and a config
 * epoch, move stray keys to their owners and restore keys in flight that
 * no shard holds (m), join them, wait for cluster_state:ok on every one,
 * and print the keys of each shard. */
int cluster_start_run(const struct cluster_start *cs, struct cluster_moves *m, struct err *e);
/* The same moves without --start: the shards' servers are started on
 * free ports, the keys moved (the moves are appended to the shards'
 * AOFs), and the servers stopped; the shard directories are left with
 * nothing of them but their AOFs. cs->port is not used. */
int cluster_sweep(const struct cluster_start *cs, struct cluster_moves *m, struct err *e);

#endif

/* cluster_inspect.c - `aofroll generations|ls|status|verify --cluster NAME`:
 * the archive of every node of a Redis Cluster, shard by shard.
 *
 * The nodes are found as the cluster restore finds them (cluster_nodes.c:
 * member objects in storage, index copies), grouped into shards by their
 * newest views (a master and the replicas that name it), shards ordered by
 * their lowest slot. For each node the command itself runs, unchanged, as
 * `aofroll CMD -c TMP --instance NODE [the other options]`, where TMP is
 * the configuration with the index replaced by the one the node's archive
 * is read through and the instance list by that node (config_dump writes
 * it; secrets are not in it: credentials live in files or the
 * environment). Its output follows a header line per shard and per node;
 * the exit status is the worst of them, so `status --cluster` fails when
 * any shard's archive is stale (for a node read through its index copy,
 * `status --index-copy`: the copy's heartbeat may be index_upload_interval
 * older). --json is refused: one document per node would not make one
 * document. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cluster.h"
#include "objname.h"
#include "xalloc.h"

struct shard_group {
    char key[CLUSTER_NODE_ID_LEN + 1]; /* the master's node id */
    long first_slot;                   /* lowest slot, CLUSTER_SLOTS when none */
    const char *slots;
};

static const char *cluster_shard_key(const struct cluster_node *n)
{
    return n->view.master ? n->view.node_id : n->view.master_id;
}

static long cluster_first_slot(const char *slots)
{
    return slots != NULL && slots[0] >= '0' && slots[0] <= '9' ? strtol(slots, NULL, 10) : CLUSTER_SLOTS;
}

static int group_cmp(const void *a, const void *b)
{
    const struct shard_group *x = a, *y = b;

    if (x->first_slot != y->first_slot)
        return x->first_slot < y->first_slot ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The configuration for one node: cfg with its index and only that node. */
static int cluster_node_config(const struct cluster_nodes *cn, const struct cluster_node *n, const char *path,
                               struct err *e)
{
    struct config c = *cn->cfg;
    struct instance_config ic = cn->cfg->defaults;
    FILE *fp;

    ic.name = n->instance;
    ic.redis_url = "redis://127.0.0.1:1"; /* never reached: the inspection commands read the archive */
    ic.cluster = (char *)cn->cluster;
    c.index_path = n->index_path;
    c.instances = &ic;
    c.ninstances = 1;
    fp = fopen(path, "w");
    if (fp == NULL)
        return err_sys(e, errno, "cannot write \"%s\"", path);
    config_dump(&c, fp);
    if (fclose(fp) != 0)
        return err_sys(e, errno, "cannot write \"%s\"", path);
    return 0;
}

/* Run `aofroll CMD -c CFG --instance NODE [EXTRA] ARGS...`; its exit status. */
static int cluster_node_run(const char *cmd, const char *cfg, const char *instance, const char *extra,
                            int argc, char **argv, struct err *e)
{
    char self[PATH_MAX];
    const char **args = xcalloc((size_t)argc + 8, sizeof(*args));
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    int i, n = 0, status = -1;
    pid_t pid;

    if (len < 0) {
        err_sys(e, errno, "cannot find this program (/proc/self/exe)");
        goto out;
    }
    self[len] = '\0';
    args[n++] = self;
    args[n++] = cmd;
    args[n++] = "-c";
    args[n++] = cfg;
    args[n++] = "--instance";
    args[n++] = instance;
    if (extra != NULL)
        args[n++] = extra;
    for (i = 0; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        err_sys(e, errno, "cannot fork");
        goto out;
    }
    if (pid == 0) {
        execv(self, (char *const *)args);
        _exit(CLI_EXIT_FAIL);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            err_sys(e, errno, "waiting for aofroll %s", cmd);
            status = -1;
            goto out;
        }
    }
    status = WIFEXITED(status) ? WEXITSTATUS(status) : CLI_EXIT_FAIL;
out:
    free(args);
    return status;
}

static int cluster_inspect_run(const char *cmd, const char *config_path, const char *cluster, int argc,
                               char **argv, int *worst, struct err *e)
{
    struct cluster_nodes cn;
    struct config cfg;
    struct storage *st = NULL;
    struct shard_group *g = NULL;
    size_t ng = 0, i, k;
    int have_cfg = 0, loaded = 0, ret = -1;

    if (config_load(config_path, &cfg, e) < 0)
        goto out;
    have_cfg = 1;
    if (storage_open(&cfg, &st, e) < 0) {
        st = NULL;
        goto out;
    }
    loaded = 1;
    if (cluster_nodes_load(&cn, &cfg, st, cluster, INT64_MAX, e) < 0)
        goto out;
    g = xcalloc(cn.n, sizeof(*g));
    for (i = 0; i < cn.n; i++) {
        const char *key = cn.v[i].has_view ? cluster_shard_key(&cn.v[i]) : "";

        for (k = 0; k < ng && strcmp(g[k].key, key) != 0; k++)
            ;
        if (k == ng) {
            snprintf(g[ng].key, sizeof(g[ng].key), "%s", key);
            g[ng].first_slot = CLUSTER_SLOTS;
            ng++;
        }
        if (cn.v[i].has_view && cluster_first_slot(cn.v[i].view.slots) < g[k].first_slot) {
            g[k].first_slot = cluster_first_slot(cn.v[i].view.slots);
            g[k].slots = cn.v[i].view.slots;
        }
    }
    qsort(g, ng, sizeof(*g), group_cmp);
    for (k = 0; k < ng; k++) {
        int pass;

        if (g[k].key[0] != '\0')
            printf("== shard %zu: slots %s (master node %s)\n", k + 1,
                   g[k].slots != NULL && g[k].slots[0] ? g[k].slots : "none", g[k].key);
        else
            printf("== nodes with no recorded view\n");
        /* the master first, then its replicas */
        for (pass = 0; pass < 2; pass++) {
            for (i = 0; i < cn.n; i++) {
                const struct cluster_node *n = &cn.v[i];
                char *path;
                int rc;

                if (strcmp(n->has_view ? cluster_shard_key(n) : "", g[k].key) != 0 ||
                    (n->has_view && n->view.master) != (pass == 0))
                    continue;
                printf("-- %s \"%s\"%s%s\n", n->has_view ? (n->view.master ? "master" : "replica") : "node",
                       n->instance, n->has_view ? " node " : "", n->has_view ? n->view.node_id : "");
                path = xasprintf("%s/%s.yaml", cn.tmp, n->instance);
                rc = cluster_node_config(&cn, n, path, e);
                if (rc == 0)
                    rc = cluster_node_run(
                        cmd, path, n->instance,
                        n->idx != NULL && strcmp(cmd, "status") == 0 ? "--index-copy" : NULL, argc, argv, e);
                unlink(path);
                free(path);
                if (rc < 0)
                    goto out;
                if (rc > *worst)
                    *worst = rc;
            }
        }
    }
    ret = 0;
out:
    free(g);
    if (loaded)
        cluster_nodes_free(&cn);
    if (st != NULL)
        storage_close(st);
    if (have_cfg)
        config_free(&cfg);
    return ret;
}

int cluster_inspects(const char *cmd)
{
    static const char *const cmds[] = {"generations", "ls", "status", "verify"};
    size_t i;

    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(cmd, cmds[i]) == 0)
            return 1;
    }
    return 0;
}

int cluster_inspect_main(const char *cmd, int argc, char **argv)
{
    const char *config_path = NULL, *cluster = NULL;
    char **rest = xcalloc((size_t)argc + 1, sizeof(*rest));
    int i, nrest = 0, worst = 0;
    struct err e;

    err_clear(&e);
    /* -c and --cluster are ours; every other argument goes to each node's run */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--cluster") == 0 && i + 1 < argc) {
            cluster = argv[++i];
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strncmp(a, "--cluster=", 10) == 0) {
            cluster = a + 10;
        } else if (strncmp(a, "--config=", 9) == 0) {
            config_path = a + 9;
        } else if (strcmp(a, "--instance") == 0 || strncmp(a, "--instance=", 11) == 0) {
            err_set(&e, ERR_USAGE, "--instance and --cluster exclude each other");
        } else if (strcmp(a, "--json") == 0) {
            err_set(&e, ERR_USAGE, "--json is not available with --cluster");
        } else {
            rest[nrest++] = argv[i];
        }
    }
    if (e.code == ERR_NONE && config_path == NULL)
        cli_require(config_path, "-c FILE", &e);
    if (e.code == ERR_NONE && (cluster == NULL || !objname_valid_instance(cluster)))
        err_set(&e, ERR_USAGE, "--cluster needs a cluster name");
    if (e.code == ERR_NONE)
        cluster_inspect_run(cmd, config_path, cluster, nrest, rest, &worst, &e);
    free(rest);
    if (e.code != ERR_NONE)
        return cli_fail(cmd, &e);
    return worst;
}

/* cluster_nodes.c - the archived nodes of a Redis Cluster, wherever the
 * restore or inspection runs (see cluster.h).
 *
 * The nodes are every instance that stored the member object
 * ".clusters/NAME/INSTANCE" (objname.h), plus those the local index holds
 * views of. Each node's archive is read through the local index when it
 * knows the node's views (it is fresher), else through the node's index
 * copy fetched from storage (indexcopy.h) into a private temp directory
 * that cluster_nodes_free() removes. For a second T, each node gets its
 * newest view at or before T (clusterview.h) and whether its archive
 * restores T (window.h; past its newest archived second only while its
 * collector's heartbeat in that index shows it polling at T with nothing
 * pending: an idle node has nothing newer to archive). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "fetch.h"
#include "indexcopy.h"
#include "objname.h"
#include "outdir.h"
#include "timeutil.h"
#include "window.h"
#include "xalloc.h"

struct index *cluster_node_index(const struct cluster_nodes *cn, const struct cluster_node *n)
{
    return n->idx != NULL ? n->idx : cn->local;
}

static struct cluster_node *cluster_node_add(struct cluster_nodes *cn, const char *instance)
{
    size_t i;

    for (i = 0; i < cn->n; i++) {
        if (strcmp(cn->v[i].instance, instance) == 0)
            return NULL;
    }
    cn->v = xrealloc(cn->v, (cn->n + 1) * sizeof(*cn->v));
    memset(&cn->v[cn->n], 0, sizeof(cn->v[cn->n]));
    cn->v[cn->n].instance = xstrdup(instance);
    cn->v[cn->n].instance_id = -1;
    return &cn->v[cn->n++];
}

static int cluster_member_seen(void *ud, const char *key, uint64_t size)
{
    struct cluster_nodes *cn = ud;
    const char *slash = strrchr(key, '/');

    (void)size;
    if (slash != NULL && objname_valid_instance(slash + 1))
        cluster_node_add(cn, slash + 1);
    return 0;
}

static int cluster_local_seen(void *ud, int64_t id, const char *name)
{
    struct cluster_nodes *cn = ud;
    struct cluster_node *n = cluster_node_add(cn, name);

    (void)id;
    if (n != NULL)
        n->index_path = xstrdup(cn->cfg->index_path);
    return 0;
}

/* The node's index copy from storage into the temp directory. */
static int cluster_fetch_copy(struct cluster_nodes *cn, struct cluster_node *n, struct err *e)
{
    char key[OBJNAME_MAX];
    struct buf data = BUF_INIT;
    char *path = xasprintf("%s/%s.db", cn->tmp, n->instance);
    int fd = -1, ret = -1;

    if (indexcopy_find(cn->st, n->instance, key, sizeof(key), e) < 0) {
        if (e->code == ERR_NOTFOUND)
            err_set(e, ERR_NOTFOUND,
                    "instance \"%s\" is a node of cluster \"%s\" but storage holds no copy of its index. "
                    "HINT: its collector stores one every index_upload_interval",
                    n->instance, cn->cluster);
        goto out;
    }
    if (storage_get(cn->st, key, &data, e) < 0)
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_sys(e, errno, "cannot create \"%s\"", path);
        goto out;
    }
    if (outdir_write_all(fd, data.data, data.len, path, e) < 0)
        goto out;
    n->index_path = path;
    path = NULL;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    buf_free(&data);
    return ret;
}

/* Open the node's index, read its view at T and whether its archive
 * restores T. */
static int cluster_node_load(struct cluster_nodes *cn, struct cluster_node *n, struct err *e)
{
    struct window_gen *gens = NULL;
    struct window_choice choice;
    struct status_row s;
    struct fetch f;
    size_t ng = 0;
    int ret = -1;

    if (n->index_path == NULL && cluster_fetch_copy(cn, n, e) < 0)
        return -1;
    if (strcmp(n->index_path, cn->cfg->index_path) == 0)
        n->idx = NULL; /* the local index, already open */
    else if (index_open_copy(n->index_path, &n->idx, e) < 0)
        return -1;
    if (index_instance_id(n->idx != NULL ? n->idx : cn->local, n->instance, 0, &n->instance_id, e) < 0)
        return -1;
    fetch_init(&f, n->idx != NULL ? n->idx : cn->local, cn->st, n->instance, n->instance_id);
    if (cluster_view_at(f.idx, n->instance_id, cn->cluster, cn->t, &n->view, e) == 0)
        n->has_view = 1;
    else if (e->code != ERR_NOTFOUND)
        goto out;
    err_clear(e);
    if (fetch_gens(&f, &gens, &ng, e) < 0)
        goto out;
    window_choose(gens, ng, cn->t, &choice);
    fetch_windows_text(gens, ng, &n->windows);
    n->covers = choice.verdict == WINDOW_RESTORE && !choice.past_end;
    memset(&s, 0, sizeof(s));
    if (index_status_get(f.idx, n->instance_id, &s, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            goto out;
        err_clear(e);
    } else if (s.last_poll > 0) {
        char t[TIME_BUFSZ];

        /* an idle node: nothing was written, the collector was there */
        if (choice.verdict == WINDOW_RESTORE && choice.past_end && s.last_poll >= cn->t &&
            s.shipped >= s.current_size)
            n->covers = 1;
        time_format_utc(s.last_poll, t, sizeof(t));
        buf_printf(&n->windows, " (its collector's last heartbeat in this index: %s)", t);
    }
    ret = 0;
out:
    free(gens);
    fetch_free(&f);
    return ret;
}

static int cluster_nodes_find(struct cluster_nodes *cn, struct err *e)
{
    char prefix[OBJNAME_MAX];
    size_t i;

    if (index_open(cn->cfg->index_path, 1, &cn->local, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        cn->local = NULL;
        err_clear(e);
    }
    if (cn->local != NULL && cluster_view_instances(cn->local, cn->cluster, cluster_local_seen, cn, e) < 0)
        return -1;
    if (objname_cluster_prefix(cn->cluster, prefix, sizeof(prefix)) != 0)
        return err_set(e, ERR_USAGE, "--cluster \"%s\" cannot name an object", cn->cluster);
    if (storage_list(cn->st, prefix, cluster_member_seen, cn, e) < 0)
        return -1;
    if (cn->n == 0)
        return err_set(
            e, ERR_NOTFOUND,
            "no node of cluster \"%s\" is archived (no \"%s*\" in storage, no view in index \"%s\"). "
            "HINT: give each node's instance \"cluster: %s\" in the collector's configuration",
            cn->cluster, prefix, cn->cfg->index_path, cn->cluster);
    for (i = 0; i < cn->n; i++) {
        if (cluster_node_load(cn, &cn->v[i], e) < 0) {
            err_prefix(e, "node \"%s\"", cn->v[i].instance);
            return -1;
        }
    }
    return 0;
}

int cluster_nodes_plan(struct cluster_nodes *cn, struct plan_shard **plan, size_t *nplan, struct err *e)
{
    struct plan_node *pn = xcalloc(cn->n, sizeof(*pn));
    size_t i;
    int rc;

    for (i = 0; i < cn->n; i++) {
        pn[i].instance = cn->v[i].instance;
        pn[i].has_view = cn->v[i].has_view;
        pn[i].view = &cn->v[i].view;
        pn[i].covers = cn->v[i].covers;
        pn[i].windows = cn->v[i].windows.len ? cn->v[i].windows.data : "";
    }
    rc = cluster_plan(pn, cn->n, cn->cluster, cn->t, plan, nplan, e);
    free(pn);
    return rc;
}

struct moving_acc {
    const struct cluster_node *n;
    int differs; /* a view in the window differs from n's at t, or names a slot on the move */
};

static const char *view_nodes(const struct cluster_view *v)
{
    return v->nodes != NULL ? v->nodes : "";
}

static int cluster_view_moving(void *ud, const struct cluster_view *v)
{
    struct moving_acc *a = ud;

    if (strchr(view_nodes(v), '[') != NULL || strcmp(view_nodes(v), view_nodes(&a->n->view)) != 0) {
        a->differs = 1;
        return 1;
    }
    return 0;
}

int cluster_nodes_moving(const struct cluster_nodes *cn, int *moving, const char **unsure, struct err *e)
{
    size_t i;

    *moving = 0;
    *unsure = NULL;
    for (i = 0; i < cn->n && !*moving; i++) {
        const struct cluster_node *n = &cn->v[i];
        struct moving_acc acc = {n, 0};
        struct status_row row;

        if (!n->has_view)
            continue;
        if (strchr(view_nodes(&n->view), '[') != NULL) {
            *moving = 1;
            break;
        }
        if (cluster_view_list(cluster_node_index(cn, n), n->instance_id, cn->cluster,
                              cn->t - CLUSTER_MOVING_WINDOW_S, cn->t + CLUSTER_MOVING_WINDOW_S,
                              cluster_view_moving, &acc, e) < 0)
            return -1;
        *moving = acc.differs;
        /* a collector that has not polled the node that long after t has
         * not recorded every view that could differ */
        if (*unsure == NULL) {
            if (index_status_get(cluster_node_index(cn, n), n->instance_id, &row, e) == 0) {
                if (row.last_poll < cn->t + CLUSTER_MOVING_WINDOW_S)
                    *unsure = n->instance;
            } else if (e->code == ERR_NOTFOUND) {
                *unsure = n->instance;
            } else {
                return -1;
            }
            err_clear(e);
        }
    }
    return 0;
}

int cluster_nodes_load(struct cluster_nodes *cn, const struct config *cfg, struct storage *st,
                       const char *cluster, int64_t t, struct err *e)
{
    const char *tmpdir = getenv("TMPDIR");

    memset(cn, 0, sizeof(*cn));
    cn->cfg = cfg;
    cn->st = st;
    cn->cluster = cluster;
    cn->t = t;
    cn->tmp = xasprintf("%s/aofroll-cluster-XXXXXX", tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
    if (mkdtemp(cn->tmp) == NULL) {
        err_sys(e, errno, "cannot make a temp directory \"%s\"", cn->tmp);
        free(cn->tmp);
        cn->tmp = NULL;
        return -1;
    }
    return cluster_nodes_find(cn, e);
}

/* The temp directory and what SQLite or the restores left in it. */
static void cluster_remove_tmp(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *ent;

    if (d != NULL) {
        while ((ent = readdir(d)) != NULL) {
            if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
                unlinkat(dirfd(d), ent->d_name, 0);
        }
        closedir(d);
    }
    rmdir(tmp);
}

void cluster_nodes_free(struct cluster_nodes *cn)
{
    size_t i;

    for (i = 0; i < cn->n; i++) {
        struct cluster_node *n = &cn->v[i];

        if (n->idx != NULL)
            index_close(n->idx);
        free(n->instance);
        free(n->index_path);
        cluster_view_free(&n->view);
        buf_free(&n->windows);
    }
    free(cn->v);
    cn->v = NULL;
    cn->n = 0;
    if (cn->tmp != NULL) {
        cluster_remove_tmp(cn->tmp);
        free(cn->tmp);
        cn->tmp = NULL;
    }
    if (cn->local != NULL)
        index_close(cn->local);
    cn->local = NULL;
}

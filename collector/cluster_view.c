/* cluster_view.c - what a Redis Cluster node says of itself, recorded with
 * the time (common/clusterview.h says what a view holds).
 *
 * For an instance with `cluster: NAME`, the instance thread calls
 * cluster_view_step() once per loop. Every CLUSTER_VIEW_POLL_S seconds, and
 * at once after a barrier, it asks the node CLUSTER MYID, CLUSTER NODES and
 * (a replica) INFO replication: three small replies, nothing the node has
 * to compute. A view is recorded in the index when the thread starts
 * ("start"), when what the node says differs from the last view recorded
 * ("change") and after every barrier ("barrier"); the index copy in
 * storage carries the views to whoever restores (indexcopy.h). Once per
 * run the thread also stores the member object ".clusters/NAME/INSTANCE"
 * (objname.h), by which a restore on any machine finds every node's
 * archive without listing the whole storage.
 *
 * A failure here never stops the archiving: it is logged once per kind
 * (context_fail) and tried again at the next poll. */
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clusterview.h"
#include "objname.h"
#include "timeutil.h"
#include "xalloc.h"

#include "cluster_view.h"
#include "context.h"
#include "redisconn.h"

struct cluster_state {
    struct cluster_view last; /* the last view recorded (node_id "" none yet) */
    int64_t next_poll;        /* unix s */
    int64_t seen_barrier;     /* in->last_barrier when last looked at */
    int member_stored;        /* the member object was stored in this run */
    struct health h;          /* of the cluster commands */
};

/* One command, a string (or status) reply into *out (caller frees). */
static int cluster_view_ask(struct redisconn *rc, int argc, const char **argv, char **out, struct err *e)
{
    redisReply *r;
    int ret = -1;

    *out = NULL;
    if (rc->ctx == NULL)
        return err_set(e, ERR_REDIS, "not connected to redis \"%s\"", rc->where);
    r = redisCommandArgv(rc->ctx, argc, argv, NULL);
    if (r == NULL) {
        err_set(e, ERR_IO, "redis \"%s\" did not answer %s: %s", rc->where, argv[0],
                rc->ctx->errstr[0] != '\0' ? rc->ctx->errstr : "connection lost");
        redisconn_close(rc);
        return -1;
    }
    if (r->type == REDIS_REPLY_ERROR)
        err_set(e, ERR_REDIS, "redis \"%s\" refused %s %s: %s", rc->where, argv[0], argc > 1 ? argv[1] : "",
                r->str);
    else if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
        err_set(e, ERR_REDIS, "redis \"%s\" answered %s %s with no text", rc->where, argv[0],
                argc > 1 ? argv[1] : "");
    else {
        *out = xstrdup(r->str);
        ret = 0;
    }
    freeReplyObject(r);
    return ret;
}

int cluster_view_read(struct redisconn *rc, const char *cluster, struct cluster_view *v, struct err *e)
{
    const char *myid_argv[] = {"CLUSTER", "MYID"};
    const char *nodes_argv[] = {"CLUSTER", "NODES"};
    char *myid = NULL, *nodes = NULL, *info = NULL, *link = NULL;
    int ret = -1;

    if (redisconn_ensure(rc, e) < 0)
        goto out;
    if (cluster_view_ask(rc, 2, myid_argv, &myid, e) < 0 ||
        cluster_view_ask(rc, 2, nodes_argv, &nodes, e) < 0)
        goto out;
    if (cluster_view_parse_nodes(nodes, myid, v, e) < 0) {
        err_prefix(e, "redis \"%s\"", rc->where);
        goto out;
    }
    v->in_sync = 1;
    if (!v->master) {
        if (redisconn_info(rc, "replication", &info, e) < 0)
            goto out;
        link = redisconn_info_field(info, "master_link_status");
        v->in_sync = link != NULL && strcmp(link, "up") == 0;
    }
    snprintf(v->cluster, sizeof(v->cluster), "%s", cluster);
    ret = 0;
out:
    free(myid);
    free(nodes);
    free(info);
    free(link);
    return ret;
}

/* The member object, once per run. */
static int cluster_view_store_member(struct instance *in, struct err *e)
{
    char key[OBJNAME_MAX];
    char *body;
    int rc;

    if (objname_cluster_member(in->ic->cluster, in->name, key, sizeof(key)) != 0)
        return err_set(e, ERR_CONFIG, "cluster \"%s\" and instance \"%s\" cannot name an object",
                       in->ic->cluster, in->name);
    body = xasprintf("cluster %s\ninstance %s\n", in->ic->cluster, in->name);
    rc = storage_put(in->st, key, body, strlen(body), e);
    free(body);
    return rc;
}

static int cluster_view_poll(struct instance *in, struct cluster_state *cs, int64_t now, struct err *e)
{
    struct cluster_view v;
    const char *reason = NULL;
    char detail[DETAIL_MAX];
    int ret = -1;

    memset(&v, 0, sizeof(v));
    if (cluster_view_read(&in->rc, in->ic->cluster, &v, e) < 0)
        goto out;
    v.instance_id = in->instance_id;
    if (cs->last.node_id[0] == '\0')
        reason = "start";
    else if (in->last_barrier != cs->seen_barrier)
        reason = "barrier";
    else if (!cluster_view_same(&v, &cs->last))
        reason = "change";
    if (reason != NULL) {
        v.time = now;
        snprintf(v.reason, sizeof(v.reason), "%s", reason);
        if (cluster_view_add(in->idx, &v, e) < 0)
            goto out;
        if (strcmp(reason, "barrier") != 0) {
            snprintf(detail, sizeof(detail), "cluster %s: node %.8s %s%.8s, slots %s (%s)", v.cluster,
                     v.node_id, v.master ? "master" : "replica of ", v.master ? "" : v.master_id,
                     v.slots[0] ? v.slots : "none", reason);
            log_msg(in->col->log, LOG_INFO, in->name, "%s", detail);
        }
        cluster_view_free(&cs->last);
        cs->last = v;
        memset(&v, 0, sizeof(v));
    }
    cs->seen_barrier = in->last_barrier;
    if (!cs->member_stored) {
        if (cluster_view_store_member(in, e) < 0)
            goto out;
        cs->member_stored = 1;
    }
    ret = 0;
out:
    cluster_view_free(&v);
    return ret;
}

void cluster_view_step(struct instance *in)
{
    struct cluster_state *cs = in->cluster;
    int64_t now = time_now();
    struct err e;

    if (in->ic->cluster == NULL || in->idx == NULL)
        return;
    if (cs == NULL) {
        cs = in->cluster = xcalloc(1, sizeof(*cs));
        cs->seen_barrier = in->last_barrier;
    }
    if (now < cs->next_poll && in->last_barrier == cs->seen_barrier)
        return;
    cs->next_poll = now + CLUSTER_VIEW_POLL_S;
    err_clear(&e);
    if (cluster_view_poll(in, cs, now, &e) < 0)
        context_fail(in, &cs->h, "cluster view", &e);
    else
        context_recover(in, &cs->h, "cluster view");
}

void cluster_view_end(struct instance *in)
{
    if (in->cluster == NULL)
        return;
    cluster_view_free(&in->cluster->last);
    free(in->cluster);
    in->cluster = NULL;
}

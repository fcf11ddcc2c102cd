/* cluster_plan.c - who owned each slot at T and which archive restores
 * each shard (see cluster_plan.h). Pure: views in, a plan or a refusal
 * out; tests/test_cluster_plan.c covers both outcomes of every branch. */
#include "cluster_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "timeutil.h"
#include "xalloc.h"

#define NO_OWNER ((size_t)-1)

static int slot_has(const unsigned char *bits, size_t s)
{
    return (bits[s / 8] >> (s % 8)) & 1u;
}

/* The ranges of slots with owner[s] == want, as text. */
static char *owner_ranges(const size_t *owner, size_t want)
{
    unsigned char *bits = xcalloc(CLUSTER_SLOTS / 8, 1);
    struct buf b = BUF_INIT;
    char *text;
    size_t s;

    for (s = 0; s < CLUSTER_SLOTS; s++) {
        if (owner[s] == want)
            bits[s / 8] |= (unsigned char)(1u << (s % 8));
    }
    cluster_slots_format(bits, &b);
    text = xstrdup(b.len ? b.data : "");
    buf_free(&b);
    free(bits);
    return text;
}

/* Step 1: owner[s] = index of the master that owns slot s. */
static int plan_owners(const struct plan_node *nodes, size_t n, const char *cluster, int64_t t, size_t *owner,
                       struct err *e)
{
    unsigned char *bits = xcalloc(CLUSTER_SLOTS / 8, 1);
    char when[TIME_BUFSZ];
    size_t i, s;
    int ret = -1;

    time_format_utc(t, when, sizeof(when));
    for (s = 0; s < CLUSTER_SLOTS; s++)
        owner[s] = NO_OWNER;
    for (i = 0; i < n; i++) {
        const struct cluster_view *v = nodes[i].view;

        if (!nodes[i].has_view || !v->master || v->slots == NULL || v->slots[0] == '\0')
            continue;
        memset(bits, 0, CLUSTER_SLOTS / 8);
        if (cluster_slots_parse(v->slots, bits, e) < 0) {
            err_prefix(e, "the view of instance \"%s\"", nodes[i].instance);
            goto out;
        }
        for (s = 0; s < CLUSTER_SLOTS; s++) {
            const struct cluster_view *o;

            if (!slot_has(bits, s))
                continue;
            if (owner[s] == NO_OWNER) {
                owner[s] = i;
                continue;
            }
            o = nodes[owner[s]].view;
            if (strcmp(o->node_id, v->node_id) == 0)
                continue; /* one node archived twice */
            if (o->config_epoch == v->config_epoch) {
                err_set(e, ERR_CORRUPT,
                        "cluster \"%s\" at %s: slot %zu is claimed by node %s (instance \"%s\") and node %s "
                        "(instance \"%s\") with the same config epoch %lld",
                        cluster, when, s, o->node_id, nodes[owner[s]].instance, v->node_id, nodes[i].instance,
                        (long long)v->config_epoch);
                goto out;
            }
            if (v->config_epoch > o->config_epoch)
                owner[s] = i;
        }
    }
    for (s = 0; s < CLUSTER_SLOTS; s++) {
        if (owner[s] == NO_OWNER) {
            char *missing = owner_ranges(owner, NO_OWNER);

            err_set(e, ERR_NOTFOUND,
                    "cluster \"%s\" at %s: no recorded view has a master owning slots %s. HINT: every node "
                    "needs a collector with \"cluster: %s\" that recorded a view at or before that second",
                    cluster, when, missing, cluster);
            free(missing);
            goto out;
        }
    }
    ret = 0;
out:
    free(bits);
    return ret;
}

static int shard_cmp(const void *a, const void *b)
{
    const struct plan_shard *x = a, *y = b;
    size_t s;

    for (s = 0; s < CLUSTER_SLOTS; s++) {
        int hx = slot_has(x->slots, s), hy = slot_has(y->slots, s);

        if (hx != hy)
            return hx ? -1 : 1;
        if (hx)
            return 0;
    }
    return 0;
}

/* Step 2: the archive that restores shard `sh`, or a refusal. */
static int plan_source(const struct plan_node *nodes, size_t n, const char *cluster, int64_t t,
                       struct plan_shard *sh, struct err *e)
{
    const struct plan_node *m = &nodes[sh->owner];
    struct buf why = BUF_INIT;
    char when[TIME_BUFSZ];
    size_t i, best = NO_OWNER;

    if (m->covers) {
        sh->source = sh->owner;
        return 0;
    }
    for (i = 0; i < n; i++) {
        const struct cluster_view *v = nodes[i].view;

        if (!nodes[i].has_view || v->master || strcmp(v->master_id, sh->master_id) != 0)
            continue;
        if (nodes[i].covers && v->in_sync &&
            (best == NO_OWNER || strcmp(nodes[i].instance, nodes[best].instance) < 0))
            best = i;
        buf_printf(&why, "; replica \"%s\"%s restores %s", nodes[i].instance,
                   v->in_sync ? "" : " (not in sync)", nodes[i].windows[0] ? nodes[i].windows : "nothing");
    }
    if (best != NO_OWNER) {
        sh->source = best;
        sh->from_replica = 1;
        buf_free(&why);
        return 0;
    }
    time_format_utc(t, when, sizeof(when));
    err_set(e, ERR_NOTFOUND,
            "cluster \"%s\": no archive restores %s for the shard of slots %s (master node %s): its master "
            "\"%s\" restores %s%s",
            cluster, when, sh->slots_text, sh->master_id, m->instance, m->windows[0] ? m->windows : "nothing",
            why.len ? why.data : "; no replica of it is archived");
    buf_free(&why);
    return -1;
}

int cluster_plan(const struct plan_node *nodes, size_t n, const char *cluster, int64_t t,
                 struct plan_shard **out, size_t *nout, struct err *e)
{
    size_t *owner = xcalloc(CLUSTER_SLOTS, sizeof(*owner));
    struct plan_shard *sh = NULL;
    size_t nsh = 0, i, s;
    int ret = -1;

    *out = NULL;
    *nout = 0;
    if (plan_owners(nodes, n, cluster, t, owner, e) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        struct plan_shard *p;
        struct buf b = BUF_INIT;

        for (s = 0; s < CLUSTER_SLOTS && owner[s] != i; s++)
            ;
        if (s == CLUSTER_SLOTS)
            continue;
        sh = xrealloc(sh, (nsh + 1) * sizeof(*sh));
        p = &sh[nsh++];
        memset(p, 0, sizeof(*p));
        snprintf(p->master_id, sizeof(p->master_id), "%s", nodes[i].view->node_id);
        p->owner = i;
        for (s = 0; s < CLUSTER_SLOTS; s++) {
            if (owner[s] == i) {
                p->slots[s / 8] |= (unsigned char)(1u << (s % 8));
                p->nslots++;
            }
        }
        cluster_slots_format(p->slots, &b);
        p->slots_text = xstrdup(b.data);
        buf_free(&b);
    }
    qsort(sh, nsh, sizeof(*sh), shard_cmp);
    for (i = 0; i < nsh; i++) {
        if (plan_source(nodes, n, cluster, t, &sh[i], e) < 0)
            goto out;
    }
    *out = sh;
    *nout = nsh;
    sh = NULL;
    ret = 0;
out:
    cluster_plan_free(sh, nsh);
    free(owner);
    return ret;
}

void cluster_plan_free(struct plan_shard *s, size_t n)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < n; i++)
        free(s[i].slots_text);
    free(s);
}

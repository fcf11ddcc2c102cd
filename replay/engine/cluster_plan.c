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

#define NO_OWNER PLAN_NO_NODE

static int slot_has(const unsigned char *bits, size_t s)
{
    return (bits[s / 8] >> (s % 8)) & 1u;
}

/* Who claims a slot, as far as the views tell. */
struct claim {
    char id[CLUSTER_NODE_ID_LEN + 1]; /* "" none */
    int64_t epoch;
    int64_t time; /* of the view that says so */
    int own;      /* the node's own word on itself */
    size_t from;  /* nodes[] index of the view */
};

/* Record a claim on every slot of `slots` (ERR_CORRUPT on a bad range):
 * the higher config epoch wins; at the same epoch a node's own word
 * wins over what another node's table says of it, then the newer view;
 * two own words of two nodes at one epoch and time are refused. */
static int plan_claim(struct claim *c, const char *slots, const char *id, int64_t epoch, int64_t time,
                      int own, size_t from, const struct plan_node *nodes, const char *cluster,
                      const char *when, unsigned char *bits, struct err *e)
{
    size_t s;

    memset(bits, 0, CLUSTER_SLOTS / 8);
    if (cluster_slots_parse(slots, bits, e) < 0) {
        err_prefix(e, "the view of instance \"%s\"", nodes[from].instance);
        return -1;
    }
    for (s = 0; s < CLUSTER_SLOTS; s++) {
        struct claim *o = &c[s];
        int take;

        if (!slot_has(bits, s))
            continue;
        if (o->id[0] == '\0' || strcmp(o->id, id) == 0)
            take = o->id[0] == '\0' || epoch > o->epoch || (epoch == o->epoch && own >= o->own);
        else if (epoch != o->epoch)
            take = epoch > o->epoch;
        else if (own != o->own)
            take = own;
        else if (time != o->time)
            take = time > o->time;
        else
            return err_set(
                e, ERR_CORRUPT,
                "cluster \"%s\" at %s: slot %zu is claimed by node %s (instance \"%s\") and node %s "
                "(instance \"%s\") with the same config epoch %lld",
                cluster, when, s, o->id, nodes[o->from].instance, id, nodes[from].instance, (long long)epoch);
        if (take) {
            snprintf(o->id, sizeof(o->id), "%s", id);
            o->epoch = epoch;
            o->time = time;
            o->own = own;
            o->from = from;
        }
    }
    return 0;
}

/* The masters of a view's table of every node ("ID ROLE MASTER EPOCH
 * SLOTS..."), each a claim on its slots. */
static int plan_claim_table(struct claim *c, const struct plan_node *nodes, size_t from, const char *cluster,
                            const char *when, unsigned char *bits, struct err *e)
{
    const struct cluster_view *v = nodes[from].view;
    const char *p = v->nodes != NULL ? v->nodes : "";
    struct buf slots = BUF_INIT;
    int ret = 0;

    while (*p != '\0' && ret == 0) {
        size_t len = strcspn(p, "\n"), nf = 0;
        char *line = xstrndup(p, len), *save = NULL, *tok, *id = NULL, *role = NULL;
        long long epoch = -1;

        buf_reset(&slots);
        for (tok = strtok_r(line, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save), nf++) {
            if (nf == 0)
                id = tok;
            else if (nf == 1)
                role = tok;
            else if (nf == 3)
                epoch = strtoll(tok, NULL, 10);
            else if (nf >= 4 && tok[0] != '[' && strcmp(tok, "-") != 0)
                buf_printf(&slots, "%s%s", slots.len ? " " : "", tok);
        }
        if (id != NULL && role != NULL && strncmp(role, "master", 6) == 0 && epoch >= 0 && slots.len > 0 &&
            strlen(id) == CLUSTER_NODE_ID_LEN)
            ret = plan_claim(c, slots.data, id, epoch, v->time, strcmp(id, v->node_id) == 0, from, nodes,
                             cluster, when, bits, e);
        free(line);
        p += len;
        if (*p == '\n')
            p++;
    }
    buf_free(&slots);
    return ret;
}

/* Step 1: claims[s] = the master that owns slot s. */
static int plan_owners(const struct plan_node *nodes, size_t n, const char *cluster, int64_t t,
                       struct claim *c, struct err *e)
{
    unsigned char *bits = xcalloc(CLUSTER_SLOTS / 8, 1);
    char when[TIME_BUFSZ];
    size_t i, s;
    int ret = -1;

    time_format_utc(t, when, sizeof(when));
    for (i = 0; i < n; i++) {
        const struct cluster_view *v = nodes[i].view;

        if (!nodes[i].has_view)
            continue;
        if (v->master && v->slots != NULL && v->slots[0] != '\0' &&
            plan_claim(c, v->slots, v->node_id, v->config_epoch, v->time, 1, i, nodes, cluster, when, bits,
                       e) < 0)
            goto out;
        if (plan_claim_table(c, nodes, i, cluster, when, bits, e) < 0)
            goto out;
    }
    memset(bits, 0, CLUSTER_SLOTS / 8);
    for (s = 0; s < CLUSTER_SLOTS; s++) {
        if (c[s].id[0] == '\0')
            bits[s / 8] |= (unsigned char)(1u << (s % 8));
    }
    for (s = 0; s < CLUSTER_SLOTS; s++) {
        if (c[s].id[0] == '\0') {
            struct buf missing = BUF_INIT;

            cluster_slots_format(bits, &missing);
            err_set(e, ERR_NOTFOUND,
                    "cluster \"%s\" at %s: no recorded view has a master owning slots %s. HINT: every node "
                    "needs a collector with \"cluster: %s\" that recorded a view at or before that second",
                    cluster, when, missing.data, cluster);
            buf_free(&missing);
            goto out;
        }
    }
    ret = 0;
out:
    free(bits);
    return ret;
}

/* Step 2: the archive that restores shard `sh`, or a refusal. */
static int plan_source(const struct plan_node *nodes, size_t n, const char *cluster, int64_t t,
                       struct plan_shard *sh, struct err *e)
{
    struct buf why = BUF_INIT, master = BUF_INIT;
    char when[TIME_BUFSZ];
    size_t i, best = NO_OWNER;

    if (sh->owner != NO_OWNER && nodes[sh->owner].covers) {
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
    if (sh->owner != NO_OWNER)
        buf_printf(&master, "its master \"%s\" restores %s", nodes[sh->owner].instance,
                   nodes[sh->owner].windows[0] ? nodes[sh->owner].windows : "nothing");
    else
        buf_printf(&master, "its master is not archived, or recorded no view of itself by then");
    time_format_utc(t, when, sizeof(when));
    err_set(e, ERR_NOTFOUND,
            "cluster \"%s\": no archive restores %s for the shard of slots %s (master node %s): %s%s",
            cluster, when, sh->slots_text, sh->master_id, master.data,
            why.len ? why.data : "; no replica of it is archived");
    buf_free(&why);
    buf_free(&master);
    return -1;
}

int cluster_plan(const struct plan_node *nodes, size_t n, const char *cluster, int64_t t,
                 struct plan_shard **out, size_t *nout, struct err *e)
{
    struct claim *c = xcalloc(CLUSTER_SLOTS, sizeof(*c));
    struct plan_shard *sh = NULL;
    size_t nsh = 0, i, s, k;
    int ret = -1;

    *out = NULL;
    *nout = 0;
    if (plan_owners(nodes, n, cluster, t, c, e) < 0)
        goto out;
    for (s = 0; s < CLUSTER_SLOTS; s++) {
        for (k = 0; k < nsh && strcmp(sh[k].master_id, c[s].id) != 0; k++)
            ;
        if (k == nsh) {
            sh = xrealloc(sh, (nsh + 1) * sizeof(*sh));
            memset(&sh[nsh], 0, sizeof(sh[nsh]));
            snprintf(sh[nsh].master_id, sizeof(sh[nsh].master_id), "%s", c[s].id);
            sh[nsh].owner = NO_OWNER;
            for (i = 0; i < n; i++) {
                if (nodes[i].has_view && strcmp(nodes[i].view->node_id, c[s].id) == 0)
                    sh[nsh].owner = i;
            }
            nsh++;
        }
        sh[k].slots[s / 8] |= (unsigned char)(1u << (s % 8));
        sh[k].nslots++;
    }
    for (k = 0; k < nsh; k++) {
        struct buf b = BUF_INIT;

        cluster_slots_format(sh[k].slots, &b);
        sh[k].slots_text = xstrdup(b.data);
        buf_free(&b);
    }
    /* in order of their lowest slot already: slots were walked in order */
    for (k = 0; k < nsh; k++) {
        if (plan_source(nodes, n, cluster, t, &sh[k], e) < 0)
            goto out;
    }
    *out = sh;
    *nout = nsh;
    sh = NULL;
    ret = 0;
out:
    cluster_plan_free(sh, nsh);
    free(c);
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

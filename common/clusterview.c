/* clusterview.c - a Redis Cluster node's views: parsing CLUSTER NODES,
 * slot ranges, and the index's cluster_views table (see clusterview.h).
 *
 * Sections: views, CLUSTER NODES, slot ranges, the table. */
#include "clusterview.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* ------------------------------------------------------------------------
 * Views
 * --------------------------------------------------------------------- */

void cluster_view_free(struct cluster_view *v)
{
    free(v->slots);
    free(v->nodes);
    v->slots = NULL;
    v->nodes = NULL;
}

static int str_same(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

int cluster_view_same(const struct cluster_view *a, const struct cluster_view *b)
{
    return strcmp(a->cluster, b->cluster) == 0 && strcmp(a->node_id, b->node_id) == 0 &&
           a->master == b->master && strcmp(a->master_id, b->master_id) == 0 &&
           a->config_epoch == b->config_epoch && str_same(a->slots, b->slots) && a->in_sync == b->in_sync &&
           str_same(a->nodes, b->nodes);
}

/* ------------------------------------------------------------------------
 * CLUSTER NODES
 *
 * One line per node: ID ADDR FLAGS MASTER PING PONG EPOCH LINK SLOT...
 * where FLAGS is a comma list (myself, master, slave, fail, fail?,
 * handshake, noaddr, ...), MASTER "-" or an id, and a SLOT "N", "N-M",
 * "[N->-ID]" (migrating) or "[N-<-ID]" (importing).
 * --------------------------------------------------------------------- */

#define NODES_MAX_FIELDS 8

struct node_line {
    char id[CLUSTER_NODE_ID_LEN + 1];
    int master, myself, failed, skip;
    char master_id[CLUSTER_NODE_ID_LEN + 1];
    int64_t epoch;
    struct buf slots;  /* plain ranges */
    struct buf moving; /* bracketed entries */
};

static int flag_has(const char *flags, const char *word)
{
    size_t n = strlen(word);
    const char *p = flags;

    while (*p != '\0') {
        size_t len = strcspn(p, ",");

        if (len == n && strncmp(p, word, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int node_id_valid(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return i == CLUSTER_NODE_ID_LEN;
}

/* Split one line into n->...; ERR_REDIS naming the line number. */
static int nodes_line(char *line, size_t lineno, struct node_line *n, struct err *e)
{
    char *field[NODES_MAX_FIELDS];
    char *save = NULL, *tok, *end = NULL;
    size_t nf = 0;
    long long epoch;

    for (tok = strtok_r(line, " ", &save); tok != NULL && nf < NODES_MAX_FIELDS;
         tok = strtok_r(NULL, " ", &save))
        field[nf++] = tok;
    if (nf < NODES_MAX_FIELDS || !node_id_valid(field[0]) ||
        (strcmp(field[3], "-") != 0 && !node_id_valid(field[3])))
        return err_set(e, ERR_REDIS,
                       "CLUSTER NODES line %zu is not \"ID ADDR FLAGS MASTER PING PONG EPOCH LINK "
                       "SLOT...\"",
                       lineno);
    errno = 0;
    epoch = strtoll(field[6], &end, 10);
    if (errno != 0 || end == field[6] || *end != '\0' || epoch < 0)
        return err_set(e, ERR_REDIS, "CLUSTER NODES line %zu: config epoch \"%s\" is not a number", lineno,
                       field[6]);
    snprintf(n->id, sizeof(n->id), "%s", field[0]);
    n->myself = flag_has(field[2], "myself");
    n->master = flag_has(field[2], "master");
    n->failed = flag_has(field[2], "fail");
    n->skip = flag_has(field[2], "handshake") || flag_has(field[2], "noaddr");
    snprintf(n->master_id, sizeof(n->master_id), "%s", strcmp(field[3], "-") == 0 ? "" : field[3]);
    n->epoch = epoch;
    for (; tok != NULL; tok = strtok_r(NULL, " ", &save)) {
        struct buf *to = tok[0] == '[' ? &n->moving : &n->slots;

        buf_printf(to, "%s%s", to->len ? " " : "", tok);
    }
    if (n->slots.len > 0) {
        unsigned char *bits = xcalloc(CLUSTER_SLOTS / 8, 1);
        int rc = cluster_slots_parse(n->slots.data, bits, e);

        free(bits);
        if (rc < 0) {
            err_prefix(e, "CLUSTER NODES line %zu", lineno);
            return -1;
        }
    }
    return 0;
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cluster_view_parse_nodes(const char *text, const char *myid, struct cluster_view *v, struct err *e)
{
    char *copy = xstrdup(text), *save = NULL, *line;
    struct node_line *nodes = NULL;
    char **lines = NULL;
    size_t n = 0, cap = 0, i, lineno = 0;
    struct node_line *me = NULL;
    struct buf all = BUF_INIT;
    int ret = -1;

    for (line = strtok_r(copy, "\r\n", &save); line != NULL; line = strtok_r(NULL, "\r\n", &save)) {
        lineno++;
        if (line[0] == '\0')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            nodes = xrealloc(nodes, cap * sizeof(*nodes));
        }
        memset(&nodes[n], 0, sizeof(nodes[n]));
        nodes[n].slots = (struct buf)BUF_INIT;
        nodes[n].moving = (struct buf)BUF_INIT;
        n++;
        if (nodes_line(line, lineno, &nodes[n - 1], e) < 0)
            goto out;
    }
    for (i = 0; i < n; i++) {
        if (myid != NULL ? strcmp(nodes[i].id, myid) == 0 : nodes[i].myself)
            me = &nodes[i];
    }
    if (me == NULL) {
        err_set(e, ERR_REDIS, "CLUSTER NODES does not list the node itself (%s)",
                myid != NULL ? myid : "myself");
        goto out;
    }
    snprintf(v->node_id, sizeof(v->node_id), "%s", me->id);
    v->master = me->master;
    snprintf(v->master_id, sizeof(v->master_id), "%s", me->master ? "" : me->master_id);
    v->config_epoch = me->epoch;
    free(v->slots);
    v->slots = NULL;
    if (me->master) {
        v->slots = xstrdup(me->slots.len ? me->slots.data : "");
    } else {
        for (i = 0; i < n; i++) {
            if (strcmp(nodes[i].id, me->master_id) == 0)
                v->slots = xstrdup(nodes[i].slots.len ? nodes[i].slots.data : "");
        }
        if (v->slots == NULL)
            v->slots = xstrdup("");
    }
    lines = xcalloc(n ? n : 1, sizeof(*lines));
    for (i = 0; i < n; i++) {
        const struct node_line *nl = &nodes[i];

        lines[i] = xasprintf("%s %s%s %s %lld %s%s%s", nl->id, nl->master ? "master" : "replica",
                             nl->failed ? ",fail"
                             : nl->skip ? ",handshake"
                                        : "",
                             nl->master_id[0] ? nl->master_id : "-", (long long)nl->epoch,
                             nl->slots.len ? nl->slots.data : "-", nl->moving.len ? " " : "",
                             nl->moving.len ? nl->moving.data : "");
    }
    qsort(lines, n, sizeof(*lines), line_cmp);
    for (i = 0; i < n; i++)
        buf_printf(&all, "%s\n", lines[i]);
    free(v->nodes);
    v->nodes = xstrdup(all.len ? all.data : "");
    ret = 0;
out:
    for (i = 0; i < n; i++) {
        buf_free(&nodes[i].slots);
        buf_free(&nodes[i].moving);
        if (lines != NULL)
            free(lines[i]);
    }
    free(lines);
    free(nodes);
    free(copy);
    buf_free(&all);
    return ret;
}

/* ------------------------------------------------------------------------
 * Slot ranges
 * --------------------------------------------------------------------- */

static int slot_number(const char *s, size_t len, long *out)
{
    long v = 0;
    size_t i;

    if (len == 0 || len > 5)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v >= CLUSTER_SLOTS)
        return -1;
    *out = v;
    return 0;
}

int cluster_slots_parse(const char *text, unsigned char bits[CLUSTER_SLOTS / 8], struct err *e)
{
    const char *p = text;

    while (*p != '\0') {
        size_t len = strcspn(p, " ");
        const char *dash = memchr(p, '-', len);
        long lo = 0, hi = 0, s;

        if (len == 0) {
            p++;
            continue;
        }
        int bad;

        if (dash == NULL) {
            bad = slot_number(p, len, &lo) < 0;
            hi = lo;
        } else {
            bad = slot_number(p, (size_t)(dash - p), &lo) < 0 ||
                  slot_number(dash + 1, len - (size_t)(dash - p) - 1, &hi) < 0 || hi < lo;
        }
        if (bad)
            return err_set(e, ERR_CORRUPT, "slot range \"%.*s\" is not N or N-M with 0 <= N <= M < %d",
                           (int)len, p, CLUSTER_SLOTS);
        for (s = lo; s <= hi; s++)
            bits[s / 8] |= (unsigned char)(1u << (s % 8));
        p += len;
    }
    return 0;
}

void cluster_slots_format(const unsigned char bits[CLUSTER_SLOTS / 8], struct buf *out)
{
    int s = 0, first = 1;

    while (s < CLUSTER_SLOTS) {
        int lo;

        if (!(bits[s / 8] & (1u << (s % 8)))) {
            s++;
            continue;
        }
        lo = s;
        while (s + 1 < CLUSTER_SLOTS && (bits[(s + 1) / 8] & (1u << ((s + 1) % 8))))
            s++;
        if (lo == s)
            buf_printf(out, "%s%d", first ? "" : " ", lo);
        else
            buf_printf(out, "%s%d-%d", first ? "" : " ", lo, s);
        first = 0;
        s++;
    }
}

/* ------------------------------------------------------------------------
 * The table
 * --------------------------------------------------------------------- */

#define VIEW_COLS                                                                                            \
    "instance_id, cluster, time, reason, node_id, role, master_id, config_epoch, slots, in_sync, nodes"

static int view_fail(struct index *idx, struct err *e, const char *what)
{
    sqlite3 *db = index_sqlite(idx);

    return err_set(e, (sqlite3_errcode(db) & 0xff) == SQLITE_CORRUPT ? ERR_CORRUPT : ERR_IO,
                   "index \"%s\": %s: %s", index_path(idx), what, sqlite3_errmsg(db));
}

static int view_prepare(struct index *idx, const char *sql, sqlite3_stmt **st, struct err *e)
{
    if (sqlite3_prepare_v2(index_sqlite(idx), sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return view_fail(idx, e, "preparing a cluster view statement");
    }
    return 0;
}

static void view_text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    snprintf(dst, n, "%s", s != NULL ? (const char *)s : "");
}

static char *view_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return xstrdup(s != NULL ? (const char *)s : "");
}

static void view_read(sqlite3_stmt *st, struct cluster_view *v)
{
    const unsigned char *role = sqlite3_column_text(st, 5);

    memset(v, 0, sizeof(*v));
    v->instance_id = sqlite3_column_int64(st, 0);
    view_text(st, 1, v->cluster, sizeof(v->cluster));
    v->time = sqlite3_column_int64(st, 2);
    view_text(st, 3, v->reason, sizeof(v->reason));
    view_text(st, 4, v->node_id, sizeof(v->node_id));
    v->master = role != NULL && strcmp((const char *)role, "master") == 0;
    view_text(st, 6, v->master_id, sizeof(v->master_id));
    v->config_epoch = sqlite3_column_int64(st, 7);
    v->slots = view_dup(st, 8);
    v->in_sync = sqlite3_column_int(st, 9);
    v->nodes = view_dup(st, 10);
}

int cluster_view_add(struct index *idx, const struct cluster_view *v, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int ret = -1;

    if (view_prepare(idx,
                     "INSERT INTO cluster_views(" VIEW_COLS
                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                     &st, e) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, v->instance_id);
    sqlite3_bind_text(st, 2, v->cluster, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, v->time);
    sqlite3_bind_text(st, 4, v->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, v->node_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, v->master ? "master" : "replica", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, v->master_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, v->config_epoch);
    sqlite3_bind_text(st, 9, v->slots != NULL ? v->slots : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, v->in_sync ? 1 : 0);
    sqlite3_bind_text(st, 11, v->nodes != NULL ? v->nodes : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        view_fail(idx, e, "adding a cluster view");
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(st);
    return ret;
}

/* The views of (instance, cluster) that `tail` selects ("AND time <= ?3
 * ..."; ?3 and ?4 are a and b), prepared and bound. */
static int views_select(struct index *idx, const char *tail, int64_t instance_id, const char *cluster,
                        int64_t a, int64_t b, sqlite3_stmt **st, struct err *e)
{
    char sql[512];

    snprintf(sql, sizeof(sql), "SELECT %s FROM cluster_views WHERE instance_id = ?1 AND cluster = ?2 %s",
             VIEW_COLS, tail);
    if (view_prepare(idx, sql, st, e) < 0)
        return -1;
    sqlite3_bind_int64(*st, 1, instance_id);
    sqlite3_bind_text(*st, 2, cluster, -1, SQLITE_STATIC);
    sqlite3_bind_int64(*st, 3, a);
    if (sqlite3_bind_parameter_count(*st) >= 4)
        sqlite3_bind_int64(*st, 4, b);
    return 0;
}

int cluster_view_at(struct index *idx, int64_t instance_id, const char *cluster, int64_t t,
                    struct cluster_view *v, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc, ret = -1;

    cluster_view_free(v);
    if (views_select(idx, "AND time <= ?3 ORDER BY time DESC, id DESC LIMIT 1", instance_id, cluster, t, 0,
                     &st, e) < 0)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        view_read(st, v);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        err_set(e, ERR_NOTFOUND, "no view of cluster \"%s\" for instance %lld in index \"%s\"", cluster,
                (long long)instance_id, index_path(idx));
    } else {
        view_fail(idx, e, "reading a cluster view");
    }
    sqlite3_finalize(st);
    return ret;
}

int cluster_view_list(struct index *idx, int64_t instance_id, const char *cluster, int64_t since,
                      int64_t until, int (*cb)(void *ud, const struct cluster_view *v), void *ud,
                      struct err *e)
{
    sqlite3_stmt *st = NULL;
    struct cluster_view v;
    int rc, ret = 0;

    if (views_select(idx, "AND time >= ?3 AND time <= ?4 ORDER BY time, id", instance_id, cluster, since,
                     until, &st, e) < 0)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int stop;

        view_read(st, &v);
        stop = cb(ud, &v);
        cluster_view_free(&v);
        if (stop)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = view_fail(idx, e, "listing cluster views");
    sqlite3_finalize(st);
    return ret;
}

int cluster_view_instances(struct index *idx, const char *cluster,
                           int (*cb)(void *ud, int64_t id, const char *name), void *ud, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc, ret = 0;

    if (view_prepare(idx,
                     "SELECT i.id, i.name FROM instances i WHERE EXISTS (SELECT 1 FROM cluster_views v "
                     "WHERE v.cluster = ?1 AND v.instance_id = i.id) ORDER BY i.name",
                     &st, e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, cluster, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cb(ud, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1)) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = view_fail(idx, e, "listing the instances of a cluster");
    sqlite3_finalize(st);
    return ret;
}

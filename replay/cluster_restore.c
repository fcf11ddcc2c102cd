/* cluster_restore.c - `aofroll restore --cluster NAME`: every shard of a
 * Redis Cluster back to the same second (docs/cluster.md).
 *
 *   aofroll restore -c FILE --cluster NAME --to TIME --out DIR [--start --port N]
 *
 * 1. The nodes and their archives (cluster_nodes.c): each node's newest
 *    view at or before TIME and whether its archive restores TIME.
 * 2. cluster_plan.c decides who owned each slot and which archive
 *    restores each shard, or refuses.
 * 3. Each shard is restored by the single-instance restore itself (the
 *    same cut rules), run as `aofroll restore --instance I --index IDX
 *    --to @TIME --out DIR/shard-K`, all shards at once (up to the number of
 *    CPUs): they fetch and decode in parallel.
 * 4. Keys a shard holds in slots another shard owned at TIME (a slot
 *    moving then) are moved to the owner, and keys MIGRATE'd across the
 *    cut that no shard holds (cluster_inflight.c) are restored on it: by
 *    the started cluster with --start; without it, when the views say
 *    slots were moving at TIME or a key was in flight, by a sweep on
 *    servers started for it (cluster_start.c).
 * 5. DIR/cluster.json: the shards, their slots, the node and instance each
 *    was restored from, the cut (time, offset, kind), what was left out,
 *    the keys moved to their owners, and the difference between the
 *    node's "#TS:" seconds and the collector's clock when it saw them;
 *    DIR/START.txt says how to start the cluster; with --start,
 *    cluster_start.c starts it.
 *
 * DIR must be empty (or absent). When any shard fails, every shard
 * directory written is removed again and DIR is left as it was. */
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
#include "cluster_plan.h"
#include "clusterview.h"
#include "commands.h"
#include "json.h"
#include "objname.h"
#include "opt.h"
#include "outdir.h"
#include "position.h"
#include "timeutil.h"
#include "xalloc.h"

#define CLUSTER_JSON "cluster.json"
#define CLUSTER_START_TXT "START.txt"
#define SKEW_WINDOW_S 300 /* chunks this close to the cut measure the clock difference */

struct shard_run {
    char dir[32]; /* "shard-1" */
    char *out;    /* DIR/shard-1 */
    char *log;    /* the restore's stdout */
    char *errlog; /* its stderr */
    pid_t pid;
    int status; /* exit status, -1 not run */
    struct position pos;
    int have_pos;
    struct buf left_out; /* the restore's lines about what it left out, as JSON strings */
    int64_t skew_min, skew_max;
    size_t skew_samples;
    struct cluster_stray stray; /* what it held outside its slots, moved to the owners */
};

struct cluster_restore {
    struct cluster_opts o;
    int64_t to;
    struct config cfg;
    int have_cfg;
    struct storage *st;
    struct cluster_nodes nodes; /* nodes.tmp also holds the shard restores' output */
    int have_nodes;
    struct plan_shard *plan;
    size_t nplan;
    struct shard_run *runs;
    struct outdir dir;
    int dir_ready;                    /* DIR was checked empty: shard directories in it are ours */
    const char *stray_check;          /* how keys outside their shard's slots were looked for */
    struct cluster_inflight inflight; /* keys MIGRATE'd across the cut (cluster_inflight.c) */
    size_t inflight_restored, inflight_held;
    unsigned char *inflight_done; /* per key in flight: restored */
};

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

int cluster_wanted(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--cluster") == 0 || strncmp(argv[i], "--cluster=", 10) == 0)
            return 1;
    }
    return 0;
}

/* The options restore takes with --cluster (cmd_restore_options lists
 * them all for --help; any other is refused here). */
static const struct opt cluster_restore_options[] = {
    CLI_OPT_CONFIG(struct cluster_opts, "configuration file"),
    {.name = "cluster", .kind = OPT_STRING, .off = offsetof(struct cluster_opts, cluster), .arg = "NAME"},
    {.name = "to", .kind = OPT_STRING, .off = offsetof(struct cluster_opts, to), .arg = "TIME"},
    {.name = "out", .kind = OPT_STRING, .off = offsetof(struct cluster_opts, out), .arg = "DIR"},
    {.name = "start", .kind = OPT_FLAG, .off = offsetof(struct cluster_opts, start)},
    {.name = "port",
     .kind = OPT_LONG,
     .off = offsetof(struct cluster_opts, port),
     .min = 1,
     .max = 65535 - CLUSTER_BUS_OFFSET,
     .arg = "N"},
    CLI_OPT_HELP,
    {0},
};

static int cluster_parse_args(struct cluster_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    o->port = -1;
    rc = opt_parse(cluster_restore_options, argc, argv, o, NULL, e);
    if (rc != 0) {
        if (rc < 0 && e->code == ERR_USAGE && strstr(e->msg, "unknown option") != NULL)
            err_prefix(e, "with --cluster");
        return rc;
    }
    if (cli_require(o->config, "-c FILE", e) < 0 || cli_require(o->cluster, "--cluster NAME", e) < 0 ||
        cli_require(o->to, "--to TIME", e) < 0 || cli_require(o->out, "--out DIR", e) < 0)
        return -1;
    if (!objname_valid_instance(o->cluster))
        return err_set(e, ERR_USAGE,
                       "--cluster \"%s\": expected letters, digits, '.', '_' or '-', not starting with '.'",
                       o->cluster);
    if (o->start && o->port < 0)
        return err_set(e, ERR_USAGE, "--start needs --port N");
    if (!o->start && o->port >= 0)
        return err_set(e, ERR_USAGE, "--port is for --start");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Restoring the shards                                                 */
/* ------------------------------------------------------------------ */

static int cluster_self(char *buf, size_t n, struct err *e)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);

    if (len < 0)
        return err_sys(e, errno, "cannot find this program (/proc/self/exe)");
    buf[len] = '\0';
    return 0;
}

/* Start the single-instance restore of shard k. */
static int cluster_spawn(struct cluster_restore *cr, size_t k, const char *self, struct err *e)
{
    struct shard_run *r = &cr->runs[k];
    const struct cluster_node *src = &cr->nodes.v[cr->plan[k].source];
    char to[32];
    pid_t pid;

    snprintf(to, sizeof(to), "@%lld", (long long)cr->to);
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return err_sys(e, errno, "cannot fork the restore of %s", r->dir);
    if (pid == 0) {
        const char *argv[] = {self,      "restore",       "-c",   cr->cfg.path, "--instance", src->instance,
                              "--index", src->index_path, "--to", to,           "--out",      r->out,
                              NULL};
        int out = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int err = open(r->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
            _exit(CLI_EXIT_FAIL);
        execv(self, (char *const *)argv);
        _exit(CLI_EXIT_FAIL);
    }
    r->pid = pid;
    return 0;
}

static int cluster_wait_one(struct cluster_restore *cr, struct err *e)
{
    int status;
    pid_t pid;
    size_t k;

    do {
        pid = waitpid(-1, &status, 0);
    } while (pid < 0 && errno == EINTR);
    if (pid < 0)
        return err_sys(e, errno, "waiting for the shard restores");
    for (k = 0; k < cr->nplan; k++) {
        if (cr->runs[k].pid == pid) {
            cr->runs[k].pid = 0;
            cr->runs[k].status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
    return 0;
}

/* The restore's last stderr line, for the message of a failed shard. */
static void cluster_last_line(const char *path, char *buf, size_t n)
{
    FILE *fp = fopen(path, "r");
    char line[2048];

    snprintf(buf, n, "it failed with no message");
    if (fp == NULL)
        return;
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] != '\0')
            snprintf(buf, n, "%s", line);
    }
    fclose(fp);
}

static int cluster_run_shards(struct cluster_restore *cr, struct err *e)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t jobs = cpus < 2 ? 2 : (size_t)cpus, next = 0, running = 0, k;
    char self[PATH_MAX];
    int ret = -1;

    if (cluster_self(self, sizeof(self), e) < 0)
        return -1;
    for (;;) {
        while (next < cr->nplan && running < jobs) {
            if (cluster_spawn(cr, next, self, e) < 0)
                goto out;
            next++;
            running++;
        }
        if (running == 0)
            break;
        if (cluster_wait_one(cr, e) < 0)
            goto out;
        running--;
    }
    for (k = 0; k < cr->nplan; k++) {
        if (cr->runs[k].status != 0) {
            char line[2048];

            cluster_last_line(cr->runs[k].errlog, line, sizeof(line));
            err_set(e, ERR_IO, "%s (slots %s, instance \"%s\"): %s", cr->runs[k].dir, cr->plan[k].slots_text,
                    cr->nodes.v[cr->plan[k].source].instance, line);
            goto out;
        }
    }
    ret = 0;
out:
    while (running > 0 && cluster_wait_one(cr, e) == 0)
        running--;
    return ret;
}

/* What the shard's restore said it left out (its own report lines). */
static void cluster_read_report(struct shard_run *r)
{
    static const char *const kinds[] = {
        "transaction left out:", "truncated command left out:", "command left out:", "note:"};
    FILE *fp = fopen(r->log, "r");
    char line[4096];
    size_t i;

    if (fp == NULL)
        return;
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            if (strncmp(line, kinds[i], strlen(kinds[i])) == 0) {
                if (r->left_out.len)
                    buf_appendstr(&r->left_out, "\n");
                buf_appendstr(&r->left_out, line);
            }
        }
    }
    fclose(fp);
}

struct skew_acc {
    struct shard_run *r;
    int64_t generation;
};

static int cluster_skew_chunk(void *ud, const struct chunk_row *c)
{
    struct skew_acc *a = ud;
    int64_t d;

    if (c->kind != CHUNK_INCR || c->generation != a->generation || !c->marks_known || c->ts_last <= 0)
        return 0;
    d = c->ts_last - c->last;
    if (a->r->skew_samples == 0 || d < a->r->skew_min)
        a->r->skew_min = d;
    if (a->r->skew_samples == 0 || d > a->r->skew_max)
        a->r->skew_max = d;
    a->r->skew_samples++;
    return 0;
}

/* Read back each shard's position and report lines; measure the clock
 * difference around the cut. */
static int cluster_collect(struct cluster_restore *cr, struct err *e)
{
    size_t k;

    for (k = 0; k < cr->nplan; k++) {
        struct shard_run *r = &cr->runs[k];
        const struct cluster_node *src = &cr->nodes.v[cr->plan[k].source];
        struct outdir sd = OUTDIR_INIT;
        struct skew_acc acc;
        int rc;

        if (outdir_open(&sd, r->out, 0, e) < 0)
            return -1;
        rc = position_read(&sd, &r->pos, e);
        outdir_close(&sd, 0);
        if (rc < 0)
            return -1;
        r->have_pos = 1;
        cluster_read_report(r);
        acc.r = r;
        acc.generation = r->pos.generation;
        if (index_chunks_between(cluster_node_index(&cr->nodes, src), src->instance_id,
                                 r->pos.time - SKEW_WINDOW_S, r->pos.time + SKEW_WINDOW_S, cluster_skew_chunk,
                                 &acc, e) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* cluster.json and START.txt                                           */
/* ------------------------------------------------------------------ */

static void cluster_json_lines(struct json *j, const char *key, const struct buf *lines)
{
    const char *p = lines->len ? lines->data : "";

    json_key(j, key);
    json_array_begin(j);
    while (*p != '\0') {
        size_t len = strcspn(p, "\n");

        json_string_len(j, p, len);
        p += len;
        if (*p == '\n')
            p++;
    }
    json_array_end(j);
}

static int cluster_write_json(struct cluster_restore *cr, struct err *e)
{
    struct json j;
    size_t k;
    int rc;

    json_init(&j, NULL);
    json_object_begin(&j);
    json_kv_string(&j, "cluster", cr->o.cluster);
    json_kv_time(&j, "requested", cr->to);
    json_kv_int(&j, "requested_unix", cr->to);
    json_kv_string(&j, "stray_check", cr->stray_check);
    json_key(&j, "in_flight");
    json_object_begin(&j);
    json_kv_uint(&j, "found", cr->inflight.n);
    json_kv_uint(&j, "restored", cr->inflight_restored);
    json_kv_uint(&j, "held_by_a_shard", cr->inflight_held);
    json_key(&j, "restored_keys");
    json_array_begin(&j);
    for (k = 0; k < cr->inflight.n; k++) {
        if (cr->inflight_done != NULL && cr->inflight_done[k])
            json_string_len(&j, cr->inflight.v[k].argv[1], cr->inflight.v[k].lens[1]);
    }
    json_array_end(&j);
    json_kv_string(&j, "unread", cr->inflight.unread.len ? cr->inflight.unread.data : "");
    json_object_end(&j);
    json_key(&j, "shards");
    json_array_begin(&j);
    for (k = 0; k < cr->nplan; k++) {
        const struct plan_shard *p = &cr->plan[k];
        const struct shard_run *r = &cr->runs[k];
        const struct cluster_node *src = &cr->nodes.v[p->source];

        json_object_begin(&j);
        json_kv_string(&j, "dir", r->dir);
        json_kv_string(&j, "slots", p->slots_text);
        json_kv_uint(&j, "slot_count", p->nslots);
        json_kv_string(&j, "master_node", p->master_id);
        json_kv_string(&j, "master_instance",
                       p->owner != PLAN_NO_NODE ? cr->nodes.v[p->owner].instance : NULL);
        json_kv_string(&j, "source_instance", src->instance);
        json_kv_string(&j, "source_node", src->view.node_id);
        json_kv_string(&j, "source_role", p->from_replica ? "replica" : "master");
        json_kv_int(&j, "generation", r->pos.generation);
        json_key(&j, "cut");
        json_object_begin(&j);
        json_kv_time(&j, "time", r->pos.time);
        json_kv_int(&j, "time_unix", r->pos.time);
        json_kv_uint(&j, "offset", r->pos.offset);
        json_kv_string(&j, "kind", r->pos.exact ? "ts" : "size-log");
        json_kv_int(&j, "db", r->pos.db);
        json_object_end(&j);
        cluster_json_lines(&j, "left_out", &r->left_out);
        json_key(&j, "strays");
        json_object_begin(&j);
        json_kv_string(&j, "slots", r->stray.slots.len ? r->stray.slots.data : "");
        json_kv_uint(&j, "moved", r->stray.moved);
        json_kv_uint(&j, "found_on_owner", r->stray.on_owner);
        json_kv_string(&j, "found_on_owner_keys", r->stray.names.len ? r->stray.names.data : "");
        json_object_end(&j);
        json_key(&j, "clock");
        json_object_begin(&j);
        json_kv_uint(&j, "samples", r->skew_samples);
        if (r->skew_samples > 0) {
            json_kv_int(&j, "ts_minus_observed_min_s", r->skew_min);
            json_kv_int(&j, "ts_minus_observed_max_s", r->skew_max);
        }
        json_object_end(&j);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    buf_appendstr(&j.out, "\n");
    rc = json_finish(&j, e);
    if (rc == 0)
        rc = outdir_write_atomic(&cr->dir, CLUSTER_JSON, j.out.data, j.out.len, e);
    json_free(&j);
    return rc;
}

static int cluster_write_start(struct cluster_restore *cr, struct err *e)
{
    struct buf t = BUF_INIT;
    size_t k;
    int rc;

    buf_printf(
        &t,
        "Cluster \"%s\" as it was at the cut of cluster.json, one directory per shard.\n"
        "To start it on ports P, P+1, ... (bus ports +%d), either run\n\n"
        "  aofroll restore -c FILE --cluster %s --to @%lld --out NEWDIR --start --port P\n\n"
        "or by hand, for each shard K (0-based) below:\n\n"
        "  redis-server --port $((P+K)) --bind 127.0.0.1 --dir DIR/shard-$((K+1)) --appendonly yes \\\n"
        "    --cluster-enabled yes --cluster-config-file nodes.conf --daemonize yes\n"
        "  redis-cli -p $((P+K)) CLUSTER SET-CONFIG-EPOCH $((K+1))\n"
        "  redis-cli -p $((P+K)) CLUSTER ADDSLOTSRANGE <the shard's ranges>   (slots it claimed\n"
        "    at load for its keys are already its own: leave those out)\n"
        "  redis-cli -p P CLUSTER MEET 127.0.0.1 $((P+K))\n\n"
        "then wait for \"cluster_state:ok\" in CLUSTER INFO.\n\n",
        cr->o.cluster, CLUSTER_BUS_OFFSET, cr->o.cluster, (long long)cr->to);
    for (k = 0; k < cr->nplan; k++)
        buf_printf(&t, "%s: slots %s\n", cr->runs[k].dir, cr->plan[k].slots_text);
    rc = outdir_write_atomic(&cr->dir, CLUSTER_START_TXT, t.data, t.len, e);
    buf_free(&t);
    return rc;
}

static void cluster_report(const struct cluster_restore *cr)
{
    char t[TIME_BUFSZ];
    size_t k;

    time_format_utc(cr->to, t, sizeof(t));
    printf("cluster %s at %s: %zu shard%s from %zu archived node%s\n", cr->o.cluster, t, cr->nplan,
           cr->nplan == 1 ? "" : "s", cr->nodes.n, cr->nodes.n == 1 ? "" : "s");
    for (k = 0; k < cr->nplan; k++) {
        const struct shard_run *r = &cr->runs[k];
        const struct plan_shard *p = &cr->plan[k];

        time_format_utc(r->pos.time, t, sizeof(t));
        printf("%s: slots %s from %s \"%s\" (node %.8s), generation %lld, cut at %s offset %llu (%s)\n",
               r->dir, p->slots_text, p->from_replica ? "replica" : "master", cr->nodes.v[p->source].instance,
               cr->nodes.v[p->source].view.node_id, (long long)r->pos.generation, t,
               (unsigned long long)r->pos.offset, r->pos.exact ? "#TS exact" : "size log");
        if (r->left_out.len)
            printf("%s: %s\n", r->dir, r->left_out.data);
    }
    printf("wrote \"%s/%s\" and \"%s/%s\"\n", cr->o.out, CLUSTER_JSON, cr->o.out, CLUSTER_START_TXT);
}

/* ------------------------------------------------------------------ */
/* The command                                                          */
/* ------------------------------------------------------------------ */

static int cluster_prepare_dir(struct cluster_restore *cr, struct err *e)
{
    int empty = 0;
    size_t k;

    if (outdir_open(&cr->dir, cr->o.out, 1, e) < 0 || outdir_in_use(&cr->dir, e) < 0 ||
        outdir_is_empty(&cr->dir, &empty, e) < 0)
        return -1;
    if (!empty)
        return err_set(e, ERR_EXISTS,
                       "--out \"%s\" is not empty: a cluster restore writes into an empty directory",
                       cr->o.out);
    cr->dir_ready = 1;
    cr->runs = xcalloc(cr->nplan, sizeof(*cr->runs));
    for (k = 0; k < cr->nplan; k++) {
        struct shard_run *r = &cr->runs[k];

        snprintf(r->dir, sizeof(r->dir), "shard-%zu", k + 1);
        r->out = xasprintf("%s/%s", cr->o.out, r->dir);
        r->log = xasprintf("%s/%s.out", cr->nodes.tmp, r->dir);
        r->errlog = xasprintf("%s/%s.err", cr->nodes.tmp, r->dir);
        r->status = -1;
    }
    if (cr->o.start && cluster_start_check(cr->o.port, cr->nplan, e) < 0)
        return -1;
    return 0;
}

/* After a failure: the shard directories written removed, DIR as it was. */
static void cluster_undo(struct cluster_restore *cr)
{
    struct err ignored;
    size_t k;

    if (!cr->dir_ready)
        return;
    for (k = 0; k < cr->nplan; k++)
        outdir_remove_tree(&cr->dir, cr->runs[k].dir, &ignored);
    outdir_remove_tree(&cr->dir, CLUSTER_JSON, &ignored);
    outdir_remove_tree(&cr->dir, CLUSTER_START_TXT, &ignored);
}

/* The shards as cluster_start.c takes them (cs->dirs and cs->slots to free). */
static void cluster_shards(const struct cluster_restore *cr, struct cluster_start *cs)
{
    size_t k;

    memset(cs, 0, sizeof(*cs));
    cs->port = (int)cr->o.port;
    cs->n = cr->nplan;
    cs->dirs = xcalloc(cr->nplan, sizeof(*cs->dirs));
    cs->slots = xcalloc(cr->nplan, sizeof(*cs->slots));
    for (k = 0; k < cr->nplan; k++) {
        cs->dirs[k] = cr->runs[k].out;
        cs->slots[k] = cr->plan[k].slots;
    }
}

static void cluster_moves_init(const struct cluster_restore *cr, struct cluster_moves *m)
{
    size_t k;

    memset(m, 0, sizeof(*m));
    m->strays = xcalloc(cr->nplan, sizeof(*m->strays));
    for (k = 0; k < cr->nplan; k++) {
        m->strays[k].slots = (struct buf)BUF_INIT;
        m->strays[k].names = (struct buf)BUF_INIT;
    }
    m->inflight = &cr->inflight;
    m->inflight_names = (struct buf)BUF_INIT;
    m->inflight_done = cr->inflight_done;
}

/* Keep what the sweep or the start did in the shards' and the restore's
 * reports. */
static void cluster_moves_keep(struct cluster_restore *cr, struct cluster_moves *m)
{
    size_t k;

    for (k = 0; k < cr->nplan; k++) {
        buf_free(&cr->runs[k].stray.slots);
        buf_free(&cr->runs[k].stray.names);
        cr->runs[k].stray = m->strays[k];
    }
    free(m->strays);
    cr->inflight_restored = m->inflight_restored;
    cr->inflight_held = m->inflight_held;
    buf_free(&m->inflight_names); /* printed; cluster.json lists them whole */
}

/* Each shard's stream read on past its cut: keys MIGRATE'd across it. */
static void cluster_lookahead(struct cluster_restore *cr)
{
    struct cluster_lookahead_shard *sh = xcalloc(cr->nplan, sizeof(*sh));
    size_t k;

    for (k = 0; k < cr->nplan; k++) {
        const struct cluster_node *src = &cr->nodes.v[cr->plan[k].source];

        sh[k].idx = cluster_node_index(&cr->nodes, src);
        sh[k].instance = src->instance;
        sh[k].instance_id = src->instance_id;
        sh[k].pos = &cr->runs[k].pos;
    }
    cluster_inflight_find(sh, cr->nplan, &cr->cfg, cr->st, cr->to, &cr->inflight);
    free(sh);
    cr->inflight_done = xcalloc(cr->inflight.n + 1, 1);
    if (cr->inflight.unread.len)
        printf("note: keys in flight at the cut not looked for past the cut of %s\n",
               cr->inflight.unread.data);
}

/* Keys a shard holds in slots it did not own at TIME (a slot moving
 * then) go to the owner, and keys in flight at the cut that no shard
 * holds are restored on it. With --start the started cluster does both
 * (cluster_start_shards); without it, when the views say slots may have
 * been moving at TIME or a key was in flight, a sweep does the same on
 * servers started for it. */
static int cluster_place_keys(struct cluster_restore *cr, struct err *e)
{
    struct cluster_start cs;
    struct cluster_moves m;
    const char *unsure;
    int moving, rc;

    cluster_lookahead(cr);
    if (cr->o.start) {
        cr->stray_check = "at --start";
        return 0;
    }
    if (cluster_nodes_moving(&cr->nodes, &moving, &unsure, e) < 0)
        return -1;
    if (!moving && cr->inflight.n == 0 && unsure != NULL) {
        cr->stray_check = "not known: the views after TIME are not all recorded yet";
        printf("note: node \"%s\" has not been polled %d s past TIME in the index read (a recent TIME, or an "
               "index copy older than that): if slots were moving then, keys may sit outside their shard's "
               "slots; --start moves them, or restore again later\n",
               unsure, CLUSTER_MOVING_WINDOW_S);
        return 0;
    }
    if (!moving && cr->inflight.n == 0) {
        cr->stray_check = "not needed: no slot was moving at TIME";
        return 0;
    }
    cr->stray_check = "swept";
    printf("slots were moving at TIME: looking for keys outside their shard's slots%s\n",
           cr->inflight.n > 0 ? " and keys in flight at the cut" : "");
    fflush(stdout);
    cluster_shards(cr, &cs);
    cluster_moves_init(cr, &m);
    rc = cluster_sweep(&cs, &m, e);
    cluster_moves_keep(cr, &m);
    free(cs.dirs);
    free(cs.slots);
    if (rc < 0)
        err_prefix(e, "moving keys outside their shard's slots");
    return rc;
}

/* --start; cluster.json written again when keys were moved meanwhile. */
static int cluster_start_shards(struct cluster_restore *cr, struct err *e)
{
    struct cluster_start cs;
    struct cluster_moves m;
    size_t k;
    int rc, moved;

    cluster_shards(cr, &cs);
    cluster_moves_init(cr, &m);
    rc = cluster_start_run(&cs, &m, e);
    moved = m.inflight_restored > 0;
    for (k = 0; k < cr->nplan; k++)
        moved |= m.strays[k].slots.len > 0;
    cluster_moves_keep(cr, &m);
    free(cs.dirs);
    free(cs.slots);
    if (rc == 0 && moved)
        rc = cluster_write_json(cr, e);
    return rc;
}

static int cluster_run(struct cluster_restore *cr, struct err *e)
{
    if (opt_time("--to", cr->o.to, &cr->to, e) < 0)
        return -1;
    if (config_load(cr->o.config, &cr->cfg, e) < 0)
        return -1;
    cr->have_cfg = 1;
    if (storage_open(&cr->cfg, &cr->st, e) < 0) {
        cr->st = NULL;
        return -1;
    }
    cr->have_nodes = 1;
    if (cluster_nodes_load(&cr->nodes, &cr->cfg, cr->st, cr->o.cluster, cr->to, e) < 0 ||
        cluster_nodes_plan(&cr->nodes, &cr->plan, &cr->nplan, e) < 0)
        return -1;
    if (cluster_prepare_dir(cr, e) < 0 || cluster_run_shards(cr, e) < 0 || cluster_collect(cr, e) < 0 ||
        cluster_place_keys(cr, e) < 0 || cluster_write_json(cr, e) < 0 || cluster_write_start(cr, e) < 0 ||
        outdir_fsync(&cr->dir, ".", e) < 0) {
        cluster_undo(cr);
        return -1;
    }
    cluster_report(cr);
    fflush(stdout);
    if (cr->o.start && cluster_start_shards(cr, e) < 0) {
        err_prefix(e, "restored \"%s\", but starting the cluster failed", cr->o.out);
        return -1;
    }
    return 0;
}

static void cluster_free(struct cluster_restore *cr)
{
    size_t i;

    if (cr->runs != NULL) {
        for (i = 0; i < cr->nplan; i++) {
            struct shard_run *r = &cr->runs[i];

            if (r->log != NULL)
                unlink(r->log);
            if (r->errlog != NULL)
                unlink(r->errlog);
            free(r->out);
            free(r->log);
            free(r->errlog);
            position_free(&r->pos);
            buf_free(&r->left_out);
            buf_free(&r->stray.slots);
            buf_free(&r->stray.names);
        }
        free(cr->runs);
    }
    cluster_plan_free(cr->plan, cr->nplan);
    cluster_inflight_free(&cr->inflight);
    free(cr->inflight_done);
    if (cr->have_nodes)
        cluster_nodes_free(&cr->nodes);
    if (cr->st != NULL)
        storage_close(cr->st);
    if (cr->have_cfg)
        config_free(&cr->cfg);
    outdir_close(&cr->dir, 1);
}

int cluster_restore_main(int argc, char **argv)
{
    struct cluster_restore cr;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&cr, 0, sizeof(cr));
    cr.dir.fd = -1;
    err_clear(&e);
    rc = cluster_parse_args(&cr.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "restore");
        return CLI_EXIT_OK;
    }
    if (rc < 0 || cluster_run(&cr, &e) < 0)
        status = cli_fail("restore", &e);
    cluster_free(&cr);
    return status;
}

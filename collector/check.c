/* check.c - aofroll-collector --check: is this configuration usable?
 *
 * Prints, for each instance, its effective settings and a verdict on each
 * Redis setting the collector depends on, after reaching the Redis
 * instance (CONFIG GET, INFO persistence) and opening its AOF files as the
 * collector would, and for a cluster node asking it what the collector
 * records of it (CLUSTER MYID, CLUSTER NODES); then writes, reads back and
 * deletes a probe object in the storage (and says where its credentials
 * came from, never what they are; with a key file the probe is sealed, and
 * check_seal.c opens each instance's newest object), and opens the index. Every line goes through
 * check_report.c with its weight: warnings (no #TS annotations, automatic
 * rewrites, a plain http:// storage endpoint) leave the configuration
 * usable; problems (Redis unreachable, AOF off, files unreadable, a lock
 * that cannot be taken, storage or index failing) do not, and no line
 * names a problem that the verdict then ignores. Exit status 0 when
 * usable, 1 otherwise. Nothing here changes Redis. A mode rdb instance is
 * checked by snapshot_check.c instead (its dump file, not an AOF). */

#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "manifest.h"
#include "objname.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

#include "cluster_view.h"
#include "context.h"
#include "lineage.h"
#include "lock.h"
#include "redisconn.h"
#include "check_report.h"
#include "check_seal.h"
#include "snapshot_check.h"

/* Settings as the config reads them back. */
static void check_settings(const struct instance_config *ic, struct check_report *r)
{
    char poll[32], size[32], pause[32], rate[32], barrier[16];

    units_format_duration_ms(ic->poll_interval_ms, poll, sizeof(poll));
    units_format_size_exact(ic->chunk_size, size, sizeof(size));
    units_format_duration_ms(ic->chunk_pause_ms, pause, sizeof(pause));
    if (ic->max_rate > 0) {
        units_format_size_exact(ic->max_rate, rate, sizeof(rate) - 2);
        snprintf(rate + strlen(rate), sizeof(rate) - strlen(rate), "/s");
    } else {
        snprintf(rate, sizeof(rate), "unlimited");
    }
    if (ic->barrier_minute >= 0 && ic->mode == MODE_AOF)
        snprintf(barrier, sizeof(barrier), "\"%02d:%02d\"", ic->barrier_minute / 60, ic->barrier_minute % 60);
    else
        snprintf(barrier, sizeof(barrier), "off");
    check_report_ok(
        r,
        "  settings: poll_interval %s, chunk_size %s, chunk_pause %s, max_rate %s, compression %d, "
        "barrier %s",
        poll, size, pause, rate, ic->compression, barrier);
}

/* The AOF files the collector would open. */
static void check_files(const struct redis_aof_config *ac, struct check_report *r)
{
    char *dir =
        ac->dir[0] == '/' ? xasprintf("%s/%s", ac->dir, ac->appenddirname) : xstrdup(ac->appenddirname);
    char *path = xasprintf("%s/%s.manifest", dir, ac->appendfilename);
    struct manifest m = {NULL, 0};
    const struct manifest_file *base, *incr;
    struct aof_file f;
    struct err e;

    err_clear(&e);
    if (manifest_load(path, &m, &e) != 0) {
        check_report_problem(
            r, "  aof files: %s. HINT: run the collector on the redis host, as a user that can read \"%s\"",
            e.msg, dir);
        goto out;
    }
    base = manifest_base(&m);
    incr = manifest_current_incr(&m);
    if (incr == NULL) {
        check_report_problem(r, "  aof files: manifest \"%s\" names no incr file", path);
        goto out;
    }
    if (base != NULL) {
        if (lineage_open_file(dir, base->name, base->seq, &f, &e) != 0) {
            check_report_problem(r, "  aof files: %s", e.msg);
            goto out;
        }
        lineage_close_file(&f);
    }
    if (lineage_open_file(dir, incr->name, incr->seq, &f, &e) != 0) {
        check_report_problem(r, "  aof files: %s", e.msg);
        goto out;
    }
    check_report_ok(r, "  aof files: ok, \"%s\": base \"%s\", incr \"%s\" (%llu B)", dir,
                    base != NULL ? base->name : "(none)", incr->name, (unsigned long long)f.size);
    lineage_close_file(&f);
out:
    manifest_free(&m);
    free(path);
    free(dir);
}

/* An instance with `cluster: NAME`: the node answers what the collector
 * records of it (cluster_view.c). One without: a cluster node is worth
 * a warning, its shard would not be restored with the others. */
static void check_cluster(const struct instance_config *ic, struct redisconn *rc, struct check_report *r)
{
    struct cluster_view v;
    char *info = NULL, *enabled = NULL;
    struct err e;

    err_clear(&e);
    memset(&v, 0, sizeof(v));
    if (ic->cluster == NULL) {
        if (redisconn_info(rc, "cluster", &info, &e) == 0 &&
            (enabled = redisconn_info_field(info, "cluster_enabled")) != NULL && strcmp(enabled, "1") == 0)
            check_report_warn(r,
                              "  cluster: the server is a Redis Cluster node but the instance has no "
                              "`cluster: NAME`: its views are not recorded and `restore --cluster` will not "
                              "see it");
        free(info);
        free(enabled);
        return;
    }
    if (cluster_view_read(rc, ic->cluster, &v, &e) < 0)
        check_report_problem(
            r,
            "  cluster \"%s\": %s (the collector records each node's view with CLUSTER MYID, "
            "CLUSTER NODES and INFO replication)",
            ic->cluster, e.msg);
    else if (v.master)
        check_report_ok(r, "  cluster \"%s\": ok, node %s, master of slots %s", ic->cluster, v.node_id,
                        v.slots[0] ? v.slots : "none");
    else
        check_report_ok(r, "  cluster \"%s\": ok, node %s, replica of %s (link %s), slots %s", ic->cluster,
                        v.node_id, v.master_id, v.in_sync ? "up" : "down", v.slots[0] ? v.slots : "none");
    cluster_view_free(&v);
}

/* Redis: reachable, its AOF settings, INFO persistence, the files, the
 * cluster. */
static void check_redis(const struct instance_config *ic, struct check_report *r)
{
    struct redisconn rc;
    struct redis_aof_config ac;
    struct redis_persistence p;
    char line[512];
    struct err e;

    memset(&ac, 0, sizeof(ac));
    err_clear(&e);
    redisconn_init(&rc, &ic->redis, ic->redis_url);
    if (redisconn_connect(&rc, &e) != 0) {
        check_report_problem(r, "  redis: %s", e.msg);
        goto out;
    }
    check_report_ok(r, "  redis: reachable");
    /* which server, and whether the project tests it: a warning at worst */
    if (redisconn_server_verdict(&rc, line, sizeof(line)) == 0)
        check_report_ok(r, "  server: %s", line);
    else
        check_report_warn(r, "  server: %s", line);
    if (redisconn_aof_config(&rc, &ac, &e) != 0) {
        check_report_problem(r, "  redis: %s", e.msg);
        goto out;
    }
    if (ac.appendonly) {
        check_report_ok(r, "  appendonly yes: ok");
    } else {
        check_report_problem(r,
                             "  appendonly no: there is no AOF to follow; set it to yes (or use mode: rdb)");
        /* the same problem, what it means for the archive */
        check_report_ok(
            r, "  aof off: nothing is archived, and the archive has a gap from when it went off until it "
               "is on again");
    }
    if (ac.timestamps)
        check_report_ok(r, "  aof-timestamp-enabled yes: ok, restores are exact to the second");
    else
        check_report_warn(
            r, "  aof-timestamp-enabled no: restores will be exact to the poll interval only; set it to yes");
    if (ac.rewrite_percentage == 0)
        check_report_ok(r, "  auto-aof-rewrite-percentage 0: ok, only the barrier rewrites");
    else
        check_report_warn(
            r,
            "  auto-aof-rewrite-percentage %lld: Redis will also rewrite on its own, opening generations "
            "at unplanned times; set it to 0",
            ac.rewrite_percentage);
    if (redisconn_persistence(&rc, &p, &e) != 0)
        check_report_problem(r, "  info persistence: %s", e.msg);
    else if (p.rewrite_in_progress)
        check_report_ok(r, "  info persistence: ok (a rewrite is in progress)");
    else
        check_report_ok(r, "  info persistence: ok");
    if (ac.appendonly)
        check_files(&ac, r);
    check_cluster(ic, &rc, r);
out:
    redisconn_aof_config_free(&ac);
    redisconn_free(&rc);
}

/* Who holds the instance's lock, without taking it. Held by a running
 * collector is fine (--check beside the daemon); a lock that cannot be
 * opened at all would stop the collector at start. */
static void check_lock(const struct config *cfg, const char *name, struct check_report *r)
{
    long holder = 0;
    int fd;
    struct err e;

    err_clear(&e);
    if (lock_acquire(cfg->lock_dir, name, &fd, &holder, &e) == 0) {
        check_report_ok(r, "  lock: free");
        lock_release(fd);
        return;
    }
    if (e.code == ERR_BUSY)
        check_report_ok(r, "  lock: held, %s", e.msg);
    else
        check_report_problem(
            r,
            "  lock: %s. HINT: the collector takes it at start: lock_dir \"%s\" must exist and be "
            "writable by its user",
            e.msg, cfg->lock_dir);
}

/* Write, read back and delete a probe object. */
static void check_storage(const struct config *cfg, struct check_report *r)
{
    struct storage *st = NULL;
    struct buf back = BUF_INIT;
    char plain[128], key[192], probe[64], why[512];
    struct err e;

    err_clear(&e);
    if (storage_cleartext(cfg, why, sizeof(why)))
        check_report_warn(r, "storage: %s", why);
    snprintf(plain, sizeof(plain), "aofroll-check-%ld-%lld.probe", (long)getpid(), (long long)time_now_ms());
    snprintf(probe, sizeof(probe), "aofroll-collector --check %lld\n", (long long)time_now_ms());
    if (storage_open(cfg, &st, &e) != 0)
        goto fail;
    /* with a key file the probe is sealed and opened like every object */
    if (storage_seal_id(st) == NULL || objname_seal(plain, storage_seal_id(st), key, sizeof(key)) != 0)
        snprintf(key, sizeof(key), "%s", plain);
    if (storage_put(st, key, probe, strlen(probe), &e) != 0 || storage_get(st, key, &back, &e) != 0)
        goto fail;
    if (back.len != strlen(probe) || memcmp(back.data, probe, back.len) != 0) {
        err_set(&e, ERR_CORRUPT, "probe object \"%s\" read back different bytes", key);
        goto fail;
    }
    if (storage_remove(st, key, &e) != 0)
        goto fail;
    check_report_ok(r, "storage \"%s\": ok (write, read back, delete)", st->url);
    check_seal(cfg, st, key, r); /* check_seal.c */
    goto out;
fail:
    check_report_problem(r, "storage: %s", e.msg);
out:
    if (st != NULL && st->auth != NULL)
        check_report_ok(r, "storage credentials: %s", st->auth);
    if (st != NULL)
        storage_close(st);
    buf_free(&back);
}

static void check_index(const struct config *cfg, struct check_report *r)
{
    struct index *idx = NULL;
    struct err e;

    err_clear(&e);
    if (index_open(cfg->index_path, 0, &idx, &e) != 0) {
        check_report_problem(r, "index: %s", e.msg);
        return;
    }
    index_close(idx);
    check_report_ok(r, "index \"%s\": ok", cfg->index_path);
}

int check_run(struct collector *col, const char *only, FILE *out)
{
    const struct config *cfg = col->cfg;
    struct check_report r;
    int seen = 0;

    check_report_init(&r, out);
    check_report_ok(&r, "config \"%s\": ok, %d instance%s", cfg->path, cfg->ninstances,
                    cfg->ninstances == 1 ? "" : "s");
    for (int i = 0; i < cfg->ninstances; i++) {
        const struct instance_config *ic = &cfg->instances[i];
        char *where;

        if (only != NULL && strcmp(only, ic->name) != 0)
            continue;
        seen++;
        where = config_redact_url(ic->redis_url);
        check_report_ok(&r, "instance \"%s\" (%s)", ic->name, where);
        free(where);
        check_settings(ic, &r);
        if (ic->mode == MODE_RDB)
            snapshot_check(ic, &r); /* snapshot_check.c */
        else
            check_redis(ic, &r);
        check_lock(cfg, ic->name, &r);
    }
    if (seen == 0)
        check_report_problem(&r, "instances: none to check");
    check_storage(cfg, &r);
    check_index(cfg, &r);
    return check_report_verdict(&r);
}

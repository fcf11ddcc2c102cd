/* check.c - aofroll-collector --check: is this configuration usable?
 *
 * Prints, for each instance, its effective settings and a verdict on each
 * Redis setting the collector depends on, after reaching the Redis
 * instance (CONFIG GET, INFO persistence) and opening its AOF files as the
 * collector would; then writes, reads back and deletes a probe object in
 * the storage, and opens the index. Warnings (e.g. no #TS annotations)
 * leave the configuration usable; errors (Redis unreachable, AOF off,
 * files unreadable, storage failing) do not. Exit status 0 when usable,
 * 1 otherwise. Nothing here changes Redis. A mode rdb instance is checked
 * by snapshot_check.c instead (its dump file, not an AOF). */
#include "collector.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "manifest.h"
#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

/* Settings as the config reads them back. */
static void check_settings(const struct instance_config *ic, FILE *out)
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
    fprintf(out,
            "  settings: poll_interval %s, chunk_size %s, chunk_pause %s, max_rate %s, compression %d, "
            "barrier %s\n",
            poll, size, pause, rate, ic->compression, barrier);
}

/* The AOF files the collector would open. 0 when readable. */
static int check_files(const struct redis_aof_config *ac, FILE *out)
{
    char *dir =
        ac->dir[0] == '/' ? xasprintf("%s/%s", ac->dir, ac->appenddirname) : xstrdup(ac->appenddirname);
    char *path = xasprintf("%s/%s.manifest", dir, ac->appendfilename);
    struct manifest m = {NULL, 0};
    const struct manifest_file *base, *incr;
    struct aof_file f;
    struct err e;
    int rv = -1;

    err_clear(&e);
    if (manifest_load(path, &m, &e) != 0) {
        fprintf(
            out,
            "  aof files: %s. HINT: run the collector on the redis host, as a user that can read \"%s\"\n",
            e.msg, dir);
        goto out;
    }
    base = manifest_base(&m);
    incr = manifest_current_incr(&m);
    if (incr == NULL) {
        fprintf(out, "  aof files: manifest \"%s\" names no incr file\n", path);
        goto out;
    }
    if (base != NULL) {
        if (lineage_open_file(dir, base->name, base->seq, &f, &e) != 0) {
            fprintf(out, "  aof files: %s\n", e.msg);
            goto out;
        }
        lineage_close_file(&f);
    }
    if (lineage_open_file(dir, incr->name, incr->seq, &f, &e) != 0) {
        fprintf(out, "  aof files: %s\n", e.msg);
        goto out;
    }
    fprintf(out, "  aof files: ok, \"%s\": base \"%s\", incr \"%s\" (%llu B)\n", dir,
            base != NULL ? base->name : "(none)", incr->name, (unsigned long long)f.size);
    lineage_close_file(&f);
    rv = 0;
out:
    manifest_free(&m);
    free(path);
    free(dir);
    return rv;
}

/* Redis: reachable, its AOF settings, INFO persistence, the files. */
static int check_redis(const struct instance_config *ic, FILE *out)
{
    struct redisconn rc;
    struct redis_aof_config ac;
    struct redis_persistence p;
    struct err e;
    int usable = 1;

    memset(&ac, 0, sizeof(ac));
    err_clear(&e);
    redisconn_init(&rc, &ic->redis, ic->redis_url);
    if (redisconn_connect(&rc, &e) != 0) {
        fprintf(out, "  redis: %s\n", e.msg);
        usable = 0;
        goto out;
    }
    fprintf(out, "  redis: reachable\n");
    if (redisconn_aof_config(&rc, &ac, &e) != 0) {
        fprintf(out, "  redis: %s\n", e.msg);
        usable = 0;
        goto out;
    }
    if (ac.appendonly) {
        fprintf(out, "  appendonly yes: ok\n");
    } else {
        fprintf(out, "  appendonly no: there is no AOF to follow; set it to yes (or use mode: rdb)\n");
        fprintf(
            out,
            "  aof off: nothing is archived, and the archive has a gap from when it went off until it is on "
            "again\n");
        usable = 0;
    }
    if (ac.timestamps)
        fprintf(out, "  aof-timestamp-enabled yes: ok, restores are exact to the second\n");
    else
        fprintf(
            out,
            "  aof-timestamp-enabled no: restores will be exact to the poll interval only; set it to yes\n");
    if (ac.rewrite_percentage == 0)
        fprintf(out, "  auto-aof-rewrite-percentage 0: ok, only the barrier rewrites\n");
    else
        fprintf(
            out,
            "  auto-aof-rewrite-percentage %lld: Redis will also rewrite on its own, opening generations at "
            "unplanned times; set it to 0\n",
            ac.rewrite_percentage);
    if (redisconn_persistence(&rc, &p, &e) != 0) {
        fprintf(out, "  info persistence: %s\n", e.msg);
        usable = 0;
    } else if (p.rewrite_in_progress) {
        fprintf(out, "  info persistence: ok (a rewrite is in progress)\n");
    } else {
        fprintf(out, "  info persistence: ok\n");
    }
    if (ac.appendonly && check_files(&ac, out) != 0)
        usable = 0;
out:
    redis_aof_config_free(&ac);
    redisconn_free(&rc);
    return usable;
}

/* Who holds the instance's lock, without taking it. */
static void check_lock(const struct config *cfg, const char *name, FILE *out)
{
    int fd;
    struct err e;

    err_clear(&e);
    if (lock_acquire(cfg->lock_dir, name, &fd, NULL, &e) == 0) {
        fprintf(out, "  lock: free\n");
        lock_release(fd);
        return;
    }
    fprintf(out, "  lock: %s\n", e.msg);
}

/* Write, read back and delete a probe object. */
static int check_storage(const struct config *cfg, FILE *out)
{
    struct storage *st = NULL;
    struct buf back = BUF_INIT;
    char key[128], probe[64];
    struct err e;
    int usable = 0;

    err_clear(&e);
    snprintf(key, sizeof(key), "aofroll-check-%ld-%lld.probe", (long)getpid(), (long long)time_now_ms());
    snprintf(probe, sizeof(probe), "aofroll-collector --check %lld\n", (long long)time_now_ms());
    if (storage_open(cfg, &st, &e) != 0 || storage_put(st, key, probe, strlen(probe), &e) != 0 ||
        storage_get(st, key, &back, &e) != 0)
        goto out;
    if (back.len != strlen(probe) || memcmp(back.data, probe, back.len) != 0) {
        err_set(&e, ERR_CORRUPT, "probe object \"%s\" read back different bytes", key);
        goto out;
    }
    if (storage_remove(st, key, &e) != 0)
        goto out;
    usable = 1;
out:
    if (usable)
        fprintf(out, "storage \"%s\": ok (write, read back, delete)\n", st->url);
    else
        fprintf(out, "storage: %s\n", e.msg);
    if (st != NULL)
        storage_close(st);
    buf_free(&back);
    return usable;
}

static int check_index(const struct config *cfg, FILE *out)
{
    struct index *idx = NULL;
    struct err e;

    err_clear(&e);
    if (index_open(cfg->index_path, 0, &idx, &e) != 0) {
        fprintf(out, "index: %s\n", e.msg);
        return 0;
    }
    index_close(idx);
    fprintf(out, "index \"%s\": ok\n", cfg->index_path);
    return 1;
}

int check_run(struct collector *col, const char *only, FILE *out)
{
    const struct config *cfg = col->cfg;
    int usable = 1;
    int seen = 0;

    fprintf(out, "config \"%s\": ok, %d instance%s\n", cfg->path, cfg->ninstances,
            cfg->ninstances == 1 ? "" : "s");
    for (int i = 0; i < cfg->ninstances; i++) {
        const struct instance_config *ic = &cfg->instances[i];
        char *where;

        if (only != NULL && strcmp(only, ic->name) != 0)
            continue;
        seen++;
        where = config_redact_url(ic->redis_url);
        fprintf(out, "instance \"%s\" (%s)\n", ic->name, where);
        free(where);
        check_settings(ic, out);
        if (ic->mode == MODE_RDB) {
            if (!snapshot_check(ic, out)) /* snapshot_check.c */
                usable = 0;
            check_lock(cfg, ic->name, out);
            continue;
        }
        if (!check_redis(ic, out))
            usable = 0;
        check_lock(cfg, ic->name, out);
    }
    if (!check_storage(cfg, out))
        usable = 0;
    if (!check_index(cfg, out))
        usable = 0;
    if (seen == 0)
        usable = 0;
    fprintf(out, "verdict: %s\n", usable ? "usable" : "not usable");
    return usable ? 0 : 1;
}

/* cmd_restore.c - `aofroll restore`: rebuild an instance's data directory as it
 * was at a chosen second.
 *
 * Steps (docs/design.md, "Restoring to a second"): pick the generation that restores TIME
 * (window.h: the newest whose first second is at or before TIME, or a
 * refusal when TIME lies in a gap of the archive); write its base chunks one by one (each CRC
 * checked, each starting where the previous ended); stream its incr chunks
 * through the cut engine (cut.h), which writes every command before the
 * cut to the incr file and stops reading once the cut is known; write the
 * manifest and the position file (position.h). DIR is checked before
 * anything is fetched: not a symlink, not in use by a running server, and
 * with --start the port free. Everything is built in DIR's stage
 * (outdir.h: DIR/.aofroll-restore-tmp, nothing written through a symlink)
 * and renamed into place only when complete, so a failed restore leaves
 * DIR as it was; --force replaces an earlier restore in DIR, never what
 * aofroll did not write. With --start, a redis-server is started on the
 * result (target.h), listening on 127.0.0.1 (or --bind) and a unix socket
 * in DIR. Chunks are fetched and inflated ahead
 * on a few threads (prefetch.h), each holding at most a couple of decoded
 * chunks; the cut engine holds only an open transaction's bytes. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "cluster.h"
#include "commands.h"
#include "cut.h"
#include "fetch.h"
#include "flashback.h"
#include "manifest.h"
#include "opt.h"
#include "outdir.h"
#include "position.h"
#include "prefetch.h"
#include "restore_rdb.h"
#include "replicate.h"
#include "scratch.h"
#include "stop_where.h"
#include "stream.h"
#include "target.h"
#include "timeutil.h"
#include "units.h"
#include "when.h"
#include "xalloc.h"

#define RESTORE_MANIFEST "appendonly.aof.manifest"
#define RESTORE_BASE_RDB "appendonly.aof.1.base.rdb"
#define RESTORE_BASE_AOF "appendonly.aof.1.base.aof"
#define RESTORE_INCR "appendonly.aof.1.incr.aof"
#define RESTORE_START_TIMEOUT_S 600
#define RESTORE_STAGED(name) OUTDIR_STAGE "/" name

/* What DIR gets from an AOF generation, in the order it is renamed into
 * place (the position last: it marks a complete restore). */
static const char *const restore_entries[] = {OUTDIR_AOF_DIR, POSITION_FILE};
#define RESTORE_NENTRIES (sizeof(restore_entries) / sizeof(restore_entries[0]))

struct restore_opts {
    const char *config;
    const char *instance;
    const char *to;
    const char *out;
    const char *stop_before;
    const char *from;
    int force;
    int start;
    long port;
    const char *bind; /* --bind ADDR; NULL: 127.0.0.1 */
    char **extra;     /* after "--": redis-server options */
    int nextra;
    /* --index FILE: this index instead of the configured one (cli.h) */
    const char *index;
    /* flashback (flashback.h): as given, then checked into fb */
    const char *target;
    struct opt_repeat keys, dbs;
    int dry_run;
    const char *ttl;
    int json;
    struct flashback_opts fb;
    /* --cluster NAME: in the table for --help; cmd_restore() hands such a
     * command line to cluster_restore.c before parsing it */
    const char *cluster;
};

struct restore {
    struct restore_opts o;
    struct cli cli;
    struct fetch fetch;
    struct gen_row gen;
    struct cut_pattern pattern;
    struct when when; /* --to */
    int64_t to, from;
    struct outdir dir; /* DIR (outdir.h) */
    int staged;        /* DIR's stage was begun */
    int committed;     /* the restore is in place in DIR */
    const char *base_name;
    uint64_t base_bytes;
    struct stream stream;
    struct window_choice choice; /* how the generation was chosen */
    int threads;                 /* fetch threads */
    double fetch_waited;         /* waiting for them, base and incr */
    double write_seconds;        /* base and incr */
    double incr_write_seconds;   /* the part spent inside the cut engine's sink */
    double start_seconds;
    struct position pos;
    struct progress progress; /* on a terminal: base and incr bytes, then the load */
    int quiet;                /* a flashback's scratch restore: no report */
    /* a flashback by replication (restore_replicate_base): once the base
     * is written, the target becomes aofroll's replica and the incr
     * stream goes to it as it is cut, instead of into the file */
    struct replicate *rp;
    enum { RESTORE_RP_NONE, RESTORE_RP_TRY, RESTORE_RP_STREAMING, RESTORE_RP_NOT_HERE } rp_state;
    struct scratch *scratch; /* its watchdog guards the target meanwhile */
};

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

/* Every option of `aofroll restore`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_restore_options[] = {
    CLI_OPT_CONFIG(struct restore_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, instance),
     .arg = "NAME",
     .help = "instance to restore"},
    {.name = "to",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, to),
     .arg = "TIME",
     .help = "restore to this second (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" local, @UNIX,\nnow); latest: the "
             "newest archived second. A TIME after the end of\nthe archive is refused"},
    {.name = "out",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, out),
     .arg = "DIR",
     .help = "data directory to write (empty or absent; not a symbolic link)"},
    {.name = "stop-before",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, stop_before),
     .arg = "PATTERN",
     .help = "cut just before the first command named in PATTERN\n(\"FLUSHALL,FLUSHDB\" or "
             "\"FLUSHALL|FLUSHDB\", any case) at or before TIME"},
    {.name = "from",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, from),
     .arg = "TIME",
     .help = "with --stop-before: look for it from TIME on"},
    {.name = "force",
     .kind = OPT_FLAG,
     .off = offsetof(struct restore_opts, force),
     .help = "write into a non-empty DIR, replacing an earlier restore in it (never\nwhat aofroll did not "
             "write, nor a DIR a running server uses)"},
    {.name = "start",
     .kind = OPT_FLAG,
     .off = offsetof(struct restore_opts, start),
     .help = "start redis-server on DIR afterwards (needs --port)"},
    {.name = "port",
     .kind = OPT_LONG,
     .off = offsetof(struct restore_opts, port),
     .min = 1,
     .max = 65535,
     .arg = "N",
     .help =
         "port for --start, checked before anything is fetched; options after\n\"--\" go to redis-server"},
    {.name = "bind",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, bind),
     .arg = "ADDR",
     .help = "address --start listens on (default 127.0.0.1; also a unix socket in DIR)"},
    {.name = "index",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, index),
     .arg = "FILE",
     .help = "read the archive through this index (a copy fetched from storage)\ninstead of the configured "
             "one; the instance need not be configured"},
    {.name = "cluster",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, cluster),
     .arg = "NAME",
     .help = "every shard of Redis Cluster NAME (docs/cluster.md) instead of\n--instance: one "
             "directory per shard in DIR, cluster.json, START.txt;\n--start starts the cluster on ports N, "
             "N+1, ... (only -c, --to, --out,\n--start, --port)"},
    {.name = "target",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, target),
     .arg = "URL",
     .help = "flashback: make the keys of this running server (redis://HOST:PORT,\nunix:///PATH) what they "
             "were at TIME; without --key/--db the whole\nkeyspace, into an empty server unless --force"},
    {.name = "key",
     .kind = OPT_REPEAT,
     .off = offsetof(struct restore_opts, keys),
     .arg = "GLOB",
     .help = "only keys matching GLOB (repeatable): with --target the only keys\nread or written there, "
             "with --out the only keys DIR holds"},
    {.name = "db",
     .kind = OPT_REPEAT,
     .off = offsetof(struct restore_opts, dbs),
     .arg = "N",
     .help = "only db N (repeatable), the same way"},
    {.name = "dry-run",
     .kind = OPT_FLAG,
     .off = offsetof(struct restore_opts, dry_run),
     .help = "with --target: change nothing, list restore/revert/delete/same per key"},
    {.name = "ttl",
     .kind = OPT_STRING,
     .off = offsetof(struct restore_opts, ttl),
     .arg = "keep|shift",
     .help = "with --target: absolute expiries as they were (keep, the default) or the\ntime left at TIME, "
             "counted from now (shift)"},
    {.name = "json",
     .kind = OPT_FLAG,
     .off = offsetof(struct restore_opts, json),
     .help = "with --target: the report as JSON"},
    CLI_OPT_HELP,
    {0},
};

/* --target, --key, --db and the options only --target takes, into o->fb. */
static int restore_check_flashback(struct restore_opts *o, int dashdash, struct err *e)
{
    struct flashback_opts *fb = &o->fb;
    int i;

    for (i = 0; i < o->keys.n; i++)
        if (flashback_add_key(fb, o->keys.v[i], e) < 0)
            return -1;
    for (i = 0; i < o->dbs.n; i++)
        if (flashback_add_db(fb, o->dbs.v[i], e) < 0)
            return -1;
    if (o->ttl != NULL && flashback_set_ttl(fb, o->ttl, e) < 0)
        return -1;
    fb->target = o->target;
    fb->dry_run = o->dry_run;
    fb->json = o->json;
    fb->force = o->force;
    if (fb->target == NULL) {
        if (fb->dry_run || fb->json || o->ttl != NULL)
            return err_set(e, ERR_USAGE, "--dry-run, --json and --ttl are for --target");
        return 0;
    }
    if (o->out != NULL || o->start || dashdash)
        return err_set(e, ERR_USAGE, "--target restores into a running server: not with --out or --start");
    o->out = ""; /* the scratch directory, made later */
    return 0;
}

static int restore_parse_args(struct restore_opts *o, int argc, char **argv, struct err *e)
{
    struct opt_rest rest;
    int rc;

    memset(o, 0, sizeof(*o));
    o->port = -1;
    rc = opt_parse(cmd_restore_options, argc, argv, o, &rest, e);
    if (rc != 0)
        return rc;
    if (restore_check_flashback(o, rest.dashdash, e) < 0)
        return -1;
    if (rest.argc > 0 && !rest.dashdash)
        return err_set(e, ERR_USAGE, "unexpected argument \"%s\"", rest.argv[0]);
    if (rest.dashdash) {
        if (!o->start)
            return err_set(e, ERR_USAGE, "redis-server options after \"--\" need --start");
        o->extra = rest.argv;
        o->nextra = rest.argc;
    }
    if (cli_require(o->instance, "--instance NAME", e) < 0 || cli_require(o->to, "--to TIME", e) < 0 ||
        cli_require(o->out, "--out DIR", e) < 0)
        return -1;
    if (o->start && o->port < 0)
        return err_set(e, ERR_USAGE, "--start needs --port N");
    if (!o->start && o->port >= 0)
        return err_set(e, ERR_USAGE, "--port is for --start");
    if (!o->start && o->bind != NULL)
        return err_set(e, ERR_USAGE, "--bind is for --start");
    if (o->bind != NULL && (o->bind[0] == '\0' || strchr(o->bind, ' ') != NULL))
        return err_set(e, ERR_USAGE, "--bind \"%s\": expected one address", o->bind);
    if (o->from != NULL && o->stop_before == NULL)
        return err_set(e, ERR_USAGE, "--from is for --stop-before");
    return 0;
}

/* ------------------------------------------------------------------ */
/* The output directory                                                 */
/* ------------------------------------------------------------------ */

/* DIR opened (made when absent) and checked before anything is fetched:
 * not a symlink, not used by a running server, and with --start the port
 * free; then its stage begun for `entries`. */
static int restore_prepare_dir(struct restore *r, const char *const *entries, size_t n, struct err *e)
{
    if (outdir_open(&r->dir, r->o.out, 1, e) < 0 || outdir_in_use(&r->dir, e) < 0)
        return -1;
    if (r->o.start && target_port_free(r->o.bind, (int)r->o.port, e) < 0)
        return -1;
    if (outdir_stage_begin(&r->dir, r->o.force, entries, n, e) < 0)
        return -1;
    r->staged = 1;
    return 0;
}

static void restore_abandon_dir(struct restore *r)
{
    if (r->staged)
        outdir_stage_abandon(&r->dir);
    outdir_close(&r->dir, 1);
}

/* ------------------------------------------------------------------ */
/* Base                                                                 */
/* ------------------------------------------------------------------ */

static int restore_write_base(struct restore *r, struct err *e)
{
    struct fetch_list chunks = {NULL, 0, 0};
    struct outdir_file out = OUTDIR_FILE_INIT;
    struct prefetch *pf = NULL;
    const struct buf *raw;
    char *path = NULL;
    uint64_t expect = 0;
    uint32_t crc = 0;
    int ret = -1;
    size_t i;

    if (fetch_list(&r->fetch, r->gen.generation, CHUNK_BASE, 0, &chunks, e) < 0)
        goto out;
    if (chunks.n > 0 && prefetch_start(&pf, &r->cli.cfg, &r->fetch, &chunks, 0, r->threads, e) < 0)
        goto out;
    for (i = 0; i < chunks.n; i++) {
        const struct fetch_chunk *c = &chunks.v[i];

        if (fetch_join(&r->fetch, r->gen.generation, CHUNK_BASE, expect, c, e) < 0)
            goto out;
        if (prefetch_get(pf, i, &raw, e) < 0)
            goto out;
        if (path == NULL) {
            /* Redis tells an RDB preamble from a plain AOF by its first bytes; name it likewise */
            r->base_name =
                raw->len >= 5 && memcmp(raw->data, "REDIS", 5) == 0 ? RESTORE_BASE_RDB : RESTORE_BASE_AOF;
            path = xasprintf("%s/%s", RESTORE_STAGED(OUTDIR_AOF_DIR), r->base_name);
            if (outdir_file_create(&out, &r->dir, path, e) < 0)
                goto out;
        }
        /* decoding checked the chunk's CRC: combine, do not recompute */
        crc = (uint32_t)crc32_combine(crc, c->crc32, (z_off_t)raw->len);
        if (outdir_file_append(&out, raw->data, raw->len, e) < 0)
            goto out;
        progress_add(&r->progress, raw->len, 1);
        expect = c->end;
    }
    if (expect != r->gen.base_size) {
        err_set(e, ERR_CORRUPT,
                "the base of \"%s\" generation %lld is incomplete: chunks reach byte %llu of %llu",
                r->fetch.instance, (long long)r->gen.generation, (unsigned long long)expect,
                (unsigned long long)r->gen.base_size);
        goto out;
    }
    if (r->gen.base_crc32 != 0 && crc != r->gen.base_crc32) {
        err_set(e, ERR_CORRUPT, "the base of \"%s\" generation %lld has CRC32 %08x, the index says %08x",
                r->fetch.instance, (long long)r->gen.generation, crc, r->gen.base_crc32);
        goto out;
    }
    if (path == NULL) {
        /* an empty base: a plain AOF of an empty dataset */
        r->base_name = r->gen.base_format == BASE_RDB ? RESTORE_BASE_RDB : RESTORE_BASE_AOF;
        path = xasprintf("%s/%s", RESTORE_STAGED(OUTDIR_AOF_DIR), r->base_name);
        if (outdir_file_create(&out, &r->dir, path, e) < 0)
            goto out;
    }
    if (outdir_file_finish(&out, e) < 0)
        goto out;
    r->base_bytes = expect;
    ret = 0;
out:
    r->write_seconds += out.seconds;
    if (pf != NULL) {
        r->fetch_waited += prefetch_waited(pf);
        prefetch_stop(pf);
    }
    outdir_file_close(&out);
    fetch_list_free(&chunks);
    free(path);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Incr                                                                 */
/* ------------------------------------------------------------------ */

struct restore_sink {
    struct restore *r;
    struct outdir_file *out;
};

/* The cut engine's sink: every event before the cut, in order, as it is;
 * or, replicating, every command to the target. */
static int restore_emit(void *ud, const char *data, size_t len, const struct cut_event *ev, struct err *e)
{
    struct restore_sink *sink = ud;

    if (sink->r->rp_state == RESTORE_RP_STREAMING)
        return ev->is_ts ? 0 : replicate_commands(sink->r->rp, data, len, e);
    return outdir_file_append(sink->out, data, len, e);
}

static int restore_write_incr(struct restore *r, struct err *e)
{
    struct outdir_file out = OUTDIR_FILE_INIT;
    struct restore_sink sink = {r, &out};
    struct stream_params sp;
    int ret = -1;

    if (outdir_file_create(&out, &r->dir, RESTORE_STAGED(OUTDIR_AOF_DIR "/" RESTORE_INCR), e) < 0)
        goto out;
    memset(&sp, 0, sizeof(sp));
    sp.cfg = &r->cli.cfg;
    sp.threads = r->threads;
    sp.gen = &r->gen;
    sp.to = r->to;
    sp.from = r->from;
    sp.pattern = r->o.stop_before ? &r->pattern : NULL;
    sp.start = 0;
    sp.start_db = 0;
    sp.start_ts = -1;
    sp.exact = -1; /* decide from the stream */
    sp.progress = &r->progress;
    r->stream.poll_interval_ms = r->cli.inst->poll_interval_ms;
    if (stream_run(&r->stream, &r->fetch, &sp, restore_emit, &sink, e) < 0)
        goto out;
    r->incr_write_seconds = out.seconds;
    if (outdir_file_finish(&out, e) < 0)
        goto out;
    ret = 0;
out:
    r->write_seconds += out.seconds;
    outdir_file_close(&out);
    return ret;
}

static int restore_write_manifest(struct restore *r, struct err *e)
{
    struct buf text = BUF_INIT;
    int rc = -1;

    if (manifest_format(&text, r->base_name, 1, RESTORE_INCR, 1, e) == 0)
        rc = outdir_write_atomic(&r->dir, RESTORE_STAGED(OUTDIR_AOF_DIR "/" RESTORE_MANIFEST), text.data,
                                 text.len, e);
    buf_free(&text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Report                                                               */
/* ------------------------------------------------------------------ */

static void restore_report(struct restore *r)
{
    char t[TIME_BUFSZ], size[32];
    const struct cut_result *res = cut_result(&r->stream.cut);
    double scan = r->stream.feed_seconds - r->incr_write_seconds;

    if (scan < 0)
        scan = 0;

    time_format_utc(r->gen.base_time, t, sizeof(t));
    units_format_size((int64_t)r->base_bytes, size, sizeof(size));
    printf("instance %s, generation %lld (base %s, %s %s)\n", r->cli.inst->name, (long long)r->gen.generation,
           t, size, r->base_name == NULL || strcmp(r->base_name, RESTORE_BASE_RDB) == 0 ? "rdb" : "aof");
    if (r->choice.by_base_time)
        printf("note: the lead second of generation %lld is unknown (the last \"#TS:\" of the stream before "
               "it was not recorded): it was chosen by its base time\n",
               (long long)r->gen.generation);
    stream_report(&r->stream, stdout);
    units_format_size((int64_t)res->bytes, size, sizeof(size));
    printf("wrote \"%s/%s\": %s, %s (%s)\n", r->o.out, OUTDIR_AOF_DIR, r->base_name, RESTORE_INCR, size);
    printf("fetch %.2f s on %d threads (waited %.2f s), scan %.2f s, write %.2f s\n", r->fetch.seconds,
           r->threads, r->fetch_waited + r->stream.fetch_waited, scan, r->write_seconds);
}

/* ------------------------------------------------------------------ */
/* The command                                                          */
/* ------------------------------------------------------------------ */

static int restore_start(struct restore *r, struct err *e)
{
    struct target_start ts;
    redisContext *rc = NULL;
    size_t i;
    int ret = -1;

    memset(&ts, 0, sizeof(ts));
    ts.dir = &r->dir;
    ts.port = (int)r->o.port;
    ts.bind = r->o.bind;
    ts.extra = r->o.extra;
    ts.nextra = r->o.nextra;
    ts.timeout_s = RESTORE_START_TIMEOUT_S;
    ts.progress = &r->progress;
    if (target_start(&ts, &rc, e) < 0)
        goto out;
    r->start_seconds = ts.load_seconds;
    keyspace_free(&r->pos.keyspace);
    if (target_keyspace(rc, "the restored redis-server", &r->pos.keyspace, e) < 0)
        goto out;
    r->pos.has_keyspace = 1;
    if (position_write(&r->dir, POSITION_FILE, &r->pos, e) < 0)
        goto out;
    printf("redis-server started on %s (pid %ld, pidfile \"%s/redis.pid\"), loaded in %.2f s\n", ts.listening,
           ts.pid, r->o.out, ts.load_seconds);
    if (r->pos.keyspace.n == 0)
        printf("keys: none\n");
    for (i = 0; i < r->pos.keyspace.n; i++)
        printf("keys in db%d: %lld\n", r->pos.keyspace.v[i].db, (long long)r->pos.keyspace.v[i].keys);
    ret = 0;
out:
    if (rc != NULL)
        redisFree(rc);
    return ret;
}

/* The restore is in DIR, only --start failed: say so, and how to start it
 * by hand once the cause is dealt with. */
static void restore_start_failed(struct restore *r, struct err *e)
{
    size_t n;

    err_prefix(e, "restored \"%s\", but starting redis-server failed", r->o.out);
    n = strlen(e->msg);
    snprintf(
        e->msg + n, sizeof(e->msg) - n,
        " HINT: the restore itself is complete; start it by hand: redis-server --dir \"%s\" --appendonly yes "
        "--port %ld (its log: \"%s/redis.log\")",
        r->o.out, r->o.port, r->o.out);
}

/* A mode rdb generation: a snapshot's dump, no incr stream (restore_rdb.c). */
static int restore_snapshot(struct restore *r, struct err *e)
{
    struct restore_rdb rr;

    memset(&rr, 0, sizeof(rr));
    rr.cfg = &r->cli.cfg;
    rr.ic = r->cli.inst;
    rr.fetch = &r->fetch;
    rr.gen = &r->gen;
    rr.to = r->to;
    rr.threads = r->threads;
    rr.stop_before = r->o.stop_before;
    if (restore_prepare_dir(r, restore_rdb_entries, restore_rdb_nentries, e) < 0)
        return -1;
    rr.dir = &r->dir;
    if (restore_rdb_run(&rr, e) < 0 ||
        outdir_stage_commit(&r->dir, restore_rdb_entries, restore_rdb_nentries, e) < 0) {
        position_free(&rr.pos);
        return -1;
    }
    r->committed = 1;
    r->pos = rr.pos;
    if (!r->quiet)
        restore_rdb_report(&rr);
    fflush(stdout);
    if (r->o.start && restore_start(r, e) < 0) {
        restore_start_failed(r, e);
        return -1;
    }
    return 0;
}

/* --stop-before found nothing in the generation TIME falls in: say where
 * the newest match in an earlier generation is, and how to restore to just
 * before it (appended to e's message). */
static void restore_stop_elsewhere(struct restore *r, struct err *e)
{
    struct stop_hit hit;
    struct err se;
    char t[TIME_BUFSZ];
    size_t n = strlen(e->msg);

    err_clear(&se);
    if (stop_where_earlier(&r->fetch, &r->pattern, r->from, r->gen.generation, &hit, &se) < 0 || !hit.found)
        return;
    time_format_utc(hit.time, t, sizeof(t));
    snprintf(e->msg + n, sizeof(e->msg) - n,
             "; the newest match before it is %s in generation %lld at %s (incr offset %llu) HINT: --to %s "
             "--stop-before %s restores to just before it",
             hit.name, (long long)hit.generation, t, (unsigned long long)hit.offset, t, r->o.stop_before);
}

/* What the progress line counts to: the raw bytes of the generation's
 * base and incr chunks (the cut may stop before the end of the incr). */
static int restore_progress_total(struct restore *r, struct err *e)
{
    struct fetch_list base = {NULL, 0, 0}, incr = {NULL, 0, 0};
    uint64_t bytes = 0;
    size_t i;
    int ret = -1;

    if (r->progress.fp == NULL)
        return 0;
    if (fetch_list(&r->fetch, r->gen.generation, CHUNK_BASE, 0, &base, e) < 0 ||
        fetch_list(&r->fetch, r->gen.generation, CHUNK_INCR, 0, &incr, e) < 0)
        goto out;
    for (i = 0; i < base.n; i++)
        bytes += base.v[i].end - base.v[i].start;
    for (i = 0; i < incr.n; i++)
        bytes += incr.v[i].end - incr.v[i].start;
    progress_total(&r->progress, bytes, base.n + incr.n);
    ret = 0;
out:
    fetch_list_free(&base);
    fetch_list_free(&incr);
    return ret;
}

/* The target cannot replicate from aofroll (e says why): noted on
 * stderr, let go, left for the key by key way. */
static void restore_rp_not_here(struct restore *r, struct err *e)
{
    replicate_close(r->rp, NULL);
    fprintf(stderr, "aofroll restore: note: not by replication (%s): comparing key by key\n", e->msg);
    err_clear(e);
    r->rp_state = RESTORE_RP_NOT_HERE;
}

/* A flashback by replication, once the base is written: the target made
 * aofroll's replica, the base sent as its payload (RDB) or its first
 * commands (AOF), the incr to follow from restore_emit(). A target that
 * cannot be used so is noted on stderr and left for the key by key way. */
static int restore_replicate_base(struct restore *r, struct err *e)
{
    char *base = xasprintf("%s/%s/%s", r->dir.real, RESTORE_STAGED(OUTDIR_AOF_DIR), r->base_name);
    int rdb = strcmp(r->base_name, RESTORE_BASE_RDB) == 0, rc;

    rc = scratch_guard(r->scratch, 1, e) < 0 ? -1 : replicate_begin(r->rp, rdb ? base : NULL, e);
    if (rc == REPLICATE_DONE &&
        ((!rdb && replicate_file(r->rp, base, e) < 0) || replicate_next_file(r->rp, e) < 0))
        rc = -1;
    free(base);
    if (rc < 0) /* the guard stays armed: the watchdog releases the target once more */
        return -1;
    if (rc == REPLICATE_NOT_HERE) {
        restore_rp_not_here(r, e);
        return scratch_guard(r->scratch, 0, e);
    }
    r->rp_state = RESTORE_RP_STREAMING;
    return 0;
}

static int restore_run(struct restore *r, struct err *e)
{
    char t[TIME_BUFSZ];
    const struct cut_result *res;
    int ret = -1;

    progress_init(&r->progress, "restore", 0);
    if (when_parse("--to", r->o.to, &r->when, e) < 0)
        goto out;
    r->to = r->when.t;
    r->from = INT64_MIN;
    if (r->o.from != NULL && opt_time("--from", r->o.from, &r->from, e) < 0)
        goto out;
    if (r->o.from != NULL && r->from > r->to) {
        err_set(e, ERR_USAGE, "--from \"%s\" is after --to \"%s\"", r->o.from, r->o.to);
        goto out;
    }
    if (r->o.stop_before != NULL && cut_pattern_parse(r->o.stop_before, &r->pattern, e) < 0)
        goto out;
    r->cli.index_path = r->o.index;
    if (cli_open(&r->cli, r->o.config, 1, e) < 0 || cli_instance(&r->cli, r->o.instance, e) < 0)
        goto out;
    fetch_init(&r->fetch, r->cli.idx, r->cli.st, r->cli.inst->name, r->cli.instance_id);
    r->threads = prefetch_threads();
    if (when_latest(&r->when, &r->fetch, e) < 0)
        goto out;
    r->to = r->when.t;
    if (fetch_choose(&r->fetch, r->to, &r->gen, &r->choice, e) < 0 ||
        when_check_end(&r->when, &r->choice, &r->gen, &r->fetch, e) < 0)
        goto out;
    if (!r->quiet)
        when_print(&r->when, stdout);
    if (r->gen.mode == MODE_RDB) {
        ret = restore_snapshot(r, e);
        goto out;
    }
    if (restore_progress_total(r, e) < 0 ||
        restore_prepare_dir(r, restore_entries, RESTORE_NENTRIES, e) < 0 ||
        outdir_mkdir(&r->dir, RESTORE_STAGED(OUTDIR_AOF_DIR), e) < 0 || restore_write_base(r, e) < 0 ||
        (r->rp_state == RESTORE_RP_TRY && restore_replicate_base(r, e) < 0) || restore_write_incr(r, e) < 0 ||
        restore_write_manifest(r, e) < 0)
        goto out;
    res = cut_result(&r->stream.cut);
    if (r->o.stop_before != NULL && !res->stop_found) {
        char f[TIME_BUFSZ];

        time_format_utc(r->to, t, sizeof(t));
        if (r->from != INT64_MIN)
            time_format_utc(r->from, f, sizeof(f));
        else
            time_format_utc(r->gen.base_time, f, sizeof(f));
        err_set(e, ERR_NOTFOUND,
                "no command matching \"%s\" from %s to %s in generation %lld of \"%s\": "
                "nothing restored",
                r->o.stop_before, f, t, (long long)r->gen.generation, r->cli.inst->name);
        restore_stop_elsewhere(r, e);
        goto out;
    }
    memset(&r->pos, 0, sizeof(r->pos));
    snprintf(r->pos.instance, sizeof(r->pos.instance), "%s", r->cli.inst->name);
    r->pos.generation = r->gen.generation;
    r->pos.base_time = r->gen.base_time;
    r->pos.requested = r->to;
    r->pos.time = r->stream.cut_time;
    r->pos.offset = res->offset;
    r->pos.db = res->db;
    r->pos.ts = res->ts;
    r->pos.exact = r->stream.exact;
    if (position_write(&r->dir, RESTORE_STAGED(POSITION_FILE), &r->pos, e) < 0 ||
        outdir_stage_commit(&r->dir, restore_entries, RESTORE_NENTRIES, e) < 0)
        goto out;
    r->committed = 1;
    progress_end(&r->progress);
    if (!r->quiet)
        restore_report(r);
    fflush(stdout);
    if (r->o.start && restore_start(r, e) < 0) {
        restore_start_failed(r, e);
        goto out;
    }
    ret = 0;
out:
    if (ret < 0 && !r->committed)
        restore_abandon_dir(r);
    return ret;
}

/* Offline flashback (--out DIR --key GLOB --db N): TIME restored into a
 * scratch directory, loaded by a scratch redis-server, every key not
 * chosen removed there, its AOF rewritten, and that base copied into
 * DIR's stage and renamed into place like any restore. */
static int restore_filtered(struct restore *r, struct err *e)
{
    struct scratch sc;
    redisContext *src = NULL;
    const char *out = r->o.out;
    long long kept = 0;
    int start = r->o.start, ret = -1;

    scratch_init(&sc);
    if (scratch_create(&sc, e) < 0)
        goto out;
    r->o.out = sc.dir;
    r->o.start = 0; /* the scratch restore is not started that way */
    r->quiet = 1;
    if (restore_run(r, e) < 0 || scratch_start(&sc, RESTORE_START_TIMEOUT_S, &src, e) < 0 ||
        flashback_filter(src, &r->o.fb, &kept, e) < 0)
        goto out;
    /* from here on DIR, as a plain restore writes it */
    outdir_close(&r->dir, 0);
    r->o.out = out;
    r->o.start = start;
    r->staged = r->committed = 0;
    r->base_name = RESTORE_BASE_RDB;
    if (restore_prepare_dir(r, restore_entries, RESTORE_NENTRIES, e) < 0 ||
        outdir_mkdir(&r->dir, RESTORE_STAGED(OUTDIR_AOF_DIR), e) < 0 ||
        scratch_export(&sc, src, &r->dir, RESTORE_STAGED(OUTDIR_AOF_DIR "/" RESTORE_BASE_RDB),
                       RESTORE_STAGED(OUTDIR_AOF_DIR "/" RESTORE_INCR), RESTORE_START_TIMEOUT_S, e) < 0 ||
        restore_write_manifest(r, e) < 0 ||
        position_write(&r->dir, RESTORE_STAGED(POSITION_FILE), &r->pos, e) < 0 ||
        outdir_stage_commit(&r->dir, restore_entries, RESTORE_NENTRIES, e) < 0)
        goto out;
    r->committed = 1;
    printf("wrote \"%s/%s\": %lld keys of \"%s\" as at %s, only those chosen with --key/--db\n", r->o.out,
           OUTDIR_AOF_DIR, kept, r->cli.inst->name, r->o.to);
    fflush(stdout);
    if (src != NULL) {
        redisFree(src);
        src = NULL;
    }
    scratch_close(&sc);
    if (r->o.start && restore_start(r, e) < 0) {
        err_prefix(e, "restored \"%s\", but starting redis-server failed", r->o.out);
        goto out;
    }
    ret = 0;
out:
    if (src != NULL)
        redisFree(src);
    scratch_close(&sc);
    if (ret < 0 && !r->committed && r->o.out == out)
        restore_abandon_dir(r);
    return ret;
}

/* A whole keyspace into an empty target, by replication (replicate.h):
 * finished when the incr was streamed during the restore, or done now
 * from the restored files (a snapshot generation has no incr). 1 when the
 * target cannot take it that way (noted on stderr): the caller compares
 * key by key. */
static int restore_replicate(struct restore *r, struct flashback *fb, double since, struct err *e)
{
    double t0 = time_monotonic();
    int rc = REPLICATE_DONE;

    if (r->rp_state == RESTORE_RP_TRY) {
        char *aofdir = xasprintf("%s/%s", r->scratch->dir, OUTDIR_AOF_DIR);

        rc = scratch_guard(r->scratch, 1, e) < 0 ? -1 : replicate_dir(r->rp, aofdir, e);
        free(aofdir);
    } else if (r->rp_state == RESTORE_RP_STREAMING) {
        rc = replicate_end(r->rp, e);
    }
    if (rc < 0) /* left armed: the watchdog tells the target to stop once more */
        return -1;
    if (rc == REPLICATE_NOT_HERE)
        restore_rp_not_here(r, e);
    if (scratch_guard(r->scratch, 0, e) < 0)
        return -1;
    if (r->rp_state == RESTORE_RP_NOT_HERE)
        return 1;
    if (flashback_loaded(fb, r->cli.inst->name, r->to, r->rp->st.master, e) < 0)
        return -1;
    if (!r->o.fb.json)
        printf("time: restore and replication %.2f s, the rest of the replication %.2f s (%llu bytes of RDB, "
               "%llu of commands)\n",
               t0 - since, time_monotonic() - t0, (unsigned long long)r->rp->st.rdb_bytes,
               (unsigned long long)r->rp->st.stream_bytes);
    return 0;
}

/* Flashback: TIME restored into a scratch directory, loaded by a scratch
 * redis-server, compared key by key with the target (flashback.h); or,
 * for a whole keyspace into an empty target, replicated into it. The
 * target is checked before anything is fetched. */
static int restore_flashback(struct restore *r, struct err *e)
{
    struct flashback fb;
    struct scratch sc;
    struct replicate rp;
    redisContext *src = NULL, *guard = NULL;
    double t[3];
    int ret = -1, rc;

    memset(&fb, 0, sizeof(fb));
    scratch_init(&sc);
    replicate_init(&rp, NULL, NULL);
    /* a target that goes away mid-write is an error to report, not a signal to die of */
    signal(SIGPIPE, SIG_IGN);
    {
        /* a bulk job, as apply: woken threads do not preempt the target
         * or the scratch server on the same machine (only a hint) */
        struct sched_param sp = {0};

        (void)sched_setscheduler(0, SCHED_BATCH, &sp);
    }
    /* --to checked before the target is touched; restore_run() reads it
     * again and sets r->to, "latest" included, before flashback_run() */
    if (when_parse("--to", r->o.to, &r->when, e) < 0 || flashback_open(&fb, &r->o.fb, e) < 0)
        goto out;
    /* the watchdog's own connection to the target, taken over at its fork */
    if (flashback_by_replication(&fb) && target_connect(&fb.addr, fb.what, &guard, e) < 0)
        goto out;
    sc.guard = guard != NULL ? guard->fd : -1;
    if (scratch_create(&sc, e) < 0)
        goto out;
    if (guard != NULL) {
        replicate_init(&rp, fb.dst, fb.what);
        r->rp = &rp;
        r->rp_state = RESTORE_RP_TRY;
        r->scratch = &sc;
    }
    r->o.out = sc.dir;
    r->o.force = 0;
    r->quiet = 1;
    t[0] = time_monotonic();
    if (restore_run(r, e) < 0)
        goto out;
    t[1] = time_monotonic();
    if (guard != NULL && (rc = restore_replicate(r, &fb, t[0], e)) <= 0) {
        ret = rc;
        goto out;
    }
    if (r->o.fb.ttl_shift && sc.timeshift == NULL)
        fprintf(stderr,
                "aofroll restore: note: --ttl shift: the clock library (%s beside aofroll) is missing: "
                "keys whose expiry has passed since TIME are not restored\n",
                AOFROLL_TIMESHIFT_REL);
    /* --ttl shift: the scratch server on a clock that reads the end of TIME */
    if (scratch_start_shifted(
            &sc, r->o.fb.ttl_shift && sc.timeshift != NULL ? time_now_ms() - (r->to + 1) * 1000 : 0,
            RESTORE_START_TIMEOUT_S, &src, e) < 0)
        goto out;
    t[2] = time_monotonic();
    if (flashback_run(&fb, src, r->cli.inst->name, r->to, e) < 0)
        goto out;
    if (!r->o.fb.json)
        printf("time: restore %.2f s, scratch load %.2f s, compare and write %.2f s\n", t[1] - t[0],
               t[2] - t[1], time_monotonic() - t[2]);
    ret = 0;
out:
    if (ret < 0 && rp.streaming) {
        size_t len;

        replicate_close(&rp, e);
        len = strlen(e->msg);
        snprintf(e->msg + len, sizeof(e->msg) - len,
                 " HINT: the target holds part of the keyspace now: run again with --force");
    }
    replicate_close(&rp, NULL);
    if (src != NULL)
        redisFree(src);
    if (guard != NULL)
        redisFree(guard);
    flashback_close(&fb);
    outdir_close(&r->dir, 0);
    r->dir.fd = -1;
    scratch_close(&sc);
    return ret;
}

int cmd_restore(int argc, char **argv)
{
    struct restore r;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    if (cluster_wanted(argc, argv)) /* --cluster NAME: every shard (cluster_restore.c) */
        return cluster_restore_main(argc, argv);
    memset(&r, 0, sizeof(r));
    r.dir.fd = -1;
    err_clear(&e);
    cli_init(&r.cli, "restore");
    stream_init(&r.stream);
    rc = restore_parse_args(&r.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "restore");
        goto out;
    }
    if (rc < 0 || (r.o.fb.target != NULL                 ? restore_flashback(&r, &e)
                   : r.o.fb.nkeys > 0 || r.o.fb.ndbs > 0 ? restore_filtered(&r, &e)
                                                         : restore_run(&r, &e)) < 0) {
        progress_end(&r.progress);
        status = cli_fail("restore", &e);
    }
out:
    stream_free(&r.stream);
    position_free(&r.pos);
    cut_pattern_free(&r.pattern);
    fetch_free(&r.fetch);
    cli_close(&r.cli);
    outdir_close(&r.dir, 0);
    return status;
}

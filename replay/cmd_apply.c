/* cmd_apply.c - `aofroll apply`: roll a restored instance forward.
 *
 * DIR/aofroll-restore.json (position.h) says where the instance stands:
 * generation, incr offset, db and second of the cut. apply checks that the
 * target is the instance that restore produced (its INFO keyspace equals
 * the recorded fingerprint, unless --force) and that TIME is later and in
 * the same generation, then streams the incr chunks from the recorded
 * offset through the cut engine (the same cut rules as restore) and sends
 * each command before the new cut to the target as the raw RESP bytes it
 * has in the AOF (#TS lines are not sent), pipelined (pipeline.h: replies
 * are read while sending). Finally it records the new position,
 * atomically, with the target's keyspace.
 *
 * On an error reply it stops sending, reads the replies of everything
 * already sent (Redis runs them all), and records the position after the
 * last command sent outside an unfinished transaction - what the target
 * now holds - before failing with the offset and the error.
 *
 * apply runs as SCHED_BATCH (a bulk job): its threads wake at every batch
 * of replies and every chunk, and as ordinary tasks they would preempt a
 * target redis-server on the same machine, which is the bottleneck. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "cut.h"
#include "fetch.h"
#include "opt.h"
#include "pipeline.h"
#include "position.h"
#include "prefetch.h"
#include "stream.h"
#include "target.h"
#include "timeutil.h"
#include "when.h"
#include "xalloc.h"

struct apply_opts {
    const char *config;
    const char *instance;
    const char *to;
    const char *dir;
    const char *target;
    const char *stop_before;
    int force;
};

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

/* Every option of `aofroll apply`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_apply_options[] = {
    CLI_OPT_CONFIG(struct apply_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct apply_opts, instance),
     .arg = "NAME",
     .help = "instance the restore in DIR came from"},
    {.name = "to",
     .kind = OPT_STRING,
     .off = offsetof(struct apply_opts, to),
     .arg = "TIME",
     .help = "roll forward to this second (as restore's: latest, now)"},
    {.name = "stop-before",
     .kind = OPT_STRING,
     .off = offsetof(struct apply_opts, stop_before),
     .arg = "PATTERN",
     .help =
         "stop just before the first command named in PATTERN after the position\n(\"FLUSHALL,FLUSHDB\"), "
         "or at TIME when none comes first"},
    {.name = "from-dir",
     .kind = OPT_STRING,
     .off = offsetof(struct apply_opts, dir),
     .arg = "DIR",
     .help = "directory written by \"aofroll restore\" (holds the position)"},
    {.name = "target",
     .kind = OPT_STRING,
     .off = offsetof(struct apply_opts, target),
     .arg = "URL",
     .help = "redis://[user:password@]HOST:PORT or unix:///PATH"},
    {.name = "force",
     .kind = OPT_FLAG,
     .off = offsetof(struct apply_opts, force),
     .help = "apply even when the target's keys differ from the recorded ones"},
    CLI_OPT_HELP,
    {0},
};

static int apply_parse_args(struct apply_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_apply_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    if (cli_require(o->instance, "--instance NAME", e) < 0 || cli_require(o->to, "--to TIME", e) < 0 ||
        cli_require(o->dir, "--from-dir DIR", e) < 0 ||
        cli_require(o->target, "--target redis://HOST:PORT", e) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The command                                                          */
/* ------------------------------------------------------------------ */

struct apply {
    struct apply_opts o;
    struct cli cli;
    struct outdir dir; /* --from-dir (outdir.h: the position file is not reached through a symlink) */
    struct fetch fetch;
    struct position pos;
    struct gen_row gen;
    struct redis_addr addr;
    char *what; /* the target's URL, password redacted */
    redisContext *rc;
    struct pipeline pipe;
    struct stream stream;
    struct when when;           /* --to */
    struct cut_pattern pattern; /* --stop-before */
    struct progress progress;   /* on a terminal: incr bytes sent */
    int64_t to;
};

/* Refuse a target that is not the instance the restore produced. */
static int apply_check_target(struct apply *a, struct err *e)
{
    struct keyspace ks = {NULL, 0};
    struct buf have = BUF_INIT, want = BUF_INIT;
    int ret = -1;

    if (target_keyspace(a->rc, a->what, &ks, e) < 0)
        goto out;
    if (!a->pos.has_keyspace) {
        if (!a->o.force) {
            err_set(e, ERR_EXISTS,
                    "\"%s\" records no keyspace to check %s against (restored without --start) HINT: "
                    "pass --force if %s is the instance restored there",
                    a->o.dir, a->what, a->what);
            goto out;
        }
    } else if (!keyspace_equal(&ks, &a->pos.keyspace)) {
        keyspace_format(&ks, &have);
        keyspace_format(&a->pos.keyspace, &want);
        if (!a->o.force) {
            err_set(e, ERR_EXISTS,
                    "%s holds keys that do not match the restore in \"%s\" (target: %s; recorded: %s) HINT: "
                    "it is another instance or was written to since; pass --force to apply anyway",
                    a->what, a->o.dir, have.data, want.data);
            goto out;
        }
        printf("note: %s keys (%s) differ from the recorded ones (%s); applying anyway (--force)\n", a->what,
               have.data, want.data);
    }
    ret = 0;
out:
    keyspace_free(&ks);
    buf_free(&have);
    buf_free(&want);
    return ret;
}

static int apply_record(struct apply *a, uint64_t offset, int db, int64_t ts, int64_t t, struct err *e)
{
    struct err ke;

    a->pos.offset = offset;
    a->pos.db = db;
    a->pos.ts = ts;
    a->pos.requested = a->to;
    a->pos.time = t;
    keyspace_free(&a->pos.keyspace);
    a->pos.has_keyspace = 0;
    err_clear(&ke);
    if (a->rc != NULL && !a->pipe.failed && target_keyspace(a->rc, a->what, &a->pos.keyspace, &ke) == 0)
        a->pos.has_keyspace = 1;
    return position_write(&a->dir, POSITION_FILE, &a->pos, e);
}

/* The recorded offset must lie within the generation's archived incr
 * stream: past its end there is nothing it could be a position in. */
static int apply_check_offset(struct apply *a, struct err *e)
{
    struct chunk_row last;
    uint64_t end = 0;

    if (index_chunk_last(a->cli.idx, a->cli.instance_id, a->gen.generation, CHUNK_INCR, &last, e) == 0)
        end = last.end;
    else if (e->code == ERR_NOTFOUND)
        err_clear(e);
    else
        return -1;
    if (a->pos.offset > end)
        return err_set(e, ERR_CORRUPT,
                       "\"%s/%s\" records incr offset %llu, past the end of the archive of \"%s\" generation "
                       "%lld (%llu bytes): not a position this archive gave HINT: restore again",
                       a->o.dir, POSITION_FILE, (unsigned long long)a->pos.offset, a->cli.inst->name,
                       (long long)a->gen.generation, (unsigned long long)end);
    return 0;
}

/* SCHED_BATCH for this thread and the fetch thread it starts: not woken
 * ahead of a running task. Only a hint; it is not worth failing over. */
static void apply_as_batch(void)
{
    struct sched_param sp = {0};

    (void)sched_setscheduler(0, SCHED_BATCH, &sp);
}

/* What the progress line counts to: the incr bytes after the position. */
static int apply_progress_total(struct apply *a, struct err *e)
{
    struct fetch_list l = {NULL, 0, 0};
    uint64_t bytes = 0;
    size_t i;

    if (a->progress.fp == NULL)
        return 0;
    if (fetch_list(&a->fetch, a->gen.generation, CHUNK_INCR, a->pos.offset, &l, e) < 0)
        return -1;
    for (i = 0; i < l.n; i++)
        bytes += l.v[i].end - (l.v[i].start > a->pos.offset ? l.v[i].start : a->pos.offset);
    progress_total(&a->progress, bytes, l.n);
    fetch_list_free(&l);
    return 0;
}

/* TIME lies in the generation after the restored one, from its lead
 * second on, but before anything was written in it: the restored
 * generation's stream holds every command up to TIME too (the rewrite
 * came after them, and none ran after it in that second), so roll forward
 * in it to its end. The first bytes of the next stream tell: a "#TS:t"
 * line with t > TIME (or nothing at all), not a command. */
static int apply_stays(struct apply *a, struct err *e)
{
    struct fetch_list l = {NULL, 0, 0};
    struct buf raw = BUF_INIT;
    long long first = -1;
    int ret = -1;

    if (a->gen.generation != a->pos.generation + 1 || a->gen.follows != GEN_YES || a->gen.mode != MODE_AOF)
        return 0;
    if (fetch_list(&a->fetch, a->gen.generation, CHUNK_INCR, 0, &l, e) < 0)
        goto out;
    if (l.n > 0 && l.v[0].start == 0) {
        if (fetch_chunk(&a->fetch, &l.v[0], &raw, e) < 0)
            goto out;
        buf_append(&raw, "", 1); /* NUL-terminated for sscanf */
        if (raw.len < 5 || memcmp(raw.data, "#TS:", 4) != 0 || sscanf(raw.data + 4, "%lld", &first) != 1) {
            ret = 0; /* a command first: the leading commands of TIME's second are in it alone */
            goto out;
        }
    }
    if (l.n == 0 || (first >= 0 && first > a->to)) {
        if (index_generation_get(a->cli.idx, a->cli.instance_id, a->pos.generation, &a->gen, e) < 0)
            goto out;
    }
    ret = 0;
out:
    buf_free(&raw);
    fetch_list_free(&l);
    return ret;
}

static int apply_run(struct apply *a, struct err *e)
{
    struct stream_params sp;
    struct window_choice choice;
    struct buf ks = BUF_INIT;
    const struct cut_result *res;
    char t[TIME_BUFSZ], t2[TIME_BUFSZ];
    redisReply *reply = NULL;
    double send;
    int fed, ret = -1;

    progress_init(&a->progress, "apply", 0);
    if (when_parse("--to", a->o.to, &a->when, e) < 0)
        goto out;
    if (a->o.stop_before != NULL && cut_pattern_parse(a->o.stop_before, &a->pattern, e) < 0)
        goto out;
    if (config_parse_redis_url(a->o.target, &a->addr, e) < 0) {
        e->code = ERR_USAGE;
        err_prefix(e, "--target");
        goto out;
    }
    a->what = config_redact_url(a->o.target);
    if (outdir_open(&a->dir, a->o.dir, 0, e) < 0 || position_read(&a->dir, &a->pos, e) < 0)
        goto out;
    if (cli_open(&a->cli, a->o.config, 1, e) < 0 || cli_instance(&a->cli, a->o.instance, e) < 0)
        goto out;
    if (strcmp(a->pos.instance, a->cli.inst->name) != 0) {
        err_set(e, ERR_EXISTS, "\"%s\" holds a restore of instance \"%s\", not \"%s\"", a->o.dir,
                a->pos.instance, a->cli.inst->name);
        goto out;
    }
    fetch_init(&a->fetch, a->cli.idx, a->cli.st, a->cli.inst->name, a->cli.instance_id);
    if (when_latest(&a->when, &a->fetch, e) < 0)
        goto out;
    a->to = a->when.t;
    time_format_utc(a->to, t, sizeof(t));
    time_format_utc(a->pos.time, t2, sizeof(t2));
    if (a->to < a->pos.time) {
        err_set(e, ERR_EXISTS, "%s is before the position of \"%s\" (%s): apply only rolls forward", t,
                a->o.dir, t2);
        goto out;
    }
    if (fetch_choose(&a->fetch, a->to, &a->gen, &choice, e) < 0 ||
        when_check_end(&a->when, &choice, &a->gen, &a->fetch, e) < 0)
        goto out;
    if (apply_stays(a, e) < 0)
        goto out;
    if (a->gen.generation != a->pos.generation) {
        err_set(e, ERR_EXISTS,
                "%s lies in generation %lld, but \"%s\" was restored from generation %lld HINT: restore "
                "again to reach it",
                t, (long long)a->gen.generation, a->o.dir, (long long)a->pos.generation);
        goto out;
    }
    if (apply_check_offset(a, e) < 0 || apply_progress_total(a, e) < 0)
        goto out;
    if (target_connect(&a->addr, a->what, &a->rc, e) < 0)
        goto out;
    if (apply_check_target(a, e) < 0)
        goto out;

    /* every command runs in the db the restore stood in */
    reply = redisCommand(a->rc, "SELECT %d", a->pos.db);
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        err_set(e, ERR_REDIS, "SELECT %d on %s: %s", a->pos.db, a->what, reply ? reply->str : a->rc->errstr);
        goto out;
    }
    pipeline_init(&a->pipe, a->rc, a->what, a->pos.offset, a->pos.db, a->pos.ts);
    apply_as_batch();

    memset(&sp, 0, sizeof(sp));
    sp.cfg = &a->cli.cfg;
    sp.threads = 1; /* Redis is the bottleneck: leave it the other core */
    sp.gen = &a->gen;
    sp.to = a->to;
    sp.from = INT64_MIN;
    sp.pattern = a->o.stop_before != NULL ? &a->pattern : NULL; /* from the position on */
    sp.progress = &a->progress;
    sp.start = a->pos.offset;
    sp.start_db = a->pos.db;
    sp.start_ts = a->pos.ts;
    /* from the generation's start the mode is the stream's (the restore may have seen no incr bytes) */
    sp.exact = a->pos.offset == 0 ? -1 : a->pos.exact;
    a->stream.poll_interval_ms = a->cli.inst->poll_interval_ms;
    fed = stream_run(&a->stream, &a->fetch, &sp, pipeline_emit, &a->pipe, e);
    progress_end(&a->progress);
    if (fed < 0 && !a->pipe.failed)
        pipeline_drain(&a->pipe); /* e.g. a chunk failed its check: let what was sent settle */
    if (fed < 0 || pipeline_finish(&a->pipe, e) < 0) {
        struct err pe, what;

        err_clear(&pe);
        if (a->pipe.acked == a->pos.offset)
            goto out;
        /* the target moved: say where to, in the position file and the message */
        what = *e;
        if (apply_record(a, a->pipe.acked, a->pipe.acked_db, a->pipe.acked_ts,
                         a->pipe.acked_ts > a->pos.time ? a->pipe.acked_ts : a->pos.time, &pe) == 0)
            err_set(e, what.code,
                    "%s; the commands already sent ran too: position recorded at incr offset %llu", what.msg,
                    (unsigned long long)a->pipe.acked);
        else
            err_set(e, what.code,
                    "%s; the target reached incr offset %llu, but the position was not recorded: %s",
                    what.msg, (unsigned long long)a->pipe.acked, pe.msg);
        goto out;
    }
    res = cut_result(&a->stream.cut);
    if (a->stream.chunks > 0)
        a->pos.exact = a->stream.exact;
    if (apply_record(a, res->offset, res->db, res->ts, a->stream.cut_time, e) < 0)
        goto out;

    time_format_utc(a->pos.base_time, t, sizeof(t));
    when_print(&a->when, stdout);
    printf("instance %s, generation %lld (base %s), from incr offset %llu\n", a->cli.inst->name,
           (long long)a->gen.generation, t, (unsigned long long)sp.start);
    stream_report(&a->stream, stdout);
    time_format_utc(a->to, t2, sizeof(t2));
    if (a->o.stop_before != NULL && !res->stop_found)
        printf("no command matching \"%s\" between the position and %s: applied up to it\n", a->o.stop_before,
               t2);
    if (a->pos.has_keyspace)
        keyspace_format(&a->pos.keyspace, &ks);
    printf("target %s: %llu commands sent, keys %s\n", a->what, (unsigned long long)a->pipe.commands,
           ks.len ? ks.data : "unknown");
    printf("position recorded in \"%s/%s\": incr offset %llu\n", a->o.dir, POSITION_FILE,
           (unsigned long long)a->pos.offset);
    send = a->stream.feed_seconds - a->pipe.wait_seconds;
    printf(
        "fetch %.2f s on %d thread%s (waited %.2f s), scan and send %.2f s, waiting on the target %.2f s\n",
        a->fetch.seconds, sp.threads, sp.threads == 1 ? "" : "s", a->stream.fetch_waited, send > 0 ? send : 0,
        a->pipe.wait_seconds);
    ret = 0;
out:
    if (reply != NULL)
        freeReplyObject(reply);
    buf_free(&ks);
    return ret;
}

int cmd_apply(int argc, char **argv)
{
    struct apply a;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&a, 0, sizeof(a));
    a.dir.fd = -1;
    err_clear(&e);
    cli_init(&a.cli, "apply");
    stream_init(&a.stream);
    rc = apply_parse_args(&a.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "apply");
        goto out;
    }
    if (rc < 0 || apply_run(&a, &e) < 0) {
        progress_end(&a.progress);
        status = cli_fail("apply", &e);
    }
out:
    stream_free(&a.stream);
    if (a.pipe.rc != NULL) /* a refusal before pipeline_init leaves it all zeros */
        pipeline_free(&a.pipe);
    if (a.rc != NULL)
        redisFree(a.rc);
    free(a.what);
    redis_addr_free(&a.addr);
    position_free(&a.pos);
    cut_pattern_free(&a.pattern);
    fetch_free(&a.fetch);
    cli_close(&a.cli);
    outdir_close(&a.dir, 0);
    return status;
}

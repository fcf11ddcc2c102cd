/* cmd_ls.c - `aofroll ls`: the chunks of the archive, from the index.
 *
 *   aofroll ls -c FILE [--instance NAME] [--since TIME] [--until TIME] [--json]
 *
 * One line per chunk (instance, generation, kind, byte range, stored size,
 * compression ratio, first and last second observed) and a footer with
 * the totals. --since/--until keep the chunks whose observed time range
 * meets the window (a base chunk counts as observed at its generation's
 * base time). Everything comes from one indexed query streamed row by row
 * through a large output buffer: no chunk object is read, and a million
 * chunks list in well under a second of CPU (bench/ls.sh). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "inspect.h"
#include "inspect_fmt.h"
#include "json.h"
#include "opt.h"
#include "timeutil.h"
#include "xalloc.h"

#define LS_FLUSH_AT (256 * 1024)

struct ls_opts {
    const char *config;
    const char *instance;
    const char *cluster; /* --cluster: cluster_inspect.c runs it (cli.h) */
    int64_t since, until;
    int json;
};

struct ls_name {
    int64_t id;
    char *name;
};

struct ls {
    struct ls_opts o;
    struct cli cli;
    struct ls_name *names; /* instance ids to names */
    size_t nnames;
    struct buf out; /* human output */
    struct json j;
    struct fmt_utc utc;
    struct err write_err;
    int write_failed;
    /* totals */
    uint64_t chunks, generations, instances, raw, stored;
    int64_t first, last;
    int64_t cur_instance, cur_generation;
};

/* Every option of `aofroll ls`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_ls_options[] = {
    CLI_OPT_CONFIG(struct ls_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct ls_opts, instance),
     .arg = "NAME",
     .help = "only this instance (default: all)"},
    CLI_OPT_CLUSTER(struct ls_opts),
    {.name = "since",
     .kind = OPT_TIME,
     .off = offsetof(struct ls_opts, since),
     .arg = "TIME",
     .help = "only chunks observed at or after TIME"},
    {.name = "until",
     .kind = OPT_TIME,
     .off = offsetof(struct ls_opts, until),
     .arg = "TIME",
     .help = "only chunks observed at or before TIME"},
    CLI_OPT_JSON(struct ls_opts),
    CLI_OPT_HELP,
    {0},
};

static int ls_parse_args(struct ls_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    o->since = INT64_MIN;
    o->until = INT64_MAX;
    rc = opt_parse(cmd_ls_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    if (o->since > o->until)
        return err_set(e, ERR_USAGE, "--since is later than --until");
    return 0;
}

static int ls_add_name(void *ud, int64_t id, const char *name)
{
    struct ls *l = ud;

    l->names = xrealloc(l->names, (l->nnames + 1) * sizeof(*l->names));
    l->names[l->nnames].id = id;
    l->names[l->nnames].name = xstrdup(name);
    l->nnames++;
    return 0;
}

static const char *ls_name_of(const struct ls *l, int64_t id)
{
    size_t i;

    for (i = 0; i < l->nnames; i++)
        if (l->names[i].id == id)
            return l->names[i].name;
    return "?";
}

static double ls_ratio(uint64_t raw, uint64_t stored)
{
    return stored > 0 ? (double)raw / (double)stored : 0.0;
}

/* A time column: RFC 3339 UTC, or "-" padded when unknown. */
static void ls_time(struct ls *l, int64_t t)
{
    if (t <= 0)
        fmt_str(&l->out, "-", 20);
    else
        fmt_utc(&l->utc, &l->out, t);
}

static int ls_row(void *ud, const struct chunk_row *c)
{
    struct ls *l = ud;
    const char *name = ls_name_of(l, c->instance_id);
    const char *kind = c->kind == CHUNK_BASE ? "base" : "incr";
    uint64_t raw = c->end - c->start;

    l->chunks++;
    if (c->instance_id != l->cur_instance) {
        l->instances++;
        l->cur_instance = c->instance_id;
        l->cur_generation = -1;
    }
    if (c->generation != l->cur_generation) {
        l->generations++;
        l->cur_generation = c->generation;
    }
    l->raw += raw;
    l->stored += c->stored_bytes;
    if (c->first > 0 && (l->first == 0 || c->first < l->first))
        l->first = c->first;
    if (c->last > l->last)
        l->last = c->last;
    if (l->o.json) {
        json_object_begin(&l->j);
        json_kv_int(&l->j, "id", c->id);
        json_kv_string(&l->j, "instance", name);
        json_kv_int(&l->j, "generation", c->generation);
        json_kv_string(&l->j, "kind", kind);
        json_kv_uint(&l->j, "start", c->start);
        json_kv_uint(&l->j, "end", c->end);
        json_kv_uint(&l->j, "raw_bytes", raw);
        json_kv_uint(&l->j, "stored_bytes", c->stored_bytes);
        json_key(&l->j, "ratio");
        json_double(&l->j, ls_ratio(raw, c->stored_bytes), 3);
        json_kv_uint(&l->j, "crc32", c->crc32);
        json_kv_time(&l->j, "first", c->first);
        json_kv_time(&l->j, "last", c->last);
        json_kv_string(&l->j, "key", c->key);
        json_object_end(&l->j);
        return 0;
    }
    /* printf would cost more than the query: see inspect_fmt.h */
    fmt_i64(&l->out, c->id, 8);
    buf_append(&l->out, "  ", 2);
    fmt_str(&l->out, name, 12);
    buf_append(&l->out, " ", 1);
    fmt_i64(&l->out, c->generation, 4);
    buf_append(&l->out, "  ", 2);
    buf_appendstr(&l->out, kind);
    buf_append(&l->out, "  ", 2);
    fmt_u64(&l->out, c->start, 12);
    buf_append(&l->out, "  ", 2);
    fmt_u64(&l->out, c->end, 12);
    buf_append(&l->out, "  ", 2);
    fmt_u64(&l->out, c->stored_bytes, 10);
    buf_append(&l->out, "  ", 2);
    fmt_fixed(&l->out, ls_ratio(raw, c->stored_bytes), 2, 6);
    buf_append(&l->out, "  ", 2);
    ls_time(l, c->first);
    buf_append(&l->out, "  ", 2);
    ls_time(l, c->last);
    buf_append(&l->out, "\n", 1);
    if (l->out.len >= LS_FLUSH_AT && !l->write_failed && inspect_flush_stdout(&l->out, &l->write_err) < 0) {
        l->write_failed = 1;
        return 1; /* stop listing: stdout is gone */
    }
    return 0;
}

static void ls_footer(struct ls *l)
{
    char raw[32], stored[32], first[TIME_BUFSZ], last[TIME_BUFSZ];

    inspect_size(l->raw, raw, sizeof(raw));
    inspect_size(l->stored, stored, sizeof(stored));
    inspect_time(l->first, first, sizeof(first));
    inspect_time(l->last, last, sizeof(last));
    if (l->o.json) {
        json_key(&l->j, "totals");
        json_object_begin(&l->j);
        json_kv_uint(&l->j, "chunks", l->chunks);
        json_kv_uint(&l->j, "generations", l->generations);
        json_kv_uint(&l->j, "instances", l->instances);
        json_kv_uint(&l->j, "raw_bytes", l->raw);
        json_kv_uint(&l->j, "stored_bytes", l->stored);
        json_key(&l->j, "ratio");
        json_double(&l->j, ls_ratio(l->raw, l->stored), 3);
        json_kv_time(&l->j, "first", l->first);
        json_kv_time(&l->j, "last", l->last);
        json_object_end(&l->j);
        return;
    }
    buf_printf(&l->out,
               "%" PRIu64 " chunk%s in %" PRIu64 " generation%s of %" PRIu64 " instance%s: %s raw, %s stored"
               " (ratio %.2f), observed from %s to %s\n",
               l->chunks, l->chunks == 1 ? "" : "s", l->generations, l->generations == 1 ? "" : "s",
               l->instances, l->instances == 1 ? "" : "s", raw, stored, ls_ratio(l->raw, l->stored), first,
               last);
}

static int ls_run(struct ls *l, struct err *e)
{
    int64_t id = 0;
    int has;

    if (cli_open(&l->cli, l->o.config, 1, e) < 0)
        return -1;
    if (l->o.instance != NULL) {
        if (cli_instance(&l->cli, l->o.instance, e) < 0)
            return -1;
        id = l->cli.instance_id;
    }
    if (index_instance_names(l->cli.idx, ls_add_name, l, e) < 0)
        return -1;
    l->cur_instance = -1;
    fmt_utc_init(&l->utc);
    if (l->o.json) {
        json_init(&l->j, stdout);
        json_object_begin(&l->j);
        json_key(&l->j, "chunks");
        json_array_begin(&l->j);
    } else {
        buf_printf(&l->out, "%8s  %-12s %4s  %s  %12s  %12s  %10s  %6s  %-20s  %-20s\n", "ID", "INSTANCE",
                   "GEN", "KIND", "START", "END", "STORED", "RATIO", "FIRST", "LAST");
    }
    if (index_chunks_between(l->cli.idx, id, l->o.since, l->o.until, ls_row, l, e) < 0)
        return -1;
    if (l->write_failed) {
        *e = l->write_err;
        return -1;
    }
    if (l->chunks == 0) {
        /* nothing listed: an empty archive is an error, an empty window is not */
        if (inspect_has_chunks(l->cli.idx, id, &has, e) < 0)
            return -1;
        if (!has && id != 0)
            return err_set(e, ERR_NOTFOUND, "the archive of \"%s\" is empty: index \"%s\" records no chunk",
                           l->o.instance, l->cli.cfg.index_path);
        if (!has)
            return err_set(e, ERR_NOTFOUND, "the archive is empty: index \"%s\" records no chunk",
                           l->cli.cfg.index_path);
    }
    if (l->o.json) {
        json_array_end(&l->j);
        ls_footer(l);
        json_object_end(&l->j);
        return json_finish(&l->j, e);
    }
    ls_footer(l);
    return inspect_flush_stdout(&l->out, e);
}

int cmd_ls(int argc, char **argv)
{
    struct ls l;
    struct err e;
    size_t i;
    int rc, status = CLI_EXIT_OK;

    memset(&l, 0, sizeof(l));
    err_clear(&e);
    cli_init(&l.cli, "ls");
    rc = ls_parse_args(&l.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "ls");
        goto out;
    }
    if (rc < 0 || ls_run(&l, &e) < 0)
        status = cli_fail("ls", &e);
out:
    for (i = 0; i < l.nnames; i++)
        free(l.names[i].name);
    free(l.names);
    buf_free(&l.out);
    json_free(&l.j);
    cli_close(&l.cli);
    return status;
}

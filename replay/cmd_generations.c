/* cmd_generations.c - `aofroll generations`: the lineages of the archive.
 *
 *   aofroll generations -c FILE [--instance NAME] [--json]
 *
 * Per generation: its base (format, size, the instant it holds, whether
 * every base chunk is stored), the incr bytes shipped after it, the span
 * of time its incr chunks were observed in, and how it ended: "barrier"
 * (the nightly rewrite), "rewrite" (one the collector did not ask for),
 * "restart", "gap" (continuity could not be proven), or "open" for the
 * one being written. All of it comes from the index: the generations
 * table plus, per generation, its first and last incr chunk. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "inspect.h"
#include "json.h"
#include "opt.h"
#include "timeutil.h"

struct gens_opts {
    const char *config;
    const char *instance;
    const char *cluster; /* --cluster: cluster_inspect.c runs it (cli.h) */
    int json;
};

/* Every option of `aofroll generations`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_generations_options[] = {
    CLI_OPT_CONFIG(struct gens_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct gens_opts, instance),
     .arg = "NAME",
     .help = "only this instance (default: all)"},
    CLI_OPT_CLUSTER(struct gens_opts),
    CLI_OPT_JSON(struct gens_opts),
    CLI_OPT_HELP,
    {0},
};

static int gens_parse_args(struct gens_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_generations_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    return 0;
}

static const char *gens_end(const struct gen_row *g)
{
    if (g->ended == 0)
        return "open";
    return g->end_reason[0] != '\0' ? g->end_reason : "ended";
}

/* Returns the number of generations whose base is not complete. */
static size_t gens_human(const char *instance, const struct inspect_gens *l, struct buf *out)
{
    char bt[TIME_BUFSZ], first[TIME_BUFSZ], last[TIME_BUFSZ], ended[TIME_BUFSZ], bsize[32], isize[32];
    size_t i, incomplete = 0;

    for (i = 0; i < l->n; i++) {
        const struct inspect_gen *r = &l->v[i];
        const struct gen_row *g = &r->g;

        incomplete += !g->base_complete;
        inspect_time(g->base_time, bt, sizeof(bt));
        inspect_time(r->first, first, sizeof(first));
        inspect_time(r->last, last, sizeof(last));
        inspect_time(g->ended, ended, sizeof(ended));
        inspect_size(g->base_size, bsize, sizeof(bsize));
        inspect_size(r->incr_bytes, isize, sizeof(isize));
        buf_printf(out, "%-12s %4" PRId64 "  %-4s %-4s%s %-20s %10s  %10s  %-20s  %-20s  %s", instance,
                   g->generation, g->mode == MODE_RDB ? "rdb" : "aof",
                   g->base_format == BASE_RDB ? "rdb" : "aof", g->base_complete ? " " : "*", bt, bsize, isize,
                   first, last, gens_end(g));
        if (g->ended != 0)
            buf_printf(out, " at %s", ended);
        if (g->mode == MODE_AOF && g->follows == GEN_NO && g->generation > 1)
            buf_appendstr(out, " (a gap before it)");
        buf_append(out, "\n", 1);
    }
    return incomplete;
}

static void gens_json(const char *instance, const struct inspect_gens *l, struct json *j)
{
    size_t i;

    json_object_begin(j);
    json_kv_string(j, "instance", instance);
    json_key(j, "generations");
    json_array_begin(j);
    for (i = 0; i < l->n; i++) {
        const struct inspect_gen *r = &l->v[i];
        const struct gen_row *g = &r->g;

        json_object_begin(j);
        json_kv_int(j, "generation", g->generation);
        json_kv_string(j, "mode", g->mode == MODE_RDB ? "rdb" : "aof");
        json_kv_string(j, "base_format", g->base_format == BASE_RDB ? "rdb" : "aof");
        json_kv_string(j, "base_file", g->base_file);
        json_kv_uint(j, "base_size", g->base_size);
        json_kv_bool(j, "base_complete", g->base_complete);
        json_kv_time(j, "base_time", g->base_time);
        json_kv_string(j, "incr_file", g->incr_file);
        json_kv_uint(j, "incr_bytes", r->incr_bytes);
        json_kv_time(j, "first", r->first);
        json_kv_time(j, "last", r->last);
        json_kv_time(j, "started", g->started);
        json_kv_time(j, "ended", g->ended);
        json_kv_string(j, "end_reason", gens_end(g));
        json_key(j, "exact");
        if (g->exact == GEN_UNKNOWN)
            json_null(j);
        else
            json_bool(j, g->exact == GEN_YES);
        json_key(j, "follows");
        if (g->follows == GEN_UNKNOWN)
            json_null(j);
        else
            json_bool(j, g->follows == GEN_YES);
        json_kv_time(j, "lead_ts", g->lead_ts);
        json_kv_time(j, "proven_end", g->proven_end);
        json_object_end(j);
    }
    json_array_end(j);
    json_object_end(j);
}

static int gens_run(const struct gens_opts *o, struct cli *c, struct err *e)
{
    struct cli_selection sel = {NULL, 0};
    struct inspect_gens l = {NULL, 0, 0};
    struct buf out = BUF_INIT;
    struct json j;
    size_t i, total = 0, incomplete = 0;
    int ret = -1;

    json_init(&j, stdout);
    if (cli_open(c, o->config, 1, e) < 0 || cli_select(c, o->instance, &sel, e) < 0)
        goto out;
    if (o->json) {
        json_object_begin(&j);
        json_key(&j, "instances");
        json_array_begin(&j);
    } else {
        buf_printf(&out, "%-12s %4s  %-4s %-5s %-20s %10s  %10s  %-20s  %-20s  %s\n", "INSTANCE", "GEN",
                   "MODE", "BASE", "BASE TIME", "BASE SIZE", "INCR", "FIRST", "LAST", "END");
    }
    for (i = 0; i < sel.n; i++) {
        l.n = 0;
        if (sel.v[i].id >= 0 && inspect_gens_load(c->idx, sel.v[i].id, &l, e) < 0)
            goto out;
        total += l.n;
        if (o->json)
            gens_json(sel.v[i].name, &l, &j);
        else
            incomplete += gens_human(sel.v[i].name, &l, &out);
    }
    if (total == 0) {
        if (o->instance != NULL)
            err_set(e, ERR_NOTFOUND, "the archive of \"%s\" is empty: no generation recorded", o->instance);
        else
            err_set(e, ERR_NOTFOUND, "the archive is empty: index \"%s\" records no generation",
                    c->cfg.index_path);
        goto out;
    }
    if (o->json) {
        json_array_end(&j);
        json_object_end(&j);
        ret = json_finish(&j, e);
        goto out;
    }
    if (incomplete > 0)
        buf_appendstr(&out, "* base not complete: not every base chunk is stored, so that generation cannot "
                            "restore\n");
    ret = inspect_flush_stdout(&out, e);
out:
    json_free(&j);
    buf_free(&out);
    inspect_gens_free(&l);
    cli_selection_free(&sel);
    return ret;
}

int cmd_generations(int argc, char **argv)
{
    struct gens_opts o;
    struct cli c;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    err_clear(&e);
    cli_init(&c, "generations");
    rc = gens_parse_args(&o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "generations");
        goto out;
    }
    if (rc < 0 || gens_run(&o, &c, &e) < 0)
        status = cli_fail("generations", &e);
out:
    cli_close(&c);
    return status;
}

/* cmd_info.c - `aofroll info`: one screen per instance, what an operator
 * asks first (pgBackRest's `info`, Litestream's `generations`).
 *
 *   aofroll info [-c FILE] [--instance NAME] [--json]
 *
 * Per instance: the restorable windows (window.h, as restore chooses), the
 * newest archived second and its age, the generations (how many, the
 * newest and how the one before ended), the archive's size (stored and
 * raw bytes, chunks: summed from the index, nothing is fetched), the
 * collector's last poll and lag (the status row, verdict.h's judgement),
 * and the last barrier or snapshot. Read-only; exit 0 unless the index or
 * the configuration cannot be read (status is the check that fails on a
 * stale backup). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "inspect.h"
#include "json.h"
#include "opt.h"
#include "timeutil.h"
#include "units.h"
#include "verdict.h"
#include "window.h"

struct info_opts {
    const char *config;
    const char *instance;
    int json;
};

/* What one instance adds up to. */
struct info_sums {
    uint64_t chunks, stored, raw;
};

struct info {
    struct info_opts o;
    struct cli cli;
    struct buf out;
    struct json j;
    int64_t now;
};

/* Every option of `aofroll info`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_info_options[] = {
    CLI_OPT_CONFIG(struct info_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct info_opts, instance),
     .arg = "NAME",
     .help = "only this instance (default: all)"},
    CLI_OPT_JSON(struct info_opts),
    CLI_OPT_HELP,
    {0},
};

static int info_parse_args(struct info_opts *o, int argc, char **argv, struct err *e)
{
    memset(o, 0, sizeof(*o));
    return opt_parse(cmd_info_options, argc, argv, o, NULL, e);
}

static int info_sum_chunk(void *ud, const struct chunk_row *c)
{
    struct info_sums *s = ud;

    s->chunks++;
    s->stored += c->stored_bytes;
    s->raw += c->end - c->start;
    return 0;
}

static int info_sum(struct info *in, int64_t id, const struct inspect_gens *gens, struct info_sums *s,
                    struct err *e)
{
    size_t i;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < gens->n; i++)
        if (index_chunks(in->cli.idx, id, gens->v[i].g.generation, CHUNK_BASE, 0, info_sum_chunk, s, e) < 0 ||
            index_chunks(in->cli.idx, id, gens->v[i].g.generation, CHUNK_INCR, 0, info_sum_chunk, s, e) < 0)
            return -1;
    return 0;
}

static void info_age(int64_t now, int64_t t, char *buf, size_t n)
{
    char when[TIME_BUFSZ];

    if (t <= 0) {
        snprintf(buf, n, "never");
        return;
    }
    inspect_time(t, when, sizeof(when));
    snprintf(buf, n, "%s (%" PRId64 " s ago)", when, now - t);
}

static void info_text(struct info *in, const struct cli_selected *inst, const struct window *w, size_t nw,
                      const struct inspect_gens *gens, const struct info_sums *s,
                      const struct status_row *row, const struct verdict *v, int64_t latest)
{
    const struct inspect_gen *newest = gens->n ? &gens->v[gens->n - 1] : NULL;
    char a[TIME_BUFSZ], b[TIME_BUFSZ], age[TIME_BUFSZ + 32], stored[32], raw[32], lag[32];
    uint64_t lag_bytes = 0;
    int64_t lag_seconds = -1;
    size_t i, n;

    buf_printf(&in->out, "%s\n", inst->name);
    buf_printf(&in->out, "  restorable     ");
    if (nw == 0)
        buf_printf(&in->out, "nowhere yet (no generation has a complete base)");
    for (i = 0; i < nw; i++) {
        inspect_time(w[i].from, a, sizeof(a));
        inspect_time(w[i].to, b, sizeof(b));
        buf_printf(&in->out, "%sfrom %s to %s", i ? ", " : "", a, b);
    }
    buf_append(&in->out, "\n", 1);
    info_age(in->now, latest, age, sizeof(age));
    buf_printf(&in->out, "  newest second  %s\n", nw ? age : "none");
    if (newest != NULL) {
        inspect_time(newest->g.base_time, a, sizeof(a));
        buf_printf(&in->out,
                   "  generations    %zu (%" PRId64 " to %" PRId64 "); newest %" PRId64 ": %s, base %s, %s\n",
                   gens->n, gens->v[0].g.generation, newest->g.generation, newest->g.generation,
                   newest->g.mode == MODE_RDB ? "snapshot" : "aof", a,
                   newest->g.ended == 0 ? "open"
                                        : (newest->g.end_reason[0] ? newest->g.end_reason : "ended"));
    } else {
        buf_printf(&in->out, "  generations    none\n");
    }
    inspect_size(s->stored, stored, sizeof(stored));
    inspect_size(s->raw, raw, sizeof(raw));
    buf_printf(&in->out, "  archive        %s stored in %" PRIu64 " chunk%s (%s of AOF)\n", stored, s->chunks,
               s->chunks == 1 ? "" : "s", raw);
    if (row != NULL) {
        verdict_lag(row, &lag_bytes, &lag_seconds);
        units_format_size((int64_t)lag_bytes, lag, sizeof(lag));
        info_age(in->now, row->last_poll, age, sizeof(age));
        buf_printf(&in->out, "  collector      last poll %s, lag %s", age, lag);
        if (lag_seconds >= 0)
            buf_printf(&in->out, ", %" PRId64 " s", lag_seconds);
        buf_append(&in->out, "\n", 1);
        info_age(in->now, row->last_barrier, age, sizeof(age));
        buf_printf(&in->out, "  last %s  %s\n", inst->cfg->mode == MODE_RDB ? "snapshot" : "barrier ", age);
    } else {
        buf_printf(&in->out, "  collector      never polled this instance\n");
    }
    buf_printf(&in->out, "  status         %s", v->nreasons ? "PROBLEM" : "OK");
    for (i = 0, n = 0; i < VERDICT_COUNT; i++)
        if (verdict_has(v, (enum verdict_reason)i))
            buf_printf(&in->out, "%s%s", n++ ? "; " : ": ", v->msg[i]);
    buf_printf(&in->out, "%s\n", v->nreasons ? " (aofroll status)" : "");
}

static void info_json(struct info *in, const struct cli_selected *inst, const struct window *w, size_t nw,
                      const struct inspect_gens *gens, const struct info_sums *s,
                      const struct status_row *row, const struct verdict *v, int64_t latest)
{
    uint64_t lag_bytes = 0;
    int64_t lag_seconds = -1;
    size_t i;

    json_object_begin(&in->j);
    json_kv_string(&in->j, "instance", inst->name);
    json_kv_string(&in->j, "mode", inst->cfg->mode == MODE_RDB ? "rdb" : "aof");
    json_key(&in->j, "windows");
    json_array_begin(&in->j);
    for (i = 0; i < nw; i++) {
        json_object_begin(&in->j);
        json_kv_time(&in->j, "from", w[i].from);
        json_kv_time(&in->j, "to", w[i].to);
        json_object_end(&in->j);
    }
    json_array_end(&in->j);
    json_kv_time(&in->j, "newest_second", nw ? latest : 0);
    json_kv_uint(&in->j, "generations", gens->n);
    json_kv_int(&in->j, "newest_generation", gens->n ? gens->v[gens->n - 1].g.generation : 0);
    json_kv_uint(&in->j, "chunks", s->chunks);
    json_kv_uint(&in->j, "stored_bytes", s->stored);
    json_kv_uint(&in->j, "raw_bytes", s->raw);
    if (row != NULL)
        verdict_lag(row, &lag_bytes, &lag_seconds);
    json_kv_time(&in->j, "last_poll", row ? row->last_poll : 0);
    json_kv_uint(&in->j, "lag_bytes", lag_bytes);
    json_key(&in->j, "lag_seconds");
    if (lag_seconds >= 0)
        json_int(&in->j, lag_seconds);
    else
        json_null(&in->j);
    json_kv_time(&in->j, "last_barrier", row ? row->last_barrier : 0);
    json_kv_bool(&in->j, "ok", v->nreasons == 0);
    json_key(&in->j, "problems");
    json_array_begin(&in->j);
    for (i = 0; i < VERDICT_COUNT; i++)
        if (verdict_has(v, (enum verdict_reason)i))
            json_string(&in->j, v->msg[i]);
    json_array_end(&in->j);
    json_object_end(&in->j);
}

static int info_instance(struct info *in, const struct cli_selected *inst, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    struct window_gen *wg = NULL;
    struct window *w = NULL;
    struct info_sums sums;
    struct status_row row;
    struct verdict v;
    struct fetch f;
    size_t nwg = 0, nw = 0;
    int have = 0, archived = 0, ret = -1;
    int64_t latest = 0;

    memset(&sums, 0, sizeof(sums));
    memset(&row, 0, sizeof(row));
    fetch_init(&f, in->cli.idx, in->cli.st, inst->name, inst->id);
    if (inst->id >= 0) {
        if (inspect_gens_load(in->cli.idx, inst->id, &gens, e) < 0 || fetch_gens(&f, &wg, &nwg, e) < 0 ||
            info_sum(in, inst->id, &gens, &sums, e) < 0)
            goto out;
        w = calloc(nwg ? nwg : 1, sizeof(*w));
        if (w == NULL) {
            err_set(e, ERR_IO, "out of memory");
            goto out;
        }
        nw = window_list(wg, nwg, w);
        if (nw > 0)
            latest = w[nw - 1].to;
    }
    if (inspect_judge(in->cli.idx, inst->cfg, inst->id, in->now, 0, &row, &have, &archived, &v, e) < 0)
        goto out;
    if (in->o.json)
        info_json(in, inst, w, nw, &gens, &sums, have ? &row : NULL, &v, latest);
    else
        info_text(in, inst, w, nw, &gens, &sums, have ? &row : NULL, &v, latest);
    ret = 0;
out:
    free(w);
    free(wg);
    fetch_free(&f);
    inspect_gens_free(&gens);
    return ret;
}

static int info_run(struct info *in, struct err *e)
{
    struct cli_selection sel = {NULL, 0};
    size_t i;
    int ret = -1;

    json_init(&in->j, stdout);
    in->now = time_now();
    if (cli_open(&in->cli, in->o.config, 1, e) < 0 || cli_select(&in->cli, in->o.instance, &sel, e) < 0)
        goto out;
    if (in->o.json) {
        json_object_begin(&in->j);
        json_kv_time(&in->j, "now", in->now);
        json_key(&in->j, "instances");
        json_array_begin(&in->j);
    }
    for (i = 0; i < sel.n; i++) {
        if (!in->o.json && i > 0)
            buf_append(&in->out, "\n", 1);
        if (info_instance(in, &sel.v[i], e) < 0)
            goto out;
    }
    if (in->o.json) {
        json_array_end(&in->j);
        json_object_end(&in->j);
        ret = json_finish(&in->j, e);
        goto out;
    }
    ret = inspect_flush_stdout(&in->out, e);
out:
    cli_selection_free(&sel);
    return ret;
}

int cmd_info(int argc, char **argv)
{
    struct info in;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&in, 0, sizeof(in));
    err_clear(&e);
    cli_init(&in.cli, "info");
    rc = info_parse_args(&in.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "info");
        goto out;
    }
    if (rc < 0 || info_run(&in, &e) < 0)
        status = cli_fail("info", &e);
out:
    json_free(&in.j);
    buf_free(&in.out);
    cli_close(&in.cli);
    return status;
}

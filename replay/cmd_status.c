/* cmd_status.c - `aofroll status`: is the collector alive and keeping up?
 *
 *   aofroll status -c FILE [--instance NAME] [--json]
 *
 * Reads the heartbeat row the collector rewrites after every poll (the
 * index's status table) and prints, per instance: the last poll and its
 * age, the AOF file followed and its size, the shipped offset, the lag in
 * bytes and seconds (metrics.h defines both, so that these figures and the
 * collector's Prometheus file agree), the last error and the last barrier.
 *
 * For cron and Nagios-style checks it exits 1, naming each problem on
 * stderr, when for any instance one of the reasons of verdict.h applies
 * (the same judgement the collector's metrics file exports):
 *   - there is no heartbeat at all;
 *   - the heartbeat is older than 3 poll intervals (at least 1 s, since it
 *     is kept in whole seconds): the collector is stopped or stuck;
 *   - the last poll failed (the AOF, the storage or the index);
 *   - Redis has been unreachable for more than 3 poll intervals;
 *   - nothing of the instance has ever been archived;
 *   - the lag exceeds the instance's `lag_threshold` (when set);
 *   - the collector found the AOF off (appendonly no): nothing is archived
 *     and the archive has a gap until it is on again;
 *   - a barrier has been held back longer than `barrier_timeout`.
 * Otherwise it exits 0. */
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
#include "units.h"
#include "verdict.h"
#include "xalloc.h"

struct status_opts {
    const char *config;
    const char *instance;
    const char *cluster; /* --cluster: cluster_inspect.c runs it (cli.h) */
    int json;
    int index_copy; /* the index read is an index copy (status --cluster) */
};

struct status {
    struct status_opts o;
    struct cli cli;
    struct buf out;
    struct buf problems; /* "a: ...; b: ..." for stderr */
    struct json j;
    int64_t now;
    size_t nproblems;
};

/* Every option of `aofroll status`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_status_options[] = {
    CLI_OPT_CONFIG(struct status_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct status_opts, instance),
     .arg = "NAME",
     .help = "only this instance (default: all)"},
    CLI_OPT_CLUSTER(struct status_opts),
    {.name = "index-copy",
     .kind = OPT_FLAG,
     .off = offsetof(struct status_opts, index_copy),
     .help = "the index is an index copy from storage: its heartbeat may be index_upload_interval older "
             "(status --cluster says so for nodes read through their copies)"},
    CLI_OPT_JSON(struct status_opts),
    CLI_OPT_HELP,
    {0},
};

static int status_parse_args(struct status_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_status_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    return 0;
}

/* The instance's reasons: "a: ...; b: ..." for stderr, "...; ..." for
 * its own line. */
static void status_problems(struct status *s, const char *instance, const struct verdict *v, struct buf *list)
{
    int r;

    for (r = 0; r < VERDICT_COUNT; r++) {
        if (!verdict_has(v, (enum verdict_reason)r))
            continue;
        s->nproblems++;
        buf_printf(&s->problems, "%s%s: %s", s->problems.len ? "; " : "", instance, v->msg[r]);
        buf_printf(list, "%s%s", list->len ? "; " : "", v->msg[r]);
    }
}

static void status_json(struct status *s, const struct cli_selected *in, const struct status_row *row,
                        int have, const struct verdict *v, int archived)
{
    const struct instance_config *ic = in->cfg;
    uint64_t lag_bytes = 0;
    int64_t lag_seconds = 0;
    int r;

    if (have)
        verdict_lag(row, &lag_bytes, &lag_seconds);
    json_object_begin(&s->j);
    json_kv_string(&s->j, "instance", in->name);
    json_kv_bool(&s->j, "ok", v->nreasons == 0);
    json_key(&s->j, "problems");
    json_array_begin(&s->j);
    for (r = 0; r < VERDICT_COUNT; r++)
        if (verdict_has(v, (enum verdict_reason)r))
            json_string(&s->j, v->msg[r]);
    json_array_end(&s->j);
    json_key(&s->j, "reasons");
    json_array_begin(&s->j);
    for (r = 0; r < VERDICT_COUNT; r++)
        if (verdict_has(v, (enum verdict_reason)r))
            json_string(&s->j, verdict_reason_name((enum verdict_reason)r));
    json_array_end(&s->j);
    json_kv_bool(&s->j, "heartbeat", have);
    json_kv_time(&s->j, "last_poll", row->last_poll);
    json_kv_int(&s->j, "heartbeat_age_seconds", have ? s->now - row->last_poll : -1);
    json_kv_int(&s->j, "stale_after_seconds", v->stale_after);
    json_kv_int(&s->j, "poll_interval_ms", row->poll_interval_ms);
    json_kv_string(&s->j, "last_poll_error", row->poll_error[0] != '\0' ? row->poll_error : NULL);
    json_kv_time(&s->j, "redis_down_since", row->redis_down_since);
    json_kv_bool(&s->j, "archived", archived);
    json_kv_int(&s->j, "generation", row->generation);
    json_kv_string(&s->j, "current_file", row->current_file);
    json_kv_uint(&s->j, "current_size", row->current_size);
    json_kv_uint(&s->j, "shipped", row->shipped);
    json_kv_time(&s->j, "shipped_time", row->shipped_time);
    json_kv_uint(&s->j, "lag_bytes", lag_bytes);
    json_key(&s->j, "lag_seconds");
    if (lag_seconds >= 0)
        json_int(&s->j, lag_seconds);
    else
        json_null(&s->j);
    json_kv_int(&s->j, "lag_threshold", ic->lag_threshold);
    json_kv_time(&s->j, "last_barrier", ic->mode == MODE_RDB ? 0 : row->last_barrier);
    json_kv_time(&s->j, "last_snapshot", ic->mode == MODE_RDB ? row->last_barrier : 0);
    json_kv_time(&s->j, "aof_off_since", row->aof_off_since);
    json_kv_time(&s->j, "barrier_postponed_since", row->barrier_postponed_since);
    json_kv_string(&s->j, "barrier_postponed_why",
                   row->barrier_postponed_since > 0 ? row->barrier_postponed_why : NULL);
    json_kv_time(&s->j, "last_error_time", row->last_error_time);
    json_kv_string(&s->j, "last_error", row->last_error_time > 0 ? row->last_error : NULL);
    json_kv_int(&s->j, "pid", row->pid);
    json_object_end(&s->j);
}

static void status_text(struct status *s, const struct cli_selected *in, const struct status_row *row,
                        const struct verdict *v)
{
    const struct instance_config *ic = in->cfg;
    char a[32], b[32], tb[TIME_BUFSZ], barrier[TIME_BUFSZ], errt[TIME_BUFSZ];
    uint64_t lag_bytes = 0;
    int64_t lag_seconds = 0;

    verdict_lag(row, &lag_bytes, &lag_seconds);
    inspect_time(row->last_poll, tb, sizeof(tb));
    buf_printf(&s->out,
               "  last poll     %s (%" PRId64 " s ago; poll interval %" PRId64 " ms, stale after %" PRId64
               " s), collector pid %d\n",
               tb, s->now - row->last_poll, row->poll_interval_ms, v->stale_after, row->pid);
    if (row->redis_down_since > 0) {
        inspect_time(row->redis_down_since, tb, sizeof(tb));
        buf_printf(&s->out, "  redis         unreachable since %s\n", tb);
    }
    units_format_size((int64_t)row->current_size, a, sizeof(a));
    if (row->generation > 0)
        buf_printf(&s->out, "  following     generation %" PRId64 ", \"%s\", %s (%" PRIu64 " bytes)\n",
                   row->generation, row->current_file, a, row->current_size);
    else
        buf_printf(&s->out, "  following     nothing yet\n");
    inspect_time(row->shipped_time, tb, sizeof(tb));
    buf_printf(&s->out, "  shipped       %" PRIu64 " bytes, last byte observed %s\n", row->shipped, tb);
    units_format_size((int64_t)lag_bytes, a, sizeof(a));
    if (lag_seconds >= 0)
        snprintf(b, sizeof(b), "%" PRId64 " s", lag_seconds);
    else
        snprintf(b, sizeof(b), "unknown");
    buf_printf(&s->out, "  lag           %s (%" PRIu64 " bytes), %s", a, lag_bytes, b);
    if (ic->lag_threshold > 0) {
        units_format_size(ic->lag_threshold, a, sizeof(a));
        buf_printf(&s->out, "; threshold %s", a);
    }
    buf_append(&s->out, "\n", 1);
    inspect_time(row->last_barrier, barrier, sizeof(barrier));
    buf_printf(&s->out, "  last %s %s\n", ic->mode == MODE_RDB ? "snapshot" : "barrier ",
               row->last_barrier > 0 ? barrier : "never");
    if (row->aof_off_since > 0) {
        inspect_time(row->aof_off_since, tb, sizeof(tb));
        buf_printf(&s->out, "  aof           off since %s\n", tb);
    }
    if (row->barrier_postponed_since > 0) {
        inspect_time(row->barrier_postponed_since, tb, sizeof(tb));
        buf_printf(&s->out, "  barrier       held back since %s (%" PRId64 " s): %s\n", tb,
                   s->now - row->barrier_postponed_since, row->barrier_postponed_why);
    }
    inspect_time(row->last_error_time, errt, sizeof(errt));
    if (row->last_error_time > 0)
        buf_printf(&s->out, "  last error    %s: %s\n", errt, row->last_error);
    else
        buf_printf(&s->out, "  last error    none\n");
}

static int status_instance(struct status *s, const struct cli_selected *in, struct err *e)
{
    struct verdict v;
    struct status_row row;
    struct buf list = BUF_INIT;
    int have = 0, archived = 0, ret = -1;

    if (inspect_judge(s->cli.idx, in->cfg, in->id, s->now,
                      s->o.index_copy ? s->cli.cfg.index_upload_interval_s : 0, &row, &have, &archived, &v,
                      e) < 0)
        goto out;
    status_problems(s, in->name, &v, &list);
    if (s->o.json) {
        status_json(s, in, &row, have, &v, archived);
    } else {
        buf_printf(&s->out, "%s: %s%s\n", in->name, list.len ? "PROBLEM: " : "OK", list.len ? list.data : "");
        if (have)
            status_text(s, in, &row, &v);
    }
    ret = 0;
out:
    buf_free(&list);
    return ret;
}

static int status_run(struct status *s, struct err *e)
{
    struct cli_selection sel = {NULL, 0};
    size_t i;
    int ret = -1;

    json_init(&s->j, stdout);
    s->now = time_now();
    if (cli_open(&s->cli, s->o.config, 1, e) < 0)
        goto out;
    if (cli_select(&s->cli, s->o.instance, &sel, e) < 0) {
        /* a configured instance the index has not seen: no heartbeat */
        if (e->code != ERR_NOTFOUND || s->o.instance == NULL)
            goto out;
        err_clear(e);
        sel.v = xcalloc(1, sizeof(*sel.v));
        sel.v[0].cfg = config_instance(&s->cli.cfg, s->o.instance);
        sel.v[0].name = sel.v[0].cfg->name;
        sel.v[0].id = -1;
        sel.n = 1;
    }
    if (s->o.json) {
        json_object_begin(&s->j);
        json_kv_time(&s->j, "now", s->now);
        json_key(&s->j, "instances");
        json_array_begin(&s->j);
    }
    for (i = 0; i < sel.n; i++)
        if (status_instance(s, &sel.v[i], e) < 0)
            goto out;
    if (s->o.json) {
        json_array_end(&s->j);
        json_kv_bool(&s->j, "ok", s->nproblems == 0);
        json_object_end(&s->j);
        if (json_finish(&s->j, e) < 0)
            goto out;
    } else if (inspect_flush_stdout(&s->out, e) < 0) {
        goto out;
    }
    if (s->nproblems > 0) {
        err_set(e, ERR_IO, "%s", s->problems.data);
        goto out;
    }
    ret = 0;
out:
    cli_selection_free(&sel);
    return ret;
}

int cmd_status(int argc, char **argv)
{
    struct status s;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&s, 0, sizeof(s));
    err_clear(&e);
    cli_init(&s.cli, "status");
    rc = status_parse_args(&s.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "status");
        goto out;
    }
    if (rc < 0 || status_run(&s, &e) < 0)
        status = cli_fail("status", &e);
out:
    buf_free(&s.out);
    buf_free(&s.problems);
    json_free(&s.j);
    cli_close(&s.cli);
    return status;
}

/* cmd_timeline.c - `aofroll timeline`: write activity over time.
 *
 *   aofroll timeline -c FILE --instance NAME [--since TIME] [--until TIME]
 *                    [--by minute|hour] [--svg FILE] [--json]
 *
 * Bytes and commands per minute or hour, as a bar chart in the terminal
 * and, with --svg, as a standalone SVG (chart.h). Every command in the
 * window is decoded (without splitting its arguments) and counted in the
 * bucket of its second: the "#TS:" second, or when the collector saw it.
 * Counts leave out SELECT, MULTI, EXEC and DISCARD; bytes are the AOF
 * bytes of every command. The window defaults to the whole archive of the
 * instance, and the bucket to a minute for windows up to three hours, an
 * hour beyond. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "inspect.h"
#include "inspect_decode.h"
#include "json.h"
#include "outdir.h"
#include "timeutil.h"
#include "xalloc.h"

/* More buckets than this is surely a mistake (a year by the minute). */
#define TIMELINE_MAX_BUCKETS 200000
#define TIMELINE_BAR_WIDTH 50

struct timeline_opts {
    const char *config;
    const char *instance;
    int64_t since, until;
    int have_since, have_until;
    int64_t bucket_s; /* 0: choose */
    const char *svg;
    int json;
};

struct timeline {
    struct timeline_opts o;
    struct cli cli;
    struct fetch f;
    int64_t since, until, bucket_s;
    struct chart_bucket *b;
    size_t nb;
    uint64_t commands, bytes;
};

static int timeline_parse_args(struct timeline_opts *o, int argc, char **argv, struct err *e)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"instance", required_argument, NULL, 'i'},
                                         {"since", required_argument, NULL, 's'},
                                         {"until", required_argument, NULL, 'u'},
                                         {"by", required_argument, NULL, 'b'},
                                         {"svg", required_argument, NULL, 'S'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int ch;

    memset(o, 0, sizeof(*o));
    while ((ch = cli_getopt(argc, argv, "+:c:h", opts, e)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'i':
            o->instance = optarg;
            break;
        case 's':
            if (cli_parse_time("--since", optarg, &o->since, e) < 0)
                return -1;
            o->have_since = 1;
            break;
        case 'u':
            if (cli_parse_time("--until", optarg, &o->until, e) < 0)
                return -1;
            o->have_until = 1;
            break;
        case 'b':
            if (strcmp(optarg, "minute") == 0)
                o->bucket_s = 60;
            else if (strcmp(optarg, "hour") == 0)
                o->bucket_s = 3600;
            else
                return err_set(e, ERR_USAGE, "--by \"%s\": expected minute or hour", optarg);
            break;
        case 'S':
            o->svg = optarg;
            break;
        case 'j':
            o->json = 1;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    if (optind < argc)
        return err_set(e, ERR_USAGE, "unexpected argument \"%s\"", argv[optind]);
    if (cli_require(o->instance, "--instance NAME", e) < 0)
        return -1;
    if (o->have_since && o->have_until && o->since > o->until)
        return err_set(e, ERR_USAGE, "--since is later than --until");
    return 0;
}

static int timeline_on_command(void *ud, const struct inspect_cmd *c, struct err *e)
{
    struct timeline *t = ud;
    int64_t s = inspect_cmd_time(c);
    struct chart_bucket *b;

    (void)e;
    if (s > t->until)
        return 1;
    if (s < t->since)
        return 0;
    b = &t->b[(s - t->since) / t->bucket_s];
    b->bytes += c->end - c->start;
    t->bytes += c->end - c->start;
    if (c->kind == AOFSCAN_CMD_OTHER) {
        b->commands++;
        t->commands++;
    }
    return 0;
}

static int timeline_generation(struct timeline *t, const struct inspect_gen *g, struct err *e)
{
    struct inspect_decode_params p;
    struct inspect_decode_result r;
    uint64_t from = 0;

    if (index_sizelog_at(t->cli.idx, t->cli.instance_id, g->g.generation, t->since - 1, &from, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e);
        from = 0;
    }
    memset(&p, 0, sizeof(p));
    p.generation = g->g.generation;
    p.kind = CHUNK_INCR;
    p.from = from;
    p.to = UINT64_MAX;
    p.stop_after_ts = t->until;
    p.on_command = timeline_on_command;
    p.ud = t;
    return inspect_decode(&t->f, &p, &r, e);
}

static int timeline_json(const struct timeline *t, FILE *fp, struct err *e)
{
    struct json j;
    size_t i;
    int ret;

    json_init(&j, fp);
    json_object_begin(&j);
    json_kv_string(&j, "instance", t->o.instance);
    json_kv_int(&j, "bucket_seconds", t->bucket_s);
    json_kv_time(&j, "since", t->since);
    json_kv_time(&j, "until", t->until);
    json_key(&j, "buckets");
    json_array_begin(&j);
    for (i = 0; i < t->nb; i++) {
        json_object_begin(&j);
        json_kv_time(&j, "start", t->b[i].start);
        json_kv_uint(&j, "bytes", t->b[i].bytes);
        json_kv_uint(&j, "commands", t->b[i].commands);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_kv_uint(&j, "bytes", t->bytes);
    json_kv_uint(&j, "commands", t->commands);
    json_object_end(&j);
    ret = json_finish(&j, e);
    json_free(&j);
    return ret;
}

static int timeline_run(struct timeline *t, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    struct buf out = BUF_INIT, svg = BUF_INIT;
    struct chart chart;
    char title[256], a[TIME_BUFSZ], b[TIME_BUFSZ], what[128];
    int64_t first, last;
    size_t i;
    int ret = -1;

    if (cli_open(&t->cli, t->o.config, 1, e) < 0 || cli_instance(&t->cli, t->o.instance, e) < 0)
        goto out;
    fetch_init(&t->f, t->cli.idx, t->cli.st, t->o.instance, t->cli.instance_id);
    if (inspect_gens_load(t->cli.idx, t->cli.instance_id, &gens, e) < 0)
        goto out;
    if (!inspect_gens_span(&gens, &first, &last)) {
        inspect_outside(&t->f, "every second", e);
        goto out;
    }
    t->since = t->o.have_since ? t->o.since : first;
    t->until = t->o.have_until ? t->o.until : last;
    if (t->until < first || t->since > last || t->since > t->until) {
        time_format_utc(t->since, a, sizeof(a));
        time_format_utc(t->until, b, sizeof(b));
        snprintf(what, sizeof(what), "the window %s .. %s", a, b);
        inspect_outside(&t->f, what, e);
        goto out;
    }
    /* nothing was written outside the archive's span: the chart covers
     * the part of the window that meets it (any two TIMEs then differ by
     * far less than INT64_MAX) */
    if (t->since < first)
        t->since = first;
    if (t->until > last)
        t->until = last;
    t->bucket_s = t->o.bucket_s != 0 ? t->o.bucket_s : (t->until - t->since <= 3 * 3600 ? 60 : 3600);
    /* buckets start on whole minutes or hours (before 1970 too) */
    t->since -= ((t->since % t->bucket_s) + t->bucket_s) % t->bucket_s;
    if ((t->until - t->since) / t->bucket_s >= TIMELINE_MAX_BUCKETS) {
        err_set(e, ERR_USAGE, "%" PRId64 " buckets are too many (at most %d) HINT: narrow --since/--until%s",
                (t->until - t->since) / t->bucket_s + 1, TIMELINE_MAX_BUCKETS,
                t->bucket_s < 3600 ? " or use --by hour" : "");
        goto out;
    }
    t->nb = (size_t)((t->until - t->since) / t->bucket_s + 1);
    t->b = xcalloc(t->nb, sizeof(*t->b));
    for (i = 0; i < t->nb; i++)
        t->b[i].start = t->since + (int64_t)i * t->bucket_s;
    for (i = 0; i < gens.n; i++) {
        const struct inspect_gen *g = &gens.v[i];

        if (g->incr_bytes == 0 || g->g.base_time > t->until || g->last < t->since)
            continue;
        if (timeline_generation(t, g, e) < 0)
            goto out;
    }
    time_format_utc(t->since, a, sizeof(a));
    time_format_utc(t->until, b, sizeof(b));
    snprintf(title, sizeof(title), "%s: AOF writes per %s, %s .. %s", t->o.instance,
             t->bucket_s == 60 ? "minute" : "hour", a, b);
    chart.title = title;
    chart.bucket_s = t->bucket_s;
    chart.buckets = t->b;
    chart.n = t->nb;
    if (t->o.svg != NULL) {
        chart_svg(&chart, &svg);
        if (outdir_write_atomic_path(t->o.svg, svg.data, svg.len, e) < 0)
            goto out;
    }
    if (t->o.json) {
        ret = timeline_json(t, stdout, e);
        goto out;
    }
    chart_text(&chart, TIMELINE_BAR_WIDTH, &out);
    if (t->o.svg != NULL)
        buf_printf(&out, "chart written to \"%s\"\n", t->o.svg);
    ret = inspect_flush_stdout(&out, e);
out:
    buf_free(&out);
    buf_free(&svg);
    inspect_gens_free(&gens);
    return ret;
}

int cmd_timeline(int argc, char **argv)
{
    struct timeline t;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&t, 0, sizeof(t));
    err_clear(&e);
    cli_init(&t.cli, "timeline");
    rc = timeline_parse_args(&t.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "timeline");
        goto out;
    }
    if (rc < 0 || timeline_run(&t, &e) < 0)
        status = cli_fail("timeline", &e);
out:
    free(t.b);
    fetch_free(&t.f);
    cli_close(&t.cli);
    return status;
}

/* cmd_timeline.c - `aofroll timeline`: write activity over time.
 *
 *   aofroll timeline -c FILE --instance NAME [--since TIME] [--until TIME]
 *                    [--by second|10s|minute|hour] [--cmd NAMES] [--svg FILE] [--json]
 *
 * Bytes and commands per bucket, as a bar chart in the terminal
 * and, with --svg, as a standalone SVG (chart.h). Every command in the
 * window is decoded (without splitting its arguments) and counted in the
 * bucket of its second: the "#TS:" second, or when the collector saw it.
 * Counts leave out SELECT, MULTI, EXEC and DISCARD; bytes are the AOF
 * bytes of every command. The window defaults to the whole archive of the
 * instance, and the bucket to a second for windows up to two minutes, ten
 * seconds up to twenty minutes, a minute up to three hours, an hour beyond.
 * Markers: each barrier (the index's events), each generation's start, and
 * with --cmd each command of those names (log --cmd's syntax), at its
 * second. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "cli.h"
#include "commands.h"
#include "cut.h"
#include "fetch.h"
#include "inspect.h"
#include "inspect_decode.h"
#include "json.h"
#include "opt.h"
#include "outdir.h"
#include "timeutil.h"
#include "xalloc.h"

/* More buckets than this is surely a mistake (a year by the minute). */
#define TIMELINE_MAX_BUCKETS 200000
/* Command markers beyond this are counted, not drawn. */
#define TIMELINE_MAX_MARKERS 1000
#define TIMELINE_BAR_WIDTH 50

struct timeline_opts {
    const char *config;
    const char *instance;
    int64_t since, until;
    int have_since, have_until;
    const char *by;   /* --by second|10s|minute|hour */
    int64_t bucket_s; /* from --by; 0: choose */
    const char *svg;
    const char *cmds; /* --cmd: commands to mark */
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
    struct cut_pattern pattern; /* --cmd */
    struct chart_marker *marks;
    size_t nmarks, capmarks;
    uint64_t marks_left_out; /* command markers past TIMELINE_MAX_MARKERS */
};

/* Every option of `aofroll timeline`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_timeline_options[] = {
    CLI_OPT_CONFIG(struct timeline_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct timeline_opts, instance),
     .arg = "NAME",
     .help = "instance whose archive to read"},
    {.name = "since",
     .kind = OPT_TIME,
     .off = offsetof(struct timeline_opts, since),
     .given = OPT_GIVEN(struct timeline_opts, have_since),
     .arg = "TIME",
     .help = "start of the chart (default: the archive's first second)"},
    {.name = "until",
     .kind = OPT_TIME,
     .off = offsetof(struct timeline_opts, until),
     .given = OPT_GIVEN(struct timeline_opts, have_until),
     .arg = "TIME",
     .help = "end of the chart (default: the archive's last second)"},
    {.name = "by",
     .kind = OPT_STRING,
     .off = offsetof(struct timeline_opts, by),
     .arg = "second|10s|minute|hour",
     .help =
         "bucket size (default: second up to 2 minutes, 10s up to 20 minutes,\nminute up to 3 hours, else "
         "hour)"},
    {.name = "cmd",
     .kind = OPT_STRING,
     .off = offsetof(struct timeline_opts, cmds),
     .arg = "NAMES",
     .help = "mark each command of these names (\"FLUSHALL,FLUSHDB\", any case)"},
    {.name = "svg",
     .kind = OPT_STRING,
     .off = offsetof(struct timeline_opts, svg),
     .arg = "FILE",
     .help = "also write the chart as a standalone SVG"},
    CLI_OPT_JSON(struct timeline_opts),
    CLI_OPT_HELP,
    {0},
};

static int timeline_parse_args(struct timeline_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_timeline_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    if (o->by == NULL)
        o->bucket_s = 0;
    else if (strcmp(o->by, "second") == 0)
        o->bucket_s = 1;
    else if (strcmp(o->by, "10s") == 0)
        o->bucket_s = 10;
    else if (strcmp(o->by, "minute") == 0)
        o->bucket_s = 60;
    else if (strcmp(o->by, "hour") == 0)
        o->bucket_s = 3600;
    else
        return err_set(e, ERR_USAGE, "--by \"%s\": expected second, 10s, minute or hour", o->by);
    if (cli_require(o->instance, "--instance NAME", e) < 0)
        return -1;
    if (o->have_since && o->have_until && o->since > o->until)
        return err_set(e, ERR_USAGE, "--since is later than --until");
    return 0;
}

static void timeline_mark(struct timeline *t, int64_t at, enum chart_marker_kind kind, const char *label)
{
    struct chart_marker *m;

    if (kind == CHART_MARK_COMMAND && t->nmarks >= TIMELINE_MAX_MARKERS) {
        t->marks_left_out++;
        return;
    }
    if (t->nmarks == t->capmarks) {
        t->capmarks = t->capmarks ? 2 * t->capmarks : 16;
        t->marks = xrealloc(t->marks, t->capmarks * sizeof(*t->marks));
    }
    m = &t->marks[t->nmarks++];
    m->t = at;
    m->kind = kind;
    snprintf(m->label, sizeof(m->label), "%s", label);
}

static int timeline_mark_cmp(const void *a, const void *b)
{
    const struct chart_marker *x = a, *y = b;

    return x->t < y->t ? -1 : x->t > y->t ? 1 : (int)x->kind - (int)y->kind;
}

/* Barriers from the index's events; generation starts from their rows. */
static int timeline_on_event(void *ud, const struct event_row *ev)
{
    struct timeline *t = ud;

    if (ev->time > t->until)
        return 1;
    if (ev->time >= t->since && strcmp(ev->kind, "barrier") == 0)
        timeline_mark(t, ev->time, CHART_MARK_BARRIER, "barrier");
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
    if (t->o.cmds != NULL && c->argc > 0 && cut_pattern_match(&t->pattern, c->argv[0].p, c->argv[0].len)) {
        char label[64];

        snprintf(label, sizeof(label), "%.*s", (int)(c->argv[0].len < 40 ? c->argv[0].len : 40),
                 c->argv[0].p);
        timeline_mark(t, s, CHART_MARK_COMMAND, label);
    }
    return 0;
}

static int timeline_generation(struct timeline *t, const struct inspect_gen *g, struct err *e)
{
    struct inspect_decode_params p;
    struct inspect_decode_result r;
    uint64_t from = 0;

    if (inspect_offset_before(t->cli.idx, t->cli.instance_id, g->g.generation, t->since, &from, e) < 0)
        return -1;
    memset(&p, 0, sizeof(p));
    p.generation = g->g.generation;
    p.kind = CHUNK_INCR;
    p.from = from;
    p.to = UINT64_MAX;
    p.stop_after_ts = t->until;
    p.split = t->o.cmds != NULL; /* the name is needed only to match --cmd */
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
    json_key(&j, "markers");
    json_array_begin(&j);
    for (i = 0; i < t->nmarks; i++) {
        static const char *const kinds[] = {"barrier", "generation", "command"};

        json_object_begin(&j);
        json_kv_time(&j, "time", t->marks[i].t);
        json_kv_string(&j, "kind", kinds[t->marks[i].kind]);
        json_kv_string(&j, "label", t->marks[i].label);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_kv_uint(&j, "markers_left_out", t->marks_left_out);
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

    if (t->o.cmds != NULL && cut_pattern_parse(t->o.cmds, &t->pattern, e) < 0) {
        err_set(e, ERR_USAGE, "--cmd \"%s\": empty command name", t->o.cmds);
        goto out;
    }
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
    if (t->o.bucket_s != 0)
        t->bucket_s = t->o.bucket_s;
    else if (t->until - t->since <= 120)
        t->bucket_s = 1;
    else if (t->until - t->since <= 1200)
        t->bucket_s = 10;
    else
        t->bucket_s = t->until - t->since <= 3 * 3600 ? 60 : 3600;
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
    for (i = 0; i < gens.n; i++) {
        char label[32];

        if (gens.v[i].g.base_time < t->since || gens.v[i].g.base_time > t->until)
            continue;
        snprintf(label, sizeof(label), "generation %" PRId64, gens.v[i].g.generation);
        timeline_mark(t, gens.v[i].g.base_time, CHART_MARK_GENERATION, label);
    }
    if (index_events(t->cli.idx, t->cli.instance_id, t->since, timeline_on_event, t, e) < 0)
        goto out;
    time_format_utc(t->since, a, sizeof(a));
    time_format_utc(t->until, b, sizeof(b));
    snprintf(title, sizeof(title), "%s: AOF writes per %s, %s .. %s", t->o.instance,
             t->bucket_s == 1    ? "second"
             : t->bucket_s == 10 ? "10 seconds"
             : t->bucket_s == 60 ? "minute"
                                 : "hour",
             a, b);
    chart.title = title;
    chart.bucket_s = t->bucket_s;
    chart.buckets = t->b;
    chart.n = t->nb;
    if (t->nmarks > 1) /* in time order: the chart lays their labels out left to right */
        qsort(t->marks, t->nmarks, sizeof(*t->marks), timeline_mark_cmp);
    chart.markers = t->marks;
    chart.nmarkers = t->nmarks;
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
    if (t->marks_left_out > 0)
        buf_printf(&out, "(%" PRIu64 " more --cmd matches not marked)\n", t->marks_left_out);
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
    free(t.marks);
    cut_pattern_free(&t.pattern);
    fetch_free(&t.f);
    cli_close(&t.cli);
    return status;
}

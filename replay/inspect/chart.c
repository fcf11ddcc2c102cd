/* chart.c - terminal and SVG bar charts of the timeline (see chart.h).
 *
 * The SVG is written by hand: a fixed 960x560 canvas, a title, a panel per
 * series with its axis, value gridlines at round numbers, time ticks at
 * round times, one <rect> per non-empty bucket carrying a <title> (the
 * browser's tooltip) with the exact figures, and a marker line per event
 * (class "marker barrier|generation|command", with its <title>). */
#include "chart.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"
#include "units.h"

#define SVG_W 960
#define SVG_H 560
#define SVG_LEFT 90 /* room for the value labels */
#define SVG_RIGHT 20
#define SVG_TOP 50
#define SVG_PANEL_H 190
#define SVG_GAP 60 /* between panels: time labels of the upper one */

/* "2026-11-20 15:12Z" (or the day alone for daily buckets), from the same
 * formatter as every other time: four-digit years, "@UNIX" beyond them. */
static void chart_label(int64_t t, int64_t bucket_s, char *out, size_t n)
{
    char full[TIME_BUFSZ];

    time_format_utc(t, full, sizeof(full));
    if (full[0] == '@')
        snprintf(out, n, "%s", full);
    else if (bucket_s >= 86400)
        snprintf(out, n, "%.10s", full);
    else if (bucket_s < 60)
        snprintf(out, n, "%.10s %.8sZ", full, full + 11);
    else
        snprintf(out, n, "%.10s %.5sZ", full, full + 11);
}

/* A time tick's label: the clock alone (the title holds the dates), with
 * seconds when ticks are less than a minute apart; the date for days. */
static void chart_tick_label(int64_t t, int64_t step, char *out, size_t n)
{
    char full[TIME_BUFSZ];

    time_format_utc(t, full, sizeof(full));
    if (full[0] == '@')
        snprintf(out, n, "%s", full);
    else if (step >= 86400)
        snprintf(out, n, "%.10s", full);
    else if (step < 60)
        snprintf(out, n, "%.8s", full + 11);
    else
        snprintf(out, n, "%.5s", full + 11);
}

uint64_t chart_nice_step(uint64_t max, int ticks, uint64_t unit)
{
    double raw, mag, f, step;

    if (max == 0 || ticks < 1)
        return 1;
    if (unit < 1)
        unit = 1;
    raw = (double)max / (double)unit / ticks;
    mag = 1.0; /* the power of ten at or below raw */
    while (mag * 10.0 <= raw)
        mag *= 10.0;
    while (mag > raw)
        mag /= 10.0;
    f = raw / mag;
    step = (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag * (double)unit;
    return step < 1.0 ? 1 : (uint64_t)(step + 0.5);
}

int64_t chart_time_step(int64_t span, int64_t bucket_s)
{
    static const int64_t steps[] = {1,   2,    5,    10,   15,    30,    60,    120,   300,    600,
                                    900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800};
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i] % bucket_s == 0 && steps[i] * 8 >= span)
            return steps[i];
    return steps[sizeof(steps) / sizeof(steps[0]) - 1];
}

/* The unit bytes are shown in on an axis up to max. */
static uint64_t chart_byte_unit(uint64_t max)
{
    uint64_t u = 1;

    while (u < (UINT64_C(1) << 40) && max >= u * 1024)
        u *= 1024;
    return u;
}

static void chart_value_label(uint64_t v, int bytes, uint64_t unit, char *out, size_t n)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t k = 0;
    uint64_t u = 1;

    if (!bytes || v == 0) {
        snprintf(out, n, "%" PRIu64, v);
        return;
    }
    while (u < unit && k + 1 < sizeof(names) / sizeof(names[0])) {
        u *= 1024;
        k++;
    }
    if (v % u == 0)
        snprintf(out, n, "%" PRIu64 " %s", v / u, names[k]);
    else
        snprintf(out, n, "%.1f %s", (double)v / (double)u, names[k]);
}

static const char *const chart_mark_names[] = {"barrier", "generation", "command"};

/* The markers that fall in bucket [start, start + bucket_s), as "; "-joined
 * labels; 0 when none. */
static int chart_marks_in(const struct chart *c, int64_t start, struct buf *out)
{
    size_t m;
    int n = 0;

    for (m = 0; m < c->nmarkers; m++) {
        if (c->markers[m].t < start || c->markers[m].t >= start + c->bucket_s)
            continue;
        buf_printf(out, "%s%s", n++ ? "; " : "", c->markers[m].label);
    }
    return n;
}

void chart_text(const struct chart *c, size_t bar_width, struct buf *out)
{
    uint64_t max = 0, total_bytes = 0, total_cmds = 0;
    char label[64], size[32];
    struct buf marks = BUF_INIT;
    int w = c->bucket_s < 60 ? 20 : 17;
    size_t i, k, bar;

    for (i = 0; i < c->n; i++) {
        if (c->buckets[i].bytes > max)
            max = c->buckets[i].bytes;
        total_bytes += c->buckets[i].bytes;
        total_cmds += c->buckets[i].commands;
    }
    if (c->title != NULL)
        buf_printf(out, "%s\n", c->title);
    buf_printf(out, "%-*s  %-*s  %10s  %10s\n", w, "TIME", (int)bar_width, "", "BYTES", "COMMANDS");
    for (i = 0; i < c->n; i++) {
        const struct chart_bucket *b = &c->buckets[i];

        chart_label(b->start, c->bucket_s, label, sizeof(label));
        bar = 0;
        if (max > 0 && b->bytes > 0) {
            bar = (size_t)((double)b->bytes / (double)max * (double)bar_width + 0.5);
            if (bar == 0)
                bar = 1; /* any activity shows */
        }
        buf_printf(out, "%-*s  ", w, label);
        buf_reserve(out, bar_width);
        for (k = 0; k < bar_width; k++)
            buf_append(out, k < bar ? "#" : " ", 1);
        units_format_size((int64_t)b->bytes, size, sizeof(size));
        buf_printf(out, "  %10s  %10" PRIu64, size, b->commands);
        buf_reset(&marks);
        if (chart_marks_in(c, b->start, &marks))
            buf_printf(out, "  < %s", marks.data);
        buf_append(out, "\n", 1);
    }
    units_format_size((int64_t)total_bytes, size, sizeof(size));
    buf_printf(out, "%-*s  %-*s  %10s  %10" PRIu64 "\n", w, "total", (int)bar_width, "", size, total_cmds);
    if (max > 0) {
        units_format_size((int64_t)max, size, sizeof(size));
        buf_printf(out, "(a full bar is %s)\n", size);
    }
    buf_free(&marks);
}

/* Text content for XML: escape the five special characters. */
static void chart_svg_text(struct buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            buf_appendstr(out, "&amp;");
            break;
        case '<':
            buf_appendstr(out, "&lt;");
            break;
        case '>':
            buf_appendstr(out, "&gt;");
            break;
        case '"':
            buf_appendstr(out, "&quot;");
            break;
        case '\'':
            buf_appendstr(out, "&apos;");
            break;
        default:
            buf_append(out, s, 1);
            break;
        }
    }
}

/* One panel: a series drawn as bars between y0 (top) and y0 + SVG_PANEL_H,
 * its value axis ticked at round numbers up to the first above the maximum. */
static void chart_svg_panel(const struct chart *c, struct buf *out, int y0, int series, const char *name,
                            const char *color)
{
    const double plot_w = SVG_W - SVG_LEFT - SVG_RIGHT;
    double bw = c->n > 0 ? plot_w / (double)c->n : plot_w;
    uint64_t max = 0, v, unit, step, top, at;
    int64_t tstep, t, span;
    size_t i;
    char label[64], value[32];

    for (i = 0; i < c->n; i++) {
        v = series == 0 ? c->buckets[i].bytes : c->buckets[i].commands;
        if (v > max)
            max = v;
    }
    unit = series == 0 ? chart_byte_unit(max) : 1;
    step = chart_nice_step(max, 4, unit);
    top = max == 0 ? step : (max + step - 1) / step * step;
    buf_printf(out, "<text x=\"%d\" y=\"%d\" class=\"series\">", SVG_LEFT, y0 - 8);
    chart_svg_text(out, name);
    buf_appendstr(out, "</text>\n");
    /* gridlines and value labels at every step up to the top */
    for (at = 0; at <= top; at += step) {
        double y = y0 + SVG_PANEL_H - (double)SVG_PANEL_H * (double)at / (double)top;

        chart_value_label(at, series == 0, unit, value, sizeof(value));
        buf_printf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n", SVG_LEFT, y,
                   SVG_W - SVG_RIGHT, y);
        buf_printf(out, "<text x=\"%d\" y=\"%.1f\" class=\"value\">%s</text>\n", SVG_LEFT - 6, y + 4, value);
    }
    /* bars */
    for (i = 0; i < c->n && max > 0; i++) {
        double h, x;

        v = series == 0 ? c->buckets[i].bytes : c->buckets[i].commands;
        if (v == 0)
            continue;
        h = (double)v / (double)top * SVG_PANEL_H;
        if (h < 1.0)
            h = 1.0;
        x = SVG_LEFT + bw * (double)i;
        chart_label(c->buckets[i].start, c->bucket_s, label, sizeof(label));
        units_format_size((int64_t)c->buckets[i].bytes, value, sizeof(value));
        buf_printf(out,
                   "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" class=\"bar\">"
                   "<title>%s: %s, %" PRIu64 " commands</title></rect>\n",
                   x, y0 + SVG_PANEL_H - h, bw > 2.0 ? bw - 1.0 : bw, h, color, label, value,
                   c->buckets[i].commands);
    }
    /* the time axis, ticked at round times */
    buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", SVG_LEFT,
               y0 + SVG_PANEL_H, SVG_W - SVG_RIGHT, y0 + SVG_PANEL_H);
    buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", SVG_LEFT, y0,
               SVG_LEFT, y0 + SVG_PANEL_H);
    if (c->n == 0)
        return;
    span = (int64_t)c->n * c->bucket_s;
    tstep = chart_time_step(span, c->bucket_s);
    t = c->buckets[0].start;
    t += ((tstep - t % tstep) % tstep + tstep) % tstep; /* the first multiple of tstep (before 1970 too) */
    for (; t < c->buckets[0].start + span; t += tstep) {
        double x = SVG_LEFT + bw * (double)(t - c->buckets[0].start) / (double)c->bucket_s;

        chart_tick_label(t, tstep, label, sizeof(label));
        buf_printf(out, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" class=\"axis tick\"/>\n", x,
                   y0 + SVG_PANEL_H, x, y0 + SVG_PANEL_H + 5);
        buf_printf(out, "<text x=\"%.2f\" y=\"%d\" class=\"time\">%s</text>\n", x, y0 + SVG_PANEL_H + 18,
                   label);
    }
}

/* A vertical line per marker across both panels, at its second within its
 * bucket, with a short label above the upper panel and a tooltip. */
static void chart_svg_markers(const struct chart *c, struct buf *out)
{
    const double plot_w = SVG_W - SVG_LEFT - SVG_RIGHT;
    static const char *const colors[] = {"#2a9d2a", "#7a4fb0", "#d62828"};
    double row_end[4] = {0, 0, 0, 0}; /* where each row of labels is taken up to */
    double prev_x = -100;
    int64_t start, span;
    size_t m;
    int row;
    char when[TIME_BUFSZ];

    if (c->n == 0)
        return;
    start = c->buckets[0].start;
    span = (int64_t)c->n * c->bucket_s;
    for (m = 0; m < c->nmarkers; m++) {
        const struct chart_marker *mk = &c->markers[m];
        double x;

        if (mk->t < start || mk->t >= start + span)
            continue;
        x = SVG_LEFT + plot_w * ((double)(mk->t - start) + 0.5 * (c->bucket_s == 1)) / (double)span;
        if (x < prev_x + 3.0) /* markers of one moment side by side, each line visible */
            x = prev_x + 3.0;
        prev_x = x;
        time_format_utc(mk->t, when, sizeof(when));
        buf_printf(out, "<g class=\"marker %s\" data-time=\"%s\">", chart_mark_names[mk->kind], when);
        buf_printf(out,
                   "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\" "
                   "stroke-dasharray=\"%s\"/>",
                   x, SVG_TOP - 4, x, SVG_TOP + 2 * SVG_PANEL_H + SVG_GAP, colors[mk->kind],
                   mk->kind == CHART_MARK_COMMAND ? "none" : "6 3");
        /* labels of markers close together go on rows below one another */
        for (row = 0; row < 3 && x < row_end[row]; row++) {
        }
        row_end[row] = x + 7.0 * (double)(strlen(mk->label) + 1);
        buf_printf(out, "<text x=\"%.2f\" y=\"%d\" class=\"mark\" fill=\"%s\">", x + 3,
                   SVG_TOP + 8 + 13 * row, colors[mk->kind]);
        chart_svg_text(out, mk->label);
        buf_appendstr(out, "</text><title>");
        chart_svg_text(out, mk->label);
        buf_printf(out, " at %s</title></g>\n", when);
    }
}
void chart_svg(const struct chart *c, struct buf *out)
{
    buf_printf(out,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\">\n",
               SVG_W, SVG_H, SVG_W, SVG_H);
    buf_appendstr(out, "<style>\n"
                       "text { font-family: sans-serif; font-size: 12px; fill: #333; }\n"
                       ".title { font-size: 16px; font-weight: bold; }\n"
                       ".series { font-weight: bold; }\n"
                       ".value { text-anchor: end; }\n"
                       ".time { text-anchor: middle; font-size: 11px; }\n"
                       ".axis { stroke: #333; stroke-width: 1; }\n"
                       ".grid { stroke: #ddd; stroke-width: 1; }\n"
                       ".mark { font-size: 11px; font-weight: bold; }\n"
                       "</style>\n");
    buf_printf(out, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", SVG_W, SVG_H);
    buf_printf(out, "<text x=\"%d\" y=\"24\" class=\"title\">", SVG_LEFT);
    chart_svg_text(out, c->title != NULL ? c->title : "aofroll timeline");
    buf_appendstr(out, "</text>\n");
    chart_svg_panel(c, out, SVG_TOP, 0, "AOF bytes", "#4878a8");
    chart_svg_panel(c, out, SVG_TOP + SVG_PANEL_H + SVG_GAP, 1, "commands", "#e08a3c");
    chart_svg_markers(c, out);
    buf_appendstr(out, "</svg>\n");
}

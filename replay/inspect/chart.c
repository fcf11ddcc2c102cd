/* chart.c - terminal and SVG bar charts of the timeline (see chart.h).
 *
 * The SVG is written by hand: a fixed 960x560 canvas, a title, a panel per
 * series with its axis, a few value gridlines, time labels spaced so they
 * do not collide, and one <rect> per non-empty bucket carrying a <title>
 * (the browser's tooltip) with the exact figures. */
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
    else
        snprintf(out, n, "%.10s %.5sZ", full, full + 11);
}

void chart_text(const struct chart *c, size_t bar_width, struct buf *out)
{
    uint64_t max = 0, total_bytes = 0, total_cmds = 0;
    char label[64], size[32];
    size_t i, k, bar;

    for (i = 0; i < c->n; i++) {
        if (c->buckets[i].bytes > max)
            max = c->buckets[i].bytes;
        total_bytes += c->buckets[i].bytes;
        total_cmds += c->buckets[i].commands;
    }
    if (c->title != NULL)
        buf_printf(out, "%s\n", c->title);
    buf_printf(out, "%-17s  %-*s  %10s  %10s\n", "TIME", (int)bar_width, "", "BYTES", "COMMANDS");
    for (i = 0; i < c->n; i++) {
        const struct chart_bucket *b = &c->buckets[i];

        chart_label(b->start, c->bucket_s, label, sizeof(label));
        bar = 0;
        if (max > 0 && b->bytes > 0) {
            bar = (size_t)((double)b->bytes / (double)max * (double)bar_width + 0.5);
            if (bar == 0)
                bar = 1; /* any activity shows */
        }
        buf_printf(out, "%-17s  ", label);
        buf_reserve(out, bar_width);
        for (k = 0; k < bar_width; k++)
            buf_append(out, k < bar ? "#" : " ", 1);
        units_format_size((int64_t)b->bytes, size, sizeof(size));
        buf_printf(out, "  %10s  %10" PRIu64 "\n", size, b->commands);
    }
    units_format_size((int64_t)total_bytes, size, sizeof(size));
    buf_printf(out, "%-17s  %-*s  %10s  %10" PRIu64 "\n", "total", (int)bar_width, "", size, total_cmds);
    if (max > 0) {
        units_format_size((int64_t)max, size, sizeof(size));
        buf_printf(out, "(a full bar is %s)\n", size);
    }
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

/* One panel: a series drawn as bars between y0 (top) and y0 + SVG_PANEL_H. */
static void chart_svg_panel(const struct chart *c, struct buf *out, int y0, int series, const char *name,
                            const char *color)
{
    const double plot_w = SVG_W - SVG_LEFT - SVG_RIGHT;
    double bw = c->n > 0 ? plot_w / (double)c->n : plot_w;
    uint64_t max = 0, v;
    size_t i, step;
    char label[64], value[32];
    int g;

    for (i = 0; i < c->n; i++) {
        v = series == 0 ? c->buckets[i].bytes : c->buckets[i].commands;
        if (v > max)
            max = v;
    }
    buf_printf(out, "<text x=\"%d\" y=\"%d\" class=\"series\">", SVG_LEFT, y0 - 8);
    chart_svg_text(out, name);
    buf_appendstr(out, "</text>\n");
    /* gridlines and value labels at 0, 1/2 and the maximum */
    for (g = 0; g <= 2; g++) {
        double y = y0 + SVG_PANEL_H - (double)SVG_PANEL_H * g / 2.0;
        uint64_t at = max / 2 * (uint64_t)g;

        if (g == 2)
            at = max;
        if (series == 0)
            units_format_size((int64_t)at, value, sizeof(value));
        else
            snprintf(value, sizeof(value), "%" PRIu64, at);
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
        h = (double)v / (double)max * SVG_PANEL_H;
        if (h < 1.0)
            h = 1.0;
        x = SVG_LEFT + bw * (double)i;
        chart_label(c->buckets[i].start, c->bucket_s, label, sizeof(label));
        units_format_size((int64_t)c->buckets[i].bytes, value, sizeof(value));
        buf_printf(out,
                   "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
                   "<title>%s: %s, %" PRIu64 " commands</title></rect>\n",
                   x, y0 + SVG_PANEL_H - h, bw > 2.0 ? bw - 1.0 : bw, h, color, label, value,
                   c->buckets[i].commands);
    }
    /* the time axis and its labels, at most about eight */
    buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", SVG_LEFT,
               y0 + SVG_PANEL_H, SVG_W - SVG_RIGHT, y0 + SVG_PANEL_H);
    buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", SVG_LEFT, y0,
               SVG_LEFT, y0 + SVG_PANEL_H);
    step = c->n / 8 + 1;
    for (i = 0; i < c->n; i += step) {
        double x = SVG_LEFT + bw * ((double)i + 0.5); /* the bar's middle */

        chart_label(c->buckets[i].start, c->bucket_s, label, sizeof(label));
        buf_printf(out, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" class=\"axis\"/>\n", x,
                   y0 + SVG_PANEL_H, x, y0 + SVG_PANEL_H + 5);
        buf_printf(out, "<text x=\"%.2f\" y=\"%d\" class=\"time\">%s</text>\n", x, y0 + SVG_PANEL_H + 18,
                   label);
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
                       "</style>\n");
    buf_printf(out, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", SVG_W, SVG_H);
    buf_printf(out, "<text x=\"%d\" y=\"24\" class=\"title\">", SVG_LEFT);
    chart_svg_text(out, c->title != NULL ? c->title : "aofroll timeline");
    buf_appendstr(out, "</text>\n");
    chart_svg_panel(c, out, SVG_TOP, 0, "AOF bytes", "#4878a8");
    chart_svg_panel(c, out, SVG_TOP + SVG_PANEL_H + SVG_GAP, 1, "commands", "#e08a3c");
    buf_appendstr(out, "</svg>\n");
}

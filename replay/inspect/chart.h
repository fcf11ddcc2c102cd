/* chart.h - the `aofroll timeline` chart, for a terminal and as SVG.
 *
 * A chart is a run of equal time buckets (a minute or an hour), each with
 * the AOF bytes and the number of commands written in it. chart_text()
 * draws one line per bucket with a bar of '#' scaled to the busiest bucket
 * plus the figures; chart_svg() draws the same data as a standalone SVG
 * document (two panels, bytes above commands, with axes, labels and a
 * tooltip per bar) that any browser opens. Bucket labels are UTC, like
 * every time aofroll prints. */
#ifndef AOFROLL_CHART_H
#define AOFROLL_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct chart_bucket {
    int64_t start;     /* unix s of the bucket's first second */
    uint64_t bytes;    /* AOF bytes of the commands in the bucket */
    uint64_t commands; /* commands in the bucket */
};

struct chart {
    const char *title; /* e.g. "sessions: AOF writes per minute" */
    int64_t bucket_s;  /* 60 or 3600 */
    const struct chart_bucket *buckets;
    size_t n;
};

/* One line per bucket: "2026-11-20 15:12  ####...   1.2 MiB   1234";
 * bar_width is the length of the longest bar. */
void chart_text(const struct chart *c, size_t bar_width, struct buf *out);
/* A complete SVG document. */
void chart_svg(const struct chart *c, struct buf *out);

#endif

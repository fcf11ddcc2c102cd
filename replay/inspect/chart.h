/* chart.h - the `aofroll timeline` chart, for a terminal and as SVG.
 *
 * A chart is a run of equal time buckets (a second, ten seconds, a minute
 * or an hour), each with
 * the AOF bytes and the number of commands written in it. chart_text()
 * draws one line per bucket with a bar of '#' scaled to the busiest bucket
 * plus the figures; chart_svg() draws the same data as a standalone SVG
 * document (two panels, bytes above commands, with axes, labels and a
 * tooltip per bar) that any browser opens. Value axes are ticked at round
 * numbers (1, 2 or 5 times a power of ten, in the unit of the largest
 * value), the time axis at round times (multiples of 1 s, 5 s, 10 s, ...
 * 1 d). Markers - barriers, new generations, commands matching --cmd -
 * are vertical lines across both panels (SVG) or notes at the end of
 * their bucket's line (text). Bucket labels are UTC, like every time
 * aofroll prints. */
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

enum chart_marker_kind { CHART_MARK_BARRIER = 0, CHART_MARK_GENERATION, CHART_MARK_COMMAND };

struct chart_marker {
    int64_t t; /* unix s */
    enum chart_marker_kind kind;
    char label[64]; /* "barrier", "generation 2", "FLUSHALL db0" */
};

struct chart {
    const char *title; /* e.g. "sessions: AOF writes per minute" */
    int64_t bucket_s;  /* 1, 10, 60 or 3600 */
    const struct chart_bucket *buckets;
    size_t n;
    const struct chart_marker *markers; /* inside the buckets' span, any order */
    size_t nmarkers;
};

/* A round step for an axis from 0 to max with about `ticks` steps: 1, 2
 * or 5 times a power of ten (of `unit`: 1024 for bytes shown in KiB, MiB,
 * ...; pass 1 for counts). */
uint64_t chart_nice_step(uint64_t max, int ticks, uint64_t unit);
/* A round time step for labels over span seconds, a multiple of bucket_s,
 * about eight of them. */
int64_t chart_time_step(int64_t span, int64_t bucket_s);

/* One line per bucket: "2026-11-20 15:12  ####...   1.2 MiB   1234";
 * bar_width is the length of the longest bar. */
void chart_text(const struct chart *c, size_t bar_width, struct buf *out);
/* A complete SVG document. */
void chart_svg(const struct chart *c, struct buf *out);

#endif

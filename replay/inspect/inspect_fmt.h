/* inspect_fmt.h - fast formatting for listings of a million rows.
 *
 * `aofroll ls` prints a line per chunk, and printf's format interpreter,
 * called several times per line, costs more than reading the row from
 * SQLite. These helpers append the few shapes a listing needs directly:
 * decimal integers (padded to a width), a fixed-point number, and
 * RFC 3339 UTC times, the calendar date being computed once per day seen
 * (struct fmt_utc caches it; unix time has no leap seconds, so the time of
 * day is plain arithmetic). */
#ifndef AOFROLL_REPLAY_INSPECT_FMT_H
#define AOFROLL_REPLAY_INSPECT_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* v in decimal, right-aligned in `width` columns (0: no padding). */
void fmt_u64(struct buf *b, uint64_t v, int width);
void fmt_i64(struct buf *b, int64_t v, int width);
/* s left-aligned in `width` columns. */
void fmt_str(struct buf *b, const char *s, int width);
/* v with `decimals` (0-6) digits after the point, rounded, right-aligned. */
void fmt_fixed(struct buf *b, double v, int decimals, int width);

struct fmt_utc {
    int64_t day;   /* days since the epoch of `date`, or INT64_MIN */
    char date[16]; /* "2026-11-20T" */
};

void fmt_utc_init(struct fmt_utc *c);
/* "2026-11-20T15:12:01Z" (20 bytes); the same text time_format_utc() gives
 * (also "@UNIX" outside the years 0000 to 9999). */
void fmt_utc(struct fmt_utc *c, struct buf *b, int64_t t);

#endif

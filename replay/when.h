/* when.h - the TIME of restore's and apply's --to, beyond time_parse():
 * the words "latest" (the newest archived second) and "now" (the wall
 * clock), the rule that a TIME past the end of the archive is refused
 * unless it is "latest", and the line that shows a local TIME in UTC.
 *
 * The end of the archive is the newest second its chunks were observed in,
 * or later, up to the collector's last poll, when that poll found
 * everything shipped (status row: shipped = current size, no error): a
 * quiet Redis writes nothing, yet its archive is complete up to the poll. */
#ifndef AOFROLL_REPLAY_WHEN_H
#define AOFROLL_REPLAY_WHEN_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "fetch.h"
#include "window.h"

struct when {
    const char *option; /* "--to" */
    const char *text;   /* as given */
    int latest;         /* "latest": t is set by when_latest() */
    int local;          /* a date without a zone, read as local time */
    int64_t t;
};

/* Parse TIME, "now" or "latest" (ERR_USAGE naming the option). */
int when_parse(const char *option, const char *text, struct when *w, struct err *e);
/* For "latest": t = the last second of the newest restorable window.
 * Nothing for any other TIME. */
int when_latest(struct when *w, struct fetch *f, struct err *e);
/* After fetch_choose(w->t) chose gen: ERR_NOTFOUND when t is past the end
 * of the archive (and not "latest"), naming the newest second and the
 * hint. A snapshot (mode rdb) restores every later second until the next
 * one: never past its end. */
int when_check_end(const struct when *w, const struct window_choice *c, const struct gen_row *gen,
                   struct fetch *f, struct err *e);
/* "--to latest: 2026-11-20T15:12:01Z (the newest archived second)", or
 * "--to "2026-11-20 16:12:01" read as local time: 2026-11-20 16:12:01+01:00
 * = 2026-11-20T15:12:01Z"; nothing for a TIME given in UTC or @UNIX. */
void when_print(const struct when *w, FILE *fp);

#endif

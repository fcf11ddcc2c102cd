/* progress.h - one line of progress on a terminal, redrawn in place.
 *
 * Long commands (restore, apply, verify, reindex, the collector's --once)
 * report how far they are: bytes and chunks done of the total, the rate
 * and the time left, on standard error, rewritten with a carriage return
 * at most ten times a second and erased when the work is done, so that
 * the command's own output follows on a clean line. Between stretches of
 * counted work a ticker line can say what is being waited for ("the
 * restored redis-server is loading: 3.2 s").
 *
 * Silent unless standard error is a terminal (a pipe, a file, cron and
 * systemd see nothing), and when the caller says so (--json). No state
 * outside the struct the caller owns. */
#ifndef AOFROLL_PROGRESS_H
#define AOFROLL_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct progress {
    FILE *fp;      /* NULL: silent */
    char what[32]; /* "restore": the line starts "restore: " */
    uint64_t total_bytes, total_chunks;
    uint64_t bytes, chunks;
    double start;    /* monotonic seconds of the first count */
    double drawn_at; /* of the last redraw */
    int on_screen;   /* a line is showing */
    int ticking;     /* it is a ticker's (the first tick draws at once) */
};

/* Draw on stderr when it is a terminal and quiet is 0. */
void progress_init(struct progress *p, const char *what, int quiet);
/* Draw on fp (a terminal or not): for tests of the line itself. */
void progress_init_fp(struct progress *p, const char *what, FILE *fp);
/* What the work adds up to (0: unknown, no percentage or ETA). */
void progress_total(struct progress *p, uint64_t bytes, uint64_t chunks);
/* Count work done; redraws when 100 ms have passed since the last. */
void progress_add(struct progress *p, uint64_t bytes, uint64_t chunks);
/* A ticker line of its own, e.g. while a server loads (rate-limited too). */
void progress_tick(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Erase the line: the command's output starts on a clean line. */
void progress_end(struct progress *p);

#endif

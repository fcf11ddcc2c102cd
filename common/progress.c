/* progress.c - the progress line of long commands on a terminal. See
 * progress.h. The line is written whole with one fprintf, preceded by a
 * carriage return and followed by "erase to the end of the line" (ANSI
 * EL, ESC [ K), so a shorter line leaves nothing of a longer one. */
#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "units.h"

#define PROGRESS_EVERY_S 0.1

static double progress_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init_fp(struct progress *p, const char *what, FILE *fp)
{
    memset(p, 0, sizeof(*p));
    p->fp = fp;
    snprintf(p->what, sizeof(p->what), "%s", what);
}

void progress_init(struct progress *p, const char *what, int quiet)
{
    const char *term = getenv("TERM");
    int tty = isatty(STDERR_FILENO) && !(term != NULL && strcmp(term, "dumb") == 0);

    progress_init_fp(p, what, !quiet && tty ? stderr : NULL);
}

void progress_total(struct progress *p, uint64_t bytes, uint64_t chunks)
{
    p->total_bytes = bytes;
    p->total_chunks = chunks;
}

static void progress_draw(struct progress *p, double now)
{
    char done[32], total[32], rate[32], eta[32];
    double elapsed = now - p->start, per_s = elapsed > 0 ? (double)p->bytes / elapsed : 0;

    units_format_size((int64_t)p->bytes, done, sizeof(done));
    rate[0] = '\0';
    if (elapsed >= 0.2) { /* a rate over less is noise */
        units_format_size((int64_t)(per_s + 0.5), rate + 2, sizeof(rate) - 2);
        memcpy(rate, ", ", 2);
        snprintf(rate + strlen(rate), sizeof(rate) - strlen(rate), "/s");
    }
    eta[0] = '\0';
    if (p->total_bytes > 0 && p->bytes <= p->total_bytes && per_s > 0 && elapsed >= 1)
        snprintf(eta, sizeof(eta), ", ETA %.0f s", (double)(p->total_bytes - p->bytes) / per_s);
    if (p->total_bytes > 0) {
        units_format_size((int64_t)p->total_bytes, total, sizeof(total));
        fprintf(p->fp, "\r%s: %s of %s (%.0f%%), %llu of %llu chunks%s%s\033[K", p->what, done, total,
                100.0 * (double)p->bytes / (double)p->total_bytes, (unsigned long long)p->chunks,
                (unsigned long long)p->total_chunks, rate, eta);
    } else {
        fprintf(p->fp, "\r%s: %s, %llu chunks%s\033[K", p->what, done, (unsigned long long)p->chunks, rate);
    }
    fflush(p->fp);
    p->drawn_at = now;
    p->on_screen = 1;
    p->ticking = 0;
}

void progress_add(struct progress *p, uint64_t bytes, uint64_t chunks)
{
    double now;

    if (p->fp == NULL)
        return;
    now = progress_clock();
    if (p->start == 0)
        p->start = now;
    p->bytes += bytes;
    p->chunks += chunks;
    if (now - p->drawn_at >= PROGRESS_EVERY_S || (p->total_chunks > 0 && p->chunks == p->total_chunks))
        progress_draw(p, now);
}

void progress_tick(struct progress *p, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    double now;

    if (p->fp == NULL)
        return;
    now = progress_clock();
    if (p->ticking && now - p->drawn_at < PROGRESS_EVERY_S)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(p->fp, "\r%s: %s\033[K", p->what, line);
    fflush(p->fp);
    p->drawn_at = now;
    p->on_screen = 1;
    p->ticking = 1;
}

void progress_end(struct progress *p)
{
    if (p->fp == NULL || !p->on_screen)
        return;
    fprintf(p->fp, "\r\033[K");
    fflush(p->fp);
    p->on_screen = 0;
    p->ticking = 0;
}

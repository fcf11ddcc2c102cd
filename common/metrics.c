/* metrics.c - Prometheus textfile output of the collector (see metrics.h).
 *
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/ --
 * a HELP and a TYPE line per metric family, then one sample per instance;
 * label values escape backslash, double quote and newline. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

static void metrics_label(struct buf *out, const char *value)
{
    const char *p;

    for (p = value; *p != '\0'; p++) {
        if (*p == '\\')
            buf_appendstr(out, "\\\\");
        else if (*p == '"')
            buf_appendstr(out, "\\\"");
        else if (*p == '\n')
            buf_appendstr(out, "\\n");
        else
            buf_append(out, p, 1);
    }
}

enum metrics_field {
    MF_LAST_POLL,
    MF_POLL_INTERVAL,
    MF_GENERATION,
    MF_CURRENT_SIZE,
    MF_SHIPPED,
    MF_LAG_BYTES,
    MF_LAG_SECONDS,
    MF_LAST_BARRIER,
    MF_LAST_ERROR,
    MF_UP,
    MF_BARRIER_POSTPONED,
    MF_COUNT
};

static const struct {
    const char *name;
    const char *help;
} metrics_families[MF_COUNT] = {
    {"aofroll_last_poll_timestamp_seconds", "Unix time of the collector's last poll (its heartbeat)."},
    {"aofroll_poll_interval_seconds", "Configured poll interval."},
    {"aofroll_generation", "Generation the collector is shipping."},
    {"aofroll_current_file_size_bytes", "Size of the AOF incr file the collector follows."},
    {"aofroll_shipped_bytes", "Offset in that file up to which chunks are stored."},
    {"aofroll_lag_bytes", "Bytes written by redis and not shipped yet."},
    {"aofroll_lag_seconds", "Age of the oldest byte not shipped yet."},
    {"aofroll_last_barrier_timestamp_seconds",
     "Unix time of the last barrier rewrite (mode rdb: of the last snapshot), 0 if none."},
    {"aofroll_last_error_timestamp_seconds", "Unix time of the last error, 0 if none."},
    {"aofroll_up", "1 when the backup is happening (aofroll status says OK), else 0."},
    {"aofroll_barrier_postponed_seconds", "How long the pending barrier has been held back, 0 if none is."},
};

#define METRICS_PROBLEM "aofroll_problem"

/* Value of one field; returns 0 when the sample is to be left out. */
static int metrics_value(const struct metrics_instance *m, enum metrics_field f, char *out, size_t n)
{
    const struct status_row *s = m->row;
    uint64_t lag_bytes;
    int64_t lag_seconds;

    verdict_lag(s, &lag_bytes, &lag_seconds);
    switch (f) {
    case MF_LAST_POLL:
        snprintf(out, n, "%" PRId64, s->last_poll);
        break;
    case MF_POLL_INTERVAL:
        snprintf(out, n, "%.3f", (double)s->poll_interval_ms / 1000.0);
        break;
    case MF_GENERATION:
        snprintf(out, n, "%" PRId64, s->generation);
        break;
    case MF_CURRENT_SIZE:
        snprintf(out, n, "%" PRIu64, s->current_size);
        break;
    case MF_SHIPPED:
        snprintf(out, n, "%" PRIu64, s->shipped);
        break;
    case MF_LAG_BYTES:
        snprintf(out, n, "%" PRIu64, lag_bytes);
        break;
    case MF_LAG_SECONDS:
        if (lag_seconds < 0)
            return 0;
        snprintf(out, n, "%" PRId64, lag_seconds);
        break;
    case MF_LAST_BARRIER:
        snprintf(out, n, "%" PRId64, s->last_barrier);
        break;
    case MF_LAST_ERROR:
        snprintf(out, n, "%" PRId64, s->last_error_time);
        break;
    case MF_UP:
        snprintf(out, n, "%d", m->verdict->nreasons == 0 ? 1 : 0);
        break;
    case MF_BARRIER_POSTPONED:
        snprintf(out, n, "%" PRId64,
                 s->barrier_postponed_since > 0 && s->last_poll > s->barrier_postponed_since
                     ? s->last_poll - s->barrier_postponed_since
                     : 0);
        break;
    case MF_COUNT:
        return 0;
    }
    return 1;
}

static void metrics_sample(struct buf *out, const char *family, const char *name, const char *reason,
                           const char *value)
{
    buf_printf(out, "%s{instance=\"", family);
    metrics_label(out, name);
    if (reason != NULL) {
        buf_appendstr(out, "\",reason=\"");
        metrics_label(out, reason);
    }
    buf_printf(out, "\"} %s\n", value);
}

void metrics_format(const struct metrics_instance *v, size_t n, struct buf *out)
{
    char value[64];
    size_t i;
    int f, r;

    for (f = 0; f < MF_COUNT; f++) {
        buf_printf(out, "# HELP %s %s\n", metrics_families[f].name, metrics_families[f].help);
        buf_printf(out, "# TYPE %s gauge\n", metrics_families[f].name);
        for (i = 0; i < n; i++) {
            if (metrics_value(&v[i], (enum metrics_field)f, value, sizeof(value)))
                metrics_sample(out, metrics_families[f].name, v[i].name, NULL, value);
        }
    }
    /* every reason for every instance, 0 or 1, so that no series vanishes */
    buf_printf(
        out,
        "# HELP %s 1 when the reason applies: the backup of the instance is not happening as it should.\n",
        METRICS_PROBLEM);
    buf_printf(out, "# TYPE %s gauge\n", METRICS_PROBLEM);
    for (i = 0; i < n; i++)
        for (r = 0; r < VERDICT_COUNT; r++)
            metrics_sample(out, METRICS_PROBLEM, v[i].name, verdict_reason_name((enum verdict_reason)r),
                           verdict_has(v[i].verdict, (enum verdict_reason)r) ? "1" : "0");
}

int metrics_write(const char *path, const struct metrics_instance *v, size_t n, struct err *e)
{
    struct buf text = BUF_INIT;
    char *tmp = NULL;
    size_t off = 0;
    ssize_t w;
    int fd = -1, rc = -1;

    metrics_format(v, n, &text);
    tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    /* a fresh file: never truncate or write through what is there */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        err_sys(e, errno, "cannot remove stale metrics file '%s'", tmp);
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_sys(e, errno, "cannot create metrics file '%s'", tmp);
        goto out;
    }
    while (off < text.len) {
        w = write(fd, text.data + off, text.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err_sys(e, errno, "cannot write metrics file '%s'", tmp);
            goto out;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        fd = -1;
        err_sys(e, errno, "cannot write metrics file '%s'", tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        err_sys(e, errno, "cannot rename '%s' to '%s'", tmp, path);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp != NULL)
        unlink(tmp);
    free(tmp);
    buf_free(&text);
    return rc;
}

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

void metrics_lag(const struct status_row *s, uint64_t *bytes, int64_t *seconds)
{
    if (s->current_size <= s->shipped) {
        *bytes = 0;
        *seconds = 0;
        return;
    }
    *bytes = s->current_size - s->shipped;
    if (s->shipped_time <= 0)
        *seconds = -1;
    else
        *seconds = s->last_poll > s->shipped_time ? s->last_poll - s->shipped_time : 0;
}

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
    MF_AOF_ENABLED,
    MF_BARRIER_POSTPONED,
    MF_BARRIER_OVERDUE,
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
    {"aofroll_aof_enabled",
     "1 while redis writes its AOF, 0 once the collector found it off (nothing is archived)."},
    {"aofroll_barrier_postponed_seconds", "How long the pending barrier has been held back, 0 if none is."},
    {"aofroll_barrier_overdue", "1 when the pending barrier has been held back longer than barrier_timeout."},
};

/* Value of one field; returns 0 when the sample is to be left out. */
static int metrics_value(const struct status_row *s, enum metrics_field f, char *out, size_t n)
{
    uint64_t lag_bytes;
    int64_t lag_seconds;

    metrics_lag(s, &lag_bytes, &lag_seconds);
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
    case MF_AOF_ENABLED:
        snprintf(out, n, "%d", s->aof_off_since > 0 ? 0 : 1);
        break;
    case MF_BARRIER_POSTPONED:
        snprintf(out, n, "%" PRId64,
                 s->barrier_postponed_since > 0 && s->last_poll > s->barrier_postponed_since
                     ? s->last_poll - s->barrier_postponed_since
                     : 0);
        break;
    case MF_BARRIER_OVERDUE:
        snprintf(out, n, "%d", s->barrier_overdue ? 1 : 0);
        break;
    case MF_COUNT:
        return 0;
    }
    return 1;
}

void metrics_format(const struct status_row *rows, const char *const *names, size_t n, struct buf *out)
{
    char value[64];
    size_t i;
    int f;

    for (f = 0; f < MF_COUNT; f++) {
        buf_printf(out, "# HELP %s %s\n", metrics_families[f].name, metrics_families[f].help);
        buf_printf(out, "# TYPE %s gauge\n", metrics_families[f].name);
        for (i = 0; i < n; i++) {
            if (!metrics_value(&rows[i], (enum metrics_field)f, value, sizeof(value)))
                continue;
            buf_printf(out, "%s{instance=\"", metrics_families[f].name);
            metrics_label(out, names[i]);
            buf_printf(out, "\"} %s\n", value);
        }
    }
}

int metrics_write(const char *path, const struct status_row *rows, const char *const *names, size_t n,
                  struct err *e)
{
    struct buf text = BUF_INIT;
    char *tmp = NULL;
    size_t off = 0;
    ssize_t w;
    int fd = -1, rc = -1;

    metrics_format(rows, names, n, &text);
    tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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

/* snapshot_request.c - --snapshot-now while a collector is running: ask it.
 *
 * The same handshake as --barrier-now (request.c): the running collector
 * holds the instance's lock, so the second process leaves a request file
 * "<lock_dir>/<instance>.snapshot", sends SIGUSR1 to the lock holder, and
 * watches the index (read-only) for the outcome: a "snapshot" event, or an
 * "error" event, about a requested snapshot ("snapshot (requested)...")
 * and newer than any event it saw before asking. In the running collector the instance's thread sees the
 * signal counter move, removes the file and takes the snapshot as if it were due. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timeutil.h"
#include "xalloc.h"

#define REQUEST_TIMEOUT_S 3600 /* a BGSAVE of a big dataset, then its shipping */
#define REQUEST_POLL_MS 200
#define SNAPSHOT_REQUESTED "snapshot (requested)" /* how the events of a requested snapshot begin */

static char *snapshot_request_path(const struct config *cfg, const char *instance)
{
    return xasprintf("%s/%s.snapshot", cfg->lock_dir, instance);
}

struct outcome {
    int64_t after_id; /* events up to this id were there before the request */
    int64_t max_id;
    int done; /* 1 success, -1 failure */
    char detail[512];
};

static int scan_event(void *ud, const struct event_row *ev)
{
    struct outcome *o = ud;

    if (ev->id > o->max_id)
        o->max_id = ev->id;
    if (ev->id <= o->after_id || o->done != 0)
        return 0;
    /* a scheduled snapshot may end meanwhile: only the requested one answers */
    if (strncmp(ev->detail, SNAPSHOT_REQUESTED, strlen(SNAPSHOT_REQUESTED)) != 0)
        return 0;
    if (strcmp(ev->kind, "snapshot") == 0) {
        o->done = 1;
        text_copy(o->detail, sizeof(o->detail), ev->detail);
    } else if (strcmp(ev->kind, "error") == 0) {
        o->done = -1;
        text_copy(o->detail, sizeof(o->detail), ev->detail);
    }
    return 0;
}

/* Leave the request file for the collector to find. */
static int write_request(const char *path, int64_t t0, struct err *e)
{
    char stamp[64];
    int fd, len, rv = -1;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_sys(e, errno, "cannot write snapshot request \"%s\"", path);
    len = snprintf(stamp, sizeof(stamp), "%ld %" PRId64 "\n", (long)getpid(), t0);
    if (write(fd, stamp, (size_t)len) != len)
        err_sys(e, errno, "cannot write snapshot request \"%s\"", path);
    else
        rv = 0;
    close(fd);
    return rv;
}

int snapshot_request(struct collector *col, const char *instance, long holder, struct err *e)
{
    const struct config *cfg = col->cfg;
    struct outcome o;
    struct index *idx = NULL;
    char *path = snapshot_request_path(cfg, instance);
    int64_t id, t0 = time_now(), deadline = time_monotonic_ms() + REQUEST_TIMEOUT_S * 1000LL;
    int rv = -1;

    memset(&o, 0, sizeof(o));
    if (index_open(cfg->index_path, 1, &idx, e) != 0 || index_instance_id(idx, instance, 0, &id, e) != 0)
        goto out;
    if (index_events(idx, id, t0 - 1, scan_event, &o, e) != 0)
        goto out;
    o.after_id = o.max_id;
    if (write_request(path, t0, e) != 0)
        goto out;
    if (kill((pid_t)holder, SIGUSR1) != 0) {
        err_sys(e, errno, "cannot signal the collector (pid %ld) holding instance \"%s\"", holder, instance);
        unlink(path);
        goto out;
    }
    log_msg(col->log, LOG_INFO, instance, "asked the running collector (pid %ld) for a snapshot", holder);
    while (o.done == 0) {
        if (collector_sleep(col, REQUEST_POLL_MS, e) != 0)
            goto out;
        if (index_events(idx, id, t0 - 1, scan_event, &o, e) != 0)
            goto out;
        if (o.done != 0)
            break;
        if (kill((pid_t)holder, 0) != 0) {
            err_set(e, ERR_IO, "the collector (pid %ld) exited before taking the snapshot of instance \"%s\"",
                    holder, instance);
            goto out;
        }
        if (time_monotonic_ms() > deadline) {
            err_set(e, ERR_IO, "no snapshot outcome for instance \"%s\" from pid %ld after %d s", instance,
                    holder, REQUEST_TIMEOUT_S);
            goto out;
        }
    }
    if (o.done < 0) {
        err_set(e, ERR_REDIS, "the running collector (pid %ld): %s", holder, o.detail);
        goto out;
    }
    log_msg(col->log, LOG_INFO, instance, "the running collector (pid %ld) took it: %s", holder, o.detail);
    printf("%s: %s\n", instance, o.detail);
    rv = 0;
out:
    if (idx != NULL)
        index_close(idx);
    free(path);
    return rv;
}

int snapshot_request_take(struct instance *in)
{
    char *path = snapshot_request_path(in->col->cfg, in->name);
    int taken = unlink(path) == 0;

    free(path);
    return taken;
}

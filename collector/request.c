/* request.c - --barrier-now and --snapshot-now while a collector is
 * running: ask it.
 *
 * The running collector holds the instance's lock, so a second process may
 * not drive the barrier or the snapshot itself. Instead it leaves a request
 * file <lock_dir>/<instance>.<barrier|snapshot> and sends SIGUSR1 to the
 * lock holder, whose main thread bumps a counter that the instance threads
 * look at once per poll; the thread whose request file exists removes it
 * and does the work as if it were due. The requester then watches the
 * index (read-only) for the outcome: a success or an "error" event that
 * answers the request, newer than any event it saw before asking. The two
 * kinds differ only in their names and in which events answer them. A
 * barrier held back longer than barrier_timeout is given up by the running
 * collector with an error event; if no answer comes at all in the time the
 * caller allows, the requester gives up itself, saying what the
 * collector's heartbeat shows (a barrier held back, and why). */

#include "request.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text.h"
#include "timeutil.h"
#include "xalloc.h"

#include "context.h"

#define REQUEST_POLL_MS 200

struct request_kind {
    const char *name;       /* the request file's suffix, and the word in messages */
    const char *done_kind;  /* the event kind of a success */
    const char *done_begin; /* a success answers only if its detail begins so (NULL: any) */
    const char *fail_begin; /* an "error" event answers only if its detail begins so */
    const char *doing;      /* "<doing> of instance X" in messages */
    const char *did;        /* "the running collector (pid N) <did>: <outcome>" */
    int print;              /* print the outcome on stdout */
};

#define SNAPSHOT_REQUESTED "snapshot (requested)" /* how a requested snapshot's events begin */

/* Any barrier after the request answers it (the one asked for, or one just
 * as good); a scheduled snapshot may end meanwhile, so only the events of
 * a requested one do. */
static const struct request_kind request_kinds[] = {
    [REQUEST_BARRIER] = {"barrier", "barrier", NULL, "barrier", "running the barrier", "ran it", 0},
    [REQUEST_SNAPSHOT] = {"snapshot", "snapshot", SNAPSHOT_REQUESTED, SNAPSHOT_REQUESTED,
                          "taking the snapshot", "took it", 1},
};

static char *request_path(const struct config *cfg, const char *instance, enum request_type type)
{
    return xasprintf("%s/%s.%s", cfg->lock_dir, instance, request_kinds[type].name);
}

static int begins(const char *s, const char *prefix)
{
    return prefix == NULL || strncmp(s, prefix, strlen(prefix)) == 0;
}

struct outcome {
    const struct request_kind *kind;
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
    if (strcmp(ev->kind, o->kind->done_kind) == 0 && begins(ev->detail, o->kind->done_begin))
        o->done = 1;
    else if (strcmp(ev->kind, "error") == 0 && begins(ev->detail, o->kind->fail_begin))
        o->done = -1;
    if (o->done != 0)
        text_copy(o->detail, sizeof(o->detail), ev->detail);
    return 0;
}

/* Leave the request file for the collector to find. */
static int write_request(const char *path, const char *name, int64_t t0, struct err *e)
{
    char stamp[64];
    int fd, len, rv = -1;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_sys(e, errno, "cannot write %s request \"%s\"", name, path);
    len = snprintf(stamp, sizeof(stamp), "%ld %" PRId64 "\n", (long)getpid(), t0);
    if (write(fd, stamp, (size_t)len) != len)
        err_sys(e, errno, "cannot write %s request \"%s\"", name, path);
    else
        rv = 0;
    close(fd);
    return rv;
}

/* What the holder's heartbeat says about a held-back barrier, for a
 * message: "" when nothing. */
static void held_back(struct index *idx, int64_t id, char *out, size_t n)
{
    struct status_row s;
    struct err e;

    out[0] = '\0';
    if (index_status_get(idx, id, &s, &e) == 0 && s.barrier_postponed_since > 0)
        snprintf(out, n, ": the barrier is held back since %" PRId64 " s ago: %s",
                 time_now() - s.barrier_postponed_since, s.barrier_postponed_why);
}

/* Poll the index until the outcome arrives, the holder exits or time runs out. */
static int wait_outcome(struct collector *col, struct index *idx, int64_t id, int64_t t0,
                        const char *instance, long holder, int64_t timeout_s, struct outcome *o,
                        struct err *e)
{
    int64_t deadline = time_monotonic_ms() + timeout_s * 1000LL;
    char why[400];

    while (o->done == 0) {
        if (context_sleep(col, REQUEST_POLL_MS, e) != 0)
            return -1;
        if (index_events(idx, id, t0 - 1, scan_event, o, e) != 0)
            return -1;
        if (o->done != 0)
            break;
        if (kill((pid_t)holder, 0) != 0)
            return err_set(e, ERR_IO, "the collector (pid %ld) exited before %s of instance \"%s\"", holder,
                           o->kind->doing, instance);
        if (time_monotonic_ms() > deadline) {
            held_back(idx, id, why, sizeof(why));
            return err_set(e, ERR_IO,
                           "gave up after %" PRId64 " s: no %s outcome for instance \"%s\" from pid %ld%s",
                           timeout_s, o->kind->name, instance, holder, why);
        }
    }
    return 0;
}

int request_ask(struct collector *col, enum request_type type, const char *instance, long holder,
                int64_t timeout_s, struct err *e)
{
    const struct config *cfg = col->cfg;
    struct outcome o;
    struct index *idx = NULL;
    char *path = request_path(cfg, instance, type);
    int64_t id, t0 = time_now();
    int rv = -1;

    memset(&o, 0, sizeof(o));
    o.kind = &request_kinds[type];
    if (index_open(cfg->index_path, 1, &idx, e) != 0 || index_instance_id(idx, instance, 0, &id, e) != 0)
        goto out;
    if (index_events(idx, id, t0 - 1, scan_event, &o, e) != 0)
        goto out;
    o.after_id = o.max_id;
    if (write_request(path, o.kind->name, t0, e) != 0)
        goto out;
    if (kill((pid_t)holder, SIGUSR1) != 0) {
        err_sys(e, errno, "cannot signal the collector (pid %ld) holding instance \"%s\"", holder, instance);
        unlink(path);
        goto out;
    }
    log_msg(col->log, LOG_INFO, instance, "asked the running collector (pid %ld) for a %s", holder,
            o.kind->name);
    if (wait_outcome(col, idx, id, t0, instance, holder, timeout_s, &o, e) != 0)
        goto out;
    if (o.done < 0) {
        err_set(e, ERR_REDIS, "the running collector (pid %ld): %s", holder, o.detail);
        goto out;
    }
    log_msg(col->log, LOG_INFO, instance, "the running collector (pid %ld) %s: %s", holder, o.kind->did,
            o.detail);
    if (o.kind->print)
        printf("%s: %s\n", instance, o.detail);
    rv = 0;
out:
    if (idx != NULL)
        index_close(idx);
    free(path);
    return rv;
}

int request_take(struct instance *in, enum request_type type)
{
    char *path = request_path(in->col->cfg, in->name, type);
    int taken = unlink(path) == 0;

    free(path);
    return taken;
}

/* context.c - what every step of an instance thread shares (context.h).
 *
 * The bottom layer of the collector: stopping and interruptible sleeps
 * (on the stop pipe, so that a stop request ends them at once); setting up
 * and freeing a struct instance; the health of each dependency, whose
 * failures are logged once per change of state and remembered for the
 * status row; events; the Redis handle, reconnected with backoff, whose
 * new connections re-learn the AOF's location with CONFIG GET; the
 * metrics file; and the copy of the index in the storage. It calls no
 * other collector file but redisconn.c. */
#include "context.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "indexcopy.h"
#include "metrics.h"
#include "text.h"
#include "timeutil.h"
#include "verdict.h"
#include "xalloc.h"

#include "redisconn.h"

/* ------------------------------------------------------------------------
 * Stop requests
 * ---------------------------------------------------------------------- */

int context_stopping(const struct collector *c)
{
    struct pollfd p = {c->stop_fd, POLLIN, 0};

    return c->stop_fd >= 0 && poll(&p, 1, 0) > 0;
}

int context_sleep(const struct collector *c, int64_t ms, struct err *e)
{
    int64_t until = time_monotonic_ms() + ms;

    for (;;) {
        struct pollfd p = {c->stop_fd, POLLIN, 0};
        int64_t left = until - time_monotonic_ms();
        int n;

        if (left <= 0)
            return 0;
        n = poll(&p, c->stop_fd >= 0 ? 1 : 0, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return err_set(e, ERR_STOPPED, "stop requested");
        if (n < 0 && errno != EINTR)
            return err_sys(e, errno, "poll");
    }
}

/* ------------------------------------------------------------------------
 * Set-up and tear-down
 * ---------------------------------------------------------------------- */

void context_init(struct instance *in, struct collector *col, const struct instance_config *ic)
{
    memset(in, 0, sizeof(*in));
    in->col = col;
    in->ic = ic;
    in->name = ic->name;
    in->lock_fd = -1;
    redisconn_init(&in->rc, &ic->redis, ic->redis_url);
    in->backoff_ms = SHIP_BACKOFF_MIN_MS;
    in->rotate_reason = "rewrite";
    in->open_reason = "start";
    /* test hook: die between a store and its index row, like a crash would */
    if (getenv("AOFROLL_TEST_KILL_AFTER_PUTS") != NULL)
        in->kill_after_puts = strtol(getenv("AOFROLL_TEST_KILL_AFTER_PUTS"), NULL, 10);
}

void context_free(struct instance *in)
{
    free(in->gens); /* empty: the thread dropped its generations */
    in->gens = NULL;
    if (in->idx != NULL)
        index_close(in->idx);
    if (in->st != NULL)
        storage_close(in->st);
    in->idx = NULL;
    in->st = NULL;
    redisconn_free(&in->rc);
    free(in->aof_dir);
    free(in->manifest_path);
    free(in->stale_base);
    in->aof_dir = in->manifest_path = in->stale_base = NULL;
    buf_free(&in->raw);
    buf_free(&in->gz);
}

/* ------------------------------------------------------------------------
 * Health, errors and events
 * ---------------------------------------------------------------------- */

/* The kind of an error: its text without quoted names and without digits.
 * Each retry of an outage names another object (a chunk grows, the index
 * copy alternates with chunks) and curl puts times in its messages; none
 * of that makes it another failure worth another log line. */
static void health_kind(const char *msg, char *out, size_t n)
{
    size_t len = 0;
    int quoted = 0;

    for (; *msg != '\0' && len + 1 < n; msg++) {
        if (*msg == '"')
            quoted = !quoted;
        else if (!quoted && (*msg < '0' || *msg > '9'))
            out[len++] = *msg;
    }
    out[len] = '\0';
}

/* Remember "what: msg" as the dependency's latest failure. */
static void health_note(struct health *h, const char *what, const char *msg)
{
    struct buf text = BUF_INIT;

    buf_printf(&text, "%s: %s", what, msg);
    text_copy(h->msg, sizeof(h->msg), text.data);
    buf_free(&text);
}

void context_fail(struct instance *in, struct health *h, const char *what, const struct err *e)
{
    char kind[sizeof(h->last)];

    text_copy(in->last_error, sizeof(in->last_error), e->msg);
    in->last_error_time = time_now();
    health_note(h, what, e->msg);
    if (h == &in->h_redis && in->redis_down_since == 0)
        in->redis_down_since = in->last_error_time;
    health_kind(e->msg, kind, sizeof(kind));
    if (h->failing && strcmp(h->last, kind) == 0)
        return;
    h->failing = 1;
    text_copy(h->last, sizeof(h->last), kind);
    log_msg(in->col->log, LOG_ERROR, in->name, "%s: %s", what, e->msg);
}

void context_recover(struct instance *in, struct health *h, const char *what)
{
    if (h == &in->h_redis)
        in->redis_down_since = 0;
    if (!h->failing)
        return;
    h->failing = 0;
    h->last[0] = '\0';
    h->msg[0] = '\0';
    log_msg(in->col->log, LOG_INFO, in->name, "%s: working again", what);
}

void context_fill_health(const struct instance *in, struct status_row *s)
{
    const struct health *const polled[] = {&in->h_aof, &in->h_storage, &in->h_index};
    size_t i;

    s->poll_error[0] = '\0';
    for (i = 0; i < sizeof(polled) / sizeof(polled[0]); i++) {
        if (polled[i]->failing) {
            text_copy(s->poll_error, sizeof(s->poll_error), polled[i]->msg);
            break;
        }
    }
    s->redis_down_since = in->redis_down_since;
}

int context_event(struct instance *in, const char *kind, const char *detail)
{
    struct err e;

    if (index_event_add(in->idx, in->instance_id, time_now(), kind, detail, &e) != 0) {
        context_fail(in, &in->h_index, "index", &e);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Where the AOF is
 * ---------------------------------------------------------------------- */

/* CONFIG GET: learn (or re-learn after a reconnect) the AOF's location. */
static int context_locate_aof(struct instance *in, struct err *e)
{
    struct redis_aof_config ac;
    char *dir, *manifest;

    if (redisconn_aof_config(&in->rc, &ac, e) != 0)
        return -1;
    if (ac.dir[0] == '/')
        dir = xasprintf("%s/%s", ac.dir, ac.appenddirname);
    else
        dir = xasprintf("%s", ac.appenddirname); /* relative: only when we share redis's cwd */
    manifest = xasprintf("%s/%s.manifest", dir, ac.appendfilename);
    if (!ac.appendonly)
        log_msg(in->col->log, LOG_WARN, in->name,
                "appendonly is off on redis \"%s\": nothing to follow until it is turned on", in->rc.where);
    in->appendonly = ac.appendonly;
    in->ts_enabled = ac.timestamps;
    if (in->manifest_path == NULL || strcmp(in->manifest_path, manifest) != 0) {
        if (in->manifest_path != NULL) {
            log_msg(in->col->log, LOG_INFO, in->name, "the AOF moved from \"%s\" to \"%s\"",
                    in->manifest_path, manifest);
            in->aof_moved = 1;
        }
        free(in->aof_dir);
        free(in->manifest_path);
        in->aof_dir = dir;
        in->manifest_path = manifest;
        in->manifest_dirty = 1;
        dir = manifest = NULL;
    }
    free(dir);
    free(manifest);
    redisconn_aof_config_free(&ac);
    return 0;
}

/* Make sure Redis is connected, logging state changes. On a new
 * connection, CONFIG GET again (Redis may have been restarted elsewhere). */
int context_redis(struct instance *in, struct err *e)
{
    int was_up = redisconn_connected(&in->rc);

    if (redisconn_ensure(&in->rc, e) != 0) {
        if (e->code != ERR_BUSY)
            context_fail(in, &in->h_redis, "redis", e);
        return -1;
    }
    if (!was_up && context_locate_aof(in, e) != 0) {
        context_fail(in, &in->h_redis, "redis", e);
        redisconn_close(&in->rc);
        return -1;
    }
    context_recover(in, &in->h_redis, "redis");
    return 0;
}

/* ------------------------------------------------------------------------
 * Metrics and the index copy
 * ---------------------------------------------------------------------- */

int context_write_metrics(struct instance *in, struct err *e)
{
    const struct config *cfg = in->col->cfg;
    size_t max = (size_t)cfg->ninstances;
    struct status_row *rows = xcalloc(max, sizeof(*rows));
    struct verdict *verdicts = xcalloc(max, sizeof(*verdicts));
    struct metrics_instance *v = xcalloc(max, sizeof(*v));
    int64_t now = time_now();
    size_t n = 0;
    int rv = -1;

    for (int i = 0; i < cfg->ninstances; i++) {
        const struct instance_config *ic = &cfg->instances[i];
        struct verdict_input vi;
        int64_t id;
        int any;

        if (ic->metrics_file == NULL || strcmp(ic->metrics_file, in->ic->metrics_file) != 0)
            continue;
        if (index_instance_id(in->idx, ic->name, 0, &id, e) != 0 ||
            index_status_get(in->idx, id, &rows[n], e) != 0) {
            if (e->code != ERR_NOTFOUND)
                goto out;
            err_clear(e);
            continue;
        }
        any = index_chunk_any(in->idx, id, e);
        if (any < 0)
            goto out;
        memset(&vi, 0, sizeof(vi));
        vi.row = &rows[n];
        vi.now = now;
        vi.poll_interval_ms = ic->poll_interval_ms;
        vi.lag_threshold = ic->lag_threshold;
        vi.barrier_timeout_s = ic->barrier_timeout_s;
        vi.archived = any;
        verdict_judge(&vi, &verdicts[n]);
        v[n].name = ic->name;
        v[n].row = &rows[n];
        v[n].verdict = &verdicts[n];
        n++;
    }
    pthread_mutex_lock(&in->col->metrics_lock);
    rv = metrics_write(in->ic->metrics_file, v, n, e);
    pthread_mutex_unlock(&in->col->metrics_lock);
out:
    free(rows);
    free(verdicts);
    free(v);
    return rv;
}

/* Store a consistent copy of the index as "<instance>/index.db" (sealed
 * when the storage seals: indexcopy.c). */
int context_upload_index(struct instance *in, struct err *e)
{
    char *tmp = xasprintf("%s.%s.%ld.upload", in->col->cfg->index_path, in->name, (long)getpid());
    int rv = indexcopy_upload(in->idx, in->st, in->name, tmp, e);

    free(tmp);
    return rv;
}

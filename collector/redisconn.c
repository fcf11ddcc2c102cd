/* redisconn.c - connecting to redis-server and the commands the collector
 * uses (see redisconn.h).
 *
 * Every command goes through redisconn_command(): an I/O error (the server
 * went away, a timeout) drops the connection so that the next
 * redisconn_ensure() reconnects with backoff; an error reply leaves the
 * connection up and is reported as ERR_REDIS with Redis's own text. */
#include "redisconn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis.h>

#include "timeutil.h"
#include "xalloc.h"

void redisconn_init(struct redisconn *rc, const struct redis_addr *addr, const char *url)
{
    memset(rc, 0, sizeof(*rc));
    rc->addr = addr;
    rc->where = config_redact_url(url);
    rc->backoff_ms = REDISCONN_BACKOFF_MIN_MS;
}

void redisconn_free(struct redisconn *rc)
{
    redisconn_close(rc);
    free(rc->where);
    rc->where = NULL;
}

void redisconn_close(struct redisconn *rc)
{
    if (rc->ctx != NULL)
        redisFree(rc->ctx);
    rc->ctx = NULL;
}

int redisconn_connected(const struct redisconn *rc)
{
    return rc->ctx != NULL;
}

int redisconn_lost(const struct redisconn *rc)
{
    struct pollfd p;

    if (rc->ctx == NULL)
        return 0;
    p.fd = rc->ctx->fd;
    p.events = POLLIN | POLLRDHUP;
    p.revents = 0;
    /* nothing is ever pending on the connection between commands, so
     * readable means closed (or a protocol error: reconnect either way) */
    return poll(&p, 1, 0) > 0 && p.revents != 0;
}

/* Send argv, return the reply (caller frees) or NULL with e filled. */
static redisReply *redisconn_command(struct redisconn *rc, int argc, const char **argv, struct err *e)
{
    redisReply *r;

    if (rc->ctx == NULL) {
        err_set(e, ERR_REDIS, "not connected to redis \"%s\"", rc->where);
        return NULL;
    }
    r = redisCommandArgv(rc->ctx, argc, argv, NULL);
    if (r == NULL) {
        err_set(e, ERR_IO, "redis \"%s\" did not answer %s: %s", rc->where, argv[0],
                rc->ctx->errstr[0] != '\0' ? rc->ctx->errstr : "connection lost");
        redisconn_close(rc);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        err_set(e, ERR_REDIS, "redis \"%s\" refused %s: %s", rc->where, argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

int redisconn_connect(struct redisconn *rc, struct err *e)
{
    struct timeval tv = {REDISCONN_TIMEOUT_MS / 1000, (REDISCONN_TIMEOUT_MS % 1000) * 1000};
    const struct redis_addr *a = rc->addr;
    redisContext *ctx;
    redisReply *r = NULL;
    const char *argv[3];
    int argc = 0;
    int rv = -1;

    redisconn_close(rc);
    if (a->transport == REDIS_UNIX)
        ctx = redisConnectUnixWithTimeout(a->path, tv);
    else
        ctx = redisConnectWithTimeout(a->host, a->port, tv);
    if (ctx == NULL) {
        err_set(e, ERR_IO, "cannot connect to redis \"%s\": out of memory", rc->where);
        goto out;
    }
    if (ctx->err != 0) {
        err_set(e, ERR_IO, "cannot connect to redis \"%s\": %s", rc->where, ctx->errstr);
        redisFree(ctx);
        goto out;
    }
    redisSetTimeout(ctx, tv);
    rc->ctx = ctx;
    if (a->password != NULL) {
        argv[argc++] = "AUTH";
        if (a->user != NULL)
            argv[argc++] = a->user;
        argv[argc++] = a->password;
        r = redisconn_command(rc, argc, argv, e);
        if (r == NULL) {
            err_prefix(e, "authentication failed");
            redisconn_close(rc);
            goto out;
        }
    }
    rv = 0;
out:
    if (r != NULL)
        freeReplyObject(r);
    return rv;
}

int redisconn_ensure(struct redisconn *rc, struct err *e)
{
    int64_t now = time_monotonic_ms();

    if (rc->ctx != NULL)
        return 0;
    if (now < rc->next_try_ms)
        return err_set(e, ERR_BUSY, "redis \"%s\" is down; next attempt in %lld ms", rc->where,
                       (long long)(rc->next_try_ms - now));
    if (redisconn_connect(rc, e) == 0) {
        rc->backoff_ms = REDISCONN_BACKOFF_MIN_MS;
        rc->next_try_ms = 0;
        return 0;
    }
    rc->next_try_ms = now + rc->backoff_ms;
    rc->backoff_ms *= 2;
    if (rc->backoff_ms > REDISCONN_BACKOFF_MAX_MS)
        rc->backoff_ms = REDISCONN_BACKOFF_MAX_MS;
    return -1;
}

void redisconn_aof_config_free(struct redis_aof_config *c)
{
    free(c->dir);
    free(c->appenddirname);
    free(c->appendfilename);
    memset(c, 0, sizeof(*c));
}

static int yes_no(const char *v)
{
    return strcmp(v, "yes") == 0;
}

int redisconn_aof_config(struct redisconn *rc, struct redis_aof_config *out, struct err *e)
{
    const char *argv[] = {"CONFIG",
                          "GET",
                          "dir",
                          "appenddirname",
                          "appendfilename",
                          "appendonly",
                          "aof-timestamp-enabled",
                          "auto-aof-rewrite-percentage"};
    redisReply *r;
    size_t i;
    int rv = -1;

    memset(out, 0, sizeof(*out));
    out->rewrite_percentage = -1;
    r = redisconn_command(rc, (int)(sizeof(argv) / sizeof(argv[0])), argv, e);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        err_set(e, ERR_REDIS, "redis \"%s\" answered CONFIG GET with an unexpected reply", rc->where);
        goto out;
    }
    for (i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "dir") == 0)
            out->dir = xstrdup(v->str);
        else if (strcmp(k->str, "appenddirname") == 0)
            out->appenddirname = xstrdup(v->str);
        else if (strcmp(k->str, "appendfilename") == 0)
            out->appendfilename = xstrdup(v->str);
        else if (strcmp(k->str, "appendonly") == 0)
            out->appendonly = yes_no(v->str);
        else if (strcmp(k->str, "aof-timestamp-enabled") == 0)
            out->timestamps = yes_no(v->str);
        else if (strcmp(k->str, "auto-aof-rewrite-percentage") == 0)
            out->rewrite_percentage = strtoll(v->str, NULL, 10);
    }
    if (out->dir == NULL || out->appendfilename == NULL) {
        err_set(e, ERR_REDIS, "redis \"%s\" did not report \"dir\" and \"appendfilename\"", rc->where);
        goto out;
    }
    if (out->appenddirname == NULL) {
        err_set(e, ERR_REDIS,
                "redis \"%s\" has no \"appenddirname\" setting: it is older than 7.0, whose multi-part "
                "AOF the collector follows",
                rc->where);
        goto out;
    }
    rv = 0;
out:
    freeReplyObject(r);
    if (rv != 0)
        redisconn_aof_config_free(out);
    return rv;
}

int redisconn_info(struct redisconn *rc, const char *section, char **text, struct err *e)
{
    const char *argv[2] = {"INFO", section};
    redisReply *r;

    *text = NULL;
    r = redisconn_command(rc, 2, argv, e);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
        freeReplyObject(r);
        return err_set(e, ERR_REDIS, "redis \"%s\" answered INFO %s with an unexpected reply", rc->where,
                       section);
    }
    *text = xstrndup(r->str, r->len);
    freeReplyObject(r);
    return 0;
}

int redisconn_server(struct redisconn *rc, struct server_id *id, struct err *e)
{
    char *text = NULL;
    int rv;

    if (redisconn_info(rc, "server", &text, e) != 0)
        return -1;
    rv = server_from_info(text, strlen(text), id, e);
    free(text);
    return rv;
}

int redisconn_server_verdict(struct redisconn *rc, char *buf, size_t n)
{
    struct server_id id;
    const char *tested;
    struct err e;

    err_clear(&e);
    if (redisconn_server(rc, &id, &e) != 0) {
        snprintf(buf, n, "%s", e.msg);
        return 1;
    }
    server_verdict(&id, buf, n);
    return server_tested(&id, &tested) == SERVER_UNTESTED;
}

char *redisconn_info_field(const char *text, const char *field)
{
    size_t flen = strlen(field);
    const char *p = text;

    while (p != NULL && *p != '\0') {
        const char *eol = strpbrk(p, "\r\n");
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

        if (len > flen && strncmp(p, field, flen) == 0 && p[flen] == ':')
            return xstrndup(p + flen + 1, len - flen - 1);
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return NULL;
}

/* An integer field of INFO text; `absent` when it is not there. */
static long long info_int(const char *text, const char *field, long long absent)
{
    char *v = redisconn_info_field(text, field);
    long long n = absent;

    if (v != NULL)
        n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

int redisconn_parse_persistence(const char *text, struct redis_persistence *out, struct err *e)
{
    char *status;
    long long inprog, sched;

    memset(out, 0, sizeof(*out));
    inprog = info_int(text, "aof_rewrite_in_progress", -1);
    sched = info_int(text, "aof_rewrite_scheduled", -1);
    status = redisconn_info_field(text, "aof_last_bgrewrite_status");
    if (inprog < 0 || sched < 0 || status == NULL) {
        free(status);
        return err_set(e, ERR_REDIS,
                       "INFO persistence lacks \"aof_rewrite_in_progress\", \"aof_rewrite_scheduled\" or "
                       "\"aof_last_bgrewrite_status\"");
    }
    out->aof_enabled = info_int(text, "aof_enabled", -1) == 1;
    out->rewrite_in_progress = inprog != 0;
    out->rewrite_scheduled = sched != 0;
    out->last_rewrite_ok = strcmp(status, "ok") == 0;
    out->rewrites = info_int(text, "aof_rewrites", -1);
    out->consecutive_failures = info_int(text, "aof_rewrites_consecutive_failures", -1);
    out->loading = info_int(text, "loading", -1) == 1;
    free(status);
    return 0;
}

/* INFO persistence, read by `parse` into `out` (the rewrite fields for
 * the barrier, the save fields for snapshots). */
static int redisconn_info_persistence(struct redisconn *rc, int (*parse)(const char *, void *, struct err *),
                                      void *out, struct err *e)
{
    char *text = NULL;
    int rv;

    if (redisconn_info(rc, "persistence", &text, e) != 0)
        return -1;
    rv = parse(text, out, e);
    if (rv != 0)
        err_prefix(e, "redis \"%s\"", rc->where);
    free(text);
    return rv;
}

static int redisconn_parse_aof(const char *text, void *out, struct err *e)
{
    return redisconn_parse_persistence(text, out, e);
}

int redisconn_persistence(struct redisconn *rc, struct redis_persistence *out, struct err *e)
{
    return redisconn_info_persistence(rc, redisconn_parse_aof, out, e);
}

int redisconn_bgrewriteaof(struct redisconn *rc, int *already, struct err *e)
{
    const char *argv[1] = {"BGREWRITEAOF"};
    redisReply *r;

    *already = 0;
    r = redisconn_command(rc, 1, argv, e);
    if (r == NULL) {
        /* "ERR Background append only file rewriting already in progress" */
        if (e->code == ERR_REDIS && strstr(e->msg, "already in progress") != NULL) {
            *already = 1;
            err_clear(e);
            return 0;
        }
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

/* ------------------------------------------------------------------------
 * Snapshots (mode rdb): where the dump is, LASTSAVE, BGSAVE SCHEDULE and
 * the save fields of INFO persistence. SAVE is never sent: it would block
 * Redis for the whole dump.
 * ---------------------------------------------------------------------- */

int redisconn_parse_rdb_persistence(const char *text, struct rdb_persistence *p, struct err *e)
{
    char *status = redisconn_info_field(text, "rdb_last_bgsave_status");
    long long inprog = info_int(text, "rdb_bgsave_in_progress", -1);
    long long last = info_int(text, "rdb_last_save_time", -1);

    memset(p, 0, sizeof(*p));
    if (status == NULL || inprog < 0 || last < 0) {
        free(status);
        return err_set(e, ERR_REDIS,
                       "INFO persistence lacks \"rdb_bgsave_in_progress\", \"rdb_last_save_time\" or "
                       "\"rdb_last_bgsave_status\"");
    }
    p->bgsave_in_progress = inprog != 0;
    p->last_save_time = last;
    p->last_bgsave_ok = strcmp(status, "ok") == 0;
    p->saves = info_int(text, "rdb_saves", -1);
    p->loading = info_int(text, "loading", 0) == 1;
    p->aof_rewrite_in_progress = info_int(text, "aof_rewrite_in_progress", 0) == 1;
    p->module_fork_in_progress = info_int(text, "module_fork_in_progress", 0) == 1;
    free(status);
    return 0;
}

static int redisconn_parse_rdb(const char *text, void *out, struct err *e)
{
    return redisconn_parse_rdb_persistence(text, out, e);
}

int redisconn_rdb_persistence(struct redisconn *rc, struct rdb_persistence *p, struct err *e)
{
    return redisconn_info_persistence(rc, redisconn_parse_rdb, p, e);
}

int redisconn_lastsave(struct redisconn *rc, int64_t *t, struct err *e)
{
    const char *argv[1] = {"LASTSAVE"};
    redisReply *r = redisconn_command(rc, 1, argv, e);

    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        return err_set(e, ERR_REDIS, "redis \"%s\" answered LASTSAVE with an unexpected reply", rc->where);
    }
    *t = (int64_t)r->integer;
    freeReplyObject(r);
    return 0;
}

int redisconn_bgsave(struct redisconn *rc, enum bgsave_reply *reply, struct err *e)
{
    /* SCHEDULE: with another child running (an AOF rewrite, a module's
     * fork) Redis starts ours when that one ends instead of refusing */
    const char *argv[2] = {"BGSAVE", "SCHEDULE"};
    redisReply *r = redisconn_command(rc, 2, argv, e);

    if (r == NULL) {
        /* "ERR Background save already in progress" */
        if (e->code == ERR_REDIS && strstr(e->msg, "already in progress") != NULL) {
            *reply = BGSAVE_RUNNING;
            err_clear(e);
            return 0;
        }
        return -1;
    }
    if (r->type != REDIS_REPLY_STATUS) {
        freeReplyObject(r);
        return err_set(e, ERR_REDIS, "redis \"%s\" answered BGSAVE with an unexpected reply", rc->where);
    }
    *reply = strstr(r->str, "scheduled") != NULL ? BGSAVE_SCHEDULED : BGSAVE_STARTED;
    freeReplyObject(r);
    return 0;
}

void redisconn_rdb_location_free(struct rdb_location *loc)
{
    free(loc->dir);
    free(loc->dbfilename);
    free(loc->save);
    memset(loc, 0, sizeof(*loc));
}

int redisconn_rdb_location(struct redisconn *rc, struct rdb_location *loc, struct err *e)
{
    const char *argv[] = {"CONFIG", "GET", "dir", "dbfilename", "rdbchecksum", "save", "appendonly"};
    redisReply *r;
    int rv = -1;

    memset(loc, 0, sizeof(*loc));
    r = redisconn_command(rc, (int)(sizeof(argv) / sizeof(argv[0])), argv, e);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        err_set(e, ERR_REDIS, "redis \"%s\" answered CONFIG GET with an unexpected reply", rc->where);
        goto out;
    }
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "dir") == 0 && loc->dir == NULL)
            loc->dir = xstrdup(v->str);
        else if (strcmp(k->str, "dbfilename") == 0 && loc->dbfilename == NULL)
            loc->dbfilename = xstrdup(v->str);
        else if (strcmp(k->str, "save") == 0 && loc->save == NULL)
            loc->save = xstrdup(v->str);
        else if (strcmp(k->str, "rdbchecksum") == 0)
            loc->checksum = strcmp(v->str, "yes") == 0;
        else if (strcmp(k->str, "appendonly") == 0)
            loc->appendonly = strcmp(v->str, "yes") == 0;
    }
    if (loc->dir == NULL || loc->dbfilename == NULL) {
        err_set(e, ERR_REDIS, "redis \"%s\" did not report \"dir\" and \"dbfilename\"", rc->where);
        goto out;
    }
    if (loc->dir[0] != '/' || loc->dbfilename[0] == '\0' || strchr(loc->dbfilename, '/') != NULL) {
        err_set(e, ERR_REDIS,
                "redis \"%s\" reports dir \"%s\" and dbfilename \"%s\": not a file the collector can find",
                rc->where, loc->dir, loc->dbfilename);
        goto out;
    }
    if (loc->save == NULL)
        loc->save = xstrdup("");
    rv = 0;
out:
    freeReplyObject(r);
    if (rv != 0)
        redisconn_rdb_location_free(loc);
    return rv;
}
